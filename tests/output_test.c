// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a real lymphd prints and logs.  On an idle host, with a real crash:
 * by default the crash is printed and no fork, exec or programmed death
 * is; -v adds the programmed deaths, -vv the forks and execs; --json keeps
 * every kind unless --events hides it.  With --log=journal every printed
 * item reaches the journal socket as a native-protocol entry with its
 * LYMPH_* fields (the test binds its own socket: $LYMPH_JOURNAL_SOCKET),
 * decisions included; auto picks the journal when stderr is not a terminal,
 * nothing on a terminal (a pty here), syslog when there is no journal;
 * --log=syslog sends RFC 3164 lines; a journal that cannot be reached is a
 * clear error.  Bad -v levels, --events and --log values exit 2.
 *
 * Needs root (BPF) for everything but the command-line errors.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include "helpers.h"
#include "kselftest_harness.h"

#define EVENT_TIMEOUT_MS 10000
#define START_TIMEOUT_MS 30000

/* ---- lymphd in text mode, with extra environment ------------------------ */

static bool stderr_has(const struct th_lymphd *d, const char *what)
{
	char buf[8192];
	ssize_t n;
	int fd = open(d->errpath, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, what) != NULL;
}

/*
 * Start `lymphd --dry-run --source=bpf --socket=DIR/lymphd.sock
 * --journal=DIR/journal -c DIR/lymph.conf ARGS...` with env (NAME=VALUE,
 * NULL-terminated) added; ready when stderr says which source it uses (the
 * line comes once every response is armed).  A DIR/lymph.conf written by
 * the caller before is used (an empty one is made when there is none), so
 * d->dir must already exist: pass it in dir.
 * stdout is a pipe read through d->out, or out_fd when >= 0; stderr is
 * d->errpath, or err_fd when >= 0 (then ready when lymphctl status answers,
 * which it does only once lymphd runs its loop).
 */
