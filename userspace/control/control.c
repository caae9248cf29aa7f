// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: a unix stream socket, one request line per
 * connection, one JSON reply.  Only root may use it, checked with
 * SO_PEERCRED on every connection, not only by the file mode (a mode can be
 * loosened by mistake, the peer's credentials cannot be forged).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "daemon.h"

#define REQUEST_MAX 256

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* mkdir -p of the socket's directory, root-only when we create it. */
static void make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = 0;
	mkdir(dir, 0700);
}

int control_open(const char *path)
{
	struct sockaddr_un sa;
	int fd, err;

	err = fill_addr(&sa, path);
	if (err) {
		fprintf(stderr, "lymphd: control socket path too long: %s\n", path);
		return err;
	}
	make_parent(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "lymphd: failed to create the control socket: %s\n", strerror(-err));
		return err;
	}
	/* A socket file that nobody answers is left over from a crash. */
	if (!access(path, F_OK)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
			close(probe);
			close(fd);
			fprintf(stderr, "lymphd: another lymphd is running (it answers on %s); "
				"stop it first or use --socket=PATH\n", path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) || listen(fd, 16)) {
		err = -errno;
		fprintf(stderr, "lymphd: failed to bind the control socket %s: %s\n", path, strerror(-err));
		close(fd);
		unlink(path);
		return err;
	}
	return fd;
}

void control_close(int fd, const char *path)
{
	if (fd < 0)
		return;
	close(fd);
	unlink(path);
}

static void reply(int fd, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		off += (size_t)n;
	}
	send(fd, "\n", 1, MSG_NOSIGNAL);
}

static void reply_error(int fd, const char *fmt, const char *arg)
{
	struct json_object *o = json_object_new_object();
	char msg[4096];

	snprintf(msg, sizeof(msg), fmt, arg);
	json_object_object_add(o, "error", json_object_new_string(msg));
	reply(fd, o);
	json_object_put(o);
}

/* Read one line; the peer has a second to send it. */
static int read_request(int fd, char *buf, size_t len)
{
	size_t off = 0;

	while (off < len - 1) {
		ssize_t n = recv(fd, buf + off, len - 1 - off, 0);

		if (n <= 0)
			return -1;
		off += (size_t)n;
		if (memchr(buf, '\n', off))
			break;
	}
	buf[off] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	return 0;
}

static void reply_ok(int fd, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_string(msg));
	reply(fd, o);
	json_object_put(o);
}

/* One request: "status", "services", "reload", "restart NAME", "reset NAME". */
static void handle(struct daemon *d, int fd, char *req)
{
	char *arg = strchr(req, ' ');
	uint64_t now = mono_now_ns();

	if (arg)
		*arg++ = 0;
	if (!strcmp(req, "status") && !arg) {
		struct json_object *o = status_json(d, now);

		reply(fd, o);
		json_object_put(o);
	} else if (!strcmp(req, "services") && !arg) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "mode", json_object_new_string(d->enforce ? "enforce" : "observe"));
		json_object_object_add(o, "services", supervisor_json(&d->sup, now));
		json_object_object_add(o, "leaks", phago_leaks_json(&d->phago));
		reply(fd, o);
		json_object_put(o);
	} else if (!strcmp(req, "crashes") && !arg) {
		struct json_object *o = phago_crashes_json(&d->phago);

		reply(fd, o);
		json_object_put(o);
	} else if (!strcmp(req, "reload") && !arg) {
		char *why = NULL;

		if (daemon_reload(d, &why))
			reply_error(fd, "reload refused, the current policy is kept:\n%s", why ? why : "");
		else
			reply_ok(fd, "policy reloaded");
		free(why);
	} else if ((!strcmp(req, "restart") || !strcmp(req, "reset")) && arg && *arg) {
		int err = !strcmp(req, "restart") ? supervisor_restart(&d->sup, arg, now)
						  : supervisor_reset(&d->sup, arg, now);

		if (err == -ENOENT)
			reply_error(fd, "no service named '%s' (see lymphctl services)", arg);
		else if (err == -EPERM)
			reply_error(fd, "observe mode: '%s' was not restarted (the decision is journaled)", arg);
		else
			reply_ok(fd, !strcmp(req, "restart") ? "restart started" : "failures reset");
	} else if (!strcmp(req, "metrics") && !arg) {
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		struct json_object *o;

		if (!mem || daemon_metrics(d, mem)) {
			if (mem)
				fclose(mem);
			free(text);
			reply_error(fd, "failed to build the metrics%s", "");
			return;
		}
		fclose(mem);
		o = json_object_new_object();
		json_object_object_add(o, "metrics", json_object_new_string_len(text, (int)len));
		reply(fd, o);
		json_object_put(o);
		free(text);
	} else if (!strcmp(req, "throttles") && !arg) {
		struct json_object *o = throttler_json(&d->thr, now);

		reply(fd, o);
		json_object_put(o);
	} else if (!strcmp(req, "release-lineage") && arg && *arg) {
		int err = throttler_release(&d->thr, arg, now);

		if (err == -EINVAL)
			reply_error(fd, "bad lineage '%s' (session:ID, cgroup:ID or uid:ID)", arg);
		else if (err)
			reply_error(fd, "lineage '%s' is not throttled (see lymphctl throttles)", arg);
		else
			reply_ok(fd, "released");
	} else if (!strcmp(req, "release") && arg && *arg) {
		/* "release PATH" or "release PATH UID" */
		char *uid_s = strrchr(arg, ' ');
		long uid = -1;
		int n;

		if (uid_s) {
			*uid_s++ = 0;
			uid = strtol(uid_s, NULL, 10);
		}
		n = qmanager_release(&d->quar, arg, uid, now);
		if (n < 0)
			reply_error(fd, "cannot release '%s': no such file", arg);
		else if (n == 0)
			reply_error(fd, "'%s' is not quarantined (see lymphctl status)", arg);
		else
			reply_ok(fd, "released");
	} else {
		reply_error(fd, "unknown request '%s'", req);
	}
}

void control_accept(struct daemon *d)
{
	/* A client sends its one line at once: never let it stall the loop long. */
	struct timeval tv = { .tv_usec = 200000 };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char req[REQUEST_MAX];
	int fd;

	while ((fd = accept4(d->ctlfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) || cred.uid != 0) {
			reply_error(fd, "permission denied: %s", "lymphctl must be run as root");
		} else if (read_request(fd, req, sizeof(req))) {
			/* peer went away or sent nothing: nothing to answer */
		} else {
			handle(d, fd, req);
		}
		close(fd);
	}
}
