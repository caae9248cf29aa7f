// SPDX-License-Identifier: GPL-2.0-only
/*
 * The proc-connector source: lymphd's fallback when neither lymph.ko nor
 * the BPF sensors are available.
 *
 * The kernel's process events connector (NETLINK_CONNECTOR, CN_IDX_PROC)
 * multicasts one small message per fork, exec, exit, uid/sid/comm change.
 * It says much less than the other sensors:
 *  - no siginfo: no si_code, no sender, no fault address, so a SIGSEGV sent
 *    by kill(1) cannot be told from a real fault;
 *  - no OOM marking;
 *  - only pids: everything else about a process (binary, uid, session, ...)
 *    is read from /proc when the event is received, and a process that is
 *    already gone by then cannot be read at all;
 *  - lossy: when the socket buffer is full the kernel drops messages and
 *    the next recv() fails with ENOBUFS, without saying how many.
 * Because a process is gone by the time its exit is reported, this source
 * keeps a bounded pid table of what it knew about every live process
 * (filled by a /proc scan at open, kept current by fork/exec/uid/sid/comm
 * events, consumed at exit) and describes the dead process from it.
 *
 * A death is reported when the thread-group leader exits.  Two rare cases
 * follow from that: a process whose main thread calls pthread_exit() while
 * other threads run is reported dead early (with the leader's status), and
 * an execve() from a non-leader thread, which kills the old leader, is
 * reported as an exit-0 death followed by the exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "clock.h"
#include "hashtab.h"
#include "procfs.h"
#include "smallfile.h"
#include "source.h"

/*
 * Pid table (lib/hashtab): a power of two of slots, filled to at most 3/4
 * so probes stay short.  Bounded: beyond PT_MAX live
 * entries new processes are not tracked (their deaths are still reported,
 * with pid and parent only).  64 bytes a slot: 4 MiB.
 */
#define PT_BITS	 16
#define PT_SLOTS (1u << PT_BITS)
#define PT_MAX	 (PT_SLOTS / 4 * 3)

/* Entries of processes whose exit we missed (ENOBUFS) are pruned by
 * checking that the pid still exists, at most this often. */
#define PT_PRUNE_INTERVAL_NS (10ull * 1000000000ull)

/* pt_entry.flags */
#define PT_KTHREAD (1u << 0)

/* PF_KTHREAD in the flags field (9) of /proc/PID/stat. */
#define PROC_PF_KTHREAD 0x00200000u

/*
 * Inode numbers of the initial user and pid namespaces (the kernel's
 * PROC_USER_INIT_INO, PROC_PID_INIT_INO; fixed since Linux 3.8).  The
 * connector silently ignores a listen request from any other namespace.
 */
#define INIT_USER_NS_INO 0xEFFFFFFDu
#define INIT_PID_NS_INO	 0xEFFFFFFCu

/* How long open waits for the kernel to acknowledge the listen request. */
#define ACK_TIMEOUT_MS 1000
#define ACK_ATTEMPTS   2

/*
 * Socket receive buffer.  Each event is one ~100-byte datagram but costs
 * ~1 KiB of buffer (skb overhead), so 8 MiB absorbs a burst of several
 * thousand events while lymphd is busy.  SO_RCVBUFFORCE (root) ignores
 * net.core.rmem_max; plain SO_RCVBUF is capped by it.
 */
#define RCVBUF_BYTES (8 << 20)

/* One datagram holds one event message (~80 bytes); MSG_TRUNC past this. */
#define RECV_BUF_BYTES 8192

struct pt_entry {
	__u64 exe_ino;
	__u64 start_ns; /* CLOCK_MONOTONIC, 0 when unknown */
	__u64 cgroup_id;
	__u32 pid; /* tgid; 0 marks an empty slot */
	__u32 ppid;
	__u32 uid;
	__u32 sid;
	__u32 exe_dev;
	__u32 flags; /* PT_* */
	__u8 comm[LYMPH_COMM_LEN];
};

