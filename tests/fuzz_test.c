// SPDX-License-Identifier: GPL-2.0-only
/*
 * The libFuzzer targets of tests/fuzz/, each run for a few seconds over its
 * committed corpus (new inputs go to a scratch directory, the corpus in the
 * tree is only read): the journal replay's parser and record checks, and
 * the control request parser, under ASan and UBSan.  A crash, a leak or
 * undefined behaviour fails the test; the input is kept and printed.
 */
#include "helpers.h"
#include "kselftest_harness.h"

#define FUZZ_SECONDS "3"

static void fuzz(struct __test_metadata *_metadata, const char *name)
{
	char prog[PATH_MAX], corpus[PATH_MAX], scratch[256], art[300];
	char *argv[] = { prog,
			 "-max_total_time=" FUZZ_SECONDS,
			 "-timeout=10",
			 "-rss_limit_mb=2048",
			 "-print_final_stats=1",
			 "-verbosity=0",
			 art,
			 scratch,
			 corpus,
			 NULL };
	struct th_cmd_opts o = { .timeout_ms = 60000 };
	struct th_cmd *r = calloc(1, sizeof(*r));
	const char *runs;

	ASSERT_NE(NULL, r);
	snprintf(prog, sizeof(prog), "%s/fuzz/%s_fuzz", th_build_dir(), name);
	ASSERT_EQ(0, access(prog, X_OK)) TH_LOG("%s missing: build it with make tests", prog);
	snprintf(corpus, sizeof(corpus), "tests/fuzz/corpus/%s", name);
	if (access(corpus, R_OK))
		snprintf(corpus, sizeof(corpus), "%s/../tests/fuzz/corpus/%s", th_build_dir(),
			 name);
	ASSERT_EQ(0, access(corpus, R_OK))
	TH_LOG("no corpus for %s: run from the repository's top", name);
	ASSERT_EQ(0, th_mkdtemp(scratch, sizeof(scratch), "fuzz"));
	snprintf(art, sizeof(art), "-artifact_prefix=%s/", scratch);
	EXPECT_EQ(0, th_run(argv, &o, r));
	EXPECT_FALSE(r->timed_out);
	EXPECT_TRUE(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
	TH_LOG("%s failed (wait status 0x%x; the input is in %s):\n%s", name, r->status, scratch,
	       r->err);
	runs = strstr(r->err, "stat::number_of_executed_units:");
	TH_LOG("%s: %s", name, runs ? strtok((char *)runs, "\n") : "no final stats");
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		th_rmdir_flat(scratch);
	free(r);
}

TEST(journal_replay)
{
	fuzz(_metadata, "journal");
}

TEST(control_request)
{
	fuzz(_metadata, "ctlreq");
}

TEST(fleet_message)
{
	fuzz(_metadata, "fleet_msg");
}

TEST_HARNESS_MAIN
