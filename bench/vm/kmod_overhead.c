// SPDX-License-Identifier: GPL-2.0-only
/*
 * The measuring half of bench/kmod-overhead: the cost of lymph.ko's
 * sensors as ratios, measured in the TCG VM (absolute TCG times are
 * meaningless; the ratios of alternating blocks hold), or on a host that
 * can load the module (bench/kmod-overhead --host).  Pinned to CPU 0;
 * blocks of each workload alternate between the module loaded (insmod,
 * with a reader child draining /dev/lymph on CPU 1 so the ring never
 * fills) and unloaded (rmmod), in random order within each pair; a
 * block's cost per iteration is the median of its iterations' times (the
 * odd slow one, a tick or a kworker, left out), plus a loaded block's
 * final drain by the reader spread over its iterations; the median of
 * the per-pair ratios loaded/unloaded with its spread (standard error,
 * quartiles, min, max), and a verdict only when the median is more than
 * two standard errors from the target.  A '#' line gives the same ratios
 * from the blocks' mean iteration times (how they were measured before:
 * under qemu -icount, an A/A median of 0.997-1.008 +- 0.002-0.004).
 *
 * The reader does what lymphd does: it gives the module its wake set
 * (LYMPH_IOC_WAKE_SET: root's crashes of this binary are calm, as under
 * [quarantine] root = no) and drains on poll() and on a 250 ms timer; a
 * module without wake sets refuses the ioctl and wakes it for every death
 * by a signal, as before.  With a second module (LYMPH_KO_B, another
 * build's: bench/kmod-overhead -B), each pair is a triple in random order
 * (unloaded, this module, the other), and the figures add the other's
 * ratio and this/other.  Then the crash -> read latency of an urgent death
 * (a crash by uid 65534, never calm) for each module, in interleaved
 * blocks: p50 and p99 from the record's timestamp to the reader's read().
 *
 *   kmod_overhead [ROUNDS [PAIRS [BLOCK_MS [noreader|aa]]]]   (default 3 5 200)
 *
 * aa: the A/A control, every block with the module unloaded (the "loaded"
 * blocks do all but the insmod, the reader and the rmmod): the ratios
 * show what the clock alone makes of two equal blocks (1.000 if it is
 * exact; under qemu -icount it counts instructions, bench/kmod-overhead
 * --icount).
 *
 * Environment: LYMPH_KO (default /lib/modules/lymph.ko, the VM's),
 * LYMPH_KO_B (the other module, none by default), LYMPH_BENCH_WHERE (the
 * figures' label, default "VM, TCG").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include "lymph/events.h"
#include "lymph/danger.h"
#include "lymph/dev.h"

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

#define NOBODY 65534
#define MAX_LAT 8192	/* latency samples per module */

static const char *ko_path[2] = { KO_DEFAULT, NULL };	/* this module, the other */

static pid_t reader = -1;
static int ack_pipe[2] = { -1, -1 };	/* the reader's "drained" to the bench */
static int no_reader;	/* diagnosis: the module loaded, /dev/lymph never opened */
static int aa;		/* the A/A control: never loaded */

/* Crash -> read latencies the reader saw (shared with it), per module. */
struct lat {
	volatile int on;	/* record them now (the latency blocks) */
	volatile int n;
	volatile long wakeups;	/* poll() returns with records due */
	volatile long drain_req;	/* drains asked for (SIGUSR1) */
	double us[MAX_LAT];
};
static struct lat *lat;

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

/*
 * The reader, as lymphd reads: its wake set first (root's crashes of this
 * binary calm), then a drain whenever poll() says so or 250 ms passed.
 * Urgent deaths (uid 65534's crashes) are timed from their record's
 * timestamp to the read that returned them.
 */
static void on_usr1(int sig) { (void)sig; }

