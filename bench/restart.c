// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/restart: how fast a crashed real service serves again under lymphd,
 * s6 and supervisord, measured in one run on the same machine.
 *
 * Services: Debian's nginx (master_process off, daemon off: one process,
 * so that no orphaned worker keeps serving the port under a supervisor that
 * only knows the main process) and Debian's redis, each with its own
 * prefix, port and data directory on loopback.  Three instances of each,
 * one per supervisor: lymphd (backoff_min 0, settle 0, journal fsynced),
 * s6-svscan/s6-supervise (a run script that execs the service) and
 * supervisord (autorestart, startsecs 0).
 *
 * A crash is a real fault: the bench attaches to the service's process
 * with ptrace, sets its program counter to 0 and detaches (SIGSEGV,
 * SEGV_MAPERR at 0, whatever handlers it has), as a debugger would.  The
 * figure is the time from the detach to the service serving again from a
 * new process (an HTTP 200, or +PONG, from a pid other than the crashed
 * one, read from its pidfile), split at the crashed process's exit (a
 * pidfd): before it, the service's own crash handler (redis writes a bug
 * report and tests its memory, ~150-200 ms), which no supervisor can
 * shorten without losing that report; after it, the supervisor's part,
 * which is what lymph's goal against the cold start is about.  Crashes go round the six instances, one
 * each in turn, so that while one instance serves the 1.2 s it must before
 * its next crash (s6-supervise holds a restart for 1 s after a start that
 * died within a second) the others are crashed: the bench takes about the
 * sum of the restarts (supervisord's ~1 s each), not 1.2 s more per crash.
 * After every BLOCK rounds, BLOCK cold starts of each service: its own
 * start -> serving, no supervisor, no crash, measured the same way, as the
 * limit.  Every wait has a deadline; a bench that fails or is interrupted
 * says what it was waiting for.
 *
 *   build/bench/restart [-n CRASHES] [-b BLOCK] [-d BUILD_DIR] [-k]
 *
 * -n crashes per service and supervisor (20), -b rounds per block (5),
 * -d the build dir holding lymphd (build), -k keep the temporary directory.
 * -n 40 takes about 180 s (2026-12-01): s6-supervise and supervisord each
 * take ~1 s per restart (their own timers), 160 s of it.
 * Prints min/p50/p99/max per service and supervisor, the ratios lymph/s6
 * and lymph/supervisord and lymph's p99 against 1.2x the cold start p99,
 * then "figure" lines for bench/run-all.  Exit 0 when measured (a missed
 * goal is printed as MISS), 1 when it could not be measured (a package
 * missing: scripts/deps.sh installs nginx-light, redis-server, redis-tools,
 * s6 and supervisor).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/user.h>
#include "bench.h"
#define TH_NO_HARNESS
#include "helpers.h"
#include "svc_helpers.h"
#include "procfs.h"

#define NGINX "/usr/sbin/nginx"
#define REDIS "/usr/bin/redis-server"
#define BACK_TIMEOUT_NS (15 * 1000000000ULL)
#define SPACING_NS 1200000000ULL	/* between two crashes of one instance */
#define STOP_NS (5 * 1000000000ULL)	/* a traced process stops within this */
#define LOST_IN_A_ROW 3		/* then the instance is broken: the bench stops */

enum svc { NGINX_SVC, REDIS_SVC, N_SVC };
enum sup { LYMPH, S6, SUPERVISORD, N_SUP };

static const char *const svc_name[N_SVC] = { "nginx", "redis" };
static const char *const sup_name[N_SUP] = { "lymphd", "s6", "supervisord" };

struct inst {
	enum svc svc;
	enum sup sup;
	int port;
	char dir[256];		/* its prefix / data directory */
	char pidfile[300];
	uint64_t *ns;		/* crash -> serving again */
	uint64_t *exit_ns;	/* crash -> the crashed process gone (its own crash handler) */
	uint64_t *back_ns;	/* its exit -> serving again (the supervisor's part) */
	double *t0_wall, *te_wall, *t1_wall; /* the crash, its exit, serving: wall s */
	int n, lost, lost_row;	/* lost_row: not back, in a row */
	uint64_t last_crash;
};

static char dir[128];
static int64_t wall_minus_mono;	/* ns: bench_now_ns() to wall time */
static pid_t sup_pid[N_SUP];
static volatile sig_atomic_t stopping;
static char doing[512];	/* what the bench waits for now: said when it fails or is stopped */

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static int run(const char *cmd)
{
	int rc = system(cmd);

	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* ---- is it serving? ------------------------------------------------------ */

/* One request: HTTP GET / (nginx) or PING (redis); 1 when answered right. */
static int serves(enum svc svc, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 1, 0 };
	const char *req = svc == NGINX_SVC ? "GET / HTTP/1.0\r\n\r\n" : "PING\r\n";
	char buf[256];
	size_t len = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), ok, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (fd < 0)
		return 0;
	/* every step within 1 s: a listener that never accepts (its backlog
	 * full, the process stopped) is "not serving", not a hang */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS) {
		close(fd);
		return 0;
	}
	{
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		if (poll(&pfd, 1, 1000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) ||
		    soerr || fcntl(fd, F_SETFL, 0) ||
		    send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
			close(fd);
			return 0;
		}
	}
	while (len < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, "\r\n"))
			break;	/* the status line, or redis's reply */
	}
	close(fd);
	buf[len] = 0;
	ok = svc == NGINX_SVC ? !strncmp(buf, "HTTP/1.1 200", 12) : !strncmp(buf, "+PONG", 5);
	return ok;
}

