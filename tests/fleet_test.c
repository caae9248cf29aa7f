// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fleet immunity end to end: a real 3-node NATS cluster with JetStream on
 * loopback (Debian's nats-server, started here with its own data dirs and
 * ports, stopped after) and three real lymphd instances, hosts h0, h1, h2,
 * each with its own name, socket, journal and mount namespace.
 *
 * One machine plays three hosts: every lymphd sees every death on it, so
 * each host's copy of a binary is its own file (the same bytes, so the
 * same SHA-256) bind-mounted at one common path in that host's mount
 * namespace only.  A lymphd reports a death only when the file at the
 * path, in its own namespace, is the inode that died: exactly the deaths
 * of its own copy, as on separate machines.
 *
 *   - a binary crashing on h0 alone, however often, vaccinates nobody
 *     (h2 sees h0's report: one host);
 *   - once it crashes on h1 too (K = 2), h2 is vaccinated against its own
 *     copy, its weather is raised, its first crash there is quarantined at
 *     once, and root can lift the vaccination there (lymphctl fleet release);
 *   - with one NATS node killed, a second binary still vaccinates h2;
 *   - with the whole cluster down, h2 keeps its local responses (seven
 *     crashes: a local quarantine decision) and, once the cluster is back,
 *     catches up: a third binary that crashed on h0 and h1 meanwhile is
 *     vaccinated on h2.
 */
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "helpers.h"
#include "storm_helpers.h"
#include "kselftest_harness.h"

#define NN 3 /* NATS nodes */
#define NH 3 /* lymphd hosts */
#define NV 3 /* binaries: variants of the crasher */

FIXTURE(fleet)
{
	char dir[256];
	int base;
	pid_t nats[NN];
	pid_t lymphd[NH];
	char common[NV][PATH_MAX];   /* the path every host runs */
	char copy[NV][NH][PATH_MAX]; /* each host's own file there */
	ino_t ino[NV][NH];
};

static int nats_port(FIXTURE_DATA(fleet) * self, int i)
{
	return self->base + i;
}

static int start_nats(FIXTURE_DATA(fleet) * self, int i)
{
	self->nats[i] = th_nats_node(self->dir, "lymphtest", i, NN, self->base);
	return self->nats[i] < 0 ? self->nats[i] : 0;
}

static void stop_nats(FIXTURE_DATA(fleet) * self, int i)
{
	if (self->nats[i] > 0) {
		kill(self->nats[i], SIGKILL);
		waitpid(self->nats[i], NULL, 0);
	}
	self->nats[i] = -1;
}

/* Every node listens and the cluster has a JetStream meta leader. */
static bool cluster_ready(FIXTURE_DATA(fleet) * self, int64_t deadline)
{
	return th_nats_ready(self->dir, self->nats, NN, self->base, deadline);
}

/* In a new mount namespace: each variant's common path is this host's copy. */
static int enter_host(FIXTURE_DATA(fleet) * self, int h)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	for (int v = 0; v < NV; v++)
		if (mount(self->copy[v][h], self->common[v], NULL, MS_BIND, NULL))
			return -errno;
	return 0;
}

