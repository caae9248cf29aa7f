/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tidy rules, the edge (CFEngine's tidy promises): walk a rule's directory
 * without ever following a symbolic link (openat with O_NOFOLLOW, lstat
 * semantics) nor leaving its filesystem, let tidy_select() name the files,
 * and remove them (enforce) or only list them (observe).
 */
#ifndef LYMPH_TIDY_H
#define LYMPH_TIDY_H

#include <stdint.h>
#include "phagocyte.h"

struct json_object;

struct tidy_result {
	uint32_t matched;	   /* regular files matching the pattern */
	uint32_t named;		   /* of which the rule names */
	uint32_t removed;	   /* actually removed (0 in observe mode) */
	uint64_t bytes;		   /* allocated bytes of the named files */
	int error;		   /* 0 or -errno of the walk */
	struct json_object *files; /* the named files, at most 64 (may be NULL) */
};

/* Run one rule at wall time now_wall (ns).  enforce 0: remove nothing. */
int tidy_run(const struct tidy_rule *r, int enforce, uint64_t now_wall, struct tidy_result *res);

#endif
