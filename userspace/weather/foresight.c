// SPDX-License-Identifier: GPL-2.0-only
/* Foresight for disks: sampling and trends per filesystem (foresight.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <json-c/json.h>
#include "foresight.h"

#define MOUNTS_PERIOD_NS (30ULL * 1000000000ULL) /* mountinfo re-read */

void foresight_init(struct foresight *f)
{
	memset(f, 0, sizeof(*f));
}

void foresight_free(struct foresight *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int foresight_fstype_watched(const char *t)
{
	static const char *const skip[] = {
		"proc",	      "sysfs",	   "devtmpfs",	"devpts",     "cgroup",	     "cgroup2",
		"mqueue",     "debugfs",   "tracefs",	"securityfs", "pstore",	     "bpf",
		"autofs",     "hugetlbfs", "configfs",	"fusectl",    "binfmt_misc", "nsfs",
		"rpc_pipefs", "efivarfs",  "selinuxfs", "squashfs",   "iso9660",     "nfs",
		"nfs4",	      "cifs",	   "smb3",	"9p",	      "ceph",	     "glusterfs",
		"afs",	      "ramfs",	   "fuse",	"overlay-ro",
	};
	size_t i;

	if (!strncmp(t, "fuse.", 5))
		return 0;
	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(t, skip[i]))
			return 0;
	return 1;
}

/* mountinfo escapes blanks and backslashes as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

struct fs_watch *foresight_find(struct foresight *f, dev_t dev)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i]->dev == dev)
			return f->v[i];
	return NULL;
}

static void read_mounts(struct foresight *f, const struct phagocyte_conf *c)
{
	FILE *m = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	size_t i, k;

	if (!m)
		return;
	f->gen++;
	while (fgets(line, sizeof(line), m)) {
		char mp[1024], opts[512], fstype[64], *dash = strstr(line, " - ");
		struct fs_watch *w, **grown;
		struct stat st;

		if (!dash || sscanf(line, "%*s %*s %*s %*s %1023s %511s", mp, opts) != 2 ||
		    sscanf(dash + 3, "%63s", fstype) != 1)
			continue;
		unescape(mp);
		if (!foresight_fstype_watched(fstype) || !strncmp(mp, "/proc", 5) ||
		    !strncmp(mp, "/sys", 4) || !strncmp(opts, "ro,", 3) || !strcmp(opts, "ro") ||
		    strlen(mp) >= sizeof(w->path))
			continue;
		if (c->n_watch) {
			for (i = 0; i < c->n_watch && strcmp(c->watch[i], mp); i++)
				;
			if (i == c->n_watch)
				continue;
		}
		if (stat(mp, &st) || !S_ISDIR(st.st_mode))
			continue; /* a file bind mount */
		w = foresight_find(f, st.st_dev);
		if (w) {
			/* a bind mount of a filesystem already watched: the shorter path names it */
			if (w->gen != f->gen || strlen(mp) < strlen(w->path))
				snprintf(w->path, sizeof(w->path), "%s", mp);
			w->gen = f->gen;
			continue;
		}
		w = calloc(1, sizeof(*w));
		grown = w ? realloc(f->v, (f->n + 1) * sizeof(*grown)) : NULL;
		if (!grown) {
			free(w);
			break;
		}
		f->v = grown;
		snprintf(w->path, sizeof(w->path), "%s", mp);
		snprintf(w->fstype, sizeof(w->fstype), "%s", fstype);
		w->dev = st.st_dev;
		w->gen = f->gen;
		w->ttf_s = -1;
		w->resource = "bytes";
		f->v[f->n++] = w;
	}
	fclose(m);
	/* unmounted since: forgotten */
	for (i = k = 0; i < f->n; i++) {
		if (f->v[i]->gen == f->gen)
			f->v[k++] = f->v[i];
		else
			free(f->v[i]);
	}
	f->n = k;
}

