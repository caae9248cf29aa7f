// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "atomic_file.h"
#include "journal.h"

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
	return open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* The journal decides what lymphd enforces at start: only root may write it. */
static int trusted(struct journal *j, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		snprintf(j->why, sizeof(j->why), "%s is not a regular file: refused", j->path);
	else if (st->st_uid != 0)
		snprintf(j->why, sizeof(j->why),
			 "%s is owned by uid %u, not root: refused "
			 "(check who wrote it, then: chown root %s)",
			 j->path, st->st_uid, j->path);
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		snprintf(j->why, sizeof(j->why),
			 "%s is writable by group or others (mode %04o): "
			 "refused (check who wrote it, then: chmod go-w %s)",
			 j->path, st->st_mode & 07777, j->path);
	else
		return 1;
	return 0;
}

int journal_open(struct journal *j, const char *path, uint64_t max)
{
	struct stat st;
	int err;

	memset(j, 0, sizeof(*j));
	j->fd = -EBADF;
	j->path = strdup(path);
	if (!j->path)
		return -ENOMEM;
	j->max = max;
	make_dirs(path);
	j->fd = open_append(path);
	if (j->fd < 0 || fstat(j->fd, &st)) {
		err = -errno;
		snprintf(j->why, sizeof(j->why), "%s: %s", path, strerror(-err));
		goto fail;
	}
	if (!trusted(j, &st)) {
		err = -EPERM;
		goto fail;
	}
	j->size = (uint64_t)st.st_size;
	return 0;
fail:
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -EBADF;
	free(j->path);
	j->path = NULL;
	return err;
}

/* ---- syncing ---------------------------------------------------------- */

struct journal_syncer {
	pthread_t th;
	pthread_mutex_t mu; /* fd, want, stop */
	pthread_cond_t cv;
	int fd;	       /* a duplicate to fdatasync, -1: nothing asked */
	uint64_t want; /* the records written when it was asked */
	int stop;
	struct journal *j;
};

uint64_t journal_unsynced(const struct journal *j)
{
	return j->written - __atomic_load_n(&j->synced, __ATOMIC_ACQUIRE);
}

uint64_t journal_syncs(const struct journal *j)
{
	return __atomic_load_n(&j->syncs, __ATOMIC_RELAXED);
}

