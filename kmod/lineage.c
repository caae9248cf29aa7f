// SPDX-License-Identifier: GPL-2.0-only
/*
 * Clone-rate accounting per lineage, and fork dead time.
 *
 * A lineage is a clone family (doc/lineage.md): fixed when a process is
 * made and inherited, rooted where pid 1 or lymphd (a reader of
 * /dev/lymph) made the child or where a process's real uid changed, so
 * that setsid(), a double fork, a cgroup move or a new process group
 * never leave it.  The module keeps it in its own table by tgid (and start
 * time), filled by the fork probe and emptied by the exit probe.
 * Each lineage has a token bucket: clone_budget forks per second sustained,
 * clone_burst at once, as the BPF sensor's: every attempt takes a token,
 * the bucket may be overdrawn by one burst, and an attempt that leaves it
 * below zero is "over budget".  A new thread is charged like a new
 * process (a thread bomb).
 * What a task's creation took is kept per task (which family, which uid,
 * whether a token was taken from each), and the task's exit gives it back
 * to those same buckets, as the BPF sensor does: the budget limits net
 * growth, so a shell loop or a build that forks fast but reaps what it
 * forks is never over, while a bomb, which keeps what it forks, is.
 * A fork is charged when it is called (raw_syscalls:sys_enter; see
 * lymph_calls), so that a call over budget stops its caller before the
 * task is made.  A fork refused with EAGAIN (a pids cgroup at its cap)
 * keeps its token and is judged at the syscall's exit: a bomb at its cap
 * spins on refused forks, which never reach sched_process_fork.  Behind the family, every
 * attempt is also charged to its real uid's bucket (uid_clone_budget per
 * second, uid_clone_burst deep; 0: none), the last line against a bomb
 * split over many families.
 *
 * In enforce mode, the task that forked over budget, its new child and,
 * at most once per LYMPH_SWEEP_GAP_NS, every other running member of the
 * lineage (its family, or its uid when only the uid's bucket is over) are
 * held for the lineage's current dead time: the module sends them
 * SIGSTOP and an in-kernel timer sends SIGCONT, so nothing in userspace
 * has to be alive for them to be released.  A process stopped already is
 * left alone, and one an administrator stops while held stays stopped.  The dead time starts at dead_time_min_ms, doubles (at most
 * once per dead time) while the lineage keeps going over budget, up to
 * dead_time_max_ms, and halves for every second the lineage stays within
 * budget.  Forks are never failed and nothing is killed.  Observe mode
 * (the default) does the accounting and counts the holds it would make.
 *
 * Both tables are bounded: lineages live in a direct-mapped table with a
 * short probe window (the stalest entry of the window is evicted), holds
 * are capped at LYMPH_HOLD_MAX (beyond that, a task is not held and the
 * miss is counted in /proc/lymph).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/jiffies.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/tracepoint.h>
#include <asm/syscall.h>
#include <asm/unistd.h>
#include "compat.h"
#include "lymph.h"

#define LYMPH_LINEAGE_BITS	10
#define LYMPH_LINEAGE_PROBE	8
#define LYMPH_HOLD_MAX		1024
#define LYMPH_TOKEN		1000ULL		/* one fork, in milli-tokens */
#define LYMPH_KEY_SESSION	(1ULL << 63)	/* key = sid | this, else cgroup id */
#define LYMPH_KEY_FAMILY	(1ULL << 62)	/* key = family root's pid | this */
#define LYMPH_KEY_UID		(1ULL << 61)	/* key = real uid | this */
#define LYMPH_KEY_KINDS		(LYMPH_KEY_SESSION | LYMPH_KEY_FAMILY | LYMPH_KEY_UID)
#define LYMPH_FAMS_MAX		65536
/* A lineage over budget within this long counts as throttled. */
#define LYMPH_CALM_NS		NSEC_PER_SEC
/* Between two stops of every member of one lineage (the BPF sensor's). */
#define LYMPH_SWEEP_GAP_NS	(10 * NSEC_PER_MSEC)

struct lymph_lineage {
	u64 key;		/* 0: free slot */
	s64 tokens;		/* milli-tokens, down to -burst (overdrawn) */
	u64 refill_ns;		/* when tokens were last refilled */
	u64 seen_ns;		/* last fork, for eviction */
	u64 over_ns;		/* last fork over budget, 0 never */
	u64 grow_ns;		/* last time dead_ns grew */
	u64 dead_ns;		/* current dead time, 0 until the first storm */
	u64 swept_ns;		/* last stop of every member, 0 never */
	u64 forks;
	u64 overs;		/* forks over budget */
	u64 holds;		/* holds made (enforce) or that would be (observe) */
	u8 comm[LYMPH_COMM_LEN];	/* last task over budget */
};

static struct lymph_lineage *lymph_lineages;
static DEFINE_SPINLOCK(lymph_lineage_lock);

/*
 * One held process.  Its timer ends the hold (hold_expire): at the end of
 * its dead time (until), unless its lineage is pinned by a reader (then
 * the hold is parked: no timer, until the reader unpins it or goes) or,
 * with a pinning reader open and no pin yet, until the reader's pin
 * (at most LYMPH_IOC_PINNER's wait after since).  Every field but the
 * node's links is written under lymph_holds_lock once armed.
 */
struct lymph_hold {
	struct hlist_node node;		/* in lymph_holds, by tgid */
	struct timer_list timer;	/* ends the hold */
	struct pid *pid;		/* the held thread group */
	pid_t tgid;
	u64 key;			/* the lineage it was held for */
	unsigned long since, until;	/* jiffies: held at, dead time's end */
	bool armed;			/* stopped, timer set: kicks may touch it */
	bool parked;			/* kept past its dead time: lineage pinned */
	bool release;			/* continue at the next expiry, whatever */
	bool admin_stopped;		/* someone else stopped it too: never continue */
};

/*
 * Lineages pinned by readers (LYMPH_IOC_PIN_LINEAGE), by owner (the
 * reader), under lymph_holds_lock; and how many readers pin what the
 * module holds (LYMPH_IOC_PINNER).
 */
#define LYMPH_PINNED_MAX	256
struct lymph_pinned {
	u64 key;			/* 0: free */
	const void *owner;
};
static struct lymph_pinned lymph_pinned[LYMPH_PINNED_MAX];
static unsigned int lymph_nr_pinned;	/* entries of lymph_pinned in use */
static unsigned int lymph_nr_pinners;
static unsigned int lymph_nr_parked;
static atomic64_t lymph_holds_waited;		/* kept past their dead time for a pin */

/* A process's clone family.  The start time tells a recycled tgid apart. */
struct lymph_fam {
	struct hlist_node node;		/* in lymph_fams, by tgid */
	u64 start;
	pid_t tgid;
	pid_t id;			/* the family: its root's tgid */
	u32 uid;			/* the real uid it was made for */
	bool moved;			/* last moved to a cgroup by another than lymphd */
};

static DEFINE_HASHTABLE(lymph_fams, 12);
static DEFINE_SPINLOCK(lymph_fams_lock);
static unsigned int lymph_nr_fams;

/*
 * What a live task's creation took from the buckets, given back at its
 * exit: never to another family or uid than the one charged, never more
 * than one token to each.  By task_struct (threads included): the exit
 * probe is registered before the fork probe and goes after it, so every
 * entry is removed by its task's exit before the task_struct can be
 * reused (the tid and start time would not do: a thread that execs takes
 * its leader's).  Every new task took a token, over budget or not (the
 * bucket's overdraft), and gives it back; a fork refused with EAGAIN
 * makes no task: time refills those.
 */
