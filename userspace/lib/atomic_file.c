// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "atomic_file.h"

int write_all(int fd, const void *buf, size_t len)
{
	const char *c = buf;

	while (len) {
		ssize_t n = write(fd, c, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

void fsync_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int atomic_file_begin(struct atomic_file *af, const char *path, mode_t mode, int access)
{
	af->fd = -EBADF;
	if (snprintf(af->path, sizeof(af->path), "%s", path) >= (int)sizeof(af->path) ||
	    snprintf(af->tmp, sizeof(af->tmp), "%s.tmp", path) >= (int)sizeof(af->tmp))
		return -ENAMETOOLONG;
	af->fd = open(af->tmp, access | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (af->fd < 0)
		return -errno;
	/* open() applies the umask; the caller's mode is what it asked for. */
	if (fchmod(af->fd, mode)) {
		int err = -errno;

		atomic_file_abort(af);
		return err;
	}
	return 0;
}

void atomic_file_abort(struct atomic_file *af)
{
	if (af->fd >= 0) {
		close(af->fd);
		unlink(af->tmp);
	}
	af->fd = -EBADF;
}

int atomic_file_commit(struct atomic_file *af)
{
	int err = 0;

	if (fsync(af->fd) || rename(af->tmp, af->path))
		err = -errno;
	if (err) {
		atomic_file_abort(af);
		return err;
	}
	fsync_parent_dir(af->path);
	return 0;
}

int atomic_write_iov(const char *path, mode_t mode, const struct iovec *iov, int n)
{
	struct atomic_file af;
	int i, err;

	err = atomic_file_begin(&af, path, mode, O_WRONLY);
	for (i = 0; !err && i < n; i++)
		err = write_all(af.fd, iov[i].iov_base, iov[i].iov_len);
	if (err) {
		atomic_file_abort(&af);
		return err;
	}
	err = atomic_file_commit(&af);
	if (!err && close(af.fd))
		err = -errno;
	return err;
}

int atomic_write(const char *path, mode_t mode, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return atomic_write_iov(path, mode, &iov, 1);
}
