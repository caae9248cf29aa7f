/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymphd's descriptor limit.  1,024, the usual soft RLIMIT_NOFILE, is far
 * below what loading the sensors and a host's crashes can ask for; the
 * hard limit is what the administrator allows.
 */
#ifndef LYMPH_NOFILE_H
#define LYMPH_NOFILE_H

#include <stdint.h>

/* Raise the soft RLIMIT_NOFILE to the hard one (kept as it was when the
 * kernel refuses).  Returns the soft limit in force after it (INT_MAX for
 * unlimited), 0 when it cannot be read. */
uint64_t nofile_raise(void);

#endif
