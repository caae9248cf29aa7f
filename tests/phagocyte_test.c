// SPDX-License-Identifier: GPL-2.0-only
/*
 * Phagocytes with real things (root): a service whose restart is blocked
 * by the stale socket, lock and pid files of its crashed instance, and
 * healed when lymphd proves their owner gone and removes them; a zombie
 * farm; a small tmpfs filling at a steady rate beside a rotating log.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <dirent.h>
#include <math.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "svc_helpers.h"
#include "journal.h"
#include "leftovers.h"
#include "phagocyte.h"
#include "procfs.h"

#define WAIT_MS 30000

/* Ask sockd on its socket; its pid, or -1 when nothing answers. */
static pid_t sockd_pid(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[64] = "";
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (write(fd, "pid\n", 4) != 4) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || strncmp(buf, "pid ", 4))
		return -1;
	return (pid_t)atoi(buf + 4);
}

/* Send one command line to sockd: 0 or -1. */
static int sockd_send(const char *sock, const char *cmd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ret = -1;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd))
		ret = 0;
	if (fd >= 0)
		close(fd);
	return ret;
}

static void sockd_crash(const char *sock)
{
	sockd_send(sock, "crash\n");
}

/* A pid other than old answers on sock within timeout_ms: it, else -1. */
static pid_t wait_sockd(const char *sock, pid_t old, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;

	do {
		pid_t p = sockd_pid(sock);

		if (p > 0 && p != old)
			return p;
		th_sleep_ms(20);
	} while (th_now_ms() < deadline);
	return -1;
}

/* Journal records of type "phagocyte" with action (NULL: any), read from
 * the file: a new array. */
/* Journal records of service name with action (NULL: any). */
static size_t service_records(const char *journal, const char *name, const char *action)
{
	char line[65536];
	FILE *f = fopen(journal, "re");
	size_t n = 0;

	while (f && fgets(line, sizeof(line), f)) {
		json_object *o = json_tokener_parse(line);
		const char *t = o ? th_json_str(o, "type") : NULL,
			   *s = o ? th_json_str(o, "service") : NULL,
			   *a = o ? th_json_str(o, "action") : NULL;

		if (t && !strcmp(t, "service") && s && !strcmp(s, name) && a &&
		    (!action || !strcmp(a, action)))
			n++;
		json_object_put(o);
	}
	if (f)
		fclose(f);
	return n;
}

static json_object *find_path(json_object *arr, const char *path)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *r = json_object_array_get_idx(arr, i);

		if (!strcmp(th_json_str(r, "path") ?: "", path))
			return r;
	}
	return NULL;
}

static const char *th_read_core_pattern(void)
{
	static char pat[256];
	FILE *f = fopen("/proc/sys/kernel/core_pattern", "re");

	pat[0] = 0;
	if (f) {
		if (fgets(pat, sizeof(pat), f))
			pat[strcspn(pat, "\n")] = 0;
		fclose(f);
	}
	return pat;
}

/* ---- the fixture ------------------------------------------------------------ */

FIXTURE(phago)
{
	SVC_FIXTURE_FIELDS;
	char sockd[320], sock[320], lock[320], pidfile[320], log[320];
};

FIXTURE_SETUP(phago)
{
	SVC_FIXTURE_SETUP(self, "phago", "needs root: lymphd loads BPF and starts services");
	snprintf(self->sockd, sizeof(self->sockd), "%s/sockd", self->dir);
	snprintf(self->sock, sizeof(self->sock), "%s/sockd.sock", self->dir);
	snprintf(self->lock, sizeof(self->lock), "%s/sockd.lock", self->dir);
	snprintf(self->pidfile, sizeof(self->pidfile), "%s/sockd.pid", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/sockd.log", self->dir);
	ASSERT_EQ(0, svc_build_prog("sockd", self->sockd));
}

FIXTURE_TEARDOWN(phago)
{
	if (!self->dir[0])
		return;
	SVC_FIXTURE_STOP(self);
	svc_kill_exe(self->sockd);
	th_sleep_ms(50);
	{
		char mnt[400];

		snprintf(mnt, sizeof(mnt), "%s/mnt", self->dir);
		umount2(mnt, MNT_DETACH); /* a disk test that failed before its own */
	}
	svc_rmdir(self->dir);
}

/*
 * The policy: enforce, quarantine, throttle and the weather out of the way
 * (these tests crash one binary and start many processes), the sockd
 * service with service_extra, and phago_extra in [phagocyte].
 */
static int write_policy(FIXTURE_DATA(phago) * self, const char *service_extra,
			const char *phago_extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 SVC_QUIET_POLICY
		 "[phagocyte]\n%s"
		 "[service sockd]\n"
		 "start = %s %s %s %s\n"
		 "exe = %s\n"
		 "log = %s\n"
		 "env = SOCKD_DIE_WITH_PARENT=1\n"
		 "backoff_min = 100ms\nbackoff_max = 200ms\nsettle = 200ms\n"
		 "breaker_failures = 3\nbreaker_window = 1m\nbreaker_cooldown = 1h\n"
		 "%s",
		 phago_extra, self->sockd, self->sock, self->lock, self->pidfile, self->sockd,
		 self->log, service_extra);
	return th_write_file(self->conf, text, 0644);
}

static int start_lymphd(FIXTURE_DATA(phago) * self)
{
	return SVC_FIXTURE_START(self, NULL, WAIT_MS);
}

/* ---- leftovers -------------------------------------------------------------- */

/* The evidence about a live owner, then about the same files once it is
 * SIGKILLed; and observe mode only journals. */
