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
#include <dirent.h>
#include "helpers.h"
#include "storm_helpers.h"

#define THRESHOLD 3

FIXTURE(quarantine)
{
	struct th_lymphd d;
	char dir[256];
	char crasher[PATH_MAX];
	char conf[PATH_MAX];
	char journal[PATH_MAX];
	struct stat st; /* of the crasher */
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
static int write_conf(FIXTURE_DATA(quarantine) * self, const char *mode, const char *dur_min,
		      const char *dur_max, const char *protect_extra)
{
	char text[4096];

	snprintf(
		text, sizeof(text),
		"[lymphd]\nmode = %s\n\n"
		"[quarantine]\nthreshold = %d\nhalf_life = 60s\nduration_min = %s\nduration_max = %s\n\n"
		"[protect]\nuid = 0\n%s\n" STORM_CALM_WEATHER,
		mode, THRESHOLD, dur_min, dur_max, protect_extra ? protect_extra : "");
	return storm_write_file(self->dir, "lymph.conf", text, self->conf, sizeof(self->conf));
}

/* Run the crasher as uid with arg; the wait status (see storm_run_as). */
static int run_crasher(FIXTURE_DATA(quarantine) * self, uid_t uid, const char *arg)
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
static json_object *active_for(FIXTURE_DATA(quarantine) * self, uid_t uid, json_object **status)
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
static double wait_active(FIXTURE_DATA(quarantine) * self, uid_t uid, bool want, int timeout_ms)
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
static int journaled(FIXTURE_DATA(quarantine) * self, const char *action)
{
	return storm_journal_count(self->journal, "quarantine", action, rec_is_crasher, &self->st,
				   NULL);
}

/* Crash it n times as uid; each must die of SIGSEGV. */
static int crash_n(FIXTURE_DATA(quarantine) * self, uid_t uid, int n)
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
	ASSERT_GT(dur1, 0)
	TH_LOG("no quarantine after %d real faults as uid %d", THRESHOLD, STORM_UID);
	TH_LOG("quarantined for uid %d after %d faults, for %.1f s", STORM_UID, THRESHOLD, dur1);
	e = active_for(self, STORM_UID, &st);
	EXPECT_STREQ("fanotify", th_json_str(th_json_get(st, "quarantine"), "enforcement"));
	EXPECT_STREQ(self->crasher, th_json_str(e, "exe"));
	json_object_put(st);

	status = run_crasher(self, STORM_UID, "ok");
	EXPECT_TRUE(exec_denied(status))
	TH_LOG("exec as uid %d: wait status 0x%x", STORM_UID, status);
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
	th_lymphd_destroy(&self->d); /* its directory; the journal is ours */
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

/* The status' journal.unsynced once it is 0 (within timeout_ms), else -1. */
static int64_t wait_synced(FIXTURE_DATA(quarantine) * self, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;

	do {
		json_object *st = storm_ctl_json(&self->d, "status");
		json_object *j = th_json_get(st, "journal");
		bool synced = j && th_json_get(j, "unsynced") && th_json_int(j, "unsynced") == 0;

		json_object_put(st);
		if (synced)
			return 0;
		th_sleep_ms(50);
	} while (th_now_ms() < deadline);
	return -1;
}

/* Wait (3 s) until the journal holds n records of action about the crasher. */
static int wait_journaled(FIXTURE_DATA(quarantine) * self, const char *action, int n)
{
	int64_t deadline = th_now_ms() + 3000;
	int got;

	while ((got = journaled(self, action)) < n && th_now_ms() < deadline)
		th_sleep_ms(50);
	return got;
}

/*
 * A would-quarantine and a fanotify quarantine are journaled deferred (the
 * line does not wait for the disk): each is in the journal, and on disk
 * (status: journal.unsynced 0) once lymphd has gone back to waiting, with
 * no other record to sync it; the quarantine holds as before.
 */
TEST_F_TIMEOUT(quarantine, deferred_decisions_reach_the_disk, 120)
{
	/* Fewer weather changes (synchronous records) to sync it instead. */
	const char *calm = "[weather]\ncloudy_psi = 1000\n";

	ASSERT_EQ(0, write_conf(self, "observe", "60s", "120s", calm));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	ASSERT_EQ(0, crash_n(self, STORM_UID, THRESHOLD));
	EXPECT_EQ(1, wait_journaled(self, "would-quarantine", 1));
	EXPECT_EQ(0, wait_synced(self, 3000)) TH_LOG("a would-quarantine left unsynced");
	th_lymphd_destroy(&self->d);

	ASSERT_EQ(0, write_conf(self, "enforce", "60s", "120s", calm));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	ASSERT_EQ(0, crash_n(self, STORM_UID, THRESHOLD));
	EXPECT_EQ(1, wait_journaled(self, "quarantine", 1));
	EXPECT_EQ(0, wait_synced(self, 3000)) TH_LOG("a quarantine left unsynced");
	ASSERT_GT(wait_active(self, STORM_UID, true, 3000), 0);
	EXPECT_TRUE(exec_denied(run_crasher(self, STORM_UID, "ok")));
	EXPECT_TRUE(ran_ok(run_crasher(self, OTHER_UID, "ok")));
}

/* ---- quarantine that holds ---------------------------------------------- */

/* Is (dev, ino of path) quarantined for uid?  1 yes, 0 no, -1 no status. */
static int active_path(FIXTURE_DATA(quarantine) * self, const char *path, uid_t uid)
{
	json_object *st = storm_ctl_json(&self->d, "status"), *arr;
	struct stat sb;
	size_t i;
	int found = 0;

	if (!st)
		return -1;
	arr = th_json_get(th_json_get(st, "quarantine"), "active");
	if (!stat(path, &sb))
		for (i = 0; arr && i < json_object_array_length(arr); i++) {
			json_object *e = json_object_array_get_idx(arr, i);

			if (th_json_int(e, "exe_ino") == (int64_t)sb.st_ino &&
			    th_json_int(e, "uid") == (int64_t)uid)
				found = 1;
		}
	json_object_put(st);
	return found;
}

static int wait_path(FIXTURE_DATA(quarantine) * self, const char *path, uid_t uid, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;

	while (active_path(self, path, uid) != 1) {
		if (th_now_ms() > deadline)
			return -1;
		th_sleep_ms(50);
	}
	return 0;
}

/* Debian's /usr/bin/sh and /usr/bin/python3 are symlinks: a binary first
 * run through one is quarantined all the same (by its inode), and refused
 * by every name. */
TEST_F_TIMEOUT(quarantine, started_through_a_symlink, 90)
{
	char link[PATH_MAX + 8], *argv[] = { link, "segv", NULL }, *ok[] = { link, "ok", NULL };
	int i, status;

	snprintf(link, sizeof(link), "%s/link", self->dir);
	ASSERT_EQ(0, symlink(self->crasher, link));
	ASSERT_EQ(0, write_conf(self, "enforce", "60s", "60s", NULL));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	for (i = 0; i < THRESHOLD; i++)
		ASSERT_TRUE(crashed_segv(storm_run_as(STORM_UID, argv, 10000)));
	EXPECT_GT(wait_active(self, STORM_UID, true, 3000), 0)
	TH_LOG("no quarantine of a binary run through a symlink");
	status = storm_run_as(STORM_UID, ok, 10000);
	EXPECT_TRUE(exec_denied(status)) TH_LOG("exec through the link: wait status 0x%x", status);
	status = run_crasher(self, STORM_UID, "ok");
	EXPECT_TRUE(exec_denied(status)) TH_LOG("exec of the target: wait status 0x%x", status);
	EXPECT_TRUE(ran_ok(run_crasher(self, OTHER_UID, "ok")));
	EXPECT_EQ(1, journaled(self, "quarantine"));
}

/* `ld-linux-x86-64.so.2 /path/to/quarantined` opens the file and maps it:
 * no exec, yet it must be refused to that uid too. */
TEST_F_TIMEOUT(quarantine, loader_refused, 90)
{
	char *ld[] = { "/lib64/ld-linux-x86-64.so.2", self->crasher, "ok", NULL };
	int status;

	if (access(ld[0], X_OK))
		SKIP(return, "no %s here", ld[0]);
	ASSERT_EQ(0, write_conf(self, "enforce", "60s", "60s", NULL));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	/* the loader runs it as usual before */
	status = storm_run_as(STORM_UID, ld, 10000);
	ASSERT_TRUE(ran_ok(status)) TH_LOG("ld.so crasher ok before: wait status 0x%x", status);
	ASSERT_EQ(0, crash_n(self, STORM_UID, THRESHOLD));
	ASSERT_GT(wait_active(self, STORM_UID, true, 3000), 0);
	status = storm_run_as(STORM_UID, ld, 10000);
	EXPECT_FALSE(ran_ok(status))
	TH_LOG("the loader ran the quarantined binary: wait status 0x%x", status);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127)
	TH_LOG("ld.so on the quarantined binary: wait status 0x%x (want its exit 127, cannot open)",
	       status);
	/* another uid, and reading the file, are not refused */
	status = storm_run_as(OTHER_UID, ld, 10000);
	EXPECT_TRUE(ran_ok(status)) TH_LOG("ld.so as uid %d: wait status 0x%x", OTHER_UID, status);
	{
		char *cat[] = { "/usr/bin/cmp", self->crasher, self->crasher, NULL };

		status = storm_run_as(STORM_UID, cat, 10000);
		EXPECT_TRUE(ran_ok(status))
		TH_LOG("reading it as uid %d: wait status 0x%x", STORM_UID, status);
	}
}

