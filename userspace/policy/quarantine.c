// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "quarantine.h"

static uint64_t key_hash(const struct qkey *k)
{
	return hash_add(hash_file(k->dev, k->ino), k->uid);
}

static int entry_used(const void *p)
{
	return ((const struct qentry *)p)->used;
}

static uint64_t entry_hash(const void *p)
{
	return key_hash(&((const struct qentry *)p)->key);
}

static int entry_match(const void *p, const void *key)
{
	const struct qkey *a = &((const struct qentry *)p)->key, *b = key;

	return a->ino == b->ino && a->dev == b->dev && a->uid == b->uid;
}

static const struct hashtab_ops qentry_ops = {
	.used = entry_used,
	.hash = entry_hash,
	.match = entry_match,
};

int qtable_init(struct qtable *t, const struct quarantine_conf *c, size_t max_entries)
{
	int err;

	memset(t, 0, sizeof(*t));
	/* Load factor at most 1/2. */
	err = hashtab_init_growing(&t->ht, &qentry_ops, sizeof(struct qentry),
				   hashtab_cap_for(64, max_entries, 1, 2));
	if (err)
		return err;
	t->conf = *c;
	return 0;
}

void qtable_free(struct qtable *t)
{
	hashtab_free(&t->ht);
	memset(t, 0, sizeof(*t));
}

/* Offences fade after good behaviour: half-life four times the longest
 * ban, so that time spent banned does not by itself erase the record. */
static uint64_t forgive(const struct qtable *t)
{
	return 4 * t->conf.duration_max;
}

struct qentry *qtable_find(const struct qtable *t, const struct qkey *k)
{
	return hashtab_find(&t->ht, k, key_hash(k));
}

/* The coldest entry not quarantined now (its score and its offences
 * decayed), among uid's entries when uid is given, else among all; NULL
 * when there is none.  *n (when given) counts uid's entries, quarantined
 * or not. */
static struct qentry *coldest(struct qtable *t, const uint32_t *uid, uint64_t now,
			      size_t *n)
{
	struct qentry *victim = NULL;
	double low = INFINITY;
	size_t i;

	if (n)
		*n = 0;
	t->scans++;
	for (i = 0; i < t->ht.cap; i++) {
		struct qentry *e = hashtab_at(&t->ht, i);
		double v;

		if (!e->used || (uid && e->key.uid != *uid))
			continue;
		if (n)
			(*n)++;
		if (e->until > now)
			continue;
		v = decay_value(&e->score, now, t->conf.half_life) +
		    decay_value(&e->offences, now, forgive(t));
		if (v < low) {
			low = v;
			victim = e;
		}
	}
	return victim;
}

/* Forget the coldest entry that is not quarantined, to make room. */
static void make_room(struct qtable *t, uint64_t now)
{
	struct qentry *victim = coldest(t, NULL, now, NULL);

	if (victim)
		hashtab_remove(&t->ht, victim);
}

/* uid at its max_per_uid: forget its own coldest entry not quarantined;
 * 0 when there was room or room was made, -ENOSPC when all are quarantined. */
static int uid_room(struct qtable *t, uint32_t uid, uint64_t now)
{
	struct qentry *victim;
	size_t n;

	/* Fewer entries in all than one uid may have: no need to count
	 * uid's (a scan of the whole table, 5.5 KiB to 700 KiB, on the way
	 * to a new binary's first decision). */
	if (!t->max_per_uid || t->ht.count < t->max_per_uid)
		return 0;
	victim = coldest(t, &uid, now, &n);
	if (n < t->max_per_uid)
		return 0;
	if (!victim)
		return -ENOSPC;
	hashtab_remove(&t->ht, victim);
	return 0;
}

static struct qentry *get(struct qtable *t, const struct qkey *k, uint64_t now)
{
	struct qentry *e;

	if (!t->ht.slots)
		return NULL;
	e = hashtab_probe(&t->ht, k, key_hash(k));
	if (e->used)
		return e;
	if (uid_room(t, k->uid, now)) {
		t->overflow = Q_OVF_UID;
		t->overflows[Q_OVF_UID]++;
		return NULL;
	}
	if (t->ht.count >= t->ht.max_cap / 2)
		make_room(t, now);
	/* Still full (of active quarantines), or no memory to grow. */
	if (t->ht.count >= t->ht.max_cap / 2 || hashtab_reserve(&t->ht)) {
		t->overflow = Q_OVF_TABLE;
		t->overflows[Q_OVF_TABLE]++;
		return NULL;
	}
	e = hashtab_probe(&t->ht, k, key_hash(k)); /* the runs may have moved, or the table grown */
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->key = *k;
	t->ht.count++;
	return e;
}

uint64_t qtable_duration(const struct qtable *t, const struct qentry *e, uint64_t now)
{
	/* The offence this would be: 1 + what is remembered of the earlier ones. */
	double n = 1.0 + decay_value(&e->offences, now, forgive(t));
	double d = (double)t->conf.duration_min * decay_pow2(floor(n + 0.5) - 1.0);

	return d > (double)t->conf.duration_max ? t->conf.duration_max : (uint64_t)d;
}

struct qentry *qtable_on_danger(struct qtable *t, const struct qkey *k, uint64_t now, double factor)
{
	struct qentry *e;
	double threshold = t->conf.threshold * (factor > 0 ? factor : 1.0);

