// SPDX-License-Identifier: GPL-2.0-only
/* Fleet messages: encoding, and a decoder that trusts nothing (fleet_msg.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "fleet_msg.h"

#define JSON_DEPTH 4 /* object > array > object: deeper is refused */

int fleet_sha_valid(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == 0;
}

static int hex_valid(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n > max || n % 2)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int path_valid(const char *s)
{
	if (!*s)
		return 1;
	if (*s != '/' || strlen(s) >= FLEET_PATH_LEN)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int word_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n >= max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

int fleet_kv_key(char *out, size_t len, const char *sha256, const char *host)
{
	int n = snprintf(out, len, "%s.%s", sha256, host);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int fleet_kv_key_parse(const char *key, char sha256[FLEET_SHA_LEN], char host[FLEET_NAME_MAX])
{
	if (strlen(key) < 66 || key[64] != '.')
		return -EBADMSG;
	memcpy(sha256, key, 64);
	sha256[64] = 0;
	if (!fleet_sha_valid(sha256) || !fleet_name_valid(key + 65))
		return -EBADMSG;
	snprintf(host, FLEET_NAME_MAX, "%s", key + 65);
	return 0;
}

/* ---- encoding ----------------------------------------------------------- */

static int emit(struct json_object *o, char **out)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);

	*out = s ? strdup(s) : NULL;
	json_object_put(o);
	return *out ? 0 : -ENOMEM;
}

int fleet_batch_encode(const struct fleet_batch *b, char **out)
{
	struct json_object *o = json_object_new_object(), *d = json_object_new_array(),
			   *c = json_object_new_array();
	size_t i;

	json_object_object_add(o, "v", json_object_new_int(1));
	json_object_object_add(o, "host", json_object_new_string(b->host));
	json_object_object_add(o, "ts_ms", json_object_new_uint64(b->ts_ms));
	json_object_object_add(o, "dropped", json_object_new_uint64(b->dropped));
	for (i = 0; i < b->n_deaths && i < FLEET_BATCH_MAX; i++) {
		const struct fleet_death *x = &b->deaths[i];
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "sha256", json_object_new_string(x->sha256));
		json_object_object_add(e, "build_id", json_object_new_string(x->build_id));
		json_object_object_add(e, "path", json_object_new_string(x->path));
		json_object_object_add(e, "signal", json_object_new_int64(x->signo));
		json_object_object_add(e, "fault_page_off",
				       json_object_new_int64(x->fault_page_off));
		json_object_object_add(e, "count", json_object_new_int64(x->count));
		json_object_array_add(d, e);
	}
	for (i = 0; i < b->n_decisions && i < FLEET_BATCH_MAX; i++) {
		const struct fleet_decision *x = &b->decisions[i];
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "type", json_object_new_string(x->type));
		json_object_object_add(e, "action", json_object_new_string(x->action));
		json_object_object_add(e, "sha256", json_object_new_string(x->sha256));
		json_object_object_add(e, "path", json_object_new_string(x->path));
		json_object_array_add(c, e);
	}
	json_object_object_add(o, "deaths", d);
	json_object_object_add(o, "decisions", c);
	return emit(o, out);
}

int fleet_report_encode(const struct fleet_report *r, char **out)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "v", json_object_new_int(1));
	json_object_object_add(o, "host", json_object_new_string(r->host));
	json_object_object_add(o, "sha256", json_object_new_string(r->sha256));
	json_object_object_add(o, "build_id", json_object_new_string(r->build_id));
	json_object_object_add(o, "path", json_object_new_string(r->path));
	json_object_object_add(o, "signal", json_object_new_int64(r->signo));
	json_object_object_add(o, "count", json_object_new_int64(r->count));
	json_object_object_add(o, "first_ms", json_object_new_uint64(r->first_ms));
	json_object_object_add(o, "last_ms", json_object_new_uint64(r->last_ms));
	return emit(o, out);
}

/* ---- decoding ----------------------------------------------------------- */

