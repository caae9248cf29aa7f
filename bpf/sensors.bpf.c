// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymph BPF sensors: record deaths, fatal signals, execs, forks and OOM
 * victims into one ring buffer in the format of include/lymph/events.h.
 *
 * Cost model (measured on the development hosts): a probe costs < 0.1 us,
 * a ring-buffer wakeup ~20 us.  So only urgent records wake lymphd at
 * once: OOM victims, and the deaths lymphd may have to act on now (see
 * death_urgent()); bulk records (fork, exec, normal exits, fatal signals,
 * the other deaths) are submitted without a wakeup and drained by lymphd
 * at a fill mark or on its short timer.
 *
 * Every task this file reads comes typed from BTF (a tp_btf argument,
 * bpf_get_current_task_btf(), the task iterator, bpf_task_from_pid()),
 * so a field is read by a direct load (ro(task)->real_parent->tgid;
 * ro(), because the verifier checks a load from a trusted task slowly):
 * CO-RE relocated by vmlinux.h's preserve_access_index, fault-safe (a
 * load through a NULL or bad pointer gives 0), a few instructions where a
 * BPF_CORE_READ() hop is a bpf_probe_read_kernel() call each (tens of
 * instructions: most of what the fork and exit probes ran went to them,
 * doc/performance.md ²²).  Only a variable index (sighand->action[sig - 1]), strings of
 * unknown length (bprm->filename) and signal_generate's siginfo still go
 * through a read helper: that argument may be SEND_SIG_PRIV (1), and
 * kernels that know it (6.12.117 does) type it as a number, not a
 * pointer (the verifier refuses a load through it).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lymph/events.h"
#include "lymph/danger.h"
#include "lymph/ring_wake.h"
#include "sensors.h"

char LICENSE[] SEC("license") = "GPL";

/* Linux 6.13+: signal another task than current (the new child). */
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type,
				__u64 value) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;
/* Linux 6.7+: walk every process (open-coded task iterator). */
extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task,
			     unsigned int flags) __ksym __weak;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __ksym __weak;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __ksym __weak;
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) (!!(sym))	/* libbpf < 1.2 */
#endif
/* Linux 6.2+: the same pointer, typed for reading only (see ro()). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Set by lymphd through skel->rodata before load. */
const volatile __u64 wake_mark_bytes = 256 * 1024;
const volatile __u32 urgent_death_mask = LYMPH_URGENT_SIGNALS_DEFAULT;
const volatile __u8 want_fork = 1;
const volatile __u8 want_exec = 1;
const volatile __u8 want_normal_exit = 1;
/* 1: lymphd says which deaths it acts on (wake_calm_all, calm_keys);
 * 0: every death by a signal of urgent_death_mask wakes it. */
const volatile __u8 wake_keyed = 0;

/* Set by lymphd at run time (mmapped .bss): 1 when no danger death can
 * start an action at once (no [quarantine]): they are all batched. */
volatile __u32 wake_calm_all;
/* Set by lymphd (mmapped .bss) while it sleeps a second between drains
 * (userspace/policy/tickpace.h): the next record of any kind wakes it and
 * clears this, so the next ones are batched again. */
volatile __u32 lymphd_dozing;
/* Set by lymphd (mmapped .bss) while nothing it feeds shows fork records
 * (its output, its log, a follower of lymphctl events): a fork is then
 * only counted (forks_seen), not recorded, and leaves the ring to the
 * records lymphd acts on. */
volatile __u32 fork_records_off;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);	/* resized by lymphd before load */
} events SEC(".maps");

/* Records lost because the ring was full, per CPU; lymphd sums and reports. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Processes made (forks), per CPU, recorded or not: lymphd's count and the
 * weather's fork rate come from these sums. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} forks_seen SEC(".maps");

/*
 * The fatal signal last generated for a thread group, kept until the group
 * dies, so that the death record can say who killed it and how.  LRU: a
 * signal that stays blocked forever must not pin an entry.
 */
struct pending {
	__u64 fault_addr;
	__u64 exe_ino;		/* the target's binary, while its mm still exists */
	__u32 exe_dev;
	__u32 signo;
	__s32 si_code;
	__u32 sender_pid;
	__u32 sender_uid;
	__u32 flags;		/* LYMPH_DEATH_SELF | LYMPH_DEATH_OOM */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);		/* tgid */
	__type(value, struct pending);
} pending_sig SEC(".maps");

/* Throttle: settings (one entry), a bucket per lineage, and who is never held. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct throttle_cfg);
} throttle_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct lineage_key);
	__type(value, struct throttle_bucket);
} buckets SEC(".maps");

/*
 * The buckets of the lineages the probes stopped (held), until lymphd ends
 * the episode (it forgets the lineage then): a hash, not an LRU, so that a
 * flood of fresh lineages (sessions, cgroups) cannot evict a hold and give
 * the held lineage a fresh bucket.  Bounded: when it is full, a new hold
 * stays in buckets, as before it existed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lineage_key);
	__type(value, struct throttle_bucket);
} held SEC(".maps");

/*
 * The refused-fork probe (refused_clone and the others, or on_sys_exit
 * where the kernel lacks those) costs every system call of the host while
 * it is attached (a syscall tracepoint sends every system call through
 * the kernel's slow path; on_sys_exit runs a BPF program at each), so
 * lymphd attaches it only while a refused fork can matter, and the probes
 * say when (refusals_arm):
 * refusal_until_ns, pushed forward while a lineage or uid grows towards
 * its budget or is held; refusal_asked, one wakeup asked of lymphd;
 * refusal_attached, set and cleared by lymphd.  .bss, mmapped by lymphd.
 */
volatile __u64 refusal_until_ns;
volatile __u32 refusal_asked;
volatile __u32 refusal_attached;
/* Set by lymphd: the end of its sample of refused forks (on a busy or
 * crowded CPU).  During it, a refusal that leaves a lineage (or uid) more
 * than one token short of full arms the probe (bucket_near_budget). */
volatile __u64 refusal_sample_until_ns;

/* One record per request to attach: lymphd attaches the probe. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} arm_events SEC(".maps");

/* What each live task (process or thread, by tid) was charged to at its
 * creation, so that its exit gives the token back to the same buckets:
 * the few whose task storage (families, struct family's charge, where
 * the others' is kept) could not be had at their fork.  charges_in_map:
 * how many were put here and not taken yet; the exits look here only
 * while it is not 0. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);		/* tid */
	__type(value, struct charge);
} charged SEC(".maps");
volatile __s32 charges_in_map;

/*
 * Fork calls in flight, charged at their call (charged_at_call, at the
 * entry of kernel_clone, where the refused-fork probe is on fexit), by the
 * calling thread: until the task is made (the charge becomes the child's)
 * or the call returns without one (given back, but for a refusal), as
 * lymph.ko charges them (kmod/lineage.c, lymph_calls).  calls_charged:
 * set by lymphd once that program is attached.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);		/* tid */
	__type(value, struct charge);
} calls SEC(".maps");
volatile __u32 calls_charged;

