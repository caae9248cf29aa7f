// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lsm.h"
#include "lsm.skel.h"
#include "jrec.h"
#include "procfs.h"
#include "nofile.h"
#include "qmanager.h"
#include "signames.h"

#define QTABLE_MAX 4096

/* What a quarantined inode is marked for: its exec, and its open by an
 * interpreter or the dynamic loader (decided per event, see on_fd). */
#define QMARK_MASK (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM)

struct qmark {
	uint32_t dev;
	uint64_t ino;
	int fd;			/* held open only where no file handle could be had, else -1 */
	struct file_handle *fh; /* reopens it (open_by_handle_at) without an fd held */
	int mnt;		/* index in q->mnts for fh */
	uint32_t old_mode;	/* exec-bits: the mode to restore */
	int bits_removed;
	char path[256];
};

static const char *enf_name(enum q_enforcement e)
{
	switch (e) {
	case Q_ENF_BPF_LSM: return "bpf-lsm";
	case Q_ENF_FANOTIFY: return "fanotify";
	case Q_ENF_EXEC_BITS: return "exec-bits";
	case Q_ENF_NONE: break;
	}
	return "none";
}

/* ---- protected binaries ------------------------------------------------ */

/*
 * Protected by default, for every user: what it takes to log in, to become
 * root and to stop a runaway (a user's own crashes of these would lock them
 * out).  The login shells of /etc/shells come on top.  Listed in
 * doc/lymph.conf.5.
 */
static const char *const default_protected[] = {
	"/usr/bin/login",
	"/bin/login",
	"/usr/bin/su",
	"/bin/su",
	"/usr/bin/sudo",
	"/usr/bin/passwd",
	"/usr/bin/newgrp",
	"/usr/bin/ssh",
	"/usr/sbin/sshd",
	"/usr/bin/env",
	"/usr/bin/kill",
	"/bin/kill",
	"/usr/bin/ps",
	"/bin/ps",
	"/usr/bin/sh",
	"/bin/sh",
	"/usr/bin/bash",
	"/bin/bash",
	"/usr/sbin/nologin",
	"/usr/bin/systemctl",
	"/usr/sbin/lymphd",
	"/usr/bin/lymphctl",
	NULL,
};

static void protect_path(struct qmanager *q, const char *path)
{
	struct stat st;

	if (q->n_prot < sizeof(q->prot) / sizeof(q->prot[0]) && path && !stat(path, &st)) {
		q->prot[q->n_prot].dev = (uint32_t)st.st_dev;
		q->prot[q->n_prot].ino = st.st_ino;
		q->n_prot++;
	}
}

/* Every login shell of /etc/shells. */
static void protect_shells(struct qmanager *q, const char *shells)
{
	char line[PATH_MAX];
	FILE *f = fopen(shells, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n#")] = 0;
		if (line[0] == '/')
			protect_path(q, line);
	}
	fclose(f);
}

static void load_protected(struct qmanager *q, const struct policy *p)
{
	size_t i;

	q->n_prot = 0;
	q->protect = &p->protect;
	protect_path(q, "/proc/1/exe");	   /* init */
	protect_path(q, "/proc/self/exe"); /* lymphd */
	for (i = 0; default_protected[i]; i++)
		protect_path(q, default_protected[i]);
	protect_shells(q, "/etc/shells");
	for (i = 0; i < p->protect.n_exe; i++)
		protect_path(q, p->protect.exe[i]);
	/* A supervised service crash-loops into its breaker, not into a
	 * quarantine that would block lymphd's own restarts. */
	for (i = 0; i < p->n_services; i++) {
		protect_path(q, p->services[i].exe);
		if (p->services[i].argv)
			protect_path(q, p->services[i].argv[0]);
	}
}

static int is_protected_binary(const struct qmanager *q, uint32_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < q->n_prot; i++)
		if (q->prot[i].dev == dev && q->prot[i].ino == ino)
			return 1;
	return 0;
}

static int is_protected(const struct qmanager *q, uint32_t dev, uint64_t ino, uint32_t uid)
{
	size_t i;

	if (is_protected_binary(q, dev, ino))
		return 1;
	for (i = 0; q->protect && i < q->protect->n_uid; i++)
		if (q->protect->uid[i] == uid)
			return 1;
	return 0;
}

static const struct qban *ban_find(const struct qmanager *q, uint32_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < q->n_bans; i++)
		if (q->bans[i].dev == dev && q->bans[i].ino == ino)
			return &q->bans[i];
	return NULL;
}

/* Does a ban for every uid refuse this uid?  Root and [protect]'s are spared. */
static int banned_for(const struct qmanager *q, uint32_t dev, uint64_t ino, uint32_t uid)
{
	size_t i;

	if (uid == 0 || !ban_find(q, dev, ino))
		return 0;
	for (i = 0; q->protect && i < q->protect->n_uid; i++)
		if (q->protect->uid[i] == uid)
			return 0;
	return 1;
}

/* The inode's mark stays while a uid is quarantined for it or a ban holds. */
static int mark_needed(const struct qmanager *q, uint32_t dev, uint64_t ino, uint64_t now)
{
	return qtable_binary_active(&q->t, dev, ino, now) || ban_find(q, dev, ino);
}

/* ---- interpreters and loaders -------------------------------------------- */

/*
 * Interpreters (a crash under one is the script's) and the dynamic loader
 * (`ld-linux-x86-64.so.2 FILE` runs FILE), found by glob at start.  Listed
 * in doc/lymph.conf.5.
 */
static const char *const interpreter_globs[] = {
	"/usr/bin/python*",
	"/usr/local/bin/python*",
	"/usr/bin/perl",
	"/usr/bin/perl5*",
	"/usr/bin/ruby*",
	"/usr/bin/node",
	"/usr/bin/nodejs",
	"/usr/local/bin/node",
	"/usr/bin/php*",
	"/usr/bin/lua*",
	"/usr/bin/tclsh*",
	"/usr/bin/Rscript",
	"/usr/bin/java",
	"/usr/lib/jvm/*/bin/java",
	"/usr/bin/awk",
	"/usr/bin/gawk",
	"/usr/bin/mawk",
	"/usr/bin/sh",
	"/usr/bin/bash",
	"/usr/bin/dash",
	"/usr/bin/rbash",
	"/usr/bin/zsh",
	"/usr/bin/ksh*",
	"/usr/bin/mksh",
	"/usr/bin/fish",
	"/usr/bin/csh",
	"/usr/bin/tcsh",
	"/usr/bin/busybox",
	"/bin/sh",
	"/bin/bash",
	"/bin/dash",
	"/bin/busybox",
	NULL,
};

static const char *const loader_globs[] = {
	"/lib64/ld-linux*.so*",
	"/lib/ld-linux*.so*",
	"/lib/x86_64-linux-gnu/ld-linux*.so*",
	"/usr/lib/x86_64-linux-gnu/ld-linux*.so*",
	"/usr/lib64/ld-linux*.so*",
	"/lib/ld-musl*.so*",
	"/usr/lib/ld-musl*.so*",
	NULL,
};

static uint32_t runner_kind(const struct qmanager *q, uint32_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < q->n_runners; i++)
		if (q->runners[i].dev == dev && q->runners[i].ino == ino)
			return q->runners[i].kind;
	return 0;
}

