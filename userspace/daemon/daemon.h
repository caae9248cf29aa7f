/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymphd's context: one object that owns every fd and every table, built by
 * main() from the options, run by daemon_run(), freed by daemon_free().
 */
#ifndef LYMPH_DAEMON_H
#define LYMPH_DAEMON_H

#include <stdint.h>
#include <stdio.h>
#include "binpath.h"
#include "config.h"
#include "control.h"
#include "crashtab.h"
#include "format.h"
#include "evloop.h"
#include "fleet.h"
#include "journal.h"
#include "logsink.h"
#include "metrics.h"
#include "outfilter.h"
#include "phago.h"
#include "qmanager.h"
#include "service.h"
#include "source.h"
#include "kthrottle.h"
#include "throttle.h"
#include "tickpace.h"
#include "weather.h"
#include "lymph/names.h"

enum source_choice {
	SOURCE_AUTO,
	SOURCE_BPF,
	SOURCE_PROC,
	SOURCE_KMOD
};

struct daemon_opts {
	enum source_choice source;
	int json;    /* JSON lines instead of text */
	int quiet;   /* no event lines */
	int dry_run; /* observe only, whatever the policy says */
	const char *config_path;
	int config_explicit;	  /* -c FILE given: it must exist */
	const char *journal_path; /* overrides the policy's */
	int verbose;		  /* 0..OUT_VERBOSE_MAX: what is printed, see outfilter.h */
	struct outfilter filter;  /* --events */
	enum log_target log;	  /* --log */
	const char *socket_path;
	struct source_opts src;
	uint64_t half_life_ns; /* of the per-binary decaying danger counts */
	uint32_t crashtab_max;
};

struct daemon {
	struct daemon_opts opts;
	struct source src;
	struct kthrottle kt; /* the kernel side of the throttle (BPF maps or lymph.ko) */
	struct crashtab crashes;
	struct binpath names;
	struct counters count;
	struct policy *policy; /* the current one, on the heap: a reload swaps it */
	struct journal journal;
	struct supervisor sup;
	struct qmanager quar;
	struct throttler thr;
	struct phago phago; /* zombies, disk foresight, tidy (respond/phago.h) */
	struct weather *weather;
	struct fleet *fleet;	      /* NULL without a [fleet] section */
	struct fleet_here fleet_here; /* what this host does because of it */
	struct sigmemo sigmemo;	      /* kills of crash handlers, for the deaths that follow */
	uint64_t weather_next_ns;     /* next weather tick */
	uint64_t cpu_crowded_seen;    /* weather_cpu_crowded() at the last tick */
	struct tickpace pace;	      /* the drain timer's pace: active or dozing */
	uint64_t drain_ns, doze_ns;   /* its two periods (doze 0: never dozes) */
	uint64_t doze_wakes;	      /* records that woke lymphd from a doze */
	uint64_t drops_next_ns;	      /* the sensors' drop count is read by then at the latest */
	uint64_t drops_records;	      /* records_seen() when it was read last */
	uint64_t records_in;	      /* records handled, of every kind */
	uint64_t forks_counted;	      /* the sensors' fork count when it was read last */
	uint64_t fork_records;	      /* fork records handled (the forks shown) */
	int fork_records_on;	      /* the sensors record each fork (else only count) */
	int trim_due;		      /* a request was answered: malloc_trim at the next tick */
	int metrics_fd;		      /* Prometheus HTTP listener, -EBADF when off */
	struct metrics_http *metrics; /* its clients; NULL when off */
	int enforce;
	uint64_t start_ns;	/* CLOCK_MONOTONIC */
	int64_t wall_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, for printing */
	struct evloop loop;	/* every fd below, each with its handler */
	int sigfd, timerfd, ctlfd;
	struct watch src_w, sig_w, timer_w, svc_timer_w, quar_w, fleet_w;
	struct control *ctl;   /* control clients, lymphctl events history */
	int svc_timerfd;       /* armed for the supervisor's next deadline */
	uint64_t svc_armed_ns; /* the deadline it is armed for (0: disarmed) */
	FILE *out;
	struct fmt_buf jline;	   /* --json lines, written without json-c (format.h) */
	struct logsink log;	   /* the system log (journal, syslog) */
	struct json_object *early; /* decisions journaled before the start line */
	int stop;
	int started; /* this lymphd journaled its start (and so journals its stop) */
};

int daemon_init(struct daemon *d, const struct daemon_opts *opts);
/* The forks the sensors counted since the last call into the counters and
 * the weather (a source that counts them: not every fork is a record). */
void daemon_forks_sync(struct daemon *d, uint64_t now_ns);
/* Have the sensors record each fork only while something lymphd feeds
 * shows them: its output, its log, a follower of lymphctl events. */
void daemon_fork_records_follow(struct daemon *d);
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

/* The record sink every source feeds. */
int daemon_handle_record(void *ctx, const struct lymph_hdr *rec);

uint64_t mono_now_ns(void);

/* control.c: the root-only unix socket lymphctl talks to; its listening
 * socket and clients are watched by the event loop (d->loop) with their
 * own handlers; deadlines each tick, followers' output each loop turn, and
 * every record lymphd prints, for lymphctl events. */
struct verdict;
/* A parsed lymphctl request (control/ctlproto.h), answered (commands.c). */
void daemon_command(void *ctx, struct ctl_client *cl, const struct ctl_req *r, uint64_t now);

/* Re-read the policy (SIGHUP, lymphctl reload): 0, or -EINVAL keeping the
 * old one; *why gets the errors (caller frees). */
int daemon_reload(struct daemon *d, char **why);

/* status.c: the Prometheus exposition of lymphd's state, into out. */
int daemon_metrics(const struct daemon *d, FILE *out);
int daemon_metrics_fill(FILE *out, void *d); /* the same, for the HTTP listener */

/* status.c: the state lymphctl status shows, as a JSON object. */
struct json_object;
struct json_object *status_json(const struct daemon *d, uint64_t now_ns);

/* lymphd --lift-pins: end every clone-storm hold the journal says a dead
 * lymphd left (liftpins.c).  0 or -errno. */
int daemon_lift_pins(const struct daemon_opts *o);

#endif
