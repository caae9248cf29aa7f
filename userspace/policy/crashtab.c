// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "crashtab.h"

struct crash_key {
	uint64_t ino;
	uint32_t dev;
};

static int entry_used(const void *p)
{
	return ((const struct crash_entry *)p)->used;
}

static uint64_t entry_hash(const void *p)
{
	const struct crash_entry *e = p;

	return hash_file(e->dev, e->ino);
}

static int entry_match(const void *p, const void *key)
{
	const struct crash_entry *e = p;
	const struct crash_key *k = key;

	return e->dev == k->dev && e->ino == k->ino;
}

static const struct hashtab_ops crash_ops = {
	.used = entry_used,
	.hash = entry_hash,
	.match = entry_match,
};

int crashtab_init(struct crashtab *t, size_t max_entries, uint64_t half_life_ns)
{
	int err;

	memset(t, 0, sizeof(*t));
	if (!max_entries || !half_life_ns)
		return -EINVAL;
	/* Keep the load factor at most 3/4 so probes stay short; the table
	 * grows to that size as binaries crash. */
	err = hashtab_init_growing(&t->ht, &crash_ops, sizeof(struct crash_entry),
				   hashtab_cap_for(16, max_entries, 3, 4));
	if (err)
		return err;
	t->max_entries = max_entries;
	t->half_life_ns = half_life_ns;
	return 0;
}

void crashtab_free(struct crashtab *t)
{
	hashtab_free(&t->ht);
	memset(t, 0, sizeof(*t));
}

static struct crash_entry *probe(const struct crashtab *t, uint32_t dev, uint64_t ino)
{
	struct crash_key k = { .ino = ino, .dev = dev };

	return hashtab_probe(&t->ht, &k, hash_file(dev, ino));
}

struct crash_entry *crashtab_find(const struct crashtab *t, uint32_t dev, uint64_t ino)
{
	struct crash_key k = { .ino = ino, .dev = dev };

	return hashtab_find(&t->ht, &k, hash_file(dev, ino));
}

static void evict_coldest(struct crashtab *t, uint64_t now_ns)
{
	struct crash_entry *victim = NULL;
	double low = 0;
	size_t i;

	for (i = 0; i < t->ht.cap; i++) {
		struct crash_entry *e = hashtab_at(&t->ht, i);
		double v;

		if (!e->used)
			continue;
		v = decay_value(&e->rate, now_ns, t->half_life_ns);
		if (!victim || v < low) {
			victim = e;
			low = v;
		}
	}
	if (victim) {
		hashtab_remove(&t->ht, victim);
		t->evictions++;
	}
}

struct crash_entry *crashtab_record(struct crashtab *t, uint32_t dev, uint64_t ino, uint64_t now_ns,
				    uint32_t signo, uint32_t uid,
				    const uint8_t comm[LYMPH_COMM_LEN])
{
	struct crash_entry *e;

	if (!t->ht.slots || (!dev && !ino))
		return NULL;
	e = probe(t, dev, ino);
	if (!e->used) {
		if (t->ht.count >= t->max_entries)
			evict_coldest(t, now_ns);
		if (hashtab_reserve(&t->ht))
			return NULL;
		e = probe(t, dev, ino); /* the runs may have moved, or the table grown */
		memset(e, 0, sizeof(*e));
		e->used = 1;
		e->dev = dev;
		e->ino = ino;
		t->ht.count++;
	}
	e->danger_deaths++;
	decay_add(&e->rate, now_ns, t->half_life_ns, 1.0);
	e->last_ns = now_ns;
	e->last_signal = signo;
	e->last_uid = uid;
	memcpy(e->comm, comm, LYMPH_COMM_LEN);
	e->comm[LYMPH_COMM_LEN - 1] = 0;
	return e;
}

size_t crashtab_top(const struct crashtab *t, uint64_t now_ns, const struct crash_entry **out,
		    size_t n)
{
	size_t i, k = 0;

	/* Insertion into a small sorted array: n is a handful (top 10). */
	for (i = 0; i < t->ht.cap && n; i++) {
		const struct crash_entry *e = hashtab_at(&t->ht, i);
		double v;
		size_t j;

		if (!e->used)
			continue;
		v = decay_value(&e->rate, now_ns, t->half_life_ns);
		if (k == n && v <= decay_value(&out[k - 1]->rate, now_ns, t->half_life_ns))
			continue;
		j = (k < n) ? k++ : k - 1;
		while (j > 0 && decay_value(&out[j - 1]->rate, now_ns, t->half_life_ns) < v) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = e;
	}
	return k;
}
