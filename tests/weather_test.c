// SPDX-License-Identifier: GPL-2.0-only
/*
 * The weather (userspace/weather.c), without root: the pure decision and
 * its hysteresis, then the whole station fed with synthetic records and
 * fake PSI files on a simulated clock: pressure makes it cloudy and it
 * clears, a crash burst makes it unsettled then stormy, responses make it
 * stormy, a changed protected binary makes it unsettled, and the feedback
 * factors tighten the policy (clone budget, restart backoff, quarantine
 * threshold, spot-check interval) in bad weather.
 *
 * weather.c and what it uses are not in the Makefile's CORE_SRCS yet:
 * they are included here.
 */
#include <sys/epoll.h>
#include <sys/sysinfo.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "clock.h"
#include "psi.h"
#include "baseline.h"
#include "integrity.h"
#include "weather.h"
#include "config.h"
#include "evloop.h"
#include "loadcg.h"

#define SEC   1000000000ULL
#define T0    (1000 * SEC)
#define WALL0 1793577600LL

static struct weather_params params(void)
{
	struct weather_params p;

	weather_params_default(&p);
	return p;
}

static bool have_libcrypto_for_tests(void)
{
	return integrity_can_hash();
}

static bool has_reason(struct json_object *reasons, const char *needle)
{
	size_t i;

	for (i = 0; reasons && i < json_object_array_length(reasons); i++)
		if (strstr(json_object_get_string(json_object_array_get_idx(reasons, i)), needle))
			return true;
	return false;
}

TEST(target_from_inputs)
{
	struct weather_params p = params();
	struct weather_inputs in = { 0 };
	struct json_object *r = json_object_new_array();

	EXPECT_EQ((int)WEATHER_SUNNY, (int)(weather_target(&p, &in, WEATHER_SUNNY, r)));
	EXPECT_EQ(0u, json_object_array_length(r));

	in.psi_some[PSI_IO] = 12;
	EXPECT_EQ((int)WEATHER_CLOUDY, (int)(weather_target(&p, &in, WEATHER_SUNNY, r)));
	EXPECT_TRUE(has_reason(r, "io pressure"));
	in = (struct weather_inputs){ 0 };
	in.psi_full[PSI_MEMORY] = 6;
	EXPECT_EQ((int)WEATHER_CLOUDY, (int)(weather_target(&p, &in, WEATHER_SUNNY, NULL)));
	in = (struct weather_inputs){ 0 };
	in.psi_trigger[PSI_CPU] = 1;
	EXPECT_EQ((int)WEATHER_CLOUDY, (int)(weather_target(&p, &in, WEATHER_SUNNY, NULL)));

	in = (struct weather_inputs){ 0 };
	in.danger_per_min = 6;
	EXPECT_EQ((int)WEATHER_UNSETTLED, (int)(weather_target(&p, &in, WEATHER_SUNNY, NULL)));
	in.danger_per_min = 31;
	EXPECT_EQ((int)WEATHER_STORMY, (int)(weather_target(&p, &in, WEATHER_SUNNY, NULL)));

	in = (struct weather_inputs){ 0 };
	in.anomalies_dev2 = 1; /* one 2-sigma deviation is weather, not news */
	EXPECT_EQ((int)WEATHER_SUNNY, (int)(weather_target(&p, &in, WEATHER_SUNNY, NULL)));
	in.anomalies_dev2 = 2;
	EXPECT_EQ((int)WEATHER_UNSETTLED, (int)(weather_target(&p, &in, WEATHER_SUNNY, NULL)));
	in = (struct weather_inputs){ 0 };
	in.anomalies_dev3 = 1;
	EXPECT_EQ((int)WEATHER_UNSETTLED, (int)(weather_target(&p, &in, WEATHER_SUNNY, NULL)));
	in = (struct weather_inputs){ 0 };
	in.integrity_changed = 1;
	EXPECT_EQ((int)WEATHER_UNSETTLED, (int)(weather_target(&p, &in, WEATHER_SUNNY, NULL)));

	/* Responding beats everything; every reason is listed. */
	in.activity = 3;
	in.psi_some[PSI_MEMORY] = 40;
	json_object_put(r);
	r = json_object_new_array();
	EXPECT_EQ((int)WEATHER_STORMY, (int)(weather_target(&p, &in, WEATHER_SUNNY, r)));
	EXPECT_TRUE(has_reason(r, "responding: 3 actions"));
	EXPECT_TRUE(has_reason(r, "protected binary changed"));
	EXPECT_TRUE(has_reason(r, "memory pressure"));
	json_object_put(r);
}

