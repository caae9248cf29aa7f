// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sensors: probes on the kernel's own tracepoints, found by name with
 * for_each_kernel_tracepoint() and attached with tracepoint_probe_register()
 * (both exported).  They produce the records of include/lymph/events.h with
 * the same meaning as the BPF sensors in bpf/sensors.bpf.c, so lymphd cannot
 * tell the two apart except by hdr.source.
 *
 * Probes run with preemption disabled and may run in interrupt context
 * (signal_generate): no sleeping, GFP_ATOMIC only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/mm_types.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <asm/word-at-a-time.h>
#include "lymph.h"

/* include/trace/events/signal.h's enum, not included: it declares probes. */
#define LYMPH_TRACE_SIGNAL_DELIVERED	0
#define LYMPH_TRACE_SIGNAL_LOSE_INFO	4

/*
 * The fatal signal last generated for a thread group, kept until the group
 * dies so that its death record says who killed it and how.  A small
 * direct-mapped table: a collision overwrites (that death then lacks
 * LYMPH_DEATH_SIGINFO), and (tgid, start_ns) guards against pid reuse.
 */
#define LYMPH_PENDING_BITS	12

struct lymph_pending {
	u64 start_ns;		/* group leader's start time, 0 = free slot */
	u64 fault_addr;
	u64 exe_ino;		/* the binary, read while the mm still exists */
	u32 exe_dev;
	u32 tgid;
	u32 signo;
	s32 si_code;
	u32 sender_pid;
	u32 sender_uid;
	u32 flags;		/* LYMPH_DEATH_SELF | LYMPH_DEATH_OOM | LYMPH_PENDING_DEAD */
};

/* Private flag: this group's death was reported (see probe_exit()). */
#define LYMPH_PENDING_DEAD	(1u << 31)

static struct lymph_pending *lymph_pending;
static DEFINE_SPINLOCK(lymph_pending_lock);

static struct lymph_pending *pending_slot(u32 tgid)
{
	return &lymph_pending[hash_32(tgid, LYMPH_PENDING_BITS)];
}

/*
 * The executable of a task.  Current's mm cannot change under current, so
 * it needs no lock.  For another task, task_lock() keeps its mm, but it is
 * only tried: the OOM killer sends SIGKILL while holding its victim's
 * task_lock, so signal_generate may run with that very lock held.
 * mm->exe_file is RCU-protected.
 */
static void mm_exe(struct mm_struct *mm, u32 *dev, u64 *ino)
{
	struct file *exe;

	rcu_read_lock();
	exe = rcu_dereference(mm->exe_file);
	if (exe) {
		struct inode *inode = file_inode(exe);

		*ino = inode->i_ino;
		*dev = new_encode_dev(inode->i_sb->s_dev);
	}
	rcu_read_unlock();
}

static void task_exe(struct task_struct *task, u32 *dev, u64 *ino)
{
	*dev = 0;
	*ino = 0;
	if (task == current) {
		if (current->mm)
			mm_exe(current->mm, dev, ino);
		return;
	}
	if (!spin_trylock(&task->alloc_lock))
		return;
	if (task->mm)
		mm_exe(task->mm, dev, ino);
	spin_unlock(&task->alloc_lock);
}

/*
 * A task's comm into a record, as strscpy_pad() would copy it (the bytes
 * up to the first NUL, at most 15, then NULs to the end), in two word
 * loads and a mask: strscpy_pad() (a call, a byte-counting loop, then a
 * memset) was a tenth of the module's work on a fork + crash.  Lockless
 * like get_task_comm() in recent kernels (6.1's takes task_lock): a
 * rename racing with it gives a mix of the two names, as there.
 */
