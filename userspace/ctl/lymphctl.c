// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymphctl: ask lymphd what it knows.  Talks to lymphd's root-only control
 * socket; see doc/lymphctl.8.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "config.h"
#include "ctlproto.h"
#include "journal.h"
#include "parse_num.h"
#include "shmsave.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: lymphctl [OPTION]... COMMAND\n"
		"\n"
		"Commands:\n"
		"  status                source, mode, uptime, counters, drops, top crashing binaries\n"
		"  services              each service: state, restarts, last failure, next action\n"
		"  restart NAME          restart a service now (not counted as a failure)\n"
		"  reset NAME            forget a service's failures, close its breaker\n"
		"  reload                re-read the policy (an invalid one is refused, the old kept)\n"
		"  release BINARY [--uid=U]  end the quarantine of BINARY (for uid U, or every uid)\n"
		"  release --lineage=KIND:ID  continue a throttled lineage (family:ID, session:ID, cgroup:ID, uid:ID)\n"
		"  throttles             lineages held in dead time\n"
		"  crashes               crash signatures per binary: count, first, last, artifacts kept\n"
		"  shm-restore FILE      create again a shared memory segment the phagocytes saved\n"
		"  metrics               Prometheus text exposition of lymphd's state\n"
		"  events [--follow]     the records lymphd prints (its latest ones; with --follow,\n"
		"                        then every new one as it comes, like journalctl -f)\n"
		"  journal               print the journal (read from the file: lymphd may be down)\n"
		"  fleet                 the fleet link, the binaries the fleet marks bad, what this host did\n"
		"  fleet release BINARY|SHA256  lift the fleet's vaccination here (until the fleet calms)\n"
		"\n"
		"Options:\n"
		"  -j, --json            print lymphd's JSON reply as is (events: JSON lines)\n"
		"  -f, --follow          events: keep printing new records until interrupted\n"
		"      --socket=PATH     lymphd's control socket (default " LYMPH_DEFAULT_SOCKET
		")\n"
		"      --since=WHEN      journal: records newer than WHEN: a duration back from now\n"
		"                        (10m, 2h, 1d) or a time (2026-11-27T05:00:00, UTC)\n"
		"      --journal=PATH    journal: the file (default " LYMPH_DEFAULT_JOURNAL ")\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n");
}

static int fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "lymphctl: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

