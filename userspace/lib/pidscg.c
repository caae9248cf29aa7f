// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pidscg.h"
#include "smallfile.h"

const char *pidscg_root(void)
{
	static char root[256];
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
	}
	if (f)
		fclose(f);
	return root[0] ? root : NULL;
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
		char *c = strstr(line, ":pids:");

		if (!c)
			continue;
		c += 6;
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
	int n = 0, round;

	/* A few rounds: a process may fork while we move its parent. */
	for (round = 0; round < 4; round++) {
		FILE *f;
		int moved = 0;

		snprintf(path, sizeof(path), "%s/cgroup.procs", from);
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
