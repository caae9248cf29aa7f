/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel-version shims, all in one place.  lymph.ko is built against
 * Debian 12's 6.1 and the 6.12 cloud kernel; later kernels renamed a few
 * helpers that the module uses.
 */
#ifndef LYMPH_COMPAT_H
#define LYMPH_COMPAT_H

#include <linux/version.h>
#include <linux/timer.h>

/* 6.16 renamed from_timer() to timer_container_of(). */
#ifndef from_timer
#define from_timer(var, callback_timer, timer_fieldname) \
	timer_container_of(var, callback_timer, timer_fieldname)
#endif

/*
 * sched_process_exit gained a group_dead argument in 6.16; the probe only
 * reads the task, and a probe with fewer arguments than the tracepoint
 * passes is fine on x86-64's calling convention but not in C, so say so.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
#define LYMPH_EXIT_PROBE_ARGS	struct task_struct *p, bool group_dead
#else
#define LYMPH_EXIT_PROBE_ARGS	struct task_struct *p
#endif

#endif /* LYMPH_COMPAT_H */