/* Serving from a process other than old (0: any), by its pidfile; the pid,
 * or 0 after timeout_ns.  *at: when the answer came. */
static pid_t wait_serving(struct inst *in, pid_t old, uint64_t timeout_ns, uint64_t *at)
{
	uint64_t end = bench_now_ns() + timeout_ns;

	do {
		pid_t pid = proc_pidfile_read(in->pidfile);

		if (pid > 0 && pid != old && !kill(pid, 0) && serves(in->svc, in->port)) {
			if (at)
				*at = bench_now_ns();
			if (proc_pidfile_read(in->pidfile) == pid)
				return pid;
		}
		{
			struct timespec ts = { 0, 200000 };	/* 0.2 ms */

			nanosleep(&ts, NULL);
		}
	} while (bench_now_ns() < end && !stopping);
	return 0;
}

/* ---- the services --------------------------------------------------------- */

/* The command line that runs instance in in the foreground. */
static void command(const struct inst *in, char *out, size_t cap)
{
	if (in->svc == NGINX_SVC)
		snprintf(out, cap, NGINX " -p %s -c %s/nginx.conf -g 'daemon off;'", in->dir, in->dir);
	else
		snprintf(out, cap, REDIS " --port %d --bind 127.0.0.1 --dir %s --daemonize no --save '' "
			 "--appendonly no --logfile '' --pidfile %s", in->port, in->dir, in->pidfile);
}

static int prepare(struct inst *in, const char *tag)
{
	char path[PATH_MAX + 32], text[8192];

	snprintf(in->dir, sizeof(in->dir), "%s/%s-%s", dir, svc_name[in->svc], tag);
	if (mkdir(in->dir, 0755))
		return -1;
	in->port = free_port();
	if (in->svc == NGINX_SVC) {
		snprintf(in->pidfile, sizeof(in->pidfile), "%s/nginx.pid", in->dir);
		snprintf(path, sizeof(path), "%s/index.html", in->dir);
		if (th_write_file(path, "bench\n", 0644))
			return -1;
		snprintf(text, sizeof(text),
			 "master_process off;\npid %1$s/nginx.pid;\nerror_log %1$s/error.log;\n"
			 "events { worker_connections 64; }\n"
			 "http { access_log off; client_body_temp_path %1$s/body; proxy_temp_path %1$s/proxy;\n"
			 "  fastcgi_temp_path %1$s/fcgi; uwsgi_temp_path %1$s/uwsgi; scgi_temp_path %1$s/scgi;\n"
			 "  server { listen 127.0.0.1:%2$d; root %1$s; } }\n", in->dir, in->port);
		snprintf(path, sizeof(path), "%s/nginx.conf", in->dir);
		return th_write_file(path, text, 0644);
	}
	snprintf(in->pidfile, sizeof(in->pidfile), "%s/redis.pid", in->dir);
	return 0;
}

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
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* a killed bench leaves its supervisors */
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* ---- the supervisors ------------------------------------------------------ */

