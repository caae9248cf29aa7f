// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "jsonw.h"
#include "signames.h"

static const char *const throttle_kinds[] = { "session", "cgroup", "uid", "family" };
static const char *const throttle_acts[] = { "?", "stopped", "would-stop", "held" };

/* comm and path are NUL-terminated by producers; do not trust that. */
static struct json_object *jstr_n(const __u8 *s, size_t max)
{
	return json_object_new_string_len((const char *)s, (int)strnlen((const char *)s, max));
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

/* ---- the same JSON, written straight into a reused buffer ----------------
 *
 * format_json() builds a json-c object per record (some 30 allocations)
 * and json-c serialises it again: most of lymphd's time per record with
 * --json.  format_json_append() writes the same bytes with no allocation:
 * the same fields in the same order (out_record() below names them for
 * both), numbers in decimal, strings escaped
 * as json-c escapes them with JSON_C_TO_STRING_NOSLASHESCAPE (", \ and
 * \b \f \n \r \t by name, other bytes below 0x20 as \u00xx in lower-case
 * hex, every other byte as it is, UTF-8 or not: lib/jsonw.h).
 * tests/format_test compares both on the same records.
 */

/* A key and its colon, after a comma (the first key's comma becomes the
 * object's '{'). */
#define JW_KEY(p, lit) ((p) = jw_raw((p), "," lit ":", sizeof("," lit ":") - 1))

/* A string or null: the json-c value. */
static struct json_object *jnew_cstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* At most max bytes of s (comm, path): the bytes written. */
static char *jw_strn(char *p, const __u8 *s, size_t max)
{
	return jw_str(p, (const char *)s, strnlen((const char *)s, max));
}

/* ---- one list of fields per record kind, for both writers ----------------
 *
 * out_record() names every field of a record, in order, once.  Into a
 * json-c object for format_json(), or, for format_json_append(), straight
 * as the bytes json-c would serialise that object into: w->fast is a
 * constant at each of the two calls and out_record() is always inlined,
 * so each writer compiles to its own straight-line code.
 */
struct out {
	bool fast;
	struct json_object *o; /* !fast: the object being built */
	char *p;	       /* fast: where the next byte goes */
};

/* One field: key is a string literal; jnew makes its json-c value and jw
 * writes its bytes, from the same arguments. */
#define OUT(w, key, jnew, jw, ...)                           \
	do {                                                 \
		if ((w)->fast) {                             \
			JW_KEY((w)->p, "\"" key "\"");       \
			(w)->p = jw((w)->p, __VA_ARGS__);    \
		} else {                                     \
			add((w)->o, key, jnew(__VA_ARGS__)); \
		}                                            \
	} while (0)
#define OUT_I64(w, key, v)	 OUT(w, key, json_object_new_int64, jw_i64, v)
#define OUT_U64(w, key, v)	 OUT(w, key, json_object_new_uint64, jw_u64, v)
#define OUT_BOOL(w, key, v)	 OUT(w, key, json_object_new_boolean, jw_bool, v)
#define OUT_DBL(w, key, v)	 OUT(w, key, json_object_new_double, jw_double, v)
#define OUT_STR(w, key, s)	 OUT(w, key, jnew_cstr, jw_cstr, s) /* NULL: null */
#define OUT_STRN(w, key, s, max) OUT(w, key, jstr_n, jw_strn, s, max)

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE void out_task(struct out *w, const struct lymph_task *t, const char *exe)
{
	OUT_I64(w, "pid", t->pid);
	OUT_I64(w, "tid", t->tid);
	OUT_I64(w, "ppid", t->ppid);
	OUT_I64(w, "uid", t->uid);
	OUT_I64(w, "sid", t->sid);
	OUT_STRN(w, "comm", t->comm, LYMPH_COMM_LEN);
	OUT_STR(w, "exe", exe);
	OUT_I64(w, "exe_dev", t->exe_dev);
	OUT_U64(w, "exe_ino", t->exe_ino);
	OUT_U64(w, "cgroup_id", t->cgroup_id);
}

static ALWAYS_INLINE void out_signal(struct out *w, unsigned int signo, int si_code)
{
	OUT_I64(w, "signo", signo);
	OUT_STR(w, "signal", signal_name(signo));
	OUT_I64(w, "si_code", si_code);
	OUT_STR(w, "si_code_name", si_code_name(signo, si_code));
}

static ALWAYS_INLINE void out_record(struct out *w, const struct lymph_hdr *rec, const char *exe,
				     const struct verdict *vd)
{
	OUT_STR(w, "event", lymph_kind_name(rec->kind));
	OUT_U64(w, "ts_ns", rec->ts_ns);
	OUT_STR(w, "source", lymph_source_name(rec->source));

	switch (rec->kind) {
	case LYMPH_EV_DEATH: {
		const struct lymph_death *d = (const void *)rec;
		int info = !!(d->flags & LYMPH_DEATH_SIGINFO);

		out_task(w, &d->task, exe);
		if (vd) {
			OUT_STR(w, "class", lymph_class_name(vd->klass));
			OUT_STR(w, "reason", lymph_reason_name(vd->reason));
		}
		OUT_I64(w, "exit_code", d->exit_code);
		OUT_I64(w, "exit_status", (d->exit_code >> 8) & 0xff);
		OUT_BOOL(w, "core", !!(d->flags & LYMPH_DEATH_CORE));
		OUT_BOOL(w, "oom", !!(d->flags & LYMPH_DEATH_OOM));
		OUT_BOOL(w, "siginfo", info);
		if (info) {
			out_signal(w, d->signo, d->si_code);
			OUT_U64(w, "fault_addr", d->fault_addr);
			OUT_I64(w, "sender_pid", d->sender_pid);
			OUT_I64(w, "sender_uid", d->sender_uid);
		} else if (d->signo) {
			OUT_I64(w, "signo", d->signo);
			OUT_STR(w, "signal", signal_name(d->signo));
		}
		OUT_U64(w, "age_ns", d->age_ns);
		break;
	}
	case LYMPH_EV_SIGNAL: {
		const struct lymph_signal *s = (const void *)rec;

		out_task(w, &s->task, exe);
		out_signal(w, s->signo, s->si_code);
		OUT_I64(w, "sender_pid", s->sender_pid);
		OUT_I64(w, "sender_uid", s->sender_uid);
		OUT_STRN(w, "sender_comm", s->sender_comm, LYMPH_COMM_LEN);
		break;
	}
	case LYMPH_EV_EXEC: {
		const struct lymph_exec *e = (const void *)rec;

		out_task(w, &e->task, exe);
		OUT_STRN(w, "path", e->path, LYMPH_PATH_LEN);
		break;
	}
	case LYMPH_EV_FORK: out_task(w, &((const struct lymph_fork *)rec)->task, exe); break;
	case LYMPH_EV_OOM: {
		const struct lymph_oom *m = (const void *)rec;

		out_task(w, &m->task, exe);
		OUT_I64(w, "oom_score_adj", m->oom_score_adj);
		break;
	}
	case LYMPH_EV_DROP: OUT_U64(w, "lost", ((const struct lymph_drop *)rec)->lost); break;
	case LYMPH_EV_PRESSURE: {
		const struct lymph_pressure *r = (const void *)rec;

		out_task(w, &r->task, exe);
		OUT_U64(w, "interval_ns", r->interval_ns);
		OUT_U64(w, "runq_delay_ns", r->runq_delay_ns);
		OUT_U64(w, "reclaim_delay_ns", r->reclaim_delay_ns);
		OUT_U64(w, "maj_flt", r->maj_flt);
		OUT_U64(w, "rss_kb", r->rss_kb);
		OUT_I64(w, "rss_delta_kb", r->rss_delta_kb);
		OUT_I64(w, "flags", r->flags);
		break;
	}
	case LYMPH_EV_THROTTLE: {
		const struct lymph_throttle *t = (const void *)rec;

		out_task(w, &t->task, exe);
		OUT_STR(w, "lineage_kind",
			t->lineage_kind < 4 ? throttle_kinds[t->lineage_kind] : "?");
		OUT_U64(w, "lineage_id", t->lineage_id);
		OUT_STR(w, "action", t->action < 4 ? throttle_acts[t->action] : "?");
		OUT_DBL(w, "tokens", (double)t->tokens / 1000.0);
		OUT_U64(w, "hold_ns", t->hold_ns);
		OUT_I64(w, "child_pid", t->child_pid);
		break;
	}
	}
}

struct json_object *format_json(const struct lymph_hdr *rec, const char *exe,
				const struct verdict *vd)
{
	struct out w = { .fast = false, .o = json_object_new_object() };

	if (!w.o)
		return NULL;
	out_record(&w, rec, exe, vd);
	return w.o;
}

/* Room for every field but the strings, and for each string escaped. */
static size_t jw_need(const struct lymph_hdr *rec, const char *exe)
{
	size_t n = 2048 + 2 * LYMPH_COMM_LEN * JW_ESC_MAX;

	if (exe)
		n += strlen(exe) * JW_ESC_MAX;
	if (rec->kind == LYMPH_EV_EXEC)
		n += LYMPH_PATH_LEN * JW_ESC_MAX;
	return n;
}

/* Room for @need more bytes in @b, doubling from 4 KiB: one realloc at most
 * per batch once the buffer has grown to the batches' size. */
static int fmt_room(struct fmt_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *n;

	if (b->cap - b->len >= need)
		return 0;
	while (cap - b->len < need)
		cap *= 2;
	n = realloc(b->p, cap);
	if (!n)
		return -ENOMEM;
	b->p = n;
	b->cap = cap;
	return 0;
}

int format_json_append(struct fmt_buf *b, const struct lymph_hdr *rec, const char *exe,
		       const struct verdict *vd)
{
	struct out w = { .fast = true };

	if (fmt_room(b, jw_need(rec, exe)))
		return -ENOMEM;
	w.p = b->p + b->len;
	out_record(&w, rec, exe, vd);
	b->p[b->len] = '{'; /* over the first key's comma */
	*w.p++ = '}';
	*w.p++ = '\n';
	b->len = (size_t)(w.p - b->p);
	return 0;
}

int format_decision_append(struct fmt_buf *b, struct json_object *rec, const char *ser,
			   size_t len)
{
	static const char head[] = "{\"event\":\"decision\"";
	struct json_object *o;
	int err;

	/* {"type":...} -> {"event":"decision","type":...}: json-c keeps a
	 * record's fields in the order they were added, after "event". */
	if (ser && len >= 2 && ser[0] == '{' && ser[len - 1] == '}' &&
	    !json_object_object_get_ex(rec, "event", NULL)) {
		int empty = len == 2;

		if (fmt_room(b, sizeof(head) + len + 1))
			return -ENOMEM;
		memcpy(b->p + b->len, head, sizeof(head) - 1);
		b->len += sizeof(head) - 1;
		if (!empty)
			b->p[b->len++] = ',';
		memcpy(b->p + b->len, ser + 1, len - 1);
		b->len += len - 1;
		b->p[b->len++] = '\n';
		return 0;
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "event", json_object_new_string("decision"));
	json_object_object_foreach (rec, key, val)
		json_object_object_add(o, key, json_object_get(val));
	ser = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(ser);
	err = fmt_room(b, len + 1);
	if (!err) {
		memcpy(b->p + b->len, ser, len);
		b->len += len;
		b->p[b->len++] = '\n';
	}
	json_object_put(o);
	return err;
}

void fmt_buf_free(struct fmt_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Append to buf at *pos, never past len - 1. */
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += ((size_t)n < len - *pos) ? (size_t)n : len - *pos - 1;
}

static void put_task(char *buf, size_t len, size_t *pos, const struct lymph_task *t,
		     const char *exe)
{
	put(buf, len, pos, " pid=%u uid=%u comm=%.*s", t->pid, t->uid,
	    (int)strnlen((const char *)t->comm, LYMPH_COMM_LEN), (const char *)t->comm);
	if (exe)
		put(buf, len, pos, " exe=%s", exe);
}

size_t format_text(char *buf, size_t len, const struct lymph_hdr *rec, const char *exe,
		   const struct verdict *vd)
{
	size_t pos = 0;

	if (!len)
		return 0;
	buf[0] = 0;
	put(buf, len, &pos, "%-6s", lymph_kind_name(rec->kind));
	switch (rec->kind) {
	case LYMPH_EV_DEATH: {
		const struct lymph_death *d = (const void *)rec;

		if (vd)
			put(buf, len, &pos, " %-10s %-14s", lymph_class_name(vd->klass),
			    lymph_reason_name(vd->reason));
		put_task(buf, len, &pos, &d->task, exe);
		if (d->signo) {
			put(buf, len, &pos, " sig=%s", signal_name(d->signo));
		} else {
			put(buf, len, &pos, " status=%u", (d->exit_code >> 8) & 0xff);
		}
		if (d->flags & LYMPH_DEATH_SIGINFO) {
			const char *cn = si_code_name(d->signo, d->si_code);

			if (cn)
				put(buf, len, &pos, " code=%s", cn);
			else
				put(buf, len, &pos, " code=%d", d->si_code);
			if (d->si_code > 0 && lymph_crash_signal(d->signo))
				put(buf, len, &pos, " addr=0x%llx",
				    (unsigned long long)d->fault_addr);
			if (d->si_code <= 0)
				put(buf, len, &pos, " sender=%u sender_uid=%u", d->sender_pid,
				    d->sender_uid);
		}
		if (d->flags & LYMPH_DEATH_CORE)
			put(buf, len, &pos, " core");
		put(buf, len, &pos, " age=%.3fs", (double)d->age_ns / 1e9);
		break;
	}
	case LYMPH_EV_SIGNAL: {
		const struct lymph_signal *s = (const void *)rec;

		put(buf, len, &pos, " %s from pid=%u uid=%u comm=%.*s to", signal_name(s->signo),
		    s->sender_pid, s->sender_uid,
		    (int)strnlen((const char *)s->sender_comm, LYMPH_COMM_LEN),
		    (const char *)s->sender_comm);
		put_task(buf, len, &pos, &s->task, exe);
		break;
	}
	case LYMPH_EV_EXEC: {
		const struct lymph_exec *e = (const void *)rec;

		put_task(buf, len, &pos, &e->task, NULL);
		put(buf, len, &pos, " path=%.*s",
		    (int)strnlen((const char *)e->path, LYMPH_PATH_LEN), (const char *)e->path);
		break;
	}
	case LYMPH_EV_FORK: {
		const struct lymph_fork *f = (const void *)rec;

		put(buf, len, &pos, " ppid=%u", f->task.ppid);
		put_task(buf, len, &pos, &f->task, exe);
		break;
	}
	case LYMPH_EV_OOM: {
		const struct lymph_oom *m = (const void *)rec;

		put_task(buf, len, &pos, &m->task, exe);
		put(buf, len, &pos, " oom_score_adj=%d", m->oom_score_adj);
		break;
	}
	case LYMPH_EV_PRESSURE: {
		const struct lymph_pressure *p = (const void *)rec;

		put_task(buf, len, &pos, &p->task, exe);
		put(buf, len, &pos, " runq=%.1fms rss=%lluKB (%+lld) majflt=%llu",
		    (double)p->runq_delay_ns / 1e6, (unsigned long long)p->rss_kb,
		    (long long)p->rss_delta_kb, (unsigned long long)p->maj_flt);
		break;
	}
	case LYMPH_EV_THROTTLE: {
		const struct lymph_throttle *t = (const void *)rec;

		put(buf, len, &pos, " %s lineage=%s:%llu",
		    t->action == LYMPH_THROTTLE_WOULD ? "would-stop" : "stopped",
		    t->lineage_kind == LYMPH_LINEAGE_CGROUP   ? "cgroup"
		    : t->lineage_kind == LYMPH_LINEAGE_UID    ? "uid"
		    : t->lineage_kind == LYMPH_LINEAGE_FAMILY ? "family"
							      : "session",
		    (unsigned long long)t->lineage_id);
		put_task(buf, len, &pos, &t->task, exe);
		break;
	}
	case LYMPH_EV_DROP:
		put(buf, len, &pos, " source=%s lost=%llu", lymph_source_name(rec->source),
		    (unsigned long long)((const struct lymph_drop *)rec)->lost);
		break;
	}
	return pos;
}

/* ---- journaled records (decisions, actions, weather) as one line ---------- */

static const char *jget_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* key=value; strings with blanks or quotes are quoted. */
static void put_kv(char *buf, size_t len, size_t *pos, const char *key, struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string: {
		const char *s = json_object_get_string(v);

		if (!*s || strpbrk(s, " \t\"="))
			put(buf, len, pos, " %s=\"%s\"", key, s);
		else
			put(buf, len, pos, " %s=%s", key, s);
		break;
	}
	case json_type_double: put(buf, len, pos, " %s=%g", key, json_object_get_double(v)); break;
	case json_type_int:
	case json_type_boolean: put(buf, len, pos, " %s=%s", key, json_object_get_string(v)); break;
	default: break;
	}
}

