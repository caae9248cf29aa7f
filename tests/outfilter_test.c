// SPDX-License-Identifier: GPL-2.0-only
/*
 * What lymphd prints and logs (userspace/outfilter.c, logfmt.c and
 * format_journal_text), without root: the filter as a pure function of
 * (item, verbosity, --events), the syslog priorities, the journal's native
 * protocol entries with their LYMPH_* fields, and the readable line of a
 * journaled decision.
 */
#include <syslog.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "classify.h"
#include "format.h"
#include "logfmt.h"
#include "outfilter.h"

static const enum out_item level0[] = {
	OUT_DANGER,	OUT_SIGNAL,   OUT_OOM,	   OUT_DROP,	  OUT_SERVICE,
	OUT_QUARANTINE, OUT_THROTTLE, OUT_WEATHER, OUT_INTEGRITY, OUT_OTHER,
};
static const enum out_item level1[] = { OUT_PROGRAMMED, OUT_HELD, OUT_LYMPHD };
static const enum out_item level2[] = { OUT_FORK, OUT_EXEC, OUT_PRESSURE, OUT_SNAPSHOT };

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Without --events: level 0 always, -v adds level 1, -vv level 2. */
TEST(verbosity_alone)
{
	struct outfilter f;
	size_t i;
	int v;

	outfilter_init(&f);
	for (v = 0; v <= OUT_VERBOSE_MAX; v++) {
		for (i = 0; i < N(level0); i++)
			EXPECT_TRUE(outfilter_wants(&f, level0[i], v))
		TH_LOG("%s at -v x%d", out_item_name(level0[i]), v);
		for (i = 0; i < N(level1); i++)
			EXPECT_EQ(v >= 1, outfilter_wants(&f, level1[i], v))
		TH_LOG("%s at -v x%d", out_item_name(level1[i]), v);
		for (i = 0; i < N(level2); i++)
			EXPECT_EQ(v >= 2, outfilter_wants(&f, level2[i], v))
		TH_LOG("%s at -v x%d", out_item_name(level2[i]), v);
	}
	/* Out of range never prints. */
	EXPECT_FALSE(outfilter_wants(&f, OUT_ITEM_MAX, 3));
	EXPECT_FALSE(outfilter_wants(&f, (enum out_item) - 1, 3));
}

static struct outfilter parsed(const char *list)
{
	struct outfilter f;
	const char *bad;
	size_t bad_len;

	outfilter_init(&f);
	if (outfilter_parse(&f, list, &bad, &bad_len))
		memset(&f, 0xff, sizeof(f)); /* the test then fails loudly */
	return f;
}

/* A list of names: exactly those kinds, every record of them. */
TEST(names_replace_the_default)
{
	struct outfilter f = parsed("death,signal");

	EXPECT_TRUE(outfilter_wants(&f, OUT_DANGER, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_PROGRAMMED, 0)); /* whatever -v says */
	EXPECT_TRUE(outfilter_wants(&f, OUT_SIGNAL, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_SERVICE, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_WEATHER, 3));
	EXPECT_FALSE(outfilter_wants(&f, OUT_FORK, 3));

	f = parsed("danger");
	EXPECT_TRUE(outfilter_wants(&f, OUT_DANGER, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_PROGRAMMED, 3));

	f = parsed("decision");
	EXPECT_TRUE(outfilter_wants(&f, OUT_SERVICE, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_QUARANTINE, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_THROTTLE, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_OTHER, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_HELD, 3)); /* a sensor record, not a decision */
	EXPECT_FALSE(outfilter_wants(&f, OUT_DANGER, 3));

	f = parsed("throttle");
	EXPECT_TRUE(outfilter_wants(&f, OUT_THROTTLE, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_HELD, 0));
}

