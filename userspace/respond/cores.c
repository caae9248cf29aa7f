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
#include <sys/stat.h>
#include <json-c/json.h>
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
		if (strstr(pat, "systemd-coredump"))
			snprintf(dir, len, "/var/lib/systemd/coredump");
		else if (strstr(pat, "apport"))
			snprintf(dir, len, "/var/crash");
		else if (strstr(pat, "abrt"))
			snprintf(dir, len, "/var/spool/abrt");
		return;
	}
	slash = strrchr(pat, '/');
	if (pat[0] != '/' || !slash)
		return;		/* relative: the crashing process's working directory */
	snprintf(dir, len, "%.*s", (int)(slash - pat), pat);
	if (strchr(dir, '%') || !dir[0])
		dir[0] = 0;	/* a directory per process: not one lymph can list */
}

/* Read the PT_NOTE segment of an ELF core: 0 or -errno. */
static int read_core(int fd, struct core_info *ci)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int i;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_CORE || eh.e_phentsize != sizeof(ph))
		return -EINVAL;
	for (i = 0; i < eh.e_phnum && i < 65536; i++) {
		void *buf;
		int err;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) != (ssize_t)sizeof(ph))
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

	if (!strcmp(name, "core") || !strncmp(name, "core.", 5))
		return 1;
	return any_core && n > 6 && !strcmp(name + n - 6, ".crash");
}

static struct core_sig *sig_get(struct cores *c, uint64_t sig, const char *binary, const char *label)
{
	struct core_sig *g;
	size_t i;

	for (i = 0; i < c->n_sig; i++)
		if (c->sig[i].sig == sig && !strcmp(c->sig[i].binary, binary))
			return &c->sig[i];
	g = realloc(c->sig, (c->n_sig + 1) * sizeof(*g));
	if (!g)
		return NULL;
	c->sig = g;
	memset(&g[c->n_sig], 0, sizeof(*g));
	g[c->n_sig].sig = sig;
	snprintf(g[c->n_sig].binary, sizeof(g->binary), "%s", binary);
	snprintf(g[c->n_sig].label, sizeof(g->label), "%s", label);
	return &g[c->n_sig++];
}

static void scan_dir(struct cores *c, const char *dir, int any_core)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX], label[320] = "unknown: not an ELF core lymph can read";
		struct core_info ci;
		struct core_file *f = NULL, *g;
		struct core_sig *s;
		struct stat st;
		uint64_t mtime;
		size_t i;
		int fd;

		if (!is_artifact(de->d_name, any_core))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) ||
		    lstat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
		for (i = 0; i < c->n_f; i++)
			if (c->f[i].dev == st.st_dev && c->f[i].ino == st.st_ino && c->f[i].mtime == mtime)
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
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0 && !read_core(fd, &ci)) {
			f->sig = ci.sig;
			snprintf(f->binary, sizeof(f->binary), "%s", ci.exe[0] ? ci.exe : ci.comm);
			coresig_label(&ci, label, sizeof(label));
		} else {
			binary_from_name(de->d_name, f->binary, sizeof(f->binary));
		}
		if (fd >= 0)
			close(fd);
		s = sig_get(c, f->sig, f->binary, label);
		if (s) {
			s->count++;
			if (!s->first || mtime < s->first)
				s->first = mtime;
			if (mtime > s->last)
				s->last = mtime;
		}
	}
	closedir(d);
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

