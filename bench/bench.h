/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the benchmarks (each bench C file is built on its own, so
 * these are static inline): clocks, the figure lines bench/run-all
 * collects, and a lymphd started, queried and stopped by the bench.
 */
#ifndef LYMPH_BENCH_H
#define LYMPH_BENCH_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "clock.h"

/* CLOCK_MONOTONIC ns (the benchmarks link liblymph.a: lib/clock). */
static inline uint64_t bench_now_ns(void)
{
	return clock_mono_ns();
}

/*
 * One line per figure for bench/run-all:
 *   figure<TAB>name<TAB>value<TAB>target<TAB>verdict (ok, MISS or -)
 * Every other line a bench prints starts with '#'.
 */
static inline void bench_figure(const char *name, const char *value, const char *target,
				const char *verdict)
{
	printf("figure\t%s\t%s\t%s\t%s\n", name, value, target, verdict);
	fflush(stdout);
}

static inline int bench_pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set) ? -errno : 0;
}

/* CPU time a process has used, ns: /proc/PID/schedstat's first field
 * (exact, unlike the tick-sampled utime + stime). */
static inline uint64_t bench_cpu_ns(pid_t pid)
{
	unsigned long long v = 0;
	char p[64];
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/schedstat", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* A field of /proc/PID/status in kB ("VmRSS", "VmHWM"), or -1. */
static inline long bench_status_kb(pid_t pid, const char *field)
{
	char p[64], line[256];
	size_t len = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Another lymphd's probes run in every block of every setting. */
static inline void bench_warn_other_lymphd(pid_t ours)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' || atoi(e->d_name) == ours)
			continue;
		snprintf(p, sizeof(p), "/proc/%s/comm", e->d_name);
		f = fopen(p, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "lymphd\n"))
			printf("# warning: another lymphd (pid %s) is running; its probes and its "
			       "work are in every measurement\n", e->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
}

/* ---- a lymphd of the bench's own ---------------------------------------- */

/*
 * A lymphd of the bench's own: observe mode (--dry-run), the built-in
 * policy (an empty policy file, so the host's /etc/lymph does not change
 * the figures), its journal, state and control socket in a fresh
 * directory that bench_lymphd_cleanup() removes.
 */
struct bench_lymphd {
	pid_t pid;
	char lymphd[4096], lymphctl[4096];
	char dir[64];		/* mkdtemp'd; empty when not made */
	char socket[108], conf[96], journal[96];
	int cpu;		/* pinned here; -1: anywhere */
};

static inline int bench_lymphd_init(struct bench_lymphd *l, const char *build,
				    const char *name, int cpu)
{
	FILE *f;

	memset(l, 0, sizeof(*l));
	snprintf(l->lymphd, sizeof(l->lymphd), "%s/lymphd", build);
	snprintf(l->lymphctl, sizeof(l->lymphctl), "%s/lymphctl", build);
	snprintf(l->dir, sizeof(l->dir), "/tmp/lymph-bench-%s.XXXXXX", name);
	if (!mkdtemp(l->dir)) {
		l->dir[0] = 0;
		return -errno;
	}
	snprintf(l->socket, sizeof(l->socket), "%s/lymphd.sock", l->dir);
	snprintf(l->conf, sizeof(l->conf), "%s/lymph.conf", l->dir);
	snprintf(l->journal, sizeof(l->journal), "--journal=%s/journal", l->dir);
	f = fopen(l->conf, "we");
	if (!f)
		return -errno;
	fclose(f);
	l->cpu = cpu;
	return 0;
}

/*
 * Policy lines for this lymphd only (e.g. -b of bench/latency: the -B
 * side's settings), in a drop-in beside its policy file (CONF.d/, which
 * lymphd reads after it); "\\n" in text stands for a newline, for a
 * command line's convenience.
 */
static inline int bench_lymphd_dropin(struct bench_lymphd *l, const char *text)
{
	char path[160];
	const char *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s.d", l->conf);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s.d/bench.conf", l->conf);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	for (c = text; *c; c++) {
		if (c[0] == '\\' && c[1] == 'n')
			fputc('\n', f), c++;
		else
			fputc(*c, f);
	}
	fputc('\n', f);
	return fclose(f) ? -errno : 0;
}

