// SPDX-License-Identifier: GPL-2.0-only
#include "deadtime.h"

static void grow(const struct throttle_conf *c, struct deadtime *d)
{
	d->dead_time *= 2;
	if (d->dead_time > c->dead_time_max)
		d->dead_time = c->dead_time_max;
}

int deadtime_on_hold(const struct throttle_conf *c, struct deadtime *d, uint64_t now)
{
	int fresh = !d->episode_start;

	if (d->hold_until)
		return 0;
	if (fresh)
		*d = (struct deadtime){ .episode_start = now, .dead_time = c->dead_time_min };
	else if (d->last_lift && now - d->last_lift < 2 * d->dead_time)
		grow(c, d); /* held again soon after a lift: the storm goes on */
	d->holds++;
	d->last_hold = now;
	d->hold_until = now + d->dead_time;
	d->calm_check = 0;
	return fresh;
}

enum deadtime_action deadtime_due(const struct throttle_conf *c, struct deadtime *d, uint64_t now,
				  int storming)
{
	if (!d->episode_start)
		return DT_NONE;
	if (d->hold_until && now >= d->hold_until) {
		if (storming) {
			if (c->kill_after && now - d->episode_start >= c->kill_after) {
				d->hold_until = 0;
				return DT_KILL;
			}
			grow(c, d);
			d->extensions++;
			d->hold_until = now + d->dead_time;
			return DT_EXTEND;
		}
		d->hold_until = 0;
		d->last_lift = now;
		d->calm_check = now + 2 * d->dead_time;
		return DT_LIFT;
	}
	if (!d->hold_until && d->calm_check && now >= d->calm_check) {
		/* Not held again for two dead times: calmer. */
		if (d->dead_time > c->dead_time_min) {
			d->dead_time /= 2;
			if (d->dead_time < c->dead_time_min)
				d->dead_time = c->dead_time_min;
			d->calm_check = now + 2 * d->dead_time;
			return DT_NONE;
		}
		*d = (struct deadtime){ 0 };
		return DT_END;
	}
	return DT_NONE;
}

uint64_t deadtime_next(const struct deadtime *d)
{
	if (!d->episode_start)
		return 0;
	return d->hold_until ? d->hold_until : d->calm_check;
}