static void add_runner(struct qmanager *q, const char *path, uint32_t kind)
{
	struct stat st;

	if (stat(path, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & 0111) ||
	    runner_kind(q, (uint32_t)st.st_dev, st.st_ino) ||
	    q->n_runners == sizeof(q->runners) / sizeof(q->runners[0]))
		return;
	q->runners[q->n_runners].dev = (uint32_t)st.st_dev;
	q->runners[q->n_runners].ino = st.st_ino;
	q->runners[q->n_runners].kind = kind;
	q->n_runners++;
}

static void load_runners(struct qmanager *q)
{
	const char *const *sets[] = { interpreter_globs, loader_globs };
	size_t s, i, j;

	q->n_runners = 0;
	for (s = 0; s < 2; s++) {
		for (i = 0; sets[s][i]; i++) {
			glob_t g;

			if (glob(sets[s][i], 0, NULL, &g))
				continue;
			for (j = 0; j < g.gl_pathc; j++) {
				const char *name = strrchr(g.gl_pathv[j], '/') + 1;

				/* python3-config, perldoc's kin, ...: not interpreters */
				if (strstr(name, "-config") || strstr(name, "-gdb"))
					continue;
				add_runner(q, g.gl_pathv[j],
					   s ? RUNNER_LOADER : RUNNER_INTERPRETER);
			}
			globfree(&g);
		}
	}
}

/* Tell the BPF programs which binaries are runners. */
static void push_runners(struct qmanager *q)
{
	size_t i;
	int fd;

	if (!q->lsm)
		return;
	fd = bpf_map__fd(q->lsm->maps.runners);
	for (i = 0; i < q->n_runners; i++) {
		struct inode_key k = { .ino = q->runners[i].ino, .dev = q->runners[i].dev };
		__u32 v = q->runners[i].kind;

		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			fprintf(stderr,
				"lymphd: failed to tell the script tracker of an interpreter: %s\n",
				strerror(errno));
	}
}

/*
 * The script an interpreter (or the loader) of pid ran, as recorded at its
 * exec: its inode and path.  0, or -errno (-ENOENT: no file, or not known).
 */
static int script_of(struct qmanager *q, uint32_t pid, uint32_t kind, uint32_t *dev, uint64_t *ino,
		     char *path, size_t len)
{
	struct script_rec r;
	struct stat st;
	const char *arg;
	__u32 key = pid;
	int fd, err;

	if (!q->tracker)
		return -ENOENT;
	fd = bpf_map__fd(q->lsm->maps.scripts);
	if (bpf_map_lookup_elem(fd, &key, &r))
		return -ENOENT;
	bpf_map_delete_elem(fd, &key); /* the pid is dead: its record too */
	if (r.args_len > sizeof(r.args) || r.depth > SCRIPT_CWD_DEPTH)
		return -EINVAL;
	arg = qscript_arg((const char *)r.args, r.args_len, kind == RUNNER_LOADER);
	err = qscript_path(arg, (const char(*)[64])r.cwd, r.depth,
			   !(r.flags & SCRIPT_CWD_TRUNCATED), path, len);
	if (err)
		return err;
	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	*dev = (uint32_t)st.st_dev;
	*ino = st.st_ino;
	{
		char *real = realpath(path, NULL);

		if (real && strlen(real) < len)
			strcpy(path, real);
		free(real);
	}
	return 0;
}

/* ---- marks --------------------------------------------------------------- */

static struct qmark *find_mark(struct qmanager *q, uint32_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < q->n_marks; i++)
		if (q->marks[i].dev == dev && q->marks[i].ino == ino)
			return &q->marks[i];
	return NULL;
}

/*
 * Open the binary safely: a symlink is resolved once (the binary of
 * /usr/bin/python3 is /usr/bin/python3.11), the result is opened with no
 * symlink at its last component, and it must still be the inode the
 * sensors saw (a rename race would give another).
 */
static int open_checked(const char *path, uint32_t dev, uint64_t ino, struct stat *st, int flags)
{
	char *real = realpath(path, NULL);
	int fd = open(real ? real : path, flags | O_NOFOLLOW | O_CLOEXEC);

	free(real);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || (uint32_t)st->st_dev != dev ||
	    st->st_ino != ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* A file handle for fd, and the index of an fd on its filesystem to open
 * it with; -errno where the filesystem has no handles. */
static int handle_of(struct qmanager *q, int fd, struct file_handle **out, int *mnt)
{
	struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	int mount_id, err;
	size_t i;

	if (!fh)
		return -ENOMEM;
	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(fd, "", fh, &mount_id, AT_EMPTY_PATH)) {
		err = -errno;
		free(fh);
		return err;
	}
	for (i = 0; i < q->n_mnts; i++)
		if (q->mnts[i].mount_id == mount_id)
			break;
	if (i == q->n_mnts) {
		char self[64];
		int mfd;

		if (q->n_mnts == sizeof(q->mnts) / sizeof(q->mnts[0])) {
			free(fh);
			return -ENOSPC;
		}
		/* This binary's own descriptor, as O_PATH: any fd on the
		 * filesystem serves open_by_handle_at. */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		mfd = open(self, O_PATH | O_CLOEXEC);
		if (mfd < 0) {
			err = -errno;
			free(fh);
			return err;
		}
		q->mnts[i].fd = mfd;
		q->mnts[i].mount_id = mount_id;
		q->n_mnts++;
	}
	*out = fh;
	*mnt = (int)i;
	return 0;
}

/*
 * How lymphd opens a binary it marks: for fanotify O_PATH only, since a
 * real open of a file lymphd marked for FAN_OPEN_PERM would wait for
 * lymphd's own answer, for ever; for exec bits, to fchmod it.
 */
static int mark_flags(const struct qmanager *q)
{
	return q->enf == Q_ENF_FANOTIFY ? O_PATH : O_RDONLY | O_NONBLOCK;
}

/* fanotify_mark on fd, which may be O_PATH (fanotify_mark's own fd
 * argument takes no O_PATH file: through its /proc/self/fd link it does). */
static int fan_mark(struct qmanager *q, unsigned int op, int fd)
{
	char self[64];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return fanotify_mark(q->fan_fd, op, QMARK_MASK, AT_FDCWD, self) ? -errno : 0;
}