/* Connect and send the request line (ctlproto.h): the socket, or -errno. */
static int send_request(const char *path, const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* lymphd may answer (a refusal) and close before reading the request:
	 * EPIPE then, with its reply still waiting to be read */
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Send one request, read the whole reply. */
static int ask(const char *path, const char *req, char **out)
{
	size_t len = 0, cap = 65536;
	char *buf;
	int fd = send_request(path, req);

	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	*out = buf;
	return 0;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "-";
}

static uint64_t jnum(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

static double jdbl(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0.0;
}

static int jbool(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static void print_fleet(struct json_object *r)
{
	struct json_object *c, *arr, *here;
	size_t i, j;

	if (!json_object_object_get_ex(r, "configured", &c) || !json_object_get_boolean(c)) {
		printf("fleet: not configured (no [fleet] section in the policy)\n");
		return;
	}
	printf("fleet %s as host %s: %s%s%s (K=%llu hosts within %.0f s)\n", jstr(r, "fleet"),
	       jstr(r, "host"), jstr(r, "link"), strcmp(jstr(r, "url"), "-") ? " to " : "",
	       strcmp(jstr(r, "url"), "-") ? jstr(r, "url") : "", (unsigned long long)jnum(r, "k"),
	       jdbl(r, "window_s"));
	if (strcmp(jstr(r, "last_error"), "-"))
		printf("  last error: %s\n", jstr(r, "last_error"));
	if (json_object_object_get_ex(r, "counters", &c)) {
		printf("  ");
		json_object_object_foreach (c, k, v)
			printf("%s=%llu ", k, (unsigned long long)json_object_get_int64(v));
		printf("\n");
	}
	if (json_object_object_get_ex(r, "binaries", &arr) && json_object_array_length(arr)) {
		printf("binaries the fleet reports:\n");
		for (i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *b = json_object_array_get_idx(arr, i), *hs, *v;

			printf("  %.16s %-32s %llu host%s%s%s:", jstr(b, "sha256"), jstr(b, "path"),
			       (unsigned long long)jnum(b, "distinct_hosts"),
			       jnum(b, "distinct_hosts") == 1 ? "" : "s",
			       json_object_object_get_ex(b, "vaccinated", &v) &&
					       json_object_get_boolean(v)
				       ? ", BAD"
				       : "",
			       json_object_object_get_ex(b, "released", &v) &&
					       json_object_get_boolean(v)
				       ? ", released here"
				       : "");
			if (json_object_object_get_ex(b, "hosts", &hs))
				for (j = 0; j < json_object_array_length(hs); j++)
					printf(" %s(%llu)",
					       jstr(json_object_array_get_idx(hs, j), "host"),
					       (unsigned long long)jnum(
						       json_object_array_get_idx(hs, j), "deaths"));
			printf("\n");
		}
	}
	if (json_object_object_get_ex(r, "here", &here) &&
	    json_object_object_get_ex(here, "vaccinated", &arr)) {
		printf("vaccinated here (quarantine threshold x %g): %zu\n", jdbl(here, "factor"),
		       json_object_array_length(arr));
		for (i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *x = json_object_array_get_idx(arr, i);

			printf("  %s (%.16s, bad on %llu hosts, for %.0f s)%s\n", jstr(x, "exe"),
			       jstr(x, "sha256"), (unsigned long long)jnum(x, "hosts"),
			       jdbl(x, "since_s"),
			       jbool(x, "banned")
				       ? ": banned for every uid but root and [protect]'s"
				       : "");
		}
	}
}

/* What the kernel side of the throttle runs with (read back by lymphd). */
static void print_kernel_throttle(struct json_object *c)
{
	struct json_object *kn, *a;
	const char *kind = jstr(c, "kind");
	size_t i;

	if (!strcmp(kind, "lymph.ko") && json_object_object_get_ex(c, "knobs", &kn) && kn) {
		const char *uids = jstr(kn, "protected_uids"), *cgs = jstr(kn, "protected_cgroups");

		printf("kernel throttle: lymph.ko (%s): %s mode, clone budget %s/s burst %s, "
		       "dead time %s..%s ms, uid budget %s/s burst %s, protected uids %s, "
		       "protected cgroups %s, weather %s\n",
		       jstr(c, "path"), jstr(kn, "mode"), jstr(kn, "clone_budget"),
		       jstr(kn, "clone_burst"), jstr(kn, "dead_time_min_ms"),
		       jstr(kn, "dead_time_max_ms"), jstr(kn, "uid_clone_budget"),
		       jstr(kn, "uid_clone_burst"), *uids ? uids : "none", *cgs ? cgs : "none",
		       jstr(kn, "weather"));
	} else if (!strcmp(kind, "bpf")) {
		printf("kernel throttle: bpf: %s mode, budget %s/s burst %s, "
		       "uid budget %s/s burst %s, %llu protected pids, %llu protected uids\n",
		       jstr(c, "mode"), jstr(c, "budget"), jstr(c, "burst"), jstr(c, "uid_budget"),
		       jstr(c, "uid_burst"), (unsigned long long)jnum(c, "protected_tgids"),
		       (unsigned long long)jnum(c, "protected_uids"));
		printf("  refused-fork probe: %s, attached %s (perf capability kept: %s)\n",
		       jstr(c, "refused_fork_probe"), jstr(c, "refused_fork_probe_attached"),
		       jstr(c, "perf_capability"));
	} else {
		printf("kernel throttle: none: the %s source cannot stop forkers\n",
		       jstr(c, "source"));
	}
	if (json_object_object_get_ex(c, "notes", &a) && json_object_is_type(a, json_type_array))
		for (i = 0; i < json_object_array_length(a); i++)
			printf("  note: %s\n",
			       json_object_get_string(json_object_array_get_idx(a, i)));
	if (json_object_object_get_ex(c, "errors", &a) && json_object_is_type(a, json_type_array))
		for (i = 0; i < json_object_array_length(a); i++)
			printf("  error: %s\n",
			       json_object_get_string(json_object_array_get_idx(a, i)));
}

static void print_status(struct json_object *st)
{
	struct json_object *c, *top;
	size_t i, n;

	printf("lymphd %s: source %s, %s mode, up %.0f s\n", jstr(st, "version"),
	       jstr(st, "source"), jstr(st, "mode"), jdbl(st, "uptime_s"));
	if (strcmp(jstr(st, "missing"), "-"))
		printf("  degraded: the %s source cannot see %s\n", jstr(st, "source"),
		       jstr(st, "missing"));
	if (json_object_object_get_ex(st, "counters", &c)) {
		printf("events: ");
		json_object_object_foreach (c, k, v)
			printf("%s=%llu ", k, (unsigned long long)json_object_get_int64(v));
		printf("\n");
	}
	printf("drops: %llu\n", (unsigned long long)jnum(st, "drops"));
	if (jnum(st, "backlog_peak_bytes"))
		printf("behind the ring: at most %llu KiB of records copied out to catch up\n",
		       (unsigned long long)jnum(st, "backlog_peak_bytes") >> 10);
	if (json_object_object_get_ex(st, "drain", &c) && c) {
		if (jnum(c, "doze_ms"))
			printf("drain: %s, every %llu ms while records come, every %llu ms while "
			       "none do; %llu woken from a doze by a record\n",
			       jstr(c, "pace"), (unsigned long long)jnum(c, "drain_ms"),
			       (unsigned long long)jnum(c, "doze_ms"),
			       (unsigned long long)jnum(c, "doze_wakes"));
		else
			printf("drain: every %llu ms\n", (unsigned long long)jnum(c, "drain_ms"));
	}
	if (json_object_object_get_ex(st, "fleet", &c) && c)
		printf("fleet: %s as %s, %s%s%s, %llu vaccinated here (lymphctl fleet)\n",
		       jstr(c, "fleet"), jstr(c, "host"), jstr(c, "link"),
		       strcmp(jstr(c, "url"), "-") ? " to " : "",
		       strcmp(jstr(c, "url"), "-") ? jstr(c, "url") : "",
		       (unsigned long long)jnum(c, "vaccinated_here"));
	if (json_object_object_get_ex(st, "journal", &c) && c && jnum(c, "bad")) {
		struct json_object *bl = NULL;

		printf("journal: %llu damaged line%s skipped at start (line",
		       (unsigned long long)jnum(c, "bad"), jnum(c, "bad") == 1 ? "" : "s");
		if (json_object_object_get_ex(c, "bad_lines", &bl) &&
		    json_object_is_type(bl, json_type_array))
			for (i = 0; i < json_object_array_length(bl); i++)
				printf("%s %llu", i ? "," : "",
				       (unsigned long long)json_object_get_int64(
					       json_object_array_get_idx(bl, i)));
		printf("%s of %s)\n",
		       jnum(c, "bad") > (bl ? json_object_array_length(bl) : 0) ? ", ..." : "",
		       jstr(c, "path"));
	}
	if (json_object_object_get_ex(st, "weather", &c) && c) {
		struct json_object *r, *f;

		printf("weather: %s for %.0f s", jstr(c, "word"), jdbl(c, "since_s"));
		if (strcmp(jstr(c, "heading"), "-") && strcmp(jstr(c, "heading"), jstr(c, "word")))
			printf(" (heading %s)", jstr(c, "heading"));
		printf("\n");
		if (json_object_object_get_ex(c, "reasons", &r) && r &&
		    json_object_is_type(r, json_type_array) && json_object_array_length(r)) {
			printf("  because:");
			for (i = 0; i < json_object_array_length(r); i++) {
				struct json_object *x = json_object_array_get_idx(r, i);

				printf("%s %s", i ? ";" : "",
				       json_object_is_type(x, json_type_string)
					       ? json_object_get_string(x)
					       : jstr(x, "reason"));
			}
			printf("\n");
		}
		if (json_object_object_get_ex(c, "factors", &f) && f)
			printf("  effect: clone budget x%.2f, restart backoff x%.2f, quarantine threshold x%.2f, "
			       "integrity spot check every %.0f s\n",
			       jdbl(f, "clone_budget"), jdbl(f, "restart_backoff"),
			       jdbl(f, "quarantine_threshold"), jdbl(f, "spot_check_interval_s"));
	}
	if (json_object_object_get_ex(st, "throttle", &c) && c) {
		struct json_object *ls;

		if (json_object_object_get_ex(c, "lineages", &ls) && json_object_array_length(ls))
			printf("throttle: %zu lineage%s held (lymphctl throttles)\n",
			       json_object_array_length(ls),
			       json_object_array_length(ls) == 1 ? "" : "s");
		if (jnum(c, "move_failed"))
			printf("throttle: %llu move%s of a member into a hold failed: not pinned "
			       "(journal: move-failed)\n",
			       (unsigned long long)jnum(c, "move_failed"),
			       jnum(c, "move_failed") == 1 ? "" : "s");
	}
	if (json_object_object_get_ex(st, "kernel_throttle", &c) && c)
		print_kernel_throttle(c);
	if (json_object_object_get_ex(st, "quarantine", &c) && c) {
		struct json_object *act;

		printf("quarantine: enforced by %s, %llu exec%s denied\n", jstr(c, "enforcement"),
		       (unsigned long long)jnum(c, "denied_execs"),
		       jnum(c, "denied_execs") == 1 ? "" : "s");
		if (json_object_object_get_ex(c, "enabled", &act) && act &&
		    !json_object_get_boolean(act))
			printf("  off: [quarantine] is not in the policy, or enabled = no\n");
		if (json_object_object_get_ex(c, "overflow", &act) && act &&
		    jnum(act, "per_uid") + jnum(act, "table") + jnum(act, "descriptors"))
			printf("  overflow (see the journal): %llu over a uid's limit, %llu table full, "
			       "%llu descriptor budget\n",
			       (unsigned long long)jnum(act, "per_uid"),
			       (unsigned long long)jnum(act, "table"),
			       (unsigned long long)jnum(act, "descriptors"));
		if (json_object_object_get_ex(c, "active", &act))
			for (i = 0; i < json_object_array_length(act); i++) {
				struct json_object *e = json_object_array_get_idx(act, i);

				printf("  %s for uid %llu: %.0f s left of %.0f s (offence %llu)\n",
				       jstr(e, "exe"), (unsigned long long)jnum(e, "uid"),
				       jdbl(e, "remaining_s"), jdbl(e, "duration_s"),
				       (unsigned long long)jnum(e, "total"));
			}
	}
	if (!json_object_object_get_ex(st, "top", &top) || !(n = json_object_array_length(top))) {
		printf("no binary has died badly\n");
		return;
	}
	printf("\n%-40s %10s %10s %-8s %6s\n", "BINARY", "DANGER", "RATE/MIN", "LAST", "UID");
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(top, i);
		const char *exe = jstr(e, "exe");

		printf("%-40s %10llu %10.2f %-8s %6llu\n", strcmp(exe, "-") ? exe : jstr(e, "comm"),
		       (unsigned long long)jnum(e, "danger_deaths"), jdbl(e, "rate_per_min"),
		       jstr(e, "last_signal"), (unsigned long long)jnum(e, "last_uid"));
	}
}

static void print_services(struct json_object *reply)
{
	struct json_object *arr;
	size_t i, n;

	if (!json_object_object_get_ex(reply, "services", &arr) ||
	    !(n = json_object_array_length(arr))) {
		printf("no services configured (see lymph.conf(5): [service NAME])\n");
		return;
	}
	printf("%s mode\n%-20s %-9s %8s %8s %8s  %-28s %s\n", jstr(reply, "mode"), "SERVICE",
	       "STATE", "PID", "RESTARTS", "FAILURES", "LAST FAILURE", "NEXT");
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i), *f, *nx;
		char last[64] = "-", next[32] = "-";

		if (json_object_object_get_ex(v, "last_failure", &f) && f) {
			if (strcmp(jstr(f, "signal"), "-"))
				snprintf(last, sizeof(last), "%s %s", jstr(f, "signal"),
					 jstr(f, "reason"));
			else
				snprintf(last, sizeof(last), "exit %llu %s",
					 (unsigned long long)jnum(f, "exit_status"),
					 jstr(f, "reason"));
		}
		if (json_object_object_get_ex(v, "next_action_in_s", &nx) && nx)
			snprintf(next, sizeof(next), "in %.1f s", json_object_get_double(nx));
		printf("%-20s %-9s %8llu %8llu %8llu  %-28s %s\n", jstr(v, "name"),
		       jstr(v, "state"), (unsigned long long)jnum(v, "pid"),
		       (unsigned long long)jnum(v, "restarts"),
		       (unsigned long long)jnum(v, "failures"), last, next);
	}
}

