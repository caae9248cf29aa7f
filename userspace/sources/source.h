/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event sources: where lymphd's records come from.  Every source produces
 * records in the format of include/lymph/events.h and hands them, one at a
 * time, to the sink callback; lymphd does not care which sensor made them.
 * A source only drains, reports drops and closes; stopping clone storms in
 * the kernel is the kernel throttle's (kthrottle.h).
 */
#ifndef LYMPH_SOURCE_H
#define LYMPH_SOURCE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lymph/events.h"

/* Called for every record; returns 0, or -errno to stop draining. */
typedef int (*lymph_sink_fn)(void *ctx, const struct lymph_hdr *rec);

struct source_ops;

struct source {
	const struct source_ops *ops;
	const char *name;    /* "bpf", "proc" */
	uint8_t id;	     /* enum lymph_source: stamped on DROP records */
	const char *missing; /* what this source cannot see, or NULL */
	int fd;		     /* to poll for readability (EPOLLIN) */
	lymph_sink_fn sink;
	void *sink_ctx;
	uint64_t lost_total; /* records lost, as reported in DROP records */
	int every_death;     /* every process's death comes as a record (or a DROP) */
	void *priv;
};

struct source_opts {
	uint32_t ring_bytes; /* BPF ring size, power of two */
	int want_fork;
	int want_exec;
};

struct source_ops {
	/* Drain what is ready; called when fd is readable and on the timer. */
	int (*drain)(struct source *src);
	/* Optional: the danger deaths of binary (dev, ino) run by uid need no
	 * wakeup (lymphd can start no action for them): batch them. */
	int (*wake_calm)(struct source *src, uint32_t dev, uint64_t ino, uint32_t uid);
	/* Optional: forget every calm pair; all: no danger death needs a
	 * wakeup (nothing acts on one at once). */
	int (*wake_reset)(struct source *src, int all);
	/* Optional: raise (1) or lower (0) the doze flag: while it is up,
	 * the next record of any kind wakes lymphd and lowers it
	 * (policy/tickpace.h).  A source without one never lets lymphd doze. */
	void (*doze)(struct source *src, int up);
	/* Is the doze flag still up (no record took it)? */
	int (*doze_held)(struct source *src);
	/* Optional: work the drains finish (a probe being attached or
	 * detached by a thread): lymphd keeps its short ticks meanwhile. */
	int (*busy)(struct source *src);
	/* Optional: the forks the sensors counted since they were loaded, in
	 * *total (0, or -errno), whether or not each came as a record.  A
	 * source without one counts its fork records. */
	int (*forks_seen)(struct source *src, uint64_t *total);
	/* Optional, with forks_seen: record each fork (1) or only count it
	 * (0), as something lymphd feeds wants fork records or not. */
	void (*fork_records)(struct source *src, int on);
	/* Emit a DROP record if records were lost since the last call. */
	int (*check_drops)(struct source *src);
	void (*close)(struct source *src);
};

/* Each returns 0 and fills *src, or -errno after printing one clear error
 * line to stderr (when verbose) naming what failed and what to do. */
int source_bpf_open(struct source *src, const struct source_opts *opts, lymph_sink_fn sink,
		    void *ctx, int verbose);
int source_proc_open(struct source *src, const struct source_opts *opts, lymph_sink_fn sink,
		     void *ctx, int verbose);
int source_kmod_open(struct source *src, const struct source_opts *opts, lymph_sink_fn sink,
		     void *ctx, int verbose);

static inline int source_wake_calm(struct source *src, uint32_t dev, uint64_t ino, uint32_t uid)
{
	return src->ops && src->ops->wake_calm ? src->ops->wake_calm(src, dev, ino, uid) : 0;
}
static inline int source_wake_reset(struct source *src, int all)
{
	return src->ops && src->ops->wake_reset ? src->ops->wake_reset(src, all) : 0;
}

static inline int source_can_doze(const struct source *src)
{
	return src->ops && src->ops->doze && src->ops->doze_held;
}
static inline void source_doze(struct source *src, int up)
{
	if (source_can_doze(src))
		src->ops->doze(src, up);
}
static inline int source_doze_held(struct source *src)
{
	return source_can_doze(src) && src->ops->doze_held(src);
}

