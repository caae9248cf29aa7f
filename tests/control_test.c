// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control plane (issue 17 item 3, issue 10 item 4, issue 11's
 * lymphctl events):
 *
 *  - requests are JSON arrays of strings, checked against a command table
 *    with typed, range-checked arguments (no root needed);
 *  - `release /x abc` is an error, a path with a space is one argument;
 *  - 500 idle connections and a slow sender while a crash storm runs:
 *    status still answers (the time is printed, not asserted) and the ring
 *    drops nothing;
 *  - lymphctl events [--follow] [--json] streams what lymphd prints; a
 *    follower that does not read never stalls lymphd and is told how many
 *    records it lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "kselftest_harness.h"
#include "helpers.h"
#include "storm_helpers.h"
#include "control.h"
#include "ctlproto.h"
#include "evloop.h"
#include "journal.h"

/* ---- the protocol, as data ----------------------------------------------- */

static int parse(const char *line, struct ctl_req *r, char *err, size_t len)
{
	return ctl_parse(line, strlen(line), r, err, len);
}

TEST(parse_accepts_typed_arguments)
{
	static struct ctl_req r;
	char err[256];

	ASSERT_EQ(0, parse("[\"status\"]", &r, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ((int)CTL_STATUS, (int)r.cmd);
	ASSERT_EQ(0,
		  parse("[\"release\",\"/srv/a b/it's \\\"x\\\"\",\"1000\"]", &r, err, sizeof(err)))
	TH_LOG("%s", err);
	EXPECT_EQ((int)CTL_RELEASE, (int)r.cmd);
	EXPECT_EQ(2U, r.n);
	EXPECT_STREQ("/srv/a b/it's \"x\"", r.arg[0].s);
	EXPECT_EQ(1000U, r.arg[1].num);
	ASSERT_EQ(0, parse("[\"release\",\"/x\",\"4294967294\"]", &r, err, sizeof(err)));
	EXPECT_EQ(4294967294U, r.arg[1].num);
	ASSERT_EQ(0, parse("[\"release-lineage\",\"cgroup:18446744073709551615\"]", &r, err,
			   sizeof(err)));
	EXPECT_EQ(UINT64_MAX, r.arg[0].num);
	ASSERT_EQ(0, parse("[\"events\",\"json\",\"follow\"]", &r, err, sizeof(err)));
	EXPECT_EQ(1, r.follow);
	EXPECT_EQ(1, r.json);
	ASSERT_EQ(0, parse("[\"restart\",\"web-1.service\"]", &r, err, sizeof(err)));
}

TEST(parse_refuses_what_does_not_fit)
{
	static const char *const bad[] = {
		"release /x abc",		/* the old split-on-space form */
		"[\"release\",\"/x\",\"abc\"]", /* uid must be a number */
		"[\"release\",\"/x\",\"-1\"]",
		"[\"release\",\"/x\",\" 1\"]",
		"[\"release\",\"/x\",\"4294967295\"]", /* (uid_t)-1 */
		"[\"release\",\"/x\",\"99999999999999999999999\"]",
		"[\"release\",\"x\"]", /* not absolute */
		"[\"release\"]",
		"[\"release\",\"/x\",\"1\",\"2\"]",
		"[\"release-lineage\",\"uid:4294967295\"]",
		"[\"release-lineage\",\"pid:1\"]",
		"[\"release-lineage\",\"session:\"]",
		"[\"restart\",\"a b\"]",
		"[\"restart\",\"../x\"]",
		"[\"restart\",\"\"]",
		"[\"status\",\"x\"]",
		"[\"events\",\"follow\",\"follow\"]",
		"[\"nope\"]",
		"[]",
		"[1]",
		"[\"status\",null]",
		"{\"cmd\":\"status\"}",
		"[\"status\"] x",
		"[\"restart\",\"a\\u0000b\"]",
		"[[[[[[\"status\"]]]]]]",
	};
	static struct ctl_req r;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		EXPECT_NE(0, parse(bad[i], &r, err, sizeof(err))) TH_LOG("accepted: %s", bad[i]);
		EXPECT_NE(0, err[0]) TH_LOG("no message for: %s", bad[i]);
	}
}

TEST(format_round_trips)
{
	const char *words[] = { "release", "/tmp/a b\t\"c\"\\d", "0" };
	static struct ctl_req r;
	char buf[CTL_REQUEST_MAX], err[256];
	int n = ctl_format(buf, sizeof(buf), words, 3);

	ASSERT_LT(0, n);
	EXPECT_EQ('\n', buf[n - 1]);
	ASSERT_EQ(0, ctl_parse(buf, (size_t)n - 1, &r, err, sizeof(err)))
	TH_LOG("%s: %s", buf, err);
	EXPECT_STREQ(words[1], r.arg[0].s);
	EXPECT_EQ(0U, r.arg[1].num);
}

/* ---- the backlog, in this process ----------------------------------------- */

static struct control *backlog_ctl;

static void events_only(void *ctx, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	(void)ctx;
	(void)now;
	if (r->cmd == CTL_EVENTS)
		control_events(backlog_ctl, cl, r);
	else
		ctl_reply_error(cl, "%s", "only events here");
}

/* request through the control socket at sock, lymph's loop turned between
 * reads, until the server closes: what came, NUL-terminated. */
static size_t backlog_request(struct evloop *loop, const char *sock, const char *request, char *buf,
			      size_t len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), i, herr;
	size_t got = 0;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t)strlen(request)) {
		if (fd >= 0)
			close(fd);
		buf[0] = 0;
		return 0;
	}
	for (i = 0; i < 200; i++) {
		ssize_t n;

		evloop_run_once(loop, 10, &herr);
		n = read(fd, buf + got, len - 1 - got);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	buf[got] = 0;
	close(fd);
	return got;
}

