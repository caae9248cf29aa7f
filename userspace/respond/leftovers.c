// SPDX-License-Identifier: GPL-2.0-only
/* Stale leftovers of dead services: the evidence and the removal (leftovers.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "leftovers.h"
#include "procfs.h"
#include "protect.h"

/* A pid written alone in the file (blanks around it allowed), else 0. */
static pid_t pid_in(const char *s)
{
	char *end;
	long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return 0;
	v = strtol(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	return (!*end && v > 0 && v < (1L << 22)) ? (pid_t)v : 0;
}

/* 1: pid runs the binary at exe; 0: another one; -1: cannot tell. */
static int same_binary(pid_t pid, const char *exe)
{
	char p[64];
	struct stat a, b;

	if (!exe || stat(exe, &a))
		return -1;
	snprintf(p, sizeof(p), "/proc/%d/exe", pid);
	if (stat(p, &b))
		return -1;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Is a live socket bound to path?  /proc/net/unix lists every bound unix
 * socket of this network namespace with the name it was bound to. */
static int unix_bound(const char *path)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[PATH_MAX + 128];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *name = strchr(line, '/');
		size_t n;

		if (!name)
			continue;
		n = strcspn(name, "\n");
		name[n] = 0;
		found = !strcmp(name, path);
	}
	fclose(f);
	return found;
}

/* Does anything answer on the socket (another namespace's listener too)? */
static int unix_answers(const char *path)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t i;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	strcpy(sa.sun_path, path);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), r, e;

		if (fd < 0)
			return 0;
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		e = errno;
		close(fd);
		if (!r || e == EAGAIN || e == EINPROGRESS)
			return 1;
		if (e != EPROTOTYPE)
			return 0; /* ECONNREFUSED: bound by nobody */
	}
	return 0;
}

/* A lock held on (dev, ino) in /proc/locks: "N: FLOCK ADVISORY WRITE PID
 * MAJ:MIN:INO START END" (MAJ and MIN in hex; PID -1 for OFD locks). */
static int locked_by(dev_t dev, ino_t ino, pid_t *holder)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long long i;
		long pid;
		char *p = strstr(line, ": ");

		if (!p || strstr(line, "->"))
			continue; /* a waiter, not a holder */
		/* after the type, mandatory/advisory and access words */
		if (sscanf(p + 2, "%*s %*s %*s %ld %x:%x:%llu", &pid, &maj, &min, &i) != 4)
			continue;
		if (makedev(maj, min) == dev && (ino_t)i == ino) {
			found = 1;
			*holder = pid > 0 ? (pid_t)pid : 0;
		}
	}
	fclose(f);
	return found;
}

/* A live process with (dev, ino) open: its pid, else 0. */
static pid_t opened_by(dev_t dev, ino_t ino)
{
	struct proc_iter procs, fds;
	long pid, fd;
	pid_t who = 0;

	if (proc_iter_open(&procs, "/proc"))
		return 0;
	while (!who && (pid = proc_iter_next(&procs)) >= 0) {
		if (pid <= 0 || proc_iter_open_pid(&fds, (pid_t)pid, "fd"))
			continue;
		while (!who && (fd = proc_iter_next(&fds)) >= 0) {
			char q[64];
			struct stat st;

			snprintf(q, sizeof(q), "/proc/%ld/fd/%ld", pid, fd);
			if (!stat(q, &st) && st.st_dev == dev && st.st_ino == ino)
				who = (pid_t)pid;
		}
		proc_iter_close(&fds);
	}
	proc_iter_close(&procs);
	return who;
}

static int lymph_own(const char *path)
{
	return !strncmp(path, "/run/lymph/", 11) || !strncmp(path, "/var/lib/lymph/", 15);
}

void leftover_gather(const char *path, const struct service_conf *c, int is_pidfile,
		     struct leftover_evidence *ev, char *content, size_t content_len)
{
	const char *exe = c->exe ? c->exe : (c->argv ? c->argv[0] : NULL);
	struct stat st;

	memset(ev, 0, sizeof(*ev));
	if (content_len)
		content[0] = 0;
	ev->lymph_own = lymph_own(path);
	if (lstat(path, &st))
		return;
	ev->exists = 1;
	ev->ftype = st.st_mode & S_IFMT;
	ev->is_symlink = S_ISLNK(st.st_mode);
	if (ev->is_symlink)
		return;
	if (S_ISREG(st.st_mode)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		char buf[128];
		ssize_t n = -1;

		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		if (n > 0) {
			buf[n] = 0;
			ev->pid = pid_in(buf);
			for (ssize_t i = 0; i < n; i++)
				if (!isprint((unsigned char)buf[i]))
					buf[i] = buf[i] == '\n' ? ' ' : '?';
			snprintf(content, content_len, "%s", buf);
		}
		ev->locked = locked_by(st.st_dev, st.st_ino, &ev->lock_holder);
		ev->open_by = opened_by(st.st_dev, st.st_ino);
	} else if (S_ISSOCK(st.st_mode)) {
		ev->sock_bound = unix_bound(path);
		ev->sock_accepts = unix_answers(path);
	}
	if (ev->pid) {
		ev->pid_alive = proc_alive(ev->pid);
		if (ev->pid_alive) {
			ev->pid_identity = same_binary(ev->pid, exe);
			ev->pid_protected = protect_pid(ev->pid);
		}
	}
	(void)is_pidfile;
}

