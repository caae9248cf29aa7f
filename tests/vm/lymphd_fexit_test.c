// SPDX-License-Identifier: GPL-2.0-only
/*
 * The refused-fork probe on fexit, attached for lymphd's whole life
 * (issue 14).  Run as root inside the test VM (tests/vm/run.sh), whose
 * Debian 6.12 loads and attaches fexit/kernel_clone, with a real lymphd
 * --source=bpf in enforce mode (budget 5/s, burst 5 per family).
 *
 * On such a kernel the probe costs the fork calls only, so lymphd keeps it
 * attached from its start to its exit and every refused fork is charged at
 * its call, as lymph.ko charges it.  Before, it was attached only while
 * armed (a family near its budget, a hold, a pin, a 50 ms sample every 2 s
 * while the CPUs were busy), so:
 *  1. a spinner refused a little faster than its budget (5.4/s against 5:
 *     between budget and budget + 1/2 a second) was never held; now it is,
 *     and one refused a little slower (4.6/s) beside it is not;
 *  2. a spinner that sleeps between its refused forks (20/s: the CPUs stay
 *     idle, no sample is taken) was never held; now it is;
 *  3. the probe was detached 2 s after the last reason; now it is attached
 *     before any family shows (one fexit link of lymphd's) and still after
 *     a held family is gone, and `lymphctl status` says "permanently";
 *  4. a fork was charged when its task was made, so the fork that
 *     overdrew a family was made (its child stopped with the forker); now
 *     it is charged at its call (fentry on kernel_clone), as lymph.ko
 *     charges it, and its caller is stopped before the child is made.
 *
 * Each spinner is alone in a pids cgroup of its own at pids.max 1, so it
 * is the only task it ever makes (every fork() is refused with EAGAIN);
 * it dies with the test (PR_SET_PDEATHSIG SIGKILL, stopped or not) and the
 * teardown kills it by pid (lymphd may have moved it into its hold) and
 * removes the cgroups.  lymphd dies with the test too.
 *
 * No assertion times anything but the deadline within which a spinner must
 * be held (60 s; ~10 s expected for the slowest).  Built statically
 * (busybox userland); lymphd and lymphctl from the build directory on the
 * kernel command line (lymph.build=).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "kselftest_harness.h"
#include "guest.h"

#define DIR_	  "/tmp/lymphd-fexit"
#define CGROOT	  "/sys/fs/cgroup"
#define CGPREFIX  "lymph-fexit-"
#define BUDGET	  5
#define HELD_S	  60	/* a spinner must be held within this */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* How many fexit links @pid holds (link_type tracing, attach_type fexit). */
static int fexit_links(pid_t pid)
{
	char path[300], buf[1024], tag[32];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	snprintf(tag, sizeof(tag), "attach_type:\t%d\n", BPF_TRACE_FEXIT);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, e->d_name);
		if (read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, "link_type:\ttracing") &&
		    strstr(buf, tag))
			n++;
	}
	closedir(d);
	return n;
}

/* The string value of "key" in the JSON text @j into @out ("" if none). */
static const char *json_str(const char *j, const char *key, char *out, size_t len)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	*out = 0;
	p = strstr(j, pat);
	if (!p)
		return out;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p == '"')
		snprintf(out, len, "%.*s", (int)strcspn(p + 1, "\""), p + 1);
	return out;
}

/* A spinner's pid, its cgroup, and how many refusals it counted. */
struct spinner {
	pid_t pid;
	char cg[128];
	volatile unsigned long *refused;	/* shared with the spinner */
};

/*
 * A process alone in a new pids cgroup at pids.max 1 that calls fork()
 * @per_s times a second (an absolute schedule, sleeping between calls), for
 * ever: every call is refused with EAGAIN.  0 or -errno.
 */