static int start_lymphd(FIXTURE_DATA(fleet) * self, int h)
{
	char conf[PATH_MAX], sock[PATH_MAX], journal[PATH_MAX + 16], err[PATH_MAX], prog[PATH_MAX];
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/h%d.conf", self->dir, h);
	snprintf(sock, sizeof(sock), "--socket=%s/h%d.sock", self->dir, h);
	snprintf(journal, sizeof(journal), "--journal=%s/h%d/journal", self->dir, h);
	snprintf(err, sizeof(err), "%s/h%d.stderr", self->dir, h);
	th_prog("lymphd", prog, sizeof(prog));
	f = fopen(conf, "w");
	if (!f)
		return -errno;
	/* h2 enforces (fanotify here): its vaccinations ban at once. */
	fprintf(f,
		"[lymphd]\nmode = %s\n\n[quarantine]\nthreshold = 5\nroot = yes\n\n[fleet]\n"
		"servers = nats://127.0.0.1:%d, nats://127.0.0.1:%d, nats://127.0.0.1:%d\n"
		"name = t%d\nhost = h%d\nk = 2\nwindow = 10m\nreplicas = 3\nvaccine = quarantine\n",
		h == 2 ? "enforce" : "observe", nats_port(self, 0), nats_port(self, 1),
		nats_port(self, 2), getpid(), h);
	fclose(f);
	self->lymphd[h] = fork();
	if (self->lymphd[h] < 0)
		return -errno;
	if (!self->lymphd[h]) {
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		if (e >= 0)
			dup2(e, 2);
		if (enter_host(self, h)) {
			dprintf(2, "failed to set up host h%d's mount namespace: %s\n", h,
				strerror(errno));
			_exit(126);
		}
		execl(prog, "lymphd", "-c", conf, sock, journal, "--quiet", "--source=bpf",
		      (char *)NULL);
		dprintf(2, "failed to exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	return 0;
}

/* `lymphctl fleet --json` of host h, parsed, or NULL. */
static json_object *fleet_of(FIXTURE_DATA(fleet) * self, int h)
{
	static struct th_cmd r;
	char sock[PATH_MAX + 16], prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphctl", prog, sizeof(prog)), sock, "fleet", "--json",
			 NULL };

	snprintf(sock, sizeof(sock), "--socket=%s/h%d.sock", self->dir, h);
	if (th_run(argv, NULL, &r) || r.status != 0)
		return NULL;
	return json_tokener_parse(r.out);
}

static bool link_is(FIXTURE_DATA(fleet) * self, int h, const char *want, bool ready)
{
	json_object *o = fleet_of(self, h);
	bool ok = o && !strcmp(th_json_str(o, "link"), want) &&
		  (!ready || th_json_bool(o, "ready") == 1);

	json_object_put(o);
	return ok;
}

/* Distinct hosts h's lymphd counts for variant v (by its path hint). */
static int distinct_seen(FIXTURE_DATA(fleet) * self, int h, int v)
{
	json_object *o = fleet_of(self, h), *arr;
	int n = -1;

	if (o && json_object_object_get_ex(o, "binaries", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *b = json_object_array_get_idx(arr, i);

			if (!strcmp(th_json_str(b, "path"), self->common[v]))
				n = (int)th_json_int(b, "distinct_hosts");
		}
	json_object_put(o);
	return n;
}

/* Host h's journal has a record with type, action and h's copy of v. */
static bool journaled(FIXTURE_DATA(fleet) * self, int h, const char *type, const char *action,
		      int v)
{
	char path[PATH_MAX], line[8192], t[64], a[64], ino[64];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/h%d/journal", self->dir, h);
	snprintf(t, sizeof(t), "\"type\":\"%s\"", type);
	snprintf(a, sizeof(a), "\"action\":\"%s\"", action);
	snprintf(ino, sizeof(ino), "\"exe_ino\":%llu,", (unsigned long long)self->ino[v][h]);
	f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, t) && strstr(line, a) && strstr(line, ino);
	if (f)
		fclose(f);
	return found;
}

static bool wait_journaled(FIXTURE_DATA(fleet) * self, int h, const char *type, const char *action,
			   int v, int ms)
{
	int64_t deadline = th_now_ms() + ms;

	while (th_now_ms() < deadline) {
		if (journaled(self, h, type, action, v))
			return true;
		th_sleep_ms(200);
	}
	return false;
}

/* Host h's journal has a line with text. */
static bool journal_says(FIXTURE_DATA(fleet) * self, int h, const char *text)
{
	char path[PATH_MAX], line[8192];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/h%d/journal", self->dir, h);
	f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text);
	if (f)
		fclose(f);
	return found;
}

/* `lymphctl fleet release PATH` on host h (in h's mount namespace, where
 * PATH is h's copy): its exit status. */
