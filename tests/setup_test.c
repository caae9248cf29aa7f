// SPDX-License-Identifier: GPL-2.0-only
/*
 * The setup path as a fresh machine runs it.  `make test` once died after
 * 0.06 s with no message on a machine without the 6.12 cloud headers: a
 * pipeline in scripts/deps.sh failed under pipefail and set -e ended the
 * script silently; CI was green only because its machine already had them.
 *
 * Here scripts/deps.sh --plan runs in a private mount namespace made to
 * look like a fresh Debian 12: no dpkg packages installed (an empty dpkg
 * database over /var/lib/dpkg), nothing in /usr/src, an empty
 * cache directory, and, in one case, no apt package lists.  The plan it
 * prints must name every package and the harness extraction, and it must
 * exit 0 and change nothing.  The shell scripts of the setup and CI path
 * must pass shellcheck.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include <dirent.h>

/* The repository's top: two levels above BUILD/tests/..., or $LYMPH_TOP. */
static const char *top_dir(void)
{
	static char top[PATH_MAX];
	const char *env = getenv("LYMPH_TOP");
	char probe[PATH_MAX + 32];

	if (env && *env)
		return env;
	if (!top[0]) {
		snprintf(top, sizeof(top), "%s/..", th_build_dir());
		snprintf(probe, sizeof(probe), "%s/scripts/deps.sh", top);
		if (access(probe, R_OK))
			snprintf(top, sizeof(top), ".");
	}
	return top;
}

/*
 * Run scripts/deps.sh ARGS in a fresh-looking mount namespace.  LISTS
 * false also hides apt's package lists and cache.  USER non-NULL runs the
 * script as that user (after the mounts, which need root).  The script is
 * copied into the scratch directory first so that any user may read it.
 */
static int run_fresh(const char *scratch, bool lists, const char *user, const char *args,
		     struct th_cmd *r)
{
	char script[8192], src[PATH_MAX + 32], dst[PATH_MAX];
	char *argv[] = { "/usr/bin/unshare", "--mount", "--propagation", "private",
			 "/bin/bash",	     "-c",	script,		 NULL };
	struct th_cmd_opts o = { .timeout_ms = 60000 };
	int err;

	snprintf(src, sizeof(src), "%s/scripts/deps.sh", top_dir());
	snprintf(dst, sizeof(dst), "%s/deps.sh", scratch);
	err = th_copy_file(src, dst, 0755);
	if (err)
		return err;
	snprintf(script, sizeof(script),
		 "set -e\n"
		 "mkdir -p %1$s/cache %1$s/dpkg/updates %1$s/dpkg/info\n"
		 ": > %1$s/dpkg/status\n"
		 "mount -t tmpfs none /usr/src\n"
		 "mount --bind %1$s/dpkg /var/lib/dpkg\n"
		 "%2$s"
		 "export LYMPH_CACHE=%1$s/cache LYMPH_APT_LOG=%1$s/apt.log\n"
		 "exec %3$s bash %1$s/deps.sh %4$s\n",
		 scratch,
		 lists ? ""
		       : "mount -t tmpfs none /var/lib/apt/lists\n"
			 "mount -t tmpfs none /var/cache/apt\n",
		 user ? user : "", args);
	return th_run(argv, &o, r);
}

FIXTURE(fresh)
{
	char dir[PATH_MAX];
};

FIXTURE_SETUP(fresh)
{
	if (!th_is_root())
		SKIP(return, "needs root (mount namespaces)");
	if (access("/usr/bin/unshare", X_OK) || access("/var/lib/dpkg/status", R_OK))
		SKIP(return, "no unshare(1) or no dpkg: not a Debian machine");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "setup"));
}

FIXTURE_TEARDOWN(fresh)
{
	th_rmdir_flat(self->dir);
}

static bool cache_empty(const char *dir)
{
	char path[PATH_MAX + 16];
	struct dirent *e;
	bool empty = true;
	DIR *d;

	snprintf(path, sizeof(path), "%s/cache", dir);
	d = opendir(path);
	if (!d)
		return true;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

/* Every word of WANT appears as a whole word after "plan: apt-get install". */
static void expect_installs(struct __test_metadata *_metadata, const struct th_cmd *r,
			    const char *const *want)
{
	const char *out = r->out, *line = strstr(out, "plan: apt-get install ");
	char buf[8192], word[130];
	char *nl;

	ASSERT_NE(NULL, line)
	TH_LOG("no install line in the plan: \"%s\" (stderr \"%s\")", out, r->err);
	snprintf(buf, sizeof(buf), " %s", line + strlen("plan: apt-get install "));
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	strcat(buf, " ");
	for (; *want; want++) {
		snprintf(word, sizeof(word), " %s ", *want);
		EXPECT_NE(NULL, strstr(buf, word))
		TH_LOG("plan does not install %s: \"%s\"", *want, buf);
	}
}

TEST_F(fresh, vm_plan_names_every_package)
{
	static const char *const want[] = {
		"make",
		"gcc",
		"clang",
		"bpftool",
		"libbpf-dev",
		"libmnl-dev",
		"libcap-dev",
		"libjson-c-dev",
		"dwarves",
		"linux-source-6.12",
		"shellcheck",
		"strace",
		"qemu-system-x86",
		"busybox-static",
		"cpio",
		"linux-headers-amd64",
		NULL,
	};
	struct th_cmd r;

	ASSERT_EQ(0, run_fresh(self->dir, true, NULL, "--vm --plan", &r));
	ASSERT_FALSE(r.timed_out);
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
	TH_LOG("status 0x%x, stdout \"%s\", stderr \"%s\"", r.status, r.out, r.err);
	expect_installs(_metadata, &r, want);
	/* The 6.12 cloud kernel the VM boots, headers and image alike. */
	EXPECT_NE(NULL, strstr(r.out, " linux-headers-6.12.")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "-cloud-amd64 ")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, " linux-image-6.12.")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "-cloud-amd64-unsigned")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "plan: extract kselftest_harness.h"))
	TH_LOG("no kselftest extraction in the plan: \"%s\"", r.out);
	EXPECT_EQ(NULL, strstr(r.err, "failed")) TH_LOG("stderr: \"%s\"", r.err);
	EXPECT_TRUE(cache_empty(self->dir)) TH_LOG("--plan wrote into the cache");
}

