// SPDX-License-Identifier: GPL-2.0-only
/* Tidy rules: the walk and the removal (tidy.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "tidy.h"

#define TIDY_FILES_MAX 100000
#define TIDY_DEPTH_MAX 32
#define TIDY_LIST_MAX  64

struct entry {
	char *rel; /* path below the rule's directory */
	dev_t dev;
	ino_t ino;
	uint64_t blocks_bytes;
};

struct walk {
	const struct tidy_rule *r;
	dev_t dev;
	struct entry *e;
	struct tidy_file *f;
	size_t n, cap;
	int err;
};

static int add(struct walk *w, const char *rel, const struct stat *st)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct entry *e = realloc(w->e, cap * sizeof(*e));
		struct tidy_file *f;

		if (!e)
			return -ENOMEM;
		w->e = e;
		f = realloc(w->f, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		w->f = f;
		w->cap = cap;
	}
	w->e[w->n].rel = strdup(rel);
	if (!w->e[w->n].rel)
		return -ENOMEM;
	w->e[w->n].dev = st->st_dev;
	w->e[w->n].ino = st->st_ino;
	w->e[w->n].blocks_bytes = (uint64_t)st->st_blocks * 512;
	w->f[w->n] = (struct tidy_file){
		.mtime = (uint64_t)st->st_mtim.tv_sec * 1000000000ULL +
			 (uint64_t)st->st_mtim.tv_nsec,
		.size = (uint64_t)st->st_size,
	};
	w->n++;
	return 0;
}

/* dfd is owned (closed here). */
static void walk_dir(struct walk *w, int dfd, const char *rel, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while (!w->err && w->n < TIDY_FILES_MAX && (de = readdir(d))) {
		char sub[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
				     de->d_name) >= sizeof(sub))
			continue;
		if (S_ISREG(st.st_mode)) {
			w->err = add(w, sub, &st);
		} else if (S_ISDIR(st.st_mode) && w->r->recurse && st.st_dev == w->dev &&
			   depth < TIDY_DEPTH_MAX) {
			int sfd = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sfd >= 0)
				walk_dir(w, sfd, sub, depth + 1);
		}
		/* symbolic links, devices, fifos, sockets: never */
	}
	closedir(d);
}

/* Remove rel below root fd, each directory opened without following a
 * link, only if it is still the file that was looked at. */
static int remove_rel(int rootfd, const struct entry *e)
{
	char buf[PATH_MAX], *comp, *next;
	int fd = dup(rootfd), err = 0;
	struct stat st;

	if (fd < 0)
		return -errno;
	snprintf(buf, sizeof(buf), "%s", e->rel);
	comp = buf;
	while ((next = strchr(comp, '/'))) {
		int sub;

		*next = 0;
		sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (sub < 0)
			return -errno;
		fd = sub;
		comp = next + 1;
	}
	if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW))
		err = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_dev != e->dev || st.st_ino != e->ino)
		err = -ESTALE;
	else if (unlinkat(fd, comp, 0))
		err = -errno;
	close(fd);
	return err;
}

int tidy_run(const struct tidy_rule *r, int enforce, uint64_t now_wall, struct tidy_result *res)
{
	struct walk w = { .r = r };
	struct stat st;
	size_t i;
	int fd;

	memset(res, 0, sizeof(*res));
	fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		res->error = -errno;
		if (fd >= 0)
			close(fd);
		return res->error;
	}
	w.dev = st.st_dev;
	walk_dir(&w, dup(fd), "", 0);
	if (w.err) {
		res->error = w.err;
		goto out;
	}
	for (i = 0; i < w.n; i++) {
		const char *slash = strrchr(w.e[i].rel, '/');

		w.f[i].name = slash ? slash + 1 : w.e[i].rel;
	}
	tidy_select(r, w.f, w.n, now_wall);
	res->files = json_object_new_array();
	for (i = 0; i < w.n; i++) {
		int err = 0;

		if (fnmatch(r->pattern, w.f[i].name, FNM_PERIOD))
			continue;
		res->matched++;
		if (!w.f[i].remove)
			continue;
		res->named++;
		if (enforce) {
			err = remove_rel(fd, &w.e[i]);
			if (!err) {
				res->removed++;
				res->bytes += w.e[i].blocks_bytes;
			}
		} else {
			res->bytes += w.e[i].blocks_bytes;
		}
		if (json_object_array_length(res->files) < TIDY_LIST_MAX) {
			struct json_object *o = json_object_new_object();
			char full[PATH_MAX];

			snprintf(full, sizeof(full), "%s/%s", r->dir, w.e[i].rel);
			json_object_object_add(o, "path", json_object_new_string(full));
			json_object_object_add(o, "size", json_object_new_uint64(w.f[i].size));
			json_object_object_add(
				o, "age_s",
				json_object_new_double(now_wall > w.f[i].mtime
							       ? (double)(now_wall - w.f[i].mtime) /
									 1e9
							       : 0));
			if (err)
				json_object_object_add(o, "error",
						       json_object_new_string(strerror(-err)));
			json_object_array_add(res->files, o);
		}
	}
out:
	for (i = 0; i < w.n; i++)
		free(w.e[i].rel);
	free(w.e);
	free(w.f);
	close(fd);
	return res->error;
}
