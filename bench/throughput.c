// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/throughput: how many records per second lymphd drains with no
 * loss, and what it reports when offered twice that.
 *
 * No workload on two CPUs makes a million real forks a second, so the
 * kernel side is replaced, and only it:
 *  1. the real sensors (lymphd's skeleton) record one fork + exec of
 *     /bin/true + exit; those three records, byte for byte, are the
 *     templates;
 *  2. a real lymphd is started (observe mode, built-in policy; --quiet: it
 *     classifies, scores and counts every record but prints none; then
 *     again with --json, every record formatted and written to
 *     /dev/null), pinned to one CPU;
 *  3. bench/bpf/replay.bpf.c, loaded with lymphd's own ring and drop
 *     counter (found through /proc/PID/fdinfo), copies the templates into
 *     that ring exactly as the sensors write (reserve, submit without a
 *     wakeup until the 1/8 fill mark, a failed reserve counted in lymphd's
 *     drop counter); this bench runs it with BPF_PROG_TEST_RUN in batches
 *     every millisecond, paced to a target rate, on the other CPU.
 * So the figure is lymphd's drain path (ring -> classify -> per-binary
 * tables -> counters) fed with real records at a controlled rate; the cost
 * of the probes themselves is bench/overhead's business.
 *
 * A rate passes when, after lymphd's 100 ms timer has drained the rest,
 * nothing was lost: every reserve succeeded and lymphd reports 0 drops.
 * Rates rise until one fails; then twice the best rate shows the loss,
 * and that lymphd reported at least what the producer lost (its own
 * probes may lose records too).  A producer that cannot keep its pace is
 * reported as such: that is the producer's limit.  --json is measured
 * twice: with the sensors' wakeup rule before 2026-11-27 (every record
 * past the fill mark wakes lymphd) and with theirs since (the record that
 * carries the unread data across a multiple of the mark, lymph/ring_wake.h:
 * "wake on crossing", the figure of lymph as it is).
 *
 *   bench/throughput [-d BUILD_DIR] [-o REPLAY_BPF_O] [-t SECONDS] [-m MODES]   (root)
 *
 * MODES is a comma-separated subset of quiet,json,crossing (default all
 * three), to measure one of them alone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lymph/events.h"
#include "sensors.h"
#include "sensors.skel.h"
#include "bench.h"
#define TH_NO_HARNESS
#include "helpers.h"

#define TARGET_RATE	1000000.0
#define TICK_NS		1000000ULL	/* one batch per millisecond */

/* ---- 1. real records ---------------------------------------------------- */

struct capture {
	pid_t child;
	uint8_t rec[3][LYMPH_RECORD_MAX];	/* fork, exec, death */
	int have;				/* bit per slot */
};

static int on_capture(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct lymph_hdr *h = data;
	const struct lymph_task *t = (const void *)(h + 1);
	int slot = h->kind == LYMPH_EV_FORK ? 0 : h->kind == LYMPH_EV_EXEC ? 1 :
		   h->kind == LYMPH_EV_DEATH ? 2 : -1;

	if (slot < 0 || size > LYMPH_RECORD_MAX || size < sizeof(*h) + sizeof(*t) ||
	    t->pid != (uint32_t)c->child)
		return 0;
	memcpy(c->rec[slot], data, size);
	c->have |= 1 << slot;
	return 0;
}

static int capture_records(struct capture *c)
{
	struct sensors *skel = sensors__open();
	struct ring_buffer *rb = NULL;
	int err, i;

	if (!skel)
		return -errno;
	bpf_map__set_max_entries(skel->maps.events, 1 << 20);
	if (libbpf_find_vmlinux_btf_id("mark_victim", BPF_TRACE_RAW_TP) < 0)
		bpf_program__set_autoload(skel->progs.on_mark_victim, false);
	err = sensors__load(skel);
	if (!err)
		err = sensors__attach(skel);
	if (!err) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_capture, c, NULL);
		if (!rb)
			err = -errno;
	}
	if (!err) {
		c->child = fork();
		if (c->child == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		waitpid(c->child, NULL, 0);
		/* bulk records wake nobody: consume on a timer, as lymphd does */
		for (i = 0; i < 20 && c->have != 7; i++) {
			usleep(50000);
			ring_buffer__consume(rb);
		}
		if (c->have != 7)
			err = -ENODATA;
	}
	ring_buffer__free(rb);
	sensors__destroy(skel);
	return err;
}

/* ---- 2. lymphd's maps ----------------------------------------------------- */