static int spinner_start(struct spinner *s, const char *name, double per_s)
{
	char path[200], pid[32];
	pid_t parent = getpid();
	int err;

	snprintf(s->cg, sizeof(s->cg), CGROOT "/" CGPREFIX "%s", name);
	write_file(CGROOT "/cgroup.subtree_control", "+pids");
	if (mkdir(s->cg, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/pids.max", s->cg);
	err = write_file(path, "1");
	if (err)
		return err;
	s->refused = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->refused == MAP_FAILED)
		return -errno;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		uint64_t step = (uint64_t)(1e9 / per_s), next;
		struct timespec ts;

		/* the watchdog: never outlive the test, stopped or not */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		snprintf(path, sizeof(path), "%s/cgroup.procs", s->cg);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		if (write_file(path, pid))
			_exit(1);
		next = mono_ns();
		for (;;) {
			pid_t c = fork();

			if (c == 0)
				_exit(0);
			if (c > 0)
				waitpid(c, NULL, 0);
			else if (errno == EAGAIN)
				(*s->refused)++;
			next += step;
			ts.tv_sec = (time_t)(next / 1000000000ULL);
			ts.tv_nsec = (long)(next % 1000000000ULL);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
	}
	/* in its cgroup before anyone looks whether it left it */
	for (err = 0; err < 1000; err++) {
		char buf[512];

		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)s->pid);
		if (read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, s->cg + strlen(CGROOT)))
			return 0;
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			return -ECHILD;
		}
		sleep_ms(10);
	}
	return -ETIMEDOUT;
}

/* Held: stopped by the probe (T), or moved by lymphd into its hold. */
static int spinner_held(const struct spinner *s)
{
	char path[64], buf[512];

	if (s->pid <= 0)
		return 0;
	if (proc_state(s->pid) == 'T')
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)s->pid);
	return read_file(path, buf, sizeof(buf)) > 0 && !strstr(buf, CGPREFIX);
}

static void spinner_kill(struct spinner *s)
{
	int i;

	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	for (i = 0; *s->cg && i < 50 && rmdir(s->cg) && errno == EBUSY; i++)
		sleep_ms(100);
	*s->cg = 0;
}

/* Wait until @s is held (1) or HELD_S went by (0); the seconds in @secs. */
static int spinner_wait_held(const struct spinner *s, double *secs)
{
	uint64_t t0 = mono_ns();

	while (mono_ns() - t0 < HELD_S * 1000000000ULL) {
		if (spinner_held(s)) {
			*secs = (double)(mono_ns() - t0) / 1e9;
			return 1;
		}
		sleep_ms(100);
	}
	*secs = HELD_S;
	return 0;
}

FIXTURE(fexit)
{
	pid_t lymphd;
	char lymphctl[256];
	struct spinner a, b;
};

