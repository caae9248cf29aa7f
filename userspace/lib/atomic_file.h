/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Files that a crash cannot tear: the new content goes to PATH.tmp, is
 * fsynced, renamed over PATH, and the directory is fsynced so that the
 * rename itself survives a power cut.  A reader sees the old file or the
 * new one, never a mix.  Used for lymphd's state (baselines, integrity
 * digests) and the journal's rotation (which writes its snapshot piece by
 * piece: the atomic_file_begin/commit form).
 */
#ifndef LYMPH_ATOMIC_FILE_H
#define LYMPH_ATOMIC_FILE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Write all of buf, retrying short writes and EINTR: 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/* Replace PATH with the concatenation of iov[0..n), mode MODE: 0 or
 * -errno (PATH is untouched on failure). */
int atomic_write_iov(const char *path, mode_t mode, const struct iovec *iov, int n);

/* The same with one buffer. */
int atomic_write(const char *path, mode_t mode, const void *buf, size_t len);

/*
 * The same for content written piece by piece.  begin creates PATH.tmp
 * (truncated, mode MODE, opened with ACCESS: O_WRONLY, or O_RDWR |
 * O_APPEND for a journal) and leaves its fd in af->fd; commit fsyncs it,
 * renames it over PATH and fsyncs the directory, keeping af->fd open (the
 * caller closes it, or goes on appending to the file now at PATH); abort
 * closes and removes it.  A failed commit aborts.  0 or -errno.
 */
struct atomic_file {
	int fd;
	char path[PATH_MAX];
	char tmp[PATH_MAX];
};

int atomic_file_begin(struct atomic_file *af, const char *path, mode_t mode, int access);
int atomic_file_commit(struct atomic_file *af);
void atomic_file_abort(struct atomic_file *af);

/* fsync the directory that holds PATH (after a rename into it). */
void fsync_parent_dir(const char *path);

#endif
