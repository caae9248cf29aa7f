// SPDX-License-Identifier: GPL-2.0-only
/* The phagocytes at work: zombies and disk foresight (phago.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <json-c/json.h>
#include "clock.h"
#include "phago.h"
#include "procfs.h"
#include "protect.h"
#include "tidy.h"

#define ZOMBIE_SAMPLE	 16	/* zombie pids listed in a report */
#define GROWTH_FILES_MAX 200000 /* entries walked for one growth snapshot */
#define GROWTH_DIRS_MAX	 1024
#define GROWTH_TOP	 5

struct dir_size {
	char rel[256]; /* below the mount point, one or two levels */
	uint64_t bytes;
};

static void growth_abandon(struct growth_job *g);
static void tidy_abandon(struct tidy_job *t);

/* Zombies, cores and tidy act only in enforce mode with a [phagocyte]
 * section: like every other response, armed by its own section. */
static int acts(const struct phago *ph)
{
	return ph->enforce && ph->policy->phago.section;
}

/* ---- journal ---------------------------------------------------------------- */

static struct json_object *record(const struct phago *ph, const char *action)
{
	struct json_object *rec = json_object_new_object();

	json_object_object_add(rec, "type", json_object_new_string("phagocyte"));
	json_object_object_add(rec, "action", json_object_new_string(action));
	json_object_object_add(rec, "mode",
			       json_object_new_string(acts(ph) ? "enforce" : "observe"));
	return rec;
}

static void emit(struct phago *ph, struct json_object *rec)
{
	fprintf(stderr, "lymphd: phagocyte: %s\n",
		json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	if (ph->journal && journal_append(ph->journal, rec))
		fprintf(stderr, "lymphd: failed to write the journal (phagocyte): %s\n",
			strerror(errno));
	if (!ph->journal)
		json_object_put(rec);
}

/* ---- setup ------------------------------------------------------------------- */

int phago_init(struct phago *ph, const struct policy *p, struct journal *j, struct supervisor *sup,
	       int enforce)
{
	memset(ph, 0, sizeof(*ph));
	ph->policy = p;
	ph->journal = j;
	ph->sup = sup;
	ph->enforce = enforce;
	foresight_init(&ph->fs);
	cores_init(&ph->cores);
	shm_init(&ph->shm);
	/* state beside the journal, so that a test's --journal isolates it */
	if (j && j->path) {
		char *slash;

		snprintf(ph->state_dir, sizeof(ph->state_dir), "%s", j->path);
		slash = strrchr(ph->state_dir, '/');
		if (slash && slash != ph->state_dir)
			*slash = 0;
		else
			snprintf(ph->state_dir, sizeof(ph->state_dir), "%s", slash ? "/" : ".");
		{
			char path[4200];
			int err;

			snprintf(path, sizeof(path), "%s/core-signatures.json", ph->state_dir);
			err = cores_load(&ph->cores, path);
			if (err && err != -ENOENT)
				fprintf(stderr,
					"lymphd: failed to read the crash signatures in %s: %s; "
					"starting without them\n",
					path, strerror(-err));
		}
		corehandler_apply(&ph->ch, &p->phago, ph->state_dir, j, acts(ph));
	}
	return 0;
}

void phago_reload(struct phago *ph, const struct policy *p, int enforce)
{
	ph->policy = p;
	ph->enforce = enforce;
	ph->zombie_next = 0;
	ph->fs.next = 0;
	ph->fs.next_mounts = 0; /* disk_watch may have changed */
	ph->cores.next = 0;	/* budgets may have changed */
	ph->leaks.next = 0;
	ph->shm.next = 0;
	if (ph->state_dir[0])
		corehandler_apply(&ph->ch, &p->phago, ph->state_dir, ph->journal, acts(ph));
}

void phago_free(struct phago *ph)
{
	size_t i;

	corehandler_uninstall(&ph->ch, ph->journal, "lymphd stops");
	if (ph->cores.dirty)
		cores_save(&ph->cores);
	for (i = 0; i < ph->n_disk; i++) {
		growth_abandon(ph->disk[i].job);
		tidy_abandon(ph->disk[i].tidy);
		free(ph->disk[i].snap);
	}
	free(ph->disk);
	free(ph->zp);
	free(ph->cand);
	foresight_free(&ph->fs);
	cores_free(&ph->cores);
	leaks_free(&ph->leaks);
	shm_free(&ph->shm);
	memset(ph, 0, sizeof(*ph));
}

/* ---- zombies ---------------------------------------------------------------- */

/* state, ppid and starttime (field 22) of /proc/PID/stat. */
static int stat_fields(pid_t pid, char *state, pid_t *ppid, uint64_t *start, char *comm,
		       size_t clen)
{
	char buf[1024], *lp, *rp;
	unsigned long long st = 0;
	int n, ppid_i = 0;

	n = proc_stat_text(pid, buf, sizeof(buf));
	if (n < 0)
		return n;
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp)
		return -EIO;
	if (comm) {
		size_t l = (size_t)(rp - lp - 1);

		if (l >= clen)
			l = clen - 1;
		memcpy(comm, lp + 1, l);
		comm[l] = 0;
	}
	/* after ')': state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice threads
	 * itrealvalue starttime */
	if (sscanf(rp + 2,
		   "%c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
		   state, &ppid_i, &st) != 3)
		return -EIO;
	*ppid = ppid_i;
	*start = st;
	return 0;
}

