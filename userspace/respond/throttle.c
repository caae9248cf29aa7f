// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "pidscg.h"
#include "procfs.h"
#include "protect.h"
#include "jrec.h"
#include "throttle.h"

#define HELD_MAX 4096 /* stopped forkers remembered per lineage */

struct lineage {
	uint32_t kind;
	uint64_t id;
	struct deadtime dt;
	pid_t *pids; /* stopped by lymph, to continue */
	int *pidfds; /* same order; -1 when pidfd_open failed */
	size_t n, cap;
	uint32_t uid; /* of the first forker seen */
	char comm[LYMPH_COMM_LEN];
	int observe_reported;
	int contain;		       /* records came in: contain it at the next tick */
	int pending_fresh;	       /* ... and one of them began the episode */
	struct lymph_throttle pending; /* the latest of them */
	int module;		       /* stopped by lymph.ko, never by lymphd */
	uint64_t module_until;	       /* lymph.ko holds members until then */
	uint32_t records;	       /* overdraw records since the last look */
	/* pids cgroup hold: members moved here, pids.max pinned */
	char hold_dir[600];
	char parent_dir[512];
	uint64_t events_max_seen; /* pids.events "max": forks refused */
	int pinned;
	int guarded; /* the kernel side lifts the pin if lymphd dies */
	int pids_enabled; /* v2: lymphd enabled pids in parent_dir's children */
	int pids_intent;  /* v2: lymphd is about to write that "+pids" */
	uint64_t move_failed; /* moves of members into the hold that failed */
	unsigned int lifts;   /* lifts in this episode: members run in the pin */
	struct kthrottle *kt; /* asked for family membership and admin stops */
	struct throttler *thr; /* its journal: the pin's intent */
};

static const char *kind_word(uint32_t k)
{
	return k == LYMPH_LINEAGE_CGROUP   ? "cgroup"
	       : k == LYMPH_LINEAGE_UID	   ? "uid"
	       : k == LYMPH_LINEAGE_FAMILY ? "family"
					   : "session";
}

static int kind_of(const char *word, uint32_t *k)
{
	if (!strcmp(word, "session"))
		*k = LYMPH_LINEAGE_SESSION;
	else if (!strcmp(word, "cgroup"))
		*k = LYMPH_LINEAGE_CGROUP;
	else if (!strcmp(word, "uid"))
		*k = LYMPH_LINEAGE_UID;
	else if (!strcmp(word, "family"))
		*k = LYMPH_LINEAGE_FAMILY;
	else
		return -EINVAL;
	return 0;
}

static struct lineage *find(struct throttler *t, uint32_t kind, uint64_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].kind == kind && t->v[i].id == id)
			return &t->v[i];
	return NULL;
}

static struct lineage *get(struct throttler *t, uint32_t kind, uint64_t id)
{
	struct lineage *l = find(t, kind, id);

	if (l)
		return l;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct lineage *grown = realloc(t->v, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		t->v = grown;
		t->cap = cap;
	}
	l = &t->v[t->n++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->id = id;
	l->kt = t->kt;
	l->thr = t;
	return l;
}

/* ---- membership and signals --------------------------------------------- */

/* The cgroup v2 id of pid: the inode of its cgroup directory. */
static uint64_t cgroup_id_of(pid_t pid)
{
	static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	char path[64], line[4096], dir[4200];
	struct stat st;
	uint64_t id = 0;
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		for (i = 0; i < 2 && !id; i++) {
			snprintf(dir, sizeof(dir), "%s%s", roots[i], line + 3);
			if (!stat(dir, &st))
				id = st.st_ino;
		}
	}
	if (f)
		fclose(f);
	return id;
}

/* pid is of the lineage: its stat (read for that) into *st. */
static int member(const struct lineage *l, pid_t pid, struct proc_stat *st)
{
	uint32_t uid;

	/* A family is asked of the sensors first: most of the host is not
	 * in it, and that answer costs less than reading its stat. */
	if (l->kind == LYMPH_LINEAGE_FAMILY) {
		uint64_t f;

		if (kthrottle_family_of(l->kt, pid, &f) || f != l->id)
			return 0;
	}
	if (proc_stat_read(pid, st))
		return 0;
	switch (l->kind) {
	case LYMPH_LINEAGE_SESSION: return (uint64_t)st->sid == l->id;
	case LYMPH_LINEAGE_UID: return !proc_real_uid(pid, &uid) && (uint64_t)uid == l->id;
	case LYMPH_LINEAGE_CGROUP: return cgroup_id_of(pid) == l->id;
	case LYMPH_LINEAGE_FAMILY: return 1; /* asked above */
	}
	return 0;
}

/* Tell the sensors what lymph stopped or continued (see note_stop). */
static void note_stop(const struct lineage *l, pid_t pid, int stopped)
{
	kthrottle_note_stop(l->kt, pid, stopped);
}

/* Someone other than lymph stopped pid: a hold's end never continues it. */
static int admin_stopped(const struct lineage *l, pid_t pid)
{
	return kthrottle_admin_stopped(l->kt, pid) > 0;
}

/*
 * Call fn on every live member of the lineage that is not protected, with
 * its state (as in /proc/PID/stat), in one pass over /proc, until fn
 * returns nonzero.
 */
static void each_member(const struct lineage *l, int (*fn)(pid_t pid, char state, void *arg),
			void *arg)
{
	struct proc_iter it;
	long pid;

	if (proc_iter_open(&it, "/proc"))
		return;
	while ((pid = proc_iter_next(&it)) >= 0) {
		struct proc_stat st;

		if (pid <= 1 || !member(l, (pid_t)pid, &st) || protect_pid_stat((pid_t)pid, &st))
			continue;
		if (fn((pid_t)pid, st.state, arg))
			break;
	}
	proc_iter_close(&it);
}

struct signal_walk {
	const struct lineage *l;
	int sig, only_stopped;
	unsigned int n;
};

