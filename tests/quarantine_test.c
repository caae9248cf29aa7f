// SPDX-License-Identifier: GPL-2.0-only
/*
 * Quarantine, end to end (root, BPF source, fanotify enforcement): a
 * binary of the test's own (tests/progs/crasher.c, compiled at setup into a
 * fresh directory, so a fresh inode every run) crashing with real faults
 * as uid 1000 gets quarantined for uid 1000 only; it expires, it is
 * released by lymphctl, the next offence lasts longer; kill -SEGV from
 * other processes never counts; a [protect] exe never gets quarantined; a
 * quarantine survives SIGKILL of lymphd; observe mode only journals.
 *
 * Root's own crashes are protected ([protect] uid = 0) in every policy
 * here: lymphd sees the whole host, and other tests crash their binaries
 * as root all the time; without it this test's lymphd would quarantine
 * them.  Exec as root is still checked: the quarantine is per uid.
 */
#include "helpers.h"
#include "storm_helpers.h"

#define THRESHOLD	3

FIXTURE(quarantine) {
	struct th_lymphd d;
	char dir[256];
	char crasher[PATH_MAX];
	char conf[PATH_MAX];
	char journal[PATH_MAX];
	struct stat st;		/* of the crasher */
};

FIXTURE_SETUP(quarantine)
{
	th_lymphd_init(&self->d);
	self->dir[0] = '\0';
	if (!th_is_root())
		SKIP(return, "needs root");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "quar"));
	ASSERT_EQ(0, storm_build_prog("crasher", self->dir, self->crasher, sizeof(self->crasher)));
	ASSERT_EQ(0, stat(self->crasher, &self->st));
	snprintf(self->journal, sizeof(self->journal), "%s/journal", self->dir);
}

FIXTURE_TEARDOWN(quarantine)
{
	th_lymphd_destroy(&self->d);
	th_rmdir_flat(self->dir);
}

/* The policy: threshold 3 danger deaths, bans of 3 s doubling up to max. */
static int write_conf(FIXTURE_DATA(quarantine) *self, const char *mode, const char *dur_min,
		      const char *dur_max, const char *protect_extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = %s\n\n"
		 "[quarantine]\nthreshold = %d\nhalf_life = 60s\nduration_min = %s\nduration_max = %s\n\n"
		 "[protect]\nuid = 0\n%s\n"
		 STORM_CALM_WEATHER,
		 mode, THRESHOLD, dur_min, dur_max, protect_extra ? protect_extra : "");
	return storm_write_file(self->dir, "lymph.conf", text, self->conf, sizeof(self->conf));
}

/* Run the crasher as uid with arg; the wait status (see storm_run_as). */
static int run_crasher(FIXTURE_DATA(quarantine) *self, uid_t uid, const char *arg)
{
	char *argv[] = { self->crasher, (char *)arg, NULL };

	return storm_run_as(uid, argv, 10000);
}

