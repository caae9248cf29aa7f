// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy parser (userspace/config.c) on in-memory text, without root:
 * every kind of mistake is reported as "file:line: message" with the right
 * line, a policy with any error is refused whole, and a valid policy gives
 * the values it says.  Then, as root, the file checks of config_load()
 * through `lymphd --check-config FILE` (config_load.c does file I/O and is
 * not linked into the tests): a world-writable file, a group-writable
 * directory and a file not owned by root are refused; drop-ins are read in
 * name order; a missing file gives the built-in default policy.
 */
/* the harness compares its int literals with our unsigned fields */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "helpers.h"
#include "kselftest_harness.h"
#include "config.h"

#define SEC 1000000000ULL
#define MS  1000000ULL

/* Parse one text as file "t.conf" (plus config_finish when it parsed). */
static int parse_text(struct policy *p, struct cfg_errors *e, const char *text)
{
	int n;

	policy_defaults(p);
	memset(e, 0, sizeof(*e));
	n = config_parse(p, "t.conf", text, e);
	if (!n)
		n = config_finish(p, e);
	return n;
}

static void dump_errors(const struct cfg_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		th_diag("error %zu: %s", i, e->msg[i]);
}

/*
 * The text gives exactly one error, "t.conf:LINE: ..." containing want.
 * Returns 0 when it does, else -1 after logging what it got.
 */
static int one_error(const char *text, int line, const char *want)
{
	struct cfg_errors e;
	struct policy p;
	char prefix[32];
	int ok;

	parse_text(&p, &e, text);
	snprintf(prefix, sizeof(prefix), "t.conf:%d: ", line);
	ok = e.n == 1 && !strncmp(e.msg[0], prefix, strlen(prefix)) && strstr(e.msg[0], want);
	if (!ok) {
		th_diag("text:\n%s", text);
		th_diag("want one error '%s...%s', got %zu:", prefix, want, e.n);
		dump_errors(&e);
	}
	policy_free(&p);
	cfg_errors_free(&e);
	return ok ? 0 : -1;
}

/* How many errors the text gives; one of them is "t.conf:LINE: ...want...". */
static int config_errors_of(const char *text, int line, const char *want)
{
	struct cfg_errors e;
	struct policy p;
	char prefix[32];
	int found = 0, n;

	parse_text(&p, &e, text);
	n = (int)e.n;
	snprintf(prefix, sizeof(prefix), "t.conf:%d: ", line);
	for (size_t i = 0; i < e.n; i++)
		if (!strncmp(e.msg[i], prefix, strlen(prefix)) && strstr(e.msg[i], want))
			found = 1;
	if (!found) {
		th_diag("want an error '%s...%s', got %zu:", prefix, want, e.n);
		dump_errors(&e);
	}
	policy_free(&p);
	cfg_errors_free(&e);
	return found ? n : -1;
}

/* ---- one test per kind of mistake --------------------------------------- */

TEST(unknown_section)
{
	EXPECT_EQ(0,
		  one_error("[lymphd]\nmode = observe\n[bogus]\n", 3, "unknown section [bogus]"));
	/* its keys are not reported again as outside a section... */
	EXPECT_EQ(0, one_error("\n[servise web]\nstart = /bin/true\nbogus\n", 2,
			       "unknown section [servise]"));
	/* ...and a good section after it is checked again */
	EXPECT_EQ(0, one_error("[bogus]\nx = 1\n[lymphd]\nmode = observe\n", 1,
			       "unknown section [bogus]"));
	EXPECT_EQ(2, config_errors_of("[bogus]\nx = 1\n[lymphd]\nmood = 1\n", 4,
				      "unknown key 'mood'"));
}

TEST(unknown_key)
{
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nfrobnicate = 1\n", 3,
			       "unknown key 'frobnicate' in [service]"));
	/* a key of another section is unknown here */
	EXPECT_EQ(0, one_error("[lymphd]\n# c\nbackoff_min = 1s\n", 3,
			       "unknown key 'backoff_min' in [lymphd]"));
}

TEST(key_outside_section)
{
	EXPECT_EQ(0, one_error("# policy\n\nmode = enforce\n", 3, "'mode' is outside any section"));
}

