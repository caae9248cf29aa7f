// SPDX-License-Identifier: GPL-2.0-only
/*
 * Service restart end to end, as root: a real lymphd (enforce mode, private
 * policy, journal and socket) supervising a real TCP echo daemon
 * (tests/echod.c, compiled at fixture setup) that is crashed with a real
 * SIGSEGV.  It serves again; the backoff grows across crashes and resets
 * after healthy uptime; the breaker opens and retries after its cool-down; a
 * restart that does not heal is detected; on_failure gets the LYMPH_*
 * variables; a SIGKILLed lymphd resumes mid-backoff from its journal; observe
 * mode restarts nothing and journals what it would have done; the started
 * service has no capabilities and its own session; lymphctl restart, reset
 * and reload behave.  Durations are short; every wait is a generous
 * timeout, never a timing assertion.
 */
/* the harness compares its int literals with our unsigned fields */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <dirent.h>
#include <grp.h>
#include <math.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "svc_helpers.h"
#include <stddef.h>
#include <sys/un.h>

#define WAIT_MS 30000 /* generous: the host may be busy with other tests */

/* ---- the echo daemon ---------------------------------------------------- */

static int echo_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send a line, read one line back; 0 or -1. */
static int echo_ask(int port, const char *req, char *reply, size_t cap)
{
	size_t len = 0;
	int fd = echo_connect(port);

	if (fd < 0)
		return -1;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		close(fd);
		return -1;
	}
	while (len + 1 < cap) {
		ssize_t n = recv(fd, reply + len, cap - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
		reply[len] = 0;
		if (strchr(reply, '\n'))
			break;
	}
	close(fd);
	reply[len] = 0;
	if (!strchr(reply, '\n'))
		return -1;
	*strchr(reply, '\n') = 0;
	return 0;
}

/* The pid of the echod serving port (it echoes too), or -1. */
static pid_t echo_pid(int port)
{
	char buf[64];
	int pid;

	if (echo_ask(port, "hello lymph", buf, sizeof(buf)) || strcmp(buf, "hello lymph"))
		return -1;
	if (echo_ask(port, "pid", buf, sizeof(buf)) || sscanf(buf, "pid %d", &pid) != 1)
		return -1;
	return pid;
}

/* Serving again, by another process than old: its pid, or -1 after timeout. */
static pid_t wait_serving(int port, pid_t old, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;

	do {
		pid_t pid = echo_pid(port);

		if (pid > 0 && pid != old)
			return pid;
		th_sleep_ms(20);
	} while (th_now_ms() < deadline);
	return -1;
}

/* Make the echod on port run cmd ("crash", "exit 3"); wait until its
 * connection closes (the process is gone).  0 or -1. */
static int echo_kill_with(int port, const char *cmd)
{
	char buf[64];
	int fd = echo_connect(port);
	ssize_t n;

	if (fd < 0)
		return -1;
	if (send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		close(fd);
		return -1;
	}
	n = recv(fd, buf, sizeof(buf), 0); /* 0 (EOF) or ECONNRESET when it dies */
	close(fd);
	return n > 0 ? -1 : 0;
}

/* ---- the fixture -------------------------------------------------------- */

FIXTURE(svc)
{
	SVC_FIXTURE_FIELDS; /* dir: root-owned 0755: policy, journal, echod, hook */
	char echod[320], log[320], hook[320], hookout[320];
	int port;
};

/*
 * The policy: enforce (or mode), one service "echo" running DIR/echod PORT,
 * quarantine out of the way (these tests crash one binary again and again),
 * the weather kept out of the backoff (other tests and benches on the host
 * may make it stormy, which stretches every delay), the fork throttle out of
 * the way (it may hold forks of the test's session), and extra lines for the
 * service.
 */
static int write_policy_args(FIXTURE_DATA(svc) * self, const char *mode, const char *args,
			     const char *extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "[lymphd]\n"
		 "mode = %s\n" SVC_QUIET_RESPONDERS "[service echo]\n"
		 "start = %s %d%s\n"
		 "exe = %s\n"
		 "log = %s\n"
		 "env = ECHOD_DIE_WITH_PARENT=1\n"
		 "%s",
		 mode, self->echod, self->port, args, self->echod, self->log, extra);
	return th_write_file(self->conf, text, 0644);
}

static int write_policy(FIXTURE_DATA(svc) * self, const char *mode, const char *extra)
{
	return write_policy_args(self, mode, "", extra);
}

static int start_lymphd(FIXTURE_DATA(svc) * self, const char *extra_arg)
{
	return SVC_FIXTURE_START(self, extra_arg, WAIT_MS);
}

static void stop_lymphd(FIXTURE_DATA(svc) * self)
{
	SVC_FIXTURE_STOP(self);
}

