// SPDX-License-Identifier: GPL-2.0-only
/*
 * The journal as a trusted, bounded log (issue 17 item 1):
 *
 *  - parsing: every line is parsed and every field lymphd replays is
 *    checked for type and range; a damaged line is counted with its line
 *    number and skipped, a torn tail is measured (no root needed);
 *  - lymphd: lines with null or wrong-typed fields never crash it, and
 *    status reports them; a journal past journal_max keeps every
 *    quarantine through the rotation at start and the next restart; a torn
 *    tail is cut before appending; a journal not owned by root, or writable
 *    by others, is refused; replay obeys --dry-run and [protect];
 *  - deferred appends (a decision no lasting action follows): written
 *    before their line, synced together by the next sync or synchronous
 *    append, and at close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "kselftest_harness.h"
#include "helpers.h"
#include "storm_helpers.h"
#include "journal.h"
#include "jrec.h"

static int check_cb(struct json_object *rec, void *ctx)
{
	(void)ctx;
	return jrec_check(rec);
}

TEST(parse_counts_and_skips_damaged_lines)
{
	static const char text[] = "{\"type\":\"lymphd\",\"action\":\"start\"}\n" /* 1 ok */
				   "{\"type\":null}\n"				  /* 2 */
				   "not json\n"					  /* 3 */
				   "[1,2]\n"					  /* 4 */
				   "{\"type\":\"quarantine\",\"action\":null}\n"  /* 5 */
				   "\n"						  /* 6 */
				   "{\"type\":\"lymphd\"} trailing\n"		  /* 7 */
				   "{\"type\":\"lymphd\",\"action\":\"stop\"}\n"  /* 8 ok */
				   "{\"type\":\"lymphd\",\"act";		  /* torn */
	struct journal_stats st;
	size_t end = journal_parse(text, sizeof(text) - 1, check_cb, NULL, &st);
	uint64_t want[] = { 2, 3, 4, 5, 6, 7 };
	size_t i;

	EXPECT_EQ(8U, st.lines);
	EXPECT_EQ(2U, st.records);
	EXPECT_EQ(6U, st.bad);
	for (i = 0; i < 6; i++)
		EXPECT_EQ(want[i], st.bad_line[i]);
	EXPECT_EQ(strlen("{\"type\":\"lymphd\",\"act"), st.torn_bytes);
	EXPECT_EQ(sizeof(text) - 1 - st.torn_bytes, end);
}

TEST(parse_skips_an_overlong_line)
{
	size_t n = JOURNAL_LINE_MAX + 100, len;
	char *text = malloc(n + 64);
	struct journal_stats st;

	ASSERT_NE(NULL, text);
	memset(text, 'x', n);
	memcpy(text, "{\"type\":\"", 9);
	len = n;
	len += (size_t)sprintf(text + len, "\"}\n{\"type\":\"lymphd\"}\n");
	journal_parse(text, len, check_cb, NULL, &st);
	EXPECT_EQ(2U, st.lines);
	EXPECT_EQ(1U, st.records);
	EXPECT_EQ(1U, st.bad);
	EXPECT_EQ(1U, st.bad_line[0]);
	EXPECT_EQ(0U, st.torn_bytes);
	free(text);
}

