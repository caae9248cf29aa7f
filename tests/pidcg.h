/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A pids-cgroup backstop for storm tests: whatever a storm does, the
 * processes in it can never number more than pids.max, so a runaway test
 * cannot exhaust the machine's pids.  The cgroup is created fresh, the
 * storm's parent is moved in before it forks, and pidcg_destroy() kills
 * everything left in it (SIGKILL only: nothing is ever left stopped) and
 * removes it.
 *
 * Uses the cgroup v1 pids hierarchy when mounted (/sys/fs/cgroup/pids),
 * else a cgroup v2 hierarchy whose root offers the pids controller.
 */
#ifndef LYMPH_TEST_PIDCG_H
#define LYMPH_TEST_PIDCG_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

struct pidcg {
	char path[PATH_MAX]; /* empty when not created */
};

/* Write val to dir/file: 0 or -errno. */
int pidcg_write(const char *dir, const char *file, const char *val);

/* Create a cgroup with pids.max = max.  0, or -errno (no pids controller:
 * -ENODEV) after a diagnostic. */
int pidcg_create(struct pidcg *cg, long max);

/* Move pid (a whole process) into the cgroup. */
int pidcg_enter(const struct pidcg *cg, pid_t pid);

/* SIGKILL every process in the cgroup; returns how many were signalled,
 * or -errno. */
int pidcg_kill_all(const struct pidcg *cg);

/* Kill what is left, wait until the cgroup is empty, remove it.  Safe on a
 * cgroup that was never created. */
int pidcg_destroy(struct pidcg *cg);

#endif
