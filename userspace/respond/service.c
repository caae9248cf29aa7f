// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stddef.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "clock.h"
#include "jrec.h"
#include "lymph/names.h"
#include "leftovers.h"
#include "procfs.h"
#include "protect.h"
#include "service.h"
#include "signames.h"
#include "smallfile.h"
#include "spawn.h"

#define CHECK_CONNECT_MS 500

/* ---- small helpers ------------------------------------------------------ */

static double rand01(struct supervisor *s)
{
	return (double)(rand_r(&s->rng) % 1000000) / 1e6;
}

/* The loop watches a service's fds when lymphd runs one (s->loop). */
static void svc_watch(struct supervisor *s, struct watch *w, int fd, watch_fn on_ready)
{
	if (s->loop)
		watch_add(s->loop, w, fd, EPOLLIN, on_ready, s);
}

static void svc_unwatch(struct supervisor *s, struct watch *w)
{
	if (s->loop)
		watch_del(s->loop, w);
}

static void svc_watches_init(struct service *v)
{
	watch_init(&v->pid_w);
	watch_init(&v->notify_w);
	watch_init(&v->log_w);
}

static int on_pidfd(struct watch *w, uint32_t events);
static int on_notify(struct watch *w, uint32_t events);
static int on_log(struct watch *w, uint32_t events);

static struct service *by_name(struct supervisor *s, const char *name)
{
	size_t i;

	for (i = 0; name && i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

/* Has our dead child finished exiting (reaped now, or already)? */
static int reaped(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) != 0;
}

static void forget_pid(struct supervisor *s, struct service *v)
{
	/* A sensor reports a death from inside do_exit(), before the process
	 * has closed its files: remember to wait for it before restarting. */
	if (v->is_child && v->pid > 0 && !reaped(v->pid))
		v->reaping = v->pid;
	if (v->pidfd >= 0) {
		svc_unwatch(s, &v->pid_w);
		close(v->pidfd);
	}
	v->pidfd = -1;
	v->pid = 0;
	v->is_child = 0;
}

/* The cgroup v2 path of pid ("0::/a/b"), or "". */
static void cgroup_of(pid_t pid, char *out, size_t cap)
{
	char path[64], line[512];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			if (strlen(line + 3) < cap)
				memcpy(out, line + 3, strlen(line + 3) + 1);
		}
	fclose(f);
}

/* What kill_mode will reach when the main process dies: its session or
 * its process group, only when it leads it (a session or group it merely
 * belongs to, an administrator's login shell's, is never killed). */
static void note_group(struct service *v)
{
	v->group_sid = getsid(v->pid) == v->pid ? v->pid : 0;
	v->group_pgid = getpgid(v->pid) == v->pid ? v->pid : 0;
	cgroup_of(v->pid, v->cgroup, sizeof(v->cgroup));
}

static void track_pid(struct supervisor *s, struct service *v, pid_t pid, int pidfd, int child)
{
	forget_pid(s, v);
	v->pid = pid;
	v->is_child = child;
	note_group(v);
	if (pidfd < 0)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	v->pidfd = pidfd;
	if (pidfd >= 0) {
		fcntl(pidfd, F_SETFD, FD_CLOEXEC);
		svc_watch(s, &v->pid_w, pidfd, on_pidfd);
	}
}

/* ---- journal ----------------------------------------------------------- */

static struct json_object *state_json(const struct supervisor *s, const struct service *v)
{
	struct json_object *o = json_object_new_object(), *recent = json_object_new_array();
	uint32_t i;

	json_object_object_add(o, "phase", json_object_new_string(svc_phase_name(v->st.phase)));
	json_object_object_add(o, "failures", json_object_new_int64(v->st.failures));
	json_object_object_add(o, "restarts", json_object_new_int64(v->st.restarts));
	json_object_object_add(o, "delay_ns", json_object_new_uint64(v->st.delay));
	json_object_object_add(o, "deadline_wall_ns",
			       json_object_new_uint64(clock_to_wall(&s->clk, v->st.deadline)));
	json_object_object_add(o, "since_wall_ns",
			       json_object_new_uint64(clock_to_wall(&s->clk, v->st.since)));
	json_object_object_add(o, "healthy_at_wall_ns",
			       json_object_new_uint64(clock_to_wall(&s->clk, v->st.healthy_at)));
	for (i = 0; i < v->st.n_recent; i++)
		json_object_array_add(
			recent, json_object_new_uint64(clock_to_wall(&s->clk, v->st.recent[i])));
	json_object_object_add(o, "recent_wall_ns", recent);
	json_object_object_add(o, "pid", json_object_new_int64(v->pid));
	return o;
}

static struct json_object *failure_json(const struct last_failure *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "class",
			       json_object_new_string(f->danger ? "danger" : "programmed"));
	json_object_object_add(o, "reason", json_object_new_string(f->reason));
	json_object_object_add(o, "pid", json_object_new_int64(f->pid));
	if (f->signo) {
		json_object_object_add(o, "signal", json_object_new_string(signal_name(f->signo)));
		if (f->siginfo) {
			const char *cn = si_code_name(f->signo, f->si_code);

			json_object_object_add(o, "si_code", json_object_new_int64(f->si_code));
			json_object_object_add(o, "si_code_name",
					       cn ? json_object_new_string(cn) : NULL);
			json_object_object_add(o, "fault_addr",
					       json_object_new_uint64(f->fault_addr));
		}
	} else {
		json_object_object_add(o, "exit_status", json_object_new_int64(f->exit_status));
	}
	json_object_object_add(o, "exe", f->exe[0] ? json_object_new_string(f->exe) : NULL);
	json_object_object_add(o, "wall_ns", json_object_new_uint64(f->wall_ns));
	return o;
}

/*
 * One journal line per decision or action: what, the state after it, why
 * (the failure that caused it), and the result.  Written before acting.
 */
static void journal_service(struct supervisor *s, struct service *v, const char *what,
			    const char *result, int with_failure)
{
	struct json_object *rec = json_object_new_object();

	json_object_object_add(rec, "type", json_object_new_string("service"));
	json_object_object_add(rec, "service", json_object_new_string(v->name));
	json_object_object_add(rec, "action", json_object_new_string(what));
	json_object_object_add(rec, "mode",
			       json_object_new_string(s->enforce ? "enforce" : "observe"));
	if (with_failure && v->last.have)
		json_object_object_add(rec, "why", failure_json(&v->last));
	json_object_object_add(rec, "result", json_object_new_string(result ? result : "ok"));
	json_object_object_add(rec, "state", state_json(s, v));
	if (s->journal && journal_append(s->journal, rec))
		fprintf(stderr, "lymphd: failed to write the journal (%s): %s\n", what,
			strerror(errno));
	if (!s->journal)
		json_object_put(rec);
}

