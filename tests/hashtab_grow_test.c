// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/hashtab's growing tables: they start at 64 slots and double up to
 * their max_cap as entries come, every entry found again after each
 * doubling; at max_cap they stop growing and a full table says so.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "hashtab.h"

struct ent {
	uint64_t key;
	uint32_t used, val;
};

static int ent_used(const void *p)
{
	return ((const struct ent *)p)->used;
}

static uint64_t ent_hash(const void *p)
{
	return hash_u64(((const struct ent *)p)->key);
}

static int ent_match(const void *p, const void *key)
{
	return ((const struct ent *)p)->key == *(const uint64_t *)key;
}

static const struct hashtab_ops ops = { .used = ent_used, .hash = ent_hash, .match = ent_match };

static int add(struct hashtab *t, uint64_t key)
{
	struct ent *e;
	int err = hashtab_reserve(t);

	if (err)
		return err;
	e = hashtab_probe(t, &key, hash_u64(key));
	if (!e->used) {
		e->used = 1;
		e->key = key;
		t->count++;
	}
	e->val = (uint32_t)key * 3;
	return 0;
}

TEST(grows_to_max_cap_keeping_every_entry)
{
	struct hashtab t;
	uint64_t k, n = 2048;

	ASSERT_EQ(0, hashtab_init_growing(&t, &ops, sizeof(struct ent), 4096));
	EXPECT_EQ(64u, t.cap);
	EXPECT_EQ(4096u, t.max_cap);
	for (k = 1; k <= n; k++) {
		ASSERT_EQ(0, add(&t, k * 7919));
		ASSERT_GE(t.cap, 2 * t.count)
		TH_LOG("load above 1/2 at %llu", (unsigned long long)k);
	}
	EXPECT_EQ(4096u, t.cap);
	EXPECT_EQ(n, t.count);
	for (k = 1; k <= n; k++) {
		uint64_t key = k * 7919;
		const struct ent *e = hashtab_find(&t, &key, hash_u64(key));

		ASSERT_NE(NULL, e) TH_LOG("key %llu lost", (unsigned long long)key);
		EXPECT_EQ((uint32_t)key * 3, e->val);
	}
	/* At max_cap it fills past 1/2, and says when one more would fill it. */
	for (k = n + 1; k < 4096; k++)
		ASSERT_EQ(0, add(&t, k * 7919));
	EXPECT_EQ(4096u, t.cap);
	EXPECT_EQ(-ENOSPC, hashtab_reserve(&t));
	hashtab_free(&t);
}

TEST(a_fixed_table_never_grows)
{
	struct hashtab t;

	ASSERT_EQ(0, hashtab_init(&t, &ops, sizeof(struct ent), 128));
	EXPECT_EQ(128u, t.max_cap);
	ASSERT_EQ(0, add(&t, 1));
	EXPECT_EQ(128u, t.cap);
	hashtab_free(&t);
	EXPECT_EQ(-EINVAL, hashtab_init_growing(&t, &ops, sizeof(struct ent), 100));
}

TEST_HARNESS_MAIN