static bool crashed_segv(int status)
{
	return status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

static bool exec_denied(int status)
{
	return status >= 0 && WIFEXITED(status) &&
	       (WEXITSTATUS(status) == 200 + EPERM || WEXITSTATUS(status) == 200 + EACCES);
}

static bool ran_ok(int status)
{
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The status' active quarantine of the crasher for uid (caller puts), or NULL. */
static json_object *active_for(FIXTURE_DATA(quarantine) *self, uid_t uid, json_object **status)
{
	json_object *st = storm_ctl_json(&self->d, "status"), *q, *arr;
	size_t i;

	*status = st;
	q = th_json_get(st, "quarantine");
	arr = th_json_get(q, "active");
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (th_json_int(e, "exe_ino") == (int64_t)self->st.st_ino &&
		    th_json_int(e, "uid") == (int64_t)uid)
			return e;
	}
	return NULL;
}

/* Poll until the crasher is (want) or is not (!want) quarantined for uid;
 * returns duration_s of the quarantine (want), 0 when not, -1 on timeout. */
static double wait_active(FIXTURE_DATA(quarantine) *self, uid_t uid, bool want, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;

	do {
		json_object *st, *e = active_for(self, uid, &st);
		double dur = -1;

		if (e && want) {
			json_object *v = th_json_get(e, "duration_s");

			dur = v ? json_object_get_double(v) : 0;
		} else if (!e && !want && st) {
			dur = 0;
		}
		json_object_put(st);
		if (dur >= 0)
			return dur;
		th_sleep_ms(50);
	} while (th_now_ms() < deadline);
	return -1;
}

static bool rec_is_crasher(json_object *rec, const void *arg)
{
	const struct stat *st = arg;

	return th_json_int(rec, "exe_ino") == (int64_t)st->st_ino;
}

/* Journal records about the crasher with this action. */
static int journaled(FIXTURE_DATA(quarantine) *self, const char *action)
{
	return storm_journal_count(self->journal, "quarantine", action, rec_is_crasher, &self->st,
				   NULL);
}

/* Crash it n times as uid; each must die of SIGSEGV. */
static int crash_n(FIXTURE_DATA(quarantine) *self, uid_t uid, int n)
{
	int i, status;

	for (i = 0; i < n; i++) {
		status = run_crasher(self, uid, "segv");
		if (!crashed_segv(status)) {
			th_diag("crash %d of %d as uid %u: wait status 0x%x, not SIGSEGV", i + 1, n,
				(unsigned)uid, status);
			return -1;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(quarantine, crashes_quarantine_that_uid_only, 120)
{
	char *sh_argv[] = { "/bin/sh", "-c", NULL, NULL };
	char shcmd[PATH_MAX + 16];
	struct th_cmd *r = calloc(1, sizeof(*r));
	json_object *st, *e;
	double dur1, dur2;
	int64_t t0, waited;
	int status;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, write_conf(self, "enforce", "3s", "60s", NULL));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));

	/* Below the threshold: nothing. */
	ASSERT_EQ(0, crash_n(self, STORM_UID, THRESHOLD - 1));
	th_sleep_ms(300);
	EXPECT_EQ(0, wait_active(self, STORM_UID, false, 100));
	EXPECT_TRUE(ran_ok(run_crasher(self, STORM_UID, "ok")));

	/* The threshold-th real fault quarantines it for uid 1000. */
	ASSERT_EQ(0, crash_n(self, STORM_UID, 1));
	t0 = th_now_ms();
	dur1 = wait_active(self, STORM_UID, true, 3000);
	ASSERT_GT(dur1, 0) TH_LOG("no quarantine after %d real faults as uid %d", THRESHOLD, STORM_UID);
	TH_LOG("quarantined for uid %d after %d faults, for %.1f s", STORM_UID, THRESHOLD, dur1);
	e = active_for(self, STORM_UID, &st);
	EXPECT_STREQ("fanotify", th_json_str(th_json_get(st, "quarantine"), "enforcement"));
	EXPECT_STREQ(self->crasher, th_json_str(e, "exe"));
	json_object_put(st);

	status = run_crasher(self, STORM_UID, "ok");
	EXPECT_TRUE(exec_denied(status)) TH_LOG("exec as uid %d: wait status 0x%x", STORM_UID, status);
	snprintf(shcmd, sizeof(shcmd), "'%s' ok", self->crasher);
	sh_argv[2] = shcmd;
	status = storm_run_as(STORM_UID, sh_argv, 10000);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 126)
		TH_LOG("sh -c crasher as uid %d: wait status 0x%x (want exit 126)", STORM_UID, status);
	/* Other users, and root, are not affected. */
	status = run_crasher(self, OTHER_UID, "ok");
	EXPECT_TRUE(ran_ok(status)) TH_LOG("exec as uid %d: wait status 0x%x", OTHER_UID, status);
	status = run_crasher(self, 0, "ok");
	EXPECT_TRUE(ran_ok(status)) TH_LOG("exec as root: wait status 0x%x", status);
	st = storm_ctl_json(&self->d, "status");
	EXPECT_GE(th_json_int(th_json_get(st, "quarantine"), "denied_execs"), 2);
	json_object_put(st);
	EXPECT_EQ(1, journaled(self, "quarantine"));

	/* Expiry. */
	EXPECT_EQ(0, wait_active(self, STORM_UID, false, (int)(dur1 * 1000) + 5000));
	waited = th_now_ms() - t0;
	TH_LOG("expired after %.1f s", waited / 1000.0);
	EXPECT_LE(waited, (int64_t)(dur1 * 1000) + 3000);
	EXPECT_GE(waited, (int64_t)(dur1 * 1000) - 1000);
	status = run_crasher(self, STORM_UID, "ok");
	EXPECT_TRUE(ran_ok(status)) TH_LOG("exec after expiry: wait status 0x%x", status);
	/* journaled at lymphd's next tick */
	for (t0 = th_now_ms(); !journaled(self, "expire") && th_now_ms() - t0 < 3000;)
		th_sleep_ms(50);
	EXPECT_EQ(1, journaled(self, "expire"));

	/* The next offence lasts longer. */
	ASSERT_EQ(0, crash_n(self, STORM_UID, THRESHOLD));
	dur2 = wait_active(self, STORM_UID, true, 3000);
	ASSERT_GT(dur2, 0) TH_LOG("no second quarantine");
	TH_LOG("second offence: %.1f s (first %.1f s)", dur2, dur1);
	EXPECT_GE(dur2, 1.9 * dur1);
	EXPECT_TRUE(exec_denied(run_crasher(self, STORM_UID, "ok")));

	/* lymphctl release BINARY --uid=1000 ends it at once. */
	ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "release", self->crasher, "--uid=1000", NULL));
	EXPECT_EQ(0, r->status) TH_LOG("lymphctl release: %s%s", r->out, r->err);
	status = run_crasher(self, STORM_UID, "ok");
	EXPECT_TRUE(ran_ok(status)) TH_LOG("exec after release: wait status 0x%x", status);
	EXPECT_EQ(0, wait_active(self, STORM_UID, false, 100));
	EXPECT_EQ(1, journaled(self, "release"));
	free(r);
}

