// SPDX-License-Identifier: GPL-2.0-only
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "signames.h"

#define N(x) [x] = #x
static const char *const names[32] = {
	N(SIGHUP),  N(SIGINT),	  N(SIGQUIT), N(SIGILL),  N(SIGTRAP),	N(SIGABRT), N(SIGBUS),
	N(SIGFPE),  N(SIGKILL),	  N(SIGUSR1), N(SIGSEGV), N(SIGUSR2),	N(SIGPIPE), N(SIGALRM),
	N(SIGTERM), N(SIGSTKFLT), N(SIGCHLD), N(SIGCONT), N(SIGSTOP),	N(SIGTSTP), N(SIGTTIN),
	N(SIGTTOU), N(SIGURG),	  N(SIGXCPU), N(SIGXFSZ), N(SIGVTALRM), N(SIGPROF), N(SIGWINCH),
	N(SIGIO),   N(SIGPWR),	  N(SIGSYS),
};
#undef N

const char *signal_name(unsigned int signo)
{
	static char buf[24];

	if (signo < 32 && names[signo])
		return names[signo];
	if (signo >= 34 && signo <= 64)
		snprintf(buf, sizeof(buf), "SIGRTMIN+%u", signo - 34);
	else
		snprintf(buf, sizeof(buf), "SIG%u", signo);
	return buf;
}

int signal_parse(const char *s)
{
	char *end;
	long n;
	int i;

	if (!s || !*s)
		return -1;
	n = strtol(s, &end, 10);
	if (!*end)
		return (n > 0 && n <= 64) ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 1; i < 32; i++)
		if (names[i] && !strcasecmp(s, names[i] + 3))
			return i;
	return -1;
}

struct code_name {
	int code;
	const char *name;
};

static const struct code_name generic[] = {
	{ SI_USER, "SI_USER" },	  { SI_KERNEL, "SI_KERNEL" }, { SI_QUEUE, "SI_QUEUE" },
	{ SI_TIMER, "SI_TIMER" }, { SI_MESGQ, "SI_MESGQ" },   { SI_ASYNCIO, "SI_ASYNCIO" },
	{ SI_SIGIO, "SI_SIGIO" }, { SI_TKILL, "SI_TKILL" },
};
static const struct code_name segv[] = {
	{ SEGV_MAPERR, "SEGV_MAPERR" }, { SEGV_ACCERR, "SEGV_ACCERR" }, { 3, "SEGV_BNDERR" },
	{ 4, "SEGV_PKUERR" },		{ 5, "SEGV_ACCADI" },		{ 6, "SEGV_ADIDERR" },
	{ 7, "SEGV_ADIPERR" },		{ 8, "SEGV_MTEAERR" },		{ 9, "SEGV_MTESERR" },
	{ 10, "SEGV_CPERR" },
};
static const struct code_name bus[] = {
	{ BUS_ADRALN, "BUS_ADRALN" }, { BUS_ADRERR, "BUS_ADRERR" }, { BUS_OBJERR, "BUS_OBJERR" },
	{ 4, "BUS_MCEERR_AR" },	      { 5, "BUS_MCEERR_AO" },
};
static const struct code_name ill[] = {
	{ ILL_ILLOPC, "ILL_ILLOPC" }, { ILL_ILLOPN, "ILL_ILLOPN" }, { ILL_ILLADR, "ILL_ILLADR" },
	{ ILL_ILLTRP, "ILL_ILLTRP" }, { ILL_PRVOPC, "ILL_PRVOPC" }, { ILL_PRVREG, "ILL_PRVREG" },
	{ ILL_COPROC, "ILL_COPROC" }, { ILL_BADSTK, "ILL_BADSTK" },
};
static const struct code_name fpe[] = {
	{ FPE_INTDIV, "FPE_INTDIV" }, { FPE_INTOVF, "FPE_INTOVF" }, { FPE_FLTDIV, "FPE_FLTDIV" },
	{ FPE_FLTOVF, "FPE_FLTOVF" }, { FPE_FLTUND, "FPE_FLTUND" }, { FPE_FLTRES, "FPE_FLTRES" },
	{ FPE_FLTINV, "FPE_FLTINV" }, { FPE_FLTSUB, "FPE_FLTSUB" },
};
static const struct code_name trap[] = {
	{ TRAP_BRKPT, "TRAP_BRKPT" },
	{ TRAP_TRACE, "TRAP_TRACE" },
	{ 3, "TRAP_BRANCH" },
	{ 4, "TRAP_HWBKPT" },
};
static const struct code_name sys[] = {
	{ 1, "SYS_SECCOMP" },
};

#define LOOKUP(tab)                                                       \
	do {                                                              \
		for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) \
			if (tab[i].code == si_code)                       \
				return tab[i].name;                       \
	} while (0)

const char *si_code_name(unsigned int signo, int si_code)
{
	/* Codes <= 0 and SI_KERNEL mean the same for every signal. */
	if (si_code <= 0 || si_code == SI_KERNEL) {
		LOOKUP(generic);
		return NULL;
	}
	switch (signo) {
	case SIGSEGV: LOOKUP(segv); break;
	case SIGBUS: LOOKUP(bus); break;
	case SIGILL: LOOKUP(ill); break;
	case SIGFPE: LOOKUP(fpe); break;
	case SIGTRAP: LOOKUP(trap); break;
	case SIGSYS: LOOKUP(sys); break;
	}
	return NULL;
}
