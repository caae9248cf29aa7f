// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF source: load bpf/sensors.bpf.c, attach its tp_btf programs and
 * drain its ring buffer.  The default and best source: it sees si_code,
 * the sender of every fatal signal and the fault address.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "backlog.h"
#include "bpf_kept.h"
#include "clock.h"
#include "privs.h"
#include "procfs.h"
#include "record.h"
#include "smallfile.h"
#include "source.h"
#include "tracefs.h"
#include "sensors.h"
#include "sensors.skel.h"

#define CAP_PERFMON_NR 38 /* linux/capability.h's CAP_PERFMON, Linux 5.8 */

/* A thread that opens or closes the refused-fork probe's links while the
 * loop goes on (the kernel makes either wait: refusals_detach_async). */
struct link_worker {
	pthread_t th;
	int started; /* th is to be joined */
	int busy;    /* atomic: th is still at work */
	int err;     /* th's result: 0, or -errno (then none is left open) */
	struct probe_link links[4];
	int n;
};

/* Start fn(p) on w (busy until it says it is done): 0, or -errno. */
static int worker_start(struct link_worker *w, void *(*fn)(void *), void *p)
{
	pthread_attr_t at;
	int err;

	__atomic_store_n(&w->busy, 1, __ATOMIC_RELEASE);
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 << 10);
	err = pthread_create(&w->th, &at, fn, p);
	pthread_attr_destroy(&at);
	if (err)
		return -err;
	w->started = 1;
	return 0;
}

/* w's thread joined once it has ended (wait: however long it takes): 1,
 * or 0 while it is at work or when none was started. */
static int worker_join(struct link_worker *w, int wait)
{
	if (!w->started)
		return 0;
	if (!wait && __atomic_load_n(&w->busy, __ATOMIC_ACQUIRE))
		return 0;
	pthread_join(w->th, NULL);
	w->started = 0;
	return 1;
}

struct bpf_priv {
	struct sensors *skel;	  /* while loading; then freed (bpf_kept.h) */
	struct bpf_kept kept;	  /* the loaded sensors' descriptors */
	int drops_fd, calm_fd, forks_fd;
	struct ring_buffer *rb;
	/* The refused-fork probe: its one link at the return of kernel_clone
	 * (fexit), attached for good (source_bpf_refusal_fexit), or, while
	 * armed, its four per-syscall links (refused_clone, ...) or the one
	 * on raw_syscalls:sys_exit. */
	struct probe_link refusals[4];
	int nrefusals;
	int refusals_fexit;    /* refused_kernel_clone is loaded: tried first */
	int refusals_fexit_on; /* and was attached once */
	int refusals_for_good; /* and stays attached until lymphd exits */
	int refusals_raw; /* the per-syscall tracepoints failed: on_sys_exit */
	int refusals_sc;  /* the per-syscall tracepoints were attached once */
	uint64_t sc_exit_ids[4]; /* their tracefs ids, read at load */
	int epfd; /* src->fd: the ring's epoll fd and tfd */
	int tfd;  /* timerfd: the end of a refused-fork sample */
	int tfd_armed; /* set for a sample's end not read yet: a drain reads it */
	int attach_after_close; /* asked while the last links were closing */
	/* The spin sample (source_bpf_spin_period): every spin_period_ns,
	 * when the CPUs were busy, the refused-fork probe for SPIN_SAMPLE_NS. */
	uint64_t spin_period_ns, spin_next_ns;
	uint64_t cpu_busy;    /* /proc/stat's busy ticks at the last look */
	uint64_t cpu_look_ns; /* when that was (0: never) */
	uint64_t spin_samples;
	uint64_t drops_seen; /* sum of the per-CPU counters last read */
	int ncpus;
	uint64_t *percpu; /* scratch for reading the counters */
	/* calm_keys entries written since the last reset, direct-mapped: a
	 * pair met again costs no syscall.  used: the slot holds a key. */
	struct {
		struct wake_key k;
		int used;
	} calm_seen[256];
	/* Lineages lymphd has pinned (source_bpf_pin_refusals): while there
	 * is one, the refused-fork probe stays attached. */
	size_t refusal_pins;
	/* The per-syscall links being opened off the loop (opening_start)
	 * and those being closed (refusals_detach_async). */
	struct link_worker opening, closing;
	/* A drain that finds many records handles the first DIRECT_RECORDS
	 * from the ring, then copies the rest out faster than it handles
	 * them (backlog.h): direct_left counts down; 0: copying. */
	struct backlog backlog;
	unsigned int direct_left;
	int backlog_full; /* the copying stopped: the backlog is full */
	uint64_t backlog_used_ns; /* the last drain that copied */
	int copied;		  /* this drain copied */
};

static int verbose_libbpf;

/* The probes' .bss, as lymphd mapped it (bpf_kept.h). */
static struct sensors__bss *bss_of(struct bpf_priv *p)
{
	return p->kept.bss;
}

/* Is src the BPF source, open?  (Every source_bpf_* but the open asks.) */
static int is_bpf_source(const struct source *src);

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Quiet unless -vv: lymphd's own message says what failed. */
	if (!verbose_libbpf)
		return 0;
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

/*
 * A drain's first records are handled straight from the ring: most drains
 * are a few records (a crash that wakes lymphd, a tick's batch), and a
 * copy would only cost.  Past DIRECT_RECORDS lymphd is behind: the rest is
 * copied out, BACKLOG_CHUNK handled between two emptyings of the ring.
 * The backlog holds at most BACKLOG_RINGS rings' worth; past that the
 * ring fills and the probes count what it loses, as without a backlog.
 */
