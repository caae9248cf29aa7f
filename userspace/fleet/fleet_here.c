// SPDX-License-Identifier: GPL-2.0-only
/*
 * What this host does because of the fleet (fleet.h, "the loop's side"):
 * a binary the fleet marks bad that is here gets a lower quarantine
 * threshold until the fleet calms (the vaccination fades) or root releases
 * it here.  Every change is journaled with the fleet's evidence.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include "clock.h"
#include "fleet.h"

static double factor_of(const struct fleet_conf *c)
{
	/* Quarantine at once: any threshold times this is below one death, so
	 * where no ban could be imposed the first death here quarantines. */
	return c->vaccine == FLEET_VACCINE_QUARANTINE ? 1e-9 : c->vaccine_factor;
}

void fleet_here_init(struct fleet_here *h, const struct fleet_conf *c)
{
	memset(h, 0, sizeof(*h));
	h->factor = factor_of(c);
	h->vaccine = c->vaccine;
}

double fleet_here_factor(void *ctx, uint32_t dev, uint64_t ino)
{
	const struct fleet_here *h = ctx;
	size_t i;

	for (i = 0; h && i < h->n; i++)
		if (h->v[i].dev == dev && h->v[i].ino == ino)
			return h->factor;
	return 1.0;
}

static uint64_t now_ms(void)
{
	return clock_wall_ns() / NSEC_PER_MSEC;
}