TEST(hysteresis_band_and_hold)
{
	struct weather_params p = params();
	struct weather_state s = { 0 };
	struct weather_inputs in = { 0 };
	struct json_object *why = NULL;
	uint64_t t = T0;
	int i, changes = 0;

	/* Worse at once, with its reasons. */
	in.psi_some[PSI_CPU] = 12;
	ASSERT_EQ(1, weather_step(&s, &p, &in, t, &why));
	EXPECT_EQ((int)WEATHER_CLOUDY, (int)(s.word));
	EXPECT_STREQ("sunny", json_object_get_string(th_json_get(why, "from")));
	EXPECT_STREQ("cloudy", json_object_get_string(th_json_get(why, "to")));
	EXPECT_TRUE(has_reason(th_json_get(why, "reasons"), "cpu pressure"));
	json_object_put(why);

	/* Inside the band (7..10 %): still cloudy, however long. */
	in.psi_some[PSI_CPU] = 8;
	for (i = 0; i < 600; i++)
		changes += weather_step(&s, &p, &in, t += SEC, NULL);
	EXPECT_EQ(0, changes);
	EXPECT_EQ((int)WEATHER_CLOUDY, (int)(s.word));

	/* Clear: not before calm_hold (30 s), then sunny. */
	in.psi_some[PSI_CPU] = 2;
	for (i = 0; i < 29; i++)
		changes += weather_step(&s, &p, &in, t += SEC, NULL);
	EXPECT_EQ(0, changes);
	for (i = 0; i < 3; i++)
		changes += weather_step(&s, &p, &in, t += SEC, NULL);
	EXPECT_EQ(1, changes);
	EXPECT_EQ((int)WEATHER_SUNNY, (int)(s.word));

	/* A reading that flaps around the threshold every few seconds
	 * changes the word once, not every time. */
	changes = 0;
	for (i = 0; i < 300; i++) {
		in.psi_some[PSI_CPU] = (i / 5) % 2 ? 11 : 6;
		changes += weather_step(&s, &p, &in, t += SEC, NULL);
	}
	EXPECT_EQ(1, changes);
	EXPECT_EQ((int)WEATHER_CLOUDY, (int)(s.word));
}

TEST(calms_one_word_at_a_time)
{
	struct weather_params p = params();
	struct weather_state s = { 0 };
	struct weather_inputs in = { 0 };
	struct json_object *why = NULL;
	uint64_t t = T0;
	int i;

	in.activity = 1;
	ASSERT_EQ(1, weather_step(&s, &p, &in, t, NULL));
	EXPECT_EQ((int)WEATHER_STORMY, (int)(s.word));
	in.activity = 0;
	/* stormy -> unsettled -> cloudy -> sunny, calm_hold apart */
	for (i = 0; i < 200 && s.word != WEATHER_SUNNY; i++) {
		enum weather_word before = s.word;

		if (weather_step(&s, &p, &in, t += SEC, &why)) {
			EXPECT_EQ((int)before - 1, (int)s.word);
			EXPECT_TRUE(has_reason(th_json_get(why, "reasons"), "calmer"));
			json_object_put(why);
			why = NULL;
		}
	}
	EXPECT_EQ((int)WEATHER_SUNNY, (int)(s.word));
	EXPECT_GE(i, 90); /* three holds of 30 s */
	EXPECT_LE(i, 96);
}

