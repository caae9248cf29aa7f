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
 * Each test file includes this header once, after helpers.h.
 */
#ifndef LYMPH_STORM_HELPERS_H
#define LYMPH_STORM_HELPERS_H

#include <dirent.h>
#include <sys/mman.h>
#include "pidcg.h"
#include "progs/bomb_stats.h"

#define STORM_PIDS_ROOT	"/sys/fs/cgroup/pids"
#define STORM_UID	1000	/* the unprivileged user who storms and crashes */
#define OTHER_UID	1001	/* another unprivileged user */

/* ---- cgroup files -------------------------------------------------------- */

static inline int storm__write(const char *dir, const char *file, const char *val)
{
	return pidcg__write(dir, file, val);
}

/* A number from a cgroup file ("max" reads as LLONG_MAX); -errno. */
static inline long long storm_cg_read(const char *dir, const char *file)
{
	char p[PATH_MAX + 64], buf[64];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	if (!strncmp(buf, "max", 3))
		return LLONG_MAX;
	return strtoll(buf, NULL, 10);
}

/* SIGKILL every process of dir and of every cgroup below it; how many. */
static inline int storm__kill_tree(const char *dir, int depth)
{
	char p[PATH_MAX + 32];
	struct dirent *de;
	int n = 0, pid;
	FILE *f;
	DIR *d;

	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	f = fopen(p, "re");
	if (f) {
		while (fscanf(f, "%d", &pid) == 1) {
			if (pid > 1 && pid != getpid())
				kill(pid, SIGKILL);
			n++;
		}
		fclose(f);
	}
	if (depth > 8 || !(d = opendir(dir)))
		return n;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		n += storm__kill_tree(p, depth + 1);
	}
	closedir(d);
	return n;
}

/* rmdir every cgroup below dir, deepest first, then dir. */
static inline void storm__rmdir_tree(const char *dir, int depth)
{
	char p[PATH_MAX + 32];
	struct dirent *de;
	DIR *d;

	if (depth <= 8 && (d = opendir(dir))) {
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			storm__rmdir_tree(p, depth + 1);
		}
		closedir(d);
	}
	rmdir(dir);
}

/*
 * Kill everything in the tree at path until pids.current is 0 (at most
 * timeout_ms), then remove the tree.  0, or -errno.  Safe to call twice, and
 * from two processes at once.  A killed process stays charged to the
 * cgroup until it is reaped, and the storms' first processes are the
 * caller's children: kids (n_kids of them) are reaped here.
 */
static inline int storm_cg_cleanup(const char *path, int timeout_ms, pid_t *kids, int n_kids)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	long long cur;

	if (!path || strncmp(path, STORM_PIDS_ROOT "/lymph-storm.", strlen(STORM_PIDS_ROOT) + 13))
		return -EINVAL;
	if (access(path, F_OK))
		return 0;
	/* no fork anywhere in the tree succeeds from here on */
	storm__write(path, "pids.max", "0");
	/* a storm's first process leads its process group: one kill for all
	 * of it that is still in the group, while the leader is an unreaped
	 * child of ours (so the group id cannot be anybody else's) */
	for (int i = 0; i < n_kids; i++) {
		siginfo_t si;

		if (kids[i] > 0 &&
		    !waitid(P_PID, (id_t)kids[i], &si, WEXITED | WNOHANG | WNOWAIT))
			kill(-kids[i], SIGKILL);
	}
	for (;;) {
		int i;

		storm__kill_tree(path, 0);
		for (i = 0; i < n_kids; i++)
			if (kids[i] > 0 && waitpid(kids[i], NULL, WNOHANG) == kids[i])
				kids[i] = 0;
		cur = storm_cg_read(path, "pids.current");
		if (cur <= 0)
			break;
		if (th_now_ms() > deadline)
			return -ETIMEDOUT;
		th_sleep_ms(5);
	}
	/* a task that died stays charged until it is reaped: retry the rmdir */
	while (storm__rmdir_tree(path, 0), !access(path, F_OK)) {
		if (th_now_ms() > deadline)
			return -EBUSY;
		storm__kill_tree(path, 0);
		th_sleep_ms(10);
	}
	return 0;
}

#define STORM_KIDS 16

struct storm_cg {
	char path[PATH_MAX];	/* empty when not created */
	pid_t watchdog;		/* -1 when none */
	int wd_fd;		/* write end of the watchdog's pipe, or -EBADF */
	pid_t kids[STORM_KIDS];	/* our children in the cgroup, to reap */
	int n_kids;
};

static inline void storm_cg_init(struct storm_cg *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->watchdog = -1;
	cg->wd_fd = -EBADF;
}