static int signal_one(pid_t pid, char state, void *arg)
{
	struct signal_walk *w = arg;

	if (w->only_stopped && state != 'T')
		return 0;
	if (w->sig == SIGCONT && admin_stopped(w->l, pid))
		return 0;
	if (!kill(pid, w->sig)) {
		w->n++;
		if (w->sig == SIGCONT)
			note_stop(w->l, pid, 0);
	}
	return 0;
}

/* Signal every member of the lineage (only_stopped: those in state T). */
static unsigned int signal_lineage(const struct lineage *l, int sig, int only_stopped)
{
	struct signal_walk w = { .l = l, .sig = sig, .only_stopped = only_stopped };

	each_member(l, signal_one, &w);
	return w.n;
}

static void continue_held(struct lineage *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		/* pidfd: a recycled pid never gets the signal.  Nor one an
		 * administrator stopped meanwhile. */
		if (l->pidfds[i] >= 0) {
			if (!admin_stopped(l, l->pids[i]))
				syscall(SYS_pidfd_send_signal, l->pidfds[i], SIGCONT, NULL, 0);
			note_stop(l, l->pids[i], 0);
			close(l->pidfds[i]);
		}
	}
	l->n = 0;
}

static void hold(struct lineage *l, pid_t pid)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->pids[i] == pid)
			return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		pid_t *p;
		int *f;

		if (cap > HELD_MAX)
			return; /* the /proc scan at the end continues the rest */
		p = realloc(l->pids, cap * sizeof(*p));
		if (!p)
			return;
		l->pids = p;
		f = realloc(l->pidfds, cap * sizeof(*f));
		if (!f)
			return;
		l->pidfds = f;
		l->cap = cap;
	}
	l->pids[l->n] = pid;
	l->pidfds[l->n] = (int)syscall(SYS_pidfd_open, pid, 0);
	if (l->pidfds[l->n] >= 0)
		fcntl(l->pidfds[l->n], F_SETFD, FD_CLOEXEC);
	l->n++;
}

struct act_walk {
	struct lineage *l;
	int (*act)(struct lineage *, pid_t);
	unsigned int added;
};

static int act_one(pid_t pid, char state, void *arg)
{
	struct act_walk *w = arg;
	size_t i;

	(void)state;
	for (i = 0; i < w->l->n && w->l->pids[i] != pid; i++)
		;
	if (i == w->l->n && !w->act(w->l, pid)) {
		hold(w->l, pid);
		w->added++;
	}
	return 0;
}

/*
 * Apply act to every member of the lineage that is not protected and not
 * yet in l->pids; those it succeeds on are added.  One pass over /proc.
 */
static unsigned int each_new_member(struct lineage *l, int (*act)(struct lineage *, pid_t))
{
	struct act_walk w = { .l = l, .act = act };

	each_member(l, act_one, &w);
	return w.added;
}

static int take_first(pid_t pid, char state, void *arg)
{
	(void)state;
	*(pid_t *)arg = pid;
	return 1;
}

/* Any live member of the lineage, or 0. */
static pid_t first_member(const struct lineage *l)
{
	pid_t found = 0;

	each_member(l, take_first, &found);
	return found;
}

static void journal_t(struct throttler *t, const struct lineage *l, const char *action,
		      const char *result, const struct lymph_throttle *why);
static void journal_tx(struct throttler *t, const struct lineage *l, const char *action,
		       const char *result, const struct lymph_throttle *why, const char *key,
		       struct json_object *val);

/*
 * The pin's intent, journaled before lymphd makes the hold or writes
 * "+pids": a lymphd killed between that write and its next record leaves
 * nothing its journal does not know.  The replay (lymphd's next start,
 * lymphd --lift-pins) lifts a pin it names and takes back the "+pids"
 * only when enable_pids says lymphd was about to write it (pids was not
 * enabled there then).
 */
static void pin_intent(struct lineage *l)
{
	l->pids_intent = !l->pids_enabled && pidscg_would_enable(l->parent_dir) > 0;
	journal_t(l->thr, l, "pin",
		  "about to pin: if lymphd dies before its next record, its next start or "
		  "lymphd --lift-pins lifts it",
		  NULL);
}

static int stop_one(struct lineage *l, pid_t pid)
{
	int err = kill(pid, SIGSTOP);

	if (!err)
		note_stop(l, pid, 1);
	return err;
}

/*
 * Moving members into the hold, one pin at a time.  Who is in already is
 * read once from the hold's cgroup.procs, and the file stays open for the
 * moves: a move is then one write, where it read the member's
 * /proc/PID/cgroup and opened the hold's file again (lymphd's walk over a
 * shell bomb of 200 runs those system calls for each member, and again
 * for each late record).
 */
struct mover {
	int fd, err;	/* the hold's cgroup.procs, or its open's -errno */
	pid_t *in;	/* in the hold already, sorted */
	size_t n;
};

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static void mover_open(struct mover *m, const char *hold_dir)
{
	char path[1024];
	size_t cap = 0;
	FILE *f;
	int pid;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/cgroup.procs", hold_dir);
	m->fd = open(path, O_WRONLY | O_CLOEXEC);
	m->err = m->fd < 0 ? -errno : 0;
	f = fopen(path, "re");
	if (f && fscanf(f, "%d", &pid) != 1) {
		/* v2: a threaded hold lists none in cgroup.procs, its threads
		 * in cgroup.threads (a process's leader by its tgid) */
		fclose(f);
		snprintf(path, sizeof(path), "%s/cgroup.threads", hold_dir);
		f = fopen(path, "re");
	} else if (f) {
		rewind(f);
	}
	while (f && fscanf(f, "%d", &pid) == 1) {
		if (m->n == cap) {
			pid_t *more = realloc(m->in, (cap = cap ? 2 * cap : 64) * sizeof(*more));

			if (!more)
				break; /* unknown ones are moved again: a cost, not a fault */
			m->in = more;
		}
		m->in[m->n++] = pid;
	}
	if (f)
		fclose(f);
	if (m->n)
		qsort(m->in, m->n, sizeof(*m->in), cmp_pid);
}