TEST(missing_equals)
{
	EXPECT_EQ(0, one_error("[lymphd]\nmode enforce\n", 2,
			       "expected 'key = value', got 'mode enforce'"));
}

TEST(bad_duration)
{
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nbackoff_min = 5 parsecs\n", 3,
			       "backoff_min: '5 parsecs' is not a duration"));
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nsettle = -1s\n", 3,
			       "is not a duration"));
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nsettle = 2x\n", 3,
			       "is not a duration"));
}

TEST(number_out_of_range)
{
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nbreaker_failures = 0\n", 3,
			       "breaker_failures: '0' is not a whole number from 1 to 1000"));
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\ncheck_port = 70000\n", 3,
			       "check_port: '70000' is not a whole number from 1 to 65535"));
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\ncheck_port = 80x\n", 3,
			       "check_port: '80x' is not a whole number"));
	/* a duration beyond its range */
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nsettle = 2h\n", 3,
			       "settle: 2h is out of range"));
	EXPECT_EQ(0,
		  one_error("[lymphd]\njournal_max = 1K\n", 2, "journal_max: '1K' is not a size"));
}

TEST(duplicate_key)
{
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nstart = /bin/false\n", 3,
			       "'start' is set twice in this section"));
	/* env is repeatable */
	EXPECT_EQ(
		0,
		one_error(
			"[service web]\nstart = /bin/true\nenv = A=1\nenv = B=2\nsettle = 1s\nsettle = 2s\n",
			6, "'settle' is set twice"));
}

TEST(duplicate_service)
{
	EXPECT_EQ(
		0,
		one_error("[service web]\nstart = /bin/true\n\n[service web]\nstart = /bin/true\n",
			  4, "service 'web' is already defined at t.conf:1"));
}

TEST(service_without_start_or_unit)
{
	/* reported at the service's header line, by config_finish */
	EXPECT_EQ(0, one_error("[lymphd]\nmode = enforce\n[service web]\nexe = /usr/sbin/web\n", 3,
			       "service 'web' says neither how to start it"));
	EXPECT_EQ(
		0,
		one_error(
			"[service web]\nstart = /bin/true\nunit = web.service\nexe = /usr/sbin/web\n",
			1, "has both 'start' and 'unit'"));
	EXPECT_EQ(0,
		  one_error("[service web]\nunit = web.service\n", 1, "say how to recognise it"));
	EXPECT_EQ(
		0,
		one_error("[service web]\nunit = web.service\nexe = /usr/sbin/web\nuser = nobody\n",
			  1, "user, group, workdir, env and log apply to 'start'"));
}

TEST(relative_path)
{
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nexe = bin/web\n", 3,
			       "exe must be an absolute path, not 'bin/web'"));
	EXPECT_EQ(0, one_error("[service web]\nstart = web --port 80\n", 2,
			       "start: the program must be an absolute path, not 'web'"));
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\non_failure = hook.sh\n", 3,
			       "on_failure must be an absolute path"));
	EXPECT_EQ(0, one_error("[lymphd]\njournal = var/journal\n", 2,
			       "journal must be an absolute path"));
}

TEST(unterminated_section_header)
{
	EXPECT_EQ(0, one_error("[lymphd]\nmode = observe\n[service web\nstart = /bin/true\n", 3,
			       "section header must be '[name]' alone on its line"));
	EXPECT_EQ(0, one_error("[lymphd] mode = observe\n", 1,
			       "section header must be '[name]' alone"));
}

TEST(bad_restart_on)
{
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nrestart_on = sometimes\n", 3,
			       "restart_on: 'sometimes' is not one of danger, failure, always"));
}

TEST(backoff_min_above_max)
{
	EXPECT_EQ(
		0,
		one_error(
			"\n[service web]\nstart = /bin/true\nbackoff_min = 10s\nbackoff_max = 5s\n",
			2, "backoff_min (10s) is above backoff_max (5s)"));
}

TEST(bad_mode)
{
	EXPECT_EQ(0, one_error("[lymphd]\nmode = loud\n", 2,
			       "mode: 'loud' is not observe or enforce"));
}

