// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/throughput's producer: writes copies of real lymph records into
 * lymphd's own ring, the way bpf/sensors.bpf.c does (reserve, copy, submit
 * without a wakeup until the fill mark; a failed reserve counts in lymphd's
 * drop counter), so lymphd drains them through its ordinary path and
 * reports any loss itself.  The bench replaces both maps with lymphd's
 * (bpf_map__reuse_fd) and runs the program with BPF_PROG_TEST_RUN, one
 * batch of records per call: no tracepoint is touched, nothing else on the
 * host is slowed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lymph/events.h"
#include "lymph/ring_wake.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Set before load.  wake_mark_bytes: lymphd's fill mark (ring size / 8).
 * wake_on_crossing 1: as the sensors do (lymph/ring_wake.h), the record
 * that carries the unread data across a multiple of the mark wakes the
 * reader; 0: every record submitted
 * while the ring holds more than the mark does (the sensors' rule before,
 * kept as the reference).  One struct,
 * so that it is all of .rodata at offset 0 for the bench to set.
 */
const volatile struct {
	__u64 wake_mark_bytes;
	__u64 wake_on_crossing;
} cfg = { 1 << 20, 0 };

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);	/* replaced by lymphd's ring */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");	/* replaced by lymphd's drop counter */

/* The records to replay, captured from the real sensors: 0 fork, 1 exec,
 * 2 death, in the order one fork + exec + exit produces them. */
struct tmpl {
	__u8 b[LYMPH_RECORD_MAX];
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct tmpl);
} tmpl SEC(".maps");

/* BPF_PROG_TEST_RUN's ctx: in, how many records; out, how many went in. */
struct replay_args {
	__u32 n;
	__u32 seq;	/* running count, varies the pid */
	__u32 submitted;
	__u32 failed;
};

static void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
}

/* size: the record's room in the ring, its 8-byte header included */
static void submit(void *rec, __u64 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);	/* this record included */
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (cfg.wake_on_crossing ? lymph_ring_bulk_wakes(avail, size, cfg.wake_mark_bytes)
				 : avail >= cfg.wake_mark_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(rec, flags);
}

/* Copy one template of a constant size: the verifier wants reserve sizes
 * known at load time. */
#define EMIT(type, t, a)						\
	({								\
		type *r = bpf_ringbuf_reserve(&events, sizeof(type), 0);	\
		if (r) {						\
			__builtin_memcpy(r, (t), sizeof(type));		\
			r->hdr.ts_ns = bpf_ktime_get_ns();		\
			r->task.pid += (a)->seq / 3;			\
			r->task.tid = r->task.pid;			\
			submit(r, lymph_ring_footprint(sizeof(type)));	\
		}							\
		r != 0;							\
	})

static long emit_one(__u32 i, struct replay_args *a)
{
	__u32 k = a->seq % 3;
	struct tmpl *t = bpf_map_lookup_elem(&tmpl, &k);
	int ok;

	if (!t)
		return 1;
	if (k == 0)
		ok = EMIT(struct lymph_fork, t->b, a);
	else if (k == 1)
		ok = EMIT(struct lymph_exec, t->b, a);
	else
		ok = EMIT(struct lymph_death, t->b, a);
	if (ok) {
		a->submitted++;
	} else {
		a->failed++;
		count_drop();
	}
	a->seq++;
	return 0;
}

SEC("syscall")
int replay(struct replay_args *ctx)
{
	struct replay_args a = { .n = ctx->n, .seq = ctx->seq };

	bpf_loop(a.n, emit_one, &a, 0);
	ctx->seq = a.seq;
	ctx->submitted = a.submitted;
	ctx->failed = a.failed;
	return 0;
}
