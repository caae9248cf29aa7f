// SPDX-License-Identifier: GPL-2.0-only
/*
 * forknote.so: preloaded (LD_PRELOAD) into a dynamically linked shell that
 * runs bench/forkbomb's shell function bomb, so that a bomb written in
 * shell notes what tests/progs/forkbomb.c notes of itself: every call of
 * fork() before it is made, its result, and every exit, in the shared
 * stats file named by $FORKNOTE_STATS (struct bomb_stats).  The bench then
 * replays lymph's token bucket on the shell bomb's own times, as for every
 * other variant, instead of guessing them from pids.current samples.
 *
 * Built by bench/forkbomb at start (cc -shared -fPIC), or by
 * bench/forkbomb-vm for the guest.  Costs each fork two clock reads.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include "../../tests/progs/bomb_stats.h"

static struct bomb_stats *s;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Map the stats file once, in the first process (its children inherit). */
__attribute__((constructor)) static void forknote_init(void)
{
	const char *path = getenv("FORKNOTE_STATS");
	uint64_t zero;
	void *p;
	int fd;

	if (!path || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return;
	p = mmap(NULL, BOMB_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	s = p;
	zero = 0;
	__atomic_compare_exchange_n(&s->start_ns, &zero, now_ns(), 0, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
}

static void note_at(uint64_t *count, uint64_t *times, uint64_t t)
{
	uint64_t n = __atomic_fetch_add(count, 1, __ATOMIC_RELAXED);

	if (n < BOMB_MAX_FORKS)
		times[n] = t;
}

pid_t fork(void)
{
	static pid_t (*real_fork)(void);
	uint64_t t;
	pid_t pid;

	if (!real_fork)
		real_fork = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
	if (!s)
		return real_fork();
	/* before the fork: a forker the throttle stops is stopped on its
	 * way back from fork(), and would note it late */
	t = now_ns();
	note_at(&s->attempts, s->attempt_ns, t);
	pid = real_fork();
	if (pid > 0) {
		note_at(&s->forks, s->fork_ns, t);
		__atomic_store_n(&s->last_fork_ns, t, __ATOMIC_RELAXED);
	} else if (pid < 0) {
		__atomic_fetch_add(&s->failed, 1, __ATOMIC_RELAXED);
	}
	return pid;
}

/* A shell leaves by exit() or _exit(); libc's exit() calls its own _exit,
 * not this one, so each exit is noted once. */
typedef void (*exit_fn)(int);

__attribute__((noreturn)) static void note_exit_then(const char *name, exit_fn *real, int status)
{
	if (!*real)
		*real = (exit_fn)dlsym(RTLD_NEXT, name);
	if (s)
		note_at(&s->exits, s->exit_ns, now_ns());
	(*real)(status);
	__builtin_unreachable();
}

void exit(int status)
{
	static exit_fn real;

	note_exit_then("exit", &real, status);
}

void _exit(int status)
{
	static exit_fn real;

	note_exit_then("_exit", &real, status);
}
