// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel throttle's pure part and lymph.ko's knob writer, without the
 * module: a policy's [throttle] and [protect] become the settings (the
 * weather's factor applied) and the knobs lymph.ko gets, in a safe order
 * and within the module's ranges; the writer, pointed at a directory of
 * plain files standing in for /sys/kernel/lymph, writes them, skips the
 * per-uid knobs a module does not have (with a note), names the knob and
 * what to do when a write fails, journals one record per write (kept until
 * the journal is readable), and reads the knobs back for status.
 * (tests/vm/lymphd_knobs_test.sh does it against the real module.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "config.h"
#include "jrec.h"
#include "kthrottle.h"

#define MS 1000000ULL

/* The policy of text, parsed as lymphd parses lymph.conf. */
static int policy_of(struct policy *p, const char *text)
{
	struct cfg_errors errs = { 0 };
	size_t i;
	int n;

	policy_defaults(p);
	n = config_parse(p, "test.conf", text, &errs);
	for (i = 0; i < errs.n; i++)
		th_diag("%s", errs.msg[i]);
	cfg_errors_free(&errs);
	return n;
}

static const struct kmod_knob *find_knob(const struct kmod_knob *k, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(k[i].name, name))
			return &k[i];
	return NULL;
}

static int index_of(const struct kmod_knob *k, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(k[i].name, name))
			return (int)i;
	return -1;
}

TEST(policy_to_settings)
{
	struct policy p;
	struct kthrottle_settings s;

	ASSERT_EQ(0, policy_of(&p, "[throttle]\nbudget = 50\nburst = 80\ndead_time_min = 250ms\n"
				   "dead_time_max = 3s\nuid_budget = 300\nuid_burst = 600\n"
				   "lineage = session\n"));
	kthrottle_settings_of(&p.throttle, 1, 1, 1.0, 4242, &s);
	EXPECT_EQ(1, s.enabled);
	EXPECT_EQ(1, s.enforce);
	EXPECT_EQ((uint32_t)LYMPH_LINEAGE_SESSION, s.lineage_kind);
	EXPECT_EQ(50U, s.budget);
	EXPECT_EQ(80U, s.burst);
	EXPECT_EQ(300U, s.uid_budget);
	EXPECT_EQ(600U, s.uid_burst);
	EXPECT_EQ(4242U, s.daemon_tgid);
	EXPECT_EQ(250 * MS, s.dead_time_min_ns);
	EXPECT_EQ(3000 * MS, s.dead_time_max_ns);

	/* Stormy weather halves the budgets, never to 0. */
	kthrottle_settings_of(&p.throttle, 1, 0, 0.5, 1, &s);
	EXPECT_EQ(0, s.enforce);
	EXPECT_EQ(25U, s.budget);
	EXPECT_EQ(40U, s.burst);
	EXPECT_EQ(150U, s.uid_budget);
	EXPECT_EQ(300U, s.uid_burst);
	kthrottle_settings_of(&p.throttle, 1, 0, 0.001, 1, &s);
	EXPECT_EQ(1U, s.budget);
	EXPECT_EQ(1U, s.uid_budget);
	policy_free(&p);

	/* uid_budget = 0 turns the per-uid budget off, whatever the weather. */
	ASSERT_EQ(0, policy_of(&p, "[throttle]\nuid_budget = 0\n"));
	kthrottle_settings_of(&p.throttle, 1, 1, 0.5, 1, &s);
	EXPECT_EQ(0U, s.uid_budget);
	EXPECT_EQ((uint32_t)LYMPH_LINEAGE_FAMILY, s.lineage_kind);
	policy_free(&p);
}

