// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/forkbomb: containment of fork bombs (every process forks forever,
 * children included; an unprivileged uid, a session of its own) by lymph's
 * clone-storm throttle (BPF path: the probe stops the forker and its child,
 * lymphd holds the clone family stopped in a nested pids cgroup) versus by
 * a pids cgroup cap alone (pids.max 400, no lymphd).  The variants an
 * attacker tries (tests/progs/forkbomb.c, compiled at start): plain
 * (`while (1) fork();`), setsid (each child a session of its own), pgrp,
 * double (each child double-forks and is reparented), subcg (each child
 * moves to a cgroup of its own under a delegated one), vfork, threads,
 * shell (the shell function bomb, `b() { b | b & }; b`, in a shell with
 * bench/progs/forknote.c preloaded, which notes its forks and exits as
 * the C bomb does; a shell that cannot preload it, static busybox, has
 * its tasks and time to contain from the cgroup, sampled every 10 ms,
 * from when it first had more than a burst alive), slow (one new task
 * that stays every 11 ms: 90 a second against a budget of 50, over
 * budget after about 2.5 s; it storms 8 s).
 * For each:
 *
 *   - tasks the bomb created before it was contained;
 *   - time to contain: from its first fork over budget (the first attempt
 *     the throttle's token bucket refuses, replayed on the bomb's own times:
 *     every attempt to fork is charged, made or refused, noted before it
 *     is made, and every exit gives a token back, as in lymph's bucket;
 *     tests/progs/bomb_stats.h) to its last successful fork; for the cap
 *     alone, from its start to its last fork;
 *   - an interactive probe (fork + exec /bin/true in a loop, as uid 1001,
 *     each round timed) during the storm, as a ratio of its latency at idle
 *     (medians; idle measured the same way just before, lymphd running);
 *   - lymphd's CPU time over the storm (/proc/PID/schedstat): mostly what
 *     containing the bomb cost it (its walks of /proc, the moves);
 *   - with -k, for a run whose bomb forked 100 ms or more after its first
 *     fork over budget: lymphd's throttle journal (pin, lifts, end), in ms
 *     after that fork.
 *
 * Targets (lymph): under 500 tasks, contained within 100 ms, probe within
 * 2x of idle.  Prints "figure" lines for bench/run-all and '#' detail lines.
 *
 * Safety: each storm lives in a pids cgroup of its own (pids.max 1000:
 * the cap alone *is* that cgroup) that is frozen (pids.max 0), killed until
 * empty and removed after each run; a watchdog process in its own session
 * does the same if the bench dies first, or after 60 s whatever happens.
 * The storm is killed before lymphd is stopped (lymphd's stop lets a held
 * lineage loose).  Runs are sequential: never two storms at once.
 *
 *   forkbomb [-d BUILD_DIR] [-F FAMTRACE_BPF_O] [-k [-K A.ko:B.ko]] [-n RUNS] [-N FORKNOTE_SO] [-p BOMB_PROG]
 *            [-s STORM_MS] [-S SHELL] [-v VARIANT]
 *
 * Root.  lymph: RUNS rounds (default 1) of every variant (or only -v
 * VARIANT), STORM_MS each (default 3000); figures are the medians of the
 * runs, with their range; the cap alone, the reference, runs once with
 * the plain bomb at the end, until 1 s after the cap is reached (at most
 * 10 s).  About a minute a round.  -k: against lymph.ko (loaded
 * already; lymphd --source=kmod, the module in observe mode for the cap
 * alone), as bench/forkbomb-vm runs it in the VM; -K A.ko:B.ko: with
 * module A and module B by turns (rmmod, insmod before each run, the
 * order swapped every round), B's figures as "lymph.ko B" (bench/forkbomb-vm
 * -B OTHER_BUILD).  -p, -N: the bomb and
 * forknote.so built already (else compiled here with cc); -S: the shell
 * bomb's shell (default /bin/sh).
 */
#include <getopt.h>
#include <grp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <limits.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include "bench.h"
#define TH_NO_HARNESS
#include "helpers.h"
#include "storm_helpers.h"

/* Unusual uids: other tests on the host storm as 1000 and 1001, and a
 * lymphd of theirs throttling per uid would hold this bench's bomb too. */
#define BOMB_UID	61000
#define PROBE_UID	61001
#define CAP		400	/* the cgroup cap, and every run's backstop */
#define BUDGET		50
#define BURST		100
#define PROBE_MAX	20000

struct probe_log {
	uint64_t stop;			/* set by the bench: end the loop */
	uint64_t n;
	uint64_t lat_ns[PROBE_MAX];
	uint64_t at_ns[PROBE_MAX];	/* when each round started */
};

static char build_dir[1024] = "build";
static char bomb_prog[PATH_MAX];	/* tests/progs/forkbomb.c, compiled */
static char note_lib[PATH_MAX];		/* bench/progs/forknote.c, compiled ("": none) */
static char stats_path[PATH_MAX];
static const char *shell_prog = "/bin/sh";
static int kmod;			/* lymphd --source=kmod: lymph.ko holds the bombs */
static char ko_a[PATH_MAX], ko_b[PATH_MAX];	/* -K A.ko:B.ko: the two, run by turns */

/* lymph.ko from @path in place of the loaded one (-K).  0 or -1. */
static int kmod_swap(const char *path)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "rmmod lymph 2>/dev/null; insmod '%s'", path);
	if (system(cmd)) {
		fprintf(stderr, "forkbomb: failed to load %s\n", path);
		return -1;
	}
	return 0;
}

static const char *const variants[] = { "plain", "setsid", "pgrp", "double", "subcg", "vfork",
					"threads", "shell", "slow" };
/* The shell bomb, a function that pipes itself into itself: no counters
 * of its own, so its figures come from the cgroup, sampled every 10 ms. */
#define SHELL_BOMB "b() { b | b & }; b; wait"
/* The slow bomb (90 a second against a budget of 50, a burst of 100)
 * overdraws after about 2.5 s, at some 225 tasks: it storms 8 s at least
 * (nearer its budget, it would reach the cap of 400 first). */
#define SLOW_STORM_MS 8000
#define N_VARIANTS (sizeof(variants) / sizeof(variants[0]))
#define KMOD_MODE "/sys/kernel/lymph/mode"

/* ---- the storm's cgroup ------------------------------------------------- */

/* The storm's cgroup and its watchdog are the tests' backstop
 * (tests/storm_helpers.c, in libth.a): storm_cg_create, storm_cg_destroy. */

