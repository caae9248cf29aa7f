// SPDX-License-Identifier: GPL-2.0-only
/* SHA-256 through Nettle, loaded while a digest is being made (see sha256.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include "sha256.h"

#define NETTLE_LIB "libnettle.so.8"

/* Nettle, while users > 0 (digests in progress, any thread). */
static struct {
	pthread_mutex_t lock;
	void *h;
	unsigned int users;
	__typeof__(nettle_sha256_init) *init;
	__typeof__(nettle_sha256_update) *update;
	__typeof__(nettle_sha256_digest) *digest;
} nettle = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int nettle_get(void)
{
	int err = 0;

	pthread_mutex_lock(&nettle.lock);
	if (!nettle.users) {
		nettle.h = dlopen(NETTLE_LIB, RTLD_NOW | RTLD_LOCAL);
		*(void **)&nettle.init = nettle.h ? dlsym(nettle.h, "nettle_sha256_init") : NULL;
		*(void **)&nettle.update = nettle.h ? dlsym(nettle.h, "nettle_sha256_update")
						    : NULL;
		*(void **)&nettle.digest = nettle.h ? dlsym(nettle.h, "nettle_sha256_digest")
						    : NULL;
		if (!nettle.init || !nettle.update || !nettle.digest) {
			if (nettle.h)
				dlclose(nettle.h);
			nettle.h = NULL;
			err = -ELIBACC;
		}
	}
	if (!err)
		nettle.users++;
	pthread_mutex_unlock(&nettle.lock);
	return err;
}

static void nettle_put(void)
{
	pthread_mutex_lock(&nettle.lock);
	if (nettle.users && !--nettle.users) {
		dlclose(nettle.h);
		nettle.h = NULL;
	}
	pthread_mutex_unlock(&nettle.lock);
}

int lymph_sha256_init(struct lymph_sha256 *c)
{
	c->loaded = !nettle_get();
	if (!c->loaded)
		return -ELIBACC;
	nettle.init(&c->ctx);
	return 0;
}

void lymph_sha256_update(struct lymph_sha256 *c, const void *data, size_t len)
{
	if (c->loaded)
		nettle.update(&c->ctx, len, data);
}

int lymph_sha256_final(struct lymph_sha256 *c, uint8_t out[LYMPH_SHA256_LEN])
{
	if (!c->loaded)
		return -ELIBACC;
	nettle.digest(&c->ctx, LYMPH_SHA256_LEN, out);
	lymph_sha256_abort(c);
	return 0;
}

void lymph_sha256_abort(struct lymph_sha256 *c)
{
	if (c->loaded)
		nettle_put();
	c->loaded = 0;
}

int lymph_sha256_fd(int fd, uint8_t out[LYMPH_SHA256_LEN])
{
	uint8_t buf[16384];
	struct lymph_sha256 c;
	ssize_t n;
	int err = lymph_sha256_init(&c);

	if (err)
		return err;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			lymph_sha256_abort(&c);
			return err;
		}
		lymph_sha256_update(&c, buf, (size_t)n);
	}
	return lymph_sha256_final(&c, out);
}

void lymph_hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}
