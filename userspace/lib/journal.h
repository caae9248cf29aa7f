/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The journal: every decision and action lymphd takes, with the evidence
 * that caused it, as JSON lines appended to /var/lib/lymph/journal and
 * fsynced before the action is taken.  lymphd rebuilds its state from it at
 * start, so a crash or SIGKILL of lymphd loses nothing.
 *
 * A decision that takes no action which outlives lymphd (a would-quarantine,
 * a quarantine enforced by fanotify or the BPF LSM, which go with lymphd and
 * with the host) may be appended deferred: written at once (so a crash or
 * SIGKILL of lymphd loses nothing, and its line may be printed), on disk at
 * the next journal_sync() or the next synchronous append, whichever comes
 * first.  lymphd hands them to journal_sync_async() as soon as the lines
 * of a wakeup are out: a thread of the journal's own fdatasyncs them while
 * lymphd goes on (a flush of this disk costs ~0.5 ms, more under load:
 * most of a quarantine's decision, and the next crash would wait for it).
 *
 * Trusted only as far as it is checked: the file must be a regular file
 * owned by root and writable by nobody else; at start it is read once,
 * every line is parsed and validated (a damaged line is counted, its line
 * number kept, and skipped: never a crash), and a torn last line (a crash
 * mid-write) is cut off before anything is appended.
 *
 * Bounded: before a record would take the file past journal_max bytes, a
 * fresh journal is seeded with the whole current state (written and
 * fsynced under a temporary name, then renamed over the file, the old one
 * kept as journal.1), and the record goes after that snapshot; replaying
 * the current file alone always rebuilds the whole state.
 */
#ifndef LYMPH_JOURNAL_H
#define LYMPH_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "clock.h" /* journal times are wall times: clock_wall_ns() */
#include "jsonw.h"

/* Longest line replay accepts (records are a few hundred bytes). */
#define JOURNAL_LINE_MAX (64u << 10)
/* Bad line numbers kept for the start record and status. */
#define JOURNAL_BAD_KEPT 8

struct journal_stats {
	uint64_t lines;			     /* complete lines read */
	uint64_t records;		     /* lines that were valid records */
	uint64_t bad;			     /* lines skipped as damaged */
	uint64_t bad_line[JOURNAL_BAD_KEPT]; /* the first ones, 1-based */
	uint64_t torn_bytes;		     /* an unterminated last line, cut off */
};

struct journal {
	int fd;
	char *path;
	uint64_t size;
	uint64_t max;
	/* Writes the current state into the fresh file during rotation. */
	int (*snapshot)(struct journal *j, void *ctx);
	void *snapshot_ctx;
	int rotating;
	uint64_t base; /* size of the snapshot that began this file */
	uint64_t rotations;
	/* Records written, and of those known on disk; fdatasync()s done.
	 * synced and syncs are also written by the sync thread: read them
	 * with journal_unsynced() and journal_syncs(). */
	uint64_t written, synced, syncs;
	struct journal_syncer *syncer; /* journal_sync_async's thread, or NULL */
	struct journal_stats replayed; /* what journal_load found */
	char why[512];		       /* why journal_open refused the file */
	/* Sees every record appended (not a rotation's snapshot), after it is
	 * written: lymphd prints and logs its decisions from here. */
	void (*tap)(struct json_object *rec, void *ctx);
	void *tap_ctx;
	/* While the tap runs: the record's bytes as written (without the
	 * newline), json-c's serialisation of rec, byte for byte.  NULL
	 * otherwise.  A tap that serialises rec itself must use them first
	 * (json-c may write rec's serialisation into the same buffer). */
	const char *line;
	size_t line_len;
};

/*
 * A record's consumer: 0 when the record is fine (used or not its kind),
 * -EINVAL when it is damaged (counted as a bad line).
 */
typedef int (*journal_cb)(struct json_object *rec, void *ctx);

/*
 * Opens (creating it and its directory, root-only) for appending.  A file
 * that is not a regular file, not owned by root, or writable by group or
 * others is refused: -EPERM, with the reason in j->why.
 */
int journal_open(struct journal *j, const char *path, uint64_t max);
void journal_close(struct journal *j);

/*
 * Reads the open journal once, from the start, calling cb for every valid
 * record, oldest first; fills j->replayed; cuts a torn last line off the
 * file.  Must run before the first journal_append.  0 or -errno.
 */
int journal_load(struct journal *j, journal_cb cb, void *ctx);

/*
 * Parses buf (len bytes of journal text), calling cb for every valid
 * record; pure (no I/O).  An unterminated tail is not parsed: its length
 * is st->torn_bytes.  Returns the offset just past the last newline.
 */
size_t journal_parse(const char *buf, size_t len, journal_cb cb, void *ctx,
		     struct journal_stats *st);

/*
 * Stamps rec with "time" (ISO 8601 UTC) and "ts" (seconds since the epoch),
 * appends it as one line and fsyncs.  Takes ownership of rec.  0 or -errno.
 */
int journal_append(struct journal *j, struct json_object *rec);

/*
 * journal_append without the fdatasync: the record is written (one line,
 * seen by replay and by the tap) and counted in journal_unsynced() until the next
 * journal_sync() or synchronous journal_append.  Only for records that no
 * action outliving lymphd follows (see above).  0 or -errno.
 */
int journal_append_deferred(struct journal *j, struct json_object *rec);

/*
 * journal_append (deferred: journal_append_deferred) of a record built by
 * lib/jsonw.h, bytes and object at once: "time" and "ts" are added to
 * both, the bytes are written as they are (json-c does not serialise the
 * object again), the object goes to the tap.  Frees w.  0 or -errno.
 */
int journal_append_jsonw(struct journal *j, struct jsonw *w, int deferred);

/* fdatasync the records appended deferred, if any: 0 or -errno (they stay
 * counted, and the next append or sync tries again). */
int journal_sync(struct journal *j);

/*
 * The same without waiting: a thread of the journal's own (started at the
 * first call, so with the caller's privileges and seccomp filter of that
 * time) fdatasyncs what is written now, on a duplicate of the descriptor,
 * and requests that come while it is busy are done together.  Without the
 * thread (it cannot be started) it syncs here.  0 or -errno.
 */
int journal_sync_async(struct journal *j);

/* Start journal_sync_async's thread now (when it is not running), ahead
 * of the first deferred record: its creation (a stack mapped, a clone,
 * ~0.3 ms on a virtual machine) is then not on the path of the decision
 * that needs it.  The same privileges and filter rule as above.  0 or
 * -errno (the next journal_sync_async tries again). */
int journal_sync_thread_start(struct journal *j);

/* End journal_sync_async's thread once it has done what it was asked (it
 * starts again at the next call): for work that wants lymphd
 * single-threaded, the zero pages given back after a request
 * (lib/memtrim.h refuses beside another thread). */
void journal_sync_thread_end(struct journal *j);

/* Records written but not known on disk yet; fdatasync()s done. */
uint64_t journal_unsynced(const struct journal *j);
uint64_t journal_syncs(const struct journal *j);

/* Read-only view of the file at path (lymphctl journal): like journal_load
 * without cutting anything.  0, or -errno (-ENOENT: no journal yet). */
int journal_read_file(const char *path, journal_cb cb, void *ctx, struct journal_stats *st);

/* The bad lines as JSON ({"count":N,"lines":[...]}) for records and status. */
struct json_object *journal_stats_json(const struct journal_stats *st);

#endif
