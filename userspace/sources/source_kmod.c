// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel-module source: read lymph.ko's records from /dev/lymph.  Same
 * records as the BPF sensors; the module also holds storming lineages in
 * its own in-kernel dead time and reports drops in-band as DROP records.
 * read() hands out whole records only; a read of 0 bytes means the module
 * is being unloaded (POLLHUP).
 *
 * Like the BPF source, it tells the sensor which danger deaths lymphd need
 * not be woken for (wake_calm, wake_reset): the module keeps that set per
 * reader (LYMPH_IOC_WAKE_SET, lymph/dev.h), replaced whole at each change,
 * and batches those deaths as it batches forks and execs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "lymph/danger.h"
#include "lymph/dev.h"
#include "record.h"
#include "source.h"

#define KMOD_DEVICE "/dev/lymph"
#define READ_BUF    (64 * 1024)

struct kmod_priv {
	char *buf;
	int gone; /* module unloaded */
	/* The calm set lymphd last gave, sorted (lymph_wake_key_cmp); grown on demand
	 * up to LYMPH_WAKE_KEYS_MAX.  A pair left out wakes lymphd: a wakeup
	 * too many, never one lost. */
	struct lymph_wake_key *calm;
	uint32_t n_calm, cap_calm;
	int calm_all; /* no danger death needs a wakeup */
	int draining; /* in kmod_drain: the set goes to the module at its end */
	int dirty;    /* calm grew since the module was last told */
	int unkeyed;  /* an older module without LYMPH_IOC_WAKE_SET */
};

/* Give the module the whole set (it replaces the old one atomically). */
static int wake_push(struct source *src)
{
	struct kmod_priv *p = src->priv;
	struct lymph_wake_set set = {
		.keys = (uint64_t)(uintptr_t)p->calm,
		.nr = p->n_calm,
		.flags = LYMPH_WAKE_KEYED | (p->calm_all ? LYMPH_WAKE_CALM_ALL : 0),
		.urgent_mask = LYMPH_URGENT_SIGNALS_DEFAULT,
		.batch_ms = 0, /* the module's wake_batch_ms */
	};
	int err;

	if (p->unkeyed)
		return 0;
	p->dirty = 0;
	if (!ioctl(src->fd, LYMPH_IOC_WAKE_SET, &set))
		return 0;
	err = -errno;
	if (err == -ENOTTY) {
		p->unkeyed = 1;
		fprintf(stderr, "lymphd: lymph.ko has no LYMPH_IOC_WAKE_SET (an older module): "
				"every death by a signal wakes lymphd; load this version's lymph.ko "
				"to batch those lymphd need not act on at once\n");
		return -ENOTTY;
	}
	fprintf(stderr, "lymphd: failed to give lymph.ko the calm set (%u pairs): %s; "
			"deaths wake lymphd as the module decided before\n",
		p->n_calm, strerror(-err));
	return err;
}

static int kmod_wake_calm(struct source *src, uint32_t dev, uint64_t ino, uint32_t uid)
{
	struct kmod_priv *p = src->priv;
	struct lymph_wake_key k = { .ino = ino, .dev = dev, .uid = uid };
	uint32_t lo = 0, hi = p->n_calm;

	if (p->unkeyed)
		return 0;
	while (lo < hi) { /* lo: where k is, or goes */
		uint32_t mid = lo + (hi - lo) / 2;
		int c = lymph_wake_key_cmp(&k, &p->calm[mid]);

		if (!c)
			return 0;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (p->n_calm >= LYMPH_WAKE_KEYS_MAX)
		return -ENOSPC; /* stays urgent */
	if (p->n_calm == p->cap_calm) {
		uint32_t cap = p->cap_calm ? 2 * p->cap_calm : 64;
		struct lymph_wake_key *n = realloc(p->calm, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->calm = n;
		p->cap_calm = cap;
	}
	memmove(&p->calm[lo + 1], &p->calm[lo], (p->n_calm - lo) * sizeof(k));
	p->calm[lo] = k;
	p->n_calm++;
	p->dirty = 1;
	/* Met while draining (the usual case): one ioctl for the batch. */
	return p->draining ? 0 : wake_push(src);
}

static int kmod_wake_reset(struct source *src, int all)
{
	struct kmod_priv *p = src->priv;

	p->n_calm = 0;
	p->calm_all = !!all;
	return wake_push(src);
}

static int drain_records(struct source *src)
{
	struct kmod_priv *p = src->priv;

	for (;;) {
		ssize_t n = read(src->fd, p->buf, READ_BUF);
		size_t off = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		if (n == 0) {
			/* The module is going away: say so once, and stop. */
			if (!p->gone)
				fprintf(stderr,
					"lymphd: lymph.ko is being unloaded: no more events from it; "
					"restart lymphd to use the BPF sensors\n");
			p->gone = 1;
			return -ENODEV;
		}
		while (off + sizeof(struct lymph_hdr) <= (size_t)n) {
			const struct lymph_hdr *rec = (const void *)(p->buf + off);
			int err;

			if (rec->size < sizeof(*rec) || off + rec->size > (size_t)n)
				return -EPROTO; /* the module hands out whole records only */
			if (rec->kind == LYMPH_EV_DROP)
				src->lost_total += ((const struct lymph_drop *)rec)->lost;
			/* Unusable records are reported as drops, never skipped silently. */
			err = record_check(rec, rec->size) ? source_emit_drop(src, 1, rec->ts_ns)
							   : src->sink(src->sink_ctx, rec);
			if (err)
				return err;
			off += rec->size;
		}
	}
}

static int kmod_drain(struct source *src)
{
	struct kmod_priv *p = src->priv;
	int err;

	p->draining = 1;
	err = drain_records(src);
	p->draining = 0;
	if (p->dirty)
		wake_push(src);
	return err;
}

/* Drops arrive in-band from the module: nothing to poll. */
static int kmod_check_drops(struct source *src)
{
	(void)src;
	return 0;
}

static void kmod_close(struct source *src)
{
	struct kmod_priv *p = src->priv;

	if (src->fd >= 0)
		close(src->fd);
	src->fd = -EBADF;
	if (p) {
		free(p->buf);
		free(p->calm);
	}
	free(p);
	src->priv = NULL;
}

static const struct source_ops kmod_ops = {
	.drain = kmod_drain,
	.check_drops = kmod_check_drops,
	.wake_calm = kmod_wake_calm,
	.wake_reset = kmod_wake_reset,
	.close = kmod_close,
};

int source_kmod_open(struct source *src, const struct source_opts *opts, lymph_sink_fn sink,
		     void *ctx, int verbose)
{
	struct kmod_priv *p;
	int fd;

	(void)opts;
	memset(src, 0, sizeof(*src));
	src->fd = -EBADF;
	fd = open(KMOD_DEVICE, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		if (verbose)
			fprintf(stderr,
				"lymphd: failed to open %s: %s; load the module first "
				"(modprobe lymph) or use --source=bpf\n",
				KMOD_DEVICE, strerror(-err));
		return err;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->buf = malloc(READ_BUF);
	if (!p || !p->buf) {
		if (p)
			free(p);
		close(fd);
		return -ENOMEM;
	}
	src->ops = &kmod_ops;
	src->name = "kmod";
	src->id = LYMPH_SRC_KMOD;
	src->fd = fd;
	src->sink = sink;
	src->sink_ctx = ctx;
	src->priv = p;
	return 0;
}
