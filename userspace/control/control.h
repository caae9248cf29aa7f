/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket's plumbing: the listening socket, non-blocking
 * clients served by lymphd's event loop with a deadline and a cap, peer
 * checks (root only, by SO_PEERCRED), request parsing (ctlproto.h), reply
 * queues, and the followers of "lymphctl events" with their backlog.
 *
 * It knows nothing of what a command does: each parsed request goes to
 * the dispatch function lymphd gives it (daemon/commands.c), which answers
 * with ctl_reply*().  That keeps the control plane below the daemon in the
 * pipeline (scripts/check-layers).
 */
#ifndef LYMPH_CONTROL_H
#define LYMPH_CONTROL_H

#include <stdint.h>
#include "classify.h"
#include "ctlproto.h"
#include "evloop.h"
#include "outfilter.h"
#include "lymph/events.h"

struct json_object;
struct control;
struct ctl_client;

typedef void (*control_dispatch_fn)(void *ctx, struct ctl_client *cl, const struct ctl_req *r,
				    uint64_t now);

/* What the control plane needs from lymphd; the pointers outlive it. */
struct control_env {
	struct evloop *loop;		/* lymphd's: the socket and clients are watched there */
	int listen_fd;			/* from control_open() */
	const struct outfilter *filter; /* what lymphd prints: the backlog */
	const int *verbose;
	const int64_t *wall_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	control_dispatch_fn dispatch;
	void *ctx;
};

/* The listening socket (root-only, 0600; refuses to start when another
 * lymphd answers on it): the fd, or -errno after one clear message. */
int control_open(const char *path);
void control_close(int fd, const char *path);

/* The control plane, its listening socket watched by env->loop: NULL
 * with errno set on failure. */
struct control *control_new(const struct control_env *env);
void control_free(struct control *c);
/* Drop the clients past their deadline. */
void control_tick(struct control *c, uint64_t now);
/* Send what the followers have queued. */
void control_flush(struct control *c);

/* Does a follower of lymphctl events take items of kind it? */
int control_followers_want(const struct control *c, enum out_item it);

/* A record lymphd printed (or would print): backlog and followers. */
void control_publish(struct control *c, const struct lymph_hdr *rec, const char *exe,
		     const struct verdict *vd, enum out_item it);
/* A record lymphd journaled (rec; its bytes ser, ser_len as written, or
 * NULL): the backlog keeps the bytes when it has them, not the object. */
void control_publish_journaled(struct control *c, struct json_object *rec, const char *ser,
			       size_t ser_len, enum out_item it);

/* The backlog's slots (64, 52 KiB), resident again after lymphd gave back
 * its zero pages (lib/memtrim.h): every record it keeps writes the next
 * one, and a slot on a page given back cost the record two faults (a
 * read maps the zero page, the write a fresh one).  Every slot is written
 * once 64 records came; until then a crash's line paid them. */
void control_prefault(struct control *c);

/* Answers, for the dispatch function.  ctl_reply takes o's reference. */
void ctl_reply(struct ctl_client *cl, struct json_object *o);
void ctl_reply_error(struct ctl_client *cl, const char *fmt, const char *arg);
void ctl_reply_ok(struct ctl_client *cl, const char *msg);

/* "events [follow] [json]": the backlog, then the client follows. */
void control_events(struct control *c, struct ctl_client *cl, const struct ctl_req *r);

/* Clients, followers, evictions and timeouts, for lymphctl status. */
struct json_object *control_status_json(const struct control *c);

#endif