TEST(settings_to_knobs)
{
	struct policy p;
	struct kthrottle_settings s;
	struct kthrottle_protect prot = { 0 };
	struct kmod_knob k[KMOD_KNOBS_MAX];
	size_t n;

	ASSERT_EQ(0, policy_of(&p, "[lymphd]\nmode = enforce\n[throttle]\nbudget = 50\nburst = 80\n"
				   "dead_time_min = 250ms\ndead_time_max = 3s\nuid_budget = 300\n"
				   "uid_burst = 600\n[protect]\nuid = 1234\nuid = 5678\n"));
	kthrottle_settings_of(&p.throttle, 1, 1, 1.0, 1, &s);
	prot.uids = p.protect.uid;
	prot.n_uids = p.protect.n_uid;
	n = kmod_knobs_of(&s, &prot, "cloudy", 5000, k);
	ASSERT_LE(n, (size_t)KMOD_KNOBS_MAX);
	EXPECT_EQ(9U, n);
	/* the protected set first, the mode last */
	EXPECT_STREQ("protected_uids", k[0].name);
	EXPECT_STREQ("1234 5678", k[0].value);
	EXPECT_STREQ("mode", k[n - 1].name);
	EXPECT_STREQ("enforce", k[n - 1].value);
	EXPECT_STREQ("50", find_knob(k, n, "clone_budget")->value);
	EXPECT_STREQ("80", find_knob(k, n, "clone_burst")->value);
	EXPECT_STREQ("250", find_knob(k, n, "dead_time_min_ms")->value);
	EXPECT_STREQ("3000", find_knob(k, n, "dead_time_max_ms")->value);
	EXPECT_STREQ("300", find_knob(k, n, "uid_clone_budget")->value);
	EXPECT_EQ(1, find_knob(k, n, "uid_clone_budget")->optional);
	EXPECT_STREQ("600", find_knob(k, n, "uid_clone_burst")->value);
	EXPECT_EQ(1, find_knob(k, n, "uid_clone_burst")->optional);
	EXPECT_EQ(0, find_knob(k, n, "clone_budget")->optional);
	EXPECT_STREQ("cloudy", find_knob(k, n, "weather")->value);
	/* min 250 <= the module's max 5000: min first, then max */
	EXPECT_LT(index_of(k, n, "dead_time_min_ms"), index_of(k, n, "dead_time_max_ms"));
	/* the module's max is 100 ms: widen first, or min 250 would be refused */
	n = kmod_knobs_of(&s, &prot, NULL, 100, k);
	EXPECT_GT(index_of(k, n, "dead_time_min_ms"), index_of(k, n, "dead_time_max_ms"));
	/* no weather word yet: none written */
	EXPECT_EQ(NULL, find_knob(k, n, "weather"));
	EXPECT_EQ(8U, n);
	/* observe */
	s.enforce = 0;
	n = kmod_knobs_of(&s, &prot, NULL, 5000, k);
	EXPECT_STREQ("observe", k[n - 1].value);
	policy_free(&p);
}

TEST(knobs_clamped_to_the_module_with_a_note)
{
	struct kthrottle_settings s = {
		.enforce = 1,
		.budget = 1000000,
		.burst = 1000000,
		.uid_budget = 0,
		.uid_burst = 5,
		.dead_time_min_ns = 200ULL * 1000 * MS,
		.dead_time_max_ns = 3600ULL * 1000 * MS,
	};
	uint32_t uids[20];
	struct kthrottle_protect prot = { .uids = uids, .n_uids = 20 };
	struct kmod_knob k[KMOD_KNOBS_MAX];
	const struct kmod_knob *kn;
	size_t n, i;

	for (i = 0; i < 20; i++)
		uids[i] = 1000 + (uint32_t)i;
	n = kmod_knobs_of(&s, &prot, NULL, 5000, k);
	/* [throttle] dead_time_max = 1h: the module's cap is 600 s */
	kn = find_knob(k, n, "dead_time_max_ms");
	EXPECT_STREQ("600000", kn->value);
	EXPECT_NE(NULL, strstr(kn->note, "dead_time_max"));
	EXPECT_NE(NULL, strstr(kn->note, "600000"));
	kn = find_knob(k, n, "dead_time_min_ms");
	EXPECT_STREQ("200000", kn->value);
	EXPECT_STREQ("", kn->note);
	EXPECT_STREQ("1000000", find_knob(k, n, "clone_budget")->value);
	EXPECT_STREQ("", find_knob(k, n, "clone_budget")->note);
	/* uid_budget 0: off */
	EXPECT_STREQ("0", find_knob(k, n, "uid_clone_budget")->value);
	/* 20 protected uids, the module takes 16: the rest is said */
	kn = find_knob(k, n, "protected_uids");
	EXPECT_STREQ(
		"1000 1001 1002 1003 1004 1005 1006 1007 1008 1009 1010 1011 1012 1013 1014 1015",
		kn->value);
	EXPECT_NE(NULL, strstr(kn->note, "4 [protect] uids"));
	/* no protected uid: an empty set (the writer adds the newline that clears it) */
	prot.n_uids = 0;
	n = kmod_knobs_of(&s, &prot, NULL, 5000, k);
	EXPECT_STREQ("", find_knob(k, n, "protected_uids")->value);
}

