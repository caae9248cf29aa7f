// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet's pure parts, without root or network: the [fleet] section
 * (bad URL, K < 2, duplicates, file:line), the message decoder against
 * hostile input (malformed messages are refused, never crash; a random
 * mutation run over valid messages), the immune memory's rule (K distinct
 * hosts within W; one host alone never, however often it reports; it fades;
 * a release holds until it fades) and the per-host rate bucket.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "helpers.h"
#include "kselftest_harness.h"
#include "config.h"
#include "fleet_memory.h"
#include "fleet_msg.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(struct policy *p, struct cfg_errors *e, const char *text)
{
	int n;

	policy_defaults(p);
	memset(e, 0, sizeof(*e));
	n = config_parse(p, "t.conf", text, e);
	if (!n)
		n = config_finish(p, e);
	for (size_t i = 0; i < e->n; i++)
		th_diag("error: %s", e->msg[i]);
	return n;
}

TEST(no_fleet_section_is_off)
{
	struct policy p;
	struct cfg_errors e;

	ASSERT_EQ(0, parse(&p, &e, "[lymphd]\nmode = observe\n"));
	EXPECT_EQ(0, p.fleet.enabled);
	policy_free(&p);
	cfg_errors_free(&e);
}

TEST(valid_fleet_section)
{
	struct policy p;
	struct cfg_errors e;

	ASSERT_EQ(
		0,
		parse(&p, &e,
		      "[fleet]\nservers = nats://10.0.0.1:4222, tls://n2.example:4443 nats://[::1]:4222\n"
		      "name = prod\nhost = web-17\nk = 4\nwindow = 30m\nrate = 3\nburst = 9\n"
		      "vaccine = quarantine\nreplicas = 3\n"));
	EXPECT_EQ(1, p.fleet.enabled);
	EXPECT_EQ(3, p.fleet.n_servers);
	EXPECT_STREQ("tls://n2.example:4443", p.fleet.servers[1]);
	EXPECT_STREQ("prod", p.fleet.name);
	EXPECT_STREQ("web-17", p.fleet.host);
	EXPECT_EQ(4, p.fleet.k);
	EXPECT_EQ(1800ULL * 1000000000ULL, p.fleet.window);
	EXPECT_EQ(3, p.fleet.rate);
	EXPECT_EQ(FLEET_VACCINE_QUARANTINE, p.fleet.vaccine);
	EXPECT_EQ(3, p.fleet.replicas);
	policy_free(&p);
	cfg_errors_free(&e);
}

static void expect_one(struct __test_metadata *_metadata, const char *text, const char *where,
		       const char *want)
{
	struct policy p;
	struct cfg_errors e;

	EXPECT_EQ(1, parse(&p, &e, text));
	if (e.n == 1) {
		EXPECT_EQ(0, strncmp(e.msg[0], where, strlen(where)));
		EXPECT_NE(NULL, strstr(e.msg[0], want));
	}
	policy_free(&p);
	cfg_errors_free(&e);
}

TEST(bad_fleet_keys_are_file_line)
{
	expect_one(_metadata, "[fleet]\nservers = http://x:4222\n", "t.conf:2:", "not a NATS URL");
	expect_one(_metadata, "[fleet]\nservers = nats://x:99999\n", "t.conf:2:", "not a NATS URL");
	expect_one(_metadata, "[fleet]\nservers = nats://a b:4222/\n",
		   "t.conf:2:", "not a NATS URL");
	expect_one(_metadata, "[fleet]\nservers = nats://x:4222\n\nk = 1\n",
		   "t.conf:4:", "one host alone");
	expect_one(_metadata, "[fleet]\nservers = nats://x:4222\nk = 0\n", "t.conf:3:", "from 2");
	expect_one(_metadata, "[fleet]\nservers = nats://x:4222\nhost = a.b\n",
		   "t.conf:3:", "host");
	expect_one(_metadata, "[fleet]\nservers = nats://x:4222\ncredentials = x.creds\n",
		   "t.conf:3:", "absolute path");
	expect_one(_metadata, "[fleet]\nservers = nats://x:4222\nk = 3\nk = 4\n",
		   "t.conf:4:", "twice");
	expect_one(_metadata, "[fleet]\nservers = nats://x:4222\nbogus = 1\n",
		   "t.conf:3:", "unknown key");
	expect_one(_metadata, "[fleet]\nk = 3\n", "t.conf:1:", "needs 'servers");
	expect_one(_metadata, "[fleet]\nservers = nats://x:4222\nvaccine_factor = 0\n",
		   "t.conf:3:", "above 0");
}

