// SPDX-License-Identifier: GPL-2.0-only
#include <time.h>
#include "clock.h"

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t clock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

uint64_t clock_wall_ns(void)
{
	return read_ns(CLOCK_REALTIME);
}

uint64_t clock_boot_ns(void)
{
	return read_ns(CLOCK_BOOTTIME);
}

void clock_offset_init(struct clock_offset *o)
{
	uint64_t m = clock_mono_ns(), w = clock_wall_ns();

	o->wall_minus_mono = w - m;
}

uint64_t clock_to_wall(const struct clock_offset *o, uint64_t mono_ns)
{
	return mono_ns ? mono_ns + o->wall_minus_mono : 0;
}

uint64_t clock_to_mono(const struct clock_offset *o, uint64_t wall_ns)
{
	return wall_ns > o->wall_minus_mono ? wall_ns - o->wall_minus_mono : 1;
}
