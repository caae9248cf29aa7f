// SPDX-License-Identifier: GPL-2.0-only
/*
 * Weekly baselines (userspace/baseline.c), without root: the time-of-week
 * slots, a synthetic weekly rhythm whose one injected spike is flagged at
 * the spike and nowhere else, the conservative start, the entropy
 * arithmetic, and a crash-safe save/load round trip.
 *
 * baseline.c is not in the Makefile's CORE_SRCS yet: it is included here.
 */
#include <math.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "baseline.h"

#define DAY  (24 * 3600)
#define WEEK (7 * DAY)
/* Monday 2026-11-02 00:00:00 UTC */
#define MONDAY 1793577600LL

/* Deterministic noise in [-0.5, 0.5). */
static double noise(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (double)((*seed >> 8) & 0xffff) / 65536.0 - 0.5;
}

/* Forks per second by time of week: busy working hours, quiet weekends. */
static double rhythm(unsigned int slot)
{
	double hour = (double)(slot % 288) / 12.0;
	int weekend = slot / 288 >= 5;

	return (weekend ? 4.0 : 10.0) + (weekend ? 2.0 : 8.0) * sin(2 * M_PI * (hour - 6) / 24);
}

static struct baseline *new_baseline(uint32_t min_weeks)
{
	struct baseline *b = malloc(sizeof(*b));

	if (b)
		baseline_init(b, 0.3, min_weeks);
	return b;
}

static void readings(double v[BL_NSIG])
{
	int s;

	for (s = 0; s < BL_NSIG; s++)
		v[s] = NAN;
}

TEST(slots_are_time_of_week)
{
	ASSERT_EQ(1793577600LL % WEEK, 4 * DAY); /* MONDAY really is a Monday */
	EXPECT_EQ(0u, baseline_slot(MONDAY, 0));
	EXPECT_EQ(1u, baseline_slot(MONDAY + 300, 0));
	EXPECT_EQ(0u, baseline_slot(MONDAY + 299, 0));
	EXPECT_EQ((unsigned int)BL_SLOTS - 1, baseline_slot(MONDAY - 1, 0));
	EXPECT_EQ(0u, baseline_slot(MONDAY + 7 * WEEK, 0));
	EXPECT_EQ(3u * 288, baseline_slot(0, 0)); /* the epoch was a Thursday */
	/* An hour east of UTC: local midnight Monday is 23:00 UTC Sunday. */
	EXPECT_EQ(0u, baseline_slot(MONDAY - 3600, 3600));
	EXPECT_EQ(2016, BL_SLOTS);
}

TEST(weekly_rhythm_spike_flagged_there_only)
{
	struct baseline *b = new_baseline(3);
	struct anomaly a[4];
	unsigned int slot, spike = 2 * 288 + 10 * 12 + 6; /* Wednesday 10:30 */
	uint32_t seed = 42;
	size_t flagged = 0, n;
	int week;

	ASSERT_NE(NULL, b);
	/* Five weeks of the rhythm with noise. */
	for (week = 0; week < 5; week++)
		for (slot = 0; slot < BL_SLOTS; slot++)
			baseline_fold(b, BL_FORKS, slot, rhythm(slot) + noise(&seed));
	EXPECT_EQ((size_t)BL_SLOTS, baseline_trusted(b, BL_FORKS));

	/* The sixth week, scored slot by slot: one spike of +30/s. */
	for (slot = 0; slot < BL_SLOTS; slot++) {
		double v[BL_NSIG];

		readings(v);
		v[BL_FORKS] = rhythm(slot) + noise(&seed) + (slot == spike ? 30.0 : 0.0);
		n = baseline_anomalies(b, MONDAY + 5 * WEEK + (int64_t)slot * 300 + 150, v, a, 4);
		if (!n)
			continue;
		flagged++;
		EXPECT_EQ(spike, slot)
		TH_LOG("slot %u flagged: %s z=%.2f", slot, a[0].name, a[0].z);
		EXPECT_STREQ("forks_high_dev3", a[0].name);
		EXPECT_EQ(3, a[0].level);
		EXPECT_GT(a[0].z, 3.0);
	}
	EXPECT_EQ(1u, flagged);
	free(b);
}

