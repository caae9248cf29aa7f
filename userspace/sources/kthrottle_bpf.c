// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel throttle of the BPF sensors: the fork probe charges lineages
 * and stops the forkers of one that overdraws its budget; this sets the
 * maps it reads (settings, protected sets) and answers what respond/
 * throttle.c asks of them (families, stops).  The maps belong to the
 * sensors the BPF source loaded, which keeps their descriptors (source_bpf.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "privs.h"
#include "procfs.h"
#include "kthrottle.h"
#include "sensors.h"

struct bpf_kt {
	int cfg, tgids, uids, buckets, held, families, admin_stops, lymph_stops; /* map fds */
	struct source *src; /* the BPF source: its refused-fork probe */
	size_t n_tgids, n_uids; /* what the last apply wrote */
	int enabled;		/* the last apply's: lineages accounted at all */
	/* The pin guard (see guard_main): its pipe's write end, its pid,
	 * and the pins it lifts if lymphd dies. */
	int guard_fd;
	pid_t guard_pid;
	char **pins;
	size_t n_pins, cap_pins;
};

/* ---- the pin guard ----------------------------------------------------- */

#define GUARD_LINE 1024 /* "+" or "-", a hold's pids cgroup dir, "\n" */

static void guard_lift(char **pins, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char path[GUARD_LINE + 16];
		int fd;

		snprintf(path, sizeof(path), "%s/pids.max", pins[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue; /* the hold is gone: lymphd --lift-pins came first */
		if (fd < 0 || write(fd, "max", 3) != 3)
			fprintf(stderr, "lymphd-guard: failed to lift the pin %s: %s; write max "
					"into it\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}

/*
 * The guard: a small process lymphd forks when it opens the BPF throttle,
 * holding the read end of a pipe whose only write end lymphd holds.
 * lymphd writes "+DIR" when it pins a hold (pids.max 0) and "-DIR" when it
 * lifts it; when lymphd dies, however it dies (SIGKILL, a crash), the pipe
 * ends and the guard writes "max" into every pin still listed, then exits,
 * so that no family stays pinned after lymphd (the BPF sensors continue
 * what lymph stopped; lymph.ko lifts its pins when /dev/lymph closes).  It
 * has no capability (the holds' files are root's, 0644) and ignores the
 * signals that end a terminal's jobs, so that it outlives a Ctrl-C or
 * SIGTERM sent to lymphd's process group; SIGKILL ends it.
 */
static void guard_main(int rfd)
{
	char buf[2 * GUARD_LINE], **pins = NULL;
	size_t len = 0, n = 0, cap = 0, i;
	sigset_t mask;
	cap_t none;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	/* nothing of lymphd's but the pipe (as fd 3) and stderr */
	if (rfd != 3 && dup2(rfd, 3) == 3) {
		close(rfd);
		rfd = 3;
	}
	close(0);
	close(1);
	syscall(SYS_close_range, rfd + 1, ~0U, 0);
	none = cap_init();
	if (none) {
		cap_set_proc(none);
		cap_free(none);
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_NAME, "lymphd-guard", 0, 0, 0);
	for (;;) {
		ssize_t r = read(rfd, buf + len, sizeof(buf) - len);
		char *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* lymphd is gone */
		len += (size_t)r;
		while ((nl = memchr(buf, '\n', len))) {
			*nl = 0;
			if (buf[0] == '+' && n == cap) {
				char **grown = realloc(pins, (cap ? cap * 2 : 8) * sizeof(*pins));

				if (grown) {
					pins = grown;
					cap = cap ? cap * 2 : 8;
				}
			}
			if (buf[0] == '+' && n < cap && (pins[n] = strdup(buf + 1)))
				n++;
			for (i = 0; buf[0] == '-' && i < n; i++)
				if (!strcmp(pins[i], buf + 1)) {
					free(pins[i]);
					pins[i] = pins[--n];
					break;
				}
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
		if (len == sizeof(buf))
			len = 0; /* no line is this long: lymphd writes none */
	}
	guard_lift(pins, n);
	_exit(0);
}

static int guard_spawn(struct bpf_kt *b)
{
	int fds[2];
	pid_t pid;
	uint8_t one = 1;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	/* lymphd is a family boundary (before its first apply too): the
	 * guard is a family of its own, never one lymphd holds */
	bpf_map_update_elem(b->tgids, &(uint32_t){ (uint32_t)getpid() }, &one, BPF_ANY);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		close(fds[1]);
		guard_main(fds[0]);
	}
	close(fds[0]);
	/* a stuck guard never blocks lymphd: a pin it cannot take is reported */
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	b->guard_fd = fds[1];
	b->guard_pid = pid;
	/* the probes never stop nor charge it */
	bpf_map_update_elem(b->tgids, &(uint32_t){ (uint32_t)pid }, &one, BPF_ANY);
	return 0;
}

static void guard_end(struct bpf_kt *b)
{
	if (b->guard_fd >= 0)
		close(b->guard_fd);
	b->guard_fd = -EBADF;
	if (b->guard_pid > 0)
		waitpid(b->guard_pid, NULL, WNOHANG); /* else init reaps it */
	b->guard_pid = 0;
}

static int guard_say(struct bpf_kt *b, char op, const char *dir)
{
	char line[GUARD_LINE];
	int n = snprintf(line, sizeof(line), "%c%s\n", op, dir);

	if (n >= (int)sizeof(line))
		return -ENAMETOOLONG;
	if (b->guard_fd < 0)
		return -EPIPE;
	/* one line, under PIPE_BUF: written whole or not at all */
	return write(b->guard_fd, line, (size_t)n) == n ? 0 : -errno;
}

/* A new guard, told every pin of the one that died. */
static int guard_restart(struct bpf_kt *b)
{
	size_t i;
	int err;

	guard_end(b);
	if ((err = guard_spawn(b)))
		return err;
	for (i = 0; i < b->n_pins; i++)
		if ((err = guard_say(b, '+', b->pins[i])))
			return err;
	return 0;
}

static int bpf_guard_pin(struct kthrottle *k, const char *dir, uint32_t kind, uint64_t id,
			 int on)
{
	struct bpf_kt *b = k->priv;
	size_t i;
	int err;

	(void)kind; /* the guard knows dirs: a pin is lifted by its cgroup */
	(void)id;
	for (i = 0; i < b->n_pins && strcmp(b->pins[i], dir); i++)
		;
	if (!on && i < b->n_pins) {
		free(b->pins[i]);
		b->pins[i] = b->pins[--b->n_pins];
	}
	if (on && i == b->n_pins) {
		if (b->n_pins == b->cap_pins) {
			size_t cap = b->cap_pins ? b->cap_pins * 2 : 8;
			char **grown = realloc(b->pins, cap * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			b->pins = grown;
			b->cap_pins = cap;
		}
		if (!(b->pins[b->n_pins] = strdup(dir)))
			return -ENOMEM;
		b->n_pins++;
	}
	/* While a lineage is pinned, its members' forks the pin refuses are
	 * charged: one of a held lineage (the `held` map keeps it until
	 * lymphd forgets it at the episode's end) is stopped with every
	 * member and reported, whatever its bucket says, and lymphd keeps
	 * them stopped until its next lift, as lymph.ko holds a member of a
	 * pinned family.  Without the probe a member continued at a lift
	 * tries to fork in the pin unseen, and lymphd takes it for calm. */
	source_bpf_pin_refusals(b->src, b->n_pins);
	err = guard_say(b, on ? '+' : '-', dir);
	if (err == -EPIPE) /* the guard died: a new one, told every pin */
		err = guard_restart(b);
	if (err && on)
		fprintf(stderr, "lymphd: failed to have the pin %s guarded: %s; if lymphd dies, "
				"write max into its pids.max\n", dir, strerror(-err));
	else if (err)
		fprintf(stderr, "lymphd: failed to tell the pin guard that %s is lifted: %s; "
				"if lymphd dies, the guard writes max into it again (harmless)\n",
			dir, strerror(-err));
	return err;
}

static pid_t bpf_helper_pid(const struct kthrottle *k)
{
	const struct bpf_kt *b = k->priv;

	return b ? b->guard_pid : 0;
}

static int fill_set(int fd, const uint32_t *keys, size_t n)
{
	uint32_t k, next;
	uint8_t one = 1;
	size_t i;

	/* Empty it, then fill: the set is small. */
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(fd, &k))
			break;
	}
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &keys[i], &one, BPF_ANY))
			return -errno;
	return 0;
}

static int bpf_apply(struct kthrottle *k, const struct kthrottle_settings *s,
		     const struct kthrottle_protect *p)
{
	struct bpf_kt *b = k->priv;
	struct throttle_cfg c = {
		.enabled = !!s->enabled,
		.enforce = !!s->enforce,
		.lineage_kind = s->lineage_kind,
		.budget = s->budget,
		.burst = s->burst,
		.uid_budget = s->uid_budget,
		.uid_burst = s->uid_burst ?: 1,
		.daemon_tgid = s->daemon_tgid,
	};
	uint32_t zero = 0;

	/* The protected sets first, then the settings that may stop forkers. */
	if (fill_set(b->tgids, p->tgids, p->n_tgids) || fill_set(b->uids, p->uids, p->n_uids))
		return -EIO;
	b->n_tgids = p->n_tgids;
	b->n_uids = p->n_uids;
	if (b->guard_pid > 0) {
		uint32_t g = (uint32_t)b->guard_pid;
		uint8_t one = 1;

		bpf_map_update_elem(b->tgids, &g, &one, BPF_ANY);
	}
	if (bpf_map_update_elem(b->cfg, &zero, &c, BPF_ANY))
		return -errno;
	b->enabled = c.enabled;
	/* a few spinners at a low cap: sampled now and then (source_bpf.c) */
	source_bpf_spin_period(b->src, c.enabled ? SPIN_PERIOD_NS : 0);
	return 0;
}

/*
 * The CPU is under pressure: a crowd spinning on refused forks at a cap
 * it crept up to below its budget (fewer than the probes' own reasons to
 * arm) makes it, and shows nowhere else.  The refused-fork probe is
 * attached for a sample: a spinning lineage overdraws in milliseconds
 * there, and its charges keep the probe attached (refusals_arm) while
 * they drain its bucket, a slow spinner's too (bucket_near_budget); a
 * busy but benign host refuses no fork and the probe goes again.
 */
static void bpf_pressure(struct kthrottle *k)
{
	struct bpf_kt *b = k->priv;

	if (b->enabled)
		source_bpf_sample_refusals(b->src, REFUSAL_SAMPLE_NS);
}

static int bpf_forget_lineage(struct kthrottle *k, uint32_t kind, uint64_t id)
{
	struct bpf_kt *b = k->priv;
	struct lineage_key key = { .id = id, .kind = kind };
	int err = 0;

	/* Its members go on, and may spin at a pids cap where no fork gets
	 * through: the refused-fork probe is attached for a while. */
	source_bpf_arm_refusals(b->src);
	if (!bpf_map_delete_elem(b->held, &key))
		source_bpf_count_held(b->src, -1);
	else if (errno != ENOENT)
		err = -errno;
	if (bpf_map_delete_elem(b->buckets, &key) && errno != ENOENT)
		err = -errno;
	return err;
}

static int bpf_family_of(struct kthrottle *k, pid_t pid, uint64_t *id)
{
	struct bpf_kt *b = k->priv;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), err = 0;
	struct family f;

	if (fd < 0)
		return -errno;
	/* task storage is looked up by a pidfd from userspace */
	if (bpf_map_lookup_elem(b->families, &fd, &f))
		err = -errno;
	else
		*id = f.id;
	close(fd);
	return err;
}

static int bpf_admin_stopped(struct kthrottle *k, pid_t pid)
{
	struct bpf_kt *b = k->priv;
	uint32_t key = (uint32_t)pid;
	uint64_t when;

	return !bpf_map_lookup_elem(b->admin_stops, &key, &when);
}

/* /proc/PID/stat field 22: the start time in clock ticks since boot. */
static int start_ticks(pid_t pid, uint64_t *ticks)
{
	char buf[1024], *p;
	unsigned long long v;
	int n, i;

	n = proc_stat_text(pid, buf, sizeof(buf));
	if (n < 0)
		return n;
	p = strrchr(buf, ')');
	/* after "pid (comm)": the n-th space precedes field n + 2 */
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &v) != 1)
		return -EINVAL;
	*ticks = v;
	return 0;
}

