/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The journal: every decision and action lymphd takes, with the evidence
 * that caused it, as JSON lines appended to /var/lib/lymph/journal and
 * fsynced before the action is taken.  lymphd rebuilds its state from it at
 * start, so a crash or SIGKILL of lymphd loses nothing.
 *
 * Bounded: past journal_max bytes the file is rotated to journal.1 after a
 * fresh journal is seeded with the current state (written and fsynced
 * under a temporary name, then renamed), so replaying the current file
 * alone always rebuilds the whole state.
 */
#ifndef LYMPH_JOURNAL_H
#define LYMPH_JOURNAL_H

#include <stdint.h>
#include <json-c/json.h>

struct journal {
	int fd;
	char *path;
	uint64_t size;
	uint64_t max;
	/* Writes the current state into the fresh file during rotation. */
	int (*snapshot)(struct journal *j, void *ctx);
	void *snapshot_ctx;
	int rotating;
	/* Sees every record appended (not a rotation's snapshot), after it is
	 * written: lymphd prints and logs its decisions from here. */
	void (*tap)(struct json_object *rec, void *ctx);
	void *tap_ctx;
};

/* Opens (creating it and its directory, root-only) for appending. */
int journal_open(struct journal *j, const char *path, uint64_t max);
void journal_close(struct journal *j);

/*
 * Stamps rec with "time" (ISO 8601 UTC) and "ts" (seconds since the epoch),
 * appends it as one line and fsyncs.  Takes ownership of rec.  0 or -errno.
 */
int journal_append(struct journal *j, struct json_object *rec);

/* Calls cb for every record of the file at path, oldest first; a torn last
 * line (a crash mid-write) is skipped.  0, or -errno if it cannot be read
 * (-ENOENT when there is no journal yet). */
int journal_replay(const char *path, int (*cb)(struct json_object *rec, void *ctx), void *ctx);

/* Wall-clock now in ns (CLOCK_REALTIME): journal times survive reboots. */
uint64_t wall_now_ns(void);

#endif
