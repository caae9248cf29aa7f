// SPDX-License-Identifier: GPL-2.0-only
/* Pressure stall information: parsers, readers and triggers (see psi.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "psi.h"

const char *psi_res_name(enum psi_res r)
{
	static const char *const names[PSI_NRES] = { "cpu", "memory", "io" };

	return (unsigned int)r < PSI_NRES ? names[r] : "?";
}

/* "avg10=1.23 avg60=0.50 avg300=0.10 total=12345" after the kind word. */
static int parse_line(const char *s, struct psi_line *l)
{
	int n = sscanf(s, " avg10=%lf avg60=%lf avg300=%lf total=%lu", &l->avg10, &l->avg60,
		       &l->avg300, &l->total_us);

	if (n != 4 || l->avg10 < 0 || l->avg60 < 0 || l->avg300 < 0 || l->avg10 > 100.0 ||
	    l->avg60 > 100.0 || l->avg300 > 100.0)
		return -EINVAL;
	l->valid = 1;
	return 0;
}

int psi_parse(const char *text, struct psi_reading *r)
{
	const char *p = text;

	memset(r, 0, sizeof(*r));
	while (p && *p) {
		const char *nl = strchr(p, '\n');

		if (!strncmp(p, "some ", 5)) {
			if (parse_line(p + 4, &r->some))
				return -EINVAL;
		} else if (!strncmp(p, "full ", 5)) {
			if (parse_line(p + 4, &r->full))
				return -EINVAL;
		}
		p = nl ? nl + 1 : NULL;
	}
	return r->some.valid ? 0 : -EINVAL;
}

/* Read fd's text from offset 0 and parse it. */
static int read_fd(int fd, struct psi_reading *r)
{
	char buf[512];
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return psi_parse(buf, r);
}

int psi_read(const char *path, struct psi_reading *r)
{
	int fd, err;

	memset(r, 0, sizeof(*r));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = read_fd(fd, r);
	close(fd);
	return err;
}

void psi_path(const char *dir, enum psi_res r, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, psi_res_name(r));
	if (access(buf, F_OK))
		snprintf(buf, len, "%s/%s.pressure", dir, psi_res_name(r));
}

int psi_read_system(const char *dir, struct psi_reading out[PSI_NRES])
{
	char path[PATH_MAX];
	int r, got = 0;

	for (r = 0; r < PSI_NRES; r++) {
		psi_path(dir, r, path, sizeof(path));
		if (!psi_read(path, &out[r]))
			got++;
	}
	return got;
}

int psi_read_system_fds(const char *dir, int fds[PSI_NRES], struct psi_reading out[PSI_NRES])
{
	char path[PATH_MAX];
	int r, got = 0;

	for (r = 0; r < PSI_NRES; r++) {
		memset(&out[r], 0, sizeof(out[r]));
		if (fds[r] < 0) {
			psi_path(dir, r, path, sizeof(path));
			fds[r] = open(path, O_RDONLY | O_CLOEXEC);
			if (fds[r] < 0) {
				fds[r] = -EBADF;
				continue;
			}
		}
		if (!read_fd(fds[r], &out[r]))
			got++;
	}
	return got;
}

void psi_close_fds(int fds[PSI_NRES])
{
	int r;

	for (r = 0; r < PSI_NRES; r++) {
		if (fds[r] >= 0)
			close(fds[r]);
		fds[r] = -EBADF;
	}
}

int psi_trigger_open(const char *path, const char *kind, uint64_t stall_us, uint64_t window_us)
{
	char buf[64];
	int fd, len, err;

	if (strcmp(kind, "some") && strcmp(kind, "full"))
		return -EINVAL;
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%s %lu %lu", kind, (unsigned long)stall_us,
		       (unsigned long)window_us);
	/* The kernel wants the trailing NUL written too. */
	if (write(fd, buf, (size_t)len + 1) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

const char *psi_cgroup_root(void)
{
	static const char *const cands[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	char path[64];
	size_t i;

	for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		snprintf(path, sizeof(path), "%s/cgroup.controllers", cands[i]);
		if (!access(path, F_OK))
			return cands[i];
	}
	return NULL;
}

struct walk {
	struct psi_cgroup *out;
	size_t n, have, dirs, max_dirs;
	int max_depth;
	double min_score;
	size_t root_len;
};

/* Insert c into the sorted top list if it is high enough. */
static void top_insert(struct walk *w, const struct psi_cgroup *c)
{
	size_t i;

	if (w->have == w->n && (!w->n || c->score <= w->out[w->n - 1].score))
		return;
	i = w->have < w->n ? w->have++ : w->n - 1;
	while (i > 0 && w->out[i - 1].score < c->score) {
		w->out[i] = w->out[i - 1];
		i--;
	}
	w->out[i] = *c;
}

static void walk_dir(struct walk *w, char *path, size_t len, int depth)
{
	struct dirent *de;
	DIR *dir;

	if (depth > 0) {
		struct psi_cgroup c;
		int r, any = 0;

		memset(&c, 0, sizeof(c));
		for (r = 0; r < PSI_NRES; r++) {
			struct psi_reading rd;

			snprintf(path + len, PATH_MAX - len, "/%s.pressure", psi_res_name(r));
			if (psi_read(path, &rd))
				continue;
			any = 1;
			c.some_avg10[r] = rd.some.avg10;
			c.full_avg10[r] = rd.full.valid ? rd.full.avg10 : 0;
			if (rd.some.avg10 > c.score)
				c.score = rd.some.avg10;
		}
		path[len] = 0;
		if (any && c.score >= w->min_score) {
			snprintf(c.path, sizeof(c.path), "%s", path + w->root_len);
			top_insert(w, &c);
		}
	}
	if (depth >= w->max_depth)
		return;
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir)) && w->dirs < w->max_dirs) {
		size_t l = strlen(de->d_name);

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || len + 1 + l + 32 >= PATH_MAX)
			continue;
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, l + 1);
		w->dirs++;
		walk_dir(w, path, len + 1 + l, depth + 1);
		path[len] = 0;
	}
	closedir(dir);
}

int psi_cgroup_top(const char *root, struct psi_cgroup *out, size_t n, int max_depth,
		   size_t max_dirs, double min_score)
{
	struct walk w = { .out = out,
			  .n = n,
			  .max_dirs = max_dirs,
			  .max_depth = max_depth,
			  .min_score = min_score };
	char *path;
	struct stat st;

	if (stat(root, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	path = malloc(PATH_MAX);
	if (!path)
		return -ENOMEM;
	snprintf(path, PATH_MAX, "%s", root);
	w.root_len = strlen(path);
	walk_dir(&w, path, w.root_len, 0);
	free(path);
	return (int)w.have;
}
