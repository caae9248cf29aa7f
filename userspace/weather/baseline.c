// SPDX-License-Identifier: GPL-2.0-only
/* Time-of-week baselines, anomalies and entropy (see baseline.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "atomic_file.h"
#include "baseline.h"

enum {
	DIR_HIGH = 1,
	DIR_LOW = 2,
	DIR_BOTH = 3
};

static const struct {
	const char *name;
	double floor_abs; /* sigma is never taken below this... */
	double floor_rel; /* ...nor below this fraction of |mean| */
	int dirs;	  /* which deviations mean something */
} sigs[BL_NSIG] = {
	[BL_DANGER] = { "danger", 0.5, 0.2, DIR_HIGH },
	[BL_FORKS] = { "forks", 2.0, 0.1, DIR_BOTH },
	[BL_EXECS] = { "execs", 1.0, 0.1, DIR_BOTH },
	[BL_OOM] = { "oom", 0.5, 0.2, DIR_HIGH },
	[BL_PSI_CPU] = { "psi_cpu", 2.0, 0.1, DIR_HIGH },
	[BL_PSI_MEMORY] = { "psi_memory", 2.0, 0.1, DIR_HIGH },
	[BL_PSI_IO] = { "psi_io", 2.0, 0.1, DIR_HIGH },
	[BL_PROCS] = { "procs", 5.0, 0.05, DIR_BOTH },
	[BL_CRASH_ENTROPY] = { "crash_entropy", 0.25, 0.1, DIR_BOTH },
};

const char *bl_signal_name(enum bl_signal s)
{
	return (unsigned int)s < BL_NSIG ? sigs[s].name : "?";
}

void baseline_init(struct baseline *b, double alpha, uint32_t min_weeks)
{
	memset(b, 0, sizeof(*b));
	b->cur_week_slot = -1;
	b->alpha = alpha > 0 && alpha <= 1 ? alpha : 0.3;
	b->min_weeks = min_weeks ? min_weeks : 1;
	b->min_samples = 1;
}

unsigned int baseline_slot(int64_t wall_s, int64_t tz_offset_s)
{
	/* The epoch was a Thursday; slot 0 is Monday 00:00 local time. */
	int64_t t = wall_s + tz_offset_s + 3 * 86400;
	int64_t week = 7 * 86400;

	t %= week;
	if (t < 0)
		t += week;
	return (unsigned int)(t / BL_SLOT_SECONDS);
}

void baseline_fold(struct baseline *b, enum bl_signal s, unsigned int slot, double v)
{
	struct bl_slot *sl;
	double diff, incr;

	if ((unsigned int)s >= BL_NSIG || slot >= BL_SLOTS || !isfinite(v))
		return;
	sl = &b->slot[s][slot];
	if (!sl->n) {
		sl->mean = (float)v;
		sl->var = 0;
	} else {
		/* West's incremental EWMA of mean and variance. */
		diff = v - sl->mean;
		incr = b->alpha * diff;
		sl->mean = (float)(sl->mean + incr);
		sl->var = (float)((1 - b->alpha) * (sl->var + diff * incr));
	}
	if (sl->n < UINT32_MAX)
		sl->n++;
}

int baseline_observe(struct baseline *b, int64_t wall_s, const double v[BL_NSIG])
{
	int64_t abs_slot = wall_s >= 0 ? wall_s / BL_SLOT_SECONDS : -1;
	int folded = 0, s;

	if (abs_slot < 0)
		return 0;
	if (b->cur_week_slot >= 0 && abs_slot != b->cur_week_slot) {
		unsigned int slot = baseline_slot(b->cur_week_slot * BL_SLOT_SECONDS, 0);

		/* A slot counts only if it was watched for long enough: a
		 * lymphd that started at 09:04 says little about 09:00-09:05. */
		for (s = 0; s < BL_NSIG; s++) {
			if (b->acc_n[s] && b->acc_n[s] >= b->min_samples)
				baseline_fold(b, s, slot, b->acc_sum[s] / b->acc_n[s]);
			b->acc_sum[s] = 0;
			b->acc_n[s] = 0;
		}
		b->folds++;
		folded = 1;
	}
	b->cur_week_slot = abs_slot;
	for (s = 0; s < BL_NSIG; s++) {
		if (!isfinite(v[s]))
			continue;
		b->acc_sum[s] += v[s];
		b->acc_n[s]++;
	}
	return folded;
}