void lymph_comm_copy(u8 *dst, const char *src)
{
	const struct word_at_a_time k = WORD_AT_A_TIME_CONSTANTS;
	unsigned long w[LYMPH_COMM_LEN / sizeof(long)], mask;
	bool nul = false;
	unsigned int i;

	BUILD_BUG_ON(LYMPH_COMM_LEN % sizeof(long) || TASK_COMM_LEN < LYMPH_COMM_LEN);
	memcpy(w, src, sizeof(w));
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		if (nul) {
			w[i] = 0;
		} else if (has_zero(w[i], &mask, &k)) {
			mask = create_zero_mask(prep_zero_mask(w[i], mask, &k));
			w[i] &= zero_bytemask(mask);
			nul = true;
		}
	}
	memcpy(dst, w, sizeof(w));
	dst[LYMPH_COMM_LEN - 1] = 0;	/* no NUL in it: the first 15 bytes */
}

void lymph_fill_task(struct lymph_task *t, struct task_struct *task)
{
	rcu_read_lock();
	t->cgroup_id = cgroup_id(task_dfl_cgroup(task));
	t->ppid = task_tgid_nr(rcu_dereference(task->real_parent));
	t->uid = __kuid_val(task_uid(task));	/* kuid == uid in init_user_ns */
	t->sid = pid_nr(task_session(task));	/* number in the init pid ns */
	rcu_read_unlock();
	t->start_ns = task->group_leader->start_time;
	t->pid = task->tgid;
	t->tid = task->pid;
	lymph_comm_copy(t->comm, task->comm);
	task_exe(task, &t->exe_dev, &t->exe_ino);
}

/* The kernel's sig_fatal(), with task->sighand read as the __rcu pointer
 * it is.  Called with the target's siglock held: action[] is stable. */
static bool lymph_sig_fatal(struct task_struct *task, int sig)
{
	struct sighand_struct *sh;
	bool fatal;

	if (siginmask(sig, SIG_KERNEL_IGNORE_MASK | SIG_KERNEL_STOP_MASK))
		return false;
	rcu_read_lock();
	sh = rcu_dereference(task->sighand);
	fatal = sh && sh->action[sig - 1].sa.sa_handler == SIG_DFL;
	rcu_read_unlock();
	return fatal;
}

static void probe_signal_generate(void *data, int sig, struct kernel_siginfo *info,
				  struct task_struct *task, int group, int result)
{
	struct lymph_pending p = {}, *slot;
	struct lymph_signal rec;
	unsigned long flags;

	/* 1. Only signals that will end the process: default action, fatal. */
	if (sig <= 0 || sig > _NSIG || !lymph_sig_fatal(task, sig))
		return;
	if (result != LYMPH_TRACE_SIGNAL_DELIVERED &&
	    result != LYMPH_TRACE_SIGNAL_LOSE_INFO)
		return;
	if (task->flags & PF_KTHREAD)
		return;

	/* 2. Who sent it: no info is kill(2) from current, PRIV the kernel. */
	p.signo = sig;
	if (info == SEND_SIG_NOINFO) {
		p.si_code = SI_USER;
	} else if (info == SEND_SIG_PRIV) {
		p.si_code = SI_KERNEL;
	} else {
		p.si_code = info->si_code;
		if (lymph_fault_with_addr(sig, p.si_code))
			p.fault_addr = (unsigned long)info->si_addr;
	}
	if (p.si_code == SI_USER || p.si_code == SI_QUEUE || p.si_code == SI_TKILL) {
		p.sender_pid = task_tgid_nr(current);
		p.sender_uid = __kuid_val(current_uid());
	} else if (p.si_code <= 0) {
		p.sender_pid = info->si_pid;
		p.sender_uid = info->si_uid;
	}
	if (p.si_code <= 0 && p.sender_pid == task->tgid)
		p.flags |= LYMPH_DEATH_SELF;

	/* 3. Remember it, with the binary, until the group dies. */
	p.tgid = task->tgid;
	p.start_ns = task->group_leader->start_time;
	task_exe(task, &p.exe_dev, &p.exe_ino);
	slot = pending_slot(p.tgid);
	spin_lock_irqsave(&lymph_pending_lock, flags);
	if (slot->tgid == p.tgid && slot->start_ns == p.start_ns) {
		if (slot->flags & LYMPH_PENDING_DEAD)
			goto unlock;	/* dead already; a late signal */
		p.flags |= slot->flags & LYMPH_DEATH_OOM;
	}
	*slot = p;
unlock:
	spin_unlock_irqrestore(&lymph_pending_lock, flags);