static bool rec_is_python(json_object *rec, const void *arg)
{
	const struct stat *py = arg;

	return th_json_int(rec, "exe_ino") == (int64_t)py->st_ino;
}

/* A crash under an interpreter is the script's: a test suite whose python
 * scripts segfault on purpose must not lose python3. */
TEST_F_TIMEOUT(quarantine, interpreter_crash_charges_the_script, 120)
{
	char script[PATH_MAX], out[PATH_MAX], buf[512] = "";
	char *rel[] = { "/usr/bin/python3", "crash.py", NULL };
	char *code[] = { "/usr/bin/python3", "-c", "print(6 * 7)", NULL };
	char *shebang[] = { script, NULL };
	char *other[] = { "/usr/bin/python3", "-S", "ok.py", NULL };
	struct stat py;
	int i, status, fd;

	if (stat("/usr/bin/python3", &py))
		SKIP(return, "no python3 here");
	ASSERT_EQ(0, storm_write_file(self->dir, "crash.py",
				      "#!/usr/bin/python3\nimport ctypes\nctypes.string_at(0)\n",
				      script, sizeof(script)));
	ASSERT_EQ(0, chmod(script, 0755));
	ASSERT_EQ(0, storm_write_file(self->dir, "ok.py", "print('ok')\n", out, sizeof(out)));
	snprintf(out, sizeof(out), "%s/py.out", self->dir);
	ASSERT_EQ(0, write_conf(self, "enforce", "60s", "60s", NULL));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	/* python3 crash.py, relative to its working directory */
	for (i = 0; i < THRESHOLD; i++) {
		status = storm_run_in(self->dir, STORM_UID, rel, NULL, 10000);
		ASSERT_TRUE(crashed_segv(status))
		TH_LOG("python3 crash.py: wait status 0x%x", status);
	}
	EXPECT_EQ(0, wait_path(self, script, STORM_UID, 3000))
	TH_LOG("the script was not quarantined");
	EXPECT_EQ(0, active_path(self, "/usr/bin/python3", STORM_UID))
	TH_LOG("python3 was quarantined");
	EXPECT_EQ(0, storm_journal_count(self->journal, "quarantine", "quarantine", rec_is_python,
					 &py, NULL));
	/* python3 still runs for that user... */
	status = storm_run_in(self->dir, STORM_UID, code, out, 10000);
	fd = open(out, O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	EXPECT_TRUE(ran_ok(status))
	TH_LOG("python3 -c as uid %d: wait status 0x%x: %s", STORM_UID, status, buf);
	EXPECT_STREQ("42\n", buf);
	EXPECT_TRUE(ran_ok(storm_run_in(self->dir, STORM_UID, other, NULL, 10000)));
	/* ...and the script is refused: through python3, and by its #! line */
	status = storm_run_in(self->dir, STORM_UID, rel, out, 10000);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 2)
	TH_LOG("python3 crash.py after the quarantine: wait status 0x%x (want exit 2, cannot open)",
	       status);
	status = storm_run_in(self->dir, STORM_UID, shebang, NULL, 10000);
	EXPECT_TRUE(exec_denied(status)) TH_LOG("./crash.py: wait status 0x%x", status);
	/* another user is not affected */
	status = storm_run_in(self->dir, OTHER_UID, shebang, NULL, 10000);
	EXPECT_TRUE(crashed_segv(status))
	TH_LOG("crash.py as uid %d: wait status 0x%x", OTHER_UID, status);
}