static int start_out(struct th_lymphd *d, const char *dir, const char *const args[],
		     const char *const env[], int out_fd, int err_fd)
{
	char prog[PATH_MAX], sockopt[PATH_MAX + 16], jopt[PATH_MAX + 16], conf[PATH_MAX];
	const char *argv[32];
	int outp[2], n = 0;
	int64_t deadline;

	th_lymphd_init(d);
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	snprintf(d->sock, sizeof(d->sock), "%s/lymphd.sock", d->dir);
	snprintf(d->errpath, sizeof(d->errpath), "%s/lymphd.stderr", d->dir);
	snprintf(sockopt, sizeof(sockopt), "--socket=%s", d->sock);
	snprintf(jopt, sizeof(jopt), "--journal=%s/journal", d->dir);
	snprintf(conf, sizeof(conf), "%s/lymph.conf", d->dir);
	if (access(conf, F_OK)) {
		/* -c names it: it must exist (defaults: an empty policy) */
		int fd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

		if (fd < 0)
			return -errno;
		close(fd);
	}
	argv[n++] = th_prog("lymphd", prog, sizeof(prog));
	argv[n++] = "--dry-run";
	argv[n++] = "--source=bpf";
	argv[n++] = sockopt;
	argv[n++] = jopt;
	argv[n++] = "-c";
	argv[n++] = conf;
	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if (pipe2(outp, O_CLOEXEC))
		return -errno;
	fcntl(outp[0], F_SETPIPE_SZ, 1 << 20);
	fflush(stdout);
	fflush(stderr);
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		int e = open(d->errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int devnull = open("/dev/null", O_RDONLY);

		for (; env && *env; env++)
			putenv((char *)*env);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(out_fd >= 0 ? out_fd : outp[1], 1);
		if (err_fd >= 0)
			dup2(err_fd, 2);
		else if (e >= 0)
			dup2(e, 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(outp[1]);
	if (out_fd >= 0)
		close(outp[0]);
	else
		d->out = outp[0];
	deadline = th_now_ms() + START_TIMEOUT_MS;
	while (th_now_ms() < deadline) {
		int status;

		if (stderr_has(d, "control socket"))
			return 0;
		if (err_fd >= 0 && !access(d->sock, F_OK)) {
			struct th_cmd r;

			if (!th_lymphctl(d, &r, NULL, "status", "--json", NULL) && r.status == 0)
				return 0;
		}
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			th_diag("lymphd exited while starting (wait status 0x%x)", status);
			d->pid = -1;
			th_lymphd_dump_stderr(d);
			return -ECHILD;
		}
		th_sleep_ms(20);
	}
	th_diag("lymphd did not start within %d ms", START_TIMEOUT_MS);
	th_lymphd_dump_stderr(d);
	return -ETIMEDOUT;
}

static int start(struct th_lymphd *d, const char *dir, const char *const args[],
		 const char *const env[])
{
	return start_out(d, dir, args, env, -1, -1);
}

/* ---- the children whose lives lymphd reports ---------------------------- */

struct lives {
	pid_t exited;  /* _exit(0): a programmed death */
	pid_t execed;  /* exec /bin/true */
	pid_t crashed; /* SIGSEGV: a danger death, last */
};

static pid_t run_child(const char *exec_path)
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (exec_path)
			execl(exec_path, exec_path, (char *)NULL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return pid;
}

/* In this order: the crash is an urgent record, drained with all before it. */
static void live(struct lives *l)
{
	int status;

	l->exited = run_child(NULL);
	l->execed = run_child("/bin/true");
	l->crashed = th_crash_child(TH_SEGV, NULL, &status);
}

/* Kind of a text line: the word after the time ("death", "fork", ...). */
static void kind_of(const char *line, char *kind, size_t cap)
{
	const char *p = strchr(line, ' ');
	size_t n;

	kind[0] = 0;
	if (!p)
		return;
	p++;
	n = strcspn(p, " ");
	if (n >= cap)
		n = cap - 1;
	memcpy(kind, p, n);
	kind[n] = 0;
}

static bool has_pid(const char *line, pid_t pid)
{
	char want[32];
	const char *p = line;

	snprintf(want, sizeof(want), " pid=%d", pid);
	while ((p = strstr(p, want))) {
		char next = p[strlen(want)];

		if (next == ' ' || next == 0)
			return true;
		p++;
	}
	return false;
}

struct seen {
	int lines, forks, execs, crash, exited_death, crash_fork, exec_of_child;
};

/* Read text lines until the crash's death line (or the timeout). */
static void read_until_crash(struct th_lymphd *d, const struct lives *l, struct seen *s)
{
	int64_t deadline = th_now_ms() + EVENT_TIMEOUT_MS;
	static char line[4096];
	char kind[32];

	memset(s, 0, sizeof(*s));
	while (th_lymphd_line(d, line, sizeof(line), deadline) == 1) {
		s->lines++;
		kind_of(line, kind, sizeof(kind));
		if (!strcmp(kind, "fork")) {
			s->forks++;
			if (has_pid(line, l->crashed))
				s->crash_fork++;
		} else if (!strcmp(kind, "exec")) {
			s->execs++;
			if (has_pid(line, l->execed))
				s->exec_of_child++;
		} else if (!strcmp(kind, "death") && has_pid(line, l->exited)) {
			s->exited_death++;
		} else if (!strcmp(kind, "death") && has_pid(line, l->crashed)) {
			s->crash++;
			if (!strstr(line, " danger ") || !strstr(line, "sig=SIGSEGV"))
				th_diag("crash line without danger/SIGSEGV: %s", line);
			else
				return;
		}
	}
}

FIXTURE(text)
{
	struct th_lymphd d;
	char dir[256];
};

FIXTURE_SETUP(text)
{
	th_lymphd_init(&self->d);
	self->dir[0] = 0;
	if (!th_is_root())
		SKIP(return, "needs root to load BPF programs");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "output"));
}

FIXTURE_TEARDOWN(text)
{
	if (self->dir[0]) {
		th_lymphd_stop(&self->d);
		th_rmdir_flat(self->dir);
	}
}

