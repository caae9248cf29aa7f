/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Spot checks of the protected binaries: the SHA-256 of each file against
 * the one recorded at install or first run, one file per check, round
 * robin, in idle time.  The weather sets how often (few spies when sunny).
 * A binary that changed is a danger event, journaled once, and counted
 * until an administrator accepts the new contents.
 *
 * The digests are kept in sha256sum(1) format ("<hex>  <path>"), so
 * `sha256sum -c /var/lib/lymph/integrity` checks them by hand too.
 *
 * SHA-256 is Nettle's, through lib/sha256.c: libcrypto's EVP layer, which lymphd used
 * before, cost it ~2 MiB of resident memory for a few files an hour.
 */
#ifndef LYMPH_INTEGRITY_H
#define LYMPH_INTEGRITY_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define SHA256_LEN 32

struct integrity_entry {
	char *path;
	unsigned char want[SHA256_LEN]; /* recorded */
	unsigned char got[SHA256_LEN];	/* at the last check */
	int recorded;			/* want is valid */
	int changed;			/* the last check disagreed */
	int reported;			/* the change was handed out as an event */
	int err;			/* -errno of the last check, 0 when fine */
	uint64_t checks;
	uint64_t last_wall_s;
};

struct integrity {
	struct integrity_entry *v;
	size_t n;
	size_t next; /* round robin */
	char *db_path;
	uint64_t checks, mismatches;
};

/* SHA-256 of a file: 0 or -errno. */
int sha256_file(const char *path, unsigned char out[SHA256_LEN]);
void sha256_hex(const unsigned char d[SHA256_LEN], char hex[2 * SHA256_LEN + 1]);

/*
 * Set up for paths (absolute; duplicates and missing files are fine) with
 * the digests recorded in db_path; a path the file does not know yet is
 * hashed now and recorded (first run), and the file is rewritten crash-
 * safely.  0 or -errno.
 */
int integrity_init(struct integrity *g, const char *db_path, const char *const *paths, size_t n);
void integrity_free(struct integrity *g);

/*
 * Check the next binary.  Returns 1 when it has changed and the change was
 * not reported before (then *event gets a journal record to append), 0
 * otherwise, -errno when nothing could be checked.
 */
int integrity_check_one(struct integrity *g, uint64_t wall_s, struct json_object **event);

/* Binaries whose contents differ from the record now. */
size_t integrity_changed(const struct integrity *g);

/* An administrator accepts the current contents of path (after an
 * upgrade): record them.  0, -ENOENT when path is not watched, -errno. */
int integrity_accept(struct integrity *g, const char *path);

struct json_object *integrity_json(const struct integrity *g);

/* 1 when SHA-256 is available: always, since lib/sha256.c. */
int integrity_can_hash(void);

#endif