TEST(bad_service_name)
{
	EXPECT_EQ(0, one_error("[service web/1]\n", 1, "[service NAME] needs a name"));
	EXPECT_EQ(0, one_error("[service]\n", 1, "[service NAME] needs a name"));
	EXPECT_EQ(0, one_error("[lymphd main]\n", 1, "[lymphd] takes no name"));
}

TEST(bad_command_line)
{
	EXPECT_EQ(0,
		  one_error("[service web]\nstart = /bin/echo 'unbalanced\n", 2, "cannot split"));
	EXPECT_EQ(0, one_error("[service web]\nstart = /bin/true\nenv = NOEQUALS\n", 3,
			       "env: 'NOEQUALS' is not KEY=VALUE"));
}

/* Every mistake of a file is reported, each at its line, and nothing of it is kept. */
TEST(every_error_reported)
{
	static const char text[] = "[lymphd]\n"		  /* 1 */
				   "mode = loud\n"	  /* 2 */
				   "[service a]\n"	  /* 3 */
				   "start = /bin/true\n"  /* 4 */
				   "backoff_min = soon\n" /* 5 */
				   "restart_on = never\n" /* 6 */
				   "[nope]\n"		  /* 7 */
				   "[service b]\n"	  /* 8 */
				   "start = /bin/true\n"  /* 9 */
				   "check_port = 0\n";	  /* 10 */
	static const int want[] = { 2, 5, 6, 7, 10 };
	struct cfg_errors e;
	struct policy p;
	int n;

	n = parse_text(&p, &e, text);
	EXPECT_EQ(5, n);
	ASSERT_EQ(5, e.n) dump_errors(&e);
	for (size_t i = 0; i < e.n; i++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "t.conf:%d: ", want[i]);
		EXPECT_EQ(0, strncmp(e.msg[i], prefix, strlen(prefix)))
		TH_LOG("error %zu: want prefix '%s', got '%s'", i, prefix, e.msg[i]);
	}
	policy_free(&p);
	cfg_errors_free(&e);
}

/* ---- valid policies ----------------------------------------------------- */

TEST(valid_policy_values)
{
	static const char text[] = "# an example policy\n"
				   "; also a comment\n"
				   "[lymphd]\n"
				   "mode = enforce\n"
				   "journal = /var/lib/lymph/j\n"
				   "\n"
				   "[service web-1.example@x]\n"
				   "  start = /usr/sbin/web --name \"my web\" 'a b' c\\ d\n"
				   "exe=/usr/sbin/web\n"
				   "check_port = 8080\n"
				   "check_command = /usr/bin/check\n"
				   "restart_on = danger\n"
				   "backoff_min = 500ms\n"
				   "backoff_max = 2m\n"
				   "healthy_after = 1h\n"
				   "settle = 3\n"
				   "breaker_failures = 7\n"
				   "breaker_window = 10m\n"
				   "breaker_cooldown = 1d\n"
				   "env = A=1\n"
				   "env = B=two words\n"
				   "user = nobody\n"
				   "on_failure = /usr/local/bin/page\n"
				   "[service db]\n"
				   "unit = db.service\n"
				   "pidfile = /run/db.pid\n";
	struct cfg_errors e;
	struct policy p;
	struct service_conf *s;

	ASSERT_EQ(0, parse_text(&p, &e, text)) dump_errors(&e);
	EXPECT_EQ(1, p.enforce);
	EXPECT_STREQ("/var/lib/lymph/j", p.journal);
	ASSERT_EQ(2, p.n_services);
	s = &p.services[0];
	EXPECT_STREQ("web-1.example@x", s->name);
	EXPECT_EQ(7, s->line);
	ASSERT_NE(NULL, s->argv);
	EXPECT_STREQ("/usr/sbin/web", s->argv[0]);
	EXPECT_STREQ("--name", s->argv[1]);
	EXPECT_STREQ("my web", s->argv[2]);
	EXPECT_STREQ("a b", s->argv[3]);
	EXPECT_STREQ("c d", s->argv[4]);
	EXPECT_EQ(NULL, s->argv[5]);
	EXPECT_STREQ("/usr/sbin/web", s->exe);
	EXPECT_EQ(8080, s->check_port);
	ASSERT_NE(NULL, s->check_argv);
	EXPECT_STREQ("/usr/bin/check", s->check_argv[0]);
	EXPECT_EQ(NULL, s->check_argv[1]);
	EXPECT_EQ(RESTART_ON_DANGER, s->restart_on);
	EXPECT_EQ(500 * MS, s->backoff_min);
	EXPECT_EQ(120 * SEC, s->backoff_max);
	EXPECT_EQ(3600 * SEC, s->healthy_after);
	EXPECT_EQ(3 * SEC, s->settle);
	EXPECT_EQ(7, s->breaker_failures);
	EXPECT_EQ(600 * SEC, s->breaker_window);
	EXPECT_EQ(86400 * SEC, s->breaker_cooldown);
	EXPECT_STREQ("A=1", s->env[0]);
	EXPECT_STREQ("B=two words", s->env[1]);
	EXPECT_EQ(NULL, s->env[2]);
	EXPECT_STREQ("nobody", s->user);
	EXPECT_STREQ("/usr/local/bin/page", s->on_failure);
	s = &p.services[1];
	EXPECT_STREQ("db", s->name);
	EXPECT_STREQ("db.service", s->unit);
	EXPECT_STREQ("/run/db.pid", s->pidfile);
	/* defaults of what was not said */
	EXPECT_EQ(RESTART_ON_FAILURE, s->restart_on);
	EXPECT_EQ(1 * SEC, s->backoff_min);
	EXPECT_EQ(60 * SEC, s->backoff_max);
	EXPECT_EQ(5, s->breaker_failures);
	policy_free(&p);
	cfg_errors_free(&e);
}

