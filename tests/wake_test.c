// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which deaths wake lymphd at once.  The BPF sensors wake it for the deaths
 * it may have to act on now and batch the others (drained by its timer or
 * at the ring's fill mark).  Here lymphd's drain timer is ten minutes
 * (LYMPH_DRAIN_MS), so a line that comes within seconds came from a
 * wakeup:
 *  - a crash that counts towards a quarantine (uid 65534, [quarantine])
 *    and the crash at the threshold are seen and acted on at once;
 *  - a crash that cannot start one (root's, root = no) is batched, and is
 *    still reported: at the latest when lymphd stops;
 *  - a supervised service's crash (its binary is protected from
 *    quarantine, so batched) is acted on at once (its pidfd wakes lymphd,
 *    which drains the ring first: the sensor's si_code is in the record);
 *  - without [quarantine] every crash is batched, and none is lost.
 *
 *  - lymphd's event loop runs with a short scheduler slice (lib/slice.h),
 *    so that its wakeup preempts a crashing process's exit; the services
 *    it starts do not inherit it.
 *
 * Needs root (BPF).  The assertions never time anything: "at once" is
 * "long before the ten-minute timer".
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include <sys/socket.h>
#include <sys/un.h>
#include "procfs.h"
#include "slice.h"

#define NOBODY	  65534
#define PROMPT_MS 20000 /* far below the 600 s drain timer */
#define DRAIN_MS  "600000"

FIXTURE(wake)
{
	struct th_lymphd d;
	char dir[256], conf[PATH_MAX], journal[PATH_MAX], crasher[PATH_MAX];
	bool running;
};

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

/* The crasher binary, built into the test's directory (its own inode). */
static int build_crasher(const char *out)
{
	char src[PATH_MAX];
	char *argv[] = { "/usr/bin/cc", "-O0", "-o", (char *)out, src, NULL };
	struct th_cmd r;

	snprintf(src, sizeof(src), "tests/progs/crasher.c");
	if (access(src, R_OK)) {
		th_diag("cannot find %s (run from the top of the tree)", src);
		return -ENOENT;
	}
	if (th_run(argv, NULL, &r) || r.status != 0) {
		th_diag("cc %s failed (0x%x): %s", src, r.status, r.err);
		return -EIO;
	}
	return chmod(out, 0755) ? -errno : 0;
}

/* drain_ms: the drain timer's period (NULL: lymphd's own, 250 ms). */
static int start_lymphd_drain(FIXTURE_DATA(wake) * self, const char *drain_ms)
{
	char copt[PATH_MAX + 16], jopt[PATH_MAX + 16];
	const char *args[] = { copt, jopt, "--source=bpf", "--no-fork", "--no-exec", NULL };
	int err;

	snprintf(copt, sizeof(copt), "--config=%s", self->conf);
	snprintf(jopt, sizeof(jopt), "--journal=%s", self->journal);
	if (drain_ms)
		setenv("LYMPH_DRAIN_MS", drain_ms, 1);
	else
		unsetenv("LYMPH_DRAIN_MS");
	err = th_lymphd_start(&self->d, args, 20000);
	unsetenv("LYMPH_DRAIN_MS");
	self->running = !err;
	return err;
}

static int start_lymphd(FIXTURE_DATA(wake) * self)
{
	return start_lymphd_drain(self, DRAIN_MS);
}

FIXTURE_SETUP(wake)
{
	self->dir[0] = '\0';
	self->running = false;
	th_lymphd_init(&self->d);
	if (!th_is_root())
		SKIP(return, "needs root: lymphd loads BPF");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "wake"));
	chmod(self->dir, 0755);
	snprintf(self->conf, sizeof(self->conf), "%s/lymph.conf", self->dir);
	snprintf(self->journal, sizeof(self->journal), "%s/journal", self->dir);
	snprintf(self->crasher, sizeof(self->crasher), "%s/crasher", self->dir);
	ASSERT_EQ(0, build_crasher(self->crasher));
}

FIXTURE_TEARDOWN(wake)
{
	if (!self->dir[0])
		return;
	if (self->running)
		th_lymphd_destroy(&self->d);
	th_rmdir_flat(self->dir);
}