/* Move pid into the hold: 1 moved, 0 in it already, or -errno. */
static int mover_move(struct mover *m, pid_t pid)
{
	char n[32];
	int len;

	/* Already in the hold (a late record pins again, and the held list
	 * is emptied at each pin): no move.  Each move waits for an RCU
	 * grace period (cgroup_threadgroup_rwsem), and moving every member
	 * again for every late record kept lymphd busy for tens of seconds. */
	if (m->n && bsearch(&pid, m->in, m->n, sizeof(*m->in), cmp_pid))
		return 0;
	if (m->fd < 0)
		return m->err;
	len = snprintf(n, sizeof(n), "%d", pid);
	return write(m->fd, n, (size_t)len) < 0 ? -errno : 1;
}

static void mover_close(struct mover *m)
{
	if (m->fd >= 0)
		close(m->fd);
	free(m->in);
	m->in = NULL;
}

/*
 * What one walk's moves into the hold did: members moved (not in it
 * before) and moves that failed, the first MOVES_KEPT of each by pid
 * (and errno), for the journal.  A member lymphd fails to move is not
 * pinned: it forks outside the hold, so a failure is never silent
 * (moves_report()).
 */
#define MOVES_KEPT 16
struct moves {
	unsigned int found, moved, failed;
	pid_t moved_pid[MOVES_KEPT];
	pid_t failed_pid[MOVES_KEPT];
	int failed_err[MOVES_KEPT]; /* -errno */
};

static void moves_note(struct moves *r, pid_t pid, int ret)
{
	r->found++;
	if (ret > 0 && r->moved < MOVES_KEPT)
		r->moved_pid[r->moved] = pid;
	r->moved += ret > 0;
	if (ret >= 0)
		return;
	if (r->failed < MOVES_KEPT) {
		r->failed_pid[r->failed] = pid;
		r->failed_err[r->failed] = ret;
	}
	r->failed++;
}

/*
 * Say what a walk's moves did: every failed move counted (the lineage's
 * and lymphd's, in lymphctl status and throttles), logged and journaled
 * with its pid and errno ("move-failed"); and members found outside the
 * hold after a lift ("moved-back": they had left it, a cgroup v1 move of
 * their own, or were missed), journaled with their pids.  Before the
 * first lift, a walk that moves members is the pin itself (or stragglers
 * made meanwhile): not journaled apart.
 */
static void moves_report(struct lineage *l, const struct moves *r)
{
	struct json_object *arr;
	char msg[160];
	unsigned int i, kept;

	if (r->failed) {
		kept = r->failed < MOVES_KEPT ? r->failed : MOVES_KEPT;
		l->move_failed += r->failed;
		l->thr->move_failed += r->failed;
		arr = json_object_new_array();
		for (i = 0; i < kept; i++) {
			struct json_object *f = json_object_new_object();

			json_object_object_add(f, "pid", json_object_new_int64(r->failed_pid[i]));
			json_object_object_add(f, "errno", json_object_new_int(-r->failed_err[i]));
			json_object_object_add(f, "error",
					       json_object_new_string(strerror(-r->failed_err[i])));
			json_object_array_add(arr, f);
			fprintf(stderr,
				"lymphd: throttle: failed to move pid %d of %s:%llu into %s: %s; it "
				"is not pinned (lymphctl throttles)\n",
				(int)r->failed_pid[i], kind_word(l->kind), (unsigned long long)l->id,
				l->hold_dir, strerror(-r->failed_err[i]));
		}
		if (r->failed > kept)
			fprintf(stderr, "lymphd: throttle: ... and %u more failed move(s) into %s\n",
				r->failed - kept, l->hold_dir);
		snprintf(msg, sizeof(msg),
			 "failed to move %u of %u member(s) into the hold: not pinned", r->failed,
			 r->found);
		journal_tx(l->thr, l, "move-failed", msg, NULL, "failed_moves", arr);
	}
	if (r->moved && l->lifts) {
		kept = r->moved < MOVES_KEPT ? r->moved : MOVES_KEPT;
		arr = json_object_new_array();
		for (i = 0; i < kept; i++)
			json_object_array_add(arr, json_object_new_int64(r->moved_pid[i]));
		snprintf(msg, sizeof(msg),
			 "%u member(s) found outside the hold while pinned: moved back in",
			 r->moved);
		journal_tx(l->thr, l, "moved-back", msg, NULL, "moved_pids", arr);
	}
}

struct move_walk {
	struct mover mv;
	struct moves r;
};

static int move_member(pid_t pid, char state, void *arg)
{
	struct move_walk *w = arg;

	(void)state;
	moves_note(&w->r, pid, mover_move(&w->mv, pid));
	return 0;
}

/*
 * Stop every member not yet held: the sensors stopped the forkers, but the
 * children they had just made are running and forking.  A few rounds, until
 * a round finds nobody new.
 */
static unsigned int sweep(struct lineage *l)
{
	unsigned int total = 0, added;
	int round;

	for (round = 0; round < 8 && (added = each_new_member(l, stop_one)); round++)
		total += added;
	return total;
}

/*
 * Pin the lineage: move its members into a pids cgroup nested under their
 * own and cap it at 0, so that their fork() fails with EAGAIN while they
 * keep running.  A cgroup move excludes a concurrent fork, so after a
 * pass only the children made during the pass are left outside; passes
 * repeat until one finds nobody new.  Then the forkers the sensors stopped
 * stay stopped until the hold is lifted.  Returns 0, or -errno when there
 * is no pids controller.
 */
