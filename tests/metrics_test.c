// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus exposition (userspace/metrics.c), without root: the output
 * of a populated daemon state (counters, drops, per-binary table with
 * hostile paths, the weather) is checked by Prometheus's own parser,
 * `promtool check metrics` (Debian package prometheus), and by a strict
 * checker of the text format's grammar written here; label values with
 * quotes, backslashes, newlines and bytes that are not UTF-8 come back
 * intact (or as U+FFFD) after unescaping.
 *
 * metrics.c, binpath.c and the weather files are not in the Makefile's
 * CORE_SRCS yet: they are included here.
 */
#include <ctype.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <math.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "psi.h"
#include "baseline.h"
#include "integrity.h"
#include "weather.h"
#include "metrics.h"
#include "binpath.h"
#include "crashtab.h"
#include "clock.h"
#include "evloop.h"

#define SEC 1000000000ULL

static const char *const hostile[] = {
	"/usr/bin/plain", "/opt/we\"ird/q\"uote",   "/opt/back\\slash\\",
	"/opt/new\nline", "/opt/bad-\xff\xfe-utf8", "/opt/ütf-8 ✓",
};
#define N_HOSTILE (sizeof(hostile) / sizeof(hostile[0]))

struct state {
	struct counters count;
	struct crashtab crashes;
	struct binpath names;
	struct weather *w;
	struct policy pol;
	char dir[256];
};

static int state_init(struct state *s)
{
	uint8_t comm[LYMPH_COMM_LEN] = "cr\"ash\\er";
	uint64_t t = 100 * SEC;
	size_t i;
	int k, err;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < LYMPH_EV_KIND_MAX; k++)
		s->count.by_kind[k] = 1000u * (unsigned int)k;
	s->count.danger = 17;
	s->count.programmed = 123456789012ULL;
	if ((err = crashtab_init(&s->crashes, 64, 600 * SEC)) ||
	    (err = binpath_init(&s->names, 64)))
		return err;
	for (i = 0; i < N_HOSTILE; i++) {
		binpath_set(&s->names, 8, 100 + i, hostile[i]);
		for (k = 0; k <= (int)i; k++)
			crashtab_record(&s->crashes, 8, 100 + i, t, SIGSEGV, 0, comm);
	}
	/* A binary without a known path. */
	crashtab_record(&s->crashes, 9, 999, t, SIGABRT, 0, comm);
	policy_defaults(&s->pol);
	if ((err = th_mkdtemp(s->dir, sizeof(s->dir), "metrics")))
		return err;
	err = weather_init(&s->w, &s->pol.weather, s->dir, NULL, NULL, 0);
	if (err)
		return err;
	weather_set_activity(s->w, 1);
	{
		struct json_object *why = NULL, *ev = NULL;

		weather_tick(s->w, t, 1793577600LL, &why, &ev);
		json_object_put(why);
		json_object_put(ev);
	}
	return 0;
}

static void state_free(struct state *s)
{
	char cmd[300];

	weather_free(s->w);
	crashtab_free(&s->crashes);
	binpath_free(&s->names);
	policy_free(&s->pol);
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", s->dir);
	if (!strncmp(s->dir, "/tmp/lymph-", 11) && system(cmd))
		th_diag("failed to remove %s", s->dir);
}