static struct zombie_parent *zp_get(struct phago *ph, pid_t pid, uint64_t start)
{
	struct zombie_parent *grown;
	size_t i;

	for (i = 0; i < ph->n_zp; i++)
		if (ph->zp[i].pid == pid && ph->zp[i].starttime == start)
			return &ph->zp[i];
	grown = realloc(ph->zp, (ph->n_zp + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	ph->zp = grown;
	memset(&grown[ph->n_zp], 0, sizeof(*grown));
	grown[ph->n_zp].pid = pid;
	grown[ph->n_zp].starttime = start;
	return &grown[ph->n_zp++];
}

/* Configured [protect] exe or uid. */
static int protected_by_policy(const struct policy *p, pid_t pid)
{
	char path[64];
	struct stat a, b;
	uint32_t uid;
	size_t i;

	if (!proc_real_uid(pid, &uid))
		for (i = 0; i < p->protect.n_uid; i++)
			if (p->protect.uid[i] == uid)
				return 1;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &a))
		return 0;
	for (i = 0; i < p->protect.n_exe; i++)
		if (!stat(p->protect.exe[i], &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return 1;
	return 0;
}

static struct service *service_of(struct phago *ph, pid_t pid)
{
	size_t i;

	for (i = 0; ph->sup && i < ph->sup->n; i++)
		if (ph->sup->v[i].pid == pid)
			return &ph->sup->v[i];
	return NULL;
}

static void zombie_report(struct phago *ph, struct zombie_parent *z, const pid_t *sample, size_t ns,
			  uint64_t now)
{
	const struct phagocyte_conf *c = &ph->policy->phago;
	struct json_object *rec = record(ph, "zombies"), *arr = json_object_new_array();
	struct service *svc = service_of(ph, z->pid);
	char comm[64] = "", exe[PATH_MAX] = "", path[64], state;
	uint64_t start;
	pid_t pp;
	ssize_t n;
	size_t i;
	uint32_t uid = 0;
	const char *result;

	stat_fields(z->pid, &state, &pp, &start, comm, sizeof(comm));
	snprintf(path, sizeof(path), "/proc/%d/exe", z->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	proc_real_uid(z->pid, &uid);
	for (i = 0; i < ns; i++)
		json_object_array_add(arr, json_object_new_int(sample[i]));
	json_object_object_add(rec, "pid", json_object_new_int(z->pid));
	json_object_object_add(rec, "comm", json_object_new_string(comm));
	json_object_object_add(rec, "exe", json_object_new_string(exe));
	json_object_object_add(rec, "uid", json_object_new_int64(uid));
	json_object_object_add(rec, "zombies", json_object_new_int64(z->zombies));
	json_object_object_add(rec, "zombie_max", json_object_new_int64(c->zombie_max));
	json_object_object_add(rec, "over_for_s",
			       json_object_new_double((double)(now - z->over_since) / 1e9));
	json_object_object_add(rec, "zombie_pids", arr);
	if (svc)
		json_object_object_add(rec, "service", json_object_new_string(svc->name));
	if (protect_pid(z->pid) || protected_by_policy(ph->policy, z->pid)) {
		result = "protected: reported only";
	} else if (!acts(ph)) {
		result = ph->enforce ? "no [phagocyte] section: reported only"
				     : "observe mode: would send SIGCHLD";
	} else if (kill(z->pid, SIGCHLD)) {
		result = "error: failed to send SIGCHLD";
	} else {
		ph->sigchld_sent++;
		z->signalled_at = now;
		result = "sent SIGCHLD";
	}
	json_object_object_add(rec, "result", json_object_new_string(result));
	ph->zombie_reports++;
	emit(ph, rec);
}

/* SIGCHLD did not help a supervised service for another zombie_after. */
static void zombie_restart(struct phago *ph, struct zombie_parent *z, uint64_t now)
{
	struct service *svc = service_of(ph, z->pid);
	struct json_object *rec;
	const char *result;

	if (!svc || !svc->conf->phago.zombie_restart || z->restarted)
		return;
	z->restarted = 1;
	rec = record(ph, "zombie-restart");
	json_object_object_add(rec, "service", json_object_new_string(svc->name));
	json_object_object_add(rec, "pid", json_object_new_int(z->pid));
	json_object_object_add(rec, "zombies", json_object_new_int64(z->zombies));
	if (!acts(ph)) {
		result = "observe mode: would restart the service";
	} else {
		/* journaled before acting; the supervisor journals its restart */
		result = "restarting the service";
	}
	json_object_object_add(rec, "result", json_object_new_string(result));
	emit(ph, rec);
	if (acts(ph) && !supervisor_restart(ph->sup, svc->name, now))
		ph->zombie_restarts++;
}

struct zcount {
	pid_t ppid;
	uint32_t n;
	pid_t sample[ZOMBIE_SAMPLE];
};

/* The pids a targeted scan reads: at most this many, else a full scan. */
#define ZOMBIE_CANDIDATES 512

/* A pid to read at the next scan (it died, or was a zombie at this one). */
static void cand_add(struct phago *ph, pid_t pid)
{
	if (!ph->deaths_complete || ph->cand_full || pid <= 0)
		return;
	if (ph->n_cand == ZOMBIE_CANDIDATES) {
		ph->cand_full = 1;
		return;
	}
	if (!ph->cand && !(ph->cand = malloc(ZOMBIE_CANDIDATES * sizeof(*ph->cand)))) {
		ph->cand_full = 1;
		return;
	}
	ph->cand[ph->n_cand++] = pid;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Is pid a zombie?  Counted under its parent in zc (0), or -ENOMEM. */
static int zombie_count(struct phago *ph, pid_t pid, struct zcount **zc, size_t *nzc)
{
	uint64_t start;
	size_t i;
	char state;
	pid_t pp;

	if (stat_fields(pid, &state, &pp, &start, NULL, 0) || state != 'Z')
		return 0;
	ph->zombies_now++;
	cand_add(ph, pid); /* read again at the next scan, until reaped */
	for (i = 0; i < *nzc && (*zc)[i].ppid != pp; i++)
		;
	if (i == *nzc) {
		struct zcount *g = realloc(*zc, (*nzc + 1) * sizeof(*g));

		if (!g)
			return -ENOMEM;
		*zc = g;
		memset(&g[(*nzc)++], 0, sizeof(*g));
		g[i].ppid = pp;
	}
	if ((*zc)[i].n < ZOMBIE_SAMPLE)
		(*zc)[i].sample[(*zc)[i].n] = pid;
	(*zc)[i].n++;
	return 0;
}

static void zombies_scan(struct phago *ph, uint64_t now)
{
	const struct phagocyte_conf *c = &ph->policy->phago;
	int full = !ph->deaths_complete || ph->cand_full || !ph->gen;
	struct zcount *zc = NULL;
	size_t nzc = 0, i, j, k, n = ph->n_cand;
	pid_t *pids = NULL;
	struct proc_iter it;
	long pid;

	if (full && proc_iter_open(&it, "/proc"))
		return;
	if (!full && n) {
		/* this scan's pids, apart: the next scan's are gathered anew */
		pids = malloc(n * sizeof(*pids));
		if (!pids)
			return;
		memcpy(pids, ph->cand, n * sizeof(*pids));
		qsort(pids, n, sizeof(*pids), pid_cmp);
	}
	ph->n_cand = 0;
	ph->cand_full = 0;
	ph->zombies_now = 0;
	if (full) {
		ph->scans_full++;
		while ((pid = proc_iter_next(&it)) >= 0)
			if (pid > 0 && zombie_count(ph, (pid_t)pid, &zc, &nzc))
				break;
		proc_iter_close(&it);
	} else {
		ph->scans_targeted++;
		for (i = 0; i < n; i++)
			if ((!i || pids[i] != pids[i - 1]) && zombie_count(ph, pids[i], &zc, &nzc))
				break;
		free(pids);
	}
	ph->gen++;
	ph->parents_over = 0;
	for (i = 0; i < nzc; i++) {
		struct zombie_parent *z;
		uint64_t start;
		char state;
		pid_t pp;

		if (zc[i].n <= c->zombie_max && !ph->n_zp)
			continue;
		if (stat_fields(zc[i].ppid, &state, &pp, &start, NULL, 0))
			continue;
		if (zc[i].n <= c->zombie_max) {
			/* only parents already tracked need to see their count fall */
			for (j = 0; j < ph->n_zp; j++)
				if (ph->zp[j].pid == zc[i].ppid && ph->zp[j].starttime == start)
					break;
			if (j == ph->n_zp)
				continue;
		}
		z = zp_get(ph, zc[i].ppid, start);
		if (!z)
			continue;
		z->seen = ph->gen;
		if (zombie_due(c, z, zc[i].n, now))
			zombie_report(ph, z, zc[i].sample,
				      zc[i].n < ZOMBIE_SAMPLE ? zc[i].n : ZOMBIE_SAMPLE, now);
		else if (z->reported && z->signalled_at && now - z->signalled_at >= c->zombie_after)
			zombie_restart(ph, z, now);
		if (z->over_since)
			ph->parents_over++;
	}
	free(zc);
	/* parents with no zombies left (or gone) end their episode */
	for (i = k = 0; i < ph->n_zp; i++)
		if (ph->zp[i].seen == ph->gen && ph->zp[i].over_since)
			ph->zp[k++] = ph->zp[i];
	ph->n_zp = k;
}

/* ---- disks ------------------------------------------------------------------ */

static struct phago_disk *disk_get(struct phago *ph, dev_t dev)
{
	struct phago_disk *g;
	size_t i;

	for (i = 0; i < ph->n_disk; i++)
		if (ph->disk[i].dev == dev)
			return &ph->disk[i];
	g = realloc(ph->disk, (ph->n_disk + 1) * sizeof(*g));
	if (!g)
		return NULL;
	ph->disk = g;
	memset(&g[ph->n_disk], 0, sizeof(*g));
	g[ph->n_disk].dev = dev;
	return &g[ph->n_disk++];
}

struct growth_walk {
	dev_t dev;
	struct dir_size *v;
	size_t n;
	size_t files;
	int partial;
};

static void growth_add(struct growth_walk *g, const char *rel, uint64_t bytes)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (!strcmp(g->v[i].rel, rel)) {
			g->v[i].bytes += bytes;
			return;
		}
	if (g->n == GROWTH_DIRS_MAX) {
		g->partial = 1;
		return;
	}
	snprintf(g->v[g->n].rel, sizeof(g->v[g->n].rel), "%s", rel);
	g->v[g->n++].bytes = bytes;
}

/* Bytes below each directory one and two levels under the mount point;
 * never following links nor leaving the filesystem. dfd is owned. */
static void growth_dir(struct growth_walk *g, int dfd, const char *l1, const char *l2, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++g->files > GROWTH_FILES_MAX) {
			g->partial = 1;
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || st.st_dev != g->dev)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 64) {
			int sfd = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char n1[256], n2[256];

			if (sfd < 0)
				continue;
			if (depth == 0)
				snprintf(n1, sizeof(n1), "%s", de->d_name);
			else
				snprintf(n1, sizeof(n1), "%s", l1);
			if (depth == 1)
				snprintf(n2, sizeof(n2), "%.120s/%.120s", l1, de->d_name);
			else
				snprintf(n2, sizeof(n2), "%s", depth == 0 ? "" : l2);
			growth_dir(g, sfd, n1, n2, depth + 1);
		} else if (depth > 0) {
			uint64_t b = (uint64_t)st.st_blocks * 512;

			growth_add(g, l1, b);
			if (depth > 1)
				growth_add(g, l2, b);
		}
	}
	closedir(d);
}

