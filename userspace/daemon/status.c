// SPDX-License-Identifier: GPL-2.0-only
/* What `lymphctl status` shows, built from lymphd's state. */
#include <json-c/json.h>
#include "daemon.h"
#include "format.h"
#include "metrics.h"
#include "signames.h"

#define TOP_N 10

struct json_object *status_json(const struct daemon *d, uint64_t now_ns)
{
	const struct crash_entry *top[TOP_N];
	struct json_object *o = json_object_new_object();
	struct json_object *c = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	size_t i, n;
	unsigned int k;

	json_object_object_add(o, "version", json_object_new_string(LYMPH_VERSION));
	json_object_object_add(o, "source",
			       json_object_new_string(d->src.name ? d->src.name : "none"));
	json_object_object_add(o, "missing",
			       d->src.missing ? json_object_new_string(d->src.missing) : NULL);
	json_object_object_add(o, "mode",
			       json_object_new_string(d->enforce ? "enforce" : "observe"));
	json_object_object_add(o, "uptime_s",
			       json_object_new_double((double)(now_ns - d->start_ns) / 1e9));

	for (k = LYMPH_EV_DEATH; k < LYMPH_EV_KIND_MAX; k++)
		json_object_object_add(c, lymph_kind_name(k),
				       json_object_new_uint64(d->count.by_kind[k]));
	/* of the forks, those recorded: only while something shows them */
	json_object_object_add(c, "fork_records", json_object_new_uint64(d->fork_records));
	json_object_object_add(c, "danger", json_object_new_uint64(d->count.danger));
	json_object_object_add(c, "programmed", json_object_new_uint64(d->count.programmed));
	json_object_object_add(o, "counters", c);
	json_object_object_add(o, "drops", json_object_new_uint64(d->src.lost_total));
	/* How far lymphd fell behind the ring at worst: the records it
	 * copied out to catch up (0: never behind by more than it handles
	 * straight from the ring). */
	json_object_object_add(o, "backlog_peak_bytes",
			       json_object_new_uint64(source_bpf_backlog_peak(&d->src)));
	{
		/* The drain timer's pace (policy/tickpace.h): every drain_ms
		 * while records come, every doze_ms (0: never) while none do,
		 * and how often a record ended a doze at once. */
		struct json_object *dr = json_object_new_object();
		static const char *const pace[] = { "active", "arming", "dozing" };

		json_object_object_add(dr, "pace", json_object_new_string(pace[d->pace.state]));
		json_object_object_add(dr, "drain_ms", json_object_new_uint64(d->drain_ns / 1000000));
		json_object_object_add(dr, "doze_ms",
				       json_object_new_uint64(source_can_doze(&d->src) ?
								      d->doze_ns / 1000000 :
								      0));
		json_object_object_add(dr, "doze_wakes", json_object_new_uint64(d->doze_wakes));
		json_object_object_add(o, "drain", dr);
	}
	{
		/* The system log (--log): where it goes, what it took, what it lost. */
		struct json_object *lg = json_object_new_object();

		json_object_object_add(lg, "target",
				       json_object_new_string(logsink_name(d->log.target)));
		json_object_object_add(lg, "sent", json_object_new_uint64(d->log.sent));
		json_object_object_add(lg, "lost", json_object_new_uint64(d->log.lost));
		json_object_object_add(o, "log", lg);
	}

