// SPDX-License-Identifier: GPL-2.0-only
/* Crash artifacts budgeted per binary: the scan and the removals (cores.h). */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <json-c/json.h>
#include "atomic_file.h"
#include "clock.h"
#include "corehandler.h"
#include "cores.h"

#define NOTES_MAX (4U << 20)

void cores_init(struct cores *c)
{
	memset(c, 0, sizeof(*c));
}

void cores_free(struct cores *c)
{
	size_t i;

	for (i = 0; i < c->n_f; i++)
		free(c->f[i].path);
	free(c->f);
	free(c->sig);
	memset(c, 0, sizeof(*c));
}

void cores_pattern_dir(const char *pat, char *dir, size_t len)
{
	const char *slash;

	dir[0] = 0;
	if (pat[0] == '|') {
		const char *h = strstr(pat, " --core-handler ");

		if (h) { /* lymph's own: its store */
			h += strlen(" --core-handler ");
			snprintf(dir, len, "%.*s", (int)strcspn(h, " "), h);
		} else if (strstr(pat, "systemd-coredump"))
			snprintf(dir, len, "/var/lib/systemd/coredump");
		else if (strstr(pat, "apport"))
			snprintf(dir, len, "/var/crash");
		else if (strstr(pat, "abrt"))
			snprintf(dir, len, "/var/spool/abrt");
		return;
	}
	slash = strrchr(pat, '/');
	if (pat[0] != '/' || !slash)
		return; /* relative: the crashing process's working directory */
	snprintf(dir, len, "%.*s", (int)(slash - pat), pat);
	if (strchr(dir, '%') || !dir[0])
		dir[0] = 0; /* a directory per process: not one lymph can list */
}

/* Read the PT_NOTE segment of an ELF core: 0 or -errno. */
static int read_core(int fd, struct core_info *ci)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int i;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_type != ET_CORE || eh.e_phentsize != sizeof(ph))
		return -EINVAL;
	for (i = 0; i < eh.e_phnum && i < 65536; i++) {
		void *buf;
		int err;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			return -EIO;
		if (ph.p_type != PT_NOTE)
			continue;
		if (ph.p_filesz > NOTES_MAX || !(buf = malloc(ph.p_filesz)))
			return -EFBIG;
		if (pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) {
			free(buf);
			return -EIO;
		}
		err = coresig_parse_notes(buf, ph.p_filesz, ci);
		free(buf);
		return err;
	}
	return -ENOENT;
}

/* An artifact lymph cannot read: the binary from its name
 * (systemd-coredump: core.COMM.UID.BOOT.PID.TIME.zst; apport:
 * _usr_bin_foo.UID.crash). */
static void binary_from_name(const char *name, char *out, size_t len)
{
	const char *dot;

	if (!strncmp(name, "core.", 5) && (dot = strchr(name + 5, '.'))) {
		snprintf(out, len, "%.*s", (int)(dot - name - 5), name + 5);
	} else if (name[0] == '_' && (dot = strchr(name, '.'))) {
		size_t i, n = (size_t)(dot - name);

		snprintf(out, len, "%.*s", (int)n, name);
		for (i = 0; out[i]; i++)
			if (out[i] == '_')
				out[i] = '/';
	} else {
		snprintf(out, len, "%s", name);
	}
}

static int is_artifact(const char *name, int any_core)
{
	size_t n = strlen(name);

	if (!strcmp(name, "core") || !strncmp(name, "core.", 5) ||
	    !strncmp(name, COREH_PREFIX, strlen(COREH_PREFIX)))
		return 1;
	return any_core && n > 6 && !strcmp(name + n - 6, ".crash");
}

static struct core_sig *sig_get(struct cores *c, uint64_t sig, const char *key, const char *binary,
				const char *label)
{
	struct core_sig *g;
	size_t i;

	for (i = 0; i < c->n_sig; i++)
		if (c->sig[i].sig == sig && !strcmp(c->sig[i].key, key))
			return &c->sig[i];
	g = realloc(c->sig, (c->n_sig + 1) * sizeof(*g));
	if (!g)
		return NULL;
	c->sig = g;
	memset(&g[c->n_sig], 0, sizeof(*g));
	g[c->n_sig].sig = sig;
	snprintf(g[c->n_sig].key, sizeof(g->key), "%s", key);
	snprintf(g[c->n_sig].binary, sizeof(g->binary), "%s", binary);
	snprintf(g[c->n_sig].label, sizeof(g->label), "%s", label);
	return &g[c->n_sig++];
}