/* Records a replay must refuse: null, wrong type, out of range, hostile. */
static const char *const damaged[] = {
	"{\"type\":\"quarantine\",\"action\":null}",
	"{\"type\":\"quarantine\",\"action\":5}",
	"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe_dev\":\"1\",\"exe_ino\":2,\"uid\":3}",
	"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe_dev\":1,\"exe_ino\":-2,\"uid\":3}",
	"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe_dev\":1,\"exe_ino\":2,\"uid\":4294967295}",
	"{\"type\":\"quarantine\",\"action\":\"release\",\"exe_dev\":1,\"exe_ino\":2}",
	"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe_dev\":1,\"exe_ino\":2,\"uid\":3,\"exe\":\"rel/path\"}",
	"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe_dev\":1,\"exe_ino\":2,\"uid\":3,\"old_mode\":99999}",
	"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe_dev\":1,\"exe_ino\":2,\"uid\":3,\"offences\":\"x\"}",
	"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe_dev\":1,\"exe_ino\":2,\"uid\":3,\"exe\":null,"
	"\"until_wall_ns\":5,\"since_wall_ns\":9}",
	"{\"type\":\"throttle\",\"action\":\"throttle\",\"kind\":null,\"id\":1}",
	"{\"type\":\"throttle\",\"action\":\"throttle\",\"kind\":\"bogus\",\"id\":1}",
	"{\"type\":\"throttle\",\"action\":null,\"kind\":\"session\",\"id\":1}",
	"{\"type\":\"throttle\",\"action\":\"throttle\",\"kind\":\"session\",\"id\":null}",
	"{\"type\":\"throttle\",\"action\":\"throttle\",\"kind\":\"session\",\"id\":1,"
	"\"hold_cgroup\":\"/sys/fs/cgroup/pids/lymph.hold.session.1\"}",
	"{\"type\":\"throttle\",\"action\":\"throttle\",\"kind\":\"session\",\"id\":1,"
	"\"hold_cgroup\":\"/sys/fs/cgroup/pids/../../../etc/lymph.hold.x\",\"parent_cgroup\":\"/sys/fs/cgroup/pids/../../../etc\"}",
	"{\"type\":\"throttle\",\"action\":\"throttle\",\"kind\":\"session\",\"id\":1,"
	"\"hold_cgroup\":\"/etc/lymph.hold.x\",\"parent_cgroup\":\"/etc\"}",
	"{\"type\":\"throttle\",\"action\":\"throttle\",\"kind\":\"session\",\"id\":1,"
	"\"hold_cgroup\":\"/sys/fs/cgroup/pids/a/b\",\"parent_cgroup\":\"/sys/fs/cgroup/pids/a\"}",
	"{\"type\":\"service\",\"service\":null,\"state\":{\"phase\":\"running\"}}",
	"{\"type\":\"service\",\"service\":3,\"state\":{\"phase\":\"running\"}}",
	"{\"type\":\"service\",\"service\":\"web\",\"state\":null}",
	"{\"type\":\"service\",\"service\":\"web\",\"state\":{\"phase\":null}}",
	"{\"type\":\"service\",\"service\":\"web\",\"state\":{\"phase\":\"nonsense\"}}",
	"{\"type\":\"service\",\"service\":\"web\",\"state\":{\"phase\":\"running\",\"pid\":-1}}",
	"{\"type\":\"service\",\"service\":\"web\",\"state\":{\"phase\":\"running\",\"recent_wall_ns\":[\"x\"]}}",
	"{\"type\":\"service\",\"service\":\"web\",\"state\":{\"phase\":\"running\"},\"why\":{\"reason\":5}}",
	"{\"type\":\"service\",\"service\":\"web\",\"state\":{\"phase\":\"running\"},\"why\":7}",
	"{\"type\":\"service\",\"service\":\"web\\u0000x\",\"state\":{\"phase\":\"running\"}}",
};

static const char *const valid[] = {
	"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe\":\"/usr/bin/x\",\"exe_dev\":1,"
	"\"exe_ino\":18446744073709551615,\"uid\":1000,\"until_wall_ns\":9,\"since_wall_ns\":5,"
	"\"offences\":1.5,\"total\":2,\"result\":\"ok\"}",
	"{\"type\":\"quarantine\",\"action\":\"protected\",\"exe\":null}",
	"{\"type\":\"throttle\",\"action\":\"throttle\",\"kind\":\"session\",\"id\":1,"
	"\"hold_cgroup\":\"/sys/fs/cgroup/pids/user/lymph.hold.session.1\",\"parent_cgroup\":\"/sys/fs/cgroup/pids/user\","
	"\"dead_time_ms\":250.0,\"holds\":2}",
	"{\"type\":\"service\",\"service\":\"web\",\"action\":\"died\",\"state\":{\"phase\":\"backoff\","
	"\"failures\":2,\"recent_wall_ns\":[1,2]},\"why\":{\"class\":\"danger\",\"signal\":\"SIGSEGV\",\"reason\":null}}",
	"{\"type\":\"lymphd\",\"action\":\"start\"}",
	"{\"type\":\"weather\",\"anything\":null}",
};

