// SPDX-License-Identifier: GPL-2.0-only
/*
 * The quarantine policy (userspace/quarantine.c), without root: per
 * (binary, uid) scores, the threshold, bans that double for repeat
 * offenders up to the cap, forgiveness after good behaviour, and the
 * weather factor.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "quarantine.h"

#define SEC	1000000000ULL

static const struct quarantine_conf conf = {
	.threshold = 3.0, .half_life = 3600 * SEC,
	.duration_min = 10 * SEC, .duration_max = 80 * SEC,
};

FIXTURE(q) {
	struct qtable t;
};

FIXTURE_SETUP(q)
{
	ASSERT_EQ(0, qtable_init(&self->t, &conf, 64));
}

FIXTURE_TEARDOWN(q)
{
	qtable_free(&self->t);
}

TEST_F(q, threshold_crossed_by_that_uid_only)
{
	struct qkey a = { .ino = 42, .dev = 8, .uid = 1000 }, b = a;
	uint64_t now = 100 * SEC;

	b.uid = 1001;
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &a, now, 1.0));
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &b, now + 1, 1.0));
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &a, now + 2, 1.0));
	ASSERT_NE(NULL, qtable_on_danger(&self->t, &a, now + 3, 1.0));
	EXPECT_NE(NULL, qtable_active(&self->t, &a, now + 4));
	EXPECT_EQ(NULL, qtable_active(&self->t, &b, now + 4));
	EXPECT_TRUE(qtable_binary_active(&self->t, 8, 42, now + 4));
	EXPECT_FALSE(qtable_binary_active(&self->t, 8, 43, now + 4));
}

TEST_F(q, bans_double_up_to_the_cap)
{
	struct qkey k = { .ino = 7, .dev = 1, .uid = 1000 };
	uint64_t now = 1000 * SEC, want = conf.duration_min;
	int offence;

	for (offence = 1; offence <= 5; offence++) {
		const struct qentry *e = NULL;
		int i;

		for (i = 0; i < 3 && !e; i++)
			e = qtable_on_danger(&self->t, &k, now + i, 1.0);
		ASSERT_NE(NULL, e);
		EXPECT_EQ(want, e->until - e->since) TH_LOG("offence %d", offence);
		now = e->until + SEC;
		EXPECT_EQ(NULL, qtable_active(&self->t, &k, now));
		ASSERT_EQ(0, qtable_end(&self->t, &k));
		want = want * 2 > conf.duration_max ? conf.duration_max : want * 2;
	}
}

TEST_F(q, forgiven_after_good_behaviour)
{
	struct qkey k = { .ino = 9, .dev = 1, .uid = 1000 };
	const struct qentry *e = NULL;
	uint64_t now = 10 * SEC;
	int i;

	for (i = 0; i < 3 && !e; i++)
		e = qtable_on_danger(&self->t, &k, now + i, 1.0);
	ASSERT_NE(NULL, e);
	qtable_end(&self->t, &k);
	/* Ten caps' worth of good behaviour: the offence is forgotten. */
	now += 10 * conf.duration_max;
	e = NULL;
	for (i = 0; i < 3 && !e; i++)
		e = qtable_on_danger(&self->t, &k, now + i, 1.0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(conf.duration_min, e->until - e->since);
}

TEST_F(q, scores_decay)
{
	struct qkey k = { .ino = 5, .dev = 1, .uid = 0 };
	uint64_t now = SEC;

	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &k, now, 1.0));
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &k, now + 1, 1.0));
	/* Two half-lives later those two count as half a death. */
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &k, now + 2 * conf.half_life, 1.0));
}

TEST_F(q, stormy_weather_lowers_the_threshold)
{
	struct qkey k = { .ino = 11, .dev = 1, .uid = 1000 };

	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &k, SEC, 0.5));
	EXPECT_NE(NULL, qtable_on_danger(&self->t, &k, SEC + 1, 0.5));
}

TEST_F(q, restore_and_end)
{
	struct qkey k = { .ino = 13, .dev = 2, .uid = 1000 };

	ASSERT_NE(NULL, qtable_restore(&self->t, &k, 5 * SEC, 50 * SEC, 1.0, 1, 6 * SEC));
	EXPECT_NE(NULL, qtable_active(&self->t, &k, 20 * SEC));
	EXPECT_EQ(NULL, qtable_active(&self->t, &k, 51 * SEC));
	EXPECT_EQ(0, qtable_end(&self->t, &k));
	EXPECT_EQ(-ENOENT, qtable_end(&self->t, &k));
}

TEST_F(q, full_table_keeps_active_quarantines)
{
	struct qkey hot = { .ino = 1, .dev = 1, .uid = 1 };
	const struct qentry *e = NULL;
	uint64_t i;

	for (i = 0; i < 3 && !e; i++)
		e = qtable_on_danger(&self->t, &hot, SEC + i, 1.0);
	ASSERT_NE(NULL, e);
	/* Many cold binaries: the table evicts them, never the ban. */
	for (i = 0; i < 1000; i++) {
		struct qkey k = { .ino = 100 + i, .dev = 1, .uid = 1 };

		qtable_on_danger(&self->t, &k, 2 * SEC + i, 1.0);
	}
	EXPECT_NE(NULL, qtable_active(&self->t, &hot, 3 * SEC));
}

TEST_HARNESS_MAIN