static void sample_batch(struct fleet_batch *b)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->host, sizeof(b->host), "web-1");
	b->ts_ms = 1700000000000ULL;
	b->dropped = 3;
	b->n_deaths = 2;
	snprintf(b->deaths[0].sha256, FLEET_SHA_LEN, SHA_A);
	snprintf(b->deaths[0].build_id, FLEET_BUILDID_LEN, "deadbeef");
	snprintf(b->deaths[0].path, FLEET_PATH_LEN, "/usr/bin/x");
	b->deaths[0].signo = 11;
	b->deaths[0].fault_page_off = 0x123;
	b->deaths[0].count = 7;
	snprintf(b->deaths[1].sha256, FLEET_SHA_LEN, SHA_B);
	b->deaths[1].signo = 6;
	b->deaths[1].count = 1;
	b->n_decisions = 1;
	snprintf(b->decisions[0].type, 16, "quarantine");
	snprintf(b->decisions[0].action, 24, "would-quarantine");
	snprintf(b->decisions[0].sha256, FLEET_SHA_LEN, SHA_A);
}

TEST(batch_round_trip)
{
	struct fleet_batch *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
	char *text = NULL;

	ASSERT_NE(NULL, b);
	sample_batch(b);
	ASSERT_EQ(0, fleet_batch_encode(b, &text));
	ASSERT_EQ(0, fleet_batch_decode(text, strlen(text), c));
	EXPECT_STREQ("web-1", c->host);
	EXPECT_EQ(2, c->n_deaths);
	EXPECT_EQ(7, c->deaths[0].count);
	EXPECT_EQ(0x123, c->deaths[0].fault_page_off);
	EXPECT_STREQ("deadbeef", c->deaths[0].build_id);
	EXPECT_STREQ("would-quarantine", c->decisions[0].action);
	free(text);
	free(b);
	free(c);
}

/* Every one of these is refused whole. */
TEST(hostile_messages_are_refused)
{
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"null",
		"1",
		"\"x\"",
		"{}",
		"{\"v\":2,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"\",\"signal\":11,\"count\":1,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a.b\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"\",\"signal\":11,\"count\":1,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"0\",\"build_id\":\"\",\"path\":\"\",\"signal\":11,\"count\":1,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"abc\",\"path\":\"\",\"signal\":11,\"count\":1,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"rel\",\"signal\":11,\"count\":1,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"/a\\nb\",\"signal\":11,\"count\":1,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"\",\"signal\":65,\"count\":1,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"\",\"signal\":11,\"count\":-1,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"\",\"signal\":11,\"count\":1,\"first_ms\":3,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"\",\"signal\":\"11\",\"count\":1,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"\",\"signal\":11,\"count\":1,\"first_ms\":1,\"last_ms\":2} trailing",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"\",\"signal\":11,\"count\":1.5,\"first_ms\":1,\"last_ms\":2}",
		"{\"v\":1,\"host\":\"a\",\"sha256\":\"" SHA_A
		"\",\"build_id\":\"\",\"path\":\"\",\"signal\":11,\"count\":1,\"first_ms\":1,\"last_ms\":99999999999999999999999}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	};
	struct fleet_report r;
	struct fleet_batch *b = calloc(1, sizeof(*b));
	size_t i, n = FLEET_MSG_MAX + 1;
	char *big;

	ASSERT_NE(NULL, b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EBADMSG, fleet_report_decode(bad[i], strlen(bad[i]), &r))
		{
			TH_LOG("report %zu: %s", i, bad[i]);
		}
		EXPECT_EQ(-EBADMSG, fleet_batch_decode(bad[i], strlen(bad[i]), b))
		{
			TH_LOG("batch %zu", i);
		}
	}
	/* An embedded NUL, and more than the size limit. */
	big = malloc(n);
	ASSERT_NE(NULL, big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	EXPECT_EQ(-EBADMSG, fleet_batch_decode(big, n, b));
	EXPECT_EQ(-EBADMSG, fleet_report_decode("{\"v\":1}\0", 8, &r));
	free(big);
	free(b);
}

/* Byte flips, truncations and splices of valid messages: refused or valid,
 * never a crash, and whatever is accepted is within the limits. */
