// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the fleet's message decoder (policy/fleet_msg.c):
 * whatever arrives on the fleet's subjects from another machine.  Every
 * input must be refused (-EBADMSG) or decode into something within the
 * limits, and re-encode into something that decodes the same.
 *
 *   make fuzz && build/fuzz/fleet_msg_fuzz -max_total_time=60
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fleet_msg.h"

static struct fleet_batch b, b2;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fleet_report r, r2;
	char *text;
	int rc;

	rc = fleet_report_decode(data, len, &r);
	if (rc && rc != -EBADMSG)
		abort();
	if (!rc) {
		if (!fleet_sha_valid(r.sha256) || !fleet_name_valid(r.host) ||
		    r.first_ms > r.last_ms)
			abort();
		if (fleet_report_encode(&r, &text) ||
		    fleet_report_decode(text, strlen(text), &r2) || memcmp(&r, &r2, sizeof(r)))
			abort();
		free(text);
	}
	rc = fleet_batch_decode(data, len, &b);
	if (rc && rc != -EBADMSG)
		abort();
	if (!rc) {
		if (b.n_deaths > FLEET_BATCH_MAX || b.n_decisions > FLEET_BATCH_MAX ||
		    !fleet_name_valid(b.host))
			abort();
		if (fleet_batch_encode(&b, &text) || fleet_batch_decode(text, strlen(text), &b2) ||
		    memcmp(&b, &b2, sizeof(b)))
			abort();
		free(text);
	}
	return 0;
}
