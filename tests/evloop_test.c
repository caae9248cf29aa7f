// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymphd's event loop (userspace/lib/evloop.h), without root: every fd is
 * dispatched to the handler it was registered with, never guessed from
 * its number; a handler may delete other watches and free their owners,
 * or move them, in the middle of a batch, and the rest of the batch
 * follows (nothing dispatched to freed memory, nothing to a new fd that
 * took a closed one's number); a handler's error ends the batch.
 * Built with -fsanitize=address, a use of a freed watch is reported.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include <sys/epoll.h>
#include "evloop.h"

struct owner {
	struct watch w;
	int pipe[2];
	int calls;
	struct owner *victim; /* deleted and freed by this one's handler */
	struct owner **move;  /* moved to a fresh copy by this one's handler */
	struct evloop *loop;
	int *order, *n_order, id;
};

static struct owner *owner_new(struct evloop *l, int *order, int *n_order, int id)
{
	struct owner *o = calloc(1, sizeof(*o));

	if (!o || pipe2(o->pipe, O_CLOEXEC | O_NONBLOCK)) {
		free(o);
		return NULL;
	}
	o->loop = l;
	o->order = order;
	o->n_order = n_order;
	o->id = id;
	watch_init(&o->w);
	return o;
}

static void owner_free(struct owner *o)
{
	if (!o)
		return;
	watch_del(o->loop, &o->w);
	close(o->pipe[0]);
	close(o->pipe[1]);
	free(o);
}

static int on_ready(struct watch *w, uint32_t events)
{
	struct owner *o = watch_owner(w, struct owner, w);

	(void)events;
	o->calls++;
	o->order[(*o->n_order)++] = o->id;
	if (o->victim) {
		owner_free(o->victim);
		o->victim = NULL;
	}
	if (o->move) {
		struct owner *to = malloc(sizeof(*to)), *from = *o->move;

		*to = *from;
		watch_move(o->loop, &from->w, &to->w);
		memset(from, 0x5a, sizeof(*from)); /* what a freed owner may hold */
		free(from);
		*o->move = to;
		o->move = NULL;
	}
	return o->id == 99 ? -EIO : 0;
}

static void make_ready(struct owner *o)
{
	if (write(o->pipe[1], "x", 1) != 1)
		abort();
}

static void drain(struct owner *o)
{
	char buf[16];

	while (read(o->pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* Two ready watches, each handler deleting and freeing the other's owner
 * (whichever the kernel reports first wins): the loser never runs, and
 * the fd number it freed, taken by a new watch, is not confused with it. */
TEST(handler_frees_a_later_watch_of_the_batch)
{
	int order[8], n = 0, err, round, i;
	struct evloop l;

	ASSERT_EQ(0, evloop_init(&l));
	for (round = 0; round < 3; round++) {
		struct owner *a = owner_new(&l, order, &n, 1), *b = owner_new(&l, order, &n, 2);
		struct owner *c, *won;

		ASSERT_NE(NULL, a);
		ASSERT_NE(NULL, b);
		ASSERT_EQ(0, watch_add(&l, &a->w, a->pipe[0], EPOLLIN, on_ready, NULL));
		ASSERT_EQ(0, watch_add(&l, &b->w, b->pipe[0], EPOLLIN, on_ready, NULL));
		make_ready(a);
		make_ready(b);
		a->victim = b;
		b->victim = a;
		n = 0;
		ASSERT_EQ(2, evloop_run_once(&l, 0, &err)); /* two events, one handler */
		EXPECT_EQ(0, err);
		ASSERT_EQ(1, n);
		won = order[0] == 1 ? a : b;
		EXPECT_EQ(NULL, won->victim);
		/* A new owner gets the freed pipe's numbers; it is not ready. */
		c = owner_new(&l, order, &n, 3);
		ASSERT_NE(NULL, c);
		ASSERT_EQ(0, watch_add(&l, &c->w, c->pipe[0], EPOLLIN, on_ready, NULL));
		drain(won);
		n = 0;
		EXPECT_EQ(0, evloop_run_once(&l, 0, &err));
		EXPECT_EQ(0, c->calls);
		for (i = 0; i < n; i++)
			EXPECT_NE(3, order[i]);
		owner_free(won);
		owner_free(c);
	}
	evloop_free(&l);
}

/* A handler moves the other watch's owner to a fresh copy (as a reload
 * moves services to a new array) and frees the old place: the batch's
 * event goes to the new place, and so do the kernel's from then on. */
TEST(moved_watch_gets_its_pending_event_at_the_new_place)
{
	int order[8], n = 0, err;
	struct evloop l;
	struct owner *a, *b, *moved;

	ASSERT_EQ(0, evloop_init(&l));
	a = owner_new(&l, order, &n, 1);
	b = owner_new(&l, order, &n, 2);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, watch_add(&l, &a->w, a->pipe[0], EPOLLIN, on_ready, NULL));
	ASSERT_EQ(0, watch_add(&l, &b->w, b->pipe[0], EPOLLIN, on_ready, NULL));
	make_ready(a);
	make_ready(b);
	a->move = &b;
	b->move = &a;
	ASSERT_EQ(2, evloop_run_once(&l, 0, &err));
	EXPECT_EQ(0, err);
	ASSERT_EQ(2, n);
	/* The second to run is the moved one, run at its new place. */
	moved = order[1] == 1 ? a : b;
	EXPECT_EQ(order[1], moved->id);
	EXPECT_EQ(1, moved->calls); /* the copy, made before its event: it got it */
	n = 0;
	ASSERT_EQ(2, evloop_run_once(&l, 0, &err));
	EXPECT_TRUE(a->calls == 2 && b->calls == 2) TH_LOG("%d %d", a->calls, b->calls);
	owner_free(a);
	owner_free(b);
	evloop_free(&l);
}

TEST(handler_error_ends_the_batch)
{
	int order[8], n = 0, err;
	struct evloop l;
	struct owner *a, *b;

	ASSERT_EQ(0, evloop_init(&l));
	a = owner_new(&l, order, &n, 99); /* its handler fails */
	b = owner_new(&l, order, &n, 2);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, watch_add(&l, &a->w, a->pipe[0], EPOLLIN, on_ready, NULL));
	ASSERT_EQ(0, watch_add(&l, &b->w, b->pipe[0], EPOLLIN, on_ready, NULL));
	make_ready(a);
	make_ready(b);
	ASSERT_EQ(2, evloop_run_once(&l, 0, &err));
	EXPECT_EQ(-EIO, err);
	EXPECT_EQ(99, order[n - 1]); /* nothing ran after the failing one */
	EXPECT_EQ(-EBADF, watch_add(&l, &b->w, -1, EPOLLIN, on_ready, NULL));
	EXPECT_FALSE(watch_active(&b->w));
	owner_free(a);
	owner_free(b);
	evloop_free(&l);
}

TEST_HARNESS_MAIN
