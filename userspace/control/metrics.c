// SPDX-License-Identifier: GPL-2.0-only
/* Prometheus text exposition (see metrics.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "binpath.h"
#include "clock.h"
#include "crashtab.h"
#include "lymph/names.h"
#include "format.h"
#include "metrics.h"
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
	head(out, "lymph_weather", "gauge", "The system weather: 1 for the current word, 0 for the others.");
	for (r = 0; r < WEATHER_NWORDS; r++)
		sample1(out, "lymph_weather", "word", weather_name(r), f.word == (enum weather_word)r);
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
			sample1(out, "lymph_psi_some_avg10", "resource", psi_res_name(r), f.psi_some[r]);
	head(out, "lymph_psi_full_avg10", "gauge",
	     "Percent of the last 10 s in which all non-idle tasks stalled on the resource (PSI).");
	for (r = 0; r < PSI_NRES; r++)
		if (!isnan(f.psi_full[r]))
			sample1(out, "lymph_psi_full_avg10", "resource", psi_res_name(r), f.psi_full[r]);
	head(out, "lymph_psi_trigger_firings_total", "counter", "PSI trigger notifications received.");
	for (r = 0; r < PSI_NRES; r++)
		sample1(out, "lymph_psi_trigger_firings_total", "resource", psi_res_name(r),
			(double)f.psi_triggers[r]);

	head(out, "lymph_anomaly_sigmas", "gauge",
	     "Signed deviation, in standard deviations, of each current anomaly from its weekly baseline.");
	for (i = 0; i < f.n_anomalies; i++)
		sample1(out, "lymph_anomaly_sigmas", "name", f.anomalies[i].name, f.anomalies[i].z);

	head(out, "lymph_integrity_checks_total", "counter", "Integrity spot checks of protected binaries.");
	sample0(out, "lymph_integrity_checks_total", (double)f.integrity_checks);
	head(out, "lymph_integrity_mismatches_total", "counter",
	     "Spot checks that found a protected binary changed.");
	sample0(out, "lymph_integrity_mismatches_total", (double)f.integrity_mismatches);
	head(out, "lymph_integrity_changed_binaries", "gauge", "Protected binaries that differ from their record now.");
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
		const char *exe = m->names ? binpath_lookup(m->names, top[i]->dev, top[i]->ino) : NULL;

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
		const char *exe = m->names ? binpath_lookup(m->names, top[i]->dev, top[i]->ino) : NULL;

		snprintf(ino, sizeof(ino), "%u:%lu", top[i]->dev, (unsigned long)top[i]->ino);
		fputs("lymph_binary_danger_deaths_per_second{exe=\"", out);
		metrics_label_value(out, exe ? exe : "");
		fputs("\",comm=\"", out);
		metrics_label_value(out, top[i]->comm);
		fprintf(out, "\",inode=\"%s\"}", ino);
		value(out, decay_rate_per_min(&top[i]->rate, m->now_ns, m->crashes->half_life_ns) / 60.0);
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
		head(out, "lymph_events_total", "counter", "Records received from the sensors, by kind.");
		for (k = LYMPH_EV_DEATH; k < LYMPH_EV_KIND_MAX; k++)
			sample1(out, "lymph_events_total", "kind", lymph_kind_name(k), (double)m->count->by_kind[k]);
		head(out, "lymph_deaths_total", "counter",
		     "Process deaths by class: danger (died badly) or programmed.");
		sample1(out, "lymph_deaths_total", "class", "danger", (double)m->count->danger);
		sample1(out, "lymph_deaths_total", "class", "programmed", (double)m->count->programmed);
	}
	head(out, "lymph_drops_total", "counter", "Records the sensors lost because a ring was full.");
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

#define HTTP_REQ_MAX 4096
#define HTTP_READ_MS 200

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

static int64_t ms_now(void)
{
	return (int64_t)(clock_mono_ns() / NSEC_PER_MSEC);
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void http_reply(int fd, int code, const char *status, const char *extra, const char *body,
		       size_t len, int head_only)
{
	char hdr[256];
	int n;

	n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\n"
		     "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		     "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
		     code, status, len, extra ? extra : "");
	send_all(fd, hdr, (size_t)n);
	if (!head_only)
		send_all(fd, body, len);
}

int metrics_http_serve(int lfd, const struct metrics_src *m)
{
	char req[HTTP_REQ_MAX], method[8] = "", path[256] = "";
	struct timeval snd = { 1, 0 };
	size_t have = 0;
	int64_t deadline = ms_now() + HTTP_READ_MS;
	int fd, head;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
	/* The request line and headers, within HTTP_READ_MS. */
	while (have < sizeof(req) - 1) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - ms_now();
		ssize_t n;

		req[have] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n") || left <= 0 ||
		    poll(&pfd, 1, (int)left) <= 0)
			break;
		n = recv(fd, req + have, sizeof(req) - 1 - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	req[have] = 0;
	/* Replies go out on a blocking socket (bounded by SO_SNDTIMEO). */
	fcntl(fd, F_SETFL, 0);
	if (sscanf(req, "%7s %255s HTTP/", method, path) != 2) {
		http_reply(fd, 400, "Bad Request", NULL, "bad request\n", 12, 0);
	} else if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		http_reply(fd, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", "GET only\n", 9, 0);
	} else {
		char *q = strchr(path, '?'), *body = NULL;
		size_t len = 0;
		FILE *f;

		head = !strcmp(method, "HEAD");
		if (q)
			*q = 0;
		if (strcmp(path, "/metrics") && strcmp(path, "/")) {
			http_reply(fd, 404, "Not Found", NULL, "try /metrics\n", 13, head);
		} else if ((f = open_memstream(&body, &len))) {
			int err = metrics_text(f, m);

			fclose(f);
			if (err)
				http_reply(fd, 500, "Internal Server Error", NULL, "", 0, head);
			else
				http_reply(fd, 200, "OK", NULL, body, len, head);
			free(body);
		}
	}
	close(fd);
	return 0;
}