/* Every task's clone family (sensors.h), fixed at fork. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct family);
} families SEC(".maps");

/*
 * Processes someone other than lymph stopped (SIGSTOP not sent by the
 * probes nor by lymphd), until someone other than lymphd continues them:
 * lymphd never continues these when a hold ends.  Key: tgid.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);		/* when (ns) */
} admin_stops SEC(".maps");

/*
 * Every process lymph stopped (the probes, and lymphd, which adds its own
 * stops) and has not continued, with its start time: when lymphd dies,
 * however it dies, the exit probe continues them all (on_process_exit),
 * so a dead lymphd never leaves a process stopped.  Key: tgid.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);		/* start time, clock ticks (as /proc/PID/stat) */
} lymph_stops SEC(".maps");

/*
 * How many entries lymph_stops and held have, counted by whoever adds or
 * removes one (these probes, and lymphd: source_bpf_count_stops()), so
 * that each exit and fork looks in them only while they hold something:
 * both are empty but in a storm, and a lookup in an empty 65536-bucket
 * table still costs a cache and TLB miss (on this file's fork+crash, the
 * two were an eighth of the probes' time).  An entry is added before it
 * is counted and uncounted after it is removed, so an entry never goes
 * unseen; a count left too high costs only the lookups.
 */
volatile __s32 stops_kept;
volatile __s32 held_kept;

/*
 * A task to read fields from, not to pass to a helper: the same pointer,
 * marked untrusted.  A pointer loaded from a trusted task (a tp_btf
 * argument, bpf_get_current_task_btf()) makes the verifier look up its
 * field in the kernel's lists of trusted and RCU fields, by names it
 * searches in vmlinux's BTF one type at a time (up to four searches of
 * ~130,000 types a load, at each state it explores): 68fcb3e's direct
 * loads took lymphd's start from 0.3 s to 2-2.5 s on Linux 6.18.  Loads
 * through an untrusted pointer skip that and stay as they were: direct
 * and fault-safe (a bad pointer reads 0).  The cast is a kfunc the
 * verifier rewrites into a register move; kernels without it (< 6.2)
 * read the trusted pointer, slower to load only.
 */
static __always_inline struct task_struct *ro(struct task_struct *t)
{
	if (!bpf_ksym_exists(bpf_rdonly_cast))
		return t;
	return bpf_rdonly_cast(t, bpf_core_type_id_kernel(struct task_struct));
}

/* A process's start in clock ticks since boot: /proc/PID/stat's field 22
 * (USER_HZ is 100), so lymphd can name the same process. */
static __always_inline __u64 start_ticks(struct task_struct *t)
{
	return ro(t)->group_leader->start_boottime / 10000000ULL;
}

/* Remember a process lymph stopped (tgid, its start_ticks()), counted. */
static __always_inline void stop_keep(__u32 tgid, __u64 start)
{
	if (!bpf_map_update_elem(&lymph_stops, &tgid, &start, BPF_NOEXIST))
		__sync_fetch_and_add(&stops_kept, 1);
	else
		bpf_map_update_elem(&lymph_stops, &tgid, &start, BPF_EXIST);
}

/* pid 1, lymphd and its ancestors (tgids); protected uids. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} protected_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} protected_uids SEC(".maps");

/*
 * Processes whose death was reported, for multi-threaded ones only: threads
 * that exit together may each see signal->live at 0 (before 6.16 the
 * tracepoint does not say which one ended the group), and only the first
 * may report.  Key: tgid and the leader's start time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} reported SEC(".maps");

/*
 * The (binary, uid) pairs whose danger deaths lymphd never acts on at once
 * (protected, root's without [quarantine] root = yes).  Filled by lymphd
 * as it meets them, emptied on reload; a pair not in it wakes lymphd.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct wake_key);
	__type(value, __u8);
} calm_keys SEC(".maps");

#define PF_KTHREAD_FLAG	0x00200000	/* include/linux/sched.h PF_KTHREAD */
#define SIGSTOP_NR	19
#define SIGCONT_NR	18
#define EAGAIN_NR	11
#define SIGNAL_STOP_STOPPED_FLAG 0x1	/* include/linux/sched/signal.h */
#define PF_EXITING_FLAG	0x00000004
#define SWEEP_GAP_NS	(10 * 1000000ULL)	/* between two sweeps of a lineage */
#define SI_USER_CODE	0
#define SI_QUEUE_CODE	(-1)
#define SI_TKILL_CODE	(-6)

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &zero);

	if (n)
		*n += 1;	/* per-CPU slot: no atomic needed */
}

static __always_inline void *reserve(__u32 size)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);

	if (!rec)
		count_drop();
	return rec;
}

/*
 * Urgent records wake lymphd now, and any record while lymphd dozes; a
 * bulk one otherwise only when it carries the unread data across a
 * multiple of the fill mark (lymph/ring_wake.h).
 */
static __always_inline void submit(void *rec, __u32 size, int urgent)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (lymphd_dozing) {
		/* Two CPUs may both see it set: one more wakeup, no harm. */
		lymphd_dozing = 0;
		urgent = 1;
	}
	if (urgent ||
	    lymph_ring_bulk_wakes(bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA),
				  lymph_ring_footprint(size), wake_mark_bytes))
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(rec, flags);
}

/*
 * Does this death need lymphd now?  The shared rule, lymph_death_wake()
 * (lymph/danger.h, lymph.ko applies it too), with calm_keys as the calm
 * set.
 */
static __always_inline int death_urgent(const struct lymph_death *rec)
{
	struct wake_key k;

	switch (lymph_death_wake(rec, urgent_death_mask, wake_keyed, wake_calm_all)) {
	case LYMPH_WAKE_NOW:
		return 1;
	case LYMPH_WAKE_UNLESS_CALM:
		break;
	default:
		return 0;
	}
	k.ino = rec->task.exe_ino;
	k.dev = rec->task.exe_dev;
	k.uid = rec->task.uid;
	return !bpf_map_lookup_elem(&calm_keys, &k);
}

static __always_inline void fill_hdr(struct lymph_hdr *h, __u16 kind, __u16 size)
{
	h->kind = kind;
	h->size = size;
	h->source = LYMPH_SRC_BPF;
	h->pad[0] = h->pad[1] = h->pad[2] = 0;
	h->ts_ns = bpf_ktime_get_ns();
}

