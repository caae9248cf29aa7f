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
 * sched_process_exit also passes group_dead since 6.16 (and traces before
 * exit_mm()); a probe's prototype must match the tracepoint's.  Not built
 * here: the module is tested on 6.1 and 6.12.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
#define LYMPH_EXIT_PROBE_ARGS	struct task_struct *p, bool group_dead
#else
#define LYMPH_EXIT_PROBE_ARGS	struct task_struct *p
#endif

#endif /* LYMPH_COMPAT_H */