void cores_binary_key(const char *exe, char *key, size_t len)
{
	struct stat st;

	if (exe[0] == '/' && !stat(exe, &st))
		snprintf(key, len, "ino:%llx:%llx", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
	else
		snprintf(key, len, "path:%s", exe);
}

int cores_artifact_meta(int fd, const char *name, char *exe, size_t elen, int *signo)
{
	size_t n = strlen(name);
	char buf[512];
	ssize_t l;

	exe[0] = 0;
	*signo = 0;
	if (n > 6 && !strcmp(name + n - 6, ".crash")) {
		/* apport: "Key: value" lines, the text fields before the
		 * binary ones (CoreDump), so the head is enough */
		FILE *f = fdopen(dup(fd), "re");
		char line[4096];
		int lines = 0;

		if (!f)
			return -errno;
		while (fgets(line, sizeof(line), f) && lines++ < 4096) {
			line[strcspn(line, "\n")] = 0;
			if (!strncmp(line, "ExecutablePath: ", 16))
				snprintf(exe, elen, "%s", line + 16);
			else if (!strncmp(line, "Signal: ", 8))
				*signo = atoi(line + 8);
			else if (!strncmp(line, "CoreDump:", 9))
				break;
		}
		fclose(f);
		return exe[0] ? 0 : -ENOENT;
	}
	/* systemd-coredump: COMM in the name is 15 bytes of a name; the
	 * executable's path is in an extended attribute */
	l = fgetxattr(fd, "user.coredump.exe", exe, elen - 1);
	if (l <= 0) {
		exe[0] = 0;
		return -ENOENT;
	}
	exe[l] = 0;
	l = fgetxattr(fd, "user.coredump.signal", buf, sizeof(buf) - 1);
	if (l > 0) {
		buf[l] = 0;
		*signo = atoi(buf);
	}
	return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

/* The binary, key, signature and label of a new artifact. */
static void identify(struct core_file *f, int fd, const char *name, char *label, size_t llen)
{
	struct core_info ci;
	char exe[PATH_MAX];
	int signo;

	if (!strncmp(name, COREH_PREFIX, strlen(COREH_PREFIX))) {
		int pid;

		f->store = 1;
		if (!corehandler_parse_name(name, f->key, sizeof(f->key), &f->sig, &pid)) {
			if (fd >= 0 && !corehandler_read_meta(fd, exe, sizeof(exe), label, llen) &&
			    exe[0])
				snprintf(f->binary, sizeof(f->binary), "%.255s", exe);
			else
				binary_from_name(name, f->binary, sizeof(f->binary));
			if (!label[0])
				snprintf(label, llen, "unknown");
			return;
		}
	}
	if (fd >= 0 && !read_core(fd, &ci)) {
		f->sig = ci.sig;
		snprintf(f->binary, sizeof(f->binary), "%s", ci.exe[0] ? ci.exe : ci.comm);
		coresig_label(&ci, label, llen);
		cores_binary_key(f->binary, f->key, sizeof(f->key));
		return;
	}
	if (fd >= 0 && !cores_artifact_meta(fd, name, exe, sizeof(exe), &signo)) {
		/* no location to go by: the binary and the signal */
		snprintf(f->binary, sizeof(f->binary), "%.255s", exe);
		f->sig = fnv(fnv(0xcbf29ce484222325ULL, exe, strlen(exe)), &signo, sizeof(signo)) |
			 1;
		snprintf(label, llen, "%s (%s)",
			 sigabbrev_np(signo) ? sigabbrev_np(signo) : "signal ?",
			 strstr(name, ".crash") ? "apport report" : "systemd-coredump");
		cores_binary_key(exe, f->key, sizeof(f->key));
		return;
	}
	binary_from_name(name, f->binary, sizeof(f->binary));
	snprintf(f->key, sizeof(f->key), "name:%s", f->binary);
}

static void count(struct cores *c, const struct core_file *f, const char *label, uint64_t when)
{
	struct core_sig *s = sig_get(c, f->sig, f->key, f->binary, label);

	if (!s)
		return;
	s->count++;
	if (!s->first || when < s->first)
		s->first = when;
	if (when > s->last)
		s->last = when;
	c->dirty = 1;
}

static void scan_dir(struct cores *c, const char *dir, int any_core)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX], label[320] = "unknown: not an ELF core lymph can read";
		struct core_file *f = NULL, *g;
		struct stat st;
		uint64_t mtime;
		size_t i;
		int fd;

		if (!is_artifact(de->d_name, any_core))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
			    sizeof(path) ||
		    lstat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
		for (i = 0; i < c->n_f; i++)
			if (c->f[i].dev == st.st_dev && c->f[i].ino == st.st_ino &&
			    c->f[i].mtime == mtime)
				f = &c->f[i];
		if (f) {
			f->seen = c->gen;
			f->bytes = (uint64_t)st.st_blocks * 512;
			continue;
		}
		/* a new artifact: its signature */
		g = realloc(c->f, (c->n_f + 1) * sizeof(*g));
		if (!g)
			break;
		c->f = g;
		f = &g[c->n_f];
		memset(f, 0, sizeof(*f));
		f->path = strdup(path);
		if (!f->path)
			break;
		c->n_f++;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->mtime = mtime;
		f->bytes = (uint64_t)st.st_blocks * 512;
		f->seen = c->gen;
		label[0] = 0;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		identify(f, fd, de->d_name, label, sizeof(label));
		if (fd >= 0)
			close(fd);
		if (!label[0])
			snprintf(label, sizeof(label), "unknown: not an ELF core lymph can read");
		c->dirty = 1;
		if (f->store) /* counted from the handler's log */
			sig_get(c, f->sig, f->key, f->binary, label);
		else
			count(c, f, label, mtime);
	}
	closedir(d);
}