int supervisor_snapshot(struct supervisor *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		journal_service(s, &s->v[i], "snapshot", NULL, 1);
	return 0;
}

/* Rebuild one service's state from its last journal record; only fields
 * jrec.c checked are used.  0, or -EINVAL for a damaged service record. */
int supervisor_replay_record(struct supervisor *s, struct json_object *rec)
{
	struct jrec_service r;
	struct service *v;
	uint32_t i;
	int ok = jrec_service(rec, &r);

	if (ok <= 0)
		return ok;
	v = by_name(s, r.name);
	if (!v)
		return 0; /* a service the policy no longer has */
	v->st.phase = r.phase;
	v->st.failures = r.failures;
	v->st.restarts = r.restarts;
	v->st.delay = r.delay_ns;
	v->st.deadline = r.deadline_wall_ns ? clock_to_mono(&s->clk, r.deadline_wall_ns) : 0;
	v->st.since = r.since_wall_ns ? clock_to_mono(&s->clk, r.since_wall_ns) : 0;
	v->st.healthy_at = r.healthy_at_wall_ns ? clock_to_mono(&s->clk, r.healthy_at_wall_ns) : 0;
	v->pid = (pid_t)r.pid;
	v->st.n_recent = 0;
	for (i = 0; i < r.n_recent && v->st.n_recent < SUPERVISE_HISTORY; i++)
		v->st.recent[v->st.n_recent++] = clock_to_mono(&s->clk, r.recent_wall_ns[i]);
	if (r.have_why) {
		v->last.have = 1;
		if (r.why_reason)
			snprintf(v->last.reason, sizeof(v->last.reason), "%s", r.why_reason);
		v->last.signo = r.why_signo;
		v->last.exit_status = r.why_exit_status;
		v->last.danger = r.why_danger;
		v->last.wall_ns = r.why_wall_ns;
	}
	return 0;
}

/* ---- finding a running instance --------------------------------------- */

static int same_exe(pid_t pid, const struct stat *want)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	return !stat(path, &st) && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

/* ---- who serves a port ------------------------------------------------- */

#define TREE_MAX 256

/* Inodes of the TCP sockets listening on port (any local address), from
 * /proc/net/tcp and tcp6; how many (at most max). */
static int listen_inodes(uint16_t port, unsigned long *ino, int max)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char line[512];
	int n = 0;
	size_t i;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && n < max) {
			char local[64], state[8];
			unsigned long inode;
			unsigned int lport;
			char *colon;

			if (sscanf(line, " %*s %63s %*s %7s %*s %*s %*s %*s %*s %lu", local, state,
				   &inode) != 3 ||
			    strcmp(state, "0A"))
				continue;
			colon = strrchr(local, ':');
			if (colon && sscanf(colon + 1, "%x", &lport) == 1 && lport == port && inode)
				ino[n++] = inode;
		}
		fclose(f);
	}
	return n;
}

/* pid and its descendants (through /proc/PID/task/TID/children), at most
 * max; how many. */
static int process_tree(pid_t root, pid_t *out, int max)
{
	int n = 0, i;

	out[n++] = root;
	for (i = 0; i < n; i++) {
		struct proc_iter tasks;
		long tid;

		if (proc_iter_open_pid(&tasks, out[i], "task"))
			continue;
		while ((tid = proc_iter_next(&tasks)) >= 0) {
			char cpath[96], buf[4096], *tok, *save = NULL;

			snprintf(cpath, sizeof(cpath), "/proc/%d/task/%ld/children", out[i], tid);
			if (small_file_read(cpath, 0, buf, sizeof(buf)) <= 0)
				continue;
			for (tok = strtok_r(buf, " \n", &save); tok && n < max;
			     tok = strtok_r(NULL, " \n", &save))
				out[n++] = (pid_t)atoi(tok);
		}
		proc_iter_close(&tasks);
	}
	return n;
}

