// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/latency: time from a child's crash to lymphd reporting it, and
 * where that time goes.
 *
 * Each child (this program again, vfork + exec) writes CLOCK_MONOTONIC
 * into shared memory just before it dereferences NULL; the clock stops
 * when lymphd's line for it reaches the bench (the poll() after which the
 * bench reads it; its parse comes after and is printed apart).  The
 * event's own ts_ns (stamped in the exit probe) splits it into the
 * kernel's part (signal delivery, the exit path) and the delivery (ring
 * wakeup, lymphd's work, the pipe).
 *
 * lymphd runs --json in observe mode with a [quarantine] section (fork and
 * exec tracing off, so only deaths flow), so the sensors wake it at once
 * for the deaths quarantine may act on and batch the rest:
 *   urgent     crashes by uid 65534: each one could count towards a
 *              quarantine, so each wakes lymphd: crash -> death line;
 *   threshold  the same with threshold = 1 (every crash is at it):
 *              crash -> lymphd's would-quarantine decision line;
 *   enforced   threshold = 1 in enforce mode (fanotify or the BPF LSM), exec
 *              tracing on (the path to mark comes from the exec): a copy
 *              of this program in lymphd's temp dir, owned by uid 65534,
 *              crashes as 65534: crash -> the "quarantine" line (result
 *              ok); released by lymphctl between crashes, not timed;
 *   batched    crashes by root (root = no: none can start a quarantine,
 *              so lymphd put them in calm_keys): they wait for lymphd's
 *              drain timer (250 ms) or the ring's fill mark;
 *   busy       urgent, with both CPUs kept busy by two spinning processes;
 *   service    a supervised service (a copy of this program, started by
 *              lymphd in enforce mode, backoff 0) crashes on request:
 *              crash -> lymphd's "died" and "restart" decision lines.  Its
 *              binary is protected from quarantine, so its death is batched
 *              in the ring: its pidfd wakes lymphd.
 * With BUILD/bench/lwrite.bpf.o (bench/run-all builds it), a probe on
 * lymphd's write(2) to its stdout splits lymphd's delivery (probe ->
 * lymphd writes the line) from this bench's own wakeup (write -> read).
 * The split of the urgent delivery: the same sensors loaded by the bench
 * (every crash wakes) and drained by a bare reader (libbpf, epoll as
 * lymphd) give probe -> reader woken (the ring's wakeup: irq_work, then
 * the scheduler); and by a reader that spins on the ring without sleeping,
 * probe -> record visible (no wakeup at all); with s in MODES the bare
 * reader runs again with both CPUs busy (the busy p99's split).  What lymphd adds beyond the
 * bare reader (epoll over its other fds, classify, format, stdout, the
 * pipe to this bench) is the difference of the medians.
 *
 * lymphd, each crasher and each hog run in a session of their own, as
 * systemd starts lymphd and as a host's programs are: with autogroup a
 * session is a scheduling group, and in the bench's they would share
 * its group's CPU share.  The bench's reader takes lymphd's short slice
 * (lib/slice.h); the split at lymphd's write keeps its wakeup visible.
 * Each block's fresh lymphd's first crash is printed apart too (the p99
 * keeps it): a deployed lymphd pays that first use once.
 *
 *   bench/latency [-n CRASHES] [-d BUILD_DIR] [-B OTHER_BUILD [-b CONF]] [-m MODES] [-o RAW]  (root)
 *
 * MODES: letters, default "utbsvrw": u urgent, t threshold, e enforced,
 * b batched, s busy, v service, r bare reader, w spinning reader.  lymphd's modes run
 * in 6 blocks (a fresh lymphd each); with -B, blocks of OTHER_BUILD's
 * lymphd alternate with them in random order (a before/after in one run),
 * reported apart; -b CONF adds policy lines to the -B side's lymphd ("\n"
 * between lines), so -B may be this build with one setting changed, e.g.
 * -B build -b '[lymphd]\nlatency_slice_us = 0'.  Batched: n/10 crashes, service: n/5.  -o RAW: every
 * sample of the urgent and busy modes, a line each.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lymph/events.h"
#include "sensors.h"
#include "sensors.skel.h"
#include "bench.h"
#include "procfs.h"
#include "slice.h"

#define NOBODY 65534

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One mode's samples, ns. */
struct series {
	uint64_t *total, *kern, *deliver;
	uint64_t *parsed;	/* crash -> line parsed (+ the bench's own parse) */
	uint64_t *wrote, *woke;	/* probe -> lymphd's write, that -> line read */
	uint64_t *later;	/* total, but not a fresh lymphd's first crash */
	uint64_t *first;	/* total of each fresh lymphd's first crash */
	int got, n, nw, nlater, nfirst;
};

static int series_init(struct series *s, int n)
{
	s->n = n;
	s->got = 0;
	s->total = calloc(n, sizeof(uint64_t));
	s->kern = calloc(n, sizeof(uint64_t));
	s->deliver = calloc(n, sizeof(uint64_t));
	s->parsed = calloc(n, sizeof(uint64_t));
	s->wrote = calloc(n, sizeof(uint64_t));
	s->woke = calloc(n, sizeof(uint64_t));
	s->later = calloc(n, sizeof(uint64_t));
	s->first = calloc(n, sizeof(uint64_t));
	s->nw = s->nlater = s->nfirst = 0;
	return s->total && s->kern && s->deliver && s->parsed && s->wrote && s->woke && s->later &&
	       s->first ? 0 : -ENOMEM;
}

static void series_free(struct series *s)
{
	free(s->total);
	free(s->kern);
	free(s->deliver);
	free(s->parsed);
	free(s->wrote);
	free(s->woke);
	free(s->later);
	free(s->first);
}

/* Of sorted v (n > 0): the q-quantile, us. */
static double pct(const uint64_t *v, int n, double q)
{
	return (double)v[(size_t)((n - 1) * q + 0.5)] / 1000.0;
}