static struct json_object *parse(const void *buf, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (!buf || !len || len > FLEET_MSG_MAX || memchr(buf, 0, len))
		return NULL;
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	/* The whole buffer must be one value, nothing after it. */
	if (o &&
	    (json_tokener_get_error(tok) != json_tokener_success ||
	     json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* A string member copied into out (size max): 0, or -EBADMSG. */
static int get_str(struct json_object *o, const char *key, char *out, size_t max)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) >= max ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return -EBADMSG;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* An integer member within [min, max]: 0, or -EBADMSG. */
static int get_u64(struct json_object *o, const char *key, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	errno = 0;
	x = json_object_get_int64(v);
	if (errno || x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return -EBADMSG;
	*out = (uint64_t)x;
	return 0;
}

static int check_version(struct json_object *o)
{
	uint64_t v;

	return get_u64(o, "v", 1, 1, &v);
}

#define TS_MAX (1ULL << 53) /* ms: far beyond any real clock */

static int decode_death(struct json_object *e, struct fleet_death *d)
{
	uint64_t u;

	if (!json_object_is_type(e, json_type_object) ||
	    get_str(e, "sha256", d->sha256, sizeof(d->sha256)) || !fleet_sha_valid(d->sha256) ||
	    get_str(e, "build_id", d->build_id, sizeof(d->build_id)) ||
	    !hex_valid(d->build_id, FLEET_BUILDID_LEN - 1) ||
	    get_str(e, "path", d->path, sizeof(d->path)) || !path_valid(d->path))
		return -EBADMSG;
	if (get_u64(e, "signal", 1, 64, &u))
		return -EBADMSG;
	d->signo = (uint32_t)u;
	if (get_u64(e, "fault_page_off", 0, 4095, &u))
		return -EBADMSG;
	d->fault_page_off = (uint32_t)u;
	if (get_u64(e, "count", 1, FLEET_COUNT_CAP, &u))
		return -EBADMSG;
	d->count = (uint32_t)u;
	return 0;
}

static int decode_decision(struct json_object *e, struct fleet_decision *d)
{
	if (!json_object_is_type(e, json_type_object) ||
	    get_str(e, "type", d->type, sizeof(d->type)) || !word_valid(d->type, sizeof(d->type)) ||
	    get_str(e, "action", d->action, sizeof(d->action)) ||
	    !word_valid(d->action, sizeof(d->action)) ||
	    get_str(e, "sha256", d->sha256, sizeof(d->sha256)) ||
	    (d->sha256[0] && !fleet_sha_valid(d->sha256)) ||
	    get_str(e, "path", d->path, sizeof(d->path)) || !path_valid(d->path))
		return -EBADMSG;
	return 0;
}

int fleet_batch_decode(const void *buf, size_t len, struct fleet_batch *b)
{
	struct json_object *o = parse(buf, len), *arr;
	uint64_t u;
	size_t i, n;
	int err = -EBADMSG;

	memset(b, 0, sizeof(*b));
	if (!o)
		return -EBADMSG;
	if (check_version(o) || get_str(o, "host", b->host, sizeof(b->host)) ||
	    !fleet_name_valid(b->host) || get_u64(o, "ts_ms", 0, TS_MAX, &b->ts_ms) ||
	    get_u64(o, "dropped", 0, UINT32_MAX, &u))
		goto out;
	b->dropped = (uint32_t)u;
	if (!json_object_object_get_ex(o, "deaths", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) > FLEET_BATCH_MAX)
		goto out;
	for (i = 0; i < n; i++)
		if (decode_death(json_object_array_get_idx(arr, i), &b->deaths[i]))
			goto out;
	b->n_deaths = n;
	if (!json_object_object_get_ex(o, "decisions", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) > FLEET_BATCH_MAX)
		goto out;
	for (i = 0; i < n; i++)
		if (decode_decision(json_object_array_get_idx(arr, i), &b->decisions[i]))
			goto out;
	b->n_decisions = n;
	err = 0;
out:
	json_object_put(o);
	if (err)
		memset(b, 0, sizeof(*b));
	return err;
}

int fleet_report_decode(const void *buf, size_t len, struct fleet_report *r)
{
	struct json_object *o = parse(buf, len);
	uint64_t u;
	int err = -EBADMSG;

	memset(r, 0, sizeof(*r));
	if (!o)
		return -EBADMSG;
	if (check_version(o) || get_str(o, "host", r->host, sizeof(r->host)) ||
	    !fleet_name_valid(r->host) || get_str(o, "sha256", r->sha256, sizeof(r->sha256)) ||
	    !fleet_sha_valid(r->sha256) ||
	    get_str(o, "build_id", r->build_id, sizeof(r->build_id)) ||
	    !hex_valid(r->build_id, FLEET_BUILDID_LEN - 1) ||
	    get_str(o, "path", r->path, sizeof(r->path)) || !path_valid(r->path) ||
	    get_u64(o, "signal", 1, 64, &u))
		goto out;
	r->signo = (uint32_t)u;
	if (get_u64(o, "count", 1, FLEET_COUNT_CAP, &u))
		goto out;
	r->count = (uint32_t)u;
	if (get_u64(o, "first_ms", 0, TS_MAX, &r->first_ms) ||
	    get_u64(o, "last_ms", 0, TS_MAX, &r->last_ms) || r->first_ms > r->last_ms)
		goto out;
	err = 0;
out:
	json_object_put(o);
	if (err)
		memset(r, 0, sizeof(*r));
	return err;
}
