// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/slice: lymphd's [lymphd] latency_slice_us at start.  The slice asked
 * for is the one the thread runs with (Linux 6.12+); a kernel that refuses
 * the call (an old one's EINVAL or E2BIG, a container's EPERM) or takes it
 * and keeps its default (before 6.12) is said once, with what to do, and
 * the caller goes on.  Those kernels are played here by a seccomp filter
 * on sched_setattr in the test's own process (the harness forks one per
 * test): SECCOMP_RET_ERRNO with an errno fails the call, with 0 it
 * "succeeds" without doing anything.  No root needed.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "slice.h"

/* sched_setattr returns -err (0: returns 0 and does nothing) from now on,
 * in this process and what it starts. */
static int setattr_returns(int err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return th_seccomp_one(__NR_sched_setattr,
			      SECCOMP_RET_ERRNO | ((uint32_t)err & SECCOMP_RET_DATA));
}

/* What slice_apply(us) said, into buf; its return in *ns. */
static void apply_said(uint32_t us, uint64_t *ns, char *buf, size_t cap)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	*ns = slice_apply(us, f ? f : stderr);
	if (f)
		fclose(f);
	snprintf(buf, cap, "%s", text ? text : "");
	free(text);
}

static int lines_in(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(the_slice_asked_for_is_the_one_run_with)
{
	int64_t before = slice_of(0);
	uint64_t ns;
	char said[1024];

	if (before <= 0)
		SKIP(return, "the kernel reports no slice (sched_runtime): before Linux 6.12");
	apply_said(0, &ns, said, sizeof(said));
	EXPECT_EQ(0ULL, ns);
	EXPECT_STREQ("", said);
	EXPECT_EQ(before, slice_of(0)) TH_LOG("0 asked for nothing, yet the slice changed");

	apply_said(250, &ns, said, sizeof(said));
	EXPECT_EQ(250000ULL, ns);
	EXPECT_STREQ("", said);
	EXPECT_EQ(250000, slice_of(0));

	/* below the kernel's floor: the floor */
	apply_said(1, &ns, said, sizeof(said));
	EXPECT_EQ((uint64_t)SLICE_SHORT_NS, ns);
	EXPECT_EQ((int64_t)SLICE_SHORT_NS, slice_of(0));
	EXPECT_STREQ("", said);
}

TEST(a_refused_slice_is_said_once_and_not_fatal)
{
	static const int errs[] = { EINVAL, E2BIG, EPERM };
	uint64_t ns;
	char said[1024], want[128];

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		pid_t pid = fork();
		int status;

		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (setattr_returns(errs[i]))
				_exit(2);
			apply_said(100, &ns, said, sizeof(said));
			snprintf(want, sizeof(want),
				 "failed to set latency_slice_us = 100 (sched_setattr: %s)",
				 strerror(errs[i]));
			if (ns || !strstr(said, want) || lines_in(said) != 1 ||
			    !strstr(said, "latency_slice_us = 0")) {
				fprintf(stderr, "# said: %s# want one line with: %s\n", said, want);
				_exit(1);
			}
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("sched_setattr failing with %s: wait status 0x%x", strerror(errs[i]),
		       status);
	}
}

TEST(a_slice_the_kernel_ignores_is_said_once)
{
	uint64_t ns;
	char said[1024];

	/* sched_setattr "succeeds" without a change, as before Linux 6.12 */
	ASSERT_EQ(0, setattr_returns(0));
	apply_said(100, &ns, said, sizeof(said));
	EXPECT_EQ(0ULL, ns);
	EXPECT_EQ(1, lines_in(said)) TH_LOG("said: %s", said);
	EXPECT_NE(NULL, strstr(said, "latency_slice_us = 100 not applied: the kernel kept"))
	TH_LOG("said: %s", said);
	EXPECT_NE(NULL, strstr(said, "Linux 6.12")) TH_LOG("said: %s", said);
}

TEST_HARNESS_MAIN
