/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SysV shared memory left behind by processes that died badly: a segment
 * no process has attached, whose creator and last attacher are gone (and,
 * unless shm_any_dead, one of them died badly as lymph saw it), idle for
 * shm_min_age, is saved (its content and identity, in lymphd's state
 * directory under shm/) and removed: journaled as shm-removed with the
 * evidence and the saved file; observe mode journals shm-would-remove.
 * shm_restore() (lib/shmsave.h, lymphctl shm-restore FILE) creates it again with its
 * key, mode, owner and content.
 *
 * The removal runs in a short-lived child with the segment owner's uid
 * (lymphd keeps CAP_SETUID, not CAP_SYS_ADMIN nor CAP_IPC_OWNER).
 */
#ifndef LYMPH_SHM_H
#define LYMPH_SHM_H

#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "journal.h"

struct shm_seg {
	int32_t key;
	int id;
	unsigned int mode;
	uint64_t size;
	pid_t cpid, lpid;
	uint32_t nattch;
	uid_t uid, cuid;
	gid_t gid, cgid;
	uint64_t atime, dtime, ctime; /* wall seconds */
};

/* Parse /proc/sysvipc/shm text: the segments in *v (malloc'd). 0 or -errno. */
int shm_parse(const char *text, struct shm_seg **v, size_t *n);

#define SHM_DEATHS 4096

struct shm_death {
	pid_t pid;
	uint64_t wall; /* s */
	int danger;
};

struct shm_state {
	struct shm_death death[SHM_DEATHS]; /* the last deaths lymph saw */
	size_t head, n;
	uint64_t next;
	struct {
		int id;
		uint64_t ctime;
	} * noted; /* journaled already (observe, errors) */
	size_t n_noted;
	uint64_t removed, removed_bytes;
};

void shm_init(struct shm_state *s);
void shm_free(struct shm_state *s);

/* A death lymph classified (danger: died badly), at wall time s. */
void shm_on_death(struct shm_state *s, pid_t pid, int danger, uint64_t wall_s);

/* Scan and act when shm_interval has passed (state_dir: where contents are saved). */
void shm_tick(struct shm_state *s, const struct policy *p, const char *state_dir, struct journal *j,
	      int enforce, uint64_t now);

#endif
