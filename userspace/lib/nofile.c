// SPDX-License-Identifier: GPL-2.0-only
/* lymphd's descriptor limit (nofile.h). */
#include <limits.h>
#include <sys/resource.h>
#include "nofile.h"

uint64_t nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) && getrlimit(RLIMIT_NOFILE, &rl))
			return 0;
	}
	return rl.rlim_cur == RLIM_INFINITY ? (uint64_t)INT_MAX : (uint64_t)rl.rlim_cur;
}