TEST_F_TIMEOUT(phago, leftover_evidence_live_then_dead, 60)
{
	struct service_conf c = { .name = "sockd", .pidfile = self->pidfile, .exe = self->sockd };
	char *argv[] = { self->sockd, self->sock, self->lock, self->pidfile, NULL };
	struct leftover_evidence ev;
	struct journal j = { .fd = -EBADF };
	char content[128], jpath[400];
	const char *why;
	json_object *recs;
	struct stat st;
	pid_t pid;
	int status;

	c.phago.clean = 1;
	c.phago.leftovers[c.phago.n_leftovers++] = self->sock;
	c.phago.leftovers[c.phago.n_leftovers++] = self->lock;
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		execv(self->sockd, argv);
		_exit(127);
	}
	ASSERT_EQ(pid, wait_sockd(self->sock, 0, WAIT_MS));

	/* alive: every one of the three is kept, each for its own reason */
	leftover_gather(self->sock, &c, 0, &ev, content, sizeof(content));
	EXPECT_TRUE(ev.sock_bound);
	EXPECT_TRUE(ev.sock_accepts);
	EXPECT_EQ(0, leftover_verdict(LEFTOVER_SOCKET, &ev, &why)) TH_LOG("%s", why);
	leftover_gather(self->lock, &c, 0, &ev, content, sizeof(content));
	EXPECT_EQ(pid, ev.pid);
	EXPECT_TRUE(ev.locked);
	EXPECT_EQ(pid, ev.lock_holder);
	EXPECT_EQ(pid, ev.open_by);
	EXPECT_EQ(1, ev.pid_identity);
	EXPECT_EQ(0, leftover_verdict(LEFTOVER_LOCK, &ev, &why)) TH_LOG("%s", why);
	leftover_gather(self->pidfile, &c, 1, &ev, content, sizeof(content));
	EXPECT_EQ(pid, ev.pid);
	EXPECT_TRUE(ev.pid_alive);
	EXPECT_EQ(1, ev.pid_identity);
	EXPECT_EQ(0, leftover_verdict(LEFTOVER_PIDFILE, &ev, &why)) TH_LOG("%s", why);
	EXPECT_EQ(0, leftovers_clear(NULL, &c, 1));
	EXPECT_EQ(0, access(self->sock, F_OK));
	EXPECT_EQ(0, access(self->lock, F_OK));
	EXPECT_EQ(0, access(self->pidfile, F_OK));

	/* dead: all three are provably ownerless */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	leftover_gather(self->sock, &c, 0, &ev, content, sizeof(content));
	EXPECT_TRUE(ev.exists);
	EXPECT_FALSE(ev.sock_bound);
	EXPECT_FALSE(ev.sock_accepts);
	EXPECT_EQ(1, leftover_verdict(LEFTOVER_SOCKET, &ev, &why)) TH_LOG("%s", why);
	leftover_gather(self->lock, &c, 0, &ev, content, sizeof(content));
	EXPECT_FALSE(ev.locked);
	EXPECT_EQ(0, ev.open_by);
	EXPECT_FALSE(ev.pid_alive);
	EXPECT_EQ(1, leftover_verdict(LEFTOVER_LOCK, &ev, &why)) TH_LOG("%s", why);

	/* observe mode: journaled as would-remove, nothing removed */
	snprintf(jpath, sizeof(jpath), "%s/obs-journal", self->dir);
	ASSERT_EQ(0, journal_open(&j, jpath, 1 << 20));
	EXPECT_EQ(3, leftovers_clear(&j, &c, 0));
	journal_close(&j);
	EXPECT_EQ(0, access(self->sock, F_OK));
	EXPECT_EQ(0, access(self->lock, F_OK));
	EXPECT_EQ(0, access(self->pidfile, F_OK));
	recs = th_journal_records(jpath, "phagocyte", "leftover-would-remove");
	EXPECT_EQ(3, json_object_array_length(recs));
	json_object_put(recs);

	/* a symlink in place of the socket is never followed nor removed */
	unlink(self->sock);
	ASSERT_EQ(0, symlink(self->lock, self->sock));
	EXPECT_EQ(2, leftovers_clear(NULL, &c, 1));
	EXPECT_EQ(0, lstat(self->sock, &st)) TH_LOG("the symlink was removed");
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	EXPECT_NE(0, access(self->lock, F_OK)) TH_LOG("the stale lock was kept");
	EXPECT_NE(0, access(self->pidfile, F_OK)) TH_LOG("the stale pid file was kept");
}

/* Without clearing, a crash leaves the socket, lock and pid file behind
 * and every restart fails: the breaker opens. */
TEST_F_TIMEOUT(phago, stale_leftovers_block_the_restart_without_phagocytes, 120)
{
	json_object *recs;
	pid_t pid0;

	ASSERT_EQ(0, write_policy(self, "", "leftovers = no\n"));
	ASSERT_EQ(0, start_lymphd(self));
	pid0 = wait_sockd(self->sock, 0, WAIT_MS);
	ASSERT_GT(pid0, 0);
	sockd_crash(self->sock);
	/* three failed restarts in the window open the breaker */
	{
		int64_t deadline = th_now_ms() + WAIT_MS;

		while (service_records(self->journal, "sockd", "broken") == 0 &&
		       th_now_ms() < deadline) {
			th_sleep_ms(50);
		}
	}
	EXPECT_EQ(1, service_records(self->journal, "sockd", "broken"));
	EXPECT_LE(2, service_records(self->journal, "sockd", "restart"));
	EXPECT_EQ(-1, sockd_pid(self->sock))
	TH_LOG("something serves though the leftovers were stale");
	EXPECT_EQ(0, access(self->sock, F_OK));
	EXPECT_EQ(0, access(self->lock, F_OK));
	recs = th_journal_records(self->journal, "phagocyte", NULL);
	EXPECT_EQ(0, json_object_array_length(recs));
	json_object_put(recs);
}

/* With leftovers declared, the restart after a crash removes the stale
 * socket, lock and pid file (journaled with the evidence) and heals. */
TEST_F_TIMEOUT(phago, stale_leftovers_removed_before_the_restart, 120)
{
	char extra[1024];
	json_object *recs, *r, *ev;
	pid_t pid0, pid1;

	snprintf(extra, sizeof(extra), "pidfile = %s\nleftovers = %s %s\n", self->pidfile,
		 self->sock, self->lock);
	ASSERT_EQ(0, write_policy(self, extra, ""));
	ASSERT_EQ(0, start_lymphd(self));
	pid0 = wait_sockd(self->sock, 0, WAIT_MS);
	ASSERT_GT(pid0, 0);
	sockd_crash(self->sock);
	pid1 = wait_sockd(self->sock, pid0, WAIT_MS);
	ASSERT_GT(pid1, 0) TH_LOG("sockd does not serve again after its crash");
	EXPECT_EQ(0, service_records(self->journal, "sockd", "broken"));

	recs = th_journal_records(self->journal, "phagocyte", "leftover-removed");
	EXPECT_EQ(3, json_object_array_length(recs));
	r = find_path(recs, self->sock);
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("socket", th_json_str(r, "kind") ?: "");
	EXPECT_STREQ("sockd", th_json_str(r, "service") ?: "");
	EXPECT_STREQ("enforce", th_json_str(r, "mode") ?: "");
	ev = th_json_get(r, "evidence");
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(0, th_json_bool(ev, "socket_bound"));
	EXPECT_EQ(0, th_json_bool(ev, "socket_answers"));
	r = find_path(recs, self->lock);
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("lock", th_json_str(r, "kind") ?: "");
	ev = th_json_get(r, "evidence");
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(pid0, th_json_int(ev, "pid"));
	EXPECT_EQ(0, th_json_bool(ev, "pid_alive"));
	EXPECT_EQ(0, th_json_bool(ev, "locked"));
	r = find_path(recs, self->pidfile);
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("pidfile", th_json_str(r, "kind") ?: "");
	json_object_put(recs);
	/* the live instance's own files were never touched afterwards */
	recs = th_journal_records(self->journal, "phagocyte", "leftover-kept");
	EXPECT_EQ(0, json_object_array_length(recs));
	json_object_put(recs);
}

