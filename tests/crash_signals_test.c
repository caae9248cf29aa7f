// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real crashes, seen by lymphd's BPF source: for each crash signal a child
 * really dies of it, and lymphd reports a death for that pid with the right
 * signal, si_code and class *danger*.  A SIGSEGV sent by another process
 * (root, or uid 1000) is *programmed*, reason "killed", with the sender's
 * pid and uid.
 *
 * Needs root (BPF).  lymphd is started once per test with
 * --json --source=bpf and a private control socket.
 */
#include "helpers.h"
#include "kselftest_harness.h"

#define TEST_UID	 1000
#define EVENT_TIMEOUT_MS 5000

/* A child that is ready to be killed: it has dropped to uid (unless uid is
 * 0), disabled core dumps and written one byte to the pipe, then waits. */
static pid_t spawn_target(uid_t uid)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = th_fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return pid;
	}
	if (pid == 0) {
		th_crash_prepare();
		if (uid && th_become(uid))
			_exit(125);
		if (write(p[1], "r", 1) != 1)
			_exit(124);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -ECHILD;
	}
	close(p[0]);
	return pid;
}

/* A child that becomes uid (unless 0) and sends sig to target; returns its
 * pid after reaping it, with its wait status in *status. */
static pid_t spawn_sender(uid_t uid, pid_t target, int sig, int *status)
{
	pid_t pid;

	pid = th_fork();
	if (pid < 0)
		return pid;
	if (pid == 0) {
		if (uid && th_become(uid))
			_exit(125);
		_exit(kill(target, sig) ? 1 : 0);
	}
	if (waitpid(pid, status, 0) != pid)
		return -errno;
	return pid;
}

/* Start lymphd --json --source=bpf; false (after SKIP) when not root. */
static bool start_bpf(struct __test_metadata *_metadata, struct th_lymphd *d)
{
	static const char *const args[] = { "--source=bpf", NULL };
	int err;

	th_lymphd_init(d);
	if (!th_is_root()) {
		SKIP(return false, "needs root to load BPF programs");
	}
	err = th_lymphd_start(d, args, 20000);
	if (err)
		th_lymphd_destroy(d);
	ASSERT_EQ(0, err) TH_LOG("lymphd --json --source=bpf did not start");
	EXPECT_STREQ("bpf", th_json_str(d->start, "source"))
	TH_LOG("start line: %s", th_json_text(d->start));
	return true;
}

/* One lymphd per crash kind. */
FIXTURE(bpf)
{
	struct th_lymphd d;
	char busfile[PATH_MAX];
	struct stat exe;
};

FIXTURE_SETUP(bpf)
{
	ASSERT_EQ(0, stat("/proc/self/exe", &self->exe));
	if (!start_bpf(_metadata, &self->d))
		return;
	snprintf(self->busfile, sizeof(self->busfile), "%s/bus", self->d.dir);
}

FIXTURE_TEARDOWN(bpf)
{
	th_lymphd_destroy(&self->d);
}

FIXTURE_VARIANT(bpf)
{
	enum th_crash how;
	int signo;
	const char *signame;
	int si_code;
	const char *si_code_name;
	const char *reason;
};

/* A crash kind: the names lymphd must print are the constants' own
 * spellings, taken from the source here (#), not from lymphd's tables. */
#define CRASH_VARIANT(name, how_, sig, code, reason_)		\
	FIXTURE_VARIANT_ADD(bpf, name)				\
	{							\
		.how = how_, .signo = sig, .signame = #sig,	\
		.si_code = code, .si_code_name = #code,		\
		.reason = reason_,				\
	}

CRASH_VARIANT(sigsegv, TH_SEGV, SIGSEGV, SEGV_MAPERR, "fault");
CRASH_VARIANT(sigbus, TH_BUS, SIGBUS, BUS_ADRERR, "fault");
CRASH_VARIANT(sigabrt, TH_ABRT, SIGABRT, SI_TKILL, "self-raised");
CRASH_VARIANT(sigill, TH_ILL, SIGILL, ILL_ILLOPN, "fault");
CRASH_VARIANT(sigfpe, TH_FPE, SIGFPE, FPE_INTDIV, "fault");
CRASH_VARIANT(sigsys, TH_SYS, SIGSYS, SYS_SECCOMP, "fault");

