// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Debian packages, as an administrator gets them:
 *
 * - `dpkg-buildpackage -us -uc -b` (scripts/build-deb.sh, from a copy of
 *   the tree) builds lymph and lymph-dkms into a directory outside the tree
 *   ($LYMPH_CACHE/deb; a build of the same sources is reused), leaves the
 *   tree and its parent as they were, and lintian finds no error (run by
 *   build-deb.sh, which keeps no build that lintian failed).
 * - installed into a scratch root with `dpkg -x`, every file is where the
 *   unit and the man pages say: the unit's ExecStart and ExecReload
 *   programs, the man pages of its Documentation=, the policy of
 *   lymph.conf(5) (a conffile, valid, observe only); systemd-analyze verify
 *   passes on the packaged unit; the maintainer scripts enable the unit.
 * - lymph-dkms ships the module source under /usr/src/lymph-VERSION with
 *   its dkms.conf, and registers it with dkms (postinst); dkms builds it
 *   from there for another kernel (Debian 12's own, as after a kernel
 *   upgrade) into a dkms tree of the test's own.
 */
#include "helpers.h"
#include "pkg_helpers.h"

FIXTURE(deb)
{
	char dir[256];
	char top[PATH_MAX];
	char build[PATH_MAX];
	char out[512]; /* where the packages are */
	char version[64];
	char script[16384];
	struct th_cmd r;
};

#define SH(...)                                                     \
	(snprintf(self->script, sizeof(self->script), __VA_ARGS__), \
	 pkg_sh(&self->r, self->top, self->build, self->dir, self->script, 280000))

FIXTURE_SETUP(deb)
{
	const char *cache = getenv("LYMPH_CACHE");
	char path[PATH_MAX + 16], *nl;

	self->dir[0] = '\0';
	ASSERT_EQ(0, find_top(self->top, sizeof(self->top), self->build, sizeof(self->build)))
	TH_LOG("cannot find the source tree above %s", th_build_dir());
	snprintf(path, sizeof(path), "%s/VERSION", self->top);
	ASSERT_EQ(0, th_read_file(path, self->version, sizeof(self->version)));
	nl = strchr(self->version, '\n');
	if (nl)
		*nl = '\0';
	snprintf(self->out, sizeof(self->out), "%s/deb",
		 cache && *cache ? cache : "/var/cache/lymph");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "deb"));
}

FIXTURE_TEARDOWN(deb)
{
	th_rmdir_flat(self->dir);
}

/* Build (or reuse) the packages; 0 when both .deb files are there. */
static int build_debs(struct __test_metadata *_metadata, FIXTURE_DATA(deb) * self)
{
	int status = SH("\"$TOP/scripts/build-deb.sh\" '%s' --reuse", self->out);

	if (status != 0) {
		TH_LOG("scripts/build-deb.sh failed (status 0x%x): %s%s", status, self->r.out,
		       self->r.err);
		return -1;
	}
	return 0;
}

TEST_F_TIMEOUT(deb, packages_build_outside_the_tree_and_lintian_is_clean, 290)
{
	char parent[PATH_MAX];

	snprintf(parent, sizeof(parent), "%s", self->top);
	*strrchr(parent, '/') = '\0';
	/* What the tree holds before, to compare after (build/ too: with
	 * BUILD=$BUILD in the environment, as here, the package build once
	 * cleaned and refilled the caller's build directory); nothing of
	 * dpkg-buildpackage's may land in the tree's parent. */
	ASSERT_EQ(
		0,
		SH("cd \"$TOP\" && { git status --porcelain --ignored 2>/dev/null; ls -A; } >\"$T/before\" && "
		   "touch \"$T/stamp\" && sleep 1"));
	ASSERT_EQ(0, build_debs(_metadata, self));
	EXPECT_EQ(
		0,
		SH("cd \"$TOP\" && { git status --porcelain --ignored 2>/dev/null; ls -A; } >\"$T/after\" && "
		   "diff \"$T/before\" \"$T/after\""))
	TH_LOG("the package build changed the tree: %s", self->r.out);
	EXPECT_EQ(
		0,
		SH("find \"$TOP\" -path \"$TOP/.git\" -prune -o -newer \"$T/stamp\" -print | head -n 5"));
	EXPECT_STREQ("", self->r.out) TH_LOG("written in the tree during the package build");
	EXPECT_EQ(0, SH("test -x \"$BUILD/lymphd\" && test -x \"$BUILD/tests/deb_test\""))
	TH_LOG("the package build removed the build directory's programs");
	EXPECT_EQ(
		0,
		SH("ls -A '%s' | grep -E '^lymph(-dkms|-dbgsym)?_.*[.](deb|changes|buildinfo)$'; true",
		   parent));
	EXPECT_STREQ("", self->r.out) TH_LOG("package files in %s", parent);

	EXPECT_EQ(0, SH("ls '%s/lymph_%s_amd64.deb' '%s/lymph-dkms_%s_all.deb'", self->out,
			self->version, self->out, self->version))
	TH_LOG("%s", self->r.err);
	/* lintian: no error.  build-deb.sh ran it on these packages (a build is
	 * only reused when it passed); its report must show no error, and
	 * warnings are printed. */
	EXPECT_EQ(0, SH("test -s '%1$s/source.sha256' && test -f '%1$s/lintian.txt' || exit 1; "
			"grep -v 'root privileges' '%1$s/lintian.txt'; true",
			self->out));
	EXPECT_EQ(NULL, strstr(self->r.out, "E: ")) TH_LOG("lintian errors: %s", self->r.out);
	if (self->r.out[0])
		th_diag("lintian: %s", self->r.out);
	EXPECT_EQ(0, SH("grep -q 'lintian --fail-on error' \"$TOP/scripts/build-deb.sh\""))
	TH_LOG("build-deb.sh no longer fails on lintian errors");
}