/* ---- zombies ------------------------------------------------------------------- */

/*
 * The zombie farm: forks n children that exit at once and never reaps
 * them; every SIGCHLD sent by a process (SI_USER, not a child's exit) is
 * reported on the pipe as "PID\n".
 */
static int farm_pipe = -1;

static void farm_sigchld(int sig, siginfo_t *si, void *uc)
{
	char buf[32];
	int n;

	(void)sig;
	(void)uc;
	if (si->si_code != SI_USER)
		return;
	n = snprintf(buf, sizeof(buf), "%d\n", si->si_pid);
	if (write(farm_pipe, buf, (size_t)n) < 0)
		_exit(3);
}

static pid_t zombie_farm(int n, int *rd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid) {
		close(p[1]);
		*rd = p[0];
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		return pid;
	}
	{
		struct sigaction sa = { .sa_sigaction = farm_sigchld,
					.sa_flags = SA_SIGINFO | SA_RESTART };

		close(p[0]);
		farm_pipe = p[1];
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigaction(SIGCHLD, &sa, NULL);
		for (int i = 0; i < n; i++)
			if (fork() == 0)
				_exit(0);
		for (;;)
			pause();
	}
}

static int zombies_of(pid_t parent)
{
	struct proc_iter it;
	struct proc_stat st;
	int n = 0;
	long pid;

	if (proc_iter_open(&it, "/proc"))
		return 0;
	while ((pid = proc_iter_next(&it)) >= 0)
		if (pid > 0 && !proc_stat_read((pid_t)pid, &st) && st.state == 'Z' &&
		    st.ppid == parent)
			n++;
	proc_iter_close(&it);
	return n;
}

/* The "zombies" records about one parent.  lymphd reports every parent on
 * the host: a test counts only its own (pid 1 here reaps orphans lazily,
 * up to about 2 s late, and is then a parent with zombies too). */
static json_object *zombie_records_of(const char *journal, pid_t parent)
{
	json_object *all = th_journal_records(journal, "phagocyte", "zombies");
	json_object *out = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *r = json_object_array_get_idx(all, i);

		if (th_json_int(r, "pid") == parent)
			json_object_array_add(out, json_object_get(r));
	}
	json_object_put(all);
	return out;
}

/* parent's zombies once there are n, or after ms. */
static int zombies_within(pid_t parent, int n, int ms)
{
	int64_t deadline = th_now_ms() + ms;

	while (zombies_of(parent) < n && th_now_ms() < deadline)
		th_sleep_ms(20);
	return zombies_of(parent);
}

/* The first "zombies" record about parent, within WAIT_MS (NULL: none). */
static json_object *first_zombie_record(const char *journal, pid_t parent)
{
	int64_t deadline = th_now_ms() + WAIT_MS;
	json_object *recs, *rec = NULL;

	while (!rec && th_now_ms() < deadline) {
		recs = zombie_records_of(journal, parent);
		if (json_object_array_length(recs))
			rec = json_object_get(json_object_array_get_idx(recs, 0));
		json_object_put(recs);
		if (!rec)
			th_sleep_ms(100);
	}
	return rec;
}

/* Kill a farm and reap its zombies here (this test process is their
 * subreaper) rather than leave them to pid 1 for the next test to see. */
static void kill_farm(pid_t farm)
{
	pid_t z[64];
	size_t n = 0;
	struct proc_iter it;
	struct proc_stat st;
	long pid;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!proc_iter_open(&it, "/proc")) {
		while ((pid = proc_iter_next(&it)) >= 0 && n < 64)
			if (pid > 0 && !proc_stat_read((pid_t)pid, &st) && st.ppid == farm)
				z[n++] = (pid_t)pid;
		proc_iter_close(&it);
	}
	kill(farm, SIGKILL);
	waitpid(farm, NULL, 0);
	for (size_t i = 0; i < n; i++)
		waitpid(z[i], NULL, 0);
}

/* A parent hoarding 20 zombies (over zombie_max 10 for more than 1 s) is
 * reported with the evidence, sent SIGCHLD once, shown in status and the
 * metrics, and never killed. */
