// SPDX-License-Identifier: GPL-2.0-only
/*
 * The restart policy of one service (userspace/supervise.c) as a pure state
 * machine, without root, on synthetic clocks: the backoff grows from its
 * minimum by doubling up to its maximum with +-20 % jitter; the failure
 * count resets after healthy_after of healthy uptime; the breaker opens
 * after N failures within its window and retries after the cool-down; a
 * restart that does not heal counts as a failure; restart_on decides which
 * deaths count; svc_reset forgets.
 */
/* the harness compares its int literals with our unsigned fields */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "helpers.h"
#include "kselftest_harness.h"
#include "config.h"
#include "supervise.h"

#define SEC 1000000000ULL
#define MS  1000000ULL
#define T0  (1000 * SEC) /* an arbitrary start of the synthetic clock */
#define MID 0.5		 /* rand01 that gives a jitter factor of exactly 1 */

static struct service_conf conf(void)
{
	struct service_conf c = {
		.name = "web",
		.restart_on = RESTART_ON_FAILURE,
		.backoff_min = 1 * SEC,
		.backoff_max = 10 * SEC,
		.healthy_after = 60 * SEC,
		.settle = 2 * SEC,
		.breaker_failures = 1000, /* out of the way unless a test wants it */
		.breaker_window = 3600 * SEC,
		.breaker_cooldown = 600 * SEC,
	};
	return c;
}

/* Start at now and pass verification: RUNNING. */
static void start_healthy(const struct service_conf *c, struct svc_state *s, uint64_t now)
{
	svc_on_started(c, s, now);
	svc_on_verified(c, s, now + c->settle, 1, MID, 1.0);
}

/* Wait out the backoff: at the deadline svc_due says START, and it starts. */
static int restart_at_deadline(const struct service_conf *c, struct svc_state *s)
{
	uint64_t t = s->deadline;

	if (svc_due(c, s, t - 1) != SVC_ACT_NONE)
		return -1;
	if (svc_due(c, s, t) != SVC_ACT_START)
		return -2;
	svc_on_started(c, s, t);
	return 0;
}

TEST(backoff_doubles_to_the_cap)
{
	static const uint64_t want[] = { 1, 2, 4, 8, 10, 10, 10 }; /* s */
	struct service_conf c = conf();
	struct svc_state s = { 0 };
	uint64_t now = T0;

	start_healthy(&c, &s, now);
	EXPECT_EQ(SVC_RUNNING, s.phase);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		now = s.deadline ? s.deadline + 100 * MS : now + 100 * MS;
		svc_on_death(&c, &s, now, 1, MID, 1.0);
		EXPECT_EQ(SVC_BACKOFF, s.phase);
		EXPECT_EQ(i + 1, s.failures);
		EXPECT_EQ(want[i] * SEC, s.delay)
		TH_LOG("failure %zu: delay %.3f s, want %llu s", i + 1, (double)s.delay / 1e9,
		       (unsigned long long)want[i]);
		EXPECT_EQ(now + s.delay, s.deadline);
		ASSERT_EQ(0, restart_at_deadline(&c, &s));
		EXPECT_EQ(SVC_STARTING, s.phase);
		EXPECT_EQ(i + 2, s.restarts); /* every start counts here; service.c
						 * does not count the first one */
	}
}

TEST(jitter_within_20_percent)
{
	struct service_conf c = conf();

	c.backoff_min = 1 * SEC;
	c.backoff_max = 100 * SEC;
	for (uint32_t failures = 1; failures <= 8; failures++) {
		double base = (double)(1ULL << (failures - 1)) * 1e9, lo = 1e18, hi = 0;

		if (base > 100e9)
			base = 100e9;
		for (int k = 0; k < 1000; k++) {
			struct svc_state s = { 0 };
			double r = k / 1000.0, d;

			s.failures = failures - 1;
			svc_on_death(&c, &s, T0, 1, r, 1.0);
			d = (double)s.delay;
			if (d < lo)
				lo = d;
			if (d > hi)
				hi = d;
			/* never outside [min, max], never outside base +-20 % */
			EXPECT_GE(s.delay, c.backoff_min);
			EXPECT_LE(s.delay, c.backoff_max);
			EXPECT_GE(d, base * 0.8 - 1)
			TH_LOG("failures %u rand %.3f: %.0f < 0.8 * %.0f", failures, r, d, base);
			EXPECT_LE(d, base * 1.2 + 1)
			TH_LOG("failures %u rand %.3f: %.0f > 1.2 * %.0f", failures, r, d, base);
		}
		/* and it does spread (except where the minimum clamps it) */
		if (failures >= 2 && base * 1.2 <= 100e9)
			EXPECT_GT(hi - lo, base * 0.3)
			TH_LOG("failures %u: spread %.0f ns only", failures, hi - lo);
	}
}

