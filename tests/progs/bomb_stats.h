/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a storm program (forkbomb.c, burst.c) counts in its shared stats
 * file, mapped shared; the tests and bench/forkbomb read it.  Times are CLOCK_MONOTONIC ns.
 */
#ifndef LYMPH_BOMB_STATS_H
#define LYMPH_BOMB_STATS_H

#include <stdint.h>

#define BOMB_MAX_FORKS 8192 /* fork times kept */

struct bomb_stats {
	uint64_t start_ns;		  /* the first process started forking */
	uint64_t last_fork_ns;		  /* about the last successful fork (see bomb_sort) */
	uint64_t forks;			  /* successful forks: tasks the storm created */
	uint64_t failed;		  /* forks refused (EAGAIN: a pids cgroup said no) */
	uint64_t fork_ns[BOMB_MAX_FORKS]; /* when each fork was called, as noted */
	/* Every call of fork() (or pthread_create), noted before it is
	 * made: a forker stopped inside it never notes the fork's result.
	 * And the exits (forkbomb's double mode): a bucket gets a token back
	 * for each.  What lymph's bucket is charged and given back. */
	uint64_t attempts;
	uint64_t exits;
	uint64_t attempt_ns[BOMB_MAX_FORKS];
	uint64_t exit_ns[BOMB_MAX_FORKS];
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

static inline void bomb_sort_ns(uint64_t *v, uint64_t n)
{
	uint64_t i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j] < v[j - 1]; j--) {
			uint64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/*
 * When the bomb first went over a token bucket of `budget` per second and
 * `burst` deep (full at the first attempt) that charges every attempt to
 * fork, made or refused, and gives a token back for every exit: lymph's
 * throttle bucket, replayed on the bomb's own attempt and exit times.  0
 * when it never did.  Sorts attempt_ns and exit_ns.
 */
static inline uint64_t bomb_over_ns(struct bomb_stats *s, uint64_t budget, uint64_t burst)
{
	uint64_t na = s->attempts < BOMB_MAX_FORKS ? s->attempts : BOMB_MAX_FORKS;
	uint64_t ne = s->exits < BOMB_MAX_FORKS ? s->exits : BOMB_MAX_FORKS, i = 0, j = 0;
	double tokens = (double)burst, last = na ? (double)s->attempt_ns[0] : 0;

	bomb_sort_ns(s->attempt_ns, na);
	bomb_sort_ns(s->exit_ns, ne);
	last = na ? (double)s->attempt_ns[0] : 0;
	while (i < na) {
		int is_exit = j < ne && s->exit_ns[j] < s->attempt_ns[i];
		double t = (double)(is_exit ? s->exit_ns[j] : s->attempt_ns[i]);

		if (t > last) {
			tokens += (t - last) * (double)budget / 1e9;
			last = t;
		}
		if (tokens > (double)burst)
			tokens = (double)burst;
		if (is_exit) {
			tokens += 1.0;
			j++;
			continue;
		}
		tokens -= 1.0;
		if (tokens < 0)
			return s->attempt_ns[i];
		i++;
	}
	return 0;
}

#endif
