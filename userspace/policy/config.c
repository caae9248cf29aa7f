// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy parser: strict, line-oriented INI.  Pure: text in, policy and
 * "file:line: message" errors out.  File access lives in config_load.c.
 *
 *   # comment            (a line whose first non-blank is # or ;)
 *   [lymphd]             global settings
 *   [service NAME]       one per service; NAME is [A-Za-z0-9_.@-]
 *   key = value          value runs to the end of the line, trimmed
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include "config.h"
#include "parse_num.h"

#define SEC_NS 1000000000ULL

enum sect {
	S_NONE,
	S_LYMPHD,
	S_SERVICE,
	S_QUARANTINE,
	S_THROTTLE,
	S_PROTECT,
	S_WEATHER,
	S_FLEET,
	S_PHAGOCYTE
};

enum vtype {
	T_PATH, /* absolute path */
	T_STR,
	T_ARGV, /* command line, split with shell-like quoting */
	T_DURATION,
	T_U32,
	T_PORT,
	T_DOUBLE,
	T_RESTART_ON,
	T_MODE,
	T_LINEAGE,
	T_SIZE,
	T_ENV,	     /* KEY=VALUE, repeatable */
	T_PATH_LIST, /* repeatable */
	T_UID_LIST,  /* repeatable */
	T_CAPS,	     /* CAP_* names, blank- or comma-separated */
	T_SVC_TYPE,
	T_KILL_MODE,
	T_BOOL, /* yes/no, true/false, on/off, 1/0 into an int */
};

struct key {
	enum sect sect;
	const char *name;
	enum vtype type;
	size_t off;	   /* into struct service_conf for S_SERVICE, else struct policy */
	uint64_t min, max; /* T_U32, T_PORT, T_DURATION (ns), T_SIZE */
};

#define SVC(f) offsetof(struct service_conf, f)
#define POL(f) offsetof(struct policy, f)
#define D(s)   ((uint64_t)(s)*SEC_NS)