/* The exposition as a string (caller frees). */
static char *expose(struct state *s)
{
	struct metrics_src m = {
		.count = &s->count,
		.drops = 42,
		.crashes = &s->crashes,
		.names = &s->names,
		.weather = s->w,
		.version = "0.1.0",
		.source = "bpf",
		.mode = "observe",
		.now_ns = 100 * SEC,
		.uptime_ns = 5 * SEC,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (metrics_text(f, &m)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/* ---- a strict checker of the text format, version 0.0.4 ------------------ */

struct family {
	char name[128];
	char type[16];
	int help, samples;
};

struct checker {
	struct family fam[128];
	int nfam;
	char series[1024][512];
	int nseries;
	char err[512];
	int line;
};

static bool name_ok(const char *s, size_t n, bool colon)
{
	size_t i;

	if (!n || isdigit((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || (colon && s[i] == ':')))
			return false;
	return true;
}

static int fail(struct checker *c, const char *msg, const char *text)
{
	snprintf(c->err, sizeof(c->err), "line %d: %s: %.80s", c->line, msg, text);
	return -1;
}

static struct family *family_of(struct checker *c, const char *name, size_t n)
{
	int i;

	for (i = 0; i < c->nfam; i++)
		if (strlen(c->fam[i].name) == n && !strncmp(c->fam[i].name, name, n))
			return &c->fam[i];
	return NULL;
}

/* Parse a label value at *p (after the opening quote) into out, checking
 * the escapes; advances past the closing quote. */
static int label_value(struct checker *c, const char **p, char *out, size_t outlen)
{
	const char *s = *p;
	size_t o = 0;

	while (*s && *s != '"') {
		char ch = *s;

		if (*s == '\n')
			return fail(c, "raw newline in a label value", s);
		if (*s == '\\') {
			s++;
			if (*s == 'n')
				ch = '\n';
			else if (*s == '\\' || *s == '"')
				ch = *s;
			else
				return fail(c, "bad escape in a label value", s - 1);
		}
		if (o + 1 < outlen)
			out[o++] = ch;
		s++;
	}
	if (*s != '"')
		return fail(c, "unterminated label value", *p);
	out[o] = 0;
	*p = s + 1;
	return 0;
}

static int check_sample(struct checker *c, const char *l, char labels_out[][2][256], int *nlab)
{
	const char *p = l, *name = l;
	size_t n;
	struct family *f;
	char *end, key[512];
	double v;
	int i;

	while (*p && *p != '{' && *p != ' ')
		p++;
	n = (size_t)(p - name);
	if (!name_ok(name, n, true))
		return fail(c, "bad metric name", l);
	f = family_of(c, name, n);
	if (!f) {
		/* histogram/summary suffixes are not used by lymph */
		return fail(c, "sample before its # TYPE", l);
	}
	if (f != &c->fam[c->nfam - 1])
		return fail(c, "family not contiguous", l);
	*nlab = 0;
	snprintf(key, sizeof(key), "%.*s{", (int)n, name);
	if (*p == '{') {
		p++;
		while (*p != '}') {
			const char *ln = p;
			char lv[256];

			while (*p && *p != '=')
				p++;
			if (!name_ok(ln, (size_t)(p - ln), false) || !strncmp(ln, "__", 2))
				return fail(c, "bad label name", ln);
			if (p[0] != '=' || p[1] != '"')
				return fail(c, "label without =\"", ln);
			p += 2;
			if (label_value(c, &p, lv, sizeof(lv)))
				return -1;
			for (i = 0; i < *nlab; i++)
				if (strlen(labels_out[i][0]) == (size_t)(strchr(ln, '=') - ln) &&
				    !strncmp(labels_out[i][0], ln, (size_t)(strchr(ln, '=') - ln)))
					return fail(c, "duplicate label", ln);
			if (*nlab < 8) {
				snprintf(labels_out[*nlab][0], 256, "%.*s",
					 (int)(strchr(ln, '=') - ln), ln);
				snprintf(labels_out[*nlab][1], 256, "%s", lv);
				(*nlab)++;
			}
			snprintf(key + strlen(key), sizeof(key) - strlen(key), "%.*s,",
				 (int)(p - ln), ln);
			if (*p == ',')
				p++;
			else if (*p != '}')
				return fail(c, "expected , or }", p);
		}
		p++;
	}
	if (*p != ' ')
		return fail(c, "no space before the value", p);
	p++;
	if (!strcmp(p, "NaN") || !strcmp(p, "+Inf") || !strcmp(p, "-Inf")) {
		v = 0;
	} else {
		errno = 0;
		v = strtod(p, &end);
		if (errno || end == p || (*end && *end != ' '))
			return fail(c, "bad value", p);
		if (*end == ' ') { /* optional timestamp */
			long long ts = strtoll(end + 1, &end, 10);

			(void)ts;
			if (*end)
				return fail(c, "bad timestamp", p);
		}
		if (!strcmp(f->type, "counter") && v < 0)
			return fail(c, "negative counter", l);
	}
	/* No series twice. */
	for (i = 0; i < c->nseries; i++)
		if (!strcmp(c->series[i], key))
			return fail(c, "duplicate series", l);
	if (c->nseries < 1024)
		snprintf(c->series[c->nseries++], sizeof(c->series[0]), "%s", key);
	f->samples++;
	return 0;
}

/* 0 when text is valid; c->err says why not. */
static int check_exposition(struct checker *c, char *text,
			    int (*on_sample)(const char *name, char labels[][2][256], int n,
					     const char *line, void *ctx),
			    void *ctx)
{
	char *save, *l;

	memset(c, 0, sizeof(*c));
	if (!text[0] || text[strlen(text) - 1] != '\n')
		return fail(c, "must end with a newline", "");
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		c->line++;
		if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7)) {
			const char *name = l + 7, *sp = strchr(name, ' ');
			struct family *f;

			if (!sp || !name_ok(name, (size_t)(sp - name), true))
				return fail(c, "bad metric name in a comment", l);
			f = family_of(c, name, (size_t)(sp - name));
			if (!f) {
				if (c->nfam == 128)
					return fail(c, "too many families", l);
				f = &c->fam[c->nfam++];
				snprintf(f->name, sizeof(f->name), "%.*s", (int)(sp - name), name);
			} else if (f != &c->fam[c->nfam - 1] || f->samples) {
				return fail(c, "HELP/TYPE after the family's samples", l);
			}
			if (l[2] == 'H') {
				if (f->help++)
					return fail(c, "two HELP lines", l);
			} else {
				static const char *const types[] = { "counter", "gauge",
								     "histogram", "summary",
								     "untyped" };
				size_t i;

				if (f->type[0])
					return fail(c, "two TYPE lines", l);
				for (i = 0; i < 5 && strcmp(sp + 1, types[i]); i++)
					;
				if (i == 5)
					return fail(c, "unknown type", l);
				snprintf(f->type, sizeof(f->type), "%s", sp + 1);
			}
			continue;
		}
		if (l[0] == '#')
			continue;
		if (!l[0])
			return fail(c, "empty line", l);
		{
			char labels[8][2][256];
			int n;

			if (check_sample(c, l, labels, &n))
				return -1;
			if (on_sample && on_sample(l, labels, n, l, ctx))
				return fail(c, "rejected by the test", l);
		}
	}
	return 0;
}

/* ---- tests --------------------------------------------------------------- */

FIXTURE(m)
{
	struct state s;
	char *text;
};

FIXTURE_SETUP(m)
{
	ASSERT_EQ(0, state_init(&self->s));
	self->text = expose(&self->s);
	ASSERT_NE(NULL, self->text);
}

FIXTURE_TEARDOWN(m)
{
	free(self->text);
	state_free(&self->s);
}

TEST_F(m, promtool_accepts_it)
{
	char path[300], cmd[600], out[4096];
	size_t n;
	FILE *f, *p;
	int rc;

	if (system("command -v promtool >/dev/null 2>&1"))
		SKIP(return,
			   "promtool not installed (Debian package prometheus; scripts/deps.sh installs it)");
	snprintf(path, sizeof(path), "%s/metrics.prom", self->s.dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs(self->text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' 2>&1", path);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	rc = pclose(p);
	EXPECT_EQ(0, rc) TH_LOG("promtool check metrics:\n%s", out);
	/* Lint findings are printed even when it exits 0: there must be none. */
	EXPECT_EQ(0u, n) TH_LOG("promtool check metrics:\n%s", out);
}

TEST_F(m, strict_grammar)
{
	struct checker *c = calloc(1, sizeof(*c));
	char *copy = strdup(self->text);
	int i;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, check_exposition(c, copy, NULL, NULL)) TH_LOG("%s", c->err);
	for (i = 0; i < c->nfam; i++) {
		EXPECT_EQ(1, c->fam[i].help) TH_LOG("%s without HELP", c->fam[i].name);
		EXPECT_NE(0, c->fam[i].type[0]) TH_LOG("%s without TYPE", c->fam[i].name);
		if (!strcmp(c->fam[i].type, "counter")) {
			size_t l = strlen(c->fam[i].name);

			EXPECT_TRUE(l > 6 && !strcmp(c->fam[i].name + l - 6, "_total"))
			TH_LOG("counter %s does not end in _total", c->fam[i].name);
		}
		EXPECT_EQ(0, strncmp(c->fam[i].name, "lymph_", 6));
	}
	free(copy);
	free(c);
}

struct seen {
	bool exe[N_HOSTILE];
	int weather_ones;
	bool stormy, drops, danger, fork;
};

static int on_sample(const char *line, char labels[][2][256], int n, const char *l, void *ctx)
{
	struct seen *s = ctx;
	int i;
	size_t k;

	(void)l;
	if (!strncmp(line, "lymph_binary_danger_deaths_total{", 33)) {
		for (i = 0; i < n; i++) {
			if (strcmp(labels[i][0], "exe"))
				continue;
			for (k = 0; k < N_HOSTILE; k++) {
				char want[256];

				snprintf(want, sizeof(want), "%s", hostile[k]);
				/* bytes that are not UTF-8 come out as U+FFFD */
				if (strstr(want, "\xff\xfe"))
					snprintf(want, sizeof(want),
						 "/opt/bad-\xef\xbf\xbd\xef\xbf\xbd-utf8");
				if (!strcmp(labels[i][1], want))
					s->exe[k] = true;
			}
		}
	}
	if (!strncmp(line, "lymph_weather{", 14) && line[strlen(line) - 1] == '1') {
		s->weather_ones++;
		s->stormy = strstr(line, "word=\"stormy\"") != NULL;
	}
	if (!strcmp(line, "lymph_drops_total 42"))
		s->drops = true;
	if (!strcmp(line, "lymph_deaths_total{class=\"danger\"} 17"))
		s->danger = true;
	if (!strcmp(line, "lymph_events_total{kind=\"fork\"} 4000"))
		s->fork = true;
	return 0;
}

TEST_F(m, content_and_escaping)
{
	struct checker *c = calloc(1, sizeof(*c));
	char *copy = strdup(self->text);
	struct seen s = { 0 };
	size_t k;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, check_exposition(c, copy, on_sample, &s)) TH_LOG("%s", c->err);
	for (k = 0; k < N_HOSTILE; k++)
		EXPECT_TRUE(s.exe[k]) TH_LOG("exe label for %s lost", hostile[k]);
	EXPECT_EQ(1, s.weather_ones);
	EXPECT_TRUE(s.stormy);
	EXPECT_TRUE(s.drops);
	EXPECT_TRUE(s.danger);
	EXPECT_TRUE(s.fork);
	EXPECT_NE(NULL, strstr(self->text, "lymph_weather_factor{policy=\"clone_budget\"} 0.5\n"));
	EXPECT_NE(NULL, strstr(self->text, "comm=\"cr\\\"ash\\\\er\""));
	free(copy);
	free(c);
}

TEST(checker_rejects_bad_text)
{
	static const char *const bad[] = {
		"x_total 1\n",					  /* no TYPE */
		"# TYPE x counter\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n", /* duplicate */
		"# TYPE x gauge\nx{a=\"\\t\"} 1\n",		  /* bad escape */
		"# TYPE x gauge\nx{a=\"1} 1\n",			  /* unterminated */
		"# TYPE x gauge\nx 1",				  /* no final newline */
		"# TYPE x gauge\nx one\n",			  /* bad value */
		"# TYPE 1x gauge\n",				  /* bad name */
		"# TYPE x gauge\n# TYPE y gauge\ny 1\nx 1\n",	  /* not contiguous */
	};
	struct checker *c = calloc(1, sizeof(*c));
	size_t i;

	ASSERT_NE(NULL, c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *t = strdup(bad[i]);

		EXPECT_NE(0, check_exposition(c, t, NULL, NULL)) TH_LOG("accepted: %s", bad[i]);
		free(t);
	}
	free(c);
}

TEST(without_weather_or_table)
{
	struct counters cnt = { 0 };
	struct metrics_src m = { .count = &cnt, .version = "0.1.0" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct checker *c = calloc(1, sizeof(*c));

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, metrics_text(f, &m));
	fclose(f);
	EXPECT_EQ(0, check_exposition(c, buf, NULL, NULL)) TH_LOG("%s", c->err);
	free(buf);
	free(c);
}

/* ---- the HTTP listener ------------------------------------------------------ */

TEST(http_listen_loopback_only)
{
	int fd;

	EXPECT_EQ(-EADDRNOTAVAIL, metrics_http_listen("0.0.0.0:9477"));
	EXPECT_EQ(-EADDRNOTAVAIL, metrics_http_listen("10.1.2.3:9477"));
	EXPECT_EQ(-EADDRNOTAVAIL, metrics_http_listen("[::]:9477"));
	EXPECT_EQ(-EINVAL, metrics_http_listen("127.0.0.1"));
	EXPECT_EQ(-EINVAL, metrics_http_listen("127.0.0.1:70000"));
	EXPECT_EQ(-EINVAL, metrics_http_listen("example.org:80"));
	EXPECT_EQ(-EINVAL, metrics_http_listen(NULL));
	fd = metrics_http_listen("127.0.0.1:0");
	ASSERT_GE(fd, 0) TH_LOG("%s", strerror(-fd));
	close(fd);
	fd = metrics_http_listen("localhost:0");
	ASSERT_GE(fd, 0);
	close(fd);
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sin_port);
}

