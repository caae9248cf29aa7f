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
#include "clock.h"
#include "control.h"
#include "format.h"
#include "memtrim.h"
#include "outfilter.h"
#include "slots.h"

#define CTL_CLIENTS_MAX	  64
#define CTL_DEADLINE_NS	  (2ULL * 1000000000ULL) /* accept to last byte of the reply */
#define CTL_FOLLOW_MAX	  (256u << 10)		 /* bytes queued for one follower */
#define CTL_FOLLOWERS_MAX 16			 /* the other slots stay for requests */
#define CTL_HISTORY \
	64 /* records "events" shows first: those
						 * lymphd's verbosity prints */

enum cl_state {
	CL_READ,
	CL_WRITE,
	CL_FOLLOW
};

struct ctl_client {
	int fd;
	struct watch w; /* in lymphd's loop */
	enum cl_state state;
	uint64_t deadline; /* CLOCK_MONOTONIC ns; 0: none (a follower) */
	uint64_t seq;	   /* accept order, for eviction */
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	int epollout;	       /* EPOLLOUT is armed */
	int json;	       /* follower: JSON lines, else text */
	uint64_t dropped;      /* follower: records that did not fit */
	uint64_t dropped_told; /* ... of which the follower was told */
	char in[CTL_REQUEST_MAX];
};

/* One record lymphd printed: a sensor's, or one it journaled (a decision). */
struct ctl_hist {
	union {
		struct lymph_hdr h;
		unsigned char raw[512];
	} rec;
	struct json_object *journaled; /* a decision, or NULL */
	/* Or a decision's journal record as written (its bytes; a NUL
	 * after them): kept instead of its json-c object (~4 KiB a
	 * decision, whose 64 in the backlog grew the heap by a page a
	 * decision, each a fault on the way of the next line; issue 15) */
	char *line;
	char exe[LYMPH_PATH_LEN];
	int has_exe, has_vd;
	struct verdict vd;
	enum out_item it;
};

struct control {
	struct control_env env;
	struct watch listen_w;
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
		fprintf(stderr, "lymphd: failed to create the control socket: %s\n",
			strerror(-err));
		return err;
	}
	/* A socket file that nobody answers is left over from a crash. */
	if (!access(path, F_OK)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
			close(probe);
			close(fd);
			fprintf(stderr,
				"lymphd: another lymphd is running (it answers on %s); "
				"stop it first or use --socket=PATH\n",
				path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, SOMAXCONN)) {
		err = -errno;
		fprintf(stderr, "lymphd: failed to bind the control socket %s: %s\n", path,
			strerror(-err));
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

static int on_listen(struct watch *w, uint32_t events);

struct control *control_new(const struct control_env *env)
{
	struct control *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	c->env = *env;
	err = watch_add(c->env.loop, &c->listen_w, c->env.listen_fd, EPOLLIN, on_listen, c);
	if (err) {
		free(c);
		errno = -err;
		return NULL;
	}
	return c;
}

static void drop_client(struct control *c, size_t i)
{
	struct ctl_client *cl = c->c[i];

	watch_del(c->env.loop, &cl->w);
	close(cl->fd);
	if (cl->state == CL_FOLLOW)
		c->followers--;
	free(cl->out);
	free(cl);
	c->c[i] = c->c[--c->n];
}

void control_free(struct control *c)
{
	if (!c)
		return;
	while (c->n)
		drop_client(c, c->n - 1);
	watch_del(c->env.loop, &c->listen_w);
	for (size_t i = 0; i < CTL_HISTORY; i++) {
		json_object_put(c->hist[i].journaled);
		free(c->hist[i].line);
	}
	free(c);
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

void ctl_reply(struct ctl_client *cl, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);

	queue(cl, s, strlen(s));
	queue(cl, "\n", 1);
	json_object_put(o);
}

void ctl_reply_error(struct ctl_client *cl, const char *fmt, const char *arg)
{
	struct json_object *o = json_object_new_object();
	char msg[4096];

	snprintf(msg, sizeof(msg), fmt, arg);
	json_object_object_add(o, "error", json_object_new_string(msg));
	ctl_reply(cl, o);
}

void ctl_reply_ok(struct ctl_client *cl, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_string(msg));
	ctl_reply(cl, o);
}