/* The first upto records are on disk (by either thread, in any order). */
static void note_synced(struct journal *j, uint64_t upto)
{
	uint64_t cur = __atomic_load_n(&j->synced, __ATOMIC_ACQUIRE);

	while (cur < upto && !__atomic_compare_exchange_n(&j->synced, &cur, upto, 0,
							  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

/* On disk: everything written so far (deferred records included). */
static int sync_now(struct journal *j)
{
	uint64_t upto = j->written;

	if (fdatasync(j->fd))
		return -errno;
	__atomic_add_fetch(&j->syncs, 1, __ATOMIC_RELAXED);
	note_synced(j, upto);
	return 0;
}

int journal_sync(struct journal *j)
{
	if (j->fd < 0 || !journal_unsynced(j))
		return 0;
	return sync_now(j);
}

static void *syncer_main(void *arg)
{
	struct journal_syncer *s = arg;

	for (;;) {
		uint64_t want;
		int fd;

		pthread_mutex_lock(&s->mu);
		while (!s->stop && s->fd < 0)
			pthread_cond_wait(&s->cv, &s->mu);
		fd = s->fd;
		want = s->want;
		s->fd = -1;
		pthread_mutex_unlock(&s->mu);
		if (fd < 0)
			return NULL; /* stopped, nothing left */
		if (fdatasync(fd)) {
			fprintf(stderr,
				"lymphd: failed to sync the journal: %s; the next record "
				"tries again\n",
				strerror(errno));
		} else {
			__atomic_add_fetch(&s->j->syncs, 1, __ATOMIC_RELAXED);
			note_synced(s->j, want);
		}
		close(fd);
	}
}

static int syncer_start(struct journal *j)
{
	struct journal_syncer *s = calloc(1, sizeof(*s));
	pthread_attr_t at;
	int err;

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->j = j;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 << 10); /* fdatasync and one message */
	err = pthread_create(&s->th, &at, syncer_main, s);
	pthread_attr_destroy(&at);
	if (err) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return -err;
	}
	j->syncer = s;
	return 0;
}

/* The thread does what was asked, then ends. */
static void syncer_stop(struct journal *j)
{
	struct journal_syncer *s = j->syncer;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
	j->syncer = NULL;
}

int journal_sync_thread_start(struct journal *j)
{
	if (j->fd < 0)
		return -EBADF;
	return j->syncer ? 0 : syncer_start(j);
}

void journal_sync_thread_end(struct journal *j)
{
	syncer_stop(j);
}

int journal_sync_async(struct journal *j)
{
	struct journal_syncer *s;
	int fd, old;

	if (j->fd < 0 || !journal_unsynced(j))
		return 0;
	if (!j->syncer && syncer_start(j))
		return journal_sync(j);
	/* Its own descriptor: a rotation may close j->fd meanwhile. */
	fd = fcntl(j->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return journal_sync(j);
	s = j->syncer;
	pthread_mutex_lock(&s->mu);
	old = s->fd; /* not taken yet: this request covers it */
	s->fd = fd;
	s->want = j->written;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (old >= 0)
		close(old);
	return 0;
}

void journal_close(struct journal *j)
{
	syncer_stop(j);
	if (j->fd >= 0 && journal_sync(j))
		fprintf(stderr, "lymphd: failed to sync the journal %s: %s\n", j->path,
			strerror(errno));
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	j->fd = -EBADF;
	j->path = NULL;
}

static int write_line(struct journal *j, const char *s, size_t len, int deferred)
{
	char *line = malloc(len + 2);
	int err;

	if (!line)
		return -ENOMEM;
	memcpy(line, s, len);
	line[len] = '\n';
	/* One write(2) per record: O_APPEND keeps lines whole. */
	err = write_all(j->fd, line, len + 1);
	free(line);
	if (!err) {
		j->size += len + 1;
		j->written++;
	}
	if (!err && !deferred)
		err = sync_now(j);
	return err;
}

/*
 * Seed a fresh file with the whole state, then swap it in (lib/atomic_file);
 * crash-safe at every step: until the rename the old file is the journal,
 * after it the new one is, and either replays to the same state.  The old
 * file is kept as PATH.1 by a hard link made before the swap, so that PATH
 * names a whole journal at every instant.
 */
static int rotate(struct journal *j)
{
	struct atomic_file af;
	char old[4096];
	int err, saved = j->fd;
	uint64_t saved_size = j->size;

	snprintf(old, sizeof(old), "%s.1", j->path);
	err = atomic_file_begin(&af, j->path, 0600, O_RDWR | O_APPEND);
	if (err)
		return err;
	j->fd = af.fd;
	j->size = 0;
	j->rotating = 1;
	if (j->snapshot)
		err = j->snapshot(j, j->snapshot_ctx);
	j->rotating = 0;
	if (!err && unlink(old) && errno != ENOENT)
		err = -errno;
	if (!err && link(j->path, old))
		err = -errno;
	if (!err)
		err = atomic_file_commit(&af); /* aborts on failure */
	else
		atomic_file_abort(&af);
	if (err) {
		j->fd = saved;
		j->size = saved_size;
		return err;
	}
	/* The old file's deferred records: the new one holds the whole
	 * state, fsynced by the commit. */
	close(saved);
	note_synced(j, j->written);
	j->base = j->size;
	j->rotations++;
	return 0;
}

/* Rotate before a record that would take the file past max; a snapshot
 * larger than max/4 only lets the file grow by max/4 between rotations. */
static int must_rotate(const struct journal *j, size_t len)
{
	return j->max && !j->rotating && j->size + len + 1 > j->max &&
	       j->size - j->base >= j->max / 4;
}

/* "2026-11-30T15:11:16.123Z" of a wall time in ns. */
static void iso_time(char *iso, size_t n, uint64_t now)
{
	time_t secs = (time_t)(now / 1000000000ULL);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(iso, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((now / 1000000ULL) % 1000));
}

/* rec serialised as s (len bytes, then room for a newline at s[len]:
 * nl_room): written, then shown to the tap with its bytes. */
static int put_line(struct journal *j, struct json_object *rec, char *s, size_t len, int nl_room,
		    int deferred)
{
	int err;

	/* The snapshot first, then this record after it, in the fresh file. */
	if (must_rotate(j, len)) {
		err = rotate(j);
		if (err)
			fprintf(stderr,
				"lymphd: failed to rotate the journal %s: %s; appending to the "
				"old file\n",
				j->path, strerror(-err));
	}
	if (nl_room) {
		/* One write(2) per record: O_APPEND keeps lines whole. */
		s[len] = '\n';
		err = write_all(j->fd, s, len + 1);
		s[len] = 0;
		if (!err) {
			j->size += len + 1;
			j->written++;
			if (!deferred || j->rotating)
				err = sync_now(j);
		}
	} else {
		err = write_line(j, s, len, deferred && !j->rotating);
	}
	if (j->tap && !j->rotating) {
		const char *line = j->line;
		size_t line_len = j->line_len;

		j->line = s;
		j->line_len = len;
		j->tap(rec, j->tap_ctx);
		j->line = line; /* a tap's own record (nested) had its own */
		j->line_len = line_len;
	}
	return err;
}

static int append(struct journal *j, struct json_object *rec, int deferred)
{
	uint64_t now = clock_wall_ns();
	const char *s;
	char iso[64];
	int err;

	if (j->fd < 0) {
		json_object_put(rec);
		return -EBADF;
	}
	iso_time(iso, sizeof(iso), now);
	json_object_object_add(rec, "time", json_object_new_string(iso));
	json_object_object_add(rec, "ts", json_object_new_double((double)now / 1e9));
	s = json_object_to_json_string_ext(rec,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	err = put_line(j, rec, (char *)s, strlen(s), 0, deferred);
	json_object_put(rec);
	return err;
}

int journal_append_jsonw(struct journal *j, struct jsonw *w, int deferred)
{
	uint64_t now = clock_wall_ns();
	struct json_object *rec;
	const char *s;
	size_t len;
	char iso[64];
	int err;

	if (j->fd < 0) {
		jsonw_free(w);
		return -EBADF;
	}
	iso_time(iso, sizeof(iso), now);
	jsonw_str(w, "time", iso);
	jsonw_double(w, "ts", (double)now / 1e9);
	s = jsonw_end(w, &len);
	rec = jsonw_obj(w);
	if (!s || !rec) {
		jsonw_free(w);
		return -ENOMEM;
	}
	/* jsonw_end leaves the NUL's byte past the line: room for its newline */
	err = put_line(j, rec, (char *)s, len, 1, deferred);
	jsonw_free(w);
	return err;
}

int journal_append(struct journal *j, struct json_object *rec)
{
	return append(j, rec, 0);
}

int journal_append_deferred(struct journal *j, struct json_object *rec)
{
	return append(j, rec, 1);
}

/* ---- reading ------------------------------------------------------------- */

static void count_bad(struct journal_stats *st)
{
	if (st->bad < JOURNAL_BAD_KEPT)
		st->bad_line[st->bad] = st->lines;
	st->bad++;
}

/* Only blanks in s[from, n): lines are not NUL-terminated. */
static int blank_tail(const char *s, size_t from, size_t n)
{
	for (; from < n; from++)
		if (s[from] != ' ' && s[from] != '\t' && s[from] != '\r')
			return 0;
	return 1;
}

/* One complete line (without its newline): a JSON object with a string
 * "type", whose fields its consumer accepts. */
static int parse_line(const char *s, size_t n, journal_cb cb, void *ctx)
{
	struct json_tokener *tok;
	struct json_object *rec, *type;
	size_t end;
	int err = -EINVAL;

	if (!n || n > JOURNAL_LINE_MAX || memchr(s, 0, n))
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	rec = json_tokener_parse_ex(tok, s, (int)n);
	end = json_tokener_get_parse_end(tok);
	if (rec && json_tokener_get_error(tok) == json_tokener_success && blank_tail(s, end, n) &&
	    json_object_is_type(rec, json_type_object) &&
	    json_object_object_get_ex(rec, "type", &type) &&
	    json_object_is_type(type, json_type_string))
		err = cb ? cb(rec, ctx) : 0;
	json_object_put(rec);
	json_tokener_free(tok);
	return err < 0 ? err : 0;
}

struct reader {
	journal_cb cb;
	void *ctx;
	struct journal_stats *st;
	char *buf; /* a line split across reads, up to JOURNAL_LINE_MAX */
	size_t len;
	int overlong;	   /* the current line is too long: skip to its end */
	uint64_t off;	   /* bytes fed */
	uint64_t good_end; /* just past the last newline */
};

static void line_end(struct reader *r, const char *s, size_t n)
{
	r->st->lines++;
	if (r->overlong || parse_line(s, n, r->cb, r->ctx))
		count_bad(r->st);
	else
		r->st->records++;
	r->overlong = 0;
	r->len = 0;
}

static int feed(struct reader *r, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		if (!r->overlong && r->len + k > JOURNAL_LINE_MAX) {
			r->overlong = 1;
			r->len = 0;
		}
		if (!nl) {
			if (!r->overlong) {
				memcpy(r->buf + r->len, p, k);
				r->len += k;
			}
			r->off += k;
			return 0;
		}
		if (r->len && !r->overlong) {
			memcpy(r->buf + r->len, p, k);
			r->len += k;
			line_end(r, r->buf, r->len);
		} else {
			line_end(r, p, k);
		}
		p += k + 1;
		n -= k + 1;
		r->off += k + 1;
		r->good_end = r->off;
	}
	return 0;
}

size_t journal_parse(const char *buf, size_t len, journal_cb cb, void *ctx,
		     struct journal_stats *st)
{
	struct reader r = { .cb = cb, .ctx = ctx, .st = st };

	memset(st, 0, sizeof(*st));
	r.buf = malloc(JOURNAL_LINE_MAX);
	if (!r.buf)
		return 0;
	feed(&r, buf, len);
	free(r.buf);
	st->torn_bytes = r.off - r.good_end;
	return (size_t)r.good_end;
}

/* One pass over fd from offset 0; returns the offset past the last newline. */
static int64_t read_all(int fd, journal_cb cb, void *ctx, struct journal_stats *st)
{
	struct reader r = { .cb = cb, .ctx = ctx, .st = st };
	size_t cap = 1u << 20;
	char *chunk = malloc(cap);
	int64_t ret;
	off_t at = 0;

	memset(st, 0, sizeof(*st));
	r.buf = malloc(JOURNAL_LINE_MAX);
	if (!chunk || !r.buf) {
		free(chunk);
		free(r.buf);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = pread(fd, chunk, cap, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (!n)
			break;
		at += n;
		feed(&r, chunk, (size_t)n);
	}
	st->torn_bytes = r.off - r.good_end;
	ret = (int64_t)r.good_end;
out:
	free(chunk);
	free(r.buf);
	return ret;
}

int journal_load(struct journal *j, journal_cb cb, void *ctx)
{
	int64_t end = read_all(j->fd, cb, ctx, &j->replayed);

	if (end < 0)
		return (int)end;
	/* A torn last line: cut it, or the next record would be glued to it. */
	if (j->replayed.torn_bytes) {
		if (ftruncate(j->fd, (off_t)end) || fsync(j->fd))
			return -errno;
	}
	j->size = (uint64_t)end;
	return 0;
}

int journal_read_file(const char *path, journal_cb cb, void *ctx, struct journal_stats *st)
{
	struct journal_stats local;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int64_t end;

	if (fd < 0)
		return -errno;
	end = read_all(fd, cb, ctx, st ? st : &local);
	close(fd);
	return end < 0 ? (int)end : 0;
}

struct json_object *journal_stats_json(const struct journal_stats *st)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	uint64_t i;

	for (i = 0; i < st->bad && i < JOURNAL_BAD_KEPT; i++)
		json_object_array_add(arr, json_object_new_uint64(st->bad_line[i]));
	json_object_object_add(o, "lines", json_object_new_uint64(st->lines));
	json_object_object_add(o, "bad", json_object_new_uint64(st->bad));
	json_object_object_add(o, "bad_lines", arr);
	json_object_object_add(o, "torn_bytes", json_object_new_uint64(st->torn_bytes));
	return o;
}
