// SPDX-License-Identifier: GPL-2.0-only
/* The responder tests' helpers (storm_helpers.h), built once into libth.a. */
#define TH_NO_HARNESS
#include "helpers.h"
#include "storm_helpers.h"
#include "procfs.h"

int storm__write(const char *dir, const char *file, const char *val)
{
	return pidcg_write(dir, file, val);
}

long long storm_cg_read(const char *dir, const char *file)
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

long long storm_cg_read_key(const char *dir, const char *file, const char *key)
{
	char p[PATH_MAX + 64], line[128];
	size_t klen = strlen(key);
	long long v = -ENOENT;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The cgroups of the tree at dir, dir first, at most 8 levels down: with
 * visit, visit(pid, arg) on each process in each cgroup's cgroup.procs;
 * with remove, each cgroup rmdir()ed after the ones below it.  The sum of
 * what visit returned; -errno when visit is given and dir has no
 * cgroup.procs (the walk still goes below it, so every process is visited,
 * but what it returned below a cgroup without one is not counted). */
static int storm__cg_walk(const char *dir, int (*visit)(pid_t pid, void *arg), void *arg,
			  bool remove, int depth)
{
	char p[PATH_MAX + 32];
	struct dirent *de;
	int n = 0, m, pid, err = 0;
	FILE *f;
	DIR *d;

	if (visit) {
		snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
		f = fopen(p, "re");
		if (!f) {
			err = -errno;
		} else {
			while (fscanf(f, "%d", &pid) == 1)
				n += visit(pid, arg);
			fclose(f);
		}
	}
	if (depth <= 8 && (d = opendir(dir))) {
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			m = storm__cg_walk(p, visit, arg, remove, depth + 1);
			if (m > 0)
				n += m;
		}
		closedir(d);
	}
	if (remove)
		rmdir(dir);
	return err ?: n;
}

static int storm__kill_one(pid_t pid, void *arg)
{
	(void)arg;
	if (pid > 1 && pid != getpid())
		kill(pid, SIGKILL);
	return 1;
}

/* SIGKILL every process of dir and of every cgroup below it. */
static void storm__kill_tree(const char *dir)
{
	storm__cg_walk(dir, storm__kill_one, NULL, false, 0);
}

/* rmdir every cgroup below dir, deepest first, then dir. */
static void storm__rmdir_tree(const char *dir)
{
	storm__cg_walk(dir, NULL, NULL, true, 0);
}

int storm_cg_cleanup(const char *path, int timeout_ms, pid_t *kids, int n_kids)
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

		if (kids[i] > 0 && !waitid(P_PID, (id_t)kids[i], &si, WEXITED | WNOHANG | WNOWAIT))
			kill(-kids[i], SIGKILL);
	}
	for (;;) {
		int i;

		storm__kill_tree(path);
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
	while (storm__rmdir_tree(path), !access(path, F_OK)) {
		if (th_now_ms() > deadline)
			return -EBUSY;
		storm__kill_tree(path);
		th_sleep_ms(10);
	}
	return 0;
}

void storm_cg_init(struct storm_cg *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->watchdog = -1;
	cg->wd_fd = -EBADF;
}

/* The watchdog: wait for the test to end or for the deadline, then clean. */
static __attribute__((noreturn)) void storm__watchdog(const char *path, int rfd, int deadline_s)
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
			break; /* EOF: the test is over, however it ended */
	}
	/* the test's children are reaped by whoever inherits them */
	if (storm_cg_cleanup(path, 60000, NULL, 0))
		fprintf(stderr, "# storm watchdog: failed to clean up %s\n", path);
	_exit(0);
}

int storm_cg_create(struct storm_cg *cg, long max, int deadline_s)
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
	snprintf(cg->path, sizeof(cg->path), STORM_PIDS_ROOT "/lymph-storm.%d.%d", (int)getpid(),
		 ++seq);
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
	cg->watchdog = th_fork();
	if (cg->watchdog == 0) {
		close(p[1]);
		storm__watchdog(cg->path, p[0], deadline_s);
	}
	close(p[0]);
	if (cg->watchdog < 0) {
		err = cg->watchdog;
		cg->watchdog = -1;
		close(p[1]);
		rmdir(cg->path);
		cg->path[0] = '\0';
		return err;
	}
	cg->wd_fd = p[1];
	return 0;
}

int storm_cg_destroy(struct storm_cg *cg)
{
	int err = 0;

	if (cg->path[0]) {
		err = storm_cg_cleanup(cg->path, 60000, cg->kids, cg->n_kids);
		if (err)
			th_diag("failed to clean up %s: %s", cg->path, strerror(-err));
		cg->path[0] = '\0';
	}
	if (cg->wd_fd >= 0)
		close(cg->wd_fd); /* the watchdog cleans (again) and exits */
	cg->wd_fd = -EBADF;
	if (cg->watchdog > 0) {
		int64_t deadline = th_now_ms() + 70000;

		while (waitpid(cg->watchdog, NULL, WNOHANG) == 0 && th_now_ms() < deadline)
			th_sleep_ms(10);
		cg->watchdog = -1;
	}
	return err;
}

