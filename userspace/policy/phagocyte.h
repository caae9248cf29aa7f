/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Phagocytes and foresight, the pure part: the [phagocyte] policy and the
 * per-service keys, and the decisions made from evidence gathered at the
 * edges (respond/leftovers.c, respond/phagocyte.c, weather/foresight.c):
 *
 *  - is a leftover file of a dead service (pid file, unix socket, lock)
 *    provably ownerless, so that removing it cannot hurt a live process;
 *  - has a parent kept more than zombie_max unreaped children for longer
 *    than zombie_after;
 *  - the trend of a filesystem's free space, robust to the sawtooth of log
 *    rotation, and its time to full;
 *  - which files a tidy rule names (age, budget, pattern).
 *
 * Times are ns; a wall time is CLOCK_REALTIME ns (file mtimes), every other
 * time CLOCK_MONOTONIC ns.
 */
#ifndef LYMPH_PHAGOCYTE_H
#define LYMPH_PHAGOCYTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PHAGO_LEFTOVERS_MAX 16
#define PHAGO_ROOTS_MAX	    16
#define PHAGO_TIDY_MAX	    32

/* One tidy rule: in dir, the regular files whose name matches pattern and
 * that are older than age, or beyond budget bytes counting the newest
 * first, are removed. */
struct tidy_rule {
	char *dir;	  /* absolute, normalised, inside a declared root */
	char *pattern;	  /* fnmatch(3) glob on the file name */
	uint64_t age;	  /* ns, 0: no age limit */
	int64_t budget;	  /* bytes kept, -1: no budget */
	int recurse;	  /* into subdirectories of the same filesystem */
	const char *file; /* where it was declared, for messages */
	int line;
};

struct phagocyte_conf {
	int section;		      /* a [phagocyte] section arms zombies, cores and tidy */
	int leftovers;		      /* clear stale leftovers before a restart */
	uint32_t zombie_max;	      /* unreaped children a parent may keep... */
	uint64_t zombie_after;	      /* ...for this long */
	uint64_t zombie_interval;     /* how often /proc is scanned for zombies */
	int foresight;		      /* disk foresight on */
	uint64_t disk_interval;	      /* statvfs sampling period */
	uint64_t disk_window;	      /* trend window: several rotation periods */
	uint64_t disk_horizon;	      /* act when the time to full is below it */
	uint64_t tidy_dead_time;      /* between two tidy runs on one filesystem */
	char *roots[PHAGO_ROOTS_MAX]; /* declared directories tidy may touch */
	size_t n_roots;
	const char *root_file[PHAGO_ROOTS_MAX];
	int root_line[PHAGO_ROOTS_MAX];
	struct tidy_rule tidy[PHAGO_TIDY_MAX];
	size_t n_tidy;
	char *watch[PHAGO_ROOTS_MAX]; /* disk_watch: only these mount points (none: all) */
	size_t n_watch;
	/* crash artifacts (coresig.h) */
	int cores;					    /* budget the cores at all */
	uint64_t core_budget_per_binary, core_budget_total; /* bytes */
	uint32_t core_keep_first;	  /* artifacts kept per distinct signature */
	uint64_t core_interval;		  /* how often the core directories are scanned */
	char *core_dirs[PHAGO_ROOTS_MAX]; /* besides workdirs and core_pattern's */
	size_t n_core_dirs;
	int core_handler;	       /* lymph is the "|" core_pattern handler (corehandler.h) */
	char *core_store;	       /* where the handler stores cores (NULL: the default) */
	uint64_t core_handler_timeout; /* longest a crashing task is held by the handler */
	/* leaks of supervised services */
	uint64_t leak_interval, leak_window;
	/* SysV shared memory left by dead processes (respond/shm.h) */
	int shm;	       /* remove such segments at all (default no) */
	int shm_any_dead;      /* also when nobody was seen to die badly */
	uint64_t shm_min_age;  /* idle (no attach, detach, change) at least this long */
	uint64_t shm_interval; /* how often /proc/sysvipc/shm is read */
	uint64_t shm_save_max; /* larger segments are never removed (they could not be restored) */
};