static void series_sort(struct series *s)
{
	qsort(s->total, s->got, sizeof(uint64_t), cmp_u64);
	qsort(s->kern, s->got, sizeof(uint64_t), cmp_u64);
	qsort(s->deliver, s->got, sizeof(uint64_t), cmp_u64);
	qsort(s->parsed, s->got, sizeof(uint64_t), cmp_u64);
	qsort(s->wrote, s->nw, sizeof(uint64_t), cmp_u64);
	qsort(s->woke, s->nw, sizeof(uint64_t), cmp_u64);
	qsort(s->later, s->nlater, sizeof(uint64_t), cmp_u64);
	qsort(s->first, s->nfirst, sizeof(uint64_t), cmp_u64);
}

/* ---- the crashing children ---------------------------------------------- */

/*
 * The children are this program again (vfork + exec, -C): a fork()ed child
 * would leave every writable page of the bench copy-on-write, and the
 * bench's first writes after each crash (reading and parsing lymphd's
 * line) then fault, each fault flushing the other CPU's TLB by IPI: on
 * this host ~400 us at p50 counted into every sample, and in mode r the
 * child also copied and tore down the page tables of the 16 MiB ring the
 * bench maps.  A vforked child shares nothing the bench writes afterwards,
 * and dies with an address space of its own, as a crashing program does.
 */
static volatile uint64_t *stamp;	/* shared (memfd): when the child crashed */
static int stamp_fd = -1;
static char self_exe[4096];	/* this program, for the children's exec */

