/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The phagocytes at work, driven by lymphd's timer: zombies (a parent that
 * hoards unreaped children is reported and sent SIGCHLD once; a supervised
 * service may be restarted; nothing else is ever killed) and disk
 * foresight (a filesystem whose time to full falls below the horizon:
 * the weather worsens, the directories that grew are journaled, the tidy
 * rules run, and whether space came back is checked).  Stale leftovers of
 * dead services are cleared by the supervisor itself (leftovers.h).
 */
#ifndef LYMPH_PHAGO_H
#define LYMPH_PHAGO_H

#include <stdint.h>
#include <stdio.h>
#include "config.h"
#include "corehandler.h"
#include "cores.h"
#include "foresight.h"
#include "journal.h"
#include "leaks.h"
#include "phagocyte.h"
#include "service.h"
#include "shm.h"

struct dir_size;
struct growth_job;
struct tidy_job;

struct phago_disk { /* respond-side state of a filesystem in danger */
	dev_t dev;
	uint64_t last_tidy;    /* CLOCK_MONOTONIC ns, 0: never */
	uint64_t growth_at;    /* when to take the second growth snapshot */
	struct dir_size *snap; /* the first snapshot */
	size_t n_snap;
	int snap_partial;
	struct growth_job *job; /* a snapshot being taken by its thread */
	int job_second;		/* it is the second look (then the report) */
	struct tidy_job *tidy;	/* the tidy rules being run by their thread */
};

struct phago {
	const struct policy *policy;
	struct journal *journal;
	struct supervisor *sup;
	int enforce;
	/* zombies */
	struct zombie_parent *zp;
	size_t n_zp;
	uint32_t gen;
	uint64_t zombie_next;
	uint32_t zombies_now;  /* zombies at the last scan, all parents */
	uint32_t parents_over; /* parents past zombie_max at the last scan */
	uint64_t zombie_reports, sigchld_sent, zombie_restarts;
	/* A zombie is a process that died and was not reaped.  When the
	 * source reports every death (deaths_complete), a scan reads only
	 * the pids that died since the last one and the zombies it found,
	 * not every process in /proc; a full scan when they did not fit,
	 * when records were lost, and at the first scan. */
	int deaths_complete;
	pid_t *cand;
	uint32_t n_cand;
	int cand_full;
	uint64_t scans_full, scans_targeted;
	/* disks */
	struct foresight fs;
	struct phago_disk *disk;
	size_t n_disk;
	uint64_t tidy_runs, tidy_removed, tidy_bytes;
	/* crash artifacts */
	struct cores cores;
	struct corehandler ch; /* lymph as the core_pattern handler */
	char state_dir[4096];  /* beside the journal */
	/* leaks of supervised services */
	struct leaks leaks;
	/* SysV shared memory left by the dead */
	struct shm_state shm;
};

int phago_init(struct phago *ph, const struct policy *p, struct journal *j, struct supervisor *sup,
	       int enforce);
void phago_reload(struct phago *ph, const struct policy *p, int enforce);
void phago_free(struct phago *ph);

/* A death lymph classified (danger: it died badly). */
void phago_on_death(struct phago *ph, pid_t pid, int danger);
/* The source reports every death as a record (1), or may miss some (0,
 * the default: every zombie scan reads all of /proc). */
void phago_set_deaths_complete(struct phago *ph, int complete);
/* Records were lost: deaths among them; the next scan reads all of /proc. */
void phago_deaths_lost(struct phago *ph);

/* From lymphd's periodic timer. */
void phago_tick(struct phago *ph, uint64_t now);

/* Responses in progress, for the weather: filesystems in danger. */
uint32_t phago_activity(const struct phago *ph);

/* lymphctl status "phagocyte". */
struct json_object *phago_json(const struct phago *ph, uint64_t now);

/* lymphctl services: "leaks" */
struct json_object *phago_leaks_json(const struct phago *ph);

/* lymphctl crashes */
struct json_object *phago_crashes_json(const struct phago *ph);

/* Prometheus lines (lymph_zombies, lymph_zombie_parents, ...). */
void phago_metrics(const struct phago *ph, FILE *out);

#endif
