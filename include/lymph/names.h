/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Names that lymph.ko (/proc/lymph, sysfs), lymphd (its output, status and
 * metrics) and lymphctl print, and the version they all report: written
 * once so that a kind, a weather word or the version cannot read
 * differently in two places.
 */
#ifndef LYMPH_NAMES_H
#define LYMPH_NAMES_H

#include "events.h"

/* The one version of lymph (lymphd, lymphctl, lymph.ko, the unit, the
 * packages) is the VERSION file at the top of the tree; the Makefile and
 * Kbuild pass it as -DLYMPH_VERSION. */
#if !defined(LYMPH_VERSION) && !defined(__bpf__)
#error "LYMPH_VERSION is not defined: build with make or Kbuild (it comes from the VERSION file)"
#endif

static inline const char *lymph_kind_name(unsigned int kind)
{
	switch (kind) {
	case LYMPH_EV_DEATH: return "death";
	case LYMPH_EV_SIGNAL: return "signal";
	case LYMPH_EV_EXEC: return "exec";
	case LYMPH_EV_FORK: return "fork";
	case LYMPH_EV_OOM: return "oom";
	case LYMPH_EV_DROP: return "drop";
	case LYMPH_EV_PRESSURE: return "pressure";
	case LYMPH_EV_THROTTLE: return "throttle";
	}
	return "unknown";
}

static inline const char *lymph_source_name(unsigned int source)
{
	switch (source) {
	case LYMPH_SRC_BPF: return "bpf";
	case LYMPH_SRC_KMOD: return "kmod";
	case LYMPH_SRC_PROC: return "proc";
	}
	return "unknown";
}

/*
 * The system weather (doc/weather.md), mildest first: lymphd decides it,
 * writes the word into /sys/kernel/lymph/weather, the module shows it.
 */
enum lymph_weather {
	LYMPH_WEATHER_SUNNY,
	LYMPH_WEATHER_CLOUDY,
	LYMPH_WEATHER_UNSETTLED,
	LYMPH_WEATHER_STORMY,
	LYMPH_WEATHER_NR
};

static inline const char *lymph_weather_name(int w)
{
	switch (w) {
	case LYMPH_WEATHER_SUNNY: return "sunny";
	case LYMPH_WEATHER_CLOUDY: return "cloudy";
	case LYMPH_WEATHER_UNSETTLED: return "unsettled";
	case LYMPH_WEATHER_STORMY: return "stormy";
	}
	return "unknown";
}

#endif /* LYMPH_NAMES_H */
