// SPDX-License-Identifier: GPL-2.0-only
/* The shared test helpers (helpers.h), built once into $(BUILD)/tests/libth.a. */
#define TH_NO_HARNESS
#include "helpers.h"
#include "clock.h"
#include "smallfile.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

int64_t th_now_ms(void)
{
	return (int64_t)(clock_mono_ns() / NSEC_PER_MSEC);
}

void th_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

const char *th_build_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("LYMPH_BUILD");
	ssize_t n;
	char *slash;
	int i;

	if (env && *env)
		return env;
	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n < 0)
		return strcpy(dir, "build");
	dir[n] = '\0';
	for (i = 0; i < 2; i++) {
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return strcpy(dir, "build");
		*slash = '\0';
	}
	return dir;
}

const char *th_prog(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", th_build_dir(), name);
	return buf;
}

pid_t th_fork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	return pid < 0 ? -errno : pid;
}

int th_become(uid_t uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -errno;
	return 0;
}

int th_mkdtemp(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/tmp/lymph-%s.XXXXXX", tag);
	if (!mkdtemp(buf)) {
		th_diag("failed to create a temporary directory: %s", strerror(errno));
		return -errno;
	}
	chmod(buf, 0755);
	return 0;
}

void th_rmdir_flat(const char *dir)
{
	char cmd[PATH_MAX + 32];

	if (!dir || !dir[0] || strncmp(dir, "/tmp/lymph-", 11))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd))
		th_diag("failed to remove %s", dir);
}

int th_copy_file(const char *src, const char *dst, mode_t mode)
{
	int in, out, err = 0;
	char buf[65536];
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
	if (n < 0)
		err = -errno;
	close(in);
	if (close(out) && !err)
		err = -errno;
	if (!err && chmod(dst, mode))
		err = -errno;
	return err;
}

bool th_is_root(void)
{
	return geteuid() == 0;
}

int th_write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return -EIO;
	}
	if (close(fd))
		return -errno;
	return chmod(path, mode) ? -errno : 0;
}

int th_read_file(const char *path, char *buf, size_t cap)
{
	ssize_t n = small_file_read(path, 0, buf, cap);

	return n < 0 ? (int)n : 0;
}

bool th_json_has(json_object *o, const char *key)
{
	return o && json_object_object_get_ex(o, key, NULL);
}

json_object *th_json_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *th_json_str(json_object *o, const char *key)
{
	json_object *v = th_json_get(o, key);

	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

json_object *th_journal_records(const char *journal, const char *type, const char *action)
{
	json_object *out = json_object_new_array();
	char line[65536];
	FILE *f = fopen(journal, "re");

	while (f && fgets(line, sizeof(line), f)) {
		json_object *o = json_tokener_parse(line);
		const char *t = o ? th_json_str(o, "type") : NULL,
			   *a = o ? th_json_str(o, "action") : NULL;

		if (o && (!type || (t && !strcmp(t, type))) &&
		    (!action || (a && !strcmp(a, action))))
			json_object_array_add(out, o);
		else
			json_object_put(o);
	}
	if (f)
		fclose(f);
	return out;
}

int th_journal_count(const char *journal, const char *type, const char *action)
{
	json_object *r = th_journal_records(journal, type, action);
	int n = (int)json_object_array_length(r);

	json_object_put(r);
	return n;
}

int64_t th_json_int(json_object *o, const char *key)
{
	json_object *v = th_json_get(o, key);

	if (!v ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return INT64_MIN;
	return json_object_get_int64(v);
}

int th_json_bool(json_object *o, const char *key)
{
	json_object *v = th_json_get(o, key);

	if (!v || !json_object_is_type(v, json_type_boolean))
		return -1;
	return json_object_get_boolean(v);
}

const char *th_json_text(json_object *o)
{
	return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(null)";
}

void th_drain_fd(int fd, char *buf, size_t cap, size_t *len, bool *open_)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			*open_ = false;
		return;
	}
	if (*len + 1 < cap) {
		size_t take = (size_t)n;

		if (take > cap - 1 - *len)
			take = cap - 1 - *len;
		memcpy(buf + *len, tmp, take);
		*len += take;
		buf[*len] = '\0';
	}
}

