// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which deaths wake a reader of /dev/lymph, run as root inside the test VM
 * (tests/vm/run.sh).  A reader that gives the module its calm set
 * (LYMPH_IOC_WAKE_SET, lymph/dev.h) is woken at once only for the deaths
 * lymph_death_wake() (lymph/danger.h, the BPF sensors' rule too) calls
 * urgent; the others are batched: poll() stays quiet until the batch is
 * due (batch_ms after the oldest record, the ring half full or a loss),
 * and nothing is lost.  Then lymphd --source=kmod, with its drain timer and
 * the module's batches both ten minutes: a crash towards a quarantine, the
 * crash at the threshold and a supervised service's crash are acted on
 * long before either (the wakeup, the pidfd), a calm crash waits for the
 * batch and is reported when lymphd stops.
 *
 * No assertion times anything: "quiet" is poll() with a zero timeout right
 * after the death (the record is queued before wait() returns), "at once"
 * is far below a ten-minute batch.  Built statically (busybox userland).
 * The module is loaded from $LYMPH_KO (default /lib/modules/lymph.ko);
 * lymphd comes from the build directory on the kernel command line
 * (lymph.build=, as the shell tests find it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lymph/events.h"
#include "lymph/danger.h"
#include "lymph/dev.h"
#include "kmod.h"

#define NOBODY		65534
#define LONG_BATCH_MS	600000	/* ten minutes: anything sooner was a wakeup */
#define PROMPT_MS	30000	/* "at once", far below LONG_BATCH_MS (TCG is slow) */
#define WORK		"/tmp/kmod-wake"
#define PARAM_BATCH	"/sys/module/lymph/parameters/wake_batch_ms"

/* Where a crasher faults; volatile so the compiler cannot see it. */
static volatile uintptr_t crash_addr = 0x10;

static void crash_now(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	*(volatile int *)crash_addr = 1;
	_exit(1);
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/* LYMPH_IOC_WAKE_SET; 0 or -errno. */
static int wake_set(int fd, uint32_t flags, uint32_t mask, uint32_t batch_ms,
		    const struct lymph_wake_key *keys, uint32_t nr)
{
	struct lymph_wake_set set = {
		.keys = (uint64_t)(uintptr_t)keys, .nr = nr, .flags = flags,
		.urgent_mask = mask, .batch_ms = batch_ms,
	};

	return ioctl(fd, LYMPH_IOC_WAKE_SET, &set) ? -errno : 0;
}

/* This binary run by uid: a calm pair. */
static struct lymph_wake_key self_key(uint32_t uid)
{
	struct lymph_wake_key k = { .uid = uid };
	struct stat st;

	if (!stat("/proc/self/exe", &st)) {
		k.ino = st.st_ino;
		k.dev = (uint32_t)st.st_dev;
	}
	return k;
}

/* Is the reader readable right now (poll() with no wait)? */
static int ready_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* What a non-blocking read of everything queued found. */
struct seen {
	int deaths;		/* death records */
	pid_t pid[2];		/* looked for */
	int found[2];
	uint64_t lost;		/* in DROP records */
	int drops;
};

static void drain(int fd, struct seen *s)
{
	static char buf[65536] __attribute__((aligned(8)));
	ssize_t n, off;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off + (ssize_t)sizeof(struct lymph_hdr) <= n;) {
			const struct lymph_hdr *h = (const void *)(buf + off);

			if (h->size < sizeof(*h) || off + h->size > n)
				break;
			if (s && h->kind == LYMPH_EV_DEATH) {
				const struct lymph_death *d = (const void *)h;

				s->deaths++;
				for (int i = 0; i < 2; i++)
					s->found[i] |= s->pid[i] && d->task.pid == (uint32_t)s->pid[i];
			}
			if (s && h->kind == LYMPH_EV_DROP) {
				s->drops++;
				s->lost += ((const struct lymph_drop *)h)->lost;
			}
			off += h->size;
		}
	}
}

enum how { CRASH, EXIT, KILLED };

/* A child of uid that dies how; its pid once reaped, or -errno. */
static pid_t die_as(uid_t uid, enum how how)
{
	int status, p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (uid && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
			_exit(125);
		if (how == CRASH)
			crash_now();
		if (how == EXIT)
			_exit(0);
		close(p[1]);
		read(p[0], &c, 1);	/* until the parent's SIGTERM */
		_exit(0);
	}
	close(p[0]);
	if (how == KILLED)
		kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid) {
		close(p[1]);
		return -errno;
	}
	close(p[1]);
	if (how == CRASH && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV))
		return -EPROTO;
	if (how == KILLED && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM))
		return -EPROTO;
	return pid;
}

