// SPDX-License-Identifier: GPL-2.0-only
/*
 * The system weather (see weather.h and doc/weather.md): the pure decision
 * first, then the station that feeds it from PSI, the event stream, the
 * weekly baselines and the integrity spot checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "baseline.h"
#include "clock.h"
#include "evloop.h"
#include "integrity.h"
#include "memtrim.h"
#include "psi.h"
#include "weather.h"
#include "lymph/names.h"

#define SEC_NS 1000000000ULL

_Static_assert((int)WEATHER_SUNNY == (int)LYMPH_WEATHER_SUNNY &&
		       (int)WEATHER_CLOUDY == (int)LYMPH_WEATHER_CLOUDY &&
		       (int)WEATHER_UNSETTLED == (int)LYMPH_WEATHER_UNSETTLED &&
		       (int)WEATHER_STORMY == (int)LYMPH_WEATHER_STORMY &&
		       (int)WEATHER_NWORDS == (int)LYMPH_WEATHER_NR,
	       "weather words as in include/lymph/names.h");

const char *weather_name(enum weather_word w)
{
	return lymph_weather_name(w);
}

void weather_params_default(struct weather_params *p)
{
	memset(p, 0, sizeof(*p));
	p->cloudy_psi = 10.0;
	p->cloudy_psi_full = 5.0;
	p->clear_ratio = 0.7;
	p->unsettled_danger_per_min = 5.0;
	p->stormy_danger_per_min = 30.0;
	p->unsettled_dev2 = 2;
	p->unsettled_dev3 = 1;
	p->calm_hold_ns = 30 * SEC_NS;
	p->budget_factor[WEATHER_SUNNY] = 1.0;
	p->budget_factor[WEATHER_CLOUDY] = 0.75;
	p->budget_factor[WEATHER_UNSETTLED] = 0.75;
	p->budget_factor[WEATHER_STORMY] = 0.5;
	p->backoff_factor[WEATHER_SUNNY] = 1.0;
	p->backoff_factor[WEATHER_CLOUDY] = 1.5;
	p->backoff_factor[WEATHER_UNSETTLED] = 1.5;
	p->backoff_factor[WEATHER_STORMY] = 2.0;
	p->quarantine_factor[WEATHER_SUNNY] = 1.0;
	p->quarantine_factor[WEATHER_CLOUDY] = 1.0;
	p->quarantine_factor[WEATHER_UNSETTLED] = 0.75;
	p->quarantine_factor[WEATHER_STORMY] = 0.5;
	p->spot_interval_ns[WEATHER_SUNNY] = 600 * SEC_NS;
	p->spot_interval_ns[WEATHER_CLOUDY] = 300 * SEC_NS;
	p->spot_interval_ns[WEATHER_UNSETTLED] = 60 * SEC_NS;
	p->spot_interval_ns[WEATHER_STORMY] = 30 * SEC_NS;
	p->trigger_window_us = 2000000;
	p->trigger_stall_us = 200000; /* 10 % of the window: cloudy_psi */
	p->baseline_alpha = 0.3;
	p->baseline_min_weeks = 3;
}

void weather_params_from_conf(struct weather_params *p, const struct weather_conf *c)
{
	weather_params_default(p);
	if (!c)
		return;
	if (c->cloudy_psi > 0 && c->cloudy_psi <= 100) {
		p->cloudy_psi = c->cloudy_psi;
		p->trigger_stall_us = (uint64_t)(p->trigger_window_us * c->cloudy_psi / 100.0);
		if (!p->trigger_stall_us)
			p->trigger_stall_us = 1;
	}
	if (c->stormy_danger_per_min > 0) {
		p->stormy_danger_per_min = c->stormy_danger_per_min;
		if (p->unsettled_danger_per_min > p->stormy_danger_per_min)
			p->unsettled_danger_per_min = p->stormy_danger_per_min;
	}
	/* Bad weather only ever tightens: clamp what the policy says. */
	if (c->budget_factor_stormy > 0 && c->budget_factor_stormy <= 1) {
		p->budget_factor[WEATHER_STORMY] = c->budget_factor_stormy;
		if (p->budget_factor[WEATHER_CLOUDY] < c->budget_factor_stormy)
			p->budget_factor[WEATHER_CLOUDY] = p->budget_factor[WEATHER_UNSETTLED] =
				c->budget_factor_stormy;
	}
	if (c->unsettled_danger_per_min > 0)
		p->unsettled_danger_per_min = c->unsettled_danger_per_min < p->stormy_danger_per_min
						      ? c->unsettled_danger_per_min
						      : p->stormy_danger_per_min;
	if (c->quarantine_factor_stormy > 0 && c->quarantine_factor_stormy <= 1)
		p->quarantine_factor[WEATHER_STORMY] = c->quarantine_factor_stormy;
	if (c->calm_hold)
		p->calm_hold_ns = c->calm_hold;
	if (c->spot_interval) {
		/* cloudy half as long, unsettled a tenth, stormy a twentieth */
		p->spot_interval_ns[WEATHER_SUNNY] = c->spot_interval;
		p->spot_interval_ns[WEATHER_CLOUDY] = c->spot_interval / 2;
		p->spot_interval_ns[WEATHER_UNSETTLED] = c->spot_interval / 10;
		p->spot_interval_ns[WEATHER_STORMY] = c->spot_interval / 20;
	}
	if (c->backoff_factor_stormy >= 1) {
		p->backoff_factor[WEATHER_STORMY] = c->backoff_factor_stormy;
		if (p->backoff_factor[WEATHER_CLOUDY] > c->backoff_factor_stormy)
			p->backoff_factor[WEATHER_CLOUDY] = p->backoff_factor[WEATHER_UNSETTLED] =
				c->backoff_factor_stormy;
	}
}

