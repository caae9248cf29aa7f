/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Constants shared by bpf/sensors.bpf.c and lymphd's BPF source. */
#ifndef LYMPH_BPF_SENSORS_H
#define LYMPH_BPF_SENSORS_H

/* LYMPH_FATAL_SIGNALS and LYMPH_URGENT_SIGNALS_DEFAULT: lymph/danger.h,
 * with the rule that uses them, shared with lymph.ko. */
#include "lymph/danger.h"

/*
 * Clone-storm throttle settings, in an array map so lymphd can change them
 * at run time (reload, weather) without reloading the programs.
 */
struct throttle_cfg {
	__u32 enabled;		/* account lineages at all */
	__u32 enforce;		/* stop forkers (else only report) */
	__u32 lineage_kind;	/* LYMPH_LINEAGE_* */
	__u32 budget;		/* net new processes per second per lineage */
	__u32 burst;		/* bucket depth, processes */
	__u32 pad;
	/* Appended: the per-uid budget behind the lineage's (0: none). */
	__u32 uid_budget;
	__u32 uid_burst;
	__u32 daemon_tgid;	/* lymphd: its SIGSTOP/SIGCONT are not an administrator's */
	__u32 pad2;
};

/* What a task's creation was charged to, so its exit gives it back. */
struct charge {
	__u64 family;		/* lineage key id charged (kind in lineage_kind) */
	__u32 lineage_kind;
	__u32 uid;		/* uid bucket charged, when uid_charged */
	__u32 lineage_charged;
	__u32 uid_charged;
};

/*
 * The clone family of a task, in task storage: fixed at fork and inherited
 * by every child and thread, so that setsid(), a double fork to init, a
 * cgroup move or a new process group do not leave it.  A family is rooted
 * where pid 1 or lymphd made the child, or where a task's real uid
 * changed (a privileged boundary: login, su, a service's user); id is the
 * root's pid.  A task that predates the sensors is put in the family of
 * its topmost ancestor of the same uid at its first fork.
 */
struct family {
	__u64 id;
	__u32 uid;		/* the real uid the family was made for */
	__u32 pad;
	/* What the task's creation was charged to (neither *_charged:
	 * nothing), kept with the task: a map by tid, updated at each fork
	 * and looked up at each exit, took a fifth of those probes' time. */
	struct charge charge;
};

/* A lineage's token bucket.  Forks take a token, exits give it back, time
 * refills at budget/s: what runs out is net growth, a fork bomb's signature,
 * not a busy shell loop that forks and reaps. */
struct throttle_bucket {
	__s64 milli_tokens;	/* thousandths of a fork */
	__u64 last_ns;
	__u64 stops;
	__u64 swept_ns;		/* when the probe last stopped the whole lineage */
	__s64 live;		/* tasks charged to it and not yet exited */
};

struct lineage_key {
	__u64 id;
	__u32 kind;
	__u32 pad;
};

/*
 * A binary run by a uid (the quarantine's key: the task's exe and real
 * uid) whose deaths lymphd never has to act on at once: it is protected,
 * or root's without [quarantine] root = yes.  Its danger deaths are
 * batched like forks (calm_keys map, filled by lymphd).
 */
struct wake_key {
	__u64 ino;
	__u32 dev;
	__u32 uid;
};

#endif
