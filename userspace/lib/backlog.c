// SPDX-License-Identifier: GPL-2.0-only
/* A backlog of records copied out of a ring buffer (backlog.h). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "backlog.h"

#define SLOT_HDR   4u
#define FIRST_CAP  (256u * 1024u)

static size_t slot_bytes(uint32_t size)
{
	return (SLOT_HDR + (size_t)size + 7u) & ~(size_t)7u;
}

void backlog_init(struct backlog *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Room for need more bytes at the tail: move what is held to the front,
 * or map more (mremap moves the pages, it does not copy them). */
static int make_room(struct backlog *b, size_t need)
{
	size_t held = b->tail - b->head, cap;
	void *p;

	if (b->tail + need <= b->cap)
		return 0;
	if (b->head && held + need <= b->cap) {
		memmove(b->buf, b->buf + b->head, held);
		b->head = 0;
		b->tail = held;
		return 0;
	}
	cap = b->cap ? b->cap : FIRST_CAP;
	while (cap < held + need)
		cap *= 2;
	if (!b->buf)
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else
		p = mremap(b->buf, b->cap, cap, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return -ENOMEM;
	b->buf = p;
	b->cap = cap;
	return 0;
}

int backlog_push(struct backlog *b, const void *rec, uint32_t size)
{
	size_t need = slot_bytes(size);

	if (!size || size > 65535u)
		return -EINVAL;
	if (make_room(b, need))
		return -ENOMEM;
	memcpy(b->buf + b->tail, &size, SLOT_HDR);
	memcpy(b->buf + b->tail + SLOT_HDR, rec, size);
	b->tail += need;
	b->count++;
	if (b->tail - b->head > b->peak)
		b->peak = b->tail - b->head;
	return b->tail - b->head >= b->max ? 1 : 0;
}

const void *backlog_peek(const struct backlog *b, uint32_t *size)
{
	if (!b->count)
		return NULL;
	memcpy(size, b->buf + b->head, SLOT_HDR);
	return b->buf + b->head + SLOT_HDR;
}

void backlog_pop(struct backlog *b)
{
	uint32_t size;

	if (!b->count)
		return;
	memcpy(&size, b->buf + b->head, SLOT_HDR);
	b->head += slot_bytes(size);
	if (!--b->count)
		b->head = b->tail = 0;
}

void backlog_release(struct backlog *b)
{
	if (b->count || !b->buf)
		return;
	munmap(b->buf, b->cap);
	b->buf = NULL;
	b->cap = 0;
	b->head = b->tail = 0;
}

size_t backlog_free(struct backlog *b)
{
	size_t dropped = b->count;

	b->count = 0;
	backlog_release(b);
	return dropped;
}
