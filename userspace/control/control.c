// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: a unix stream socket, one request per connection
 * (see ctlproto.h), one JSON reply.  Only root may use it, checked with
 * SO_PEERCRED on every connection, not only by the file mode (a mode can be
 * loosened by mistake, the peer's credentials cannot be forged).
 *
 * It can never stall lymphd's loop: every client socket is non-blocking and
 * served by the event loop as its bytes arrive; a request must be complete
 * within CTL_DEADLINE_NS of the connection or the client is dropped; at
 * most CTL_CLIENTS_MAX clients are kept (a new one evicts the oldest that
 * has not sent its request yet).  A follower of "events" is a client kept
 * open with a bounded buffer: what does not fit is dropped, counted, and
 * reported to that follower, never waited for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "ctlproto.h"
#include "daemon.h"
#include "fleet.h"
#include "format.h"
#include "outfilter.h"

#define CTL_CLIENTS_MAX 64
#define CTL_DEADLINE_NS (2ULL * 1000000000ULL)	/* accept to last byte of the reply */
#define CTL_FOLLOW_MAX (256u << 10)		/* bytes queued for one follower */
#define CTL_FOLLOWERS_MAX 16			/* the other slots stay for requests */
#define CTL_HISTORY 64				/* records "events" shows first: those
						 * lymphd's verbosity prints */

enum cl_state { CL_READ, CL_WRITE, CL_FOLLOW };

struct ctl_client {
	int fd;
	enum cl_state state;
	uint64_t deadline;	/* CLOCK_MONOTONIC ns; 0: none (a follower) */
	uint64_t seq;		/* accept order, for eviction */
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	int epollout;		/* EPOLLOUT is armed */
	int json;		/* follower: JSON lines, else text */
	uint64_t dropped;	/* follower: records that did not fit */
	uint64_t dropped_told;	/* ... of which the follower was told */
	char in[CTL_REQUEST_MAX];
};

/* One record lymphd printed: a sensor's, or one it journaled (a decision). */
struct ctl_hist {
	union {
		struct lymph_hdr h;
		unsigned char raw[512];
	} rec;
	struct json_object *journaled;	/* a decision, or NULL */
	char exe[LYMPH_PATH_LEN];
	int has_exe, has_vd;
	struct verdict vd;
	enum out_item it;
};

struct control {
	struct ctl_client *c[CTL_CLIENTS_MAX];
	size_t n;
	size_t followers;
	uint64_t seq;
	uint64_t evicted, timed_out;
	struct ctl_hist hist[CTL_HISTORY];
	size_t hist_next, hist_n;
};

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
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) || listen(fd, SOMAXCONN)) {
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

/* ---- clients ------------------------------------------------------------- */

static struct control *ctl_of(struct daemon *d)
{
	if (!d->ctl)
		d->ctl = calloc(1, sizeof(*d->ctl));
	return d->ctl;
}

static void drop_client(struct daemon *d, size_t i)
{
	struct control *c = d->ctl;
	struct ctl_client *cl = c->c[i];

	epoll_ctl(d->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	if (cl->state == CL_FOLLOW)
		c->followers--;
	free(cl->out);
	free(cl);
	c->c[i] = c->c[--c->n];
}

static ssize_t find_client(const struct control *c, int fd)
{
	size_t i;

	for (i = 0; c && i < c->n; i++)
		if (c->c[i]->fd == fd)
			return (ssize_t)i;
	return -1;
}

void control_free(struct daemon *d)
{
	if (!d->ctl)
		return;
	while (d->ctl->n)
		drop_client(d, d->ctl->n - 1);
	for (size_t i = 0; i < CTL_HISTORY; i++)
		json_object_put(d->ctl->hist[i].journaled);
	free(d->ctl);
	d->ctl = NULL;
}

static int queue(struct ctl_client *cl, const char *s, size_t len)
{
	if (cl->out_off && cl->out_off == cl->out_len)
		cl->out_off = cl->out_len = 0;
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		char *grown;

		/* Move what is sent out of the way before growing. */
		if (cl->out_off) {
			memmove(cl->out, cl->out + cl->out_off, cl->out_len - cl->out_off);
			cl->out_len -= cl->out_off;
			cl->out_off = 0;
		}
		while (cap < cl->out_len + len)
			cap *= 2;
		if (cap != cl->out_cap) {
			grown = realloc(cl->out, cap);
			if (!grown)
				return -ENOMEM;
			cl->out = grown;
			cl->out_cap = cap;
		}
	}
	memcpy(cl->out + cl->out_len, s, len);
	cl->out_len += len;
	return 0;
}

static void reply(struct ctl_client *cl, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	queue(cl, s, strlen(s));
	queue(cl, "\n", 1);
	json_object_put(o);
}

static void reply_error(struct ctl_client *cl, const char *fmt, const char *arg)
{
	struct json_object *o = json_object_new_object();
	char msg[4096];

	snprintf(msg, sizeof(msg), fmt, arg);
	json_object_object_add(o, "error", json_object_new_string(msg));
	reply(cl, o);
}

static void reply_ok(struct ctl_client *cl, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_string(msg));
	reply(cl, o);
}

