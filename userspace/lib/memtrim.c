// SPDX-License-Identifier: GPL-2.0-only
/* Giving back pages that hold only zeros, unmapping file pages used once (see memtrim.h). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "memtrim.h"

static int page_is_zero(const void *p, size_t page)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < page / sizeof(*w); i++)
		if (w[i])
			return 0;
	return 1;
}

size_t mem_drop_zero_pages(void *start, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), dropped = 0, i = 0, n = 0;
	uintptr_t a = ((uintptr_t)start + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t end = ((uintptr_t)start + len) & ~(uintptr_t)(page - 1);
	uintptr_t run = 0; /* start of the run of pages to drop being gathered */
	unsigned char res[256]; /* residency of the pages from a - i * page on */

	/* Runs of zero pages go in one call each.  A page that is not
	 * resident is skipped unread (here a read would make it resident)
	 * and ends a run: it may be in swap, and dropping it would lose
	 * its bytes. */
	for (; a <= end; a += page, i++) {
		int zero = 0;

		if (a < end && i == n) {
			n = (end - a) / page < sizeof(res) ? (end - a) / page : sizeof(res);
			if (mincore((void *)a, n * page, res))
				memset(res, 1, n);
			i = 0;
		}
		if (a < end)
			zero = (res[i] & 1) && page_is_zero((const void *)a, page);
		if (zero && !run)
			run = a;
		if (!zero && run) {
			if (!madvise((void *)run, a - run, MADV_DONTNEED))
				dropped += a - run;
			run = 0;
		}
	}
	return dropped;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int mem_prefault(void *start, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)start & ~(uintptr_t)(page - 1);
	uintptr_t end = ((uintptr_t)start + len + page - 1) & ~(uintptr_t)(page - 1);

	if (!len)
		return 0;
	if (!madvise((void *)a, end - a, MADV_POPULATE_WRITE))
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* An older kernel: a read makes each page resident (or maps the
	 * zero page, and the first write takes a fault still). */
	for (; a < end; a += page)
		(void)*(volatile const char *)a;
	return 0;
}

/* Threads of this process, from the maps file's sibling status. */
static int threads_now(void)
{
	char line[128];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

long mem_drop_zero_anon(const char *maps)
{
	char line[512], perms[8], name[256];
	unsigned long lo, hi, off, inode;
	long dropped = 0;
	FILE *f;

	if (threads_now() != 1)
		return -EBUSY;
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %lu %255s", &lo, &hi, perms, &off, &inode,
			   name) < 5)
			continue;
		/* Private, writable, no file: the heap and anonymous maps only
		 * (not [stack]: its pages below the stack pointer change under
		 * the scan itself). */
		if (strcmp(perms, "rw-p") || inode || (name[0] && strcmp(name, "[heap]")))
			continue;
		dropped += (long)mem_drop_zero_pages((void *)lo, hi - lo);
	}
	fclose(f);
	return dropped;
}

long mem_drop_file_pages(const char *smaps)
{
	char line[PATH_MAX + 128], perms[8];
	unsigned long lo, hi, off, inode, cand_lo = 0, cand_hi = 0, anon;
	long dropped = 0;
	FILE *f;

	f = fopen(smaps, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* A mapping's header ("lo-hi perms offset dev inode [path]"):
		 * a candidate until its Anonymous line. */
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') &&
		    sscanf(line, "%lx-%lx %7s %lx %*s %lu", &lo, &hi, perms, &off, &inode) == 5) {
			cand_lo = cand_hi = 0;
			if (inode && (!strcmp(perms, "r--p") || !strcmp(perms, "r-xp"))) {
				cand_lo = lo;
				cand_hi = hi;
			}
			continue;
		}
		/* Pages written before they were made read-only (RELRO: the
		 * relocated GOT and vtables; a debugger's breakpoint) are
		 * copies, not the file's: such a mapping is left alone. */
		if (cand_hi && sscanf(line, "Anonymous: %lu kB", &anon) == 1) {
			if (!anon && !madvise((void *)cand_lo, cand_hi - cand_lo, MADV_DONTNEED))
				dropped += (long)(cand_hi - cand_lo);
			cand_lo = cand_hi = 0;
		}
	}
	fclose(f);
	return dropped;
}
