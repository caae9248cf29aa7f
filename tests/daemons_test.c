// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real daemons under lymphd, as Debian ships them: nginx (master as root,
 * workers switching to www-data) and redis.  Each test starts its own
 * instance on loopback, with its own prefix, configuration, port and data
 * directory in a temporary directory, under a real lymphd (enforce mode,
 * private policy, journal and socket), and kills what it started after.
 * Skipped when the Debian package is not installed (scripts/deps.sh
 * installs nginx-light, redis-server and redis-tools).
 */
/* the harness compares its int literals with our unsigned fields */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <linux/capability.h>
#include <pwd.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "svc_helpers.h"

#define WAIT_MS	  30000 /* generous: the host may be busy with other tests */
#define NGINX	  "/usr/sbin/nginx"
#define REDIS	  "/usr/bin/redis-server"
#define REDIS_CLI "/usr/bin/redis-cli"

/* The one line lymph.conf(5) documents for nginx as Debian ships it. */
#define NGINX_CAPS_LINE "capabilities = CAP_CHOWN CAP_SETUID CAP_SETGID CAP_NET_BIND_SERVICE\n"
#define NGINX_CAPS                                                           \
	((1ULL << CAP_CHOWN) | (1ULL << CAP_SETUID) | (1ULL << CAP_SETGID) | \
	 (1ULL << CAP_NET_BIND_SERVICE))

FIXTURE(nginx)
{
	SVC_FIXTURE_FIELDS;
	char ngconf[320], out[320], errlog[320];
	int port;
};

/* lymphd's policy: enforce, quarantine, throttle and weather out of the
 * way, one service with the given lines. */
static int write_lymph_conf(const char *path, const char *service)
{
	char text[8192];

	snprintf(text, sizeof(text), SVC_QUIET_POLICY "%s", service);
	return th_write_file(path, text, 0644);
}

