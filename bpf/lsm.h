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

/* quarantine_key.uid of a binary banned for every uid but the spared ones
 * (the fleet's vaccine = quarantine): (uid_t)-1 is no uid. */
#define QUARANTINE_ANY_UID	0xffffffffu

/* A file, by inode; dev in st_dev encoding. */
struct inode_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;	/* zero */
};

/* runners values: what the binary does with its arguments */
#define RUNNER_INTERPRETER	1	/* runs a script named in argv (python, perl, sh, ...) */
#define RUNNER_LOADER		2	/* the dynamic loader: runs the ELF file named in argv */

#define SCRIPT_ARGS_LEN	256	/* bytes of argv kept, NUL-separated */
#define SCRIPT_CWD_DEPTH 16	/* components of the working directory kept */
#define SCRIPT_NAME_LEN	64	/* bytes per component, NUL-terminated */

/* script_rec.flags */
#define SCRIPT_CWD_TRUNCATED	1	/* deeper than SCRIPT_CWD_DEPTH or a name too long */

/*
 * What an interpreter was asked to run, recorded at its exec (the process
 * may be gone by the time lymphd hears of its death): its argv and its
 * working directory, leaf first (cwd[0] is the innermost component), so a
 * relative script path can be resolved afterwards.
 */
struct script_rec {
	__u32 args_len;
	__u32 depth;
	__u32 flags;
	__u32 pad;
	__u8 args[SCRIPT_ARGS_LEN];
	__u8 cwd[SCRIPT_CWD_DEPTH][SCRIPT_NAME_LEN];
};

#endif
