// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "format.h"
#include "signames.h"

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
	case LYMPH_EV_FORK:
		add_task(o, &((const struct lymph_fork *)rec)->task, exe);
		break;
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
		static const char *const kinds[] = { "session", "cgroup", "uid" };
		static const char *const acts[] = { "?", "stopped", "would-stop", "held" };

		add_task(o, &t->task, exe);
		add(o, "lineage_kind", json_object_new_string(t->lineage_kind < 3 ? kinds[t->lineage_kind] : "?"));
		add(o, "lineage_id", json_object_new_uint64(t->lineage_id));
		add(o, "action", json_object_new_string(t->action < 4 ? acts[t->action] : "?"));
		add(o, "tokens", json_object_new_double((double)t->tokens / 1000.0));
		add(o, "hold_ns", json_object_new_uint64(t->hold_ns));
		add(o, "child_pid", json_object_new_int64(t->child_pid));
		break;
	}
	}
	return o;
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

size_t format_text(char *buf, size_t len, const struct lymph_hdr *rec,
		   const char *exe, const struct verdict *vd)
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
				put(buf, len, &pos, " addr=0x%llx", (unsigned long long)d->fault_addr);
			if (d->si_code <= 0)
				put(buf, len, &pos, " sender=%u sender_uid=%u",
				    d->sender_pid, d->sender_uid);
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
		put(buf, len, &pos, " path=%.*s", (int)strnlen((const char *)e->path, LYMPH_PATH_LEN),
		    (const char *)e->path);
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

		put(buf, len, &pos, " %s lineage=%s:%llu", t->action == LYMPH_THROTTLE_WOULD ? "would-stop" : "stopped",
		    t->lineage_kind == LYMPH_LINEAGE_CGROUP ? "cgroup" :
		    t->lineage_kind == LYMPH_LINEAGE_UID ? "uid" : "session",
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
	case json_type_double:
		put(buf, len, pos, " %s=%g", key, json_object_get_double(v));
		break;
	case json_type_int:
	case json_type_boolean:
		put(buf, len, pos, " %s=%s", key, json_object_get_string(v));
		break;
	default:
		break;
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
	static const char *const skip[] = {
		"type", "action", "time", "ts", "mode", "service", "exe", "lineage", "path",
		"from", "to", "exe_dev", "exe_ino", "id", "kind", "since_wall_ns", "until_wall_ns",
		"hold_cgroup", "parent_cgroup", "old_mode", "expected_sha256", "actual_sha256",
		"inputs", "factors", "result", "why", "state", "detail", NULL
	};
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
	json_object_object_foreach(rec, key, val) {
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
					put(buf, len, &pos, "%s%s", i ? "; " : ": ", json_object_get_string(e));
			}
			continue;
		}
		put_kv(buf, len, &pos, key, val);
	}
	if (json_object_object_get_ex(rec, "state", &v) && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, skey, sval)
			if (in_list(skey, state_keys))
				put_kv(buf, len, &pos, skey, sval);
	}
	if ((s = jget_str(rec, "detail")))
		put(buf, len, &pos, " (%s)", s);
	if ((s = jget_str(rec, "result")) && strcmp(s, "ok"))
		put(buf, len, &pos, ": %s", s);
	if (json_object_object_get_ex(rec, "why", &v) && json_object_is_type(v, json_type_object)) {
		put(buf, len, &pos, " | why:");
		json_object_object_foreach(v, wkey, wval) {
			if (!strcmp(wkey, "wall_ns") || !strcmp(wkey, "si_code") || !strcmp(wkey, "fault_addr"))
				continue;
			put_kv(buf, len, &pos, wkey, wval);
		}
	}
	return pos;
}
