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
 * exp2() over every entry of its table (2^(-i/128), i = 0..127), summed:
 * the code and the read-only data every decay runs through, in libm,
 * made resident again after lymphd unmapped its libraries' pages
 * (mem_drop_file_pages), so that the first crash after the start-up
 * does not take their faults on its way to its line (issue 15: three
 * faults there, 5-100 us each).  The sum (about 92.8) is returned so
 * that the calls are made.
 */
double decay_prefault(void);

#endif
