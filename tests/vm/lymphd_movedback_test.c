// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymphd's side of a pinned member that moved itself out of the hold
 * (issue 14).  Run as root inside the test VM (tests/vm/run.sh), with
 * lymph.ko and a real lymphd --source=kmod in enforce mode on a cgroup v1
 * pids hierarchy of the test's own (there a process may move itself into
 * any cgroup whose cgroup.procs it may write).
 *
 * A doubling bomb as uid 1000 (a family of its own) in a v1 backstop
 * (pids.max 400) that has a cgroup delegated to uid 1000 below it: lymph.ko
 * holds the family, lymphd pins it (every member moved into a hold at
 * pids.max 0).  Then, at each of lymphd's lifts, a member continued moves
 * itself into a sub-cgroup of its own under the delegated cgroup (a SIGCONT
 * handler: also a member stopped in a fork, which it restarts after the
 * handler) and forks.  lymph.ko marked the move (not lymphd's) and holds
 * that fork at its call; lymphd, told by the hold's record, moves the
 * member back into the hold and journals "moved-back" with its pid.
 * Asserted: the record (its fields as doc/output-format.md names them),
 * every member back in the hold, no task made from a sub-cgroup, and
 * nothing left stopped after lymphd ends the episode and after lymphd
 * stops.  (lymph_kmod_test's pinned_member_cannot_fork_from_a_cgroup_it_
 * moved_to is the module's side, with the test acting as lymphd.)
 *
 * The storm's cleanup cannot be skipped: a watchdog of its own session (out
 * of reach of the harness's kill at a timeout) kills every task of the v1
 * tree and lymphd when the test ends in any way or at its deadline.
 *
 * No assertion times anything.  Built statically (busybox userland); the
 * module comes from $LYMPH_KO (default /lib/modules/lymph.ko), lymphd from
 * the build directory on the kernel command line (lymph.build=).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod.h"
#include "guest.h"
#include "v1pids.h"

#define CGROOT	  "/sys/fs/cgroup"
#define DIR_	  "/tmp/lymphd-movedback"
#define V1PIDS	  "/tmp/lymphd-movedback-pids"
#define V1_STORM  V1PIDS "/storm"
#define V1_DELEG  V1_STORM "/deleg"
#define STORM_UID 1000
#define DEADLINE_S 330	/* the watchdog's; the test's timeout is below it */

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Any stopped process in the guest, or 0. */
static pid_t find_stopped(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && !found && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    proc_state(atoi(e->d_name)) == 'T')
			found = atoi(e->d_name);
	if (d)
		closedir(d);
	return found;
}

/* ---- the v1 tree ----------------------------------------------------------- */

/* What a walk of the storm's v1 tree found. */
struct tree {
	int n, stopped;	/* processes, stopped ones */
	int hold;	/* processes in the hold (a lymph.hold.* cgroup) */
	int out;	/* processes in the members' own cgroups (c<pid>) */
	int subcgs;	/* c<pid> cgroups made by members */
};

/*
 * Every process of the cgroup @dir and below, counted into @t; each sent
 * @sig when not 0; the cgroups below @dir removed (deepest first) when @rm.
 */
static void tree_walk(const char *dir, struct tree *t, int sig, int rm)
{
	static char buf[65536];
	const char *base = strrchr(dir, '/') + 1;
	int hold = !strncmp(base, "lymph.hold.", 11), own = base[0] == 'c';
	char path[600], *p;
	struct dirent *e;
	DIR *d;

	t->subcgs += own;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (read_file(path, buf, sizeof(buf)) > 0)
		for (p = buf; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
			pid_t pid = atoi(p);
			char st = pid > 0 ? proc_state(pid) : 0;

			if (!st)
				continue;
			t->n++;
			t->stopped += st == 'T';
			t->hold += hold;
			t->out += own;
			if (sig)
				kill(pid, sig);
		}
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		tree_walk(path, t, sig, rm);
		if (rm)
			rmdir(path);
	}
	if (d)
		closedir(d);
}

static struct tree tree_now(void)
{
	struct tree t = { 0 };

	tree_walk(V1_STORM, &t, 0, 0);
	return t;
}

/* pids leaves cgroup v2, to be mounted as a v1 hierarchy of the test's own
 * (it goes back in v1_cleanup()); the backstop and the delegated cgroup. */