/* The kernel's new_encode_dev(): the st_dev encoding userspace sees. */
static __always_inline __u32 encode_dev(__u32 kdev)
{
	__u32 major = kdev >> 20, minor = kdev & 0xfffff;

	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/*
 * task->comm into a record: two 8-byte loads.  The kernel keeps comm NUL
 * padded to its 16 bytes (__set_task_comm: strscpy_pad); the last byte
 * is cleared all the same, so the record's comm always ends in a NUL.
 */
static __always_inline void copy_comm(__u8 *dst, struct task_struct *task)
{
	const __u64 *src = (const __u64 *)task->comm;
	__u64 *d = (__u64 *)dst;

	_Static_assert(LYMPH_COMM_LEN == 16, "comm is two words");
	d[0] = src[0];
	d[1] = src[1] & 0x00ffffffffffffffULL;	/* little-endian: byte 15 */
}

/* r: a task to read, ro() */
static __always_inline void fill_exe(struct lymph_task *t, struct task_struct *r)
{
	struct inode *inode = r->mm->exe_file->f_inode;

	if (!inode) {
		t->exe_ino = 0;
		t->exe_dev = 0;
		return;
	}
	t->exe_ino = inode->i_ino;
	t->exe_dev = encode_dev(inode->i_sb->s_dev);
}

static __always_inline void fill_task(struct lymph_task *t, struct task_struct *trusted)
{
	struct task_struct *task = ro(trusted);

	t->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	t->start_ns = task->group_leader->start_time;
	t->pid = task->tgid;
	t->tid = task->pid;
	t->ppid = task->real_parent->tgid;
	t->uid = task->real_cred->uid.val;
	/* Session id as seen from the initial pid namespace (level 0). */
	t->sid = task->signal->pids[PIDTYPE_SID]->numbers[0].nr;
	copy_comm(t->comm, task);
	fill_exe(t, task);
}

static __always_inline struct throttle_cfg *throttle_settings(void)
{
	__u32 zero = 0;
	struct throttle_cfg *c = bpf_map_lookup_elem(&throttle_cfg, &zero);

	return (c && c->enabled && c->budget) ? c : NULL;
}

/* task: a task to read, ro() */
static __always_inline void lineage_of(struct lineage_key *k, struct task_struct *task,
				       __u32 kind, __u64 family)
{
	k->kind = kind;
	k->pad = 0;
	if (kind == LYMPH_LINEAGE_CGROUP)
		k->id = task->cgroups->dfl_cgrp->kn->id;
	else if (kind == LYMPH_LINEAGE_UID)
		k->id = task->real_cred->uid.val;
	else if (kind == LYMPH_LINEAGE_FAMILY)
		k->id = family;
	else
		k->id = task->signal->pids[PIDTYPE_SID]->numbers[0].nr;
}

/* Refill at budget/s up to burst, then add delta (thousandths). */
static __always_inline void bucket_move(struct throttle_bucket *b, __u32 budget, __u32 burst,
					__u64 now, __s64 delta)
{
	__s64 cap = (__s64)burst * 1000;
	__u64 dt = now > b->last_ns ? now - b->last_ns : 0;

	/* milli-tokens per ns = budget / 1e6; cap dt to keep the product small */
	if (dt > 100000000000ULL)
		dt = 100000000000ULL;
	b->milli_tokens += (__s64)(dt * budget / 1000000);
	b->last_ns = now;
	b->milli_tokens += delta;
	if (b->milli_tokens > cap)
		b->milli_tokens = cap;
	/* Overdrawn by at most one burst: after a storm the lineage recovers
	 * in burst/budget seconds, however long the storm was. */
	if (b->milli_tokens < -cap)
		b->milli_tokens = -cap;
}

/* The bucket of k, held or not, or NULL. */
static __always_inline struct throttle_bucket *bucket_find(const struct lineage_key *k)
{
	struct throttle_bucket *b = held_kept > 0 ? bpf_map_lookup_elem(&held, k) : NULL;

	return b ? b : bpf_map_lookup_elem(&buckets, k);
}

/* The bucket of k, made full when new; NULL when the table is busy.
 * *is_held: whether it is the held one (one lookup of held, not two). */
static __always_inline struct throttle_bucket *bucket_get(struct lineage_key *k, __u32 burst,
							   __u64 now, int *is_held)
{
	struct throttle_bucket fresh = {}, *b = held_kept > 0 ? bpf_map_lookup_elem(&held, k) : NULL;

	*is_held = !!b;
	if (b)
		return b;
	b = bpf_map_lookup_elem(&buckets, k);
	if (b)
		return b;
	fresh.milli_tokens = (__s64)burst * 1000;
	fresh.last_ns = now;
	bpf_map_update_elem(&buckets, k, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&buckets, k);
}

/* Move k's bucket b into held, once the probe stops the lineage: the
 * held copy, or b when held is full (or already holds k). */
static __always_inline struct throttle_bucket *bucket_hold(const struct lineage_key *k,
							    struct throttle_bucket *b)
{
	struct throttle_bucket *h = bpf_map_lookup_elem(&held, k);

	if (h)
		return h;
	if (bpf_map_update_elem(&held, k, b, BPF_NOEXIST))
		return b;
	/* counted before b leaves buckets: a fork on another CPU meanwhile
	 * finds one or the other */
	__sync_fetch_and_add(&held_kept, 1);
	h = bpf_map_lookup_elem(&held, k);
	if (!h)
		return b;
	bpf_map_delete_elem(&buckets, k);
	return h;
}

#define ARM_NS		(2 * 1000000000ULL)	/* armed this long after the last reason */

/*
 * A refused fork can matter now: a lineage (or uid) grew by more than an
 * eighth of its burst faster than its budget refills it, or a quarter of
 * a burst of it is alive (a bomb may be at a pids cap below its burst,
 * where no successful fork overdraws it: its refusals must be charged;
 * one that grew there slower than its budget shows only in its size), or
 * it is held, or a refusal left it draining (bucket_near_budget).  Fewer
 * than a quarter of a burst spinning at a cap shows here only once it is
 * charged: lymphd samples refused forks when the CPUs are busy or under
 * pressure (source_bpf.c, kthrottle_bpf.c).  Keep the refused-fork probe
 * attached ARM_NS more, and ask lymphd to attach it if it is not (one
 * record, with a wakeup).
 */
static __always_inline void refusals_arm(__u64 now)
{
	__u64 *rec;

	/* written at most every quarter of ARM_NS: a storm's forks on every
	 * CPU would otherwise bounce this cache line */
	if (refusal_until_ns < now + ARM_NS - ARM_NS / 4)
		refusal_until_ns = now + ARM_NS;
	if (refusal_attached || refusal_asked)
		return;
	refusal_asked = 1;
	rec = bpf_ringbuf_reserve(&arm_events, sizeof(*rec), 0);
	if (!rec) {
		refusal_asked = 0;
		return;
	}
	*rec = now;
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/*
 * Is bucket b near its budget?  For a new task (refused 0): a lineage (or
 * uid) an eighth of a burst short of full, or a quarter of a burst of it
 * alive.  For a refused fork (refused 1; charged only while the probe is
 * attached): two tokens short of full, so that a family refusing faster
 * than its budget refills keeps the probe attached while it drains, from
 * budget + 1/2 a second on (two tokens in ARM_NS), and is held like any
 * bomb, as lymph.ko holds it (it charges every refusal); a family refused
 * below its budget refills between refusals, stays a token short at most
 * and arms nothing, so the probe goes ARM_NS after its last reason.
 * sampling (lymphd's sample, a refused fork too): more than one token
 * short, i.e. refused before the last charge was refilled.  Two tokens
 * net need budget + 40 refusals a second in a 50 ms sample; one is passed
 * at the second refusal of a family refusing faster than its budget, at
 * any rate over it (two refusals within the sample: from ~20 a second),
 * and a spinner below its budget leaves the bucket full at each refusal.
 */
static __always_inline int bucket_near_budget(const struct throttle_bucket *b, __u32 burst,
					      int refused, int sampling)
{
	__s64 mark = burst / 8 ? burst / 8 : 1;

	if (refused && mark > 2)
		mark = 2;
	if (sampling) {
		/* strictly more than one token short: a bucket full before
		 * the refusal is left exactly one short */
		if (b->milli_tokens < ((__s64)burst - 1) * 1000)
			return 1;
	}
	return b->milli_tokens < ((__s64)burst - mark) * 1000 || b->live * 4 >= (__s64)burst;
}

/* Who makes a new family for each child: pid 1 (every service), kernel
 * threads, and lymphd (the services it starts) with its ancestors. */
static __always_inline int family_boundary(struct task_struct *t)
{
	__u32 tgid = t->tgid;

	return tgid <= 1 || (t->flags & PF_KTHREAD_FLAG) ||
	       bpf_map_lookup_elem(&protected_tgids, &tgid);
}

static __always_inline __u32 real_uid(struct task_struct *t)
{
	return ro(t)->real_cred->uid.val;
}

/* A task that predates the sensors: its topmost ancestor of the same real
 * uid below a boundary, which all its relatives of that time find alike. */
static __always_inline __u64 family_root_of(struct task_struct *t)
{
	__u64 id = t->tgid;
	__u32 uid = real_uid(t);
	struct task_struct *p = ro(t);
	int i;

	for (i = 0; i < 32; i++) {
		p = p->real_parent;
		if (!p || family_boundary(p) || real_uid(p) != uid)
			break;
		id = p->tgid;
	}
	return id;
}

/*
 * The family of a trusted task (current, a probe's argument), 0 when its
 * storage cannot be had.  A task whose real uid is no longer its family's
 * crossed a privileged boundary (a login, su, sudo, a cron job, a service
 * dropping to its user; an unprivileged process cannot change its real
 * uid): it roots a new family, for itself and what it makes from now on.
 */
static __always_inline __u64 family_of(struct task_struct *t)
{
	struct family *f = bpf_task_storage_get(&families, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	__u32 uid = real_uid(t);

	if (!f)
		return 0;
	if (!f->id) {
		f->id = family_boundary(t) ? t->tgid : family_root_of(t);
		f->uid = uid;
	} else if (f->uid != uid) {
		f->id = t->tgid;
		f->uid = uid;
	}
	return f->id;
}

/* Fix the child's family at its fork: a new one under a boundary (boundary:
 * family_boundary(parent)), the parent's otherwise.  Returns the child's
 * family, and its storage in *cfp (NULL when it could not be had). */
static __always_inline __u64 family_fork(struct task_struct *parent, struct task_struct *child,
					 int boundary, struct family **cfp)
{
	struct family *cf;
	__u64 id;

	if (boundary)
		id = child->tgid;
	else
		id = family_of(parent);
	cf = bpf_task_storage_get(&families, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (cf) {
		cf->id = id;
		cf->uid = real_uid(child);
	}
	*cfp = cf;
	return id;
}

/* Keep what a new task (tid, storage cf) was charged, for its exit. */
static __always_inline void charge_keep(struct family *cf, __u32 tid, const struct charge *ch)
{
	if (cf) {
		cf->charge = *ch;
	} else if (!bpf_map_update_elem(&charged, &tid, ch, BPF_ANY)) {
		__sync_fetch_and_add(&charges_in_map, 1);
	}
}

SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal_generate, int sig, struct kernel_siginfo *info,
	     struct task_struct *task, int group, int result)
{
	struct task_struct *cur = (void *)bpf_get_current_task_btf(), *r;
	struct pending p = {};
	struct lymph_signal *rec;
	__u32 tgid;
	int handled;

	/* 0. A stop or continue sent by a process (kill(2), tgkill(2),
	 *    sigqueue(3): si_code <= 0) other than lymphd is an
	 *    administrator's: remembered, so a hold's end never undoes it.
	 *    The probes' own signals are the kernel's (SEND_SIG_PRIV, or
	 *    si_code SI_KERNEL for bpf_send_signal_task). */
	if (sig == SIGSTOP_NR || sig == SIGCONT_NR) {
		struct throttle_cfg *c = throttle_settings();
		__u32 sender = cur->tgid;
		__u64 now = bpf_ktime_get_ns();

		if (!c || (unsigned long)info == 1 || sender == c->daemon_tgid ||
		    (result != 0 && result != 2 && result != 4))
			return 0;
		if ((unsigned long)info != 0 && BPF_CORE_READ(info, si_code) > 0)
			return 0;
		tgid = task->tgid;
		if (sig == SIGSTOP_NR)
			bpf_map_update_elem(&admin_stops, &tgid, &now, BPF_ANY);
		else
			bpf_map_delete_elem(&admin_stops, &tgid);
		return 0;
	}
	/* 1. Only signals whose default action ends the process. */
	if (sig <= 0 || sig > 64 || (sig < 32 && !((LYMPH_FATAL_SIGNALS >> sig) & 1)))
		return 0;
	/* 2. Only when delivered (0) or delivered without its info (4). */
	if (result != 0 && result != 4)
		return 0;
	/* 3. A handled or ignored signal does not kill (SIGKILL always does):
	 *    no pending death.  A crash signal caught by a handler is still
	 *    reported below when another process sent it: a crash handler
	 *    that re-raises it must not turn that kill into a danger death
	 *    (lymphd correlates the two). */
	r = ro(task);
	handled = 0;
	if (sig != LYMPH_SIGKILL) {
		/* a variable index: no direct load there (the verifier takes
		 * none at a variable offset), one read; sig is 1-64 here, the
		 * mask tells the verifier so */
		struct sighand_struct *sh = r->sighand;
		__u32 i = (__u32)(sig - 1) & 63;
		void *handler = NULL;

		bpf_probe_read_kernel(&handler, sizeof(handler), &sh->action[i].sa.sa_handler);
		handled = handler != NULL;
	}
	if (handled && !lymph_crash_signal(sig))
		return 0;

	/* 4. Who sent it: SEND_SIG_NOINFO (0) is a user kill from current,
	 *    SEND_SIG_PRIV (1) the kernel; otherwise read the siginfo. */
	tgid = task->tgid;
	p.signo = sig;
	if ((unsigned long)info == 0) {
		p.si_code = SI_USER_CODE;
	} else if ((unsigned long)info == 1) {
		p.si_code = 0x80;	/* SI_KERNEL */
	} else {
		p.si_code = BPF_CORE_READ(info, si_code);
		if (lymph_fault_with_addr(sig, p.si_code))
			p.fault_addr = (__u64)BPF_CORE_READ(info, _sifields._sigfault._addr);
	}
	if (p.si_code == SI_USER_CODE || p.si_code == SI_QUEUE_CODE ||
	    p.si_code == SI_TKILL_CODE) {
		/* kill(2), sigqueue(3), tgkill(2): the sender is current. */
		p.sender_pid = cur->tgid;
		p.sender_uid = real_uid(cur);
	} else if (p.si_code <= 0) {
		p.sender_pid = BPF_CORE_READ(info, _sifields._kill._pid);
		p.sender_uid = BPF_CORE_READ(info, _sifields._kill._uid);
	}
	if (p.si_code <= 0 && p.sender_pid == tgid)
		p.flags |= LYMPH_DEATH_SELF;

	/* 5. Remember the target's binary while its mm still exists. */
	{
		struct inode *inode = r->mm->exe_file->f_inode;

		if (inode) {
			p.exe_ino = inode->i_ino;
			p.exe_dev = encode_dev(inode->i_sb->s_dev);
		}
	}
	if (!handled) {
		struct pending *old = bpf_map_lookup_elem(&pending_sig, &tgid);

		if (old)
			p.flags |= old->flags & LYMPH_DEATH_OOM;
		bpf_map_update_elem(&pending_sig, &tgid, &p, BPF_ANY);
	}

	/* 6. A fatal signal sent by another process is an event of its own. */
	if (p.si_code > 0 || p.si_code == 0x80 || (p.flags & LYMPH_DEATH_SELF) || p.sender_pid == 0)
		return 0;
	rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;
	fill_hdr(&rec->hdr, LYMPH_EV_SIGNAL, sizeof(*rec));
	fill_task(&rec->task, task);
	rec->sender_pid = p.sender_pid;
	rec->sender_uid = p.sender_uid;
	rec->signo = sig;
	rec->si_code = p.si_code;
	copy_comm(rec->sender_comm, cur);
	submit(rec, sizeof(*rec), 0);
	return 0;
}

/*
 * lymphd is exiting, however it exits (a SIGKILL too), and its programs
 * are still attached (its files are closed after this tracepoint): every
 * process lymph stopped and did not continue is continued now, unless an
 * administrator stopped it meanwhile, so none is ever left stopped.
 */
static long release_one(struct bpf_map *map, __u32 *tgid, __u64 *start, void *ctx)
{
	struct task_struct *t;

	if (!bpf_ksym_exists(bpf_task_from_pid) || !bpf_ksym_exists(bpf_send_signal_task) ||
	    bpf_map_lookup_elem(&admin_stops, tgid))
		return 0;
	t = bpf_task_from_pid(*tgid);
	if (!t)
		return 0;
	/* the same process, not a recycled pid */
	if (start_ticks(t) == *start)
		bpf_send_signal_task(t, SIGCONT_NR, PIDTYPE_TGID, 0);
	bpf_task_release(t);
	return 0;
}

/*
 * Give back to its buckets what an attempt took (ch): a task that exits
 * (made 1: it was counted alive), or a fork call that made no task.
 */
static __always_inline void charge_give_back(struct throttle_cfg *c, const struct charge *ch,
					     int made)
{
	__u64 now = bpf_ktime_get_ns();
	struct lineage_key k = { .id = ch->family, .kind = ch->lineage_kind };
	struct throttle_bucket *b;

	if (ch->lineage_charged && (b = bucket_find(&k))) {
		bucket_move(b, c->budget, c->burst, now, 1000);
		if (made && b->live > 0)
			b->live--;
	}
	k.id = ch->uid;
	k.kind = LYMPH_LINEAGE_UID;
	if (ch->uid_charged && (b = bucket_find(&k))) {
		bucket_move(b, c->uid_budget, c->uid_burst, now, 1000);
		if (made && b->live > 0)
			b->live--;
	}
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_process_exit, struct task_struct *task)
{
	struct task_struct *r;
	struct lymph_death *rec;
	struct pending *p;
	__u32 tgid, code, sig;

	/* 1. Every task, thread or process, gives back what its creation
	 *    took from its lineage and uid buckets. */
	{
		struct family *f = bpf_task_storage_get(&families, task, 0, 0);
		struct throttle_cfg *c;
		__u32 tid = task->pid;
		struct charge *ch;

		if (f && (f->charge.lineage_charged || f->charge.uid_charged)) {
			if ((c = throttle_settings()))
				charge_give_back(c, &f->charge, 1);
			f->charge.lineage_charged = 0;
			f->charge.uid_charged = 0;
		} else if (charges_in_map > 0 && (ch = bpf_map_lookup_elem(&charged, &tid))) {
			if ((c = throttle_settings()))
				charge_give_back(c, ch, 1);
			if (!bpf_map_delete_elem(&charged, &tid))
				__sync_fetch_and_add(&charges_in_map, -1);
		}
	}

	/* 2. One record per process: only when its last thread exits. */
	r = ro(task);
	if (r->signal->live.counter != 0)
		return 0;
	if (task->flags & PF_KTHREAD_FLAG)
		return 0;
	if (r->signal->nr_threads > 1) {
		__u64 key = ((__u64)task->tgid << 32) ^ r->group_leader->start_time;
		__u8 one = 1;

		if (bpf_map_update_elem(&reported, &key, &one, BPF_NOEXIST))
			return 0;	/* another thread reported it */
	}
	tgid = task->tgid;
	/* A process lymph stopped is gone; lymphd gone: release its stops.
	 * (A lookup first: a delete takes the bucket's lock even when the
	 * map is empty, as it is but in a storm.) */
	if (stops_kept > 0 && bpf_map_lookup_elem(&lymph_stops, &tgid) &&
	    !bpf_map_delete_elem(&lymph_stops, &tgid))
		__sync_fetch_and_add(&stops_kept, -1);
	{
		struct throttle_cfg *c = throttle_settings();

		if (c && c->daemon_tgid == tgid) {
			/* no new stop between this and the programs' detach */
			c->enabled = 0;
			c->enforce = 0;
			bpf_for_each_map_elem(&lymph_stops, release_one, NULL, 0);
		}
	}
	code = task->exit_code;
	sig = code & 0x7f;
	if (!sig && !want_normal_exit && code == 0)
		return 0;

	p = bpf_map_lookup_elem(&pending_sig, &tgid);

	rec = reserve(sizeof(*rec));
	if (!rec)
		goto out;
	fill_hdr(&rec->hdr, LYMPH_EV_DEATH, sizeof(*rec));
	fill_task(&rec->task, task);
	rec->exit_code = code;
	rec->signo = sig;
	rec->age_ns = rec->hdr.ts_ns - rec->task.start_ns;
	rec->flags = (code & 0x80) ? LYMPH_DEATH_CORE : 0;
	rec->fault_addr = 0;
	rec->si_code = 0;
	rec->sender_pid = 0;
	rec->sender_uid = 0;
	if (p) {
		rec->flags |= p->flags & LYMPH_DEATH_OOM;
		/* 3. Attach how it was killed, if that is what killed it. */
		if (sig && p->signo == sig) {
			rec->flags |= LYMPH_DEATH_SIGINFO | (p->flags & LYMPH_DEATH_SELF);
			rec->si_code = p->si_code;
			rec->sender_pid = p->sender_pid;
			rec->sender_uid = p->sender_uid;
			rec->fault_addr = p->fault_addr;
		}
		/* 4. Kernels before 6.16 trace the exit after exit_mm(). */
		if (!rec->task.exe_ino) {
			rec->task.exe_ino = p->exe_ino;
			rec->task.exe_dev = p->exe_dev;
		}
	}
	submit(rec, sizeof(*rec), death_urgent(rec));
out:
	if (p)
		bpf_map_delete_elem(&pending_sig, &tgid);
	return 0;
}

/*
 * Stop every process of lineage k that runs: stopping only the task that
 * forks leaves every other member free to make one more child (or, with
 * the other CPUs, many) before its own next fork, and a bomb of N
 * running members grows by N after it crossed its budget.  Each stop is
 * remembered in lymph_stops, like the forker's, so a dead lymphd never
 * leaves one behind; a process that is stopped already (by an
 * administrator, by job control, by lymph) is left as it is.  One walk
 * over the processes (~0.1 us each), at most once per SWEEP_GAP_NS per
 * lineage.  Kernels without the task iterator or bpf_send_signal_task
 * leave the sweep to lymphd.
 */
static __always_inline void lineage_stop_all(const struct lineage_key *k)
{
	struct task_struct *t, *ref;
	struct bpf_iter_task it;

	if (!bpf_ksym_exists(bpf_iter_task_new) || !bpf_ksym_exists(bpf_send_signal_task) ||
	    !bpf_ksym_exists(bpf_task_acquire))
		return;
	bpf_iter_task_new(&it, NULL, BPF_TASK_ITER_ALL_PROCS);
	while ((t = bpf_iter_task_next(&it))) {
		struct task_struct *r = ro(t);
		struct lineage_key tk;
		struct family *f = NULL;
		__u32 tgid = t->tgid, uid = r->real_cred->uid.val;

		if (tgid <= 1 || (t->flags & (PF_KTHREAD_FLAG | PF_EXITING_FLAG)) ||
		    (r->signal->flags & SIGNAL_STOP_STOPPED_FLAG) ||
		    bpf_map_lookup_elem(&protected_tgids, &tgid) ||
		    bpf_map_lookup_elem(&protected_uids, &uid) ||
		    bpf_map_lookup_elem(&admin_stops, &tgid))
			continue;
		if (k->kind == LYMPH_LINEAGE_FAMILY) {
			/* a process made before the sensors, which never
			 * forked since, belongs to no family yet */
			f = bpf_task_storage_get(&families, t, 0, 0);
			if (!f)
				continue;
		}
		lineage_of(&tk, r, k->kind, f ? f->id : 0);
		if (tk.id != k->id)
			continue;
		/* the iterator's task is RCU-protected; the signal wants a reference */
		ref = bpf_task_acquire(t);
		if (!ref)
			continue;
		if (!bpf_send_signal_task(ref, SIGSTOP_NR, PIDTYPE_TGID, 0))
			stop_keep(tgid, start_ticks(ref));
		bpf_task_release(ref);
	}
	bpf_iter_task_destroy(&it);
}

/*
 * The fork dead time, first stage: a lineage (or a uid) that has overdrawn
 * its bucket has the task that tried to grow it stopped at once, in the
 * probe, before the storm grows; lymphd then holds the lineage in dead
 * time and continues it.  No stop without a record: the record is reserved
 * first, and when the ring is full the task is not stopped (the drop is
 * counted; the next attempt tries again), so lymphd knows every stop.
 */
static __always_inline void throttle_stop(struct throttle_cfg *c, struct task_struct *task,
					  struct lineage_key *k, struct throttle_bucket *b,
					  struct task_struct *child, __u64 now)
{
	__u32 child_pid = 0;
	struct lymph_throttle *rec;
	int stop;

	rec = reserve(sizeof(*rec));
	if (!rec)
		return;
	stop = c->enforce && bpf_send_signal(SIGSTOP_NR) == 0;
	if (stop) {
		stop_keep(task->tgid, start_ticks(task));
		/* held now: out of reach of the LRU's evictions */
		b = bucket_hold(k, b);
	}
	/* The new child too, before its first instruction: stopping only
	 * the forker leaves one running child per stop, and a bomb of N
	 * running members would go on growing by one per fork. */
	if (child) {
		child_pid = child->tgid;
		if (stop && bpf_ksym_exists(bpf_send_signal_task) &&
		    !bpf_send_signal_task(child, SIGSTOP_NR, PIDTYPE_TGID, 0))
			stop_keep(child_pid, start_ticks(child));
	}
	/* And every other member that runs (at most once per SWEEP_GAP_NS). */
	if (stop) {
		if (now - b->swept_ns >= SWEEP_GAP_NS) {
			b->swept_ns = now;
			lineage_stop_all(k);
		}
	}
	b->stops++;
	fill_hdr(&rec->hdr, LYMPH_EV_THROTTLE, sizeof(*rec));
	fill_task(&rec->task, task);
	rec->lineage_id = k->id;
	rec->lineage_kind = k->kind;
	rec->tokens = b->milli_tokens;
	rec->hold_ns = 0;
	rec->action = stop ? LYMPH_THROTTLE_STOPPED : LYMPH_THROTTLE_WOULD;
	rec->child_pid = child_pid;
	rec->pad = 0;
	/* The first stop of an episode wakes lymphd; the rest ride along. */
	submit(rec, sizeof(*rec), b->stops == 1 || (b->stops & 63) == 0);
}

/*
 * Charge one attempt to grow (a new task, or a fork refused with EAGAIN)
 * to the task's lineage and to its uid, and stop the task when either is
 * overdrawn or held (a held lineage does not grow: a member that forks,
 * outside the hold or before lymphd's walk found it, is stopped with its
 * child, and its record makes lymphd contain the lineage again).  child:
 * the new task (its exit gives the tokens back), or NULL for a refused
 * fork (nothing will give them back: time refills).  how: AT_MADE (a task
 * made, or a fork refused, not charged at its call: charged now), AT_CALL
 * (a fork call entered, child NULL: charged and kept in calls, so that a
 * call over budget stops its caller before the task is made), AT_PEEK (a
 * task made, or a fork refused, that its call charged: nothing taken,
 * judged again as the buckets are now).  screened: the caller found task
 * no family boundary (family_boundary()), which it checks again otherwise.
 * cf: the child's storage, where its charge is kept (NULL: none).
 */
enum { AT_MADE, AT_CALL, AT_PEEK };

static __always_inline void throttle_charge(struct task_struct *task, struct task_struct *child,
					    struct family *cf, __u64 family, int how, int screened)
{
	struct throttle_cfg *c = throttle_settings();
	struct throttle_bucket *b, *bu = NULL;
	struct lineage_key k, ku;
	struct charge ch = {};
	struct task_struct *r;
	__u64 now;
	__u32 uid;
	__s64 delta = how == AT_PEEK ? 0 : -1000;
	int held_l, held_u = 0, sampling, refused = !child && how != AT_CALL;

	if (!c)
		return;
	/* Never charge nor hold pid 1, lymphd, its ancestors (the family
	 * boundaries, kernel threads too), protected uids. */
	r = ro(task);
	uid = r->real_cred->uid.val;
	if ((!screened && family_boundary(task)) || bpf_map_lookup_elem(&protected_uids, &uid))
		return;
	lineage_of(&k, r, c->lineage_kind, family);
	if (!k.id && c->lineage_kind != LYMPH_LINEAGE_UID)
		return;	/* session 0 / no cgroup: kernel-started */
	now = bpf_ktime_get_ns();
	b = bucket_get(&k, c->burst, now, &held_l);
	if (!b)
		return;
	bucket_move(b, c->budget, c->burst, now, delta);
	if (child)
		b->live++;
	ch.family = k.id;
	ch.lineage_kind = k.kind;
	ch.lineage_charged = 1;
	/* The per-uid budget, the last line behind the lineage's. */
	if (c->uid_budget && c->lineage_kind != LYMPH_LINEAGE_UID) {
		ku.id = uid;
		ku.kind = LYMPH_LINEAGE_UID;
		ku.pad = 0;
		bu = bucket_get(&ku, c->uid_burst, now, &held_u);
		if (bu) {
			bucket_move(bu, c->uid_budget, c->uid_burst, now, delta);
			if (child)
				bu->live++;
			ch.uid = uid;
			ch.uid_charged = 1;
		}
	}
	if (child && how == AT_MADE) {
		charge_keep(cf, child->pid, &ch);
	} else if (how == AT_CALL) {
		__u32 tid = task->pid;

		bpf_map_update_elem(&calls, &tid, &ch, BPF_ANY);
	}
	sampling = refused && now < refusal_sample_until_ns;
	if (bucket_near_budget(b, c->burst, refused, sampling) || held_l ||
	    (bu && (bucket_near_budget(bu, c->uid_burst, refused, sampling) || held_u)))
		refusals_arm(now);
	if (b->milli_tokens < 0 || held_l)
		throttle_stop(c, task, &k, b, child, now);
	else if (bu && (bu->milli_tokens < 0 || held_u))
		throttle_stop(c, task, &ku, bu, child, now);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_process_fork, struct task_struct *parent, struct task_struct *child)
{
	struct lymph_fork *rec;
	int boundary = family_boundary(parent);
	struct family *cf;
	__u64 family = family_fork(parent, child, boundary, &cf);
	__u32 tid = parent->pid;
	struct charge *call = NULL;

	/* Threads count against the budget too (a thread bomb), and are
	 * stopped with their process; only processes get a fork record.
	 * A fork charged at its call (charged_at_call): its token goes with
	 * the child, whose exit gives it back; judged again as it is now. */
	if (calls_charged)
		call = bpf_map_lookup_elem(&calls, &tid);
	if (call) {
		charge_keep(cf, child->pid, call);
		bpf_map_delete_elem(&calls, &tid);
	}
	/* one call site: the program stays the size it was; a boundary is
	 * never charged (one lookup of protected_tgids a fork, not two) */
	if (!boundary)
		throttle_charge(parent, child, cf, family, call ? AT_PEEK : AT_MADE, 1);
	if (child->pid != child->tgid)
		return 0;
	{
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&forks_seen, &zero);

		if (n)
			*n += 1;
	}
	if (!want_fork || fork_records_off)
		return 0;
	rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;
	fill_hdr(&rec->hdr, LYMPH_EV_FORK, sizeof(*rec));
	fill_task(&rec->task, child);
	submit(rec, sizeof(*rec), 0);
	return 0;
}

/*
 * A fork refused (EAGAIN: a pids cgroup at its cap, RLIMIT_NPROC,
 * threads-max) never reaches sched_process_fork, and a bomb at its cap
 * spins on it: each refusal is charged like a fork, so a lineage spinning
 * at its cap stays overdrawn and every spinner is stopped.  Not attached
 * by the skeleton: lymphd attaches it while the probes ask for it
 * (refusals_arm), for a while after a hold ends, and for a sample when
 * the CPU is under pressure (a crowd too small for refusals_arm spinning
 * at its cap makes it), and detaches it when that time is over
 * (source_bpf.c, kthrottle_bpf.c).  This one, on raw_syscalls:sys_exit,
 * is the fallback for kernels without the per-syscall tracepoints below.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *cur;
	long nr;

	if (ret != -EAGAIN_NR)
		return 0;
	nr = regs->orig_ax;
	/* x86-64: clone, fork, vfork, clone3 */
	if (nr != 56 && nr != 57 && nr != 58 && nr != 435)
		return 0;
	cur = bpf_get_current_task_btf();
	throttle_charge(cur, NULL, NULL, family_of(cur), AT_MADE, 0);
	return 0;
}

/*
 * The same probe on the four system calls that fork only (syscalls:
 * sys_exit_clone, ...; perf tracepoint programs): while one is attached,
 * every other system call still takes the kernel's slow path, but there
 * it meets a bitmap test (perf_syscall_exit) instead of a BPF program.
 * lymphd attaches these when the kernel has them, on_sys_exit otherwise
 * (source_bpf.c).  The record's layout: tracefs
 * events/syscalls/sys_exit_clone/format.
 */
struct sc_exit_args {
	__u64 common;
	__s32 nr;
	__s32 pad;
	long ret;
};

static __always_inline int refusal_charge(long ret)
{
	struct task_struct *cur;

	if (ret != -EAGAIN_NR)
		return 0;
	cur = bpf_get_current_task_btf();
	throttle_charge(cur, NULL, NULL, family_of(cur), AT_MADE, 0);
	return 0;
}

SEC("?tracepoint/syscalls/sys_exit_clone")
int refused_clone(struct sc_exit_args *ctx)
{
	return refusal_charge(ctx->ret);
}

SEC("?tracepoint/syscalls/sys_exit_clone3")
int refused_clone3(struct sc_exit_args *ctx)
{
	return refusal_charge(ctx->ret);
}

SEC("?tracepoint/syscalls/sys_exit_fork")
int refused_fork(struct sc_exit_args *ctx)
{
	return refusal_charge(ctx->ret);
}

SEC("?tracepoint/syscalls/sys_exit_vfork")
int refused_vfork(struct sc_exit_args *ctx)
{
	return refusal_charge(ctx->ret);
}

/*
 * The same probe at the return of kernel_clone, where the four fork calls
 * go (its return: the new pid or -errno): a BPF trampoline on that one
 * function, so while it is attached no other system call pays anything,
 * and lymphd keeps it attached for good.  lymphd prefers it and falls
 * back to the ones above where the kernel refuses fentry/fexit
 * (source_bpf.c); not loaded by default ("?"), so a kernel without them
 * loads the rest.  Kernel threads also call kernel_clone (kernel_thread,
 * user_mode_thread): only user tasks' fork calls are charged.  With
 * charged_at_call attached, a call charged at its entry that made no task
 * is settled here: a refusal keeps its token and is judged, any other
 * error (a restart after a stop at the call too) gives it back.
 */
SEC("?fexit/kernel_clone")
int BPF_PROG(refused_kernel_clone, struct kernel_clone_args *args, pid_t ret)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct charge *call = NULL, ch;
	struct throttle_cfg *c;
	__u32 tid;

	if (cur->flags & PF_KTHREAD_FLAG)
		return 0;
	tid = cur->pid;
	if (calls_charged)
		call = bpf_map_lookup_elem(&calls, &tid);
	if (!call)
		return refusal_charge(ret);
	ch = *call;
	bpf_map_delete_elem(&calls, &tid);
	if (ret == -EAGAIN_NR)
		throttle_charge(cur, NULL, NULL, ch.family, AT_PEEK, 0);
	else if ((c = throttle_settings()))
		charge_give_back(c, &ch, 0);
	return 0;
}

