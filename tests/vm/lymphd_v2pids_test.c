// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgroup v2: the "+pids" lymphd writes into a cgroup's subtree_control so
 * that a hold (pids.max 0) can sit below it is journaled and taken back,
 * at the episode's end and at lymphd's next start when lymphd died in the
 * middle of the episode.  Run as root inside the test VM (pure cgroup v2,
 * tests/vm/run.sh), with lymph.ko and lymphd --source=kmod (the pin is the
 * same code on the BPF path).
 *
 * A bomb as uid 1000 (a family of its own) in a pids cgroup whose
 * subtree_control has no pids: lymphd pins it in a hold below that cgroup,
 * enabling pids there (journaled, "pids_enabled").  lymphd is SIGKILLed,
 * the bomb killed, lymphd started again on the same journal: its replay
 * ends the episode (the hold removed) and takes the "+pids" back.  Before,
 * a restart left pids enabled there for good (the cgroup, a thread root
 * from then on, takes no domain child).
 *
 * The pin's intent ("pin", with enable_pids when lymphd is about to write
 * the "+pids"), lymphd killed before its next record: lymphd --lift-pins
 * removes the hold and takes the "+pids" back only if lymphd wrote it.
 *
 * No assertion times anything.  Built statically (busybox userland); the
 * module comes from $LYMPH_KO (default /lib/modules/lymph.ko), lymphd from
 * the build directory on the kernel command line (lymph.build=).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod.h"
#include "guest.h"

#define CGROOT "/sys/fs/cgroup"
#define CG     CGROOT "/lymph-v2pids"
#define DIR_   "/tmp/lymphd-v2pids"

/* Does the word pids stand in CG's cgroup.subtree_control? */
static int pids_enabled_in_cg(void)
{
	char buf[256];

	if (read_file(CG "/cgroup.subtree_control", buf, sizeof(buf)) < 0)
		return -1;
	return strstr(buf, "pids") != NULL;
}

static int file_has(const char *path, const char *what)
{
	static char buf[1 << 20];

	return read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, what) != NULL;
}

/* The bomb: uid 1000 (a family of its own) in CG; the first process makes
 * children that stay (pause) as fast as it can: net growth. */
static pid_t bomb_start(void)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (write_file(CG "/cgroup.procs", "0") || setresgid(1000, 1000, 1000) ||
	    setresuid(1000, 1000, 1000))
		_exit(125);
	for (;;) {
		pid_t c = fork();

		if (c == 0)
			for (;;)
				pause();
		if (c < 0)
			sleep_ms(1);
	}
}

static void cg_kill(void)
{
	int i;
	char buf[64];

	write_file(CG "/cgroup.kill", "1");
	for (i = 0; i < 1000; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (read_file(CG "/pids.current", buf, sizeof(buf)) <= 0 || atoi(buf) == 0)
			break;
		sleep_ms(10);
	}
}

FIXTURE(v2pids)
{
	pid_t lymphd, bomb;
	char lymphd_path[512];
	char hold[256];
};

FIXTURE_SETUP(v2pids)
{
	char buf[256];
	static const char conf[] = "[lymphd]\nmode = enforce\n\n"
				   "[throttle]\nbudget = 5\nburst = 5\n"
				   "dead_time_min = 20ms\ndead_time_max = 1s\nkill_after = 0\n\n"
				   "[weather]\nbudget_factor_stormy = 1\n";

	self->lymphd = self->bomb = 0;
	if (read_file(CGROOT "/cgroup.controllers", buf, sizeof(buf)) < 0 ||
	    !strstr(buf, "pids"))
		SKIP(return, "no cgroup v2 pids controller at " CGROOT);
	if (guest_lymphd_path(self->lymphd_path, sizeof(self->lymphd_path)))
		SKIP(return, "lymphd is not in the VM (not built)");
	kmod_unload();
	ASSERT_EQ(0, kmod_load("")) TH_LOG("insmod: %s", strerror(errno));
	/* CG gets pids.max from the root; its own subtree_control has none */
	write_file(CGROOT "/cgroup.subtree_control", "+pids");
	ASSERT_TRUE(mkdir(CG, 0755) == 0 || errno == EEXIST);
	ASSERT_EQ(0, write_file(CG "/pids.max", "300"));
	ASSERT_EQ(0, pids_enabled_in_cg());
	mkdir(DIR_, 0700);
	unlink(DIR_ "/journal");
	ASSERT_EQ(0, write_file(DIR_ "/lymph.conf", conf));
}

