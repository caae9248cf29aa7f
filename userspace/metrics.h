/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus text exposition (format 0.0.4) of lymphd's state: every
 * counter, the drops, the weather and its feedback, pressure, anomalies,
 * integrity checks and the per-binary crash table, with Prometheus naming
 * (lymph_ prefix, _total for counters, base units) so fleet tooling
 * (Prometheus, node_exporter's textfile collector) aggregates many hosts.
 * Served by `lymphctl metrics`.  Takes its data as parameters: no I/O but
 * the FILE it writes.
 */
#ifndef LYMPH_METRICS_H
#define LYMPH_METRICS_H

#include <stdint.h>
#include <stdio.h>

struct counters;
struct crashtab;
struct binpath;
struct weather;

struct metrics_src {
	const struct counters *count;
	uint64_t drops;			/* records lost by the sensors */
	const struct crashtab *crashes;	/* NULL: no per-binary series */
	const struct binpath *names;	/* paths of the binaries, may be NULL */
	const struct weather *weather;	/* NULL: no weather series */
	const char *version, *source, *mode;
	uint64_t now_ns, uptime_ns;
	unsigned int max_binaries;	/* per-binary series kept (0: 50) */
};

/* Write the exposition to out: 0, or -EIO when out failed. */
int metrics_text(FILE *out, const struct metrics_src *m);

/* Write s as a label value: UTF-8, with \\, \" and \n escaped (bytes that
 * are not UTF-8 become U+FFFD). */
void metrics_label_value(FILE *out, const char *s);

#endif
