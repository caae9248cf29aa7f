// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "privs.h"

static const cap_value_t kept[] = {
	CAP_KILL, CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
};
#define N_KEPT (int)(sizeof(kept) / sizeof(kept[0]))

#ifndef CAP_PERFMON
#define CAP_PERFMON 38 /* Linux 5.8 */
#endif

/*
 * The perf capability.  lymphd makes one perf_event_open after start-up
 * (source_bpf.c: the refused-fork probe on syscalls:sys_exit_clone and the
 * others, an event of lymphd's own, user space only).  At
 * perf_event_paranoid <= 2 that event needs no capability.  At 3, the
 * default of Debian's and Ubuntu's kernels, their patch refuses every
 * perf event to a task without CAP_SYS_ADMIN (Debian 12's 6.12: CAP_PERFMON
 * is not enough, tests/vm/lymphd_refusals_test; the patch's text names
 * CAP_PERFMON too, so a kernel may take that), and the probe would go on
 * raw_syscalls:sys_exit, a cost on every system call of the host while
 * armed (doc/performance.md ¹¹).
 *
 * So, at the drop, lymphd asks the kernel which it needs
 * (privs_perf_cap_choose: an event of its own opened and closed with only
 * the candidate effective): none, CAP_PERFMON, or CAP_SYS_ADMIN, the least
 * that passes, and keeps that one in its permitted and bounding sets, not
 * effective.  It raises it around the one call and lowers it at once (the
 * event, once open, needs it no more), in the thread that makes the call.
 *
 * Why not effective: CAP_PERFMON would add kernel-side observation
 * (kernel samples and addresses, raw tracepoint records of every task,
 * kprobe and uprobe events), CAP_SYS_ADMIN nearly everything (mounts,
 * namespaces, BPF programs of any kind, ...), to every call of lymphd for
 * its whole life.  Raised around the one call, whose arguments are
 * constants of lymphd's code, no other path of lymphd can use it by
 * mistake, and CapEff stays what the responses use; for two capset(2) per
 * arming.  It is no wall against code running in lymphd: that can raise
 * it as lymphd does (capset is on the seccomp list), and CAP_SYS_PTRACE,
 * which the responses need, already lets such code write the memory of
 * any process, pid 1's too.  Against that, the seccomp filter is the wall.
 *
 * A lymphd that does not hold the one its kernel needs (a bounding set
 * without it, a kernel before 5.8 for CAP_PERFMON) keeps the raw
 * tracepoint, said once with why.
 */
static int perf_cap = -1;

/* Is cap in the calling thread's flag set?  1, 0, or -errno. */
static int cap_has(cap_value_t cap, cap_flag_t flag)
{
	cap_t now = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	int err = 0;

	if (!now)
		return -errno;
	if (cap_get_flag(now, cap, flag, &v))
		err = -errno;
	cap_free(now);
	return err ? err : v == CAP_SET;
}

/* Set (CAP_SET) or clear cap in the calling thread's effective set. */
static int cap_effective(cap_value_t cap, cap_flag_value_t to)
{
	cap_t now = cap_get_proc();
	int err = 0;

	if (!now)
		return -errno;
	if (cap_set_flag(now, CAP_EFFECTIVE, 1, &cap, to) || cap_set_proc(now))
		err = -errno;
	cap_free(now);
	return err;
}

int privs_perf_cap_choose(int (*open_ok)(int cap, void *ctx), void *ctx,
			  unsigned long long permitted)
{
	static const int candidates[] = { -1, CAP_PERFMON, CAP_SYS_ADMIN };
	size_t i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		int c = candidates[i];

		if (c >= 0 && !((permitted >> c) & 1))
			continue; /* not held: it cannot be kept */
		if (open_ok(c, ctx))
			return c;
	}
	return -ENOENT;
}

/* Only cap (or nothing: -1) effective, would an event of our own open?
 * The effective set is given back after. */