static int fleet_release_here(FIXTURE_DATA(fleet) * self, int h, const char *path)
{
	char sock[PATH_MAX + 16], prog[PATH_MAX];
	int status;
	pid_t pid;

	snprintf(sock, sizeof(sock), "--socket=%s/h%d.sock", self->dir, h);
	th_prog("lymphctl", prog, sizeof(prog));
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null, 1);
		if (enter_host(self, h))
			_exit(126);
		execl(prog, "lymphctl", sock, "fleet", "release", path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -ECHILD;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Host h's `lymphctl status` says the weather is raised by the fleet. */
static bool weather_by_fleet(FIXTURE_DATA(fleet) * self, int h)
{
	static struct th_cmd r;
	char sock[PATH_MAX + 16], prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphctl", prog, sizeof(prog)), sock, "status", "--json",
			 NULL };

	snprintf(sock, sizeof(sock), "--socket=%s/h%d.sock", self->dir, h);
	return !th_run(argv, NULL, &r) && r.status == 0 &&
	       strstr(r.out, "the fleet marks 1 binary here bad");
}

/* A real SIGSEGV of host h's copy of variant v, run as uid: 0, -EPERM when
 * the exec was refused (a quarantine or a ban), else -EPROTO. */
static int crash_as(FIXTURE_DATA(fleet) * self, int h, int v, uid_t uid)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		if (enter_host(self, h))
			_exit(126);
		if (uid && (setgid(uid) || setuid(uid)))
			_exit(125);
		execl(self->common[v], "crasher", "segv", (char *)NULL);
		_exit(errno == EPERM || errno == EACCES ? 77 : 127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -ECHILD;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		return -EPERM;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV ? 0 : -EPROTO;
}

static int crash(FIXTURE_DATA(fleet) * self, int h, int v)
{
	return crash_as(self, h, v, 0);
}

static void dump(FIXTURE_DATA(fleet) * self)
{
	char cmd[2 * PATH_MAX + 256];

	snprintf(cmd, sizeof(cmd),
		 "for f in %s/h*.stderr; do echo \"== $f\"; tail -n 20 \"$f\"; done >&2; "
		 "for f in %s/n*.log; do echo \"== $f\"; "
		 "grep -E 'WRN|ERR|leader' \"$f\" | tail -n 20; done >&2",
		 self->dir, self->dir);
	if (system(cmd))
		th_diag("could not show lymphd's stderr");
	for (int h = 0; h < NH; h++) {
		json_object *o = fleet_of(self, h);

		th_diag("h%d: %s", h, o ? json_object_to_json_string(o) : "(no answer)");
		json_object_put(o);
	}
}

FIXTURE_SETUP(fleet)
{
	char crasher[PATH_MAX], pdir[PATH_MAX + 8];
	struct stat st;

	for (int i = 0; i < NN; i++)
		self->nats[i] = -1;
	for (int h = 0; h < NH; h++)
		self->lymphd[h] = -1;
	if (!th_is_root())
		SKIP(return, "needs root (BPF sensors, mount namespaces)");
	if (access("/usr/sbin/nats-server", X_OK))
		SKIP(return, "nats-server is not installed: run scripts/deps.sh");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "fleet"));
	self->base = 24000 + (getpid() % 500) * 20;
	/* The crasher, in three variants (a distinct tail: distinct SHA-256),
	 * one copy per host of each. */
	ASSERT_EQ(0, storm_build_prog("crasher", self->dir, crasher, sizeof(crasher)));
	snprintf(pdir, sizeof(pdir), "%s/common", self->dir);
	ASSERT_EQ(0, mkdir(pdir, 0755));
	for (int h = 0; h < NH; h++) {
		snprintf(pdir, sizeof(pdir), "%s/h%d", self->dir, h);
		ASSERT_EQ(0, mkdir(pdir, 0700));
	}
	for (int v = 0; v < NV; v++) {
		int fd;

		snprintf(self->common[v], PATH_MAX, "%s/common/crasher-%c", self->dir, 'a' + v);
		fd = open(self->common[v], O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
		ASSERT_LE(0, fd);
		close(fd);
		for (int h = 0; h < NH; h++) {
			snprintf(self->copy[v][h], PATH_MAX, "%s/h%d/crasher-%c", self->dir, h,
				 'a' + v);
			ASSERT_EQ(0, th_copy_file(crasher, self->copy[v][h], 0755));
			fd = open(self->copy[v][h], O_WRONLY | O_APPEND | O_CLOEXEC);
			ASSERT_LE(0, fd);
			ASSERT_EQ(1, write(fd, "abc" + v, 1));
			close(fd);
			ASSERT_EQ(0, stat(self->copy[v][h], &st));
			self->ino[v][h] = st.st_ino;
		}
	}
	for (int i = 0; i < NN; i++)
		ASSERT_EQ(0, start_nats(self, i));
	ASSERT_TRUE(cluster_ready(self, th_now_ms() + 30000));
	for (int h = 0; h < NH; h++)
		ASSERT_EQ(0, start_lymphd(self, h));
	for (int h = 0; h < NH; h++) {
		int64_t deadline = th_now_ms() + 60000;

		while (th_now_ms() < deadline && !link_is(self, h, "connected", true))
			th_sleep_ms(300);
		if (!link_is(self, h, "connected", true))
			dump(self);
		ASSERT_TRUE(link_is(self, h, "connected", true))
		{
			TH_LOG("h%d never linked to the fleet", h);
		}
	}
}