/* The number after key on /proc/lymph's reader line of pid, or -1. */
static long long reader_num(pid_t pid, const char *key)
{
	char buf[16384], want[64];
	const char *l, *k;
	ssize_t n;
	int fd = open("/proc/lymph", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	snprintf(want, sizeof(want), "reader: pid %d ", pid);
	l = strstr(buf, want);
	if (!l)
		return -1;
	k = strstr(l, key);
	if (!k || memchr(l, '\n', k - l))
		return -1;
	return atoll(k + strlen(key));
}

/* ---- /dev/lymph, read directly ------------------------------------------ */

FIXTURE(wake)
{
	int fd;
	struct lymph_wake_key root_key;
};

FIXTURE_SETUP(wake)
{
	self->fd = -EBADF;
	kmod_unload();
	ASSERT_EQ(0, kmod_load("")) TH_LOG("insmod: %s", strerror(errno));
	self->fd = open("/dev/lymph", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (self->fd < 0)
		kmod_unload();	/* a failed setup has no teardown */
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/lymph: %s", strerror(errno));
	self->root_key = self_key(0);
	ASSERT_NE(0, self->root_key.ino);
}

FIXTURE_TEARDOWN(wake)
{
	if (self->fd >= 0)
		close(self->fd);
	kmod_unload();
}

TEST_F_TIMEOUT(wake, calm_death_stays_quiet_urgent_one_wakes, 120)
{
	struct seen s = { 0 };
	pid_t calm, urgent;

	/* root's crashes of this binary are calm; nobody's are not */
	ASSERT_EQ(0, wake_set(self->fd, LYMPH_WAKE_KEYED, LYMPH_URGENT_SIGNALS_DEFAULT,
			      LONG_BATCH_MS, &self->root_key, 1))
	TH_LOG("LYMPH_IOC_WAKE_SET: %s (a module without wake sets)", strerror(errno));
	drain(self->fd, NULL);
	calm = die_as(0, CRASH);
	ASSERT_LT(0, calm);
	EXPECT_FALSE(ready_now(self->fd)) TH_LOG("a calm crash made the reader readable");
	urgent = die_as(NOBODY, CRASH);
	ASSERT_LT(0, urgent);
	EXPECT_TRUE(ready_now(self->fd)) TH_LOG("a crash that may start a quarantine did not");
	/* the batch came along: nothing lost */
	s.pid[0] = calm;
	s.pid[1] = urgent;
	drain(self->fd, &s);
	EXPECT_TRUE(s.found[0]) TH_LOG("the calm crash's record is missing");
	EXPECT_TRUE(s.found[1]) TH_LOG("the urgent crash's record is missing");
	EXPECT_EQ(0, s.drops);
	/* drained: quiet again */
	EXPECT_FALSE(ready_now(self->fd));
}

struct poller {
	int fd;
	volatile pid_t tid;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	long r;

	p->tid = syscall(SYS_gettid);
	r = poll(&pfd, 1, PROMPT_MS);
	return (void *)(r == 1 && (pfd.revents & POLLIN) ? 1L : 0L);
}

/* Wait (up to PROMPT_MS) until the poller sleeps: in poll(), nowhere else. */
static int poller_asleep(struct poller *p)
{
	uint64_t end = now_ms() + PROMPT_MS;
	char path[64], buf[256], *st;
	ssize_t n;
	int fd;

	while (now_ms() < end) {
		if (p->tid) {
			snprintf(path, sizeof(path), "/proc/self/task/%d/stat", p->tid);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
			if (fd >= 0)
				close(fd);
			if (n > 0) {
				buf[n] = 0;
				st = strrchr(buf, ')');
				if (st && st[1] == ' ' && st[2] == 'S')
					return 1;
			}
		}
		usleep(10 * 1000);
	}
	return 0;
}

TEST_F_TIMEOUT(wake, urgent_death_wakes_a_sleeping_poll, 120)
{
	struct poller pl = { .fd = self->fd };
	pthread_t t;
	void *res = NULL;
	pid_t p;

	ASSERT_EQ(0, wake_set(self->fd, LYMPH_WAKE_KEYED, LYMPH_URGENT_SIGNALS_DEFAULT,
			      LONG_BATCH_MS, &self->root_key, 1));
	drain(self->fd, NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, poll_thread, &pl));
	ASSERT_TRUE(poller_asleep(&pl));
	/* a calm crash first: the sleeper sleeps on (it is read below) */
	ASSERT_LT(0, die_as(0, CRASH));
	EXPECT_EQ(0, reader_num(getpid(), "woken "));
	p = die_as(NOBODY, CRASH);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, pthread_join(t, &res));
	EXPECT_EQ(1L, (long)res) TH_LOG("poll() was not woken by an urgent crash (batch: 10 min)");
	EXPECT_LE(1, reader_num(getpid(), "woken "));
}

