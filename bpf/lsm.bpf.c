// SPDX-License-Identifier: GPL-2.0-only
/*
 * Quarantine enforcement by BPF LSM, the best of lymph's three: deny the
 * exec of a quarantined binary by a quarantined uid in bprm_check_security,
 * in the kernel, with no round trip to lymphd.  Needs a kernel that runs the
 * BPF LSM (CONFIG_BPF_LSM and "bpf" in lsm=); lymphd falls back to fanotify
 * where it cannot attach.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lsm.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM_NR 1

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct quarantine_key);
	__type(value, __u64);		/* execs denied */
} quarantined SEC(".maps");

SEC("lsm/bprm_check_security")
int BPF_PROG(deny_quarantined, struct linux_binprm *bprm, int ret)
{
	struct quarantine_key k = {};
	struct inode *inode;
	__u32 kdev, major, minor;
	__u64 *denied;

	if (ret)
		return ret;	/* an earlier LSM said no already */
	inode = BPF_CORE_READ(bprm, file, f_inode);
	if (!inode)
		return 0;
	k.ino = BPF_CORE_READ(inode, i_ino);
	/* st_dev encoding (new_encode_dev), as lymphd's keys use */
	kdev = BPF_CORE_READ(inode, i_sb, s_dev);
	major = kdev >> 20;
	minor = kdev & 0xfffff;
	k.dev = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
	k.uid = (__u32)bpf_get_current_uid_gid();	/* real uid, before the exec */
	denied = bpf_map_lookup_elem(&quarantined, &k);
	if (!denied)
		return 0;
	__sync_fetch_and_add(denied, 1);
	return -EPERM_NR;
}