static int growth_snapshot(const char *path, dev_t dev, struct dir_size **out, size_t *n,
			   int *partial)
{
	struct growth_walk g = { .dev = dev };
	int fd;

	g.v = calloc(GROWTH_DIRS_MAX, sizeof(*g.v));
	if (!g.v)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		growth_dir(&g, fd, "", "", 0);
	*out = g.v;
	*n = g.n;
	*partial = g.partial;
	return 0;
}

/*
 * A growth snapshot walks a whole filesystem (up to GROWTH_FILES_MAX
 * entries, on a disk that may be slow or hung): it runs in a thread of its
 * own, so the event loop never waits for it.  The thread owns its job
 * until it is done; a job abandoned before (reload, stop, a new episode)
 * is freed by its thread.
 */
struct growth_job {
	pthread_mutex_t mu;
	int done, abandoned;
	char path[4096];
	dev_t dev;
	struct dir_size *v;
	size_t n;
	int partial;
};

static void job_free(struct growth_job *g)
{
	free(g->v);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static void *growth_thread(void *arg)
{
	struct growth_job *g = arg;
	struct dir_size *v = NULL;
	size_t n = 0;
	int partial = 0, abandoned;

	growth_snapshot(g->path, g->dev, &v, &n, &partial);
	pthread_mutex_lock(&g->mu);
	g->v = v;
	g->n = n;
	g->partial = partial;
	g->done = 1;
	abandoned = g->abandoned;
	pthread_mutex_unlock(&g->mu);
	if (abandoned)
		job_free(g);
	return NULL;
}

static struct growth_job *growth_start(const char *path, dev_t dev)
{
	struct growth_job *g = calloc(1, sizeof(*g));
	pthread_attr_t at;
	pthread_t th;
	int err;

	if (!g)
		return NULL;
	pthread_mutex_init(&g->mu, NULL);
	snprintf(g->path, sizeof(g->path), "%s", path);
	g->dev = dev;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &at, growth_thread, g);
	pthread_attr_destroy(&at);
	if (err) {
		fprintf(stderr,
			"lymphd: failed to start the growth scan of %s: %s; no growth report\n",
			path, strerror(err));
		job_free(g);
		return NULL;
	}
	return g;
}