int storm_proc(pid_t pid, char *state, pid_t *sid, uid_t *uid)
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

static bool storm__stopped(pid_t pid, char state)
{
	(void)pid;
	return state == 'T' || state == 't';
}

/*
 * A vfork() parent sleeps (D) in the kernel until its child execs or
 * exits: while that child is held, the parent cannot run either, so it is
 * held too.  Its wchan says so (wait_for_vfork_done, or kernel_clone when
 * that is inlined).
 */
static bool storm__vfork_waits(pid_t pid, char state)
{
	char p[64], wchan[64] = "";
	ssize_t n;
	int fd;

	if (state != 'D')
		return false;
	snprintf(p, sizeof(p), "/proc/%d/wchan", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, wchan, sizeof(wchan) - 1);
	close(fd);
	wchan[n > 0 ? n : 0] = '\0';
	return !strcmp(wchan, "wait_for_vfork_done") || !strcmp(wchan, "kernel_clone");
}

static bool storm__running(pid_t pid, char state)
{
	return !storm__stopped(pid, state) && state != 'Z' && state != 'X' &&
	       !storm__vfork_waits(pid, state);
}

struct storm__count {
	bool (*want)(pid_t pid, char state);
	pid_t *out;	/* NULL, or room for cap pids */
	int cap, n;
};

static int storm__count_one(pid_t pid, void *arg)
{
	struct storm__count *c = arg;
	char state = 0;

	if (storm_proc(pid, &state, NULL, NULL) || !c->want(pid, state))
		return 0;
	if (c->out && c->n < c->cap)
		c->out[c->n] = pid;
	c->n++;
	return 1;
}

/* Processes in the tree at path whose state want() accepts; their pids go
 * into out (up to cap) when out is given.  -errno when path has no
 * cgroup.procs. */
static int storm__cg_count(const char *path, bool (*want)(pid_t pid, char state), pid_t *out,
			   int cap, int depth)
{
	struct storm__count c = { .want = want, .out = out, .cap = cap };

	return storm__cg_walk(path, storm__count_one, &c, false, depth);
}

int storm_cg_stopped(const char *path, pid_t *out, int cap, int depth)
{
	return storm__cg_count(path, storm__stopped, out, cap, depth);
}

int storm_cg_running(const char *path, int depth)
{
	return storm__cg_count(path, storm__running, NULL, 0, depth);
}

int storm_session_stopped(pid_t sid)
{
	struct proc_iter it;
	int n = 0, err;
	long pid;

	err = proc_iter_open(&it, "/proc");
	if (err)
		return err;
	while ((pid = proc_iter_next(&it)) >= 0) {
		char state = 0;
		pid_t s = 0;

		if (pid <= 1 || storm_proc((pid_t)pid, &state, &s, NULL))
			continue;
		if (s == sid && (state == 'T' || state == 't'))
			n++;
	}
	proc_iter_close(&it);
	return n;
}

void storm_become(uid_t uid)
{
	if (th_become(uid)) {
		dprintf(2, "# failed to become uid %u: %s\n", (unsigned)uid, strerror(errno));
		_exit(125);
	}
}

pid_t storm_spawn(struct storm_cg *cg, uid_t uid, char *const argv[])
{
	const char *cgpath = cg ? cg->path : NULL;
	pid_t pid;

	pid = th_fork();
	if (pid < 0)
		return pid;
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

int storm_run_as(uid_t uid, char *const argv[], int timeout_ms)
{
	return storm_run_in(NULL, uid, argv, NULL, timeout_ms);
}

int storm_run_in(const char *dir, uid_t uid, char *const argv[], const char *out, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	int status;
	pid_t pid;

	pid = th_fork();
	if (pid < 0)
		return pid;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int o = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC, 0666) : null;

		if (null >= 0)
			dup2(null, 0);
		if (o >= 0) {
			dup2(o, 1);
			dup2(o, 2);
		}
		th_crash_prepare();
		if (dir && chdir(dir))
			_exit(199);
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

int storm_build_prog(const char *name, const char *dir, char *out, size_t len)
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
		th_diag("failed to compile %s (run the tests from the repository's top): %s", src,
			r->err);
		err = -EIO;
	} else if (chmod(out, 0755)) {
		err = -errno;
	}
	free(r);
	return err;
}

struct bomb_stats *storm_stats_map(const char *path)
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

uint64_t storm_load(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

int storm_write_file(const char *dir, const char *name, const char *text, char *out, size_t len)
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

int storm_lymphd_start(struct th_lymphd *d, const char *conf, const char *journal,
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

void storm_lymphd_crash(struct th_lymphd *d)
{
	/* SIGKILL first: th_lymphd_stop's SIGTERM then finds it dying, and
	 * it reaps it and closes what is left, as for a clean stop. */
	if (d->pid > 0)
		kill(d->pid, SIGKILL);
	th_lymphd_stop(d);
}

int storm_journal_count(const char *path, const char *type, const char *action, storm_rec_fn match,
			const void *arg, json_object **last)
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

json_object *storm_ctl_json(const struct th_lymphd *d, const char *what)
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
