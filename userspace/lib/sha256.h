/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SHA-256 (FIPS 180-4), for the integrity records and the fleet's binary
 * identities: lymphd hashes a few files now and then, and libcrypto's
 * EVP layer cost it ~2 MiB of resident memory to do that.
 */
#ifndef LYMPH_SHA256_H
#define LYMPH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;		/* message length so far */
	uint8_t block[64];	/* a partial block */
	size_t fill;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, uint8_t out[SHA256_DIGEST_LEN]);

/* The digest of everything read from fd (to EOF): 0 or -errno. */
int sha256_fd(int fd, uint8_t out[SHA256_DIGEST_LEN]);

#endif