TEST(factors_from_policy)
{
	struct weather_params p;
	struct policy pol;

	policy_defaults(&pol);
	pol.weather.budget_factor_stormy = 0.25;
	pol.weather.backoff_factor_stormy = 4;
	weather_params_from_conf(&p, &pol.weather);
	EXPECT_EQ(1.0, p.budget_factor[WEATHER_SUNNY]);
	EXPECT_EQ(0.25, p.budget_factor[WEATHER_STORMY]);
	EXPECT_EQ(4.0, p.backoff_factor[WEATHER_STORMY]);
	/* Bad weather never loosens: nonsense from a policy is ignored. */
	pol.weather.budget_factor_stormy = 3;
	pol.weather.backoff_factor_stormy = 0.1;
	weather_params_from_conf(&p, &pol.weather);
	EXPECT_LE(p.budget_factor[WEATHER_STORMY], 1.0);
	EXPECT_GE(p.backoff_factor[WEATHER_STORMY], 1.0);
	policy_free(&pol);
}

/* ---- the station -------------------------------------------------------- */

FIXTURE(station)
{
	char dir[256], psi[300], state[300], bin[300];
	struct weather *w;
	struct policy pol;
	uint64_t t;
};

static int set_psi(const char *dir, const char *res, double some, double full)
{
	char p[400];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, res);
	f = fopen(p, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"some avg10=%.2f avg60=0.00 avg300=0.00 total=0\n"
		"full avg10=%.2f avg60=0.00 avg300=0.00 total=0\n",
		some, full);
	return fclose(f) ? -errno : 0;
}

FIXTURE_SETUP(station)
{
	const char *prot[1];

	self->w = NULL;
	policy_defaults(&self->pol);
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "weather"));
	snprintf(self->psi, sizeof(self->psi), "%s/pressure", self->dir);
	snprintf(self->state, sizeof(self->state), "%s/state", self->dir);
	snprintf(self->bin, sizeof(self->bin), "%s/protected-bin", self->dir);
	ASSERT_EQ(0, mkdir(self->psi, 0755));
	ASSERT_EQ(0, set_psi(self->psi, "cpu", 0, 0));
	ASSERT_EQ(0, set_psi(self->psi, "memory", 0, 0));
	ASSERT_EQ(0, set_psi(self->psi, "io", 0, 0));
	ASSERT_EQ(0, th_copy_file("/bin/true", self->bin, 0755));
	prot[0] = self->bin;
	/* No epoll: no triggers; fake PSI files: the host's own pressure
	 * does not leak into the test. */
	ASSERT_EQ(0, weather_init(&self->w, &self->pol.weather, self->state, NULL, prot, 1));
	weather_set_psi_dir(self->w, self->psi);
	self->t = T0;
}

FIXTURE_TEARDOWN(station)
{
	char cmd[400];

	weather_free(self->w);
	policy_free(&self->pol);
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", self->dir);
	if (!strncmp(self->dir, "/tmp/lymph-", 11) && system(cmd))
		th_diag("failed to remove %s", self->dir);
}

/* Tick once a second for secs seconds; returns the number of changes and
 * frees what the ticks hand out. */
static int run(struct weather *w, uint64_t *t, int secs, struct json_object **last_why)
{
	int i, changes = 0;

	for (i = 0; i < secs; i++) {
		struct json_object *why = NULL, *ev = NULL;

		*t += SEC;
		if (weather_tick(w, *t, WALL0 + (int64_t)(*t / SEC), &why, &ev)) {
			changes++;
			if (last_why) {
				json_object_put(*last_why);
				*last_why = json_object_get(why);
			}
		}
		json_object_put(why);
		json_object_put(ev);
	}
	return changes;
}

static void danger_death(struct weather *w, uint64_t t, uint64_t ino)
{
	struct lymph_death d;

	memset(&d, 0, sizeof(d));
	d.hdr.kind = LYMPH_EV_DEATH;
	d.hdr.size = sizeof(d);
	d.hdr.ts_ns = t;
	d.task.exe_dev = 8;
	d.task.exe_ino = ino;
	d.signo = SIGSEGV;
	weather_on_record(w, &d.hdr, 1, t);
}

