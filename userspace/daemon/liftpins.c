// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymphd --lift-pins: what a dead lymphd left of its clone-storm holds,
 * undone without starting lymphd.  When lymphd and its pin guard die
 * together (systemd killing the unit's cgroup, an OOM kill of the unit),
 * nothing lifts the pins (pids.max 0) until lymphd starts again; the
 * unit's ExecStopPost= runs this, which replays the journal as lymphd's
 * start does (respond/throttle.c) and ends every episode still open in
 * it: the pin lifted, the members moved back and continued, the hold
 * removed, a "+pids" lymphd wrote taken back; each journaled
 * ("recovered").  Refused while a lymphd answers on the control socket:
 * a running lymphd keeps its own holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "daemon.h"
#include "protect.h"

/* Does a lymphd answer on path? */
static int lymphd_answers(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, up;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	up = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return up;
}

static int replay_one(struct json_object *rec, void *ctx)
{
	return throttler_replay_record(ctx, rec, 0) < 0 ? -EINVAL : 0;
}

static void journal_lift(struct journal *j, int enforce, const char *result)
{
	struct json_object *rec = json_object_new_object();

	json_object_object_add(rec, "type", json_object_new_string("lymphd"));
	json_object_object_add(rec, "action", json_object_new_string("lift-pins"));
	json_object_object_add(rec, "mode",
			       json_object_new_string(enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "pid", json_object_new_int64(getpid()));
	json_object_object_add(rec, "result", json_object_new_string(result));
	if (journal_append(j, rec))
		fprintf(stderr, "lymphd: failed to write the journal %s\n", j->path);
}

int daemon_lift_pins(const struct daemon_opts *o)
{
	struct journal j = { .fd = -EBADF };
	struct kthrottle none = { 0 }; /* no sensors: only what the journal says */
	struct cfg_errors errs = { 0 };
	struct throttler t;
	struct policy *p;
	const char *path;
	char msg[128];
	size_t i;
	int err, enforce;

	if (lymphd_answers(o->socket_path)) {
		fprintf(stderr,
			"lymphd: failed to lift the pins: a lymphd answers on %s and keeps its own "
			"holds; end one with lymphctl release --lineage KIND:ID\n",
			o->socket_path);
		return -EBUSY;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "lymphd: failed to allocate the policy: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	/* the journal's path; a pin must be lifted even under a policy that
	 * does not load (then the default journal, unless --journal) */
	err = config_load_file(p, o->config_path, o->config_explicit, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "lymphd: %s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	path = o->journal_path			   ? o->journal_path
	       : !err && p->journal && *p->journal ? p->journal
						   : LYMPH_DEFAULT_JOURNAL;
	if (err)
		fprintf(stderr,
			"lymphd: the policy %s does not load: lifting the pins the journal %s "
			"names (give another with --journal=PATH)\n",
			o->config_path, path);
	enforce = !err && p->enforce && p->throttle.enabled;
	protect_init();
	/* max 0: never rotated here, where no other state is snapshotted */
	err = journal_open(&j, path, 0);
	if (err) {
		fprintf(stderr, "lymphd: failed to open the journal %s: %s; %s\n", path,
			strerror(-err), err == -EPERM ? j.why : "give it with --journal=PATH");
		goto out;
	}
	err = throttler_init(&t, p, &j, enforce, &none);
	if (err)
		goto out;
	t.recover_by = "lymphd --lift-pins";
	err = journal_load(&j, replay_one, &t);
	if (err) {
		fprintf(stderr, "lymphd: failed to read the journal %s: %s\n", path,
			strerror(-err));
		throttler_replay_done(&t, 0); /* what was read is lifted all the same */
		goto out;
	}
	throttler_replay_done(&t, 0);
	if (t.recovered) {
		snprintf(msg, sizeof(msg),
			 "%zu clone-storm hold%s left by a lymphd that died: pins lifted, members "
			 "continued",
			 t.recovered, t.recovered == 1 ? "" : "s");
		journal_lift(&j, enforce, msg);
	}
	printf("lymphd: %zu hold%s lifted\n", t.recovered, t.recovered == 1 ? "" : "s");
out:
	journal_close(&j);
	policy_free(p);
	free(p);
	return err;
}