static int fill_src(FILE *out, void *ctx)
{
	return metrics_text(out, ctx);
}

/* A client of the listener on lfd: the connected socket, or -1. */
static int http_connect(int lfd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int c;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port_of(lfd));
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c >= 0 && connect(c, (struct sockaddr *)&a, sizeof(a))) {
		close(c);
		c = -1;
	}
	return c;
}

/* Turn the loop as lymphd does until c has its whole reply (the server
 * closed it) or about 10 s went by; what came back. */
static char *http_collect(struct evloop *loop, int c)
{
	char *buf = calloc(1, 1 << 20);
	size_t have = 0;
	int i, herr;

	for (i = 0; buf && i < 100; i++) {
		ssize_t n;

		evloop_run_once(loop, 100, &herr);
		while ((n = recv(c, buf + have, (1 << 20) - 1 - have, MSG_DONTWAIT)) > 0)
			have += (size_t)n;
		if (n == 0)
			break;
	}
	return buf;
}

/* Send req to the listener, let lymphd's loop serve it, return what came back. */
static char *http_exchange(int lfd, const struct metrics_src *m, const char *req)
{
	struct evloop loop;
	struct metrics_http *h;
	char *buf = NULL;
	int c;

	if (evloop_init(&loop))
		return NULL;
	h = metrics_http_new(&loop, lfd, fill_src, (void *)m);
	c = http_connect(lfd);
	if (h && c >= 0 && (!req || write(c, req, strlen(req)) >= 0)) {
		if (!req) {
			/* Silent: nothing is answered before its deadline. */
			int herr;

			evloop_run_once(&loop, 100, &herr);
			metrics_http_tick(h, clock_mono_ns() + 60ULL * SEC);
		}
		buf = http_collect(&loop, c);
	}
	if (c >= 0)
		close(c);
	metrics_http_free(h);
	evloop_free(&loop);
	return buf;
}