/* Any cgroup below dir?  (A lymphd's hold: lymph.hold.KIND.ID.) */
static int shown;	/* running tasks described, per run */
static int vfork_waits;	/* vfork parents waiting for their child, per run */

/*
 * Tasks in the tree at dir neither stopped nor zombies.  Not counted: a
 * vfork parent asleep (D) in kernel_clone until its child execs or exits,
 * which cannot run while its child is stopped (counted in vfork_waits).
 */
static int count_running(const char *dir, int depth)
{
	char p[PATH_MAX + 32], stat[512], *rp;
	struct dirent *de;
	int n = 0, pid;
	FILE *f;
	DIR *d;

	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	f = fopen(p, "re");
	while (f && fscanf(f, "%d", &pid) == 1) {
		FILE *st;

		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		st = fopen(p, "re");
		if (st && fgets(stat, sizeof(stat), st) && (rp = strrchr(stat, ')')) &&
		    rp[1] && !strchr("TtZX", rp[2])) {
			char wchan[64] = "";
			FILE *w;

			snprintf(p, sizeof(p), "/proc/%d/wchan", pid);
			if ((w = fopen(p, "re"))) {
				if (!fgets(wchan, sizeof(wchan), w))
					wchan[0] = 0;
				fclose(w);
			}
			if (rp[2] == 'D' && (!strcmp(wchan, "kernel_clone") ||
					     !strcmp(wchan, "wait_for_vfork_done"))) {
				vfork_waits++;
			} else {
				n++;
				/* what the first few are doing, for the report */
				if (shown++ < 4)
					printf("# running at the end: pid %d state %c in %s\n", pid,
					       rp[2], wchan[0] ? wchan : "-");
			}
		}
		if (st)
			fclose(st);
	}
	if (f)
		fclose(f);
	if (depth > 8 || !(d = opendir(dir)))
		return n;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			n += count_running(p, depth + 1);
		}
	closedir(d);
	return n;
}

static int has_subdirs(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_type == DT_DIR && de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* ---- the bomb and the probe --------------------------------------------- */

/* The bomb variant mode, in a child: into the cgroup, own session, the
 * bomb's uid; subcg children make their cgroups under cgpath/deleg. */
static pid_t start_bomb(const char *cgpath, const char *mode)
{
	char deleg[PATH_MAX + 16], procs[PATH_MAX + 32];
	pid_t pid;

	snprintf(deleg, sizeof(deleg), "%s/deleg", cgpath);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", deleg);
	if (mkdir(deleg, 0755) || chown(deleg, BOMB_UID, BOMB_UID) ||
	    chown(procs, BOMB_UID, BOMB_UID))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid != 0)
		return pid;
	if (storm__write(cgpath, "cgroup.procs", "0"))
		_exit(124);
	setsid();
	storm_become(BOMB_UID);
	if (!strcmp(mode, "shell")) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* its "Cannot fork" at the cap is not the bench's output */
		if (null >= 0 && (dup2(null, 1) < 0 || dup2(null, 2) < 0))
			_exit(126);
		/* the shell notes its forks and exits as the C bomb does */
		if (note_lib[0] && (setenv("LD_PRELOAD", note_lib, 1) ||
				    setenv("FORKNOTE_STATS", stats_path, 1)))
			_exit(126);
		execl(shell_prog, "sh", "-c", SHELL_BOMB, (char *)NULL);
	}
	else
		execl(bomb_prog, bomb_prog, stats_path, mode, deleg, (char *)NULL);
	_exit(127);
}

/* The probe, in a child: fork + exec /bin/true as uid 1001 until told. */
static pid_t start_probe(struct probe_log *log)
{
	pid_t pid;

	log->n = 0;
	__atomic_store_n(&log->stop, 0, __ATOMIC_RELAXED);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid != 0)
		return pid;
	setsid();
	storm_become(PROBE_UID);
	while (!__atomic_load_n(&log->stop, __ATOMIC_RELAXED) && log->n < PROBE_MAX) {
		uint64_t t0 = bench_now_ns();
		pid_t c = fork();

		if (c == 0) {
			char *argv[] = { "/bin/true", NULL };

			execv(argv[0], argv);
			_exit(127);
		}
		if (c < 0) {
			usleep(1000);
			continue;
		}
		waitpid(c, NULL, 0);
		log->at_ns[log->n] = t0;
		log->lat_ns[log->n] = bench_now_ns() - t0;
		__atomic_store_n(&log->n, log->n + 1, __ATOMIC_RELEASE);
	}
	_exit(0);
}