static int pin(struct lineage *l, pid_t any_member)
{
	long long cur;
	size_t i;
	int err;

	if (!pidscg_root())
		return -ENOENT;
	if (!l->hold_dir[0]) {
		char *tail;

		/* The forker may be gone already: then take any member. */
		if (pidscg_dir_of(any_member, l->parent_dir, sizeof(l->parent_dir)) &&
		    (any_member = first_member(l)) <= 0)
			return -ENOENT;
		if (pidscg_dir_of(any_member, l->parent_dir, sizeof(l->parent_dir)))
			return -ENOENT;
		/* Already in an older hold of ours: nest beside it, not inside. */
		tail = strstr(l->parent_dir, "/lymph.hold.");
		if (tail)
			*tail = 0;
		/* A cgroup delegated to the user (a member moved itself there)
		 * is the user's: nest the hold at the nearest ancestor that is
		 * not, where the user can neither write nor move tasks. */
		for (;;) {
			snprintf(l->hold_dir, sizeof(l->hold_dir), "%s/lymph.hold.%s.%llu",
				 l->parent_dir, kind_word(l->kind), (unsigned long long)l->id);
			pin_intent(l);
			if (!mkdir(l->hold_dir, 0700) || errno == EEXIST)
				break;
			err = -errno;
			tail = strrchr(l->parent_dir, '/');
			if ((err != -EACCES && err != -EPERM) || !tail ||
			    strlen(l->parent_dir) <= strlen(pidscg_root())) {
				l->hold_dir[0] = 0;
				return err;
			}
			*tail = 0;
		}
	} else if (!l->pids_enabled && pidscg_would_enable(l->parent_dir) > 0) {
		pin_intent(l); /* "+pids" again (someone took it back) */
	}
	/* cgroup v2: the hold's pids.max exists once its parent enables pids,
	 * and the hold is threaded to take processes beside the parent's. */
	if (pidscg_enable(l->parent_dir) > 0)
		l->pids_enabled = 1;
	l->pids_intent = 0;
	pidscg_threaded(l->hold_dir);
	/* Pinned at 0, not at its size: a member that exits in the hold
	 * (a double-forking bomb's middle child) leaves no room for another
	 * fork.  Whatever is moved in still is (the charge is forced). */
	if ((err = pidscg_write(l->hold_dir, "pids.max", "0")))
		return err;
	/* Lifted if lymphd dies: by lymph.ko when /dev/lymph closes, on the
	 * BPF path by lymphd's pin guard (kthrottle_bpf.c); and undone at
	 * lymphd's next start, from the journal, in any case. */
	if (!l->guarded)
		l->guarded = !kthrottle_guard_pin(l->kt, l->hold_dir, l->kind, l->id, 1);
	/* a guard started again has a new pid: spared before the walks below */
	protect_set_helper(kthrottle_helper_pid(l->kt));
	/* lymph.ko stopped the family, not lymphd: every member not in the
	 * hold is moved in, none is stopped by lymphd.  Once pinned
	 * (LYMPH_IOC_PIN_LINEAGE), the module keeps its held members stopped
	 * until lymphd lifts the hold (LYMPH_IOC_LIFT), unpins it or closes
	 * /dev/lymph, whatever its own dead time; before the pin a newly held
	 * family waits for it (at most dead_time_max_ms).  A member made
	 * during the walk was made over budget: the module holds it and
	 * reports it, and that record pins again. */
	if (l->module) {
		struct move_walk w = { 0 };

		mover_open(&w.mv, l->hold_dir);
		each_member(l, move_member, &w);
		mover_close(&w.mv);
		moves_report(l, &w.r);
		if (!w.r.found && !l->pinned)
			fprintf(stderr, "lymphd: throttle: no member of %s:%llu found to pin\n",
				kind_word(l->kind), (unsigned long long)l->id);
		goto moved;
	}
	/* Stop first: a kill is cheap, a move waits for an RCU grace period,
	 * and whatever runs meanwhile forks.  One walk of /proc stops every
	 * member not held yet and adds it to the held list; then the held
	 * list is moved in, with no other walk.  A member made during the
	 * walk and missed by it (a pid below the walk's cursor) was made by
	 * a fork of this overdrawn lineage: the sensors stop such a forker
	 * and its child at the fork and send a record, and that record
	 * contains the lineage again (one more walk), so no pass has to look
	 * for stragglers.  Moving in is never refused by pids.max (the
	 * charge is forced), so the hold stays pinned meanwhile. */
	each_new_member(l, stop_one);
	{
		struct mover mv;
		struct moves r = { 0 };

		mover_open(&mv, l->hold_dir);
		for (i = 0; i < l->n; i++)
			moves_note(&r, l->pids[i], mover_move(&mv, l->pids[i]));
		mover_close(&mv);
		moves_report(l, &r);
	}
moved:
	cur = pidscg_read(l->hold_dir, "pids.current");
	if (cur <= 0)
		return cur < 0 ? (int)cur : -ESRCH;
	l->pinned = 1;
	l->events_max_seen = (uint64_t)(pidscg_events_max(l->hold_dir) > 0
						? pidscg_events_max(l->hold_dir)
						: 0);
	/* The members stay stopped for the dead time: continued, they would
	 * spin on a refused fork() and starve the host.  The pin bounds the
	 * lineage when the hold is lifted. */
	return 0;
}

static void unpin(struct lineage *l)
{
	if (l->pinned)
		pidscg_write(l->hold_dir, "pids.max", "max");
	if (l->guarded)
		kthrottle_guard_pin(l->kt, l->hold_dir, l->kind, l->id, 0);
	protect_set_helper(kthrottle_helper_pid(l->kt));
	l->pinned = l->guarded = 0;
}

/* Did the lineage try to grow since the last look? */
static int storming(struct lineage *l)
{
	int grew = l->records > 0;

	l->records = 0;
	if (l->pinned) {
		long long ev = pidscg_events_max(l->hold_dir);

		if (ev > (long long)l->events_max_seen) {
			l->events_max_seen = (uint64_t)ev;
			grew = 1;
		}
	}
	return grew;
}

/* Put the hold cgroup away: members back where they came from. */
static void dissolve(struct lineage *l)
{
	unpin(l);
	if (l->hold_dir[0]) {
		pidscg_move_all(l->hold_dir, l->parent_dir);
		rmdir(l->hold_dir);
		l->hold_dir[0] = 0;
	}
	if (l->pids_enabled) {
		/* v2: as it was (with pids enabled for its children, a cgroup
		 * with processes takes no domain child) */
		pidscg_disable(l->parent_dir);
		l->pids_enabled = 0;
	}
}

