// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel-module source: read lymph.ko's records from /dev/lymph.  Same
 * records as the BPF sensors; the module also holds storming lineages in
 * its own in-kernel dead time and reports drops in-band as DROP records.
 * read() hands out whole records only; a read of 0 bytes means the module
 * is being unloaded (POLLHUP).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "record.h"
#include "source.h"

#define KMOD_DEVICE "/dev/lymph"
#define READ_BUF    (64 * 1024)

struct kmod_priv {
	char *buf;
	int gone; /* module unloaded */
};

static int kmod_drain(struct source *src)
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
	if (p)
		free(p->buf);
	free(p);
	src->priv = NULL;
}

static const struct source_ops kmod_ops = {
	.drain = kmod_drain,
	.check_drops = kmod_check_drops,
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
