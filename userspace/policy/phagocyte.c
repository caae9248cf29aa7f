// SPDX-License-Identifier: GPL-2.0-only
/* Phagocytes and foresight, the pure part (see phagocyte.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "config.h"
#include "parse_num.h"
#include "phagocyte.h"

#define SEC 1000000000ULL

void phago_conf_defaults(struct phagocyte_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->leftovers = 1;
	c->zombie_max = 32;
	c->zombie_after = 60 * SEC;
	c->zombie_interval = 10 * SEC;
	c->foresight = 1;
	c->disk_interval = 10 * SEC;
	c->disk_window = 3600 * SEC;
	c->disk_horizon = 6 * 3600 * SEC;
	c->tidy_dead_time = 600 * SEC;
	c->cores = 1;
	c->core_budget_per_binary = 256ULL << 20;
	c->core_budget_total = 1ULL << 30;
	c->core_keep_first = 1;
	c->core_interval = 10 * SEC;
	c->core_handler_timeout = 30 * SEC;
	c->leak_interval = 10 * SEC;
	c->leak_window = 1800 * SEC;
	c->shm_min_age = 600 * SEC;
	c->shm_interval = 60 * SEC;
	c->shm_save_max = 64ULL << 20;
}

uint64_t phago_conf_shortest_interval(const struct phagocyte_conf *c)
{
	uint64_t v[] = { c->zombie_interval, c->disk_interval, c->core_interval,
			 c->leak_interval, c->shm_interval };
	uint64_t least = 0;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] && (!least || v[i] < least))
			least = v[i];
	return least;
}

void phago_conf_free(struct phagocyte_conf *c)
{
	size_t i;

	for (i = 0; i < c->n_roots; i++)
		free(c->roots[i]);
	for (i = 0; i < c->n_watch; i++)
		free(c->watch[i]);
	for (i = 0; i < c->n_core_dirs; i++)
		free(c->core_dirs[i]);
	free(c->core_store);
	for (i = 0; i < c->n_tidy; i++) {
		free(c->tidy[i].dir);
		free(c->tidy[i].pattern);
	}
	memset(c, 0, sizeof(*c));
}

void phago_service_free(struct service_phago *s)
{
	size_t i;

	for (i = 0; i < s->n_leftovers; i++)
		free(s->leftovers[i]);
	memset(s, 0, sizeof(*s));
}

int phago_path_normal(const char *p)
{
	size_t n = strlen(p);

	if (p[0] != '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
		return 0;
	if (n > 1 && p[n - 1] == '/')
		return 0;
	if ((n >= 2 && !strcmp(p + n - 2, "/.")) || (n >= 3 && !strcmp(p + n - 3, "/..")))
		return 0;
	return 1;
}

int phago_path_within(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return path[0] == '/';
	return !strncmp(path, root, n) && (path[n] == 0 || path[n] == '/');
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "true"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "false"))
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

static int dur(const char *key, const char *val, uint64_t min, uint64_t max, uint64_t *out,
	       char *err, size_t errlen)
{
	uint64_t ns;

	if (parse_duration(val, &ns)) {
		snprintf(err, errlen, "%s: '%s' is not a duration (e.g. 500ms, 2s, 5m, 1h, 1d)",
			 key, val);
		return -1;
	}
	if (ns < min || ns > max) {
		snprintf(err, errlen, "%s: %s is out of range (%.3gs to %.3gs)%s", key, val,
			 (double)min / 1e9, (double)max / 1e9, ns == 0 ? ": zero is refused" : "");
		return -1;
	}
	*out = ns;
	return 0;
}

/* "DIR [pattern=GLOB] [age=DURATION] [budget=SIZE] [recurse=yes|no]" */
static int parse_tidy(struct tidy_rule *r, const char *val, char *err, size_t errlen)
{
	char *copy = strdup(val), *save = NULL, *w;
	int ret = -1, first = 1;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(r, 0, sizeof(*r));
	r->budget = -1;
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (first) {
			first = 0;
			if (!strcmp(w, "/")) {
				snprintf(
					err, errlen,
					"tidy: a rule on / is refused: name the directory to tidy");
				goto out;
			}
			if (!phago_path_normal(w)) {
				snprintf(err, errlen,
					 "tidy: '%s' is not a normalised absolute directory "
					 "(no //, . or .. components, no trailing /)",
					 w);
				goto out;
			}
			r->dir = strdup(w);
			continue;
		}
		if (!strncmp(w, "pattern=", 8) && w[8]) {
			if (strchr(w + 8, '/')) {
				snprintf(err, errlen,
					 "tidy: pattern '%s' matches names, it may not hold /",
					 w + 8);
				goto out;
			}
			free(r->pattern);
			r->pattern = strdup(w + 8);
		} else if (!strncmp(w, "age=", 4)) {
			if (dur("tidy: age", w + 4, SEC, 3650 * 86400 * SEC, &r->age, err, errlen))
				goto out;
		} else if (!strncmp(w, "budget=", 7)) {
			uint64_t b;

			if (w[7] == '-') {
				snprintf(
					err, errlen,
					"tidy: budget '%s' is negative: a budget is the bytes kept, "
					"0 or more",
					w + 7);
				goto out;
			}
			if (parse_size(w + 7, 0, 1ULL << 50, &b)) {
				snprintf(
					err, errlen,
					"tidy: budget '%s' is not a size (K, M, G suffixes allowed)",
					w + 7);
				goto out;
			}
			r->budget = (int64_t)b;
		} else if (!strncmp(w, "recurse=", 8)) {
			if (parse_bool(w + 8, &r->recurse)) {
				snprintf(err, errlen, "tidy: recurse is yes or no, not '%s'",
					 w + 8);
				goto out;
			}
		} else {
			snprintf(err, errlen,
				 "tidy: '%s' is not one of pattern=GLOB, age=DURATION, "
				 "budget=SIZE, recurse=yes|no",
				 w);
			goto out;
		}
	}
	if (!r->dir) {
		snprintf(
			err, errlen,
			"tidy needs a directory: tidy = DIR [pattern=GLOB] [age=DURATION] [budget=SIZE]");
		goto out;
	}
	if (!r->age && r->budget < 0) {
		snprintf(err, errlen,
			 "tidy: a rule needs age= or budget= (what makes a file waste)");
		goto out;
	}
	if (!r->pattern)
		r->pattern = strdup("*");
	ret = 0;