double baseline_sigma(enum bl_signal s, const struct bl_slot *sl)
{
	double sigma = sqrt(sl->var > 0 ? sl->var : 0);
	double fl = sigs[s].floor_rel * fabs(sl->mean);

	if (sigma < sigs[s].floor_abs)
		sigma = sigs[s].floor_abs;
	if (sigma < fl)
		sigma = fl;
	return sigma;
}

int baseline_score(const struct baseline *b, enum bl_signal s, unsigned int slot, double value,
		   double *z)
{
	const struct bl_slot *sl;
	double d;

	*z = 0;
	if ((unsigned int)s >= BL_NSIG || slot >= BL_SLOTS || !isfinite(value))
		return -1;
	sl = &b->slot[s][slot];
	if (sl->n < b->min_weeks)
		return -1;
	d = (value - sl->mean) / baseline_sigma(s, sl);
	*z = d;
	if ((d > 0 && !(sigs[s].dirs & DIR_HIGH)) || (d < 0 && !(sigs[s].dirs & DIR_LOW)))
		return 0;
	d = fabs(d);
	return d >= 3.0 ? 3 : d >= 2.0 ? 2 : 0;
}

size_t baseline_anomalies(const struct baseline *b, int64_t wall_s, const double v[BL_NSIG],
			  struct anomaly *out, size_t n)
{
	unsigned int slot = baseline_slot(wall_s, 0);
	size_t have = 0, i;
	int s;

	for (s = 0; s < BL_NSIG; s++) {
		struct anomaly a;
		double z;
		int lvl = baseline_score(b, s, slot, v[s], &z);

		if (lvl < 2)
			continue;
		memset(&a, 0, sizeof(a));
		snprintf(a.name, sizeof(a.name), "%s_%s_dev%d", sigs[s].name,
			 z > 0 ? "high" : "low", lvl);
		a.sig = s;
		a.level = lvl;
		a.value = v[s];
		a.mean = b->slot[s][slot].mean;
		a.sigma = baseline_sigma(s, &b->slot[s][slot]);
		a.z = z;
		/* Keep the strongest first. */
		if (have < n)
			i = have++;
		else if (n && fabs(z) > fabs(out[n - 1].z))
			i = n - 1;
		else
			continue;
		while (i > 0 && fabs(out[i - 1].z) < fabs(z)) {
			out[i] = out[i - 1];
			i--;
		}
		out[i] = a;
	}
	return have;
}

size_t baseline_trusted(const struct baseline *b, enum bl_signal s)
{
	size_t i, n = 0;

	if ((unsigned int)s >= BL_NSIG)
		return 0;
	for (i = 0; i < BL_SLOTS; i++)
		n += b->slot[s][i].n >= b->min_weeks;
	return n;
}

double entropy_bits(const uint64_t *counts, size_t n)
{
	double total = 0, h = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += (double)counts[i];
	if (total <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		double p = (double)counts[i] / total;

		if (p > 0)
			h -= p * log2(p);
	}
	return h > 0 ? h : 0; /* -0.0 when one value holds everything */
}

/* ---- persistence ----------------------------------------------------------- */

/* LYMPHBL2: slots as struct bl_slot (12 bytes).  LYMPHBL1, written before,
 * had 24-byte slots (double mean, var; n; pad): still read, converted. */
#define BL_MAGIC    "LYMPHBL2"
#define BL_MAGIC_V1 "LYMPHBL1"

struct bl_slot_v1 {
	double mean, var;
	uint32_t n;
	uint32_t pad;
};