TEST(schema_refuses_null_wrong_type_and_hostile_fields)
{
	size_t i;

	for (i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
		struct json_object *o = json_tokener_parse(damaged[i]);

		ASSERT_NE(NULL, o) TH_LOG("test bug: %s", damaged[i]);
		EXPECT_EQ(-EINVAL, jrec_check(o)) TH_LOG("accepted: %s", damaged[i]);
		json_object_put(o);
	}
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		struct json_object *o = json_tokener_parse(valid[i]);

		ASSERT_NE(NULL, o) TH_LOG("test bug: %s", valid[i]);
		EXPECT_EQ(0, jrec_check(o)) TH_LOG("refused: %s", valid[i]);
		json_object_put(o);
	}
}

TEST(schema_reads_the_values)
{
	struct json_object *o = json_tokener_parse(valid[0]);
	struct jrec_quarantine q;
	struct jrec_throttle t;
	struct jrec_service s;

	ASSERT_EQ(1, jrec_quarantine(o, &q));
	EXPECT_EQ(UINT64_MAX, q.ino);
	EXPECT_EQ(1000U, q.uid);
	EXPECT_STREQ("/usr/bin/x", q.exe);
	EXPECT_EQ(0, jrec_throttle(o, &t));
	json_object_put(o);
	o = json_tokener_parse(valid[2]);
	ASSERT_EQ(1, jrec_throttle(o, &t));
	EXPECT_EQ(2U, t.holds);
	EXPECT_STREQ("/sys/fs/cgroup/pids/user", t.parent_dir);
	json_object_put(o);
	o = json_tokener_parse(valid[3]);
	ASSERT_EQ(1, jrec_service(o, &s));
	EXPECT_EQ(2U, s.n_recent);
	EXPECT_EQ(1, s.why_danger);
	EXPECT_EQ(11U, s.why_signo);
	json_object_put(o);
}

/* ---- deferred appends ------------------------------------------------------ */

/* What the tap saw: every record, and whether the file held it already. */
struct tapped {
	const char *path;
	int seen, in_file;
};

static int count_cb(struct json_object *rec, void *ctx)
{
	(void)rec;
	(*(int *)ctx)++;
	return 0;
}

static int records_in(const char *path)
{
	int n = 0;

	return journal_read_file(path, count_cb, &n, NULL) ? -1 : n;
}

static void tap_check(struct json_object *rec, void *ctx)
{
	struct tapped *t = ctx;

	(void)rec;
	t->seen++;
	/* the line is printed from here: its record must be written first */
	if (records_in(t->path) == t->seen)
		t->in_file++;
}

static struct json_object *rec_of(const char *action)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("quarantine"));
	json_object_object_add(o, "action", json_object_new_string(action));
	return o;
}

/*
 * A deferred record is written before its tap (its line), synced by the
 * next journal_sync or synchronous append, and several share one
 * fdatasync; a sync with nothing pending does none; close syncs.
 */
