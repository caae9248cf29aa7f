// SPDX-License-Identifier: GPL-2.0-only
/* lymphd's event loop (see evloop.h). */
#include <errno.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "evloop.h"

int evloop_init(struct evloop *l)
{
	l->batch = NULL;
	l->batch_n = l->next = 0;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void evloop_free(struct evloop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -EBADF;
}

void watch_init(struct watch *w)
{
	w->fd = -EBADF;
	w->events = 0;
	w->on_ready = NULL;
	w->ctx = NULL;
}

int watch_add(struct evloop *l, struct watch *w, int fd, uint32_t events, watch_fn on_ready,
	      void *ctx)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	watch_init(w);
	if (fd < 0 || !on_ready)
		return -EBADF;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	w->fd = fd;
	w->events = events;
	w->on_ready = on_ready;
	w->ctx = ctx;
	return 0;
}

int watch_mod(struct evloop *l, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (w->fd < 0)
		return -EBADF;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev))
		return -errno;
	w->events = events;
	return 0;
}

/* Events of the current batch not dispatched yet that name `from`. */
static void repoint(struct evloop *l, const struct watch *from, struct watch *to)
{
	int i;

	for (i = l->next; l->batch && i < l->batch_n; i++)
		if (l->batch[i].data.ptr == from)
			l->batch[i].data.ptr = to;
}

void watch_del(struct evloop *l, struct watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	repoint(l, w, NULL);
	watch_init(w);
}

int watch_move(struct evloop *l, struct watch *from, struct watch *to)
{
	struct epoll_event ev = { .events = from->events, .data.ptr = to };
	int err = 0;

	if (from == to)
		return 0;
	if (from->fd < 0) {
		watch_init(to);
		return 0;
	}
	*to = *from;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, from->fd, &ev))
		err = -errno;
	repoint(l, from, to);
	watch_init(from);
	return err;
}

int evloop_run_once(struct evloop *l, int timeout_ms, int *handler_err)
{
	struct epoll_event evs[EVLOOP_BATCH];
	int n, err = 0;

	*handler_err = 0;
	n = epoll_wait(l->epfd, evs, EVLOOP_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->batch = evs;
	l->batch_n = n;
	for (l->next = 0; l->next < n && !err;) {
		struct epoll_event *ev = &evs[l->next++];
		struct watch *w = ev->data.ptr;

		if (w) /* NULL: removed by an earlier handler of this batch */
			err = w->on_ready(w, ev->events);
	}
	l->batch = NULL;
	l->batch_n = l->next = 0;
	*handler_err = err;
	return n;
}