static void print_throttles(struct json_object *t)
{
	struct json_object *arr;
	size_t i, n;

	if (!jnum(t, "available")) {
		printf("throttle unavailable: the current source cannot stop forkers\n");
		return;
	}
	printf("budget %.0f new processes/s per %s, burst %.0f\n", jdbl(t, "budget"),
	       jstr(t, "lineage"), jdbl(t, "burst"));
	if (!json_object_object_get_ex(t, "lineages", &arr) ||
	    !(n = json_object_array_length(arr))) {
		printf("no lineage is throttled\n");
		return;
	}
	printf("%-24s %6s %-16s %12s %8s %6s %8s\n", "LINEAGE", "UID", "COMM", "DEAD TIME", "HOLDS",
	       "HELD", "FOR");
	for (i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(arr, i);

		printf("%-24s %6llu %-16s %9.0f ms %8llu %6llu %6.1f s%s", jstr(l, "lineage"),
		       (unsigned long long)jnum(l, "uid"), jstr(l, "comm"), jdbl(l, "dead_time_ms"),
		       (unsigned long long)jnum(l, "holds"), (unsigned long long)jnum(l, "held"),
		       jdbl(l, "for_s"), jnum(l, "observe") ? " (observe: not stopped)" : "");
		if (jnum(l, "move_failed"))
			printf(" (%llu failed move%s into the hold)",
			       (unsigned long long)jnum(l, "move_failed"),
			       jnum(l, "move_failed") == 1 ? "" : "s");
		printf("\n");
	}
}

