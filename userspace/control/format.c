// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
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

static void add_task(struct json_object *o, const struct lymph_task *t, const char *exe)
{
	add(o, "pid", json_object_new_int64(t->pid));
	add(o, "tid", json_object_new_int64(t->tid));
	add(o, "ppid", json_object_new_int64(t->ppid));
	add(o, "uid", json_object_new_int64(t->uid));
	add(o, "sid", json_object_new_int64(t->sid));
	add(o, "comm", jstr_n(t->comm, LYMPH_COMM_LEN));
	add(o, "exe", exe ? json_object_new_string(exe) : NULL);
	add(o, "exe_dev", json_object_new_int64(t->exe_dev));
	add(o, "exe_ino", json_object_new_uint64(t->exe_ino));
	add(o, "cgroup_id", json_object_new_uint64(t->cgroup_id));
}

static void add_signal(struct json_object *o, unsigned int signo, int si_code)
{
	const char *cn = si_code_name(signo, si_code);

	add(o, "signo", json_object_new_int64(signo));
	add(o, "signal", json_object_new_string(signal_name(signo)));
	add(o, "si_code", json_object_new_int64(si_code));
	add(o, "si_code_name", cn ? json_object_new_string(cn) : NULL);
}

struct json_object *format_json(const struct lymph_hdr *rec, const char *exe,
				const struct verdict *vd)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add(o, "event", json_object_new_string(lymph_kind_name(rec->kind)));
	add(o, "ts_ns", json_object_new_uint64(rec->ts_ns));
	add(o, "source", json_object_new_string(lymph_source_name(rec->source)));

	switch (rec->kind) {
	case LYMPH_EV_DEATH: {
		const struct lymph_death *d = (const void *)rec;
		int info = !!(d->flags & LYMPH_DEATH_SIGINFO);

		add_task(o, &d->task, exe);
		if (vd) {
			add(o, "class", json_object_new_string(lymph_class_name(vd->klass)));
			add(o, "reason", json_object_new_string(lymph_reason_name(vd->reason)));
		}
		add(o, "exit_code", json_object_new_int64(d->exit_code));
		add(o, "exit_status", json_object_new_int64((d->exit_code >> 8) & 0xff));
		add(o, "core", json_object_new_boolean(!!(d->flags & LYMPH_DEATH_CORE)));
		add(o, "oom", json_object_new_boolean(!!(d->flags & LYMPH_DEATH_OOM)));
		add(o, "siginfo", json_object_new_boolean(info));
		if (d->signo) {
			add(o, "signo", json_object_new_int64(d->signo));
			add(o, "signal", json_object_new_string(signal_name(d->signo)));
		}
		if (info) {
			add_signal(o, d->signo, d->si_code);
			add(o, "fault_addr", json_object_new_uint64(d->fault_addr));
			add(o, "sender_pid", json_object_new_int64(d->sender_pid));
			add(o, "sender_uid", json_object_new_int64(d->sender_uid));
		}
		add(o, "age_ns", json_object_new_uint64(d->age_ns));
		break;
	}
	case LYMPH_EV_SIGNAL: {
		const struct lymph_signal *s = (const void *)rec;

		add_task(o, &s->task, exe);
		add_signal(o, s->signo, s->si_code);
		add(o, "sender_pid", json_object_new_int64(s->sender_pid));
		add(o, "sender_uid", json_object_new_int64(s->sender_uid));
		add(o, "sender_comm", jstr_n(s->sender_comm, LYMPH_COMM_LEN));
		break;
	}
	case LYMPH_EV_EXEC: {
		const struct lymph_exec *e = (const void *)rec;

		add_task(o, &e->task, exe);
		add(o, "path", jstr_n(e->path, LYMPH_PATH_LEN));
		break;
	}
	case LYMPH_EV_FORK: add_task(o, &((const struct lymph_fork *)rec)->task, exe); break;
	case LYMPH_EV_OOM: {
		const struct lymph_oom *m = (const void *)rec;

		add_task(o, &m->task, exe);
		add(o, "oom_score_adj", json_object_new_int64(m->oom_score_adj));
		break;
	}
	case LYMPH_EV_DROP:
		add(o, "lost", json_object_new_uint64(((const struct lymph_drop *)rec)->lost));
		break;
	case LYMPH_EV_PRESSURE: {
		const struct lymph_pressure *p = (const void *)rec;

		add_task(o, &p->task, exe);
		add(o, "interval_ns", json_object_new_uint64(p->interval_ns));
		add(o, "runq_delay_ns", json_object_new_uint64(p->runq_delay_ns));
		add(o, "reclaim_delay_ns", json_object_new_uint64(p->reclaim_delay_ns));
		add(o, "maj_flt", json_object_new_uint64(p->maj_flt));
		add(o, "rss_kb", json_object_new_uint64(p->rss_kb));
		add(o, "rss_delta_kb", json_object_new_int64(p->rss_delta_kb));
		add(o, "flags", json_object_new_int64(p->flags));
		break;
	}
	case LYMPH_EV_THROTTLE: {
		const struct lymph_throttle *t = (const void *)rec;

		add_task(o, &t->task, exe);
		add(o, "lineage_kind",
		    json_object_new_string(t->lineage_kind < 4 ? throttle_kinds[t->lineage_kind]
							       : "?"));
		add(o, "lineage_id", json_object_new_uint64(t->lineage_id));
		add(o, "action",
		    json_object_new_string(t->action < 4 ? throttle_acts[t->action] : "?"));
		add(o, "tokens", json_object_new_double((double)t->tokens / 1000.0));
		add(o, "hold_ns", json_object_new_uint64(t->hold_ns));
		add(o, "child_pid", json_object_new_int64(t->child_pid));
		break;
	}
	}
	return o;
}