/* ---- the decision (pure) --------------------------------------------------- */

static void reason(struct json_object *reasons, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reason(struct json_object *reasons, const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	if (!reasons)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(reasons, json_object_new_string(buf));
}

enum weather_word weather_target(const struct weather_params *p, const struct weather_inputs *in,
				 enum weather_word cur, struct json_object *reasons)
{
	enum weather_word t = WEATHER_SUNNY;
	double band;
	int r;

	/* Stormy: lymph is responding, or deaths come faster than it can. */
	band = cur >= WEATHER_STORMY ? p->clear_ratio : 1.0;
	if (in->activity) {
		t = WEATHER_STORMY;
		reason(reasons, "responding: %u action%s in progress", in->activity,
		       in->activity == 1 ? "" : "s");
	}
	if (in->danger_per_min >= p->stormy_danger_per_min * band) {
		t = WEATHER_STORMY;
		reason(reasons, "danger deaths %.1f/min >= %.1f/min", in->danger_per_min,
		       p->stormy_danger_per_min * band);
	}

	/* Unsettled: not the state we expect. */
	band = cur >= WEATHER_UNSETTLED ? p->clear_ratio : 1.0;
	if (in->danger_per_min >= p->unsettled_danger_per_min * band &&
	    in->danger_per_min <
		    p->stormy_danger_per_min * (cur >= WEATHER_STORMY ? p->clear_ratio : 1.0)) {
		if (t < WEATHER_UNSETTLED)
			t = WEATHER_UNSETTLED;
		reason(reasons, "danger deaths %.1f/min >= %.1f/min", in->danger_per_min,
		       p->unsettled_danger_per_min * band);
	}
	if (p->unsettled_dev3 && in->anomalies_dev3 >= p->unsettled_dev3) {
		if (t < WEATHER_UNSETTLED)
			t = WEATHER_UNSETTLED;
		reason(reasons, "%u anomal%s beyond 3 sigma", in->anomalies_dev3,
		       in->anomalies_dev3 == 1 ? "y" : "ies");
	}
	if (p->unsettled_dev2 && in->anomalies_dev2 >= p->unsettled_dev2) {
		if (t < WEATHER_UNSETTLED)
			t = WEATHER_UNSETTLED;
		reason(reasons, "%u anomalies beyond 2 sigma", in->anomalies_dev2);
	}
	if (in->fleet_vaccinated) {
		if (t < WEATHER_UNSETTLED)
			t = WEATHER_UNSETTLED;
		reason(reasons, "the fleet marks %u binar%s here bad", in->fleet_vaccinated,
		       in->fleet_vaccinated == 1 ? "y" : "ies");
	}
	if (in->integrity_changed) {
		if (t < WEATHER_UNSETTLED)
			t = WEATHER_UNSETTLED;
		reason(reasons, "%u protected binar%s changed", in->integrity_changed,
		       in->integrity_changed == 1 ? "y" : "ies");
	}

	/* Cloudy: low on resources. */
	band = cur >= WEATHER_CLOUDY ? p->clear_ratio : 1.0;
	for (r = 0; r < PSI_NRES; r++) {
		int hit = 0;

		if (in->psi_some[r] >= p->cloudy_psi * band) {
			hit = 1;
			reason(reasons, "%s pressure: some avg10 %.1f%% >= %.1f%%", psi_res_name(r),
			       in->psi_some[r], p->cloudy_psi * band);
		}
		if (r != PSI_CPU && in->psi_full[r] >= p->cloudy_psi_full * band) {
			hit = 1;
			reason(reasons, "%s pressure: full avg10 %.1f%% >= %.1f%%", psi_res_name(r),
			       in->psi_full[r], p->cloudy_psi_full * band);
		}
		if (in->psi_trigger[r]) {
			hit = 1;
			reason(reasons,
			       "%s pressure: trigger fired (%.0f ms stalled within %.0f s)",
			       psi_res_name(r), p->trigger_stall_us / 1e3,
			       p->trigger_window_us / 1e6);
		}
		if (hit && t < WEATHER_CLOUDY)
			t = WEATHER_CLOUDY;
	}
	return t;
}

int weather_step(struct weather_state *s, const struct weather_params *p,
		 const struct weather_inputs *in, uint64_t now_ns, struct json_object **why)
{
	struct json_object *reasons = why ? json_object_new_array() : NULL;
	enum weather_word t = weather_target(p, in, s->word, reasons), from = s->word, to;

	if (t > s->word) {
		/* Worse weather at once: a response must not wait. */
		to = t;
	} else if (t < s->word) {
		if (!s->better_since_ns) {
			s->better_since_ns = now_ns ? now_ns : 1;
			json_object_put(reasons);
			return 0;
		}
		if (now_ns - s->better_since_ns < p->calm_hold_ns) {
			json_object_put(reasons);
			return 0;
		}
		/* Calmer one word at a time, each after calm_hold. */
		to = s->word - 1;
		reason(reasons, "calmer: inputs point to %s for %.0f s", weather_name(t),
		       (double)(now_ns - s->better_since_ns) / 1e9);
	} else {
		s->better_since_ns = 0;
		json_object_put(reasons);
		return 0;
	}
	s->word = to;
	s->since_ns = now_ns;
	s->better_since_ns = to > t ? now_ns : 0;
	if (why) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "from", json_object_new_string(weather_name(from)));
		json_object_object_add(o, "to", json_object_new_string(weather_name(to)));
		json_object_object_add(o, "reasons", reasons);
		*why = o;
	}
	return 1;
}