TEST(deferred_appends_are_written_at_once_and_synced_together)
{
	char dir[256], path[PATH_MAX];
	struct tapped t = { .path = path };
	struct journal j;

	if (!th_is_root())
		SKIP(return, "the journal must be root's");
	ASSERT_EQ(0, th_mkdtemp(dir, sizeof(dir), "jdefer"));
	snprintf(path, sizeof(path), "%s/journal", dir);
	ASSERT_EQ(0, journal_open(&j, path, 1 << 20));
	j.tap = tap_check;
	j.tap_ctx = &t;

	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("protected")));
	EXPECT_EQ(3, t.seen);
	EXPECT_EQ(3, t.in_file) TH_LOG("a line came before its record was written");
	EXPECT_EQ(3, records_in(path));
	EXPECT_EQ(0U, journal_syncs(&j)) TH_LOG("a deferred append waited for the disk");
	EXPECT_EQ(3U, journal_unsynced(&j));

	EXPECT_EQ(0, journal_sync(&j));
	EXPECT_EQ(1U, journal_syncs(&j)) TH_LOG("three deferred records, one fdatasync");
	EXPECT_EQ(0U, journal_unsynced(&j));
	EXPECT_EQ(0, journal_sync(&j));
	EXPECT_EQ(1U, journal_syncs(&j)) TH_LOG("nothing pending: no fdatasync");

	/* a synchronous append covers what was deferred before it */
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_append(&j, rec_of("release")));
	EXPECT_EQ(2U, journal_syncs(&j));
	EXPECT_EQ(0U, journal_unsynced(&j));
	EXPECT_EQ(0, journal_sync(&j));
	EXPECT_EQ(2U, journal_syncs(&j));

	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(1U, journal_unsynced(&j));
	journal_close(&j);
	EXPECT_EQ(3U, journal_syncs(&j)) TH_LOG("close left a deferred record unsynced");
	EXPECT_EQ(6, records_in(path));
	EXPECT_EQ(6, t.in_file);
	th_rmdir_flat(dir);
}

/* Wait (5 s) until nothing of j is unsynced; 0, or -1. */
static int wait_unsynced_0(struct journal *j)
{
	int64_t deadline = th_now_ms() + 5000;

	while (journal_unsynced(j) && th_now_ms() < deadline)
		th_sleep_ms(5);
	return journal_unsynced(j) ? -1 : 0;
}

/*
 * journal_sync_async: the caller does not sync, the journal's thread does
 * (what is written when asked: all of it, even after a rotation closed the
 * descriptor it was asked on); close waits for it.
 */
TEST(async_sync_is_done_by_the_journal_thread)
{
	char dir[256], path[PATH_MAX];
	struct journal j;
	int i;

	if (!th_is_root())
		SKIP(return, "the journal must be root's");
	ASSERT_EQ(0, th_mkdtemp(dir, sizeof(dir), "jasync"));
	snprintf(path, sizeof(path), "%s/journal", dir);
	ASSERT_EQ(0, journal_open(&j, path, 4096));

	EXPECT_EQ(0, journal_sync_async(&j));
	EXPECT_EQ(NULL, j.syncer) TH_LOG("a thread started with nothing to sync");
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_sync_async(&j));
	EXPECT_NE(NULL, j.syncer);
	EXPECT_EQ(0, wait_unsynced_0(&j)) TH_LOG("the journal's thread did not sync");
	EXPECT_GE(journal_syncs(&j), 1U);
	EXPECT_LE(journal_syncs(&j), 2U);

	/* many requests, and rotations (4 KiB) closing the descriptor under it */
	for (i = 0; i < 200; i++) {
		EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
		EXPECT_EQ(0, journal_sync_async(&j));
	}
	EXPECT_GE(j.rotations, 1U);
	EXPECT_EQ(0, wait_unsynced_0(&j));

	/* ended (lymphd's trim after a request wants one thread), it did
	 * what it was asked, and the next request starts it again */
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_sync_async(&j));
	journal_sync_thread_end(&j);
	EXPECT_EQ(NULL, j.syncer);
	EXPECT_EQ(0U, journal_unsynced(&j)) TH_LOG("ending the thread dropped its sync");
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_sync_async(&j));
	EXPECT_NE(NULL, j.syncer) TH_LOG("not started again");
	EXPECT_EQ(0, wait_unsynced_0(&j));
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_sync_async(&j));
	journal_close(&j);
	EXPECT_EQ(0U, journal_unsynced(&j)) TH_LOG("close did not wait for the sync");
	EXPECT_EQ(NULL, j.syncer);
	EXPECT_GE(records_in(path), 1);
	th_rmdir_flat(dir);
}

