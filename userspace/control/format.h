/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One event as one line: readable text, or a JSON object (see
 * doc/output-format.md).  Pure: callers pass the resolved exe path and the
 * death's verdict.
 */
#ifndef LYMPH_FORMAT_H
#define LYMPH_FORMAT_H

#include <stddef.h>
#include <json-c/json.h>
#include "classify.h"
#include "lymph/events.h"
#include "lymph/names.h"

/* vd is used for deaths only (may be NULL otherwise); exe may be NULL. */
struct json_object *format_json(const struct lymph_hdr *rec, const char *exe,
				const struct verdict *vd);

/* A buffer the JSON writer appends to and its caller reuses (len = 0
 * between batches); grown as a record needs, never shrunk. */
struct fmt_buf {
	char *p;
	size_t len, cap;
};

/*
 * Appends the record as one JSON line (object and '\n') to b: the bytes
 * json_object_to_json_string_ext(format_json(rec, exe, vd),
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) gives, and a
 * newline, without building an object (lymphd's --json hot path).
 * Returns 0 or -ENOMEM (b unchanged).
 */
int format_json_append(struct fmt_buf *b, const struct lymph_hdr *rec, const char *exe,
		       const struct verdict *vd);
void fmt_buf_free(struct fmt_buf *b);

/*
 * Appends lymphd's --json line for a record it journaled (rec): the
 * object {"event":"decision", then rec's fields} and '\n', the bytes
 * json-c gives for it.  With ser (len bytes: the record as the journal
 * wrote it, json-c's serialisation of rec, journal.h's line) it is spliced
 * from those bytes, without building or serialising an object; with
 * ser NULL, or when rec has an "event" field of its own, by json-c.
 * Returns 0 or -ENOMEM (b unchanged).
 */
int format_decision_append(struct fmt_buf *b, struct json_object *rec, const char *ser,
			   size_t len);

/* Writes a NUL-terminated line without newline; returns its length
 * (truncated to len - 1). */
size_t format_text(char *buf, size_t len, const struct lymph_hdr *rec, const char *exe,
		   const struct verdict *vd);

/* A record lymphd journaled (a decision, an action, a weather change) as
 * one readable line: type, action, subject, then key=value; same contract
 * as format_text. */
size_t format_journal_text(char *buf, size_t len, struct json_object *rec);

#endif
