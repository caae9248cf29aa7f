/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Telling systemd how lymphd is doing: the sd_notify(3) protocol, one
 * datagram of NAME=VALUE lines to the unix socket named by $NOTIFY_SOCKET
 * (a path, or an abstract name written with a leading '@'), without
 * libsystemd.  Outside systemd (no $NOTIFY_SOCKET) every call does nothing.
 *
 *   READY=1                          every response armed (after the start line)
 *   RELOADING=1 + MONOTONIC_USEC=N   a policy reload begins; READY=1 when done
 *   STOPPING=1                       shutting down
 *   WATCHDOG=1                       from the event loop, at half $WATCHDOG_USEC
 */
#ifndef LYMPH_NOTIFY_H
#define LYMPH_NOTIFY_H

#include <stdint.h>

/* Read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID, then remove them
 * from the environment so that nothing lymphd starts inherits them. */
void notify_init(void);

/* Send one message (printf format; lines separated by '\n').  0 when sent
 * or when there is no $NOTIFY_SOCKET, else -errno (said once on stderr). */
int notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* WATCHDOG=1 when half the watchdog interval has passed since the last
 * ping; call it from the event loop (now: CLOCK_MONOTONIC, ns). */
void notify_watchdog(uint64_t now_ns);

/* The watchdog interval systemd asked for (us), 0 when none. */
uint64_t notify_watchdog_usec(void);

#endif
