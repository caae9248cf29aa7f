// SPDX-License-Identifier: GPL-2.0-only
/*
 * The measuring half of bench/kmod-overhead: the cost of lymph.ko's
 * sensors as ratios, measured in the TCG VM (absolute TCG times are
 * meaningless; the ratios of alternating blocks hold), or on a host that
 * can load the module (bench/kmod-overhead --host).  Pinned to CPU 0;
 * blocks of each workload alternate between the module loaded (insmod,
 * with a reader child draining /dev/lymph on CPU 1 so the ring never
 * fills) and unloaded (rmmod), in random order within each pair;
 * per-iteration cost per block; the median of the per-pair ratios
 * loaded/unloaded with its spread (standard error, quartiles, min, max),
 * and a verdict only when the median is more than two standard errors
 * from the target.
 *
 *   kmod_overhead [ROUNDS [PAIRS [BLOCK_MS [noreader]]]]   (default 3 5 200)
 *
 * Environment: LYMPH_KO (default /lib/modules/lymph.ko, the VM's),
 * LYMPH_BENCH_WHERE (the figures' label, default "VM, TCG").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The figure line of bench/bench.h (not included: it needs json-c). */
static void bench_figure(const char *name, const char *value, const char *target,
			 const char *verdict)
{
	printf("figure\t%s\t%s\t%s\t%s\n", name, value, target, verdict);
	fflush(stdout);
}

static int bench_pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set) ? -errno : 0;
}

#define KO_DEFAULT "/lib/modules/lymph.ko"
#define MAX_RATIOS 256
#define TARGET 1.02

static const char *ko = KO_DEFAULT;

static pid_t reader = -1;
static int no_reader;	/* diagnosis: the module loaded, /dev/lymph never opened */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_cmd(const char *path, const char *arg)
{
	int st;
	pid_t p = fork();

	if (p == 0) {
		execlp(path, path, arg, (char *)NULL);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int load(void)
{
	if (run_cmd("insmod", ko) != 0) {
		fprintf(stderr, "# insmod %s failed\n", ko);
		return -1;
	}
	if (no_reader) {
		usleep(50000);
		return 0;
	}
	reader = fork();
	if (reader == 0) {
		static char buf[1 << 16];
		int fd = open("/dev/lymph", O_RDONLY);

		bench_pin(0, 1);
		if (fd < 0) {
			perror("# open /dev/lymph");
			_exit(1);
		}
		for (;;)
			if (read(fd, buf, sizeof(buf)) < 0 && errno != EINTR)
				_exit(1);
	}
	usleep(50000);	/* the reader has the device open before the block */
	return reader < 0 ? -1 : 0;
}

static int unload(void)
{
	if (reader > 0) {
		kill(reader, SIGKILL);
		waitpid(reader, NULL, 0);
		reader = -1;
	}
	if (run_cmd("rmmod", "lymph") != 0) {
		fprintf(stderr, "# rmmod lymph failed\n");
		return -1;
	}
	return 0;
}

static void child_exit(void) { _exit(0); }

static void child_exec(void)
{
	execl("/bin/true", "true", (char *)NULL);
	_exit(127);
}

static void child_crash(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	*(volatile int *)0 = 1;
	_exit(1);
}

static const struct workload {
	const char *name;
	void (*child)(void);
} workloads[] = {
	{ "fork+_exit", child_exit },
	{ "fork+exec /bin/true", child_exec },
	{ "fork+crash (SIGSEGV)", child_crash },
};
#define NW (int)(sizeof(workloads) / sizeof(workloads[0]))

/* Per-iteration cost (s) of one block of BLOCK seconds. */
static double block(const struct workload *w, double len)
{
	double t0 = now_s(), t;
	long n = 0;

	do {
		pid_t p = fork();

		if (p == 0)
			w->child();
		if (p < 0 || waitpid(p, NULL, 0) < 0) {
			perror("# fork/waitpid");
			exit(1);
		}
		n++;
		t = now_s();
	} while (t - t0 < len);
	return (t - t0) / n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3;
	int pairs = argc > 2 ? atoi(argv[2]) : 5;
	double len = (argc > 3 ? atoi(argv[3]) : 200) / 1000.0;
	no_reader = argc > 4 && !strcmp(argv[4], "noreader");
	static double ratio[NW][MAX_RATIOS];
	const char *where = getenv("LYMPH_BENCH_WHERE");
	int n = 0;

	if (!where || !*where)
		where = "VM, TCG";
	if (getenv("LYMPH_KO") && *getenv("LYMPH_KO"))
		ko = getenv("LYMPH_KO");

	if (rounds < 1 || pairs < 1 || rounds * pairs > MAX_RATIOS)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (bench_pin(0, 0) < 0)
		perror("# pin to CPU 0");
	srand(time(NULL) ^ getpid());
	/* Warm up: one load/unload cycle, one short block of each. */
	if (load() < 0 || unload() < 0)
		return 1;
	for (int i = 0; i < NW; i++)
		block(&workloads[i], len / 4);
	printf("# kmod overhead: %d rounds x %d pairs of %.0f ms blocks per workload, pinned to CPU 0, %s\n",
	       rounds, pairs, len * 1000,
	       no_reader ? "NO reader (diagnosis)" : "a reader draining /dev/lymph on CPU 1");
	for (int r = 0; r < rounds; r++) {
		for (int p = 0; p < pairs; p++, n++) {
			double cost[2][NW];	/* [loaded][workload] */
			int first = rand() & 1;

			for (int k = 0; k < 2; k++) {
				int loaded = k ? !first : first;

				if ((loaded ? load() : 0) < 0)
					return 1;
				for (int i = 0; i < NW; i++)
					cost[loaded][i] = block(&workloads[i], len);
				if (loaded && unload() < 0)
					return 1;
			}
			for (int i = 0; i < NW; i++)
				ratio[i][n] = cost[1][i] / cost[0][i];
			printf("# round %d pair %d:", r, p);
			for (int i = 0; i < NW; i++)
				printf(" %s %.1f/%.1f us (%.3f)", workloads[i].name, cost[1][i] * 1e6,
				       cost[0][i] * 1e6, ratio[i][n]);
			printf("\n");
		}
	}
	for (int i = 0; i < NW; i++) {
		char name[160], val[128];
		double med, q1, q3, se;
		const char *verdict;

		qsort(ratio[i], n, sizeof(double), cmp);
		med = n % 2 ? ratio[i][n / 2] : (ratio[i][n / 2 - 1] + ratio[i][n / 2]) / 2;
		q1 = ratio[i][n / 4];
		q3 = ratio[i][(3 * n) / 4 < n ? (3 * n) / 4 : n - 1];
		/* Standard error of the median, sqrt(pi/2) sigma / sqrt(n), with
		 * sigma from the quartiles (IQR / 1.349): a preempted block, an
		 * outlier, does not widen it. */
		se = 1.2533 * ((q3 - q1) / 1.349) / sqrt(n);
		verdict = fabs(med - TARGET) <= 2 * se ? "too noisy" : med <= TARGET ? "ok" : "MISS";
		snprintf(name, sizeof(name), "kmod overhead (%s): %s%s, median ratio", where,
			 workloads[i].name, no_reader ? " (no reader)" : "");
		snprintf(val, sizeof(val), "%.3f +- %.3f (quartiles %.3f-%.3f, min %.3f, max %.3f, %d pairs)",
			 med, se, q1, q3, ratio[i][0], ratio[i][n - 1], n);
		bench_figure(name, val, "<= 1.02", verdict);
	}
	return 0;
}
