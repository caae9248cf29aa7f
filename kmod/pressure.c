// SPDX-License-Identifier: GPL-2.0-only
/*
 * Periodic per-process pressure spot check.  Every pressure_interval_ms
 * (0 = off), a work item walks all processes under RCU and, per process,
 * sums over its threads the run-queue delay (sched_info.run_delay, kept
 * with CONFIG_SCHED_INFO), the direct-reclaim and thrashing delays (with
 * delay accounting), the major faults, and reads its RSS.  The deltas
 * since the previous check are compared with the thresholds; a process
 * over any of them is reported as a LYMPH_EV_PRESSURE record, at most
 * LYMPH_PRESSURE_BURST records per check.
 *
 * Previous values live in a fixed direct-mapped table: a collision loses
 * one interval of history for the two processes, nothing more.
 *
 * Cost: one pass reads a few cache lines per thread and per process, with
 * no locks but RCU and one trylock per process; it is measured on every
 * pass and shown in /proc/lymph as "per_1000_tasks_us": about 5 ms per
 * 1,000 single-threaded tasks in the test VM under TCG emulation, which
 * runs 10-50 times slower than hardware.  The walk holds the RCU read lock
 * throughout, so with 100k tasks it delays grace periods by tens of ms
 * per check: keep the interval long on such hosts, or 0.
 */
#include <linux/spinlock.h>
#include <linux/delayacct.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "lymph.h"

#define LYMPH_PRESSURE_BITS	12
#define LYMPH_PRESSURE_BURST	32

struct lymph_pstate {
	u64 start_ns;		/* (tgid, start_ns) owns the slot */
	u64 seen_ns;
	u64 run_delay;
	u64 reclaim;
	u64 maj_flt;
	u64 rss_kb;
	u32 tgid;
};

static struct lymph_pstate *lymph_pstates;
static struct delayed_work lymph_pressure_work;
static u64 lymph_scan_ns, lymph_scan_tasks, lymph_scan_reports;

struct lymph_psample {
	u64 run_delay, reclaim, maj_flt, rss_kb;
};

static void sample(struct task_struct *p, struct lymph_psample *s)
{
	struct task_struct *t;

	memset(s, 0, sizeof(*s));
	s->maj_flt = READ_ONCE(p->signal->maj_flt);	/* threads gone */
	for_each_thread(p, t) {
#ifdef CONFIG_SCHED_INFO
		s->run_delay += READ_ONCE(t->sched_info.run_delay);
#endif
#ifdef CONFIG_TASK_DELAY_ACCT
		if (t->delays)
			s->reclaim += READ_ONCE(t->delays->freepages_delay) +
				      READ_ONCE(t->delays->thrashing_delay);
#endif
		s->maj_flt += READ_ONCE(t->maj_flt);
	}
	/* task_lock keeps the mm; trylock, as RSS is worth no spinning. */
	if (spin_trylock(&p->alloc_lock)) {
		if (p->mm)
			s->rss_kb = get_mm_rss(p->mm) << (PAGE_SHIFT - 10);
		spin_unlock(&p->alloc_lock);
	}
}

static void report(struct task_struct *p, const struct lymph_psample *s,
		   const struct lymph_pstate *prev, u64 now, u32 flags)
{
	struct lymph_pressure rec;

	memset(&rec, 0, sizeof(rec));
	rec.hdr.ts_ns = now;
	lymph_fill_task(&rec.task, p);
	rec.interval_ns = now - prev->seen_ns;
	rec.runq_delay_ns = s->run_delay - prev->run_delay;
	rec.reclaim_delay_ns = s->reclaim - prev->reclaim;
	rec.maj_flt = s->maj_flt - prev->maj_flt;
	rec.rss_kb = s->rss_kb;
	rec.rss_delta_kb = (s64)s->rss_kb - (s64)prev->rss_kb;
	rec.flags = flags;
	lymph_emit(&rec, LYMPH_EV_PRESSURE, sizeof(rec));
}