/* 1 with the snapshot moved out (the job freed) when it is done, else 0. */
static int growth_poll(struct growth_job *g, struct dir_size **v, size_t *n, int *partial)
{
	int done;

	pthread_mutex_lock(&g->mu);
	done = g->done;
	pthread_mutex_unlock(&g->mu);
	if (!done)
		return 0;
	*v = g->v;
	*n = g->n;
	*partial = g->partial;
	g->v = NULL;
	job_free(g);
	return 1;
}

static void growth_abandon(struct growth_job *g)
{
	int done;

	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	done = g->done;
	g->abandoned = 1;
	pthread_mutex_unlock(&g->mu);
	if (done)
		job_free(g);
}

static void growth_report(struct phago *ph, const struct fs_watch *w, struct phago_disk *pd,
			  struct dir_size *now, size_t n, int partial)
{
	struct dir_size top[GROWTH_TOP];
	struct json_object *rec, *arr;
	size_t i, j, k, ntop = 0;

	for (i = 0; i < n; i++) {
		uint64_t before = 0;
		int64_t grew;

		for (j = 0; j < pd->n_snap; j++)
			if (!strcmp(pd->snap[j].rel, now[i].rel))
				before = pd->snap[j].bytes;
		grew = (int64_t)now[i].bytes - (int64_t)before;
		if (grew <= 0)
			continue;
		/* insertion into the top list, largest growth first */
		for (k = 0; k < ntop && (int64_t)top[k].bytes >= grew; k++)
			;
		if (k == GROWTH_TOP)
			continue;
		memmove(&top[k + 1], &top[k], (ntop - k - (ntop == GROWTH_TOP)) * sizeof(top[0]));
		top[k] = now[i];
		top[k].bytes = (uint64_t)grew;
		if (ntop < GROWTH_TOP)
			ntop++;
	}
	rec = record(ph, "disk-growth");
	arr = json_object_new_array();
	for (i = 0; i < ntop; i++) {
		struct json_object *o = json_object_new_object();
		char full[2048];

		snprintf(full, sizeof(full), "%s%s%s", w->path, strcmp(w->path, "/") ? "/" : "",
			 top[i].rel);
		json_object_object_add(o, "dir", json_object_new_string(full));
		json_object_object_add(o, "grew_bytes", json_object_new_uint64(top[i].bytes));
		json_object_array_add(arr, o);
	}
	json_object_object_add(rec, "mount", json_object_new_string(w->path));
	json_object_object_add(rec, "grew", arr);
	json_object_object_add(rec, "partial",
			       json_object_new_boolean(partial || pd->snap_partial));
	json_object_object_add(rec, "result", json_object_new_string("ok"));
	emit(ph, rec);
	free(now);
	free(pd->snap);
	pd->snap = NULL;
	pd->n_snap = 0;
}

