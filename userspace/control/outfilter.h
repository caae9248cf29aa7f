/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What lymphd prints, and what it sends to the system log.  Pure.
 *
 * Every printed item (a sensor record, or a record lymphd journals: a
 * decision, an action, a weather change) is one *item*.  Each item has a
 * level: 0 is what an administrator acts on (danger deaths, fatal signals
 * sent by another process, OOM kills, drops, every decision and action,
 * weather changes), 1 is shown with -v (programmed deaths, each forker a
 * sensor held, lymphd's own start/stop/reload), 2 with -vv (forks, execs,
 * pressure spot checks, the state snapshots of a journal rotation).
 *
 * --events=LIST names items by kind, left to right: NAME shows every item
 * of that kind whatever the verbosity, -NAME hides it, "default" adds what
 * the verbosity shows, "all" everything.  A list that begins with -NAME
 * starts from "default".  Without --events, the verbosity decides alone.
 */
#ifndef LYMPH_OUTFILTER_H
#define LYMPH_OUTFILTER_H

#include <stdint.h>
#include <json-c/json.h>
#include "classify.h"
#include "lymph/events.h"

enum out_item {
	OUT_DANGER,	/* death, class danger */
	OUT_PROGRAMMED, /* death, class programmed */
	OUT_SIGNAL,	/* fatal signal sent by another process */
	OUT_OOM,
	OUT_DROP,
	OUT_PRESSURE,
	OUT_HELD, /* sensor record: a forker of a storming lineage held */
	OUT_EXEC,
	OUT_FORK,
	OUT_SERVICE, /* journaled decisions and actions, by "type" */
	OUT_QUARANTINE,
	OUT_THROTTLE,
	OUT_WEATHER,
	OUT_INTEGRITY,
	OUT_LYMPHD,   /* lymphd's start, stop, reload */
	OUT_SNAPSHOT, /* state re-written by a journal rotation */
	OUT_OTHER,    /* a journal record of a type not known here */
	OUT_ITEM_MAX
};

#define OUT_VERBOSE_MAX 3 /* -vvv adds libbpf's log, no more items */

struct outfilter {
	uint32_t show;	 /* items shown whatever the verbosity */
	uint32_t hide;	 /* items never shown (wins over everything) */
	int use_default; /* also what the verbosity shows */
	int touched;	 /* --events was given at least once */
};

/* No --events: the verbosity decides. */
void outfilter_init(struct outfilter *f);

/*
 * Apply one --events=LIST (may be given several times, read as one list).
 * 0, or -EINVAL with *bad pointing at the unknown or empty name within list
 * (its length in *bad_len).
 */
int outfilter_parse(struct outfilter *f, const char *list, const char **bad, size_t *bad_len);

/* The names --events knows, comma-separated, for error messages and help. */
const char *outfilter_names(void);

/* The level (verbosity) at which an item is shown by default. */
int out_item_level(enum out_item it);

/* The decision: print this item at this verbosity under this filter? */
int outfilter_wants(const struct outfilter *f, enum out_item it, int verbosity);

/* The item of a sensor record (vd: the death's verdict, NULL otherwise). */
enum out_item out_item_of_record(const struct lymph_hdr *rec, const struct verdict *vd);

/* The item of a journal record (its "type" and "action"). */
enum out_item out_item_of_journal(struct json_object *rec);

/* The --events name of an item ("danger", "fork", "service", ...). */
const char *out_item_name(enum out_item it);

#endif
