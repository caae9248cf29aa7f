// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymph.ko: the kernel half of the lymph computer immune system.
 *
 * Senses process deaths, fatal signals, execs, forks and OOM victims on the
 * kernel's tracepoints and hands them to lymphd through /dev/lymph; keeps a
 * per-binary crash table; accounts clone rates per lineage and, in enforce
 * mode, slows a fork storm with dead time; spot-checks per-process
 * pressure.  Tuned in /sys/kernel/lymph/, reported in /proc/lymph.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include "lymph.h"

struct lymph_config lymph_cfg = {
	.mode			= LYMPH_MODE_OBSERVE,
	.clone_budget		= 100,
	.clone_burst		= 200,
	.uid_budget		= 0,	/* no per-uid budget until one is written */
	.uid_burst		= 2000,
	.dead_min_ms		= 50,
	.dead_max_ms		= 5000,
	.crash_size		= 256,
	.pressure_ms		= 10000,
	.pressure_runq_pct	= 50,
	.pressure_rss_kb	= 256 * 1024,
	.pressure_majflt	= 1000,
	.weather		= -1,	/* unknown until lymphd writes it */
};

/* Bytes of ring per reader of /dev/lymph: a power of two. */
static unsigned int ring_size = 256 * 1024;

static int ring_size_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v < 4096 || v > (64 << 20) || !is_power_of_2(v))
		return -EINVAL;
	*(unsigned int *)kp->arg = v;
	return 0;
}

static const struct kernel_param_ops ring_size_ops = {
	.set = ring_size_set,
	.get = param_get_uint,
};
module_param_cb(ring_size, &ring_size_ops, &ring_size, 0444);
MODULE_PARM_DESC(ring_size, "bytes of ring per /dev/lymph reader, power of two, 4 KiB..64 MiB (default 256 KiB)");

static int __init lymph_init(void)
{
	int err;

	err = lymph_crash_init();
	if (err)
		return err;
	err = lymph_ring_init(ring_size);
	if (err)
		goto err_crash;
	err = lymph_lineage_init();
	if (err)
		goto err_ring;
	err = lymph_sensors_init();
	if (err)
		goto err_lineage;
	err = lymph_pressure_init();
	if (err)
		goto err_sensors;
	err = lymph_knobs_init();
	if (err)
		goto err_pressure;
	err = lymph_proc_init();
	if (err)
		goto err_knobs;
	pr_info("loaded, version %s, ring %u bytes per reader\n", LYMPH_VERSION,
		ring_size);
	return 0;

err_knobs:
	lymph_knobs_exit();
err_pressure:
	lymph_pressure_exit();
err_sensors:
	lymph_sensors_exit();
err_lineage:
	lymph_lineage_exit();
err_ring:
	lymph_ring_exit();
err_crash:
	lymph_crash_exit();
	lymph_knobs_free();
	return err;
}

/*
 * The reverse of init.  The order matters twice: holds are released after
 * the probes are gone (so that no new hold can appear) and before readers
 * are waited for; readers are woken last, so lymphd reads the records made
 * up to the end.
 */
static void __exit lymph_exit(void)
{
	lymph_proc_exit();
	lymph_knobs_exit();
	lymph_pressure_exit();
	lymph_sensors_exit();
	lymph_lineage_exit();
	lymph_ring_exit();
	lymph_crash_exit();
	lymph_knobs_free();
	pr_info("unloaded\n");
}

module_init(lymph_init);
module_exit(lymph_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lymph: process death, fork-storm and pressure sensors with in-kernel fork dead time");
MODULE_VERSION(LYMPH_VERSION);
