// SPDX-License-Identifier: GPL-2.0-only
/*
 * Quarantine enforcement by BPF LSM, the best of lymph's three: in the
 * kernel, with no round trip to lymphd, a quarantined uid may not
 *   - exec a quarantined file (bprm_check_security: a binary, or a script
 *     run through its #! line),
 *   - map it executable (mmap_file, file_mprotect with PROT_EXEC: the
 *     dynamic loader run on it, `ld-linux-x86-64.so.2 /path/to/it`, or any
 *     hand-made loader),
 *   - have an interpreter or the loader open it (file_open: `python3
 *     script.py` for a quarantined script).
 * Needs a kernel that runs the BPF LSM (CONFIG_BPF_LSM and "bpf" in lsm=);
 * lymphd falls back to fanotify where it cannot attach.
 *
 * record_script is no LSM: a tp_btf program that lymphd loads on every
 * kernel with BTF.  When an interpreter starts it keeps its argv and working
 * directory by pid, so that a crash under the interpreter is charged to the
 * script it ran, never to the interpreter itself.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lsm.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM_NR 1
#define PROT_EXEC_NR 0x4

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct quarantine_key);
	__type(value, __u64);		/* execs denied */
} quarantined SEC(".maps");

/* uids a ban for every uid (QUARANTINE_ANY_UID) spares: root and [protect]'s,
 * so that no fleet can lock the administrators out of a binary. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} spared_uids SEC(".maps");

/* Interpreters and dynamic loaders, by inode: RUNNER_* */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct inode_key);
	__type(value, __u32);
} runners SEC(".maps");

/* pid (tgid) -> what the interpreter of that pid was asked to run */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct script_rec);
} scripts SEC(".maps");

/* One record is too big for the BPF stack: built here, then copied. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct script_rec);
} scratch SEC(".maps");

/* st_dev encoding (new_encode_dev) of a superblock's s_dev, as lymphd's keys use */
static __always_inline __u32 st_dev_of(struct inode *inode)
{
	__u32 kdev = BPF_CORE_READ(inode, i_sb, s_dev);
	__u32 major = kdev >> 20, minor = kdev & 0xfffff;

	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* Is (inode, current real uid) quarantined, or the inode banned for every
 * uid this one is not spared from?  Counts the denial. */
static __always_inline int denied(struct inode *inode)
{
	struct quarantine_key k = {};
	__u64 *n;

	if (!inode)
		return 0;
	k.ino = BPF_CORE_READ(inode, i_ino);
	k.dev = st_dev_of(inode);
	k.uid = (__u32)bpf_get_current_uid_gid();	/* real uid */
	n = bpf_map_lookup_elem(&quarantined, &k);
	if (!n) {
		__u32 uid = k.uid;

		k.uid = QUARANTINE_ANY_UID;
		n = bpf_map_lookup_elem(&quarantined, &k);
		if (!n || bpf_map_lookup_elem(&spared_uids, &uid))
			return 0;
	}
	__sync_fetch_and_add(n, 1);
	return 1;
}

/* The RUNNER_* kind of the current task's executable, 0 for others. */
static __always_inline __u32 current_runner(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inode_key k = {};
	struct inode *inode;
	__u32 *v;

	inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	if (!inode)
		return 0;
	k.ino = BPF_CORE_READ(inode, i_ino);
	k.dev = st_dev_of(inode);
	v = bpf_map_lookup_elem(&runners, &k);
	return v ? *v : 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(deny_quarantined, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;	/* an earlier LSM said no already */
	/* Called once per binfmt step: a #! script first, then its interpreter. */
	return denied(BPF_CORE_READ(bprm, file, f_inode)) ? -EPERM_NR : 0;
}

SEC("lsm/mmap_file")
int BPF_PROG(deny_exec_map, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC_NR))
		return 0;
	return denied(BPF_CORE_READ(file, f_inode)) ? -EPERM_NR : 0;
}

