/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Files that a crash cannot tear: the new content goes to PATH.tmp, is
 * fsynced, renamed over PATH, and the directory is fsynced so that the
 * rename itself survives a power cut.  A reader sees the old file or the
 * new one, never a mix.  Used for lymphd's state (baselines, integrity
 * digests, journal snapshots).
 */
#ifndef LYMPH_ATOMIC_FILE_H
#define LYMPH_ATOMIC_FILE_H

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

/* fsync the directory that holds PATH (after a rename into it). */
void fsync_parent_dir(const char *path);

#endif