/* Does pid hold (an fd to) one of the socket inodes? */
static int holds_socket(pid_t pid, const unsigned long *ino, int n_ino)
{
	struct proc_iter fds;
	int found = 0;
	long fd;

	if (proc_iter_open_pid(&fds, pid, "fd"))
		return 0;
	while (!found && (fd = proc_iter_next(&fds)) >= 0) {
		char fdpath[64], target[64];
		unsigned long x;
		ssize_t len;
		int i;

		snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/%ld", pid, fd);
		len = readlink(fdpath, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = 0;
		if (sscanf(target, "socket:[%lu]", &x) != 1)
			continue;
		for (i = 0; i < n_ino; i++)
			if (ino[i] == x)
				found = 1;
	}
	proc_iter_close(&fds);
	return found;
}

/* Is the listener on port held by root or a process of its tree?  An
 * orphaned worker of an earlier instance, or another program, that holds
 * the port does not make this instance healthy. */
static int tree_listens(pid_t root, uint16_t port)
{
	unsigned long ino[16];
	pid_t tree[TREE_MAX];
	int n_ino = listen_inodes(port, ino, 16), n, i;

	if (!n_ino)
		return 0;
	n = process_tree(root, tree, TREE_MAX);
	for (i = 0; i < n; i++)
		if (holds_socket(tree[i], ino, n_ino))
			return 1;
	return 0;
}

/* Is pid's command line exactly argv? */
static int same_cmdline(pid_t pid, char *const *argv)
{
	char path[64], buf[8192], *p;
	ssize_t len;
	size_t i;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	len = small_file_read(path, 0, buf, sizeof(buf));
	if (len <= 0)
		return 0;
	for (p = buf, i = 0; argv[i]; i++) {
		if (p >= buf + len || strcmp(p, argv[i]))
			return 0;
		p += strlen(p) + 1;
	}
	return p == buf + len;
}

/*
 * A process running the service's binary is this service's instance, not
 * another one of the same program (another redis on another port): it
 * listens on check_port (itself or a process of its tree) when the service
 * has one, else its command line is the service's start line.  A unit=
 * service with neither is recognised by its binary alone.
 */
static int is_our_instance(const struct service_conf *c, pid_t pid)
{
	if (c->check_port)
		return tree_listens(pid, c->check_port);
	if (c->argv)
		return same_cmdline(pid, c->argv);
	return 1;
}

/* The top process running the service's binary: its parent runs another. */
static pid_t find_by_exe(const struct service_conf *c)
{
	const char *exe = c->exe;
	struct proc_iter it;
	struct stat want;
	pid_t best = 0;
	long pid;

	if (stat(exe, &want) || proc_iter_open(&it, "/proc"))
		return 0;
	while ((pid = proc_iter_next(&it)) >= 0) {
		if (pid <= 1 || !same_exe((pid_t)pid, &want))
			continue;
		if (same_exe(proc_parent((pid_t)pid), &want))
			continue; /* a worker of the main process */
		if (!is_our_instance(c, (pid_t)pid))
			continue; /* another instance of the same program */
		if (!best || pid < best)
			best = (pid_t)pid;
	}
	proc_iter_close(&it);
	return best;
}

static pid_t find_in_cgroup(const char *cg)
{
	static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	char path[4096], line[32];
	size_t i;

	for (i = 0; i < 2; i++) {
		FILE *f;
		pid_t first = 0;

		snprintf(path, sizeof(path), "%s/%s/cgroup.procs", roots[i],
			 cg[0] == '/' ? cg + 1 : cg);
		f = fopen(path, "re");
		if (!f)
			continue;
		/* The main process is the one whose parent is outside the cgroup. */
		while (fgets(line, sizeof(line), f)) {
			pid_t pid = (pid_t)atoi(line), pp = proc_parent(pid);
			char pp_path[4096], buf[32];
			FILE *g;
			int inside = 0;

			snprintf(pp_path, sizeof(pp_path), "%s", path);
			g = fopen(pp_path, "re");
			while (g && fgets(buf, sizeof(buf), g))
				if (atoi(buf) == pp)
					inside = 1;
			if (g)
				fclose(g);
			if (!inside && (!first || pid < first))
				first = pid;
		}
		fclose(f);
		if (first)
			return first;
	}
	return 0;
}

static pid_t find_running(const struct service *v)
{
	const struct service_conf *c = v->conf;
	pid_t pid = 0;

	if (c->pidfile)
		pid = proc_pidfile_read(c->pidfile);
	if (!pid && c->cgroup)
		pid = find_in_cgroup(c->cgroup);
	if (!pid && c->exe)
		pid = find_by_exe(c);
	if (pid && (!proc_running(pid) || protect_pid(pid)))
		return 0;
	return pid;
}

/* ---- acting ------------------------------------------------------------ */

static void build_env(const struct service *v, char **env, size_t max)
{
	size_t n = 0, i;

	env[n++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	if (v->conf->type == SVC_TYPE_NOTIFY && v->notify_fd >= 0)
		env[n++] = (char *)v->notify_env;
	for (i = 0; v->conf->env[i] && n < max - 1; i++)
		env[n++] = v->conf->env[i];
	env[n] = NULL;
}

/*
 * type = notify: one datagram socket per service, in the abstract namespace
 * (no file to protect), named in NOTIFY_SOCKET as systemd does, so services
 * built for sd_notify() work unchanged.  Anyone may send to it: only
 * messages whose kernel-attested sender (SO_PASSCRED) is the main process
 * or one of its children count.
 */
static int notify_open(struct supervisor *s, struct service *v)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *name;
	socklen_t len;
	int fd, one = 1;

	if (v->notify_fd >= 0)
		return 0;
	snprintf(v->notify_env, sizeof(v->notify_env), "NOTIFY_SOCKET=@lymph/%d/%s", (int)getpid(),
		 v->name);
	name = v->notify_env + strlen("NOTIFY_SOCKET=@");
	if (strlen(name) + 1 >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path + 1, name, strlen(name)); /* sun_path[0] = 0: abstract */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one))) {
		int err = -errno;

		close(fd);
		return err;
	}
	svc_watch(s, &v->notify_w, fd, on_notify);
	v->notify_fd = fd;
	return 0;
}

static void notify_close(struct supervisor *s, struct service *v)
{
	if (v->notify_fd < 0)
		return;
	svc_unwatch(s, &v->notify_w);
	close(v->notify_fd);
	v->notify_fd = -1;
}

/* Datagrams on the notify socket: READY=1 from the main process (or a
 * child of it) makes it ready; anything else is ignored. */
static void notify_read(struct supervisor *s, struct service *v, uint64_t now)
{
	for (;;) {
		char buf[4096],
			ctl[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
		struct msghdr msg = { .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = ctl,
				      .msg_controllen = sizeof(ctl) };
		struct cmsghdr *c;
		struct ucred cred = { 0 };
		int have_cred = 0;
		ssize_t n = recvmsg(v->notify_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		char *line, *save = NULL;

		if (n < 0)
			return;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(cred))) {
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
				have_cred = 1;
			} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				int *fds = (int *)CMSG_DATA(c);
				size_t k, nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				for (k = 0; k < nfd; k++)
					close(fds[k]); /* no fd store */
			}
		}
		if (!have_cred || !v->pid ||
		    (cred.pid != v->pid && proc_parent(cred.pid) != v->pid))
			continue;
		buf[n] = 0;
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (strcmp(line, "READY=1") || v->ready)
				continue;
			v->ready = 1;
			if (v->st.phase == SVC_STARTING && !v->check_pid)
				v->st.deadline = now; /* verify at once */
		}
	}
	(void)s;
}

/* ---- the service's log, written by lymphd -------------------------------- */

/*
 * With log_timestamps or log_max, the service writes into a pipe and lymphd
 * writes the log: each line prefixed with its UTC time (to the ms), and the
 * file rotated by size (log -> log.1 -> ... -> log.N, the oldest dropped),
 * at a line boundary.  Without them the service appends to the file itself.
 */
static int log_open(struct service *v)
{
	struct stat st;

	v->log_fd = open(v->conf->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			 0640);
	if (v->log_fd < 0)
		return -errno;
	v->log_size = fstat(v->log_fd, &st) ? 0 : (uint64_t)st.st_size;
	return 0;
}

static void log_rotate(struct service *v)
{
	char from[4200], to[4200];
	uint32_t k;

	close(v->log_fd);
	v->log_fd = -1;
	for (k = v->conf->log_keep; k >= 1; k--) {
		if (k == 1)
			snprintf(from, sizeof(from), "%s", v->conf->log);
		else
			snprintf(from, sizeof(from), "%s.%u", v->conf->log, k - 1);
		snprintf(to, sizeof(to), "%s.%u", v->conf->log, k);
		if (rename(from, to) && errno != ENOENT)
			fprintf(stderr, "lymphd: failed to rotate %s: %s\n", from, strerror(errno));
	}
	if (log_open(v))
		fprintf(stderr, "lymphd: failed to open the log %s: %s\n", v->conf->log,
			strerror(errno));
}

