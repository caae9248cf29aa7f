/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Starting programs for lymphd: services, their checks and hooks.  A
 * started program gets its own session, only the capabilities it is given
 * (by default none: effective, permitted, inheritable, ambient and bounding
 * sets all empty), PR_SET_NO_NEW_PRIVS, a clean signal mask, stdin from
 * /dev/null, stdout and stderr to a log file, and only the environment it is
 * given.  The bounding set and every capability not given are dropped
 * before the uid switch, while the child still may; any failure of a step
 * fails the start (the child exits 127 with the reason on its log).
 */
#ifndef LYMPH_SPAWN_H
#define LYMPH_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

struct spawn_opts {
	char *const *argv;   /* argv[0]: absolute path */
	char *const *env;    /* NULL-terminated, may be NULL */
	const char *user;    /* name or numeric uid; NULL: stay root (without caps) */
	const char *group;   /* NULL: the user's primary group */
	const char *workdir; /* NULL: / */
	const char *log;     /* NULL: /dev/null */
	int use_out_fd;	     /* stdout and stderr go to out_fd instead of log */
	int out_fd;	     /* lymphd's log pipe (timestamps, rotation) */
	int keep_caps;	     /* for systemctl: keep lymphd's privileges */
	uint64_t caps;	     /* CAP_* bits kept: effective, permitted, inheritable,
				 * and ambient for a user other than root */
	uint64_t bounding;   /* CAP_* bits of the bounding set; must hold caps */
};

/* Starts o->argv with vfork() and execve() (the child runs on lymphd's
 * memory until its execve, making only system calls: no copy of lymphd's
 * page tables); returns the pid (> 0) or -errno.  A failure in the child
 * is on its log, and its exit status 127.  *pidfd gets a pidfd
 * for it (or -1 if the kernel has none).  -EPERM when caps asks for a
 * capability lymphd does not hold itself. */
pid_t spawn(const struct spawn_opts *o, int *pidfd);

/* Resolve user/group names now, so a typo fails at config load, not at
 * 3 a.m. when the service crashes.  0 or -ENOENT. */
int spawn_check_user(const char *user, const char *group);

/* The CAP_* bits lymphd holds in its permitted set. */
uint64_t spawn_permitted(void);

#endif
