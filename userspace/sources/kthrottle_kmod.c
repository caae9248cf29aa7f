// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel throttle of lymph.ko: its knobs in /sys/kernel/lymph/ (see
 * doc/lymph.ko.md).  The only userspace code that knows those files.  The
 * module holds a storming lineage in its own in-kernel dead time; lymphd
 * writes what the policy says into the knobs at start, at every reload and
 * when the weather changes the budget, journals what it wrote, and reads
 * the knobs back for lymphctl status.  Through /dev/lymph (the kmod
 * source's fd) it asks the module a process's clone family, so that
 * respond/throttle.c finds a held family's members to pin, and hands the
 * module every pids.max it pinned, with the lineage it holds: the module
 * lifts the pin if lymphd dies, and keeps that lineage's members it holds
 * stopped until lymphd unpins it (or dies).  lymphd in enforce mode with
 * a pids controller says it pins (LYMPH_IOC_PINNER), so that the module
 * waits for its pin before it lets a newly held lineage go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "lymph/dev.h"
#include "pidscg.h"
#include "kthrottle.h"

#define KMOD_SYSFS	"/sys/kernel/lymph"
#define KMOD_ERRORS_MAX KMOD_KNOBS_MAX

struct kmod_kt {
	char dir[256];
	char weather[32]; /* the last word lymphd was told, "" before */
	int applied;	  /* an apply ran: its settings are below */
	struct kthrottle_settings s;
	uint32_t uids[CFG_LIST_MAX];
	size_t n_uids;
	/* What the last write found, for lymphctl status. */
	char errors[KMOD_ERRORS_MAX][1024];
	size_t n_errors;
	char notes[KMOD_KNOBS_MAX + 2][KMOD_NOTE_LEN + 64];
	size_t n_notes;
	int dev_fd;	  /* /dev/lymph, the source's; -EBADF: none */
	int old_module;	  /* no LYMPH_IOC_FAMILY, LYMPH_IOC_PIN: said once */
	int no_lineage;	  /* no LYMPH_IOC_PIN_LINEAGE, LYMPH_IOC_PINNER */
	int pinner;	  /* told the module it pins (LYMPH_IOC_PINNER 1) */
};

/* Every knob lymphctl status reads back, in the order it shows them. */
static const char *const shown[] = {
	"mode",
	"clone_budget",
	"clone_burst",
	"dead_time_min_ms",
	"dead_time_max_ms",
	"uid_clone_budget",
	"uid_clone_burst",
	"protected_uids",
	"protected_cgroups",
	"weather",
};

static int knob_path(const struct kmod_kt *m, const char *name, char *path, size_t len)
{
	return snprintf(path, len, "%s/%s", m->dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

/* The knob's text without its newline: 0, or -errno. */
static int read_knob(const struct kmod_kt *m, const char *name, char *buf, size_t len)
{
	char path[320];
	ssize_t n;
	int fd, err = knob_path(m, name, path, sizeof(path));

	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* One write of the whole value (sysfs takes one write per store). */
static int write_knob(const struct kmod_kt *m, const char *name, const char *value)
{
	char path[320], line[KMOD_KNOB_VALUE + 2];
	ssize_t n;
	size_t len;
	int fd, err = knob_path(m, name, path, sizeof(path));

	if (err)
		return err;
	/* The newline: an empty protected set is "\n" (sysfs ignores 0 bytes). */
	len = (size_t)snprintf(line, sizeof(line), "%s\n", value);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, line, len);
	err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static const char *what_to_do(int err)
{
	switch (err) {
	case -EINVAL:
		return "lymph.ko refused the value: see its range in doc/lymph.ko.md and "
		       "fix [throttle] or [protect] in lymph.conf, then lymphctl reload";
	case -EACCES:
	case -EPERM:
	case -EROFS: return "lymphd must run as root to set the module's knobs";
	case -ENOENT:
		return "this lymph.ko has no such knob: load the lymph.ko built with this lymphd "
		       "(make kmod; rmmod lymph; insmod build/kmod/lymph.ko)";
	default: return "check that lymph.ko is loaded (lsmod) and dmesg";
	}
}

static void add_note(struct kmod_kt *m, const char *name, const char *note)
{
	if (m->n_notes < sizeof(m->notes) / sizeof(m->notes[0]))
		snprintf(m->notes[m->n_notes++], sizeof(m->notes[0]), "%s: %s", name, note);
}

/* A value as it goes into the journal: a number when it is one. */
static struct json_object *jvalue(const char *v)
{
	char *end;
	unsigned long long n;

	if (*v >= '0' && *v <= '9') {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (!*end && !errno)
			return json_object_new_uint64(n);
	}
	return json_object_new_string(v);
}

/*
 * Write knobs[0..n) in order; one journal record with what was written,
 * what was skipped and every failure.  0, or the first write's -errno.
 * A knob the module refuses keeps the value it had; the others are still
 * written.
 */
static int write_all(struct kthrottle *k, const struct kmod_knob *knobs, size_t n, int fresh)
{
	struct kmod_kt *m = k->priv;
	struct json_object *rec = json_object_new_object();
	struct json_object *errs = json_object_new_array(), *notes = json_object_new_array();
	char path[320];
	size_t i;
	int first = 0;

	/* What status shows: the last apply's notes and errors, and those of
	 * the weather writes since. */
	if (fresh)
		m->n_errors = m->n_notes = 0;
	json_object_object_add(rec, "type", json_object_new_string("module"));
	json_object_object_add(rec, "action", json_object_new_string("knobs"));
	json_object_object_add(rec, "path", json_object_new_string(m->dir));
	for (i = 0; i < n; i++) {
		const struct kmod_knob *kn = &knobs[i];
		int err;

		if (kn->optional && !knob_path(m, kn->name, path, sizeof(path)) &&
		    access(path, F_OK) && errno == ENOENT) {
			add_note(m, kn->name, "not in this lymph.ko: not applied by the module");
			json_object_array_add(notes,
					      json_object_new_string(m->notes[m->n_notes - 1]));
			continue;
		}
		if (kn->note[0]) {
			add_note(m, kn->name, kn->note);
			json_object_array_add(notes,
					      json_object_new_string(m->notes[m->n_notes - 1]));
		}
		err = write_knob(m, kn->name, kn->value);
		if (!err) {
			json_object_object_add(rec, kn->name, jvalue(kn->value));
			continue;
		}
		if (!first)
			first = err;
		if (m->n_errors < KMOD_ERRORS_MAX) {
			char e[sizeof(m->errors[0])];

			snprintf(e, sizeof(e), "failed to write %s/%s (\"%s\"): %s; %s", m->dir,
				 kn->name, kn->value, strerror(-err), what_to_do(err));
			memcpy(m->errors[m->n_errors++], e, sizeof(e));
			fprintf(stderr, "lymphd: %s\n", e);
			json_object_array_add(errs, json_object_new_string(e));
		}
	}
	if (json_object_array_length(notes))
		json_object_object_add(rec, "notes", notes);
	else
		json_object_put(notes);
	if (json_object_array_length(errs)) {
		size_t nerr = json_object_array_length(errs);
		char msg[64];

		snprintf(msg, sizeof(msg), "failed: %zu knob%s not written", nerr,
			 nerr == 1 ? "" : "s");
		json_object_object_add(rec, "result", json_object_new_string(msg));
		json_object_object_add(rec, "errors", errs);
	} else {
		json_object_object_add(rec, "result", json_object_new_string("ok"));
		json_object_put(errs);
	}
	kthrottle_journal(k, rec);
	return first;
}

/*
 * Tell the module whether lymphd pins what it holds: in enforce mode with
 * a pids controller, respond/throttle.c pins every lineage the module
 * holds, and the module keeps a newly held lineage stopped until that pin
 * (or at most its dead_time_max_ms).  An older module: nothing to say.
 */
static void tell_pinner(struct kmod_kt *m, int on)
{
	struct lymph_pinner p = { .on = (uint32_t)on };

	if (m->dev_fd < 0 || m->no_lineage || m->pinner == on)
		return;
	if (!ioctl(m->dev_fd, LYMPH_IOC_PINNER, &p))
		m->pinner = on;
	else if (errno == ENOTTY)
		m->no_lineage = 1;
	else
		fprintf(stderr, "lymphd: failed to tell lymph.ko that lymphd pins: %s\n",
			strerror(errno));
}

static int kmod_apply(struct kthrottle *k, const struct kthrottle_settings *s,
		      const struct kthrottle_protect *p)
{
	struct kmod_kt *m = k->priv;
	struct kthrottle_protect mine;
	struct kmod_knob knobs[KMOD_KNOBS_MAX];
	char cur[32];
	unsigned long cur_max = 0;
	size_t n;

	/* Kept for status (what the module does not take from them). */
	m->s = *s;
	m->n_uids = p && p->n_uids < CFG_LIST_MAX ? p->n_uids : p ? CFG_LIST_MAX : 0;
	if (m->n_uids)
		memcpy(m->uids, p->uids, m->n_uids * sizeof(uint32_t));
	m->applied = 1;
	mine = (struct kthrottle_protect){ .uids = m->uids, .n_uids = m->n_uids };
	/* The module protects its readers (lymphd) itself; p->tgids has no knob. */
	if (!read_knob(m, "dead_time_max_ms", cur, sizeof(cur)))
		cur_max = strtoul(cur, NULL, 10);
	n = kmod_knobs_of(s, &mine, m->weather[0] ? m->weather : NULL,
			  cur_max > UINT32_MAX ? UINT32_MAX : (uint32_t)cur_max, knobs);
	/* A refused knob is reported (stderr, journal, lymphctl status), not
	 * fatal: the module runs on, with that knob's previous value; only a
	 * module that is gone is an error. */
	write_all(k, knobs, n, 1);
	tell_pinner(m, s->enabled && s->enforce && pidscg_root());
	return access(m->dir, F_OK) ? -ENODEV : 0;
}

static int kmod_set_weather(struct kthrottle *k, const char *word)
{
	struct kmod_kt *m = k->priv;
	struct kmod_knob kn;

	if (!strcmp(m->weather, word))
		return 0;
	snprintf(m->weather, sizeof(m->weather), "%s", word);
	memset(&kn, 0, sizeof(kn));
	snprintf(kn.name, sizeof(kn.name), "weather");
	snprintf(kn.value, sizeof(kn.value), "%s", word);
	return write_all(k, &kn, 1, 0);
}

/* What the module runs with, read back from its knobs. */
static struct json_object *kmod_json(const struct kthrottle *k)
{
	const struct kmod_kt *m = k->priv;
	struct json_object *o = json_object_new_object(), *kn = json_object_new_object(), *a;
	char buf[KMOD_KNOB_VALUE];
	size_t i;

	json_object_object_add(o, "kind", json_object_new_string("lymph.ko"));
	json_object_object_add(o, "path", json_object_new_string(m->dir));
	for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		int err = read_knob(m, shown[i], buf, sizeof(buf));

		json_object_object_add(kn, shown[i], err ? NULL : jvalue(buf));
	}
	json_object_object_add(o, "knobs", kn);
	a = json_object_new_array();
	for (i = 0; i < m->n_notes; i++)
		json_object_array_add(a, json_object_new_string(m->notes[i]));
	if (m->applied && m->s.lineage_kind != LYMPH_LINEAGE_FAMILY)
		json_object_array_add(
			a, json_object_new_string(
				   "lineage: lymph.ko charges clone "
				   "families; [throttle] lineage applies to the BPF sensors only"));
	json_object_object_add(o, "notes", a);
	a = json_object_new_array();
	for (i = 0; i < m->n_errors; i++)
		json_object_array_add(a, json_object_new_string(m->errors[i]));
	json_object_object_add(o, "errors", a);
	return o;
}

/* An older lymph.ko without the ioctl: say so once. */
static int older_module(struct kmod_kt *m)
{
	if (!m->old_module)
		fprintf(stderr,
			"lymphd: lymph.ko has no LYMPH_IOC_FAMILY/LYMPH_IOC_PIN (an older module): "
			"a family it holds is not pinned in a pids cgroup; load the lymph.ko built "
			"with this lymphd (make kmod; rmmod lymph; insmod build/kmod/lymph.ko)\n");
	m->old_module = 1;
	return -EOPNOTSUPP;
}

static int kmod_family_of(struct kthrottle *k, pid_t pid, uint64_t *id)
{
	struct kmod_kt *m = k->priv;
	struct lymph_family q = { .pid = (uint32_t)pid };

	if (m->dev_fd < 0 || m->old_module)
		return -EOPNOTSUPP;
	if (ioctl(m->dev_fd, LYMPH_IOC_FAMILY, &q))
		return errno == ENOTTY ? older_module(m) : -errno;
	*id = q.id;
	return 0;
}

/*
 * Hand the module the pids.max of dir, pinned to hold lineage (kind, id),
 * or take it back.  A module without LYMPH_IOC_PIN_LINEAGE (or a lineage
 * it does not hold itself) gets the file alone: lifted if lymphd dies.
 */
static int kmod_guard_pin(struct kthrottle *k, const char *dir, uint32_t kind, uint64_t id,
			  int on)
{
	struct kmod_kt *m = k->priv;
	struct lymph_pin p = { .fd = -1 };
	struct lymph_pin_lineage pl = { .kind = kind, .id = id };
	char path[1024];
	int err = 0;

	if (m->dev_fd < 0 || m->old_module)
		return -EOPNOTSUPP;
	if (snprintf(path, sizeof(path), "%s/pids.max", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	p.fd = open(path, O_WRONLY | O_CLOEXEC);
	if (p.fd < 0)
		return -errno;
	pl.fd = p.fd;
	if (on && !m->no_lineage &&
	    (kind == LYMPH_LINEAGE_FAMILY || kind == LYMPH_LINEAGE_UID)) {
		if (!ioctl(m->dev_fd, LYMPH_IOC_PIN_LINEAGE, &pl))
			goto out;
		if (errno != ENOTTY) {
			err = -errno;
			goto out;
		}
		m->no_lineage = 1;	/* an older module: the pin alone */
	}
	if (ioctl(m->dev_fd, on ? LYMPH_IOC_PIN : LYMPH_IOC_UNPIN, &p))
		err = errno == ENOTTY ? older_module(m) : -errno;
out:
	close(p.fd);
	return err;
}

static int kmod_lift(struct kthrottle *k, uint32_t kind, uint64_t id)
{
	struct kmod_kt *m = k->priv;
	struct lymph_lift l = { .kind = kind, .id = id };

	if (m->dev_fd < 0 || m->no_lineage)
		return -EOPNOTSUPP;
	if (kind != LYMPH_LINEAGE_FAMILY && kind != LYMPH_LINEAGE_UID)
		return -EINVAL;
	return ioctl(m->dev_fd, LYMPH_IOC_LIFT, &l) ? -errno : 0;
}

void kthrottle_kmod_set_dev(struct kthrottle *k, int dev_fd)
{
	struct kmod_kt *m = k->priv;

	if (m)
		m->dev_fd = dev_fd;
}

static void kmod_kt_close(struct kthrottle *k)
{
	free(k->priv);
	k->priv = NULL;
}

static const struct kthrottle_ops kmod_kt_ops = {
	.apply = kmod_apply,
	.set_weather = kmod_set_weather,
	.family_of = kmod_family_of,
	.guard_pin = kmod_guard_pin,
	.lift = kmod_lift,
	.json = kmod_json,
	.close = kmod_kt_close,
};

int kthrottle_kmod_open(struct kthrottle *k, const char *sysfs_dir)
{
	struct kmod_kt *m;
	const char *dir = sysfs_dir ? sysfs_dir : KMOD_SYSFS;

	if (strlen(dir) >= sizeof(m->dir))
		return -ENAMETOOLONG;
	if (access(dir, F_OK)) {
		int err = -errno;

		fprintf(stderr,
			"lymphd: failed to find lymph.ko's knobs in %s: %s; load the module "
			"(modprobe lymph)\n",
			dir, strerror(-err));
		return err;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	m->dev_fd = -EBADF;
	k->ops = &kmod_kt_ops;
	k->name = "lymph.ko";
	k->priv = m;
	return 0;
}