FIXTURE_TEARDOWN(v2pids)
{
	char p[300];

	if (self->lymphd > 0) {
		kill(self->lymphd, SIGTERM);
		waitpid(self->lymphd, NULL, 0);
	}
	cg_kill();
	if (self->hold[0]) {
		snprintf(p, sizeof(p), "%s", self->hold);
		rmdir(p);
	}
	write_file(CG "/cgroup.subtree_control", "-pids");
	rmdir(CG);
	kmod_unload();
}

TEST_F_TIMEOUT(v2pids, restart_takes_back_the_pids_lymphd_enabled, 300)
{
	char out[65536], max[300];
	int i, pinned = 0;

	self->lymphd = guest_lymphd_start(self->lymphd_path, DIR_, DIR_ "/out.0");
	ASSERT_LT(0, self->lymphd) TH_LOG("lymphd did not start: %s", strerror(-self->lymphd));
	self->bomb = bomb_start();
	ASSERT_LT(0, self->bomb);
	snprintf(self->hold, sizeof(self->hold), CG "/lymph.hold.family.%d", (int)self->bomb);
	/* pinned below CG, pids enabled there by lymphd, and journaled */
	snprintf(max, sizeof(max), "%s/pids.max", self->hold);
	for (i = 0; i < 6000 && !pinned; i++) {
		char buf[64];

		/* and the episode journaled (lymphd pins, then journals) */
		pinned = read_file(max, buf, sizeof(buf)) > 0 && buf[0] == '0' &&
			 pids_enabled_in_cg() == 1 &&
			 file_has(DIR_ "/journal", "\"action\":\"throttle\"");
		if (!pinned)
			sleep_ms(10);
	}
	read_file(DIR_ "/out.0", out, sizeof(out));
	ASSERT_TRUE(pinned) TH_LOG("never pinned with pids enabled in " CG ": %s", out);
	EXPECT_TRUE(file_has(DIR_ "/journal", "\"pids_enabled\":true"))
	TH_LOG("the +pids in " CG " is not journaled");

	/* lymphd dies in the middle of the episode; the bomb is killed */
	kill(self->lymphd, SIGKILL);
	waitpid(self->lymphd, NULL, 0);
	self->lymphd = 0;
	cg_kill();
	EXPECT_EQ(1, pids_enabled_in_cg()) TH_LOG("nothing but lymphd takes it back");

	/* lymphd back on the same journal: the episode ends, pids goes */
	self->lymphd = guest_lymphd_start(self->lymphd_path, DIR_, DIR_ "/out.1");
	ASSERT_LT(0, self->lymphd) TH_LOG("lymphd did not start again: %s",
					  strerror(-self->lymphd));
	for (i = 0; i < 6000 && !file_has(DIR_ "/journal", "\"action\":\"recovered\""); i++)
		sleep_ms(10);
	/* pids goes once every hold below is gone, after the records of the
	 * episodes that end (throttler_replay_done): a moment after */
	for (i = 0; i < 500 && pids_enabled_in_cg() != 0; i++)
		sleep_ms(10);
	read_file(DIR_ "/out.1", out, sizeof(out));
	EXPECT_TRUE(file_has(DIR_ "/journal", "\"action\":\"recovered\"")) TH_LOG("%s", out);
	EXPECT_NE(0, access(self->hold, F_OK)) TH_LOG("the hold %s is still there", self->hold);
	EXPECT_EQ(0, pids_enabled_in_cg())
	TH_LOG("pids still enabled in " CG "/cgroup.subtree_control after lymphd's restart: %s",
	       out);
}