static void log_put(struct service *v, const char *p, size_t n)
{
	while (n && v->log_fd >= 0) {
		ssize_t w = write(v->log_fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
		v->log_size += (uint64_t)w;
	}
}

static void log_write(struct service *v, const char *buf, size_t n)
{
	while (n) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl ? (size_t)(nl - buf) + 1 : n;

		if (v->log_bol) {
			if (v->conf->log_max && v->log_size >= v->conf->log_max)
				log_rotate(v);
			if (v->conf->log_timestamps) {
				uint64_t wall = clock_wall_ns();
				time_t secs = (time_t)(wall / NSEC_PER_SEC);
				struct tm tm;
				char stamp[40];
				int sl;

				gmtime_r(&secs, &tm);
				sl = snprintf(stamp, sizeof(stamp),
					      "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ",
					      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
					      tm.tm_hour, tm.tm_min, tm.tm_sec,
					      (int)(wall % NSEC_PER_SEC / NSEC_PER_MSEC));
				log_put(v, stamp, (size_t)sl);
			}
		}
		log_put(v, buf, len);
		v->log_bol = nl != NULL;
		buf += len;
		n -= len;
	}
}

static void log_stop(struct supervisor *s, struct service *v)
{
	if (v->log_rd >= 0) {
		svc_unwatch(s, &v->log_w);
		close(v->log_rd);
	}
	v->log_rd = -1;
}

/* The pipe is readable: copy what is there; at EOF (every writer gone)
 * stop reading. */
static void log_read(struct supervisor *s, struct service *v)
{
	char buf[8192];

	for (;;) {
		ssize_t n = read(v->log_rd, buf, sizeof(buf));

		if (n > 0) {
			log_write(v, buf, (size_t)n);
			continue;
		}
		if (n == 0 || errno != EAGAIN)
			log_stop(s, v);
		return;
	}
}

/* A pipe for the next instance's output: its write end in *out (the
 * caller closes it after the start), or -errno. */
static int log_pipe(struct supervisor *s, struct service *v, int *out)
{
	int p[2], err;

	if (v->log_fd < 0 && (err = log_open(v)))
		return err;
	if (v->log_rd >= 0)
		log_read(s, v); /* what the last instance left */
	log_stop(s, v);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	v->log_rd = p[0];
	v->log_bol = 1;
	svc_watch(s, &v->log_w, p[0], on_log);
	*out = p[1];
	return 0;
}

static void started(struct service *v, uint64_t now, const char *what)
{
	svc_on_started(v->conf, &v->st, now);
	if (!strcmp(what, "start"))
		v->st.restarts--; /* a first start is not a restart */
}

static void do_start(struct supervisor *s, struct service *v, uint64_t now, const char *what)
{
	char *env[CFG_ENV_MAX + 3];
	int pidfd;
	pid_t pid;

	/* The last instance is still exiting (its port may be bound): start
	 * when it is gone, at its SIGCHLD (supervisor_on_child), or a few
	 * milliseconds from now should that never come. */
	if (v->reaping && !reaped(v->reaping)) {
		v->st.deadline = now + 2000000ULL;
		v->start_on_reap = 1;
		return;
	}
	v->reaping = 0;
	v->start_on_reap = 0;
	leftovers_clear(s->journal, v->conf, s->enforce); /* stale pid files, sockets, locks */

	if (v->conf->unit) {
		char *argv[] = { "/usr/bin/systemctl", "restart", "--no-block",
				 (char *)v->conf->unit, NULL };
		struct spawn_opts o = { .argv = argv, .keep_caps = 1 };

		forget_pid(s, v);
		pid = spawn(&o, &pidfd);
		if (pidfd >= 0)
			close(pidfd);
		if (pid < 0) {
			started(v, now, what);
			journal_service(s, v, what, "error: cannot run systemctl", 1);
			return;
		}
		v->unit_pid = pid;
		started(v, now, what);
		journal_service(s, v, what, "systemctl restart", 1);
		return;
	}
	v->ready = 0;
	if (v->conf->type == SVC_TYPE_NOTIFY && (pid = notify_open(s, v)) < 0) {
		char msg[128];

		started(v, now, what);
		snprintf(msg, sizeof(msg), "error: cannot open the notify socket: %s",
			 strerror((int)-pid));
		journal_service(s, v, what, msg, 1);
		return;
	}
	build_env(v, env, sizeof(env) / sizeof(env[0]));
	{
		struct spawn_opts o = {
			.argv = v->conf->argv,
			.env = env,
			.user = v->conf->user,
			.group = v->conf->group,
			.workdir = v->conf->workdir,
			.log = v->conf->log,
			.caps = v->conf->caps,
			.bounding = v->conf->bounding,
		};
		char msg[160];
		int wr = -1;

		if ((v->conf->log_timestamps || v->conf->log_max) &&
		    (pid = log_pipe(s, v, &wr)) < 0) {
			started(v, now, what);
			snprintf(msg, sizeof(msg), "error: cannot open the log %s: %s",
				 v->conf->log, strerror((int)-pid));
			journal_service(s, v, what, msg, 1);
			return;
		}
		o.use_out_fd = wr >= 0;
		o.out_fd = wr;
		pid = spawn(&o, &pidfd);
		if (wr >= 0)
			close(wr);
		started(v, now, what);
		if (pid == -EPERM)
			snprintf(
				msg, sizeof(msg),
				"error: cannot start: lymphd does not hold its capabilities "
				"(they are kept only for services configured when lymphd started; restart lymphd)");
		if (pid < 0) {
			if (pid != -EPERM)
				snprintf(msg, sizeof(msg), "error: cannot start: %s",
					 strerror((int)-pid));
			journal_service(s, v, what, msg, 1);
			return;
		}
		if (v->conf->type == SVC_TYPE_FORKING) {
			/* The daemon is found through the pidfile once it is written. */
			forget_pid(s, v);
			if (pidfd >= 0)
				close(pidfd);
			v->launcher = pid;
		} else {
			track_pid(s, v, pid, pidfd, 1);
			/* spawn() makes it a session leader, maybe not yet done */
			v->group_sid = v->group_pgid = pid;
		}
		snprintf(msg, sizeof(msg), "started pid %d", pid);
		journal_service(s, v, what, msg, 1);
	}
}

static int tcp_accepts(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct pollfd pfd;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return 1;
	}
	if (errno != EINPROGRESS) {
		close(fd);
		return 0;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, CHECK_CONNECT_MS) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		close(fd);
		return 0;
	}
	close(fd);
	return 1;
}

static void run_hook(struct supervisor *s, struct service *v);
static void kill_rest(struct supervisor *s, struct service *v);

