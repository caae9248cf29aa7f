// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/jsonw.h against json-c, the writer it stands in for on the path of a
 * decision (issue 15: crash -> would-quarantine line):
 *
 *  - a record built by struct jsonw: its bytes are json-c's serialisation
 *    (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) of the same
 *    fields built by json-c, and so is its object's, for many random
 *    records (awkward strings, extreme integers, doubles, nested objects,
 *    nulls), in a buffer too small for them or large enough;
 *  - lymphd's --json decision line spliced from the journal's bytes
 *    (format_decision_append) is json-c's {"event":"decision", ...rec};
 *  - the journal writes a jsonw record as the same line journal_append
 *    writes for the same object, before its tap, and the tap sees the
 *    line's bytes (j->line) equal to json-c's serialisation of its object.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "kselftest_harness.h"
#include "helpers.h"
#include "format.h"
#include "journal.h"
#include "jsonw.h"

#define FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)


/* Up to max-1 bytes: quotes, backslashes, slashes, control bytes, bytes
 * that are not UTF-8, UTF-8. */
static void rnd_str(char *s, size_t max)
{
	static const char *const bits[] = { "a", "Z", "\"", "\\", "/", "\n", "\t", "\b", "\f",
					    "\r", "\x01", "\x1f", "\x7f", "\xff", "\xc3\xa9",
					    " ", "{", "}", ",", ":", "0" };
	size_t n = th_rnd() % 40, len = 0, i;

	for (i = 0; i < n; i++) {
		const char *b = bits[th_rnd() % (sizeof(bits) / sizeof(bits[0]))];

		if (len + strlen(b) >= max)
			break;
		memcpy(s + len, b, strlen(b));
		len += strlen(b);
	}
	s[len] = 0;
}

static double rnd_double(void)
{
	switch (th_rnd() % 6) {
	case 0: return (double)(int64_t)(th_rnd() % 2000000) - 1000000.0; /* integral */
	case 1: return (double)th_rnd() / (double)UINT64_MAX;
	case 2: return (double)(th_rnd() % 1000000000000000ULL) / 1e6;
	case 3: return 1.7e9 + (double)(th_rnd() % 1000000000) / 1e9; /* a "ts" */
	case 4: return -(double)th_rnd() * 1e-300;
	default: return (double)th_rnd() * 1e10;
	}
}

/* One random record built both ways; returns json-c's own object. */
static struct json_object *build(struct jsonw *w, int depth)
{
	struct json_object *ref = json_object_new_object();
	int n = 1 + (int)(th_rnd() % 12), i;
	char key[64], s[128];

	for (i = 0; i < n; i++) {
		/* distinct keys: json-c keeps one of two equal keys */
		rnd_str(key, 32);
		snprintf(key + strlen(key), sizeof(key) - strlen(key), "#%d", i);
		switch (th_rnd() % 7) {
		case 0:
			rnd_str(s, sizeof(s));
			jsonw_str(w, key, s);
			json_object_object_add(ref, key, json_object_new_string(s));
			break;
		case 1:
			jsonw_str(w, key, NULL);
			json_object_object_add(ref, key, NULL);
			break;
		case 2: {
			int64_t v = th_rnd() % 3 == 0 ? INT64_MIN + (int64_t)(th_rnd() % 3)
				    : th_rnd() % 2	   ? -(int64_t)(th_rnd() % 100000)
						   : (int64_t)(th_rnd() >> 1);

			jsonw_i64(w, key, v);
			json_object_object_add(ref, key, json_object_new_int64(v));
			break;
		}
		case 3: {
			uint64_t v = th_rnd() % 3 == 0 ? UINT64_MAX - th_rnd() % 3 : th_rnd() % 2 ? 0 : th_rnd();

			jsonw_u64(w, key, v);
			json_object_object_add(ref, key, json_object_new_uint64(v));
			break;
		}
		case 4: {
			double v = rnd_double();

			jsonw_double(w, key, v);
			json_object_object_add(ref, key, json_object_new_double(v));
			break;
		}
		case 5:
			if (depth < 2) {
				jsonw_open(w, key);
				json_object_object_add(ref, key, build(w, depth + 1));
				jsonw_close(w);
				break;
			}
			/* fall through */
		default: {
			/* a value json-c made (the snapshot's evidence) */
			struct json_object *v = json_object_new_object();

			rnd_str(s, sizeof(s));
			json_object_object_add(v, "s", json_object_new_string(s));
			json_object_object_add(v, "n", json_object_new_int64((int64_t)th_rnd()));
			jsonw_json(w, key, v);
			json_object_object_add(ref, key, v); /* jsonw took its own reference */
			break;
		}
		}
	}
	return ref;
}