struct lymph_charge {
	struct hlist_node node;		/* in lymph_charges, by task */
	const struct task_struct *task;
	pid_t family;			/* the family charged */
	u32 uid;			/* the uid charged */
	bool family_charged;		/* a token was taken from the family */
	bool uid_charged;		/* and from the uid */
};

#define LYMPH_CHARGES_MAX	65536
static DEFINE_HASHTABLE(lymph_charges, 12);
static DEFINE_SPINLOCK(lymph_charges_lock);
static unsigned int lymph_nr_charges;
static atomic64_t lymph_refunds;

/*
 * Attempts in flight: a fork syscall's token is taken when the syscall is
 * entered (raw_syscalls:sys_enter), by the calling thread, and kept here
 * until the task is made (it becomes the child's lymph_charge) or the
 * syscall returns without one (given back, but for a fork refused with
 * EAGAIN).  Charged at the call, a fork over budget stops its caller
 * before copy_process() checks for pending signals, so the fork is
 * restarted after the hold instead of made: under load a fork takes long
 * (under TCG, among 200 runnable shells, hundreds of ms), and charged
 * when the task was made, the bucket overdrew that much after the forks
 * that overdrew it were called, and every fork then in flight was made.
 */
static DEFINE_HASHTABLE(lymph_calls, 8);
static DEFINE_SPINLOCK(lymph_calls_lock);
static unsigned int lymph_nr_calls;

static DEFINE_HASHTABLE(lymph_holds, 8);
static DEFINE_SPINLOCK(lymph_holds_lock);	/* also taken from the timer */
static unsigned int lymph_nr_holds;
static bool lymph_holds_closed;			/* unload has begun */
static atomic64_t lymph_holds_total;
static atomic64_t lymph_holds_missed;		/* members not held: table full */

/*
 * Never slowed: pid 1, kernel threads, exiting tasks, readers of
 * /dev/lymph (lymphd) and their ancestors (the shell or supervisor that
 * started lymphd: a root uid's sweep must not stop it), and the protected
 * uids and cgroups.
 */
bool lymph_protected(struct task_struct *task)
{
	if (is_global_init(task) || (task->flags & (PF_KTHREAD | PF_EXITING)))
		return true;
	if (lymph_uid_protected(__kuid_val(task_uid(task))))
		return true;
	if (lymph_cgroup_protected(task))
		return true;
	return lymph_reader_or_ancestor(task);
}

static u32 real_uid(struct task_struct *t)
{
	return __kuid_val(task_uid(t));
}

/* Where a new family starts for every child: pid 1, kernel threads, lymphd. */
static bool family_boundary(struct task_struct *t)
{
	return is_global_init(t) || (t->flags & PF_KTHREAD) || lymph_is_reader(task_tgid_nr(t));
}

/* The entry of @t's process.  Called with lymph_fams_lock. */
static struct lymph_fam *fam_find(struct task_struct *t)
{
	pid_t tgid = task_tgid_nr(t);
	struct lymph_fam *f;

	hash_for_each_possible(lymph_fams, f, node, tgid)
		if (f->tgid == tgid && f->start == t->group_leader->start_time)
			return f;
	return NULL;
}

/* Set @t's family (a new entry when it has none).  With lymph_fams_lock. */
static void fam_set(struct task_struct *t, pid_t id, u32 uid)
{
	struct lymph_fam *f = fam_find(t);

	if (!f) {
		if (lymph_nr_fams >= LYMPH_FAMS_MAX)
			return;
		/* every field is set here: not zeroed first */
		f = kmalloc(sizeof(*f), GFP_ATOMIC);
		if (!f)
			return;
		f->tgid = task_tgid_nr(t);
		f->start = t->group_leader->start_time;
		f->moved = false;
		hash_add(lymph_fams, &f->node, f->tgid);
		lymph_nr_fams++;
	}
	f->id = id;
	f->uid = uid;
}

/* A process that predates the module (or whose entry could not be made):
 * its topmost ancestor of the same uid below a boundary. */
static pid_t family_root_of(struct task_struct *t)
{
	struct task_struct *p = t;
	pid_t id = task_tgid_nr(t);
	u32 uid = real_uid(t);
	int i;

	rcu_read_lock();
	for (i = 0; i < 32; i++) {
		p = rcu_dereference(p->real_parent);
		if (!p || family_boundary(p) || real_uid(p) != uid)
			break;
		id = task_tgid_nr(p);
	}
	rcu_read_unlock();
	return id;
}

/*
 * The family of @t, made when it has none; a process whose real uid is
 * no longer its family's crossed a privileged boundary (login, su, a
 * service's user) and roots a new family.
 */
static pid_t family_of(struct task_struct *t)
{
	struct lymph_fam *f;
	unsigned long flags;
	u32 uid = real_uid(t);
	pid_t id;

	spin_lock_irqsave(&lymph_fams_lock, flags);
	f = fam_find(t);
	if (f && f->uid == uid) {
		id = f->id;
	} else {
		id = f || family_boundary(t) ? task_tgid_nr(t) : 0;
		if (!id) {
			spin_unlock_irqrestore(&lymph_fams_lock, flags);
			id = family_root_of(t);
			spin_lock_irqsave(&lymph_fams_lock, flags);
		}
		fam_set(t, id, uid);
	}
	spin_unlock_irqrestore(&lymph_fams_lock, flags);
	return id;
}

/*
 * LYMPH_IOC_FAMILY: the family of the process @nr (in the caller's pid
 * namespace) and the real uid it was made for.  -ESRCH: no such process;
 * -ENOENT: it has none (made before the module and never forked since, or
 * its real uid changed since: lineage_member() counts it in none).
 */
int lymph_family_lookup(pid_t nr, u32 *id, u32 *uid)
{
	struct task_struct *t;
	struct lymph_fam *f;
	unsigned long flags;
	int err = -ESRCH;

	rcu_read_lock();
	t = pid_task(find_vpid(nr), PIDTYPE_TGID);
	if (t) {
		err = -ENOENT;
		spin_lock_irqsave(&lymph_fams_lock, flags);
		f = fam_find(t);
		if (f && f->uid == real_uid(t)) {
			*id = (u32)f->id;
			*uid = f->uid;
			err = 0;
		}
		spin_unlock_irqrestore(&lymph_fams_lock, flags);
	}
	rcu_read_unlock();
	return err;
}

/* Fix the child's family at its fork; returns it. */
static pid_t family_fork(struct task_struct *parent, struct task_struct *child)
{
	struct lymph_fam *f;
	unsigned long flags;
	pid_t id;

	/* The parent's entry and the child's in one hold of the lock, when
	 * the parent has its entry (family_of() does the rest). */
	spin_lock_irqsave(&lymph_fams_lock, flags);
	if (family_boundary(parent)) {
		id = task_tgid_nr(child);
	} else {
		f = fam_find(parent);
		if (f && f->uid == real_uid(parent)) {
			id = f->id;
		} else {
			spin_unlock_irqrestore(&lymph_fams_lock, flags);
			id = family_of(parent);
			spin_lock_irqsave(&lymph_fams_lock, flags);
		}
	}
	fam_set(child, id, real_uid(child));
	spin_unlock_irqrestore(&lymph_fams_lock, flags);
	return id;
}

static void charge_refund(struct task_struct *task);
static struct lymph_charge *call_take(const struct task_struct *task);
static void charge_give_back(struct lymph_charge *c);

/*
 * sched_process_exit, for every task: what its creation took goes back to
 * its family and uid; and when the whole process is gone, its family
 * entry goes.
 */
