// SPDX-License-Identifier: GPL-2.0-only
/* What every source shares: reporting lost records. */
#include <string.h>
#include "source.h"

int source_emit_drop(struct source *src, uint64_t lost, uint64_t now_ns)
{
	struct lymph_drop d;

	memset(&d, 0, sizeof(d));
	d.hdr.kind = LYMPH_EV_DROP;
	d.hdr.size = sizeof(d);
	d.hdr.source = src->id;
	d.hdr.ts_ns = now_ns;
	d.lost = lost;
	src->lost_total += lost;
	return src->sink(src->sink_ctx, &d.hdr);
}