static int perf_open_ok(int cap, void *ctx)
{
	struct perf_event_attr a;
	cap_t saved = cap_get_proc(), only = saved ? cap_dup(saved) : NULL;
	cap_value_t v = cap;
	int fd, ok = 0;

	(void)ctx;
	if (!only || cap_clear_flag(only, CAP_EFFECTIVE) ||
	    (cap >= 0 && cap_set_flag(only, CAP_EFFECTIVE, 1, &v, CAP_SET)) || cap_set_proc(only))
		goto out;
	/* The paranoid check comes before the event's type is looked at: a
	 * software event that counts nothing asks what the tracepoint would. */
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_DUMMY;
	a.size = sizeof(a);
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = (int)syscall(__NR_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	ok = fd >= 0;
	if (fd >= 0)
		close(fd);
	cap_set_proc(saved); /* privs_drop_keep_perf sets every set after */
out:
	cap_free(only);
	cap_free(saved);
	return ok;
}

int privs_perf_cap(void)
{
	return perf_cap;
}

int privs_perf_raise(void)
{
	int err;

	if (perf_cap < 0 || cap_has(perf_cap, CAP_EFFECTIVE) != 0)
		return 0;
	err = cap_effective(perf_cap, CAP_SET);
	return err ? err : 1;
}

int privs_perf_lower(void)
{
	int saved = errno, err = perf_cap < 0 ? 0 : cap_effective(perf_cap, CAP_CLEAR);

	if (err)
		fprintf(stderr,
			"lymphd: failed to lower %s: %s; it stays in lymphd's effective set\n",
			perf_cap == CAP_SYS_ADMIN ? "CAP_SYS_ADMIN" : "CAP_PERFMON",
			strerror(-err));
	errno = saved;
	return err;
}

unsigned long long privs_kept_mask(void)
{
	unsigned long long m = 0;
	int i;

	for (i = 0; i < N_KEPT; i++)
		m |= 1ULL << kept[i];
	return m;
}

int privs_drop(void)
{
	return privs_drop_keep(0);
}

int privs_drop_keep(unsigned long long services_caps)
{
	unsigned long long permitted = 0;
	cap_t now = cap_get_proc();
	int c;

	if (now) {
		for (c = 0; c <= CAP_LAST_CAP && c < 64; c++) {
			cap_flag_value_t v;

			if (!cap_get_flag(now, c, CAP_PERMITTED, &v) && v == CAP_SET)
				permitted |= 1ULL << c;
		}
		cap_free(now);
	}
	c = privs_perf_cap_choose(perf_open_ok, NULL, permitted);
	return privs_drop_keep_perf(services_caps, c);
}

int privs_drop_keep_perf(unsigned long long services_caps, int keep_perf)
{
	cap_t caps = cap_init();
	cap_value_t extra[64];
	int c, n_extra = 0, err = 0;

	if (!caps)
		return -errno;
	services_caps &= ~privs_kept_mask();
	/* The perf capability, permitted, not effective (see above). */
	perf_cap = keep_perf >= 0 && keep_perf < 64 ? keep_perf : -1;
	if (perf_cap >= 0)
		services_caps |= 1ULL << perf_cap;
	/* Bounding set first: it needs CAP_SETPCAP, which we keep anyway. */
	for (c = 0; c <= CAP_LAST_CAP; c++) {
		if (((privs_kept_mask() | services_caps) >> c) & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL) {
			err = -errno;
			break;
		}
	}
	for (c = 0; c <= CAP_LAST_CAP && c < 64; c++)
		if ((services_caps >> c) & 1)
			extra[n_extra++] = c;
	if (!err && (cap_set_flag(caps, CAP_EFFECTIVE, N_KEPT, kept, CAP_SET) ||
		     cap_set_flag(caps, CAP_PERMITTED, N_KEPT, kept, CAP_SET) ||
		     (n_extra && cap_set_flag(caps, CAP_PERMITTED, n_extra, extra, CAP_SET)) ||
		     cap_set_proc(caps)))
		err = -errno;
	cap_free(caps);
	if (err)
		fprintf(stderr, "lymphd: failed to drop capabilities: %s\n", strerror(-err));
	return err;
}

/* ---- seccomp ----------------------------------------------------------- */

/*
 * Every system call lymphd makes after start-up, and those of its children
 * between fork and execve (spawn.c): found with strace over the test suite
 * (every lymphctl command and every response) and reviewed.  Left out on
 * purpose, among others: ptrace, process_vm_*, mount and the new mount API,
 * pivot_root, chroot, setns, unshare, *_module, kexec_*, reboot, swapon,
 * keyctl, add_key, userfaultfd, io_uring_*, personality,
 * iopl, ioperm, modify_ldt, settimeofday, clock_settime, sethostname, acct,
 * quotactl, syslog.  perf_event_open: only to arm the refused-fork probe
 * (source_bpf.c), an event of lymphd's own in user space, all that it
 * allows once the capabilities are dropped.
 */
static const int seccomp_allowed[] = {
#ifdef __x86_64__
	__NR_read,
	__NR_write,
	__NR_readv,
	__NR_writev,
	__NR_pread64,
	__NR_pwrite64,
	__NR_open,
	__NR_openat,
	__NR_close,
	__NR_close_range,
	__NR_stat,
	__NR_fstat,
	__NR_lstat,
	__NR_newfstatat,
	__NR_statx,
	__NR_lseek,
	__NR_mmap,
	__NR_munmap,
	__NR_mprotect,
	__NR_mremap,
	__NR_madvise,
	__NR_brk,
	__NR_rt_sigaction,
	__NR_rt_sigprocmask,
	__NR_rt_sigreturn,
	__NR_ioctl,
	__NR_access,
	__NR_faccessat,
	__NR_faccessat2,
	__NR_pipe,
	__NR_pipe2,
	__NR_dup,
	__NR_dup2,
	__NR_dup3,
	__NR_fcntl,
	__NR_flock,
	__NR_fsync,
	__NR_fdatasync,
	__NR_ftruncate,
	__NR_getdents64,
	__NR_getcwd,
	__NR_chdir,
	__NR_fchdir,
	__NR_rename,
	__NR_renameat,
	__NR_renameat2,
	__NR_mkdir,
	__NR_mkdirat,
	__NR_rmdir,
	__NR_unlink,
	__NR_unlinkat,
	__NR_readlink,
	__NR_readlinkat,
	__NR_chmod,
	__NR_fchmod,
	__NR_fchmodat,
	__NR_chown,
	__NR_fchown,
	__NR_fchownat,
	__NR_umask,
	__NR_statfs,
	__NR_fstatfs,
	__NR_gettimeofday,
	__NR_getrlimit,
	__NR_setrlimit,
	__NR_prlimit64,
	__NR_getrusage,
	__NR_sysinfo,
	__NR_uname,
	__NR_getuid,
	__NR_getgid,
	__NR_geteuid,
	__NR_getegid,
	__NR_getresuid,
	__NR_getresgid,
	__NR_getgroups,
	__NR_getpid,
	__NR_getppid,
	__NR_gettid,
	__NR_getpgid,
	__NR_getpgrp,
	__NR_getsid,
	__NR_setsid,
	__NR_setpgid,
	__NR_setuid,
	__NR_setgid,
	__NR_setreuid,
	__NR_setregid,
	__NR_setresuid,
	__NR_setresgid,
	__NR_setgroups,
	__NR_capget,
	__NR_capset,
	__NR_prctl,
	__NR_kill,
	__NR_tgkill,
	__NR_tkill,
	__NR_pidfd_open,
	__NR_pidfd_send_signal,
	__NR_waitid,
	__NR_wait4,
	__NR_clone,
	__NR_clone3,
	__NR_fork,
	__NR_vfork,
	__NR_execve,
	__NR_execveat,
	__NR_exit,
	__NR_exit_group,
	__NR_nanosleep,
	__NR_clock_nanosleep,
	__NR_clock_gettime,
	__NR_clock_getres,
	__NR_time,
	__NR_epoll_create1,
	__NR_epoll_ctl,
	__NR_epoll_wait,
	__NR_epoll_pwait,
	__NR_epoll_pwait2,
	__NR_poll,
	__NR_ppoll,
	__NR_select,
	__NR_pselect6,
	__NR_timerfd_create,
	__NR_timerfd_settime,
	__NR_timerfd_gettime,
	__NR_signalfd,
	__NR_signalfd4,
	__NR_eventfd2,
	__NR_socket,
	__NR_socketpair,
	__NR_bind,
	__NR_listen,
	__NR_accept,
	__NR_accept4,
	__NR_connect,
	__NR_getsockname,
	__NR_getpeername,
	__NR_setsockopt,
	__NR_getsockopt,
	__NR_sendto,
	__NR_recvfrom,
	__NR_sendmsg,
	__NR_recvmsg,
	__NR_shutdown,
	__NR_futex,
	__NR_set_robust_list,
	__NR_get_robust_list,
	__NR_rseq,
	__NR_getrandom,
	__NR_bpf,
	__NR_perf_event_open,
	__NR_fanotify_init,
	__NR_fanotify_mark,
	__NR_name_to_handle_at,
	__NR_open_by_handle_at,
	__NR_sched_yield,
	__NR_sched_getaffinity,
	__NR_restart_syscall,
	__NR_membarrier,
	__NR_set_tid_address,
	__NR_arch_prctl,
	__NR_sigaltstack,
	__NR_getpriority,
	__NR_setpriority,
	__NR_utimensat,
	__NR_inotify_init1,
	__NR_inotify_add_watch,
	__NR_inotify_rm_watch,
	__NR_sync_file_range,
	__NR_fallocate,
	__NR_symlink,
	__NR_symlinkat,
	__NR_link,
	__NR_linkat,
	/* Not seen yet, harmless, and within what a supervisor's I/O, timers
	 * and process set-up may come to use: a violation kills lymphd, so
	 * the benign ones are in. */
	__NR_splice,
	__NR_tee,
	__NR_sendfile,
	__NR_copy_file_range,
	__NR_memfd_create,
	__NR_alarm,
	__NR_getitimer,
	__NR_setitimer,
	__NR_timer_create,
	__NR_timer_settime,
	__NR_timer_gettime,
	__NR_timer_getoverrun,
	__NR_timer_delete,
	__NR_ioprio_get,
	__NR_ioprio_set,
	__NR_sched_setaffinity,
	__NR_sched_getparam,
	__NR_sched_getscheduler,
	__NR_sched_setscheduler,
	__NR_truncate,
	__NR_sendmmsg,
	__NR_recvmmsg,
	__NR_getcpu,
	__NR_pause,
	__NR_rt_sigtimedwait,
	__NR_rt_sigsuspend,
	__NR_rt_sigpending,
	__NR_msync,
	__NR_fadvise64,
	__NR_readahead,
	__NR_mincore,
	__NR_preadv,
	__NR_pwritev,
	__NR_preadv2,
	__NR_pwritev2,
	__NR_creat,
	__NR_times,
	__NR_utime,
	__NR_utimes,
	__NR_futimesat,
	/* the phagocytes: crash artifacts' xattrs (systemd-coredump), SysV shared memory */
	__NR_fgetxattr,
	__NR_getxattr,
	__NR_lgetxattr,
	__NR_shmget,
	__NR_shmat,
	__NR_shmdt,
	__NR_shmctl,
#endif
};

#define SD_NR	 offsetof(struct seccomp_data, nr)
#define SD_ARCH	 offsetof(struct seccomp_data, arch)
#define SD_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define SD_IP_HI (offsetof(struct seccomp_data, instruction_pointer) + 4)
#define X32_BIT	 0x40000000u

struct xrange {
	uint64_t lo, hi;
}; /* [lo, hi) */

/* lymphd's executable mappings now, adjacent ones merged, split so that
 * none crosses a 4 GiB boundary (cBPF compares 32-bit words). */
static int exec_ranges(struct xrange *r, size_t cap, size_t *n)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	*n = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) != 3 || perms[2] != 'x')
			continue;
		if (*n && r[*n - 1].hi == lo) {
			r[*n - 1].hi = hi;
			continue;
		}
		if (*n == cap) {
			fclose(f);
			return -E2BIG;
		}
		r[*n].lo = lo;
		r[(*n)++].hi = hi;
	}
	fclose(f);
	for (size_t i = 0; i < *n; i++) {
		uint64_t boundary = (r[i].lo | 0xffffffffULL) + 1; /* 0 past the top */

		if ((r[i].lo >> 32) != ((r[i].hi - 1) >> 32)) {
			if (*n == cap)
				return -E2BIG;
			memmove(&r[i + 2], &r[i + 1], (*n - i - 1) * sizeof(*r));
			r[i + 1].lo = boundary;
			r[i + 1].hi = r[i].hi;
			r[i].hi = boundary;
			(*n)++;
		}
	}
	return *n ? 0 : -ENOENT;
}