int th_run(char *const argv[], const struct th_cmd_opts *o, struct th_cmd *r)
{
	int outp[2], errp[2];
	size_t olen = 0, elen = 0;
	bool oopen = true, eopen = true;
	int64_t deadline;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (pipe2(outp, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		close(outp[0]);
		close(outp[1]);
		return -errno;
	}
	pid = th_fork();
	if (pid < 0) {
		close(outp[0]);
		close(outp[1]);
		close(errp[0]);
		close(errp[1]);
		return pid;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		if (o && o->as_user && th_become(o->uid)) {
			dprintf(2, "test: failed to become uid %u: %s\n", o->uid, strerror(errno));
			_exit(126);
		}
		if (o && o->env)
			for (char *const *e = o->env; *e; e++)
				putenv(*e);
		execv(argv[0], argv);
		dprintf(2, "test: failed to exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	deadline = th_now_ms() + (o && o->timeout_ms ? o->timeout_ms : 20000);
	while (oopen || eopen) {
		struct pollfd p[2] = {
			{ .fd = oopen ? outp[0] : -1, .events = POLLIN },
			{ .fd = eopen ? errp[0] : -1, .events = POLLIN },
		};
		int64_t left = deadline - th_now_ms();

		if (left <= 0) {
			r->timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			th_drain_fd(outp[0], r->out, sizeof(r->out), &olen, &oopen);
		if (p[1].revents)
			th_drain_fd(errp[0], r->err, sizeof(r->err), &elen, &eopen);
	}
	close(outp[0]);
	close(errp[0]);
	/* stdout closed but the program still runs: give it the rest of the time */
	while (waitpid(pid, &r->status, WNOHANG) == 0) {
		if (th_now_ms() >= deadline) {
			r->timed_out = true;
			kill(pid, SIGKILL);
			waitpid(pid, &r->status, 0);
			break;
		}
		th_sleep_ms(10);
	}
	return 0;
}

int th_count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (*s == '\n' || !s[1])
			n++;
	return n;
}

bool th_exited_nonzero(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0;
}

int th_check_config_refuses(const char *conf, const char *text, const char *const want[])
{
	char prog[PATH_MAX], said[PATH_MAX + 512];
	char *argv[] = { (char *)th_prog("lymphd", prog, sizeof(prog)), "--check-config",
			 (char *)conf, NULL };
	struct th_cmd *r = calloc(1, sizeof(*r));
	int n, err = 0;

	if (!r || th_write_file(conf, text, 0644) || th_run(argv, NULL, r)) {
		free(r);
		return -1;
	}
	if (!th_exited_nonzero(r->status)) {
		th_diag("lymphd --check-config %s did not refuse it (wait status 0x%x)", conf,
			r->status);
		err = -1;
	}
	for (n = 0; want[n]; n++) {
		snprintf(said, sizeof(said), "%s:%s", conf, want[n]);
		if (!strstr(r->err, said)) {
			th_diag("lymphd --check-config did not say '%s'", said);
			err = -1;
		}
	}
	if (th_count_lines(r->err) != n) {
		th_diag("lymphd --check-config said %d lines, not %d", th_count_lines(r->err), n);
		err = -1;
	}
	if (err)
		th_diag("its stderr: %s", r->err);
	free(r);
	return err;
}

void th_lymphd_init(struct th_lymphd *d)
{
	memset(d, 0, sizeof(*d));
	d->pid = -1;
	d->out = -EBADF;
}

void th_lymphd_dump_stderr(const struct th_lymphd *d)
{
	char line[1024];
	FILE *f;

	if (!d->errpath[0] || !(f = fopen(d->errpath, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		th_diag("lymphd stderr: %s", line);
	}
	fclose(f);
}

int th_lymphd_line(struct th_lymphd *d, char *line, size_t cap, int64_t deadline)
{
	for (;;) {
		char *nl = memchr(d->buf, '\n', d->len);
		struct pollfd p = { .fd = d->out, .events = POLLIN };
		int64_t left;
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - d->buf);
			size_t c = l < cap - 1 ? l : cap - 1;

			memcpy(line, d->buf, c);
			line[c] = '\0';
			d->len -= l + 1;
			memmove(d->buf, nl + 1, d->len);
			return 1;
		}
		if (d->len == sizeof(d->buf)) {
			/* a line longer than the buffer: drop what we have */
			th_diag("lymphd line longer than %zu bytes dropped", sizeof(d->buf));
			d->len = 0;
		}
		if (d->eof)
			return -EPIPE;
		left = deadline - th_now_ms();
		if (left <= 0)
			return 0;
		if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!p.revents)
			continue;
		n = read(d->out, d->buf + d->len, sizeof(d->buf) - d->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			d->eof = true;
		else
			d->len += (size_t)n;
	}
}

json_object *th_lymphd_next(struct th_lymphd *d, int64_t deadline)
{
	static char line[1 << 16];

	for (;;) {
		json_object *o;
		int r = th_lymphd_line(d, line, sizeof(line), deadline);

		if (r <= 0)
			return NULL;
		o = json_tokener_parse(line);
		if (o && json_object_is_type(o, json_type_object))
			return o;
		json_object_put(o);
		th_diag("lymphd printed a line that is not a JSON object: %.200s", line);
	}
}

json_object *th_lymphd_wait(struct th_lymphd *d, th_pred_fn pred, const void *arg, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	json_object *o;

	while ((o = th_lymphd_next(d, deadline))) {
		if (pred(o, arg))
			return o;
		json_object_put(o);
	}
	return NULL;
}

bool th_is_event(json_object *o, const char *ev)
{
	const char *e = th_json_str(o, "event");

	return e && !strcmp(e, ev);
}

bool th_pred_death_of(json_object *o, const void *arg)
{
	return th_is_event(o, "death") && th_json_int(o, "pid") == *(const pid_t *)arg;
}

bool th_pred_start(json_object *o, const void *arg)
{
	(void)arg;
	return th_is_event(o, "start");
}

int th_lymphd_stop(struct th_lymphd *d)
{
	int status = -1;
	int64_t deadline;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		deadline = th_now_ms() + 5000;
		while (waitpid(d->pid, &status, WNOHANG) == 0) {
			if (th_now_ms() > deadline) {
				th_diag("lymphd did not exit within 5 s of SIGTERM; killing it");
				kill(d->pid, SIGKILL);
				waitpid(d->pid, &status, 0);
				break;
			}
			th_sleep_ms(10);
		}
		d->pid = -1;
	}
	if (d->out >= 0)
		close(d->out);
	d->out = -EBADF;
	json_object_put(d->start);
	d->start = NULL;
	return status;
}

void th_lymphd_destroy(struct th_lymphd *d)
{
	int status = th_lymphd_stop(d);

	if (status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)) {
		th_diag("lymphd ended badly (wait status 0x%x)", status);
		th_lymphd_dump_stderr(d);
	}
	th_rmdir_flat(d->dir);
	d->dir[0] = '\0';
}

int th_lymphd_dir(struct th_lymphd *d)
{
	int err;

	th_lymphd_init(d);
	err = th_mkdtemp(d->dir, sizeof(d->dir), "lymphd");
	if (err)
		return err;
	snprintf(d->sock, sizeof(d->sock), "%s/lymphd.sock", d->dir);
	snprintf(d->errpath, sizeof(d->errpath), "%s/lymphd.stderr", d->dir);
	return 0;
}

int th_lymphd_start(struct th_lymphd *d, const char *const args[], int timeout_ms)
{
	char prog[PATH_MAX], sockopt[PATH_MAX + 16];
	const char *argv[32];
	int outp[2], n = 0, err;
	bool quiet = false;
	int64_t deadline;

	err = th_lymphd_dir(d);
	if (err)
		return err;
	snprintf(sockopt, sizeof(sockopt), "--socket=%s", d->sock);
	argv[n++] = th_prog("lymphd", prog, sizeof(prog));
	argv[n++] = "--json";
	argv[n++] = sockopt;
	for (; args && *args && n < 31; args++) {
		if (!strcmp(*args, "--quiet"))
			quiet = true;
		argv[n++] = *args;
	}
	argv[n] = NULL;
	if (access(prog, X_OK)) {
		th_diag("%s is missing: build it with make", prog);
		return -ENOENT;
	}
	if (pipe2(outp, O_CLOEXEC))
		return -errno;
	/* lymphd prints every exec and fork on the host: give it room */
	fcntl(outp[0], F_SETPIPE_SZ, 1 << 20);
	d->pid = th_fork();
	if (d->pid < 0) {
		err = d->pid;
		d->pid = -1;
		close(outp[0]);
		close(outp[1]);
		return err;
	}
	if (d->pid == 0) {
		int e = open(d->errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(outp[1], 1);
		if (e >= 0)
			dup2(e, 2);
		/* lymphd must die with the test, whatever happens to the test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "failed to exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(outp[1]);
	d->out = outp[0];

	deadline = th_now_ms() + timeout_ms;
	while (th_now_ms() < deadline) {
		int64_t step = th_now_ms() + (quiet ? 200 : 1000);
		json_object *o;
		int status;

		o = th_lymphd_next(d, step < deadline ? step : deadline);
		if (o && th_pred_start(o, NULL)) {
			d->start = o;
			return 0;
		}
		json_object_put(o);
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			th_diag("lymphd exited before its start line (wait status 0x%x)", status);
			d->pid = -1;
			th_lymphd_dump_stderr(d);
			return -ECHILD;
		}
		if (quiet && !access(d->sock, F_OK)) {
			struct th_cmd r;

			if (!th_lymphctl(d, &r, NULL, "status", "--json", NULL) && r.status == 0)
				return 0;
		}
	}
	th_diag("lymphd printed no start line within %d ms", timeout_ms);
	th_lymphd_dump_stderr(d);
	return -ETIMEDOUT;
}

int th_lymphctl(const struct th_lymphd *d, struct th_cmd *r, const struct th_cmd_opts *o, ...)
{
	char prog[PATH_MAX], sockopt[PATH_MAX + 16];
	char *argv[32];
	const char *a;
	va_list ap;
	int n = 0;

	argv[n++] = (char *)th_prog("lymphctl", prog, sizeof(prog));
	if (d) {
		snprintf(sockopt, sizeof(sockopt), "--socket=%s", d->sock);
		argv[n++] = sockopt;
	}
	va_start(ap, o);
	while ((a = va_arg(ap, const char *)) && n < 31)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return th_run(argv, o, r);
}

json_object *th_status(const struct th_lymphd *d)
{
	static struct th_cmd r;
	json_object *o;

	if (th_lymphctl(d, &r, NULL, "status", "--json", NULL) || r.status != 0) {
		th_diag("lymphctl status --json failed (wait status 0x%x): %s", r.status, r.err);
		return NULL;
	}
	o = json_tokener_parse(r.out);
	if (!o || !json_object_is_type(o, json_type_object)) {
		th_diag("lymphctl status --json printed no JSON object: %.300s", r.out);
		json_object_put(o);
		return NULL;
	}
	return o;
}

bool th_port_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && !connect(fd, (void *)&sa, sizeof(sa));

	if (fd >= 0)
		close(fd);
	return ok;
}

pid_t th_nats_node(const char *dir, const char *name, int i, int n, int base)
{
	char conf[PATH_MAX], log[PATH_MAX];
	pid_t pid;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/n%d.conf", dir, i);
	snprintf(log, sizeof(log), "%s/n%d.log", dir, i);
	f = fopen(conf, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"server_name: n%d\nlisten: 127.0.0.1:%d\n"
		"jetstream { store_dir: \"%s/d%d\", max_memory_store: 64MB, max_file_store: 1GB }\n"
		"cluster { name: %s, listen: 127.0.0.1:%d, routes: [",
		i, base + i, dir, i, name, base + 10 + i);
	for (int j = 0; j < n; j++)
		fprintf(f, "%snats-route://127.0.0.1:%d", j ? ", " : "", base + 10 + j);
	fprintf(f, "] }\n");
	fclose(f);
	pid = th_fork();
	if (pid < 0)
		return pid;
	if (!pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/sbin/nats-server", "nats-server", "-c", conf, (char *)NULL);
		_exit(127);
	}
	return pid;
}

bool th_nats_ready(const char *dir, const pid_t *pids, int n, int base, int64_t deadline)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "grep -qs 'metadata leader' %s/n*.log", dir);
	while (th_now_ms() < deadline) {
		bool all = true;

		for (int i = 0; i < n; i++)
			if (pids[i] > 0 && !th_port_open(base + i))
				all = false;
		if (all && !system(cmd))
			return true;
		th_sleep_ms(200);
	}
	return false;
}

void th_crash_prepare(void)
{
	struct rlimit rl = { 0, 0 };
	sigset_t all;
	int s;

	setrlimit(RLIMIT_CORE, &rl);
	for (s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

__attribute__((noreturn)) void th_crash_now(enum th_crash how, const char *busfile)
{
	volatile int zero = 0, num = 42;
	volatile int *volatile null = NULL;

	th_crash_prepare();
	switch (how) {
	case TH_SEGV: *null = 1; break;
	case TH_BUS: {
		/* an empty file mapped for one page: the page is past EOF */
		int fd = busfile ? open(busfile, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
		volatile char *p;

		if (fd < 0 || ftruncate(fd, 0))
			_exit(120);
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(121);
		p[0] = 1;
		break;
	}
	case TH_ABRT: abort();
	case TH_ILL: __asm__ volatile("ud2"); break;
	case TH_FPE: num = num / zero; break;
	case TH_SYS: {
		/* kill the process on getppid(), allow every other syscall */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    th_seccomp_one(__NR_getppid, SECCOMP_RET_KILL_PROCESS))
			_exit(122);
		syscall(__NR_getppid);
		break;
	}
	}
	_exit(100); /* survived: the caller sees exit status 100 */
}

pid_t th_crash_child(enum th_crash how, const char *busfile, int *status)
{
	pid_t pid;

	pid = th_fork();
	if (pid < 0)
		return pid;
	if (pid == 0)
		th_crash_now(how, busfile);
	if (waitpid(pid, status, 0) != pid)
		return -errno;
	return pid;
}

static int *volatile th_null_ptr;

static void __attribute__((noinline)) th_crash_site_a(void)
{
	*th_null_ptr = 1;
}

static void __attribute__((noinline)) th_crash_site_b(void)
{
	__asm__ volatile("" ::: "memory");
	*th_null_ptr = 2;
	__asm__ volatile("" ::: "memory");
}

/* A child that crashes at site with RLIMIT_CORE at limit; its wait status. */
static pid_t crash_with_core_limit(const char *dir, int site, rlim_t limit, int *status)
{
	pid_t pid = th_fork();

	if (pid == 0) {
		struct rlimit rl = { limit, limit };

		if ((dir && chdir(dir)) || setrlimit(RLIMIT_CORE, &rl))
			_exit(1);
		prctl(PR_SET_DUMPABLE, 1);
		signal(SIGSEGV, SIG_DFL);
		if (site)
			th_crash_site_b();
		else
			th_crash_site_a();
		_exit(2);
	}
	*status = 0;
	if (pid < 0 || waitpid(pid, status, 0) != pid || !WIFSIGNALED(*status))
		return -1;
	return pid;
}

pid_t th_dump_core(const char *dir, int site)
{
	int status;
	pid_t pid = crash_with_core_limit(dir, site, RLIM_INFINITY, &status);

	if (pid < 0 || !WCOREDUMP(status)) {
		th_diag("no core dumped (wait status 0x%x)", status);
		return -1;
	}
	return pid;
}

pid_t th_crash_wanting_no_core(int site)
{
	int status;
	pid_t pid = crash_with_core_limit(NULL, site, 0, &status);

	if (pid < 0)
		th_diag("the child did not die of its crash (wait status 0x%x)", status);
	return pid;
}

uint64_t th_rnd(void)
{
	static uint64_t state = 0x9e3779b97f4a7c15ULL;

	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

int th_seccomp_one(int nr, uint32_t ret)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) ? -errno : 0;
}

int th_process_map_fd(pid_t pid, const char *name, struct bpf_map_info *info)
{
	char dir[64], path[320], line[128];
	struct dirent *e;
	int found = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (found < 0 && (e = readdir(d))) {
		unsigned int id = 0;
		__u32 len = sizeof(*info);
		FILE *f;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "map_id: %u", &id) == 1)
				break;
		fclose(f);
		fd = id ? bpf_map_get_fd_by_id(id) : -1;
		if (fd < 0)
			continue;
		memset(info, 0, sizeof(*info));
		if (!bpf_obj_get_info_by_fd(fd, info, &len) && !strcmp(info->name, name))
			found = fd;
		else
			close(fd);
	}
	closedir(d);
	return found;
}