/*
 * The tidy rules of a filesystem walk their directories (up to
 * TIDY_FILES_MAX entries each): in a thread of their own, like the growth
 * scan, with copies of the rules (a reload may free the policy meanwhile);
 * the event loop journals the outcome and whether space came back.
 */
struct tidy_job {
	pthread_mutex_t mu;
	int done, abandoned;
	int enforce;
	uint64_t wall;
	struct tidy_rule *rules;
	size_t n;
	struct json_object *out; /* per rule */
	uint32_t removed, named;
	uint64_t bytes;
	char mount[4096];
	double before, after; /* available bytes around the walks (in the thread: at once) */
};

static void tidy_job_free(struct tidy_job *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->rules[i].dir);
		free(t->rules[i].pattern);
		free((char *)t->rules[i].file);
	}
	free(t->rules);
	json_object_put(t->out);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static void *tidy_thread(void *arg)
{
	struct tidy_job *t = arg;
	struct statvfs sv;
	int abandoned;
	size_t i;

	t->before = statvfs(t->mount, &sv) ? -1 : (double)sv.f_bavail * (double)sv.f_frsize;
	for (i = 0; i < t->n; i++) {
		const struct tidy_rule *r = &t->rules[i];
		struct tidy_result res;
		struct json_object *o;

		tidy_run(r, t->enforce, t->wall, &res);
		o = json_object_new_object();
		json_object_object_add(o, "dir", json_object_new_string(r->dir));
		json_object_object_add(o, "pattern", json_object_new_string(r->pattern));
		if (r->age)
			json_object_object_add(o, "age_s",
					       json_object_new_double((double)r->age / 1e9));
		if (r->budget >= 0)
			json_object_object_add(o, "budget", json_object_new_int64(r->budget));
		json_object_object_add(o, "rule", json_object_new_string(r->file ? r->file : "?"));
		json_object_object_add(o, "line", json_object_new_int(r->line));
		json_object_object_add(o, "matched", json_object_new_int64(res.matched));
		json_object_object_add(o, "named", json_object_new_int64(res.named));
		json_object_object_add(o, "removed", json_object_new_int64(res.removed));
		json_object_object_add(o, "bytes", json_object_new_uint64(res.bytes));
		if (res.error)
			json_object_object_add(o, "error",
					       json_object_new_string(strerror(-res.error)));
		json_object_object_add(o, "files", res.files);
		json_object_array_add(t->out, o);
		t->removed += res.removed;
		t->named += res.named;
		t->bytes += res.bytes;
	}
	t->after = statvfs(t->mount, &sv) ? -1 : (double)sv.f_bavail * (double)sv.f_frsize;
	pthread_mutex_lock(&t->mu);
	t->done = 1;
	abandoned = t->abandoned;
	pthread_mutex_unlock(&t->mu);
	if (abandoned)
		tidy_job_free(t);
	return NULL;
}

