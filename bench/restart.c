// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/restart: how fast a crashed service serves again, lymphd against
 * Debian's supervisord, in the same run.
 *
 * Both supervise the same TCP echo daemon (tests/echod.c, compiled here; two
 * copies of one binary, one per supervisor, on two ports).  For each crash
 * the bench asks the daemon for its pid, sends it "crash" (it dereferences
 * NULL: a real SIGSEGV), waits until the connection closes, then connects
 * again and again until the port accepts and a different pid answers.  The
 * figure is the time from sending "crash" to that accepted connection.
 * Crashes alternate between the two supervisors in short blocks so that
 * both see the same machine.  Backoff is at its minimum for both: lymphd
 * backoff_min = 0, no check, settle 0; supervisord autorestart with
 * startsecs = 0 (a process that exits after RUNNING is restarted at once).
 * lymphd journals (and fsyncs) every decision, as in production.
 *
 * Needs root.  Installs the `supervisor` package if it is missing
 * (apt-get) and stops the distro's own supervisor service it starts; the
 * bench runs its own supervisord on a private config and socket.
 *
 *   build/bench/restart [-n CRASHES] [-b BLOCK] [-d BUILD_DIR] [-s SRC_DIR] [-k] [-v]
 *
 * -n crashes per supervisor (200), -b crashes per block (10), -d the build
 * dir holding lymphd (build), -s the source tree holding tests/echod.c
 * (BUILD_DIR/..), -k keep the temporary directory (logs, lymphd's journal),
 * -v print each lymphd crash slower than 100 ms with its time.  Prints p50/p99/max of
 * each, the ratio and the target (lymph faster at p50 and p99), then
 * "figure" lines for bench/run-all.  Exit status 0 when measured (a missed
 * target is printed as MISS), 1 when the measurement could not be made.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "bench.h"

#define CRASH_TIMEOUT_NS (10 * 1000000000ULL)

struct sup {
	const char *name;	/* "lymphd", "supervisord" */
	pid_t pid;		/* the supervisor */
	int port;
	char exe[256];		/* its copy of echod */
	uint64_t *ns;		/* crash -> accepting again, per crash */
	int n, lost;
};

static volatile sig_atomic_t stopping;	/* SIGINT or SIGTERM: clean up and stop */

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static char dir[128];		/* the private temporary directory */

static int run(const char *cmd)
{
	int rc = system(cmd);

	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* ---- the echo daemon ---------------------------------------------------- */

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Connect to 127.0.0.1:port; -1 when refused.  *at: when it was accepted. */
static int connect_port(int port, uint64_t *at)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	if (at)
		*at = bench_now_ns();
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* On a connected fd: ask "pid", return the pid that answers, or -1. */
static pid_t ask_pid(int fd)
{
	char buf[64];
	size_t len = 0;
	int pid;

	if (send(fd, "pid\n", 4, MSG_NOSIGNAL) != 4)
		return -1;
	while (len + 1 < sizeof(buf)) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = 0;
		if (strchr(buf, '\n'))
			break;
	}
	return sscanf(buf, "pid %d", &pid) == 1 ? pid : -1;
}

/* The pid serving port, waiting up to timeout_ns for one; -1 if none. */
static pid_t serving_pid(int port, uint64_t timeout_ns)
{
	uint64_t end = bench_now_ns() + timeout_ns;

	do {
		int fd = connect_port(port, NULL);

		if (fd >= 0) {
			pid_t pid = ask_pid(fd);

			close(fd);
			if (pid > 0)
				return pid;
		}
		usleep(1000);
	} while (bench_now_ns() < end);
	return -1;
}

/* One crash: ns from "crash" to the port accepting a new pid's connection;
 * 0 when it did not come back within CRASH_TIMEOUT_NS. */
static uint64_t one_crash(struct sup *s)
{
	pid_t old = serving_pid(s->port, CRASH_TIMEOUT_NS), now_pid;
	uint64_t t0, t1 = 0, end;
	char buf[16];
	int fd;

	if (old <= 0)
		return 0;
	fd = connect_port(s->port, NULL);
	if (fd < 0)
		return 0;
	t0 = bench_now_ns();
	if (send(fd, "crash\n", 6, MSG_NOSIGNAL) != 6) {
		close(fd);
		return 0;
	}
	(void)!recv(fd, buf, sizeof(buf), 0);	/* EOF or reset: it is dead */
	close(fd);
	end = t0 + CRASH_TIMEOUT_NS;
	while (bench_now_ns() < end) {
		fd = connect_port(s->port, &t1);
		if (fd >= 0) {
			now_pid = ask_pid(fd);
			close(fd);
			if (now_pid > 0 && now_pid != old)
				return t1 - t0;
		}
		/* refused: the port is closed; try again soon (0.1 ms) */
		{
			struct timespec ts = { 0, 100000 };

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

/* ---- the supervisors ---------------------------------------------------- */

static pid_t spawn_logged(char *const argv[], const char *log)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		if (in >= 0)
			dup2(in, 0);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* a killed bench leaves nothing */
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f))
		return -1;
	return chmod(path, 0644);
}

static int start_lymphd(struct sup *s, const char *build)
{
	char conf[PATH_MAX + 16], text[4096], lymphd[PATH_MAX + 16], copt[PATH_MAX + 16];
	char jopt[PATH_MAX + 32], sopt[PATH_MAX + 32], log[PATH_MAX + 16];
	char *argv[] = { lymphd, "-c", copt, jopt, sopt, "--quiet", NULL };

	snprintf(conf, sizeof(conf), "%s/lymph.conf", dir);
	/* backoff at its minimum; quarantine out of the way (this crashes one
	 * binary hundreds of times on purpose), and the fork throttle (lymphd
	 * would otherwise hold the forks of a busy session, a bench's included);
	 * breaker never opens */
	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\n"
		 "[quarantine]\nthreshold = 1000000000\n"
		 "[throttle]\nbudget = 1000000\nburst = 1000000\n"
		 "[service echo]\n"
		 "start = %s %d\n"
		 "log = %s/echod-lymph.log\n"
		 "env = ECHOD_DIE_WITH_PARENT=1\n"
		 "backoff_min = 0\nbackoff_max = 1s\nsettle = 0\n"
		 "healthy_after = 1ms\nbreaker_failures = 1000\nbreaker_window = 1ms\n",
		 s->exe, s->port, dir);
	if (write_text(conf, text))
		return -1;
	snprintf(lymphd, sizeof(lymphd), "%s/lymphd", build);
	snprintf(copt, sizeof(copt), "%s", conf);
	snprintf(jopt, sizeof(jopt), "--journal=%s/journal", dir);
	snprintf(sopt, sizeof(sopt), "--socket=%s/lymphd.sock", dir);
	snprintf(log, sizeof(log), "%s/lymphd.log", dir);
	s->pid = spawn_logged(argv, log);
	return s->pid > 0 ? 0 : -1;
}