/* The child (-C UID FD): map the stamp, become uid, stamp, crash. */
static int crash_main(uid_t uid, int fd)
{
	struct rlimit no_core = { 0, 0 };
	volatile uint64_t *st = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (st == MAP_FAILED)
		return 4;
	setrlimit(RLIMIT_CORE, &no_core);
	if (uid && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
		return 3;
	*st = bench_now_ns();
	*(volatile int *)0 = 1;	/* the crash */
	return 0;
}

/*
 * A child (exe: this program, or a copy) that crashes as uid (0: root); its
 * pid.  In a session of its own
 * from before its exec (as posix_spawn's POSIX_SPAWN_SETSID does: setsid()
 * touches no memory of the parent's): with autogroup a session is a
 * scheduling group (see lymphd_start), and the children's exec and
 * teardown in the bench's would make the bench's reader wait.
 */
static pid_t crash_child_of(const char *exe, uid_t uid)
{
	char u[16], f[16];
	pid_t pid;

	snprintf(u, sizeof(u), "%u", (unsigned int)uid);
	snprintf(f, sizeof(f), "%d", stamp_fd);
	pid = vfork();
	if (pid == 0) {
		setsid();
		execl(exe, exe, "-C", u, f, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static pid_t crash_child(uid_t uid)
{
	return crash_child_of(self_exe, uid);
}

/* ---- lymphd's write to its stdout (bench/bpf/lwrite.bpf.c) ------------------ */

/*
 * The split of lymphd's delivery from this bench's own wakeup: a probe on
 * write(2) to lymphd's fd 1 (built by bench/run-all into
 * BUILD/bench/lwrite.bpf.o; without it the split is not printed).
 */
static struct bpf_object *lw_obj;
static struct bpf_link *lw_link;
static int lw_fd = -1;

static void lwrite_open(const char *build)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/bench/lwrite.bpf.o", build);
	if (access(path, R_OK)) {
		printf("# no %s (bench/run-all builds it): no split at lymphd's write\n", path);
		return;
	}
	lw_obj = bpf_object__open_file(path, NULL);
	if (!lw_obj || bpf_object__load(lw_obj) ||
	    !(lw_link = bpf_program__attach(bpf_object__find_program_by_name(lw_obj, "on_write")))) {
		fprintf(stderr, "latency: failed to load %s: %s; no split at lymphd's write\n", path,
			strerror(errno));
		lw_link = NULL;
		return;
	}
	lw_fd = bpf_map__fd(bpf_object__find_map_by_name(lw_obj, "lw"));
}

static void lwrite_close(void)
{
	bpf_link__destroy(lw_link);
	bpf_object__close(lw_obj);
}

/* Watch pid's writes from now on. */
static void lwrite_target(pid_t pid)
{
	uint32_t k0 = 0, k1 = 1;
	uint64_t tgid = (uint64_t)pid, zero = 0;

	if (lw_fd < 0)
		return;
	bpf_map_update_elem(lw_fd, &k0, &tgid, BPF_ANY);
	bpf_map_update_elem(lw_fd, &k1, &zero, BPF_ANY);
}

/* When lymphd last wrote to its stdout (0: unknown). */
static uint64_t lwrite_last(void)
{
	uint32_t k1 = 1;
	uint64_t at = 0;

	if (lw_fd >= 0)
		bpf_map_lookup_elem(lw_fd, &k1, &at);
	return at;
}

/* ---- lymphd ---------------------------------------------------------------- */

static FILE *lymphd_out;
static pid_t lymphd_pid;
/* Trace execs too (enforced: lymphd learns a binary's path from its exec,
 * and a quarantine by fanotify needs the path to mark it). */
static int lymphd_execs;

enum want { W_START, W_DEATH, W_DECISION, W_DIED, W_RESTART, W_QUARANTINED, W_RELEASED };

static int line_matches(struct json_object *o, enum want w, int pid)
{
	struct json_object *v, *why;

	if (w == W_START)
		return 1;
	if (w == W_DIED || w == W_RESTART)
		return json_object_object_get_ex(o, "type", &v) &&
		       !strcmp(json_object_get_string(v), "service") &&
		       json_object_object_get_ex(o, "action", &v) &&
		       !strcmp(json_object_get_string(v), w == W_DIED ? "died" : "restart") &&
		       /* the death of the instance the bench crashed */
		       (pid < 0 || (json_object_object_get_ex(o, "why", &why) &&
				    json_object_object_get_ex(why, "pid", &v) &&
				    json_object_get_int(v) == pid));
	if (!json_object_object_get_ex(o, "event", &v))
		return 0;
	if (w == W_RELEASED) /* of the quarantine (the release has no pid) */
		return !strcmp(json_object_get_string(v), "decision") &&
		       json_object_object_get_ex(o, "action", &why) &&
		       !strcmp(json_object_get_string(why), "release");
	if (w == W_DEATH)
		return !strcmp(json_object_get_string(v), "death") &&
		       json_object_object_get_ex(o, "pid", &v) && json_object_get_int(v) == pid;
	/* the quarantine decision this crash caused (enforced: in force) */
	if (w == W_QUARANTINED &&
	    !(json_object_object_get_ex(o, "action", &why) &&
	      !strcmp(json_object_get_string(why), "quarantine") &&
	      json_object_object_get_ex(o, "result", &why) &&
	      !strcmp(json_object_get_string(why), "ok")))
		return 0;
	return !strcmp(json_object_get_string(v), "decision") &&
	       json_object_object_get_ex(o, "type", &v) &&
	       !strcmp(json_object_get_string(v), "quarantine") &&
	       json_object_object_get_ex(o, "why", &why) &&
	       json_object_object_get_ex(why, "pid", &v) && json_object_get_int(v) == pid;
}

/*
 * When the line wait_line() last returned reached this bench: the return
 * of the poll() after which its bytes were read (lymphd writes a line in
 * one write, so a whole line comes with one read).  Parsing it comes
 * after, and is the bench's own time (line_parse_ns).
 */
static uint64_t line_arrived_ns, line_parsed_ns;

/* A whole line waits in stdio's buffer. */
static int line_buffered(FILE *f)
{
	return f->_IO_read_ptr && f->_IO_read_ptr < f->_IO_read_end &&
	       memchr(f->_IO_read_ptr, '\n', (size_t)(f->_IO_read_end - f->_IO_read_ptr));
}

/* Read lines until one matches (or timeout); returns the object. */
static struct json_object *wait_line(enum want w, int pid, int timeout_ms)
{
	char line[8192];
	uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	static uint64_t arrived;	/* of what stdio holds */

	while (bench_now_ns() < deadline) {
		struct pollfd pfd = { .fd = fileno(lymphd_out), .events = POLLIN };
		struct json_object *o;

		/* stdio may already hold whole lines: only poll when not. */
		if (!line_buffered(lymphd_out)) {
			if (poll(&pfd, 1, 100) <= 0)
				continue;
			arrived = bench_now_ns();
		}
		if (!fgets(line, sizeof(line), lymphd_out))
			return NULL;
		o = json_tokener_parse(line);
		if (!o)
			continue;
		if (line_matches(o, w, pid)) {
			line_arrived_ns = arrived;
			line_parsed_ns = bench_now_ns();
			return o;
		}
		json_object_put(o);
	}
	return NULL;
}

/* lymphd with policy conf (observe mode when dry_run). */
static int lymphd_start(struct bench_lymphd *l, const char *conf, int dry_run)
{
	char sockarg[128];
	int pfd[2];
	FILE *f = fopen(l->conf, "we");

	if (!f)
		return -errno;
	fputs(conf, f);
	fclose(f);
	if (pipe(pfd))
		return -errno;
	snprintf(sockarg, sizeof(sockarg), "--socket=%s", l->socket);
	fflush(stdout);
	lymphd_pid = fork();
	if (lymphd_pid == 0) {
		/* A session of its own, as systemd starts it: with autogroup
		 * (sched_autogroup_enabled) a session is a scheduling group,
		 * and lymphd in the bench's would share one group entity with
		 * the bench, its crashers and the busy mode's hogs. */
		setsid();
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(l->lymphd, l->lymphd, "--json", "--no-fork", lymphd_execs ? "--no-fork" : "--no-exec",
		      "--source=bpf",
		      "-c", l->conf, l->journal, sockarg, dry_run ? "--dry-run" : (char *)NULL,
		      (char *)NULL);
		perror("latency: exec lymphd");
		_exit(127);
	}
	close(pfd[1]);
	lwrite_target(lymphd_pid);
	lymphd_out = fdopen(pfd[0], "r");
	{
		struct json_object *start = wait_line(W_START, -1, 10000);

		if (!start) {
			fprintf(stderr, "latency: lymphd did not start (run as root after make)\n");
			kill(lymphd_pid, SIGTERM);
			waitpid(lymphd_pid, NULL, 0);
			return -EIO;
		}
		json_object_put(start);
	}
	bench_lymphd_settle(l, 5000);
	return 0;
}

static void lymphd_stop(void)
{
	kill(lymphd_pid, SIGTERM);
	/* Close first: a lymphd blocked writing to a full pipe (lines nobody
	 * reads any more) would never see its SIGTERM. */
	fclose(lymphd_out);
	lymphd_out = NULL;
	waitpid(lymphd_pid, NULL, 0);
}

/* -o FILE: every sample, a line each ("series index-in-block total kern
 * wrote woke", ns; 0 where not known), to see which crashes make a tail. */
static FILE *raw_out;
static const char *raw_series;

/* count crashes as uid, each timed to the line w; added to s. */
static void lymphd_series(struct series *s, uid_t uid, enum want w, int count, int fresh)
{
	int i;

	for (i = 0; i < count && s->got < s->n; i++) {
		struct json_object *o, *ts;
		uint64_t t1;
		pid_t pid = crash_child(uid);

		if (pid < 0)
			continue;
		o = wait_line(w, pid, 5000);
		t1 = line_arrived_ns;
		waitpid(pid, NULL, 0);
		if (!o)
			continue;
		s->total[s->got] = t1 - *stamp;
		s->parsed[s->got] = line_parsed_ns - *stamp;
		/* A fresh lymphd's first crash pays its first use of the
		 * death path (page faults), and of a CPU idle since its
		 * start: once per lymphd, once per block here. */
		if (i == 0 && fresh)
			s->first[s->nfirst++] = s->total[s->got];
		else
			s->later[s->nlater++] = s->total[s->got];
		if (w == W_DEATH && json_object_object_get_ex(o, "ts_ns", &ts)) {
			uint64_t ev = (uint64_t)json_object_get_int64(ts);

			uint64_t wr = lwrite_last();

			s->kern[s->got] = ev - *stamp;
			s->deliver[s->got] = t1 - ev;
			/* the write that carried this line: after the probe,
			 * before the line came (a later line's is no use) */
			if (wr > ev && wr <= t1) {
				s->wrote[s->nw] = wr - ev;
				s->woke[s->nw++] = t1 - wr;
			}
			if (raw_out && raw_series)
				fprintf(raw_out, "%s %d %llu %llu %llu %llu\n", raw_series, i,
					(unsigned long long)s->total[s->got],
					(unsigned long long)s->kern[s->got],
					(unsigned long long)(wr > ev && wr <= t1 ? wr - ev : 0),
					(unsigned long long)(wr > ev && wr <= t1 ? t1 - wr : 0));
		}
		s->got++;
		json_object_put(o);
	}
}

/* ---- enforced quarantine at the threshold ------------------------------------ */

/* A copy of this program at l->dir/qbin (a fresh inode), owned by uid 65534. */
static int qbin_prepare(const struct bench_lymphd *l, char *path, size_t len)
{
	int in, out, err = 0;
	ssize_t n;

	snprintf(path, len, "%s/qbin", l->dir);
	unlink(path);
	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	while (in >= 0 && out >= 0 && (n = copy_file_range(in, NULL, out, NULL, 1 << 20, 0)) > 0)
		;
	if (in < 0 || out < 0 || n < 0 || fchown(out, NOBODY, NOBODY))
		err = -errno;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return err;
}

/* count crashes of qbin as 65534, each timed to its "quarantine" line, then
 * released (`lymphctl release`, not timed) so the next one counts again. */
static void enforced_series(const struct bench_lymphd *l, const char *qbin, struct series *s,
			    int count)
{
	char sockarg[128];
	int i;

	snprintf(sockarg, sizeof(sockarg), "--socket=%s", l->socket);
	for (i = 0; i < count && s->got < s->n; i++) {
		struct json_object *o;
		uint64_t t1;
		pid_t pid = crash_child_of(qbin, NOBODY), ctl;

		if (pid < 0)
			continue;
		o = wait_line(W_QUARANTINED, pid, 5000);
		t1 = line_arrived_ns;
		waitpid(pid, NULL, 0);
		if (o) {
			s->total[s->got] = t1 - *stamp;
			s->parsed[s->got++] = line_parsed_ns - *stamp;
			json_object_put(o);
		}
		ctl = fork();
		if (ctl == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1);
			execl(l->lymphctl, l->lymphctl, sockarg, "release", qbin, "--uid", "65534",
			      (char *)NULL);
			_exit(127);
		}
		if (ctl > 0)
			waitpid(ctl, NULL, 0);
		/* its line read now: read with the next crash's, it would give
		 * that one the poll() time of before its crash */
		json_object_put(wait_line(W_RELEASED, -1, 5000));
	}
}

/* ---- a supervised service ------------------------------------------------- */

/* The service (this program, -S DIR): wait for a byte on DIR/go, stamp the
 * time into DIR/stamp, crash. */
static int service_child(const char *dir)
{
	struct rlimit no_core = { 0, 0 };
	char path[256];
	uint64_t t;
	int fd, st;
	pid_t me;
	char c;

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* lymphd leaves services running */
	/* who crashes next, known to the bench before the fifo opens */
	snprintf(path, sizeof(path), "%s/pid", dir);
	st = open(path, O_WRONLY | O_CREAT, 0600);
	me = getpid();
	if (st < 0 || pwrite(st, &me, sizeof(me), 0) != sizeof(me))
		return 4;
	close(st);
	snprintf(path, sizeof(path), "%s/go", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1)
		return 3;
	snprintf(path, sizeof(path), "%s/stamp", dir);
	st = open(path, O_WRONLY | O_CREAT, 0600);
	t = bench_now_ns();
	if (st < 0 || pwrite(st, &t, sizeof(t), 0) != sizeof(t))
		return 4;
	*(volatile int *)0 = 1;	/* the crash */
	return 0;
}

/* The service's policy: enforce, no backoff, the breaker never opens. */
static void service_conf(const struct bench_lymphd *l, char *buf, size_t len)
{
	snprintf(buf, len,
		 "[lymphd]\nmode = enforce\n"
		 "[quarantine]\nthreshold = 1000000000\n"
		 "[weather]\nbackoff_factor_stormy = 1\n"
		 "[throttle]\nbudget = 1000000\nburst = 1000000\n"
		 "[service svc]\nstart = %s/svc -S %s\nexe = %s/svc\n"
		 "backoff_min = 0\nbackoff_max = 1s\nsettle = 0\nhealthy_after = 1ms\n"
		 "breaker_failures = 1000\nbreaker_window = 1ms\n", l->dir, l->dir, l->dir);
}

/* The previous block's instance of the service, if it still runs (its
 * SIGKILL at lymphd's exit is asynchronous): killed, and waited for, so
 * that the next lymphd cannot adopt it (a pid in its journal). */
static void service_kill_left(const char *svc)
{
	int tries;

	for (tries = 0; tries < 200; tries++) {
		struct proc_iter it;
		int left = 0;
		long v;

		if (proc_iter_open(&it, "/proc"))
			return;
		while ((v = proc_iter_next(&it)) >= 0) {
			char exe[64], target[256];
			ssize_t len;

			snprintf(exe, sizeof(exe), "/proc/%ld/exe", v);
			len = readlink(exe, target, sizeof(target) - 1);
			if (len <= 0)
				continue;
			target[len] = 0;
			if (!strcmp(target, svc) || (!strncmp(target, svc, strlen(svc)) &&
						     !strcmp(target + strlen(svc), " (deleted)"))) {
				kill((pid_t)v, SIGKILL);
				left++;
			}
		}
		proc_iter_close(&it);
		if (!left)
			return;
		usleep(10000);
	}
}

/* A copy of this program as the service's binary (its own inode; a new
 * file renamed over the old one, which may still be mapped). */
static int service_prepare(const struct bench_lymphd *l)
{
	char path[256], tmp[272], buf[65536];
	int in, out, err = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/svc", l->dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	service_kill_left(path);
	in = open("/proc/self/exe", O_RDONLY);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			err = -EIO;
	if (in < 0 || out < 0)
		err = -errno;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (!err && rename(tmp, path))
		err = -errno;
	snprintf(path, sizeof(path), "%s/go", l->dir);
	unlink(path);
	if (!err && mkfifo(path, 0600))
		err = -errno;
	return err;
}

/* count crashes of the service: crash -> "died" line added to died,
 * -> "restart" line to restart. */
static void service_series(const struct bench_lymphd *l, struct series *died, struct series *restart,
			   int count)
{
	char go[256], stampf[256], pidf[256];
	int i;

	snprintf(go, sizeof(go), "%s/go", l->dir);
	snprintf(stampf, sizeof(stampf), "%s/stamp", l->dir);
	snprintf(pidf, sizeof(pidf), "%s/pid", l->dir);
	for (i = 0; i < count && died->got < died->n; i++) {
		uint64_t deadline = bench_now_ns() + 10000000000ULL, t0 = 0, t1, t2;
		struct json_object *o;
		int fd = -1, sf;
		pid_t svc = 0;

		/* the service is up again when it has the fifo open */
		while (bench_now_ns() < deadline &&
		       (fd = open(go, O_WRONLY | O_NONBLOCK)) < 0 && errno == ENXIO)
			usleep(1000);
		if (fd < 0)
			break;
		/* Its pid, written before it opened the fifo: the died line to
		 * wait for is of this instance (a fresh lymphd may report one
		 * found dead at its start, with another stamp). */
		sf = open(pidf, O_RDONLY);
		if (sf < 0 || pread(sf, &svc, sizeof(svc), 0) != sizeof(svc) || svc <= 0 ||
		    write(fd, "x", 1) != 1) {
			if (sf >= 0)
				close(sf);
			close(fd);
			break;
		}
		close(sf);
		close(fd);
		o = wait_line(W_DIED, svc, 10000);
		t1 = line_arrived_ns;
		json_object_put(o);
		if (!o)
			continue;
		o = wait_line(W_RESTART, -1, 10000);
		t2 = line_arrived_ns;
		json_object_put(o);
		sf = open(stampf, O_RDONLY);
		if (sf < 0 || pread(sf, &t0, sizeof(t0), 0) != sizeof(t0)) {
			if (sf >= 0)
				close(sf);
			continue;
		}
		close(sf);
		died->total[died->got++] = t1 - t0;
		if (o)
			restart->total[restart->got++] = t2 - t0;
	}
}

/* ---- a bare reader of the same sensors ------------------------------------ */

struct bare {
	struct sensors *skel;
	struct ring_buffer *rb;
	pid_t me;			/* the crashers' parent: this bench */
	volatile uint64_t seen_ns;	/* when the reader had its record */
	volatile uint64_t ev_ns;	/* its ts_ns */
	volatile int stop, spin;
	pthread_t thread;
};

static int bare_record(void *ctx, void *data, size_t size)
{
	struct bare *b = ctx;
	const struct lymph_hdr *h = data;

	if (size >= sizeof(struct lymph_death) && h->kind == LYMPH_EV_DEATH &&
	    ((const struct lymph_death *)data)->task.ppid == (uint32_t)b->me && !b->seen_ns) {
		b->ev_ns = h->ts_ns;
		b->seen_ns = bench_now_ns();
	}
	return 0;
}

static void *bare_main(void *arg)
{
	struct bare *b = arg;

	(void)slice_set_short(SLICE_SHORT_NS);	/* lymphd's slice (lymphd.c) */
	while (!b->stop) {
		if (b->spin)
			ring_buffer__consume(b->rb);
		else
			ring_buffer__poll(b->rb, 100);
	}
	return NULL;
}

static int bare_open(struct bare *b, int spin)
{
	int err;

	memset(b, 0, sizeof(*b));
	b->spin = spin;
	b->me = getpid();
	b->skel = sensors__open();
	if (!b->skel)
		return -errno;
	/* lymphd's ring and mark; every crash wakes (wake_keyed = 0) */
	b->skel->rodata->want_fork = 0;
	b->skel->rodata->want_exec = 0;
	b->skel->rodata->wake_mark_bytes = (8u << 20) / 8;
	if (libbpf_find_vmlinux_btf_id("mark_victim", BPF_TRACE_RAW_TP) < 0)
		bpf_program__set_autoload(b->skel->progs.on_mark_victim, false);
	if ((err = sensors__load(b->skel)) || (err = sensors__attach(b->skel)))
		return err;
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), bare_record, b, NULL);
	if (!b->rb)
		return -errno;
	if ((err = pthread_create(&b->thread, NULL, bare_main, b)))
		return -err;
	return 0;
}