static void tidy_abandon(struct tidy_job *t)
{
	int done;

	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	done = t->done;
	t->abandoned = 1;
	pthread_mutex_unlock(&t->mu);
	if (done)
		tidy_job_free(t);
}

/* Start the tidy rules of this filesystem (dead time permitting). */
static void tidy_start(struct phago *ph, const struct fs_watch *w, struct phago_disk *pd,
		       uint64_t now)
{
	const struct phagocyte_conf *c = &ph->policy->phago;
	struct tidy_job *t;
	pthread_attr_t at;
	pthread_t th;
	size_t i;
	int err;

	if (pd->tidy || (pd->last_tidy && now - pd->last_tidy < c->tidy_dead_time))
		return;
	t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->rules = calloc(c->n_tidy ? c->n_tidy : 1, sizeof(*t->rules));
	pthread_mutex_init(&t->mu, NULL);
	t->out = json_object_new_array();
	t->enforce = acts(ph);
	t->wall = clock_wall_ns();
	for (i = 0; t->rules && i < c->n_tidy; i++) {
		const struct tidy_rule *r = &c->tidy[i];
		struct stat st;

		if (stat(r->dir, &st) || st.st_dev != w->dev)
			continue;
		t->rules[t->n] = *r;
		t->rules[t->n].dir = strdup(r->dir);
		t->rules[t->n].pattern = strdup(r->pattern);
		t->rules[t->n].file = r->file ? strdup(r->file)
					      : NULL; /* the policy's: a reload frees it */
		if (!t->rules[t->n].dir || !t->rules[t->n].pattern) {
			free(t->rules[t->n].dir);
			free(t->rules[t->n].pattern);
			free((char *)t->rules[t->n].file);
			break;
		}
		t->n++;
	}
	if (!t->n) {
		tidy_job_free(t);
		return;
	}
	pd->last_tidy = now;
	snprintf(t->mount, sizeof(t->mount), "%s", w->path);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &at, tidy_thread, t);
	pthread_attr_destroy(&at);
	if (err) {
		fprintf(stderr,
			"lymphd: failed to start the tidy rules of %s: %s; they run at the next look\n",
			w->path, strerror(err));
		pd->last_tidy = 0;
		tidy_job_free(t);
		return;
	}
	pd->tidy = t;
}

/* The tidy rules done: the record, and whether space came back. */
static void tidy_finish(struct phago *ph, const struct fs_watch *w, struct phago_disk *pd)
{
	struct tidy_job *t = pd->tidy;
	struct json_object *rec;
	int done;

	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	done = t->done;
	pthread_mutex_unlock(&t->mu);
	if (!done)
		return;
	pd->tidy = NULL;
	rec = record(ph, "tidy");
	json_object_object_add(rec, "mount", json_object_new_string(w->path));
	json_object_object_add(rec, "rules", json_object_get(t->out));
	json_object_object_add(rec, "named", json_object_new_int64(t->named));
	json_object_object_add(rec, "removed", json_object_new_int64(t->removed));
	json_object_object_add(rec, "bytes", json_object_new_uint64(t->bytes));
	json_object_object_add(rec, "avail_before", json_object_new_double(t->before));
	json_object_object_add(rec, "avail_after", json_object_new_double(t->after));
	if (t->enforce) {
		/* Space held by a file that is still open does not come back:
		 * say so rather than believe the unlink. */
		int back = t->after - t->before >= 0.9 * (double)t->bytes;

		json_object_object_add(rec, "space_came_back", json_object_new_boolean(back));
		json_object_object_add(
			rec, "result",
			json_object_new_string(
				back ? "ok"
				     : "space did not come back: removed files may still be open"));
		ph->tidy_runs++;
		ph->tidy_removed += t->removed;
		ph->tidy_bytes += t->bytes;
	} else {
		json_object_object_add(rec, "result",
				       json_object_new_string("observe mode: would remove"));
	}
	emit(ph, rec);
	tidy_job_free(t);
}