static void journal_fleet(struct journal *j, const char *action, const struct fleet_event *ev,
			  const char *path, uint32_t dev, uint64_t ino, const char *self,
			  int enforce, const char *result)
{
	struct json_object *rec = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(rec, "type", json_object_new_string("fleet"));
	json_object_object_add(rec, "action", json_object_new_string(action));
	json_object_object_add(rec, "mode",
			       json_object_new_string(enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "host", json_object_new_string(self));
	json_object_object_add(rec, "sha256", json_object_new_string(ev ? ev->sha256 : ""));
	json_object_object_add(rec, "exe", path && *path ? json_object_new_string(path) : NULL);
	if (dev || ino) {
		json_object_object_add(rec, "exe_dev", json_object_new_int64(dev));
		json_object_object_add(rec, "exe_ino", json_object_new_uint64(ino));
	}
	if (ev) {
		json_object_object_add(e, "hosts", json_object_new_int64(ev->hosts));
		json_object_object_add(e, "deaths", json_object_new_uint64(ev->deaths));
		json_object_object_add(e, "host_list", json_object_new_string(ev->host_list));
		json_object_object_add(e, "build_id",
				       ev->build_id[0] ? json_object_new_string(ev->build_id)
						       : NULL);
		json_object_object_add(rec, "evidence", e);
	} else {
		json_object_put(e);
	}
	json_object_object_add(rec, "result", json_object_new_string(result));
	if (journal_append(j, rec))
		fprintf(stderr, "lymphd: failed to write the journal (fleet %s)\n", action);
}

/* vaccine = quarantine: ban e's binary for every uid at once; what was done, in result. */
static void ban_here(struct fleet_here *h, struct fleet_here_entry *e, int enforce, char *result,
		     size_t len)
{
	const char *why = NULL;
	int err;

	if (h->vaccine != FLEET_VACCINE_QUARANTINE || !h->ban) {
		snprintf(result, len,
			 "vaccinated by the fleet: %u hosts; quarantine threshold x %g%s", e->hosts,
			 h->factor, enforce ? "" : " (observe mode: journaled only)");
		return;
	}
	err = h->ban(h->ban_ctx, e->dev, e->ino, e->path, 1, &why);
	e->banned = !err;
	if (!err)
		snprintf(result, len,
			 "vaccinated by the fleet: %u hosts; banned at once for every uid "
			 "but root and [protect]'s",
			 e->hosts);
	else if (err == -EAGAIN)
		snprintf(result, len,
			 "vaccinated by the fleet: %u hosts; would be banned at once for "
			 "every uid but root and [protect]'s (observe mode: journaled only)",
			 e->hosts);
	else
		snprintf(result, len,
			 "vaccinated by the fleet: %u hosts; not banned at once (%s): "
			 "the first death here quarantines",
			 e->hosts, why ? why : strerror(-err));
}

static void unban_here(struct fleet_here *h, struct fleet_here_entry *e)
{
	const char *why = NULL;

	if (e->banned && h->ban)
		h->ban(h->ban_ctx, e->dev, e->ino, e->path, 0, &why);
	e->banned = 0;
}

void fleet_here_apply(struct fleet_here *h, const struct fleet_event *ev, const char *self,
		      struct journal *j, int enforce)
{
	char result[300];
	size_t i;

	if (ev->kind == FLEET_VACCINATE) {
		if (!ev->dev && !ev->ino) {
			h->elsewhere++;
			journal_fleet(j, "bad-elsewhere", ev, NULL, 0, 0, self, enforce,
				      "the fleet marks this binary bad; it is not known here yet");
			return;
		}
		for (i = 0; i < h->n; i++)
			if (h->v[i].dev == ev->dev && h->v[i].ino == ev->ino)
				return;
		if (h->n == FLEET_HERE_MAX) {
			journal_fleet(j, "vaccinate", ev, ev->path, ev->dev, ev->ino, self, enforce,
				      "not applied: too many vaccinations at once");
			return;
		}
		h->v[h->n] = (struct fleet_here_entry){ .dev = ev->dev,
							.ino = ev->ino,
							.hosts = ev->hosts,
							.deaths = ev->deaths,
							.since_wall_ms = now_ms() };
		memcpy(h->v[h->n].sha256, ev->sha256, sizeof(ev->sha256));
		memcpy(h->v[h->n].path, ev->path, sizeof(ev->path));
		ban_here(h, &h->v[h->n], enforce, result, sizeof(result));
		h->n++;
		h->applied++;
		journal_fleet(j, "vaccinate", ev, ev->path, ev->dev, ev->ino, self, enforce,
			      result);
		fprintf(stderr, "lymphd: %s is bad on %u hosts of the fleet: vaccinated\n",
			ev->path, ev->hosts);
		return;
	}
	/* FLEET_FADE: every inode of that identity. */
	for (i = 0; i < h->n;) {
		if (strcmp(h->v[i].sha256, ev->sha256)) {
			i++;
			continue;
		}
		h->faded++;
		unban_here(h, &h->v[i]);
		journal_fleet(j, "fade", ev, h->v[i].path, h->v[i].dev, h->v[i].ino, self, enforce,
			      "the fleet calmed: the vaccination fades");
		h->v[i] = h->v[--h->n];
	}
}

int fleet_here_release(struct fleet_here *h, struct fleet *f, const char *what, struct journal *j)
{
	struct stat st;
	int by_path = what[0] == '/', n = 0;
	size_t i;

	if (by_path && stat(what, &st))
		return -errno;
	if (!by_path && !fleet_sha_valid(what))
		return -EINVAL;
	for (i = 0; i < h->n;) {
		struct fleet_here_entry *e = &h->v[i];
		struct fleet_event ev = { .kind = FLEET_FADE,
					  .hosts = e->hosts,
					  .deaths = e->deaths };

		if (by_path ? (e->dev != (uint32_t)st.st_dev || e->ino != st.st_ino)
			    : strcmp(e->sha256, what)) {
			i++;
			continue;
		}
		memcpy(ev.sha256, e->sha256, sizeof(ev.sha256));
		unban_here(h, e);
		if (f)
			fleet_release(f, e->sha256);
		journal_fleet(j, "release", &ev, e->path, e->dev, e->ino, f ? fleet_host(f) : "", 1,
			      "released here by root: until the fleet calms and marks it again");
		h->released++;
		n++;
		*e = h->v[--h->n];
	}
	if (!n && !by_path && f && !fleet_release(f, what))
		n = 0; /* bad elsewhere only: nothing here to lift */
	return n ? n : -ENOENT;
}

void fleet_here_reconf(struct fleet_here *h, const struct fleet_conf *c, const char *self,
		       struct journal *j, int enforce)
{
	struct fleet_event ev = { .kind = FLEET_VACCINATE };
	char result[300];
	size_t i;

	h->factor = factor_of(c);
	h->vaccine = c->vaccine;
	for (i = 0; i < h->n; i++) {
		struct fleet_here_entry *e = &h->v[i];
		int want = c->vaccine == FLEET_VACCINE_QUARANTINE;

		if (e->banned == want)
			continue;
		memcpy(ev.sha256, e->sha256, sizeof(ev.sha256));
		ev.hosts = e->hosts;
		ev.deaths = e->deaths;
		if (want) {
			ban_here(h, e, enforce, result, sizeof(result));
		} else {
			unban_here(h, e);
			snprintf(result, sizeof(result),
				 "the policy's vaccine changed: ban lifted; "
				 "quarantine threshold x %g",
				 h->factor);
		}
		journal_fleet(j, "vaccinate", &ev, e->path, e->dev, e->ino, self, enforce, result);
	}
}

void fleet_here_clear(struct fleet_here *h, const char *self, struct journal *j, const char *why)
{
	while (h->n) {
		struct fleet_here_entry *e = &h->v[h->n - 1];
		struct fleet_event ev = { .kind = FLEET_FADE,
					  .hosts = e->hosts,
					  .deaths = e->deaths };

		memcpy(ev.sha256, e->sha256, sizeof(ev.sha256));
		unban_here(h, e);
		h->faded++;
		journal_fleet(j, "fade", &ev, e->path, e->dev, e->ino, self, 1, why);
		h->n--;
	}
}

struct json_object *fleet_here_json(const struct fleet_here *h)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	uint64_t now = now_ms();
	size_t i;

	json_object_object_add(o, "factor", json_object_new_double(h->factor));
	json_object_object_add(o, "applied", json_object_new_uint64(h->applied));
	json_object_object_add(o, "faded", json_object_new_uint64(h->faded));
	json_object_object_add(o, "released", json_object_new_uint64(h->released));
	json_object_object_add(o, "bad_elsewhere", json_object_new_uint64(h->elsewhere));
	for (i = 0; i < h->n; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "exe", json_object_new_string(h->v[i].path));
		json_object_object_add(x, "sha256", json_object_new_string(h->v[i].sha256));
		json_object_object_add(x, "exe_dev", json_object_new_int64(h->v[i].dev));
		json_object_object_add(x, "exe_ino", json_object_new_uint64(h->v[i].ino));
		json_object_object_add(x, "hosts", json_object_new_int64(h->v[i].hosts));
		json_object_object_add(x, "banned", json_object_new_boolean(h->v[i].banned));
		json_object_object_add(
			x, "since_s",
			json_object_new_double(now > h->v[i].since_wall_ms
						       ? (double)(now - h->v[i].since_wall_ms) / 1e3
						       : 0.0));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "vaccinated", arr);
	return o;
}