TEST_F_TIMEOUT(wake, batch_is_due_after_batch_ms_and_nothing_is_lost, 120)
{
	struct poller pl = { .fd = self->fd };
	struct seen s = { 0 };
	pthread_t t;
	void *res = NULL;
	pid_t p;

	/* every danger death calm: only the batch timer can make it due */
	ASSERT_EQ(0, wake_set(self->fd, LYMPH_WAKE_KEYED | LYMPH_WAKE_CALM_ALL,
			      LYMPH_URGENT_SIGNALS_DEFAULT, 500, NULL, 0));
	drain(self->fd, NULL);
	p = die_as(NOBODY, CRASH);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, pthread_create(&t, NULL, poll_thread, &pl));
	ASSERT_EQ(0, pthread_join(t, &res));
	EXPECT_EQ(1L, (long)res) TH_LOG("the batch never became due");
	EXPECT_EQ(0, reader_num(getpid(), "woken ")) TH_LOG("an urgent wakeup for a calm crash");
	EXPECT_LE(1, reader_num(getpid(), "batched "));
	s.pid[0] = p;
	drain(self->fd, &s);
	EXPECT_TRUE(s.found[0]) TH_LOG("the batched crash's record is missing");
}

/* The rule is the BPF sensors' (urgent_death_mask, wake_keyed,
 * wake_calm_all): one case at a time, drained in between. */
