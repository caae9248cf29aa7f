/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Foresight for disks: every mounted local filesystem's available bytes
 * and inodes are sampled (statvfs) and their trend learned (leak_check in
 * policy/phagocyte.c: a sustained rise of what is used whose floor rises
 * too, robust to the sawtooth of log rotation and to bursts written and
 * deleted again), giving a time to full.  A filesystem whose time to full
 * has been below the horizon at every sample for the dead time
 * (disk_danger_step) is "in danger": the weather worsens and respond/phago.c acts (growth report,
 * tidy rules, check that space came back).
 *
 * Pseudo filesystems (proc, sysfs, cgroup, ...), network and FUSE ones
 * (statvfs may hang on them), read-only mounts and mounts below /proc and
 * /sys are not watched; bind mounts of one filesystem count once.
 */
#ifndef LYMPH_FORESIGHT_H
#define LYMPH_FORESIGHT_H

#include <stdint.h>
#include <sys/types.h>
#include "phagocyte.h"

struct json_object;

struct fs_watch {
	char path[256]; /* mount point */
	char fstype[64];
	dev_t dev;
	uint32_t gen;		     /* last mountinfo read that listed it */
	struct dtrend bytes, inodes; /* available bytes and inodes */
	double avail_bytes, avail_inodes, total_bytes, total_inodes;
	int have_trend;
	double rate_bytes, rate_inodes; /* per second (negative: filling) */
	double ttf_s;	       /* time to full, the sooner of bytes and inodes; -1: never */
	const char *resource;  /* "bytes" or "inodes": which fills first */
	struct disk_danger dd; /* ttf below the horizon for the dead time (CLOCK_MONOTONIC ns) */
	int entered;	       /* became dangerous at the last sample (cleared by the reader) */
	int cleared;	       /* stopped being dangerous at the last sample */
};

struct foresight {
	struct fs_watch **v;
	size_t n;
	uint32_t gen;
	uint64_t next;	      /* next sample, CLOCK_MONOTONIC ns */
	uint64_t next_mounts; /* next mountinfo read */
};

void foresight_init(struct foresight *f);
void foresight_free(struct foresight *f);

/* Is this filesystem type watched? (pure) */
int foresight_fstype_watched(const char *fstype);

/* Sample on a grid of disk_interval (up to an eighth of it early, as the
 * drain tick that calls this jitters): 1 when it sampled. */
int foresight_tick(struct foresight *f, const struct phagocyte_conf *c, uint64_t now);

/* Filesystems in danger now. */
uint32_t foresight_danger(const struct foresight *f);

/* The watch of the filesystem holding path (by st_dev), or NULL. */
struct fs_watch *foresight_find(struct foresight *f, dev_t dev);

struct json_object *foresight_json(const struct foresight *f, uint64_t now);

#endif
