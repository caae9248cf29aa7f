/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What lymphd keeps of a loaded BPF object, by file descriptors alone,
 * once libbpf's copy of the object is freed.
 *
 * Why: after the load, libbpf still holds the object's programs (their
 * instructions), its BTF and line info, and the relocations it parsed:
 * 0.68 MiB of an idle lymphd's 1.1 MiB of heap, resident for the
 * daemon's whole life and never read again (bench/footprint: lymphd's
 * VmRSS without the ring, 4.05 MiB against the 4 MiB of issue 15).  The
 * kernel holds the programs, maps and links themselves; lymphd needs
 * only their descriptors, the probes' .bss mapped, and a way to attach
 * a loaded program later (probe_link_*), which the kernel gives by its
 * descriptor.
 */
#ifndef LYMPH_BPF_KEPT_H
#define LYMPH_BPF_KEPT_H

#include <stddef.h>
#include <bpf/bpf.h>

struct bpf_object;
struct bpf_object_skeleton;
struct bpf_map;

#define BPF_KEPT_MAX 40

struct bpf_kept {
	struct {
		char name[64];
		int fd;
	} maps[BPF_KEPT_MAX];
	size_t nmaps;
	struct {
		char name[64];
		int fd;
		enum bpf_attach_type type;
	} progs[BPF_KEPT_MAX];
	size_t nprogs;
	int links[BPF_KEPT_MAX]; /* the links the skeleton attached */
	size_t nlinks;
	void *bss; /* the probes' .bss, mapped shared (NULL: none) */
	size_t bss_len;
};

/* An empty k (nothing to close). */
void bpf_kept_init(struct bpf_kept *k);

/*
 * Take over obj's maps called maps and its loaded programs called progs
 * (NULL-terminated lists; descriptors of k's own: only those, since each
 * is a descriptor more until the object is destroyed), the links
 * skeleton s attached (disconnected from libbpf: they stay attached until
 * k closes them), and map bss_map (the .bss, NULL: none) shared.  The
 * object may then be destroyed (its skeleton's destroy) without detaching
 * anything.  0, -ENOENT when a map named is not in obj, or -errno (k then
 * holds what it took: close it).  A program not loaded is left out.
 */
int bpf_kept_take(struct bpf_kept *k, struct bpf_object *obj, struct bpf_object_skeleton *s,
		  const struct bpf_map *bss_map, const char *const *maps, const char *const *progs);

/* The descriptor of the map called name (k's: never to be closed by the
 * caller), -ENOENT when k has none. */
int bpf_kept_map(const struct bpf_kept *k, const char *name);

/* The descriptor of the loaded program called name and its attach type,
 * -ENOENT when none was loaded. */
int bpf_kept_prog(const struct bpf_kept *k, const char *name, enum bpf_attach_type *type);

/* Close everything k holds: the links (detaching those probes), maps,
 * programs, the .bss mapping.  k is empty after it. */
void bpf_kept_close(struct bpf_kept *k);

/* A link lymphd makes on a loaded program: fd, the BPF link; pfd, a
 * tracepoint's perf event (-EBADF otherwise).  Closing both detaches. */
struct probe_link {
	int fd, pfd;
};

/* Attach a loaded tracing program (tp_btf, fentry, fexit: type) by its
 * descriptor.  0, or -errno. */
int probe_link_tracing(int prog_fd, enum bpf_attach_type type, struct probe_link *l);

/* Attach a loaded tracepoint program to the perf event pfd and enable it;
 * l owns pfd from then on (on failure the caller still does).  0, or -errno. */
int probe_link_perf(int prog_fd, int pfd, struct probe_link *l);

/* Detach l (nothing when it holds nothing); l holds nothing after it. */
void probe_link_close(struct probe_link *l);

#endif
