// SPDX-License-Identifier: GPL-2.0-only
/* The kernel throttle's common part: dispatch, the journal, and the pure
 * mapping from the policy to what the kernel runs with. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "kthrottle.h"

int kthrottle_open(struct kthrottle *k, struct source *src, const char *sysfs_dir)
{
	memset(k, 0, sizeof(*k));
	k->source = src->name ? src->name : "current";
	if (src->id == LYMPH_SRC_BPF)
		return kthrottle_bpf_open(k, src);
	if (src->id == LYMPH_SRC_KMOD) {
		int err = kthrottle_kmod_open(k, sysfs_dir);

		if (!err)
			kthrottle_kmod_set_dev(k, src->fd);
		return err;
	}
	return -EOPNOTSUPP;
}

void kthrottle_close(struct kthrottle *k)
{
	if (k->ops && k->ops->close)
		k->ops->close(k);
	k->ops = NULL;
	k->priv = NULL;
	if (k->pending)
		json_object_put(k->pending);
	k->pending = NULL;
	k->journal = NULL;
}

void kthrottle_journal(struct kthrottle *k, struct json_object *rec)
{
	if (k->journal) {
		if (journal_append(k->journal, rec))
			fprintf(stderr, "lymphd: failed to write the journal %s (module knobs)\n",
				k->journal->path ? k->journal->path : "");
		return;
	}
	/* Before lymphd's replay: nothing may be appended yet. */
	if (!k->pending)
		k->pending = json_object_new_array();
	if (k->pending)
		json_object_array_add(k->pending, rec);
	else
		json_object_put(rec);
}

void kthrottle_set_journal(struct kthrottle *k, struct journal *j)
{
	struct json_object *pending = k->pending;
	size_t i;

	k->journal = j;
	k->pending = NULL;
	for (i = 0; pending && i < json_object_array_length(pending); i++)
		kthrottle_journal(k, json_object_get(json_object_array_get_idx(pending, i)));
	if (pending)
		json_object_put(pending);
}

int kthrottle_apply(struct kthrottle *k, const struct kthrottle_settings *s,
		    const struct kthrottle_protect *p)
{
	return kthrottle_available(k) ? k->ops->apply(k, s, p) : 0;
}

int kthrottle_set_weather(struct kthrottle *k, const char *word)
{
	return k && k->ops && k->ops->set_weather ? k->ops->set_weather(k, word) : 0;
}

int kthrottle_forget_lineage(struct kthrottle *k, uint32_t kind, uint64_t id)
{
	return k && k->ops && k->ops->forget_lineage ? k->ops->forget_lineage(k, kind, id) : 0;
}

int kthrottle_family_of(struct kthrottle *k, pid_t pid, uint64_t *id)
{
	return k && k->ops && k->ops->family_of ? k->ops->family_of(k, pid, id) : -EOPNOTSUPP;
}

void kthrottle_note_stop(struct kthrottle *k, pid_t pid, int stopped)
{
	if (k && k->ops && k->ops->note_stop)
		k->ops->note_stop(k, pid, stopped);
}

int kthrottle_admin_stopped(struct kthrottle *k, pid_t pid)
{
	return k && k->ops && k->ops->admin_stopped ? k->ops->admin_stopped(k, pid) : 0;
}

void kthrottle_pressure(struct kthrottle *k)
{
	if (k && k->ops && k->ops->pressure)
		k->ops->pressure(k);
}

int kthrottle_lift(struct kthrottle *k, uint32_t kind, uint64_t id)
{
	return k && k->ops && k->ops->lift ? k->ops->lift(k, kind, id) : 0;
}

int kthrottle_guard_pin(struct kthrottle *k, const char *dir, uint32_t kind, uint64_t id, int on)
{
	return k && k->ops && k->ops->guard_pin ? k->ops->guard_pin(k, dir, kind, id, on) : 0;
}

pid_t kthrottle_helper_pid(const struct kthrottle *k)
{
	return k && k->ops && k->ops->helper_pid ? k->ops->helper_pid(k) : 0;
}

struct json_object *kthrottle_json(const struct kthrottle *k)
{
	struct json_object *o = NULL;

	if (k && k->ops && k->ops->json)
		o = k->ops->json(k);
	if (!o)
		o = json_object_new_object();
	if (o && !json_object_object_get_ex(o, "kind", NULL))
		json_object_object_add(o, "kind",
				       json_object_new_string(k && k->ops ? k->name : "none"));
	if (o && k && k->source)
		json_object_object_add(o, "source", json_object_new_string(k->source));
	return o;
}

/* ---- pure ------------------------------------------------------------ */

static uint32_t scaled(uint32_t v, double factor)
{
	uint32_t r = (uint32_t)((double)v * factor);

	return r ? r : 1;
}