static void probe_exit_fam(void *data, LYMPH_EXIT_PROBE_ARGS)
{
	struct lymph_charge *c;
	struct lymph_fam *f;
	unsigned long flags;

	charge_refund(p);
	/* Never: its fork syscall returned first.  An entry of @p's own would
	 * keep the count above 0, and @p sees its own increment. */
	c = READ_ONCE(lymph_nr_calls) ? call_take(p) : NULL;
	if (c)
		charge_give_back(c);
	if (atomic_read(&p->signal->live))
		return;
	spin_lock_irqsave(&lymph_fams_lock, flags);
	f = fam_find(p);
	if (f) {
		hash_del(&f->node);
		lymph_nr_fams--;
	}
	spin_unlock_irqrestore(&lymph_fams_lock, flags);
	kfree(f);
}

static u64 lineage_key(pid_t family)
{
	return LYMPH_KEY_FAMILY | (u32)family;
}

/* The record's LYMPH_LINEAGE_* of a key, and the name /proc/lymph shows. */
static u32 key_kind(u64 key)
{
	return key & LYMPH_KEY_FAMILY ? LYMPH_LINEAGE_FAMILY :
	       key & LYMPH_KEY_UID ? LYMPH_LINEAGE_UID :
	       key & LYMPH_KEY_SESSION ? LYMPH_LINEAGE_SESSION : LYMPH_LINEAGE_CGROUP;
}

static const char *key_name(u64 key)
{
	static const char *const names[] = {
		[LYMPH_LINEAGE_SESSION] = "session", [LYMPH_LINEAGE_CGROUP] = "cgroup",
		[LYMPH_LINEAGE_UID] = "uid", [LYMPH_LINEAGE_FAMILY] = "family",
	};

	return names[key_kind(key)];
}

/* Find or make the lineage for @key, full (@burst tokens) when made.
 * Called with lymph_lineage_lock. */
static struct lymph_lineage *lineage_get(u64 key, u64 burst, u64 now)
{
	unsigned int i, base = hash_64(key, LYMPH_LINEAGE_BITS);
	struct lymph_lineage *l, *victim = NULL;

	for (i = 0; i < LYMPH_LINEAGE_PROBE; i++) {
		l = &lymph_lineages[(base + i) & ((1 << LYMPH_LINEAGE_BITS) - 1)];
		if (l->key == key)
			return l;
		if (!victim || l->seen_ns < victim->seen_ns)
			victim = l;
	}
	memset(victim, 0, sizeof(*victim));
	victim->key = key;
	victim->refill_ns = now;
	victim->tokens = (s64)(burst * LYMPH_TOKEN);
	return victim;
}

/* The dead time after its decay: halved per calm second since over_ns. */
static u64 dead_decayed(const struct lymph_lineage *l, u64 now)
{
	u64 calm = now - l->over_ns;

	if (!l->over_ns || calm < LYMPH_CALM_NS)
		return l->dead_ns;
	calm = div64_u64(calm, NSEC_PER_SEC);
	return calm >= 64 ? 0 : l->dead_ns >> calm;
}

/* Is @key pinned by a reader?  With lymph_holds_lock. */
static bool key_pinned(u64 key)
{
	unsigned int i;

	for (i = 0; i < LYMPH_PINNED_MAX; i++)
		if (lymph_pinned[i].key == key)
			return true;
	return false;
}

/* Is @key pinned by a reader now?  Takes lymph_holds_lock, but when
 * nothing is pinned at all (every fork call asks). */
static bool key_pinned_now(u64 key)
{
	unsigned long flags;
	bool pinned;

	if (!READ_ONCE(lymph_nr_pinned))
		return false;
	spin_lock_irqsave(&lymph_holds_lock, flags);
	pinned = key_pinned(key);
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	return pinned;
}

/*
 * Whether @h's hold goes on past this expiry, and until when (its timer
 * re-armed; a parked hold has none).  With lymph_holds_lock.
 */
static void hold_unpark(struct lymph_hold *h)
{
	if (h->parked)
		lymph_nr_parked--;
	h->parked = false;
}

static bool hold_goes_on(struct lymph_hold *h)
{
	unsigned long wait_end;

	if (h->release)
		return false;
	if (time_before(jiffies, h->until)) {
		hold_unpark(h);
		mod_timer(&h->timer, h->until);	/* kicked early: its dead time first */
		return true;
	}
	if (key_pinned(h->key)) {
		/* lymphd holds the lineage: continued, it would only spin on
		 * refused forks.  Its unpin, or its death, ends this. */
		if (!h->parked)
			lymph_nr_parked++;
		h->parked = true;
		return true;
	}
	/* A reader that pins is open, and has not pinned this lineage yet:
	 * the first release waits for its decision, for a bounded time. */
	wait_end = h->since + msecs_to_jiffies(READ_ONCE(lymph_cfg.dead_max_ms));
	if (lymph_nr_pinners && time_before(jiffies, wait_end)) {
		hold_unpark(h);
		atomic64_inc(&lymph_holds_waited);
		mod_timer(&h->timer, wait_end);
		return true;
	}
	return false;
}

static void hold_expire(struct timer_list *t)
{
	struct lymph_hold *h = from_timer(h, t, timer);
	unsigned long flags;
	bool mine;

	spin_lock_irqsave(&lymph_holds_lock, flags);
	mine = hash_hashed(&h->node);	/* else unload owns it */
	if (mine && hold_goes_on(h)) {
		spin_unlock_irqrestore(&lymph_holds_lock, flags);
		return;
	}
	if (mine) {
		hash_del(&h->node);
		lymph_nr_holds--;
		hold_unpark(h);
		/* a kick may have re-armed it meanwhile; none can now */
		timer_delete(&h->timer);
	}
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	if (!mine)
		return;
	/* An administrator's stop is never undone. */
	if (!READ_ONCE(h->admin_stopped))
		kill_pid(h->pid, SIGCONT, 1);
	put_pid(h->pid);
	kfree(h);
}

/*
 * signal_generate: a SIGSTOP sent to a held process by a process other
 * than lymphd (kill(2), tgkill(2), sigqueue(3): no info, or si_code <= 0)
 * is an administrator's: the hold's end leaves it stopped.  A SIGCONT
 * from one takes it back.  The module's own stops are SEND_SIG_PRIV.
 */
static void probe_stop_signal(void *data, int sig, struct kernel_siginfo *info,
			      struct task_struct *task, int group, int result)
{
	struct lymph_hold *h;
	unsigned long flags;
	pid_t tgid;

	if (sig != SIGSTOP && sig != SIGCONT)
		return;
	if (info == SEND_SIG_PRIV || (info != SEND_SIG_NOINFO && info->si_code > 0))
		return;
	if (lymph_is_reader(task_tgid_nr(current)))
		return;
	tgid = task_tgid_nr(task);
	spin_lock_irqsave(&lymph_holds_lock, flags);
	hash_for_each_possible(lymph_holds, h, node, tgid)
		if (h->tgid == tgid)
			WRITE_ONCE(h->admin_stopped, sig == SIGSTOP);
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
}

/*
 * Make every armed hold of @key (0: of every lineage) expire now, to be
 * judged again by hold_goes_on(); @release: to be continued whatever its
 * dead time (the reader ended the pin).  Called from process context (the
 * readers' ioctls and release).
 */
static void holds_kick(u64 key, bool release)
{
	struct lymph_hold *h;
	unsigned long flags;
	int bkt;

	spin_lock_irqsave(&lymph_holds_lock, flags);
	if (!lymph_holds_closed)
		hash_for_each(lymph_holds, bkt, h, node) {
			if (!h->armed || (key && h->key != key))
				continue;
			h->release |= release;
			mod_timer(&h->timer, jiffies);
		}
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
}

