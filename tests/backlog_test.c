// SPDX-License-Identifier: GPL-2.0-only
/*
 * The backlog lymphd copies a ring's records into when it is behind
 * (userspace/lib/backlog.h): order, bytes, the bound, and its memory given
 * back once empty.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "backlog.h"
#include "kselftest_harness.h"

/* A record of size bytes whose bytes say which one it is. */
static void fill(uint8_t *rec, uint32_t size, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < size; i++)
		rec[i] = (uint8_t)(seq * 31 + i);
}

static int same(const uint8_t *rec, uint32_t size, uint32_t seq)
{
	uint8_t want[600];

	fill(want, size, seq);
	return !memcmp(rec, want, size);
}

TEST(records_come_out_in_order_and_whole)
{
	struct backlog b;
	uint8_t rec[600];
	uint32_t seq, size;

	backlog_init(&b, 64u << 20);
	for (seq = 0; seq < 10000; seq++) {
		fill(rec, 1 + seq % 500, seq);
		ASSERT_EQ(0, backlog_push(&b, rec, 1 + seq % 500));
	}
	EXPECT_EQ(10000U, b.count);
	for (seq = 0; seq < 10000; seq++) {
		const uint8_t *r = backlog_peek(&b, &size);

		ASSERT_NE(NULL, r);
		ASSERT_EQ(1 + seq % 500, size);
		ASSERT_TRUE(same(r, size, seq)) TH_LOG("record %u", seq);
		backlog_pop(&b);
	}
	EXPECT_TRUE(backlog_empty(&b));
	EXPECT_EQ(NULL, backlog_peek(&b, &size));
	backlog_release(&b);
	EXPECT_EQ(NULL, b.buf);
}

/* Pushing while popping (lymphd copies between handfuls it handles): the
 * order holds across the moves to the front and the growths. */
TEST(interleaved_pushes_and_pops_keep_the_order)
{
	struct backlog b;
	uint8_t rec[600];
	uint32_t in = 0, out = 0, size, round;

	backlog_init(&b, 64u << 20);
	for (round = 0; round < 2000; round++) {
		uint32_t k, n_in = 1 + (round * 7) % 300, n_out = 1 + (round * 13) % 280;

		for (k = 0; k < n_in; k++, in++) {
			fill(rec, 80 + in % 257, in);
			ASSERT_LE(0, backlog_push(&b, rec, 80 + in % 257));
		}
		for (k = 0; k < n_out && !backlog_empty(&b); k++, out++) {
			const uint8_t *r = backlog_peek(&b, &size);

			ASSERT_EQ(80 + out % 257, size);
			ASSERT_TRUE(same(r, size, out)) TH_LOG("record %u", out);
			backlog_pop(&b);
		}
	}
	while (!backlog_empty(&b)) {
		const uint8_t *r = backlog_peek(&b, &size);

		ASSERT_TRUE(same(r, size, out));
		backlog_pop(&b);
		out++;
	}
	EXPECT_EQ(in, out);
	backlog_release(&b);
}

/* Full at the bound: the record that reaches it is kept, and says so. */
TEST(full_at_the_bound_keeps_the_record_that_reached_it)
{
	struct backlog b;
	uint8_t rec[120] = { 0 };
	int r = 0, n = 0;

	backlog_init(&b, 4096);
	while (!r) {
		r = backlog_push(&b, rec, sizeof(rec));
		n++;
	}
	EXPECT_EQ(1, r);
	EXPECT_EQ((size_t)n, b.count);
	/* 4 + 120 bytes, padded to 128: the 32nd reaches 4096 */
	EXPECT_EQ(32, n);
	/* one handled: one more fits, and fills it again */
	backlog_pop(&b);
	EXPECT_EQ(1, backlog_push(&b, rec, sizeof(rec)));
	backlog_pop(&b);
	backlog_pop(&b);
	EXPECT_EQ(0, backlog_push(&b, rec, sizeof(rec)));
	while (!backlog_empty(&b))
		backlog_pop(&b);
	backlog_release(&b);
}

TEST(bad_sizes_are_refused)
{
	struct backlog b;
	uint8_t rec[8] = { 0 };

	backlog_init(&b, 4096);
	EXPECT_EQ(-EINVAL, backlog_push(&b, rec, 0));
	EXPECT_EQ(-EINVAL, backlog_push(&b, rec, 65536));
	EXPECT_TRUE(backlog_empty(&b));
}

/* Memory goes back only when nothing is held. */
TEST(release_waits_until_empty)
{
	struct backlog b;
	uint8_t rec[200] = { 0 };
	int i;

	backlog_init(&b, 64u << 20);
	for (i = 0; i < 5000; i++)
		backlog_push(&b, rec, sizeof(rec));
	EXPECT_GE(b.cap, (size_t)5000 * 208);
	backlog_release(&b);
	EXPECT_NE(NULL, b.buf); /* still held */
	while (!backlog_empty(&b))
		backlog_pop(&b);
	backlog_release(&b);
	EXPECT_EQ(NULL, b.buf);
	EXPECT_EQ(0U, b.cap);
	EXPECT_GE(b.peak, (size_t)5000 * 208);
	/* and it is usable again */
	EXPECT_EQ(0, backlog_push(&b, rec, sizeof(rec)));
	backlog_pop(&b);
	backlog_release(&b);
}

/* Freed while it holds records: says how many, and holds none after. */
TEST(free_says_what_it_dropped)
{
	struct backlog b;
	uint8_t rec[64] = { 0 };
	int i;

	backlog_init(&b, 64u << 20);
	for (i = 0; i < 7; i++)
		backlog_push(&b, rec, sizeof(rec));
	EXPECT_EQ(7U, backlog_free(&b));
	EXPECT_TRUE(backlog_empty(&b));
	EXPECT_EQ(NULL, b.buf);
	EXPECT_EQ(0U, backlog_free(&b));
}

TEST_HARNESS_MAIN