TEST(default_and_all)
{
	struct outfilter f = parsed("default,fork");

	EXPECT_TRUE(outfilter_wants(&f, OUT_DANGER, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_FORK, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_EXEC, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_PROGRAMMED, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_PROGRAMMED, 1)); /* default follows -v */

	f = parsed("all,-fork,-exec");
	EXPECT_TRUE(outfilter_wants(&f, OUT_PRESSURE, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_PROGRAMMED, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_FORK, 3));
	EXPECT_FALSE(outfilter_wants(&f, OUT_EXEC, 3));
}

/* A list that begins by hiding starts from the default. */
TEST(hide_only)
{
	struct outfilter f = parsed("-weather");

	EXPECT_TRUE(outfilter_wants(&f, OUT_DANGER, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_SERVICE, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_WEATHER, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_WEATHER, 3));
	EXPECT_TRUE(outfilter_wants(&f, OUT_FORK, 2));

	/* Hiding wins at any verbosity, JSON's included. */
	f = parsed("-fork,-exec");
	EXPECT_FALSE(outfilter_wants(&f, OUT_FORK, OUT_VERBOSE_MAX));
	EXPECT_TRUE(outfilter_wants(&f, OUT_PRESSURE, OUT_VERBOSE_MAX));
}

/* Left to right: the last word about a kind counts. */
TEST(order)
{
	struct outfilter f = parsed("-fork,fork");

	EXPECT_TRUE(outfilter_wants(&f, OUT_FORK, 0));
	f = parsed("danger,-death");
	EXPECT_FALSE(outfilter_wants(&f, OUT_DANGER, 3));
	f = parsed("death,-programmed");
	EXPECT_TRUE(outfilter_wants(&f, OUT_DANGER, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_PROGRAMMED, 3));
}

/* --events given twice reads as one list. */
TEST(repeated_option)
{
	struct outfilter f;
	const char *bad;
	size_t len;

	outfilter_init(&f);
	ASSERT_EQ(0, outfilter_parse(&f, "danger", &bad, &len));
	ASSERT_EQ(0, outfilter_parse(&f, "-signal,fork", &bad, &len));
	EXPECT_TRUE(outfilter_wants(&f, OUT_DANGER, 0));
	EXPECT_TRUE(outfilter_wants(&f, OUT_FORK, 0));
	EXPECT_FALSE(outfilter_wants(&f, OUT_SIGNAL, 3));
	EXPECT_FALSE(outfilter_wants(&f, OUT_SERVICE, 0)); /* still no default */
}

/* Bad input: -EINVAL, the culprit named, the filter untouched. */
TEST(bad_names)
{
	static const struct {
		const char *list, *culprit;
	} bad_lists[] = {
		{ "forks", "forks" }, { "death,bogus", "bogus" }, { "death,,fork", "" },
		{ "death,", "" },     { ",death", "" },		  { "-", "-" },
		{ "-all", "-all" },   { "-default", "-default" }, { "Death", "Death" },
		{ "", "" },
	};
	size_t i;

	for (i = 0; i < N(bad_lists); i++) {
		struct outfilter f, before;
		const char *bad = NULL;
		size_t len = 99;

		outfilter_init(&f);
		before = f;
		EXPECT_EQ(-EINVAL, outfilter_parse(&f, bad_lists[i].list, &bad, &len))
		TH_LOG("'%s' accepted", bad_lists[i].list);
		ASSERT_NE(NULL, bad);
		EXPECT_EQ(strlen(bad_lists[i].culprit), len) TH_LOG("'%s'", bad_lists[i].list);
		EXPECT_EQ(0, strncmp(bad, bad_lists[i].culprit, len))
		TH_LOG("'%s'", bad_lists[i].list);
		EXPECT_EQ(0, memcmp(&f, &before, sizeof(f)))
		TH_LOG("'%s' changed the filter", bad_lists[i].list);
	}
}

