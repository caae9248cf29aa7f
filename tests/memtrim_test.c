// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/memtrim: pages that hold only zeros are given back (no longer
 * resident, as mincore(2) shows) and every byte reads back the same; a
 * page with one byte set stays; the whole-process walk refuses to run
 * beside another thread.
 */
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "decay.h"
#include "memtrim.h"

#define NPAGES 16

FIXTURE(area)
{
	unsigned char *p;
	size_t page;
};

FIXTURE_SETUP(area)
{
	self->page = (size_t)sysconf(_SC_PAGESIZE);
	self->p = mmap(NULL, NPAGES * self->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	/* Every page resident, as an init's memset leaves them. */
	memset(self->p, 0, NPAGES * self->page);
}

FIXTURE_TEARDOWN(area)
{
	munmap(self->p, NPAGES * self->page);
}

static int resident(struct __test_metadata *_metadata, void *p, size_t page, size_t i)
{
	unsigned char v = 0;

	ASSERT_EQ(0, mincore((char *)p + i * page, page, &v));
	return v & 1;
}

TEST_F(area, zero_pages_go_and_the_rest_stays)
{
	size_t i, n0 = 0;

	self->p[3 * self->page + 17] = 0xaa;
	self->p[10 * self->page + self->page - 1] = 0x55;
	self->p[15 * self->page] = 1;
	for (i = 0; i < NPAGES; i++)
		n0 += resident(_metadata, self->p, self->page, i);
	ASSERT_EQ((size_t)NPAGES, n0);

	EXPECT_EQ((NPAGES - 3) * self->page, mem_drop_zero_pages(self->p, NPAGES * self->page));
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ((int)(i == 3 || i == 10 || i == 15),
			  resident(_metadata, self->p, self->page, i))
	TH_LOG("page %zu", i);
	/* The same bytes as before. */
	for (i = 0; i < NPAGES * self->page; i++) {
		unsigned char want = i == 3 * self->page + 17		     ? 0xaa
				     : i == 10 * self->page + self->page - 1 ? 0x55
				     : i == 15 * self->page		     ? 1
									     : 0;

		if (self->p[i] != want) {
			EXPECT_EQ(want, self->p[i]) TH_LOG("byte %zu", i);
			break;
		}
	}
	/* A dropped page is writable again, as memory. */
	self->p[5 * self->page + 1] = 7;
	EXPECT_EQ(7, self->p[5 * self->page + 1]);
}

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* What the event path reads is made resident again after a drop (issue
 * 15: the first crash after a trim took those faults): the pages of the
 * range, widened to whole pages, and no other; their bytes unchanged; a
 * read and a write of them then fault no more. */
TEST_F(area, prefault_makes_the_range_resident_again)
{
	long before;
	size_t i;

	self->p[6 * self->page + 9] = 0x42;
	EXPECT_EQ((NPAGES - 1) * self->page, mem_drop_zero_pages(self->p, NPAGES * self->page));
	/* pages 4 (from its byte 100) to 8 (to its byte 10) */
	ASSERT_EQ(0, mem_prefault(self->p + 4 * self->page + 100, 4 * self->page - 90));
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ((int)(i >= 4 && i <= 8), resident(_metadata, self->p, self->page, i))
	TH_LOG("page %zu", i);
	EXPECT_EQ(0x42, self->p[6 * self->page + 9]);
	before = minor_faults();
	for (i = 4; i <= 8; i++)
		self->p[i * self->page + 1] += (unsigned char)(self->p[i * self->page] + 1);
	EXPECT_EQ(before, minor_faults()) TH_LOG("the event path would fault on them still");
	EXPECT_EQ(1, self->p[4 * self->page + 1]);
	EXPECT_EQ(0, mem_prefault(self->p, 0));
}

TEST_F(area, only_whole_pages_inside_the_range)
{
	/* From the middle of page 1 to the middle of page 4: pages 2 and 3. */
	EXPECT_EQ(2 * self->page, mem_drop_zero_pages(self->p + self->page + 100, 3 * self->page));
	EXPECT_EQ(1, resident(_metadata, self->p, self->page, 1));
	EXPECT_EQ(0, resident(_metadata, self->p, self->page, 2));
	EXPECT_EQ(0, resident(_metadata, self->p, self->page, 3));
	EXPECT_EQ(1, resident(_metadata, self->p, self->page, 4));
}

/* Pages never touched are not read (where a read of an untouched page
 * makes it resident, as on some kernels, the scan itself would) and do
 * not count as given back; a written page among them stays. */
TEST_F(area, untouched_pages_are_skipped)
{
	/* Pages 0-7 as the fixture left them (zeros, resident); 8-15 never
	 * touched; page 12 written. */
	ASSERT_EQ(0, madvise(self->p + 8 * self->page, 8 * self->page, MADV_DONTNEED));
	self->p[12 * self->page] = 9;
	EXPECT_EQ(8 * self->page, mem_drop_zero_pages(self->p, NPAGES * self->page));
	EXPECT_EQ(1, resident(_metadata, self->p, self->page, 12));
	EXPECT_EQ(0, resident(_metadata, self->p, self->page, 11));
	EXPECT_EQ(0, resident(_metadata, self->p, self->page, 13));
	EXPECT_EQ(0, resident(_metadata, self->p, self->page, 0));
	EXPECT_EQ(9, self->p[12 * self->page]);
}

/* A page in swap is not resident but holds its bytes: never dropped with
 * the zero pages around it. */
TEST_F(area, a_page_in_swap_is_kept)
{
	memset(self->p + 5 * self->page, 0x5a, self->page);
	if (madvise(self->p + 5 * self->page, self->page, MADV_PAGEOUT) ||
	    resident(_metadata, self->p, self->page, 5))
		SKIP(return, "page 5 was not swapped out (no swap on this host?)");
	mem_drop_zero_pages(self->p, NPAGES * self->page);
	EXPECT_EQ(0x5a, self->p[5 * self->page]);
	EXPECT_EQ(0x5a, self->p[6 * self->page - 1]);
}

TEST_F(area, the_process_walk_finds_anonymous_zero_pages)
{
	long got = mem_drop_zero_anon("/proc/self/maps");

	ASSERT_LE((long)(NPAGES * self->page), got);
	EXPECT_EQ(0, resident(_metadata, self->p, self->page, 0));
	EXPECT_EQ(0, resident(_metadata, self->p, self->page, NPAGES - 1));
}

static void *sleeper(void *arg)
{
	int *fd = arg;
	char c;

	return read(*fd, &c, 1) < 0 ? NULL : arg; /* until the test closes it */
}

TEST_F(area, the_process_walk_refuses_beside_another_thread)
{
	pthread_t t;
	int fds[2];

	ASSERT_EQ(0, pipe(fds));
	ASSERT_EQ(0, pthread_create(&t, NULL, sleeper, &fds[0]));
	EXPECT_EQ(-EBUSY, mem_drop_zero_anon("/proc/self/maps"));
	EXPECT_EQ(1, resident(_metadata, self->p, self->page, 0));
	close(fds[1]);
	pthread_join(t, NULL);
	close(fds[0]);
}

/* Rss and Anonymous (kB) of the mappings with these perms whose path ends
 * in suffix (or, for an empty suffix, is this test binary). */
static void file_rss_kb(const char *perms_want, const char *suffix, long *rss, long *anon)
{
	char line[4200], exe[4096] = "", name[4096], perms[8];
	unsigned long lo, hi;
	int in = 0;
	long v;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f = fopen("/proc/self/smaps", "re");

	if (n > 0)
		exe[n] = 0;
	*rss = *anon = 0;
	while (f && fgets(line, sizeof(line), f)) {
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &lo, &hi, perms, name) >= 3 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			size_t ln = strlen(name), ls = strlen(suffix);

			in = !strcmp(perms, perms_want) &&
			     (ls ? ln >= ls && !strcmp(name + ln - ls, suffix) : !strcmp(name, exe));
			continue;
		}
		if (in && sscanf(line, "Rss: %ld kB", &v) == 1)
			*rss += v;
		if (in && sscanf(line, "Anonymous: %ld kB", &v) == 1)
			*anon += v;
	}
	if (f)
		fclose(f);
}

