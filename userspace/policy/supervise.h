/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The restart policy of one service, as a pure state machine: the
 * "transplant" of the paper, with the dead time of its adaptive locks.
 *
 *   RUNNING --death that counts--> BACKOFF --delay--> STARTING --settle-->
 *   verify: healthy -> RUNNING (failures reset after healthy_after),
 *           not healthy -> counts as a failure -> BACKOFF or BROKEN
 *   N failures within the window -> BROKEN --cool-down--> STARTING (retry)
 *
 * The delay grows exponentially with jitter between backoff_min and
 * backoff_max; the failure count resets after healthy_after of healthy
 * uptime, so a service that crashes once a week is never punished for the
 * crash of last month (the top complaint about systemd's and monit's
 * counters).  All times are CLOCK_MONOTONIC ns; randomness is a parameter.
 */
#ifndef LYMPH_SUPERVISE_H
#define LYMPH_SUPERVISE_H

#include <stdint.h>
#include "config.h"

#define SUPERVISE_HISTORY 64 /* failure times kept for the breaker */

enum svc_phase {
	SVC_UNKNOWN, /* not seen yet */
	SVC_RUNNING,
	SVC_STARTING, /* started, waiting for the settle time to verify */
	SVC_BACKOFF,  /* failed, waiting to restart */
	SVC_BROKEN,   /* crash loop: breaker open, waiting for the cool-down */
	SVC_STOPPED,  /* exited in a way that does not call for a restart */
};

struct svc_state {
	enum svc_phase phase;
	uint32_t failures; /* since the last healthy reset: drives the backoff */
	uint32_t restarts; /* restarts done since lymphd first saw it */
	uint32_t n_recent;
	uint64_t recent[SUPERVISE_HISTORY]; /* failure times, for the breaker window */
	uint64_t since;			    /* when the phase was entered */
	uint64_t deadline;		    /* next thing to do (0: nothing) */
	uint64_t delay;			    /* the backoff delay last chosen */
	uint64_t healthy_at;		    /* RUNNING: when the failure count resets */
};

enum svc_action {
	SVC_ACT_NONE,
	SVC_ACT_START,	 /* start (or restart) the service now */
	SVC_ACT_VERIFY,	 /* check that the restart healed it */
	SVC_ACT_HEALTHY, /* healthy long enough: failure count reset */
};

/* Does this death call for a restart under restart_on? class_danger: the
 * classifier's verdict; signo 0 for an exit with exit_status. */
int svc_death_is_failure(const struct service_conf *c, int class_danger, unsigned int signo,
			 unsigned int exit_status);

/* The process died.  failure: svc_death_is_failure().  rand01 in [0,1). */
void svc_on_death(const struct service_conf *c, struct svc_state *s, uint64_t now, int failure,
		  double rand01, double backoff_factor);

/* lymphd started it. */
void svc_on_started(const struct service_conf *c, struct svc_state *s, uint64_t now);

/* It was found running (at start, or after a systemd restart). */
void svc_on_seen_running(const struct service_conf *c, struct svc_state *s, uint64_t now);

/* Result of the verification after the settle time. */
void svc_on_verified(const struct service_conf *c, struct svc_state *s, uint64_t now, int healthy,
		     double rand01, double backoff_factor);

/* Readiness checks (alive, check_port, check_command, READY=1) are retried
 * this often until start_timeout after the start. */
#define SVC_READY_RETRY_NS 100000000ULL

/* A readiness check failed at now (phase STARTING): 1 when it is to be
 * retried (deadline set), 0 when start_timeout is over: then the caller
 * reports the failure with svc_on_verified(..., healthy 0, ...). */
int svc_retry_ready(const struct service_conf *c, struct svc_state *s, uint64_t now);

/* What is due at now (and the state moves on accordingly for HEALTHY). */
enum svc_action svc_due(const struct service_conf *c, struct svc_state *s, uint64_t now);

/* Manual reset (lymphctl reset): forget failures, close the breaker. */
void svc_reset(struct svc_state *s, uint64_t now);

const char *svc_phase_name(enum svc_phase p);
int svc_phase_parse(const char *name);

#endif
