// SPDX-License-Identifier: GPL-2.0-only
/*
 * What each lymphctl command does: the control plane (control/control.c)
 * parses a request against the typed table of control/ctlproto.c and hands
 * it here; each handler acts on lymphd's state and answers with
 * ctl_reply*().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <json-c/json.h>
#include "control.h"
#include "daemon.h"
#include "fleet.h"

static void do_status(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
		      uint64_t now)
{
	struct json_object *o;

	daemon_forks_sync(d, now);
	o = status_json(d, now);
	(void)r;
	json_object_object_add(o, "control", control_status_json(d->ctl));
	ctl_reply(cl, o);
}

static void do_services(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
			uint64_t now)
{
	struct json_object *o = json_object_new_object();

	(void)r;
	json_object_object_add(o, "mode",
			       json_object_new_string(d->enforce ? "enforce" : "observe"));
	json_object_object_add(o, "services", supervisor_json(&d->sup, now));
	json_object_object_add(o, "leaks", phago_leaks_json(&d->phago));
	ctl_reply(cl, o);
}

static void do_reload(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
		      uint64_t now)
{
	char *why = NULL;

	(void)r;
	(void)now;
	if (daemon_reload(d, &why))
		ctl_reply_error(cl, "reload refused, the current policy is kept:\n%s",
				why ? why : "");
	else
		ctl_reply_ok(cl, "policy reloaded");
	free(why);
}

static void do_restart_reset(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
			     uint64_t now)
{
	const char *name = r->arg[0].s;
	int restart = r->cmd == CTL_RESTART;
	int err = restart ? supervisor_restart(&d->sup, name, now)
			  : supervisor_reset(&d->sup, name, now);

	if (err == -ENOENT)
		ctl_reply_error(cl, "no service named '%s' (see lymphctl services)", name);
	else if (err == -EPERM)
		ctl_reply_error(cl,
				"observe mode: '%s' was not restarted (the decision is journaled)",
				name);
	else
		ctl_reply_ok(cl, restart ? "restart started" : "failures reset");
}

static void do_metrics(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
		       uint64_t now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct json_object *o;

	(void)r;
	daemon_forks_sync(d, now);
	if (!mem || daemon_metrics(d, mem)) {
		if (mem)
			fclose(mem);
		free(text);
		ctl_reply_error(cl, "failed to build the metrics%s", "");
		return;
	}
	fclose(mem);
	o = json_object_new_object();
	json_object_object_add(o, "metrics", json_object_new_string_len(text, (int)len));
	ctl_reply(cl, o);
	free(text);
}

static void do_throttles(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
			 uint64_t now)
{
	(void)r;
	ctl_reply(cl, throttler_json(&d->thr, now));
}

static void do_release_lineage(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
			       uint64_t now)
{
	int err = throttler_release(&d->thr, r->arg[0].s, now);

	if (err == -EINVAL)
		ctl_reply_error(cl, "bad lineage '%s' (family:ID, session:ID, cgroup:ID or uid:ID)",
				r->arg[0].s);
	else if (err)
		ctl_reply_error(cl, "lineage '%s' is not throttled (see lymphctl throttles)",
				r->arg[0].s);
	else
		ctl_reply_ok(cl, "released");
}

static void do_release(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
		       uint64_t now)
{
	long uid = r->n > 1 ? (long)r->arg[1].num : -1; /* -1: every uid */
	int n = qmanager_release(&d->quar, r->arg[0].s, uid, now);

	if (n < 0)
		ctl_reply_error(cl, "cannot release '%s': no such file", r->arg[0].s);
	else if (n == 0)
		ctl_reply_error(cl, "'%s' is not quarantined (see lymphctl status)", r->arg[0].s);
	else
		ctl_reply_ok(cl, "released");
}

static void do_fleet(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	struct json_object *o = d->fleet ? fleet_json(d->fleet) : json_object_new_object();

	(void)r;
	(void)now;
	json_object_object_add(o, "here", fleet_here_json(&d->fleet_here));
	json_object_object_add(o, "configured", json_object_new_boolean(d->fleet != NULL));
	ctl_reply(cl, o);
}

static void do_fleet_release(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
			     uint64_t now)
{
	const char *arg = r->arg[0].s;
	int n = fleet_here_release(&d->fleet_here, d->fleet, arg, &d->journal);

	(void)now;
	if (n == -EINVAL)
		ctl_reply_error(
			cl, "'%s' is neither an absolute path nor a SHA-256 (64 hex digits)", arg);
	else if (n < 0 && n != -ENOENT)
		ctl_reply_error(cl, "cannot release '%s': no such file", arg);
	else if (n < 0)
		ctl_reply_error(cl, "'%s' is not vaccinated here (see lymphctl fleet)", arg);
	else
		ctl_reply_ok(cl, "released here until the fleet calms");
}

static void do_crashes(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
		       uint64_t now)
{
	(void)r;
	(void)now;
	ctl_reply(cl, phago_crashes_json(&d->phago));
}

static void do_events(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
		      uint64_t now)
{
	(void)now;
	control_events(d->ctl, cl, r);
	daemon_fork_records_follow(d); /* a follower that shows forks: recorded from now */
}

typedef void (*command_fn)(struct daemon *d, struct ctl_client *cl, const struct ctl_req *r,
			   uint64_t now);

static const command_fn commands[CTL_CMD_MAX] = {
	[CTL_STATUS] = do_status,
	[CTL_SERVICES] = do_services,
	[CTL_RELOAD] = do_reload,
	[CTL_RESTART] = do_restart_reset,
	[CTL_RESET] = do_restart_reset,
	[CTL_METRICS] = do_metrics,
	[CTL_THROTTLES] = do_throttles,
	[CTL_RELEASE] = do_release,
	[CTL_RELEASE_LINEAGE] = do_release_lineage,
	[CTL_EVENTS] = do_events,
	[CTL_FLEET] = do_fleet,
	[CTL_FLEET_RELEASE] = do_fleet_release,
	[CTL_CRASHES] = do_crashes,
};

void daemon_command(void *ctx, struct ctl_client *cl, const struct ctl_req *r, uint64_t now)
{
	struct daemon *d = ctx;

	if ((unsigned int)r->cmd < CTL_CMD_MAX && commands[r->cmd])
		commands[r->cmd](d, cl, r, now);
	else
		ctl_reply_error(cl, "request not handled by this lymphd%s", "");
	/* What the answer took (a status is ~1.5 MiB of JSON objects while
	 * it is built) is given back once it has gone out. */
	d->trim_due = 1;
}
