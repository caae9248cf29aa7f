// SPDX-License-Identifier: GPL-2.0-only
/*
 * Disk foresight's directory walks (the growth scan, the tidy rules) never
 * hold lymphd's event loop (root): a small tmpfs filling at a steady rate
 * puts it in danger, and every directory open lymphd makes on it is held by a fanotify
 * permission listener in this test, as a hung or very slow disk would
 * hold it.  lymphctl status must still be answered while the scan is
 * held; once released, the growth report names the directory that grew.
 * Closing the fanotify group lets every held open through, so nothing
 * stays blocked whatever happens to the test.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <poll.h>
#include <pthread.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "svc_helpers.h"

#define WAIT_MS	 30000
#define HELD_MAX 256

/* ---- the fanotify listener ------------------------------------------------------- */

struct listener {
	int fan;
	pid_t hold_pid; /* opens by this process are held while holding */
	int holding;
	int held[HELD_MAX], n_held;
	int stop;
	pthread_mutex_t mu;
	pthread_t th;
};

static void answer(int fan, int fd, uint32_t verdict)
{
	struct fanotify_response r = { .fd = fd, .response = verdict };

	if (write(fan, &r, sizeof(r)) != sizeof(r))
		th_diag("failed to answer a fanotify event: %s", strerror(errno));
	close(fd);
}

static void *listen_thread(void *arg)
{
	struct listener *l = arg;
	char buf[8192] __attribute__((aligned(8)));

	for (;;) {
		struct pollfd p = { .fd = l->fan, .events = POLLIN };
		struct fanotify_event_metadata *m;
		ssize_t n;

		pthread_mutex_lock(&l->mu);
		if (l->stop) {
			pthread_mutex_unlock(&l->mu);
			return NULL;
		}
		pthread_mutex_unlock(&l->mu);
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(l->fan, buf, sizeof(buf));
		if (n <= 0)
			continue;
		for (m = (void *)buf; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->fd < 0)
				continue;
			pthread_mutex_lock(&l->mu);
			if (l->holding && m->pid == l->hold_pid && l->n_held < HELD_MAX) {
				l->held[l->n_held++] = m->fd;
				pthread_mutex_unlock(&l->mu);
				continue;
			}
			pthread_mutex_unlock(&l->mu);
			answer(l->fan, m->fd, FAN_ALLOW);
		}
	}
}

static int held_count(struct listener *l)
{
	int n;

	pthread_mutex_lock(&l->mu);
	n = l->n_held;
	pthread_mutex_unlock(&l->mu);
	return n;
}

static void release_all(struct listener *l)
{
	pthread_mutex_lock(&l->mu);
	l->holding = 0;
	for (int i = 0; i < l->n_held; i++)
		answer(l->fan, l->held[i], FAN_ALLOW);
	l->n_held = 0;
	pthread_mutex_unlock(&l->mu);
}

/* ---- the filler ------------------------------------------------------------------- */

struct filler {
	char path[420];
	int stop;
	pthread_t th;
};