static void stop_probe(struct probe_log *log, pid_t pid)
{
	__atomic_store_n(&log->stop, 1, __ATOMIC_RELAXED);
	if (waitpid(pid, NULL, 0) != pid)
		kill(pid, SIGKILL);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_ns(uint64_t *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[n / 2];
}

static double median_d(double *v, int n)
{
	int i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n ? v[n / 2] : 0;
}

/*
 * bench/progs/forknote.c -> dir/forknote.so (found from the repository's
 * top, else next to the build directory): preloaded into the shell bomb's
 * shell, it notes the shell's forks and exits.  0 or -errno.
 */
static int build_note_lib(const char *dir)
{
	char src[PATH_MAX], out[PATH_MAX];
	char *argv[] = { "/usr/bin/cc", "-O2", "-shared", "-fPIC", "-o", out, src, "-ldl", NULL };
	struct th_cmd *r = calloc(1, sizeof(*r));
	int err = 0;

	if (!r)
		return -ENOMEM;
	snprintf(src, sizeof(src), "bench/progs/forknote.c");
	if (access(src, R_OK))
		snprintf(src, sizeof(src), "%s/../bench/progs/forknote.c", build_dir);
	snprintf(out, sizeof(out), "%s/forknote.so", dir);
	if (th_run(argv, NULL, r) || r->status != 0) {
		fprintf(stderr, "forkbomb: failed to compile %s: %s\n", src, r->err);
		err = -EIO;
	} else if (chmod(out, 0755)) {
		err = -errno;
	} else {
		snprintf(note_lib, sizeof(note_lib), "%s", out);
	}
	free(r);
	return err;
}

/* ---- lymphd --------------------------------------------------------------- */

/*
 * lymphd of the bench's own, in enforce mode with the bench's policy (not
 * bench.h's, which runs lymphd in observe mode): started, ready when it
 * names its control socket on stderr, stopped with SIGTERM.
 */
static pid_t lymphd_start(const char *dir, const char *conf)
{
	char prog[PATH_MAX], jopt[PATH_MAX + 16], sopt[PATH_MAX + 16], line[512];
	int pfd[2], ok = 0;
	pid_t pid;
	FILE *err;

	snprintf(prog, sizeof(prog), "%s/lymphd", build_dir);
	snprintf(jopt, sizeof(jopt), "--journal=%s/journal", dir);
	snprintf(sopt, sizeof(sopt), "--socket=%s/lymphd.sock", dir);
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char *argv[] = { prog, "-c", (char *)conf, jopt, sopt, "--quiet",
				 kmod ? "--source=kmod" : NULL, NULL };
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(pfd[1], 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlives the bench */
		execv(prog, argv);
		_exit(127);
	}
	close(pfd[1]);
	err = fdopen(pfd[0], "r");
	while (err && fgets(line, sizeof(line), err)) {
		if (strstr(line, "control socket")) {
			ok = strstr(line, "enforce mode") != NULL;
			if (!ok)
				fprintf(stderr, "forkbomb: lymphd is not in enforce mode: %s", line);
			break;
		}
		fprintf(stderr, "# lymphd: %s", line);
	}
	/* later lines go nowhere: lymphd ignores SIGPIPE */
	if (err)
		fclose(err);
	else
		close(pfd[0]);
	/* It prints that line before it arms the throttle; it answers on its
	 * socket only from its main loop, once it has. */
	for (int i = 0; ok && i < 1000; i++) {
		char cmd[3 * PATH_MAX];

		snprintf(cmd, sizeof(cmd), "'%s/lymphctl' --socket='%s/lymphd.sock' status >/dev/null 2>&1",
			 build_dir, dir);
		if (!system(cmd))
			break;
		if (i == 999)
			ok = 0;
		usleep(20000);
	}
	if (!ok) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -EIO;
	}
	return pid;
}

static void lymphd_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/*
 * lymphd's throttle journal records of this run (ts after @since_rt, the
 * realtime clock in ns), at most 16, as "# lymphd: +MS action result"
 * lines, MS after @over_rt (the first fork over budget on the realtime
 * clock): when it pinned, lifted, ended the episode.  Read as text: the
 * bench needs no JSON parser for a few fields.
 */
static void journal_lines(const char *dir, const char *mode, uint64_t since_rt, uint64_t over_rt)
{
	char path[PATH_MAX + 16], line[8192], action[32], result[96];
	int shown_n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f) && shown_n < 16) {
		const char *a = strstr(line, "\"action\":\""), *r = strstr(line, "\"result\":\""),
			   *t = strstr(line, "\"ts\":");
		double ts;

		if (!strstr(line, "\"type\":\"throttle\"") || !a || !t ||
		    sscanf(a + 10, "%31[^\"]", action) != 1 || sscanf(t + 5, "%lf", &ts) != 1 ||
		    ts * 1e9 < (double)since_rt)
			continue;
		if (!r || sscanf(r + 10, "%95[^\"]", result) != 1)
			result[0] = 0;
		printf("# %s bomb, lymphd: %+.0f ms %s: %s\n", mode, (ts * 1e9 - (double)over_rt) / 1e6,
		       action, result);
		shown_n++;
	}
	if (f)
		fclose(f);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- the kernel's view of the bomb (bench/bpf/famtrace.bpf.c) ------------- */

/*
 * What lymph's throttle charges and refunds, seen where it sees them: the
 * tasks the bomb's uid makes (sched_process_fork) and their exits
 * (sched_process_exit), and lymph's SIGSTOPs to them, with their times.
 * The notes (forknote.so, the C bomb's own counters) say when a fork was
 * *called*; under load the kernel makes the task much later (a shell's
 * fork under TCG, among 200 runnable shells, took up to hundreds of ms),
 * so a replay on the notes overdraws before the kernel's bucket can.
 * Built by bench/run-all and bench/forkbomb-vm into
 * BUILD/bench/famtrace.bpf.o (-F: elsewhere); without it, no kernel view.
 */
#define FT_MAX 32768
enum { FT_FORK = 0, FT_EXIT = 1, FT_STOP = 2, FT_MOVE = 3 };
struct ft_ev {
	uint64_t ns;
	uint64_t call_ns;	/* FT_FORK: when the parent entered the syscall, 0 unknown */
	uint32_t pid;
	uint32_t kind;
	uint32_t by;		/* FT_FORK: the parent's tgid; FT_MOVE: the mover's tgid */
	uint32_t pad;
};

static char ft_path[PATH_MAX];
static uint64_t ft_made[BOMB_MAX_FORKS], ft_called[BOMB_MAX_FORKS];	/* per fork, as read */
static uint32_t ft_parent[BOMB_MAX_FORKS];	/* per fork, the parent's tgid */
static uint64_t ft_nforks;
static struct ft_ev ft_moves[FT_MAX];	/* cgroup moves of the bomb's tasks, as read */
static uint64_t ft_nmoves;
static struct bpf_object *ft_obj;
static int ft_cfg = -1, ft_n = -1, ft_evs = -1;

static void famtrace_open(void)
{
	struct bpf_program *prog;

	if (!ft_path[0])
		snprintf(ft_path, sizeof(ft_path), "%s/bench/famtrace.bpf.o", build_dir);
	if (access(ft_path, R_OK)) {
		printf("# no %s (bench/run-all builds it): no kernel view of the bombs\n", ft_path);
		return;
	}
	ft_obj = bpf_object__open_file(ft_path, NULL);
	if (!ft_obj || bpf_object__load(ft_obj)) {
		fprintf(stderr, "forkbomb: failed to load %s: %s; no kernel view of the bombs\n",
			ft_path, strerror(errno));
		ft_obj = NULL;
		return;
	}
	bpf_object__for_each_program(prog, ft_obj) {
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "forkbomb: failed to attach %s: %s; no kernel view\n",
				bpf_program__name(prog), strerror(errno));
			bpf_object__close(ft_obj);
			ft_obj = NULL;
			return;
		}
	}
	ft_cfg = bpf_map__fd(bpf_object__find_map_by_name(ft_obj, "cfg"));
	ft_n = bpf_map__fd(bpf_object__find_map_by_name(ft_obj, "n"));
	ft_evs = bpf_map__fd(bpf_object__find_map_by_name(ft_obj, "evs"));
}

