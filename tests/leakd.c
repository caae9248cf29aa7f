// SPDX-License-Identifier: GPL-2.0-only
/*
 * leakd: a service that leaks, for lymph's leak foresight tests, built by
 * tests/phagocyte_test.c at run time (cc -O2 -o DIR/leakd tests/leakd.c).
 *
 *   leakd mem MARKER   10 MiB/s of touched memory under RLIMIT_AS 256 MiB
 *   leakd fds MARKER   50 fds/s under RLIMIT_NOFILE 400
 *   leakd saw MARKER   grows 10 MiB/s for 1.5 s, frees it all, again
 *
 * When a limit is hit (ENOMEM, EMFILE) it writes the error's name to
 * MARKER and exits 99: the test checks that lymphd restarted it before.
 * With LEAKD_DIE_WITH_PARENT=1 it dies with its parent; with
 * LEAKD_CGROUP_PROCS=FILE it first moves itself into that cgroup (a
 * memory-limited one: there the limit ends in an OOM kill, no marker).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#define MIB (1UL << 20)

static const char *marker;

static void hit(const char *what)
{
	FILE *f = fopen(marker, "a");

	if (f) {
		fprintf(f, "%s %d\n", what, getpid());
		fclose(f);
	}
	exit(99);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	struct rlimit as = { 256 * MIB, 256 * MIB }, nofile = { 400, 400 };
	static void *maps[4096];
	int n = 0;

	if (argc != 3)
		return 2;
	marker = argv[2];
	if (getenv("LEAKD_DIE_WITH_PARENT"))
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getenv("LEAKD_CGROUP_PROCS")) {
		FILE *f = fopen(getenv("LEAKD_CGROUP_PROCS"), "w");

		if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f))
			return 3;
	}
	setrlimit(RLIMIT_AS, &as);
	setrlimit(RLIMIT_NOFILE, &nofile);
	if (!strcmp(argv[1], "fds")) {
		for (;;) {
			if (open("/dev/null", O_RDONLY) < 0)
				hit(errno == EMFILE ? "EMFILE" : "open");
			nap_ms(20);
		}
	}
	for (long tick = 0;; tick++) {
		void *p;

		if (!strcmp(argv[1], "saw") && tick % 15 == 0) {
			while (n)
				munmap(maps[--n], MIB);
		}
		p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || n == 4096)
			hit("ENOMEM");
		memset(p, 1, MIB);
		maps[n++] = p;
		nap_ms(100);
	}
}