TEST(mutated_messages)
{
	struct fleet_batch *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
	struct fleet_report r = { .signo = 11, .count = 5, .first_ms = 1, .last_ms = 9 }, out;
	char *batch_text, *report_text, buf[8192];
	unsigned int seed = 42, accepted = 0, refused = 0;
	int i;

	ASSERT_NE(NULL, b);
	sample_batch(b);
	snprintf(r.host, sizeof(r.host), "h1");
	snprintf(r.sha256, sizeof(r.sha256), SHA_B);
	ASSERT_EQ(0, fleet_batch_encode(b, &batch_text));
	ASSERT_EQ(0, fleet_report_encode(&r, &report_text));
	for (i = 0; i < 200000; i++) {
		const char *src = i & 1 ? batch_text : report_text;
		size_t len = strlen(src), n = len, k;
		int flips = 1 + rand_r(&seed) % 4, rc;

		memcpy(buf, src, len);
		for (k = 0; k < (size_t)flips; k++) {
			size_t at = (size_t)rand_r(&seed) % len;

			switch (rand_r(&seed) % 4) {
			case 0: buf[at] = (char)(rand_r(&seed) & 0xff); break;
			case 1: n = at ? at : 1; break;
			case 2: buf[at] = "{}[]\":,0-9e\\"[rand_r(&seed) % 12]; break;
			default:
				memmove(buf + at, buf + at + 1, len - at - 1);
				n = n > 1 ? n - 1 : 1;
				break;
			}
		}
		if (i & 1) {
			rc = fleet_batch_decode(buf, n, c);
			if (!rc) {
				EXPECT_LE(c->n_deaths, FLEET_BATCH_MAX);
				EXPECT_TRUE(fleet_name_valid(c->host));
			}
		} else {
			rc = fleet_report_decode(buf, n, &out);
			if (!rc) {
				EXPECT_TRUE(fleet_sha_valid(out.sha256));
				EXPECT_LE(out.first_ms, out.last_ms);
			}
		}
		if (rc)
			refused++;
		else
			accepted++;
		EXPECT_TRUE(rc == 0 || rc == -EBADMSG);
	}
	th_diag("mutations: %u refused, %u still valid", refused, accepted);
	EXPECT_GT(refused, 100000);
	free(batch_text);
	free(report_text);
	free(b);
	free(c);
}

TEST(kv_keys)
{
	char key[160], sha[FLEET_SHA_LEN], host[FLEET_NAME_MAX];

	ASSERT_EQ(0, fleet_kv_key(key, sizeof(key), SHA_A, "web-1"));
	ASSERT_EQ(0, fleet_kv_key_parse(key, sha, host));
	EXPECT_STREQ(SHA_A, sha);
	EXPECT_STREQ("web-1", host);
	EXPECT_EQ(-EBADMSG, fleet_kv_key_parse(SHA_A, sha, host));
	EXPECT_EQ(-EBADMSG, fleet_kv_key_parse(SHA_A ".a.b", sha, host));
	EXPECT_EQ(-EBADMSG, fleet_kv_key_parse("x" SHA_A ".a", sha, host));
}

static void report(struct fleet_memory *m, const char *sha, const char *host, uint64_t at)
{
	struct fleet_report r = { .signo = 11, .count = 1, .first_ms = 0, .last_ms = at };

	snprintf(r.sha256, sizeof(r.sha256), "%s", sha);
	snprintf(r.host, sizeof(r.host), "%s", host);
	fleet_memory_report(m, &r, at);
}

#define W 60000ULL /* ms */

TEST(one_host_alone_never_vaccinates)
{
	struct fleet_memory m;
	struct fleet_change ch[8];
	int i;

	fleet_memory_init(&m);
	for (i = 0; i < 10000; i++)
		report(&m, SHA_A, "evil", 1000 + i);
	EXPECT_EQ(0, fleet_memory_eval(&m, 20000, 2, W, ch, 8));
	EXPECT_EQ(1, fleet_bad_distinct(fleet_memory_find(&m, SHA_A), 20000, W));
	/* Even a caller asking for K = 1 gets 2. */
	EXPECT_EQ(0, fleet_memory_eval(&m, 20000, 1, W, ch, 8));
	fleet_memory_free(&m);
}

