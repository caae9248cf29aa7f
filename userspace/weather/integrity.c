// SPDX-License-Identifier: GPL-2.0-only
/* Integrity spot checks of the protected binaries (see integrity.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "atomic_file.h"
#include "integrity.h"
#include "sha256.h"

int sha256_file(const char *path, unsigned char out[SHA256_LEN])
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	err = lymph_sha256_fd(fd, out);
	close(fd);
	return err;
}

void sha256_hex(const unsigned char d[SHA256_LEN], char hex[2 * SHA256_LEN + 1])
{
	lymph_hex(hex, d, SHA256_LEN);
}

int integrity_can_hash(void)
{
	return 1; /* lib/sha256.c (Nettle, linked): always there */
}

static int unhex(const char *s, unsigned char d[SHA256_LEN])
{
	int i;

	for (i = 0; i < 2 * SHA256_LEN; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -EINVAL;
		if (i & 1)
			d[i / 2] |= (unsigned char)v;
		else
			d[i / 2] = (unsigned char)(v << 4);
	}
	return 0;
}

static struct integrity_entry *find(const struct integrity *g, const char *path)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (!strcmp(g->v[i].path, path))
			return &g->v[i];
	return NULL;
}

/* Write every recorded digest, atomically (a crash leaves the old list). */
static int db_save(const struct integrity *g)
{
	char hex[2 * SHA256_LEN + 1], *text = NULL;
	size_t i, len = 0;
	FILE *f = open_memstream(&text, &len);
	int err;

	if (!f)
		return -errno;
	for (i = 0; i < g->n; i++) {
		if (!g->v[i].recorded)
			continue;
		sha256_hex(g->v[i].want, hex);
		fprintf(f, "%s  %s\n", hex, g->v[i].path);
	}
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	err = atomic_write(g->db_path, 0600, text, len);
	free(text);
	return err;
}

static void db_load(struct integrity *g)
{
	char line[PATH_MAX + 80];
	FILE *f = fopen(g->db_path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct integrity_entry *e;
		unsigned char d[SHA256_LEN];
		char *path = line + 2 * SHA256_LEN + 2;

		line[strcspn(line, "\n")] = 0;
		if (strlen(line) < 2 * SHA256_LEN + 3 || line[2 * SHA256_LEN] != ' ' ||
		    unhex(line, d))
			continue;
		if (*path == ' ' || *path == '*') /* "hex *path" is binary mode */
			path++;
		e = find(g, path);
		if (e) {
			memcpy(e->want, d, SHA256_LEN);
			e->recorded = 1;
		}
	}
	fclose(f);
}

int integrity_init(struct integrity *g, const char *db_path, const char *const *paths, size_t n)
{
	size_t i;
	int dirty = 0;

	memset(g, 0, sizeof(*g));
	g->db_path = strdup(db_path);
	g->v = calloc(n ? n : 1, sizeof(*g->v));
	if (!g->db_path || !g->v) {
		integrity_free(g);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (!paths[i] || paths[i][0] != '/' || find(g, paths[i]))
			continue;
		g->v[g->n].path = strdup(paths[i]);
		if (!g->v[g->n].path) {
			integrity_free(g);
			return -ENOMEM;
		}
		g->n++;
	}
	db_load(g);
	for (i = 0; i < g->n; i++) {
		struct integrity_entry *e = &g->v[i];

		if (e->recorded)
			continue;
		/* First run for this binary: what is there now is the record. */
		e->err = sha256_file(e->path, e->want);
		if (!e->err) {
			e->recorded = 1;
			memcpy(e->got, e->want, SHA256_LEN);
			dirty = 1;
		}
	}
	return dirty ? db_save(g) : 0;
}

void integrity_free(struct integrity *g)
{
	size_t i;

	for (i = 0; g->v && i < g->n; i++)
		free(g->v[i].path);
	free(g->v);
	free(g->db_path);
	memset(g, 0, sizeof(*g));
}

int integrity_check_one(struct integrity *g, uint64_t wall_s, struct json_object **event)
{
	struct integrity_entry *e;
	char want[2 * SHA256_LEN + 1], got[2 * SHA256_LEN + 1];
	struct json_object *o;
	size_t tries;

	*event = NULL;
	/* The next binary that has a record. */
	for (tries = 0; tries < g->n; tries++) {
		e = &g->v[g->next];
		g->next = (g->next + 1) % g->n;
		if (e->recorded)
			break;
	}
	if (!g->n || tries == g->n)
		return -ENOENT;
	e->checks++;
	g->checks++;
	e->last_wall_s = wall_s;
	e->err = sha256_file(e->path, e->got);
	if (e->err == -ENOENT) {
		/* A protected binary that disappeared is a change too. */
		memset(e->got, 0, SHA256_LEN);
	} else if (e->err) {
		return e->err;
	}
	if (!e->err && !memcmp(e->got, e->want, SHA256_LEN)) {
		e->changed = e->reported = 0;
		return 0;
	}
	if (!e->changed)
		g->mismatches++;
	e->changed = 1;
	if (e->reported)
		return 0;
	e->reported = 1;
	sha256_hex(e->want, want);
	sha256_hex(e->got, got);
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("integrity"));
	json_object_object_add(o, "action", json_object_new_string("changed"));
	json_object_object_add(o, "class", json_object_new_string("danger"));
	json_object_object_add(o, "path", json_object_new_string(e->path));
	json_object_object_add(o, "expected_sha256", json_object_new_string(want));
	json_object_object_add(o, "actual_sha256", e->err ? NULL : json_object_new_string(got));
	json_object_object_add(
		o, "result",
		json_object_new_string(e->err ? "the protected binary is gone"
					      : "the protected binary's contents changed"));
	*event = o;
	return 1;
}

size_t integrity_changed(const struct integrity *g)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++)
		n += g->v[i].changed;
	return n;
}

int integrity_accept(struct integrity *g, const char *path)
{
	struct integrity_entry *e = find(g, path);
	int err;

	if (!e)
		return -ENOENT;
	err = sha256_file(path, e->want);
	if (err)
		return err;
	memcpy(e->got, e->want, SHA256_LEN);
	e->recorded = 1;
	e->changed = e->reported = 0;
	e->err = 0;
	return db_save(g);
}

struct json_object *integrity_json(const struct integrity *g)
{
	struct json_object *o = json_object_new_object();
	struct json_object *bad = json_object_new_array();
	size_t i;

	json_object_object_add(o, "watched", json_object_new_uint64(g->n));
	json_object_object_add(o, "checks", json_object_new_uint64(g->checks));
	json_object_object_add(o, "mismatches", json_object_new_uint64(g->mismatches));
	for (i = 0; i < g->n; i++)
		if (g->v[i].changed)
			json_object_array_add(bad, json_object_new_string(g->v[i].path));
	json_object_object_add(o, "changed", bad);
	return o;
}