/* A decision in the backlog of lymphctl events is kept as its journal
 * record's bytes, not as its json-c object (issue 15: ~4 KiB a decision,
 * 64 decisions, a heap page each while the backlog filled): the object
 * is freed once published, and `events --json` and `events` show the
 * decision as before. */
TEST(backlog_keeps_a_decision_as_its_bytes)
{
	static const char rec_line[] =
		"{\"type\":\"quarantine\",\"action\":\"would-quarantine\",\"mode\":\"observe\","
		"\"exe\":\"/opt/crasher\",\"uid\":65534,\"result\":\"observe mode\","
		"\"ts\":1700000000.25}";
	char dir[] = "/tmp/control_test.XXXXXX", sock[64];
	static char buf[65536];
	struct outfilter filter;
	struct json_object *rec;
	struct evloop loop;
	int verbose = OUT_VERBOSE_MAX;
	int64_t wall = 0;
	struct control_env env = {
		.loop = &loop,
		.filter = &filter,
		.verbose = &verbose,
		.wall_offset_ns = &wall,
		.dispatch = events_only,
	};

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	ASSERT_EQ(0, evloop_init(&loop));
	outfilter_init(&filter);
	env.listen_fd = control_open(sock);
	ASSERT_LE(0, env.listen_fd);
	backlog_ctl = control_new(&env);
	ASSERT_NE(NULL, backlog_ctl);

	rec = json_tokener_parse(rec_line);
	ASSERT_NE(NULL, rec);
	control_publish_journaled(backlog_ctl, rec, rec_line, strlen(rec_line), OUT_QUARANTINE);
	EXPECT_EQ(1, json_object_put(rec)) TH_LOG("the backlog still holds the decision's object");

	backlog_request(&loop, sock, "[\"events\",\"json\"]\n", buf, sizeof(buf));
	EXPECT_NE(NULL, strstr(buf, "\n{\"event\":\"decision\",\"type\":\"quarantine\","
				    "\"action\":\"would-quarantine\",\"mode\":\"observe\","
				    "\"exe\":\"/opt/crasher\",\"uid\":65534,\"result\":\"observe "
				    "mode\",\"ts\":1700000000.25}\n"))
	TH_LOG("events --json: %s", buf);
	backlog_request(&loop, sock, "[\"events\"]\n", buf, sizeof(buf));
	EXPECT_NE(NULL, strstr(buf, "would-quarantine")) TH_LOG("events: %s", buf);
	EXPECT_NE(NULL, strstr(buf, "/opt/crasher")) TH_LOG("events: %s", buf);

	control_free(backlog_ctl);
	control_close(env.listen_fd, sock);
	evloop_free(&loop);
	rmdir(dir);
}

