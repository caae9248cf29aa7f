// SPDX-License-Identifier: GPL-2.0-only
/* The supervision tests' helpers (svc_helpers.h), built once into libth.a. */
#define TH_NO_HARNESS
#include "helpers.h"
#include "svc_helpers.h"
#include "procfs.h"

int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int svc_build_prog(const char *name, const char *out)
{
	static struct th_cmd r;
	char src[PATH_MAX], cc[] = "/usr/bin/cc";
	char *argv[] = { cc, "-O2", "-o", (char *)out, src, NULL };

	snprintf(src, sizeof(src), "%s/../tests/%s.c", th_build_dir(), name);
	if (access(src, R_OK))
		snprintf(src, sizeof(src), "tests/%s.c", name);
	if (access(src, R_OK)) {
		th_diag("cannot find tests/%s.c (run from the top of the tree)", name);
		return -ENOENT;
	}
	if (th_run(argv, NULL, &r) || r.status != 0) {
		th_diag("cc %s failed (0x%x): %s", src, r.status, r.err);
		return -EIO;
	}
	return 0;
}

int svc_lymphd_start(struct th_lymphd *d, const char *conf, const char *journal,
		     const char *extra_arg, int timeout_ms)
{
	char jopt[PATH_MAX + 16];
	const char *args[] = { "-c", conf, jopt, "--quiet", extra_arg, NULL };

	snprintf(jopt, sizeof(jopt), "--journal=%s", journal);
	return th_lymphd_start(d, args, timeout_ms);
}

void svc_kill_exe(const char *exe)
{
	pid_t pids[64];
	int n = pids_of(exe, pids, 64);

	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
}

void svc_rmdir(const char *dir)
{
	if (getenv("LYMPH_KEEP"))
		th_diag("kept %s", dir);
	else
		th_rmdir_flat(dir);
}

json_object *service_json(const struct th_lymphd *d, const char *name)
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

double json_dbl(json_object *o, const char *key)
{
	json_object *v = th_json_get(o, key);

	return v ? json_object_get_double(v) : -1.0;
}

json_object *wait_service(const struct th_lymphd *d, const char *name, const char *state,
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

json_object *journal_records(const char *journal, const char *name, const char *action)
{
	static struct th_cmd r;
	char prog[PATH_MAX], opt[PATH_MAX + 16];
	char *argv[] = { (char *)th_prog("lymphctl", prog, sizeof(prog)), "journal", opt, "--json",
			 NULL };
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
		if (t && !strcmp(t, "service") && sv && !strcmp(sv, name) &&
		    (!action || (a && !strcmp(a, action))))
			json_object_array_add(out, o);
		else
			json_object_put(o);
	}
	return out;
}

size_t journal_count(const char *journal, const char *name, const char *action)
{
	json_object *a = journal_records(journal, name, action);
	size_t n = json_object_array_length(a);

	json_object_put(a);
	return n;
}

int pids_of(const char *exe, pid_t *pids, int max)
{
	struct proc_iter it;
	char real[PATH_MAX];
	int n = 0;
	long pid;

	/* /proc/PID/exe names the file run, links resolved: Debian's
	 * /usr/bin/redis-server is a link to redis-check-rdb, and compared as
	 * given no redis was ever found (one was left running after every
	 * daemons_test). */
	if (realpath(exe, real))
		exe = real;
	if (proc_iter_open(&it, "/proc"))
		return 0;
	while ((pid = proc_iter_next(&it)) >= 0) {
		char p[64], target[PATH_MAX];
		ssize_t len;

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
	proc_iter_close(&it);
	return n;
}

pid_t session_of(pid_t pid)
{
	struct proc_stat st;

	return proc_stat_read(pid, &st) ? -1 : st.sid;
}

bool cmdline_has(pid_t pid, const char *needle)
{
	char p[64], buf[4096];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/cmdline", pid);
	n = small_file_read(p, 0, buf, sizeof(buf));
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	return strstr(buf, needle) != NULL;
}

bool cwd_under(pid_t pid, const char *dir)
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

int kill_sessions_of(const char *exe, const char *needle)
{
	pid_t pids[256], sids[256];
	int n = pids_of(exe, pids, 256), ns = 0, killed = 0;
	struct proc_iter it;
	long v;

	for (int i = 0; i < n; i++)
		if ((cmdline_has(pids[i], needle) || cwd_under(pids[i], needle)) && ns < 256)
			sids[ns++] = session_of(pids[i]);
	for (int i = 0; i < n; i++)
		if ((cmdline_has(pids[i], needle) || cwd_under(pids[i], needle)) &&
		    !kill(pids[i], SIGKILL))
			killed++;
	if (proc_iter_open(&it, "/proc"))
		return killed;
	while ((v = proc_iter_next(&it)) >= 0) {
		pid_t pid = (pid_t)v, sid;

		if (pid <= 1 || pid == getpid())
			continue;
		sid = session_of(pid);
		for (int i = 0; i < ns; i++)
			if (sid > 1 && sid == sids[i] && sid != session_of(getpid()) &&
			    !kill(pid, SIGKILL))
				killed++;
	}
	proc_iter_close(&it);
	return killed;
}

int http_get(int port, const char *path, char *buf, size_t cap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
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

int wait_file_has(const char *path, const char *needle, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	static char buf[65536];

	do {
		if (!th_read_file(path, buf, sizeof(buf)) && strstr(buf, needle))
			return 0;
		th_sleep_ms(30);
	} while (th_now_ms() < deadline);
	return -1;
}

long long cap_of(pid_t pid, const char *key)
{
	char val[64];

	if (proc_status_field(pid, key, val, sizeof(val)))
		return -1;
	return strtoll(val, NULL, 16);
}

int crash_by_pc0(pid_t pid)
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

int children_of(pid_t pid, pid_t *out, int max)
{
	char p[96], buf[4096], *tok, *save = NULL;
	int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/task/%d/children", pid, pid);
	if (th_read_file(p, buf, sizeof(buf)))
		return 0;
	for (tok = strtok_r(buf, " \n", &save); tok && n < max; tok = strtok_r(NULL, " \n", &save))
		out[n++] = (pid_t)atoi(tok);
	return n;
}