static void bare_close(struct bare *b)
{
	if (b->rb) {
		b->stop = 1;
		pthread_join(b->thread, NULL);
		ring_buffer__free(b->rb);
	}
	sensors__destroy(b->skel);
}

static void bare_series(struct bare *b, struct series *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		uint64_t deadline;
		pid_t pid;

		b->seen_ns = 0;
		pid = crash_child(0);
		if (pid < 0)
			continue;
		waitpid(pid, NULL, 0);
		deadline = bench_now_ns() + 5000000000ULL;
		while (!b->seen_ns && bench_now_ns() < deadline)
			usleep(200);
		if (!b->seen_ns)
			continue;
		s->total[s->got] = b->seen_ns - *stamp;
		s->kern[s->got] = b->ev_ns - *stamp;
		s->deliver[s->got] = b->seen_ns - b->ev_ns;
		s->got++;
	}
	series_sort(s);
}

/* ---- busy CPUs ----------------------------------------------------------------- */

static pid_t hogs[8];
static int nhogs;

static void hogs_start(int n)
{
	int i;

	for (i = 0; i < n && i < 8; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			volatile unsigned long x = 0;

			/* the host's busy work, not the bench's: sessions of
			 * their own (autogroup, see lymphd_start) */
			setsid();
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				x++;
		}
		if (pid > 0)
			hogs[nhogs++] = pid;
	}
}