/* How many descriptors pid has open, or -errno. */
static int fds_open(pid_t pid)
{
	char dir[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* One user crashing many copies: lymphd holds no descriptor per binary,
 * caps what one uid can have tracked, journals and shows the overflow, and
 * still quarantines for everybody else. */
TEST_F_TIMEOUT(quarantine, many_copies_cannot_exhaust_it, 240)
{
	struct rlimit low = { 64, 64 }, saved;
	char copy[PATH_MAX];
	json_object *st, *q;
	int i, status, fds_idle, fds;
	const int copies = 80;

	/* threshold 1: each copy is quarantined at its first crash */
	{
		char text[2048];

		snprintf(
			text, sizeof(text),
			"[lymphd]\nmode = enforce\n\n[quarantine]\nthreshold = 1\nduration_min = 60s\n"
			"duration_max = 60s\n\n[protect]\nuid = 0\n" STORM_CALM_WEATHER);
		ASSERT_EQ(0, storm_write_file(self->dir, "lymph.conf", text, self->conf,
					      sizeof(self->conf)));
	}
	/* lymphd raises a low soft limit to the hard one at start... */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &saved));
	low.rlim_max = saved.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	status = storm_lymphd_start(&self->d, self->conf, self->journal, NULL);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &saved));
	ASSERT_EQ(0, status);
	st = storm_ctl_json(&self->d, "status");
	ASSERT_NE(NULL, st);
	EXPECT_EQ(saved.rlim_max == RLIM_INFINITY ? INT_MAX : (int64_t)saved.rlim_max,
		  th_json_int(th_json_get(st, "quarantine"), "nofile"));
	json_object_put(st);
	/* ...and, held to a few descriptors more than it has open idle
	 * (fewer than there are copies), still has room for every
	 * quarantine: it holds no descriptor per binary */
	fds_idle = fds_open(self->d.pid);
	ASSERT_GT(fds_idle, 0);
	low.rlim_cur = low.rlim_max = (rlim_t)fds_idle + 16;
	ASSERT_EQ(0, prlimit(self->d.pid, RLIMIT_NOFILE, &low, NULL));
	for (i = 0; i < copies; i++) {
		char *argv[] = { copy, "segv", NULL };

		snprintf(copy, sizeof(copy), "%s/copy%03d", self->dir, i);
		ASSERT_EQ(0, th_copy_file(self->crasher, copy, 0755));
		status = storm_run_as(STORM_UID, argv, 10000);
		ASSERT_TRUE(crashed_segv(status)) TH_LOG("copy %d: wait status 0x%x", i, status);
	}
	/* the last copies cannot be tracked: the overflow is journaled */
	for (i = 0; i < 100 &&
		    !storm_journal_count(self->journal, "quarantine", "overflow", NULL, NULL, NULL);
	     i++)
		th_sleep_ms(50);
	EXPECT_GE(storm_journal_count(self->journal, "quarantine", "overflow", NULL, NULL, NULL),
		  1);
	st = storm_ctl_json(&self->d, "status");
	ASSERT_NE(NULL, st) TH_LOG("lymphd does not answer after %d quarantines", copies);
	q = th_json_get(st, "quarantine");
	TH_LOG("active %zu, overflow %s, fds_held %lld of budget %lld (RLIMIT_NOFILE %lld)",
	       json_object_array_length(th_json_get(q, "active")),
	       th_json_text(th_json_get(q, "overflow")), (long long)th_json_int(q, "fds_held"),
	       (long long)th_json_int(q, "fd_budget"), (long long)th_json_int(q, "nofile"));
	EXPECT_EQ(64, (int64_t)json_object_array_length(th_json_get(q, "active")));
	EXPECT_EQ(copies - 64, th_json_int(th_json_get(q, "overflow"), "per_uid"));
	EXPECT_EQ(0, th_json_int(q, "fds_held"));
	json_object_put(st);
	{
		struct th_cmd *r = calloc(1, sizeof(*r));
		char want[96];

		ASSERT_NE(NULL, r);
		ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "status", NULL));
		snprintf(want, sizeof(want), "overflow (see the journal): %d over a uid's limit",
			 copies - 64);
		EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("lymphctl status says: %s", r->out);
		free(r);
	}
	/* lymphd holds no descriptor per quarantined binary (64 of them);
	 * a few come and go meanwhile (the status client just served, a
	 * refused-fork sample's links): given 5 s to settle */
	for (i = 0; i < 50 && (fds = fds_open(self->d.pid)) - fds_idle >= 8; i++)
		th_sleep_ms(100);
	TH_LOG("lymphd has %d descriptors open, %d idle before the copies", fds, fds_idle);
	EXPECT_LT(fds - fds_idle, 8);
	/* the first copies are refused, another user still gets quarantines */
	snprintf(copy, sizeof(copy), "%s/copy000", self->dir);
	{
		char *argv[] = { copy, "ok", NULL };

		EXPECT_TRUE(exec_denied(storm_run_as(STORM_UID, argv, 10000)));
	}
	ASSERT_EQ(0, crash_n(self, OTHER_UID, 1));
	EXPECT_GT(wait_active(self, OTHER_UID, true, 3000), 0)
	TH_LOG("another user's crash was not quarantined after the flood");
}