/* Issue 16 item 1: capabilities and a bounding set per service. */
TEST(service_capabilities)
{
	struct cfg_errors e;
	struct policy p;

	ASSERT_EQ(
		0,
		parse_text(
			&p, &e,
			"[service a]\nstart = /bin/a\n"
			"capabilities = CAP_CHOWN, cap_setuid SETGID\n"
			"[service b]\nstart = /bin/b\n"
			"capabilities = CAP_NET_BIND_SERVICE\ncapability_bounding = CAP_NET_BIND_SERVICE CAP_KILL\n"
			"[service c]\nstart = /bin/c\ncapabilities = none\n"
			"[service d]\nstart = /bin/d\n"))
	dump_errors(&e);
	ASSERT_EQ(4, p.n_services);
	EXPECT_EQ((1ULL << 0) | (1ULL << 7) | (1ULL << 6), p.services[0].caps);
	EXPECT_EQ(p.services[0].caps, p.services[0].bounding); /* default: the same */
	EXPECT_EQ(1ULL << 10, p.services[1].caps);
	EXPECT_EQ((1ULL << 10) | (1ULL << 5), p.services[1].bounding);
	EXPECT_EQ(0, p.services[2].caps);
	EXPECT_EQ(0, p.services[3].caps); /* the safe default: none */
	EXPECT_EQ(0, p.services[3].bounding);
	policy_free(&p);
	cfg_errors_free(&e);
	EXPECT_EQ(0, one_error("[service a]\nstart = /bin/a\ncapabilities = CAP_FLY\n", 3,
			       "capabilities: 'cap_fly' is not a capability"));
	EXPECT_EQ(0, one_error("[service a]\nstart = /bin/a\ncapabilities = 12\n", 3,
			       "is not a capability"));
	EXPECT_EQ(0, one_error("[service a]\nstart = /bin/a\ncapabilities = CAP_KILL\n"
			       "capability_bounding = CAP_CHOWN\n",
			       1, "capabilities must also be in capability_bounding"));
}

