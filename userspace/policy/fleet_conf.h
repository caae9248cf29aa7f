/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The [fleet] section of lymph.conf: which NATS servers carry the fleet's
 * immune memory, how this host proves who it is, and when what other hosts
 * learned changes what this one does (doc/fleet.md).  Parsed by config.c
 * through fleet_conf_key(); pure.  Without a [fleet] section nothing of the
 * fleet runs at all.
 */
#ifndef LYMPH_FLEET_CONF_H
#define LYMPH_FLEET_CONF_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_SERVERS_MAX 16
#define FLEET_NAME_MAX	  64 /* fleet and host names: [A-Za-z0-9_-] */

struct cfg_errors;

enum fleet_vaccine {
	FLEET_VACCINE_THRESHOLD,
	FLEET_VACCINE_QUARANTINE
};

/* Where a key was set, for file:line messages after parsing. */
struct fleet_where {
	const char *file;
	int line;
};

struct fleet_conf {
	int enabled;			  /* a [fleet] section was given */
	struct fleet_where at;		  /* its header */
	char *servers[FLEET_SERVERS_MAX]; /* nats://host:port or tls://host:port */
	size_t n_servers;
	struct fleet_where servers_at;
	char *credentials; /* NATS .creds file (JWT + nkey seed) */
	char *tls_ca, *tls_cert, *tls_key;
	struct fleet_where credentials_at, tls_ca_at, tls_cert_at, tls_key_at;
	char name[FLEET_NAME_MAX]; /* the fleet: names the stream and the bucket */
	char host[FLEET_NAME_MAX]; /* this host's name in the fleet; "": hostname */
	uint32_t k;		   /* distinct hosts that make a binary bad */
	uint64_t window;	   /* ns: a host's report counts this long */
	uint32_t rate;		   /* messages per second this host may send */
	uint32_t burst;
	double vaccine_factor; /* quarantine threshold multiplier when vaccinated */
	enum fleet_vaccine vaccine;
	uint32_t replicas; /* JetStream replicas of the stream and bucket */
	uint32_t seen;	   /* keys set in this section (duplicates) */
};

void fleet_conf_defaults(struct fleet_conf *c);
void fleet_conf_free(struct fleet_conf *c);

/* A [fleet] header at file:line (file must outlive c). */
void fleet_conf_begin(struct fleet_conf *c, const char *file, int line);

/* One key = value of the section: 0, or -EINVAL with why in msg. */
int fleet_conf_key(struct fleet_conf *c, const char *file, int line, const char *key,
		   const char *val, char *msg, size_t msg_len);

/* Whole-section checks (servers given, K >= 2, TLS pairs); returns errors added. */
int fleet_conf_finish(const struct fleet_conf *c, struct cfg_errors *errs);

/*
 * Would the link differ between a and b (servers, credentials and TLS
 * files, fleet and host names, K, window, rate, replicas)?  The vaccine
 * and its factor are not the link's: a reload applies them without a new
 * link.  1 when both are off or the link would be the same, else 0.
 */
int fleet_conf_same_link(const struct fleet_conf *a, const struct fleet_conf *b);

/* nats://host[:port] or tls://host[:port], host a name, IPv4 or [IPv6]: 0 or -EINVAL. */
int fleet_url_valid(const char *url);

/* [A-Za-z0-9_-]{1,63}: 1 when valid. */
int fleet_name_valid(const char *s);

#endif
