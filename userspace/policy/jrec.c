// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "jrec.h"
#include "lymph/events.h"
#include "signames.h"

#define OPTIONAL 0
#define REQUIRED 1

/* A non-negative integer <= max; absent is 0 unless required. */
static int get_u64(struct json_object *o, const char *key, uint64_t max, int required,
		   uint64_t *out)
{
	struct json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, key, &v))
		return required ? -EINVAL : 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EINVAL;
	*out = json_object_get_uint64(v);
	return *out > max ? -EINVAL : 0;
}

static int get_u32(struct json_object *o, const char *key, uint32_t max, int required,
		   uint32_t *out)
{
	uint64_t v;
	int err = get_u64(o, key, max, required, &v);

	*out = (uint32_t)v;
	return err;
}

static int get_dbl(struct json_object *o, const char *key, double min, double max, double *out)
{
	struct json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return -EINVAL;
	*out = json_object_get_double(v);
	return isfinite(*out) && *out >= min && *out <= max ? 0 : -EINVAL;
}

/* A string of at most maxlen bytes without NUL; null (when allowed) and
 * absent give NULL. */
static int get_str(struct json_object *o, const char *key, size_t maxlen, int required, int null_ok,
		   const char **out)
{
	struct json_object *v;
	const char *s;
	int len;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return required ? -EINVAL : 0;
	if (!v)
		return null_ok && !required ? 0 : -EINVAL;
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (!s || len < 0 || (size_t)len > maxlen || strlen(s) != (size_t)len)
		return -EINVAL;
	*out = s;
	return 0;
}

static int type_is(struct json_object *rec, const char *type)
{
	const char *t;

	return !get_str(rec, "type", 64, REQUIRED, 0, &t) && !strcmp(t, type);
}

static int abs_path_ok(const char *p, size_t max)
{
	return p && p[0] == '/' && strlen(p) < max;
}