/* ---- lymphd --------------------------------------------------------------- */

FIXTURE(ctl)
{
	struct th_lymphd d;
	struct storm_cg cg;
	char dir[256];
	char conf[PATH_MAX];
	char journal[PATH_MAX];
	char crasher[PATH_MAX];
	struct stat st;
};

FIXTURE_SETUP(ctl)
{
	char text[1024];

	th_lymphd_init(&self->d);
	storm_cg_init(&self->cg);
	self->dir[0] = '\0';
	if (!th_is_root())
		SKIP(return, "needs root");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "ctl"));
	ASSERT_EQ(0, chmod(self->dir, 0755));
	snprintf(self->journal, sizeof(self->journal), "%s/journal", self->dir);
	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\n\n[protect]\nuid = 0\n\n"
		 "[quarantine]\nthreshold = 1000000\n\n" STORM_CALM_WEATHER);
	ASSERT_EQ(0,
		  storm_write_file(self->dir, "lymph.conf", text, self->conf, sizeof(self->conf)));
}

FIXTURE_TEARDOWN(ctl)
{
	storm_cg_destroy(&self->cg);
	th_lymphd_destroy(&self->d);
	if (self->dir[0]) {
		char sub[PATH_MAX + 8];

		snprintf(sub, sizeof(sub), "%s/a b", self->dir);
		th_rmdir_flat(sub);
	}
	th_rmdir_flat(self->dir);
}

static int connect_to(const char *sock, int nonblock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS &&
	    errno != EAGAIN) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* One raw request line, the reply (caller frees) or NULL. */
static char *raw_request(const char *sock, const char *line)
{
	char *buf = calloc(1, 65536);
	size_t len = 0;
	int fd = connect_to(sock, 0);
	struct timeval tv = { .tv_sec = 10 };

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		close(fd);
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t n = recv(fd, buf + len, 65535 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return buf;
}

TEST_F_TIMEOUT(ctl, release_takes_typed_arguments, 60)
{
	char dir[PATH_MAX + 8], exe[PATH_MAX + 16], *reply;
	struct th_cmd *r = calloc(1, sizeof(*r));
	uint64_t now = clock_wall_ns();
	FILE *f;

	ASSERT_NE(NULL, r);
	/* A quarantine of a binary whose path has a space, for uid 1000. */
	snprintf(dir, sizeof(dir), "%s/a b", self->dir);
	ASSERT_EQ(0, mkdir(dir, 0755));
	ASSERT_EQ(0, storm_build_prog("crasher", dir, self->crasher, sizeof(self->crasher)));
	ASSERT_EQ(0, stat(self->crasher, &self->st));
	snprintf(exe, sizeof(exe), "%s", self->crasher);
	f = fopen(self->journal, "we");
	ASSERT_NE(NULL, f);
	fprintf(f,
		"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe\":\"%s\",\"exe_dev\":%u,"
		"\"exe_ino\":%llu,\"uid\":%d,\"until_wall_ns\":%llu,\"since_wall_ns\":%llu,\"result\":\"ok\"}\n",
		exe, (unsigned)self->st.st_dev, (unsigned long long)self->st.st_ino, STORM_UID,
		(unsigned long long)(now + 600000000000ULL), (unsigned long long)now);
	fclose(f);
	chmod(self->journal, 0600);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));

	/* release /x abc: an error, never "uid 0" */
	reply = raw_request(self->d.sock, "[\"release\",\"/x\",\"abc\"]\n");
	ASSERT_NE(NULL, reply);
	EXPECT_NE(NULL, strstr(reply, "\"error\":\"bad uid 'abc'")) TH_LOG("%s", reply);
	free(reply);
	reply = raw_request(self->d.sock, "release /x abc\n");
	ASSERT_NE(NULL, reply);
	EXPECT_NE(NULL, strstr(reply, "\"error\"")) TH_LOG("%s", reply);
	free(reply);
	EXPECT_EQ(0, th_lymphctl(&self->d, r, NULL, "release", "/x", "--uid=abc", NULL));
	EXPECT_TRUE(th_exited_nonzero(r->status));

	/* the path with a space is one argument: it is released, for that uid only */
	EXPECT_EQ(0, th_lymphctl(&self->d, r, NULL, "release", "--uid=1001", exe, NULL));
	EXPECT_TRUE(th_exited_nonzero(r->status)) TH_LOG("released for another uid: %s", r->out);
	EXPECT_EQ(0, th_lymphctl(&self->d, r, NULL, "release", "--uid=1000", exe, NULL));
	EXPECT_EQ(0, r->status) TH_LOG("%s %s", r->out, r->err);
	EXPECT_EQ(1, storm_journal_count(self->journal, "quarantine", "release", NULL, NULL, NULL));
	free(r);
}

