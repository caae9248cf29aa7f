// SPDX-License-Identifier: GPL-2.0-only
/*
 * The quarantine policy (userspace/quarantine.c), without root: per
 * (binary, uid) scores, the threshold, bans that double for repeat
 * offenders up to the cap, forgiveness after good behaviour, and the
 * weather factor.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "quarantine.h"

#define SEC 1000000000ULL

static const struct quarantine_conf conf = {
	.threshold = 3.0,
	.half_life = 3600 * SEC,
	.duration_min = 10 * SEC,
	.duration_max = 80 * SEC,
};

FIXTURE(q)
{
	struct qtable t;
};

FIXTURE_SETUP(q)
{
	ASSERT_EQ(0, qtable_init(&self->t, &conf, 64));
}

FIXTURE_TEARDOWN(q)
{
	qtable_free(&self->t);
}

TEST_F(q, threshold_crossed_by_that_uid_only)
{
	struct qkey a = { .ino = 42, .dev = 8, .uid = 1000 }, b = a;
	uint64_t now = 100 * SEC;

	b.uid = 1001;
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &a, now, 1.0));
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &b, now + 1, 1.0));
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &a, now + 2, 1.0));
	ASSERT_NE(NULL, qtable_on_danger(&self->t, &a, now + 3, 1.0));
	EXPECT_NE(NULL, qtable_active(&self->t, &a, now + 4));
	EXPECT_EQ(NULL, qtable_active(&self->t, &b, now + 4));
	EXPECT_TRUE(qtable_binary_active(&self->t, 8, 42, now + 4));
	EXPECT_FALSE(qtable_binary_active(&self->t, 8, 43, now + 4));
}

TEST_F(q, bans_double_up_to_the_cap)
{
	struct qkey k = { .ino = 7, .dev = 1, .uid = 1000 };
	uint64_t now = 1000 * SEC, want = conf.duration_min;
	int offence;

	for (offence = 1; offence <= 5; offence++) {
		const struct qentry *e = NULL;
		int i;

		for (i = 0; i < 3 && !e; i++)
			e = qtable_on_danger(&self->t, &k, now + i, 1.0);
		ASSERT_NE(NULL, e);
		EXPECT_EQ(want, e->until - e->since) TH_LOG("offence %d", offence);
		now = e->until + SEC;
		EXPECT_EQ(NULL, qtable_active(&self->t, &k, now));
		ASSERT_EQ(0, qtable_end(&self->t, &k));
		want = want * 2 > conf.duration_max ? conf.duration_max : want * 2;
	}
}

TEST_F(q, forgiven_after_good_behaviour)
{
	struct qkey k = { .ino = 9, .dev = 1, .uid = 1000 };
	const struct qentry *e = NULL;
	uint64_t now = 10 * SEC;
	int i;

	for (i = 0; i < 3 && !e; i++)
		e = qtable_on_danger(&self->t, &k, now + i, 1.0);
	ASSERT_NE(NULL, e);
	qtable_end(&self->t, &k);
	/* Ten caps' worth of good behaviour: the offence is forgotten. */
	now += 10 * conf.duration_max;
	e = NULL;
	for (i = 0; i < 3 && !e; i++)
		e = qtable_on_danger(&self->t, &k, now + i, 1.0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(conf.duration_min, e->until - e->since);
}

TEST_F(q, scores_decay)
{
	struct qkey k = { .ino = 5, .dev = 1, .uid = 0 };
	uint64_t now = SEC;

	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &k, now, 1.0));
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &k, now + 1, 1.0));
	/* Two half-lives later those two count as half a death. */
	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &k, now + 2 * conf.half_life, 1.0));
}

TEST_F(q, stormy_weather_lowers_the_threshold)
{
	struct qkey k = { .ino = 11, .dev = 1, .uid = 1000 };

	EXPECT_EQ(NULL, qtable_on_danger(&self->t, &k, SEC, 0.5));
	EXPECT_NE(NULL, qtable_on_danger(&self->t, &k, SEC + 1, 0.5));
}

TEST_F(q, restore_and_end)
{
	struct qkey k = { .ino = 13, .dev = 2, .uid = 1000 };

	ASSERT_NE(NULL, qtable_restore(&self->t, &k, 5 * SEC, 50 * SEC, 1.0, 1, 6 * SEC));
	EXPECT_NE(NULL, qtable_active(&self->t, &k, 20 * SEC));
	EXPECT_EQ(NULL, qtable_active(&self->t, &k, 51 * SEC));
	EXPECT_EQ(0, qtable_end(&self->t, &k));
	EXPECT_EQ(-ENOENT, qtable_end(&self->t, &k));
}

