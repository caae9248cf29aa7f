// SPDX-License-Identifier: GPL-2.0-only
/*
 * Clear, single-line errors: bad options to lymphd and lymphctl, a non-root
 * caller of lymphctl (refused by lymphd through SO_PEERCRED even when the
 * socket file is world-writable), and a kernel without usable BTF.  Each
 * must exit non-zero.
 *
 * The bad-option cases run as any user; the others need root.
 */
#include "helpers.h"
#include "kselftest_harness.h"

#define TEST_UID 1000

/* Exactly one stderr line, starting with "PROG: ". */
static void expect_one_error_line(struct __test_metadata *_metadata,
				  const struct th_cmd *r, const char *prog)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "%s: ", prog);
	EXPECT_FALSE(r->timed_out);
	EXPECT_TRUE(th_exited_nonzero(r->status))
		TH_LOG("wait status 0x%x, want a non-zero exit", r->status);
	EXPECT_EQ(1, th_count_lines(r->err)) TH_LOG("stderr: \"%s\"", r->err);
	EXPECT_EQ(0, strncmp(r->err, prefix, strlen(prefix)))
		TH_LOG("stderr does not start with \"%s\": \"%s\"", prefix, r->err);
}

static bool contains_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

/* A socket path no lymphd listens on, so nothing real is ever contacted. */
#define NOSOCK "--socket=/nonexistent/lymph-test/lymphd.sock"

TEST(lymphd_unknown_option)
{
	char prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), NOSOCK,
			 "--bogus", NULL };
	struct th_cmd r;

	ASSERT_EQ(0, th_run(argv, NULL, &r));
	expect_one_error_line(_metadata, &r, "lymphd");
}

TEST(lymphd_bad_source)
{
	char prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), NOSOCK,
			 "--source=nope", NULL };
	struct th_cmd r;

	ASSERT_EQ(0, th_run(argv, NULL, &r));
	expect_one_error_line(_metadata, &r, "lymphd");
	EXPECT_TRUE(contains_ci(r.err, "source") || contains_ci(r.err, "nope"))
		TH_LOG("the error should name the bad value: \"%s\"", r.err);
}

TEST(lymphctl_unknown_command)
{
	char prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphctl", prog, sizeof(prog)), NOSOCK,
			 "frobnicate", NULL };
	struct th_cmd r;

	ASSERT_EQ(0, th_run(argv, NULL, &r));
	expect_one_error_line(_metadata, &r, "lymphctl");
	EXPECT_TRUE(contains_ci(r.err, "frobnicate"))
		TH_LOG("the error should name the bad command: \"%s\"", r.err);
}

/* No BTF: lymphd --source=bpf cannot work and says so, in one line. */
TEST(lymphd_missing_btf)
{
	char prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), NOSOCK,
			 "--source=bpf", NULL };
	char *env[] = { "LYMPH_BTF_PATH=/nonexistent", NULL };
	struct th_cmd_opts o = { .env = env };
	struct th_cmd r;

	if (!th_is_root())
		SKIP(return, "needs root: as a user lymphd fails on privileges first");
	ASSERT_EQ(0, th_run(argv, &o, &r));
	expect_one_error_line(_metadata, &r, "lymphd");
	EXPECT_TRUE(strstr(r.err, "BTF") != NULL)
		TH_LOG("the error should mention BTF: \"%s\"", r.err);
}

/* lymphctl as uid 1000 against a running lymphd whose socket is 0666. */
FIXTURE(daemon)
{
	struct th_lymphd d;
	char bindir[PATH_MAX];
};

FIXTURE_SETUP(daemon)
{
	static const char *const args[] = { "--source=auto", NULL };
	int err;

	th_lymphd_init(&self->d);
	self->bindir[0] = '\0';
	if (!th_is_root())
		SKIP(return, "needs root to run lymphd");
	err = th_lymphd_start(&self->d, args, 20000);
	if (err)
		th_lymphd_destroy(&self->d);
	ASSERT_EQ(0, err) TH_LOG("lymphd did not start");
}

FIXTURE_TEARDOWN(daemon)
{
	th_lymphd_destroy(&self->d);
	th_rmdir_flat(self->bindir);
}

TEST_F(daemon, root_may_ask_status)
{
	json_object *st = th_status(&self->d);

	/* the positive control for the refusal below */
	ASSERT_NE(NULL, st);
	EXPECT_NE(NULL, th_json_str(st, "source"));
	EXPECT_NE(NULL, th_json_get(st, "counters"));
	json_object_put(st);
}

TEST_F(daemon, non_root_lymphctl_refused)
{
	char src[PATH_MAX], dst[PATH_MAX + 16], sockopt[PATH_MAX + 16];
	char *argv[] = { dst, sockopt, "status", "--json", NULL };
	struct th_cmd_opts o = { .as_user = true, .uid = TEST_UID };
	struct th_cmd r;

	/* relax every file mode: only SO_PEERCRED can refuse now */
	ASSERT_EQ(0, chmod(self->d.sock, 0666));
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	/* a copy of lymphctl that uid 1000 can surely execute */
	ASSERT_EQ(0, th_mkdtemp(self->bindir, sizeof(self->bindir), "bin"));
	snprintf(dst, sizeof(dst), "%s/lymphctl", self->bindir);
	ASSERT_EQ(0, th_copy_file(th_prog("lymphctl", src, sizeof(src)), dst, 0755));
	snprintf(sockopt, sizeof(sockopt), "--socket=%s", self->d.sock);

	ASSERT_EQ(0, th_run(argv, &o, &r));
	TH_LOG("as uid %d: wait status 0x%x, stdout \"%.200s\", stderr \"%s\"",
	       TEST_UID, r.status, r.out, r.err);
	EXPECT_FALSE(r.timed_out);
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_TRUE(contains_ci(r.err, "permission") || contains_ci(r.err, "root"));
	EXPECT_EQ(0, strncmp(r.err, "lymphctl: ", 10));
	EXPECT_EQ(NULL, strstr(r.out, "counters"))
		TH_LOG("a non-root caller got status data");
}

TEST_HARNESS_MAIN
