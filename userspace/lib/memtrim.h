/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Giving back pages that hold only zeros.  Tables sized for the worst case
 * (arrays of marks, runners, vaccinations, tidy rules...) are zeroed by
 * their init functions, and a memset of zeros makes every page resident
 * although nothing is in it yet.  A private anonymous page whose bytes are
 * all zero can be dropped (MADV_DONTNEED): the next read maps the shared
 * zero page and the next write a fresh zeroed page, so its contents are
 * the same either way (on some kernels a read makes a fresh zeroed page
 * resident too: dropping the zero pages again after a scan gives it
 * back).  Only while no other thread runs: a write by another thread
 * between the check and the drop would be lost.
 *
 * And unmapping a file's pages that a process ran or read once (the
 * text and read-only data of the program and its libraries after
 * start-up): the page cache keeps them, a page used again comes back by
 * a minor fault.
 */
#ifndef LYMPH_MEMTRIM_H
#define LYMPH_MEMTRIM_H

#include <stddef.h>

/* Drop the pages of [start, start + len) (whole pages only; private
 * anonymous memory) whose bytes are all zero.  Returns the bytes dropped. */
size_t mem_drop_zero_pages(void *start, size_t len);

/*
 * The same over this process's private anonymous writable mappings (the
 * heap, .bss, malloc's mmapped chunks; never a stack, nor a shared or
 * file mapping), read from maps (normally "/proc/self/maps").  Refuses
 * (-EBUSY) unless the process runs one thread.  Returns the bytes
 * dropped, or -errno.
 */
long mem_drop_zero_anon(const char *maps);

/*
 * Make the pages of [start, start + len) (widened to whole pages; private
 * writable memory) resident and writable again, their bytes unchanged
 * (MADV_POPULATE_WRITE; before Linux 5.14 a read of each page): for the
 * few pages every event reads, so that the first event after a drop of
 * zero pages does not take their faults (a fault costs 5-100 us on a
 * virtual machine).  Those pages are resident again after any event
 * anyway.  0 or -errno.
 */
int mem_prefault(void *start, size_t len);

/*
 * Unmap every private read-only mapping of a file (r--p and r-xp, read
 * from smaps, normally "/proc/self/smaps"): the text and read-only data
 * of the program and of its libraries, most of it run or read once at
 * start-up.  The file's pages stay in the page cache; a page used again
 * is mapped again by a minor fault, the same bytes.  A mapping with
 * copied (anonymous) pages, RELRO's relocated data or a debugger's
 * breakpoint, is left alone: its pages are not the file's.  Returns the
 * bytes unmapped, or -errno.
 */
long mem_drop_file_pages(const char *smaps);

#endif