/* Default: the crash, and no fork, exec or programmed death of ours. */
TEST_F(text, default_prints_the_crash_only)
{
	static const char *const args[] = { "--log=stderr", NULL };
	struct lives l;
	struct seen s;

	ASSERT_EQ(0, start(&self->d, self->dir, args, NULL));
	live(&l);
	ASSERT_GT(l.crashed, 0);
	read_until_crash(&self->d, &l, &s);
	EXPECT_EQ(1, s.crash) TH_LOG("no danger line for the crash of pid %d", l.crashed);
	EXPECT_EQ(0, s.forks);
	EXPECT_EQ(0, s.execs);
	EXPECT_EQ(0, s.exited_death) TH_LOG("the programmed death of pid %d was printed", l.exited);
}

/* -v: programmed deaths too, still no fork or exec. */
TEST_F(text, v_adds_programmed_deaths)
{
	static const char *const args[] = { "-v", "--log=stderr", NULL };
	struct lives l;
	struct seen s;

	ASSERT_EQ(0, start(&self->d, self->dir, args, NULL));
	live(&l);
	read_until_crash(&self->d, &l, &s);
	EXPECT_EQ(1, s.crash);
	EXPECT_EQ(1, s.exited_death) TH_LOG("no line for the exit of pid %d", l.exited);
	EXPECT_EQ(0, s.forks);
	EXPECT_EQ(0, s.execs);
}

/* -vv: forks and execs, our own among them. */
TEST_F(text, vv_adds_forks_and_execs)
{
	static const char *const args[] = { "-vv", "--log=stderr", NULL };
	struct lives l;
	struct seen s;

	ASSERT_EQ(0, start(&self->d, self->dir, args, NULL));
	live(&l);
	read_until_crash(&self->d, &l, &s);
	EXPECT_EQ(1, s.crash);
	EXPECT_EQ(1, s.exited_death);
	EXPECT_EQ(1, s.crash_fork)
	TH_LOG("no fork line for pid %d (%d fork lines)", l.crashed, s.forks);
	EXPECT_EQ(1, s.exec_of_child)
	TH_LOG("no exec line for pid %d (%d exec lines)", l.execed, s.execs);
}

/* --events names kinds: exactly forks, then the crash is not printed. */
TEST_F(text, events_selects_kinds)
{
	static const char *const args[] = { "--events=fork", "--log=stderr", NULL };
	struct lives l;
	struct seen s;

	ASSERT_EQ(0, start(&self->d, self->dir, args, NULL));
	live(&l);
	read_until_crash(&self->d, &l, &s); /* runs to the timeout: no crash line */
	EXPECT_EQ(0, s.crash);
	EXPECT_EQ(1, s.crash_fork);
	EXPECT_EQ(0, s.execs);
	EXPECT_EQ(s.forks, s.lines) TH_LOG("%d lines, %d of them forks", s.lines, s.forks);
}

/* --json keeps every kind; --events=-fork,-exec takes them out. */
static void json_kinds(struct __test_metadata *_metadata, struct th_lymphd *d, const char *dir,
		       const char *events, bool want_forks)
{
	const char *args[] = { "--json", "--log=stderr", events, NULL };
	int64_t deadline;
	int forks = 0, execs = 0, crash = 0, exited = 0;
	struct lives l;
	json_object *o;

	ASSERT_EQ(0, start(d, dir, args, NULL));
	live(&l);
	deadline = th_now_ms() + EVENT_TIMEOUT_MS;
	while (!crash && (o = th_lymphd_next(d, deadline))) {
		const char *e = th_json_str(o, "event");
		pid_t pid = (pid_t)th_json_int(o, "pid");

		if (e && !strcmp(e, "fork") && pid == l.crashed)
			forks++;
		else if (e && !strcmp(e, "exec") && pid == l.execed)
			execs++;
		else if (e && !strcmp(e, "death") && pid == l.exited)
			exited++;
		else if (e && !strcmp(e, "death") && pid == l.crashed)
			crash++;
		json_object_put(o);
	}
	EXPECT_EQ(1, crash);
	EXPECT_EQ(1, exited); /* a programmed death, in JSON without -v */
	EXPECT_EQ(want_forks ? 1 : 0, forks);
	EXPECT_EQ(want_forks ? 1 : 0, execs);
}

