// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymphd's event loop: one epoll (lib/evloop.h) over the source's ring (or
 * netlink socket), a signalfd, timers, the control socket and its clients,
 * the metrics listener, services' pidfds, fanotify and the fleet link; each
 * fd registered with its own handler.  Each record goes sources ->
 * classify -> score (per-binary decaying counts) -> output.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include "classify.h"
#include "clock.h"
#include "daemon.h"
#include "format.h"
#include "metrics.h"
#include "notify.h"
#include "memtrim.h"
#include "nofile.h"
#include "privs.h"
#include "protect.h"
#include "slice.h"

/* Bulk records wait at most this long in the ring (ms). */
#define DRAIN_PERIOD_MS 250

uint64_t mono_now_ns(void)
{
	return clock_mono_ns();
}

static const char *exe_of(struct daemon *d, const struct lymph_task *t)
{
	return binpath_lookup(&d->names, t->exe_dev, t->exe_ino);
}

/* "HH:MM:SS.mmm " of a wall-clock time in ns. */
static void put_clock(FILE *out, int64_t wall)
{
	time_t secs = (time_t)(wall / 1000000000);
	struct tm tm;

	localtime_r(&secs, &tm);
	fprintf(out, "%02d:%02d:%02d.%03d ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		(int)((wall / 1000000) % 1000));
}

/* Standard output: what the filter keeps at this verbosity (all of it
 * with --json); not a second copy when stdout is the journal's stream. */
static int stdout_wants(const struct daemon *d, enum out_item it)
{
	return !d->opts.quiet && !d->log.stdout_is_journal &&
	       outfilter_wants(&d->opts.filter, it,
			       d->opts.json ? OUT_VERBOSE_MAX : d->opts.verbose);
}

/* The system log: what the filter keeps at this verbosity, in any mode. */
static int log_wants(const struct daemon *d, enum out_item it)
{
	return d->log.target != LOG_TARGET_STDERR &&
	       outfilter_wants(&d->opts.filter, it, d->opts.verbose);
}

static void print_record(struct daemon *d, const struct lymph_hdr *rec, const char *exe,
			 const struct verdict *vd)
{
	enum out_item it = out_item_of_record(rec, vd);
	int to_out = stdout_wants(d, it), to_log = log_wants(d, it);
	struct json_object *o = NULL;
	char line[1024];

	control_publish(d->ctl, rec, exe, vd, it); /* lymphctl events */
	if (!to_out && !to_log)
		return;
	if (to_log)
		o = format_json(rec, exe, vd);
	if (!d->opts.json || to_log)
		format_text(line, sizeof(line), rec, exe, vd);
	if (to_out && d->opts.json) {
		/* The same bytes as json-c gives for format_json(), without it. */
		d->jline.len = 0;
		if (!format_json_append(&d->jline, rec, exe, vd))
			fwrite(d->jline.p, 1, d->jline.len, d->out);
	} else if (to_out) {
		put_clock(d->out, (int64_t)rec->ts_ns + d->wall_offset_ns);
		fprintf(d->out, "%s\n", line);
	}
	if (to_log && o)
		logsink_send(&d->log, it, o, lymph_kind_name(rec->kind), line);
	json_object_put(o);
}

/* A record lymphd journaled (decision, action, weather change): printed
 * and logged like the sensors' records. */
static void print_journaled(struct daemon *d, struct json_object *rec, const char *ser,
			    size_t ser_len)
{
	enum out_item it = out_item_of_journal(rec);
	int to_out = stdout_wants(d, it), to_log = log_wants(d, it);
	struct json_object *t;
	const char *type = NULL;
	char line[1024] = "";

	control_publish_journaled(d->ctl, rec, ser, ser_len, it); /* lymphctl events */
	if (!to_out && !to_log)
		return;
	if (json_object_object_get_ex(rec, "type", &t) && json_object_is_type(t, json_type_string))
		type = json_object_get_string(t);
	if (to_log || !d->opts.json)
		format_journal_text(line, sizeof(line), rec);
	if (to_out && d->opts.json) {
		/* {"event":"decision", then the journal record as written:
		 * its bytes when the journal's tap has them (ser) */
		d->jline.len = 0;
		if (!format_decision_append(&d->jline, rec, ser, ser_len))
			fwrite(d->jline.p, 1, d->jline.len, d->out);
	} else if (to_out) {
		struct json_object *ts;
		double secs = json_object_object_get_ex(rec, "ts", &ts)
				      ? json_object_get_double(ts)
				      : (double)clock_wall_ns() / 1e9;

		put_clock(d->out, (int64_t)(secs * 1e9));
		fprintf(d->out, "%s\n", line);
	}
	if (to_log)
		logsink_send(&d->log, it, rec, type ? type : "decision", line);
}

/* journal.tap: every record appended.  Those of the start-up wait for the
 * start line, which a reader of lymphd's output expects first. */
static void on_journaled(struct json_object *rec, void *ctx)
{
	struct daemon *d = ctx;

	if (d->fleet)
		fleet_journal_tap(d->fleet, rec);
	if (d->early)
		json_object_array_add(d->early, json_object_get(rec));
	else
		print_journaled(d, rec, d->journal.line, d->journal.line_len);
}

int daemon_handle_record(void *ctx, const struct lymph_hdr *rec)
{
	struct daemon *d = ctx;
	struct verdict vd, *vdp = NULL;
	const char *exe = NULL;

	d->records_in++;
	d->fork_records += rec->kind == LYMPH_EV_FORK;
	/* forks counted by the sensors come from their count (daemon_forks_sync) */
	if (rec->kind == LYMPH_EV_FORK && source_counts_forks(&d->src)) {
		print_record(d, rec, exe_of(d, &((const struct lymph_fork *)rec)->task), NULL);
		return 0;
	}
	if (rec->kind < LYMPH_EV_KIND_MAX)
		d->count.by_kind[rec->kind]++;

	switch (rec->kind) {
	case LYMPH_EV_EXEC: {
		const struct lymph_exec *e = (const void *)rec;
		char path[LYMPH_PATH_LEN];

		memcpy(path, e->path, sizeof(path));
		path[sizeof(path) - 1] = 0;
		binpath_learn_exec(&d->names, e->task.exe_dev, e->task.exe_ino, path, e->task.pid);
		exe = exe_of(d, &e->task);
		break;
	}
	case LYMPH_EV_DEATH: {
		const struct lymph_death *dd = (const void *)rec;
		int relayed;

		vd = classify_death_memo(dd, &d->sigmemo, &relayed, NULL, NULL);
		vdp = &vd;
		exe = exe_of(d, &dd->task);
		if (vd.klass == LYMPH_CLASS_DANGER) {
			d->count.danger++;
			crashtab_record(&d->crashes, dd->task.exe_dev, dd->task.exe_ino, rec->ts_ns,
					dd->signo, dd->task.uid, dd->task.comm);
		} else {
			d->count.programmed++;
		}
		/* The death first, then the decisions it causes. */
		print_record(d, rec, exe, vdp);
		if (d->fleet && vd.klass == LYMPH_CLASS_DANGER &&
		    vd.reason != LYMPH_REASON_UNVERIFIED)
			fleet_danger(d->fleet, dd->task.exe_dev, dd->task.exe_ino, exe, dd->signo,
				     dd->fault_addr);
		supervisor_on_death(&d->sup, dd, &vd, exe, mono_now_ns());
		qmanager_on_death(&d->quar, dd, &vd, exe, mono_now_ns());
		phago_on_death(&d->phago, (pid_t)dd->task.pid, vd.klass == LYMPH_CLASS_DANGER);
		break;
	}
	case LYMPH_EV_SIGNAL:
		exe = exe_of(d, &((const struct lymph_signal *)rec)->task);
		sigmemo_note(&d->sigmemo, (const struct lymph_signal *)rec);
		break;
	case LYMPH_EV_THROTTLE:
		exe = exe_of(d, &((const struct lymph_throttle *)rec)->task);
		print_record(d, rec, exe, NULL);
		throttler_on_record(&d->thr, (const void *)rec, mono_now_ns());
		break;
	case LYMPH_EV_DROP: phago_deaths_lost(&d->phago); break; /* deaths among them */
	case LYMPH_EV_FORK: exe = exe_of(d, &((const struct lymph_fork *)rec)->task); break;
	case LYMPH_EV_OOM: exe = exe_of(d, &((const struct lymph_oom *)rec)->task); break;
	}
	if (d->weather)
		weather_on_record(d->weather, rec, vdp && vd.klass == LYMPH_CLASS_DANGER,
				  mono_now_ns());
	if (rec->kind != LYMPH_EV_DEATH && rec->kind != LYMPH_EV_THROTTLE)
		print_record(d, rec, exe, vdp);
	return 0;
}

/* The sensors wake lymphd at once only for the danger deaths quarantine
 * may act on (a service's death wakes it through its pidfd). */
static void wake_calm(void *ctx, const struct qkey *k)
{
	source_wake_calm(ctx, k->dev, k->ino, k->uid);
}

static void wake_reset(void *ctx, int all)
{
	source_wake_reset(ctx, all);
}

/* DRAIN_PERIOD_MS, or LYMPH_DRAIN_MS (1..3600000) for tests and benchmarks
 * that must tell a wakeup from the timer. */
static long drain_period_ms(void)
{
	const char *e = getenv("LYMPH_DRAIN_MS");
	char *end;
	long v;

	if (!e || !*e)
		return DRAIN_PERIOD_MS;
	errno = 0;
	v = strtol(e, &end, 10);
	if (errno || *end || v < 1 || v > 3600000) {
		fprintf(stderr, "lymphd: LYMPH_DRAIN_MS=%s is not 1..3600000 ms; using %d\n", e,
			DRAIN_PERIOD_MS);
		return DRAIN_PERIOD_MS;
	}
	return v;
}

static int open_source(struct daemon *d)
{
	/* -v: the sources' diagnostics in auto mode; -vvv: libbpf's log too. */
	int v = d->opts.verbose >= 3 ? 2 : d->opts.verbose ? 1 : 0;
	int err;

	/* Before the sensors load (lib/nofile.h), as the quarantine raises
	 * it later anyway: loading, libbpf holds a descriptor per map,
	 * program and link, and the BPF source takes its own before it
	 * frees libbpf's (bpf_kept.h).  Under a low soft limit (a unit's
	 * LimitNOFILE=64:...) the load would fail with EMFILE and lymphd
	 * fall back to the proc connector. */
	(void)nofile_raise();

	switch (d->opts.source) {
	case SOURCE_BPF:
		return source_bpf_open(&d->src, &d->opts.src, daemon_handle_record, d, v ? v : 1);
	case SOURCE_PROC:
		return source_proc_open(&d->src, &d->opts.src, daemon_handle_record, d, v ? v : 1);
	case SOURCE_KMOD:
		return source_kmod_open(&d->src, &d->opts.src, daemon_handle_record, d, v ? v : 1);
	case SOURCE_AUTO: break;
	}
	/* Best first: the module when it is loaded, then BPF; the proc
	 * connector only when neither can be had. */
	if (!access("/dev/lymph", F_OK) &&
	    !source_kmod_open(&d->src, &d->opts.src, daemon_handle_record, d, v))
		return 0;
	err = source_bpf_open(&d->src, &d->opts.src, daemon_handle_record, d, v);
	if (!err)
		return 0;
	fprintf(stderr,
		"lymphd: BPF sensors unavailable (%s); falling back to the proc connector\n",
		strerror(-err));
	return source_proc_open(&d->src, &d->opts.src, daemon_handle_record, d, v ? v : 1);
}

/* lymphd's own life events, in the journal beside its decisions. */
static void journal_lymphd(struct daemon *d, const char *what, const char *detail)
{
	struct json_object *rec = json_object_new_object();

	json_object_object_add(rec, "type", json_object_new_string("lymphd"));
	json_object_object_add(rec, "action", json_object_new_string(what));
	json_object_object_add(rec, "mode",
			       json_object_new_string(d->enforce ? "enforce" : "observe"));
	json_object_object_add(rec, "pid", json_object_new_int64(getpid()));
	if (d->src.name)
		json_object_object_add(rec, "source", json_object_new_string(d->src.name));
	if (detail)
		json_object_object_add(rec, "result", json_object_new_string(detail));
	if (!strcmp(what, "start"))
		json_object_object_add(rec, "journal", journal_stats_json(&d->journal.replayed));
	if (journal_append(&d->journal, rec))
		fprintf(stderr, "lymphd: failed to write the journal %s\n", d->journal.path);
}

static int daemon_journal_snapshot(struct journal *j, void *ctx)
{
	struct daemon *d = ctx;

	(void)j;
	/* All of it: what replay would rebuild must be in the fresh file. */
	qmanager_snapshot(&d->quar, mono_now_ns());
	throttler_snapshot(&d->thr);
	return supervisor_snapshot(&d->sup);
}

/* Start: every record of the journal, once, to each module's replay. */
static int daemon_replay_one(struct json_object *rec, void *ctx)
{
	struct daemon *d = ctx;
	uint64_t now = mono_now_ns();

	if (supervisor_replay_record(&d->sup, rec) < 0 ||
	    qmanager_replay_record(&d->quar, rec, now) < 0 ||
	    throttler_replay_record(&d->thr, rec, now) < 0)
		return -EINVAL;
	return 0;
}

static int daemon_replay(struct daemon *d)
{
	const struct journal_stats *st = &d->journal.replayed;
	int err = journal_load(&d->journal, daemon_replay_one, d);
	uint64_t i;

	if (err) {
		fprintf(stderr, "lymphd: failed to read the journal %s: %s\n", d->journal.path,
			strerror(-err));
		return err;
	}
	if (st->bad) {
		fprintf(stderr, "lymphd: journal %s: %llu damaged line%s skipped (line",
			d->journal.path, (unsigned long long)st->bad, st->bad == 1 ? "" : "s");
		for (i = 0; i < st->bad && i < JOURNAL_BAD_KEPT; i++)
			fprintf(stderr, "%s %llu", i ? "," : "",
				(unsigned long long)st->bad_line[i]);
		fprintf(stderr, "%s); the state they held is lost\n",
			st->bad > JOURNAL_BAD_KEPT ? ", ..." : "");
	}
	if (st->torn_bytes)
		fprintf(stderr,
			"lymphd: journal %s: a torn last line (%llu bytes, a crash mid-write) "
			"was cut off\n",
			d->journal.path, (unsigned long long)st->torn_bytes);
	return 0;
}

static int open_weather(struct daemon *d)
{
	const char *prot[CFG_LIST_MAX * 2 + 2];
	static char self[4096], ctl[4096 + 16];
	char state_dir[4096], *slash;
	size_t n = 0, i;
	ssize_t len;
	int err;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = 0;
		prot[n++] = self;
		snprintf(ctl, sizeof(ctl), "%s", self);
		slash = strrchr(ctl, '/');
		if (slash) {
			strcpy(slash + 1, "lymphctl");
			prot[n++] = ctl;
		}
	}
	for (i = 0; i < d->policy->protect.n_exe && n < sizeof(prot) / sizeof(prot[0]); i++)
		prot[n++] = d->policy->protect.exe[i];
	for (i = 0; i < d->policy->n_services && n < sizeof(prot) / sizeof(prot[0]); i++)
		if (d->policy->services[i].exe)
			prot[n++] = d->policy->services[i].exe;
	/* Baselines live beside the journal, so a test's --journal isolates them. */
	snprintf(state_dir, sizeof(state_dir), "%s", d->journal.path);
	slash = strrchr(state_dir, '/');
	if (slash && slash != state_dir)
		*slash = 0;
	err = weather_init(&d->weather, &d->policy->weather, state_dir, &d->loop, prot, n);
	if (err)
		fprintf(stderr, "lymphd: failed to set up the weather: %s\n", strerror(-err));
	return err;
}