static void journal_removal(struct journal *j, const struct core_file *f, const char *why, int enforce,
			    const char *result, const struct core_sig *s)
{
	struct json_object *rec = json_object_new_object();
	char sig[32];

	snprintf(sig, sizeof(sig), "%016llx", (unsigned long long)f->sig);
	json_object_object_add(rec, "type", json_object_new_string("phagocyte"));
	json_object_object_add(rec, "action", json_object_new_string(enforce ? "core-removed" : "core-would-remove"));
	json_object_object_add(rec, "mode", json_object_new_string(enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "path", json_object_new_string(f->path));
	json_object_object_add(rec, "binary", json_object_new_string(f->binary));
	json_object_object_add(rec, "signature", json_object_new_string(sig));
	if (s)
		json_object_object_add(rec, "label", json_object_new_string(s->label));
	json_object_object_add(rec, "bytes", json_object_new_uint64(f->bytes));
	json_object_object_add(rec, "why", json_object_new_string(why));
	json_object_object_add(rec, "result", json_object_new_string(result));
	fprintf(stderr, "lymphd: phagocyte: %s %s (%s; %s)\n", enforce ? "core-removed" : "core-would-remove",
		f->path, why, result);
	if (j && journal_append(j, rec))
		fprintf(stderr, "lymphd: failed to write the journal (core %s): %s\n", f->path, strerror(errno));
	if (!j)
		json_object_put(rec);
}

void cores_tick(struct cores *c, const struct policy *p, struct journal *j, int enforce, uint64_t now)
{
	const struct phagocyte_conf *pc = &p->phago;
	struct core_art *a;
	char pat[512] = "";
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
	if (c->pattern_dir[0])
		scan_dir(c, c->pattern_dir, 1);
	for (i = 0; i < pc->n_core_dirs; i++)
		scan_dir(c, pc->core_dirs[i], 1);
	/* gone since (removed by someone, or by us) */
	for (i = k = 0; i < c->n_f; i++) {
		if (c->f[i].seen == c->gen)
			c->f[k++] = c->f[i];
		else
			free(c->f[i].path);
	}
	c->n_f = k;
	if (!c->n_f)
		return;
	a = calloc(c->n_f, sizeof(*a));
	if (!a)
		return;
	for (i = 0; i < c->n_f; i++)
		a[i] = (struct core_art){ .binary = c->f[i].binary, .sig = c->f[i].sig,
					  .mtime = c->f[i].mtime, .bytes = c->f[i].bytes };
	cores_plan(a, c->n_f, pc->core_budget_per_binary, pc->core_budget_total, pc->core_keep_first);
	for (i = 0; i < c->n_f; i++) {
		struct core_file *f = &c->f[i];
		struct core_sig *s = NULL;
		char result[160] = "ok";

		if (a[i].keep)
			continue;
		for (k = 0; k < c->n_sig; k++)
			if (c->sig[k].sig == f->sig && !strcmp(c->sig[k].binary, f->binary))
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
				snprintf(result, sizeof(result), "error: failed to remove it: %s", strerror(-err));
			} else {
				c->removed++;
				c->removed_bytes += f->bytes;
				f->seen = c->gen - 1;	/* gone: dropped below */
			}
		}
		journal_removal(j, f, a[i].why, 1, result, s);
	}
	free(a);
	for (i = k = 0; i < c->n_f; i++) {
		if (c->f[i].seen == c->gen)
			c->f[k++] = c->f[i];
		else
			free(c->f[i].path);
	}
	c->n_f = k;
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
		json_object_object_add(e, "signature", json_object_new_string(sig));
		json_object_object_add(e, "label", json_object_new_string(s->label));
		json_object_object_add(e, "count", json_object_new_int64(s->count));
		json_object_object_add(e, "first", json_object_new_double((double)s->first / 1e9));
		json_object_object_add(e, "last", json_object_new_double((double)s->last / 1e9));
		for (k = 0; k < c->n_f; k++)
			if (c->f[k].sig == s->sig && !strcmp(c->f[k].binary, s->binary))
				json_object_array_add(kept, json_object_new_string(c->f[k].path));
		json_object_object_add(e, "kept", kept);
		json_object_array_add(arr, e);
	}
	for (k = 0; k < c->n_f; k++)
		total += c->f[k].bytes;
	json_object_object_add(o, "signatures", arr);
	json_object_object_add(o, "artifacts", json_object_new_int64((int64_t)c->n_f));
	json_object_object_add(o, "bytes", json_object_new_uint64(total));
	json_object_object_add(o, "budget_per_binary", json_object_new_uint64(p->phago.core_budget_per_binary));
	json_object_object_add(o, "budget_total", json_object_new_uint64(p->phago.core_budget_total));
	json_object_object_add(o, "removed", json_object_new_uint64(c->removed));
	json_object_object_add(o, "removed_bytes", json_object_new_uint64(c->removed_bytes));
	json_object_object_add(o, "pattern_dir", c->pattern_dir[0] ? json_object_new_string(c->pattern_dir) : NULL);
	return o;
}
