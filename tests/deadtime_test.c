// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dead time (userspace/deadtime.c), without root: a hold lasts the dead
 * time; it doubles while the lineage keeps trying to grow, up to the cap;
 * a calm hold is lifted; a lineage held again soon after a lift starts
 * from the doubled dead time; calm spells halve it and end the episode;
 * kill_after kills only a storm that outlasts it.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "deadtime.h"

#define MS 1000000ULL
/* enums compare as int under the harness's -Wsign-compare */
#define DUE(...) ((int)deadtime_due(__VA_ARGS__))

static const struct throttle_conf conf = {
	.budget = 50,
	.burst = 100,
	.dead_time_min = 100 * MS,
	.dead_time_max = 800 * MS,
	.kill_after = 0,
	.lineage = LINEAGE_SESSION,
};

TEST(storm_doubles_the_hold_up_to_the_cap)
{
	struct deadtime d = { 0 };
	uint64_t now = 1000 * MS, want = 100 * MS;
	int i;

	ASSERT_EQ(1, deadtime_on_hold(&conf, &d, now));
	EXPECT_EQ(now + 100 * MS, deadtime_next(&d));
	EXPECT_EQ(0, deadtime_on_hold(&conf, &d, now + 10 * MS)); /* already held */
	for (i = 0; i < 6; i++) {
		now = deadtime_next(&d);
		EXPECT_EQ((int)DT_NONE, DUE(&conf, &d, now - 1, 1));
		EXPECT_EQ((int)DT_EXTEND, DUE(&conf, &d, now, 1));
		want = want * 2 > conf.dead_time_max ? conf.dead_time_max : want * 2;
		EXPECT_EQ(want, d.dead_time);
	}
}

TEST(calm_lifts_then_ends)
{
	struct deadtime d = { 0 };
	uint64_t now = 0;

	deadtime_on_hold(&conf, &d, 1);
	now = deadtime_next(&d);
	EXPECT_EQ((int)DT_LIFT, DUE(&conf, &d, now, 0));
	EXPECT_EQ(0ULL, d.hold_until);
	now = deadtime_next(&d);
	EXPECT_EQ((int)DT_END, DUE(&conf, &d, now, 0));
	EXPECT_EQ(0ULL, d.episode_start);
	EXPECT_EQ(0ULL, deadtime_next(&d));
}

TEST(held_again_soon_after_a_lift_holds_longer)
{
	struct deadtime d = { 0 };
	uint64_t now;

	deadtime_on_hold(&conf, &d, 1);
	now = deadtime_next(&d);
	ASSERT_EQ((int)DT_LIFT, DUE(&conf, &d, now, 0));
	EXPECT_EQ(0, deadtime_on_hold(&conf, &d, now + 50 * MS));
	EXPECT_EQ(200 * MS, d.dead_time);
	EXPECT_EQ(2u, d.holds);
}

TEST(calm_spells_halve_before_the_end)
{
	struct deadtime d = { 0 };
	uint64_t now = 1;
	int i;

	deadtime_on_hold(&conf, &d, now);
	for (i = 0; i < 3; i++) /* 100 -> 800 ms */
		DUE(&conf, &d, deadtime_next(&d), 1);
	ASSERT_EQ(800 * MS, d.dead_time);
	ASSERT_EQ((int)DT_LIFT, DUE(&conf, &d, deadtime_next(&d), 0));
	EXPECT_EQ((int)DT_NONE, DUE(&conf, &d, deadtime_next(&d), 0));
	EXPECT_EQ(400 * MS, d.dead_time);
	EXPECT_EQ((int)DT_NONE, DUE(&conf, &d, deadtime_next(&d), 0));
	EXPECT_EQ((int)DT_NONE, DUE(&conf, &d, deadtime_next(&d), 0));
	EXPECT_EQ(100 * MS, d.dead_time);
	EXPECT_EQ((int)DT_END, DUE(&conf, &d, deadtime_next(&d), 0));
}

TEST(kill_after_only_for_a_storm_that_outlasts_it)
{
	struct throttle_conf k = conf;
	struct deadtime d = { 0 };
	int i, killed = 0;

	k.kill_after = 1000 * MS;
	deadtime_on_hold(&k, &d, 1);
	for (i = 0; i < 20 && !killed; i++)
		killed = DUE(&k, &d, deadtime_next(&d), 1) == (int)DT_KILL;
	EXPECT_TRUE(killed);
	EXPECT_GE(deadtime_next(&d) ? deadtime_next(&d) : 1000 * MS, 1000 * MS);

	/* The same length of calm holds never kills. */
	memset(&d, 0, sizeof(d));
	deadtime_on_hold(&k, &d, 1);
	for (i = 0; i < 20 && d.episode_start; i++)
		EXPECT_NE((int)DT_KILL, DUE(&k, &d, deadtime_next(&d), 0));
}

TEST_HARNESS_MAIN