static void reader_main(struct lat *l)
{
	static char buf[1 << 16] __attribute__((aligned(8)));
	struct lymph_wake_key calm = { .uid = 0 };
	struct lymph_wake_set set = {
		.keys = (uint64_t)(uintptr_t)&calm, .nr = 1, .flags = LYMPH_WAKE_KEYED,
		.urgent_mask = LYMPH_URGENT_SIGNALS_DEFAULT,
	};
	int fd = open("/dev/lymph", O_RDONLY | O_NONBLOCK);
	struct stat st;
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	const struct timespec period = { 0, 250000000 };
	sigset_t usr1, open_mask;
	long acked = l->drain_req;	/* the count goes on from the last load */

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &open_mask);	/* delivered only in ppoll() */
	sigdelset(&open_mask, SIGUSR1);
	sigaction(SIGUSR1, &sa, NULL);
	bench_pin(0, 1);
	if (fd < 0) {
		perror("# open /dev/lymph");
		_exit(1);
	}
	if (!stat("/proc/self/exe", &st)) {
		calm.ino = st.st_ino;
		calm.dev = (uint32_t)st.st_dev;
	}
	ioctl(fd, LYMPH_IOC_WAKE_SET, &set);	/* ENOTTY: an older module */
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		long req;

		if (ppoll(&pfd, 1, &period, &open_mask) > 0)
			l->wakeups++;
		req = l->drain_req;
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			struct timespec ts;
			double now;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = ts.tv_sec * 1e9 + ts.tv_nsec;
			for (ssize_t off = 0; off + (ssize_t)sizeof(struct lymph_hdr) <= n;) {
				const struct lymph_death *d = (const void *)(buf + off);

				if (d->hdr.size < sizeof(struct lymph_hdr))
					break;
				if (l->on && d->hdr.kind == LYMPH_EV_DEATH && d->task.uid == NOBODY &&
				    d->signo == LYMPH_SIGSEGV && l->n < MAX_LAT)
					l->us[l->n++] = (now - (double)d->hdr.ts_ns) / 1e3;
				off += d->hdr.size;
			}
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			_exit(1);
		if (req != acked && write(ack_pipe[1], "d", 1) == 1)
			acked = req;
	}
}

/*
 * The end of a loaded block: the reader drains what the block left in
 * the ring, and the block waits for it (idle, so under qemu -icount the
 * wait is the reader's instructions): each block pays for the reading
 * of its own records, whatever the block's length against the reader's
 * 250 ms timer (without it, blocks of 100 ms left most of a fork+crash
 * block's records to be read after the block).
 */
