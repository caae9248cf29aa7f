// SPDX-License-Identifier: GPL-2.0-only
/*
 * make install / make uninstall and the systemd unit, as an administrator
 * meets them:
 *
 * - make install DESTDIR=... PREFIX=/usr puts every file where the unit,
 *   the man pages and dkms expect it, with the right modes; the unit names
 *   the installed binaries; the installed policy is the commented example,
 *   valid and observe-only; uncommented, the example is a valid policy.
 * - `systemd-analyze verify` passes on the installed unit, with no warning.
 * - the capabilities the unit leaves lymphd (CapabilityBoundingSet) are
 *   enough for it to load everything and keep what privs.c keeps, and the
 *   load-time one is needed (without it the sensors and quarantine degrade).
 * - an existing, changed policy survives install and uninstall; uninstall
 *   removes everything else.
 * - a DESTDIR on a read-only mount, or under a file, gets one clear error
 *   and nothing is changed.
 * - one version everywhere: VERSION, lymphd -V, lymphctl -V, dkms.conf,
 *   debian/changelog, the man pages (and lymph.ko when built).
 */
#include <ctype.h>
#include <dirent.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include "helpers.h"
#include "pkg_helpers.h"

FIXTURE(inst)
{
	char dir[256];
	char top[PATH_MAX];
	char build[PATH_MAX];
	char version[64];
	struct th_cmd r;
};

#define SH(script) pkg_sh(&self->r, self->top, self->build, self->dir, script, 180000)

FIXTURE_SETUP(inst)
{
	char path[PATH_MAX + 16], *nl;

	self->dir[0] = '\0';
	ASSERT_EQ(0, find_top(self->top, sizeof(self->top), self->build, sizeof(self->build)))
	TH_LOG("cannot find the source tree above %s", th_build_dir());
	snprintf(path, sizeof(path), "%s/VERSION", self->top);
	ASSERT_EQ(0, th_read_file(path, self->version, sizeof(self->version)));
	nl = strchr(self->version, '\n');
	if (nl)
		*nl = '\0';
	ASSERT_NE(0, self->version[0]);
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "install"));
}

FIXTURE_TEARDOWN(inst)
{
	th_rmdir_flat(self->dir);
}