TEST_F(text, json_keeps_every_kind)
{
	json_kinds(_metadata, &self->d, self->dir, NULL, true);
}

TEST_F(text, json_hides_what_events_hides)
{
	json_kinds(_metadata, &self->d, self->dir, "--events=-fork,-exec", false);
}

/* ---- the system log, on sockets of the test's own ------------------------ */

static int bind_dgram(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rcv = 4 << 20;

	if (fd < 0)
		return -errno;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* One datagram within the deadline, NUL-terminated; its length or <= 0. */
static ssize_t recv_until(int fd, char *buf, size_t cap, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - th_now_ms();
		ssize_t n;

		if (left <= 0)
			return 0;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recv(fd, buf, cap - 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n >= 0)
			buf[n] = 0;
		return n;
	}
}

/* The value of NAME in a native-protocol entry (text fields only), or NULL. */
static const char *field(const char *entry, size_t len, const char *name, char *val, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = entry, *end = entry + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			return NULL;
		if ((size_t)(eol - p) > nl && !memcmp(p, name, nl) && p[nl] == '=') {
			size_t n = (size_t)(eol - p) - nl - 1;

			if (n >= cap)
				n = cap - 1;
			memcpy(val, p + nl + 1, n);
			val[n] = 0;
			return val;
		}
		if (!memchr(p, '=', (size_t)(eol - p))) {
			/* binary field: NAME\n, le64 length, value, \n */
			uint64_t v = 0;
			int k;

			if (end - eol < 9)
				return NULL;
			for (k = 0; k < 8; k++)
				v |= (uint64_t)(uint8_t)eol[1 + k] << (8 * k);
			p = eol + 9 + v + 1;
			continue;
		}
		p = eol + 1;
	}
	return NULL;
}

static bool field_is(const char *entry, size_t len, const char *name, const char *want)
{
	char v[512];

	return field(entry, len, name, v, sizeof(v)) && !strcmp(v, want);
}

FIXTURE(logsock)
{
	struct th_lymphd d;
	char dir[256];
	char path[PATH_MAX];
	char env[PATH_MAX + 32];
	int fd;
};

FIXTURE_SETUP(logsock)
{
	th_lymphd_init(&self->d);
	self->dir[0] = 0;
	self->fd = -EBADF;
	if (!th_is_root())
		SKIP(return, "needs root to load BPF programs");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "output"));
	snprintf(self->path, sizeof(self->path), "%s/log.sock", self->dir);
	self->fd = bind_dgram(self->path);
	ASSERT_LE(0, self->fd) TH_LOG("bind %s: %s", self->path, strerror(-self->fd));
}

FIXTURE_TEARDOWN(logsock)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->dir[0]) {
		th_lymphd_stop(&self->d);
		th_rmdir_flat(self->dir);
	}
}

static int write_conf(const char *dir, const char *text)
{
	char path[PATH_MAX];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/lymph.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		err = -EIO;
	close(fd);
	return err;
}

struct jseen {
	int crash_entries, fork_entries, exited_entries, decisions;
	char crash_prio[8], crash_exe[PATH_MAX], decision_action[64];
};

/* Collect journal entries until a quarantine decision about the crasher
 * arrived (or the timeout). */
static void read_journal(int fd, const struct lives *l, int n_crashes, const pid_t *crashes,
			 struct jseen *s)
{
	int64_t deadline = th_now_ms() + EVENT_TIMEOUT_MS;
	static char e[1 << 16];
	char v[64];
	ssize_t n;
	int i;