static const struct key keys[] = {
	{ S_LYMPHD, "mode", T_MODE, POL(enforce), 0, 0 },
	{ S_LYMPHD, "journal", T_PATH, POL(journal), 0, 0 },
	{ S_LYMPHD, "journal_max", T_SIZE, POL(journal_max), 64 << 10, 1ULL << 32 },
	{ S_LYMPHD, "metrics_listen", T_STR, POL(metrics_listen), 0, 0 },
	{ S_LYMPHD, "latency_slice_us", T_U32, POL(latency_slice_us), 0, 100000 },

	{ S_SERVICE, "exe", T_PATH, SVC(exe), 0, 0 },
	{ S_SERVICE, "cgroup", T_STR, SVC(cgroup), 0, 0 },
	{ S_SERVICE, "pidfile", T_PATH, SVC(pidfile), 0, 0 },
	{ S_SERVICE, "start", T_ARGV, SVC(argv), 0, 0 },
	{ S_SERVICE, "unit", T_STR, SVC(unit), 0, 0 },
	{ S_SERVICE, "user", T_STR, SVC(user), 0, 0 },
	{ S_SERVICE, "group", T_STR, SVC(group), 0, 0 },
	{ S_SERVICE, "workdir", T_PATH, SVC(workdir), 0, 0 },
	{ S_SERVICE, "env", T_ENV, SVC(env), 0, 0 },
	{ S_SERVICE, "log", T_PATH, SVC(log), 0, 0 },
	{ S_SERVICE, "log_timestamps", T_BOOL, SVC(log_timestamps), 0, 0 },
	{ S_SERVICE, "log_max", T_SIZE, SVC(log_max), 4096, 1ULL << 40 },
	{ S_SERVICE, "log_keep", T_U32, SVC(log_keep), 1, 100 },
	{ S_SERVICE, "on_failure", T_PATH, SVC(on_failure), 0, 0 },
	{ S_SERVICE, "check_command", T_ARGV, SVC(check_argv), 0, 0 },
	{ S_SERVICE, "check_timeout", T_DURATION, SVC(check_timeout), 1000000, D(3600) },
	{ S_SERVICE, "check_port", T_PORT, SVC(check_port), 1, 65535 },
	{ S_SERVICE, "capabilities", T_CAPS, SVC(caps), 0, 0 },
	{ S_SERVICE, "capability_bounding", T_CAPS, SVC(bounding), 0, 0 },
	{ S_SERVICE, "restart_on", T_RESTART_ON, SVC(restart_on), 0, 0 },
	{ S_SERVICE, "type", T_SVC_TYPE, SVC(type), 0, 0 },
	{ S_SERVICE, "kill_mode", T_KILL_MODE, SVC(kill_mode), 0, 0 },
	{ S_SERVICE, "start_timeout", T_DURATION, SVC(start_timeout), 1000000, D(3600) },
	{ S_SERVICE, "backoff_min", T_DURATION, SVC(backoff_min), 0, D(86400) },
	{ S_SERVICE, "backoff_max", T_DURATION, SVC(backoff_max), 0, D(86400) },
	{ S_SERVICE, "healthy_after", T_DURATION, SVC(healthy_after), D(0) + 1000000,
	  D(86400 * 7) },
	{ S_SERVICE, "settle", T_DURATION, SVC(settle), 0, D(3600) },
	{ S_SERVICE, "breaker_failures", T_U32, SVC(breaker_failures), 1, 1000 },
	{ S_SERVICE, "breaker_window", T_DURATION, SVC(breaker_window), 1000000, D(86400 * 7) },
	{ S_SERVICE, "breaker_cooldown", T_DURATION, SVC(breaker_cooldown), 1000000, D(86400 * 7) },

	{ S_QUARANTINE, "threshold", T_DOUBLE, POL(quarantine.threshold), 0, 0 },
	{ S_QUARANTINE, "half_life", T_DURATION, POL(quarantine.half_life), SEC_NS, D(86400 * 30) },
	{ S_QUARANTINE, "duration_min", T_DURATION, POL(quarantine.duration_min), SEC_NS,
	  D(86400 * 30) },
	{ S_QUARANTINE, "duration_max", T_DURATION, POL(quarantine.duration_max), SEC_NS,
	  D(86400 * 365) },
	{ S_QUARANTINE, "enabled", T_BOOL, POL(quarantine.enabled), 0, 0 },
	{ S_QUARANTINE, "root", T_BOOL, POL(quarantine.root), 0, 0 },

	{ S_THROTTLE, "budget", T_U32, POL(throttle.budget), 1, 1000000 },
	{ S_THROTTLE, "burst", T_U32, POL(throttle.burst), 1, 1000000 },
	{ S_THROTTLE, "dead_time_min", T_DURATION, POL(throttle.dead_time_min), 1000000, D(3600) },
	{ S_THROTTLE, "dead_time_max", T_DURATION, POL(throttle.dead_time_max), 1000000, D(3600) },
	{ S_THROTTLE, "kill_after", T_DURATION, POL(throttle.kill_after), 0, D(86400) },
	{ S_THROTTLE, "lineage", T_LINEAGE, POL(throttle.lineage), 0, 0 },
	{ S_THROTTLE, "enabled", T_BOOL, POL(throttle.enabled), 0, 0 },
	{ S_THROTTLE, "uid_budget", T_U32, POL(throttle.uid_budget), 0, 1000000 },
	{ S_THROTTLE, "uid_burst", T_U32, POL(throttle.uid_burst), 1, 1000000 },

	{ S_PROTECT, "exe", T_PATH_LIST, POL(protect), 0, 0 },
	{ S_PROTECT, "uid", T_UID_LIST, POL(protect), 0, 0 },

	{ S_WEATHER, "cloudy_psi", T_DOUBLE, POL(weather.cloudy_psi), 0, 0 },
	{ S_WEATHER, "stormy_danger_per_min", T_DOUBLE, POL(weather.stormy_danger_per_min), 0, 0 },
	{ S_WEATHER, "budget_factor_stormy", T_DOUBLE, POL(weather.budget_factor_stormy), 0, 0 },
	{ S_WEATHER, "backoff_factor_stormy", T_DOUBLE, POL(weather.backoff_factor_stormy), 0, 0 },
	{ S_WEATHER, "unsettled_danger_per_min", T_DOUBLE, POL(weather.unsettled_danger_per_min), 0,
	  0 },
	{ S_WEATHER, "quarantine_factor_stormy", T_DOUBLE, POL(weather.quarantine_factor_stormy), 0,
	  0 },
	{ S_WEATHER, "calm_hold", T_DURATION, POL(weather.calm_hold), SEC_NS, D(3600) },
	{ S_WEATHER, "spot_interval", T_DURATION, POL(weather.spot_interval), D(10), D(86400) },
};