TEST(bytes_and_object_are_json_c_serialisation)
{
	int i, bad = 0;

	for (i = 0; i < 20000; i++) {
		char small[8], big[4096];
		struct jsonw w;
		struct json_object *ref;
		const char *bytes, *want, *obj;
		size_t len;
		int tiny = i % 2;

		jsonw_begin(&w, tiny ? small : big, tiny ? sizeof(small) : sizeof(big), 1);
		ref = build(&w, 0);
		bytes = jsonw_end(&w, &len);
		want = json_object_to_json_string_ext(ref, FLAGS);
		obj = json_object_to_json_string_ext(jsonw_obj(&w), FLAGS);
		ASSERT_NE(NULL, bytes);
		if (len != strlen(want) || memcmp(bytes, want, len) || strcmp(obj, want)) {
			if (bad++ < 3)
				TH_LOG("record %d:\n json-c: %s\n  bytes: %.*s\n object: %s", i, want,
				       (int)len, bytes, obj);
		}
		EXPECT_EQ(strlen(bytes), len);
		json_object_put(ref);
		jsonw_free(&w);
	}
	EXPECT_EQ(0, bad);
}

/* Bytes only (no object): the same bytes. */
TEST(bytes_without_the_object)
{
	char buf[256];
	struct jsonw w;
	const char *s;
	size_t len;

	jsonw_begin(&w, buf, sizeof(buf), 0);
	jsonw_str(&w, "type", "quarantine");
	jsonw_i64(&w, "uid", -1);
	jsonw_double(&w, "ts", 1764515476.0);
	jsonw_open(&w, "why");
	jsonw_u64(&w, "fault_addr", 0);
	jsonw_close(&w);
	EXPECT_EQ(NULL, jsonw_obj(&w));
	s = jsonw_end(&w, &len);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("{\"type\":\"quarantine\",\"uid\":-1,\"ts\":1764515476.0,"
		     "\"why\":{\"fault_addr\":0}}",
		     s);
	/* an object left open is not a record */
	jsonw_begin(&w, buf, sizeof(buf), 0);
	jsonw_open(&w, "why");
	EXPECT_EQ(NULL, jsonw_end(&w, &len));
	jsonw_free(&w);
}

/* lymphd's --json line for a journaled record: what json-c gives for
 * {"event":"decision"} followed by the record's fields. */
static char *json_c_decision(struct json_object *rec)
{
	struct json_object *o = json_object_new_object();
	char *line;

	json_object_object_add(o, "event", json_object_new_string("decision"));
	json_object_object_foreach (rec, key, val)
		json_object_object_add(o, key, json_object_get(val));
	if (asprintf(&line, "%s\n", json_object_to_json_string_ext(o, FLAGS)) < 0)
		line = NULL;
	json_object_put(o);
	return line;
}

TEST(decision_line_spliced_from_the_journal_bytes)
{
	struct fmt_buf b = { 0 }, c = { 0 };
	int i, bad = 0;

	for (i = 0; i < 5000; i++) {
		char buf[4096];
		struct jsonw w;
		struct json_object *ref;
		const char *bytes;
		char *want;
		size_t len;

		jsonw_begin(&w, buf, sizeof(buf), 1);
		ref = build(&w, 0);
		if (i % 50 == 0) /* a record with an "event" of its own */
			jsonw_str(&w, "event", "x"), json_object_object_add(ref, "event",
									    json_object_new_string("x"));
		bytes = jsonw_end(&w, &len);
		ASSERT_NE(NULL, bytes);
		want = json_c_decision(ref);
		ASSERT_NE(NULL, want);
		b.len = c.len = 0;
		ASSERT_EQ(0, format_decision_append(&b, ref, bytes, len));
		ASSERT_EQ(0, format_decision_append(&c, ref, NULL, 0));
		if (b.len != strlen(want) || memcmp(b.p, want, b.len) || c.len != b.len ||
		    memcmp(c.p, b.p, b.len)) {
			if (bad++ < 3)
				TH_LOG("record %d:\n json-c: %s spliced: %.*s", i, want, (int)b.len,
				       b.p);
		}
		free(want);
		json_object_put(ref);
		jsonw_free(&w);
	}
	EXPECT_EQ(0, bad);
	fmt_buf_free(&b);
	fmt_buf_free(&c);
}

struct seen {
	const char *path;
	int taps, in_file, line_ok;
};

