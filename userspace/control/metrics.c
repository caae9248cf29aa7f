// SPDX-License-Identifier: GPL-2.0-only
/* Prometheus text exposition (see metrics.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "binpath.h"
#include "clock.h"
#include "crashtab.h"
#include "evloop.h"
#include "lymph/names.h"
#include "format.h"
#include "metrics.h"
#include "slots.h"
#include "weather.h"

/* Length of the UTF-8 sequence at s (1..4), 0 when it is not valid. */
static int utf8_len(const unsigned char *s)
{
	int n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* No overlong forms, surrogates or values past U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void metrics_label_value(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	while (*s) {
		int n = utf8_len(s);

		if (!n) {
			fputs("\xef\xbf\xbd", out);
			s++;
		} else if (*s == '\\') {
			fputs("\\\\", out), s++;
		} else if (*s == '"') {
			fputs("\\\"", out), s++;
		} else if (*s == '\n') {
			fputs("\\n", out), s++;
		} else {
			fwrite(s, 1, (size_t)n, out);
			s += n;
		}
	}
}

static void head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void value(FILE *out, double v)
{
	if (isnan(v))
		fputs(" NaN\n", out);
	else if (isinf(v))
		fputs(v > 0 ? " +Inf\n" : " -Inf\n", out);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(out, " %.0f\n", v);
	else
		fprintf(out, " %.6g\n", v);
}

/* name{label="val"} v */
static void sample1(FILE *out, const char *name, const char *label, const char *val, double v)
{
	fprintf(out, "%s{%s=\"", name, label);
	metrics_label_value(out, val);
	fputs("\"}", out);
	value(out, v);
}

static void sample0(FILE *out, const char *name, double v)
{
	fputs(name, out);
	value(out, v);
}

static void weather_metrics(FILE *out, const struct weather *w)
{
	struct weather_figures f;
	int r;
	size_t i;

	weather_figures(w, &f);
	head(out, "lymph_weather", "gauge",
	     "The system weather: 1 for the current word, 0 for the others.");
	for (r = 0; r < WEATHER_NWORDS; r++)
		sample1(out, "lymph_weather", "word", weather_name(r),
			f.word == (enum weather_word)r);
	head(out, "lymph_weather_level", "gauge",
	     "The system weather as a number: 0 sunny, 1 cloudy, 2 unsettled, 3 stormy.");
	sample0(out, "lymph_weather_level", f.word);
	head(out, "lymph_weather_changes_total", "counter", "Changes of the weather word.");
	sample0(out, "lymph_weather_changes_total", (double)f.changes);
	head(out, "lymph_weather_factor", "gauge",
	     "Multiplier the weather applies to a policy threshold (1 when sunny).");
	sample1(out, "lymph_weather_factor", "policy", "clone_budget", f.budget_factor);
	sample1(out, "lymph_weather_factor", "policy", "restart_backoff", f.backoff_factor);
	sample1(out, "lymph_weather_factor", "policy", "quarantine_threshold", f.quarantine_factor);

	head(out, "lymph_psi_some_avg10", "gauge",
	     "Percent of the last 10 s in which some task stalled on the resource (PSI).");
	for (r = 0; r < PSI_NRES; r++)
		if (!isnan(f.psi_some[r]))
			sample1(out, "lymph_psi_some_avg10", "resource", psi_res_name(r),
				f.psi_some[r]);
	head(out, "lymph_psi_full_avg10", "gauge",
	     "Percent of the last 10 s in which all non-idle tasks stalled on the resource (PSI).");
	for (r = 0; r < PSI_NRES; r++)
		if (!isnan(f.psi_full[r]))
			sample1(out, "lymph_psi_full_avg10", "resource", psi_res_name(r),
				f.psi_full[r]);
	head(out, "lymph_psi_trigger_firings_total", "counter",
	     "PSI trigger notifications received.");
	for (r = 0; r < PSI_NRES; r++)
		sample1(out, "lymph_psi_trigger_firings_total", "resource", psi_res_name(r),
			(double)f.psi_triggers[r]);

	head(out, "lymph_anomaly_sigmas", "gauge",
	     "Signed deviation, in standard deviations, of each current anomaly from its weekly baseline.");
	for (i = 0; i < f.n_anomalies; i++)
		sample1(out, "lymph_anomaly_sigmas", "name", f.anomalies[i].name, f.anomalies[i].z);

	head(out, "lymph_integrity_checks_total", "counter",
	     "Integrity spot checks of protected binaries.");
	sample0(out, "lymph_integrity_checks_total", (double)f.integrity_checks);
	head(out, "lymph_integrity_mismatches_total", "counter",
	     "Spot checks that found a protected binary changed.");
	sample0(out, "lymph_integrity_mismatches_total", (double)f.integrity_mismatches);
	head(out, "lymph_integrity_changed_binaries", "gauge",
	     "Protected binaries that differ from their record now.");
	sample0(out, "lymph_integrity_changed_binaries", (double)f.integrity_changed);
}

static void binary_metrics(FILE *out, const struct metrics_src *m)
{
	const struct crash_entry *top[256];
	size_t n, i, max = m->max_binaries ? m->max_binaries : 50;
	char ino[32];

	if (max > sizeof(top) / sizeof(top[0]))
		max = sizeof(top) / sizeof(top[0]);
	n = crashtab_top(m->crashes, m->now_ns, top, max);
	head(out, "lymph_binary_danger_deaths_total", "counter",
	     "Danger deaths of each binary since lymphd started (the busiest binaries only).");
	for (i = 0; i < n; i++) {
		const char *exe = m->names ? binpath_lookup(m->names, top[i]->dev, top[i]->ino)
					   : NULL;

		snprintf(ino, sizeof(ino), "%u:%lu", top[i]->dev, (unsigned long)top[i]->ino);
		fputs("lymph_binary_danger_deaths_total{exe=\"", out);
		metrics_label_value(out, exe ? exe : "");
		fputs("\",comm=\"", out);
		metrics_label_value(out, top[i]->comm);
		fprintf(out, "\",inode=\"%s\"}", ino);
		value(out, (double)top[i]->danger_deaths);
	}
	head(out, "lymph_binary_danger_deaths_per_second", "gauge",
	     "Decayed rate of danger deaths of each binary, per second.");
	for (i = 0; i < n; i++) {
		const char *exe = m->names ? binpath_lookup(m->names, top[i]->dev, top[i]->ino)
					   : NULL;

		snprintf(ino, sizeof(ino), "%u:%lu", top[i]->dev, (unsigned long)top[i]->ino);
		fputs("lymph_binary_danger_deaths_per_second{exe=\"", out);
		metrics_label_value(out, exe ? exe : "");
		fputs("\",comm=\"", out);
		metrics_label_value(out, top[i]->comm);
		fprintf(out, "\",inode=\"%s\"}", ino);
		value(out, decay_rate_per_min(&top[i]->rate, m->now_ns, m->crashes->half_life_ns) /
				   60.0);
	}
}

int metrics_text(FILE *out, const struct metrics_src *m)
{
	unsigned int k;

	head(out, "lymph_info", "gauge", "lymphd's version, event source and mode (always 1).");
	fputs("lymph_info{version=\"", out);
	metrics_label_value(out, m->version ? m->version : "");
	fputs("\",source=\"", out);
	metrics_label_value(out, m->source ? m->source : "none");
	fputs("\",mode=\"", out);
	metrics_label_value(out, m->mode ? m->mode : "");
	fputs("\"} 1\n", out);
	head(out, "lymph_uptime_seconds", "gauge", "Seconds since lymphd started.");
	sample0(out, "lymph_uptime_seconds", (double)(m->uptime_ns / 1000000) / 1e3);

	if (m->count) {
		head(out, "lymph_events_total", "counter",
		     "Records received from the sensors, by kind "
		     "(fork: every fork they counted, recorded or not).");
		for (k = LYMPH_EV_DEATH; k < LYMPH_EV_KIND_MAX; k++)
			sample1(out, "lymph_events_total", "kind", lymph_kind_name(k),
				(double)m->count->by_kind[k]);
		head(out, "lymph_deaths_total", "counter",
		     "Process deaths by class: danger (died badly) or programmed.");
		sample1(out, "lymph_deaths_total", "class", "danger", (double)m->count->danger);
		sample1(out, "lymph_deaths_total", "class", "programmed",
			(double)m->count->programmed);
	}
	head(out, "lymph_drops_total", "counter",
	     "Records the sensors lost because a ring was full.");
	sample0(out, "lymph_drops_total", (double)m->drops);
	if (m->weather)
		weather_metrics(out, m->weather);
	if (m->crashes)
		binary_metrics(out, m);
	if (m->extra)
		m->extra(out, m->extra_ctx);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

/* ---- the HTTP listener ------------------------------------------------------ */

#define HTTP_REQ_MAX	 4096
#define HTTP_CLIENTS_MAX 16
#define HTTP_READ_NS	 (5ULL * NSEC_PER_SEC) /* accept to the end of the request */
#define HTTP_SEND_NS	 (5ULL * NSEC_PER_SEC) /* then to the last byte of the reply */

int metrics_http_listen(const char *hostport)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char host[64];
	const char *colon;
	socklen_t len;
	unsigned long port;
	char *end;
	int fd, one = 1, err;

	memset(&ss, 0, sizeof(ss));
	if (!hostport)
		return -EINVAL;
	if (hostport[0] == '[') {
		const char *close = strchr(hostport, ']');

		if (!close || close[1] != ':' || (size_t)(close - hostport - 1) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(close - hostport - 1), hostport + 1);
		colon = close + 1;
	} else {
		colon = strrchr(hostport, ':');
		if (!colon || (size_t)(colon - hostport) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port > 65535)
		return -EINVAL;
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		/* Loopback only: the metrics name binaries and are not for the network. */
		if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
			return -EADDRNOTAVAIL;
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return -EADDRNOTAVAIL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* ---- its clients: non-blocking, served by lymphd's loop ------------------- */

struct http_client {
	struct watch w;
	int fd;
	int replying;	   /* the request is read: the reply is going out */
	uint64_t deadline; /* CLOCK_MONOTONIC ns: for the request, then the reply */
	uint64_t seq;	   /* accept order, for eviction */
	size_t have;
	char req[HTTP_REQ_MAX];
	char *out;
	size_t out_len, out_off;
};

struct metrics_http {
	struct evloop *loop;
	int lfd;
	struct watch listen_w;
	metrics_fill_fn fill;
	void *ctx;
	struct http_client *c[HTTP_CLIENTS_MAX];
	size_t n;
	uint64_t seq;
};

static void drop_client(struct metrics_http *h, size_t i)
{
	struct http_client *cl = h->c[i];

	watch_del(h->loop, &cl->w);
	close(cl->fd);
	free(cl->out);
	free(cl);
	h->c[i] = h->c[--h->n];
}

/* The whole reply, headers and body, queued in cl->out. */
static void http_reply(struct http_client *cl, int code, const char *status, const char *extra,
		       const char *body, size_t len, int head_only)
{
	size_t cap = 0;
	FILE *f = open_memstream(&cl->out, &cap);

	if (!f)
		return;
	fprintf(f,
		"HTTP/1.1 %d %s\r\n"
		"Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		"Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
		code, status, len, extra ? extra : "");
	if (!head_only)
		fwrite(body, 1, len, f);
	if (fclose(f)) {
		free(cl->out);
		cl->out = NULL;
		return;
	}
	cl->out_len = cap;
}

/* Answer what was read (all of it, or what came before the deadline). */
static void respond(struct metrics_http *h, struct http_client *cl)
{
	char method[8] = "", path[256] = "";
	int head;

	cl->req[cl->have] = 0;
	cl->replying = 1;
	cl->deadline = clock_mono_ns() + HTTP_SEND_NS;
	if (sscanf(cl->req, "%7s %255s HTTP/", method, path) != 2) {
		http_reply(cl, 400, "Bad Request", NULL, "bad request\n", 12, 0);
	} else if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		http_reply(cl, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", "GET only\n", 9,
			   0);
	} else {
		char *q = strchr(path, '?'), *body = NULL;
		size_t len = 0;
		FILE *f;

		head = !strcmp(method, "HEAD");
		if (q)
			*q = 0;
		if (strcmp(path, "/metrics") && strcmp(path, "/")) {
			http_reply(cl, 404, "Not Found", NULL, "try /metrics\n", 13, head);
		} else if ((f = open_memstream(&body, &len))) {
			int err = h->fill(f, h->ctx);

			if (fclose(f))
				err = -EIO;
			if (err)
				http_reply(cl, 500, "Internal Server Error", NULL, "", 0, head);
			else
				http_reply(cl, 200, "OK", NULL, body, len, head);
			free(body);
		}
	}
}

/* Send what is queued without waiting: 1 when all of it is out, 0 when
 * the socket is full (EPOLLOUT is watched), -errno when the client is gone. */
static int flush_client(struct metrics_http *h, struct http_client *cl)
{
	if (!cl->out)
		return -ENOMEM;
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!(cl->w.events & EPOLLOUT))
				watch_mod(h->loop, &cl->w, EPOLLOUT);
			return 0;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		cl->out_off += (size_t)n;
	}
	return 1;
}