SEC("lsm/file_mprotect")
int BPF_PROG(deny_exec_protect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	struct file *file;

	if (ret)
		return ret;
	if (!(prot & PROT_EXEC_NR))
		return 0;
	file = BPF_CORE_READ(vma, vm_file);
	if (!file)
		return 0;
	return denied(BPF_CORE_READ(file, f_inode)) ? -EPERM_NR : 0;
}

SEC("lsm/file_open")
int BPF_PROG(deny_interpreted, struct file *file, int ret)
{
	if (ret)
		return ret;
	/* Only interpreters and the loader: the user may still read, copy
	 * or debug the file. */
	if (!current_runner())
		return 0;
	return denied(BPF_CORE_READ(file, f_inode)) ? -EPERM_NR : 0;
}

/* State of the walk up the working directory (bpf_loop callback context). */
struct cwd_walk {
	struct dentry *d;
	struct mount *mnt;
	__u32 n;
	__u32 flags;
};

/* One step up: a name, or a mount crossed; 1 stops the walk. */
static long cwd_step(__u64 i, void *ctx)
{
	struct cwd_walk *w = ctx;
	struct dentry *d = w->d, *root, *parent;
	struct mount *mnt = w->mnt, *pm;
	struct script_rec *r;
	__u32 zero = 0, n = w->n;

	root = BPF_CORE_READ(mnt, mnt.mnt_root);
	parent = BPF_CORE_READ(d, d_parent);
	if (d == root) {
		pm = BPF_CORE_READ(mnt, mnt_parent);
		if (pm == mnt)
			return 1;		/* the root of everything */
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = pm;
		return 0;
	}
	if (d == parent)
		return 1;
	if (n >= SCRIPT_CWD_DEPTH) {
		w->flags |= SCRIPT_CWD_TRUNCATED;
		return 1;
	}
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 1;
	if (bpf_probe_read_kernel_str(r->cwd[n], SCRIPT_NAME_LEN, BPF_CORE_READ(d, d_name.name)) < 0)
		w->flags |= SCRIPT_CWD_TRUNCATED;
	w->n = n + 1;
	w->d = parent;
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(record_script, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct inode_key k = {};
	struct script_rec *r;
	struct inode *inode;
	struct cwd_walk w = {};
	unsigned long start, end;
	__u32 zero = 0, tgid, len;
	long steps;

	inode = BPF_CORE_READ(bprm, file, f_inode);
	if (!inode)
		return 0;
	k.ino = BPF_CORE_READ(inode, i_ino);
	k.dev = st_dev_of(inode);
	if (!bpf_map_lookup_elem(&runners, &k))
		return 0;
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 0;
	/* argv, as the new image has it (a #! line rewrites it to
	 * interpreter [arg] script args...) */
	start = BPF_CORE_READ(task, mm, arg_start);
	end = BPF_CORE_READ(task, mm, arg_end);
	len = end > start ? (__u32)(end - start) : 0;
	if (len > SCRIPT_ARGS_LEN)
		len = SCRIPT_ARGS_LEN;
	/* argv's own bytes only: the environment that follows is none of
	 * lymphd's business. */
	if (len) {
		/* 1 to SCRIPT_ARGS_LEN, in a form the verifier can bound */
		len = ((len - 1) & (SCRIPT_ARGS_LEN - 1)) + 1;
		if (bpf_probe_read_user(r->args, len, (void *)start))
			len = 0;
	}
	r->args_len = len;
	/* The working directory, leaf first, crossing mounts up to the root
	 * (a name per step, a mount crossing per step: twice the depth). */
	w.d = BPF_CORE_READ(task, fs, pwd.dentry);
	w.mnt = container_of(BPF_CORE_READ(task, fs, pwd.mnt), struct mount, mnt);
	steps = bpf_loop(SCRIPT_CWD_DEPTH * 2, cwd_step, &w, 0);
	if (steps == SCRIPT_CWD_DEPTH * 2)
		w.flags |= SCRIPT_CWD_TRUNCATED;
	r->depth = w.n;
	r->flags = w.flags;
	r->pad = 0;
	tgid = BPF_CORE_READ(task, tgid);
	bpf_map_update_elem(&scripts, &tgid, r, BPF_ANY);
	return 0;
}