TEST_F(m, http_serves_the_exposition)
{
	struct metrics_src src = {
		.count = &self->s.count,
		.drops = 42,
		.crashes = &self->s.crashes,
		.names = &self->s.names,
		.weather = self->s.w,
		.version = "0.1.0",
		.source = "bpf",
		.mode = "observe",
		.now_ns = 100 * SEC,
		.uptime_ns = 5 * SEC,
	};
	struct checker *c = calloc(1, sizeof(*c));
	int lfd = metrics_http_listen("127.0.0.1:0");
	char *r, *body;

	ASSERT_NE(NULL, c);
	ASSERT_GE(lfd, 0);
	r = http_exchange(lfd, &src, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, strncmp(r, "HTTP/1.1 200 OK\r\n", 17)) TH_LOG("%.200s", r);
	EXPECT_NE(NULL, strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	body = strstr(r, "\r\n\r\n");
	ASSERT_NE(NULL, body);
	body += 4;
	EXPECT_STREQ(self->text, body);
	EXPECT_EQ(0, check_exposition(c, body, NULL, NULL)) TH_LOG("%s", c->err);
	free(r);

	r = http_exchange(lfd, &src, "GET /secret HTTP/1.0\r\n\r\n");
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, strncmp(r, "HTTP/1.1 404 ", 13));
	free(r);
	r = http_exchange(lfd, &src, "POST /metrics HTTP/1.1\r\n\r\n");
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, strncmp(r, "HTTP/1.1 405 ", 13));
	free(r);
	r = http_exchange(lfd, &src, "HEAD /metrics HTTP/1.1\r\n\r\n");
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, strncmp(r, "HTTP/1.1 200 ", 13));
	EXPECT_EQ(0, strcmp(strstr(r, "\r\n\r\n"), "\r\n\r\n")); /* no body */
	free(r);

	/* A client that says nothing is answered at its deadline. */
	r = http_exchange(lfd, &src, NULL);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, strncmp(r, "HTTP/1.1 400 ", 13)) TH_LOG("%.200s", r);
	free(r);
	close(lfd);
	free(c);
}

