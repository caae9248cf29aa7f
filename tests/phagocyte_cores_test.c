// SPDX-License-Identifier: GPL-2.0-only
/*
 * Crash artifacts with real things (root): lymph as the "|" core_pattern
 * handler of a real crashing binary (the pattern installed, cores stored
 * compressed within the budgets, the pattern restored on exit and after a
 * lymphd that was killed), systemd-coredump and apport artifacts grouped by
 * the binary they name rather than by a name, and the signatures kept
 * across a restart of lymphd.
 *
 * kernel.core_pattern is global: a guardian process restores the pattern
 * this test found when the test ends, however it ends (even SIGKILL).
 */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <dirent.h>
#include <elf.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/xattr.h>
#include <zlib.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "svc_helpers.h"

#define WAIT_MS 30000
#define PATTERN "/proc/sys/kernel/core_pattern"

static const char *read_pattern(char *buf, size_t len)
{
	FILE *f = fopen(PATTERN, "re");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return buf;
}

static int set_pattern(const char *pat)
{
	return th_write_file(PATTERN, pat, 0644);
}

/* Restores `orig` into kernel.core_pattern when the write end of its pipe
 * closes: the test process exited, failed or was killed. */
static pid_t guardian(const char *orig, int *wfd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c, cur[256];

		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(p[1]);
		while (read(p[0], &c, 1) > 0 || errno == EINTR)
			;
		if (strcmp(read_pattern(cur, sizeof(cur)), orig))
			set_pattern(orig);
		_exit(0);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static int wait_records(const char *journal, const char *action, int n)
{
	int64_t deadline = th_now_ms() + WAIT_MS;

	while (th_journal_count(journal, "phagocyte", action) < n && th_now_ms() < deadline)
		th_sleep_ms(50);
	return th_journal_count(journal, "phagocyte", action);
}

/* ---- a real crash ------------------------------------------------------------------ */

/* The stored core of pid in store ("" when none). */
static const char *stored_of(const char *store, pid_t pid, char *buf, size_t len)
{
	DIR *d = opendir(store);
	struct dirent *de;
	char want[32];

	buf[0] = 0;
	snprintf(want, sizeof(want), ".%d.", pid);
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "core-lymph.", 11) && strstr(de->d_name, want))
			snprintf(buf, len, "%s/%s", store, de->d_name);
	if (d)
		closedir(d);
	return buf;
}