static int start_lymphd(struct inst *ins, int n, const char *build)
{
	char conf[PATH_MAX], text[8192], cmd[PATH_MAX * 2], lymphd[PATH_MAX], copt[PATH_MAX + 8];
	char jopt[PATH_MAX + 32], sopt[PATH_MAX + 32], log[PATH_MAX];
	char *argv[] = { lymphd, "-c", copt, jopt, sopt, "--quiet", NULL };
	size_t len;
	int i;

	/* backoff at its minimum; quarantine and the fork throttle out of the
	 * way; the breaker never opens */
	len = (size_t)snprintf(text, sizeof(text),
			       "[lymphd]\nmode = enforce\n[quarantine]\nthreshold = 1000000000\n"
			       "[throttle]\nbudget = 1000000\nburst = 1000000\n"
			       "[weather]\nbackoff_factor_stormy = 1\n");
	for (i = 0; i < n; i++) {
		if (ins[i].sup != LYMPH)
			continue;
		command(&ins[i], cmd, sizeof(cmd));
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"[service %s]\nstart = %s\nlog = %s-out.log\n"
					"backoff_min = 0\nbackoff_max = 1s\nsettle = 0\nhealthy_after = 1ms\n"
					"breaker_failures = 1000\nbreaker_window = 1ms\n%s",
					svc_name[ins[i].svc], cmd, ins[i].dir,
					ins[i].svc == REDIS_SVC ? "user = redis\n" :
					"capabilities = CAP_CHOWN CAP_SETUID CAP_SETGID CAP_NET_BIND_SERVICE\n");
	}
	snprintf(conf, sizeof(conf), "%s/lymph.conf", dir);
	if (th_write_file(conf, text, 0644))
		return -1;
	snprintf(lymphd, sizeof(lymphd), "%s/lymphd", build);
	snprintf(copt, sizeof(copt), "%s", conf);
	snprintf(jopt, sizeof(jopt), "--journal=%s/journal", dir);
	snprintf(sopt, sizeof(sopt), "--socket=%s/lymphd.sock", dir);
	snprintf(log, sizeof(log), "%s/lymphd.log", dir);
	sup_pid[LYMPH] = spawn_logged(argv, log);
	return sup_pid[LYMPH] > 0 ? 0 : -1;
}

static int start_s6(struct inst *ins, int n)
{
	char scan[PATH_MAX], sdir[PATH_MAX * 2], path[PATH_MAX * 2 + 8], cmd[PATH_MAX * 2], text[PATH_MAX * 3];
	char prog[] = "/usr/bin/s6-svscan", log[PATH_MAX];
	char *argv[] = { prog, scan, NULL };
	int i;

	snprintf(scan, sizeof(scan), "%s/s6", dir);
	if (mkdir(scan, 0755))
		return -1;
	for (i = 0; i < n; i++) {
		if (ins[i].sup != S6)
			continue;
		snprintf(sdir, sizeof(sdir), "%s/%s", scan, svc_name[ins[i].svc]);
		if (mkdir(sdir, 0755))
			return -1;
		command(&ins[i], cmd, sizeof(cmd));
		snprintf(text, sizeof(text), "#!/bin/sh\nexec 2>&1\nexec %s%s\n",
			 ins[i].svc == REDIS_SVC ? "/usr/bin/setpriv --reuid redis --regid redis --init-groups " : "",
			 cmd);
		snprintf(path, sizeof(path), "%s/run", sdir);
		if (th_write_file(path, text, 0755))
			return -1;
	}
	snprintf(log, sizeof(log), "%s/s6.log", dir);
	sup_pid[S6] = spawn_logged(argv, log);
	return sup_pid[S6] > 0 ? 0 : -1;
}

static int start_supervisord(struct inst *ins, int n)
{
	char conf[PATH_MAX], text[16384], cmd[PATH_MAX * 2], log[PATH_MAX];
	char prog[] = "/usr/bin/supervisord", nd[] = "-n", c[] = "-c";
	char *argv[] = { prog, nd, c, conf, NULL };
	size_t len;
	int i;

	len = (size_t)snprintf(text, sizeof(text),
			       "[unix_http_server]\nfile = %1$s/supervisor.sock\nchmod = 0700\n"
			       "[supervisord]\nuser = root\nlogfile = %1$s/supervisord.log\n"
			       "pidfile = %1$s/supervisord.pid\nchildlogdir = %1$s\nnodaemon = true\n"
			       "[rpcinterface:supervisor]\n"
			       "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
			       dir);
	for (i = 0; i < n; i++) {
		if (ins[i].sup != SUPERVISORD)
			continue;
		command(&ins[i], cmd, sizeof(cmd));
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"[program:%s]\ncommand = %s\n%s"
					"autostart = true\nautorestart = true\nstartsecs = 0\nstartretries = 1000000\n"
					"stdout_logfile = %s-out.log\nredirect_stderr = true\n",
					svc_name[ins[i].svc], cmd, ins[i].svc == REDIS_SVC ? "user = redis\n" : "",
					ins[i].dir);
	}
	snprintf(conf, sizeof(conf), "%s/supervisord.conf", dir);
	if (th_write_file(conf, text, 0644))
		return -1;
	snprintf(log, sizeof(log), "%s/supervisord.out", dir);
	sup_pid[SUPERVISORD] = spawn_logged(argv, log);
	return sup_pid[SUPERVISORD] > 0 ? 0 : -1;
}

/* Stop a supervisor (its session: s6-supervise too), then whatever of ours
 * still runs (lymphd leaves its services). */
