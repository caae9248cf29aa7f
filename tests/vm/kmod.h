/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading and unloading lymph.ko from the in-guest tests (tests/vm/run.sh
 * builds each *_test.c on its own, statically, so this is a header of
 * static inline functions, not a library).  The module comes from
 * $LYMPH_KO, default /lib/modules/lymph.ko.
 */
#ifndef LYMPH_VM_KMOD_H
#define LYMPH_VM_KMOD_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* finit_module() with these module parameters ("" for none); 0 or -errno. */
static inline int kmod_load(const char *params)
{
	const char *ko = getenv("LYMPH_KO") ?: "/lib/modules/lymph.ko";
	int fd = open(ko, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		err = -errno;
	close(fd);
	return err;
}

/* delete_module("lymph"), never waiting for users to go; 0 or -errno. */
static inline int kmod_unload(void)
{
	return syscall(SYS_delete_module, "lymph", O_NONBLOCK) ? -errno : 0;
}

#endif
