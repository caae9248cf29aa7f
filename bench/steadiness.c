// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/steadiness: how steady this host's CPUs run, the context of every
 * figure measured by time.  A host that lends its CPUs (a VM whose vCPUs
 * share cores) may run one at a fraction of its speed for tens of
 * milliseconds: lymphd then falls behind its ring for that long
 * (doc/performance.md ²⁵), and a 2 % overhead drowns.
 *
 * Each CPU in turn, pinned: a fixed loop of work counted per millisecond
 * for SECONDS (3).  Printed per CPU: the loops per millisecond at the
 * 10th, 50th and 90th percentile, the share of milliseconds under half the
 * median, and the longest stretch of them.  A steady machine shows
 * percentiles within a few percent of each other and no stretch.
 *
 *   bench/steadiness [-t SECONDS]
 *
 * Lines "figure\t..." are for bench/run-all (no target: context).
 */
#include <getopt.h>
#include "bench.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Loops of work done in each millisecond of secs on cpu; returns how many
 * milliseconds were filled, -1 when the CPU cannot be had. */
static int sample(int cpu, double secs, uint32_t *per_ms, int max_ms)
{
	cpu_set_t set;
	uint64_t end, window, now;
	volatile uint32_t sink = 0;
	uint32_t n = 0;
	int k = 0;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -1;
	window = bench_now_ns();
	end = window + (uint64_t)(secs * 1e9);
	while (k < max_ms) {
		for (uint32_t i = 0; i < 256; i++)
			sink += i;
		n++;
		now = bench_now_ns();
		if (now - window >= 1000000ULL) {
			per_ms[k++] = n;
			n = 0;
			window = now;
			if (now >= end)
				break;
		}
	}
	return k;
}

int main(int argc, char **argv)
{
	double secs = 3;
	int c, cpus = (int)sysconf(_SC_NPROCESSORS_ONLN), worst_run = 0;
	double worst_slow = 0;
	uint32_t *v, *sorted;
	int max_ms;

	while ((c = getopt(argc, argv, "t:h")) != -1) {
		switch (c) {
		case 't': secs = atof(optarg); break;
		default:
			fprintf(stderr, "usage: steadiness [-t SECONDS]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (secs < 0.1 || secs > 600) {
		fprintf(stderr, "steadiness: -t must be 0.1..600 seconds\n");
		return 2;
	}
	max_ms = (int)(secs * 1000) + 10;
	v = calloc((size_t)max_ms, sizeof(*v));
	sorted = calloc((size_t)max_ms, sizeof(*sorted));
	if (!v || !sorted) {
		fprintf(stderr, "steadiness: out of memory\n");
		return 1;
	}
	printf("# steadiness: loops of work per millisecond, each CPU alone for %.1f s\n", secs);
	for (int cpu = 0; cpu < cpus; cpu++) {
		int n = sample(cpu, secs, v, max_ms), slow = 0, run = 0, longest = 0;
		uint32_t p10, p50, p90;

		if (n <= 0) {
			printf("# cpu %d: not available to this process\n", cpu);
			continue;
		}
		memcpy(sorted, v, (size_t)n * sizeof(*v));
		qsort(sorted, (size_t)n, sizeof(*sorted), cmp_u32);
		p10 = sorted[n / 10];
		p50 = sorted[n / 2];
		p90 = sorted[n * 9 / 10];
		for (int i = 0; i < n; i++) {
			if (v[i] * 2 < p50) {
				slow++;
				if (++run > longest)
					longest = run;
			} else {
				run = 0;
			}
		}
		printf("# cpu %d: p10 %u, p50 %u, p90 %u loops/ms (p10/p90 %.2f); under half the median "
		       "%.1f %% of %d ms, at most %d ms in a row\n",
		       cpu, p10, p50, p90, p90 ? (double)p10 / p90 : 0, 100.0 * slow / n, n, longest);
		if (longest > worst_run)
			worst_run = longest;
		if (100.0 * slow / n > worst_slow)
			worst_slow = 100.0 * slow / n;
	}
	{
		char val[160];

		snprintf(val, sizeof(val), "%.1f %% of milliseconds under half the median speed, "
			 "at most %d ms in a row (the worst CPU)", worst_slow, worst_run);
		bench_figure("host: CPU steadiness (bench/steadiness)", val, "", "-");
	}
	free(v);
	free(sorted);
	return 0;
}
