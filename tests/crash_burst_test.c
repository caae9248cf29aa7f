// SPDX-License-Identifier: GPL-2.0-only
/*
 * A burst of 10,000 real crashes of one binary (this test, forked children
 * that dereference NULL), inside a pids-cgroup backstop.  lymphd (BPF
 * source, --quiet) must see every one: counters.danger reaches 10,000, no
 * drops, and the per-binary table entry for this executable counts exactly
 * 10,000 danger deaths.
 *
 * Needs root.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "pidcg.h"

#define CRASHES	  10000
#define IN_FLIGHT 200	 /* children alive at once */
#define PIDS_MAX  2000	 /* the backstop; well above IN_FLIGHT + 1 */
#define STORM_MS  120000 /* the storm itself */
#define SETTLE_MS 60000	 /* lymphd catching up afterwards */

/*
 * The storm's parent: wait for "go" on gofd, then crash CRASHES children,
 * at most IN_FLIGHT at a time, and write how many died of SIGSEGV to resfd.
 */
static void __attribute__((noreturn)) storm(int gofd, int resfd)
{
	int running = 0, launched = 0, reaped = 0, crashed = 0, stalls = 0;
	char c;

	if (read(gofd, &c, 1) != 1)
		_exit(2);
	while (reaped < CRASHES) {
		while (running < IN_FLIGHT && launched < CRASHES) {
			pid_t pid = fork();

			if (pid == 0)
				th_crash_now(TH_SEGV, NULL);
			if (pid < 0) {
				/* the backstop or the machine says no: reap, retry */
				if (errno != EAGAIN || ++stalls > 1000)
					_exit(3);
				if (!running)
					th_sleep_ms(10);
				break;
			}
			running++;
			launched++;
		}
		if (running) {
			int st;

			if (waitpid(-1, &st, 0) < 0)
				_exit(4);
			running--;
			reaped++;
			if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
				crashed++;
		}
	}
	if (write(resfd, &crashed, sizeof(crashed)) != sizeof(crashed))
		_exit(5);
	_exit(0);
}

FIXTURE(burst)
{
	struct th_lymphd d;
	struct pidcg cg;
	struct stat exe;
	pid_t storm;
};

FIXTURE_SETUP(burst)
{
	static const char *const args[] = { "--source=bpf", "--quiet", NULL };
	int err;

	th_lymphd_init(&self->d);
	self->cg.path[0] = '\0';
	self->storm = -1;
	if (!th_is_root())
		SKIP(return, "needs root (BPF, cgroups)");
	ASSERT_EQ(0, stat("/proc/self/exe", &self->exe));
	err = pidcg_create(&self->cg, PIDS_MAX);
	if (err == -ENODEV)
		SKIP(return, "no pids cgroup controller for the storm backstop");
	ASSERT_EQ(0, err);
	err = th_lymphd_start(&self->d, args, 20000);
	if (err) {
		th_lymphd_destroy(&self->d);
		pidcg_destroy(&self->cg);
	}
	ASSERT_EQ(0, err) TH_LOG("lymphd --json --source=bpf --quiet did not start");
}

FIXTURE_TEARDOWN(burst)
{
	if (self->storm > 0) {
		kill(self->storm, SIGKILL);
		waitpid(self->storm, NULL, 0);
	}
	EXPECT_EQ(0, pidcg_destroy(&self->cg));
	th_lymphd_destroy(&self->d);
}

/* The top entry for this executable, or NULL. */
static json_object *find_top(json_object *status, const struct stat *exe)
{
	json_object *top = th_json_get(status, "top");
	size_t i, n;

	if (!top || !json_object_is_type(top, json_type_array))
		return NULL;
	n = json_object_array_length(top);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(top, i);

		if (th_json_int(e, "exe_ino") == (int64_t)exe->st_ino &&
		    th_json_int(e, "exe_dev") == (int64_t)exe->st_dev)
			return e;
	}
	return NULL;
}

TEST_F_TIMEOUT(burst, ten_thousand_crashes, 300)
{
	json_object *st = NULL, *counters, *entry;
	int go[2], res[2], crashed = -1, sst = 0;
	int64_t deadline, t0;
	struct pollfd p;
	char exe[PATH_MAX];
	ssize_t n;

	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(res, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	self->storm = fork();
	ASSERT_LE(0, self->storm);
	if (self->storm == 0) {
		close(go[1]);
		close(res[0]);
		storm(go[0], res[1]);
	}
	close(go[0]);
	close(res[1]);
	/* into the backstop before it forks anything */
	ASSERT_EQ(0, pidcg_enter(&self->cg, self->storm));
	t0 = th_now_ms();
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);

	p = (struct pollfd){ .fd = res[0], .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, STORM_MS))
	TH_LOG("the storm did not finish within %d ms", STORM_MS);
	n = read(res[0], &crashed, sizeof(crashed));
	close(res[0]);
	ASSERT_EQ(self->storm, waitpid(self->storm, &sst, 0));
	self->storm = -1;
	ASSERT_TRUE(WIFEXITED(sst) && WEXITSTATUS(sst) == 0)
	TH_LOG("storm parent failed: wait status 0x%x", sst);
	ASSERT_EQ((ssize_t)sizeof(crashed), n);
	ASSERT_EQ(CRASHES, crashed);
	TH_LOG("%d crashes in %lld ms", crashed, (long long)(th_now_ms() - t0));

	/* lymphd catches up: every crash counted, this binary at 10,000 */
	deadline = th_now_ms() + SETTLE_MS;
	for (;;) {
		json_object_put(st);
		st = th_status(&self->d);
		ASSERT_NE(NULL, st);
		counters = th_json_get(st, "counters");
		entry = find_top(st, &self->exe);
		if (th_json_int(counters, "danger") >= CRASHES && entry &&
		    th_json_int(entry, "danger_deaths") >= CRASHES)
			break;
		if (th_now_ms() > deadline)
			break;
		th_sleep_ms(250);
	}
	TH_LOG("status after %lld ms: %.2000s", (long long)(th_now_ms() - t0), th_json_text(st));
	EXPECT_LE(CRASHES, th_json_int(counters, "danger"));
	EXPECT_EQ(0, th_json_int(st, "drops"));
	EXPECT_EQ(0, th_json_int(counters, "drop"));
	ASSERT_NE(NULL, entry)
	TH_LOG("no top entry for dev %ju ino %ju", (uintmax_t)self->exe.st_dev,
	       (uintmax_t)self->exe.st_ino);
	EXPECT_EQ(CRASHES, th_json_int(entry, "danger_deaths"));
	EXPECT_STREQ("SIGSEGV", th_json_str(entry, "last_signal"));
	EXPECT_EQ(0, th_json_int(entry, "last_uid"));
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = '\0';
	EXPECT_STREQ(exe, th_json_str(entry, "exe"));
	json_object_put(st);
}

TEST_HARNESS_MAIN
