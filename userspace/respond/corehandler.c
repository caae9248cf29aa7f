// SPDX-License-Identifier: GPL-2.0-only
/* lymph as the kernel's core dump handler (corehandler.h). */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include <zlib.h>
#include "atomic_file.h"
#include "coresig.h"
#include "corehandler.h"
#include "smallfile.h"

#define HEAD_MAX (8U << 20) /* ELF header, program headers and notes */
#define CHUNK	 (64U << 10)
#define BLOCK	 4096ULL

const char *corehandler_pattern_path = "/proc/sys/kernel/core_pattern";

/* ---- names and metadata ------------------------------------------------------- */

int corehandler_pattern(const char *self_exe, const char *store, char *buf, size_t len)
{
	/* %c, the crashing task's RLIMIT_CORE: the kernel ignores it for a
	 * pipe, so the handler honours a process's "no core" itself */
	int n = snprintf(buf, len, "|%s --core-handler %s %%P %%s %%t %%c", self_exe, store);

	/* the kernel keeps 127 bytes (CORENAME_MAX_SIZE) and splits on spaces */
	if (n < 0 || (size_t)n >= len || n > 127 || strchr(self_exe, ' ') || strchr(store, ' '))
		return -ENAMETOOLONG;
	return 0;
}

int corehandler_parse_name(const char *name, char *key, size_t klen, uint64_t *sig, int *pid)
{
	unsigned long long dev, ino, s, sec;
	int p, used = 0;
	size_t n = strlen(name);

	if (strncmp(name, COREH_PREFIX, strlen(COREH_PREFIX)) || n < 4 ||
	    strcmp(name + n - 3, ".gz"))
		return -EINVAL;
	if (sscanf(name + strlen(COREH_PREFIX), "%llx-%llx.%llx.%llu.%d.%n", &dev, &ino, &s, &sec,
		   &p, &used) != 5 ||
	    !used)
		return -EINVAL;
	snprintf(key, klen, "ino:%llx:%llx", dev, ino);
	*sig = s;
	*pid = p;
	return 0;
}

int corehandler_read_meta(int fd, char *exe, size_t elen, char *label, size_t llen)
{
	unsigned char b[8192];
	struct json_object *o, *v;
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);
	size_t i = 10;

	exe[0] = label[0] = 0;
	if (n < 10 || b[0] != 0x1f || b[1] != 0x8b || b[2] != 8)
		return -EINVAL;
	b[n] = 0;
	if (b[3] & 4) { /* FEXTRA */
		if ((size_t)n < i + 2)
			return -EINVAL;
		i += 2 + (size_t)(b[i] | b[i + 1] << 8);
	}
	if ((b[3] & 8) && i < (size_t)n) /* FNAME */
		i += strlen((char *)b + i) + 1;
	if (!(b[3] & 16) || i >= (size_t)n) /* FCOMMENT */
		return -ENOENT;
	o = json_tokener_parse((char *)b + i);
	if (!o)
		return -EINVAL;
	if (json_object_object_get_ex(o, "exe", &v))
		snprintf(exe, elen, "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "label", &v))
		snprintf(label, llen, "%s", json_object_get_string(v));
	json_object_put(o);
	return 0;
}

/* ---- install and restore ------------------------------------------------------ */

/* Its first line. */
static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n = small_file_read(path, 0, buf, len);

	if (n < 0)
		return (int)n;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int write_pattern(const char *pat)
{
	int fd = open(corehandler_pattern_path, O_WRONLY | O_TRUNC | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, pat, strlen(pat)) != (ssize_t)strlen(pat))
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

static void jrec(struct journal *j, const char *action, int enforce, const char *prev,
		 const char *pat, const char *why, const char *result)
{
	struct json_object *rec = json_object_new_object();

	json_object_object_add(rec, "type", json_object_new_string("phagocyte"));
	json_object_object_add(rec, "action", json_object_new_string(action));
	json_object_object_add(rec, "mode",
			       json_object_new_string(enforce ? "enforce" : "observe"));
	if (prev)
		json_object_object_add(rec, "previous_pattern", json_object_new_string(prev));
	if (pat)
		json_object_object_add(rec, "pattern", json_object_new_string(pat));
	if (why)
		json_object_object_add(rec, "why", json_object_new_string(why));
	json_object_object_add(rec, "result", json_object_new_string(result));
	fprintf(stderr, "lymphd: phagocyte: %s %s (%s)\n", action,
		pat    ? pat
		: prev ? prev
		       : "",
		result);
	if (j && journal_append(j, rec))
		fprintf(stderr, "lymphd: failed to write the journal (%s): %s\n", action,
			strerror(errno));
	if (!j)
		json_object_put(rec);
}

