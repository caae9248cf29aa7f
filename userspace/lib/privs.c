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
	cap_t caps = cap_init();
	int c, err = 0;

	if (!caps)
		return -errno;
	/* Bounding set first: it needs CAP_SETPCAP, which we keep anyway. */
	for (c = 0; c <= CAP_LAST_CAP; c++) {
		if ((privs_kept_mask() >> c) & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL) {
			err = -errno;
			break;
		}
	}
	if (!err && (cap_set_flag(caps, CAP_EFFECTIVE, N_KEPT, kept, CAP_SET) ||
		     cap_set_flag(caps, CAP_PERMITTED, N_KEPT, kept, CAP_SET) ||
		     cap_set_proc(caps)))
		err = -errno;
	cap_free(caps);
	if (err)
		fprintf(stderr, "lymphd: failed to drop capabilities: %s\n", strerror(-err));
	return err;
}
