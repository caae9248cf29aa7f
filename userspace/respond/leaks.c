// SPDX-License-Identifier: GPL-2.0-only
/* Leak foresight for supervised services (leaks.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "leaks.h"
#include "procfs.h"

void leaks_free(struct leaks *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* A "Key: N kB" (or "Key: N") field of /proc/PID/status, -1 if absent. */
static double status_field(pid_t pid, const char *key)
{
	char val[64];
	double v;

	if (proc_status_field(pid, key, val, sizeof(val)))
		return -1;
	v = strtod(val, NULL);
	return strstr(val, "kB") ? v * 1024 : v;
}

/* Soft limit of /proc/PID/limits line name, -1 when unlimited or unknown. */
static double limit_of(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t nl = strlen(name);
	double v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, nl)) {
			char *p = line + nl;

			while (*p == ' ')
				p++;
			if (strncmp(p, "unlimited", 9))
				v = strtod(p, NULL);
			break;
		}
	fclose(f);
	return v;
}

static double count_fds(pid_t pid)
{
	struct proc_iter it;
	double n = 0;

	if (proc_iter_open_pid(&it, pid, "fd"))
		return -1;
	while (proc_iter_next(&it) >= 0)
		n++;
	proc_iter_close(&it);
	return n;
}

static double read_num(const char *path)
{
	char buf[64] = "";
	FILE *f = fopen(path, "re");
	double v = -1;

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && strncmp(buf, "max", 3))
		v = strtod(buf, NULL);
	fclose(f);
	return v;
}

/* The memory limit of pid's cgroup (v2 memory.max, v1 limit_in_bytes):
 * 0 with *limit and *usage, or -ENOENT. */
static int cgroup_memory(pid_t pid, double *limit, double *usage)
{
	char path[64], line[1024], p[1400];
	FILE *f;
	int found = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (found && fgets(line, sizeof(line), f)) {
		char *cg = strrchr(line, ':');
		double l, u;

		if (!cg)
			continue;
		cg[strcspn(cg, "\n")] = 0;
		if (!strncmp(line, "0::", 3)) {
			static const char *const roots[] = { "/sys/fs/cgroup",
							     "/sys/fs/cgroup/unified" };

			for (int i = 0; i < 2 && found; i++) {
				snprintf(p, sizeof(p), "%s%s/memory.max", roots[i], cg + 1);
				l = read_num(p);
				snprintf(p, sizeof(p), "%s%s/memory.current", roots[i], cg + 1);
				u = read_num(p);
				if (l > 0 && u >= 0) {
					*limit = l;
					*usage = u;
					found = 0;
				}
			}
		} else if (strstr(line, ":memory:")) {
			snprintf(p, sizeof(p), "/sys/fs/cgroup/memory%s/memory.limit_in_bytes",
				 cg + 1);
			l = read_num(p);
			snprintf(p, sizeof(p), "/sys/fs/cgroup/memory%s/memory.usage_in_bytes",
				 cg + 1);
			u = read_num(p);
			if (l > 0 && l < 1e18 && u >= 0) {
				*limit = l;
				*usage = u;
				found = 0;
			}
		}
	}
	fclose(f);
	return found;
}

static double host_available(void)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");
	double v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "MemAvailable:", 13)) {
			v = strtod(line + 13, NULL) * 1024;
			break;
		}
	fclose(f);
	return v;
}

/* Memory against the service's own cgroup when it has one (a shared
 * cgroup's usage is not the service's), else its RLIMIT_AS, else the host. */
static int sample(struct leak_watch *w, pid_t pid, int own_cgroup)
{
	double as, rss = status_field(pid, "VmRSS");

	if (rss < 0)
		return -ENOENT;
	w->threads = status_field(pid, "Threads");
	w->fds_now = count_fds(pid);
	w->fds_limit = limit_of(pid, "Max open files");
	if (own_cgroup && !cgroup_memory(pid, &w->mem_limit, &w->mem_now)) {
		w->mem_limit_from = "cgroup";
	} else if ((as = limit_of(pid, "Max address space")) > 0) {
		w->mem_limit_from = "rlimit_as";
		w->mem_limit = as;
		w->mem_now = status_field(pid, "VmSize");
	} else {
		w->mem_limit_from = "host";
		w->mem_now = rss;
		w->mem_limit = rss + host_available();
	}
	return 0;
}

static struct leak_watch *watch_get(struct leaks *l, const char *name)
{
	struct leak_watch **g, *w;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i]->name, name))
			return l->v[i];
	w = calloc(1, sizeof(*w));
	g = w ? realloc(l->v, (l->n + 1) * sizeof(*g)) : NULL;
	if (!g) {
		free(w);
		return NULL;
	}
	l->v = g;
	snprintf(w->name, sizeof(w->name), "%s", name);
	l->v[l->n++] = w;
	return w;
}