/* Per-service keys of [service NAME]. */
struct service_phago {
	char *leftovers[PHAGO_LEFTOVERS_MAX]; /* pid files, sockets, locks */
	size_t n_leftovers;
	int zombie_restart; /* restart the service when it hoards zombies */
	int clean;	    /* [phagocyte] leftovers, copied by config_finish */
	uint64_t
		leak_horizon; /* planned restart when a leak reaches the limit within it (0: off) */
};

void phago_conf_defaults(struct phagocyte_conf *c);
/* The shortest of the phagocytes' periods (zombies, disks, cores, leaks,
 * shm), ns: lymphd's drain timer ticks at least that often
 * (policy/tickpace.h). */
uint64_t phago_conf_shortest_interval(const struct phagocyte_conf *c);
void phago_conf_free(struct phagocyte_conf *c);
void phago_service_free(struct service_phago *s);

/*
 * One "key = value" line of [phagocyte] (file:line for tidy rules and
 * roots).  0: taken; 1: not a key of this section; -1: refused, with the
 * reason in err.
 */
int phago_conf_key(struct phagocyte_conf *c, const char *file, int line, const char *key,
		   const char *val, char *err, size_t errlen);

/* The same for the per-service keys of [service NAME]. */
int phago_service_key(struct service_phago *s, const char *key, const char *val, char *err,
		      size_t errlen);

/* Checks that need every file parsed (a tidy rule inside a declared root);
 * calls report(ctx, file, line, message) per mistake; returns their number. */
int phago_conf_finish(const struct phagocyte_conf *c,
		      void (*report)(void *ctx, const char *file, int line, const char *msg),
		      void *ctx);

/* path is root or below it (both normalised absolute paths). */
int phago_path_within(const char *path, const char *root);

/* An absolute path without //, /./, /../, nor a trailing slash. */
int phago_path_normal(const char *path);

/* ---- leftovers ------------------------------------------------------------ */

enum leftover_kind {
	LEFTOVER_PIDFILE,
	LEFTOVER_SOCKET,
	LEFTOVER_LOCK
};

/* What the edges found about one leftover path. */
struct leftover_evidence {
	int exists;
	int is_symlink;
	unsigned int ftype; /* S_IFMT bits of lstat */
	pid_t pid;	    /* the pid written in it, 0: none */
	int pid_alive;
	int pid_identity; /* 1: runs the service's binary, 0: another, -1: unknown */
	int pid_protected;
	int sock_bound;	   /* a live socket is bound to this path (/proc/net/unix) */
	int sock_accepts;  /* connect() was answered */
	int locked;	   /* /proc/locks holds a lock on its inode */
	pid_t lock_holder; /* 0 unknown (OFD lock) */
	pid_t open_by;	   /* a live process has it open, 0: none */
	int lymph_own;	   /* lymphd's own files: never */
};

/* 1: remove (the owner is provably gone), 0: keep; *why says which. */
int leftover_verdict(enum leftover_kind kind, const struct leftover_evidence *ev, const char **why);

/* The kind of a declared path from what it is (a socket, else a lock);
 * the service's pidfile is LEFTOVER_PIDFILE. */
enum leftover_kind leftover_kind_of(unsigned int ftype, int is_pidfile);
const char *leftover_kind_name(enum leftover_kind k);

/* ---- zombies ---------------------------------------------------------------- */

struct zombie_parent {
	pid_t pid;
	uint64_t starttime;    /* /proc/PID/stat field 22: pid reuse is a new parent */
	uint32_t zombies;      /* unreaped children at the last scan */
	uint64_t over_since;   /* since when more than zombie_max (0: not) */
	int reported;	       /* this episode was reported (and SIGCHLD sent) */
	uint64_t signalled_at; /* SIGCHLD sent then (0: not) */
	int restarted;	       /* the service was restarted for it */
	uint32_t seen;	       /* scan generation */
};

/* A scan found count zombies of this parent at now: 1 when it is to be
 * reported now (once per episode; an episode ends when the count falls to
 * zombie_max or below). */
int zombie_due(const struct phagocyte_conf *c, struct zombie_parent *z, uint32_t count,
	       uint64_t now);