TEST_F_TIMEOUT(deb, files_land_where_unit_and_man_pages_say, 290)
{
	char path[PATH_MAX + 300], unit[8192], val[512];
	static const char *const man[] = {
		"usr/share/man/man8/lymphd.8.gz",
		"usr/share/man/man8/lymphctl.8.gz",
		"usr/share/man/man5/lymph.conf.5.gz",
	};
	size_t i;

	ASSERT_EQ(0, build_debs(_metadata, self));
	ASSERT_EQ(0, SH("mkdir \"$T/root\" \"$T/ctl\" \"$T/ctl-dkms\" && "
			"dpkg -x '%1$s/lymph_%2$s_amd64.deb' \"$T/root\" && "
			"dpkg -x '%1$s/lymph-dkms_%2$s_all.deb' \"$T/root\" && "
			"dpkg-deb -e '%1$s/lymph_%2$s_amd64.deb' \"$T/ctl\" && "
			"dpkg-deb -e '%1$s/lymph-dkms_%2$s_all.deb' \"$T/ctl-dkms\"",
			self->out, self->version))
	TH_LOG("%s", self->r.err);

	/* The unit, where systemd looks on Debian 12, runs what the package ships. */
	snprintf(path, sizeof(path), "%s/root/lib/systemd/system/lymphd.service", self->dir);
	ASSERT_EQ(0, th_read_file(path, unit, sizeof(unit)));
	unit_value(unit, "Type", val, sizeof(val));
	EXPECT_STREQ("notify", val);
	unit_value(unit, "ExecStart", val, sizeof(val));
	EXPECT_STREQ("/usr/sbin/lymphd", val);
	snprintf(path, sizeof(path), "%s/root%s", self->dir, val);
	EXPECT_EQ(0755, mode_of(path)) TH_LOG("%s", path);
	unit_value(unit, "ExecReload", val, sizeof(val));
	EXPECT_STREQ("/usr/sbin/lymphctl reload", val);
	snprintf(path, sizeof(path), "%s/root/usr/sbin/lymphctl", self->dir);
	EXPECT_EQ(0755, mode_of(path)) TH_LOG("%s", path);
	/* Documentation=man:lymphd(8) man:lymphctl(8) man:lymph.conf(5) */
	unit_value(unit, "Documentation", val, sizeof(val));
	EXPECT_STREQ("man:lymphd(8) man:lymphctl(8) man:lymph.conf(5)", val);
	for (i = 0; i < sizeof(man) / sizeof(man[0]); i++) {
		snprintf(path, sizeof(path), "%s/root/%s", self->dir, man[i]);
		EXPECT_EQ(0644, mode_of(path)) TH_LOG("%s", man[i]);
	}

	/* The policy lymph.conf(5) and lymphd(8) name: a conffile, valid, observing. */
	EXPECT_EQ(0, SH("grep -qx /etc/lymph/lymph.conf \"$T/ctl/conffiles\""))
	TH_LOG("not a conffile");
	EXPECT_EQ(0,
		  SH("\"$T/root/usr/sbin/lymphd\" --check-config \"$T/root/etc/lymph/lymph.conf\""))
	TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.out, "0 services, observe mode")) TH_LOG("%s", self->r.out);
	EXPECT_EQ(
		0,
		SH("grep -q '/etc/lymph/lymph.conf' \"$T/root/usr/share/man/man8/lymphd.8.gz\" || "
		   "zgrep -q '/etc/lymph/lymph.conf' \"$T/root/usr/share/man/man8/lymphd.8.gz\""))
	TH_LOG("lymphd(8) does not name /etc/lymph/lymph.conf");
	EXPECT_EQ(0, SH("\"$T/root/usr/sbin/lymphd\" --version")) TH_LOG("%s", self->r.err);
	snprintf(val, sizeof(val), "lymphd %s\n", self->version);
	EXPECT_STREQ(val, self->r.out);

	/* systemd-analyze verify on the packaged unit (programs and man pages
	 * from the scratch root). */
	EXPECT_EQ(
		0,
		SH("sed \"s|/usr/sbin/|$T/root/usr/sbin/|g\" \"$T/root/lib/systemd/system/lymphd.service\" "
		   ">\"$T/lymphd.service\" && cd / && MANPATH=\"$T/root/usr/share/man\" "
		   "systemd-analyze verify \"$T/lymphd.service\" 2>&1"))
	TH_LOG("%s%s", self->r.out, self->r.err);
	EXPECT_STREQ("", self->r.out) TH_LOG("systemd-analyze verify warned");

	/* Installing the package enables the unit. */
	EXPECT_EQ(0,
		  SH("grep -q \"deb-systemd-helper enable 'lymphd.service'\" \"$T/ctl/postinst\""));

	/* lymph-dkms: the source where dkms wants it, registered at configure. */
	snprintf(path, sizeof(path), "%s/root/usr/src/lymph-%s/dkms.conf", self->dir,
		 self->version);
	ASSERT_EQ(0, th_read_file(path, unit, sizeof(unit)));
	EXPECT_NE(NULL, strstr(unit, "\nPACKAGE_NAME=\"lymph\"\n"));
	snprintf(val, sizeof(val), "\nPACKAGE_VERSION=\"%s\"\n", self->version);
	EXPECT_NE(NULL, strstr(unit, val)) TH_LOG("dkms.conf: %s", unit);
	EXPECT_EQ(
		0,
		SH("cd \"$T/root/usr/src/lymph-%s\" && ls Kbuild VERSION kmod/main.c include/lymph/events.h",
		   self->version))
	TH_LOG("%s", self->r.err);
	EXPECT_EQ(0, SH("grep -qx 'DKMS_NAME=lymph' \"$T/ctl-dkms/postinst\" && "
			"grep -qx 'DKMS_VERSION=%s' \"$T/ctl-dkms/postinst\" && "
			"dpkg-deb -f '%s/lymph-dkms_%s_all.deb' Depends | grep -q dkms",
			self->version, self->out, self->version))
	TH_LOG("lymph-dkms does not register lymph/%s with dkms", self->version);
}

