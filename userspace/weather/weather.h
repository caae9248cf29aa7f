/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The system weather (Burgess, "Computer Immunology", 1998): one word for
 * how the host is doing, computed from averages rather than single events,
 * and fed back into every threshold lymph acts on.
 *
 *   sunny      healthy: few spies (rare spot checks), normal thresholds
 *   cloudy     low on resources: CPU, memory or I/O pressure (PSI)
 *   unsettled  not the state we expect: anomalies against the weekly
 *              baseline, danger deaths rising, a protected binary changed
 *   stormy     lymph is responding: restarts, throttles, quarantines in
 *              progress, or a crash rate past stormy_danger_per_min
 *
 * Worse weather comes at once; better weather only after the inputs have
 * been better for calm_hold, one word at a time, and thresholds have a
 * band (a PSI of cloudy_psi makes it cloudy, it clears below
 * cloudy_psi * clear_ratio), so the word does not flap.
 *
 * The decision (weather_target, weather_step) and the factors are pure;
 * struct weather adds the edges: PSI files and triggers, the baseline file,
 * the integrity database.  See doc/weather.md.
 */
#ifndef LYMPH_WEATHER_H
#define LYMPH_WEATHER_H

#include <stdint.h>
#include <stdio.h>
#include "baseline.h"
#include "config.h"
#include "lymph/events.h"
#include "psi.h"

struct json_object;

enum weather_word {
	WEATHER_SUNNY,
	WEATHER_CLOUDY,
	WEATHER_UNSETTLED,
	WEATHER_STORMY,
	WEATHER_NWORDS
};

/*
 * Everything the weather is tuned by.  The [weather] policy section sets
 * some (weather_params_from_conf); the rest are defaults until the policy
 * has keys for them.
 */
struct weather_params {
	double cloudy_psi;	/* some avg10 %, any resource */
	double cloudy_psi_full; /* full avg10 %, memory or io */
	double clear_ratio;	/* a threshold clears below threshold * this */
	double unsettled_danger_per_min;
	double stormy_danger_per_min;
	uint32_t unsettled_dev2; /* this many 2-sigma anomalies at once... */
	uint32_t unsettled_dev3; /* ...or this many 3-sigma ones */
	uint64_t calm_hold_ns;	 /* better inputs must last this long */
	/* feedback, per word */
	double budget_factor[WEATHER_NWORDS];	  /* <= 1 */
	double backoff_factor[WEATHER_NWORDS];	  /* >= 1 */
	double quarantine_factor[WEATHER_NWORDS]; /* <= 1 */
	uint64_t spot_interval_ns[WEATHER_NWORDS];
	/* PSI triggers: stall within window, us; window a multiple of 2 s */
	uint64_t trigger_stall_us, trigger_window_us;
	/* baselines */
	double baseline_alpha;
	uint32_t baseline_min_weeks;
};

void weather_params_default(struct weather_params *p);
void weather_params_from_conf(struct weather_params *p, const struct weather_conf *c);

/* What the weather is computed from, at one instant. */
struct weather_inputs {
	double psi_some[PSI_NRES]; /* avg10, % */
	double psi_full[PSI_NRES];
	int psi_trigger[PSI_NRES]; /* a trigger fired within its window */
	double danger_per_min;	   /* over the last minute */
	uint32_t anomalies_dev2, anomalies_dev3;
	uint32_t integrity_changed;
	uint32_t activity;	   /* responses in progress (restarts, throttles, ...) */
	uint32_t fleet_vaccinated; /* binaries the fleet marks bad, present here */
};

/* The hysteresis state. */
struct weather_state {
	enum weather_word word;
	uint64_t since_ns;	  /* when word began */
	uint64_t better_since_ns; /* inputs pointed to better weather since, 0: not */
};

/*
 * The word the inputs point to, given the current word (thresholds have a
 * band that depends on it).  Reasons (strings) are appended to reasons
 * when it is not NULL.  Pure.
 */
enum weather_word weather_target(const struct weather_params *p, const struct weather_inputs *in,
				 enum weather_word cur, struct json_object *reasons);

/*
 * One step of the state machine at now: returns 1 when the word changed,
 * and then *why (if not NULL) gets {"from","to","reasons"}.  Pure.
 */
