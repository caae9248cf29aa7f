/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The cgroup v1 pids controller, as the throttle uses it: a hold cgroup
 * nested under a lineage's own pids cgroup (so every limit above still
 * applies), whose pids.max is pinned (at 0) while the lineage is held:
 * its processes run, but fork() fails with EAGAIN.
 */
#ifndef LYMPH_PIDSCG_H
#define LYMPH_PIDSCG_H

#include <stddef.h>
#include <sys/types.h>

/* The v1 pids mount point, or NULL when there is none. */
const char *pidscg_root(void);

/* pid's pids cgroup directory (root + path), 0 or -errno. */
int pidscg_dir_of(pid_t pid, char *out, size_t len);

int pidscg_write(const char *dir, const char *file, const char *value);
long long pidscg_read(const char *dir, const char *file); /* a number, or -errno */
long long pidscg_events_max(const char *dir);		  /* forks refused */

/* Move every process of from into to; returns how many moved. */
int pidscg_move_all(const char *from, const char *to);

#endif