TEST_F_TIMEOUT(phago, zombie_farm_reported_and_sent_sigchld_once, 90)
{
	static struct th_cmd r;
	json_object *recs, *rec = NULL, *st, *ph, *parents;
	char buf[256] = "";
	int rd = -1, found = 0;
	ssize_t n;
	pid_t farm;

	ASSERT_EQ(
		0,
		write_policy(
			self, "",
			"zombie_max = 10\nzombie_after = 1s\nzombie_interval = 200ms\nforesight = no\n"));
	ASSERT_EQ(0, start_lymphd(self));
	farm = zombie_farm(20, &rd);
	ASSERT_GT(farm, 0);
	ASSERT_EQ(20, zombies_within(farm, 20, 10000));

	rec = first_zombie_record(self->journal, farm);
	ASSERT_NE(NULL, rec) TH_LOG("no zombies record for the farm %d", farm);
	EXPECT_EQ(20, th_json_int(rec, "zombies"));
	EXPECT_EQ(10, th_json_int(rec, "zombie_max"));
	EXPECT_STREQ("sent SIGCHLD", th_json_str(rec, "result") ?: "");
	EXPECT_STREQ("enforce", th_json_str(rec, "mode") ?: "");
	EXPECT_EQ(16, json_object_array_length(th_json_get(rec, "zombie_pids")));
	EXPECT_GE(json_dbl(rec, "over_for_s"), 1.0);
	json_object_put(rec);

	/* the status and the metrics show it while it lasts */
	st = th_status(&self->d);
	ASSERT_NE(NULL, st);
	ph = th_json_get(st, "phagocyte");
	ASSERT_NE(NULL, ph);
	parents = th_json_get(ph, "zombie_parents");
	ASSERT_NE(NULL, parents);
	for (size_t i = 0; i < json_object_array_length(parents); i++) {
		json_object *e = json_object_array_get_idx(parents, i);

		if (th_json_int(e, "pid") == farm) {
			found = 1;
			EXPECT_EQ(20, th_json_int(e, "zombies"));
			EXPECT_EQ(1, th_json_bool(e, "sigchld_sent"));
		}
	}
	EXPECT_TRUE(found) TH_LOG("%s", th_json_text(ph));
	EXPECT_GE(th_json_int(ph, "zombie_reports"), 1);
	/* the farm came after lymphd's first scan: with the BPF sensors
	 * (every death a record) the scans that found it read only the pids
	 * that died, not all of /proc */
	if (!strcmp(th_json_str(st, "source") ?: "", "bpf"))
		EXPECT_GE(th_json_int(ph, "zombie_scans_targeted"), 1) TH_LOG("%s", th_json_text(ph));
	EXPECT_GE(th_json_int(ph, "zombie_scans_full"), 1); /* the first */
	json_object_put(st);
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "metrics", NULL));
	EXPECT_NE(NULL, strstr(r.out, "\nlymph_zombie_parents ")) TH_LOG("%.2000s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\nlymph_zombies "));

	/* once per episode: three more seconds bring no second SIGCHLD */
	th_sleep_ms(3000);
	n = read(rd, buf, sizeof(buf) - 1);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	EXPECT_EQ(1, th_count_lines(buf)) TH_LOG("SIGCHLD senders: %s", buf);
	EXPECT_EQ(self->d.pid, atoi(buf));
	/* never killed, zombies still there (it does not reap) */
	EXPECT_EQ(0, kill(farm, 0));
	EXPECT_EQ(20, zombies_of(farm));
	recs = zombie_records_of(self->journal, farm);
	EXPECT_EQ(1, json_object_array_length(recs)) TH_LOG("%s", th_json_text(recs));
	json_object_put(recs);
	kill_farm(farm);
	close(rd);
}

/* Zombies older than lymphd (their deaths came before its sensors) are
 * found all the same: its first scan reads all of /proc. */
TEST_F_TIMEOUT(phago, zombies_from_before_lymphd_are_found, 90)
{
	json_object *rec;
	int rd = -1;
	pid_t farm;

	farm = zombie_farm(12, &rd);
	ASSERT_GT(farm, 0);
	ASSERT_EQ(12, zombies_within(farm, 12, 10000));
	ASSERT_EQ(
		0,
		write_policy(
			self, "",
			"zombie_max = 10\nzombie_after = 1s\nzombie_interval = 200ms\nforesight = no\n"));
	ASSERT_EQ(0, start_lymphd(self));
	rec = first_zombie_record(self->journal, farm);
	EXPECT_NE(NULL, rec) TH_LOG("no zombies record for the farm %d, older than lymphd", farm);
	if (rec)
		EXPECT_EQ(12, th_json_int(rec, "zombies"));
	json_object_put(rec);
	kill_farm(farm);
	close(rd);
}

/* A supervised service that hoards zombies, with zombie_restart = yes, is
 * sent SIGCHLD, then restarted when that does not help. */
TEST_F_TIMEOUT(phago, zombie_hoarding_service_restarted_by_policy, 90)
{
	char extra[1024];
	json_object *recs;
	pid_t pid0, pid1;

	snprintf(extra, sizeof(extra), "zombie_restart = yes\nleftovers = %s %s\n", self->sock,
		 self->lock);
	ASSERT_EQ(
		0,
		write_policy(
			self, extra,
			"zombie_max = 5\nzombie_after = 1s\nzombie_interval = 200ms\nforesight = no\n"));
	ASSERT_EQ(0, start_lymphd(self));
	pid0 = wait_sockd(self->sock, 0, WAIT_MS);
	ASSERT_GT(pid0, 0);
	ASSERT_EQ(0, sockd_send(self->sock, "zombies 10\n"));
	pid1 = wait_sockd(self->sock, pid0, WAIT_MS);
	ASSERT_GT(pid1, 0) TH_LOG("the hoarding service was not restarted");
	recs = zombie_records_of(self->journal, pid0);
	ASSERT_EQ(1, json_object_array_length(recs)) TH_LOG("%s", th_json_text(recs));
	EXPECT_EQ(pid0, th_json_int(json_object_array_get_idx(recs, 0), "pid"));
	EXPECT_STREQ("sockd", th_json_str(json_object_array_get_idx(recs, 0), "service") ?: "");
	json_object_put(recs);
	recs = th_journal_records(self->journal, "phagocyte", "zombie-restart");
	EXPECT_EQ(1, json_object_array_length(recs));
	json_object_put(recs);
}

/* ---- disk foresight ------------------------------------------------------------ */

static int mount_tmpfs(const char *dir, const char *size)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "size=%s,mode=0755", size);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return mount("tmpfs", dir, "tmpfs", 0, opts) ? -errno : 0;
}

/*
 * The filler: every period_us (on an absolute schedule) appends data_kib
 * to DIR/data/fill.N (a new file per MiB) and log_kib to DIR/log/app.log,
 * which is rotated to app.log.1 past rotate_kib (the sawtooth).  When the
 * data write hits ENOSPC it writes "FULL_MS ROTATIONS\n" (wall ms) to the
 * pipe and exits.  data_kib 0: the log alone, forever.
 */
static pid_t filler(const char *dir, int data_kib, int log_kib, int rotate_kib, long period_us,
		    int *rd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid) {
		close(p[1]);
		*rd = p[0];
		return pid;
	}
	{
		char data[400], logp[400], rot[400], path[450];
		static char chunk[1 << 20];
		int64_t t0 = th_now_ms() * 1000, k;
		int fd = -1, rotations = 0;
		long in_file = 0, logsz = 0;
		struct timespec ts;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(chunk, 'x', sizeof(chunk));
		snprintf(data, sizeof(data), "%s/data", dir);
		snprintf(logp, sizeof(logp), "%s/log/app.log", dir);
		snprintf(rot, sizeof(rot), "%s/log/app.log.1", dir);
		mkdir(data, 0755);
		snprintf(path, sizeof(path), "%s/log", dir);
		mkdir(path, 0755);
		for (k = 1;; k++) {
			int64_t due = t0 + k * period_us, now;
			int lfd;

			if (data_kib) {
				if (fd < 0 || in_file >= (1 << 20)) {
					if (fd >= 0)
						close(fd);
					snprintf(path, sizeof(path), "%s/fill.%lld", data,
						 (long long)k);
					fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
					in_file = 0;
				}
				if (fd < 0 || write(fd, chunk, (size_t)data_kib << 10) !=
						      (ssize_t)data_kib << 10) {
					clock_gettime(CLOCK_REALTIME, &ts);
					dprintf(p[1], "%lld %d\n",
						(long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
						rotations);
					_exit(0);
				}
				in_file += (long)data_kib << 10;
			}
			lfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (lfd >= 0) {
				if (write(lfd, chunk, (size_t)log_kib << 10) > 0)
					logsz += (long)log_kib << 10;
				close(lfd);
			}
			if (logsz >= (long)rotate_kib << 10) {
				rename(logp, rot);
				logsz = 0;
				rotations++;
			}
			now = th_now_ms() * 1000;
			if (due > now)
				th_sleep_ms((long)((due - now) / 1000));
		}
	}
}