/* Responses in progress: restarts, open breakers, held lineages, and
 * quarantines imposed lately (not merely still in force: bad weather
 * lowers the threshold, which must not keep it stormy by itself). */
static uint32_t responses_in_progress(struct daemon *d, uint64_t now)
{
	uint32_t activity = 0;

	activity += (uint32_t)supervisor_count_in_phase(&d->sup, SVC_BACKOFF);
	activity += (uint32_t)supervisor_count_in_phase(&d->sup, SVC_STARTING);
	activity += (uint32_t)supervisor_count_in_phase(&d->sup, SVC_BROKEN);
	activity += (uint32_t)throttler_held(&d->thr);
	activity += phago_activity(&d->phago); /* filesystems filling within the horizon */
	if (qmanager_imposed_within(&d->quar, now, 300ULL * 1000000000ULL))
		activity++;
	return activity;
}

/* The weather steps once a second.  The drain timer's ticks come a
 * little late by varying amounts: a step is due a little before the
 * second is up, or a one-second tick (dozing) would step every other
 * tick. */
#define WEATHER_STEP_NS	 1000000000ULL
#define WEATHER_SLACK_NS 100000000ULL

/* Once a second: the weather, and its feedback into every response. */
static void weather_step_daemon(struct daemon *d, uint64_t now)
{
	struct json_object *why = NULL, *events = NULL;
	size_t i;

	if (!d->weather || now + WEATHER_SLACK_NS < d->weather_next_ns)
		return;
	d->weather_next_ns = now + WEATHER_STEP_NS;
	daemon_forks_sync(d, now);
	weather_set_activity(d->weather, responses_in_progress(d, now));
	if (weather_tick(d->weather, now, (int64_t)(clock_wall_ns() / 1000000000ULL), &why,
			 &events)) {
		if (why)
			journal_append(&d->journal, why);
		why = NULL;
		kthrottle_set_weather(&d->kt, weather_name(weather_now(d->weather)));
	}
	if (why)
		json_object_put(why);
	if (events) {
		for (i = 0; i < json_object_array_length(events); i++)
			journal_append(&d->journal,
				       json_object_get(json_object_array_get_idx(events, i)));
		json_object_put(events);
	}
	supervisor_set_backoff_factor(&d->sup, weather_backoff_factor(d->weather));
	throttler_set_factor(&d->thr, weather_budget_factor(d->weather));
	qmanager_set_weather_factor(&d->quar, weather_quarantine_factor(d->weather));
	weather_set_fleet(d->weather, (uint32_t)d->fleet_here.n);
}