/* ---- the station ----------------------------------------------------------- */

#define RING_SECS	   60  /* per-second counts kept */
#define DEATHS_KEPT	   256 /* recent danger deaths, for the entropy */
#define ENTROPY_WINDOW_NS  (300 * SEC_NS)
#define ENTROPY_MIN_DEATHS 3
#define PROCS_KEPT	   5
#define CGROUPS_KEPT	   5
#define CGROUP_SCAN_NS	   (5 * SEC_NS)
#define ANOMALIES_KEPT	   16
#define PRESSURE_KEEP_NS   (60 * SEC_NS)

enum {
	CNT_FORK,
	CNT_EXEC,
	CNT_DANGER,
	CNT_OOM,
	CNT_N
};

struct ring {
	uint32_t n[RING_SECS];
	uint64_t sec[RING_SECS]; /* which second each bucket holds */
};

struct death_key {
	uint64_t ino, ts_ns;
	uint32_t dev;
};

struct proc_pressure {
	uint64_t ts_ns, cgroup_id, rss_kb, maj_flt;
	int64_t rss_delta_kb;
	double runq_pct, reclaim_pct, score;
	uint32_t pid, uid;
	char comm[LYMPH_COMM_LEN];
};

/*
 * Besides one trigger per resource at cloudy_psi, one on the CPU at half
 * of its window stalled: a crowd of tasks that outnumbers the CPUs and
 * spins (on refused forks, say) stalls the CPU all along, where a host
 * that is merely cloudy does not.  It does not change the word; lymphd
 * has refused forks sampled when it fires (weather_cpu_crowded).
 */
#define TRIG_CROWD PSI_NRES

struct weather {
	struct weather_params p;
	struct weather_state st;
	char psi_dir[256];
	char *baseline_path;
	const char *cg_root;
	struct evloop *loop; /* NULL: no triggers */
	/* [TRIG_CROWD]: the CPU's crowd trigger */
	int trig_fd[PSI_NRES + 1];
	struct watch trig_w[PSI_NRES + 1];
	uint64_t trig_last_ns[PSI_NRES + 1], trig_count[PSI_NRES + 1];
	struct psi_reading psi[PSI_NRES];
	int psi_ok;
	struct psi_cgroup cg[CGROUPS_KEPT];
	int n_cg;
	uint64_t cg_next_ns;
	struct ring cnt[CNT_N];
	struct death_key deaths[DEATHS_KEPT];
	size_t deaths_next;
	struct proc_pressure suffering[PROCS_KEPT], causing[PROCS_KEPT];
	uint64_t pressure_records;
	struct baseline *bl;
	int bl_loaded;
	double sig[BL_NSIG]; /* the latest readings */
	struct anomaly anom[ANOMALIES_KEPT];
	size_t n_anom;
	struct integrity integ;
	int integ_err;
	uint64_t spot_next_ns;
	uint32_t activity;
	uint32_t fleet_vaccinated;
	struct weather_inputs in;
	struct json_object *reasons; /* of the current target */
	enum weather_word target;
	uint64_t start_ns, changes;
};

struct baseline *weather_baseline(struct weather *w)
{
	return w->bl;
}

static void ring_add(struct ring *r, uint64_t now_ns, uint32_t n)
{
	uint64_t sec = now_ns / SEC_NS;
	size_t i = sec % RING_SECS;

	if (r->sec[i] != sec) {
		r->sec[i] = sec;
		r->n[i] = 0;
	}
	r->n[i] += n;
}

/* Events in the last secs seconds (the current one included). */
static uint64_t ring_sum(const struct ring *r, uint64_t now_ns, unsigned int secs)
{
	uint64_t sec = now_ns / SEC_NS, sum = 0;
	size_t i;

	for (i = 0; i < RING_SECS; i++)
		if (r->sec[i] + secs > sec && r->sec[i] <= sec)
			sum += r->n[i];
	return sum;
}

static void weather_params_clamp(struct weather_params *p)
{
	/* The kernel refuses windows that are not 2 s multiples without
	 * CAP_SYS_RESOURCE, and any outside 0.5 .. 10 s. */
	if (p->trigger_window_us < 2000000)
		p->trigger_window_us = 2000000;
	p->trigger_window_us -= p->trigger_window_us % 2000000;
	if (p->trigger_window_us > 10000000)
		p->trigger_window_us = 10000000;
	if (!p->trigger_stall_us || p->trigger_stall_us > p->trigger_window_us)
		p->trigger_stall_us = p->trigger_window_us / 10;
}