/* ---- the writer, on a directory of plain files -------------------------- */

FIXTURE(sysfs)
{
	char dir[256];
};

static const char *const module_files[] = {
	"mode",
	"clone_budget",
	"clone_burst",
	"dead_time_min_ms",
	"dead_time_max_ms",
	"protected_uids",
	"protected_cgroups",
	"weather",
};

static int put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -EIO;
}

static char *get_file(const char *dir, const char *name, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

FIXTURE_SETUP(sysfs)
{
	size_t i;

	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "kthrottle"));
	/* A module's defaults (kmod/main.c). */
	for (i = 0; i < sizeof(module_files) / sizeof(module_files[0]); i++)
		ASSERT_EQ(0, put_file(self->dir, module_files[i], "\n"));
	ASSERT_EQ(0, put_file(self->dir, "clone_budget", "100\n"));
	ASSERT_EQ(0, put_file(self->dir, "dead_time_max_ms", "5000\n"));
	ASSERT_EQ(0, put_file(self->dir, "mode", "observe\n"));
	ASSERT_EQ(0, put_file(self->dir, "weather", "unknown\n"));
}

FIXTURE_TEARDOWN(sysfs)
{
	th_rmdir_flat(self->dir);
}

static const struct kthrottle_settings base = {
	.enabled = 1,
	.enforce = 1,
	.lineage_kind = LYMPH_LINEAGE_FAMILY,
	.budget = 50,
	.burst = 80,
	.uid_budget = 300,
	.uid_burst = 600,
	.dead_time_min_ns = 250 * MS,
	.dead_time_max_ns = 3000 * MS,
};