FIXTURE_SETUP(svc)
{
	SVC_FIXTURE_SETUP(self, "svc", "needs root: lymphd loads BPF and starts services");
	snprintf(self->echod, sizeof(self->echod), "%s/echod", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/echod.log", self->dir);
	snprintf(self->hook, sizeof(self->hook), "%s/hook", self->dir);
	snprintf(self->hookout, sizeof(self->hookout), "%s/hook.out", self->dir);
	ASSERT_EQ(0, svc_build_prog("echod", self->echod));
	self->port = free_port();
	ASSERT_GT(self->port, 0);
}

FIXTURE_TEARDOWN(svc)
{
	if (!self->dir[0])
		return;
	stop_lymphd(self);
	/* lymphd leaves its services running when it stops: kill ours */
	svc_kill_exe(self->echod);
	th_sleep_ms(50);
	svc_rmdir(self->dir);
}

/* Start lymphd with the policy and wait until echo serves; its pid. */
static pid_t up_and_serving(FIXTURE_DATA(svc) * self, const char *extra_arg)
{
	json_object *s;
	pid_t pid;

	if (start_lymphd(self, extra_arg))
		return -1;
	s = wait_service(&self->d, "echo", "running", 0, WAIT_MS);
	json_object_put(s);
	pid = wait_serving(self->port, 0, WAIT_MS);
	if (pid <= 0) {
		th_diag("echod never served on port %d", self->port);
		th_lymphd_dump_stderr(&self->d);
	}
	return pid;
}

/* ---- tests -------------------------------------------------------------- */

TEST_F_TIMEOUT(svc, sigsegv_crash_is_healed, 180)
{
	json_object *s, *f, *recs;
	char extra[256];
	pid_t pid0, pid1;

	/* verified by a connection to its port */
	snprintf(extra, sizeof(extra), "backoff_min = 100ms\nsettle = 200ms\ncheck_port = %d\n",
		 self->port);
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	pid0 = up_and_serving(self, NULL);
	ASSERT_GT(pid0, 0);
	s = service_json(&self->d, "echo");
	ASSERT_NE(NULL, s);
	EXPECT_EQ(pid0, th_json_int(s, "pid"));
	EXPECT_EQ(0, th_json_int(s, "restarts"));
	EXPECT_EQ(0, th_json_int(s, "failures"));
	json_object_put(s);

	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	pid1 = wait_serving(self->port, pid0, WAIT_MS);
	ASSERT_GT(pid1, 0) TH_LOG("not serving again after the crash");
	s = wait_service(&self->d, "echo", "running", 1, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(pid1, th_json_int(s, "pid"));
	EXPECT_EQ(1, th_json_int(s, "restarts"));
	EXPECT_EQ(1, th_json_int(s, "failures"));
	f = th_json_get(s, "last_failure");
	ASSERT_NE(NULL, f) TH_LOG("%s", th_json_text(s));
	EXPECT_STREQ("danger", th_json_str(f, "class") ?: "");
	EXPECT_STREQ("fault", th_json_str(f, "reason") ?: "");
	EXPECT_STREQ("SIGSEGV", th_json_str(f, "signal") ?: "");
	EXPECT_STREQ("SEGV_MAPERR", th_json_str(f, "si_code_name") ?: "");
	EXPECT_EQ(1, th_json_int(f, "si_code")); /* SEGV_MAPERR */
	EXPECT_EQ(0, th_json_int(f, "fault_addr"));
	EXPECT_EQ(pid0, th_json_int(f, "pid"));
	EXPECT_STREQ(self->echod, th_json_str(f, "exe") ?: "");
	json_object_put(s);

	/* journaled: start, died (with why), restart, verified */
	EXPECT_EQ(1, journal_count(self->journal, "echo", "start"));
	recs = journal_records(self->journal, "echo", "died");
	ASSERT_EQ(1, json_object_array_length(recs)) TH_LOG("want one died record");
	{
		json_object *r = json_object_array_get_idx(recs, 0), *why = th_json_get(r, "why"),
			    *st = th_json_get(r, "state");

		EXPECT_STREQ("enforce", th_json_str(r, "mode") ?: "");
		ASSERT_NE(NULL, why);
		EXPECT_STREQ("SIGSEGV", th_json_str(why, "signal") ?: "");
		EXPECT_EQ(pid0, th_json_int(why, "pid"));
		ASSERT_NE(NULL, st);
		EXPECT_STREQ("backoff", th_json_str(st, "phase") ?: "");
		EXPECT_EQ(1, th_json_int(st, "failures"));
		EXPECT_NE(NULL, th_json_str(r, "result"));
	}
	json_object_put(recs);
	EXPECT_EQ(1, journal_count(self->journal, "echo", "restart"));
	EXPECT_LE(2, journal_count(self->journal, "echo", "verified"));
	/* echod leaves nothing behind: its own corpse (reported at its exit,
	 * before it is reaped) is not "killed 1 process left behind" */
	EXPECT_EQ(0, journal_count(self->journal, "echo", "killed-rest"));
}

/* delay_s after failure k is backoff_min * 2^(k-1), +-20 %. */
static void expect_delay(struct __test_metadata *_metadata, json_object *s, double min_s, int k)
{
	double want = min_s * (double)(1 << (k - 1)), got = json_dbl(s, "delay_s");

	EXPECT_GE(got, want * 0.8 - 1e-3)
	TH_LOG("failure %d: delay %.3f s, want %.3f s +-20%%", k, got, want);
	EXPECT_LE(got, want * 1.2 + 1e-3)
	TH_LOG("failure %d: delay %.3f s, want %.3f s +-20%%", k, got, want);
}

TEST_F_TIMEOUT(svc, backoff_grows_then_resets_after_healthy_uptime, 180)
{
	json_object *s;
	pid_t pid;

	ASSERT_EQ(0, write_policy(self, "enforce",
				  "backoff_min = 300ms\nbackoff_max = 10s\nsettle = 100ms\n"
				  "healthy_after = 2s\nbreaker_failures = 20\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	for (int k = 1; k <= 3; k++) {
		ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
		s = wait_service(&self->d, "echo", NULL, k, WAIT_MS);
		ASSERT_NE(NULL, s);
		EXPECT_EQ(k, th_json_int(s, "failures")) TH_LOG("%s", th_json_text(s));
		expect_delay(_metadata, s, 0.3, k);
		json_object_put(s);
		/* crash again as soon as it serves: before healthy_after */
		pid = wait_serving(self->port, pid, WAIT_MS);
		ASSERT_GT(pid, 0) TH_LOG("not serving after crash %d", k);
	}
	/* healthy for healthy_after: the failure count resets */
	s = wait_service(&self->d, "echo", "running", 0, WAIT_MS);
	json_object_put(s);
	{
		int64_t deadline = th_now_ms() + WAIT_MS;

		do {
			s = service_json(&self->d, "echo");
			if (s && th_json_int(s, "failures") == 0)
				break;
			json_object_put(s);
			s = NULL;
			th_sleep_ms(100);
		} while (th_now_ms() < deadline);
	}
	ASSERT_NE(NULL, s) TH_LOG("failures never reset after healthy uptime");
	EXPECT_EQ(0, th_json_int(s, "recent_failures"));
	EXPECT_EQ(3, th_json_int(s, "restarts"));
	json_object_put(s);
	EXPECT_EQ(1, journal_count(self->journal, "echo", "healthy"));
	/* the next crash backs off from the minimum again */
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	s = wait_service(&self->d, "echo", NULL, 1, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(1, th_json_int(s, "failures"));
	expect_delay(_metadata, s, 0.3, 1);
	json_object_put(s);
	EXPECT_GT(wait_serving(self->port, pid, WAIT_MS), 0);
}

TEST_F_TIMEOUT(svc, breaker_opens_then_retries_after_cooldown, 180)
{
	json_object *s;
	pid_t pid;

	ASSERT_EQ(0,
		  write_policy(
			  self, "enforce",
			  "backoff_min = 100ms\nbackoff_max = 200ms\nsettle = 100ms\n"
			  "breaker_failures = 3\nbreaker_window = 60s\nbreaker_cooldown = 4s\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	for (int k = 1; k <= 2; k++) {
		ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
		pid = wait_serving(self->port, pid, WAIT_MS);
		ASSERT_GT(pid, 0) TH_LOG("not serving after crash %d", k);
	}
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	s = wait_service(&self->d, "echo", "broken", 3, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(3, th_json_int(s, "recent_failures"));
	EXPECT_GT(json_dbl(s, "next_action_in_s"), 0.5) TH_LOG("%s", th_json_text(s));
	EXPECT_LE(json_dbl(s, "next_action_in_s"), 4.0);
	json_object_put(s);
	EXPECT_EQ(1, journal_count(self->journal, "echo", "broken"));
	/* open: nothing restarts it during the cool-down */
	th_sleep_ms(500);
	EXPECT_EQ(-1, echo_pid(self->port));
	s = service_json(&self->d, "echo");
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("broken", th_json_str(s, "state") ?: "");
	json_object_put(s);
	/* after the cool-down: retried, and serving */
	pid = wait_serving(self->port, pid, WAIT_MS);
	EXPECT_GT(pid, 0) TH_LOG("not retried after the cool-down");
	s = wait_service(&self->d, "echo", "running", 3, WAIT_MS);
	EXPECT_NE(NULL, s);
	json_object_put(s);
}

TEST_F_TIMEOUT(svc, restart_that_does_not_heal_is_detected, 180)
{
	json_object *s, *recs;
	char extra[256];
	pid_t pids[64];
	int other = free_port();

	ASSERT_GT(other, 0);
	ASSERT_NE(self->port, other);
	/* it listens on port, but the check wants another: never healthy */
	snprintf(
		extra, sizeof(extra),
		"backoff_min = 200ms\nbackoff_max = 400ms\nsettle = 200ms\nbreaker_failures = 100\n"
		"start_timeout = 200ms\ncheck_port = %d\n",
		other);
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	ASSERT_EQ(0, start_lymphd(self, NULL));
	s = wait_service(&self->d, "echo", NULL, 2, WAIT_MS);
	ASSERT_NE(NULL, s);
	json_object_put(s);
	s = wait_service(&self->d, "echo", "backoff", 2, WAIT_MS);
	EXPECT_NE(NULL, s);
	json_object_put(s);
	recs = journal_records(self->journal, "echo", "not-healed");
	ASSERT_LE(1, json_object_array_length(recs)) TH_LOG("want a not-healed record");
	{
		json_object *r = json_object_array_get_idx(recs, 0);
		char want[64];

		snprintf(want, sizeof(want), "port %d does not accept connections", other);
		EXPECT_STREQ(want, th_json_str(r, "result") ?: "");
		EXPECT_STREQ("backoff", th_json_str(th_json_get(r, "state"), "phase") ?: "");
	}
	json_object_put(recs);
	/* the instance that did not heal was stopped, not left running beside
	 * the next one (which then could not listen) */
	s = wait_service(&self->d, "echo", NULL, 4, WAIT_MS);
	EXPECT_NE(NULL, s);
	json_object_put(s);
	EXPECT_GE(1, pids_of(self->echod, pids, 64)) TH_LOG("more than one echod runs");
	{
		char log[4096] = "";

		th_read_file(self->log, log, sizeof(log));
		EXPECT_EQ(NULL, strstr(log, "Address already in use"))
		TH_LOG("echod's log: %s", log);
	}
	stop_lymphd(self);
	svc_kill_exe(self->echod);

	/* the same with a check command that fails */
	ASSERT_EQ(
		0,
		write_policy(
			self, "enforce",
			"backoff_min = 200ms\nbackoff_max = 400ms\nsettle = 100ms\n"
			"start_timeout = 100ms\nbreaker_failures = 100\ncheck_command = /bin/false\n"));
	unlink(self->journal);
	ASSERT_EQ(0, start_lymphd(self, NULL));
	s = wait_service(&self->d, "echo", NULL, 2, WAIT_MS);
	ASSERT_NE(NULL, s);
	json_object_put(s);
	recs = journal_records(self->journal, "echo", "not-healed");
	ASSERT_LE(1, json_object_array_length(recs));
	EXPECT_STREQ("check_command failed",
		     th_json_str(json_object_array_get_idx(recs, 0), "result") ?: "");
	json_object_put(recs);
	EXPECT_EQ(0, journal_count(self->journal, "echo", "verified"));
}

/* KEY=VALUE of the hook's environment dump, or NULL. */
static const char *env_get(const char *dump, const char *key, char *val, size_t cap)
{
	size_t klen = strlen(key);

	for (const char *l = dump; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, klen) && l[klen] == '=') {
			size_t n = strcspn(l + klen + 1, "\n");

			snprintf(val, cap, "%.*s", (int)n, l + klen + 1);
			return val;
		}
	}
	return NULL;
}

/* Wait for the hook's dump (written whole, then renamed). */
static int wait_hook(const char *path, char *buf, size_t cap)
{
	int64_t deadline = th_now_ms() + WAIT_MS;

	do {
		if (!th_read_file(path, buf, cap))
			return 0;
		th_sleep_ms(30);
	} while (th_now_ms() < deadline);
	th_diag("the on_failure hook wrote no %s", path);
	return -1;
}

#define EXPECT_ENV(dump, key, want)                                                          \
	do {                                                                                 \
		char v_[512];                                                                \
		const char *got_ = env_get((dump), (key), v_, sizeof(v_));                   \
		EXPECT_NE(NULL, got_) TH_LOG("%s missing from the hook's environment", key); \
		if (got_)                                                                    \
			EXPECT_STREQ((want), got_) TH_LOG("%s", key);                        \
	} while (0)

TEST_F_TIMEOUT(svc, on_failure_hook_gets_the_failure, 180)
{
	char extra[512], script[2048], dump[8192], v[512], pidstr[32];
	const char *allowed[] = { "PATH", "PWD", "SHLVL", "_", "OLDPWD", NULL };
	json_object *s;
	pid_t pid0, pid1;

	/* dump the environment and the capabilities, then rename into place */
	snprintf(
		script, sizeof(script),
		"#!/bin/sh\n"
		"/usr/bin/env > %s.tmp\n"
		"grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status | tr -d ':\\t ' | "
		"sed 's/^CapEff/CAPEFF=/;s/^CapPrm/CAPPRM=/;s/^NoNewPrivs/NONEWPRIVS=/' > %s.caps\n"
		"mv %s.tmp %s.$LYMPH_FAILURES\n",
		self->hookout, self->hookout, self->hookout, self->hookout);
	ASSERT_EQ(0, th_write_file(self->hook, script, 0755));
	snprintf(extra, sizeof(extra),
		 "backoff_min = 500ms\nbackoff_max = 5s\nsettle = 100ms\non_failure = %s\n",
		 self->hook);
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	pid0 = up_and_serving(self, NULL);
	ASSERT_GT(pid0, 0);
	snprintf(v, sizeof(v), "%s.caps", self->hookout);
	EXPECT_NE(0, access(v, F_OK)) TH_LOG("on_failure ran for a start");

	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	snprintf(v, sizeof(v), "%s.1", self->hookout);
	ASSERT_EQ(0, wait_hook(v, dump, sizeof(dump)));
	s = service_json(&self->d, "echo");
	ASSERT_NE(NULL, s);
	snprintf(pidstr, sizeof(pidstr), "%d", pid0);
	EXPECT_ENV(dump, "LYMPH_SERVICE", "echo");
	EXPECT_ENV(dump, "LYMPH_STATE", "backoff");
	EXPECT_ENV(dump, "LYMPH_CLASS", "danger");
	EXPECT_ENV(dump, "LYMPH_REASON", "fault");
	EXPECT_ENV(dump, "LYMPH_PID", pidstr);
	EXPECT_ENV(dump, "LYMPH_SIGNAL", "SIGSEGV");
	EXPECT_ENV(dump, "LYMPH_SIGNO", "11");
	EXPECT_ENV(dump, "LYMPH_SI_CODE", "SEGV_MAPERR");
	EXPECT_ENV(dump, "LYMPH_FAULT_ADDR", "0x0");
	EXPECT_ENV(dump, "LYMPH_EXIT_STATUS", "0");
	EXPECT_ENV(dump, "LYMPH_EXE", self->echod);
	EXPECT_ENV(dump, "LYMPH_RESTARTS", "0");
	EXPECT_ENV(dump, "LYMPH_FAILURES", "1");
	if (env_get(dump, "LYMPH_NEXT_RETRY_S", v, sizeof(v))) {
		double next = atof(v);

		EXPECT_GE(next, 0.4 - 1e-3) TH_LOG("LYMPH_NEXT_RETRY_S=%s", v);
		EXPECT_LE(next, 0.6 + 1e-3) TH_LOG("LYMPH_NEXT_RETRY_S=%s", v);
		EXPECT_LT(fabs(next - json_dbl(s, "delay_s")), 0.002)
		TH_LOG("LYMPH_NEXT_RETRY_S=%s", v);
	} else {
		EXPECT_TRUE(false) TH_LOG("LYMPH_NEXT_RETRY_S missing");
	}
	json_object_put(s);
	/* nothing else: only LYMPH_* and PATH (and what sh itself adds) */
	for (const char *l = dump; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		size_t klen = strcspn(l, "=\n");
		bool ok = !strncmp(l, "LYMPH_", 6);

		for (int i = 0; !ok && allowed[i]; i++)
			ok = klen == strlen(allowed[i]) && !strncmp(l, allowed[i], klen);
		EXPECT_TRUE(ok)
		TH_LOG("unexpected variable in the hook's environment: %.*s", (int)strcspn(l, "\n"),
		       l);
	}
	/* the hook runs with no capabilities */
	snprintf(v, sizeof(v), "%s.caps", self->hookout);
	if (!th_read_file(v, dump, sizeof(dump))) {
		EXPECT_ENV(dump, "CAPEFF", "0000000000000000");
		EXPECT_ENV(dump, "CAPPRM", "0000000000000000");
		EXPECT_ENV(dump, "NONEWPRIVS", "1");
	} else {
		EXPECT_TRUE(false) TH_LOG("the hook wrote no %s", v);
	}

	/* an exit with a status: no signal, programmed, the status */
	pid1 = wait_serving(self->port, pid0, WAIT_MS);
	ASSERT_GT(pid1, 0);
	ASSERT_EQ(0, echo_kill_with(self->port, "exit 3"));
	snprintf(v, sizeof(v), "%s.2", self->hookout);
	ASSERT_EQ(0, wait_hook(v, dump, sizeof(dump)));
	snprintf(pidstr, sizeof(pidstr), "%d", pid1);
	EXPECT_ENV(dump, "LYMPH_CLASS", "programmed");
	EXPECT_ENV(dump, "LYMPH_PID", pidstr);
	EXPECT_ENV(dump, "LYMPH_SIGNAL", "");
	EXPECT_ENV(dump, "LYMPH_SIGNO", "0");
	EXPECT_ENV(dump, "LYMPH_EXIT_STATUS", "3");
	EXPECT_ENV(dump, "LYMPH_RESTARTS", "1");
	EXPECT_ENV(dump, "LYMPH_FAILURES", "2");
	EXPECT_ENV(dump, "LYMPH_STATE", "backoff");
}

TEST_F_TIMEOUT(svc, sigkill_lymphd_mid_backoff_resumes_from_journal, 180)
{
	json_object *before, *after;
	int64_t due_ms, restarted_ms;
	int status;
	pid_t pid0, pid1;

	ASSERT_EQ(0, write_policy(self, "enforce",
				  "backoff_min = 8s\nbackoff_max = 20s\nsettle = 100ms\n"));
	pid0 = up_and_serving(self, NULL);
	ASSERT_GT(pid0, 0);
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	before = wait_service(&self->d, "echo", "backoff", 1, WAIT_MS);
	ASSERT_NE(NULL, before);
	due_ms = th_now_ms() + (int64_t)(json_dbl(before, "next_action_in_s") * 1000);
	ASSERT_EQ(0, kill(self->d.pid, SIGKILL));
	ASSERT_EQ(self->d.pid, waitpid(self->d.pid, &status, 0));
	self->d.pid = -1;
	stop_lymphd(self);

	ASSERT_EQ(0, start_lymphd(self, NULL));
	after = service_json(&self->d, "echo");
	ASSERT_NE(NULL, after);
	EXPECT_STREQ("backoff", th_json_str(after, "state") ?: "");
	EXPECT_EQ(th_json_int(before, "failures"), th_json_int(after, "failures"));
	EXPECT_EQ(th_json_int(before, "restarts"), th_json_int(after, "restarts"));
	EXPECT_EQ(th_json_int(before, "recent_failures"), th_json_int(after, "recent_failures"));
	EXPECT_LT(fabs(json_dbl(before, "delay_s") - json_dbl(after, "delay_s")), 1e-6)
	TH_LOG("delay_s changed across the lymphd restart");
	{
		double left = (double)(due_ms - th_now_ms()) / 1000,
		       got = json_dbl(after, "next_action_in_s");

		/* the same deadline, not a fresh backoff */
		EXPECT_LT(fabs(left - got), 1.0)
		TH_LOG("next action in %.3f s, want about %.3f s", got, left);
	}
	{
		json_object *lf = th_json_get(after, "last_failure");

		EXPECT_NE(NULL, lf);
		EXPECT_STREQ("SIGSEGV", lf ? th_json_str(lf, "signal") ?: "" : "");
	}
	json_object_put(before);
	json_object_put(after);
	EXPECT_EQ(1, journal_count(self->journal, "echo", "resumed"));
	/* still backing off (unless a loaded host took the whole backoff to
	 * start lymphd again) */
	if (due_ms - th_now_ms() > 1000) {
		EXPECT_EQ(-1, echo_pid(self->port))
		TH_LOG("serving %lld ms before the deadline", (long long)(due_ms - th_now_ms()));
	} else {
		th_diag("lymphd took until %lld ms before the deadline to start again",
			(long long)(due_ms - th_now_ms()));
	}
	/* restarted at the original deadline */
	pid1 = wait_serving(self->port, pid0, 20000 + WAIT_MS);
	restarted_ms = th_now_ms();
	ASSERT_GT(pid1, 0);
	EXPECT_GE(restarted_ms, due_ms - 500)
	TH_LOG("restarted %lld ms before its deadline", (long long)(due_ms - restarted_ms));
	EXPECT_LE(restarted_ms, due_ms + 5000)
	TH_LOG("restarted %lld ms after its deadline", (long long)(restarted_ms - due_ms));
	after = wait_service(&self->d, "echo", "running", 1, WAIT_MS);
	EXPECT_NE(NULL, after);
	EXPECT_EQ(1, th_json_int(after, "restarts"));
	json_object_put(after);
}

/* restart_on = danger: a signal sent by another process is programmed, not
 * danger: the service stays down, and the journal says it exited. */
TEST_F_TIMEOUT(svc, restart_on_danger_ignores_a_kill, 180)
{
	json_object *s, *f, *recs;
	pid_t pid;

	ASSERT_EQ(0, write_policy(self, "enforce",
				  "restart_on = danger\nbackoff_min = 100ms\nsettle = 100ms\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, kill(pid, SIGSEGV)); /* kill -SEGV: not a fault */
	s = wait_service(&self->d, "echo", "stopped", 0, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(0, th_json_int(s, "failures"));
	f = th_json_get(s, "last_failure");
	ASSERT_NE(NULL, f);
	EXPECT_STREQ("programmed", th_json_str(f, "class") ?: "");
	EXPECT_STREQ("SIGSEGV", th_json_str(f, "signal") ?: "");
	json_object_put(s);
	recs = journal_records(self->journal, "echo", "exited");
	EXPECT_EQ(1, json_object_array_length(recs));
	json_object_put(recs);
	th_sleep_ms(1000);
	EXPECT_EQ(-1, echo_pid(self->port));
	EXPECT_EQ(0, journal_count(self->journal, "echo", "restart"))
	TH_LOG("restarted after a kill");
	/* and a real fault of the same service is restarted: lymphctl restart, then crash */
	{
		static struct th_cmd r;

		ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "restart", "echo", NULL));
		EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	}
	pid = wait_serving(self->port, pid, WAIT_MS);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	EXPECT_GT(wait_serving(self->port, pid, WAIT_MS), 0);
	s = wait_service(&self->d, "echo", NULL, 1, WAIT_MS);
	EXPECT_NE(NULL, s);
	json_object_put(s);
}

/* Start echod ourselves (observe mode starts nothing), in its own session. */
static pid_t spawn_echod_on(FIXTURE_DATA(svc) * self, int on_port)
{
	char port[16];
	pid_t pid;

	snprintf(port, sizeof(port), "%d", on_port);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		setsid();
		dup2(fd, 0);
		dup2(fd, 1);
		setenv("ECHOD_DIE_WITH_PARENT", "1", 1);
		execl(self->echod, self->echod, port, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static pid_t spawn_echod(FIXTURE_DATA(svc) * self)
{
	return spawn_echod_on(self, self->port);
}

static void observe_case(struct __test_metadata *_metadata, FIXTURE_DATA(svc) * self,
			 const char *mode, const char *arg)
{
	json_object *s, *recs;
	pid_t pid, served;
	int status;

	ASSERT_EQ(0, write_policy(self, mode, "backoff_min = 100ms\nsettle = 100ms\n"));
	unlink(self->journal);
	pid = spawn_echod(self);
	ASSERT_GT(pid, 0);
	served = wait_serving(self->port, 0, WAIT_MS);
	ASSERT_EQ(pid, served);
	ASSERT_EQ(0, start_lymphd(self, arg));
	s = wait_service(&self->d, "echo", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s) TH_LOG("lymphd did not adopt the running echod");
	EXPECT_EQ(pid, th_json_int(s, "pid"));
	json_object_put(s);
	EXPECT_EQ(1, journal_count(self->journal, "echo", "adopted"));

	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	s = wait_service(&self->d, "echo", "stopped", 0, WAIT_MS);
	EXPECT_NE(NULL, s);
	json_object_put(s);
	recs = journal_records(self->journal, "echo", "would-restart");
	ASSERT_EQ(1, json_object_array_length(recs)) TH_LOG("want one would-restart record");
	{
		json_object *r = json_object_array_get_idx(recs, 0), *why = th_json_get(r, "why");

		EXPECT_STREQ("observe", th_json_str(r, "mode") ?: "");
		EXPECT_NE(NULL, strstr(th_json_str(r, "result") ?: "", "would restart in"))
		TH_LOG("result: %s", th_json_str(r, "result"));
		EXPECT_STREQ("SIGSEGV", why ? th_json_str(why, "signal") ?: "" : "");
	}
	json_object_put(recs);
	/* and nothing was restarted */
	th_sleep_ms(1000);
	EXPECT_EQ(-1, echo_pid(self->port));
	EXPECT_EQ(0, journal_count(self->journal, "echo", "restart"));
	EXPECT_EQ(0, journal_count(self->journal, "echo", "start"));
	stop_lymphd(self);
}

TEST_F_TIMEOUT(svc, observe_mode_restarts_nothing, 180)
{
	observe_case(_metadata, self, "observe", NULL);
}

TEST_F_TIMEOUT(svc, dry_run_restarts_nothing, 180)
{
	observe_case(_metadata, self, "enforce", "--dry-run");
}

TEST_F_TIMEOUT(svc, world_writable_policy_refused, 180)
{
	static struct th_cmd r;
	char prog[PATH_MAX], copt[400], jopt[400], sopt[400];
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)),
			 "-c",
			 copt,
			 jopt,
			 sopt,
			 "--quiet",
			 NULL };
	struct th_cmd_opts o = { .timeout_ms = 10000 };

	ASSERT_EQ(0, write_policy(self, "enforce", ""));
	ASSERT_EQ(0, chmod(self->conf, 0666));
	snprintf(copt, sizeof(copt), "%s", self->conf);
	snprintf(jopt, sizeof(jopt), "--journal=%s", self->journal);
	snprintf(sopt, sizeof(sopt), "--socket=%s/sock", self->dir);
	ASSERT_EQ(0, th_run(argv, &o, &r));
	EXPECT_FALSE(r.timed_out) TH_LOG("lymphd ran with a world-writable policy");
	EXPECT_TRUE(th_exited_nonzero(r.status)) TH_LOG("wait status 0x%x", r.status);
	EXPECT_NE(NULL, strstr(r.err, self->conf)) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "writable by group or others")) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "refusing to start")) TH_LOG("stderr: %s", r.err);
	EXPECT_EQ(0, pids_of(self->echod, (pid_t[4]){ 0 }, 4)); /* started nothing */
}