TEST_F_TIMEOUT(wake, urgency_follows_the_shared_rule, 120)
{
	static const struct {
		const char *what;
		uint32_t flags, mask;
		uid_t uid;
		enum how how;
		int urgent;
	} c[] = {
		{ "unkeyed, default mask: a crash", 0, LYMPH_URGENT_SIGNALS_DEFAULT, 0, CRASH, 1 },
		{ "unkeyed, SIGSEGV not in the mask", 0, ~(1u << LYMPH_SIGSEGV), 0, CRASH, 0 },
		{ "unkeyed: a normal exit", 0, LYMPH_URGENT_SIGNALS_DEFAULT, 0, EXIT, 0 },
		{ "unkeyed: killed by another process", 0, LYMPH_URGENT_SIGNALS_DEFAULT, 0, KILLED,
		  1 },
		{ "keyed: nobody's crash", LYMPH_WAKE_KEYED, LYMPH_URGENT_SIGNALS_DEFAULT, NOBODY,
		  CRASH, 1 },
		{ "keyed: root's crash, calm", LYMPH_WAKE_KEYED, LYMPH_URGENT_SIGNALS_DEFAULT, 0,
		  CRASH, 0 },
		{ "keyed: killed by another process (programmed)", LYMPH_WAKE_KEYED,
		  LYMPH_URGENT_SIGNALS_DEFAULT, NOBODY, KILLED, 0 },
		{ "keyed: a normal exit", LYMPH_WAKE_KEYED, LYMPH_URGENT_SIGNALS_DEFAULT, NOBODY,
		  EXIT, 0 },
		{ "keyed, SIGSEGV not in the mask", LYMPH_WAKE_KEYED, ~(1u << LYMPH_SIGSEGV),
		  NOBODY, CRASH, 0 },
		{ "keyed, calm all: nobody's crash", LYMPH_WAKE_KEYED | LYMPH_WAKE_CALM_ALL,
		  LYMPH_URGENT_SIGNALS_DEFAULT, NOBODY, CRASH, 0 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct seen s = { 0 };
		pid_t p;

		ASSERT_EQ(0, wake_set(self->fd, c[i].flags, c[i].mask, LONG_BATCH_MS,
				      &self->root_key, 1));
		drain(self->fd, NULL);
		p = die_as(c[i].uid, c[i].how);
		ASSERT_LT(0, p) TH_LOG("%s: the child did not die as planned", c[i].what);
		EXPECT_EQ(c[i].urgent, ready_now(self->fd)) TH_LOG("%s", c[i].what);
		s.pid[0] = p;
		drain(self->fd, &s);
		EXPECT_TRUE(s.found[0]) TH_LOG("%s: no death record", c[i].what);
	}
}

TEST_F_TIMEOUT(wake, wake_set_is_checked_and_replaced_whole, 120)
{
	static struct lymph_wake_key many[LYMPH_WAKE_KEYS_MAX + 1];
	pid_t p;

	ASSERT_EQ(0, wake_set(self->fd, LYMPH_WAKE_KEYED, LYMPH_URGENT_SIGNALS_DEFAULT,
			      LONG_BATCH_MS, &self->root_key, 1));
	EXPECT_EQ(-EINVAL, wake_set(self->fd, 1u << 7, 0, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, wake_set(self->fd, LYMPH_WAKE_KEYED, 0, 0, many,
				    LYMPH_WAKE_KEYS_MAX + 1));
	EXPECT_EQ(-EINVAL, wake_set(self->fd, LYMPH_WAKE_KEYED, 0, LYMPH_WAKE_BATCH_MS_MAX + 1,
				    NULL, 0));
	EXPECT_EQ(-EFAULT, wake_set(self->fd, LYMPH_WAKE_KEYED, 0, 0, (void *)16, 1));
	EXPECT_EQ(-ENOTTY, ioctl(self->fd, _IO(LYMPH_IOC_MAGIC, 99)) ? -errno : 0);
	/* a refused set left the old one in force: root's crash still calm */
	drain(self->fd, NULL);
	p = die_as(0, CRASH);
	ASSERT_LT(0, p);
	EXPECT_FALSE(ready_now(self->fd)) TH_LOG("a refused wake set changed the old one");
	/* the full table is accepted, and replaces the old set: root's
	 * crash of this binary is not in it any more */
	for (size_t i = 0; i < LYMPH_WAKE_KEYS_MAX; i++)
		many[i] = (struct lymph_wake_key){ .ino = i + 1, .dev = 1, .uid = 4242 };
	EXPECT_EQ(0, wake_set(self->fd, LYMPH_WAKE_KEYED, LYMPH_URGENT_SIGNALS_DEFAULT,
			      LONG_BATCH_MS, many, LYMPH_WAKE_KEYS_MAX));
	EXPECT_EQ(LYMPH_WAKE_KEYS_MAX, reader_num(getpid(), "calm "));
	drain(self->fd, NULL);
	p = die_as(0, CRASH);
	ASSERT_LT(0, p);
	EXPECT_TRUE(ready_now(self->fd)) TH_LOG("the new set did not replace the old one");
	/* the last of 4096 sorted keys is found */
	many[0] = self->root_key;
	EXPECT_EQ(0, wake_set(self->fd, LYMPH_WAKE_KEYED, LYMPH_URGENT_SIGNALS_DEFAULT,
			      LONG_BATCH_MS, many, LYMPH_WAKE_KEYS_MAX));
	drain(self->fd, NULL);
	p = die_as(0, CRASH);
	ASSERT_LT(0, p);
	EXPECT_FALSE(ready_now(self->fd)) TH_LOG("a calm pair in a full table woke the reader");
}

/* Two readers, one batching, one that never said: each as it asked. */
TEST_F_TIMEOUT(wake, readers_are_woken_each_as_it_asked, 120)
{
	int other = open("/dev/lymph", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	pid_t p;

	ASSERT_LE(0, other);
	ASSERT_EQ(0, wake_set(self->fd, LYMPH_WAKE_KEYED, LYMPH_URGENT_SIGNALS_DEFAULT,
			      LONG_BATCH_MS, &self->root_key, 1));
	drain(self->fd, NULL);
	drain(other, NULL);
	p = die_as(0, CRASH);
	ASSERT_LT(0, p);
	EXPECT_FALSE(ready_now(self->fd));
	EXPECT_TRUE(ready_now(other)) TH_LOG("a reader without a wake set must see every record");
	close(other);
}

FIXTURE(small_ring)
{
	int fd;
};

FIXTURE_SETUP(small_ring)
{
	self->fd = -EBADF;
	kmod_unload();
	ASSERT_EQ(0, kmod_load("ring_size=4096"));
	self->fd = open("/dev/lymph", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (self->fd < 0)
		kmod_unload();	/* a failed setup has no teardown */
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(small_ring)
{
	if (self->fd >= 0)
		close(self->fd);
	kmod_unload();
}

/* Batching never hides a loss: the fill mark and the loss make the batch
 * due, and the DROP record counts what was lost. */
TEST_F_TIMEOUT(small_ring, a_full_ring_is_due_and_its_drops_reported, 120)
{
	struct seen s = { 0 };
	int i, before;

	ASSERT_EQ(0, wake_set(self->fd, LYMPH_WAKE_KEYED | LYMPH_WAKE_CALM_ALL,
			      LYMPH_URGENT_SIGNALS_DEFAULT, LONG_BATCH_MS, NULL, 0));
	drain(self->fd, NULL);
	before = ready_now(self->fd);
	for (i = 0; i < 60; i++)
		ASSERT_LT(0, die_as(0, EXIT));
	EXPECT_FALSE(before);
	EXPECT_TRUE(ready_now(self->fd)) TH_LOG("a full ring did not make the batch due");
	drain(self->fd, &s);
	EXPECT_LE(1, s.drops);
	EXPECT_LT(0, s.lost) TH_LOG("records were lost without a DROP record saying so");
	TH_LOG("%d deaths read, %llu records lost and reported", s.deaths,
	       (unsigned long long)s.lost);
}

/* ---- lymphd --source=kmod ------------------------------------------------ */

struct lymphd {
	pid_t pid;
	int out;		/* its stdout (--json) */
	char buf[1 << 16];
	size_t len;
};

/* lymphd from the build directory on the kernel command line, or "". */
static const char *lymphd_path(void)
{
	static char path[512];
	char cmd[4096];
	const char *b;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, cmd, sizeof(cmd) - 1);

	if (fd >= 0)
		close(fd);
	path[0] = 0;
	if (n <= 0)
		return path;
	cmd[n] = 0;
	b = strstr(cmd, "lymph.build=");
	if (!b)
		return path;
	b += strlen("lymph.build=");
	snprintf(path, sizeof(path), "%.*s/lymphd", (int)strcspn(b, " \n"), b);
	return access(path, X_OK) ? "" : path;
}

static int lymphd_start(struct lymphd *d, const char *conf, const char *extra)
{
	const char *path = lymphd_path();
	int p[2];

	d->pid = -1;
	d->out = -1;
	d->len = 0;
	if (!*path)
		return -ENOENT;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		int err = open(WORK "/err", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(p[1], 1);
		if (err >= 0)
			dup2(err, 2);
		setenv("LYMPH_DRAIN_MS", "600000", 1);	/* drains only when woken */
		execl(path, path, "--source=kmod", "--json", "--config", conf,
		      "--journal=" WORK "/journal", "--socket=" WORK "/sock", extra,
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	d->out = p[0];
	return 0;
}

/* The next line lymphd printed before deadline (ms), in a static buffer. */
static const char *lymphd_line(struct lymphd *d, uint64_t deadline)
{
	static char line[1 << 16];

	for (;;) {
		char *nl = memchr(d->buf, '\n', d->len);
		struct pollfd pfd = { .fd = d->out, .events = POLLIN };
		uint64_t now = now_ms();
		ssize_t n;

		if (nl) {
			size_t l = nl - d->buf;

			memcpy(line, d->buf, l);
			line[l] = 0;
			memmove(d->buf, nl + 1, d->len - l - 1);
			d->len -= l + 1;
			return line;
		}
		if (now >= deadline || poll(&pfd, 1, deadline - now) <= 0)
			return NULL;
		n = read(d->out, d->buf + d->len, sizeof(d->buf) - d->len);
		if (n <= 0)
			return NULL;
		d->len += n;
	}
}

static int has_pid(const char *line, pid_t pid)
{
	char key[32];
	const char *k;

	snprintf(key, sizeof(key), "\"pid\":%d", pid);
	for (k = strstr(line, key); k; k = strstr(k + 1, key))
		if (k[strlen(key)] < '0' || k[strlen(key)] > '9')
			return 1;
	return 0;
}

static int is_death_of(const char *line, pid_t pid)
{
	return strstr(line, "\"event\":\"death\"") && has_pid(line, pid);
}

/* Wait for a line with every one of the needles (and pid, if > 0). */
static int lymphd_wait(struct lymphd *d, int ms, pid_t pid, const char *n1, const char *n2,
		       const char *n3)
{
	uint64_t deadline = now_ms() + ms;
	const char *l;

	while ((l = lymphd_line(d, deadline)))
		if ((!n1 || strstr(l, n1)) && (!n2 || strstr(l, n2)) && (!n3 || strstr(l, n3)) &&
		    (pid <= 0 || has_pid(l, pid)))
			return 1;
	return 0;
}

/* SIGTERM; did lymphd print pid's death before it exited? */
static int lymphd_stop_saw(struct lymphd *d, pid_t pid)
{
	const char *l;
	int found = 0;

	if (d->pid <= 0)
		return 0;
	kill(d->pid, SIGTERM);
	while ((l = lymphd_line(d, now_ms() + 60000)))
		found |= pid > 0 && is_death_of(l, pid);
	waitpid(d->pid, NULL, 0);
	d->pid = -1;
	return found;
}

static void lymphd_kill(struct lymphd *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = -1;
	if (d->out >= 0)
		close(d->out);
	d->out = -1;
}

static void log_err(struct __test_metadata *_metadata)
{
	char buf[2048];
	int fd = open(WORK "/err", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = 0;
		TH_LOG("lymphd's stderr: %s", buf);
	}
}

FIXTURE(lymphd)
{
	struct lymphd d;
	char conf[256];
};

FIXTURE_SETUP(lymphd)
{
	self->d.pid = -1;
	self->d.out = -1;
	if (!*lymphd_path())
		SKIP(return, "lymphd is not in the VM (not built, or no lymph.build=)");
	kmod_unload();
	ASSERT_EQ(0, kmod_load(""));
	/* batched deaths are due after ten minutes only */
	if (write_text(PARAM_BATCH, "600000")) {
		kmod_unload();	/* a failed setup has no teardown */
		ASSERT_TRUE(false) TH_LOG("cannot write %s: %s", PARAM_BATCH, strerror(errno));
	}
	system("rm -rf " WORK);
	ASSERT_EQ(0, mkdir(WORK, 0755));
	snprintf(self->conf, sizeof(self->conf), WORK "/lymph.conf");
}

FIXTURE_TEARDOWN(lymphd)
{
	lymphd_kill(&self->d);
	kmod_unload();
}

/* lymphd is reading /dev/lymph, with its wake set given. */
static int lymphd_keyed(pid_t pid)
{
	uint64_t end = now_ms() + PROMPT_MS;

	while (now_ms() < end) {
		if (reader_num(pid, "calm ") >= 0)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

TEST_F_TIMEOUT(lymphd, quarantine_on_time_calm_crash_batched, 300)
{
	pid_t p1, p2, r1, r2;

	ASSERT_EQ(0, write_text(self->conf, "[quarantine]\nthreshold = 2\nroot = no\n"));
	ASSERT_EQ(0, lymphd_start(&self->d, self->conf, "--dry-run"));
	ASSERT_TRUE(lymphd_keyed(self->d.pid)) {
		log_err(_metadata);
		TH_LOG("lymphd never opened /dev/lymph with a wake set");
	}

	/* nobody's first crash counts towards a quarantine: at once */
	p1 = die_as(NOBODY, CRASH);
	ASSERT_LT(0, p1);
	EXPECT_TRUE(lymphd_wait(&self->d, PROMPT_MS, p1, "\"event\":\"death\"", "\"reason\":\"fault\"",
				NULL))
	TH_LOG("the death of %d did not reach lymphd before the batch", p1);
	/* the second is at the threshold: the decision at once */
	p2 = die_as(NOBODY, CRASH);
	ASSERT_LT(0, p2);
	EXPECT_TRUE(lymphd_wait(&self->d, PROMPT_MS, p2, "\"event\":\"decision\"",
				"\"type\":\"quarantine\"", "\"action\":\"would-quarantine\""))
	TH_LOG("no quarantine decision for %d before the batch", p2);

	/* root's first crash: lymphd does not know it yet, so it wakes; then
	 * it tells the module that root's crashes of this binary are calm */
	r1 = die_as(0, CRASH);
	ASSERT_LT(0, r1);
	EXPECT_TRUE(lymphd_wait(&self->d, PROMPT_MS, r1, "\"event\":\"death\"", NULL, NULL));
	EXPECT_LE(1, reader_num(self->d.pid, "calm ")) TH_LOG("lymphd gave no calm pair");
	/* the second is batched: not printed now ... */
	r2 = die_as(0, CRASH);
	ASSERT_LT(0, r2);
	EXPECT_FALSE(lymphd_wait(&self->d, 3000, r2, "\"event\":\"death\"", NULL, NULL))
	TH_LOG("a calm crash woke lymphd");
	EXPECT_LE(1, reader_num(self->d.pid, "batched "));
	/* ... and never lost: lymphd drains /dev/lymph when it stops */
	EXPECT_TRUE(lymphd_stop_saw(&self->d, r2)) TH_LOG("the calm crash was never reported");
}

TEST_F_TIMEOUT(lymphd, supervised_service_restarted_on_time, 300)
{
	char text[1024], cmd[512];

	/* its own binary, protected from quarantine as a service's: its
	 * crashes are calm, its death wakes lymphd through the pidfd, and
	 * the module's record is read first */
	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe " WORK "/crashy && chmod 755 " WORK "/crashy",
		 getpid());
	ASSERT_EQ(0, system(cmd));
	snprintf(text, sizeof(text),
		 "[lymphd]\nmode = enforce\n"
		 "[quarantine]\nthreshold = 1000000\n"
		 "[weather]\nbackoff_factor_stormy = 1\n"
		 "[service crashy]\nstart = " WORK "/crashy crash\nexe = " WORK "/crashy\n"
		 "backoff_min = 1s\n");
	ASSERT_EQ(0, write_text(self->conf, text));
	ASSERT_EQ(0, lymphd_start(&self->d, self->conf, NULL));
	EXPECT_TRUE(lymphd_wait(&self->d, PROMPT_MS, 0, "\"type\":\"service\"", "\"action\":\"died\"",
				"\"reason\":\"fault\""))
	{
		log_err(_metadata);
		TH_LOG("the service's crash was not acted on (with the module's si_code) before the batch");
	}
	EXPECT_TRUE(lymphd_wait(&self->d, PROMPT_MS, 0, "\"type\":\"service\"",
				"\"action\":\"restart\"", NULL))
	TH_LOG("the service was not restarted after its backoff");
	EXPECT_LE(1, reader_num(self->d.pid, "calm ")) TH_LOG("the service's binary is not calm");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "crash"))
		crash_now();	/* the supervised service */
	return test_harness_run(argc, argv);
}