static bool rec_is_bash(json_object *rec, const void *arg)
{
	const struct stat *b = arg;

	return th_json_int(rec, "exe_ino") == (int64_t)b->st_ino;
}

/* A user's own crashes of their login shell never lock them out of it. */
TEST_F_TIMEOUT(quarantine, login_shell_never_quarantined, 90)
{
	char *crash[] = { "/usr/bin/bash", "-c", "kill -SEGV $$", NULL };
	char *ok[] = { "/usr/bin/bash", "-c", "exit 0", NULL };
	struct stat bash;
	int i, status;

	if (stat(crash[0], &bash))
		SKIP(return, "no %s here", crash[0]);
	ASSERT_EQ(0, write_conf(self, "enforce", "60s", "60s", NULL));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	for (i = 0; i < 2 * THRESHOLD; i++) {
		status = storm_run_as(STORM_UID, crash, 10000);
		ASSERT_TRUE(crashed_segv(status))
		TH_LOG("bash -c 'kill -SEGV $$': wait status 0x%x", status);
	}
	th_sleep_ms(500);
	EXPECT_EQ(0, active_path(self, crash[0], STORM_UID));
	status = storm_run_as(STORM_UID, ok, 10000);
	EXPECT_TRUE(ran_ok(status))
	TH_LOG("bash as uid %d after its crashes: wait status 0x%x", STORM_UID, status);
	EXPECT_EQ(0, storm_journal_count(self->journal, "quarantine", "quarantine", rec_is_bash,
					 &bash, NULL));
	EXPECT_EQ(1, storm_journal_count(self->journal, "quarantine", "protected", rec_is_bash,
					 &bash, NULL));
}

