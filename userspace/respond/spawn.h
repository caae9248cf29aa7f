/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Starting programs for lymphd: services, their checks and hooks.  A
 * started program gets its own session, no capabilities (effective,
 * permitted, inheritable, ambient and bounding sets all empty),
 * PR_SET_NO_NEW_PRIVS, a clean signal mask, stdin from /dev/null, stdout and
 * stderr to a log file, and only the environment it is given.
 */
#ifndef LYMPH_SPAWN_H
#define LYMPH_SPAWN_H

#include <sys/types.h>

struct spawn_opts {
	char *const *argv;	/* argv[0]: absolute path */
	char *const *env;	/* NULL-terminated, may be NULL */
	const char *user;	/* name or numeric uid; NULL: stay root (without caps) */
	const char *group;	/* NULL: the user's primary group */
	const char *workdir;	/* NULL: / */
	const char *log;	/* NULL: /dev/null */
	int keep_caps;		/* for systemctl: keep lymphd's privileges */
};

/* Forks and execs; returns the pid (> 0) or -errno.  *pidfd gets a pidfd
 * for it (or -1 if the kernel has none). */
pid_t spawn(const struct spawn_opts *o, int *pidfd);

/* Resolve user/group names now, so a typo fails at config load, not at
 * 3 a.m. when the service crashes.  0 or -ENOENT. */
int spawn_check_user(const char *user, const char *group);

#endif
