/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exponentially decaying counts: the "averages, not single log lines" of
 * the paper.  A count loses half its weight every half-life, so a binary
 * that crashed a lot last week and is fine now fades out, while a burst
 * now stands out.  Pure arithmetic: the clock is a parameter.
 */
#ifndef LYMPH_DECAY_H
#define LYMPH_DECAY_H

#include <stdint.h>

struct decay {
	double value;	  /* decayed count as of last_ns */
	uint64_t last_ns; /* CLOCK_MONOTONIC of the last update */
};

/* The count as of now_ns (a time before last_ns is treated as last_ns). */
double decay_value(const struct decay *d, uint64_t now_ns, uint64_t half_life_ns);

/* Decay to now_ns, then add amount. */
void decay_add(struct decay *d, uint64_t now_ns, uint64_t half_life_ns, double amount);

/*
 * Events per minute that the decayed count stands for: for a steady rate r,
 * the count converges to r * half_life / ln 2.
 */
double decay_rate_per_min(const struct decay *d, uint64_t now_ns, uint64_t half_life_ns);

/*
 * 2^-x (x >= 0; 0 from x = 1022 on, and for a NaN) and 2^k (k a whole
 * number >= 0; HUGE_VAL from 1024 on), in plain arithmetic: the decay on
 * every danger death's path does not run libm's exp2.  lymphd unmaps its
 * libraries' pages after the start-up (lib/memtrim.h), and exp2's code
 * and table then cost a fresh lymphd's first crash 3 faults (5-100 us
 * each) on its way to its line, or, made resident ahead, 192 KiB of libm
 * that the kernel maps around them (issue 15).  Within 1e-15 of exp2
 * (relative); exact where the result is a power of two.
 */
double decay_exp2_neg(double x);
double decay_pow2(double k);

#endif