/* The handlers of the fds lymphd itself watches (the control plane,
 * the metrics listener, the supervisor and the weather register theirs). */
static int on_source_ready(struct watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;

	(void)events;
	return source_drain(&d->src);
}

/* vaccine = quarantine: the quarantine manager bans the binary for every uid. */
static int fleet_ban(void *ctx, uint32_t dev, uint64_t ino, const char *path, int on,
		     const char **why)
{
	struct daemon *d = ctx;

	*why = NULL;
	return on ? qmanager_ban(&d->quar, dev, ino, path, mono_now_ns(), why)
		  : qmanager_unban(&d->quar, dev, ino, mono_now_ns());
}

static int on_quarantine_ready(struct watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;

	(void)events;
	qmanager_on_fd(&d->quar, mono_now_ns());
	return 0;
}

static int on_fleet_ready(struct watch *w, uint32_t events);

/* [fleet]: the link runs in its own thread, started after privileges are
 * dropped (capabilities are per thread); it never delays the loop. */
static int open_fleet(struct daemon *d)
{
	int err;

	if (!d->policy->fleet.enabled)
		return 0;
	fleet_here_init(&d->fleet_here, &d->policy->fleet);
	err = fleet_start(&d->fleet, &d->policy->fleet);
	d->fleet_here.ban = fleet_ban;
	d->fleet_here.ban_ctx = d;
	if (!err)
		err = watch_add(&d->loop, &d->fleet_w, fleet_fd(d->fleet), EPOLLIN, on_fleet_ready,
				d);
	if (err) {
		fprintf(stderr, "lymphd: failed to start the fleet link: %s\n", strerror(-err));
		return err;
	}
	qmanager_set_bin_factor(&d->quar, fleet_here_factor, &d->fleet_here);
	return 0;
}