/* A PSI trigger fired: the weather takes note (weather_tick reads it). */
static int on_trigger(struct watch *wt, uint32_t events)
{
	struct weather *w = wt->ctx;
	int r = (int)(wt - w->trig_w);

	(void)events;
	w->trig_last_ns[r] = clock_mono_ns();
	w->trig_count[r]++;
	return 0;
}

static void triggers_close(struct weather *w)
{
	int r;

	for (r = 0; r <= TRIG_CROWD; r++) {
		if (w->trig_fd[r] >= 0) {
			if (w->loop)
				watch_del(w->loop, &w->trig_w[r]);
			close(w->trig_fd[r]);
		}
		w->trig_fd[r] = -EBADF;
	}
}

static void triggers_open(struct weather *w)
{
	char path[PATH_MAX];
	int r;

	triggers_close(w);
	if (!w->loop)
		return;
	for (r = 0; r <= TRIG_CROWD; r++) {
		int crowd = r == TRIG_CROWD, fd;

		psi_path(w->psi_dir, crowd ? PSI_CPU : r, path, sizeof(path));
		fd = psi_trigger_open(path, "some",
				      crowd ? w->p.trigger_window_us / 2 : w->p.trigger_stall_us,
				      w->p.trigger_window_us);
		if (fd < 0)
			continue;
		if (watch_add(w->loop, &w->trig_w[r], fd, EPOLLPRI, on_trigger, w)) {
			close(fd);
			continue;
		}
		w->trig_fd[r] = fd;
	}
}

int weather_init(struct weather **wp, const struct weather_conf *c, const char *state_dir,
		 struct evloop *loop, const char *const *protected, size_t n_protected)
{
	struct weather *w;
	char path[PATH_MAX];
	int r;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->bl = malloc(sizeof(*w->bl));
	w->reasons = json_object_new_array();
	if (!w->bl || !w->reasons) {
		free(w->bl);
		json_object_put(w->reasons);
		free(w);
		return -ENOMEM;
	}
	weather_params_from_conf(&w->p, c);
	weather_params_clamp(&w->p);
	w->loop = loop;
	for (r = 0; r <= TRIG_CROWD; r++) {
		w->trig_fd[r] = -EBADF;
		watch_init(&w->trig_w[r]);
	}
	snprintf(w->psi_dir, sizeof(w->psi_dir), "/proc/pressure");
	w->cg_root = psi_cgroup_root();
	w->start_ns = 0;
	for (r = 0; r < BL_NSIG; r++)
		w->sig[r] = NAN;

	baseline_init(w->bl, w->p.baseline_alpha, w->p.baseline_min_weeks);
	/* At one reading a second, a slot needs half its length watched. */
	w->bl->min_samples = BL_SLOT_SECONDS / 2;
	if (state_dir) {
		mkdir(state_dir, 0700);
		snprintf(path, sizeof(path), "%s/baseline", state_dir);
		w->baseline_path = strdup(path);
		if (w->baseline_path && !baseline_load(w->bl, w->baseline_path))
			w->bl_loaded = 1;
		snprintf(path, sizeof(path), "%s/integrity", state_dir);
		w->integ_err = integrity_init(&w->integ, path, protected, n_protected);
	} else {
		w->integ_err = -ENOENT;
	}
	triggers_open(w);
	*wp = w;
	return 0;
}

int weather_save(struct weather *w)
{
	if (!w || !w->baseline_path)
		return 0;
	return baseline_save(w->bl, w->baseline_path);
}

void weather_free(struct weather *w)
{
	if (!w)
		return;
	weather_save(w);
	triggers_close(w);
	integrity_free(&w->integ);
	json_object_put(w->reasons);
	free(w->baseline_path);
	free(w->bl);
	free(w);
}

void weather_set_conf(struct weather *w, const struct weather_conf *c)
{
	struct weather_params p;

	weather_params_from_conf(&p, c);
	weather_set_params(w, &p);
}

void weather_set_params(struct weather *w, const struct weather_params *p)
{
	int rearm = p->trigger_stall_us != w->p.trigger_stall_us ||
		    p->trigger_window_us != w->p.trigger_window_us;

	w->p = *p;
	weather_params_clamp(&w->p);
	w->bl->alpha = w->p.baseline_alpha > 0 && w->p.baseline_alpha <= 1 ? w->p.baseline_alpha
									   : 0.3;
	w->bl->min_weeks = w->p.baseline_min_weeks ? w->p.baseline_min_weeks : 1;
	if (rearm)
		triggers_open(w);
}

void weather_set_psi_dir(struct weather *w, const char *dir)
{
	snprintf(w->psi_dir, sizeof(w->psi_dir), "%s", dir);
	triggers_open(w);
}

void weather_set_activity(struct weather *w, uint32_t n)
{
	w->activity = n;
}

void weather_set_fleet(struct weather *w, uint32_t n)
{
	w->fleet_vaccinated = n;
}