int weather_step(struct weather_state *s, const struct weather_params *p,
		 const struct weather_inputs *in, uint64_t now_ns, struct json_object **why);

const char *weather_name(enum weather_word w);

/* ---- the weather station: struct weather owns fds, baselines, state ------ */

struct weather;

/*
 * state_dir (/var/lib/lymph) holds the baselines and the integrity
 * database; protected[] are the binaries to spot-check (absolute paths).
 * The PSI trigger fds are watched by loop (EPOLLPRI; NULL: no triggers).
 * Returns 0 or -errno; a host without PSI or libcrypto still gets a weather
 * (it says what it lacks in weather_json's "missing").
 */
struct evloop;
int weather_init(struct weather **w, const struct weather_conf *c, const char *state_dir,
		 struct evloop *loop, const char *const *protected, size_t n_protected);
void weather_free(struct weather *w);

/* A new policy (lymphctl reload). */
void weather_set_conf(struct weather *w, const struct weather_conf *c);
/* Tests: every parameter, and where the PSI files are ("/proc/pressure", or
 * a cgroup directory to take one cgroup's pressure as the weather's). */
void weather_set_params(struct weather *w, const struct weather_params *p);
void weather_set_psi_dir(struct weather *w, const char *dir);

/* Every record lymphd handles; danger: the death was classed danger. */
void weather_on_record(struct weather *w, const struct lymph_hdr *rec, int danger, uint64_t now_ns);
/* n forks counted by the sensors (not each a record), as of now_ns. */
void weather_add_forks(struct weather *w, uint64_t n, uint64_t now_ns);

/* The counts and the slot of the next danger death that weather_on_record
 * writes, resident again after lymphd gave back its zero pages
 * (lib/memtrim.h): else the first crash after it takes their faults. */
void weather_prefault(struct weather *w);

/* Responses lymph has in progress (restarts pending, throttles, quarantines). */
void weather_set_activity(struct weather *w, uint32_t n);

/* Binaries the fleet vaccinated this host against: at least unsettled. */
void weather_set_fleet(struct weather *w, uint32_t n);

/*
 * About once a second.  Reads PSI, updates baselines and anomalies, checks
 * one protected binary when one is due and the host is idle, and steps the
 * state machine.  Returns 1 when the word changed; *why then gets a journal
 * record (type "weather", from, to, reasons, inputs).  *events gets
 * integrity events to journal (an array, NULL when none).  The caller owns
 * both.
 */
int weather_tick(struct weather *w, uint64_t now_ns, int64_t wall_s, struct json_object **why,
		 struct json_object **events);

enum weather_word weather_now(const struct weather *w);
double weather_budget_factor(const struct weather *w);
double weather_backoff_factor(const struct weather *w);
double weather_quarantine_factor(const struct weather *w);
uint64_t weather_spot_interval_ns(const struct weather *w);

/* word, since, reasons, inputs, anomalies, pressure (system, cgroups,
 * processes), factors, integrity, baseline learning progress. */
struct json_object *weather_json(const struct weather *w, uint64_t now_ns);

/* Figures for the metrics exposition. */
struct weather_figures {
	enum weather_word word;
	double psi_some[PSI_NRES], psi_full[PSI_NRES];
	uint64_t psi_triggers[PSI_NRES]; /* trigger firings since start */
	size_t n_anomalies;
	const struct anomaly *anomalies;
	uint64_t changes; /* word changes since start */
	uint64_t integrity_checks, integrity_mismatches;
	size_t integrity_changed;
	double budget_factor, backoff_factor, quarantine_factor;
};
void weather_figures(const struct weather *w, struct weather_figures *f);

/* How often, since start, the CPU stalled half of a trigger window (2 s):
 * a crowd that outnumbers the CPUs and spins; lymphd then has refused
 * forks sampled (kthrottle_pressure). */
uint64_t weather_cpu_crowded(const struct weather *w);

/* Save the baselines now (lymphd stopping); also done at every slot. */
int weather_save(struct weather *w);

/* The station's weekly baselines (for tests and status). */
struct baseline *weather_baseline(struct weather *w);

#endif
