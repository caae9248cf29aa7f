// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fork bombs for the throttle tests and bench/forkbomb, in the variants an
 * attacker tries against a lineage: every process forks forever, children
 * included.  Only ever run it inside a pids cgroup backstop.
 *
 *   forkbomb STATSFILE [MODE [DIR]]
 *
 * MODE:
 *   plain    every child goes on forking (the default; `while (1) fork();`)
 *   setsid   every child first calls setsid(): a session of its own
 *   pgrp     every child first makes a process group of its own
 *   double   every child forks a grandchild and exits, so the grandchild is
 *            reparented (to init or the nearest subreaper) and goes on
 *   subcg    every child moves itself into a cgroup of its own made under
 *            DIR (a delegated v1 or v2 cgroup directory it may write)
 *   vfork    as plain, with vfork(): the child forks on from its own fork()
 *   threads  one process creates threads (CLONE_THREAD) until refused; each
 *            thread does the same
 *   slow     just over a budget of 50 a second: only the first process
 *            grows the bomb, one child about every 11 ms (90 a second)
 *            that stays (it sleeps), never giving its token back
 *   creep    below any budget: only the first process grows the bomb, one
 *            child every 50 ms; each child spins on a fork whose child
 *            exits at once (no growth), until the cap refuses its forks
 *   spin     a few spinners, the rest blocked: the first process makes a
 *            child every 20 ms (below any budget); the first DIR of them
 *            (a number, default 0) spin on a fork whose child exits at
 *            once, the others block in pause(); once the cap refuses a
 *            fork the first process spins too: DIR + 1 spinners in all
 *
 * STATSFILE (created by the caller, BOMB_STATS_SIZE bytes) is mapped shared
 * by every process of the bomb and counts, so the caller can tell how far
 * it got: see struct bomb_stats.  With STATSFILE "-" nothing is counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "bomb_stats.h"

static struct bomb_stats dummy;
static struct bomb_stats *s = &dummy;
static const char *mode = "plain";
static const char *dir;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void note(uint64_t t, int ok)
{
	if (ok) {
		uint64_t n = __atomic_fetch_add(&s->forks, 1, __ATOMIC_RELAXED);

		if (n < BOMB_MAX_FORKS)
			s->fork_ns[n] = t;
		__atomic_store_n(&s->last_fork_ns, t, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&s->failed, 1, __ATOMIC_RELAXED);
	}
}

/* Before every fork: see bomb_stats.attempt_ns. */
static void note_attempt(uint64_t t)
{
	uint64_t n = __atomic_fetch_add(&s->attempts, 1, __ATOMIC_RELAXED);

	if (n < BOMB_MAX_FORKS)
		s->attempt_ns[n] = t;
}

/* fork(), noted before and after (a refusal counted as failed). */
static pid_t noted_fork(void)
{
	uint64_t t = now_ns();
	pid_t pid;

	note_attempt(t);
	pid = fork();
	note(t, pid >= 0);
	return pid;
}

static void note_exit(void)
{
	uint64_t n = __atomic_fetch_add(&s->exits, 1, __ATOMIC_RELAXED);

	if (n < BOMB_MAX_FORKS)
		s->exit_ns[n] = now_ns();
}

/* What a new child does before it forks on. */
static void child_escape(void)
{
	char p[512], pid[32];
	int fd;

	if (!strcmp(mode, "setsid")) {
		setsid();
	} else if (!strcmp(mode, "pgrp")) {
		setpgid(0, 0);
	} else if (!strcmp(mode, "subcg") && dir) {
		snprintf(p, sizeof(p), "%s/c%d", dir, (int)getpid());
		if (mkdir(p, 0755))
			return;
		snprintf(p, sizeof(p), "%s/c%d/cgroup.procs", dir, (int)getpid());
		fd = open(p, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());

			if (write(fd, pid, (size_t)n) < 0)
				__atomic_fetch_add(&s->failed, 0, __ATOMIC_RELAXED);
			close(fd);
		}
	}
}

static void *thread_bomb(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t t = now_ns();
		pthread_t th;
		pthread_attr_t a;
		int err;

		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 64 * 1024);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		note_attempt(t);
		err = pthread_create(&th, &a, thread_bomb, NULL);
		pthread_attr_destroy(&a);
		note(t, !err);
	}
	return NULL;
}

