/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Quarantine policy, pure: the paper's antibody.  Each (binary, uid) pair
 * has a decaying danger score; when it crosses the threshold, that uid may
 * no longer exec that binary for a while.  The ban grows for repeat
 * offenders (fail2ban's incremental bans: duration_min * 2^(offences-1),
 * capped at duration_max) and the offence count itself decays after good
 * behaviour (half-life 4 x duration_max).  Per uid, so nobody can get a binary
 * banned for somebody else by crashing it.  Clock and factor are inputs.
 */
#ifndef LYMPH_QUARANTINE_H
#define LYMPH_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "decay.h"
#include "hashtab.h"

struct qkey {
	uint64_t ino;
	uint32_t dev;
	uint32_t uid;
};

struct qentry {
	struct qkey key;
	int used;
	struct decay score;    /* decayed danger deaths, half-life quarantine.half_life */
	struct decay offences; /* decayed count of quarantines, half-life 4 x duration_max */
	uint64_t since;	       /* quarantined at (0: not quarantined) */
	uint64_t until;	       /* expires at */
	uint32_t total;	       /* quarantines ever */
};

/* Why the last qtable_on_danger/qtable_restore found no room. */
enum q_overflow {
	Q_OVF_NONE,
	Q_OVF_UID,   /* that uid already tracks max_per_uid binaries, all quarantined */
	Q_OVF_TABLE, /* the table is full of quarantines */
};

struct qtable {
	struct hashtab ht; /* of struct qentry, keyed (dev, ino, uid) */
	struct quarantine_conf conf;
	/* Binaries tracked per uid (0: no limit): one user crashing thousands
	 * of copies evicts their own coldest entries, never another user's,
	 * and cannot fill the table. */
	size_t max_per_uid;
	enum q_overflow overflow; /* of the last call that returned NULL for want of room */
	uint64_t overflows[3];	  /* counted by enum q_overflow */
	uint64_t scans;		  /* of the whole table, for a victim or a uid's count */
	/* No quarantine ends before this (0: none in force): an expiry scan
	 * of the table before then finds nothing (qmanager_tick). */
	uint64_t next_until;
};

/* Note a quarantine that ends at until (qtable_on_danger and
 * qtable_restore do; an expiry scan notes those it leaves in force). */
static inline void qtable_note_until(struct qtable *t, uint64_t until)
{
	if (until && (!t->next_until || until < t->next_until))
		t->next_until = until;
}

int qtable_init(struct qtable *t, const struct quarantine_conf *c, size_t max_entries);
void qtable_free(struct qtable *t);

/*
 * A danger death of key's binary by key's uid at now.  factor (<= 1 in bad
 * weather) scales the threshold.  Returns the entry when this death starts
 * a quarantine (until set), NULL otherwise (also when already quarantined).
 */
struct qentry *qtable_on_danger(struct qtable *t, const struct qkey *k, uint64_t now,
				double factor);

/* What a quarantine starting now would last for this entry. */
uint64_t qtable_duration(const struct qtable *t, const struct qentry *e, uint64_t now);

/* Is key quarantined at now? */
const struct qentry *qtable_active(const struct qtable *t, const struct qkey *k, uint64_t now);

/* Any uid quarantined for this binary at now? */
int qtable_binary_active(const struct qtable *t, uint32_t dev, uint64_t ino, uint64_t now);

/* End a quarantine (expiry or release); 0 or -ENOENT. */
int qtable_end(struct qtable *t, const struct qkey *k);

/* Restore a quarantine (journal replay). */
struct qentry *qtable_restore(struct qtable *t, const struct qkey *k, uint64_t since,
			      uint64_t until, double offences, uint32_t total, uint64_t now);

struct qentry *qtable_find(const struct qtable *t, const struct qkey *k);

/*
 * The offender under an interpreter is the script, never the interpreter.
 * args: the interpreter's argv as recorded at its exec (NUL-separated, len
 * bytes, maybe cut short); loader: it is the dynamic loader (its options
 * differ).  Returns the script argument (a pointer into args), or NULL when
 * the interpreter ran no file (-c CODE, -m MODULE, -e, stdin, an argument
 * cut short).
 */
const char *qscript_arg(const char *args, size_t len, int loader);

/*
 * The script's path: arg when absolute, else joined to the working
 * directory given leaf first (cwd[0] innermost, depth components).
 * 0, or -ENAMETOOLONG / -ENOENT (relative and the directory unknown).
 */
int qscript_path(const char *arg, const char (*cwd)[64], size_t depth, int cwd_known, char *out,
		 size_t len);

#endif
