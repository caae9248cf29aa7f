/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy: what lymphd watches and how it responds.  Parsed from
 * /etc/lymph/lymph.conf and the *.conf files of /etc/lymph/lymph.conf.d (see
 * doc/lymph.conf.5).  A strict, line-oriented INI format: every mistake is
 * reported as file:line: message, and a policy with any error is refused
 * whole.  The parser is pure (text in, policy and errors out).
 */
#ifndef LYMPH_CONFIG_H
#define LYMPH_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "fleet_conf.h"
#include "phagocyte.h"

#define CFG_NAME_MAX 64
#define CFG_ENV_MAX  32
#define CFG_ARGV_MAX 64
#define CFG_LIST_MAX 64

enum restart_on {
	RESTART_ON_DANGER,  /* only deaths classed danger */
	RESTART_ON_FAILURE, /* danger, a fatal signal, or a non-zero exit */
	RESTART_ON_ALWAYS,  /* any death, even a clean exit */
};

enum svc_type {
	SVC_TYPE_SIMPLE,  /* the started process is the service */
	SVC_TYPE_FORKING, /* it forks the daemon and exits; pidfile names the daemon */
	SVC_TYPE_NOTIFY,  /* it says READY=1 on $NOTIFY_SOCKET (systemd's protocol) */
};

enum kill_mode {
	KILL_MODE_GROUP,  /* the main process's session (or process group) */
	KILL_MODE_CGROUP, /* every process of its cgroup v2 */
	KILL_MODE_MAIN,	  /* the main process only */
};

struct service_conf {
	char name[CFG_NAME_MAX];
	const char *file; /* where it was defined, for messages */
	int line;
	/* how to recognise it */
	char *exe;    /* absolute path */
	char *cgroup; /* cgroup v2 path, relative to the cgroup root */
	char *pidfile;
	/* how to start it */
	char **argv; /* NULL-terminated, from `start` */
	char *unit;  /* systemd unit: systemctl restart UNIT */
	char *user, *group;
	char *workdir;
	char *env[CFG_ENV_MAX + 1];
	char *log;		/* stdout/stderr of the started process */
	int log_timestamps;	/* lymphd writes the log, each line timestamped */
	uint64_t log_max;	/* bytes before the log rotates (0: never) */
	uint32_t log_keep;	/* rotated files kept: log.1 .. log.N */
	char *on_failure;	/* hook command, gets LYMPH_* variables */
	char **check_argv;	/* check_command, split like start; NULL: none */
	uint64_t check_timeout; /* ns; a check still running then has failed */
	uint16_t check_port;	/* TCP port on 127.0.0.1 that must accept */
	uint64_t caps;		/* CAP_* bits kept through the uid switch (ambient) */
	uint64_t bounding;	/* CAP_* bits of the bounding set; default: caps */
	int bounding_given;	/* capability_bounding was set */
	enum restart_on restart_on;
	enum svc_type type;
	enum kill_mode kill_mode; /* what else dies with the main process */
	/* timings, ns */
	uint64_t start_timeout; /* from a start to ready (checks retried until then) */
	uint64_t backoff_min, backoff_max;
	uint64_t healthy_after; /* uptime that resets the failure count */
	uint64_t settle;	/* wait before verifying a restart */
	uint64_t breaker_window, breaker_cooldown;
	uint32_t breaker_failures;
	struct service_phago phago; /* leftovers, zombie_restart (phagocyte.h) */
};

struct quarantine_conf {
	double threshold; /* decayed danger deaths per (binary, uid) */
	uint64_t half_life;
	uint64_t duration_min, duration_max;
	int enabled; /* [quarantine] enabled; default: the section is present */
	int root;    /* [quarantine] root = yes: uid 0's binaries too */
	int section; /* a [quarantine] section was seen */
};

struct throttle_conf {
	uint32_t budget; /* forks per second per lineage */
	uint32_t burst;
	uint64_t dead_time_min, dead_time_max;
	uint64_t kill_after; /* 0: never kill */
	enum {
		LINEAGE_SESSION,
		LINEAGE_CGROUP,
		LINEAGE_UID,
		LINEAGE_FAMILY
	} lineage;
	uint32_t uid_budget; /* forks per second per uid, behind the lineage's (0: none) */
	uint32_t uid_burst;
	int enabled; /* [throttle] enabled; default: the section is present */
	int section; /* a [throttle] section was seen */
};

struct protect_conf {
	char *exe[CFG_LIST_MAX];
	uint32_t uid[CFG_LIST_MAX];
	size_t n_exe, n_uid;
};

struct weather_conf {
	double cloudy_psi; /* PSI some avg10 (%) that makes it cloudy */
	double stormy_danger_per_min;
	double budget_factor_stormy; /* clone budget multiplier when stormy */
	double backoff_factor_stormy;
	double unsettled_danger_per_min;
	double quarantine_factor_stormy;
	uint64_t calm_hold;	/* better weather must last this long */
	uint64_t spot_interval; /* integrity spot checks when sunny */
};

struct policy {
	int enforce;	      /* [lymphd] mode = enforce; else observe */
	char *journal;	      /* [lymphd] journal path */
	char *metrics_listen; /* [lymphd] loopback host:port for Prometheus, NULL: off */
	uint64_t journal_max; /* bytes before rotation */
	/* [lymphd] the event loop's scheduler slice, us; 0: the kernel's */
	uint32_t latency_slice_us;
	struct service_conf *services;
	size_t n_services;
	struct quarantine_conf quarantine;
	struct throttle_conf throttle;
	struct protect_conf protect;
	struct weather_conf weather;
	struct fleet_conf fleet;     /* [fleet]: off unless given */
	struct phagocyte_conf phago; /* [phagocyte] (phagocyte.h) */
	char **files;		     /* the files it came from */
	size_t n_files;
};

/* Errors collected while parsing: "file:line: message". */
struct cfg_errors {
	char **msg;
	size_t n;
};

void policy_defaults(struct policy *p);
void policy_free(struct policy *p);

/*
 * Parse one file's text into p (files are parsed in order into the same
 * policy: drop-ins add services or override settings).  Errors go to errs;
 * returns the number of errors added.  name is used in messages and must
 * outlive p.
 */
int config_parse(struct policy *p, const char *name, const char *text, struct cfg_errors *errs);

/* Checks that need the whole policy (after every file is parsed). */
int config_finish(struct policy *p, struct cfg_errors *errs);

void cfg_errors_free(struct cfg_errors *e);

/* "2s", "500ms", "5m", "1h", "1d" or plain seconds -> ns; 0 or -EINVAL. */
int parse_duration(const char *s, uint64_t *ns);

/*
 * Load the main file and its drop-in directory (the *.conf files of path.d, in
 * name order).  A missing main file and drop-in dir give the built-in
 * default policy.  Files and directories must be owned by root and not
 * group- or world-writable.  Returns 0 or -errno; errors in errs.
 */
int config_load(struct policy *p, const char *path, struct cfg_errors *errs);
/* The same; with must_exist, a missing path is an error (-ENOENT). */
int config_load_file(struct policy *p, const char *path, int must_exist, struct cfg_errors *errs);

#define LYMPH_DEFAULT_CONFIG  "/etc/lymph/lymph.conf"
#define LYMPH_DEFAULT_JOURNAL "/var/lib/lymph/journal"

#endif