out:
	if (ret) {
		free(r->dir);
		free(r->pattern);
		memset(r, 0, sizeof(*r));
	}
	free(copy);
	return ret;
}

int phago_conf_key(struct phagocyte_conf *c, const char *file, int line, const char *key,
		   const char *val, char *err, size_t errlen)
{
	uint64_t u;

	if (!strcmp(key, "leftovers") || !strcmp(key, "foresight") || !strcmp(key, "cores") ||
	    !strcmp(key, "core_handler") || !strcmp(key, "shm") || !strcmp(key, "shm_any_dead")) {
		int *f = key[0] == 'l'			? &c->leftovers
			 : key[0] == 'f'		? &c->foresight
			 : !strcmp(key, "cores")	? &c->cores
			 : !strcmp(key, "shm")		? &c->shm
			 : !strcmp(key, "shm_any_dead") ? &c->shm_any_dead
							: &c->core_handler;

		if (parse_bool(val, f)) {
			snprintf(err, errlen, "%s: '%s' is not yes or no", key, val);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "zombie_max")) {
		if (parse_u64(val, 1, 1000000, &u)) {
			snprintf(err, errlen,
				 "zombie_max: '%s' is not a whole number from 1 to 1000000", val);
			return -1;
		}
		c->zombie_max = (uint32_t)u;
		return 0;
	}
	if (!strcmp(key, "zombie_after"))
		return dur(key, val, 100000000ULL, 86400 * SEC, &c->zombie_after, err, errlen);
	if (!strcmp(key, "zombie_interval"))
		return dur(key, val, 100000000ULL, 3600 * SEC, &c->zombie_interval, err, errlen);
	if (!strcmp(key, "disk_interval"))
		return dur(key, val, 100000000ULL, 3600 * SEC, &c->disk_interval, err, errlen);
	if (!strcmp(key, "disk_window"))
		return dur(key, val, SEC, 30 * 86400 * SEC, &c->disk_window, err, errlen);
	if (!strcmp(key, "disk_horizon"))
		return dur(key, val, SEC, 365 * 86400 * SEC, &c->disk_horizon, err, errlen);
	if (!strcmp(key, "tidy_dead_time"))
		return dur(key, val, 0, 86400 * SEC, &c->tidy_dead_time, err, errlen);
	if (!strcmp(key, "root")) {
		if (!strcmp(val, "/")) {
			snprintf(err, errlen,
				 "root: / is refused: declare the directories tidy may touch");
			return -1;
		}
		if (!phago_path_normal(val)) {
			snprintf(err, errlen, "root: '%s' is not a normalised absolute directory",
				 val);
			return -1;
		}
		if (c->n_roots == PHAGO_ROOTS_MAX) {
			snprintf(err, errlen, "root: more than %d roots", PHAGO_ROOTS_MAX);
			return -1;
		}
		c->root_file[c->n_roots] = file;
		c->root_line[c->n_roots] = line;
		c->roots[c->n_roots++] = strdup(val);
		return 0;
	}
	if (!strcmp(key, "core_budget_per_binary") || !strcmp(key, "core_budget_total")) {
		uint64_t *b = strstr(key, "total") ? &c->core_budget_total
						   : &c->core_budget_per_binary;

		if (val[0] == '-') {
			snprintf(err, errlen,
				 "%s: '%s' is negative: a budget is the bytes kept, 0 or more", key,
				 val);
			return -1;
		}
		if (parse_size(val, 0, 1ULL << 50, b)) {
			snprintf(err, errlen, "%s: '%s' is not a size (K, M, G suffixes allowed)",
				 key, val);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "core_keep_first")) {
		if (parse_u64(val, 0, 100, &u)) {
			snprintf(err, errlen,
				 "core_keep_first: '%s' is not a whole number from 0 to 100", val);
			return -1;
		}
		c->core_keep_first = (uint32_t)u;
		return 0;
	}
	if (!strcmp(key, "leak_interval"))
		return dur(key, val, 100000000ULL, 3600 * SEC, &c->leak_interval, err, errlen);
	if (!strcmp(key, "leak_window"))
		return dur(key, val, SEC, 30 * 86400 * SEC, &c->leak_window, err, errlen);
	if (!strcmp(key, "core_interval"))
		return dur(key, val, 100000000ULL, 3600 * SEC, &c->core_interval, err, errlen);
	if (!strcmp(key, "shm_min_age"))
		return dur(key, val, SEC, 365 * 86400 * SEC, &c->shm_min_age, err, errlen);
	if (!strcmp(key, "shm_interval"))
		return dur(key, val, 100000000ULL, 86400 * SEC, &c->shm_interval, err, errlen);
	if (!strcmp(key, "shm_save_max")) {
		if (val[0] == '-') {
			snprintf(err, errlen,
				 "shm_save_max: '%s' is negative: it is a size in bytes", val);
			return -1;
		}
		if (parse_size(val, 0, 1ULL << 40, &c->shm_save_max)) {
			snprintf(err, errlen,
				 "shm_save_max: '%s' is not a size (K, M, G suffixes allowed)",
				 val);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "core_handler_timeout"))
		return dur(key, val, SEC, 600 * SEC, &c->core_handler_timeout, err, errlen);
	if (!strcmp(key, "core_store")) {
		/* the kernel keeps 127 bytes of the whole pattern */
		if (!phago_path_normal(val) || !strcmp(val, "/") || strchr(val, ' ') ||
		    strlen(val) > 60) {
			snprintf(err, errlen,
				 "core_store: '%s' is not a normalised absolute directory (not /, "
				 "no spaces, at most 60 bytes: it goes into kernel.core_pattern)",
				 val);
			return -1;
		}
		free(c->core_store);
		c->core_store = strdup(val);
		return 0;
	}
	if (!strcmp(key, "core_dir")) {
		if (!phago_path_normal(val) || !strcmp(val, "/")) {
			snprintf(err, errlen,
				 "core_dir: '%s' is not a normalised absolute directory (not /)",
				 val);
			return -1;
		}
		if (c->n_core_dirs == PHAGO_ROOTS_MAX) {
			snprintf(err, errlen, "core_dir: more than %d directories",
				 PHAGO_ROOTS_MAX);
			return -1;
		}
		c->core_dirs[c->n_core_dirs++] = strdup(val);
		return 0;
	}
	if (!strcmp(key, "disk_watch")) {
		if (!phago_path_normal(val)) {
			snprintf(err, errlen,
				 "disk_watch: '%s' is not a normalised absolute mount point", val);
			return -1;
		}
		if (c->n_watch == PHAGO_ROOTS_MAX) {
			snprintf(err, errlen, "disk_watch: more than %d mount points",
				 PHAGO_ROOTS_MAX);
			return -1;
		}
		c->watch[c->n_watch++] = strdup(val);
		return 0;
	}
	if (!strcmp(key, "tidy")) {
		struct tidy_rule r;

		if (c->n_tidy == PHAGO_TIDY_MAX) {
			snprintf(err, errlen, "tidy: more than %d rules", PHAGO_TIDY_MAX);
			return -1;
		}
		if (parse_tidy(&r, val, err, errlen))
			return -1;
		r.file = file;
		r.line = line;
		c->tidy[c->n_tidy++] = r;
		return 0;
	}
	return 1;
}

