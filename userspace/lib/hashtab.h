/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymph's one hash table and its one hash function.  Open addressing with
 * linear probing over a power of two of slots; removal shifts the rest of
 * the probe run back, so there are no tombstones and a lookup stops at
 * the first empty slot.  The entries live in one array that the owner may
 * scan (hashtab_at); a slot of all zero bytes is empty, and the owner says
 * how to tell a used entry, hash its key and compare it with a key.  The
 * table never grows: the owner keeps count below cap (its load factor)
 * and evicts as it sees fit.
 */
#ifndef LYMPH_HASHTAB_H
#define LYMPH_HASHTAB_H

#include <stddef.h>
#include <stdint.h>

/* The one hash: the splitmix64 finaliser, which spreads dense keys
 * (inode numbers, pids) over every bit. */
uint64_t hash_u64(uint64_t x);

/* Fold one more key field into a hash. */
static inline uint64_t hash_add(uint64_t h, uint64_t v)
{
	return hash_u64(h ^ v);
}

/* A binary's identity (dev, ino). */
static inline uint64_t hash_file(uint32_t dev, uint64_t ino)
{
	return hash_u64(ino ^ ((uint64_t)dev << 40) ^ dev);
}

struct hashtab_ops {
	int (*used)(const void *entry);
	uint64_t (*hash)(const void *entry);		  /* of a used entry's key */
	int (*match)(const void *entry, const void *key); /* a used entry has key */
};

struct hashtab {
	void *slots; /* cap entries of size bytes */
	size_t size;
	size_t cap;   /* power of two */
	size_t count; /* used entries: the owner counts what it adds */
	const struct hashtab_ops *ops;
	size_t max_cap; /* cap grows up to this (hashtab_reserve); == cap when fixed */
};

/* cap slots (a power of two, >= 2) of size bytes, all empty: 0 or -errno. */
int hashtab_init(struct hashtab *t, const struct hashtab_ops *ops, size_t size, size_t cap);
void hashtab_free(struct hashtab *t);

/*
 * A table that starts small (64 slots, or max_cap when smaller) and
 * doubles up to max_cap (a power of two, >= 2) as entries come
 * (hashtab_reserve): a table sized for the worst case costs memory only
 * as it fills.  The owner sizes its own limits on max_cap.
 */
int hashtab_init_growing(struct hashtab *t, const struct hashtab_ops *ops, size_t size,
			 size_t max_cap);

/*
 * Before adding an entry: room for one more at a load of at most 1/2,
 * doubling the table while it is below max_cap (every entry moves:
 * pointers into the table are stale after a call).  0, or -ENOSPC when
 * the one more would leave no empty slot (a doubling that failed).
 */
int hashtab_reserve(struct hashtab *t);

/* The smallest power of two >= min, so that max_entries fit at a load of
 * at most num/den: the cap to give hashtab_init. */
size_t hashtab_cap_for(size_t min, size_t max_entries, size_t num, size_t den);

static inline void *hashtab_at(const struct hashtab *t, size_t i)
{
	return (char *)t->slots + i * t->size;
}

/* The entry with key (whose hash is h), or else the empty slot where it
 * would go: fill it and count it (t->count++).  The table must have an
 * empty slot (count < cap). */
void *hashtab_probe(const struct hashtab *t, const void *key, uint64_t h);

/* The used entry with key, or NULL. */
void *hashtab_find(const struct hashtab *t, const void *key, uint64_t h);

/* Remove a used entry (the slot becomes empty, later entries of its probe
 * run may move back: pointers into the table are stale after this). */
void hashtab_remove(struct hashtab *t, void *entry);

#endif
