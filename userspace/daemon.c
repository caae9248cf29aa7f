// SPDX-License-Identifier: GPL-2.0-only
/*
 * lymphd's event loop: one epoll over the source's ring (or netlink
 * socket), a signalfd, a timer and the control socket.  Each record goes
 * sources -> classify -> score (per-binary decaying counts) -> output.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include "classify.h"
#include "daemon.h"
#include "format.h"

/* Bulk records wait at most this long in the ring (ms). */
#define DRAIN_PERIOD_MS 100

uint64_t mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *exe_of(struct daemon *d, const struct lymph_task *t)
{
	return binpath_lookup(&d->names, t->exe_dev, t->exe_ino);
}

static void print_record(struct daemon *d, const struct lymph_hdr *rec, const char *exe,
			 const struct verdict *vd)
{
	if (d->opts.json) {
		struct json_object *o = format_json(rec, exe, vd);

		if (o) {
			fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), d->out);
			fputc('\n', d->out);
			json_object_put(o);
		}
	} else {
		char line[1024];
		int64_t wall = (int64_t)rec->ts_ns + d->wall_offset_ns;
		time_t secs = (time_t)(wall / 1000000000);
		struct tm tm;

		format_text(line, sizeof(line), rec, exe, vd);
		localtime_r(&secs, &tm);
		fprintf(d->out, "%02d:%02d:%02d.%03d %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
			(int)((wall / 1000000) % 1000), line);
	}
}

int daemon_handle_record(void *ctx, const struct lymph_hdr *rec)
{
	struct daemon *d = ctx;
	struct verdict vd, *vdp = NULL;
	const char *exe = NULL;

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

		vd = classify_death(dd);
		vdp = &vd;
		exe = exe_of(d, &dd->task);
		if (vd.klass == CLASS_DANGER) {
			d->count.danger++;
			crashtab_record(&d->crashes, dd->task.exe_dev, dd->task.exe_ino,
					rec->ts_ns, dd->signo, dd->task.uid, dd->task.comm);
		} else {
			d->count.programmed++;
		}
		break;
	}
	case LYMPH_EV_SIGNAL:
		exe = exe_of(d, &((const struct lymph_signal *)rec)->task);
		break;
	case LYMPH_EV_FORK:
		exe = exe_of(d, &((const struct lymph_fork *)rec)->task);
		break;
	case LYMPH_EV_OOM:
		exe = exe_of(d, &((const struct lymph_oom *)rec)->task);
		break;
	}
	if (!d->opts.quiet)
		print_record(d, rec, exe, vdp);
	return 0;
}

static int open_source(struct daemon *d)
{
	int err;

	switch (d->opts.source) {
	case SOURCE_BPF:
		return source_bpf_open(&d->src, &d->opts.src, daemon_handle_record, d, 1 + d->opts.verbose);
	case SOURCE_PROC:
		return source_proc_open(&d->src, &d->opts.src, daemon_handle_record, d, 1 + d->opts.verbose);
	case SOURCE_AUTO:
		break;
	}
	/* Best first: BPF; the proc connector only when BPF cannot load. */
	err = source_bpf_open(&d->src, &d->opts.src, daemon_handle_record, d, d->opts.verbose);
	if (!err)
		return 0;
	fprintf(stderr, "lymphd: BPF sensors unavailable (%s); falling back to the proc connector\n",
		strerror(-err));
	return source_proc_open(&d->src, &d->opts.src, daemon_handle_record, d, 1 + d->opts.verbose);
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void announce(struct daemon *d)
{
	const char *mode = "observe";

	if (d->opts.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "event", json_object_new_string("start"));
		json_object_object_add(o, "version", json_object_new_string(LYMPH_VERSION));
		json_object_object_add(o, "pid", json_object_new_int64(getpid()));
		json_object_object_add(o, "source", json_object_new_string(d->src.name));
		json_object_object_add(o, "missing", d->src.missing ?
				       json_object_new_string(d->src.missing) : NULL);
		json_object_object_add(o, "mode", json_object_new_string(mode));
		fprintf(d->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		fflush(d->out);
	}
	fprintf(stderr, "lymphd %s: source %s, %s mode, control socket %s\n", LYMPH_VERSION,
		d->src.name, mode, d->opts.socket_path);
	if (d->src.missing)
		fprintf(stderr, "lymphd: the %s source cannot see: %s\n", d->src.name, d->src.missing);
}

int daemon_init(struct daemon *d, const struct daemon_opts *opts)
{
	struct itimerspec period = {
		.it_interval = { 0, DRAIN_PERIOD_MS * 1000000L },
		.it_value = { 0, DRAIN_PERIOD_MS * 1000000L },
	};
	struct timespec rt;
	sigset_t mask;
	int err;

	memset(d, 0, sizeof(*d));
	d->opts = *opts;
	d->epfd = d->sigfd = d->timerfd = d->ctlfd = -EBADF;
	d->src.fd = -EBADF;
	d->out = stdout;
	d->start_ns = mono_now_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	d->wall_offset_ns = ((int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec) - (int64_t)d->start_ns;

	err = crashtab_init(&d->crashes, opts->crashtab_max, opts->half_life_ns);
	if (!err)
		err = binpath_init(&d->names, 16384);
	if (err) {
		fprintf(stderr, "lymphd: failed to allocate tables: %s\n", strerror(-err));
		return err;
	}
	binpath_scan_proc(&d->names, "/proc");

	/* Signals arrive through the loop, never asynchronously. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a lymphctl that hangs up is not fatal */
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0) {
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

	d->ctlfd = control_open(opts->socket_path);
	if (d->ctlfd < 0)
		return d->ctlfd;

	if ((err = epoll_add(d->epfd, d->src.fd)) || (err = epoll_add(d->epfd, d->sigfd)) ||
	    (err = epoll_add(d->epfd, d->timerfd)) || (err = epoll_add(d->epfd, d->ctlfd))) {
		fprintf(stderr, "lymphd: failed to watch file descriptors: %s\n", strerror(-err));
		return err;
	}
	announce(d);
	return 0;
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;	/* reload: nothing to reload until the policy file lands */
		d->stop = 1;
	}
}

static int on_timer(struct daemon *d)
{
	uint64_t ticks;
	int err;

	if (read(d->timerfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return -errno;
	err = source_drain(&d->src);
	if (!err)
		err = source_check_drops(&d->src);
	return err;
}

int daemon_run(struct daemon *d)
{
	struct epoll_event evs[8];
	int err = 0;

	while (!d->stop) {
		int i, n = epoll_wait(d->epfd, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			fprintf(stderr, "lymphd: epoll_wait failed: %s\n", strerror(-err));
			break;
		}
		for (i = 0; i < n && !err; i++) {
			int fd = evs[i].data.fd;

			if (fd == d->src.fd)
				err = source_drain(&d->src);
			else if (fd == d->timerfd)
				err = on_timer(d);
			else if (fd == d->sigfd)
				on_signal(d);
			else if (fd == d->ctlfd)
				control_accept(d);
		}
		if (err) {
			fprintf(stderr, "lymphd: failed to read events from the %s source: %s\n",
				d->src.name, strerror(-err));
			break;
		}
		fflush(d->out);
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
	source_close(&d->src);
	control_close(d->ctlfd, d->opts.socket_path);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->timerfd >= 0)
		close(d->timerfd);
	crashtab_free(&d->crashes);
	binpath_free(&d->names);
}