/* Send what is queued without waiting: 0, or -errno when the client is gone. */
static int flush_client(struct control *c, struct ctl_client *cl)
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
		cl->epollout = cl->out_off < cl->out_len;
		watch_mod(c->env.loop, &cl->w, EPOLLIN | (cl->epollout ? EPOLLOUT : 0));
	}
	if (cl->out_off == cl->out_len)
		cl->out_off = cl->out_len = 0;
	return 0;
}

/* The control plane's own counters, for lymphctl status. */
struct json_object *control_status_json(const struct control *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "clients", json_object_new_uint64(c ? c->n : 0));
	json_object_object_add(o, "clients_max", json_object_new_uint64(CTL_CLIENTS_MAX));
	json_object_object_add(o, "followers", json_object_new_uint64(c ? c->followers : 0));
	json_object_object_add(o, "evicted", json_object_new_uint64(c ? c->evicted : 0));
	json_object_object_add(o, "timed_out", json_object_new_uint64(c ? c->timed_out : 0));
	return o;
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
	int n = snprintf(buf, len, "%s\n",
			 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));

	return n >= (int)len ? -ENOSPC : n;
}

/*
 * One record as lymphd prints it on standard output: a text line with the
 * local time, or lymphd --json's line (a decision as {"event":"decision",
 * then the journal record}).  Its length, or -errno.
 */