/* ---- disk trend ------------------------------------------------------------- */

#define DTREND_MAX 512

struct dtrend {
	uint32_t n, head; /* ring of samples, oldest at head */
	uint64_t t[DTREND_MAX];
	double v[DTREND_MAX];
};

/* Add a sample (time, value); samples older than window are dropped. */
void dtrend_add(struct dtrend *d, uint64_t t, double v, uint64_t window);

/*
 * The trend of the value per second over the window: the mean of the
 * middle 80 % of the slopes between samples half the samples apart.  Each
 * such pair spans half the window, so a sawtooth of amplitude A (log
 * rotation) moves a pair's slope by at most 2A/window and averages out over
 * the pairs, and the trimming drops the few pairs a spike touches.
 * 0, or -EAGAIN while the samples span less than half the window or are
 * fewer than 8.
 */
int dtrend_slope(const struct dtrend *d, uint64_t window, double *per_s);

/* Seconds until avail reaches 0 at slope per_s (negative: consuming);
 * -1 when it does not shrink. */
double dtrend_time_to_empty(double avail, double per_s);

/*
 * A leak: a sustained rise, not a spike nor a sawtooth.  The trend of
 * usage (dtrend_slope) is positive and its floor rises: the lowest sample
 * of the last quarter of the span is above the highest of the first
 * quarter (a service that grows and frees again never passes).  1 with
 * *ttl_s the seconds until usage reaches limit, 0 when it does not leak,
 * -EAGAIN while learning.
 */
int leak_check(const struct dtrend *d, uint64_t window, double usage, double limit, double *slope,
	       double *ttl_s);

/*
 * A filesystem in danger, with a dead time (the paper's tie-breaker: a
 * signal must persist before the reactor acts).  A time to full below the
 * horizon enters danger only once it has been below at every sample for
 * the dead time: a trend that dips below for a sample or two (bursts
 * written and deleted again, whose phase lines up with the floor check for
 * a moment) is not acted on.  Danger clears when the disk stops filling or
 * the time to full is above twice the horizon, so the state does not flap.
 */
struct disk_danger {
	int danger;	      /* in danger now */
	int below;	      /* the last sample was below the horizon */
	uint64_t since;	      /* in danger since (ns) */
	uint64_t below_since; /* the first sample of this run below the horizon */
};

enum { DISK_DANGER_SAME, DISK_DANGER_ENTERED, DISK_DANGER_CLEARED };

/* The dead time: a quarter of disk_window (the floor check's quarter),
 * at least two disk_intervals. */
uint64_t disk_dead_time(const struct phagocyte_conf *c);

/* One sample's time to full (seconds, -1: not filling) at now: what changed. */
int disk_danger_step(struct disk_danger *s, const struct phagocyte_conf *c, double ttf_s, uint64_t now);

/* ---- SysV shared memory ------------------------------------------------------------ */

/* What the edges found about one segment. */
struct shm_evidence {
	uint32_t nattch;
	int creator_alive;  /* its creator (cpid) still runs (the same process, not a reused pid) */
	int attacher_alive; /* likewise its last attacher (lpid; 0 when none ever) */
	int died_badly;	    /* lymph saw the creator or the last attacher die badly */
	int protected_owner; /* its owner or creator uid is in [protect] uid */
	uint64_t idle_s;     /* seconds since its last attach, detach or change */
	uint64_t size;	     /* bytes */
};

/* 1: remove it (and save its content first), 0: keep; *why says which. */
int shm_verdict(const struct phagocyte_conf *c, const struct shm_evidence *e, const char **why);

/* ---- tidy ------------------------------------------------------------------- */

struct tidy_file {
	const char *name; /* the name matched against the pattern */
	uint64_t mtime;	  /* wall ns */
	uint64_t size;	  /* bytes */
	int remove;	  /* out: named by the rule */
};

/* Mark the files the rule names (files need not be sorted; files that do
 * not match the pattern are never marked).  Returns how many are marked. */
size_t tidy_select(const struct tidy_rule *r, struct tidy_file *f, size_t n, uint64_t now_wall);

#endif