static void stop_all(void)
{
	struct proc_iter it;
	long pid;
	int i;

	for (i = 0; i < N_SUP; i++) {
		if (sup_pid[i] <= 0)
			continue;
		kill(-sup_pid[i], SIGTERM);
		for (int k = 0; k < 300 && waitpid(sup_pid[i], NULL, WNOHANG) == 0; k++)
			usleep(10000);
		kill(-sup_pid[i], SIGKILL);
		waitpid(sup_pid[i], NULL, WNOHANG);
		sup_pid[i] = 0;
	}
	if (proc_iter_open(&it, "/proc"))
		return;
	/* redis rewrites its command line: its working directory is ours */
	while ((pid = proc_iter_next(&it)) >= 0)
		if (pid > 0 && (cmdline_has((pid_t)pid, dir) || cwd_under((pid_t)pid, dir)))
			kill((pid_t)pid, SIGKILL);
	proc_iter_close(&it);
}

/* ---- a real fault ----------------------------------------------------------- */

/* Attach, set the program counter to 0, detach: *t0 at the detach.  0 or -1. */
static int crash_pc0(pid_t pid, uint64_t *t0)
{
	struct user_regs_struct regs;
	int status;

	uint64_t end = bench_now_ns() + STOP_NS;
	pid_t got;

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL))
		return -1;
	/* the attach's SIGSTOP, within STOP_NS (a task in D state may never) */
	while ((got = waitpid(pid, &status, __WALL | WNOHANG)) == 0 && bench_now_ns() < end && !stopping)
		usleep(1000);
	if (got != pid || !WIFSTOPPED(status) || ptrace(PTRACE_GETREGS, pid, NULL, &regs)) {
		if (!got)
			fprintf(stderr, "restart: pid %d did not stop within %llu s of PTRACE_ATTACH "
				"(its state in /proc/%d/status); that crash is not counted\n", (int)pid,
				(unsigned long long)(STOP_NS / 1000000000ULL), (int)pid);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		return -1;
	}
	regs.rip = 0;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &regs)) {
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		return -1;
	}
	*t0 = bench_now_ns();
	return ptrace(PTRACE_DETACH, pid, NULL, NULL) ? -1 : 0;
}

/* 1 when the crash was measured, 0 when it was lost. */
static int one_crash(struct inst *in)
{
	struct pollfd pfd = { .events = POLLIN };
	uint64_t t0, te, t1 = 0, now = bench_now_ns();
	int k = in->n + in->lost + 1;
	pid_t old;

	snprintf(doing, sizeof(doing), "%s under %s serving on port %d before crash %d (pidfile %s)",
		 svc_name[in->svc], sup_name[in->sup], in->port, k, in->pidfile);
	old = wait_serving(in, 0, BACK_TIMEOUT_NS, NULL);
	if (now < in->last_crash + SPACING_NS)
		usleep((useconds_t)((in->last_crash + SPACING_NS - now) / 1000));
	/* its exit, apart: a service's own crash handler may take long
	 * (redis's bug report and memory test, ~150-200 ms) before any
	 * supervisor can know */
	pfd.fd = old > 0 ? (int)syscall(SYS_pidfd_open, old, 0) : -1;
	if (old <= 0 || pfd.fd < 0 || crash_pc0(old, &t0)) {
		if (pfd.fd >= 0)
			close(pfd.fd);
		in->lost++;
		in->lost_row++;
		return 0;
	}
	snprintf(doing, sizeof(doing), "%s under %s: crashed pid %d gone after crash %d",
		 svc_name[in->svc], sup_name[in->sup], (int)old, k);
	while (poll(&pfd, 1, 100) == 0 && !stopping && bench_now_ns() < t0 + BACK_TIMEOUT_NS)
		;
	te = bench_now_ns();
	close(pfd.fd);
	snprintf(doing, sizeof(doing), "%s under %s serving again on port %d after crash %d (pid %d)",
		 svc_name[in->svc], sup_name[in->sup], in->port, k, (int)old);
	if (!(pfd.revents & POLLIN))
		t1 = 0; /* not gone: not measured */
	else if (wait_serving(in, old, BACK_TIMEOUT_NS, &t1) <= 0)
		t1 = 0;
	if (t1) {
		in->t0_wall[in->n] = (double)((int64_t)t0 + wall_minus_mono) / 1e9;
		in->te_wall[in->n] = (double)((int64_t)te + wall_minus_mono) / 1e9;
		in->t1_wall[in->n] = (double)((int64_t)t1 + wall_minus_mono) / 1e9;
		in->exit_ns[in->n] = te - t0;
		in->back_ns[in->n] = t1 > te ? t1 - te : 0;
		in->ns[in->n++] = t1 - t0;
		in->lost_row = 0;
	} else {
		in->lost++;
		in->lost_row++;
	}
	/* the next crash comes SPACING_NS after this restart, not the crash:
	 * s6-supervise holds a restart for 1 s after a start that died within
	 * a second */
	in->last_crash = bench_now_ns();
	return !in->lost_row;
}

