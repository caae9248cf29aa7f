// SPDX-License-Identifier: GPL-2.0-only
/*
 * One danger rule (include/lymph/danger.h): lymph.ko's crash table in
 * /proc/lymph and lymphd's classes must agree on the same deaths.  In the
 * guest, with lymph.ko loaded and lymphd --source=kmod --json draining it:
 *
 *   a real SIGSEGV                       danger, counted in /proc/lymph
 *   kill -SEGV from another process      programmed (killed), not counted
 *   SIGKILL from the kernel (RLIMIT_CPU  programmed (kernel-kill), not counted
 *     hard limit, SEND_SIG_PRIV)
 *   SIGHUP from a tty hangup (the pty's  programmed (signal), not counted
 *     master closed under its session
 *     leader, SEND_SIG_PRIV)
 *
 * Before the rule was shared, the module counted every si_code > 0 as a
 * crash, so the last two landed in its table while lymphd called them
 * programmed.  Each death runs its own copy of this binary so that each has
 * its own (dev, inode) in the crash table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lymph/danger.h"
#include "kmod.h"

#define DIR_ "/tmp/lymph-agree"

/* Where the real fault happens; volatile so the compiler cannot see it. */
static volatile uintptr_t fault_addr = 0x10;

/* ---- the dying children: this binary, run as a copy, with a mode ---------- */

static int child_mode(const char *mode, const char *arg)
{
	if (!strcmp(mode, "--agree-segv")) {
		*(volatile int *)fault_addr = 1;
	} else if (!strcmp(mode, "--agree-sleep")) {
		pause();
	} else if (!strcmp(mode, "--agree-cpu")) {
		/* Soft limit: SIGXCPU, ignored; hard limit: the kernel's SIGKILL. */
		struct rlimit rl = { .rlim_cur = 1, .rlim_max = 2 };

		signal(SIGXCPU, SIG_IGN);
		if (setrlimit(RLIMIT_CPU, &rl))
			return 3;
		for (;;)
			;
	} else if (!strcmp(mode, "--agree-hup")) {
		/* A session leader that opens a tty gets it as controlling tty. */
		if (setsid() < 0 || open(arg, O_RDWR) < 0)
			return 3;
		if (write(3, "r", 1) != 1)	/* ready: fd 3 is the parent's pipe */
			return 3;
		pause();
	}
	return 4;
}

