// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a process spinning on a refused fork costs, by its size: the
 * refused-fork probe is attached only while the probes see a lineage near
 * its budget, and lymphd's spin sample (50 ms every 2 s on a busy host,
 * userspace/sources/source_bpf.c) sees a spinning family only if its
 * refusals in the sample drain more than an eighth of its burst beyond
 * what its budget refills: budget + 2.5 x burst refusals a second.  A
 * pids cgroup refuses a fork late, after the child's address space was
 * copied, so a large process's refusal costs more and it spins slower.
 *
 * For each size, a child touches that much anonymous memory, sits alone
 * in a pids cgroup (the backstop of tests/storm_helpers.h) at pids.max 1
 * and calls fork() in a tight loop for a second: refusals per second, CPU
 * used, CPU time per refusal, and whether that rate is below the spin
 * sample's bound for [throttle] budget and burst (defaults 200 and 400).
 *
 *   refusal_cost [-b BUDGET] [-u BURST] [-s SECONDS] [SIZE_MIB]...
 *   (default sizes: 1 16 64 256 1024)
 *
 * Root; run it under the heavy lock (it burns a CPU while it measures).
 */
#include <sys/resource.h>
#include <sys/wait.h>
#include "bench.h"
#define TH_NO_HARNESS
#include "helpers.h"
#include "storm_helpers.h"

struct result {
	double refusals_per_s, cpu_share, us_per_refusal;
};

static void spin(const char *cg, size_t mib, double secs, int out)
{
	struct result r = { 0 };
	struct rusage ru;
	char n[32];
	uint64_t refused = 0;
	int64_t t0, t1;
	char *mem = NULL;

	if (mib) {
		mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			   0);
		if (mem == MAP_FAILED)
			_exit(2);
		memset(mem, 1, mib << 20);
	}
	snprintf(n, sizeof(n), "%d", (int)getpid());
	if (storm__write(cg, "cgroup.procs", n) || storm__write(cg, "pids.max", "1"))
		_exit(3);
	t0 = th_now_ms();
	getrusage(RUSAGE_SELF, &ru);
	{
		double c0 = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
			    ru.ru_stime.tv_usec / 1e6;

		while (th_now_ms() - t0 < (int64_t)(secs * 1000)) {
			pid_t pid = fork();

			if (pid == 0)
				_exit(0);
			if (pid > 0)
				waitpid(pid, NULL, 0);
			else
				refused++;
		}
		t1 = th_now_ms();
		getrusage(RUSAGE_SELF, &ru);
		r.cpu_share = (ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
			       ru.ru_stime.tv_usec / 1e6 - c0) /
			      ((t1 - t0) / 1000.0);
		r.refusals_per_s = refused / ((t1 - t0) / 1000.0);
		r.us_per_refusal = refused ? r.cpu_share * 1e6 / r.refusals_per_s : 0;
	}
	if (write(out, &r, sizeof(r)) != sizeof(r))
		_exit(4);
	_exit(0);
}

int main(int argc, char **argv)
{
	static const size_t defaults[] = { 1, 16, 64, 256, 1024 };
	double budget = 200, burst = 400, secs = 1, bound;
	size_t sizes[16], n = 0, i;
	int c;

	while ((c = getopt(argc, argv, "b:u:s:h")) != -1) {
		switch (c) {
		case 'b': budget = atof(optarg); break;
		case 'u': burst = atof(optarg); break;
		case 's': secs = atof(optarg); break;
		default:
			fprintf(stderr,
				"usage: %s [-b BUDGET] [-u BURST] [-s SECONDS] [SIZE_MIB]...\n",
				argv[0]);
			return 2;
		}
	}
	for (; optind < argc && n < 16; optind++)
		sizes[n++] = (size_t)atol(argv[optind]);
	for (i = 0; !n && i < sizeof(defaults) / sizeof(defaults[0]); i++)
		sizes[i] = defaults[i];
	if (!n)
		n = i;
	if (geteuid()) {
		fprintf(stderr, "refusal_cost: needs root (a pids cgroup per run)\n");
		return 1;
	}
	bound = budget + 2.5 * burst;
	printf("# spin sample bound (budget %.0f/s, burst %.0f): a family is seen above %.0f "
	       "refusals/s\n",
	       budget, burst, bound);
	printf("# %9s %14s %10s %12s %s\n", "RSS_MiB", "refusals/s", "CPU", "us/refusal",
	       "sampled");
	for (i = 0; i < n; i++) {
		struct storm_cg cg;
		struct result r = { 0 };
		int p[2], status = -1;
		pid_t pid;

		storm_cg_init(&cg);
		if (storm_cg_create(&cg, 10, 60) || pipe(p)) {
			fprintf(stderr, "refusal_cost: failed to make a pids cgroup: %s\n",
				strerror(errno));
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			spin(cg.path, sizes[i], secs, p[1]);
		}
		close(p[1]);
		if (pid < 0 || read(p[0], &r, sizeof(r)) != sizeof(r))
			fprintf(stderr, "refusal_cost: the %zu MiB run failed\n", sizes[i]);
		close(p[0]);
		if (pid > 0)
			waitpid(pid, &status, 0);
		storm_cg_destroy(&cg);
		if (status)
			continue;
		printf("  %9zu %14.0f %9.0f%% %12.1f %s\n", sizes[i], r.refusals_per_s,
		       r.cpu_share * 100, r.us_per_refusal,
		       r.refusals_per_s > bound ? "yes" : "NO");
		fflush(stdout);
	}
	return 0;
}