/* The first "phagocyte" record with action about mount, within timeout_ms. */
static json_object *wait_phago(const char *journal, const char *action, const char *mount,
			       int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;

	do {
		json_object *recs = th_journal_records(journal, "phagocyte", action), *r = NULL;

		for (size_t i = 0; i < json_object_array_length(recs) && !r; i++)
			if (!strcmp(th_json_str(json_object_array_get_idx(recs, i), "mount") ?: "",
				    mount))
				r = json_object_get(json_object_array_get_idx(recs, i));
		json_object_put(recs);
		if (r)
			return r;
		th_sleep_ms(100);
	} while (th_now_ms() < deadline);
	return NULL;
}

/* A 40 MiB tmpfs filled at 2 MiB/s beside a log that grows at 1 MiB/s and
 * is rotated every 0.5 s: the predicted time to full is within 25 % of the
 * real one, and the growth report names the directory that filled it. */
TEST_F_TIMEOUT(phago, disk_time_to_full_predicted_within_25pct, 120)
{
	char mnt[400], phago[800], line[128] = "", want[450];
	json_object *rec, *grew;
	double ttf, pred_ms, rec_ms, real_ttf;
	long long full_ms = 0;
	int rd = -1, rotations = 0;
	ssize_t n;
	pid_t f;

	snprintf(mnt, sizeof(mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mount_tmpfs(mnt, "40m"));
	snprintf(phago, sizeof(phago),
		 "disk_watch = %s\ndisk_interval = 250ms\ndisk_window = 8s\n"
		 "disk_horizon = 1h\n",
		 mnt);
	ASSERT_EQ(0, write_policy(self, "", phago));
	ASSERT_EQ(0, start_lymphd(self));
	f = filler(mnt, 128, 64, 512, 62500, &rd);
	ASSERT_GT(f, 0);

	rec = wait_phago(self->journal, "disk-foresight", mnt, WAIT_MS);
	ASSERT_NE(NULL, rec);
	ttf = json_dbl(rec, "time_to_full_s");
	pred_ms = json_dbl(rec, "predicted_full_wall_ms");
	rec_ms = pred_ms - ttf * 1000;
	EXPECT_STREQ("bytes", th_json_str(rec, "fills_first") ?: "");
	EXPECT_LT(json_dbl(rec, "bytes_per_s"), 0);
	json_object_put(rec);

	n = read(rd, line, sizeof(line) - 1); /* blocks until the filler hits ENOSPC */
	ASSERT_GT(n, 0);
	line[n] = 0;
	ASSERT_EQ(2, sscanf(line, "%lld %d", &full_ms, &rotations));
	waitpid(f, NULL, 0);
	close(rd);
	real_ttf = (double)full_ms - rec_ms;
	TH_LOG("predicted %.2f s to full, really %.2f s (%+.1f %%), %d log rotations", ttf,
	       real_ttf / 1000, 100.0 * (ttf * 1000 - real_ttf) / real_ttf, rotations);
	EXPECT_GT(real_ttf, 0);
	EXPECT_LE(fabs(ttf * 1000 - real_ttf), 0.25 * real_ttf);
	EXPECT_GE(rotations, 5);

	/* which directories grew: data, not the rotating log */
	rec = wait_phago(self->journal, "disk-growth", mnt, WAIT_MS);
	ASSERT_NE(NULL, rec);
	grew = th_json_get(rec, "grew");
	ASSERT_NE(NULL, grew);
	ASSERT_GE(json_object_array_length(grew), 1);
	snprintf(want, sizeof(want), "%s/data", mnt);
	EXPECT_STREQ(want, th_json_str(json_object_array_get_idx(grew, 0), "dir") ?: "")
	TH_LOG("%s", th_json_text(rec));
	json_object_put(rec);
	umount2(mnt, MNT_DETACH);
}

/* The rotating log alone (net growth zero) is never taken for a filling disk. */
TEST_F_TIMEOUT(phago, disk_sawtooth_alone_is_no_trend, 60)
{
	char mnt[400], phago[800];
	json_object *rec, *st, *disks;
	int rd = -1, seen = 0;
	pid_t f;

	snprintf(mnt, sizeof(mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mount_tmpfs(mnt, "40m"));
	snprintf(phago, sizeof(phago),
		 "disk_watch = %s\ndisk_interval = 250ms\ndisk_window = 4s\n"
		 "disk_horizon = 1m\n",
		 mnt);
	ASSERT_EQ(0, write_policy(self, "", phago));
	ASSERT_EQ(0, start_lymphd(self));
	f = filler(mnt, 0, 64, 512, 62500, &rd);
	ASSERT_GT(f, 0);
	th_sleep_ms(10000);
	st = th_status(&self->d);
	ASSERT_NE(NULL, st);
	disks = th_json_get(th_json_get(st, "phagocyte"), "disks");
	ASSERT_NE(NULL, disks);
	for (size_t i = 0; i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i);

		if (strcmp(th_json_str(d, "mount") ?: "", mnt))
			continue;
		seen = 1;
		EXPECT_EQ(0, th_json_bool(d, "learning"));
		EXPECT_EQ(0, th_json_bool(d, "danger")) TH_LOG("%s", th_json_text(d));
	}
	EXPECT_TRUE(seen);
	json_object_put(st);
	rec = wait_phago(self->journal, "disk-foresight", mnt, 100);
	EXPECT_EQ(NULL, rec) TH_LOG("false prediction: %s", th_json_text(rec));
	json_object_put(rec);
	kill(f, SIGKILL);
	waitpid(f, NULL, 0);
	close(rd);
	umount2(mnt, MNT_DETACH);
}

static void touch_file(const char *path, size_t size, int age_days)
{
	static char buf[1 << 16];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct timespec t[2];

	if (fd < 0)
		return;
	memset(buf, 'y', sizeof(buf));
	while (size) {
		size_t k = size < sizeof(buf) ? size : sizeof(buf);

		if (write(fd, buf, k) != (ssize_t)k)
			break;
		size -= k;
	}
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= (time_t)age_days * 86400 + 60;
	t[1] = t[0];
	futimens(fd, t);
	close(fd);
}

static void age_file(const char *path, int seconds)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= seconds;
	t[1] = t[0];
	utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW);
}