TEST_F_TIMEOUT(svc, started_service_has_no_capabilities_and_own_session, 180)
{
	static const char *const zero[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	char val[64];
	pid_t pid;

	ASSERT_EQ(0, write_policy(self, "enforce", "settle = 100ms\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
		ASSERT_EQ(0, proc_status_field(pid, zero[i], val, sizeof(val)));
		EXPECT_STREQ("0000000000000000", val) TH_LOG("%s", zero[i]);
	}
	ASSERT_EQ(0, proc_status_field(pid, "NoNewPrivs", val, sizeof(val)));
	EXPECT_STREQ("1", val);
	EXPECT_EQ(pid, session_of(pid));
	ASSERT_EQ(0, proc_status_field(pid, "SigBlk", val, sizeof(val)));
	EXPECT_STREQ("0000000000000000", val);
	ASSERT_EQ(0, proc_status_field(pid, "PPid", val, sizeof(val)));
	EXPECT_EQ(self->d.pid, atoi(val));
}

/* Issue 17: a user= service kept lymphd's bounding set, because the
 * bounding set was dropped after setuid() (EPERM, ignored). */
TEST_F_TIMEOUT(svc, user_service_has_no_capabilities_and_empty_bounding_set, 180)
{
	static const char *const zero[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	char val[64];
	pid_t pid;

	ASSERT_EQ(0, write_policy(self, "enforce", "settle = 100ms\nuser = nobody\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, proc_status_field(pid, "Uid", val, sizeof(val)));
	EXPECT_EQ(65534, atoi(val));
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
		ASSERT_EQ(0, proc_status_field(pid, zero[i], val, sizeof(val)));
		EXPECT_STREQ("0000000000000000", val) TH_LOG("%s", zero[i]);
	}
	ASSERT_EQ(0, proc_status_field(pid, "NoNewPrivs", val, sizeof(val)));
	EXPECT_STREQ("1", val);
}

/* The groups initgroups(3) gives name (primary gid), sorted. */
static int user_groups_sorted(const char *name, gid_t gid, gid_t *list, int cap)
{
	int n = cap;

	if (getgrouplist(name, gid, list, &n) < 0)
		return -1;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && list[j - 1] > list[j]; j--) {
			gid_t t = list[j];

			list[j] = list[j - 1];
			list[j - 1] = t;
		}
	return n;
}

/*
 * spawn() starts a service with vfork(): the child switches user with the
 * raw system calls and the group list the parent resolved.  The service
 * has what initgroups(3) would have given it (not an empty list), no
 * signal blocked (lymphd blocks every signal around the vfork), and
 * lymphd itself keeps its own uid and groups (glibc's setuid() in that
 * child would have signalled every thread of lymphd to switch too).
 */
TEST_F_TIMEOUT(svc, user_service_has_the_users_groups_and_no_blocked_signal, 180)
{
	gid_t want[64];
	char val[512], expect[512] = "";
	size_t off = 0;
	pid_t pid;
	int n;

	n = user_groups_sorted("nobody", 65534, want, 64);
	ASSERT_GT(n, 0);
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(expect + off, sizeof(expect) - off, "%s%u", i ? " " : "",
					(unsigned)want[i]);
	ASSERT_EQ(0, write_policy(self, "enforce", "settle = 100ms\nuser = nobody\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, proc_status_field(pid, "Groups", val, sizeof(val)));
	for (off = strlen(val); off && val[off - 1] == ' '; off--)
		val[off - 1] = 0; /* the kernel ends the list with a space */
	EXPECT_STREQ(expect, val);
	ASSERT_EQ(0, proc_status_field(pid, "Gid", val, sizeof(val)));
	EXPECT_EQ(65534, atoi(val));
	ASSERT_EQ(0, proc_status_field(pid, "SigBlk", val, sizeof(val)));
	EXPECT_STREQ("0000000000000000", val);
	/* lymphd is still root, with its own groups */
	ASSERT_EQ(0, proc_status_field(self->d.pid, "Uid", val, sizeof(val)));
	EXPECT_EQ(0, atoi(val));
	ASSERT_EQ(0, proc_status_field(self->d.pid, "Gid", val, sizeof(val)));
	EXPECT_EQ(0, atoi(val));
}

/* A start that fails between the vfork and the execve says on the
 * service's log what failed, and lymphd goes on. */
TEST_F_TIMEOUT(svc, start_that_fails_before_exec_says_why_on_the_log, 180)
{
	char extra[512], state[64];

	snprintf(extra, sizeof(extra), "settle = 100ms\nworkdir = %s/no-such-dir\n", self->dir);
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	ASSERT_EQ(0, start_lymphd(self, NULL));
	EXPECT_EQ(0, wait_file_has(self->log, "failed to chdir: No such file or directory", WAIT_MS))
	{
		char log[2048] = "";

		th_read_file(self->log, log, sizeof(log));
		TH_LOG("log: %s", log);
	}
	EXPECT_EQ(0, wait_file_has(self->log, "lymphd: cannot start ", 100));
	ASSERT_EQ(0, proc_status_field(self->d.pid, "State", state, sizeof(state)));
	EXPECT_TRUE(state[0] == 'S' || state[0] == 'R') TH_LOG("lymphd: %s", state);
}

/* capabilities = ...: kept through the switch to user= as ambient
 * capabilities, and nothing else in any set. */
TEST_F_TIMEOUT(svc, capabilities_are_kept_through_the_user_switch, 180)
{
	static const char *const want[] = { "CapPrm", "CapEff", "CapBnd", "CapAmb", "CapInh" };
	char val[64];
	pid_t pid;

	ASSERT_EQ(
		0,
		write_policy(
			self, "enforce",
			"settle = 100ms\nuser = nobody\ncapabilities = CAP_NET_BIND_SERVICE cap_net_raw\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, proc_status_field(pid, "Uid", val, sizeof(val)));
	EXPECT_EQ(65534, atoi(val));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		EXPECT_EQ((long long)((1ULL << 10) | (1ULL << 13)), cap_of(pid, want[i]))
		TH_LOG("%s", want[i]);
	}
	/* lymphd holds them only to hand them on: permitted, not effective */
	EXPECT_EQ((long long)((1ULL << 10) | (1ULL << 13)),
		  cap_of(self->d.pid, "CapPrm") & ((1ULL << 10) | (1ULL << 13)));
	EXPECT_EQ(0, cap_of(self->d.pid, "CapEff") & ((1ULL << 10) | (1ULL << 13)));
}

/* A bounding set wider than the capabilities given: the ceiling, never
 * more than given in the process's own sets. */
TEST_F_TIMEOUT(svc, capability_bounding_is_the_ceiling, 180)
{
	pid_t pid;

	ASSERT_EQ(0, write_policy(self, "enforce",
				  "settle = 100ms\ncapabilities = CAP_NET_BIND_SERVICE\n"
				  "capability_bounding = CAP_NET_BIND_SERVICE CAP_KILL\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	EXPECT_EQ((long long)(1ULL << 10), cap_of(pid, "CapEff"));
	EXPECT_EQ((long long)(1ULL << 10), cap_of(pid, "CapPrm"));
	EXPECT_EQ((long long)((1ULL << 10) | (1ULL << 5)), cap_of(pid, "CapBnd"));
}

/* A check that hangs is killed after check_timeout and fails the repair. */
TEST_F_TIMEOUT(svc, check_command_times_out, 180)
{
	json_object *recs;
	char mark[320], extra[700], sleeper[32];
	pid_t pids[64];
	int n, left = 0;

	snprintf(mark, sizeof(mark), "%s/check-ran", self->dir);
	snprintf(sleeper, sizeof(sleeper), "sleep 60.%d", self->port); /* ours alone */
	snprintf(extra, sizeof(extra),
		 "settle = 100ms\nbreaker_failures = 1\nbreaker_cooldown = 1h\n"
		 "check_command = /bin/sh -c 'touch %s; exec %s'\ncheck_timeout = 300ms\n"
		 "start_timeout = 100ms\n",
		 mark, sleeper);
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	ASSERT_EQ(0, start_lymphd(self, NULL));
	json_object_put(wait_service(&self->d, "echo", "broken", 1, WAIT_MS));
	recs = journal_records(self->journal, "echo", "broken");
	ASSERT_EQ(1, json_object_array_length(recs));
	EXPECT_STREQ("check_command timed out after 0.3 s",
		     th_json_str(json_object_array_get_idx(recs, 0), "result") ?: "");
	json_object_put(recs);
	EXPECT_EQ(0, access(mark, F_OK)) TH_LOG("the check never ran with its arguments");
	/* the sleep was killed with the check's session */
	n = pids_of("/usr/bin/sleep", pids, 64);
	for (int i = 0; i < n; i++)
		left += cmdline_has(pids[i], sleeper);
	EXPECT_EQ(0, left);
}

/* ---- service types (issue 16 item 2) ------------------------------------ */

/* Issue 16: a daemonizing service ended "stopped, pid 0" (the start
 * command's exit 0 was taken for the service's), and a crash of the daemon
 * was never healed. */
TEST_F_TIMEOUT(svc, forking_service_follows_its_pidfile, 180)
{
	char args[400], extra[700], buf[32];
	json_object *s;
	pid_t pid0, pid1;

	snprintf(args, sizeof(args), " %s/echod.pid", self->dir);
	snprintf(extra, sizeof(extra),
		 "type = forking\npidfile = %s/echod.pid\nenv = ECHOD_DAEMON=1\n"
		 "settle = 100ms\nbackoff_min = 100ms\ncheck_port = %d\n",
		 self->dir, self->port);
	ASSERT_EQ(0, write_policy_args(self, "enforce", args, extra));
	pid0 = up_and_serving(self, NULL);
	ASSERT_GT(pid0, 0);
	s = service_json(&self->d, "echo");
	ASSERT_NE(NULL, s);
	EXPECT_EQ(pid0, th_json_int(s, "pid"))
	TH_LOG("tracks %lld, the daemon is %d", (long long)th_json_int(s, "pid"), pid0);
	EXPECT_STREQ("running", th_json_str(s, "state") ?: "");
	json_object_put(s);
	ASSERT_EQ(0, th_read_file(args + 1, buf, sizeof(buf)));
	EXPECT_EQ(pid0, atoi(buf));
	EXPECT_EQ(1, journal_count(self->journal, "echo", "forked"));
	EXPECT_EQ(0, journal_count(self->journal, "echo", "exited"));

	/* a real SIGSEGV of the daemon: healed */
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	pid1 = wait_serving(self->port, pid0, WAIT_MS);
	ASSERT_GT(pid1, 0);
	s = wait_service(&self->d, "echo", "running", 1, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(pid1, th_json_int(s, "pid"));
	EXPECT_STREQ("fault", th_json_str(th_json_get(s, "last_failure"), "reason") ?: "");
	json_object_put(s);
}

/* A pidfile naming a process the start command did not fork is never
 * adopted: here the start command writes the pid of the test's own child. */
TEST_F_TIMEOUT(svc, forking_pidfile_of_another_process_is_refused, 180)
{
	char extra[1200];
	json_object *s, *recs;
	pid_t other = fork();

	ASSERT_GE(other, 0);
	if (!other) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	/* start = echod PORT never runs: the policy's start is replaced below */
	snprintf(extra, sizeof(extra),
		 "type = forking\npidfile = %s/other.pid\nsettle = 100ms\n"
		 "start_timeout = 500ms\nbreaker_failures = 1\nbreaker_cooldown = 1h\n",
		 self->dir);
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	do {
		char text[4096], cmd[600];

		ASSERT_EQ(0, th_read_file(self->conf, text, sizeof(text)));
		snprintf(cmd, sizeof(cmd), "start = /bin/sh -c 'echo %d > %s/other.pid'\n", other,
			 self->dir);
		*strstr(text, "start = ") = 0;
		strcat(text, cmd);
		strcat(text, strstr(extra, "type"));
		ASSERT_EQ(0, th_write_file(self->conf, text, 0644));
	} while (0);
	ASSERT_EQ(0, start_lymphd(self, NULL));
	s = wait_service(&self->d, "echo", "broken", 1, WAIT_MS);
	EXPECT_NE(NULL, s);
	json_object_put(s);
	recs = journal_records(self->journal, "echo", "broken");
	ASSERT_EQ(1, json_object_array_length(recs));
	EXPECT_STREQ("no daemon of its own in the pidfile",
		     th_json_str(json_object_array_get_idx(recs, 0), "result") ?: "");
	json_object_put(recs);
	EXPECT_EQ(0, journal_count(self->journal, "echo", "forked"));
	EXPECT_EQ(0, kill(other, 0)) TH_LOG("the process the pidfile named was signalled");
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
}

/* The NOTIFY_SOCKET lymphd gave pid, from its environment. */
static int notify_socket_of(pid_t pid, char *out, size_t cap)
{
	char p[64], env[8192];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/environ", pid);
	n = small_file_read(p, 0, env, sizeof(env));
	if (n <= 0)
		return -1;
	for (char *e = env; e < env + n; e += strlen(e) + 1)
		if (!strncmp(e, "NOTIFY_SOCKET=", 14)) {
			snprintf(out, cap, "%s", e + 14);
			return 0;
		}
	return -1;
}

TEST_F_TIMEOUT(svc, notify_service_is_ready_on_ready_1, 180)
{
	char extra[300], sock[128];
	json_object *s, *recs;
	pid_t pid;

	/* listening at once, ready only when it says so */
	snprintf(extra, sizeof(extra),
		 "type = notify\nsettle = 0\nenv = ECHOD_NOTIFY_DELAY_MS=300\n");
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, notify_socket_of(pid, sock, sizeof(sock)));
	EXPECT_EQ(0, strncmp(sock, "@lymph/", 7)) TH_LOG("NOTIFY_SOCKET=%s", sock);
	s = service_json(&self->d, "echo");
	ASSERT_NE(NULL, s);
	EXPECT_EQ(0, th_json_int(s, "failures"));
	json_object_put(s);
	recs = journal_records(self->journal, "echo", "verified");
	EXPECT_EQ(1, json_object_array_length(recs));
	json_object_put(recs);
}

/* Without READY=1 the start fails after start_timeout, although the port
 * accepts; a READY=1 from a process that is not the service is ignored. */
TEST_F_TIMEOUT(svc, notify_without_ready_fails_and_others_cannot_say_it, 180)
{
	char extra[300], sock[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	json_object *s, *recs;
	pid_t pid = -1;
	int fd;

	snprintf(extra, sizeof(extra),
		 "type = notify\nsettle = 0\nenv = ECHOD_NOTIFY_NEVER=1\n"
		 "start_timeout = 2s\nbreaker_failures = 1\nbreaker_cooldown = 1h\n");
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	ASSERT_EQ(0, start_lymphd(self, NULL));
	pid = wait_serving(self->port, 0, WAIT_MS);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, notify_socket_of(pid, sock, sizeof(sock)));
	/* the test is not the service: its READY=1 does not count */
	memcpy(sa.sun_path + 1, sock + 1, strlen(sock) - 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(7, sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
			    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock))));
	close(fd);
	s = wait_service(&self->d, "echo", "broken", 1, WAIT_MS);
	ASSERT_NE(NULL, s);
	json_object_put(s);
	recs = journal_records(self->journal, "echo", "broken");
	ASSERT_EQ(1, json_object_array_length(recs));
	EXPECT_STREQ("no READY=1 on NOTIFY_SOCKET",
		     th_json_str(json_object_array_get_idx(recs, 0), "result") ?: "");
	json_object_put(recs);
	EXPECT_EQ(0, journal_count(self->journal, "echo", "verified"));
}

/* A check that fails at first is retried until start_timeout: a service
 * slow to get ready is not a failure. */
TEST_F_TIMEOUT(svc, readiness_check_is_retried_until_start_timeout, 180)
{
	char mark[320], extra[700];
	json_object *s;

	snprintf(mark, sizeof(mark), "%s/ready", self->dir);
	snprintf(extra, sizeof(extra),
		 "settle = 0\nstart_timeout = 60s\n"
		 "check_command = /usr/bin/test -e %s\n",
		 mark);
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	ASSERT_EQ(0, start_lymphd(self, NULL));
	ASSERT_GT(wait_serving(self->port, 0, WAIT_MS), 0);
	th_sleep_ms(500); /* several checks fail meanwhile */
	s = service_json(&self->d, "echo");
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("starting", th_json_str(s, "state") ?: "");
	json_object_put(s);
	ASSERT_EQ(0, th_write_file(mark, "", 0644));
	s = wait_service(&self->d, "echo", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(0, th_json_int(s, "failures"));
	EXPECT_EQ(0, th_json_int(s, "restarts"));
	json_object_put(s);
	EXPECT_EQ(0, journal_count(self->journal, "echo", "not-healed"));
}

/* Issue 16 item 5: kill -SEGV by an administrator to a service whose crash
 * handler re-raises the signal was a danger death (self-raised) and was
 * restarted under restart_on = danger; the kill is programmed. */
TEST_F_TIMEOUT(svc, kill_of_a_crash_handler_that_reraises_is_programmed, 180)
{
	json_object *s, *f;
	pid_t pid;

	ASSERT_EQ(0, write_policy(self, "enforce",
				  "restart_on = danger\nsettle = 100ms\nbackoff_min = 100ms\n"
				  "env = ECHOD_CRASH_HANDLER=1\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, kill(pid, SIGSEGV));
	s = wait_service(&self->d, "echo", "stopped", 0, WAIT_MS);
	ASSERT_NE(NULL, s) TH_LOG("a kill -SEGV was taken for a crash");
	f = th_json_get(s, "last_failure");
	ASSERT_NE(NULL, f);
	EXPECT_STREQ("programmed", th_json_str(f, "class") ?: "");
	EXPECT_STREQ("killed", th_json_str(f, "reason") ?: "");
	EXPECT_EQ(0, th_json_int(s, "restarts"));
	json_object_put(s);
	EXPECT_EQ(0, wait_file_has(self->log, "caught SIGSEGV", 1000))
	TH_LOG("the handler did not run");
	EXPECT_EQ(-1, echo_pid(self->port)); /* not restarted */
}

/* The same handler re-raising a real fault is still danger, and healed. */
TEST_F_TIMEOUT(svc, real_fault_through_a_crash_handler_is_danger, 180)
{
	json_object *s, *f;
	pid_t pid;

	ASSERT_EQ(0, write_policy(self, "enforce",
				  "restart_on = danger\nsettle = 100ms\nbackoff_min = 100ms\n"
				  "env = ECHOD_CRASH_HANDLER=1\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	ASSERT_GT(wait_serving(self->port, pid, WAIT_MS), 0);
	s = wait_service(&self->d, "echo", "running", 1, WAIT_MS);
	ASSERT_NE(NULL, s);
	f = th_json_get(s, "last_failure");
	EXPECT_STREQ("danger", th_json_str(f, "class") ?: "");
	EXPECT_STREQ("self-raised", th_json_str(f, "reason") ?: "");
	json_object_put(s);
}

/* ---- adoption and verification that cannot be fooled (item 6) ------------ */

/* Another instance of the same binary, serving another port: never adopted
 * by exe = (it was, and the service never started). */
static void another_instance_case(struct __test_metadata *_metadata, FIXTURE_DATA(svc) * self,
				  const char *extra)
{
	int port2 = free_port();
	pid_t other, pid;
	json_object *s;

	ASSERT_GT(port2, 0);
	ASSERT_NE(self->port, port2);
	other = spawn_echod_on(self, port2);
	ASSERT_GT(other, 0);
	ASSERT_GT(wait_serving(port2, 0, WAIT_MS), 0);
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	pid = up_and_serving(self, NULL);
	EXPECT_GT(pid, 0);
	EXPECT_NE(other, pid);
	s = service_json(&self->d, "echo");
	ASSERT_NE(NULL, s);
	EXPECT_EQ(pid, th_json_int(s, "pid"));
	json_object_put(s);
	EXPECT_EQ(0, journal_count(self->journal, "echo", "adopted"));
	EXPECT_EQ(1, journal_count(self->journal, "echo", "start"));
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
}

TEST_F_TIMEOUT(svc, another_instance_is_not_adopted_by_its_port, 180)
{
	char extra[128];

	snprintf(extra, sizeof(extra), "settle = 100ms\ncheck_port = %d\n", self->port);
	another_instance_case(_metadata, self, extra);
}

TEST_F_TIMEOUT(svc, another_instance_is_not_adopted_by_its_command_line, 180)
{
	another_instance_case(_metadata, self, "settle = 100ms\n");
}

/* The instance started by hand with the service's own command line is. */
TEST_F_TIMEOUT(svc, own_instance_is_adopted, 180)
{
	int port2 = free_port();
	pid_t other, mine;
	json_object *s;

	ASSERT_GT(port2, 0);
	other = spawn_echod_on(self, port2);
	mine = spawn_echod(self);
	ASSERT_GT(other, 0);
	ASSERT_GT(mine, 0);
	ASSERT_GT(wait_serving(port2, 0, WAIT_MS), 0);
	ASSERT_EQ(mine, wait_serving(self->port, 0, WAIT_MS));
	ASSERT_EQ(0, write_policy(self, "enforce", "settle = 100ms\n"));
	ASSERT_EQ(0, start_lymphd(self, NULL));
	s = wait_service(&self->d, "echo", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(mine, th_json_int(s, "pid"));
	json_object_put(s);
	EXPECT_EQ(1, journal_count(self->journal, "echo", "adopted"));
	EXPECT_EQ(0, journal_count(self->journal, "echo", "start"));
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	kill(mine, SIGKILL);
	waitpid(mine, NULL, 0);
}

/* The instance the journal names died while lymphd was away and waits to be
 * reaped by another parent (here this test, its subreaper; on a host init,
 * which may take a while): lymphd starts the service again at once, and
 * does not adopt the zombie (it did, then found it dead and restarted it
 * some 100 ms later, after a "died" record of a death it never saw). */
TEST_F_TIMEOUT(svc, instance_that_died_while_lymphd_was_away_is_not_adopted, 180)
{
	struct proc_stat st = { 0 };
	pid_t pid0, pid1;
	int status, i;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	ASSERT_EQ(0, write_policy(self, "enforce", "settle = 100ms\n"));
	pid0 = up_and_serving(self, NULL);
	ASSERT_GT(pid0, 0);
	ASSERT_EQ(0, kill(self->d.pid, SIGKILL));
	ASSERT_EQ(self->d.pid, waitpid(self->d.pid, &status, 0));
	self->d.pid = -1;
	stop_lymphd(self);
	ASSERT_EQ(0, kill(pid0, SIGKILL));
	for (i = 0; i < 500 && !(!proc_stat_read(pid0, &st) && st.state == 'Z'); i++)
		th_sleep_ms(10);
	ASSERT_EQ('Z', st.state) TH_LOG("echod %d did not become this test's zombie", pid0);
	ASSERT_EQ(getpid(), st.ppid);

	pid1 = up_and_serving(self, NULL);
	ASSERT_GT(pid1, 0);
	EXPECT_NE(pid0, pid1);
	EXPECT_EQ(0, journal_count(self->journal, "echo", "adopted"));
	EXPECT_EQ(0, journal_count(self->journal, "echo", "died"));
	EXPECT_EQ(2, journal_count(self->journal, "echo", "start"));
	EXPECT_EQ(pid0, waitpid(pid0, &status, 0));
}

/* check_port counts only when the listener is the service's: here the test
 * itself listens on the port the check asks for. */
TEST_F_TIMEOUT(svc, check_port_served_by_another_process_does_not_verify, 180)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	json_object *s, *recs;
	char extra[256], want[96];
	int lfd, port2 = free_port(), one = 1;

	ASSERT_GT(port2, 0);
	sa.sin_port = htons((uint16_t)port2);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(lfd, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(lfd, 16));
	snprintf(extra, sizeof(extra),
		 "settle = 100ms\nstart_timeout = 300ms\nbreaker_failures = 1\n"
		 "breaker_cooldown = 1h\ncheck_port = %d\n",
		 port2);
	ASSERT_EQ(0, write_policy(self, "enforce", extra));
	ASSERT_EQ(0, start_lymphd(self, NULL));
	s = wait_service(&self->d, "echo", "broken", 1, WAIT_MS);
	EXPECT_NE(NULL, s) TH_LOG("a port held by another process verified the service");
	json_object_put(s);
	recs = journal_records(self->journal, "echo", "broken");
	ASSERT_EQ(1, json_object_array_length(recs));
	snprintf(want, sizeof(want), "port %d is served by a process outside the service", port2);
	EXPECT_STREQ(want, th_json_str(json_object_array_get_idx(recs, 0), "result") ?: "");
	json_object_put(recs);
	close(lfd);
}

/* ---- kill_mode (item 7) ---------------------------------------------------- */

/* Until pid is gone (reaped), or timeout: 0 or -1. */
static int wait_gone(pid_t pid, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;

	do {
		char st[32];

		if (proc_status_field(pid, "State", st, sizeof(st)) || st[0] == 'Z')
			return 0;
		th_sleep_ms(20);
	} while (th_now_ms() < deadline);
	return -1;
}

/* The main process dies: the child it left holding the port dies with it
 * (kill_mode = group, the default), so the next instance can listen. */
TEST_F_TIMEOUT(svc, kill_mode_group_kills_what_the_main_process_left, 180)
{
	pid_t pid0, pid1, kids[4];
	json_object *s;

	/* no check_port: the child shares the listener */
	ASSERT_EQ(0, write_policy(self, "enforce",
				  "settle = 100ms\nbackoff_min = 100ms\nenv = ECHOD_CHILD=1\n"));
	pid0 = up_and_serving(self, NULL);
	ASSERT_GT(pid0, 0);
	ASSERT_EQ(1, children_of(pid0, kids, 4));
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	pid1 = wait_serving(self->port, pid0, WAIT_MS);
	ASSERT_GT(pid1, 0) TH_LOG("not serving again: the child kept the port");
	EXPECT_NE(kids[0], pid1);
	EXPECT_EQ(0, wait_gone(kids[0], WAIT_MS))
	TH_LOG("the child %d survived its main process", kids[0]);
	EXPECT_LE(1, journal_count(self->journal, "echo", "killed-rest"));
	s = wait_service(&self->d, "echo", "running", 1, WAIT_MS);
	EXPECT_NE(NULL, s);
	json_object_put(s);
}

/* kill_mode = main: only the main process. */
TEST_F_TIMEOUT(svc, kill_mode_main_leaves_the_rest, 180)
{
	pid_t pid0, kids[4];
	char st[32];

	ASSERT_EQ(0, write_policy(self, "enforce",
				  "settle = 100ms\nbackoff_min = 5s\nenv = ECHOD_CHILD=1\n"
				  "kill_mode = main\n"));
	pid0 = up_and_serving(self, NULL);
	ASSERT_GT(pid0, 0);
	ASSERT_EQ(1, children_of(pid0, kids, 4));
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	json_object_put(wait_service(&self->d, "echo", "backoff", 1, WAIT_MS));
	ASSERT_EQ(0, proc_status_field(kids[0], "State", st, sizeof(st)));
	EXPECT_NE('Z', st[0]);
	EXPECT_EQ(0, journal_count(self->journal, "echo", "killed-rest"));
	kill(kids[0], SIGKILL);
}

/* ---- the log (item 7) -------------------------------------------------- */

/* Every line of text starts with a UTC timestamp "YYYY-MM-DDTHH:MM:SS.mmmZ ". */
static int all_stamped(const char *text, int *lines)
{
	const char *p = text;

	*lines = 0;
	while (*p) {
		int y, mo, d, h, mi, sec, ms, n = 0;

		if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %n", &y, &mo, &d, &h, &mi, &sec, &ms,
			   &n) != 7 ||
		    n != 25 || y < 2000)
			return 0;
		(*lines)++;
		p = strchr(p, '\n');
		if (!p)
			return 0;
		p++;
	}
	return 1;
}

TEST_F_TIMEOUT(svc, log_is_timestamped_and_rotated_by_size, 180)
{
	static char text[65536];
	char path[400];
	struct stat st;
	int lines, total = 0;

	ASSERT_EQ(0, write_policy(self, "enforce",
				  "settle = 100ms\nenv = ECHOD_LOG_LINES=400\n"
				  "log_timestamps = yes\nlog_max = 4096\nlog_keep = 2\n"));
	ASSERT_GT(up_and_serving(self, NULL), 0);
	/* 400 lines of 64 bytes: rotated again and again, two kept */
	ASSERT_EQ(0, wait_file_has(self->log, "line 00399", WAIT_MS));
	for (int k = 0; k <= 2; k++) {
		if (k)
			snprintf(path, sizeof(path), "%s.%d", self->log, k);
		else
			snprintf(path, sizeof(path), "%s", self->log);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s is missing", path);
		EXPECT_LE(st.st_size, 4096 + 64)
		TH_LOG("%s: %lld bytes", path, (long long)st.st_size);
		ASSERT_EQ(0, th_read_file(path, text, sizeof(text)));
		EXPECT_TRUE(all_stamped(text, &lines)) TH_LOG("%s: %.200s", path, text);
		total += lines;
	}
	snprintf(path, sizeof(path), "%s.3", self->log);
	EXPECT_EQ(-1, access(path, F_OK)) TH_LOG("more than log_keep files kept");
	EXPECT_LT(total, 400); /* the oldest were dropped */
	EXPECT_GT(total, 100);
}

TEST_F_TIMEOUT(svc, lymphctl_restart_is_not_a_failure, 180)
{
	static struct th_cmd r;
	json_object *s;
	pid_t pid0, pid1;

	ASSERT_EQ(0, write_policy(self, "enforce", "backoff_min = 5s\nsettle = 100ms\n"));
	pid0 = up_and_serving(self, NULL);
	ASSERT_GT(pid0, 0);
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "restart", "echo", NULL));
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	/* at once: not after backoff_min */
	pid1 = wait_serving(self->port, pid0, 4000);
	ASSERT_GT(pid1, 0);
	s = wait_service(&self->d, "echo", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(pid1, th_json_int(s, "pid"));
	EXPECT_EQ(0, th_json_int(s, "failures"));
	EXPECT_EQ(1, th_json_int(s, "restarts"));
	json_object_put(s);
	EXPECT_EQ(1, journal_count(self->journal, "echo", "stopped-for-restart"));
	EXPECT_EQ(0, journal_count(self->journal, "echo", "died"));
	EXPECT_EQ(-1, kill(pid0, 0)); /* the old one is gone */

	/* an unknown name: a clear error, nothing restarted */
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "restart", "nosuch", NULL));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_NE(NULL, strstr(r.err, "no service named 'nosuch'")) TH_LOG("stderr: %s", r.err);
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "reset", "nosuch", NULL));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_NE(NULL, strstr(r.err, "no service named 'nosuch'")) TH_LOG("stderr: %s", r.err);
	EXPECT_EQ(pid1, echo_pid(self->port));
}

TEST_F_TIMEOUT(svc, lymphctl_reset_closes_the_breaker, 180)
{
	static struct th_cmd r;
	json_object *s;
	pid_t pid;

	ASSERT_EQ(0, write_policy(self, "enforce",
				  "backoff_min = 100ms\nbackoff_max = 200ms\nsettle = 100ms\n"
				  "breaker_failures = 2\nbreaker_cooldown = 1h\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	pid = wait_serving(self->port, pid, WAIT_MS);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	s = wait_service(&self->d, "echo", "broken", 2, WAIT_MS);
	ASSERT_NE(NULL, s);
	json_object_put(s);
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "reset", "echo", NULL));
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	/* retried at once, not after the hour */
	pid = wait_serving(self->port, pid, WAIT_MS);
	ASSERT_GT(pid, 0);
	s = wait_service(&self->d, "echo", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(0, th_json_int(s, "failures"));
	EXPECT_EQ(0, th_json_int(s, "recent_failures"));
	json_object_put(s);
	EXPECT_EQ(1, journal_count(self->journal, "echo", "reset"));
}

TEST_F_TIMEOUT(svc, reload_with_invalid_policy_keeps_the_old, 180)
{
	static struct th_cmd r;
	char text[2048];
	json_object *s;
	pid_t pid;

	ASSERT_EQ(0, write_policy(self, "enforce", "backoff_min = 100ms\nsettle = 100ms\n"));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	/* line 10 is wrong */
	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\n[quarantine]\nthreshold = 1000000\n[service echo]\n"
		 "start = %s %d\nexe = %s\nlog = %s\nsettle = 100ms\nbackoff_min = whenever\n",
		 self->echod, self->port, self->echod, self->log);
	ASSERT_EQ(0, th_write_file(self->conf, text, 0644));
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "reload", NULL));
	EXPECT_TRUE(th_exited_nonzero(r.status)) TH_LOG("reload of an invalid policy succeeded");
	{
		char want[400];

		snprintf(want, sizeof(want), "%s:10: backoff_min: 'whenever' is not a duration",
			 self->conf);
		EXPECT_NE(NULL, strstr(r.err, want)) TH_LOG("want '%s' in: %s", want, r.err);
	}
	/* the old policy still rules: the service is known and healed */
	s = service_json(&self->d, "echo");
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("running", th_json_str(s, "state") ?: "");
	json_object_put(s);
	ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
	pid = wait_serving(self->port, pid, WAIT_MS);
	EXPECT_GT(pid, 0);

	/* a valid new policy is taken: the service is gone from it */
	ASSERT_EQ(0, th_write_file(self->conf, "[lymphd]\nmode = enforce\n", 0644));
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "reload", NULL));
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	s = service_json(&self->d, "echo");
	EXPECT_EQ(NULL, s);
	json_object_put(s);
	/* forgotten, never killed */
	EXPECT_EQ(pid, echo_pid(self->port));
}

