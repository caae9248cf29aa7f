// SPDX-License-Identifier: GPL-2.0-only
/*
 * Least privilege: once lymphd has loaded its BPF programs, attached them
 * and bound its socket, it keeps exactly the capabilities its responders
 * use (userspace/privs.c, privs_kept_mask()):
 *
 *   CAP_KILL             stop, continue and kill processes of any uid
 *   CAP_SETUID/SETGID    start services as their configured user
 *   CAP_SETPCAP          empty the bounding set of what it starts
 *   CAP_SYS_PTRACE       read /proc/PID/exe of any process (binary names)
 *   CAP_DAC_READ_SEARCH  read any binary: fanotify marks, integrity checks
 *
 * in the permitted, effective and bounding sets, and nothing inheritable or
 * ambient; plus, where the kernel wants one for a perf event of lymphd's
 * own (kernel.perf_event_paranoid 3 on Debian's kernels: CAP_SYS_ADMIN),
 * that one in the permitted and bounding sets only: raised around the
 * perf_event_open of the refused-fork probe, never left effective.  Checked
 * in /proc/PID/status of a running lymphd, in observe and in enforce mode,
 * against what the kernel says here; the choice itself with made-up kernels,
 * and the raise and lower in a process of the test's own.
 *
 * And a seccomp filter on lymphd's own code (privs.c): a system call off
 * its list kills it with SIGSYS and a line naming the call, a program it
 * starts is not confined after its execve, and lymphd lives through every
 * lymphctl command and every response (quarantine, throttle, restart)
 * under it.
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include "helpers.h"
#include "storm_helpers.h"
#include "privs.h" /* the filter itself, built in the test's own process */

/* The documented set, spelled out here rather than taken from privs.c. */
#define KEPT_CAPS                                                                    \
	((1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) | \
	 (1ULL << CAP_SETUID) | (1ULL << CAP_SETPCAP) | (1ULL << CAP_SYS_PTRACE))

_Static_assert(KEPT_CAPS == 0x801e4ULL, "the documented capability set is 0x801e4");

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif

FIXTURE(privs)
{
	struct th_lymphd d;
	char dir[256];
};

FIXTURE_SETUP(privs)
{
	th_lymphd_init(&self->d);
	self->dir[0] = '\0';
	if (!th_is_root())
		SKIP(return, "needs root");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "privs"));
}

FIXTURE_TEARDOWN(privs)
{
	th_lymphd_destroy(&self->d);
	th_rmdir_flat(self->dir);
}

/* A Cap* line of /proc/pid/status; -1 when missing. */
static long long cap_field(pid_t pid, const char *name)
{
	char path[64], line[256];
	long long v = -1;
	size_t len = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':') {
			v = strtoll(line + len + 1, NULL, 16);
			break;
		}
	fclose(f);
	return v;
}

/*
 * The perf capability a lymphd started from here should keep, asked of the
 * kernel apart from privs.c: in a child, with only none, then CAP_PERFMON,
 * then CAP_SYS_ADMIN effective, does an event of its own open?  The bit,
 * 0 for none.
 */
static unsigned long long perf_bit_here(void)
{
	static const int cands[] = { -1, CAP_PERFMON, CAP_SYS_ADMIN };
	size_t i;

	for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		int status;
		pid_t pid;

		if (cands[i] >= 0 && prctl(PR_CAPBSET_READ, cands[i], 0, 0, 0) != 1)
			continue;
		pid = fork();
		if (pid == 0) {
			struct perf_event_attr a = { .type = PERF_TYPE_SOFTWARE,
						     .size = sizeof(a),
						     .config = PERF_COUNT_SW_DUMMY,
						     .disabled = 1,
						     .exclude_kernel = 1,
						     .exclude_hv = 1 };
			cap_t c = cap_get_proc();
			cap_value_t v = cands[i];

			if (!c || cap_clear_flag(c, CAP_EFFECTIVE) ||
			    (v >= 0 && cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET)) ||
			    cap_set_proc(c))
				_exit(2);
			_exit(syscall(__NR_perf_event_open, &a, 0, -1, -1, 0) >= 0 ? 0 : 1);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			return cands[i] < 0 ? 0 : 1ULL << cands[i];
	}
	return 0;
}

