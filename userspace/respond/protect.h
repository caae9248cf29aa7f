/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The protected set, first of Asimov's laws for lymph: never act on pid 1,
 * kernel threads, lymphd itself or its ancestors.  (The configured list of
 * protected binaries and uids is checked where the policy applies it.)
 */
#ifndef LYMPH_PROTECT_H
#define LYMPH_PROTECT_H

#include <sys/types.h>

/* Remember lymphd's ancestors; call once at start. */
void protect_init(void);

/* 1 when pid must never be acted on. */
int protect_pid(pid_t pid);

/* lymphd's own helper process (the BPF path's pin guard, kthrottle_bpf.c),
 * spared like lymphd itself; 0: none.  Set again whenever it changes. */
void protect_set_helper(pid_t pid);

#endif