static void bpf_note_stop(struct kthrottle *k, pid_t pid, int stopped)
{
	struct bpf_kt *b = k->priv;
	uint32_t key = (uint32_t)pid;
	uint64_t ticks;

	/* counted as the probes count theirs (source_bpf_count_stops) */
	if (!stopped) {
		if (!bpf_map_delete_elem(b->lymph_stops, &key))
			source_bpf_count_stops(b->src, -1);
	} else if (!start_ticks(pid, &ticks)) {
		if (!bpf_map_update_elem(b->lymph_stops, &key, &ticks, BPF_NOEXIST))
			source_bpf_count_stops(b->src, 1);
		else
			bpf_map_update_elem(b->lymph_stops, &key, &ticks, BPF_EXIST);
	}
}

/* What the probe runs with, read back from its map. */
static struct json_object *bpf_json(const struct kthrottle *k)
{
	const struct bpf_kt *b = k->priv;
	struct json_object *o = json_object_new_object();
	struct throttle_cfg c;
	uint32_t zero = 0;

	json_object_object_add(o, "kind", json_object_new_string("bpf"));
	if (bpf_map_lookup_elem(b->cfg, &zero, &c)) {
		json_object_object_add(o, "error", json_object_new_string(strerror(errno)));
		return o;
	}
	json_object_object_add(o, "mode",
			       json_object_new_string(!c.enabled  ? "off"
						      : c.enforce ? "enforce"
								  : "observe"));
	json_object_object_add(o, "budget", json_object_new_int64(c.budget));
	json_object_object_add(o, "burst", json_object_new_int64(c.burst));
	json_object_object_add(o, "uid_budget", json_object_new_int64(c.uid_budget));
	json_object_object_add(o, "uid_burst", json_object_new_int64(c.uid_burst));
	json_object_object_add(o, "protected_tgids", json_object_new_int64((int64_t)b->n_tgids));
	json_object_object_add(o, "protected_uids", json_object_new_int64((int64_t)b->n_uids));
	/* refused forks sampled while the CPUs were busy (source_bpf.c) */
	json_object_object_add(o, "spin_samples",
			       json_object_new_uint64(source_bpf_spin_samples(b->src)));
	json_object_object_add(o, "pin_guard", json_object_new_int64(b->guard_pid));
	json_object_object_add(o, "refused_fork_probe",
			       json_object_new_string(source_bpf_refusal_path(b->src)));
	json_object_object_add(o, "refused_fork_probe_attached",
			       json_object_new_string(source_bpf_refusal_attached(b->src)));
	/* kept permitted for that probe's perf event (privs.c) */
	json_object_object_add(o, "perf_capability",
			       json_object_new_string(privs_perf_cap() < 0 ? "none"
						      : privs_perf_cap() == CAP_SYS_ADMIN
							      ? "CAP_SYS_ADMIN"
							      : "CAP_PERFMON"));
	return o;
}

