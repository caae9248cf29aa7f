// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "spawn.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static int resolve_user(const char *user, uid_t *uid, gid_t *gid, const char **name)
{
	struct passwd *pw;
	char *end;
	unsigned long n;

	if (!user)
		return -ENOENT;
	pw = getpwnam(user);
	if (!pw) {
		n = strtoul(user, &end, 10);
		if (*end || end == user)
			return -ENOENT;
		pw = getpwuid((uid_t)n);
		if (!pw) {
			*uid = (uid_t)n;
			*gid = (gid_t)n;
			*name = NULL;
			return 0;
		}
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	*name = pw->pw_name;
	return 0;
}

static int resolve_group(const char *group, gid_t *gid)
{
	struct group *gr = getgrnam(group);
	char *end;
	unsigned long n;

	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	n = strtoul(group, &end, 10);
	if (*end || end == group)
		return -ENOENT;
	*gid = (gid_t)n;
	return 0;
}

int spawn_check_user(const char *user, const char *group)
{
	uid_t uid;
	gid_t gid;
	const char *name;

	if (user && resolve_user(user, &uid, &gid, &name))
		return -ENOENT;
	if (group && resolve_group(group, &gid))
		return -ENOENT;
	return 0;
}

/* In the child: report what failed on the log, exit 127 (like a shell). */
static void __attribute__((noreturn)) child_fail(const char *what, const char *arg)
{
	dprintf(2, "lymphd: cannot start %s: %s: %s\n", arg, what, strerror(errno));
	_exit(127);
}

static void drop_all_caps(void)
{
	cap_t none;
	int c;

	/* Bounding set first: dropping it needs CAP_SETPCAP, which setuid loses. */
	for (c = 0; c <= CAP_LAST_CAP; c++)
		prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	none = cap_init();
	if (!none || cap_set_proc(none))
		child_fail("drop capabilities", "");
	cap_free(none);
}

pid_t spawn(const struct spawn_opts *o, int *pidfd)
{
	uid_t uid = 0;
	gid_t gid = 0;
	const char *uname = "root";
	int have_user = 0;
	sigset_t all;
	pid_t pid;

	*pidfd = -1;
	if (o->user) {
		if (resolve_user(o->user, &uid, &gid, &uname))
			return -ENOENT;
		have_user = 1;
	}
	if (o->group && resolve_group(o->group, &gid))
		return -ENOENT;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		static char *const empty[] = { NULL };
		int fd;

		/* lymphd blocks the signals it reads through signalfd. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();

		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0)
			child_fail("open /dev/null", o->argv[0]);
		if (o->log) {
			fd = open(o->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
			if (fd < 0)
				child_fail("open the log", o->log);
		} else {
			fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		}
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			child_fail("redirect output", o->argv[0]);
		syscall(SYS_close_range, 3, ~0U, 0);

		if (chdir(o->workdir ? o->workdir : "/"))
			child_fail("chdir", o->workdir ? o->workdir : "/");
		if (!o->keep_caps) {
			if (have_user) {
				if (uname ? initgroups(uname, gid) : setgroups(0, NULL))
					child_fail("set groups", o->argv[0]);
				if (setgid(gid) || setuid(uid))
					child_fail("set uid/gid", o->argv[0]);
			} else if (o->group && setgid(gid)) {
				child_fail("set gid", o->argv[0]);
			}
			drop_all_caps();
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
				child_fail("set no_new_privs", o->argv[0]);
		}
		execve(o->argv[0], o->argv, o->env ? o->env : empty);
		child_fail("exec", o->argv[0]);
	}
	*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (*pidfd >= 0)
		fcntl(*pidfd, F_SETFD, FD_CLOEXEC);
	return pid;
}