/* Dribble a request one byte every 100 ms, reconnecting when dropped. */
static void __attribute__((noreturn)) slow_sender(const char *sock)
{
	static const char req[] = "[\"status\"]\n";
	int64_t end = th_now_ms() + 60000;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (th_now_ms() < end) {
		int fd = connect_to(sock, 0);
		size_t i;

		if (fd < 0) {
			th_sleep_ms(100);
			continue;
		}
		for (i = 0; i < sizeof(req) - 2; i++) { /* never the newline */
			if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1)
				break;
			th_sleep_ms(100);
		}
		close(fd);
	}
	_exit(0);
}

TEST_F_TIMEOUT(ctl, idle_clients_and_slow_sender_do_not_stall_status, 180)
{
	static int idle[500];
	char loop[PATH_MAX * 2 + 64];
	char *sh[] = { "/bin/sh", "-c", loop, NULL };
	json_object *st, *c;
	int i, n_idle = 0, answered = 0;
	int64_t worst = 0;
	pid_t slow;

	ASSERT_EQ(0, storm_build_prog("crasher", self->dir, self->crasher, sizeof(self->crasher)));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	/* the crash storm, in a backstop cgroup: two loops of real SIGSEGVs */
	ASSERT_EQ(0, storm_cg_create(&self->cg, 200, 150));
	snprintf(loop, sizeof(loop), "while :; do %s segv; done", self->crasher);
	ASSERT_LT(0, storm_spawn(&self->cg, STORM_UID, sh));
	ASSERT_LT(0, storm_spawn(&self->cg, STORM_UID, sh));

	fflush(stdout);
	fflush(stderr);
	slow = fork();
	ASSERT_LE(0, slow);
	if (slow == 0)
		slow_sender(self->d.sock);
	for (i = 0; i < 500; i++) {
		idle[i] = connect_to(self->d.sock, 1);
		if (idle[i] >= 0)
			n_idle++;
	}
	TH_LOG("%d idle connections opened, a slow sender and two crash loops running", n_idle);
	for (i = 0; i < 10; i++) {
		struct th_cmd *r = calloc(1, sizeof(*r));
		int64_t t0 = th_now_ms(), dt;

		ASSERT_NE(NULL, r);
		if (!th_lymphctl(&self->d, r, NULL, "status", "--json", NULL) && r->status == 0)
			answered++;
		dt = th_now_ms() - t0;
		if (dt > worst)
			worst = dt;
		free(r);
		/* more idle connections while it runs */
		if (idle[i] >= 0)
			close(idle[i]);
		idle[i] = connect_to(self->d.sock, 1);
		th_sleep_ms(200);
	}
	printf("# lymphctl status under 500 idle clients, a slow sender and a crash storm: "
	       "worst %lld ms of 10\n",
	       (long long)worst);
	EXPECT_EQ(10, answered);

	st = storm_ctl_json(&self->d, "status");
	ASSERT_NE(NULL, st);
	c = th_json_get(st, "control");
	TH_LOG("control: %s; danger deaths seen: %lld", th_json_text(c),
	       (long long)th_json_int(th_json_get(st, "counters"), "danger"));
	EXPECT_GE(th_json_int(c, "evicted") + th_json_int(c, "timed_out"), 400);
	EXPECT_LT(0, th_json_int(th_json_get(st, "counters"), "danger"));
	EXPECT_EQ(0, th_json_int(st, "drops")) TH_LOG("the ring dropped records");
	json_object_put(st);
	for (i = 0; i < 500; i++)
		if (idle[i] >= 0)
			close(idle[i]);
	kill(slow, SIGKILL);
	waitpid(slow, NULL, 0);
}