int phago_service_key(struct service_phago *s, const char *key, const char *val, char *err,
		      size_t errlen)
{
	if (!strcmp(key, "zombie_restart")) {
		if (parse_bool(val, &s->zombie_restart)) {
			snprintf(err, errlen, "zombie_restart: '%s' is not yes or no", val);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "leak_horizon")) {
		uint64_t ns;

		if (parse_duration(val, &ns) || ns < SEC || ns > 30 * 86400 * SEC) {
			snprintf(err, errlen,
				 "leak_horizon: '%s' is not a duration from 1s to 30d%s", val,
				 !parse_duration(val, &ns) && !ns
					 ? " (zero is refused: leave it out for no leak foresight)"
					 : "");
			return -1;
		}
		s->leak_horizon = ns;
		return 0;
	}
	if (!strcmp(key, "leftovers")) {
		char *copy = strdup(val), *save = NULL, *w;
		int ret = 0;

		if (!copy) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (w = strtok_r(copy, " \t", &save); w && !ret;
		     w = strtok_r(NULL, " \t", &save)) {
			if (!phago_path_normal(w) || !strcmp(w, "/")) {
				snprintf(err, errlen,
					 "leftovers: '%s' is not a normalised absolute file path",
					 w);
				ret = -1;
			} else if (s->n_leftovers == PHAGO_LEFTOVERS_MAX) {
				snprintf(err, errlen, "leftovers: more than %d paths",
					 PHAGO_LEFTOVERS_MAX);
				ret = -1;
			} else {
				s->leftovers[s->n_leftovers++] = strdup(w);
			}
		}
		free(copy);
		if (!ret && !s->n_leftovers) {
			snprintf(err, errlen, "leftovers needs one or more paths");
			ret = -1;
		}
		return ret;
	}
	return 1;
}

