/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymph.ko internals: what the module's files share.  The event records
 * themselves are defined by the common ABI, include/lymph/events.h.
 */
#ifndef LYMPH_KMOD_H
#define LYMPH_KMOD_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include "lymph/events.h"
#include "lymph/danger.h"
#include "lymph/names.h"
#include "compat.h"

/* From the VERSION file, passed by Kbuild as -DLYMPH_VERSION. */
#ifndef LYMPH_VERSION
#error "LYMPH_VERSION is not defined: Kbuild reads it from the VERSION file"
#endif

/*
 * Tunables.  Written by the sysfs stores (kmod/knobs.c) with WRITE_ONCE,
 * read locklessly with READ_ONCE by the sensors: a probe that sees the old
 * or the new value of one knob is always fine.
 */
enum lymph_mode { LYMPH_MODE_OBSERVE = 0, LYMPH_MODE_ENFORCE = 1 };

#define LYMPH_PROTECTED_MAX	16
#define LYMPH_CRASH_MAX		4096	/* crash_table_size upper bound */

struct lymph_config {
	unsigned int mode;		/* enum lymph_mode */
	unsigned int clone_budget;	/* sustained forks per second per lineage */
	unsigned int clone_burst;	/* forks a lineage may make at once */
	unsigned int uid_budget;	/* sustained forks per second per uid, 0 = none */
	unsigned int uid_burst;		/* forks a uid may make at once, 0 = none */
	unsigned int dead_min_ms;	/* first dead time of a storming lineage */
	unsigned int dead_max_ms;	/* cap of the doubling dead time */
	unsigned int crash_size;	/* entries used in the crash table */
	unsigned int pressure_ms;	/* spot-check interval, 0 = off */
	unsigned int pressure_runq_pct;	/* run-queue delay, % of the interval */
	unsigned int pressure_rss_kb;	/* RSS growth per interval */
	unsigned int pressure_majflt;	/* major faults per interval */
	int weather;			/* enum lymph_weather, -1 unknown */
};

extern struct lymph_config lymph_cfg;

/* Counters shown in /proc/lymph. */
extern atomic64_t lymph_events[LYMPH_EV_KIND_MAX];
extern atomic64_t lymph_ring_drops;

/* ring.c: /dev/lymph */
int lymph_ring_init(unsigned int ring_bytes);
void lymph_ring_exit(void);
void lymph_emit(void *rec, u16 kind, u16 size);
bool lymph_is_reader(pid_t tgid);
bool lymph_reader_or_ancestor(struct task_struct *task);
unsigned int lymph_nr_readers(void);
void lymph_ring_show(struct seq_file *m);

/* sensors.c: tracepoint probes */
int lymph_sensors_init(void);
void lymph_sensors_exit(void);
void lymph_fill_task(struct lymph_task *t, struct task_struct *task);
void lymph_comm_copy(u8 *dst, const char *src);

/* crash.c: per-binary crash table */
int lymph_crash_init(void);
void lymph_crash_exit(void);
void lymph_crash_record(u32 dev, u64 ino, const u8 *comm, u32 signo, u64 now);
void lymph_crash_resize(unsigned int size);
void lymph_crash_show(struct seq_file *m, unsigned int top);

/* lineage.c: clone-rate accounting and fork dead time */
int lymph_lineage_init(void);
void lymph_lineage_exit(void);
void lymph_lineage_fork(struct task_struct *parent, struct task_struct *child);
void lymph_lineage_show(struct seq_file *m);
bool lymph_protected(struct task_struct *task);
int lymph_family_lookup(pid_t nr, u32 *id, u32 *uid);
int lymph_lineage_pin(const void *owner, u32 kind, u64 id);
void lymph_lineage_unpin(const void *owner, u32 kind, u64 id);
void lymph_lineage_pinner(bool on);
void lymph_lineage_owner_gone(const void *owner);
int lymph_lineage_lift(u32 kind, u64 id);

/* pressure.c: periodic per-process spot check */
int lymph_pressure_init(void);
void lymph_pressure_exit(void);
void lymph_pressure_reschedule(void);
void lymph_pressure_show(struct seq_file *m);

/* knobs.c and procfs.c */
int lymph_knobs_init(void);
void lymph_knobs_exit(void);
void lymph_knobs_free(void);
bool lymph_uid_protected(u32 uid);
bool lymph_cgroup_protected(struct task_struct *task);
int lymph_proc_init(void);
void lymph_proc_exit(void);

#endif /* LYMPH_KMOD_H */