/*
 * A reload's [fleet].  A link that would differ (servers, files, names,
 * thresholds) is replaced: what this host was vaccinated against ends and
 * comes back from the fleet's memory through the new link, so that nothing
 * outlives a fleet that calmed while the link changed.  The vaccine and its
 * factor apply at once to what is in force.
 */
static void reload_fleet(struct daemon *d, int relink)
{
	char self[FLEET_NAME_MAX + 1] = "";

	if (d->fleet && relink) {
		snprintf(self, sizeof(self), "%s", fleet_host(d->fleet));
		watch_del(&d->loop, &d->fleet_w);
		fleet_stop(d->fleet); /* joins its thread */
		d->fleet = NULL;
		fleet_here_clear(
			&d->fleet_here, self, &d->journal,
			d->policy->fleet.enabled
				? "the fleet link is reconfigured: vaccinations come back from the fleet's memory"
				: "[fleet] is no longer in the policy: the vaccination ends");
		qmanager_set_bin_factor(&d->quar, NULL, NULL);
		journal_lymphd(d, "fleet",
			       d->policy->fleet.enabled ? "link reconfigured by a reload"
							: "link stopped by a reload");
	}
	if (!d->policy->fleet.enabled)
		return;
	if (!d->fleet) {
		journal_lymphd(d, "fleet", open_fleet(d) ? "failed to start the link on a reload; "
					   "local responses go on, fix [fleet] and reload" :
					   "link started by a reload");
		return;
	}
	fleet_here_reconf(&d->fleet_here, &d->policy->fleet, fleet_host(d->fleet), &d->journal,
			  d->enforce);
}

static int on_fleet_ready(struct watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;
	struct fleet_event ev;

	(void)events;
	fleet_clear_fd(d->fleet);
	while (fleet_pop(d->fleet, &ev))
		fleet_here_apply(&d->fleet_here, &ev, fleet_host(d->fleet), &d->journal,
				 d->enforce);
	return 0;
}

static void announce(struct daemon *d)
{
	const char *mode = d->enforce ? "enforce" : "observe";

	if (d->opts.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "event", json_object_new_string("start"));
		json_object_object_add(o, "version", json_object_new_string(LYMPH_VERSION));
		json_object_object_add(o, "pid", json_object_new_int64(getpid()));
		json_object_object_add(o, "source", json_object_new_string(d->src.name));
		json_object_object_add(o, "missing",
				       d->src.missing ? json_object_new_string(d->src.missing)
						      : NULL);
		json_object_object_add(o, "mode", json_object_new_string(mode));
		fprintf(d->out, "%s\n",
			json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		fflush(d->out);
	}
	fprintf(stderr, "lymphd %s: source %s, %s mode, control socket %s\n", LYMPH_VERSION,
		d->src.name, mode, d->opts.socket_path);
	if (d->src.missing)
		fprintf(stderr, "lymphd: the %s source cannot see: %s\n", d->src.name,
			d->src.missing);
}

/* What was journaled while starting, after the start line. */
static void flush_early(struct daemon *d)
{
	struct json_object *early = d->early;
	size_t i;

	d->early = NULL;
	for (i = 0; early && i < json_object_array_length(early); i++)
		print_journaled(d, json_object_array_get_idx(early, i), NULL, 0);
	json_object_put(early);
	fflush(d->out);
}

static int on_signal_ready(struct watch *w, uint32_t events);
static int on_timer_ready(struct watch *w, uint32_t events);
static int on_svc_timer_ready(struct watch *w, uint32_t events);
static void drain_source(void *ctx);

/* The few pages of lymphd's own that every death reads (the memo of
 * kills scanned whole, the crash table's first slots), resident again after a
 * drop of zero pages: else the next crash takes their faults on its way
 * to its line (issue 15: some 100 us here).  A few pages, that the first
 * crash would make resident anyway. */
/* The journal's sync thread, for the decisions journaled deferred (a
 * would-quarantine, a quarantine by fanotify or the LSM): started here,
 * after the start-up and after each trim, not by the first such decision
 * after them, whose wakeup would pay its creation (~0.3 ms here). */
static void start_sync_thread(struct daemon *d)
{
	int err = d->quar.t.conf.enabled ? journal_sync_thread_start(&d->journal) : 0;

	if (err)
		fprintf(stderr, "lymphd: failed to start the journal's sync thread: %s; the "
				"first deferred record starts it\n",
			strerror(-err));
}

static void prefault_event_path(struct daemon *d)
{
	size_t slots = d->crashes.ht.cap * d->crashes.ht.size;
	size_t qslots = d->quar.t.ht.cap * d->quar.t.ht.size;

	mem_prefault(&d->sigmemo, sizeof(d->sigmemo));
	/* Empty until the first crash (then its zeros were dropped); a
	 * larger table has an entry on nearly every page already. */
	if (d->crashes.ht.slots && slots <= (16u << 10))
		mem_prefault(d->crashes.ht.slots, slots);
	/* The quarantine table's too (64 slots, 5.5 KiB at start): a new
	 * binary's first danger death writes its entry there. */
	if (d->quar.t.ht.slots && qslots <= (16u << 10))
		mem_prefault(d->quar.t.ht.slots, qslots);
	/* Where the death's record and its decision go next: the weather's
	 * counts and the backlog of lymphctl events (4 of the 7 faults of a
	 * fresh lymphd's first would-quarantine, issue 15). */
	weather_prefault(d->weather);
	control_prefault(d->ctl);
}