TEST_F_TIMEOUT(inst, files_land_where_unit_and_man_pages_say, 240)
{
	static const struct {
		const char *path;
		int mode;
	} files[] = {
		{ "root/usr/sbin/lymphd", 0755 },
		{ "root/usr/sbin/lymphctl", 0755 },
		{ "root/usr/share/man/man8/lymphd.8", 0644 },
		{ "root/usr/share/man/man8/lymphctl.8", 0644 },
		{ "root/usr/share/man/man5/lymph.conf.5", 0644 },
		{ "root/etc/lymph", 0755 }, /* lymphd refuses a policy dir others may write */
		{ "root/etc/lymph/lymph.conf", 0644 },
		{ "root/lib/systemd/system/lymphd.service", 0644 },
	};
	static const char *const dkms_files[] = {
		"dkms.conf",
		"Kbuild",
		"VERSION",
		"kmod/main.c",
		"kmod/lymph.h",
		"kmod/compat.h",
		"include/lymph/events.h",
	};
	char path[PATH_MAX + 300], unit[8192], val[512], cmd[PATH_MAX + 600];
	size_t i;

	ASSERT_EQ(
		0,
		SH("make -s -C \"$TOP\" install BUILD=\"$BUILD\" DESTDIR=\"$T/root\" PREFIX=/usr"))
	TH_LOG("make install failed: %s", self->r.err);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", self->dir, files[i].path);
		EXPECT_EQ(files[i].mode, mode_of(path)) TH_LOG("%s", files[i].path);
	}
	for (i = 0; i < sizeof(dkms_files) / sizeof(dkms_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/root/usr/src/lymph-%s/%s", self->dir,
			 self->version, dkms_files[i]);
		EXPECT_EQ(0644, mode_of(path)) TH_LOG("%s", path);
	}
	/* dkms builds with the tree's Kbuild: no build-system file of ours. */
	snprintf(path, sizeof(path), "%s/root/usr/src/lymph-%s/kmod/kmod.mk", self->dir,
		 self->version);
	EXPECT_EQ(-1, mode_of(path));

	/* The unit runs the installed binaries. */
	snprintf(path, sizeof(path), "%s/root/lib/systemd/system/lymphd.service", self->dir);
	ASSERT_EQ(0, th_read_file(path, unit, sizeof(unit)));
	unit_value(unit, "Type", val, sizeof(val));
	EXPECT_STREQ("notify", val);
	unit_value(unit, "ExecStart", val, sizeof(val));
	EXPECT_STREQ("/usr/sbin/lymphd", val);
	unit_value(unit, "ExecReload", val, sizeof(val));
	EXPECT_STREQ("/usr/sbin/lymphctl reload", val);
	unit_value(unit, "Documentation", val, sizeof(val));
	EXPECT_STREQ("man:lymphd(8) man:lymphctl(8) man:lymph.conf(5)", val);

	/* The installed lymphd is this version; the policy is valid and observes. */
	snprintf(cmd, sizeof(cmd), "%s/root/usr/sbin/lymphd", self->dir);
	{
		char *argv[] = { cmd, "--version", NULL };

		ASSERT_EQ(0, th_run(argv, NULL, &self->r));
		snprintf(val, sizeof(val), "lymphd %s\n", self->version);
		EXPECT_STREQ(val, self->r.out);
	}
	{
		char conf[PATH_MAX + 64];
		char *argv[] = { cmd, "--check-config", conf, NULL };

		snprintf(conf, sizeof(conf), "%s/root/etc/lymph/lymph.conf", self->dir);
		ASSERT_EQ(0, th_run(argv, NULL, &self->r));
		EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
		EXPECT_NE(NULL, strstr(self->r.out, "valid (1 file, 0 services, observe mode)"))
		TH_LOG("%s", self->r.out);
	}

	/* The example, uncommented, is a valid policy (it documents real keys). */
	EXPECT_EQ(0, SH("mkdir -m 0755 \"$T/ex\" && sed -E 's/^#(\\[|[a-z_]+ = )/\\1/' "
			"\"$T/root/etc/lymph/lymph.conf\" >\"$T/ex/lymph.conf\" && "
			"grep -c '^\\[' \"$T/ex/lymph.conf\" && "
			"\"$T/root/usr/sbin/lymphd\" --check-config \"$T/ex/lymph.conf\""))
	TH_LOG("%s%s", self->r.out, self->r.err);
	EXPECT_NE(NULL, strstr(self->r.out, "valid (1 file, 2 services, observe mode)"))
	TH_LOG("%s", self->r.out);

	/* systemd-analyze verify on the installed unit, with its binaries and
	 * man pages where DESTDIR has them (the tree's own systemd/lymphd.service
	 * says /usr/sbin, which this host need not have). */
	ASSERT_EQ(
		0,
		SH("command -v systemd-analyze >/dev/null || "
		   "{ echo 'systemd-analyze missing: run scripts/deps.sh' >&2; exit 1; }; "
		   "mkdir \"$T/verify\" && "
		   "sed \"s|/usr/sbin/|$T/root/usr/sbin/|g\" \"$T/root/lib/systemd/system/lymphd.service\" "
		   ">\"$T/verify/lymphd.service\" && cd / && "
		   "MANPATH=\"$T/root/usr/share/man\" systemd-analyze verify \"$T/verify/lymphd.service\" 2>&1"))
	TH_LOG("systemd-analyze verify failed: %s%s", self->r.out, self->r.err);
	EXPECT_STREQ("", self->r.out) TH_LOG("systemd-analyze verify warned");
}

/* PREFIX=/usr/local: binaries, man pages and the unit under it, and the
 * unit names the binaries there. */
TEST_F_TIMEOUT(inst, prefix_usr_local, 240)
{
	char path[PATH_MAX + 300], unit[8192], val[512];

	ASSERT_EQ(0, SH("make -s -C \"$TOP\" install BUILD=\"$BUILD\" DESTDIR=\"$T/root\""))
	TH_LOG("make install failed: %s", self->r.err);
	snprintf(path, sizeof(path), "%s/root/usr/local/sbin/lymphd", self->dir);
	EXPECT_EQ(0755, mode_of(path));
	snprintf(path, sizeof(path), "%s/root/usr/local/share/man/man8/lymphd.8", self->dir);
	EXPECT_EQ(0644, mode_of(path));
	snprintf(path, sizeof(path), "%s/root/usr/local/lib/systemd/system/lymphd.service",
		 self->dir);
	ASSERT_EQ(0, th_read_file(path, unit, sizeof(unit)));
	unit_value(unit, "ExecStart", val, sizeof(val));
	EXPECT_STREQ("/usr/local/sbin/lymphd", val);
	unit_value(unit, "ExecReload", val, sizeof(val));
	EXPECT_STREQ("/usr/local/sbin/lymphctl reload", val);
}