/* ---- journal ------------------------------------------------------------ */

static void journal_t(struct throttler *t, const struct lineage *l, const char *action,
		      const char *result, const struct lymph_throttle *why)
{
	journal_tx(t, l, action, result, why, NULL, NULL);
}

/* journal_t, with @key set to @val (taken) when @key is not NULL. */
static void journal_tx(struct throttler *t, const struct lineage *l, const char *action,
		       const char *result, const struct lymph_throttle *why, const char *key,
		       struct json_object *val)
{
	struct json_object *rec = json_object_new_object(), *pids = json_object_new_array();
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "%s:%llu", kind_word(l->kind), (unsigned long long)l->id);
	json_object_object_add(rec, "type", json_object_new_string("throttle"));
	json_object_object_add(rec, "action", json_object_new_string(action));
	json_object_object_add(rec, "mode",
			       json_object_new_string(t->enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "lineage", json_object_new_string(name));
	json_object_object_add(rec, "kind", json_object_new_string(kind_word(l->kind)));
	json_object_object_add(rec, "id", json_object_new_uint64(l->id));
	json_object_object_add(rec, "dead_time_ms",
			       json_object_new_double((double)l->dt.dead_time / 1e6));
	json_object_object_add(rec, "holds", json_object_new_int64(l->dt.holds));
	if (l->module)
		json_object_object_add(rec, "module", json_object_new_boolean(1));
	for (i = 0; i < l->n; i++)
		json_object_array_add(pids, json_object_new_int64(l->pids[i]));
	json_object_object_add(rec, "held_pids", pids);
	if (l->hold_dir[0]) {
		json_object_object_add(rec, "hold_cgroup", json_object_new_string(l->hold_dir));
		json_object_object_add(rec, "parent_cgroup", json_object_new_string(l->parent_dir));
	}
	/* v2: lymphd wrote "+pids" into parent_cgroup's subtree_control, and
	 * takes it back at the end (or at its next start, from here) */
	if (l->pids_enabled)
		json_object_object_add(rec, "pids_enabled", json_object_new_boolean(1));
	/* the pin's intent: lymphd is about to write that "+pids" */
	if (l->pids_intent)
		json_object_object_add(rec, "enable_pids", json_object_new_boolean(1));
	if (why) {
		struct json_object *w = json_object_new_object();

		json_object_object_add(w, "pid", json_object_new_int64(why->task.pid));
		json_object_object_add(w, "uid", json_object_new_int64(why->task.uid));
		json_object_object_add(
			w, "comm",
			json_object_new_string_len(
				(const char *)why->task.comm,
				(int)strnlen((const char *)why->task.comm, LYMPH_COMM_LEN)));
		json_object_object_add(w, "tokens",
				       json_object_new_double((double)why->tokens / 1000.0));
		json_object_object_add(w, "budget", json_object_new_int64(t->conf.budget));
		json_object_object_add(w, "burst", json_object_new_int64(t->conf.burst));
		json_object_object_add(rec, "why", w);
	}
	if (result)
		json_object_object_add(rec, "result", json_object_new_string(result));
	if (l->move_failed)
		json_object_object_add(rec, "move_failed", json_object_new_uint64(l->move_failed));
	if (key)
		json_object_object_add(rec, key, val);
	if (t->journal && journal_append(t->journal, rec))
		fprintf(stderr, "lymphd: failed to write the journal (throttle %s)\n", action);
	if (!t->journal)
		json_object_put(rec);
}

/* ---- entry points ------------------------------------------------------- */

int throttler_push(struct throttler *t)
{
	struct kthrottle_settings s;
	struct kthrottle_protect prot;
	uint32_t tgids[66], n = 0;
	pid_t pid = getpid();

	/* lymphd's pin guard, spared like lymphd by every response */
	protect_set_helper(kthrottle_helper_pid(t->kt));
	if (!t->available)
		return 0;
	/* lymphd and its ancestors (pid 1 is excluded in the probe itself). */
	while (pid > 1 && n < 64) {
		tgids[n++] = (uint32_t)pid;
		pid = proc_parent(pid);
	}
	kthrottle_settings_of(&t->conf, t->available, t->enforce, t->factor, (uint32_t)getpid(),
			      &s);
	prot = (struct kthrottle_protect){
		.tgids = tgids, .n_tgids = n, .uids = t->protect_uids, .n_uids = t->n_protect_uids
	};
	return kthrottle_apply(t->kt, &s, &prot);
}

int throttler_init(struct throttler *t, const struct policy *p, struct journal *j, int enforce,
		   struct kthrottle *kt)
{
	memset(t, 0, sizeof(*t));
	t->conf = p->throttle;
	t->enforce = enforce;
	t->journal = j;
	t->kt = kt;
	t->factor = 1.0;
	t->available = kthrottle_available(kt);
	t->n_protect_uids = p->protect.n_uid;
	memcpy(t->protect_uids, p->protect.uid, p->protect.n_uid * sizeof(uint32_t));
	clock_offset_init(&t->clk);
	if (!t->available && kt && kt->source) /* none at all: lymphd --lift-pins */
		fprintf(stderr,
			"lymphd: the %s source cannot stop forkers: clone storms are not throttled\n",
			kt->source);
	return throttler_push(t);
}

/*
 * v2: another lineage still pinned below the cgroup where l enabled pids
 * keeps it enabled, and takes it back at its own end: the flag moves to
 * it, journaled (a snapshot), so that a restart takes it back too.
 */
static void hand_over_pids(struct throttler *t, struct lineage *l)
{
	size_t i;

	for (i = 0; l->pids_enabled && i < t->n; i++) {
		struct lineage *o = &t->v[i];

		if (o != l && o->hold_dir[0] && !strcmp(o->parent_dir, l->parent_dir)) {
			o->pids_enabled = 1;
			l->pids_enabled = 0;
			journal_t(t, o, "snapshot", "held; pids enabled here for its parent cgroup",
				  NULL);
		}
	}
}