int daemon_init(struct daemon *d, const struct daemon_opts *opts)
{
	long drain_ms = drain_period_ms();
	struct itimerspec period = {
		.it_interval = { drain_ms / 1000, drain_ms % 1000 * 1000000L },
		.it_value = { drain_ms / 1000, drain_ms % 1000 * 1000000L },
	};
	sigset_t mask;
	int err;

	memset(d, 0, sizeof(*d));
	d->opts = *opts;
	d->drain_ns = (uint64_t)drain_ms * 1000000ULL;
	d->loop.epfd = d->sigfd = d->timerfd = d->ctlfd = d->svc_timerfd = d->metrics_fd = -EBADF;
	watch_init(&d->src_w);
	watch_init(&d->sig_w);
	watch_init(&d->timer_w);
	watch_init(&d->svc_timer_w);
	watch_init(&d->quar_w);
	watch_init(&d->fleet_w);
	d->journal.fd = -EBADF;
	d->src.fd = -EBADF;
	d->log.fd = -EBADF;
	d->log.target = LOG_TARGET_STDERR;
	d->out = stdout;
	/* --json into a pipe or file: the loop flushes once per turn, so a
	 * drained batch goes out in one write (up to 64 KiB) instead of one per
	 * 4 KiB.  The buffer is ours: given NULL, glibc ignores the size and
	 * allocates st_blksize (4 KiB on a pipe).  Its pages become resident
	 * only as far as a batch fills them. */
	if (opts->json && !isatty(STDOUT_FILENO)) {
		static char json_buf[1 << 16];

		setvbuf(stdout, json_buf, _IOFBF, sizeof(json_buf));
	}
	d->start_ns = mono_now_ns();
	d->wall_offset_ns = (int64_t)(clock_wall_ns() - d->start_ns);

	err = crashtab_init(&d->crashes, opts->crashtab_max, opts->half_life_ns);
	if (!err)
		err = binpath_init(&d->names, 16384);
	if (err) {
		fprintf(stderr, "lymphd: failed to allocate tables: %s\n", strerror(-err));
		return err;
	}
	binpath_scan_proc(&d->names, "/proc");
	protect_init();

	/* The policy: refuse to start with an invalid or unsafe one. */
	d->policy = calloc(1, sizeof(*d->policy));
	if (!d->policy) {
		fprintf(stderr, "lymphd: failed to allocate the policy: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	{
		struct cfg_errors errs = { 0 };
		size_t i;

		err = config_load_file(d->policy, opts->config_path, opts->config_explicit, &errs);
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "lymphd: %s\n", errs.msg[i]);
		if (err) {
			fprintf(stderr,
				"lymphd: refusing to start with an invalid policy (%zu error%s); "
				"check it with: lymphd --check-config %s\n",
				errs.n, errs.n == 1 ? "" : "s", opts->config_path);
			cfg_errors_free(&errs);
			return err;
		}
		cfg_errors_free(&errs);
	}
	/* The event loop answers a crash's wakeup at the woken CPU's next
	 * chance (lib/slice.h); before the seccomp filter, which has no
	 * sched_setattr.  A reload does not change it. */
	slice_apply(d->policy->latency_slice_us, stderr);
	d->enforce = d->policy->enforce && !opts->dry_run;
	err = logsink_open(&d->log, opts->log);
	if (err)
		return err;
	d->early = json_object_new_array();
	err = journal_open(&d->journal,
			   opts->journal_path ? opts->journal_path : d->policy->journal,
			   d->policy->journal_max);
	if (err == -EPERM) {
		fprintf(stderr,
			"lymphd: failed to open the journal: %s; lymphd rebuilds its state "
			"from it and trusts only a root-owned file\n",
			d->journal.why);
		return err;
	}
	if (err) {
		fprintf(stderr,
			"lymphd: failed to open the journal %s: %s; lymphd journals every "
			"decision and will not run without it (use --journal=PATH)\n",
			opts->journal_path ? opts->journal_path : d->policy->journal,
			strerror(-err));
		return err;
	}
	d->journal.snapshot = daemon_journal_snapshot;
	d->journal.snapshot_ctx = d;
	d->journal.tap = on_journaled;
	d->journal.tap_ctx = d;

	/* Signals arrive through the loop, never asynchronously. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD); /* services, checks and hooks lymphd started */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN); /* a lymphctl that hangs up is not fatal */
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->svc_timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0 || d->svc_timerfd < 0 || evloop_init(&d->loop)) {
		err = -errno;
		fprintf(stderr, "lymphd: failed to create the event loop: %s\n", strerror(-err));
		return err;
	}
	if (timerfd_settime(d->timerfd, 0, &period, NULL)) {
		err = -errno;
		fprintf(stderr, "lymphd: failed to arm the drain timer: %s\n", strerror(-err));
		return err;
	}

	err = open_source(d);
	if (err)
		return err;
	/* The kernel throttle that goes with the source (kthrottle.h). */
	err = kthrottle_open(&d->kt, &d->src, NULL);
	if (err && err != -EOPNOTSUPP)
		fprintf(stderr,
			"lymphd: failed to set up the %s source's kernel throttle: %s; "
			"clone storms are not held in the kernel\n",
			d->src.name, strerror(-err));

	d->ctlfd = control_open(opts->socket_path);
	if (d->ctlfd < 0)
		return d->ctlfd;
	{
		struct control_env env = {
			.loop = &d->loop,
			.listen_fd = d->ctlfd,
			.filter = &d->opts.filter,
			.verbose = &d->opts.verbose,
			.wall_offset_ns = &d->wall_offset_ns,
			.dispatch = daemon_command,
			.ctx = d,
		};

		d->ctl = control_new(&env);
		if (!d->ctl) {
			err = -errno;
			fprintf(stderr, "lymphd: failed to set up the control socket: %s\n",
				strerror(-err));
			return err;
		}
	}
	/* The sensors record every fork until told otherwise. */
	d->fork_records_on = 1;
	daemon_fork_records_follow(d);

	if ((err = watch_add(&d->loop, &d->src_w, d->src.fd, EPOLLIN, on_source_ready, d)) ||
	    (err = watch_add(&d->loop, &d->sig_w, d->sigfd, EPOLLIN, on_signal_ready, d)) ||
	    (err = watch_add(&d->loop, &d->timer_w, d->timerfd, EPOLLIN, on_timer_ready, d)) ||
	    (err = watch_add(&d->loop, &d->svc_timer_w, d->svc_timerfd, EPOLLIN, on_svc_timer_ready,
			     d))) {
		fprintf(stderr, "lymphd: failed to watch file descriptors: %s\n", strerror(-err));
		return err;
	}
	/* Services, quarantine, throttle: set up, then their state from the
	 * journal (read once, before anything is appended to it). */
	err = supervisor_init(&d->sup, d->policy, &d->journal, d->enforce, &d->loop);
	if (err) {
		fprintf(stderr, "lymphd: failed to set up the supervisor: %s\n", strerror(-err));
		return err;
	}
	supervisor_set_drain(&d->sup, drain_source, d);
	err = qmanager_init(&d->quar, d->policy, &d->journal, d->enforce);
	if (err) {
		fprintf(stderr, "lymphd: failed to set up quarantine: %s\n", strerror(-err));
		return err;
	}
	err = throttler_init(&d->thr, d->policy, &d->journal,
			     d->enforce && d->policy->throttle.enabled, &d->kt);
	if (err) {
		fprintf(stderr, "lymphd: failed to configure the throttle: %s\n", strerror(-err));
		return err;
	}
	qmanager_set_wake(&d->quar, wake_calm, wake_reset, &d->src);
	err = daemon_replay(d);
	if (err)
		return err;
	journal_lymphd(d, "start", NULL);
	kthrottle_set_journal(&d->kt, &d->journal); /* what it wrote before the replay */
	d->started = 1;
	/* Quarantines enforced from now on; nothing left stopped by a crashed
	 * lymphd; services found or started. */
	qmanager_replay_done(&d->quar, mono_now_ns());
	if (qmanager_fd(&d->quar) >= 0 &&
	    (err = watch_add(&d->loop, &d->quar_w, qmanager_fd(&d->quar), EPOLLIN,
			     on_quarantine_ready, d))) {
		fprintf(stderr, "lymphd: failed to watch fanotify: %s\n", strerror(-err));
		return err;
	}
	throttler_replay_done(&d->thr, mono_now_ns());

	/* The weather: pressure, baselines, integrity of the protected binaries. */
	err = open_weather(d);
	if (err)
		return err;
	if (d->weather)
		kthrottle_set_weather(&d->kt, weather_name(weather_now(d->weather)));
	if (d->policy->metrics_listen) {
		d->metrics_fd = metrics_http_listen(d->policy->metrics_listen);
		if (d->metrics_fd < 0) {
			err = d->metrics_fd;
			fprintf(stderr,
				"lymphd: failed to listen for metrics on %s: %s (only loopback "
				"addresses are allowed)\n",
				d->policy->metrics_listen, strerror(-err));
			return err;
		}
		d->metrics = metrics_http_new(&d->loop, d->metrics_fd, daemon_metrics_fill, d);
		if (!d->metrics) {
			err = -errno;
			fprintf(stderr, "lymphd: failed to serve metrics on %s: %s\n",
				d->policy->metrics_listen, strerror(-err));
			return err;
		}
	}

	/* Everything is open and bound: lymphd's own system calls only from
	 * here on (privs.c; it runs on without the filter where it cannot
	 * have one), and only the capabilities the responses use and the
	 * services are given; then the services start. */
	privs_seccomp();
	{
		unsigned long long svc_caps = 0;
		size_t i;

		for (i = 0; i < d->policy->n_services; i++)
			svc_caps |= d->policy->services[i].caps;
		/* the refused-fork probe on fexit opens no perf event: no
		 * perf capability kept for it (source_bpf.c) */
		if (source_bpf_refusal_fexit(&d->src) == 1)
			err = privs_drop_keep_perf(svc_caps, -1);
		else
			err = privs_drop_keep(svc_caps);
	}
	if (err)
		return err;
	err = open_fleet(d);
	if (err)
		return err;
	supervisor_start(&d->sup, d->journal.path, mono_now_ns());
	phago_init(&d->phago, d->policy, &d->journal, &d->sup, d->enforce);
	phago_set_deaths_complete(&d->phago, d->src.every_death);
	/* Only now: a reader of the start line may count on every response. */
	announce(d);
	flush_early(d);
	/* Loading the BPF objects, libbpf parsed the kernel's BTF (~5 MiB,
	 * once per object) and, where a program is refused (BPF LSM), took a
	 * 16 MiB verifier log: all freed, but glibc keeps freed heap pages
	 * resident unless asked (12 MiB of an idle lymphd's 13 MiB of heap). */
	malloc_trim(0);
	/* And the pages that hold only zeros: tables sized for the worst
	 * case that their init zeroed (lib/memtrim.h).  Not with [fleet]:
	 * its thread runs already. */
	mem_drop_zero_anon("/proc/self/maps");
	prefault_event_path(d);
	start_sync_thread(d);
	/* The text and read-only data of lymphd and of its libraries: much
	 * of it ran or was read once, at start-up (libbpf, libelf and libz
	 * loading the BPF objects embedded in lymphd's own data).  Unmapped;
	 * what the loop uses comes back by a minor fault (lib/memtrim.h). */
	mem_drop_file_pages("/proc/self/smaps");
	return 0;
}

