// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/stormcost: what lymphd's prompt answer to crashes costs the rest of
 * the host during a crash storm.  lymphd's event loop asks for a short
 * scheduler slice ([lymphd] latency_slice_us, lib/slice.h), so that its
 * wakeup for a crash preempts the CPU's current task; under a storm of
 * crashes that each wake it, that is a preemption per crash.  Two lymphds
 * (A: BUILD's; B: OTHER_BUILD's, BUILD's by default, with -b CONF's policy
 * lines, e.g. -b '[lymphd]\nlatency_slice_us = 0') alternate in blocks, in
 * random order within each round, and each block measures, with the same
 * storm:
 *   idle   a storm of RATE crashes a second by uid 65534 (a [quarantine]
 *          section with the threshold out of reach: each crash wakes
 *          lymphd, none is acted on), and a probe that times a fork + exec
 *          of /bin/true every 2 ms (what a host's short jobs feel);
 *   busy   the same with a spinner per CPU (a host's long jobs): their
 *          CPU share (schedstat), how often they were preempted
 *          (nonvoluntary context switches) and how long they were kept
 *          off the CPU (gaps in their clock reads over 20 us).
 * Plus lymphd's CPU time per crash and how many crashes the storm made.
 * The storm runs in a pids cgroup of its own (pids.max 100) under an alarm;
 * what is left of it is SIGKILLed and the cgroup removed.  lymphd, the
 * probe, each spinner and the storm run in sessions of their own
 * (autogroup: as a host's programs do).
 *
 *   bench/stormcost [-d BUILD] [-B OTHER_BUILD] [-b CONF] [-r RATE] [-t BLOCK_MS] [-k ROUNDS]  (root)
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "bench.h"
#include "pidcg.h"

#define NOBODY	 65534
#define MAXSPIN	 8
#define MAXPROBE 20000
#define MAXGAP	 200000
#define GAP_NS	 20000ULL /* a spinner's clock reads further apart: off the CPU */
#define PIDS_MAX 100

/* Shared with the children (MAP_SHARED, before they fork). */
struct shared {
	volatile int stop;
	uint64_t probe[MAXPROBE]; /* fork + exec /bin/true, ns */
	int nprobe;
	uint64_t gap[MAXGAP]; /* the spinners' gaps, ns */
	int ngap;
	uint64_t spawned, crashed;
};

static struct shared *sh;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double q_us(uint64_t *v, int n, double q)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return (double)v[(int)(q * (n - 1))] / 1000.0;
}

/* A child in a session of its own that dies with the bench. */
static pid_t child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	}
	return pid;
}

static void spinner(void)
{
	uint64_t last = bench_now_ns(), now;
	volatile unsigned long x = 0;

	while (!sh->stop) {
		x++;
		now = bench_now_ns();
		if (now - last > GAP_NS) {
			int i = __atomic_fetch_add(&sh->ngap, 1, __ATOMIC_RELAXED);

			if (i < MAXGAP)
				sh->gap[i] = now - last;
		}
		last = now;
	}
	_exit(0);
}

static void probe(void)
{
	struct timespec pause = { 0, 2000000 };

	while (!sh->stop && sh->nprobe < MAXPROBE) {
		uint64_t t0 = bench_now_ns();
		pid_t pid = vfork();

		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, NULL, 0) == pid)
			sh->probe[sh->nprobe++] = bench_now_ns() - t0;
		nanosleep(&pause, NULL);
	}
	_exit(0);
}

/* rate crashes a second by uid 65534 until told to stop (in the cgroup). */
static void storm(double rate, int max_s)
{
	struct rlimit no_core = { 0, 0 };
	uint64_t period = (uint64_t)(1e9 / rate), next = bench_now_ns();
	int status;
	pid_t pid;

	setrlimit(RLIMIT_CORE, &no_core);
	alarm((unsigned int)max_s); /* backstop: never outlive the bench */
	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		_exit(3);
	while (!sh->stop) {
		struct timespec ts = { (time_t)(next / 1000000000ULL),
				       (long)(next % 1000000000ULL) };

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		pid = fork();
		if (pid == 0)
			*(volatile int *)0 = 1; /* SIGSEGV */
		if (pid > 0)
			__atomic_fetch_add(&sh->spawned, 1, __ATOMIC_RELAXED);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
				__atomic_fetch_add(&sh->crashed, 1, __ATOMIC_RELAXED);
		next += period;
		if (bench_now_ns() > next + 100 * period)
			next = bench_now_ns(); /* behind: no burst to catch up */
	}
	while ((pid = waitpid(-1, &status, 0)) > 0)
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
			__atomic_fetch_add(&sh->crashed, 1, __ATOMIC_RELAXED);
	_exit(0);
}

