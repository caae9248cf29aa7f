/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Constants shared by bpf/sensors.bpf.c and lymphd's BPF source. */
#ifndef LYMPH_BPF_SENSORS_H
#define LYMPH_BPF_SENSORS_H

/*
 * Signals 1..31 whose default action terminates the process (bit n set for
 * signal n): HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE
 * ALRM TERM STKFLT XCPU XFSZ VTALRM PROF IO PWR SYS.  Real-time signals
 * (32..64) terminate too.  Not in it: CHLD CONT STOP TSTP TTIN TTOU URG WINCH.
 */
#define LYMPH_FATAL_SIGNALS 0xef01fffeu

/* Deaths by these signals wake lymphd at once (bit n = signal n): all the
 * fatal signals below 32. */
#define LYMPH_URGENT_SIGNALS_DEFAULT LYMPH_FATAL_SIGNALS

#endif