void kthrottle_settings_of(const struct throttle_conf *c, int available, int enforce, double factor,
			   uint32_t daemon_tgid, struct kthrottle_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->enabled = available;
	s->enforce = enforce;
	s->lineage_kind = c->lineage == LINEAGE_CGROUP	 ? LYMPH_LINEAGE_CGROUP
			  : c->lineage == LINEAGE_UID	 ? LYMPH_LINEAGE_UID
			  : c->lineage == LINEAGE_FAMILY ? LYMPH_LINEAGE_FAMILY
							 : LYMPH_LINEAGE_SESSION;
	s->budget = scaled(c->budget, factor);
	s->burst = scaled(c->burst, factor);
	s->uid_budget = c->uid_budget ? scaled(c->uid_budget, factor) : 0;
	s->uid_burst = scaled(c->uid_burst, factor);
	s->daemon_tgid = daemon_tgid;
	s->dead_time_min_ns = c->dead_time_min;
	s->dead_time_max_ns = c->dead_time_max;
}

static struct kmod_knob *knob(struct kmod_knob *out, size_t *n, const char *name, int optional)
{
	struct kmod_knob *kn = &out[(*n)++];

	memset(kn, 0, sizeof(*kn));
	snprintf(kn->name, sizeof(kn->name), "%s", name);
	kn->optional = optional;
	return kn;
}

/* v clamped to lo..hi, with a note naming what the policy asked for. */
static void uint_knob(struct kmod_knob *kn, uint64_t v, uint64_t lo, uint64_t hi, const char *what)
{
	uint64_t w = v < lo ? lo : v > hi ? hi : v;

	snprintf(kn->value, sizeof(kn->value), "%llu", (unsigned long long)w);
	if (w != v)
		snprintf(kn->note, sizeof(kn->note),
			 "%s %llu is outside lymph.ko's %llu..%llu: "
			 "written as %llu",
			 what, (unsigned long long)v, (unsigned long long)lo,
			 (unsigned long long)hi, (unsigned long long)w);
}

size_t kmod_knobs_of(const struct kthrottle_settings *s, const struct kthrottle_protect *p,
		     const char *weather, uint32_t cur_dead_max_ms, struct kmod_knob *out)
{
	uint64_t min_ms = s->dead_time_min_ns / 1000000ULL,
		 max_ms = s->dead_time_max_ns / 1000000ULL;
	struct kmod_knob *kn, *kmin, *kmax;
	size_t n = 0, i, len = 0;

	/* The protected set first: nothing is held for a moment that should not be. */
	kn = knob(out, &n, "protected_uids", 0);
	for (i = 0; p && i < p->n_uids && i < LYMPH_KMOD_PROTECTED_MAX; i++)
		len += (size_t)snprintf(kn->value + len, sizeof(kn->value) - len, "%s%u",
					i ? " " : "", p->uids[i]);
	if (p && p->n_uids > LYMPH_KMOD_PROTECTED_MAX)
		snprintf(kn->note, sizeof(kn->note),
			 "lymph.ko takes %d uids: the %zu [protect] uids "
			 "past the %dth are not protected by the module",
			 LYMPH_KMOD_PROTECTED_MAX, p->n_uids - LYMPH_KMOD_PROTECTED_MAX,
			 LYMPH_KMOD_PROTECTED_MAX);
	uint_knob(knob(out, &n, "clone_budget", 0), s->budget, 1, KMOD_CLONE_MAX,
		  "[throttle] budget");
	uint_knob(knob(out, &n, "clone_burst", 0), s->burst, 1, KMOD_CLONE_MAX, "[throttle] burst");
	/* min <= max after each write: widen first, then narrow. */
	if (max_ms < min_ms)
		max_ms = min_ms;
	if ((min_ms < 1			      ? 1
	     : min_ms > KMOD_DEAD_TIME_MAX_MS ? KMOD_DEAD_TIME_MAX_MS
					      : min_ms) > cur_dead_max_ms) {
		kmax = knob(out, &n, "dead_time_max_ms", 0);
		kmin = knob(out, &n, "dead_time_min_ms", 0);
	} else {
		kmin = knob(out, &n, "dead_time_min_ms", 0);
		kmax = knob(out, &n, "dead_time_max_ms", 0);
	}
	uint_knob(kmin, min_ms, 1, KMOD_DEAD_TIME_MAX_MS, "[throttle] dead_time_min (ms)");
	uint_knob(kmax, max_ms, 1, KMOD_DEAD_TIME_MAX_MS, "[throttle] dead_time_max (ms)");
	/* The per-uid budget, where the module has it (0: off). */
	kn = knob(out, &n, "uid_clone_budget", 1);
	if (s->uid_budget)
		uint_knob(kn, s->uid_budget, 1, KMOD_CLONE_MAX, "[throttle] uid_budget");
	else
		snprintf(kn->value, sizeof(kn->value), "0");
	uint_knob(knob(out, &n, "uid_clone_burst", 1), s->uid_burst, 1, KMOD_CLONE_MAX,
		  "[throttle] uid_burst");
	if (weather)
		snprintf(knob(out, &n, "weather", 0)->value, KMOD_KNOB_VALUE, "%s", weather);
	/* Last: enforce only once the rest is in place. */
	snprintf(knob(out, &n, "mode", 0)->value, KMOD_KNOB_VALUE, "%s",
		 s->enforce ? "enforce" : "observe");
	return n;
}