/* An fd on the marked inode again (caller closes), or -errno. */
static int mark_open(struct qmanager *q, const struct qmark *m)
{
	int flags = mark_flags(q) | O_CLOEXEC;
	struct stat st;
	int fd;

	if (m->fd >= 0) {
		fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	if (m->fh) {
		/* CAP_DAC_READ_SEARCH, which lymphd keeps for this */
		fd = open_by_handle_at(q->mnts[m->mnt].fd, m->fh, flags);
		if (fd >= 0)
			return fd;
	}
	if (!m->path[0])
		return -ENOENT;
	return open_checked(m->path, m->dev, m->ino, &st, mark_flags(q));
}

static int journal_intent(struct qmanager *q, const char *action, uint32_t dev, uint64_t ino,
			  uint32_t uid, const char *path, uint32_t old_mode, const char *result);

/* Put the enforcement in place for (dev, ino); returns 0 or -errno.
 * restored_old_mode: a quarantine of the journal comes back (its record
 * holds the mode); 0: a new one, whose exec bits are removed only after
 * the intent is on disk. */
static int mark_add(struct qmanager *q, uint32_t dev, uint64_t ino, uint32_t uid, const char *path,
		    uint32_t restored_old_mode)
{
	struct qmark *m = find_mark(q, dev, ino);
	struct stat st;
	int fd = -1, err;

	if (m)
		return 0;
	if (q->n_marks == q->cap_marks) {
		size_t cap = q->cap_marks ? q->cap_marks * 2 : 16;
		struct qmark *grown = realloc(q->marks, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		q->marks = grown;
		q->cap_marks = cap;
	}
	m = &q->marks[q->n_marks];
	memset(m, 0, sizeof(*m));
	m->dev = dev;
	m->ino = ino;
	m->fd = -1;
	if (path) {
		char *real = realpath(path, NULL);

		snprintf(m->path, sizeof(m->path), "%s", real ? real : path);
		free(real);
	}

	if (q->enf == Q_ENF_BPF_LSM) {
		/* Nothing on the inode, no path needed, no descriptor: the
		 * per-uid keys go in the LSM's map. */
		q->n_marks++;
		return 0;
	}
	if (q->enf != Q_ENF_FANOTIFY && q->enf != Q_ENF_EXEC_BITS)
		return -EOPNOTSUPP;
	if (!path)
		return -ENOENT;
	fd = open_checked(path, dev, ino, &st, mark_flags(q));
	if (fd < 0)
		return fd;
	if (q->enf == Q_ENF_FANOTIFY) {
		err = fan_mark(q, FAN_MARK_ADD, fd);
		if (err)
			goto fail;
	} else {
		/* Removing exec bits bans every user: only for root's own scope
		 * on a root-owned binary. */
		if (uid != 0 || st.st_uid != 0) {
			err = -EPERM;
			goto fail;
		}
		m->old_mode = restored_old_mode ? restored_old_mode : (st.st_mode & 07777);
		/* The intent first, fsynced: a mode on disk outlives lymphd,
		 * and only the journal can give it back.  A lymphd killed
		 * before the quarantine record leaves the intent, which its
		 * next start answers (qmanager_replay_done).  No journal, no
		 * exec bits removed. */
		if ((st.st_mode & 0111) && !restored_old_mode && q->journal && !q->replaying &&
		    (err = journal_intent(q, "intent", dev, ino, uid, m->path, m->old_mode,
					  "about to remove the exec bits: if lymphd dies before "
					  "its quarantine record, its next start gives them back")))
			goto fail;
		if ((st.st_mode & 0111) && fchmod(fd, st.st_mode & 07666)) {
			err = -errno;
			goto fail;
		}
		m->bits_removed = 1;
	}
	/* No descriptor held per binary: a file handle reopens it. */
	if (!handle_of(q, fd, &m->fh, &m->mnt)) {
		close(fd);
	} else if (q->fds_held < q->fd_budget) {
		m->fd = fd;
		q->fds_held++;
	} else {
		err = -EMFILE;
		if (q->enf == Q_ENF_FANOTIFY)
			fan_mark(q, FAN_MARK_REMOVE, fd);
		if (m->bits_removed)
			fchmod(fd, m->old_mode);
		goto fail;
	}
	q->n_marks++;
	return 0;
fail:
	close(fd);
	return err;
}

static void mark_remove(struct qmanager *q, struct qmark *m)
{
	int fd = q->enf == Q_ENF_BPF_LSM ? -1 : mark_open(q, m), err;

	if (fd >= 0) {
		if (q->enf == Q_ENF_FANOTIFY && (err = fan_mark(q, FAN_MARK_REMOVE, fd)))
			fprintf(stderr, "lymphd: failed to lift the quarantine mark of %s: %s\n",
				m->path[0] ? m->path : "a quarantined binary", strerror(-err));
		if (m->bits_removed)
			fchmod(fd, m->old_mode); /* exactly the mode it had */
		close(fd);
	} else if (q->enf != Q_ENF_BPF_LSM) {
		fprintf(stderr,
			"lymphd: failed to reopen %s to lift its quarantine mark: %s; the mark "
			"goes when lymphd stops\n",
			m->path[0] ? m->path : "a quarantined binary", strerror(-fd));
	}
	if (m->fd >= 0) {
		close(m->fd);
		q->fds_held--;
	}
	free(m->fh);
	*m = q->marks[--q->n_marks];
}

/* The BPF LSM decides per (binary, uid): one map key per quarantine. */
static int lsm_key(struct qmanager *q, const struct qkey *k, int add)
{
	struct quarantine_key key = { .ino = k->ino, .dev = k->dev, .uid = k->uid };
	__u64 zero = 0;
	int fd;

	if (q->enf != Q_ENF_BPF_LSM)
		return 0;
	fd = bpf_map__fd(q->lsm->maps.quarantined);
	if (add)
		return bpf_map_update_elem(fd, &key, &zero, BPF_ANY) ? -errno : 0;
	if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
		return -errno;
	return 0;
}

/* ---- journal ------------------------------------------------------------- */

/*
 * The evidence of each quarantine (the "why" of the record that imposed
 * it), kept so that a rotation's snapshot carries it: otherwise two
 * rotations would leave a quarantine in force with nothing to say why.
 */
struct qevidence {
	struct qkey k;
	struct json_object *why;
};

static struct qevidence *evidence_find(struct qmanager *q, const struct qkey *k)
{
	size_t i;

	for (i = 0; i < q->n_evidence; i++)
		if (q->evidence[i].k.dev == k->dev && q->evidence[i].k.ino == k->ino &&
		    q->evidence[i].k.uid == k->uid)
			return &q->evidence[i];
	return NULL;
}

/* Keep why (a reference is taken) as key's evidence; bounded by QTABLE_MAX. */
static void evidence_keep(struct qmanager *q, const struct qkey *k, struct json_object *why)
{
	struct qevidence *ev = evidence_find(q, k);

	if (!ev && q->n_evidence == q->cap_evidence) {
		size_t cap = q->cap_evidence ? q->cap_evidence * 2 : 16;
		struct qevidence *grown;

		if (cap > QTABLE_MAX) {
			ev = &q->evidence[q->evidence_next++ % q->n_evidence]; /* oldest first */
		} else {
			grown = realloc(q->evidence, cap * sizeof(*grown));
			if (!grown)
				return;
			q->evidence = grown;
			q->cap_evidence = cap;
		}
	}
	if (!ev) {
		ev = &q->evidence[q->n_evidence++];
		ev->why = NULL;
	}
	json_object_put(ev->why);
	ev->k = *k;
	ev->why = json_object_get(why);
}

static void evidence_free(struct qmanager *q)
{
	size_t i;

	for (i = 0; i < q->n_evidence; i++)
		json_object_put(q->evidence[i].why);
	free(q->evidence);
	q->evidence = NULL;
	q->n_evidence = q->cap_evidence = 0;
}

/*
 * May this record reach the disk after its line (journal.h)?  Those a death
 * causes (a would-quarantine, a quarantine, a protected or overflow note),
 * unless the quarantine removes exec bits: a mode on disk outlives lymphd
 * and the host, and only the record can give it back.  A fanotify mark or
 * a BPF LSM key goes with lymphd and with the host, so a record lost to a
 * power cut a millisecond after its line leaves nothing behind it; a crash
 * of lymphd loses nothing (the record is written first).  Expiry and
 * release act after their record: those stay synchronous.
 */
static int q_deferred(const struct qmanager *q, const struct lymph_death *why)
{
	return why && !(q->enforce && q->enf == Q_ENF_EXEC_BITS);
}

static void journal_q(struct qmanager *q, const char *action, const struct qentry *e,
		      const struct qkey *k, const char *path, const char *result,
		      const struct lymph_death *why, uint64_t now)
{
	struct qmark *m = find_mark(q, k->dev, k->ino);
	/* Bytes and object at once (lib/jsonw.h): a decision's record is
	 * not serialised again by json-c, on the path of a crash's line. */
	char buf[1024];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof(buf), 1);
	jsonw_str(&w, "type", "quarantine");
	jsonw_str(&w, "action", action);
	jsonw_str(&w, "mode", q->enforce ? "enforce" : "observe");
	jsonw_str(&w, "exe", path);
	jsonw_i64(&w, "exe_dev", k->dev);
	jsonw_u64(&w, "exe_ino", k->ino);
	jsonw_i64(&w, "uid", k->uid);
	jsonw_str(&w, "enforcement", enf_name(q->enf));
	if (e) {
		jsonw_u64(&w, "until_wall_ns", clock_to_wall(&q->clk, e->until));
		jsonw_u64(&w, "since_wall_ns", clock_to_wall(&q->clk, e->since));
		jsonw_double(&w, "duration_s",
			     e->until > e->since ? (double)(e->until - e->since) / 1e9 : 0.0);
		jsonw_double(&w, "offences",
			     decay_value(&e->offences, now, 4 * q->t.conf.duration_max));
		jsonw_i64(&w, "total", e->total);
	}
	if (m && m->bits_removed)
		jsonw_i64(&w, "old_mode", m->old_mode);
	if (why) {
		struct json_object *wo = jsonw_open(&w, "why");

		jsonw_i64(&w, "pid", why->task.pid);
		jsonw_str(&w, "signal", signal_name(why->signo));
		jsonw_i64(&w, "si_code", why->si_code);
		jsonw_u64(&w, "fault_addr", why->fault_addr);
		jsonw_close(&w);
		if (wo && !strcmp(action, "quarantine"))
			evidence_keep(q, k, wo);
	} else if (!strcmp(action, "snapshot")) {
		struct qevidence *ev = evidence_find(q, k);

		if (ev && ev->why)
			jsonw_json(&w, "why", ev->why);
	}
	if (result)
		jsonw_str(&w, "result", result);
	if (q->journal && journal_append_jsonw(q->journal, &w, q_deferred(q, why)))
		fprintf(stderr, "lymphd: failed to write the journal (quarantine %s)\n", action);
	if (!q->journal)
		jsonw_free(&w);
}

/*
 * A record of the exec bits themselves, outside any quarantine's
 * bookkeeping: the intent (before the fchmod) and what the replay did
 * with an intent no other record answered ("recovered").  Synchronous:
 * 0, or -errno when it is not on disk.
 */
static int journal_intent(struct qmanager *q, const char *action, uint32_t dev, uint64_t ino,
			  uint32_t uid, const char *path, uint32_t old_mode, const char *result)
{
	struct json_object *rec = json_object_new_object();
	int err;

	json_object_object_add(rec, "type", json_object_new_string("quarantine"));
	json_object_object_add(rec, "action", json_object_new_string(action));
	json_object_object_add(rec, "mode",
			       json_object_new_string(q->enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "exe",
			       path && path[0] == '/' ? json_object_new_string(path) : NULL);
	json_object_object_add(rec, "exe_dev", json_object_new_int64(dev));
	json_object_object_add(rec, "exe_ino", json_object_new_uint64(ino));
	json_object_object_add(rec, "uid", json_object_new_int64(uid));
	json_object_object_add(rec, "enforcement", json_object_new_string("exec-bits"));
	json_object_object_add(rec, "old_mode", json_object_new_int64(old_mode));
	json_object_object_add(rec, "result", json_object_new_string(result));
	if (!q->journal) {
		json_object_put(rec);
		return 0;
	}
	err = journal_append(q->journal, rec);
	if (err)
		fprintf(stderr,
			"lymphd: failed to write the journal (quarantine %s): %s; the exec bits "
			"of %s are left as they are\n",
			action, strerror(-err), path ? path : "a binary");
	return err;
}

/* ---- entry points -------------------------------------------------------- */

/* Descriptors: the soft limit raised to the hard one (1,024 is the usual
 * soft limit, far below what a host's crashes can ask for), and a budget
 * for the marks that cannot use a file handle: half of it, the rest for
 * control connections, services, the journal. */
static void raise_nofile(struct qmanager *q)
{
	uint64_t n = nofile_raise();

	if (!n)
		return;
	q->nofile = n;
	q->fd_budget = (size_t)(q->nofile / 2);
}

static int load_lsm(struct qmanager *q)
{
	int err;

	/* All of it: the LSM programs and the script tracker. */
	q->lsm = lsm__open_and_load();
	if (q->lsm && !lsm__attach(q->lsm)) {
		q->enf = Q_ENF_BPF_LSM;
		q->tracker = 1;
		return 0;
	}
	err = errno ? -errno : -EOPNOTSUPP;
	lsm__destroy(q->lsm);
	/* The tracker alone (a tracepoint, which every kernel with BTF runs). */
	q->lsm = lsm__open();
	if (!q->lsm)
		return err;
	bpf_program__set_autoload(q->lsm->progs.deny_quarantined, false);
	bpf_program__set_autoload(q->lsm->progs.deny_exec_map, false);
	bpf_program__set_autoload(q->lsm->progs.deny_exec_protect, false);
	bpf_program__set_autoload(q->lsm->progs.deny_interpreted, false);
	if (lsm__load(q->lsm) || lsm__attach(q->lsm)) {
		fprintf(stderr,
			"lymphd: failed to load the script tracker (%s): a crash under an "
			"interpreter is charged to nobody\n",
			strerror(errno));
		lsm__destroy(q->lsm);
		q->lsm = NULL;
	} else {
		q->tracker = 1;
	}
	return err;
}

int qmanager_init(struct qmanager *q, const struct policy *p, struct journal *j, int enforce)
{
	int err;

	memset(q, 0, sizeof(*q));
	q->fan_fd = -1;
	q->journal = j;
	q->enforce = enforce;
	q->factor = 1.0;
	clock_offset_init(&q->clk);
	err = qtable_init(&q->t, &p->quarantine, QTABLE_MAX);
	if (err)
		return err;
	q->t.max_per_uid = QMANAGER_MAX_PER_UID;
	raise_nofile(q);
	load_protected(q, p);
	load_runners(q);

	/* Best available first: the BPF LSM (in the kernel, no round trip),
	 * then fanotify permission events, then exec bits. */
	err = load_lsm(q);
	push_runners(q);
	if (q->enf == Q_ENF_BPF_LSM)
		return 0;
	snprintf(q->enf_why_buf, sizeof(q->enf_why_buf), "bpf-lsm unavailable on this kernel (%s)",
		 strerror(-err));
	q->enf_why = q->enf_why_buf;
	q->fan_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
				  O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (q->fan_fd >= 0) {
		q->enf = Q_ENF_FANOTIFY;
	} else {
		q->enf = Q_ENF_EXEC_BITS;
		q->enf_why = "fanotify permission events unavailable";
		fprintf(stderr,
			"lymphd: fanotify unavailable (%s): quarantine falls back to removing "
			"exec bits, for root's own scope only\n",
			strerror(errno));
	}
	return 0;
}

void qmanager_free(struct qmanager *q)
{
	size_t i;

	/* Marks go with the fanotify fd; removed exec bits stay removed: the
	 * journal restores or expires them at the next start. */
	while (q->n_marks) {
		struct qmark *m = &q->marks[q->n_marks - 1];

		if (m->fd >= 0)
			close(m->fd);
		free(m->fh);
		q->n_marks--;
	}
	free(q->marks);
	free(q->intents);
	evidence_free(q);
	for (i = 0; i < q->n_mnts; i++)
		close(q->mnts[i].fd);
	if (q->fan_fd >= 0)
		close(q->fan_fd);
	lsm__destroy(q->lsm); /* the denials end with lymphd, as fanotify's do */
	qtable_free(&q->t);
	memset(q, 0, sizeof(*q));
	q->fan_fd = -1;
}

int qmanager_fd(const struct qmanager *q)
{
	return q->fan_fd;
}

/* Say it once per key (the table remembers the key, never triggering). */
static void note_once(struct qmanager *q, const struct qkey *k, const char *action, const char *exe,
		      const char *why, const struct lymph_death *d, uint64_t now)
{
	if (qtable_find(&q->t, k))
		return;
	qtable_on_danger(&q->t, k, now, 1e18); /* remember, never trigger */
	journal_q(q, action, NULL, k, exe, why, d, now);
}

/* No room to track or enforce: journaled (at the 1st, 2nd, 4th, 8th, ...
 * of each kind, so a flood cannot flood the journal) and counted in status. */
static void overflow(struct qmanager *q, const struct qkey *k, const char *exe, const char *why,
		     uint64_t count, const struct lymph_death *d, uint64_t now)
{
	if (count & (count - 1))
		return;
	journal_q(q, "overflow", NULL, k, exe, why, d, now); /* printed with the decisions */
}

void qmanager_set_wake(struct qmanager *q, void (*calm)(void *ctx, const struct qkey *k),
		       void (*reset)(void *ctx, int all), void *ctx)
{
	q->wake_calm = calm;
	q->wake_reset = reset;
	q->wake_ctx = ctx;
	if (reset)
		reset(ctx, !q->t.conf.enabled);
}

/*
 * Can no danger death of own (the binary the sensors saw and its uid)
 * start a quarantine under this policy?  Root's without root = yes, a
 * protected uid, a protected binary that is no interpreter (under one, the
 * script is charged).  The weather and the fleet only scale thresholds.
 */
static int own_calm(const struct qmanager *q, const struct qkey *own)
{
	size_t i;

	if (own->uid == 0 && !q->t.conf.root)
		return 1;
	for (i = 0; q->protect && i < q->protect->n_uid; i++)
		if (q->protect->uid[i] == own->uid)
			return 1;
	return !runner_kind(q, own->dev, own->ino) && is_protected_binary(q, own->dev, own->ino);
}

void qmanager_on_death(struct qmanager *q, const struct lymph_death *d, const struct verdict *vd,
		       const char *exe, uint64_t now)
{
	struct qkey k = { .ino = d->task.exe_ino, .dev = d->task.exe_dev, .uid = d->task.uid };
	char script[PATH_MAX];
	struct qentry *e;
	uint32_t kind;
	int err;

	if (!q->t.conf.enabled)
		return; /* [quarantine] is off: not even a would-quarantine */
	if (vd->klass != LYMPH_CLASS_DANGER || (!k.ino && !k.dev))
		return;
	/* Without siginfo a "crash" may be kill -SEGV: never an antibody. */
	if (vd->reason == LYMPH_REASON_UNVERIFIED)
		return;
	/* The sensors wake lymphd for such a death until told it is calm. */
	if (q->wake_calm && own_calm(q, &k))
		q->wake_calm(q->wake_ctx, &k);
	/* Under an interpreter (or the loader) the offender is the script it
	 * ran, never the interpreter: python3 keeps working for that user. */
	kind = runner_kind(q, k.dev, k.ino);
	if (kind) {
		err = script_of(q, d->task.pid, kind, &k.dev, &k.ino, script, sizeof(script));
		if (err) {
			note_once(q, &k, "protected", exe,
				  "an interpreter or the loader, and the file it "
				  "ran is not known: never quarantined",
				  d, now);
			return;
		}
		exe = script;
	}
	if (is_protected(q, k.dev, k.ino, k.uid)) {
		note_once(q, &k, "protected", exe, "protected binary or uid: never quarantined", d,
			  now);
		return;
	}
	if (k.uid == 0 && !q->t.conf.root) {
		note_once(q, &k, "protected", exe,
			  "uid 0: root's binaries are quarantined only with "
			  "[quarantine] root = yes",
			  d, now);
		return;
	}
	e = qtable_on_danger(
		&q->t, &k, now,
		q->factor * (q->bin_factor ? q->bin_factor(q->bin_factor_ctx, k.dev, k.ino) : 1.0));
	if (!e) {
		if (q->t.overflow == Q_OVF_UID)
			overflow(q, &k, exe,
				 "this uid already has its maximum of quarantined binaries",
				 q->t.overflows[Q_OVF_UID], d, now);
		else if (q->t.overflow == Q_OVF_TABLE)
			overflow(q, &k, exe, "the quarantine table is full of quarantines",
				 q->t.overflows[Q_OVF_TABLE], d, now);
		return;
	}
	if (!q->enforce) {
		journal_q(q, "would-quarantine", e, &k, exe, "observe mode", d, now);
		qtable_end(&q->t, &k);
		return;
	}
	err = mark_add(q, k.dev, k.ino, k.uid, exe, 0);
	if (!err)
		err = lsm_key(q, &k, 1);
	if (err) {
		char msg[160];

		if (err == -EMFILE) {
			q->overflow_fds++;
			overflow(q, &k, exe,
				 "lymphd's descriptor budget for quarantine marks is spent",
				 q->overflow_fds, d, now);
		}
		snprintf(
			msg, sizeof(msg), "cannot enforce (%s): %s", enf_name(q->enf),
			err == -ENOENT ? "the binary's path is unknown"
			: err == -EPERM
				? "exec bits are removed only for root's own scope on root-owned binaries"
				: strerror(-err));
		journal_q(q, "quarantine", e, &k, exe, msg, d, now);
		qtable_end(&q->t, &k);
		return;
	}
	journal_q(q, "quarantine", e, &k, exe, "ok", d, now);
	q->last_imposed = now;
}

/* The RUNNER_* kind of pid's executable, 0 for other programs. */
static uint32_t pid_runner(const struct qmanager *q, int pid)
{
	char link[64];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (stat(link, &st))
		return 0;
	return runner_kind(q, (uint32_t)st.st_dev, st.st_ino);
}

void qmanager_on_fd(struct qmanager *q, uint64_t now)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;

	while ((n = read(q->fan_fd, buf, sizeof(buf))) > 0) {
		struct fanotify_event_metadata *md = (void *)buf;

		for (; FAN_EVENT_OK(md, n); md = FAN_EVENT_NEXT(md, n)) {
			struct fanotify_response resp = { .fd = md->fd, .response = FAN_ALLOW };
			struct stat st;
			uint32_t uid;

			if (md->vers != FANOTIFY_METADATA_VERSION || md->fd < 0)
				continue;
			/* An exec of the file, or its open by an interpreter or the
			 * dynamic loader (`ld-linux-x86-64.so.2 FILE`, `python3
			 * FILE`: an open, not an exec); any other open is allowed,
			 * so the user may still read, copy or debug it. */
			if ((md->mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM)) &&
			    !fstat(md->fd, &st) && !proc_real_uid(md->pid, &uid)) {
				struct qkey k = { .ino = st.st_ino,
						  .dev = (uint32_t)st.st_dev,
						  .uid = uid };

				if ((qtable_active(&q->t, &k, now) ||
				     banned_for(q, k.dev, k.ino, uid)) &&
				    ((md->mask & FAN_OPEN_EXEC_PERM) || pid_runner(q, md->pid))) {
					resp.response = FAN_DENY;
					q->denied++;
				}
			}
			/* Answer every event, or the exec would hang. */
			if (write(q->fan_fd, &resp, sizeof(resp)) < 0)
				fprintf(stderr, "lymphd: failed to answer fanotify: %s\n",
					strerror(errno));
			close(md->fd);
		}
	}
}