/* The crashes the core handler saw since the last read: counted,
 * journaled, and the log emptied (under the store's lock). */
static void read_handler_log(struct cores *c, int dfd, struct journal *j)
{
	char *buf;
	struct stat st;
	ssize_t n;
	int fd = openat(dfd, COREH_LOG, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return;
	if (fstat(fd, &st) || !st.st_size || st.st_size > 2 * COREH_LOG_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return;
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n == st.st_size && !ftruncate(fd, 0)) {
		char *line, *save = NULL;

		buf[n] = 0;
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			struct json_object *o = json_tokener_parse(line), *v;
			struct core_file f;
			const char *label = "unknown";
			uint64_t when = 0;

			if (!o)
				continue;
			memset(&f, 0, sizeof(f));
			if (json_object_object_get_ex(o, "signature", &v))
				f.sig = strtoull(json_object_get_string(v), NULL, 16);
			if (json_object_object_get_ex(o, "binary_key", &v))
				snprintf(f.key, sizeof(f.key), "%s", json_object_get_string(v));
			if (json_object_object_get_ex(o, "exe", &v))
				snprintf(f.binary, sizeof(f.binary), "%s",
					 json_object_get_string(v));
			if (json_object_object_get_ex(o, "label", &v))
				label = json_object_get_string(v);
			if (json_object_object_get_ex(o, "time_ns", &v))
				when = (uint64_t)json_object_get_int64(v);
			if (!f.binary[0])
				snprintf(f.binary, sizeof(f.binary), "?");
			count(c, &f, label, when);
			c->handled++;
			if (!json_object_object_get_ex(o, "kept", &v) || !v)
				c->dropped++;
			json_object_object_add(o, "type", json_object_new_string("phagocyte"));
			json_object_object_add(o, "action", json_object_new_string("core-handled"));
			if (j && journal_append(j, o))
				fprintf(stderr,
					"lymphd: failed to write the journal (core-handled): %s\n",
					strerror(errno));
			if (!j)
				json_object_put(o);
		}
	}
	free(buf);
	close(fd);
}

static int remove_same(const struct core_file *f)
{
	struct stat st;

	if (lstat(f->path, &st))
		return -errno;
	if (st.st_dev != f->dev || st.st_ino != f->ino)
		return -ESTALE;
	return unlink(f->path) ? -errno : 0;
}