	/* 4. A fatal signal from another process is an event of its own. */
	if (p.si_code > 0 || (p.flags & LYMPH_DEATH_SELF) || !p.sender_pid)
		return;
	memset(&rec, 0, sizeof(rec));
	lymph_fill_task(&rec.task, task);
	rec.sender_pid = p.sender_pid;
	rec.sender_uid = p.sender_uid;
	rec.signo = sig;
	rec.si_code = p.si_code;
	lymph_comm_copy(rec.sender_comm, current->comm);
	lymph_emit(&rec, LYMPH_EV_SIGNAL, sizeof(rec));
}

/* The shared rule (include/lymph/danger.h), as lymphd applies it. */
static bool danger(const struct lymph_death *d)
{
	return lymph_reason_class(lymph_death_reason(d->flags, d->signo, d->si_code)) ==
	       LYMPH_CLASS_DANGER;
}

static void probe_exit(void *data, LYMPH_EXIT_PROBE_ARGS)
{
	u64 start = p->group_leader->start_time;
	struct lymph_pending pend = {}, *slot;
	struct lymph_death rec;
	unsigned long flags;
	bool threaded;
	u32 sig;

	/* 1. One record per process: when its last thread exits. */
	if (atomic_read(&p->signal->live) || (p->flags & PF_KTHREAD))
		return;

	/*
	 * 2. Take what signal_generate remembered about this group.  Threads
	 * that exit together may all see live == 0 here: the first leaves a
	 * mark so that the others stay silent.  Threads not yet released
	 * still count in nr_threads, so a lone thread needs (and takes) no
	 * slot for the mark.
	 */
	threaded = get_nr_threads(p) > 1;
	slot = pending_slot(p->tgid);
	spin_lock_irqsave(&lymph_pending_lock, flags);
	if (slot->tgid == p->tgid && slot->start_ns == start) {
		if (slot->flags & LYMPH_PENDING_DEAD) {
			spin_unlock_irqrestore(&lymph_pending_lock, flags);
			return;
		}
		pend = *slot;
		memset(slot, 0, sizeof(*slot));
	}
	if (threaded) {
		slot->tgid = p->tgid;
		slot->start_ns = start;
		slot->flags = LYMPH_PENDING_DEAD;
	}
	spin_unlock_irqrestore(&lymph_pending_lock, flags);

	memset(&rec, 0, sizeof(rec));
	rec.hdr.ts_ns = ktime_get_ns();
	lymph_fill_task(&rec.task, p);
	rec.exit_code = p->exit_code;
	sig = rec.exit_code & 0x7f;
	rec.signo = sig;
	rec.age_ns = rec.hdr.ts_ns - rec.task.start_ns;
	if (rec.exit_code & 0x80)
		rec.flags |= LYMPH_DEATH_CORE;

	rec.flags |= pend.flags & LYMPH_DEATH_OOM;
	/* 3. Attach how it was killed, if that is what killed it. */
	if (sig && pend.signo == sig) {
		rec.flags |= LYMPH_DEATH_SIGINFO | (pend.flags & LYMPH_DEATH_SELF);
		rec.si_code = pend.si_code;
		rec.sender_pid = pend.sender_pid;
		rec.sender_uid = pend.sender_uid;
		rec.fault_addr = pend.fault_addr;
	}
	/* 4. The exit tracepoint comes after exit_mm(): the mm is gone. */
	if (!rec.task.exe_ino) {
		rec.task.exe_ino = pend.exe_ino;
		rec.task.exe_dev = pend.exe_dev;
	}
	if (danger(&rec) && rec.task.exe_ino)
		lymph_crash_record(rec.task.exe_dev, rec.task.exe_ino,
				   rec.task.comm, sig, rec.hdr.ts_ns);
	lymph_emit(&rec, LYMPH_EV_DEATH, sizeof(rec));
}

static void probe_fork(void *data, struct task_struct *parent,
		       struct task_struct *child)
{
	struct lymph_fork rec;