TEST(zero_minimum_restarts_at_once)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };

	c.backoff_min = 0;
	start_healthy(&c, &s, T0);
	for (int i = 0; i < 5; i++) {
		svc_on_death(&c, &s, T0 + (uint64_t)(i + 1) * SEC, 1, 0.9, 1.0);
		EXPECT_EQ(SVC_BACKOFF, s.phase);
		EXPECT_EQ(0, s.delay);
		EXPECT_EQ(SVC_ACT_START, svc_due(&c, &s, T0 + (uint64_t)(i + 1) * SEC));
		svc_on_started(&c, &s, T0 + (uint64_t)(i + 1) * SEC);
	}
}

TEST(weather_factor_stretches_the_backoff)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };

	svc_on_death(&c, &s, T0, 1, MID, 2.0);
	EXPECT_EQ(2 * SEC, s.delay);
	s = (struct svc_state){ .failures = 10 };
	svc_on_death(&c, &s, T0, 1, MID, 2.0);
	EXPECT_EQ(c.backoff_max, s.delay); /* still capped */
}

TEST(failures_reset_after_healthy_uptime)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };
	uint64_t now = T0, up;

	start_healthy(&c, &s, now);
	EXPECT_EQ(0, s.deadline); /* no failures: nothing to reset */
	for (int i = 0; i < 3; i++) {
		svc_on_death(&c, &s, now, 1, MID, 1.0);
		ASSERT_EQ(0, restart_at_deadline(&c, &s));
		now = s.deadline;
	}
	EXPECT_EQ(3, s.failures);
	svc_on_verified(&c, &s, now, 1, MID, 1.0);
	up = now;
	EXPECT_EQ(SVC_RUNNING, s.phase);
	EXPECT_EQ(3, s.failures); /* not yet */
	EXPECT_EQ(up + c.healthy_after, s.healthy_at);
	EXPECT_EQ(up + c.healthy_after, s.deadline);
	EXPECT_EQ(SVC_ACT_NONE, svc_due(&c, &s, up + c.healthy_after - 1));
	EXPECT_EQ(3, s.failures);
	EXPECT_EQ(SVC_ACT_HEALTHY, svc_due(&c, &s, up + c.healthy_after));
	EXPECT_EQ(0, s.failures);
	EXPECT_EQ(0, s.n_recent);
	EXPECT_EQ(0, s.deadline);
	EXPECT_EQ(SVC_RUNNING, s.phase);
	EXPECT_EQ(4, s.restarts); /* restarts are history, never reset */
	/* the next crash starts from the minimum again */
	svc_on_death(&c, &s, up + c.healthy_after + SEC, 1, MID, 1.0);
	EXPECT_EQ(1, s.failures);
	EXPECT_EQ(c.backoff_min, s.delay);
}

TEST(crash_before_healthy_after_keeps_counting)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };
	uint64_t now = T0;

	svc_on_death(&c, &s, now, 1, MID, 1.0);
	ASSERT_EQ(0, restart_at_deadline(&c, &s));
	now = s.deadline;
	svc_on_verified(&c, &s, now, 1, MID, 1.0);
	/* up for less than healthy_after: the next delay doubles */
	now += c.healthy_after - SEC;
	EXPECT_EQ(SVC_ACT_NONE, svc_due(&c, &s, now));
	svc_on_death(&c, &s, now, 1, MID, 1.0);
	EXPECT_EQ(2, s.failures);
	EXPECT_EQ(2 * SEC, s.delay);
	/* and the pending reset is gone with the RUNNING phase */
	EXPECT_EQ(SVC_BACKOFF, s.phase);
	EXPECT_EQ(now + 2 * SEC, s.deadline);
}