/* The service's own cold start, no supervisor: start -> serving. */
static int cold_start(struct inst *in, uint64_t *out)
{
	char cmd[2048], sh[] = "/bin/sh", c[] = "-c", full[2200], log[PATH_MAX + 16];
	char *argv[] = { sh, c, full, NULL };
	uint64_t t0, t1 = 0;
	pid_t pid;

	command(in, cmd, sizeof(cmd));
	snprintf(full, sizeof(full), "exec %s%s",
		 in->svc == REDIS_SVC ? "/usr/bin/setpriv --reuid redis --regid redis --init-groups " : "", cmd);
	snprintf(log, sizeof(log), "%s/cold.log", in->dir);
	snprintf(doing, sizeof(doing), "%s's cold start (no supervisor) serving on port %d", svc_name[in->svc],
		 in->port);
	unlink(in->pidfile);
	t0 = bench_now_ns();
	pid = spawn_logged(argv, log);
	if (pid <= 0)
		return -1;
	if (wait_serving(in, 0, BACK_TIMEOUT_NS, &t1) <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	*out = t1 - t0;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (int k = 0; k < 200 && serves(in->svc, in->port); k++)
		usleep(5000);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_ms(uint64_t *v, int n, double p)
{
	int rank = (int)ceil(p / 100.0 * n);

	if (rank < 1)
		rank = 1;
	return (double)v[rank - 1] / 1e6;
}

static void row(const char *label, uint64_t *v, int n, int lost, double *p50, double *p99)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_u64);
	*p50 = pct_ms(v, n, 50);
	*p99 = pct_ms(v, n, 99);
	printf("%-24s %4d  %9.1f ms %9.1f ms %9.1f ms %9.1f ms%s\n", label, n, pct_ms(v, n, 0), *p50, *p99,
	       (double)v[n - 1] / 1e6, lost ? "  (some not back: see below)" : "");
	if (lost)
		printf("# %s: %d crash(es) not measured (not serving again within %llu s)\n", label, lost,
		       (unsigned long long)(BACK_TIMEOUT_NS / 1000000000ULL));
}

/* One table of the crashes split at the exit: its first part (back 0) or
 * its second (back 1), per service and supervisor. */
