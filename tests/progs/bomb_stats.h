/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a storm program (forkbomb.c, burst.c) counts in its shared stats
 * page; the tests and bench/forkbomb read it.  Times are CLOCK_MONOTONIC ns.
 */
#ifndef LYMPH_BOMB_STATS_H
#define LYMPH_BOMB_STATS_H

#include <stdint.h>

struct bomb_stats {
	uint64_t start_ns;	/* the first process started forking */
	uint64_t last_fork_ns;	/* the last successful fork */
	uint64_t forks;		/* successful forks: tasks the storm created */
	uint64_t failed;	/* forks refused (EAGAIN: a pids cgroup said no) */
};

#endif