static void verified(struct supervisor *s, struct service *v, int healthy, const char *why,
		     uint64_t now)
{
	svc_on_verified(v->conf, &v->st, now, healthy, rand01(s), s->backoff_factor);
	if (healthy) {
		journal_service(s, v, "verified", why, 0);
		return;
	}
	v->last.have = 1;
	v->last.wall_ns = clock_to_wall(&s->clk, now);
	snprintf(v->last.reason, sizeof(v->last.reason), "not-healed");
	journal_service(s, v, v->st.phase == SVC_BROKEN ? "broken" : "not-healed", why, 1);
	run_hook(s, v);
	if (v->launcher) {
		/* type = forking: a start command that never finished */
		kill(v->launcher, SIGKILL); /* our unreaped child: the pid cannot be reused */
		v->reaping = v->launcher;
		v->launcher = 0;
	}
	if (v->is_child && v->pidfd >= 0) {
		/* The instance that did not heal must not run on beside the next
		 * one (which would fail on its port or pidfile): stop it.  Its
		 * death is not another failure: it is forgotten first. */
		syscall(SYS_pidfd_send_signal, v->pidfd, SIGKILL, NULL, 0);
		kill_rest(s, v);
		forget_pid(s, v);
	}
}

/* The uid the service runs as (0 for root or an unknown name). */
static uid_t service_uid(const struct service_conf *c)
{
	struct passwd *pw;
	char *end;
	unsigned long n;

	if (!c->user)
		return 0;
	pw = getpwnam(c->user);
	if (pw)
		return pw->pw_uid;
	n = strtoul(c->user, &end, 10);
	return (*end || end == c->user) ? 0 : (uid_t)n;
}

/*
 * type = forking: the daemon named by the pidfile, if it is really the one
 * the start command forked.  The file must be a regular file (not a link)
 * owned by root or the service's user; the process must be a child of the
 * start command, or of lymphd (a child subreaper: the daemon the start
 * command left behind is reparented to it), never some other process a
 * stale or forged pidfile names.  0 when none (yet).
 */
static pid_t forked_daemon(const struct service *v)
{
	pid_t pid = proc_pidfile_read_owned(v->conf->pidfile, service_uid(v->conf)), pp;

	if (!pid || protect_pid(pid))
		return 0;
	pp = proc_parent(pid);
	if (pp != getpid() && (!v->launcher || pp != v->launcher))
		return 0;
	return pid;
}

/* A readiness check failed: retried until start_timeout, then a failure. */
static void not_ready(struct supervisor *s, struct service *v, const char *why, uint64_t now)
{
	if (svc_retry_ready(v->conf, &v->st, now))
		return;
	verified(s, v, 0, why, now);
}

static void do_verify(struct supervisor *s, struct service *v, uint64_t now)
{
	int pidfd;
	pid_t pid;

	if (v->conf->type == SVC_TYPE_FORKING && !v->unit_pid && !v->pid) {
		pid_t found = forked_daemon(v);

		if (found) {
			char msg[64];

			track_pid(s, v, found, -1, proc_parent(found) == getpid());
			snprintf(msg, sizeof(msg), "daemon pid %d from the pidfile", found);
			journal_service(s, v, "forked", msg, 0);
		}
	} else if (v->conf->unit || !v->pid) {
		pid_t found = find_running(v);

		if (found)
			track_pid(s, v, found, -1, 0);
	}
	if (!v->pid || !proc_alive(v->pid)) {
		not_ready(s, v,
			  v->conf->type == SVC_TYPE_FORKING ? "no daemon of its own in the pidfile"
							    : "not running after the settle time",
			  now);
		return;
	}
	if (v->conf->type == SVC_TYPE_NOTIFY && !v->ready) {
		not_ready(s, v, "no READY=1 on NOTIFY_SOCKET", now);
		return;
	}
	if (v->conf->check_port && !tcp_accepts(v->conf->check_port)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "port %u does not accept connections",
			 v->conf->check_port);
		not_ready(s, v, msg, now);
		return;
	}
	if (v->conf->check_port && !tree_listens(v->pid, v->conf->check_port)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "port %u is served by a process outside the service",
			 v->conf->check_port);
		not_ready(s, v, msg, now);
		return;
	}
	if (!v->conf->check_argv) {
		verified(s, v, 1, "alive", now);
		return;
	}
	/* The check runs asynchronously; its exit status decides. */
	{
		struct spawn_opts o = { .argv = v->conf->check_argv,
					.user = v->conf->user,
					.group = v->conf->group };

		pid = spawn(&o, &pidfd);
		if (pidfd >= 0)
			close(pidfd);
		if (pid < 0) {
			verified(s, v, 0, "check_command cannot be started", now);
			return;
		}
		v->check_pid = pid;
		v->check_deadline = now + v->conf->check_timeout;
	}
}

static void run_hook(struct supervisor *s, struct service *v)
{
	char vars[16][320], *env[18], *argv[2] = { v->conf->on_failure, NULL };
	const struct last_failure *f = &v->last;
	const char *cn = f->siginfo ? si_code_name(f->signo, f->si_code) : NULL;
	struct spawn_opts o = { .argv = argv, .env = env };
	size_t n = 0, i;
	int pidfd;
	pid_t pid;

	if (!v->conf->on_failure)
		return;
	if (!s->enforce) {
		journal_service(s, v, "would-run-on_failure", "observe mode", 1);
		return;
	}
#define VAR(...) snprintf(vars[n++], sizeof(vars[0]), __VA_ARGS__)
	VAR("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	VAR("LYMPH_SERVICE=%s", v->name);
	VAR("LYMPH_STATE=%s", svc_phase_name(v->st.phase));
	VAR("LYMPH_CLASS=%s", f->danger ? "danger" : "programmed");
	VAR("LYMPH_REASON=%s", f->reason);
	VAR("LYMPH_PID=%u", f->pid);
	VAR("LYMPH_SIGNAL=%s", f->signo ? signal_name(f->signo) : "");
	VAR("LYMPH_SIGNO=%u", f->signo);
	VAR("LYMPH_SI_CODE=%s", f->siginfo ? (cn ? cn : "") : "");
	VAR("LYMPH_FAULT_ADDR=%s", "");
	if (f->siginfo && f->si_code > 0)
		snprintf(vars[n - 1], sizeof(vars[0]), "LYMPH_FAULT_ADDR=0x%llx",
			 (unsigned long long)f->fault_addr);
	VAR("LYMPH_EXIT_STATUS=%u", f->exit_status);
	VAR("LYMPH_EXE=%s", f->exe);
	VAR("LYMPH_RESTARTS=%u", v->st.restarts);
	VAR("LYMPH_FAILURES=%u", v->st.failures);
	VAR("LYMPH_NEXT_RETRY_S=%.3f", v->st.deadline ? (double)v->st.delay / 1e9 : 0.0);
#undef VAR
	for (i = 0; i < n; i++)
		env[i] = vars[i];
	env[n] = NULL;
	pid = spawn(&o, &pidfd);
	if (pidfd >= 0)
		close(pidfd);
	if (pid < 0)
		journal_service(s, v, "on_failure", "error: cannot start the hook", 0);
}

/*
 * Kill pid, a member of a dead service's group or cgroup, unless it is
 * protected or dying already: the main process itself (main: reported at
 * its exit, before it is reaped), a zombie or a process past PF_EXITING
 * with no other thread left (a leader that ended alone while its threads
 * run shows as a zombie too: that one is killed).  A kill of the dying
 * does nothing, and counting them journaled "killed 1 process left
 * behind" at every crash of a service that left nothing.  1 when killed.
 */
static int kill_left(pid_t pid, pid_t main)
{
	struct proc_stat st;
	char threads[32];

	if (pid == main || proc_stat_read(pid, &st) || protect_pid_stat(pid, &st))
		return 0; /* the corpse, gone, or protected */
	if ((st.state == 'Z' || st.state == 'X' || (st.flags & 0x4 /* PF_EXITING */)) &&
	    (proc_status_field(pid, "Threads", threads, sizeof(threads)) || atoi(threads) <= 1))
		return 0;
	return !kill(pid, SIGKILL);
}

/* Kill every process whose sid (pgid) is key but main; how many. */
static int kill_matching(pid_t sid, pid_t pgid, pid_t main)
{
	pid_t self = getpid();
	struct proc_iter it;
	int n = 0;
	long v;

	if (proc_iter_open(&it, "/proc"))
		return 0;
	while ((v = proc_iter_next(&it)) >= 0) {
		pid_t pid = (pid_t)v;

		/* One system call per process; the protected set (a read of
		 * /proc/PID/stat each) only for the few that match: this scan
		 * runs between a service's death and its restart.  A group
		 * never spans sessions: with the session known (its leader's
		 * group is the session's id), its members are the group's too. */
		if (pid <= 1 || pid == self)
			continue;
		if (sid ? getsid(pid) == sid : pgid && getpgid(pid) == pgid)
			n += kill_left(pid, main);
	}
	proc_iter_close(&it);
	return n;
}

/* Kill every process of cgroup path but main (never lymphd's own
 * cgroup, nor the root). */
static int kill_cgroup(const char *cg, pid_t main)
{
	char own[256], path[512], line[32];
	int n = 0;
	FILE *f;

	cgroup_of(getpid(), own, sizeof(own));
	if (!cg[0] || !strcmp(cg, "/") || !strcmp(cg, own))
		return -1;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cgroup.procs", cg);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		pid_t pid = (pid_t)atoi(line);

		if (pid > 1)
			n += kill_left(pid, main);
	}
	fclose(f);
	return n;
}