/* The module's key of a record's lineage (kind, id), 0 when it has none. */
static u64 key_of(u32 kind, u64 id)
{
	if (id > U32_MAX)
		return 0;
	if (kind == LYMPH_LINEAGE_FAMILY && id)
		return LYMPH_KEY_FAMILY | id;
	if (kind == LYMPH_LINEAGE_UID)
		return LYMPH_KEY_UID | id;
	return 0;
}

/**
 * lymph_lineage_pin() - a reader pinned a lineage (LYMPH_IOC_PIN_LINEAGE)
 * @owner: the reader
 * @kind: LYMPH_LINEAGE_FAMILY or LYMPH_LINEAGE_UID
 * @id: the family's id or the uid
 *
 * Its holds are kept past their dead time until lymph_lineage_unpin() or
 * lymph_lineage_owner_gone().  Returns 0, -EINVAL for another kind,
 * -ENOSPC when LYMPH_PINNED_MAX lineages are pinned.
 */
int lymph_lineage_pin(const void *owner, u32 kind, u64 id)
{
	u64 key = key_of(kind, id);
	struct lymph_pinned *free = NULL;
	unsigned long flags;
	unsigned int i;
	int err = 0;

	if (!key)
		return -EINVAL;
	spin_lock_irqsave(&lymph_holds_lock, flags);
	for (i = 0; i < LYMPH_PINNED_MAX; i++) {
		if (lymph_pinned[i].key == key && lymph_pinned[i].owner == owner)
			break;		/* pinned already */
		if (!free && !lymph_pinned[i].key)
			free = &lymph_pinned[i];
	}
	if (i == LYMPH_PINNED_MAX) {
		if (free) {
			*free = (struct lymph_pinned){ .key = key, .owner = owner };
			WRITE_ONCE(lymph_nr_pinned, lymph_nr_pinned + 1);
		} else
			err = -ENOSPC;
	}
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	/* holds waiting for this pin: parked now rather than at their wait's end */
	if (!err)
		holds_kick(key, false);
	return err;
}

/* Forget @owner's pin of @key (every pin of @owner when @key is 0); the
 * holds of a lineage no reader pins any more are continued. */
static void unpin(const void *owner, u64 key)
{
	u64 gone[16];
	unsigned int i, j, n = 0;
	unsigned long flags;
	bool all = false;

	spin_lock_irqsave(&lymph_holds_lock, flags);
	for (i = 0; i < LYMPH_PINNED_MAX; i++) {
		if (!lymph_pinned[i].key || lymph_pinned[i].owner != owner ||
		    (key && lymph_pinned[i].key != key))
			continue;
		if (n < ARRAY_SIZE(gone))
			gone[n++] = lymph_pinned[i].key;
		else
			all = true;
		lymph_pinned[i].key = 0;
		WRITE_ONCE(lymph_nr_pinned, lymph_nr_pinned - 1);
	}
	/* a lineage another reader still pins stays parked */
	for (j = 0; j < n; j++)
		if (key_pinned(gone[j]))
			gone[j] = 0;
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	if (all) {
		holds_kick(0, false);	/* each judged again: the pinned stay */
		return;
	}
	for (j = 0; j < n; j++)
		if (gone[j])
			holds_kick(gone[j], true);
}

/**
 * lymph_lineage_unpin() - a reader lifted its pin of a lineage
 * @owner: the reader
 * @kind: LYMPH_LINEAGE_FAMILY or LYMPH_LINEAGE_UID
 * @id: the family's id or the uid
 *
 * The lineage's held members are continued (an administrator's stop
 * excepted) unless another reader pins it too.
 */
void lymph_lineage_unpin(const void *owner, u32 kind, u64 id)
{
	u64 key = key_of(kind, id);

	if (key)
		unpin(owner, key);
}

/**
 * lymph_lineage_lift() - continue what is held of a lineage now
 * @kind: LYMPH_LINEAGE_FAMILY or LYMPH_LINEAGE_UID
 * @id: the family's id or the uid
 *
 * lymphd's lift (LYMPH_IOC_LIFT): the pin stays, the members run (an
 * administrator's stop excepted).  Returns 0, or -EINVAL for another kind.
 */
int lymph_lineage_lift(u32 kind, u64 id)
{
	u64 key = key_of(kind, id);

	if (!key)
		return -EINVAL;
	holds_kick(key, true);
	return 0;
}

/**
 * lymph_lineage_pinner() - a reader says it pins what the module holds
 * @on: it does (LYMPH_IOC_PINNER 1), or no longer (0, or its release)
 *
 * Counted, not owned: the caller calls it with 0 once for every 1.
 */
void lymph_lineage_pinner(bool on)
{
	unsigned long flags;
	bool none;

	spin_lock_irqsave(&lymph_holds_lock, flags);
	if (on)
		lymph_nr_pinners++;
	else if (lymph_nr_pinners)
		lymph_nr_pinners--;
	none = !lymph_nr_pinners;
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	/* nobody to wait for: holds past their dead time end now */
	if (!on && none)
		holds_kick(0, false);
}

/**
 * lymph_lineage_owner_gone() - a reader is released (lymphd exited)
 * @owner: the reader, after it lifted its pins' pids.max
 *
 * Every lineage it pinned (and no other reader does) is continued.
 */
void lymph_lineage_owner_gone(const void *owner)
{
	unpin(owner, 0);
}

/*
 * Stop @task's thread group for @dead_ns for @key's lineage; a timer will
 * continue it.  Returns 0, -EEXIST when it is held already (stopped again
 * if someone continued it meanwhile), -ENOSPC when LYMPH_HOLD_MAX tasks
 * are held (or unload has begun), -ENOMEM; a task not held for want of
 * room is counted in lymph_holds_missed.
 */
static int hold(struct task_struct *task, u64 dead_ns, u64 key)
{
	pid_t tgid = task_tgid_nr(task);
	struct lymph_hold *h, *old;
	unsigned long flags;
	bool restop = false;
	int err = -ENOSPC;

	if (READ_ONCE(lymph_nr_holds) >= LYMPH_HOLD_MAX) {	/* rechecked below */
		atomic64_inc(&lymph_holds_missed);
		return err;
	}
	h = kzalloc(sizeof(*h), GFP_ATOMIC);
	if (!h) {
		atomic64_inc(&lymph_holds_missed);
		return -ENOMEM;
	}
	h->tgid = tgid;
	h->key = key;
	timer_setup(&h->timer, hold_expire, 0);

	spin_lock_irqsave(&lymph_holds_lock, flags);
	if (lymph_holds_closed || lymph_nr_holds >= LYMPH_HOLD_MAX)
		goto busy;
	err = -EEXIST;
	hash_for_each_possible(lymph_holds, old, node, tgid) {
		if (old->tgid != tgid)
			continue;
		/* Held already (another thread of it, or a parked hold): if
		 * someone continued it since (its own uid may), it forks
		 * again and is stopped again, in the same hold. */
		if (old->armed && !(READ_ONCE(task->signal->flags) & SIGNAL_STOP_STOPPED))
			restop = true;
		goto busy;
	}
	h->pid = get_pid(task_tgid(task));
	hash_add(lymph_holds, &h->node, tgid);
	lymph_nr_holds++;
	spin_unlock_irqrestore(&lymph_holds_lock, flags);

	/*
	 * Stop first, then arm the timer, so SIGCONT can never come first.
	 * Unload only releases holds after every probe has returned.
	 */
	send_sig(SIGSTOP, task, 1);
	spin_lock_irqsave(&lymph_holds_lock, flags);
	h->since = jiffies;
	h->until = h->since + max(1UL, nsecs_to_jiffies(dead_ns));
	h->armed = true;
	mod_timer(&h->timer, h->until);
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	atomic64_inc(&lymph_holds_total);
	return 0;

busy:
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	kfree(h);
	if (restop)
		send_sig(SIGSTOP, task, 1);
	if (err == -ENOSPC)
		atomic64_inc(&lymph_holds_missed);
	return err;
}