/* perf_bit: the perf capability lymphd should keep permitted (0: none). */
static void check_caps(struct __test_metadata *_metadata, pid_t pid, unsigned long long perf_bit)
{
	static const char *const kept[] = { "CapPrm", "CapEff", "CapBnd" };
	static const char *const none[] = { "CapInh", "CapAmb" };
	size_t i;

	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		long long v = cap_field(pid, kept[i]);
		unsigned long long want = KEPT_CAPS;

		/* never effective outside its perf_event_open */
		if (strcmp(kept[i], "CapEff"))
			want |= perf_bit;
		EXPECT_EQ((long long)want, v)
		TH_LOG("%s of lymphd is %#llx, want %#llx", kept[i], v, want);
	}
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		long long v = cap_field(pid, none[i]);

		EXPECT_EQ(0, v) TH_LOG("%s of lymphd is %#llx, want 0", none[i], v);
	}
}

static void run_mode(struct __test_metadata *_metadata, FIXTURE_DATA(privs) * self,
		     const char *mode)
{
	char text[1024], conf[PATH_MAX], journal[PATH_MAX];
	json_object *st;

	snprintf(text, sizeof(text), "[lymphd]\nmode = %s\n\n[protect]\nuid = 0\n", mode);
	ASSERT_EQ(0, storm_write_file(self->dir, "lymph.conf", text, conf, sizeof(conf)));
	snprintf(journal, sizeof(journal), "%s/journal", self->dir);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, conf, journal, NULL));
	/* it answers: setup is over, the drop has happened */
	st = storm_ctl_json(&self->d, "status");
	ASSERT_NE(NULL, st);
	EXPECT_STREQ(mode, th_json_str(st, "mode"));
	json_object_put(st);
	TH_LOG("lymphd (%s mode) CapEff %#llx CapBnd %#llx", mode, cap_field(self->d.pid, "CapEff"),
	       cap_field(self->d.pid, "CapBnd"));
	check_caps(_metadata, self->d.pid, perf_bit_here());
	th_lymphd_destroy(&self->d);
}

TEST_F(privs, observe_mode_keeps_only_the_documented_set)
{
	TH_LOG("the perf capability here: %#llx", perf_bit_here());
	run_mode(_metadata, self, "observe");
}

TEST_F(privs, enforce_mode_keeps_only_the_documented_set)
{
	run_mode(_metadata, self, "enforce");
}

/* Made-up kernels for privs_perf_cap_choose: ctx is the mask of the
 * capabilities (bit 63: none) with which the event opens. */
static int fake_open(int cap, void *ctx)
{
	unsigned long long takes = *(unsigned long long *)ctx;

	return cap < 0 ? !!(takes >> 63) : !!((takes >> cap) & 1);
}

TEST(perf_cap_is_the_least_the_kernel_takes)
{
	const unsigned long long none = 1ULL << 63, perfmon = 1ULL << CAP_PERFMON,
				 admin = 1ULL << CAP_SYS_ADMIN, all = ~0ULL >> 1;
	unsigned long long k;

	/* paranoid <= 2: none, whatever is held */
	k = none | perfmon | admin;
	EXPECT_EQ(-1, privs_perf_cap_choose(fake_open, &k, all));
	/* Debian's and Ubuntu's patch at 3: CAP_SYS_ADMIN only */
	k = admin;
	EXPECT_EQ(CAP_SYS_ADMIN, privs_perf_cap_choose(fake_open, &k, all));
	/* a kernel that takes CAP_PERFMON too: the lesser */
	k = perfmon | admin;
	EXPECT_EQ(CAP_PERFMON, privs_perf_cap_choose(fake_open, &k, all));
	/* not held (a bounding set without it): not kept, not asked */
	k = admin;
	EXPECT_EQ(-ENOENT, privs_perf_cap_choose(fake_open, &k, all & ~admin));
	k = perfmon | admin;
	EXPECT_EQ(CAP_SYS_ADMIN, privs_perf_cap_choose(fake_open, &k, all & ~perfmon));
	/* nothing opens it (an LSM): none kept */
	k = 0;
	EXPECT_EQ(-ENOENT, privs_perf_cap_choose(fake_open, &k, all));
}