#define DIRECT_RECORDS 1024
#define BACKLOG_CHUNK  256
#define BACKLOG_RINGS  16
#define BACKLOG_KEEP_NS 1000000000ULL

static int handle_record(struct source *src, const void *data, size_t size)
{
	const struct lymph_hdr *rec = data;

	/* A malformed record cannot be used, but is never lost silently:
	 * it is reported as a drop like a record the ring had no room for. */
	if (record_check(rec, size))
		return source_emit_drop(src, 1, clock_mono_ns());
	return src->sink(src->sink_ctx, rec);
}

/* Handle up to n records of the backlog, oldest first. */
static int handle_backlog(struct source *src, struct bpf_priv *p, size_t n)
{
	int err = 0;

	while (n-- && !backlog_empty(&p->backlog) && err >= 0) {
		uint32_t size;
		const void *rec = backlog_peek(&p->backlog, &size);

		err = handle_record(src, rec, size);
		backlog_pop(&p->backlog);
	}
	return err < 0 ? err : 0;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct source *src = ctx;
	struct bpf_priv *p = src->priv;
	int full;

	if (p->direct_left) {
		p->direct_left--;
		return handle_record(src, data, size);
	}
	/* libbpf counts a record consumed even when its callback fails, so
	 * this one is always kept; "full" stops the copying after it. */
	full = backlog_push(&p->backlog, data, (uint32_t)size);
	p->copied = 1;
	if (full < 0) { /* no copy (no memory, a bad size): older ones, then it */
		int err = handle_backlog(src, p, SIZE_MAX);

		return err < 0 ? err : handle_record(src, data, size);
	}
	p->backlog_full = full;
	return full ? -ENOBUFS : 0;
}

static void refusals_detach(struct bpf_priv *p)
{
	while (p->nrefusals > 0)
		probe_link_close(&p->refusals[--p->nrefusals]);
}

static void *closing_main(void *arg)
{
	struct bpf_priv *p = arg;

	while (p->closing.n > 0)
		probe_link_close(&p->closing.links[--p->closing.n]);
	__atomic_store_n(&p->closing.busy, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* The closing thread has ended (joined), or never ran: 1; 0 while busy. */
static int closing_done(struct bpf_priv *p, int wait)
{
	return !p->closing.started || worker_join(&p->closing, wait);
}

/*
 * Closing a link on a tracepoint waits for RCU grace periods in the kernel
 * (perf_event_detach_bpf_prog and perf_trace_event_unreg: synchronize_rcu
 * and synchronize_rcu_tasks_trace, since Linux 6.14 made the system call
 * tracepoints faultable): 300-560 ms for the four per-syscall links on a
 * loaded 6.18 host, during which lymphd's loop held every line the drain
 * had just read (bench/latency, batched: p99 540 ms for a 250 ms tick;
 * perf record -g: lymphd in D state in __x64_sys_close).  So the links are
 * closed by a thread of their own, and the loop goes on; 1 when handed
 * over, 0 while the last ones are still closing (tried at the next tick;
 * they stay attached meanwhile), or closed here when no thread starts.
 */
static int refusals_detach_async(struct bpf_priv *p)
{
	if (!closing_done(p, 0))
		return 0;
	memcpy(p->closing.links, p->refusals, sizeof(p->refusals));
	p->closing.n = p->nrefusals;
	p->nrefusals = 0;
	if (worker_start(&p->closing, closing_main, p))
		closing_main(p); /* here, then: late lines rather than a probe left on */
	return 1;
}

static const char *const sc_exit_names[4] = { "clone", "clone3", "fork", "vfork" };

/* What lymphd uses of the sensors once they are loaded (bpf_kept.h): the
 * rings, the drop counters, the wake keys, the kernel throttle's maps
 * (kthrottle_bpf.c), and the programs it attaches later. */
static const char *const kept_maps[] = {
	"events",	   "arm_events",     "drops",	"calm_keys", "throttle_cfg",
	"protected_tgids", "protected_uids", "buckets", "held",	     "families",
	"admin_stops",	   "lymph_stops",    "forks_seen", NULL
};
static const char *const kept_progs[] = { "refused_kernel_clone", "charged_at_call",
					  "on_sys_exit",	  "refused_clone",
					  "refused_clone3",	  "refused_fork",
					  "refused_vfork",	  NULL };

/* The tracefs ids of syscalls:sys_exit_{clone,clone3,fork,vfork}: 0 or -errno. */
static int sc_exit_ids_read(struct bpf_priv *p)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128], buf[32];
	int i, r, err = -ENOENT;

	for (r = 0; r < 2; r++) {
		for (i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/events/syscalls/sys_exit_%s/id", roots[r],
				 sc_exit_names[i]);
			err = (int)small_file_read(path, 0, buf, sizeof(buf));
			if (err < 0)
				break;
			p->sc_exit_ids[i] = strtoull(buf, NULL, 10);
			err = p->sc_exit_ids[i] ? 0 : -EINVAL;
			if (err)
				break;
		}
		if (!err)
			return 0;
	}
	return err;
}

/*
 * Attach prog to the tracepoint id through a perf event of lymphd's own
 * (pid 0, any CPU, user space only): a BPF program on a tracepoint runs
 * for every task whatever its perf event watches.  Such an event needs no
 * capability where perf_event_paranoid <= 2; at Debian's 3 it needs
 * CAP_SYS_ADMIN (or CAP_PERFMON), which lymphd keeps permitted where its
 * kernel wants it and raises for this call only (privs.c says why).  The
 * event, once open, needs it no more.
 */