/*
 * kill_mode: the main process is gone (or was stopped); what it leaves
 * behind (workers holding its port, children) goes with it before the
 * next instance starts.  Journaled when anything was killed.
 */
static void kill_rest(struct supervisor *s, struct service *v)
{
	const char *mode = "group";
	char msg[160];
	int n = 0;

	if (!s->enforce || v->conf->kill_mode == KILL_MODE_MAIN)
		return;
	if (v->conf->kill_mode == KILL_MODE_CGROUP) {
		mode = "cgroup";
		n = kill_cgroup(v->cgroup, v->pid);
		if (n < 0) {
			mode = "group (the service shares lymphd's cgroup or has none of its own)";
			n = 0;
		}
	}
	if (v->conf->kill_mode == KILL_MODE_GROUP || !strncmp(mode, "group", 5))
		n += kill_matching(v->group_sid, v->group_pgid, v->pid);
	v->group_sid = v->group_pgid = 0;
	v->cgroup[0] = 0;
	if (!n)
		return;
	snprintf(msg, sizeof(msg), "killed %d process%s left behind (kill_mode %s)", n,
		 n == 1 ? "" : "es", mode);
	journal_service(s, v, "killed-rest", msg, 0);
}

/* The main process is gone: decide, journal, act. */
static void main_died(struct supervisor *s, struct service *v, int danger, int failure,
		      uint64_t now)
{
	int admin = v->admin_restart;

	kill_rest(s, v);
	forget_pid(s, v);
	v->admin_restart = 0;
	v->last.have = 1;
	v->last.wall_ns = clock_to_wall(&s->clk, now);
	if (admin) {
		/* lymphctl restart: not a failure, start again at once. */
		v->st.phase = SVC_BACKOFF;
		v->st.deadline = now;
		journal_service(s, v, "stopped-for-restart", NULL, 1);
		return;
	}
	if (!s->enforce) {
		struct svc_state would = v->st;
		char msg[128];

		svc_on_death(v->conf, &would, now, failure, rand01(s), s->backoff_factor);
		if (would.phase == SVC_BACKOFF)
			snprintf(msg, sizeof(msg), "observe mode: would restart in %.3f s",
				 (double)would.delay / 1e9);
		else if (would.phase == SVC_BROKEN)
			snprintf(msg, sizeof(msg), "observe mode: would mark broken for %.0f s",
				 (double)would.delay / 1e9);
		else
			snprintf(msg, sizeof(msg), "observe mode: would not restart");
		v->st.phase = SVC_STOPPED;
		v->st.deadline = 0;
		journal_service(s, v, failure ? "would-restart" : "exited", msg, 1);
		run_hook(s, v);
		return;
	}
	(void)danger;
	svc_on_death(v->conf, &v->st, now, failure, rand01(s), s->backoff_factor);
	journal_service(s, v,
			v->st.phase == SVC_BROKEN    ? "broken"
			: v->st.phase == SVC_BACKOFF ? "died"
						     : "exited",
			NULL, 1);
	if (failure)
		run_hook(s, v);
}

/* ---- entry points ------------------------------------------------------ */

static void bind_conf(struct service *v, const struct service_conf *c)
{
	v->conf = c;
	snprintf(v->name, sizeof(v->name), "%s", c->name);
}

