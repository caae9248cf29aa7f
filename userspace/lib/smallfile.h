/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small file read in one go: the procfs, sysfs and cgroup files lymphd
 * reads (the kernel hands such a file over in one read), a pidfile, a
 * saved setting.
 */
#ifndef LYMPH_SMALLFILE_H
#define LYMPH_SMALLFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The start of the file at path (one read of at most cap - 1 bytes),
 * NUL-terminated in buf (cap >= 1; empty on failure); flags are added to
 * O_RDONLY | O_CLOEXEC.  Its length, or -errno.
 */
ssize_t small_file_read(const char *path, int flags, char *buf, size_t cap);

#endif
