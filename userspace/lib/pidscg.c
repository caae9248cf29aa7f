// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pidscg.h"
#include "smallfile.h"

static int v2; /* the root is cgroup v2's, with the pids controller */

/* Does the v2 hierarchy at dir offer the pids controller? */
static int v2_has_pids(const char *dir)
{
	char path[300], buf[512], *p;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	if (small_file_read(path, 0, buf, sizeof(buf)) < 0)
		return 0;
	for (p = strtok(buf, " \n"); p; p = strtok(NULL, " \n"))
		if (!strcmp(p, "pids"))
			return 1;
	return 0;
}

const char *pidscg_root(void)
{
	static char root[256], unified[256];
	static int looked;
	char line[512], dev[64], dir[256], type[64], opts[256];
	FILE *f;

	if (looked)
		return root[0] ? root : NULL;
	looked = 1;
	f = fopen("/proc/self/mounts", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %255s %63s %255s", dev, dir, type, opts) != 4)
			continue;
		/* "pids" as a whole word of the options */
		if (!strcmp(type, "cgroup") &&
		    (strstr(opts, ",pids") || !strncmp(opts, "pids", 4))) {
			snprintf(root, sizeof(root), "%s", dir);
			break;
		}
		if (!strcmp(type, "cgroup2") && !unified[0] && v2_has_pids(dir))
			snprintf(unified, sizeof(unified), "%s", dir);
	}
	if (f)
		fclose(f);
	/* No v1 pids hierarchy: cgroup v2's, where pids is enabled. */
	if (!root[0] && unified[0]) {
		snprintf(root, sizeof(root), "%s", unified);
		v2 = 1;
	}
	return root[0] ? root : NULL;
}

/* v2 is known once the root was looked up (lymphd's replay may come first). */
static int is_v2(void)
{
	return pidscg_root() && v2;
}

int pidscg_would_enable(const char *dir)
{
	char path[1024], buf[512], *p;

	if (!is_v2())
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	if (small_file_read(path, 0, buf, sizeof(buf)) >= 0)
		for (p = strtok(buf, " \n"); p; p = strtok(NULL, " \n"))
			if (!strcmp(p, "pids"))
				return 0;
	return 1;
}

int pidscg_enable(const char *dir)
{
	int err;

	if (!pidscg_would_enable(dir))
		return 0;
	/* pids is a threaded controller: allowed beside the cgroup's own
	 * processes (no "no internal processes" rule for it). */
	err = pidscg_write(dir, "cgroup.subtree_control", "+pids");
	return err ? err : 1;
}

int pidscg_disable(const char *dir)
{
	return is_v2() ? pidscg_write(dir, "cgroup.subtree_control", "-pids") : 0;
}

int pidscg_threaded(const char *dir)
{
	return is_v2() ? pidscg_write(dir, "cgroup.type", "threaded") : 0;
}

int pidscg_dir_of(pid_t pid, char *out, size_t len)
{
	const char *root = pidscg_root();
	char path[64], line[4096];
	FILE *f;
	int found = 0;

	if (!root)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *c = v2 ? (strncmp(line, "0::", 3) ? NULL : line + 1) : strstr(line, ":pids:");

		if (!c)
			continue;
		c += v2 ? 2 : 6;
		c[strcspn(c, "\n")] = 0;
		snprintf(out, len, "%s%s", root, strcmp(c, "/") ? c : "");
		found = 1;
		break;
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

int pidscg_write(const char *dir, const char *file, const char *value)
{
	char path[1024];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int read_text(const char *dir, const char *file, char *buf, size_t len)
{
	char path[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	n = small_file_read(path, 0, buf, len);
	return n < 0 ? (int)n : 0;
}

long long pidscg_read(const char *dir, const char *file)
{
	char buf[64];
	int err = read_text(dir, file, buf, sizeof(buf));

	return err ? err : strtoll(buf, NULL, 10);
}

long long pidscg_events_max(const char *dir)
{
	char buf[128], *m;
	int err = read_text(dir, "pids.events", buf, sizeof(buf));

	if (err)
		return err;
	m = strstr(buf, "max ");
	return m ? strtoll(m + 4, NULL, 10) : 0;
}

int pidscg_move_all(const char *from, const char *to)
{
	char path[1024], line[32];
	int n = 0, round, threads = is_v2();

	/* A few rounds: a process may fork while we move its parent. */
	for (round = 0; round < 4; round++) {
		FILE *f;
		int moved = 0;

		/* v2: a threaded cgroup's cgroup.procs cannot be read; any
		 * thread written to cgroup.procs moves its whole process. */
		snprintf(path, sizeof(path), "%s/%s", from, threads ? "cgroup.threads" : "cgroup.procs");
		f = fopen(path, "re");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			if (!pidscg_write(to, "cgroup.procs", line))
				moved++;
		}
		fclose(f);
		n += moved;
		if (!moved)
			break;
	}
	return n;
}
