// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runtime knobs in /sys/kernel/lymph/.  Files are 0644 (0600 for the
 * protected sets): only root writes.  Every store parses with kstrto*,
 * checks a range and returns -EINVAL otherwise, so a bad write never
 * changes anything.  See doc/lymph.ko.md for the meaning of each.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include "lymph.h"

static const char *const lymph_mode_names[] = { "observe", "enforce" };

/* Serializes stores that check one knob against another. */
static DEFINE_MUTEX(lymph_knobs_mutex);
static struct kobject *lymph_kobj;

/* A protected set, replaced whole on each write and read under RCU. */
struct lymph_idset {
	struct rcu_head rcu;
	unsigned int nr;
	u64 ids[LYMPH_PROTECTED_MAX];
};

static struct lymph_idset __rcu *lymph_prot_uids;
static struct lymph_idset __rcu *lymph_prot_cgroups;

static bool idset_has(struct lymph_idset __rcu **setp, u64 id)
{
	struct lymph_idset *set;
	bool found = false;
	unsigned int i;

	rcu_read_lock();
	set = rcu_dereference(*setp);
	for (i = 0; set && i < set->nr && !found; i++)
		found = set->ids[i] == id;
	rcu_read_unlock();
	return found;
}

bool lymph_uid_protected(u32 uid)
{
	return idset_has(&lymph_prot_uids, uid);
}

/* The task's cgroup v2, or any of its ancestors, is protected. */
bool lymph_cgroup_protected(struct task_struct *task)
{
	struct cgroup *cgrp;
	bool found = false;

	if (!rcu_access_pointer(lymph_prot_cgroups))
		return false;
	rcu_read_lock();
	for (cgrp = task_dfl_cgroup(task); cgrp && !found; cgrp = cgroup_parent(cgrp))
		found = idset_has(&lymph_prot_cgroups, cgroup_id(cgrp));
	rcu_read_unlock();
	return found;
}

static ssize_t idset_show(struct lymph_idset __rcu **setp, char *buf)
{
	struct lymph_idset *set;
	unsigned int i;
	int len = 0;

	rcu_read_lock();
	set = rcu_dereference(*setp);
	for (i = 0; set && i < set->nr; i++)
		len += sysfs_emit_at(buf, len, "%s%llu", i ? " " : "", set->ids[i]);
	rcu_read_unlock();
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

/* "1000 1001,0": up to LYMPH_PROTECTED_MAX ids; an empty write clears. */
static ssize_t idset_store(struct lymph_idset __rcu **setp, const char *buf,
			   size_t count, u64 max)
{
	struct lymph_idset *set, *old;
	char *copy, *p, *tok;
	int err = 0;
	u64 id;

	copy = kstrndup(buf, count, GFP_KERNEL);
	set = kzalloc(sizeof(*set), GFP_KERNEL);
	if (!copy || !set) {
		err = -ENOMEM;
		goto out;
	}
	p = strim(copy);
	while ((tok = strsep(&p, " ,\t\n")) != NULL) {
		if (!*tok)
			continue;
		if (set->nr == LYMPH_PROTECTED_MAX || kstrtou64(tok, 0, &id) || id > max) {
			err = -EINVAL;
			goto out;
		}
		set->ids[set->nr++] = id;
	}
	if (!set->nr) {
		kfree(set);
		set = NULL;
	}
	mutex_lock(&lymph_knobs_mutex);
	old = rcu_replace_pointer(*setp, set, lockdep_is_held(&lymph_knobs_mutex));
	mutex_unlock(&lymph_knobs_mutex);
	set = NULL;
	if (old)
		kfree_rcu(old, rcu);
out:
	kfree(set);
	kfree(copy);
	return err ? err : count;
}

static ssize_t mode_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", lymph_mode_names[READ_ONCE(lymph_cfg.mode)]);
}

static ssize_t mode_store(struct kobject *kobj, struct kobj_attribute *attr,
			  const char *buf, size_t count)
{
	int i = sysfs_match_string(lymph_mode_names, buf);

	if (i < 0)
		return -EINVAL;
	if (READ_ONCE(lymph_cfg.mode) != i)
		pr_info("mode %s\n", lymph_mode_names[i]);
	WRITE_ONCE(lymph_cfg.mode, i);
	return count;
}

static ssize_t weather_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	int w = READ_ONCE(lymph_cfg.weather);

	return sysfs_emit(buf, "%s\n", lymph_weather_name(w));
}

static ssize_t weather_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	int i;

	/* The words of include/lymph/names.h, the same lymphd writes. */
	for (i = 0; i < LYMPH_WEATHER_NR; i++) {
		if (sysfs_streq(buf, lymph_weather_name(i))) {
			WRITE_ONCE(lymph_cfg.weather, i);
			return count;
		}
	}
	return -EINVAL;
}

static ssize_t protected_uids_show(struct kobject *kobj, struct kobj_attribute *attr,
				   char *buf)
{
	return idset_show(&lymph_prot_uids, buf);
}

static ssize_t protected_uids_store(struct kobject *kobj, struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	return idset_store(&lymph_prot_uids, buf, count, U32_MAX - 1);
}

static ssize_t protected_cgroups_show(struct kobject *kobj, struct kobj_attribute *attr,
				      char *buf)
{
	return idset_show(&lymph_prot_cgroups, buf);
}

static ssize_t protected_cgroups_store(struct kobject *kobj, struct kobj_attribute *attr,
				       const char *buf, size_t count)
{
	return idset_store(&lymph_prot_cgroups, buf, count, U64_MAX);
}

