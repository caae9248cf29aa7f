// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/lymph: every open file is a reader with its own ring of records,
 * in the manner of drivers/input/evdev.c.  Producers (tracepoint probes,
 * possibly in interrupt context) copy a record into each reader's ring
 * under that reader's spinlock; read() moves whole records into a
 * per-reader bounce buffer under the lock and copies them to userspace
 * after dropping it.  A record that does not fit is counted, and the count
 * reaches the reader as an explicit LYMPH_EV_DROP record.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include "lymph.h"

/* read() hands out at most this many bytes of records per pass. */
#define LYMPH_BOUNCE_BYTES	(8 * LYMPH_RECORD_MAX)

struct lymph_reader {
	struct list_head node;		/* in lymph_readers, RCU-protected */
	spinlock_t lock;		/* head, tail, lost and the ring bytes */
	u32 head, tail;			/* free-running byte counts, tail <= head */
	u64 lost;			/* records lost since the last drop record */
	u8 *ring;			/* lymph_ring_bytes, a power of two */
	struct mutex read_mutex;	/* one read() at a time owns bounce */
	u8 *bounce;
	pid_t tgid;			/* the opener, never throttled */
};

static LIST_HEAD(lymph_readers);
static DEFINE_SPINLOCK(lymph_readers_lock);	/* writers of lymph_readers */
static DECLARE_WAIT_QUEUE_HEAD(lymph_wait);	/* readers waiting for data */
static DECLARE_WAIT_QUEUE_HEAD(lymph_gone_wait);	/* unload waits for closes */
static atomic_t lymph_nr_open = ATOMIC_INIT(0);
static bool lymph_dead;				/* set once, at unload */
static u32 lymph_ring_bytes;
/* Wakes readers for bulk records, at most once per jiffy. */
static struct timer_list lymph_wake_timer;

atomic64_t lymph_events[LYMPH_EV_KIND_MAX];
atomic64_t lymph_ring_drops;

static u32 ring_used(const struct lymph_reader *r)
{
	return r->head - r->tail;
}

static void ring_put(struct lymph_reader *r, const void *src, u32 len)
{
	u32 off = r->head & (lymph_ring_bytes - 1);
	u32 n = min(len, lymph_ring_bytes - off);

	memcpy(r->ring + off, src, n);
	memcpy(r->ring, src + n, len - n);
	r->head += len;
}

static void ring_get(struct lymph_reader *r, void *dst, u32 len)
{
	u32 off = r->tail & (lymph_ring_bytes - 1);
	u32 n = min(len, lymph_ring_bytes - off);

	memcpy(dst, r->ring + off, n);
	memcpy(dst + n, r->ring, len - n);
}

static void make_drop(struct lymph_drop *d, u64 lost)
{
	memset(d, 0, sizeof(*d));
	d->hdr.kind = LYMPH_EV_DROP;
	d->hdr.size = sizeof(*d);
	d->hdr.source = LYMPH_SRC_KMOD;
	d->hdr.ts_ns = ktime_get_ns();
	d->lost = lost;
	atomic64_inc(&lymph_events[LYMPH_EV_DROP]);
}

/*
 * Queue one record for one reader.  After a loss the drop record goes in
 * first, so the reader sees the gap where it happened; until both fit,
 * the new record is lost too.  Returns the bytes now queued, 0 when the
 * record was lost.
 */
static u32 reader_push(struct lymph_reader *r, const void *rec, u32 size)
{
	u32 need = size + (r->lost ? sizeof(struct lymph_drop) : 0);
	struct lymph_drop d;
	unsigned long flags;
	u32 used = 0;

	spin_lock_irqsave(&r->lock, flags);
	if (lymph_ring_bytes - ring_used(r) < need) {
		r->lost++;
		atomic64_inc(&lymph_ring_drops);
	} else {
		if (r->lost) {
			make_drop(&d, r->lost);
			ring_put(r, &d, sizeof(d));
			r->lost = 0;
		}
		ring_put(r, rec, size);
		used = ring_used(r);
	}
	spin_unlock_irqrestore(&r->lock, flags);
	return used;
}