/* Keep the PROCS_KEPT highest scores of the last minute in list[]. */
static void procs_keep(struct proc_pressure *list, const struct proc_pressure *p, uint64_t now_ns)
{
	size_t i, worst = 0;

	for (i = 0; i < PROCS_KEPT; i++) {
		if (list[i].pid == p->pid) { /* the same process: newest figures */
			if (list[i].ts_ns <= p->ts_ns)
				list[i] = *p;
			return;
		}
	}
	for (i = 0; i < PROCS_KEPT; i++) {
		if (!list[i].pid || list[i].ts_ns + PRESSURE_KEEP_NS < now_ns) {
			worst = i;
			break;
		}
		if (list[i].score < list[worst].score)
			worst = i;
	}
	if (!list[worst].pid || list[worst].ts_ns + PRESSURE_KEEP_NS < now_ns ||
	    list[worst].score < p->score)
		list[worst] = *p;
}

static void on_pressure(struct weather *w, const struct lymph_pressure *pr, uint64_t now_ns)
{
	struct proc_pressure p;
	double iv = pr->interval_ns ? (double)pr->interval_ns : 1.0;

	memset(&p, 0, sizeof(p));
	p.ts_ns = pr->hdr.ts_ns ? pr->hdr.ts_ns : now_ns;
	p.pid = pr->task.pid;
	p.uid = pr->task.uid;
	p.cgroup_id = pr->task.cgroup_id;
	memcpy(p.comm, pr->task.comm, LYMPH_COMM_LEN);
	p.comm[LYMPH_COMM_LEN - 1] = 0;
	p.runq_pct = 100.0 * (double)pr->runq_delay_ns / iv;
	p.reclaim_pct = 100.0 * (double)pr->reclaim_delay_ns / iv;
	p.rss_kb = pr->rss_kb;
	p.rss_delta_kb = pr->rss_delta_kb;
	p.maj_flt = pr->maj_flt;
	w->pressure_records++;
	/* Suffering: waiting for a CPU or for memory. */
	p.score = p.runq_pct + p.reclaim_pct;
	if (p.score > 0)
		procs_keep(w->suffering, &p, now_ns);
	/* Causing: growing its resident set, faulting pages in. */
	p.score = (double)(pr->rss_delta_kb > 0 ? pr->rss_delta_kb : 0) + 4.0 * (double)pr->maj_flt;
	if (p.score > 0)
		procs_keep(w->causing, &p, now_ns);
}