/* Every name the help lists is accepted. */
TEST(listed_names_parse)
{
	char names[512], *tok, *save = NULL;

	snprintf(names, sizeof(names), "%s", outfilter_names());
	for (tok = strtok_r(names, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		struct outfilter f;
		const char *bad;
		size_t len;

		outfilter_init(&f);
		EXPECT_EQ(0, outfilter_parse(&f, tok, &bad, &len)) TH_LOG("%s", tok);
	}
}

static struct lymph_death death(unsigned int signo, int si_code, int siginfo)
{
	struct lymph_death d;

	memset(&d, 0, sizeof(d));
	d.hdr.kind = LYMPH_EV_DEATH;
	d.hdr.size = sizeof(d);
	d.signo = signo;
	d.si_code = si_code;
	d.flags = siginfo ? LYMPH_DEATH_SIGINFO : 0;
	d.exit_code = signo & 0x7f;
	d.task.pid = 77;
	d.task.uid = 1000;
	d.sender_pid = 1;
	memcpy(d.task.comm, "crasher", 8);
	return d;
}

TEST(item_of_record)
{
	struct lymph_death segv = death(SIGSEGV, 1, 1), kill_segv = death(SIGSEGV, 0, 1);
	struct lymph_hdr h = { .size = sizeof(h) };
	struct verdict v1 = classify_death(&segv), v2 = classify_death(&kill_segv);

	EXPECT_EQ((int)OUT_DANGER, (int)out_item_of_record(&segv.hdr, &v1));
	EXPECT_EQ((int)OUT_PROGRAMMED, (int)out_item_of_record(&kill_segv.hdr, &v2));
	h.kind = LYMPH_EV_FORK;
	EXPECT_EQ((int)OUT_FORK, (int)out_item_of_record(&h, NULL));
	h.kind = LYMPH_EV_EXEC;
	EXPECT_EQ((int)OUT_EXEC, (int)out_item_of_record(&h, NULL));
	h.kind = LYMPH_EV_SIGNAL;
	EXPECT_EQ((int)OUT_SIGNAL, (int)out_item_of_record(&h, NULL));
	h.kind = LYMPH_EV_THROTTLE;
	EXPECT_EQ((int)OUT_HELD, (int)out_item_of_record(&h, NULL));
	h.kind = LYMPH_EV_DROP;
	EXPECT_EQ((int)OUT_DROP, (int)out_item_of_record(&h, NULL));
	/* A kind this lymphd does not know is shown, never dropped silently. */
	h.kind = 200;
	EXPECT_TRUE(outfilter_wants(&(struct outfilter){ .use_default = 1 },
				    out_item_of_record(&h, NULL), 0));
}

static struct json_object *jrec(const char *type, const char *action)
{
	struct json_object *o = json_object_new_object();

	if (type)
		json_object_object_add(o, "type", json_object_new_string(type));
	if (action)
		json_object_object_add(o, "action", json_object_new_string(action));
	return o;
}

TEST(item_of_journal)
{
	static const struct {
		const char *type, *action;
		enum out_item it;
	} c[] = {
		{ "service", "restart", OUT_SERVICE },
		{ "quarantine", "quarantine", OUT_QUARANTINE },
		{ "quarantine", "release", OUT_QUARANTINE },
		{ "throttle", "lift", OUT_THROTTLE },
		{ "weather", "change", OUT_WEATHER },
		{ "integrity", "changed", OUT_INTEGRITY },
		{ "lymphd", "start", OUT_LYMPHD },
		{ "service", "snapshot", OUT_SNAPSHOT },
		{ "quarantine", "snapshot", OUT_SNAPSHOT },
		{ "future", "thing", OUT_OTHER },
		{ NULL, "x", OUT_OTHER },
	};
	size_t i;

	for (i = 0; i < N(c); i++) {
		struct json_object *o = jrec(c[i].type, c[i].action);

		EXPECT_EQ((int)c[i].it, (int)out_item_of_journal(o))
		TH_LOG("%s %s", c[i].type, c[i].action);
		json_object_put(o);
	}
}

TEST(priorities)
{
	static const struct {
		enum out_item it;
		const char *type, *action, *result;
		int prio;
	} c[] = {
		{ OUT_DANGER, NULL, NULL, NULL, LOG_WARNING },
		{ OUT_PROGRAMMED, NULL, NULL, NULL, LOG_INFO },
		{ OUT_SIGNAL, NULL, NULL, NULL, LOG_NOTICE },
		{ OUT_DROP, NULL, NULL, NULL, LOG_WARNING },
		{ OUT_FORK, NULL, NULL, NULL, LOG_DEBUG },
		{ OUT_SERVICE, "service", "restart", "ok", LOG_NOTICE },
		{ OUT_SERVICE, "service", "broken", "ok", LOG_ERR },
		{ OUT_SERVICE, "service", "restart", "error: systemctl restart failed", LOG_ERR },
		{ OUT_SERVICE, "service", "verified", "alive", LOG_INFO },
		{ OUT_QUARANTINE, "quarantine", "quarantine", "ok", LOG_WARNING },
		{ OUT_QUARANTINE, "quarantine", "quarantine", "cannot enforce (fanotify): x",
		  LOG_ERR },
		{ OUT_QUARANTINE, "quarantine", "would-quarantine", "observe mode", LOG_NOTICE },
		{ OUT_QUARANTINE, "quarantine", "release", "ok", LOG_NOTICE },
		{ OUT_THROTTLE, "throttle", "throttle", "pinned", LOG_WARNING },
		{ OUT_THROTTLE, "throttle", "lift", "calm", LOG_NOTICE },
		{ OUT_INTEGRITY, "integrity", "changed", "the protected binary is gone", LOG_CRIT },
		{ OUT_LYMPHD, "lymphd", "start", NULL, LOG_INFO },
	};
	size_t i;

	for (i = 0; i < N(c); i++) {
		struct json_object *o = jrec(c[i].type, c[i].action);

		if (c[i].result)
			json_object_object_add(o, "result", json_object_new_string(c[i].result));
		EXPECT_EQ(c[i].prio, log_priority(c[i].it, o))
		TH_LOG("case %zu: %s %s", i, out_item_name(c[i].it),
		       c[i].action ? c[i].action : "");
		json_object_put(o);
	}
	{
		struct json_object *o = jrec("weather", "change");

		json_object_object_add(o, "to", json_object_new_string("stormy"));
		EXPECT_EQ(LOG_WARNING, log_priority(OUT_WEATHER, o));
		json_object_object_add(o, "to", json_object_new_string("cloudy"));
		EXPECT_EQ(LOG_NOTICE, log_priority(OUT_WEATHER, o));
		json_object_put(o);
	}
}

TEST(field_names)
{
	char n[80];

	EXPECT_EQ(11UL, log_field_name(n, sizeof(n), "LYMPH_", "class"));
	EXPECT_STREQ("LYMPH_CLASS", n);
	log_field_name(n, sizeof(n), "LYMPH_", "si_code_name");
	EXPECT_STREQ("LYMPH_SI_CODE_NAME", n);
	log_field_name(n, sizeof(n), "LYMPH_WHY_", "sender-pid.x");
	EXPECT_STREQ("LYMPH_WHY_SENDER_PID_X", n);
	/* journald's trusted fields start with '_': never ours */
	EXPECT_EQ(0UL, log_field_name(n, sizeof(n), NULL, "_PID"));
	/* at most 64 bytes */
	EXPECT_EQ(
		64UL,
		log_field_name(
			n, sizeof(n), "LYMPH_",
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	EXPECT_EQ(64UL, strlen(n));
}

struct fields {
	char name[64][80];
	char val[64][1024];
	int n;
};

static int collect(const char *name, size_t nlen, const char *val, size_t vlen, void *ctx)
{
	struct fields *f = ctx;

	if (f->n >= 64 || nlen >= 80 || vlen >= 1024)
		return -E2BIG;
	memcpy(f->name[f->n], name, nlen);
	f->name[f->n][nlen] = 0;
	memcpy(f->val[f->n], val, vlen);
	f->val[f->n][vlen] = 0;
	f->n++;
	return 0;
}

static const char *fget(const struct fields *f, const char *name)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->name[i], name))
			return f->val[i];
	return NULL;
}

