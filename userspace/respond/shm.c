// SPDX-License-Identifier: GPL-2.0-only
/* SysV shared memory left by dead processes (shm.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "atomic_file.h"
#include "procfs.h"
#include "shmsave.h"
#include "shm.h"

int shm_parse(const char *text, struct shm_seg **v, size_t *n)
{
	const char *line = strchr(text, '\n'); /* the header line */
	struct shm_seg *out = NULL;
	size_t k = 0;

	*v = NULL;
	*n = 0;
	while (line && *++line) {
		struct shm_seg s;
		unsigned long long size, at, dt, ct;
		unsigned int uid, gid, cuid, cgid;
		int key, cpid, lpid;
		unsigned int nattch;
		void *g;

		memset(&s, 0, sizeof(s));
		if (sscanf(line, "%d %d %o %llu %d %d %u %u %u %u %u %llu %llu %llu", &key, &s.id,
			   &s.mode, &size, &cpid, &lpid, &nattch, &uid, &gid, &cuid, &cgid, &at,
			   &dt, &ct) == 14) {
			s.key = key;
			s.size = size;
			s.cpid = cpid;
			s.lpid = lpid;
			s.nattch = nattch;
			s.uid = uid;
			s.gid = gid;
			s.cuid = cuid;
			s.cgid = cgid;
			s.atime = at;
			s.dtime = dt;
			s.ctime = ct;
			if (!(g = realloc(out, (k + 1) * sizeof(*out)))) {
				free(out);
				return -ENOMEM;
			}
			out = g;
			out[k++] = s;
		}
		line = strchr(line, '\n');
	}
	*v = out;
	*n = k;
	return 0;
}

void shm_init(struct shm_state *s)
{
	memset(s, 0, sizeof(*s));
}

void shm_free(struct shm_state *s)
{
	free(s->noted);
	memset(s, 0, sizeof(*s));
}

void shm_on_death(struct shm_state *s, pid_t pid, int danger, uint64_t wall_s)
{
	s->death[s->head] = (struct shm_death){ pid, wall_s, danger };
	s->head = (s->head + 1) % SHM_DEATHS;
	if (s->n < SHM_DEATHS)
		s->n++;
}

static int died_badly(const struct shm_state *s, pid_t pid, uint64_t since)
{
	size_t i;

	if (pid <= 0)
		return 0;
	for (i = 0; i < s->n; i++)
		if (s->death[i].pid == pid && s->death[i].danger && s->death[i].wall + 1 >= since)
			return 1;
	return 0;
}

static uint64_t boot_wall(void)
{
	static uint64_t btime;
	char line[256];
	FILE *f;

	if (btime)
		return btime;
	f = fopen("/proc/stat", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", (unsigned long long *)&btime) == 1)
			break;
	if (f)
		fclose(f);
	return btime;
}

/* pid runs and started no later than when (wall s): the same process
 * that did something to the segment then, not a reuse of its pid. */
static int same_alive(pid_t pid, uint64_t when)
{
	char buf[1024], *rp;
	unsigned long long start;
	long hz = sysconf(_SC_CLK_TCK);

	if (pid <= 0 || !proc_alive(pid))
		return 0;
	if (proc_stat_text(pid, buf, sizeof(buf)) < 0 || !(rp = strrchr(buf, ')')))
		return 1; /* unknown: take it as alive */
	if (sscanf(rp + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &start) != 1 ||
	    hz <= 0)
		return 1;
	return boot_wall() + start / (unsigned long long)hz <= when + 1;
}

static int protected_uid(const struct policy *p, uid_t uid)
{
	size_t i;

	for (i = 0; i < p->protect.n_uid; i++)
		if (p->protect.uid[i] == uid)
			return 1;
	return 0;
}

static int noted(struct shm_state *s, const struct shm_seg *g, int add)
{
	size_t i;
	void *n;

	for (i = 0; i < s->n_noted; i++)
		if (s->noted[i].id == g->id && s->noted[i].ctime == g->ctime)
			return 1;
	if (add && (n = realloc(s->noted, (s->n_noted + 1) * sizeof(*s->noted)))) {
		s->noted = n;
		s->noted[s->n_noted].id = g->id;
		s->noted[s->n_noted++].ctime = g->ctime;
	}
	return 0;
}

/* In a child with the owner's uid: save the content into fd, then remove
 * the segment if it is still unattached.  0 or -errno. */
static int save_and_remove(const struct shm_seg *g, int fd)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct shm_saved h = { .key = g->key,
				       .mode = g->mode & 0777,
				       .size = g->size,
				       .uid = g->uid,
				       .gid = g->gid,
				       .cuid = g->cuid,
				       .cgid = g->cgid,
				       .ctime = g->ctime };
		struct shmid_ds ds;
		void *m;

		memcpy(h.magic, SHM_MAGIC, sizeof(h.magic));
		if (setresgid(g->gid, g->gid, g->gid) || setresuid(g->uid, g->uid, g->uid))
			_exit(10);
		m = shmat(g->id, NULL, SHM_RDONLY);
		if (m == (void *)-1)
			_exit(11);
		if (write_all(fd, &h, sizeof(h)) || write_all(fd, m, g->size) || fsync(fd))
			_exit(12);
		shmdt(m);
		/* attached meanwhile by someone else: it is in use, keep it */
		if (shmctl(g->id, IPC_STAT, &ds) || ds.shm_nattch)
			_exit(13);
		if (shmctl(g->id, IPC_RMID, NULL))
			_exit(14);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	switch (WEXITSTATUS(status)) {
	case 0: return 0;
	case 10: return -EPERM;
	case 11: return -EACCES;
	case 12: return -EIO;
	case 13: return -EBUSY;
	default: return -EINVAL;
	}
}