TEST(breaker_opens_then_retries_after_cooldown)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };
	uint64_t now = T0;

	c.breaker_failures = 3;
	c.breaker_window = 60 * SEC;
	c.breaker_cooldown = 300 * SEC;
	start_healthy(&c, &s, now);
	for (int i = 1; i <= 2; i++) {
		now += SEC;
		svc_on_death(&c, &s, now, 1, MID, 1.0);
		EXPECT_EQ(SVC_BACKOFF, s.phase);
		EXPECT_EQ(i, s.n_recent);
		ASSERT_EQ(0, restart_at_deadline(&c, &s));
		now = s.deadline;
	}
	now += SEC;
	svc_on_death(&c, &s, now, 1, MID, 1.0);
	EXPECT_EQ(SVC_BROKEN, s.phase);
	EXPECT_EQ(3, s.failures);
	EXPECT_EQ(c.breaker_cooldown, s.delay);
	EXPECT_EQ(now + c.breaker_cooldown, s.deadline);
	/* nothing happens during the cool-down: no silent restart loop */
	EXPECT_EQ(SVC_ACT_NONE, svc_due(&c, &s, now + c.breaker_cooldown - 1));
	EXPECT_EQ(SVC_BROKEN, s.phase);
	/* then one retry */
	EXPECT_EQ(SVC_ACT_START, svc_due(&c, &s, now + c.breaker_cooldown));
	now += c.breaker_cooldown;
	svc_on_started(&c, &s, now);
	EXPECT_EQ(SVC_STARTING, s.phase);
	/* the old failures are out of the window now: one more backs off */
	svc_on_death(&c, &s, now + SEC, 1, MID, 1.0);
	EXPECT_EQ(SVC_BACKOFF, s.phase);
	EXPECT_EQ(1, s.n_recent);
	EXPECT_EQ(4, s.failures);
	EXPECT_EQ(8 * SEC, s.delay); /* failures still drive the backoff */
}

TEST(breaker_retry_that_heals_closes_it)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };
	uint64_t now = T0;

	c.breaker_failures = 2;
	c.breaker_window = 60 * SEC;
	c.breaker_cooldown = 30 * SEC;
	svc_on_death(&c, &s, now, 1, MID, 1.0);
	ASSERT_EQ(0, restart_at_deadline(&c, &s));
	now = s.deadline + SEC;
	svc_on_death(&c, &s, now, 1, MID, 1.0);
	ASSERT_EQ(SVC_BROKEN, s.phase);
	ASSERT_EQ(0, restart_at_deadline(&c, &s));
	now = s.deadline + c.settle;
	svc_on_verified(&c, &s, now, 1, MID, 1.0);
	EXPECT_EQ(SVC_RUNNING, s.phase);
	EXPECT_EQ(SVC_ACT_HEALTHY, svc_due(&c, &s, now + c.healthy_after));
	EXPECT_EQ(0, s.failures);
	EXPECT_EQ(0, s.n_recent);
}

TEST(failures_outside_the_window_do_not_open_the_breaker)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };
	uint64_t now = T0;

	c.breaker_failures = 3;
	c.breaker_window = 60 * SEC;
	c.healthy_after = 3600 * SEC;
	for (int i = 0; i < 10; i++) {
		svc_on_death(&c, &s, now, 1, MID, 1.0);
		EXPECT_EQ(SVC_BACKOFF, s.phase) TH_LOG("failure %d", i + 1);
		EXPECT_LE(s.n_recent, 2);
		ASSERT_EQ(0, restart_at_deadline(&c, &s));
		now += 40 * SEC; /* two per window at most */
	}
	EXPECT_EQ(10, s.failures);
}

