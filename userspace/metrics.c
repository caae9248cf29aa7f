// SPDX-License-Identifier: GPL-2.0-only
/* Prometheus text exposition (see metrics.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "binpath.h"
#include "crashtab.h"
#include "daemon.h"
#include "format.h"
#include "metrics.h"
#include "weather.h"

/* Length of the UTF-8 sequence at s (1..4), 0 when it is not valid. */
static int utf8_len(const unsigned char *s)
{
	int n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* No overlong forms, surrogates or values past U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void metrics_label_value(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	while (*s) {
		int n = utf8_len(s);

		if (!n) {
			fputs("\xef\xbf\xbd", out);
			s++;
		} else if (*s == '\\') {
			fputs("\\\\", out), s++;
		} else if (*s == '"') {
			fputs("\\\"", out), s++;
		} else if (*s == '\n') {
			fputs("\\n", out), s++;
		} else {
			fwrite(s, 1, (size_t)n, out);
			s += n;
		}
	}
}

static void head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void value(FILE *out, double v)
{
	if (isnan(v))
		fputs(" NaN\n", out);
	else if (isinf(v))
		fputs(v > 0 ? " +Inf\n" : " -Inf\n", out);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(out, " %.0f\n", v);
	else
		fprintf(out, " %.6g\n", v);
}

/* name{label="val"} v */
static void sample1(FILE *out, const char *name, const char *label, const char *val, double v)
{
	fprintf(out, "%s{%s=\"", name, label);
	metrics_label_value(out, val);
	fputs("\"}", out);
	value(out, v);
}

static void sample0(FILE *out, const char *name, double v)
{
	fputs(name, out);
	value(out, v);
}

static void weather_metrics(FILE *out, const struct weather *w)
{
	struct weather_figures f;
	int r;
	size_t i;

	weather_figures(w, &f);
	head(out, "lymph_weather", "gauge", "The system weather: 1 for the current word, 0 for the others.");
	for (r = 0; r < WEATHER_NWORDS; r++)
		sample1(out, "lymph_weather", "word", weather_name(r), f.word == (enum weather_word)r);
	head(out, "lymph_weather_level", "gauge",
	     "The system weather as a number: 0 sunny, 1 cloudy, 2 unsettled, 3 stormy.");
	sample0(out, "lymph_weather_level", f.word);
	head(out, "lymph_weather_changes_total", "counter", "Changes of the weather word.");
	sample0(out, "lymph_weather_changes_total", (double)f.changes);
	head(out, "lymph_weather_factor", "gauge",
	     "Multiplier the weather applies to a policy threshold (1 when sunny).");
	sample1(out, "lymph_weather_factor", "policy", "clone_budget", f.budget_factor);
	sample1(out, "lymph_weather_factor", "policy", "restart_backoff", f.backoff_factor);
	sample1(out, "lymph_weather_factor", "policy", "quarantine_threshold", f.quarantine_factor);

	head(out, "lymph_psi_some_avg10", "gauge",
	     "Percent of the last 10 s in which some task stalled on the resource (PSI).");
	for (r = 0; r < PSI_NRES; r++)
		if (!isnan(f.psi_some[r]))
			sample1(out, "lymph_psi_some_avg10", "resource", psi_res_name(r), f.psi_some[r]);
	head(out, "lymph_psi_full_avg10", "gauge",
	     "Percent of the last 10 s in which all non-idle tasks stalled on the resource (PSI).");
	for (r = 0; r < PSI_NRES; r++)
		if (!isnan(f.psi_full[r]))
			sample1(out, "lymph_psi_full_avg10", "resource", psi_res_name(r), f.psi_full[r]);
	head(out, "lymph_psi_trigger_firings_total", "counter", "PSI trigger notifications received.");
	for (r = 0; r < PSI_NRES; r++)
		sample1(out, "lymph_psi_trigger_firings_total", "resource", psi_res_name(r),
			(double)f.psi_triggers[r]);

	head(out, "lymph_anomaly_sigmas", "gauge",
	     "Signed deviation, in standard deviations, of each current anomaly from its weekly baseline.");
	for (i = 0; i < f.n_anomalies; i++)
		sample1(out, "lymph_anomaly_sigmas", "name", f.anomalies[i].name, f.anomalies[i].z);

	head(out, "lymph_integrity_checks_total", "counter", "Integrity spot checks of protected binaries.");
	sample0(out, "lymph_integrity_checks_total", (double)f.integrity_checks);
	head(out, "lymph_integrity_mismatches_total", "counter",
	     "Spot checks that found a protected binary changed.");
	sample0(out, "lymph_integrity_mismatches_total", (double)f.integrity_mismatches);
	head(out, "lymph_integrity_changed_binaries", "gauge", "Protected binaries that differ from their record now.");
	sample0(out, "lymph_integrity_changed_binaries", (double)f.integrity_changed);
}

static void binary_metrics(FILE *out, const struct metrics_src *m)
{
	const struct crash_entry *top[256];
	size_t n, i, max = m->max_binaries ? m->max_binaries : 50;
	char ino[32];

	if (max > sizeof(top) / sizeof(top[0]))
		max = sizeof(top) / sizeof(top[0]);
	n = crashtab_top(m->crashes, m->now_ns, top, max);
	head(out, "lymph_binary_danger_deaths_total", "counter",
	     "Danger deaths of each binary since lymphd started (the busiest binaries only).");
	for (i = 0; i < n; i++) {
		const char *exe = m->names ? binpath_lookup(m->names, top[i]->dev, top[i]->ino) : NULL;

		snprintf(ino, sizeof(ino), "%u:%lu", top[i]->dev, (unsigned long)top[i]->ino);
		fputs("lymph_binary_danger_deaths_total{exe=\"", out);
		metrics_label_value(out, exe ? exe : "");
		fputs("\",comm=\"", out);
		metrics_label_value(out, top[i]->comm);
		fprintf(out, "\",inode=\"%s\"}", ino);
		value(out, (double)top[i]->danger_deaths);
	}
	head(out, "lymph_binary_danger_deaths_per_second", "gauge",
	     "Decayed rate of danger deaths of each binary, per second.");
	for (i = 0; i < n; i++) {
		const char *exe = m->names ? binpath_lookup(m->names, top[i]->dev, top[i]->ino) : NULL;

		snprintf(ino, sizeof(ino), "%u:%lu", top[i]->dev, (unsigned long)top[i]->ino);
		fputs("lymph_binary_danger_deaths_per_second{exe=\"", out);
		metrics_label_value(out, exe ? exe : "");
		fputs("\",comm=\"", out);
		metrics_label_value(out, top[i]->comm);
		fprintf(out, "\",inode=\"%s\"}", ino);
		value(out, decay_rate_per_min(&top[i]->rate, m->now_ns, m->crashes->half_life_ns) / 60.0);
	}
}

int metrics_text(FILE *out, const struct metrics_src *m)
{
	unsigned int k;

	head(out, "lymph_info", "gauge", "lymphd's version, event source and mode (always 1).");
	fputs("lymph_info{version=\"", out);
	metrics_label_value(out, m->version ? m->version : "");
	fputs("\",source=\"", out);
	metrics_label_value(out, m->source ? m->source : "none");
	fputs("\",mode=\"", out);
	metrics_label_value(out, m->mode ? m->mode : "");
	fputs("\"} 1\n", out);
	head(out, "lymph_uptime_seconds", "gauge", "Seconds since lymphd started.");
	sample0(out, "lymph_uptime_seconds", (double)(m->uptime_ns / 1000000) / 1e3);

	if (m->count) {
		head(out, "lymph_events_total", "counter", "Records received from the sensors, by kind.");
		for (k = LYMPH_EV_DEATH; k < LYMPH_EV_KIND_MAX; k++)
			sample1(out, "lymph_events_total", "kind", kind_name(k), (double)m->count->by_kind[k]);
		head(out, "lymph_deaths_total", "counter",
		     "Process deaths by class: danger (died badly) or programmed.");
		sample1(out, "lymph_deaths_total", "class", "danger", (double)m->count->danger);
		sample1(out, "lymph_deaths_total", "class", "programmed", (double)m->count->programmed);
	}
	head(out, "lymph_drops_total", "counter", "Records the sensors lost because a ring was full.");
	sample0(out, "lymph_drops_total", (double)m->drops);
	if (m->weather)
		weather_metrics(out, m->weather);
	if (m->crashes)
		binary_metrics(out, m);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}