static bool exists_l(const char *dir, const char *rel)
{
	char p[600];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return !lstat(p, &st);
}

/* When the tmpfs is predicted full, the tidy rules remove exactly what
 * they name (old *.gz, recursively; the oldest beyond a budget), never
 * a file outside them nor through a symlink, and space comes back. */
TEST_F_TIMEOUT(phago, tidy_reclaims_only_what_the_rules_name, 120)
{
	char mnt[400], logs[450], phago[2048], p[600];
	json_object *rec;
	int rd = -1;
	pid_t f;

	snprintf(mnt, sizeof(mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mount_tmpfs(mnt, "40m"));
	snprintf(logs, sizeof(logs), "%s/logs", mnt);
	mkdir(logs, 0755);
	snprintf(p, sizeof(p), "%s/sub", logs);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/outside", mnt);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/budget", logs);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a.1.gz", logs);
	touch_file(p, 1 << 20, 3); /* old: named */
	snprintf(p, sizeof(p), "%s/a.2.gz", logs);
	touch_file(p, 1 << 20, 5); /* old: named */
	snprintf(p, sizeof(p), "%s/new.gz", logs);
	touch_file(p, 1 << 20, 0); /* young: kept */
	snprintf(p, sizeof(p), "%s/keep.txt", logs);
	touch_file(p, 1 << 20, 9); /* other name: kept */
	snprintf(p, sizeof(p), "%s/sub/b.gz", logs);
	touch_file(p, 1 << 20, 4); /* old, below: named */
	snprintf(p, sizeof(p), "%s/outside/c.gz", mnt);
	touch_file(p, 1 << 20, 9);		    /* outside: kept */
	snprintf(p, sizeof(p), "%s/link.gz", logs); /* symlink: kept */
	ASSERT_EQ(0, symlink("../outside/c.gz", p));
	snprintf(p, sizeof(p), "%s/linkdir", logs);
	ASSERT_EQ(0, symlink("../outside", p));
	for (int i = 0; i < 4; i++) { /* budget 1 MiB: the two newest of four 512 KiB kept */
		snprintf(p, sizeof(p), "%s/budget/r%d", logs, i);
		touch_file(p, 512 << 10, 0);
		age_file(p, 600 - i * 60); /* r3 newest */
	}
	snprintf(phago, sizeof(phago),
		 "disk_watch = %s\ndisk_interval = 250ms\ndisk_window = 4s\ndisk_horizon = 1h\n"
		 "root = %s\n"
		 "tidy = %s pattern=*.gz age=1d recurse=yes\n"
		 "tidy = %s/budget budget=1M\n",
		 mnt, logs, logs, logs);
	ASSERT_EQ(0, write_policy(self, "", phago));
	ASSERT_EQ(0, start_lymphd(self));
	f = filler(mnt, 128, 16, 256, 62500, &rd);
	ASSERT_GT(f, 0);
	rec = wait_phago(self->journal, "tidy", mnt, WAIT_MS);
	kill(f, SIGKILL);
	waitpid(f, NULL, 0);
	close(rd);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(5, th_json_int(rec, "removed")) TH_LOG("%s", th_json_text(rec));
	EXPECT_EQ(5, th_json_int(rec, "named"));
	EXPECT_EQ(1, th_json_bool(rec, "space_came_back")) TH_LOG("%s", th_json_text(rec));
	EXPECT_GE(json_dbl(rec, "avail_after") - json_dbl(rec, "avail_before"), 3.0 * (1 << 20));
	json_object_put(rec);

	EXPECT_FALSE(exists_l(logs, "a.1.gz"));
	EXPECT_FALSE(exists_l(logs, "a.2.gz"));
	EXPECT_FALSE(exists_l(logs, "sub/b.gz"));
	EXPECT_FALSE(exists_l(logs, "budget/r0"));
	EXPECT_FALSE(exists_l(logs, "budget/r1"));
	EXPECT_TRUE(exists_l(logs, "budget/r2"));
	EXPECT_TRUE(exists_l(logs, "budget/r3"));
	EXPECT_TRUE(exists_l(logs, "new.gz"));
	EXPECT_TRUE(exists_l(logs, "keep.txt"));
	EXPECT_TRUE(exists_l(logs, "link.gz"));
	EXPECT_TRUE(exists_l(logs, "linkdir"));
	EXPECT_TRUE(exists_l(mnt, "outside/c.gz"));
	umount2(mnt, MNT_DETACH);
}

/* ---- crash artifacts ------------------------------------------------------------ */

/* A real SIGSEGV with a core, in dir, at site 0 or 1 (th_dump_core); the
 * core renamed core.PID as kernel.core_uses_pid would.  Its pid or -1. */
static int dump_core(const char *dir, int site)
{
	char from[400], to[420];
	pid_t pid = th_dump_core(dir, site);

	if (pid < 0)
		return -1;
	snprintf(from, sizeof(from), "%s/core", dir);
	snprintf(to, sizeof(to), "%s/core.%d", dir, pid);
	if (rename(from, to))
		return -1;
	th_sleep_ms(20); /* distinct mtimes: file timestamps are coarse */
	return pid;
}

/* A crash loop dumping cores in a service's working directory: the first
 * core of each signature and the most recent are kept, the repeats
 * removed, the signatures counted; a smaller budget keeps the newest only. */