/* A TCP port of 127.0.0.1 free a moment ago, or -1. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int tcp_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What fd receives until EOF or timeout_ms; the length. */
static size_t recv_all(int fd, char *buf, size_t cap, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	size_t have = 0;

	while (have < cap - 1 && th_now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf + have, cap - 1 - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = 0;
	return have;
}

/*
 * The metrics listener served each client inside the loop, waiting up to
 * 200 ms for its request: a silent HTTP client made lymphctl wait, and was
 * answered before it.  Now the silent client waits alone: status and a
 * scrape behind it are answered while it still has nothing.
 */
TEST_F_TIMEOUT(ctl, silent_metrics_client_does_not_delay_status, 90)
{
	static const char get[] = "GET /metrics HTTP/1.0\r\n\r\n";
	static char text[1024], buf[1 << 16];
	struct th_cmd *r = calloc(1, sizeof(*r));
	int port = free_port(), silent, scrape, i;

	ASSERT_NE(NULL, r);
	ASSERT_LT(0, port);
	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\nmetrics_listen = 127.0.0.1:%d\n\n"
		 "[protect]\nuid = 0\n\n[quarantine]\nthreshold = 1000000\n\n" STORM_CALM_WEATHER,
		 port);
	ASSERT_EQ(0,
		  storm_write_file(self->dir, "lymph.conf", text, self->conf, sizeof(self->conf)));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));

	silent = tcp_connect(port);
	ASSERT_LE(0, silent);
	th_sleep_ms(100); /* lymphd has accepted it */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "status", "--json", NULL));
		EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
	}
	scrape = tcp_connect(port);
	ASSERT_LE(0, scrape);
	ASSERT_EQ((ssize_t)strlen(get), send(scrape, get, strlen(get), MSG_NOSIGNAL));
	recv_all(scrape, buf, sizeof(buf), 20000);
	close(scrape);
	EXPECT_EQ(0, strncmp(buf, "HTTP/1.1 200 OK\r\n", 17)) TH_LOG("%.200s", buf);
	EXPECT_NE(NULL, strstr(buf, "lymph_info{"));
	/* The silent client was not answered first: it still has nothing. */
	EXPECT_EQ(-1, recv(silent, buf, sizeof(buf), MSG_DONTWAIT))
	TH_LOG("answered first: %.100s", buf);
	/* At its deadline it gets its 400. */
	recv_all(silent, buf, sizeof(buf), 30000);
	EXPECT_EQ(0, strncmp(buf, "HTTP/1.1 400 ", 13)) TH_LOG("%.200s", buf);
	close(silent);
	free(r);
}

/*
 * A second lymphd on a busy control socket fails at start, and leaves the
 * journal it shares with the first one as it found it: no "stop" record
 * (it once journaled one in the first lymphd's name).
 */
TEST_F_TIMEOUT(ctl, second_lymphd_leaves_the_journal_alone, 90)
{
	char prog[PATH_MAX], sockopt[PATH_MAX + 16], jopt[PATH_MAX + 16];
	char *argv[] = { prog, "--quiet", "-c", self->conf, jopt, sockopt, NULL };
	struct th_cmd *r = calloc(1, sizeof(*r));

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	ASSERT_EQ(1, storm_journal_count(self->journal, "lymphd", "start", NULL, NULL, NULL));
	th_prog("lymphd", prog, sizeof(prog));
	snprintf(sockopt, sizeof(sockopt), "--socket=%s", self->d.sock);
	snprintf(jopt, sizeof(jopt), "--journal=%s", self->journal);
	ASSERT_EQ(0, th_run(argv, NULL, r));
	EXPECT_TRUE(th_exited_nonzero(r->status)) TH_LOG("the second lymphd: 0x%x", r->status);
	EXPECT_NE(NULL, strstr(r->err, "another lymphd is running")) TH_LOG("%s", r->err);
	EXPECT_EQ(0, storm_journal_count(self->journal, "lymphd", "stop", NULL, NULL, NULL));
	EXPECT_EQ(1, storm_journal_count(self->journal, "lymphd", "start", NULL, NULL, NULL));
	/* The first one still answers. */
	ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "status", NULL));
	EXPECT_EQ(0, r->status);
	free(r);
}