static void journal_seg(struct journal *j, const char *action, int enforce, const struct shm_seg *g,
			const struct shm_evidence *e, const char *why, const char *saved,
			const char *result)
{
	struct json_object *rec = json_object_new_object();
	char key[16];

	snprintf(key, sizeof(key), "0x%08x", (unsigned int)g->key);
	json_object_object_add(rec, "type", json_object_new_string("phagocyte"));
	json_object_object_add(rec, "action", json_object_new_string(action));
	json_object_object_add(rec, "mode",
			       json_object_new_string(enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "key", json_object_new_string(key));
	json_object_object_add(rec, "shmid", json_object_new_int(g->id));
	json_object_object_add(rec, "size", json_object_new_uint64(g->size));
	json_object_object_add(rec, "cpid", json_object_new_int(g->cpid));
	json_object_object_add(rec, "lpid", json_object_new_int(g->lpid));
	json_object_object_add(rec, "uid", json_object_new_int64(g->uid));
	json_object_object_add(rec, "cuid", json_object_new_int64(g->cuid));
	json_object_object_add(rec, "died_badly", json_object_new_boolean(e->died_badly));
	json_object_object_add(rec, "idle_s", json_object_new_uint64(e->idle_s));
	json_object_object_add(rec, "why", json_object_new_string(why));
	if (saved)
		json_object_object_add(rec, "saved", json_object_new_string(saved));
	json_object_object_add(rec, "result", json_object_new_string(result));
	fprintf(stderr, "lymphd: phagocyte: %s shm key %s id %d (%s; %s)\n", action, key, g->id,
		why, result);
	if (j && journal_append(j, rec))
		fprintf(stderr, "lymphd: failed to write the journal (%s): %s\n", action,
			strerror(errno));
	if (!j)
		json_object_put(rec);
}

void shm_tick(struct shm_state *s, const struct policy *p, const char *state_dir, struct journal *j,
	      int enforce, uint64_t now)
{
	const struct phagocyte_conf *c = &p->phago;
	static char text[1 << 20];
	struct shm_seg *v = NULL;
	uint64_t wall = (uint64_t)time(NULL);
	size_t n = 0, i;
	ssize_t len;
	int fd;

	if (!c->shm || now < s->next)
		return;
	s->next = now + c->shm_interval;
	fd = open("/proc/sysvipc/shm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len <= 0)
		return;
	text[len] = 0;
	if (shm_parse(text, &v, &n))
		return;
	for (i = 0; i < n; i++) {
		const struct shm_seg *g = &v[i];
		uint64_t last = g->ctime > g->atime ? g->ctime : g->atime;
		struct shm_evidence e = { 0 };
		char path[PATH_MAX], result[200];
		const char *why;
		int err;

		if (g->dtime > last)
			last = g->dtime;
		e.nattch = g->nattch;
		if (e.nattch)
			continue; /* the common case, nothing to say */
		e.creator_alive = same_alive(g->cpid, g->ctime);
		e.attacher_alive = g->lpid && same_alive(g->lpid, last);
		e.died_badly = died_badly(s, g->cpid, g->ctime) || died_badly(s, g->lpid, g->ctime);
		e.protected_owner = protected_uid(p, g->uid) || protected_uid(p, g->cuid);
		e.idle_s = wall > last ? wall - last : 0;
		e.size = g->size;
		if (!shm_verdict(c, &e, &why)) {
			/* a segment that would go but for the protection or its size: say so once */
			if ((e.protected_owner || e.size > c->shm_save_max) && !e.creator_alive &&
			    !e.attacher_alive && (e.died_badly || c->shm_any_dead) &&
			    !noted(s, g, 1))
				journal_seg(j, "shm-kept", enforce, g, &e, why, NULL, "kept");
			continue;
		}
		if (!enforce) {
			if (!noted(s, g, 1))
				journal_seg(j, "shm-would-remove", 0, g, &e, why, NULL,
					    "observe mode: would remove");
			continue;
		}
		snprintf(path, sizeof(path), "%s/shm", state_dir);
		if (mkdir(path, 0700) && errno != EEXIST) {
			err = -errno;
		} else {
			snprintf(path, sizeof(path), "%s/shm/0x%08x-%d-%llu.seg", state_dir,
				 (unsigned int)g->key, g->id, (unsigned long long)g->ctime);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
				  0600);
			err = fd < 0 ? -errno : save_and_remove(g, fd);
			if (fd >= 0)
				close(fd);
			if (err)
				unlink(path);
		}
		if (err) {
			if (noted(s, g, 1))
				continue;
			snprintf(result, sizeof(result), "error: failed to save and remove it: %s",
				 strerror(-err));
			journal_seg(j, "shm-removed", 1, g, &e, why, NULL, result);
			continue;
		}
		s->removed++;
		s->removed_bytes += g->size;
		journal_seg(j, "shm-removed", 1, g, &e, why, path,
			    "ok: saved, lymphctl shm-restore FILE creates it again");
	}
	free(v);
}