static void bpf_kt_close(struct kthrottle *k)
{
	struct bpf_kt *b = k->priv;
	size_t i;

	/* the pins left (none after throttler_free) are lifted by the guard */
	guard_end(b);
	for (i = 0; i < b->n_pins; i++)
		free(b->pins[i]);
	free(b->pins);
	free(k->priv);
	k->priv = NULL;
}

static const struct kthrottle_ops bpf_kt_ops = {
	.apply = bpf_apply,
	.forget_lineage = bpf_forget_lineage,
	.family_of = bpf_family_of,
	.note_stop = bpf_note_stop,
	.admin_stopped = bpf_admin_stopped,
	.pressure = bpf_pressure,
	.guard_pin = bpf_guard_pin,
	.helper_pid = bpf_helper_pid,
	.json = bpf_json,
	.close = bpf_kt_close,
};

int kthrottle_bpf_open(struct kthrottle *k, struct source *src)
{
	int cfg = source_bpf_map_fd(src, "throttle_cfg");
	struct bpf_kt *b;
	int err;

	if (cfg == -EINVAL)
		return -EINVAL; /* not the BPF source */
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cfg = cfg;
	b->tgids = source_bpf_map_fd(src, "protected_tgids");
	b->uids = source_bpf_map_fd(src, "protected_uids");
	b->buckets = source_bpf_map_fd(src, "buckets");
	b->held = source_bpf_map_fd(src, "held");
	b->src = src;
	b->families = source_bpf_map_fd(src, "families");
	b->admin_stops = source_bpf_map_fd(src, "admin_stops");
	b->lymph_stops = source_bpf_map_fd(src, "lymph_stops");
	if (b->cfg < 0 || b->tgids < 0 || b->uids < 0 || b->buckets < 0 || b->held < 0 ||
	    b->families < 0 ||
	    b->admin_stops < 0 || b->lymph_stops < 0) {
		fprintf(stderr, "lymphd: failed to find the throttle's maps in the BPF sensors; "
				"rebuild lymphd (make) so its sensors and userspace match\n");
		free(b);
		return -ENOENT;
	}
	/* pre-forked, before lymphd confines itself: the pins' guard */
	b->guard_fd = -EBADF;
	err = guard_spawn(b);
	if (err)
		fprintf(stderr, "lymphd: failed to start the pin guard: %s; a pin lymphd leaves "
				"when it dies is lifted only at its next start\n", strerror(-err));
	k->ops = &bpf_kt_ops;
	k->name = "bpf";
	k->source = src->name;
	k->priv = b;
	return 0;
}