static void end_one(struct qmanager *q, struct qentry *e, const char *action, uint64_t now)
{
	struct qkey k = e->key;
	struct qmark *m = find_mark(q, k.dev, k.ino);
	char path[256] = "";

	if (m)
		snprintf(path, sizeof(path), "%s", m->path);
	qtable_end(&q->t, &k);
	lsm_key(q, &k, 0);
	journal_q(q, action, e, &k, path[0] ? path : NULL, "ok", NULL, now);
	/* The inode's mark goes when no uid is quarantined for it any more. */
	if (m && !mark_needed(q, k.dev, k.ino, now))
		mark_remove(q, m);
}

void qmanager_tick(struct qmanager *q, uint64_t now)
{
	size_t i;

	/* Nothing ends yet: the table (8192 slots) is not scanned four
	 * times a second for nothing. */
	if (!q->t.next_until || now < q->t.next_until)
		return;
	q->t.next_until = 0;
	for (i = 0; i < q->t.ht.cap; i++) {
		struct qentry *e = hashtab_at(&q->t.ht, i);

		if (!e->used || !e->until)
			continue;
		if (e->until <= now)
			end_one(q, e, "expire", now);
		else
			qtable_note_until(&q->t, e->until);
	}
}

int qmanager_release(struct qmanager *q, const char *path, long uid, uint64_t now)
{
	struct stat st;
	size_t i;
	int n = 0;

	if (stat(path, &st))
		return -errno;
	for (i = 0; i < q->t.ht.cap; i++) {
		struct qentry *e = hashtab_at(&q->t.ht, i);

		if (!e->used || e->until <= now || e->key.dev != (uint32_t)st.st_dev ||
		    e->key.ino != st.st_ino || (uid >= 0 && e->key.uid != (uint32_t)uid))
			continue;
		end_one(q, e, "release", now);
		n++;
	}
	return n;
}