/* The earliest end of a quarantine in force is known without a scan
 * (qmanager_tick scans only from then on). */
TEST_F(q, next_until_is_the_earliest_end)
{
	struct qkey a = { .ino = 21, .dev = 2, .uid = 1000 }, b = a, c = a;
	const struct qentry *e = NULL;
	uint64_t i;

	b.uid = 1001;
	c.uid = 1002;
	EXPECT_EQ(0ULL, (unsigned long long)self->t.next_until);
	ASSERT_NE(NULL, qtable_restore(&self->t, &a, 5 * SEC, 500 * SEC, 1.0, 1, 6 * SEC));
	EXPECT_EQ(500 * SEC, self->t.next_until);
	for (i = 0; i < 3 && !e; i++)
		e = qtable_on_danger(&self->t, &b, 10 * SEC + i, 1.0);
	ASSERT_NE(NULL, e);
	EXPECT_GT(500 * SEC, e->until);
	EXPECT_EQ(e->until, self->t.next_until);
	/* A later end does not move it. */
	ASSERT_NE(NULL, qtable_restore(&self->t, &c, 5 * SEC, 900 * SEC, 1.0, 1, 20 * SEC));
	EXPECT_EQ(e->until, self->t.next_until);
}

TEST_F(q, full_table_keeps_active_quarantines)
{
	struct qkey hot = { .ino = 1, .dev = 1, .uid = 1 };
	const struct qentry *e = NULL;
	uint64_t i;

	for (i = 0; i < 3 && !e; i++)
		e = qtable_on_danger(&self->t, &hot, SEC + i, 1.0);
	ASSERT_NE(NULL, e);
	/* Many cold binaries: the table evicts them, never the ban. */
	for (i = 0; i < 1000; i++) {
		struct qkey k = { .ino = 100 + i, .dev = 1, .uid = 1 };

		qtable_on_danger(&self->t, &k, 2 * SEC + i, 1.0);
	}
	EXPECT_NE(NULL, qtable_active(&self->t, &hot, 3 * SEC));
}

/* One uid crashing many binaries keeps at most max_per_uid of them tracked:
 * its own coldest are forgotten first; when all are quarantined the next
 * is an overflow, counted, and other uids still get quarantines. */
TEST_F(q, per_uid_cap)
{
	static const struct quarantine_conf one = {
		.threshold = 1.0,
		.half_life = 3600 * SEC,
		.duration_min = 10 * SEC,
		.duration_max = 80 * SEC,
	};
	struct qtable t;
	uint64_t i, now = 100 * SEC;
	size_t n1000 = 0;

	ASSERT_EQ(0, qtable_init(&t, &one, 4096));
	t.max_per_uid = 8;
	for (i = 0; i < 8; i++) {
		struct qkey k = { .ino = 1 + i, .dev = 1, .uid = 1000 };

		EXPECT_NE(NULL, qtable_on_danger(&t, &k, now + i, 1.0));
	}
	/* all eight are quarantined: the ninth binary has no room */
	{
		struct qkey k = { .ino = 99, .dev = 1, .uid = 1000 },
			    o = { .ino = 99, .dev = 1, .uid = 1001 };

		EXPECT_EQ(NULL, qtable_on_danger(&t, &k, now + 20, 1.0));
		EXPECT_EQ((int)Q_OVF_UID, (int)t.overflow);
		EXPECT_EQ(1ULL, t.overflows[Q_OVF_UID]);
		EXPECT_NE(NULL, qtable_on_danger(&t, &o, now + 21, 1.0));
		EXPECT_EQ((int)Q_OVF_NONE, (int)t.overflow);
	}
	for (i = 0; i < t.ht.cap; i++) {
		const struct qentry *e = hashtab_at(&t.ht, i);

		n1000 += e->used && e->key.uid == 1000;
	}
	EXPECT_EQ(8UL, n1000);
	/* binaries whose quarantine is over make room for new ones */
	for (i = 0; i < 20; i++) {
		struct qkey k = { .ino = 1000 + i, .dev = 1, .uid = 1000 };

		now += 100 * SEC; /* past every earlier ban */
		EXPECT_NE(NULL, qtable_on_danger(&t, &k, now, 1.0));
	}
	EXPECT_EQ(1ULL, t.overflows[Q_OVF_UID]);
	qtable_free(&t);
}

