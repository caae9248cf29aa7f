/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A short scheduler slice for the thread that must answer a wakeup soon
 * (lymphd's event loop).  Linux 6.12+ (EEVDF) takes a fair task's
 * sched_attr.sched_runtime as its requested slice: a woken task with a
 * shorter slice than the running one preempts it at its next chance,
 * where one with the default slice is often left waiting until the
 * running task sleeps (a crashing process tearing down its address space
 * keeps the CPU that way for ~0.5 ms on a small VM).  The weight, and so
 * the share of CPU, is unchanged: only how long each turn lasts.  The
 * slice is reset on fork: threads and the services lymphd starts get the
 * kernel's default.
 */
#ifndef LYMPH_SLICE_H
#define LYMPH_SLICE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SLICE_SHORT_NS 100000ULL    /* the kernel's floor: 0.1 ms */
#define SLICE_MAX_NS   100000000ULL /* the kernel's ceiling: 100 ms */

/* Ask for slice_ns for the calling thread (SCHED_OTHER or SCHED_BATCH
 * only; its policy and nice kept), reset on fork.  0 or -errno
 * (-EOPNOTSUPP: a real-time or deadline policy, left alone). */
int slice_set_short(uint64_t slice_ns);

/*
 * lymphd's [lymphd] latency_slice_us at start, for the calling thread:
 * 0 asks for nothing (the kernel's default slice); 1-100 is the kernel's
 * floor, 0.1 ms.  What the kernel refused (an old kernel's EINVAL or
 * E2BIG, a container's EPERM) or ignored (before 6.12 it takes the call
 * and keeps its default) is said once on err, with what to do; never
 * fatal.  Returns the slice asked for and in effect, ns, or 0.
 */
uint64_t slice_apply(uint32_t us, FILE *err);

/* The slice task tid runs with, ns (6.12+; 0 before), or -errno. */
int64_t slice_of(pid_t tid);

#endif