/*
 * The mechanics, in a child of the test: after the drop keeping cap as the
 * perf capability, it is permitted and not effective; privs_perf_raise
 * makes it effective (1), privs_perf_lower takes it out again; under
 * lymphd's seccomp filter (capset is on its list).  Exit 0, or the step
 * that failed.
 */
static int perf_steps(int cap)
{
	unsigned long long eff, prm, bit = 1ULL << cap;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || privs_seccomp())
		return 10;
	if (privs_drop_keep_perf(0, cap) || privs_perf_cap() != cap)
		return 11;
	prm = (unsigned long long)cap_field(getpid(), "CapPrm");
	eff = (unsigned long long)cap_field(getpid(), "CapEff");
	if (prm != (KEPT_CAPS | bit) || eff != KEPT_CAPS)
		return 12;
	if (privs_perf_raise() != 1)
		return 13;
	if ((unsigned long long)cap_field(getpid(), "CapEff") != (KEPT_CAPS | bit))
		return 14;
	if (privs_perf_raise() != 0) /* effective already: nothing to lower */
		return 15;
	if (privs_perf_lower())
		return 16;
	if ((unsigned long long)cap_field(getpid(), "CapEff") != KEPT_CAPS)
		return 17;
	return 0;
}

TEST(perf_cap_raised_and_lowered)
{
	static const int caps[] = { CAP_PERFMON, CAP_SYS_ADMIN };
	size_t i;

	if (!th_is_root())
		SKIP(return, "needs root");
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int status;
		pid_t pid;

		if (prctl(PR_CAPBSET_READ, caps[i], 0, 0, 0) != 1) {
			TH_LOG("capability %d is not here: not tried", caps[i]);
			continue;
		}
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(perf_steps(caps[i]));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("capability %d: wait status 0x%x (exit 10-17: the step of perf_steps "
		       "that failed)",
		       caps[i], status);
	}
}

/* ---- seccomp ------------------------------------------------------------ */

/* A child that installs lymphd's filter, then runs body; its wait status,
 * its stderr in err. */
static int under_filter(void (*body)(void), char *err, size_t cap)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || privs_seccomp())
			_exit(90);
		body();
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], err, cap - 1);
	err[n > 0 ? n : 0] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	return status;
}

