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
	return d->value * decay_exp2_neg(dt);
}

void decay_add(struct decay *d, uint64_t now_ns, uint64_t half_life_ns, double amount)
{
	d->value = decay_value(d, now_ns, half_life_ns) + amount;
	if (now_ns > d->last_ns)
		d->last_ns = now_ns;
}

/* 2^e for a whole e in [-1022, 1023], built from its bits. */
static double pow2_bits(int e)
{
	union {
		uint64_t u;
		double d;
	} p = { .u = (uint64_t)(e + 1023) << 52 };

	return p.d;
}

double decay_exp2_neg(double x)
{
	double f, t, term = 1.0, sum = 1.0;
	int n, i;

	if (x < 0.0)
		return 1.0 / decay_exp2_neg(-x);
	if (!(x < 1022.0))
		return 0.0;
	/* 2^-x = 2^f * 2^-n, n the whole number nearest x, |f| <= 1/2: e^(f ln 2)
	 * by its series, whose 16th term is below 1e-19 there. */
	n = (int)(x + 0.5);
	f = (double)n - x;
	t = f * M_LN2;
	for (i = 1; i <= 15; i++) {
		term *= t / i;
		sum += term;
	}
	return sum * pow2_bits(-n);
}

double decay_pow2(double k)
{
	if (!(k < 1024.0))
		return HUGE_VAL;
	return k <= 0.0 ? 1.0 : pow2_bits((int)k);
}

double decay_rate_per_min(const struct decay *d, uint64_t now_ns, uint64_t half_life_ns)
{
	if (!half_life_ns)
		return 0.0;
	return decay_value(d, now_ns, half_life_ns) * M_LN2 * 60e9 / (double)half_life_ns;
}
