/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the supervision tests (service_test.c, daemons_test.c):
 * lymphctl services and journal as JSON, processes in /proc, files.
 * Include after helpers.h and kselftest_harness.h.
 */
#ifndef LYMPH_SVC_HELPERS_H
#define LYMPH_SVC_HELPERS_H

#include <dirent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/user.h>

/* A port nobody listens on now (the kernel's pick). */
static inline int free_port(void)
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

/* ---- lymphctl ----------------------------------------------------------- */

/* `lymphctl services --json`: the entry of service name (a new reference),
 * or NULL. */
static inline json_object *service_json(const struct th_lymphd *d, const char *name)
{
	static struct th_cmd r;
	json_object *root, *arr, *found = NULL;

	if (th_lymphctl(d, &r, NULL, "services", "--json", NULL) || r.status != 0) {
		th_diag("lymphctl services --json failed (0x%x): %s", r.status, r.err);
		return NULL;
	}
	root = json_tokener_parse(r.out);
	if (!root || !json_object_object_get_ex(root, "services", &arr)) {
		th_diag("lymphctl services --json: no services array: %.300s", r.out);
		json_object_put(root);
		return NULL;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		const char *n = th_json_str(s, "name");

		if (n && !strcmp(n, name))
			found = json_object_get(s);
	}
	json_object_put(root);
	return found;
}

static inline double json_dbl(json_object *o, const char *key)
{
	json_object *v = th_json_get(o, key);

	return v ? json_object_get_double(v) : -1.0;
}

/* Poll services until name is in state (NULL: any) with at least min_failures;
 * the entry, or NULL after timeout (with the last one logged). */
static inline json_object *wait_service(const struct th_lymphd *d, const char *name, const char *state,
				 int64_t min_failures, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	json_object *s = NULL;

	do {
		json_object_put(s);
		s = service_json(d, name);
		if (s && (!state || !strcmp(th_json_str(s, "state") ?: "", state)) &&
		    th_json_int(s, "failures") >= min_failures)
			return s;
		th_sleep_ms(30);
	} while (th_now_ms() < deadline);
	th_diag("service %s never reached state %s with failures >= %lld; last: %s", name,
		state ? state : "*", (long long)min_failures, s ? th_json_text(s) : "(none)");
	json_object_put(s);
	return NULL;
}

/* ---- the journal -------------------------------------------------------- */

/* Records of service name with action (NULL: any) in the journal, as a new
 * JSON array (caller puts it). */
static inline json_object *journal_records(const char *journal, const char *name, const char *action)
{
	static struct th_cmd r;
	char prog[PATH_MAX], opt[PATH_MAX + 16];
	char *argv[] = { (char *)th_prog("lymphctl", prog, sizeof(prog)), "journal", opt, "--json", NULL };
	json_object *out = json_object_new_array();
	char *line, *save = NULL;

	snprintf(opt, sizeof(opt), "--journal=%s", journal);
	if (th_run(argv, NULL, &r) || r.status != 0) {
		th_diag("lymphctl journal failed (0x%x): %s", r.status, r.err);
		return out;
	}
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);
		const char *t = o ? th_json_str(o, "type") : NULL, *sv, *a;

		sv = o ? th_json_str(o, "service") : NULL;
		a = o ? th_json_str(o, "action") : NULL;
		if (t && !strcmp(t, "service") && sv && !strcmp(sv, name) && (!action || (a && !strcmp(a, action))))
			json_object_array_add(out, o);
		else
			json_object_put(o);
	}
	return out;
}

static inline size_t journal_count(const char *journal, const char *name, const char *action)
{
	json_object *a = journal_records(journal, name, action);
	size_t n = json_object_array_length(a);

	json_object_put(a);
	return n;
}

/* ---- processes ---------------------------------------------------------- */

