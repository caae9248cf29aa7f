/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Dead time for a storming lineage, pure: the paper's adaptive lock.
 *
 * When a lineage overdraws its clone budget it is held: its processes keep
 * running but may not create more (their pids cgroup is pinned at its
 * current size, or, without one, they are stopped).  At the end of each
 * dead time lymphd looks: if the lineage still tried to grow, the hold goes
 * on and the dead time doubles (up to dead_time_max); if not, the hold is
 * lifted.  A lineage held again soon after a lift starts from the doubled
 * dead time; calm spells halve it back, and at dead_time_min and calm the
 * episode ends.  With kill_after set, a storm that outlasts it is killed.
 * The clock and "did it try to grow" are inputs.
 */
#ifndef LYMPH_DEADTIME_H
#define LYMPH_DEADTIME_H

#include <stdint.h>
#include "config.h"

struct deadtime {
	uint64_t episode_start; /* 0: no storm */
	uint64_t dead_time;	/* current hold length */
	uint64_t hold_until;	/* held until then (0: not held) */
	uint64_t last_hold;	/* when the last hold began */
	uint64_t last_lift;
	uint64_t calm_check; /* when to look at calm again */
	uint32_t holds;	     /* in this episode */
	uint32_t extensions;
};

enum deadtime_action {
	DT_NONE,
	DT_EXTEND, /* still storming: keep holding, dead time doubled */
	DT_LIFT,   /* calm during the hold: let it grow again */
	DT_END,	   /* calm after the lift: the episode is over */
	DT_KILL,   /* kill_after exceeded while storming */
};

/* The lineage overdrew its budget and is (again) held from now; returns 1
 * when this starts an episode.  Holding while already held changes nothing. */
int deadtime_on_hold(const struct throttle_conf *c, struct deadtime *d, uint64_t now);

/* What is due at now; storming: the lineage tried to grow since the last
 * look.  The state moves on. */
enum deadtime_action deadtime_due(const struct throttle_conf *c, struct deadtime *d, uint64_t now,
				  int storming);

/* Next time deadtime_due needs to run (0: none). */
uint64_t deadtime_next(const struct deadtime *d);

#endif