	memset(s, 0, sizeof(*s));
	while ((n = recv_until(fd, e, sizeof(e), deadline)) > 0) {
		size_t len = (size_t)n;
		char pid[32];

		if (!field_is(e, len, "SYSLOG_IDENTIFIER", "lymphd"))
			continue;
		if (field_is(e, len, "LYMPH_EVENT", "fork"))
			s->fork_entries++;
		snprintf(pid, sizeof(pid), "%d", l->exited);
		if (field_is(e, len, "LYMPH_EVENT", "death") && field_is(e, len, "LYMPH_PID", pid))
			s->exited_entries++;
		for (i = 0; i < n_crashes; i++) {
			snprintf(pid, sizeof(pid), "%d", crashes[i]);
			if (field_is(e, len, "LYMPH_EVENT", "death") &&
			    field_is(e, len, "LYMPH_PID", pid) &&
			    field_is(e, len, "LYMPH_CLASS", "danger") &&
			    field_is(e, len, "LYMPH_SIGNAL", "SIGSEGV") &&
			    field_is(e, len, "LYMPH_REASON", "fault")) {
				s->crash_entries++;
				field(e, len, "PRIORITY", s->crash_prio, sizeof(s->crash_prio));
				field(e, len, "LYMPH_EXE", s->crash_exe, sizeof(s->crash_exe));
				if (!field(e, len, "MESSAGE", v, sizeof(v)))
					th_diag("a crash entry without MESSAGE");
			}
		}
		if (field_is(e, len, "LYMPH_EVENT", "quarantine") &&
		    field(e, len, "LYMPH_EXE", v, sizeof(v))) {
			char self_exe[PATH_MAX];
			ssize_t k = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

			self_exe[k > 0 ? k : 0] = 0;
			if (strstr(self_exe, v) || strstr(v, "output_test")) {
				s->decisions++;
				field(e, len, "LYMPH_ACTION", s->decision_action,
				      sizeof(s->decision_action));
				if (s->crash_entries >= n_crashes)
					return;
			}
		}
	}
}

/* lymphctl status says where the log goes and counts what it took. */
static void check_log_status(struct __test_metadata *_metadata, struct th_lymphd *d,
			     const char *target, int64_t min_sent)
{
	json_object *st = th_status(d), *lg = st ? th_json_get(st, "log") : NULL;

	ASSERT_NE(NULL, lg) TH_LOG("lymphctl status --json has no \"log\"");
	EXPECT_STREQ(target, th_json_str(lg, "target"));
	EXPECT_LE(min_sent, th_json_int(lg, "sent"));
	EXPECT_EQ(0, th_json_int(lg, "lost"));
	json_object_put(st);
}

/* Crashes reach the journal with their fields; so does the decision they
 * cause (quarantine threshold 2, observe mode); forks and programmed
 * deaths do not by default. */
static void journal_case(struct __test_metadata *_metadata, FIXTURE_DATA(logsock) * self,
			 const char *logopt)
{
	const char *args[] = { logopt, NULL };
	const char *env[] = { self->env, NULL };
	char self_exe[PATH_MAX];
	pid_t crashes[3];
	struct lives l;
	struct jseen s;
	ssize_t k;
	int i, status;

	snprintf(self->env, sizeof(self->env), "LYMPH_JOURNAL_SOCKET=%s", self->path);
	/* root = yes: the test crashes as root, whose binaries are otherwise never quarantined */
	ASSERT_EQ(0, write_conf(self->dir, "[quarantine]\nthreshold = 2\nroot = yes\n"));
	ASSERT_EQ(0, start(&self->d, self->dir, args, env));
	live(&l);
	crashes[0] = l.crashed;
	for (i = 1; i < 3; i++)
		crashes[i] = th_crash_child(TH_SEGV, NULL, &status);
	read_journal(self->fd, &l, 3, crashes, &s);
	k = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	self_exe[k > 0 ? k : 0] = 0;
	EXPECT_EQ(3, s.crash_entries)
	TH_LOG("entries for the 3 crashes with LYMPH_CLASS=danger "
	       "LYMPH_SIGNAL=SIGSEGV LYMPH_REASON=fault");
	EXPECT_STREQ("4", s.crash_prio); /* warning */
	EXPECT_STREQ(self_exe, s.crash_exe);
	EXPECT_LE(1, s.decisions) TH_LOG("no quarantine decision entry for %s", self_exe);
	EXPECT_STREQ("would-quarantine", s.decision_action);
	EXPECT_EQ(0, s.fork_entries);
	EXPECT_EQ(0, s.exited_entries);
	check_log_status(_metadata, &self->d, "journal", 4); /* 3 crashes, 1 decision */
	if (_metadata->exit_code == KSFT_FAIL)
		th_lymphd_dump_stderr(&self->d);
}