static void end_lineage(struct throttler *t, struct lineage *l, const char *action, const char *why)
{
	unsigned int more;

	hand_over_pids(t, l);

	/* The sensors forget its overdraft first: continued while still
	 * overdrawn, its members would be stopped again at their next fork. */
	kthrottle_forget_lineage(t->kt, l->kind, l->id);
	dissolve(l);
	continue_held(l);
	/* Forkers whose stop record was lost: anything still stopped in it.
	 * Not when lymphd held nothing (observe mode, or the module's hold). */
	more = (l->observe_reported || l->module) ? 0 : signal_lineage(l, SIGCONT, 1);
	journal_t(t, l, action, why, NULL);
	if (more)
		fprintf(stderr, "lymphd: throttle: continued %u more stopped process%s\n", more,
			more == 1 ? "" : "es");
	free(l->pids);
	free(l->pidfds);
	*l = t->v[--t->n];
}

void throttler_free(struct throttler *t, uint64_t now)
{
	(void)now;
	while (t->n)
		end_lineage(t, &t->v[t->n - 1], "release", "lymphd is stopping");
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}

void throttler_on_record(struct throttler *t, const struct lymph_throttle *r, uint64_t now)
{
	struct lineage *l = get(t, r->lineage_kind, r->lineage_id);
	int fresh;

	if (!l)
		return;
	l->records++;
	/* lymph.ko stopped the family and keeps it stopped until lymphd
	 * lifts, unpins or closes: lymphd pins it as it pins what the BPF
	 * probes stop (the episode, its dead time and its end are lymphd's),
	 * stopping nothing itself.  After a lift, a member can make nothing
	 * in the pin: its refused forks make the module hold it and report
	 * it again, and the episode goes on (pids.events). */
	if (r->action == LYMPH_THROTTLE_HELD) {
		/* Members the module holds stopped make no fork and no record:
		 * not calm, only held (the episode must not end under them). */
		l->module = 1;
		if (now + r->hold_ns > l->module_until)
			l->module_until = now + r->hold_ns;
	}
	if (r->action == LYMPH_THROTTLE_HELD && !t->enforce) {
		/* The module enforces, lymphd observes (a knob set by hand):
		 * lymphd only says so, once per episode. */
		fresh = deadtime_on_hold(&t->conf, &l->dt, now);
		l->dt.hold_until = 0;
		l->dt.calm_check = now + 2 * l->dt.dead_time + r->hold_ns;
		if (fresh)
			journal_t(t, l, "module-hold", "held by lymph.ko's in-kernel dead time", r);
		return;
	}
	if (r->action == LYMPH_THROTTLE_WOULD) {
		/* Observe mode: say once per storm what would have been done. */
		fresh = deadtime_on_hold(&t->conf, &l->dt, now);
		if (fresh || !l->observe_reported) {
			l->observe_reported = 1;
			journal_t(t, l, "would-throttle", "observe mode: forker not stopped", r);
		}
		return;
	}
	if (!l->dt.episode_start) {
		l->uid = r->task.uid;
		memcpy(l->comm, r->task.comm, sizeof(l->comm));
	}
	/* The forker is stopped already.  Containing the lineage scans /proc:
	 * do it once for all the records of this batch, in throttler_tick(),
	 * which runs right after the batch is drained. */
	l->pending_fresh |= deadtime_on_hold(&t->conf, &l->dt, now);
	l->pending = *r;
	l->contain = 1;
}

/* Pin the lineage (late records: pin again, moving stragglers in), or
 * without a pids controller stop every member. */
static void contain(struct throttler *t, struct lineage *l)
{
	const struct lymph_throttle *r = &l->pending;
	int err = pin(l, (pid_t)r->task.pid);

	if (err && l->module) {
		/* Not pinned (no pids controller): the module's dead time alone. */
		if (l->pending_fresh)
			journal_t(t, l, "throttle",
				  "held by lymph.ko's in-kernel dead time (not pinned)", r);
		l->contain = 0;
		l->pending_fresh = 0;
		return;
	}
	if (err) {
		hold(l, (pid_t)r->task.pid);
		if (r->child_pid && !stop_one(l, (pid_t)r->child_pid))
			hold(l, (pid_t)r->child_pid);
		sweep(l);
	}
	if (!err) {
		if (l->pending_fresh)
			journal_t(t, l, "throttle",
				  l->module ? "held by lymph.ko, pinned: its pids cgroup may not grow"
					    : "pinned: its pids cgroup may not grow for the dead time",
				  r);
	} else if (l->pending_fresh) {
		journal_t(t, l, "throttle", "stopped for the dead time (no pids cgroup)", r);
	} else if (err != -ENOENT) {
		fprintf(stderr, "lymphd: throttle: failed to pin %s: %s\n", l->hold_dir,
			strerror(-err));
	}
	l->contain = 0;
	l->pending_fresh = 0;
}

void throttler_tick(struct throttler *t, uint64_t now)
{
	size_t i = 0;

	for (i = 0; i < t->n; i++)
		if (t->v[i].contain)
			contain(t, &t->v[i]);
	i = 0;

	while (i < t->n) {
		struct lineage *l = &t->v[i];
		uint64_t before = l->dt.dead_time;
		int due = deadtime_next(&l->dt) && now >= deadtime_next(&l->dt);

		switch (due ? deadtime_due(&t->conf, &l->dt, now,
					   storming(l) || (l->module && now < l->module_until))
			    : DT_NONE) {
		case DT_EXTEND:
			/* whatever runs of it (made or continued since) stops too */
			if (!l->observe_reported && !l->module)
				sweep(l);
			journal_t(t, l, "dead-time", "still storming: held longer", NULL);
			break;
		case DT_LIFT:
			if (l->observe_reported)
				break;
			/* Continued, but still pinned: let loose all at once, a
			 * held bomb of N members would make N more at once.
			 * The pin goes when the episode ends. */
			continue_held(l);
			if (l->module && l->pinned) /* lymph.ko keeps it stopped until this */
				kthrottle_lift(l->kt, l->kind, l->id);
			l->lifts++;
			journal_t(t, l, "lift",
				  "calm during the hold: continued, still pinned until calm", NULL);
			break;
		case DT_END:
			end_lineage(t, l, "end",
				    l->observe_reported ? "observe mode: calm" : "calm: released");
			continue; /* the slot now holds another lineage */
		case DT_KILL: {
			unsigned int n;
			char msg[96];

			n = signal_lineage(l, SIGKILL, 0);
			t->kills += n;
			snprintf(msg, sizeof(msg), "kill_after exceeded: %u process%s killed", n,
				 n == 1 ? "" : "es");
			end_lineage(t, l, "kill", msg);
			continue;
		}
		case DT_NONE:
			if (l->dt.dead_time < before)
				journal_t(t, l, "dead-time", "calmer: dead time shortened", NULL);
			break;
		}
		i++;
	}
}

