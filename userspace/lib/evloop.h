/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymphd's event loop: one epoll where every fd is registered with its own
 * handler.  A struct watch lives in the object that owns the fd (a service,
 * a control client, the weather's PSI trigger) and goes into
 * epoll_event.data.ptr, so the loop never guesses what an fd is.
 *
 * Handlers may add and remove watches, and free what held them, while a
 * batch of events is being dispatched: watch_del() forgets the events of the
 * batch not yet dispatched to that watch, and watch_move() re-points them
 * (and the kernel's copy) when the object holding a watch was moved.
 */
#ifndef LYMPH_EVLOOP_H
#define LYMPH_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

#define EVLOOP_BATCH 16

struct watch;

/* fd is ready (EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLHUP, EPOLLERR...): 0, or
 * -errno to end the batch and hand the error to the loop's caller. */
typedef int (*watch_fn)(struct watch *w, uint32_t events);

struct watch {
	int fd;		 /* -EBADF while not registered */
	uint32_t events; /* as registered */
	watch_fn on_ready;
	void *ctx; /* the handler's */
};

struct evloop {
	int epfd;
	/* The batch being dispatched: events past `next` are still due. */
	struct epoll_event *batch;
	int batch_n, next;
};

/* 0, or -errno when no epoll could be created. */
int evloop_init(struct evloop *l);
void evloop_free(struct evloop *l);

/* Watch fd for events, calling on_ready(w, ...) with w->ctx = ctx: 0 or
 * -errno (w is left unregistered).  The fd stays the caller's to close. */
int watch_add(struct evloop *l, struct watch *w, int fd, uint32_t events, watch_fn on_ready,
	      void *ctx);
/* Change the events watched: 0 or -errno. */
int watch_mod(struct evloop *l, struct watch *w, uint32_t events);
/* Stop watching (before the fd is closed or w freed); a no-op for a watch
 * not registered. */
void watch_del(struct evloop *l, struct watch *w);
/* The object holding a watch was moved (copied) from `from` to `to`:
 * register `to` in its place.  from is unregistered afterwards. */
int watch_move(struct evloop *l, struct watch *from, struct watch *to);
/* A watch that was never added (fd -EBADF). */
void watch_init(struct watch *w);
static inline int watch_active(const struct watch *w)
{
	return w->fd >= 0;
}
/* The object of type `type` whose member `member` is the watch w. */
#define watch_owner(w, type, member) ((type *)((char *)(w)-offsetof(type, member)))

/*
 * Wait up to timeout_ms (-1: forever) and dispatch what is ready.  Returns
 * the number of events, 0 after EINTR, or -errno when epoll_wait failed;
 * *handler_err gets the first handler error (the rest of the batch is
 * then left undispatched), 0 when none.
 */
int evloop_run_once(struct evloop *l, int timeout_ms, int *handler_err);

#endif