/* A danger death as one journal entry: fields an administrator queries. */
TEST(journal_entry_of_a_crash)
{
	struct lymph_death d = death(SIGSEGV, 1, 1);
	struct verdict vd = classify_death(&d);
	struct json_object *o = format_json(&d.hdr, "/usr/bin/crasher", &vd);
	static struct fields f;
	char *buf = NULL;
	size_t len = 0;

	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, log_journal_entry(o, "death", "death  danger fault pid=77", LOG_WARNING, &buf,
				       &len));
	ASSERT_EQ(0, log_journal_parse(buf, len, collect, &f));
	EXPECT_STREQ("death  danger fault pid=77", fget(&f, "MESSAGE"));
	EXPECT_STREQ("4", fget(&f, "PRIORITY"));
	EXPECT_STREQ("lymphd", fget(&f, "SYSLOG_IDENTIFIER"));
	EXPECT_STREQ("3", fget(&f, "SYSLOG_FACILITY"));
	EXPECT_STREQ("death", fget(&f, "LYMPH_EVENT"));
	EXPECT_STREQ("danger", fget(&f, "LYMPH_CLASS"));
	EXPECT_STREQ("fault", fget(&f, "LYMPH_REASON"));
	EXPECT_STREQ("/usr/bin/crasher", fget(&f, "LYMPH_EXE"));
	EXPECT_STREQ("SIGSEGV", fget(&f, "LYMPH_SIGNAL"));
	EXPECT_STREQ("77", fget(&f, "LYMPH_PID"));
	EXPECT_STREQ("1000", fget(&f, "LYMPH_UID"));
	EXPECT_STREQ("crasher", fget(&f, "LYMPH_COMM"));
	EXPECT_NE(NULL, fget(&f, "LYMPH_RECORD"));
	EXPECT_EQ(NULL, fget(&f, "LYMPH_TS"));
	free(buf);
	json_object_put(o);
}