static void drain_wait(struct lat *l)
{
	char c;

	if (reader <= 0)
		return;
	l->drain_req++;
	kill(reader, SIGUSR1);
	while (read(ack_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
}

/* Load module m (0: this, 1: the other) with its reader. */
static int load(int m)
{
	if (aa) {
		usleep(50000);
		return 0;
	}
	if (run_cmd("insmod", ko_path[m]) != 0) {
		fprintf(stderr, "# insmod %s failed\n", ko_path[m]);
		return -1;
	}
	if (no_reader) {
		usleep(50000);
		return 0;
	}
	if (ack_pipe[0] < 0 && pipe(ack_pipe) < 0)
		return -1;
	reader = fork();
	if (reader == 0)
		reader_main(&lat[m]);
	usleep(50000);	/* the reader has the device open before the block */
	return reader < 0 ? -1 : 0;
}

static int unload(void)
{
	if (aa)
		return 0;
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

/* An urgent death: uid 65534 crashes (no wake set calls that calm). */
static void child_crash_nobody(void)
{
	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		_exit(125);
	child_crash();
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

static long block_n;	/* iterations of the last block */
static double block_mean;	/* the last block's mean per iteration (s), the reading in */

#define MAX_ITERATIONS 65536	/* per block; a block ends early past it */

static int cmp(const void *a, const void *b);

/*
 * Per-iteration cost (s) of one block of BLOCK seconds: the median of its
 * iterations' times, plus, for a loaded block (@l), the reader's drain of
 * what the block wrote, spread over its iterations.  The median, not the
 * block's mean: under qemu -icount an iteration's time is the
 * instructions both vCPUs executed meanwhile, and the odd iteration that
 * a timer tick, an RCU callback, a kworker, the slab refilling, or the
 * last rmmod's deferred frees fall into is far above the rest; how many
 * of those a block gets is luck, and moved a block's mean by +-2 % (A/A
 * pairs 0.981-1.018) where the median moves by 0.01 %.  The drain is
 * the whole of the reader's work on a block's records: between drains
 * (every block ends with one) the reader sleeps on poll() (a calm crash
 * does not wake it) and its 250 ms timer does not run out inside a block
 * of less.  block_mean gets the mean-based cost as before, for the '#'
 * lines.
 */
static double block(const struct workload *w, double len, struct lat *l)
{
	static double it[MAX_ITERATIONS];
	double t0 = now_s(), t, prev = t0, drain = 0, med;
	long n = 0;

	do {
		pid_t p = fork();

		if (p == 0)
			w->child();
		if (p < 0 || waitpid(p, NULL, 0) < 0) {
			perror("# fork/waitpid");
			exit(1);
		}
		t = now_s();
		it[n++] = t - prev;
		prev = t;
	} while (t - t0 < len && n < MAX_ITERATIONS);
	if (l) {
		drain_wait(l);
		drain = now_s() - t;
		t += drain;
	}
	block_n = n;
	block_mean = (t - t0) / n;
	qsort(it, n, sizeof(double), cmp);
	med = n % 2 ? it[n / 2] : (it[n / 2 - 1] + it[n / 2]) / 2;
	return med + drain / n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorted by it), its quartiles and its standard
 * error: sqrt(pi/2) sigma / sqrt(n), with sigma from the quartiles (IQR /
 * 1.349), so that a preempted block, an outlier, does not widen it. */
static double median_se(double *v, int n, double *q1, double *q3, double *se)
{
	qsort(v, n, sizeof(double), cmp);
	*q1 = v[n / 4];
	*q3 = v[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1];
	*se = 1.2533 * ((*q3 - *q1) / 1.349) / sqrt(n);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of v[0..n) with its spread, as a figure line; a verdict
 * against target only when target > 0 and the noise allows one. */
static void ratio_figure(const char *name, double *v, int n, double target)
{
	char val[160], tgt[32] = "";
	double med, q1, q3, se;
	const char *verdict = "";

	med = median_se(v, n, &q1, &q3, &se);
	if (target > 0) {
		verdict = fabs(med - target) <= 2 * se ? "too noisy" : med <= target ? "ok" : "MISS";
		snprintf(tgt, sizeof(tgt), "<= %.2f", target);
	}
	/* under qemu -icount the error is below 0.001: one more digit */
	snprintf(val, sizeof(val), se < 0.0005 ?
		 "%.4f +- %.4f (quartiles %.4f-%.4f, min %.4f, max %.4f, %d pairs)" :
		 "%.3f +- %.3f (quartiles %.3f-%.3f, min %.3f, max %.3f, %d pairs)",
		 med, se, q1, q3, v[0], v[n - 1], n);
	bench_figure(name, val, tgt, verdict);
}

/* The guest's clock source, and what it counts. */
static void print_clocksource(void)
{
	char cs[64] = "?";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	if (f) {
		if (fgets(cs, sizeof(cs), f))
			cs[strcspn(cs, "\n")] = 0;
		fclose(f);
	}
	printf("# clock source %s\n", cs);
}

static void shuffle(int *v, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = rand() % (i + 1), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

/* Crash -> read latency blocks: k urgent crashes, 20 ms apart, per load
 * (ROUNDS x PAIRS blocks of 20 for each module). */
static int latency_block(int m, int k)
{
	if (load(m) < 0)
		return -1;
	lat[m].on = 1;
	for (int i = 0; i < k; i++) {
		pid_t p = fork();

		if (p == 0)
			child_crash_nobody();
		if (p < 0 || waitpid(p, NULL, 0) < 0)
			return -1;
		usleep(20000);
	}
	usleep(100000);	/* the last one read */
	lat[m].on = 0;
	return unload();
}

int main(int argc, char **argv)
{
	static const char *const mname[2] = { "this build", "other build (-B)" };
	int rounds = argc > 1 ? atoi(argv[1]) : 3;
	int pairs = argc > 2 ? atoi(argv[2]) : 5;
	double len = (argc > 3 ? atoi(argv[3]) : 200) / 1000.0;
	no_reader = argc > 4 && !strcmp(argv[4], "noreader");
	aa = argc > 4 && !strcmp(argv[4], "aa");
	/* [0] this/unloaded, [1] other/unloaded, [2] this/other */
	static double ratio[3][NW][MAX_RATIOS];
	static double ratio_mean[3][NW][MAX_RATIOS];	/* the same from the blocks' means */
	long crash_wakeups[2] = { 0, 0 }, crashes[2] = { 0, 0 };
	const char *where = getenv("LYMPH_BENCH_WHERE");
	int n = 0, nm = 1;

	if (!where || !*where)
		where = "VM, TCG";
	if (getenv("LYMPH_KO") && *getenv("LYMPH_KO"))
		ko_path[0] = getenv("LYMPH_KO");
	if (getenv("LYMPH_KO_B") && *getenv("LYMPH_KO_B")) {
		ko_path[1] = getenv("LYMPH_KO_B");
		nm = 2;
	}

	if (rounds < 1 || pairs < 1 || rounds * pairs > MAX_RATIOS)
		return 2;
	lat = mmap(NULL, 2 * sizeof(*lat), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (lat == MAP_FAILED)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (bench_pin(0, 0) < 0)
		perror("# pin to CPU 0");
	srand(time(NULL) ^ getpid());
	/* Settle: what the guest still does after boot ends first (under
	 * qemu -icount its instructions would count in the first blocks:
	 * one block of 1.5 times the others without it).  Then warm up:
	 * one load/unload cycle of each module, one block of each workload. */
	sleep(3);
	for (int m = 0; m < nm; m++)
		if (load(m) < 0 || unload() < 0)
			return 1;
	for (int i = 0; i < NW; i++)
		block(&workloads[i], len, NULL);
	printf("# kmod overhead: %d rounds x %d %s of %.0f ms blocks per workload, pinned to CPU 0, %s\n",
	       rounds, pairs, nm == 2 ? "triples (unloaded, this, other)" : "pairs", len * 1000,
	       aa ? "A/A control: the module never loaded" :
	       no_reader ? "NO reader (diagnosis)" :
			   "a reader on CPU 1 draining /dev/lymph as lymphd does (wake set, poll, 250 ms timer)");
	print_clocksource();
	for (int r = 0; r < rounds; r++) {
		for (int p = 0; p < pairs; p++, n++) {
			double cost[3][NW];	/* [unloaded, this, other][workload] */
			double mean[3][NW];	/* the same, the blocks' means */
			long w0;
			int order[3] = { 0, 1, 2 };

			shuffle(order, 1 + nm);
			for (int k = 0; k < 1 + nm; k++) {
				int st = order[k];

				if (st && load(st - 1) < 0)
					return 1;
				for (int i = 0; i < NW; i++) {
					w0 = st ? lat[st - 1].wakeups : 0;
					cost[st][i] = block(&workloads[i], len, st ? &lat[st - 1] : NULL);
					mean[st][i] = block_mean;
					if (st && workloads[i].child == child_crash) {
						usleep(20000);	/* its last record read */
						crash_wakeups[st - 1] += lat[st - 1].wakeups - w0;
						crashes[st - 1] += block_n;
					}
				}
				if (st && unload() < 0)
					return 1;
			}
			printf("# round %d pair %d:", r, p);
			for (int i = 0; i < NW; i++) {
				ratio[0][i][n] = cost[1][i] / cost[0][i];
				ratio_mean[0][i][n] = mean[1][i] / mean[0][i];
				printf(" %s %.1f/%.1f us (%.3f)", workloads[i].name, cost[1][i] * 1e6,
				       cost[0][i] * 1e6, ratio[0][i][n]);
				if (nm == 2) {
					ratio[1][i][n] = cost[2][i] / cost[0][i];
					ratio[2][i][n] = cost[1][i] / cost[2][i];
					ratio_mean[1][i][n] = mean[2][i] / mean[0][i];
					ratio_mean[2][i][n] = mean[1][i] / mean[2][i];
					printf(" other %.1f us (%.3f)", cost[2][i] * 1e6, ratio[1][i][n]);
				}
			}
			printf("\n");
		}
	}
	/* What the blocks' means made of the same blocks (how it was measured
	 * before: the A/A control's noise came from there). */
	printf("# a block's cost: the median of its iterations (plus the reader's drain, spread); "
	       "the same ratios from the blocks' mean iteration times:");
	for (int i = 0; i < NW; i++)
		for (int k = 0; k < (nm == 2 ? 3 : 1); k++) {
			static const char *const kname[3] = { "", " other", " this/other" };
			double q1, q3, se, med = median_se(ratio_mean[k][i], n, &q1, &q3, &se);

			printf(" %s%s %.3f +- %.3f (quartiles %.3f-%.3f);", workloads[i].name,
			       kname[k], med, se, q1, q3);
		}
	printf("\n");
	for (int i = 0; i < NW; i++) {
		char name[200];

		snprintf(name, sizeof(name), "kmod overhead (%s): %s%s, median ratio", where,
			 workloads[i].name,
			 aa ? ", A/A control (unloaded / unloaded)" : no_reader ? " (no reader)" : "");
		ratio_figure(name, ratio[0][i], n, aa ? 0 : TARGET);
		if (nm < 2)
			continue;
		snprintf(name, sizeof(name), "kmod overhead (%s): %s%s, other build (-B), median ratio",
			 where, workloads[i].name, no_reader ? " (no reader)" : "");
		ratio_figure(name, ratio[1][i], n, TARGET);
		snprintf(name, sizeof(name), "kmod overhead (%s): %s%s, this build / other build, median ratio",
			 where, workloads[i].name, no_reader ? " (no reader)" : "");
		ratio_figure(name, ratio[2][i], n, 0);
	}
	if (no_reader || aa)
		return 0;
	/* What the wake sets save: the reader's wakeups per root crash (calm
	 * for this build's reader, urgent for a module without wake sets). */
	for (int m = 0; m < nm; m++) {
		char name[200], val[160];

		snprintf(name, sizeof(name), "kmod reader wakeups per fork+crash (%s), root's crash, %s",
			 where, mname[m]);
		snprintf(val, sizeof(val), "%.3f (%ld wakeups, %ld crashes)",
			 crashes[m] ? (double)crash_wakeups[m] / crashes[m] : 0.0, crash_wakeups[m],
			 crashes[m]);
		bench_figure(name, val, "", "");
	}

	/* Crash -> read latency of an urgent death, blocks interleaved. */
	for (int b = 0; b < rounds * pairs; b++) {
		int order[2] = { 0, 1 };

		shuffle(order, nm);
		for (int k = 0; k < nm; k++)
			if (latency_block(order[k], 20) < 0)
				return 1;
	}
	for (int m = 0; m < nm; m++) {
		char name[200], val[160];
		double *v = lat[m].us;
		int k = lat[m].n;

		if (!k) {
			printf("# %s: no urgent death was read\n", mname[m]);
			continue;
		}
		qsort(v, k, sizeof(double), cmp);
		snprintf(name, sizeof(name),
			 "kmod crash -> read latency (%s), urgent death, %s: p50 / p90 / p99", where,
			 mname[m]);
		snprintf(val, sizeof(val), "%.0f us / %.0f us / %.0f us (max %.0f us, %d crashes)",
			 v[k / 2], v[(k * 9) / 10], v[(k * 99) / 100 < k ? (k * 99) / 100 : k - 1],
			 v[k - 1], k);
		bench_figure(name, val, nm == 2 ? "this <= other" : "", "");
	}
	return 0;
}