static int v1_setup(void)
{
	int err = v1pids_mount(V1PIDS);

	if (err)
		return err;
	if ((mkdir(V1_STORM, 0755) && errno != EEXIST) ||
	    write_file(V1_STORM "/pids.max", "400") ||
	    (mkdir(V1_DELEG, 0755) && errno != EEXIST) ||
	    chown(V1_DELEG, STORM_UID, STORM_UID))
		return errno ? -errno : -EIO;
	return 0;
}

/*
 * Every task of the v1 tree killed (SIGKILL ends stopped ones too), its
 * cgroups removed, the hierarchy unmounted and pids given back to cgroup
 * v2.  Safe to call twice, and from the watchdog and the test at once.
 */
static void v1_cleanup(void)
{
	struct tree t;
	int i;

	if (access(V1_STORM, F_OK))
		goto unmount;
	for (i = 0; i < 1000; i++) {
		t = (struct tree){ 0 };
		tree_walk(V1_STORM, &t, SIGKILL, 1);
		reap();
		if (!t.n && rmdir(V1_STORM) == 0)
			break;
		sleep_ms(10);
	}
	if (!access(V1_STORM, F_OK))
		fprintf(stderr, "# failed to remove %s: %s\n", V1_STORM, strerror(errno));
unmount:
	v1pids_unmount(V1PIDS);
}

/* ---- the bomb -------------------------------------------------------------- */

struct shared {
	volatile int leave;	/* members move out of the hold at a lift */
	volatile int calm;	/* members stop forking */
	volatile pid_t lymphd;	/* for the watchdog */
	int n_left;		/* members that did move out, and who */
	pid_t left[256];
};

static struct shared *sh;
static int has_left;	/* this member moved itself out already */

/* Out of the hold into a cgroup of its own under the delegated one, once. */
static void maybe_leave(void)
{
	char dir[300];
	int saved = errno;

	if (!sh->leave || has_left)
		return;
	has_left = 1;
	snprintf(dir, sizeof(dir), V1_DELEG "/c%d", (int)getpid());
	if (!mkdir(dir, 0755)) {
		int i;

		strcat(dir, "/cgroup.procs");
		if (!write_file(dir, "0") &&
		    (i = __atomic_fetch_add(&sh->n_left, 1, __ATOMIC_RELAXED)) < 256)
			sh->left[i] = getpid();
	}
	errno = saved;
}

/* At its continuation, wherever it was stopped (in a fork it restarts
 * then, as an attacker's member would): out first. */
static void on_cont(int sig)
{
	(void)sig;
	maybe_leave();
}

/* `while (1) fork();` as STORM_UID in the backstop. */
static pid_t bomb_start(void)
{
	struct sigaction sa = { .sa_handler = on_cont, .sa_flags = SA_RESTART };
	pid_t pid = fork();

	if (pid)
		return pid;
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	if (write_file(V1_STORM "/cgroup.procs", "0") || setgid(STORM_UID) || setuid(STORM_UID))
		_exit(101);
	sigaction(SIGCONT, &sa, NULL);
	for (;;) {
		pid_t c;

		maybe_leave();
		if (sh->calm) {
			sleep_ms(10);
			continue;
		}
		c = fork();
		if (c == 0)
			has_left = 0;
		else if (c < 0)
			sleep_ms(1);	/* refused: pids.max */
	}
}

/* ---- the watchdog ---------------------------------------------------------- */

/* Waits for the test to end (EOF on @rfd) or for the deadline, then kills
 * lymphd and the storm and takes the v1 hierarchy down. */
static void __attribute__((noreturn)) watchdog(int rfd)
{
	time_t end = time(NULL) + DEADLINE_S;
	char c;

	setsid();
	for (int fd = 3; fd < 1024; fd++)
		if (fd != rfd)
			close(fd);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = rfd, .events = POLLIN };

		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			break;
		if (p.revents && read(rfd, &c, 1) <= 0)
			break;
	}
	if (sh->lymphd > 0)
		kill(sh->lymphd, SIGKILL);
	v1_cleanup();
	/* the next test loads the module afresh (lymphd's /dev/lymph goes
	 * at its exit) */
	for (int i = 0; i < 500 && kmod_unload() == -EBUSY; i++)
		sleep_ms(10);
	_exit(0);
}

