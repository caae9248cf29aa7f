// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF source: load bpf/sensors.bpf.c, attach its tp_btf programs and
 * drain its ring buffer.  The default and best source: it sees si_code,
 * the sender of every fatal signal and the fault address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "procfs.h"
#include "record.h"
#include "source.h"
#include "sensors.h"
#include "sensors.skel.h"

struct bpf_priv {
	struct sensors *skel;
	struct ring_buffer *rb;
	uint64_t drops_seen;	/* sum of the per-CPU counters last read */
	int ncpus;
	uint64_t *percpu;	/* scratch for reading the counters */
};

static int verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Quiet unless -vv: lymphd's own message says what failed. */
	if (!verbose_libbpf)
		return 0;
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct source *src = ctx;
	const struct lymph_hdr *rec = data;

	/* A malformed record cannot be used, but is never lost silently:
	 * it is reported as a drop like a record the ring had no room for. */
	if (record_check(rec, size))
		return source_emit_drop(src, 1, clock_mono_ns());
	return src->sink(src->sink_ctx, rec);
}

static int bpf_drain(struct source *src)
{
	struct bpf_priv *p = src->priv;
	int n = ring_buffer__consume(p->rb);

	return n < 0 ? n : 0;
}

static int bpf_check_drops(struct source *src)
{
	struct bpf_priv *p = src->priv;
	uint64_t sum = 0;
	uint32_t zero = 0;
	int i;

	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.drops), &zero, p->percpu))
		return -errno;
	for (i = 0; i < p->ncpus; i++)
		sum += p->percpu[i];
	if (sum == p->drops_seen)
		return 0;
	{
		uint64_t lost = sum - p->drops_seen;

		p->drops_seen = sum;
		return source_emit_drop(src, lost, clock_mono_ns());
	}
}

static void bpf_close(struct source *src)
{
	struct bpf_priv *p = src->priv;

	if (!p)
		return;
	ring_buffer__free(p->rb);
	sensors__destroy(p->skel);
	free(p->percpu);
	free(p);
	src->priv = NULL;
	src->fd = -EBADF;
}

static int bpf_set_throttle(struct source *src, const struct throttle_settings *t)
{
	struct bpf_priv *p = src->priv;
	struct throttle_cfg c = {
		.enabled = !!t->enabled, .enforce = !!t->enforce, .lineage_kind = t->lineage_kind,
		.budget = t->budget, .burst = t->burst,
		.uid_budget = t->uid_budget, .uid_burst = t->uid_burst ?: 1,
		.daemon_tgid = t->daemon_tgid,
	};
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.throttle_cfg), &zero, &c, BPF_ANY))
		return -errno;
	return 0;
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

static int bpf_protect(struct source *src, const uint32_t *tgids, size_t n_tgids,
		       const uint32_t *uids, size_t n_uids)
{
	struct bpf_priv *p = src->priv;
	int err = fill_set(bpf_map__fd(p->skel->maps.protected_tgids), tgids, n_tgids);

	return err ? err : fill_set(bpf_map__fd(p->skel->maps.protected_uids), uids, n_uids);
}

static int bpf_forget_lineage(struct source *src, uint32_t kind, uint64_t id)
{
	struct bpf_priv *p = src->priv;
	struct lineage_key k = { .id = id, .kind = kind };

	if (bpf_map_delete_elem(bpf_map__fd(p->skel->maps.buckets), &k) && errno != ENOENT)
		return -errno;
	return 0;
}

static int bpf_family_of(struct source *src, pid_t pid, uint64_t *id)
{
	struct bpf_priv *p = src->priv;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), err = 0;
	struct family f;

	if (fd < 0)
		return -errno;
	/* task storage is looked up by a pidfd from userspace */
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.families), &fd, &f))
		err = -errno;
	else
		*id = f.id;
	close(fd);
	return err;
}

static int bpf_admin_stopped(struct source *src, pid_t pid)
{
	struct bpf_priv *p = src->priv;
	uint32_t k = (uint32_t)pid;
	uint64_t when;

	return !bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.admin_stops), &k, &when);
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

