/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How often lymphd's drain timer ticks: every 250 ms while records come,
 * once a second while nothing does ("dozing").  Pure: the daemon applies
 * what it returns (the source's doze flag, the timer's period).
 *
 * Why: on an idle host each tick is a wakeup of lymphd for nothing (three
 * system calls; ~150 us of CPU on a VM whose context switches are dear),
 * 4 a second: 0.06-0.16 % of a CPU, over the 0.1 % lymphd may take idle
 * (issue 15).  Dozing, it wakes once a second, when the weather steps
 * anyway.
 *
 * What keeps a record from waiting the longer period: while dozing, the
 * source's doze flag is set, and the first record of any kind (a bulk one
 * too: a fork, a calm death) wakes lymphd at once and clears it
 * (bpf/sensors.bpf.c, submit()).  So the first record after a quiet spell
 * is seen sooner than before, not later; the next ones are batched on the
 * 250 ms tick as before.
 *
 * The flag is set one tick before the timer is lengthened (ARMING): a
 * probe that read the flag just before lymphd set it submits without a
 * wakeup, and that record is in the ring at the next tick, which then
 * does not doze.  Only a tick that drained nothing new, with the flag
 * still set, lengthens the period.  A source that cannot raise such a
 * flag (lymph.ko) never dozes.
 */
#ifndef LYMPH_TICKPACE_H
#define LYMPH_TICKPACE_H

#include <stdint.h>

enum tick_pace {
	PACE_ACTIVE, /* the drain period; the flag clear */
	PACE_ARMING, /* the drain period; the flag set, one tick to see it hold */
	PACE_DOZING, /* the doze period; the flag set */
};

struct tickpace {
	enum tick_pace state;
	uint64_t records; /* records handled, as of the last tick */
};

/* What the daemon knows at a tick, or after any other wakeup. */
struct pace_input {
	uint64_t records; /* records handled so far, of every kind */
	int can_doze;	  /* the source has a doze flag, and the doze period is longer */
	int busy;	  /* something is due within the doze period (an expiry) */
	int flag_held;	  /* the doze flag is still set: no record took it */
};

/* At a tick of the drain timer, after the drain: the state from now on. */
enum tick_pace tickpace_at_tick(struct tickpace *tp, const struct pace_input *in);

/* After any other wakeup (records drained on the source's wakeup, a
 * request): back to the drain period if records came or something is
 * due; otherwise the state stays. */
enum tick_pace tickpace_at_wake(struct tickpace *tp, const struct pace_input *in);

static inline int tickpace_flag(enum tick_pace s)
{
	return s != PACE_ACTIVE;
}

static inline int tickpace_long(enum tick_pace s)
{
	return s == PACE_DOZING;
}

/*
 * The doze period, ns: a second, or less when something must run more
 * often than that (a phagocyte's interval, half the systemd watchdog's
 * period).  0: no dozing (shortest, the shortest interval given; 0 for
 * none).
 */
uint64_t tickpace_doze_ns(uint64_t drain_ns, uint64_t shortest);

#endif /* LYMPH_TICKPACE_H */