/* journal_sync_thread_start: the thread runs before the first deferred
 * record, which then starts none (lymphd starts it after its start-up and
 * after each trim, off a crash's path); it syncs as before, and ending it
 * and starting it again leaves nothing unsynced. */
TEST(sync_thread_started_ahead)
{
	char dir[256], path[PATH_MAX];
	struct journal_syncer *s;
	struct journal j;

	if (!th_is_root())
		SKIP(return, "the journal must be root's");
	ASSERT_EQ(0, th_mkdtemp(dir, sizeof(dir), "jahead"));
	snprintf(path, sizeof(path), "%s/journal", dir);
	ASSERT_EQ(0, journal_open(&j, path, 1 << 20));
	EXPECT_EQ(NULL, j.syncer);
	EXPECT_EQ(0, journal_sync_thread_start(&j));
	s = j.syncer;
	EXPECT_NE(NULL, s);
	EXPECT_EQ(0, journal_sync_thread_start(&j)); /* running: the same one */
	EXPECT_EQ(s, j.syncer);
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_sync_async(&j));
	EXPECT_EQ(s, j.syncer) TH_LOG("a deferred record started another thread");
	EXPECT_EQ(0, wait_unsynced_0(&j)) TH_LOG("the thread started ahead did not sync");
	EXPECT_EQ(1U, journal_syncs(&j));
	EXPECT_EQ(0, journal_append_deferred(&j, rec_of("would-quarantine")));
	EXPECT_EQ(0, journal_sync_async(&j));
	journal_sync_thread_end(&j);
	EXPECT_EQ(NULL, j.syncer);
	EXPECT_EQ(0U, journal_unsynced(&j)) TH_LOG("ending the thread dropped its sync");
	EXPECT_EQ(0, journal_sync_thread_start(&j));
	EXPECT_NE(NULL, j.syncer) TH_LOG("not started again");
	journal_close(&j);
	EXPECT_EQ(NULL, j.syncer);
	EXPECT_EQ(-EBADF, journal_sync_thread_start(&j));
	EXPECT_EQ(NULL, j.syncer);
	EXPECT_EQ(2, records_in(path));
	th_rmdir_flat(dir);
}

/* ---- lymphd --------------------------------------------------------------- */

FIXTURE(jd)
{
	struct th_lymphd d;
	char dir[256];
	char crasher[PATH_MAX];
	char conf[PATH_MAX];
	char journal[PATH_MAX];
	struct stat st;
};

FIXTURE_SETUP(jd)
{
	th_lymphd_init(&self->d);
	self->dir[0] = '\0';
	if (!th_is_root())
		SKIP(return, "needs root");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "journal"));
	ASSERT_EQ(0, chmod(self->dir, 0755));
	ASSERT_EQ(0, storm_build_prog("crasher", self->dir, self->crasher, sizeof(self->crasher)));
	ASSERT_EQ(0, stat(self->crasher, &self->st));
	snprintf(self->journal, sizeof(self->journal), "%s/journal", self->dir);
}

FIXTURE_TEARDOWN(jd)
{
	char old[PATH_MAX + 8];

	th_lymphd_destroy(&self->d);
	snprintf(old, sizeof(old), "%s.1", self->journal);
	unlink(old);
	th_rmdir_flat(self->dir);
}

static int write_conf(FIXTURE_DATA(jd) * self, const char *extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\njournal_max = 64K\n\n"
		 "[quarantine]\nthreshold = 3\nduration_min = 600s\nduration_max = 1200s\n\n"
		 "[protect]\nuid = 0\n%s\n" STORM_CALM_WEATHER,
		 extra ? extra : "");
	return storm_write_file(self->dir, "lymph.conf", text, self->conf, sizeof(self->conf));
}

/* A quarantine of the crasher for uid, in force for 10 minutes. */
static void quarantine_line(FIXTURE_DATA(jd) * self, FILE *f, uid_t uid)
{
	uint64_t now = clock_wall_ns();

	fprintf(f,
		"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"mode\":\"enforce\",\"exe\":\"%s\","
		"\"exe_dev\":%u,\"exe_ino\":%llu,\"uid\":%u,\"until_wall_ns\":%llu,\"since_wall_ns\":%llu,"
		"\"offences\":3.0,\"total\":1,\"result\":\"ok\"}\n",
		self->crasher, (unsigned)self->st.st_dev, (unsigned long long)self->st.st_ino, uid,
		(unsigned long long)(now + 600000000000ULL), (unsigned long long)now);
}

