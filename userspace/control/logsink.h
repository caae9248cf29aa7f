/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where lymphd's items go besides standard output: the systemd journal
 * (native protocol, structured LYMPH_* fields), syslog, or nowhere more
 * (stderr: the terminal is the log).  The edge: logfmt.c builds the
 * entries, this sends them.  The fsynced JSONL journal stays the source of
 * truth; an entry the system log cannot take is counted, never waited for.
 */
#ifndef LYMPH_LOGSINK_H
#define LYMPH_LOGSINK_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "outfilter.h"

enum log_target {
	LOG_TARGET_AUTO,
	LOG_TARGET_JOURNAL,
	LOG_TARGET_SYSLOG,
	LOG_TARGET_STDERR
};

#define LYMPH_JOURNAL_SOCKET "/run/systemd/journal/socket"
#define LYMPH_SYSLOG_SOCKET  "/dev/log"

struct logsink {
	enum log_target target; /* resolved: never AUTO once open */
	int fd;			/* connected datagram socket, or -EBADF */
	struct sockaddr_un addr;
	socklen_t addr_len;
	int stdout_is_journal; /* $JOURNAL_STREAM is our stdout */
	uint64_t sent, lost;
	uint64_t hurry_until_ns; /* CLOCK_MONOTONIC: do not wait for a full queue */
};

/* "auto", "journal", "syslog", "stderr": 0, or -EINVAL. */
int logsink_parse(const char *word, enum log_target *t);
const char *logsink_name(enum log_target t);

/*
 * Open the sink.  auto: stderr when standard error is a terminal, else the
 * journal if its socket answers, else syslog if /dev/log answers, else
 * stderr.  An explicit journal or syslog that cannot be reached is an error
 * (printed): -errno.  The sockets are $LYMPH_JOURNAL_SOCKET and
 * $LYMPH_SYSLOG_SOCKET when set (tests), else the system's.
 */
int logsink_open(struct logsink *s, enum log_target want);
void logsink_close(struct logsink *s);

/* Send one item: rec is its JSON form, event its LYMPH_EVENT, message the
 * readable line.  Does nothing for the stderr target. */
void logsink_send(struct logsink *s, enum out_item it, struct json_object *rec, const char *event,
		  const char *message);

#endif