/* The watchdog: wait for the test to end or for the deadline, then clean. */
static inline __attribute__((noreturn)) void storm__watchdog(const char *path, int rfd,
							      int deadline_s)
{
	int64_t deadline = th_now_ms() + (int64_t)deadline_s * 1000;
	int fd;

	setsid();
	prctl(PR_SET_NAME, "storm-watchdog");
	for (fd = 3; fd < 1024; fd++)
		if (fd != rfd)
			close(fd);
	for (;;) {
		struct pollfd p = { .fd = rfd, .events = POLLIN };
		int64_t left = deadline - th_now_ms();
		char c;

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			break;
		if (p.revents && read(rfd, &c, 1) <= 0)
			break;	/* EOF: the test is over, however it ended */
	}
	/* the test's children are reaped by whoever inherits them */
	if (storm_cg_cleanup(path, 60000, NULL, 0))
		fprintf(stderr, "# storm watchdog: failed to clean up %s\n", path);
	_exit(0);
}

/*
 * A backstop cgroup with pids.max = max (<= 1000) and a watchdog that
 * cleans it up at the latest deadline_s seconds from now.  0 or -errno.
 */
static inline int storm_cg_create(struct storm_cg *cg, long max, int deadline_s)
{
	static int seq;
	char val[32];
	int p[2], err;

	storm_cg_init(cg);
	if (max > 1000)
		max = 1000;
	if (access(STORM_PIDS_ROOT "/cgroup.procs", F_OK)) {
		th_diag("no v1 pids cgroup hierarchy at " STORM_PIDS_ROOT);
		return -ENODEV;
	}
	snprintf(cg->path, sizeof(cg->path), STORM_PIDS_ROOT "/lymph-storm.%d.%d",
		 (int)getpid(), ++seq);
	/* a leftover of an earlier run with the same pid: clean it first */
	storm_cg_cleanup(cg->path, 10000, NULL, 0);
	if (mkdir(cg->path, 0755)) {
		err = -errno;
		th_diag("failed to create cgroup %s: %s", cg->path, strerror(errno));
		cg->path[0] = '\0';
		return err;
	}
	snprintf(val, sizeof(val), "%ld\n", max);
	err = storm__write(cg->path, "pids.max", val);
	if (!err && pipe2(p, O_CLOEXEC))
		err = -errno;
	if (err) {
		th_diag("failed to set up the backstop %s: %s", cg->path, strerror(-err));
		rmdir(cg->path);
		cg->path[0] = '\0';
		return err;
	}
	fflush(stdout);
	fflush(stderr);
	cg->watchdog = fork();
	if (cg->watchdog == 0) {
		close(p[1]);
		storm__watchdog(cg->path, p[0], deadline_s);
	}
	close(p[0]);
	if (cg->watchdog < 0) {
		err = -errno;
		close(p[1]);
		rmdir(cg->path);
		cg->path[0] = '\0';
		return err;
	}
	cg->wd_fd = p[1];
	return 0;
}

/* Kill the storm, remove the tree, end the watchdog.  Safe to call twice. */
static inline int storm_cg_destroy(struct storm_cg *cg)
{
	int err = 0;

	if (cg->path[0]) {
		err = storm_cg_cleanup(cg->path, 60000, cg->kids, cg->n_kids);
		if (err)
			th_diag("failed to clean up %s: %s", cg->path, strerror(-err));
		cg->path[0] = '\0';
	}
	if (cg->wd_fd >= 0)
		close(cg->wd_fd);	/* the watchdog cleans (again) and exits */
	cg->wd_fd = -EBADF;
	if (cg->watchdog > 0) {
		int64_t deadline = th_now_ms() + 70000;

		while (waitpid(cg->watchdog, NULL, WNOHANG) == 0 && th_now_ms() < deadline)
			th_sleep_ms(10);
		cg->watchdog = -1;
	}
	return err;
}

/* ---- processes ----------------------------------------------------------- */

/* State letter, session and real uid of pid from /proc; 0 or -errno. */
static inline int storm_proc(pid_t pid, char *state, pid_t *sid, uid_t *uid)
{
	char p[64], buf[1024], *rp;
	struct stat st;
	int fd, s = 0;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (uid)
		*uid = fstat(fd, &st) ? (uid_t)-1 : st.st_uid;
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (!rp || sscanf(rp + 2, "%c %*d %*d %d", state, &s) != 2)
		return -EINVAL;
	if (sid)
		*sid = s;
	return 0;
}

/*
 * Processes in the tree at path (every cgroup below it too) in a stopped
 * state (T or t); their pids go into out (up to cap).  -errno on failure.
 */