/* Send what is queued without waiting: 0, or -errno when the client is gone. */
static int flush_client(struct daemon *d, struct ctl_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		cl->out_off += (size_t)n;
	}
	if ((cl->out_off < cl->out_len) != cl->epollout) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = cl->fd };

		cl->epollout = cl->out_off < cl->out_len;
		if (cl->epollout)
			ev.events |= EPOLLOUT;
		epoll_ctl(d->epfd, EPOLL_CTL_MOD, cl->fd, &ev);
	}
	if (cl->out_off == cl->out_len)
		cl->out_off = cl->out_len = 0;
	return 0;
}

/* ---- commands ------------------------------------------------------------ */

typedef void (*ctl_handler)(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now);

static void do_status(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	struct json_object *o = status_json(d, now);

	(void)r;
	if (d->ctl) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "clients", json_object_new_uint64(d->ctl->n));
		json_object_object_add(c, "clients_max", json_object_new_uint64(CTL_CLIENTS_MAX));
		json_object_object_add(c, "followers", json_object_new_uint64(d->ctl->followers));
		json_object_object_add(c, "evicted", json_object_new_uint64(d->ctl->evicted));
		json_object_object_add(c, "timed_out", json_object_new_uint64(d->ctl->timed_out));
		json_object_object_add(o, "control", c);
	}
	reply(cl, o);
}

static void do_services(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	struct json_object *o = json_object_new_object();

	(void)r;
	json_object_object_add(o, "mode", json_object_new_string(d->enforce ? "enforce" : "observe"));
	json_object_object_add(o, "services", supervisor_json(&d->sup, now));
	reply(cl, o);
}

static void do_reload(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	char *why = NULL;

	(void)r;
	(void)now;
	if (daemon_reload(d, &why))
		reply_error(cl, "reload refused, the current policy is kept:\n%s", why ? why : "");
	else
		reply_ok(cl, "policy reloaded");
	free(why);
}

static void do_restart_reset(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	const char *name = r->arg[0].s;
	int restart = r->cmd == CTL_RESTART;
	int err = restart ? supervisor_restart(&d->sup, name, now) : supervisor_reset(&d->sup, name, now);

	if (err == -ENOENT)
		reply_error(cl, "no service named '%s' (see lymphctl services)", name);
	else if (err == -EPERM)
		reply_error(cl, "observe mode: '%s' was not restarted (the decision is journaled)", name);
	else
		reply_ok(cl, restart ? "restart started" : "failures reset");
}

static void do_metrics(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct json_object *o;

	(void)r;
	(void)now;
	if (!mem || daemon_metrics(d, mem)) {
		if (mem)
			fclose(mem);
		free(text);
		reply_error(cl, "failed to build the metrics%s", "");
		return;
	}
	fclose(mem);
	o = json_object_new_object();
	json_object_object_add(o, "metrics", json_object_new_string_len(text, (int)len));
	reply(cl, o);
	free(text);
}

