/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Least privilege: once its sensors are loaded and its sockets bound,
 * lymphd keeps only the capabilities its responses use (see doc/lymphd.8):
 *
 *   CAP_KILL             stop, continue and kill processes of any uid
 *   CAP_SETUID/SETGID    start services as their configured user
 *   CAP_SETPCAP          empty the bounding set of what it starts
 *   CAP_SYS_PTRACE       read /proc/PID/exe of any process (binary names)
 *   CAP_DAC_READ_SEARCH  read any binary: fanotify marks, integrity checks
 *
 * The bounding set is reduced to the same, so nothing lymphd starts can
 * regain the rest.  Plus, where the kernel wants one for a perf event of
 * lymphd's own (kernel.perf_event_paranoid 3: CAP_SYS_ADMIN on Debian's
 * and Ubuntu's kernels, or CAP_PERFMON), that one in the permitted and
 * bounding sets only: raised into the effective set around the
 * perf_event_open that arms the refused-fork probe on the fork calls' own
 * tracepoints (privs.c says why).
 */
#ifndef LYMPH_PRIVS_H
#define LYMPH_PRIVS_H

/* 0 or -errno (with one line on stderr). */
int privs_drop(void);

/* The same, also keeping services_caps (the CAP_* bits the services of the
 * policy are given, `capabilities =`) in the permitted and bounding sets,
 * not effective: lymphd only hands them on. */
int privs_drop_keep(unsigned long long services_caps);

/* The kept set as the 64-bit mask /proc/PID/status prints as CapEff. */
unsigned long long privs_kept_mask(void);

/* The same, keeping keep_perf (a CAP_* number, or -1: none) as the perf
 * capability below; privs_drop_keep asks the kernel which one. */
int privs_drop_keep_perf(unsigned long long services_caps, int keep_perf);

/*
 * The perf capability: the least of none (-1), CAP_PERFMON, CAP_SYS_ADMIN
 * in permitted (a CAP_* bit mask) with which open_ok(cap, ctx) says a
 * perf event of lymphd's own opens (kernel.perf_event_paranoid 3 on
 * Debian's and Ubuntu's kernels wants CAP_SYS_ADMIN); -ENOENT when none
 * does.  Pure: privs_drop_keep gives it the kernel's answer.
 */
int privs_perf_cap_choose(int (*open_ok)(int cap, void *ctx), void *ctx,
			  unsigned long long permitted);

/* The perf capability lymphd keeps permitted (not effective), or -1. */
int privs_perf_cap(void);

/*
 * The perf capability into the calling thread's effective set, for one
 * perf_event_open: 1 when raised (call privs_perf_lower after), 0 when
 * there is nothing to raise (none kept, or effective already: before the
 * drop), or -errno.
 */
int privs_perf_raise(void);

/* And out again: 0 or -errno (with one line on stderr); errno is kept. */
int privs_perf_lower(void);

/*
 * A seccomp filter on lymphd's own code: the system calls lymphd makes are
 * allowed, any other made from lymphd's executable mappings (its binary,
 * the libraries loaded at start, the vDSO) is refused with SIGSYS, named on
 * stderr, and lymphd dies of it (see privs.c for why).  Programs lymphd
 * starts run their own code after execve and are not confined by it.
 * x86-64 only: elsewhere -EOPNOTSUPP and nothing is installed.  Call after
 * start-up, before privs_drop (installing needs CAP_SYS_ADMIN or
 * no_new_privs, and lymphd does not impose no_new_privs on what it starts).
 * 0 or -errno (with one line on stderr).
 */
int privs_seccomp(void);

/* The filter privs_seccomp() would install, for the code mapped now
 * (caller frees prog->filter); 0 or -errno. */
struct sock_fprog;
int privs_seccomp_build(struct sock_fprog *prog);

#endif
