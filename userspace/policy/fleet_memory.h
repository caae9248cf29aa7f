/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fleet's immune memory, as one host sees it, and the vaccination
 * decision.  Pure: reports in (each stamped with the time the NATS server
 * stored it, never the time a host claims), decisions out.
 *
 * One entry per binary identity (SHA-256); under it one line per host that
 * reported danger deaths of it.  A host's line is replaced by its next
 * report, never added to: however often one host (or one compromised root
 * speaking as one host) crashes a binary, it is one host.  A binary is bad
 * when at least K distinct hosts reported it within the window W; it stops
 * being bad (the vaccination fades) when reports older than W leave fewer
 * than K.  K >= 2 is enforced by the config parser.
 */
#ifndef LYMPH_FLEET_MEMORY_H
#define LYMPH_FLEET_MEMORY_H

#include <stddef.h>
#include <stdint.h>
#include "fleet_msg.h"

#define FLEET_IDS_MAX	   4096 /* binaries remembered */
#define FLEET_HOSTS_PER_ID 1024 /* host lines per binary */

struct fleet_seen {
	char host[FLEET_NAME_MAX];
	uint64_t at_ms; /* server time of its latest report */
	uint32_t count; /* deaths that host reported (capped) */
	uint32_t signo;
};

struct fleet_bad {
	char sha256[FLEET_SHA_LEN];
	char build_id[FLEET_BUILDID_LEN];
	char path[FLEET_PATH_LEN]; /* the latest reporter's path: a hint */
	struct fleet_seen *hosts;
	size_t n_hosts, cap_hosts;
	int vaccinated;
	uint64_t since_ms; /* vaccinated since */
	int released;	   /* released here: ignored until it fades */
	uint32_t distinct; /* at the last evaluation */
};

struct fleet_memory {
	struct fleet_bad *v;
	size_t n, cap;
	uint64_t evicted; /* binaries forgotten to stay within FLEET_IDS_MAX */
};

enum fleet_change_kind {
	FLEET_VACCINATE = 1,
	FLEET_FADE
};

struct fleet_change {
	enum fleet_change_kind kind;
	const struct fleet_bad *bad;
};

void fleet_memory_init(struct fleet_memory *m);
void fleet_memory_free(struct fleet_memory *m);

/* A host's report, stored by the server at at_ms: 0 or -ENOMEM. */
int fleet_memory_report(struct fleet_memory *m, const struct fleet_report *r, uint64_t at_ms);

/* The report of host about sha256 was deleted or purged. */
void fleet_memory_forget(struct fleet_memory *m, const char *sha256, const char *host);

struct fleet_bad *fleet_memory_find(const struct fleet_memory *m, const char *sha256);

/* Distinct hosts whose report is within window_ms before now_ms. */
uint32_t fleet_bad_distinct(const struct fleet_bad *b, uint64_t now_ms, uint64_t window_ms);

/*
 * Evaluate every binary at now_ms: vaccinate what K distinct hosts reported
 * within the window, fade what fell below K (a fade also clears a local
 * release).  Up to max changes go to out (pointing into m: valid until m
 * next changes); returns how many.
 */
size_t fleet_memory_eval(struct fleet_memory *m, uint64_t now_ms, uint32_t k, uint64_t window_ms,
			 struct fleet_change *out, size_t max);

/* Forget binaries nobody reported within twice the window (not vaccinated ones). */
void fleet_memory_gc(struct fleet_memory *m, uint64_t now_ms, uint64_t window_ms);

/* Released here (lymphctl fleet release): 0, or -ENOENT when not vaccinated. */
int fleet_memory_release(struct fleet_memory *m, const char *sha256);

/* Token bucket: rate per second, up to burst; 1 when a token was taken. */
struct fleet_bucket {
	double tokens;
	uint64_t last_ns;
	uint32_t rate, burst;
};

void fleet_bucket_init(struct fleet_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ns);
int fleet_bucket_take(struct fleet_bucket *b, uint64_t now_ns);

#endif