/* One phase's figures. */
struct phase {
	double crashes_s, lymphd_us_per_crash, probe_p50, probe_p99, spin_share, spin_nivcsw_s,
		gap_p50, gap_p99, gaps_s;
};

static int run_phase(struct bench_lymphd *l, int nspin, double rate, int ms, struct phase *ph)
{
	pid_t spin[MAXSPIN], pr, st;
	uint64_t spin_cpu0[MAXSPIN], t0, t1, l0, l1;
	long spin_iv0[MAXSPIN]; /* bench_status_kb: the number, whatever its unit */
	struct pidcg cg = { 0 };
	struct timespec len = { ms / 1000, (long)(ms % 1000) * 1000000L };
	int i, err;

	memset(sh, 0, sizeof(*sh));
	memset(ph, 0, sizeof(*ph));
	err = pidcg_create(&cg, PIDS_MAX);
	if (err)
		return err;
	fflush(stdout);
	for (i = 0; i < nspin; i++) {
		spin[i] = child();
		if (spin[i] == 0)
			spinner();
	}
	pr = child();
	if (pr == 0)
		probe();
	st = child();
	if (st == 0) {
		/* into the cgroup before its first fork */
		if (pidcg_enter(&cg, getpid()))
			_exit(4);
		storm(rate, ms / 1000 + 30);
	}
	t0 = bench_now_ns();
	l0 = bench_cpu_ns(l->pid);
	for (i = 0; i < nspin; i++) {
		spin_cpu0[i] = bench_cpu_ns(spin[i]);
		spin_iv0[i] = bench_status_kb(spin[i], "nonvoluntary_ctxt_switches");
	}
	nanosleep(&len, NULL);
	t1 = bench_now_ns();
	l1 = bench_cpu_ns(l->pid);
	for (i = 0; i < nspin; i++) {
		ph->spin_share += (double)(bench_cpu_ns(spin[i]) - spin_cpu0[i]) /
				  (double)(t1 - t0);
		ph->spin_nivcsw_s += (double)(bench_status_kb(spin[i],
							      "nonvoluntary_ctxt_switches") -
					      spin_iv0[i]) *
				     1e9 / (double)(t1 - t0);
	}
	sh->stop = 1;
	for (i = 0; i < nspin; i++)
		waitpid(spin[i], NULL, 0);
	waitpid(pr, NULL, 0);
	waitpid(st, NULL, 0);
	pidcg_destroy(&cg);
	ph->crashes_s = (double)sh->crashed * 1e9 / (double)(t1 - t0);
	ph->lymphd_us_per_crash = sh->crashed ? (double)(l1 - l0) / 1000.0 / (double)sh->crashed
					      : 0;
	ph->probe_p50 = q_us(sh->probe, sh->nprobe, 0.5);
	ph->probe_p99 = q_us(sh->probe, sh->nprobe, 0.99);
	if (sh->ngap > MAXGAP)
		sh->ngap = MAXGAP;
	ph->gaps_s = (double)sh->ngap * 1e9 / (double)(t1 - t0);
	ph->gap_p50 = q_us(sh->gap, sh->ngap, 0.5);
	ph->gap_p99 = q_us(sh->gap, sh->ngap, 0.99);
	return 0;
}

#define NFIG 9
static const char *const fig_name[NFIG] = {
	"storm crashes/s",	     "lymphd CPU per crash, us",      "fork+exec probe p50, us",
	"fork+exec probe p99, us",   "spinners' CPU share (of ncpu)", "spinners preempted /s",
	"spinners' gaps > 20 us /s", "spinners' gap p50, us",	      "spinners' gap p99, us",
};