static void listed_calls(void)
{
	char buf[16];
	int fd = open("/proc/self/stat", O_RDONLY);

	if (getpid() <= 0 || fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
		_exit(91);
	close(fd);
}

static void unlisted_call(void)
{
	syscall(__NR_acct, NULL); /* process accounting: never lymphd's */
	_exit(92);		  /* survived it */
}

static void exec_sync(void)
{
	char *argv[] = { "/bin/sync", NULL };

	execv(argv[0], argv); /* sync(2) is not on lymphd's list */
	_exit(93);
}

TEST(seccomp_filter)
{
	struct sock_fprog prog;
	char err[512];
	int status;

	ASSERT_EQ(0, privs_seccomp_build(&prog));
	TH_LOG("the filter: %u instructions", prog.len);
	free(prog.filter);
	status = under_filter(listed_calls, err, sizeof(err));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
	TH_LOG("status 0x%x: %s", status, err);
	/* a call off the list: SIGSYS, named on stderr, never made */
	status = under_filter(unlisted_call, err, sizeof(err));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
	TH_LOG("acct(2) under the filter: wait status 0x%x", status);
	EXPECT_NE(NULL, strstr(err, "seccomp refused system call 163")) TH_LOG("stderr: %s", err);
	/* a program started by lymphd is its own after execve */
	status = under_filter(exec_sync, err, sizeof(err));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
	TH_LOG("/bin/sync after execve under the filter: wait status 0x%x: %s", status, err);
}

/* "Seccomp:" of /proc/pid/status: 2 is filter mode. */
static int seccomp_mode(pid_t pid)
{
	return (int)cap_field(pid, "Seccomp");
}

static int echo_crash(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char c;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, "crash\n", 6, MSG_NOSIGNAL) != 6 || recv(fd, &c, 1, 0) > 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static bool any_rec(json_object *rec, const void *arg)
{
	(void)rec;
	(void)arg;
	return true;
}

static int journal_wait(const char *journal, const char *type, const char *action, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	int n;

	while (!(n = storm_journal_count(journal, type, action, any_rec, NULL, NULL)) &&
	       th_now_ms() < deadline)
		th_sleep_ms(50);
	return n;
}

TEST_F_TIMEOUT(privs, every_command_and_response_under_seccomp, 240)
{
	char text[16384], conf[PATH_MAX], journal[PATH_MAX], jopt[PATH_MAX + 16], echod[PATH_MAX], crasher[PATH_MAX];
	char forkbomb[PATH_MAX], stats[PATH_MAX], uidopt[32], lineage[64];
	static const char *const cmds[][3] = {
		{ "status", NULL },	      { "status", "--json" }, { "services", NULL },
		{ "throttles", NULL },	      { "metrics", NULL },    { "journal", NULL },
		{ "journal", "--since=10m" }, { "restart", "echo" },  { "reset", "echo" },
		{ "reload", NULL },
	};
	struct th_cmd *r = calloc(1, sizeof(*r));
	struct storm_cg cg;
	int port = 7300 + (getpid() % 500), i, status;
	pid_t sid = -1;
	size_t c;

	storm_cg_init(&cg);
	ASSERT_NE(NULL, r);
	snprintf(echod, sizeof(echod), "%s/echod", self->dir);
	{
		char src[PATH_MAX], cc[] = "/usr/bin/cc";
		char *argv[] = { cc, "-O2", "-o", echod, src, NULL };

		snprintf(src, sizeof(src), "tests/echod.c");
		ASSERT_EQ(0, th_run(argv, NULL, r));
		ASSERT_EQ(0, r->status) TH_LOG("cc echod: %s", r->err);
	}
	ASSERT_EQ(0, storm_build_prog("crasher", self->dir, crasher, sizeof(crasher)));
	ASSERT_EQ(0, storm_build_prog("forkbomb", self->dir, forkbomb, sizeof(forkbomb)));
	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\nmetrics_listen = 127.0.0.1:%d\n\n"
		 "[service echo]\nstart = %s %d\nexe = %s\nsettle = 100ms\nbackoff_min = 100ms\n"
		 /* lymphd leaves its services running when it stops: this one
		  * goes with it, not left behind on the host after the test */
		 "env = ECHOD_DIE_WITH_PARENT=1\n"
		 "check_port = %d\n\n"
		 "[quarantine]\nthreshold = 3\nduration_min = 60s\n\n"
		 "[throttle]\nbudget = 20\nburst = 40\ndead_time_min = 100ms\ndead_time_max = 1s\n"
		 "lineage = session\n\n[protect]\nuid = 0\n\n" STORM_CALM_WEATHER,
		 port + 1, echod, port, echod, port);
	ASSERT_EQ(0, storm_write_file(self->dir, "lymph.conf", text, conf, sizeof(conf)));
	snprintf(journal, sizeof(journal), "%s/journal", self->dir);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, conf, journal, NULL));
	EXPECT_EQ(2, seccomp_mode(self->d.pid)) TH_LOG("lymphd runs without its seccomp filter");

	/* every lymphctl command; the journal commands read this lymphd's
	 * file (a fresh host has no /var/lib/lymph/journal) */
	snprintf(jopt, sizeof(jopt), "--journal=%s", journal);
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		const char *extra = strcmp(cmds[c][0], "journal") ? NULL : jopt;
		int err = cmds[c][1] ? th_lymphctl(&self->d, r, NULL, cmds[c][0], cmds[c][1], extra, NULL)
				     : th_lymphctl(&self->d, r, NULL, cmds[c][0], extra, NULL);

		ASSERT_EQ(0, err);
		EXPECT_EQ(0, r->status)
		TH_LOG("lymphctl %s %s: 0x%x %s", cmds[c][0], cmds[c][1] ? cmds[c][1] : "",
		       r->status, r->err);
	}
	/* restart: a real crash of the service */
	for (i = 0; i < 100 && echo_crash(port); i++)
		th_sleep_ms(50);
	EXPECT_LT(i, 100) TH_LOG("echod never served on port %d", port);
	EXPECT_GE(journal_wait(journal, "service", "restart", 5000), 1);
	/* quarantine, and release */
	for (i = 0; i < 3; i++) {
		char *argv[] = { crasher, "segv", NULL };

		status = storm_run_as(STORM_UID, argv, 10000);
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	}
	EXPECT_GE(journal_wait(journal, "quarantine", "quarantine", 5000), 1);
	snprintf(uidopt, sizeof(uidopt), "--uid=%d", STORM_UID);
	ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "release", crasher, uidopt, NULL));
	EXPECT_EQ(0, r->status) TH_LOG("lymphctl release: %s", r->err);
	/* throttle, and release of the lineage */
	if (!access(STORM_PIDS_ROOT "/cgroup.procs", F_OK) && !storm_cg_create(&cg, 200, 60)) {
		char *argv[] = { forkbomb, stats, NULL };

		snprintf(stats, sizeof(stats), "%s/stats", self->dir);
		munmap(storm_stats_map(stats), BOMB_STATS_SIZE);
		sid = storm_spawn(&cg, STORM_UID, argv);
		EXPECT_GT(sid, 0);
		EXPECT_GE(journal_wait(journal, "throttle", "throttle", 10000), 1);
		snprintf(lineage, sizeof(lineage), "--lineage=session:%d", (int)sid);
		ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "release", lineage, NULL));
		TH_LOG("lymphctl release %s: 0x%x %s%s", lineage, r->status, r->out, r->err);
		storm_cg_destroy(&cg);
	} else {
		TH_LOG("no v1 pids hierarchy: the throttle is not exercised here");
	}
	/* the metrics endpoint */
	{
		char url[64], curl[] = "/usr/bin/curl";
		char *argv[] = { curl, "-sf", url, NULL };

		snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port + 1);
		if (!access(curl, X_OK)) {
			ASSERT_EQ(0, th_run(argv, NULL, r));
			EXPECT_EQ(0, r->status) TH_LOG("metrics: %s", r->err);
		}
	}
	/* alive, still filtered, and nothing refused */
	ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "status", NULL));
	EXPECT_EQ(0, r->status);
	TH_LOG("%s", strstr(r->out, "refused-fork probe") ?: "no refused-fork probe line");
	/* the perf capability, raised to arm the refused-fork probe, lowered again */
	check_caps(_metadata, self->d.pid, perf_bit_here());
	EXPECT_EQ(0, kill(self->d.pid, 0));
	EXPECT_EQ(2, seccomp_mode(self->d.pid));
	th_lymphd_stop(&self->d);
	{
		char line[512];
		FILE *f = fopen(self->d.errpath, "r");
		int refused = 0;

		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "seccomp refused")) {
				refused = 1;
				TH_LOG("%s", line);
			}
		if (f)
			fclose(f);
		EXPECT_EQ(0, refused);
	}
	free(r);
}

TEST_HARNESS_MAIN
