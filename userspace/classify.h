/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The danger model: every death is either *danger* (the process died badly:
 * the kernel killed it for a fault, it aborted itself, the OOM killer chose
 * it) or *programmed* (it exited, or someone else killed it).  Only danger
 * counts against a binary, so `kill -SEGV` can never frame one.  Pure.
 */
#ifndef LYMPH_CLASSIFY_H
#define LYMPH_CLASSIFY_H

#include "lymph/events.h"

enum death_class {
	CLASS_PROGRAMMED = 0,
	CLASS_DANGER = 1,
};

enum death_reason {
	REASON_EXIT,		/* normal exit, any status */
	REASON_FAULT,		/* kernel-raised fault signal */
	REASON_SELF_RAISED,	/* abort() or a crash handler re-raising */
	REASON_OOM_KILL,
	REASON_RESOURCE_LIMIT,	/* SIGXCPU / SIGXFSZ from an rlimit */
	REASON_KILLED,		/* fatal signal from another process */
	REASON_KERNEL_KILL,	/* SIGKILL from the kernel, not the OOM killer */
	REASON_SIGNAL,		/* another fatal signal sent to itself */
	REASON_UNVERIFIED,	/* crash signal without siginfo (proc connector) */
};

struct verdict {
	enum death_class klass;
	enum death_reason reason;
};

struct verdict classify_death(const struct lymph_death *d);

const char *class_name(enum death_class c);
const char *reason_name(enum death_reason r);

/* Signals that mean a crash when the kernel raises them (SEGV BUS ILL FPE
 * SYS TRAP) or the process raises them itself (ABRT and those). */
int is_crash_signal(unsigned int signo);

#endif
