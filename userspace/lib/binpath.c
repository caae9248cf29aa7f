// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "binpath.h"
#include "procfs.h"

struct bin_key {
	uint64_t ino;
	uint32_t dev;
};

static int entry_used(const void *p)
{
	return ((const struct binpath_entry *)p)->used;
}

static uint64_t entry_hash(const void *p)
{
	const struct binpath_entry *e = p;

	return hash_file(e->dev, e->ino);
}

static int entry_match(const void *p, const void *key)
{
	const struct binpath_entry *e = p;
	const struct bin_key *k = key;

	return e->ino == k->ino && e->dev == k->dev;
}

static const struct hashtab_ops binpath_ops = {
	.used = entry_used,
	.hash = entry_hash,
	.match = entry_match,
};

int binpath_init(struct binpath *b, size_t max_entries)
{
	memset(b, 0, sizeof(*b));
	/* Load factor at most 1/2. */
	return hashtab_init_growing(&b->ht, &binpath_ops, sizeof(struct binpath_entry),
				    hashtab_cap_for(64, max_entries, 1, 2));
}

static void clear_all(struct binpath *b)
{
	size_t i;

	for (i = 0; i < b->ht.cap; i++) {
		struct binpath_entry *e = hashtab_at(&b->ht, i);

		free(e->path);
		memset(e, 0, sizeof(*e));
	}
	b->ht.count = 0;
}

void binpath_free(struct binpath *b)
{
	if (b->ht.slots)
		clear_all(b);
	hashtab_free(&b->ht);
	memset(b, 0, sizeof(*b));
}

const char *binpath_lookup(const struct binpath *b, uint32_t dev, uint64_t ino)
{
	struct bin_key k = { .ino = ino, .dev = dev };
	const struct binpath_entry *e;

	if (!dev && !ino)
		return NULL;
	e = hashtab_find(&b->ht, &k, hash_file(dev, ino));
	return e ? e->path : NULL;
}

void binpath_set(struct binpath *b, uint32_t dev, uint64_t ino, const char *path)
{
	struct bin_key k = { .ino = ino, .dev = dev };
	struct binpath_entry *e;
	char *copy;

	if (!b->ht.slots || (!dev && !ino) || !path || !*path)
		return;
	/* Bounded: a host that runs more distinct binaries than this starts
	 * over; names come back at the next exec. */
	if (b->ht.count >= b->ht.max_cap / 2)
		clear_all(b);
	if (hashtab_reserve(&b->ht))
		return;
	copy = strdup(path);
	if (!copy)
		return;
	e = hashtab_probe(&b->ht, &k, hash_file(dev, ino));
	if (e->used) {
		free(e->path);
	} else {
		e->used = 1;
		e->dev = dev;
		e->ino = ino;
		b->ht.count++;
	}
	e->path = copy;
}

static int same_inode(const char *path, uint32_t dev, uint64_t ino)
{
	struct stat st;

	return !stat(path, &st) && (uint32_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

static int read_exe(const char *proc_root, uint32_t pid, char *out, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%u/exe", proc_root, pid);
	n = readlink(link, out, len - 1);
	if (n <= 0)
		return -1;
	out[n] = 0;
	return 0;
}

void binpath_learn_exec(struct binpath *b, uint32_t dev, uint64_t ino, const char *path,
			uint32_t pid)
{
	char exe[PATH_MAX];

	if (binpath_lookup(b, dev, ino))
		return;
	/* An absolute path is the binary itself unless it was a script
	 * (then the inode is the interpreter's).  A symlink (/usr/bin/python3,
	 * /usr/bin/sh on Debian) is resolved once: the name kept is the
	 * target's, the file whose inode ran, so that the quarantine can open
	 * and mark exactly that file. */
	if (path && path[0] == '/' && same_inode(path, dev, ino)) {
		char *real = realpath(path, NULL);

		binpath_set(b, dev, ino, real && same_inode(real, dev, ino) ? real : path);
		free(real);
		return;
	}
	if (!read_exe("/proc", pid, exe, sizeof(exe)) && same_inode(exe, dev, ino))
		binpath_set(b, dev, ino, exe);
}

void binpath_scan_proc(struct binpath *b, const char *proc_root)
{
	char exe[PATH_MAX], link[PATH_MAX];
	struct proc_iter it;
	long pid;

	if (proc_iter_open(&it, proc_root))
		return;
	while ((pid = proc_iter_next(&it)) >= 0) {
		struct stat st;

		if (!pid)
			continue;
		snprintf(link, sizeof(link), "%s/%ld/exe", proc_root, pid);
		/* stat through the link: the inode even if the path was replaced. */
		if (stat(link, &st) || read_exe(proc_root, (uint32_t)pid, exe, sizeof(exe)))
			continue;
		if (!binpath_lookup(b, (uint32_t)st.st_dev, st.st_ino))
			binpath_set(b, (uint32_t)st.st_dev, st.st_ino, exe);
	}
	proc_iter_close(&it);
}
