/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers for lymph's tests: run lymphd and lymphctl as children,
 * read lymphd's JSON lines with timeouts, make processes crash in known
 * ways.  Every helper returns 0 (or a pointer) on success and -errno (or
 * NULL) on failure after printing one "# ..." diagnostic line to stderr, so
 * the kselftest output stays valid TAP.
 *
 * The helpers are built once (tests/helpers.c, storm_helpers.c,
 * svc_helpers.c, pkg_helpers.c, pidcg.c, loadcg.c) into
 * $(BUILD)/tests/libth.a, which every test and the benchmarks link.  A test includes this header first: it ends with the
 * kselftest harness (see below); the library itself and the benchmarks
 * define TH_NO_HARNESS and get the declarations only.
 */
#ifndef LYMPH_TEST_HELPERS_H
#define LYMPH_TEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <json-c/json.h>

#define th_diag(fmt, ...) fprintf(stderr, "# " fmt "\n", ##__VA_ARGS__)

/* ---- time ---------------------------------------------------------------- */

int64_t th_now_ms(void);

/* A fixed xorshift64 sequence: random records that are the same in every
 * run, so a failure can be replayed. */
uint64_t th_rnd(void);

/* A seccomp filter on the calling thread (and what it forks and execs):
 * system call @nr answered with @ret (SECCOMP_RET_...), every other one
 * allowed.  Needs no_new_privs or CAP_SYS_ADMIN.  0 or -errno. */
int th_seccomp_one(int nr, uint32_t ret);

void th_sleep_ms(long ms);

/* ---- paths ---------------------------------------------------------------- */

/*
 * The build directory: $LYMPH_BUILD, else the parent of the directory this
 * test binary lives in (tests are built as BUILD/tests/NAME).
 */
const char *th_build_dir(void);

/* ---- children ------------------------------------------------------------- */

/*
 * fork() once stdout and stderr are flushed (else what they still buffer is
 * written twice, by the child too, and the TAP output breaks): the child's
 * pid, 0 in the child, or -errno.
 */
pid_t th_fork(void);

/* In a child: become uid, with gid uid and no supplementary groups (groups
 * and gid first, while the uid may still change them): 0 or -errno. */
int th_become(uid_t uid);

/* Path of a program built next to the tests: "lymphd", "lymphctl". */
const char *th_prog(const char *name, char *buf, size_t len);

/* A fresh private directory under /tmp; mode 0755 so uid 1000 may enter. */
int th_mkdtemp(char *buf, size_t len, const char *tag);

/* rm -rf for the flat directories the tests create. */
void th_rmdir_flat(const char *dir);

/* cp src dst && chmod mode dst */
int th_copy_file(const char *src, const char *dst, mode_t mode);

bool th_is_root(void);

/* Replace path with text, mode exactly mode (whatever the umask): 0 or
 * -errno. */
int th_write_file(const char *path, const char *text, mode_t mode);

/* path into buf, NUL-terminated (at most cap - 1 bytes): 0 or -errno. */
int th_read_file(const char *path, char *buf, size_t cap);

/* ---- JSON accessors ------------------------------------------------------ */

bool th_json_has(json_object *o, const char *key);

/* The field, or NULL when it is missing or JSON null. */
json_object *th_json_get(json_object *o, const char *key);

const char *th_json_str(json_object *o, const char *key);

/* The journal's records (one JSON object per line) of type and action
 * (NULL: any), as a new array; and how many there are. */
json_object *th_journal_records(const char *journal, const char *type, const char *action);
int th_journal_count(const char *journal, const char *type, const char *action);

/* INT64_MIN when the field is missing or not a number. */
int64_t th_json_int(json_object *o, const char *key);

/* 1 true, 0 false, -1 missing or not a boolean. */
int th_json_bool(json_object *o, const char *key);

const char *th_json_text(json_object *o);

/* ---- running a command to completion ------------------------------------ */