_Static_assert(sizeof(keys) / sizeof(keys[0]) <= 4 * 64, "pstate.seen holds a bit per key");

static const char *const sect_names[] = {
	[S_LYMPHD] = "lymphd",	   [S_SERVICE] = "service",	[S_QUARANTINE] = "quarantine",
	[S_THROTTLE] = "throttle", [S_PROTECT] = "protect",	[S_WEATHER] = "weather",
	[S_FLEET] = "fleet",	   [S_PHAGOCYTE] = "phagocyte",
};

static void err_add(struct cfg_errors *e, const char *file, int line, const char *fmt, ...)
{
	char msg[512], *full, **grown;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = line ? asprintf(&full, "%s:%d: %s", file, line, msg)
		 : asprintf(&full, "%s: %s", file, msg);
	if (n < 0)
		return;
	grown = realloc(e->msg, (e->n + 1) * sizeof(*e->msg));
	if (!grown) {
		free(full);
		return;
	}
	e->msg = grown;
	e->msg[e->n++] = full;
}

void cfg_errors_free(struct cfg_errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = 0;
}

void policy_defaults(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->enforce = 0;
	p->journal = strdup(LYMPH_DEFAULT_JOURNAL);
	p->journal_max = 8ULL << 20;
	p->latency_slice_us = 100; /* the kernel's floor (lib/slice.h) */
	p->quarantine = (struct quarantine_conf){
		.threshold = 5.0,
		.half_life = D(3600),
		.duration_min = D(600),
		.duration_max = D(86400),
		.enabled = -1,
		.root = 0,
	};
	p->throttle = (struct throttle_conf){
		.budget = 200,
		.burst = 400,
		.dead_time_min = 100000000ULL,
		.dead_time_max = D(10),
		.kill_after = 0,
		.lineage = LINEAGE_FAMILY,
		.uid_budget = 1000,
		.uid_burst = 2000,
		.enabled = -1,
	};
	p->weather = (struct weather_conf){
		.cloudy_psi = 10.0,
		.stormy_danger_per_min = 30.0,
		.budget_factor_stormy = 0.5,
		.backoff_factor_stormy = 2.0,
	};
	fleet_conf_defaults(&p->fleet);
	phago_conf_defaults(&p->phago);
}

static void service_defaults(struct service_conf *s)
{
	memset(s, 0, sizeof(*s));
	s->restart_on = RESTART_ON_FAILURE;
	s->backoff_min = SEC_NS;
	s->backoff_max = D(60);
	s->healthy_after = D(60);
	s->settle = D(2);
	s->check_timeout = D(10);
	s->start_timeout = D(10);
	s->log_keep = 3;
	s->breaker_failures = 5;
	s->breaker_window = D(300);
	s->breaker_cooldown = D(600);
}

static void service_free(struct service_conf *s)
{
	size_t i;

	free(s->exe);
	free(s->cgroup);
	free(s->pidfile);
	free(s->unit);
	free(s->user);
	free(s->group);
	free(s->workdir);
	free(s->log);
	free(s->on_failure);
	if (s->argv)
		for (i = 0; s->argv[i]; i++)
			free(s->argv[i]);
	free(s->argv);
	if (s->check_argv)
		for (i = 0; s->check_argv[i]; i++)
			free(s->check_argv[i]);
	free(s->check_argv);
	for (i = 0; s->env[i]; i++)
		free(s->env[i]);
	phago_service_free(&s->phago);
}

void policy_free(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->n_services; i++)
		service_free(&p->services[i]);
	free(p->services);
	for (i = 0; i < p->protect.n_exe; i++)
		free(p->protect.exe[i]);
	for (i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	free(p->journal);
	free(p->metrics_listen);
	fleet_conf_free(&p->fleet);
	phago_conf_free(&p->phago);
	memset(p, 0, sizeof(*p));
}

int parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "ms", 1000000ULL },	{ "s", SEC_NS },	 { "m", 60 * SEC_NS },
		{ "h", 3600 * SEC_NS }, { "d", 86400 * SEC_NS }, { "", SEC_NS },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -EINVAL;
		*ns = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