static void arm_svc_timer(struct daemon *d)
{
	uint64_t next = supervisor_next_deadline(&d->sup), now = mono_now_ns();
	uint64_t t = throttler_next(&d->thr);
	struct itimerspec its = { 0 };

	if (t && (!next || t < next))
		next = t;
	/* Armed for that deadline already (or it expired and the loop is
	 * about to see it): one system call less for every turn of the loop. */
	if (next == d->svc_armed_ns)
		return;
	d->svc_armed_ns = next;
	if (next) {
		/* A deadline already due fires at once (a zero value would disarm). */
		uint64_t delta = next > now ? next - now : 1;

		its.it_value.tv_sec = (time_t)(delta / 1000000000ULL);
		its.it_value.tv_nsec = (long)(delta % 1000000000ULL);
	}
	timerfd_settime(d->svc_timerfd, 0, &its, NULL);
}

/* A policy of the heap, freed. */
static void policy_destroy(struct policy *p)
{
	if (!p)
		return;
	policy_free(p);
	free(p);
}

static int reload_policy(struct daemon *d, char **why)
{
	struct cfg_errors errs = { 0 };
	struct policy *fresh, *old;
	size_t i, len = 0;
	int err, enforce, relink;

	*why = NULL;
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh) {
		*why = strdup("out of memory\n");
		fprintf(stderr, "lymphd: reload refused, keeping the current policy: %s\n",
			strerror(ENOMEM));
		journal_lymphd(d, "reload", "refused: out of memory, the current policy is kept");
		return -ENOMEM;
	}
	err = config_load_file(fresh, d->opts.config_path, d->opts.config_explicit, &errs);
	if (err) {
		for (i = 0; i < errs.n; i++)
			len += strlen(errs.msg[i]) + 1;
		*why = calloc(1, len + 1);
		for (i = 0; *why && i < errs.n; i++) {
			strcat(*why, errs.msg[i]);
			strcat(*why, "\n");
		}
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "lymphd: %s\n", errs.msg[i]);
		fprintf(stderr, "lymphd: reload refused, keeping the current policy\n");
		journal_lymphd(d, "reload", "refused: invalid policy, the current one is kept");
		cfg_errors_free(&errs);
		policy_destroy(fresh);
		return -EINVAL;
	}
	cfg_errors_free(&errs);
	if (fresh->latency_slice_us != d->policy->latency_slice_us)
		fprintf(stderr,
			"lymphd: latency_slice_us = %u takes effect when lymphd restarts; "
			"until then its event loop keeps the slice it started with\n",
			fresh->latency_slice_us);
	/* One pointer swapped: every module that keeps pointers into the
	 * policy (services' confs, the protected set, the phagocytes') is
	 * re-bound to the fresh one first; the old one is freed only then,
	 * when nothing points into it any more. */
	enforce = fresh->enforce && !d->opts.dry_run;
	err = supervisor_reload(&d->sup, fresh, enforce, mono_now_ns());
	if (err) {
		policy_destroy(fresh);
		return err;
	}
	relink = !fleet_conf_same_link(&d->policy->fleet, &fresh->fleet);
	old = d->policy;
	d->policy = fresh;
	d->enforce = enforce;
	qmanager_reload(&d->quar, d->policy, d->enforce);
	throttler_reload(&d->thr, d->policy, d->enforce && d->policy->throttle.enabled);
	phago_reload(&d->phago, d->policy, d->enforce);
	reload_fleet(d, relink);
	if (d->weather)
		weather_set_conf(d->weather, &d->policy->weather);
	policy_destroy(old);
	journal_lymphd(d, "reload", d->enforce ? "enforce mode" : "observe mode");
	return 0;
}