/* A changed policy is the administrator's: install and uninstall keep it.
 * Everything else goes at uninstall; an unchanged policy goes too. */
TEST_F_TIMEOUT(inst, uninstall_removes_all_but_a_changed_policy, 240)
{
	char path[PATH_MAX + 300], text[4096];

	ASSERT_EQ(
		0,
		SH("make -s -C \"$TOP\" install BUILD=\"$BUILD\" DESTDIR=\"$T/root\" PREFIX=/usr"))
	TH_LOG("%s", self->r.err);
	snprintf(path, sizeof(path), "%s/root/etc/lymph/lymph.conf", self->dir);
	ASSERT_EQ(0, th_write_file(path, "[lymphd]\nmode = enforce\n", 0644));
	ASSERT_EQ(
		0,
		SH("make -s -C \"$TOP\" install BUILD=\"$BUILD\" DESTDIR=\"$T/root\" PREFIX=/usr"))
	TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, th_read_file(path, text, sizeof(text)));
	EXPECT_STREQ("[lymphd]\nmode = enforce\n", text)
	TH_LOG("make install overwrote the policy");
	EXPECT_NE(NULL, strstr(self->r.out, "lymph.conf.example")) TH_LOG("%s", self->r.out);
	snprintf(path, sizeof(path), "%s/root/etc/lymph/lymph.conf.example", self->dir);
	EXPECT_EQ(0644, mode_of(path));

	ASSERT_EQ(0,
		  SH("make -s -C \"$TOP\" uninstall DESTDIR=\"$T/root\" PREFIX=/usr >/dev/null && "
		     "find \"$T/root\" -type f | sed \"s|^$T/root||\" | sort"))
	TH_LOG("%s", self->r.err);
	EXPECT_STREQ("/etc/lymph/lymph.conf\n", self->r.out) TH_LOG("left after uninstall");

	/* Unchanged: nothing at all is left. */
	ASSERT_EQ(
		0,
		SH("rm -rf \"$T/root\" && "
		   "make -s -C \"$TOP\" install BUILD=\"$BUILD\" DESTDIR=\"$T/root\" PREFIX=/usr >/dev/null && "
		   "make -s -C \"$TOP\" uninstall DESTDIR=\"$T/root\" PREFIX=/usr >/dev/null && "
		   "find \"$T/root\" ! -type d"))
	TH_LOG("%s", self->r.err);
	EXPECT_STREQ("", self->r.out) TH_LOG("left after uninstall");
}

/* A DESTDIR on a read-only mount: one clear error, nothing written (the
 * mount is a tmpfs in a private mount namespace of the test's own). */
TEST_F_TIMEOUT(inst, readonly_destdir_fails_clearly_and_changes_nothing, 240)
{
	if (!th_is_root())
		SKIP(return, "needs root to mount a read-only file system");
	ASSERT_EQ(0,
		  SH("mkdir \"$T/ro\" && exec unshare -m --propagation private /bin/sh -c '"
		     "mount -t tmpfs lymph-test \"$T/ro\" && echo keep >\"$T/ro/marker\" && "
		     "mount -o remount,ro \"$T/ro\" && "
		     "make -s -C \"$TOP\" install BUILD=\"$BUILD\" DESTDIR=\"$T/ro\" PREFIX=/usr; "
		     "echo \"status=$?\"; ls -A \"$T/ro\"; umount \"$T/ro\"'"))
	TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.out, "status=2\nmarker\n")) TH_LOG("out: %s", self->r.out);
	EXPECT_NE(NULL, strstr(self->r.err, "read-only")) TH_LOG("err: %s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err, "nothing was changed")) TH_LOG("err: %s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err, "DESTDIR=")) TH_LOG("err: %s", self->r.err);
	/* make's own trailer aside, the error is one line. */
	EXPECT_EQ(1, th_count_lines(self->r.err) - (strstr(self->r.err, "make: ***") ? 1 : 0))
	TH_LOG("err: %s", self->r.err);

	/* make uninstall from it: refused the same way. */
	ASSERT_EQ(0, SH("exec unshare -m --propagation private /bin/sh -c '"
			"mount -t tmpfs lymph-test \"$T/ro\" && mkdir -p \"$T/ro/usr/sbin\" && "
			"echo keep >\"$T/ro/usr/sbin/lymphd\" && mount -o remount,ro \"$T/ro\" && "
			"make -s -C \"$TOP\" uninstall DESTDIR=\"$T/ro\" PREFIX=/usr; "
			"echo \"status=$?\"; ls -A \"$T/ro/usr/sbin\"; umount \"$T/ro\"'"))
	TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.out, "status=2\nlymphd\n")) TH_LOG("out: %s", self->r.out);
	EXPECT_NE(NULL, strstr(self->r.err, "read-only")) TH_LOG("err: %s", self->r.err);
}