/* ---- each response switched on its own ----------------------------------- */

/* lymphd (re)started on policy: in enforce mode, with quarantine enabled
 * and the throttle enforcing or not, as expected. */
static void expect_armed(struct __test_metadata *_metadata, FIXTURE_DATA(quarantine) * self,
			 const char *policy, int quarantine, int throttle)
{
	json_object *st;

	th_lymphd_destroy(&self->d);
	ASSERT_EQ(0, storm_write_file(self->dir, "lymph.conf", policy, self->conf,
				      sizeof(self->conf)));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	st = storm_ctl_json(&self->d, "status");
	ASSERT_NE(NULL, st);
	EXPECT_STREQ("enforce", th_json_str(st, "mode"));
	EXPECT_EQ(quarantine, th_json_bool(th_json_get(st, "quarantine"), "enabled"));
	EXPECT_EQ(throttle, th_json_bool(th_json_get(st, "throttle"), "enforce"));
	json_object_put(st);
}

/* A supervision-only policy in enforce mode: no quarantine, no throttle,
 * not even a would-quarantine. */
TEST_F_TIMEOUT(quarantine, supervision_only_policy_arms_nothing_else, 90)
{
	expect_armed(_metadata, self,
		     "[lymphd]\nmode = enforce\n\n[protect]\nuid = 0\n" STORM_CALM_WEATHER, 0, 0);
	ASSERT_EQ(0, crash_n(self, STORM_UID, 2 * THRESHOLD));
	th_sleep_ms(500);
	EXPECT_EQ(0, wait_active(self, STORM_UID, false, 100));
	EXPECT_TRUE(ran_ok(run_crasher(self, STORM_UID, "ok")));
	EXPECT_EQ(0, journaled(self, NULL));

	/* [quarantine] and [throttle] sections arm them; enabled = no disarms */
	expect_armed(_metadata, self,
		     "[lymphd]\nmode = enforce\n[quarantine]\nthreshold = 3\n[throttle]\n"
		     "[protect]\nuid = 0\n" STORM_CALM_WEATHER,
		     1, 1);
	expect_armed(_metadata, self,
		     "[lymphd]\nmode = enforce\n[quarantine]\nenabled = no\n[throttle]\n"
		     "enabled = no\n[protect]\nuid = 0\n" STORM_CALM_WEATHER,
		     0, 0);
	ASSERT_EQ(0, crash_n(self, STORM_UID, 2 * THRESHOLD));
	th_sleep_ms(500);
	EXPECT_EQ(0, wait_active(self, STORM_UID, false, 100));
	EXPECT_EQ(0, journaled(self, NULL));
}

static bool rec_is_root_crasher(json_object *rec, const void *arg)
{
	return rec_is_crasher(rec, arg) && th_json_int(rec, "uid") == 0;
}

/* Root's binaries are never quarantined unless the policy says so (no
 * [protect] uid = 0 here: the default alone). */
