// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/fexit_cost: what the refused-fork probe costs a fork where lymphd
 * keeps it attached for good: on a kernel that attaches fexit/kernel_clone
 * (the test VM's Debian 6.12; bench/fexit-vm runs it there), lymphd keeps
 * refused_kernel_clone (fexit) and charged_at_call (fentry) on
 * kernel_clone from its start to its exit (source_bpf.c).
 *
 * The bench loads bpf/sensors.bpf.c from lymphd's own skeleton as lymphd
 * does (its throttle in observe mode: budget 200/s, burst 400, lineage
 * family, uid budget 1000/2000; this process protected by nothing, so its
 * forks are charged like any user's), attaches every sensor, and drains
 * the ring from a reader thread on another CPU as lymphd does.  Then, in
 * rounds, blocks of fork + _exit(0) + waitpid in random order:
 *   off       the sensors without the two kernel_clone programs (lymphd
 *             before: the probe detached while nothing was armed);
 *   fexit     with refused_kernel_clone only (the refusals charged);
 *   on        with both, calls charged at their call (lymphd now);
 *   control   off again: what two equal blocks differ by here.
 * A block's cost is the median of its iterations' times; each round gives
 * the ratios fexit/off, on/off, control/off.  Printed: the median ratio over
 * rounds, its standard error (from the interquartile range), min and max;
 * a verdict against the 1.02 target only when the median is more than two
 * standard errors from it (else "too noisy").  Under qemu -icount
 * (bench/fexit-vm --icount) the clock counts instructions, not time.
 *
 *   bench/fexit_cost [-r ROUNDS] [-n ITERS] [-s SEED]   (root)
 *
 * Exit 0 with figures; 4 (skip) when the kernel refuses fexit/fentry.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "sensors.h"
#include "sensors.skel.h"

#define TARGET_RATIO 1.02
#define RING_BYTES   (8u << 20) /* lymphd's default --ring-size */

enum setting { OFF, FEXIT, ON, CONTROL, NSET };
static const char *const set_name[NSET] = { "off", "fexit", "on", "control" };

static volatile int stop_reader;

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(unsigned long *)ctx)++;
	return 0;
}

static void *reader_main(void *arg)
{
	struct ring_buffer *rb = arg;

	while (!stop_reader)
		ring_buffer__poll(rb, 100);
	ring_buffer__consume(rb);
	return NULL;
}

/* One block: n fork + _exit(0) + waitpid, the median iteration in ns. */
static double block(int n, double *scratch)
{
	int i;

	for (i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		scratch[i] = (double)(bench_now_ns() - t0);
	}
	return bench_median(scratch, n);
}

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Attach the kernel_clone programs of setting st (detach what it has not). */
static int set_probes(struct sensors *k, struct bpf_link **fx, struct bpf_link **fe, int st)
{
	int want_fx = st == FEXIT || st == ON, want_fe = st == ON;

	/* as lymphd: the entry after the return, and gone before it */
	k->bss->calls_charged = 0;
	if (*fe && !want_fe) {
		bpf_link__destroy(*fe);
		*fe = NULL;
	}
	if (*fx && !want_fx) {
		bpf_link__destroy(*fx);
		*fx = NULL;
	}
	if (want_fx && !*fx && !(*fx = bpf_program__attach(k->progs.refused_kernel_clone)))
		return -errno;
	if (want_fe && !*fe && !(*fe = bpf_program__attach(k->progs.charged_at_call)))
		return -errno;
	k->bss->calls_charged = want_fe;
	return 0;
}

static void report(const char *what, double *r, int n)
{
	double med, q1, q3, se;
	char value[160];
	const char *verdict;

	med = bench_median(r, n);
	q1 = r[(int)((n - 1) * 0.25 + 0.5)];
	q3 = r[(int)((n - 1) * 0.75 + 0.5)];
	/* the median's standard error: 1.2533 sigma / sqrt(n), sigma ~ IQR / 1.349 */
	se = 1.2533 * (q3 - q1) / 1.349 / sqrt((double)n);
	verdict = med + 2 * se < TARGET_RATIO   ? "ok"
		  : med - 2 * se > TARGET_RATIO ? "MISS"
						: "too noisy";
	printf("# %-44s median %.4f +- %.5f (min %.4f, max %.4f, %d rounds)\n", what, med, se, r[0],
	       r[n - 1], n);
	snprintf(value, sizeof(value), "%.4f +- %.5f (min %.4f, max %.4f)", med, se, r[0],
		 r[n - 1]);
	if (strcmp(what, "control/off"))
		bench_figure(what, value, "<= 1.02", verdict);
}

