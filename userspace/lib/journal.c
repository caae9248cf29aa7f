// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "journal.h"

uint64_t wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* mkdir -p, root-only for what we create. */
static void make_dirs(const char *path)
{
	char *dir = strdup(path), *p;

	if (!dir)
		return;
	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(dir, 0700);
		*p = '/';
	}
	free(dir);
}

static int open_append(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

int journal_open(struct journal *j, const char *path, uint64_t max)
{
	struct stat st;

	memset(j, 0, sizeof(*j));
	j->fd = -EBADF;
	j->path = strdup(path);
	if (!j->path)
		return -ENOMEM;
	j->max = max;
	make_dirs(path);
	j->fd = open_append(path);
	if (j->fd < 0 || fstat(j->fd, &st)) {
		int err = -errno;

		free(j->path);
		j->path = NULL;
		return err;
	}
	j->size = (uint64_t)st.st_size;
	return 0;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	j->fd = -EBADF;
	j->path = NULL;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_line(struct journal *j, struct json_object *rec)
{
	const char *s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);
	char *line = malloc(len + 2);
	int err;

	if (!line)
		return -ENOMEM;
	memcpy(line, s, len);
	line[len] = '\n';
	/* One write(2) per record: O_APPEND keeps lines whole. */
	err = write_all(j->fd, line, len + 1);
	free(line);
	if (!err && fdatasync(j->fd))
		err = -errno;
	if (!err)
		j->size += len + 1;
	return err;
}

/* Seed a fresh file with the state, then swap it in; crash-safe at every step. */
static int rotate(struct journal *j)
{
	char tmp[4096], old[4096];
	int fd, err = 0, saved = j->fd;

	snprintf(tmp, sizeof(tmp), "%s.new", j->path);
	snprintf(old, sizeof(old), "%s.1", j->path);
	unlink(tmp);
	fd = open_append(tmp);
	if (fd < 0)
		return -errno;
	j->fd = fd;
	j->size = 0;
	j->rotating = 1;
	if (j->snapshot)
		err = j->snapshot(j, j->snapshot_ctx);
	j->rotating = 0;
	if (!err && fsync(fd))
		err = -errno;
	if (!err && (rename(j->path, old) || rename(tmp, j->path)))
		err = -errno;
	if (err) {
		close(fd);
		unlink(tmp);
		j->fd = saved;
		return err;
	}
	close(saved);
	return 0;
}

int journal_append(struct journal *j, struct json_object *rec)
{
	uint64_t now = wall_now_ns();
	time_t secs = (time_t)(now / 1000000000ULL);
	char iso[64];
	struct tm tm;
	int err;

	if (j->fd < 0) {
		json_object_put(rec);
		return -EBADF;
	}
	gmtime_r(&secs, &tm);
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)((now / 1000000ULL) % 1000));
	json_object_object_add(rec, "time", json_object_new_string(iso));
	json_object_object_add(rec, "ts", json_object_new_double((double)now / 1e9));
	err = write_line(j, rec);
	if (j->tap && !j->rotating)
		j->tap(rec, j->tap_ctx);
	json_object_put(rec);
	if (!err && !j->rotating && j->max && j->size > j->max)
		err = rotate(j);
	return err;
}

int journal_replay(const char *path, int (*cb)(struct json_object *rec, void *ctx), void *ctx)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		struct json_object *rec;

		if (line[n - 1] != '\n')
			break;	/* torn write at a crash: the action was never taken */
		rec = json_tokener_parse(line);
		if (!rec)
			continue;
		cb(rec, ctx);
		json_object_put(rec);
	}
	free(line);
	fclose(f);
	return 0;
}
