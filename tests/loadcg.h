/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pressure workloads in their own cgroups, for the PSI and weather tests:
 * a fresh cgroup v2 directory (whose *.pressure files show the workload's
 * stalls alone), optionally a memory limit (v2 memory.max, or the v1 memory
 * hierarchy on a hybrid host), and workers in it: spinners (CPU pressure)
 * or readers of a file much larger than the limit (memory pressure: every
 * pass refaults its pages through reclaim).  Workers die with the test
 * (PR_SET_PDEATHSIG) and after 60 s in any case; loadcg_destroy() kills
 * them, removes the cgroups and the file.
 *
 * Needs psi_cgroup_root() (userspace/psi.c) and helpers.h.
 */
#ifndef LYMPH_TEST_LOADCG_H
#define LYMPH_TEST_LOADCG_H

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define LOADCG_MAX 64

struct loadcg {
	char v2[256];	 /* cgroup v2 directory, "" when none */
	char v1mem[256]; /* v1 memory cgroup, "" when none */
	char file[256];	 /* the readers' file */
	pid_t pids[LOADCG_MAX];
	int n;
};

void loadcg_init(struct loadcg *c);

/* Kill and reap the workers; remove the cgroups and the file. */
void loadcg_stop(struct loadcg *c);

void loadcg_destroy(struct loadcg *c);

/* Create the v2 cgroup: 0, or -errno with a SKIP reason in *why. */
int loadcg_create(struct loadcg *c, const char *tag, const char **why);

/* Limit the workers' memory to bytes: 0, or -errno with a SKIP reason. */
int loadcg_limit_memory(struct loadcg *c, const char *tag, unsigned long bytes, const char **why);

/* Start one worker in the cgroups: 0 or -errno. */
int loadcg_spawn(struct loadcg *c, void (*work)(const char *), const char *arg);

/* Work: spin on a CPU. */
void loadcg_spin(const char *arg);

/* Work: read the file at path over and over. */
void loadcg_thrash(const char *path);

/* The readers' file: mib MiB on disk under /var/tmp (not tmpfs: its pages
 * must be reclaimable), out of our page cache so that the readers' faults
 * are charged to their own cgroup. */
int loadcg_make_file(struct loadcg *c, int mib);

#endif