static int start_supervisord(struct sup *s)
{
	char conf[PATH_MAX + 32], text[8192], log[PATH_MAX + 32];
	char prog[] = "/usr/bin/supervisord", n[] = "-n", c[] = "-c";
	char *argv[] = { prog, n, c, conf, NULL };

	snprintf(conf, sizeof(conf), "%s/supervisord.conf", dir);
	snprintf(text, sizeof(text),
		 "[unix_http_server]\nfile = %s/supervisor.sock\nchmod = 0700\n"
		 "[supervisord]\nuser = root\nlogfile = %s/supervisord.log\npidfile = %s/supervisord.pid\n"
		 "childlogdir = %s\nnodaemon = true\n"
		 "[rpcinterface:supervisor]\n"
		 "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
		 "[supervisorctl]\nserverurl = unix://%s/supervisor.sock\n"
		 "[program:echo]\n"
		 "command = %s %d\n"
		 "autostart = true\nautorestart = true\nstartsecs = 0\nstartretries = 1000000\n"
		 "stopsignal = KILL\nstdout_logfile = %s/echod-supervisord.log\nredirect_stderr = true\n",
		 dir, dir, dir, dir, dir, s->exe, s->port, dir);
	if (write_text(conf, text))
		return -1;
	snprintf(log, sizeof(log), "%s/supervisord.out", dir);
	s->pid = spawn_logged(argv, log);
	return s->pid > 0 ? 0 : -1;
}

static void stop(struct sup *s)
{
	int i;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	for (i = 0; i < 500 && waitpid(s->pid, NULL, WNOHANG) == 0; i++)
		usleep(10000);
	if (i == 500) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

/* Kill whatever still runs our echod copies (lymphd leaves its services). */
static void kill_exe(const char *exe)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[300], target[PATH_MAX];
		ssize_t n;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/exe", e->d_name);
		n = readlink(p, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strcmp(target, exe))
			kill(atoi(e->d_name), SIGKILL);
	}
	if (d)
		closedir(d);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n]. */