/* Pids running exe (zombies excluded), up to max. */
static inline int pids_of(const char *exe, pid_t *pids, int max)
{
	struct dirent *de;
	DIR *dir = opendir("/proc");
	int n = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		char p[64], target[PATH_MAX];
		ssize_t len;
		long pid = strtol(de->d_name, NULL, 10);

		if (pid <= 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/exe", pid);
		len = readlink(p, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = 0;
		if (!strcmp(target, exe) && n < max)
			pids[n++] = (pid_t)pid;
	}
	closedir(dir);
	return n;
}

/* A "Key:\tvalue" line of /proc/PID/status. */
static inline int proc_status(pid_t pid, const char *key, char *val, size_t cap)
{
	char p[64], line[256];
	size_t klen = strlen(key);
	FILE *f;
	int found = -1;

	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	f = fopen(p, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			char *v = line + klen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(val, cap, "%s", v);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static inline pid_t session_of(pid_t pid)
{
	char p[64], buf[1024], *rp;
	int sid = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	f = fopen(p, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (rp = strrchr(buf, ')')))
		sscanf(rp + 2, "%*c %*d %*d %d", &sid);	/* state ppid pgrp session */
	fclose(f);
	return sid;
}

static inline int read_whole(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static inline int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return chmod(path, mode) ? -errno : 0;
}


/* ---- real daemons ------------------------------------------------------- */

/* Does /proc/PID/cmdline (NULs as blanks) contain needle? */
static inline bool cmdline_has(pid_t pid, const char *needle)
{
	char p[64], buf[4096];
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/cmdline", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

/* Is pid's working directory under dir (redis chdirs to its --dir and
 * rewrites its command line)? */
static inline bool cwd_under(pid_t pid, const char *dir)
{
	char p[64], target[PATH_MAX];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/cwd", pid);
	n = readlink(p, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = 0;
	return !strncmp(target, dir, strlen(dir));
}

/*
 * SIGKILL every process running exe whose command line (or working
 * directory) holds needle, and
 * every process of their sessions (lymphd starts each service in its own:
 * the workers an nginx master forked, whatever their command line says).
 * Returns how many were signalled.
 */
static inline int kill_sessions_of(const char *exe, const char *needle)
{
	pid_t pids[256], sids[256];
	int n = pids_of(exe, pids, 256), ns = 0, killed = 0;
	struct dirent *de;
	DIR *dir;

	for (int i = 0; i < n; i++)
		if ((cmdline_has(pids[i], needle) || cwd_under(pids[i], needle)) && ns < 256)
			sids[ns++] = session_of(pids[i]);
	for (int i = 0; i < n; i++)
		if ((cmdline_has(pids[i], needle) || cwd_under(pids[i], needle)) && !kill(pids[i], SIGKILL))
			killed++;
	dir = opendir("/proc");
	while (dir && (de = readdir(dir))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10), sid;

		if (pid <= 1 || pid == getpid())
			continue;
		sid = session_of(pid);
		for (int i = 0; i < ns; i++)
			if (sid > 1 && sid == sids[i] && sid != session_of(getpid()) && !kill(pid, SIGKILL))
				killed++;
	}
	if (dir)
		closedir(dir);
	return killed;
}

/* GET path from 127.0.0.1:port over HTTP/1.0: the status code (body into
 * buf), or -1. */
static inline int http_get(int port, const char *path, char *buf, size_t cap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 2, 0 };
	char req[512], resp[8192];
	size_t len = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), code = -1;
	char *body;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = recv(fd, resp + len, sizeof(resp) - 1 - len, 0);

		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(resp) - 1)
			break;
	}
	close(fd);
	resp[len] = 0;
	if (sscanf(resp, "HTTP/1.%*d %d", &code) != 1)
		return -1;
	body = strstr(resp, "\r\n\r\n");
	snprintf(buf, cap, "%s", body ? body + 4 : "");
	return code;
}

/* Wait until file path contains needle; 0, or -1 after timeout_ms. */
static inline int wait_file_has(const char *path, const char *needle, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	static char buf[65536];

	do {
		if (!read_whole(path, buf, sizeof(buf)) && strstr(buf, needle))
			return 0;
		th_sleep_ms(30);
	} while (th_now_ms() < deadline);
	return -1;
}

/* A Cap* field of /proc/PID/status as a number, or -1. */
static inline long long cap_of(pid_t pid, const char *key)
{
	char val[64];

	if (proc_status(pid, key, val, sizeof(val)))
		return -1;
	return strtoll(val, NULL, 16);
}

/*
 * A real fault in pid, as a debugger makes one: attach, set the program
 * counter to 0, detach.  The process faults at address 0 (SIGSEGV,
 * SEGV_MAPERR, raised by the kernel) whatever signal handlers it has.
 * 0 or -errno.
 */
static inline int crash_by_pc0(pid_t pid)
{
	struct user_regs_struct regs;
	int status, err = 0;

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL))
		return -errno;
	if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status))
		err = -ECHILD;
	if (!err && ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		err = -errno;
	if (!err) {
		regs.rip = 0;
		if (ptrace(PTRACE_SETREGS, pid, NULL, &regs))
			err = -errno;
	}
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return err;
}

/* PPid of pid, or -1. */
static inline pid_t proc_parent_of(pid_t pid)
{
	char val[32];

	return proc_status(pid, "PPid", val, sizeof(val)) ? -1 : (pid_t)atoi(val);
}

/* The children of pid (from /proc/PID/task/PID/children), up to max. */
static inline int children_of(pid_t pid, pid_t *out, int max)
{
	char p[96], buf[4096], *tok, *save = NULL;
	int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/task/%d/children", pid, pid);
	if (read_whole(p, buf, sizeof(buf)))
		return 0;
	for (tok = strtok_r(buf, " \n", &save); tok && n < max; tok = strtok_r(NULL, " \n", &save))
		out[n++] = (pid_t)atoi(tok);
	return n;
}

#endif
