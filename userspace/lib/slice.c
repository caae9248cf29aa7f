// SPDX-License-Identifier: GPL-2.0-only
/* A short scheduler slice for lymphd's event loop (slice.h). */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "slice.h"

/* include/uapi/linux/sched/types.h (glibc < 2.41 has no sched_setattr) */
struct slice_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

#define SLICE_RESET_ON_FORK 0x01 /* SCHED_FLAG_RESET_ON_FORK */

static int slice_get(pid_t tid, struct slice_attr *a)
{
	memset(a, 0, sizeof(*a));
	if (syscall(SYS_sched_getattr, tid, a, sizeof(*a), 0))
		return -errno;
	return 0;
}

int slice_set_short(uint64_t slice_ns)
{
	struct slice_attr a;
	int err = slice_get(0, &a);

	if (err)
		return err;
	if (a.policy != SCHED_OTHER && a.policy != SCHED_BATCH)
		return -EOPNOTSUPP;
	a.size = sizeof(a);
	a.flags = SLICE_RESET_ON_FORK;
	a.runtime = slice_ns;
	a.deadline = a.period = 0;
	a.util_min = a.util_max = 0;
	if (syscall(SYS_sched_setattr, 0, &a, 0))
		return -errno;
	return 0;
}

int64_t slice_of(pid_t tid)
{
	struct slice_attr a;
	int err = slice_get(tid, &a);

	if (err)
		return err;
	return a.policy == SCHED_OTHER || a.policy == SCHED_BATCH ? (int64_t)a.runtime : 0;
}

uint64_t slice_apply(uint32_t us, FILE *err)
{
	uint64_t ns = us ? (uint64_t)us * 1000 : 0;
	int64_t got;
	int rc;

	if (!us)
		return 0;
	if (ns < SLICE_SHORT_NS)
		ns = SLICE_SHORT_NS;
	if (ns > SLICE_MAX_NS)
		ns = SLICE_MAX_NS;
	rc = slice_set_short(ns);
	if (rc == -EOPNOTSUPP) {
		fprintf(err,
			"lymphd: latency_slice_us = %u not applied: lymphd runs under a "
			"real-time or deadline policy, which it keeps (it has no slice)\n",
			us);
		return 0;
	}
	if (rc) {
		fprintf(err,
			"lymphd: failed to set latency_slice_us = %u (sched_setattr: %s); "
			"lymphd goes on with the kernel's default slice, its crash lines may wait "
			"longer for a busy CPU; set latency_slice_us = 0 to not ask\n",
			us, strerror(-rc));
		return 0;
	}
	got = slice_of(0);
	if (got != (int64_t)ns) {
		fprintf(err,
			"lymphd: latency_slice_us = %u not applied: the kernel kept a %lld ns "
			"slice (a custom slice needs Linux 6.12 or later); lymphd goes on with it; "
			"set latency_slice_us = 0 to not ask\n",
			us, (long long)got);
		return 0;
	}
	return ns;
}
