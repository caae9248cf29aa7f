// SPDX-License-Identifier: GPL-2.0-only
#include <signal.h>
#include "classify.h"

struct verdict classify_death(const struct lymph_death *d)
{
	enum lymph_reason r = lymph_death_reason(d->flags, d->signo, d->si_code);

	return (struct verdict){ .klass = lymph_reason_class(r), .reason = r };
}

void sigmemo_note(struct sigmemo *m, const struct lymph_signal *s)
{
	struct sigmemo_entry *slot = NULL;
	size_t i;

	if (!lymph_crash_signal(s->signo) || s->si_code > 0 || !s->sender_pid ||
	    s->sender_pid == s->task.pid)
		return;
	for (i = 0; i < SIGMEMO_N; i++) {
		struct sigmemo_entry *e = &m->e[i];

		if (e->ts_ns && e->pid == s->task.pid) {
			slot = e;
			break;
		}
		if (!slot || e->ts_ns < slot->ts_ns)
			slot = e; /* free (0) or the oldest */
	}
	*slot = (struct sigmemo_entry){
		.ts_ns = s->hdr.ts_ns ? s->hdr.ts_ns : 1,
		.pid = s->task.pid,
		.signo = s->signo,
		.sender_pid = s->sender_pid,
		.sender_uid = s->sender_uid,
	};
}

struct verdict classify_death_memo(const struct lymph_death *d, struct sigmemo *m, int *relayed,
				   uint32_t *sender_pid, uint32_t *sender_uid)
{
	struct verdict vd = classify_death(d);
	size_t i;

	*relayed = 0;
	for (i = 0; i < SIGMEMO_N; i++) {
		struct sigmemo_entry *e = &m->e[i];

		if (!e->ts_ns || e->pid != d->task.pid)
			continue;
		if (vd.reason == LYMPH_REASON_SELF_RAISED && e->signo == d->signo &&
		    d->hdr.ts_ns >= e->ts_ns && d->hdr.ts_ns - e->ts_ns <= SIGMEMO_WINDOW_NS) {
			vd = (struct verdict){ .klass = LYMPH_CLASS_PROGRAMMED,
					       .reason = LYMPH_REASON_KILLED };
			*relayed = 1;
			if (sender_pid)
				*sender_pid = e->sender_pid;
			if (sender_uid)
				*sender_uid = e->sender_uid;
		}
		e->ts_ns = 0; /* this process is gone */
	}
	return vd;
}