TEST_F(logsock, journal_gets_crashes_and_decisions)
{
	journal_case(_metadata, self, "--log=journal");
}

/* stderr is not a terminal (a file here): auto picks the journal. */
TEST_F(logsock, auto_picks_the_journal_off_a_terminal)
{
	journal_case(_metadata, self, "--log=auto"); /* stderr: a file */
}

/* Read a whole (small) file into buf. */
static void slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;

	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

/*
 * Under systemd, stdout may be the journal's own stream ($JOURNAL_STREAM,
 * "DEV:INODE"): then lymphd does not print there what it already sent
 * natively.  stdout is a file here, so its identity is known beforehand;
 * the control run names another stream and must print the crash.
 */
static void stream_case(struct __test_metadata *_metadata, FIXTURE_DATA(logsock) * self, bool ours)
{
	static const char *const args[] = { "--log=journal", NULL };
	static char text[1 << 16];
	char stream[64], outpath[PATH_MAX], want[32];
	const char *env[] = { self->env, stream, NULL };
	struct stat st;
	struct lives l;
	struct jseen s;
	int out;

	snprintf(self->env, sizeof(self->env), "LYMPH_JOURNAL_SOCKET=%s", self->path);
	ASSERT_EQ(0, write_conf(self->dir, ""));
	snprintf(outpath, sizeof(outpath), "%s/stdout", self->dir);
	out = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, out);
	ASSERT_EQ(0, fstat(out, &st));
	snprintf(stream, sizeof(stream), "JOURNAL_STREAM=%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (ours ? 0 : 1));
	ASSERT_EQ(0, start_out(&self->d, self->dir, args, env, out, -1));
	close(out);
	live(&l);
	read_journal(self->fd, &l, 1, &l.crashed, &s);
	EXPECT_EQ(1, s.crash_entries) TH_LOG("the journal always gets the crash");
	th_lymphd_stop(&self->d); /* flushes stdout */
	slurp(outpath, text, sizeof(text));
	snprintf(want, sizeof(want), " pid=%d ", l.crashed);
	if (ours) {
		EXPECT_EQ(NULL, strstr(text, want)) TH_LOG("printed twice: %s", text);
	} else {
		EXPECT_NE(NULL, strstr(text, want)) TH_LOG("stdout: %s", text);
	}
}

TEST_F(logsock, no_second_copy_on_the_journal_stream)
{
	stream_case(_metadata, self, true);
}

TEST_F(logsock, another_stream_is_printed)
{
	stream_case(_metadata, self, false);
}

/* On a terminal, auto logs nowhere but the terminal: the journal socket
 * gets nothing while the crash is printed. */
TEST_F(logsock, auto_on_a_terminal_keeps_to_it)
{
	static const char *const args[] = { "--log=auto", NULL };
	const char *env[] = { self->env, NULL };
	int64_t deadline;
	static char line[4096], e[1 << 16];
	int master, slave, printed = 0;
	struct lives l;
	ssize_t n;

	snprintf(self->env, sizeof(self->env), "LYMPH_JOURNAL_SOCKET=%s", self->path);
	ASSERT_EQ(0, write_conf(self->dir, ""));
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, master);
	ASSERT_EQ(0, grantpt(master));
	ASSERT_EQ(0, unlockpt(master));
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, slave);
	ASSERT_EQ(1, isatty(slave));
	ASSERT_EQ(0, start_out(&self->d, self->dir, args, env, -1, slave));
	close(slave);
	live(&l);
	deadline = th_now_ms() + EVENT_TIMEOUT_MS;
	while (!printed && th_lymphd_line(&self->d, line, sizeof(line), deadline) == 1)
		printed = strstr(line, " death ") && has_pid(line, l.crashed);
	EXPECT_EQ(1, printed) TH_LOG("no line for the crash of pid %d", l.crashed);
	/* The crash would have been sent before it was printed. */
	n = recv(self->fd, e, sizeof(e), MSG_DONTWAIT);
	EXPECT_EQ(-1, n) TH_LOG("the journal got an entry: %.200s", n > 0 ? e : "");
	check_log_status(_metadata, &self->d, "stderr", 0);
	th_lymphd_stop(&self->d);
	close(master);
}