/* ---- bans for every uid ---------------------------------------------------- */

/* The BPF LSM's spared uids: root and [protect]'s (bpf/lsm.bpf.c). */
static void lsm_spare(struct qmanager *q)
{
	__u32 next, uid = 0;
	__u8 one = 1;
	size_t i;
	int fd;

	if (q->enf != Q_ENF_BPF_LSM)
		return;
	fd = bpf_map__fd(q->lsm->maps.spared_uids);
	/* A reload may have shortened [protect]: start afresh. */
	while (!bpf_map_get_next_key(fd, NULL, &next) && !bpf_map_delete_elem(fd, &next))
		;
	if (bpf_map_update_elem(fd, &uid, &one, BPF_ANY))
		fprintf(stderr,
			"lymphd: failed to spare uid 0 from bans for every uid: %s; no ban "
			"will be imposed\n",
			strerror(errno));
	for (i = 0; q->protect && i < q->protect->n_uid; i++) {
		uid = q->protect->uid[i];
		if (bpf_map_update_elem(fd, &uid, &one, BPF_ANY))
			fprintf(stderr,
				"lymphd: failed to spare uid %u from bans for every uid: %s\n", uid,
				strerror(errno));
	}
}

int qmanager_ban(struct qmanager *q, uint32_t dev, uint64_t ino, const char *path, uint64_t now,
		 const char **why)
{
	struct qkey k = { .ino = ino, .dev = dev, .uid = QUARANTINE_ANY_UID };
	struct qban *b;
	int err;

	*why = NULL;
	if (ban_find(q, dev, ino))
		return 0;
	if (!q->t.conf.enabled) {
		*why = "[quarantine] is off";
		return -ENOTSUP;
	}
	if (is_protected_binary(q, dev, ino)) {
		*why = "a protected binary: never quarantined";
		return -EPERM;
	}
	if (q->enf != Q_ENF_BPF_LSM && q->enf != Q_ENF_FANOTIFY) {
		*why = "exec bits would lock root out too: a ban for every uid needs the BPF LSM "
		       "or fanotify";
		return -EOPNOTSUPP;
	}
	if (!q->enforce) {
		*why = "observe mode";
		return -EAGAIN;
	}
	if (q->n_bans == QMANAGER_MAX_BANS) {
		*why = "too many bans for every uid at once";
		return -ENOSPC;
	}
	if (q->enf == Q_ENF_BPF_LSM && q->n_bans == 0)
		lsm_spare(q);
	err = mark_add(q, dev, ino, QUARANTINE_ANY_UID, path, 0);
	if (!err)
		err = lsm_key(q, &k, 1);
	if (err) {
		struct qmark *m = find_mark(q, dev, ino);

		if (m && !mark_needed(q, dev, ino, now))
			mark_remove(q, m);
		*why = err == -ENOENT ? "the binary's path is unknown here"
				      : "cannot mark the binary";
		return err;
	}
	b = &q->bans[q->n_bans++];
	*b = (struct qban){ .dev = dev, .ino = ino, .since = now };
	snprintf(b->path, sizeof(b->path), "%s", path ? path : "");
	q->last_imposed = now;
	return 0;
}