FIXTURE_TEARDOWN(fleet)
{
	for (int h = 0; h < NH; h++)
		if (self->lymphd[h] > 0) {
			kill(self->lymphd[h], SIGTERM);
			waitpid(self->lymphd[h], NULL, 0);
		}
	for (int i = 0; i < NN; i++)
		stop_nats(self, i);
	if (self->dir[0] && !getenv("LYMPH_KEEP"))
		th_rmdir_flat(self->dir);
}

TEST_F_TIMEOUT(fleet, vaccination, 600)
{
	int64_t deadline;
	int i, n = -1;

	/* 1. One host alone: h0 crashes variant a six times.  h2 sees the
	 * report (one host), and nobody is vaccinated. */
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, crash(self, 0, 0));
	deadline = th_now_ms() + 20000;
	while (th_now_ms() < deadline && (n = distinct_seen(self, 2, 0)) < 1)
		th_sleep_ms(200);
	EXPECT_EQ(1, n)
	{
		TH_LOG("h2 never saw h0's report of crasher-a");
	}
	th_sleep_ms(2000); /* several evaluations */
	for (int h = 0; h < NH; h++) {
		EXPECT_FALSE(journaled(self, h, "fleet", "vaccinate", 0))
		{
			TH_LOG("h%d vaccinated by one host", h);
		}
	}

	/* 2. A second host: h2 is vaccinated against its own copy, and bans it
	 * at once (vaccine = quarantine, h2 enforces): before any death of it
	 * there, an ordinary uid may not run it; root is spared. */
	ASSERT_EQ(0, crash(self, 1, 0));
	EXPECT_TRUE(wait_journaled(self, 2, "fleet", "vaccinate", 0, 30000))
	{
		dump(self);
	}
	EXPECT_TRUE(journal_says(self, 2, "banned at once for every uid"));
	EXPECT_TRUE(wait_journaled(self, 0, "fleet", "vaccinate", 0, 30000));
	EXPECT_TRUE(journal_says(self, 0, "would be banned at once")); /* h0 observes */
	EXPECT_EQ(-EPERM, crash_as(self, 2, 0, 65534))
	{
		dump(self);
	}
	EXPECT_EQ(0, crash_as(self, 1, 0, 65534)); /* h1's own copy: not banned */
	deadline = th_now_ms() + 10000;
	while (th_now_ms() < deadline && !weather_by_fleet(self, 2))
		th_sleep_ms(250);
	EXPECT_TRUE(weather_by_fleet(self, 2));
	/* Root may run it; its first crash there quarantines it for root
	 * (the threshold is 5 otherwise). */
	ASSERT_EQ(0, crash(self, 2, 0));
	EXPECT_TRUE(wait_journaled(self, 2, "quarantine", "quarantine", 0, 10000));
	EXPECT_EQ(-EPERM, crash(self, 2, 0));
	/* Root lifts it here: journaled, the ban is gone, and lymphctl fleet
	 * shows none here. */
	EXPECT_EQ(0, fleet_release_here(self, 2, self->common[0]));
	EXPECT_TRUE(journaled(self, 2, "fleet", "release", 0));
	EXPECT_EQ(0, crash_as(self, 2, 0, 65534));
	EXPECT_NE(0, fleet_release_here(self, 2, self->common[0])); /* not twice */

	/* 3. One NATS node dies: a second binary still vaccinates h2. */
	stop_nats(self, 0);
	ASSERT_EQ(0, crash(self, 0, 1));
	ASSERT_EQ(0, crash(self, 1, 1));
	EXPECT_TRUE(wait_journaled(self, 2, "fleet", "vaccinate", 1, 60000))
	{
		dump(self);
	}

	/* 4. The whole cluster down: local responses go on ... */
	stop_nats(self, 1);
	stop_nats(self, 2);
	deadline = th_now_ms() + 20000;
	while (th_now_ms() < deadline && link_is(self, 2, "connected", false))
		th_sleep_ms(200);
	EXPECT_FALSE(link_is(self, 2, "connected", false));
	for (i = 0; i < 7; i++) { /* threshold 5, decaying between crashes */
		int r = crash(self, 2, 2);

		if (r == -EPERM)
			break; /* quarantined for root already */
		ASSERT_EQ(0, r);
	}
	EXPECT_TRUE(wait_journaled(self, 2, "quarantine", "quarantine", 2, 10000));
	EXPECT_FALSE(journaled(self, 2, "fleet", "vaccinate", 2));
	/* ... and what the fleet learns meanwhile reaches h2 once it is back. */
	ASSERT_EQ(0, crash(self, 0, 2));
	ASSERT_EQ(0, crash(self, 1, 2));
	for (i = 0; i < NN; i++)
		ASSERT_EQ(0, start_nats(self, i));
	EXPECT_TRUE(wait_journaled(self, 0, "fleet", "vaccinate", 2, 90000))
	{
		dump(self);
	}
	EXPECT_TRUE(wait_journaled(self, 2, "fleet", "vaccinate", 2, 30000))
	{
		dump(self);
	}
}

