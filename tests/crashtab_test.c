// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-binary crash table (userspace/crashtab.c), without root: counts
 * per (dev, inode), bounded size with eviction of the coldest entry, every
 * surviving entry still found after evictions, top-N ordered by decayed
 * count.  Checked against a plain reference model under random workloads.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "crashtab.h"

/* EXPECT_EQ(3, t.count): the harness compares an int literal with size_t */
#pragma GCC diagnostic ignored "-Wsign-compare"

#define SEC  1000000000ULL
#define HOUR (3600 * SEC)

static const uint8_t comm[LYMPH_COMM_LEN] = "crasher";

FIXTURE(tab)
{
	struct crashtab t;
};

FIXTURE_SETUP(tab)
{
	ASSERT_EQ(0, crashtab_init(&self->t, 64, HOUR));
}

FIXTURE_TEARDOWN(tab)
{
	crashtab_free(&self->t);
}

TEST(init_rejects_nonsense)
{
	struct crashtab t;

	EXPECT_EQ(-EINVAL, crashtab_init(&t, 0, HOUR));
	EXPECT_EQ(-EINVAL, crashtab_init(&t, 8, 0));
}

TEST_F(tab, counts_per_binary)
{
	struct crash_entry *e;
	int i;

	for (i = 0; i < 10000; i++)
		ASSERT_NE(NULL, crashtab_record(&self->t, 0xfe00, 42, SEC + i, SIGSEGV, 0, comm));
	crashtab_record(&self->t, 0xfe00, 43, 2 * SEC, SIGABRT, 1000, comm);
	/* same inode on another device is another binary */
	crashtab_record(&self->t, 0xfe01, 42, 2 * SEC, SIGBUS, 1001, comm);

	EXPECT_EQ(3, self->t.ht.count);
	e = crashtab_find(&self->t, 0xfe00, 42);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(10000, e->danger_deaths);
	EXPECT_EQ(SIGSEGV, e->last_signal);
	EXPECT_STREQ("crasher", (const char *)e->comm);
	e = crashtab_find(&self->t, 0xfe00, 43);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(1, e->danger_deaths);
	EXPECT_EQ(SIGABRT, e->last_signal);
	EXPECT_EQ(1000, e->last_uid);
	e = crashtab_find(&self->t, 0xfe01, 42);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(1, e->danger_deaths);
	EXPECT_EQ(1001, e->last_uid);
	EXPECT_EQ(NULL, crashtab_find(&self->t, 0xfe00, 44));
}

TEST_F(tab, unknown_binary_not_counted)
{
	EXPECT_EQ(NULL, crashtab_record(&self->t, 0, 0, SEC, SIGSEGV, 0, comm));
	EXPECT_EQ(0, self->t.ht.count);
}

/* A comm without a NUL is stored terminated. */
TEST_F(tab, comm_terminated)
{
	uint8_t full[LYMPH_COMM_LEN];
	struct crash_entry *e;

	memset(full, 'x', sizeof(full));
	e = crashtab_record(&self->t, 1, 1, SEC, SIGSEGV, 0, full);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(LYMPH_COMM_LEN - 1, strlen((const char *)e->comm));
}