/* Write the saved pattern back if ours is still the one in force. */
static void restore(struct corehandler *h, struct journal *j, const char *why)
{
	char cur[256] = "", prev[256] = "", res[200];
	int err;

	if (read_text(h->saved, prev, sizeof(prev)))
		return; /* nothing saved: nothing of ours to undo */
	read_text(corehandler_pattern_path, cur, sizeof(cur));
	if (strncmp(cur, "|", 1) || !strstr(cur, "--core-handler")) {
		/* someone changed it after us: theirs stays */
		snprintf(res, sizeof(res),
			 "left as it is: the pattern was changed by someone else");
		err = 0;
	} else if ((err = write_pattern(prev))) {
		snprintf(res, sizeof(res),
			 "error: failed to write kernel.core_pattern: %s; write it by hand "
			 "(sysctl kernel.core_pattern='%s')",
			 strerror(-err), prev);
	} else {
		snprintf(res, sizeof(res), "ok");
	}
	if (!err && unlink(h->saved) && errno != ENOENT)
		fprintf(stderr, "lymphd: failed to remove %s: %s\n", h->saved, strerror(errno));
	h->installed = 0;
	jrec(j, "core-handler-restored", 1, prev, cur, why, res);
}

void corehandler_uninstall(struct corehandler *h, struct journal *j, const char *why)
{
	if (h->installed)
		restore(h, j, why);
}

static int write_settings(const char *store, const struct phagocyte_conf *pc)
{
	char path[4200], text[200];
	int n = snprintf(text, sizeof(text), "%llu %llu %u %llu\n",
			 (unsigned long long)pc->core_budget_per_binary,
			 (unsigned long long)pc->core_budget_total, pc->core_keep_first,
			 (unsigned long long)(pc->core_handler_timeout / 1000000ULL));

	snprintf(path, sizeof(path), "%s/%s", store, COREH_SETTINGS);
	return atomic_write(path, 0600, text, (size_t)n);
}

int corehandler_apply(struct corehandler *h, const struct phagocyte_conf *pc, const char *state_dir,
		      struct journal *j, int enforce)
{
	char self[PATH_MAX], pat[256], cur[256] = "", res[4400];
	ssize_t n;
	int err;

	const char *store = pc->core_store ? pc->core_store : COREH_STORE_DEFAULT;

	snprintf(h->saved, sizeof(h->saved), "%s/%s", state_dir, COREH_SAVED);
	if (!pc->section || !pc->core_handler) {
		/* off: a pattern of ours (this run's, or a dead lymphd's) goes back */
		if (h->installed || !access(h->saved, F_OK)) {
			h->installed = 1;
			restore(h, j, "core_handler is off");
		}
		return 0;
	}
	snprintf(h->store, sizeof(h->store), "%s", store);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -errno;
	self[n] = 0;
	if (corehandler_pattern(self, store, pat, sizeof(pat))) {
		jrec(j, "core-handler-installed", enforce, NULL, pat, NULL,
		     "error: the pattern is longer than the kernel's 127 bytes or holds a space; choose a shorter core_store");
		return -ENAMETOOLONG;
	}
	read_text(corehandler_pattern_path, cur, sizeof(cur));
	if (!enforce) {
		/* observe mode acts on nothing: a pattern of ours goes back */
		if (h->installed || !access(h->saved, F_OK)) {
			h->installed = 1;
			restore(h, j, "observe mode");
			return 0;
		}
		if (strcmp(cur, pat))
			jrec(j, "core-handler-would-install", 0, cur, pat, NULL,
			     "observe mode: would install");
		return 0;
	}
	if (mkdir(store, 0700) && errno != EEXIST) {
		err = -errno;
		snprintf(res, sizeof(res), "error: failed to create %s: %s", store, strerror(-err));
		jrec(j, "core-handler-installed", 1, cur, pat, NULL, res);
		return err;
	}
	if ((err = write_settings(store, pc))) {
		snprintf(res, sizeof(res), "error: failed to write the settings in %s: %s", store,
			 strerror(-err));
		jrec(j, "core-handler-installed", 1, cur, pat, NULL, res);
		return err;
	}
	if (!strcmp(cur, pat)) {
		h->installed = 1; /* already ours (a reload, or a restart after a crash) */
		snprintf(h->pattern, sizeof(h->pattern), "%s", pat);
		return 0;
	}
	/* The previous pattern is saved before ours is written; a pattern of
	 * an earlier lymph (another path) is not saved over the real one. */
	if (!(cur[0] == '|' && strstr(cur, "--core-handler") && !access(h->saved, F_OK)) &&
	    (err = atomic_write(h->saved, 0600, cur, strlen(cur)))) {
		snprintf(res, sizeof(res),
			 "error: failed to save the previous pattern in %s: %s; not installed",
			 h->saved, strerror(-err));
		jrec(j, "core-handler-installed", 1, cur, pat, NULL, res);
		return err;
	}
	if ((err = write_pattern(pat))) {
		snprintf(res, sizeof(res), "error: failed to write kernel.core_pattern: %s",
			 strerror(-err));
		unlink(h->saved);
		jrec(j, "core-handler-installed", 1, cur, pat, NULL, res);
		return err;
	}
	h->installed = 1;
	snprintf(h->pattern, sizeof(h->pattern), "%s", pat);
	jrec(j, "core-handler-installed", 1, cur, pat, NULL, "ok");
	return 0;
}