/* fds of lymphd's ring ("events") and drop counter ("drops"). */
static int find_lymphd_maps(pid_t pid, int *ring, int *drops, uint32_t *ring_bytes)
{
	struct bpf_map_info info;

	*ring = th_process_map_fd(pid, "events", &info);
	*ring_bytes = info.max_entries;
	*drops = th_process_map_fd(pid, "drops", &info);
	if (*ring >= 0 && *drops >= 0)
		return 0;
	if (*ring >= 0)
		close(*ring);
	if (*drops >= 0)
		close(*drops);
	return -ENOENT;
}

/* ---- 3. the producer ---------------------------------------------------- */

struct replay_args {		/* as in bench/bpf/replay.bpf.c */
	uint32_t n;
	uint32_t seq;
	uint32_t submitted;
	uint32_t failed;
};

struct producer {
	struct bpf_object *obj;
	int prog_fd;
	uint32_t seq;
	uint64_t busy_ns;	/* time spent producing */
};

static int producer_open(struct producer *p, const char *path, int ring, int drops,
			 uint32_t ring_bytes, int on_crossing, const struct capture *c)
{
	struct bpf_map *m;
	uint32_t k;
	int err;

	p->obj = bpf_object__open_file(path, NULL);
	if (!p->obj)
		return -errno;
	if ((err = bpf_map__reuse_fd(bpf_object__find_map_by_name(p->obj, "events"), ring)) ||
	    (err = bpf_map__reuse_fd(bpf_object__find_map_by_name(p->obj, "drops"), drops)))
		return err;
	/* .rodata is one struct: { wake_mark_bytes, wake_on_crossing } */
	m = bpf_object__find_map_by_name(p->obj, ".rodata");
	if (m) {
		size_t sz;
		uint64_t *cfg = (uint64_t *)bpf_map__initial_value(m, &sz);

		if (!cfg || sz < 2 * sizeof(*cfg))
			return -EINVAL;
		cfg[0] = ring_bytes / 8;	/* lymphd's fill mark */
		cfg[1] = !!on_crossing;
	}
	if ((err = bpf_object__load(p->obj)))
		return err;
	for (k = 0; k < 3; k++)
		if (bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(p->obj, "tmpl")),
					&k, c->rec[k], BPF_ANY))
			return -errno;
	p->prog_fd = bpf_program__fd(bpf_object__find_program_by_name(p->obj, "replay"));
	return p->prog_fd < 0 ? -ENOENT : 0;
}

/* Offer n records; returns how many went in (the rest were dropped). */
static int produce(struct producer *p, uint32_t n, uint64_t *submitted, uint64_t *failed)
{
	struct replay_args a = { .n = n, .seq = p->seq };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &a, .ctx_size_in = sizeof(a));

	uint64_t t0 = bench_now_ns();

	if (bpf_prog_test_run_opts(p->prog_fd, &o))
		return -errno;
	p->busy_ns += bench_now_ns() - t0;
	p->seq = a.seq;
	*submitted += a.submitted;
	*failed += a.failed;
	return 0;
}

/* ---- trials --------------------------------------------------------------- */

struct trial {
	double target, offered;		/* records/s */
	uint64_t submitted, failed;	/* by the producer */
	uint64_t received, reported;	/* by lymphd: records counted, drops reported */
	double lymphd_cpu;		/* fraction of one CPU */
	double producer_ns;		/* per record offered */
};

static uint64_t lymphd_records(struct json_object *o)
{
	return bench_status_fork_records(o) + bench_status_u64(o, "exec") +
	       bench_status_u64(o, "death");
}

static int run_trial(struct producer *p, struct bench_lymphd *l, double rate, double secs,
		     struct trial *t)
{
	uint64_t t0, next, end, c0, wall;
	double owed = 0;
	struct json_object *o;
	uint64_t r0, d0;
	int err = 0;

	memset(t, 0, sizeof(*t));
	t->target = rate;
	o = bench_lymphd_status(l);
	if (!o)
		return -EIO;
	r0 = lymphd_records(o);
	d0 = bench_status_u64(o, "drops");
	json_object_put(o);

	c0 = bench_cpu_ns(l->pid);
	p->busy_ns = 0;
	t0 = next = bench_now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (next < end && !err) {
		struct timespec ts = { (time_t)(next / 1000000000ULL), (long)(next % 1000000000ULL) };
		uint32_t n;

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		owed += rate * TICK_NS / 1e9;
		n = (uint32_t)owed;
		owed -= n;
		if (n)
			err = produce(p, n, &t->submitted, &t->failed);
		next += TICK_NS;
	}
	wall = bench_now_ns() - t0;
	t->offered = (double)(t->submitted + t->failed) * 1e9 / wall;
	t->producer_ns = t->submitted + t->failed ? (double)p->busy_ns / (t->submitted + t->failed) : 0;
	/* lymphd drains the rest and checks its drop counter on its 100 ms
	 * timer; wait for a few of them. */
	usleep(350000);
	t->lymphd_cpu = (double)(bench_cpu_ns(l->pid) - c0) / (bench_now_ns() - t0);
	o = bench_lymphd_status(l);
	if (!o)
		return -EIO;
	t->received = lymphd_records(o) - r0;
	t->reported = bench_status_u64(o, "drops") - d0;
	json_object_put(o);
	return err;
}