/* Deaths by a signal and OOM kills wake readers at once, like the BPF side. */
static bool urgent(const struct lymph_hdr *h)
{
	if (h->kind == LYMPH_EV_OOM)
		return true;
	return h->kind == LYMPH_EV_DEATH && ((const struct lymph_death *)h)->signo;
}

static void wake_timer_fn(struct timer_list *t)
{
	wake_up_interruptible(&lymph_wait);
}

/**
 * lymph_emit() - stamp a record's header and queue it for every reader
 * @rec: the record, starting with struct lymph_hdr
 * @kind: enum lymph_kind
 * @size: the whole record's size
 *
 * Callable from any context but NMI.
 */
void lymph_emit(void *rec, u16 kind, u16 size)
{
	struct lymph_hdr *h = rec;
	struct lymph_reader *r;
	bool queued = false, now = false;
	u32 used;

	h->kind = kind;
	h->size = size;
	h->source = LYMPH_SRC_KMOD;
	memset(h->pad, 0, sizeof(h->pad));
	if (!h->ts_ns)
		h->ts_ns = ktime_get_ns();
	atomic64_inc(&lymph_events[kind]);

	rcu_read_lock();
	list_for_each_entry_rcu(r, &lymph_readers, node) {
		used = reader_push(r, rec, size);
		queued |= used > 0;
		now |= used > lymph_ring_bytes / 2;
	}
	rcu_read_unlock();
	/*
	 * Wake after the locks are dropped, and skip the wait-queue lock when
	 * nobody sleeps.  A wakeup costs far more than a record: bulk records
	 * (forks, execs, exits) wake readers within a jiffy instead, unless a
	 * ring is half full.
	 */
	if (!queued || !wq_has_sleeper(&lymph_wait))
		return;
	if (now || urgent(h))
		wake_up_interruptible(&lymph_wait);
	else if (!timer_pending(&lymph_wake_timer))
		timer_reduce(&lymph_wake_timer, jiffies + 1);
}

/* Is tgid reading /dev/lymph?  Readers (lymphd) are never throttled. */
bool lymph_is_reader(pid_t tgid)
{
	struct lymph_reader *r;
	bool found = false;

	rcu_read_lock();
	list_for_each_entry_rcu(r, &lymph_readers, node) {
		if (r->tgid == tgid) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

unsigned int lymph_nr_readers(void)
{
	return atomic_read(&lymph_nr_open);
}

static bool reader_has_data(struct lymph_reader *r)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&r->lock, flags);
	ret = ring_used(r) || r->lost;
	spin_unlock_irqrestore(&r->lock, flags);
	return ret;
}

/*
 * Move whole records, at most @room bytes, from the ring to the bounce
 * buffer.  Returns the bytes moved, or -EINVAL when the first record does
 * not fit in @room.
 */
static ssize_t reader_pop(struct lymph_reader *r, size_t room)
{
	struct lymph_hdr h;
	unsigned long flags;
	size_t done = 0;
	bool more;

	spin_lock_irqsave(&r->lock, flags);
	while (ring_used(r) >= sizeof(h)) {
		ring_get(r, &h, sizeof(h));
		if (h.size > room - done)
			break;
		ring_get(r, r->bounce + done, h.size);
		r->tail += h.size;
		done += h.size;
	}
	/* Ring drained but records were lost since: report it now. */
	if (!ring_used(r) && r->lost &&
	    room - done >= sizeof(struct lymph_drop)) {
		make_drop((struct lymph_drop *)(r->bounce + done), r->lost);
		done += sizeof(struct lymph_drop);
		r->lost = 0;
	}
	more = ring_used(r) || r->lost;
	spin_unlock_irqrestore(&r->lock, flags);
	return !done && more ? -EINVAL : done;
}

static ssize_t lymph_read(struct file *file, char __user *buf, size_t count,
			  loff_t *ppos)
{
	struct lymph_reader *r = file->private_data;
	ssize_t n;
	int err;

	if (mutex_lock_interruptible(&r->read_mutex))
		return -ERESTARTSYS;
	for (;;) {
		n = reader_pop(r, min_t(size_t, count, LYMPH_BOUNCE_BYTES));
		if (n)
			break;
		if (READ_ONCE(lymph_dead))
			goto out;	/* end of file: the module is going away */
		if (file->f_flags & O_NONBLOCK) {
			n = -EAGAIN;
			goto out;
		}
		err = wait_event_interruptible(lymph_wait, reader_has_data(r) ||
					       READ_ONCE(lymph_dead));
		if (err) {
			n = err;
			goto out;
		}
	}
	if (n > 0 && copy_to_user(buf, r->bounce, n))
		n = -EFAULT;
out:
	mutex_unlock(&r->read_mutex);
	return n;
}