/*
 * lymphd killed between its intent to pin and the record after it: the
 * journal's last word on the episode is the "pin" record.  A hold below
 * CG (threaded, pids.max 0, one member) as lymphd left it; with
 * enable_pids, lymphd was about to write the "+pids" (it was not there),
 * without, it was there already (an administrator's).  lymphd --lift-pins
 * (the unit's ExecStopPost=) removes the hold and takes back the "+pids"
 * only when lymphd wrote it.
 */
static void intent_case(struct __test_metadata *_metadata, FIXTURE_DATA(v2pids) * self,
			int enable_pids)
{
	char rec[1024], n[32], out[4096];
	pid_t member;
	int status = -1;

	snprintf(self->hold, sizeof(self->hold), CG "/lymph.hold.family.4242");
	ASSERT_EQ(0, write_file(CG "/cgroup.subtree_control", "+pids"));
	ASSERT_EQ(0, mkdir(self->hold, 0700));
	snprintf(out, sizeof(out), "%s/cgroup.type", self->hold);
	ASSERT_EQ(0, write_file(out, "threaded"));
	snprintf(out, sizeof(out), "%s/pids.max", self->hold);
	ASSERT_EQ(0, write_file(out, "0"));
	member = fork();
	ASSERT_LE(0, member);
	if (member == 0)
		for (;;)
			pause();
	snprintf(n, sizeof(n), "%d", (int)member);
	snprintf(out, sizeof(out), "%s/cgroup.procs", self->hold);
	ASSERT_EQ(0, write_file(out, n));
	snprintf(rec, sizeof(rec),
		 "{\"type\":\"throttle\",\"action\":\"pin\",\"mode\":\"enforce\","
		 "\"lineage\":\"family:4242\",\"kind\":\"family\",\"id\":4242,"
		 "\"dead_time_ms\":20.0,\"holds\":1,\"held_pids\":[],\"hold_cgroup\":\"%s\","
		 "\"parent_cgroup\":\"" CG "\",%s\"result\":\"about to pin\","
		 "\"time\":\"2026-11-30T12:00:00.000Z\",\"ts\":1796040000.0}\n",
		 self->hold, enable_pids ? "\"enable_pids\":true," : "");
	ASSERT_EQ(0, write_file(DIR_ "/journal", rec));

	self->lymphd = fork();
	ASSERT_LE(0, self->lymphd);
	if (self->lymphd == 0) {
		int fd = open(DIR_ "/out.lift", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(self->lymphd_path, "lymphd", "--lift-pins", "-c", DIR_ "/lymph.conf",
		      "--journal=" DIR_ "/journal", "--socket=" DIR_ "/sock", (char *)NULL);
		_exit(127);
	}
	waitpid(self->lymphd, &status, 0);
	self->lymphd = 0;
	read_file(DIR_ "/out.lift", out, sizeof(out));
	EXPECT_EQ(0, status) TH_LOG("lymphd --lift-pins: %s", out);
	EXPECT_TRUE(file_has(DIR_ "/journal", "\"action\":\"recovered\"")) TH_LOG("%s", out);
	EXPECT_NE(0, access(self->hold, F_OK)) TH_LOG("the hold %s is still there", self->hold);
	EXPECT_EQ(enable_pids ? 0 : 1, pids_enabled_in_cg())
	TH_LOG("lymphd --lift-pins %s the +pids in " CG ": %s",
	       enable_pids ? "did not take back" : "took back an administrator's", out);
	kill(member, SIGKILL);
	waitpid(member, NULL, 0);
}

TEST_F_TIMEOUT(v2pids, intent_to_enable_pids_is_taken_back, 120)
{
	intent_case(_metadata, self, 1);
}

TEST_F_TIMEOUT(v2pids, intent_leaves_an_administrators_pids, 120)
{
	intent_case(_metadata, self, 0);
}

TEST_HARNESS_MAIN