/*
 * Reload swaps the policy: services keep pointers into it (their conf),
 * and the old one is freed once they point into the new one.  41
 * reloads between two policies while the services run; one policy has a
 * second service the other lacks (the services move to a new array each
 * time) and the two name different pidfiles.  Every few reloads the
 * service crashes: its restart must run the current policy's command
 * line (a stale pointer runs the old one, garbage, or crashes lymphd).
 * For AddressSanitizer's eye on every access: CFLAGS="-O1 -g
 * -fsanitize=address -Wno-error=maybe-uninitialized
 * -Wno-error=format-truncation" LDFLAGS=-fsanitize=address make
 * BUILD=build-asan build-asan/tests/service_test, then run it with
 * ASAN_OPTIONS=detect_leaks=0 (the leak checker's ptrace is outside
 * lymphd's seccomp filter).
 */
TEST_F_TIMEOUT(svc, reload_many_times_while_services_run, 300)
{
	static struct th_cmd r;
	char pidfile[2][400], args[2][420], extra[2][1024], text[64];
	int other = free_port(), i, k;
	json_object *s;
	pid_t pid;

	ASSERT_GT(other, 0);
	for (k = 0; k < 2; k++) {
		snprintf(pidfile[k], sizeof(pidfile[k]), "%s/pid.%s", self->dir,
			 k ? "b-a-longer-name-so-the-strings-move" : "a");
		snprintf(args[k], sizeof(args[k]), " %s", pidfile[k]);
		snprintf(extra[k], sizeof(extra[k]),
			 "settle = 100ms\nbackoff_min = 100ms\nbreaker_failures = 100\n"
			 "log_timestamps = yes\n");
	}
	snprintf(extra[0] + strlen(extra[0]), sizeof(extra[0]) - strlen(extra[0]),
		 "[service other]\nstart = %s %d\nexe = %s\nenv = ECHOD_DIE_WITH_PARENT=1\n",
		 self->echod, other, self->echod);
	ASSERT_EQ(0, write_policy_args(self, "enforce", args[0], extra[0]));
	pid = up_and_serving(self, NULL);
	ASSERT_GT(pid, 0);
	for (i = 1; i <= 41; i++) {
		k = i % 2;
		ASSERT_EQ(0, write_policy_args(self, "enforce", args[k], extra[k]));
		ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "reload", NULL));
		ASSERT_EQ(0, r.status) TH_LOG("reload %d: %s %s", i, r.out, r.err);
		if (i % 8)
			continue;
		/* A crash: the restart runs what the current policy says. */
		unlink(pidfile[0]);
		unlink(pidfile[1]);
		ASSERT_EQ(0, echo_kill_with(self->port, "crash"));
		pid = wait_serving(self->port, pid, WAIT_MS);
		ASSERT_GT(pid, 0) TH_LOG("echo not restarted after reload %d", i);
		ASSERT_EQ(0, th_read_file(pidfile[k], text, sizeof(text)))
		TH_LOG("reload %d: no %s", i, pidfile[k]);
		EXPECT_EQ(pid, atoi(text));
		EXPECT_EQ(-1, access(pidfile[!k], F_OK))
		TH_LOG("reload %d: the old policy's command ran", i);
	}
	/* Alive, with the last policy's (policy 1's) services. */
	s = wait_service(&self->d, "echo", "running", 0, WAIT_MS);
	EXPECT_NE(NULL, s);
	json_object_put(s);
	s = service_json(&self->d, "other");
	EXPECT_EQ(NULL, s) TH_LOG("a service of the old policy is still listed");
	json_object_put(s);
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "status", NULL));
	EXPECT_EQ(0, r.status);
	svc_kill_exe(self->echod);
}

TEST_HARNESS_MAIN