struct th_cmd {
	int status;	 /* wait status, or -1 if it could not be run */
	bool timed_out;	 /* killed by us after the timeout */
	char out[65536]; /* stdout, NUL-terminated, truncated if longer */
	char err[16384]; /* stderr, likewise */
};

struct th_cmd_opts {
	uid_t uid; /* run as this uid (and gid) when as_user */
	bool as_user;
	char *const *env; /* extra NAME=VALUE strings, NULL-terminated */
	int timeout_ms;	  /* 0: 20 s */
};

void th_drain_fd(int fd, char *buf, size_t cap, size_t *len, bool *open_);

/* Run argv[0] (a path) with argv, capture stdout and stderr, wait for it. */
int th_run(char *const argv[], const struct th_cmd_opts *o, struct th_cmd *r);

/* Number of lines in s (a last line without '\n' counts). */
int th_count_lines(const char *s);

bool th_exited_nonzero(int status);

/*
 * Write text to conf and run `lymphd --check-config conf`: 0 when lymphd
 * refused it (exit status not 0) with exactly one line on stderr for each
 * of want (NULL-terminated), each "LINE: message" said as
 * "CONF:LINE: message"; else -1, with what differed logged.
 */
int th_check_config_refuses(const char *conf, const char *text, const char *const want[]);

/* ---- lymphd as a child --------------------------------------------------- */

struct th_lymphd {
	pid_t pid;
	int out;		/* read end of lymphd's stdout */
	char dir[256];		/* private temporary directory */
	char sock[PATH_MAX];	/* control socket inside dir */
	char errpath[PATH_MAX]; /* lymphd's stderr, kept in dir */
	json_object *start;	/* the {"event":"start"} line */
	size_t len;		/* bytes buffered in buf */
	bool eof;
	char buf[1 << 16];
};

void th_lymphd_init(struct th_lymphd *d);

/* Print lymphd's stderr as "# lymphd stderr: ..." lines. */
void th_lymphd_dump_stderr(const struct th_lymphd *d);

/*
 * Read the next complete line into the caller's buffer, waiting at most
 * until deadline (CLOCK_MONOTONIC ms).  Returns 1 with a line, 0 on timeout,
 * -EPIPE at end of file.
 */
int th_lymphd_line(struct th_lymphd *d, char *line, size_t cap, int64_t deadline);

/* Next JSON object from lymphd, or NULL on timeout or EOF.  Non-JSON lines
 * are reported and skipped. */
json_object *th_lymphd_next(struct th_lymphd *d, int64_t deadline);

typedef bool (*th_pred_fn)(json_object *o, const void *arg);

/*
 * Wait until a JSON line matches pred; return it (caller puts it), or NULL
 * after timeout_ms or at EOF.  Lines that do not match are discarded.
 */
json_object *th_lymphd_wait(struct th_lymphd *d, th_pred_fn pred, const void *arg, int timeout_ms);

bool th_is_event(json_object *o, const char *ev);

/* Matches {"event":"death","pid":*(pid_t *)arg}. */
bool th_pred_death_of(json_object *o, const void *arg);

bool th_pred_start(json_object *o, const void *arg);

/* Kill lymphd (SIGTERM, then SIGKILL after 5 s) and reap it; returns its
 * wait status or -1.  Safe to call twice. */
int th_lymphd_stop(struct th_lymphd *d);

/* Stop lymphd and remove its directory. */
void th_lymphd_destroy(struct th_lymphd *d);

/*
 * A fresh lymphd directory for d (d initialised): DIR, DIR/lymphd.sock and
 * DIR/lymphd.stderr, for a test that starts lymphd its own way.
 */
int th_lymphd_dir(struct th_lymphd *d);

/*
 * Start `lymphd --json --socket=DIR/lymphd.sock ARGS...` with stdout to a pipe
 * and stderr to a file, and wait up to timeout_ms for its start line.  With
 * quiet set (lymphd --quiet prints no event lines and may omit the start line
 * too), a successful `lymphctl status` also counts as ready.
 */