int main(int argc, char **argv)
{
	int rounds = 30, iters = 200, opt, r, i, err, order[NSET];
	double cost[NSET], *scratch, *ratio[NSET];
	struct bpf_link *fx = NULL, *fe = NULL;
	struct ring_buffer *rb = NULL;
	unsigned long records = 0;
	struct sensors *k;
	pthread_t reader;
	uint32_t zero = 0;

	while ((opt = getopt(argc, argv, "r:n:s:")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'n':
			iters = atoi(optarg);
			break;
		case 's':
			rng = strtoull(optarg, NULL, 0) | 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-r ROUNDS] [-n ITERS] [-s SEED]\n", argv[0]);
			return 2;
		}
	}
	if (rounds < 4 || iters < 10) {
		fprintf(stderr, "fexit_cost: at least 4 rounds of 10 iterations\n");
		return 2;
	}
	k = sensors__open();
	if (!k) {
		fprintf(stderr, "fexit_cost: failed to open the sensors: %s\n", strerror(errno));
		return 1;
	}
	k->rodata->want_fork = 1;
	k->rodata->want_exec = 1;
	k->rodata->wake_keyed = 1;
	k->rodata->wake_mark_bytes = RING_BYTES / 8;
	bpf_map__set_max_entries(k->maps.events, RING_BYTES);
	if (libbpf_find_vmlinux_btf_id("mark_victim", BPF_TRACE_RAW_TP) < 0)
		bpf_program__set_autoload(k->progs.on_mark_victim, false);
	bpf_program__set_autoattach(k->progs.on_sys_exit, false);
	bpf_program__set_autoload(k->progs.refused_kernel_clone, true);
	bpf_program__set_autoattach(k->progs.refused_kernel_clone, false);
	bpf_program__set_autoload(k->progs.charged_at_call, true);
	bpf_program__set_autoattach(k->progs.charged_at_call, false);
	err = sensors__load(k);
	if (err) {
		printf("# SKIP: this kernel does not load the sensors with fexit/fentry on "
		       "kernel_clone (%s): lymphd keeps the refused-fork probe on demand here\n",
		       strerror(-err));
		sensors__destroy(k);
		return 4;
	}
	{
		struct throttle_cfg tc = { .enabled = 1,
					   .enforce = 0,
					   .lineage_kind = LYMPH_LINEAGE_FAMILY,
					   .budget = 200,
					   .burst = 400,
					   .uid_budget = 1000,
					   .uid_burst = 2000 };

		if (bpf_map_update_elem(bpf_map__fd(k->maps.throttle_cfg), &zero, &tc, BPF_ANY)) {
			fprintf(stderr, "fexit_cost: failed to set the throttle: %s\n",
				strerror(errno));
			return 1;
		}
	}
	if ((err = sensors__attach(k))) {
		fprintf(stderr, "fexit_cost: failed to attach the sensors: %s\n", strerror(-err));
		return 1;
	}
	err = set_probes(k, &fx, &fe, ON);
	if (err) {
		printf("# SKIP: this kernel does not attach fexit/fentry on kernel_clone (%s)\n",
		       strerror(-err));
		return 4;
	}
	rb = ring_buffer__new(bpf_map__fd(k->maps.events), count_record, &records, NULL);
	if (!rb || pthread_create(&reader, NULL, reader_main, rb)) {
		fprintf(stderr, "fexit_cost: failed to start the ring's reader\n");
		return 1;
	}
	{
		/* the reader on another CPU than the workload's (CPU 0) */
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(1, &set);
		pthread_setaffinity_np(reader, sizeof(set), &set);
		bench_pin(0, 0);
	}
	scratch = calloc(iters, sizeof(double));
	for (i = 0; i < NSET; i++)
		ratio[i] = calloc(rounds, sizeof(double));
	if (!scratch || !ratio[NSET - 1])
		return 1;
	printf("# fexit_cost: %d rounds of %d fork+_exit per block, blocks in random order\n",
	       rounds, iters);
	block(iters, scratch); /* warm up */
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NSET; i++)
			order[i] = i;
		for (i = NSET - 1; i > 0; i--) {
			int j = rnd(i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (i = 0; i < NSET; i++) {
			if ((err = set_probes(k, &fx, &fe, order[i]))) {
				fprintf(stderr, "fexit_cost: failed to attach for '%s': %s\n",
					set_name[order[i]], strerror(-err));
				return 1;
			}
			cost[order[i]] = block(iters, scratch);
		}
		for (i = 0; i < NSET; i++)
			ratio[i][r] = cost[i] / cost[OFF];
		printf("# round %2d: off %.0f ns, fexit %.4f, on %.4f, control %.4f\n", r,
		       cost[OFF], ratio[FEXIT][r], ratio[ON][r], ratio[CONTROL][r]);
	}
	set_probes(k, &fx, &fe, OFF);
	stop_reader = 1;
	pthread_join(reader, NULL);
	report("fork+_exit, refused-fork probe on fexit for good (fexit/off)", ratio[FEXIT],
	       rounds);
	report("fork+_exit, fexit and fork calls charged at entry (on/off)", ratio[ON], rounds);
	report("control/off", ratio[CONTROL], rounds);
	printf("# %lu records read\n", records);
	ring_buffer__free(rb);
	sensors__destroy(k);
	return 0;
}
