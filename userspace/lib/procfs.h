/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What lymphd reads about a process from /proc, in one place: the fields
 * of /proc/PID/stat (parsed after the last ')' since comm may hold spaces
 * and parentheses), the fields of /proc/PID/status, and the one walk
 * over /proc's numbered directories (processes, threads, fds).
 */
#ifndef LYMPH_PROCFS_H
#define LYMPH_PROCFS_H

#include <dirent.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
	char state; /* R, S, D, T, Z, ... */
	pid_t ppid;
	pid_t sid;	     /* session */
	unsigned long flags; /* PF_* */
};

/* 0, or -errno (-ENOENT: the process is gone). */
int proc_stat_read(pid_t pid, struct proc_stat *st);

/* /proc/PID/stat into buf, NUL-terminated: its length, or -errno. */
int proc_stat_text(pid_t pid, char *buf, size_t len);

/* The value of the "Key:" line of /proc/PID/status, blanks around it
 * removed, into val (truncated to cap - 1): 0, -ENOENT when the process or
 * the key is missing, or -errno. */
int proc_status_field(pid_t pid, const char *key, char *val, size_t cap);

/* The real uid, or -errno. */
int proc_real_uid(pid_t pid, uint32_t *uid);

/* The parent's pid, 0 when unknown. */
pid_t proc_parent(pid_t pid);

/* Does /proc/PID exist?  A zombie does. */
int proc_alive(pid_t pid);

/* Does PID run: /proc/PID exists and is neither dead nor a zombie (an
 * exited process its parent has not reaped yet), unless a zombie main
 * thread still has threads of its process running. */
int proc_running(pid_t pid);

/* The pid a daemon wrote to its pidfile at path (a regular file, not
 * followed if a symlink): > 1, or 0 when missing, unreadable, not a
 * regular file or not a pid. */
pid_t proc_pidfile_read(const char *path);

/* The same from a pidfile owned by root or by owner only: a file others
 * could write names no daemon of theirs. */
pid_t proc_pidfile_read_owned(const char *path, uid_t owner);

/*
 * A walk over the numbered entries of a /proc directory: the processes of
 * /proc (or of another proc mount), the threads of /proc/PID/task, the
 * fds of /proc/PID/fd.  Other names (self, thread-self, ., ..) are
 * skipped; a process that exits during the walk may or may not be
 * returned, so what the caller reads next about it must allow -ENOENT.
 *
 *	struct proc_iter it;
 *	long pid;
 *
 *	if (proc_iter_open(&it, "/proc"))
 *		return;
 *	while ((pid = proc_iter_next(&it)) >= 0)
 *		...;
 *	proc_iter_close(&it);
 */
struct proc_iter {
	DIR *dir;
};

/* Walk DIR: 0 or -errno. */
int proc_iter_open(struct proc_iter *it, const char *dir);

/* Walk /proc/PID/SUB (SUB: "fd", "task"): 0 or -errno (-ENOENT: gone). */
int proc_iter_open_pid(struct proc_iter *it, pid_t pid, const char *sub);

/* The next number (a pid, tid or fd, >= 0), or -1 at the end. */
long proc_iter_next(struct proc_iter *it);

/* Safe on an iterator whose open failed. */
void proc_iter_close(struct proc_iter *it);

#endif