void weather_add_forks(struct weather *w, uint64_t n, uint64_t now_ns)
{
	ring_add(&w->cnt[CNT_FORK], now_ns, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
}

void weather_on_record(struct weather *w, const struct lymph_hdr *rec, int danger, uint64_t now_ns)
{
	uint64_t t = now_ns;

	switch (rec->kind) {
	case LYMPH_EV_FORK: ring_add(&w->cnt[CNT_FORK], t, 1); break;
	case LYMPH_EV_EXEC: ring_add(&w->cnt[CNT_EXEC], t, 1); break;
	case LYMPH_EV_OOM: ring_add(&w->cnt[CNT_OOM], t, 1); break;
	case LYMPH_EV_DEATH:
		if (danger) {
			const struct lymph_death *d = (const void *)rec;
			struct death_key *k = &w->deaths[w->deaths_next++ % DEATHS_KEPT];

			ring_add(&w->cnt[CNT_DANGER], t, 1);
			k->dev = d->task.exe_dev;
			k->ino = d->task.exe_ino;
			k->ts_ns = t;
		}
		break;
	case LYMPH_EV_PRESSURE:
		if (rec->size >= sizeof(struct lymph_pressure))
			on_pressure(w, (const void *)rec, now_ns);
		break;
	}
}

void weather_prefault(struct weather *w)
{
	if (!w)
		return;
	mem_prefault(w->cnt, sizeof(w->cnt));
	mem_prefault(&w->deaths[w->deaths_next % DEATHS_KEPT], sizeof(w->deaths[0]));
	mem_prefault(&w->deaths_next, sizeof(w->deaths_next)); /* 6 KiB further */
}

/* Entropy of which binaries died badly in the last 5 minutes; NaN when
 * fewer than ENTROPY_MIN_DEATHS died (no distribution to speak of). */
static double crash_entropy(const struct weather *w, uint64_t now_ns)
{
	struct death_key keys[DEATHS_KEPT];
	uint64_t counts[DEATHS_KEPT];
	size_t i, j, nk = 0, total = 0;

	for (i = 0; i < DEATHS_KEPT; i++) {
		const struct death_key *d = &w->deaths[i];

		if (!d->ts_ns || d->ts_ns + ENTROPY_WINDOW_NS < now_ns)
			continue;
		total++;
		for (j = 0; j < nk; j++)
			if (keys[j].dev == d->dev && keys[j].ino == d->ino)
				break;
		if (j == nk) {
			keys[nk++] = *d;
			counts[j] = 0;
		}
		counts[j]++;
	}
	if (total < ENTROPY_MIN_DEATHS)
		return NAN;
	return entropy_bits(counts, nk);
}

/* Tasks alive: the fourth field of /proc/loadavg ("running/total"). */
static double tasks_alive(void)
{
	unsigned long running, total;
	double a, b, c;
	char buf[128];
	ssize_t len;
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NAN;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return NAN;
	buf[len] = 0;
	if (sscanf(buf, "%lf %lf %lf %lu/%lu", &a, &b, &c, &running, &total) != 5)
		return NAN;
	return (double)total;
}

static int64_t local_offset(int64_t wall_s)
{
	time_t t = (time_t)wall_s;
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return tm.tm_gmtoff;
}

/* A figure for people: six significant digits, not 99.359999999999999. */
static struct json_object *jnum(double v)
{
	char buf[32];

	if (!isfinite(v))
		return NULL;
	snprintf(buf, sizeof(buf), "%.6g", v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *inputs_json(const struct weather *w, uint64_t now_ns)
{
	struct json_object *o = json_object_new_object(), *psi = json_object_new_object();
	int r;

	for (r = 0; r < PSI_NRES; r++) {
		struct json_object *p = json_object_new_object();
		const struct psi_reading *rd = &w->psi[r];

		if (!rd->some.valid) {
			json_object_object_add(psi, psi_res_name(r), NULL);
			json_object_put(p);
			continue;
		}
		json_object_object_add(p, "some_avg10", jnum(rd->some.avg10));
		json_object_object_add(p, "some_avg60", jnum(rd->some.avg60));
		json_object_object_add(p, "some_avg300", jnum(rd->some.avg300));
		if (rd->full.valid)
			json_object_object_add(p, "full_avg10", jnum(rd->full.avg10));
		json_object_object_add(p, "trigger", json_object_new_boolean(w->in.psi_trigger[r]));
		json_object_object_add(p, "trigger_firings",
				       json_object_new_uint64(w->trig_count[r]));
		if (r == PSI_CPU)
			json_object_object_add(p, "crowd_firings",
					       json_object_new_uint64(w->trig_count[TRIG_CROWD]));
		json_object_object_add(psi, psi_res_name(r), p);
	}
	json_object_object_add(o, "psi", psi);
	json_object_object_add(o, "danger_per_min", jnum(w->in.danger_per_min));
	json_object_object_add(o, "forks_per_s", jnum(w->sig[BL_FORKS]));
	json_object_object_add(o, "execs_per_s", jnum(w->sig[BL_EXECS]));
	json_object_object_add(o, "oom_per_min", jnum(w->sig[BL_OOM]));
	json_object_object_add(o, "tasks", jnum(w->sig[BL_PROCS]));
	json_object_object_add(o, "crash_entropy_bits", jnum(w->sig[BL_CRASH_ENTROPY]));
	json_object_object_add(o, "anomalies_dev2", json_object_new_int64(w->in.anomalies_dev2));
	json_object_object_add(o, "anomalies_dev3", json_object_new_int64(w->in.anomalies_dev3));
	json_object_object_add(o, "integrity_changed",
			       json_object_new_int64(w->in.integrity_changed));
	json_object_object_add(o, "activity", json_object_new_int64(w->in.activity));
	(void)now_ns;
	return o;
}

static struct json_object *factors_json(const struct weather *w)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "clone_budget", jnum(weather_budget_factor(w)));
	json_object_object_add(o, "restart_backoff", jnum(weather_backoff_factor(w)));
	json_object_object_add(o, "quarantine_threshold", jnum(weather_quarantine_factor(w)));
	json_object_object_add(o, "spot_check_interval_s",
			       jnum((double)weather_spot_interval_ns(w) / 1e9));
	return o;
}

int weather_tick(struct weather *w, uint64_t now_ns, int64_t wall_s, struct json_object **why,
		 struct json_object **events)
{
	struct json_object *change = NULL;
	int64_t local = wall_s + local_offset(wall_s);
	size_t i;
	int r;

	*why = NULL;
	if (events)
		*events = NULL;
	if (!w->start_ns)
		w->start_ns = now_ns ? now_ns : 1;

	/* Pressure: the system averages, the cgroups now and then. */
	{
		/* A trigger's descriptor is the pressure file, open: it is read
		 * again from the start (no descriptor more: lymphd may run with
		 * few, see quarantine_test); the others are opened for this read. */
		int fds[PSI_NRES];

		for (r = 0; r < PSI_NRES; r++)
			fds[r] = w->trig_fd[r];
		w->psi_ok = psi_read_system_fds(w->psi_dir, fds, w->psi) > 0;
		for (r = 0; r < PSI_NRES; r++)
			if (fds[r] >= 0 && fds[r] != w->trig_fd[r])
				close(fds[r]);
	}
	if (w->cg_root && now_ns >= w->cg_next_ns) {
		int n = psi_cgroup_top(w->cg_root, w->cg, CGROUPS_KEPT, 4, 4096, 1.0);

		w->n_cg = n > 0 ? n : 0;
		w->cg_next_ns = now_ns + CGROUP_SCAN_NS;
	}

	/* The signals, as rates over the last minute. */
	w->sig[BL_DANGER] = (double)ring_sum(&w->cnt[CNT_DANGER], now_ns, 60);
	w->sig[BL_FORKS] = (double)ring_sum(&w->cnt[CNT_FORK], now_ns, 60) / 60.0;
	w->sig[BL_EXECS] = (double)ring_sum(&w->cnt[CNT_EXEC], now_ns, 60) / 60.0;
	w->sig[BL_OOM] = (double)ring_sum(&w->cnt[CNT_OOM], now_ns, 60);
	for (r = 0; r < PSI_NRES; r++)
		w->sig[BL_PSI_CPU + r] = w->psi[r].some.valid ? w->psi[r].some.avg10 : NAN;
	w->sig[BL_PROCS] = tasks_alive();
	w->sig[BL_CRASH_ENTROPY] = crash_entropy(w, now_ns);

	/* Rates are not rates until a full minute has been watched. */
	if (now_ns - w->start_ns >= 60 * SEC_NS) {
		if (baseline_observe(w->bl, local, w->sig))
			weather_save(w);
		w->n_anom = baseline_anomalies(w->bl, local, w->sig, w->anom, ANOMALIES_KEPT);
	} else {
		w->n_anom = 0;
	}

	/* A spy: one protected binary, when due and the host is idle (or
	 * when it has waited a whole extra interval for idleness). */
	if (!w->integ_err && w->integ.n && now_ns >= w->spot_next_ns) {
		uint64_t iv = weather_spot_interval_ns(w);
		int idle = (!w->psi[PSI_IO].some.valid ||
			    w->psi[PSI_IO].some.avg10 < w->p.cloudy_psi) &&
			   (!w->psi[PSI_CPU].some.valid ||
			    w->psi[PSI_CPU].some.avg10 < w->p.cloudy_psi);

		if (idle || !w->spot_next_ns || now_ns >= w->spot_next_ns + iv) {
			struct json_object *ev = NULL;

			if (integrity_check_one(&w->integ, (uint64_t)wall_s, &ev) == 1 && ev) {
				json_object_object_add(
					ev, "weather",
					json_object_new_string(weather_name(w->st.word)));
				if (events) {
					if (!*events)
						*events = json_object_new_array();
					json_object_array_add(*events, ev);
				} else {
					json_object_put(ev);
				}
			}
			w->spot_next_ns = now_ns + iv;
		}
	}

	/* The inputs of the decision. */
	memset(&w->in, 0, sizeof(w->in));
	for (r = 0; r < PSI_NRES; r++) {
		w->in.psi_some[r] = w->psi[r].some.valid ? w->psi[r].some.avg10 : 0;
		w->in.psi_full[r] = w->psi[r].full.valid ? w->psi[r].full.avg10 : 0;
		w->in.psi_trigger[r] = w->trig_last_ns[r] &&
				       now_ns - w->trig_last_ns[r] < w->p.trigger_window_us * 1000;
	}
	w->in.danger_per_min = w->sig[BL_DANGER];
	for (i = 0; i < w->n_anom; i++) {
		if (w->anom[i].level >= 3)
			w->in.anomalies_dev3++;
		else
			w->in.anomalies_dev2++;
	}
	w->in.integrity_changed = (uint32_t)integrity_changed(&w->integ);
	w->in.activity = w->activity;
	w->in.fleet_vaccinated = w->fleet_vaccinated;

	json_object_put(w->reasons);
	w->reasons = json_object_new_array();
	w->target = weather_target(&w->p, &w->in, w->st.word, w->reasons);
	if (!weather_step(&w->st, &w->p, &w->in, now_ns, &change))
		return 0;
	w->changes++;
	/* The journal record of the change, with all the evidence. */
	json_object_object_add(change, "type", json_object_new_string("weather"));
	json_object_object_add(change, "action", json_object_new_string("change"));
	json_object_object_add(change, "inputs", inputs_json(w, now_ns));
	json_object_object_add(change, "factors", factors_json(w));
	if (w->n_anom) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < w->n_anom; i++)
			json_object_array_add(a, json_object_new_string(w->anom[i].name));
		json_object_object_add(change, "anomalies", a);
	}
	*why = change;
	return 1;
}

