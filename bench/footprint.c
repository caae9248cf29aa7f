// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/footprint: lymphd's memory and CPU, idle and under a crash storm.
 *
 * Starts lymphd as `make run` would (all sensors, --quiet so that no
 * terminal is in the figure), lets it settle, then
 *  - idle: for IDLE seconds, its CPU time (/proc/PID/schedstat) over the
 *    wall time, and VmRSS / VmHWM; "idle" means nothing of the bench's
 *    runs, so whatever else the host does still reaches lymphd: the number
 *    of records it got is printed beside the figure;
 *  - storm: RATE crashes per minute (default 10,000: SIGSEGV, no core
 *    file) for STORM seconds, each a fork of a small spawner that runs in
 *    its own pids cgroup (pids.max 2000: a runaway can never exhaust the
 *    host's pids) under an alarm; afterwards everything left in the cgroup
 *    is SIGKILLed (never stopped) and the cgroup removed.  lymphd's CPU,
 *    VmRSS and VmHWM, and how many of the crashes it counted as danger;
 *  - VmRSS is split into the ring (its pages are mapped twice so records
 *    never wrap: twice --ring-size), lymphd's own memory (RssAnon: heap,
 *    stacks) and the rest (lymphd's own file, libraries, other files),
 *    with Pss beside it (a library's pages are shared: what lymphd costs
 *    the host), and a lymphd with the
 *    former default ring (8 MiB) is measured for comparison.  Targets:
 *    VmRSS <= 8 MiB, and <= 4 MiB without the ring.  VmHWM is shown
 *    beside it: it keeps the start-up peak (libbpf parsing the kernel's
 *    BTF), which lymphd gives back before it drains.
 *
 *  - with -B OTHER_BUILD, that build's lymphd runs idle beside this one,
 *    over the same seconds (so the same records from the rest of the
 *    host reach both), and its idle figures are printed as "before".
 *
 *   bench/footprint [-d BUILD_DIR] [-B OTHER_BUILD] [-i IDLE_S] [-s STORM_S]
 *                   [-r CRASHES_PER_MIN]  (root)
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "bench.h"

#define TARGET_RSS_KB	8192		/* VmRSS */
#define TARGET_OWN_KB	4096		/* VmRSS without the ring */
#define TARGET_IDLE_CPU	0.001		/* fraction of one CPU */
#define PIDS_MAX	2000

/* ---- a pids cgroup backstop -------------------------------------------- */

static char cg_path[PATH_MAX];

static int write_file(const char *dir, const char *file, const char *val)
{
	char p[PATH_MAX + 64];
	FILE *f;
	int err = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "we");
	if (!f)
		return -errno;
	if (fputs(val, f) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static int cg_create(void)
{
	char val[32];
	int err;

	/* cgroup v1 pids hierarchy, else cgroup v2 with pids delegated */
	if (!access("/sys/fs/cgroup/pids/cgroup.procs", F_OK)) {
		snprintf(cg_path, sizeof(cg_path), "/sys/fs/cgroup/pids/lymph-bench.%d", (int)getpid());
	} else {
		const char *root = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) ?
				   "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";

		write_file(root, "cgroup.subtree_control", "+pids");
		snprintf(cg_path, sizeof(cg_path), "%s/lymph-bench.%d", root, (int)getpid());
	}
	if (mkdir(cg_path, 0755)) {
		err = -errno;
		fprintf(stderr, "footprint: failed to create cgroup %s: %s\n", cg_path, strerror(errno));
		cg_path[0] = 0;
		return err;
	}
	snprintf(val, sizeof(val), "%d\n", PIDS_MAX);
	err = write_file(cg_path, "pids.max", val);
	if (err) {
		fprintf(stderr, "footprint: failed to set %s/pids.max: %s\n", cg_path, strerror(-err));
		rmdir(cg_path);
		cg_path[0] = 0;
	}
	return err;
}

/* SIGKILL whatever is left (never SIGSTOP), wait until empty, remove. */
static void cg_destroy(void)
{
	char p[PATH_MAX + 32];
	int tries, pid;

	if (!cg_path[0])
		return;
	snprintf(p, sizeof(p), "%s/cgroup.procs", cg_path);
	for (tries = 0; tries < 500 && rmdir(cg_path) && errno == EBUSY; tries++) {
		FILE *f = fopen(p, "re");

		while (f && fscanf(f, "%d", &pid) == 1)
			if (pid > 1 && pid != getpid())
				kill(pid, SIGKILL);
		if (f)
			fclose(f);
		usleep(10000);
	}
	if (!access(cg_path, F_OK))
		fprintf(stderr, "footprint: failed to remove cgroup %s\n", cg_path);
	cg_path[0] = 0;
}

/* ---- the storm ------------------------------------------------------------ */

/*
 * In the cgroup: fork a crasher every 60/per_min seconds for secs seconds,
 * reaping as it goes; writes "spawned crashed failed" to out.
 */
static void spawner(double per_min, double secs, int out)
{
	struct rlimit no_core = { 0, 0 };
	uint64_t period = (uint64_t)(60e9 / per_min), next, end;
	unsigned long spawned = 0, crashed = 0, failed = 0;
	int status;
	pid_t pid;

	setrlimit(RLIMIT_CORE, &no_core);
	alarm((unsigned int)secs + 30);	/* backstop: never outlive the bench */
	next = bench_now_ns();
	end = next + (uint64_t)(secs * 1e9);
	while (next < end) {
		struct timespec ts = { (time_t)(next / 1000000000ULL), (long)(next % 1000000000ULL) };

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		pid = fork();
		if (pid == 0) {
			*(volatile int *)0 = 1;	/* SIGSEGV */
			_exit(0);
		}
		if (pid > 0)
			spawned++;
		else
			failed++;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
				crashed++;
		next += period;
	}
	while ((pid = waitpid(-1, &status, 0)) > 0)
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
			crashed++;
	dprintf(out, "%lu %lu %lu\n", spawned, crashed, failed);
	_exit(0);
}

/* lymphd's mappings from its smaps, kB: the BPF map mappings (the ring:
 * its data pages are mapped twice so that records never wrap), its own
 * file (text, read-only data), and Pss without the ring (what lymphd
 * costs the host: a library page shared by n processes counts 1/n). */
struct split {
	long ring_kb, exe_kb, pss_kb;
};

static int smaps_split(pid_t pid, struct split *sp)
{
	char p[64], line[PATH_MAX + 128], exe[PATH_MAX], name[PATH_MAX];
	int in_map = 0, in_exe = 0;
	ssize_t n;
	long v;
	FILE *f;

	memset(sp, 0, sizeof(*sp));
	snprintf(p, sizeof(p), "/proc/%d/exe", (int)pid);
	n = readlink(p, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(p, sizeof(p), "/proc/%d/smaps", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Rss: %ld kB", &v) == 1) {
			if (in_map)
				sp->ring_kb += v;
			if (in_exe)
				sp->exe_kb += v;
			continue;
		}
		if (sscanf(line, "Pss: %ld kB", &v) == 1) {
			if (!in_map)
				sp->pss_kb += v;
			continue;
		}
		/* a mapping's header line: "start-end perms offset dev inode [name]" */
		if (strchr("0123456789abcdef", line[0]) && strchr(line, '-') &&
		    strchr(line, '-') < strchr(line, ' ')) {
			name[0] = 0;
			sscanf(line, "%*s %*s %*s %*s %*s %4095s", name);
			in_map = !!strstr(line, "anon_inode:bpf-map");
			in_exe = exe[0] && !strcmp(name, exe);
		}
	}
	fclose(f);
	return 0;
}

/* ---- measuring lymphd ------------------------------------------------------ */

struct sample {
	double cpu;			/* fraction of one CPU */
	long rss_kb, hwm_kb;
	long ring_kb;			/* of rss: BPF ring mappings */
	long anon_kb;			/* of rss: lymphd's own heap and stacks */
	long exe_kb;			/* of rss: lymphd's file (text, read-only data) */
	long pss_kb;			/* Pss without the ring */
	uint64_t records, danger, drops;
};

static uint64_t all_records(struct json_object *o)
{
	static const char *const kinds[] = { "death", "signal", "exec", "oom" };
	uint64_t n = bench_status_fork_records(o);
	unsigned int i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		n += bench_status_u64(o, kinds[i]);
	return n;
}

struct mark {
	uint64_t t, cpu, records, danger, drops;
};

static void mark_now(struct bench_lymphd *l, struct mark *m)
{
	struct json_object *o = bench_lymphd_status(l);

	m->t = bench_now_ns();
	m->cpu = bench_cpu_ns(l->pid);
	m->records = all_records(o);
	m->danger = bench_status_u64(o, "danger");
	m->drops = bench_status_u64(o, "drops");
	json_object_put(o);
}

/* Memory first: the status request that follows is the bench's own, and
 * what lymphd allocates to answer it is not its idle footprint (it gives
 * it back at its next tick). */
static void sample_since(struct bench_lymphd *l, const struct mark *a, struct sample *s)
{
	struct mark b;

	s->rss_kb = bench_status_kb(l->pid, "VmRSS");
	s->hwm_kb = bench_status_kb(l->pid, "VmHWM");
	{
		struct split sp;

		smaps_split(l->pid, &sp);
		s->ring_kb = sp.ring_kb;
		s->exe_kb = sp.exe_kb;
		s->pss_kb = sp.pss_kb;
	}
	s->anon_kb = bench_status_kb(l->pid, "RssAnon");
	mark_now(l, &b);
	s->cpu = (double)(b.cpu - a->cpu) / (double)(b.t - a->t);
	s->records = b.records - a->records;
	s->danger = b.danger - a->danger;
	s->drops = b.drops - a->drops;
}

int main(int argc, char **argv)
{
	static const char *const lymphd_args[] = { "--quiet", "--source=bpf", NULL };
	const char *build = "build", *before = NULL;
	struct bench_lymphd lb = { 0 };
	struct sample idle_b = { 0 };
	struct mark mb;
	int have_b = 0;
	double idle_s = 10, storm_s = 20, per_min = 10000;
	unsigned long spawned = 0, crashed = 0, failed = 0;
	struct bench_lymphd l;
	struct sample idle, storm, small = { 0 };
	struct mark m;
	char val[160], name[160];
	int c, err, pfd[2];
	pid_t sp;
	FILE *f;

	while ((c = getopt(argc, argv, "d:B:i:s:r:")) != -1) {
		switch (c) {
		case 'd': build = optarg; break;
		case 'B': before = optarg; break;
		case 'i': idle_s = atof(optarg); break;
		case 's': storm_s = atof(optarg); break;
		case 'r': per_min = atof(optarg); break;
		default:
			fprintf(stderr, "usage: footprint [-d BUILD_DIR] [-B OTHER_BUILD] [-i IDLE_S] "
				"[-s STORM_S] [-r CRASHES_PER_MIN]\n");
			return 2;
		}
	}
	if (!(idle_s >= 1 && idle_s <= 600 && storm_s >= 1 && storm_s <= 600 &&
	      per_min >= 1 && per_min <= 100000)) {
		fprintf(stderr, "footprint: -i, -s: 1 to 600 seconds; -r: 1 to 100000 a minute\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "footprint: must run as root (lymphd does)\n");
		return 1;
	}

	err = bench_lymphd_init(&l, build, "footprint", -1);
	if (!err)
		err = bench_lymphd_start(&l, lymphd_args);
	if (err) {
		fprintf(stderr, "footprint: failed to start %s: %s\n", l.lymphd, strerror(-err));
		bench_lymphd_cleanup(&l);
		return 1;
	}
	printf("# footprint: lymphd --quiet (pid %d), idle %.0f s, then %.0f crashes/min for %.0f s\n",
	       (int)l.pid, idle_s, per_min, storm_s);
	bench_warn_other_lymphd(l.pid);
	fflush(stdout);

	/* The other build's lymphd, idle over the same seconds. */
	if (before) {
		if (bench_lymphd_init(&lb, before, "footprint-b", -1) ||
		    bench_lymphd_start(&lb, lymphd_args))
			fprintf(stderr, "footprint: failed to start %s/lymphd: its figures are left out\n",
				before);
		else
			have_b = 1;
	}

	/* Idle, once it has settled. */
	printf("# lymphd settled in %d ms\n", bench_lymphd_settle(&l, 20000));
	if (have_b)
		printf("# %s/lymphd (pid %d) settled in %d ms\n", before, (int)lb.pid,
		       bench_lymphd_settle(&lb, 20000));
	mark_now(&l, &m);
	if (have_b)
		mark_now(&lb, &mb);
	usleep((useconds_t)(idle_s * 1e6));
	sample_since(&l, &m, &idle);
	if (have_b) {
		sample_since(&lb, &mb, &idle_b);
		bench_lymphd_stop(&lb);
	}
	bench_lymphd_cleanup(&lb);

	/* Storm, in its cgroup. */
	err = cg_create();
	if (!err && pipe(pfd))
		err = -errno;
	if (!err) {
		mark_now(&l, &m);
		sp = fork();
		if (sp == 0) {
			char pid[32];

			close(pfd[0]);
			snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
			if (write_file(cg_path, "cgroup.procs", pid))
				_exit(1);	/* never storm outside the backstop */
			spawner(per_min, storm_s, pfd[1]);
		}
		close(pfd[1]);
		f = fdopen(pfd[0], "r");
		if (!f || fscanf(f, "%lu %lu %lu", &spawned, &crashed, &failed) != 3)
			err = -EIO;
		if (f)
			fclose(f);
		if (sp > 0)
			waitpid(sp, NULL, 0);
		usleep(300000);	/* lymphd's drain timer, and its drop check */
		sample_since(&l, &m, &storm);
	}
	cg_destroy();
	bench_lymphd_stop(&l);

	/* What the ring's size does to VmRSS: the same lymphd with the former
	 * default ring, 8 MiB. */
	if (!err) {
		static const char *const small_args[] = { "--quiet", "--source=bpf", "--ring-size=8M", NULL };

		struct split sp;

		if (!bench_lymphd_start(&l, small_args)) {
			bench_lymphd_settle(&l, 20000);
			small.rss_kb = bench_status_kb(l.pid, "VmRSS");
			smaps_split(l.pid, &sp);
			small.ring_kb = sp.ring_kb;
			bench_lymphd_stop(&l);
		}
	}
	bench_lymphd_cleanup(&l);
	if (err) {
		fprintf(stderr, "footprint: the storm did not run: %s\n", strerror(-err));
		return 1;
	}

	printf("# idle: %llu records reached lymphd from the rest of the host\n",
	       (unsigned long long)idle.records);
	printf("# storm: %lu forked, %lu crashed (SIGSEGV), %lu forks failed; lymphd counted %llu "
	       "danger deaths, %llu drops\n", spawned, crashed, failed,
	       (unsigned long long)storm.danger, (unsigned long long)storm.drops);

	snprintf(val, sizeof(val), "%.3f %% (%llu records in %.0f s)", idle.cpu * 100,
		 (unsigned long long)idle.records, idle_s);
	bench_figure("footprint: lymphd CPU, idle", val, "<= 0.1 %",
		     idle.cpu <= TARGET_IDLE_CPU ? "ok" : "MISS");
	snprintf(val, sizeof(val), "%.2f MiB / %.2f MiB", idle.rss_kb / 1024.0, idle.hwm_kb / 1024.0);
	bench_figure("footprint: lymphd VmRSS / VmHWM, idle", val, "<= 8 MiB",
		     idle.rss_kb <= TARGET_RSS_KB ? "ok" : "MISS");
	snprintf(val, sizeof(val), "%.2f MiB ring mapping, %.2f MiB own (RssAnon), %.2f MiB the rest "
		 "(%.2f MiB lymphd's file, %.2f MiB libraries and other files)", idle.ring_kb / 1024.0,
		 idle.anon_kb / 1024.0, (idle.rss_kb - idle.ring_kb - idle.anon_kb) / 1024.0,
		 idle.exe_kb / 1024.0, (idle.rss_kb - idle.ring_kb - idle.anon_kb - idle.exe_kb) / 1024.0);
	bench_figure("footprint: of which", val, "", "-");
	snprintf(val, sizeof(val), "%.2f MiB", (idle.rss_kb - idle.ring_kb) / 1024.0);
	bench_figure("footprint: lymphd VmRSS without the ring, idle", val, "<= 4 MiB",
		     idle.rss_kb - idle.ring_kb <= TARGET_OWN_KB ? "ok" : "MISS");
	/* What it costs the host: the libraries' pages are shared. */
	snprintf(val, sizeof(val), "%.2f MiB", idle.pss_kb / 1024.0);
	bench_figure("footprint: lymphd Pss without the ring, idle", val, "", "-");
	if (small.rss_kb > 0) {
		snprintf(val, sizeof(val), "%.2f MiB (ring mapping %.2f MiB)", small.rss_kb / 1024.0,
			 small.ring_kb / 1024.0);
		bench_figure("footprint: lymphd VmRSS with --ring-size=8M (the former default), idle", val,
			     "", "-");
	}
	if (have_b) {
		snprintf(val, sizeof(val), "%.3f %% (%llu records in %.0f s)", idle_b.cpu * 100,
			 (unsigned long long)idle_b.records, idle_s);
		bench_figure("footprint: before (-B), lymphd CPU, idle, same seconds", val, "", "-");
		snprintf(val, sizeof(val), "%.2f MiB total, %.2f MiB without the ring (%.2f MiB own "
			 "(RssAnon), %.2f MiB the rest, of which %.2f MiB its file); Pss without "
			 "the ring %.2f MiB", idle_b.rss_kb / 1024.0,
			 (idle_b.rss_kb - idle_b.ring_kb) / 1024.0, idle_b.anon_kb / 1024.0,
			 (idle_b.rss_kb - idle_b.ring_kb - idle_b.anon_kb) / 1024.0,
			 idle_b.exe_kb / 1024.0, idle_b.pss_kb / 1024.0);
		bench_figure("footprint: before (-B), lymphd VmRSS, idle", val, "", "-");
	}
	snprintf(name, sizeof(name), "footprint: lymphd CPU, %.0f crashes/min", per_min);
	snprintf(val, sizeof(val), "%.2f %% (%.0f crashes/min reached)", storm.cpu * 100,
		 crashed * 60.0 / storm_s);
	bench_figure(name, val, "", "-");
	snprintf(name, sizeof(name), "footprint: lymphd VmRSS / VmHWM, %.0f crashes/min", per_min);
	snprintf(val, sizeof(val), "%.2f MiB / %.2f MiB", storm.rss_kb / 1024.0, storm.hwm_kb / 1024.0);
	bench_figure(name, val, "<= 8 MiB", storm.rss_kb <= TARGET_RSS_KB ? "ok" : "MISS");
	snprintf(name, sizeof(name), "footprint: of which, %.0f crashes/min", per_min);
	snprintf(val, sizeof(val), "%.2f MiB ring mapping, %.2f MiB own (RssAnon), %.2f MiB the rest",
		 storm.ring_kb / 1024.0, storm.anon_kb / 1024.0,
		 (storm.rss_kb - storm.ring_kb - storm.anon_kb) / 1024.0);
	bench_figure(name, val, "", "-");
	snprintf(val, sizeof(val), "%llu of %lu crashes, %llu drops", (unsigned long long)storm.danger,
		 crashed, (unsigned long long)storm.drops);
	bench_figure("footprint: storm crashes lymphd counted", val, "all, 0 drops",
		     storm.danger >= crashed && !storm.drops ? "ok" : "MISS");
	return 0;
}