static void do_throttles(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	(void)r;
	reply(cl, throttler_json(&d->thr, now));
}

static void do_release_lineage(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
			       uint64_t now)
{
	int err = throttler_release(&d->thr, r->arg[0].s, now);

	if (err == -EINVAL)
		reply_error(cl, "bad lineage '%s' (family:ID, session:ID, cgroup:ID or uid:ID)", r->arg[0].s);
	else if (err)
		reply_error(cl, "lineage '%s' is not throttled (see lymphctl throttles)", r->arg[0].s);
	else
		reply_ok(cl, "released");
}

static void do_release(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	long uid = r->n > 1 ? (long)r->arg[1].num : -1;	/* -1: every uid */
	int n = qmanager_release(&d->quar, r->arg[0].s, uid, now);

	if (n < 0)
		reply_error(cl, "cannot release '%s': no such file", r->arg[0].s);
	else if (n == 0)
		reply_error(cl, "'%s' is not quarantined (see lymphctl status)", r->arg[0].s);
	else
		reply_ok(cl, "released");
}

static void do_fleet(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	struct json_object *o = d->fleet ? fleet_json(d->fleet) : json_object_new_object();

	(void)r;
	(void)now;
	json_object_object_add(o, "here", fleet_here_json(&d->fleet_here));
	json_object_object_add(o, "configured", json_object_new_boolean(d->fleet != NULL));
	reply(cl, o);
	json_object_put(o);
}

static void do_fleet_release(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
			     uint64_t now)
{
	const char *arg = r->arg[0].s;
	int n = fleet_here_release(&d->fleet_here, d->fleet, arg, &d->journal);

	(void)now;
	if (n == -EINVAL)
		reply_error(cl, "'%s' is neither an absolute path nor a SHA-256 (64 hex digits)", arg);
	else if (n < 0 && n != -ENOENT)
		reply_error(cl, "cannot release '%s': no such file", arg);
	else if (n < 0)
		reply_error(cl, "'%s' is not vaccinated here (see lymphctl fleet)", arg);
	else
		reply_ok(cl, "released here until the fleet calms");
}

/* "HH:MM:SS.mmm " of a wall-clock time in ns, as lymphd prints it. */
static int put_clock(char *buf, size_t len, int64_t wall)
{
	time_t secs = (time_t)(wall / 1000000000);
	struct tm tm;

	localtime_r(&secs, &tm);
	return snprintf(buf, len, "%02d:%02d:%02d.%03d ", tm.tm_hour, tm.tm_min, tm.tm_sec,
			(int)((wall / 1000000) % 1000));
}

static int put_json(char *buf, size_t len, struct json_object *o)
{
	int n = snprintf(buf, len, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
									JSON_C_TO_STRING_NOSLASHESCAPE));

	return n >= (int)len ? -ENOSPC : n;
}

/*
 * One record as lymphd prints it on standard output: a text line with the
 * local time, or lymphd --json's line (a decision as {"event":"decision",
 * then the journal record}).  Its length, or -errno.
 */
static int format_line(const struct daemon *d, char *buf, size_t len, int json, const struct ctl_hist *h)
{
	const char *exe = h->has_exe ? h->exe : NULL;
	const struct verdict *vd = h->has_vd ? &h->vd : NULL;
	struct json_object *o;
	int n;

	if (h->journaled && json) {
		o = json_object_new_object();
		json_object_object_add(o, "event", json_object_new_string("decision"));
		json_object_object_foreach(h->journaled, key, val)
			json_object_object_add(o, key, json_object_get(val));
		n = put_json(buf, len, o);
		json_object_put(o);
		return n;
	}
	if (json) {
		o = format_json(&h->rec.h, exe, vd);
		if (!o)
			return -EINVAL;
		n = put_json(buf, len, o);
		json_object_put(o);
		return n;
	}
	if (h->journaled) {
		struct json_object *ts;
		double secs = json_object_object_get_ex(h->journaled, "ts", &ts) ?
			      json_object_get_double(ts) : (double)wall_now_ns() / 1e9;

		n = put_clock(buf, len, (int64_t)(secs * 1e9));
		n += (int)format_journal_text(buf + n, len - (size_t)n - 1, h->journaled);
	} else {
		n = put_clock(buf, len, (int64_t)h->rec.h.ts_ns + d->wall_offset_ns);
		n += (int)format_text(buf + n, len - (size_t)n - 1, &h->rec.h, exe, vd);
	}
	buf[n++] = '\n';
	buf[n] = 0;
	return n;
}