/* The lineage @task's thread group is held for by the module, 0 if none. */
static u64 task_held(struct task_struct *task)
{
	pid_t tgid = task_tgid_nr(task);
	struct lymph_hold *h;
	unsigned long flags;
	u64 key = 0;

	spin_lock_irqsave(&lymph_holds_lock, flags);
	hash_for_each_possible(lymph_holds, h, node, tgid)
		if (h->tgid == tgid) {
			key = h->key;
			break;
		}
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	return key;
}

/* hold()'s result: is the task held now (by this hold or an earlier one)? */
static bool held_now(int err)
{
	return !err || err == -EEXIST;
}

/* Tell lymphd: a LYMPH_EV_THROTTLE record, as the BPF sensor makes. */
static void report(struct task_struct *parent, struct task_struct *child, u64 key,
		   s64 tokens, u64 dead, bool held)
{
	struct lymph_throttle rec;

	memset(&rec, 0, sizeof(rec));
	lymph_fill_task(&rec.task, parent);
	rec.lineage_kind = key_kind(key);
	rec.lineage_id = key & ~LYMPH_KEY_KINDS;
	rec.tokens = tokens;
	rec.hold_ns = dead;
	rec.action = held ? LYMPH_THROTTLE_HELD : LYMPH_THROTTLE_WOULD;
	rec.child_pid = child ? child->tgid : 0;
	lymph_emit(&rec, LYMPH_EV_THROTTLE, sizeof(rec));
}

/* What one charge found: whether the bucket was empty, and then what to do. */
struct lymph_verdict {
	bool over;
	s64 tokens;	/* milli-tokens left after the charge, negative: overdrawn */
	u64 dead_ns;	/* the lineage's dead time, when over */
};

/*
 * The BPF sensor's bucket_move: refill @l at @budget per second since its
 * last move, then add @delta milli-tokens; never above @burst tokens, and
 * overdrawn by at most one burst, so that after a storm, however long, a
 * lineage recovers in burst/budget seconds.  With lymph_lineage_lock.
 */
static void bucket_move(struct lymph_lineage *l, u64 budget, u64 burst, u64 now, s64 delta)
{
	s64 cap = (s64)(burst * LYMPH_TOKEN);
	u64 dt = now > l->refill_ns ? now - l->refill_ns : 0;

	dt = min_t(u64, dt, 100 * NSEC_PER_SEC);	/* keeps the product small */
	l->tokens += (s64)div64_u64(dt * budget, NSEC_PER_MSEC);
	l->refill_ns = now;
	l->tokens = clamp(l->tokens + delta, -cap, cap);
}

/*
 * Take one token (@delta -LYMPH_TOKEN) from @key's bucket, as every
 * attempt does, over budget or not (the BPF sensor's overdraft), or none
 * (@delta 0: an attempt charged at its call, judged again when its task is
 * made or refused); a bucket below zero after it is a fork over budget,
 * and grows the lineage's dead time; so is @pinned, an attempt refused
 * inside the lineage's pin.  Called with lymph_lineage_lock.
 */
static void bucket_charge(u64 key, u64 budget, u64 burst, u64 now, bool pinned, s64 delta,
			  struct task_struct *task, struct lymph_verdict *v)
{
	u64 min_ns = (u64)READ_ONCE(lymph_cfg.dead_min_ms) * NSEC_PER_MSEC;
	u64 max_ns = (u64)READ_ONCE(lymph_cfg.dead_max_ms) * NSEC_PER_MSEC;
	struct lymph_lineage *l = lineage_get(key, burst, now);

	l->seen_ns = now;
	if (delta)
		l->forks++;
	bucket_move(l, budget, burst, now, delta);
	v->over = l->tokens < 0 || pinned;
	v->tokens = l->tokens;
	v->dead_ns = 0;
	if (!v->over)
		return;
	if (l->over_ns && now - l->over_ns < LYMPH_CALM_NS) {
		/* The storm goes on: grow, once per dead time. */
		if (now - l->grow_ns >= l->dead_ns) {
			l->dead_ns = min(max(l->dead_ns * 2, min_ns), max_ns);
			l->grow_ns = now;
		}
	} else {
		l->dead_ns = clamp(dead_decayed(l, now), min_ns, max_ns);
		l->grow_ns = now;
	}
	l->over_ns = now;
	l->overs++;
	v->dead_ns = l->dead_ns;
	memcpy(l->comm, task->comm, sizeof(l->comm));
}

/* @key's lineage if it is in the table, else NULL.  With lymph_lineage_lock. */
static struct lymph_lineage *lineage_find(u64 key)
{
	unsigned int i, base = hash_64(key, LYMPH_LINEAGE_BITS);
	struct lymph_lineage *l;

	for (i = 0; i < LYMPH_LINEAGE_PROBE; i++) {
		l = &lymph_lineages[(base + i) & ((1 << LYMPH_LINEAGE_BITS) - 1)];
		if (l->key == key)
			return l;
	}
	return NULL;
}

/* Count a hold made (or that would be) on @key's lineage, if still there. */
static void lineage_held(u64 key)
{
	struct lymph_lineage *l;

	spin_lock(&lymph_lineage_lock);
	l = lineage_find(key);
	if (l)
		l->holds++;
	spin_unlock(&lymph_lineage_lock);
}

/*
 * Give one token back to @key's bucket (after its refill by time), never
 * above @burst.  A lineage evicted from the table since has nothing to
 * give back to: a new one starts full.  With lymph_lineage_lock.
 */
static void bucket_refund(u64 key, u64 budget, u64 burst, u64 now)
{
	struct lymph_lineage *l = lineage_find(key);

	if (l)
		bucket_move(l, budget, burst, now, LYMPH_TOKEN);
}

/* The entry of @task in lymph_charges.  With lymph_charges_lock. */
static struct lymph_charge *charge_find(const struct task_struct *task)
{
	struct lymph_charge *c;

	hash_for_each_possible(lymph_charges, c, node, (unsigned long)task)
		if (c->task == task)
			return c;
	return NULL;
}

/*
 * Keep what @child's creation took (@c, allocated by the caller), so that
 * its exit gives it back; frees @c when nothing was taken or the table is
 * full (then time alone refills those tokens, as before).
 */
static void charge_keep(struct task_struct *child, struct lymph_charge *c)
{
	struct lymph_charge *stale;
	unsigned long flags;

	if (!c->family_charged && !c->uid_charged) {
		kfree(c);
		return;
	}
	c->task = child;
	spin_lock_irqsave(&lymph_charges_lock, flags);
	stale = charge_find(child);	/* never, as the probes are ordered */
	if (stale) {
		hash_del(&stale->node);
		lymph_nr_charges--;
	}
	if (lymph_nr_charges >= LYMPH_CHARGES_MAX) {
		spin_unlock_irqrestore(&lymph_charges_lock, flags);
		kfree(stale);
		kfree(c);
		return;
	}
	hash_add(lymph_charges, &c->node, (unsigned long)child);
	lymph_nr_charges++;
	spin_unlock_irqrestore(&lymph_charges_lock, flags);
	kfree(stale);
}

/* Give back what @c took, to the same buckets, and free it. */
static void charge_give_back(struct lymph_charge *c)
{
	u64 now, burst;

	now = ktime_get_ns();
	spin_lock(&lymph_lineage_lock);
	if (c->family_charged)
		bucket_refund(lineage_key(c->family), READ_ONCE(lymph_cfg.clone_budget),
			      READ_ONCE(lymph_cfg.clone_burst), now);
	burst = READ_ONCE(lymph_cfg.uid_burst);
	if (c->uid_charged && burst)
		bucket_refund(LYMPH_KEY_UID | c->uid, READ_ONCE(lymph_cfg.uid_budget), burst, now);
	spin_unlock(&lymph_lineage_lock);
	atomic64_inc(&lymph_refunds);
	kfree(c);
}