int phago_conf_finish(const struct phagocyte_conf *c,
		      void (*report)(void *ctx, const char *file, int line, const char *msg),
		      void *ctx)
{
	char msg[512];
	int n = 0;
	size_t i, j;

	for (i = 0; i < c->n_tidy; i++) {
		const struct tidy_rule *r = &c->tidy[i];
		int inside = 0;

		for (j = 0; j < c->n_roots; j++)
			if (phago_path_within(r->dir, c->roots[j]))
				inside = 1;
		if (!inside) {
			snprintf(msg, sizeof(msg),
				 "tidy: %s is outside the declared roots (add 'root = DIR' "
				 "to [phagocyte] for the directories tidy may touch)",
				 r->dir);
			report(ctx, r->file, r->line, msg);
			n++;
		}
	}
	if (c->leak_window / c->leak_interval > DTREND_MAX) {
		snprintf(msg, sizeof(msg),
			 "[phagocyte] leak_window holds more than %d samples of "
			 "leak_interval: lengthen leak_interval",
			 DTREND_MAX);
		report(ctx, "[phagocyte]", 0, msg);
		n++;
	}
	if (c->disk_window / c->disk_interval > DTREND_MAX) {
		snprintf(msg, sizeof(msg),
			 "[phagocyte] disk_window holds more than %d samples of "
			 "disk_interval: lengthen disk_interval",
			 DTREND_MAX);
		report(ctx, "[phagocyte]", 0, msg);
		n++;
	}
	return n;
}

/* ---- leftovers ------------------------------------------------------------ */

enum leftover_kind leftover_kind_of(unsigned int ftype, int is_pidfile)
{
	if (is_pidfile)
		return LEFTOVER_PIDFILE;
	return (ftype & S_IFMT) == S_IFSOCK ? LEFTOVER_SOCKET : LEFTOVER_LOCK;
}

const char *leftover_kind_name(enum leftover_kind k)
{
	switch (k) {
	case LEFTOVER_PIDFILE: return "pidfile";
	case LEFTOVER_SOCKET: return "socket";
	case LEFTOVER_LOCK: return "lock";
	}
	return "?";
}

