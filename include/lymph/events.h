/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lymph event ABI: the records that every sensor (BPF programs, lymph.ko,
 * the proc-connector fallback) produces and that lymphd consumes.
 *
 * This header is included unchanged by the kernel module, by BPF programs
 * (after vmlinux.h) and by userspace.  Rules that keep it stable:
 *  - fixed-width fields only, larger before smaller, explicit padding that
 *    producers zero;
 *  - every record starts with struct lymph_hdr and its size is asserted;
 *  - kind numbers are never reused: retire a kind, never renumber it;
 *  - timestamps are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns(),
 *    ktime_get_ns()), so they compare across sensors and with userspace.
 */
#ifndef LYMPH_EVENTS_H
#define LYMPH_EVENTS_H

#if defined(__KERNEL__)
#include <linux/types.h>
#elif !defined(__VMLINUX_H__)
#include <linux/types.h>
#endif

#define LYMPH_ABI_VERSION 1

/* Record kinds.  Explicit numbers, never reused. */
enum lymph_kind {
	LYMPH_EV_DEATH    = 1,	/* a process (whole thread group) died */
	LYMPH_EV_SIGNAL   = 2,	/* fatal signal sent by another process */
	LYMPH_EV_EXEC     = 3,	/* a process executed a new binary */
	LYMPH_EV_FORK     = 4,	/* a new process (not a thread) was created */
	LYMPH_EV_OOM      = 5,	/* the OOM killer chose a victim */
	LYMPH_EV_DROP     = 6,	/* a sensor lost records (ring full) */
	LYMPH_EV_PRESSURE = 7,	/* per-process pressure spot check result */
	LYMPH_EV_THROTTLE = 8,	/* a forker of a storming lineage was held */
	LYMPH_EV_KIND_MAX		/* one past the highest kind in use */
};

/* Which sensor produced a record (lymph_hdr.source). */
enum lymph_source {
	LYMPH_SRC_BPF  = 1,
	LYMPH_SRC_KMOD = 2,
	LYMPH_SRC_PROC = 3,	/* proc connector: no si_code, no fault address */
};

#define LYMPH_COMM_LEN 16
#define LYMPH_PATH_LEN 256

struct lymph_hdr {
	__u16 kind;		/* enum lymph_kind */
	__u16 size;		/* whole record, bytes, header included */
	__u8  source;		/* enum lymph_source */
	__u8  pad[3];
	__u64 ts_ns;		/* CLOCK_MONOTONIC when the event happened */
};
_Static_assert(sizeof(struct lymph_hdr) == 16, "lymph_hdr layout");

/*
 * Identity of the process an event is about.  pid is the thread-group id
 * (what userspace calls a pid); tid the thread.  exe_dev uses the same
 * encoding as stat(2)'s st_dev (the kernel's new_encode_dev()), so lymphd
 * compares it with st_dev directly.  start_ns is the group leader's start
 * time (CLOCK_MONOTONIC): (pid, start_ns) names a process uniquely.
 */
struct lymph_task {
	__u64 cgroup_id;	/* cgroup v2 id (0 when unknown) */
	__u64 exe_ino;		/* inode of the executable (0 for kernel threads) */
	__u64 start_ns;
	__u32 exe_dev;
	__u32 pid;
	__u32 tid;
	__u32 ppid;		/* real parent's tgid */
	__u32 uid;		/* real uid, initial user namespace */
	__u32 sid;		/* session id, initial pid namespace */
	__u8  comm[LYMPH_COMM_LEN];
};
_Static_assert(sizeof(struct lymph_task) == 64, "lymph_task layout");

/* lymph_death.flags */
#define LYMPH_DEATH_CORE	(1u << 0)	/* a core dump was written */
#define LYMPH_DEATH_SIGINFO	(1u << 1)	/* signo/si_code/sender valid */
#define LYMPH_DEATH_OOM		(1u << 2)	/* chosen by the OOM killer */
#define LYMPH_DEATH_SELF	(1u << 3)	/* signal sent by the dying process itself */
#define LYMPH_DEATH_KTHREAD	(1u << 4)	/* a kernel thread */

/*
 * A whole process died.  exit_code is the wait(2) status: the fatal signal
 * in bits 0-6, the core flag in bit 7, the exit status in bits 8-15.  When
 * LYMPH_DEATH_SIGINFO is set, the signal that killed it was seen when it was
 * generated: signo, si_code (as in siginfo_t, may be negative: SI_USER=0,
 * SI_TKILL=-6, SI_KERNEL=0x80, SEGV_MAPERR=1, ...), the sender and, for
 * faults raised by the kernel, fault_addr.
 */
struct lymph_death {
	struct lymph_hdr hdr;
	struct lymph_task task;
	__u64 fault_addr;
	__u64 age_ns;		/* how long the process lived */
	__u32 exit_code;
	__u32 signo;		/* fatal signal, 0 for a normal exit */
	__s32 si_code;
	__u32 sender_pid;	/* tgid of the sender (0 for the kernel) */
	__u32 sender_uid;
	__u32 flags;		/* LYMPH_DEATH_* */
};
_Static_assert(sizeof(struct lymph_death) == 120, "lymph_death layout");

