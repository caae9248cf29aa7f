/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pids controller (cgroup v1's pids hierarchy, else cgroup v2 where
 * pids is available), as the throttle uses it: a hold cgroup
 * nested under a lineage's own pids cgroup (so every limit above still
 * applies), whose pids.max is pinned (at 0) while the lineage is held:
 * its processes run, but fork() fails with EAGAIN.
 */
#ifndef LYMPH_PIDSCG_H
#define LYMPH_PIDSCG_H

#include <stddef.h>
#include <sys/types.h>

/* The v1 pids mount point, else the v2 mount point when it offers pids;
 * NULL when there is neither. */
const char *pidscg_root(void);

/* cgroup v2: let dir's children have pids.max ("+pids" in its
 * cgroup.subtree_control); nothing to do on v1.  1 when it enabled it,
 * 0 when it was (or v1), -errno.  pidscg_disable() takes it back. */
int pidscg_enable(const char *dir);
int pidscg_disable(const char *dir);
/* 1 when pidscg_enable(dir) would write "+pids" now (v2, not enabled). */
int pidscg_would_enable(const char *dir);

/*
 * cgroup v2: make dir (a hold) threaded, so that it may sit below a cgroup
 * that has processes of its own: with pids enabled for its children, that
 * cgroup is a thread root, and a domain child of it takes no process
 * (EOPNOTSUPP).  Domain controllers (memory, io) still charge the members
 * to their own cgroup.  Nothing to do on v1.  0 or -errno.
 */
int pidscg_threaded(const char *dir);

/* pid's pids cgroup directory (root + path), 0 or -errno. */
int pidscg_dir_of(pid_t pid, char *out, size_t len);

int pidscg_write(const char *dir, const char *file, const char *value);
long long pidscg_read(const char *dir, const char *file); /* a number, or -errno */
long long pidscg_events_max(const char *dir);		  /* forks refused */

/* Move every process of from into to; returns how many moved. */
int pidscg_move_all(const char *from, const char *to);

#endif