	/* A new thread (it shares its parent's tgid) is charged to its
	 * family too (a thread bomb), but only processes get a record. */
	if (child->pid != child->tgid) {
		lymph_lineage_fork(parent, child);
		return;
	}
	memset(&rec, 0, sizeof(rec));
	lymph_fill_task(&rec.task, child);
	lymph_emit(&rec, LYMPH_EV_FORK, sizeof(rec));
	lymph_lineage_fork(parent, child);
}

static void probe_exec(void *data, struct task_struct *p, pid_t old_pid,
		       struct linux_binprm *bprm)
{
	struct lymph_exec rec;

	memset(&rec, 0, sizeof(rec));
	lymph_fill_task(&rec.task, p);
	strscpy_pad((char *)rec.path, bprm->filename, sizeof(rec.path));
	lymph_emit(&rec, LYMPH_EV_EXEC, sizeof(rec));
}

static void probe_mark_victim(void *data, struct task_struct *task, uid_t uid)
{
	struct lymph_pending *slot = pending_slot(task->tgid);
	u64 start = task->group_leader->start_time;
	struct lymph_oom rec;
	unsigned long flags;

	/* Remember it, so the death that follows is classed as an OOM kill. */
	spin_lock_irqsave(&lymph_pending_lock, flags);
	if (slot->tgid != task->tgid || slot->start_ns != start) {
		memset(slot, 0, sizeof(*slot));
		slot->tgid = task->tgid;
		slot->start_ns = start;
	}
	slot->flags |= LYMPH_DEATH_OOM;
	spin_unlock_irqrestore(&lymph_pending_lock, flags);

	memset(&rec, 0, sizeof(rec));
	lymph_fill_task(&rec.task, task);
	rec.oom_score_adj = task->signal->oom_score_adj;
	lymph_emit(&rec, LYMPH_EV_OOM, sizeof(rec));
}

struct lymph_probe {
	const char *name;
	void *func;
	struct tracepoint *tp;
	bool registered;
};

static struct lymph_probe lymph_probes[] = {
	{ .name = "signal_generate",	.func = probe_signal_generate },
	{ .name = "sched_process_exit",	.func = probe_exit },
	{ .name = "sched_process_fork",	.func = probe_fork },
	{ .name = "sched_process_exec",	.func = probe_exec },
	{ .name = "mark_victim",	.func = probe_mark_victim },
};

static void find_tracepoint(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(lymph_probes); i++)
		if (!strcmp(tp->name, lymph_probes[i].name))
			lymph_probes[i].tp = tp;
}

static void unregister_probes(void)
{
	int i;

	for (i = ARRAY_SIZE(lymph_probes) - 1; i >= 0; i--) {
		if (!lymph_probes[i].registered)
			continue;
		tracepoint_probe_unregister(lymph_probes[i].tp,
					    lymph_probes[i].func, NULL);
		lymph_probes[i].registered = false;
	}
	/* No probe runs, or will run, after this. */
	tracepoint_synchronize_unregister();
}

int lymph_sensors_init(void)
{
	int i, err;

	lymph_pending = kcalloc(1 << LYMPH_PENDING_BITS, sizeof(*lymph_pending),
				GFP_KERNEL);
	if (!lymph_pending)
		return -ENOMEM;

	for_each_kernel_tracepoint(find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(lymph_probes); i++) {
		if (!lymph_probes[i].tp) {
			pr_err("tracepoint %s not found\n", lymph_probes[i].name);
			err = -ENOENT;
			goto err_unregister;
		}
		err = tracepoint_probe_register(lymph_probes[i].tp,
						lymph_probes[i].func, NULL);
		if (err) {
			pr_err("failed to register probe on %s: %d\n",
			       lymph_probes[i].name, err);
			goto err_unregister;
		}
		lymph_probes[i].registered = true;
	}
	return 0;

err_unregister:
	unregister_probes();
	kfree(lymph_pending);
	return err;
}

void lymph_sensors_exit(void)
{
	unregister_probes();
	kfree(lymph_pending);
}
