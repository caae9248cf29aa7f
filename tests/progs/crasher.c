// SPDX-License-Identifier: GPL-2.0-only
/*
 * A binary for the quarantine tests, compiled by them at setup time into a
 * directory of their own (a fresh inode each run):
 *
 *   crasher segv    dereference NULL: a real fault (SIGSEGV, SEGV_MAPERR)
 *   crasher ok      exit 0 at once: "it still runs"
 *   crasher sleep   sleep up to 30 s, for a kill -SEGV from another process
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	volatile int *volatile null = 0;

	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGSEGV, SIG_DFL);
	if (argc > 1 && !strcmp(argv[1], "ok"))
		return 0;
	if (argc > 1 && !strcmp(argv[1], "sleep")) {
		sleep(30);
		return 3;
	}
	*null = 1;
	return 100; /* survived the fault: the caller sees 100 */
}