TEST(verification_failure_counts)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };
	uint64_t now = T0;

	svc_on_death(&c, &s, now, 1, MID, 1.0);
	now = s.deadline;
	ASSERT_EQ(0, restart_at_deadline(&c, &s));
	EXPECT_EQ(now + c.settle, s.deadline);
	EXPECT_EQ(SVC_ACT_NONE, svc_due(&c, &s, now + c.settle - 1));
	EXPECT_EQ(SVC_ACT_VERIFY, svc_due(&c, &s, now + c.settle));
	svc_on_verified(&c, &s, now + c.settle, 0, MID, 1.0);
	EXPECT_EQ(SVC_BACKOFF, s.phase);
	EXPECT_EQ(2, s.failures);
	EXPECT_EQ(2, s.n_recent);
	EXPECT_EQ(2 * SEC, s.delay);
	EXPECT_EQ(now + c.settle + 2 * SEC, s.deadline);

	/* and enough of them open the breaker */
	c.breaker_failures = 3;
	ASSERT_EQ(0, restart_at_deadline(&c, &s));
	svc_on_verified(&c, &s, s.deadline, 0, MID, 1.0);
	EXPECT_EQ(SVC_BROKEN, s.phase);
	EXPECT_EQ(3, s.failures);
}

/* Issue 16 item 2: readiness is retried every SVC_READY_RETRY_NS until
 * start_timeout after the start, then it is a failure. */
TEST(readiness_retried_until_start_timeout)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };
	uint64_t now;
	int retries = 0;

	c.start_timeout = 5 * SEC;
	svc_on_started(&c, &s, T0);
	now = T0 + c.settle;
	ASSERT_EQ(SVC_ACT_VERIFY, svc_due(&c, &s, now));
	while (svc_retry_ready(&c, &s, now)) {
		EXPECT_EQ(SVC_STARTING, s.phase);
		EXPECT_EQ(now + SVC_READY_RETRY_NS, s.deadline);
		EXPECT_EQ(SVC_ACT_NONE, svc_due(&c, &s, s.deadline - 1));
		now = s.deadline;
		ASSERT_EQ(SVC_ACT_VERIFY, svc_due(&c, &s, now));
		retries++;
		ASSERT_LT(retries, 1000);
	}
	/* (5 s - 2 s settle) / 100 ms */
	EXPECT_EQ(30, retries);
	EXPECT_LE(now, T0 + c.start_timeout);
	EXPECT_EQ(0, s.failures); /* retries are not failures */
	svc_on_verified(&c, &s, now, 0, MID, 1.0);
	EXPECT_EQ(SVC_BACKOFF, s.phase);
	EXPECT_EQ(1, s.failures);

	/* a start_timeout shorter than settle: one check only */
	c.start_timeout = 1 * SEC;
	s = (struct svc_state){ 0 };
	svc_on_started(&c, &s, T0);
	EXPECT_EQ(0, svc_retry_ready(&c, &s, T0 + c.settle));
	/* not starting: never retried */
	s.phase = SVC_RUNNING;
	EXPECT_EQ(0, svc_retry_ready(&c, &s, T0));
}

TEST(settle_zero_verifies_at_once)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };

	c.settle = 0;
	svc_on_started(&c, &s, T0);
	EXPECT_EQ(SVC_STARTING, s.phase);
	EXPECT_EQ(T0, s.deadline);
	EXPECT_EQ(SVC_ACT_VERIFY, svc_due(&c, &s, T0));
}

TEST(restart_on_semantics)
{
	struct service_conf c = conf();

	/* danger: only deaths the classifier calls danger */
	c.restart_on = RESTART_ON_DANGER;
	EXPECT_EQ(1, svc_death_is_failure(&c, 1, SIGSEGV, 0));
	EXPECT_EQ(1, svc_death_is_failure(&c, 1, SIGKILL, 0)); /* OOM kill */
	EXPECT_EQ(0, svc_death_is_failure(&c, 0, SIGTERM, 0)); /* kill -TERM */
	EXPECT_EQ(0, svc_death_is_failure(&c, 0, SIGSEGV, 0)); /* kill -SEGV by another */
	EXPECT_EQ(0, svc_death_is_failure(&c, 0, 0, 1));
	EXPECT_EQ(0, svc_death_is_failure(&c, 0, 0, 0));
	/* failure: danger, any fatal signal, a non-zero exit */
	c.restart_on = RESTART_ON_FAILURE;
	EXPECT_EQ(1, svc_death_is_failure(&c, 1, SIGSEGV, 0));
	EXPECT_EQ(1, svc_death_is_failure(&c, 0, SIGTERM, 0));
	EXPECT_EQ(1, svc_death_is_failure(&c, 0, 0, 1));
	EXPECT_EQ(1, svc_death_is_failure(&c, 0, 0, 255));
	EXPECT_EQ(0, svc_death_is_failure(&c, 0, 0, 0));
	/* always: even a clean exit */
	c.restart_on = RESTART_ON_ALWAYS;
	EXPECT_EQ(1, svc_death_is_failure(&c, 0, 0, 0));
	EXPECT_EQ(1, svc_death_is_failure(&c, 0, SIGTERM, 0));
	EXPECT_EQ(1, svc_death_is_failure(&c, 1, SIGABRT, 0));
}