TEST(k_hosts_vaccinate_then_fade)
{
	struct fleet_memory m;
	struct fleet_change ch[8];

	fleet_memory_init(&m);
	report(&m, SHA_A, "h1", 1000);
	report(&m, SHA_A, "h2", 2000);
	EXPECT_EQ(0, fleet_memory_eval(&m, 3000, 3, W, ch, 8));
	report(&m, SHA_A, "h3", 4000);
	ASSERT_EQ(1, fleet_memory_eval(&m, 5000, 3, W, ch, 8));
	EXPECT_EQ(FLEET_VACCINATE, ch[0].kind);
	EXPECT_STREQ(SHA_A, ch[0].bad->sha256);
	EXPECT_EQ(3, ch[0].bad->distinct);
	/* No second vaccination for the same binary. */
	EXPECT_EQ(0, fleet_memory_eval(&m, 6000, 3, W, ch, 8));
	/* h1's report leaves the window: 2 hosts left, it fades. */
	ASSERT_EQ(1, fleet_memory_eval(&m, 1000 + W + 1, 3, W, ch, 8));
	EXPECT_EQ(FLEET_FADE, ch[0].kind);
	/* A host reporting again brings it back. */
	report(&m, SHA_A, "h1", 1000 + W + 2);
	ASSERT_EQ(1, fleet_memory_eval(&m, 1000 + W + 3, 3, W, ch, 8));
	EXPECT_EQ(FLEET_VACCINATE, ch[0].kind);
	fleet_memory_free(&m);
}

TEST(release_holds_until_fade)
{
	struct fleet_memory m;
	struct fleet_change ch[8];

	fleet_memory_init(&m);
	report(&m, SHA_B, "h1", 1000);
	report(&m, SHA_B, "h2", 1000);
	ASSERT_EQ(1, fleet_memory_eval(&m, 2000, 2, W, ch, 8));
	EXPECT_EQ(0, fleet_memory_release(&m, SHA_B));
	EXPECT_EQ(-ENOENT, fleet_memory_release(&m, SHA_A));
	report(&m, SHA_B, "h3", 3000);
	EXPECT_EQ(0, fleet_memory_eval(&m, 4000, 2, W, ch, 8)); /* released: not again */
	/* Deleted reports (a host purges its key) count no more. */
	fleet_memory_forget(&m, SHA_B, "h1");
	fleet_memory_forget(&m, SHA_B, "h2");
	ASSERT_EQ(1, fleet_memory_eval(&m, 5000, 2, W, ch, 8));
	EXPECT_EQ(FLEET_FADE, ch[0].kind);
	report(&m, SHA_B, "h1", 6000);
	ASSERT_EQ(1, fleet_memory_eval(&m, 7000, 2, W, ch, 8));
	EXPECT_EQ(FLEET_VACCINATE, ch[0].kind);
	fleet_memory_free(&m);
}

TEST(memory_is_bounded)
{
	struct fleet_memory m;
	char sha[FLEET_SHA_LEN], host[32];
	int i;

	fleet_memory_init(&m);
	for (i = 0; i < FLEET_IDS_MAX + 100; i++) {
		snprintf(sha, sizeof(sha), "%064x", i);
		report(&m, sha, "h1", (uint64_t)i);
	}
	EXPECT_EQ(FLEET_IDS_MAX, m.n);
	EXPECT_EQ(100, m.evicted);
	for (i = 0; i < FLEET_HOSTS_PER_ID + 50; i++) {
		snprintf(host, sizeof(host), "h%d", i);
		report(&m, SHA_A, host, 100000 + (uint64_t)i);
	}
	EXPECT_EQ(FLEET_HOSTS_PER_ID, fleet_memory_find(&m, SHA_A)->n_hosts);
	fleet_memory_free(&m);
}

TEST(rate_bucket_bounds_messages)
{
	struct fleet_bucket b;
	uint64_t t = 1000000000ULL;
	int sent = 0, i;

	fleet_bucket_init(&b, 5, 20, t);
	/* 10 s of a storm, one attempt per ms: burst + rate x 10 s at most. */
	for (i = 0; i < 10000; i++)
		sent += fleet_bucket_take(&b, t + (uint64_t)i * 1000000ULL);
	EXPECT_LE(sent, 20 + 5 * 10 + 1);
	EXPECT_GE(sent, 20 + 5 * 9);
}

/* As root: `lymphd --check-config` refuses a credentials file others can
 * read, with the line of its key; the same file made private passes. */