int qmanager_unban(struct qmanager *q, uint32_t dev, uint64_t ino, uint64_t now)
{
	struct qkey k = { .ino = ino, .dev = dev, .uid = QUARANTINE_ANY_UID };
	struct qban *b = (struct qban *)ban_find(q, dev, ino);
	struct qmark *m;

	if (!b)
		return -ENOENT;
	*b = q->bans[--q->n_bans];
	lsm_key(q, &k, 0);
	m = find_mark(q, dev, ino);
	if (m && !mark_needed(q, dev, ino, now))
		mark_remove(q, m);
	return 0;
}

void qmanager_reload(struct qmanager *q, const struct policy *p, int enforce)
{
	q->t.conf = p->quarantine;
	q->enforce = enforce;
	load_protected(q, p);
	if (q->n_bans)
		lsm_spare(q); /* [protect] uids may have changed */
	/* What was calm may not be under the new policy. */
	if (q->wake_reset)
		q->wake_reset(q->wake_ctx, !q->t.conf.enabled);
}

/* ---- exec bits known only by their intent (replay) ------------------------- */

enum qintent_kind {
	QI_INTENT,	/* an intent no later record answered */
	QI_ENFORCEMENT, /* exec bits of an earlier run, enforced by a mark now */
};

struct qintent {
	uint32_t dev;
	uint64_t ino;
	uint32_t uid;
	uint32_t old_mode;
	enum qintent_kind kind;
	char path[256];
};

