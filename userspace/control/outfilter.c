// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>
#include "outfilter.h"

#define BIT(it)	  (1u << (it))
#define ALL_ITEMS (BIT(OUT_ITEM_MAX) - 1)

static const struct {
	const char *name;
	uint32_t items;
} names[] = {
	{ "death", BIT(OUT_DANGER) | BIT(OUT_PROGRAMMED) },
	{ "danger", BIT(OUT_DANGER) },
	{ "programmed", BIT(OUT_PROGRAMMED) },
	{ "signal", BIT(OUT_SIGNAL) },
	{ "oom", BIT(OUT_OOM) },
	{ "drop", BIT(OUT_DROP) },
	{ "pressure", BIT(OUT_PRESSURE) },
	{ "exec", BIT(OUT_EXEC) },
	{ "fork", BIT(OUT_FORK) },
	{ "decision", BIT(OUT_SERVICE) | BIT(OUT_QUARANTINE) | BIT(OUT_THROTTLE) | BIT(OUT_OTHER) },
	{ "service", BIT(OUT_SERVICE) },
	{ "quarantine", BIT(OUT_QUARANTINE) },
	{ "throttle", BIT(OUT_THROTTLE) | BIT(OUT_HELD) },
	{ "weather", BIT(OUT_WEATHER) },
	{ "integrity", BIT(OUT_INTEGRITY) },
	{ "lymphd", BIT(OUT_LYMPHD) },
	{ "snapshot", BIT(OUT_SNAPSHOT) },
};

const char *outfilter_names(void)
{
	return "death, danger, programmed, signal, oom, drop, pressure, exec, fork, decision, "
	       "service, quarantine, throttle, weather, integrity, lymphd, snapshot, all, default";
}

void outfilter_init(struct outfilter *f)
{
	memset(f, 0, sizeof(*f));
	f->use_default = 1;
}

static int lookup(const char *s, size_t len, uint32_t *items)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && !memcmp(names[i].name, s, len)) {
			*items = names[i].items;
			return 0;
		}
	return -EINVAL;
}

int outfilter_parse(struct outfilter *f, const char *list, const char **bad, size_t *bad_len)
{
	struct outfilter n = *f;
	const char *p = list;

	if (!n.touched) {
		/* --events replaces what the verbosity shows, unless it only hides. */
		n.use_default = list[0] == '-';
		n.touched = 1;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		int minus = len && p[0] == '-';
		const char *name = p + minus;
		size_t nlen = len - (size_t)minus;
		uint32_t items;

		*bad = p;
		*bad_len = len;
		if (!nlen)
			return -EINVAL;
		if (!minus && nlen == 3 && !memcmp(name, "all", 3)) {
			n.show = ALL_ITEMS;
			n.hide = 0;
		} else if (!minus && nlen == 7 && !memcmp(name, "default", 7)) {
			n.use_default = 1;
		} else if (lookup(name, nlen, &items)) {
			return -EINVAL;
		} else if (minus) {
			n.hide |= items;
			n.show &= ~items;
		} else {
			n.show |= items;
			n.hide &= ~items;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	*f = n;
	return 0;
}

int out_item_level(enum out_item it)
{
	switch (it) {
	case OUT_DANGER:
	case OUT_SIGNAL:
	case OUT_OOM:
	case OUT_DROP:
	case OUT_SERVICE:
	case OUT_QUARANTINE:
	case OUT_THROTTLE:
	case OUT_WEATHER:
	case OUT_INTEGRITY:
	case OUT_OTHER: return 0;
	case OUT_PROGRAMMED:
	case OUT_HELD:
	case OUT_LYMPHD: return 1;
	case OUT_PRESSURE:
	case OUT_EXEC:
	case OUT_FORK:
	case OUT_SNAPSHOT:
	case OUT_ITEM_MAX: break;
	}
	return 2;
}

int outfilter_wants(const struct outfilter *f, enum out_item it, int verbosity)
{
	if ((unsigned int)it >= OUT_ITEM_MAX || (f->hide & BIT(it)))
		return 0;
	if (f->show & BIT(it))
		return 1;
	return f->use_default && out_item_level(it) <= verbosity;
}

enum out_item out_item_of_record(const struct lymph_hdr *rec, const struct verdict *vd)
{
	switch (rec->kind) {
	case LYMPH_EV_DEATH:
		return vd && vd->klass == LYMPH_CLASS_DANGER ? OUT_DANGER : OUT_PROGRAMMED;
	case LYMPH_EV_SIGNAL: return OUT_SIGNAL;
	case LYMPH_EV_EXEC: return OUT_EXEC;
	case LYMPH_EV_FORK: return OUT_FORK;
	case LYMPH_EV_OOM: return OUT_OOM;
	case LYMPH_EV_DROP: return OUT_DROP;
	case LYMPH_EV_PRESSURE: return OUT_PRESSURE;
	case LYMPH_EV_THROTTLE: return OUT_HELD;
	}
	/* A kind this lymphd does not know: like a drop, never hidden by default. */
	return OUT_DROP;
}

enum out_item out_item_of_journal(struct json_object *rec)
{
	static const struct {
		const char *type;
		enum out_item it;
	} types[] = {
		{ "service", OUT_SERVICE },	{ "quarantine", OUT_QUARANTINE },
		{ "throttle", OUT_THROTTLE },	{ "weather", OUT_WEATHER },
		{ "integrity", OUT_INTEGRITY }, { "lymphd", OUT_LYMPHD },
	};
	struct json_object *v;
	const char *type;
	size_t i;

	if (json_object_object_get_ex(rec, "action", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    !strcmp(json_object_get_string(v), "snapshot"))
		return OUT_SNAPSHOT;
	if (!json_object_object_get_ex(rec, "type", &v) ||
	    !json_object_is_type(v, json_type_string))
		return OUT_OTHER;
	type = json_object_get_string(v);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i].type, type))
			return types[i].it;
	return OUT_OTHER;
}

const char *out_item_name(enum out_item it)
{
	static const char *const n[OUT_ITEM_MAX] = {
		[OUT_DANGER] = "danger",
		[OUT_PROGRAMMED] = "programmed",
		[OUT_SIGNAL] = "signal",
		[OUT_OOM] = "oom",
		[OUT_DROP] = "drop",
		[OUT_PRESSURE] = "pressure",
		[OUT_HELD] = "throttle",
		[OUT_EXEC] = "exec",
		[OUT_FORK] = "fork",
		[OUT_SERVICE] = "service",
		[OUT_QUARANTINE] = "quarantine",
		[OUT_THROTTLE] = "throttle",
		[OUT_WEATHER] = "weather",
		[OUT_INTEGRITY] = "integrity",
		[OUT_LYMPHD] = "lymphd",
		[OUT_SNAPSHOT] = "snapshot",
		[OUT_OTHER] = "decision",
	};

	return (unsigned int)it < OUT_ITEM_MAX ? n[it] : "unknown";
}