TEST_F(tab, top_is_ordered_and_bounded)
{
	const struct crash_entry *top[5];
	size_t n, i;
	uint64_t ino;

	/* binary ino crashes ino times */
	for (ino = 1; ino <= 20; ino++)
		for (i = 0; i < ino; i++)
			crashtab_record(&self->t, 7, ino, SEC, SIGSEGV, 0, comm);
	n = crashtab_top(&self->t, SEC, top, 5);
	ASSERT_EQ(5, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(20 - i, top[i]->ino) TH_LOG("rank %zu", i);
	/* asking for more than there is */
	{
		const struct crash_entry *all[64];

		EXPECT_EQ(20, crashtab_top(&self->t, SEC, all, 64));
		for (i = 1; i < 20; i++)
			EXPECT_LE(all[i]->danger_deaths, all[i - 1]->danger_deaths);
	}
	EXPECT_EQ(0, crashtab_top(&self->t, SEC, top, 0));
}

/* Ranking is by decayed count: an old storm ranks below a fresh one. */
TEST_F(tab, top_uses_decay)
{
	const struct crash_entry *top[2];
	int i;

	for (i = 0; i < 100; i++)
		crashtab_record(&self->t, 1, 100, SEC, SIGSEGV, 0, comm);
	for (i = 0; i < 10; i++)
		crashtab_record(&self->t, 1, 200, 10 * HOUR, SIGSEGV, 0, comm);
	ASSERT_EQ(2, crashtab_top(&self->t, 10 * HOUR, top, 2));
	EXPECT_EQ(200, top[0]->ino);
	EXPECT_EQ(100, top[1]->ino);
	/* lifetime totals are kept */
	EXPECT_EQ(100, top[1]->danger_deaths);
}

/* Full table: the coldest entry goes, never the one being recorded. */
TEST(eviction_takes_the_coldest)
{
	struct crashtab t;
	uint64_t ino;
	int i;

	ASSERT_EQ(0, crashtab_init(&t, 4, HOUR));
	for (ino = 1; ino <= 4; ino++)
		for (i = 0; i < (int)ino * 10; i++)
			crashtab_record(&t, 1, ino, SEC, SIGSEGV, 0, comm);
	ASSERT_NE(NULL, crashtab_record(&t, 1, 5, 2 * SEC, SIGSEGV, 0, comm));
	EXPECT_EQ(4, t.ht.count);
	EXPECT_EQ(1, t.evictions);
	EXPECT_EQ(NULL, crashtab_find(&t, 1, 1));
	for (ino = 2; ino <= 5; ino++)
		EXPECT_NE(NULL, crashtab_find(&t, 1, ino)) TH_LOG("ino %ju", (uintmax_t)ino);
	/* the newcomer (count 1) is now the coldest and goes next */
	crashtab_record(&t, 1, 6, 3 * SEC, SIGSEGV, 0, comm);
	EXPECT_EQ(NULL, crashtab_find(&t, 1, 5));
	EXPECT_NE(NULL, crashtab_find(&t, 1, 6));
	crashtab_free(&t);
}

/* Reference model: up to MAXE (key, count, value) with the same rules. */
#define MAXE 24
struct model {
	uint64_t ino[MAXE];
	uint64_t deaths[MAXE];
	int n;
};

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Random workload over many keys (dense and colliding inode numbers), no
 * time passing so every decayed value equals its count: after every step
 * the table and the model hold the same keys with the same counts.  Ties
 * are avoided by giving each key a distinct weight, so the coldest entry is
 * unique.
 */
TEST(random_against_model)
{
	struct crashtab t;
	struct model m = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int step, i, bad = 0;

	ASSERT_EQ(0, crashtab_init(&t, MAXE, 1000 * HOUR));
	for (step = 0; step < 20000 && !bad; step++) {
		/* small keys are hot, large keys are cold */
		uint64_t r = rng(&seed), ino = 1 + (r % 97) * (r % 3 ? 1 : 64);
		int j = -1;

		for (i = 0; i < m.n; i++)
			if (m.ino[i] == ino)
				j = i;
		if (j < 0 && m.n == MAXE) {
			int c = 0;

			for (i = 1; i < m.n; i++)
				if (m.deaths[i] < m.deaths[c])
					c = i;
			/* with ties the table may choose either: skip those steps */
			for (i = 0; i < m.n; i++)
				if (i != c && m.deaths[i] == m.deaths[c])
					c = -1;
			if (c < 0)
				continue;
			m.ino[c] = m.ino[m.n - 1];
			m.deaths[c] = m.deaths[m.n - 1];
			m.n--;
		}
		if (j < 0) {
			j = m.n++;
			m.ino[j] = ino;
			m.deaths[j] = 0;
		}
		m.deaths[j]++;
		ASSERT_NE(NULL, crashtab_record(&t, 3, ino, SEC, SIGSEGV, 0, comm));

		if (t.ht.count != (size_t)m.n) {
			TH_LOG("step %d: table has %zu entries, model %d", step, t.ht.count, m.n);
			bad = 1;
		}
		for (i = 0; i < m.n; i++) {
			struct crash_entry *e = crashtab_find(&t, 3, m.ino[i]);

			if (!e || e->danger_deaths != m.deaths[i]) {
				TH_LOG("step %d: ino %ju: table %ju, model %ju", step,
				       (uintmax_t)m.ino[i], (uintmax_t)(e ? e->danger_deaths : 0),
				       (uintmax_t)m.deaths[i]);
				bad = 1;
			}
		}
	}
	EXPECT_EQ(0, bad);
	EXPECT_LE(t.ht.count, (size_t)MAXE);
	/* the workload really exercised eviction and backward-shift removal */
	EXPECT_LT(1000, t.evictions) TH_LOG("%ju evictions", (uintmax_t)t.evictions);
	crashtab_free(&t);
}

TEST_HARNESS_MAIN
