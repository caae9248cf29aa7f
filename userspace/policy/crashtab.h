/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-binary table of danger deaths, keyed by the executable's (dev, inode):
 * the statistics on "programs that died badly" the paper asks the system to
 * keep.  Bounded: when full, the entry with the lowest decayed count goes.
 * Pure: no I/O, the clock is a parameter.
 */
#ifndef LYMPH_CRASHTAB_H
#define LYMPH_CRASHTAB_H

#include <stddef.h>
#include <stdint.h>
#include "decay.h"
#include "hashtab.h"
#include "lymph/events.h"

struct crash_entry {
	uint64_t ino;
	uint32_t dev;
	uint32_t used;		/* slot holds an entry */
	uint64_t danger_deaths; /* since lymphd started */
	struct decay rate;	/* decayed danger deaths */
	uint64_t last_ns;
	uint32_t last_signal;
	uint32_t last_uid;
	char comm[LYMPH_COMM_LEN];
};

struct crashtab {
	struct hashtab ht;  /* of struct crash_entry, keyed (dev, ino) */
	size_t max_entries; /* eviction above this (<= cap * 3/4) */
	uint64_t half_life_ns;
	uint64_t evictions;
};

/* max_entries >= 1; returns 0 or -ENOMEM / -EINVAL. */
int crashtab_init(struct crashtab *t, size_t max_entries, uint64_t half_life_ns);
void crashtab_free(struct crashtab *t);

/* Count one danger death of binary (dev, ino); returns the entry or NULL
 * when the key is (0, 0), an unknown binary. */
struct crash_entry *crashtab_record(struct crashtab *t, uint32_t dev, uint64_t ino, uint64_t now_ns,
				    uint32_t signo, uint32_t uid,
				    const uint8_t comm[LYMPH_COMM_LEN]);

struct crash_entry *crashtab_find(const struct crashtab *t, uint32_t dev, uint64_t ino);

/* Fill out[] with up to n entries, highest decayed count first; returns how
 * many were written. */
size_t crashtab_top(const struct crashtab *t, uint64_t now_ns, const struct crash_entry **out,
		    size_t n);

#endif
