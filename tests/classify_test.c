// SPDX-License-Identifier: GPL-2.0-only
/*
 * The danger classifier (userspace/classify.c), without root: every death
 * is danger or programmed, for the right reason, and a signal sent by
 * another process can never make a death count as danger.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "classify.h"

#ifndef SI_KERNEL
#define SI_KERNEL 0x80
#endif

#define SIGINFO LYMPH_DEATH_SIGINFO
#define SELF	LYMPH_DEATH_SELF
#define OOM	LYMPH_DEATH_OOM

static struct lymph_death death(unsigned int signo, int si_code, unsigned int flags)
{
	struct lymph_death d;

	memset(&d, 0, sizeof(d));
	d.hdr.kind = LYMPH_EV_DEATH;
	d.hdr.size = sizeof(d);
	d.hdr.source = LYMPH_SRC_BPF;
	d.signo = signo;
	d.si_code = si_code;
	d.flags = flags;
	d.exit_code = signo & 0x7f;
	d.task.pid = 4242;
	if ((flags & SIGINFO) && si_code <= 0)
		d.sender_pid = (flags & SELF) ? 4242 : 1;
	return d;
}

struct ccase {
	const char *what;
	unsigned int signo;
	int si_code;
	unsigned int flags;
	const char *klass;
	const char *reason;
};

static const struct ccase cases[] = {
	{ "normal exit", 0, 0, 0, "programmed", "exit" },
	{ "normal exit, siginfo flag", 0, 0, SIGINFO, "programmed", "exit" },
	{ "null dereference", SIGSEGV, 1 /* SEGV_MAPERR */, SIGINFO, "danger", "fault" },
	{ "write to read-only page", SIGSEGV, 2 /* SEGV_ACCERR */, SIGINFO, "danger", "fault" },
	{ "general protection", SIGSEGV, SI_KERNEL, SIGINFO, "danger", "fault" },
	{ "mmap past EOF", SIGBUS, 2 /* BUS_ADRERR */, SIGINFO, "danger", "fault" },
	{ "ud2", SIGILL, 2 /* ILL_ILLOPN */, SIGINFO, "danger", "fault" },
	{ "divide by zero", SIGFPE, 1 /* FPE_INTDIV */, SIGINFO, "danger", "fault" },
	{ "seccomp kill", SIGSYS, 1 /* SYS_SECCOMP */, SIGINFO, "danger", "fault" },
	{ "int3", SIGTRAP, SI_KERNEL, SIGINFO, "danger", "fault" },
	{ "abort()", SIGABRT, -6 /* SI_TKILL */, SIGINFO | SELF, "danger", "self-raised" },
	{ "raise(SIGSEGV) in a handler", SIGSEGV, -6, SIGINFO | SELF, "danger", "self-raised" },
	{ "kill(self, SIGTERM)", SIGTERM, 0, SIGINFO | SELF, "programmed", "signal" },
	{ "kill -SEGV from another", SIGSEGV, 0 /* SI_USER */, SIGINFO, "programmed", "killed" },
	{ "sigqueue SIGBUS from another", SIGBUS, -1 /* SI_QUEUE */, SIGINFO, "programmed",
	  "killed" },
	{ "tgkill SIGABRT from another", SIGABRT, -6, SIGINFO, "programmed", "killed" },
	{ "kill -TERM from another", SIGTERM, 0, SIGINFO, "programmed", "killed" },
	{ "kill -9 from another", SIGKILL, 0, SIGINFO, "programmed", "killed" },
	{ "SIGKILL by the kernel", SIGKILL, SI_KERNEL, SIGINFO, "programmed", "kernel-kill" },
	{ "tty hangup (SIGHUP, kernel)", SIGHUP, SI_KERNEL, SIGINFO, "programmed", "signal" },
	{ "SIGTERM from the kernel", SIGTERM, SI_KERNEL, SIGINFO, "programmed", "signal" },
	{ "OOM kill", SIGKILL, SI_KERNEL, SIGINFO | OOM, "danger", "oom-kill" },
	{ "OOM kill, no siginfo", SIGKILL, 0, OOM, "danger", "oom-kill" },
	{ "RLIMIT_CPU", SIGXCPU, SI_KERNEL, SIGINFO, "danger", "resource-limit" },
	{ "RLIMIT_FSIZE", SIGXFSZ, SI_KERNEL, SIGINFO, "danger", "resource-limit" },
	{ "kill -XCPU from another", SIGXCPU, 0, SIGINFO, "programmed", "killed" },
	{ "proc connector SIGSEGV", SIGSEGV, 0, 0, "danger", "unverified" },
	{ "proc connector SIGABRT", SIGABRT, 0, 0, "danger", "unverified" },
	{ "proc connector SIGTERM", SIGTERM, 0, 0, "programmed", "signal" },
};

