// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include "jsonw.h"

static int room(struct jsonw *w, size_t n);

void jsonw_begin(struct jsonw *w, char *buf, size_t cap, int objects)
{
	memset(w, 0, sizeof(*w));
	w->p = buf;
	w->cap = cap;
	w->first[0] = 1;
	if (objects) {
		w->o[0] = json_object_new_object();
		if (!w->o[0])
			w->err = -ENOMEM;
	}
	if (room(w, 1))
		w->p[w->len++] = '{';
}

/* Room for n more bytes (and a closing brace and NUL). */
static int room(struct jsonw *w, size_t n)
{
	size_t cap = w->cap;
	char *p;

	if (w->err)
		return 0;
	if (w->len + n + 2 <= w->cap)
		return 1;
	while (w->len + n + 2 > cap)
		cap = cap * 2 + 256;
	p = malloc(cap);
	if (!p) {
		w->err = -ENOMEM;
		return 0;
	}
	memcpy(p, w->p, w->len);
	free(w->heap);
	w->heap = w->p = p;
	w->cap = cap;
	return 1;
}

/* The key (a comma before all but the first): room for it and vmax more. */
static int key(struct jsonw *w, const char *k, size_t vmax)
{
	size_t kn = strlen(k);

	if (!room(w, jw_str_max(kn) + 2 + vmax))
		return 0;
	if (!w->first[w->depth])
		w->p[w->len++] = ',';
	w->first[w->depth] = 0;
	w->len = (size_t)(jw_str(w->p + w->len, k, kn) - w->p);
	w->p[w->len++] = ':';
	return 1;
}

static void add(struct jsonw *w, const char *k, struct json_object *v)
{
	if (w->o[w->depth])
		json_object_object_add(w->o[w->depth], k, v);
}

void jsonw_str(struct jsonw *w, const char *k, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!key(w, k, jw_str_max(n) + 4))
		return;
	w->len = (size_t)((s ? jw_str(w->p + w->len, s, n) : jw_raw(w->p + w->len, "null", 4)) -
			  w->p);
	add(w, k, s ? json_object_new_string_len(s, (int)n) : NULL);
}

void jsonw_i64(struct jsonw *w, const char *k, int64_t v)
{
	if (!key(w, k, JW_NUM_MAX))
		return;
	w->len = (size_t)(jw_i64(w->p + w->len, v) - w->p);
	add(w, k, json_object_new_int64(v));
}

void jsonw_u64(struct jsonw *w, const char *k, uint64_t v)
{
	if (!key(w, k, JW_NUM_MAX))
		return;
	w->len = (size_t)(jw_u64(w->p + w->len, v) - w->p);
	add(w, k, json_object_new_uint64(v));
}

void jsonw_double(struct jsonw *w, const char *k, double v)
{
	if (!key(w, k, JW_NUM_MAX))
		return;
	w->len = (size_t)(jw_double(w->p + w->len, v) - w->p);
	add(w, k, json_object_new_double(v));
}

void jsonw_json(struct jsonw *w, const char *k, struct json_object *v)
{
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);

	if (!key(w, k, n))
		return;
	w->len = (size_t)(jw_raw(w->p + w->len, s, n) - w->p);
	add(w, k, json_object_get(v));
}

struct json_object *jsonw_open(struct jsonw *w, const char *k)
{
	struct json_object *o = NULL;

	if (w->depth + 1 >= JSONW_DEPTH) {
		w->err = -EINVAL;
		return NULL;
	}
	if (!key(w, k, 1))
		return NULL;
	w->p[w->len++] = '{';
	if (w->o[w->depth]) {
		o = json_object_new_object();
		json_object_object_add(w->o[w->depth], k, o);
	}
	w->depth++;
	w->o[w->depth] = o;
	w->first[w->depth] = 1;
	return o;
}

void jsonw_close(struct jsonw *w)
{
	if (!w->depth || !room(w, 1))
		return;
	w->p[w->len++] = '}';
	w->o[w->depth--] = NULL;
}

struct json_object *jsonw_obj(const struct jsonw *w)
{
	return w->o[0];
}

struct json_object *jsonw_take_obj(struct jsonw *w)
{
	struct json_object *o = w->o[0];

	w->o[0] = NULL;
	return o;
}

const char *jsonw_end(struct jsonw *w, size_t *len)
{
	if (w->err || w->depth)
		return NULL;
	/* room() keeps two bytes free past len: the brace and the NUL */
	w->p[w->len] = '}';
	w->p[w->len + 1] = 0;
	*len = w->len + 1;
	return w->p;
}

void jsonw_free(struct jsonw *w)
{
	json_object_put(w->o[0]);
	w->o[0] = NULL;
	free(w->heap);
	w->heap = NULL;
	w->p = NULL;
	w->len = w->cap = 0;
}
