// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymphd as a Type=notify service, with the test in systemd's place: it
 * binds a unix datagram socket of its own, starts lymphd with
 * NOTIFY_SOCKET (a path, or an abstract @name) and WATCHDOG_USEC, and reads
 * what lymphd tells it (sd_notify protocol):
 *
 *   READY=1 (with STATUS=source ...), only once the control socket answers
 *   RELOADING=1 + MONOTONIC_USEC=N, then READY=1, around `lymphctl reload`
 *   (accepted or refused) and SIGHUP
 *   WATCHDOG=1 about every half WATCHDOG_USEC, none when WATCHDOG_PID is
 *   another process
 *   STOPPING=1 on SIGTERM, then exit 0
 *
 * and a second lymphd started on a control socket that another lymphd
 * answers fails as a unit must: exit 1, one clear line, never READY=1.
 */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "helpers.h"

#define WAIT_MS 120000 /* lymphd's start on a loaded host (once over 60 s here) */

FIXTURE(notify)
{
	char dir[256];
	char notify_path[PATH_MAX]; /* NOTIFY_SOCKET's value */
	char conf[PATH_MAX], journal[PATH_MAX], sock[PATH_MAX], errpath[PATH_MAX];
	int nfd;   /* our "systemd" end */
	pid_t pid; /* lymphd */
};

/* Bind the datagram socket lymphd will write to: a file in dir, or an
 * abstract name when abstract is set. */
static int bind_notify(FIXTURE_DATA(notify) * self, bool abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	size_t n;

	if (abstract)
		snprintf(self->notify_path, sizeof(self->notify_path), "@lymph-notify-test-%d",
			 (int)getpid());
	else
		snprintf(self->notify_path, sizeof(self->notify_path), "%s/notify", self->dir);
	n = strlen(self->notify_path);
	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, self->notify_path, n);
	if (abstract)
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + !abstract);
	self->nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (self->nfd < 0)
		return -errno;
	if (bind(self->nfd, (struct sockaddr *)&sa, len))
		return -errno;
	return 0;
}