TEST_F_TIMEOUT(quarantine, root_only_with_root_yes, 90)
{
	struct th_cmd *r = calloc(1, sizeof(*r));
	char text[2048];
	int i;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, storm_write_file(self->dir, "lymph.conf",
				      "[lymphd]\nmode = enforce\n[quarantine]\nthreshold = 3\n"
				      "duration_min = 60s\n" STORM_CALM_WEATHER,
				      self->conf, sizeof(self->conf)));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	for (i = 0; i < 2 * THRESHOLD; i++)
		ASSERT_TRUE(crashed_segv(run_crasher(self, 0, "segv")));
	th_sleep_ms(500);
	EXPECT_EQ(0, wait_active(self, 0, false, 100));
	EXPECT_TRUE(ran_ok(run_crasher(self, 0, "ok")));
	EXPECT_EQ(0, storm_journal_count(self->journal, "quarantine", "quarantine",
					 rec_is_root_crasher, &self->st, NULL));
	EXPECT_EQ(1, storm_journal_count(self->journal, "quarantine", "protected",
					 rec_is_root_crasher, &self->st, NULL));
	th_lymphd_destroy(&self->d);

	/* [quarantine] root = yes: root's crashes count like anybody's */
	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\n[quarantine]\nthreshold = 3\n"
		 "duration_min = 60s\nroot = yes\n" STORM_CALM_WEATHER);
	ASSERT_EQ(0,
		  storm_write_file(self->dir, "lymph.conf", text, self->conf, sizeof(self->conf)));
	unlink(self->journal);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	ASSERT_EQ(0, crash_n(self, 0, THRESHOLD));
	EXPECT_GT(wait_active(self, 0, true, 3000), 0) TH_LOG("root = yes: no quarantine for root");
	EXPECT_TRUE(exec_denied(run_crasher(self, 0, "ok")));
	ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "release", self->crasher, NULL));
	EXPECT_TRUE(ran_ok(run_crasher(self, 0, "ok")));
	free(r);
}

/* ---- a kill in the exec bits' window -------------------------------------- */

#define STRACE "/usr/bin/strace"

/*
 * A host without fanotify permission events, for the child and what it
 * execs: fanotify_init fails with ENOSYS (seccomp), so lymphd's quarantine
 * falls back to removing exec bits.
 */
static int no_fanotify(void)
{
	return th_seccomp_one(__NR_fanotify_init, SECCOMP_RET_ERRNO | ENOSYS);
}

/*
 * lymphd under strace, which scripts/deps.sh installs (a missing strace
 * fails the test: it says what to run), so that a fault injected into one
 * system call kills lymphd exactly there: SIGKILL on the entry of the
 * first kill_at call on the crasher (-P: on its descriptor), which is then
 * never made (kill_at NULL: no strace).  Without fanotify (no_fanotify, unless fanotify) quarantine
 * removes exec bits, for root's own crashes only ([quarantine] root = yes,
 * no [protect] uid).  Ready when its control socket answers in the
 * enforcement expected.
 */
static int start_traced(FIXTURE_DATA(quarantine) * self, const char *kill_at, bool fanotify)
{
	char prog[PATH_MAX], sockopt[PATH_MAX + 16], jopt[PATH_MAX + 16], trace[64], inject[64];
	char *argv[] = { STRACE,  "-f", "-o",	    "/dev/null", "-P", self->crasher, "-e",
			 trace,	  "-e", inject,	    "--",	 prog, "--json",      "--quiet",
			 sockopt, "-c", self->conf, jopt,	 NULL };
	struct th_lymphd *d = &self->d;
	int64_t deadline;
	json_object *st;
	int err;

	if (kill_at && access(STRACE, X_OK)) {
		th_diag("%s is missing: run scripts/deps.sh (it installs strace)", STRACE);
		return -ENOENT;
	}
	th_prog("lymphd", prog, sizeof(prog));
	snprintf(trace, sizeof(trace), "trace=%s", kill_at);
	snprintf(inject, sizeof(inject), "inject=%s:signal=KILL", kill_at);
	snprintf(jopt, sizeof(jopt), "--journal=%s", self->journal);
	err = th_lymphd_dir(d);
	if (err)
		return err;
	snprintf(sockopt, sizeof(sockopt), "--socket=%s", d->sock);
	fflush(stdout);
	fflush(stderr);
	d->pid = th_fork();
	if (d->pid < 0)
		return d->pid;
	if (d->pid == 0) {
		int e = open(d->errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		if (e >= 0)
			dup2(e, 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!fanotify && no_fanotify())
			_exit(126);
		/* kill_at NULL: lymphd alone */
		execv(kill_at ? argv[0] : prog, kill_at ? argv : argv + 11);
		_exit(127);
	}
	deadline = th_now_ms() + 20000;
	while (th_now_ms() < deadline) {
		struct th_cmd *r = calloc(1, sizeof(*r));
		bool ok = r && !th_lymphctl(d, r, NULL, "status", NULL) && r->status == 0;

		free(r);
		if (ok)
			break;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = -1;
			th_lymphd_dump_stderr(d);
			return -ECHILD;
		}
		th_sleep_ms(50);
	}
	st = storm_ctl_json(d, "status");
	err = strcmp(fanotify ? "fanotify" : "exec-bits",
		     th_json_str(th_json_get(st, "quarantine"), "enforcement") ?: "")
		      ? -EOPNOTSUPP
		      : 0;
	if (err)
		th_diag("lymphd under strace enforces with %s",
			th_json_str(th_json_get(st, "quarantine"), "enforcement") ?: "(no status)");
	json_object_put(st);
	return err;
}

