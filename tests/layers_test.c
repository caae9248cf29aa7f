// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shape of userspace/ (issue: one shape for lymph): scripts/check-layers
 * passes on the tree, and it does catch what it is for: an include that
 * runs back up the pipeline, lymphctl reaching into the daemon, a .c file
 * included by a test, a source file outside the layer folders.  Each
 * violation is planted in a scratch copy of userspace/ and tests/.
 */
#include "helpers.h"
#include "kselftest_harness.h"

static const char *top_dir(void)
{
	static char top[PATH_MAX];
	char probe[PATH_MAX + 32];

	if (!top[0]) {
		snprintf(top, sizeof(top), "%s/..", th_build_dir());
		snprintf(probe, sizeof(probe), "%s/scripts/check-layers", top);
		if (access(probe, X_OK))
			snprintf(top, sizeof(top), ".");
	}
	return top;
}

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return system(cmd);
}

static void run_check(const char *top, struct th_cmd *r)
{
	char prog[PATH_MAX + 32], dir[PATH_MAX];
	char *argv[] = { prog, dir, NULL };

	snprintf(prog, sizeof(prog), "%s/scripts/check-layers", top_dir());
	snprintf(dir, sizeof(dir), "%s", top);
	th_run(argv, NULL, r);
}

TEST(tree_is_layered)
{
	struct th_cmd *r = calloc(1, sizeof(*r));

	ASSERT_NE(NULL, r);
	run_check(top_dir(), r);
	EXPECT_TRUE(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
	TH_LOG("scripts/check-layers:\n%s%s", r->out, r->err);
	free(r);
}

FIXTURE(copy)
{
	char dir[PATH_MAX];
	struct th_cmd *r;
};

FIXTURE_SETUP(copy)
{
	self->r = calloc(1, sizeof(*self->r));
	ASSERT_NE(NULL, self->r);
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "layers"));
	ASSERT_EQ(0, sh("cp -r '%s/userspace' '%s/'", top_dir(), self->dir));
	ASSERT_EQ(0, sh("cp -r '%s/tests' '%s/'", top_dir(), self->dir));
	ASSERT_EQ(0,
		  sh("mkdir -p '%2$s/bench' && cp '%1$s'/bench/*.c '%1$s'/bench/*.h '%2$s/bench/'",
		     top_dir(), self->dir));
	run_check(self->dir, self->r);
	ASSERT_EQ(0, self->r->status) TH_LOG("the copy is not clean: %s", self->r->out);
}

FIXTURE_TEARDOWN(copy)
{
	th_rmdir_flat(self->dir);
	free(self->r);
}

static void expect_caught(struct __test_metadata *_metadata, struct th_cmd *r, const char *dir,
			  const char *needle)
{
	run_check(dir, r);
	EXPECT_TRUE(WIFEXITED(r->status) && WEXITSTATUS(r->status) != 0)
	TH_LOG("not caught; output: %s", r->out);
	EXPECT_NE(NULL, strstr(r->out, needle)) TH_LOG("output: %s", r->out);
}

TEST_F(copy, include_back_up_is_caught)
{
	ASSERT_EQ(
		0,
		sh("sed -i '0,/#include \"/s//#include \"daemon.h\"\\n#include \"/' '%s/userspace/policy/%s'",
		   self->dir, "classify.c"));
	expect_caught(_metadata, self->r, self->dir, "policy/ includes daemon/daemon.h");
}

TEST_F(copy, lymphctl_into_the_daemon_is_caught)
{
	ASSERT_EQ(
		0,
		sh("sed -i '0,/#include \"/s//#include \"daemon.h\"\\n#include \"/' '%s/userspace/ctl/%s'",
		   self->dir, "lymphctl.c"));
	expect_caught(_metadata, self->r, self->dir, "lymphctl includes daemon/daemon.h");
}

TEST_F(copy, included_c_file_is_caught)
{
	ASSERT_EQ(0, sh("echo '#include \"../userspace/policy/decay.c\"' >> '%s/tests/%s'",
			self->dir, "decay_test.c"));
	expect_caught(_metadata, self->r, self->dir, "includes ../userspace/policy/decay.c");
}

TEST_F(copy, file_outside_the_layers_is_caught)
{
	ASSERT_EQ(0, sh("echo 'int x;' > '%s/userspace/%s'", self->dir, "stray.c"));
	expect_caught(_metadata, self->r, self->dir,
		      "userspace/stray.c: outside the layer folders");
}

TEST_HARNESS_MAIN