int supervisor_init(struct supervisor *s, const struct policy *p, struct journal *j, int enforce,
		    struct evloop *loop)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->journal = j;
	s->enforce = enforce;
	s->loop = loop;
	s->backoff_factor = 1.0;
	s->rng = (unsigned int)getpid() ^ (unsigned int)time(NULL);
	clock_offset_init(&s->clk);
	if (!p->n_services)
		return 0;
	s->v = calloc(p->n_services, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	s->n = p->n_services;
	for (i = 0; i < s->n; i++) {
		bind_conf(&s->v[i], &p->services[i]);
		s->v[i].pidfd = -1;
		s->v[i].notify_fd = -1;
		s->v[i].log_rd = s->v[i].log_fd = -1;
		svc_watches_init(&s->v[i]);
	}
	/* A daemon whose start command exits (type = forking), and the
	 * orphans of every service, are reparented to lymphd: it can reap
	 * them, and knows the daemon of a pidfile is its own. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	return 0;
}

void supervisor_free(struct supervisor *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		forget_pid(s, &s->v[i]);
		notify_close(s, &s->v[i]);
		if (s->v[i].log_rd >= 0)
			log_read(s, &s->v[i]);
		log_stop(s, &s->v[i]);
		if (s->v[i].log_fd >= 0)
			close(s->v[i].log_fd);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void supervisor_start(struct supervisor *s, const char *journal_path, uint64_t now)
{
	size_t i;

	(void)journal_path; /* replayed already: supervisor_replay_record() */
	if (!s->n)
		return;
	for (i = 0; i < s->n; i++) {
		struct service *v = &s->v[i];
		pid_t recorded = v->pid;
		pid_t pid;

		v->pid = 0;
		/* The instance lymphd started before it was restarted, if it
		 * runs: one that died meanwhile and waits to be reaped by
		 * another parent is started again now, not adopted dead. */
		pid = (recorded && proc_running(recorded) && !protect_pid(recorded))
			      ? recorded
			      : find_running(v);
		if (pid) {
			track_pid(s, v, pid, -1, 0);
			if (v->st.phase != SVC_STARTING) {
				svc_on_seen_running(v->conf, &v->st, now);
				journal_service(s, v, "adopted", NULL, 0);
			}
			continue;
		}
		switch (v->st.phase) {
		case SVC_BACKOFF:
		case SVC_BROKEN:
			/* Mid-backoff when lymphd stopped: keep the deadline. */
			journal_service(s, v, "resumed", NULL, 0);
			break;
		default:
			if (s->enforce) {
				do_start(s, v, now, "start");
			} else {
				v->st.phase = SVC_STOPPED;
				journal_service(s, v, "not-running", "observe mode: would start it",
						0);
			}
		}
	}
}

void supervisor_on_death(struct supervisor *s, const struct lymph_death *d,
			 const struct verdict *vd, const char *exe, uint64_t now)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct service *v = &s->v[i];
		int failure;

		if (!v->pid || (uint32_t)v->pid != d->task.pid)
			continue;
		v->last = (struct last_failure){
			.have = 1,
			.danger = vd->klass == LYMPH_CLASS_DANGER,
			.signo = d->signo,
			.si_code = d->si_code,
			.siginfo = !!(d->flags & LYMPH_DEATH_SIGINFO),
			.fault_addr = d->fault_addr,
			.exit_status = (d->exit_code >> 8) & 0xff,
			.pid = d->task.pid,
		};
		snprintf(v->last.reason, sizeof(v->last.reason), "%s",
			 lymph_reason_name(vd->reason));
		snprintf(v->last.exe, sizeof(v->last.exe), "%s", exe ? exe : "");
		failure = svc_death_is_failure(v->conf, vd->klass == LYMPH_CLASS_DANGER, d->signo,
					       (d->exit_code >> 8) & 0xff);
		if (v->is_child)
			waitpid(v->pid, NULL, WNOHANG); /* reap now if already a zombie */
		main_died(s, v, vd->klass == LYMPH_CLASS_DANGER, failure, now);
	}
}

/* The death was not seen by a sensor (lost record, or a child's status). */
static void died_unseen(struct supervisor *s, struct service *v, int have_status, int status,
			uint64_t now)
{
	int failure;

	v->last = (struct last_failure){ .have = 1, .pid = (uint32_t)v->pid };
	if (have_status && WIFSIGNALED(status)) {
		v->last.signo = (uint32_t)WTERMSIG(status);
		v->last.danger = lymph_crash_signal(v->last.signo);
		snprintf(v->last.reason, sizeof(v->last.reason), "%s",
			 v->last.danger ? "unverified" : "signal");
	} else if (have_status) {
		v->last.exit_status = (uint32_t)WEXITSTATUS(status);
		snprintf(v->last.reason, sizeof(v->last.reason), "exit");
	} else {
		snprintf(v->last.reason, sizeof(v->last.reason), "unknown");
	}
	failure = have_status ? svc_death_is_failure(v->conf, v->last.danger, v->last.signo,
						     v->last.exit_status)
			      : v->conf->restart_on != RESTART_ON_DANGER;
	main_died(s, v, v->last.danger, failure, now);
}

void supervisor_on_child(struct supervisor *s, pid_t pid, int status, uint64_t now)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct service *v = &s->v[i];

		if (v->reaping == pid) {
			v->reaping = 0;
			/* the start it held back is due now: the tick that
			 * follows this wakeup makes it */
			if (v->start_on_reap && v->st.deadline &&
			    (v->st.phase == SVC_BACKOFF || v->st.phase == SVC_BROKEN))
				v->st.deadline = now;
			v->start_on_reap = 0;
			return;
		}
		if (v->check_pid == pid) {
			v->check_pid = 0;
			if (v->st.phase == SVC_STARTING || v->st.phase == SVC_RUNNING) {
				int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;

				if (v->st.phase == SVC_STARTING && ok)
					verified(s, v, 1, "check_command succeeded", now);
				else if (v->st.phase == SVC_STARTING)
					not_ready(s, v, "check_command failed", now);
			}
			return;
		}
		if (v->launcher == pid) {
			v->launcher = 0;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				if (v->st.phase == SVC_STARTING && !v->check_pid)
					v->st.deadline = now; /* look for the daemon now */
				return;
			}
			/* The start command of a forking service failed. */
			v->pid = pid;
			died_unseen(s, v, 1, status, now);
			return;
		}
		if (v->unit_pid == pid) {
			v->unit_pid = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				journal_service(s, v, "restart", "error: systemctl restart failed",
						0);
			return;
		}
		if (v->pid == pid && v->is_child) {
			/* A sensor record, if any, was drained first (see daemon.c). */
			died_unseen(s, v, 1, status, now);
			return;
		}
	}
}

/* The main process's pidfd is readable: it is gone. */
static int on_pidfd(struct watch *w, uint32_t events)
{
	struct supervisor *s = w->ctx;
	struct service *v = watch_owner(w, struct service, pid_w);
	int status, fd = v->pidfd;
	pid_t pid = v->pid;

	(void)events;
	if (s->drain)
		s->drain(s->drain_ctx); /* may handle the death (v stays where it is) */
	if (v->pidfd != fd || v->pid != pid || fd < 0)
		return 0; /* it did: this pidfd is closed, or another instance runs */
	if (v->is_child) {
		if (waitpid(v->pid, &status, WNOHANG) == v->pid)
			died_unseen(s, v, 1, status, clock_mono_ns());
		return 0; /* else SIGCHLD will bring the status */
	}
	died_unseen(s, v, 0, 0, clock_mono_ns());
	return 0;
}

static int on_notify(struct watch *w, uint32_t events)
{
	(void)events;
	notify_read(w->ctx, watch_owner(w, struct service, notify_w), clock_mono_ns());
	return 0;
}

static int on_log(struct watch *w, uint32_t events)
{
	(void)events;
	log_read(w->ctx, watch_owner(w, struct service, log_w));
	return 0;
}