/*
 * Unsigned knobs: one table row each, with the range a store must be in.
 * A value of 0 is allowed only where the row says so (0 = off).
 */
struct lymph_uint_knob {
	struct kobj_attribute attr;
	unsigned int *val;
	unsigned int min, max;
	bool zero_ok;
	void (*changed)(unsigned int val);
};

static void crash_size_changed(unsigned int val)
{
	lymph_crash_resize(val);
}

static void pressure_changed(unsigned int val)
{
	lymph_pressure_reschedule();
}

static ssize_t uint_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	struct lymph_uint_knob *k = container_of(attr, struct lymph_uint_knob, attr);

	return sysfs_emit(buf, "%u\n", READ_ONCE(*k->val));
}

static ssize_t uint_store(struct kobject *kobj, struct kobj_attribute *attr,
			  const char *buf, size_t count)
{
	struct lymph_uint_knob *k = container_of(attr, struct lymph_uint_knob, attr);
	unsigned int v;
	int err;

	err = kstrtouint(buf, 0, &v);
	if (err)
		return -EINVAL;
	if (!(v == 0 && k->zero_ok) && (v < k->min || v > k->max))
		return -EINVAL;
	mutex_lock(&lymph_knobs_mutex);
	/* dead_time_min_ms <= dead_time_max_ms, always. */
	if ((k->val == &lymph_cfg.dead_min_ms && v > lymph_cfg.dead_max_ms) ||
	    (k->val == &lymph_cfg.dead_max_ms && v < lymph_cfg.dead_min_ms)) {
		mutex_unlock(&lymph_knobs_mutex);
		return -EINVAL;
	}
	WRITE_ONCE(*k->val, v);
	if (k->changed)
		k->changed(v);
	mutex_unlock(&lymph_knobs_mutex);
	return count;
}

#define LYMPH_UINT_KNOB(_name, _field, _min, _max, _zero_ok, _changed)	\
	static struct lymph_uint_knob knob_##_name = {			\
		.attr = __ATTR(_name, 0644, uint_show, uint_store),	\
		.val = &lymph_cfg._field,				\
		.min = _min, .max = _max, .zero_ok = _zero_ok,		\
		.changed = _changed,					\
	}

LYMPH_UINT_KNOB(clone_budget, clone_budget, 1, 1000000, false, NULL);
LYMPH_UINT_KNOB(clone_burst, clone_burst, 1, 1000000, false, NULL);
LYMPH_UINT_KNOB(uid_clone_budget, uid_budget, 1, 1000000, true, NULL);
LYMPH_UINT_KNOB(uid_clone_burst, uid_burst, 1, 1000000, true, NULL);
LYMPH_UINT_KNOB(dead_time_min_ms, dead_min_ms, 1, 600000, false, NULL);
LYMPH_UINT_KNOB(dead_time_max_ms, dead_max_ms, 1, 600000, false, NULL);
LYMPH_UINT_KNOB(crash_table_size, crash_size, 16, LYMPH_CRASH_MAX, false,
		crash_size_changed);
LYMPH_UINT_KNOB(pressure_interval_ms, pressure_ms, 100, 3600000, true,
		pressure_changed);
LYMPH_UINT_KNOB(pressure_runq_pct, pressure_runq_pct, 1, 10000, false, NULL);
LYMPH_UINT_KNOB(pressure_rss_kb, pressure_rss_kb, 1, INT_MAX, false, NULL);
LYMPH_UINT_KNOB(pressure_majflt, pressure_majflt, 1, INT_MAX, false, NULL);

static struct kobj_attribute mode_attr = __ATTR_RW(mode);
static struct kobj_attribute weather_attr = __ATTR_RW(weather);
static struct kobj_attribute protected_uids_attr =
	__ATTR(protected_uids, 0600, protected_uids_show, protected_uids_store);
static struct kobj_attribute protected_cgroups_attr =
	__ATTR(protected_cgroups, 0600, protected_cgroups_show, protected_cgroups_store);

static struct attribute *lymph_attrs[] = {
	&mode_attr.attr,
	&weather_attr.attr,
	&knob_clone_budget.attr.attr,
	&knob_clone_burst.attr.attr,
	&knob_uid_clone_budget.attr.attr,
	&knob_uid_clone_burst.attr.attr,
	&knob_dead_time_min_ms.attr.attr,
	&knob_dead_time_max_ms.attr.attr,
	&knob_crash_table_size.attr.attr,
	&knob_pressure_interval_ms.attr.attr,
	&knob_pressure_runq_pct.attr.attr,
	&knob_pressure_rss_kb.attr.attr,
	&knob_pressure_majflt.attr.attr,
	&protected_uids_attr.attr,
	&protected_cgroups_attr.attr,
	NULL,
};

static const struct attribute_group lymph_group = {
	.attrs = lymph_attrs,
};

int lymph_knobs_init(void)
{
	int err;

	lymph_kobj = kobject_create_and_add("lymph", kernel_kobj);
	if (!lymph_kobj)
		return -ENOMEM;
	err = sysfs_create_group(lymph_kobj, &lymph_group);
	if (err)
		kobject_put(lymph_kobj);
	return err;
}

void lymph_knobs_exit(void)
{
	kobject_put(lymph_kobj);	/* removes the files, waits for stores */
}

/* After the probes are gone: nobody reads the sets any more. */
void lymph_knobs_free(void)
{
	kfree(rcu_dereference_protected(lymph_prot_uids, 1));
	kfree(rcu_dereference_protected(lymph_prot_cgroups, 1));
}
