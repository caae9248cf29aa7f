// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include "decay.h"

double decay_value(const struct decay *d, uint64_t now_ns, uint64_t half_life_ns)
{
	double dt;

	if (now_ns <= d->last_ns || d->value == 0.0)
		return d->value;
	if (!half_life_ns)
		return 0.0;
	dt = (double)(now_ns - d->last_ns) / (double)half_life_ns;
	return d->value * exp2(-dt);
}

void decay_add(struct decay *d, uint64_t now_ns, uint64_t half_life_ns, double amount)
{
	d->value = decay_value(d, now_ns, half_life_ns) + amount;
	if (now_ns > d->last_ns)
		d->last_ns = now_ns;
}

double decay_prefault(void)
{
	double sum = 0.0;
	int i;

	/* glibc's exp2 picks its table's entry from the low 7 bits of the
	 * argument times 128: these 128 arguments read every entry. */
	for (i = 0; i < 128; i++)
		sum += exp2(-(double)i / 128.0);
	return sum;
}

double decay_rate_per_min(const struct decay *d, uint64_t now_ns, uint64_t half_life_ns)
{
	if (!half_life_ns)
		return 0.0;
	return decay_value(d, now_ns, half_life_ns) * M_LN2 * 60e9 / (double)half_life_ns;
}