/* A new binary's first danger death does not scan the whole table while
 * the table holds fewer entries than one uid may have (issue 15: the scan
 * read every slot, the first decision of a fresh lymphd took their
 * faults); from there on the per-uid cap counts, as per_uid_cap shows. */
TEST(no_scan_below_the_uid_cap)
{
	struct qkey again = { .ino = 1, .dev = 1, .uid = 1000 },
		    ninth = { .ino = 50, .dev = 1, .uid = 1000 };
	struct qtable t;
	uint64_t i;

	ASSERT_EQ(0, qtable_init(&t, &conf, 4096));
	t.max_per_uid = 8;
	for (i = 0; i < 8; i++) {
		struct qkey k = { .ino = 1 + i, .dev = 1, .uid = 1000 + (uint32_t)(i % 2) };

		qtable_on_danger(&t, &k, SEC + i, 1.0); /* below the threshold of 3 */
		EXPECT_NE(NULL, qtable_find(&t, &k));
	}
	EXPECT_EQ(8UL, t.ht.count);
	EXPECT_EQ(0ULL, t.scans);
	/* a known binary again: no scan either */
	qtable_on_danger(&t, &again, 2 * SEC, 1.0);
	EXPECT_EQ(8UL, t.ht.count);
	EXPECT_EQ(0ULL, t.scans);
	/* eight entries, eight per uid: the next new binary counts its uid's */
	qtable_on_danger(&t, &ninth, 3 * SEC, 1.0);
	EXPECT_NE(NULL, qtable_find(&t, &ninth));
	EXPECT_EQ(1ULL, t.scans);
	qtable_free(&t);
}

/* A table full of quarantines (of many uids) says so, rather than
 * dropping the next one silently. */
TEST(full_table_overflow)
{
	static const struct quarantine_conf one = {
		.threshold = 1.0,
		.half_life = 3600 * SEC,
		.duration_min = 10 * SEC,
		.duration_max = 80 * SEC,
	};
	struct qtable t;
	uint32_t uid;

	ASSERT_EQ(0, qtable_init(&t, &one, 64));
	t.max_per_uid = 4;
	for (uid = 0; uid < t.ht.max_cap / 2; uid++) {
		struct qkey k = { .ino = 7, .dev = 1, .uid = 1000 + uid };

		ASSERT_NE(NULL, qtable_on_danger(&t, &k, SEC + uid, 1.0));
	}
	{
		struct qkey k = { .ino = 7, .dev = 1, .uid = 99999 };

		EXPECT_EQ(NULL, qtable_on_danger(&t, &k, 2 * SEC, 1.0));
		EXPECT_EQ((int)Q_OVF_TABLE, (int)t.overflow);
		EXPECT_EQ(1ULL, t.overflows[Q_OVF_TABLE]);
	}
	qtable_free(&t);
}

/* argv as the tracker records it: NUL-separated. */
#define ARGS(s) s, sizeof(s) - 1

TEST(script_argument)
{
	EXPECT_STREQ("crash.py", qscript_arg(ARGS("python3\0crash.py\0"), 0));
	EXPECT_STREQ("t.py", qscript_arg(ARGS("/usr/bin/python3\0-u\0-W\0ignore\0t.py\0a\0"), 0));
	/* a shell's -e is errexit; -c is its only code on the command line */
	EXPECT_STREQ("./x.sh", qscript_arg(ARGS("/bin/sh\0-e\0-o\0errexit\0./x.sh\0"), 0));
	EXPECT_STREQ("x.sh", qscript_arg(ARGS("bash\0-ex\0x.sh\0"), 0));
	EXPECT_STREQ("app.jar", qscript_arg(ARGS("java\0-jar\0app.jar\0"), 0));
	EXPECT_STREQ(
		"/tmp/bin",
		qscript_arg(ARGS("/lib64/ld-linux-x86-64.so.2\0--library-path\0/x\0/tmp/bin\0ok\0"),
			    1));
	EXPECT_STREQ("-x.py", qscript_arg(ARGS("python3\0--\0-x.py\0"), 0));
	/* no file: code on the command line, a module, stdin, nothing */
	EXPECT_EQ(NULL, qscript_arg(ARGS("python3\0-c\0print(1)\0"), 0));
	EXPECT_EQ(NULL, qscript_arg(ARGS("python3\0-m\0http.server\0"), 0));
	EXPECT_EQ(NULL, qscript_arg(ARGS("bash\0-c\0echo hi\0"), 0));
	EXPECT_EQ(NULL, qscript_arg(ARGS("/bin/sh\0-xc\0echo hi\0"), 0));
	EXPECT_EQ(NULL, qscript_arg(ARGS("perl\0-e\0print 1\0"), 0));
	EXPECT_EQ(NULL, qscript_arg(ARGS("python3\0-\0"), 0));
	EXPECT_EQ(NULL, qscript_arg(ARGS("python3\0"), 0));
	EXPECT_EQ(NULL, qscript_arg(ARGS("bash\0"), 0));
	/* an argument cut short by the record's size is no file name */
	EXPECT_EQ(NULL, qscript_arg("python3\0/very/long/pa", 20, 0));
	EXPECT_EQ(NULL, qscript_arg(NULL, 0, 0));
}

