/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymphd's items as system log entries.  Pure: the sink (logsink.c) only
 * sends what these build.
 *
 * systemd journal: the native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL):
 * one datagram of fields, "NAME=value\n", or "NAME\n" + little-endian 64-bit
 * length + value + "\n" when the value holds a newline.  Fields: MESSAGE
 * (the readable line), PRIORITY, SYSLOG_IDENTIFIER=lymphd,
 * SYSLOG_FACILITY=3 (daemon), LYMPH_EVENT (the item's kind: death, signal,
 * ..., or the journaled record's type: service, quarantine, throttle,
 * weather, ...), one LYMPH_<KEY> per scalar field of the item's JSON form
 * (LYMPH_CLASS, LYMPH_EXE, LYMPH_SIGNAL, LYMPH_ACTION, LYMPH_PID,
 * LYMPH_UID, ...), LYMPH_<KEY>_<SUB> for the scalars of a nested object
 * (LYMPH_WHY_SIGNAL, LYMPH_STATE_PHASE), arrays of scalars joined by ", ",
 * and LYMPH_RECORD, the whole JSON object.
 *
 * syslog (RFC 3164, what syslog(3) sends to /dev/log):
 * "<PRI>Mmm dd hh:mm:ss lymphd[PID]: MESSAGE", facility daemon.
 */
#ifndef LYMPH_LOGFMT_H
#define LYMPH_LOGFMT_H

#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include <json-c/json.h>
#include "outfilter.h"

/* syslog priority (LOG_CRIT .. LOG_DEBUG) of an item; rec is its JSON form. */
int log_priority(enum out_item it, struct json_object *rec);

/* "danger" -> LYMPH_DANGER style: upper case, [A-Z0-9_] only, <= 64 bytes.
 * Returns the length written (name is NUL-terminated), 0 if nothing fits. */
size_t log_field_name(char *out, size_t cap, const char *prefix, const char *key);

/*
 * The native-protocol payload of one entry.  *buf is malloc'ed (caller
 * frees), *len its length.  0 or -ENOMEM.
 */
int log_journal_entry(struct json_object *rec, const char *event, const char *message, int priority,
		      char **buf, size_t *len);

/* The syslog datagram of one message; returns its length (truncated to cap - 1). */
size_t log_syslog_line(char *buf, size_t cap, int priority, time_t when, pid_t pid,
		       const char *message);

/* Parse one native-protocol payload back (tests, and lymph's own checks):
 * calls cb for every field; 0 or -EINVAL when malformed. */
int log_journal_parse(const char *buf, size_t len,
		      int (*cb)(const char *name, size_t nlen, const char *val, size_t vlen,
				void *ctx),
		      void *ctx);

#endif