/* lymphctl ARGS... with stdout to a pipe (returned in *out); the pid. */
static pid_t lymphctl_bg(const struct th_lymphd *d, int *out, const char *a1, const char *a2,
			 const char *a3)
{
	char prog[PATH_MAX], sockopt[PATH_MAX + 16];
	int p[2];
	pid_t pid;

	th_prog("lymphctl", prog, sizeof(prog));
	snprintf(sockopt, sizeof(sockopt), "--socket=%s", d->sock);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(prog, prog, sockopt, a1, a2, a3, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

static int64_t followers(const struct th_lymphd *d)
{
	json_object *st = storm_ctl_json(d, "status");
	int64_t n = th_json_int(th_json_get(st, "control"), "followers");

	json_object_put(st);
	return n;
}

/* The next line from fd within timeout_ms, into buf; 1, or 0 at timeout/EOF. */
static int read_line(int fd, char *buf, size_t cap, size_t *have, char *line, size_t lcap,
		     int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(buf, '\n', *have);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - buf);

			snprintf(line, lcap, "%.*s", (int)l, buf);
			memmove(buf, nl + 1, *have - l - 1);
			*have -= l + 1;
			return 1;
		}
		if (*have == cap)
			*have = 0;
		if (th_now_ms() >= deadline || poll(&p, 1, 100) < 0)
			return 0;
		if (!p.revents)
			continue;
		n = read(fd, buf + *have, cap - *have);
		if (n <= 0)
			return 0;
		*have += (size_t)n;
	}
}

/* A child that exits at once; its pid, or -errno. */
static pid_t fork_and_reap(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -errno;
	waitpid(pid, NULL, 0);
	return pid;
}

#define FORKS 8

/* counters.KEY of lymphd's status, -1 when it cannot be had. */
static int64_t counter(const struct th_lymphd *d, const char *key)
{
	json_object *st = storm_ctl_json(d, "status");
	int64_t n = th_json_int(th_json_get(st, "counters"), key);

	json_object_put(st);
	return n;
}

/* A fork that nothing lymphd feeds shows (--quiet, no -vv in the log, no
 * follower) is counted by the sensors, not recorded: no record to drain,
 * and the ring keeps its room for the records lymphd acts on.  A follower
 * that shows forks gets them from its start. */
TEST_F_TIMEOUT(ctl, forks_nobody_shows_are_counted_not_recorded, 90)
{
	const char *args[] = { "-c", NULL, NULL, "--quiet", NULL };
	char jopt[PATH_MAX + 16], line[65536];
	static char buf[1 << 20];
	int64_t f0, f1, r0, r1;
	pid_t ctl, kid;
	size_t have = 0;
	int out, i, followed = 0;

	snprintf(jopt, sizeof(jopt), "--journal=%s", self->journal);
	args[1] = self->conf;
	args[2] = jopt;
	ASSERT_EQ(0, th_lymphd_start(&self->d, args, 20000));
	/* what the start recorded, before lymphd said no one shows forks,
	 * drained by the next tick */
	th_sleep_ms(1500);
	f0 = counter(&self->d, "fork");
	r0 = counter(&self->d, "fork_records");
	ASSERT_LE(0, f0);
	ASSERT_LE(0, r0);
	for (i = 0; i < FORKS; i++)
		ASSERT_LT(0, fork_and_reap());
	th_sleep_ms(1500); /* a record would have been drained by now */
	f1 = counter(&self->d, "fork");
	r1 = counter(&self->d, "fork_records");
	EXPECT_LE(f0 + FORKS, f1)
	TH_LOG("lymphd counted %lld of %d forks", (long long)(f1 - f0), FORKS);
	EXPECT_EQ(r0, r1) TH_LOG("%lld forks recorded that nothing shows", (long long)(r1 - r0));

	ctl = lymphctl_bg(&self->d, &out, "events", "--follow", "--json");
	ASSERT_LT(0, ctl);
	for (i = 0; i < 100 && followers(&self->d) < 1; i++)
		th_sleep_ms(50);
	ASSERT_EQ(1, followers(&self->d));
	kid = fork_and_reap();
	ASSERT_LT(0, kid);
	while (!followed && read_line(out, buf, sizeof(buf), &have, line, sizeof(line), 10000)) {
		json_object *o = json_tokener_parse(line);

		followed = o && th_is_event(o, "fork") && th_json_int(o, "pid") == kid;
		json_object_put(o);
	}
	EXPECT_TRUE(followed) TH_LOG("lymphctl events --follow printed no fork of %d", kid);
	EXPECT_LT(r1, counter(&self->d, "fork_records"));
	kill(ctl, SIGTERM);
	waitpid(ctl, NULL, 0);
	close(out);
}

