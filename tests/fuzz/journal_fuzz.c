// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the journal replay's parsing and record checks
 * (journal_parse + jrec_*), as lymphd runs them on its journal at start.
 * Built with clang -fsanitize=fuzzer,address,undefined; run briefly by
 * tests/fuzz_test over tests/fuzz/corpus/journal.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "journal.h"
#include "jrec.h"

static volatile uint64_t sink;

/* Read every checked field, as the replays do. */
static int replay_like(struct json_object *rec, void *ctx)
{
	struct jrec_quarantine q;
	struct jrec_throttle t;
	struct jrec_service s;
	int r;

	(void)ctx;
	r = jrec_quarantine(rec, &q);
	if (r < 0)
		return r;
	if (r > 0)
		sink += q.dev + q.ino + q.uid + q.until_wall_ns + q.old_mode + strlen(q.action) +
			(q.exe ? strlen(q.exe) : 0) + (q.result ? strlen(q.result) : 0);
	r = jrec_throttle(rec, &t);
	if (r < 0)
		return r;
	if (r > 0)
		sink += t.kind + t.id + t.holds + strlen(t.action) +
			(t.hold_dir ? strlen(t.hold_dir) + strlen(t.parent_dir) : 0);
	r = jrec_service(rec, &s);
	if (r < 0)
		return r;
	if (r > 0) {
		uint32_t i;

		sink += strlen(s.name) + (uint64_t)s.phase + s.failures + (uint64_t)s.pid +
			(s.why_reason ? strlen(s.why_reason) : 0) + s.why_signo;
		for (i = 0; i < s.n_recent; i++)
			sink += s.recent_wall_ns[i];
	}
	return jrec_check(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_stats st;
	size_t end = journal_parse((const char *)data, size, replay_like, NULL, &st);

	if (end > size || st.records + st.bad != st.lines || end + st.torn_bytes != size)
		__builtin_trap();
	return 0;
}
