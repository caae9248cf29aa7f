// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include "privs.h"

static const cap_value_t kept[] = {
	CAP_KILL, CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
};
#define N_KEPT (int)(sizeof(kept) / sizeof(kept[0]))

unsigned long long privs_kept_mask(void)
{
	unsigned long long m = 0;
	int i;

	for (i = 0; i < N_KEPT; i++)
		m |= 1ULL << kept[i];
	return m;
}

int privs_drop(void)
{
	return privs_drop_keep(0);
}

int privs_drop_keep(unsigned long long services_caps)
{
	cap_t caps = cap_init();
	cap_value_t extra[64];
	int c, n_extra = 0, err = 0;

	if (!caps)
		return -errno;
	services_caps &= ~privs_kept_mask();
	/* Bounding set first: it needs CAP_SETPCAP, which we keep anyway. */
	for (c = 0; c <= CAP_LAST_CAP; c++) {
		if (((privs_kept_mask() | services_caps) >> c) & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL) {
			err = -errno;
			break;
		}
	}
	for (c = 0; c <= CAP_LAST_CAP && c < 64; c++)
		if ((services_caps >> c) & 1)
			extra[n_extra++] = c;
	if (!err && (cap_set_flag(caps, CAP_EFFECTIVE, N_KEPT, kept, CAP_SET) ||
		     cap_set_flag(caps, CAP_PERMITTED, N_KEPT, kept, CAP_SET) ||
		     (n_extra && cap_set_flag(caps, CAP_PERMITTED, n_extra, extra, CAP_SET)) ||
		     cap_set_proc(caps)))
		err = -errno;
	cap_free(caps);
	if (err)
		fprintf(stderr, "lymphd: failed to drop capabilities: %s\n", strerror(-err));
	return err;
}
