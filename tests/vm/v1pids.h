/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A cgroup v1 pids hierarchy of a VM test's own: there a process may move
 * itself into any cgroup whose cgroup.procs it may write (the walk-around
 * of issue 14 that lymph.ko and lymphd answer).  pids leaves cgroup v2 to
 * be mounted there, and comes back when the test is done.  Static inline
 * functions, as kmod.h (each *_test.c is built on its own).
 */
#ifndef LYMPH_VM_V1PIDS_H
#define LYMPH_VM_V1PIDS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define V1PIDS_V2ROOT "/sys/fs/cgroup"

/* "+pids" or "-pids" into cgroup v2's root subtree_control; 0 or -errno. */
static inline int v1pids__v2(const char *what)
{
	int fd = open(V1PIDS_V2ROOT "/cgroup.subtree_control", O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, what, strlen(what)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* pids out of cgroup v2 (no v2 cgroup may use it any more), mounted as a
 * v1 hierarchy at @dir (made); 0 or -errno. */
static inline int v1pids_mount(const char *dir)
{
	int i, err = -EBUSY;

	v1pids__v2("-pids");
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	for (i = 0; i < 300 && err; i++) {
		err = mount("pids", dir, "cgroup", 0, "pids") ? -errno : 0;
		if (err)
			usleep(10000);	/* v2's pids css goes asynchronously */
	}
	return err;
}

/*
 * The hierarchy at @dir unmounted (its cgroups removed by the caller
 * first) and removed, pids given back to cgroup v2.  The v1 root goes at
 * umount only when its removed cgroups are gone too (they go
 * asynchronously): else it lives on unmounted, and pids with it.  Mounted
 * again, the same root is found: unmounted later, it goes.
 */
static inline void v1pids_unmount(const char *dir)
{
	int i, err = 0;

	for (i = 0; i < 20; i++) {
		int j;

		usleep(100000);
		if (umount(dir) && errno != EINVAL && errno != ENOENT)
			fprintf(stderr, "# failed to unmount %s: %s\n", dir, strerror(errno));
		for (j = 0; j < 50 && (err = v1pids__v2("+pids")); j++)
			usleep(10000);
		if (!err || mount("pids", dir, "cgroup", 0, "pids"))
			break;
	}
	rmdir(dir);
	if (err)
		fprintf(stderr, "# failed to enable pids in cgroup v2 again: %s\n", strerror(-err));
}

#endif