/* A user who may not write DESTDIR (root's, mode 0755): refused in one line
 * that names the uid, before anything is built or written. */
TEST_F_TIMEOUT(inst, destdir_of_another_user_refused, 120)
{
	char script[PATH_MAX * 2 + 600], top[PATH_MAX + 8], build[PATH_MAX + 8], t[300];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	char *env[] = { top, build, t, NULL };
	struct th_cmd_opts o = { .as_user = true, .uid = 65534, .env = env, .timeout_ms = 60000 };

	if (!th_is_root())
		SKIP(return, "needs root to act as another user");
	snprintf(top, sizeof(top), "TOP=%s", self->top);
	snprintf(build, sizeof(build), "BUILD=%s", self->build);
	snprintf(t, sizeof(t), "T=%s", self->dir);
	ASSERT_EQ(0, SH("mkdir -m 0755 \"$T/root\" && echo keep >\"$T/root/marker\""));
	snprintf(
		script, sizeof(script),
		"cd / && test -r \"$TOP/Makefile\" && test -x \"$TOP/scripts/install.sh\" || exit 77; "
		"make -s -C \"$TOP\" install BUILD=\"$BUILD\" DESTDIR=\"$T/root\" PREFIX=/usr");
	unsetenv("MAKEFLAGS");
	unsetenv("MAKELEVEL");
	ASSERT_EQ(0, th_run(argv, &o, &self->r));
	if (WIFEXITED(self->r.status) && WEXITSTATUS(self->r.status) == 77)
		SKIP(return, "uid 65534 cannot read the source tree here");
	EXPECT_TRUE(th_exited_nonzero(self->r.status)) TH_LOG("status 0x%x", self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "not writable by uid 65534"))
	TH_LOG("err: %s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err, "nothing was changed")) TH_LOG("err: %s", self->r.err);
	EXPECT_EQ(0, SH("ls -A \"$T/root\""));
	EXPECT_STREQ("marker\n", self->r.out);
}

/* A DESTDIR under a regular file, and a relative one: refused, nothing made. */
TEST_F_TIMEOUT(inst, bad_destdir_refused, 120)
{
	ASSERT_EQ(
		0,
		SH("echo x >\"$T/file\" && "
		   "make -s -C \"$TOP\" install BUILD=\"$BUILD\" DESTDIR=\"$T/file/root\"; echo \"status=$?\""))
	TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.out, "status=2")) TH_LOG("out: %s", self->r.out);
	EXPECT_NE(NULL, strstr(self->r.err, "is not a directory")) TH_LOG("err: %s", self->r.err);

	ASSERT_EQ(0,
		  SH("cd \"$T\" && make -s -C \"$TOP\" install BUILD=\"$BUILD\" DESTDIR=relative; "
		     "echo \"status=$?\"; ls -A \"$T\" \"$TOP\" | grep -c '^relative$'; true"))
	TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.out, "status=2\n0\n")) TH_LOG("out: %s", self->r.out);
	EXPECT_NE(NULL, strstr(self->r.err, "DESTDIR must be an absolute path"))
	TH_LOG("err: %s", self->r.err);
}

/* One version: VERSION, both programs, dkms.conf, debian/changelog, the man
 * pages, and the module when it was built. */