static void sample_one(struct fs_watch *w, const struct phagocyte_conf *c, uint64_t now)
{
	struct statvfs sv;
	double rb, ri, tb = -1, ti = -1, ttf;
	int r;

	if (statvfs(w->path, &sv) || !sv.f_blocks)
		return;
	w->avail_bytes = (double)sv.f_bavail * (double)sv.f_frsize;
	w->avail_inodes = (double)sv.f_favail;
	w->total_bytes = (double)sv.f_blocks * (double)sv.f_frsize;
	w->total_inodes = (double)sv.f_files;
	/* The trends of what is used (negated availability): filling is a
	 * sustained rise whose floor rises too (leak_check), so neither a
	 * sawtooth nor bursts written and deleted again make a trend. */
	dtrend_add(&w->bytes, now, -w->avail_bytes, c->disk_window);
	dtrend_add(&w->inodes, now, -w->avail_inodes, c->disk_window);
	r = leak_check(&w->bytes, c->disk_window, -w->avail_bytes, 0, &rb, &tb);
	w->have_trend = r != -EAGAIN;
	if (!w->have_trend)
		return;
	w->rate_bytes = -rb;
	if (r != 1)
		tb = -1;
	/* filesystems without inode accounting (f_files 0) only have bytes */
	if (sv.f_files) {
		r = leak_check(&w->inodes, c->disk_window, -w->avail_inodes, 0, &ri, &ti);
		if (r != -EAGAIN)
			w->rate_inodes = -ri;
		if (r != 1)
			ti = -1;
	}
	ttf = tb;
	w->resource = "bytes";
	if (ti >= 0 && (ttf < 0 || ti < ttf)) {
		ttf = ti;
		w->resource = "inodes";
	}
	w->ttf_s = ttf;
	/* in danger once below the horizon for the dead time; clear only
	 * above twice the horizon (or when it stops filling) */
	switch (disk_danger_step(&w->dd, c, ttf, now)) {
	case DISK_DANGER_ENTERED:
		w->entered = 1;
		break;
	case DISK_DANGER_CLEARED:
		w->cleared = 1;
		break;
	}
}

int foresight_tick(struct foresight *f, const struct phagocyte_conf *c, uint64_t now)
{
	size_t i;

	/* On a grid of disk_interval, give or take an eighth of it: the drain
	 * tick that calls this comes some microseconds late, more or less,
	 * each time, and "now >= next" with next = now + interval skipped
	 * every tick that came less late than the one before, so an interval
	 * of the tick's length sampled at 250 or 500 ms at random (uneven
	 * samples that made bursts look like a trend). */
	if (!c->foresight || now + c->disk_interval / 8 < f->next)
		return 0;
	f->next = f->next && now < f->next + c->disk_interval ? f->next + c->disk_interval
							      : now + c->disk_interval;
	if (now >= f->next_mounts) {
		read_mounts(f, c);
		f->next_mounts = now + MOUNTS_PERIOD_NS;
	}
	for (i = 0; i < f->n; i++)
		sample_one(f->v[i], c, now);
	return 1;
}

uint32_t foresight_danger(const struct foresight *f)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < f->n; i++)
		n += f->v[i]->dd.danger;
	return n;
}

struct json_object *foresight_json(const struct foresight *f, uint64_t now)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < f->n; i++) {
		const struct fs_watch *w = f->v[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "mount", json_object_new_string(w->path));
		json_object_object_add(o, "fstype", json_object_new_string(w->fstype));
		json_object_object_add(o, "avail_bytes", json_object_new_double(w->avail_bytes));
		json_object_object_add(o, "avail_inodes", json_object_new_double(w->avail_inodes));
		json_object_object_add(o, "learning", json_object_new_boolean(!w->have_trend));
		if (w->have_trend) {
			json_object_object_add(o, "bytes_per_s",
					       json_object_new_double(w->rate_bytes));
			json_object_object_add(o, "inodes_per_s",
					       json_object_new_double(w->rate_inodes));
			json_object_object_add(o, "time_to_full_s",
					       w->ttf_s < 0 ? NULL
							    : json_object_new_double(w->ttf_s));
			json_object_object_add(o, "fills_first",
					       json_object_new_string(w->resource));
		}
		json_object_object_add(o, "danger", json_object_new_boolean(w->dd.danger));
		if (w->dd.danger)
			json_object_object_add(
				o, "danger_for_s",
				json_object_new_double((double)(now - w->dd.since) / 1e9));
		json_object_array_add(a, o);
	}
	return a;
}