static int format_line(const struct control *c, char *buf, size_t len, int json,
		       const struct ctl_hist *h)
{
	const char *exe = h->has_exe ? h->exe : NULL;
	const struct verdict *vd = h->has_vd ? &h->vd : NULL;
	struct json_object *o, *journaled = h->journaled, *parsed = NULL;
	int n;

	/* {"type":...} -> {"event":"decision","type":...}: the bytes json-c
	 * gives for the record with "event" added first (lib/jsonw.h). */
	if (h->line && json) {
		n = snprintf(buf, len, "{\"event\":\"decision\",%s\n", h->line + 1);
		return n >= (int)len ? -ENOSPC : n;
	}
	if (h->line) {
		journaled = parsed = json_tokener_parse(h->line);
		if (!parsed)
			return -EINVAL;
	}
	if (journaled && json) {
		o = json_object_new_object();
		json_object_object_add(o, "event", json_object_new_string("decision"));
		json_object_object_foreach (journaled, key, val)
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
	if (journaled) {
		struct json_object *ts;
		double secs = json_object_object_get_ex(journaled, "ts", &ts)
				      ? json_object_get_double(ts)
				      : (double)clock_wall_ns() / 1e9;

		n = put_clock(buf, len, (int64_t)(secs * 1e9));
		n += (int)format_journal_text(buf + n, len - (size_t)n - 1, journaled);
		json_object_put(parsed);
	} else {
		n = put_clock(buf, len, (int64_t)h->rec.h.ts_ns + *c->env.wall_offset_ns);
		n += (int)format_text(buf + n, len - (size_t)n - 1, &h->rec.h, exe, vd);
	}
	buf[n++] = '\n';
	buf[n] = 0;
	return n;
}

/* What lymphd's standard output would show of it: all with --json (but
 * for --events), else what its verbosity keeps. */
static int follower_wants(const struct control *c, int json, enum out_item it)
{
	return outfilter_wants(c->env.filter, it, json ? OUT_VERBOSE_MAX : *c->env.verbose);
}

int control_followers_want(const struct control *c, enum out_item it)
{
	size_t i;

	for (i = 0; c && c->followers && i < c->n; i++)
		if (c->c[i]->state == CL_FOLLOW && follower_wants(c, c->c[i]->json, it))
			return 1;
	return 0;
}

/* What a follower missed, in its own format. */
static void tell_dropped(struct ctl_client *cl)
{
	char line[160];
	int n;

	if (cl->dropped == cl->dropped_told)
		return;
	if (cl->json)
		n = snprintf(line, sizeof(line),
			     "{\"event\":\"events-dropped\",\"count\":%llu,"
			     "\"total\":%llu}\n",
			     (unsigned long long)(cl->dropped - cl->dropped_told),
			     (unsigned long long)cl->dropped);
	else
		n = snprintf(line, sizeof(line),
			     "-- %llu records dropped: this reader was too slow "
			     "(%llu in all) --\n",
			     (unsigned long long)(cl->dropped - cl->dropped_told),
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

void control_events(struct control *c, struct ctl_client *cl, const struct ctl_req *r)
{
	struct json_object *o = json_object_new_object();
	static char line[8192];
	size_t i;

	if (r->follow && c->followers >= CTL_FOLLOWERS_MAX) {
		json_object_put(o);
		ctl_reply_error(cl, "already %s followers of lymphd's events: refused", "16");
		return;
	}
	json_object_object_add(o, "ok", json_object_new_string("events"));
	json_object_object_add(o, "follow", json_object_new_boolean(r->follow));
	json_object_object_add(o, "json", json_object_new_boolean(r->json));
	ctl_reply(cl, o);
	cl->json = r->json;
	/* The latest records first, oldest of them first. */
	for (i = 0; i < c->hist_n; i++) {
		const struct ctl_hist *h =
			&c->hist[(c->hist_next + CTL_HISTORY - c->hist_n + i) % CTL_HISTORY];
		int n;

		if (!follower_wants(c, cl->json, h->it))
			continue;
		n = format_line(c, line, sizeof(line), cl->json, h);
		if (n > 0)
			offer(cl, line, (size_t)n);
	}
	if (r->follow) {
		cl->state = CL_FOLLOW;
		cl->deadline = 0;
		c->followers++;
	}
}

/* ---- the loop's side ----------------------------------------------------- */

static void handle(struct control *c, struct ctl_client *cl, size_t len)
{
	static struct ctl_req req;
	char err[256];

	cl->state = CL_WRITE;
	if (ctl_parse(cl->in, len, &req, err, sizeof(err)))
		ctl_reply_error(cl, "%s", err);
	else
		c->env.dispatch(c->env.ctx, cl, &req, clock_mono_ns());
}

/* Bytes from a client: the request once its line is complete. */
static int on_readable(struct control *c, struct ctl_client *cl)
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
		n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - 1 - cl->in_len,
			 MSG_DONTWAIT);
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
			handle(c, cl, cl->in_len);
			return flush_client(c, cl) ? -EPIPE : 1;
		}
		cl->in_len += (size_t)n;
		nl = memchr(cl->in, '\n', cl->in_len);
		if (nl) {
			handle(c, cl, (size_t)(nl - cl->in) - (nl > cl->in && nl[-1] == '\r'));
			return flush_client(c, cl);
		}
		if (cl->in_len == sizeof(cl->in) - 1) {
			cl->state = CL_WRITE;
			ctl_reply_error(cl, "request longer than %s bytes: refused", "8191");
			return flush_client(c, cl);
		}
	}
}

/* Done with a client once its reply is out (followers stay). */
static int finished(const struct ctl_client *cl)
{
	return cl->state == CL_WRITE && cl->out_off == cl->out_len;
}

static int on_client(struct watch *w, uint32_t events);

