// SPDX-License-Identifier: GPL-2.0-only
/*
 * The --json writer (format_json_append) against the json-c path it
 * replaces on lymphd's hot path (format_json serialised with
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, plus a
 * newline): the same bytes for every kind of record, with awkward strings
 * (quotes, backslashes, control bytes, bytes that are not UTF-8, comm and
 * path without their NUL) and for many random records.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "classify.h"
#include "format.h"

/* What lymphd wrote before: json-c's object, serialised, and a newline. */
static char *old_line(const struct lymph_hdr *rec, const char *exe, const struct verdict *vd)
{
	struct json_object *o = format_json(rec, exe, vd);
	const char *s;
	char *line;

	if (!o)
		return NULL;
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	line = malloc(strlen(s) + 2);
	if (line) {
		strcpy(line, s);
		strcat(line, "\n");
	}
	json_object_put(o);
	return line;
}

/* 1 when both writers agree; logs the two lines when not. */
static int same(struct __test_metadata *_metadata, const struct lymph_hdr *rec, const char *exe,
		const struct verdict *vd)
{
	struct fmt_buf b = { 0 };
	char *want = old_line(rec, exe, vd);
	int ok;

	if (!want || format_json_append(&b, rec, exe, vd)) {
		free(want);
		fmt_buf_free(&b);
		return 0;
	}
	ok = b.len == strlen(want) && !memcmp(b.p, want, b.len);
	if (!ok)
		TH_LOG("kind %u:\n json-c: %s writer: %.*s", rec->kind, want, (int)b.len, b.p);
	free(want);
	fmt_buf_free(&b);
	return ok;
}

static void task(struct lymph_task *t, const char *comm)
{
	t->pid = 4242;
	t->tid = 4243;
	t->ppid = 1;
	t->uid = 1000;
	t->sid = 4000;
	t->exe_dev = 0x10303;
	t->exe_ino = 0xfedcba9876543210ULL;
	t->cgroup_id = 18446744073709551615ULL;
	t->start_ns = 5;
	memcpy(t->comm, comm, strnlen(comm, LYMPH_COMM_LEN));
}

#define REC(type, k)                                 \
	type r = { .hdr = { .kind = (k),             \
			    .size = sizeof(type),    \
			    .source = LYMPH_SRC_BPF, \
			    .ts_ns = 123456789012345ULL } }

TEST(death_every_flag_combination)
{
	static const unsigned int signos[] = { 0, SIGSEGV, SIGABRT, SIGKILL, SIGTERM, 77 };
	static const int codes[] = { 1, 2, 0, -6, -1, 128, 12345 };
	unsigned int f, i, j;

	for (f = 0; f < 8; f++)
		for (i = 0; i < sizeof(signos) / sizeof(signos[0]); i++)
			for (j = 0; j < sizeof(codes) / sizeof(codes[0]); j++) {
				REC(struct lymph_death, LYMPH_EV_DEATH);
				struct verdict vd;

				task(&r.task, "crasher");
				r.signo = signos[i];
				r.si_code = codes[j];
				r.exit_code = signos[i] ? signos[i] | (f & 1 ? 0x80 : 0) : 3 << 8;
				r.flags = (f & 1 ? LYMPH_DEATH_CORE : 0) |
					  (f & 2 ? LYMPH_DEATH_SIGINFO : 0) |
					  (f & 4 ? LYMPH_DEATH_OOM : 0);
				r.fault_addr = 0xdeadbeef;
				r.sender_pid = 99;
				r.sender_uid = 0;
				r.age_ns = 350000000;
				vd = classify_death(&r);
				EXPECT_TRUE(same(_metadata, &r.hdr, "/usr/bin/crasher", &vd));
				EXPECT_TRUE(same(_metadata, &r.hdr, NULL, &vd));
				EXPECT_TRUE(same(_metadata, &r.hdr, "/usr/bin/crasher", NULL));
			}
}

