// SPDX-License-Identifier: GPL-2.0-only
/* Mount tracefs where systemd would, when nobody did (tracefs.h). */
#include "tracefs.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163 /* include/uapi/linux/magic.h */
#endif

/* Is a tracefs mounted at dir?  Its events/ directory alone could be a
 * leftover of something else: the file system's magic says. */
static int tracefs_at(const char *dir)
{
	struct statfs s;

	return statfs(dir, &s) == 0 && (unsigned long)s.f_type == TRACEFS_MAGIC;
}

int tracefs_ensure(void)
{
	if (tracefs_at(TRACEFS_DIR) || tracefs_at("/sys/kernel/debug/tracing"))
		return 0;
	/* the flags systemd's sys-kernel-tracing.mount gives it */
	if (mount("tracefs", TRACEFS_DIR, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	return 1;
}
