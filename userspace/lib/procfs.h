/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What lymphd reads about a process from /proc, in one place: the fields
 * of /proc/PID/stat (parsed after the last ')' since comm may hold spaces
 * and parentheses) and the real uid from /proc/PID/status.
 */
#ifndef LYMPH_PROCFS_H
#define LYMPH_PROCFS_H

#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
	char state;		/* R, S, D, T, Z, ... */
	pid_t ppid;
	pid_t sid;		/* session */
	unsigned long flags;	/* PF_* */
};

/* 0, or -errno (-ENOENT: the process is gone). */
int proc_stat_read(pid_t pid, struct proc_stat *st);

/* /proc/PID/stat into buf, NUL-terminated: its length, or -errno. */
int proc_stat_text(pid_t pid, char *buf, size_t len);

/* The real uid, or -errno. */
int proc_real_uid(pid_t pid, uint32_t *uid);

/* The parent's pid, 0 when unknown. */
pid_t proc_parent(pid_t pid);

/* Does /proc/PID exist? */
int proc_alive(pid_t pid);

#endif
