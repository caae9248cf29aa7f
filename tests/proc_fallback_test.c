// SPDX-License-Identifier: GPL-2.0-only
/*
 * The proc-connector fallback (lymphd --source=proc) sees the same crashes
 * as the BPF source, without siginfo: the right signal, "siginfo": false, no
 * si_code, class danger with reason "unverified" (it cannot tell a fault
 * from kill -SEGV).  Its start line names what it is missing.
 *
 * Needs root (the proc connector's multicast group).
 */
#include "helpers.h"
#include "kselftest_harness.h"

#define EVENT_TIMEOUT_MS 5000

FIXTURE(proc)
{
	struct th_lymphd d;
};

FIXTURE_SETUP(proc)
{
	static const char *const args[] = { "--source=proc", NULL };
	int err;

	th_lymphd_init(&self->d);
	if (!th_is_root())
		SKIP(return, "needs root for the proc connector");
	err = th_lymphd_start(&self->d, args, 20000);
	if (err)
		th_lymphd_destroy(&self->d);
	ASSERT_EQ(0, err) TH_LOG("lymphd --json --source=proc did not start");
}

FIXTURE_TEARDOWN(proc)
{
	th_lymphd_destroy(&self->d);
}

TEST_F(proc, start_line_names_missing)
{
	const char *missing = th_json_str(self->d.start, "missing");

	TH_LOG("start line: %s", th_json_text(self->d.start));
	EXPECT_STREQ("proc", th_json_str(self->d.start, "source"));
	ASSERT_NE(NULL, missing) TH_LOG("\"missing\" is not a string");
	EXPECT_NE(NULL, strstr(missing, "si_code"));
}

static void crash_is_unverified_danger(struct __test_metadata *_metadata, struct th_lymphd *d,
				       enum th_crash how, int signo, const char *signame)
{
	json_object *ev;
	int status = 0;
	pid_t pid;

	pid = th_crash_child(how, NULL, &status);
	ASSERT_LT(0, pid);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == signo)
	TH_LOG("child did not crash as expected: wait status 0x%x", status);

	ev = th_lymphd_wait(d, th_pred_death_of, &pid, EVENT_TIMEOUT_MS);
	ASSERT_NE(NULL, ev) TH_LOG("no death event for pid %d within %d ms", pid, EVENT_TIMEOUT_MS);
	TH_LOG("%s", th_json_text(ev));
	EXPECT_STREQ("proc", th_json_str(ev, "source"));
	EXPECT_EQ(signo, th_json_int(ev, "signo"));
	EXPECT_STREQ(signame, th_json_str(ev, "signal"));
	EXPECT_EQ(0, th_json_bool(ev, "siginfo"));
	EXPECT_EQ(NULL, th_json_get(ev, "si_code"))
	TH_LOG("the proc connector cannot know si_code");
	EXPECT_EQ(NULL, th_json_get(ev, "sender_pid"));
	EXPECT_STREQ("danger", th_json_str(ev, "class"));
	EXPECT_STREQ("unverified", th_json_str(ev, "reason"));
	EXPECT_EQ(status, th_json_int(ev, "exit_code"));
	json_object_put(ev);
}

TEST_F(proc, sigsegv_is_unverified_danger)
{
	crash_is_unverified_danger(_metadata, &self->d, TH_SEGV, SIGSEGV, "SIGSEGV");
}

TEST_F(proc, sigabrt_is_unverified_danger)
{
	crash_is_unverified_danger(_metadata, &self->d, TH_ABRT, SIGABRT, "SIGABRT");
}

TEST_HARNESS_MAIN