/*
 * A fork call charged when it is entered (the entry of kernel_clone), as
 * lymph.ko charges it at sys_enter: a call over budget stops its caller
 * there, before copy_process() checks for a pending signal, so the fork is
 * restarted after the hold instead of made (charged when the task is
 * made, a bomb under load has every fork then in flight made).  Attached
 * with refused_kernel_clone, after it.  Not by a family boundary (pid 1,
 * lymphd), whose child starts a family of its own and is charged to it
 * when made.
 */
SEC("?fentry/kernel_clone")
int BPF_PROG(charged_at_call, struct kernel_clone_args *args)
{
	struct task_struct *cur = bpf_get_current_task_btf();

	if ((cur->flags & PF_KTHREAD_FLAG) || family_boundary(cur))
		return 0;
	throttle_charge(cur, NULL, NULL, family_of(cur), AT_CALL, 1);
	return 0;
}

/*
 * A member of a held lineage that moves to another cgroup leaves the
 * hold's pin: cgroup v1 checks only the destination's permissions, so
 * after a lift a continued member can move itself into a sub-cgroup of a
 * delegated cgroup and fork there.  It is stopped at the move, before it
 * returns to user space, and the record makes lymphd pin the lineage
 * again (moving it back into the hold).  Held: the probe stopped the
 * lineage (or its uid) and lymphd has not ended the episode yet (it
 * forgets the bucket then).  Moves made by lymphd (the pin, the end of
 * the episode) and processes stopped already are left alone; the stop is
 * remembered in lymph_stops like the others.
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(on_cgroup_attach, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct throttle_cfg *c = throttle_settings();
	struct throttle_bucket *b = NULL;
	struct lineage_key k;
	struct lymph_throttle *rec;
	struct family *f = NULL;
	__u32 tgid, uid;
	int stop = 0;

	if (!c || !c->enabled || !c->enforce || (__u32)cur->tgid == c->daemon_tgid)
		return 0;
	tgid = task->tgid;
	uid = real_uid(task);
	if (tgid <= 1 || (task->flags & (PF_KTHREAD_FLAG | PF_EXITING_FLAG)) ||
	    bpf_map_lookup_elem(&protected_tgids, &tgid) ||
	    bpf_map_lookup_elem(&protected_uids, &uid) ||
	    bpf_map_lookup_elem(&admin_stops, &tgid))
		return 0;
	if (c->lineage_kind == LYMPH_LINEAGE_FAMILY) {
		/* a task that never forked nor was made since the sensors
		 * started is in no family, hence in no hold */
		f = bpf_task_storage_get(&families, task, 0, 0);
		if (!f)
			return 0;
	}
	lineage_of(&k, ro(task), c->lineage_kind, f ? f->id : 0);
	b = bucket_find(&k);
	if ((!b || !b->stops) && c->uid_budget && c->lineage_kind != LYMPH_LINEAGE_UID) {
		k.id = uid;
		k.kind = LYMPH_LINEAGE_UID;
		k.pad = 0;
		b = bucket_find(&k);
	}
	if (!b || !b->stops)
		return 0;
	rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;	/* no stop without a record */
	if (ro(task)->signal->flags & SIGNAL_STOP_STOPPED_FLAG)
		stop = 0;	/* stopped already: lymphd moves it back */
	else if (task == cur)
		stop = bpf_send_signal(SIGSTOP_NR) == 0;
	else if (bpf_ksym_exists(bpf_send_signal_task))
		stop = bpf_send_signal_task(task, SIGSTOP_NR, PIDTYPE_TGID, 0) == 0;
	if (stop)
		stop_keep(tgid, start_ticks(task));
	b->stops++;
	fill_hdr(&rec->hdr, LYMPH_EV_THROTTLE, sizeof(*rec));
	fill_task(&rec->task, task);
	rec->lineage_id = k.id;
	rec->lineage_kind = k.kind;
	rec->tokens = b->milli_tokens;
	rec->hold_ns = 0;
	rec->action = LYMPH_THROTTLE_STOPPED;
	rec->child_pid = 0;
	rec->pad = 0;
	submit(rec, sizeof(*rec), 1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct lymph_exec *rec;

	if (!want_exec)
		return 0;
	rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;
	fill_hdr(&rec->hdr, LYMPH_EV_EXEC, sizeof(*rec));
	fill_task(&rec->task, task);
	if (bpf_probe_read_kernel_str(rec->path, sizeof(rec->path),
				      bprm->filename) < 0)
		rec->path[0] = 0;
	submit(rec, sizeof(*rec), 0);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(on_mark_victim, struct task_struct *task)
{
	struct pending zero = {}, *p;
	struct lymph_oom *rec;
	__u32 tgid = task->tgid;

	/* Remember it, so the death that follows is classed as an OOM kill. */
	bpf_map_update_elem(&pending_sig, &tgid, &zero, BPF_NOEXIST);
	p = bpf_map_lookup_elem(&pending_sig, &tgid);
	if (p)
		p->flags |= LYMPH_DEATH_OOM;

	rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;
	fill_hdr(&rec->hdr, LYMPH_EV_OOM, sizeof(*rec));
	fill_task(&rec->task, task);
	rec->oom_score_adj = ro(task)->signal->oom_score_adj;
	rec->pad = 0;
	submit(rec, sizeof(*rec), 1);
	return 0;
}

/*
 * Not used by lymphd: what charging a fork at its call (as lymph.ko does,
 * on raw_syscalls:sys_enter) would cost the BPF path if these stayed
 * attached, measured by bench/overhead ("fork calls" rows): the work of
 * the charge's first steps (the settings, the caller's family), on the
 * four fork calls' own tracepoints.
 */
static __always_inline int call_probe(void)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct throttle_cfg *c = throttle_settings();

	if (!c || !c->enabled)
		return 0;
	return family_of(cur) == 1;
}

SEC("?tracepoint/syscalls/sys_enter_clone")
int call_clone(void *ctx)
{
	return call_probe();
}

SEC("?tracepoint/syscalls/sys_enter_clone3")
int call_clone3(void *ctx)
{
	return call_probe();
}

SEC("?tracepoint/syscalls/sys_enter_fork")
int call_fork(void *ctx)
{
	return call_probe();
}

SEC("?tracepoint/syscalls/sys_enter_vfork")
int call_vfork(void *ctx)
{
	return call_probe();
}
