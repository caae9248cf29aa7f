// SPDX-License-Identifier: GPL-2.0-only
/*
 * A capped clone storm for the throttle tests: one leader forks CAP
 * children as fast as it can (they just sleep), retrying every millisecond
 * while fork is refused, then sleeps itself.  Unlike a fork bomb it cannot
 * grow past CAP + 1 processes, so a test can let it go on after lymphd let
 * it loose again.
 *
 *   burst CAP STATSFILE [RETRY_US]   (STATSFILE as in forkbomb.c, or "-";
 *                                     RETRY_US: the wait after a refusal,
 *                                     default 1000)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include "bomb_stats.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static struct bomb_stats dummy;
	struct bomb_stats *s = &dummy;
	struct timespec ms = { 0, 1000000 };
	long cap = argc > 1 ? atol(argv[1]) : 100;
	long retry_us = argc > 3 ? atol(argv[3]) : 1000;

	if (argc > 2 && strcmp(argv[2], "-")) {
		int fd = open(argv[2], O_RDWR | O_CLOEXEC);
		void *p = fd < 0 ? MAP_FAILED
				 : mmap(NULL, BOMB_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
					fd, 0);

		if (p == MAP_FAILED)
			return 2;
		close(fd);
		s = p;
	}
	ms.tv_sec = retry_us / 1000000;
	ms.tv_nsec = (retry_us % 1000000) * 1000;
	__atomic_store_n(&s->start_ns, now_ns(), __ATOMIC_RELAXED);
	while ((long)__atomic_load_n(&s->forks, __ATOMIC_RELAXED) < cap) {
		uint64_t t = now_ns(); /* before: see forkbomb.c */
		pid_t pid = fork();

		if (pid == 0) {
			for (;;)
				pause();
		}
		if (pid > 0) {
			uint64_t n = __atomic_fetch_add(&s->forks, 1, __ATOMIC_RELAXED);

			if (n < BOMB_MAX_FORKS)
				s->fork_ns[n] = t;
			__atomic_store_n(&s->last_fork_ns, t, __ATOMIC_RELAXED);
		} else {
			__atomic_fetch_add(&s->failed, 1, __ATOMIC_RELAXED);
			nanosleep(&ms, NULL);
		}
	}
	for (;;)
		pause();
}
