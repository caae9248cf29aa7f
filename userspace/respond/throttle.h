/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The clone-storm throttle, around deadtime.c: the BPF fork probe stops the
 * forkers of a lineage that overdraws its budget; this holds them for the
 * lineage's dead time, continues them for a slice, lengthens the hold while
 * the storm goes on and ends it when calm; kills only if kill_after says so.
 * Nothing is ever left stopped: every held pid is continued at the end, on
 * lymphctl release, when lymphd exits, and, after a crash of lymphd, at its
 * next start from the journal.
 */
#ifndef LYMPH_THROTTLE_H
#define LYMPH_THROTTLE_H

#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>
#include "clock.h"
#include "config.h"
#include "deadtime.h"
#include "journal.h"
#include "kthrottle.h"

struct lineage;

struct throttler {
	struct lineage *v;
	size_t n, cap;
	struct throttle_conf conf;
	int enforce;
	int available; /* the kernel throttle can stop forkers */
	double factor; /* budget multiplier from the weather */
	struct journal *journal;
	struct kthrottle *kt; /* the kernel side: BPF maps or lymph.ko's knobs */
	struct clock_offset clk;
	uint64_t kills;
	uint64_t move_failed; /* moves of members into a hold that failed */
	uint32_t protect_uids[CFG_LIST_MAX];
	size_t n_protect_uids;
	struct throttle_replay *replay; /* during the journal replay at start */
	const char *recover_by;		/* who replays: NULL for lymphd's start */
	size_t recovered;		/* episodes the replay ended */
};

int throttler_init(struct throttler *t, const struct policy *p, struct journal *j, int enforce,
		   struct kthrottle *kt);
/* Continues everything held. */
void throttler_free(struct throttler *t, uint64_t now);

void throttler_on_record(struct throttler *t, const struct lymph_throttle *r, uint64_t now);
void throttler_tick(struct throttler *t, uint64_t now);
uint64_t throttler_next(const struct throttler *t);

/* After a lymphd crash: continue whatever the journal says was held.  One
 * record at a time (0, or -EINVAL for a damaged throttle record), then done. */
int throttler_replay_record(struct throttler *t, struct json_object *rec, uint64_t now);
void throttler_replay_done(struct throttler *t, uint64_t now);

/* Journal every held lineage (rotation). */
int throttler_snapshot(struct throttler *t);

/* lymphctl release --lineage KIND:ID (e.g. session:1234): 0 or -ENOENT. */
int throttler_release(struct throttler *t, const char *lineage, uint64_t now);

void throttler_reload(struct throttler *t, const struct policy *p, int enforce);
void throttler_set_factor(struct throttler *t, double budget_factor);
/* For the weather: lineages held (throttled) now. */
size_t throttler_held(const struct throttler *t);

struct json_object *throttler_json(const struct throttler *t, uint64_t now);

/* Push settings and the protected pids/uids to the kernel throttle. */
int throttler_push(struct throttler *t);

#endif
