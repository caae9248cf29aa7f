// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-binary crash table: which executables (device, inode) died badly
 * (see danger() in sensors.c), how often, and how recently.  Each entry
 * carries a score that grows by one per crash and halves every
 * LYMPH_CRASH_HALF_LIFE, so an old burst fades while a crash loop stands
 * out.  The table is bounded (crash_table_size knob, at most
 * LYMPH_CRASH_MAX); when full, the entry with the lowest decayed score is
 * evicted.  Lookups scan the used part linearly: they happen once per bad
 * death, and 4096 compares cost a few microseconds at worst.
 */
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/kdev_t.h>
#include <linux/string.h>
#include "lymph.h"

#define LYMPH_CRASH_HALF_LIFE	(600ULL * NSEC_PER_SEC)
#define LYMPH_SCORE_ONE		1024	/* score fixed point: 1.0 */

struct lymph_crash {
	u64 ino;		/* 0: free entry */
	u64 last_ns;		/* last crash, also the score's timestamp */
	u64 score;		/* decaying, LYMPH_SCORE_ONE per crash */
	u64 total;		/* crashes since the entry was created */
	u32 dev;
	u32 signo;		/* last fatal signal */
	u8 comm[LYMPH_COMM_LEN];
};

static struct lymph_crash *lymph_crashes;
static unsigned int lymph_crash_used;	/* entries in use == table size knob */
static DEFINE_SPINLOCK(lymph_crash_lock);

/* score * 2^-(dt / half life), piecewise linear within one half life. */
static u64 decayed(const struct lymph_crash *c, u64 now)
{
	u64 dt = now > c->last_ns ? now - c->last_ns : 0;
	u64 halvings = div64_u64(dt, LYMPH_CRASH_HALF_LIFE);
	u64 s, rem;

	if (halvings >= 32)
		return 0;
	s = c->score >> halvings;
	rem = dt - halvings * LYMPH_CRASH_HALF_LIFE;
	/* 2^-x ~ 1 - x/2 on [0, 1]: at most 6% high, never negative. */
	return s - div64_u64(s * (rem >> 20), 2 * (LYMPH_CRASH_HALF_LIFE >> 20));
}

void lymph_crash_record(u32 dev, u64 ino, const u8 *comm, u32 signo, u64 now)
{
	struct lymph_crash *c, *victim = NULL;
	u64 low = U64_MAX, s;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&lymph_crash_lock, flags);
	/* A known binary first, by compares alone: the decayed scores (two
	 * 64-bit divisions each, with interrupts off) only for a new one. */
	for (i = 0; i < lymph_crash_used; i++) {
		c = &lymph_crashes[i];
		if (c->ino == ino && c->dev == dev)
			goto found;
	}
	for (i = 0; i < lymph_crash_used; i++) {
		c = &lymph_crashes[i];
		s = c->ino ? decayed(c, now) : 0;
		if (!victim || s < low || (s == low && c->last_ns < victim->last_ns)) {
			victim = c;
			low = s;
		}
	}
	if (!victim)
		goto out;
	c = victim;
	memset(c, 0, sizeof(*c));
	c->ino = ino;
	c->dev = dev;
found:
	c->score = decayed(c, now) + LYMPH_SCORE_ONE;
	c->last_ns = now;
	c->total++;
	c->signo = signo;
	memcpy(c->comm, comm, sizeof(c->comm));
out:
	spin_unlock_irqrestore(&lymph_crash_lock, flags);
}

/* Knob store: shrinking forgets the entries past the new end. */
void lymph_crash_resize(unsigned int size)
{
	unsigned long flags;

	size = min_t(unsigned int, size, LYMPH_CRASH_MAX);
	spin_lock_irqsave(&lymph_crash_lock, flags);
	if (size < lymph_crash_used)
		memset(&lymph_crashes[size], 0,
		       (lymph_crash_used - size) * sizeof(*lymph_crashes));
	lymph_crash_used = size;
	spin_unlock_irqrestore(&lymph_crash_lock, flags);
}

/* The @top entries with the highest decayed scores, best first. */
void lymph_crash_show(struct seq_file *m, unsigned int top)
{
	u64 now = ktime_get_ns(), prev = U64_MAX, s, best_s;
	struct lymph_crash *c, *best, *prev_best = NULL;
	unsigned long flags;
	unsigned int i, n, used = 0;

	spin_lock_irqsave(&lymph_crash_lock, flags);
	for (i = 0; i < lymph_crash_used; i++)
		used += !!lymph_crashes[i].ino;
	seq_printf(m, "crash_table: %u/%u\n", used, lymph_crash_used);
	for (n = 0; n < top; n++) {
		best = NULL;
		best_s = 0;
		/* Next in (score desc, address asc) order after prev_best. */
		for (i = 0; i < lymph_crash_used; i++) {
			c = &lymph_crashes[i];
			if (!c->ino)
				continue;
			s = decayed(c, now);
			if (s > prev || (s == prev && c <= prev_best))
				continue;
			if (!best || s > best_s) {
				best = c;
				best_s = s;
			}
		}
		if (!best)
			break;
		seq_printf(m, "  crasher %u:%u %llu %s signal %u crashes %llu score %llu.%02llu\n",
			   MAJOR(new_decode_dev(best->dev)), MINOR(new_decode_dev(best->dev)),
			   best->ino, best->comm, best->signo, best->total,
			   best_s / LYMPH_SCORE_ONE,
			   (best_s % LYMPH_SCORE_ONE) * 100 / LYMPH_SCORE_ONE);
		prev = best_s;
		prev_best = best;
	}
	spin_unlock_irqrestore(&lymph_crash_lock, flags);
}

int lymph_crash_init(void)
{
	lymph_crashes = kvcalloc(LYMPH_CRASH_MAX, sizeof(*lymph_crashes), GFP_KERNEL);
	if (!lymph_crashes)
		return -ENOMEM;
	lymph_crash_used = min_t(unsigned int, lymph_cfg.crash_size, LYMPH_CRASH_MAX);
	return 0;
}

void lymph_crash_exit(void)
{
	kvfree(lymph_crashes);
}