TEST(dev2_and_low_are_named)
{
	struct baseline *b = new_baseline(3);
	double v[BL_NSIG], z, mean, sigma;
	struct anomaly a[4];
	uint32_t seed = 3;
	int week;

	ASSERT_NE(NULL, b);
	for (week = 0; week < 5; week++)
		baseline_fold(b, BL_FORKS, 500, 40 + noise(&seed));
	mean = b->slot[BL_FORKS][500].mean;
	sigma = baseline_sigma(BL_FORKS, &b->slot[BL_FORKS][500]);
	readings(v);
	/* A 2-sigma rise is named dev2, a collapse of forks is "low". */
	v[BL_FORKS] = mean + 2.5 * sigma;
	ASSERT_EQ(1u, baseline_anomalies(b, MONDAY + 500 * 300, v, a, 4));
	EXPECT_STREQ("forks_high_dev2", a[0].name);
	v[BL_FORKS] = mean - 5 * sigma;
	ASSERT_EQ(1u, baseline_anomalies(b, MONDAY + 500 * 300, v, a, 4));
	EXPECT_STREQ("forks_low_dev3", a[0].name);
	EXPECT_EQ(0, baseline_score(b, BL_FORKS, 500, mean + 0.5 * sigma, &z));
	free(b);
}

TEST(conservative_start)
{
	struct baseline *b = new_baseline(3);
	double v[BL_NSIG], z;
	struct anomaly a[4];
	int week;

	ASSERT_NE(NULL, b);
	/* Nothing known: even an absurd reading is not an anomaly. */
	readings(v);
	v[BL_DANGER] = 1000;
	EXPECT_EQ(0u, baseline_anomalies(b, MONDAY, v, a, 4));
	EXPECT_EQ(-1, baseline_score(b, BL_DANGER, 0, 1000, &z));
	/* Two weeks are not enough either... */
	for (week = 0; week < 2; week++)
		baseline_fold(b, BL_DANGER, 0, 0.0);
	EXPECT_EQ(0u, baseline_anomalies(b, MONDAY, v, a, 4));
	/* ...three are. */
	baseline_fold(b, BL_DANGER, 0, 0.0);
	ASSERT_EQ(1u, baseline_anomalies(b, MONDAY, v, a, 4));
	EXPECT_STREQ("danger_high_dev3", a[0].name);
	/* A signal that never moved is not flagged for a trivial change:
	 * sigma is floored (0.5 danger deaths/min). */
	EXPECT_EQ(0, baseline_score(b, BL_DANGER, 0, 0.9, &z));
	EXPECT_EQ(2, baseline_score(b, BL_DANGER, 0, 1.2, &z));
	/* Fewer crashes than usual is never an anomaly. */
	EXPECT_EQ(0, baseline_score(b, BL_DANGER, 0, -10, &z));
	free(b);
}

TEST(crash_entropy_low_is_named)
{
	struct baseline *b = new_baseline(3);
	struct anomaly a[4];
	double v[BL_NSIG];
	int week;

	ASSERT_NE(NULL, b);
	/* Deaths usually spread over four binaries (2 bits)... */
	for (week = 0; week < 4; week++)
		baseline_fold(b, BL_CRASH_ENTROPY, 100, 2.0 + 0.05 * week);
	/* ...now one binary dies over and over. */
	readings(v);
	v[BL_CRASH_ENTROPY] = 0.0;
	ASSERT_EQ(1u, baseline_anomalies(b, MONDAY + 100 * 300, v, a, 4));
	EXPECT_STREQ("crash_entropy_low_dev3", a[0].name);
	EXPECT_LT(a[0].z, -3.0);
	free(b);
}

