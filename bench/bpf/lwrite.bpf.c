// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/latency's probe on lymphd's stdout: when lymphd last entered
 * write(2) on fd 1 (its JSON lines), so that the bench can split lymphd's
 * delivery (probe -> lymphd writes the line) from its own reader's
 * wakeup (lymphd writes -> the bench reads).  Slot 0: lymphd's tgid, set
 * by the bench for each lymphd it starts; slot 1: the time, ns
 * (CLOCK_MONOTONIC, as the records' ts_ns).  On the raw sys_enter
 * tracepoint (BTF): it needs no tracefs, where a host may have none
 * mounted (syscalls:sys_enter_write is found through tracefs).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define NR_WRITE 1 /* x86_64 */

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} lw SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(on_write, struct pt_regs *regs, long id)
{
	__u32 k0 = 0, k1 = 1;
	__u64 *tgid, *at;

	if (id != NR_WRITE)
		return 0;
	tgid = bpf_map_lookup_elem(&lw, &k0);
	at = bpf_map_lookup_elem(&lw, &k1);
	/* 1. Only lymphd's writes to its stdout. */
	if (!tgid || !at || *tgid != bpf_get_current_pid_tgid() >> 32 || BPF_CORE_READ(regs, di) != 1)
		return 0;
	/* 2. When. */
	*at = bpf_ktime_get_ns();
	return 0;
}
