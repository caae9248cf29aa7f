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

#define CORE_KEY_MAX 300

struct core_sig {
	uint64_t sig;
	char key[CORE_KEY_MAX]; /* the binary's identity: "ino:DEV:INO", else "path:EXE" */
	char binary[256];	/* its path (or name) as shown */
	char label[320];
	uint32_t count;	      /* artifacts seen with it */
	uint64_t first, last; /* wall ns (artifact mtimes) */
};

struct core_file {
	char *path;
	dev_t dev;
	ino_t ino;
	uint64_t mtime, bytes;
	uint64_t sig;
	char key[CORE_KEY_MAX];
	char binary[256];
	int store;     /* in the core handler's store (counted from its log) */
	int journaled; /* observe mode: its would-remove is journaled */
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
	char pattern_dir[256];	   /* from kernel.core_pattern, "" when none */
	char state[4096];	   /* where the signatures persist ("" : nowhere) */
	int dirty;		   /* the state file is behind */
	uint64_t handled, dropped; /* crashes the core handler saw, and did not store */
};

void cores_init(struct cores *c);

/* Load the signatures and the artifacts already counted from the state
 * file (written atomically whenever they change), so that a restart of
 * lymphd neither forgets a signature nor counts an artifact twice.
 * 0, or -errno (-ENOENT: none yet). */
int cores_load(struct cores *c, const char *state_path);

/* Save them now (cores_tick does when they changed): 0 or -errno. */
int cores_save(struct cores *c);

/* The identity of a binary from its path: "ino:DEV:INO" while the file is
 * there, else "path:EXE". */
void cores_binary_key(const char *exe, char *key, size_t len);

/* What a crash artifact carries about its binary and signal, for the
 * artifacts lymph cannot read a core from: systemd-coredump's xattrs
 * (user.coredump.exe, user.coredump.signal) and apport's .crash fields
 * (ExecutablePath, Signal).  0 with exe set, or -ENOENT. */
int cores_artifact_meta(int fd, const char *name, char *exe, size_t elen, int *signo);
void cores_free(struct cores *c);

/* Scan and act when core_interval has passed. */
void cores_tick(struct cores *c, const struct policy *p, struct journal *j, int enforce,
		uint64_t now);

/* lymphctl crashes */
struct json_object *cores_json(const struct cores *c, const struct policy *p);

/* The directory core_pattern puts cores in ("" when they go to the
 * crashing process's working directory, or nowhere lymph can budget). */
void cores_pattern_dir(const char *pattern, char *dir, size_t len);

#endif
