/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymph's clocks, in nanoseconds.  Decisions run on CLOCK_MONOTONIC (the
 * same clock as the sensors' ts_ns, immune to wall-clock steps); the
 * journal and status speak wall time so that a record means the same after
 * a reboot.  A clock_offset converts between the two at one instant.
 */
#ifndef LYMPH_CLOCK_H
#define LYMPH_CLOCK_H

#include <stdint.h>

#define NSEC_PER_SEC  1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

uint64_t clock_mono_ns(void); /* CLOCK_MONOTONIC */
uint64_t clock_wall_ns(void); /* CLOCK_REALTIME */
uint64_t clock_boot_ns(void); /* CLOCK_BOOTTIME: monotonic + time suspended */

/* wall - monotonic, read once (at start): converts journaled wall times. */
struct clock_offset {
	uint64_t wall_minus_mono;
};

void clock_offset_init(struct clock_offset *o);

/* A monotonic time as wall time; 0 stays 0 ("never"). */
uint64_t clock_to_wall(const struct clock_offset *o, uint64_t mono_ns);

/* A wall time as monotonic time; a time before this boot becomes 1 (long
 * past, but not "never"). */
uint64_t clock_to_mono(const struct clock_offset *o, uint64_t wall_ns);

#endif