/* Wait (10 s) until strace and lymphd are gone: 0, or -ETIMEDOUT. */
static int wait_killed(FIXTURE_DATA(quarantine) * self)
{
	int64_t deadline = th_now_ms() + 10000;

	while (waitpid(self->d.pid, NULL, WNOHANG) != self->d.pid) {
		if (th_now_ms() > deadline)
			return -ETIMEDOUT;
		th_sleep_ms(20);
	}
	self->d.pid = -1;
	return 0;
}

/* The root-only exec-bits policy of these tests. */
static int write_conf_root(FIXTURE_DATA(quarantine) * self)
{
	return storm_write_file(
		self->dir, "lymph.conf",
		"[lymphd]\nmode = enforce\n[quarantine]\nthreshold = 3\n"
		"duration_min = 60s\nduration_max = 120s\nroot = yes\n" STORM_CALM_WEATHER,
		self->conf, sizeof(self->conf));
}

/*
 * Crash the crasher as root to its threshold with lymphd killed at the
 * entry of kill_at (fchmod: before the exec bits go; name_to_handle_at,
 * the call after that fchmod: after they went, before the quarantine
 * record).  The journal must hold the intent and no quarantine record.
 */
static void kill_in_window(struct __test_metadata *_metadata, FIXTURE_DATA(quarantine) * self,
			   const char *kill_at)
{
	int i;

	ASSERT_EQ(0, write_conf_root(self));
	ASSERT_EQ(0, start_traced(self, kill_at, false));
	for (i = 0; i < THRESHOLD; i++)
		ASSERT_TRUE(crashed_segv(run_crasher(self, 0, "segv")));
	EXPECT_EQ(0, wait_killed(self)) TH_LOG("lymphd was not killed at %s", kill_at);
	EXPECT_EQ(1, journaled(self, "intent"))
	TH_LOG("no intent journaled before the exec bits were removed");
	EXPECT_EQ(0, journaled(self, "quarantine")) TH_LOG("the kill came after the record");
	th_lymphd_destroy(&self->d);
}

/* lymphd started again (fanotify, as usual): its replay answers the
 * intent; the "recovered" record (caller puts), or NULL. */
