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
#include "crashtab.h"
#include "journal.h"
#include "qmanager.h"
#include "service.h"
#include "source.h"
#include "throttle.h"
#include "weather.h"

#define LYMPH_VERSION "0.1.0"
#define LYMPH_DEFAULT_SOCKET "/run/lymph/lymphd.sock"

enum source_choice { SOURCE_AUTO, SOURCE_BPF, SOURCE_PROC, SOURCE_KMOD };

struct daemon_opts {
	enum source_choice source;
	int json;		/* JSON lines instead of text */
	int quiet;		/* no event lines */
	int dry_run;		/* observe only, whatever the policy says */
	const char *config_path;
	const char *journal_path;	/* overrides the policy's */
	int verbose;
	const char *socket_path;
	struct source_opts src;
	uint64_t half_life_ns;	/* of the per-binary decaying danger counts */
	uint32_t crashtab_max;
};

struct counters {
	uint64_t by_kind[LYMPH_EV_KIND_MAX];
	uint64_t danger;
	uint64_t programmed;
};

struct daemon {
	struct daemon_opts opts;
	struct source src;
	struct crashtab crashes;
	struct binpath names;
	struct counters count;
	struct policy policy;
	struct journal journal;
	struct supervisor sup;
	struct qmanager quar;
	struct throttler thr;
	struct weather *weather;
	struct sigmemo sigmemo;	/* kills of crash handlers, for the deaths that follow */
	uint64_t weather_next_ns;	/* next weather tick */
	int metrics_fd;		/* Prometheus HTTP listener, -EBADF when off */
	int enforce;
	uint64_t start_ns;	/* CLOCK_MONOTONIC */
	int64_t wall_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, for printing */
	int epfd, sigfd, timerfd, ctlfd;
	int svc_timerfd;	/* armed for the supervisor's next deadline */
	FILE *out;
	int stop;
};

int daemon_init(struct daemon *d, const struct daemon_opts *opts);
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

/* The record sink every source feeds. */
int daemon_handle_record(void *ctx, const struct lymph_hdr *rec);

uint64_t mono_now_ns(void);

/* control.c: the root-only unix socket lymphctl talks to. */
int control_open(const char *path);
void control_accept(struct daemon *d);
void control_close(int fd, const char *path);

/* Re-read the policy (SIGHUP, lymphctl reload): 0, or -EINVAL keeping the
 * old one; *why gets the errors (caller frees). */
int daemon_reload(struct daemon *d, char **why);

/* status.c: the Prometheus exposition of lymphd's state, into out. */
int daemon_metrics(const struct daemon *d, FILE *out);
void daemon_metrics_serve(const struct daemon *d);	/* one HTTP client */

/* status.c: the state lymphctl status shows, as a JSON object. */
struct json_object;
struct json_object *status_json(const struct daemon *d, uint64_t now_ns);

#endif