struct bl_file_hdr {
	char magic[8];
	uint32_t nsig, nslots, slot_seconds, min_weeks;
	double alpha;
	int64_t cur_week_slot;
	double acc_sum[BL_NSIG];
	uint32_t acc_n[BL_NSIG];
	uint32_t folds;
};

/* FNV-1a, 64 bits: catches a torn or corrupted file, not an adversary
 * (the file is root's, in a root-only directory). */
static uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int baseline_save(const struct baseline *b, const char *path)
{
	struct bl_file_hdr h;
	uint64_t sum = 0xcbf29ce484222325ULL;
	struct iovec iov[3];

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, BL_MAGIC, 8);
	h.nsig = BL_NSIG;
	h.nslots = BL_SLOTS;
	h.slot_seconds = BL_SLOT_SECONDS;
	h.min_weeks = b->min_weeks;
	h.alpha = b->alpha;
	h.cur_week_slot = b->cur_week_slot;
	memcpy(h.acc_sum, b->acc_sum, sizeof(h.acc_sum));
	memcpy(h.acc_n, b->acc_n, sizeof(h.acc_n));
	h.folds = b->folds;
	sum = fnv1a(sum, &h, sizeof(h));
	sum = fnv1a(sum, b->slot, sizeof(b->slot));

	iov[0] = (struct iovec){ .iov_base = &h, .iov_len = sizeof(h) };
	iov[1] = (struct iovec){ .iov_base = (void *)b->slot, .iov_len = sizeof(b->slot) };
	iov[2] = (struct iovec){ .iov_base = &sum, .iov_len = sizeof(sum) };
	return atomic_write_iov(path, 0600, iov, 3);
}

int baseline_load(struct baseline *b, const char *path)
{
	const size_t nslots = (size_t)BL_NSIG * BL_SLOTS;
	struct bl_file_hdr h;
	uint64_t sum = 0xcbf29ce484222325ULL, want;
	struct stat st;
	size_t size, slot_size = 0, i;
	int fd, err = 0;
	char *buf;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	/* The format is told by the size first, then by the magic. */
	size = (size_t)st.st_size;
	if (size == sizeof(h) + nslots * sizeof(struct bl_slot) + sizeof(want))
		slot_size = sizeof(struct bl_slot);
	else if (size == sizeof(h) + nslots * sizeof(struct bl_slot_v1) + sizeof(want))
		slot_size = sizeof(struct bl_slot_v1);
	if (!slot_size) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc(size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	if (read(fd, buf, size) != (ssize_t)size)
		err = -EIO;
	close(fd);
	if (!err) {
		memcpy(&h, buf, sizeof(h));
		memcpy(&want, buf + size - sizeof(want), sizeof(want));
		sum = fnv1a(sum, buf, size - sizeof(want));
		if (memcmp(h.magic, slot_size == sizeof(struct bl_slot) ? BL_MAGIC : BL_MAGIC_V1,
			   8) ||
		    h.nsig != BL_NSIG || h.nslots != BL_SLOTS ||
		    h.slot_seconds != BL_SLOT_SECONDS || sum != want)
			err = -EINVAL;
	}
	if (!err) {
		/* alpha and min_weeks stay the caller's (the policy's). */
		if (slot_size == sizeof(struct bl_slot)) {
			memcpy(b->slot, buf + sizeof(h), sizeof(b->slot));
		} else {
			for (i = 0; i < nslots; i++) {
				struct bl_slot_v1 o;

				memcpy(&o, buf + sizeof(h) + i * sizeof(o), sizeof(o));
				b->slot[i / BL_SLOTS][i % BL_SLOTS] = (struct bl_slot){
					.mean = (float)o.mean, .var = (float)o.var, .n = o.n
				};
			}
		}
		b->cur_week_slot = h.cur_week_slot;
		memcpy(b->acc_sum, h.acc_sum, sizeof(b->acc_sum));
		memcpy(b->acc_n, h.acc_n, sizeof(b->acc_n));
		b->folds = h.folds;
	}
	free(buf);
	return err;
}