/* Silent clients never hold the loop: a request behind them is answered
 * while they still wait, and past the cap the oldest silent one makes room. */
TEST_F(m, http_silent_clients_wait_alone)
{
	struct metrics_src src = {
		.count = &self->s.count,
		.crashes = &self->s.crashes,
		.names = &self->s.names,
		.version = "0.1.0",
		.now_ns = 100 * SEC,
		.uptime_ns = 5 * SEC,
	};
	int lfd = metrics_http_listen("127.0.0.1:0"), silent[16], c, i, herr;
	struct metrics_http *h;
	struct evloop loop;
	char buf[64], *r;

	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, evloop_init(&loop));
	h = metrics_http_new(&loop, lfd, fill_src, &src);
	ASSERT_NE(NULL, h);
	for (i = 0; i < 16; i++) {
		silent[i] = http_connect(lfd);
		ASSERT_GE(silent[i], 0);
	}
	for (i = 0; i < 5; i++)
		evloop_run_once(&loop, 50, &herr);
	/* A 17th client, with its request: served now, the first silent one evicted. */
	c = http_connect(lfd);
	ASSERT_GE(c, 0);
	ASSERT_EQ(18, write(c, "GET / HTTP/1.0\r\n\r\n", 18));
	r = http_collect(&loop, c);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, strncmp(r, "HTTP/1.1 200 OK\r\n", 17)) TH_LOG("%.200s", r);
	free(r);
	close(c);
	EXPECT_EQ(0, recv(silent[0], buf, sizeof(buf), MSG_DONTWAIT)); /* evicted: EOF */
	for (i = 1; i < 16; i++)
		EXPECT_EQ(-1, recv(silent[i], buf, sizeof(buf), MSG_DONTWAIT))
	TH_LOG("client %d", i);
	/* Their deadline: each gets its 400. */
	metrics_http_tick(h, clock_mono_ns() + 60ULL * SEC);
	for (i = 1; i < 16; i++) {
		r = http_collect(&loop, silent[i]);
		ASSERT_NE(NULL, r);
		EXPECT_EQ(0, strncmp(r, "HTTP/1.1 400 ", 13)) TH_LOG("client %d: %.100s", i, r);
		free(r);
	}
	for (i = 0; i < 16; i++)
		close(silent[i]);
	metrics_http_free(h);
	evloop_free(&loop);
	close(lfd);
}

