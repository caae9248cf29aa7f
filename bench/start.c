// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/start: how long lymphd takes to start, and how much of that the
 * kernel's verifier takes for each sensor program.
 *
 * A restart of lymphd (an upgrade, a crash, systemd's restart) leaves the
 * host without its sensors for as long as it takes; so does every
 * benchmark that starts a fresh lymphd per block.  A probe written in a
 * way the verifier checks slowly took it from 0.3 s to 2-2.5 s on Linux
 * 6.18 (README, bpf/sensors.bpf.c ro()).
 *
 *  - start: fork + exec of lymphd (observe mode, the built-in policy) to
 *    its "control socket" line, which it prints once every probe is
 *    attached, RUNS times; with -B OTHER_BUILD, that build's lymphd
 *    starts by turns with this one (the order swapped each round), so a
 *    change is judged against the same seconds of the host;
 *  - verification: each program of the sensors (this build's, the
 *    skeleton linked here) loaded alone, with the verifier's statistics
 *    (BPF_LOG_STATS): its time and the instructions it processed.  A
 *    program the kernel refuses (fentry/fexit where BPF trampolines are
 *    not allowed) is named with the error.
 *
 *   bench/start [-d BUILD_DIR] [-B OTHER_BUILD] [-n RUNS]  (root)
 *
 * Lines "figure\t..." are for bench/run-all.
 */
#include <getopt.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "sensors.skel.h"

#define TARGET_START_S	0.5	/* 0.30-0.38 s before the regression */
#define MAX_RUNS	50

/* Start one lymphd of build, return exec -> "control socket", seconds, or
 * a negative value when it did not start. */
static double start_once(const char *build)
{
	static const char *const args[] = { "--quiet", NULL };
	struct bench_lymphd l;
	uint64_t t0;
	double s = -1;

	if (bench_lymphd_init(&l, build, "start", -1)) {
		fprintf(stderr, "start: cannot make a directory for lymphd in /tmp: %s\n",
			strerror(errno));
		return -1;
	}
	t0 = bench_now_ns();
	if (bench_lymphd_start(&l, args) == 0) {
		s = (double)(bench_now_ns() - t0) / 1e9;
		bench_lymphd_stop(&l);
	} else {
		fprintf(stderr, "start: %s/lymphd did not start (its errors above)\n", build);
	}
	bench_lymphd_cleanup(&l);
	return s;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/* "key N" in the verifier's log, or -1. */
static long log_number(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Each sensor program loaded alone with the verifier's statistics. */
static void verification(void)
{
	static char log[1 << 16];
	struct bpf_object *obj;
	struct bpf_program *p, *q;
	const void *elf;
	size_t sz, i, n = 0;
	char names[64][64];
	long total = 0;

	elf = sensors__elf_bytes(&sz);
	obj = bpf_object__open_mem(elf, sz, NULL);
	if (!obj) {
		printf("# verification: cannot open the sensors' object: %s\n", strerror(errno));
		return;
	}
	bpf_object__for_each_program(p, obj)
		if (n < 64)
			snprintf(names[n++], sizeof(names[0]), "%s", bpf_program__name(p));
	bpf_object__close(obj);
	libbpf_set_print(quiet);
	printf("# verification, each sensor program loaded alone (this kernel's verifier):\n");
	for (i = 0; i < n; i++) {
		int err;

		obj = bpf_object__open_mem(elf, sz, NULL);
		if (!obj)
			continue;
		bpf_object__for_each_program(q, obj) {
			int me = !strcmp(bpf_program__name(q), names[i]);

			bpf_program__set_autoload(q, me);
			if (me) {
				bpf_program__set_log_level(q, 4);	/* BPF_LOG_STATS */
				bpf_program__set_log_buf(q, log, sizeof(log));
			}
		}
		log[0] = 0;
		err = bpf_object__load(obj);
		if (err)
			printf("#   %-24s not loadable here (%s)\n", names[i], strerror(-err));
		else {
			long us = log_number(log, "verification time ");

			printf("#   %-24s %8.1f ms  %6ld instructions processed\n", names[i],
			       (double)us / 1000, log_number(log, "processed "));
			total += us > 0 ? us : 0;
		}
		bpf_object__close(obj);
	}
	libbpf_set_print(NULL);
	printf("#   %-24s %8.1f ms\n", "all of them", (double)total / 1000);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench/start [-d BUILD_DIR] [-B OTHER_BUILD] [-n RUNS (1-%d, default 5)]\n",
		MAX_RUNS);
}

int main(int argc, char **argv)
{
	const char *build = "build", *other = NULL;
	double a[MAX_RUNS], b[MAX_RUNS], amax, bmax, med;
	int runs = 5, i, opt;
	char value[160];

	while ((opt = getopt(argc, argv, "d:B:n:h")) != -1) {
		switch (opt) {
		case 'd': build = optarg; break;
		case 'B': other = optarg; break;
		case 'n': runs = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "start: -n takes 1-%d runs\n", MAX_RUNS);
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "start: must run as root (lymphd loads BPF programs)\n");
		return 1;
	}
	bench_warn_other_lymphd(0);
	for (i = 0; i < runs; i++) {
		/* by turns, the order swapped each round */
		if (other && i % 2)
			b[i] = start_once(other);
		a[i] = start_once(build);
		if (other && !(i % 2))
			b[i] = start_once(other);
		if (a[i] < 0 || (other && b[i] < 0))
			return 1;
	}
	printf("# lymphd start, exec -> control socket (every probe attached), %d runs:", runs);
	for (i = 0; i < runs; i++)
		printf(" %.3f", a[i]);
	printf(" s\n");
	if (other) {
		printf("# %s, by turns with it:", other);
		for (i = 0; i < runs; i++)
			printf(" %.3f", b[i]);
		printf(" s\n");
	}
	verification();
	med = bench_median(a, runs);
	amax = a[runs - 1];
	if (other) {
		double bmed = bench_median(b, runs);

		bmax = b[runs - 1];
		snprintf(value, sizeof(value), "%.2f s (max %.2f s; %s by turns: %.2f s, max %.2f s)",
			 med, amax, other, bmed, bmax);
	} else {
		snprintf(value, sizeof(value), "%.2f s (max %.2f s)", med, amax);
	}
	bench_figure("lymphd start: exec -> every probe attached, median", value, "<= 0.5 s",
		     med <= TARGET_START_S ? "ok" : "MISS");
	return 0;
}
