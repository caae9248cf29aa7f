/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by bpf/lsm.bpf.c and lymphd's quarantine. */
#ifndef LYMPH_BPF_LSM_H
#define LYMPH_BPF_LSM_H

/* A (binary, uid) pair that may not exec; dev in st_dev encoding. */
struct quarantine_key {
	__u64 ino;
	__u32 dev;
	__u32 uid;
};

#endif