/* No journal, but a syslog socket: auto picks syslog. */
TEST_F(logsock, auto_falls_back_to_syslog)
{
	static const char *const args[] = { "--log=auto", NULL };
	char nojournal[PATH_MAX + 32];
	const char *env[] = { self->env, nojournal, NULL };
	static char line[8192];
	char want[64], tag[64];
	struct lives l;
	int64_t deadline;
	int found = 0;

	snprintf(self->env, sizeof(self->env), "LYMPH_SYSLOG_SOCKET=%s", self->path);
	snprintf(nojournal, sizeof(nojournal), "LYMPH_JOURNAL_SOCKET=%s/none.sock", self->dir);
	ASSERT_EQ(0, write_conf(self->dir, ""));
	ASSERT_EQ(0, start(&self->d, self->dir, args, env));
	live(&l);
	snprintf(want, sizeof(want), " pid=%d ", l.crashed);
	snprintf(tag, sizeof(tag), " lymphd[%d]: death ", self->d.pid);
	deadline = th_now_ms() + EVENT_TIMEOUT_MS;
	while (!found && recv_until(self->fd, line, sizeof(line), deadline) > 0)
		found = strstr(line, want) && strstr(line, tag);
	EXPECT_EQ(1, found) TH_LOG("no syslog line for the crash of pid %d", l.crashed);
}

/*
 * A logger that does not read: its queue (net.unix.max_dgram_qlen
 * datagrams) fills, and what does not fit is counted as lost, said on
 * stderr, and never stalls lymphd; every entry counted as sent is there.
 */
TEST_F(logsock, full_logger_loses_counted_never_silently)
{
	static const char *const args[] = { "--log=journal", NULL };
	const char *env[] = { self->env, NULL };
	static char e[1 << 16];
	json_object *st, *lg;
	int64_t sent = 0, lost = 0, got = 0, deadline;
	long qlen = 0;
	FILE *f;
	int i, status;

	f = fopen("/proc/sys/net/unix/max_dgram_qlen", "re");
	if (f) {
		if (fscanf(f, "%ld", &qlen) != 1)
			qlen = 0;
		fclose(f);
	}
	if (qlen <= 0 || qlen > 1000)
		SKIP(return, "net.unix.max_dgram_qlen is %ld: too many crashes to fill it", qlen);
	snprintf(self->env, sizeof(self->env), "LYMPH_JOURNAL_SOCKET=%s", self->path);
	ASSERT_EQ(0, write_conf(self->dir, ""));
	ASSERT_EQ(0, start(&self->d, self->dir, args, env));
	for (i = 0; i < qlen + 5; i++)
		ASSERT_LT(0, th_crash_child(TH_SEGV, NULL, &status));
	/* lymphd still answers, and has said what it lost */
	deadline = th_now_ms() + EVENT_TIMEOUT_MS;
	do {
		st = th_status(&self->d);
		lg = st ? th_json_get(st, "log") : NULL;
		sent = lg ? th_json_int(lg, "sent") : 0;
		lost = lg ? th_json_int(lg, "lost") : 0;
		json_object_put(st);
		if (sent + lost >= qlen + 5)
			break;
		th_sleep_ms(100);
	} while (th_now_ms() < deadline);
	EXPECT_LE(qlen + 5, sent + lost)
	TH_LOG("sent %lld, lost %lld", (long long)sent, (long long)lost);
	EXPECT_LE(1, lost);
	EXPECT_TRUE(stderr_has(&self->d, "failed to send to journal"));
	/* every entry counted as sent is in the queue */
	while (recv(self->fd, e, sizeof(e), MSG_DONTWAIT) > 0)
		got++;
	EXPECT_LE(sent, got) TH_LOG("sent %lld, received %lld", (long long)sent, (long long)got);
}