static FILE *open_journal(FIXTURE_DATA(jd) * self)
{
	FILE *f = fopen(self->journal, "we");

	if (f)
		fchmod(fileno(f), 0600);
	return f;
}

static bool crasher_quarantined(FIXTURE_DATA(jd) * self, uid_t uid)
{
	json_object *st = storm_ctl_json(&self->d, "status");
	json_object *arr = th_json_get(th_json_get(st, "quarantine"), "active");
	bool found = false;
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (th_json_int(e, "exe_ino") == (int64_t)self->st.st_ino &&
		    th_json_int(e, "uid") == (int64_t)uid)
			found = true;
	}
	json_object_put(st);
	return found;
}

static int run_crasher_ok(FIXTURE_DATA(jd) * self, uid_t uid)
{
	char *argv[] = { self->crasher, "ok", NULL };

	return storm_run_as(uid, argv, 10000);
}

static bool exec_denied(int status)
{
	return status >= 0 && WIFEXITED(status) &&
	       (WEXITSTATUS(status) == 200 + EPERM || WEXITSTATUS(status) == 200 + EACCES);
}

static bool ran_ok(int status)
{
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_F_TIMEOUT(jd, null_fields_never_crash_and_are_reported, 60)
{
	static const char *const lines[] = {
		"{\"type\":null}",
		"{\"type\":\"quarantine\",\"action\":null}",
		"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"result\":null,\"exe_dev\":1,\"exe_ino\":1,\"uid\":1}",
		"{\"type\":\"throttle\",\"action\":null}",
		"{\"type\":\"throttle\",\"action\":\"throttle\",\"kind\":null,\"id\":1}",
		"{\"type\":\"service\",\"service\":null}",
		"{\"type\":\"service\",\"service\":\"x\",\"state\":{\"phase\":null}}",
		"{\"type\":\"service\",\"service\":\"x\",\"state\":{\"phase\":\"running\"},\"why\":{\"signal\":5}}",
	};
	json_object *st, *j, *bl;
	FILE *f;
	size_t i;

	ASSERT_EQ(0, write_conf(self, NULL));
	f = open_journal(self);
	ASSERT_NE(NULL, f);
	fprintf(f, "{\"type\":\"lymphd\",\"action\":\"stop\"}\n");
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		fprintf(f, "%s\n", lines[i]);
	fclose(f);

	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	st = storm_ctl_json(&self->d, "status");
	ASSERT_NE(NULL, st);
	j = th_json_get(st, "journal");
	ASSERT_NE(NULL, j);
	EXPECT_EQ(8, th_json_int(j, "bad"));
	bl = th_json_get(j, "bad_lines");
	ASSERT_NE(NULL, bl);
	ASSERT_EQ(8U, json_object_array_length(bl));
	for (i = 0; i < 8; i++)
		EXPECT_EQ((int64_t)i + 2, json_object_get_int64(json_object_array_get_idx(bl, i)));
	json_object_put(st);
	/* the start record says so too */
	{
		json_object *last = NULL;

		EXPECT_EQ(1,
			  storm_journal_count(self->journal, "lymphd", "start", NULL, NULL, &last));
		EXPECT_EQ(8, th_json_int(th_json_get(last, "journal"), "bad"));
		json_object_put(last);
	}
	/* and lymphctl status prints the line numbers */
	{
		struct th_cmd *r = calloc(1, sizeof(*r));

		ASSERT_NE(NULL, r);
		EXPECT_EQ(0, th_lymphctl(&self->d, r, NULL, "status", NULL));
		EXPECT_NE(NULL,
			  strstr(r->out, "journal: 8 damaged lines skipped at start (line 2, 3, 4"))
		TH_LOG("%s", r->out);
		free(r);
	}
}

TEST_F_TIMEOUT(jd, rotation_at_start_keeps_quarantine, 90)
{
	char old[PATH_MAX + 8], pad[200];
	FILE *f;
	int i;

	ASSERT_EQ(0, write_conf(self, NULL));
	f = open_journal(self);
	ASSERT_NE(NULL, f);
	quarantine_line(self, f, STORM_UID);
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	for (i = 0; i < 400; i++) /* ~90 KB: past journal_max = 64K */
		fprintf(f, "{\"type\":\"lymphd\",\"action\":\"pad\",\"result\":\"%s\"}\n", pad);
	fclose(f);

	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	EXPECT_TRUE(crasher_quarantined(self, STORM_UID));
	EXPECT_TRUE(exec_denied(run_crasher_ok(self, STORM_UID)));
	snprintf(old, sizeof(old), "%s.1", self->journal);
	EXPECT_EQ(0, access(old, F_OK)) TH_LOG("the journal was not rotated at start");
	EXPECT_EQ(1,
		  storm_journal_count(self->journal, "quarantine", "snapshot", NULL, NULL, NULL));

	/* and once more from the rotated file */
	th_lymphd_stop(&self->d);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	EXPECT_TRUE(crasher_quarantined(self, STORM_UID));
	EXPECT_TRUE(exec_denied(run_crasher_ok(self, STORM_UID)));
}

static bool snapshot_has_evidence(json_object *rec, const void *arg)
{
	json_object *why = th_json_get(rec, "why");

	(void)arg;
	return why && th_json_int(why, "pid") == 4242;
}

static void pad(FILE *f, int n)
{
	char text[200];

	memset(text, 'p', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	while (n--)
		fprintf(f, "{\"type\":\"lymphd\",\"action\":\"pad\",\"result\":\"%s\"}\n", text);
}

TEST_F_TIMEOUT(jd, rotations_keep_the_evidence, 120)
{
	uint64_t now = clock_wall_ns();
	int round;
	FILE *f;

	ASSERT_EQ(0, write_conf(self, NULL));
	f = open_journal(self);
	ASSERT_NE(NULL, f);
	fprintf(f,
		"{\"type\":\"quarantine\",\"action\":\"quarantine\",\"exe\":\"%s\",\"exe_dev\":%u,"
		"\"exe_ino\":%llu,\"uid\":%d,\"until_wall_ns\":%llu,\"since_wall_ns\":%llu,\"total\":1,"
		"\"why\":{\"pid\":4242,\"signal\":\"SIGSEGV\",\"si_code\":1,\"fault_addr\":0},\"result\":\"ok\"}\n",
		self->crasher, (unsigned)self->st.st_dev, (unsigned long long)self->st.st_ino,
		STORM_UID, (unsigned long long)(now + 600000000000ULL), (unsigned long long)now);
	pad(f, 400);
	fclose(f);
	for (round = 1; round <= 2; round++) {
		json_object *last = NULL;

		ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
		EXPECT_TRUE(crasher_quarantined(self, STORM_UID)) TH_LOG("round %d", round);
		th_lymphd_stop(&self->d);
		EXPECT_EQ(1, storm_journal_count(self->journal, "quarantine", "snapshot", NULL,
						 NULL, &last))
		TH_LOG("round %d: the journal was not rotated", round);
		EXPECT_TRUE(last && snapshot_has_evidence(last, NULL))
		TH_LOG("round %d: the snapshot lost the evidence: %s", round, th_json_text(last));
		json_object_put(last);
		f = fopen(self->journal, "ae");
		ASSERT_NE(NULL, f);
		pad(f, 400);
		fclose(f);
	}
}

TEST_F_TIMEOUT(jd, torn_tail_is_cut_before_appending, 60)
{
	static const char torn[] = "{\"type\":\"lymphd\",\"action\":\"tor";
	json_object *st;
	char line[4096];
	FILE *f;
	int n = 0, bad = 0;

	ASSERT_EQ(0, write_conf(self, NULL));
	f = open_journal(self);
	ASSERT_NE(NULL, f);
	fprintf(f, "{\"type\":\"lymphd\",\"action\":\"stop\"}\n%s", torn);
	fclose(f);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	st = storm_ctl_json(&self->d, "status");
	EXPECT_EQ((int64_t)strlen(torn), th_json_int(th_json_get(st, "journal"), "torn_bytes"));
	json_object_put(st);
	th_lymphd_stop(&self->d);
	f = fopen(self->journal, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		json_object *o = json_tokener_parse(line);

		n++;
		if (!o || strstr(line, "\"tor\""))
			bad++;
		json_object_put(o);
	}
	fclose(f);
	EXPECT_LE(3, n); /* stop, start, stop */
	EXPECT_EQ(0, bad);
}

TEST_F_TIMEOUT(jd, refuses_a_journal_others_could_write, 60)
{
	FILE *f;
	int err;

	ASSERT_EQ(0, write_conf(self, NULL));
	f = open_journal(self);
	ASSERT_NE(NULL, f);
	quarantine_line(self, f, STORM_UID);
	fclose(f);

	ASSERT_EQ(0, chown(self->journal, STORM_UID, STORM_UID));
	err = storm_lymphd_start(&self->d, self->conf, self->journal, NULL);
	EXPECT_NE(0, err) TH_LOG("lymphd started with an untrusted journal");
	{
		char msg[PATH_MAX + 64];
		struct th_cmd *r = calloc(1, sizeof(*r));
		char *argv[] = { "/bin/grep", "-q", "owned by uid 1000, not root", self->d.errpath,
				 NULL };

		ASSERT_NE(NULL, r);
		snprintf(msg, sizeof(msg), "%s", self->d.errpath);
		EXPECT_EQ(0, th_run(argv, NULL, r));
		EXPECT_EQ(0, r->status) TH_LOG("no clear refusal in %s", msg);
		free(r);
	}
	th_lymphd_destroy(&self->d);

	ASSERT_EQ(0, chown(self->journal, 0, 0));
	ASSERT_EQ(0, chmod(self->journal, 0622));
	err = storm_lymphd_start(&self->d, self->conf, self->journal, NULL);
	EXPECT_NE(0, err) TH_LOG("lymphd started with an untrusted journal");
	{
		struct th_cmd *r = calloc(1, sizeof(*r));
		char *argv[] = { "/bin/grep", "-q", "writable by group or others", self->d.errpath,
				 NULL };

		ASSERT_NE(NULL, r);
		EXPECT_EQ(0, th_run(argv, NULL, r));
		EXPECT_EQ(0, r->status);
		free(r);
	}
}

TEST_F_TIMEOUT(jd, replay_obeys_dry_run, 60)
{
	FILE *f;

	ASSERT_EQ(0, write_conf(self, NULL));
	f = open_journal(self);
	ASSERT_NE(NULL, f);
	quarantine_line(self, f, STORM_UID);
	fclose(f);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, "--dry-run"));
	EXPECT_TRUE(ran_ok(run_crasher_ok(self, STORM_UID)));
	th_lymphd_stop(&self->d);
	/* the same journal in enforce mode: denied (the test can fail) */
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	EXPECT_TRUE(exec_denied(run_crasher_ok(self, STORM_UID)));
}

TEST_F_TIMEOUT(jd, replay_obeys_protect, 60)
{
	char extra[64];
	FILE *f;

	snprintf(extra, sizeof(extra), "uid = %d\n", STORM_UID);
	ASSERT_EQ(0, write_conf(self, extra));
	f = open_journal(self);
	ASSERT_NE(NULL, f);
	quarantine_line(self, f, STORM_UID);
	fclose(f);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, self->conf, self->journal, NULL));
	EXPECT_FALSE(crasher_quarantined(self, STORM_UID));
	EXPECT_TRUE(ran_ok(run_crasher_ok(self, STORM_UID)));
}

TEST_HARNESS_MAIN