TEST(anomalies_strongest_first_and_bounded)
{
	struct baseline *b = new_baseline(1);
	struct anomaly a[2];
	double v[BL_NSIG];

	ASSERT_NE(NULL, b);
	baseline_fold(b, BL_FORKS, 0, 10);
	baseline_fold(b, BL_EXECS, 0, 10);
	baseline_fold(b, BL_PSI_IO, 0, 1);
	readings(v);
	v[BL_FORKS] = 15;  /* z = 2.5 */
	v[BL_EXECS] = 100; /* z = 90 */
	v[BL_PSI_IO] = 30; /* z = 14.5 */
	ASSERT_EQ(2u, baseline_anomalies(b, MONDAY, v, a, 2));
	EXPECT_STREQ("execs_high_dev3", a[0].name);
	EXPECT_STREQ("psi_io_high_dev3", a[1].name);
	/* Low pressure is good news, not an anomaly. */
	readings(v);
	v[BL_PSI_IO] = 0;
	baseline_fold(b, BL_PSI_IO, 0, 50);
	EXPECT_EQ(0u, baseline_anomalies(b, MONDAY, v, a, 2));
	free(b);
}

TEST(observe_averages_a_slot_then_folds_it)
{
	struct baseline *b = new_baseline(1);
	double v[BL_NSIG];
	int i;

	ASSERT_NE(NULL, b);
	readings(v);
	/* One reading a minute through Monday 00:00-00:05: 1 2 3 4 5. */
	for (i = 0; i < 5; i++) {
		v[BL_EXECS] = i + 1;
		EXPECT_EQ(0, baseline_observe(b, MONDAY + i * 60, v));
	}
	EXPECT_EQ(0u, b->slot[BL_EXECS][0].n);
	/* The next slot starts: slot 0 gets the average, 3. */
	v[BL_EXECS] = 100;
	EXPECT_EQ(1, baseline_observe(b, MONDAY + 300, v));
	EXPECT_EQ(1u, b->slot[BL_EXECS][0].n);
	EXPECT_EQ(3.0, b->slot[BL_EXECS][0].mean);
	/* Signals without readings (NaN) are not folded. */
	EXPECT_EQ(0u, b->slot[BL_FORKS][0].n);
	/* A slot watched too briefly is not folded. */
	b->min_samples = 2;
	EXPECT_EQ(1, baseline_observe(b, MONDAY + 600, v));
	EXPECT_EQ(0u, b->slot[BL_EXECS][1].n);
	free(b);
}

TEST(ewma_tracks_mean_and_variance)
{
	struct baseline *b = new_baseline(1);
	int i;

	ASSERT_NE(NULL, b);
	/* Alternating 8 and 12: mean -> 10, sigma -> about 2. */
	for (i = 0; i < 200; i++)
		baseline_fold(b, BL_FORKS, 7, i % 2 ? 12.0 : 8.0);
	EXPECT_LT(fabs(b->slot[BL_FORKS][7].mean - 10.0), 0.5);
	EXPECT_LT(fabs(sqrt(b->slot[BL_FORKS][7].var) - 2.0), 0.3)
	TH_LOG("sigma %.3f", sqrt(b->slot[BL_FORKS][7].var));
	/* A change of regime is followed: the newest weeks weigh most. */
	for (i = 0; i < 20; i++)
		baseline_fold(b, BL_FORKS, 7, 50.0);
	EXPECT_LT(fabs(b->slot[BL_FORKS][7].mean - 50.0), 0.1);
	free(b);
}

TEST(entropy_math)
{
	uint64_t four[] = { 5, 5, 5, 5 }, one[] = { 0, 9, 0 }, two[] = { 1, 1 };
	uint64_t skew[] = { 2, 1, 1 }, none[] = { 0, 0 };

	EXPECT_LT(fabs(entropy_bits(four, 4) - 2.0), 1e-12);
	EXPECT_EQ(0.0, entropy_bits(one, 3));
	EXPECT_FALSE(signbit(entropy_bits(one, 3)));
	EXPECT_LT(fabs(entropy_bits(two, 2) - 1.0), 1e-12);
	EXPECT_LT(fabs(entropy_bits(skew, 3) - 1.5), 1e-12);
	EXPECT_EQ(0.0, entropy_bits(none, 2));
	EXPECT_EQ(0.0, entropy_bits(none, 0));
}