static void journal_removal(struct journal *j, const struct core_file *f, const char *why,
			    int enforce, const char *result, const struct core_sig *s)
{
	struct json_object *rec = json_object_new_object();
	char sig[32];

	snprintf(sig, sizeof(sig), "%016llx", (unsigned long long)f->sig);
	json_object_object_add(rec, "type", json_object_new_string("phagocyte"));
	json_object_object_add(
		rec, "action",
		json_object_new_string(enforce ? "core-removed" : "core-would-remove"));
	json_object_object_add(rec, "mode",
			       json_object_new_string(enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "path", json_object_new_string(f->path));
	json_object_object_add(rec, "binary", json_object_new_string(f->binary));
	json_object_object_add(rec, "signature", json_object_new_string(sig));
	if (s)
		json_object_object_add(rec, "label", json_object_new_string(s->label));
	json_object_object_add(rec, "bytes", json_object_new_uint64(f->bytes));
	json_object_object_add(rec, "why", json_object_new_string(why));
	json_object_object_add(rec, "result", json_object_new_string(result));
	fprintf(stderr, "lymphd: phagocyte: %s %s (%s; %s)\n",
		enforce ? "core-removed" : "core-would-remove", f->path, why, result);
	if (j && journal_append(j, rec))
		fprintf(stderr, "lymphd: failed to write the journal (core %s): %s\n", f->path,
			strerror(errno));
	if (!j)
		json_object_put(rec);
}

/* Drop the artifacts not seen in this generation. */
static void sweep(struct cores *c)
{
	size_t i, k;

	for (i = k = 0; i < c->n_f; i++) {
		if (c->f[i].seen == c->gen)
			c->f[k++] = c->f[i];
		else {
			free(c->f[i].path);
			c->dirty = 1;
		}
	}
	c->n_f = k;
}

void cores_tick(struct cores *c, const struct policy *p, struct journal *j, int enforce,
		uint64_t now)
{
	const struct phagocyte_conf *pc = &p->phago;
	const char *store = pc->core_handler
				    ? (pc->core_store ? pc->core_store : COREH_STORE_DEFAULT)
				    : NULL;
	struct core_art *a;
	char pat[512] = "";
	int sfd = -1, store_busy = 0;
	size_t i, k;
	FILE *fp;

	if (!pc->cores || now < c->next)
		return;
	c->next = now + pc->core_interval;
	c->gen++;
	fp = fopen("/proc/sys/kernel/core_pattern", "re");
	if (fp) {
		if (fgets(pat, sizeof(pat), fp))
			pat[strcspn(pat, "\n")] = 0;
		fclose(fp);
	}
	cores_pattern_dir(pat, c->pattern_dir, sizeof(c->pattern_dir));
	for (i = 0; i < p->n_services; i++)
		if (p->services[i].workdir)
			scan_dir(c, p->services[i].workdir, 0);
	if (c->pattern_dir[0] && (!store || strcmp(c->pattern_dir, store)))
		scan_dir(c, c->pattern_dir, 1);
	for (i = 0; i < pc->n_core_dirs; i++)
		scan_dir(c, pc->core_dirs[i], 1);
	/* the handler's store, under its lock: a handler at work is never
	 * waited for (its artifacts are taken at the next scan) */
	if (store && (sfd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (flock(sfd, LOCK_EX | LOCK_NB)) {
			store_busy = 1;
			for (i = 0; i < c->n_f; i++)
				if (c->f[i].store)
					c->f[i].seen = c->gen; /* as they were */
		} else {
			read_handler_log(c, sfd, j);
			scan_dir(c, store, 1);
		}
	}
	sweep(c);
	if (!c->n_f)
		goto out;
	a = calloc(c->n_f, sizeof(*a));
	if (!a)
		goto out;
	for (i = 0; i < c->n_f; i++)
		a[i] = (struct core_art){ .binary = c->f[i].key,
					  .sig = c->f[i].sig,
					  .mtime = c->f[i].mtime,
					  .bytes = c->f[i].bytes };
	cores_plan(a, c->n_f, pc->core_budget_per_binary, pc->core_budget_total,
		   pc->core_keep_first);
	for (i = 0; i < c->n_f; i++) {
		struct core_file *f = &c->f[i];
		struct core_sig *s = NULL;
		char result[160] = "ok";

		if (a[i].keep || (f->store && store_busy))
			continue;
		for (k = 0; k < c->n_sig; k++)
			if (c->sig[k].sig == f->sig && !strcmp(c->sig[k].key, f->key))
				s = &c->sig[k];
		if (!enforce) {
			if (f->journaled)
				continue;
			f->journaled = 1;
			journal_removal(j, f, a[i].why, 0, "observe mode: would remove", s);
			continue;
		}
		{
			int err = remove_same(f);

			if (err) {
				snprintf(result, sizeof(result), "error: failed to remove it: %s",
					 strerror(-err));
			} else {
				c->removed++;
				c->removed_bytes += f->bytes;
				f->seen = c->gen - 1; /* gone: dropped below */
			}
		}
		journal_removal(j, f, a[i].why, 1, result, s);
	}
	free(a);
	sweep(c);
out:
	if (sfd >= 0)
		close(sfd); /* drops the lock */
	if (c->dirty)
		cores_save(c);
}

/* ---- persistence ------------------------------------------------------------------ */

int cores_save(struct cores *c)
{
	struct json_object *o, *sigs, *files;
	const char *text;
	size_t i;
	char hex[32];
	int err;

	if (!c->state[0])
		return 0;
	o = json_object_new_object();
	sigs = json_object_new_array();
	files = json_object_new_array();
	for (i = 0; i < c->n_sig; i++) {
		struct json_object *e = json_object_new_object();

		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)c->sig[i].sig);
		json_object_object_add(e, "signature", json_object_new_string(hex));
		json_object_object_add(e, "key", json_object_new_string(c->sig[i].key));
		json_object_object_add(e, "binary", json_object_new_string(c->sig[i].binary));
		json_object_object_add(e, "label", json_object_new_string(c->sig[i].label));
		json_object_object_add(e, "count", json_object_new_int64(c->sig[i].count));
		json_object_object_add(e, "first", json_object_new_uint64(c->sig[i].first));
		json_object_object_add(e, "last", json_object_new_uint64(c->sig[i].last));
		json_object_array_add(sigs, e);
	}
	for (i = 0; i < c->n_f; i++) {
		struct json_object *e = json_object_new_object();

		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)c->f[i].sig);
		json_object_object_add(e, "path", json_object_new_string(c->f[i].path));
		json_object_object_add(e, "dev", json_object_new_uint64(c->f[i].dev));
		json_object_object_add(e, "ino", json_object_new_uint64(c->f[i].ino));
		json_object_object_add(e, "mtime", json_object_new_uint64(c->f[i].mtime));
		json_object_object_add(e, "bytes", json_object_new_uint64(c->f[i].bytes));
		json_object_object_add(e, "signature", json_object_new_string(hex));
		json_object_object_add(e, "key", json_object_new_string(c->f[i].key));
		json_object_object_add(e, "binary", json_object_new_string(c->f[i].binary));
		json_object_object_add(e, "store", json_object_new_boolean(c->f[i].store));
		json_object_array_add(files, e);
	}
	json_object_object_add(o, "signatures", sigs);
	json_object_object_add(o, "artifacts", files);
	json_object_object_add(o, "removed", json_object_new_uint64(c->removed));
	json_object_object_add(o, "removed_bytes", json_object_new_uint64(c->removed_bytes));
	json_object_object_add(o, "handled", json_object_new_uint64(c->handled));
	json_object_object_add(o, "dropped", json_object_new_uint64(c->dropped));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	err = atomic_write(c->state, 0600, text, strlen(text));
	json_object_put(o);
	if (err)
		fprintf(stderr,
			"lymphd: failed to save the crash signatures in %s: %s; they are kept in memory\n",
			c->state, strerror(-err));
	else
		c->dirty = 0;
	return err;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "";
}