int jrec_cgroup_path_ok(const char *path, size_t max)
{
	static const char root[] = "/sys/fs/cgroup/";
	const char *c;

	if (!path || strlen(path) >= max || strncmp(path, root, sizeof(root) - 1))
		return 0;
	for (c = path + 1; *c;) {
		size_t n = strcspn(c, "/");

		if (!n || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += n;
		if (*c == '/')
			c++;
		if (!*c && c[-1] == '/')
			return 0; /* trailing slash */
	}
	return 1;
}

int jrec_quarantine(struct json_object *rec, struct jrec_quarantine *q)
{
	uint64_t ino;
	int err = 0, req;

	memset(q, 0, sizeof(*q));
	if (!type_is(rec, "quarantine"))
		return 0;
	if (get_str(rec, "action", 32, REQUIRED, 0, &q->action))
		return -EINVAL;
	/* The key is required where replay acts on it. */
	req = !strcmp(q->action, "quarantine") || !strcmp(q->action, "snapshot") ||
	      !strcmp(q->action, "release") || !strcmp(q->action, "expire") ||
	      !strcmp(q->action, "intent") || !strcmp(q->action, "recovered");
	err |= get_str(rec, "exe", JREC_PATH_MAX - 1, OPTIONAL, 1, &q->exe);
	err |= get_str(rec, "result", 512, OPTIONAL, 1, &q->result);
	err |= get_u32(rec, "exe_dev", UINT32_MAX, req, &q->dev);
	err |= get_u64(rec, "exe_ino", UINT64_MAX, req, &ino);
	err |= get_u32(rec, "uid", UINT32_MAX - 1, req, &q->uid);
	err |= get_u64(rec, "until_wall_ns", UINT64_MAX / 2, OPTIONAL, &q->until_wall_ns);
	err |= get_u64(rec, "since_wall_ns", UINT64_MAX / 2, OPTIONAL, &q->since_wall_ns);
	err |= get_u32(rec, "old_mode", 07777, OPTIONAL, &q->old_mode);
	err |= get_u32(rec, "total", UINT32_MAX, OPTIONAL, &q->total);
	err |= get_dbl(rec, "offences", 0, 1e12, &q->offences);
	q->ino = ino;
	if (!err && json_object_object_get_ex(rec, "why", &q->why) && q->why &&
	    !json_object_is_type(q->why, json_type_object))
		err = -EINVAL;
	if (!err && q->exe && !abs_path_ok(q->exe, JREC_PATH_MAX))
		err = -EINVAL;
	if (!err && q->until_wall_ns && q->since_wall_ns > q->until_wall_ns)
		err = -EINVAL;
	return err ? -EINVAL : 1;
}

int jrec_throttle(struct json_object *rec, struct jrec_throttle *t)
{
	const char *kind;
	double holds = 0;
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (!type_is(rec, "throttle"))
		return 0;
	err |= get_str(rec, "action", 32, REQUIRED, 0, &t->action);
	err |= get_str(rec, "kind", 16, REQUIRED, 0, &kind);
	err |= get_u64(rec, "id", UINT64_MAX, REQUIRED, &t->id);
	err |= get_str(rec, "hold_cgroup", 599, OPTIONAL, 0, &t->hold_dir);
	err |= get_str(rec, "parent_cgroup", 511, OPTIONAL, 0, &t->parent_dir);
	err |= get_dbl(rec, "dead_time_ms", 0, 1e12, &t->dead_time_ms);
	err |= get_dbl(rec, "holds", 0, UINT32_MAX, &holds);
	if (err)
		return -EINVAL;
	t->holds = (uint32_t)holds;
	if (!strcmp(kind, "session"))
		t->kind = LYMPH_LINEAGE_SESSION;
	else if (!strcmp(kind, "cgroup"))
		t->kind = LYMPH_LINEAGE_CGROUP;
	else if (!strcmp(kind, "uid"))
		t->kind = LYMPH_LINEAGE_UID;
	else if (!strcmp(kind, "family"))
		t->kind = LYMPH_LINEAGE_FAMILY;
	else
		return -EINVAL;
	/* A hold is a child of its parent, both in the pids cgroup tree: a
	 * line cannot make lymphd move or remove anything else. */
	if (!t->hold_dir != !t->parent_dir)
		return -EINVAL;
	if (t->hold_dir) {
		size_t pl = strlen(t->parent_dir);

		if (!jrec_cgroup_path_ok(t->hold_dir, 600) ||
		    !jrec_cgroup_path_ok(t->parent_dir, 512) ||
		    strncmp(t->hold_dir, t->parent_dir, pl) || t->hold_dir[pl] != '/' ||
		    strncmp(t->hold_dir + pl + 1, "lymph.hold.", 11) ||
		    strchr(t->hold_dir + pl + 1, '/'))
			return -EINVAL;
	}
	return 1;
}

static int service_why(struct json_object *w, struct jrec_service *s)
{
	const char *sig = NULL, *klass = NULL;
	int err = 0;

	if (!json_object_is_type(w, json_type_object))
		return -EINVAL;
	s->have_why = 1;
	err |= get_str(w, "reason", 64, OPTIONAL, 1, &s->why_reason);
	err |= get_str(w, "signal", 32, OPTIONAL, 1, &sig);
	err |= get_str(w, "class", 32, OPTIONAL, 1, &klass);
	err |= get_u32(w, "exit_status", 255, OPTIONAL, &s->why_exit_status);
	err |= get_u64(w, "wall_ns", UINT64_MAX / 2, OPTIONAL, &s->why_wall_ns);
	if (err)
		return -EINVAL;
	if (sig && signal_parse(sig) > 0)
		s->why_signo = (uint32_t)signal_parse(sig);
	s->why_danger = klass && !strcmp(klass, "danger");
	return 0;
}

int jrec_service(struct json_object *rec, struct jrec_service *s)
{
	struct json_object *st, *w, *arr;
	const char *phase;
	uint64_t pid;
	int err = 0;
	size_t i, n;

	memset(s, 0, sizeof(*s));
	if (!type_is(rec, "service"))
		return 0;
	err |= get_str(rec, "service", CFG_NAME_MAX - 1, REQUIRED, 0, &s->name);
	err |= get_str(rec, "action", 32, OPTIONAL, 0, &s->action);
	if (err || !s->name[0] || !json_object_object_get_ex(rec, "state", &st) ||
	    !json_object_is_type(st, json_type_object))
		return -EINVAL;
	err |= get_str(st, "phase", 32, REQUIRED, 0, &phase);
	err |= get_u32(st, "failures", UINT32_MAX, OPTIONAL, &s->failures);
	err |= get_u32(st, "restarts", UINT32_MAX, OPTIONAL, &s->restarts);
	err |= get_u64(st, "delay_ns", UINT64_MAX / 2, OPTIONAL, &s->delay_ns);
	err |= get_u64(st, "deadline_wall_ns", UINT64_MAX / 2, OPTIONAL, &s->deadline_wall_ns);
	err |= get_u64(st, "since_wall_ns", UINT64_MAX / 2, OPTIONAL, &s->since_wall_ns);
	err |= get_u64(st, "healthy_at_wall_ns", UINT64_MAX / 2, OPTIONAL, &s->healthy_at_wall_ns);
	err |= get_u64(st, "pid", 1 << 22, OPTIONAL, &pid);
	if (err || (s->phase = svc_phase_parse(phase)) < 0)
		return -EINVAL;
	s->pid = (int32_t)pid;
	if (json_object_object_get_ex(st, "recent_wall_ns", &arr)) {
		if (!json_object_is_type(arr, json_type_array) ||
		    (n = json_object_array_length(arr)) > SUPERVISE_HISTORY)
			return -EINVAL;
		for (i = 0; i < n; i++) {
			struct json_object *x = json_object_array_get_idx(arr, i);

			if (!json_object_is_type(x, json_type_int) ||
			    json_object_get_int64(x) < 0 ||
			    json_object_get_uint64(x) > UINT64_MAX / 2)
				return -EINVAL;
			s->recent_wall_ns[s->n_recent++] = json_object_get_uint64(x);
		}
	}
	if (json_object_object_get_ex(rec, "why", &w) && w && service_why(w, s))
		return -EINVAL;
	return 1;
}

int jrec_check(struct json_object *rec)
{
	union {
		struct jrec_quarantine q;
		struct jrec_throttle t;
		struct jrec_service s;
	} u;

	if (jrec_quarantine(rec, &u.q) < 0 || jrec_throttle(rec, &u.t) < 0 ||
	    jrec_service(rec, &u.s) < 0)
		return -EINVAL;
	return 0;
}