TEST(every_other_kind)
{
	{
		REC(struct lymph_signal, LYMPH_EV_SIGNAL);

		task(&r.task, "sleep");
		r.signo = SIGTERM;
		r.si_code = 0;
		r.sender_pid = 7;
		r.sender_uid = 0;
		memcpy(r.sender_comm, "timeout", 7);
		EXPECT_TRUE(same(_metadata, &r.hdr, "/usr/bin/sleep", NULL));
		r.signo = 200; /* no name */
		r.si_code = -60;
		EXPECT_TRUE(same(_metadata, &r.hdr, NULL, NULL));
	}
	{
		REC(struct lymph_exec, LYMPH_EV_EXEC);

		task(&r.task, "true");
		strcpy((char *)r.path, "/usr/bin/true");
		EXPECT_TRUE(same(_metadata, &r.hdr, "/usr/bin/true", NULL));
	}
	{
		REC(struct lymph_fork, LYMPH_EV_FORK);

		task(&r.task, "sh");
		EXPECT_TRUE(same(_metadata, &r.hdr, "/usr/bin/sh", NULL));
		r.hdr.source = LYMPH_SRC_KMOD;
		EXPECT_TRUE(same(_metadata, &r.hdr, NULL, NULL));
		r.hdr.source = 200; /* unknown source */
		EXPECT_TRUE(same(_metadata, &r.hdr, NULL, NULL));
	}
	{
		REC(struct lymph_oom, LYMPH_EV_OOM);

		task(&r.task, "hog");
		r.oom_score_adj = -1000;
		EXPECT_TRUE(same(_metadata, &r.hdr, "/usr/bin/hog", NULL));
	}
	{
		REC(struct lymph_drop, LYMPH_EV_DROP);

		r.lost = 18446744073709551615ULL;
		EXPECT_TRUE(same(_metadata, &r.hdr, NULL, NULL));
	}
	{
		REC(struct lymph_pressure, LYMPH_EV_PRESSURE);

		task(&r.task, "leaky");
		r.interval_ns = 1000000000;
		r.runq_delay_ns = 12;
		r.reclaim_delay_ns = 0;
		r.maj_flt = 3;
		r.rss_kb = 65536;
		r.rss_delta_kb = -9223372036854775807LL - 1;
		r.flags = 0xffffffffu;
		EXPECT_TRUE(same(_metadata, &r.hdr, "/opt/leaky", NULL));
	}
	{
		static const int64_t tokens[] = { 0,
						  1000,
						  -1000,
						  1500,
						  -2500,
						  1,
						  -1,
						  100,
						  333,
						  123456789,
						  -9223372036854775807LL,
						  9223372036854775807LL };
		unsigned int i, k, a;

		for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
			for (k = 0; k < 5; k++)
				for (a = 0; a < 5; a++) {
					REC(struct lymph_throttle, LYMPH_EV_THROTTLE);

					task(&r.task, "forker");
					r.tokens = tokens[i];
					r.lineage_kind = k;
					r.action = a;
					r.lineage_id = 77;
					r.hold_ns = 5000000;
					r.child_pid = 4321;
					EXPECT_TRUE(
						same(_metadata, &r.hdr, "/usr/bin/forker", NULL));
				}
	}
	{
		REC(struct lymph_fork, 999); /* a kind this lymphd does not know */

		EXPECT_TRUE(same(_metadata, &r.hdr, NULL, NULL));
	}
}

/* Every byte value in comm, sender_comm, path and exe. */
TEST(awkward_strings)
{
	char exe[600];
	unsigned int c, i;

	for (c = 1; c < 256; c++) {
		struct lymph_exec e = { .hdr = { .kind = LYMPH_EV_EXEC, .size = sizeof(e) } };
		struct lymph_signal s = { .hdr = { .kind = LYMPH_EV_SIGNAL, .size = sizeof(s) } };

		/* comm and path full to the last byte, no NUL */
		memset(e.task.comm, (int)c, LYMPH_COMM_LEN);
		memset(e.path, (int)c, LYMPH_PATH_LEN);
		memset(s.task.comm, (int)c, LYMPH_COMM_LEN);
		memset(s.sender_comm, (int)(256 - c) & 0xff ? (int)(256 - c) : 1, LYMPH_COMM_LEN);
		s.signo = SIGKILL;
		snprintf(exe, sizeof(exe), "/tmp/a%cb/\"q\"\\%c/\x7f\xc3\x28\xff", (char)c,
			 (char)c);
		EXPECT_TRUE(same(_metadata, &e.hdr, exe, NULL));
		EXPECT_TRUE(same(_metadata, &s.hdr, exe, NULL));
	}
	{
		/* all 255 non-zero bytes in one path and one exe */
		struct lymph_exec e = { .hdr = { .kind = LYMPH_EV_EXEC, .size = sizeof(e) } };

		for (i = 0; i < LYMPH_PATH_LEN; i++)
			e.path[i] = (uint8_t)(i % 255 + 1);
		for (i = 0; i < 255; i++)
			exe[i] = (char)(i + 1);
		exe[255] = 0;
		memcpy(e.task.comm, "\"\\/\b\f\n\r\t\x01\x1f\x7f\x80\xfe", 13);
		EXPECT_TRUE(same(_metadata, &e.hdr, exe, NULL));
	}
}


