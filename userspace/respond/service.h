/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The service supervisor: the edges around supervise.c.  It recognises the
 * deaths of configured services, restarts them (or journals what it would
 * do in observe mode), verifies that the restart healed them, runs the
 * on_failure hooks, and answers lymphctl services/restart/reset.
 */
#ifndef LYMPH_SERVICE_H
#define LYMPH_SERVICE_H

#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>
#include "classify.h"
#include "clock.h"
#include "config.h"
#include "evloop.h"
#include "journal.h"
#include "supervise.h"

struct last_failure {
	int have;
	int danger;
	uint32_t signo;
	int32_t si_code;
	int siginfo;
	uint64_t fault_addr;
	uint32_t exit_status;
	uint32_t pid;
	char reason[24];
	char exe[256];
	uint64_t wall_ns;
};

struct service {
	const struct service_conf *conf; /* into the current policy */
	char name[CFG_NAME_MAX];
	struct svc_state st;
	pid_t pid;		 /* main process, 0 when none is known */
	int pidfd;		 /* for pid, -1 when none */
	int is_child;		 /* lymphd started it: reaped through SIGCHLD */
	int admin_restart;	 /* the next death was asked for by lymphctl restart */
	pid_t reaping;		 /* our dead child, not reaped yet: its sockets may still be open */
	int start_on_reap;	 /* a start waits for reaping: due at once when it is reaped */
	pid_t check_pid;	 /* a running check_command */
	uint64_t check_deadline; /* when it has run too long (check_timeout) */
	pid_t unit_pid;		 /* a running systemctl restart */
	pid_t launcher;		 /* type = forking: the start command, until it exits */
	pid_t group_sid;	 /* the main process's session when it leads it, else 0 */
	pid_t group_pgid;	 /* its process group when it leads it, else 0 */
	char cgroup[256];	 /* its cgroup v2 path when tracked ("" unknown) */
	int log_rd;		 /* log_timestamps/log_max: the output pipe, -1 when none */
	int log_fd;		 /* the log file lymphd writes, -1 when closed */
	int log_bol;		 /* the next byte starts a line */
	uint64_t log_size;	 /* bytes in the current log file */
	int notify_fd;		 /* type = notify: our NOTIFY_SOCKET, -1 when none */
	int ready;		 /* type = notify: READY=1 came from the main process */
	char notify_env[128];	 /* NOTIFY_SOCKET=@lymph/PID/NAME */
	struct last_failure last;
	/* pidfd, notify_fd and log_rd in the event loop (moved on reload) */
	struct watch pid_w, notify_w, log_w;
};

struct supervisor {
	struct service *v;
	size_t n;
	int enforce;
	struct journal *journal;
	struct evloop *loop; /* pidfds, notify sockets, log pipes; NULL: none */
	/* Called before a pidfd's death is handled: the sensors' record of
	 * the same death carries more (si_code, sender) and goes first. */
	void (*drain)(void *ctx);
	void *drain_ctx;
	double backoff_factor;	 /* from the weather; 1.0 when calm */
	struct clock_offset clk; /* journaled wall times <-> monotonic */
	unsigned int rng;
};

int supervisor_init(struct supervisor *s, const struct policy *p, struct journal *j, int enforce,
		    struct evloop *loop);
void supervisor_free(struct supervisor *s);

/* Rebuild states from the journal, find running instances, start the
 * missing ones (enforce). */
void supervisor_start(struct supervisor *s, const char *journal_path, uint64_t now);

/* Every death lymphd sees. */
void supervisor_on_death(struct supervisor *s, const struct lymph_death *d,
			 const struct verdict *vd, const char *exe, uint64_t now);

/* A child of lymphd was reaped. */
void supervisor_on_child(struct supervisor *s, pid_t pid, int status, uint64_t now);

/* Do what is due. */
void supervisor_tick(struct supervisor *s, uint64_t now);

/* Earliest deadline (CLOCK_MONOTONIC ns), 0 when none. */
uint64_t supervisor_next_deadline(const struct supervisor *s);

/* fn(ctx) runs before a pidfd's death is handled (lymphd drains the
 * sensors' ring: their record of the death says more). */
void supervisor_set_drain(struct supervisor *s, void (*fn)(void *ctx), void *ctx);

/* For the weather: services in one phase (restarting, broken...). */
size_t supervisor_count_in_phase(const struct supervisor *s, enum svc_phase phase);
/* The weather's multiplier of restart backoffs (1.0 when calm). */
void supervisor_set_backoff_factor(struct supervisor *s, double factor);

/* Switch to a new policy: states of services kept by name. */
int supervisor_reload(struct supervisor *s, const struct policy *p, int enforce, uint64_t now);

/* lymphctl: "services" list; restart / reset NAME: 0 or -ENOENT. */
struct json_object *supervisor_json(const struct supervisor *s, uint64_t now);
int supervisor_restart(struct supervisor *s, const char *name, uint64_t now);
int supervisor_reset(struct supervisor *s, const char *name, uint64_t now);

/* Journal snapshot of every service (for rotation). */
int supervisor_snapshot(struct supervisor *s);

/* One journal record at start, before supervisor_start(): 0, or -EINVAL
 * for a damaged service record. */
int supervisor_replay_record(struct supervisor *s, struct json_object *rec);

#endif