static __poll_t lymph_poll(struct file *file, poll_table *wait)
{
	struct lymph_reader *r = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &lymph_wait, wait);
	if (reader_has_data(r))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(lymph_dead))
		mask |= EPOLLHUP;
	return mask;
}

static int lymph_open(struct inode *inode, struct file *file)
{
	struct lymph_reader *r;
	int err = -ENOMEM;

	if (file->f_mode & FMODE_WRITE)
		return -EINVAL;		/* records flow one way */
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->ring = vmalloc(lymph_ring_bytes);
	if (!r->ring)
		goto err_free;
	r->bounce = kmalloc(LYMPH_BOUNCE_BYTES, GFP_KERNEL);
	if (!r->bounce)
		goto err_ring;
	spin_lock_init(&r->lock);
	mutex_init(&r->read_mutex);
	r->tgid = task_tgid_nr(current);
	file->private_data = r;
	stream_open(inode, file);

	atomic_inc(&lymph_nr_open);
	spin_lock(&lymph_readers_lock);
	list_add_tail_rcu(&r->node, &lymph_readers);
	spin_unlock(&lymph_readers_lock);
	return 0;

err_ring:
	vfree(r->ring);
err_free:
	kfree(r);
	return err;
}

static int lymph_release(struct inode *inode, struct file *file)
{
	struct lymph_reader *r = file->private_data;

	spin_lock(&lymph_readers_lock);
	list_del_rcu(&r->node);
	spin_unlock(&lymph_readers_lock);
	synchronize_rcu();	/* no producer still writes into r->ring */
	vfree(r->ring);
	kfree(r->bounce);
	kfree(r);
	/*
	 * Unload may proceed as soon as the count drops: do it inside an RCU
	 * read section, so that lymph_ring_exit()'s synchronize_rcu() waits
	 * until this function is done with everything but its return.
	 */
	rcu_read_lock();
	if (atomic_dec_and_test(&lymph_nr_open))
		wake_up(&lymph_gone_wait);
	rcu_read_unlock();
	return 0;
}

/*
 * .owner: an open /dev/lymph pins the module, so delete_module() fails
 * with EWOULDBLOCK while a reader (lymphd) has it open, and unload never
 * waits for a file to be closed: a process that holds /dev/lymph and
 * calls delete_module() itself would otherwise wait for ever, unkillable.
 * Stop lymphd (or close the device) before rmmod.
 */
static const struct file_operations lymph_fops = {
	.owner		= THIS_MODULE,
	.open		= lymph_open,
	.release	= lymph_release,
	.read		= lymph_read,
	.poll		= lymph_poll,
};

static struct miscdevice lymph_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "lymph",
	.fops	= &lymph_fops,
	.mode	= 0600,
};

int lymph_ring_init(unsigned int ring_bytes)
{
	lymph_ring_bytes = ring_bytes;
	timer_setup(&lymph_wake_timer, wake_timer_fn, 0);
	return misc_register(&lymph_misc);
}

/* After the probes and the spot check are gone: nothing emits any more. */
void lymph_ring_exit(void)
{
	misc_deregister(&lymph_misc);
	timer_delete_sync(&lymph_wake_timer);
	WRITE_ONCE(lymph_dead, true);
	wake_up_interruptible_all(&lymph_wait);
	/*
	 * Every open file holds a reference on the module (.owner) until its
	 * release() has returned, so none is open here; the wait is bounded
	 * and only a guard against a path that opened the device without it.
	 */
	if (!wait_event_timeout(lymph_gone_wait, !atomic_read(&lymph_nr_open), 5 * HZ))
		pr_err("unload: %d reader(s) of /dev/lymph still open\n",
		       atomic_read(&lymph_nr_open));
	synchronize_rcu();	/* see lymph_release() */
}
