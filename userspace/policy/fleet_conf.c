// SPDX-License-Identifier: GPL-2.0-only
/*
 * The [fleet] section parser (see fleet_conf.h).  Pure: text in, settings
 * and messages out; the credential files' ownership and modes are checked
 * where files are read (fleet/fleet_files.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "fleet_conf.h"
#include "parse_num.h"

#define SEC_NS 1000000000ULL

void fleet_conf_defaults(struct fleet_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "lymph");
	c->k = 3;
	c->window = 3600 * SEC_NS;
	c->rate = 5;
	c->burst = 20;
	c->vaccine_factor = 0.2;
	c->vaccine = FLEET_VACCINE_THRESHOLD;
	c->replicas = 1;
}

void fleet_conf_free(struct fleet_conf *c)
{
	size_t i;

	for (i = 0; i < c->n_servers; i++)
		free(c->servers[i]);
	free(c->credentials);
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	fleet_conf_defaults(c);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int fleet_conf_same_link(const struct fleet_conf *a, const struct fleet_conf *b)
{
	size_t i;

	if (!a->enabled || !b->enabled)
		return a->enabled == b->enabled;
	if (a->n_servers != b->n_servers)
		return 0;
	for (i = 0; i < a->n_servers; i++)
		if (!same_str(a->servers[i], b->servers[i]))
			return 0;
	return same_str(a->credentials, b->credentials) && same_str(a->tls_ca, b->tls_ca) &&
	       same_str(a->tls_cert, b->tls_cert) && same_str(a->tls_key, b->tls_key) &&
	       !strcmp(a->name, b->name) && !strcmp(a->host, b->host) && a->k == b->k &&
	       a->window == b->window && a->rate == b->rate && a->burst == b->burst &&
	       a->replicas == b->replicas;
}

void fleet_conf_begin(struct fleet_conf *c, const char *file, int line)
{
	c->enabled = 1;
	c->at.file = file;
	c->at.line = line;
	c->seen = 0; /* a second [fleet] (a drop-in) may override keys */
}

int fleet_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= FLEET_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

int fleet_url_valid(const char *url)
{
	const char *h, *end, *colon;
	uint64_t port;

	if (!strncmp(url, "nats://", 7))
		h = url + 7;
	else if (!strncmp(url, "tls://", 6))
		h = url + 6;
	else
		return -EINVAL;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || end == h + 1)
			return -EINVAL;
		for (const char *p = h + 1; p < end; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return -EINVAL;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end[1])
			return -EINVAL;
	} else {
		colon = strchr(h, ':');
		end = colon ? colon : h + strlen(h);
		if (end == h || end - h > 253)
			return -EINVAL;
		for (const char *p = h; p < end; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
				return -EINVAL;
	}
	if (colon && parse_u64(colon + 1, 1, 65535, &port))
		return -EINVAL;
	return 0;
}

static int set_path(char **field, struct fleet_where *at, const char *file, int line,
		    const char *key, const char *val, char *msg, size_t len)
{
	if (val[0] != '/') {
		snprintf(msg, len, "%s must be an absolute path, not '%s'", key, val);
		return -EINVAL;
	}
	free(*field);
	*field = strdup(val);
	at->file = file;
	at->line = line;
	return *field ? 0 : -ENOMEM;
}

/* servers = URL[, URL...] (commas or blanks between them) */
static int set_servers(struct fleet_conf *c, const char *file, int line, const char *val, char *msg,
		       size_t len)
{
	char *copy = strdup(val), *tok, *save = NULL;
	size_t i;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (i = 0; i < c->n_servers; i++)
		free(c->servers[i]);
	c->n_servers = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (fleet_url_valid(tok)) {
			snprintf(
				msg, len,
				"servers: '%s' is not a NATS URL (nats://host:port or tls://host:port)",
				tok);
			err = -EINVAL;
			break;
		}
		if (c->n_servers == FLEET_SERVERS_MAX) {
			snprintf(msg, len, "servers: more than %d URLs", FLEET_SERVERS_MAX);
			err = -EINVAL;
			break;
		}
		c->servers[c->n_servers] = strdup(tok);
		if (!c->servers[c->n_servers]) {
			err = -ENOMEM;
			break;
		}
		c->n_servers++;
	}
	if (!err && !c->n_servers) {
		snprintf(msg, len, "servers needs at least one URL");
		err = -EINVAL;
	}
	c->servers_at.file = file;
	c->servers_at.line = line;
	free(copy);
	return err;
}

static const char *const fleet_keys[] = {
	"servers", "credentials", "tls_ca", "tls_cert", "tls_key", "name",	     "host",
	"k",	   "window",	  "rate",   "burst",	"vaccine", "vaccine_factor", "replicas",
};

