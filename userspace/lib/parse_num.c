// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include "parse_num.h"

static int parse_scaled(const char *s, uint64_t min, uint64_t max, uint64_t *out, int allow_suffix)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL; /* strtoull would accept "-1" and " 1" */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (allow_suffix && *end) {
		switch (*end) {
		case 'k':
		case 'K': mult = 1ULL << 10; break;
		case 'm':
		case 'M': mult = 1ULL << 20; break;
		case 'g':
		case 'G': mult = 1ULL << 30; break;
		default: return -EINVAL;
		}
		end++;
	}
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	v *= mult;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return parse_scaled(s, min, max, out, 0);
}

int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return parse_scaled(s, min, max, out, 1);
}