TEST_F_TIMEOUT(phago, crash_loop_cores_budgeted_per_binary, 120)
{
	static struct th_cmd r;
	char wd[400], extra[600], path[450];
	pid_t a[4], b[2];
	json_object *o, *sigs;
	int64_t deadline;
	struct stat st;
	int i, seen = 0;

	if (strcmp(th_read_core_pattern(), "core"))
		SKIP(return,
			   "kernel.core_pattern is '%s', not 'core': cores do not land in the working directory",
			   th_read_core_pattern());
	snprintf(wd, sizeof(wd), "%s/wd", self->dir);
	ASSERT_EQ(0, mkdir(wd, 0755));
	for (i = 0; i < 4; i++)
		ASSERT_GT(a[i] = dump_core(wd, 0), 0);
	for (i = 0; i < 2; i++)
		ASSERT_GT(b[i] = dump_core(wd, 1), 0);
	snprintf(extra, sizeof(extra), "workdir = %s\n", wd);
	ASSERT_EQ(0, write_policy(self, extra, "core_interval = 200ms\nforesight = no\n"));
	ASSERT_EQ(0, start_lymphd(self));
	deadline = th_now_ms() + WAIT_MS;
	while (th_journal_count(self->journal, "phagocyte", "core-removed") < 3 &&
	       th_now_ms() < deadline)
		th_sleep_ms(100);
	EXPECT_EQ(3, th_journal_count(self->journal, "phagocyte", "core-removed"));
	snprintf(path, sizeof(path), "%s/core.%d", wd, a[0]);
	EXPECT_EQ(0, access(path, F_OK)) TH_LOG("the first core of signature a was removed");
	for (i = 1; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/core.%d", wd, a[i]);
		EXPECT_NE(0, access(path, F_OK)) TH_LOG("repeat %d of signature a kept", i);
	}
	snprintf(path, sizeof(path), "%s/core.%d", wd, b[0]);
	EXPECT_EQ(0, access(path, F_OK)) TH_LOG("the first core of signature b was removed");
	snprintf(path, sizeof(path), "%s/core.%d", wd, b[1]);
	EXPECT_EQ(0, access(path, F_OK)) TH_LOG("the newest core was removed");

	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "crashes", "--json", NULL));
	o = json_tokener_parse(r.out);
	ASSERT_NE(NULL, o) TH_LOG("%s", r.out);
	sigs = th_json_get(o, "signatures");
	ASSERT_NE(NULL, sigs);
	for (size_t k = 0; k < json_object_array_length(sigs); k++) {
		json_object *s = json_object_array_get_idx(sigs, k);
		int64_t n = th_json_int(s, "count");

		if (!strstr(th_json_str(s, "binary") ?: "", "phagocyte_test"))
			continue;
		seen++;
		EXPECT_TRUE(n == 4 || n == 2) TH_LOG("%s", th_json_text(s));
		EXPECT_EQ(n == 4 ? 1 : 2, json_object_array_length(th_json_get(s, "kept")));
		EXPECT_NE(NULL, strstr(th_json_str(s, "label") ?: "", "SEGV at phagocyte_test+0x"))
		TH_LOG("%s", th_json_text(s));
	}
	EXPECT_EQ(2, seen) TH_LOG("%s", r.out);
	json_object_put(o);
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "crashes", NULL));
	EXPECT_NE(NULL, strstr(r.out, "SEGV at phagocyte_test+0x")) TH_LOG("%s", r.out);

	/* a budget for one core: the newest only */
	snprintf(path, sizeof(path), "%s/core.%d", wd, b[1]);
	ASSERT_EQ(0, stat(path, &st));
	snprintf(extra, sizeof(extra), "workdir = %s\n", wd);
	{
		char ph[200];

		snprintf(ph, sizeof(ph),
			 "core_interval = 200ms\nforesight = no\ncore_budget_per_binary = %lldK\n",
			 (long long)st.st_blocks * 512 * 3 / 2 / 1024);
		ASSERT_EQ(0, write_policy(self, extra, ph));
	}
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "reload", NULL));
	deadline = th_now_ms() + WAIT_MS;
	while (th_journal_count(self->journal, "phagocyte", "core-removed") < 5 &&
	       th_now_ms() < deadline)
		th_sleep_ms(100);
	EXPECT_EQ(5, th_journal_count(self->journal, "phagocyte", "core-removed"));
	EXPECT_EQ(0, access(path, F_OK)) TH_LOG("the newest core was removed");
	snprintf(path, sizeof(path), "%s/core.%d", wd, a[0]);
	EXPECT_NE(0, access(path, F_OK));
}

/* ---- leaks of supervised services ------------------------------------------------------ */

/* Policy for one service "leak" running DIR/leakd MODE DIR/marker. */
static int write_leak_policy(FIXTURE_DATA(phago) * self, const char *mode, const char *leakd,
			     const char *marker, const char *extra)
{
	char text[8192];

	snprintf(
		text, sizeof(text),
		SVC_QUIET_POLICY
		"[phagocyte]\nforesight = no\ncores = no\nleak_interval = 250ms\nleak_window = 4s\n"
		"[service leak]\nstart = %s %s %s\nexe = %s\nlog = %s\n"
		"env = LEAKD_DIE_WITH_PARENT=1\n"
		"backoff_min = 100ms\nsettle = 200ms\nleak_horizon = 20s\n%s",
		leakd, mode, marker, leakd, self->log, extra);
	return th_write_file(self->conf, text, 0644);
}

static pid_t leak_pid(const struct th_lymphd *d)
{
	static struct th_cmd r;
	json_object *o, *arr;
	pid_t pid = 0;

	if (th_lymphctl(d, &r, NULL, "services", "--json", NULL) || r.status)
		return 0;
	o = json_tokener_parse(r.out);
	arr = o ? th_json_get(o, "services") : NULL;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);

		if (!strcmp(th_json_str(s, "name") ?: "", "leak") &&
		    !strcmp(th_json_str(s, "state") ?: "", "running"))
			pid = (pid_t)th_json_int(s, "pid");
	}
	json_object_put(o);
	return pid > 0 ? pid : 0;
}