static double fig(const struct phase *p, int k)
{
	const double v[NFIG] = { p->crashes_s,	p->lymphd_us_per_crash, p->probe_p50, p->probe_p99,
				 p->spin_share, p->spin_nivcsw_s,	p->gaps_s,    p->gap_p50,
				 p->gap_p99 };

	return v[k];
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *build = "build", *other = NULL, *bconf = NULL;
	static const char *const args[] = { "--quiet", "--source=bpf", "--no-fork", "--no-exec",
					    NULL };
	int c, ms = 2000, rounds = 4, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), r, s, k, mode;
	double rate = 300;
	struct bench_lymphd l[2];
	struct phase(*ph)[2][2]; /* [round][side][idle, busy] */

	while ((c = getopt(argc, argv, "d:B:b:r:t:k:")) != -1) {
		if (c == 'd')
			build = optarg;
		else if (c == 'B')
			other = optarg;
		else if (c == 'b')
			bconf = optarg;
		else if (c == 'r')
			rate = atof(optarg);
		else if (c == 't')
			ms = atoi(optarg);
		else if (c == 'k')
			rounds = atoi(optarg);
		else {
			fprintf(stderr,
				"usage: stormcost [-d BUILD] [-B OTHER_BUILD] [-b CONF] [-r RATE] "
				"[-t BLOCK_MS] [-k ROUNDS]\n");
			return 2;
		}
	}
	if (rate < 1 || rate > 5000 || ms < 200 || ms > 20000 || rounds < 1 || rounds > 50) {
		fprintf(stderr, "stormcost: -r 1..5000, -t 200..20000, -k 1..50\n");
		return 2;
	}
	if (!other && !bconf) {
		fprintf(stderr, "stormcost: nothing to compare: give -B OTHER_BUILD or -b CONF\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "stormcost: must run as root (it starts lymphd)\n");
		return 1;
	}
	if (ncpu > MAXSPIN)
		ncpu = MAXSPIN;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ph = calloc((size_t)rounds, sizeof(*ph));
	if (sh == MAP_FAILED || !ph) {
		perror("stormcost: setup");
		return 1;
	}
	if (bench_lymphd_init(&l[0], build, "stormcost", -1) ||
	    bench_lymphd_init(&l[1], other ? other : build, "stormcost-b", -1) ||
	    (bconf && bench_lymphd_dropin(&l[1], bconf))) {
		perror("stormcost: failed to set up lymphd's directories");
		return 1;
	}
	for (s = 0; s < 2; s++) {
		FILE *f = fopen(l[s].conf, "we");

		if (!f || fputs("[quarantine]\nthreshold = 1000000000\nroot = no\n", f) < 0 ||
		    fclose(f)) {
			perror("stormcost: failed to write the policy");
			return 1;
		}
	}
	printf("# stormcost: %.0f crashes/s by uid %d, %d ms per phase, %d rounds, %d CPUs; A %s, B %s%s%s%s\n",
	       rate, NOBODY, ms, rounds, ncpu, build, other ? other : build, bconf ? " (-b '" : "",
	       bconf ? bconf : "", bconf ? "')" : "");
	bench_warn_other_lymphd(0);
	srand((unsigned int)time(NULL));
	for (r = 0; r < rounds; r++) {
		int first = rand() % 2;

		for (k = 0; k < 2; k++) {
			s = (first + k) % 2;
			if (bench_lymphd_start(&l[s], args)) {
				fprintf(stderr, "stormcost: lymphd (%s) did not start\n",
					l[s].lymphd);
				return 1;
			}
			bench_lymphd_settle(&l[s], 5000);
			for (mode = 0; mode < 2; mode++)
				if (run_phase(&l[s], mode ? ncpu : 0, rate, ms, &ph[r][s][mode])) {
					fprintf(stderr,
						"stormcost: failed to make the storm's pids cgroup\n");
					bench_lymphd_stop(&l[s]);
					return 1;
				}
			bench_lymphd_stop(&l[s]);
		}
	}
	/* per figure: each side's median over rounds, and the median (min,
	 * max) of the rounds' B / A ratios */
	for (mode = 0; mode < 2; mode++) {
		printf("# %s (%s)\n", mode ? "busy: a spinner per CPU" : "idle",
		       "A | B | B/A median (min-max) over rounds");
		for (k = 0; k < NFIG; k++) {
			double a[50], b[50], q[50];

			if (!mode && k >= 4)
				continue;
			for (r = 0; r < rounds; r++) {
				a[r] = fig(&ph[r][0][mode], k);
				b[r] = fig(&ph[r][1][mode], k);
				q[r] = a[r] > 0 ? b[r] / a[r] : 0;
			}
			qsort(a, (size_t)rounds, sizeof(double), cmp_d);
			qsort(b, (size_t)rounds, sizeof(double), cmp_d);
			qsort(q, (size_t)rounds, sizeof(double), cmp_d);
			printf("#   %-32s %10.3f | %10.3f | %.3f (%.3f-%.3f)\n", fig_name[k],
			       a[rounds / 2], b[rounds / 2], q[rounds / 2], q[0], q[rounds - 1]);
		}
	}
	bench_lymphd_cleanup(&l[0]);
	bench_lymphd_cleanup(&l[1]);
	free(ph);
	munmap(sh, sizeof(*sh));
	return 0;
}
