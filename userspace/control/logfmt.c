// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "logfmt.h"

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int is(const char *s, const char *want)
{
	return s && !strcmp(s, want);
}

static int decision_priority(enum out_item it, struct json_object *rec)
{
	const char *action = jstr(rec, "action"), *result = jstr(rec, "result");

	if (result && (!strncmp(result, "error", 5) || !strncmp(result, "cannot", 6)))
		return LOG_ERR;
	switch (it) {
	case OUT_SERVICE:
		if (is(action, "broken"))
			return LOG_ERR; /* the breaker is open: no more restarts */
		if (is(action, "not-healed"))
			return LOG_WARNING;
		if (is(action, "verified") || is(action, "healthy") || is(action, "adopted") ||
		    is(action, "resumed"))
			return LOG_INFO;
		return LOG_NOTICE;
	case OUT_QUARANTINE: return is(action, "quarantine") ? LOG_WARNING : LOG_NOTICE;
	case OUT_THROTTLE:
		return is(action, "throttle") || is(action, "module-hold") ||
				       is(action, "would-throttle")
			       ? LOG_WARNING
			       : LOG_NOTICE;
	case OUT_WEATHER: return is(jstr(rec, "to"), "stormy") ? LOG_WARNING : LOG_NOTICE;
	case OUT_INTEGRITY: return LOG_CRIT; /* a protected binary changed under us */
	case OUT_LYMPHD: {
		const char *detail = jstr(rec, "detail");

		return detail && strstr(detail, "refused") ? LOG_WARNING : LOG_INFO;
	}
	case OUT_SNAPSHOT: return LOG_DEBUG;
	default: return LOG_NOTICE;
	}
}

int log_priority(enum out_item it, struct json_object *rec)
{
	switch (it) {
	case OUT_DANGER:
	case OUT_OOM:
	case OUT_DROP: /* records lost: the picture is incomplete */ return LOG_WARNING;
	case OUT_PROGRAMMED: return LOG_INFO;
	case OUT_SIGNAL:
	case OUT_HELD: return LOG_NOTICE;
	case OUT_PRESSURE:
	case OUT_EXEC:
	case OUT_FORK: return LOG_DEBUG;
	default: return decision_priority(it, rec);
	}
}

size_t log_field_name(char *out, size_t cap, const char *prefix, const char *key)
{
	size_t n = 0;
	const char *parts[2] = { prefix, key };
	int i;

	if (!cap)
		return 0;
	for (i = 0; i < 2; i++) {
		const char *p;

		for (p = parts[i]; p && *p && n < cap - 1 && n < 64; p++) {
			char c = *p;

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
				c = '_';
			out[n++] = c;
		}
	}
	out[n] = 0;
	/* Names starting with '_' are journald's trusted fields. */
	if (n && out[0] == '_')
		n = 0;
	out[n] = 0;
	return n;
}

struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void b_put(struct buf *b, const void *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void field(struct buf *b, const char *name, const char *val, size_t vlen)
{
	size_t nlen = strlen(name);

	if (!nlen)
		return;
	b_put(b, name, nlen);
	if (memchr(val, '\n', vlen)) {
		uint8_t le[8];
		uint64_t v = vlen;
		int i;

		for (i = 0; i < 8; i++)
			le[i] = (uint8_t)(v >> (8 * i));
		b_put(b, "\n", 1);
		b_put(b, le, 8);
	} else {
		b_put(b, "=", 1);
	}
	b_put(b, val, vlen);
	b_put(b, "\n", 1);
}

static void field_str(struct buf *b, const char *name, const char *val)
{
	field(b, name, val, strlen(val));
}

/* A scalar as text; NULL for objects, arrays and null. */
static const char *scalar(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_double:
	case json_type_boolean: return json_object_get_string(v);
	default: return NULL;
	}
}