static void hogs_stop(void)
{
	while (nhogs > 0) {
		kill(hogs[--nhogs], SIGKILL);
		waitpid(hogs[nhogs], NULL, 0);
	}
}

/* ---- report ------------------------------------------------------------------ */

static void report(const char *what, const struct series *s, const char *target, double p99_max_us,
		   int with_split)
{
	char name[160], val[160];

	printf("# %-34s %d/%d   p50 %8.1f us   p99 %8.1f us   max %8.1f us\n", what, s->got, s->n,
	       s->got ? pct(s->total, s->got, 0.5) : 0, s->got ? pct(s->total, s->got, 0.99) : 0,
	       s->got ? pct(s->total, s->got, 1.0) : 0);
	if (!s->got)
		return;
	if (with_split) {
		printf("#   crash -> exit probe            p50 %8.1f us   p99 %8.1f us\n",
		       pct(s->kern, s->got, 0.5), pct(s->kern, s->got, 0.99));
		printf("#   exit probe -> line             p50 %8.1f us   p99 %8.1f us\n",
		       pct(s->deliver, s->got, 0.5), pct(s->deliver, s->got, 0.99));
		if (s->nw) {
			printf("#   exit probe -> lymphd's write    p50 %8.1f us   p99 %8.1f us  (%d)\n",
			       pct(s->wrote, s->nw, 0.5), pct(s->wrote, s->nw, 0.99), s->nw);
			printf("#   lymphd's write -> line read    p50 %8.1f us   p99 %8.1f us\n",
			       pct(s->woke, s->nw, 0.5), pct(s->woke, s->nw, 0.99));
		}
		if (s->nfirst && s->nlater)
			printf("#   a fresh lymphd's first crash   p50 %8.1f us   max %8.1f us  (%d); "
			       "the others p99 %.1f us\n", pct(s->first, s->nfirst, 0.5),
			       pct(s->first, s->nfirst, 1.0), s->nfirst, pct(s->later, s->nlater, 0.99));
		if (s->parsed[s->got - 1])	/* with the bench's parse: not the figure */
			printf("#   crash -> line parsed by bench  p50 %8.1f us   p99 %8.1f us\n",
			       pct(s->parsed, s->got, 0.5), pct(s->parsed, s->got, 0.99));
	}
	snprintf(name, sizeof(name), "latency: %s, p50 (%d/%d crashes)", what, s->got, s->n);
	snprintf(val, sizeof(val), "%.0f us", pct(s->total, s->got, 0.5));
	bench_figure(name, val, "", "-");
	snprintf(name, sizeof(name), "latency: %s, p99", what);
	snprintf(val, sizeof(val), "%.0f us (max %.0f us)", pct(s->total, s->got, 0.99),
		 pct(s->total, s->got, 1.0));
	bench_figure(name, val, target, !target[0] ? "-" :
		     pct(s->total, s->got, 0.99) < p99_max_us && s->got == s->n ? "ok" : "MISS");
	if (s->nfirst && s->nlater) {
		snprintf(name, sizeof(name), "latency: %s, p99 of all but a fresh lymphd's first crash "
			 "(%d of them apart: p50 / max)", what, s->nfirst);
		snprintf(val, sizeof(val), "%.0f us (%.0f / %.0f us)", pct(s->later, s->nlater, 0.99),
			 pct(s->first, s->nfirst, 0.5), pct(s->first, s->nfirst, 1.0));
		bench_figure(name, val, "", "-");
	}
}