TEST_F(inst, one_version_everywhere)
{
	char cmd[1024];

	snprintf(
		cmd, sizeof(cmd),
		"cd \"$TOP\" && v=$(cat VERSION) && "
		"echo \"lymphd: $(\"$BUILD/lymphd\" --version)\"; "
		"echo \"lymphctl: $(\"$BUILD/lymphctl\" --version)\"; "
		"echo \"dkms.conf: $(sed -n 's/^PACKAGE_VERSION=\"\\(.*\\)\"$/\\1/p' dkms.conf)\"; "
		"echo \"debian/changelog: $(sed -n '1s/^lymph (\\([^)]*\\)).*/\\1/p' debian/changelog)\"; "
		"for m in doc/*.5 doc/*.8; do echo \"$m: $(sed -n 's/^\\.TH .*\"lymph \\([^\"]*\\)\".*/\\1/p' $m)\"; done; "
		"if [ -f \"$BUILD/kmod/lymph.ko\" ]; then "
		"echo \"lymph.ko: $(modinfo -F version \"$BUILD/kmod/lymph.ko\")\"; fi");
	ASSERT_EQ(0, SH(cmd)) TH_LOG("%s", self->r.err);
	{
		char *line = self->r.out, *nl;
		int n = 0;

		for (; line && *line; line = nl ? nl + 1 : NULL) {
			const char *colon = strstr(line, ": ");
			const char *v;

			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			ASSERT_NE(NULL, colon) TH_LOG("%s", line);
			v = strrchr(line, ' ') + 1;
			EXPECT_STREQ(self->version, v) TH_LOG("%s", line);
			n++;
		}
		EXPECT_GE(n, 7);
	}
}

/* ---- the unit's capabilities --------------------------------------------- */

/* CapabilityBoundingSet= of the tree's unit, as setpriv's list and a mask. */
static int unit_caps(FIXTURE_DATA(inst) * self, char *list, size_t cap, uint64_t *mask)
{
	char path[PATH_MAX + 32], unit[8192], val[1024], *tok, *save = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/systemd/lymphd.service", self->top);
	if (th_read_file(path, unit, sizeof(unit)))
		return -ENOENT;
	unit_value(unit, "CapabilityBoundingSet", val, sizeof(val));
	*mask = 0;
	list[0] = '\0';
	for (tok = strtok_r(val, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		cap_value_t c;
		char lower[64];
		size_t i;

		if (cap_from_name(tok, &c))
			return -EINVAL;
		*mask |= 1ULL << c;
		for (i = 0; tok[i] && i + 1 < sizeof(lower); i++)
			lower[i] = (char)tolower((unsigned char)tok[i]);
		lower[i] = '\0';
		len += (size_t)snprintf(list + len, cap - len, ",+%s", lower + 4); /* no "cap_" */
	}
	return *mask ? 0 : -ENOENT;
}

/* Start lymphd under setpriv with the given bounding set (and no_new_privs,
 * as NoNewPrivileges=yes does); wait until `lymphctl status` answers and
 * return its JSON, and lymphd's CapBnd.  The caller stops *pid. */
static json_object *start_bounded(FIXTURE_DATA(inst) * self, const char *bset, pid_t *pid,
				  uint64_t *capbnd)
{
	char prog[PATH_MAX], ctlprog[PATH_MAX], sock[300], sopt[320], jopt[320], copt[320],
		bs[1100];
	int64_t deadline = th_now_ms() + 60000;

	th_prog("lymphd", prog, sizeof(prog));
	th_prog("lymphctl", ctlprog, sizeof(ctlprog));
	snprintf(sock, sizeof(sock), "%s/lymphd.sock", self->dir);
	snprintf(sopt, sizeof(sopt), "--socket=%s", sock);
	snprintf(jopt, sizeof(jopt), "--journal=%s/journal", self->dir);
	snprintf(copt, sizeof(copt), "%s/observe.conf", self->dir);
	if (th_write_file(copt, "[lymphd]\nmode = observe\n", 0644))
		return NULL;
	snprintf(bs, sizeof(bs), "-all%s", bset);
	unlink(sock);
	fflush(stdout);
	fflush(stderr);
	*pid = fork();
	if (*pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		char errpath[300];
		int e;

		snprintf(errpath, sizeof(errpath), "%s/lymphd.stderr", self->dir);
		e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		dup2(null, 0);
		dup2(null, 1);
		if (e >= 0)
			dup2(e, 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/usr/bin/setpriv", "setpriv", "--bounding-set", bs, "--no-new-privs", "--",
		      prog, "-c", copt, jopt, sopt, "--quiet", (char *)NULL);
		_exit(127);
	}
	while (th_now_ms() < deadline) {
		char *argv[] = { ctlprog, sopt, "status", "--json", NULL };
		int status;

		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = -1;
			return NULL;
		}
		if (!access(sock, F_OK) && !th_run(argv, NULL, &self->r) && self->r.status == 0) {
			char path[64], line[256];
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%d/status", (int)*pid);
			f = fopen(path, "re");
			while (f && fgets(line, sizeof(line), f))
				if (!strncmp(line, "CapBnd:", 7))
					*capbnd = strtoull(line + 7, NULL, 16);
			if (f)
				fclose(f);
			return json_tokener_parse(self->r.out);
		}
		th_sleep_ms(200);
	}
	return NULL;
}