/* A later record of the inode answers its intent: the quarantine (done or
 * refused), a snapshot of it, its end, a recovery. */
static void intent_forget(struct qmanager *q, uint32_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < q->n_intents; i++)
		if (q->intents[i].dev == dev && q->intents[i].ino == ino) {
			q->intents[i] = q->intents[--q->n_intents];
			return;
		}
}

static void intent_note(struct qmanager *q, const struct jrec_quarantine *r, enum qintent_kind kind)
{
	struct qintent *it;

	intent_forget(q, r->dev, r->ino);
	/* Nothing to give back without the path or the bits. */
	if (!r->exe || !(r->old_mode & 0111) || strlen(r->exe) >= sizeof(it->path))
		return;
	if (q->n_intents == q->cap_intents) {
		size_t cap = q->cap_intents ? q->cap_intents * 2 : 4;

		if (cap > QTABLE_MAX)
			return;
		it = realloc(q->intents, cap * sizeof(*it));
		if (!it)
			return;
		q->intents = it;
		q->cap_intents = cap;
	}
	it = &q->intents[q->n_intents++];
	it->dev = r->dev;
	it->ino = r->ino;
	it->uid = r->uid;
	it->old_mode = r->old_mode;
	it->kind = kind;
	snprintf(it->path, sizeof(it->path), "%s", r->exe);
}

/*
 * lymphd died between an intent and the quarantine record: the exec bits
 * may be gone with no quarantine to give them back.  Or an earlier run
 * removed them and this one enforces the quarantine with a fanotify mark
 * or the BPF LSM (or observes only), whose end would not give them back.  They are given back
 * only to the same inode and only if it still has the mode lymphd would
 * have set (an administrator's chmod since is kept); journaled either way.
 * Opened O_PATH and changed through its /proc/self/fd link: no open of the
 * file (which a fanotify mark of lymphd's own could hold), no symlink.
 */
static void intent_recover(struct qmanager *q, const struct qintent *it)
{
	uint32_t set = it->old_mode & 07666, cur = 0;
	int fd = open(it->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	char result[512], self[64];
	struct qmark *m;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint32_t)st.st_dev != it->dev ||
	    st.st_ino != it->ino) {
		snprintf(result, sizeof(result),
			 "not given back: %s is gone or another file now (%s); no file there had "
			 "its exec bits removed by lymphd",
			 it->path, fd < 0 ? strerror(errno) : "another inode");
		goto out;
	}
	cur = st.st_mode & 07777;
	m = find_mark(q, it->dev, it->ino);
	if (m && m->bits_removed) {
		/* A quarantine in force holds the inode: its end gives back
		 * the mode of the intent, the one before lymphd's. */
		if (!(m->old_mode & 0111))
			m->old_mode = it->old_mode;
		snprintf(
			result, sizeof(result),
			"kept removed: a quarantine in force holds %s; its end gives mode %04o back",
			it->path, it->old_mode);
	} else if (cur == set && cur != it->old_mode) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		if (fchmodat(AT_FDCWD, self, it->old_mode, 0))
			snprintf(
				result, sizeof(result),
				"failed to give the exec bits back (%s): mode %04o; run chmod %04o %s",
				strerror(errno), cur, it->old_mode, it->path);
		else if (it->kind == QI_ENFORCEMENT)
			snprintf(result, sizeof(result),
				 "exec bits given back: mode %04o again (it was %04o: the "
				 "quarantine is %s now, not exec bits)",
				 it->old_mode, cur,
				 q->enforce ? enf_name(q->enf) : "observed only");
		else
			snprintf(result, sizeof(result),
				 "exec bits given back: mode %04o again (it was %04o: lymphd died "
				 "between its intent and its quarantine record)",
				 it->old_mode, cur);
	} else if (cur == it->old_mode && it->kind == QI_ENFORCEMENT) {
		close(fd);
		return; /* given back already: nothing to say at every start */
	} else if (cur == it->old_mode) {
		snprintf(result, sizeof(result),
			 "nothing to give back: lymphd died before it removed the exec bits (mode "
			 "%04o as before)",
			 cur);
	} else {
		snprintf(result, sizeof(result),
			 "left as it is: mode %04o is not the one lymphd would have set (%04o): "
			 "changed since",
			 cur, set);
	}
out:
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "lymphd: exec bits of %s known only by their intent: %s\n", it->path,
		result);
	journal_intent(q, "recovered", it->dev, it->ino, it->uid, it->path, it->old_mode, result);
}

/*
 * One journal record at start.  Only checked fields are used (jrec.c); a
 * protected binary or uid is never restored; in observe mode the state
 * comes back (it expires, shows and rotates as usual) but nothing is
 * enforced.
 */
static int replay_one(struct qmanager *q, struct json_object *rec, uint64_t now)
{
	struct jrec_quarantine r;
	struct qkey k = { 0 };
	struct qentry *e;
	int ok = jrec_quarantine(rec, &r);

	if (ok <= 0)
		return ok;
	k.dev = r.dev;
	k.ino = r.ino;
	k.uid = r.uid;
	if (!strcmp(r.action, "intent")) {
		intent_note(q, &r, QI_INTENT);
		return 0;
	}
	if (!strcmp(r.action, "quarantine") || !strcmp(r.action, "snapshot") ||
	    !strcmp(r.action, "release") || !strcmp(r.action, "expire") ||
	    !strcmp(r.action, "recovered"))
		intent_forget(q, k.dev, k.ino);
	if (!strcmp(r.action, "quarantine") || !strcmp(r.action, "snapshot")) {
		if (r.result && strcmp(r.result, "ok"))
			return 0; /* was never enforced */
		if (!r.until_wall_ns)
			return -EINVAL; /* a quarantine always has an end */
		if (is_protected(q, k.dev, k.ino, k.uid)) {
			q->replay_protected++;
			return 0;
		}
		e = qtable_restore(&q->t, &k, clock_to_mono(&q->clk, r.since_wall_ns),
				   clock_to_mono(&q->clk, r.until_wall_ns), r.offences, r.total,
				   now);
		if (!e)
			return 0;
		if (r.why)
			evidence_keep(q, &k, r.why);
		/* Exec bits an earlier run removed, and no exec bits now: the
		 * mark or key enforces it per uid, nothing would give them
		 * back; done does (after the release or expiry that may
		 * follow here, which forgets it). */
		if (r.exe && r.old_mode && q->enf != Q_ENF_EXEC_BITS)
			intent_note(q, &r, QI_ENFORCEMENT);
		if (!q->enforce) {
			struct stat st;

			/* Exec bits a previous run removed stay removed until
			 * expiry or release: remember the mode to give back. */
			if (q->enf == Q_ENF_EXEC_BITS && r.old_mode && r.exe && !stat(r.exe, &st) &&
			    !(st.st_mode & 0111))
				mark_add(q, k.dev, k.ino, k.uid, r.exe, r.old_mode);
			q->replay_observed++;
			return 0;
		}
		if (r.exe && r.old_mode) {
			/* Remember the mode to restore even if we can't re-mark now. */
			struct qmark *m;

			if (!mark_add(q, k.dev, k.ino, k.uid, r.exe, r.old_mode) &&
			    (m = find_mark(q, k.dev, k.ino)))
				m->old_mode = r.old_mode;
		} else if (r.exe) {
			mark_add(q, k.dev, k.ino, k.uid, r.exe, 0);
		}
		lsm_key(q, &k, 1);
	} else if (!strcmp(r.action, "release") || !strcmp(r.action, "expire")) {
		struct qmark *m = find_mark(q, k.dev, k.ino);

		qtable_end(&q->t, &k);
		lsm_key(q, &k, 0);
		if (m && !mark_needed(q, k.dev, k.ino, now))
			mark_remove(q, m);
	}
	return 0;
}