/* The split at lymphd's write: lymphd's part and this bench's wakeup. */
static void report_write_split(const char *what, const struct series *s)
{
	char name[200], val[200];

	if (!s->nw)
		return;
	snprintf(name, sizeof(name), "latency: split at lymphd's write, %s (%d/%d lines)", what, s->nw,
		 s->got);
	snprintf(val, sizeof(val), "probe -> lymphd's write p50 %.0f / p99 %.0f us; "
		 "write -> line read by the bench p50 %.0f / p99 %.0f us",
		 pct(s->wrote, s->nw, 0.5), pct(s->wrote, s->nw, 0.99), pct(s->woke, s->nw, 0.5),
		 pct(s->woke, s->nw, 0.99));
	bench_figure(name, val, "", "-");
}

#define NBLOCKS 6	/* per side; A and B alternate, in random order */

/* One build's lymphd and what was measured with it. */
struct side {
	struct bench_lymphd l;
	struct series urgent, thr, batched, busy, died, restart, enf;
	const char *tag, *busy_tag;	/* for -o */
};

static int side_init(struct side *sd, const char *build, const char *tag, int n)
{
	int nb = n / 10 > NBLOCKS ? n / 10 : NBLOCKS, ns = n / 5 > NBLOCKS ? n / 5 : NBLOCKS;
	int err = bench_lymphd_init(&sd->l, build, tag, -1);

	/* whole blocks: got/n counts only what was tried */
	n -= n % NBLOCKS;
	nb -= nb % NBLOCKS;
	ns -= ns % NBLOCKS;

	if (err)
		return err;
	sd->tag = strcmp(tag, "latency") ? "B-urgent" : "A-urgent";
	sd->busy_tag = strcmp(tag, "latency") ? "B-busy" : "A-busy";
	if (series_init(&sd->urgent, n) || series_init(&sd->thr, n) || series_init(&sd->batched, nb) ||
	    series_init(&sd->busy, n) || series_init(&sd->died, ns) || series_init(&sd->restart, ns) ||
	    series_init(&sd->enf, n))
		return -ENOMEM;
	return 0;
}

static void side_free(struct side *sd)
{
	bench_lymphd_cleanup(&sd->l);
	series_free(&sd->urgent);
	series_free(&sd->thr);
	series_free(&sd->batched);
	series_free(&sd->busy);
	series_free(&sd->died);
	series_free(&sd->restart);
	series_free(&sd->enf);
}