/* The leak foresight of the services that have a leak_horizon. */
static void print_leaks(struct json_object *r)
{
	struct json_object *arr;
	size_t i, n;

	if (!json_object_object_get_ex(r, "leaks", &arr) || !(n = json_object_array_length(arr)))
		return;
	printf("\n%-20s %8s %-24s %-10s %-16s %-10s %s\n", "LEAKS", "PID", "MEMORY / LIMIT",
	       "TREND", "FDS / LIMIT", "TREND", "");
	for (i = 0; i < n; i++) {
		struct json_object *w = json_object_array_get_idx(arr, i);
		char mem[48], fds[48];

		snprintf(mem, sizeof(mem), "%.1f / %.1f MiB", jdbl(w, "memory") / 1048576.0,
			 jdbl(w, "memory_limit") / 1048576.0);
		snprintf(fds, sizeof(fds), "%.0f / %.0f", jdbl(w, "fds"), jdbl(w, "fds_limit"));
		printf("%-20s %8.0f %-24s %-10s %-16s %-10s %s\n", jstr(w, "service"),
		       jdbl(w, "pid"), mem, jstr(w, "memory_trend"), fds, jstr(w, "fds_trend"),
		       jnum(w, "planned_restart") ? "planned restart" : "");
	}
}

static void print_crashes(struct json_object *c)
{
	struct json_object *arr, *kept;
	size_t i, j, n;

	printf("%.0f artifacts, %.1f MiB (budget %.1f MiB per binary, %.1f MiB in all); %.0f removed\n",
	       jdbl(c, "artifacts"), jdbl(c, "bytes") / 1048576.0,
	       jdbl(c, "budget_per_binary") / 1048576.0, jdbl(c, "budget_total") / 1048576.0,
	       jdbl(c, "removed"));
	if (!json_object_object_get_ex(c, "signatures", &arr) ||
	    !(n = json_object_array_length(arr))) {
		printf("no crash signature seen\n");
		return;
	}
	printf("%-32s %-16s %-32s %6s %-20s %-20s %s\n", "BINARY", "SIGNATURE", "WHERE", "COUNT",
	       "FIRST", "LAST", "KEPT");
	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		char first[32] = "", last[32] = "";
		time_t t;
		struct tm tm;

		t = (time_t)jdbl(s, "first");
		gmtime_r(&t, &tm);
		strftime(first, sizeof(first), "%Y-%m-%dT%H:%M:%S", &tm);
		t = (time_t)jdbl(s, "last");
		gmtime_r(&t, &tm);
		strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%S", &tm);
		printf("%-32s %-16s %-32s %6.0f %-20s %-20s", jstr(s, "binary"),
		       jstr(s, "signature"), jstr(s, "label"), jdbl(s, "count"), first, last);
		if (json_object_object_get_ex(s, "kept", &kept))
			for (j = 0; j < json_object_array_length(kept); j++)
				printf("%s%s", j ? ", " : " ",
				       json_object_get_string(json_object_array_get_idx(kept, j)));
		printf("\n");
	}
}