static void plan_restart(struct leaks *l, struct supervisor *sup, struct service *v,
			 struct leak_watch *w, const char *resource, double usage, double limit,
			 double slope, double ttl, struct journal *j, int enforce, uint64_t now)
{
	struct json_object *rec = json_object_new_object();
	int err = 0;

	w->restarted = 1;
	json_object_object_add(rec, "type", json_object_new_string("phagocyte"));
	json_object_object_add(rec, "action", json_object_new_string("leak-restart"));
	json_object_object_add(rec, "mode",
			       json_object_new_string(enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "service", json_object_new_string(v->name));
	json_object_object_add(rec, "pid", json_object_new_int(w->pid));
	json_object_object_add(rec, "resource", json_object_new_string(resource));
	json_object_object_add(rec, "usage", json_object_new_double(usage));
	json_object_object_add(rec, "limit", json_object_new_double(limit));
	if (!strcmp(resource, "memory"))
		json_object_object_add(rec, "limit_from",
				       json_object_new_string(w->mem_limit_from));
	json_object_object_add(rec, "per_s", json_object_new_double(slope));
	json_object_object_add(rec, "time_to_limit_s", json_object_new_double(ttl));
	json_object_object_add(rec, "horizon_s",
			       json_object_new_double((double)v->conf->phago.leak_horizon / 1e9));
	json_object_object_add(
		rec, "result",
		json_object_new_string(enforce ? "planned restart: TERM, wait, start, verify"
					       : "observe mode: would restart"));
	fprintf(stderr, "lymphd: service %s: %s leak reaches its limit in %.1f s: %s\n", v->name,
		resource, ttl, enforce ? "planned restart" : "observe mode, not restarted");
	if (j && journal_append(j, rec))
		fprintf(stderr, "lymphd: failed to write the journal (leak-restart): %s\n",
			strerror(errno));
	if (!j)
		json_object_put(rec);
	if (enforce)
		err = supervisor_restart(sup, v->name, now);
	if (!err && enforce)
		l->restarts++;
}

void leaks_tick(struct leaks *l, struct supervisor *sup, const struct phagocyte_conf *c,
		struct journal *j, int enforce, uint64_t now)
{
	size_t i, k;

	if (now < l->next)
		return;
	l->next = now + c->leak_interval;
	l->gen++;
	for (i = 0; sup && i < sup->n; i++) {
		struct service *v = &sup->v[i];
		uint64_t horizon = v->conf->phago.leak_horizon;
		struct leak_watch *w;

		if (!horizon || !v->pid)
			continue;
		w = watch_get(l, v->name);
		if (!w)
			continue;
		w->seen = l->gen;
		if (w->pid != v->pid) {
			/* a new instance: learn afresh */
			memset(&w->mem, 0, sizeof(w->mem));
			memset(&w->fds, 0, sizeof(w->fds));
			w->pid = v->pid;
			w->restarted = 0;
		}
		if (sample(w, v->pid, v->conf->cgroup != NULL))
			continue;
		dtrend_add(&w->mem, now, w->mem_now, c->leak_window);
		dtrend_add(&w->fds, now, w->fds_now, c->leak_window);
		w->state_mem = leak_check(&w->mem, c->leak_window, w->mem_now, w->mem_limit,
					  &w->slope_mem, &w->ttl_mem);
		w->state_fds = w->fds_limit > 0
				       ? leak_check(&w->fds, c->leak_window, w->fds_now,
						    w->fds_limit, &w->slope_fds, &w->ttl_fds)
				       : 0;
		if (w->restarted || v->st.phase != SVC_RUNNING)
			continue;
		if (w->state_mem == 1 && w->ttl_mem * 1e9 < (double)horizon)
			plan_restart(l, sup, v, w, "memory", w->mem_now, w->mem_limit, w->slope_mem,
				     w->ttl_mem, j, enforce, now);
		else if (w->state_fds == 1 && w->ttl_fds * 1e9 < (double)horizon)
			plan_restart(l, sup, v, w, "fds", w->fds_now, w->fds_limit, w->slope_fds,
				     w->ttl_fds, j, enforce, now);
	}
	for (i = k = 0; i < l->n; i++) {
		if (l->v[i]->seen == l->gen)
			l->v[k++] = l->v[i];
		else
			free(l->v[i]);
	}
	l->n = k;
}

static const char *state_name(int s)
{
	return s == 1 ? "leak" : s == 0 ? "steady" : "learning";
}

struct json_object *leaks_json(const struct leaks *l)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct leak_watch *w = l->v[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "service", json_object_new_string(w->name));
		json_object_object_add(o, "pid", json_object_new_int(w->pid));
		json_object_object_add(o, "memory", json_object_new_double(w->mem_now));
		json_object_object_add(o, "memory_limit", json_object_new_double(w->mem_limit));
		json_object_object_add(o, "memory_limit_from",
				       w->mem_limit_from ? json_object_new_string(w->mem_limit_from)
							 : NULL);
		json_object_object_add(o, "memory_trend",
				       json_object_new_string(state_name(w->state_mem)));
		if (w->state_mem == 1)
			json_object_object_add(o, "memory_time_to_limit_s",
					       json_object_new_double(w->ttl_mem));
		json_object_object_add(o, "fds", json_object_new_double(w->fds_now));
		json_object_object_add(o, "fds_limit", json_object_new_double(w->fds_limit));
		json_object_object_add(o, "fds_trend",
				       json_object_new_string(state_name(w->state_fds)));
		if (w->state_fds == 1)
			json_object_object_add(o, "fds_time_to_limit_s",
					       json_object_new_double(w->ttl_fds));
		json_object_object_add(o, "threads", json_object_new_double(w->threads));
		json_object_object_add(o, "planned_restart", json_object_new_boolean(w->restarted));
		json_object_array_add(a, o);
	}
	return a;
}