/* Issue 16 item 3: a check with arguments, split like start, and a timeout. */
TEST(check_command_with_arguments)
{
	struct cfg_errors e;
	struct policy p;

	ASSERT_EQ(
		0,
		parse_text(
			&p, &e,
			"[service r]\nstart = /usr/bin/redis-server\n"
			"check_command = /usr/bin/redis-cli -p 6390 'ping'\ncheck_timeout = 2s\n"))
	dump_errors(&e);
	ASSERT_NE(NULL, p.services[0].check_argv);
	EXPECT_STREQ("/usr/bin/redis-cli", p.services[0].check_argv[0]);
	EXPECT_STREQ("-p", p.services[0].check_argv[1]);
	EXPECT_STREQ("6390", p.services[0].check_argv[2]);
	EXPECT_STREQ("ping", p.services[0].check_argv[3]);
	EXPECT_EQ(NULL, p.services[0].check_argv[4]);
	EXPECT_EQ(2000000000ULL, p.services[0].check_timeout);
	policy_free(&p);
	cfg_errors_free(&e);
	ASSERT_EQ(0, parse_text(&p, &e, "[service r]\nstart = /bin/r\n")) dump_errors(&e);
	EXPECT_EQ(10000000000ULL, p.services[0].check_timeout); /* default 10s */
	policy_free(&p);
	cfg_errors_free(&e);
	EXPECT_EQ(0, one_error("[service r]\nstart = /bin/r\ncheck_command = redis-cli ping\n", 3,
			       "check_command: the program must be an absolute path"));
}

/* Issue 16 items 2 and 7: service types, kill_mode and the log keys. */
TEST(service_type_kill_mode_and_log)
{
	struct cfg_errors e;
	struct policy p;

	ASSERT_EQ(0,
		  parse_text(&p, &e,
			     "[service a]\nstart = /bin/a\ntype = forking\npidfile = /run/a.pid\n"
			     "kill_mode = cgroup\nstart_timeout = 30s\n"
			     "log = /var/log/a\nlog_timestamps = yes\nlog_max = 1M\nlog_keep = 7\n"
			     "[service b]\nstart = /bin/b\ntype = notify\nkill_mode = main\n"
			     "[service c]\nstart = /bin/c\n"))
	dump_errors(&e);
	EXPECT_EQ(SVC_TYPE_FORKING, p.services[0].type);
	EXPECT_EQ(KILL_MODE_CGROUP, p.services[0].kill_mode);
	EXPECT_EQ(30000000000ULL, p.services[0].start_timeout);
	EXPECT_EQ(1, p.services[0].log_timestamps);
	EXPECT_EQ(1ULL << 20, p.services[0].log_max);
	EXPECT_EQ(7, p.services[0].log_keep);
	EXPECT_EQ(SVC_TYPE_NOTIFY, p.services[1].type);
	EXPECT_EQ(KILL_MODE_MAIN, p.services[1].kill_mode);
	EXPECT_EQ(SVC_TYPE_SIMPLE, p.services[2].type); /* defaults */
	EXPECT_EQ(KILL_MODE_GROUP, p.services[2].kill_mode);
	EXPECT_EQ(10000000000ULL, p.services[2].start_timeout);
	EXPECT_EQ(0, p.services[2].log_timestamps);
	EXPECT_EQ(0, p.services[2].log_max);
	EXPECT_EQ(3, p.services[2].log_keep);
	policy_free(&p);
	cfg_errors_free(&e);
	EXPECT_EQ(0, one_error("[service a]\nstart = /bin/a\ntype = oneshot\n", 3,
			       "type: 'oneshot' is not one of simple, forking, notify"));
	EXPECT_EQ(0, one_error("[service a]\nstart = /bin/a\ntype = forking\n", 1,
			       "say where its daemon writes its pid"));
	EXPECT_EQ(0, one_error("[service a]\nstart = /bin/a\nkill_mode = all\n", 3,
			       "kill_mode: 'all' is not one of group, cgroup, main"));
	EXPECT_EQ(0, one_error("[service a]\nstart = /bin/a\nlog_max = 1M\n", 1,
			       "log_timestamps and log_max need 'log = PATH'"));
	EXPECT_EQ(0, one_error("[service a]\nstart = /bin/a\nlog = /l\nlog_timestamps = maybe\n", 4,
			       "log_timestamps: 'maybe' is not yes or no"));
}

TEST(default_policy_is_observe_without_services)
{
	struct cfg_errors e;
	struct policy p;

	ASSERT_EQ(0, parse_text(&p, &e, ""));
	EXPECT_EQ(0, p.enforce);
	EXPECT_EQ(0, p.n_services);
	EXPECT_STREQ(LYMPH_DEFAULT_JOURNAL, p.journal);
	policy_free(&p);
	cfg_errors_free(&e);
}

/* [lymphd] latency_slice_us: the event loop's scheduler slice (lib/slice.h),
 * 100 us unless told; 0 asks for none; the kernel's ceiling (100 ms) is the
 * bound. */
