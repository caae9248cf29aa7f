/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus text exposition (format 0.0.4) of lymphd's state: every
 * counter, the drops, the weather and its feedback, pressure, anomalies,
 * integrity checks and the per-binary crash table, with Prometheus naming
 * (lymph_ prefix, _total for counters, base units) so fleet tooling
 * (Prometheus, node_exporter's textfile collector) aggregates many hosts.
 * Served by `lymphctl metrics` and, when configured, by a small HTTP
 * listener on a loopback address.  metrics_text takes its data as
 * parameters and does no I/O but the FILE it writes.
 */
#ifndef LYMPH_METRICS_H
#define LYMPH_METRICS_H

#include <stdint.h>
#include <stdio.h>
#include "lymph/events.h"

/* What lymphd counted since it started. */
struct counters {
	uint64_t by_kind[LYMPH_EV_KIND_MAX];
	uint64_t danger;
	uint64_t programmed;
};

struct crashtab;
struct binpath;
struct weather;

struct metrics_src {
	const struct counters *count;
	uint64_t drops;			/* records lost by the sensors */
	const struct crashtab *crashes; /* NULL: no per-binary series */
	const struct binpath *names;	/* paths of the binaries, may be NULL */
	const struct weather *weather;	/* NULL: no weather series */
	const char *version, *source, *mode;
	uint64_t now_ns, uptime_ns;
	unsigned int max_binaries; /* per-binary series kept (0: 50) */
	/* more series written last (the phagocytes'), NULL: none */
	void (*extra)(FILE *out, const void *ctx);
	const void *extra_ctx;
};

/* Write the exposition to out: 0, or -EIO when out failed. */
int metrics_text(FILE *out, const struct metrics_src *m);

/* Write s as a label value: UTF-8, with \\, \" and \n escaped (bytes that
 * are not UTF-8 become U+FFFD). */
void metrics_label_value(FILE *out, const char *s);

/*
 * The optional HTTP listener (off by default), for a Prometheus server on
 * the same host: listen on a loopback address ("127.0.0.1:9477",
 * "[::1]:9477"; anything else is refused with -EADDRNOTAVAIL).  Returns the
 * non-blocking listening fd to add to the event loop, or -errno.
 */
int metrics_http_listen(const char *hostport);

/*
 * Its clients, served by lymphd's event loop (the listening fd is watched
 * there): each non-blocking, so the loop never waits for one.  A request
 * (at most 4 KiB) must arrive within 5 s of the connection, or what came
 * is answered (400 for nothing); the reply must be taken within 5 s more.
 * At most 16 clients: a new one evicts the oldest still sending its
 * request.  GET /metrics (or /) gets the exposition fill() writes; other
 * paths 404, other methods 405.  NULL with errno set on failure.
 */
struct evloop;
struct metrics_http;
typedef int (*metrics_fill_fn)(FILE *out, void *ctx); /* 0 or -errno */

struct metrics_http *metrics_http_new(struct evloop *loop, int lfd, metrics_fill_fn fill,
				      void *ctx);
/* Answer or drop the clients past their deadline (each tick). */
void metrics_http_tick(struct metrics_http *h, uint64_t now);
/* Drop every client; the listening fd stays the caller's. */
void metrics_http_free(struct metrics_http *h);

#endif
