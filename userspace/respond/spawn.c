// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/uio.h>
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

/*
 * The child shares lymphd's memory until its execve (vfork: no copy of
 * lymphd's page tables, which a fork made at every start and then undid
 * page by page as lymphd wrote to its memory; on a VM each of those
 * faults is dear).  So the child only makes system calls, with what the
 * parent prepared here: no malloc, no NSS lookup, no stdio, no libcap, and
 * glibc's setuid()/setgid()/setgroups() neither (in a multi-threaded
 * process they signal every thread of lymphd to switch too): the raw calls.
 */
struct child_plan {
	const struct spawn_opts *o;
	int have_user;	/* user= given: setgroups, setgid, setuid */
	int switching;	/* user= or group= given */
	uid_t uid;
	gid_t gid;
	gid_t *groups;	/* the user's groups (initgroups(3)'s list) */
	int n_groups;
	/* E, P, I before the switch (what is kept, and CAP_SETUID/SETGID
	 * while switching) and after it (exactly what is given) */
	struct __user_cap_data_struct before[_LINUX_CAPABILITY_U32S_3];
	struct __user_cap_data_struct after[_LINUX_CAPABILITY_U32S_3];
};

/* In the child: report what failed on the log, exit 127 (like a shell).
 * strerrordesc_np: the message itself, no locale (nothing allocated). */
static void __attribute__((noreturn)) child_fail(const char *what, const char *arg)
{
	const char *why = strerrordesc_np(errno);
	struct iovec v[] = {
		{ (void *)"lymphd: cannot start ", 21 },
		{ (void *)arg, strlen(arg) },
		{ (void *)": failed to ", 12 },
		{ (void *)what, strlen(what) },
		{ (void *)": ", 2 },
		{ (void *)(why ? why : "unknown error"), strlen(why ? why : "unknown error") },
		{ (void *)"\n", 1 },
	};

	/* the status is 127 whether the log took the line or not (checked
	 * only for the hardened builds' warn_unused_result) */
	if (writev(2, v, sizeof(v) / sizeof(v[0])) < 0)
		_exit(127);
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

/* capset(2)'s data for E = P = eff_perm and I = inh. */
static void caps_fill(struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3],
		      uint64_t eff_perm, uint64_t inh)
{
	d[0].effective = d[0].permitted = (uint32_t)eff_perm;
	d[1].effective = d[1].permitted = (uint32_t)(eff_perm >> 32);
	d[0].inheritable = (uint32_t)inh;
	d[1].inheritable = (uint32_t)(inh >> 32);
}

/* E, P and I of the calling thread set to d (the child: raw capset). */
static int caps_set(const struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return (int)syscall(SYS_capset, &h, d);
}

/*
 * In the child, while it is still root with lymphd's capabilities: the
 * bounding set reduced to o->bounding and the ambient set emptied (both need
 * CAP_SETPCAP, which the uid switch takes away), then E/P/I reduced to the
 * capabilities given plus, for the switch itself, CAP_SETUID/CAP_SETGID.
 */