/* Without [fleet], lymphd is what it was: no link, no thread. */
TEST(no_fleet_no_thread)
{
	struct th_lymphd d;
	char conf[PATH_MAX], dir[256], cfg[PATH_MAX + 8], journal[PATH_MAX + 16], task[64];
	const char *args[] = { "--quiet", cfg, journal, NULL };
	struct th_cmd *r = calloc(1, sizeof(*r));
	struct dirent *de;
	DIR *td;
	int n = 0;
	FILE *f;

	ASSERT_NE(NULL, r);
	if (!th_is_root())
		SKIP(free(r); return, "needs root (BPF sensors)");
	ASSERT_EQ(0, th_mkdtemp(dir, sizeof(dir), "nofleet"));
	snprintf(conf, sizeof(conf), "%s/lymph.conf", dir);
	snprintf(cfg, sizeof(cfg), "-c%s", conf);
	snprintf(journal, sizeof(journal), "--journal=%s/journal", dir);
	f = fopen(conf, "w");
	ASSERT_NE(NULL, f);
	fputs("[lymphd]\nmode = observe\n", f);
	fclose(f);
	ASSERT_EQ(0, th_lymphd_start(&d, args, 30000));
	th_sleep_ms(500);
	snprintf(task, sizeof(task), "/proc/%d/task", d.pid);
	td = opendir(task);
	ASSERT_NE(NULL, td);
	while ((de = readdir(td)))
		n += de->d_name[0] != '.';
	closedir(td);
	EXPECT_EQ(1, n);
	EXPECT_EQ(0, th_lymphctl(&d, r, NULL, "fleet", NULL));
	EXPECT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "not configured"));
	EXPECT_EQ(0, th_lymphctl(&d, r, NULL, "status", "--json", NULL));
	EXPECT_TRUE(strstr(r->out, "\"fleet\":null") || strstr(r->out, "\"fleet\": null"));
	th_lymphd_destroy(&d);
	th_rmdir_flat(dir);
	free(r);
}