TEST_F(m, curl_scrapes_it)
{
	struct metrics_src src = {
		.count = &self->s.count,
		.drops = 42,
		.crashes = &self->s.crashes,
		.names = &self->s.names,
		.weather = self->s.w,
		.version = "0.1.0",
		.now_ns = 100 * SEC,
		.uptime_ns = 5 * SEC,
	};
	char url[64], out[300], cmd[512];
	struct metrics_http *h;
	struct evloop loop;
	int lfd, status, herr;
	pid_t pid;

	if (system("command -v curl >/dev/null 2>&1"))
		SKIP(return, "curl not installed");
	lfd = metrics_http_listen("127.0.0.1:0");
	ASSERT_GE(lfd, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port_of(lfd));
	snprintf(out, sizeof(out), "%s/scraped.prom", self->s.dir);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		execlp("curl", "curl", "-sf", "--max-time", "10", "-o", out, url, (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(0, evloop_init(&loop));
	h = metrics_http_new(&loop, lfd, fill_src, &src);
	ASSERT_NE(NULL, h);
	/* lymphd's loop turns until curl is done. */
	while (waitpid(pid, &status, WNOHANG) == 0)
		evloop_run_once(&loop, 100, &herr);
	metrics_http_free(h);
	evloop_free(&loop);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(lfd);
	if (!system("command -v promtool >/dev/null 2>&1")) {
		snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' >&2", out);
		EXPECT_EQ(0, system(cmd));
	}
}

TEST_HARNESS_MAIN