int qmanager_replay_record(struct qmanager *q, struct json_object *rec, uint64_t now)
{
	int err;

	q->replaying = 1; /* nothing is appended while the journal is read */
	err = replay_one(q, rec, now);
	q->replaying = 0;
	return err;
}

void qmanager_replay_done(struct qmanager *q, uint64_t now)
{
	size_t i;

	/* Exec bits known only by their intent: before any expiry. */
	for (i = 0; i < q->n_intents; i++)
		intent_recover(q, &q->intents[i]);
	free(q->intents);
	q->intents = NULL;
	q->n_intents = q->cap_intents = 0;
	if (q->replay_protected)
		fprintf(stderr,
			"lymphd: %u quarantine%s from the journal not restored: the binary or "
			"uid is protected ([protect])\n",
			q->replay_protected, q->replay_protected == 1 ? "" : "s");
	if (q->replay_observed)
		fprintf(stderr,
			"lymphd: observe mode: %u quarantine%s from the journal kept but not "
			"enforced\n",
			q->replay_observed, q->replay_observed == 1 ? "" : "s");
	/* What expired while lymphd was down is released now. */
	qmanager_tick(q, now);
}

struct json_object *qmanager_json(const struct qmanager *q, uint64_t now)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array(), *ovf;
	size_t i, tracked = 0;

	json_object_object_add(o, "enabled", json_object_new_boolean(q->t.conf.enabled));
	json_object_object_add(o, "root", json_object_new_boolean(q->t.conf.root));
	json_object_object_add(o, "enforcement", json_object_new_string(enf_name(q->enf)));
	json_object_object_add(o, "not_used",
			       q->enf_why ? json_object_new_string(q->enf_why) : NULL);
	json_object_object_add(o, "script_tracker", json_object_new_boolean(q->tracker));
	if (q->enf == Q_ENF_BPF_LSM) {
		struct quarantine_key k, next, *prev = NULL;
		__u64 v, sum = 0;
		int fd = bpf_map__fd(q->lsm->maps.quarantined);

		while (!bpf_map_get_next_key(fd, prev, &next)) {
			if (!bpf_map_lookup_elem(fd, &next, &v))
				sum += v;
			k = next;
			prev = &k;
		}
		json_object_object_add(o, "denied_execs", json_object_new_uint64(q->denied + sum));
	} else {
		json_object_object_add(o, "denied_execs", json_object_new_uint64(q->denied));
	}
	for (i = 0; i < q->t.ht.cap; i++) {
		const struct qentry *e = hashtab_at(&q->t.ht, i);
		struct json_object *x;
		const struct qmark *m = NULL;
		size_t j;

		tracked += e->used;
		if (!e->used || e->until <= now)
			continue;
		for (j = 0; j < q->n_marks; j++)
			if (q->marks[j].dev == e->key.dev && q->marks[j].ino == e->key.ino)
				m = &q->marks[j];
		x = json_object_new_object();
		json_object_object_add(x, "exe",
				       m && m->path[0] ? json_object_new_string(m->path) : NULL);
		json_object_object_add(x, "exe_dev", json_object_new_int64(e->key.dev));
		json_object_object_add(x, "exe_ino", json_object_new_uint64(e->key.ino));
		json_object_object_add(x, "uid", json_object_new_int64(e->key.uid));
		json_object_object_add(x, "remaining_s",
				       json_object_new_double((double)(e->until - now) / 1e9));
		json_object_object_add(x, "duration_s",
				       json_object_new_double((double)(e->until - e->since) / 1e9));
		json_object_object_add(x, "total", json_object_new_int64(e->total));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "active", arr);
	arr = json_object_new_array();
	for (i = 0; i < q->n_bans; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "exe",
				       q->bans[i].path[0] ? json_object_new_string(q->bans[i].path)
							  : NULL);
		json_object_object_add(x, "exe_dev", json_object_new_int64(q->bans[i].dev));
		json_object_object_add(x, "exe_ino", json_object_new_uint64(q->bans[i].ino));
		json_object_object_add(
			x, "since_s",
			json_object_new_double(now > q->bans[i].since
						       ? (double)(now - q->bans[i].since) / 1e9
						       : 0.0));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "banned_for_every_uid", arr);
	json_object_object_add(o, "tracked", json_object_new_uint64(tracked));
	json_object_object_add(o, "max_per_uid", json_object_new_uint64(q->t.max_per_uid));
	json_object_object_add(o, "fds_held", json_object_new_uint64(q->fds_held));
	json_object_object_add(o, "fd_budget", json_object_new_uint64(q->fd_budget));
	json_object_object_add(o, "nofile", json_object_new_uint64(q->nofile));
	ovf = json_object_new_object();
	json_object_object_add(ovf, "per_uid", json_object_new_uint64(q->t.overflows[Q_OVF_UID]));
	json_object_object_add(ovf, "table", json_object_new_uint64(q->t.overflows[Q_OVF_TABLE]));
	json_object_object_add(ovf, "descriptors", json_object_new_uint64(q->overflow_fds));
	json_object_object_add(o, "overflow", ovf);
	return o;
}

void qmanager_snapshot(struct qmanager *q, uint64_t now)
{
	size_t i;

	for (i = 0; i < q->t.ht.cap; i++) {
		struct qentry *e = hashtab_at(&q->t.ht, i);
		struct qmark *m;

		if (!e->used || e->until <= now)
			continue;
		m = find_mark(q, e->key.dev, e->key.ino);
		journal_q(q, "snapshot", e, &e->key, m && m->path[0] ? m->path : NULL, "ok", NULL,
			  now);
	}
}

void qmanager_set_weather_factor(struct qmanager *q, double factor)
{
	q->factor = factor;
}

void qmanager_set_bin_factor(struct qmanager *q,
			     double (*fn)(void *ctx, uint32_t dev, uint64_t ino), void *ctx)
{
	q->bin_factor = fn;
	q->bin_factor_ctx = ctx;
}

uint64_t qmanager_next_expiry(const struct qmanager *q)
{
	return q->t.next_until;
}

int qmanager_imposed_within(const struct qmanager *q, uint64_t now, uint64_t within_ns)
{
	return q->last_imposed && now - q->last_imposed < within_ns;
}
