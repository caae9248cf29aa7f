// SPDX-License-Identifier: GPL-2.0-only
/*
 * The decay arithmetic (userspace/decay.c), without root: a count halves
 * every half-life, adds are exact, time never runs backwards, and the rate
 * per minute of a steady stream converges to that stream's rate.
 */
#include <math.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "decay.h"

#define SEC  1000000000ULL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

/* |a - b| <= tol * max(1, |b|) */
static bool close_to(double a, double b, double tol)
{
	return fabs(a - b) <= tol * fmax(1.0, fabs(b));
}

#define EXPECT_CLOSE(want, got, tol)                \
	EXPECT_TRUE(close_to((got), (want), (tol))) \
	TH_LOG("want %.9g, got %.9g (%s)", (double)(want), (double)(got), #got)

TEST(empty_is_zero)
{
	struct decay d = { 0 };

	EXPECT_EQ(0.0, decay_value(&d, 0, HOUR));
	EXPECT_EQ(0.0, decay_value(&d, 10 * HOUR, HOUR));
	EXPECT_EQ(0.0, decay_rate_per_min(&d, 10 * HOUR, HOUR));
}

TEST(halves_every_half_life)
{
	struct decay d = { 0 };
	uint64_t t0 = 1000 * SEC;

	decay_add(&d, t0, HOUR, 8.0);
	EXPECT_CLOSE(8.0, decay_value(&d, t0, HOUR), 1e-12);
	EXPECT_CLOSE(4.0, decay_value(&d, t0 + HOUR, HOUR), 1e-12);
	EXPECT_CLOSE(2.0, decay_value(&d, t0 + 2 * HOUR, HOUR), 1e-12);
	EXPECT_CLOSE(8.0 / sqrt(2.0), decay_value(&d, t0 + HOUR / 2, HOUR), 1e-12);
	EXPECT_CLOSE(8.0 * exp2(-100.0), decay_value(&d, t0 + 100 * HOUR, HOUR), 1e-9);
	/* reading does not change the state */
	EXPECT_CLOSE(8.0, decay_value(&d, t0, HOUR), 1e-12);
	EXPECT_EQ(t0, d.last_ns);
}

TEST(adds_accumulate)
{
	struct decay d = { 0 };
	uint64_t t0 = 5 * SEC;
	int i;

	for (i = 0; i < 1000; i++)
		decay_add(&d, t0, HOUR, 1.0);
	EXPECT_CLOSE(1000.0, decay_value(&d, t0, HOUR), 1e-12);
	/* one half-life later, add one: 500 + 1 */
	decay_add(&d, t0 + HOUR, HOUR, 1.0);
	EXPECT_CLOSE(501.0, decay_value(&d, t0 + HOUR, HOUR), 1e-12);
	EXPECT_EQ(t0 + HOUR, d.last_ns);
}

/* A clock read before the last update (two sources, reordered events) is
 * treated as the last update: no growth, no going back. */
TEST(time_never_runs_backwards)
{
	struct decay d = { 0 };
	uint64_t t0 = 10 * HOUR;

	decay_add(&d, t0, HOUR, 4.0);
	EXPECT_CLOSE(4.0, decay_value(&d, t0 - HOUR, HOUR), 1e-12);
	decay_add(&d, t0 - HOUR, HOUR, 1.0);
	EXPECT_CLOSE(5.0, decay_value(&d, t0, HOUR), 1e-12);
	EXPECT_EQ(t0, d.last_ns);
	EXPECT_CLOSE(2.5, decay_value(&d, t0 + HOUR, HOUR), 1e-12);
}

/* Order of adds does not matter: decay is linear. */
TEST(linear)
{
	struct decay a = { 0 }, b = { 0 };
	uint64_t t = 0;
	int i;

	for (i = 1; i <= 100; i++) {
		t += (uint64_t)i * 7 * SEC;
		decay_add(&a, t, 10 * MIN, 1.0);
		decay_add(&b, t, 10 * MIN, 3.0);
	}
	EXPECT_CLOSE(3.0 * decay_value(&a, t + MIN, 10 * MIN), decay_value(&b, t + MIN, 10 * MIN),
		     1e-9);
}

/* A steady stream of r events per minute reads as r per minute. */
TEST(steady_rate)
{
	static const double rates[] = { 1.0, 6.0, 60.0, 600.0 };
	uint64_t half = 10 * MIN;
	size_t i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t step = (uint64_t)(MIN / rates[i]), t = 0;
		struct decay d = { 0 };

		/* ten half-lives: within 2^-10 of the steady state */
		while (t < 10 * half) {
			t += step;
			decay_add(&d, t, half, 1.0);
		}
		/* sampled half-way between events, where the discrete stream's
		 * count matches the continuous steady state to first order */
		EXPECT_CLOSE(rates[i], decay_rate_per_min(&d, t + step / 2, half), 0.01);
	}
}