struct journal_view {
	double since;
	int json;
	unsigned long shown;
};

static int show_record(struct json_object *rec, void *ctx)
{
	struct journal_view *jv = ctx;
	struct json_object *st, *why;

	if (jdbl(rec, "ts") < jv->since)
		return 0;
	jv->shown++;
	if (jv->json) {
		printf("%s\n",
		       json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	}
	printf("%s %-8s %-10s %-20s", jstr(rec, "time"), jstr(rec, "mode"), jstr(rec, "type"),
	       jstr(rec, "action"));
	if (strcmp(jstr(rec, "service"), "-"))
		printf(" service=%s", jstr(rec, "service"));
	if (json_object_object_get_ex(rec, "state", &st))
		printf(" state=%s failures=%llu", jstr(st, "phase"),
		       (unsigned long long)jnum(st, "failures"));
	if (json_object_object_get_ex(rec, "why", &why) && why) {
		if (strcmp(jstr(why, "signal"), "-"))
			printf(" why=%s/%s", jstr(why, "signal"), jstr(why, "reason"));
		else
			printf(" why=exit:%llu/%s", (unsigned long long)jnum(why, "exit_status"),
			       jstr(why, "reason"));
	}
	if (strcmp(jstr(rec, "result"), "-"))
		printf(" result=\"%s\"", jstr(rec, "result"));
	printf("\n");
	return 0;
}

/* --since: a duration back from now, or an ISO time in UTC. */
static int parse_since(const char *s, double *out)
{
	struct tm tm = { 0 };
	uint64_t ns;
	char *end;

	if (!parse_duration(s, &ns)) {
		*out = (double)clock_wall_ns() / 1e9 - (double)ns / 1e9;
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end)
		end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || (*end && strcmp(end, "Z")))
		return -1;
	*out = (double)timegm(&tm);
	return 0;
}

