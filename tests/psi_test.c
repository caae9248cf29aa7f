// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pressure sensing (userspace/psi.c).  Without root: the parser on sample
 * text, the readers on files, the cgroup walk on a fake tree.  As root: a
 * PSI trigger on the system file, and real workloads in their own cgroups
 * (CPU: more spinners than CPUs; memory: a file read over and over under a
 * memory limit far below its size) raise that cgroup's pressure and fire a
 * trigger armed on it, within a timeout; everything is killed and removed
 * afterwards.  What this host cannot do is a SKIP with the reason.
 *
 * psi.c is not in the Makefile's CORE_SRCS yet: it is included here.
 */
#include <poll.h>
#include <sys/sysinfo.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "psi.h"
#include "loadcg.h"

static const char sample_mem[] = "some avg10=1.53 avg60=0.87 avg300=0.22 total=1234567\n"
				 "full avg10=0.50 avg60=0.25 avg300=0.05 total=765432\n";

TEST(parse_sample)
{
	struct psi_reading r;

	ASSERT_EQ(0, psi_parse(sample_mem, &r));
	EXPECT_TRUE(r.some.valid);
	EXPECT_EQ(1.53, r.some.avg10);
	EXPECT_EQ(0.87, r.some.avg60);
	EXPECT_EQ(0.22, r.some.avg300);
	EXPECT_EQ(1234567u, r.some.total_us);
	EXPECT_TRUE(r.full.valid);
	EXPECT_EQ(0.50, r.full.avg10);
	EXPECT_EQ(765432u, r.full.total_us);
}

TEST(parse_some_only)
{
	struct psi_reading r;

	/* Kernels before 5.13 have no "full" line for cpu. */
	ASSERT_EQ(0, psi_parse("some avg10=85.64 avg60=61.53 avg300=35.80 total=193851158\n", &r));
	EXPECT_EQ(85.64, r.some.avg10);
	EXPECT_FALSE(r.full.valid);
	/* No trailing newline */
	ASSERT_EQ(0, psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0", &r));
	EXPECT_EQ(0.0, r.some.avg10);
}

TEST(parse_rejects_garbage)
{
	struct psi_reading r;

	EXPECT_EQ(-EINVAL, psi_parse("", &r));
	EXPECT_EQ(-EINVAL, psi_parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &r));
	EXPECT_EQ(-EINVAL, psi_parse("some avg10=abc avg60=0.00 avg300=0.00 total=0\n", &r));
	EXPECT_EQ(-EINVAL, psi_parse("some avg10=1.0 avg60=0.00\n", &r));
	EXPECT_EQ(-EINVAL, psi_parse("some avg10=101.0 avg60=0.00 avg300=0.00 total=0\n", &r));
	EXPECT_EQ(-EINVAL, psi_parse("some avg10=-1.0 avg60=0.00 avg300=0.00 total=0\n", &r));
	EXPECT_FALSE(r.some.valid);
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static const char *pressure(double avg10)
{
	static char buf[160];

	snprintf(buf, sizeof(buf),
		 "some avg10=%.2f avg60=0.00 avg300=0.00 total=1\n"
		 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
		 avg10);
	return buf;
}

FIXTURE(tree)
{
	char dir[256];
};

FIXTURE_SETUP(tree)
{
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "psi"));
}

FIXTURE_TEARDOWN(tree)
{
	char cmd[300];

	/* The fake tree has subdirectories: th_rmdir_flat does rm -rf. */
	snprintf(cmd, sizeof(cmd), "%s", self->dir);
	th_rmdir_flat(cmd);
}

TEST_F(tree, read_files_and_system_dir)
{
	struct psi_reading r, sys[PSI_NRES];

	ASSERT_EQ(0, write_file(self->dir, "memory", sample_mem));
	ASSERT_EQ(0, write_file(self->dir, "cpu", pressure(12.5)));
	ASSERT_EQ(0, psi_read(strcat(strcpy((char[300]){ 0 }, self->dir), "/memory"), &r));
	EXPECT_EQ(1.53, r.some.avg10);
	EXPECT_EQ(-ENOENT, psi_read("/nonexistent/lymph/pressure", &r));
	/* io is missing: two of three read, io invalid. */
	EXPECT_EQ(2, psi_read_system(self->dir, sys));
	EXPECT_EQ(12.5, sys[PSI_CPU].some.avg10);
	EXPECT_EQ(1.53, sys[PSI_MEMORY].some.avg10);
	EXPECT_FALSE(sys[PSI_IO].some.valid);
	EXPECT_STREQ("memory", psi_res_name(PSI_MEMORY));
}

/* Kept open and read again from the start: a rewrite shows, a file that
 * was missing is opened when it appears. */