static int sc_attach(int prog_fd, uint64_t id, struct probe_link *l)
{
	struct perf_event_attr a;
	int pfd, err, raised;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = id;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	raised = privs_perf_raise() == 1; /* not raised: the open goes as it is */
	pfd = (int)syscall(__NR_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (raised)
		privs_perf_lower(); /* keeps errno */
	if (pfd < 0)
		return -errno;
	err = probe_link_perf(prog_fd, pfd, l);
	if (err)
		close(pfd);
	return err;
}

/*
 * The refused-fork probe on the four system calls that fork
 * (syscalls:sys_exit_clone, clone3, fork, vfork): while attached, every
 * other system call of the host pays the kernel's slow path and a bitmap
 * test, not a BPF program (bench/overhead -a, 1000 getppid(): 1.10-1.21x
 * with the probe on raw_syscalls:sys_exit, 1.014-1.022x with these).  A
 * kernel without them (no CONFIG_FTRACE_SYSCALLS, no clone3), or that
 * refuses lymphd the perf event (perf_event_paranoid > 2), gets the raw
 * tracepoint, said once, with why: at perf_event_paranoid 3, a lymphd
 * that did not hold the capability its kernel wants there (a bounding set
 * without it).
 */
static int sc_attach_all(struct bpf_priv *p, struct probe_link *links, int *n)
{
	int i, err;

	for (i = 0; i < 4; i++) {
		char prog[32];

		snprintf(prog, sizeof(prog), "refused_%s", sc_exit_names[i]);
		err = sc_attach(bpf_kept_prog(&p->kept, prog, NULL), p->sc_exit_ids[i], &links[*n]);
		if (err) {
			char paranoid[16] = "";
			const char *why = "", *fix = "";

			while (*n > 0)
				probe_link_close(&links[--*n]);
			if (err == -EACCES || err == -EPERM)
				small_file_read("/proc/sys/kernel/perf_event_paranoid", 0, paranoid,
						sizeof(paranoid));
			paranoid[strcspn(paranoid, "\n")] = 0;
			if (*paranoid && privs_perf_cap() >= 0) {
				why = privs_perf_cap() == CAP_PERFMON_NR
					      ? ", although lymphd raised CAP_PERFMON"
					      : ", although lymphd raised CAP_SYS_ADMIN";
			} else if (*paranoid) {
				why = ", and lymphd kept no capability for it: it keeps the one "
				      "the kernel wants at its start";
				fix = " (restart lymphd, with CAP_SYS_ADMIN in its bounding set, "
				      "or set kernel.perf_event_paranoid to at most 2, for the "
				      "per-syscall tracepoints)";
			}
			fprintf(stderr,
				"lymphd: failed to attach the refused-fork probe to "
				"syscalls:sys_exit_%s: %s%s%s%s%s; it goes on raw_syscalls:sys_exit, "
				"which costs every system call of the host while it is armed%s\n",
				sc_exit_names[i], strerror(-err),
				*paranoid ? " (kernel.perf_event_paranoid is " : "", paranoid, why,
				*paranoid ? ")" : "", fix);
			return err;
		}
		(*n)++;
	}
	return 0;
}

static void *opening_main(void *arg)
{
	struct bpf_priv *p = arg;

	p->opening.err = sc_attach_all(p, p->opening.links, &p->opening.n);
	__atomic_store_n(&p->opening.busy, 0, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Opening the per-syscall links waits for the kernel too: each
 * perf_event_open on a system call tracepoint waits for an RCU grace
 * period (~5 ms on a loaded 6.18 host; the four of them more than the
 * 5.8 ms a 1 MiB ring holds at 1 M records/s: bench/throughput --json
 * lost records from 0.6 M/s, none to 2 M/s on raw_syscalls:sys_exit).
 * So they are opened by a thread of their own, as they are closed
 * (refusals_detach_async), and taken in by the loop when it has ended
 * (opening_collect): the probe runs from the moment each is attached.
 * 0 when the thread started; -errno when none could start.
 */
static int opening_start(struct bpf_priv *p)
{
	p->opening.n = 0;
	p->opening.err = 0;
	return worker_start(&p->opening, opening_main, p);
}

/* The opening thread's links taken in once it has ended (wait: joined
 * however long it takes): 1 when they are p's now, -errno when it failed
 * (it said why), 0 while it runs or when none was started. */
static int opening_collect(struct bpf_priv *p, int wait)
{
	if (!worker_join(&p->opening, wait))
		return 0;
	if (p->opening.err)
		return p->opening.err;
	while (p->opening.n > 0 && p->nrefusals < 4)
		p->refusals[p->nrefusals++] = p->opening.links[--p->opening.n];
	while (p->opening.n > 0) /* none: the loop attaches nothing else meanwhile */
		probe_link_close(&p->opening.links[--p->opening.n]);
	p->refusals_sc = 1;
	return 1;
}

/*
 * The refused-fork probe at the return of kernel_clone (fexit), where the
 * four fork calls go: a BPF trampoline on that one function, so no other
 * system call pays anything while it is attached.  A BPF link on a loaded
 * program: no capability needed (kernel/bpf/syscall.c link_create).  A
 * kernel that refuses it gets the per-syscall tracepoints, said once.
 */
static int refusals_attach_fexit(struct bpf_priv *p)
{
	enum bpf_attach_type type = BPF_TRACE_FEXIT;
	int prog = bpf_kept_prog(&p->kept, "refused_kernel_clone", &type);
	int err = probe_link_tracing(prog, type, &p->refusals[p->nrefusals]);

	if (err) {
		p->refusals_fexit = 0;
		fprintf(stderr,
			"lymphd: failed to attach the refused-fork probe to the return of "
			"kernel_clone (fexit): %s; it goes on syscalls:sys_exit_clone and the "
			"others, which cost every system call of the host a little while it is "
			"armed\n",
			strerror(-err));
		return err;
	}
	p->nrefusals++;
	p->refusals_fexit_on = 1;
	return 0;
}

/*
 * The refused-fork probe on the tracepoints costs every system call of
 * the host while attached: it is attached while the probes say a refused
 * fork can matter (a record in arm_events, refusal_until_ns), or a hold
 * ended lately (source_bpf_arm_refusals), and detached on the drain timer
 * once that time is over.  On fexit it costs the fork calls only and is
 * attached for good at lymphd's start (source_bpf_refusal_fexit), so this
 * finds it attached there (an arm before that start attaches it on fexit,
 * and that start keeps it).  Where it goes: fexit, else the per-syscall
 * tracepoints, else raw_syscalls:sys_exit.
 */
static int refusals_attach(struct bpf_priv *p)
{
	struct sensors__bss *bss = bss_of(p);

	if (!p->nrefusals && p->refusals_fexit)
		refusals_attach_fexit(p);
	if (!p->nrefusals && !p->refusals_raw) {
		int r = opening_collect(p, 0);

		if (r == 0 && p->opening.started)
			return 0; /* still opening: taken in at a later tick */
		if (r == 0 && !closing_done(p, 0)) {
			/* The last links are still closing: the same programs on
			 * the same tracepoints would be refused (EEXIST, and the
			 * raw fallback for nothing).  Opened once they are closed
			 * (refusals_tend; lymphd does not doze meanwhile). */
			p->attach_after_close = 1;
			return 0;
		}
		if (r == 0 && opening_start(p) == 0)
			return 0;
		if (r == 0) { /* no thread: opened here */
			r = sc_attach_all(p, p->refusals, &p->nrefusals);
			if (!r)
				p->refusals_sc = 1;
		}
		if (r < 0)
			p->refusals_raw = 1;
	}
	if (!p->nrefusals) {
		enum bpf_attach_type type = BPF_TRACE_RAW_TP;
		int prog = bpf_kept_prog(&p->kept, "on_sys_exit", &type);
		int err = probe_link_tracing(prog, type, &p->refusals[0]);

		if (!err) {
			p->nrefusals = 1;
		} else {
			bss->refusal_asked = 0; /* the next reason asks again */
			fprintf(stderr,
				"lymphd: failed to attach the refused-fork probe: %s; a fork bomb "
				"spinning at a pids cap below its burst is not stopped\n",
				strerror(-err));
			return err;
		}
	}
	bss->refusal_attached = 1;
	bss->refusal_asked = 0;
	return 0;
}

static void refusals_tend(struct bpf_priv *p)
{
	struct sensors__bss *bss = bss_of(p);

	closing_done(p, 0); /* a thread that has ended is joined */
	if (p->attach_after_close && closing_done(p, 0)) {
		p->attach_after_close = 0;
		refusals_attach(p);
	}
	if (p->opening.started && !__atomic_load_n(&p->opening.busy, __ATOMIC_ACQUIRE))
		refusals_attach(p); /* its links taken in, or the raw fallback */
	if (!p->nrefusals || p->refusals_for_good || p->refusal_pins ||
	    clock_mono_ns() < bss->refusal_until_ns || !closing_done(p, 0))
		return;
	/* Cleared first: a reason from now on asks to attach again. */
	bss->refusal_attached = 0;
	refusals_detach_async(p);
	if (clock_mono_ns() < bss->refusal_until_ns)
		refusals_attach(p); /* a reason came meanwhile */
}

static int on_arm(void *ctx, void *data, size_t size)
{
	struct source *src = ctx;

	(void)data;
	(void)size;
	refusals_attach(src->priv);
	return 0;
}

void source_bpf_count_stops(struct source *src, int delta)
{
	struct bpf_priv *p = src->priv;

	if (is_bpf_source(src))
		__atomic_fetch_add(&bss_of(p)->stops_kept, delta, __ATOMIC_SEQ_CST);
}

void source_bpf_count_held(struct source *src, int delta)
{
	struct bpf_priv *p = src->priv;

	if (is_bpf_source(src))
		__atomic_fetch_add(&bss_of(p)->held_kept, delta, __ATOMIC_SEQ_CST);
}

int source_bpf_sample_refusals(struct source *src, uint64_t ns)
{
	struct bpf_priv *p = src->priv;
	uint64_t until = clock_mono_ns() + ns;

	if (!is_bpf_source(src))
		return -EINVAL;
	if (bss_of(p)->refusal_until_ns < until)
		bss_of(p)->refusal_until_ns = until;
	/* a spinner draining its bucket in the sample arms the probe */
	if (bss_of(p)->refusal_sample_until_ns < until)
		bss_of(p)->refusal_sample_until_ns = until;
	/* The drain tick (250 ms) would end a short sample late: the
	 * timer wakes lymphd at its end (bpf_drain then detaches). */
	if (p->tfd >= 0) {
		struct itimerspec its = { .it_value = { .tv_sec = (time_t)(until / 1000000000ULL),
							.tv_nsec = (long)(until % 1000000000ULL) } };

		if (!timerfd_settime(p->tfd, TFD_TIMER_ABSTIME, &its, NULL))
			p->tfd_armed = 1;
	}
	return refusals_attach(p);
}

int source_bpf_arm_refusals(struct source *src)
{
	return source_bpf_sample_refusals(src, 2000000000ULL); /* the probes' ARM_NS */
}

int source_bpf_pin_refusals(struct source *src, size_t pins)
{
	struct bpf_priv *p = src->priv;
	size_t before;

	if (!is_bpf_source(src))
		return -EINVAL;
	before = p->refusal_pins;
	p->refusal_pins = pins;
	if (pins && !p->nrefusals)
		return refusals_attach(p);
	/* the last pin lifted: attached ARM_NS more, then the drain detaches */
	if (!pins && before)
		return source_bpf_arm_refusals(src);
	return 0;
}

/*
 * Were the CPUs busy since the last look: at least half a CPU's time, on
 * average, spent outside idle and iowait (/proc/stat's first line)?  A
 * task spinning on a refused fork burns a CPU; an idle host never is, so
 * its system calls never pay for a sample.  1 at the first look.
 */
static int cpus_busy(struct bpf_priv *p)
{
	unsigned long long v[8] = { 0 };
	uint64_t busy, total, db, now = clock_mono_ns(), elapsed = now - p->cpu_look_ns;
	long hz = sysconf(_SC_CLK_TCK); /* from the auxiliary vector: no system call */
	char buf[256];
	int i, first = !p->cpu_look_ns;

	if (small_file_read("/proc/stat", 0, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) < 4)
		return 1; /* cannot tell: sample */
	for (i = 0, total = 0; i < 8; i++)
		total += v[i];
	busy = total - v[3] - v[4];
	db = busy - p->cpu_busy;
	p->cpu_busy = busy;
	p->cpu_look_ns = now;
	if (first || hz < 1)
		return 1;
	/* Half a CPU's ticks over the time since the last look: no count of
	 * the CPUs needed (sysconf would read a sysfs file for it each time,
	 * a third of this look's cost). */
	return db * 2 * 1000000000ULL >= elapsed * (uint64_t)hz;
}

/*
 * A crowd smaller than any of the probes' reasons to arm (fewer spinners
 * than CPUs: no CPU pressure either) spinning on a refused fork at a low
 * cap (a pids.max, RLIMIT_NPROC) shows nowhere but in the refused-fork
 * probe: every spin_period_ns, when the CPUs were busy, it is attached for
 * SPIN_SAMPLE_NS.  A spinner makes a refusal every ~100 us, its family
 * nears its budget within a few of them and the probes keep the probe
 * attached (refusals_arm) until it is stopped; a slower one over its
 * budget is refused a second time before its bucket refilled, which arms
 * the probe, and keeps it attached while its refusals drain the bucket
 * (bucket_near_budget, sensors.bpf.c).  A family refused below its budget
 * refills between refusals and arms nothing; a busy but benign host
 * refuses no fork; the probe goes at the sample's end.
 */
static void spin_tend(struct source *src, struct bpf_priv *p)
{
	uint64_t now = clock_mono_ns();

	if (!p->spin_period_ns || now < p->spin_next_ns)
		return;
	p->spin_next_ns = now + p->spin_period_ns;
	if (p->nrefusals || p->opening.started || !cpus_busy(p))
		return; /* attached already (or being attached), or nothing spins */
	if (!source_bpf_sample_refusals(src, SPIN_SAMPLE_NS))
		p->spin_samples++;
}

int source_bpf_spin_period(struct source *src, uint64_t period_ns)
{
	struct bpf_priv *p = src->priv;

	if (!is_bpf_source(src))
		return -EINVAL;
	if (period_ns && !p->spin_period_ns)
		p->spin_next_ns = clock_mono_ns() + period_ns;
	p->spin_period_ns = period_ns;
	return 0;
}

const char *source_bpf_refusal_path(const struct source *src)
{
	const struct bpf_priv *p = src->priv;

	if (!is_bpf_source(src))
		return "none";
	if (p->refusals_fexit && p->refusals_fexit_on)
		return "fexit";
	return p->refusals_raw ? "raw" : p->refusals_sc ? "per-syscall" : "not armed yet";
}

const char *source_bpf_refusal_attached(const struct source *src)
{
	const struct bpf_priv *p = src->priv;

	if (!is_bpf_source(src))
		return "none";
	return p->refusals_for_good ? "permanently" : "on demand";
}

int source_bpf_refusal_fexit(struct source *src)
{
	struct bpf_priv *p = src->priv;

	if (!is_bpf_source(src) || !p->refusals_fexit)
		return 0;
	if (p->nrefusals && !p->refusals_fexit_on)
		return 0; /* armed on the tracepoints already */
	if (!p->nrefusals && refusals_attach_fexit(p))
		return 0;
	/* Attached for good: it costs the fork calls only (a trampoline
	 * on kernel_clone), so every refused fork is charged at its call,
	 * as lymph.ko charges it, with no arming nor sampling to miss one.
	 * And with it, at the entry of kernel_clone, every fork call is
	 * charged when it is called, as lymph.ko charges it: a call over
	 * budget stops its caller before the task is made.  After the
	 * fexit, which settles what it charged; without it, a fork is
	 * charged when its task is made (sched_process_fork). */
	p->refusals_for_good = 1;
	if (p->nrefusals < 4) {
		enum bpf_attach_type type = BPF_TRACE_FENTRY;
		int prog = bpf_kept_prog(&p->kept, "charged_at_call", &type);
		int err = probe_link_tracing(prog, type, &p->refusals[p->nrefusals]);

		if (!err) {
			p->nrefusals++;
			bss_of(p)->calls_charged = 1;
		} else {
			fprintf(stderr,
				"lymphd: failed to attach the fork call probe to the entry of "
				"kernel_clone (fentry): %s; a fork is charged when its task is "
				"made, and one over budget is made before it is stopped\n",
				strerror(-err));
		}
	}
	bss_of(p)->refusal_attached = 1;
	bss_of(p)->refusal_asked = 0;
	return 1;
}

uint64_t source_bpf_backlog_peak(const struct source *src)
{
	const struct bpf_priv *p = src->priv;

	return is_bpf_source(src) ? p->backlog.peak : 0;
}

uint64_t source_bpf_spin_samples(const struct source *src)
{
	const struct bpf_priv *p = src->priv;

	return is_bpf_source(src) ? p->spin_samples : 0;
}

/* Empty the ring, and handle what it held and what comes meanwhile. */
static int drain_ring(struct source *src, struct bpf_priv *p)
{
	uint64_t now;
	int n, err = 0;

	p->direct_left = DIRECT_RECORDS;
	p->copied = 0;
	for (;;) {
		p->backlog_full = 0;
		n = ring_buffer__consume(p->rb);
		if (n < 0 && !p->backlog_full) { /* the sink's error */
			err = n;
			break;
		}
		if (backlog_empty(&p->backlog))
			break;
		if ((err = handle_backlog(src, p, BACKLOG_CHUNK)) < 0)
			break;
	}
	/* Its memory back once it was not needed for a second: mapping it
	 * again at every drain of a burst (and the page faults of its first
	 * writes) cost lymphd 60 % more CPU per record (bench/throughput,
	 * --quiet). */
	now = clock_mono_ns();
	if (p->copied)
		p->backlog_used_ns = now;
	else if (p->backlog.buf && now - p->backlog_used_ns > BACKLOG_KEEP_NS)
		backlog_release(&p->backlog);
	return err;
}

static int bpf_drain(struct source *src)
{
	struct bpf_priv *p = src->priv;
	int n = drain_ring(src, p);
	uint64_t expired;

	/* the end of a sample (source_bpf_sample_refusals); not armed, a
	 * read would only say EAGAIN (a system call at every drain) */
	if (p->tfd >= 0 && p->tfd_armed) {
		if (read(p->tfd, &expired, sizeof(expired)) == sizeof(expired))
			p->tfd_armed = 0;
		else if (errno != EAGAIN)
			n = n < 0 ? n : -errno;
	}
	/* at every tick, not only when drops are counted: a sample of the
	 * refused forks ends on time */
	refusals_tend(p);
	spin_tend(src, p);
	return n < 0 ? n : 0;
}

/* The sum over the CPUs of a one-slot per-CPU counter (drops, forks_seen). */
static int percpu_sum(struct bpf_priv *p, int fd, uint64_t *sum)
{
	uint32_t zero = 0;
	int i;

	if (bpf_map_lookup_elem(fd, &zero, p->percpu))
		return -errno;
	*sum = 0;
	for (i = 0; i < p->ncpus; i++)
		*sum += p->percpu[i];
	return 0;
}

static int bpf_check_drops(struct source *src)
{
	struct bpf_priv *p = src->priv;
	uint64_t sum;
	int err = percpu_sum(p, p->drops_fd, &sum);

	if (err)
		return err;
	refusals_tend(p);
	if (sum == p->drops_seen)
		return 0;
	{
		uint64_t lost = sum - p->drops_seen;

		p->drops_seen = sum;
		return source_emit_drop(src, lost, clock_mono_ns());
	}
}

static int bpf_forks_seen(struct source *src, uint64_t *total)
{
	struct bpf_priv *p = src->priv;

	return percpu_sum(p, p->forks_fd, total);
}

static void bpf_fork_records(struct source *src, int on)
{
	struct bpf_priv *p = src->priv;

	__atomic_store_n(&bss_of(p)->fork_records_off, on ? 0 : 1, __ATOMIC_RELAXED);
}

static int bpf_wake_calm(struct source *src, uint32_t dev, uint64_t ino, uint32_t uid)
{
	struct bpf_priv *p = src->priv;
	struct wake_key k = { .ino = ino, .dev = dev, .uid = uid };
	size_t slot = (size_t)((ino * 0x9e3779b97f4a7c15ULL) ^ dev ^ ((uint64_t)uid << 7)) %
		      (sizeof(p->calm_seen) / sizeof(p->calm_seen[0]));
	uint8_t one = 1;

	if (p->calm_seen[slot].used && !memcmp(&p->calm_seen[slot].k, &k, sizeof(k)))
		return 0;
	/* A full map keeps the pair urgent: a wakeup too many, never one lost. */
	if (bpf_map_update_elem(p->calm_fd, &k, &one, BPF_ANY))
		return -errno;
	p->calm_seen[slot].k = k;
	p->calm_seen[slot].used = 1;
	return 0;
}

static int bpf_wake_reset(struct source *src, int all)
{
	struct bpf_priv *p = src->priv;
	int fd = p->calm_fd;
	struct wake_key k, next;

	/* Urgent first, then calm again what still is. */
	bss_of(p)->wake_calm_all = 0;
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(fd, &k))
			break;
	}
	memset(p->calm_seen, 0, sizeof(p->calm_seen));
	bss_of(p)->wake_calm_all = !!all;
	return 0;
}

static void bpf_close(struct source *src)
{
	struct bpf_priv *p = src->priv;

	if (!p)
		return;
	ring_buffer__free(p->rb);
	{
		/* Left only when a record's handling failed, which ends lymphd
		 * with its own message: said, never dropped silently. */
		size_t left = backlog_free(&p->backlog);

		if (left)
			fprintf(stderr, "lymphd: %zu record(s) copied out of the ring were not "
				"handled before the BPF source closed\n", left);
	}
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->tfd >= 0)
		close(p->tfd);
	closing_done(p, 1);
	opening_collect(p, 1);
	refusals_detach(p);
	bpf_kept_close(&p->kept);
	sensors__destroy(p->skel); /* when the load failed before it was kept */
	free(p->percpu);
	free(p);
	src->priv = NULL;
	src->fd = -EBADF;
}