int leftover_verdict(enum leftover_kind kind, const struct leftover_evidence *ev, const char **why)
{
	unsigned int t = ev->ftype & S_IFMT;

	if (!ev->exists)
		return *why = "absent", 0;
	if (ev->lymph_own)
		return *why = "lymphd's own file", 0;
	if (ev->is_symlink)
		return *why = "a symbolic link: never followed nor removed", 0;
	if (kind == LEFTOVER_SOCKET ? t != S_IFSOCK : t != S_IFREG)
		return *why = "not a regular file or socket of the kind declared", 0;
	if (ev->pid && ev->pid_alive) {
		if (ev->pid_protected)
			return *why = "its pid is in the protected set", 0;
		if (ev->pid_identity != 0)
			return *why = ev->pid_identity > 0
					      ? "its pid is alive and runs the service's binary"
					      : "its pid is alive and its identity is unknown",
			       0;
	}
	if (ev->locked)
		return *why = "a live process holds a lock on it", 0;
	if (ev->open_by)
		return *why = "a live process has it open", 0;
	if (kind == LEFTOVER_SOCKET && (ev->sock_bound || ev->sock_accepts))
		return *why = "a live socket is bound to it", 0;
	if (ev->pid && ev->pid_alive)
		return *why = "owner gone: its pid was reused by another binary, nothing holds it",
		       1;
	if (ev->pid)
		return *why = "owner gone: its pid is dead, nothing holds it", 1;
	return *why = kind == LEFTOVER_SOCKET
			      ? "owner gone: no socket is bound to it, nothing answers"
			      : "owner gone: no lock held, nobody has it open",
	       1;
}

/* ---- zombies ---------------------------------------------------------------- */

int zombie_due(const struct phagocyte_conf *c, struct zombie_parent *z, uint32_t count,
	       uint64_t now)
{
	z->zombies = count;
	if (count <= c->zombie_max) {
		z->over_since = 0;
		z->reported = 0;
		z->signalled_at = 0;
		z->restarted = 0;
		return 0;
	}
	if (!z->over_since)
		z->over_since = now ? now : 1;
	if (z->reported || now - z->over_since < c->zombie_after)
		return 0;
	z->reported = 1;
	return 1;
}

/* ---- disk trend ------------------------------------------------------------- */