/* Count uid's forks from now on (0: stop counting forks; exits go on). */
static void famtrace_uid(uint64_t uid, int reset)
{
	uint32_t k0 = 0;
	uint64_t zero = 0;

	if (!ft_obj)
		return;
	if (reset)
		bpf_map_update_elem(ft_n, &k0, &zero, BPF_ANY);
	bpf_map_update_elem(ft_cfg, &k0, &uid, BPF_ANY);
}

/*
 * The kernel's events into k (forks as attempts and forks, exits; what
 * lymph charges, but not the refused forks, which the shell bomb never
 * has below its cap); the first stop's time into *stop_ns.  0, or -1
 * without a trace.
 */
static int famtrace_read(struct bomb_stats *k, uint64_t *stop_ns, uint64_t *lost)
{
	uint32_t k0 = 0, i;
	uint64_t cnt = 0;
	struct ft_ev e;

	memset(k, 0, sizeof(*k));
	ft_nforks = 0;
	ft_nmoves = 0;
	*stop_ns = 0;
	*lost = 0;
	if (!ft_obj || bpf_map_lookup_elem(ft_n, &k0, &cnt))
		return -1;
	if (cnt > FT_MAX)
		*lost = cnt - FT_MAX;
	for (i = 0; i < cnt && i < FT_MAX; i++) {
		if (bpf_map_lookup_elem(ft_evs, &i, &e))
			continue;
		if (e.kind == FT_FORK && k->forks < BOMB_MAX_FORKS) {
			ft_made[ft_nforks] = e.ns;
			ft_parent[ft_nforks] = e.by;
			ft_called[ft_nforks++] = e.call_ns;
			k->fork_ns[k->forks++] = e.ns;
			k->attempt_ns[k->attempts++] = e.ns;
		} else if (e.kind == FT_EXIT && k->exits < BOMB_MAX_FORKS) {
			k->exit_ns[k->exits++] = e.ns;
		} else if (e.kind == FT_STOP && (!*stop_ns || e.ns < *stop_ns)) {
			*stop_ns = e.ns;
		} else if (e.kind == FT_MOVE) {
			ft_moves[ft_nmoves++] = e;
		}
	}
	return 0;
}

/*
 * Of the forks the kernel made from @t on: how many were called before @t
 * (in flight: a SIGSTOP does not undo a fork under way, only a fatal
 * signal does), how many after; and when the last fork made was called.
 */
static void famtrace_calls(uint64_t t, uint64_t *inflight, uint64_t *later, uint64_t *last_call)
{
	uint64_t i;

	*inflight = *later = *last_call = 0;
	for (i = 0; i < ft_nforks; i++) {
		if (ft_called[i] > *last_call)
			*last_call = ft_called[i];
		if (ft_made[i] < t)
			continue;
		if (ft_called[i] && ft_called[i] < t)
			(*inflight)++;
		else
			(*later)++;
	}
}

/*
 * The bomb's cgroup moves from @t on (lymph's first stop): by another
 * process (lymphd, into its hold), by a member itself; and of the latter,
 * the escapes: a member moving itself after another moved it (out of
 * lymphd's hold, cgroup v1 allowing it), and the forks each escaped
 * member made after its escape.
 */
static void famtrace_moves(uint64_t t, uint64_t start, const char *mode)
{
	uint64_t i, j, k, by_other = 0, self = 0, escapes = 0, forks_after = 0, first_esc = 0;

	for (i = 0; i < ft_nmoves; i++) {
		const struct ft_ev *m = &ft_moves[i];

		if (m->ns < t)
			continue;
		if (m->by != m->pid) {
			by_other++;
			continue;
		}
		self++;
		for (j = 0; j < i; j++)
			if (ft_moves[j].pid == m->pid && ft_moves[j].by != m->pid &&
			    ft_moves[j].ns <= m->ns)
				break;
		if (j == i)
			continue;
		escapes++;
		if (!first_esc)
			first_esc = m->ns;
		for (k = 0; k < ft_nforks; k++)
			forks_after += ft_parent[k] == m->pid && ft_made[k] >= m->ns;
	}
	printf("# lymph, %s bomb, the kernel's view of cgroup moves after lymph's first stop: %llu by "
	       "another process (lymphd's into its hold), %llu by a member itself, of which %llu out "
	       "of where another had moved it (the first %.1f ms after its start), and %llu forks "
	       "made by those members after that move\n", mode, (unsigned long long)by_other,
	       (unsigned long long)self, (unsigned long long)escapes,
	       first_esc > start ? (first_esc - start) / 1e6 : 0.0,
	       (unsigned long long)forks_after);
}

/* How many of v[0..n) are <= t. */
static uint64_t count_le(const uint64_t *v, uint64_t n, uint64_t t)
{
	uint64_t i, c = 0;

	for (i = 0; i < n && i < BOMB_MAX_FORKS; i++)
		c += v[i] <= t;
	return c;
}

/*
 * The probe's rounds by when they started: before @t1, from @t1 to @t2,
 * after @t2; their count and median, as a ratio of @idle_us, in one line.
 * Where the interactive latency goes: before lymph's first stop (the bomb
 * runs), while it is being held and pinned, after.
 */
static void probe_split(const struct probe_log *log, const char *mode, uint64_t t1, uint64_t t2,
			double idle_us)
{
	static uint64_t w[3][PROBE_MAX];
	static const char *const name[3] = { "before lymph's first stop", "the next 500 ms",
					     "later" };
	uint64_t n[3] = { 0 }, i;
	int b;

	for (i = 0; i < log->n && i < PROBE_MAX; i++) {
		b = log->at_ns[i] < t1 ? 0 : log->at_ns[i] < t2 ? 1 : 2;
		w[b][n[b]++] = log->lat_ns[i];
	}
	printf("# lymph, %s bomb, probe rounds:", mode);
	for (b = 0; b < 3; b++)
		printf(" %s %llu (p50 %.2fx)%s", name[b], (unsigned long long)n[b],
		       idle_us > 0 ? median_ns(w[b], n[b]) / 1e3 / idle_us : 0.0, b < 2 ? "," : "\n");
}

#define CPU_SAMPLES 4096

/* lymphd's CPU time from @a to @b, from the samples (0: none). */
static double cpu_between(const uint64_t *at, const uint64_t *cpu, size_t n, uint64_t a, uint64_t b)
{
	uint64_t ca = 0, cb = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (at[i] <= a || !ca)
			ca = cpu[i];
		if (at[i] <= b || !cb)
			cb = cpu[i];
	}
	return cb > ca ? (cb - ca) / 1e6 : 0;
}