static void bpf_doze(struct source *src, int up)
{
	struct bpf_priv *p = src->priv;

	__atomic_store_n(&bss_of(p)->lymphd_dozing, up ? 1 : 0, __ATOMIC_SEQ_CST);
}

static int bpf_doze_held(struct source *src)
{
	struct bpf_priv *p = src->priv;

	return __atomic_load_n(&bss_of(p)->lymphd_dozing, __ATOMIC_SEQ_CST) != 0;
}

/* Links being opened or closed by their threads, taken in or joined at
 * the drains: no doze until they are. */
static int bpf_busy(struct source *src)
{
	struct bpf_priv *p = src->priv;

	return p->opening.started || p->closing.started || p->attach_after_close;
}

static const struct source_ops bpf_ops = {
	.doze = bpf_doze,
	.doze_held = bpf_doze_held,
	.forks_seen = bpf_forks_seen,
	.fork_records = bpf_fork_records,
	.busy = bpf_busy,
	.drain = bpf_drain,
	.check_drops = bpf_check_drops,
	.wake_calm = bpf_wake_calm,
	.wake_reset = bpf_wake_reset,
	.close = bpf_close,
};

static int is_bpf_source(const struct source *src)
{
	return src->ops == &bpf_ops && src->priv;
}

int source_bpf_map_fd(const struct source *src, const char *name)
{
	const struct bpf_priv *p = src->priv;

	if (!is_bpf_source(src))
		return -EINVAL;
	return bpf_kept_map(&p->kept, name);
}

