// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "procfs.h"
#include "smallfile.h"

int proc_stat_text(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = small_file_read(path, 0, buf, len);
	if (n <= 0)
		return n < 0 ? (int)n : -ENOENT;
	return (int)n;
}

int proc_stat_read(pid_t pid, struct proc_stat *st)
{
	char buf[1024], *rp;
	int ppid, sid, n;

	n = proc_stat_text(pid, buf, sizeof(buf));
	if (n < 0)
		return n;
	rp = strrchr(buf, ')');
	/* state ppid pgrp session tty_nr tpgid flags */
	if (!rp ||
	    sscanf(rp + 2, "%c %d %*d %d %*d %*d %lu", &st->state, &ppid, &sid, &st->flags) != 4)
		return -EINVAL;
	st->ppid = ppid;
	st->sid = sid;
	return 0;
}

int proc_status_field(pid_t pid, const char *key, char *val, size_t cap)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			char *v = line + klen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(val, cap, "%s", v);
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

int proc_real_uid(pid_t pid, uint32_t *uid)
{
	char val[64];
	int err = proc_status_field(pid, "Uid", val, sizeof(val));

	if (err)
		return err;
	return sscanf(val, "%u", uid) == 1 ? 0 : -EINVAL;
}

pid_t proc_parent(pid_t pid)
{
	struct proc_stat st;

	return proc_stat_read(pid, &st) ? 0 : st.ppid;
}

int proc_alive(pid_t pid)
{
	char p[32];

	snprintf(p, sizeof(p), "/proc/%d", pid);
	return pid > 0 && !access(p, F_OK);
}

int proc_running(pid_t pid)
{
	struct proc_stat st;
	char val[32];

	if (pid <= 0 || proc_stat_read(pid, &st) || st.state == 'X')
		return 0;
	if (st.state != 'Z')
		return 1;
	/* A main thread that left by pthread_exit() shows Z while the
	 * process's other threads run: Threads counts it and them. */
	return !proc_status_field(pid, "Threads", val, sizeof(val)) && atoi(val) > 1;
}

/* owner NULL: any owner. */
static pid_t pidfile_read(const char *path, const uid_t *owner)
{
	char buf[32] = "";
	struct stat st;
	long pid;
	/* O_NONBLOCK: opening a FIFO put there would wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (owner && st.st_uid != 0 && st.st_uid != *owner)) {
		close(fd);
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	pid = strtol(buf, NULL, 10);
	return (pid > 1 && pid < (1L << 22)) ? (pid_t)pid : 0;
}

pid_t proc_pidfile_read(const char *path)
{
	return pidfile_read(path, NULL);
}

pid_t proc_pidfile_read_owned(const char *path, uid_t owner)
{
	return pidfile_read(path, &owner);
}

int proc_iter_open(struct proc_iter *it, const char *dir)
{
	it->dir = opendir(dir);
	return it->dir ? 0 : -errno;
}

int proc_iter_open_pid(struct proc_iter *it, pid_t pid, const char *sub)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, sub);
	return proc_iter_open(it, path);
}

long proc_iter_next(struct proc_iter *it)
{
	struct dirent *de;

	while (it->dir && (de = readdir(it->dir))) {
		unsigned long v;
		char *end;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		errno = 0;
		v = strtoul(de->d_name, &end, 10);
		if (errno || *end || v > INT_MAX)
			continue;
		return (long)v;
	}
	return -1;
}

void proc_iter_close(struct proc_iter *it)
{
	if (it->dir)
		closedir(it->dir);
	it->dir = NULL;
}
