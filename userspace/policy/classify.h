/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lymphd's view of the danger model (include/lymph/danger.h holds the rule
 * itself, shared with lymph.ko and the BPF sensors): a death record ->
 * its class and reason.  Only danger counts against a binary, so
 * `kill -SEGV` can never frame one.  Pure.
 */
#ifndef LYMPH_CLASSIFY_H
#define LYMPH_CLASSIFY_H

#include "lymph/events.h"
#include "lymph/danger.h"

struct verdict {
	enum lymph_class klass;
	enum lymph_reason reason;
};

struct verdict classify_death(const struct lymph_death *d);

#endif