/* Split a command line: blanks separate words; '...' is literal; "..." and
 * bare words take backslash escapes.  No variables, no globbing: lymphd
 * runs no shell. */
static int split_argv(const char *s, char ***out)
{
	char **argv = calloc(CFG_ARGV_MAX + 1, sizeof(*argv));
	size_t n = 0, len = strlen(s);
	char *word = malloc(len + 1);

	if (!argv || !word)
		goto nomem;
	while (*s) {
		size_t w = 0;
		int have = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		while (*s && *s != ' ' && *s != '\t') {
			have = 1;
			if (*s == '\'') {
				const char *q = strchr(s + 1, '\'');

				if (!q)
					goto bad;
				memcpy(word + w, s + 1, q - s - 1);
				w += q - s - 1;
				s = q + 1;
			} else if (*s == '"') {
				s++;
				while (*s && *s != '"') {
					if (*s == '\\' && s[1])
						s++;
					word[w++] = *s++;
				}
				if (*s != '"')
					goto bad;
				s++;
			} else {
				if (*s == '\\' && s[1])
					s++;
				word[w++] = *s++;
			}
		}
		if (!have)
			continue;
		if (n == CFG_ARGV_MAX)
			goto bad;
		word[w] = 0;
		argv[n] = strdup(word);
		if (!argv[n++])
			goto nomem;
	}
	free(word);
	if (!n) {
		free(argv);
		return -EINVAL;
	}
	*out = argv;
	return 0;
bad:
	free(word);
	for (size_t i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	return -EINVAL;
nomem:
	free(word);
	free(argv);
	return -ENOMEM;
}

static int valid_service_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= CFG_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.@-", *s))
			return 0;
	return 1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

struct pstate {
	struct policy *p;
	const char *file;
	struct cfg_errors *errs;
	int line;
	enum sect sect;
	struct service_conf *svc; /* current [service] */
	uint64_t seen[4];	  /* bit per key index: duplicates in this section */
	int skipping;		  /* in a refused section: its keys are not reported too */
	uint32_t phago_seen[2];	  /* [phagocyte] / service keys set once (phago_key_line) */
	int nerr;
};

#define ERR(ps, ...)                                                      \
	do {                                                              \
		err_add((ps)->errs, (ps)->file, (ps)->line, __VA_ARGS__); \
		(ps)->nerr++;                                             \
	} while (0)

/* "CAP_CHOWN CAP_SETUID" (or cap_chown,setuid): a CAP_* bit mask; "none"
 * alone is the empty set.  0, or -1 with *bad at the unknown name. */
static int parse_caps(const char *val, uint64_t *mask, char *bad, size_t badcap)
{
	uint64_t m = 0;

	if (!strcmp(val, "none")) {
		*mask = 0;
		return 0;
	}
	while (*val) {
		size_t n = strcspn(val, " \t,"), i;
		char word[64] = "cap_";
		cap_value_t c;

		if (!n) {
			val++;
			continue;
		}
		if (n > 40) {
			snprintf(bad, badcap, "%.40s...", val);
			return -1;
		}
		snprintf(word + 4, sizeof(word) - 4, "%.*s", (int)n, val);
		val += n;
		for (i = 4; word[i]; i++)
			word[i] = (char)tolower((unsigned char)word[i]);
		if (!strncmp(word + 4, "cap_", 4))
			memmove(word, word + 4, strlen(word + 4) + 1);
		if (cap_from_name(word, &c) || c < 0 || c >= 64 ||
		    isdigit((unsigned char)word[4])) {
			snprintf(bad, badcap, "%s", word);
			return -1;
		}
		m |= 1ULL << c;
	}
	*mask = m;
	return 0;
}

static int set_value(struct pstate *ps, const struct key *k, const char *val)
{
	void *base = k->sect == S_SERVICE ? (void *)ps->svc : (void *)ps->p;
	void *field = (char *)base + k->off;
	uint64_t u;
	double d;
	char *end;

	switch (k->type) {
	case T_PATH:
		if (val[0] != '/') {
			ERR(ps, "%s must be an absolute path, not '%s'", k->name, val);
			return -1;
		}
		/* fall through */
	case T_STR:
		if (!*val) {
			ERR(ps, "%s needs a value", k->name);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = strdup(val);
		return 0;
	case T_ARGV: {
		char ***argv = field;

		if (*argv) {
			for (size_t i = 0; (*argv)[i]; i++)
				free((*argv)[i]);
			free(*argv);
			*argv = NULL;
		}
		if (split_argv(val, argv)) {
			ERR(ps,
			    "%s: cannot split '%s' into a command (empty, unbalanced quote, or more than %d words)",
			    k->name, val, CFG_ARGV_MAX);
			return -1;
		}
		if ((*argv)[0][0] != '/') {
			ERR(ps, "%s: the program must be an absolute path, not '%s'", k->name,
			    (*argv)[0]);
			return -1;
		}
		return 0;
	}
	case T_DURATION:
		if (parse_duration(val, &u)) {
			ERR(ps, "%s: '%s' is not a duration (e.g. 500ms, 2s, 5m, 1h, 1d)", k->name,
			    val);
			return -1;
		}
		if (u < k->min || u > k->max) {
			ERR(ps, "%s: %s is out of range (%.3gs to %.3gs)", k->name, val,
			    (double)k->min / 1e9, (double)k->max / 1e9);
			return -1;
		}
		*(uint64_t *)field = u;
		return 0;
	case T_SIZE:
		if (parse_size(val, k->min, k->max, &u)) {
			ERR(ps,
			    "%s: '%s' is not a size from %llu to %llu bytes (K, M, G suffixes allowed)",
			    k->name, val, (unsigned long long)k->min, (unsigned long long)k->max);
			return -1;
		}
		*(uint64_t *)field = u;
		return 0;
	case T_U32:
	case T_PORT:
		if (parse_u64(val, k->min, k->max, &u)) {
			ERR(ps, "%s: '%s' is not a whole number from %llu to %llu", k->name, val,
			    (unsigned long long)k->min, (unsigned long long)k->max);
			return -1;
		}
		if (k->type == T_PORT)
			*(uint16_t *)field = (uint16_t)u;
		else
			*(uint32_t *)field = (uint32_t)u;
		return 0;
	case T_DOUBLE:
		errno = 0;
		d = strtod(val, &end);
		if (errno || end == val || *end || d < 0 || d != d) {
			ERR(ps, "%s: '%s' is not a non-negative number", k->name, val);
			return -1;
		}
		*(double *)field = d;
		return 0;
	case T_RESTART_ON:
		if (!strcmp(val, "danger"))
			*(enum restart_on *)field = RESTART_ON_DANGER;
		else if (!strcmp(val, "failure"))
			*(enum restart_on *)field = RESTART_ON_FAILURE;
		else if (!strcmp(val, "always"))
			*(enum restart_on *)field = RESTART_ON_ALWAYS;
		else {
			ERR(ps, "restart_on: '%s' is not one of danger, failure, always", val);
			return -1;
		}
		return 0;
	case T_KILL_MODE:
		if (!strcmp(val, "group"))
			*(enum kill_mode *)field = KILL_MODE_GROUP;
		else if (!strcmp(val, "cgroup"))
			*(enum kill_mode *)field = KILL_MODE_CGROUP;
		else if (!strcmp(val, "main"))
			*(enum kill_mode *)field = KILL_MODE_MAIN;
		else {
			ERR(ps, "kill_mode: '%s' is not one of group, cgroup, main", val);
			return -1;
		}
		return 0;
	case T_SVC_TYPE:
		if (!strcmp(val, "simple"))
			*(enum svc_type *)field = SVC_TYPE_SIMPLE;
		else if (!strcmp(val, "forking"))
			*(enum svc_type *)field = SVC_TYPE_FORKING;
		else if (!strcmp(val, "notify"))
			*(enum svc_type *)field = SVC_TYPE_NOTIFY;
		else {
			ERR(ps, "type: '%s' is not one of simple, forking, notify", val);
			return -1;
		}
		return 0;
	case T_MODE:
		if (!strcmp(val, "observe"))
			*(int *)field = 0;
		else if (!strcmp(val, "enforce"))
			*(int *)field = 1;
		else {
			ERR(ps, "mode: '%s' is not observe or enforce", val);
			return -1;
		}
		return 0;
	case T_LINEAGE:
		if (!strcmp(val, "session"))
			ps->p->throttle.lineage = LINEAGE_SESSION;
		else if (!strcmp(val, "cgroup"))
			ps->p->throttle.lineage = LINEAGE_CGROUP;
		else if (!strcmp(val, "uid"))
			ps->p->throttle.lineage = LINEAGE_UID;
		else if (!strcmp(val, "family"))
			ps->p->throttle.lineage = LINEAGE_FAMILY;
		else {
			ERR(ps, "lineage: '%s' is not family, session, cgroup or uid", val);
			return -1;
		}
		return 0;
	case T_ENV: {
		char **env = field;
		size_t n = 0;
		const char *eq = strchr(val, '=');

		if (!eq || eq == val) {
			ERR(ps, "env: '%s' is not KEY=VALUE", val);
			return -1;
		}
		while (env[n])
			n++;
		if (n == CFG_ENV_MAX) {
			ERR(ps, "env: more than %d variables", CFG_ENV_MAX);
			return -1;
		}
		env[n] = strdup(val);
		return 0;
	}
	case T_PATH_LIST:
		if (val[0] != '/') {
			ERR(ps, "%s must be an absolute path, not '%s'", k->name, val);
			return -1;
		}
		if (ps->p->protect.n_exe == CFG_LIST_MAX) {
			ERR(ps, "%s: more than %d entries", k->name, CFG_LIST_MAX);
			return -1;
		}
		ps->p->protect.exe[ps->p->protect.n_exe++] = strdup(val);
		return 0;
	case T_CAPS: {
		char bad[64];

		if (parse_caps(val, (uint64_t *)field, bad, sizeof(bad))) {
			ERR(ps,
			    "%s: '%s' is not a capability (e.g. CAP_NET_BIND_SERVICE; see capabilities(7))",
			    k->name, bad);
			return -1;
		}
		if (field == (void *)&ps->svc->bounding)
			ps->svc->bounding_given = 1;
		return 0;
	}
	case T_UID_LIST:
		if (parse_u64(val, 0, UINT32_MAX - 1, &u)) {
			ERR(ps, "uid: '%s' is not a numeric uid", val);
			return -1;
		}
		if (ps->p->protect.n_uid == CFG_LIST_MAX) {
			ERR(ps, "uid: more than %d entries", CFG_LIST_MAX);
			return -1;
		}
		ps->p->protect.uid[ps->p->protect.n_uid++] = (uint32_t)u;
		return 0;
	case T_BOOL:
		if (!strcmp(val, "yes") || !strcmp(val, "true") || !strcmp(val, "on") ||
		    !strcmp(val, "1"))
			*(int *)field = 1;
		else if (!strcmp(val, "no") || !strcmp(val, "false") || !strcmp(val, "off") ||
			 !strcmp(val, "0"))
			*(int *)field = 0;
		else {
			ERR(ps, "%s: '%s' is not yes or no", k->name, val);
			return -1;
		}
		return 0;
	}
	return -1;
}

static int repeatable(enum vtype t)
{
	return t == T_ENV || t == T_PATH_LIST || t == T_UID_LIST;
}

/* [phagocyte] keys and the per-service phagocyte keys (phagocyte.c):
 * 1 when the line was one of them (taken or reported). */
static int phago_key_line(struct pstate *ps, const char *name, const char *val)
{
	static const char *const once[] = { "leftovers",
					    "foresight",
					    "zombie_max",
					    "zombie_after",
					    "zombie_interval",
					    "disk_interval",
					    "disk_window",
					    "disk_horizon",
					    "tidy_dead_time",
					    "zombie_restart",
					    "cores",
					    "core_budget_per_binary",
					    "core_budget_total",
					    "core_keep_first",
					    "core_interval",
					    "leak_interval",
					    "leak_window",
					    "leak_horizon",
					    "core_handler",
					    "core_store",
					    "core_handler_timeout",
					    "shm",
					    "shm_any_dead",
					    "shm_min_age",
					    "shm_interval",
					    "shm_save_max" };
	int svc = ps->sect == S_SERVICE, r;
	char err[512];
	size_t i;

	if (ps->sect != S_PHAGOCYTE && !svc)
		return 0;
	r = svc ? phago_service_key(&ps->svc->phago, name, val, err, sizeof(err))
		: phago_conf_key(&ps->p->phago, ps->file, ps->line, name, val, err, sizeof(err));
	if (r > 0) {
		if (svc)
			return 0;
		ERR(ps, "unknown key '%s' in [phagocyte]", name);
		return 1;
	}
	for (i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
		if (strcmp(once[i], name) || (svc && !strcmp(name, "leftovers")))
			continue;
		if (ps->phago_seen[svc] & (1U << i)) {
			ERR(ps, "'%s' is set twice in this section", name);
			return 1;
		}
		ps->phago_seen[svc] |= 1U << i;
	}
	if (r < 0)
		ERR(ps, "%s", err);
	return 1;
}

static void key_line(struct pstate *ps, char *s)
{
	char *eq = strchr(s, '='), *name, *val;
	size_t i;

	if (ps->skipping)
		return; /* one error for a bad header, not one per key under it */
	if (!eq) {
		ERR(ps, "expected 'key = value', got '%s'", s);
		return;
	}
	*eq = 0;
	name = trim(s);
	val = trim(eq + 1);
	if (ps->sect == S_NONE) {
		ERR(ps, "'%s' is outside any section (start with [lymphd], [service NAME], ...)",
		    name);
		return;
	}
	if (ps->sect == S_FLEET) {
		char msg[400];

		if (fleet_conf_key(&ps->p->fleet, ps->file, ps->line, name, val, msg, sizeof(msg)))
			ERR(ps, "%s", msg);
		return;
	}
	if (phago_key_line(ps, name, val))
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].sect != ps->sect || strcmp(keys[i].name, name))
			continue;
		if (!repeatable(keys[i].type)) {
			if (ps->seen[i / 64] & (1ULL << (i % 64))) {
				ERR(ps, "'%s' is set twice in this section", name);
				return;
			}
			ps->seen[i / 64] |= 1ULL << (i % 64);
		}
		set_value(ps, &keys[i], val);
		return;
	}
	ERR(ps, "unknown key '%s' in [%s]", name, sect_names[ps->sect]);
}

