/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the responder tests (quarantine, throttle, privileges):
 * a storm backstop whose cleanup cannot be skipped, programs compiled from
 * tests/progs at setup time, processes started as another uid in a session
 * of their own, the journal and lymphctl read as JSON.
 *
 * The backstop.  A storm runs in a fresh v1 pids cgroup
 * (/sys/fs/cgroup/pids/lymph-storm.PID.N) with a small pids.max, and lymphd
 * nests its hold cgroups inside it.  storm_cg_destroy() freezes the tree's
 * growth (pids.max 0 at the top: every fork in it fails), SIGKILLs every
 * process of every cgroup in the tree, in rounds, until pids.current is 0,
 * then removes the sub-cgroups, deepest first, and the cgroup.  SIGKILL
 * also ends stopped processes, so nothing is ever left stopped.
 *
 * The teardown alone is not enough: the harness SIGKILLs a test that times
 * out, and a teardown never runs then.  So every backstop has a watchdog,
 * a process of its own session (out of reach of the harness's process-group
 * kill) that holds the read end of a pipe whose only write end the test
 * holds: when the test ends in any way, or when the watchdog's own deadline
 * passes, it does the same cleanup.
 *
 * Include after helpers.h; built once into libth.a (tests/storm_helpers.c).
 */
#ifndef LYMPH_STORM_HELPERS_H
#define LYMPH_STORM_HELPERS_H

#include <dirent.h>
#include <sys/mman.h>
#include "pidcg.h"
#include "progs/bomb_stats.h"

#define STORM_PIDS_ROOT "/sys/fs/cgroup/pids"
#define STORM_UID	1000 /* the unprivileged user who storms and crashes */
#define OTHER_UID	1001 /* another unprivileged user */

/* ---- cgroup files -------------------------------------------------------- */

int storm__write(const char *dir, const char *file, const char *val);

/* A number from a cgroup file ("max" reads as LLONG_MAX); -errno. */
long long storm_cg_read(const char *dir, const char *file);

/* The number on the "key N" line of a cgroup file (pids.events: "max");
 * -errno, -ENOENT without such a line. */
long long storm_cg_read_key(const char *dir, const char *file, const char *key);

/*
 * Kill everything in the tree at path until pids.current is 0 (at most
 * timeout_ms), then remove the tree.  0, or -errno.  Safe to call twice, and
 * from two processes at once.  A killed process stays charged to the
 * cgroup until it is reaped, and the storms' first processes are the
 * caller's children: kids (n_kids of them) are reaped here.
 */
int storm_cg_cleanup(const char *path, int timeout_ms, pid_t *kids, int n_kids);

#define STORM_KIDS 16

struct storm_cg {
	char path[PATH_MAX];	/* empty when not created */
	pid_t watchdog;		/* -1 when none */
	int wd_fd;		/* write end of the watchdog's pipe, or -EBADF */
	pid_t kids[STORM_KIDS]; /* our children in the cgroup, to reap */
	int n_kids;
};

void storm_cg_init(struct storm_cg *cg);

/*
 * A backstop cgroup with pids.max = max (<= 1000) and a watchdog that
 * cleans it up at the latest deadline_s seconds from now.  0 or -errno.
 */
int storm_cg_create(struct storm_cg *cg, long max, int deadline_s);

/* Kill the storm, remove the tree, end the watchdog.  Safe to call twice. */
int storm_cg_destroy(struct storm_cg *cg);

/* ---- processes ----------------------------------------------------------- */

/* State letter, session and real uid of pid from /proc; 0 or -errno. */
int storm_proc(pid_t pid, char *state, pid_t *sid, uid_t *uid);

/*
 * Processes in the tree at path (every cgroup below it too) in a stopped
 * state (T or t); their pids go into out (up to cap).  -errno on failure.
 */
int storm_cg_stopped(const char *path, pid_t *out, int cap, int depth);

/* Processes in the tree at path that can run: neither stopped nor zombies,
 * nor vfork() parents waiting for a child (held while the child is). */
int storm_cg_running(const char *path, int depth);

/* Processes anywhere on the host in session sid that are stopped. */
int storm_session_stopped(pid_t sid);

/* In the child: drop to uid (and gid uid, no groups); exits 125 on failure. */
void storm_become(uid_t uid);

/*
 * Start argv (argv[0] a path) as uid in a session of its own (its pid is
 * the session id), inside the backstop cg when given (the teardown reaps
 * it then), stdout and stderr to /dev/null.  Returns the pid, or -errno.
 */
pid_t storm_spawn(struct storm_cg *cg, uid_t uid, char *const argv[]);

/*
 * Run argv as uid (in the caller's session) and wait at most timeout_ms.
 * Returns the wait status; exec failures come back as exit status
 * 200 + errno (EPERM 201, EACCES 213).  -errno when it cannot be run.
 */
int storm_run_as(uid_t uid, char *const argv[], int timeout_ms);

/* The same in working directory dir (NULL: the caller's; exit status 199
 * when it cannot be entered), output to /dev/null or, when out is given,
 * stdout and stderr to the file out. */
int storm_run_in(const char *dir, uid_t uid, char *const argv[], const char *out, int timeout_ms);

/* ---- programs from tests/progs ------------------------------------------- */

/*
 * cc -O2 tests/progs/NAME.c -o DIR/NAME, mode 0755.  0 or -errno.  The
 * sources are found from the repository's top (where make runs the tests),
 * else next to the build directory.
 */
int storm_build_prog(const char *name, const char *dir, char *out, size_t len);

/* A zeroed stats page file at path, mapped shared; NULL on failure. */
struct bomb_stats *storm_stats_map(const char *path);

uint64_t storm_load(const uint64_t *v);

/* ---- lymphd with a policy file ------------------------------------------- */

/*
 * The weather must not change the thresholds under the tests (other tests
 * on the host may make it stormy): every factor 1.
 */
#define STORM_CALM_WEATHER                     \
	"[weather]\n"                          \
	"stormy_danger_per_min = 1000000\n"    \
	"unsettled_danger_per_min = 1000000\n" \
	"budget_factor_stormy = 1\n"           \
	"quarantine_factor_stormy = 1\n"

/* Write text to dir/name (root-owned, 0644); the path goes into out. */
int storm_write_file(const char *dir, const char *name, const char *text, char *out, size_t len);

/*
 * Start lymphd --quiet -c conf --journal=journal [extra], and wait until it
 * answers on its control socket: lymphd prints its start line before it
 * arms its responders (quarantine, throttle), and serves the socket only
 * from its main loop, once they are.
 */
int storm_lymphd_start(struct th_lymphd *d, const char *conf, const char *journal,
		       const char *extra);

/* SIGKILL lymphd (a crash, no cleanup of its own) and reap it. */
void storm_lymphd_crash(struct th_lymphd *d);

/* ---- the journal ------------------------------------------------------------ */

typedef bool (*storm_rec_fn)(json_object *rec, const void *arg);

/*
 * Records of the journal at path with "type" type and "action" action (NULL:
 * any), for which match (NULL: all) says yes.  The count; the last one goes
 * to *last when asked (the caller puts it).
 */
int storm_journal_count(const char *path, const char *type, const char *action, storm_rec_fn match,
			const void *arg, json_object **last);

/* `lymphctl ARG --json` parsed (ARG: "status", "throttles"); NULL on failure. */
json_object *storm_ctl_json(const struct th_lymphd *d, const char *what);

#endif