/* @task exits: give back what its creation took, to the same buckets. */
static void charge_refund(struct task_struct *task)
{
	struct lymph_charge *c;
	unsigned long flags;

	spin_lock_irqsave(&lymph_charges_lock, flags);
	c = charge_find(task);
	if (c) {
		hash_del(&c->node);
		lymph_nr_charges--;
	}
	spin_unlock_irqrestore(&lymph_charges_lock, flags);
	if (c)
		charge_give_back(c);
}

/* Take @task's attempt in flight out of lymph_calls (NULL: none). */
static struct lymph_charge *call_take(const struct task_struct *task)
{
	struct lymph_charge *c, *found = NULL;
	unsigned long flags;

	spin_lock_irqsave(&lymph_calls_lock, flags);
	hash_for_each_possible(lymph_calls, c, node, (unsigned long)task)
		if (c->task == task) {
			hash_del(&c->node);
			WRITE_ONCE(lymph_nr_calls, lymph_nr_calls - 1);
			found = c;
			break;
		}
	spin_unlock_irqrestore(&lymph_calls_lock, flags);
	return found;
}

/*
 * Keep @c as @task's attempt in flight; frees @c when nothing was taken or
 * the table is full (then time alone refills that token).
 */
static void call_keep(struct task_struct *task, struct lymph_charge *c)
{
	struct lymph_charge *stale = NULL;
	unsigned long flags;

	/* never: sys_exit took it (and none in flight at all: no lookup) */
	if (READ_ONCE(lymph_nr_calls))
		stale = call_take(task);

	if (stale)
		charge_give_back(stale);
	if (!c->family_charged && !c->uid_charged) {
		kfree(c);
		return;
	}
	c->task = task;
	spin_lock_irqsave(&lymph_calls_lock, flags);
	if (lymph_nr_calls >= LYMPH_CHARGES_MAX) {
		spin_unlock_irqrestore(&lymph_calls_lock, flags);
		kfree(c);
		return;
	}
	hash_add(lymph_calls, &c->node, (unsigned long)task);
	WRITE_ONCE(lymph_nr_calls, lymph_nr_calls + 1);
	spin_unlock_irqrestore(&lymph_calls_lock, flags);
}

/* Whether @key's lineage is due a stop of every member; marks it done. */
static bool sweep_due(u64 key, u64 now)
{
	struct lymph_lineage *l;
	bool due = false;

	spin_lock(&lymph_lineage_lock);
	l = lineage_find(key);
	if (l && (!l->swept_ns || now - l->swept_ns >= LYMPH_SWEEP_GAP_NS)) {
		l->swept_ns = now;
		due = true;
	}
	spin_unlock(&lymph_lineage_lock);
	return due;
}

/*
 * Is @t (a thread group leader) a member of @key's lineage: of the family
 * (by the module's table: a process made before the module that never
 * forked since belongs to none yet, as in the BPF sensor) or of the uid?
 * @uid: the lineage's real uid (a family's members all have its uid).
 */
static bool lineage_member(struct task_struct *t, u64 key, u32 uid)
{
	u32 id = (u32)(key & ~LYMPH_KEY_KINDS);
	struct lymph_fam *f;
	unsigned long flags;
	bool member;

	if (real_uid(t) != uid)
		return false;	/* the cheap test first: no lock */
	if (key & LYMPH_KEY_UID)
		return true;
	spin_lock_irqsave(&lymph_fams_lock, flags);
	f = fam_find(t);
	member = f && (u32)f->id == id && f->uid == real_uid(t);
	spin_unlock_irqrestore(&lymph_fams_lock, flags);
	return member;
}

/*
 * Hold every process of @key's lineage that runs, as the BPF sensor's
 * lineage_stop_all: holding only the task that forks leaves every other
 * member free to make one more child before its own next fork, and a
 * doubling bomb of N running members grows by N per dead time.  One walk
 * over the processes under RCU (nothing in it sleeps: the holds are
 * GFP_ATOMIC, the signals are sent without the module's locks), at most
 * once per LYMPH_SWEEP_GAP_NS per lineage.  A process stopped already
 * (by lymph, by job control, by an administrator) is left as it is: the
 * end of the hold never continues what lymph did not stop.  Beyond
 * LYMPH_HOLD_MAX held, members are not held and counted in /proc/lymph
 * ("holds_missed").  Returns the processes held.
 */
static unsigned int lineage_stop_all(u64 key, u32 uid, u64 dead_ns)
{
	struct task_struct *t;
	unsigned int held = 0;

	rcu_read_lock();
	for_each_process(t) {
		if (is_global_init(t) || (t->flags & (PF_KTHREAD | PF_EXITING)))
			continue;
		if (READ_ONCE(t->signal->flags) & SIGNAL_STOP_STOPPED)
			continue;
		if (!lineage_member(t, key, uid) || lymph_protected(t))
			continue;
		if (!hold(t, dead_ns, key))
			held++;
	}
	rcu_read_unlock();
	return held;
}

/* Was @t's process last moved to another cgroup by another than lymphd? */
static bool fam_moved(struct task_struct *t)
{
	struct lymph_fam *f;
	unsigned long flags;
	bool moved;

	spin_lock_irqsave(&lymph_fams_lock, flags);
	f = fam_find(t);
	moved = f && f->moved;
	spin_unlock_irqrestore(&lymph_fams_lock, flags);
	return moved;
}

/*
 * cgroup:cgroup_attach_task, a move that was made (@task: the thread, or
 * the leader of a process moved whole): whether another than lymphd (a
 * reader of /dev/lymph) made it.  A member of a pinned family that left
 * the hold so is held at its next fork call (lymph_charge); lymphd's move
 * back clears it.  Cgroup v1 lets a process move itself into any cgroup
 * whose cgroup.procs it may write; v2 asks more, but is watched alike.
 */
static void probe_attach(void *data, struct cgroup *dst, const char *path,
			 struct task_struct *task, bool threadgroup)
{
	struct lymph_fam *f;
	unsigned long flags;

	if (task->flags & PF_KTHREAD)
		return;
	spin_lock_irqsave(&lymph_fams_lock, flags);
	f = fam_find(task);
	if (f)
		f->moved = !lymph_is_reader(task_tgid_nr(current));
	spin_unlock_irqrestore(&lymph_fams_lock, flags);
}

/* What lymph_charge() is told of an attempt. */
enum lymph_attempt {
	LYMPH_AT_CALL,	/* a fork syscall entered: charged, kept in flight */
	LYMPH_AT_MADE,	/* made or refused, not charged at a call: charged now */
	LYMPH_AT_PEEK,	/* made or refused, charged at its call: judged again */
};

/*
 * A task made by a fork charged at its call (LYMPH_AT_PEEK), judged again
 * the cheap way when it can be: nothing pinned, nothing held, no uid
 * budget, so the family's bucket alone decides; a bucket whose stored
 * tokens are not below zero is not over (a refill by time only adds), nor
 * is a lineage no longer in the table (lineage_get() would make it
 * full).  Then nothing is moved: the bucket is left to be refilled at its
 * next charge, which comes to the same tokens (but for the rounding of
 * one refill, under a milli-token) and the same verdicts.  Returns
 * whether that settled it; else lymph_charge() judges in full.
 */
