// SPDX-License-Identifier: GPL-2.0-only
/* A loaded BPF object kept by descriptors alone (bpf_kept.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>
#include "bpf_kept.h"

void bpf_kept_init(struct bpf_kept *k)
{
	memset(k, 0, sizeof(*k));
}

/* A descriptor of k's own for fd (libbpf closes its own with the object). */
static int dup_fd(int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	return d < 0 ? -errno : d;
}

/* Is name in the NULL-terminated list? */
static int listed(const char *const *names, const char *name)
{
	for (; *names; names++)
		if (!strcmp(*names, name))
			return 1;
	return 0;
}

static int take_maps(struct bpf_kept *k, struct bpf_object *obj, const char *const *names)
{
	struct bpf_map *m;
	size_t want = 0;

	while (names[want])
		want++;
	for (m = bpf_object__next_map(obj, NULL); m; m = bpf_object__next_map(obj, m)) {
		int fd = bpf_map__fd(m);

		if (!listed(names, bpf_map__name(m)))
			continue;
		if (fd < 0 || k->nmaps == BPF_KEPT_MAX)
			return fd < 0 ? -EBADF : -E2BIG;
		fd = dup_fd(fd);
		if (fd < 0)
			return fd;
		snprintf(k->maps[k->nmaps].name, sizeof(k->maps[0].name), "%s", bpf_map__name(m));
		k->maps[k->nmaps++].fd = fd;
	}
	return k->nmaps == want ? 0 : -ENOENT;
}

static int take_progs(struct bpf_kept *k, struct bpf_object *obj, const char *const *names)
{
	struct bpf_program *p;

	for (p = bpf_object__next_program(obj, NULL); p; p = bpf_object__next_program(obj, p)) {
		int fd = bpf_program__fd(p);

		if (fd < 0 || !listed(names, bpf_program__name(p)))
			continue; /* not loaded (autoload off), or not wanted */
		if (k->nprogs == BPF_KEPT_MAX)
			return -E2BIG;
		fd = dup_fd(fd);
		if (fd < 0)
			return fd;
		snprintf(k->progs[k->nprogs].name, sizeof(k->progs[0].name), "%s",
			 bpf_program__name(p));
		k->progs[k->nprogs].type = bpf_program__expected_attach_type(p);
		k->progs[k->nprogs++].fd = fd;
	}
	return 0;
}

/* The skeleton's links: disconnected, libbpf neither detaches nor closes
 * them when it destroys the object; their descriptors are k's. */
static int take_links(struct bpf_kept *k, struct bpf_object_skeleton *s)
{
	int i;

	for (i = 0; i < s->prog_cnt; i++) {
		struct bpf_prog_skeleton *ps = (void *)((char *)s->progs +
							(size_t)i * (size_t)s->prog_skel_sz);
		struct bpf_link *l = ps->link ? *ps->link : NULL;

		if (!l)
			continue;
		if (k->nlinks == BPF_KEPT_MAX)
			return -E2BIG;
		k->links[k->nlinks++] = bpf_link__fd(l);
		bpf_link__disconnect(l);
	}
	return 0;
}

static int map_bss(struct bpf_kept *k, const struct bpf_map *bss_map)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = bpf_map__value_size(bss_map);
	int fd = bpf_map__fd(bss_map);
	void *at;

	if (fd < 0)
		return -EBADF;
	len = (len + (size_t)page - 1) / (size_t)page * (size_t)page;
	at = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (at == MAP_FAILED)
		return -errno;
	k->bss = at;
	k->bss_len = len;
	return 0;
}

int bpf_kept_take(struct bpf_kept *k, struct bpf_object *obj, struct bpf_object_skeleton *s,
		  const struct bpf_map *bss_map, const char *const *maps, const char *const *progs)
{
	int err = take_maps(k, obj, maps);

	if (!err)
		err = take_progs(k, obj, progs);
	if (!err && bss_map)
		err = map_bss(k, bss_map);
	/* last: once disconnected, only k detaches them */
	if (!err && s)
		err = take_links(k, s);
	return err;
}

int bpf_kept_map(const struct bpf_kept *k, const char *name)
{
	size_t i;

	for (i = 0; i < k->nmaps; i++)
		if (!strcmp(k->maps[i].name, name))
			return k->maps[i].fd;
	return -ENOENT;
}

int bpf_kept_prog(const struct bpf_kept *k, const char *name, enum bpf_attach_type *type)
{
	size_t i;

	for (i = 0; i < k->nprogs; i++)
		if (!strcmp(k->progs[i].name, name)) {
			if (type)
				*type = k->progs[i].type;
			return k->progs[i].fd;
		}
	return -ENOENT;
}

void bpf_kept_close(struct bpf_kept *k)
{
	size_t i;

	for (i = 0; i < k->nlinks; i++)
		close(k->links[i]);
	for (i = 0; i < k->nprogs; i++)
		close(k->progs[i].fd);
	for (i = 0; i < k->nmaps; i++)
		close(k->maps[i].fd);
	if (k->bss)
		munmap(k->bss, k->bss_len);
	bpf_kept_init(k);
}

int probe_link_tracing(int prog_fd, enum bpf_attach_type type, struct probe_link *l)
{
	int fd;

	if (prog_fd < 0)
		return -ENOENT;
	/* libbpf's bpf_link_create falls back to BPF_RAW_TRACEPOINT_OPEN on
	 * kernels whose LINK_CREATE does not take tracing programs. */
	fd = bpf_link_create(prog_fd, 0, type, NULL);
	if (fd < 0)
		return fd;
	l->fd = fd;
	l->pfd = -EBADF;
	return 0;
}

int probe_link_perf(int prog_fd, int pfd, struct probe_link *l)
{
	int fd, err;

	if (prog_fd < 0)
		return -ENOENT;
	fd = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, NULL);
	/* before Linux 5.15 (no perf link): the perf event's own ioctl */
	if (fd < 0 && ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0)
		return -errno;
	if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	l->fd = fd < 0 ? -EBADF : fd;
	l->pfd = pfd;
	return 0;
}

void probe_link_close(struct probe_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->pfd >= 0)
		close(l->pfd);
	l->fd = l->pfd = -EBADF;
}