uint64_t throttler_next(const struct throttler *t)
{
	uint64_t best = 0;
	size_t i;

	for (i = 0; i < t->n; i++) {
		uint64_t d = deadtime_next(&t->v[i].dt);

		if (d && (!best || d < best))
			best = d;
	}
	return best;
}

/* Lineages the journal says were held when lymphd stopped. */
struct throttle_replay {
	struct lineage open[64];
	size_t n;
};

/* One journal record at start (jrec.c checked every field used here). */
int throttler_replay_record(struct throttler *t, struct json_object *rec, uint64_t now)
{
	struct throttle_replay *rc = t->replay;
	struct jrec_throttle r;
	int ok = jrec_throttle(rec, &r);
	struct json_object *v;
	size_t i;

	(void)now;
	if (ok <= 0)
		return ok;
	if (!rc) {
		rc = t->replay = calloc(1, sizeof(*rc));
		if (!rc)
			return 0;
	}
	for (i = 0; i < rc->n; i++)
		if (rc->open[i].kind == r.kind && rc->open[i].id == r.id)
			break;
	/* Every record of a lineage says its whole state as lymphd knew it,
	 * the pin's intent ("pin") too: the last one before a crash is what
	 * is left. */
	if (!strcmp(r.action, "throttle") || !strcmp(r.action, "dead-time") ||
	    !strcmp(r.action, "lift") || !strcmp(r.action, "snapshot") ||
	    !strcmp(r.action, "pin") || !strcmp(r.action, "move-failed") ||
	    !strcmp(r.action, "moved-back")) {
		if (i == rc->n && rc->n < 64) {
			memset(&rc->open[rc->n], 0, sizeof(rc->open[0]));
			rc->open[rc->n].kind = r.kind;
			rc->open[rc->n].id = r.id;
			rc->open[rc->n].kt = t->kt;
			rc->open[rc->n].thr = t;
			rc->n++;
		}
		if (i < rc->n) {
			rc->open[i].dt.dead_time = (uint64_t)(r.dead_time_ms * 1e6);
			rc->open[i].dt.holds = r.holds;
			rc->open[i].module = json_object_object_get_ex(rec, "module", &v) &&
					     json_object_get_boolean(v);
			/* "+pids" written (pids_enabled) or about to be
			 * (enable_pids, the intent): taken back at the end */
			rc->open[i].pids_enabled =
				(json_object_object_get_ex(rec, "pids_enabled", &v) &&
				 json_object_get_boolean(v)) ||
				(json_object_object_get_ex(rec, "enable_pids", &v) &&
				 json_object_get_boolean(v));
		}
		if (i < rc->n) {
			snprintf(rc->open[i].hold_dir, sizeof(rc->open[i].hold_dir), "%s",
				 r.hold_dir ? r.hold_dir : "");
			snprintf(rc->open[i].parent_dir, sizeof(rc->open[i].parent_dir), "%s",
				 r.parent_dir ? r.parent_dir : "");
			rc->open[i].pinned = !!r.hold_dir;
		}
		if (i < 64 && json_object_object_get_ex(rec, "held_pids", &v) &&
		    json_object_is_type(v, json_type_array)) {
			struct lineage *o = &rc->open[i];
			size_t j, n = json_object_array_length(v);

			if (n > HELD_MAX)
				n = HELD_MAX;
			free(o->pids);
			o->pids = calloc(n ? n : 1, sizeof(*o->pids));
			o->n = 0;
			for (j = 0; o->pids && j < n; j++) {
				int64_t pid = json_object_get_int64(
					json_object_array_get_idx(v, j));

				if (pid > 1 && pid < INT32_MAX)
					o->pids[o->n++] = (pid_t)pid;
			}
		}
	} else if (i < rc->n) {
		free(rc->open[i].pids);
		rc->open[i] = rc->open[--rc->n]; /* ended, released, killed, recovered */
	}
	return 0;
}

/* Continue every stopped process of cgroup dir (not an admin's stop). */
static unsigned int continue_stopped_in(const struct lineage *l, const char *dir)
{
	char p[sizeof(l->hold_dir) + 16];
	unsigned int n = 0;
	int pid;
	FILE *f;

	if (!dir[0])
		return 0;
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	f = fopen(p, "re");
	while (f && fscanf(f, "%d", &pid) == 1) {
		struct proc_stat st;

		if (pid > 1 && !protect_pid(pid) && !proc_stat_read(pid, &st) && st.state == 'T' &&
		    !admin_stopped(l, pid) && !kill(pid, SIGCONT))
			n++;
	}
	if (f)
		fclose(f);
	return n;
}

/* Continue the journaled held pids that are still stopped. */
static unsigned int continue_journaled(const struct lineage *l)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct proc_stat st;

		if (!protect_pid(l->pids[i]) && !proc_stat_read(l->pids[i], &st) &&
		    st.state == 'T' && !admin_stopped(l, l->pids[i]) && !kill(l->pids[i], SIGCONT))
			n++;
	}
	return n;
}

/* After the last record: continue whatever was held (a release, never an
 * enforcement, so observe mode does it too). */