/* After the stream stops, the rate halves every half-life. */
TEST(rate_fades)
{
	struct decay d = { 0 };
	uint64_t t = 0, half = HOUR;
	double r0;

	while (t < 10 * half) {
		t += SEC;
		decay_add(&d, t, half, 1.0);
	}
	r0 = decay_rate_per_min(&d, t, half);
	EXPECT_CLOSE(60.0, r0, 0.01);
	EXPECT_CLOSE(r0 / 2, decay_rate_per_min(&d, t + half, half), 1e-9);
	EXPECT_CLOSE(r0 / 1024, decay_rate_per_min(&d, t + 10 * half, half), 1e-9);
}

/* Rate and value are tied: rate = value * ln 2 / half-life, per minute. */
TEST(rate_formula)
{
	struct decay d = { 0 };
	uint64_t half = 30 * MIN;

	decay_add(&d, MIN, half, 100.0);
	EXPECT_CLOSE(100.0 * M_LN2 * 60.0 / (30.0 * 60.0), decay_rate_per_min(&d, MIN, half),
		     1e-12);
}

/* A zero half-life never divides by zero. */
TEST(zero_half_life)
{
	struct decay d = { 0 };
	double v, r;

	decay_add(&d, SEC, 0, 1.0);
	v = decay_value(&d, 2 * SEC, 0);
	r = decay_rate_per_min(&d, 2 * SEC, 0);
	EXPECT_FALSE(isnan(v) || isinf(v));
	EXPECT_FALSE(isnan(r) || isinf(r));
	EXPECT_EQ(0.0, r);
}

/* Nanosecond timestamps of a machine up for years stay accurate. */
TEST(large_timestamps)
{
	struct decay d = { 0 };
	uint64_t t0 = 10ULL * 365 * 24 * HOUR;

	decay_add(&d, t0, HOUR, 2.0);
	EXPECT_CLOSE(1.0, decay_value(&d, t0 + HOUR, HOUR), 1e-9);
	EXPECT_CLOSE(2.0, decay_value(&d, t0 + 1, HOUR), 1e-9);
}

/* The decay's own 2^-x agrees with libm's exp2 to 1e-15 (relative, a few ulp) over
 * the spans a decay sees, is exact at whole numbers, 1 at 0, 0 from 1022
 * on and for a NaN; 2^k is exact, HUGE_VAL from 1024 on. */
TEST(exp2_without_libm)
{
	double x, worst = 0.0;
	int k;

	for (x = 1e-12; x < 1100.0; x = x * 1.01 + 1e-9) {
		double want = exp2(-x), got = decay_exp2_neg(x);

		if (want > 1e-300 && fabs(got - want) / want > worst)
			worst = fabs(got - want) / want;
		if (want == 0.0 || x >= 1022.0)
			ASSERT_GE(1e-300, got) TH_LOG("2^-%g: %g", x, got);
	}
	EXPECT_GE(1e-15, worst) TH_LOG("worst relative error %g", worst);
	EXPECT_EQ(1.0, decay_exp2_neg(0.0));
	EXPECT_EQ(0.0, decay_exp2_neg(NAN));
	EXPECT_EQ(0.0, decay_exp2_neg(5000.0));
	EXPECT_CLOSE(exp2(3.25), decay_exp2_neg(-3.25), 1e-13);
	for (k = 0; k < 1022; k++)
		ASSERT_EQ(exp2(-(double)k), decay_exp2_neg((double)k)) TH_LOG("2^-%d", k);
	for (k = 0; k < 1024; k++)
		ASSERT_EQ(exp2((double)k), decay_pow2((double)k)) TH_LOG("2^%d", k);
	EXPECT_EQ(HUGE_VAL, decay_pow2(1024.0));
	EXPECT_EQ(HUGE_VAL, decay_pow2(1e300));
}

TEST_HARNESS_MAIN
