/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A backlog of records copied out of a ring buffer faster than they are
 * handled.  The kernel's ring is small and fixed (its pages are lymphd's
 * memory for good); when lymphd's CPU slows (a host that lends its CPUs:
 * this one runs at a fifth of its speed for up to 50 ms at a time) the
 * ring fills and records are lost although lymphd would catch up.
 * Copying a record (~190 bytes) costs a tenth of handling it, so lymphd
 * empties the ring into this backlog between handfuls of records it
 * handles: the backlog grows with the burst, up to a bound, and its
 * memory goes back to the system once it is empty again.
 *
 * Records are kept in order, each as a 4-byte length and its bytes padded
 * to 8.  Pure apart from mmap/mremap/munmap: no locks, one thread.
 */
#ifndef LYMPH_BACKLOG_H
#define LYMPH_BACKLOG_H

#include <stddef.h>
#include <stdint.h>

struct backlog {
	uint8_t *buf;		/* mmap'd; NULL while empty and released */
	size_t cap;		/* bytes mapped */
	size_t head, tail;	/* the next record to hand out; the end */
	size_t max;		/* bytes: a push that reaches this says full */
	size_t peak;		/* the most bytes held since backlog_init */
	size_t count;		/* records held */
};

/* max: the most bytes kept (a push may pass it by one record). */
void backlog_init(struct backlog *b, size_t max);

/*
 * Append a copy of rec (size bytes, 1..65535).  Returns 0, 1 when the
 * record went in and the backlog is now full (stop copying: handle some
 * first), or -ENOMEM when no memory could be had (the record is not kept).
 */
int backlog_push(struct backlog *b, const void *rec, uint32_t size);

/* The oldest record, NULL when there is none; backlog_pop() drops it. */
const void *backlog_peek(const struct backlog *b, uint32_t *size);
void backlog_pop(struct backlog *b);

static inline int backlog_empty(const struct backlog *b)
{
	return b->count == 0;
}

/* Empty: give its memory back (kept mapped while it is not). */
void backlog_release(struct backlog *b);

/* Drop what it holds and give its memory back; returns how many records
 * were dropped (the caller says so). */
size_t backlog_free(struct backlog *b);

#endif /* LYMPH_BACKLOG_H */