/*
 * Does the kernel load a BPF program at the return of kernel_clone
 * (fexit)?  0 or -errno, from a program of two instructions, loaded and
 * closed: cheaper than loading the sensors again without the refused-fork
 * probe's fexit program where it does not (a kernel without BPF
 * trampolines, or one that refuses them: EPERM, ENOTSUPP).
 */
static int fexit_probe(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FEXIT);
	int id = libbpf_find_vmlinux_btf_id("kernel_clone", BPF_TRACE_FEXIT);
	int fd;

	if (id < 0)
		return id;
	o.attach_btf_id = (uint32_t)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "lymph_fexit", "GPL", insns, 2, &o);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int source_bpf_open(struct source *src, const struct source_opts *opts, lymph_sink_fn sink,
		    void *ctx, int verbose)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	const char *btf = getenv("LYMPH_BTF_PATH");
	const char *btf_path = btf ? btf : "/sys/kernel/btf/vmlinux";
	struct bpf_priv *p;
	int err, sc_err = 0, fx_err = 0;

	verbose_libbpf = verbose > 1;
	libbpf_set_print(libbpf_print);
	memset(src, 0, sizeof(*src));
	src->fd = -EBADF;

	/* 1. CO-RE needs the kernel's BTF: say so plainly if it is missing. */
	if (access(btf_path, R_OK)) {
		err = -errno;
		if (verbose)
			fprintf(stderr,
				"lymphd: kernel BTF not readable at %s: %s; the BPF sensors need a "
				"kernel built with CONFIG_DEBUG_INFO_BTF (or use --source=proc)\n",
				btf_path, strerror(-err));
		return err;
	}
	if (btf)
		oo.btf_custom_path = btf;
	if (!is_pow2(opts->ring_bytes)) {
		if (verbose)
			fprintf(stderr, "lymphd: ring size %u is not a power of two\n",
				opts->ring_bytes);
		return -EINVAL;
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->epfd = p->tfd = -EBADF;
	bpf_kept_init(&p->kept);
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		err = p->ncpus ? p->ncpus : -EINVAL;
		goto fail_msg;
	}
	p->percpu = calloc(p->ncpus, sizeof(uint64_t));
	if (!p->percpu) {
		err = -ENOMEM;
		goto fail_msg;
	}

	/* 2. Open, configure through rodata, size the ring, load.  The
	 * refused-fork probe's fexit program where the kernel loads one
	 * (LYMPH_NO_FEXIT: never, for tests and benchmarks of the others).  A
	 * kernel that refuses the probe's fexit or per-syscall programs loads
	 * the sensors again without them (the probe on the per-syscall
	 * tracepoints, or on raw_syscalls:sys_exit). */
	{
		const char *nofx = getenv("LYMPH_NO_FEXIT");

		if (nofx && *nofx && strcmp(nofx, "0"))
			fx_err = -ECANCELED;
		else
			fx_err = fexit_probe();
		p->refusals_fexit = !fx_err;
	}