TEST(death_that_does_not_count_stops)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };

	start_healthy(&c, &s, T0);
	svc_on_death(&c, &s, T0 + SEC, 1, MID, 1.0);
	ASSERT_EQ(0, restart_at_deadline(&c, &s));
	svc_on_verified(&c, &s, s.deadline, 1, MID, 1.0);
	svc_on_death(&c, &s, T0 + 10 * SEC, 0, MID, 1.0);
	EXPECT_EQ(SVC_STOPPED, s.phase);
	EXPECT_EQ(0, s.deadline);
	EXPECT_EQ(1, s.failures); /* unchanged */
	EXPECT_EQ(SVC_ACT_NONE, svc_due(&c, &s, T0 + 1000 * SEC));
}

TEST(reset_forgets_and_closes_the_breaker)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };
	uint64_t now = T0;

	c.breaker_failures = 2;
	svc_on_death(&c, &s, now, 1, MID, 1.0);
	ASSERT_EQ(0, restart_at_deadline(&c, &s));
	now = s.deadline + SEC;
	svc_on_death(&c, &s, now, 1, MID, 1.0);
	ASSERT_EQ(SVC_BROKEN, s.phase);
	svc_reset(&s, now + SEC);
	EXPECT_EQ(0, s.failures);
	EXPECT_EQ(0, s.n_recent);
	EXPECT_EQ(0, s.delay);
	EXPECT_EQ(now + SEC, s.deadline); /* started at the next tick, not after the cool-down */
	EXPECT_EQ(SVC_ACT_START, svc_due(&c, &s, now + SEC));
	svc_on_started(&c, &s, now + SEC);
	/* the next failure is a first failure again */
	svc_on_death(&c, &s, now + 2 * SEC, 1, MID, 1.0);
	EXPECT_EQ(SVC_BACKOFF, s.phase);
	EXPECT_EQ(1, s.failures);
	EXPECT_EQ(c.backoff_min, s.delay);

	/* reset of a running service cancels its pending healthy reset */
	s = (struct svc_state){ 0 };
	svc_on_death(&c, &s, T0, 1, MID, 1.0);
	ASSERT_EQ(0, restart_at_deadline(&c, &s));
	svc_on_verified(&c, &s, s.deadline, 1, MID, 1.0);
	ASSERT_NE(0, s.deadline);
	svc_reset(&s, s.since + SEC);
	EXPECT_EQ(SVC_RUNNING, s.phase);
	EXPECT_EQ(0, s.failures);
	EXPECT_EQ(0, s.deadline);
	EXPECT_EQ(0, s.healthy_at);
}

TEST(failure_history_is_bounded)
{
	struct service_conf c = conf();
	struct svc_state s = { 0 };

	c.backoff_min = 0;
	for (int i = 0; i < 3 * SUPERVISE_HISTORY; i++)
		svc_on_death(&c, &s, T0 + (uint64_t)i * MS, 1, MID, 1.0);
	EXPECT_EQ(3 * SUPERVISE_HISTORY, s.failures);
	EXPECT_EQ(SUPERVISE_HISTORY, s.n_recent);
	/* the newest are kept */
	EXPECT_EQ(T0 + (uint64_t)(3 * SUPERVISE_HISTORY - 1) * MS, s.recent[SUPERVISE_HISTORY - 1]);
}

TEST(phase_names_round_trip)
{
	static const char *const names[] = { "unknown", "running", "starting",
					     "backoff", "broken",  "stopped" };

	for (int i = 0; i <= SVC_STOPPED; i++) {
		EXPECT_STREQ(names[i], svc_phase_name(i));
		EXPECT_EQ(i, svc_phase_parse(names[i]));
	}
	EXPECT_EQ(-1, svc_phase_parse("sleeping"));
	EXPECT_STREQ("unknown", svc_phase_name(99));
}

TEST_HARNESS_MAIN