/* A decision: nested evidence flattened, arrays joined, newlines binary-safe. */
TEST(journal_entry_of_a_decision)
{
	struct json_object *o = jrec("quarantine", "quarantine"), *why = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	static struct fields f;
	char *buf = NULL;
	size_t len = 0;

	json_object_object_add(o, "exe", json_object_new_string("/tmp/crasher"));
	json_object_object_add(o, "uid", json_object_new_int64(1000));
	json_object_object_add(o, "result", json_object_new_string("line one\nline two"));
	json_object_object_add(why, "pid", json_object_new_int64(4242));
	json_object_object_add(why, "signal", json_object_new_string("SIGSEGV"));
	json_object_object_add(o, "why", why);
	json_object_array_add(arr, json_object_new_int64(10));
	json_object_array_add(arr, json_object_new_int64(11));
	json_object_object_add(o, "held_pids", arr);
	ASSERT_EQ(0, log_journal_entry(o, "quarantine", "quarantine quarantine /tmp/crasher",
				       log_priority(OUT_QUARANTINE, o), &buf, &len));
	/* the binary form: NAME\n, 64-bit little-endian length, value, \n */
	EXPECT_NE(NULL,
		  memmem(buf, len, "LYMPH_RESULT\n\x11\0\0\0\0\0\0\0line one\nline two\n", 39));
	ASSERT_EQ(0, log_journal_parse(buf, len, collect, &f));
	EXPECT_STREQ("quarantine", fget(&f, "LYMPH_EVENT"));
	EXPECT_STREQ("quarantine", fget(&f, "LYMPH_ACTION"));
	EXPECT_STREQ("/tmp/crasher", fget(&f, "LYMPH_EXE"));
	EXPECT_STREQ("1000", fget(&f, "LYMPH_UID"));
	EXPECT_STREQ("line one\nline two", fget(&f, "LYMPH_RESULT"));
	EXPECT_STREQ("4242", fget(&f, "LYMPH_WHY_PID"));
	EXPECT_STREQ("SIGSEGV", fget(&f, "LYMPH_WHY_SIGNAL"));
	EXPECT_STREQ("10, 11", fget(&f, "LYMPH_HELD_PIDS"));
	EXPECT_STREQ("4", fget(&f, "PRIORITY")); /* a quarantine imposed: warning */
	EXPECT_EQ(NULL, fget(&f, "LYMPH_TYPE")); /* the type is LYMPH_EVENT */
	free(buf);
	json_object_put(o);
}

