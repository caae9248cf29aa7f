// SPDX-License-Identifier: GPL-2.0-only
/*
 * echod: a tiny TCP echo daemon for lymph's service tests and bench/restart.
 * Built by them at run time (cc -O2 -o DIR/echod tests/echod.c), not by the
 * Makefile.
 *
 *   echod PORT [PIDFILE]
 *
 * Listens on 127.0.0.1:PORT and echoes every line back, with three commands:
 *   "pid"    answers its pid ("pid 1234")
 *   "crash"  dereferences NULL: a real SIGSEGV (SEGV_MAPERR at 0x0)
 *   "exit N" exits with status N
 * One poll loop, no threads, no children: the process lymphd tracks is the
 * one that listens.  With ECHOD_DIE_WITH_PARENT=1 in its environment it dies
 * with its parent (PR_SET_PDEATHSIG), so a test killed by its timeout leaves
 * no echod behind.
 *
 * As the service types of lymphd want it:
 *   ECHOD_DAEMON=1         forks; the parent exits 0 at once, the child (in
 *                          its own session) listens and writes PIDFILE, as a
 *                          classic daemon does (type = forking)
 *   NOTIFY_SOCKET=...      sends READY=1 there once listening, after
 *                          ECHOD_NOTIFY_DELAY_MS (default 0), unless
 *                          ECHOD_NOTIFY_NEVER=1 (type = notify)
 *   ECHOD_LOG_LINES=N      prints N numbered lines on stdout once listening
 *   ECHOD_CHILD=1          forks a child that keeps the listening socket and
 *                          waits, as a worker does (kill_mode)
 *   ECHOD_CRASH_HANDLER=1  catches SIGSEGV, and re-raises it with the
 *                          default action, as crash handlers (redis's) do
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#define MAX_CLIENTS 64

struct client {
	int fd;
	size_t len;
	char buf[512];
};

/* volatile: the compiler cannot prove the pointer NULL, so it cannot drop
 * or replace the store (gcc deletes a store through a known NULL). */
static int *volatile null_ptr;

static void __attribute__((noinline)) crash(void)
{
	*null_ptr = 42; /* SIGSEGV, si_code SEGV_MAPERR, fault address 0 */
}

/* Handle one complete line; returns -1 to drop the client. */
static int handle(int fd, char *line)
{
	char out[600];
	int n;

	if (!strcmp(line, "crash")) {
		crash();
		return -1;
	}
	if (!strncmp(line, "exit ", 5))
		exit(atoi(line + 5));
	if (!strcmp(line, "pid"))
		n = snprintf(out, sizeof(out), "pid %d\n", (int)getpid());
	else
		n = snprintf(out, sizeof(out), "%s\n", line);
	return send(fd, out, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* A crash handler: log, restore the default action, re-raise. */
static void on_sigsegv(int sig)
{
	static const char msg[] = "echod: caught SIGSEGV, re-raising it\n";

	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(139);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* sd_notify(), systemd's protocol: one datagram to $NOTIFY_SOCKET, an
 * abstract name when it starts with '@'. */
static void notify_ready(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd;

	if (len >= sizeof(sa.sun_path) || !len)
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(sizeof(sa.sun_family) + len)) < 0)
		fprintf(stderr, "echod: failed to notify %s: %s\n", path, strerror(errno));
	close(fd);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static struct client cl[MAX_CLIENTS];
	struct rlimit no_core = { 0, 0 };
	struct pollfd pf[MAX_CLIENTS + 1];
	int lfd, one = 1, i;

	if (argc < 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
		fprintf(stderr, "usage: echod PORT [PIDFILE]\n");
		return 2;
	}
	if (getenv("ECHOD_DAEMON")) {
		pid_t parent = getpid(), pid = fork();

		if (pid < 0)
			return 1;
		if (pid > 0)
			_exit(0);
		setsid();
		/* let the parent go: PDEATHSIG is then the reaper's (lymphd) */
		for (i = 0; i < 200 && getppid() == parent; i++)
			usleep(10000);
	}
	if (getenv("ECHOD_DIE_WITH_PARENT") && (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1))
		return 1;		  /* the parent is already gone */
	setrlimit(RLIMIT_CORE, &no_core); /* crash fast, leave no core file */
	if (getenv("ECHOD_CRASH_HANDLER"))
		signal(SIGSEGV, on_sigsegv);
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128)) {
		fprintf(stderr, "echod: failed to listen on 127.0.0.1:%s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	if (argc > 2) {
		FILE *f = fopen(argv[2], "w");

		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	if (getenv("ECHOD_LOG_LINES")) {
		int k, lines = atoi(getenv("ECHOD_LOG_LINES"));

		for (k = 0; k < lines; k++)
			printf("echod line %05d of the log rotation test\n", k);
		fflush(stdout);
	}
	if (getenv("ECHOD_CHILD")) {
		pid_t pid = fork();

		if (pid == 0) {
			for (;;)
				pause();
		}
	}
	if (getenv("NOTIFY_SOCKET") && !getenv("ECHOD_NOTIFY_NEVER")) {
		const char *d = getenv("ECHOD_NOTIFY_DELAY_MS");

		if (d)
			usleep((useconds_t)atoi(d) * 1000);
		notify_ready(getenv("NOTIFY_SOCKET"));
	}
	for (i = 0; i < MAX_CLIENTS; i++)
		cl[i].fd = -1;
	for (;;) {
		int n = 0;

		pf[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < MAX_CLIENTS; i++)
			pf[n++] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pf[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			for (i = 0; fd >= 0 && i < MAX_CLIENTS && cl[i].fd >= 0; i++)
				;
			if (fd >= 0 && i == MAX_CLIENTS)
				close(fd);
			else if (fd >= 0)
				cl[i] = (struct client){ .fd = fd };
		}
		for (i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &cl[i];
			ssize_t r;
			char *nl;

			if (c->fd < 0 || !pf[i + 1].revents)
				continue;
			r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
			if (r <= 0) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			c->len += (size_t)r;
			c->buf[c->len] = 0;
			while ((nl = strchr(c->buf, '\n'))) {
				*nl = 0;
				if (nl > c->buf && nl[-1] == '\r')
					nl[-1] = 0;
				if (handle(c->fd, c->buf)) {
					close(c->fd);
					c->fd = -1;
					c->len = 0;
					break;
				}
				c->len -= (size_t)(nl + 1 - c->buf);
				memmove(c->buf, nl + 1, c->len + 1);
			}
			if (c->fd >= 0 && c->len == sizeof(c->buf) - 1) {
				close(c->fd); /* a line too long: drop the client */
				c->fd = -1;
				c->len = 0;
			}
		}
	}
}