/* ---- the handler ----------------------------------------------------------------- */

struct head {
	unsigned char *buf;
	size_t len;
	int eof;
};

static int read_full(int fd, struct head *h, size_t want)
{
	while (h->len < want && !h->eof) {
		ssize_t n = read(fd, h->buf + h->len, want - h->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			h->eof = 1;
		h->len += (size_t)n;
	}
	return h->len >= want ? 0 : -EIO;
}

/* Read the ELF header, the program headers and the notes from stdin into
 * h, and parse the notes: 0 or -errno (h holds what was read either way). */
static int read_head(struct head *h, struct core_info *ci)
{
	Elf64_Ehdr eh;
	uint64_t end, note_off = 0, note_len = 0;
	int i, err;

	if ((err = read_full(0, h, sizeof(eh))))
		return err;
	memcpy(&eh, h->buf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_type != ET_CORE || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == PN_XNUM)
		return -EINVAL;
	end = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (end > HEAD_MAX || (err = read_full(0, h, (size_t)end)))
		return err ? err : -EFBIG;
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, h->buf + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE) {
			note_off = ph.p_offset;
			note_len = ph.p_filesz;
			break;
		}
	}
	if (!note_len || note_off + note_len > HEAD_MAX)
		return -ENOENT;
	if ((err = read_full(0, h, (size_t)(note_off + note_len))))
		return err;
	return coresig_parse_notes(h->buf + note_off, (size_t)note_len, ci);
}

struct stored {
	char name[NAME_MAX + 1];
	char key[64];
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			*s = '_';
}

/* Compress h then the rest of stdin into fd, gzip with comment; stops
 * (-EFBIG) once more than cap bytes would be written.  *out: bytes. */
