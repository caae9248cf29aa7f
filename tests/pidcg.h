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
	char path[PATH_MAX];	/* empty when not created */
};

static inline int pidcg__write(const char *dir, const char *file, const char *val)
{
	char p[PATH_MAX + 64];
	ssize_t n;
	int fd, err = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static inline bool pidcg__has_pids(const char *root)
{
	char p[PATH_MAX], buf[512], *tok, *save;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, "pids"))
			return true;
	return false;
}

/* Create a cgroup with pids.max = max.  0, or -errno (no pids controller:
 * -ENODEV) after a diagnostic. */
static inline int pidcg_create(struct pidcg *cg, long max)
{
	static const char *const v2_roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	char root[64] = "", val[32];
	struct stat st;
	unsigned i;
	int err;

	cg->path[0] = '\0';
	if (!stat("/sys/fs/cgroup/pids/cgroup.procs", &st)) {
		strcpy(root, "/sys/fs/cgroup/pids");
	} else {
		for (i = 0; i < sizeof(v2_roots) / sizeof(v2_roots[0]); i++) {
			if (!pidcg__has_pids(v2_roots[i]))
				continue;
			strcpy(root, v2_roots[i]);
			/* children of the root get pids only when it delegates it */
			err = pidcg__write(root, "cgroup.subtree_control", "+pids");
			if (err) {
				fprintf(stderr, "# failed to enable pids in %s: %s\n",
					root, strerror(-err));
				root[0] = '\0';
				continue;
			}
			break;
		}
	}
	if (!root[0]) {
		fprintf(stderr, "# no pids cgroup controller (v1 or v2) on this host\n");
		return -ENODEV;
	}
	snprintf(cg->path, sizeof(cg->path), "%s/lymph-test.%d.%ld", root,
		 (int)getpid(), (long)time(NULL));
	if (mkdir(cg->path, 0755)) {
		err = -errno;
		fprintf(stderr, "# failed to create cgroup %s: %s\n", cg->path, strerror(errno));
		cg->path[0] = '\0';
		return err;
	}
	snprintf(val, sizeof(val), "%ld\n", max);
	err = pidcg__write(cg->path, "pids.max", val);
	if (err) {
		fprintf(stderr, "# failed to set %s/pids.max: %s\n", cg->path, strerror(-err));
		rmdir(cg->path);
		cg->path[0] = '\0';
		return err;
	}
	return 0;
}

/* Move pid (a whole process) into the cgroup. */
static inline int pidcg_enter(const struct pidcg *cg, pid_t pid)
{
	char val[32];
	int err;

	snprintf(val, sizeof(val), "%d\n", (int)pid);
	err = pidcg__write(cg->path, "cgroup.procs", val);
	if (err)
		fprintf(stderr, "# failed to move %d into %s: %s\n", (int)pid,
			cg->path, strerror(-err));
	return err;
}

/* SIGKILL every process in the cgroup; returns how many were signalled,
 * or -errno. */
static inline int pidcg_kill_all(const struct pidcg *cg)
{
	char p[PATH_MAX + 32];
	FILE *f;
	int pid, n = 0;

	snprintf(p, sizeof(p), "%s/cgroup.procs", cg->path);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%d", &pid) == 1) {
		if (pid > 1 && pid != getpid())
			kill(pid, SIGKILL);
		n++;
	}
	fclose(f);
	return n;
}

/* Kill what is left, wait until the cgroup is empty, remove it.  Safe on a
 * cgroup that was never created. */
static inline int pidcg_destroy(struct pidcg *cg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int tries, err = 0;

	if (!cg->path[0])
		return 0;
	/* killed tasks leave the cgroup when they exit; new ones cannot
	 * appear faster than we kill them once pids.max is reached */
	for (tries = 0; tries < 1000; tries++) {
		if (!rmdir(cg->path))
			break;
		err = -errno;
		if (errno != EBUSY)
			break;
		pidcg_kill_all(cg);
		nanosleep(&ts, NULL);
	}
	if (access(cg->path, F_OK)) {
		err = 0;
	} else {
		fprintf(stderr, "# failed to remove cgroup %s: %s\n", cg->path,
			strerror(-err));
		if (!err)
			err = -EBUSY;
	}
	cg->path[0] = '\0';
	return err;
}

#endif