int th_lymphd_start(struct th_lymphd *d, const char *const args[], int timeout_ms);

/* ---- lymphctl ------------------------------------------------------------- */

/* Run `lymphctl --socket=SOCK ARGS...` (NULL-terminated varargs). */
int th_lymphctl(const struct th_lymphd *d, struct th_cmd *r, const struct th_cmd_opts *o, ...);

/* `lymphctl status --json`, parsed; NULL (with a diagnostic) on failure. */
json_object *th_status(const struct th_lymphd *d);

/* A new descriptor of the first BPF map called name among pid's open
 * descriptors (the sensors lymphd loaded), its info in *info; -errno
 * (-ENOENT: none). */
struct bpf_map_info;
int th_process_map_fd(pid_t pid, const char *name, struct bpf_map_info *info);

/* ---- servers the tests and benchmarks start ---------------------------- */

/* Does something accept TCP connections on 127.0.0.1:port? */
bool th_port_open(int port);

/*
 * Node i of an n-node NATS JetStream cluster called name, its files in dir
 * (DIR/nI.conf, DIR/nI.log, its store DIR/dI): client port base + i, route
 * port base + 10 + i.  The node dies with the caller.  Its pid, or -errno.
 */
pid_t th_nats_node(const char *dir, const char *name, int i, int n, int base);

/* By deadline (th_now_ms), every node of pids[0..n) that runs (pid > 0)
 * listens and the cluster has a JetStream meta leader: true, else false. */
bool th_nats_ready(const char *dir, const pid_t *pids, int n, int base, int64_t deadline);

/* ---- crashing children --------------------------------------------------- */

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS */
#endif

enum th_crash {
	TH_SEGV, /* null dereference: SEGV_MAPERR */
	TH_BUS,	 /* touch an mmap past end of file: BUS_ADRERR */
	TH_ABRT, /* abort(): SI_TKILL */
	TH_ILL,	 /* ud2: ILL_ILLOPN */
	TH_FPE,	 /* integer divide by zero: FPE_INTDIV */
	TH_SYS,	 /* seccomp RET_KILL_PROCESS: SYS_SECCOMP */
};

/* No core files, no inherited handlers or masks: die the default way. */
void th_crash_prepare(void);

/*
 * Crash the calling process (a child) the way `how` says; never returns if
 * the crash works.  busfile: a path the SIGBUS case may create, in a
 * directory the test owns.
 */
__attribute__((noreturn)) void th_crash_now(enum th_crash how, const char *busfile);

/*
 * Fork a child that crashes as `how` says and reap it.  Returns its pid, or
 * -errno; *status gets the wait status.
 */
pid_t th_crash_child(enum th_crash how, const char *busfile, int *status);

/*
 * A child that dies of a real SIGSEGV and dumps a core (as
 * kernel.core_pattern says), in dir (NULL: here), at one of two places in
 * the code (site 0 or 1: two crash signatures).  Its pid, or -1 when it
 * dumped no core.
 */
pid_t th_dump_core(const char *dir, int site);

/* The same crash with RLIMIT_CORE 0 (the process wants no core); its pid,
 * or -1 when it did not die of SIGSEGV. */
pid_t th_crash_wanting_no_core(int site);

/*
 * The harness comes last, compiled without optimisation, and with it every
 * test that includes this header.  Its TEST_F wrapper keeps `child` (0 in
 * the forked test) in a local across setjmp(); at -O2 gcc keeps it in a
 * register, so after a failed ASSERT the longjmp() brings back the value
 * from before the fork, the test takes the parent's path and skips
 * FIXTURE_TEARDOWN: lymphd's directory and the storm's cgroup would leak.
 * (gcc -Wclobbered warns about exactly this.)
 */
#ifndef TH_NO_HARNESS
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0")
#endif
#include "kselftest_harness.h"
#endif

#endif