static int compress_to(int fd, struct head *h, const char *comment, uint64_t cap, uint64_t *out,
		       uint64_t *in)
{
	static unsigned char ibuf[CHUNK], obuf[CHUNK];
	gz_header gh;
	z_stream zs;
	int err = 0, flush = Z_NO_FLUSH, first = 1;

	memset(&zs, 0, sizeof(zs));
	memset(&gh, 0, sizeof(gh));
	*out = *in = 0;
	if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	gh.comment = (Bytef *)comment;
	gh.os = 3; /* Unix */
	deflateSetHeader(&zs, &gh);
	for (;;) {
		if (first) {
			zs.next_in = h->buf;
			zs.avail_in = (uInt)h->len;
			first = 0;
			if (h->eof)
				flush = Z_FINISH;
		} else {
			ssize_t n = read(0, ibuf, sizeof(ibuf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				err = -errno;
				break;
			}
			zs.next_in = ibuf;
			zs.avail_in = (uInt)n;
			if (n == 0)
				flush = Z_FINISH;
		}
		*in += zs.avail_in;
		do {
			size_t have;
			int r;

			zs.next_out = obuf;
			zs.avail_out = sizeof(obuf);
			r = deflate(&zs, flush);
			if (r == Z_STREAM_ERROR) {
				err = -EIO;
				break;
			}
			have = sizeof(obuf) - zs.avail_out;
			if (*out + have > cap) {
				err = -EFBIG;
				break;
			}
			if (have && (err = write_all(fd, obuf, have)))
				break;
			*out += have;
		} while (zs.avail_out == 0);
		if (err || flush == Z_FINISH)
			break;
	}
	deflateEnd(&zs);
	return err;
}

static void append_log(int dfd, struct json_object *line)
{
	const char *s = json_object_to_json_string_ext(
		line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int fd = openat(dfd, COREH_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			0600);
	struct stat st;

	if (fd < 0)
		return;
	/* bounded: when lymphd does not read it, crashes are no longer
	 * listed, and the disk stays safe */
	if (!fstat(fd, &st) && st.st_size < COREH_LOG_MAX) {
		char *buf = malloc(strlen(s) + 2);

		if (buf) {
			sprintf(buf, "%s\n", s);
			write_all(fd, buf, strlen(buf)); /* one write: lines do not interleave */
			free(buf);
		}
	}
	close(fd);
}

int corehandler_main(int argc, char **argv)
{
	unsigned long long per_binary = 256ULL << 20, total = 1ULL << 30, timeout_ms = 30000;
	unsigned int keep_first = 1;
	char path[PATH_MAX], exe[PATH_MAX] = "", comm[32] = "", key[64],
			     label[320] = "unknown: not an ELF core lymph can read";
	char settings[200], name[NAME_MAX + 1], meta[1024], sighex[32], tmpname[64];
	struct head h = { 0 };
	struct core_info ci;
	struct core_art *a = NULL;
	struct stored *st = NULL;
	struct json_object *line, *removed;
	struct stat sb;
	uint64_t now = wall_ns(), out = 0, in = 0, cap, used_bin = 0, used_all = 0, estimate = 0;
	size_t n = 0, i;
	const char *result = "stored";
	int pid, dfd, fd = -1, have_sig, err, named_tmp = 0, no_core_wanted;
	DIR *d;
	struct dirent *de;
	ssize_t l;

	if (argc < 5) {
		fprintf(stderr,
			"lymphd --core-handler: usage: --core-handler STORE PID SIGNAL TIME [CORE_LIMIT] "
			"(run by the kernel through kernel.core_pattern)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	pid = atoi(argv[2]);
	/* RLIMIT_CORE 0: the process asked for no core (a pattern of an older
	 * lymph passes no limit: stored as before) */
	no_core_wanted = argc > 5 && !strcmp(argv[5], "0");
	/* the identity first: the crashing task waits for us to read its core */
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (!stat(path, &sb))
		snprintf(key, sizeof(key), "ino:%llx:%llx", (unsigned long long)sb.st_dev,
			 (unsigned long long)sb.st_ino);
	else
		key[0] = 0;
	l = readlink(path, exe, sizeof(exe) - 1);
	exe[l > 0 ? l : 0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	read_text(path, comm, sizeof(comm));
	sanitize(comm);
	snprintf(path, sizeof(path), "%s/%s", argv[1], COREH_SETTINGS);
	if (!read_text(path, settings, sizeof(settings)))
		sscanf(settings, "%llu %llu %u %llu", &per_binary, &total, &keep_first,
		       &timeout_ms);
	/* never hold the crashing task longer than this: the alarm ends us,
	 * the kernel's write fails, the task exits */
	alarm((unsigned int)((timeout_ms + 999) / 1000));

	h.buf = malloc(HEAD_MAX);
	if (!h.buf)
		return 1;
	have_sig = !read_head(&h, &ci);
	if (have_sig) {
		coresig_label(&ci, label, sizeof(label));
		if (!exe[0])
			snprintf(exe, sizeof(exe), "%s", ci.exe);
	} else {
		memset(&ci, 0, sizeof(ci));
		ci.signo = atoi(argv[3]);
	}
	if (!key[0])
		snprintf(key, sizeof(key), "ino:0:%llx", (unsigned long long)(ci.sig ? ci.sig : 1));
	snprintf(sighex, sizeof(sighex), "%016llx", (unsigned long long)ci.sig);

	dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX)) {
		fprintf(stderr, "lymphd --core-handler: failed to open the store %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	/* the store as it is, and the new core in the plan */
	d = fdopendir(dup(dfd));
	while (d && (de = readdir(d))) {
		char k[64];
		uint64_t s;
		int p;
		void *g;

		if (corehandler_parse_name(de->d_name, k, sizeof(k), &s, &p) ||
		    fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISREG(sb.st_mode))
			continue;
		if (!(g = realloc(st, (n + 2) * sizeof(*st))))
			break;
		st = g;
		if (!(g = realloc(a, (n + 2) * sizeof(*a))))
			break;
		a = g;
		snprintf(st[n].name, sizeof(st[n].name), "%s", de->d_name);
		snprintf(st[n].key, sizeof(st[n].key), "%s", k);
		a[n] = (struct core_art){ .sig = s,
					  .bytes = (uint64_t)sb.st_blocks * 512,
					  .mtime = (uint64_t)sb.st_mtim.tv_sec * 1000000000ULL +
						   (uint64_t)sb.st_mtim.tv_nsec };
		/* the newest of this binary's sizes: what the new one will likely take */
		if (!strcmp(k, key) && (a[n].bytes > estimate || !estimate))
			estimate = a[n].bytes;
		n++;
	}
	if (d)
		closedir(d);
	if (!(a = realloc(a, (n + 1) * sizeof(*a))) || !(st = realloc(st, (n + 1) * sizeof(*st))))
		return 1;
	snprintf(st[n].key, sizeof(st[n].key), "%s", key);
	a[n] = (struct core_art){ .sig = ci.sig, .bytes = estimate, .mtime = now };
	for (i = 0; i <= n; i++)
		a[i].binary = st[i].key;
	cores_plan(a, n + 1, per_binary, total, keep_first);
	removed = json_object_new_array();
	for (i = 0; i < n && !no_core_wanted; i++) {
		if (a[i].keep) {
			used_all += a[i].bytes;
			if (!strcmp(st[i].key, key))
				used_bin += a[i].bytes;
		} else if (!unlinkat(dfd, st[i].name, 0)) {
			json_object_array_add(removed, json_object_new_string(st[i].name));
		}
	}
	cap = 0;
	if (no_core_wanted) {
		result = "not stored: its RLIMIT_CORE is 0 (the process wants no core)";
	} else if (!a[n].keep) {
		result = "dropped: over the budgets";
	} else if (used_bin >= per_binary || used_all >= total) {
		result = "dropped: nothing left of the budgets";
	} else {
		cap = per_binary - used_bin < total - used_all ? per_binary - used_bin
							       : total - used_all;
		/* allocated blocks, not bytes, are what the budget counts */
		cap = cap / BLOCK * BLOCK;
	}
	snprintf(name, sizeof(name), COREH_PREFIX "%llx-%llx.%s.%llu.%d.%s.gz", 0ULL, 0ULL, sighex,
		 (unsigned long long)(now / 1000000000ULL), pid, comm);
	{
		unsigned long long dv = 0, iv = 0;

		sscanf(key, "ino:%llx:%llx", &dv, &iv);
		snprintf(name, sizeof(name), COREH_PREFIX "%llx-%llx.%s.%llu.%d.%s.gz", dv, iv,
			 sighex, (unsigned long long)(now / 1000000000ULL), pid, comm);
	}
	if (cap) {
		struct json_object *m = json_object_new_object();

		json_object_object_add(m, "exe", json_object_new_string(exe));
		json_object_object_add(m, "label", json_object_new_string(label));
		json_object_object_add(m, "signal", json_object_new_int(ci.signo));
		json_object_object_add(m, "pid", json_object_new_int(pid));
		snprintf(meta, sizeof(meta), "%s",
			 json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(m);
		fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(tmpname, sizeof(tmpname), ".tmp.%d", pid);
			fd = openat(dfd, tmpname,
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
			named_tmp = fd >= 0;
		}
		if (fd < 0) {
			result = "error: failed to create a file in the store";
		} else if ((err = compress_to(fd, &h, meta, cap, &out, &in))) {
			result =
				err == -EFBIG
					? "dropped: the compressed core outgrew what is left of the budgets"
					: "error: failed to write the core";
		} else {
			if (named_tmp)
				err = renameat(dfd, tmpname, dfd, name) ? -errno : 0;
			else {
				snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
				err = linkat(AT_FDCWD, path, dfd, name, AT_SYMLINK_FOLLOW) ? -errno
											   : 0;
			}
			if (err)
				result = "error: failed to name the core in the store";
			else
				named_tmp = 0;
		}
		if (named_tmp)
			unlinkat(dfd, tmpname, 0);
		if (fd >= 0)
			close(fd);
	}
	line = json_object_new_object();
	json_object_object_add(line, "time_ns", json_object_new_uint64(now));
	json_object_object_add(line, "pid", json_object_new_int(pid));
	json_object_object_add(line, "signal", json_object_new_int(ci.signo));
	json_object_object_add(line, "exe", json_object_new_string(exe));
	json_object_object_add(line, "binary_key", json_object_new_string(key));
	json_object_object_add(line, "signature", json_object_new_string(sighex));
	json_object_object_add(line, "label", json_object_new_string(label));
	json_object_object_add(line, "kept",
			       strcmp(result, "stored") ? NULL : json_object_new_string(name));
	json_object_object_add(line, "core_bytes", json_object_new_uint64(in));
	json_object_object_add(line, "stored_bytes", json_object_new_uint64(out));
	json_object_object_add(line, "removed", removed);
	json_object_object_add(line, "result", json_object_new_string(result));
	append_log(dfd, line);
	json_object_put(line);
	close(dfd); /* drops the lock */
	free(a);
	free(st);
	free(h.buf);
	return 0;
}