struct proc_src {
	struct source *src;
	struct mnl_socket *nl;
	struct hashtab pt; /* of struct pt_entry, keyed pid */
	__u32 seq;	   /* cn_msg.seq of our last request */
	__u32 cookie;	   /* cn_msg.ack of our requests; the kernel acks cookie + 1 */
	int subscribed;	   /* the kernel acknowledged our listen request */
	int ack_err;	   /* errno the kernel put in its ack */
	int emit;	   /* 0 while subscribing: track, do not emit */
	int want_fork;
	int want_exec;
	int sink_err;	 /* -errno returned by the sink, stops draining */
	__u64 lost;	 /* ENOBUFS seen since the last DROP record */
	__u64 untracked; /* processes not tracked: table full */
	__u64 last_prune_ns;
	long clk_tck;
	char cgroup2[256]; /* cgroup2 mount point, "" when none */
	char buf[RECV_BUF_BYTES] __attribute__((aligned(8)));
};

/* ---- pid table ------------------------------------------------------- */

static int pt_used(const void *p)
{
	return ((const struct pt_entry *)p)->pid != 0;
}

static uint64_t pt_hash(const void *p)
{
	return hash_u64(((const struct pt_entry *)p)->pid);
}

static int pt_match(const void *p, const void *key)
{
	return ((const struct pt_entry *)p)->pid == *(const __u32 *)key;
}

static const struct hashtab_ops pt_ops = {
	.used = pt_used,
	.hash = pt_hash,
	.match = pt_match,
};

static struct pt_entry *pt_get(struct proc_src *ps, __u32 pid)
{
	return hashtab_find(&ps->pt, &pid, hash_u64(pid));
}

static void pt_prune(struct proc_src *ps);

/* Insert or replace.  Returns 0, or -ENOSPC when the table is full. */
static int pt_put(struct proc_src *ps, const struct pt_entry *e)
{
	struct pt_entry *slot = hashtab_probe(&ps->pt, &e->pid, hash_u64(e->pid));

	if (slot->pid) {
		*slot = *e;
		return 0;
	}
	if (ps->pt.count >= PT_MAX) {
		/* Likely full of processes whose exit was lost: prune, retry. */
		pt_prune(ps);
		if (ps->pt.count >= PT_MAX) {
			ps->untracked++;
			return -ENOSPC;
		}
		slot = hashtab_probe(&ps->pt, &e->pid, hash_u64(e->pid));
	}
	*slot = *e;
	ps->pt.count++;
	return 0;
}

static void pt_del(struct proc_src *ps, struct pt_entry *e)
{
	hashtab_remove(&ps->pt, e);
}