void dtrend_add(struct dtrend *d, uint64_t t, double v, uint64_t window)
{
	uint32_t tail;

	while (d->n && (d->n == DTREND_MAX || t - d->t[d->head] > window)) {
		d->head = (d->head + 1) % DTREND_MAX;
		d->n--;
	}
	tail = (d->head + d->n) % DTREND_MAX;
	d->t[tail] = t;
	d->v[tail] = v;
	d->n++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int dtrend_slope(const struct dtrend *d, uint64_t window, double *per_s)
{
	double slopes[DTREND_MAX / 2 + 1];
	uint32_t i, m, k = 0;

	if (d->n < 8)
		return -EAGAIN;
	if (d->t[(d->head + d->n - 1) % DTREND_MAX] - d->t[d->head] < window / 2)
		return -EAGAIN;
	m = d->n / 2;
	for (i = 0; i + m < d->n; i++) {
		uint32_t a = (d->head + i) % DTREND_MAX, b = (d->head + i + m) % DTREND_MAX;
		double dt = (double)(d->t[b] - d->t[a]) / 1e9;

		if (dt > 0)
			slopes[k++] = (d->v[b] - d->v[a]) / dt;
	}
	if (!k)
		return -EAGAIN;
	qsort(slopes, k, sizeof(slopes[0]), cmp_double);
	/* The mean of the middle 80 %: a spike moves at most two pairs, which
	 * the trimming drops; the mean, unlike the median, is not biased by a
	 * sawtooth whose period does not divide the lag. */
	{
		uint32_t trim = k / 10, j;
		double sum = 0;

		for (j = trim; j < k - trim; j++)
			sum += slopes[j];
		*per_s = sum / (double)(k - 2 * trim);
	}
	return 0;
}

double dtrend_time_to_empty(double avail, double per_s)
{
	if (per_s >= 0)
		return -1;
	if (avail <= 0)
		return 0;
	return avail / -per_s;
}

/* ---- leaks ---------------------------------------------------------------------- */

int leak_check(const struct dtrend *d, uint64_t window, double usage, double limit, double *slope,
	       double *ttl_s)
{
	double lo_last = 0, hi_first = 0;
	uint64_t t0, t1, span;
	uint32_t i;
	int have_first = 0, have_last = 0;

	if (dtrend_slope(d, window, slope))
		return -EAGAIN;
	t0 = d->t[d->head];
	t1 = d->t[(d->head + d->n - 1) % DTREND_MAX];
	span = t1 - t0;
	for (i = 0; i < d->n; i++) {
		uint32_t k = (d->head + i) % DTREND_MAX;

		if (d->t[k] - t0 <= span / 4) {
			if (!have_first || d->v[k] > hi_first)
				hi_first = d->v[k];
			have_first = 1;
		}
		if (t1 - d->t[k] <= span / 4) {
			if (!have_last || d->v[k] < lo_last)
				lo_last = d->v[k];
			have_last = 1;
		}
	}
	if (*slope <= 0 || !have_first || !have_last || lo_last <= hi_first)
		return 0;
	*ttl_s = limit > usage ? (limit - usage) / *slope : 0;
	return 1;
}

/* ---- disk danger ------------------------------------------------------------ */

uint64_t disk_dead_time(const struct phagocyte_conf *c)
{
	return c->disk_window / 4 > 2 * c->disk_interval ? c->disk_window / 4 : 2 * c->disk_interval;
}

int disk_danger_step(struct disk_danger *s, const struct phagocyte_conf *c, double ttf_s, uint64_t now)
{
	int below = ttf_s >= 0 && ttf_s * 1e9 < (double)c->disk_horizon;

	if (below && !s->below)
		s->below_since = now;
	s->below = below;
	if (!s->danger && below && now - s->below_since >= disk_dead_time(c)) {
		s->danger = 1;
		s->since = now;
		return DISK_DANGER_ENTERED;
	}
	if (s->danger && (ttf_s < 0 || ttf_s * 1e9 > 2.0 * (double)c->disk_horizon)) {
		s->danger = 0;
		return DISK_DANGER_CLEARED;
	}
	return DISK_DANGER_SAME;
}

/* ---- tidy ------------------------------------------------------------------- */

static int newest_first(const void *a, const void *b)
{
	const struct tidy_file *x = *(struct tidy_file *const *)a,
			       *y = *(struct tidy_file *const *)b;

	return x->mtime > y->mtime ? -1 : x->mtime < y->mtime;
}

size_t tidy_select(const struct tidy_rule *r, struct tidy_file *f, size_t n, uint64_t now_wall)
{
	struct tidy_file **m = calloc(n ? n : 1, sizeof(*m));
	size_t i, k = 0, marked = 0;
	uint64_t kept = 0;
	int over = 0; /* past the budget: every older match goes too */

	for (i = 0; i < n; i++) {
		f[i].remove = 0;
		if (!fnmatch(r->pattern, f[i].name, FNM_PERIOD) && m)
			m[k++] = &f[i];
	}
	if (!m)
		return 0;
	qsort(m, k, sizeof(*m), newest_first);
	for (i = 0; i < k; i++) {
		if (r->age && now_wall > m[i]->mtime && now_wall - m[i]->mtime > r->age) {
			m[i]->remove = 1;
		} else if (r->budget >= 0 && (over || kept + m[i]->size > (uint64_t)r->budget)) {
			m[i]->remove = 1;
			over = 1;
		} else {
			kept += m[i]->size;
			continue;
		}
		marked++;
	}
	free(m);
	return marked;
}

int shm_verdict(const struct phagocyte_conf *c, const struct shm_evidence *e, const char **why)
{
	if (e->nattch) {
		*why = "attached";
		return 0;
	}
	if (e->creator_alive) {
		*why = "its creator runs";
		return 0;
	}
	if (e->attacher_alive) {
		*why = "its last attacher runs";
		return 0;
	}
	if (e->protected_owner) {
		*why = "protected: its owner is in [protect] uid";
		return 0;
	}
	if (!e->died_badly && !c->shm_any_dead) {
		*why = "its creator and last attacher were not seen to die badly (shm_any_dead = no)";
		return 0;
	}
	if (e->idle_s * SEC < c->shm_min_age) {
		*why = "not idle for shm_min_age yet";
		return 0;
	}
	if (e->size > c->shm_save_max) {
		*why = "larger than shm_save_max: it could not be saved for a restore";
		return 0;
	}
	*why = e->died_badly ? "unattached, its creator or last attacher died badly"
			     : "unattached, its creator and last attacher are gone";
	return 1;
}