/* Next datagram within ms, NUL-terminated in buf; 0, or -ETIMEDOUT. */
static int recv_msg(FIXTURE_DATA(notify) * self, char *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = self->nfd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	n = recv(self->nfd, buf, cap - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Does msg have the line "line" (whole)? */
static bool has_line(const char *msg, const char *line)
{
	size_t n = strlen(line);
	const char *p = msg;

	while ((p = strstr(p, line))) {
		if ((p == msg || p[-1] == '\n') && (p[n] == '\0' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

/* Wait up to ms for a message with the line; the ones before it are
 * appended to seen (when not NULL). */
static int wait_line(FIXTURE_DATA(notify) * self, const char *line, int ms, char *got, size_t cap,
		     char *seen, size_t seen_cap)
{
	int64_t deadline = th_now_ms() + ms;

	while (th_now_ms() < deadline) {
		if (recv_msg(self, got, cap, (int)(deadline - th_now_ms())))
			break;
		if (has_line(got, line))
			return 0;
		if (seen && strlen(seen) + strlen(got) + 2 < seen_cap) {
			strcat(seen, got);
			strcat(seen, "|");
		}
	}
	return -ETIMEDOUT;
}

/* Start lymphd (observe mode, private socket and journal, --quiet) with
 * NOTIFY_SOCKET and the given watchdog environment; stderr to a file. */
static pid_t start_lymphd(FIXTURE_DATA(notify) * self, const char *watchdog_usec,
			  const char *watchdog_pid)
{
	char prog[PATH_MAX], copt[PATH_MAX + 8], jopt[PATH_MAX + 16], sopt[PATH_MAX + 16];
	pid_t pid;

	th_prog("lymphd", prog, sizeof(prog));
	snprintf(copt, sizeof(copt), "%s", self->conf);
	snprintf(jopt, sizeof(jopt), "--journal=%s", self->journal);
	snprintf(sopt, sizeof(sopt), "--socket=%s", self->sock);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int e = open(self->errpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		if (e >= 0)
			dup2(e, 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("NOTIFY_SOCKET", self->notify_path, 1);
		if (watchdog_usec)
			setenv("WATCHDOG_USEC", watchdog_usec, 1);
		if (watchdog_pid)
			setenv("WATCHDOG_PID", watchdog_pid, 1);
		execl(prog, prog, "-c", copt, jopt, sopt, "--quiet", (char *)NULL);
		dprintf(2, "failed to exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	return pid;
}

/* `lymphctl --socket=SOCK ARGS`: its wait status, output in r. */
static int ctl(FIXTURE_DATA(notify) * self, struct th_cmd *r, const char *a1, const char *a2)
{
	char prog[PATH_MAX], sopt[PATH_MAX + 16];
	char *argv[] = { (char *)th_prog("lymphctl", prog, sizeof(prog)), sopt, (char *)a1,
			 (char *)a2, NULL };

	snprintf(sopt, sizeof(sopt), "--socket=%s", self->sock);
	if (th_run(argv, NULL, r))
		return -1;
	return r->status;
}

static void dump_stderr(FIXTURE_DATA(notify) * self)
{
	char line[512];
	FILE *f = fopen(self->errpath, "re");

	while (f && fgets(line, sizeof(line), f))
		th_diag("lymphd stderr: %s", strtok(line, "\n") ? line : "");
	if (f)
		fclose(f);
}

/* Does lymphd's stderr (so far) have a line containing text? */
static bool stderr_has(FIXTURE_DATA(notify) * self, const char *text)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(self->errpath, "re");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

static int write_conf(FIXTURE_DATA(notify) * self, const char *text)
{
	int fd = open(self->conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n = (ssize_t)strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

/* SIGTERM, then SIGKILL after 10 s; the wait status. */
static int stop_lymphd(pid_t pid)
{
	int status = -1;
	int64_t deadline = th_now_ms() + 10000;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (th_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		th_sleep_ms(10);
	}
	return status;
}

FIXTURE_SETUP(notify)
{
	self->nfd = -EBADF;
	self->pid = -1;
	self->dir[0] = '\0';
	if (!th_is_root())
		SKIP(return, "needs root to run lymphd");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "notify"));
	snprintf(self->conf, sizeof(self->conf), "%s/lymph.conf", self->dir);
	snprintf(self->journal, sizeof(self->journal), "%s/journal", self->dir);
	snprintf(self->sock, sizeof(self->sock), "%s/lymphd.sock", self->dir);
	snprintf(self->errpath, sizeof(self->errpath), "%s/lymphd.stderr", self->dir);
	ASSERT_EQ(0, write_conf(self, "[lymphd]\nmode = observe\n"));
}

FIXTURE_TEARDOWN(notify)
{
	if (self->pid > 0)
		stop_lymphd(self->pid);
	if (self->nfd >= 0)
		close(self->nfd);
	th_rmdir_flat(self->dir);
}

/*
 * The whole life: READY=1 first and only when the control socket answers,
 * watchdog pings, RELOADING/READY around a reload (accepted, refused, and
 * by SIGHUP), STOPPING=1 on SIGTERM, exit 0.
 */
static void life(struct __test_metadata *_metadata, FIXTURE_DATA(notify) * self, bool abstract)
{
	char msg[1024], seen[4096] = "";
	struct th_cmd *r = calloc(1, sizeof(*r));
	unsigned long long mono;
	const char *p;
	int64_t t0, t1;
	struct timespec ts;
	int status, pings;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, bind_notify(self, abstract));
	self->pid = start_lymphd(self, "1000000", NULL); /* 1 s: a ping every ~0.5 s */
	ASSERT_GT(self->pid, 0);

	/* The first message is READY=1, and then lymphd answers at once. */
	if (recv_msg(self, msg, sizeof(msg), WAIT_MS)) {
		dump_stderr(self);
		ASSERT_TRUE(false) TH_LOG("no message from lymphd within %d ms", WAIT_MS);
	}
	EXPECT_TRUE(has_line(msg, "READY=1")) TH_LOG("first message: '%s'", msg);
	/* lymphd prints its start line (every response armed) before READY=1. */
	EXPECT_TRUE(stderr_has(self, "control socket"))
	{
		dump_stderr(self);
	}
	EXPECT_NE(NULL, strstr(msg, "STATUS=source ")) TH_LOG("first message: '%s'", msg);
	EXPECT_EQ(0, ctl(self, r, "status", "--json"))
	TH_LOG("lymphctl status after READY=1: %s", r->err);
	EXPECT_NE(NULL, strstr(r->out, "\"source\"")) TH_LOG("status: %.200s", r->out);

	/* Watchdog: pings keep coming, about every half second. */
	t0 = th_now_ms();
	for (pings = 0; pings < 4; pings++)
		if (wait_line(self, "WATCHDOG=1", 5000, msg, sizeof(msg), seen, sizeof(seen)))
			break;
	t1 = th_now_ms();
	EXPECT_EQ(4, pings)
	TH_LOG("WATCHDOG=1 pings received: %d (other messages: %s)", pings, seen);
	th_diag("4 watchdog pings in %lld ms (WATCHDOG_USEC=1000000)", (long long)(t1 - t0));

	/* lymphctl reload: RELOADING=1 with MONOTONIC_USEC, then READY=1. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ASSERT_EQ(0, ctl(self, r, "reload", NULL)) TH_LOG("lymphctl reload: %s %s", r->out, r->err);
	seen[0] = '\0';
	ASSERT_EQ(0, wait_line(self, "RELOADING=1", 5000, msg, sizeof(msg), seen, sizeof(seen)))
	TH_LOG("no RELOADING=1 after lymphctl reload (got: %s)", seen);
	p = strstr(msg, "MONOTONIC_USEC=");
	ASSERT_NE(NULL, p) TH_LOG("RELOADING=1 without MONOTONIC_USEC: '%s'", msg);
	mono = strtoull(p + strlen("MONOTONIC_USEC="), NULL, 10);
	EXPECT_GE(mono, (unsigned long long)ts.tv_sec * 1000000ULL +
				(unsigned long long)ts.tv_nsec / 1000ULL)
	TH_LOG("MONOTONIC_USEC=%llu is before the reload was asked for", mono);
	EXPECT_EQ(0, wait_line(self, "READY=1", 5000, msg, sizeof(msg), NULL, 0))
	TH_LOG("no READY=1 after RELOADING=1");

	/* A refused reload (invalid policy) ends in READY=1 too. */
	ASSERT_EQ(0, write_conf(self, "[lymphd]\nmode = sideways\n"));
	EXPECT_NE(0, ctl(self, r, "reload", NULL)) TH_LOG("an invalid policy was accepted");
	EXPECT_EQ(0, wait_line(self, "RELOADING=1", 5000, msg, sizeof(msg), NULL, 0));
	EXPECT_EQ(0, wait_line(self, "READY=1", 5000, msg, sizeof(msg), NULL, 0))
	TH_LOG("no READY=1 after a refused reload");
	ASSERT_EQ(0, write_conf(self, "[lymphd]\nmode = observe\n"));

	/* SIGHUP reloads the same way. */
	kill(self->pid, SIGHUP);
	EXPECT_EQ(0, wait_line(self, "RELOADING=1", 5000, msg, sizeof(msg), NULL, 0))
	TH_LOG("SIGHUP");
	EXPECT_EQ(0, wait_line(self, "READY=1", 5000, msg, sizeof(msg), NULL, 0)) TH_LOG("SIGHUP");

	/* SIGTERM: STOPPING=1, then a clean exit. */
	kill(self->pid, SIGTERM);
	seen[0] = '\0';
	EXPECT_EQ(0, wait_line(self, "STOPPING=1", 10000, msg, sizeof(msg), seen, sizeof(seen)))
	TH_LOG("no STOPPING=1 after SIGTERM (got: %s)", seen);
	status = stop_lymphd(self->pid);
	self->pid = -1;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
	TH_LOG("wait status 0x%x", status);
	free(r);
}

TEST_F_TIMEOUT(notify, ready_reload_watchdog_stopping, 240)
{
	life(_metadata, self, false);
}

TEST_F_TIMEOUT(notify, abstract_socket_name, 240)
{
	life(_metadata, self, true);
}

/* WATCHDOG_PID names another process: the watchdog is not lymphd's. */
TEST_F_TIMEOUT(notify, watchdog_for_another_pid_is_ignored, 180)
{
	char msg[1024], seen[4096] = "";

	ASSERT_EQ(0, bind_notify(self, false));
	self->pid = start_lymphd(self, "1000000", "1");
	ASSERT_GT(self->pid, 0);
	ASSERT_EQ(0, wait_line(self, "READY=1", WAIT_MS, msg, sizeof(msg), NULL, 0))
	{
		dump_stderr(self);
	}
	EXPECT_EQ(-ETIMEDOUT,
		  wait_line(self, "WATCHDOG=1", 3000, msg, sizeof(msg), seen, sizeof(seen)))
	TH_LOG("WATCHDOG=1 sent although WATCHDOG_PID=1");
}

/*
 * A second lymphd (as a second unit would be) on a control socket that a
 * running lymphd answers: exit status 1, one line naming the socket and
 * what to do, and no READY=1 (systemd gets STATUS= and ERRNO= instead).
 */
TEST_F_TIMEOUT(notify, second_instance_fails_clearly, 300)
{
	char msg[1024], seen[4096] = "", line[1024] = "";
	pid_t second;
	int status = -1;
	int64_t deadline;
	FILE *f;

	ASSERT_EQ(0, bind_notify(self, false));
	self->pid = start_lymphd(self, NULL, NULL);
	ASSERT_GT(self->pid, 0);
	ASSERT_EQ(0, wait_line(self, "READY=1", WAIT_MS, msg, sizeof(msg), NULL, 0))
	{
		dump_stderr(self);
	}
	/* The first one's stderr is done with: the file is the second's now. */
	ASSERT_EQ(0, truncate(self->errpath, 0));

	second = start_lymphd(self, NULL, NULL);
	ASSERT_GT(second, 0);
	deadline = th_now_ms() + WAIT_MS;
	while (waitpid(second, &status, WNOHANG) == 0 && th_now_ms() < deadline)
		th_sleep_ms(20);
	if (th_now_ms() >= deadline) {
		kill(second, SIGKILL);
		waitpid(second, &status, 0);
		ASSERT_TRUE(false) TH_LOG("the second lymphd kept running beside the first");
	}
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1)
	TH_LOG("wait status 0x%x", status);

	f = fopen(self->errpath, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "another lymphd is running"))
			break;
	fclose(f);
	EXPECT_NE(NULL, strstr(line, "another lymphd is running"))
	{
		dump_stderr(self);
	}
	EXPECT_NE(NULL, strstr(line, self->sock)) TH_LOG("'%s' does not name the socket", line);

	/* What it told "systemd": a failure, never READY=1. */
	while (!recv_msg(self, msg, sizeof(msg), 1000)) {
		EXPECT_FALSE(has_line(msg, "READY=1")) TH_LOG("the second lymphd said READY=1");
		if (strlen(seen) + strlen(msg) + 2 < sizeof(seen)) {
			strcat(seen, msg);
			strcat(seen, "|");
		}
	}
	EXPECT_NE(NULL, strstr(seen, "ERRNO=98"))
	TH_LOG("no ERRNO=98 (EADDRINUSE) from the second lymphd: %s", seen);

	/* The first one still answers. */
	{
		struct th_cmd *r = calloc(1, sizeof(*r));

		ASSERT_NE(NULL, r);
		EXPECT_EQ(0, ctl(self, r, "status", "--json")) TH_LOG("%s", r->err);
		free(r);
	}
}

TEST_HARNESS_MAIN