/* Remove the directory and what lymphd left in it. */
static inline void bench_lymphd_cleanup(struct bench_lymphd *l)
{
	DIR *d;
	struct dirent *e;
	char dropin[160];

	if (!l->dir[0])
		return;
	snprintf(dropin, sizeof(dropin), "%s.d/bench.conf", l->conf);
	unlink(dropin);
	snprintf(dropin, sizeof(dropin), "%s.d", l->conf);
	rmdir(dropin);
	d = opendir(l->dir);
	while (d && (e = readdir(d))) {
		char p[400];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", l->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(l->dir);
	l->dir[0] = 0;
}

/*
 * Start lymphd with `args` (NULL-terminated, after the program name; the
 * bench adds -c, --journal, --socket and --dry-run) and wait until it has
 * announced itself, i.e. its probes are attached.  stdout goes to
 * /dev/null.
 */
static inline int bench_lymphd_start(struct bench_lymphd *l, const char *const *args)
{
	char line[512], sockarg[128];
	const char *argv[24];
	int pfd[2], ok = 0, n = 0;
	FILE *err;

	argv[n++] = l->lymphd;
	argv[n++] = "-c";
	argv[n++] = l->conf;
	argv[n++] = l->journal;
	argv[n++] = "--dry-run";
	while (*args && n < 20)
		argv[n++] = *args++;
	snprintf(sockarg, sizeof(sockarg), "--socket=%s", l->socket);
	argv[n++] = sockarg;
	argv[n] = NULL;
	unlink(l->socket);
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	l->pid = fork();
	if (l->pid < 0)
		return -errno;
	if (l->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		bench_pin(0, l->cpu);
		dup2(devnull, 1);
		dup2(pfd[1], 2);
		execv(l->lymphd, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	err = fdopen(pfd[0], "r");
	while (err && fgets(line, sizeof(line), err)) {
		if (strstr(line, "control socket")) {
			ok = 1;
			break;
		}
		fprintf(stderr, "# lymphd: %s", line);
	}
	/* lymphd writes stderr only on trouble later; a closed pipe is harmless */
	if (err)
		fclose(err);
	else
		close(pfd[0]);
	if (!ok) {
		waitpid(l->pid, NULL, 0);
		l->pid = 0;
		return -EIO;
	}
	return 0;
}

/*
 * Wait until lymphd has finished starting (its first scans of /proc and of
 * the binaries it watches): until it uses under 2 % of a CPU over 200 ms,
 * at most max_ms.  Returns how long it took, ms.
 */
static inline int bench_lymphd_settle(struct bench_lymphd *l, int max_ms)
{
	int waited = 0;

	while (waited < max_ms) {
		uint64_t c0 = bench_cpu_ns(l->pid);

		usleep(200000);
		waited += 200;
		if (bench_cpu_ns(l->pid) - c0 < 4000000ULL)
			break;
	}
	return waited;
}

/* `lymphctl status --json`, parsed; NULL on failure. */
static inline struct json_object *bench_lymphd_status(struct bench_lymphd *l)
{
	char cmd[4400], buf[65536];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s --socket=%s status --json", l->lymphctl, l->socket);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, p);
	pclose(p);
	buf[n] = 0;
	return json_tokener_parse(buf);
}

/* A counter from a status object: "drops", or counters.<kind>. */
static inline uint64_t bench_status_u64(struct json_object *o, const char *counter)
{
	struct json_object *c, *v;

	if (!o)
		return 0;
	if (!strcmp(counter, "drops"))
		return json_object_object_get_ex(o, "drops", &v) ? (uint64_t)json_object_get_int64(v) : 0;
	if (json_object_object_get_ex(o, "counters", &c) && json_object_object_get_ex(c, counter, &v))
		return (uint64_t)json_object_get_int64(v);
	return 0;
}

/* The fork records lymphd handled: counters.fork_records where lymphd has
 * it (counters.fork is then every fork the sensors counted, recorded or
 * not: lymphd.8, --no-fork), counters.fork before. */
static inline uint64_t bench_status_fork_records(struct json_object *o)
{
	struct json_object *c, *v;

	if (o && json_object_object_get_ex(o, "counters", &c) &&
	    json_object_object_get_ex(c, "fork_records", &v))
		return (uint64_t)json_object_get_int64(v);
	return bench_status_u64(o, "fork");
}

static inline void bench_lymphd_stop(struct bench_lymphd *l)
{
	if (l->pid <= 0)
		return;
	kill(l->pid, SIGTERM);
	waitpid(l->pid, NULL, 0);
	l->pid = 0;
	unlink(l->socket);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n), n > 0; sorts v (so v[0] and v[n - 1] are the
 * min and max afterwards). */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