static bool peek_calm(pid_t family)
{
	struct lymph_lineage *l;
	bool calm;

	if (READ_ONCE(lymph_nr_pinned) || READ_ONCE(lymph_nr_holds) ||
	    (READ_ONCE(lymph_cfg.uid_budget) && READ_ONCE(lymph_cfg.uid_burst)))
		return false;
	spin_lock(&lymph_lineage_lock);
	l = lineage_find(lineage_key(family));
	calm = !l || l->tokens >= 0;
	spin_unlock(&lymph_lineage_lock);
	return calm;
}

/*
 * Charge one attempt to grow @parent's family: a fork syscall @parent
 * enters (@how LYMPH_AT_CALL, @child NULL), a new process or thread
 * @child, or a fork refused with EAGAIN (@child NULL), to the family's
 * bucket and, behind it, to the bucket of @parent's real uid (when
 * uid_clone_budget and uid_clone_burst are set; as the BPF sensor, root is
 * charged like any uid, and a protected task or uid is not charged to its
 * uid at all); LYMPH_AT_PEEK takes nothing (its call took it) and judges
 * the buckets as they are.  Hold what went over either budget, the
 * family's first: at a call, the caller is stopped before its task is
 * made, and the fork is restarted when it is continued.
 */
static void lymph_charge(struct task_struct *parent, struct task_struct *child, pid_t family,
			 enum lymph_attempt how)
{
	s64 delta = how == LYMPH_AT_PEEK ? 0 : -(s64)LYMPH_TOKEN;
	u64 now, key, ukey = 0, uid_budget, uid_burst;
	struct lymph_verdict fv, uv = { .over = false };
	bool uid_on, prot = false, held = false, pinned, upinned, refused, left;
	u64 held_for = 0;
	struct lymph_charge *ch = NULL;

	if (parent->flags & PF_KTHREAD)
		return;
	if (how == LYMPH_AT_PEEK && child && peek_calm(family))
		return;
	/* What a new task takes, its exit gives back (allocated unlocked;
	 * every field is set below and by call_keep() or charge_keep()). */
	if ((child && how == LYMPH_AT_MADE) || how == LYMPH_AT_CALL)
		ch = kmalloc(sizeof(*ch), GFP_ATOMIC);
	now = ktime_get_ns();
	uid_budget = READ_ONCE(lymph_cfg.uid_budget);
	uid_burst = READ_ONCE(lymph_cfg.uid_burst);
	uid_on = uid_budget && uid_burst;
	if (uid_on)
		prot = lymph_protected(parent);
	key = lineage_key(family);
	if (uid_on && !prot)
		ukey = LYMPH_KEY_UID | real_uid(parent);
	/*
	 * While lymphd pins the family (or the uid), an attempt of a member
	 * to grow it is held and reported, however full the bucket (refilled
	 * during the hold, or by members' exits): a fork refused inside the
	 * pin (after its lift: the members run again), rather than left to
	 * spin on refused forks unseen, which lymphd would take for calm; and
	 * any fork called (or task made) by a member that left the hold: on
	 * cgroup v1 a process may move itself into any cgroup whose
	 * cgroup.procs it may write (a delegated sub-cgroup of its own),
	 * where pids.max 0 no longer refuses its forks.  Held at its call,
	 * such a fork is never made; lymphd, told, moves the member back into
	 * the hold, and its next call is judged in it again.  (Not every call
	 * of a pinned member: one stopped in a fork restarts it at each lift,
	 * and held at that call, it would never return to user space.)
	 */
	refused = !child && how != LYMPH_AT_CALL;
	left = !refused && READ_ONCE(lymph_nr_pinned) && fam_moved(parent);
	pinned = (refused || left) && key_pinned_now(key);
	upinned = (refused || left) && ukey && key_pinned_now(ukey);
	/* A task made by a parent the module holds (its fork was under way
	 * when the lineage was stopped) is held with it, for that lineage,
	 * however full the bucket: the lineage is being contained. */
	if (child && how == LYMPH_AT_PEEK)
		held_for = task_held(parent);

	spin_lock(&lymph_lineage_lock);
	bucket_charge(key, READ_ONCE(lymph_cfg.clone_budget), READ_ONCE(lymph_cfg.clone_burst),
		      now, pinned || held_for == key, delta, parent, &fv);
	if (ukey)
		bucket_charge(ukey, uid_budget, uid_burst, now, upinned || held_for == ukey, delta,
			      parent, &uv);
	spin_unlock(&lymph_lineage_lock);
	if (ch) {
		/* every charge took a token, over budget or not */
		ch->family = family;
		ch->family_charged = true;
		ch->uid = real_uid(parent);
		ch->uid_charged = ukey != 0;
		if (how == LYMPH_AT_CALL)
			call_keep(parent, ch);
		else
			charge_keep(child, ch);
	}

	if (!fv.over && !uv.over)
		return;
	if (prot || (!uid_on && lymph_protected(parent)))
		return;
	if (!fv.over) {
		fv = uv;	/* the uid's budget, the last line */
		key = ukey;
	}
	/*
	 * Hold the new child too: in a bomb whose children carry on (a
	 * fresh tgid per fork), stopping only the parent would slow nothing.
	 * The child has not run yet; it stops before its first instruction.
	 * A new thread is held with its process (one hold per tgid).  Then
	 * every other member that runs (at most once per LYMPH_SWEEP_GAP_NS).
	 */
	if (READ_ONCE(lymph_cfg.mode) == LYMPH_MODE_ENFORCE) {
		/* Held already counts: a sweep that another member's fork
		 * made (a lift lets them all go at once) may hold this one
		 * while it forks, and it is no less held for that. */
		held = held_now(hold(parent, fv.dead_ns, key));
		if (child && !lymph_protected(child))
			held |= held_now(hold(child, fv.dead_ns, key));
		if (sweep_due(key, now))
			held |= lineage_stop_all(key, real_uid(parent), fv.dead_ns) > 0;
	}
	report(parent, child, key, fv.tokens, fv.dead_ns, held);
	if (READ_ONCE(lymph_cfg.mode) == LYMPH_MODE_ENFORCE && !held)
		return;
	lineage_held(key);
}

/*
 * sched_process_fork probe, for new processes and threads; current is the
 * parent.  A thread belongs to its process's family and is charged to it
 * as a new process is (a thread bomb is a fork bomb), as the BPF sensor
 * does.
 */
void lymph_lineage_fork(struct task_struct *parent, struct task_struct *child)
{
	struct lymph_charge *c = NULL;
	pid_t family;

	if (child->pid == child->tgid)
		family = family_fork(parent, child);
	else if (!(parent->flags & PF_KTHREAD))
		family = family_of(parent);
	else
		return;		/* a kernel thread's own threads */
	if (parent == current && !(parent->flags & PF_KTHREAD))
		c = call_take(parent);
	if (!c) {
		/* no call charged: a task made without a fork syscall (an
		 * io_uring worker), or by a family boundary */
		lymph_charge(parent, child, family, LYMPH_AT_MADE);
		return;
	}
	/* Charged at the call: the token goes with the child, and its
	 * exit gives it back; held if the family is over budget now. */
	family = c->family;
	charge_keep(child, c);
	lymph_charge(parent, child, family, LYMPH_AT_PEEK);
}

static bool fork_nr(long nr)
{
	return nr == __NR_clone || nr == __NR_fork || nr == __NR_vfork || nr == __NR_clone3;
}

/*
 * raw_syscalls:sys_enter: a fork syscall is charged when it is called
 * (lymph_calls), but by a family boundary (pid 1, lymphd), whose child
 * starts a family of its own and is charged to it when made.
 */