TEST_F_TIMEOUT(ctl, events_follow_streams_what_lymphd_prints, 90)
{
	const char *args[] = { "-c", NULL, NULL, NULL };
	char jopt[PATH_MAX + 16], line[65536];
	static char buf[1 << 20];
	json_object *mine = NULL, *theirs;
	size_t have = 0;
	int out, status, i;
	pid_t ctl, victim;

	snprintf(jopt, sizeof(jopt), "--journal=%s", self->journal);
	args[1] = self->conf;
	args[2] = jopt;
	ASSERT_EQ(0, th_lymphd_start(&self->d, args, 20000));
	ctl = lymphctl_bg(&self->d, &out, "events", "--follow", "--json");
	ASSERT_LT(0, ctl);
	for (i = 0; i < 100 && followers(&self->d) < 1; i++)
		th_sleep_ms(50);
	ASSERT_EQ(1, followers(&self->d));

	victim = th_crash_child(TH_SEGV, NULL, &status);
	ASSERT_LT(0, victim);
	theirs = th_lymphd_wait(&self->d, th_pred_death_of, &victim, 10000);
	ASSERT_NE(NULL, theirs) TH_LOG("lymphd printed no death of %d", victim);
	while (!mine && read_line(out, buf, sizeof(buf), &have, line, sizeof(line), 10000)) {
		json_object *o = json_tokener_parse(line);

		if (o && th_pred_death_of(o, &victim))
			mine = o;
		else
			json_object_put(o);
	}
	ASSERT_NE(NULL, mine) TH_LOG("lymphctl events --follow printed no death of %d", victim);
	EXPECT_TRUE(json_object_equal(mine, theirs))
	TH_LOG("lymphd: %s\nlymphctl: %s", th_json_text(theirs), th_json_text(mine));
	json_object_put(mine);
	json_object_put(theirs);

	/* a decision lymphd journals and prints comes through too */
	{
		struct th_cmd *r = calloc(1, sizeof(*r));
		bool seen = false;

		ASSERT_NE(NULL, r);
		ASSERT_EQ(0, th_lymphctl(&self->d, r, NULL, "reload", NULL));
		free(r);
		while (!seen &&
		       read_line(out, buf, sizeof(buf), &have, line, sizeof(line), 10000)) {
			json_object *o = json_tokener_parse(line);

			seen = o && th_is_event(o, "decision") && th_json_str(o, "action") &&
			       !strcmp(th_json_str(o, "action"), "reload");
			json_object_put(o);
		}
		EXPECT_TRUE(seen)
		TH_LOG("no {\"event\":\"decision\",...\"action\":\"reload\"} followed");
	}
	kill(ctl, SIGTERM);
	waitpid(ctl, NULL, 0);
	close(out);
	for (i = 0; i < 100 && followers(&self->d) > 0; i++)
		th_sleep_ms(50);
	EXPECT_EQ(0, followers(&self->d)) TH_LOG("a follower that hung up is still kept");

	/* without --follow: the latest records, as text, then the end */
	{
		struct th_cmd *r = calloc(1, sizeof(*r));

		ASSERT_NE(NULL, r);
		EXPECT_EQ(0, th_lymphctl(&self->d, r, NULL, "events", NULL));
		EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
		EXPECT_LE(1, th_count_lines(r->out));
		EXPECT_NE(NULL, strstr(r->out, " uid=")) TH_LOG("%.400s", r->out);
		free(r);
	}
}

