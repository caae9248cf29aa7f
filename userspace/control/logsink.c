// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "clock.h"
#include "logfmt.h"
#include "logsink.h"

int logsink_parse(const char *word, enum log_target *t)
{
	static const char *const w[] = { "auto", "journal", "syslog", "stderr" };
	unsigned int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(word, w[i])) {
			*t = (enum log_target)i;
			return 0;
		}
	return -EINVAL;
}

const char *logsink_name(enum log_target t)
{
	switch (t) {
	case LOG_TARGET_AUTO: return "auto";
	case LOG_TARGET_JOURNAL: return "journal";
	case LOG_TARGET_SYSLOG: return "syslog";
	case LOG_TARGET_STDERR: return "stderr";
	}
	return "?";
}

static const char *sock_path(enum log_target t)
{
	const char *env = getenv(t == LOG_TARGET_JOURNAL ? "LYMPH_JOURNAL_SOCKET"
							 : "LYMPH_SYSLOG_SOCKET");

	if (env && *env)
		return env;
	return t == LOG_TARGET_JOURNAL ? LYMPH_JOURNAL_SOCKET : LYMPH_SYSLOG_SOCKET;
}

static int sink_connect(struct logsink *s)
{
	int fd, sndbuf = 8 << 20;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -EBADF;
	/* Never block the loop on a slow logger: what it cannot take is counted. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (connect(fd, (struct sockaddr *)&s->addr, s->addr_len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	s->fd = fd;
	return 0;
}

static int try_target(struct logsink *s, enum log_target t)
{
	const char *path = sock_path(t);

	if (strlen(path) >= sizeof(s->addr.sun_path))
		return -ENAMETOOLONG;
	memset(&s->addr, 0, sizeof(s->addr));
	s->addr.sun_family = AF_UNIX;
	strcpy(s->addr.sun_path, path);
	s->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	s->target = t;
	return sink_connect(s);
}

/* systemd.exec(5): $JOURNAL_STREAM is "DEV:INODE" of the stream that
 * carries our stdout/stderr to the journal. */
static int stdout_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(STDOUT_FILENO, &st))
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int logsink_open(struct logsink *s, enum log_target want)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->fd = -EBADF;
	s->target = LOG_TARGET_STDERR;
	switch (want) {
	case LOG_TARGET_STDERR: return 0;
	case LOG_TARGET_AUTO:
		if (isatty(STDERR_FILENO))
			return 0;
		if (!try_target(s, LOG_TARGET_JOURNAL) || !try_target(s, LOG_TARGET_SYSLOG))
			break;
		s->target = LOG_TARGET_STDERR;
		return 0;
	case LOG_TARGET_JOURNAL:
	case LOG_TARGET_SYSLOG:
		err = try_target(s, want);
		if (err) {
			fprintf(stderr,
				"lymphd: failed to connect to the %s socket %s: %s; is %s "
				"running? (or use --log=%s)\n",
				want == LOG_TARGET_JOURNAL ? "systemd journal" : "syslog",
				sock_path(want), strerror(-err),
				want == LOG_TARGET_JOURNAL ? "systemd-journald" : "a syslog daemon",
				want == LOG_TARGET_JOURNAL ? "syslog or --log=stderr" : "stderr");
			s->target = LOG_TARGET_STDERR;
			return err;
		}
		break;
	}
	s->stdout_is_journal = s->target == LOG_TARGET_JOURNAL && stdout_is_journal();
	return 0;
}

void logsink_close(struct logsink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -EBADF;
	if (s->lost)
		fprintf(stderr,
			"lymphd: %llu entr%s could not be sent to %s (all of them are in "
			"lymphd's journal file)\n",
			(unsigned long long)s->lost, s->lost == 1 ? "y" : "ies",
			logsink_name(s->target));
}

/* Too large for a datagram: the documented way is a sealed memfd. */
static int send_memfd(struct logsink *s, const char *buf, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct msghdr mh = { .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd, err = 0;

	fd = memfd_create("lymphd-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
		err = errno ? -errno : -EIO;
		close(fd);
		return err;
	}
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(s->fd, &mh, MSG_NOSIGNAL) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int send_once(struct logsink *s, const char *buf, size_t len)
{
	if (send(s->fd, buf, len, MSG_NOSIGNAL) >= 0)
		return 0;
	if (errno == EMSGSIZE && s->target == LOG_TARGET_JOURNAL)
		return send_memfd(s, buf, len);
	return -errno;
}

/*
 * The logger's queue is full (a burst; unix datagram queues hold
 * net.unix.max_dgram_qlen entries): wait up to LOG_WAIT_MS for room, but
 * after a wait that failed, not again for a second, so a stalled logger
 * costs the loop at most LOG_WAIT_MS a second.
 */
#define LOG_WAIT_MS 20

static int wait_room(struct logsink *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	uint64_t now = clock_mono_ns();

	if (now < s->hurry_until_ns)
		return 0;
	if (poll(&p, 1, LOG_WAIT_MS) == 1 && (p.revents & POLLOUT))
		return 1;
	s->hurry_until_ns = now + 1000000000ULL;
	return 0;
}

static void send_buf(struct logsink *s, const char *buf, size_t len)
{
	int err = s->fd >= 0 ? send_once(s, buf, len) : -ENOTCONN;

	while (err == -EAGAIN && wait_room(s))
		err = send_once(s, buf, len);

	/* The logger restarted: its socket is a new one. */
	if ((err == -ECONNREFUSED || err == -ENOTCONN || err == -ENOENT) && !sink_connect(s))
		err = send_once(s, buf, len);
	if (!err) {
		s->sent++;
		return;
	}
	/* Say it at the first loss and then once per 1000: never a flood. */
	if (s->lost++ % 1000 == 0)
		fprintf(stderr,
			"lymphd: failed to send to %s (%s): %s; %llu entr%s lost so far, "
			"every decision is still in lymphd's journal file\n",
			logsink_name(s->target), s->addr.sun_path, strerror(-err),
			(unsigned long long)s->lost, s->lost == 1 ? "y" : "ies");
}

void logsink_send(struct logsink *s, enum out_item it, struct json_object *rec, const char *event,
		  const char *message)
{
	int prio = log_priority(it, rec);

	if (s->target == LOG_TARGET_JOURNAL) {
		char *buf;
		size_t len;

		if (log_journal_entry(rec, event, message, prio, &buf, &len)) {
			s->lost++;
			return;
		}
		send_buf(s, buf, len);
		free(buf);
	} else if (s->target == LOG_TARGET_SYSLOG) {
		char line[2048];
		size_t len = log_syslog_line(line, sizeof(line), prio, time(NULL), getpid(),
					     message);

		send_buf(s, line, len);
	}
}
