// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "smallfile.h"

ssize_t small_file_read(const char *path, int flags, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags), err;
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = 0;
	return n;
}
