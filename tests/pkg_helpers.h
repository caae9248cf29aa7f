/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the install, package and dkms tests: the source tree, small
 * files, shell steps, unit file values.  Include after helpers.h.
 */
#ifndef LYMPH_TEST_PKG_HELPERS_H
#define LYMPH_TEST_PKG_HELPERS_H

#include <sys/stat.h>

/* The source tree: the first ancestor of the build directory with VERSION
 * and systemd/lymphd.service. */
int find_top(char *top, size_t cap, char *build, size_t bcap);

/* Mode of a path (permission bits), -1 when missing. */
int mode_of(const char *path);

/* The value of KEY= in a unit file (first occurrence), or "". */
void unit_value(const char *unit, const char *key, char *out, size_t cap);

/*
 * sh -c SCRIPT, with TOP, BUILD and T (a scratch directory) in its
 * environment and no make state from a calling make; its wait status, or
 * -1 when it could not be run.  Output in *r.
 */
int pkg_sh(struct th_cmd *r, const char *top, const char *build, const char *t, const char *script,
	   int timeout_ms);

#endif