/* Count lines of dir/journal that hold text. */
static int journal_count(const char *dir, const char *text)
{
	char path[PATH_MAX], line[8192];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* lymphctl fleet --json's here.factor (the threshold multiplier), or 1. */
static double here_factor(const char *out)
{
	json_object *o = json_tokener_parse(out), *here = NULL, *fac = NULL;
	double v = 1.0;

	if (o && json_object_object_get_ex(o, "here", &here) &&
	    json_object_object_get_ex(here, "factor", &fac))
		v = json_object_get_double(fac);
	json_object_put(o);
	return v;
}

static void write_conf(const char *conf, const char *fleet)
{
	FILE *f = fopen(conf, "w");

	if (!f)
		return;
	fprintf(f, "[lymphd]\nmode = observe\n%s", fleet);
	fclose(f);
}

/* [fleet] follows a reload: added, changed (a new link), the vaccine alone
 * changed (the same link), removed.  No NATS is needed: the link connects
 * in the background and status shows where it goes. */
TEST(fleet_follows_reload)
{
	struct th_lymphd d;
	char conf[PATH_MAX], dir[256], cfg[PATH_MAX + 8], journal[PATH_MAX + 16];
	const char *args[] = { "--quiet", cfg, journal, NULL };
	struct th_cmd *r = calloc(1, sizeof(*r));

	ASSERT_NE(NULL, r);
	if (!th_is_root())
		SKIP(free(r); return, "needs root (BPF sensors)");
	ASSERT_EQ(0, th_mkdtemp(dir, sizeof(dir), "fleetreload"));
	snprintf(conf, sizeof(conf), "%s/lymph.conf", dir);
	snprintf(cfg, sizeof(cfg), "-c%s", conf);
	snprintf(journal, sizeof(journal), "--journal=%s/journal", dir);
	write_conf(conf, "");
	ASSERT_EQ(0, th_lymphd_start(&d, args, 30000));

	write_conf(conf, "[fleet]\nservers = nats://127.0.0.1:1\nname = one\nk = 2\n");
	ASSERT_EQ(0, th_lymphctl(&d, r, NULL, "reload", NULL));
	EXPECT_EQ(0, r->status);
	EXPECT_EQ(1, journal_count(dir, "link started by a reload"));
	ASSERT_EQ(0, th_lymphctl(&d, r, NULL, "fleet", "--json", NULL));
	EXPECT_NE(NULL, strstr(r->out, "127.0.0.1:1\""))
	{
		TH_LOG("fleet: %s", r->out);
	}

	/* Another server: a new link. */
	write_conf(conf, "[fleet]\nservers = nats://127.0.0.1:2\nname = one\nk = 2\n");
	ASSERT_EQ(0, th_lymphctl(&d, r, NULL, "reload", NULL));
	EXPECT_EQ(1, journal_count(dir, "link reconfigured by a reload"));
	ASSERT_EQ(0, th_lymphctl(&d, r, NULL, "fleet", "--json", NULL));
	EXPECT_NE(NULL, strstr(r->out, "127.0.0.1:2\""));
	EXPECT_EQ(NULL, strstr(r->out, "127.0.0.1:1\""));

	/* Only the vaccine: the same link. */
	write_conf(conf, "[fleet]\nservers = nats://127.0.0.1:2\nname = one\nk = 2\n"
			 "vaccine = quarantine\n");
	ASSERT_EQ(0, th_lymphctl(&d, r, NULL, "reload", NULL));
	EXPECT_EQ(1, journal_count(dir, "link reconfigured by a reload"));
	ASSERT_EQ(0, th_lymphctl(&d, r, NULL, "fleet", "--json", NULL));
	EXPECT_GT(1e-6, here_factor(r->out))
	{
		TH_LOG("fleet: %s", r->out);
	}

	/* Gone from the policy: no link. */
	write_conf(conf, "");
	ASSERT_EQ(0, th_lymphctl(&d, r, NULL, "reload", NULL));
	EXPECT_EQ(1, journal_count(dir, "link stopped by a reload"));
	ASSERT_EQ(0, th_lymphctl(&d, r, NULL, "status", "--json", NULL));
	EXPECT_TRUE(strstr(r->out, "\"fleet\":null") || strstr(r->out, "\"fleet\": null"));
	ASSERT_EQ(0, th_lymphctl(&d, r, NULL, "fleet", NULL));
	EXPECT_NE(NULL, strstr(r->out, "not configured"));
	th_lymphd_destroy(&d);
	th_rmdir_flat(dir);
	free(r);
}

TEST_HARNESS_MAIN