/*
 * The slow bomb: see MODE.  Paced by the clock (a fork every 11.1 ms from
 * the first), not by a sleep after each fork: under emulation (the test
 * VM, qemu TCG) a fork takes milliseconds, and a sleep after it made some
 * 65 a second, too few to overdraw a budget of 50 before the cap.  A
 * fork late by more than one slot (the bomb was held) starts the pace
 * again: no burst to catch up.
 */
static void slow(void)
{
	const uint64_t gap = 11111111ULL;
	uint64_t t, next = now_ns();
	struct timespec at;
	pid_t pid;

	for (;;) {
		t = now_ns();
		note_attempt(t);
		pid = fork();
		if (pid == 0)
			for (;;)
				pause();
		note(t, pid > 0);
		next += gap;
		t = now_ns();
		if (next + gap < t)
			next = t;	/* held or stalled: no catching up */
		at.tv_sec = (time_t)(next / 1000000000ULL);
		at.tv_nsec = (long)(next % 1000000000ULL);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
			;
	}
}

/* The creep bomb: see MODE. */
static void creep(void)
{
	struct timespec gap = { 0, 50 * 1000000L };
	int spinner = 0;
	pid_t pid;

	for (;;) {
		pid = noted_fork();
		if (pid == 0 && spinner)
			_exit(0); /* a spinner's child: no growth */
		else if (pid == 0)
			spinner = 1; /* the leader's child spins from now on */
		else if (pid > 0 && spinner)
			waitpid(pid, NULL, 0);
		else if (pid > 0)
			nanosleep(&gap, NULL); /* the leader; refused: spin */
	}
}

/* The spin bomb: see MODE. */
static void spin(int spinners)
{
	struct timespec gap = { 0, 20 * 1000000L };
	int made = 0;
	pid_t pid;

	for (;;) {
		pid = noted_fork();
		if (pid == 0 && made < spinners) {
			for (;;) { /* a spinner: no growth */
				pid = noted_fork();
				if (pid == 0)
					_exit(0);
				if (pid > 0)
					waitpid(pid, NULL, 0);
			}
		}
		if (pid == 0)
			for (;;)
				pause(); /* blocked: no CPU */
		if (pid > 0) {
			made++;
			nanosleep(&gap, NULL);
		}
		/* refused: the first process spins */
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-")) {
		int fd = open(argv[1], O_RDWR | O_CLOEXEC);
		void *p = fd < 0 ? MAP_FAILED
				 : mmap(NULL, BOMB_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
					fd, 0);

		if (p == MAP_FAILED)
			return 2;
		close(fd);
		s = p;
	}
	if (argc > 2)
		mode = argv[2];
	if (argc > 3)
		dir = argv[3];
	{
		/* the first process only: a vfork child execs the bomb again */
		uint64_t zero = 0, t = now_ns();

		__atomic_compare_exchange_n(&s->start_ns, &zero, t, 0, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	}
	if (!strcmp(mode, "threads"))
		thread_bomb(NULL);
	if (!strcmp(mode, "creep"))
		creep();
	if (!strcmp(mode, "spin"))
		spin(dir ? atoi(dir) : 0);
	if (!strcmp(mode, "slow"))
		slow();
	for (;;) {
		/* before the fork: a forker the throttle stops is stopped on
		 * its way back from fork(), and would note it late */
		uint64_t t = now_ns();
		pid_t pid;

		note_attempt(t);
		pid = !strcmp(mode, "vfork") ? vfork() : fork();

		if (pid > 0) {
			note(t, 1);
			if (!strcmp(mode, "double"))
				waitpid(pid, NULL, 0); /* the middle one exits at once */
		} else if (pid < 0) {
			note(t, 0);
		} else if (!strcmp(mode, "vfork")) {
			/* a vfork child may only exec or _exit: it execs the bomb */
			execv("/proc/self/exe", argv);
			_exit(127);
		} else if (!strcmp(mode, "double")) {
			uint64_t t2 = now_ns();
			pid_t g;

			note_attempt(t2);
			g = fork();
			note(t2, g >= 0);
			if (g != 0) {
				note_exit();
				_exit(0);
			}
			/* the grandchild, reparented, goes on */
		} else {
			child_escape();
		}
		/* pid == 0: the child goes on forking too */
	}
}
