// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fresh lineages, one after another, for the throttle tests: N times, a
 * child makes a session of its own and forks once there (a grandchild
 * that exits at once), so that each of N sessions gets a bucket in the
 * probes' lineage table, while the population never grows by more than
 * two.  What an unprivileged user can do to push a held lineage's state
 * out of an LRU table.
 *
 *   flood N
 */
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000, i;

	for (i = 0; i < n; i++) {
		pid_t pid = fork(), g;

		if (pid < 0)
			return 1;
		if (pid == 0) {
			if (setsid() < 0)
				_exit(1);
			g = fork();
			if (g == 0)
				_exit(0);
			if (g > 0)
				waitpid(g, NULL, 0);
			_exit(g > 0 ? 0 : 1);
		}
		if (waitpid(pid, NULL, 0) != pid)
			return 1;
	}
	return 0;
}
