/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names for binaries: (dev, inode) -> path.  Sensors identify a binary by
 * its inode (a path can be renamed or replaced); people want a path.  Learnt
 * from a /proc scan at start and from every exec after that, so every binary
 * that runs while lymphd runs has a name by the time it dies.
 */
#ifndef LYMPH_BINPATH_H
#define LYMPH_BINPATH_H

#include <stddef.h>
#include <stdint.h>
#include "hashtab.h"

struct binpath_entry {
	uint64_t ino;
	uint32_t dev;
	uint32_t used;
	char *path;
};

struct binpath {
	struct hashtab ht; /* of struct binpath_entry, keyed (dev, ino) */
};

int binpath_init(struct binpath *b, size_t max_entries);
void binpath_free(struct binpath *b);

/* The path of (dev, ino), or NULL when not known. */
const char *binpath_lookup(const struct binpath *b, uint32_t dev, uint64_t ino);

/* Record the binary of a process that just exec'd: path as given to execve
 * (may be relative or a script) is used when it is that inode, otherwise
 * /proc/pid/exe is read. */
void binpath_learn_exec(struct binpath *b, uint32_t dev, uint64_t ino, const char *path,
			uint32_t pid);

/* Learn the binaries of every running process (at start). */
void binpath_scan_proc(struct binpath *b, const char *proc_root);

/* Store a known mapping (copies path). */
void binpath_set(struct binpath *b, uint32_t dev, uint64_t ino, const char *path);

#endif
