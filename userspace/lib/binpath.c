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

int binpath_init(struct binpath *b, size_t max_entries)
{
	size_t cap = 64;

	memset(b, 0, sizeof(*b));
	while (cap / 2 < max_entries)	/* load factor <= 1/2 */
		cap *= 2;
	b->slots = calloc(cap, sizeof(*b->slots));
	if (!b->slots)
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

static void clear_all(struct binpath *b)
{
	size_t i;

	for (i = 0; i < b->cap; i++) {
		free(b->slots[i].path);
		b->slots[i].path = NULL;
		b->slots[i].used = 0;
	}
	b->count = 0;
}

void binpath_free(struct binpath *b)
{
	if (b->slots)
		clear_all(b);
	free(b->slots);
	memset(b, 0, sizeof(*b));
}

static size_t slot_of(const struct binpath *b, uint32_t dev, uint64_t ino)
{
	size_t mask = b->cap - 1;
	size_t i = (size_t)((ino * 0x9e3779b97f4a7c15ULL) ^ dev) & mask;

	while (b->slots[i].used && !(b->slots[i].ino == ino && b->slots[i].dev == dev))
		i = (i + 1) & mask;
	return i;
}

const char *binpath_lookup(const struct binpath *b, uint32_t dev, uint64_t ino)
{
	size_t i;

	if (!b->slots || (!dev && !ino))
		return NULL;
	i = slot_of(b, dev, ino);
	return b->slots[i].used ? b->slots[i].path : NULL;
}

void binpath_set(struct binpath *b, uint32_t dev, uint64_t ino, const char *path)
{
	char *copy;
	size_t i;

	if (!b->slots || (!dev && !ino) || !path || !*path)
		return;
	/* Bounded: a host that runs more distinct binaries than this starts
	 * over; names come back at the next exec. */
	if (b->count >= b->cap / 2)
		clear_all(b);
	copy = strdup(path);
	if (!copy)
		return;
	i = slot_of(b, dev, ino);
	if (b->slots[i].used) {
		free(b->slots[i].path);
	} else {
		b->slots[i].used = 1;
		b->slots[i].dev = dev;
		b->slots[i].ino = ino;
		b->count++;
	}
	b->slots[i].path = copy;
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

void binpath_learn_exec(struct binpath *b, uint32_t dev, uint64_t ino,
			const char *path, uint32_t pid)
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