/* Run the crasher as uid (0: root); its pid, after it died. */
static pid_t crash_as(FIXTURE_DATA(wake) * self, uid_t uid)
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char *argv[] = { self->crasher, "segv", NULL };

		th_crash_prepare();
		if (uid &&
		    (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
			_exit(125);
		execv(argv[0], argv);
		_exit(126);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV) {
		th_diag("the crasher did not crash (wait status 0x%x)", status);
		return -EPROTO;
	}
	return pid;
}

/* A quarantine decision caused by the death of *(pid_t *)arg. */
static bool pred_quarantine_for(json_object *o, const void *arg)
{
	json_object *why = th_json_get(o, "why");

	return th_is_event(o, "decision") && !strcmp(th_json_str(o, "type") ?: "", "quarantine") &&
	       why && th_json_int(why, "pid") == *(const pid_t *)arg;
}

/* A service decision named action. */
static bool pred_service(json_object *o, const void *arg)
{
	return th_is_event(o, "decision") && !strcmp(th_json_str(o, "type") ?: "", "service") &&
	       !strcmp(th_json_str(o, "action") ?: "", (const char *)arg);
}

/*
 * Wait up to ms for pid's death line.  *others: danger deaths of other
 * processes seen meanwhile (one may have woken lymphd, which then drained
 * every record, batched or not).
 */
static json_object *death_within(FIXTURE_DATA(wake) * self, pid_t pid, int ms, int *others)
{
	int64_t deadline = th_now_ms() + ms;
	json_object *o;

	while ((o = th_lymphd_next(&self->d, deadline))) {
		if (th_pred_death_of(o, &pid))
			return o;
		if (th_is_event(o, "death") && !strcmp(th_json_str(o, "class") ?: "", "danger"))
			(*others)++;
		json_object_put(o);
	}
	return NULL;
}

/* Stop lymphd with SIGTERM and look for pid's death line in what it
 * printed before exiting (it drains the ring first). */
static bool death_reported_at_stop(FIXTURE_DATA(wake) * self, pid_t pid)
{
	bool found = false;
	json_object *o;

	kill(self->d.pid, SIGTERM);
	while ((o = th_lymphd_next(&self->d, th_now_ms() + 20000))) {
		if (th_pred_death_of(o, &pid))
			found = true;
		json_object_put(o);
	}
	return found;
}

TEST_F_TIMEOUT(wake, crash_towards_a_quarantine_wakes_lymphd, 120)
{
	json_object *o;
	int others = 0;
	pid_t p1, p2;

	ASSERT_EQ(0, write_text(self->conf, "[quarantine]\nthreshold = 2\n"));
	ASSERT_EQ(0, start_lymphd(self));

	/* uid 65534's first crash: it counts, so lymphd sees it at once */
	p1 = crash_as(self, NOBODY);
	ASSERT_GT(p1, 0);
	o = death_within(self, p1, PROMPT_MS, &others);
	ASSERT_NE(NULL, o)
	TH_LOG("the death of %d did not reach lymphd before its drain timer", p1);
	EXPECT_STREQ("danger", th_json_str(o, "class") ?: "");
	json_object_put(o);

	/* the second reaches the threshold: the (observe mode) quarantine
	 * decision comes at once too */
	p2 = crash_as(self, NOBODY);
	ASSERT_GT(p2, 0);
	o = th_lymphd_wait(&self->d, pred_quarantine_for, &p2, PROMPT_MS);
	ASSERT_NE(NULL, o) TH_LOG("no quarantine decision for the crash at the threshold");
	EXPECT_STREQ("would-quarantine", th_json_str(o, "action") ?: "");
	EXPECT_EQ(NOBODY, th_json_int(o, "uid"));
	json_object_put(o);
}

TEST_F_TIMEOUT(wake, crash_that_cannot_quarantine_is_batched_never_lost, 120)
{
	json_object *o;
	int others = 0;
	pid_t p1, p2;

	ASSERT_EQ(0, write_text(self->conf, "[quarantine]\nthreshold = 2\nroot = no\n"));
	ASSERT_EQ(0, start_lymphd(self));

	/* root's first crash: lymphd does not know it yet, it wakes; lymphd
	 * then tells the sensors that root's crashes of it are calm */
	p1 = crash_as(self, 0);
	ASSERT_GT(p1, 0);
	o = death_within(self, p1, PROMPT_MS, &others);
	ASSERT_NE(NULL, o) TH_LOG("the first death of %d did not reach lymphd", p1);
	json_object_put(o);

	/* the second is batched: not printed before the timer ... */
	others = 0;
	p2 = crash_as(self, 0);
	ASSERT_GT(p2, 0);
	o = death_within(self, p2, 3000, &others);
	if (o && others)
		TH_LOG("another danger death on the host woke lymphd: batching not observable here");
	else
		EXPECT_EQ(NULL, o) TH_LOG("a calm death woke lymphd");
	/* ... and never lost: lymphd drains the ring when it stops */
	if (!o)
		EXPECT_TRUE(death_reported_at_stop(self, p2));
	json_object_put(o);
}