/* ---- one run ------------------------------------------------------------ */

struct result {
	double tasks;		/* created before containment */
	double after_over;	/* of which after the first fork over budget */
	double contain_ms;	/* see the header */
	double probe_ratio;	/* storm median / idle median */
	double idle_us, storm_us;
	int backstop;		/* the cgroup cap, not lymph, stopped it */
	int foreign;		/* cap alone, yet a lymphd made a hold cgroup in it */
	int running;		/* tasks of the bomb not stopped at the end of the storm */
	int sampled;		/* shell bomb without forknote.so: figures from pids.current */
	long long peak;		/* pids.peak of the storm's cgroup (-1: no such file) */
	double lymphd_cpu_ms;	/* lymphd's CPU time over the storm (containing it) */
	int k_ok;		/* the kernel's view was traced (famtrace) */
	double k_contain_ms;	/* time to contain, replayed on the kernel's events */
	int ok;
};

static int write_conf(const char *dir, char *conf, size_t len)
{
	FILE *f;

	snprintf(conf, len, "%s/lymph.conf", dir);
	f = fopen(conf, "we");
	if (!f)
		return -errno;
	fprintf(f, "[lymphd]\nmode = enforce\n\n"
		"[throttle]\nbudget = %d\nburst = %d\ndead_time_min = 100ms\ndead_time_max = 2s\n"
		"lineage = family\n\n"
		"# root is never held: the rest of the host goes on\n"
		"[protect]\nuid = 0\n\n"
		"[weather]\nstormy_danger_per_min = 1000000\nunsettled_danger_per_min = 1000000\n"
		"budget_factor_stormy = 1\n", BUDGET, BURST);
	fclose(f);
	return 0;
}

static struct result run_one(int with_lymph, const char *dir, int storm_ms,
			     struct bomb_stats *s, struct probe_log *log, const char *mode)
{
	struct result r = { 0 };
	struct storm_cg cg;
	char conf[PATH_MAX];
	pid_t lymphd = -1;
	uint64_t forks, last, start, over, over_ns, t0, t1, cap_at = 0, n_noted, j, cpu0 = 0;
	uint64_t burst_at = 0, grew_at = 0, rt_off, since_rt, k_stop = 0, k_lost = 0;
	static struct bomb_stats kv[1];	/* the kernel's view: too big for the stack */
	static uint64_t cpu_at[CPU_SAMPLES], cpu_ns[CPU_SAMPLES];	/* lymphd's, every 10 ms */
	size_t n_cpu = 0;
	long long most = 0;
	long first_over;
	pid_t bomb, probe;
	size_t n_idle;
	uint64_t *idle;

	memset(s, 0, sizeof(*s));
	if (with_lymph) {
		if (write_conf(dir, conf, sizeof(conf)))
			return r;
		lymphd = lymphd_start(dir, conf);
		if (lymphd < 0) {
			fprintf(stderr, "forkbomb: failed to start %s/lymphd\n", build_dir);
			return r;
		}
	}
	/* idle: the probe alone for 1 s */
	probe = start_probe(log);
	usleep(1000000);
	stop_probe(log, probe);
	n_idle = log->n;
	idle = malloc(n_idle * sizeof(*idle) + 1);
	memcpy(idle, log->lat_ns, n_idle * sizeof(*idle));
	r.idle_us = median_ns(idle, n_idle) / 1e3;
	free(idle);

	if (storm_cg_create(&cg, CAP, 60)) {
		fprintf(stderr, "forkbomb: failed to create a pids cgroup under " STORM_PIDS_ROOT "\n");
		if (with_lymph)
			lymphd_stop(lymphd);
		return r;
	}
	probe = start_probe(log);
	if (with_lymph)
		cpu0 = bench_cpu_ns(lymphd);
	if (!strcmp(mode, "slow") && storm_ms < SLOW_STORM_MS)
		storm_ms = SLOW_STORM_MS;
	t0 = bench_now_ns();
	since_rt = realtime_ns();
	rt_off = since_rt - t0;	/* realtime - the bench's clock */
	famtrace_uid(BOMB_UID, 1);
	bomb = start_bomb(cg.path, mode);
	/* lymph: storm_ms; the cap alone: until 1 s after the cap is reached,
	 * at most 10 s (the probe's window is the same) */
	for (;;) {
		uint64_t el = bench_now_ns() - t0;
		long long now_tasks = storm_cg_read(cg.path, "pids.current");

		/* the cgroup's view, for a bomb without counters: when it
		 * first had more than a burst (its first fork over budget
		 * cannot come sooner) and when it last grew */
		if (now_tasks > BURST && !burst_at)
			burst_at = el;
		if (now_tasks > most) {
			most = now_tasks;
			grew_at = el;
		}
		if (with_lymph ? el >= (uint64_t)storm_ms * 1000000 : el >= 10000000000ULL)
			break;
		if (!with_lymph && !cap_at && storm_cg_read_key(cg.path, "pids.events", "max") > 0)
			cap_at = el;
		if (cap_at && el >= cap_at + 1000000000ULL)
			break;
		if (with_lymph && n_cpu < CPU_SAMPLES) {
			/* lymphd's CPU by then, to split it by phase after */
			cpu_at[n_cpu] = bench_now_ns();
			cpu_ns[n_cpu++] = bench_cpu_ns(lymphd);
		}
		usleep(10000);
	}
	stop_probe(log, probe);
	famtrace_uid(0, 0);
	r.k_ok = with_lymph && !famtrace_read(kv, &k_stop, &k_lost);
	if (with_lymph)
		r.lymphd_cpu_ms = (bench_cpu_ns(lymphd) - cpu0) / 1e6;
	r.backstop = storm_cg_read_key(cg.path, "pids.events", "max") > 0;
	r.peak = storm_cg_read(cg.path, "pids.peak");
	r.foreign = !with_lymph && has_subdirs(cg.path) > 1;	/* deleg is ours */
	shown = 0;
	vfork_waits = 0;
	r.running = count_running(cg.path, 0);
	if (vfork_waits)
		printf("# %s bomb: %d vfork parent(s) asleep (D) until their stopped child goes on: "
		       "not counted as running\n", mode, vfork_waits);
	/* the storm first, then lymphd */
	t1 = bench_now_ns();
	if (bomb > 0)
		cg.kids[cg.n_kids++] = bomb;	/* reaped by the cleanup */
	if (storm_cg_destroy(&cg))
		fprintf(stderr, "forkbomb: failed to clean up %s\n", cg.path);
	printf("# %s: the storm's cleanup took %.0f ms\n", with_lymph ? "lymph" : "cap alone",
	       (bench_now_ns() - t1) / 1e6);
	if (with_lymph)
		lymphd_stop(lymphd);

