/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What hosts tell each other over NATS (doc/fleet.md), and the strict
 * decoder for what arrives: every message on the fleet's subjects comes
 * from another machine, so anything that does not parse exactly is
 * refused (-EBADMSG), counted by the caller and dropped.  JSON, version 1.
 *
 * A binary's identity is the same on every host: the SHA-256 of the file
 * and, when it has one, its GNU build-id.  Never a command line, never
 * the environment.
 *
 *   stream subject lymph.<fleet>.events.<host>: a batch
 *     {"v":1,"host":H,"ts_ms":T,"dropped":N,
 *      "deaths":[{"sha256":S,"build_id":B,"path":P,"signal":11,"fault_page_off":123,"count":3}],
 *      "decisions":[{"type":"quarantine","action":"quarantine","sha256":S,"path":P}]}
 *   KV bucket lymph_<fleet>, key <sha256>.<host>: that host's report
 *     {"v":1,"host":H,"sha256":S,"build_id":B,"path":P,"signal":11,"count":N,
 *      "first_ms":T0,"last_ms":T1}
 */
#ifndef LYMPH_FLEET_MSG_H
#define LYMPH_FLEET_MSG_H

#include <stddef.h>
#include <stdint.h>
#include "fleet_conf.h"

#define FLEET_SHA_LEN	  65  /* 64 hex digits */
#define FLEET_BUILDID_LEN 129 /* up to 64 bytes, in hex */
#define FLEET_PATH_LEN	  256
#define FLEET_BATCH_MAX	  64	  /* deaths, and decisions, per batch */
#define FLEET_MSG_MAX	  65536	  /* bytes: anything longer is refused unread */
#define FLEET_COUNT_CAP	  1000000 /* one report's death count at most */

struct fleet_death {
	char sha256[FLEET_SHA_LEN];
	char build_id[FLEET_BUILDID_LEN]; /* "" when the binary has none */
	char path[FLEET_PATH_LEN];	  /* where it lives there: a hint */
	uint32_t signo;
	uint32_t fault_page_off; /* fault address within its page: ASLR-proof */
	uint32_t count;		 /* deaths merged into this line */
};

struct fleet_decision {
	char type[16]; /* quarantine, throttle, service, fleet */
	char action[24];
	char sha256[FLEET_SHA_LEN]; /* "" when unknown */
	char path[FLEET_PATH_LEN];
};

struct fleet_batch {
	char host[FLEET_NAME_MAX];
	uint64_t ts_ms;
	uint32_t dropped; /* deaths this host could not send since its last batch */
	size_t n_deaths, n_decisions;
	struct fleet_death deaths[FLEET_BATCH_MAX];
	struct fleet_decision decisions[FLEET_BATCH_MAX];
};

struct fleet_report {
	char host[FLEET_NAME_MAX];
	char sha256[FLEET_SHA_LEN];
	char build_id[FLEET_BUILDID_LEN];
	char path[FLEET_PATH_LEN];
	uint32_t signo;
	uint32_t count;
	uint64_t first_ms, last_ms;
};

/* Encode into a malloc'ed NUL-terminated string: 0 or -errno. */
int fleet_batch_encode(const struct fleet_batch *b, char **out);
int fleet_report_encode(const struct fleet_report *r, char **out);

/* Decode len bytes (not NUL-terminated): 0, or -EBADMSG for anything malformed. */
int fleet_batch_decode(const void *buf, size_t len, struct fleet_batch *b);
int fleet_report_decode(const void *buf, size_t len, struct fleet_report *r);

/* KV key "<sha256>.<host>", and back (0 or -EBADMSG). */
int fleet_kv_key(char *out, size_t len, const char *sha256, const char *host);
int fleet_kv_key_parse(const char *key, char sha256[FLEET_SHA_LEN], char host[FLEET_NAME_MAX]);

/* 64 lowercase hex digits: 1 when valid. */
int fleet_sha_valid(const char *s);

#endif
