// SPDX-License-Identifier: GPL-2.0-only
/*
 * A classic fork bomb for the throttle tests and bench/forkbomb: every
 * process forks forever, children included.  Only ever run it inside a
 * pids cgroup backstop.
 *
 *   forkbomb STATSFILE
 *
 * STATSFILE (created by the caller, BOMB_STATS_SIZE bytes) is mapped shared
 * by every process of the bomb and counts, so the caller can tell how far
 * it got: see struct bomb_stats.  With STATSFILE "-" nothing is counted.
 */
#include <fcntl.h>
#include <stdint.h>
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

	if (argc > 1 && strcmp(argv[1], "-")) {
		int fd = open(argv[1], O_RDWR | O_CLOEXEC);
		void *p = fd < 0 ? MAP_FAILED :
			  mmap(NULL, BOMB_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED)
			return 2;
		close(fd);
		s = p;
	}
	__atomic_store_n(&s->start_ns, now_ns(), __ATOMIC_RELAXED);
	for (;;) {
		/* before the fork: a forker the throttle stops is stopped on
		 * its way back from fork(), and would note it late */
		uint64_t t = now_ns();
		pid_t pid = fork();

		if (pid > 0) {
			uint64_t n = __atomic_fetch_add(&s->forks, 1, __ATOMIC_RELAXED);

			if (n < BOMB_MAX_FORKS)
				s->fork_ns[n] = t;
			__atomic_store_n(&s->last_fork_ns, t, __ATOMIC_RELAXED);
		} else if (pid < 0) {
			__atomic_fetch_add(&s->failed, 1, __ATOMIC_RELAXED);
		}
		/* pid == 0: the child goes on forking too */
	}
}
