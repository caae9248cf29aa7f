/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fleet link: lymphd's edge to the NATS JetStream cluster that holds
 * the fleet's immune memory (doc/fleet.md).
 *
 * Everything that touches the network, and hashing the binaries that died
 * badly, runs in a thread of its own (plus libnats' threads): the event
 * loop only queues what happened (fleet_danger, fleet_decision, never
 * blocking: a full queue drops and counts) and reads what the fleet
 * decided (fleet_pop) when fleet_fd() is readable.  The thread never
 * touches the responders' state; the loop applies every vaccination.
 */
#ifndef LYMPH_FLEET_H
#define LYMPH_FLEET_H

#include <stdint.h>
#include "config.h"
#include "fleet_memory.h"
#include "journal.h"

struct fleet;
struct json_object;

struct fleet_event {
	enum fleet_change_kind kind; /* FLEET_VACCINATE or FLEET_FADE */
	char sha256[FLEET_SHA_LEN];
	char build_id[FLEET_BUILDID_LEN];
	char path[FLEET_PATH_LEN]; /* the binary here ("" when not here) */
	uint32_t dev;		   /* and its inode (0, 0: not here) */
	uint64_t ino;
	uint32_t hosts;	     /* distinct hosts within the window */
	uint64_t deaths;     /* their reported deaths */
	char host_list[512]; /* "a,b,c" (truncated) */
};

/*
 * Start the link for conf (copied): returns at once, the thread connects
 * in the background and reconnects with backoff.  0 or -errno.
 */
int fleet_start(struct fleet **out, const struct fleet_conf *conf);
void fleet_stop(struct fleet *f);

/* Readable (an eventfd) when fleet_pop has something. */
int fleet_fd(const struct fleet *f);
void fleet_clear_fd(struct fleet *f);

/* Next decision of the fleet for the loop: 1 (ev filled) or 0. */
int fleet_pop(struct fleet *f, struct fleet_event *ev);

/* A danger death here (queued; never blocks). */
void fleet_danger(struct fleet *f, uint32_t dev, uint64_t ino, const char *path, uint32_t signo,
		  uint64_t fault_addr);

/* A journaled record (lymphd's journal tap calls it): decisions go to the fleet
 * (quarantine, throttle, service, fleet); the rest is ignored.  Loop only. */
void fleet_journal_tap(void *fleet, struct json_object *rec);

/* lymphctl fleet release SHA256: 0, or -ENOENT. */
int fleet_release(struct fleet *f, const char *sha256);

/* The link, counters and the binaries the fleet marks bad. */
struct json_object *fleet_json(struct fleet *f);

/* The host name this link uses. */
const char *fleet_host(const struct fleet *f);

/* config_load: credentials and TLS files must be root's and private. */
int fleet_check_files(const struct fleet_conf *c, struct cfg_errors *errs);

/* SHA-256 (hex) and GNU build-id (hex, "" when none) of the open file fd. */
int fleet_identity(int fd, char sha256[FLEET_SHA_LEN], char build_id[FLEET_BUILDID_LEN]);

/*
 * The loop's side: the binaries here the fleet vaccinated this host
 * against, each lowering the quarantine threshold of that binary
 * (qmanager's bin_factor) while it lasts.  Loop only.
 */
#define FLEET_HERE_MAX 256

struct fleet_here_entry {
	uint32_t dev;
	uint64_t ino;
	char sha256[FLEET_SHA_LEN];
	char path[FLEET_PATH_LEN];
	uint32_t hosts;
	uint64_t deaths;
	uint64_t since_wall_ms;
	int banned; /* banned at once for every uid (vaccine = quarantine) */
};

/*
 * What vaccine = quarantine does at once with a binary here: ban it for
 * every uid but root and [protect]'s (on), or lift the ban (off); the
 * quarantine manager does it (qmanager_ban).  0, or -errno with *why set.
 */
typedef int (*fleet_ban_fn)(void *ctx, uint32_t dev, uint64_t ino, const char *path, int on,
			    const char **why);

struct fleet_here {
	struct fleet_here_entry v[FLEET_HERE_MAX];
	size_t n;
	double factor; /* [fleet] vaccine_factor (or ~0: quarantine at once) */
	enum fleet_vaccine vaccine;
	fleet_ban_fn ban; /* NULL: thresholds only */
	void *ban_ctx;
	uint64_t applied, faded, released, elsewhere; /* counters */
};

void fleet_here_init(struct fleet_here *h, const struct fleet_conf *c);

/* A reload's [fleet]: the vaccine and its factor apply to what comes next
 * and to the vaccinations in force (a ban is imposed or lifted to match). */
void fleet_here_reconf(struct fleet_here *h, const struct fleet_conf *c, const char *self,
		       struct journal *j, int enforce);

/* Every vaccination here ends (the fleet is gone from the policy), journaled with why. */
void fleet_here_clear(struct fleet_here *h, const char *self, struct journal *j, const char *why);

/* qmanager's per-binary threshold multiplier: h->factor when vaccinated. */
double fleet_here_factor(void *h, uint32_t dev, uint64_t ino);

/* Apply one decision of the fleet, journaled ("vaccinated by the fleet"). */
void fleet_here_apply(struct fleet_here *h, const struct fleet_event *ev, const char *self,
		      struct journal *j, int enforce);

/* lymphctl fleet release PATH|SHA256: entries released here (journaled), or -ENOENT. */
int fleet_here_release(struct fleet_here *h, struct fleet *f, const char *what, struct journal *j);

struct json_object *fleet_here_json(const struct fleet_here *h);

#endif
