// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel throttle of the BPF sensors: the fork probe charges lineages
 * and stops the forkers of one that overdraws its budget; this sets the
 * maps it reads (settings, protected sets) and answers what respond/
 * throttle.c asks of them (families, stops).  The maps belong to the
 * object the BPF source loaded (source_bpf.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "procfs.h"
#include "kthrottle.h"
#include "sensors.h"

struct bpf_kt {
	int cfg, tgids, uids, buckets, held, families, admin_stops, lymph_stops; /* map fds */
	struct source *src; /* the BPF source: its refused-fork probe */
	size_t n_tgids, n_uids; /* what the last apply wrote */
	int enabled;		/* the last apply's: lineages accounted at all */
};

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
 * there, and its charges keep the probe attached (refusals_arm); a busy
 * but benign host refuses no fork and the probe goes again.
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
	if (bpf_map_delete_elem(b->held, &key) && errno != ENOENT)
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

	if (!stopped)
		bpf_map_delete_elem(b->lymph_stops, &key);
	else if (!start_ticks(pid, &ticks))
		bpf_map_update_elem(b->lymph_stops, &key, &ticks, BPF_ANY);
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
	return o;
}

static void bpf_kt_close(struct kthrottle *k)
{
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
	.json = bpf_json,
	.close = bpf_kt_close,
};

int kthrottle_bpf_open(struct kthrottle *k, struct source *src)
{
	struct bpf_object *obj = source_bpf_object(src);
	struct bpf_kt *b;

	if (!obj)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cfg = bpf_object__find_map_fd_by_name(obj, "throttle_cfg");
	b->tgids = bpf_object__find_map_fd_by_name(obj, "protected_tgids");
	b->uids = bpf_object__find_map_fd_by_name(obj, "protected_uids");
	b->buckets = bpf_object__find_map_fd_by_name(obj, "buckets");
	b->held = bpf_object__find_map_fd_by_name(obj, "held");
	b->src = src;
	b->families = bpf_object__find_map_fd_by_name(obj, "families");
	b->admin_stops = bpf_object__find_map_fd_by_name(obj, "admin_stops");
	b->lymph_stops = bpf_object__find_map_fd_by_name(obj, "lymph_stops");
	if (b->cfg < 0 || b->tgids < 0 || b->uids < 0 || b->buckets < 0 || b->held < 0 ||
	    b->families < 0 ||
	    b->admin_stops < 0 || b->lymph_stops < 0) {
		fprintf(stderr, "lymphd: failed to find the throttle's maps in the BPF sensors; "
				"rebuild lymphd (make) so its sensors and userspace match\n");
		free(b);
		return -ENOENT;
	}
	k->ops = &bpf_kt_ops;
	k->name = "bpf";
	k->source = src->name;
	k->priv = b;
	return 0;
}