TEST_F_TIMEOUT(wake, without_quarantine_every_crash_is_batched_never_lost, 120)
{
	json_object *o;
	int others = 0;
	pid_t p;

	/* no [quarantine]: nothing acts on a crash at once */
	ASSERT_EQ(0, write_text(self->conf, "[lymphd]\nmode = observe\n"));
	ASSERT_EQ(0, start_lymphd(self));
	p = crash_as(self, NOBODY);
	ASSERT_GT(p, 0);
	o = death_within(self, p, 3000, &others);
	if (o && others)
		TH_LOG("another danger death on the host woke lymphd: batching not observable here");
	else
		EXPECT_EQ(NULL, o) TH_LOG("a crash woke lymphd though nothing acts on it");
	if (!o)
		EXPECT_TRUE(death_reported_at_stop(self, p));
	json_object_put(o);
}

static int64_t status_int(FIXTURE_DATA(wake) * self, const char *group, const char *key)
{
	json_object *st = th_status(&self->d), *g = st;
	int64_t v = -1;

	if (st && group && !json_object_object_get_ex(st, group, &g))
		g = NULL;
	if (g)
		v = th_json_int(g, key);
	json_object_put(st);
	return v;
}

/*
 * Forks are batched: none wakes lymphd.  A burst of them wakes it at each
 * multiple of the ring's fill mark (lymph/ring_wake.h), long before its
 * ten-minute timer; each such drain finds more records than lymphd
 * handles straight from the ring, so it copies the rest out (its backlog,
 * in its status) while it handles them; and none is lost.
 */
#define BURST_FORKS 4000

TEST_F_TIMEOUT(wake, a_fork_burst_wakes_lymphd_at_the_fill_marks_and_none_is_lost, 120)
{
	char copt[PATH_MAX + 16], jopt[PATH_MAX + 16];
	const char *args[] = { copt, jopt, "--source=bpf", "--no-exec", "--ring-size=2M",
			       "--events=danger,drop", NULL };
	int64_t f0, f, deadline;
	json_object *o;
	int others = 0, i;
	pid_t p;

	/* a nobody's crash counts towards a quarantine: it wakes lymphd */
	ASSERT_EQ(0, write_text(self->conf, "[quarantine]\nthreshold = 50\n"));
	snprintf(copt, sizeof(copt), "--config=%s", self->conf);
	snprintf(jopt, sizeof(jopt), "--journal=%s", self->journal);
	setenv("LYMPH_DRAIN_MS", DRAIN_MS, 1);
	ASSERT_EQ(0, th_lymphd_start(&self->d, args, 20000));
	unsetenv("LYMPH_DRAIN_MS");
	self->running = true;
	/* what the start's drain left: a crash wakes lymphd, which reads all */
	p = crash_as(self, NOBODY);
	ASSERT_GT(p, 0);
	o = death_within(self, p, PROMPT_MS, &others);
	ASSERT_NE(NULL, o);
	json_object_put(o);
	f0 = status_int(self, "counters", "fork");
	ASSERT_LE(0, f0);
	EXPECT_EQ(0, status_int(self, NULL, "backlog_peak_bytes"));

	/* one child at a time: a burst of records, never a storm of tasks
	 * (2 MiB ring: a mark every 256 KiB, ~1200 forks and their exits) */
	for (i = 0; i < BURST_FORKS; i++) {
		pid_t c = fork();

		ASSERT_LE(0, c);
		if (!c)
			_exit(0);
		ASSERT_EQ(c, waitpid(c, NULL, 0));
	}
	deadline = th_now_ms() + PROMPT_MS;
	while ((f = status_int(self, "counters", "fork")) < f0 + BURST_FORKS / 4 &&
	       th_now_ms() < deadline)
		th_sleep_ms(100);
	EXPECT_GE(f, f0 + BURST_FORKS / 4)
	TH_LOG("lymphd read %lld of %d forks: the fill mark did not wake it", (long long)(f - f0),
	       BURST_FORKS);
	EXPECT_LT(0, status_int(self, NULL, "backlog_peak_bytes"))
	TH_LOG("no drain copied records out: each was small enough to handle from the ring");
	{
		struct th_cmd r;

		ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "status", NULL));
		EXPECT_NE(NULL, strstr(r.out, "behind the ring: at most "))
		TH_LOG("lymphctl status does not say the backlog: %.400s", r.out);
	}

	/* the rest, below the next mark, with the next crash: every fork */
	p = crash_as(self, NOBODY);
	ASSERT_GT(p, 0);
	o = death_within(self, p, PROMPT_MS, &others);
	ASSERT_NE(NULL, o);
	json_object_put(o);
	EXPECT_GE(status_int(self, "counters", "fork"), f0 + BURST_FORKS);
	EXPECT_EQ(0, status_int(self, NULL, "drops"));
}