/* ---- lymphd ---------------------------------------------------------------- */

/* The journal, in a static buffer. */
static const char *journal(void)
{
	static char buf[1 << 20];

	if (read_file(DIR_ "/journal", buf, sizeof(buf)) < 0)
		buf[0] = 0;
	return buf;
}

/* The journal's last 2,000 characters. */
static const char *journal_tail(void)
{
	const char *j = journal();
	size_t n = strlen(j);

	return n > 2000 ? j + n - 2000 : j;
}

/* The journal's throttle actions, in order, with the moved pids: what
 * lymphd did, for the log. */
static const char *journal_actions(void)
{
	static char out[4096];
	const char *p = journal(), *a, *m;
	size_t len = 0;

	out[0] = 0;
	while ((a = strstr(p, "\"action\":\"")) && len < sizeof(out) - 128) {
		const char *e = strchr(p, '\n') ?: p + strlen(p);

		a += strlen("\"action\":\"");
		len += snprintf(out + len, sizeof(out) - len, " %.*s", (int)strcspn(a, "\""), a);
		m = strstr(a, "\"moved_pids\":");
		if (m && m < e)
			len += snprintf(out + len, sizeof(out) - len, "%.*s",
					(int)strcspn(m + 13, "]") - 0, m + 13);
		p = *e ? e + 1 : e;
	}
	return out;
}

/*
 * The next journal line from *pos that has every one of @want (a NULL-
 * ended list), copied into @line; 0 when none.  *pos moves past it.
 */
static int journal_line(const char **pos, const char *const *want, char *line, size_t len)
{
	while (**pos) {
		const char *s = *pos, *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		int ok = 1;

		*pos = s + n + (e != NULL);
		snprintf(line, len, "%.*s", (int)n, s);
		for (int i = 0; ok && want[i]; i++)
			ok = strstr(line, want[i]) != NULL;
		if (ok)
			return 1;
	}
	return 0;
}

/*
 * lymphd's moved-back records of the lineage @want_lineage ("\"lineage\":
 * \"family:N\""): how many, how many members they say were moved back
 * (result "N member(s) ..."), how many pids they list (the first 16 of a
 * walk), and how many of those never moved themselves out; records that
 * miss a field doc/output-format.md names are logged and counted.
 */
struct moved {
	int records, total, listed, outsiders, bad_fields;
};

static const char *const moved_fields[] = {
	"\"type\":\"throttle\"", "\"mode\":\"enforce\"", "\"kind\":\"family\"",
	"\"module\":true", "\"hold_cgroup\":\"" V1_STORM "/lymph.hold.family.",
	"\"result\":\"", "\"time\":\"", "\"ts\":", "\"moved_pids\":[", NULL,
};

/* Is @pid in a moved_pids list of @line (0 for none: counts outsiders
 * into *outsiders); how many pids it lists. */
static int moved_pids(const char *line, pid_t pid, int *found, int *outsiders)
{
	const char *p = strstr(line, "\"moved_pids\":[");
	int n = 0;

	for (p = p ? p + strlen("\"moved_pids\":[") : ""; *p && *p != ']';) {
		char dir[300], *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		n++;
		*found |= v == pid;
		snprintf(dir, sizeof(dir), V1_DELEG "/c%ld", v);
		if (outsiders && access(dir, F_OK)) {
			(*outsiders)++;
			fprintf(stderr, "# pid %ld moved back never moved itself out: %s\n", v, line);
		}
		p = end + (*end == ',');
	}
	return n;
}

static struct moved moved_back(const char *want_lineage)
{
	const char *want[] = { "\"action\":\"moved-back\"", want_lineage, NULL };
	static char line[8192];
	struct moved m = { 0 };
	const char *pos = journal();
	int found = 0;

	while (journal_line(&pos, want, line, sizeof(line))) {
		const char *r = strstr(line, "\"result\":\"");

		m.records++;
		m.total += r ? atoi(r + strlen("\"result\":\"")) : 0;
		for (int i = 0; moved_fields[i]; i++)
			if (!strstr(line, moved_fields[i])) {
				m.bad_fields++;
				fprintf(stderr, "# no %s in %s\n", moved_fields[i], line);
			}
		m.listed += moved_pids(line, 0, &found, &m.outsiders);
	}
	return m;
}

