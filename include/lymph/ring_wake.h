/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * When a record that lymphd need not see at once (a bulk record: a fork,
 * an exec, a calm death) wakes lymphd anyway: the rule, written once for
 * the BPF sensors (bpf/sensors.bpf.c) and bench/throughput's producer
 * (bench/bpf/replay.bpf.c), and unit-tested (tests/ring_wake_test.c).
 *
 * A wakeup costs ~20 us against < 0.1 us for a record, so bulk records
 * are submitted without one and lymphd drains them on its timer, unless
 * the unread data grows past a fill mark (ring size / 8): then lymphd must
 * drain before the ring is full and records are lost.  Every record past
 * the mark waking lymphd would cost a wakeup each while lymphd is behind.
 * Only the record that crosses the mark waking it (the rule from
 * 2026-11-27 to 2026-12-01) had two faults: it counted a record's size,
 * not its room in the ring, so a record whose 8-byte header lay across
 * the mark woke nobody (~4 % of crossings with lymph's records), and a
 * crossing missed so, or a wakeup that came to nothing, left lymphd
 * asleep until its timer while the ring filled.  So each further mark's
 * worth of unread data asks again: the record that carries the unread
 * data across a multiple of the mark wakes lymphd, at most 8 wakeups per
 * ring's worth of records.
 *
 * Apart from this rule, while lymphd dozes (its timer at a second while
 * nothing comes, userspace/policy/tickpace.h) the sensors wake it for the
 * next record of any kind, once (the doze flag it takes).
 *
 * Pure: no kernel or libc calls.
 */
#ifndef LYMPH_RING_WAKE_H
#define LYMPH_RING_WAKE_H

#if defined(__KERNEL__)
#include <linux/types.h>
#elif !defined(__VMLINUX_H__)
#include <linux/types.h>
#endif

/* The header a BPF ring buffer puts before each record (BPF_RINGBUF_HDR_SZ). */
#define LYMPH_RINGBUF_HDR_BYTES 8

/*
 * The room a record of `size` bytes takes in a BPF ring buffer: its header
 * and the record, rounded up to 8 bytes, as bpf_ringbuf_reserve() advances
 * the producer position (not `size` alone: counted so, a record whose
 * header straddled the mark woke nobody).
 */
static inline __u64 lymph_ring_footprint(__u64 size)
{
	return (size + LYMPH_RINGBUF_HDR_BYTES + 7) & ~7ULL;
}

/*
 * Does a bulk record wake the reader?  avail: the unread bytes once this
 * record is reserved (bpf_ringbuf_query(BPF_RB_AVAIL_DATA), this record
 * included); footprint: its room (lymph_ring_footprint()); mark: the fill
 * mark, bytes (0: never).  True when, with this record, the unread data
 * reached or passed a multiple of the mark it was below without it.
 */
static inline int lymph_ring_bulk_wakes(__u64 avail, __u64 footprint, __u64 mark)
{
	if (!mark || avail < mark)
		return 0;
	if (footprint > avail) /* the reader consumed meanwhile: this one crossed */
		return 1;
	return avail / mark != (avail - footprint) / mark;
}

#endif /* LYMPH_RING_WAKE_H */
