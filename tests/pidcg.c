// SPDX-License-Identifier: GPL-2.0-only
/* The storm backstop's cgroup (pidcg.h), built once into libth.a. */
#include "pidcg.h"

int pidcg_write(const char *dir, const char *file, const char *val)
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

static bool pidcg__has_pids(const char *root)
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

int pidcg_create(struct pidcg *cg, long max)
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
			err = pidcg_write(root, "cgroup.subtree_control", "+pids");
			if (err) {
				fprintf(stderr, "# failed to enable pids in %s: %s\n", root,
					strerror(-err));
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
	snprintf(cg->path, sizeof(cg->path), "%s/lymph-test.%d.%ld", root, (int)getpid(),
		 (long)time(NULL));
	if (mkdir(cg->path, 0755)) {
		err = -errno;
		fprintf(stderr, "# failed to create cgroup %s: %s\n", cg->path, strerror(errno));
		cg->path[0] = '\0';
		return err;
	}
	snprintf(val, sizeof(val), "%ld\n", max);
	err = pidcg_write(cg->path, "pids.max", val);
	if (err) {
		fprintf(stderr, "# failed to set %s/pids.max: %s\n", cg->path, strerror(-err));
		rmdir(cg->path);
		cg->path[0] = '\0';
		return err;
	}
	return 0;
}

int pidcg_enter(const struct pidcg *cg, pid_t pid)
{
	char val[32];
	int err;

	snprintf(val, sizeof(val), "%d\n", (int)pid);
	err = pidcg_write(cg->path, "cgroup.procs", val);
	if (err)
		fprintf(stderr, "# failed to move %d into %s: %s\n", (int)pid, cg->path,
			strerror(-err));
	return err;
}

int pidcg_kill_all(const struct pidcg *cg)
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

int pidcg_destroy(struct pidcg *cg)
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
		fprintf(stderr, "# failed to remove cgroup %s: %s\n", cg->path, strerror(-err));
		if (!err)
			err = -EBUSY;
	}
	cg->path[0] = '\0';
	return err;
}
