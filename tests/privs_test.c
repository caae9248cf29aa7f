// SPDX-License-Identifier: GPL-2.0-only
/*
 * Least privilege: once lymphd has loaded its BPF programs, attached them
 * and bound its socket, it keeps exactly the capabilities its responders
 * use (userspace/privs.c, privs_kept_mask()):
 *
 *   CAP_KILL             stop, continue and kill processes of any uid
 *   CAP_SETUID/SETGID    start services as their configured user
 *   CAP_SETPCAP          empty the bounding set of what it starts
 *   CAP_SYS_PTRACE       read /proc/PID/exe of any process (binary names)
 *   CAP_DAC_READ_SEARCH  read any binary: fanotify marks, integrity checks
 *
 * in the permitted, effective and bounding sets, and nothing inheritable or
 * ambient.  Checked in /proc/PID/status of a running lymphd, in observe and
 * in enforce mode.
 */
#include <linux/capability.h>
#include "helpers.h"
#include "storm_helpers.h"

/* The documented set, spelled out here rather than taken from privs.c. */
#define KEPT_CAPS ((1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) | \
		   (1ULL << CAP_SETUID) | (1ULL << CAP_SETPCAP) | (1ULL << CAP_SYS_PTRACE))

_Static_assert(KEPT_CAPS == 0x801e4ULL, "the documented capability set is 0x801e4");

FIXTURE(privs) {
	struct th_lymphd d;
	char dir[256];
};

FIXTURE_SETUP(privs)
{
	th_lymphd_init(&self->d);
	self->dir[0] = '\0';
	if (!th_is_root())
		SKIP(return, "needs root");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "privs"));
}

FIXTURE_TEARDOWN(privs)
{
	th_lymphd_destroy(&self->d);
	th_rmdir_flat(self->dir);
}

/* A Cap* line of /proc/pid/status; -1 when missing. */
static long long cap_field(pid_t pid, const char *name)
{
	char path[64], line[256];
	long long v = -1;
	size_t len = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':') {
			v = strtoll(line + len + 1, NULL, 16);
			break;
		}
	fclose(f);
	return v;
}

static void check_caps(struct __test_metadata *_metadata, pid_t pid)
{
	static const char *const kept[] = { "CapPrm", "CapEff", "CapBnd" };
	static const char *const none[] = { "CapInh", "CapAmb" };
	size_t i;

	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		long long v = cap_field(pid, kept[i]);

		EXPECT_EQ((long long)KEPT_CAPS, v)
			TH_LOG("%s of lymphd is %#llx, want %#llx", kept[i], v, KEPT_CAPS);
	}
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		long long v = cap_field(pid, none[i]);

		EXPECT_EQ(0, v) TH_LOG("%s of lymphd is %#llx, want 0", none[i], v);
	}
}

static void run_mode(struct __test_metadata *_metadata, FIXTURE_DATA(privs) *self,
		     const char *mode)
{
	char text[1024], conf[PATH_MAX], journal[PATH_MAX];
	json_object *st;

	snprintf(text, sizeof(text), "[lymphd]\nmode = %s\n\n[protect]\nuid = 0\n", mode);
	ASSERT_EQ(0, storm_write_file(self->dir, "lymph.conf", text, conf, sizeof(conf)));
	snprintf(journal, sizeof(journal), "%s/journal", self->dir);
	ASSERT_EQ(0, storm_lymphd_start(&self->d, conf, journal, NULL));
	/* it answers: setup is over, the drop has happened */
	st = storm_ctl_json(&self->d, "status");
	ASSERT_NE(NULL, st);
	EXPECT_STREQ(mode, th_json_str(st, "mode"));
	json_object_put(st);
	TH_LOG("lymphd (%s mode) CapEff %#llx CapBnd %#llx", mode, cap_field(self->d.pid, "CapEff"),
	       cap_field(self->d.pid, "CapBnd"));
	check_caps(_metadata, self->d.pid);
	th_lymphd_destroy(&self->d);
}

TEST_F(privs, observe_mode_keeps_only_the_documented_set)
{
	run_mode(_metadata, self, "observe");
}

TEST_F(privs, enforce_mode_keeps_only_the_documented_set)
{
	run_mode(_metadata, self, "enforce");
}

TEST_HARNESS_MAIN