static uint64_t ju64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? (uint64_t)json_object_get_uint64(v) : 0;
}

int cores_load(struct cores *c, const char *state_path)
{
	struct json_object *o, *arr;
	size_t i, n;

	snprintf(c->state, sizeof(c->state), "%s", state_path);
	o = json_object_from_file(state_path);
	if (!o)
		return access(state_path, F_OK) ? -ENOENT : -EINVAL;
	if (json_object_object_get_ex(o, "signatures", &arr) &&
	    (n = json_object_array_length(arr)) && (c->sig = calloc(n, sizeof(*c->sig)))) {
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(arr, i);
			struct core_sig *s = &c->sig[c->n_sig++];

			s->sig = strtoull(jstr(e, "signature"), NULL, 16);
			snprintf(s->key, sizeof(s->key), "%s", jstr(e, "key"));
			snprintf(s->binary, sizeof(s->binary), "%s", jstr(e, "binary"));
			snprintf(s->label, sizeof(s->label), "%s", jstr(e, "label"));
			s->count = (uint32_t)ju64(e, "count");
			s->first = ju64(e, "first");
			s->last = ju64(e, "last");
		}
	}
	if (json_object_object_get_ex(o, "artifacts", &arr) &&
	    (n = json_object_array_length(arr)) && (c->f = calloc(n, sizeof(*c->f)))) {
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(arr, i), *v;
			struct core_file *f = &c->f[c->n_f];

			f->path = strdup(jstr(e, "path"));
			if (!f->path)
				break;
			f->dev = (dev_t)ju64(e, "dev");
			f->ino = (ino_t)ju64(e, "ino");
			f->mtime = ju64(e, "mtime");
			f->bytes = ju64(e, "bytes");
			f->sig = strtoull(jstr(e, "signature"), NULL, 16);
			snprintf(f->key, sizeof(f->key), "%s", jstr(e, "key"));
			snprintf(f->binary, sizeof(f->binary), "%s", jstr(e, "binary"));
			f->store = json_object_object_get_ex(e, "store", &v) &&
				   json_object_get_boolean(v);
			c->n_f++;
		}
	}
	c->removed = ju64(o, "removed");
	c->removed_bytes = ju64(o, "removed_bytes");
	c->handled = ju64(o, "handled");
	c->dropped = ju64(o, "dropped");
	json_object_put(o);
	return 0;
}