static void split_rows(struct inst *ins, const char *title, int back, double v50[N_SVC][N_SUP],
		       double v99[N_SVC][N_SUP])
{
	printf("%-24s %4s  %12s %12s %12s %12s\n", title, "n", "min", "p50", "p99", "max");
	for (int s = 0; s < N_SVC; s++)
		for (int u = 0; u < N_SUP; u++) {
			struct inst *in = &ins[s * N_SUP + u];
			char label[64];

			snprintf(label, sizeof(label), "%s under %s", svc_name[s], sup_name[u]);
			row(label, back ? in->back_ns : in->exit_ns, in->n, 0, &v50[s][u], &v99[s][u]);
		}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "p50 / p99 / max" of v[0..n) in ms (sorts a copy). */
static void pct_line(const char *what, const double *v, int n)
{
	double *c = malloc((size_t)n * sizeof(*c));
	int r99 = (int)ceil(0.99 * n);

	if (!c)
		return;
	memcpy(c, v, (size_t)n * sizeof(*c));
	qsort(c, (size_t)n, sizeof(*c), cmp_double);
	printf("#   %-28s p50 %7.2f  p99 %7.2f  max %7.2f ms\n", what, c[(n + 1) / 2 - 1] * 1e3,
	       c[(r99 < 1 ? 1 : r99) - 1] * 1e3, c[n - 1] * 1e3);
	free(c);
}

/*
 * Where lymphd's part of each crash went, from its journal: the crashed
 * process's exit (the bench's pidfd) -> lymphd's "died" record -> its
 * "restart ... started pid" record (the spawn done) -> serving (the
 * service's own start).  The journal's times are wall times, as the
 * bench's converted; records are matched in order (each crash's "died"
 * is the first after that crash).  Printed as '#' lines, with the
 * slowest crash apart: a p99 of 20 crashes is one crash.
 */
static void lymph_split(const struct inst *in)
{
	static char line[64 << 10];	/* a journal line's limit */
	char path[PATH_MAX];
	double *died = calloc((size_t)in->n + 1, sizeof(double));
	double *started = calloc((size_t)in->n + 1, sizeof(double));
	double *a = calloc((size_t)in->n + 1, sizeof(double));
	double *b = calloc((size_t)in->n + 1, sizeof(double));
	double *c = calloc((size_t)in->n + 1, sizeof(double));
	int k = 0, m = 0, worst = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "re");
	if (!f || !died || !started || !a || !b || !c) {
		printf("# %s under lymphd: no split (%s: %s)\n", svc_name[in->svc], path,
		       f ? "out of memory" : strerror(errno));
		goto out;
	}
	while (k < in->n && fgets(line, sizeof(line), f)) {
		struct json_object *o = json_tokener_parse(line), *v;
		const char *svc = NULL, *action = NULL, *result = NULL;
		double ts = 0;

		if (!o)
			continue;
		if (json_object_object_get_ex(o, "service", &v))
			svc = json_object_get_string(v);
		if (json_object_object_get_ex(o, "action", &v))
			action = json_object_get_string(v);
		if (json_object_object_get_ex(o, "result", &v))
			result = json_object_get_string(v);
		if (json_object_object_get_ex(o, "ts", &v))
			ts = json_object_get_double(v);
		if (svc && action && !strcmp(svc, svc_name[in->svc])) {
			if (!died[k] && !strcmp(action, "died") && ts >= in->t0_wall[k])
				died[k] = ts;
			else if (died[k] && !strcmp(action, "restart") && result &&
				 !strncmp(result, "started pid", 11))
				started[k++] = ts;
		}
		json_object_put(o);
	}
	for (int i = 0; i < k; i++) {
		a[m] = died[i] - in->te_wall[i];
		b[m] = started[i] - died[i];
		c[m] = in->t1_wall[i] - started[i];
		if (in->t1_wall[i] - in->te_wall[i] > in->t1_wall[worst] - in->te_wall[worst])
			worst = i;
		m++;
	}
	if (!m) {
		printf("# %s under lymphd: no split (no died/restart records matched in %s)\n",
		       svc_name[in->svc], path);
		goto out;
	}
	printf("# %s under lymphd, its exit -> serving split by lymphd's journal (%d of %d crashes; "
	       "the exit as the bench saw it, so the first part may be below 0):\n",
	       svc_name[in->svc], m, in->n);
	pct_line("exit -> \"died\" recorded", a, m);
	pct_line("\"died\" -> spawned", b, m);
	pct_line("spawned -> serving", c, m);
	printf("#   the slowest: %.2f ms = %.2f + %.2f + %.2f ms\n",
	       (in->t1_wall[worst] - in->te_wall[worst]) * 1e3, a[worst] * 1e3, b[worst] * 1e3,
	       c[worst] * 1e3);
out:
	if (f)
		fclose(f);
	free(died);
	free(started);
	free(a);
	free(b);
	free(c);
}