	forks = s->forks;
	start = s->start_ns;
	n_noted = bomb_sort(s);
	last = n_noted ? s->fork_ns[n_noted - 1] : start;
	over_ns = bomb_over_ns(s, BUDGET, BURST);
	over = with_lymph && over_ns ? over_ns : start;
	for (first_over = -1, j = 0; over_ns && j < n_noted; j++)
		if (s->fork_ns[j] >= over_ns) {
			first_over = (long)j;
			break;
		}
	r.tasks = (double)forks + 1;	/* and the first process */
	r.after_over = first_over >= 0 ? (double)(n_noted - (uint64_t)first_over) : 0;
	r.contain_ms = last > over ? (last - over) / 1e6 : 0;
	r.sampled = !strcmp(mode, "shell") && !s->attempts;
	if (with_lymph && !over_ns && !r.sampled) {
		/* No fork over budget in the replay: none came after one.
		 * The kernel's bucket may overdraw a token or two sooner (it
		 * also charged the fork that started the bomb); the tasks and
		 * running figures tell whether lymph held it. */
		r.contain_ms = 0;
		printf("# lymph, %s bomb: the replay found no fork over budget (held before it)\n",
		       mode);
	}
	if (r.sampled) {
		/* a shell that cannot preload forknote.so (static): no
		 * counters, the cgroup's samples, 10 ms apart */
		r.tasks = (double)most;
		if (!with_lymph)
			r.contain_ms = grew_at / 1e6;
		else
			r.contain_ms = burst_at && grew_at > burst_at ? (grew_at - burst_at) / 1e6 : 0;
	}
	if (!strcmp(mode, "shell")) {
		printf("# %s, shell bomb: %lld tasks at most, more than a burst (%d) %.0f ms after "
		       "its start, last growth %.0f ms after its start (sampled every 10 ms)\n",
		       with_lymph ? "lymph" : "cap alone", most, BURST, burst_at / 1e6,
		       grew_at / 1e6);
	}
	if (r.k_ok && !r.sampled) {
		uint64_t kn = bomb_sort(kv), k_over = bomb_over_ns(kv, BUDGET, BURST);
		uint64_t k_last = kn ? kv->fork_ns[kn - 1] : start;
		uint64_t at = over_ns ? over_ns : k_over;
		double rel_stop = k_stop > start ? (k_stop - start) / 1e6 : 0;

		r.k_contain_ms = k_over && k_last > k_over ? (k_last - k_over) / 1e6 : 0;
		printf("# lymph, %s bomb, the kernel's view: %llu forks, %llu exits (noted: %llu forks, "
		       "%llu exits)%s; over budget %s%.1f ms after its start (the notes' replay: %.1f), "
		       "lymph's first stop %.1f ms; last fork %.1f ms: contained in %.1f ms\n", mode,
		       (unsigned long long)kv->forks, (unsigned long long)kv->exits,
		       (unsigned long long)s->forks, (unsigned long long)s->exits,
		       k_lost ? " (events lost)" : "", k_over ? "" : "never; ",
		       k_over > start ? (k_over - start) / 1e6 : 0.0,
		       over_ns > start ? (over_ns - start) / 1e6 : 0.0, rel_stop,
		       k_last > start ? (k_last - start) / 1e6 : 0.0, r.k_contain_ms);
		if (at)
			printf("# lymph, %s bomb, at %.1f ms (first over budget, %s): the kernel had made "
			       "%llu tasks and seen %llu exits, the bomb had called fork() %llu times "
			       "and noted %llu exits\n", mode, (at - start) / 1e6,
			       over_ns ? "the notes" : "the kernel",
			       (unsigned long long)count_le(kv->fork_ns, kv->forks, at),
			       (unsigned long long)count_le(kv->exit_ns, kv->exits, at),
			       (unsigned long long)count_le(s->attempt_ns, s->attempts, at),
			       (unsigned long long)count_le(s->exit_ns, s->exits, at));
		if (k_stop) {
			uint64_t inflight, later, last_call;

			famtrace_calls(k_stop, &inflight, &later, &last_call);
			printf("# lymph, %s bomb, forks made after lymph's first stop: %llu called before "
			       "it (in flight), %llu called after it; the last fork made was called %.1f ms "
			       "after its start, and made %.1f ms after lymph's first stop\n", mode,
			       (unsigned long long)inflight, (unsigned long long)later,
			       last_call > start ? (last_call - start) / 1e6 : 0.0,
			       k_last > k_stop ? (k_last - k_stop) / 1e6 : 0.0);
		}
		if (k_stop && ft_nmoves)
			famtrace_moves(k_stop, start, mode);
		if (k_stop)
			printf("# lymph, %s bomb, at lymph's first stop (%.1f ms): the kernel had made %llu "
			       "tasks and seen %llu exits, the bomb had called fork() %llu times and "
			       "noted %llu exits\n", mode, rel_stop,
			       (unsigned long long)count_le(kv->fork_ns, kv->forks, k_stop),
			       (unsigned long long)count_le(kv->exit_ns, kv->exits, k_stop),
			       (unsigned long long)count_le(s->attempt_ns, s->attempts, k_stop),
			       (unsigned long long)count_le(s->exit_ns, s->exits, k_stop));
	}
	if (r.k_ok && k_stop) {
		probe_split(log, mode, k_stop, k_stop + 500000000ULL, r.idle_us);
		printf("# lymph, %s bomb, lymphd's CPU: before lymph's first stop %.1f ms, the next "
		       "500 ms %.1f ms, later %.1f ms\n", mode,
		       cpu_between(cpu_at, cpu_ns, n_cpu, t0, k_stop),
		       cpu_between(cpu_at, cpu_ns, n_cpu, k_stop, k_stop + 500000000ULL),
		       cpu_between(cpu_at, cpu_ns, n_cpu, k_stop + 500000000ULL, UINT64_MAX));
	}
	r.storm_us = median_ns(log->lat_ns, log->n) / 1e3;
	r.probe_ratio = r.idle_us > 0 ? r.storm_us / r.idle_us : 0;
	r.ok = 1;
	if (with_lymph && first_over >= 0) {
		static const double edge_ms[] = { 10, 50, 100, 200, 500, 1000, 1e12 };
		unsigned int bin[7] = { 0 };
		int b;

		for (j = (uint64_t)first_over; j < n_noted; j++) {
			double ms = (s->fork_ns[j] - over) / 1e6;

			for (b = 0; ms >= edge_ms[b]; b++)
				;
			bin[b]++;
		}
		printf("# %s bomb: forks after the first over budget (at %.6f s), by ms after it: "
		       "<10: %u, <50: %u, <100: %u, <200: %u, <500: %u, <1000: %u, later: %u\n", mode,
		       over / 1e9, bin[0], bin[1], bin[2], bin[3], bin[4], bin[5], bin[6]);
		if (kmod && bin[3] + bin[4] + bin[5] + bin[6])
			journal_lines(dir, mode, since_rt, over + rt_off);
	}
	printf("# %s, %s bomb: %d running at the end of the storm\n", with_lymph ? "lymph" : "cap alone",
	       mode, r.running);
	if (with_lymph)
		printf("# lymph, %s bomb: lymphd used %.1f ms of CPU over the storm (%d ms)\n", mode,
		       r.lymphd_cpu_ms, storm_ms);
	printf("# %s: %.0f forks noted (%llu attempts, %llu exits; over budget %s%.1f ms after its "
	       "start, %.0f forks noted after it), last fork "
	       "%.1f ms after %s (%.1f ms after its start), peak %lld tasks, %llu forks refused%s; probe p50 %.0f us "
	       "idle (%zu rounds), %.0f us in the storm (%llu rounds): %.2fx\n",
	       with_lymph ? "lymph" : "cap alone", r.tasks, (unsigned long long)s->attempts,
	       (unsigned long long)s->exits, over_ns ? "" : "never; start + ",
	       over_ns > start ? (over_ns - start) / 1e6 : 0.0, r.after_over, r.contain_ms,
	       with_lymph ? "it" : "its start",
	       last > start ? (last - start) / 1e6 : 0.0, r.peak, (unsigned long long)s->failed,
	       r.backstop ? ", a pids limit was hit" : "", r.idle_us, n_idle, r.storm_us,
	       (unsigned long long)log->n, r.probe_ratio);
	if (r.foreign)
		printf("# warning: another lymphd (see above) held the bomb in the cap-alone run: "
		       "its figures are not the cap's alone\n");
	fflush(stdout);
	return r;
}

