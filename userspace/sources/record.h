/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one check every record from a ring passes before anyone reads it:
 * complete, and of a known kind.  Pure.
 */
#ifndef LYMPH_RECORD_H
#define LYMPH_RECORD_H

#include <stddef.h>
#include "lymph/events.h"

/* 0, or -EINVAL for a record that is truncated or of an unknown kind.
 * Sensors are trusted, but a truncated read must never be misparsed. */
int record_check(const struct lymph_hdr *rec, size_t avail);

#endif
