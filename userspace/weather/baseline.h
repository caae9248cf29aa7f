/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What is normal here, by time of week: cf-monitord-style baselines.  For
 * each signal lymph watches, the week is cut into 5-minute slots (2016 of
 * them); each slot keeps an exponentially weighted mean and variance of the
 * values seen in that slot in past weeks, so Monday 09:00 is compared with
 * past Mondays at 09:00, not with Sunday night.  A reading beyond 2 or 3
 * standard deviations of its slot is an anomaly with a name such as
 * "forks_high_dev2" or "crash_entropy_low_dev3".
 *
 * Conservative by design: a slot says nothing until it has seen min_weeks
 * weeks, and the deviation is measured against max(sigma, a per-signal
 * floor), so a signal that never moved is not flagged for a trivial change.
 *
 * Pure, except baseline_save/baseline_load (write tmp + fsync + rename).
 */
#ifndef LYMPH_BASELINE_H
#define LYMPH_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#define BL_SLOT_SECONDS 300
#define BL_SLOTS	(7 * 24 * 3600 / BL_SLOT_SECONDS) /* 2016 */

enum bl_signal {
	BL_DANGER,  /* danger deaths per minute */
	BL_FORKS,   /* forks per second */
	BL_EXECS,   /* execs per second */
	BL_OOM,	    /* OOM kills per minute */
	BL_PSI_CPU, /* some avg10, % */
	BL_PSI_MEMORY,
	BL_PSI_IO,
	BL_PROCS,	  /* processes alive */
	BL_CRASH_ENTROPY, /* bits: how spread danger deaths are over binaries */
	BL_NSIG
};

/* 12 bytes: 9 signals x 2016 slots = 213 KiB resident in lymphd (single
 * precision is ample for a weekly mean and variance; folds compute in
 * double). */
struct bl_slot {
	float mean, var; /* EWMA over weeks */
	uint32_t n;	 /* weeks folded in (saturates) */
};

struct baseline {
	struct bl_slot slot[BL_NSIG][BL_SLOTS];
	/* The slot being accumulated, and its running sums. */
	int64_t cur_week_slot; /* absolute slot number (wall / 300), -1 none */
	double acc_sum[BL_NSIG];
	uint32_t acc_n[BL_NSIG];
	double alpha;	      /* weight of the newest week, (0, 1] */
	uint32_t min_weeks;   /* a slot is trusted after this many weeks */
	uint32_t min_samples; /* readings a slot needs to be folded (1) */
	uint32_t folds;	      /* slots folded since start (for persistence) */
};

/* A deviation from the baseline. */
struct anomaly {
	char name[40]; /* "<signal>_<high|low>_dev<2|3>" */
	enum bl_signal sig;
	int level; /* 2 or 3 (sigmas) */
	double value, mean, sigma, z;
};

const char *bl_signal_name(enum bl_signal s); /* "forks", "crash_entropy", ... */

void baseline_init(struct baseline *b, double alpha, uint32_t min_weeks);

/* The time-of-week slot of a wall-clock time (seconds since the epoch, in
 * the host's time zone: tz_offset_s east of UTC). */
unsigned int baseline_slot(int64_t wall_s, int64_t tz_offset_s);

/*
 * Add one reading of every signal at wall_s (local time, seconds; NaN: no
 * reading of that signal).  Readings are averaged over their 5-minute slot;
 * when the slot changes, the average is folded into that slot's weekly
 * mean and variance.  Returns 1 when a slot was folded (time to save).
 */
int baseline_observe(struct baseline *b, int64_t wall_s, const double v[BL_NSIG]);

/* Fold one value straight into a slot (tests, and the slot rollover). */
void baseline_fold(struct baseline *b, enum bl_signal s, unsigned int slot, double v);

/*
 * Score value against the slot: 0 (normal), 2 or 3 (beyond that many
 * sigmas), -1 while the slot is still learning.  *z gets the signed
 * deviation in sigmas.
 */
/* The spread a slot's readings are judged against: its standard deviation,
 * never below the signal's absolute and relative floors. */
double baseline_sigma(enum bl_signal s, const struct bl_slot *sl);

int baseline_score(const struct baseline *b, enum bl_signal s, unsigned int slot, double value,
		   double *z);

/* Score every signal of v[] at wall_s (local); the anomalies go into out[]
 * (at most n), strongest first.  Returns how many. */
size_t baseline_anomalies(const struct baseline *b, int64_t wall_s, const double v[BL_NSIG],
			  struct anomaly *out, size_t n);

/* How many slots of signal s are trusted (have min_weeks weeks). */
size_t baseline_trusted(const struct baseline *b, enum bl_signal s);

/* Shannon entropy, in bits, of the distribution counts[0..n) (0 when the
 * total is 0 or one value holds everything). */
double entropy_bits(const uint64_t *counts, size_t n);

/* Crash-safe persistence: 0 or -errno.  Load refuses (-EINVAL) a file of
 * another format or with a bad checksum and leaves b untouched then. */
int baseline_save(const struct baseline *b, const char *path);
int baseline_load(struct baseline *b, const char *path);

#endif