static void probe_sys_enter(void *data, struct pt_regs *regs, long id)
{
	if (!fork_nr(id) || (current->flags & PF_KTHREAD) || family_boundary(current))
		return;
	lymph_charge(current, NULL, family_of(current), LYMPH_AT_CALL);
}

/*
 * raw_syscalls:sys_exit: a fork syscall that made no task gives its
 * call's token back (an error, a restart after a stop), but a fork
 * refused with EAGAIN: that one is an attempt to grow, kept, and judged
 * (charged now when its call was not).
 */
static void probe_sys_exit(void *data, struct pt_regs *regs, long ret)
{
	struct lymph_charge *c;
	pid_t family;

	if (current->flags & PF_KTHREAD)
		return;
	if (!fork_nr(syscall_get_nr(current, regs)))
		return;
	/* none when the task was made (and none in flight at all: no
	 * lookup; an entry of current's own would keep the count above 0) */
	c = READ_ONCE(lymph_nr_calls) ? call_take(current) : NULL;
	if (ret != -EAGAIN) {
		/* A call stopped at it (over budget) gives its token back
		 * too, and is charged again when it is restarted: kept, each
		 * restart after a hold would take one more, and a caller
		 * that keeps calling would never see its bucket refill (a
		 * shell waiting to fork once more hung so).  What was under
		 * way meanwhile is held with its parent (lymph_lineage_fork). */
		if (c)
			charge_give_back(c);
		return;
	}
	if (!c) {
		lymph_charge(current, NULL, family_of(current), LYMPH_AT_MADE);
		return;
	}
	family = c->family;
	kfree(c);
	lymph_charge(current, NULL, family, LYMPH_AT_PEEK);
}

struct lymph_lineage_probe {
	const char *name;
	void *func;
	struct tracepoint *tp;
	bool registered;
};

static struct lymph_lineage_probe lymph_lineage_probes[] = {
	{ .name = "sched_process_exit",	.func = probe_exit_fam },
	{ .name = "signal_generate",	.func = probe_stop_signal },
	{ .name = "sys_exit",		.func = probe_sys_exit },
	{ .name = "sys_enter",		.func = probe_sys_enter },
	{ .name = "cgroup_attach_task",	.func = probe_attach },
};

static void find_lineage_tp(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lymph_lineage_probes); i++)
		if (!strcmp(tp->name, lymph_lineage_probes[i].name))
			lymph_lineage_probes[i].tp = tp;
}

static void lineage_probes_off(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lymph_lineage_probes); i++) {
		if (!lymph_lineage_probes[i].registered)
			continue;
		tracepoint_probe_unregister(lymph_lineage_probes[i].tp,
					    lymph_lineage_probes[i].func, NULL);
		lymph_lineage_probes[i].registered = false;
	}
	tracepoint_synchronize_unregister();
}

void lymph_lineage_show(struct seq_file *m)
{
	u64 now = ktime_get_ns();
	unsigned int i, nr_holds, parked, pinners, pinned = 0;
	struct lymph_lineage *l;
	unsigned long flags;

	spin_lock_irqsave(&lymph_holds_lock, flags);
	nr_holds = lymph_nr_holds;
	parked = lymph_nr_parked;
	pinners = lymph_nr_pinners;
	for (i = 0; i < LYMPH_PINNED_MAX; i++)
		pinned += lymph_pinned[i].key != 0;
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	seq_printf(m, "holds: active %u total %llu\n", nr_holds,
		   (u64)atomic64_read(&lymph_holds_total));
	seq_printf(m, "holds_pinned: parked %u waited %llu lineages %u pinners %u\n", parked,
		   (u64)atomic64_read(&lymph_holds_waited), pinned, pinners);
	seq_printf(m, "holds_missed: %llu\n", (u64)atomic64_read(&lymph_holds_missed));
	spin_lock_irqsave(&lymph_charges_lock, flags);
	nr_holds = lymph_nr_charges;
	spin_unlock_irqrestore(&lymph_charges_lock, flags);
	seq_printf(m, "charges: live %u refunded %llu\n", nr_holds,
		   (u64)atomic64_read(&lymph_refunds));
	seq_puts(m, "throttled lineages:\n");
	spin_lock(&lymph_lineage_lock);
	for (i = 0; i < (1 << LYMPH_LINEAGE_BITS); i++) {
		l = &lymph_lineages[i];
		if (!l->key || !l->over_ns || now - l->over_ns > l->dead_ns + LYMPH_CALM_NS)
			continue;
		seq_printf(m, "  %s %llu comm %s forks %llu over %llu %s %llu dead_time_ms %llu\n",
			   key_name(l->key), l->key & ~LYMPH_KEY_KINDS, l->comm, l->forks, l->overs,
			   READ_ONCE(lymph_cfg.mode) == LYMPH_MODE_ENFORCE ? "held" : "would_hold",
			   l->holds, div_u64(dead_decayed(l, now), NSEC_PER_MSEC));
	}
	spin_unlock(&lymph_lineage_lock);
}

int lymph_lineage_init(void)
{
	unsigned int i;
	int err;

	lymph_lineages = kvcalloc(1 << LYMPH_LINEAGE_BITS, sizeof(*lymph_lineages),
				  GFP_KERNEL);
	if (!lymph_lineages)
		return -ENOMEM;
	for_each_kernel_tracepoint(find_lineage_tp, NULL);
	for (i = 0; i < ARRAY_SIZE(lymph_lineage_probes); i++) {
		if (!lymph_lineage_probes[i].tp) {
			pr_err("tracepoint %s not found\n", lymph_lineage_probes[i].name);
			err = -ENOENT;
			goto err_off;
		}
		err = tracepoint_probe_register(lymph_lineage_probes[i].tp,
						lymph_lineage_probes[i].func, NULL);
		if (err) {
			pr_err("failed to register probe on %s: %d\n",
			       lymph_lineage_probes[i].name, err);
			goto err_off;
		}
		lymph_lineage_probes[i].registered = true;
	}
	return 0;

err_off:
	lineage_probes_off();
	kvfree(lymph_lineages);
	return err;
}

/* After the probes are gone: continue every held task, free everything. */
void lymph_lineage_exit(void)
{
	struct lymph_hold *h;
	unsigned long flags;
	unsigned int released = 0;
	struct lymph_charge *c;
	struct lymph_fam *f;
	struct hlist_node *tmp;
	int bkt;

	lineage_probes_off();
	spin_lock_irqsave(&lymph_holds_lock, flags);
	lymph_holds_closed = true;
	spin_unlock_irqrestore(&lymph_holds_lock, flags);
	for (;;) {
		h = NULL;
		spin_lock_irqsave(&lymph_holds_lock, flags);
		hash_for_each(lymph_holds, bkt, h, node)
			break;
		if (h) {
			hash_del(&h->node);
			lymph_nr_holds--;
			hold_unpark(h);
		}
		spin_unlock_irqrestore(&lymph_holds_lock, flags);
		if (!h)
			break;
		timer_delete_sync(&h->timer);
		if (!READ_ONCE(h->admin_stopped))
			kill_pid(h->pid, SIGCONT, 1);
		put_pid(h->pid);
		kfree(h);
		released++;
	}
	if (released)
		pr_info("released %u held task(s)\n", released);
	hash_for_each_safe(lymph_fams, bkt, tmp, f, node) {
		hash_del(&f->node);
		kfree(f);
	}
	lymph_nr_fams = 0;
	hash_for_each_safe(lymph_charges, bkt, tmp, c, node) {
		hash_del(&c->node);
		kfree(c);
	}
	lymph_nr_charges = 0;
	hash_for_each_safe(lymph_calls, bkt, tmp, c, node) {
		hash_del(&c->node);
		kfree(c);
	}
	lymph_nr_calls = 0;
	kvfree(lymph_lineages);
}
