// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet's credential and TLS files prove this host to the NATS
 * cluster: whoever can read them can speak for this host, whoever can
 * write them can make it speak to another cluster.  Like the policy file,
 * they must be root's and private (no group or other bits at all).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "config.h"
#include "fleet.h"

static void add(struct cfg_errors *e, const struct fleet_where *at, const char *key,
		const char *path, const char *why)
{
	char *full, **grown;

	if (asprintf(&full, "%s:%d: %s %s %s", at->file ? at->file : "?", at->line, key, path,
		     why) < 0)
		return;
	grown = realloc(e->msg, (e->n + 1) * sizeof(*grown));
	if (!grown) {
		free(full);
		return;
	}
	e->msg = grown;
	e->msg[e->n++] = full;
}

static int check_one(const char *key, const char *path, const struct fleet_where *at,
		     struct cfg_errors *errs)
{
	char why[300];
	struct stat st;
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot be opened: %s%s", strerror(errno),
			 errno == ELOOP ? " (a symbolic link: refused)" : "");
		add(errs, at, key, path, why);
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		add(errs, at, key, path, "is not a regular file");
		return -1;
	}
	close(fd);
	if (st.st_uid != 0) {
		snprintf(why, sizeof(why), "is owned by uid %u, not root: refused (chown root %s)",
			 st.st_uid, path);
		add(errs, at, key, path, why);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(why, sizeof(why),
			 "is open to group or others (mode %04o): refused (chmod go= %s)",
			 st.st_mode & 07777, path);
		add(errs, at, key, path, why);
		return -1;
	}
	return 0;
}

int fleet_check_files(const struct fleet_conf *c, struct cfg_errors *errs)
{
	int bad = 0;

	if (!c->enabled)
		return 0;
	bad |= check_one("credentials", c->credentials, &c->credentials_at, errs);
	bad |= check_one("tls_ca", c->tls_ca, &c->tls_ca_at, errs);
	bad |= check_one("tls_cert", c->tls_cert, &c->tls_cert_at, errs);
	bad |= check_one("tls_key", c->tls_key, &c->tls_key_at, errs);
	return bad ? -EPERM : 0;
}