/* What lymphd's standard output would show of it: all with --json (but
 * for --events), else what its verbosity keeps. */
static int follower_wants(const struct daemon *d, int json, enum out_item it)
{
	return outfilter_wants(&d->opts.filter, it, json ? OUT_VERBOSE_MAX : d->opts.verbose);
}

/* What a follower missed, in its own format. */
static void tell_dropped(struct ctl_client *cl)
{
	char line[160];
	int n;

	if (cl->dropped == cl->dropped_told)
		return;
	if (cl->json)
		n = snprintf(line, sizeof(line), "{\"event\":\"events-dropped\",\"count\":%llu,"
			     "\"total\":%llu}\n", (unsigned long long)(cl->dropped - cl->dropped_told),
			     (unsigned long long)cl->dropped);
	else
		n = snprintf(line, sizeof(line), "-- %llu records dropped: this reader was too slow "
			     "(%llu in all) --\n", (unsigned long long)(cl->dropped - cl->dropped_told),
			     (unsigned long long)cl->dropped);
	if (cl->out_len - cl->out_off + (size_t)n <= CTL_FOLLOW_MAX && !queue(cl, line, (size_t)n))
		cl->dropped_told = cl->dropped;
}

/* Queue a line for a follower, or count it dropped: never wait. */
static void offer(struct ctl_client *cl, const char *line, size_t len)
{
	tell_dropped(cl);
	if (cl->dropped != cl->dropped_told || cl->out_len - cl->out_off + len > CTL_FOLLOW_MAX ||
	    queue(cl, line, len))
		cl->dropped++;
}

static void do_events(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	struct control *c = d->ctl;
	struct json_object *o = json_object_new_object();
	static char line[8192];
	size_t i;

	(void)now;
	if (r->follow && c->followers >= CTL_FOLLOWERS_MAX) {
		json_object_put(o);
		reply_error(cl, "already %s followers of lymphd's events: refused", "16");
		return;
	}
	json_object_object_add(o, "ok", json_object_new_string("events"));
	json_object_object_add(o, "follow", json_object_new_boolean(r->follow));
	json_object_object_add(o, "json", json_object_new_boolean(r->json));
	reply(cl, o);
	cl->json = r->json;
	/* The latest records first, oldest of them first. */
	for (i = 0; i < c->hist_n; i++) {
		const struct ctl_hist *h = &c->hist[(c->hist_next + CTL_HISTORY - c->hist_n + i) % CTL_HISTORY];
		int n;

		if (!follower_wants(d, cl->json, h->it))
			continue;
		n = format_line(d, line, sizeof(line), cl->json, h);
		if (n > 0)
			offer(cl, line, (size_t)n);
	}
	if (r->follow) {
		cl->state = CL_FOLLOW;
		cl->deadline = 0;
		c->followers++;
	}
}

static const ctl_handler handlers[CTL_CMD_MAX] = {
	[CTL_STATUS] = do_status,
	[CTL_SERVICES] = do_services,
	[CTL_RELOAD] = do_reload,
	[CTL_RESTART] = do_restart_reset,
	[CTL_RESET] = do_restart_reset,
	[CTL_METRICS] = do_metrics,
	[CTL_THROTTLES] = do_throttles,
	[CTL_RELEASE] = do_release,
	[CTL_RELEASE_LINEAGE] = do_release_lineage,
	[CTL_EVENTS] = do_events,
	[CTL_FLEET] = do_fleet,
	[CTL_FLEET_RELEASE] = do_fleet_release,
};