static void disks(struct phago *ph, uint64_t now)
{
	const struct phagocyte_conf *c = &ph->policy->phago;
	size_t i;

	if (!foresight_tick(&ph->fs, c, now))
		return;
	for (i = 0; i < ph->fs.n; i++) {
		struct fs_watch *w = ph->fs.v[i];
		struct phago_disk *pd;

		if (w->cleared) {
			struct json_object *rec = record(ph, "disk-clear");

			w->cleared = 0;
			json_object_object_add(rec, "mount", json_object_new_string(w->path));
			json_object_object_add(rec, "time_to_full_s",
					       w->ttf_s < 0 ? NULL
							    : json_object_new_double(w->ttf_s));
			json_object_object_add(rec, "result", json_object_new_string("ok"));
			emit(ph, rec);
		}
		if (!w->dd.danger)
			continue;
		pd = disk_get(ph, w->dev);
		if (!pd)
			continue;
		if (w->entered) {
			struct json_object *rec = record(ph, "disk-foresight");

			w->entered = 0;
			json_object_object_add(rec, "mount", json_object_new_string(w->path));
			json_object_object_add(rec, "fstype", json_object_new_string(w->fstype));
			json_object_object_add(rec, "fills_first",
					       json_object_new_string(w->resource));
			json_object_object_add(rec, "avail_bytes",
					       json_object_new_double(w->avail_bytes));
			json_object_object_add(rec, "avail_inodes",
					       json_object_new_double(w->avail_inodes));
			json_object_object_add(rec, "bytes_per_s",
					       json_object_new_double(w->rate_bytes));
			json_object_object_add(rec, "inodes_per_s",
					       json_object_new_double(w->rate_inodes));
			json_object_object_add(rec, "time_to_full_s",
					       json_object_new_double(w->ttf_s));
			json_object_object_add(
				rec, "horizon_s",
				json_object_new_double((double)c->disk_horizon / 1e9));
			json_object_object_add(
				rec, "predicted_full_wall_ms",
				json_object_new_double((double)clock_wall_ns() / 1e6 +
						       w->ttf_s * 1e3));
			json_object_object_add(rec, "result",
					       json_object_new_string("the weather worsens"));
			emit(ph, rec);
			free(pd->snap);
			pd->snap = NULL;
			growth_abandon(pd->job);
			pd->job = growth_start(w->path, w->dev);
			pd->job_second = 0;
			/* the second look: a quarter of the window later, at least two samples */
			pd->growth_at = now + (c->disk_window / 4 > 2 * c->disk_interval
						       ? c->disk_window / 4
						       : 2 * c->disk_interval);
		}
		if (pd->job) {
			struct dir_size *v;
			size_t n;
			int partial;

			if (growth_poll(pd->job, &v, &n, &partial)) {
				pd->job = NULL;
				if (!pd->job_second) {
					pd->snap = v;
					pd->n_snap = n;
					pd->snap_partial = partial;
				} else {
					growth_report(ph, w, pd, v, n, partial);
				}
			}
		}
		if (pd->snap && !pd->job && now >= pd->growth_at) {
			pd->job = growth_start(w->path, w->dev);
			pd->job_second = 1;
		}
		tidy_finish(ph, w, pd);
		tidy_start(ph, w, pd, now);
	}
}

/* ---- the tick, status, metrics --------------------------------------------- */

void phago_tick(struct phago *ph, uint64_t now)
{
	const struct phagocyte_conf *c = &ph->policy->phago;

	if (now >= ph->zombie_next) {
		ph->zombie_next = now + c->zombie_interval;
		zombies_scan(ph, now);
	}
	disks(ph, now);
	cores_tick(&ph->cores, ph->policy, ph->journal, acts(ph), now);
	leaks_tick(&ph->leaks, ph->sup, c, ph->journal, ph->enforce, now);
	if (ph->state_dir[0])
		shm_tick(&ph->shm, ph->policy, ph->state_dir, ph->journal, acts(ph), now);
}

void phago_on_death(struct phago *ph, pid_t pid, int danger)
{
	shm_on_death(&ph->shm, pid, danger, clock_wall_ns() / 1000000000ULL);
	cand_add(ph, pid);
}

void phago_set_deaths_complete(struct phago *ph, int complete)
{
	ph->deaths_complete = complete; /* the first scan reads all of /proc anyway */
}

void phago_deaths_lost(struct phago *ph)
{
	ph->cand_full = 1;
}

