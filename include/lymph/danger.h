/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The danger model, written once: every death is *danger* (the process
 * died badly: the kernel killed it for a fault, it aborted itself, the OOM
 * killer chose it, it hit a resource limit) or *programmed* (it exited, or
 * someone else killed it).  Only danger counts against a binary, so
 * `kill -SEGV` can never frame one.
 *
 * Included unchanged by lymph.ko (its /proc/lymph crash table), the BPF
 * sensors (which signals carry a fault address) and lymphd (its classes),
 * so the three cannot drift apart.  Pure: no kernel or libc calls.
 */
#ifndef LYMPH_DANGER_H
#define LYMPH_DANGER_H

#include "events.h"

/*
 * Signal numbers, for code that has no <signal.h> (BPF after vmlinux.h).
 * These are the generic/x86 numbers; the asserts below check them against
 * the headers where those exist.
 */
#define LYMPH_SIGHUP	1
#define LYMPH_SIGILL	4
#define LYMPH_SIGTRAP	5
#define LYMPH_SIGABRT	6
#define LYMPH_SIGBUS	7
#define LYMPH_SIGFPE	8
#define LYMPH_SIGKILL	9
#define LYMPH_SIGSEGV	11
#define LYMPH_SIGXCPU	24
#define LYMPH_SIGXFSZ	25
#define LYMPH_SIGSYS	31

#if defined(SIGSEGV) && defined(SIGSYS) && defined(SIGXFSZ)
_Static_assert(LYMPH_SIGHUP == SIGHUP && LYMPH_SIGILL == SIGILL && LYMPH_SIGTRAP == SIGTRAP &&
	       LYMPH_SIGABRT == SIGABRT && LYMPH_SIGBUS == SIGBUS && LYMPH_SIGFPE == SIGFPE &&
	       LYMPH_SIGKILL == SIGKILL && LYMPH_SIGSEGV == SIGSEGV &&
	       LYMPH_SIGXCPU == SIGXCPU && LYMPH_SIGXFSZ == SIGXFSZ && LYMPH_SIGSYS == SIGSYS,
	       "lymph signal numbers differ from this architecture's");
#endif

/* si_code values (siginfo.h): > 0 means raised by the kernel. */
#define LYMPH_SI_USER	0
#define LYMPH_SI_KERNEL	0x80

enum lymph_class {
	LYMPH_CLASS_PROGRAMMED = 0,
	LYMPH_CLASS_DANGER = 1,
};

enum lymph_reason {
	LYMPH_REASON_EXIT,		/* normal exit, any status */
	LYMPH_REASON_FAULT,		/* kernel-raised fault signal */
	LYMPH_REASON_SELF_RAISED,	/* abort() or a crash handler re-raising */
	LYMPH_REASON_OOM_KILL,
	LYMPH_REASON_RESOURCE_LIMIT,	/* SIGXCPU / SIGXFSZ from an rlimit */
	LYMPH_REASON_KILLED,		/* fatal signal from another process */
	LYMPH_REASON_KERNEL_KILL,	/* SIGKILL from the kernel, not the OOM killer */
	LYMPH_REASON_SIGNAL,		/* any other fatal signal (tty hangup, self-sent TERM) */
	LYMPH_REASON_UNVERIFIED,	/* crash signal without siginfo (proc connector) */
	LYMPH_REASON_NR
};

/*
 * Signals that mean a crash when the kernel raises them or the process
 * raises them at itself: SEGV BUS ILL FPE SYS TRAP ABRT.
 */
static inline int lymph_crash_signal(__u32 sig)
{
	switch (sig) {
	case LYMPH_SIGSEGV: case LYMPH_SIGBUS: case LYMPH_SIGILL: case LYMPH_SIGFPE:
	case LYMPH_SIGSYS: case LYMPH_SIGTRAP: case LYMPH_SIGABRT:
		return 1;
	}
	return 0;
}

/* A hardware fault raised by the kernel: its siginfo carries the faulting
 * address (si_addr). */
static inline int lymph_fault_with_addr(__u32 sig, __s32 si_code)
{
	if (si_code <= 0 || si_code == LYMPH_SI_KERNEL)
		return 0;
	switch (sig) {
	case LYMPH_SIGSEGV: case LYMPH_SIGBUS: case LYMPH_SIGILL: case LYMPH_SIGFPE:
	case LYMPH_SIGTRAP:
		return 1;
	}
	return 0;
}

/*
 * Why a process died, from its death record's flags (LYMPH_DEATH_*), fatal
 * signal and si_code.  The rule, in order:
 *  - chosen by the OOM killer: danger;
 *  - no signal: a normal exit;
 *  - no siginfo (proc connector): a crash signal is danger but unverified
 *    (it may have been kill(1)), any other signal programmed;
 *  - sent by the process to itself: a crash signal (abort(), a crash
 *    handler re-raising) is danger, anything else programmed;
 *  - sent from userspace (si_code <= 0) by another process: programmed;
 *  - raised by the kernel (si_code > 0): SIGKILL is programmed (the kernel
 *    ends a task that way on purpose: zap, coredump failure ...), SIGXCPU
 *    and SIGXFSZ are resource limits (danger), crash signals are faults
 *    (danger), and anything else (a tty hangup's SIGHUP) is programmed.
 */