int main(int argc, char **argv)
{
	static struct result res[N_VARIANTS + 1][16], res_b[N_VARIANTS + 1][16];
	struct result (*R)[16];
	int pass;
	struct bomb_stats *s;
	struct probe_log *log;
	int runs = 1, storm_ms = 3000, c, i, fd;
	size_t k, nv = N_VARIANTS;
	const char *only = NULL;
	char dir[] = "/tmp/lymph-bench-forkbomb.XXXXXX";

	while ((c = getopt(argc, argv, "d:F:kK:n:N:p:s:S:v:")) != -1) {
		switch (c) {
		case 'd': snprintf(build_dir, sizeof(build_dir), "%s", optarg); break;
		case 'F': snprintf(ft_path, sizeof(ft_path), "%s", optarg); break;
		case 'k': kmod = 1; break;
		case 'K':
			if (sscanf(optarg, "%4095[^:]:%4095s", ko_a, ko_b) != 2) {
				fprintf(stderr, "forkbomb: -K A.ko:B.ko\n");
				return 2;
			}
			break;
		case 'n': runs = atoi(optarg); break;
		case 'N': snprintf(note_lib, sizeof(note_lib), "%s", optarg); break;
		case 'p': snprintf(bomb_prog, sizeof(bomb_prog), "%s", optarg); break;
		case 's': storm_ms = atoi(optarg); break;
		case 'S': shell_prog = optarg; break;
		case 'v': only = optarg; break;
		default:
			fprintf(stderr, "usage: forkbomb [-d BUILD_DIR] [-F FAMTRACE_BPF_O] [-k [-K A.ko:B.ko]] [-n RUNS (1-16)] [-N FORKNOTE_SO] "
				"[-p BOMB_PROG] [-s STORM_MS] [-S SHELL] [-v VARIANT]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > 16 || storm_ms < 500 || storm_ms > 20000) {
		fprintf(stderr, "forkbomb: -n 1..16, -s 500..20000\n");
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "forkbomb: must run as root\n");
		return 1;
	}
	if (access(STORM_PIDS_ROOT "/cgroup.procs", F_OK)) {
		fprintf(stderr, "forkbomb: no v1 pids cgroup hierarchy at " STORM_PIDS_ROOT "\n");
		return 1;
	}
	if (kmod && access(KMOD_MODE, W_OK)) {
		fprintf(stderr, "forkbomb: failed to find " KMOD_MODE ": %s; load lymph.ko first\n",
			strerror(errno));
		return 1;
	}
	log = mmap(NULL, sizeof(*log), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (log == MAP_FAILED || !mkdtemp(dir) || chmod(dir, 0755) ||
	    (!bomb_prog[0] && storm_build_prog("forkbomb", dir, bomb_prog, sizeof(bomb_prog)))) {
		fprintf(stderr, "forkbomb: failed to set up: %s\n", strerror(errno));
		return 1;
	}
	if (!note_lib[0] && (!only || !strcmp(only, "shell")) && build_note_lib(dir))
		printf("# forknote.so not built: the shell bomb's figures come from pids.current "
		       "samples\n");
	/* the bomb's stats, a file every process of it maps shared */
	snprintf(stats_path, sizeof(stats_path), "%s/stats", dir);
	fd = open(stats_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, BOMB_STATS_SIZE) || fchown(fd, BOMB_UID, BOMB_UID)) {
		fprintf(stderr, "forkbomb: failed to create %s: %s\n", stats_path, strerror(errno));
		return 1;
	}
	s = mmap(NULL, BOMB_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (s == MAP_FAILED)
		return 1;
	bench_warn_other_lymphd(0);
	famtrace_open();
	printf("# fork bombs as uid %d; probe: fork+exec /bin/true as uid %d; %s: budget %d/s, "
	       "burst %d, lineage family, %d run(s) of %d ms per variant, the variants interleaved; "
	       "cap alone: pids.max %d, one run of the plain bomb\n", BOMB_UID, PROBE_UID,
	       kmod ? "lymph.ko (lymphd --source=kmod)" : "lymph (BPF)", BUDGET, BURST, runs,
	       storm_ms, CAP);
	/* every variant RUNS times with lymph, round after round (a change
	 * of load hits every variant alike); the cap alone, the reference,
	 * once at the end (a bomb spinning at its cap is hard on the host) */
	for (i = 0; i <= runs; i++)
		for (k = 0; k <= nv; k++) {
			const char *mode = k < nv ? variants[k] : "plain";
			int slot = k < nv ? i : 0;

			if ((only && (k == nv || strcmp(only, mode))) || (k < nv) == (i == runs))
				continue;
			/* -K: module A and module B by turns, the order
			 * swapped every round; the cap alone with A */
			for (pass = 0; pass < (ko_b[0] && k < nv ? 2 : 1); pass++) {
				int b = ko_b[0] && k < nv && (pass ^ (i & 1));

				if (ko_b[0] && kmod_swap(b ? ko_b : ko_a))
					return 1;
				if (ko_b[0])
					printf("# module %s: %s\n", b ? "B" : "A", b ? ko_b : ko_a);
				if (k == nv && kmod &&
				    storm__write("/sys/kernel/lymph", "mode", "observe"))
					fprintf(stderr, "forkbomb: failed to put lymph.ko in observe mode\n");
				R = b ? res_b : res;
				R[k][slot] = run_one(k < nv, dir, storm_ms, s, log, mode);
				if (!R[k][slot].ok) {
					fprintf(stderr, "forkbomb: a run failed\n");
					return 1;
				}
				sleep(2);	/* let the host settle between storms */
			}
		}
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "forkbomb: failed to remove %s\n", dir);
	}

	for (pass = 0; pass < (ko_b[0] ? 2 : 1); pass++)
	for (k = 0; k <= nv; k++) {
		int nr = k < nv ? runs : 1, backstop = 0, running = 0, sampled = 0, k_ok = 0;
		double tasks[16], ms[16], ratio[16], cpu[16], kms[16], t, m, q;
		char name[200], val[64], who[64];
		const char *mode = k < nv ? variants[k] : "plain";

		if ((only && (k == nv || strcmp(only, mode))) || (pass && k == nv))
			continue;
		R = pass ? res_b : res;
		snprintf(who, sizeof(who), "%s, %s bomb",
			 k < nv ? (kmod ? (pass ? "lymph.ko B (VM)" : "lymph.ko (VM)") : "lymph (BPF)")
				: (kmod ? "pids cgroup cap alone (VM)" : "pids cgroup cap alone"),
			 mode);
		for (i = 0; i < nr; i++) {
			tasks[i] = R[k][i].peak > 0 ? (double)R[k][i].peak : R[k][i].tasks;
			ms[i] = R[k][i].contain_ms;
			ratio[i] = R[k][i].probe_ratio;
			cpu[i] = R[k][i].lymphd_cpu_ms;
			kms[i] = R[k][i].k_contain_ms;
			k_ok += R[k][i].k_ok && !R[k][i].sampled;
			backstop += R[k][i].backstop;
			running += R[k][i].running;
			sampled += R[k][i].sampled;
		}
		t = median_d(tasks, nr);
		m = median_d(ms, nr);
		q = median_d(ratio, nr);
		snprintf(name, sizeof(name), "forkbomb, %s: tasks at peak%s", who,
			 nr > 1 ? " (median of the runs)" : "");
		/* median_d sorts: [0] and [nr - 1] are the spread */
		snprintf(val, sizeof(val), "%.0f%s", t, k < nv && backstop ? " (cap reached)" : "");
		if (nr > 1)
			snprintf(val + strlen(val), sizeof(val) - strlen(val), " (runs %.0f-%.0f)",
				 tasks[0], tasks[nr - 1]);
		bench_figure(name, val, k < nv ? "< 400, cap never hit" : "",
			     k < nv ? (t < CAP && !backstop ? "ok" : "MISS") : "-");
		snprintf(name, sizeof(name), "forkbomb, %s: time to contain (%s)", who,
			 k == nv ? "start -> last fork"
			 : sampled ? "more than a burst alive -> last growth, sampled every 10 ms"
				 : "first fork over budget -> last fork");
		snprintf(val, sizeof(val), "%.1f ms", m);
		if (nr > 1)
			snprintf(val + strlen(val), sizeof(val) - strlen(val), " (runs %.1f-%.1f)", ms[0],
				 ms[nr - 1]);
		bench_figure(name, val, k < nv ? "< 100 ms" : "", k < nv ? (m < 100 ? "ok" : "MISS") : "-");
		if (k < nv && k_ok == nr) {
			/* the same bucket replayed on the kernel's forks and exits */
			m = median_d(kms, nr);
			snprintf(name, sizeof(name), "forkbomb, %s: time to contain, the kernel's view "
				 "(first fork over budget -> last fork, at sched_process_fork/exit)", who);
			snprintf(val, sizeof(val), "%.1f ms", m);
			if (nr > 1)
				snprintf(val + strlen(val), sizeof(val) - strlen(val), " (runs %.1f-%.1f)",
					 kms[0], kms[nr - 1]);
			bench_figure(name, val, "< 100 ms", m < 100 ? "ok" : "MISS");
		}
		snprintf(name, sizeof(name), "forkbomb, %s: probe fork+exec latency in the storm / idle (p50)",
			 who);
		snprintf(val, sizeof(val), "%.2fx", q);
		if (nr > 1)
			snprintf(val + strlen(val), sizeof(val) - strlen(val), " (runs %.2f-%.2f)",
				 ratio[0], ratio[nr - 1]);
		bench_figure(name, val, k < nv ? "< 2x" : "", k < nv ? (q < 2 ? "ok" : "MISS") : "-");
		if (k < nv) {
			snprintf(name, sizeof(name), "forkbomb, %s: tasks still running when held", who);
			snprintf(val, sizeof(val), "%d", running);
			bench_figure(name, val, "0", running == 0 ? "ok" : "MISS");
			/* most of it is containing the bomb: walks of /proc, moves */
			snprintf(name, sizeof(name), "forkbomb, %s: lymphd CPU over the storm", who);
			snprintf(val, sizeof(val), "%.1f ms", median_d(cpu, nr));
			bench_figure(name, val, "", "-");
		}
	}
	return 0;
}