TEST(latency_slice_us)
{
	static const struct {
		const char *text;
		uint32_t us;
	} ok[] = {
		{ "", 100 },
		{ "[lymphd]\nlatency_slice_us = 0\n", 0 },
		{ "[lymphd]\nlatency_slice_us = 100000\n", 100000 },
	};
	struct cfg_errors e;
	struct policy p;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		EXPECT_EQ(0, parse_text(&p, &e, ok[i].text)) TH_LOG("%s", ok[i].text);
		EXPECT_EQ(ok[i].us, p.latency_slice_us) TH_LOG("%s", ok[i].text);
		policy_free(&p);
		cfg_errors_free(&e);
	}
	EXPECT_EQ(0,
		  one_error("[lymphd]\nlatency_slice_us = 100001\n", 2,
			    "latency_slice_us: '100001' is not a whole number from 0 to 100000"));
	EXPECT_EQ(0, one_error("[lymphd]\nlatency_slice_us = 0.1ms\n", 2,
			       "latency_slice_us: '0.1ms' is not a whole number"));
	EXPECT_EQ(0, one_error("[service a]\nstart = /bin/true\nlatency_slice_us = 100\n", 3,
			       "latency_slice_us"));
}

TEST(backoff_min_zero_accepted)
{
	struct cfg_errors e;
	struct policy p;

	ASSERT_EQ(0, parse_text(&p, &e,
				"[service a]\nstart = /bin/true\nbackoff_min = 0\nsettle = 0\n"))
	dump_errors(&e);
	EXPECT_EQ(0, p.services[0].backoff_min);
	EXPECT_EQ(0, p.services[0].settle);
	policy_free(&p);
	cfg_errors_free(&e);
}

/* Drop-ins are parsed into the same policy: they add services, override
 * settings, and a service defined twice names both places. */
TEST(drop_ins_share_one_policy)
{
	struct cfg_errors e = { 0 };
	struct policy p;

	policy_defaults(&p);
	EXPECT_EQ(0,
		  config_parse(&p, "main.conf",
			       "[lymphd]\nmode = enforce\n[service a]\nstart = /bin/true\n", &e));
	EXPECT_EQ(0,
		  config_parse(&p, "10-b.conf",
			       "[lymphd]\nmode = observe\n\n[service b]\nstart = /bin/true\n", &e));
	EXPECT_EQ(1, config_parse(&p, "20-c.conf", "\n\n[service a]\nstart = /bin/false\n", &e));
	ASSERT_EQ(1, e.n);
	EXPECT_STREQ("20-c.conf:3: service 'a' is already defined at main.conf:3", e.msg[0]);
	EXPECT_EQ(0, p.enforce);
	ASSERT_EQ(2, p.n_services);
	EXPECT_STREQ("10-b.conf", p.services[1].file);
	EXPECT_EQ(4, p.services[1].line);
	policy_free(&p);
	cfg_errors_free(&e);
}

TEST(parse_duration_units)
{
	uint64_t ns = 0;

	EXPECT_EQ(0, parse_duration("0", &ns));
	EXPECT_EQ(0, ns);
	EXPECT_EQ(0, parse_duration("250ms", &ns));
	EXPECT_EQ(250 * MS, ns);
	EXPECT_EQ(0, parse_duration("2s", &ns));
	EXPECT_EQ(2 * SEC, ns);
	EXPECT_EQ(0, parse_duration("5m", &ns));
	EXPECT_EQ(300 * SEC, ns);
	EXPECT_EQ(0, parse_duration("1h", &ns));
	EXPECT_EQ(3600 * SEC, ns);
	EXPECT_EQ(0, parse_duration("2d", &ns));
	EXPECT_EQ(2 * 86400 * SEC, ns);
	EXPECT_EQ(0, parse_duration("7", &ns));
	EXPECT_EQ(7 * SEC, ns);
	EXPECT_NE(0, parse_duration("", &ns));
	EXPECT_NE(0, parse_duration("s", &ns));
	EXPECT_NE(0, parse_duration("1.5s", &ns));
	EXPECT_NE(0, parse_duration("-1", &ns));
	EXPECT_NE(0, parse_duration("1 s", &ns));
	EXPECT_NE(0, parse_duration("99999999999999999999d", &ns));
}

