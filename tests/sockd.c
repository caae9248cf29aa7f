// SPDX-License-Identifier: GPL-2.0-only
/*
 * sockd: a daemon in the old style for lymph's leftover tests, built by
 * tests/phagocyte_test.c at run time (cc -O2 -o DIR/sockd tests/sockd.c).
 *
 *   sockd SOCKET LOCKFILE PIDFILE
 *
 * Like many real daemons it refuses to start when its lock file exists
 * ("already running": created with O_EXCL, its pid inside, flock()ed and
 * kept open) or when its unix socket path is taken (bind: EADDRINUSE), and
 * it writes a pid file.  A crash leaves all three behind, so a plain
 * restart fails.  On its socket it answers "pid" with "pid N" and crashes
 * (SIGSEGV) on "crash"; "zombies N" forks N children that exit at once
 * and are never reaped.  With SOCKD_DIE_WITH_PARENT=1 it dies with its
 * parent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

static int *volatile null_ptr;

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[64];
	int lfd, sfd, pfd;

	if (argc != 4) {
		fprintf(stderr, "usage: sockd SOCKET LOCKFILE PIDFILE\n");
		return 2;
	}
	struct rlimit nocore = { 0, 0 };

	setrlimit(RLIMIT_CORE, &nocore); /* its crashes leave no core behind */
	if (getenv("SOCKD_DIE_WITH_PARENT"))
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	lfd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (lfd < 0) {
		fprintf(stderr, "sockd: lock file %s: %s (already running?)\n", argv[2],
			strerror(errno));
		return 1;
	}
	flock(lfd, LOCK_EX);
	dprintf(lfd, "%d\n", getpid());
	sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	if (sfd < 0 || bind(sfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(sfd, 16)) {
		fprintf(stderr, "sockd: socket %s: %s\n", argv[1], strerror(errno));
		unlink(argv[2]);
		return 1;
	}
	pfd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (pfd >= 0) {
		dprintf(pfd, "%d\n", getpid());
		close(pfd);
	}
	for (;;) {
		int c = accept4(sfd, NULL, NULL, SOCK_CLOEXEC);
		ssize_t n;

		if (c < 0)
			continue;
		n = read(c, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			if (!strncmp(buf, "crash", 5))
				*null_ptr = 1;
			if (!strncmp(buf, "zombies ", 8)) /* children never reaped */
				for (int i = atoi(buf + 8); i > 0; i--)
					if (fork() == 0)
						_exit(0);
			if (!strncmp(buf, "pid", 3))
				dprintf(c, "pid %d\n", getpid());
		}
		close(c);
	}
}