static void leak_case(struct __test_metadata *_metadata, FIXTURE_DATA(phago) * self,
		      const char *mode, const char *resource, const char *extra,
		      const char *limit_from)
{
	static struct th_cmd r;
	char leakd[400], marker[400];
	json_object *recs, *rec;
	int64_t deadline;
	pid_t pid0 = 0, pid1 = 0;

	snprintf(leakd, sizeof(leakd), "%s/leakd", self->dir);
	snprintf(marker, sizeof(marker), "%s/marker", self->dir);
	ASSERT_EQ(0, svc_build_prog("leakd", leakd));
	ASSERT_EQ(0, write_leak_policy(self, mode, leakd, marker, extra));
	ASSERT_EQ(0, start_lymphd(self));
	deadline = th_now_ms() + WAIT_MS;
	while (!(pid0 = leak_pid(&self->d)) && th_now_ms() < deadline)
		th_sleep_ms(50);
	ASSERT_GT(pid0, 0);
	deadline = th_now_ms() + 60000;
	while (th_now_ms() < deadline && access(marker, F_OK)) {
		pid1 = leak_pid(&self->d);
		if (pid1 && pid1 != pid0)
			break;
		th_sleep_ms(100);
	}
	EXPECT_NE(0, access(marker, F_OK))
	TH_LOG("the service hit its limit before lymphd restarted it");
	ASSERT_GT(pid1, 0);
	ASSERT_NE(pid0, pid1) TH_LOG("never restarted");
	recs = th_journal_records(self->journal, "phagocyte", "leak-restart");
	ASSERT_EQ(1, json_object_array_length(recs));
	rec = json_object_array_get_idx(recs, 0);
	EXPECT_STREQ(resource, th_json_str(rec, "resource") ?: "");
	EXPECT_EQ(pid0, th_json_int(rec, "pid"));
	EXPECT_GT(json_dbl(rec, "per_s"), 0);
	EXPECT_LT(json_dbl(rec, "time_to_limit_s"), 20.0);
	EXPECT_GT(json_dbl(rec, "time_to_limit_s"), 0.0);
	if (limit_from)
		EXPECT_STREQ(limit_from, th_json_str(rec, "limit_from") ?: "");
	TH_LOG("%s", th_json_text(rec));
	json_object_put(recs);
	/* the outcome: the supervisor's restart, verified */
	EXPECT_LE(1, service_records(self->journal, "leak", "restart"));
	/* visible in lymphctl services */
	ASSERT_EQ(0, th_lymphctl(&self->d, &r, NULL, "services", NULL));
	EXPECT_NE(NULL, strstr(r.out, "LEAKS")) TH_LOG("%s", r.out);
	/* no OOM kill, no EMFILE: the marker was never written */
	EXPECT_NE(0, access(marker, F_OK));
}

TEST_F_TIMEOUT(phago, memory_leak_restarted_before_rlimit_as, 120)
{
	leak_case(_metadata, self, "mem", "memory", "", "rlimit_as");
}

TEST_F_TIMEOUT(phago, fd_leak_restarted_before_emfile, 120)
{
	leak_case(_metadata, self, "fds", "fds", "", NULL);
}

/* Its own memory cgroup (v1 here) limited to 96 MiB: restarted before the
 * OOM killer acts (the cgroup's oom_kill count stays 0). */
TEST_F_TIMEOUT(phago, memory_leak_in_a_limited_cgroup_restarted_before_oom, 120)
{
	char self_cg[512] = "", cg[800], rel[700], file[900], extra[2048], buf[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int fd;
	ssize_t n;

	while (f && fgets(buf, sizeof(buf), f))
		if (strstr(buf, ":memory:"))
			snprintf(self_cg, sizeof(self_cg), "%s", strstr(buf, ":memory:") + 8);
	if (f)
		fclose(f);
	self_cg[strcspn(self_cg, "\n")] = 0;
	if (!self_cg[0] || access("/sys/fs/cgroup/memory/cgroup.procs", W_OK))
		SKIP(return, "no writable cgroup v1 memory controller here");
	snprintf(rel, sizeof(rel), "memory%s/lymph-leak-%d", strcmp(self_cg, "/") ? self_cg : "",
		 getpid());
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/%s", rel);
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(file, sizeof(file), "%s/memory.limit_in_bytes", cg);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_GT(write(fd, "100663296", 9), 0);
	close(fd);
	snprintf(extra, sizeof(extra), "cgroup = %s\nenv = LEAKD_CGROUP_PROCS=%s/cgroup.procs\n",
		 rel, cg);
	leak_case(_metadata, self, "mem", "memory", extra, "cgroup");
	snprintf(file, sizeof(file), "%s/memory.oom_control", cg);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	EXPECT_NE(NULL, strstr(buf, "oom_kill 0")) TH_LOG("%s", buf);
	/* empty the cgroup, then remove it */
	{
		char leakd[400];

		snprintf(leakd, sizeof(leakd), "%s/leakd", self->dir);
		SVC_FIXTURE_STOP(self);
		svc_kill_exe(leakd);
		th_sleep_ms(200);
		rmdir(cg);
	}
}

/* A service whose memory grows and is freed again is never restarted. */
TEST_F_TIMEOUT(phago, sawtooth_memory_never_restarted, 60)
{
	char leakd[400], marker[400];
	json_object *recs;
	pid_t pid0;
	int64_t deadline;

	snprintf(leakd, sizeof(leakd), "%s/leakd", self->dir);
	snprintf(marker, sizeof(marker), "%s/marker", self->dir);
	ASSERT_EQ(0, svc_build_prog("leakd", leakd));
	ASSERT_EQ(0, write_leak_policy(self, "saw", leakd, marker, ""));
	ASSERT_EQ(0, start_lymphd(self));
	deadline = th_now_ms() + WAIT_MS;
	while (!(pid0 = leak_pid(&self->d)) && th_now_ms() < deadline)
		th_sleep_ms(50);
	ASSERT_GT(pid0, 0);
	th_sleep_ms(15000);
	EXPECT_EQ(pid0, leak_pid(&self->d));
	recs = th_journal_records(self->journal, "phagocyte", "leak-restart");
	EXPECT_EQ(0, json_object_array_length(recs)) TH_LOG("%s", th_json_text(recs));
	json_object_put(recs);
	EXPECT_NE(0, access(marker, F_OK));
}

/* Bad [phagocyte] input is refused by --check-config with file:line. */
TEST_F(phago, check_config_refuses_bad_phagocyte_input)
{
	EXPECT_EQ(0,
		  th_check_config_refuses(self->conf,
					  "[phagocyte]\n"		 /* 1 */
					  "root = /var/log\n"		 /* 2 */
					  "tidy = / age=1d\n"		 /* 3 */
					  "tidy = /srv/x age=1d\n"	 /* 4: outside the roots */
					  "tidy = /var/log budget=-5M\n" /* 5 */
					  "disk_horizon = 0\n"		 /* 6 */
					  "tidy = /var/log/app pattern=*.gz age=2d\n", /* 7: fine */
					  (const char *const[]){
						  "3: tidy: a rule on / is refused",
						  "5: tidy: budget '-5M' is negative",
						  "6: disk_horizon: 0 is out of range",
						  NULL,
					  }));

	/* a rule outside the roots is found once every file is read (the
	 * roots may come later, or from a drop-in) */
	EXPECT_EQ(0,
		  th_check_config_refuses(self->conf,
					  "[phagocyte]\n"
					  "tidy = /srv/x age=1d\n" /* 2 */
					  "root = /var/log\n",
					  (const char *const[]){
						  "2: tidy: /srv/x is outside the declared roots",
						  NULL,
					  }));
}

TEST_HARNESS_MAIN