TEST_F_TIMEOUT(wake, supervised_service_crash_is_acted_on_at_once, 120)
{
	char text[3 * PATH_MAX];
	json_object *o, *why;

	/* The service's binary is protected from quarantine (its crashes are
	 * calm); its death still wakes lymphd, through the pidfd, and the
	 * batched sensor record is drained before the supervisor acts. */
	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\n"
		 "[quarantine]\nthreshold = 1000000\n"
		 "[weather]\nbackoff_factor_stormy = 1\n"
		 "[service crashy]\nstart = %s segv\nexe = %s\nbackoff_min = 30s\n",
		 self->crasher, self->crasher);
	ASSERT_EQ(0, write_text(self->conf, text));
	ASSERT_EQ(0, start_lymphd(self));
	o = th_lymphd_wait(&self->d, pred_service, "died", PROMPT_MS);
	ASSERT_NE(NULL, o) TH_LOG("the service's crash was not acted on before the drain timer");
	why = th_json_get(o, "why");
	ASSERT_NE(NULL, why) TH_LOG("%s", th_json_text(o));
	EXPECT_STREQ("SIGSEGV", th_json_str(why, "signal") ?: "");
	/* the sensor's record, not only the wait status ("unverified") */
	EXPECT_STREQ("fault", th_json_str(why, "reason") ?: "") TH_LOG("%s", th_json_text(o));
	json_object_put(o);
}

/* lymphd's child running exe, or 0 after ms. */
static pid_t child_running(pid_t parent, const char *exe, int ms)
{
	for (int waited = 0; waited < ms; waited += 50) {
		struct proc_iter it;
		pid_t found = 0;
		long pid;

		if (proc_iter_open(&it, "/proc"))
			return 0;
		while (!found && (pid = proc_iter_next(&it)) >= 0) {
			char link[64], target[PATH_MAX];
			struct proc_stat st;
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/%ld/exe", pid);
			n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0 || proc_stat_read((pid_t)pid, &st) || st.ppid != parent)
				continue;
			target[n] = 0;
			if (!strcmp(target, exe))
				found = (pid_t)pid;
		}
		proc_iter_close(&it);
		if (found)
			return found;
		th_sleep_ms(50);
	}
	return 0;
}

/*
 * lymphd's status, asked on its socket from this process: lymphctl (a
 * fork, an exec, an exit: records) would wake the lymphd it looks at.
 */
static json_object *status_quietly(FIXTURE_DATA(wake) * self)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char req[] = "[\"status\"]\n";
	char buf[1 << 16];
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(self->d.sock) >= sizeof(sa.sun_path)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	memcpy(sa.sun_path, self->d.sock, strlen(self->d.sock) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		close(fd);
		return NULL;
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	return json_tokener_parse(buf);
}

static int64_t drain_int(FIXTURE_DATA(wake) * self, const char *key)
{
	json_object *st = status_quietly(self), *dr = NULL;
	int64_t v = -1;

	if (st && json_object_object_get_ex(st, "drain", &dr))
		v = th_json_int(dr, key);
	json_object_put(st);
	return v;
}

static int64_t records_handled(FIXTURE_DATA(wake) * self)
{
	json_object *st = status_quietly(self), *c = NULL;
	int64_t n = 0;

	if (st && json_object_object_get_ex(st, "counters", &c)) {
		json_object_object_foreach (c, k, v)
			if (strcmp(k, "danger") && strcmp(k, "programmed"))
				n += json_object_get_int64(v);
	}
	json_object_put(st);
	return n;
}