static void pressure_scan(void)
{
	u64 runq_pct = READ_ONCE(lymph_cfg.pressure_runq_pct);
	u64 rss_kb = READ_ONCE(lymph_cfg.pressure_rss_kb);
	u64 majflt = READ_ONCE(lymph_cfg.pressure_majflt);
	u64 t0 = ktime_get_ns(), now, tasks = 0, reports = 0;
	struct lymph_psample s;
	struct lymph_pstate *st, prev;
	struct task_struct *p;
	u32 flags;

	rcu_read_lock();
	for_each_process(p) {
		if (p->flags & PF_KTHREAD)
			continue;
		tasks++;
		now = ktime_get_ns();
		sample(p, &s);
		st = &lymph_pstates[hash_32(p->tgid, LYMPH_PRESSURE_BITS)];
		prev = *st;
		st->tgid = p->tgid;
		st->start_ns = p->start_time;
		st->seen_ns = now;
		st->run_delay = s.run_delay;
		st->reclaim = s.reclaim;
		st->maj_flt = s.maj_flt;
		st->rss_kb = s.rss_kb;
		if (prev.tgid != p->tgid || prev.start_ns != p->start_time ||
		    now <= prev.seen_ns)
			continue;	/* first sight: nothing to compare with */
		flags = 0;
		if ((s.run_delay - prev.run_delay) * 100 >= runq_pct * (now - prev.seen_ns))
			flags |= LYMPH_PRESSURE_RUNQ;
		if (s.rss_kb >= prev.rss_kb + rss_kb)
			flags |= LYMPH_PRESSURE_RSS;
		if (s.maj_flt >= prev.maj_flt + majflt)
			flags |= LYMPH_PRESSURE_MAJFLT;
		if (flags && reports < LYMPH_PRESSURE_BURST) {
			report(p, &s, &prev, now, flags);
			reports++;
		}
	}
	rcu_read_unlock();
	WRITE_ONCE(lymph_scan_ns, ktime_get_ns() - t0);
	WRITE_ONCE(lymph_scan_tasks, tasks);
	WRITE_ONCE(lymph_scan_reports, lymph_scan_reports + reports);
}

static void pressure_work(struct work_struct *work)
{
	unsigned int ms = READ_ONCE(lymph_cfg.pressure_ms);

	if (!ms)
		return;
	pressure_scan();
	schedule_delayed_work(&lymph_pressure_work, msecs_to_jiffies(ms));
}

/* Knob changed: apply the new interval now (0 stops the checks). */
void lymph_pressure_reschedule(void)
{
	unsigned int ms = READ_ONCE(lymph_cfg.pressure_ms);

	if (ms)
		mod_delayed_work(system_wq, &lymph_pressure_work, msecs_to_jiffies(ms));
	else
		cancel_delayed_work(&lymph_pressure_work);
}

void lymph_pressure_show(struct seq_file *m)
{
	u64 tasks = READ_ONCE(lymph_scan_tasks), ns = READ_ONCE(lymph_scan_ns);

	seq_printf(m, "pressure: interval_ms %u tasks %llu scan_us %llu per_1000_tasks_us %llu reports %llu\n",
		   READ_ONCE(lymph_cfg.pressure_ms), tasks, div_u64(ns, NSEC_PER_USEC),
		   tasks ? div64_u64(ns, tasks) : 0, READ_ONCE(lymph_scan_reports));
}

int lymph_pressure_init(void)
{
	lymph_pstates = kvcalloc(1 << LYMPH_PRESSURE_BITS, sizeof(*lymph_pstates),
				 GFP_KERNEL);
	if (!lymph_pstates)
		return -ENOMEM;
	INIT_DELAYED_WORK(&lymph_pressure_work, pressure_work);
	lymph_pressure_reschedule();
	return 0;
}

void lymph_pressure_exit(void)
{
	/* The knob files are gone: nothing can re-arm the work any more. */
	cancel_delayed_work_sync(&lymph_pressure_work);
	kvfree(lymph_pstates);
}