again:
	p->skel = sensors__open_opts(&oo);
	if (!p->skel) {
		err = -errno;
		goto fail_msg;
	}
	p->skel->rodata->want_fork = !!opts->want_fork;
	p->skel->rodata->want_exec = !!opts->want_exec;
	/* lymphd says which deaths it must act on now (wake_reset, wake_calm);
	 * until it does, every danger death wakes it. */
	p->skel->rodata->wake_keyed = 1;
	/* Wake lymphd for bulk records once an eighth of the ring is used. */
	p->skel->rodata->wake_mark_bytes = opts->ring_bytes / 8;
	backlog_init(&p->backlog, (size_t)opts->ring_bytes * BACKLOG_RINGS);
	err = bpf_map__set_max_entries(p->skel->maps.events, opts->ring_bytes);
	if (err)
		goto fail_msg;
	/* Kernels before 6.8 have a different mark_victim prototype. */
	if (libbpf_find_vmlinux_btf_id("mark_victim", BPF_TRACE_RAW_TP) < 0) {
		bpf_program__set_autoload(p->skel->progs.on_mark_victim, false);
		src->missing = "oom";
	}
	/* The refused-fork probe is attached only while armed (refusals_attach);
	 * its per-syscall programs are not loaded by default (SEC("?...")). */
	bpf_program__set_autoattach(p->skel->progs.on_sys_exit, false);
	{
		struct bpf_program *sc[4] = { p->skel->progs.refused_clone,
					      p->skel->progs.refused_clone3,
					      p->skel->progs.refused_fork,
					      p->skel->progs.refused_vfork };
		int i;

		for (i = 0; i < 4; i++) {
			bpf_program__set_autoload(sc[i], !p->refusals_raw);
			bpf_program__set_autoattach(sc[i], false);
		}
		bpf_program__set_autoload(p->skel->progs.refused_kernel_clone, p->refusals_fexit);
		bpf_program__set_autoattach(p->skel->progs.refused_kernel_clone, false);
		/* its entry's twin, which charges the fork calls at their call */
		bpf_program__set_autoload(p->skel->progs.charged_at_call, p->refusals_fexit);
		bpf_program__set_autoattach(p->skel->progs.charged_at_call, false);
	}
	err = sensors__load(p->skel);
	if (err && p->refusals_fexit) {
		fx_err = err;
		sensors__destroy(p->skel);
		p->skel = NULL;
		p->refusals_fexit = 0;
		goto again;
	}
	if (err && !p->refusals_raw) {
		sc_err = err;
		sensors__destroy(p->skel);
		p->skel = NULL;
		p->refusals_raw = 1;
		goto again;
	}
	if (err)
		goto fail_msg;
	if (!p->refusals_raw) {
		int mounted = tracefs_ensure();

		if (mounted > 0)
			fprintf(stderr,
				"lymphd: no tracefs was mounted: mounted it on " TRACEFS_DIR
				", where the refused-fork probe finds the fork calls' tracepoints "
				"(umount " TRACEFS_DIR " undoes it)\n");
		if ((err = sc_exit_ids_read(p))) {
			p->refusals_raw = 1;
			fprintf(stderr,
				"lymphd: failed to find syscalls:sys_exit_clone and the others in "
				"tracefs: %s%s%s; the refused-fork probe goes on raw_syscalls:sys_exit, "
				"which costs every system call of the host while it is armed (mount "
				"tracefs on " TRACEFS_DIR " before lymphd starts to avoid it)\n",
				strerror(-err), mounted < 0 ? "; mounting tracefs failed: " : "",
				mounted < 0 ? strerror(-mounted) : "");
			err = 0;
		}
	}
	if (fx_err && fx_err != -ECANCELED && !p->refusals_raw)
		fprintf(stderr,
			"lymphd: failed to load the refused-fork probe for the return of kernel_clone "
			"(fexit): %s; it goes on syscalls:sys_exit_clone and the others, which cost "
			"every system call of the host a little while it is armed\n",
			strerror(-fx_err));
	if (sc_err)
		fprintf(stderr,
			"lymphd: failed to load the refused-fork probe for syscalls:sys_exit_clone "
			"and the others: %s; it goes on raw_syscalls:sys_exit, which costs every "
			"system call of the host while it is armed\n",
			strerror(-sc_err));

	/* 3. Attach every probe. */
	err = sensors__attach(p->skel);
	if (err)
		goto fail_msg;

	/* 4. Keep the descriptors, free libbpf's copy of the object (0.68
	 * MiB of heap for lymphd's whole life: bpf_kept.h).  The probes
	 * stay attached: their links are the kept descriptors. */
	err = bpf_kept_take(&p->kept, p->skel->obj, p->skel->skeleton, p->skel->maps.bss, kept_maps,
			    kept_progs);
	if (err)
		goto fail_msg;
	sensors__destroy(p->skel);
	p->skel = NULL;
	/* kept (bpf_kept_take fails when one of kept_maps is not): looked
	 * up once, not at every death's wake key */
	p->drops_fd = bpf_kept_map(&p->kept, "drops");
	p->forks_fd = bpf_kept_map(&p->kept, "forks_seen");
	p->calm_fd = bpf_kept_map(&p->kept, "calm_keys");
	p->rb = ring_buffer__new(bpf_kept_map(&p->kept, "events"), on_sample, src, NULL);
	if (!p->rb) {
		err = -errno;
		goto fail_msg;
	}
	err = ring_buffer__add(p->rb, bpf_kept_map(&p->kept, "arm_events"), on_arm, src);
	if (err)
		goto fail_msg;

	/* lymphd polls one fd: an epoll of the rings' epoll and the timer
	 * that ends a refused-fork sample. */
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->epfd < 0 || p->tfd < 0) {
		err = -errno;
		goto fail_msg;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN };

		ev.data.fd = ring_buffer__epoll_fd(p->rb);
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
			err = -errno;
			goto fail_msg;
		}
		ev.data.fd = p->tfd;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->tfd, &ev)) {
			err = -errno;
			goto fail_msg;
		}
	}

	src->ops = &bpf_ops;
	src->name = "bpf";
	src->id = LYMPH_SRC_BPF;
	src->every_death = 1; /* the exit probe records each process's (want_normal_exit) */
	src->fd = p->epfd;
	src->sink = sink;
	src->sink_ctx = ctx;
	src->priv = p;
	return 0;

fail_msg:
	if (verbose)
		fprintf(stderr,
			"lymphd: failed to load the BPF sensors: %s; lymphd needs root "
			"(CAP_BPF, CAP_PERFMON); use -vv for libbpf's log, or --source=proc\n",
			strerror(-err));
	src->priv = p;
	bpf_close(src);
	return err;
}