static bool pace_is(FIXTURE_DATA(wake) * self, const char *pace)
{
	json_object *st = status_quietly(self), *dr = NULL;
	bool is = st && json_object_object_get_ex(st, "drain", &dr) &&
		  !strcmp(th_json_str(dr, "pace") ?: "", pace);

	json_object_put(st);
	return is;
}

/*
 * With nothing coming, lymphd's drain timer ticks once a second instead of
 * every 250 ms (policy/tickpace.h).  The first record after such a quiet
 * spell, a batched one too (a crash nothing acts on), wakes lymphd at
 * once: the sensors see the doze flag up, take it, and wake lymphd, which
 * counts it (doze_wakes) and ticks every 250 ms again.
 */
TEST_F_TIMEOUT(wake, a_quiet_lymphd_dozes_and_the_next_record_wakes_it, 120)
{
	int64_t wakes, records0, deadline, came;
	int others = 0;
	json_object *o;
	pid_t p;

	/* no [quarantine]: the crash below is batched (calm) */
	ASSERT_EQ(0, write_text(self->conf, "[lymphd]\nmode = observe\n"));
	ASSERT_EQ(0, start_lymphd_drain(self, NULL));
	EXPECT_EQ(250, drain_int(self, "drain_ms"));
	EXPECT_EQ(1000, drain_int(self, "doze_ms"));

	/* Two ticks without a record: an idle test host has them within
	 * seconds (the records of the rest of the host are counted: a host
	 * busy all along is no failure of lymphd's). */
	records0 = records_handled(self);
	for (deadline = th_now_ms() + 30000; !pace_is(self, "dozing") && th_now_ms() < deadline;)
		th_sleep_ms(50);
	came = records_handled(self) - records0;
	if (!pace_is(self, "dozing") && came > 60)
		SKIP(return, "%lld records in 30 s: the host never fell quiet for half a second",
		     (long long)came);
	ASSERT_TRUE(pace_is(self, "dozing"))
	TH_LOG("lymphd did not doze in 30 s with %lld records coming", (long long)came);

	wakes = drain_int(self, "doze_wakes");
	p = crash_as(self, NOBODY);
	ASSERT_GT(p, 0);
	o = death_within(self, p, PROMPT_MS, &others);
	ASSERT_NE(NULL, o) TH_LOG("the death of %d did not reach a dozing lymphd", p);
	json_object_put(o);
	/* this record (the crasher's fork and exec are not watched here), or
	 * one of the host's just before it, ended the doze */
	EXPECT_GT(drain_int(self, "doze_wakes"), wakes)
	TH_LOG("a record came while lymphd dozed, and did not wake it");
}

/* A drain timer of a second or more (LYMPH_DRAIN_MS) leaves nothing to
 * doze for: the pace stays active, the status says so. */
TEST_F_TIMEOUT(wake, a_long_drain_period_never_dozes, 60)
{
	ASSERT_EQ(0, write_text(self->conf, "[lymphd]\nmode = observe\n"));
	ASSERT_EQ(0, start_lymphd(self));
	EXPECT_EQ(0, drain_int(self, "doze_ms"));
	th_sleep_ms(1500);
	EXPECT_TRUE(pace_is(self, "active"));
}

TEST_F_TIMEOUT(wake, lymphd_loop_takes_a_short_slice_its_services_do_not, 120)
{
	char text[3 * PATH_MAX];
	int64_t mine = slice_of(0), slice;
	pid_t svc;

	if (mine <= 0)
		SKIP(return, "the kernel reports no slice (sched_runtime): before Linux 6.12");
	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\n"
		 "[service nap]\nstart = %s sleep\nexe = %s\n", self->crasher, self->crasher);
	ASSERT_EQ(0, write_text(self->conf, text));
	ASSERT_EQ(0, start_lymphd(self));
	slice = slice_of(self->d.pid);
	EXPECT_EQ((int64_t)SLICE_SHORT_NS, slice) TH_LOG("lymphd runs with a %lld ns slice", (long long)slice);
	svc = child_running(self->d.pid, self->crasher, 20000);
	ASSERT_NE(0, svc) TH_LOG("lymphd did not start its service");
	slice = slice_of(svc);
	EXPECT_NE((int64_t)SLICE_SHORT_NS, slice) TH_LOG("the service inherited lymphd's slice");
	EXPECT_EQ(mine, slice) TH_LOG("the service's slice %lld, this test's %lld", (long long)slice, (long long)mine);
}