/* One block of every lymphd mode with this side's lymphd. */
static int side_block(struct side *sd, const char *modes, int ncpu)
{
	char conf[1024];
	int err = 0;

	/* threshold out of reach: deaths only */
	if (strpbrk(modes, "ubs") &&
	    !(err = lymphd_start(&sd->l, "[quarantine]\nthreshold = 1000000000\nroot = no\n", 1))) {
		raw_series = sd->tag;
		if (strchr(modes, 'u'))
			lymphd_series(&sd->urgent, NOBODY, W_DEATH, sd->urgent.n / NBLOCKS, 1);
		if (strchr(modes, 'b')) {
			struct series warm = { 0 };

			raw_series = NULL;
			/* root's first crash wakes lymphd, which then calls
			 * root's crashes of this binary calm: not counted */
			if (!series_init(&warm, 1))
				lymphd_series(&warm, 0, W_DEATH, 1, 0);
			series_free(&warm);
			lymphd_series(&sd->batched, 0, W_DEATH, sd->batched.n / NBLOCKS, 0);
		}
		if (strchr(modes, 's')) {
			hogs_start(ncpu);
			raw_series = sd->busy_tag;
			lymphd_series(&sd->busy, NOBODY, W_DEATH, sd->busy.n / NBLOCKS,
				      !strchr(modes, 'u'));
			hogs_stop();
		}
		lymphd_stop();
	}
	/* every crash at the threshold */
	if (!err && strchr(modes, 't') &&
	    !(err = lymphd_start(&sd->l, "[quarantine]\nthreshold = 1\nroot = no\n", 1))) {
		lymphd_series(&sd->thr, NOBODY, W_DECISION, sd->thr.n / NBLOCKS, 1);
		lymphd_stop();
	}
	/* every crash at the threshold, enforced */
	if (!err && strchr(modes, 'e')) {
		char qbin[256];

		if ((err = qbin_prepare(&sd->l, qbin, sizeof(qbin))))
			fprintf(stderr, "latency: failed to copy the crasher: %s\n", strerror(-err));
		else {
			lymphd_execs = 1;
			err = lymphd_start(&sd->l, "[lymphd]\nmode = enforce\n"
				       "[quarantine]\nthreshold = 1\nroot = no\n", 0);
			lymphd_execs = 0;
			if (!err) {
				enforced_series(&sd->l, qbin, &sd->enf, sd->enf.n / NBLOCKS);
				lymphd_stop();
			}
		}
	}
	/* a supervised service, enforce mode */
	if (!err && strchr(modes, 'v')) {
		service_conf(&sd->l, conf, sizeof(conf));
		if ((err = service_prepare(&sd->l)))
			fprintf(stderr, "latency: failed to prepare the service: %s\n", strerror(-err));
		else if (!(err = lymphd_start(&sd->l, conf, 0))) {
			service_series(&sd->l, &sd->died, &sd->restart, sd->died.n / NBLOCKS);
			lymphd_stop();
		}
	}
	return err;
}

static void side_report(struct side *sd, const char *modes, const char *tag)
{
	char what[160];

	series_sort(&sd->urgent);
	series_sort(&sd->busy);
	series_sort(&sd->thr);
	series_sort(&sd->batched);
	series_sort(&sd->died);
	series_sort(&sd->restart);
	series_sort(&sd->enf);
#define WHAT(s) (snprintf(what, sizeof(what), "%s%s", s, tag), what)
	if (strchr(modes, 'u'))
		report(WHAT("crash -> lymphd line, urgent (idle)"), &sd->urgent, "< 1 ms", 1000, 1);
	if (strchr(modes, 's'))
		report(WHAT("crash -> lymphd line, urgent, both CPUs busy"), &sd->busy, "< 5 ms", 5000, 1);
	if (strchr(modes, 't'))
		report(WHAT("crash -> would-quarantine line, at threshold"), &sd->thr, "< 1 ms", 1000, 0);
	if (strchr(modes, 'e'))
		report(WHAT("crash -> quarantine line (enforced), at threshold"), &sd->enf, "", 0, 0);
	if (strchr(modes, 'b'))
		report(WHAT("crash -> lymphd line, batched (root, calm)"), &sd->batched,
		       "<= 250 ms + 1 ms", 251000, 1);
	if (strchr(modes, 'v')) {
		report(WHAT("service crash -> lymphd's died line"), &sd->died, "", 0, 0);
		report(WHAT("service crash -> restart line"), &sd->restart, "", 0, 0);
	}
	if (strchr(modes, 'u'))
		report_write_split(WHAT("urgent (idle)"), &sd->urgent);
	if (strchr(modes, 's'))
		report_write_split(WHAT("urgent, both CPUs busy"), &sd->busy);
#undef WHAT
}

