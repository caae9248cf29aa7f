// SPDX-License-Identifier: GPL-2.0-only
#include <signal.h>
#include "classify.h"

struct verdict classify_death(const struct lymph_death *d)
{
	enum lymph_reason r = lymph_death_reason(d->flags, d->signo, d->si_code);

	return (struct verdict){ .klass = lymph_reason_class(r), .reason = r };
}