/* [lymphd] latency_slice_us: the slice lymphd's loop runs with; 0 leaves
 * the kernel's default. */
TEST_F_TIMEOUT(wake, lymphd_loop_takes_the_configured_slice, 120)
{
	int64_t mine = slice_of(0), slice;

	if (mine <= 0)
		SKIP(return, "the kernel reports no slice (sched_runtime): before Linux 6.12");
	ASSERT_EQ(0, write_text(self->conf, "[lymphd]\nlatency_slice_us = 250\n"));
	ASSERT_EQ(0, start_lymphd(self));
	slice = slice_of(self->d.pid);
	EXPECT_EQ(250000, slice) TH_LOG("lymphd runs with a %lld ns slice", (long long)slice);
	th_lymphd_destroy(&self->d);
	self->running = false;

	th_lymphd_init(&self->d);
	ASSERT_EQ(0, write_text(self->conf, "[lymphd]\nlatency_slice_us = 0\n"));
	ASSERT_EQ(0, start_lymphd(self));
	slice = slice_of(self->d.pid);
	EXPECT_EQ(mine, slice)
	TH_LOG("lymphd runs with %lld ns, the kernel's default is %lld", (long long)slice,
	       (long long)mine);
}

/* The slice is applied at start only (the system call filter has no
 * sched_setattr): a reload that changes it says so and keeps the slice. */
TEST_F_TIMEOUT(wake, a_reload_keeps_the_slice_and_says_so, 120)
{
	char err[8192] = "";
	int64_t slice;
	int waited;

	if (slice_of(0) <= 0)
		SKIP(return, "the kernel reports no slice (sched_runtime): before Linux 6.12");
	ASSERT_EQ(0, write_text(self->conf, "[lymphd]\nlatency_slice_us = 250\n"));
	ASSERT_EQ(0, start_lymphd(self));
	ASSERT_EQ(0, write_text(self->conf, "[lymphd]\nlatency_slice_us = 0\n"));
	ASSERT_EQ(0, kill(self->d.pid, SIGHUP));
	for (waited = 0; waited < PROMPT_MS && !strstr(err, "takes effect when lymphd restarts");
	     waited += 100) {
		th_sleep_ms(100);
		th_read_file(self->d.errpath, err, sizeof(err));
	}
	EXPECT_NE(NULL, strstr(err, "latency_slice_us = 0 takes effect when lymphd restarts"))
	TH_LOG("lymphd's stderr: %s", err);
	slice = slice_of(self->d.pid);
	EXPECT_EQ(250000, slice)
	TH_LOG("lymphd runs with a %lld ns slice after the reload", (long long)slice);
}

/* A kernel that refuses the slice (played by a seccomp filter that fails
 * sched_setattr with EINVAL, as a kernel before 3.14 has no such call or
 * one that knows a smaller sched_attr says E2BIG): lymphd says so once, on
 * stderr, and runs; a crash is still reported. */
TEST_F_TIMEOUT(wake, a_refused_slice_is_said_once_and_lymphd_runs, 120)
{
	char err[8192] = "", *p;
	pid_t crashed;
	json_object *o;
	int fd, n = 0;
	ssize_t len;

	ASSERT_EQ(0, write_text(self->conf, "[quarantine]\nthreshold = 1000\n"));
	ASSERT_EQ(0, th_seccomp_one(__NR_sched_setattr, SECCOMP_RET_ERRNO | EINVAL));
	ASSERT_EQ(0, start_lymphd(self)) th_lymphd_dump_stderr(&self->d);
	crashed = crash_as(self, NOBODY);
	ASSERT_LT(0, crashed);
	o = th_lymphd_wait(&self->d, th_pred_death_of, &crashed, PROMPT_MS);
	EXPECT_NE(NULL, o) TH_LOG("lymphd did not report the crash");
	json_object_put(o);
	fd = open(self->d.errpath, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	len = read(fd, err, sizeof(err) - 1);
	close(fd);
	err[len > 0 ? len : 0] = 0;
	for (p = err; (p = strstr(p, "failed to set latency_slice_us")); p++)
		n++;
	EXPECT_EQ(1, n) TH_LOG("lymphd's stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, "failed to set latency_slice_us = 100 (sched_setattr: Invalid argument)"))
	TH_LOG("lymphd's stderr: %s", err);
}

TEST_HARNESS_MAIN