FIXTURE(dir)
{
	char path[256];
	char file[300];
};

FIXTURE_SETUP(dir)
{
	ASSERT_EQ(0, th_mkdtemp(self->path, sizeof(self->path), "baseline"));
	snprintf(self->file, sizeof(self->file), "%s/baseline", self->path);
}

FIXTURE_TEARDOWN(dir)
{
	th_rmdir_flat(self->path);
}

TEST_F(dir, survives_a_restart)
{
	struct baseline *a = new_baseline(3), *b = new_baseline(3);
	char tmp[320];
	double v[BL_NSIG];
	unsigned int slot;
	uint32_t seed = 7;
	struct stat st;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	for (slot = 0; slot < BL_SLOTS; slot += 3)
		baseline_fold(a, BL_PSI_MEMORY, slot, 5 + noise(&seed));
	readings(v);
	v[BL_FORKS] = 4;
	baseline_observe(a, MONDAY + 10, v); /* a slot in progress is kept too */

	ASSERT_EQ(-ENOENT, baseline_load(b, self->file));
	ASSERT_EQ(0, baseline_save(a, self->file));
	snprintf(tmp, sizeof(tmp), "%s.tmp", self->file);
	EXPECT_EQ(-1, stat(tmp, &st)); /* renamed into place */
	ASSERT_EQ(0, stat(self->file, &st));
	EXPECT_EQ(0600u, st.st_mode & 0777);

	ASSERT_EQ(0, baseline_load(b, self->file));
	EXPECT_EQ(0, memcmp(a->slot, b->slot, sizeof(a->slot)));
	EXPECT_EQ(a->cur_week_slot, b->cur_week_slot);
	EXPECT_EQ(4.0, b->acc_sum[BL_FORKS]);
	EXPECT_EQ(baseline_trusted(a, BL_PSI_MEMORY), baseline_trusted(b, BL_PSI_MEMORY));
	free(a);
	free(b);
}