/* Random records of every kind: random fields, random short strings. */
TEST(random_records)
{
	static const uint16_t kinds[] = { LYMPH_EV_DEATH,    LYMPH_EV_SIGNAL,  LYMPH_EV_EXEC,
					  LYMPH_EV_FORK,     LYMPH_EV_OOM,     LYMPH_EV_DROP,
					  LYMPH_EV_PRESSURE, LYMPH_EV_THROTTLE };
	union {
		struct lymph_hdr h;
		uint8_t raw[LYMPH_RECORD_MAX];
	} u;
	char exe[300];
	unsigned int n, i, bad = 0;

	for (n = 0; n < 40000; n++) {
		struct verdict vd;
		size_t elen = th_rnd() % sizeof(exe);

		for (i = 0; i < sizeof(u.raw); i += 8) {
			uint64_t v = th_rnd();

			/* bias toward short strings and small numbers */
			if (th_rnd() % 4 == 0)
				v &= 0xff00ff;
			memcpy(u.raw + i, &v, 8);
		}
		u.h.kind = kinds[n % (sizeof(kinds) / sizeof(kinds[0]))];
		u.h.source = (uint8_t)(th_rnd() % 5);
		for (i = 0; i < elen; i++)
			exe[i] = (char)(th_rnd() % 255 + 1);
		exe[elen] = 0;
		if (u.h.kind == LYMPH_EV_DEATH) {
			struct lymph_death *d = (void *)&u;

			if (th_rnd() % 2)
				d->signo = (uint32_t)(th_rnd() % 65);
			vd = classify_death(d);
		}
		if (!same(_metadata, &u.h, th_rnd() % 3 ? exe : NULL,
			  u.h.kind == LYMPH_EV_DEATH && th_rnd() % 4 ? &vd : NULL))
			bad++;
		if (bad > 5)
			break;
	}
	EXPECT_EQ(0u, bad);
}

/* Lines append: a batch is one buffer, grown as needed, reused after. */
TEST(lines_append_into_one_buffer)
{
	struct fmt_buf b = { 0 };
	struct lymph_exec e = { .hdr = { .kind = LYMPH_EV_EXEC, .size = sizeof(e) } };
	char exe[4096], *want;
	size_t len1, i;

	memset(e.path, '\x01', sizeof(e.path)); /* the longest escaped path */
	memset(exe, '"', sizeof(exe) - 1);
	exe[sizeof(exe) - 1] = 0;
	ASSERT_EQ(0, format_json_append(&b, &e.hdr, NULL, NULL));
	len1 = b.len;
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, format_json_append(&b, &e.hdr, exe, NULL));
	want = old_line(&e.hdr, exe, NULL);
	ASSERT_NE(NULL, want);
	EXPECT_EQ(len1 + 20 * strlen(want), b.len);
	EXPECT_EQ(0, memcmp(b.p + b.len - strlen(want), want, strlen(want)));
	EXPECT_GE(b.cap, b.len);
	b.len = 0;
	ASSERT_EQ(0, format_json_append(&b, &e.hdr, exe, NULL));
	EXPECT_EQ(strlen(want), b.len);
	free(want);
	fmt_buf_free(&b);
}

TEST_HARNESS_MAIN