static json_object *restart_and_recover(struct __test_metadata *_metadata,
					FIXTURE_DATA(quarantine) * self)
{
	json_object *last = NULL;

	if (storm_lymphd_start(&self->d, self->conf, self->journal, NULL))
		return NULL;
	EXPECT_EQ(1, storm_journal_count(self->journal, "quarantine", "recovered", rec_is_crasher,
					 &self->st, &last));
	TH_LOG("recovered: %s", last ? th_json_str(last, "result") : "(no record)");
	return last;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

/* Killed on the entry of the fchmod: the intent is on disk, the exec bits
 * are not removed; the next start says there is nothing to give back. */
TEST_F_TIMEOUT(quarantine, killed_after_the_intent_before_the_exec_bits_go, 120)
{
	mode_t mode = self->st.st_mode & 07777;
	json_object *rec;

	ASSERT_NE(0, (int)(mode & 0111));
	kill_in_window(_metadata, self, "fchmod");
	EXPECT_EQ(mode, mode_of(self->crasher));
	rec = restart_and_recover(_metadata, self);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(0, strncmp(th_json_str(rec, "result") ?: "", "nothing to give back", 20));
	EXPECT_EQ((int64_t)mode, th_json_int(rec, "old_mode"));
	json_object_put(rec);
	EXPECT_EQ(mode, mode_of(self->crasher));
	EXPECT_TRUE(ran_ok(run_crasher(self, 0, "ok")));
}

/* Killed after the fchmod, before the quarantine record: the binary has
 * lost its exec bits and no quarantine will give them back; the next start
 * does, from the intent, and journals it. */
TEST_F_TIMEOUT(quarantine, killed_after_the_exec_bits_went_gets_them_back, 120)
{
	mode_t mode = self->st.st_mode & 07777;
	json_object *rec;

	ASSERT_NE(0, (int)(mode & 0111));
	kill_in_window(_metadata, self, "name_to_handle_at");
	ASSERT_EQ(mode & 07666, mode_of(self->crasher)) TH_LOG("the kill came before the fchmod");
	EXPECT_FALSE(ran_ok(run_crasher(self, 0, "ok")));
	rec = restart_and_recover(_metadata, self);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(0, strncmp(th_json_str(rec, "result") ?: "", "exec bits given back", 20));
	json_object_put(rec);
	EXPECT_EQ(mode, mode_of(self->crasher))
	TH_LOG("mode %04o after the restart (was %04o)", (unsigned)mode_of(self->crasher),
	       (unsigned)mode);
	EXPECT_TRUE(ran_ok(run_crasher(self, 0, "ok")));
	/* answered once: a second start has nothing to do */
	th_lymphd_destroy(&self->d);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	EXPECT_EQ(1, journaled(self, "recovered"));
}

/* The same kill, then an administrator's chmod before lymphd starts
 * again: the replay keeps it (and says so). */
TEST_F_TIMEOUT(quarantine, an_administrators_chmod_after_the_kill_is_kept, 120)
{
	json_object *rec;

	kill_in_window(_metadata, self, "name_to_handle_at");
	ASSERT_EQ(0, chmod(self->crasher, 0700));
	rec = restart_and_recover(_metadata, self);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(0, strncmp(th_json_str(rec, "result") ?: "", "left as it is", 13));
	json_object_put(rec);
	EXPECT_EQ((mode_t)0700, mode_of(self->crasher));
}

/*
 * Exec bits an earlier run removed (a whole exec-bits quarantine, lymphd
 * stopped), and lymphd started again with fanotify: the quarantine holds
 * by its mark, per uid, and nothing would give the mode back at its end;
 * the start does at once, and journals it.
 */
TEST_F_TIMEOUT(quarantine, exec_bits_of_an_earlier_run_come_back_under_fanotify, 120)
{
	struct th_cmd *r = calloc(1, sizeof(*r));
	mode_t mode = self->st.st_mode & 07777;
	json_object *rec;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, write_conf_root(self));
	ASSERT_EQ(0, start_traced(self, NULL, false));
	ASSERT_EQ(0, crash_n(self, 0, THRESHOLD));
	ASSERT_EQ(1, wait_journaled(self, "quarantine", 1));
	EXPECT_EQ(mode & 07666, mode_of(self->crasher));
	th_lymphd_destroy(&self->d);
	EXPECT_EQ(mode & 07666, mode_of(self->crasher)) TH_LOG("given back by a stop");

	rec = restart_and_recover(_metadata, self);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(0, strncmp(th_json_str(rec, "result") ?: "", "exec bits given back", 20));
	json_object_put(rec);
	EXPECT_EQ(mode, mode_of(self->crasher));
	EXPECT_GT(wait_active(self, 0, true, 3000), 0) TH_LOG("the quarantine is lost");
	EXPECT_TRUE(exec_denied(run_crasher(self, 0, "ok")));
	ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "release", self->crasher, NULL));
	EXPECT_TRUE(ran_ok(run_crasher(self, 0, "ok")));
	EXPECT_EQ(mode, mode_of(self->crasher));
	free(r);
}

/*
 * Why a fanotify quarantine needs no intent: lymphd killed after its mark
 * (on name_to_handle_at, the call after fanotify_mark), before the
 * quarantine record: the mark went with lymphd's fanotify descriptor (no
 * child of lymphd holds it), so the binary runs for that uid at once, and
 * lymphd started again has nothing to restore.
 */
TEST_F_TIMEOUT(quarantine, a_fanotify_mark_ends_with_lymphd_killed_before_its_record, 120)
{
	int status;

	ASSERT_EQ(0, write_conf(self, "enforce", "60s", "120s", NULL));
	ASSERT_EQ(0, start_traced(self, "name_to_handle_at", true));
	ASSERT_EQ(0, crash_n(self, STORM_UID, THRESHOLD));
	EXPECT_EQ(0, wait_killed(self)) TH_LOG("lymphd was not killed after its mark");
	EXPECT_EQ(0, journaled(self, "quarantine"));
	th_lymphd_destroy(&self->d);
	status = run_crasher(self, STORM_UID, "ok");
	EXPECT_TRUE(ran_ok(status)) TH_LOG("exec with lymphd dead: wait status 0x%x", status);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	EXPECT_EQ(0, wait_active(self, STORM_UID, false, 100));
	EXPECT_TRUE(ran_ok(run_crasher(self, STORM_UID, "ok")));
}

TEST_HARNESS_MAIN
