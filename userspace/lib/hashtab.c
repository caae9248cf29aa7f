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
	t->ops = ops;
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