TEST_F(tree, kept_fds_read_anew)
{
	struct psi_reading sys[PSI_NRES];
	int fds[PSI_NRES] = { -EBADF, -EBADF, -EBADF };

	ASSERT_EQ(0, write_file(self->dir, "cpu", pressure(12.5)));
	ASSERT_EQ(0, write_file(self->dir, "memory", sample_mem));
	EXPECT_EQ(2, psi_read_system_fds(self->dir, fds, sys));
	EXPECT_LE(0, fds[PSI_CPU]);
	EXPECT_GT(0, fds[PSI_IO]);
	EXPECT_EQ(12.5, sys[PSI_CPU].some.avg10);
	EXPECT_FALSE(sys[PSI_IO].some.valid);
	ASSERT_EQ(0, write_file(self->dir, "cpu", pressure(40.25)));
	ASSERT_EQ(0, write_file(self->dir, "io", pressure(3.5)));
	EXPECT_EQ(3, psi_read_system_fds(self->dir, fds, sys));
	EXPECT_EQ(40.25, sys[PSI_CPU].some.avg10);
	EXPECT_EQ(3.5, sys[PSI_IO].some.avg10);
	EXPECT_EQ(1.53, sys[PSI_MEMORY].some.avg10);
	psi_close_fds(fds);
	EXPECT_EQ(-EBADF, fds[PSI_CPU]);
}