int main(int argc, char **argv)
{
	const char *build = "build";
	char tmpl[] = "/var/tmp/lymph-bench-restart.XXXXXX", cmd[PATH_MAX];
	struct inst ins[N_SVC * N_SUP];
	struct inst cold[N_SVC];
	uint64_t *cold_ns[N_SVC] = { 0 };
	int cold_n[N_SVC] = { 0 };
	int n = 20, block = 5, keep = 0, c, err = 1, i;
	struct inst *broken = NULL;
	uint64_t t_start = bench_now_ns();
	double p50[N_SVC][N_SUP], p99[N_SVC][N_SUP], c50[N_SVC], c99[N_SVC];
	double e50[N_SVC][N_SUP], e99[N_SVC][N_SUP], b50[N_SVC][N_SUP], b99[N_SVC][N_SUP];

	while ((c = getopt(argc, argv, "n:b:d:kh")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 'b': block = atoi(optarg); break;
		case 'd': build = optarg; break;
		case 'k': keep = 1; break;
		default:
			fprintf(stderr, "usage: restart [-n CRASHES] [-b BLOCK] [-d BUILD_DIR] [-k]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (n < 1 || n > 10000 || block < 1) {
		fprintf(stderr, "restart: -n must be 1..10000 and -b at least 1\n");
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "restart: must run as root (lymphd loads BPF; ptrace of the services)\n");
		return 1;
	}
	if (access(NGINX, X_OK) || access(REDIS, X_OK) || access("/usr/bin/s6-svscan", X_OK) ||
	    access("/usr/bin/supervisord", X_OK) || !getpwnam("redis")) {
		fprintf(stderr, "restart: needs Debian's nginx-light, redis-server, s6 and supervisor: "
			"run scripts/deps.sh\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa = { .sa_handler = on_stop };

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "restart: failed to create a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s", tmpl);
	chmod(dir, 0755);
	{
		struct timespec w;

		clock_gettime(CLOCK_REALTIME, &w);
		wall_minus_mono = (int64_t)w.tv_sec * 1000000000LL + w.tv_nsec - (int64_t)bench_now_ns();
	}
	memset(ins, 0, sizeof(ins));
	memset(cold, 0, sizeof(cold));
	for (i = 0; i < N_SVC * N_SUP; i++) {
		ins[i].svc = (enum svc)(i / N_SUP);
		ins[i].sup = (enum sup)(i % N_SUP);
		ins[i].ns = calloc((size_t)n, sizeof(uint64_t));
		ins[i].exit_ns = calloc((size_t)n, sizeof(uint64_t));
		ins[i].back_ns = calloc((size_t)n, sizeof(uint64_t));
		ins[i].t0_wall = calloc((size_t)n, sizeof(double));
		ins[i].te_wall = calloc((size_t)n, sizeof(double));
		ins[i].t1_wall = calloc((size_t)n, sizeof(double));
		if (!ins[i].ns || !ins[i].exit_ns || !ins[i].back_ns || !ins[i].t0_wall ||
		    !ins[i].te_wall || !ins[i].t1_wall || prepare(&ins[i], sup_name[ins[i].sup]))
			goto out;
		if (ins[i].svc == REDIS_SVC && chown(ins[i].dir, getpwnam("redis")->pw_uid, getpwnam("redis")->pw_gid))
			goto out;
	}
	for (i = 0; i < N_SVC; i++) {
		cold[i].svc = (enum svc)i;
		cold[i].sup = N_SUP;	/* none: the service alone */
		cold_ns[i] = calloc((size_t)n, sizeof(uint64_t));
		if (!cold_ns[i] || prepare(&cold[i], "cold"))
			goto out;
		if (i == REDIS_SVC && chown(cold[i].dir, getpwnam("redis")->pw_uid, getpwnam("redis")->pw_gid))
			goto out;
	}
	if (start_lymphd(ins, N_SVC * N_SUP, build) || start_s6(ins, N_SVC * N_SUP) ||
	    start_supervisord(ins, N_SVC * N_SUP))
		goto out;
	for (i = 0; i < N_SVC * N_SUP; i++) {
		snprintf(doing, sizeof(doing), "%s under %s serving on port %d at the start", svc_name[ins[i].svc],
			 sup_name[ins[i].sup], ins[i].port);
		if (wait_serving(&ins[i], 0, 30 * 1000000000ULL, NULL) <= 0) {
			if (stopping)
				fprintf(stderr, "restart: interrupted while waiting for %s\n", doing);
			else
				fprintf(stderr, "restart: %s under %s never served on port %d within 30 s of its "
					"start: see its logs in %s and the supervisor's in %s\n",
					svc_name[ins[i].svc], sup_name[ins[i].sup], ins[i].port, ins[i].dir, dir);
			keep = 1;
			goto out;
		}
	}
	printf("# restart: %d real faults (pc = 0) per service and supervisor, one per instance in turn,"
	       " %d cold starts of each service after every %d rounds;"
	       " lymphd (backoff_min 0, settle 0, journal fsynced) vs s6-supervise vs supervisord"
	       " (autorestart, startsecs 0)\n", n, block, block);
	fflush(stdout);

	/* interleave: a round crashes each instance once; cold starts after
	 * every block of rounds */
	for (int done = 0; !done && !stopping && !broken;) {
		done = 1;
		for (int r = 0; r < block && !stopping && !broken; r++) {
			for (i = 0; i < N_SVC * N_SUP && !stopping && !broken; i++) {
				struct inst *in = &ins[i];

				if (in->n + in->lost >= n)
					continue;
				if (!one_crash(in) && in->lost_row >= LOST_IN_A_ROW && !stopping)
					broken = in;
			}
		}
		for (i = 0; i < N_SVC * N_SUP; i++)
			if (ins[i].n + ins[i].lost < n)
				done = 0;
		for (i = 0; i < N_SVC && !stopping && !broken; i++) {
			for (int k = 0; k < block && cold_n[i] < n; k++) {
				uint64_t ns;

				if (!cold_start(&cold[i], &ns))
					cold_ns[i][cold_n[i]++] = ns;
			}
			if (cold_n[i] < n)
				done = 0;
		}
	}
	if (stopping || broken) {
		if (broken)
			fprintf(stderr, "restart: %s under %s was not serving again within %llu s, %d crashes "
				"in a row: stopped; its logs are in %s (and the supervisor's in %s)\n",
				svc_name[broken->svc], sup_name[broken->sup],
				(unsigned long long)(BACK_TIMEOUT_NS / 1000000000ULL), LOST_IN_A_ROW,
				broken->dir, dir);
		else
			fprintf(stderr, "restart: interrupted after %.0f s while waiting for %s\n",
				(double)(bench_now_ns() - t_start) / 1e9, doing);
		for (i = 0; i < N_SVC * N_SUP; i++)
			fprintf(stderr, "restart:   %s under %s: %d of %d crashes measured, %d lost\n",
				svc_name[ins[i].svc], sup_name[ins[i].sup], ins[i].n, n, ins[i].lost);
		keep = 1;
		goto out;
	}
	printf("%-24s %4s  %12s %12s %12s %12s\n", "crash -> serving again", "n", "min", "p50", "p99", "max");
	for (int s = 0; s < N_SVC; s++) {
		char label[64];

		for (int u = 0; u < N_SUP; u++) {
			struct inst *in = &ins[s * N_SUP + u];

			snprintf(label, sizeof(label), "%s under %s", svc_name[s], sup_name[u]);
			if (!in->n) {
				printf("%-24s    0  (none measured)\n", label);
				goto out;
			}
			row(label, in->ns, in->n, in->lost, &p50[s][u], &p99[s][u]);
		}
		snprintf(label, sizeof(label), "%s cold start", svc_name[s]);
		if (!cold_n[s]) {
			printf("%-24s    0  (none measured)\n", label);
			goto out;
		}
		row(label, cold_ns[s], cold_n[s], 0, &c50[s], &c99[s]);
	}
	/* The same crashes split at the crashed process's exit: before it,
	 * the service's own crash handler, which no supervisor shortens;
	 * after it, the supervisor's part, which the cold start bounds. */
	for (int s = 0; s < N_SVC; s++)
		lymph_split(&ins[s * N_SUP + LYMPH]);
	split_rows(ins, "crash -> its exit", 0, e50, e99);
	split_rows(ins, "its exit -> serving", 1, b50, b99);
	for (int s = 0; s < N_SVC; s++) {
		char name[160], val[240];
		int ahead = p50[s][LYMPH] < p50[s][S6] && p99[s][LYMPH] < p99[s][S6];
		int near = b99[s][LYMPH] <= 1.2 * c99[s];

		printf("%s: lymph/s6 p50 %.2f p99 %.2f; lymph/supervisord p50 %.2f p99 %.2f; "
		       "lymph p99 / cold start p99 %.2f\n", svc_name[s],
		       p50[s][LYMPH] / p50[s][S6], p99[s][LYMPH] / p99[s][S6],
		       p50[s][LYMPH] / p50[s][SUPERVISORD], p99[s][LYMPH] / p99[s][SUPERVISORD],
		       p99[s][LYMPH] / c99[s]);
		printf("target %s: ahead of s6 at p50 and p99: %s; from the crashed process's exit, "
		       "within 1.2x of the cold start at p99: %s (%.2f)\n",
		       svc_name[s], ahead ? "ok" : "MISS", near ? "ok" : "MISS", b99[s][LYMPH] / c99[s]);
		snprintf(name, sizeof(name), "restart %s: crash -> serving, p50 (%d faults each)", svc_name[s], n);
		snprintf(val, sizeof(val), "lymph %.1f ms, s6 %.1f ms, supervisord %.1f ms, cold start %.1f ms",
			 p50[s][LYMPH], p50[s][S6], p50[s][SUPERVISORD], c50[s]);
		bench_figure(name, val, "lymph ahead of s6", ahead ? "ok" : "MISS");
		snprintf(name, sizeof(name), "restart %s: crash -> serving, p99", svc_name[s]);
		snprintf(val, sizeof(val), "lymph %.1f ms, s6 %.1f ms, supervisord %.1f ms, cold start %.1f ms; "
			 "of it the service's own dying (crash -> exit) p50 %.1f ms under lymph",
			 p99[s][LYMPH], p99[s][S6], p99[s][SUPERVISORD], c99[s], e50[s][LYMPH]);
		bench_figure(name, val, "", "-");
		snprintf(name, sizeof(name), "restart %s: its exit -> serving, p99", svc_name[s]);
		snprintf(val, sizeof(val), "lymph %.1f ms, s6 %.1f ms, supervisord %.1f ms, cold start %.1f ms",
			 b99[s][LYMPH], b99[s][S6], b99[s][SUPERVISORD], c99[s]);
		bench_figure(name, val, "lymph <= 1.2x cold start", near ? "ok" : "MISS");
	}
	err = 0;
out:
	stop_all();
	for (i = 0; i < N_SVC * N_SUP; i++) {
		free(ins[i].ns);
		free(ins[i].exit_ns);
		free(ins[i].back_ns);
		free(ins[i].t0_wall);
		free(ins[i].te_wall);
		free(ins[i].t1_wall);
	}
	for (i = 0; i < N_SVC; i++)
		free(cold_ns[i]);
	if (keep || err) {
		printf("# kept %s\n", dir);
	} else {
		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
		run(cmd);
	}
	return err;
}
