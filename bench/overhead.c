// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/overhead: what lymph's BPF sensors cost the processes they watch.
 *
 * Four workloads, each timed per iteration: fork + _exit(0), fork + exec
 * of /bin/true, fork + crash (SIGSEGV, RLIMIT_CORE = 0), and 1000 getppid()
 * system calls (what the sys_exit probe, which watches for refused forks,
 * costs every system call while it is attached: lymphd attaches it only
 * while a lineage nears its budget or a hold ended lately).  The host is noisy,
 * so settings are never compared across runs: one run alternates them in
 * short blocks (default 40 ms) in random order, pinned to one CPU, and each
 * block is compared with the detached block of its group.  What is printed
 * is the median (with its standard error, from the interquartile range)
 * and the min, over groups, of the ratios cost(setting) / cost(detached).
 * Each group also has a second detached block, the control: its ratio
 * shows the host's own noise.  A verdict is ok or MISS only when the
 * median is more than two standard errors from the 1.02 target (and, for
 * ok, the control agrees within 1 %) in 5 groups or more, else "too
 * noisy" (or "too few groups").  A block's cost is
 * the median of its iterations' wall times.  Because a shared host can
 * drown a 2 % effect, the probes' own run time is also read from
 * kernel.bpf_stats (exact, but it leaves out the interrupt that delivers a
 * wakeup) and shown per iteration and as a share of a detached iteration;
 * the sys_exit probe, which runs at every system call of the host, apart.
 *
 * Phase 1 (fast switching, in this process): the bench loads
 * bpf/sensors.bpf.c three times from lymphd's own skeleton, sharing one
 * ring:
 *   detached  no link exists;
 *   attached  the sensors as lymphd loads them in observe mode (lineages
 *             accounted for the fork throttle, nothing stopped; forks
 *             counted, not recorded: nothing shows them) with a
 *             [quarantine] section: root's crashes cannot start a
 *             quarantine, so lymphd has put the crasher (this binary, uid
 *             0) in calm_keys and its deaths are batched; every other
 *             danger death would still wake the reader at once; no
 *             lineage near its budget: the refused-fork probe detached;
 *   every     every death by a fatal signal wakes the reader at once (how
 *             the sensors were before lymphd kept calm_keys), every fork
 *             recorded, and the
 *             refused-fork probe attached on raw_syscalls:sys_exit (as
 *             it always was before): a reference, how they were;
 *   batched   urgent_death_mask = 0: no death wakes the reader (woken at
 *             the 1/8 fill mark or by the reader's 100 ms timer); else as
 *             attached (the refused-fork probe detached), so that its
 *             ratio is what batching the deaths costs, not the probe's
 *             (the armed settings below measure that);
 *   armed raw the sensors as lymphd loads them, with the refused-fork
 *             probe on raw_syscalls:sys_exit (lymphd's fallback);
 *   armed per-syscall  the same with it on syscalls:sys_exit_clone,
 *             clone3, fork and vfork (how lymphd arms it where it can);
 *   calls     the sensors with probes on syscalls:sys_enter_clone, ...
 *             (what charging a fork at its call would cost, attached
 *             for good; not used by lymphd);
 *   calls and refusals  both per-syscall sets attached.
 * With -a, only detached, control, attached and the last four; with
 * -S SETTING,... (attached, every, batched, armed-raw, armed-sc, calls,
 * calls-sc; or -S repeated) detached, control and those
 * (bench/overhead-vm: attached and batched).
 * A reader thread on another CPU drains the ring as lymphd does (epoll on
 * the ring, 100 ms timeout, ring_buffer__consume) so it never fills; its
 * cost on its own CPU is not in the ratio.  The workload runs in a lean
 * process forked before any of this is loaded.
 *
 * Phase 2 (the real daemon): blocks of 'no lymphd' against 'lymphd
 * running' (observe mode, built-in policy or -P's, --quiet, pinned off the
 * workload's CPU), started, let settle and stopped between blocks; 200 ms
 * blocks because lymphd takes a while to load.  Besides the workload's
 * ratio, lymphd's own CPU time per iteration (from /proc/PID/schedstat)
 * and its drop count are printed.
 *
 * With -B OTHER_BUILD, phase 2 also has blocks of that build's lymphd
 * (a before/after of lymphd in one run, interleaved the same way).
 *
 *   bench/overhead [-d BUILD_DIR] [-B OTHER_BUILD] [-m BLOCK_MS] [-r ROUNDS]
 *                  [-b BLOCKS] [-c CPU] [-s SEED] [-L | -P] [-a | -S SETTINGS] [-N] [-w MASK]
 *   (root; -L: skip phase 2; -P: lymphd with a policy of an empty
 *   [throttle] and [quarantine] each (their defaults) instead of none; -N: without kernel.bpf_stats, whose clock
 *   reads a probe pays; -w: the workloads, 1 fork+_exit, 2 fork+exec,
 *   4 fork+crash, 8 getppid, summed)
 *
 * Lines "figure\t<name>\t<value>\t<target>\t<verdict>" are for
 * bench/run-all; everything else is commentary.
 */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lymph/events.h"
#include "sensors.h"
#include "sensors.skel.h"
#include "bench.h"
#include "tracefs.h"

#define TARGET_RATIO	1.02
#define RING_BYTES	(8u << 20)	/* lymphd's default --ring-size */

/* CONTROL: a second detached block in each group; control/detached
 * shows how much two blocks of the same setting differ on this host. */
enum setting { DETACHED, CONTROL, ATTACHED, EVERY, BATCHED, ARMED_RAW, ARMED_SC, CALLS, CALLS_SC,
	       LYMPHD, LYMPHD_B, NSETTINGS };
#define NPHASE1 (CALLS_SC + 1)	/* phase 1's settings: DETACHED .. CALLS_SC */
#define MIN_GROUPS	5	/* for a verdict */
#define LYMPHD_TARGET	1.05	/* issue 15's target for "lymphd running" */
enum workload { W_EXIT, W_EXEC, W_CRASH, W_SYSCALL, NWORKLOADS };
static const char *const workload_name[NWORKLOADS] = {
	"fork+_exit", "fork+exec true", "fork+crash", "1000 getppid()",
};
#define NSKEL 3
/* The skeleton of each attached setting. */
static int skel_of(int st)
{
	return st == BATCHED ? 1 : st == EVERY ? 2 : 0;
}

/* The refused-fork probe on raw_syscalls:sys_exit, its per-syscall
 * variant (syscalls:sys_exit_clone, ...), the fork call probes
 * (syscalls:sys_enter_clone, ...), and the refused-fork probe at the
 * return of kernel_clone (fexit: not loaded here, so that the bench runs
 * where the kernel refuses fexit; lymphd's default where it loads). */
enum prog_kind { P_SENSOR, P_RAW_EXIT, P_SC_EXIT, P_SC_ENTER, P_FEXIT };

static enum prog_kind prog_kind(const struct bpf_program *prog)
{
	const char *n = bpf_program__name(prog);

	if (!strcmp(n, "on_sys_exit"))
		return P_RAW_EXIT;
	if (bpf_program__type(prog) == BPF_PROG_TYPE_TRACING &&
	    bpf_program__expected_attach_type(prog) == BPF_TRACE_FEXIT)
		return P_FEXIT;
	if (!strncmp(n, "refused_", 8))
		return P_SC_EXIT;
	if (!strncmp(n, "call_", 5))
		return P_SC_ENTER;
	return P_SENSOR;
}

/* Is prog attached in setting st? */
static int attached_in(const struct bpf_program *prog, int st)
{
	switch (prog_kind(prog)) {
	case P_RAW_EXIT:
		return st == EVERY || st == ARMED_RAW;
	case P_SC_EXIT:
		return st == ARMED_SC || st == CALLS_SC;
	case P_SC_ENTER:
		return st == CALLS || st == CALLS_SC;
	case P_FEXIT:
		return 0;
	default:
		return 1;
	}
}

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: reproducible from the printed seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

static void shuffle(int *v, int n)
{
	int i;

	for (i = n - 1; i > 0; i--) {
		int j = rnd(i + 1), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

/* Of sorted v: the q-quantile (nearest rank). */
static double quantile(const double *v, int n, double q)
{
	return v[(int)((n - 1) * q + 0.5)];
}

struct ratio_stats {
	double min, median, se;	/* se: standard error of the median */
	int n;
};

/* The median's standard error from the interquartile range (sigma ~
 * IQR / 1.349, se ~ 1.2533 sigma / sqrt(n)): robust to the outlier blocks
 * a shared host produces. */
static struct ratio_stats ratio_stats(double *v, int n)
{
	struct ratio_stats st = { 0 };

	if (!n)
		return st;
	st.n = n;
	st.median = bench_median(v, n);
	st.min = v[0];
	st.se = 1.2533 * (quantile(v, n, 0.75) - quantile(v, n, 0.25)) / 1.349 / sqrt(n);
	return st;
}

/* ---- workloads -------------------------------------------------------- */

static char *const true_argv[] = { "/bin/true", NULL };
static char *const empty_envp[] = { NULL };

static int one_iteration(enum workload w)
{
	int status, i;
	pid_t pid;

	if (w == W_SYSCALL) {
		for (i = 0; i < 1000; i++)
			syscall(SYS_getppid);
		return 0;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		switch (w) {
		case W_EXIT:
			_exit(0);
		case W_EXEC:
			execve(true_argv[0], true_argv, empty_envp);
			_exit(127);
		case W_CRASH:
			*(volatile int *)0 = 1;	/* SIGSEGV, SEGV_MAPERR */
			_exit(0);
		default:
			_exit(1);
		}
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (w == W_CRASH ? !(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
			 : !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return -EPROTO;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define MAX_ITERATIONS 65536	/* per block; a block ends early past it */

/*
 * Run w for block_ns.  Returns the median of the iterations' wall times
 * (ns), or a negative -errno; *mean_ns gets their mean.  The median is
 * what the ratios use: every iteration pays the probes' cost, so it is in
 * the median, while the host preempting the workload for a few ms (other
 * jobs on a shared machine) moves the mean of a 40 ms block by tens of
 * per cent but not the median.
 */
static double run_block_here(enum workload w, uint64_t block_ns, long *iterations,
			     double *mean_ns)
{
	static uint64_t it[MAX_ITERATIONS];
	uint64_t t0, t, prev;
	long n = 0;
	int err, i;

	for (i = 0; i < 2; i++)		/* warm the caches after a switch */
		if ((err = one_iteration(w)))
			return err;
	t0 = prev = bench_now_ns();
	do {
		if ((err = one_iteration(w)))
			return err;
		t = bench_now_ns();
		it[n++] = t - prev;
		prev = t;
	} while (t - t0 < block_ns && n < MAX_ITERATIONS);
	*iterations = n;
	*mean_ns = (double)(t - t0) / n;
	qsort(it, n, sizeof(*it), cmp_u64);
	return n % 2 ? (double)it[n / 2] : (it[n / 2 - 1] + it[n / 2]) / 2.0;
}

/*
 * The workload runs in a lean process forked before anything is loaded:
 * fork's cost grows with the parent's mappings (the ring's 16 MiB, libbpf),
 * and a watched program does not carry them.  It is pinned to one CPU and
 * runs blocks on request over a pair of pipes.
 */
struct runner {
	pid_t pid;
	int cmd, res;		/* write commands, read results */
};
struct block_cmd {
	int workload;
	uint64_t block_ns;
};
struct block_res {
	double ns;		/* median per iteration, or -errno */
	double mean_ns;
	long iterations;
};

static int runner_start(struct runner *rn, int cpu)
{
	struct rlimit no_core = { 0, 0 };
	int c[2], r[2];
	cpu_set_t set;

	if (pipe2(c, O_CLOEXEC) || pipe2(r, O_CLOEXEC))
		return -errno;
	rn->pid = fork();
	if (rn->pid < 0)
		return -errno;
	if (rn->pid == 0) {
		struct block_cmd bc;
		struct block_res br;

		/* Its children inherit both: one CPU, no core files. */
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) || setrlimit(RLIMIT_CORE, &no_core))
			_exit(1);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(c[1]);
		close(r[0]);
		while (read(c[0], &bc, sizeof(bc)) == sizeof(bc)) {
			br.iterations = 0;
			br.mean_ns = 0;
			br.ns = run_block_here(bc.workload, bc.block_ns, &br.iterations, &br.mean_ns);
			if (write(r[1], &br, sizeof(br)) != sizeof(br))
				break;
		}
		_exit(0);
	}
	close(c[0]);
	close(r[1]);
	rn->cmd = c[1];
	rn->res = r[0];
	return 0;
}

static double run_block(struct runner *rn, enum workload w, uint64_t block_ns, long *iterations,
			double *mean_ns)
{
	struct block_cmd bc = { .workload = w, .block_ns = block_ns };
	struct block_res br;

	if (write(rn->cmd, &bc, sizeof(bc)) != sizeof(bc) ||
	    read(rn->res, &br, sizeof(br)) != sizeof(br))
		return -EPIPE;
	*iterations = br.iterations;
	*mean_ns = br.mean_ns;
	return br.ns;
}

static void runner_stop(struct runner *rn)
{
	if (rn->pid <= 0)
		return;
	close(rn->cmd);
	close(rn->res);
	waitpid(rn->pid, NULL, 0);
	rn->pid = 0;
}

/* ---- phase 1: the sensors in this process ------------------------------ */

struct sensors_set {
	struct sensors *skel[NSKEL];	/* [0] as lymphd, [1] urgent_death_mask = 0, [2] wake_keyed = 0 */
	struct bpf_link *links[16];
	int nlinks;
	struct ring_buffer *rb;
	pthread_t reader;
	volatile int stop;
	volatile uint64_t records;
	int reader_cpu;
};

static int count_record(void *ctx, void *data, size_t size)
{
	struct sensors_set *s = ctx;

	(void)data;
	(void)size;
	s->records++;
	return 0;
}

/* lymphd's drain: wake on the ring (urgent record or fill mark) or after
 * 100 ms, consume everything that is there. */
static void *reader_main(void *arg)
{
	struct sensors_set *s = arg;

	if (s->reader_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(s->reader_cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!s->stop) {
		ring_buffer__poll(s->rb, 100);
		ring_buffer__consume(s->rb);
	}
	return NULL;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int sensors_open(struct sensors_set *s)
{
	int i, err;

	for (i = 0; i < NSKEL; i++) {
		struct sensors *k = sensors__open();

		if (!k)
			return -errno;
		s->skel[i] = k;
		k->rodata->want_fork = 1;
		k->rodata->want_exec = 1;
		k->rodata->wake_mark_bytes = RING_BYTES / 8;	/* as lymphd */
		k->rodata->urgent_death_mask = i == 1 ? 0 : LYMPH_URGENT_SIGNALS_DEFAULT;
		k->rodata->wake_keyed = i == 0;
		if ((err = bpf_map__set_max_entries(k->maps.events, RING_BYTES)))
			return err;
		if (libbpf_find_vmlinux_btf_id("mark_victim", BPF_TRACE_RAW_TP) < 0)
			bpf_program__set_autoload(k->progs.on_mark_victim, false);
		/* the per-syscall probes (not loaded by default): only in the
		 * skeleton of the settings that attach them */
		{
			struct bpf_program *prog;

			bpf_object__for_each_program(prog, k->obj) {
				if (prog_kind(prog) == P_SC_EXIT || prog_kind(prog) == P_SC_ENTER)
					bpf_program__set_autoload(prog, i == 0);
				if (prog_kind(prog) == P_FEXIT)
					bpf_program__set_autoload(prog, false);
			}
		}
		if (i) {
			/* one ring and one drop counter for both */
			if ((err = bpf_map__reuse_fd(k->maps.events, bpf_map__fd(s->skel[0]->maps.events))) ||
			    (err = bpf_map__reuse_fd(k->maps.drops, bpf_map__fd(s->skel[0]->maps.drops))))
				return err;
		}
		if ((err = sensors__load(k)))
			return err;
		/* forks counted, not recorded, as lymphd has them while nothing
		 * shows forks (under systemd, by default); recorded in the
		 * sensors as they were */
		k->bss->fork_records_off = i != 2;
		{
			/* lymphd's default policy in observe mode: lineages (sessions)
			 * accounted, budget 200/s, burst 400, nothing stopped */
			struct throttle_cfg tc = {
				.enabled = 1, .enforce = 0, .lineage_kind = LYMPH_LINEAGE_SESSION,
				.budget = 200, .burst = 400,
			};
			uint32_t zero = 0;

			if (bpf_map_update_elem(bpf_map__fd(k->maps.throttle_cfg), &zero, &tc, BPF_ANY))
				return -errno;
		}
		if (i == 0) {
			/* as lymphd with [quarantine] (root = no) after the
			 * first crash of this binary by root */
			struct stat st;
			struct wake_key wk = { 0 };
			uint8_t one = 1;

			if (stat("/proc/self/exe", &st))
				return -errno;
			wk.ino = st.st_ino;
			wk.dev = (uint32_t)st.st_dev;
			wk.uid = 0;
			if (bpf_map_update_elem(bpf_map__fd(k->maps.calm_keys), &wk, &one, BPF_ANY))
				return -errno;
		}
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel[0]->maps.events), count_record, s, NULL);
	if (!s->rb)
		return -errno;
	if ((err = pthread_create(&s->reader, NULL, reader_main, s)))
		return -err;
	return 0;
}

static void sensors_detach(struct sensors_set *s)
{
	while (s->nlinks > 0)
		bpf_link__destroy(s->links[--s->nlinks]);
}

static int sensors_attach(struct sensors_set *s, int st)
{
	struct bpf_program *prog;
	int which = skel_of(st);

	sensors_detach(s);
	bpf_object__for_each_program(prog, s->skel[which]->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		/* lymphd attaches the refused-fork probe only while armed */
		if (!attached_in(prog, st))
			continue;
		if (s->nlinks == (int)(sizeof(s->links) / sizeof(s->links[0]))) {
			sensors_detach(s);
			return -E2BIG;
		}
		l = bpf_program__attach(prog);
		if (!l) {
			int err = -errno;

			sensors_detach(s);
			return err;
		}
		s->links[s->nlinks++] = l;
	}
	return 0;
}

/*
 * The sensors' own run time (kernel.bpf_stats: run_time_ns, run_cnt summed
 * over the programs of skeleton `which`).  It includes queueing a wakeup
 * (bpf_ringbuf_submit's irq_work), not the interrupt that delivers it.
 * Counted for every process on the host, so per iteration it is an upper
 * bound for the workload.
 */
#define MAX_PROGS 32	/* programs in sensors.bpf.c, for the split per probe */
struct prog_time {
	uint64_t ns, cnt;
};

/* The same per program, by its index in the object (the same in every
 * skeleton), into per[MAX_PROGS] when not NULL. */
static void sensors_runtime(struct sensors_set *s, int which, uint64_t *ns, uint64_t *cnt,
			    uint64_t *sx_ns, struct prog_time *per)
{
	struct bpf_program *prog;
	int idx = -1;

	*ns = *cnt = *sx_ns = 0;
	bpf_object__for_each_program(prog, s->skel[which]->obj) {
		struct bpf_prog_info info = { 0 };
		uint32_t len = sizeof(info);

		idx++;
		if (!bpf_program__autoload(prog) ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		if (per && idx < MAX_PROGS) {
			per[idx].ns = info.run_time_ns;
			per[idx].cnt = info.run_cnt;
		}
		/* the refused-fork probe: apart (on sys_exit, it runs at
		 * every system call of the host) */
		if (prog_kind(prog) == P_RAW_EXIT || prog_kind(prog) == P_SC_EXIT) {
			*sx_ns += info.run_time_ns;
			continue;
		}
		*ns += info.run_time_ns;
		*cnt += info.run_cnt;
	}
}

static uint64_t sensors_drops(struct sensors_set *s)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	uint64_t v[ncpu > 0 ? ncpu : 1], sum = 0;
	uint32_t zero = 0;

	if (ncpu <= 0 || bpf_map_lookup_elem(bpf_map__fd(s->skel[0]->maps.drops), &zero, v))
		return UINT64_MAX;
	for (i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

static void sensors_close(struct sensors_set *s)
{
	sensors_detach(s);
	if (s->rb) {
		s->stop = 1;
		pthread_join(s->reader, NULL);
		ring_buffer__consume(s->rb);
		ring_buffer__free(s->rb);
	}
	sensors__destroy(s->skel[2]);
	sensors__destroy(s->skel[1]);
	sensors__destroy(s->skel[0]);
}

/* ---- main -------------------------------------------------------------- */

/* Where the probes' run time goes: per program, per iteration (bpf_stats;
 * under qemu -icount, instructions). */
static char prog_names[MAX_PROGS][64];	/* by index in the object */

static void print_split(enum workload w, int st, const struct prog_time *acc, uint64_t iters)
{
	static const char *const label[NPHASE1] = {
		[ATTACHED] = "attached", [EVERY] = "every death wakes", [BATCHED] = "batched",
		[ARMED_RAW] = "armed raw", [ARMED_SC] = "armed per-syscall", [CALLS] = "calls",
		[CALLS_SC] = "calls and refusals",
	};
	int idx;

	if (!iters)
		return;
	printf("#   %s, %s, per probe and iteration (bpf_stats):", workload_name[w], label[st]);
	for (idx = 0; idx < MAX_PROGS; idx++) {
		if (!acc[idx].cnt)
			continue;
		printf(" %s %.2f us x%.2f (%.0f ns a run);", prog_names[idx],
		       (double)acc[idx].ns / iters / 1000, (double)acc[idx].cnt / iters,
		       (double)acc[idx].ns / acc[idx].cnt);
	}
	printf("\n");
}

/* Two blocks of the same setting agree within 1 %. */
static int control_quiet(const struct ratio_stats *c)
{
	return c->n && fabs(c->median - 1) <= 0.01 && c->se <= 0.01;
}

/*
 * One ratio as a figure: "median +- se (min)".  The verdict is ok or MISS
 * only when the median is more than two standard errors from the target;
 * otherwise the host was too noisy to tell.
 */
static void ratio_figure_to(const char *what, enum workload w, const struct ratio_stats *rs,
			    const struct ratio_stats *control, double target)
{
	char name[160], val[64], tgt[32];
	const char *verdict;

	if (!rs->n)
		return;
	snprintf(name, sizeof(name), "overhead %s: %s, ratio", workload_name[w], what);
	/* under qemu -icount (bench/overhead-vm) the error is below 0.001 */
	snprintf(val, sizeof(val), rs->se < 0.0005 ? "%.3f +- %.4f (min %.3f)" : "%.3f +- %.3f (min %.3f)",
		 rs->median, rs->se, rs->min);
	snprintf(tgt, sizeof(tgt), rs == control ? "1 +- 0.01" : "<= %.2f", target);
	if (target <= 0) {
		/* a reference point (what lymph did before), no setting of lymph's */
		bench_figure(name, val, "-", "reference");
		return;
	}
	if (rs->n < MIN_GROUPS) {
		/* the interquartile range of fewer says nothing */
		bench_figure(name, val, tgt, "too few groups");
		return;
	}
	if (rs == control) {
		/* same setting twice: how far apart a quiet host keeps them */
		bench_figure(name, val, "1 +- 0.01", control_quiet(rs) ? "ok" : "noisy host");
		return;
	}
	/* "ok" also needs a quiet control: on a noisy host a setting can look
	 * cheaper than nothing */
	if (rs->median + 2 * rs->se <= target && control_quiet(control))
		verdict = "ok";
	else if (rs->median - 2 * rs->se > target)
		verdict = "MISS";
	else
		verdict = "too noisy";
	bench_figure(name, val, tgt, verdict);
}

static void ratio_figure(const char *what, enum workload w, const struct ratio_stats *rs,
			 const struct ratio_stats *control)
{
	ratio_figure_to(what, w, rs, control, TARGET_RATIO);
}

/* lymphd's policy file (bench_lymphd_init made it empty). */
static int write_policy(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(text, f) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* -S: phase 1's settings by name, comma-separated, added to *mask
 * (detached and its control always; -S may be repeated). */
static int parse_settings(const char *list, unsigned int *mask)
{
	static const char *const names[NPHASE1] = {
		[ATTACHED] = "attached", [EVERY] = "every", [BATCHED] = "batched",
		[ARMED_RAW] = "armed-raw", [ARMED_SC] = "armed-sc", [CALLS] = "calls",
		[CALLS_SC] = "calls-sc",
	};
	char buf[256], *tok, *save = NULL;
	int i;

	*mask |= (1u << DETACHED) | (1u << CONTROL);
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = ATTACHED; i < NPHASE1 && strcmp(tok, names[i]); i++)
			;
		if (i == NPHASE1) {
			fprintf(stderr, "overhead: -S %s: no setting '%s' (attached, every, batched, "
				"armed-raw, armed-sc, calls, calls-sc)\n", list, tok);
			return -1;
		}
		*mask |= 1u << i;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *build = "build", *before = NULL;
	int block_ms = 40, rounds = 5, blocks = 54, cpu = -1, with_lymphd = 1, c, err = 0;
	int no_stats = 0, nphase1, settings_given = 0;
	const char *policy = "";	/* lymphd's (-P: [throttle] and [quarantine]) */
	unsigned int phase1 = (1u << NPHASE1) - 1;	/* the settings of phase 1 */
	unsigned int workloads = (1u << NWORKLOADS) - 1;
	static double sc_vs_raw[NWORKLOADS][4096], calls_vs_att[NWORKLOADS][4096];
	int nsc_vs_raw[NWORKLOADS] = { 0 };
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), other_cpu;
	struct sensors_set s = { .reader_cpu = -1 };
	struct bench_lymphd l = { 0 }, lb = { 0 };
	static const char *const lymphd_args[] = { "--quiet", "--source=bpf", NULL };
	struct runner rn = { 0 };
	long iters;
	double mean;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	/* per workload, per setting: every block's ns/iteration; and ratios */
	static double cost[NWORKLOADS][NSETTINGS][4096];
	static double ratio[NWORKLOADS][NSETTINGS][4096];
	static double ratio_mean[NWORKLOADS][NSETTINGS][4096];	/* the same from block means */
	int ncost[NWORKLOADS][NSETTINGS] = { { 0 } }, nratio[NWORKLOADS][NSETTINGS] = { { 0 } };
	/* [1]: the -B build's lymphd */
	uint64_t lymphd_cpu_ns[NWORKLOADS][2] = { { 0 } }, lymphd_iters[NWORKLOADS][2] = { { 0 } };
	/* bpf_stats over the attached blocks: probe ns, probe runs, iterations */
	uint64_t probe_ns[NWORKLOADS][NSETTINGS] = { { 0 } }, probe_runs[NWORKLOADS][NSETTINGS] = { { 0 } };
	uint64_t probe_iters[NWORKLOADS][NSETTINGS] = { { 0 } };
	uint64_t sysexit_ns[NWORKLOADS][NSETTINGS] = { { 0 } };	/* the sys_exit probe, host-wide */
	static struct prog_time prog_acc[NWORKLOADS][NPHASE1][MAX_PROGS];	/* the same per program */
	int stats_fd;
	uint64_t lymphd_drops[2] = { 0 }, lymphd_deaths[2] = { 0 };
	int group, r, w, i;
	cpu_set_t set;

	while ((c = getopt(argc, argv, "d:B:m:r:b:c:s:LPaS:w:N")) != -1) {
		switch (c) {
		case 'd': build = optarg; break;
		case 'B': before = optarg; break;
		case 'm': block_ms = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'b': blocks = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'L': with_lymphd = 0; break;
		case 'P': policy = "[throttle]\n\n[quarantine]\n"; break;
		case 'a': phase1 &= ~((1u << EVERY) | (1u << BATCHED)); break;
		case 'S':
			if (!settings_given++)
				phase1 = 0;
			if (parse_settings(optarg, &phase1))
				return 2;
			break;
		case 'N': no_stats = 1; break;
		case 'w': workloads = (unsigned int)strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: overhead [-d BUILD_DIR] [-B OTHER_BUILD] [-m BLOCK_MS] [-r ROUNDS] "
				"[-b BLOCKS] [-c CPU] [-s SEED] [-L | -P] [-a | -S SETTING,...] [-N] [-w WORKLOAD_MASK]\n");
			return 2;
		}
	}
	{
		/* The settings on the fork calls' own tracepoints need tracefs
		 * (their ids), mounted where nobody did, as lymphd does. */
		const unsigned int sc = (1u << ARMED_SC) | (1u << CALLS) | (1u << CALLS_SC);
		int mounted = tracefs_ensure();

		if (mounted > 0)
			printf("# overhead: no tracefs was mounted: mounted it on " TRACEFS_DIR "\n");
		if ((phase1 & sc) && access(TRACEFS_DIR "/events/syscalls/sys_enter_clone/id", R_OK) &&
		    access("/sys/kernel/debug/tracing/events/syscalls/sys_enter_clone/id", R_OK)) {
			printf("# overhead: the kernel lists no syscalls:sys_enter_clone in tracefs (%s): "
			       "armed-sc, calls and calls-sc left out\n",
			       mounted < 0 ? strerror(-mounted) : "no syscall tracepoints");
			phase1 &= ~sc;
		}
	}
	nphase1 = __builtin_popcount(phase1);
	if (!(workloads & ((1u << NWORKLOADS) - 1)) || (workloads >> NWORKLOADS)) {
		fprintf(stderr, "overhead: bad -w mask (1 fork+_exit, 2 fork+exec, 4 fork+crash, 8 getppid)\n");
		return 2;
	}
	if (block_ms < 1 || block_ms > 10000 || rounds < 1 || blocks < nphase1 ||
	    rounds * blocks > 4000 || (cpu >= ncpu)) {
		fprintf(stderr, "overhead: bad -m/-r/-b/-c value\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "overhead: must run as root (it loads BPF programs)\n");
		return 1;
	}
	if (cpu < 0)
		cpu = ncpu - 1;
	other_cpu = ncpu > 1 ? (cpu + ncpu - 1) % ncpu : -1;
	rng_state = seed ? seed : 1;
	s.reader_cpu = other_cpu;

	/* The workload on its CPU, this process (attach, detach) off it. */
	signal(SIGPIPE, SIG_IGN);	/* a dead runner is an error, not a death */
	err = runner_start(&rn, cpu);
	if (err) {
		fprintf(stderr, "overhead: failed to start the workload process: %s\n", strerror(-err));
		return 1;
	}
	if (other_cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(other_cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	libbpf_set_print(libbpf_quiet);
	/* Programs' run time statistics, while this fd is open. */
	stats_fd = no_stats ? -1 : bpf_enable_stats(BPF_STATS_RUN_TIME);
	err = sensors_open(&s);
	if (err) {
		fprintf(stderr, "overhead: failed to load the sensors: %s\n", strerror(-err));
		sensors_close(&s);
		runner_stop(&rn);
		return 1;
	}

	{
		struct bpf_program *prog;
		int idx = 0;

		bpf_object__for_each_program(prog, s.skel[0]->obj)
			if (idx < MAX_PROGS)
				snprintf(prog_names[idx++], sizeof(prog_names[0]), "%s", bpf_program__name(prog));
	}
	printf("# overhead: workload on cpu %d, reader/lymphd on cpu %d, %d ms blocks, "
	       "%d rounds x %d blocks per workload, seed %llu\n", cpu, other_cpu, block_ms,
	       rounds, blocks, (unsigned long long)seed);
	bench_warn_other_lymphd(0);
	fflush(stdout);

	/* Phase 1: groups of {detached, control, attached, every, batched,
	 * armed raw, armed per-syscall, calls, calls and refusals} (-a:
	 * without every and batched) in random order. */
	for (r = 0; r < rounds && !err; r++) {
		for (w = 0; w < NWORKLOADS && !err; w++) {
			if (!(workloads & (1u << w)))
				continue;
			for (group = 0; group < blocks / nphase1 && !err; group++) {
				int order[NPHASE1], n = 0;
				double g[NSETTINGS], gm[NSETTINGS];

				for (i = 0; i < NPHASE1; i++)
					if (phase1 & (1u << i))
						order[n++] = i;
				shuffle(order, n);
				for (i = 0; i < n && !err; i++) {
					int st = order[i];
					uint64_t pns0 = 0, pcnt0 = 0, pns1, pcnt1, sx0 = 0, sx1;
					struct prog_time per0[MAX_PROGS] = { { 0 } }, per1[MAX_PROGS] = { { 0 } };
					double ns;
					int p;

					if (st == DETACHED || st == CONTROL)
						sensors_detach(&s);
					else
						err = sensors_attach(&s, st);
					if (err) {
						fprintf(stderr, "overhead: failed to attach the sensors: %s\n",
							strerror(-err));
						break;
					}
					if (st != DETACHED && st != CONTROL)
						sensors_runtime(&s, skel_of(st), &pns0, &pcnt0, &sx0, per0);
					ns = run_block(&rn, w, (uint64_t)block_ms * 1000000ULL, &iters, &mean);
					if (ns >= 0 && st != DETACHED && st != CONTROL) {
						sensors_runtime(&s, skel_of(st), &pns1, &pcnt1, &sx1, per1);
						for (p = 0; p < MAX_PROGS; p++) {
							prog_acc[w][st][p].ns += per1[p].ns - per0[p].ns;
							prog_acc[w][st][p].cnt += per1[p].cnt - per0[p].cnt;
						}
						probe_ns[w][st] += pns1 - pns0;
						sysexit_ns[w][st] += sx1 - sx0;
						probe_runs[w][st] += pcnt1 - pcnt0;
						probe_iters[w][st] += iters;
					}
					if (ns < 0) {
						err = (int)ns;
						fprintf(stderr, "overhead: %s failed: %s\n", workload_name[w],
							strerror(-err));
						break;
					}
					g[st] = ns;
					gm[st] = mean;
					cost[w][st][ncost[w][st]++] = ns;
				}
				for (i = CONTROL; i < NPHASE1 && !err; i++) {
					if (!(phase1 & (1u << i)))
						continue;
					ratio_mean[w][i][nratio[w][i]] = gm[i] / gm[DETACHED];
					ratio[w][i][nratio[w][i]++] = g[i] / g[DETACHED];
				}
				if (!err && (phase1 & (1u << ARMED_SC)) && (phase1 & (1u << ARMED_RAW)) &&
				    (phase1 & (1u << CALLS))) {
					/* the two armed probes side by side, and
					 * the fork call probes on top of the sensors */
					sc_vs_raw[w][nsc_vs_raw[w]] = g[ARMED_SC] / g[ARMED_RAW];
					calls_vs_att[w][nsc_vs_raw[w]++] = g[CALLS] / g[ATTACHED];
				}
			}
		}
	}
	sensors_detach(&s);
	{
		uint64_t drops = sensors_drops(&s);

		printf("# phase 1: the reader drained %llu records, the sensors dropped %llu\n",
		       (unsigned long long)s.records, (unsigned long long)drops);
		if (drops)
			err = err ? err : -ENOBUFS;
	}
	sensors_close(&s);
	if (stats_fd >= 0)
		close(stats_fd);

	/* Phase 2: pairs of {no lymphd, lymphd running}, 5x longer blocks,
	 * a tenth as many (lymphd takes ~0.3 s to start). */
	if (with_lymphd && !err && ((err = bench_lymphd_init(&l, build, "overhead", other_cpu)) ||
				    (before && (err = bench_lymphd_init(&lb, before, "overhead-b", other_cpu)))))
		fprintf(stderr, "overhead: failed to make a directory for lymphd: %s\n", strerror(-err));
	if (with_lymphd && !err && *policy &&
	    ((err = write_policy(l.conf, policy)) || (before && (err = write_policy(lb.conf, policy)))))
		fprintf(stderr, "overhead: failed to write lymphd's policy in %s: %s\n", l.conf, strerror(-err));
	if (with_lymphd && !err) {
		int pairs = blocks / 18 > 2 ? blocks / 18 : 2;	/* 3 by default, as before */

		for (r = 0; r < rounds && !err; r++) {
			for (w = 0; w < NWORKLOADS && !err; w++) {
				if (!(workloads & (1u << w)))
					continue;
				for (group = 0; group < pairs && !err; group++) {
					int order[3] = { DETACHED, LYMPHD, LYMPHD_B }, nst = before ? 3 : 2;
					double g[NSETTINGS], gm[NSETTINGS];

					shuffle(order, nst);
					for (i = 0; i < nst && !err; i++) {
						int st = order[i], b = st == LYMPHD_B;
						struct bench_lymphd *lp = b ? &lb : &l;
						uint64_t c0 = 0;
						double ns;

						if (st != DETACHED) {
							if ((err = bench_lymphd_start(lp, lymphd_args))) {
								fprintf(stderr, "overhead: lymphd did not start\n");
								break;
							}
							bench_lymphd_settle(lp, 5000);
							c0 = bench_cpu_ns(lp->pid);
						}
						ns = run_block(&rn, w, (uint64_t)block_ms * 5000000ULL, &iters, &mean);
						if (ns < 0) {
							err = (int)ns;
							bench_lymphd_stop(lp);
							break;
						}
						if (st != DETACHED) {
							struct json_object *o;

							/* > 250 ms: lymphd's timer drains what is batched */
							usleep(300000);
							lymphd_cpu_ns[w][b] += bench_cpu_ns(lp->pid) - c0;
							lymphd_iters[w][b] += iters;
							o = bench_lymphd_status(lp);
							lymphd_drops[b] += bench_status_u64(o, "drops");
							lymphd_deaths[b] += bench_status_u64(o, "death");
							json_object_put(o);
							bench_lymphd_stop(lp);
						}
						g[st] = ns;
						gm[st] = mean;
						cost[w][st][ncost[w][st]++] = ns;
					}
					for (i = LYMPHD; i < LYMPHD + nst - 1 && !err; i++) {
						ratio_mean[w][i][nratio[w][i]] = gm[i] / gm[DETACHED];
						ratio[w][i][nratio[w][i]++] = g[i] / g[DETACHED];
					}
				}
			}
		}
		bench_lymphd_stop(&l);
		bench_lymphd_stop(&lb);
	}
	if (with_lymphd) {
		bench_lymphd_cleanup(&l);
		bench_lymphd_cleanup(&lb);
	}
	runner_stop(&rn);
	if (err) {
		fprintf(stderr, "overhead: stopped early: %s\n", strerror(-err));
		return 1;
	}

	/* Report. */
	printf("# a block's cost: the median of its iterations; cost: median over blocks; ratio: to "
	       "the detached block of the same group, median +- its standard error [min, max]; "
	       "mean-based: the same ratio from the blocks' mean iteration times\n");
	for (w = 0; w < NWORKLOADS; w++) {
		static const char *const label[NSETTINGS] = {
			"detached", "control (detached again)", "attached", "every death wakes",
			"batched deaths", "armed, raw sys_exit", "armed, syscalls:sys_exit_*",
			"fork calls (sys_enter_*)", "calls and refusals", "lymphd running",
			"lymphd (-B) running",
		};
		struct ratio_stats rs[NSETTINGS];
		int st;

		for (st = 0; st < NSETTINGS; st++) {
			double md = ncost[w][st] ? bench_median(cost[w][st], ncost[w][st]) / 1000 : 0;

			rs[st] = ratio_stats(ratio[w][st], nratio[w][st]);
			if (!ncost[w][st])
				continue;
			printf("#   %-15s %-25s %8.1f us", workload_name[w], label[st], md);
			if (rs[st].n) {
				struct ratio_stats rm = ratio_stats(ratio_mean[w][st], nratio[w][st]);

				printf("   ratio %.3f +- %.3f [%.3f, %.3f] (%d groups)   mean-based %.3f +- %.3f",
				       rs[st].median, rs[st].se, rs[st].min, ratio[w][st][rs[st].n - 1],
				       rs[st].n, rm.median, rm.se);
			}
			printf("\n");
		}
		ratio_figure("control, detached twice", w, &rs[CONTROL], &rs[CONTROL]);
		ratio_figure("sensors attached", w, &rs[ATTACHED], &rs[CONTROL]);
		/* no setting of lymphd's since calm_keys: what they saved */
		ratio_figure_to("every death wakes (before calm_keys)", w, &rs[EVERY], &rs[CONTROL], 0);
		ratio_figure("deaths batched (urgent_death_mask=0)", w, &rs[BATCHED], &rs[CONTROL]);
		ratio_figure("sensors with the refused-fork probe on raw_syscalls:sys_exit (armed)", w,
			     &rs[ARMED_RAW], &rs[CONTROL]);
		ratio_figure("sensors with the refused-fork probe on syscalls:sys_exit_{clone,clone3,"
			     "fork,vfork} (armed)", w, &rs[ARMED_SC], &rs[CONTROL]);
		ratio_figure("sensors with the fork call probes on syscalls:sys_enter_{clone,clone3,"
			     "fork,vfork}", w, &rs[CALLS], &rs[CONTROL]);
		ratio_figure("sensors with the fork call and refused-fork probes on syscalls:"
			     "sys_{enter,exit}_{clone,clone3,fork,vfork}", w, &rs[CALLS_SC], &rs[CONTROL]);
		if (nsc_vs_raw[w]) {
			struct ratio_stats sv = ratio_stats(sc_vs_raw[w], nsc_vs_raw[w]);
			char name[160], val[64];

			snprintf(name, sizeof(name), "overhead %s: armed, per-syscall probes to raw sys_exit "
				 "probe, ratio", workload_name[w]);
			snprintf(val, sizeof(val), "%.3f +- %.3f (min %.3f)", sv.median, sv.se, sv.min);
			bench_figure(name, val, "< 1", sv.median + 2 * sv.se < 1 ? "cheaper" :
				     sv.median - 2 * sv.se > 1 ? "dearer" : "too noisy");
			sv = ratio_stats(calls_vs_att[w], nsc_vs_raw[w]);
			snprintf(name, sizeof(name), "overhead %s: fork call probes (sys_enter_*) on top of "
				 "the sensors attached, ratio", workload_name[w]);
			snprintf(val, sizeof(val), "%.3f +- %.3f (min %.3f)", sv.median, sv.se, sv.min);
			bench_figure(name, val, "1 +- noise", sv.median - 2 * sv.se > 1 ? "dearer" :
				     sv.median + 2 * sv.se < 1 ? "cheaper" : "within noise");
		}
		for (st = ATTACHED; st < NPHASE1 && stats_fd >= 0; st++) {
			static const char *const what[NPHASE1] = {
				[EVERY] = ", every death wakes", [BATCHED] = ", deaths batched",
				[ARMED_RAW] = ", armed (raw sys_exit)",
				[ARMED_SC] = ", armed (syscalls:sys_exit_*)",
				[CALLS] = ", fork call probes (sys_enter_*)",
				[CALLS_SC] = ", fork call and refused-fork probes (sys_{enter,exit}_*)",
			};
			double per_it = probe_iters[w][st] ? (double)probe_ns[w][st] / probe_iters[w][st] : 0;
			double share = ncost[w][DETACHED] ? per_it / (bench_median(cost[w][DETACHED], ncost[w][DETACHED])) : 0;
			char name[160], val[96];

			if (!rs[st].n)
				continue;
			snprintf(name, sizeof(name), "overhead %s: probes' own run time per iteration%s (bpf_stats, "
				 "refused-fork probe apart)",
				 workload_name[w], what[st] ? what[st] : "");
			snprintf(val, sizeof(val), "%.2f us = %.2f %% (%.1f probe runs)", per_it / 1000,
				 share * 100, probe_iters[w][st] ? (double)probe_runs[w][st] / probe_iters[w][st] : 0);
			if (st == EVERY)
				bench_figure(name, val, "-", "reference");
			else
				bench_figure(name, val, "<= 2 %", share <= TARGET_RATIO - 1 ? "ok" : "MISS");
			print_split(w, st, prog_acc[w][st], probe_iters[w][st]);
			if (st != EVERY && st != ARMED_RAW && st != ARMED_SC && st != CALLS_SC)
				continue;
			/* the refused-fork probe, while attached: on sys_exit,
			 * every system call on the host, so an upper bound for
			 * the workload's share */
			per_it = probe_iters[w][st] ? (double)sysexit_ns[w][st] / probe_iters[w][st] : 0;
			share = ncost[w][DETACHED] ? per_it / (bench_median(cost[w][DETACHED], ncost[w][DETACHED])) : 0;
			snprintf(name, sizeof(name), "overhead %s: %s probe's run time per iteration, "
				 "host-wide (bpf_stats)", workload_name[w],
				 st == ARMED_SC ? "syscalls:sys_exit_{clone,...}" :
				 st == CALLS_SC ? "syscalls:sys_exit_{clone,...} (with the call probes)" :
				 st == ARMED_RAW ? "sys_exit" : "sys_exit (every death wakes)");
			snprintf(val, sizeof(val), "%.2f us = %.2f %%", per_it / 1000, share * 100);
			if (st == EVERY) /* the sensors as they were: a reference */
				bench_figure(name, val, "-", "reference");
			else
				bench_figure(name, val, "<= 2 %", share <= TARGET_RATIO - 1 ? "ok" : "MISS");
		}
		for (st = LYMPHD; st <= LYMPHD_B; st++) {
			int b = st == LYMPHD_B;
			char name[160], val[64];

			if (!rs[st].n)
				continue;
			snprintf(name, sizeof(name), "lymphd%s running%s", b ? " of -B build" : "",
				 *policy ? " ([throttle] and [quarantine])" : "");
			ratio_figure_to(name, w, &rs[st], &rs[CONTROL], LYMPHD_TARGET);
			snprintf(name, sizeof(name), "overhead %s: lymphd%s CPU per iteration, on its own CPU",
				 workload_name[w], b ? " of -B build" : "");
			snprintf(val, sizeof(val), "%.1f us",
				 lymphd_iters[w][b] ? (double)lymphd_cpu_ns[w][b] / lymphd_iters[w][b] / 1000 : 0);
			bench_figure(name, val, "", "-");
		}
	}
	for (i = 0; with_lymphd && i < (before ? 2 : 1); i++) {
		char val[64];

		snprintf(val, sizeof(val), "%llu (of %llu deaths)", (unsigned long long)lymphd_drops[i],
			 (unsigned long long)lymphd_deaths[i]);
		bench_figure(i ? "overhead: records lymphd of -B build dropped while running" :
			     "overhead: records lymphd dropped while running", val, "0",
			     lymphd_drops[i] ? "MISS" : "ok");
	}
	return 0;
}
