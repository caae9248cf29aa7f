// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/lymph: every open file is a reader with its own ring of records,
 * in the manner of drivers/input/evdev.c.  Producers (tracepoint probes,
 * possibly in interrupt context) copy a record into each reader's ring
 * under that reader's spinlock; read() moves whole records into a
 * per-reader bounce buffer under the lock and copies them to userspace
 * after dropping it.  A record that does not fit is counted, and the count
 * reaches the reader as an explicit LYMPH_EV_DROP record.
 *
 * Wakeups cost far more than records, so a reader is woken at once only
 * for an urgent record; the others are batched.  Which deaths are urgent
 * is lymph_death_wake()'s rule (lymph/danger.h, shared with the BPF
 * sensors), applied per reader: a reader that said which deaths it acts on
 * (LYMPH_IOC_WAKE_SET, lymph/dev.h: lymphd's calm set) sees the others
 * only when the batch is due (batch_ms after the oldest, or the ring half
 * full), in poll() too; a reader that never said is woken as before.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/miscdevice.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include "lymph.h"
#include "lymph/dev.h"

/* read() hands out at most this many bytes of records per pass. */
#define LYMPH_BOUNCE_BYTES	(8 * LYMPH_RECORD_MAX)

/*
 * How a reader wants to be woken (LYMPH_IOC_WAKE_SET), replaced whole and
 * read under RCU by the probes.  keys are sorted (lymph_wake_key_cmp) for a
 * binary search.
 */
struct lymph_wakeset {
	struct rcu_head rcu;
	u32 flags;			/* LYMPH_WAKE_* */
	u32 urgent_mask;
	unsigned long batch_jiffies;
	u32 nr;
	struct lymph_wake_key keys[];
};

struct lymph_reader {
	struct list_head node;		/* in lymph_readers, RCU-protected */
	spinlock_t lock;		/* head, tail, lost, due and the ring bytes */
	u32 head, tail;			/* free-running byte counts, tail <= head */
	u64 lost;			/* records lost since the last drop record */
	bool due;			/* what is queued may be seen now (poll, read) */
	u8 *ring;			/* lymph_ring_bytes, a power of two */
	struct mutex read_mutex;	/* one read() at a time owns bounce */
	u8 *bounce;
	pid_t tgid;			/* the opener, never throttled */
	struct pid *pid;		/* the opener's, for its ancestors */
	struct mutex pin_mutex;		/* pins, pin_kinds, pin_ids, nr_pins, pinner */
	struct file *pins[LYMPH_PINS_MAX];	/* pids.max files lifted at release */
	u32 pin_kinds[LYMPH_PINS_MAX];	/* the lineage each holds, */
	u64 pin_ids[LYMPH_PINS_MAX];	/* kind 0 id 0: not said (LYMPH_IOC_PIN) */
	unsigned int nr_pins;
	bool pinner;			/* LYMPH_IOC_PINNER: it pins what is held */
	wait_queue_head_t wait;		/* this reader's poll() and read() */
	struct timer_list batch_timer;	/* makes a batch due, wakes the reader */
	struct lymph_wakeset __rcu *wake;	/* NULL: never said (woken as before) */
	struct mutex wake_mutex;	/* serializes LYMPH_IOC_WAKE_SET */
	atomic64_t woken;		/* urgent wakeups */
	atomic64_t batched;		/* deaths batched, calm for this reader */
};

static LIST_HEAD(lymph_readers);
static DEFINE_SPINLOCK(lymph_readers_lock);	/* writers of lymph_readers */
static DECLARE_WAIT_QUEUE_HEAD(lymph_gone_wait);	/* unload waits for closes */
static atomic_t lymph_nr_open = ATOMIC_INIT(0);
static bool lymph_dead;				/* set once, at unload */
static u32 lymph_ring_bytes;

atomic64_t lymph_events[LYMPH_EV_KIND_MAX];
atomic64_t lymph_ring_drops;
static atomic64_t lymph_pins_lifted;		/* by a reader's release */

/* The batch delay of a reader whose LYMPH_IOC_WAKE_SET says batch_ms 0,
 * read at that ioctl. */
static unsigned int wake_batch_ms = LYMPH_WAKE_BATCH_MS_DEFAULT;

static int wake_batch_ms_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, LYMPH_WAKE_BATCH_MS_MAX);
}