static int cmd_journal(const char *path, const char *since, int json)
{
	struct journal_view jv = { .json = json };
	struct journal_stats st;
	uint64_t i;
	int err;

	if (since && parse_since(since, &jv.since))
		return fail("bad --since '%s'%s: use a duration (10m, 2h) or 2026-11-27T05:00:00",
			    since, "");
	err = journal_read_file(path, show_record, &jv, &st);
	if (err == -ENOENT)
		return fail("no journal at %s%s (lymphd has not run, or --journal names another)",
			    path, "");
	if (err == -EACCES || err == -EPERM)
		return fail("permission denied reading %s%s: lymphctl journal must be run as root",
			    path, "");
	if (err)
		return fail("failed to read the journal %s: %s", path, strerror(-err));
	if (st.bad) {
		fprintf(stderr, "lymphctl: %s: %llu damaged line%s skipped (line", path,
			(unsigned long long)st.bad, st.bad == 1 ? "" : "s");
		for (i = 0; i < st.bad && i < JOURNAL_BAD_KEPT; i++)
			fprintf(stderr, "%s %llu", i ? "," : "",
				(unsigned long long)st.bad_line[i]);
		fprintf(stderr, "%s)\n", st.bad > JOURNAL_BAD_KEPT ? ", ..." : "");
	}
	return 0;
}

/*
 * events: lymphd answers with one header line ({"ok":"events",...} or
 * {"error":...}), then the records, one a line, as it prints them; copy
 * them out as they come until lymphd closes (without --follow, after its
 * latest records) or we are interrupted.
 */
