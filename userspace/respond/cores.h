/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crash artifacts budgeted per binary: the core files in the places they
 * really land (core* in every service's working directory, the directory
 * kernel.core_pattern names, /var/lib/systemd/coredump when systemd-coredump
 * is the handler, /var/crash for apport, and the [phagocyte] core_dir
 * directories) are read for their signature (coresig.h); per binary the
 * first of each signature and the most recent are kept within
 * core_budget_per_binary, and all within core_budget_total; the repeats
 * are removed (journaled; observe mode journals what it would remove).
 * lymphctl crashes lists the signatures with their counts, first and last
 * time, and the artifacts kept.
 */
#ifndef LYMPH_CORES_H
#define LYMPH_CORES_H

#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "coresig.h"
#include "journal.h"

struct core_sig {
	uint64_t sig;
	char binary[256];
	char label[320];
	uint32_t count;		/* artifacts seen with it */
	uint64_t first, last;	/* wall ns (artifact mtimes) */
};

struct core_file {
	char *path;
	dev_t dev;
	ino_t ino;
	uint64_t mtime, bytes;
	uint64_t sig;
	char binary[256];
	int journaled;		/* observe mode: its would-remove is journaled */
	uint32_t seen;
};

struct cores {
	struct core_sig *sig;
	size_t n_sig;
	struct core_file *f;
	size_t n_f;
	uint32_t gen;
	uint64_t next;
	uint64_t removed, removed_bytes;
	char pattern_dir[256];	/* from kernel.core_pattern, "" when none */
};

void cores_init(struct cores *c);
void cores_free(struct cores *c);

/* Scan and act when core_interval has passed. */
void cores_tick(struct cores *c, const struct policy *p, struct journal *j, int enforce, uint64_t now);

/* lymphctl crashes */
struct json_object *cores_json(const struct cores *c, const struct policy *p);

/* The directory core_pattern puts cores in ("" when they go to the
 * crashing process's working directory, or nowhere lymph can budget). */
void cores_pattern_dir(const char *pattern, char *dir, size_t len);

#endif
