// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hashtab.h"

uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int hashtab_init(struct hashtab *t, const struct hashtab_ops *ops, size_t size, size_t cap)
{
	memset(t, 0, sizeof(*t));
	if (cap < 2 || (cap & (cap - 1)) || !size)
		return -EINVAL;
	t->slots = calloc(cap, size);
	if (!t->slots)
		return -ENOMEM;
	t->size = size;
	t->cap = cap;
	t->max_cap = cap;
	t->ops = ops;
	return 0;
}

int hashtab_init_growing(struct hashtab *t, const struct hashtab_ops *ops, size_t size,
			 size_t max_cap)
{
	int err;

	if (max_cap < 2 || (max_cap & (max_cap - 1)))
		return -EINVAL;
	err = hashtab_init(t, ops, size, max_cap < 64 ? max_cap : 64);
	if (!err)
		t->max_cap = max_cap;
	return err;
}

int hashtab_reserve(struct hashtab *t)
{
	struct hashtab bigger = *t;
	size_t i;

	if ((t->count + 1) * 2 <= t->cap || t->cap >= t->max_cap)
		return t->count + 1 < t->cap ? 0 : -ENOSPC;
	bigger.cap = t->cap * 2;
	bigger.slots = calloc(bigger.cap, t->size);
	if (!bigger.slots)
		return t->count + 1 < t->cap ? 0 : -ENOSPC;
	for (i = 0; i < t->cap; i++) {
		const void *e = hashtab_at(t, i);

		size_t j;

		if (!t->ops->used(e))
			continue;
		/* Keys are distinct: the first empty slot of its run. */
		j = (size_t)t->ops->hash(e) & (bigger.cap - 1);
		while (t->ops->used(hashtab_at(&bigger, j)))
			j = (j + 1) & (bigger.cap - 1);
		memcpy(hashtab_at(&bigger, j), e, t->size);
	}
	free(t->slots);
	t->slots = bigger.slots;
	t->cap = bigger.cap;
	return 0;
}

void hashtab_free(struct hashtab *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

size_t hashtab_cap_for(size_t min, size_t max_entries, size_t num, size_t den)
{
	size_t cap = min;

	while (cap * num / den < max_entries)
		cap *= 2;
	return cap;
}

void *hashtab_probe(const struct hashtab *t, const void *key, uint64_t h)
{
	size_t mask = t->cap - 1, i = (size_t)h & mask;

	for (;;) {
		void *e = hashtab_at(t, i);

		if (!t->ops->used(e) || t->ops->match(e, key))
			return e;
		i = (i + 1) & mask;
	}
}

void *hashtab_find(const struct hashtab *t, const void *key, uint64_t h)
{
	void *e;

	if (!t->slots)
		return NULL;
	e = hashtab_probe(t, key, h);
	return t->ops->used(e) ? e : NULL;
}

void hashtab_remove(struct hashtab *t, void *entry)
{
	size_t mask = t->cap - 1, i = (size_t)((char *)entry - (char *)t->slots) / t->size, j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->ops->used(hashtab_at(t, j)))
			break;
		home = (size_t)t->ops->hash(hashtab_at(t, j)) & mask;
		/* Entry j stays unless its home lies cyclically outside (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		memcpy(hashtab_at(t, i), hashtab_at(t, j), t->size);
		i = j;
	}
	memset(hashtab_at(t, i), 0, t->size);
	t->count--;
}