/* A check that outran check_timeout: killed with its session (it may have
 * forked), and the verification fails.  Its exit is reaped unmatched. */
static void check_timed_out(struct supervisor *s, struct service *v, uint64_t now)
{
	char msg[96];

	kill(-v->check_pid, SIGKILL); /* our unreaped child: the pid cannot be reused */
	kill(v->check_pid, SIGKILL);
	v->check_pid = 0;
	snprintf(msg, sizeof(msg), "check_command timed out after %.3g s",
		 (double)v->conf->check_timeout / 1e9);
	if (v->st.phase == SVC_STARTING)
		not_ready(s, v, msg, now);
}

void supervisor_tick(struct supervisor *s, uint64_t now)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct service *v = &s->v[i];

		if (v->check_pid && now >= v->check_deadline)
			check_timed_out(s, v, now);

		switch (svc_due(v->conf, &v->st, now)) {
		case SVC_ACT_START:
			if (s->enforce)
				do_start(s, v, now, "restart");
			break;
		case SVC_ACT_VERIFY: do_verify(s, v, now); break;
		case SVC_ACT_HEALTHY:
			journal_service(s, v, "healthy", "failure count reset after healthy uptime",
					0);
			break;
		case SVC_ACT_NONE: break;
		}
	}
}

void supervisor_set_drain(struct supervisor *s, void (*fn)(void *ctx), void *ctx)
{
	s->drain = fn;
	s->drain_ctx = ctx;
}

size_t supervisor_count_in_phase(const struct supervisor *s, enum svc_phase phase)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->v[i].st.phase == phase;
	return n;
}

void supervisor_set_backoff_factor(struct supervisor *s, double factor)
{
	s->backoff_factor = factor;
}

uint64_t supervisor_next_deadline(const struct supervisor *s)
{
	uint64_t best = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		uint64_t d = s->v[i].st.deadline;

		if (d && (!best || d < best))
			best = d;
		d = s->v[i].check_pid ? s->v[i].check_deadline : 0;
		if (d && (!best || d < best))
			best = d;
	}
	return best;
}

int supervisor_reload(struct supervisor *s, const struct policy *p, int enforce, uint64_t now)
{
	struct service *nv = NULL;
	size_t i, j;

	if (p->n_services) {
		nv = calloc(p->n_services, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
	}
	for (i = 0; i < p->n_services; i++) {
		for (j = 0; j < s->n; j++)
			if (s->v[j].conf && !strcmp(s->v[j].name, p->services[i].name))
				break;
		if (j < s->n) {
			nv[i] = s->v[j];
			/* The loop's events now name the new place. */
			if (s->loop) {
				watch_move(s->loop, &s->v[j].pid_w, &nv[i].pid_w);
				watch_move(s->loop, &s->v[j].notify_w, &nv[i].notify_w);
				watch_move(s->loop, &s->v[j].log_w, &nv[i].log_w);
			}
			s->v[j].conf = NULL; /* moved */
			s->v[j].pidfd = -1;
			s->v[j].notify_fd = -1;
			s->v[j].log_rd = s->v[j].log_fd = -1;
		} else {
			nv[i].pidfd = -1;
			nv[i].notify_fd = -1;
			nv[i].log_rd = nv[i].log_fd = -1;
			svc_watches_init(&nv[i]);
		}
		bind_conf(&nv[i], &p->services[i]);
	}
	/* Services no longer configured are forgotten, never killed. */
	for (j = 0; j < s->n; j++) {
		if (s->v[j].conf)
			forget_pid(s, &s->v[j]);
		notify_close(s, &s->v[j]);
		log_stop(s, &s->v[j]);
		if (s->v[j].log_fd >= 0)
			close(s->v[j].log_fd);
	}
	free(s->v);
	s->v = nv;
	s->n = p->n_services;
	s->enforce = enforce;
	if (s->n)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	for (i = 0; i < s->n; i++) {
		if (s->v[i].st.phase != SVC_UNKNOWN)
			continue;
		{
			pid_t pid = find_running(&s->v[i]);

			if (pid) {
				track_pid(s, &s->v[i], pid, -1, 0);
				svc_on_seen_running(s->v[i].conf, &s->v[i].st, now);
				journal_service(s, &s->v[i], "adopted", NULL, 0);
			} else if (enforce) {
				do_start(s, &s->v[i], now, "start");
			} else {
				s->v[i].st.phase = SVC_STOPPED;
				journal_service(s, &s->v[i], "not-running",
						"observe mode: would start it", 0);
			}
		}
	}
	return 0;
}

struct json_object *supervisor_json(const struct supervisor *s, uint64_t now)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct service *v = &s->v[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(v->name));
		json_object_object_add(o, "state",
				       json_object_new_string(svc_phase_name(v->st.phase)));
		json_object_object_add(o, "pid", json_object_new_int64(v->pid));
		json_object_object_add(o, "restarts", json_object_new_int64(v->st.restarts));
		json_object_object_add(o, "failures", json_object_new_int64(v->st.failures));
		json_object_object_add(o, "recent_failures", json_object_new_int64(v->st.n_recent));
		json_object_object_add(o, "delay_s",
				       json_object_new_double((double)v->st.delay / 1e9));
		json_object_object_add(
			o, "next_action_in_s",
			v->st.deadline ? json_object_new_double(
						 v->st.deadline > now
							 ? (double)(v->st.deadline - now) / 1e9
							 : 0.0)
				       : NULL);
		json_object_object_add(o, "last_failure",
				       v->last.have ? failure_json(&v->last) : NULL);
		json_object_array_add(arr, o);
	}
	return arr;
}

int supervisor_restart(struct supervisor *s, const char *name, uint64_t now)
{
	struct service *v = by_name(s, name);

	if (!v)
		return -ENOENT;
	if (!s->enforce) {
		journal_service(s, v, "would-restart", "observe mode: lymphctl restart", 0);
		return -EPERM;
	}
	if (v->pid && v->pidfd >= 0 && !protect_pid(v->pid)) {
		/* pidfd: the signal cannot hit a recycled pid. */
		v->admin_restart = 1;
		journal_service(s, v, "restart-requested", "SIGTERM sent", 0);
		if (syscall(SYS_pidfd_send_signal, v->pidfd, SIGTERM, NULL, 0) == 0)
			return 0;
		v->admin_restart = 0;
	}
	forget_pid(s, v);
	do_start(s, v, now, "restart");
	return 0;
}

int supervisor_reset(struct supervisor *s, const char *name, uint64_t now)
{
	struct service *v = by_name(s, name);

	if (!v)
		return -ENOENT;
	svc_reset(&v->st, now);
	journal_service(s, v, "reset", "lymphctl reset", 0);
	return 0;
}