static inline enum lymph_reason lymph_death_reason(__u32 flags, __u32 sig, __s32 si_code)
{
	if (flags & LYMPH_DEATH_OOM)
		return LYMPH_REASON_OOM_KILL;
	if (!sig)
		return LYMPH_REASON_EXIT;
	if (!(flags & LYMPH_DEATH_SIGINFO))
		return lymph_crash_signal(sig) ? LYMPH_REASON_UNVERIFIED : LYMPH_REASON_SIGNAL;
	if (flags & LYMPH_DEATH_SELF)
		return lymph_crash_signal(sig) ? LYMPH_REASON_SELF_RAISED : LYMPH_REASON_SIGNAL;
	if (si_code <= 0)
		return LYMPH_REASON_KILLED;
	if (sig == LYMPH_SIGKILL)
		return LYMPH_REASON_KERNEL_KILL;
	if (sig == LYMPH_SIGXCPU || sig == LYMPH_SIGXFSZ)
		return LYMPH_REASON_RESOURCE_LIMIT;
	if (lymph_crash_signal(sig))
		return LYMPH_REASON_FAULT;
	return LYMPH_REASON_SIGNAL;
}

static inline enum lymph_class lymph_reason_class(enum lymph_reason r)
{
	switch (r) {
	case LYMPH_REASON_FAULT: case LYMPH_REASON_SELF_RAISED: case LYMPH_REASON_OOM_KILL:
	case LYMPH_REASON_RESOURCE_LIMIT: case LYMPH_REASON_UNVERIFIED:
		return LYMPH_CLASS_DANGER;
	default:
		return LYMPH_CLASS_PROGRAMMED;
	}
}

/*
 * Signals 1..31 whose default action terminates the process (bit n set for
 * signal n): HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE
 * ALRM TERM STKFLT XCPU XFSZ VTALRM PROF IO PWR SYS.  Real-time signals
 * (32..64) terminate too.  Not in it: CHLD CONT STOP TSTP TTIN TTOU URG WINCH.
 */
#define LYMPH_FATAL_SIGNALS 0xef01fffeu

/* Deaths by these signals may wake lymphd at once (bit n = signal n): all
 * the fatal signals below 32. */
#define LYMPH_URGENT_SIGNALS_DEFAULT LYMPH_FATAL_SIGNALS

/* What a death asks of the sensor that saw it (lymph_death_wake()). */
enum lymph_wake {
	LYMPH_WAKE_BATCH = 0,		/* no wakeup: drained with the batch */
	LYMPH_WAKE_NOW = 1,		/* wake the reader now */
	LYMPH_WAKE_UNLESS_CALM = 2,	/* now, unless (exe, uid) is in the calm set */
};

/*
 * Must this death wake lymphd now?  The one rule of the BPF sensors and
 * lymph.ko (each keeps its own calm set: the calm_keys map, a table per
 * /dev/lymph reader).  An OOM kill always.  A death by no signal, or by one
 * outside urgent_mask (bit n = signal n, signals 1..31), never.  Without
 * keyed (the reader never said which deaths it acts on) every other death
 * does.  With keyed, only a danger death (lymph_death_reason()) of a known
 * binary, and only when not calm_all (nothing acts on a danger death at
 * once) and its (exe_dev, exe_ino, uid) is not calm: the sensor looks that
 * up.  Any other death by a signal is batched: a supervised service's
 * death also wakes lymphd through its pidfd, which drains the sensors
 * first.
 */
static inline enum lymph_wake lymph_death_wake(const struct lymph_death *d, __u32 urgent_mask,
					       int keyed, int calm_all)
{
	if (d->flags & LYMPH_DEATH_OOM)
		return LYMPH_WAKE_NOW;
	if (!d->signo || d->signo > 31 || !((urgent_mask >> d->signo) & 1))
		return LYMPH_WAKE_BATCH;
	if (!keyed)
		return LYMPH_WAKE_NOW;
	if (calm_all || lymph_reason_class(lymph_death_reason(d->flags, d->signo, d->si_code)) !=
			LYMPH_CLASS_DANGER)
		return LYMPH_WAKE_BATCH;
	if (!d->task.exe_ino && !d->task.exe_dev)
		return LYMPH_WAKE_BATCH;	/* no binary known: nothing to quarantine */
	return LYMPH_WAKE_UNLESS_CALM;
}

static inline const char *lymph_class_name(enum lymph_class c)
{
	return c == LYMPH_CLASS_DANGER ? "danger" : "programmed";
}

static inline const char *lymph_reason_name(enum lymph_reason r)
{
	switch (r) {
	case LYMPH_REASON_EXIT: return "exit";
	case LYMPH_REASON_FAULT: return "fault";
	case LYMPH_REASON_SELF_RAISED: return "self-raised";
	case LYMPH_REASON_OOM_KILL: return "oom-kill";
	case LYMPH_REASON_RESOURCE_LIMIT: return "resource-limit";
	case LYMPH_REASON_KILLED: return "killed";
	case LYMPH_REASON_KERNEL_KILL: return "kernel-kill";
	case LYMPH_REASON_SIGNAL: return "signal";
	case LYMPH_REASON_UNVERIFIED: return "unverified";
	default: return "unknown";
	}
}

#endif /* LYMPH_DANGER_H */