enum weather_word weather_now(const struct weather *w)
{
	return w ? w->st.word : WEATHER_SUNNY;
}

double weather_budget_factor(const struct weather *w)
{
	return w ? w->p.budget_factor[w->st.word] : 1.0;
}

double weather_backoff_factor(const struct weather *w)
{
	return w ? w->p.backoff_factor[w->st.word] : 1.0;
}

double weather_quarantine_factor(const struct weather *w)
{
	return w ? w->p.quarantine_factor[w->st.word] : 1.0;
}

uint64_t weather_spot_interval_ns(const struct weather *w)
{
	return w ? w->p.spot_interval_ns[w->st.word] : 600 * SEC_NS;
}

static struct json_object *procs_json(const struct proc_pressure *list, uint64_t now_ns)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < PROCS_KEPT; i++) {
		const struct proc_pressure *p = &list[i];
		struct json_object *o;

		if (!p->pid || p->ts_ns + PRESSURE_KEEP_NS < now_ns)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int64(p->pid));
		json_object_object_add(o, "comm", json_object_new_string(p->comm));
		json_object_object_add(o, "uid", json_object_new_int64(p->uid));
		json_object_object_add(o, "cgroup_id", json_object_new_uint64(p->cgroup_id));
		json_object_object_add(o, "runq_delay_pct", jnum(p->runq_pct));
		json_object_object_add(o, "reclaim_delay_pct", jnum(p->reclaim_pct));
		json_object_object_add(o, "rss_kb", json_object_new_uint64(p->rss_kb));
		json_object_object_add(o, "rss_delta_kb", json_object_new_int64(p->rss_delta_kb));
		json_object_object_add(o, "maj_flt", json_object_new_uint64(p->maj_flt));
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *weather_json(const struct weather *w, uint64_t now_ns)
{
	struct json_object *o = json_object_new_object(), *a, *pr, *missing, *bl;
	size_t i, trusted = 0;
	int r;

	json_object_object_add(o, "word", json_object_new_string(weather_name(w->st.word)));
	json_object_object_add(o, "since_s",
			       jnum(w->st.since_ns && now_ns > w->st.since_ns
					    ? (double)(now_ns - w->st.since_ns) / 1e9
				    : w->start_ns && now_ns > w->start_ns
					    ? (double)(now_ns - w->start_ns) / 1e9
					    : 0.0));
	json_object_object_add(o, "heading", json_object_new_string(weather_name(w->target)));
	json_object_object_add(o, "reasons", json_object_get(w->reasons));
	json_object_object_add(o, "inputs", inputs_json(w, now_ns));
	a = json_object_new_array();
	for (i = 0; i < w->n_anom; i++) {
		struct json_object *an = json_object_new_object();

		json_object_object_add(an, "name", json_object_new_string(w->anom[i].name));
		json_object_object_add(an, "value", jnum(w->anom[i].value));
		json_object_object_add(an, "mean", jnum(w->anom[i].mean));
		json_object_object_add(an, "sigma", jnum(w->anom[i].sigma));
		json_object_object_add(an, "z", jnum(w->anom[i].z));
		json_object_array_add(a, an);
	}
	json_object_object_add(o, "anomalies", a);

	pr = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; i < (size_t)w->n_cg; i++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "cgroup", json_object_new_string(w->cg[i].path));
		for (r = 0; r < PSI_NRES; r++)
			json_object_object_add(c, psi_res_name(r), jnum(w->cg[i].some_avg10[r]));
		json_object_array_add(a, c);
	}
	json_object_object_add(pr, "cgroups", a);
	json_object_object_add(pr, "suffering", procs_json(w->suffering, now_ns));
	json_object_object_add(pr, "causing", procs_json(w->causing, now_ns));
	json_object_object_add(o, "pressure", pr);
	json_object_object_add(o, "factors", factors_json(w));
	if (!w->integ_err)
		json_object_object_add(o, "integrity", integrity_json(&w->integ));

	bl = json_object_new_object();
	for (r = 0; r < BL_NSIG; r++)
		trusted += baseline_trusted(w->bl, r);
	json_object_object_add(bl, "trusted_slots", json_object_new_uint64(trusted));
	json_object_object_add(bl, "slots", json_object_new_uint64((uint64_t)BL_SLOTS * BL_NSIG));
	json_object_object_add(bl, "min_weeks", json_object_new_int64(w->bl->min_weeks));
	json_object_object_add(bl, "loaded", json_object_new_boolean(w->bl_loaded));
	json_object_object_add(o, "baseline", bl);

	missing = json_object_new_array();
	if (!w->psi_ok)
		json_object_array_add(
			missing, json_object_new_string("PSI (/proc/pressure): no pressure input"));
	else if (w->loop && w->trig_fd[PSI_CPU] < 0 && w->trig_fd[PSI_MEMORY] < 0 &&
		 w->trig_fd[PSI_IO] < 0)
		json_object_array_add(missing,
				      json_object_new_string("PSI triggers: averages only"));
	if (!w->cg_root)
		json_object_array_add(missing,
				      json_object_new_string("cgroup v2: no per-cgroup pressure"));
	if (!w->pressure_records)
		json_object_array_add(
			missing,
			json_object_new_string(
				"per-process pressure: no pressure records from the sensors (lymph.ko)"));
	json_object_object_add(o, "missing", missing);
	return o;
}

uint64_t weather_cpu_crowded(const struct weather *w)
{
	return w ? w->trig_count[TRIG_CROWD] : 0;
}

void weather_figures(const struct weather *w, struct weather_figures *f)
{
	int r;

	memset(f, 0, sizeof(*f));
	f->word = w->st.word;
	for (r = 0; r < PSI_NRES; r++) {
		f->psi_some[r] = w->psi[r].some.valid ? w->psi[r].some.avg10 : NAN;
		f->psi_full[r] = w->psi[r].full.valid ? w->psi[r].full.avg10 : NAN;
		f->psi_triggers[r] = w->trig_count[r];
	}
	f->n_anomalies = w->n_anom;
	f->anomalies = w->anom;
	f->changes = w->changes;
	f->integrity_checks = w->integ.checks;
	f->integrity_mismatches = w->integ.mismatches;
	f->integrity_changed = integrity_changed(&w->integ);
	f->budget_factor = weather_budget_factor(w);
	f->backoff_factor = weather_backoff_factor(w);
	f->quarantine_factor = weather_quarantine_factor(w);
}