	t->overflow = Q_OVF_NONE;
	e = get(t, k, now);
	if (!e)
		return NULL;
	if (e->until > now)
		return NULL; /* already quarantined: the exec is denied anyway */
	decay_add(&e->score, now, t->conf.half_life, 1.0);
	/* 0.01: N deaths in quick succession reach a threshold of N despite decay. */
	if (decay_value(&e->score, now, t->conf.half_life) + 0.01 < threshold)
		return NULL;
	e->until = now + qtable_duration(t, e, now);
	qtable_note_until(t, e->until);
	e->since = now;
	e->total++;
	decay_add(&e->offences, now, forgive(t), 1.0);
	e->score = (struct decay){ 0 }; /* after release it must earn it again */
	return e;
}

const struct qentry *qtable_active(const struct qtable *t, const struct qkey *k, uint64_t now)
{
	const struct qentry *e = qtable_find(t, k);

	return (e && e->until > now) ? e : NULL;
}

int qtable_binary_active(const struct qtable *t, uint32_t dev, uint64_t ino, uint64_t now)
{
	size_t i;

	for (i = 0; i < t->ht.cap; i++) {
		const struct qentry *e = hashtab_at(&t->ht, i);

		if (e->used && e->until > now && e->key.dev == dev && e->key.ino == ino)
			return 1;
	}
	return 0;
}

int qtable_end(struct qtable *t, const struct qkey *k)
{
	struct qentry *e = qtable_find(t, k);

	if (!e || !e->until)
		return -ENOENT;
	e->until = 0;
	e->since = 0;
	return 0;
}

struct qentry *qtable_restore(struct qtable *t, const struct qkey *k, uint64_t since,
			      uint64_t until, double offences, uint32_t total, uint64_t now)
{
	struct qentry *e;

	t->overflow = Q_OVF_NONE;
	e = get(t, k, now);
	if (!e)
		return NULL;
	e->since = since;
	e->until = until;
	qtable_note_until(t, until);
	e->offences = (struct decay){ .value = offences, .last_ns = now };
	e->total = total;
	return e;
}

/* Does this option of an interpreter take the next argument as its value? */
static int takes_value(const char *opt, int loader)
{
	static const char *const interp[] = {
		"-W",  "-X",	     "-Q",	     /* python */
		"-I",  "-M",			     /* perl, ruby (joined forms need no skip) */
		"-cp", "-classpath", "--class-path", /* java */
		"-r",  "--require",  "--import",     /* node */
		"-o",  "+o",			     /* shells: set -o OPTION */
		NULL,
	};
	static const char *const ld[] = {
		"--library-path",	  "--inhibit-rpath",	 "--audit", "--preload", "--argv0",
		"--glibc-hwcaps-prepend", "--glibc-hwcaps-mask", NULL,
	};
	const char *const *v = loader ? ld : interp;

	for (; *v; v++)
		if (!strcmp(opt, *v))
			return 1;
	return 0;
}

/* Options after which no file is run: code on the command line, a module. */
static int runs_no_file(const char *opt)
{
	static const char *const v[] = {
		"-c",	  "-m",	      "-e",	"-E",	     "--eval", "--print", "--command", "-",
		"--list", "--verify", "--help", "--version", "-V",     "-h",	  NULL,
	};
	size_t i;

	for (i = 0; v[i]; i++)
		if (!strcmp(opt, v[i]))
			return 1;
	return 0;
}

/* A shell: its -e is errexit, and only -c runs code from the command line. */
static int is_shell(const char *argv0)
{
	static const char *const v[] = {
		"sh",	"bash", "dash", "rbash", "zsh",	  "ksh",   "ksh93", "mksh", "busybox",
		"fish", "csh",	"tcsh", "-sh",	 "-bash", "-dash", "-zsh",  NULL,
	};
	const char *base = strrchr(argv0, '/');
	size_t i;

	base = base ? base + 1 : argv0;
	for (i = 0; v[i]; i++)
		if (!strcmp(base, v[i]))
			return 1;
	return 0;
}

const char *qscript_arg(const char *args, size_t len, int loader)
{
	size_t off = 0;
	int first = 1, after_dashdash = 0, shell = 0;

	while (off < len) {
		const char *a = args + off;
		size_t n = strnlen(a, len - off);

		if (n == len - off)
			return NULL; /* cut short: not a whole argument */
		off += n + 1;
		if (first) { /* argv[0]: the interpreter itself */
			first = 0;
			shell = !loader && is_shell(a);
			continue;
		}
		if (after_dashdash || a[0] != '-' || !strcmp(a, "-"))
			return !strcmp(a, "-") || !*a ? NULL : a;
		if (!strcmp(a, "--")) {
			after_dashdash = 1;
			continue;
		}
		if (!strcmp(a, "-jar")) /* java -jar FILE: the jar is the script */
			continue;
		if (shell ? !strcmp(a, "-c") || (a[1] != '-' && strchr(a, 'c')) : runs_no_file(a))
			return NULL;
		if (takes_value(a, loader)) {
			n = strnlen(args + off, len > off ? len - off : 0);
			off += n + 1;
		}
	}
	return NULL;
}

int qscript_path(const char *arg, const char (*cwd)[64], size_t depth, int cwd_known, char *out,
		 size_t len)
{
	size_t used = 0, i;
	int n;

	if (!arg || !*arg)
		return -ENOENT;
	if (arg[0] == '/') {
		n = snprintf(out, len, "%s", arg);
		return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
	}
	if (!cwd_known)
		return -ENOENT;
	for (i = depth; i-- > 0;) {
		n = snprintf(out + used, len - used, "/%.*s", 64, cwd[i]);
		if (n < 0 || (size_t)n >= len - used)
			return -ENAMETOOLONG;
		used += (size_t)n;
	}
	n = snprintf(out + used, len - used, "/%s", arg);
	return n < 0 || (size_t)n >= len - used ? -ENAMETOOLONG : 0;
}
