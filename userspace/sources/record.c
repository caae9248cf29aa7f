// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include "record.h"

static size_t kind_size(unsigned int kind)
{
	switch (kind) {
	case LYMPH_EV_DEATH: return sizeof(struct lymph_death);
	case LYMPH_EV_SIGNAL: return sizeof(struct lymph_signal);
	case LYMPH_EV_EXEC: return sizeof(struct lymph_exec);
	case LYMPH_EV_FORK: return sizeof(struct lymph_fork);
	case LYMPH_EV_OOM: return sizeof(struct lymph_oom);
	case LYMPH_EV_DROP: return sizeof(struct lymph_drop);
	case LYMPH_EV_PRESSURE: return sizeof(struct lymph_pressure);
	case LYMPH_EV_THROTTLE: return sizeof(struct lymph_throttle);
	}
	return 0;
}

int record_check(const struct lymph_hdr *rec, size_t avail)
{
	size_t want;

	if (avail < sizeof(*rec) || rec->size > avail)
		return -EINVAL;
	want = kind_size(rec->kind);
	/* Newer producers may append fields: accept larger, never smaller. */
	if (!want || rec->size < want)
		return -EINVAL;
	return 0;
}