TEST(journal_parse_rejects_malformed)
{
	struct fields *f = calloc(1, sizeof(*f));

	ASSERT_NE(NULL, f);
	EXPECT_EQ(-EINVAL, log_journal_parse("A=1", 3, collect, f));  /* no newline */
	EXPECT_EQ(-EINVAL, log_journal_parse("=1\n", 3, collect, f)); /* no name */
	EXPECT_EQ(-EINVAL, log_journal_parse("A\n\x05\0\0\0\0\0\0\0ab\n", 13, collect, f));
	EXPECT_EQ(0, log_journal_parse("A=1\nB=\n", 7, collect, f));
	EXPECT_EQ(2, f->n);
	free(f);
}

TEST(syslog_line)
{
	char line[256];
	struct tm tm = { .tm_year = 126,
			 .tm_mon = 10,
			 .tm_mday = 3,
			 .tm_hour = 4,
			 .tm_min = 5,
			 .tm_sec = 6,
			 .tm_isdst = -1 };
	time_t t = mktime(&tm);
	size_t n = log_syslog_line(line, sizeof(line), LOG_WARNING, t, 123, "death danger");

	EXPECT_STREQ("<28>Nov  3 04:05:06 lymphd[123]: death danger", line);
	EXPECT_EQ(strlen(line), n);
	n = log_syslog_line(line, 10, LOG_ERR, t, 123, "x");
	EXPECT_EQ(9UL, n);
	EXPECT_EQ(0, strncmp(line, "<27>Nov  ", 9));
}

TEST(decision_text)
{
	struct json_object *o = json_tokener_parse(
		"{\"type\":\"service\",\"service\":\"echo\",\"action\":\"restart\",\"mode\":\"enforce\","
		"\"why\":{\"class\":\"danger\",\"reason\":\"fault\",\"pid\":41,\"signal\":\"SIGSEGV\",\"si_code\":1,"
		"\"fault_addr\":0,\"wall_ns\":5},\"result\":\"ok\",\"state\":{\"phase\":\"running\",\"failures\":1,"
		"\"restarts\":1,\"delay_ns\":500000000,\"pid\":42,\"recent_wall_ns\":[1]},\"time\":\"x\",\"ts\":1.5}");
	char line[512];

	ASSERT_NE(NULL, o);
	format_journal_text(line, sizeof(line), o);
	EXPECT_STREQ("service    restart          echo phase=running failures=1 restarts=1 pid=42"
		     " | why: class=danger reason=fault pid=41 signal=SIGSEGV",
		     line);
	json_object_put(o);

	o = json_tokener_parse(
		"{\"type\":\"weather\",\"action\":\"change\",\"from\":\"sunny\",\"to\":\"cloudy\","
		"\"reasons\":[\"cpu pressure 63%\",\"2 anomalies\"],\"inputs\":{\"x\":1}}");
	ASSERT_NE(NULL, o);
	format_journal_text(line, sizeof(line), o);
	EXPECT_STREQ("weather    change           sunny -> cloudy: cpu pressure 63%; 2 anomalies",
		     line);
	json_object_put(o);

	o = json_tokener_parse(
		"{\"type\":\"quarantine\",\"action\":\"would-quarantine\",\"exe\":\"/tmp/c\","
		"\"uid\":1000,\"duration_s\":600.0,\"result\":\"observe mode\"}");
	ASSERT_NE(NULL, o);
	format_journal_text(line, sizeof(line), o);
	EXPECT_STREQ("quarantine would-quarantine /tmp/c uid=1000 duration_s=600: observe mode",
		     line);
	json_object_put(o);
}

TEST_HARNESS_MAIN