TEST_F_TIMEOUT(quarantine, kill_segv_never_quarantines, 90)
{
	json_object *st;
	int64_t programmed0, programmed1;
	int i, status;

	ASSERT_EQ(0, write_conf(self, "enforce", "3s", "60s", NULL));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	st = storm_ctl_json(&self->d, "status");
	programmed0 = th_json_int(th_json_get(st, "counters"), "programmed");
	json_object_put(st);

	/* 4x the threshold of SIGSEGVs sent by other processes: half by root,
	 * half by another process of uid 1000 itself. */
	for (i = 0; i < 4 * THRESHOLD; i++) {
		char *argv[] = { self->crasher, "sleep", NULL };
		pid_t victim = storm_spawn(NULL, STORM_UID, argv), killer;
		char state = 0;
		int64_t deadline = th_now_ms() + 5000;

		ASSERT_GT(victim, 0);
		/* wait until it runs the crasher, not the test's fork of it */
		for (;;) {
			char exe[PATH_MAX];
			char p[64];
			ssize_t n;

			snprintf(p, sizeof(p), "/proc/%d/exe", (int)victim);
			n = readlink(p, exe, sizeof(exe) - 1);
			if (n > 0 && (exe[n] = '\0', !strcmp(exe, self->crasher)) &&
			    !storm_proc(victim, &state, NULL, NULL) && state == 'S')
				break;
			ASSERT_LT(th_now_ms(), deadline);
			th_sleep_ms(2);
		}
		if (i % 2) {
			ASSERT_EQ(0, kill(victim, SIGSEGV));
		} else {
			fflush(stdout);
			fflush(stderr);
			killer = fork();
			ASSERT_GE(killer, 0);
			if (killer == 0) {
				storm_become(STORM_UID);
				_exit(kill(victim, SIGSEGV) ? 1 : 0);
			}
			ASSERT_EQ(killer, waitpid(killer, &status, 0));
			ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		ASSERT_EQ(victim, waitpid(victim, &status, 0));
		EXPECT_TRUE(crashed_segv(status));
	}
	th_sleep_ms(1000);
	st = storm_ctl_json(&self->d, "status");
	programmed1 = th_json_int(th_json_get(st, "counters"), "programmed");
	json_object_put(st);
	TH_LOG("%d kill -SEGV deaths; lymphd counted %lld programmed deaths meanwhile (host-wide)",
	       4 * THRESHOLD, (long long)(programmed1 - programmed0));
	EXPECT_GE(programmed1 - programmed0, 4 * THRESHOLD);
	EXPECT_EQ(0, wait_active(self, STORM_UID, false, 100));
	EXPECT_TRUE(ran_ok(run_crasher(self, STORM_UID, "ok")));
	EXPECT_EQ(0, journaled(self, NULL));
}

TEST_F_TIMEOUT(quarantine, protected_exe_never_quarantined, 90)
{
	char extra[PATH_MAX + 16];
	int status;

	snprintf(extra, sizeof(extra), "exe = %s\n", self->crasher);
	ASSERT_EQ(0, write_conf(self, "enforce", "3s", "60s", extra));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	ASSERT_EQ(0, crash_n(self, STORM_UID, 4 * THRESHOLD));
	th_sleep_ms(500);
	EXPECT_EQ(0, wait_active(self, STORM_UID, false, 100));
	status = run_crasher(self, STORM_UID, "ok");
	EXPECT_TRUE(ran_ok(status)) TH_LOG("exec of a protected binary: wait status 0x%x", status);
	EXPECT_EQ(0, journaled(self, "quarantine"));
	EXPECT_EQ(1, journaled(self, "protected"));
}

TEST_F_TIMEOUT(quarantine, survives_lymphd_sigkill, 90)
{
	struct th_cmd *r = calloc(1, sizeof(*r));
	int status;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, write_conf(self, "enforce", "60s", "120s", NULL));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	ASSERT_EQ(0, crash_n(self, STORM_UID, THRESHOLD));
	ASSERT_GT(wait_active(self, STORM_UID, true, 3000), 0);
	EXPECT_TRUE(exec_denied(run_crasher(self, STORM_UID, "ok")));

	storm_lymphd_crash(&self->d);
	th_lymphd_destroy(&self->d);	/* its directory; the journal is ours */
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	EXPECT_GT(wait_active(self, STORM_UID, true, 2000), 0) TH_LOG("quarantine lost at restart");
	status = run_crasher(self, STORM_UID, "ok");
	EXPECT_TRUE(exec_denied(status)) TH_LOG("exec after restart: wait status 0x%x", status);
	EXPECT_TRUE(ran_ok(run_crasher(self, OTHER_UID, "ok")));

	ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "release", self->crasher, NULL));
	EXPECT_EQ(0, r->status) TH_LOG("lymphctl release: %s%s", r->out, r->err);
	EXPECT_TRUE(ran_ok(run_crasher(self, STORM_UID, "ok")));
	free(r);
}

TEST_F_TIMEOUT(quarantine, observe_mode_only_journals, 90)
{
	int64_t deadline;
	int n = 0;

	ASSERT_EQ(0, write_conf(self, "observe", "3s", "60s", NULL));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	ASSERT_EQ(0, crash_n(self, STORM_UID, THRESHOLD));
	deadline = th_now_ms() + 3000;
	while (th_now_ms() < deadline && !(n = journaled(self, "would-quarantine")))
		th_sleep_ms(50);
	EXPECT_EQ(1, n);
	EXPECT_EQ(0, wait_active(self, STORM_UID, false, 100));
	EXPECT_TRUE(ran_ok(run_crasher(self, STORM_UID, "ok")));
	EXPECT_EQ(0, journaled(self, "quarantine"));
}

TEST_HARNESS_MAIN