static double pct_ms(const uint64_t *v, int n, double p)
{
	int rank = (int)ceil(p / 100.0 * n);

	if (rank < 1)
		rank = 1;
	return (double)v[rank - 1] / 1e6;
}

static void supervisor_version(char *out, size_t cap)
{
	FILE *p = popen("/usr/bin/supervisord --version 2>/dev/null", "r");

	snprintf(out, cap, "?");
	if (p) {
		if (fgets(out, (int)cap, p))
			out[strcspn(out, "\n")] = 0;
		pclose(p);
	}
}

/* dpkg -s supervisor || apt-get install -y supervisor; stop the distro's
 * own supervisord that the package starts. */
static int ensure_supervisor(void)
{
	if (!run("dpkg -s supervisor >/dev/null 2>&1") && !access("/usr/bin/supervisord", X_OK))
		return 0;
	printf("# installing Debian's supervisor package (apt-get install -y supervisor)\n");
	fflush(stdout);
	if (run("DEBIAN_FRONTEND=noninteractive apt-get install -y supervisor >&2") ||
	    access("/usr/bin/supervisord", X_OK)) {
		fprintf(stderr, "restart: failed to install supervisor (apt-get install -y supervisor)\n");
		return -1;
	}
	/* the package starts its own service where an init can: the bench runs its own */
	run("(systemctl stop supervisor || service supervisor stop) >/dev/null 2>&1");
	return 0;
}

static void report(const char *label, struct sup *s, double *p50, double *p99)
{
	qsort(s->ns, (size_t)s->n, sizeof(s->ns[0]), cmp_u64);
	*p50 = pct_ms(s->ns, s->n, 50);
	*p99 = pct_ms(s->ns, s->n, 99);
	printf("%-28s %4d  %9.2f ms  %9.2f ms  %9.2f ms  %9.2f ms%s\n", label, s->n, pct_ms(s->ns, s->n, 0),
	       *p50, *p99, (double)s->ns[s->n - 1] / 1e6, s->lost ? "" : "");
	if (s->lost)
		printf("# %s: %d crash(es) not back within %llu s (left out)\n", s->name, s->lost,
		       (unsigned long long)(CRASH_TIMEOUT_NS / 1000000000ULL));
}