TEST(table)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ccase *c = &cases[i];
		struct lymph_death d = death(c->signo, c->si_code, c->flags);
		struct verdict v = classify_death(&d);

		EXPECT_STREQ(c->klass, lymph_class_name(v.klass))
		TH_LOG("%s: class", c->what);
		EXPECT_STREQ(c->reason, lymph_reason_name(v.reason))
		TH_LOG("%s: reason", c->what);
	}
}

/* Safety rule 1: no signal sent by another process, of any number and any
 * user-space si_code, can make a death danger. */
TEST(sent_by_another_is_never_danger)
{
	static const int codes[] = { 0, -1, -2, -3, -4, -5, -6, -7, -60 };
	unsigned int sig;
	size_t i;

	for (sig = 1; sig < 65; sig++)
		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
			struct lymph_death d = death(sig, codes[i], SIGINFO);
			struct verdict v = classify_death(&d);

			EXPECT_EQ((int)LYMPH_CLASS_PROGRAMMED, (int)v.klass)
			TH_LOG("signal %u si_code %d", sig, codes[i]);
			EXPECT_EQ((int)LYMPH_REASON_KILLED, (int)v.reason)
			TH_LOG("signal %u si_code %d", sig, codes[i]);
		}
}

/* Class and reason always agree with doc/output-format.md's table. */
TEST(class_matches_reason)
{
	static const int codes[] = { 0, -6, 1, 2, SI_KERNEL };
	static const unsigned int flagsets[] = { 0, SIGINFO, SIGINFO | SELF, OOM, SIGINFO | OOM };
	unsigned int sig;
	size_t i, j;

	for (sig = 0; sig < 65; sig++)
		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			for (j = 0; j < sizeof(flagsets) / sizeof(flagsets[0]); j++) {
				struct lymph_death d = death(sig, codes[i], flagsets[j]);
				struct verdict v = classify_death(&d);
				const char *r = lymph_reason_name(v.reason);
				int danger = !strcmp(r, "fault") || !strcmp(r, "self-raised") ||
					     !strcmp(r, "oom-kill") ||
					     !strcmp(r, "resource-limit") ||
					     !strcmp(r, "unverified");

				EXPECT_STRNE("unknown", r);
				EXPECT_EQ(danger ? (int)LYMPH_CLASS_DANGER
						 : (int)LYMPH_CLASS_PROGRAMMED,
					  (int)v.klass)
				TH_LOG("signal %u si_code %d flags %#x: %s/%s", sig, codes[i],
				       flagsets[j], lymph_class_name(v.klass), r);
				if (sig == 0 && !(flagsets[j] & OOM))
					EXPECT_STREQ("exit", r);
			}
}

