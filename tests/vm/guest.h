/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers of the in-guest C tests that run a real lymphd (tests/vm/
 * run.sh builds each *_test.c on its own, statically, so this is a header
 * of static inline functions, as kmod.h): whole small files read and written, a
 * sleep, a process's state, and lymphd --source=kmod started on a test's
 * own directory.
 */
#ifndef LYMPH_VM_GUEST_H
#define LYMPH_VM_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A whole small file into buf (NUL-ended); its length, or -errno. */
static inline int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while (got < (ssize_t)len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	return (int)got;
}

/* @text into @path (made 0600, or emptied first); 0 or -errno. */
static inline int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The state letter of @pid ('T': stopped), 0 when it is gone. */
static inline char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* lymphd of the build directory on the kernel command line (lymph.build=)
 * into @out; 0, or -ENOENT when it is not in the VM. */
static inline int guest_lymphd_path(char *out, size_t len)
{
	char cmdline[4096], *b;

	if (read_file("/proc/cmdline", cmdline, sizeof(cmdline)) <= 0 ||
	    !(b = strstr(cmdline, "lymph.build=")))
		return -ENOENT;
	b += strlen("lymph.build=");
	snprintf(out, len, "%.*s/lymphd", (int)strcspn(b, " \n"), b);
	return access(out, X_OK) ? -ENOENT : 0;
}

/*
 * lymphd --source=kmod on @dir's lymph.conf, journal and socket, its
 * output into @out; its pid, or -errno.  Ready once it has set the module
 * to enforce (its last knob): the policy says mode = enforce.
 */
static inline pid_t guest_lymphd_start(const char *lymphd, const char *dir, const char *out)
{
	char mode[32], conf[300], journal[300], sock[300];
	pid_t pid;
	int i;

	snprintf(conf, sizeof(conf), "%s/lymph.conf", dir);
	snprintf(journal, sizeof(journal), "--journal=%s/journal", dir);
	snprintf(sock, sizeof(sock), "--socket=%s/sock", dir);
	write_file("/sys/kernel/lymph/mode", "observe");
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(lymphd, "lymphd", "--source=kmod", "-c", conf, journal, sock, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 6000; i++) {	/* TCG is slow: up to 60 s */
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		if (read_file("/sys/kernel/lymph/mode", mode, sizeof(mode)) > 0 &&
		    !strncmp(mode, "enforce", 7))
			return pid;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -ETIMEDOUT;
}

#endif