TEST_F(fresh, plan_without_package_lists_updates_first)
{
	struct th_cmd r;

	ASSERT_EQ(0, run_fresh(self->dir, false, NULL, "--vm --plan", &r));
	ASSERT_FALSE(r.timed_out);
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
	TH_LOG("status 0x%x, stdout \"%s\", stderr \"%s\"", r.status, r.out, r.err);
	EXPECT_NE(NULL, strstr(r.out, "plan: apt-get update\n")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "plan: apt-get install ")) TH_LOG("%s", r.out);
}

/* Not root: no install attempted, one clear line saying why and what to do. */
TEST_F(fresh, install_as_user_says_run_as_root)
{
	struct th_cmd r;

	ASSERT_EQ(0, run_fresh(self->dir, true,
			       "setpriv --reuid=65534 --regid=65534 --clear-groups", "--vm", &r));
	ASSERT_FALSE(r.timed_out);
	EXPECT_TRUE(th_exited_nonzero(r.status)) TH_LOG("status 0x%x", r.status);
	EXPECT_NE(NULL, strstr(r.err, "deps.sh: need root")) TH_LOG("stderr: \"%s\"", r.err);
	EXPECT_NE(NULL, strstr(r.err, "run as root")) TH_LOG("stderr: \"%s\"", r.err);
	EXPECT_NE(NULL, strstr(r.err, "--plan")) TH_LOG("stderr: \"%s\"", r.err);
	EXPECT_TRUE(cache_empty(self->dir));
}

TEST_F(fresh, unknown_option_is_an_error)
{
	struct th_cmd r;

	ASSERT_EQ(0, run_fresh(self->dir, true, NULL, "--frobnicate", &r));
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2)
	TH_LOG("status 0x%x", r.status);
	EXPECT_NE(NULL, strstr(r.err, "unknown option '--frobnicate'"))
	TH_LOG("stderr: \"%s\"", r.err);
}

/* On this machine, after `make test`'s own deps.sh: nothing left to do. */
TEST(installed_machine_plan_is_empty)
{
	char script[PATH_MAX + 32];
	char *argv[] = { "/bin/bash", script, "--vm", "--plan", NULL };
	struct th_cmd r;

	snprintf(script, sizeof(script), "%s/scripts/deps.sh", top_dir());
	ASSERT_EQ(0, th_run(argv, NULL, &r));
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
	TH_LOG("status 0x%x, stderr \"%s\"", r.status, r.err);
	EXPECT_NE(NULL, strstr(r.out, "plan: nothing to do"))
	TH_LOG("deps.sh is not idempotent here: \"%s\"", r.out);
}

/* The setup and CI path, checked by shellcheck (warnings and errors). */
TEST(setup_scripts_pass_shellcheck)
{
	static const char *const scripts[] = {
		"scripts/deps.sh",	  "scripts/vm/boot",
		"scripts/vm/mkinitramfs", ".ci/run",
		"tests/run.sh",		  "bench/run-all",
		"scripts/install.sh",	  "scripts/build-deb.sh",
		"scripts/check-layers",	  "scripts/vm/lib.sh",
		"bench/kmod-overhead",	  "bench/forkbomb-vm",
		"bench/overhead-vm",	  "tests/vm/run.sh",
	};
	enum {
		N = sizeof(scripts) / sizeof(scripts[0])
	};
	char paths[N][PATH_MAX];
	char *argv[5 + N + 1] = { "/usr/bin/shellcheck", "-S", "warning", "-s", "bash" };
	struct th_cmd r;
	size_t i;

	if (access("/usr/bin/shellcheck", X_OK))
		SKIP(return, "shellcheck not installed (scripts/deps.sh installs it)");
	for (i = 0; i < N; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", top_dir(), scripts[i]);
		argv[5 + i] = paths[i];
	}
	ASSERT_EQ(0, th_run(argv, NULL, &r));
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
	TH_LOG("shellcheck:\n%s", r.out);
}

TEST_HARNESS_MAIN