static inline int storm_cg_stopped(const char *path, pid_t *out, int cap, int depth)
{
	char p[PATH_MAX + 32];
	struct dirent *de;
	int n = 0, pid;
	FILE *f;
	DIR *d;

	snprintf(p, sizeof(p), "%s/cgroup.procs", path);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%d", &pid) == 1) {
		char state = 0;

		if (!storm_proc(pid, &state, NULL, NULL) && (state == 'T' || state == 't')) {
			if (out && n < cap)
				out[n] = pid;
			n++;
		}
	}
	fclose(f);
	if (depth > 8 || !(d = opendir(path)))
		return n;
	while ((de = readdir(d))) {
		int m;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		m = storm_cg_stopped(p, out ? out + (n < cap ? n : cap) : NULL,
				     cap > n ? cap - n : 0, depth + 1);
		if (m > 0)
			n += m;
	}
	closedir(d);
	return n;
}

/* Processes in the tree at path that run (neither stopped nor zombies). */
static inline int storm_cg_running(const char *path, int depth)
{
	char p[PATH_MAX + 32];
	struct dirent *de;
	int n = 0, pid;
	FILE *f;
	DIR *d;

	snprintf(p, sizeof(p), "%s/cgroup.procs", path);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%d", &pid) == 1) {
		char state = 0;

		if (!storm_proc(pid, &state, NULL, NULL) && state != 'T' && state != 't' &&
		    state != 'Z' && state != 'X')
			n++;
	}
	fclose(f);
	if (depth > 8 || !(d = opendir(path)))
		return n;
	while ((de = readdir(d))) {
		int m;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		m = storm_cg_running(p, depth + 1);
		if (m > 0)
			n += m;
	}
	closedir(d);
	return n;
}

/* Processes anywhere on the host in session sid that are stopped. */
static inline int storm_session_stopped(pid_t sid)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end, state = 0;
		long pid = strtol(de->d_name, &end, 10);
		pid_t s = 0;

		if (*end || pid <= 1 || storm_proc((pid_t)pid, &state, &s, NULL))
			continue;
		if (s == sid && (state == 'T' || state == 't'))
			n++;
	}
	closedir(d);
	return n;
}

/* In the child: drop to uid (and gid uid, no groups); exits 125 on failure. */
static inline void storm_become(uid_t uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)) {
		dprintf(2, "# failed to become uid %u: %s\n", (unsigned)uid, strerror(errno));
		_exit(125);
	}
}

/*
 * Start argv (argv[0] a path) as uid in a session of its own (its pid is
 * the session id), inside the backstop cg when given (the teardown reaps
 * it then), stdout and stderr to /dev/null.  Returns the pid, or -errno.
 */
static inline pid_t storm_spawn(struct storm_cg *cg, uid_t uid, char *const argv[])
{
	const char *cgpath = cg ? cg->path : NULL;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (cgpath && storm__write(cgpath, "cgroup.procs", "0"))
			_exit(124);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		setsid();
		storm_become(uid);
		execv(argv[0], argv);
		_exit(127);
	}
	if (cg && cg->n_kids < STORM_KIDS)
		cg->kids[cg->n_kids++] = pid;
	return pid;
}

/*
 * Run argv as uid (in the caller's session) and wait at most timeout_ms.
 * Returns the wait status; exec failures come back as exit status
 * 200 + errno (EPERM 201, EACCES 213).  -errno when it cannot be run.
 */
static inline int storm_run_as(uid_t uid, char *const argv[], int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		th_crash_prepare();
		if (uid)
			storm_become(uid);
		execv(argv[0], argv);
		_exit(200 + (errno < 55 ? errno : 55));
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (th_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		th_sleep_ms(1);
	}
	return status;
}

/* ---- programs from tests/progs ------------------------------------------- */

/*
 * cc -O2 tests/progs/NAME.c -o DIR/NAME, mode 0755.  0 or -errno.  The
 * sources are found from the repository's top (where make runs the tests),
 * else next to the build directory.
 */
static inline int storm_build_prog(const char *name, const char *dir, char *out, size_t len)
{
	char src[PATH_MAX], inc[PATH_MAX + 4];
	char *argv[] = { "/usr/bin/cc", "-O2", "-Wall", inc, "-o", out, src, NULL };
	struct th_cmd *r = calloc(1, sizeof(*r));
	int err = 0;

	if (!r)
		return -ENOMEM;
	snprintf(src, sizeof(src), "tests/progs/%s.c", name);
	if (access(src, R_OK))
		snprintf(src, sizeof(src), "%s/../tests/progs/%s.c", th_build_dir(), name);
	snprintf(inc, sizeof(inc), "-I%.*s", (int)(strrchr(src, '/') - src), src);
	snprintf(out, len, "%s/%s", dir, name);
	if (th_run(argv, NULL, r) || r->status != 0) {
		th_diag("failed to compile %s (run the tests from the repository's top): %s",
			src, r->err);
		err = -EIO;
	} else if (chmod(out, 0755)) {
		err = -errno;
	}
	free(r);
	return err;
}

