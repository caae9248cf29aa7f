/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A SysV shared memory segment saved before the phagocytes removed it
 * (respond/shm.h): a header (its key, mode, owner, size) and its content,
 * and the way back: shm_restore() creates it again (lymphctl shm-restore).
 */
#ifndef LYMPH_SHMSAVE_H
#define LYMPH_SHMSAVE_H

#include <stdint.h>

#define SHM_MAGIC "LYMPHSHM"

/* The saved file: this header, then size bytes of content. */
struct shm_saved {
	char magic[8];
	int32_t key;
	uint32_t mode;
	uint64_t size;
	uint32_t uid, gid, cuid, cgid;
	uint64_t ctime;
};

/* Create a saved segment again (its key, mode, owner and content): 0 with
 * its new id, or -errno (-EEXIST: a segment with its key exists). */
int shm_restore(const char *path, int *id);

#endif