static void section_line(struct pstate *ps, char *s)
{
	char *end = strchr(s, ']'), *name, *arg;
	size_t i;

	ps->svc = NULL;
	memset(ps->seen, 0, sizeof(ps->seen));
	ps->phago_seen[0] = ps->phago_seen[1] = 0;
	ps->sect = S_NONE;
	ps->skipping = 1; /* until the header is accepted */
	if (!end || trim(end + 1)[0]) {
		ERR(ps, "section header must be '[name]' alone on its line: '%s'", s);
		return;
	}
	*end = 0;
	name = trim(s + 1);
	arg = name + strcspn(name, " \t");
	if (*arg) {
		*arg++ = 0;
		arg = trim(arg);
	}
	for (i = 1; i < sizeof(sect_names) / sizeof(sect_names[0]); i++)
		if (!strcmp(name, sect_names[i]))
			break;
	if (i == sizeof(sect_names) / sizeof(sect_names[0])) {
		ERR(ps,
		    "unknown section [%s] (known: lymphd, service NAME, quarantine, throttle, protect, weather, fleet, phagocyte)",
		    name);
		return;
	}
	if (i != S_SERVICE) {
		if (*arg) {
			ERR(ps, "[%s] takes no name", name);
			return;
		}
		ps->sect = i;
		ps->skipping = 0;
		/* A response is armed by its own section (see config_finish). */
		if (i == S_QUARANTINE)
			ps->p->quarantine.section = 1;
		if (i == S_THROTTLE)
			ps->p->throttle.section = 1;
		if (i == S_FLEET)
			fleet_conf_begin(&ps->p->fleet, ps->file, ps->line);
		if (i == S_PHAGOCYTE)
			ps->p->phago.section = 1;
		return;
	}
	if (!valid_service_name(arg)) {
		ERR(ps,
		    "[service NAME] needs a name of letters, digits and _.@- (at most %d), got '%s'",
		    CFG_NAME_MAX - 1, arg);
		return;
	}
	for (i = 0; i < ps->p->n_services; i++) {
		if (!strcmp(ps->p->services[i].name, arg)) {
			ERR(ps, "service '%s' is already defined at %s:%d", arg,
			    ps->p->services[i].file, ps->p->services[i].line);
			return;
		}
	}
	{
		struct service_conf *grown = realloc(ps->p->services,
						     (ps->p->n_services + 1) * sizeof(*grown));

		if (!grown) {
			ERR(ps, "out of memory");
			return;
		}
		ps->p->services = grown;
		ps->svc = &grown[ps->p->n_services++];
		service_defaults(ps->svc);
		snprintf(ps->svc->name, sizeof(ps->svc->name), "%s", arg);
		ps->svc->file = ps->file;
		ps->svc->line = ps->line;
		ps->sect = S_SERVICE;
		ps->skipping = 0;
	}
}