static void fields_of(struct buf *b, struct json_object *o, const char *prefix, int depth)
{
	json_object_object_foreach (o, key, v) {
		char name[72], sub[80];
		const char *s;

		if (depth == 0 && (!strcmp(key, "event") || !strcmp(key, "type") ||
				   !strcmp(key, "ts") || !strcmp(key, "time")))
			continue; /* LYMPH_EVENT, and journald's own timestamps */
		if (!log_field_name(name, sizeof(name), prefix, key))
			continue;
		if ((s = scalar(v))) {
			field_str(b, name, s);
		} else if (json_object_is_type(v, json_type_object) && depth == 0) {
			snprintf(sub, sizeof(sub), "%s_", name);
			fields_of(b, v, sub, 1);
		} else if (json_object_is_type(v, json_type_array)) {
			struct buf j = { 0 };
			size_t i, n = json_object_array_length(v);

			for (i = 0; i < n; i++) {
				const char *e = scalar(json_object_array_get_idx(v, i));

				if (!e)
					continue;
				if (j.len)
					b_put(&j, ", ", 2);
				b_put(&j, e, strlen(e));
			}
			if (j.len && !j.err)
				field(b, name, j.p, j.len);
			b->err = b->err ? b->err : j.err;
			free(j.p);
		}
	}
}

int log_journal_entry(struct json_object *rec, const char *event, const char *message, int priority,
		      char **out, size_t *len)
{
	struct buf b = { 0 };
	char prio[4];

	snprintf(prio, sizeof(prio), "%d", priority & 7);
	field_str(&b, "MESSAGE", message);
	field_str(&b, "PRIORITY", prio);
	field_str(&b, "SYSLOG_IDENTIFIER", "lymphd");
	field_str(&b, "SYSLOG_FACILITY", "3");
	field_str(&b, "LYMPH_EVENT", event);
	if (rec) {
		fields_of(&b, rec, "LYMPH_", 0);
		field_str(&b, "LYMPH_RECORD",
			  json_object_to_json_string_ext(
				  rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

size_t log_syslog_line(char *buf, size_t cap, int priority, time_t when, pid_t pid,
		       const char *message)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int n;

	if (!cap)
		return 0;
	localtime_r(&when, &tm);
	n = snprintf(buf, cap, "<%d>%s %2d %02d:%02d:%02d lymphd[%d]: %s",
		     LOG_DAEMON | (priority & 7), mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (int)pid, message);
	if (n < 0) {
		buf[0] = 0;
		return 0;
	}
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

int log_journal_parse(const char *buf, size_t len,
		      int (*cb)(const char *name, size_t nlen, const char *val, size_t vlen,
				void *ctx),
		      void *ctx)
{
	size_t i = 0;

	while (i < len) {
		const char *name = buf + i, *eol = memchr(name, '\n', len - i);
		const char *eq;
		size_t nlen, vlen;
		int err;

		if (!eol)
			return -EINVAL;
		eq = memchr(name, '=', (size_t)(eol - name));
		if (eq == name || eol == name)
			return -EINVAL; /* a field needs a name */
		if (eq) {
			nlen = (size_t)(eq - name);
			vlen = (size_t)(eol - eq - 1);
			err = cb(name, nlen, eq + 1, vlen, ctx);
			i = (size_t)(eol - buf) + 1;
		} else {
			uint64_t v = 0;
			const uint8_t *le = (const uint8_t *)eol + 1;
			int k;

			nlen = (size_t)(eol - name);
			i = (size_t)(eol - buf) + 1;
			if (len - i < 8)
				return -EINVAL;
			for (k = 0; k < 8; k++)
				v |= (uint64_t)le[k] << (8 * k);
			i += 8;
			if (v > len - i || len - i - v < 1 || buf[i + v] != '\n')
				return -EINVAL;
			vlen = (size_t)v;
			err = cb(name, nlen, buf + i, vlen, ctx);
			i += vlen + 1;
		}
		if (err)
			return err;
	}
	return 0;
}
