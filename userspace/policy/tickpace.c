// SPDX-License-Identifier: GPL-2.0-only
/*
 * The drain timer's pace (tickpace.h): active, arming, dozing.
 */
#include "tickpace.h"

#define DOZE_NS 1000000000ULL /* the weather's step: lymphd wakes for it anyway */

enum tick_pace tickpace_at_tick(struct tickpace *tp, const struct pace_input *in)
{
	int quiet = in->records == tp->records && in->can_doze && !in->busy;

	tp->records = in->records;
	if (!quiet) {
		tp->state = PACE_ACTIVE;
		return tp->state;
	}
	switch (tp->state) {
	case PACE_ACTIVE:
		tp->state = PACE_ARMING; /* the flag goes up; the period stays */
		break;
	case PACE_ARMING:
	case PACE_DOZING:
		/* A record that took the flag was drained (not quiet) or is
		 * waking lymphd now: either way, not a time to sleep longer. */
		tp->state = in->flag_held ? PACE_DOZING : PACE_ACTIVE;
		break;
	}
	return tp->state;
}

enum tick_pace tickpace_at_wake(struct tickpace *tp, const struct pace_input *in)
{
	/* tp->records stays as the last tick saw it: the next tick finds the
	 * records that came and stays active too. */
	if (tp->state != PACE_ACTIVE &&
	    (in->records != tp->records || in->busy || !in->can_doze || !in->flag_held))
		tp->state = PACE_ACTIVE;
	return tp->state;
}

uint64_t tickpace_doze_ns(uint64_t drain_ns, uint64_t shortest)
{
	uint64_t doze = DOZE_NS;

	if (shortest && shortest < doze)
		doze = shortest;
	return doze > drain_ns ? doze : 0;
}