TEST(crash_signals)
{
	static const unsigned int crash[] = { SIGSEGV, SIGBUS,	SIGILL, SIGFPE,
					      SIGSYS,  SIGTRAP, SIGABRT };
	unsigned int sig, n = 0;
	size_t i;

	for (i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
		EXPECT_TRUE(lymph_crash_signal(crash[i])) TH_LOG("signal %u", crash[i]);
	for (sig = 0; sig < 65; sig++)
		n += !!lymph_crash_signal(sig);
	EXPECT_EQ(sizeof(crash) / sizeof(crash[0]), n);
	EXPECT_FALSE(lymph_crash_signal(SIGKILL));
	EXPECT_FALSE(lymph_crash_signal(SIGTERM));
	EXPECT_FALSE(lymph_crash_signal(SIGPIPE));
}

/* the harness compares its int literals with our unsigned fields */
#pragma GCC diagnostic ignored "-Wsign-compare"

/* Issue 16 item 5: kill -SEGV of a process whose crash handler re-raises
 * the signal stays programmed (killed by the sender). */
static struct lymph_signal sig_rec(uint32_t target, uint32_t sender, unsigned int signo,
				   uint64_t ts)
{
	struct lymph_signal s = { .hdr = { .kind = LYMPH_EV_SIGNAL, .ts_ns = ts } };

	s.task.pid = target;
	s.sender_pid = sender;
	s.sender_uid = 1000;
	s.signo = signo;
	s.si_code = 0; /* SI_USER */
	return s;
}

TEST(reraised_kill_stays_programmed)
{
	static struct sigmemo m;
	struct lymph_signal s = sig_rec(4242, 77, SIGSEGV, 1000);
	struct lymph_death d = death(SIGSEGV, 0, LYMPH_DEATH_SIGINFO | LYMPH_DEATH_SELF);
	uint32_t spid = 0, suid = 0;
	struct verdict vd;
	int relayed;

	d.task.pid = 4242;
	d.hdr.ts_ns = 2000;
	/* without the signal record: danger, self-raised */
	vd = classify_death_memo(&d, &m, &relayed, &spid, &suid);
	EXPECT_EQ(LYMPH_CLASS_DANGER, vd.klass);
	EXPECT_EQ(LYMPH_REASON_SELF_RAISED, vd.reason);
	EXPECT_EQ(0, relayed);
	/* with it: programmed, killed by the original sender */
	sigmemo_note(&m, &s);
	vd = classify_death_memo(&d, &m, &relayed, &spid, &suid);
	EXPECT_EQ(LYMPH_CLASS_PROGRAMMED, vd.klass);
	EXPECT_EQ(LYMPH_REASON_KILLED, vd.reason);
	EXPECT_EQ(1, relayed);
	EXPECT_EQ(77, spid);
	EXPECT_EQ(1000, suid);
	/* used once: the process is gone */
	vd = classify_death_memo(&d, &m, &relayed, &spid, &suid);
	EXPECT_EQ(LYMPH_CLASS_DANGER, vd.klass);

	/* another signal, another process, or too late: still danger */
	s = sig_rec(4242, 77, SIGABRT, 1000);
	sigmemo_note(&m, &s);
	EXPECT_EQ(LYMPH_CLASS_DANGER, classify_death_memo(&d, &m, &relayed, NULL, NULL).klass);
	s = sig_rec(4243, 77, SIGSEGV, 1000);
	sigmemo_note(&m, &s);
	EXPECT_EQ(LYMPH_CLASS_DANGER, classify_death_memo(&d, &m, &relayed, NULL, NULL).klass);
	s = sig_rec(4242, 77, SIGSEGV, 1000);
	sigmemo_note(&m, &s);
	d.hdr.ts_ns = 1000 + SIGMEMO_WINDOW_NS + 1;
	EXPECT_EQ(LYMPH_CLASS_DANGER, classify_death_memo(&d, &m, &relayed, NULL, NULL).klass);
	/* a process signalling itself is not remembered; nor a non-crash signal */
	d.hdr.ts_ns = 2000;
	s = sig_rec(4242, 4242, SIGSEGV, 1000);
	sigmemo_note(&m, &s);
	EXPECT_EQ(LYMPH_CLASS_DANGER, classify_death_memo(&d, &m, &relayed, NULL, NULL).klass);
	/* a real fault is a fault whatever was sent before */
	s = sig_rec(4242, 77, SIGSEGV, 1000);
	sigmemo_note(&m, &s);
	d = death(SIGSEGV, 1 /* SEGV_MAPERR */, LYMPH_DEATH_SIGINFO);
	d.task.pid = 4242;
	d.hdr.ts_ns = 2000;
	vd = classify_death_memo(&d, &m, &relayed, NULL, NULL);
	EXPECT_EQ(LYMPH_CLASS_DANGER, vd.klass);
	EXPECT_EQ(LYMPH_REASON_FAULT, vd.reason);
}

/* The table is bounded: the oldest entry makes room. */
TEST(sigmemo_is_bounded)
{
	static struct sigmemo m;
	struct lymph_death d = death(SIGSEGV, 0, LYMPH_DEATH_SIGINFO | LYMPH_DEATH_SELF);
	int relayed;

	for (uint32_t i = 0; i < SIGMEMO_N + 10; i++) {
		struct lymph_signal s = sig_rec(1000 + i, 77, SIGSEGV, 100 + i);

		sigmemo_note(&m, &s);
	}
	d.hdr.ts_ns = 1000;
	d.task.pid = 1000; /* the first: evicted */
	EXPECT_EQ(LYMPH_CLASS_DANGER, classify_death_memo(&d, &m, &relayed, NULL, NULL).klass);
	d.task.pid = 1000 + SIGMEMO_N + 9; /* the last: kept */
	EXPECT_EQ(LYMPH_CLASS_PROGRAMMED, classify_death_memo(&d, &m, &relayed, NULL, NULL).klass);
}

TEST(names)
{
	EXPECT_STREQ("danger", lymph_class_name(LYMPH_CLASS_DANGER));
	EXPECT_STREQ("programmed", lymph_class_name(LYMPH_CLASS_PROGRAMMED));
	EXPECT_STREQ("exit", lymph_reason_name(LYMPH_REASON_EXIT));
	EXPECT_STREQ("fault", lymph_reason_name(LYMPH_REASON_FAULT));
	EXPECT_STREQ("self-raised", lymph_reason_name(LYMPH_REASON_SELF_RAISED));
	EXPECT_STREQ("oom-kill", lymph_reason_name(LYMPH_REASON_OOM_KILL));
	EXPECT_STREQ("resource-limit", lymph_reason_name(LYMPH_REASON_RESOURCE_LIMIT));
	EXPECT_STREQ("killed", lymph_reason_name(LYMPH_REASON_KILLED));
	EXPECT_STREQ("kernel-kill", lymph_reason_name(LYMPH_REASON_KERNEL_KILL));
	EXPECT_STREQ("signal", lymph_reason_name(LYMPH_REASON_SIGNAL));
	EXPECT_STREQ("unverified", lymph_reason_name(LYMPH_REASON_UNVERIFIED));
	EXPECT_STREQ("unknown", lymph_reason_name((enum lymph_reason)1000));
	EXPECT_STREQ("unknown", lymph_reason_name((enum lymph_reason) - 1));
}

TEST_HARNESS_MAIN