/* unlink path only if it is still the file the evidence was about. */
static int remove_same(const char *path, dev_t dev, ino_t ino)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	int dfd, err = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = 0;
	dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstatat(dfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW))
		err = -errno;
	else if (st.st_dev != dev || st.st_ino != ino)
		err = -ESTALE; /* replaced since: by a new owner, perhaps */
	else if (unlinkat(dfd, slash + 1, 0))
		err = -errno;
	close(dfd);
	return err;
}

static struct json_object *evidence_json(const struct leftover_evidence *ev, const char *content)
{
	struct json_object *o = json_object_new_object();

	if (ev->pid) {
		json_object_object_add(o, "pid", json_object_new_int(ev->pid));
		json_object_object_add(o, "pid_alive", json_object_new_boolean(ev->pid_alive));
		if (ev->pid_alive)
			json_object_object_add(
				o, "pid_runs_service_binary",
				ev->pid_identity < 0
					? NULL
					: json_object_new_boolean(ev->pid_identity > 0));
	}
	if (ev->ftype == S_IFSOCK) {
		json_object_object_add(o, "socket_bound", json_object_new_boolean(ev->sock_bound));
		json_object_object_add(o, "socket_answers",
				       json_object_new_boolean(ev->sock_accepts));
	}
	if (ev->ftype == S_IFREG) {
		json_object_object_add(o, "locked", json_object_new_boolean(ev->locked));
		if (ev->lock_holder)
			json_object_object_add(o, "lock_holder",
					       json_object_new_int(ev->lock_holder));
		json_object_object_add(o, "open_by",
				       ev->open_by ? json_object_new_int(ev->open_by) : NULL);
		json_object_object_add(o, "content", json_object_new_string(content));
	}
	return o;
}

static int clear_one(struct journal *j, const struct service_conf *c, const char *path,
		     int is_pidfile, int enforce)
{
	struct leftover_evidence ev;
	struct json_object *rec;
	enum leftover_kind kind;
	char content[128], result[160] = "ok";
	const char *why, *action;
	struct stat st;
	int remove, done = 0;

	leftover_gather(path, c, is_pidfile, &ev, content, sizeof(content));
	if (!ev.exists)
		return 0;
	kind = leftover_kind_of(ev.ftype, is_pidfile);
	remove = leftover_verdict(kind, &ev, &why);
	if (remove && enforce) {
		int err = lstat(path, &st) ? -errno : remove_same(path, st.st_dev, st.st_ino);

		action = "leftover-removed";
		if (err) {
			action = "leftover-kept";
			snprintf(result, sizeof(result), "error: failed to remove %s: %s", path,
				 strerror(-err));
		} else {
			done = 1;
		}
	} else if (remove) {
		action = "leftover-would-remove";
		snprintf(result, sizeof(result), "observe mode: would remove");
		done = 1;
	} else {
		action = "leftover-kept";
	}
	rec = json_object_new_object();
	json_object_object_add(rec, "type", json_object_new_string("phagocyte"));
	json_object_object_add(rec, "action", json_object_new_string(action));
	json_object_object_add(rec, "mode",
			       json_object_new_string(enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "service", json_object_new_string(c->name));
	json_object_object_add(rec, "path", json_object_new_string(path));
	json_object_object_add(rec, "kind", json_object_new_string(leftover_kind_name(kind)));
	json_object_object_add(rec, "why", json_object_new_string(why));
	json_object_object_add(rec, "evidence", evidence_json(&ev, content));
	json_object_object_add(rec, "result", json_object_new_string(result));
	fprintf(stderr, "lymphd: service %s: %s %s (%s; %s)\n", c->name, action, path, why, result);
	if (j && journal_append(j, rec))
		fprintf(stderr, "lymphd: failed to write the journal (%s %s): %s\n", action, path,
			strerror(errno));
	if (!j)
		json_object_put(rec);
	return done;
}

int leftovers_clear(struct journal *j, const struct service_conf *c, int enforce)
{
	int n = 0;
	size_t i;

	if (!c->phago.clean)
		return 0;
	if (c->pidfile)
		n += clear_one(j, c, c->pidfile, 1, enforce);
	for (i = 0; i < c->phago.n_leftovers; i++)
		n += clear_one(j, c, c->phago.leftovers[i], 0, enforce);
	return n;
}
