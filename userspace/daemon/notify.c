// SPDX-License-Identifier: GPL-2.0-only
/*
 * sd_notify(3)'s protocol, written from its documentation: a datagram to
 * an AF_UNIX socket; '@' at the start of the name means the abstract
 * namespace (the '@' becomes a NUL byte and the address length covers the
 * name exactly).  See notify.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "notify.h"
#include "parse_num.h"

static struct {
	struct sockaddr_un sa;
	socklen_t len;	      /* 0: not under systemd's supervision */
	uint64_t watchdog_us; /* 0: no watchdog */
	uint64_t next_ping_ns;
	int warned;
} n;

void notify_init(void)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *wpid = getenv("WATCHDOG_PID");
	uint64_t v, pid;
	size_t len;

	memset(&n, 0, sizeof(n));
	if (sock && (sock[0] == '/' || sock[0] == '@') &&
	    (len = strlen(sock)) < sizeof(n.sa.sun_path)) {
		n.sa.sun_family = AF_UNIX;
		memcpy(n.sa.sun_path, sock, len);
		if (sock[0] == '@')
			n.sa.sun_path[0] = '\0';
		n.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else if (sock && *sock) {
		fprintf(stderr,
			"lymphd: NOTIFY_SOCKET='%s' is not a unix socket path or @name; "
			"systemd will not hear from lymphd\n",
			sock);
	}
	/* The watchdog is for us only if WATCHDOG_PID, when set, is our pid. */
	if (n.len && usec && !parse_u64(usec, 1, 86400ULL * 1000000 * 365, &v) &&
	    (!wpid || (!parse_u64(wpid, 1, UINT32_MAX, &pid) && pid == (uint64_t)getpid())))
		n.watchdog_us = v;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int notify(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int fd, len, err = 0;

	if (!n.len)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(msg))
		return -EMSGSIZE;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err = -errno;
	else if (sendto(fd, msg, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&n.sa, n.len) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err && !n.warned) {
		n.warned = 1;
		fprintf(stderr, "lymphd: failed to notify systemd on %s%s: %s\n",
			n.sa.sun_path[0] ? "" : "@", n.sa.sun_path + !n.sa.sun_path[0],
			strerror(-err));
	}
	return err;
}

void notify_watchdog(uint64_t now_ns)
{
	if (!n.watchdog_us || now_ns < n.next_ping_ns)
		return;
	n.next_ping_ns = now_ns + n.watchdog_us * 1000ULL / 2;
	notify("WATCHDOG=1");
}

uint64_t notify_watchdog_usec(void)
{
	return n.watchdog_us;
}
