// SPDX-License-Identifier: GPL-2.0-only
/* SHA-256 through Nettle (see sha256.h). */
#include <errno.h>
#include <unistd.h>
#include "sha256.h"

void lymph_sha256_init(struct lymph_sha256 *c)
{
	sha256_init(&c->ctx);
}

void lymph_sha256_update(struct lymph_sha256 *c, const void *data, size_t len)
{
	sha256_update(&c->ctx, len, data);
}

void lymph_sha256_final(struct lymph_sha256 *c, uint8_t out[LYMPH_SHA256_LEN])
{
	sha256_digest(&c->ctx, LYMPH_SHA256_LEN, out);
}

int lymph_sha256_fd(int fd, uint8_t out[LYMPH_SHA256_LEN])
{
	uint8_t buf[16384];
	struct lymph_sha256 c;
	ssize_t n;

	lymph_sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		lymph_sha256_update(&c, buf, (size_t)n);
	}
	lymph_sha256_final(&c, out);
	return 0;
}
