// SPDX-License-Identifier: GPL-2.0-only
/*
 * The drain timer's pace (userspace/policy/tickpace.c), without root:
 * lymphd dozes only after a tick with the doze flag up and nothing new,
 * never while something is due or the source has no flag, and any record
 * or due work brings the short period back at once.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "tickpace.h"

#define MS 1000000ULL

static struct pace_input quiet(uint64_t records)
{
	return (struct pace_input){ .records = records, .can_doze = 1, .flag_held = 1 };
}

/* enums compare as int under the harness's -Wsign-compare */
#define TICK(tp, in) ((int)tickpace_at_tick((tp), (in)))
#define WAKE(tp, in) ((int)tickpace_at_wake((tp), (in)))

/* Two quiet ticks: dozing (checked by the first case). */
static enum tick_pace doze(struct tickpace *tp, const struct pace_input *in)
{
	tickpace_at_tick(tp, in);
	return tickpace_at_tick(tp, in);
}

TEST(two_quiet_ticks_to_doze_the_flag_up_one_tick_before)
{
	struct tickpace tp = { 0 };
	struct pace_input in = quiet(0);

	EXPECT_EQ(PACE_ARMING, TICK(&tp, &in));
	EXPECT_TRUE(tickpace_flag(tp.state));
	EXPECT_FALSE(tickpace_long(tp.state)); /* the period stays short while arming */
	EXPECT_EQ(PACE_DOZING, TICK(&tp, &in));
	EXPECT_TRUE(tickpace_long(tp.state));
	EXPECT_EQ(PACE_DOZING, TICK(&tp, &in)); /* and stays */
}

TEST(records_at_a_tick_keep_it_active)
{
	struct tickpace tp = { 0 };
	struct pace_input in = quiet(5);

	EXPECT_EQ(PACE_ACTIVE, TICK(&tp, &in)); /* 5 records since the start */
	EXPECT_EQ(PACE_ARMING, TICK(&tp, &in));
	in.records = 6; /* a probe read the flag before it was up: its record came */
	EXPECT_EQ(PACE_ACTIVE, TICK(&tp, &in));
	EXPECT_FALSE(tickpace_flag(tp.state));
}

TEST(a_flag_taken_while_arming_means_no_doze)
{
	struct tickpace tp = { 0 };
	struct pace_input in = quiet(0);

	TICK(&tp, &in);
	in.flag_held = 0; /* a record took it and is waking lymphd */
	EXPECT_EQ(PACE_ACTIVE, TICK(&tp, &in));
}

TEST(a_record_ends_a_doze_at_once)
{
	struct tickpace tp = { 0 };
	struct pace_input in = quiet(0);

	ASSERT_EQ(PACE_DOZING, (int)doze(&tp, &in));
	/* a request woke lymphd, nothing came: still dozing */
	EXPECT_EQ(PACE_DOZING, WAKE(&tp, &in));
	/* the sensors woke it: the record took the flag and was drained */
	in.records = 1;
	in.flag_held = 0;
	EXPECT_EQ(PACE_ACTIVE, WAKE(&tp, &in));
	EXPECT_FALSE(tickpace_long(tp.state));
	/* the next tick sees that record as new: still active */
	in.flag_held = 1;
	EXPECT_EQ(PACE_ACTIVE, TICK(&tp, &in));
	EXPECT_EQ(PACE_ARMING, TICK(&tp, &in));
}

TEST(a_taken_flag_alone_ends_a_doze)
{
	struct tickpace tp = { 0 };
	struct pace_input in = quiet(0);

	ASSERT_EQ(PACE_DOZING, (int)doze(&tp, &in));
	in.flag_held = 0; /* its record not drained yet: it will be, at the short pace */
	EXPECT_EQ(PACE_ACTIVE, WAKE(&tp, &in));
}

TEST(something_due_or_no_flag_never_dozes)
{
	struct tickpace tp = { 0 };
	struct pace_input in = quiet(0);
	int i;

	in.busy = 1;
	for (i = 0; i < 5; i++)
		EXPECT_EQ(PACE_ACTIVE, TICK(&tp, &in));
	in.busy = 0;
	in.can_doze = 0;
	for (i = 0; i < 5; i++)
		EXPECT_EQ(PACE_ACTIVE, TICK(&tp, &in));
	/* dozing, then a quarantine due to end soon: back to the short period */
	in.can_doze = 1;
	ASSERT_EQ(PACE_DOZING, (int)doze(&tp, &in));
	in.busy = 1;
	EXPECT_EQ(PACE_ACTIVE, WAKE(&tp, &in));
}

TEST(doze_period_a_second_or_the_shortest_interval)
{
	EXPECT_EQ(1000 * MS, tickpace_doze_ns(250 * MS, 0));
	EXPECT_EQ(1000 * MS, tickpace_doze_ns(250 * MS, 10000 * MS));
	EXPECT_EQ(600 * MS, tickpace_doze_ns(250 * MS, 600 * MS));
	/* no longer than the drain period: no doze at all */
	EXPECT_EQ(0ULL, tickpace_doze_ns(250 * MS, 200 * MS));
	EXPECT_EQ(0ULL, tickpace_doze_ns(250 * MS, 250 * MS));
	EXPECT_EQ(0ULL, tickpace_doze_ns(600000 * MS, 0)); /* LYMPH_DRAIN_MS=600000 */
}

TEST_HARNESS_MAIN
