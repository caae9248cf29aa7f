/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SHA-256 for the integrity records and the fleet's binary identities,
 * through Nettle (Debian's nettle-dev): lymphd hashes a few files now and
 * then, and libcrypto's EVP layer cost it ~2 MiB of resident memory to do
 * that, where Nettle's plain functions cost next to nothing.
 */
#ifndef LYMPH_SHA256_H
#define LYMPH_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <nettle/sha2.h>

#define LYMPH_SHA256_LEN SHA256_DIGEST_SIZE

struct lymph_sha256 {
	struct sha256_ctx ctx;
};

void lymph_sha256_init(struct lymph_sha256 *c);
void lymph_sha256_update(struct lymph_sha256 *c, const void *data, size_t len);
void lymph_sha256_final(struct lymph_sha256 *c, uint8_t out[LYMPH_SHA256_LEN]);

/* The digest of everything read from fd (to EOF): 0 or -errno. */
int lymph_sha256_fd(int fd, uint8_t out[LYMPH_SHA256_LEN]);

#endif