/* Is @pid listed in a moved-back record of @want_lineage? */
static int listed(const char *want_lineage, pid_t pid)
{
	const char *want[] = { "\"action\":\"moved-back\"", want_lineage, NULL };
	static char line[8192];
	const char *pos = journal();
	int found = 0;

	while (!found && journal_line(&pos, want, line, sizeof(line)))
		moved_pids(line, pid, &found, NULL);
	return found;
}

/* ---- the test -------------------------------------------------------------- */

FIXTURE(movedback)
{
	pid_t lymphd, bomb, watchdog;
	int wd_fd;	/* the watchdog's pipe, write end */
	char lymphd_path[512];
};

FIXTURE_SETUP(movedback)
{
	static const char conf[] = "[lymphd]\nmode = enforce\n\n"
				   "[throttle]\nbudget = 5\nburst = 5\n"
				   "dead_time_min = 20ms\ndead_time_max = 1s\nkill_after = 0\n\n"
				   "[weather]\nbudget_factor_stormy = 1\n";
	int p[2], err;

	self->lymphd = self->bomb = self->watchdog = 0;
	self->wd_fd = -EBADF;
	if (guest_lymphd_path(self->lymphd_path, sizeof(self->lymphd_path)))
		SKIP(return, "lymphd is not in the VM (not built)");
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	kmod_unload();
	ASSERT_EQ(0, kmod_load("")) TH_LOG("insmod: %s", strerror(errno));
	/* lymphd finds the v1 pids hierarchy at its start (pidscg_root()) */
	err = v1_setup();
	if (err) {
		v1_cleanup();
		SKIP(return, "no cgroup v1 pids hierarchy: %s", strerror(-err));
	}
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	self->watchdog = fork();
	ASSERT_LE(0, self->watchdog);
	if (self->watchdog == 0) {
		close(p[1]);
		watchdog(p[0]);
	}
	close(p[0]);
	self->wd_fd = p[1];
	mkdir(DIR_, 0700);
	unlink(DIR_ "/journal");
	ASSERT_EQ(0, write_file(DIR_ "/lymph.conf", conf));
}

FIXTURE_TEARDOWN(movedback)
{
	if (self->lymphd > 0) {
		kill(self->lymphd, SIGKILL);
		waitpid(self->lymphd, NULL, 0);
	}
	v1_cleanup();
	if (self->wd_fd >= 0)
		close(self->wd_fd);	/* the watchdog cleans (again) and exits */
	if (self->watchdog > 0)
		waitpid(self->watchdog, NULL, 0);
	kmod_unload();
	EXPECT_EQ(0, find_stopped()) TH_LOG("a process is left stopped");
}