TEST_F(dir, refuses_a_damaged_file)
{
	struct baseline *a = new_baseline(1), *b = new_baseline(1);
	unsigned char byte;
	int fd;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	baseline_fold(a, BL_FORKS, 9, 3.0);
	ASSERT_EQ(0, baseline_save(a, self->file));
	baseline_fold(b, BL_FORKS, 9, 77.0);

	/* One flipped bit in the middle. */
	fd = open(self->file, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(1, pread(fd, &byte, 1, 100000));
	byte ^= 0x10;
	ASSERT_EQ(1, pwrite(fd, &byte, 1, 100000));
	EXPECT_EQ(-EINVAL, baseline_load(b, self->file));
	EXPECT_EQ(77.0, b->slot[BL_FORKS][9].mean); /* left untouched */

	/* A torn (short) file. */
	ASSERT_EQ(0, ftruncate(fd, 1000));
	close(fd);
	EXPECT_EQ(-EINVAL, baseline_load(b, self->file));
	EXPECT_EQ(77.0, b->slot[BL_FORKS][9].mean);
	free(a);
	free(b);
}

/* A baseline saved by an earlier lymphd (LYMPHBL1: 24-byte slots) is read
 * into the compact slots, values and week counts kept. */
TEST_F(dir, reads_the_earlier_format)
{
	struct {
		char magic[8];
		uint32_t nsig, nslots, slot_seconds, min_weeks;
		double alpha;
		int64_t cur_week_slot;
		double acc_sum[BL_NSIG];
		uint32_t acc_n[BL_NSIG];
		uint32_t folds;
	} h;
	struct {
		double mean, var;
		uint32_t n, pad;
	} * old;
	size_t n = (size_t)BL_NSIG * BL_SLOTS, i;
	uint64_t sum = 0xcbf29ce484222325ULL;
	const unsigned char *c;
	struct baseline *b = new_baseline(2), *c2 = new_baseline(2);
	struct stat st;
	FILE *f;

	ASSERT_NE(NULL, b);
	ASSERT_EQ(12u, sizeof(struct bl_slot));
	old = calloc(n, sizeof(*old));
	ASSERT_NE(NULL, old);
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, "LYMPHBL1", 8);
	h.nsig = BL_NSIG;
	h.nslots = BL_SLOTS;
	h.slot_seconds = BL_SLOT_SECONDS;
	h.min_weeks = 2;
	h.alpha = 0.3;
	h.cur_week_slot = 12345;
	h.acc_sum[BL_FORKS] = 8;
	h.acc_n[BL_FORKS] = 2;
	h.folds = 9;
	old[BL_FORKS * BL_SLOTS + 700] = (typeof(*old)){ .mean = 12.5, .var = 4.0, .n = 3 };
	old[BL_PROCS * BL_SLOTS + 2015] = (typeof(*old)){ .mean = 310.25, .var = 0.5, .n = 1 };
	/* the file's FNV-1a over header and slots */
	for (c = (const void *)&h, i = 0; i < sizeof(h); i++)
		sum = (sum ^ c[i]) * 0x100000001b3ULL;
	for (c = (const void *)old, i = 0; i < n * sizeof(*old); i++)
		sum = (sum ^ c[i]) * 0x100000001b3ULL;
	f = fopen(self->file, "w");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1u, fwrite(&h, sizeof(h), 1, f));
	ASSERT_EQ(n, fwrite(old, sizeof(*old), n, f));
	ASSERT_EQ(1u, fwrite(&sum, sizeof(sum), 1, f));
	ASSERT_EQ(0, fclose(f));

	ASSERT_EQ(0, baseline_load(b, self->file));
	EXPECT_EQ(12.5, b->slot[BL_FORKS][700].mean);
	EXPECT_EQ(4.0, b->slot[BL_FORKS][700].var);
	EXPECT_EQ(3u, b->slot[BL_FORKS][700].n);
	EXPECT_EQ(310.25, b->slot[BL_PROCS][2015].mean);
	EXPECT_EQ(1u, b->slot[BL_PROCS][2015].n);
	EXPECT_EQ(0u, b->slot[BL_FORKS][699].n);
	EXPECT_EQ(12345, b->cur_week_slot);
	EXPECT_EQ(8.0, b->acc_sum[BL_FORKS]);
	EXPECT_EQ(9u, b->folds);
	EXPECT_EQ(1u, baseline_trusted(b, BL_FORKS));

	/* saved again in the compact format, and read back the same */
	ASSERT_NE(NULL, c2);
	ASSERT_EQ(0, baseline_save(b, self->file));
	ASSERT_EQ(0, stat(self->file, &st));
	EXPECT_EQ(sizeof(h) + n * sizeof(struct bl_slot) + 8, (size_t)st.st_size);
	ASSERT_EQ(0, baseline_load(c2, self->file));
	EXPECT_EQ(0, memcmp(b->slot, c2->slot, sizeof(b->slot)));
	free(c2);
	/* a LYMPHBL1 file with a flipped bit is still refused */
	f = fopen(self->file, "w");
	ASSERT_NE(NULL, f);
	h.folds ^= 1;
	ASSERT_EQ(1u, fwrite(&h, sizeof(h), 1, f));
	ASSERT_EQ(n, fwrite(old, sizeof(*old), n, f));
	ASSERT_EQ(1u, fwrite(&sum, sizeof(sum), 1, f));
	ASSERT_EQ(0, fclose(f));
	EXPECT_EQ(-EINVAL, baseline_load(b, self->file));
	free(old);
	free(b);
}

TEST_HARNESS_MAIN