int main(int argc, char **argv)
{
	const char *build = "build", *before = NULL, *modes = "utbsvrw", *bconf = NULL;
	int n = 1000, c, err = 0, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), k, nsides;
	struct side side[2];
	struct series bare = { 0 }, spin = { 0 }, bare_busy = { 0 };
	struct series *urgent = &side[0].urgent, *busy = &side[0].busy;

	if (argc == 3 && !strcmp(argv[1], "-S"))
		return service_child(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "-C"))
		return crash_main((uid_t)atoi(argv[2]), atoi(argv[3]));

	memset(side, 0, sizeof(side));
	while ((c = getopt(argc, argv, "n:d:B:b:m:o:")) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'd')
			build = optarg;
		else if (c == 'B')
			before = optarg;
		else if (c == 'b')
			bconf = optarg;
		else if (c == 'm')
			modes = optarg;
		else if (c == 'o' && !(raw_out = fopen(optarg, "we"))) {
			perror("latency: -o");
			return 2;
		} else if (c != 'o') {
			fprintf(stderr, "usage: latency [-n CRASHES] [-d BUILD_DIR] [-B OTHER_BUILD [-b CONF]] "
					"[-m MODES] [-o RAW]\n");
			return 2;
		}
	}
	if (n < NBLOCKS || n > 100000) {
		fprintf(stderr, "latency: -n must be %d..100000\n", NBLOCKS);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "latency: must run as root (it starts lymphd and loads BPF programs)\n");
		return 1;
	}
	nsides = before ? 2 : 1;
	if (readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) <= 0) {
		perror("latency: readlink /proc/self/exe");
		return 1;
	}
	stamp_fd = memfd_create("latency-stamp", 0);	/* inherited by the -C children */
	stamp = stamp_fd < 0 || ftruncate(stamp_fd, 4096) ? MAP_FAILED :
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, stamp_fd, 0);
	if (stamp == MAP_FAILED || series_init(&bare, n) || series_init(&spin, n) ||
	    series_init(&bare_busy, n)) {
		perror("latency: setup");
		return 1;
	}
	if (bconf && !before) {
		fprintf(stderr, "latency: -b needs -B (the side whose lymphd it configures)\n");
		return 2;
	}
	for (k = 0; k < nsides && !err; k++)
		err = side_init(&side[k], k ? before : build, k ? "latency-b" : "latency", n);
	if (!err && bconf)
		err = bench_lymphd_dropin(&side[1].l, bconf);
	if (err) {
		fprintf(stderr, "latency: failed to set up: %s\n", strerror(-err));
		return 1;
	}
	printf("# latency: %d crashes per mode (batched: %d, service: %d), %d CPUs, %d blocks%s%s%s%s%s\n",
	       n, side[0].batched.n, side[0].died.n, ncpu, NBLOCKS, before ? ", interleaved with -B " : "",
	       before ? before : "", bconf ? " (-b '" : "", bconf ? bconf : "", bconf ? "')" : "");
	bench_warn_other_lymphd(0);
	/* The bench's reader takes the short slice lymphd takes (lib/slice.h):
	 * woken by lymphd's line, it would otherwise often wait for a busy
	 * CPU's next tick (4 ms at HZ 250), its own wakeup counted into every
	 * figure.  Reset on fork: the crashers, the hogs and lymphd keep their
	 * own.  The split at lymphd's write still shows this wakeup apart. */
	if (slice_set_short(SLICE_SHORT_NS))
		printf("# the bench's reader keeps the default slice (a kernel before 6.12?)\n");
	if (strpbrk(modes, "us"))
		lwrite_open(build);
	srand((unsigned int)time(NULL));

	/* lymphd's modes in blocks; with -B the two builds alternate */
	for (k = 0; k < NBLOCKS && !err && strpbrk(modes, "ubstve"); k++) {
		int first = nsides == 2 ? rand() % 2 : 0, j;

		for (j = 0; j < nsides && !err; j++)
			err = side_block(&side[(first + j) % nsides], modes, ncpu);
	}
	/* the bare readers, no lymphd */
	if (!err && strpbrk(modes, "rw")) {
		struct bare b;

		if (strchr(modes, 'r')) {
			if (!(err = bare_open(&b, 0))) {
				bare_series(&b, &bare);
				/* the same reader with both CPUs busy: the
				 * kernel's and the scheduler's share of busy */
				if (strchr(modes, 's')) {
					hogs_start(ncpu);
					bare_series(&b, &bare_busy);
					hogs_stop();
				}
			}
			bare_close(&b);
		}
		if (!err && strchr(modes, 'w')) {
			if (!(err = bare_open(&b, 1)))
				bare_series(&b, &spin);
			bare_close(&b);
		}
		if (err)
			fprintf(stderr, "latency: failed to load the sensors: %s\n", strerror(-err));
	}
	if (err)
		return 1;

	side_report(&side[0], modes, "");
	if (nsides == 2)
		side_report(&side[1], modes, " (-B build)");
	if (strchr(modes, 'r'))
		report("crash -> bare reader woken (split)", &bare, "", 0, 1);
	if (strchr(modes, 'w'))
		report("crash -> spinning reader (split)", &spin, "", 0, 1);
	if (strchr(modes, 'r') && strchr(modes, 's'))
		report("crash -> bare reader woken, both CPUs busy (split)", &bare_busy, "", 0, 1);
	if (strchr(modes, 'u') && strchr(modes, 'r') && urgent->got && bare.got) {
		double wake = pct(bare.deliver, bare.got, 0.5) -
			      (spin.got ? pct(spin.deliver, spin.got, 0.5) : 0);
		char val[200];

		snprintf(val, sizeof(val), "crash -> probe %.0f us, ring wakeup %.0f us, "
			 "lymphd (epoll, classify, format, stdout, pipe) %.0f us",
			 pct(urgent->kern, urgent->got, 0.5), wake,
			 pct(urgent->deliver, urgent->got, 0.5) - pct(bare.deliver, bare.got, 0.5));
		bench_figure("latency: split of the urgent p50", val, "", "-");
		snprintf(val, sizeof(val), "crash -> probe %.0f us, probe -> bare reader %.0f us, "
			 "probe -> lymphd line %.0f us",
			 pct(urgent->kern, urgent->got, 0.99), pct(bare.deliver, bare.got, 0.99),
			 pct(urgent->deliver, urgent->got, 0.99));
		bench_figure("latency: split of the urgent p99", val, "", "-");
	}
	if (strchr(modes, 's') && strchr(modes, 'r') && busy->got && bare_busy.got) {
		char val[200];

		snprintf(val, sizeof(val), "crash -> probe %.0f us, probe -> bare reader %.0f us, "
			 "probe -> lymphd line %.0f us",
			 pct(busy->kern, busy->got, 0.99),
			 pct(bare_busy.deliver, bare_busy.got, 0.99),
			 pct(busy->deliver, busy->got, 0.99));
		bench_figure("latency: split of the busy p99", val, "", "-");
	}
	lwrite_close();
	for (k = 0; k < nsides; k++)
		side_free(&side[k]);
	series_free(&bare);
	series_free(&spin);
	series_free(&bare_busy);
	return 0;
}
