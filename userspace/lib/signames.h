/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef LYMPH_SIGNAMES_H
#define LYMPH_SIGNAMES_H

/* "SIGSEGV", or "SIG<n>" / "SIGRTMIN+<n>" in a static buffer when unnamed
 * (not reentrant: fine for lymphd's single thread). */
const char *signal_name(unsigned int signo);

/* "SEGV_MAPERR", "SI_USER", ...: the name of si_code for that signal, or
 * NULL when it has none. */
const char *si_code_name(unsigned int signo, int si_code);

/* Parse "SIGSEGV", "SEGV" or "11"; returns the number or -1. */
int signal_parse(const char *s);

#endif
