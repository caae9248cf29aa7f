/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SHA-256 for the integrity records and the fleet's binary identities,
 * through Nettle (Debian's nettle-dev): lymphd hashes a few files now and
 * then, and libcrypto's EVP layer cost it ~2 MiB of resident memory to do
 * that, where Nettle's plain functions cost next to nothing.  Nettle
 * itself is loaded (dlopen) only while a digest is being made, a few
 * times an hour: mapped for good, its pages cost an idle lymphd ~0.27 MiB
 * of VmRSS.  lymph_sha256_init() then fails with -ELIBACC when
 * libnettle.so.8 cannot be loaded; every init is ended by final() or
 * abort().
 */
#ifndef LYMPH_SHA256_H
#define LYMPH_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <nettle/sha2.h>

#define LYMPH_SHA256_LEN SHA256_DIGEST_SIZE

struct lymph_sha256 {
	struct sha256_ctx ctx;
	int loaded; /* init succeeded: Nettle is held until final/abort */
};

/* 0, or -ELIBACC (Nettle could not be loaded: final fails too). */
int lymph_sha256_init(struct lymph_sha256 *c);
void lymph_sha256_update(struct lymph_sha256 *c, const void *data, size_t len);
/* The digest into out: 0, or -ELIBACC after a failed init. */
int lymph_sha256_final(struct lymph_sha256 *c, uint8_t out[LYMPH_SHA256_LEN]);
/* A digest given up (an error while reading). */
void lymph_sha256_abort(struct lymph_sha256 *c);

/* The digest of everything read from fd (to EOF): 0 or -errno. */
int lymph_sha256_fd(int fd, uint8_t out[LYMPH_SHA256_LEN]);

/* n bytes (a digest, a build id) as 2n lower-case hex digits and a NUL. */
void lymph_hex(char *out, const uint8_t *in, size_t n);

#endif
