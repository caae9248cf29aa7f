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
 * CAP_PERFMON is kept permitted, not effective, and raised only around the
 * one perf_event_open lymphd makes after start-up (source_bpf.c: the
 * refused-fork probe on syscalls:sys_exit_clone and the others, an event
 * of lymphd's own, user space only).  At perf_event_paranoid <= 2 that
 * event needs no capability; at Debian's 3 the kernel refuses any perf
 * event to a task without CAP_PERFMON (or CAP_SYS_ADMIN), and the probe
 * would go on raw_syscalls:sys_exit, a cost on every system call of the
 * host while armed (README, Performance).
 *
 * What CAP_PERFMON grants beyond what lymphd holds: CAP_SYS_PTRACE
 * already lets it watch (and read the memory of) any process in user
 * space, and its loaded BPF programs see every fork, exec and death; it
 * cannot load new ones (no CAP_BPF).  CAP_PERFMON adds the kernel side:
 * events that sample kernel code and addresses and every CPU, raw
 * tracepoint records of every task, kprobe and uprobe events, and the
 * BPF programs attached to a tracepoint (PERF_EVENT_IOC_QUERY_BPF).
 * Effective for lymphd's whole life, every perfmon_capable() check of
 * every call lymphd makes would pass; raised around the one call, no
 * other path of lymphd's code can use it by mistake, and CapEff stays
 * what the responses use.  It costs two capset(2) per arming.  It is no
 * wall against code running in lymphd (capset is on the seccomp list, as
 * it must be to raise it): that is the seccomp filter's part.
 *
 * Kept only where lymphd holds it at the drop: a kernel before 5.8 has no
 * CAP_PERFMON, and a lymphd started without it (a bounding set without
 * it) cannot get it back; both keep the raw tracepoint, said once.
 */
static int perfmon_kept;

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

int privs_perfmon_kept(void)
{
	return perfmon_kept;
}

int privs_perfmon_raise(void)
{
	int err;

	if (!perfmon_kept || cap_has(CAP_PERFMON, CAP_EFFECTIVE) != 0)
		return 0;
	err = cap_effective(CAP_PERFMON, CAP_SET);
	return err ? err : 1;
}

int privs_perfmon_lower(void)
{
	int saved = errno, err = cap_effective(CAP_PERFMON, CAP_CLEAR);

	if (err)
		fprintf(stderr,
			"lymphd: failed to lower CAP_PERFMON: %s; it stays in lymphd's effective "
			"set\n",
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
	cap_t caps = cap_init();
	cap_value_t extra[64];
	int c, n_extra = 0, err = 0;

	if (!caps)
		return -errno;
	services_caps &= ~privs_kept_mask();
	/* CAP_PERFMON where lymphd holds it (and the kernel knows it): kept
	 * permitted, not effective (see above). */
	perfmon_kept = cap_has(CAP_PERFMON, CAP_PERMITTED) == 1;
	if (perfmon_kept)
		services_caps |= 1ULL << CAP_PERFMON;
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
