/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * /dev/lymph's ioctls (lymph.ko), included unchanged by the module and by
 * lymphd.  Same rules as events.h: fixed-width fields, explicit padding
 * that callers zero, sizes asserted; command numbers never reused.
 */
#ifndef LYMPH_DEV_H
#define LYMPH_DEV_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * A binary run by a uid whose danger deaths this reader never has to act
 * on at once (lymph_death_wake()'s calm set): the exe's st_dev as the
 * records encode it, its inode, the task's real uid.
 */
struct lymph_wake_key {
	__u64 ino;
	__u32 dev;
	__u32 uid;
};
_Static_assert(sizeof(struct lymph_wake_key) == 16, "lymph_wake_key layout");

/* The order of a calm set (the module sorts it and searches it). */
static inline int lymph_wake_key_cmp(const struct lymph_wake_key *x,
				     const struct lymph_wake_key *y)
{
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return 0;
}

/* At most this many calm pairs per reader; a pair left out wakes it. */
#define LYMPH_WAKE_KEYS_MAX	4096

/* lymph_wake_set.flags */
#define LYMPH_WAKE_KEYED	(1u << 0)	/* only non-calm danger deaths are urgent */
#define LYMPH_WAKE_CALM_ALL	(1u << 1)	/* no danger death is urgent (with KEYED) */
#define LYMPH_WAKE_FLAGS	(LYMPH_WAKE_KEYED | LYMPH_WAKE_CALM_ALL)

/* lymph_wake_set.batch_ms: 0 is the module's default (its wake_batch_ms
 * parameter, LYMPH_WAKE_BATCH_MS_DEFAULT unless set), else
 * 1..LYMPH_WAKE_BATCH_MS_MAX */
#define LYMPH_WAKE_BATCH_MS_DEFAULT	250
#define LYMPH_WAKE_BATCH_MS_MAX		3600000

/*
 * LYMPH_IOC_WAKE_SET: how this reader (the open file) wants to be woken;
 * replaces what it said before, atomically (a death sees the old set or the
 * new one, whole).  After it, poll() reports the reader readable only when
 * a batch is due: an urgent record (an OOM kill, a death lymph_death_wake()
 * says is urgent for urgent_mask, flags and keys, a throttle record), the
 * ring half full, a lost record, or batch_ms after the oldest record not
 * yet due.  read() returns every record queued, due or not; a blocking
 * one that finds none waits until some are due.  Nothing is dropped for
 * batching: the ring's size bounds it as before.
 */
struct lymph_wake_set {
	__u64 keys;		/* user address of nr struct lymph_wake_key */
	__u32 nr;		/* 0..LYMPH_WAKE_KEYS_MAX */
	__u32 flags;		/* LYMPH_WAKE_* */
	__u32 urgent_mask;	/* bit n: a death by signal n (1..31) may be urgent */
	__u32 batch_ms;		/* longest wait of a batched record, 0: default */
};
_Static_assert(sizeof(struct lymph_wake_set) == 24, "lymph_wake_set layout");

/*
 * LYMPH_IOC_FAMILY: the clone family (doc/lineage.md) of process pid (in
 * the caller's pid namespace), as the module's own table has it: id is
 * the family's root's tgid, as a LYMPH_EV_THROTTLE record names a
 * LYMPH_LINEAGE_FAMILY lineage, uid the real uid it was made for.
 * ESRCH: no such process; ENOENT: it belongs to no family yet (made
 * before the module and never forked since, or its real uid changed and
 * it has not forked since).  lymphd asks it to find a held family's
 * members, as it reads the BPF sensors' task storage.
 */
struct lymph_family {
	__u32 pid;		/* in */
	__u32 id;		/* out */
	__u32 uid;		/* out */
	__u32 pad;		/* zero */
};
_Static_assert(sizeof(struct lymph_family) == 16, "lymph_family layout");

/*
 * LYMPH_IOC_PIN: fd is a cgroup's pids.max, open for writing, that this
 * reader (lymphd) has just pinned at 0 to hold a family.  The module keeps
 * a reference to the file and, when this reader's /dev/lymph is released
 * (lymphd exits, however it exits), writes "max" into it: a dead lymphd
 * never leaves a family pinned.  LYMPH_IOC_UNPIN: lymphd lifted that pin
 * itself; the module forgets it (fd: any open of the same file) without
 * writing.  At most LYMPH_PINS_MAX per reader (ENOSPC beyond); EINVAL for
 * a file that is not a cgroup's pids.max open for writing; ENOENT for an
 * unpin of a file this reader did not pin.
 */
struct lymph_pin {
	__s32 fd;
	__u32 pad;		/* zero */
};
_Static_assert(sizeof(struct lymph_pin) == 8, "lymph_pin layout");

#define LYMPH_PINS_MAX		64

/*
 * LYMPH_IOC_PIN_LINEAGE: LYMPH_IOC_PIN, naming the lineage the pin holds
 * (kind LYMPH_LINEAGE_FAMILY or LYMPH_LINEAGE_UID, id as a
 * LYMPH_EV_THROTTLE record names it; EINVAL for another kind).  Until this
 * reader unpins that file (LYMPH_IOC_UNPIN) or is released, the module
 * keeps the lineage's held members stopped past their dead time (a member
 * continued would only spin on refused forks in the pinned cgroup); it
 * continues them then, at once, except a process that someone else
 * stopped meanwhile (an administrator's stop is never undone).
 */
struct lymph_pin_lineage {
	__s32 fd;
	__u32 kind;		/* LYMPH_LINEAGE_* */
	__u64 id;
};
_Static_assert(sizeof(struct lymph_pin_lineage) == 16, "lymph_pin_lineage layout");

/*
 * LYMPH_IOC_PINNER: this reader pins what the module holds (on 1: lymphd
 * in enforce mode with a pids controller) or no longer (on 0).  While such
 * a reader is open, a held lineage that is not pinned yet is not let go at
 * its first dead time's end: its members wait for the pin
 * (LYMPH_IOC_PIN_LINEAGE), at most dead_time_max_ms from their hold, so a
 * reader that never pins cannot keep them stopped for longer.
 */
struct lymph_pinner {
	__u32 on;
	__u32 pad;		/* zero */
};
_Static_assert(sizeof(struct lymph_pinner) == 8, "lymph_pinner layout");

/*
 * LYMPH_IOC_LIFT: continue now what the module holds of a lineage (kind
 * LYMPH_LINEAGE_FAMILY or LYMPH_LINEAGE_UID, id; EINVAL for another kind),
 * an administrator's stop excepted: lymphd lifts its hold while the pin
 * stays, to see whether the lineage is calm.  A member that forks again
 * is refused by the pin, charged and held again (and parked, pinned).
 */
struct lymph_lift {
	__u32 kind;		/* LYMPH_LINEAGE_* */
	__u32 pad;		/* zero */
	__u64 id;
};
_Static_assert(sizeof(struct lymph_lift) == 16, "lymph_lift layout");

#define LYMPH_IOC_MAGIC		0xb7
#define LYMPH_IOC_WAKE_SET	_IOW(LYMPH_IOC_MAGIC, 1, struct lymph_wake_set)
#define LYMPH_IOC_FAMILY	_IOWR(LYMPH_IOC_MAGIC, 2, struct lymph_family)
#define LYMPH_IOC_PIN		_IOW(LYMPH_IOC_MAGIC, 3, struct lymph_pin)
#define LYMPH_IOC_UNPIN		_IOW(LYMPH_IOC_MAGIC, 4, struct lymph_pin)
#define LYMPH_IOC_PIN_LINEAGE	_IOW(LYMPH_IOC_MAGIC, 5, struct lymph_pin_lineage)
#define LYMPH_IOC_PINNER	_IOW(LYMPH_IOC_MAGIC, 6, struct lymph_pinner)
#define LYMPH_IOC_LIFT		_IOW(LYMPH_IOC_MAGIC, 7, struct lymph_lift)

#endif /* LYMPH_DEV_H */