/* A pid exists (possibly as a zombie) if it can be signalled. */
static int pid_alive(__u32 pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/*
 * Drop entries of processes that no longer exist: their exit event was
 * lost.  Rebuilds the table; rate-limited because it costs one syscall per
 * entry.
 */
static void pt_prune(struct proc_src *ps)
{
	struct hashtab old = ps->pt;
	__u64 now = clock_mono_ns();
	size_t i;

	if (ps->last_prune_ns && now - ps->last_prune_ns < PT_PRUNE_INTERVAL_NS)
		return;
	ps->last_prune_ns = now;
	if (hashtab_init(&ps->pt, &pt_ops, sizeof(struct pt_entry), PT_SLOTS)) {
		ps->pt = old; /* keep the old table; retried next interval */
		return;
	}
	for (i = 0; i < old.cap; i++) {
		const struct pt_entry *e = hashtab_at(&old, i);

		if (e->pid && pid_alive(e->pid))
			pt_put(ps, e);
	}
	hashtab_free(&old);
}

/* ---- /proc ----------------------------------------------------------- */

/* Difference CLOCK_BOOTTIME - CLOCK_MONOTONIC: time spent suspended. */
static __u64 suspend_ns(void)
{
	__u64 boot = clock_boot_ns(), mono = clock_mono_ns();

	return boot > mono ? boot - mono : 0;
}

/*
 * /proc/PID/stat: comm, ppid, session, kernel-thread flag, start time.
 * comm sits in parentheses and may itself contain ") ", so the fields are
 * parsed after the last ')'.  starttime is in clock ticks of CLOCK_BOOTTIME;
 * it becomes CLOCK_MONOTONIC ns to the tick (10 ms), which is the best
 * /proc offers.
 */
static int proc_read_stat(struct proc_src *ps, __u32 pid, struct pt_entry *e)
{
	char path[64], buf[1024], *open_paren, *close_paren;
	unsigned long long start_ticks;
	unsigned int flags;
	int ppid, sid;
	size_t len;
	ssize_t n;
	char state;
	__u64 boot_ns, susp;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	n = small_file_read(path, 0, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EINVAL;
	if (sscanf(close_paren + 1,
		   " %c %d %*d %d %*d %*d %u %*s %*s %*s %*s %*s %*s %*s %*s"
		   " %*s %*s %*s %*s %llu",
		   &state, &ppid, &sid, &flags, &start_ticks) != 5)
		return -EINVAL;

	len = (size_t)(close_paren - open_paren - 1);
	if (len > LYMPH_COMM_LEN - 1)
		len = LYMPH_COMM_LEN - 1;
	memset(e->comm, 0, sizeof(e->comm));
	memcpy(e->comm, open_paren + 1, len);
	e->ppid = ppid > 0 ? (__u32)ppid : 0;
	e->sid = sid > 0 ? (__u32)sid : 0;
	e->flags = (flags & PROC_PF_KTHREAD) ? PT_KTHREAD : 0;
	boot_ns = start_ticks * (1000000000ull / (__u64)ps->clk_tck);
	susp = suspend_ns();
	e->start_ns = boot_ns > susp ? boot_ns - susp : 0;
	return 0;
}

/* Real uid: first field of "Uid:" in /proc/PID/status. */
static int proc_read_uid(__u32 pid, __u32 *uid)
{
	char path[64], buf[4096], *p;
	unsigned int u;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	n = small_file_read(path, 0, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%u", &u) != 1)
		return -EINVAL;
	*uid = u;
	return 0;
}

/*
 * cgroup v2 id: the inode number of the cgroup's directory in the cgroup2
 * mount (what bpf_get_current_cgroup_id() returns).  0 without cgroup2.
 */
static __u64 proc_read_cgroup(struct proc_src *ps, __u32 pid)
{
	char path[64], buf[4096], dir[4352], *p, *nl;
	struct stat st;

	if (!ps->cgroup2[0])
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	if (small_file_read(path, 0, buf, sizeof(buf)) < 0)
		return 0;
	/* The unified hierarchy's line is "0::/path". */
	p = strncmp(buf, "0::", 3) == 0 ? buf : strstr(buf, "\n0::");
	if (!p)
		return 0;
	p += p == buf ? 3 : 4;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	snprintf(dir, sizeof(dir), "%s%s", ps->cgroup2, p);
	if (stat(dir, &st) < 0)
		return 0;
	return st.st_ino;
}

/*
 * The running binary: readlink and stat of /proc/PID/exe.  stat follows
 * the link to the binary itself, and st_dev has the kernel's
 * new_encode_dev() encoding that lymph_task.exe_dev uses.  Fails for
 * kernel threads and for processes that are exiting (no mm any more).
 */
static int proc_read_exe(__u32 pid, struct pt_entry *e, char *exe, size_t size)
{
	char path[64];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (exe) {
		n = readlink(path, exe, size - 1);
		exe[n < 0 ? 0 : n] = '\0';
	}
	if (stat(path, &st) < 0)
		return -errno;
	e->exe_dev = (__u32)st.st_dev;
	e->exe_ino = st.st_ino;
	return 0;
}

/* Everything /proc says about pid.  Fails only if its stat cannot be read. */
static int proc_read(struct proc_src *ps, __u32 pid, struct pt_entry *e, char *exe, size_t exe_size)
{
	int err;

	memset(e, 0, sizeof(*e));
	e->pid = pid;
	err = proc_read_stat(ps, pid, e);
	if (err)
		return err;
	/* The process can vanish between these reads; keep what was read. */
	proc_read_uid(pid, &e->uid);
	proc_read_exe(pid, e, exe, exe_size);
	e->cgroup_id = proc_read_cgroup(ps, pid);
	return 0;
}

/* Find the cgroup2 mount; on a hybrid host it is not /sys/fs/cgroup. */
static void find_cgroup2(struct proc_src *ps)
{
	char line[1024], dev[256], dir[256], type[64];
	FILE *f;

	ps->cgroup2[0] = '\0';
	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %255s %63s", dev, dir, type) == 3 &&
		    strcmp(type, "cgroup2") == 0) {
			snprintf(ps->cgroup2, sizeof(ps->cgroup2), "%s", dir);
			break;
		}
	}
	fclose(f);
}

/* Fill the table with every process alive now. */
static int proc_scan(struct proc_src *ps)
{
	struct proc_iter it;
	struct pt_entry e;
	long pid;
	int err;

	err = proc_iter_open(&it, "/proc");
	if (err)
		return err;
	while ((pid = proc_iter_next(&it)) >= 0) {
		/* A process that exited since readdir is simply skipped. */
		if (pid && proc_read(ps, (__u32)pid, &e, NULL, 0) == 0)
			pt_put(ps, &e);
	}
	proc_iter_close(&it);
	return 0;
}

/* ---- records --------------------------------------------------------- */

static void task_fill(struct lymph_task *t, const struct pt_entry *e, __u32 tid)
{
	t->cgroup_id = e->cgroup_id;
	t->exe_ino = e->exe_ino;
	t->start_ns = e->start_ns;
	t->exe_dev = e->exe_dev;
	t->pid = e->pid;
	t->tid = tid;
	t->ppid = e->ppid;
	t->uid = e->uid;
	t->sid = e->sid;
	memcpy(t->comm, e->comm, sizeof(t->comm));
}

static void hdr_fill(struct lymph_hdr *h, __u16 kind, __u16 size, __u64 ts_ns)
{
	h->kind = kind;
	h->size = size;
	h->source = LYMPH_SRC_PROC;
	h->ts_ns = ts_ns;
}

/* Returns MNL_CB_OK, or MNL_CB_ERROR after the sink asked to stop. */
static int emit(struct proc_src *ps, const struct lymph_hdr *rec)
{
	int err;

	if (!ps->emit)
		return MNL_CB_OK;
	err = ps->src->sink(ps->src->sink_ctx, rec);
	if (err < 0) {
		ps->sink_err = err;
		errno = -err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* A new process (threads are not processes: child_pid != child_tgid). */
static int ev_fork(struct proc_src *ps, const struct fork_proc_event *f, __u64 ts)
{
	struct pt_entry e, *parent;
	struct lymph_fork rec;
	__u32 child = (__u32)f->child_tgid;

	if (f->child_pid != f->child_tgid)
		return MNL_CB_OK;

	/* The child is a copy of its parent until it execs. */
	parent = pt_get(ps, (__u32)f->parent_tgid);
	if (parent)
		e = *parent;
	else if (proc_read(ps, child, &e, NULL, 0) < 0)
		memset(&e, 0, sizeof(e));
	e.pid = child;
	e.ppid = (__u32)f->parent_tgid;
	/* The event is stamped right after the child's start_time was set:
	 * closer than /proc's 10 ms ticks, and the same value (pid, start_ns)
	 * will carry in this source's later exec and death records. */
	e.start_ns = ts;
	pt_put(ps, &e);

	if (!ps->want_fork)
		return MNL_CB_OK;
	memset(&rec, 0, sizeof(rec));
	hdr_fill(&rec.hdr, LYMPH_EV_FORK, sizeof(rec), ts);
	task_fill(&rec.task, &e, (__u32)f->child_pid);
	return emit(ps, &rec.hdr);
}

static int ev_exec(struct proc_src *ps, const struct exec_proc_event *x, __u64 ts)
{
	struct pt_entry e, now, *old;
	struct lymph_exec rec;
	__u32 pid = (__u32)x->process_tgid;

	memset(&rec, 0, sizeof(rec));
	old = pt_get(ps, pid);
	/* The connector does not pass the name given to execve(): path is the
	 * resolved /proc/PID/exe ("" once the process is gone, a " (deleted)"
	 * suffix if the binary was unlinked). */
	if (old) {
		e = *old;
	} else {
		memset(&e, 0, sizeof(e));
		e.pid = pid;
	}

	if (proc_read(ps, pid, &now, (char *)rec.path, sizeof(rec.path)) == 0) {
		/* start_ns is kept from the table so that (pid, start_ns)
		 * stays the same in all of this source's records. */
		if (!old)
			e.start_ns = now.start_ns;
		e.ppid = now.ppid;
		e.uid = now.uid;
		e.sid = now.sid;
		e.flags = now.flags;
		e.cgroup_id = now.cgroup_id;
		e.exe_dev = now.exe_dev;
		e.exe_ino = now.exe_ino;
		memcpy(e.comm, now.comm, sizeof(e.comm));
	} else {
		/* Gone already: the new binary and its comm are unknown, and
		 * the inherited ones would be wrong. */
		e.exe_dev = 0;
		e.exe_ino = 0;
		e.flags &= ~PT_KTHREAD;
		memset(e.comm, 0, sizeof(e.comm));
	}
	pt_put(ps, &e);

	if (!ps->want_exec)
		return MNL_CB_OK;
	hdr_fill(&rec.hdr, LYMPH_EV_EXEC, sizeof(rec), ts);
	task_fill(&rec.task, &e, (__u32)x->process_pid);
	return emit(ps, &rec.hdr);
}

/* A whole process died: its thread-group leader exited. */
static int ev_exit(struct proc_src *ps, const struct exit_proc_event *x, __u64 ts)
{
	struct lymph_death rec;
	struct pt_entry e, *known;
	__u32 pid = (__u32)x->process_tgid;

	if (x->process_pid != x->process_tgid)
		return MNL_CB_OK;

	known = pt_get(ps, pid);
	if (known) {
		e = *known;
		pt_del(ps, known);
	} else {
		memset(&e, 0, sizeof(e));
		e.pid = pid;
	}
	/* The exit event names the parent at the time of death (after any
	 * reparenting), fresher than the table; kernels before 4.18 leave
	 * it 0. */
	if (x->parent_tgid > 0)
		e.ppid = (__u32)x->parent_tgid;

	memset(&rec, 0, sizeof(rec));
	hdr_fill(&rec.hdr, LYMPH_EV_DEATH, sizeof(rec), ts);
	task_fill(&rec.task, &e, pid);
	if (e.start_ns && ts > e.start_ns)
		rec.age_ns = ts - e.start_ns;
	/* task->exit_code: a wait(2) status.  No LYMPH_DEATH_SIGINFO: the
	 * connector does not say who sent the signal nor why. */
	rec.exit_code = x->exit_code;
	rec.signo = x->exit_code & 0x7f;
	if (x->exit_code & 0x80)
		rec.flags |= LYMPH_DEATH_CORE;
	if (e.flags & PT_KTHREAD)
		rec.flags |= LYMPH_DEATH_KTHREAD;
	return emit(ps, &rec.hdr);
}

/*
 * Our listen request's answer; others' acks reach every listener too.
 * Matched on cn_msg.ack alone: the kernel replaces cn_msg.seq with its own
 * per-CPU event counter.
 */
static void ev_ack(struct proc_src *ps, const struct cn_msg *cn, const struct proc_event *ev)
{
	if (ps->subscribed || cn->ack != ps->cookie + 1)
		return;
	ps->subscribed = 1;
	ps->ack_err = (int)ev->event_data.ack.err;
}

/*
 * NLMSG_DONE handler: the connector sends every event as a single
 * NLMSG_DONE message, which mnl_cb_run() would treat as the end of a dump
 * without calling any data callback.  Malformed or foreign messages are
 * skipped (MNL_CB_OK), not fatal.
 */
static int ev_done(const struct nlmsghdr *nlh, void *data)
{
	struct proc_src *ps = data;
	struct proc_event ev;
	const struct cn_msg *cn;
	size_t plen = mnl_nlmsg_get_payload_len(nlh), need;
	__u64 now, ts;

	/* Only the kernel (port 0) may send to the proc group: the connector
	 * does not allow unprivileged senders. */
	if (nlh->nlmsg_pid != 0 || plen < sizeof(*cn))
		return MNL_CB_OK;
	cn = mnl_nlmsg_get_payload(nlh);
	if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC || plen < sizeof(*cn) + cn->len)
		return MNL_CB_OK;
	need = offsetof(struct proc_event, event_data);
	if (cn->len < need)
		return MNL_CB_OK;
	/* The event sits at offset 36, not 8-aligned: copy it out. */
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, cn->data, cn->len < sizeof(ev) ? cn->len : sizeof(ev));

	switch (ev.what) {
	case PROC_EVENT_FORK: need += sizeof(ev.event_data.fork); break;
	case PROC_EVENT_EXEC: need += sizeof(ev.event_data.exec); break;
	case PROC_EVENT_EXIT: need += sizeof(ev.event_data.exit); break;
	case PROC_EVENT_UID: need += sizeof(ev.event_data.id); break;
	case PROC_EVENT_SID: need += sizeof(ev.event_data.sid); break;
	case PROC_EVENT_COMM: need += sizeof(ev.event_data.comm); break;
	case PROC_EVENT_NONE: need += sizeof(ev.event_data.ack); break;
	default:
		/* GID, PTRACE, COREDUMP: nothing lymph uses. */
		return MNL_CB_OK;
	}
	if (cn->len < need)
		return MNL_CB_OK;

	/* The connector stamps events with ktime_get_ns(), i.e.
	 * CLOCK_MONOTONIC, nearer the event than our receipt; fall back to
	 * the receipt time should it ever be missing or in the future. */
	now = clock_mono_ns();
	ts = ev.timestamp_ns && ev.timestamp_ns <= now ? ev.timestamp_ns : now;

	switch (ev.what) {
	case PROC_EVENT_FORK: return ev_fork(ps, &ev.event_data.fork, ts);
	case PROC_EVENT_EXEC: return ev_exec(ps, &ev.event_data.exec, ts);
	case PROC_EVENT_EXIT: return ev_exit(ps, &ev.event_data.exit, ts);
	case PROC_EVENT_UID: {
		struct pt_entry *e = pt_get(ps, (__u32)ev.event_data.id.process_tgid);

		if (e)
			e->uid = ev.event_data.id.r.ruid;
		return MNL_CB_OK;
	}
	case PROC_EVENT_SID: {
		/* setsid(): the caller leads a new session named by its pid. */
		struct pt_entry *e = pt_get(ps, (__u32)ev.event_data.sid.process_tgid);

		if (e)
			e->sid = e->pid;
		return MNL_CB_OK;
	}
	case PROC_EVENT_COMM: {
		/* Only the leader's comm is the process's (/proc/PID/comm). */
		struct pt_entry *e = pt_get(ps, (__u32)ev.event_data.comm.process_tgid);

		if (e && ev.event_data.comm.process_pid == ev.event_data.comm.process_tgid) {
			memset(e->comm, 0, sizeof(e->comm));
			memcpy(e->comm, ev.event_data.comm.comm,
			       strnlen(ev.event_data.comm.comm, LYMPH_COMM_LEN - 1));
		}
		return MNL_CB_OK;
	}
	case PROC_EVENT_NONE: ev_ack(ps, cn, &ev); return MNL_CB_OK;
	default: return MNL_CB_OK;
	}
}

/* ---- socket ---------------------------------------------------------- */

/* Ask the connector to start (LISTEN) or stop (IGNORE) sending events. */
static int proc_send_op(struct proc_src *ps, enum proc_cn_mcast_op op)
{
	char buf[MNL_ALIGN(sizeof(struct nlmsghdr)) +
		 MNL_ALIGN(sizeof(struct cn_msg) + sizeof(__u32))] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct cn_msg *cn;
	__u32 op32 = op;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_pid = mnl_socket_get_portid(ps->nl);
	nlh->nlmsg_seq = ++ps->seq;
	cn = mnl_nlmsg_put_extra_header(nlh, sizeof(*cn) + sizeof(op32));
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->seq = ps->seq;
	cn->ack = ps->cookie;
	/* The 4-byte form: subscribe to every event type (kernels >= 6.6
	 * also accept an 8-byte struct proc_input with a filter). */
	cn->len = sizeof(op32);
	memcpy(cn->data, &op32, sizeof(op32));
	if (mnl_socket_sendto(ps->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

/* Read and dispatch until the socket is empty.  Returns 0 or -errno. */
static int proc_recv_all(struct proc_src *ps)
{
	/* Not const only because mnl_cb_run2() takes it so; never written. */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_DONE] = ev_done,
	};
	ssize_t n;
	int err;

	for (;;) {
		n = mnl_socket_recvfrom(ps->nl, ps->buf, sizeof(ps->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			/*
			 * The kernel dropped events because the socket buffer
			 * was full.  It does not say how many: count 1 per
			 * ENOBUFS, a lower bound, so the DROP record says
			 * "at least this many".  The socket stays usable.
			 */
			if (errno == ENOBUFS) {
				ps->lost++;
				continue;
			}
			/* A datagram larger than our buffer (ENOSPC from
			 * libmnl on MSG_TRUNC) is not a proc event we know:
			 * skip it, but say that something was not read. */
			if (errno == ENOSPC) {
				ps->lost++;
				continue;
			}
			return -errno;
		}
		/* seq 0, portid 0: multicast events carry neither ours. */
		if (mnl_cb_run2(ps->buf, (size_t)n, 0, 0, NULL, ps, ctl, MNL_ARRAY_SIZE(ctl)) < 0 &&
		    ps->sink_err) {
			err = ps->sink_err;
			ps->sink_err = 0;
			return err;
		}
		/* Any other failure of mnl_cb_run2 is a malformed datagram:
		 * its remaining messages are skipped, draining goes on. */
	}
}

/*
 * The connector acknowledges a listen request with a PROC_EVENT_NONE
 * carrying an errno (EPERM without CAP_NET_ADMIN), but a request from
 * outside the initial namespaces, or to a kernel without
 * CONFIG_PROC_EVENTS, gets no answer at all.  Events received meanwhile
 * update the pid table but are not emitted.
 */
static int proc_subscribe(struct proc_src *ps)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(ps->nl), .events = POLLIN };
	__u64 deadline;
	int attempt, err, left, r;

	for (attempt = 0; attempt < ACK_ATTEMPTS; attempt++) {
		ps->lost = 0;
		err = proc_send_op(ps, PROC_CN_MCAST_LISTEN);
		if (err)
			return err;
		deadline = clock_mono_ns() + ACK_TIMEOUT_MS * 1000000ull;
		while (!ps->subscribed) {
			__u64 now = clock_mono_ns();

			if (now >= deadline)
				break;
			left = (int)((deadline - now + 999999) / 1000000);
			r = poll(&pfd, 1, left);
			if (r < 0 && errno != EINTR)
				return -errno;
			if (r > 0) {
				err = proc_recv_all(ps);
				if (err)
					return err;
			}
		}
		if (ps->subscribed)
			return ps->ack_err ? -ps->ack_err : 0;
		/* No answer: retry only if the answer may have been dropped. */
		if (!ps->lost)
			break;
	}
	return -ETIMEDOUT;
}

/* The connector ignores listeners outside the initial pid/user namespaces. */
static int check_init_ns(void)
{
	struct stat st;

	if (stat("/proc/self/ns/user", &st) == 0 && st.st_ino != INIT_USER_NS_INO)
		return -EPERM;
	if (stat("/proc/self/ns/pid", &st) == 0 && st.st_ino != INIT_PID_NS_INO)
		return -EPERM;
	return 0;
}

/* ---- source ops ------------------------------------------------------ */

static int proc_drain(struct source *src)
{
	return proc_recv_all(src->priv);
}

static int proc_check_drops(struct source *src)
{
	struct proc_src *ps = src->priv;
	__u64 lost = ps->lost;
	int err;

	if (!lost)
		return 0;
	err = source_emit_drop(src, lost, clock_mono_ns());
	if (err)
		return err;
	ps->lost -= lost;
	/* Lost events may include exits: forget processes that are gone. */
	pt_prune(ps);
	return 0;
}

static void proc_free(struct proc_src *ps)
{
	if (!ps)
		return;
	if (ps->nl) {
		/* Best effort: lets the kernel stop generating events when
		 * nobody else listens. */
		if (ps->subscribed)
			proc_send_op(ps, PROC_CN_MCAST_IGNORE);
		mnl_socket_close(ps->nl);
	}
	hashtab_free(&ps->pt);
	free(ps);
}

static void proc_close(struct source *src)
{
	proc_free(src->priv);
	src->priv = NULL;
	src->fd = -EBADF;
}

static const struct source_ops proc_ops = {
	.drain = proc_drain,
	.check_drops = proc_check_drops,
	.close = proc_close,
};

int source_proc_open(struct source *src, const struct source_opts *opts, lymph_sink_fn sink,
		     void *ctx, int verbose)
{
	struct proc_src *ps = NULL;
	int err, fd, rcvbuf = RCVBUF_BYTES;

	memset(src, 0, sizeof(*src));
	src->fd = -EBADF;

	ps = calloc(1, sizeof(*ps));
	if (!ps || hashtab_init(&ps->pt, &pt_ops, sizeof(struct pt_entry), PT_SLOTS)) {
		err = -ENOMEM;
		if (verbose)
			fprintf(stderr, "lymphd: failed to allocate the proc source: %s\n",
				strerror(-err));
		goto cleanup;
	}
	ps->src = src;
	ps->want_fork = opts ? opts->want_fork : 1;
	ps->want_exec = opts ? opts->want_exec : 1;
	ps->clk_tck = sysconf(_SC_CLK_TCK);
	if (ps->clk_tck <= 0 || ps->clk_tck > 1000000000L)
		ps->clk_tck = 100;
	ps->cookie = (__u32)getpid();
	find_cgroup2(ps);

	ps->nl = mnl_socket_open2(NETLINK_CONNECTOR, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!ps->nl) {
		err = -errno;
		if (verbose)
			fprintf(stderr, "lymphd: failed to open the netlink connector socket: %s\n",
				strerror(-err));
		goto cleanup;
	}
	fd = mnl_socket_get_fd(ps->nl);
	/* A bigger buffer means fewer lost events; the default is fine too. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	err = check_init_ns();
	if (!err && mnl_socket_bind(ps->nl, CN_IDX_PROC, MNL_SOCKET_AUTOPID) < 0)
		err = -errno;
	if (!err)
		err = proc_subscribe(ps);
	if (err) {
		if (verbose)
			fprintf(stderr,
				"lymphd: failed to subscribe to the proc connector: %s; "
				"lymphd needs root (CAP_NET_ADMIN) in the initial namespaces\n",
				strerror(-err));
		goto cleanup;
	}

	/* Scan after subscribing: a process started during the scan is
	 * either seen by it or reported by a fork event still queued. */
	err = proc_scan(ps);
	if (err) {
		if (verbose)
			fprintf(stderr, "lymphd: failed to scan /proc: %s\n", strerror(-err));
		goto cleanup;
	}
	/* Events lost before the scan are covered by it. */
	ps->lost = 0;
	ps->emit = 1;

	src->ops = &proc_ops;
	src->name = "proc";
	src->id = LYMPH_SRC_PROC;
	src->missing = "si_code,fault_addr,sender,oom";
	src->fd = fd;
	src->sink = sink;
	src->sink_ctx = ctx;
	src->priv = ps;
	return 0;

cleanup:
	proc_free(ps);
	return err;
}
