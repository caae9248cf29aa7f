/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel throttle: what stops the forkers of a clone storm in the
 * kernel, set from the policy.  Two implementations: the BPF sensors' maps
 * (kthrottle_bpf.c, beside the BPF source that loads them) and lymph.ko's
 * knobs in /sys/kernel/lymph/ (kthrottle_kmod.c, the only userspace code
 * that knows those files).  A source only drains, checks drops and closes;
 * respond/throttle.c and lymphd talk to the throttle through this.
 *
 * lymph.ko's writes are journaled (type "module", action "knobs"): one
 * record per apply with every value written and, for a write that failed,
 * the knob and what to do.  Records made before the journal is readable
 * (lymphd's start, before its replay) wait until kthrottle_set_journal().
 */
#ifndef LYMPH_KTHROTTLE_H
#define LYMPH_KTHROTTLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>
#include "config.h"
#include "journal.h"
#include "source.h"

/* What the kernel side runs with (see bpf/sensors.h, doc/lymph.ko.md). */
struct kthrottle_settings {
	int enabled, enforce;
	uint32_t lineage_kind; /* LYMPH_LINEAGE_* */
	uint32_t budget;       /* net new processes per second, weather applied */
	uint32_t burst;
	uint32_t uid_budget; /* per uid, behind the lineage's; 0: none */
	uint32_t uid_burst;
	uint32_t daemon_tgid; /* lymphd: its stops are not an administrator's */
	uint64_t dead_time_min_ns, dead_time_max_ns; /* lymph.ko's own hold */
};

/* Never charged nor held: lymphd and its ancestors, the [protect] uids. */
struct kthrottle_protect {
	const uint32_t *tgids;
	size_t n_tgids;
	const uint32_t *uids;
	size_t n_uids;
};

struct kthrottle;

struct kthrottle_ops {
	/* The settings and the protected sets, at start, reload and when the
	 * weather changes the budget: 0 or -errno.  (lymph.ko: a knob the
	 * module refuses is reported and journaled, the rest written: 0.) */
	int (*apply)(struct kthrottle *k, const struct kthrottle_settings *s,
		     const struct kthrottle_protect *p);
	/* The weather word (include/lymph/names.h); optional. */
	int (*set_weather)(struct kthrottle *k, const char *word);
	/* Forget a lineage's overdraft (before its members are continued). */
	int (*forget_lineage)(struct kthrottle *k, uint32_t kind, uint64_t id);
	/* The clone family of pid (LYMPH_LINEAGE_FAMILY id): 0 or -errno. */
	int (*family_of)(struct kthrottle *k, pid_t pid, uint64_t *id);
	/* lymph stopped pid (stopped 1) or continued it (0): the sensors
	 * continue what lymph stopped when lymphd dies. */
	void (*note_stop)(struct kthrottle *k, pid_t pid, int stopped);
	/* 1 when someone other than lymph stopped pid and did not continue it. */
	int (*admin_stopped)(struct kthrottle *k, pid_t pid);
	/* The CPU is under heavy pressure (weather_cpu_crowded): a
	 * crowd spinning on refused forks makes it, so a kernel throttle
	 * that charges refused forks only while armed (BPF) samples them a
	 * while; optional. */
	void (*pressure)(struct kthrottle *k);
	/* lymphd pinned the pids cgroup dir at pids.max 0 (on 1) to hold the
	 * lineage (kind, id), or lifted that pin (0): the kernel side lifts
	 * what lymphd left pinned when lymphd dies (lymph.ko; the BPF path's
	 * pin guard, a small process lymphd forks), and lymph.ko keeps the
	 * lineage's members it holds stopped while pinned; optional.  0 or
	 * -errno. */
	int (*guard_pin)(struct kthrottle *k, const char *dir, uint32_t kind, uint64_t id, int on);
	/* lymphd lifts its hold of a lineage (kind, id) it pinned: the kernel
	 * side continues what it holds of it (lymph.ko keeps a pinned
	 * lineage's members stopped until then); optional.  0 or -errno. */
	int (*lift)(struct kthrottle *k, uint32_t kind, uint64_t id);
	/* The pid of the process lymphd forked to lift its pins if it dies
	 * (the BPF path's pin guard), or 0: spared like lymphd itself by
	 * every response (respond/protect.h); optional. */
	pid_t (*helper_pid)(const struct kthrottle *k);
	/* What the kernel runs with, read back (lymphctl status); optional. */
	struct json_object *(*json)(const struct kthrottle *k);
	void (*close)(struct kthrottle *k);
};

struct kthrottle {
	const struct kthrottle_ops *ops; /* NULL: the source cannot throttle */
	const char *name;		 /* "bpf", "lymph.ko" */
	const char *source;		 /* the source's name, for messages */
	void *priv;
	struct journal *journal;     /* NULL until kthrottle_set_journal() */
	struct json_object *pending; /* records waiting for the journal */
};

/*
 * The kernel throttle that goes with src: the BPF maps for the BPF source,
 * lymph.ko's knobs (in sysfs_dir, NULL for /sys/kernel/lymph) for the kmod
 * source.  0, or -EOPNOTSUPP with k->ops NULL for a source that cannot
 * stop forkers (proc); -errno on failure.
 */
int kthrottle_open(struct kthrottle *k, struct source *src, const char *sysfs_dir);
int kthrottle_bpf_open(struct kthrottle *k, struct source *src);
int kthrottle_kmod_open(struct kthrottle *k, const char *sysfs_dir);
/* The module's /dev/lymph (the kmod source's fd, not owned): asked for
 * families and given the pins to guard.  Without it, neither is done. */
void kthrottle_kmod_set_dev(struct kthrottle *k, int dev_fd);
void kthrottle_close(struct kthrottle *k);

/* Journal what waits, and every later record, into j. */
void kthrottle_set_journal(struct kthrottle *k, struct journal *j);
/* Journal rec (taking it), or keep it until there is a journal. */
void kthrottle_journal(struct kthrottle *k, struct json_object *rec);

static inline int kthrottle_available(const struct kthrottle *k)
{
	return k && k->ops && k->ops->apply;
}

int kthrottle_apply(struct kthrottle *k, const struct kthrottle_settings *s,
		    const struct kthrottle_protect *p);
int kthrottle_set_weather(struct kthrottle *k, const char *word);
int kthrottle_forget_lineage(struct kthrottle *k, uint32_t kind, uint64_t id);
int kthrottle_family_of(struct kthrottle *k, pid_t pid, uint64_t *id);
void kthrottle_note_stop(struct kthrottle *k, pid_t pid, int stopped);
int kthrottle_admin_stopped(struct kthrottle *k, pid_t pid);
void kthrottle_pressure(struct kthrottle *k);
int kthrottle_guard_pin(struct kthrottle *k, const char *dir, uint32_t kind, uint64_t id, int on);
int kthrottle_lift(struct kthrottle *k, uint32_t kind, uint64_t id);
pid_t kthrottle_helper_pid(const struct kthrottle *k);
/* A new object (never NULL): "kind" and, where the kernel has them, the
 * values read back. */
struct json_object *kthrottle_json(const struct kthrottle *k);

/* ---- pure ------------------------------------------------------------ */

/* The settings a policy's [throttle] asks for, the weather's budget factor
 * applied (never below 1 where 0 means off). */
void kthrottle_settings_of(const struct throttle_conf *c, int available, int enforce, double factor,
			   uint32_t daemon_tgid, struct kthrottle_settings *s);

/* One lymph.ko knob and the text written into it. */
#define KMOD_KNOB_NAME	32
#define KMOD_KNOB_VALUE 256
#define KMOD_KNOBS_MAX	12
#define KMOD_NOTE_LEN	160

struct kmod_knob {
	char name[KMOD_KNOB_NAME];
	char value[KMOD_KNOB_VALUE];
	int optional;		  /* skipped when the module has no such file */
	char note[KMOD_NOTE_LEN]; /* why the value differs from the policy's, or "" */
};

/* lymph.ko's ranges (kmod/knobs.c, kmod/lymph.h). */
#define LYMPH_KMOD_PROTECTED_MAX 16
#define KMOD_CLONE_MAX		 1000000u
#define KMOD_DEAD_TIME_MAX_MS	 600000u

/*
 * The knobs lymph.ko gets for s, p and the weather word (NULL: not known
 * yet, not written), in the order they are written: the protected uids
 * first, the mode last, and dead_time_min_ms <= dead_time_max_ms after
 * each write given the module's current max cur_dead_max_ms (0: unknown).
 * Values are clamped to the module's ranges, with a note.  Returns the
 * number of knobs filled into out (at most KMOD_KNOBS_MAX).
 */
size_t kmod_knobs_of(const struct kthrottle_settings *s, const struct kthrottle_protect *p,
		     const char *weather, uint32_t cur_dead_max_ms, struct kmod_knob *out);

#endif
