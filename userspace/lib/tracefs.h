/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tracefs, where the kernel lists its tracepoints' ids.  lymphd puts the
 * refused-fork probe on the fork calls' own tracepoints
 * (syscalls:sys_exit_clone, ...), found by their ids; without a mounted
 * tracefs it falls back to raw_syscalls:sys_exit, a cost on every system
 * call of the host while it is armed.  systemd mounts tracefs at boot; a
 * host or container without systemd may have none, and then lymphd mounts
 * it itself, where systemd would (the mount is left in place: it changes
 * nothing for anyone else, and `umount /sys/kernel/tracing` undoes it).
 */
#ifndef LYMPH_TRACEFS_H
#define LYMPH_TRACEFS_H

#define TRACEFS_DIR "/sys/kernel/tracing"

/*
 * Make sure a tracefs is mounted: at TRACEFS_DIR, or the older
 * /sys/kernel/debug/tracing.  Returns 0 when one was mounted already, 1
 * when this call mounted it at TRACEFS_DIR, -errno when neither (no
 * tracefs in the kernel, no CAP_SYS_ADMIN, a read-only /sys, ...).
 */
int tracefs_ensure(void);

#endif