TEST_F_TIMEOUT(movedback, lymphd_moves_back_a_member_that_left_the_hold, 300)
{
	char hold[300], want_lineage[64], line[8192], out[8192];
	const char *want_end[] = { "\"type\":\"throttle\"", want_lineage, "\"action\":\"end\"", NULL };
	const char *pos;
	struct tree before = { 0 }, after, t = { 0 };
	int i, steady = 0;
	struct moved mb;
	pid_t stopped;

	self->lymphd = guest_lymphd_start(self->lymphd_path, DIR_, DIR_ "/out");
	ASSERT_LT(0, self->lymphd) TH_LOG("lymphd did not start: %s", strerror(-self->lymphd));
	sh->lymphd = self->lymphd;
	self->bomb = bomb_start();
	ASSERT_LT(0, self->bomb);
	snprintf(hold, sizeof(hold), V1_STORM "/lymph.hold.family.%d", (int)self->bomb);
	snprintf(want_lineage, sizeof(want_lineage), "\"lineage\":\"family:%d\"", (int)self->bomb);

	/* Pinned: lymphd journaled the throttle, every member in the hold
	 * (twice in a row, 100 ms apart: no straggler made meanwhile). */
	for (i = 0; i < 600 && steady < 2; i++) {
		char max[32], path[400];
		const char *want_pin[] = { "\"action\":\"throttle\"", want_lineage, NULL };

		sleep_ms(100);
		reap();
		snprintf(path, sizeof(path), "%s/pids.max", hold);
		t = tree_now();
		pos = journal();
		if (read_file(path, max, sizeof(max)) > 0 && max[0] == '0' &&
		    journal_line(&pos, want_pin, line, sizeof(line)) && t.n > 1 && t.hold == t.n &&
		    (!steady || t.n == before.n))
			steady++;
		else
			steady = 0;
		before = t;
	}
	read_file(DIR_ "/out", out, sizeof(out));
	ASSERT_EQ(2, steady) TH_LOG("never pinned whole in %s (%d tasks, %d in the hold): %s", hold,
				    t.n, t.hold, out);

	/* Out at the lifts: each member continued moves itself into a
	 * sub-cgroup of its own, forks, and is moved back by lymphd; until
	 * every member has left once (a member the module stopped before its
	 * move makes it at a later lift) and is back, or 60 s. */
	sh->leave = 1;
	for (i = 0, steady = 0; i < 600 && steady < 3; i++) {
		sleep_ms(100);
		reap();
		t = tree_now();
		mb = moved_back(want_lineage);
		if (mb.records && !t.out && mb.total >= sh->n_left && sh->n_left >= before.n)
			steady++;
		else
			steady = 0;
	}
	after = tree_now();
	mb = moved_back(want_lineage);
	TH_LOG("pinned at %d tasks; after the lifts: %d tasks, %d in the hold, %d in the cgroups "
	       "members moved to; %d member(s) moved out; %d moved-back record(s) for %d member(s), "
	       "%d pid(s) listed; lymphd's actions:%s", before.n, after.n, after.hold, after.out,
	       sh->n_left, mb.records, mb.total, mb.listed, journal_actions());
	ASSERT_LT(0, sh->n_left) TH_LOG("no member moved itself out of the hold: nothing tried");

	/* The records: lymphd's journal fields (doc/output-format.md), each
	 * pid moved back a member that had moved itself out, and every such
	 * member moved back (listed, when the records list them all). */
	EXPECT_LT(0, mb.records) TH_LOG("no moved-back record for family:%d; the journal's end:\n%s",
					(int)self->bomb, journal_tail());
	EXPECT_EQ(0, mb.bad_fields);
	EXPECT_LT(0, mb.listed) TH_LOG("no pid in a moved-back record");
	EXPECT_EQ(0, mb.outsiders) TH_LOG("a pid moved back that had not moved itself out");
	EXPECT_LE(sh->n_left, mb.total) TH_LOG("%d member(s) moved out, %d moved back journaled",
					       sh->n_left, mb.total);
	if (mb.listed == mb.total)
		for (i = 0; i < sh->n_left && i < 256; i++) {
			EXPECT_TRUE(listed(want_lineage, sh->left[i]))
			TH_LOG("pid %d moved out, not in a moved-back record", (int)sh->left[i]);
		}
	/* back in the hold, and nothing made out of it */
	EXPECT_EQ(0, after.out) TH_LOG("%d member(s) left in the cgroups they moved to", after.out);
	EXPECT_EQ(after.n, after.hold) TH_LOG("not every member is back in the hold");
	EXPECT_EQ(before.n, after.n) TH_LOG("%d task(s) made by members out of the pin",
					    after.n - before.n);

	/* The end: the bomb calm, lymphd ends the episode (unpins) and
	 * nothing is left stopped; nor once lymphd has stopped. */
	sh->calm = 1;
	for (i = 0; i < 600; i++) {
		pos = journal();
		if (journal_line(&pos, want_end, line, sizeof(line)))
			break;
		sleep_ms(100);
		reap();
	}
	pos = journal();
	EXPECT_TRUE(journal_line(&pos, want_end, line, sizeof(line)))
	TH_LOG("lymphd never ended the episode of family:%d", (int)self->bomb);
	for (i = 0; i < 200 && (t = tree_now()).stopped; i++)
		sleep_ms(100);
	EXPECT_EQ(0, t.stopped) TH_LOG("%d of %d member(s) left stopped after lymphd's end",
				       t.stopped, t.n);
	kill(self->lymphd, SIGTERM);
	waitpid(self->lymphd, NULL, 0);
	self->lymphd = sh->lymphd = 0;
	for (i = 0; i < 200 && (stopped = find_stopped()); i++)
		sleep_ms(100);
	EXPECT_EQ(0, stopped) TH_LOG("pid %d stopped after lymphd stopped", (int)stopped);
}

TEST_HARNESS_MAIN