static inline int source_busy(struct source *src)
{
	return src->ops && src->ops->busy && src->ops->busy(src);
}

static inline int source_counts_forks(const struct source *src)
{
	return src->ops && src->ops->forks_seen && src->ops->fork_records;
}
static inline int source_forks_seen(struct source *src, uint64_t *total)
{
	return source_counts_forks(src) ? src->ops->forks_seen(src, total) : -EOPNOTSUPP;
}
static inline void source_fork_records(struct source *src, int on)
{
	if (source_counts_forks(src))
		src->ops->fork_records(src, on);
}

static inline int source_drain(struct source *src)
{
	return src->ops->drain(src);
}
static inline int source_check_drops(struct source *src)
{
	return src->ops->check_drops(src);
}
static inline void source_close(struct source *src)
{
	if (src->ops)
		src->ops->close(src);
	src->ops = NULL;
}

/* The descriptor of the BPF source's map called name (the sensors' maps
 * serve the kernel throttle, kthrottle_bpf.c): the source's own, never
 * to be closed by the caller, valid until the source closes; -ENOENT when
 * the sensors have none, -EINVAL for another source. */
int source_bpf_map_fd(const struct source *src, const char *name);
/* Keep the BPF source's refused-fork probe attached for a while (a hold
 * ended: its members may spin at a cap again).  0 or -errno. */
int source_bpf_arm_refusals(struct source *src);
/* The same for ns nanoseconds from now (unless armed longer already): a
 * sample of the refused forks, when the CPU is under pressure. */
int source_bpf_sample_refusals(struct source *src, uint64_t ns);
#define REFUSAL_SAMPLE_NS (250 * 1000000ULL)
/* lymphd has pins pids cgroups pinned at pids.max 0 (0: none left): while
 * it has one, the refused-fork probe stays attached, so that a fork the
 * pin refuses a member of a pinned lineage is charged (its lineage held:
 * stopped, sensors.bpf.c), as lymph.ko holds it.  0 or -errno. */
int source_bpf_pin_refusals(struct source *src, size_t pins);
/* Sample refused forks for SPIN_SAMPLE_NS every period_ns while the CPUs
 * are busy (0: never): a family spinning at a low cap with fewer spinners
 * than CPUs makes no CPU pressure.  0 or -errno. */
int source_bpf_spin_period(struct source *src, uint64_t period_ns);
/* How many such samples were taken. */
uint64_t source_bpf_spin_samples(const struct source *src);
/* The most bytes of records lymphd held copied out of the ring, behind
 * (0: it never was, or not the BPF source). */
uint64_t source_bpf_backlog_peak(const struct source *src);
/* lymphd added (1) or removed (-1) an entry of the sensors' lymph_stops
 * or held map: the probes keep a count of each, and look in it only while
 * it holds something (sensors.bpf.c, stops_kept).  No-op for another
 * source. */
void source_bpf_count_stops(struct source *src, int delta);
void source_bpf_count_held(struct source *src, int delta);

/* Where the refused-fork probe goes when armed: "fexit" (the return of
 * kernel_clone), "per-syscall" (the fork calls' own tracepoints), "raw"
 * (raw_syscalls:sys_exit), "not armed yet" (lymphd knows at the first
 * arming), or "none" (not the BPF source). */
const char *source_bpf_refusal_path(const struct source *src);
/* How it is attached: "permanently" (fexit, from lymphd's start to its
 * exit), "on demand" (the tracepoints, while armed), or "none" (not the
 * BPF source). */
const char *source_bpf_refusal_attached(const struct source *src);
/* Does the refused-fork probe attach at the return of kernel_clone
 * (fexit)?  Then it stays attached until the source closes: it costs
 * the fork calls only, and every refused fork is charged at its call.
 * 1 (it needs no perf event, so no perf capability), or 0 (the
 * tracepoints, or not the BPF source). */
int source_bpf_refusal_fexit(struct source *src);
#define SPIN_SAMPLE_NS (50 * 1000000ULL)
#define SPIN_PERIOD_NS (2000 * 1000000ULL)

/* Emit a DROP record for `lost` records through the source's sink. */
int source_emit_drop(struct source *src, uint64_t lost, uint64_t now_ns);

#endif
