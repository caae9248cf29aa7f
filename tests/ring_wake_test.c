// SPDX-License-Identifier: GPL-2.0-only
/*
 * When a bulk record wakes lymphd (lymph/ring_wake.h, the rule the BPF
 * sensors and bench/throughput's producer share): replayed here on a model
 * of the ring's positions, as bpf_ringbuf_reserve() advances them.
 */
#include <stdint.h>
#include "lymph/ring_wake.h"
#include "kselftest_harness.h"

/* The ring as the producer sees it: positions in bytes. */
struct ring {
	uint64_t prod, cons, mark;
	unsigned int wakes;
};

/* Reserve and submit one record of `size` bytes; returns whether it woke. */
static int put(struct ring *r, uint64_t size)
{
	uint64_t fp = lymph_ring_footprint(size);
	int wake;

	r->prod += fp;
	wake = lymph_ring_bulk_wakes(r->prod - r->cons, fp, r->mark);
	r->wakes += wake;
	return wake;
}

TEST(footprint_is_header_and_record_rounded_to_8)
{
	EXPECT_EQ(16ULL, lymph_ring_footprint(1));
	EXPECT_EQ(16ULL, lymph_ring_footprint(8));
	EXPECT_EQ(24ULL, lymph_ring_footprint(9));
	EXPECT_EQ(88ULL, lymph_ring_footprint(80));   /* a fork */
	EXPECT_EQ(344ULL, lymph_ring_footprint(336)); /* an exec */
	EXPECT_EQ(128ULL, lymph_ring_footprint(120)); /* a death */
}

TEST(below_the_mark_nothing_wakes)
{
	struct ring r = { .mark = 128 * 1024 };

	while (r.prod + 344 < r.mark)
		EXPECT_EQ(0, put(&r, 336));
	EXPECT_EQ(0U, r.wakes);
}

TEST(no_mark_never_wakes)
{
	struct ring r = { .mark = 0 };
	int i;

	for (i = 0; i < 10000; i++)
		put(&r, 120);
	EXPECT_EQ(0U, r.wakes);
}

/* The sensors' three records in turn, the reader asleep: one wakeup per
 * multiple of the mark, by the record that reaches or passes it. */
TEST(one_wakeup_per_multiple_of_the_mark)
{
	static const uint64_t sizes[] = { 80, 336, 120 };
	struct ring r = { .mark = 128 * 1024 };
	uint64_t ring_bytes = 8 * r.mark;
	unsigned int i = 0;

	while (r.prod + 344 <= ring_bytes) {
		uint64_t before = r.prod;

		if (put(&r, sizes[i++ % 3])) {
			/* the multiple lies within this record's room */
			EXPECT_LT(before / r.mark, r.prod / r.mark);
		} else {
			EXPECT_EQ(before / r.mark, r.prod / r.mark);
		}
	}
	EXPECT_EQ(r.prod / r.mark, r.wakes);
	EXPECT_GE(r.wakes, 7U);
	EXPECT_LE(r.wakes, 8U);
}

/*
 * The record whose header lies across the mark: the rule before
 * 2026-12-01 subtracted the record's size, not its room, and woke nobody
 * for it.
 */
TEST(a_record_whose_header_crosses_the_mark_wakes)
{
	struct ring r = { .mark = 4096 };

	r.prod = 4096 - 4; /* 4 bytes short: the next header crosses */
	EXPECT_EQ(1, put(&r, 80));
	/* the old rule: avail - size = 4096 - 4 + 88 - 80 >= mark */
	EXPECT_GE(r.prod - r.cons - 80, r.mark);
}

/* Every record of every size from an empty ring up: never a multiple
 * passed without a wakeup, never two wakeups for one. */
TEST(every_size_crosses_each_multiple_once)
{
	uint64_t size;

	for (size = 1; size <= 512; size++) {
		struct ring r = { .mark = 4096 };

		while (r.prod < 5 * r.mark)
			put(&r, size);
		ASSERT_EQ(r.prod / r.mark, r.wakes)
			TH_LOG("record size %llu", (unsigned long long)size);
	}
}

/* The reader drains while the producer writes: each time the unread data
 * rises across the mark again, the reader is woken again. */
TEST(reader_draining_meanwhile_is_woken_at_each_rise)
{
	struct ring r = { .mark = 4096 };
	int round;

	for (round = 0; round < 5; round++) {
		unsigned int w = r.wakes;

		while (r.prod - r.cons < r.mark)
			put(&r, 120);
		EXPECT_EQ(w + 1, r.wakes);
		r.cons = r.prod - 100; /* drained all but a part of the last */
	}
}

/* A wakeup that did not reach the reader is asked again one mark later,
 * not only when the ring is full. */
TEST(a_missed_wakeup_is_asked_again_one_mark_later)
{
	struct ring r = { .mark = 4096 };
	unsigned int first;

	while (!put(&r, 120))
		;
	first = r.wakes; /* this one is lost: the reader sleeps on */
	while (!put(&r, 120))
		;
	EXPECT_EQ(first + 1, r.wakes);
	EXPECT_LE(r.prod - r.cons, 2 * r.mark + 128);
}

TEST_HARNESS_MAIN
