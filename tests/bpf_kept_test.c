// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF sensors kept by descriptors alone (userspace/sources/bpf_kept.h):
 * once libbpf's copy of the object is freed, the probes the skeleton
 * attached still run and fill the kept ring, a kept program attaches and
 * detaches by its descriptor, and closing what is kept detaches every
 * probe (none is left running after lymphd).  Root: loads the sensors.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lymph/events.h"
#include "bpf_kept.h"
#include "sensors.skel.h"
#include "kselftest_harness.h"

static const char *const maps[] = { "events", "drops", "calm_keys", NULL };
static const char *const progs[] = { "on_sys_exit", "on_process_exit", NULL };

FIXTURE(kept)
{
	struct bpf_kept k;
	int loaded;
};

FIXTURE_SETUP(kept)
{
	struct sensors *skel;

	bpf_kept_init(&self->k);
	if (geteuid())
		SKIP(return, "needs root (loads the BPF sensors)");
	skel = sensors__open();
	ASSERT_NE(NULL, skel);
	/* as lymphd's source sets them: the per-syscall programs and the
	 * fentry/fexit ones are not needed here */
	bpf_program__set_autoattach(skel->progs.on_sys_exit, false);
	bpf_program__set_autoload(skel->progs.refused_kernel_clone, false);
	bpf_program__set_autoload(skel->progs.charged_at_call, false);
	if (libbpf_find_vmlinux_btf_id("mark_victim", BPF_TRACE_RAW_TP) < 0)
		bpf_program__set_autoload(skel->progs.on_mark_victim, false);
	ASSERT_EQ(0, sensors__load(skel));
	ASSERT_EQ(0, sensors__attach(skel));
	ASSERT_EQ(0,
		  bpf_kept_take(&self->k, skel->obj, skel->skeleton, skel->maps.bss, maps, progs));
	sensors__destroy(skel); /* libbpf's copy gone: what follows uses k only */
	self->loaded = 1;
}

FIXTURE_TEARDOWN(kept)
{
	bpf_kept_close(&self->k);
}

