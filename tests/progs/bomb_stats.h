/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a storm program (forkbomb.c, burst.c) counts in its shared stats
 * file, mapped shared; the tests and bench/forkbomb read it.  Times are CLOCK_MONOTONIC ns.
 */
#ifndef LYMPH_BOMB_STATS_H
#define LYMPH_BOMB_STATS_H

#include <stdint.h>

#define BOMB_MAX_FORKS 8192	/* fork times kept */

struct bomb_stats {
	uint64_t start_ns;	/* the first process started forking */
	uint64_t last_fork_ns;	/* the last successful fork */
	uint64_t forks;		/* successful forks: tasks the storm created */
	uint64_t failed;	/* forks refused (EAGAIN: a pids cgroup said no) */
	uint64_t fork_ns[BOMB_MAX_FORKS];	/* [n]: when the n+1-th fork returned */
};

/* The stats file's size: a whole number of pages. */
#define BOMB_STATS_SIZE ((sizeof(struct bomb_stats) + 4095) & ~(size_t)4095)

#endif
