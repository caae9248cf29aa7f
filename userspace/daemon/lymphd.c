// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymphd: lymph's responder.  Thin main: options -> checks -> context ->
 * loop -> free.  See doc/lymphd.8.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "corehandler.h"
#include "daemon.h"
#include "notify.h"
#include "parse_num.h"
#include "spawn.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: lymphd [OPTION]...\n"
		"Sense processes that die badly and report them (observe mode).\n"
		"\n"
		"  -s, --source=SRC      event source: auto (default: kmod when lymph.ko is loaded,\n"
		"                        else bpf, else proc), kmod, bpf, proc\n"
		"  -j, --json            print one JSON object per event, every kind unless\n"
		"                        --events says otherwise (see doc/output-format.md)\n"
		"  -q, --quiet           print no events (status stays available to lymphctl;\n"
		"                        the system log of --log still gets them)\n"
		"  -v, --verbose[=N]     what is printed: by default danger deaths, fatal signals\n"
		"                        sent by another process, OOM kills, drops, decisions and\n"
		"                        actions, weather changes; -v adds programmed deaths and\n"
		"                        each held forker, -vv forks, execs and pressure checks,\n"
		"                        -vvv libbpf's log\n"
		"  -e, --events=LIST     kinds to print, left to right: NAME shows all of a kind,\n"
		"                        -NAME hides it, 'default' adds what -v shows, 'all';\n"
		"                        kinds: death danger programmed signal oom drop pressure\n"
		"                        exec fork decision service quarantine throttle weather\n"
		"                        integrity lymphd snapshot (e.g. --events=default,-weather)\n"
		"      --log=WHERE       system log of what is printed: journal (systemd, with\n"
		"                        LYMPH_* fields), syslog, stderr (none but the terminal);\n"
		"                        auto (default): stderr on a terminal, else journal, else\n"
		"                        syslog\n"
		"  -n, --dry-run         observe only: decide and journal, never act, whatever\n"
		"                        the policy's mode says\n"
		"  -c, --config=FILE     policy file (default " LYMPH_DEFAULT_CONFIG
		"; drop-ins in FILE.d/)\n"
		"      --check-config[=FILE]  validate the policy, print each error as file:line, exit\n"
		"      --journal=PATH    journal file (default: the policy's, " LYMPH_DEFAULT_JOURNAL
		")\n"
		"      --socket=PATH     control socket (default " LYMPH_DEFAULT_SOCKET ")\n"
		"      --ring-size=SIZE  BPF ring buffer size, power of two, e.g. 8M (default 1M)\n"
		"      --half-life=SECS  half-life of the per-binary danger counts (default 3600)\n"
		"      --no-fork         do not trace forks\n"
		"      --no-exec         do not trace execs\n"
		"      --lift-pins       do not start: lift every clone-storm pin a dead lymphd\n"
		"                        left (from the journal), journal it, exit (ExecStopPost)\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n");
}

/* One line, program name first, what is wrong and what to do. */
static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "lymphd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "; see lymphd --help\n");
	return 2;
}

enum {
	OPT_SOCKET = 256,
	OPT_RING,
	OPT_HALF,
	OPT_NOFORK,
	OPT_NOEXEC,
	OPT_CHECK,
	OPT_JOURNAL,
	OPT_LOG,
	OPT_LIFT
};