int privs_seccomp_build(struct sock_fprog *prog)
{
#ifdef __x86_64__
	const size_t n_allow = sizeof(seccomp_allowed) / sizeof(seccomp_allowed[0]);
	struct xrange r[48];
	struct sock_filter *f;
	size_t n_r, i, k = 0, max;
	int err = exec_ranges(r, sizeof(r) / sizeof(r[0]), &n_r);

	if (err)
		return err;
	/* cBPF jumps reach 255 instructions: 5 per range to the list */
	if (n_r * 5 + 1 > 255 || n_allow + 2 > 255)
		return -E2BIG;
	max = 3 + n_r * 5 + 1 + 3 + n_allow + 2;
	f = calloc(max, sizeof(*f));
	if (!f)
		return -ENOMEM;
	/* Another architecture's calls are never lymphd's. */
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARCH);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	/* Made from lymphd's code?  Then to the list; else it is a program
	 * lymphd started, after its execve: not lymphd's to confine. */
	for (i = 0; i < n_r; i++) {
		uint8_t to_list = (uint8_t)((n_r - i - 1) * 5 + 1);
		uint32_t hi = (uint32_t)(r[i].lo >> 32), lo = (uint32_t)r[i].lo;
		uint32_t last = (uint32_t)(r[i].hi - 1);

		f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_IP_HI);
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 3);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_IP_LO);
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 1);
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, last, 0, to_list);
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* The list; x32 numbers are never lymphd's. */
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_NR);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	for (i = 0; i < n_allow; i++)
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (uint32_t)seccomp_allowed[i],
						      (uint8_t)(n_allow - i), 0);
	/*
	 * Anything else: SIGSYS (RET_TRAP) rather than RET_KILL_PROCESS, so the
	 * handler can name the call on stderr before lymphd dies of it: a
	 * violation is never silent (systemd or whoever restarts lymphd sees
	 * a death by SIGSYS and the line), and the call is never made.
	 */
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog->len = (unsigned short)k;
	prog->filter = f;
	return 0;
#else
	(void)prog;
	return -EOPNOTSUPP;
#endif
}

/* Async-signal-safe: name the refused call, then die of SIGSYS. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char tail[] = "; lymphd stops (the list in privs.c misses it: report it)\n";
	char msg[160] = "lymphd: seccomp refused system call ", num[16];
	int nr = si->si_syscall, i = 0, len = (int)strlen(msg);

	(void)uc;
	if (nr < 0)
		nr = 0;
	do {
		num[i++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr && i < (int)sizeof(num));
	while (i)
		msg[len++] = num[--i];
	memcpy(msg + len, tail, sizeof(tail) - 1);
	len += (int)sizeof(tail) - 1;
	if (write(2, msg, (size_t)len) < 0)
		msg[0] = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

int privs_seccomp(void)
{
	struct sock_fprog prog;
	struct sigaction sa;
	int err = privs_seccomp_build(&prog);

	if (err) {
		fprintf(stderr,
			"lymphd: failed to build the seccomp filter: %s; lymphd runs without it\n",
			strerror(-err));
		return err;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		err = -errno;
	free(prog.filter);
	if (err)
		fprintf(stderr, "lymphd: failed to install the seccomp filter: %s\n",
			strerror(-err));
	return err;
}