/* A real crash of the variant's kind is a danger death with its siginfo. */
TEST_F_TIMEOUT(bpf, crash_is_danger, 60)
{
	json_object *ev;
	int status = 0;
	pid_t pid;

	pid = th_crash_child(variant->how, self->busfile, &status);
	ASSERT_LT(0, pid);
	ASSERT_TRUE(WIFSIGNALED(status))
	TH_LOG("child did not crash: wait status 0x%x", status);
	ASSERT_EQ(variant->signo, WTERMSIG(status));

	ev = th_lymphd_wait(&self->d, th_pred_death_of, &pid, EVENT_TIMEOUT_MS);
	ASSERT_NE(NULL, ev) TH_LOG("no death event for pid %d within %d ms", pid, EVENT_TIMEOUT_MS);
	TH_LOG("%s", th_json_text(ev));
	EXPECT_STREQ("bpf", th_json_str(ev, "source"));
	EXPECT_EQ(variant->signo, th_json_int(ev, "signo"));
	EXPECT_STREQ(variant->signame, th_json_str(ev, "signal"));
	EXPECT_EQ(1, th_json_bool(ev, "siginfo"));
	EXPECT_EQ(variant->si_code, th_json_int(ev, "si_code"));
	EXPECT_STREQ(variant->si_code_name, th_json_str(ev, "si_code_name"));
	EXPECT_STREQ("danger", th_json_str(ev, "class"));
	EXPECT_STREQ(variant->reason, th_json_str(ev, "reason"));
	EXPECT_EQ(status, th_json_int(ev, "exit_code"));
	EXPECT_EQ(getpid(), th_json_int(ev, "ppid"));
	EXPECT_EQ(0, th_json_int(ev, "uid"));
	EXPECT_EQ((int64_t)self->exe.st_ino, th_json_int(ev, "exe_ino"));
	EXPECT_EQ((int64_t)self->exe.st_dev, th_json_int(ev, "exe_dev"));
	if (variant->how == TH_SEGV && th_json_get(ev, "fault_addr"))
		EXPECT_EQ(0, th_json_int(ev, "fault_addr"));
	json_object_put(ev);
}

static void expect_killed(struct __test_metadata *_metadata, struct th_lymphd *d, pid_t target,
			  uid_t target_uid, pid_t sender, uid_t sender_uid)
{
	json_object *ev;

	ev = th_lymphd_wait(d, th_pred_death_of, &target, EVENT_TIMEOUT_MS);
	ASSERT_NE(NULL, ev)
	TH_LOG("no death event for pid %d within %d ms", target, EVENT_TIMEOUT_MS);
	TH_LOG("%s", th_json_text(ev));
	EXPECT_EQ(SIGSEGV, th_json_int(ev, "signo"));
	EXPECT_STREQ("programmed", th_json_str(ev, "class"));
	EXPECT_STREQ("killed", th_json_str(ev, "reason"));
	EXPECT_EQ(1, th_json_bool(ev, "siginfo"));
	EXPECT_EQ(SI_USER, th_json_int(ev, "si_code"));
	EXPECT_STREQ("SI_USER", th_json_str(ev, "si_code_name"));
	EXPECT_EQ(sender, th_json_int(ev, "sender_pid"));
	EXPECT_EQ(sender_uid, th_json_int(ev, "sender_uid"));
	EXPECT_EQ(target_uid, th_json_int(ev, "uid"));
	json_object_put(ev);
}

/* Signals sent by other processes. */
FIXTURE(bpf_kill)
{
	struct th_lymphd d;
};

FIXTURE_SETUP(bpf_kill)
{
	start_bpf(_metadata, &self->d);
}

FIXTURE_TEARDOWN(bpf_kill)
{
	th_lymphd_destroy(&self->d);
}

/* kill(pid, SIGSEGV) from the test itself. */
TEST_F_TIMEOUT(bpf_kill, kill_segv_is_programmed, 60)
{
	int status = 0;
	pid_t target;

	target = spawn_target(0);
	ASSERT_LT(0, target);
	ASSERT_EQ(0, kill(target, SIGSEGV));
	ASSERT_EQ(target, waitpid(target, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	expect_killed(_metadata, &self->d, target, 0, getpid(), 0);
}

/* A target and a forked sender child, both as uid: the sender's
 * kill(target, SIGSEGV) is a programmed death naming the sender. */
static void kill_from_sender(struct __test_metadata *_metadata, struct th_lymphd *d, uid_t uid)
{
	int status = 0, sstatus = 0;
	pid_t target, sender;

	target = spawn_target(uid);
	ASSERT_LT(0, target);
	sender = spawn_sender(uid, target, SIGSEGV, &sstatus);
	if (sender < 0 || !(WIFEXITED(sstatus) && WEXITSTATUS(sstatus) == 0)) {
		kill(target, SIGKILL);
		waitpid(target, NULL, 0);
	}
	ASSERT_LT(0, sender);
	ASSERT_TRUE(WIFEXITED(sstatus) && WEXITSTATUS(sstatus) == 0)
	TH_LOG("sender failed: wait status 0x%x", sstatus);
	ASSERT_EQ(target, waitpid(target, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	expect_killed(_metadata, d, target, uid, sender, uid);
}

/* kill(pid, SIGSEGV) from a forked sender child. */
TEST_F_TIMEOUT(bpf_kill, kill_segv_from_sender, 60)
{
	kill_from_sender(_metadata, &self->d, 0);
}

/* A uid-1000 process kills a uid-1000 target: sender_uid is 1000. */
TEST_F_TIMEOUT(bpf_kill, kill_segv_as_user, 60)
{
	kill_from_sender(_metadata, &self->d, TEST_UID);
}

TEST_HARNESS_MAIN