TEST_F(station, starts_sunny_with_full_factors)
{
	struct json_object *o;

	EXPECT_EQ(0, run(self->w, &self->t, 5, NULL));
	EXPECT_EQ((int)WEATHER_SUNNY, (int)(weather_now(self->w)));
	EXPECT_EQ(1.0, weather_budget_factor(self->w));
	EXPECT_EQ(1.0, weather_backoff_factor(self->w));
	EXPECT_EQ(1.0, weather_quarantine_factor(self->w));
	o = weather_json(self->w, self->t);
	EXPECT_STREQ("sunny", json_object_get_string(th_json_get(o, "word")));
	EXPECT_TRUE(th_json_has(o, "reasons"));
	EXPECT_TRUE(th_json_has(th_json_get(o, "inputs"), "psi"));
	EXPECT_TRUE(th_json_has(th_json_get(o, "factors"), "clone_budget"));
	EXPECT_TRUE(th_json_has(o, "integrity"));
	json_object_put(o);
}

TEST_F(station, pressure_makes_it_cloudy_and_it_clears)
{
	struct json_object *why = NULL, *o;

	ASSERT_EQ(0, set_psi(self->psi, "memory", 25, 10));
	EXPECT_EQ(1, run(self->w, &self->t, 2, &why));
	EXPECT_EQ((int)WEATHER_CLOUDY, (int)(weather_now(self->w)));
	ASSERT_NE(NULL, why);
	EXPECT_STREQ("weather", json_object_get_string(th_json_get(why, "type")));
	EXPECT_TRUE(has_reason(th_json_get(why, "reasons"), "memory pressure: some avg10 25.0%"));
	EXPECT_TRUE(th_json_has(why, "inputs"));
	EXPECT_TRUE(th_json_has(why, "factors"));
	json_object_put(why);
	why = NULL;
	/* Cloudy tightens the clone budget and lengthens the backoff. */
	EXPECT_LT(weather_budget_factor(self->w), 1.0);
	EXPECT_GT(weather_backoff_factor(self->w), 1.0);
	o = weather_json(self->w, self->t);
	EXPECT_TRUE(has_reason(th_json_get(o, "reasons"), "memory pressure"));
	json_object_put(o);

	/* The workload stops: sunny again after the hold. */
	ASSERT_EQ(0, set_psi(self->psi, "memory", 0.5, 0));
	EXPECT_EQ(0, run(self->w, &self->t, 20, NULL));
	EXPECT_EQ(1, run(self->w, &self->t, 15, &why));
	EXPECT_EQ((int)WEATHER_SUNNY, (int)(weather_now(self->w)));
	EXPECT_STREQ("cloudy", json_object_get_string(th_json_get(why, "from")));
	json_object_put(why);
	EXPECT_EQ(1.0, weather_budget_factor(self->w));
}

TEST_F(station, crash_burst_unsettled_then_stormy)
{
	struct json_object *why = NULL;
	int i;

	/* 8 danger deaths of one binary within seconds: unsettled. */
	for (i = 0; i < 8; i++)
		danger_death(self->w, self->t + (uint64_t)i * 100000000ULL, 1234);
	EXPECT_EQ(1, run(self->w, &self->t, 1, &why));
	EXPECT_EQ((int)WEATHER_UNSETTLED, (int)(weather_now(self->w)));
	EXPECT_TRUE(has_reason(th_json_get(why, "reasons"), "danger deaths 8.0/min"));
	EXPECT_EQ(0.75, weather_quarantine_factor(self->w));

	/* The burst grows past stormy_danger_per_min (30): stormy. */
	for (i = 0; i < 30; i++)
		danger_death(self->w, self->t + (uint64_t)i * 10000000ULL,
			     1000 + (uint64_t)(i % 3));
	EXPECT_EQ(1, run(self->w, &self->t, 1, &why));
	EXPECT_EQ((int)WEATHER_STORMY, (int)(weather_now(self->w)));
	EXPECT_STREQ("unsettled", json_object_get_string(th_json_get(why, "from")));
	EXPECT_STREQ("stormy", json_object_get_string(th_json_get(why, "to")));
	json_object_put(why);
	why = NULL;

	/* Armies: budget halved (policy default 0.5), backoff doubled,
	 * quarantine threshold halved, spot checks every 30 s. */
	EXPECT_EQ(self->pol.weather.budget_factor_stormy, weather_budget_factor(self->w));
	EXPECT_EQ(self->pol.weather.backoff_factor_stormy, weather_backoff_factor(self->w));
	EXPECT_EQ(0.5, weather_quarantine_factor(self->w));
	EXPECT_EQ(30 * SEC, weather_spot_interval_ns(self->w));

	/* Quiet again: deaths leave the minute, then three holds. */
	run(self->w, &self->t, 60 + 3 * 31 + 5, NULL);
	EXPECT_EQ((int)WEATHER_SUNNY, (int)(weather_now(self->w)));
	EXPECT_EQ(600 * SEC, weather_spot_interval_ns(self->w));
}

