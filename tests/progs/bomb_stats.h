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
	uint64_t last_fork_ns;	/* about the last successful fork (see bomb_sort) */
	uint64_t forks;		/* successful forks: tasks the storm created */
	uint64_t failed;	/* forks refused (EAGAIN: a pids cgroup said no) */
	uint64_t fork_ns[BOMB_MAX_FORKS];	/* when each fork was called, as noted */
};

/* The stats file's size: a whole number of pages. */
#define BOMB_STATS_SIZE ((sizeof(struct bomb_stats) + 4095) & ~(size_t)4095)

/*
 * Put fork_ns in order (a forker that was stopped notes its fork late) and
 * return how many there are; the last is the last successful fork.
 */
static inline uint64_t bomb_sort(struct bomb_stats *s)
{
	uint64_t n = s->forks < BOMB_MAX_FORKS ? s->forks : BOMB_MAX_FORKS, i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && s->fork_ns[j] < s->fork_ns[j - 1]; j--) {
			uint64_t t = s->fork_ns[j];

			s->fork_ns[j] = s->fork_ns[j - 1];
			s->fork_ns[j - 1] = t;
		}
	return n;
}

/*
 * The first fork a token bucket of `budget` per second and `burst` deep
 * (full at the first fork) would refuse: lymph's throttle, replayed on the
 * fork times (nothing in a fork bomb exits, so no token comes back).  Its
 * index in the sorted fork_ns (call bomb_sort() first), or -1 when the
 * storm never went over budget: a storm slower than the budget is never
 * over it, however many tasks it makes.
 */
static inline long bomb_first_over(const struct bomb_stats *s, uint64_t budget, uint64_t burst)
{
	uint64_t n = s->forks < BOMB_MAX_FORKS ? s->forks : BOMB_MAX_FORKS, i;
	double tokens = (double)burst, last = n ? (double)s->fork_ns[0] : 0;

	for (i = 0; i < n; i++) {
		double t = (double)s->fork_ns[i];

		if (t > last) {
			tokens += (t - last) * (double)budget / 1e9;
			last = t;
		}
		if (tokens > (double)burst)
			tokens = (double)burst;
		tokens -= 1.0;
		if (tokens < 0)
			return (long)i;
	}
	return -1;
}

#endif