int fleet_conf_key(struct fleet_conf *c, const char *file, int line, const char *key,
		   const char *val, char *msg, size_t len)
{
	size_t i, n = sizeof(fleet_keys) / sizeof(fleet_keys[0]);
	uint64_t u;
	double d;
	char *end;

	for (i = 0; i < n && strcmp(fleet_keys[i], key); i++)
		;
	if (i == n) {
		snprintf(msg, len, "unknown key '%s' in [fleet]", key);
		return -EINVAL;
	}
	if (c->seen & (1u << i)) {
		snprintf(msg, len, "'%s' is set twice in this section", key);
		return -EINVAL;
	}
	c->seen |= 1u << i;
	if (!*val) {
		snprintf(msg, len, "%s needs a value", key);
		return -EINVAL;
	}
	if (!strcmp(key, "servers"))
		return set_servers(c, file, line, val, msg, len);
	if (!strcmp(key, "credentials"))
		return set_path(&c->credentials, &c->credentials_at, file, line, key, val, msg,
				len);
	if (!strcmp(key, "tls_ca"))
		return set_path(&c->tls_ca, &c->tls_ca_at, file, line, key, val, msg, len);
	if (!strcmp(key, "tls_cert"))
		return set_path(&c->tls_cert, &c->tls_cert_at, file, line, key, val, msg, len);
	if (!strcmp(key, "tls_key"))
		return set_path(&c->tls_key, &c->tls_key_at, file, line, key, val, msg, len);
	if (!strcmp(key, "name") || !strcmp(key, "host")) {
		if (!fleet_name_valid(val)) {
			snprintf(msg, len, "%s: '%s' is not 1 to %d letters, digits, '_' or '-'",
				 key, val, FLEET_NAME_MAX - 1);
			return -EINVAL;
		}
		snprintf(key[0] == 'n' ? c->name : c->host, FLEET_NAME_MAX, "%s", val);
		return 0;
	}
	if (!strcmp(key, "k")) {
		if (parse_u64(val, 0, 100000, &u) || u < 2) {
			snprintf(msg, len,
				 "k: '%s' is not a whole number from 2 to 100000 (one host alone "
				 "must never vaccinate the fleet)",
				 val);
			return -EINVAL;
		}
		c->k = (uint32_t)u;
		return 0;
	}
	if (!strcmp(key, "window")) {
		if (parse_duration(val, &u) || u < SEC_NS || u > 30 * 86400 * SEC_NS) {
			snprintf(msg, len, "window: '%s' is not a duration from 1s to 30d", val);
			return -EINVAL;
		}
		c->window = u;
		return 0;
	}
	if (!strcmp(key, "rate") || !strcmp(key, "burst") || !strcmp(key, "replicas")) {
		uint64_t max = key[0] == 'r' && key[1] == 'e' && key[2] == 'p' ? 5 : 10000;

		if (parse_u64(val, 1, max, &u)) {
			snprintf(msg, len, "%s: '%s' is not a whole number from 1 to %llu", key,
				 val, (unsigned long long)max);
			return -EINVAL;
		}
		if (!strcmp(key, "rate"))
			c->rate = (uint32_t)u;
		else if (!strcmp(key, "burst"))
			c->burst = (uint32_t)u;
		else
			c->replicas = (uint32_t)u;
		return 0;
	}
	if (!strcmp(key, "vaccine")) {
		if (!strcmp(val, "threshold"))
			c->vaccine = FLEET_VACCINE_THRESHOLD;
		else if (!strcmp(val, "quarantine"))
			c->vaccine = FLEET_VACCINE_QUARANTINE;
		else {
			snprintf(msg, len, "vaccine: '%s' is not threshold or quarantine", val);
			return -EINVAL;
		}
		return 0;
	}
	/* vaccine_factor */
	errno = 0;
	d = strtod(val, &end);
	if (errno || end == val || *end || !(d > 0 && d <= 1)) {
		snprintf(msg, len, "vaccine_factor: '%s' is not a number above 0 and at most 1",
			 val);
		return -EINVAL;
	}
	c->vaccine_factor = d;
	return 0;
}

static int add_err(struct cfg_errors *e, const struct fleet_where *at, const char *fmt, ...)
{
	char buf[512], *full, **grown;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (asprintf(&full, "%s:%d: %s", at->file ? at->file : "?", at->line, buf) < 0)
		return 1;
	grown = realloc(e->msg, (e->n + 1) * sizeof(*grown));
	if (!grown) {
		free(full);
		return 1;
	}
	e->msg = grown;
	e->msg[e->n++] = full;
	return 1;
}

int fleet_conf_finish(const struct fleet_conf *c, struct cfg_errors *errs)
{
	int n = 0;

	if (!c->enabled)
		return 0;
	if (!c->n_servers)
		n += add_err(errs, &c->at, "[fleet] needs 'servers = nats://host:port, ...'");
	if (!!c->tls_cert != !!c->tls_key)
		n += add_err(errs, c->tls_cert ? &c->tls_cert_at : &c->tls_key_at,
			     "[fleet] tls_cert and tls_key go together");
	if (c->burst < c->rate)
		n += add_err(errs, &c->at, "[fleet] burst (%u) is below rate (%u)", c->burst,
			     c->rate);
	return n;
}