static int count_cb(struct json_object *rec, void *ctx)
{
	(void)rec;
	(*(int *)ctx)++;
	return 0;
}

static void tap(struct json_object *rec, void *ctx)
{
	struct journal *j = ctx;
	struct seen *s = (struct seen *)j->snapshot_ctx;
	const char *want = json_object_to_json_string_ext(rec, FLAGS);
	int n = 0;

	s->taps++;
	if (j->line && j->line_len == strlen(want) && !memcmp(j->line, want, j->line_len))
		s->line_ok++;
	/* its line is printed from here: the record is written first */
	if (!journal_read_file(s->path, count_cb, &n, NULL) && n == s->taps)
		s->in_file++;
}

/* The file's lines without their "time" and "ts" (they differ). */
static int lines_without_time(const char *path, char lines[][1024], int max)
{
	FILE *f = fopen(path, "r");
	char l[1024];
	int n = 0;

	if (!f)
		return -1;
	while (n < max && fgets(l, sizeof(l), f)) {
		char *t = strstr(l, ",\"time\":");

		if (t)
			*t = 0;
		snprintf(lines[n++], 1024, "%s", l);
	}
	fclose(f);
	return n;
}

TEST(journal_writes_a_jsonw_record_as_json_c_would)
{
	char dir[256], path[PATH_MAX], lines[4][1024];
	struct seen s = { .path = path };
	struct json_object *o;
	struct journal j;
	struct jsonw w;
	char buf[64];
	int k;

	if (!th_is_root())
		SKIP(return, "the journal must be root's");
	ASSERT_EQ(0, th_mkdtemp(dir, sizeof(dir), "jsonw"));
	snprintf(path, sizeof(path), "%s/journal", dir);
	ASSERT_EQ(0, journal_open(&j, path, 1 << 20));
	j.tap = tap;
	j.tap_ctx = &j;
	j.snapshot_ctx = &s; /* no snapshot: the test's state */

	for (k = 0; k < 2; k++) {
		/* the same record, by json-c and by jsonw (a buffer too small) */
		o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string("quarantine"));
		json_object_object_add(o, "exe", json_object_new_string("/tmp/a \"b\"\n"));
		json_object_object_add(o, "exe_ino", json_object_new_uint64(UINT64_MAX));
		json_object_object_add(o, "offences", json_object_new_double(1.0));
		EXPECT_EQ(0, journal_append_deferred(&j, o));

		jsonw_begin(&w, buf, sizeof(buf), 1);
		jsonw_str(&w, "type", "quarantine");
		jsonw_str(&w, "exe", "/tmp/a \"b\"\n");
		jsonw_u64(&w, "exe_ino", UINT64_MAX);
		jsonw_double(&w, "offences", 1.0);
		EXPECT_EQ(0, journal_append_jsonw(&j, &w, k));
	}
	EXPECT_EQ(4, s.taps);
	EXPECT_EQ(4, s.in_file) TH_LOG("a tap came before its record was written");
	EXPECT_EQ(4, s.line_ok) TH_LOG("the tap's line is not its record's serialisation");
	EXPECT_EQ(NULL, j.line) TH_LOG("the line outlived its tap");
	EXPECT_EQ(2U, journal_unsynced(&j)) TH_LOG("a deferred jsonw record was synced, or a "
						   "synchronous one was not");
	journal_close(&j);
	ASSERT_EQ(4, lines_without_time(path, lines, 4));
	EXPECT_STREQ(lines[0], lines[1]);
	EXPECT_STREQ(lines[2], lines[3]);
	EXPECT_STREQ(lines[0], lines[2]);
	th_rmdir_flat(dir);
}

/* Doubles at the edges of jw_double's integral shortcut (|v| < 10^15):
 * the same bytes as json-c's "%.17g" on both sides of it, -0.0 apart. */
TEST(integral_doubles_as_json_c)
{
	static const double v[] = {
		0.0, -0.0, 1.0, -1.0, 600.0, 86400.0, 1764515476.0, 999999999999999.0,
		-999999999999999.0, 1e15, -1e15, 1e15 + 1, 9007199254740992.0, 1e17, 1.5, -2.5,
		0.1, 1e-300, 4503599627370495.5, 123456789012345678.0, 1e300, -1e300,
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct json_object *o = json_object_new_double(v[i]);
		const char *ref = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		char buf[JW_NUM_MAX + 1];
		char *end = jw_double(buf, v[i]);

		*end = 0;
		EXPECT_STREQ(ref, buf) TH_LOG("%.17g", v[i]);
		json_object_put(o);
	}
}

TEST_HARNESS_MAIN