TEST_F_TIMEOUT(ctl, slow_follower_never_stalls_lymphd, 150)
{
	static const char loop[] = "i=0; while [ $i -lt 3000 ]; do /bin/true; i=$((i+1)); done";
	char *sh[] = { "/bin/sh", "-c", (char *)loop, NULL };
	char conf[PATH_MAX], text[512], *buf = malloc(8 << 20);
	int fd, small = 4096, answered = 0, status = -1, i;
	size_t have = 0;
	pid_t gen;

	ASSERT_NE(NULL, buf);
	snprintf(text, sizeof(text), "[lymphd]\nmode = observe\n\n" STORM_CALM_WEATHER);
	ASSERT_EQ(0, storm_write_file(self->dir, "observe.conf", text, conf, sizeof(conf)));
	ASSERT_EQ(0, storm_lymphd_start(&self->d, conf, self->journal, NULL));
	fd = connect_to(self->d.sock, 0);
	ASSERT_LE(0, fd);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	ASSERT_LT(0, send(fd, "[\"events\",\"follow\",\"json\"]\n", 27, MSG_NOSIGNAL));
	for (i = 0; i < 100 && followers(&self->d) < 1; i++)
		th_sleep_ms(50);
	ASSERT_EQ(1, followers(&self->d));

	/* ~9000 records (fork, exec, exit of 3000 processes) it never reads */
	ASSERT_EQ(0, storm_cg_create(&self->cg, 100, 120));
	gen = storm_spawn(&self->cg, STORM_UID, sh);
	ASSERT_LT(0, gen);
	for (i = 0; i < 5; i++) {
		struct th_cmd *r = calloc(1, sizeof(*r));

		if (r && !th_lymphctl(&self->d, r, NULL, "status", NULL) && r->status == 0)
			answered++;
		free(r);
		th_sleep_ms(300);
	}
	EXPECT_EQ(5, answered);
	for (i = 0; i < 1200 && waitpid(gen, &status, WNOHANG) == 0; i++)
		th_sleep_ms(50);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
	TH_LOG("generator: 0x%x", status);
	EXPECT_EQ(1, followers(&self->d)) TH_LOG("the slow follower was dropped, not told");

	/* now read: the records that fit, then how many were lost */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0 || have == (8u << 20))
			break;
		n = read(fd, buf + have, (8u << 20) - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have < (8u << 20) ? have : have - 1] = 0;
	EXPECT_NE(NULL, strstr(buf, "{\"event\":\"events-dropped\",\"count\":"))
	TH_LOG("read %zu bytes, no drop notice", have);
	TH_LOG("the slow follower got %zu bytes, %d lines", have, th_count_lines(buf));
	close(fd);
	free(buf);
}

TEST_F_TIMEOUT(ctl, followers_are_capped_requests_still_served, 60)
{
	int fds[16], i;
	char *reply;

	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	for (i = 0; i < 16; i++) {
		fds[i] = connect_to(self->d.sock, 0);
		ASSERT_LE(0, fds[i]);
		ASSERT_LT(0, send(fds[i], "[\"events\",\"follow\"]\n", 20, MSG_NOSIGNAL));
	}
	for (i = 0; i < 100 && followers(&self->d) < 16; i++)
		th_sleep_ms(50);
	EXPECT_EQ(16, followers(&self->d));
	reply = raw_request(self->d.sock, "[\"events\",\"follow\"]\n");
	ASSERT_NE(NULL, reply);
	EXPECT_NE(NULL, strstr(reply, "\"error\":\"already 16 followers")) TH_LOG("%.200s", reply);
	free(reply);
	reply = raw_request(self->d.sock, "[\"status\"]\n");
	ASSERT_NE(NULL, reply);
	EXPECT_NE(NULL, strstr(reply, "\"counters\"")) TH_LOG("%.200s", reply);
	free(reply);
	for (i = 0; i < 16; i++)
		close(fds[i]);
}

TEST_HARNESS_MAIN