void throttler_replay_done(struct throttler *t, uint64_t now)
{
	struct throttle_replay *rc = t->replay;
	size_t i;

	(void)now;
	t->replay = NULL;
	if (!rc)
		return;
	for (i = 0; i < rc->n; i++) {
		unsigned int n;
		char msg[160];
		int enabled = rc->open[i].pids_enabled;

		/* The sensors' family table died with the old lymphd: what it
		 * held is found in its hold cgroup and in the journaled pids.
		 * What lymph.ko held it continues itself (lymphd stopped none of
		 * it, and a stop there may be an administrator's): unpinned only. */
		n = 0;
		if (!rc->open[i].module) {
			n = continue_stopped_in(&rc->open[i], rc->open[i].hold_dir);
			n += continue_journaled(&rc->open[i]);
		}
		/* pids is disabled below once every hold is gone */
		rc->open[i].pids_enabled = 0;
		dissolve(&rc->open[i]);
		if (!rc->open[i].module)
			n += signal_lineage(&rc->open[i], SIGCONT, 1);
		snprintf(msg, sizeof(msg), "%s: %u stopped process%s continued%s",
			 t->recover_by ? t->recover_by : "lymphd restarted", n, n == 1 ? "" : "es",
			 enabled ? "; pids disabled again for the parent cgroup's children" : "");
		journal_t(t, &rc->open[i], "recovered", msg, NULL);
		t->recovered++;
		/* after the record, which lists them (it read them freed before) */
		free(rc->open[i].pids);
		rc->open[i].pids = NULL;
		rc->open[i].n = 0;
		rc->open[i].pids_enabled = enabled;
	}
	/* v2: the "+pids" the old lymphd wrote into a parent's subtree_control
	 * (journaled), taken back once no hold of it is left below */
	for (i = 0; i < rc->n; i++) {
		int err;

		if (!rc->open[i].pids_enabled || !rc->open[i].parent_dir[0])
			continue;
		err = pidscg_disable(rc->open[i].parent_dir);
		if (err && err != -ENOENT)
			fprintf(stderr,
				"lymphd: throttle: failed to disable pids in %s/cgroup.subtree_control: "
				"%s; write -pids into it\n",
				rc->open[i].parent_dir, strerror(-err));
	}
	free(rc);
}

/* Rotation: every held lineage, so a fresh journal still knows its holds. */
int throttler_snapshot(struct throttler *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		journal_t(t, &t->v[i], "snapshot",
			  t->v[i].observe_reported ? "observe mode" : "held", NULL);
	return 0;
}

int throttler_release(struct throttler *t, const char *lineage, uint64_t now)
{
	char kind[16];
	unsigned long long id;
	uint32_t k;
	struct lineage *l;

	(void)now;
	if (sscanf(lineage, "%15[a-z]:%llu", kind, &id) != 2 || kind_of(kind, &k))
		return -EINVAL;
	l = find(t, k, id);
	if (!l)
		return -ENOENT;
	end_lineage(t, l, "release", "lymphctl release");
	return 0;
}

void throttler_reload(struct throttler *t, const struct policy *p, int enforce)
{
	t->conf = p->throttle;
	t->enforce = enforce;
	t->n_protect_uids = p->protect.n_uid;
	memcpy(t->protect_uids, p->protect.uid, p->protect.n_uid * sizeof(uint32_t));
	throttler_push(t);
}

void throttler_set_factor(struct throttler *t, double budget_factor)
{
	if (budget_factor <= 0 || budget_factor == t->factor)
		return;
	t->factor = budget_factor;
	throttler_push(t);
}

struct json_object *throttler_json(const struct throttler *t, uint64_t now)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	size_t i;

	json_object_object_add(o, "available", json_object_new_boolean(t->available));
	json_object_object_add(o, "lineage",
			       json_object_new_string(t->conf.lineage == LINEAGE_CGROUP ? "cgroup"
						      : t->conf.lineage == LINEAGE_UID	? "uid"
						      : t->conf.lineage == LINEAGE_FAMILY
							      ? "family"
							      : "session"));
	json_object_object_add(o, "uid_budget",
			       json_object_new_double(t->conf.uid_budget * t->factor));
	json_object_object_add(o, "budget", json_object_new_double(t->conf.budget * t->factor));
	json_object_object_add(o, "burst", json_object_new_double(t->conf.burst * t->factor));
	json_object_object_add(o, "killed", json_object_new_uint64(t->kills));
	json_object_object_add(o, "move_failed", json_object_new_uint64(t->move_failed));
	for (i = 0; i < t->n; i++) {
		const struct lineage *l = &t->v[i];
		struct json_object *x = json_object_new_object();
		char name[64];

		snprintf(name, sizeof(name), "%s:%llu", kind_word(l->kind),
			 (unsigned long long)l->id);
		json_object_object_add(x, "lineage", json_object_new_string(name));
		json_object_object_add(x, "uid", json_object_new_int64(l->uid));
		json_object_object_add(x, "comm",
				       json_object_new_string_len(
					       l->comm, (int)strnlen(l->comm, sizeof(l->comm))));
		json_object_object_add(x, "dead_time_ms",
				       json_object_new_double((double)l->dt.dead_time / 1e6));
		json_object_object_add(x, "holds", json_object_new_int64(l->dt.holds));
		json_object_object_add(x, "held", json_object_new_int64((int64_t)l->n));
		json_object_object_add(x, "pinned", json_object_new_boolean(l->pinned));
		json_object_object_add(x, "move_failed", json_object_new_uint64(l->move_failed));
		if (l->pinned)
			json_object_object_add(
				x, "tasks",
				json_object_new_int64(pidscg_read(l->hold_dir, "pids.current")));
		json_object_object_add(
			x, "for_s",
			json_object_new_double(l->dt.episode_start
						       ? (double)(now - l->dt.episode_start) / 1e9
						       : 0.0));
		json_object_object_add(x, "observe", json_object_new_boolean(l->observe_reported));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "lineages", arr);
	return o;
}

size_t throttler_held(const struct throttler *t)
{
	return t->n;
}