static void bpf_note_stop(struct source *src, pid_t pid, int stopped)
{
	struct bpf_priv *p = src->priv;
	int fd = bpf_map__fd(p->skel->maps.lymph_stops);
	uint32_t k = (uint32_t)pid;
	uint64_t ticks;

	if (!stopped)
		bpf_map_delete_elem(fd, &k);
	else if (!start_ticks(pid, &ticks))
		bpf_map_update_elem(fd, &k, &ticks, BPF_ANY);
}

static const struct source_ops bpf_ops = {
	.note_stop = bpf_note_stop,
	.family_of = bpf_family_of,
	.admin_stopped = bpf_admin_stopped,
	.drain = bpf_drain,
	.check_drops = bpf_check_drops,
	.close = bpf_close,
	.set_throttle = bpf_set_throttle,
	.protect = bpf_protect,
	.forget_lineage = bpf_forget_lineage,
};

static int is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int source_bpf_open(struct source *src, const struct source_opts *opts,
		    lymph_sink_fn sink, void *ctx, int verbose)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	const char *btf = getenv("LYMPH_BTF_PATH");
	const char *btf_path = btf ? btf : "/sys/kernel/btf/vmlinux";
	struct bpf_priv *p;
	int err;

	verbose_libbpf = verbose > 1;
	libbpf_set_print(libbpf_print);
	memset(src, 0, sizeof(*src));
	src->fd = -EBADF;

	/* 1. CO-RE needs the kernel's BTF: say so plainly if it is missing. */
	if (access(btf_path, R_OK)) {
		err = -errno;
		if (verbose)
			fprintf(stderr, "lymphd: kernel BTF not readable at %s: %s; the BPF sensors need a "
				"kernel built with CONFIG_DEBUG_INFO_BTF (or use --source=proc)\n",
				btf_path, strerror(-err));
		return err;
	}
	if (btf)
		oo.btf_custom_path = btf;
	if (!is_pow2(opts->ring_bytes)) {
		if (verbose)
			fprintf(stderr, "lymphd: ring size %u is not a power of two\n", opts->ring_bytes);
		return -EINVAL;
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		err = p->ncpus ? p->ncpus : -EINVAL;
		goto fail_msg;
	}
	p->percpu = calloc(p->ncpus, sizeof(uint64_t));
	if (!p->percpu) {
		err = -ENOMEM;
		goto fail_msg;
	}

	/* 2. Open, configure through rodata, size the ring, load. */
	p->skel = sensors__open_opts(&oo);
	if (!p->skel) {
		err = -errno;
		goto fail_msg;
	}
	p->skel->rodata->want_fork = !!opts->want_fork;
	p->skel->rodata->want_exec = !!opts->want_exec;
	/* Wake lymphd for bulk records once an eighth of the ring is used. */
	p->skel->rodata->wake_mark_bytes = opts->ring_bytes / 8;
	err = bpf_map__set_max_entries(p->skel->maps.events, opts->ring_bytes);
	if (err)
		goto fail_msg;
	/* Kernels before 6.8 have a different mark_victim prototype. */
	if (libbpf_find_vmlinux_btf_id("mark_victim", BPF_TRACE_RAW_TP) < 0) {
		bpf_program__set_autoload(p->skel->progs.on_mark_victim, false);
		src->missing = "oom";
	}
	err = sensors__load(p->skel);
	if (err)
		goto fail_msg;

	/* 3. Attach every probe. */
	err = sensors__attach(p->skel);
	if (err)
		goto fail_msg;
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), on_sample, src, NULL);
	if (!p->rb) {
		err = -errno;
		goto fail_msg;
	}

	src->ops = &bpf_ops;
	src->name = "bpf";
	src->id = LYMPH_SRC_BPF;
	src->fd = ring_buffer__epoll_fd(p->rb);
	src->sink = sink;
	src->sink_ctx = ctx;
	src->priv = p;
	return 0;

fail_msg:
	if (verbose)
		fprintf(stderr, "lymphd: failed to load the BPF sensors: %s; lymphd needs root "
			"(CAP_BPF, CAP_PERFMON); use -vv for libbpf's log, or --source=proc\n",
			strerror(-err));
	src->priv = p;
	bpf_close(src);
	return err;
}