TEST_F(logsock, syslog_lines)
{
	static const char *const args[] = { "--log=syslog", NULL };
	const char *env[] = { self->env, NULL };
	static char line[8192];
	char want[64], pri[8];
	struct lives l;
	int64_t deadline;
	int found = 0;
	ssize_t n;

	snprintf(self->env, sizeof(self->env), "LYMPH_SYSLOG_SOCKET=%s", self->path);
	ASSERT_EQ(0, write_conf(self->dir, ""));
	ASSERT_EQ(0, start(&self->d, self->dir, args, env));
	live(&l);
	snprintf(want, sizeof(want), " pid=%d ", l.crashed);
	snprintf(pri, sizeof(pri), "<%d>", 3 * 8 + 4); /* daemon.warning */
	deadline = th_now_ms() + EVENT_TIMEOUT_MS;
	while (!found && (n = recv_until(self->fd, line, sizeof(line), deadline)) > 0) {
		char tag[64];

		snprintf(tag, sizeof(tag), " lymphd[%d]: death ", self->d.pid);
		if (strstr(line, want) && strstr(line, tag)) {
			found = 1;
			EXPECT_EQ(0, strncmp(line, pri, strlen(pri))) TH_LOG("%s", line);
			EXPECT_NE(NULL, strstr(line, "danger")) TH_LOG("%s", line);
		}
	}
	EXPECT_EQ(1, found) TH_LOG("no syslog line for the crash of pid %d", l.crashed);
}

/* An explicit journal that is not there: one clear line, exit 1. */
TEST_F(logsock, unreachable_journal_is_an_error)
{
	char prog[PATH_MAX], so[PATH_MAX + 16], jo[PATH_MAX + 16];
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), "--log=journal", so, jo,
			 NULL };
	char *env[] = { self->env, NULL };
	struct th_cmd_opts o = { .env = env };
	static struct th_cmd r;

	snprintf(self->env, sizeof(self->env), "LYMPH_JOURNAL_SOCKET=%s/nothing.sock", self->dir);
	snprintf(so, sizeof(so), "--socket=%s/x.sock", self->dir);
	snprintf(jo, sizeof(jo), "--journal=%s/journal", self->dir);
	ASSERT_EQ(0, th_run(argv, &o, &r));
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1)
	TH_LOG("status 0x%x", r.status);
	EXPECT_EQ(1, th_count_lines(r.err)) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "nothing.sock")) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "--log=")) TH_LOG("%s", r.err);
	EXPECT_NE(0, access(so + strlen("--socket="), F_OK)) TH_LOG("the control socket was made");
}

/* ---- bad command lines: exit 2, one line, nothing started ---------------- */

TEST(bad_levels_and_filters)
{
	static const char *const bad[][3] = {
		{ "-vvvv", NULL },	 { "--verbose=4", NULL },    { "--verbose=x", NULL },
		{ "-v", "--verbose=9" }, { "--events=forks", NULL }, { "--events=death,", NULL },
		{ "--events=", NULL },	 { "-e", "bogus" },	     { "--log=console", NULL },
		{ "--log=", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char prog[PATH_MAX];
		char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), (char *)bad[i][0],
				 (char *)bad[i][1], NULL };
		struct th_cmd_opts o = { 0 };
		static struct th_cmd r;

		ASSERT_EQ(0, th_run(argv, &o, &r));
		EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2)
		TH_LOG("%s %s: status 0x%x", bad[i][0], bad[i][1] ? bad[i][1] : "", r.status);
		EXPECT_EQ(1, th_count_lines(r.err)) TH_LOG("%s: %s", bad[i][0], r.err);
		EXPECT_EQ(0, strncmp(r.err, "lymphd: ", 8)) TH_LOG("%s", r.err);
		EXPECT_EQ(0, (int)strlen(r.out)) TH_LOG("%s", r.out);
	}
}

TEST_HARNESS_MAIN