int main(int argc, char **argv)
{
	const char *build = "build", *src = NULL;
	struct sup sups[2] = { { .name = "lymphd" }, { .name = "supervisord" } };
	char srcpath[PATH_MAX], cmd[3 * PATH_MAX], ver[128], tmpl[] = "/var/tmp/lymph-bench-restart.XXXXXX";
	int n = 200, block = 10, keep = 0, verbose = 0, c, err = 1, i;
	double l50, l99, s50, s99;

	while ((c = getopt(argc, argv, "n:b:d:s:kvh")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 'b': block = atoi(optarg); break;
		case 'd': build = optarg; break;
		case 's': src = optarg; break;
		case 'k': keep = 1; break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: restart [-n CRASHES] [-b BLOCK] [-d BUILD_DIR] [-s SRC_DIR] [-k] [-v]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (n < 1 || n > 100000 || block < 1) {
		fprintf(stderr, "restart: -n must be 1..100000 and -b at least 1\n");
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "restart: must run as root (lymphd loads BPF; supervisor may need installing)\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa = { .sa_handler = on_stop };	/* no SA_RESTART */

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	/* the echods die with their supervisor, the supervisors with the bench */
	setenv("ECHOD_DIE_WITH_PARENT", "1", 1);
	if (src)
		snprintf(srcpath, sizeof(srcpath), "%s/tests/echod.c", src);
	else
		snprintf(srcpath, sizeof(srcpath), "%s/../tests/echod.c", build);
	if (access(srcpath, R_OK)) {
		fprintf(stderr, "restart: %s missing (use -s SRC_DIR)\n", srcpath);
		return 1;
	}
	if (ensure_supervisor())
		return 1;
	supervisor_version(ver, sizeof(ver));
	/* on disk, like /var/lib/lymph: the journal fsyncs are real */
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "restart: failed to create a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s", tmpl);
	chmod(dir, 0755);
	for (i = 0; i < 2; i++) {
		snprintf(sups[i].exe, sizeof(sups[i].exe), "%s/echod-%s", dir, sups[i].name);
		snprintf(cmd, sizeof(cmd), "cc -O2 -o '%s' '%s'", sups[i].exe, srcpath);
		if (run(cmd)) {
			fprintf(stderr, "restart: failed to compile %s\n", srcpath);
			goto out;
		}
		sups[i].port = free_port();
		sups[i].ns = calloc((size_t)n, sizeof(uint64_t));
		if (sups[i].port <= 0 || !sups[i].ns)
			goto out;
	}
	if (sups[0].port == sups[1].port)
		sups[1].port = free_port();
	if (start_lymphd(&sups[0], build) || start_supervisord(&sups[1]))
		goto out;
	for (i = 0; i < 2; i++) {
		if (serving_pid(sups[i].port, 30 * 1000000000ULL) <= 0) {
			fprintf(stderr, "restart: the echod under %s never served on port %d (logs in %s)\n",
				sups[i].name, sups[i].port, dir);
			keep = 1;
			goto out;
		}
	}
	printf("# restart: %d crashes each, alternating blocks of %d; lymphd (backoff_min 0, settle 0, "
	       "journal fsynced on %s) vs supervisord %s (autorestart, startsecs 0)\n", n, block, dir, ver);
	fflush(stdout);

	/* alternate: a block of lymph crashes, a block of supervisord crashes, ... */
	for (int b = 0; !stopping && (sups[0].n + sups[0].lost < n || sups[1].n + sups[1].lost < n); b++) {
		struct sup *s = &sups[b % 2];

		for (int k = 0; k < block && s->n + s->lost < n && !stopping; k++) {
			struct timespec wall;
			uint64_t ns;

			clock_gettime(CLOCK_REALTIME, &wall);
			ns = one_crash(s);
			if (verbose && ns > 100000000ULL && s == &sups[0]) {
				struct tm tm;

				gmtime_r(&wall.tv_sec, &tm);
				printf("# slow: lymphd crash at %02d:%02d:%02d.%03ld UTC back after %.1f ms\n",
				       tm.tm_hour, tm.tm_min, tm.tm_sec, wall.tv_nsec / 1000000, (double)ns / 1e6);
			}
			if (ns)
				s->ns[s->n++] = ns;
			else
				s->lost++;
			usleep(20000);	/* let it settle before the next crash */
		}
	}
	if (stopping) {
		fprintf(stderr, "restart: interrupted\n");
		goto out;
	}
	if (!sups[0].n || !sups[1].n) {
		fprintf(stderr, "restart: no crash came back under %s (logs in %s)\n",
			sups[0].n ? "supervisord" : "lymphd", dir);
		keep = 1;
		goto out;
	}
	printf("%-28s %4s  %12s  %12s  %12s  %12s\n", "crash -> port accepting", "n", "min", "p50", "p99", "max");
	report("lymphd", &sups[0], &l50, &l99);
	report("supervisord", &sups[1], &s50, &s99);
	{
		/* minimum backoff for supervisord means no crash during STARTING */
		char c2[PATH_MAX + 64];

		snprintf(c2, sizeof(c2), "grep -q 'entered BACKOFF' '%s/supervisord.log'", dir);
		if (!run(c2))
			printf("# warning: supervisord backed off at least once (a crash before it saw RUNNING)\n");
	}
	printf("ratio supervisord / lymphd: p50 %.2fx, p99 %.2fx\n", s50 / l50, s99 / l99);
	printf("target: lymph faster than supervisord at p50 and p99: %s\n",
	       l50 < s50 && l99 < s99 ? "ok" : "MISS");
	{
		char name[128], val[128];

		snprintf(name, sizeof(name), "restart: crash -> serving again, p50 (%d crashes each)", n);
		snprintf(val, sizeof(val), "lymph %.2f ms, supervisord %.2f ms (%.2fx)", l50, s50, s50 / l50);
		bench_figure(name, val, "lymph faster", l50 < s50 ? "ok" : "MISS");
		snprintf(val, sizeof(val), "lymph %.2f ms, supervisord %.2f ms (%.2fx)", l99, s99, s99 / l99);
		bench_figure("restart: crash -> serving again, p99", val, "lymph faster", l99 < s99 ? "ok" : "MISS");
	}
	err = 0;
out:
	stop(&sups[0]);
	stop(&sups[1]);
	for (i = 0; i < 2; i++) {
		if (sups[i].exe[0])
			kill_exe(sups[i].exe);
		free(sups[i].ns);
	}
	if (keep) {
		printf("# kept %s\n", dir);
	} else {
		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
		run(cmd);
	}
	return err;
}