static void pace_configure(struct daemon *d);
static void pace_apply(struct daemon *d, enum tick_pace before, enum tick_pace after);

/* systemd hears of every reload, done or refused (sd_notify RELOADING=1). */
int daemon_reload(struct daemon *d, char **why)
{
	int err;

	notify("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(mono_now_ns() / 1000));
	err = reload_policy(d, why);
	/* the doze period may have changed: the short ticks until the next
	 * quiet ones, which doze at the new period */
	pace_configure(d);
	if (d->pace.state != PACE_ACTIVE) {
		pace_apply(d, d->pace.state, PACE_ACTIVE);
		d->pace.state = PACE_ACTIVE;
	}
	notify("READY=1");
	return err;
}

/* The supervisor, before it handles a pidfd: the sensors' record first. */
static void drain_source(void *ctx)
{
	struct daemon *d = ctx;

	source_drain(&d->src);
}

static void reap_children(struct daemon *d)
{
	int status;
	pid_t pid;

	/* A sensor record of the same death carries more (si_code, sender):
	 * let it be seen first. */
	source_drain(&d->src);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		supervisor_on_child(&d->sup, pid, status, mono_now_ns());
}

static int on_signal_ready(struct watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;
	struct signalfd_siginfo si;

	(void)events;
	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			char *why;

			daemon_reload(d, &why);
			free(why);
		} else if (si.ssi_signo == SIGCHLD) {
			reap_children(d);
		} else {
			d->stop = 1;
		}
	}
	return 0;
}

/* Records handled so far, of every kind. */
static uint64_t records_seen(const struct daemon *d)
{
	return d->records_in;
}

void daemon_forks_sync(struct daemon *d, uint64_t now_ns)
{
	uint64_t total, n;

	if (source_forks_seen(&d->src, &total) || total <= d->forks_counted)
		return;
	n = total - d->forks_counted;
	d->forks_counted = total;
	d->count.by_kind[LYMPH_EV_FORK] += n;
	if (d->weather)
		weather_add_forks(d->weather, n, now_ns);
}

void daemon_fork_records_follow(struct daemon *d)
{
	int on = stdout_wants(d, OUT_FORK) || log_wants(d, OUT_FORK) ||
		 control_followers_want(d->ctl, OUT_FORK);

	if (!source_counts_forks(&d->src) || on == d->fork_records_on)
		return;
	source_fork_records(&d->src, on);
	d->fork_records_on = on;
}

/* The drain timer ticks every period_ns from now. */
static int set_drain_period(struct daemon *d, uint64_t period_ns)
{
	struct itimerspec its = {
		.it_interval = { (time_t)(period_ns / 1000000000ULL),
				 (long)(period_ns % 1000000000ULL) },
	};

	its.it_value = its.it_interval;
	if (timerfd_settime(d->timerfd, 0, &its, NULL)) {
		fprintf(stderr, "lymphd: failed to set the drain timer to %llu ms: %s\n",
			(unsigned long long)(period_ns / 1000000ULL), strerror(errno));
		return -errno;
	}
	return 0;
}

/* How long lymphd may doze: the phagocytes' shortest period, half the
 * systemd watchdog's, at most a second (policy/tickpace.h).  At start and
 * after every reload (the phagocytes' periods may change). */
static void pace_configure(struct daemon *d)
{
	uint64_t shortest = phago_conf_shortest_interval(&d->policy->phago);
	uint64_t watchdog = notify_watchdog_usec() * 1000ULL / 2;

	if (watchdog && (!shortest || watchdog < shortest))
		shortest = watchdog;
	d->doze_ns = tickpace_doze_ns(d->drain_ns, shortest);
}

static struct pace_input pace_input(struct daemon *d, uint64_t now)
{
	uint64_t expiry = qmanager_next_expiry(&d->quar);

	return (struct pace_input){
		.records = records_seen(d),
		.can_doze = d->doze_ns && source_can_doze(&d->src),
		/* a quarantine ends within the doze period, a response runs,
		 * the source has work its drains finish: ticks as before */
		.busy = (expiry && expiry < now + d->doze_ns) || responses_in_progress(d, now) ||
			source_busy(&d->src),
		.flag_held = source_doze_held(&d->src),
	};
}

