/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef LYMPH_PARSE_NUM_H
#define LYMPH_PARSE_NUM_H

#include <stdint.h>

/* Parse a whole decimal string into [min, max]: 0, -EINVAL (not a number,
 * trailing junk) or -ERANGE. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parse a size with an optional K/M/G suffix (powers of 1024). */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