/* A zeroed stats page file at path, mapped shared; NULL on failure. */
static inline struct bomb_stats *storm_stats_map(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	void *p;

	if (fd < 0 || ftruncate(fd, BOMB_STATS_SIZE) || fchown(fd, STORM_UID, STORM_UID)) {
		th_diag("failed to create %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(NULL, BOMB_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static inline uint64_t storm_load(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* ---- lymphd with a policy file ------------------------------------------- */

/*
 * The weather must not change the thresholds under the tests (other tests
 * on the host may make it stormy): every factor 1.
 */
#define STORM_CALM_WEATHER \
	"[weather]\n" \
	"stormy_danger_per_min = 1000000\n" \
	"unsettled_danger_per_min = 1000000\n" \
	"budget_factor_stormy = 1\n" \
	"quarantine_factor_stormy = 1\n"

/* Write text to dir/name (root-owned, 0644); the path goes into out. */
static inline int storm_write_file(const char *dir, const char *name, const char *text,
				   char *out, size_t len)
{
	FILE *f;

	snprintf(out, len, "%s/%s", dir, name);
	f = fopen(out, "we");
	if (!f)
		return -errno;
	fputs(text, f);
	if (fclose(f))
		return -errno;
	return chmod(out, 0644) ? -errno : 0;
}

/*
 * Start lymphd --quiet -c conf --journal=journal [extra], and wait until it
 * answers on its control socket: lymphd prints its start line before it
 * arms its responders (quarantine, throttle), and serves the socket only
 * from its main loop, once they are.
 */
static inline int storm_lymphd_start(struct th_lymphd *d, const char *conf, const char *journal,
				     const char *extra)
{
	char jopt[PATH_MAX + 16];
	const char *args[8];
	int64_t deadline;
	int n = 0, err;

	snprintf(jopt, sizeof(jopt), "--journal=%s", journal);
	args[n++] = "--quiet";
	args[n++] = "-c";
	args[n++] = conf;
	args[n++] = jopt;
	if (extra)
		args[n++] = extra;
	args[n] = NULL;
	err = th_lymphd_start(d, args, 20000);
	if (err)
		return err;
	deadline = th_now_ms() + 20000;
	for (;;) {
		struct th_cmd *r = calloc(1, sizeof(*r));
		bool ok = r && !th_lymphctl(d, r, NULL, "status", NULL) && r->status == 0;

		free(r);
		if (ok)
			return 0;
		if (th_now_ms() > deadline) {
			th_diag("lymphd does not answer on %s", d->sock);
			return -ETIMEDOUT;
		}
		th_sleep_ms(20);
	}
}

/* SIGKILL lymphd (a crash, no cleanup of its own) and reap it. */
static inline void storm_lymphd_crash(struct th_lymphd *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	if (d->out >= 0)
		close(d->out);
	d->out = -EBADF;
	json_object_put(d->start);
	d->start = NULL;
}

/* ---- the journal ------------------------------------------------------------ */

typedef bool (*storm_rec_fn)(json_object *rec, const void *arg);

/*
 * Records of the journal at path with "type" type and "action" action (NULL:
 * any), for which match (NULL: all) says yes.  The count; the last one goes
 * to *last when asked (the caller puts it).
 */
static inline int storm_journal_count(const char *path, const char *type, const char *action,
				      storm_rec_fn match, const void *arg, json_object **last)
{
	static char line[1 << 16];
	FILE *f = fopen(path, "re");
	int n = 0;

	if (last)
		*last = NULL;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		json_object *o = json_tokener_parse(line);
		const char *t = th_json_str(o, "type"), *a = th_json_str(o, "action");

		if (o && t && !strcmp(t, type) && (!action || (a && !strcmp(a, action))) &&
		    (!match || match(o, arg))) {
			n++;
			if (last) {
				json_object_put(*last);
				*last = json_object_get(o);
			}
		}
		json_object_put(o);
	}
	fclose(f);
	return n;
}

/* `lymphctl ARG --json` parsed (ARG: "status", "throttles"); NULL on failure. */
static inline json_object *storm_ctl_json(const struct th_lymphd *d, const char *what)
{
	struct th_cmd *r = calloc(1, sizeof(*r));
	json_object *o = NULL;

	if (!r)
		return NULL;
	if (!th_lymphctl(d, r, NULL, what, "--json", NULL) && r->status == 0)
		o = json_tokener_parse(r->out);
	if (!o)
		th_diag("lymphctl %s --json failed (0x%x): %.200s", what, r->status, r->err);
	free(r);
	return o;
}

#endif