/* A fatal signal was sent to a process by another process. */
struct lymph_signal {
	struct lymph_hdr hdr;
	struct lymph_task task;	/* the target */
	__u32 sender_pid;
	__u32 sender_uid;
	__u32 signo;
	__s32 si_code;
	__u8  sender_comm[LYMPH_COMM_LEN];
};
_Static_assert(sizeof(struct lymph_signal) == 112, "lymph_signal layout");

/*
 * A process executed a binary.  path is the name given to execve (it may be
 * relative), NUL-terminated and truncated to LYMPH_PATH_LEN - 1 bytes.
 */
struct lymph_exec {
	struct lymph_hdr hdr;
	struct lymph_task task;	/* after the exec: exe_dev/exe_ino are the new binary */
	__u8  path[LYMPH_PATH_LEN];
};
_Static_assert(sizeof(struct lymph_exec) == 336, "lymph_exec layout");

/* A new process: task is the child, task.ppid its parent. */
struct lymph_fork {
	struct lymph_hdr hdr;
	struct lymph_task task;
};
_Static_assert(sizeof(struct lymph_fork) == 80, "lymph_fork layout");

/* The OOM killer marked a victim. */
struct lymph_oom {
	struct lymph_hdr hdr;
	struct lymph_task task;	/* the victim */
	__s32 oom_score_adj;
	__u32 pad;
};
_Static_assert(sizeof(struct lymph_oom) == 88, "lymph_oom layout");

/*
 * A sensor lost records.  lost counts records lost since the previous drop
 * record of the same source (not a running total).
 */
struct lymph_drop {
	struct lymph_hdr hdr;
	__u64 lost;
	__u64 pad;
};
_Static_assert(sizeof(struct lymph_drop) == 32, "lymph_drop layout");

/* lymph_pressure.flags: the thresholds the process crossed */
#define LYMPH_PRESSURE_RUNQ	(1u << 0)	/* run-queue delay */
#define LYMPH_PRESSURE_RSS	(1u << 1)	/* RSS growth */
#define LYMPH_PRESSURE_MAJFLT	(1u << 2)	/* major faults */

/*
 * A periodic spot check found a process under pressure.  The figures are
 * over interval_ns (the time since the previous check saw this process),
 * summed over its live threads.  reclaim_delay_ns (direct reclaim and
 * thrashing) is 0 unless delay accounting is on (the delayacct boot option
 * or kernel.task_delayacct).
 */
struct lymph_pressure {
	struct lymph_hdr hdr;
	struct lymph_task task;
	__u64 interval_ns;
	__u64 runq_delay_ns;	/* runnable but waiting for a CPU */
	__u64 reclaim_delay_ns;
	__u64 maj_flt;		/* major page faults */
	__u64 rss_kb;		/* resident set now */
	__s64 rss_delta_kb;	/* change since the previous check */
	__u32 flags;		/* LYMPH_PRESSURE_* */
	__u32 pad;
};
_Static_assert(sizeof(struct lymph_pressure) == 136, "lymph_pressure layout");

/* lymph_throttle.lineage_kind: what a lineage is */
#define LYMPH_LINEAGE_SESSION	0	/* lineage_id: session id */
#define LYMPH_LINEAGE_CGROUP	1	/* lineage_id: cgroup v2 id */
#define LYMPH_LINEAGE_UID	2	/* lineage_id: real uid */
#define LYMPH_LINEAGE_FAMILY	3	/* lineage_id: pid of the clone family's root */

/* lymph_throttle.action */
#define LYMPH_THROTTLE_STOPPED	1	/* the forker was stopped (SIGSTOP) */
#define LYMPH_THROTTLE_WOULD	2	/* observe mode: it would have been */
#define LYMPH_THROTTLE_HELD	3	/* held by an in-kernel dead time */

/*
 * A lineage forked beyond its budget and one of its forkers (task) was
 * held.  tokens is the lineage's budget left, in thousandths of a fork
 * (negative: overdrawn).  hold_ns is the dead time when the holder knows it.
 */
struct lymph_throttle {
	struct lymph_hdr hdr;
	struct lymph_task task;
	__u64 lineage_id;
	__s64 tokens;
	__u64 hold_ns;
	__u32 lineage_kind;	/* LYMPH_LINEAGE_* */
	__u32 action;		/* LYMPH_THROTTLE_* */
	__u32 child_pid;	/* the process whose fork tipped it */
	__u32 pad;
};
_Static_assert(sizeof(struct lymph_throttle) == 120, "lymph_throttle layout");

/* Largest record; a reader's buffer of this size holds any one record. */
#define LYMPH_RECORD_MAX 512

#endif /* LYMPH_EVENTS_H */