struct json_object *phago_leaks_json(const struct phago *ph)
{
	return leaks_json(&ph->leaks);
}

struct json_object *phago_crashes_json(const struct phago *ph)
{
	return cores_json(&ph->cores, ph->policy);
}

uint32_t phago_activity(const struct phago *ph)
{
	return foresight_danger(&ph->fs);
}

struct json_object *phago_json(const struct phago *ph, uint64_t now)
{
	struct json_object *o = json_object_new_object(), *z = json_object_new_array();
	size_t i;

	for (i = 0; i < ph->n_zp; i++) {
		const struct zombie_parent *p = &ph->zp[i];
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "pid", json_object_new_int(p->pid));
		json_object_object_add(e, "zombies", json_object_new_int64(p->zombies));
		json_object_object_add(
			e, "over_for_s",
			json_object_new_double(p->over_since && now > p->over_since
						       ? (double)(now - p->over_since) / 1e9
						       : 0));
		json_object_object_add(e, "reported", json_object_new_boolean(p->reported));
		json_object_object_add(e, "sigchld_sent",
				       json_object_new_boolean(p->signalled_at != 0));
		json_object_array_add(z, e);
	}
	json_object_object_add(o, "zombies", json_object_new_int64(ph->zombies_now));
	json_object_object_add(o, "zombie_parents", z);
	json_object_object_add(o, "zombie_reports", json_object_new_uint64(ph->zombie_reports));
	/* scans of every process in /proc, and of the pids that died */
	json_object_object_add(o, "zombie_scans_full", json_object_new_uint64(ph->scans_full));
	json_object_object_add(o, "zombie_scans_targeted",
			       json_object_new_uint64(ph->scans_targeted));
	json_object_object_add(o, "sigchld_sent", json_object_new_uint64(ph->sigchld_sent));
	json_object_object_add(o, "zombie_restarts", json_object_new_uint64(ph->zombie_restarts));
	json_object_object_add(o, "disks", foresight_json(&ph->fs, now));
	json_object_object_add(o, "leaks", leaks_json(&ph->leaks));
	json_object_object_add(o, "leak_restarts", json_object_new_uint64(ph->leaks.restarts));
	json_object_object_add(o, "tidy_runs", json_object_new_uint64(ph->tidy_runs));
	json_object_object_add(o, "tidy_removed", json_object_new_uint64(ph->tidy_removed));
	json_object_object_add(o, "tidy_bytes", json_object_new_uint64(ph->tidy_bytes));
	json_object_object_add(o, "shm_removed", json_object_new_uint64(ph->shm.removed));
	json_object_object_add(o, "shm_removed_bytes",
			       json_object_new_uint64(ph->shm.removed_bytes));
	return o;
}

void phago_metrics(const struct phago *ph, FILE *out)
{
	size_t i;

	fprintf(out,
		"# HELP lymph_zombies Zombie processes at the last scan.\n# TYPE lymph_zombies gauge\n"
		"lymph_zombies %u\n",
		ph->zombies_now);
	fprintf(out,
		"# HELP lymph_zombie_parents Parents keeping more than zombie_max unreaped children.\n"
		"# TYPE lymph_zombie_parents gauge\nlymph_zombie_parents %u\n",
		ph->parents_over);
	fprintf(out,
		"# HELP lymph_zombie_reports_total Zombie hoarders reported.\n"
		"# TYPE lymph_zombie_reports_total counter\nlymph_zombie_reports_total %llu\n",
		(unsigned long long)ph->zombie_reports);
	fprintf(out,
		"# HELP lymph_tidy_removed_bytes_total Bytes tidy rules removed.\n"
		"# TYPE lymph_tidy_removed_bytes_total counter\nlymph_tidy_removed_bytes_total %llu\n",
		(unsigned long long)ph->tidy_bytes);
	fprintf(out,
		"# HELP lymph_core_removed_bytes_total Bytes of crash artifacts removed past their budgets.\n"
		"# TYPE lymph_core_removed_bytes_total counter\nlymph_core_removed_bytes_total %llu\n",
		(unsigned long long)ph->cores.removed_bytes);
	fprintf(out, "# HELP lymph_disk_time_to_full_seconds Predicted time to full per filesystem "
		     "(absent: not filling).\n# TYPE lymph_disk_time_to_full_seconds gauge\n");
	for (i = 0; i < ph->fs.n; i++) {
		const struct fs_watch *w = ph->fs.v[i];
		const char *p;

		if (!w->have_trend || w->ttf_s < 0)
			continue;
		fputs("lymph_disk_time_to_full_seconds{mount=\"", out);
		for (p = w->path; *p; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', out);
			if (*p == '\n')
				fputs("\\n", out);
			else
				fputc(*p, out);
		}
		fprintf(out, "\"} %.0f\n", w->ttf_s);
	}
}