TEST(script_path)
{
	char cwd[3][64] = { "work", "alice", "home" }; /* leaf first: /home/alice/work */
	char out[256];

	ASSERT_EQ(0, qscript_path("t.py", (const char(*)[64])cwd, 3, 1, out, sizeof(out)));
	EXPECT_STREQ("/home/alice/work/t.py", out);
	ASSERT_EQ(0, qscript_path("../x/t.py", (const char(*)[64])cwd, 3, 1, out, sizeof(out)));
	EXPECT_STREQ("/home/alice/work/../x/t.py", out);
	ASSERT_EQ(0, qscript_path("/opt/t.py", NULL, 0, 0, out, sizeof(out)));
	EXPECT_STREQ("/opt/t.py", out);
	ASSERT_EQ(0, qscript_path("t.py", (const char(*)[64])cwd, 0, 1, out, sizeof(out)));
	EXPECT_STREQ("/t.py", out);
	/* relative, and the directory was not known whole */
	EXPECT_EQ(-ENOENT, qscript_path("t.py", (const char(*)[64])cwd, 3, 0, out, sizeof(out)));
	EXPECT_EQ(-ENAMETOOLONG, qscript_path("t.py", (const char(*)[64])cwd, 3, 1, out, 10));
	EXPECT_EQ(-ENOENT, qscript_path(NULL, (const char(*)[64])cwd, 3, 1, out, sizeof(out)));
}

/* Each response is switched on by its own section or key. */
static void parse_policy(struct __test_metadata *_metadata, const char *text, struct policy *p)
{
	struct cfg_errors e = { 0 };

	policy_defaults(p);
	ASSERT_EQ(0, config_parse(p, "t.conf", text, &e)) TH_LOG("%s", e.n ? e.msg[0] : "");
	ASSERT_EQ(0, config_finish(p, &e)) TH_LOG("%s", e.n ? e.msg[0] : "");
	cfg_errors_free(&e);
}

TEST(enabled_keys)
{
	struct cfg_errors e = { 0 };
	struct policy p;

	/* supervision only: nothing else armed */
	parse_policy(_metadata, "[lymphd]\nmode = enforce\n[service a]\nstart = /bin/true\n", &p);
	EXPECT_EQ(1, p.enforce);
	EXPECT_EQ(0, p.quarantine.enabled);
	EXPECT_EQ(0, p.throttle.enabled);
	EXPECT_EQ(0, p.quarantine.root);
	policy_free(&p);
	/* a section arms its response */
	parse_policy(_metadata,
		     "[lymphd]\nmode = enforce\n[quarantine]\nthreshold = 3\n[throttle]\n", &p);
	EXPECT_EQ(1, p.quarantine.enabled);
	EXPECT_EQ(1, p.throttle.enabled);
	EXPECT_EQ(0, p.quarantine.root);
	policy_free(&p);
	/* enabled = no disarms it, root = yes takes root's binaries in */
	parse_policy(_metadata,
		     "[quarantine]\nenabled = no\nroot = yes\n[throttle]\nenabled = off\n", &p);
	EXPECT_EQ(0, p.quarantine.enabled);
	EXPECT_EQ(0, p.throttle.enabled);
	EXPECT_EQ(1, p.quarantine.root);
	policy_free(&p);
	/* a bad value is an error with its line */
	policy_defaults(&p);
	EXPECT_EQ(1, config_parse(&p, "t.conf", "[quarantine]\nenabled = maybe\n", &e));
	ASSERT_EQ(1UL, e.n);
	EXPECT_STREQ("t.conf:2: enabled: 'maybe' is not yes or no", e.msg[0]);
	cfg_errors_free(&e);
	policy_free(&p);
}

TEST_HARNESS_MAIN