TEST_F(station, feedback_tightens_a_clone_budget)
{
	uint32_t budget = self->pol.throttle.budget, sunny, stormy;

	run(self->w, &self->t, 1, NULL);
	sunny = (uint32_t)(budget * weather_budget_factor(self->w));
	weather_set_activity(self->w, 2); /* two restarts in progress */
	EXPECT_EQ(1, run(self->w, &self->t, 1, NULL));
	EXPECT_EQ((int)WEATHER_STORMY, (int)(weather_now(self->w)));
	stormy = (uint32_t)(budget * weather_budget_factor(self->w));
	EXPECT_EQ(budget, sunny);
	EXPECT_EQ(budget / 2, stormy) TH_LOG("clone budget %u/s sunny, %u/s stormy", sunny, stormy);

	/* A reloaded policy takes effect at once. */
	self->pol.weather.budget_factor_stormy = 0.1;
	weather_set_conf(self->w, &self->pol.weather);
	EXPECT_EQ(0.1, weather_budget_factor(self->w));
	weather_set_activity(self->w, 0);
}

TEST_F(station, changed_protected_binary_is_journaled)
{
	struct json_object *why = NULL, *ev = NULL;
	FILE *f;

	if (!have_libcrypto_for_tests())
		SKIP(return, "libcrypto.so.3 (package libssl3) cannot be loaded");
	run(self->w, &self->t, 1, NULL); /* the first spot check, clean */
	f = fopen(self->bin, "a");
	ASSERT_NE(NULL, f);
	fputs("patched", f);
	fclose(f);
	/* Sunny: the next spy comes after 10 minutes. */
	self->t += 600 * SEC;
	ASSERT_EQ(1, weather_tick(self->w, self->t, WALL0 + 700, &why, &ev));
	ASSERT_NE(NULL, ev);
	ASSERT_EQ(1u, json_object_array_length(ev));
	EXPECT_STREQ("integrity",
		     json_object_get_string(th_json_get(json_object_array_get_idx(ev, 0), "type")));
	EXPECT_STREQ(self->bin,
		     json_object_get_string(th_json_get(json_object_array_get_idx(ev, 0), "path")));
	EXPECT_EQ((int)WEATHER_UNSETTLED, (int)(weather_now(self->w)));
	EXPECT_TRUE(has_reason(th_json_get(why, "reasons"), "protected binary changed"));
	/* Unsettled: spies every minute. */
	EXPECT_EQ(60 * SEC, weather_spot_interval_ns(self->w));
	json_object_put(why);
	json_object_put(ev);
}

TEST_F(station, pressure_records_name_processes)
{
	struct lymph_pressure p;
	struct json_object *o, *s, *c;

	memset(&p, 0, sizeof(p));
	p.hdr.kind = LYMPH_EV_PRESSURE;
	p.hdr.size = sizeof(p);
	p.hdr.ts_ns = self->t;
	p.task.pid = 4242;
	memcpy(p.task.comm, "victim", 7);
	p.interval_ns = SEC;
	p.runq_delay_ns = SEC / 2;
	weather_on_record(self->w, &p.hdr, 0, self->t);
	p.task.pid = 4343;
	memcpy(p.task.comm, "hog", 4);
	p.runq_delay_ns = 0;
	p.rss_delta_kb = 512 * 1024;
	weather_on_record(self->w, &p.hdr, 0, self->t);
	run(self->w, &self->t, 1, NULL);
	o = weather_json(self->w, self->t);
	s = th_json_get(th_json_get(o, "pressure"), "suffering");
	c = th_json_get(th_json_get(o, "pressure"), "causing");
	ASSERT_EQ(1u, json_object_array_length(s));
	ASSERT_EQ(1u, json_object_array_length(c));
	EXPECT_STREQ("victim",
		     json_object_get_string(th_json_get(json_object_array_get_idx(s, 0), "comm")));
	EXPECT_EQ(50.0, json_object_get_double(
				th_json_get(json_object_array_get_idx(s, 0), "runq_delay_pct")));
	EXPECT_STREQ("hog",
		     json_object_get_string(th_json_get(json_object_array_get_idx(c, 0), "comm")));
	json_object_put(o);
}