/* ---- helpers -------------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int copy_self(const char *dst, ino_t *ino)
{
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	char buf[65536];
	struct stat st;
	ssize_t n;
	int err = 0;

	if (in < 0 || out < 0)
		err = -errno;
	while (!err && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			err = -EIO;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (!err && stat(dst, &st))
		err = -errno;
	if (!err)
		*ino = st.st_ino;
	return err;
}

/* Start a copy named NAME in MODE; returns its pid. */
static pid_t spawn(const char *name, const char *mode, const char *arg, int fd3, ino_t *ino)
{
	char path[128];
	pid_t pid;

	snprintf(path, sizeof(path), DIR_ "/%s", name);
	if (copy_self(path, ino))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (fd3 >= 0 && fd3 != 3)
			dup2(fd3, 3);
		execl(path, name, mode, arg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int reap(pid_t pid, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int st;

	while (now_ms() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static char *slurp(const char *path)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t n, len = 0;

	buf[0] = 0;
	if (fd < 0)
		return buf;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(fd);
	return buf;
}

/*
 * lymphd's class of the death of PID, from its JSON lines ("" until seen).
 * Waits up to 10 s for it.
 */
static void death_class(pid_t pid, char *klass, char *reason, size_t cap)
{
	long long end = now_ms() + 10000;
	char key[48];

	snprintf(key, sizeof(key), "\"pid\":%d,", pid);
	klass[0] = reason[0] = 0;
	while (now_ms() < end) {
		char *out = slurp(DIR_ "/out"), *line = out, *nl;

		for (; line && *line; line = nl ? nl + 1 : NULL) {
			char *c, *r;

			nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			if (!strstr(line, "\"event\":\"death\"") || !strstr(line, key))
				continue;
			c = strstr(line, "\"class\":\"");
			r = strstr(line, "\"reason\":\"");
			if (c)
				sscanf(c + 9, "%31[^\"]", klass);
			if (r)
				sscanf(r + 10, "%31[^\"]", reason);
			(void)cap;
			return;
		}
		usleep(100000);
	}
}

/* Is inode INO in /proc/lymph's top crashers? */
static int counted(ino_t ino)
{
	char *s = slurp("/proc/lymph"), key[64];

	snprintf(key, sizeof(key), " %llu ", (unsigned long long)ino);
	for (char *l = strstr(s, "  crasher "); l; l = strstr(l + 1, "  crasher ")) {
		char *nl = strchr(l, '\n');

		if (nl)
			*nl = 0;
		if (strstr(l, key))
			return 1;
		if (!nl)
			break;
		*nl = '\n';
	}
	return 0;
}

/* ---- the fixture: lymph.ko and lymphd --source=kmod ----------------------- */

FIXTURE(agree) {
	pid_t lymphd;
};

FIXTURE_SETUP(agree)
{
	char *cmdline = slurp("/proc/cmdline"), build[256] = "", prog[300];
	char *b = strstr(cmdline, "lymph.build=");
	long long end;
	int err, out;

	self->lymphd = -1;
	if (b)
		sscanf(b + 12, "%255s", build);
	snprintf(prog, sizeof(prog), "%s/lymphd", build);
	if (!build[0] || access(prog, X_OK))
		SKIP(return, "lymphd is not in the VM (not built)");
	kmod_unload();
	err = kmod_load("");
	ASSERT_EQ(0, err) TH_LOG("insmod: %s", strerror(-err));
	mkdir(DIR_, 0755);
	unlink(DIR_ "/out");
	self->lymphd = fork();
	ASSERT_LE(0, self->lymphd);
	if (self->lymphd == 0) {
		out = open(DIR_ "/out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(out, 1);
		out = open(DIR_ "/err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(out, 2);
		execl(prog, "lymphd", "--source=kmod", "--json", "--dry-run",
		      "--journal=" DIR_ "/journal", "--socket=" DIR_ "/sock", (char *)NULL);
		_exit(127);
	}
	end = now_ms() + 20000;
	while (!strstr(slurp("/proc/lymph"), "readers: 1\n") && now_ms() < end)
		usleep(100000);
	ASSERT_NE(NULL, strstr(slurp("/proc/lymph"), "readers: 1\n"))
		TH_LOG("lymphd did not open /dev/lymph: %s", slurp(DIR_ "/err"));
}

FIXTURE_TEARDOWN(agree)
{
	if (self->lymphd > 0) {
		kill(self->lymphd, SIGTERM);
		waitpid(self->lymphd, NULL, 0);
	}
	kmod_unload();
}

struct expect {
	const char *name;
	pid_t pid;
	ino_t ino;
	const char *klass, *reason;
};

static void check(struct __test_metadata *_metadata, struct expect *e)
{
	char klass[32], reason[32];
	int in_table;

	death_class(e->pid, klass, reason, sizeof(klass));
	in_table = counted(e->ino);
	EXPECT_STREQ(e->klass, klass) TH_LOG("%s: lymphd class \"%s\" reason \"%s\"",
					     e->name, klass, reason);
	EXPECT_STREQ(e->reason, reason) TH_LOG("%s: lymphd reason \"%s\"", e->name, reason);
	EXPECT_EQ(!strcmp(klass, "danger"), in_table)
		TH_LOG("%s: lymphd says %s but /proc/lymph %s it:\n%s", e->name, klass,
		       in_table ? "counts" : "does not count", slurp("/proc/lymph"));
}

TEST_F(agree, same_deaths_same_verdict)
{
	struct expect e[4] = {
		{ "real SIGSEGV", 0, 0, "danger", "fault" },
		{ "kill -SEGV", 0, 0, "programmed", "killed" },
		{ "kernel SIGKILL", 0, 0, "programmed", "kernel-kill" },
		{ "tty hangup SIGHUP", 0, 0, "programmed", "signal" },
	};
	char pts[64];
	int ptm, ready[2], st;

	/* 1. A real fault. */
	e[0].pid = spawn("agree-segv", "--agree-segv", NULL, -1, &e[0].ino);
	ASSERT_LT(0, e[0].pid);
	st = reap(e[0].pid, 10000);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) TH_LOG("status 0x%x", st);

	/* 2. SIGSEGV sent by another process. */
	e[1].pid = spawn("agree-kill", "--agree-sleep", NULL, -1, &e[1].ino);
	ASSERT_LT(0, e[1].pid);
	usleep(300000);
	kill(e[1].pid, SIGSEGV);
	st = reap(e[1].pid, 10000);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) TH_LOG("status 0x%x", st);

	/* 3. The kernel's SIGKILL at the RLIMIT_CPU hard limit. */
	e[2].pid = spawn("agree-cpu", "--agree-cpu", NULL, -1, &e[2].ino);
	ASSERT_LT(0, e[2].pid);
	st = reap(e[2].pid, 60000);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) TH_LOG("status 0x%x", st);

	/* 4. A tty hangup: the pty's master closes under its session leader. */
	/* The guest's /dev is a bare devtmpfs: mount a devpts of its own. */
	mkdir("/dev/pts", 0755);
	if (access("/dev/pts/ptmx", F_OK))
		mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=0666");
	ptm = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
	ASSERT_LE(0, ptm) TH_LOG("no pty: %s", strerror(errno));
	ASSERT_EQ(0, grantpt(ptm));
	ASSERT_EQ(0, unlockpt(ptm));
	ASSERT_EQ(0, ptsname_r(ptm, pts, sizeof(pts)));
	ASSERT_EQ(0, pipe(ready));
	e[3].pid = spawn("agree-hup", "--agree-hup", pts, ready[1], &e[3].ino);
	ASSERT_LT(0, e[3].pid);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], pts, 1)) TH_LOG("the session leader never opened %s", pts);
	close(ready[0]);
	close(ptm);
	st = reap(e[3].pid, 10000);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP) TH_LOG("status 0x%x", st);

	for (int i = 0; i < 4; i++)
		check(_metadata, &e[i]);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strncmp(argv[1], "--agree-", 8))
		return child_mode(argv[1], argc > 2 ? argv[2] : "");
	return test_harness_run(argc, argv);
}
