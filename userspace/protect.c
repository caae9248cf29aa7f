// SPDX-License-Identifier: GPL-2.0-only
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "protect.h"

#define ANCESTORS_MAX 64

static pid_t ancestors[ANCESTORS_MAX];
static int n_ancestors;

/* Field 4 (ppid) and field 9 (flags) of /proc/pid/stat. */
static int stat_fields(pid_t pid, pid_t *ppid, unsigned long *flags)
{
	char path[64], buf[1024], *rp;
	int fd, pp;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	rp = strrchr(buf, ')');
	if (!rp || sscanf(rp + 2, "%*c %d %*d %*d %*d %*d %lu", &pp, flags) != 2)
		return -1;
	*ppid = pp;
	return 0;
}

void protect_init(void)
{
	pid_t pid = getpid(), pp;
	unsigned long flags;

	n_ancestors = 0;
	while (pid > 1 && n_ancestors < ANCESTORS_MAX && !stat_fields(pid, &pp, &flags)) {
		ancestors[n_ancestors++] = pid;
		pid = pp;
	}
}

int protect_pid(pid_t pid)
{
	unsigned long flags = 0;
	pid_t pp;
	int i;

	if (pid <= 1 || pid == getpid())
		return 1;
	for (i = 0; i < n_ancestors; i++)
		if (ancestors[i] == pid)
			return 1;
	/* PF_KTHREAD (0x00200000): kernel threads. */
	if (!stat_fields(pid, &pp, &flags) && (flags & 0x00200000))
		return 1;
	return 0;
}
