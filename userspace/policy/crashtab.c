// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "crashtab.h"

static uint64_t key_hash(uint32_t dev, uint64_t ino)
{
	/* splitmix64 finaliser: inode numbers are dense, spread them. */
	uint64_t x = ino ^ ((uint64_t)dev << 40) ^ dev;

	x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27; x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int crashtab_init(struct crashtab *t, size_t max_entries, uint64_t half_life_ns)
{
	size_t cap = 16;

	memset(t, 0, sizeof(*t));
	if (!max_entries || !half_life_ns)
		return -EINVAL;
	/* Keep the load factor at most 3/4 so probes stay short. */
	while (cap * 3 / 4 < max_entries)
		cap *= 2;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = cap;
	t->max_entries = max_entries;
	t->half_life_ns = half_life_ns;
	return 0;
}

void crashtab_free(struct crashtab *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static size_t probe(const struct crashtab *t, uint32_t dev, uint64_t ino)
{
	size_t mask = t->cap - 1, i = key_hash(dev, ino) & mask;

	while (t->slots[i].used && !(t->slots[i].dev == dev && t->slots[i].ino == ino))
		i = (i + 1) & mask;
	return i;
}

struct crash_entry *crashtab_find(const struct crashtab *t, uint32_t dev, uint64_t ino)
{
	size_t i;

	if (!t->slots)
		return NULL;
	i = probe(t, dev, ino);
	return t->slots[i].used ? &t->slots[i] : NULL;
}

/*
 * Remove slot i from a linear-probing table without tombstones: shift back
 * the entries of the same probe run that would otherwise be cut off.
 */
static void remove_slot(struct crashtab *t, size_t i)
{
	size_t mask = t->cap - 1, j = i;

	t->slots[i].used = 0;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->slots[j].used)
			break;
		home = key_hash(t->slots[j].dev, t->slots[j].ino) & mask;
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((i <= j) ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j].used = 0;
		i = j;
	}
	t->count--;
}

static void evict_coldest(struct crashtab *t, uint64_t now_ns)
{
	size_t i, victim = t->cap;
	double low = 0;

	for (i = 0; i < t->cap; i++) {
		double v;

		if (!t->slots[i].used)
			continue;
		v = decay_value(&t->slots[i].rate, now_ns, t->half_life_ns);
		if (victim == t->cap || v < low) {
			victim = i;
			low = v;
		}
	}
	if (victim != t->cap) {
		remove_slot(t, victim);
		t->evictions++;
	}
}

struct crash_entry *crashtab_record(struct crashtab *t, uint32_t dev, uint64_t ino,
				    uint64_t now_ns, uint32_t signo, uint32_t uid,
				    const uint8_t comm[LYMPH_COMM_LEN])
{
	struct crash_entry *e;
	size_t i;

	if (!t->slots || (!dev && !ino))
		return NULL;
	i = probe(t, dev, ino);
	if (!t->slots[i].used) {
		if (t->count >= t->max_entries) {
			evict_coldest(t, now_ns);
			i = probe(t, dev, ino);
		}
		memset(&t->slots[i], 0, sizeof(t->slots[i]));
		t->slots[i].used = 1;
		t->slots[i].dev = dev;
		t->slots[i].ino = ino;
		t->count++;
	}
	e = &t->slots[i];
	e->danger_deaths++;
	decay_add(&e->rate, now_ns, t->half_life_ns, 1.0);
	e->last_ns = now_ns;
	e->last_signal = signo;
	e->last_uid = uid;
	memcpy(e->comm, comm, LYMPH_COMM_LEN);
	e->comm[LYMPH_COMM_LEN - 1] = 0;
	return e;
}

size_t crashtab_top(const struct crashtab *t, uint64_t now_ns,
		    const struct crash_entry **out, size_t n)
{
	size_t i, k = 0;

	/* Insertion into a small sorted array: n is a handful (top 10). */
	for (i = 0; i < t->cap && n; i++) {
		const struct crash_entry *e = &t->slots[i];
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