	n = crashtab_top(&d->crashes, now_ns, top, TOP_N);
	for (i = 0; i < n; i++) {
		const struct crash_entry *e = top[i];
		const char *exe = binpath_lookup(&d->names, e->dev, e->ino);
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "exe", exe ? json_object_new_string(exe) : NULL);
		json_object_object_add(t, "comm", json_object_new_string(e->comm));
		json_object_object_add(t, "exe_dev", json_object_new_int64(e->dev));
		json_object_object_add(t, "exe_ino", json_object_new_uint64(e->ino));
		json_object_object_add(t, "danger_deaths",
				       json_object_new_uint64(e->danger_deaths));
		json_object_object_add(t, "rate_per_min",
				       json_object_new_double(decay_rate_per_min(
					       &e->rate, now_ns, d->crashes.half_life_ns)));
		json_object_object_add(t, "last_signal",
				       json_object_new_string(signal_name(e->last_signal)));
		json_object_object_add(t, "last_uid", json_object_new_int64(e->last_uid));
		json_object_object_add(
			t, "last_seen_s_ago",
			json_object_new_double(
				now_ns > e->last_ns ? (double)(now_ns - e->last_ns) / 1e9 : 0.0));
		json_object_array_add(arr, t);
	}
	json_object_object_add(o, "top", arr);
	json_object_object_add(o, "services", supervisor_json(&d->sup, now_ns));
	json_object_object_add(o, "quarantine", qmanager_json(&d->quar, now_ns));
	json_object_object_add(o, "throttle", throttler_json(&d->thr, now_ns));
	/* [throttle] enabled (and enforce mode): does it hold lineages? */
	json_object_object_add(json_object_object_get(o, "throttle"), "enforce",
			       json_object_new_boolean(d->thr.enforce));
	/* What the kernel side runs with, read back (lymph.ko: its knobs). */
	json_object_object_add(o, "kernel_throttle", kthrottle_json(&d->kt));
	json_object_object_add(o, "weather", d->weather ? weather_json(d->weather, now_ns) : NULL);
	if (d->fleet) {
		struct json_object *fl = fleet_json(d->fleet), *v, *s = json_object_new_object();
		static const char *const keep[] = { "fleet", "host", "link", "url", "last_error" };
		size_t j;

		/* The link only; lymphctl fleet shows the rest. */
		for (j = 0; j < sizeof(keep) / sizeof(keep[0]); j++)
			if (json_object_object_get_ex(fl, keep[j], &v))
				json_object_object_add(s, keep[j], json_object_get(v));
		json_object_object_add(s, "vaccinated_here",
				       json_object_new_int64((int64_t)d->fleet_here.n));
		json_object_put(fl);
		json_object_object_add(o, "fleet", s);
	} else {
		json_object_object_add(o, "fleet", NULL);
	}
	{
		/* What the replay at start found: damaged lines are state lost. */
		struct json_object *j = journal_stats_json(&d->journal.replayed);

		json_object_object_add(j, "path",
				       d->journal.path ? json_object_new_string(d->journal.path)
						       : NULL);
		json_object_object_add(j, "size", json_object_new_uint64(d->journal.size));
		json_object_object_add(j, "rotations",
				       json_object_new_uint64(d->journal.rotations));
		json_object_object_add(j, "syncs", json_object_new_uint64(journal_syncs(&d->journal)));
		json_object_object_add(j, "unsynced",
				       json_object_new_uint64(journal_unsynced(&d->journal)));
		json_object_object_add(o, "journal", j);
	}
	json_object_object_add(o, "phagocyte", phago_json(&d->phago, now_ns));
	return o;
}

static void phago_series(FILE *out, const void *ctx)
{
	phago_metrics(ctx, out);
}

static void metrics_source(const struct daemon *d, struct metrics_src *m)
{
	uint64_t now = mono_now_ns();

	*m = (struct metrics_src){
		.count = &d->count,
		.drops = d->src.lost_total,
		.crashes = &d->crashes,
		.names = &d->names,
		.weather = d->weather,
		.version = LYMPH_VERSION,
		.source = d->src.name ? d->src.name : "none",
		.mode = d->enforce ? "enforce" : "observe",
		.now_ns = now,
		.uptime_ns = now - d->start_ns,
		.extra = phago_series,
		.extra_ctx = &d->phago,
	};
}

int daemon_metrics(const struct daemon *d, FILE *out)
{
	struct metrics_src m;

	metrics_source(d, &m);
	return metrics_text(out, &m);
}

int daemon_metrics_fill(FILE *out, void *d)
{
	daemon_forks_sync(d, mono_now_ns());
	return daemon_metrics(d, out);
}
