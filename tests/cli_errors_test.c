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
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#define TEST_UID 1000

/* Exactly one stderr line, starting with "PROG: ". */
static void expect_one_error_line(struct __test_metadata *_metadata, const struct th_cmd *r,
				  const char *prog)
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
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), NOSOCK, "--bogus", NULL };
	struct th_cmd r;

	ASSERT_EQ(0, th_run(argv, NULL, &r));
	expect_one_error_line(_metadata, &r, "lymphd");
}

/* An explicit policy file that does not exist is an error, never "valid
 * (0 files)" nor a run on the built-in defaults (issue 17 item 6). */
TEST(lymphd_check_config_missing_file)
{
	char prog[PATH_MAX];
	char *forms[][4] = {
		{ (char *)th_prog("lymphd", prog, sizeof(prog)),
		  "--check-config=/nonexistent/lymph.conf", NULL },
		{ prog, "--check-config", "/nonexistent/lymph.conf", NULL },
		{ prog, "-c", "/nonexistent/lymph.conf", "--check-config" },
	};
	struct th_cmd r;
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char *argv[5] = { forms[i][0], forms[i][1], forms[i][2], forms[i][3], NULL };

		ASSERT_EQ(0, th_run(argv, NULL, &r));
		EXPECT_TRUE(th_exited_nonzero(r.status))
		TH_LOG("form %zu: wait status 0x%x", i, r.status);
		EXPECT_EQ(NULL, strstr(r.out, "valid")) TH_LOG("form %zu: %s", i, r.out);
		EXPECT_NE(NULL, strstr(r.err, "/nonexistent/lymph.conf: cannot read"))
		TH_LOG("form %zu: %s", i, r.err);
	}
}

TEST(lymphd_missing_config_at_start)
{
	char prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)),
			 NOSOCK,
			 "--journal=/nonexistent/lymph-test/journal",
			 "-c",
			 "/nonexistent/lymph.conf",
			 NULL };
	struct th_cmd r;

	if (!th_is_root())
		SKIP(return, "needs root (lymphd refuses non-root callers first)");
	ASSERT_EQ(0, th_run(argv, NULL, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status)) TH_LOG("wait status 0x%x", r.status);
	EXPECT_NE(NULL, strstr(r.err, "/nonexistent/lymph.conf: cannot read")) TH_LOG("%s", r.err);
}

TEST(lymphd_bad_source)
{
	char prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), NOSOCK, "--source=nope",
			 NULL };
	struct th_cmd r;

	ASSERT_EQ(0, th_run(argv, NULL, &r));
	expect_one_error_line(_metadata, &r, "lymphd");
	EXPECT_TRUE(contains_ci(r.err, "source") || contains_ci(r.err, "nope"))
	TH_LOG("the error should name the bad value: \"%s\"", r.err);
}

TEST(lymphctl_unknown_command)
{
	char prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphctl", prog, sizeof(prog)), NOSOCK, "frobnicate",
			 NULL };
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
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), NOSOCK, "--source=bpf",
			 NULL };
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
	TH_LOG("as uid %d: wait status 0x%x, stdout \"%.200s\", stderr \"%s\"", TEST_UID, r.status,
	       r.out, r.err);
	EXPECT_FALSE(r.timed_out);
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_TRUE(contains_ci(r.err, "permission") || contains_ci(r.err, "root"));
	EXPECT_EQ(0, strncmp(r.err, "lymphctl: ", 10));
	EXPECT_EQ(NULL, strstr(r.out, "counters"))
	TH_LOG("a non-root caller got status data");
}

/*
 * The same refusal without lymphctl: a uid-1000 client speaking the control
 * protocol itself ("status\n") gets no status data, so the check is in
 * lymphd (SO_PEERCRED), not only in the client.
 */
TEST_F(daemon, non_root_socket_refused)
{
	char reply[4096] = "";
	int p[2], status = 0;
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(0, chmod(self->d.sock, 0666));
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct timeval tv = { .tv_sec = 5 };
		size_t len = 0;
		int fd;

		close(p[0]);
		if (setgroups(0, NULL) || setresgid(TEST_UID, TEST_UID, TEST_UID) ||
		    setresuid(TEST_UID, TEST_UID, TEST_UID))
			_exit(10);
		if (strlen(self->d.sock) >= sizeof(sa.sun_path))
			_exit(15);
		memcpy(sa.sun_path, self->d.sock, strlen(self->d.sock) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(11);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (send(fd, "status\n", 7, MSG_NOSIGNAL) != 7 && errno != EPIPE &&
		    errno != ECONNRESET)
			_exit(12);
		while (len < sizeof(reply) - 1) {
			n = recv(fd, reply + len, sizeof(reply) - 1 - len, 0);
			if (n < 0 && errno == EAGAIN)
				_exit(13); /* lymphd kept the connection open */
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		if (write(p[1], reply, len) != (ssize_t)len)
			_exit(14);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], reply, sizeof(reply) - 1);
	close(p[0]);
	reply[n > 0 ? n : 0] = '\0';
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("uid %d got: \"%s\"", TEST_UID, reply);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
	TH_LOG("client failed: wait status 0x%x (11: could not connect, "
	       "13: no answer and no close within 5 s)",
	       status);
	EXPECT_EQ(NULL, strstr(reply, "counters"))
	TH_LOG("lymphd sent status data to uid %d", TEST_UID);
}

TEST_HARNESS_MAIN