/* From one pace to the next: the doze flag up or down, the period. */
static void pace_apply(struct daemon *d, enum tick_pace before, enum tick_pace after)
{
	/* A record took the flag: the sensors woke lymphd, not its timer. */
	if (before == PACE_DOZING && after == PACE_ACTIVE && !source_doze_held(&d->src))
		d->doze_wakes++;
	if (tickpace_flag(before) != tickpace_flag(after))
		source_doze(&d->src, tickpace_flag(after));
	if (tickpace_long(before) != tickpace_long(after))
		set_drain_period(d, tickpace_long(after) ? d->doze_ns : d->drain_ns);
}

static int on_timer_ready(struct watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;
	uint64_t ticks;
	int err;

	(void)events;
	if (read(d->timerfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return -errno;
	err = source_drain(&d->src);
	/* The lines of the deaths batched until this tick go out now, not
	 * after the tick's own work below (a journal record's fdatasync, a
	 * walk of /proc): 5-7 ms more on a busy disk (bench/latency,
	 * batched).  Nothing buffered: no write. */
	fflush(d->out);
	/* A record is lost only when the ring is full, so while no record
	 * came since the last look there is no new loss to find: the count
	 * (a system call) is read when records came, and once a second. */
	if (!err && (records_seen(d) != d->drops_records || mono_now_ns() >= d->drops_next_ns)) {
		d->drops_next_ns = mono_now_ns() + 1000000000ULL;
		err = source_check_drops(&d->src);
		d->drops_records = records_seen(d);
	}
	/* CPU pressure: a crowd spinning on refused forks makes it (kthrottle.h) */
	if (d->weather && weather_cpu_crowded(d->weather) != d->cpu_crowded_seen) {
		d->cpu_crowded_seen = weather_cpu_crowded(d->weather);
		kthrottle_pressure(&d->kt);
	}
	qmanager_tick(&d->quar, mono_now_ns());
	if (d->trim_due) { /* after a request was answered (commands.c) */
		d->trim_due = 0;
		malloc_trim(0);
		/* And what it only read: a status sums the weekly baselines
		 * (213 KiB, mostly zeros), and here a read of an untouched
		 * page makes it resident.  Not beside [fleet]'s thread; the
		 * journal's sync thread ends first (started again at the next
		 * deferred record), or it would stay for good and no request
		 * would give its pages back again. */
		journal_sync_thread_end(&d->journal);
		mem_drop_zero_anon("/proc/self/maps");
		prefault_event_path(d);
		start_sync_thread(d);
	}
	phago_tick(&d->phago, mono_now_ns());
	weather_step_daemon(d, mono_now_ns());
	control_tick(d->ctl, mono_now_ns());
	daemon_fork_records_follow(d); /* a follower may have left */
	metrics_http_tick(d->metrics, mono_now_ns());
	notify_watchdog(mono_now_ns()); /* the loop still turns */
	if (!err) {
		enum tick_pace before = d->pace.state;
		struct pace_input in = pace_input(d, mono_now_ns());

		pace_apply(d, before, tickpace_at_tick(&d->pace, &in));
	}
	return err;
}

/* The supervisor's deadlines are due: the ticks after every batch act. */
static int on_svc_timer_ready(struct watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;
	uint64_t ticks;

	(void)events;
	d->svc_armed_ns = 0; /* expired: disarmed until arm_svc_timer */
	if (read(d->svc_timerfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

int daemon_run(struct daemon *d)
{
	int err = 0;

	supervisor_tick(&d->sup, mono_now_ns());
	arm_svc_timer(d);
	pace_configure(d);
	while (!d->stop) {
		int n = evloop_run_once(&d->loop, -1, &err);

		if (n < 0) {
			err = n;
			fprintf(stderr, "lymphd: epoll_wait failed: %s\n", strerror(-err));
			break;
		}
		if (!n)
			continue; /* EINTR */
		/* What the wakeup brought goes out first (a crash's line does
		 * not wait for a restart the ticks below may do); what the ticks
		 * print follows in a second write. */
		fflush(d->out);
		/* Decisions journaled deferred (a would-quarantine, a quarantine
		 * by fanotify or the LSM) go to the disk now, in the journal's
		 * own thread: the next event does not wait for the flush. */
		if (journal_sync_async(&d->journal))
			fprintf(stderr, "lymphd: failed to sync the journal %s: %s\n",
				d->journal.path, strerror(errno));
		supervisor_tick(&d->sup, mono_now_ns());
		throttler_tick(&d->thr, mono_now_ns());
		arm_svc_timer(d);
		if (err) {
			fprintf(stderr, "lymphd: failed to read events from the %s source: %s\n",
				d->src.name, strerror(-err));
			break;
		}
		fflush(d->out);
		control_flush(d->ctl);
		if (d->pace.state != PACE_ACTIVE) { /* records came, or a response began */
			enum tick_pace before = d->pace.state;
			struct pace_input in = pace_input(d, mono_now_ns());

			pace_apply(d, before, tickpace_at_wake(&d->pace, &in));
		}
	}
	/* Whatever is still in the ring is reported before exiting. */
	if (!err && d->src.ops) {
		source_drain(&d->src);
		source_check_drops(&d->src);
		fflush(d->out);
	}
	return err;
}

void daemon_free(struct daemon *d)
{
	if (d->early)
		flush_early(d); /* a start that failed half-way: say what it did */
	/* A lymphd that failed before its start line (another one answers on
	 * the socket) leaves the journal as it found it. */
	if (d->journal.fd >= 0 && d->started)
		journal_lymphd(d, "stop", NULL);
	watch_del(&d->loop, &d->fleet_w);
	fleet_stop(d->fleet); /* joins its thread */
	d->fleet = NULL;
	supervisor_free(&d->sup);
	phago_free(&d->phago);
	watch_del(&d->loop, &d->quar_w);
	qmanager_free(&d->quar);
	throttler_free(&d->thr, mono_now_ns());
	if (d->weather)
		weather_free(d->weather); /* saves the baselines */
	d->weather = NULL;
	kthrottle_close(&d->kt);
	journal_close(&d->journal);
	policy_destroy(d->policy);
	d->policy = NULL;
	watch_del(&d->loop, &d->src_w);
	source_close(&d->src);
	control_free(d->ctl);
	d->ctl = NULL;
	control_close(d->ctlfd, d->opts.socket_path);
	metrics_http_free(d->metrics);
	d->metrics = NULL;
	evloop_free(&d->loop);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->svc_timerfd >= 0)
		close(d->svc_timerfd);
	if (d->metrics_fd >= 0)
		close(d->metrics_fd);
	crashtab_free(&d->crashes);
	binpath_free(&d->names);
	fmt_buf_free(&d->jline);
	json_object_put(d->early);
	d->early = NULL;
	logsink_close(&d->log);
}
