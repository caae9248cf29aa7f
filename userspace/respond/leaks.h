/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Foresight for supervised services: every leak_interval the main process
 * of each service with a leak_horizon is sampled (memory, open fds,
 * threads) against its limits: memory against the memory limit of its own
 * cgroup (when the service says `cgroup =`), else its RLIMIT_AS (address space), else the host's available memory;
 * fds against its RLIMIT_NOFILE.  A leak (leak_check: a sustained rise,
 * never a sawtooth) that will reach its limit within the horizon gets a
 * planned restart through the supervisor (TERM, wait, start, verify),
 * journaled with the prediction before acting; the supervisor journals the
 * outcome.  Shown in lymphctl services ("leaks").
 */
#ifndef LYMPH_LEAKS_H
#define LYMPH_LEAKS_H

#include <stdint.h>
#include <sys/types.h>
#include "journal.h"
#include "phagocyte.h"
#include "service.h"

struct leak_watch {
	char name[CFG_NAME_MAX];
	pid_t pid;
	struct dtrend mem, fds;
	double mem_now, mem_limit, fds_now, fds_limit, threads;
	const char *mem_limit_from; /* "cgroup", "rlimit_as", "host" */
	int state_mem, state_fds;   /* leak_check: 1 leak, 0 none, -EAGAIN learning */
	double slope_mem, slope_fds, ttl_mem, ttl_fds;
	int restarted; /* a planned restart was asked for this pid */
	uint32_t seen;
};

struct leaks {
	struct leak_watch **v;
	size_t n;
	uint32_t gen;
	uint64_t next;
	uint64_t restarts;
};

void leaks_free(struct leaks *l);
void leaks_tick(struct leaks *l, struct supervisor *sup, const struct phagocyte_conf *c,
		struct journal *j, int enforce, uint64_t now);
struct json_object *leaks_json(const struct leaks *l);

#endif
