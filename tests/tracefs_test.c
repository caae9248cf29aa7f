// SPDX-License-Identifier: GPL-2.0-only
/*
 * tracefs_ensure() (userspace/lib/tracefs.c): where no tracefs is
 * mounted, lymphd mounts one where systemd would, so that the
 * refused-fork probe goes on the fork calls' own tracepoints and not on
 * raw_syscalls:sys_exit (every system call of the host).  Each case runs
 * in a child with a mount namespace of its own: the host's mounts are
 * not touched.  Root.
 */
#include <errno.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "tracefs.h"

#define TRACEFS_MAGIC_NR 0x74726163

static int is_tracefs(const char *dir)
{
	struct statfs s;

	return statfs(dir, &s) == 0 && (unsigned long)s.f_type == TRACEFS_MAGIC_NR;
}

/* A private mount namespace with no tracefs anywhere: 0, or why not. */
static int private_ns_without_tracefs(void)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return 10;
	/* debugfs's tracing/ is an automount of tracefs: both go */
	umount2("/sys/kernel/debug/tracing", MNT_DETACH);
	umount2("/sys/kernel/debug", MNT_DETACH);
	while (is_tracefs(TRACEFS_DIR))
		if (umount2(TRACEFS_DIR, MNT_DETACH))
			return 11;
	return 0;
}

/* Run fn in a child (its exit code: 0 ok, else the step that failed). */
static int in_child(int (*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static int mounts_where_none_was(void)
{
	int err = private_ns_without_tracefs();

	if (err)
		return err;
	if (is_tracefs(TRACEFS_DIR))
		return 12;
	if (tracefs_ensure() != 1)	/* mounted by this call */
		return 13;
	if (!is_tracefs(TRACEFS_DIR))
		return 14;
	if (access(TRACEFS_DIR "/events", F_OK))
		return 15;
	if (tracefs_ensure() != 0)	/* there now: nothing more */
		return 16;
	return 0;
}

static int leaves_a_mounted_one_alone(void)
{
	int err = private_ns_without_tracefs();

	if (err)
		return err;
	if (mount("tracefs", TRACEFS_DIR, "tracefs", 0, NULL))
		return 20;
	if (tracefs_ensure() != 0)
		return 21;
	/* one mount, not two stacked: after one umount none is left */
	if (umount2(TRACEFS_DIR, 0) || is_tracefs(TRACEFS_DIR))
		return 22;
	return 0;
}

static int says_why_it_could_not(void)
{
	cap_value_t admin = CAP_SYS_ADMIN;
	cap_t caps;
	int err = private_ns_without_tracefs();

	if (err)
		return err;
	/* without CAP_SYS_ADMIN (a lymphd started without it): -EPERM */
	caps = cap_get_proc();
	if (!caps || cap_set_flag(caps, CAP_EFFECTIVE, 1, &admin, CAP_CLEAR) || cap_set_proc(caps))
		return 30;
	cap_free(caps);
	err = tracefs_ensure();
	if (err != -EPERM)
		return 31;
	if (is_tracefs(TRACEFS_DIR))
		return 32;
	return 0;
}

#define NEED_ROOT_AND_TRACEFS()                                                          \
	do {                                                                             \
		if (geteuid() != 0)                                                      \
			SKIP(return, "needs root (a mount namespace of its own, mount)");   \
		if (access(TRACEFS_DIR, F_OK))                                           \
			SKIP(return, "the kernel has no tracefs (no " TRACEFS_DIR ")");     \
	} while (0)

TEST(mounts_tracefs_where_none_was)
{
	NEED_ROOT_AND_TRACEFS();
	EXPECT_EQ(0, in_child(mounts_where_none_was));
}

TEST(leaves_a_mounted_tracefs_alone)
{
	NEED_ROOT_AND_TRACEFS();
	EXPECT_EQ(0, in_child(leaves_a_mounted_one_alone));
}

TEST(fails_with_the_reason_without_cap_sys_admin)
{
	NEED_ROOT_AND_TRACEFS();
	EXPECT_EQ(0, in_child(says_why_it_could_not));
}

TEST_HARNESS_MAIN
