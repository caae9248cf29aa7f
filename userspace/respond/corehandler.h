/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymph as the kernel's core dump handler ("|" in kernel.core_pattern),
 * like systemd-coredump, with the per-binary budget applied before a byte
 * is written:
 *
 *  - install: the previous kernel.core_pattern is saved (atomically, in
 *    lymphd's state directory, and journaled) before lymph's own is
 *    written; uninstall (lymphd's exit, a reload without core_handler, or
 *    the next start after a lymphd that died) writes the saved one back,
 *    unless someone else changed the pattern since, which is then left.
 *
 *  - the handler ("lymphd --core-handler STORE %P %s %t", run by the
 *    kernel as root with the core on stdin) reads the core's notes, names
 *    its signature (coresig.h) and its binary (dev/inode of
 *    /proc/PID/exe), plans the store with cores_plan() counting the new
 *    core in (the repeats it makes are removed first), and streams the
 *    core gzip-compressed (zlib) into the store, never past what is left
 *    of the budgets: a crash loop cannot fill the disk.  An alarm bounds
 *    how long the crashing task can be held.  Every crash it sees is a
 *    line of STORE/crashes.log, which lymphd reads, counts per signature
 *    and journals.
 *
 * Stored cores are STORE/core-lymph.DEV-INO.SIG.SEC.PID.COMM.gz; the gzip
 * header's comment holds the metadata as JSON (exe, label, signal).
 */
#ifndef LYMPH_COREHANDLER_H
#define LYMPH_COREHANDLER_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "journal.h"

#define COREH_PREFIX	    "core-lymph."
#define COREH_LOG	    "crashes.log"
#define COREH_SETTINGS	    ".settings"
#define COREH_SAVED	    "core_pattern.saved"
#define COREH_STORE_DEFAULT "/var/lib/lymph/cores"
#define COREH_LOG_MAX	    (4U << 20) /* crashes.log: lines past this are dropped */

/* The handler's entry (argv[0] is "--core-handler"): exit status. */
int corehandler_main(int argc, char **argv);

/* The pattern lymph installs, into buf: 0, or -ENAMETOOLONG when it does
 * not fit the kernel's 128 bytes. */
int corehandler_pattern(const char *self_exe, const char *store, char *buf, size_t len);

/* Parse a stored core's name: 0 with its binary key ("ino:DEV:INO"),
 * signature and pid, or -EINVAL. */
int corehandler_parse_name(const char *name, char *key, size_t klen, uint64_t *sig, int *pid);

/* The metadata in a stored core's gzip comment: exe and label (either may
 * stay ""); 0 or -errno. */
int corehandler_read_meta(int fd, char *exe, size_t elen, char *label, size_t llen);

struct corehandler {
	int installed;	   /* our pattern is in kernel.core_pattern */
	char pattern[256]; /* the one we wrote */
	char saved[4096];  /* state_dir/core_pattern.saved */
	char store[4096];
	uint64_t log_off;	   /* unused: the log is truncated once read */
	uint64_t handled, dropped; /* lines of crashes.log read */
};

/* Install, keep or restore kernel.core_pattern as the policy says
 * (start, reload): journaled; observe mode journals what it would do.
 * state_dir holds the saved pattern.  0 or -errno. */
int corehandler_apply(struct corehandler *h, const struct phagocyte_conf *pc, const char *state_dir,
		      struct journal *j, int enforce);

/* Restore the saved pattern (lymphd's exit). */
void corehandler_uninstall(struct corehandler *h, struct journal *j, const char *why);

/* Path of the pattern file; tests point it elsewhere (never in lymphd). */
extern const char *corehandler_pattern_path;

#endif