static int in_list(const char *key, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(key, *list))
			return 1;
	return 0;
}

size_t format_journal_text(char *buf, size_t len, struct json_object *rec)
{
	/* Shown as the subject, or bulky evidence kept for the JSON forms. */
	static const char *const skip[] = { "type",
					    "action",
					    "time",
					    "ts",
					    "mode",
					    "service",
					    "exe",
					    "lineage",
					    "path",
					    "from",
					    "to",
					    "exe_dev",
					    "exe_ino",
					    "id",
					    "kind",
					    "since_wall_ns",
					    "until_wall_ns",
					    "hold_cgroup",
					    "parent_cgroup",
					    "old_mode",
					    "expected_sha256",
					    "actual_sha256",
					    "inputs",
					    "factors",
					    "result",
					    "why",
					    "state",
					    "detail",
					    NULL };
	static const char *const state_keys[] = { "phase", "failures", "restarts", "pid", NULL };
	const char *type = jget_str(rec, "type"), *action = jget_str(rec, "action");
	const char *subject = NULL, *s;
	struct json_object *v;
	size_t pos = 0;

	if (!len)
		return 0;
	buf[0] = 0;
	put(buf, len, &pos, "%-10s %-16s", type ? type : "decision", action ? action : "-");
	if (type && !strcmp(type, "weather")) {
		const char *from = jget_str(rec, "from"), *to = jget_str(rec, "to");

		put(buf, len, &pos, " %s -> %s", from ? from : "?", to ? to : "?");
	} else {
		subject = jget_str(rec, "service");
		if (!subject)
			subject = jget_str(rec, "lineage");
		if (!subject)
			subject = jget_str(rec, "exe");
		if (!subject)
			subject = jget_str(rec, "path");
		if (subject)
			put(buf, len, &pos, " %s", subject);
	}
	json_object_object_foreach (rec, key, val) {
		if (in_list(key, skip))
			continue;
		if (json_object_is_type(val, json_type_array)) {
			size_t i, n = json_object_array_length(val);

			if (!strcmp(key, "held_pids") || !strcmp(key, "recent_wall_ns")) {
				put(buf, len, &pos, " %s=%zu", key, n);
				continue;
			}
			for (i = 0; i < n; i++) {
				struct json_object *e = json_object_array_get_idx(val, i);

				if (json_object_is_type(e, json_type_string))
					put(buf, len, &pos, "%s%s", i ? "; " : ": ",
					    json_object_get_string(e));
			}
			continue;
		}
		put_kv(buf, len, &pos, key, val);
	}
	if (json_object_object_get_ex(rec, "state", &v) &&
	    json_object_is_type(v, json_type_object)) {
		json_object_object_foreach (v, skey, sval)
			if (in_list(skey, state_keys))
				put_kv(buf, len, &pos, skey, sval);
	}
	if ((s = jget_str(rec, "detail")))
		put(buf, len, &pos, " (%s)", s);
	if ((s = jget_str(rec, "result")) && strcmp(s, "ok"))
		put(buf, len, &pos, ": %s", s);
	if (json_object_object_get_ex(rec, "why", &v) && json_object_is_type(v, json_type_object)) {
		put(buf, len, &pos, " | why:");
		json_object_object_foreach (v, wkey, wval) {
			if (!strcmp(wkey, "wall_ns") || !strcmp(wkey, "si_code") ||
			    !strcmp(wkey, "fault_addr"))
				continue;
			put_kv(buf, len, &pos, wkey, wval);
		}
	}
	return pos;
}