struct json_object *cores_json(const struct cores *c, const struct policy *p)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	uint64_t total = 0;
	size_t i, k;

	for (i = 0; i < c->n_sig; i++) {
		const struct core_sig *s = &c->sig[i];
		struct json_object *e = json_object_new_object(), *kept = json_object_new_array();
		char sig[32];

		snprintf(sig, sizeof(sig), "%016llx", (unsigned long long)s->sig);
		json_object_object_add(e, "binary", json_object_new_string(s->binary));
		json_object_object_add(e, "binary_key", json_object_new_string(s->key));
		json_object_object_add(e, "signature", json_object_new_string(sig));
		json_object_object_add(e, "label", json_object_new_string(s->label));
		json_object_object_add(e, "count", json_object_new_int64(s->count));
		json_object_object_add(e, "first", json_object_new_double((double)s->first / 1e9));
		json_object_object_add(e, "last", json_object_new_double((double)s->last / 1e9));
		for (k = 0; k < c->n_f; k++)
			if (c->f[k].sig == s->sig && !strcmp(c->f[k].key, s->key))
				json_object_array_add(kept, json_object_new_string(c->f[k].path));
		json_object_object_add(e, "kept", kept);
		json_object_array_add(arr, e);
	}
	for (k = 0; k < c->n_f; k++)
		total += c->f[k].bytes;
	json_object_object_add(o, "signatures", arr);
	json_object_object_add(o, "artifacts", json_object_new_int64((int64_t)c->n_f));
	json_object_object_add(o, "bytes", json_object_new_uint64(total));
	json_object_object_add(o, "budget_per_binary",
			       json_object_new_uint64(p->phago.core_budget_per_binary));
	json_object_object_add(o, "budget_total",
			       json_object_new_uint64(p->phago.core_budget_total));
	json_object_object_add(o, "removed", json_object_new_uint64(c->removed));
	json_object_object_add(o, "removed_bytes", json_object_new_uint64(c->removed_bytes));
	json_object_object_add(o, "handled", json_object_new_uint64(c->handled));
	json_object_object_add(o, "dropped", json_object_new_uint64(c->dropped));
	json_object_object_add(o, "pattern_dir",
			       c->pattern_dir[0] ? json_object_new_string(c->pattern_dir) : NULL);
	return o;
}