static const struct kernel_param_ops wake_batch_ms_ops = {
	.set = wake_batch_ms_set,
	.get = param_get_uint,
};
module_param_cb(wake_batch_ms, &wake_batch_ms_ops, &wake_batch_ms, 0644);
MODULE_PARM_DESC(wake_batch_ms, "longest wait, ms, of a record a /dev/lymph reader batches (LYMPH_IOC_WAKE_SET batch_ms 0), 1..3600000 (default 250)");

static u32 ring_used(const struct lymph_reader *r)
{
	return r->head - r->tail;
}

static void ring_put(struct lymph_reader *r, const void *src, u32 len)
{
	u32 off = r->head & (lymph_ring_bytes - 1);
	u32 n = min(len, lymph_ring_bytes - off);

	memcpy(r->ring + off, src, n);
	if (n < len)
		memcpy(r->ring, src + n, len - n);
	r->head += len;
}

static void ring_get(struct lymph_reader *r, void *dst, u32 len)
{
	u32 off = r->tail & (lymph_ring_bytes - 1);
	u32 n = min(len, lymph_ring_bytes - off);

	memcpy(dst, r->ring + off, n);
	if (n < len)
		memcpy(dst + n, r->ring, len - n);
}

/* The size of the record at the tail, from its header (maybe wrapped). */
static u16 ring_peek_size(struct lymph_reader *r)
{
	u32 off = r->tail & (lymph_ring_bytes - 1);
	struct lymph_hdr h;

	if (off + sizeof(h) <= lymph_ring_bytes)
		return ((const struct lymph_hdr *)(r->ring + off))->size;
	ring_get(r, &h, sizeof(h));
	return h.size;
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

/* How urgent a record is for one reader. */
enum lymph_urgency {
	LYMPH_BULK,		/* with the batch */
	LYMPH_PROMPT,		/* within a jiffy (as bulk records were before batches) */
	LYMPH_URGENT,		/* wake the reader now */
};

/*
 * Queue one record for one reader.  After a loss the drop record goes in
 * first, so the reader sees the gap where it happened; until both fit,
 * the new record is lost too.  An urgent record, a loss or a ring past half
 * full makes what is queued due; so does every record for a reader that
 * never asked for batches.  Returns true when the reader must be woken now.
 */
static bool reader_push(struct lymph_reader *r, const void *rec, u32 size, bool urgent,
			bool batches)
{
	u32 need = size + (r->lost ? sizeof(struct lymph_drop) : 0);
	struct lymph_drop d;
	unsigned long flags;
	bool now;

	spin_lock_irqsave(&r->lock, flags);
	if (lymph_ring_bytes - ring_used(r) < need) {
		r->lost++;
		atomic64_inc(&lymph_ring_drops);
		now = true;
	} else {
		if (r->lost) {
			make_drop(&d, r->lost);
			ring_put(r, &d, sizeof(d));
			r->lost = 0;
		}
		ring_put(r, rec, size);
		now = urgent || ring_used(r) > lymph_ring_bytes / 2;
	}
	r->due |= now || !batches;
	spin_unlock_irqrestore(&r->lock, flags);
	return now;
}

static int wake_key_cmp(const void *a, const void *b)
{
	return lymph_wake_key_cmp(a, b);
}

static bool wake_calm(const struct lymph_wakeset *w, const struct lymph_death *d)
{
	struct lymph_wake_key k = {
		.ino = d->task.exe_ino, .dev = d->task.exe_dev, .uid = d->task.uid,
	};
	u32 lo = 0, hi = w->nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		int c = lymph_wake_key_cmp(&k, &w->keys[mid]);

		if (!c)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/*
 * The rule of lymph/danger.h for one reader's wake set (w; NULL: the
 * reader never gave one, unkeyed with the default mask, as the BPF sensors
 * without calm_keys).  OOM kills are urgent, and throttle records prompt.
 */
static enum lymph_urgency urgency(struct lymph_reader *r, const struct lymph_wakeset *w,
				  const struct lymph_hdr *h)
{
	const struct lymph_death *d = (const void *)h;

	switch (h->kind) {
	case LYMPH_EV_OOM:
		return LYMPH_URGENT;
	case LYMPH_EV_THROTTLE:
		return LYMPH_PROMPT;
	case LYMPH_EV_DEATH:
		break;
	default:
		return LYMPH_BULK;
	}
	switch (lymph_death_wake(d, w ? w->urgent_mask : LYMPH_URGENT_SIGNALS_DEFAULT,
				 w && (w->flags & LYMPH_WAKE_KEYED),
				 w && (w->flags & LYMPH_WAKE_CALM_ALL))) {
	case LYMPH_WAKE_NOW:
		return LYMPH_URGENT;
	case LYMPH_WAKE_UNLESS_CALM:
		if (!wake_calm(w, d))
			return LYMPH_URGENT;
		fallthrough;
	default:
		if (w && d->signo)
			atomic64_inc(&r->batched);
		return LYMPH_BULK;
	}
}

/* A batch is due: make it so and wake the reader. */
static void batch_timer_fn(struct timer_list *t)
{
	struct lymph_reader *r = from_timer(r, t, batch_timer);
	unsigned long flags;
	bool any;

	spin_lock_irqsave(&r->lock, flags);
	any = ring_used(r) || r->lost;
	r->due |= any;
	spin_unlock_irqrestore(&r->lock, flags);
	if (any)
		wake_up_interruptible(&r->wait);
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

	h->kind = kind;
	h->size = size;
	h->source = LYMPH_SRC_KMOD;
	memset(h->pad, 0, sizeof(h->pad));
	if (!h->ts_ns)
		h->ts_ns = ktime_get_ns();
	atomic64_inc(&lymph_events[kind]);

	/*
	 * Wake after the reader's lock is dropped, and skip the wait-queue
	 * lock when nobody sleeps.  A wakeup costs far more than a record:
	 * the others are made due (and the reader woken) by its batch timer,
	 * armed by the oldest record of a batch.
	 */
	rcu_read_lock();
	list_for_each_entry_rcu(r, &lymph_readers, node) {
		const struct lymph_wakeset *w = rcu_dereference(r->wake);
		enum lymph_urgency u = urgency(r, w, h);
		unsigned long delay = u == LYMPH_BULK && w ? w->batch_jiffies : 1;

		if (reader_push(r, rec, size, u == LYMPH_URGENT, w != NULL)) {
			if (wq_has_sleeper(&r->wait)) {
				if (u == LYMPH_URGENT)
					atomic64_inc(&r->woken);
				wake_up_interruptible(&r->wait);
			}
		} else if (!timer_pending(&r->batch_timer) || u == LYMPH_PROMPT) {
			/* Readers that never asked for batches and sleep nowhere
			 * need no timer: their records are due already. */
			if (w || wq_has_sleeper(&r->wait))
				timer_reduce(&r->batch_timer, jiffies + delay);
		}
	}
	rcu_read_unlock();
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

/*
 * Is @task a reader of /dev/lymph (lymphd) or an ancestor of one, now: the
 * shell or supervisor that started lymphd, and theirs, up to pid 1.  One
 * walk up real_parent per reader, under RCU.
 */
bool lymph_reader_or_ancestor(struct task_struct *task)
{
	struct task_struct *p;
	struct lymph_reader *r;
	bool found = false;
	int depth;

	rcu_read_lock();
	list_for_each_entry_rcu(r, &lymph_readers, node) {
		p = pid_task(r->pid, PIDTYPE_TGID);
		for (depth = 0; p && depth < 128; depth++) {
			if (p->tgid == task->tgid) {
				found = true;
				break;
			}
			if (p->pid <= 1)
				break;		/* pid 1 (or the idle task above it) */
			p = rcu_dereference(p->real_parent);
		}
		if (found)
			break;
	}
	rcu_read_unlock();
	return found;
}

unsigned int lymph_nr_readers(void)
{
	return atomic_read(&lymph_nr_open);
}

/* Records to read now: queued (or lost) and due. */
static bool reader_ready(struct lymph_reader *r)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&r->lock, flags);
	ret = (ring_used(r) || r->lost) && r->due;
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
	unsigned long flags;
	size_t done = 0;
	bool more;
	u16 size;

	spin_lock_irqsave(&r->lock, flags);
	while (ring_used(r) >= sizeof(struct lymph_hdr)) {
		size = ring_peek_size(r);
		if (size > room - done)
			break;
		ring_get(r, r->bounce + done, size);
		r->tail += size;
		done += size;
	}
	/* Ring drained but records were lost since: report it now. */
	if (!ring_used(r) && r->lost &&
	    room - done >= sizeof(struct lymph_drop)) {
		make_drop((struct lymph_drop *)(r->bounce + done), r->lost);
		done += sizeof(struct lymph_drop);
		r->lost = 0;
	}
	more = ring_used(r) || r->lost;
	if (!more)
		r->due = false;	/* the next batch starts empty */
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
		err = wait_event_interruptible(r->wait, reader_ready(r) ||
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

	poll_wait(file, &r->wait, wait);
	if (reader_ready(r))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(lymph_dead))
		mask |= EPOLLHUP;
	return mask;
}

/*
 * LYMPH_IOC_WAKE_SET (lymph/dev.h): replace this reader's wake set whole.
 * Probes see the old set or the new one (RCU); records queued before stay
 * as due as they were.
 */
static long lymph_wake_set(struct lymph_reader *r, const void __user *arg)
{
	struct lymph_wake_set set;
	struct lymph_wakeset *w, *old;

	if (copy_from_user(&set, arg, sizeof(set)))
		return -EFAULT;
	if ((set.flags & ~LYMPH_WAKE_FLAGS) || set.nr > LYMPH_WAKE_KEYS_MAX ||
	    set.batch_ms > LYMPH_WAKE_BATCH_MS_MAX)
		return -EINVAL;
	w = kvmalloc(struct_size(w, keys, set.nr), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	if (copy_from_user(w->keys, u64_to_user_ptr(set.keys), set.nr * sizeof(w->keys[0]))) {
		kvfree(w);
		return -EFAULT;
	}
	sort(w->keys, set.nr, sizeof(w->keys[0]), wake_key_cmp, NULL);
	w->nr = set.nr;
	w->flags = set.flags;
	w->urgent_mask = set.urgent_mask;
	w->batch_jiffies = max(1UL, msecs_to_jiffies(set.batch_ms ? set.batch_ms :
							READ_ONCE(wake_batch_ms)));
	mutex_lock(&r->wake_mutex);
	old = rcu_replace_pointer(r->wake, w, lockdep_is_held(&r->wake_mutex));
	mutex_unlock(&r->wake_mutex);
	if (old)
		kvfree_rcu(old, rcu);
	return 0;
}

/* LYMPH_IOC_FAMILY (lymph/dev.h): a process's clone family. */
static long lymph_family_get(void __user *arg)
{
	struct lymph_family q;
	long err;

	if (copy_from_user(&q, arg, sizeof(q)))
		return -EFAULT;
	if (q.pad || !q.pid || q.pid > PID_MAX_LIMIT)
		return -EINVAL;
	err = lymph_family_lookup((pid_t)q.pid, &q.id, &q.uid);
	if (err)
		return err;
	return copy_to_user(arg, &q, sizeof(q)) ? -EFAULT : 0;
}

/* The pids.max file of a pin (lymph/dev.h), with a reference; ERR_PTR. */
static struct file *pin_file(int fd)
{
	struct file *f;

	f = fget(fd);
	if (!f)
		return ERR_PTR(-EBADF);
	if (!(f->f_mode & FMODE_WRITE) ||
	    (file_inode(f)->i_sb->s_magic != CGROUP2_SUPER_MAGIC &&
	     file_inode(f)->i_sb->s_magic != CGROUP_SUPER_MAGIC) ||
	    strcmp(f->f_path.dentry->d_name.name, "pids.max")) {
		fput(f);
		return ERR_PTR(-EINVAL);
	}
	return f;
}

/* What a pin ioctl says: the file, and the lineage (kind 0, id 0: none). */
struct lymph_pin_arg {
	int fd;
	u32 kind;
	u64 id;
};

static long pin_arg(unsigned int cmd, const void __user *arg, struct lymph_pin_arg *a)
{
	struct lymph_pin_lineage pl;
	struct lymph_pin p;

	if (cmd == LYMPH_IOC_PIN_LINEAGE) {
		if (copy_from_user(&pl, arg, sizeof(pl)))
			return -EFAULT;
		*a = (struct lymph_pin_arg){ .fd = pl.fd, .kind = pl.kind, .id = pl.id };
		/* the lineages the module holds: families and uids */
		if ((pl.kind != LYMPH_LINEAGE_FAMILY && pl.kind != LYMPH_LINEAGE_UID) ||
		    pl.id > U32_MAX || (pl.kind == LYMPH_LINEAGE_FAMILY && !pl.id))
			return -EINVAL;
		return 0;
	}
	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	if (p.pad)
		return -EINVAL;
	*a = (struct lymph_pin_arg){ .fd = p.fd };
	return 0;
}

/*
 * LYMPH_IOC_PIN, LYMPH_IOC_PIN_LINEAGE, LYMPH_IOC_UNPIN: keep (or forget)
 * a pids.max that this reader pinned at 0, to lift it when the reader is
 * released; and the lineage it holds, whose held members the module keeps
 * stopped until then (lymph_lineage_pin()).
 */
static long lymph_pin(struct lymph_reader *r, unsigned int cmd, const void __user *arg)
{
	bool pin = cmd != LYMPH_IOC_UNPIN;
	struct lymph_pin_arg a;
	struct file *f, *gone = NULL;
	u32 unpin_kind = 0;
	u64 unpin_id = 0;
	unsigned int i;
	long err;

	err = pin_arg(cmd, arg, &a);
	if (err)
		return err;
	f = pin_file(a.fd);
	if (IS_ERR(f))
		return PTR_ERR(f);
	mutex_lock(&r->pin_mutex);
	for (i = 0; i < r->nr_pins; i++)
		if (file_inode(r->pins[i]) == file_inode(f))
			break;
	if (pin) {
		bool added = false;

		if (i < r->nr_pins) {
			gone = f;		/* pinned already: one is enough */
		} else if (r->nr_pins == LYMPH_PINS_MAX) {
			gone = f;
			err = -ENOSPC;
		} else {
			r->pins[r->nr_pins++] = f;
			r->pin_kinds[i] = 0;
			r->pin_ids[i] = 0;
			added = true;
		}
		if (!err && (a.kind || a.id)) {
			err = lymph_lineage_pin(r, a.kind, a.id);
			if (!err) {
				r->pin_kinds[i] = a.kind;
				r->pin_ids[i] = a.id;
			} else if (added) {
				gone = f;	/* not pinned after all */
				r->nr_pins--;
			}
		}
	} else if (i == r->nr_pins) {
		gone = f;
		err = -ENOENT;
	} else {
		fput(f);
		gone = r->pins[i];
		unpin_kind = r->pin_kinds[i];
		unpin_id = r->pin_ids[i];
		r->nr_pins--;
		r->pins[i] = r->pins[r->nr_pins];
		r->pin_kinds[i] = r->pin_kinds[r->nr_pins];
		r->pin_ids[i] = r->pin_ids[r->nr_pins];
	}
	mutex_unlock(&r->pin_mutex);
	if (gone)
		fput(gone);
	/* lymphd lifted the pin first (pids.max max): continued, its held
	 * members may fork again */
	if (unpin_kind | unpin_id)
		lymph_lineage_unpin(r, unpin_kind, unpin_id);
	return err;
}

/* LYMPH_IOC_LIFT: continue what the module holds of a lineage. */
static long lymph_lift(const void __user *arg)
{
	struct lymph_lift l;

	if (copy_from_user(&l, arg, sizeof(l)))
		return -EFAULT;
	if (l.pad)
		return -EINVAL;
	return lymph_lineage_lift(l.kind, l.id);
}

/* LYMPH_IOC_PINNER: whether this reader pins what the module holds. */
static long lymph_pinner(struct lymph_reader *r, const void __user *arg)
{
	struct lymph_pinner p;
	bool was;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	if (p.pad || p.on > 1)
		return -EINVAL;
	mutex_lock(&r->pin_mutex);
	was = r->pinner;
	r->pinner = p.on;
	if (was != r->pinner)
		lymph_lineage_pinner(r->pinner);
	mutex_unlock(&r->pin_mutex);
	return 0;
}

/*
 * The reader is gone (lymphd exited, however): lift every pin it left,
 * "max" into each pids.max, so that no family stays pinned without it.
 */
static void pins_lift(struct lymph_reader *r)
{
	unsigned int i, lifted = 0;

	for (i = 0; i < r->nr_pins; i++) {
		loff_t pos = 0;
		ssize_t n = kernel_write(r->pins[i], "max", 3, &pos);

		if (n == 3)
			lifted++;
		else if (n != -ENODEV)	/* its cgroup was removed meanwhile */
			pr_warn("failed to lift a pin of pid %d: %zd; write max into %pD\n",
				r->tgid, n, r->pins[i]);
		fput(r->pins[i]);
	}
	if (lifted)
		pr_info("lifted %u pin(s) left by pid %d\n", lifted, r->tgid);
	atomic64_add(lifted, &lymph_pins_lifted);
	r->nr_pins = 0;
	/* then what the module kept stopped for those pins goes on */
	lymph_lineage_owner_gone(r);
	if (r->pinner)
		lymph_lineage_pinner(false);
	r->pinner = false;
}

static long lymph_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct lymph_reader *r = file->private_data;

	switch (cmd) {
	case LYMPH_IOC_WAKE_SET:
		return lymph_wake_set(r, (const void __user *)arg);
	case LYMPH_IOC_FAMILY:
		return lymph_family_get((void __user *)arg);
	case LYMPH_IOC_PIN:
	case LYMPH_IOC_PIN_LINEAGE:
	case LYMPH_IOC_UNPIN:
		return lymph_pin(r, cmd, (const void __user *)arg);
	case LYMPH_IOC_PINNER:
		return lymph_pinner(r, (const void __user *)arg);
	case LYMPH_IOC_LIFT:
		return lymph_lift((const void __user *)arg);
	default:
		return -ENOTTY;
	}
}

/* For /proc/lymph: each reader's wake set and what it did. */
void lymph_ring_show(struct seq_file *m)
{
	const struct lymph_wakeset *w;
	struct lymph_reader *r;

	rcu_read_lock();
	list_for_each_entry_rcu(r, &lymph_readers, node) {
		w = rcu_dereference(r->wake);
		seq_printf(m, "reader: pid %d pins %u wake %s calm %u batch_ms %u woken %llu batched %llu\n",
			   r->tgid, READ_ONCE(r->nr_pins), !w ? "every-signal" :
			   !(w->flags & LYMPH_WAKE_KEYED) ? "mask" :
			   (w->flags & LYMPH_WAKE_CALM_ALL) ? "calm-all" : "keyed",
			   w ? w->nr : 0, w ? jiffies_to_msecs(w->batch_jiffies) : 0,
			   (u64)atomic64_read(&r->woken), (u64)atomic64_read(&r->batched));
	}
	rcu_read_unlock();
	seq_printf(m, "pins_lifted: %llu\n", (u64)atomic64_read(&lymph_pins_lifted));
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
	mutex_init(&r->wake_mutex);
	mutex_init(&r->pin_mutex);
	init_waitqueue_head(&r->wait);
	timer_setup(&r->batch_timer, batch_timer_fn, 0);
	r->tgid = task_tgid_nr(current);
	r->pid = get_pid(task_tgid(current));
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
	timer_delete_sync(&r->batch_timer);	/* nor arms this */
	pins_lift(r);
	put_pid(r->pid);
	kvfree(rcu_dereference_protected(r->wake, 1));
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
	.unlocked_ioctl	= lymph_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
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
	return misc_register(&lymph_misc);
}

/* After the probes and the spot check are gone: nothing emits any more. */
void lymph_ring_exit(void)
{
	struct lymph_reader *r;

	misc_deregister(&lymph_misc);
	WRITE_ONCE(lymph_dead, true);
	rcu_read_lock();
	list_for_each_entry_rcu(r, &lymph_readers, node)
		wake_up_interruptible_all(&r->wait);
	rcu_read_unlock();
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
