/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket's and the metrics endpoint's clients live in fixed
 * arrays of pointers, unordered (a dropped client's slot takes the last
 * one); an event names a client, and dropping it needs its slot.
 */
#ifndef LYMPH_SLOTS_H
#define LYMPH_SLOTS_H

#include <string.h>
#include <sys/types.h>

/*
 * The index of p among the first n pointers of the array v, or -1.  v is
 * an array of pointers to any one object type; each is read through
 * memcpy, which the aliasing rules allow for any type (object pointers
 * share one representation on every POSIX system).
 */
static inline ssize_t slot_of(const void *v, size_t n, const void *p)
{
	const void *q;
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(&q, (const char *)v + i * sizeof(q), sizeof(q));
		if (q == p)
			return (ssize_t)i;
	}
	return -1;
}

#endif