TEST_F(tree, cgroup_top_orders_and_filters)
{
	static const struct {
		const char *dir;
		double cpu, mem, io;
	} cgs[] = {
		{ "a", 1.0, 0.0, 0.0 },	     { "a/hog", 50.0, 2.0, 0.0 },
		{ "b", 0.0, 30.0, 0.0 },     { "b/c", 0.0, 0.0, 0.2 }, /* below min_score */
		{ "b/c/d", 0.0, 0.0, 80.0 },			       /* deeper than max_depth 2 */
		{ "e", 0.0, 0.0, 5.0 },
	};
	struct psi_cgroup top[3];
	char p[PATH_MAX];
	size_t i;
	int n;

	/* The root's own files are the system figure: skipped. */
	ASSERT_EQ(0, write_file(self->dir, "cpu.pressure", pressure(99)));
	for (i = 0; i < sizeof(cgs) / sizeof(cgs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", self->dir, cgs[i].dir);
		ASSERT_EQ(0, mkdir(p, 0755));
		ASSERT_EQ(0, write_file(p, "cpu.pressure", pressure(cgs[i].cpu)));
		ASSERT_EQ(0, write_file(p, "memory.pressure", pressure(cgs[i].mem)));
		ASSERT_EQ(0, write_file(p, "io.pressure", pressure(cgs[i].io)));
	}
	n = psi_cgroup_top(self->dir, top, 3, 2, 1000, 0.5);
	ASSERT_EQ(3, n);
	EXPECT_STREQ("/a/hog", top[0].path);
	EXPECT_EQ(50.0, top[0].score);
	EXPECT_EQ(2.0, top[0].some_avg10[PSI_MEMORY]);
	EXPECT_STREQ("/b", top[1].path);
	EXPECT_STREQ("/e", top[2].path);

	/* Deeper, and a larger list: d shows up first, c never (too low). */
	struct psi_cgroup all[10];

	n = psi_cgroup_top(self->dir, all, 10, 8, 1000, 0.5);
	ASSERT_EQ(5, n);
	EXPECT_STREQ("/b/c/d", all[0].path);
	for (i = 0; i < (size_t)n; i++)
		EXPECT_STRNE("/b/c", all[i].path);
	EXPECT_EQ(-ENOENT, psi_cgroup_top("/nonexistent/lymph", all, 10, 2, 100, 0));
}

/* ---- as root, on the real kernel ------------------------------------------ */

static bool have_psi(void)
{
	return !access("/proc/pressure/cpu", R_OK);
}

TEST(system_trigger_arms)
{
	int fd;

	if (!th_is_root())
		SKIP(return, "needs root to arm PSI triggers");
	if (!have_psi())
		SKIP(return, "no /proc/pressure: kernel without CONFIG_PSI or booted psi=0");
	fd = psi_trigger_open("/proc/pressure/memory", "some", 150000, 2000000);
	if (fd == -EOPNOTSUPP || fd == -EACCES || fd == -EPERM)
		SKIP(return, "the kernel refuses PSI triggers here: %s", strerror(-fd));
	ASSERT_GE(fd, 0) TH_LOG("failed to arm a trigger: %s", strerror(-fd));
	close(fd);
	EXPECT_EQ(-EINVAL, psi_trigger_open("/proc/pressure/memory", "most", 150000, 2000000));
	/* The stall must fit in the window. */
	EXPECT_EQ(-EINVAL, psi_trigger_open("/proc/pressure/memory", "some", 3000000, 2000000));
}

/* A workload in its own cgroup. */
FIXTURE(cg)
{
	struct loadcg load;
	int trig;
};

FIXTURE_SETUP(cg)
{
	loadcg_init(&self->load);
	self->trig = -EBADF;
}

FIXTURE_TEARDOWN(cg)
{
	if (self->trig >= 0)
		close(self->trig);
	loadcg_destroy(&self->load);
}

/* Wait until the cgroup's pressure for res moved: total grew by at least
 * 100 ms of stall, avg10 is above zero and the trigger (if armed) fired.
 * Returns the avg10 seen, 0 on timeout. */
static double wait_pressure(const char *dir, const char *res, int trig, int *fired, int timeout_ms)
{
	char p[PATH_MAX];
	struct psi_reading r0, r;
	int64_t end = th_now_ms() + timeout_ms;

	snprintf(p, sizeof(p), "%s/%s.pressure", dir, res);
	if (psi_read(p, &r0))
		return -1;
	*fired = 0;
	while (th_now_ms() < end) {
		struct pollfd pfd = { .fd = trig, .events = POLLPRI };

		if (trig >= 0 && poll(&pfd, 1, 500) > 0 && (pfd.revents & POLLPRI))
			*fired = 1;
		else if (trig < 0)
			th_sleep_ms(500);
		if (psi_read(p, &r))
			return -1;
		if (r.some.total_us >= r0.some.total_us + 100000 && r.some.avg10 > 0 &&
		    (trig < 0 || *fired))
			return r.some.avg10;
	}
	psi_read(p, &r);
	th_diag("%s: total %lu -> %lu us, avg10 %.2f, trigger %s", p,
		(unsigned long)r0.some.total_us, (unsigned long)r.some.total_us, r.some.avg10,
		*fired ? "fired" : "silent");
	return 0;
}

static bool walker_finds(const char *dir)
{
	static struct psi_cgroup top[64];
	const char *root = psi_cgroup_root();
	int k, m = psi_cgroup_top(root, top, 64, 2, 100000, 0.01);

	for (k = 0; k < m; k++)
		if (!strcmp(top[k].path, dir + strlen(root)))
			return true;
	return false;
}

TEST_F_TIMEOUT(cg, cpu_workload_raises_cgroup_pressure, 90)
{
	const char *why = NULL;
	char p[PATH_MAX];
	int i, n = 2 * get_nprocs() + 2, fired = 0;
	double avg;

	if (!th_is_root())
		SKIP(return, "needs root to create cgroups");
	if (n > LOADCG_MAX)
		n = LOADCG_MAX;
	if (loadcg_create(&self->load, "psi-cpu", &why))
		SKIP(return, "%s", why);
	snprintf(p, sizeof(p), "%s/cpu.pressure", self->load.v2);
	self->trig = psi_trigger_open(p, "some", 100000, 2000000);
	if (self->trig < 0)
		th_diag("no trigger on %s (%s): averages only", p, strerror(-self->trig));
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, loadcg_spawn(&self->load, loadcg_spin, NULL));
	avg = wait_pressure(self->load.v2, "cpu", self->trig, &fired, 20000);
	EXPECT_GT(avg, 0.0) TH_LOG("%d spinners on %d CPUs did not raise %s", n, get_nprocs(), p);
	if (self->trig >= 0)
		EXPECT_TRUE(fired);
	/* The walker finds it among the cgroups under pressure. */
	EXPECT_TRUE(walker_finds(self->load.v2))
	TH_LOG("%s not among the cgroups under pressure", self->load.v2);
}

TEST_F_TIMEOUT(cg, memory_workload_raises_cgroup_pressure, 120)
{
	const char *why = NULL;
	char p[PATH_MAX];
	int i, fired = 0;
	double avg;

	if (!th_is_root())
		SKIP(return, "needs root to create cgroups");
	if (loadcg_create(&self->load, "psi-mem", &why))
		SKIP(return, "%s", why);
	if (loadcg_limit_memory(&self->load, "psi-mem", 32UL << 20, &why))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, loadcg_make_file(&self->load, 128));
	snprintf(p, sizeof(p), "%s/memory.pressure", self->load.v2);
	self->trig = psi_trigger_open(p, "some", 50000, 2000000);
	if (self->trig < 0)
		th_diag("no trigger on %s (%s): averages only", p, strerror(-self->trig));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, loadcg_spawn(&self->load, loadcg_thrash, self->load.file));
	avg = wait_pressure(self->load.v2, "memory", self->trig, &fired, 30000);
	EXPECT_GT(avg, 0.0) TH_LOG("reading 128 MiB under a 32 MiB limit did not raise %s", p);
	if (self->trig >= 0)
		EXPECT_TRUE(fired);
}

TEST_HARNESS_MAIN