static int trial_passed(const struct trial *t)
{
	/* offered within 2 % of the target: else the producer was the limit */
	return !t->failed && !t->reported && t->received >= t->submitted &&
	       t->offered >= 0.98 * t->target;
}

static void print_trial(const struct trial *t)
{
	printf("# %8.0f/s offered %8.0f/s (%5.0f ns each)  submitted %8llu  lost %7llu  "
	       "lymphd got %8llu, reported lost %7llu, CPU %5.1f %%  %s\n",
	       t->target, t->offered, t->producer_ns, (unsigned long long)t->submitted,
	       (unsigned long long)t->failed, (unsigned long long)t->received,
	       (unsigned long long)t->reported, t->lymphd_cpu * 100,
	       trial_passed(t) ? "no loss" : t->failed || t->reported ? "LOSS" : "producer-limited");
	fflush(stdout);
}

/*
 * Step the rate up until a trial loses records (or the producer cannot
 * offer more), then offer twice the best rate.  Prints the figures.
 */
static int measure(const char *build, const char *replay_path, const char *mode,
		   const char *const *lymphd_args, int on_crossing, double secs,
		   const struct capture *cap, int lymphd_cpu, int producer_cpu)
{
	static const double rates[] = { 25e3, 50e3, 100e3, 150e3, 250e3, 400e3, 600e3, 1e6, 1.5e6, 2e6,
					3e6, 4e6, 6e6, 8e6 };
	struct bench_lymphd l;
	struct producer prod = { 0 };
	struct trial t = { 0 }, best = { 0 }, twice = { 0 };
	int err, ring = -1, drops = -1, capped = 1;
	uint32_t ring_bytes = 0;
	char name[160], val[160];
	unsigned int i;

	err = bench_lymphd_init(&l, build, "throughput", lymphd_cpu);
	if (!err)
		err = bench_lymphd_start(&l, lymphd_args);
	if (err) {
		fprintf(stderr, "throughput: failed to start %s: %s\n", l.lymphd, strerror(-err));
		bench_lymphd_cleanup(&l);
		return err;
	}
	bench_lymphd_settle(&l, 20000);
	err = find_lymphd_maps(l.pid, &ring, &drops, &ring_bytes);
	if (!err)
		err = producer_open(&prod, replay_path, ring, drops, ring_bytes, on_crossing, cap);
	if (err) {
		fprintf(stderr, "throughput: failed to load the producer into lymphd's ring: %s\n",
			strerror(-err));
		goto out;
	}
	printf("# lymphd %s on cpu %d (ring %u KiB), producer on cpu %d, %.1f s per rate, "
	       "wakeups %s\n", mode, lymphd_cpu, ring_bytes >> 10, producer_cpu, secs,
	       on_crossing ? "as the sensors: the record that crosses a multiple of the fill mark"
			   : "every record past the fill mark (the sensors' rule before 2026-11-27)");
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		int attempt;

		/* A producer that fell short without loss may have been preempted
		 * by the host: try that rate again, twice at most.  Any loss ends
		 * the search. */
		for (attempt = 0; attempt < 3; attempt++) {
			if ((err = run_trial(&prod, &l, rates[i], secs, &t)))
				goto out;
			print_trial(&t);
			if (t.offered >= 0.98 * t.target || t.failed || t.reported)
				break;
		}
		if (!trial_passed(&t)) {
			capped = t.offered < 0.98 * t.target && !t.failed && !t.reported;
			break;
		}
		best = t;
	}
	if (best.target > 0) {
		if ((err = run_trial(&prod, &l, 2 * best.target, secs, &twice)))
			goto out;
		print_trial(&twice);
		/* twice the rate, still no loss: the figure, where the search
		 * ended without a loss (the producer was the limit).  After a
		 * loss, a higher rate without one does not undo it: the figure
		 * stays the last rate below the loss. */
		if (trial_passed(&twice) && capped)
			best = twice;
	}

	snprintf(name, sizeof(name), "throughput, lymphd %s: records/s drained with no loss", mode);
	if (best.target > 0) {
		char limit[96] = "";

		if (capped)
			snprintf(limit, sizeof(limit), " (no loss at any rate: the producer, %.0f ns per "
				 "record at %.2f M/s, was the limit)", t.producer_ns, t.target / 1e6);
		snprintf(val, sizeof(val), "%s%.2f M/s, lymphd CPU %.0f %%%s", capped ? ">= " : "",
			 best.target / 1e6, best.lymphd_cpu * 100, limit);
		bench_figure(name, val, ">= 1 M/s", best.target >= TARGET_RATE ? "ok" : "MISS");
		snprintf(name, sizeof(name), "throughput, lymphd %s: loss at 2x (%.2f M/s offered)",
			 mode, twice.offered / 1e6);
		/* lymphd's count may be higher: its own probes lose records too
		 * when the ring is full */
		snprintf(val, sizeof(val), "%llu of %llu lost, %llu reported by lymphd%s",
			 (unsigned long long)twice.failed,
			 (unsigned long long)(twice.submitted + twice.failed),
			 (unsigned long long)twice.reported,
			 twice.offered < 0.98 * twice.target ? " (2x not reached)" : "");
		bench_figure(name, val, "all reported",
			     twice.reported >= twice.failed && twice.received >= twice.submitted ?
			     "ok" : "MISS");
	} else {
		bench_figure(name, "< 0.025 M/s", ">= 1 M/s", "MISS");
	}
