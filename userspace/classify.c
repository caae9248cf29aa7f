// SPDX-License-Identifier: GPL-2.0-only
#include <signal.h>
#include "classify.h"

#ifndef SI_KERNEL
#define SI_KERNEL 0x80
#endif

int is_crash_signal(unsigned int signo)
{
	switch (signo) {
	case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE:
	case SIGSYS: case SIGTRAP: case SIGABRT:
		return 1;
	}
	return 0;
}

static struct verdict v(enum death_class c, enum death_reason r)
{
	return (struct verdict){ .klass = c, .reason = r };
}

struct verdict classify_death(const struct lymph_death *d)
{
	unsigned int sig = d->signo;

	if (d->flags & LYMPH_DEATH_OOM)
		return v(CLASS_DANGER, REASON_OOM_KILL);
	if (!sig)
		return v(CLASS_PROGRAMMED, REASON_EXIT);

	/* Without siginfo we cannot tell a fault from kill(1): say so. */
	if (!(d->flags & LYMPH_DEATH_SIGINFO)) {
		if (is_crash_signal(sig))
			return v(CLASS_DANGER, REASON_UNVERIFIED);
		return v(CLASS_PROGRAMMED, REASON_SIGNAL);
	}

	/* Sent by the process to itself: abort(), or a crash handler that
	 * logged and re-raised.  Only the process itself can do that, so a
	 * user can at worst count his own runs of a binary. */
	if (d->flags & LYMPH_DEATH_SELF)
		return is_crash_signal(sig) ? v(CLASS_DANGER, REASON_SELF_RAISED)
					    : v(CLASS_PROGRAMMED, REASON_SIGNAL);

	/* si_code <= 0: sent from userspace (kill, tgkill, sigqueue ...). */
	if (d->si_code <= 0)
		return v(CLASS_PROGRAMMED, REASON_KILLED);

	/* si_code > 0: raised by the kernel. */
	if (sig == SIGKILL)
		return v(CLASS_PROGRAMMED, REASON_KERNEL_KILL);
	if (sig == SIGXCPU || sig == SIGXFSZ)
		return v(CLASS_DANGER, REASON_RESOURCE_LIMIT);
	if (is_crash_signal(sig))
		return v(CLASS_DANGER, REASON_FAULT);
	return v(CLASS_PROGRAMMED, REASON_SIGNAL);
}

void sigmemo_note(struct sigmemo *m, const struct lymph_signal *s)
{
	struct sigmemo_entry *slot = NULL;
	size_t i;

	if (!is_crash_signal(s->signo) || s->si_code > 0 || !s->sender_pid ||
	    s->sender_pid == s->task.pid)
		return;
	for (i = 0; i < SIGMEMO_N; i++) {
		struct sigmemo_entry *e = &m->e[i];

		if (e->ts_ns && e->pid == s->task.pid) {
			slot = e;
			break;
		}
		if (!slot || e->ts_ns < slot->ts_ns)
			slot = e;	/* free (0) or the oldest */
	}
	*slot = (struct sigmemo_entry){
		.ts_ns = s->hdr.ts_ns ? s->hdr.ts_ns : 1, .pid = s->task.pid, .signo = s->signo,
		.sender_pid = s->sender_pid, .sender_uid = s->sender_uid,
	};
}

struct verdict classify_death_memo(const struct lymph_death *d, struct sigmemo *m,
				   int *relayed, uint32_t *sender_pid, uint32_t *sender_uid)
{
	struct verdict vd = classify_death(d);
	size_t i;

	*relayed = 0;
	for (i = 0; i < SIGMEMO_N; i++) {
		struct sigmemo_entry *e = &m->e[i];

		if (!e->ts_ns || e->pid != d->task.pid)
			continue;
		if (vd.reason == REASON_SELF_RAISED && e->signo == d->signo &&
		    d->hdr.ts_ns >= e->ts_ns && d->hdr.ts_ns - e->ts_ns <= SIGMEMO_WINDOW_NS) {
			vd = v(CLASS_PROGRAMMED, REASON_KILLED);
			*relayed = 1;
			if (sender_pid)
				*sender_pid = e->sender_pid;
			if (sender_uid)
				*sender_uid = e->sender_uid;
		}
		e->ts_ns = 0;	/* this process is gone */
	}
	return vd;
}

const char *class_name(enum death_class c)
{
	return c == CLASS_DANGER ? "danger" : "programmed";
}

const char *reason_name(enum death_reason r)
{
	static const char *const names[] = {
		[REASON_EXIT] = "exit",
		[REASON_FAULT] = "fault",
		[REASON_SELF_RAISED] = "self-raised",
		[REASON_OOM_KILL] = "oom-kill",
		[REASON_RESOURCE_LIMIT] = "resource-limit",
		[REASON_KILLED] = "killed",
		[REASON_KERNEL_KILL] = "kernel-kill",
		[REASON_SIGNAL] = "signal",
		[REASON_UNVERIFIED] = "unverified",
	};

	if ((unsigned int)r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "unknown";
}