/* The id of the BPF link or program behind fd (0 when it cannot tell). */
static __u32 link_id(int fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Is the link of that id still in the kernel?  Waits up to 2 s for it
 * to go when gone is asked (its release may trail the close). */
static int link_exists(__u32 id, int want_gone)
{
	int i;

	for (i = 0; i < 200; i++) {
		int fd = bpf_link_get_fd_by_id(id);

		if (fd >= 0)
			close(fd);
		if (fd >= 0 && !want_gone)
			return 1;
		if (fd < 0)
			return 0;
		usleep(10000);
	}
	return 1;
}

struct seen {
	pid_t pid;
	int deaths;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	const struct lymph_death *d = data;

	if (size >= sizeof(*d) && d->hdr.kind == LYMPH_EV_DEATH && (pid_t)d->task.pid == s->pid)
		s->deaths++;
	return 0;
}

TEST_F(kept, probes_attached_by_the_skeleton_outlive_its_object)
{
	struct seen s = { 0 };
	struct ring_buffer *rb;
	int status, i;

	rb = ring_buffer__new(bpf_kept_map(&self->k, "events"), on_record, &s, NULL);
	ASSERT_NE(NULL, rb);
	ASSERT_GT(self->k.nlinks, 0U);
	s.pid = fork();
	ASSERT_GE(s.pid, 0);
	if (s.pid == 0) {
		prctl(PR_SET_DUMPABLE, 0); /* no core */
		raise(SIGSEGV);
		_exit(1);
	}
	ASSERT_EQ(s.pid, waitpid(s.pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	/* its death is in the ring, batched or not: read until it is */
	for (i = 0; i < 300 && !s.deaths; i++) {
		ring_buffer__consume(rb);
		if (!s.deaths)
			usleep(10000);
	}
	ring_buffer__free(rb);
	EXPECT_EQ(1, s.deaths) TH_LOG("the exit probe's record of pid %d never came", s.pid);
}

TEST_F(kept, a_kept_program_attaches_and_detaches_by_its_descriptor)
{
	enum bpf_attach_type type = 0;
	int prog = bpf_kept_prog(&self->k, "on_sys_exit", &type);
	struct probe_link l = { -EBADF, -EBADF };
	__u32 id;

	ASSERT_GE(prog, 0);
	EXPECT_EQ((int)BPF_TRACE_RAW_TP, (int)type);
	ASSERT_EQ(0, probe_link_tracing(prog, type, &l));
	id = link_id(l.fd);
	ASSERT_NE(0U, id);
	EXPECT_TRUE(link_exists(id, 0));
	probe_link_close(&l);
	EXPECT_GT(0, l.fd);
	EXPECT_FALSE(link_exists(id, 1)) TH_LOG("link %u still attached after its close", id);
	/* a program not kept (not loaded, or not asked for) is not there */
	EXPECT_EQ(-ENOENT, bpf_kept_prog(&self->k, "refused_kernel_clone", NULL));
	EXPECT_EQ(-ENOENT, probe_link_tracing(-ENOENT, BPF_TRACE_FEXIT, &l));
}

TEST_F(kept, closing_what_is_kept_detaches_every_probe)
{
	__u32 ids[BPF_KEPT_MAX];
	size_t i, n = self->k.nlinks;

	ASSERT_GT(n, 0U);
	for (i = 0; i < n; i++) {
		ids[i] = link_id(self->k.links[i]);
		ASSERT_NE(0U, ids[i]);
	}
	bpf_kept_close(&self->k);
	EXPECT_EQ(0U, self->k.nlinks);
	EXPECT_EQ(-ENOENT, bpf_kept_map(&self->k, "events"));
	for (i = 0; i < n; i++)
		EXPECT_FALSE(link_exists(ids[i], 1)) TH_LOG("link %u outlived the close", ids[i]);
}

/* stops_kept as the .bss map holds it, read by the map's descriptor
 * (found among the maps prog uses), not through k's mapping; -1 when the
 * map is not found. */
static long bss_stops_kept(int prog)
{
	static char value[1 << 16];
	struct bpf_prog_info pi;
	__u32 plen = sizeof(pi), ids[64], zero = 0, i;
	long got = -1;

	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = 64;
	pi.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog, &pi, &plen))
		return -1;
	for (i = 0; i < pi.nr_map_ids && i < 64 && got < 0; i++) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int m = bpf_map_get_fd_by_id(ids[i]);

		if (m < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(m, &info, &len) && strstr(info.name, ".bss") &&
		    info.value_size <= sizeof(value) && !bpf_map_lookup_elem(m, &zero, value))
			got = ((struct sensors__bss *)value)->stops_kept;
		close(m);
	}
	return got;
}

TEST_F(kept, the_probes_bss_is_shared_with_them)
{
	struct sensors__bss *bss = self->k.bss;
	int prog = bpf_kept_prog(&self->k, "on_process_exit", NULL);

	ASSERT_NE(NULL, bss);
	ASSERT_GE(prog, 0);
	/* lymphd writes it, the probes read it: the same page as the map's */
	bss->stops_kept = 3;
	EXPECT_EQ(3, bss_stops_kept(prog));
	bss->stops_kept = 0;
	EXPECT_EQ(0, bss_stops_kept(prog));
}

TEST(a_map_not_in_the_object_is_an_error)
{
	static const char *const wrong[] = { "events", "no_such_map", NULL };
	static const char *const none[] = { NULL };
	struct sensors *skel;
	struct bpf_kept k;

	if (geteuid())
		SKIP(return, "needs root (loads the BPF sensors)");
	bpf_kept_init(&k);
	skel = sensors__open();
	ASSERT_NE(NULL, skel);
	bpf_program__set_autoload(skel->progs.refused_kernel_clone, false);
	bpf_program__set_autoload(skel->progs.charged_at_call, false);
	if (libbpf_find_vmlinux_btf_id("mark_victim", BPF_TRACE_RAW_TP) < 0)
		bpf_program__set_autoload(skel->progs.on_mark_victim, false);
	ASSERT_EQ(0, sensors__load(skel));
	EXPECT_EQ(-ENOENT, bpf_kept_take(&k, skel->obj, NULL, NULL, wrong, none));
	bpf_kept_close(&k);
	sensors__destroy(skel);
}

TEST_HARNESS_MAIN
