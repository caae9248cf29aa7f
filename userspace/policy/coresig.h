/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crash artifacts, the pure part: the signature of a core dump read from
 * its ELF notes, and which artifacts to keep within the budgets.
 *
 * A signature is the binary (the first file mapping of the core: the
 * executable), the signal, and the instruction that faulted as an offset
 * into the file it was mapped from (NT_PRSTATUS's program counter located
 * in NT_FILE), so address-space randomisation does not split one bug into
 * many signatures and one binary's distinct bugs stay apart (apport and
 * ABRT deduplicate crashes the same way, by location rather than by
 * address).
 */
#ifndef LYMPH_CORESIG_H
#define LYMPH_CORESIG_H

#include <stddef.h>
#include <stdint.h>

struct core_info {
	int signo, si_code;
	uint64_t addr;	   /* si_addr */
	uint64_t pc;	   /* program counter of the dumping thread, 0: unknown */
	char comm[17];	   /* NT_PRPSINFO pr_fname */
	char exe[256];	   /* first NT_FILE mapping */
	char pc_file[256]; /* the file the pc lies in ("" if anonymous) */
	uint64_t pc_off;   /* pc as an offset into that file */
	uint64_t sig;	   /* FNV-1a of exe, signo, basename(pc_file), pc_off */
};

/* Parse the notes of a core (the content of its PT_NOTE segment): 0, or
 * -EINVAL when there is no NT_SIGINFO / NT_PRSTATUS to go by. */
int coresig_parse_notes(const void *notes, size_t len, struct core_info *ci);

/* "SIGSEGV at libfoo.so+0x1234" style label of a signature (into buf). */
const char *coresig_label(const struct core_info *ci, char *buf, size_t len);

/* One artifact on disk, as the plan sees it. */
struct core_art {
	const char *binary; /* grouping key: the binary's path (or name) */
	uint64_t sig;	    /* 0: unknown (an artifact lymph cannot read) */
	uint64_t mtime;	    /* wall ns */
	uint64_t bytes;	    /* allocated */
	int keep;	    /* out */
	const char *why;    /* out: why it is removed (NULL when kept) */
};

/*
 * Keep, per binary, the first keep_first artifacts of each signature and
 * the most recent one; the rest are repeats.  Then, per binary, the newest
 * and then the oldest signatures first, within per_binary bytes; then the
 * same across binaries within total bytes.  Budgets of 0 keep nothing.
 */
void cores_plan(struct core_art *a, size_t n, uint64_t per_binary, uint64_t total,
		uint32_t keep_first);

#endif