FIXTURE_SETUP(nginx)
{
	char text[4096], path[400];

	if (access(NGINX, X_OK) || !getpwnam("www-data"))
		SKIP(return,
			   "Debian's nginx is not installed (scripts/deps.sh installs nginx-light)");
	SVC_FIXTURE_SETUP(self, "nginx", "needs root: lymphd loads BPF and starts services");
	snprintf(self->ngconf, sizeof(self->ngconf), "%s/nginx.conf", self->dir);
	snprintf(self->out, sizeof(self->out), "%s/out.log", self->dir);
	snprintf(self->errlog, sizeof(self->errlog), "%s/error.log", self->dir);
	self->port = free_port();
	ASSERT_GT(self->port, 0);
	snprintf(path, sizeof(path), "%s/www", self->dir);
	ASSERT_EQ(0, mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/www/index.html", self->dir);
	ASSERT_EQ(0, th_write_file(path, "served by lymph's nginx\n", 0644));
	/* Debian's nginx.conf, pointed at the temporary directory. */
	snprintf(text, sizeof(text),
		 "user www-data;\n"
		 "worker_processes 2;\n"
		 "pid %1$s/nginx.pid;\n"
		 "error_log %1$s/error.log;\n"
		 "events { worker_connections 64; }\n"
		 "http {\n"
		 "  include /etc/nginx/mime.types;\n"
		 "  access_log %1$s/access.log;\n"
		 "  client_body_temp_path %1$s/body;\n"
		 "  proxy_temp_path %1$s/proxy;\n"
		 "  fastcgi_temp_path %1$s/fastcgi;\n"
		 "  uwsgi_temp_path %1$s/uwsgi;\n"
		 "  scgi_temp_path %1$s/scgi;\n"
		 "  server { listen 127.0.0.1:%2$d; root %1$s/www; }\n"
		 "}\n",
		 self->dir, self->port);
	ASSERT_EQ(0, th_write_file(self->ngconf, text, 0644));
}

FIXTURE_TEARDOWN(nginx)
{
	if (!self->dir[0])
		return;
	SVC_FIXTURE_STOP(self);
	kill_sessions_of(NGINX, self->dir);
	th_sleep_ms(50);
	svc_rmdir(self->dir);
}

/* [service nginx] running the test's nginx in the foreground, plus extra. */
static int nginx_policy(FIXTURE_DATA(nginx) * self, const char *extra)
{
	char svc[4096];

	snprintf(svc, sizeof(svc),
		 "[service nginx]\n"
		 "start = " NGINX " -p %s -c %s -g \"daemon off;\"\n"
		 "log = %s\n"
		 "check_port = %d\n"
		 "settle = 300ms\n"
		 "backoff_min = 200ms\n"
		 "%s",
		 self->dir, self->ngconf, self->out, self->port, extra);
	return write_lymph_conf(self->conf, svc);
}

TEST_F_TIMEOUT(nginx, debian_nginx_serves_with_the_documented_line, 120)
{
	pid_t master, workers[8];
	json_object *s;
	char body[512];
	int n, code = -1;

	ASSERT_EQ(0, nginx_policy(self, NGINX_CAPS_LINE));
	ASSERT_EQ(0, SVC_FIXTURE_START(self, NULL, WAIT_MS));
	s = wait_service(&self->d, "nginx", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s) TH_LOG("nginx never verified running");
	master = (pid_t)th_json_int(s, "pid");
	json_object_put(s);
	for (int64_t end = th_now_ms() + WAIT_MS; th_now_ms() < end; th_sleep_ms(50))
		if ((code = http_get(self->port, "/", body, sizeof(body))) == 200)
			break;
	ASSERT_EQ(200, code) TH_LOG("nginx does not serve on port %d", self->port);
	EXPECT_STREQ("served by lymph's nginx\n", body);

	/* the master: exactly the capabilities given, nothing more to regain */
	ASSERT_GT(master, 1);
	EXPECT_EQ((long long)NGINX_CAPS, cap_of(master, "CapEff"));
	EXPECT_EQ((long long)NGINX_CAPS, cap_of(master, "CapPrm"));
	EXPECT_EQ((long long)NGINX_CAPS, cap_of(master, "CapBnd"));
	EXPECT_EQ((long long)NGINX_CAPS, cap_of(master, "CapAmb"));
	EXPECT_EQ(0, proc_status_field(master, "NoNewPrivs", body, sizeof(body)));
	EXPECT_STREQ("1", body);
	/* its workers switched to www-data and hold nothing */
	n = children_of(master, workers, 8);
	EXPECT_EQ(2, n);
	for (int i = 0; i < n; i++) {
		char uid[64];

		ASSERT_EQ(0, proc_status_field(workers[i], "Uid", uid, sizeof(uid)));
		EXPECT_EQ(getpwnam("www-data")->pw_uid, (uid_t)atoi(uid))
		TH_LOG("worker %d: Uid %s", workers[i], uid);
		EXPECT_EQ(0, cap_of(workers[i], "CapEff"));
		EXPECT_EQ(0, cap_of(workers[i], "CapPrm"));
	}
}

/* Issue 16: nginx with its default "daemon on;" and pidfile = ended
 * "stopped, pid 0".  type = forking follows the pidfile to the daemon. */
TEST_F_TIMEOUT(nginx, daemonizing_nginx_is_tracked_through_its_pidfile, 120)
{
	char svc[4096], pidtext[32], body[256];
	json_object *s;
	pid_t master;
	int code = -1;

	snprintf(svc, sizeof(svc),
		 "[service nginx]\n"
		 "start = " NGINX " -p %s -c %s\n"
		 "type = forking\n"
		 "pidfile = %s/nginx.pid\n"
		 "log = %s\n"
		 "check_port = %d\n"
		 "settle = 100ms\n" NGINX_CAPS_LINE,
		 self->dir, self->ngconf, self->dir, self->out, self->port);
	ASSERT_EQ(0, write_lymph_conf(self->conf, svc));
	ASSERT_EQ(0, SVC_FIXTURE_START(self, NULL, WAIT_MS));
	s = wait_service(&self->d, "nginx", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s);
	master = (pid_t)th_json_int(s, "pid");
	json_object_put(s);
	snprintf(svc, sizeof(svc), "%s/nginx.pid", self->dir);
	ASSERT_EQ(0, th_read_file(svc, pidtext, sizeof(pidtext)));
	EXPECT_EQ(atoi(pidtext), master)
	TH_LOG("lymphd tracks %d, the daemon is %s", master, pidtext);
	EXPECT_EQ(self->d.pid, proc_parent(master))
	TH_LOG("the daemon was not reparented to lymphd");
	EXPECT_EQ(0, journal_count(self->journal, "nginx", "exited"));
	for (int64_t end = th_now_ms() + WAIT_MS; th_now_ms() < end; th_sleep_ms(50))
		if ((code = http_get(self->port, "/", body, sizeof(body))) == 200)
			break;
	EXPECT_EQ(200, code);
}

/* A real fault of the master (program counter set to 0): its workers, which
 * would keep the port, go with it (kill_mode = group), and a new master
 * serves. */
TEST_F_TIMEOUT(nginx, crashed_master_is_replaced_and_its_workers_go, 120)
{
	pid_t master, master2, workers[8];
	json_object *s;
	char body[256];
	int n, code = -1;

	ASSERT_EQ(0, nginx_policy(self, NGINX_CAPS_LINE));
	ASSERT_EQ(0, SVC_FIXTURE_START(self, NULL, WAIT_MS));
	s = wait_service(&self->d, "nginx", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s);
	master = (pid_t)th_json_int(s, "pid");
	json_object_put(s);
	n = children_of(master, workers, 8);
	ASSERT_EQ(2, n);
	ASSERT_EQ(0, crash_by_pc0(master));
	s = wait_service(&self->d, "nginx", "running", 1, WAIT_MS);
	ASSERT_NE(NULL, s);
	master2 = (pid_t)th_json_int(s, "pid");
	EXPECT_NE(master, master2);
	EXPECT_STREQ("danger", th_json_str(th_json_get(s, "last_failure"), "class") ?: "");
	EXPECT_STREQ("fault", th_json_str(th_json_get(s, "last_failure"), "reason") ?: "");
	json_object_put(s);
	for (int i = 0; i < n; i++) {
		char st[32];

		EXPECT_TRUE(proc_status_field(workers[i], "State", st, sizeof(st)) || st[0] == 'Z')
		TH_LOG("worker %d of the crashed master survived", workers[i]);
	}
	EXPECT_LE(1, journal_count(self->journal, "nginx", "killed-rest"));
	for (int64_t end = th_now_ms() + WAIT_MS; th_now_ms() < end; th_sleep_ms(50))
		if ((code = http_get(self->port, "/", body, sizeof(body))) == 200)
			break;
	EXPECT_EQ(200, code);
}

TEST_F_TIMEOUT(nginx, without_the_line_nginx_gets_no_capabilities, 120)
{
	char body[64];

	/* the safe default: the master cannot chown its temporary directories
	 * for its workers' user, and fails (the symptom of issue 16) */
	ASSERT_EQ(0, nginx_policy(self, "breaker_failures = 2\nbreaker_cooldown = 1h\n"));
	ASSERT_EQ(0, SVC_FIXTURE_START(self, NULL, WAIT_MS));
	EXPECT_EQ(0, wait_file_has(self->out, "failed (1: Operation not permitted)", WAIT_MS))
	TH_LOG("nginx without capabilities did not fail on a privileged operation");
	json_object_put(wait_service(&self->d, "nginx", "broken", 2, WAIT_MS));
	EXPECT_EQ(-1, http_get(self->port, "/", body, sizeof(body)));
}

/* ---- redis --------------------------------------------------------------- */

FIXTURE(redis)
{
	SVC_FIXTURE_FIELDS;
	char data[320], out[320];
	int port;
};

FIXTURE_SETUP(redis)
{
	struct passwd *pw;

	pw = getpwnam("redis");
	if (access(REDIS, X_OK) || access(REDIS_CLI, X_OK) || !pw)
		SKIP(return,
			   "Debian's redis is not installed (scripts/deps.sh installs redis-server, redis-tools)");
	SVC_FIXTURE_SETUP(self, "redis", "needs root: lymphd loads BPF and starts services");
	snprintf(self->data, sizeof(self->data), "%s/data", self->dir);
	snprintf(self->out, sizeof(self->out), "%s/out.log", self->dir);
	ASSERT_EQ(0, mkdir(self->data, 0750));
	ASSERT_EQ(0, chown(self->data, pw->pw_uid, pw->pw_gid));
	self->port = free_port();
	ASSERT_GT(self->port, 0);
}

FIXTURE_TEARDOWN(redis)
{
	if (!self->dir[0])
		return;
	SVC_FIXTURE_STOP(self);
	kill_sessions_of(REDIS, self->dir);
	th_sleep_ms(50);
	svc_rmdir(self->dir);
}

/* [service redis]: Debian's redis-server as user redis, in the foreground,
 * on the test's port and data directory, plus extra. */
static int redis_policy(FIXTURE_DATA(redis) * self, const char *extra)
{
	char svc[4096];

	snprintf(svc, sizeof(svc),
		 "[service redis]\n"
		 "start = " REDIS " --port %d --bind 127.0.0.1 --dir %s --daemonize no --save '' "
		 "--appendonly no --logfile ''\n"
		 "user = redis\n"
		 "log = %s\n"
		 "settle = 200ms\n"
		 "backoff_min = 200ms\n"
		 "%s",
		 self->port, self->data, self->out, extra);
	return write_lymph_conf(self->conf, svc);
}

/* The PONG of redis-cli -p port ping, as the test sees it. */
static int redis_pong(int port)
{
	static struct th_cmd r;
	char p[16], cli[] = REDIS_CLI;
	char *argv[] = { cli, "-p", p, "ping", NULL };

	snprintf(p, sizeof(p), "%d", port);
	return !th_run(argv, NULL, &r) && r.status == 0 && !strncmp(r.out, "PONG", 4);
}

/* Issue 16 item 3: check_command = redis-cli -p PORT ping passed
 * --check-config, then a healthy redis ended broken (check_command failed):
 * the whole line was taken as the program's path. */
TEST_F_TIMEOUT(redis, redis_cli_ping_verifies_a_real_redis, 120)
{
	char extra[256];
	json_object *s, *recs;
	size_t i, ok = 0;

	snprintf(extra, sizeof(extra), "check_command = " REDIS_CLI " -p %d ping\n", self->port);
	ASSERT_EQ(0, redis_policy(self, extra));
	ASSERT_EQ(0, SVC_FIXTURE_START(self, NULL, WAIT_MS));
	s = wait_service(&self->d, "redis", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s);
	EXPECT_EQ(0, th_json_int(s, "failures"));
	json_object_put(s);
	EXPECT_TRUE(redis_pong(self->port));
	recs = journal_records(self->journal, "redis", "verified");
	for (i = 0; i < json_object_array_length(recs); i++)
		if (!strcmp(th_json_str(json_object_array_get_idx(recs, i), "result") ?: "",
			    "check_command succeeded"))
			ok++;
	json_object_put(recs);
	EXPECT_EQ(1, ok);
	EXPECT_EQ(0, journal_count(self->journal, "redis", "not-healed"));
}

/* The same check against a port nobody serves fails, and counts. */
TEST_F_TIMEOUT(redis, a_failing_check_counts_as_a_failure, 120)
{
	char extra[256];
	json_object *s, *recs;
	int other = free_port();

	ASSERT_GT(other, 0);
	ASSERT_NE(self->port, other);
	snprintf(extra, sizeof(extra),
		 "check_command = " REDIS_CLI " -p %d ping\n"
		 "breaker_failures = 2\nbreaker_cooldown = 1h\nstart_timeout = 300ms\n",
		 other);
	ASSERT_EQ(0, redis_policy(self, extra));
	ASSERT_EQ(0, SVC_FIXTURE_START(self, NULL, WAIT_MS));
	s = wait_service(&self->d, "redis", "broken", 2, WAIT_MS);
	ASSERT_NE(NULL, s);
	json_object_put(s);
	recs = journal_records(self->journal, "redis", "not-healed");
	ASSERT_LE(1, json_object_array_length(recs));
	EXPECT_STREQ("check_command failed",
		     th_json_str(json_object_array_get_idx(recs, 0), "result") ?: "");
	json_object_put(recs);
}

/* Issue 16 item 5: kill -SEGV to redis, which catches SIGSEGV, logs a crash
 * report and re-raises it, was journaled "danger self-raised" and restarted
 * under restart_on = danger.  It is the administrator's kill: programmed. */
TEST_F_TIMEOUT(redis, kill_segv_of_redis_is_programmed, 120)
{
	char extra[256];
	json_object *s, *f;
	pid_t pid;

	snprintf(extra, sizeof(extra),
		 "restart_on = danger\ncheck_command = " REDIS_CLI " -p %d ping\n", self->port);
	ASSERT_EQ(0, redis_policy(self, extra));
	ASSERT_EQ(0, SVC_FIXTURE_START(self, NULL, WAIT_MS));
	s = wait_service(&self->d, "redis", "running", 0, WAIT_MS);
	ASSERT_NE(NULL, s);
	pid = (pid_t)th_json_int(s, "pid");
	json_object_put(s);
	ASSERT_GT(pid, 1);
	ASSERT_EQ(0, kill(pid, SIGSEGV));
	s = wait_service(&self->d, "redis", "stopped", 0, WAIT_MS);
	ASSERT_NE(NULL, s) TH_LOG("redis was restarted after kill -SEGV");
	f = th_json_get(s, "last_failure");
	EXPECT_STREQ("programmed", th_json_str(f, "class") ?: "");
	EXPECT_STREQ("killed", th_json_str(f, "reason") ?: "");
	EXPECT_STREQ("SIGSEGV", th_json_str(f, "signal") ?: "");
	json_object_put(s);
	/* redis's own crash report shows its handler ran and re-raised */
	EXPECT_EQ(0, wait_file_has(self->out, "crashed by signal", 2000));
	EXPECT_FALSE(redis_pong(self->port));
}

TEST_HARNESS_MAIN
