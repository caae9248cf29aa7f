// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/lymph: read-only status, one "key: value" line each, then the
 * top crashers and the throttled lineages (doc/lymph.ko.md has the format).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include "lymph.h"

#define LYMPH_TOP_CRASHERS	5

static int lymph_proc_show(struct seq_file *m, void *v)
{
	int w = READ_ONCE(lymph_cfg.weather);
	int k;

	seq_printf(m, "version: %s abi %d\n", LYMPH_VERSION, LYMPH_ABI_VERSION);
	seq_printf(m, "mode: %s\n", READ_ONCE(lymph_cfg.mode) == LYMPH_MODE_ENFORCE ?
		   "enforce" : "observe");
	seq_printf(m, "weather: %s\n", lymph_weather_name(w));
	seq_printf(m, "readers: %u\n", lymph_nr_readers());
	lymph_ring_show(m);
	seq_printf(m, "ring_drops: %llu\n", (u64)atomic64_read(&lymph_ring_drops));
	seq_puts(m, "events:");
	for (k = 1; k < LYMPH_EV_KIND_MAX; k++)
		seq_printf(m, " %s %llu", lymph_kind_name(k),
			   (u64)atomic64_read(&lymph_events[k]));
	seq_putc(m, '\n');
	lymph_pressure_show(m);
	lymph_lineage_show(m);
	seq_puts(m, "top crashers:\n");
	lymph_crash_show(m, LYMPH_TOP_CRASHERS);
	return 0;
}

static struct proc_dir_entry *lymph_proc;

int lymph_proc_init(void)
{
	lymph_proc = proc_create_single("lymph", 0444, NULL, lymph_proc_show);
	return lymph_proc ? 0 : -ENOMEM;
}

void lymph_proc_exit(void)
{
	proc_remove(lymph_proc);	/* waits for readers inside show() */
}