static void drop_before_switch(const struct child_plan *p, const char *name)
{
	const struct spawn_opts *o = p->o;
	int c;

	for (c = 0; c < 64; c++) {
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
			break; /* past the kernel's last capability */
		if (!((o->bounding >> c) & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0))
			child_fail("drop the bounding set", name);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		child_fail("clear the ambient set", name);
	if (caps_set(p->before))
		child_fail("drop capabilities", name);
	/* Permitted capabilities survive setuid() only with KEEPCAPS: asked
	 * for only when the service is given some. */
	if (p->switching && o->caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		child_fail("keep capabilities through the uid switch", name);
}

/* After the switch: exactly o->caps, raised into the ambient set so that
 * they survive execve() of a program without file capabilities. */
static void set_after_switch(const struct child_plan *p, const char *name)
{
	const struct spawn_opts *o = p->o;
	int c;

	if (caps_set(p->after))
		child_fail("set capabilities", name);
	for (c = 0; c < 64; c++)
		if (((o->caps >> c) & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0))
			child_fail("raise ambient capabilities", name);
	if (o->caps && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		child_fail("reset keepcaps", name);
}

/*
 * The child, from vfork() to execve().  Every signal came blocked (the
 * parent blocked them all around the vfork): a handler of lymphd's would
 * run here on lymphd's memory.  Each one is set back to its default
 * before any is unblocked (the child does not share lymphd's table of
 * handlers, only its memory); execve() would reset them anyway.
 */
static void __attribute__((noreturn)) child_run(const struct child_plan *p)
{
	static char *const empty[] = { NULL };
	const struct spawn_opts *o = p->o;
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	sigset_t none;
	int fd, sig;

	for (sig = 1; sig < NSIG; sig++)
		if (!sigaction(sig, NULL, &old) && old.sa_handler != SIG_DFL &&
		    old.sa_handler != SIG_IGN)
			sigaction(sig, &dfl, NULL);
	/* Output to lymphd's pipe: a write after lymphd stopped fails with
	 * EPIPE rather than killing the service. */
	dfl.sa_handler = o->use_out_fd ? SIG_IGN : SIG_DFL;
	sigaction(SIGPIPE, &dfl, NULL);
	/* lymphd blocks the signals it reads through signalfd. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0)
		child_fail("open /dev/null", o->argv[0]);
	if (o->use_out_fd) {
		fd = fcntl(o->out_fd, F_DUPFD_CLOEXEC, 3);
	} else if (o->log) {
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
		drop_before_switch(p, o->argv[0]);
		if (p->have_user) {
			if (syscall(SYS_setgroups, (size_t)p->n_groups, p->groups))
				child_fail("set groups", o->argv[0]);
			if (syscall(SYS_setgid, p->gid) || syscall(SYS_setuid, p->uid))
				child_fail("set uid/gid", o->argv[0]);
		} else if (o->group && syscall(SYS_setgid, p->gid)) {
			child_fail("set gid", o->argv[0]);
		}
		set_after_switch(p, o->argv[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			child_fail("set no_new_privs", o->argv[0]);
	}
	execve(o->argv[0], o->argv, o->env ? o->env : empty);
	child_fail("exec", o->argv[0]);
}

/* The groups initgroups(3) would give user name (primary gid): *list
 * allocated, or NULL with *n 0 for a uid without a name. */
static int user_groups(const char *name, gid_t gid, gid_t **list, int *n)
{
	int want = 16;

	*list = NULL;
	*n = 0;
	if (!name)
		return 0;
	for (;;) {
		gid_t *l = realloc(*list, (size_t)want * sizeof(*l));
		int got = want;

		if (!l) {
			free(*list);
			*list = NULL;
			return -ENOMEM;
		}
		*list = l;
		if (getgrouplist(name, gid, l, &got) >= 0) {
			*n = got;
			return 0;
		}
		if (got <= want || want >= 65536) {
			free(*list);
			*list = NULL;
			return -E2BIG;
		}
		want = got;
	}
}

pid_t spawn(const struct spawn_opts *o, int *pidfd)
{
	struct child_plan p = { .o = o };
	const char *uname = "root";
	sigset_t all, old;
	uint64_t keep;
	pid_t pid;
	int err;

	*pidfd = -1;
	if (o->user) {
		if (resolve_user(o->user, &p.uid, &p.gid, &uname))
			return -ENOENT;
		p.have_user = 1;
	}
	if (o->group && resolve_group(o->group, &p.gid))
		return -ENOENT;
	if (!o->keep_caps && (o->caps & ~spawn_permitted()))
		return -EPERM; /* lymphd was started without it, or gave it up */
	p.switching = p.have_user || o->group;
	keep = o->caps;
	if (p.switching)
		keep |= (1ULL << CAP_SETUID) | (1ULL << CAP_SETGID);
	caps_fill(p.before, keep, o->caps);
	caps_fill(p.after, o->caps, o->caps);
	if (p.have_user && !o->keep_caps && (err = user_groups(uname, p.gid, &p.groups, &p.n_groups)))
		return err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = vfork();
	if (pid == 0)
		child_run(&p);
	err = pid < 0 ? -errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(p.groups);
	if (err)
		return err;
	*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (*pidfd >= 0)
		fcntl(*pidfd, F_SETFD, FD_CLOEXEC);
	return pid;
}