/* A table in the test's read-only data (1 MiB), read before and after.
 * The kernel maps again pages around any page of it that is read (the
 * test's own strings are read: fault-around, whole large folios), so
 * how much stays unmapped is the host's business: less than before. */
#define TABLE_N (256 * 1024)
static const unsigned int table[TABLE_N] = { 1, 2, 3, [TABLE_N - 1] = 42 };

TEST(exe_rodata_is_unmapped_and_reads_the_same)
{
	volatile const unsigned int *t = table;
	unsigned long sum = 0;
	long before, after, got, anon;
	size_t i;

	for (i = 0; i < TABLE_N; i++)
		sum += t[i];
	ASSERT_EQ(48UL, sum);
	file_rss_kb("r--p", "", &before, &anon);
	ASSERT_LE(1024, before) TH_LOG("the table's 1 MiB is resident");
	got = mem_drop_file_pages("/proc/self/smaps");
	file_rss_kb("r--p", "", &after, &anon);
	EXPECT_LT(0, got);
	EXPECT_GT(before, after) TH_LOG("before %ld kB, after %ld kB", before, after);
	for (sum = 0, i = 0; i < TABLE_N; i++)
		sum += t[i];
	EXPECT_EQ(48UL, sum);
}

static int by_value(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* libc's text, unmapped, runs the same: the pages come back as they are
 * used. */
TEST(library_text_is_unmapped_and_runs_the_same)
{
	long before, after, anon;
	int v[64], i, sorted = 1;
	char buf[64];

	file_rss_kb("r-xp", "/libc.so.6", &before, &anon);
	if (!before)
		SKIP(return, "libc.so.6 not found in /proc/self/smaps (a static build?)");
	ASSERT_EQ(0, anon);
	ASSERT_LT(0, mem_drop_file_pages("/proc/self/smaps"));
	file_rss_kb("r-xp", "/libc.so.6", &after, &anon);
	EXPECT_GT(before, after) TH_LOG("before %ld kB, after %ld kB", before, after);
	for (i = 0; i < 64; i++)
		v[i] = (i * 37) % 64;
	qsort(v, 64, sizeof(v[0]), by_value);
	for (i = 0; i < 64; i++)
		sorted &= v[i] == i;
	EXPECT_EQ(1, sorted);
	snprintf(buf, sizeof(buf), "%.3f %s %lu", strtod("2.5e-1", NULL), "x", 42UL);
	EXPECT_STREQ("0.250 x 42", buf);
}

/* The decay on every danger death's path runs no libm code or table:
 * after the drop of the libraries' pages, decays over any span and a
 * quarantine's duration map no page of libm again (issue 15: exp2's
 * cost a fresh lymphd's first crash 3 faults, or 192 KiB made resident
 * ahead). */
static double decays(void)
{
	struct decay d = { .value = 100.0, .last_ns = 1 };
	double sum = 0.0;
	uint64_t t;

	for (t = 2; t < 1000000000000ULL; t = t * 3 + 7)
		sum += decay_value(&d, t, 3600000000000ULL) + decay_pow2((double)(t % 40));
	return sum;
}

TEST(decays_map_no_libm_page)
{
	long before, after, anon, before_ro, after_ro;
	double want = decays();
	/* libm loaded, as in lymphd (the weather's log2): its pages there to
	 * see */
	double (*volatile lg)(double) = log2;

	ASSERT_EQ(3.0, lg(8.0));
	file_rss_kb("r-xp", "/libm.so.6", &before, &anon);
	if (!before)
		SKIP(return, "libm.so.6 not found in /proc/self/smaps (a static build?)");
	ASSERT_LT(0, mem_drop_file_pages("/proc/self/smaps"));
	file_rss_kb("r-xp", "/libm.so.6", &before, &anon);
	file_rss_kb("r--p", "/libm.so.6", &before_ro, &anon);
	EXPECT_EQ(want, decays());
	file_rss_kb("r-xp", "/libm.so.6", &after, &anon);
	file_rss_kb("r--p", "/libm.so.6", &after_ro, &anon);
	EXPECT_EQ(before, after) TH_LOG("libm's code: %ld kB, then %ld kB", before, after);
	EXPECT_EQ(before_ro, after_ro)
	TH_LOG("libm's read-only data: %ld kB, then %ld kB", before_ro, after_ro);
}

/* A read-only private mapping of a file whose page was written before it
 * was made read-only (as RELRO's are) holds a copy: never dropped (the
 * file's bytes would come back in its place). */
TEST(copied_pages_of_a_file_are_kept)
{
	char path[] = "/tmp/memtrim_test.XXXXXX";
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *p;
	long rss, anon;
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, (off_t)(4 * page)));
	p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[page + 5] = 0xab; /* a private copy of page 1 */
	(void)*(volatile unsigned char *)p; /* page 0: the file's */
	ASSERT_EQ(0, mprotect(p, 4 * page, PROT_READ));
	file_rss_kb("r--p", path, &rss, &anon);
	EXPECT_LT(0, anon) TH_LOG("the written page is a copy (Anonymous in smaps)");
	mem_drop_file_pages("/proc/self/smaps");
	EXPECT_EQ(0xab, p[page + 5]);
	EXPECT_EQ(0, p[0]);
	EXPECT_EQ(0, p[3 * page]);
	munmap(p, 4 * page);
	close(fd);
	unlink(path);
}

TEST_HARNESS_MAIN