/* --check-config: every error as file:line: message; 0 when valid. */
static int check_config(const char *path, int must_exist)
{
	struct cfg_errors errs = { 0 };
	struct policy p;
	size_t i;
	int err = config_load_file(&p, path, must_exist, &errs);

	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (!err) {
		for (i = 0; i < p.n_services; i++)
			if (spawn_check_user(p.services[i].user, p.services[i].group)) {
				fprintf(stderr, "%s:%d: service '%s': unknown user or group\n",
					p.services[i].file, p.services[i].line, p.services[i].name);
				err = -EINVAL;
			}
	}
	if (!err)
		printf("%s: valid (%zu file%s, %zu service%s, %s mode)\n", path, p.n_files,
		       p.n_files == 1 ? "" : "s", p.n_services, p.n_services == 1 ? "" : "s",
		       p.enforce ? "enforce" : "observe");
	policy_free(&p);
	cfg_errors_free(&errs);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "ring-size", required_argument, NULL, OPT_RING },
		{ "half-life", required_argument, NULL, OPT_HALF },
		{ "no-fork", no_argument, NULL, OPT_NOFORK },
		{ "no-exec", no_argument, NULL, OPT_NOEXEC },
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", optional_argument, NULL, OPT_CHECK },
		{ "journal", required_argument, NULL, OPT_JOURNAL },
		{ "verbose", optional_argument, NULL, 'v' },
		{ "events", required_argument, NULL, 'e' },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "lift-pins", no_argument, NULL, OPT_LIFT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct daemon_opts o = {
		.source = SOURCE_AUTO,
		.socket_path = LYMPH_DEFAULT_SOCKET,
		.config_path = LYMPH_DEFAULT_CONFIG,
		.src = { .ring_bytes = 1u << 20, .want_fork = 1, .want_exec = 1 },
		.half_life_ns = 3600ULL * 1000000000ULL,
		.crashtab_max = 4096,
	};
	struct daemon *d;
	const char *bad;
	size_t bad_len;
	uint64_t v;
	int c, err, check = 0, lift = 0;

	if (argc > 1 && !strcmp(argv[1], "--core-handler")) /* run by the kernel (corehandler.h) */
		return corehandler_main(argc - 1, argv + 1);
	outfilter_init(&o.filter);
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":s:jqnc:ve:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!strcmp(optarg, "auto"))
				o.source = SOURCE_AUTO;
			else if (!strcmp(optarg, "bpf"))
				o.source = SOURCE_BPF;
			else if (!strcmp(optarg, "proc"))
				o.source = SOURCE_PROC;
			else if (!strcmp(optarg, "kmod"))
				o.source = SOURCE_KMOD;
			else
				return bad_usage(
					"unknown source '%s' (use auto, kmod, bpf or proc)",
					optarg);
			break;
		case 'j': o.json = 1; break;
		case 'q': o.quiet = 1; break;
		case 'n': o.dry_run = 1; break;
		case 'v':
			if (!optarg) {
				o.verbose++;
			} else if (parse_u64(optarg, 0, OUT_VERBOSE_MAX, &v)) {
				return bad_usage(
					"unknown verbosity '--verbose=%s' (0 to 3, as -v, -vv, -vvv)",
					optarg);
			} else {
				o.verbose = (int)v;
			}
			break;
		case 'e':
			if (outfilter_parse(&o.filter, optarg, &bad, &bad_len)) {
				fprintf(stderr,
					"lymphd: %s event kind '%.*s' in --events=%s (known: %s; "
					"-NAME hides one); see lymphd --help\n",
					bad_len ? "unknown" : "empty", (int)bad_len, bad, optarg,
					outfilter_names());
				return 2;
			}
			break;
		case OPT_LOG:
			if (logsink_parse(optarg, &o.log))
				return bad_usage(
					"unknown --log '%s' (use auto, journal, syslog or stderr)",
					optarg);
			break;
		case OPT_SOCKET:
			if (!*optarg)
				return bad_usage("%sempty --socket path", "");
			o.socket_path = optarg;
			break;
		case OPT_RING:
			if (parse_size(optarg, 4096, 1u << 30, &v) || (v & (v - 1)))
				return bad_usage(
					"bad --ring-size '%s' (a power of two from 4K to 1G)",
					optarg);
			o.src.ring_bytes = (uint32_t)v;
			break;
		case OPT_HALF:
			if (parse_u64(optarg, 1, 365ULL * 86400, &v))
				return bad_usage("bad --half-life '%s' (seconds, 1 to 31536000)",
						 optarg);
			o.half_life_ns = v * 1000000000ULL;
			break;
		case 'c':
			if (!*optarg)
				return bad_usage("%sempty --config path", "");
			o.config_path = optarg;
			o.config_explicit = 1;
			break;
		case OPT_CHECK:
			check = 1;
			if (optarg) {
				o.config_path = optarg;
				o.config_explicit = 1;
			}
			break;
		case OPT_JOURNAL:
			if (optarg[0] != '/')
				return bad_usage("--journal needs an absolute path, not '%s'",
						 optarg);
			o.journal_path = optarg;
			break;
		case OPT_LIFT: lift = 1; break;
		case OPT_NOFORK: o.src.want_fork = 0; break;
		case OPT_NOEXEC: o.src.want_exec = 0; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("lymphd %s\n", LYMPH_VERSION); return 0;
		case ':': return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default: return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (check && optind < argc) {
		o.config_path = argv[optind++]; /* --check-config FILE */
		o.config_explicit = 1;
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (o.verbose > OUT_VERBOSE_MAX)
		return bad_usage("unknown verbosity %s (-v, -vv and -vvv are known)",
				 o.verbose == 4 ? "-vvvv" : "beyond -vvvv");
	if (check)
		return check_config(o.config_path, o.config_explicit);

	if (geteuid() != 0) {
		fprintf(stderr, "lymphd: must run as root: it loads BPF programs or listens to "
				"the kernel's proc connector (try: sudo lymphd)\n");
		return 1;
	}
	if (lift) /* what a dead lymphd left pinned (liftpins.c) */
		return daemon_lift_pins(&o) ? 1 : 0;

	/* The context (300 KiB, mostly tables sized for the worst case) in
	 * its own anonymous mapping, not on the stack: the pages that stay
	 * zero are given back after start-up (lib/memtrim.h), which a
	 * stack's are not. */
	d = mmap(NULL, sizeof(*d), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d == MAP_FAILED) {
		fprintf(stderr, "lymphd: failed to allocate its context: %s\n", strerror(errno));
		return 1;
	}
	notify_init(); /* systemd's $NOTIFY_SOCKET, if any (Type=notify) */
	err = daemon_init(d, &o);
	if (!err) {
		notify("READY=1\nSTATUS=source %s, %s mode", d->src.name,
		       d->enforce ? "enforce" : "observe");
		err = daemon_run(d);
		notify("STOPPING=1");
	} else {
		notify("STATUS=failed to start (the reason is in its log)\nERRNO=%d", -err);
	}
	daemon_free(d);
	munmap(d, sizeof(*d));
	return err ? 1 : 0;
}