/* 128 KiB every 50 ms into one file until the disk is full or stopped. */
static void *fill_thread(void *arg)
{
	static char chunk[128 << 10];
	struct filler *f = arg;
	int fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	memset(chunk, 'x', sizeof(chunk));
	while (fd >= 0 && !__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		if (write(fd, chunk, sizeof(chunk)) != sizeof(chunk))
			break;
		th_sleep_ms(50);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* ---- the fixture ------------------------------------------------------------------ */

FIXTURE(growth)
{
	SVC_FIXTURE_FIELDS;
	char mnt[320];
	bool mounted, listening, filling;
	struct listener l;
	struct filler f;
};

FIXTURE_SETUP(growth)
{
	self->mounted = self->listening = self->filling = false;
	SVC_FIXTURE_SETUP(self, "growth", "needs root: lymphd loads BPF, the test mounts a tmpfs");
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	ASSERT_EQ(0, mount("tmpfs", self->mnt, "tmpfs", 0, "size=24m,mode=0755"));
	self->mounted = true;
}

FIXTURE_TEARDOWN(growth)
{
	if (!self->dir[0])
		return;
	if (self->filling) {
		__atomic_store_n(&self->f.stop, 1, __ATOMIC_RELAXED);
		pthread_join(self->f.th, NULL);
	}
	if (self->listening) {
		release_all(&self->l);
		pthread_mutex_lock(&self->l.mu);
		self->l.stop = 1;
		pthread_mutex_unlock(&self->l.mu);
		pthread_join(self->l.th, NULL);
		close(self->l.fan); /* any open still pending is allowed */
	}
	SVC_FIXTURE_STOP(self);
	if (self->mounted)
		umount2(self->mnt, MNT_DETACH);
	svc_rmdir(self->dir);
}

static json_object *wait_record(const char *journal, const char *action, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	char line[65536];

	do {
		FILE *f = fopen(journal, "re");

		while (f && fgets(line, sizeof(line), f)) {
			json_object *o = json_tokener_parse(line);
			const char *a = o ? th_json_str(o, "action") : NULL;

			if (a && !strcmp(a, action)) {
				fclose(f);
				return o;
			}
			json_object_put(o);
		}
		if (f)
			fclose(f);
		th_sleep_ms(100);
	} while (th_now_ms() < deadline);
	return NULL;
}

TEST_F_TIMEOUT(growth, growth_scan_never_holds_the_event_loop, 120)
{
	static struct th_cmd r;
	struct th_cmd_opts o = { .timeout_ms = 10000 };
	char text[1400], data[400], want[450], logs[400];
	json_object *rec, *grew;
	int64_t deadline;

	snprintf(
		text, sizeof(text),
		SVC_QUIET_POLICY
		"[phagocyte]\ncores = no\ndisk_watch = %s\ndisk_interval = 250ms\ndisk_window = 4s\n"
		"disk_horizon = 1h\nroot = %s\ntidy = %s/logs pattern=*.old age=1d\n",
		self->mnt, self->mnt, self->mnt);
	ASSERT_EQ(0, th_write_file(self->conf, text, 0644));
	snprintf(logs, sizeof(logs), "%s/logs", self->mnt);
	ASSERT_EQ(0, mkdir(logs, 0755));
	ASSERT_EQ(0, SVC_FIXTURE_START(self, NULL, WAIT_MS));

	/* every open lymphd makes on the tmpfs is held from now on */
	self->l.fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE);
	ASSERT_LE(0, self->l.fan) TH_LOG("fanotify_init: %s", strerror(errno));
	ASSERT_EQ(0, fanotify_mark(self->l.fan, FAN_MARK_ADD | FAN_MARK_MOUNT,
				   FAN_OPEN_PERM | FAN_ONDIR, AT_FDCWD, self->mnt))
	TH_LOG("fanotify_mark: %s", strerror(errno));
	pthread_mutex_init(&self->l.mu, NULL);
	self->l.hold_pid = self->d.pid;
	self->l.holding = 1;
	ASSERT_EQ(0, pthread_create(&self->l.th, NULL, listen_thread, &self->l));
	self->listening = true;

	snprintf(data, sizeof(data), "%s/data", self->mnt);
	ASSERT_EQ(0, mkdir(data, 0755));
	snprintf(self->f.path, sizeof(self->f.path), "%s/fill", data);
	ASSERT_EQ(0, pthread_create(&self->f.th, NULL, fill_thread, &self->f));
	self->filling = true;

	rec = wait_record(self->journal, "disk-foresight", WAIT_MS);
	ASSERT_NE(NULL, rec);
	json_object_put(rec);
	/* the growth scan has started and is held on its first open */
	deadline = th_now_ms() + WAIT_MS;
	while (!held_count(&self->l) && th_now_ms() < deadline)
		th_sleep_ms(50);
	ASSERT_LT(0, held_count(&self->l)) TH_LOG("lymphd opened nothing on %s", self->mnt);

	/* the loop still turns while the scan is held */
	EXPECT_EQ(0, th_lymphctl(&self->d, &r, &o, "status", "--json", NULL));
	EXPECT_FALSE(r.timed_out)
	TH_LOG("lymphctl status was not answered while the growth scan was held");
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) TH_LOG("%s", r.err);
	EXPECT_LT(0, held_count(&self->l));

	/* released: the tidy rule ran, the growth is reported, the data directory first */
	release_all(&self->l);
	rec = wait_record(self->journal, "tidy", WAIT_MS);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(0, th_json_int(rec, "removed")) TH_LOG("%s", th_json_text(rec));
	json_object_put(rec);
	rec = wait_record(self->journal, "disk-growth", WAIT_MS);
	ASSERT_NE(NULL, rec);
	grew = th_json_get(rec, "grew");
	ASSERT_NE(NULL, grew);
	ASSERT_LE(1, json_object_array_length(grew)) TH_LOG("%s", th_json_text(rec));
	snprintf(want, sizeof(want), "%s/data", self->mnt);
	EXPECT_STREQ(want, th_json_str(json_object_array_get_idx(grew, 0), "dir") ?: "")
	TH_LOG("%s", th_json_text(rec));
	json_object_put(rec);
}

TEST_HARNESS_MAIN