int config_parse(struct policy *p, const char *name, const char *text, struct cfg_errors *errs)
{
	struct pstate ps = { .p = p, .file = name, .errs = errs };
	const char *s = text;

	while (*s) {
		size_t len = strcspn(s, "\n");
		char *line = strndup(s, len), *t;

		ps.line++;
		s += len + (s[len] == '\n');
		if (!line)
			return ++ps.nerr;
		t = trim(line);
		if (!*t || *t == '#' || *t == ';') {
			/* blank or comment */
		} else if (*t == '[') {
			section_line(&ps, t);
		} else {
			key_line(&ps, t);
		}
		free(line);
	}
	return ps.nerr;
}

static void phago_report(void *ctx, const char *file, int line, const char *msg)
{
	err_add(ctx, file, line, "%s", msg);
}

int config_finish(struct policy *p, struct cfg_errors *errs)
{
	int nerr = 0;
	size_t i;

#define FERR(s, ...)                                              \
	do {                                                      \
		err_add(errs, (s)->file, (s)->line, __VA_ARGS__); \
		nerr++;                                           \
	} while (0)
	for (i = 0; i < p->n_services; i++) {
		struct service_conf *s = &p->services[i];

		s->phago.clean = p->phago.leftovers;

		if (!s->argv && !s->unit)
			FERR(s,
			     "service '%s' says neither how to start it ('start = ...') nor which systemd unit it is ('unit = ...')",
			     s->name);
		if (s->argv && s->unit)
			FERR(s, "service '%s' has both 'start' and 'unit': choose one", s->name);
		if (s->unit && !s->exe && !s->cgroup && !s->pidfile)
			FERR(s,
			     "service '%s' is a systemd unit: say how to recognise it (exe, cgroup or pidfile)",
			     s->name);
		if (s->backoff_min > s->backoff_max)
			FERR(s, "service '%s': backoff_min (%.3gs) is above backoff_max (%.3gs)",
			     s->name, (double)s->backoff_min / 1e9, (double)s->backoff_max / 1e9);
		if (s->unit && (s->user || s->group || s->workdir || s->env[0] || s->log))
			FERR(s,
			     "service '%s': user, group, workdir, env and log apply to 'start', not to a systemd unit",
			     s->name);
		if (!s->bounding_given)
			s->bounding = s->caps;
		else if (s->caps & ~s->bounding)
			FERR(s, "service '%s': capabilities must also be in capability_bounding",
			     s->name);
		if ((s->log_timestamps || s->log_max) && !s->log)
			FERR(s, "service '%s': log_timestamps and log_max need 'log = PATH'",
			     s->name);
		if (s->type == SVC_TYPE_FORKING && !s->pidfile)
			FERR(s,
			     "service '%s' is type = forking: say where its daemon writes its pid ('pidfile = ...')",
			     s->name);
		if (s->unit && s->type != SVC_TYPE_SIMPLE)
			FERR(s, "service '%s': type applies to 'start', not to a systemd unit",
			     s->name);
		if (s->unit && (s->caps || s->bounding_given))
			FERR(s,
			     "service '%s': capabilities apply to 'start', not to a systemd unit",
			     s->name);
	}
	if (p->throttle.dead_time_min > p->throttle.dead_time_max) {
		err_add(errs, "[throttle]", 0, "dead_time_min is above dead_time_max");
		nerr++;
	}
	if (p->quarantine.duration_min > p->quarantine.duration_max) {
		err_add(errs, "[quarantine]", 0, "duration_min is above duration_max");
		nerr++;
	}
	nerr += phago_conf_finish(&p->phago, phago_report, errs);
	/* Each response is switched on by its own section (or enabled = yes),
	 * so a policy of [service] sections in enforce mode restarts services
	 * and arms nothing else. */
	if (p->quarantine.enabled < 0)
		p->quarantine.enabled = p->quarantine.section;
	if (p->throttle.enabled < 0)
		p->throttle.enabled = p->throttle.section;
	nerr += fleet_conf_finish(&p->fleet, errs);
#undef FERR
	return nerr;
}