out:
	if (prod.obj)
		bpf_object__close(prod.obj);
	if (ring >= 0)
		close(ring);
	if (drops >= 0)
		close(drops);
	bench_lymphd_stop(&l);
	bench_lymphd_cleanup(&l);
	return err;
}

int main(int argc, char **argv)
{
	static const char *const quiet_args[] = { "--quiet", "--source=bpf", NULL };
	static const char *const json_args[] = { "--json", "--source=bpf", NULL };
	const char *build = "build";
	char replay_path[4096] = "";
	double secs = 2;
	struct capture cap = { 0 };
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int c, err = 0, lymphd_cpu, producer_cpu;
	const char *modes = "quiet,json,crossing";

	while ((c = getopt(argc, argv, "d:o:t:m:")) != -1) {
		switch (c) {
		case 'd': build = optarg; break;
		case 'o': snprintf(replay_path, sizeof(replay_path), "%s", optarg); break;
		case 't': secs = atof(optarg); break;
		case 'm': modes = optarg; break;
		default:
			fprintf(stderr, "usage: throughput [-d BUILD_DIR] [-o REPLAY_BPF_O] [-t SECONDS] "
				"[-m quiet,json,crossing]\n");
			return 2;
		}
	}
	if (!(secs >= 0.5 && secs <= 60)) {
		fprintf(stderr, "throughput: -t must be 0.5 to 60 seconds\n");
		return 2;
	}
	if (!replay_path[0])
		snprintf(replay_path, sizeof(replay_path), "%s/bench/replay.bpf.o", build);
	if (geteuid() != 0) {
		fprintf(stderr, "throughput: must run as root (it loads BPF programs)\n");
		return 1;
	}
	if (access(replay_path, R_OK)) {
		fprintf(stderr, "throughput: %s: %s (bench/run-all builds it from bench/bpf/replay.bpf.c)\n",
			replay_path, strerror(errno));
		return 1;
	}
	lymphd_cpu = ncpu - 1;
	producer_cpu = ncpu > 1 ? 0 : -1;

	err = capture_records(&cap);
	if (err) {
		fprintf(stderr, "throughput: failed to capture records from the sensors: %s\n",
			strerror(-err));
		return 1;
	}
	bench_pin(0, producer_cpu);
	printf("# throughput: replaying real records (fork %u B, exec %u B, death %u B, in turn) "
	       "into lymphd's ring\n", ((struct lymph_hdr *)cap.rec[0])->size,
	       ((struct lymph_hdr *)cap.rec[1])->size, ((struct lymph_hdr *)cap.rec[2])->size);
	bench_warn_other_lymphd(0);

	/* --quiet: lymphd's own work per record; --json: plus formatting and
	 * writing every record (to /dev/null). */
	if (strstr(modes, "quiet"))
		err = measure(build, replay_path, "--quiet", quiet_args, 0, secs, &cap, lymphd_cpu,
			      producer_cpu);
	if (!err && strstr(modes, "json"))
		err = measure(build, replay_path, "--json", json_args, 0, secs, &cap, lymphd_cpu,
			      producer_cpu);
	/* The same, waking lymphd once per crossing of the fill mark: the
	 * sensors' wakeup rule (the mode above is their rule before). */
	if (!err && strstr(modes, "crossing"))
		err = measure(build, replay_path, "--json, wake on crossing", json_args, 1, secs, &cap,
			      lymphd_cpu, producer_cpu);
	if (err) {
		fprintf(stderr, "throughput: stopped: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