static void stop_pid(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++)
		th_sleep_ms(10);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void dump_lymphd_stderr(FIXTURE_DATA(inst) * self)
{
	char path[300], text[4096];

	snprintf(path, sizeof(path), "%s/lymphd.stderr", self->dir);
	if (!th_read_file(path, text, sizeof(text)))
		th_diag("lymphd stderr: %s", text);
}

/*
 * lymphd confined to the unit's CapabilityBoundingSet (and no_new_privs)
 * loads the BPF sensors, arms fanotify quarantine and keeps exactly the
 * set privs.c keeps, and at most one of CAP_SYS_ADMIN and CAP_PERFMON
 * (the perf capability: permitted, for the refused-fork probe's perf event
 * where the kernel wants one); without CAP_SYS_ADMIN the sensors fall back
 * to the proc connector and quarantine to exec bits: it is needed.
 * (CAP_BPF is not in the set: CAP_SYS_ADMIN covers it.)
 */
TEST_F_TIMEOUT(inst, unit_capabilities_suffice_and_are_needed, 240)
{
	static const uint64_t kept = (1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_KILL) |
				     (1ULL << CAP_SETGID) | (1ULL << CAP_SETUID) |
				     (1ULL << CAP_SETPCAP) | (1ULL << CAP_SYS_PTRACE);
	static const uint64_t load = (1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_NET_ADMIN);
	static const uint64_t perfmon = 1ULL << 38; /* CAP_PERFMON, Linux 5.8+ */
	static const uint64_t perf = perfmon | (1ULL << CAP_SYS_ADMIN);
	char list[1024], less[1024], *p;
	uint64_t mask, capbnd = 0;
	json_object *st, *q;
	pid_t pid = -1;

	if (!th_is_root())
		SKIP(return, "needs root to run lymphd");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		SKIP(return, "no kernel BTF: lymphd's BPF sensors cannot load here");
	ASSERT_EQ(0, unit_caps(self, list, sizeof(list), &mask))
	TH_LOG("bad CapabilityBoundingSet in the unit");
	EXPECT_EQ(kept | load | perfmon, mask)
	TH_LOG("unit's set 0x%llx, expected 0x%llx", (unsigned long long)mask,
	       (unsigned long long)(kept | load | perfmon));

	st = start_bounded(self, list, &pid, &capbnd);
	if (!st)
		dump_lymphd_stderr(self);
	ASSERT_NE(NULL, st) TH_LOG("lymphd did not start with the unit's capabilities (%s)", list);
	EXPECT_STREQ("bpf", th_json_str(st, "source"));
	q = th_json_get(st, "quarantine");
	EXPECT_STREQ("fanotify", th_json_str(q, "enforcement") ? th_json_str(q, "enforcement") : "")
	TH_LOG("quarantine enforcement with the unit's capabilities");
	EXPECT_EQ(1, th_json_bool(th_json_get(st, "throttle"), "available"))
	TH_LOG("throttle not available with the unit's capabilities");
	/* the six, and the perf capability where the kernel wants one */
	EXPECT_EQ(kept, capbnd & ~perf) TH_LOG("CapBnd 0x%llx", (unsigned long long)capbnd);
	EXPECT_NE(perf, capbnd & perf) TH_LOG("CapBnd 0x%llx", (unsigned long long)capbnd);
	json_object_put(st);
	stop_pid(pid);

	/* Without CAP_SYS_ADMIN: no BPF sensors, no fanotify permission events. */
	snprintf(less, sizeof(less), "%s", list);
	p = strstr(less, ",+sys_admin");
	ASSERT_NE(NULL, p);
	memmove(p, p + strlen(",+sys_admin"), strlen(p + strlen(",+sys_admin")) + 1);
	st = start_bounded(self, less, &pid, &capbnd);
	if (!st)
		dump_lymphd_stderr(self);
	ASSERT_NE(NULL, st) TH_LOG("lymphd did not start without CAP_SYS_ADMIN");
	EXPECT_STRNE("bpf", th_json_str(st, "source")) TH_LOG("BPF loaded without CAP_SYS_ADMIN");
	q = th_json_get(st, "quarantine");
	EXPECT_STRNE("fanotify", th_json_str(q, "enforcement") ? th_json_str(q, "enforcement") : "")
	TH_LOG("fanotify armed without CAP_SYS_ADMIN: is it needed?");
	json_object_put(st);
	stop_pid(pid);
}

TEST_HARNESS_MAIN