/* The listening socket is readable: accept every pending client. */
static int on_listen(struct watch *w, uint32_t events)
{
	struct control *c = w->ctx;
	struct ucred cred;
	socklen_t clen;
	int fd;

	(void)events;
	while ((fd = accept4(c->env.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct ctl_client *cl;
		size_t i, victim;

		if (c->n == CTL_CLIENTS_MAX) {
			/* Full: the oldest client still silent makes room. */
			for (i = 0, victim = c->n; i < c->n; i++)
				if (c->c[i]->state == CL_READ &&
				    (victim == c->n || c->c[i]->seq < c->c[victim]->seq))
					victim = i;
			if (victim == c->n) {
				close(fd); /* every slot busy replying or following */
				c->evicted++;
				continue;
			}
			drop_client(c, victim);
			c->evicted++;
		}
		cl = calloc(1, sizeof(*cl));
		if (!cl || watch_add(c->env.loop, &cl->w, fd, EPOLLIN, on_client, c)) {
			free(cl);
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->seq = ++c->seq;
		cl->deadline = clock_mono_ns() + CTL_DEADLINE_NS;
		c->c[c->n++] = cl;
		clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) || cred.uid != 0) {
			cl->state = CL_WRITE;
			ctl_reply_error(cl, "permission denied: %s",
					"lymphctl must be run as root");
			if (flush_client(c, cl) || finished(cl))
				drop_client(c, c->n - 1);
			continue;
		}
		/* The request is usually there already. */
		if (on_readable(c, cl) < 0 || finished(cl))
			drop_client(c, c->n - 1);
	}
	return 0;
}

/* A client's socket is readable or writable. */
static int on_client(struct watch *w, uint32_t events)
{
	struct control *c = w->ctx;
	struct ctl_client *cl = watch_owner(w, struct ctl_client, w);
	ssize_t i = slot_of(c->c, c->n, cl);
	int err = 0;

	if (i < 0)
		return 0;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		err = on_readable(c, cl);
	if (err >= 0 && (events & EPOLLOUT))
		err = flush_client(c, cl);
	if (err < 0 || finished(cl))
		drop_client(c, (size_t)i);
	return 0;
}

void control_tick(struct control *c, uint64_t now)
{
	size_t i = 0;

	while (c && i < c->n) {
		struct ctl_client *cl = c->c[i];

		if (cl->deadline && now >= cl->deadline) {
			c->timed_out++;
			drop_client(c, i);
			continue;
		}
		i++;
	}
}

void control_flush(struct control *c)
{
	size_t i = 0;

	if (!c || !c->followers)
		return;
	while (i < c->n) {
		struct ctl_client *cl = c->c[i];

		if (cl->state == CL_FOLLOW) {
			tell_dropped(cl);
			if (flush_client(c, cl)) {
				drop_client(c, i);
				continue;
			}
		}
		i++;
	}
}

/* To every follower that wants it, in its format; formatted once per format. */
static void publish(struct control *c, const struct ctl_hist *h)
{
	static char text[8192], json[8192];
	int nt = 0, nj = 0;
	size_t i;

	for (i = 0; c->followers && i < c->n; i++) {
		struct ctl_client *cl = c->c[i];

		if (cl->state != CL_FOLLOW || !follower_wants(c, cl->json, h->it))
			continue;
		if (cl->json && !nj)
			nj = format_line(c, json, sizeof(json), 1, h);
		if (!cl->json && !nt)
			nt = format_line(c, text, sizeof(text), 0, h);
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
	free(h->line);
	h->line = NULL;
	c->hist_next = (c->hist_next + 1) % CTL_HISTORY;
	if (c->hist_n < CTL_HISTORY)
		c->hist_n++;
	return h;
}

void control_publish(struct control *c, const struct lymph_hdr *rec, const char *exe,
		     const struct verdict *vd, enum out_item it)
{
	struct ctl_hist *h;
	size_t len;

	if (!c || rec->size < sizeof(struct lymph_hdr))
		return;
	if (!follower_wants(c, 0, it)) {
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
		publish(c, &tmp);
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
	publish(c, h);
}

void control_prefault(struct control *c)
{
	if (c)
		mem_prefault(c->hist, sizeof(c->hist));
}

void control_publish_journaled(struct control *c, struct json_object *rec, const char *ser,
			       size_t ser_len, enum out_item it)
{
	struct ctl_hist *h;

	if (!c)
		return;
	if (!follower_wants(c, 0, it)) {
		struct ctl_hist tmp = { .journaled = rec, .it = it };

		if (c->followers)
			publish(c, &tmp);
		return;
	}
	h = hist_slot(c);
	memset(&h->rec.h, 0, sizeof(h->rec.h));
	/* Its bytes when they are the record's (an object, no "event" of
	 * its own to clash with the one put first), else the object. */
	if (ser && ser_len > 2 && ser[0] == '{' && ser[ser_len - 1] == '}' &&
	    !json_object_object_get_ex(rec, "event", NULL))
		h->line = strndup(ser, ser_len);
	if (!h->line)
		h->journaled = json_object_get(rec);
	h->has_exe = h->has_vd = 0;
	h->it = it;
	publish(c, h);
}
