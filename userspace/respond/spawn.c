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
#define PR_CAP_AMBIENT		 47
#define PR_CAP_AMBIENT_RAISE	 2
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
	dprintf(2, "lymphd: cannot start %s: failed to %s: %s\n", arg, what, strerror(errno));
	_exit(127);
}

uint64_t spawn_permitted(void)
{
	cap_t now = cap_get_proc();
	uint64_t m = 0;
	cap_flag_value_t v;
	int c;

	if (!now)
		return 0;
	for (c = 0; c <= CAP_LAST_CAP && c < 64; c++)
		if (!cap_get_flag(now, c, CAP_PERMITTED, &v) && v == CAP_SET)
			m |= 1ULL << c;
	cap_free(now);
	return m;
}

/* E, P and I of the calling thread set to exactly mask. */
static int set_caps(uint64_t eff_perm, uint64_t inh)
{
	cap_value_t list[64];
	int n, c, err = 0;
	cap_t caps = cap_init();

	if (!caps)
		return -1;
	for (n = 0, c = 0; c < 64; c++)
		if ((eff_perm >> c) & 1)
			list[n++] = c;
	if (n && (cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) ||
		  cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET)))
		err = -1;
	for (n = 0, c = 0; c < 64; c++)
		if ((inh >> c) & 1)
			list[n++] = c;
	if (!err && n && cap_set_flag(caps, CAP_INHERITABLE, n, list, CAP_SET))
		err = -1;
	if (!err && cap_set_proc(caps))
		err = -1;
	cap_free(caps);
	return err;
}

/*
 * In the child, while it is still root with lymphd's capabilities: the
 * bounding set reduced to o->bounding and the ambient set emptied (both need
 * CAP_SETPCAP, which the uid switch takes away), then E/P/I reduced to the
 * capabilities given plus, for the switch itself, CAP_SETUID/CAP_SETGID.
 */
static void drop_before_switch(const struct spawn_opts *o, int switching, const char *name)
{
	uint64_t keep = o->caps;
	int c;

	for (c = 0; c < 64; c++) {
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
			break; /* past the kernel's last capability */
		if (!((o->bounding >> c) & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0))
			child_fail("drop the bounding set", name);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		child_fail("clear the ambient set", name);
	if (switching)
		keep |= (1ULL << CAP_SETUID) | (1ULL << CAP_SETGID);
	if (set_caps(keep, o->caps))
		child_fail("drop capabilities", name);
	/* Permitted capabilities survive setuid() only with KEEPCAPS: asked
	 * for only when the service is given some. */
	if (switching && o->caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		child_fail("keep capabilities through the uid switch", name);
}

/* After the switch: exactly o->caps, raised into the ambient set so that
 * they survive execve() of a program without file capabilities. */
static void set_after_switch(const struct spawn_opts *o, const char *name)
{
	int c;

	if (set_caps(o->caps, o->caps))
		child_fail("set capabilities", name);
	for (c = 0; c < 64; c++)
		if (((o->caps >> c) & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0))
			child_fail("raise ambient capabilities", name);
	if (o->caps && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		child_fail("reset keepcaps", name);
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
	if (!o->keep_caps && (o->caps & ~spawn_permitted()))
		return -EPERM; /* lymphd was started without it, or gave it up */

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		static char *const empty[] = { NULL };
		int fd;

		/* lymphd blocks the signals it reads through signalfd. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		/* Output to lymphd's pipe: a write after lymphd stopped fails
		 * with EPIPE rather than killing the service. */
		signal(SIGPIPE, o->use_out_fd ? SIG_IGN : SIG_DFL);
		setsid();

		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0)
			child_fail("open /dev/null", o->argv[0]);
		if (o->use_out_fd) {
			fd = fcntl(o->out_fd, F_DUPFD_CLOEXEC, 3);
		} else if (o->log) {
			fd = open(o->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
				  0640);
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
			drop_before_switch(o, have_user || o->group, o->argv[0]);
			if (have_user) {
				if (uname ? initgroups(uname, gid) : setgroups(0, NULL))
					child_fail("set groups", o->argv[0]);
				if (setgid(gid) || setuid(uid))
					child_fail("set uid/gid", o->argv[0]);
			} else if (o->group && setgid(gid)) {
				child_fail("set gid", o->argv[0]);
			}
			set_after_switch(o, o->argv[0]);
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
