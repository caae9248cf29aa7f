/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stale leftovers of dead services: before lymphd starts a service again,
 * the pid file, unix sockets and lock files its dead instance left behind
 * (its `pidfile` and `leftovers = ...` in [service NAME]) are removed, so
 * that "address already in use" or "already running" cannot make the
 * restart fail.  Only after proving that the owner is gone: no live process
 * has the pid written in the file while running the service's binary,
 * holds a lock on it, has it open, or listens on the socket
 * (leftover_verdict in policy/phagocyte.c decides).  A symbolic link is
 * never followed nor removed.  Every removal is journaled with its evidence
 * (and the file's content for pid and lock files); observe mode journals
 * what would be removed.
 */
#ifndef LYMPH_LEFTOVERS_H
#define LYMPH_LEFTOVERS_H

#include "config.h"
#include "journal.h"
#include "phagocyte.h"

/* Gather the evidence about path (lstat, /proc/net/unix, /proc/locks, open
 * fds, the pid inside); st gets its lstat when it exists. */
void leftover_gather(const char *path, const struct service_conf *c, int is_pidfile,
		     struct leftover_evidence *ev, char *content, size_t content_len);

/*
 * Clear what service c left behind.  enforce 0: journal only.  Returns the
 * number of files removed (or that would be, in observe mode).
 */
int leftovers_clear(struct journal *j, const struct service_conf *c, int enforce);

#endif