TEST_F(station, baseline_survives_a_restart)
{
	const char *prot[1] = { self->bin };
	char path[400];
	struct json_object *o;
	struct stat st;

	/* Fold one slot: more than a minute to start, then a slot boundary. */
	weather_baseline(self->w)->min_samples = 1;
	run(self->w, &self->t, 700, NULL);
	EXPECT_GT(weather_baseline(self->w)->folds, 0u);
	snprintf(path, sizeof(path), "%s/baseline", self->state);
	ASSERT_EQ(0, stat(path, &st));
	weather_free(self->w);
	self->w = NULL;
	ASSERT_EQ(0, weather_init(&self->w, &self->pol.weather, self->state, NULL, prot, 1));
	o = weather_json(self->w, self->t);
	EXPECT_TRUE(json_object_get_boolean(th_json_get(th_json_get(o, "baseline"), "loaded")));
	json_object_put(o);
	EXPECT_GT(weather_baseline(self->w)->folds, 0u);
}

/* ---- real workloads in their own cgroups (root) ---------------------------- */

FIXTURE(live)
{
	struct loadcg load;
	struct weather *w;
	struct policy pol;
	struct evloop loop; /* lymphd's: the PSI triggers are watched there */
	char dir[256];
};

FIXTURE_SETUP(live)
{
	loadcg_init(&self->load);
	self->w = NULL;
	self->loop.epfd = -EBADF;
	self->dir[0] = 0;
	policy_defaults(&self->pol);
}

FIXTURE_TEARDOWN(live)
{
	char cmd[300];

	weather_free(self->w);
	evloop_free(&self->loop);
	loadcg_destroy(&self->load);
	policy_free(&self->pol);
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", self->dir);
	if (!strncmp(self->dir, "/tmp/lymph-", 11) && system(cmd))
		th_diag("failed to remove %s", self->dir);
}

/* Run the station as lymphd would (epoll for its triggers, a tick every
 * 500 ms) until the word is want; the reasons of the last change go to
 * *why.  Returns the ms it took, -1 on timeout. */
static int64_t live_until(struct weather *w, struct evloop *loop, enum weather_word want,
			  int timeout_ms, struct json_object **why)
{
	int64_t start = th_now_ms();

	while (th_now_ms() - start < timeout_ms) {
		struct json_object *change = NULL, *ev = NULL;
		int herr;

		evloop_run_once(loop, 500, &herr); /* a trigger's handler takes note */
		if (weather_tick(w, clock_mono_ns(), (int64_t)time(NULL), &change, &ev) && why) {
			json_object_put(*why);
			*why = json_object_get(change);
		}
		json_object_put(change);
		json_object_put(ev);
		if (weather_now(w) == want)
			return th_now_ms() - start;
	}
	return -1;
}

/* Run the station until one of its current reasons contains what. */
static bool live_reason(struct weather *w, struct evloop *loop, const char *what, int timeout_ms)
{
	int64_t start = th_now_ms();

	while (th_now_ms() - start < timeout_ms) {
		struct json_object *o;
		bool found;

		live_until(w, loop, WEATHER_NWORDS, 500, NULL); /* ticks for 500 ms */
		o = weather_json(w, clock_mono_ns());
		found = has_reason(th_json_get(o, "reasons"), what);
		json_object_put(o);
		if (found)
			return true;
	}
	return false;
}