/*
 * After a kernel upgrade dkms rebuilds the module from /usr/src/lymph-VERSION:
 * do that for another kernel whose headers are installed (Debian 12's own
 * 6.1 first), into a dkms tree of the test's own, and check the module.
 */
TEST_F_TIMEOUT(deb, dkms_builds_the_packaged_source_for_another_kernel, 290)
{
	char kver[256] = "", ko[PATH_MAX + 300];
	char *nl;

	if (SH("command -v dkms"))
		SKIP(return, "dkms is not installed (scripts/deps.sh installs it)");
	/* The kernel: with headers, 6.1 preferred. */
	ASSERT_EQ(
		0,
		SH("for d in /lib/modules/6.1.*/build /lib/modules/*/build; do "
		   "[ -f \"$d/Makefile\" ] && basename \"$(dirname \"$d\")\" && exit 0; done; exit 0"));
	snprintf(kver, sizeof(kver), "%.200s", self->r.out);
	nl = strchr(kver, '\n');
	if (nl)
		*nl = '\0';
	if (!kver[0])
		SKIP(return,
			   "no kernel headers under /lib/modules/*/build (scripts/deps.sh --vm installs some)");
	ASSERT_EQ(0, build_debs(_metadata, self));
	ASSERT_EQ(
		0,
		SH("mkdir \"$T/root\" \"$T/dkms\" && dpkg -x '%s/lymph-dkms_%s_all.deb' \"$T/root\" && "
		   "dkms add -m lymph -v %s --sourcetree \"$T/root/usr/src\" --dkmstree \"$T/dkms\" && "
		   "dkms build -m lymph -v %s -k '%s' --sourcetree \"$T/root/usr/src\" --dkmstree \"$T/dkms\"",
		   self->out, self->version, self->version, self->version, kver))
	TH_LOG("dkms failed for %s: %s%s", kver, self->r.out, self->r.err);
	snprintf(ko, sizeof(ko), "%s/dkms/lymph/%s/%s/x86_64/module/lymph.ko", self->dir,
		 self->version, kver);
	ASSERT_EQ(0, access(ko, R_OK)) TH_LOG("no %s", ko);
	EXPECT_EQ(0, SH("modinfo -F version '%s'", ko));
	EXPECT_EQ(0, strncmp(self->r.out, self->version, strlen(self->version)))
	TH_LOG("version %s", self->r.out);
	EXPECT_EQ(0, SH("modinfo -F vermagic '%s'", ko));
	EXPECT_EQ(0, strncmp(self->r.out, kver, strlen(kver)))
	TH_LOG("vermagic %s, kernel %s", self->r.out, kver);
}

TEST_HARNESS_MAIN