static int cmd_events(const char *path, const char *req)
{
	static char buf[1 << 16];
	size_t len = 0;
	int header = 1, fd = send_request(path, req);

	if (fd < 0)
		return fd;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		char *nl;
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		while ((nl = memchr(buf, '\n', len))) {
			size_t l = (size_t)(nl - buf) + 1;

			if (header) {
				struct json_object *o, *e;

				*nl = 0;
				o = json_tokener_parse(buf);
				header = 0;
				if (!o || json_object_object_get_ex(o, "error", &e)) {
					fprintf(stderr, "lymphctl: lymphd refused: %s\n",
						o ? json_object_get_string(e) : buf);
					json_object_put(o);
					close(fd);
					return 1;
				}
				json_object_put(o);
			} else if (fwrite(buf, 1, l, stdout) != l) {
				close(fd);
				return 0; /* our reader went away */
			}
			memmove(buf, buf + l, len - l);
			len -= l;
		}
		if (len == sizeof(buf) - 1)
			len = 0; /* no line is that long: resynchronise */
	}
	close(fd);
	return header ? -ECONNRESET : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "json", no_argument, NULL, 'j' },
						  { "follow", no_argument, NULL, 'f' },
						  { "socket", required_argument, NULL, 's' },
						  { "since", required_argument, NULL, 'S' },
						  { "journal", required_argument, NULL, 'J' },
						  { "uid", required_argument, NULL, 'u' },
						  { "lineage", required_argument, NULL, 'L' },
						  { "help", no_argument, NULL, 'h' },
						  { "version", no_argument, NULL, 'V' },
						  { 0 } };
	const char *path = LYMPH_DEFAULT_SOCKET, *cmd, *since = NULL;
	const char *journal = LYMPH_DEFAULT_JOURNAL, *uid = NULL, *lineage = NULL;
	char req[CTL_REQUEST_MAX];
	const char *words[1 + CTL_ARGS_MAX];
	size_t nw = 0;
	struct json_object *reply, *errv;
	int c, json = 0, follow = 0, err;
	char *text = NULL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jfhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'f': follow = 1; break;
		case 's': path = optarg; break;
		case 'S': since = optarg; break;
		case 'J': journal = optarg; break;
		case 'L': lineage = optarg; break;
		case 'u':
			if (!*optarg || strspn(optarg, "0123456789") != strlen(optarg))
				return fail("bad --uid '%s'%s: a numeric uid", optarg, "");
			uid = optarg;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("lymphctl %s\n", LYMPH_VERSION); return 0;
		case ':':
			return fail("option '%s' needs a value%s; see lymphctl --help",
				    argv[optind - 1], "");
		default:
			return fail("unknown option '%s'%s; see lymphctl --help", argv[optind - 1],
				    "");
		}
	}
	if (optind >= argc)
		return fail("no command given%s%s; see lymphctl --help", "", "");
	cmd = argv[optind];
	if (!strcmp(cmd, "shm-restore")) { /* local: a segment the phagocytes saved (shmsave.h) */
		int id, err;

		if (optind + 2 != argc)
			return fail(
				"'shm-restore' needs one saved file%s%s (see the shm-removed journal records)",
				"", "");
		err = shm_restore(argv[optind + 1], &id);
		if (err)
			return fail("failed to restore the segment saved in %s: %s",
				    argv[optind + 1], strerror(-err));
		printf("restored shmid %d from %s\n", id, argv[optind + 1]);
		return 0;
	}
	if (!strcmp(cmd, "restart") || !strcmp(cmd, "reset")) {
		if (optind + 1 >= argc)
			return fail("'%s' needs a service name%s; see lymphctl services", cmd, "");
		if (optind + 2 < argc)
			return fail("unexpected argument '%s' after '%s NAME'", argv[optind + 2],
				    cmd);
		words[nw++] = cmd;
		words[nw++] = argv[optind + 1];
	} else if (!strcmp(cmd, "release") && lineage) {
		if (optind + 1 < argc)
			return fail("unexpected argument '%s' after 'release --lineage'%s",
				    argv[optind + 1], "");
		words[nw++] = "release-lineage";
		words[nw++] = lineage;
	} else if (!strcmp(cmd, "release")) {
		if (optind + 1 >= argc)
			return fail("'release' needs a binary's path%s%s; see lymphctl status", "",
				    "");
		if (optind + 2 < argc)
			return fail("unexpected argument '%s' after '%s PATH'", argv[optind + 2],
				    cmd);
		if (argv[optind + 1][0] != '/')
			return fail("'%s' is not an absolute path%s", argv[optind + 1], "");
		words[nw++] = cmd;
		words[nw++] = argv[optind + 1];
		if (uid)
			words[nw++] = uid;
	} else if (!strcmp(cmd, "status") || !strcmp(cmd, "services") ||
		   !strcmp(cmd, "throttles") || !strcmp(cmd, "crashes") ||
		   !strcmp(cmd, "metrics") || !strcmp(cmd, "reload") || !strcmp(cmd, "journal") ||
		   !strcmp(cmd, "events")) {
		if (optind + 1 < argc)
			return fail("unexpected argument '%s' after '%s'", argv[optind + 1], cmd);
		words[nw++] = cmd;
		if (!strcmp(cmd, "events") && follow)
			words[nw++] = "follow";
		if (!strcmp(cmd, "events") && json)
			words[nw++] = "json";
	} else if (!strcmp(cmd, "fleet") && optind + 1 < argc) {
		if (strcmp(argv[optind + 1], "release") || optind + 2 >= argc)
			return fail("'fleet' takes nothing or 'release BINARY|SHA256'%s%s", "", "");
		if (optind + 3 < argc)
			return fail("unexpected argument '%s' after 'fleet release %s'",
				    argv[optind + 3], argv[optind + 2]);
		words[nw++] = "fleet-release";
		words[nw++] = argv[optind + 2];
	} else if (!strcmp(cmd, "fleet")) {
		words[nw++] = cmd;
	} else {
		return fail("unknown command '%s'%s; see lymphctl --help", cmd, "");
	}
	if (!strcmp(cmd, "journal"))
		return cmd_journal(journal, since, json);
	if (since)
		return fail("--since applies to 'journal', not to '%s'%s", cmd, "");
	if ((uid || lineage) && strcmp(cmd, "release"))
		return fail("--uid and --lineage apply to 'release', not to '%s'%s", cmd, "");
	if (follow && strcmp(cmd, "events"))
		return fail("--follow applies to 'events', not to '%s'%s", cmd, "");
	if (ctl_format(req, sizeof(req), words, nw) < 0)
		return fail("the request for '%s' is too long%s", cmd, "");
	if (!strcmp(cmd, "events")) {
		err = cmd_events(path, req);
		if (err == -EACCES || err == -EPERM)
			return fail("permission denied on %s: lymphctl must be run as root%s", path,
				    "");
		if (err == -ENOENT || err == -ECONNREFUSED)
			return fail(
				"lymphd is not running (no answer on %s)%s; start it with: lymphd",
				path, "");
		if (err < 0)
			return fail("failed to follow lymphd's events on %s: %s", path,
				    strerror(-err));
		return err;
	}

	err = ask(path, req, &text);
	if (err == -EACCES || err == -EPERM)
		return fail("permission denied on %s: lymphctl must be run as root%s", path, "");
	if (err == -ENOENT || err == -ECONNREFUSED)
		return fail("lymphd is not running (no answer on %s)%s; start it with: lymphd",
			    path, "");
	if (err)
		return fail("failed to ask lymphd on %s: %s", path, strerror(-err));

	reply = json_tokener_parse(text);
	if (!reply) {
		free(text);
		return fail("lymphd sent a reply that is not JSON on %s%s", path, "");
	}
	if (json_object_object_get_ex(reply, "error", &errv)) {
		fprintf(stderr, "lymphctl: lymphd refused: %s\n", json_object_get_string(errv));
		json_object_put(reply);
		free(text);
		return 1;
	}
	if (!strcmp(cmd, "metrics"))
		fputs(jstr(reply, "metrics"), stdout); /* the text, as Prometheus reads it */
	else if (json)
		printf("%s\n",
		       json_object_to_json_string_ext(
			       reply, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (!strcmp(cmd, "status"))
		print_status(reply);
	else if (!strcmp(cmd, "services"))
		print_services(reply);
	else if (!strcmp(cmd, "throttles"))
		print_throttles(reply);
	else if (!strcmp(cmd, "fleet") && nw == 1)
		print_fleet(reply);
	else if (!strcmp(cmd, "crashes"))
		print_crashes(reply);
	else
		printf("%s\n", jstr(reply, "ok"));
	if (!json && !strcmp(cmd, "services"))
		print_leaks(reply);
	json_object_put(reply);
	free(text);
	return 0;
}
