// SPDX-License-Identifier: GPL-2.0-only
#include <signal.h>
#include <string.h>
#include "supervise.h"

int svc_death_is_failure(const struct service_conf *c, int class_danger, unsigned int signo,
			 unsigned int exit_status)
{
	switch (c->restart_on) {
	case RESTART_ON_DANGER: return class_danger;
	case RESTART_ON_FAILURE: return class_danger || signo != 0 || exit_status != 0;
	case RESTART_ON_ALWAYS: return 1;
	}
	return 0;
}

static void enter(struct svc_state *s, enum svc_phase p, uint64_t now, uint64_t deadline)
{
	s->phase = p;
	s->since = now;
	s->deadline = deadline;
}

/* Failures inside the breaker window, after dropping the older ones. */
static uint32_t recent_failures(const struct service_conf *c, struct svc_state *s, uint64_t now)
{
	uint32_t i, kept = 0;

	for (i = 0; i < s->n_recent; i++)
		if (now - s->recent[i] < c->breaker_window)
			s->recent[kept++] = s->recent[i];
	s->n_recent = kept;
	return kept;
}

static void note_failure(const struct service_conf *c, struct svc_state *s, uint64_t now)
{
	recent_failures(c, s, now);
	if (s->n_recent == SUPERVISE_HISTORY) {
		memmove(s->recent, s->recent + 1, (SUPERVISE_HISTORY - 1) * sizeof(s->recent[0]));
		s->n_recent--;
	}
	s->recent[s->n_recent++] = now;
	s->failures++;
}

/* backoff_min * 2^(failures-1), times factor (the weather), capped, +-20 % jitter
 * so that services that failed together do not restart in lock step. */
static uint64_t backoff_delay(const struct service_conf *c, uint32_t failures, double rand01,
			      double factor)
{
	double d = (double)c->backoff_min * factor;
	uint32_t i;

	for (i = 1; i < failures && d < (double)c->backoff_max; i++)
		d *= 2;
	if (d > (double)c->backoff_max)
		d = (double)c->backoff_max;
	d *= 0.8 + 0.4 * rand01;
	if (d > (double)c->backoff_max)
		d = (double)c->backoff_max;
	if (d < (double)c->backoff_min && factor >= 1.0)
		d = (double)c->backoff_min;
	return (uint64_t)d;
}

static void after_failure(const struct service_conf *c, struct svc_state *s, uint64_t now,
			  double rand01, double factor)
{
	note_failure(c, s, now);
	if (recent_failures(c, s, now) >= c->breaker_failures) {
		s->delay = c->breaker_cooldown;
		enter(s, SVC_BROKEN, now, now + c->breaker_cooldown);
		return;
	}
	s->delay = backoff_delay(c, s->failures, rand01, factor > 0 ? factor : 1.0);
	enter(s, SVC_BACKOFF, now, now + s->delay);
}

void svc_on_death(const struct service_conf *c, struct svc_state *s, uint64_t now, int failure,
		  double rand01, double backoff_factor)
{
	if (!failure) {
		enter(s, SVC_STOPPED, now, 0);
		return;
	}
	after_failure(c, s, now, rand01, backoff_factor);
}

void svc_on_started(const struct service_conf *c, struct svc_state *s, uint64_t now)
{
	s->restarts++;
	enter(s, SVC_STARTING, now, now + c->settle);
	if (!s->deadline)
		s->deadline = now; /* settle 0: verify at once */
}

void svc_on_seen_running(const struct service_conf *c, struct svc_state *s, uint64_t now)
{
	enter(s, SVC_RUNNING, now, 0);
	s->healthy_at = s->failures ? now + c->healthy_after : 0;
	s->deadline = s->healthy_at;
}

void svc_on_verified(const struct service_conf *c, struct svc_state *s, uint64_t now, int healthy,
		     double rand01, double backoff_factor)
{
	if (!healthy) {
		after_failure(c, s, now, rand01, backoff_factor);
		return;
	}
	svc_on_seen_running(c, s, now);
}

int svc_retry_ready(const struct service_conf *c, struct svc_state *s, uint64_t now)
{
	if (s->phase != SVC_STARTING || now + SVC_READY_RETRY_NS > s->since + c->start_timeout)
		return 0;
	s->deadline = now + SVC_READY_RETRY_NS;
	return 1;
}

enum svc_action svc_due(const struct service_conf *c, struct svc_state *s, uint64_t now)
{
	(void)c;
	if (!s->deadline || now < s->deadline)
		return SVC_ACT_NONE;
	switch (s->phase) {
	case SVC_BACKOFF:
	case SVC_BROKEN: s->deadline = 0; return SVC_ACT_START;
	case SVC_STARTING: s->deadline = 0; return SVC_ACT_VERIFY;
	case SVC_RUNNING:
		s->failures = 0;
		s->n_recent = 0;
		s->healthy_at = 0;
		s->deadline = 0;
		return SVC_ACT_HEALTHY;
	default: s->deadline = 0; return SVC_ACT_NONE;
	}
}

void svc_reset(struct svc_state *s, uint64_t now)
{
	s->failures = 0;
	s->n_recent = 0;
	s->delay = 0;
	if (s->phase == SVC_BROKEN || s->phase == SVC_BACKOFF)
		s->deadline = now; /* start at the next tick */
	if (s->phase == SVC_RUNNING)
		s->deadline = s->healthy_at = 0;
}

static const char *const phase_names[] = {
	[SVC_UNKNOWN] = "unknown", [SVC_RUNNING] = "running", [SVC_STARTING] = "starting",
	[SVC_BACKOFF] = "backoff", [SVC_BROKEN] = "broken",   [SVC_STOPPED] = "stopped",
};

const char *svc_phase_name(enum svc_phase p)
{
	return (unsigned int)p <= SVC_STOPPED ? phase_names[p] : "unknown";
}

int svc_phase_parse(const char *name)
{
	int i;

	for (i = 0; i <= SVC_STOPPED; i++)
		if (!strcmp(name, phase_names[i]))
			return i;
	return -1;
}
