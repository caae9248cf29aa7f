// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/forkbomb's view of a bomb from the kernel: every task the bomb's
 * uid makes (sched_process_fork, threads included), every exit of one of
 * those tasks (sched_process_exit), and the SIGSTOPs sent to them
 * (signal_generate: lymph's holds) and the cgroup moves of those tasks
 * (cgroup_attach_task: lymphd's into its hold, a member's own), each with
 * its time (CLOCK_MONOTONIC,
 * the clock of the bomb's own notes), and for each fork when its parent
 * entered the syscall (raw_syscalls:sys_enter).  These are the events lymph's
 * throttle charges and refunds (a new task takes a token, its exit gives
 * it back, kmod/lineage.c and bpf/sensors.bpf.c), at the points where it
 * does, so the bench can replay the same token bucket on what the kernel
 * saw, beside the replay on what the bomb noted of itself (a shell notes
 * a fork when it calls fork(), which under load may be long before the
 * kernel makes the task).
 *
 * cfg: [0] the bomb's real uid (0: off), set by the bench per run; n: the
 * events recorded (reset by the bench per run); evs: the events, the
 * first EV_MAX.  Only children of a parent of that uid are counted, as
 * the bomb's first process is made by the bench (root) and changes its
 * uid itself, and only exits of tasks counted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define EV_MAX 32768
#define SIGSTOP_NR 19

enum { EV_FORK = 0, EV_EXIT = 1, EV_STOP = 2, EV_MOVE = 3 };

struct ev {
	__u64 ns;
	__u64 call_ns;	/* EV_FORK: when its parent entered the fork syscall */
	__u32 pid;
	__u32 kind;
	__u32 by;	/* EV_FORK: the parent's tgid; EV_MOVE: the mover's tgid */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} n SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EV_MAX);
	__type(key, __u32);
	__type(value, struct ev);
} evs SEC(".maps");

/* When each of the uid's threads last entered a fork syscall, by pid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

/* The tasks counted (by pid, threads included): their exits are counted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} members SEC(".maps");

static void note(__u32 kind, __u32 pid, __u64 call_ns, __u32 by)
{
	__u32 k0 = 0, i;
	__u64 *cnt = bpf_map_lookup_elem(&n, &k0);
	struct ev *e;

	if (!cnt)
		return;
	i = (__u32)__sync_fetch_and_add(cnt, 1);
	e = bpf_map_lookup_elem(&evs, &i);
	if (!e)
		return;	/* beyond EV_MAX: counted in n only */
	e->ns = bpf_ktime_get_ns();
	e->call_ns = call_ns;
	e->pid = pid;
	e->kind = kind;
	e->by = by;
	e->pad = 0;
}

/*
 * A fork syscall entered by one of the uid's threads: when it was called.
 * raw_syscalls' sys_enter, as Debian's cloud kernel has no per-syscall
 * tracepoints; the syscall number first, so other calls cost a compare.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	__u32 k0 = 0, pid;
	__u64 *uid, now;

	/* x86_64: clone, fork, vfork, clone3 */
	if (id != 56 && id != 57 && id != 58 && id != 435)
		return 0;
	uid = bpf_map_lookup_elem(&cfg, &k0);
	if (!uid || !*uid || (__u32)bpf_get_current_uid_gid() != *uid)
		return 0;
	pid = (__u32)bpf_get_current_pid_tgid();
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&calls, &pid, &now, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 k0 = 0, pid = child->pid, one = 1, ppid = parent->pid;
	__u64 *uid = bpf_map_lookup_elem(&cfg, &k0), *call;

	if (!uid || !*uid || parent->real_cred->uid.val != *uid)
		return 0;
	bpf_map_update_elem(&members, &pid, &one, BPF_ANY);
	call = bpf_map_lookup_elem(&calls, &ppid);
	note(EV_FORK, pid, call ? *call : 0, parent->tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 pid = p->pid;

	if (bpf_map_delete_elem(&members, &pid))
		return 0;	/* not one the bomb made */
	bpf_map_delete_elem(&calls, &pid);
	note(EV_EXIT, pid, 0, 0);
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal, int sig, struct kernel_siginfo *info, struct task_struct *task)
{
	__u32 pid = task->pid;

	if (sig != SIGSTOP_NR || !bpf_map_lookup_elem(&members, &pid))
		return 0;
	note(EV_STOP, pid, 0, 0);
	return 0;
}

/*
 * A task of the bomb moved to another cgroup (cgroup.procs written): by
 * lymphd into its hold, or by a member itself (a delegated cgroup of its
 * own; cgroup v1 checks only the destination's permissions).
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(on_move, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	__u32 pid = task->pid;

	if (!bpf_map_lookup_elem(&members, &pid))
		return 0;
	note(EV_MOVE, pid, 0, (__u32)(bpf_get_current_pid_tgid() >> 32));
	return 0;
}