/* ---- files, through lymphd --check-config (root) ------------------------ */

FIXTURE(files)
{
	char dir[256];	/* root-owned, 0755 */
	char conf[300]; /* DIR/lymph.conf */
};

FIXTURE_SETUP(files)
{
	self->dir[0] = '\0';
	if (!th_is_root())
		SKIP(return, "needs root: the policy files must be owned by root");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "config"));
	snprintf(self->conf, sizeof(self->conf), "%s/lymph.conf", self->dir);
}

FIXTURE_TEARDOWN(files)
{
	char cmd[PATH_MAX];

	if (!self->dir[0])
		return;
	/* the drop-in directory is not flat: remove it first */
	snprintf(cmd, sizeof(cmd), "%s.d", self->conf);
	if (!access(cmd, F_OK)) {
		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s.d'", self->conf);
		if (system(cmd))
			th_diag("failed to remove %s.d", self->conf);
	}
	th_rmdir_flat(self->dir);
}

/* lymphd --check-config PATH */
static int check_config(const char *path, struct th_cmd *r)
{
	char prog[PATH_MAX];
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), "--check-config",
			 (char *)path, NULL };

	return th_run(argv, NULL, r);
}

TEST_F(files, valid_file)
{
	static struct th_cmd r;
	char want[512];

	ASSERT_EQ(0,
		  th_write_file(self->conf,
				"[lymphd]\nmode = enforce\n[service a]\nstart = /bin/sleep 100\n",
				0644));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	snprintf(want, sizeof(want), "%s: valid (1 file, 1 service, enforce mode)\n", self->conf);
	EXPECT_STREQ(want, r.out);
	EXPECT_STREQ("", r.err);
}

TEST_F(files, invalid_file_lists_every_error)
{
	static struct th_cmd r;
	char want[512];

	ASSERT_EQ(
		0,
		th_write_file(
			self->conf,
			"[lymphd]\nmode = loud\n\n[service a]\nstart = /bin/true\nsettle = soon\n",
			0644));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status)) TH_LOG("wait status 0x%x", r.status);
	EXPECT_STREQ("", r.out);
	EXPECT_EQ(2, th_count_lines(r.err)) TH_LOG("stderr: %s", r.err);
	snprintf(want, sizeof(want), "%s:2: mode: 'loud' is not observe or enforce\n", self->conf);
	EXPECT_EQ(0, strncmp(r.err, want, strlen(want))) TH_LOG("want '%s', got '%s'", want, r.err);
	snprintf(want, sizeof(want), "%s:6: settle: 'soon' is not a duration", self->conf);
	EXPECT_NE(NULL, strstr(r.err, want)) TH_LOG("want '%s' in '%s'", want, r.err);
}

TEST_F(files, world_writable_file_refused)
{
	static struct th_cmd r;

	ASSERT_EQ(0, th_write_file(self->conf, "[lymphd]\nmode = observe\n", 0666));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_NE(NULL, strstr(r.err, self->conf)) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "writable by group or others")) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "refused")) TH_LOG("stderr: %s", r.err);
	/* group-writable too */
	ASSERT_EQ(0, chmod(self->conf, 0664));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_NE(NULL, strstr(r.err, "writable by group or others")) TH_LOG("stderr: %s", r.err);
}

TEST_F(files, group_writable_directory_refused)
{
	static struct th_cmd r;

	ASSERT_EQ(0, th_write_file(self->conf, "[lymphd]\nmode = observe\n", 0644));
	ASSERT_EQ(0, chmod(self->dir, 0775));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_NE(NULL, strstr(r.err, "directory")) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, self->dir)) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "writable by group or others")) TH_LOG("stderr: %s", r.err);
	/* back to 0755: accepted */
	ASSERT_EQ(0, chmod(self->dir, 0755));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
}

TEST_F(files, file_not_owned_by_root_refused)
{
	static struct th_cmd r;

	ASSERT_EQ(0, th_write_file(self->conf, "[lymphd]\nmode = observe\n", 0644));
	ASSERT_EQ(0, chown(self->conf, 1000, 1000));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_NE(NULL, strstr(r.err, "owned by uid 1000, not root")) TH_LOG("stderr: %s", r.err);
}