TEST(check_config_credentials_perms)
{
	char dir[256], conf[512], creds[512], prog[PATH_MAX], want[1200];
	struct th_cmd *r = calloc(1, sizeof(*r));
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), "--check-config", conf,
			 NULL };
	FILE *f;

	ASSERT_NE(NULL, r);
	if (!th_is_root())
		SKIP(free(r); return, "needs root (the policy file must be root's)");
	ASSERT_EQ(0, th_mkdtemp(dir, sizeof(dir), "fleetconf"));
	snprintf(conf, sizeof(conf), "%s/lymph.conf", dir);
	snprintf(creds, sizeof(creds), "%s/fleet.creds", dir);
	f = fopen(creds, "w");
	ASSERT_NE(NULL, f);
	fputs("-----BEGIN NATS USER JWT-----\n", f);
	fclose(f);
	ASSERT_EQ(0, chmod(creds, 0644));
	f = fopen(conf, "w");
	ASSERT_NE(NULL, f);
	fprintf(f,
		"[lymphd]\nmode = observe\n\n[fleet]\nservers = nats://127.0.0.1:4222\ncredentials = %s\n",
		creds);
	fclose(f);
	ASSERT_EQ(0, chmod(conf, 0600));
	ASSERT_EQ(0, th_run(argv, NULL, r));
	EXPECT_TRUE(th_exited_nonzero(r->status));
	snprintf(want, sizeof(want), "%s:6: credentials %s", conf, creds);
	EXPECT_NE(NULL, strstr(r->err, want))
	{
		TH_LOG("stderr: %s", r->err);
	}
	EXPECT_NE(NULL, strstr(r->err, "mode 0644"));
	ASSERT_EQ(0, chmod(creds, 0600));
	ASSERT_EQ(0, th_run(argv, NULL, r));
	EXPECT_EQ(0, r->status)
	{
		TH_LOG("stderr: %s", r->err);
	}
	/* A bad URL and K < 2 through the same door, with their lines. */
	f = fopen(conf, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "[fleet]\nservers = nats://127.0.0.1:4222 nats:/broken\nk = 1\n");
	fclose(f);
	ASSERT_EQ(0, th_run(argv, NULL, r));
	EXPECT_TRUE(th_exited_nonzero(r->status));
	snprintf(want, sizeof(want), "%s:2: servers: 'nats:/broken'", conf);
	EXPECT_NE(NULL, strstr(r->err, want));
	snprintf(want, sizeof(want), "%s:3: k:", conf);
	EXPECT_NE(NULL, strstr(r->err, want));
	th_rmdir_flat(dir);
	free(r);
}

/* What a reload compares: the link's keys, not the vaccine's. */
TEST(same_link_ignores_the_vaccine)
{
	struct fleet_conf a, b;
	char msg[256];

	fleet_conf_defaults(&a);
	fleet_conf_defaults(&b);
	EXPECT_EQ(1, fleet_conf_same_link(&a, &b)); /* both off */
	fleet_conf_begin(&a, "t", 1);
	EXPECT_EQ(0, fleet_conf_same_link(&a, &b)); /* on vs off */
	fleet_conf_begin(&b, "t", 1);
	ASSERT_EQ(0,
		  fleet_conf_key(&a, "t", 2, "servers", "nats://10.0.0.1:4222", msg, sizeof(msg)));
	ASSERT_EQ(0,
		  fleet_conf_key(&b, "t", 2, "servers", "nats://10.0.0.1:4222", msg, sizeof(msg)));
	EXPECT_EQ(1, fleet_conf_same_link(&a, &b));
	ASSERT_EQ(0, fleet_conf_key(&b, "t", 3, "vaccine", "quarantine", msg, sizeof(msg)));
	ASSERT_EQ(0, fleet_conf_key(&b, "t", 4, "vaccine_factor", "0.5", msg, sizeof(msg)));
	EXPECT_EQ(1, fleet_conf_same_link(&a, &b));
	ASSERT_EQ(0, fleet_conf_key(&b, "t", 5, "k", "4", msg, sizeof(msg)));
	EXPECT_EQ(0, fleet_conf_same_link(&a, &b));
	fleet_conf_free(&a);
	fleet_conf_free(&b);
	fleet_conf_defaults(&a);
	fleet_conf_defaults(&b);
	fleet_conf_begin(&a, "t", 1);
	fleet_conf_begin(&b, "t", 1);
	ASSERT_EQ(0,
		  fleet_conf_key(&a, "t", 2, "servers", "nats://10.0.0.1:4222", msg, sizeof(msg)));
	ASSERT_EQ(0,
		  fleet_conf_key(&b, "t", 2, "servers", "nats://10.0.0.2:4222", msg, sizeof(msg)));
	EXPECT_EQ(0, fleet_conf_same_link(&a, &b));
	fleet_conf_free(&a);
	fleet_conf_free(&b);
}

TEST_HARNESS_MAIN