/* `lymphctl status --json` into @buf; its exit status (-1: not run). */
static int status_json(const char *lymphctl, char *buf, size_t len)
{
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(DIR_ "/status", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(lymphctl, "lymphctl", "--socket=" DIR_ "/sock", "status", "--json",
		      (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	read_file(DIR_ "/status", buf, len);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

FIXTURE_SETUP(fexit)
{
	static char st[65536];
	char lymphd[256];
	pid_t parent = getpid();
	int i;

	self->lymphd = 0;
	memset(&self->a, 0, sizeof(self->a));
	memset(&self->b, 0, sizeof(self->b));
	if (guest_lymphd_path(lymphd, sizeof(lymphd)))
		SKIP(return, "lymphd is not in the VM (not built)");
	snprintf(self->lymphctl, sizeof(self->lymphctl), "%.*sctl", (int)strlen(lymphd) - 1,
		 lymphd);
	mkdir(DIR_, 0700);
	/* as lymphd finds it on a booted host (its fallbacks look there) */
	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	unlink(DIR_ "/journal");
	ASSERT_EQ(0, write_file(DIR_ "/lymph.conf",
				"[lymphd]\nmode = enforce\n[throttle]\nbudget = 5\nburst = 5\n"
				"dead_time_min = 1s\ndead_time_max = 2s\n"
				/* budgets the weather never scales: the
				 * spinners' rates are set against 5/s */
				"[weather]\nbudget_factor_stormy = 1\n"));
	self->lymphd = fork();
	ASSERT_LE(0, self->lymphd);
	if (self->lymphd == 0) {
		int fd = open(DIR_ "/err", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(lymphd, "lymphd", "--source=bpf", "--quiet", "-c", DIR_ "/lymph.conf",
		      "--journal=" DIR_ "/journal", "--socket=" DIR_ "/sock", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1200; i++) {	/* TCG is slow: up to 120 s */
		if (waitpid(self->lymphd, NULL, WNOHANG) == self->lymphd) {
			self->lymphd = 0;
			read_file(DIR_ "/err", st, sizeof(st));
			ASSERT_TRUE(0) TH_LOG("lymphd exited at start: %s", st);
		}
		if (status_json(self->lymphctl, st, sizeof(st)) == 0)
			return;
		sleep_ms(100);
	}
	ASSERT_TRUE(0) TH_LOG("lymphd did not answer on its socket in 120 s");
}

FIXTURE_TEARDOWN(fexit)
{
	static char err[4096];

	if (self->a.refused)
		spinner_kill(&self->a);
	if (self->b.refused)
		spinner_kill(&self->b);
	if (self->lymphd > 0) {
		kill(self->lymphd, SIGTERM);
		waitpid(self->lymphd, NULL, 0);
	}
	if (read_file(DIR_ "/err", err, sizeof(err)) > 0 && strstr(err, "refused-fork"))
		TH_LOG("lymphd said: %s", err);
}

/* The probe's state now: the fexit links, what status says. */
static void probe_now(const char *lymphctl, pid_t lymphd, int *links, char *path, char *how)
{
	static char st[65536];

	*links = fexit_links(lymphd);
	status_json(lymphctl, st, sizeof(st));
	json_str(st, "refused_fork_probe", path, 32);
	json_str(st, "refused_fork_probe_attached", how, 32);
}

/* 1: between budget and budget + 1/2 a second: held, and 4.6/s beside it not. */
TEST_F_TIMEOUT(fexit, spinner_just_over_budget_is_held, 180)
{
	double secs;
	int held;

	ASSERT_EQ(0, spinner_start(&self->a, "over", BUDGET + 0.4));
	ASSERT_EQ(0, spinner_start(&self->b, "under", BUDGET - 0.4));
	held = spinner_wait_held(&self->a, &secs);
	/* the one below its budget, given as long again */
	if (held)
		sleep_ms((int)(secs * 1000));
	{
		char path[64], cg[256] = "";

		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)self->b.pid);
		read_file(path, cg, sizeof(cg));
		cg[strcspn(cg, "\n")] = 0;
		TH_LOG("5.4/s: %s after %.1f s, %lu refusals; 4.6/s: %s (state %c, %s), "
		       "%lu refusals",
		       held ? "held" : "not held", secs, *self->a.refused,
		       spinner_held(&self->b) ? "held" : "not held", proc_state(self->b.pid), cg,
		       *self->b.refused);
	}
	EXPECT_TRUE(held);
	EXPECT_FALSE(spinner_held(&self->b));
}

/* 2: a spinner that sleeps between its refusals (the CPUs idle) is held. */
TEST_F_TIMEOUT(fexit, sleeping_spinner_is_held, 180)
{
	double secs;
	int held;

	ASSERT_EQ(0, spinner_start(&self->a, "sleeper", 20));
	held = spinner_wait_held(&self->a, &secs);
	TH_LOG("20/s: %s after %.1f s, %lu refusals", held ? "held" : "not held", secs,
	       *self->a.refused);
	EXPECT_TRUE(held);
}

/* 3: attached before any family shows, and still once a held one is gone. */
TEST_F_TIMEOUT(fexit, probe_stays_attached_after_the_family_is_gone, 180)
{
	char path[32], how[32];
	double secs;
	int links, held;

	probe_now(self->lymphctl, self->lymphd, &links, path, how);
	TH_LOG("at start: %d fexit links; status: %s, attached %s", links, path, how);
	if (strcmp(path, "fexit") && links == 0)
		SKIP(return, "this kernel does not attach fexit/kernel_clone (status: %s)", path);
	EXPECT_EQ(1, links);
	EXPECT_STREQ("fexit", path);
	EXPECT_STREQ("permanently", how);

	ASSERT_EQ(0, spinner_start(&self->a, "gone", 20));
	held = spinner_wait_held(&self->a, &secs);
	EXPECT_TRUE(held);
	spinner_kill(&self->a);
	/* longer than the probes' ARM_NS (2 s) and lymphd's drain tick */
	sleep_ms(5000);
	probe_now(self->lymphctl, self->lymphd, &links, path, how);
	TH_LOG("5 s after the family is gone: %d fexit links; status: %s, attached %s", links,
	       path, how);
	EXPECT_EQ(1, links);
	EXPECT_STREQ("fexit", path);
	EXPECT_STREQ("permanently", how);
}

/*
 * 4: a fork over budget is stopped at its call, before its child is made,
 * as lymph.ko stops it.  A process of a family of its own (budget 5/s,
 * burst 5) forks children that pause, as fast as it can, in a pids cgroup
 * of pids.max 20, counting each fork() that returned a child: the bucket
 * (4 or 5 tokens, as it refilled after the forker's own creation) is
 * overdrawn by its fifth or sixth fork.  Charged at the call, the caller
 * is stopped before copy_process() makes that child (the call is
 * restarted after the hold): its children are the ones it counted.
 * Charged when the task was made (before), that child was made and
 * stopped with the forker, which was stopped before it saw fork()
 * return: one child more than it counted.
 */
TEST_F_TIMEOUT(fexit, fork_over_budget_is_stopped_before_its_child_is_made, 180)
{
	char path[200], kids[512];
	struct spinner *s = &self->a;
	pid_t parent = getpid();
	double secs;
	int held, n = 0;
	char *p;

	snprintf(s->cg, sizeof(s->cg), CGROOT "/" CGPREFIX "forker");
	write_file(CGROOT "/cgroup.subtree_control", "+pids");
	ASSERT_TRUE(!mkdir(s->cg, 0755) || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/pids.max", s->cg);
	ASSERT_EQ(0, write_file(path, "20"));
	s->refused = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s->refused);
	s->pid = fork();
	ASSERT_LE(0, s->pid);
	if (s->pid == 0) {
		char pid[32];
		pid_t me = getpid();
		int i;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		snprintf(path, sizeof(path), "%s/cgroup.procs", s->cg);
		snprintf(pid, sizeof(pid), "%d", (int)me);
		if (write_file(path, pid))
			_exit(1);
		/* in its cgroup: forks once the test says go */
		while (!s->refused[1])
			sleep_ms(10);
		for (i = 0; i < 10; i++) {
			pid_t c = fork();

			if (c == 0) {
				/* dies with the forker, stopped or not */
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != me)
					_exit(0);
				pause();
				_exit(0);
			}
			if (c > 0)
				(*s->refused)++; /* here: children made */
		}
		pause();
		_exit(0);
	}
	/* in its cgroup before anyone looks whether it left it */
	for (n = 0; n < 1000; n++) {
		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)s->pid);
		if (read_file(path, kids, sizeof(kids)) > 0 && strstr(kids, "forker"))
			break;
		sleep_ms(10);
	}
	ASSERT_GT(1000, n) TH_LOG("the forker never got into %s", s->cg);
	n = 0;
	s->refused[1] = 1;
	held = spinner_wait_held(s, &secs);
	/* its children, as the kernel lists them (threads: one, the leader) */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)s->pid, (int)s->pid);
	read_file(path, kids, sizeof(kids));
	for (p = kids; *p; p += strspn(p, " \n"))
		if (*p != ' ' && *p != '\n') {
			n++;
			p += strcspn(p, " \n");
		}
	TH_LOG("forker %s after %.1f s; %d children (the forker counted %lu made before it "
	       "was stopped)",
	       held ? "held" : "not held", secs, n, *s->refused);
	EXPECT_TRUE(held);
	EXPECT_EQ((int)*s->refused, n);
	EXPECT_GE(5, n);
}

TEST_HARNESS_MAIN
