/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Quarantine enforcement and bookkeeping, around the pure quarantine.c:
 * decide on danger deaths, deny exec through fanotify FAN_OPEN_EXEC_PERM
 * marks on the quarantined inodes (per uid), or, where fanotify is missing
 * and only for root's own scope on a root-owned binary, remove its exec
 * bits (cfengine's 'disable') with the old mode journaled.  Every decision
 * is journaled; expiry and lymphctl release restore exactly the previous
 * state; the journal brings quarantines back after a lymphd restart.
 */
#ifndef LYMPH_QMANAGER_H
#define LYMPH_QMANAGER_H

#include <stdint.h>
#include <json-c/json.h>
#include "classify.h"
#include "clock.h"
#include "config.h"
#include "journal.h"
#include "quarantine.h"

enum q_enforcement {
	Q_ENF_NONE,	 /* nothing usable: decisions are journaled only */
	Q_ENF_BPF_LSM,	 /* bprm_check_security denies in the kernel, per uid */
	Q_ENF_FANOTIFY,	 /* FAN_OPEN_EXEC_PERM marks, decided per uid */
	Q_ENF_EXEC_BITS, /* chmod a-x, root scope only */
};

struct qmark;	  /* one marked inode */
struct qintent;	  /* exec bits lymphd was about to remove (replay) */
struct qevidence; /* the death that began a quarantine */
struct lsm;	  /* the BPF LSM skeleton */

/* Binaries tracked per uid: beyond, the uid's coldest entry is forgotten,
 * or, when all are quarantined, the new one is an overflow (journaled). */
#define QMANAGER_MAX_PER_UID 64

/* Binaries banned for every uid at once (the fleet's vaccine = quarantine). */
#define QMANAGER_MAX_BANS 256

struct qban {
	uint32_t dev;
	uint64_t ino;
	uint64_t since; /* monotonic ns */
	char path[256];
};

struct qmanager {
	struct qtable t;
	enum q_enforcement enf;
	const char *enf_why; /* why the better methods are not in use */
	char enf_why_buf[96];
	int fan_fd;
	struct lsm *lsm; /* LSM programs (Q_ENF_BPF_LSM) and/or the script tracker */
	int tracker;	 /* the script tracker runs: interpreters' argv by pid */
	struct qmark *marks;
	size_t n_marks, cap_marks;
	/* Descriptors: fanotify marks are reopened through file handles, so
	 * none is held per binary; one per filesystem to open handles on.
	 * Where a filesystem has no handles, an fd per binary, within budget. */
	struct {
		int fd;
		int mount_id;
	} mnts[32];
	size_t n_mnts;
	size_t fds_held, fd_budget;
	uint64_t nofile;       /* RLIMIT_NOFILE soft limit after raising it */
	uint64_t overflow_fds; /* quarantines refused for the descriptor budget */
	struct journal *journal;
	int enforce;
	const struct protect_conf *protect;
	/* protected binaries, by inode: pid 1's, lymphd's, sshd, login shells,
	 * the default list (doc/lymph.conf.5), configured */
	struct {
		uint32_t dev;
		uint64_t ino;
	} prot[512]; /* beyond: not protected, see load_protected */
	size_t n_prot;
	/* interpreters and dynamic loaders: a crash under one is charged to the
	 * script it ran; they open a quarantined file only to be refused */
	struct {
		uint32_t dev;
		uint64_t ino;
		uint32_t kind;
	} runners[256];
	size_t n_runners;
	struct clock_offset clk;
	uint64_t denied;       /* execs denied */
	double factor;	       /* threshold multiplier from the weather */
	uint64_t last_imposed; /* when the last quarantine began (monotonic ns) */
	/* Per-binary threshold multiplier (the fleet's vaccinations); NULL: 1. */
	double (*bin_factor)(void *ctx, uint32_t dev, uint64_t ino);
	void *bin_factor_ctx;
	/* The sensors' wakeups (NULL: not told).  wake_calm: a danger death
	 * of this binary and uid (as the sensors see them) can start no
	 * quarantine, so it needs no wakeup; wake_reset: forget those (all:
	 * no danger death can start one).  See qmanager_set_wake. */
	void (*wake_calm)(void *ctx, const struct qkey *k);
	void (*wake_reset)(void *ctx, int all);
	void *wake_ctx;
	unsigned int replay_protected;	     /* journal quarantines skipped: protected */
	unsigned int replay_observed;	     /* restored without enforcement (observe mode) */
	struct qban bans[QMANAGER_MAX_BANS]; /* for every uid but root and [protect]'s */
	size_t n_bans;
	struct qevidence *evidence; /* why each quarantine began, for snapshots */
	size_t n_evidence, cap_evidence, evidence_next;
	/* Replay: intents (action "intent") no later record of their inode
	 * answered; qmanager_replay_done gives their exec bits back. */
	struct qintent *intents;
	size_t n_intents, cap_intents;
	int replaying; /* inside qmanager_replay_record: the journal is being read */
};

int qmanager_init(struct qmanager *q, const struct policy *p, struct journal *j, int enforce);
void qmanager_free(struct qmanager *q);

/* The fd to watch (fanotify), or -1. */
int qmanager_fd(const struct qmanager *q);

/* Replay the journal, one record at a time (0, or -EINVAL for a damaged
 * quarantine record), then done: quarantines still in force come back,
 * expired ones are released (restoring modes).  Protected binaries and uids
 * are not restored; observe mode restores without enforcing.  Exec bits
 * known only by their intent (lymphd died between the intent and the
 * quarantine record) are given back at done, in every mode, if the file
 * still has the mode lymphd would have set; each is journaled
 * ("recovered"). */
int qmanager_replay_record(struct qmanager *q, struct json_object *rec, uint64_t now);
void qmanager_replay_done(struct qmanager *q, uint64_t now);

/* Tell the sensors, now and at every reload, which danger deaths need
 * lymphd at once: all of them but those of pairs reset/calm name. */
void qmanager_set_wake(struct qmanager *q, void (*calm)(void *ctx, const struct qkey *k),
		       void (*reset)(void *ctx, int all), void *ctx);

/* A death lymphd classified; only danger deaths count. */
void qmanager_on_death(struct qmanager *q, const struct lymph_death *d, const struct verdict *vd,
		       const char *exe, uint64_t now);

/* fanotify events: answer every one (allow or deny). */
void qmanager_on_fd(struct qmanager *q, uint64_t now);

/* Expire what is due. */
void qmanager_tick(struct qmanager *q, uint64_t now);

/* lymphctl release PATH [--uid U] (uid < 0: every uid): count released, or -errno. */
int qmanager_release(struct qmanager *q, const char *path, long uid, uint64_t now);

/*
 * Ban the binary (dev, ino) at path for every uid but root and [protect]'s,
 * at once, before any death of it here: the fleet's vaccine = quarantine.
 * No fleet may lock the administrators out of a binary, so only the
 * enforcements that decide per uid can do it (BPF LSM, fanotify).  It lasts
 * until qmanager_unban (the fleet calmed, or root released it).  0, or
 * -errno with *why set: -ENOTSUP [quarantine] is off, -EPERM a protected
 * binary, -EOPNOTSUPP no enforcement that spares uids, -EAGAIN observe mode
 * (nothing done), -ENOSPC too many bans, or what marking it failed with.
 * The caller journals the outcome.
 */
int qmanager_ban(struct qmanager *q, uint32_t dev, uint64_t ino, const char *path, uint64_t now,
		 const char **why);
/* Lift a ban: 0, or -ENOENT. */
int qmanager_unban(struct qmanager *q, uint32_t dev, uint64_t ino, uint64_t now);
/* The weather's multiplier of the danger threshold (1.0 when calm). */
void qmanager_set_weather_factor(struct qmanager *q, double factor);
/* Per-binary threshold multiplier (the fleet's vaccinations); NULL: none. */
void qmanager_set_bin_factor(struct qmanager *q,
			     double (*fn)(void *ctx, uint32_t dev, uint64_t ino), void *ctx);
/* For the weather: did a quarantine begin within the last within_ns? */
int qmanager_imposed_within(const struct qmanager *q, uint64_t now, uint64_t within_ns);
/* When the next quarantine ends (monotonic ns), 0: none ends. */
uint64_t qmanager_next_expiry(const struct qmanager *q);

/* New policy (thresholds, protected set, mode). */
void qmanager_reload(struct qmanager *q, const struct policy *p, int enforce);

struct json_object *qmanager_json(const struct qmanager *q, uint64_t now);

/* Journal every active quarantine (rotation). */
void qmanager_snapshot(struct qmanager *q, uint64_t now);

#endif