TEST_F(files, drop_ins_in_name_order)
{
	static struct th_cmd r;
	char d[320], f[400], want[1200];

	ASSERT_EQ(0, th_write_file(self->conf, "[lymphd]\nmode = enforce\n", 0644));
	snprintf(d, sizeof(d), "%s.d", self->conf);
	ASSERT_EQ(0, mkdir(d, 0755));
	/* created out of order; read 10-, 20-, 30-; README and dot files ignored */
	snprintf(f, sizeof(f), "%s/30-c.conf", d);
	ASSERT_EQ(0, th_write_file(f, "[lymphd]\nmode = observe\n", 0644));
	snprintf(f, sizeof(f), "%s/10-a.conf", d);
	ASSERT_EQ(0, th_write_file(f, "[service a]\nstart = /bin/true\n", 0644));
	snprintf(f, sizeof(f), "%s/20-b.conf", d);
	ASSERT_EQ(0, th_write_file(f, "[service b]\nstart = /bin/true\n", 0644));
	snprintf(f, sizeof(f), "%s/README", d);
	ASSERT_EQ(0, th_write_file(f, "not a policy\n", 0644));
	snprintf(f, sizeof(f), "%s/.hidden.conf", d);
	ASSERT_EQ(0, th_write_file(f, "garbage\n", 0644));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	/* the last file read (30-c) says observe */
	snprintf(want, sizeof(want), "%s: valid (4 files, 2 services, observe mode)\n", self->conf);
	EXPECT_STREQ(want, r.out);

	/* a service defined again later names the earlier file: 10-a before 25-d */
	snprintf(f, sizeof(f), "%s/25-d.conf", d);
	ASSERT_EQ(0, th_write_file(f, "\n[service a]\nstart = /bin/true\n", 0644));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	snprintf(want, sizeof(want),
		 "%s/25-d.conf:2: service 'a' is already defined at %s/10-a.conf:1", d, d);
	EXPECT_NE(NULL, strstr(r.err, want)) TH_LOG("want '%s' in '%s'", want, r.err);
	unlink(f);

	/* a drop-in of a stranger is refused like the main file */
	snprintf(f, sizeof(f), "%s/20-b.conf", d);
	ASSERT_EQ(0, chmod(f, 0646));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_NE(NULL, strstr(r.err, "20-b.conf")) TH_LOG("stderr: %s", r.err);
	ASSERT_EQ(0, chmod(f, 0644));
	/* and so is a world-writable drop-in directory */
	ASSERT_EQ(0, chmod(d, 0757));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_NE(NULL, strstr(r.err, "writable by group or others")) TH_LOG("stderr: %s", r.err);
	chmod(d, 0755);
}

/* A policy file named on the command line must exist: never "valid (0
 * files)" on the built-in defaults (issue 17 item 6).  Only the default
 * path may be absent. */
TEST_F(files, missing_named_file_is_an_error)
{
	static struct th_cmd r;
	char want[512];

	ASSERT_EQ(0, check_config(self->conf, &r)); /* never created */
	EXPECT_TRUE(th_exited_nonzero(r.status)) TH_LOG("stdout: %s", r.out);
	snprintf(want, sizeof(want), "%s: cannot read the policy file named on the command line",
		 self->conf);
	EXPECT_NE(NULL, strstr(r.err, want)) TH_LOG("stderr: %s", r.err);
	EXPECT_EQ(NULL, strstr(r.out, "valid")) TH_LOG("stdout: %s", r.out);
}

TEST_F(files, symlink_refused)
{
	static struct th_cmd r;
	char target[320];

	snprintf(target, sizeof(target), "%s/real.conf", self->dir);
	ASSERT_EQ(0, th_write_file(target, "[lymphd]\nmode = observe\n", 0644));
	ASSERT_EQ(0, symlink(target, self->conf));
	ASSERT_EQ(0, check_config(self->conf, &r));
	EXPECT_TRUE(th_exited_nonzero(r.status));
	EXPECT_NE(NULL, strstr(r.err, "symbolic link")) TH_LOG("stderr: %s", r.err);
}

TEST_HARNESS_MAIN