/* Number of stored cores and their allocated bytes. */
static int store_usage(const char *store, long long *bytes)
{
	DIR *d = opendir(store);
	struct dirent *de;
	int n = 0;

	*bytes = 0;
	while (d && (de = readdir(d))) {
		char p[600];
		struct stat st;

		if (strncmp(de->d_name, "core-lymph.", 11))
			continue;
		snprintf(p, sizeof(p), "%s/%s", store, de->d_name);
		if (!stat(p, &st)) {
			n++;
			*bytes += (long long)st.st_blocks * 512;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* ---- the fixture -------------------------------------------------------------------- */

FIXTURE(cores)
{
	SVC_FIXTURE_FIELDS;
	char store[320], saved[320];
	char orig[256];
	pid_t guard;
	int guard_fd;
};

FIXTURE_SETUP(cores)
{
	self->guard = -1;
	self->guard_fd = -1;
	SVC_FIXTURE_SETUP(self, "cores",
			  "needs root: lymphd loads BPF and writes kernel.core_pattern");
	snprintf(self->store, sizeof(self->store), "%s/store", self->dir);
	snprintf(self->saved, sizeof(self->saved), "%s/core_pattern.saved", self->dir);
	read_pattern(self->orig, sizeof(self->orig));
	ASSERT_NE(0, self->orig[0]);
	self->guard = guardian(self->orig, &self->guard_fd);
	ASSERT_GT(self->guard, 0);
}

FIXTURE_TEARDOWN(cores)
{
	char cur[256];

	if (!self->dir[0])
		return;
	SVC_FIXTURE_STOP(self);
	if (strcmp(read_pattern(cur, sizeof(cur)), self->orig)) {
		th_diag("kernel.core_pattern left as '%s': restoring '%s'", cur, self->orig);
		set_pattern(self->orig);
	}
	if (self->guard_fd >= 0)
		close(self->guard_fd);
	if (self->guard > 0)
		waitpid(self->guard, NULL, 0);
	svc_rmdir(self->dir);
}

static int write_policy(FIXTURE_DATA(cores) * self, const char *phago_extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 SVC_QUIET_POLICY "[phagocyte]\ncore_interval = 200ms\nforesight = no\n%s",
		 phago_extra);
	return th_write_file(self->conf, text, 0644);
}

static int start_lymphd(FIXTURE_DATA(cores) * self)
{
	return SVC_FIXTURE_START(self, NULL, WAIT_MS);
}

static json_object *crashes(FIXTURE_DATA(cores) * self, struct __test_metadata *_metadata)
{
	static struct th_cmd r;
	json_object *o;

	if (th_lymphctl(&self->d, &r, NULL, "crashes", "--json", NULL))
		return NULL;
	o = json_tokener_parse(r.out);
	if (!o)
		TH_LOG("lymphctl crashes: %s", r.out);
	return o;
}

/* The signature of binary (substring) with count n, or NULL. */
static json_object *sig_with(json_object *o, const char *binary, int64_t n)
{
	json_object *sigs = th_json_get(o, "signatures");

	for (size_t k = 0; sigs && k < json_object_array_length(sigs); k++) {
		json_object *s = json_object_array_get_idx(sigs, k);

		if (strstr(th_json_str(s, "binary") ?: "", binary) &&
		    (n < 0 || th_json_int(s, "count") == n))
			return s;
	}
	return NULL;
}

/* ---- lymph as the core handler ------------------------------------------------------ */

/* The pattern installed (the previous one saved and journaled), a real
 * crash loop stored compressed: the first core of each signature and the
 * newest, the repeats removed before the new one is written; a budget for
 * about one core keeps the store within it at every crash; the pattern
 * restored when lymphd stops. */
TEST_F_TIMEOUT(cores, core_handler_stores_within_budget_and_restores_the_pattern, 180)
{
	char cur[256], path[700], extra[400];
	pid_t a[4], b[2], c[3];
	json_object *o, *s, *recs;
	unsigned char head[64];
	long long bytes, core_sz;
	struct stat st;
	static struct th_cmd reload;
	gzFile gz;
	int i;

	snprintf(extra, sizeof(extra), "core_handler = yes\ncore_store = %s\n", self->store);
	ASSERT_EQ(0, write_policy(self, extra));
	ASSERT_EQ(0, start_lymphd(self));
	ASSERT_EQ(1, wait_records(self->journal, "core-handler-installed", 1));
	recs = th_journal_records(self->journal, "phagocyte", "core-handler-installed");
	o = json_object_array_get_idx(recs, 0);
	EXPECT_STREQ("ok", th_json_str(o, "result"));
	EXPECT_STREQ(self->orig, th_json_str(o, "previous_pattern"));
	json_object_put(recs);
	read_pattern(cur, sizeof(cur));
	ASSERT_EQ('|', cur[0]) TH_LOG("%s", cur);
	EXPECT_NE(NULL, strstr(cur, "--core-handler")) TH_LOG("%s", cur);
	EXPECT_EQ(0, access(self->saved, F_OK));

	for (i = 0; i < 4; i++) {
		ASSERT_GT(a[i] = th_dump_core(NULL, 0), 0);
		ASSERT_EQ(i + 1, wait_records(self->journal, "core-handled", i + 1));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_GT(b[i] = th_dump_core(NULL, 1), 0);
		ASSERT_EQ(5 + i, wait_records(self->journal, "core-handled", 5 + i));
	}
	EXPECT_NE(0, stored_of(self->store, a[0], path, sizeof(path))[0])
	TH_LOG("the first core of a was not kept");
	for (i = 1; i < 4; i++)
		EXPECT_EQ(0, stored_of(self->store, a[i], path, sizeof(path))[0])
	TH_LOG("repeat %d kept: %s", i, path);
	EXPECT_NE(0, stored_of(self->store, b[0], path, sizeof(path))[0])
	TH_LOG("the first core of b was not kept");
	EXPECT_NE(0, stored_of(self->store, b[1], path, sizeof(path))[0])
	TH_LOG("the newest core was not kept");
	EXPECT_EQ(3, store_usage(self->store, &bytes));

	/* a real core, compressed */
	ASSERT_NE(0, stored_of(self->store, a[0], path, sizeof(path))[0]);
	gz = gzopen(path, "rb");
	ASSERT_NE(NULL, gz);
	EXPECT_EQ((int)sizeof(head), gzread(gz, head, sizeof(head)));
	gzclose(gz);
	EXPECT_EQ(0, memcmp(head, ELFMAG, SELFMAG));
	EXPECT_EQ(ET_CORE, ((Elf64_Ehdr *)head)->e_type);
	ASSERT_EQ(0, stat(path, &st));
	core_sz = (long long)st.st_blocks * 512;

	o = crashes(self, _metadata);
	ASSERT_NE(NULL, o);
	s = sig_with(o, "phagocyte_cores_test", 4);
	ASSERT_NE(NULL, s) TH_LOG("%s", th_json_text(o));
	EXPECT_NE(NULL, strstr(th_json_str(s, "label") ?: "", "SEGV at phagocyte_cores_test+0x"));
	EXPECT_EQ(1, json_object_array_length(th_json_get(s, "kept")));
	s = sig_with(o, "phagocyte_cores_test", 2);
	ASSERT_NE(NULL, s) TH_LOG("%s", th_json_text(o));
	EXPECT_EQ(2, json_object_array_length(th_json_get(s, "kept")));
	json_object_put(o);

	/* a budget of one and a half cores: never more in the store */
	snprintf(extra, sizeof(extra),
		 "core_handler = yes\ncore_store = %s\ncore_budget_per_binary = %lldK\n",
		 self->store, core_sz * 3 / 2 / 1024);
	ASSERT_EQ(0, write_policy(self, extra));
	ASSERT_EQ(0, th_lymphctl(&self->d, &reload, NULL, "reload", NULL));
	for (i = 0; i < 3; i++) {
		ASSERT_GT(c[i] = th_dump_core(NULL, 0), 0);
		ASSERT_EQ(7 + i, wait_records(self->journal, "core-handled", 7 + i));
		store_usage(self->store, &bytes);
		EXPECT_LE(bytes, core_sz * 3 / 2) TH_LOG("crash %d: %lld bytes stored", i, bytes);
	}
	EXPECT_NE(0, stored_of(self->store, c[2], path, sizeof(path))[0])
	TH_LOG("the newest core was not kept");

	/* stop: the pattern is the one we found */
	th_lymphd_stop(&self->d);
	self->running = false;
	EXPECT_STREQ(self->orig, read_pattern(cur, sizeof(cur)));
	EXPECT_EQ(1, th_journal_count(self->journal, "phagocyte", "core-handler-restored"));
	EXPECT_NE(0, access(self->saved, F_OK));
}

/* A process that set RLIMIT_CORE to 0 wants no core: the kernel still
 * pipes it to the handler (it ignores the limit for a pipe), the handler
 * stores nothing and removes nothing, and the crash is still counted. */
TEST_F_TIMEOUT(cores, no_core_stored_for_a_process_that_wants_none, 120)
{
	char extra[400], path[700];
	json_object *recs, *o, *s;
	long long bytes;
	pid_t a, z;

	snprintf(extra, sizeof(extra), "core_handler = yes\ncore_store = %s\n", self->store);
	ASSERT_EQ(0, write_policy(self, extra));
	ASSERT_EQ(0, start_lymphd(self));
	ASSERT_EQ(1, wait_records(self->journal, "core-handler-installed", 1));
	ASSERT_GT(a = th_dump_core(NULL, 0), 0);
	ASSERT_EQ(1, wait_records(self->journal, "core-handled", 1));
	ASSERT_GT(z = th_crash_wanting_no_core(0), 0);
	ASSERT_EQ(2, wait_records(self->journal, "core-handled", 2));

	recs = th_journal_records(self->journal, "phagocyte", "core-handled");
	o = json_object_array_get_idx(recs, 1);
	EXPECT_EQ(z, th_json_int(o, "pid")) TH_LOG("%s", th_json_text(recs));
	EXPECT_NE(NULL, strstr(th_json_str(o, "result") ?: "", "RLIMIT_CORE is 0"))
	TH_LOG("%s", th_json_text(o));
	EXPECT_EQ(NULL, th_json_get(o, "kept"));
	json_object_put(recs);
	EXPECT_EQ(0, stored_of(self->store, z, path, sizeof(path))[0]) TH_LOG("%s", path);
	/* the core before it is still there: nothing was removed for it */
	EXPECT_NE(0, stored_of(self->store, a, path, sizeof(path))[0]);
	EXPECT_EQ(1, store_usage(self->store, &bytes));
	/* counted with its signature all the same */
	o = crashes(self, _metadata);
	ASSERT_NE(NULL, o);
	s = sig_with(o, "phagocyte_cores_test", 2);
	EXPECT_NE(NULL, s) TH_LOG("%s", th_json_text(o));
	json_object_put(o);
}

/* lymphd killed: its pattern stays and the handler works without it; the
 * next lymphd without core_handler puts the saved pattern back. */
TEST_F_TIMEOUT(cores, pattern_restored_after_a_killed_lymphd, 120)
{
	char cur[256], extra[400];
	json_object *recs;
	long long bytes;
	int64_t deadline;

	snprintf(extra, sizeof(extra), "core_handler = yes\ncore_store = %s\n", self->store);
	ASSERT_EQ(0, write_policy(self, extra));
	ASSERT_EQ(0, start_lymphd(self));
	ASSERT_EQ(1, wait_records(self->journal, "core-handler-installed", 1));
	kill(self->d.pid, SIGKILL);
	th_lymphd_stop(&self->d);
	self->running = false;
	read_pattern(cur, sizeof(cur));
	ASSERT_NE(NULL, strstr(cur, "--core-handler")) TH_LOG("%s", cur);

	ASSERT_GT(th_dump_core(NULL, 0), 0);
	deadline = th_now_ms() + WAIT_MS;
	while (!store_usage(self->store, &bytes) && th_now_ms() < deadline)
		th_sleep_ms(50);
	EXPECT_EQ(1, store_usage(self->store, &bytes))
	TH_LOG("the handler stored nothing without lymphd");

	ASSERT_EQ(0, write_policy(self, "core_handler = no\n"));
	ASSERT_EQ(0, start_lymphd(self));
	ASSERT_EQ(1, wait_records(self->journal, "core-handler-restored", 1));
	EXPECT_STREQ(self->orig, read_pattern(cur, sizeof(cur)));
	recs = th_journal_records(self->journal, "phagocyte", "core-handler-restored");
	EXPECT_STREQ("ok", th_json_str(json_object_array_get_idx(recs, 0), "result"));
	EXPECT_STREQ(self->orig,
		     th_json_str(json_object_array_get_idx(recs, 0), "previous_pattern"));
	json_object_put(recs);
	EXPECT_NE(0, access(self->saved, F_OK));
}

/* ---- artifacts of other handlers ---------------------------------------------------- */

/* A systemd-coredump artifact: its name carries a 15-byte COMM, its
 * xattrs the executable's path and the signal. */
static int coredump_file(const char *dir, const char *comm, int pid, const char *exe, int sig,
			 time_t mtime)
{
	char path[600], s[16];
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

	snprintf(path, sizeof(path),
		 "%s/core.%s.0.5b1c0ffee0ddf00d5b1c0ffee0ddf00d.%d.%lld000000.zst", dir, comm, pid,
		 (long long)mtime);
	if (th_write_file(path, "(zstd data)", 0640))
		return -1;
	snprintf(s, sizeof(s), "%d", sig);
	if (setxattr(path, "user.coredump.exe", exe, strlen(exe), 0) ||
	    setxattr(path, "user.coredump.signal", s, strlen(s), 0))
		return -errno;
	return utimensat(AT_FDCWD, path, ts, 0) ? -errno : 0;
}

static json_object *wait_sigs(FIXTURE_DATA(cores) * self, struct __test_metadata *_metadata,
			      size_t n)
{
	int64_t deadline = th_now_ms() + WAIT_MS;
	json_object *o = NULL;

	while (th_now_ms() < deadline) {
		json_object_put(o);
		o = crashes(self, _metadata);
		if (o && json_object_array_length(th_json_get(o, "signatures")) >= n)
			break;
		th_sleep_ms(100);
	}
	return o;
}

/* Three systemd-coredump artifacts with the same COMM from two binaries,
 * and an apport report whose file name reads as another path: grouped by
 * the binary they name, so none is a repeat of another binary's crash. */
TEST_F_TIMEOUT(cores, coredump_and_apport_artifacts_grouped_by_binary, 90)
{
	char crashdir[400], exe_a[400], exe_b[400], tool[400], path[700], text[1200], extra[600];
	time_t t = time(NULL) - 600;
	json_object *o, *s;
	int n;

	snprintf(crashdir, sizeof(crashdir), "%s/crash", self->dir);
	snprintf(exe_a, sizeof(exe_a), "%s/a_worker", self->dir);
	snprintf(exe_b, sizeof(exe_b), "%s/b_worker", self->dir);
	snprintf(tool, sizeof(tool), "%s/my_tool", self->dir);
	ASSERT_EQ(0, mkdir(crashdir, 0755));
	ASSERT_EQ(0, th_write_file(exe_a, "#!/bin/sh\n", 0755));
	ASSERT_EQ(0, th_write_file(exe_b, "#!/bin/sh\n", 0755));
	n = coredump_file(crashdir, "worker", 101, exe_a, 11, t);
	if (n == -ENOTSUP || n == -EOPNOTSUPP)
		SKIP(return, "%s has no user extended attributes", crashdir);
	ASSERT_EQ(0, n);
	ASSERT_EQ(0, coredump_file(crashdir, "worker", 102, exe_b, 11, t + 10));
	ASSERT_EQ(0, coredump_file(crashdir, "worker", 103, exe_a, 11, t + 20));
	/* apport: /DIR/my_tool is _DIR_my_tool, which reads back as /DIR/my/tool */
	snprintf(path, sizeof(path), "%s/", crashdir);
	for (const char *p = tool; *p; p++)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%c",
			 *p == '/' ? '_' : *p);
	strcat(path, ".0.crash");
	snprintf(text, sizeof(text),
		 "ProblemType: Crash\nDate: Mon Nov 30 00:00:00 2026\nExecutablePath: %s\n"
		 "ProcCmdline: %s\nSignal: 6\nCoreDump: base64\n H4sICAAAAAAC/0NvcmVEdW1wAA==\n",
		 tool, tool);
	ASSERT_EQ(0, th_write_file(path, text, 0640));

	snprintf(extra, sizeof(extra), "core_dir = %s\n", crashdir);
	ASSERT_EQ(0, write_policy(self, extra));
	ASSERT_EQ(0, start_lymphd(self));
	o = wait_sigs(self, _metadata, 3);
	ASSERT_NE(NULL, o);
	th_sleep_ms(600); /* a few scans: any removal would have happened */
	EXPECT_EQ(0, th_journal_count(self->journal, "phagocyte", "core-removed"));
	EXPECT_EQ(0, th_journal_count(self->journal, "phagocyte", "core-would-remove"));
	s = sig_with(o, exe_a, 2);
	EXPECT_NE(NULL, s) TH_LOG("%s", th_json_text(o));
	if (s) {
		EXPECT_EQ(2, json_object_array_length(th_json_get(s, "kept")));
		EXPECT_NE(NULL, strstr(th_json_str(s, "label") ?: "", "SEGV (systemd-coredump)"));
	}
	EXPECT_NE(NULL, sig_with(o, exe_b, 1)) TH_LOG("%s", th_json_text(o));
	s = sig_with(o, tool, 1);
	EXPECT_NE(NULL, s) TH_LOG("%s", th_json_text(o));
	if (s) {
		EXPECT_STREQ(tool, th_json_str(s, "binary"));
		EXPECT_NE(NULL, strstr(th_json_str(s, "label") ?: "", "ABRT (apport report)"));
	}
	json_object_put(o);
}

/* ---- signatures across restarts ----------------------------------------------------- */

/* Three crashes of one binary and signal: the repeat between the first
 * and the newest is removed, the signature counts 3; after a restart of
 * lymphd it still counts 3 (not the 2 artifacts left), with the same first
 * and last times. */
TEST_F_TIMEOUT(cores, signatures_survive_a_restart, 90)
{
	char crashdir[400], exe[400], extra[600];
	time_t t = time(NULL) - 600;
	json_object *o, *s;
	double first, last;

	snprintf(crashdir, sizeof(crashdir), "%s/crash", self->dir);
	snprintf(exe, sizeof(exe), "%s/worker", self->dir);
	ASSERT_EQ(0, mkdir(crashdir, 0755));
	ASSERT_EQ(0, th_write_file(exe, "#!/bin/sh\n", 0755));
	for (int i = 0; i < 3; i++) {
		int n = coredump_file(crashdir, "worker", 200 + i, exe, 11, t + 10 * i);

		if (n == -ENOTSUP || n == -EOPNOTSUPP)
			SKIP(return, "%s has no user extended attributes", crashdir);
		ASSERT_EQ(0, n);
	}
	snprintf(extra, sizeof(extra), "core_dir = %s\n", crashdir);
	ASSERT_EQ(0, write_policy(self, extra));
	ASSERT_EQ(0, start_lymphd(self));
	ASSERT_EQ(1, wait_records(self->journal, "core-removed", 1));
	o = wait_sigs(self, _metadata, 1);
	ASSERT_NE(NULL, o);
	s = sig_with(o, exe, 3);
	ASSERT_NE(NULL, s) TH_LOG("%s", th_json_text(o));
	first = th_json_get(s, "first") ? json_object_get_double(th_json_get(s, "first")) : 0;
	last = th_json_get(s, "last") ? json_object_get_double(th_json_get(s, "last")) : 0;
	EXPECT_EQ((double)t, first);
	EXPECT_EQ((double)(t + 20), last);
	json_object_put(o);

	th_lymphd_stop(&self->d);
	self->running = false;
	ASSERT_EQ(0, start_lymphd(self));
	o = wait_sigs(self, _metadata, 1);
	ASSERT_NE(NULL, o);
	th_sleep_ms(600); /* a few scans: nothing is counted twice */
	json_object_put(o);
	o = crashes(self, _metadata);
	ASSERT_NE(NULL, o);
	s = sig_with(o, exe, -1);
	ASSERT_NE(NULL, s) TH_LOG("%s", th_json_text(o));
	EXPECT_EQ(3, th_json_int(s, "count")) TH_LOG("%s", th_json_text(o));
	EXPECT_EQ((double)t, json_object_get_double(th_json_get(s, "first")));
	EXPECT_EQ((double)(t + 20), json_object_get_double(th_json_get(s, "last")));
	EXPECT_EQ(2, json_object_array_length(th_json_get(s, "kept")));
	json_object_put(o);
}

/* ---- bad input ----------------------------------------------------------------------- */

TEST_F(cores, check_config_refuses_bad_core_handler_input)
{
	EXPECT_EQ(
		0,
		th_check_config_refuses(
			self->conf,
			"[phagocyte]\n"		      /* 1 */
			"core_handler = maybe\n"      /* 2 */
			"core_store = var/cores\n"    /* 3 */
			"core_handler_timeout = 0\n", /* 4 */
			(const char *const[]){
				"2: core_handler: 'maybe' is not yes or no",
				"3: core_store: 'var/cores' is not a normalised absolute directory",
				"4: core_handler_timeout: 0 is out of range",
				NULL,
			}));
}

TEST_HARNESS_MAIN
