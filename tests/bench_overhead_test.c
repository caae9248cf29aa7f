// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/overhead's options and verdicts, and bench/overhead-vm's, without
 * the VM: a phase-1 setting list (-S) that names no setting is refused
 * with the names it takes; a run of fewer than 5 groups gives no verdict
 * ("too few groups": the spread of 1 group says nothing) and prints where
 * the probes' run time goes, per program; the sensors load where the
 * kernel refuses fexit (the refused-fork probe's fexit program is not the
 * bench's); bench/overhead-vm refuses an option it does not know.  The
 * bench binary comes from `make bench-build`: SKIP without it.
 */
#include "helpers.h"
#include "kselftest_harness.h"

static const char *bench_bin(char *buf, size_t len)
{
	snprintf(buf, len, "%s/bench/overhead", th_build_dir());
	return buf;
}

TEST(overhead_refuses_an_unknown_setting)
{
	char bin[PATH_MAX];
	char *argv[] = { (char *)bench_bin(bin, sizeof(bin)), "-S", "attached,nosuch", NULL };
	struct th_cmd r;

	if (access(bin, X_OK))
		SKIP(return, "bench/overhead not built (make bench-build)");
	ASSERT_EQ(0, th_run(argv, NULL, &r));
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2)
	TH_LOG("status 0x%x, stderr \"%s\"", r.status, r.err);
	EXPECT_NE(NULL, strstr(r.err, "no setting 'nosuch'")) TH_LOG("stderr \"%s\"", r.err);
	EXPECT_NE(NULL, strstr(r.err, "attached, every, batched")) TH_LOG("stderr \"%s\"", r.err);
}

/* One group of 10 ms blocks (detached, control, batched) of fork+_exit. */
TEST(overhead_one_group_gives_no_verdict_and_splits_the_probes)
{
	char bin[PATH_MAX];
	char *argv[] = { (char *)bench_bin(bin, sizeof(bin)), "-L", "-w", "1", "-S", "batched",
			 "-r", "1", "-b", "3", "-m", "10", NULL };
	struct th_cmd_opts o = { .timeout_ms = 60000 };
	struct th_cmd r;
	const char *l;
	int ratios = 0;

	if (access(bin, X_OK))
		SKIP(return, "bench/overhead not built (make bench-build)");
	if (geteuid() != 0)
		SKIP(return, "needs root (the bench loads BPF programs)");
	ASSERT_EQ(0, th_run(argv, &o, &r));
	ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
	TH_LOG("status 0x%x, stderr \"%s\", stdout \"%s\"", r.status, r.err, r.out);
	/* every ratio figure (control, batched): no verdict from 1 group */
	for (l = r.out; (l = strstr(l, "figure\toverhead fork+_exit: ")); l++) {
		const char *eol = strchr(l, '\n');
		const char *ratio = strstr(l, ", ratio\t");

		if (!ratio || (eol && ratio > eol))
			continue;
		ratios++;
		EXPECT_TRUE(eol && eol - l > 15 && !strncmp(eol - 15, "\ttoo few groups", 15))
		TH_LOG("a verdict from one group: %.*s", (int)(eol ? eol - l : 200), l);
	}
	EXPECT_EQ(2, ratios) TH_LOG("stdout \"%s\"", r.out);
	EXPECT_NE(NULL, strstr(r.out, "fork+_exit, batched, per probe and iteration (bpf_stats): "))
	TH_LOG("stdout \"%s\"", r.out);
	EXPECT_NE(NULL, strstr(r.out, " on_process_exit ")) TH_LOG("stdout \"%s\"", r.out);
}

/*
 * Every phase-1 setting (the default), where no tracefs is mounted (a
 * fresh host without systemd): the per-syscall settings find their
 * tracepoints' ids in tracefs, which the bench mounts as lymphd does;
 * `make bench` on such a host failed here before.  In a mount namespace
 * of its own (unshare), so the host's mounts are left as they are.
 */
