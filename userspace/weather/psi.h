/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pressure stall information: how much of the time tasks waited for a CPU,
 * for memory (reclaim, refaults, swap-in) or for I/O.  The averages come
 * from /proc/pressure/{cpu,memory,io} and from the {cpu,memory,io}.pressure
 * files of every cgroup v2 directory; triggers ("some 150000 2000000": wake
 * me when tasks stalled 150 ms within 2 s) are armed on the same files and
 * polled for POLLPRI.  The parsers take text or a path, so they are tested
 * without root.
 */
#ifndef LYMPH_PSI_H
#define LYMPH_PSI_H

#include <stddef.h>
#include <stdint.h>

enum psi_res {
	PSI_CPU,
	PSI_MEMORY,
	PSI_IO,
	PSI_NRES
};

struct psi_line {
	double avg10, avg60, avg300; /* percent of wall time */
	uint64_t total_us;	     /* cumulative stall time */
	int valid;
};

struct psi_reading {
	struct psi_line some; /* at least one task stalled */
	struct psi_line full; /* every non-idle task stalled (not for cpu at the root) */
};

const char *psi_res_name(enum psi_res r); /* "cpu", "memory", "io" */

/* Parse the text of a pressure file: 0, or -EINVAL when no "some" line. */
int psi_parse(const char *text, struct psi_reading *r);

/* Read and parse one pressure file: 0 or -errno. */
int psi_read(const char *path, struct psi_reading *r);

/* The file of resource r under dir: dir/cpu (the /proc/pressure layout) or,
 * when that does not exist, dir/cpu.pressure (a cgroup directory). */
void psi_path(const char *dir, enum psi_res r, char *buf, size_t len);

/* Read the three files under dir ("/proc/pressure" or a cgroup directory);
 * a missing file leaves its reading invalid.  Returns how many were read. */
int psi_read_system(const char *dir, struct psi_reading out[PSI_NRES]);

/*
 * The same, for a reader that ticks: fds[] (start at -EBADF) keep the three
 * files open and each is read again from offset 0 (the kernel makes the
 * text anew), one system call a file instead of four; a file that cannot
 * be opened is tried again at the next call.  psi_close_fds() closes them.
 */
int psi_read_system_fds(const char *dir, int fds[PSI_NRES], struct psi_reading out[PSI_NRES]);
void psi_close_fds(int fds[PSI_NRES]);

/*
 * Arm a trigger on a pressure file: kind "some" or "full", stall and window
 * in microseconds.  Without CAP_SYS_RESOURCE the kernel wants the window to
 * be a multiple of 2 s.  Returns the fd to poll for POLLPRI (EPOLLPRI), or
 * -errno (-EINVAL for a window it refuses, -ENOENT without PSI).
 */
int psi_trigger_open(const char *path, const char *kind, uint64_t stall_us, uint64_t window_us);

/* The cgroup v2 mount: "/sys/fs/cgroup" on a unified host, the "unified"
 * directory under it on a hybrid one; NULL when there is none. */
const char *psi_cgroup_root(void);

/* A cgroup under pressure. */
struct psi_cgroup {
	char path[200]; /* relative to the cgroup root, "/" for the root */
	double some_avg10[PSI_NRES];
	double full_avg10[PSI_NRES];
	double score; /* the highest some avg10 of the three */
};

/*
 * Walk the cgroup tree under root (depth first, at most max_depth levels
 * and max_dirs directories) and keep the n cgroups with the highest score
 * in out[], highest first; cgroups whose score is below min_score are left
 * out.  The root itself is skipped (it is the system figure).  Returns how
 * many were written, or -errno when root cannot be opened.
 */
int psi_cgroup_top(const char *root, struct psi_cgroup *out, size_t n, int max_depth,
		   size_t max_dirs, double min_score);

#endif
