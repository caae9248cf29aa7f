/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the supervision tests (service_test.c, daemons_test.c,
 * phagocyte_test.c): their policy, lymphd and the programs they supervise,
 * lymphctl services and journal as JSON, processes in /proc, files.
 * Include after helpers.h; built once into libth.a (tests/svc_helpers.c).
 */
#ifndef LYMPH_SVC_HELPERS_H
#define LYMPH_SVC_HELPERS_H

#include <dirent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include "procfs.h"
#include "smallfile.h"

/* A port nobody listens on now (the kernel's pick). */
int free_port(void);

/* ---- setup and teardown ------------------------------------------------- */

/*
 * The start of a supervision test's policy: enforce, and every other
 * responder out of the way: quarantine (these tests crash one binary again
 * and again), the weather's backoff factor (other tests and benches on the
 * host may make it stormy, which stretches every delay) and the fork
 * throttle (it may hold forks of the test's session).
 */
#define SVC_QUIET_POLICY "[lymphd]\nmode = enforce\n" SVC_QUIET_RESPONDERS
#define SVC_QUIET_RESPONDERS                     \
	"[quarantine]\nthreshold = 1000000\n"    \
	"[weather]\nbackoff_factor_stormy = 1\n" \
	"[throttle]\nbudget = 1000000\nburst = 1000000\n"

/*
 * The fields every lymphd fixture has (put them in its FIXTURE): its
 * directory, the policy and the journal in it, lymphd, and whether lymphd
 * runs (the teardown stops it then).
 */
#define SVC_FIXTURE_FIELDS                      \
	char dir[256], conf[320], journal[320]; \
	struct th_lymphd d;                     \
	bool running

/*
 * The first steps of such a fixture's FIXTURE_SETUP (SKIP and ASSERT use
 * its _metadata): lymphd not running, root or the test is skipped saying
 * why, then a new directory named after tag with DIR/lymph.conf and
 * DIR/journal.
 */
#define SVC_FIXTURE_SETUP(self, tag, why)                                                      \
	do {                                                                                   \
		(self)->dir[0] = '\0';                                                         \
		(self)->running = false;                                                       \
		th_lymphd_init(&(self)->d);                                                    \
		if (!th_is_root())                                                             \
			SKIP(return, why);                                                     \
		ASSERT_EQ(0, th_mkdtemp((self)->dir, sizeof((self)->dir), tag));               \
		snprintf((self)->conf, sizeof((self)->conf), "%s/lymph.conf", (self)->dir);    \
		snprintf((self)->journal, sizeof((self)->journal), "%s/journal", (self)->dir); \
	} while (0)

/* svc_lymphd_start on such a fixture's policy and journal, noting whether
 * lymphd runs: 0 or -errno. */
#define SVC_FIXTURE_START(self, extra_arg, timeout_ms)                                            \
	({                                                                                        \
		int err_ = svc_lymphd_start(&(self)->d, (self)->conf, (self)->journal, extra_arg, \
					    timeout_ms);                                          \
		(self)->running = !err_;                                                          \
		err_;                                                                             \
	})

/* Stop lymphd if it runs (safe twice). */
#define SVC_FIXTURE_STOP(self)                         \
	do {                                           \
		if ((self)->running)                   \
			th_lymphd_destroy(&(self)->d); \
		(self)->running = false;               \
	} while (0)

/* cc -O2 -o out tests/NAME.c (a program the test supervises): 0 or -errno. */
int svc_build_prog(const char *name, const char *out);

/* lymphd -c conf --journal=journal --quiet [extra_arg], up within
 * timeout_ms: 0 or -errno (th_lymphd_start). */
int svc_lymphd_start(struct th_lymphd *d, const char *conf, const char *journal,
		     const char *extra_arg, int timeout_ms);

/* SIGKILL every process running exe (lymphd leaves its services running
 * when it stops). */
void svc_kill_exe(const char *exe);

/* The test's directory: removed, or kept and named when $LYMPH_KEEP is set. */
void svc_rmdir(const char *dir);

/* ---- lymphctl ----------------------------------------------------------- */

/* `lymphctl services --json`: the entry of service name (a new reference),
 * or NULL. */
json_object *service_json(const struct th_lymphd *d, const char *name);

double json_dbl(json_object *o, const char *key);

/* Poll services until name is in state (NULL: any) with at least min_failures;
 * the entry, or NULL after timeout (with the last one logged). */
json_object *wait_service(const struct th_lymphd *d, const char *name, const char *state,
			  int64_t min_failures, int timeout_ms);

/* ---- the journal -------------------------------------------------------- */

/* Records of service name with action (NULL: any) in the journal, as a new
 * JSON array (caller puts it). */
json_object *journal_records(const char *journal, const char *name, const char *action);

size_t journal_count(const char *journal, const char *name, const char *action);

/* ---- processes ---------------------------------------------------------- */

/* Pids running exe (links in its path resolved, as /proc/PID/exe names
 * it; zombies excluded), up to max. */
int pids_of(const char *exe, pid_t *pids, int max);

/* A process's fields from /proc (its status fields, its parent, its
 * session) and small files come from lymph's own readers: procfs.h and
 * smallfile.h (liblymph). */

/* pid's session, or -1. */
pid_t session_of(pid_t pid);

/* ---- real daemons ------------------------------------------------------- */

/* Does /proc/PID/cmdline (NULs as blanks) contain needle? */
bool cmdline_has(pid_t pid, const char *needle);

/* Is pid's working directory under dir (redis chdirs to its --dir and
 * rewrites its command line)? */
bool cwd_under(pid_t pid, const char *dir);

/*
 * SIGKILL every process running exe whose command line (or working
 * directory) holds needle, and
 * every process of their sessions (lymphd starts each service in its own:
 * the workers an nginx master forked, whatever their command line says).
 * Returns how many were signalled.
 */
int kill_sessions_of(const char *exe, const char *needle);

/* GET path from 127.0.0.1:port over HTTP/1.0: the status code (body into
 * buf), or -1. */
int http_get(int port, const char *path, char *buf, size_t cap);

/* Wait until file path contains needle; 0, or -1 after timeout_ms. */
int wait_file_has(const char *path, const char *needle, int timeout_ms);

/* A Cap* field of /proc/PID/status as a number, or -1. */
long long cap_of(pid_t pid, const char *key);

/*
 * A real fault in pid, as a debugger makes one: attach, set the program
 * counter to 0, detach.  The process faults at address 0 (SIGSEGV,
 * SEGV_MAPERR, raised by the kernel) whatever signal handlers it has.
 * 0 or -errno.
 */
int crash_by_pc0(pid_t pid);

/* The children of pid (from /proc/PID/task/PID/children), up to max. */
int children_of(pid_t pid, pid_t *out, int max);

#endif