TEST(overhead_every_setting_runs_where_no_tracefs_was_mounted)
{
	char bin[PATH_MAX], cmd[PATH_MAX + 256];
	char *argv[] = { "/usr/bin/unshare", "--mount", "--propagation", "private", "sh", "-c", cmd, NULL };
	struct th_cmd_opts o = { .timeout_ms = 120000 };
	struct th_cmd r;

	if (access(bench_bin(bin, sizeof(bin)), X_OK))
		SKIP(return, "bench/overhead not built (make bench-build)");
	if (geteuid() != 0)
		SKIP(return, "needs root (the bench loads BPF programs)");
	if (access("/sys/kernel/tracing", F_OK))
		SKIP(return, "the kernel has no tracefs");
	/* 9 settings: one group of 10 ms blocks of fork+_exit */
	snprintf(cmd, sizeof(cmd),
		 "umount -l /sys/kernel/debug 2>/dev/null; "
		 "while umount -l /sys/kernel/tracing 2>/dev/null; do :; done; "
		 "test -e /sys/kernel/tracing/events && exit 99; "
		 "exec %s -L -w 1 -r 1 -b 9 -m 10", bin);
	ASSERT_EQ(0, th_run(argv, &o, &r));
	ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
	TH_LOG("status 0x%x, stderr \"%s\", stdout \"%s\"", r.status, r.err, r.out);
	EXPECT_NE(NULL, strstr(r.out, "no tracefs was mounted: mounted it on /sys/kernel/tracing"))
	TH_LOG("stdout \"%s\"", r.out);
	/* the fork call probes' setting ran (on its sys_enter tracepoints) */
	EXPECT_NE(NULL, strstr(r.out, "sensors with the fork call probes on syscalls:sys_enter_"))
	TH_LOG("stdout \"%s\"", r.out);
}

TEST(overhead_vm_refuses_an_unknown_option)
{
	char script[PATH_MAX];
	char *argv[] = { script, "--nosuch", NULL };
	struct th_cmd r;

	snprintf(script, sizeof(script), "%s/../bench/overhead-vm", th_build_dir());
	if (access(script, X_OK))
		snprintf(script, sizeof(script), "bench/overhead-vm");
	ASSERT_EQ(0, th_run(argv, NULL, &r));
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2)
	TH_LOG("status 0x%x, stderr \"%s\"", r.status, r.err);
	EXPECT_NE(NULL, strstr(r.err, "unknown option --nosuch")) TH_LOG("stderr \"%s\"", r.err);
}

/*
 * bench/kmod-overhead's measuring half (bench/vm/kmod_overhead.c, built
 * for the host as bench/kmod_overhead_host), in its A/A control, which
 * loads no module: a block's cost is the median of its iterations, and
 * the ratios from the blocks' means (how they were taken before, the
 * A/A's noise under qemu -icount) come in a '#' line beside the figure
 * lines bench/run-all collects, one per workload.
 */
TEST(kmod_overhead_aa_block_cost_is_the_median_of_its_iterations)
{
	char bin[PATH_MAX];
	char *argv[] = { bin, "1", "3", "5", "aa", NULL };
	char *env[] = { "LYMPH_BENCH_WHERE=host test", NULL };
	struct th_cmd_opts o = { .env = env, .timeout_ms = 60000 };
	static const char *const figures[] = {
		"figure\tkmod overhead (host test): fork+_exit, A/A control (unloaded / unloaded), median ratio\t",
		"figure\tkmod overhead (host test): fork+exec /bin/true, A/A control (unloaded / unloaded), median ratio\t",
		"figure\tkmod overhead (host test): fork+crash (SIGSEGV), A/A control (unloaded / unloaded), median ratio\t",
	};
	struct th_cmd r;
	size_t i;

	snprintf(bin, sizeof(bin), "%s/bench/kmod_overhead_host", th_build_dir());
	if (access(bin, X_OK))
		SKIP(return, "bench/kmod_overhead_host not built (make bench-build)");
	ASSERT_EQ(0, th_run(argv, &o, &r));
	ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
	TH_LOG("status 0x%x, stderr \"%s\", stdout \"%s\"", r.status, r.err, r.out);
	EXPECT_NE(NULL, strstr(r.out, "A/A control: the module never loaded")) TH_LOG("stdout \"%s\"", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\n# a block's cost: the median of its iterations"))
	TH_LOG("stdout \"%s\"", r.out);
	for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
		EXPECT_NE(NULL, strstr(r.out, figures[i])) TH_LOG("no \"%s\" in \"%s\"", figures[i], r.out);
}

TEST_HARNESS_MAIN
