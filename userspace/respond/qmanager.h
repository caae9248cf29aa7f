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
	Q_ENF_NONE,		/* nothing usable: decisions are journaled only */
	Q_ENF_BPF_LSM,		/* bprm_check_security denies in the kernel, per uid */
	Q_ENF_FANOTIFY,		/* FAN_OPEN_EXEC_PERM marks, decided per uid */
	Q_ENF_EXEC_BITS,	/* chmod a-x, root scope only */
};

struct qmark;		/* one marked inode */
struct qevidence;	/* the death that began a quarantine */
struct lsm;		/* the BPF LSM skeleton */

/* Binaries tracked per uid: beyond, the uid's coldest entry is forgotten,
 * or, when all are quarantined, the new one is an overflow (journaled). */
#define QMANAGER_MAX_PER_UID 64

struct qmanager {
	struct qtable t;
	enum q_enforcement enf;
	const char *enf_why;	/* why the better methods are not in use */
	char enf_why_buf[96];
	int fan_fd;
	struct lsm *lsm;	/* LSM programs (Q_ENF_BPF_LSM) and/or the script tracker */
	int tracker;		/* the script tracker runs: interpreters' argv by pid */
	struct qmark *marks;
	size_t n_marks, cap_marks;
	/* Descriptors: fanotify marks are reopened through file handles, so
	 * none is held per binary; one per filesystem to open handles on.
	 * Where a filesystem has no handles, an fd per binary, within budget. */
	struct { int fd; int mount_id; } mnts[32];
	size_t n_mnts;
	size_t fds_held, fd_budget;
	uint64_t nofile;	/* RLIMIT_NOFILE soft limit after raising it */
	uint64_t overflow_fds;	/* quarantines refused for the descriptor budget */
	struct journal *journal;
	int enforce;
	const struct protect_conf *protect;
	/* protected binaries, by inode: pid 1's, lymphd's, sshd, login shells,
	 * the default list (doc/lymph.conf.5), configured */
	struct { uint32_t dev; uint64_t ino; } prot[512];	/* beyond: not protected, see load_protected */
	size_t n_prot;
	/* interpreters and dynamic loaders: a crash under one is charged to the
	 * script it ran; they open a quarantined file only to be refused */
	struct { uint32_t dev; uint64_t ino; uint32_t kind; } runners[256];
	size_t n_runners;
	struct clock_offset clk;
	uint64_t denied;	/* execs denied */
	double factor;		/* threshold multiplier from the weather */
	uint64_t last_imposed;	/* when the last quarantine began (monotonic ns) */
	/* Per-binary threshold multiplier (the fleet's vaccinations); NULL: 1. */
	double (*bin_factor)(void *ctx, uint32_t dev, uint64_t ino);
	void *bin_factor_ctx;
	unsigned int replay_protected;	/* journal quarantines skipped: protected */
	unsigned int replay_observed;	/* restored without enforcement (observe mode) */
	struct qevidence *evidence;	/* why each quarantine began, for snapshots */
	size_t n_evidence, cap_evidence, evidence_next;
};

int qmanager_init(struct qmanager *q, const struct policy *p, struct journal *j, int enforce);
void qmanager_free(struct qmanager *q);

/* The fd to watch (fanotify), or -1. */
int qmanager_fd(const struct qmanager *q);

/* Replay the journal, one record at a time (0, or -EINVAL for a damaged
 * quarantine record), then done: quarantines still in force come back,
 * expired ones are released (restoring modes).  Protected binaries and uids
 * are not restored; observe mode restores without enforcing. */
int qmanager_replay_record(struct qmanager *q, struct json_object *rec, uint64_t now);
void qmanager_replay_done(struct qmanager *q, uint64_t now);

/* A death lymphd classified; only danger deaths count. */
void qmanager_on_death(struct qmanager *q, const struct lymph_death *d, const struct verdict *vd,
		       const char *exe, uint64_t now);

/* fanotify events: answer every one (allow or deny). */
void qmanager_on_fd(struct qmanager *q, uint64_t now);

/* Expire what is due. */
void qmanager_tick(struct qmanager *q, uint64_t now);

/* lymphctl release PATH [--uid U] (uid < 0: every uid): count released, or -errno. */
int qmanager_release(struct qmanager *q, const char *path, long uid, uint64_t now);

/* New policy (thresholds, protected set, mode). */
void qmanager_reload(struct qmanager *q, const struct policy *p, int enforce);

struct json_object *qmanager_json(const struct qmanager *q, uint64_t now);

/* Journal every active quarantine (rotation). */
void qmanager_snapshot(struct qmanager *q, uint64_t now);

#endif
