/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymphd's view of the danger model (include/lymph/danger.h holds the rule
 * itself, shared with lymph.ko and the BPF sensors): a death record ->
 * its class and reason.  Only danger counts against a binary, so
 * `kill -SEGV` can never frame one.  Pure.
 */
#ifndef LYMPH_CLASSIFY_H
#define LYMPH_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>
#include "lymph/events.h"
#include "lymph/danger.h"

struct verdict {
	enum lymph_class klass;
	enum lymph_reason reason;
};

struct verdict classify_death(const struct lymph_death *d);

/*
 * A crash signal that another process sent to one that catches it (redis,
 * JVMs, anything with a crash handler) comes back as a death by the same
 * signal raised by the process itself when the handler re-raises it.  The
 * sensors report the original kill as a `signal` record; it is remembered
 * here for SIGMEMO_WINDOW_NS so that the death that follows stays
 * programmed (killed by that sender), as an unhandled kill would be.
 */
#define SIGMEMO_N	  256
#define SIGMEMO_WINDOW_NS (10ULL * 1000000000ULL)

struct sigmemo_entry {
	uint64_t ts_ns; /* of the signal record; 0: free */
	uint32_t pid, signo, sender_pid, sender_uid;
};

struct sigmemo {
	struct sigmemo_entry e[SIGMEMO_N];
};

/* A signal record: remembered when it is a crash signal from another
 * process (the oldest entry makes room). */
void sigmemo_note(struct sigmemo *m, const struct lymph_signal *s);

/*
 * classify_death(), except that a self-raised crash signal following a
 * remembered kill of the same signal to the same process within the window
 * is programmed, LYMPH_REASON_KILLED; then *sender_pid and *sender_uid (may
 * be NULL) get the original sender and 1 is stored in *relayed.  The dying
 * process's entry is forgotten.
 */
struct verdict classify_death_memo(const struct lymph_death *d, struct sigmemo *m, int *relayed,
				   uint32_t *sender_pid, uint32_t *sender_uid);

#endif
