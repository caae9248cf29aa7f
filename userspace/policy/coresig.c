// SPDX-License-Identifier: GPL-2.0-only
/* Crash artifacts, the pure part (coresig.h). */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#if defined(__x86_64__)
#include <sys/reg.h>
#endif
#include "coresig.h"

#ifndef NT_SIGINFO
#define NT_SIGINFO 0x53494749
#endif
#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ULL;
	return h;
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void parse_file_note(const unsigned char *d, size_t len, struct core_info *ci)
{
	uint64_t count, page, i;
	const char *names, *end = (const char *)d + len;

	if (len < 16)
		return;
	count = rd64(d);
	page = rd64(d + 8);
	if (count > (len - 16) / 24)
		return;
	names = (const char *)d + 16 + count * 24;
	for (i = 0; i < count && names < end; i++) {
		const unsigned char *e = d + 16 + i * 24;
		uint64_t start = rd64(e), stop = rd64(e + 8), ofs = rd64(e + 16);
		size_t nl = strnlen(names, (size_t)(end - names));

		if (i == 0)
			snprintf(ci->exe, sizeof(ci->exe), "%.*s", (int)nl, names);
		if (ci->pc && ci->pc >= start && ci->pc < stop) {
			snprintf(ci->pc_file, sizeof(ci->pc_file), "%.*s", (int)nl, names);
			ci->pc_off = ci->pc - start + ofs * page;
		}
		names += nl + 1;
	}
}

int coresig_parse_notes(const void *notes, size_t len, struct core_info *ci)
{
	const unsigned char *p = notes, *end = p + len;
	int have_info = 0, have_status = 0;
	const char *base;

	memset(ci, 0, sizeof(*ci));
	while (p + sizeof(Elf64_Nhdr) <= end) {
		const Elf64_Nhdr *nh = (const void *)p;
		size_t nsz = (nh->n_namesz + 3) & ~3U, dsz = (nh->n_descsz + 3) & ~3U;
		const unsigned char *desc = p + sizeof(*nh) + nsz;

		if (desc + nh->n_descsz > end || desc < p)
			break;
		if (nh->n_type == NT_SIGINFO && nh->n_descsz >= 24) {
			int v[3];

			memcpy(v, desc, sizeof(v));
			ci->signo = v[0];
			ci->si_code = v[2];
			ci->addr = rd64(desc + 16);
			have_info = 1;
		} else if (nh->n_type == NT_PRSTATUS && !have_status &&
			   nh->n_descsz >= sizeof(struct elf_prstatus)) {
			struct elf_prstatus st;

			memcpy(&st, desc, sizeof(st));
			if (!have_info)
				ci->signo = st.pr_cursig;
#if defined(__x86_64__)
			ci->pc = (uint64_t)st.pr_reg[RIP];
#endif
			have_status = 1;
		} else if (nh->n_type == NT_PRPSINFO &&
			   nh->n_descsz >= sizeof(struct elf_prpsinfo)) {
			struct elf_prpsinfo ps;

			memcpy(&ps, desc, sizeof(ps));
			snprintf(ci->comm, sizeof(ci->comm), "%.16s", ps.pr_fname);
		} else if (nh->n_type == NT_FILE) {
			/* the pc is known by now: the kernel writes NT_PRSTATUS first */
			parse_file_note(desc, nh->n_descsz, ci);
		}
		p = desc + dsz;
	}
	if (!have_info && !have_status)
		return -EINVAL;
	base = strrchr(ci->pc_file, '/');
	base = base ? base + 1 : ci->pc_file;
	ci->sig = fnv(0xcbf29ce484222325ULL, ci->exe, strlen(ci->exe));
	ci->sig = fnv(ci->sig, &ci->signo, sizeof(ci->signo));
	ci->sig = fnv(ci->sig, base, strlen(base));
	ci->sig = fnv(ci->sig, &ci->pc_off, sizeof(ci->pc_off));
	if (!ci->sig)
		ci->sig = 1; /* 0 means unknown */
	return 0;
}

const char *coresig_label(const struct core_info *ci, char *buf, size_t len)
{
	const char *base = strrchr(ci->pc_file, '/');

	base = base ? base + 1 : (ci->pc_file[0] ? ci->pc_file : "?");
	snprintf(buf, len, "%s at %s+0x%llx",
		 sigabbrev_np(ci->signo) ? sigabbrev_np(ci->signo) : "?", base,
		 (unsigned long long)ci->pc_off);
	return buf;
}

/* ---- the plan ------------------------------------------------------------------ */

struct ref {
	struct core_art *a;
	int rank; /* 0: a binary's newest, 1: first of a signature */
};

static int by_binary_then_time(const void *x, const void *y)
{
	const struct core_art *a = *(struct core_art *const *)x, *b = *(struct core_art *const *)y;
	int c = strcmp(a->binary, b->binary);

	if (c)
		return c;
	if (a->mtime != b->mtime)
		return a->mtime < b->mtime ? -1 : 1;
	/* equal times (coarse file timestamps): the order given, so that two
	 * plans over the same artifacts agree */
	return a < b ? -1 : a > b;
}

/* newest first among rank 0, then the oldest first among rank 1 */
static int by_priority(const void *x, const void *y)
{
	const struct ref *a = x, *b = y;

	if (a->rank != b->rank)
		return a->rank - b->rank;
	if (a->a->mtime == b->a->mtime)
		return a->a < b->a ? -1 : a->a > b->a;
	if (a->rank == 0)
		return a->a->mtime > b->a->mtime ? -1 : 1;
	return a->a->mtime < b->a->mtime ? -1 : 1;
}

static void fit(struct ref *r, size_t n, uint64_t budget, const char *why)
{
	uint64_t used = 0;
	size_t i;

	qsort(r, n, sizeof(*r), by_priority);
	for (i = 0; i < n; i++) {
		if (!r[i].a->keep)
			continue;
		if (used + r[i].a->bytes > budget) {
			r[i].a->keep = 0;
			r[i].a->why = why;
		} else {
			used += r[i].a->bytes;
		}
	}
}

void cores_plan(struct core_art *a, size_t n, uint64_t per_binary, uint64_t total,
		uint32_t keep_first)
{
	struct core_art **s = calloc(n ? n : 1, sizeof(*s));
	struct ref *r = calloc(n ? n : 1, sizeof(*r));
	size_t i, j, k, nr = 0;

	if (!s || !r) {
		for (i = 0; i < n; i++)
			a[i].keep = 1; /* without memory, remove nothing */
		free(s);
		free(r);
		return;
	}
	for (i = 0; i < n; i++)
		s[i] = &a[i];
	qsort(s, n, sizeof(*s), by_binary_then_time);
	for (i = 0; i < n; i = j) {
		size_t first_nr = nr;

		for (j = i; j < n && !strcmp(s[j]->binary, s[i]->binary); j++)
			;
		/* s[i..j) one binary, oldest first */
		for (k = i; k < j; k++) {
			uint32_t same = 0;

			for (size_t m = i; m < k; m++)
				if (s[m]->sig == s[k]->sig && s[m]->keep && s[m]->why == NULL)
					same++;
			s[k]->why = NULL;
			s[k]->keep = k == j - 1 || same < keep_first;
			if (!s[k]->keep)
				s[k]->why = "a repeat of a signature already kept";
			else
				r[nr++] = (struct ref){ s[k], k == j - 1 ? 0 : 1 };
		}
		fit(r + first_nr, nr - first_nr, per_binary, "over the budget of its binary");
	}
	fit(r, nr, total, "over the total budget");
	free(s);
	free(r);
}