/* ---- the loop's side ----------------------------------------------------- */

static void handle(struct daemon *d, struct ctl_client *cl, size_t len)
{
	static struct ctl_req req;
	char err[256];

	cl->state = CL_WRITE;
	if (ctl_parse(cl->in, len, &req, err, sizeof(err)))
		reply_error(cl, "%s", err);
	else
		handlers[req.cmd](d, cl, &req, mono_now_ns());
}

/* Bytes from a client: the request once its line is complete. */
static int on_readable(struct daemon *d, struct ctl_client *cl)
{
	for (;;) {
		char *nl;
		ssize_t n;

		if (cl->state != CL_READ) {
			char sink[512];

			/* Nothing more is expected: a follower's hang-up shows as EOF. */
			n = recv(cl->fd, sink, sizeof(sink), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				return -EPIPE;
			if (n < 0)
				return 0;
			continue;
		}
		n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - 1 - cl->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -errno;
		if (n == 0) {
			/* Hung up: a request without its newline still counts. */
			if (!cl->in_len)
				return -EPIPE;
			handle(d, cl, cl->in_len);
			return flush_client(d, cl) ? -EPIPE : 1;
		}
		cl->in_len += (size_t)n;
		nl = memchr(cl->in, '\n', cl->in_len);
		if (nl) {
			handle(d, cl, (size_t)(nl - cl->in) - (nl > cl->in && nl[-1] == '\r'));
			return flush_client(d, cl);
		}
		if (cl->in_len == sizeof(cl->in) - 1) {
			cl->state = CL_WRITE;
			reply_error(cl, "request longer than %s bytes: refused", "8191");
			return flush_client(d, cl);
		}
	}
}

/* Done with a client once its reply is out (followers stay). */
static int finished(const struct ctl_client *cl)
{
	return cl->state == CL_WRITE && cl->out_off == cl->out_len;
}

void control_accept(struct daemon *d)
{
	struct control *c = ctl_of(d);
	struct ucred cred;
	socklen_t clen;
	int fd;

	if (!c)
		return;
	while ((fd = accept4(d->ctlfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		struct ctl_client *cl;
		size_t i, victim;

		if (c->n == CTL_CLIENTS_MAX) {
			/* Full: the oldest client still silent makes room. */
			for (i = 0, victim = c->n; i < c->n; i++)
				if (c->c[i]->state == CL_READ && (victim == c->n || c->c[i]->seq < c->c[victim]->seq))
					victim = i;
			if (victim == c->n) {
				close(fd);	/* every slot busy replying or following */
				c->evicted++;
				continue;
			}
			drop_client(d, victim);
			c->evicted++;
		}
		cl = calloc(1, sizeof(*cl));
		if (!cl || epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			free(cl);
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->seq = ++c->seq;
		cl->deadline = mono_now_ns() + CTL_DEADLINE_NS;
		c->c[c->n++] = cl;
		clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) || cred.uid != 0) {
			cl->state = CL_WRITE;
			reply_error(cl, "permission denied: %s", "lymphctl must be run as root");
			if (flush_client(d, cl) || finished(cl))
				drop_client(d, c->n - 1);
			continue;
		}
		/* The request is usually there already. */
		if (on_readable(d, cl) < 0 || finished(cl))
			drop_client(d, c->n - 1);
	}
}

int control_on_fd(struct daemon *d, int fd, uint32_t events)
{
	ssize_t i = find_client(d->ctl, fd);
	struct ctl_client *cl;
	int err = 0;

	if (i < 0)
		return 0;
	cl = d->ctl->c[i];
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		err = on_readable(d, cl);
	if (err >= 0 && (events & EPOLLOUT))
		err = flush_client(d, cl);
	if (err < 0 || finished(cl))
		drop_client(d, (size_t)i);
	return 1;
}

void control_tick(struct daemon *d, uint64_t now)
{
	struct control *c = d->ctl;
	size_t i = 0;

	while (c && i < c->n) {
		struct ctl_client *cl = c->c[i];

		if (cl->deadline && now >= cl->deadline) {
			c->timed_out++;
			drop_client(d, i);
			continue;
		}
		i++;
	}
}

void control_flush(struct daemon *d)
{
	struct control *c = d->ctl;
	size_t i = 0;

	if (!c || !c->followers)
		return;
	while (i < c->n) {
		struct ctl_client *cl = c->c[i];

		if (cl->state == CL_FOLLOW) {
			tell_dropped(cl);
			if (flush_client(d, cl)) {
				drop_client(d, i);
				continue;
			}
		}
		i++;
	}
}

/* To every follower that wants it, in its format; formatted once per format. */
static void publish(struct daemon *d, const struct ctl_hist *h)
{
	struct control *c = d->ctl;
	static char text[8192], json[8192];
	int nt = 0, nj = 0;
	size_t i;

	for (i = 0; c->followers && i < c->n; i++) {
		struct ctl_client *cl = c->c[i];

		if (cl->state != CL_FOLLOW || !follower_wants(d, cl->json, h->it))
			continue;
		if (cl->json && !nj)
			nj = format_line(d, json, sizeof(json), 1, h);
		if (!cl->json && !nt)
			nt = format_line(d, text, sizeof(text), 0, h);
		if (cl->json ? nj > 0 : nt > 0)
			offer(cl, cl->json ? json : text, (size_t)(cl->json ? nj : nt));
	}
}

/* The next history slot, emptied. */
static struct ctl_hist *hist_slot(struct control *c)
{
	struct ctl_hist *h = &c->hist[c->hist_next];

	json_object_put(h->journaled);
	h->journaled = NULL;
	c->hist_next = (c->hist_next + 1) % CTL_HISTORY;
	if (c->hist_n < CTL_HISTORY)
		c->hist_n++;
	return h;
}

void control_publish(struct daemon *d, const struct lymph_hdr *rec, const char *exe, const struct verdict *vd,
		     enum out_item it)
{
	struct control *c = ctl_of(d);
	struct ctl_hist *h;
	size_t len;

	if (!c || rec->size < sizeof(struct lymph_hdr))
		return;
	if (!follower_wants(d, 0, it)) {
		/* Not kept for the backlog (lymphd's own verbosity decides),
		 * only streamed to the JSON followers, who take everything. */
		struct ctl_hist tmp = { .it = it, .has_exe = exe != NULL, .has_vd = vd != NULL };

		if (!c->followers)
			return;
		len = rec->size < sizeof(tmp.rec.raw) ? rec->size : sizeof(tmp.rec.raw);
		memcpy(tmp.rec.raw, rec, len);
		tmp.rec.h.size = (uint16_t)len;
		if (exe)
			snprintf(tmp.exe, sizeof(tmp.exe), "%s", exe);
		if (vd)
			tmp.vd = *vd;
		publish(d, &tmp);
		return;
	}
	h = hist_slot(c);
	len = rec->size < sizeof(h->rec.raw) ? rec->size : sizeof(h->rec.raw);
	memcpy(h->rec.raw, rec, len);
	h->rec.h.size = (uint16_t)len;
	h->has_exe = exe != NULL;
	if (exe)
		snprintf(h->exe, sizeof(h->exe), "%s", exe);
	h->has_vd = vd != NULL;
	if (vd)
		h->vd = *vd;
	h->it = it;
	publish(d, h);
}

void control_publish_journaled(struct daemon *d, struct json_object *rec, enum out_item it)
{
	struct control *c = ctl_of(d);
	struct ctl_hist *h;

	if (!c)
		return;
	if (!follower_wants(d, 0, it)) {
		struct ctl_hist tmp = { .journaled = rec, .it = it };

		if (c->followers)
			publish(d, &tmp);
		return;
	}
	h = hist_slot(c);
	memset(&h->rec.h, 0, sizeof(h->rec.h));
	h->journaled = json_object_get(rec);
	h->has_exe = h->has_vd = 0;
	h->it = it;
	publish(d, h);
}