/* Bytes of the request: answered once its headers are complete, or the
 * client stopped sending (EOF), or the request fills the buffer. */
static int read_request(struct metrics_http *h, struct http_client *cl)
{
	for (;;) {
		ssize_t n = recv(cl->fd, cl->req + cl->have, sizeof(cl->req) - 1 - cl->have,
				 MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -errno;
		cl->have += (size_t)n;
		cl->req[cl->have] = 0;
		if (!n || strstr(cl->req, "\r\n\r\n") || strstr(cl->req, "\n\n") ||
		    cl->have == sizeof(cl->req) - 1) {
			respond(h, cl);
			return flush_client(h, cl);
		}
	}
}

/* Serve a client: 1 when it is done with (drop it), 0 to keep it. */
static int serve(struct metrics_http *h, struct http_client *cl, uint32_t events)
{
	int err;

	if (!cl->replying)
		err = read_request(h, cl);
	else if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		err = flush_client(h, cl);
	else
		err = 0;
	return err != 0;
}

static int on_client(struct watch *w, uint32_t events)
{
	struct metrics_http *h = w->ctx;
	struct http_client *cl = watch_owner(w, struct http_client, w);
	ssize_t i = slot_of(h->c, h->n, cl);

	if (i >= 0 && serve(h, cl, events))
		drop_client(h, (size_t)i);
	return 0;
}

static int on_listen(struct watch *w, uint32_t events)
{
	struct metrics_http *h = w->ctx;
	int fd;

	(void)events;
	while ((fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct http_client *cl;
		size_t i, victim;

		if (h->n == HTTP_CLIENTS_MAX) {
			/* Full: the oldest client still sending its request makes room. */
			for (i = 0, victim = h->n; i < h->n; i++)
				if (!h->c[i]->replying &&
				    (victim == h->n || h->c[i]->seq < h->c[victim]->seq))
					victim = i;
			if (victim == h->n) {
				close(fd); /* every slot busy replying */
				continue;
			}
			drop_client(h, victim);
		}
		cl = calloc(1, sizeof(*cl));
		if (!cl || watch_add(h->loop, &cl->w, fd, EPOLLIN, on_client, h)) {
			free(cl);
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->seq = ++h->seq;
		cl->deadline = clock_mono_ns() + HTTP_READ_NS;
		h->c[h->n++] = cl;
		/* The request is usually there already. */
		if (serve(h, cl, 0))
			drop_client(h, h->n - 1);
	}
	return 0;
}

struct metrics_http *metrics_http_new(struct evloop *loop, int lfd, metrics_fill_fn fill, void *ctx)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return NULL;
	h->loop = loop;
	h->lfd = lfd;
	h->fill = fill;
	h->ctx = ctx;
	err = watch_add(loop, &h->listen_w, lfd, EPOLLIN, on_listen, h);
	if (err) {
		free(h);
		errno = -err;
		return NULL;
	}
	return h;
}

void metrics_http_tick(struct metrics_http *h, uint64_t now)
{
	size_t i = 0;

	while (h && i < h->n) {
		struct http_client *cl = h->c[i];

		if (now < cl->deadline) {
			i++;
			continue;
		}
		if (!cl->replying) {
			/* Its time to ask is up: answer what came (a 400 for nothing). */
			if (!serve(h, cl, 0)) {
				if (!cl->replying)
					respond(h, cl);
				if (flush_client(h, cl) == 0) {
					i++; /* the rest goes out on EPOLLOUT, by the deadline */
					continue;
				}
			}
		}
		drop_client(h, i); /* a reply not taken in time is dropped too */
	}
}

void metrics_http_free(struct metrics_http *h)
{
	if (!h)
		return;
	while (h->n)
		drop_client(h, h->n - 1);
	watch_del(h->loop, &h->listen_w);
	free(h);
}