static struct json_object *pending_rec(const struct kthrottle *k, size_t i)
{
	return k->pending && i < json_object_array_length(k->pending)
		       ? json_object_array_get_idx(k->pending, i)
		       : NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

TEST_F(sysfs, writes_every_knob_and_journals_once)
{
	struct kthrottle k;
	uint32_t uids[] = { 1234, 5678 };
	struct kthrottle_protect prot = { .uids = uids, .n_uids = 2 };
	struct json_object *rec, *st, *kn, *notes;
	char buf[256];

	memset(&k, 0, sizeof(k));
	ASSERT_EQ(0, kthrottle_kmod_open(&k, self->dir));
	EXPECT_EQ(1, kthrottle_available(&k));
	EXPECT_STREQ("lymph.ko", k.name);
	ASSERT_EQ(0, kthrottle_apply(&k, &base, &prot));
	EXPECT_STREQ("enforce\n", get_file(self->dir, "mode", buf, sizeof(buf)));
	EXPECT_STREQ("50\n", get_file(self->dir, "clone_budget", buf, sizeof(buf)));
	EXPECT_STREQ("80\n", get_file(self->dir, "clone_burst", buf, sizeof(buf)));
	EXPECT_STREQ("250\n", get_file(self->dir, "dead_time_min_ms", buf, sizeof(buf)));
	EXPECT_STREQ("3000\n", get_file(self->dir, "dead_time_max_ms", buf, sizeof(buf)));
	EXPECT_STREQ("1234 5678\n", get_file(self->dir, "protected_uids", buf, sizeof(buf)));
	/* the weather is not known yet: left as it was */
	EXPECT_STREQ("unknown\n", get_file(self->dir, "weather", buf, sizeof(buf)));
	/* this module has no per-uid knobs: not created, said in a note */
	EXPECT_NE(0, access(strcat(strcpy(buf, self->dir), "/uid_clone_budget"), F_OK));

	/* One record, waiting for the journal (lymphd's replay comes later). */
	ASSERT_NE(NULL, k.pending);
	ASSERT_EQ(1U, json_object_array_length(k.pending));
	rec = pending_rec(&k, 0);
	EXPECT_STREQ("module", jstr(rec, "type"));
	EXPECT_STREQ("knobs", jstr(rec, "action"));
	EXPECT_STREQ(self->dir, jstr(rec, "path"));
	EXPECT_STREQ("ok", jstr(rec, "result"));
	EXPECT_STREQ("50", jstr(rec, "clone_budget"));
	EXPECT_STREQ("enforce", jstr(rec, "mode"));
	EXPECT_STREQ("1234 5678", jstr(rec, "protected_uids"));
	EXPECT_FALSE(json_object_object_get_ex(rec, "uid_clone_budget", NULL));
	/* lymphd's replay at its next start takes it as valid, of no type it rebuilds */
	EXPECT_EQ(0, jrec_check(rec));
	ASSERT_TRUE(json_object_object_get_ex(rec, "notes", &notes));
	EXPECT_NE(NULL, strstr(json_object_to_json_string(notes),
			       "uid_clone_budget: not in this lymph.ko"));

	/* The weather: written, one more record. */
	ASSERT_EQ(0, kthrottle_set_weather(&k, "stormy"));
	EXPECT_STREQ("stormy\n", get_file(self->dir, "weather", buf, sizeof(buf)));
	EXPECT_EQ(2U, json_object_array_length(k.pending));
	EXPECT_STREQ("stormy", jstr(pending_rec(&k, 1), "weather"));
	/* the same word again: nothing to write */
	ASSERT_EQ(0, kthrottle_set_weather(&k, "stormy"));
	EXPECT_EQ(2U, json_object_array_length(k.pending));

	/* Status: what the files say now. */
	st = kthrottle_json(&k);
	EXPECT_STREQ("lymph.ko", jstr(st, "kind"));
	ASSERT_TRUE(json_object_object_get_ex(st, "knobs", &kn));
	EXPECT_STREQ("enforce", jstr(kn, "mode"));
	EXPECT_STREQ("50", jstr(kn, "clone_budget"));
	EXPECT_STREQ("stormy", jstr(kn, "weather"));
	EXPECT_STREQ("1234 5678", jstr(kn, "protected_uids"));
	EXPECT_TRUE(json_object_object_get_ex(kn, "uid_clone_budget", &notes));
	EXPECT_EQ(NULL, notes); /* not in this module */
	/* the last apply's note outlives the weather writes since */
	ASSERT_TRUE(json_object_object_get_ex(st, "notes", &notes));
	EXPECT_NE(NULL, strstr(json_object_to_json_string(notes), "uid_clone_budget: not in"));
	json_object_put(st);
	kthrottle_close(&k);
}

TEST_F(sysfs, per_uid_knobs_written_where_the_module_has_them)
{
	struct kthrottle k;
	struct kthrottle_protect prot = { 0 };
	char buf[256];

	ASSERT_EQ(0, put_file(self->dir, "uid_clone_budget", "1000\n"));
	ASSERT_EQ(0, put_file(self->dir, "uid_clone_burst", "2000\n"));
	memset(&k, 0, sizeof(k));
	ASSERT_EQ(0, kthrottle_kmod_open(&k, self->dir));
	ASSERT_EQ(0, kthrottle_apply(&k, &base, &prot));
	EXPECT_STREQ("300\n", get_file(self->dir, "uid_clone_budget", buf, sizeof(buf)));
	EXPECT_STREQ("600\n", get_file(self->dir, "uid_clone_burst", buf, sizeof(buf)));
	/* an empty protected set clears it (sysfs ignores a write of 0 bytes) */
	EXPECT_STREQ("\n", get_file(self->dir, "protected_uids", buf, sizeof(buf)));
	EXPECT_STREQ("300", jstr(pending_rec(&k, 0), "uid_clone_budget"));
	EXPECT_FALSE(json_object_object_get_ex(pending_rec(&k, 0), "notes", NULL));
	kthrottle_close(&k);
}

TEST_F(sysfs, a_failed_write_names_the_knob_and_what_to_do)
{
	struct kthrottle k;
	struct kthrottle_protect prot = { 0 };
	struct json_object *rec, *errs, *st, *a;
	char path[512], buf[256];
	const char *e;

	/* A module without clone_burst: every other knob is still written. */
	snprintf(path, sizeof(path), "%s/clone_burst", self->dir);
	ASSERT_EQ(0, unlink(path));
	memset(&k, 0, sizeof(k));
	ASSERT_EQ(0, kthrottle_kmod_open(&k, self->dir));
	/* reported, not fatal: the module runs on with its old value */
	EXPECT_EQ(0, kthrottle_apply(&k, &base, &prot));
	EXPECT_STREQ("50\n", get_file(self->dir, "clone_budget", buf, sizeof(buf)));
	EXPECT_STREQ("enforce\n", get_file(self->dir, "mode", buf, sizeof(buf)));
	rec = pending_rec(&k, 0);
	ASSERT_NE(NULL, rec);
	EXPECT_STREQ("failed: 1 knob not written", jstr(rec, "result"));
	EXPECT_FALSE(json_object_object_get_ex(rec, "clone_burst", NULL));
	ASSERT_TRUE(json_object_object_get_ex(rec, "errors", &errs));
	ASSERT_EQ(1U, json_object_array_length(errs));
	e = json_object_get_string(json_object_array_get_idx(errs, 0));
	EXPECT_NE(NULL, strstr(e, "failed to write "));
	EXPECT_NE(NULL, strstr(e, "/clone_burst (\"80\")"));
	EXPECT_NE(NULL, strstr(e, "load the lymph.ko built with this lymphd"));
	/* lymphctl status says it too */
	st = kthrottle_json(&k);
	ASSERT_TRUE(json_object_object_get_ex(st, "errors", &a));
	EXPECT_EQ(1U, json_object_array_length(a));
	json_object_put(st);
	kthrottle_close(&k);
}

static int any_rec(struct json_object *rec, void *ctx)
{
	(void)rec;
	(void)ctx;
	return 0;
}

TEST_F(sysfs, records_wait_for_the_journal)
{
	struct kthrottle k;
	struct kthrottle_protect prot = { 0 };
	struct journal j = { .fd = -EBADF };
	char path[512], line[4096];
	FILE *f;
	int lines = 0, knobs = 0;

	if (!th_is_root())
		SKIP(return, "the journal must be root's");
	snprintf(path, sizeof(path), "%s/journal", self->dir);
	ASSERT_EQ(0, journal_open(&j, path, 1 << 20));
	ASSERT_EQ(0, journal_load(&j, any_rec, NULL));
	memset(&k, 0, sizeof(k));
	ASSERT_EQ(0, kthrottle_kmod_open(&k, self->dir));
	ASSERT_EQ(0, kthrottle_apply(&k, &base, &prot));
	kthrottle_set_journal(&k, &j);
	EXPECT_EQ(NULL, k.pending);
	ASSERT_EQ(0, kthrottle_set_weather(&k, "sunny"));
	kthrottle_close(&k);
	journal_close(&j);
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		knobs += strstr(line, "\"type\":\"module\"") &&
			 strstr(line, "\"action\":\"knobs\"");
	}
	fclose(f);
	EXPECT_EQ(2, lines);
	EXPECT_EQ(2, knobs);
}

TEST(no_module_no_throttle)
{
	struct kthrottle k;

	memset(&k, 0, sizeof(k));
	EXPECT_EQ(-ENOENT, kthrottle_kmod_open(&k, "/nonexistent/lymph"));
	EXPECT_EQ(0, kthrottle_available(&k));
	/* every call is harmless without an implementation */
	EXPECT_EQ(0, kthrottle_apply(&k, &base, NULL));
	EXPECT_EQ(0, kthrottle_set_weather(&k, "sunny"));
	EXPECT_EQ(0, kthrottle_admin_stopped(&k, 1));
	kthrottle_close(&k);
}

TEST_HARNESS_MAIN