/* ---- the same JSON, written straight into a reused buffer ----------------
 *
 * format_json() builds a json-c object per record (some 30 allocations)
 * and json-c serialises it again: most of lymphd's time per record with
 * --json.  This writer emits the same bytes with no allocation: keys in
 * the order format_json() adds them, numbers in decimal, strings escaped
 * as json-c escapes them with JSON_C_TO_STRING_NOSLASHESCAPE (", \ and
 * \b \f \n \r \t by name, other bytes below 0x20 as \u00xx in lower-case
 * hex, every other byte as it is, UTF-8 or not).  tests/format_test
 * compares both on the same records.
 */

/* 0: copied; else the letter after the backslash ('u': \u00xx). */
static const char json_esc[256] = {
	['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',	 ['\t'] = 't', [0x00] = 'u',
	[0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',	 [0x05] = 'u', [0x06] = 'u',
	[0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u',	 [0x10] = 'u', [0x11] = 'u',
	[0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',	 [0x16] = 'u', [0x17] = 'u',
	[0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',	 [0x1c] = 'u', [0x1d] = 'u',
	[0x1e] = 'u', [0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

/* Worst case of one escaped byte: \u00xx. */
#define JSON_ESC_MAX 6

static char *jw_raw(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* A key and its colon, with the comma before every key but the first. */
#define JW_KEY(p, lit) ((p) = jw_raw((p), "," lit ":", sizeof("," lit ":") - 1))

static char *jw_u64(char *p, uint64_t v)
{
	char t[20];
	int i = sizeof(t);

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return jw_raw(p, t + i, sizeof(t) - (size_t)i);
}

static char *jw_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return jw_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return jw_u64(p, (uint64_t)v);
}

static char *jw_bool(char *p, int v)
{
	return v ? jw_raw(p, "true", 4) : jw_raw(p, "false", 5);
}

/* json-c's default double: "%.17g", and ".0" after an integral value. */
static char *jw_double(char *p, double v)
{
	char t[64];
	int n = snprintf(t, sizeof(t), "%.17g", v);

	if (n < 0 || (size_t)n >= sizeof(t) - 2)
		n = 0;
	if ((isdigit((unsigned char)t[0]) || (t[0] == '-' && isdigit((unsigned char)t[1]))) &&
	    !strchr(t, '.') && !strchr(t, 'e')) {
		memcpy(t + n, ".0", 2);
		n += 2;
	}
	return jw_raw(p, t, (size_t)n);
}

static char *jw_str(char *p, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	*p++ = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e = json_esc[c];

		if (!e)
			continue;
		p = jw_raw(p, s + run, i - run);
		run = i + 1;
		*p++ = '\\';
		*p++ = e;
		if (e == 'u') {
			p = jw_raw(p, "00", 2);
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	p = jw_raw(p, s + run, n - run);
	*p++ = '"';
	return p;
}

/* A string or null. */
static char *jw_cstr(char *p, const char *s)
{
	return s ? jw_str(p, s, strlen(s)) : jw_raw(p, "null", 4);
}

static char *jw_task(char *p, const struct lymph_task *t, const char *exe)
{
	JW_KEY(p, "\"pid\"");
	p = jw_i64(p, t->pid);
	JW_KEY(p, "\"tid\"");
	p = jw_i64(p, t->tid);
	JW_KEY(p, "\"ppid\"");
	p = jw_i64(p, t->ppid);
	JW_KEY(p, "\"uid\"");
	p = jw_i64(p, t->uid);
	JW_KEY(p, "\"sid\"");
	p = jw_i64(p, t->sid);
	JW_KEY(p, "\"comm\"");
	p = jw_str(p, (const char *)t->comm, strnlen((const char *)t->comm, LYMPH_COMM_LEN));
	JW_KEY(p, "\"exe\"");
	p = jw_cstr(p, exe);
	JW_KEY(p, "\"exe_dev\"");
	p = jw_i64(p, t->exe_dev);
	JW_KEY(p, "\"exe_ino\"");
	p = jw_u64(p, t->exe_ino);
	JW_KEY(p, "\"cgroup_id\"");
	return jw_u64(p, t->cgroup_id);
}

static char *jw_signal(char *p, unsigned int signo, int si_code)
{
	JW_KEY(p, "\"signo\"");
	p = jw_i64(p, signo);
	JW_KEY(p, "\"signal\"");
	p = jw_cstr(p, signal_name(signo));
	JW_KEY(p, "\"si_code\"");
	p = jw_i64(p, si_code);
	JW_KEY(p, "\"si_code_name\"");
	return jw_cstr(p, si_code_name(signo, si_code));
}

/* Room for every field but the strings, and for each string escaped. */
static size_t jw_need(const struct lymph_hdr *rec, const char *exe)
{
	size_t n = 2048 + 2 * LYMPH_COMM_LEN * JSON_ESC_MAX;

	if (exe)
		n += strlen(exe) * JSON_ESC_MAX;
	if (rec->kind == LYMPH_EV_EXEC)
		n += LYMPH_PATH_LEN * JSON_ESC_MAX;
	return n;
}

int format_json_append(struct fmt_buf *b, const struct lymph_hdr *rec, const char *exe,
		       const struct verdict *vd)
{
	size_t need = jw_need(rec, exe);
	char *p;

	if (b->cap - b->len < need) {
		size_t cap = b->cap ? b->cap : 4096;
		char *n;

		while (cap - b->len < need)
			cap *= 2;
		n = realloc(b->p, cap);
		if (!n)
			return -ENOMEM;
		b->p = n;
		b->cap = cap;
	}
	p = b->p + b->len;
	p = jw_raw(p, "{\"event\":", 9);
	p = jw_cstr(p, lymph_kind_name(rec->kind));
	JW_KEY(p, "\"ts_ns\"");
	p = jw_u64(p, rec->ts_ns);
	JW_KEY(p, "\"source\"");
	p = jw_cstr(p, lymph_source_name(rec->source));

	switch (rec->kind) {
	case LYMPH_EV_DEATH: {
		const struct lymph_death *d = (const void *)rec;
		int info = !!(d->flags & LYMPH_DEATH_SIGINFO);

		p = jw_task(p, &d->task, exe);
		if (vd) {
			JW_KEY(p, "\"class\"");
			p = jw_cstr(p, lymph_class_name(vd->klass));
			JW_KEY(p, "\"reason\"");
			p = jw_cstr(p, lymph_reason_name(vd->reason));
		}
		JW_KEY(p, "\"exit_code\"");
		p = jw_i64(p, d->exit_code);
		JW_KEY(p, "\"exit_status\"");
		p = jw_i64(p, (d->exit_code >> 8) & 0xff);
		JW_KEY(p, "\"core\"");
		p = jw_bool(p, !!(d->flags & LYMPH_DEATH_CORE));
		JW_KEY(p, "\"oom\"");
		p = jw_bool(p, !!(d->flags & LYMPH_DEATH_OOM));
		JW_KEY(p, "\"siginfo\"");
		p = jw_bool(p, info);
		/* format_json() adds signo and signal first and add_signal()
		 * replaces them in place: one pair, in this position. */
		if (info) {
			p = jw_signal(p, d->signo, d->si_code);
			JW_KEY(p, "\"fault_addr\"");
			p = jw_u64(p, d->fault_addr);
			JW_KEY(p, "\"sender_pid\"");
			p = jw_i64(p, d->sender_pid);
			JW_KEY(p, "\"sender_uid\"");
			p = jw_i64(p, d->sender_uid);
		} else if (d->signo) {
			JW_KEY(p, "\"signo\"");
			p = jw_i64(p, d->signo);
			JW_KEY(p, "\"signal\"");
			p = jw_cstr(p, signal_name(d->signo));
		}
		JW_KEY(p, "\"age_ns\"");
		p = jw_u64(p, d->age_ns);
		break;
	}
	case LYMPH_EV_SIGNAL: {
		const struct lymph_signal *s = (const void *)rec;

		p = jw_task(p, &s->task, exe);
		p = jw_signal(p, s->signo, s->si_code);
		JW_KEY(p, "\"sender_pid\"");
		p = jw_i64(p, s->sender_pid);
		JW_KEY(p, "\"sender_uid\"");
		p = jw_i64(p, s->sender_uid);
		JW_KEY(p, "\"sender_comm\"");
		p = jw_str(p, (const char *)s->sender_comm,
			   strnlen((const char *)s->sender_comm, LYMPH_COMM_LEN));
		break;
	}
	case LYMPH_EV_EXEC: {
		const struct lymph_exec *e = (const void *)rec;

		p = jw_task(p, &e->task, exe);
		JW_KEY(p, "\"path\"");
		p = jw_str(p, (const char *)e->path,
			   strnlen((const char *)e->path, LYMPH_PATH_LEN));
		break;
	}
	case LYMPH_EV_FORK: p = jw_task(p, &((const struct lymph_fork *)rec)->task, exe); break;
	case LYMPH_EV_OOM: {
		const struct lymph_oom *m = (const void *)rec;

		p = jw_task(p, &m->task, exe);
		JW_KEY(p, "\"oom_score_adj\"");
		p = jw_i64(p, m->oom_score_adj);
		break;
	}
	case LYMPH_EV_DROP:
		JW_KEY(p, "\"lost\"");
		p = jw_u64(p, ((const struct lymph_drop *)rec)->lost);
		break;
	case LYMPH_EV_PRESSURE: {
		const struct lymph_pressure *r = (const void *)rec;

		p = jw_task(p, &r->task, exe);
		JW_KEY(p, "\"interval_ns\"");
		p = jw_u64(p, r->interval_ns);
		JW_KEY(p, "\"runq_delay_ns\"");
		p = jw_u64(p, r->runq_delay_ns);
		JW_KEY(p, "\"reclaim_delay_ns\"");
		p = jw_u64(p, r->reclaim_delay_ns);
		JW_KEY(p, "\"maj_flt\"");
		p = jw_u64(p, r->maj_flt);
		JW_KEY(p, "\"rss_kb\"");
		p = jw_u64(p, r->rss_kb);
		JW_KEY(p, "\"rss_delta_kb\"");
		p = jw_i64(p, r->rss_delta_kb);
		JW_KEY(p, "\"flags\"");
		p = jw_i64(p, r->flags);
		break;
	}
	case LYMPH_EV_THROTTLE: {
		const struct lymph_throttle *t = (const void *)rec;

		p = jw_task(p, &t->task, exe);
		JW_KEY(p, "\"lineage_kind\"");
		p = jw_cstr(p, t->lineage_kind < 4 ? throttle_kinds[t->lineage_kind] : "?");
		JW_KEY(p, "\"lineage_id\"");
		p = jw_u64(p, t->lineage_id);
		JW_KEY(p, "\"action\"");
		p = jw_cstr(p, t->action < 4 ? throttle_acts[t->action] : "?");
		JW_KEY(p, "\"tokens\"");
		p = jw_double(p, (double)t->tokens / 1000.0);
		JW_KEY(p, "\"hold_ns\"");
		p = jw_u64(p, t->hold_ns);
		JW_KEY(p, "\"child_pid\"");
		p = jw_i64(p, t->child_pid);
		break;
	}
	}
	*p++ = '}';
	*p++ = '\n';
	b->len = (size_t)(p - b->p);
	return 0;
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
