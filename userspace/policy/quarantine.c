// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "quarantine.h"

int qtable_init(struct qtable *t, const struct quarantine_conf *c, size_t max_entries)
{
	size_t cap = 64;

	memset(t, 0, sizeof(*t));
	while (cap / 2 < max_entries)
		cap *= 2;
	t->e = calloc(cap, sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	t->cap = cap;
	t->conf = *c;
	return 0;
}

void qtable_free(struct qtable *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

/* Offences fade after good behaviour: half-life four times the longest
 * ban, so that time spent banned does not by itself erase the record. */
static uint64_t forgive(const struct qtable *t)
{
	return 4 * t->conf.duration_max;
}

static size_t slot(const struct qtable *t, const struct qkey *k)
{
	uint64_t h = (k->ino * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)k->dev << 32) ^ (k->uid * 0xff51afd7ed558ccdULL);
	size_t i = (size_t)(h ^ (h >> 29)) & (t->cap - 1);

	while (t->e[i].used && memcmp(&t->e[i].key, k, sizeof(*k)))
		i = (i + 1) & (t->cap - 1);
	return i;
}

struct qentry *qtable_find(const struct qtable *t, const struct qkey *k)
{
	size_t i;

	if (!t->e)
		return NULL;
	i = slot(t, k);
	return t->e[i].used ? &t->e[i] : NULL;
}

/* Forget the coldest entry that is not quarantined, to make room. */
static void make_room(struct qtable *t, uint64_t now)
{
	size_t i, victim = t->cap;
	double low = INFINITY;

	for (i = 0; i < t->cap; i++) {
		const struct qentry *e = &t->e[i];
		double v;

		if (!e->used || e->until > now)
			continue;
		v = decay_value(&e->score, now, t->conf.half_life) +
		    decay_value(&e->offences, now, forgive(t));
		if (v < low) {
			low = v;
			victim = i;
		}
	}
	if (victim == t->cap)
		return;
	/* Rebuild the probe runs after the hole: simple, and rare. */
	t->e[victim].used = 0;
	t->count--;
	for (i = (victim + 1) & (t->cap - 1); t->e[i].used; i = (i + 1) & (t->cap - 1)) {
		struct qentry moved = t->e[i];

		t->e[i].used = 0;
		t->e[slot(t, &moved.key)] = moved;
	}
}

static struct qentry *get(struct qtable *t, const struct qkey *k, uint64_t now)
{
	size_t i;

	if (!t->e)
		return NULL;
	i = slot(t, k);
	if (t->e[i].used)
		return &t->e[i];
	if (t->count >= t->cap / 2) {
		make_room(t, now);
		if (t->count >= t->cap / 2)
			return NULL;	/* full of active quarantines */
		i = slot(t, k);
	}
	memset(&t->e[i], 0, sizeof(t->e[i]));
	t->e[i].used = 1;
	t->e[i].key = *k;
	t->count++;
	return &t->e[i];
}

uint64_t qtable_duration(const struct qtable *t, const struct qentry *e, uint64_t now)
{
	/* The offence this would be: 1 + what is remembered of the earlier ones. */
	double n = 1.0 + decay_value(&e->offences, now, forgive(t));
	double d = (double)t->conf.duration_min * exp2(floor(n + 0.5) - 1.0);

	return d > (double)t->conf.duration_max ? t->conf.duration_max : (uint64_t)d;
}

struct qentry *qtable_on_danger(struct qtable *t, const struct qkey *k, uint64_t now, double factor)
{
	struct qentry *e = get(t, k, now);
	double threshold = t->conf.threshold * (factor > 0 ? factor : 1.0);

	if (!e)
		return NULL;
	if (e->until > now)
		return NULL;	/* already quarantined: the exec is denied anyway */
	decay_add(&e->score, now, t->conf.half_life, 1.0);
	/* 0.01: N deaths in quick succession reach a threshold of N despite decay. */
	if (decay_value(&e->score, now, t->conf.half_life) + 0.01 < threshold)
		return NULL;
	e->until = now + qtable_duration(t, e, now);
	e->since = now;
	e->total++;
	decay_add(&e->offences, now, forgive(t), 1.0);
	e->score = (struct decay){ 0 };	/* after release it must earn it again */
	return e;
}

const struct qentry *qtable_active(const struct qtable *t, const struct qkey *k, uint64_t now)
{
	const struct qentry *e = qtable_find(t, k);

	return (e && e->until > now) ? e : NULL;
}

int qtable_binary_active(const struct qtable *t, uint32_t dev, uint64_t ino, uint64_t now)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		if (t->e[i].used && t->e[i].until > now && t->e[i].key.dev == dev && t->e[i].key.ino == ino)
			return 1;
	return 0;
}

int qtable_end(struct qtable *t, const struct qkey *k)
{
	struct qentry *e = qtable_find(t, k);

	if (!e || !e->until)
		return -ENOENT;
	e->until = 0;
	e->since = 0;
	return 0;
}

struct qentry *qtable_restore(struct qtable *t, const struct qkey *k, uint64_t since,
			      uint64_t until, double offences, uint32_t total, uint64_t now)
{
	struct qentry *e = get(t, k, now);

	if (!e)
		return NULL;
	e->since = since;
	e->until = until;
	e->offences = (struct decay){ .value = offences, .last_ns = now };
	e->total = total;
	return e;
}