/* The station watches the workload's cgroup: its pressure is the weather's. */
static int live_station(struct __test_metadata *_metadata, FIXTURE_DATA(live) * self,
			const char *tag, const char **why)
{
	struct weather_params p;
	int err;

	err = loadcg_create(&self->load, tag, why);
	if (err)
		return err;
	if (th_mkdtemp(self->dir, sizeof(self->dir), "weather-live"))
		return -EIO;
	err = evloop_init(&self->loop);
	if (err)
		return err;
	err = weather_init(&self->w, &self->pol.weather, self->dir, &self->loop, NULL, 0);
	if (err)
		return err;
	/* Short holds: the test waits for avg10 to decay, not for minutes. */
	weather_params_from_conf(&p, &self->pol.weather);
	p.calm_hold_ns = 3 * SEC;
	weather_set_params(self->w, &p);
	weather_set_psi_dir(self->w, self->load.v2);
	(void)_metadata;
	return 0;
}

TEST_F_TIMEOUT(live, cpu_workload_cloudy_then_sunny, 150)
{
	struct json_object *why = NULL;
	const char *skip = NULL;
	int i, n = 2 * get_nprocs() + 2;
	int64_t ms;

	if (!th_is_root())
		SKIP(return, "needs root to create cgroups and arm PSI triggers");
	if (live_station(_metadata, self, "weather-cpu", &skip))
		SKIP(return, "%s", skip ? skip : "cannot set up the station");
	ASSERT_EQ(-1, live_until(self->w, &self->loop, WEATHER_CLOUDY, 2000, NULL))
	TH_LOG("cloudy before the workload started");
	for (i = 0; i < n && i < LOADCG_MAX; i++)
		ASSERT_EQ(0, loadcg_spawn(&self->load, loadcg_spin, NULL));
	ms = live_until(self->w, &self->loop, WEATHER_CLOUDY, 30000, &why);
	ASSERT_GE(ms, 0) TH_LOG("%d spinners did not make it cloudy in 30 s", n);
	TH_LOG("cloudy after %ld ms: %s", (long)ms,
	       json_object_to_json_string(th_json_get(why, "reasons")));
	EXPECT_TRUE(has_reason(th_json_get(why, "reasons"), "cpu pressure"));
	EXPECT_LT(weather_budget_factor(self->w), 1.0);

	loadcg_stop(&self->load);
	ms = live_until(self->w, &self->loop, WEATHER_SUNNY, 100000, &why);
	ASSERT_GE(ms, 0)
	TH_LOG("still %s 100 s after the workload stopped", weather_name(weather_now(self->w)));
	TH_LOG("sunny %ld ms after the workload stopped", (long)ms);
	EXPECT_EQ(1.0, weather_budget_factor(self->w));
	json_object_put(why);
}

TEST_F_TIMEOUT(live, memory_workload_cloudy_then_sunny, 150)
{
	struct json_object *why = NULL;
	const char *skip = NULL;
	int i;
	int64_t ms;

	if (!th_is_root())
		SKIP(return, "needs root to create cgroups and arm PSI triggers");
	if (live_station(_metadata, self, "weather-mem", &skip))
		SKIP(return, "%s", skip ? skip : "cannot set up the station");
	if (loadcg_limit_memory(&self->load, "weather-mem", 32UL << 20, &skip))
		SKIP(return, "%s", skip);
	ASSERT_EQ(0, loadcg_make_file(&self->load, 128));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, loadcg_spawn(&self->load, loadcg_thrash, self->load.file));
	ms = live_until(self->w, &self->loop, WEATHER_CLOUDY, 30000, &why);
	ASSERT_GE(ms, 0)
	TH_LOG("reading 128 MiB under a 32 MiB limit did not make it cloudy in 30 s");
	TH_LOG("cloudy after %ld ms: %s", (long)ms,
	       json_object_to_json_string(th_json_get(why, "reasons")));
	/* Refaults are I/O too: I/O pressure may come first; memory follows. */
	EXPECT_TRUE(live_reason(self->w, &self->loop, "memory pressure", 30000))
	TH_LOG("no memory pressure among the reasons within 30 s");

	loadcg_stop(&self->load);
	ms = live_until(self->w, &self->loop, WEATHER_SUNNY, 100000, &why);
	ASSERT_GE(ms, 0)
	TH_LOG("still %s 100 s after the workload stopped", weather_name(weather_now(self->w)));
	TH_LOG("sunny %ld ms after the workload stopped", (long)ms);
	json_object_put(why);
}

TEST_HARNESS_MAIN
