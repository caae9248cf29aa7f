/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The journal's record schema: typed, validated views of the records lymphd
 * replays at start (quarantine, throttle, service).  Pure: a replay never
 * reads a field the schema has not checked for type and range, so a damaged
 * or hostile line is refused as a whole (counted as a bad line) instead of
 * crashing lymphd or acting on a wrong value.
 *
 * Each jrec_*() returns 1 with *out filled when rec is a valid record of its
 * type, 0 when rec is of another type, -EINVAL when it is of this type but
 * damaged.  Strings in *out point into rec.
 */
#ifndef LYMPH_JREC_H
#define LYMPH_JREC_H

#include <stdint.h>
#include <json-c/json.h>
#include "supervise.h"

#define JREC_PATH_MAX 4096

struct jrec_quarantine {
	const char *action;
	const char *exe;	 /* absolute path or NULL */
	const char *result;	 /* NULL when absent */
	struct json_object *why; /* the evidence, an object, or NULL */
	uint32_t dev;
	uint64_t ino;
	uint32_t uid;
	uint64_t until_wall_ns, since_wall_ns;
	uint32_t old_mode; /* 0 when absent */
	uint32_t total;
	double offences;
};

struct jrec_throttle {
	const char *action;
	uint32_t kind; /* LYMPH_LINEAGE_* */
	uint64_t id;
	const char *hold_dir;	/* under the pids cgroup tree, or NULL */
	const char *parent_dir; /* set when hold_dir is */
	double dead_time_ms;
	uint32_t holds;
};

struct jrec_service {
	const char *name;
	const char *action; /* NULL when absent */
	int phase;	    /* enum svc_phase */
	uint32_t failures, restarts;
	uint64_t delay_ns;
	uint64_t deadline_wall_ns, since_wall_ns, healthy_at_wall_ns;
	int32_t pid;
	uint64_t recent_wall_ns[SUPERVISE_HISTORY];
	uint32_t n_recent;
	int have_why;
	const char *why_reason; /* NULL when absent */
	uint32_t why_signo;	/* 0 when absent or unknown */
	uint32_t why_exit_status;
	int why_danger;
	uint64_t why_wall_ns;
};

int jrec_quarantine(struct json_object *rec, struct jrec_quarantine *out);
int jrec_throttle(struct json_object *rec, struct jrec_throttle *out);
int jrec_service(struct json_object *rec, struct jrec_service *out);

/* Every known type checked: 0, or -EINVAL for a damaged record. */
int jrec_check(struct json_object *rec);

/* A hold cgroup path as the throttle makes them: absolute, under
 * /sys/fs/cgroup, no "." or ".." component, no empty component. */
int jrec_cgroup_path_ok(const char *path, size_t max);

#endif
