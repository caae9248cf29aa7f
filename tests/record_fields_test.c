// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every field the BPF sensors read from a task, checked against what the
 * kernel says of it elsewhere (/proc, stat(2), the cgroup's file handle,
 * the clock): a process C of its own session, named with a full 15-byte
 * comm, drops to uid 1000 and forks G; G execs sleep (the file /bin/sleep
 * resolves to, whose name becomes the comm) and the test kills it with
 * SIGTERM.  lymphd --json --source=bpf must print G's fork, exec,
 * signal and death records with G's pid, tid, ppid (C), uid, sid (C),
 * comm, exe, exe_ino, exe_dev, cgroup_id and start time, and the
 * sender's pid, uid and comm.  It guards the probes' reads (direct loads
 * from BTF-typed tasks, comm in two 8-byte loads; bpf/sensors.bpf.c).
 *
 * Needs root (BPF).
 */
#include "helpers.h"
#include "kselftest_harness.h"

#include <fcntl.h>
#include <sys/prctl.h>

#define TEST_UID	 1000
#define EVENT_TIMEOUT_MS 5000
#define FULL_COMM	 "lymph-fields-15"	/* 15 bytes: comm's whole room */

_Static_assert(sizeof(FULL_COMM) == 16, "a comm of 15 bytes and its NUL");

struct pred_arg {
	const char *event;
	pid_t pid;
};

static bool pred_event_of(json_object *o, const void *arg)
{
	const struct pred_arg *a = arg;

	return th_is_event(o, a->event) && th_json_int(o, "pid") == a->pid;
}

/* Where cgroup2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified
 * on a hybrid host) into mnt: 0, or -1 when it is not. */
static int cgroup2_mount(char *mnt, size_t cap)
{
	char dev[64], dir[PATH_MAX], type[64];
	FILE *f = fopen("/proc/self/mounts", "r");
	int rc = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(mnt, cap, "%s", dir);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* The cgroup v2 id of this process's cgroup (its kernfs id, the file
 * handle of its directory), or 0. */
static uint64_t own_cgroup_id(void)
{
	char line[PATH_MAX], mnt[PATH_MAX], path[2 * PATH_MAX];
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	int mount_id;
	FILE *f;
	uint64_t id = 0;

	if (cgroup2_mount(mnt, sizeof(mnt)) || !(f = fopen("/proc/self/cgroup", "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(path, sizeof(path), "%s%s", mnt, line + 3);
		if (!name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
			memcpy(&id, h.fh.f_handle, sizeof(id));
	}
	fclose(f);
	return id;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

FIXTURE(fields)
{
	struct th_lymphd d;
};

FIXTURE_SETUP(fields)
{
	static const char *const args[] = { "--source=bpf", NULL };
	int err;

	th_lymphd_init(&self->d);
	if (!th_is_root())
		SKIP(return, "needs root to load BPF programs");
	err = th_lymphd_start(&self->d, args, 20000);
	ASSERT_EQ(0, err) TH_LOG("lymphd --json --source=bpf did not start");
	ASSERT_STREQ("bpf", th_json_str(self->d.start, "source"));
}

FIXTURE_TEARDOWN(fields)
{
	th_lymphd_destroy(&self->d);
}

/* The fields every record of G shares. */
static void expect_task(struct __test_metadata *_metadata, json_object *ev, pid_t g, pid_t c,
			const char *comm, const struct stat *exe, uint64_t cgroup_id)
{
	EXPECT_STREQ("bpf", th_json_str(ev, "source"));
	EXPECT_EQ(g, th_json_int(ev, "pid"));
	EXPECT_EQ(g, th_json_int(ev, "tid"));
	EXPECT_EQ(c, th_json_int(ev, "ppid"));
	EXPECT_EQ(TEST_UID, th_json_int(ev, "uid"));
	EXPECT_EQ(c, th_json_int(ev, "sid"));
	EXPECT_STREQ(comm, th_json_str(ev, "comm"));
	EXPECT_EQ((int64_t)exe->st_ino, th_json_int(ev, "exe_ino"));
	EXPECT_EQ((int64_t)exe->st_dev, th_json_int(ev, "exe_dev"));
	EXPECT_EQ((int64_t)cgroup_id, th_json_int(ev, "cgroup_id"));
}

TEST_F_TIMEOUT(fields, fork_exec_signal_death, 60)
{
	char sleep_path[PATH_MAX], my_comm[32] = "", sleep_comm[16] = "";
	struct stat self_exe, sleep_exe;
	uint64_t cgroup_id = own_cgroup_id();
	int p[2], go[2], status = 0;
	pid_t ids[2], c, g;
	struct pred_arg a;
	json_object *ev;
	int64_t t0, t1, start;
	FILE *f;

	ASSERT_NE(0ull, (unsigned long long)cgroup_id)
	TH_LOG("no cgroup v2 id for this process (cgroup2 in /proc/self/mounts, /proc/self/cgroup)");
	ASSERT_EQ(0, stat("/proc/self/exe", &self_exe));
	ASSERT_NE(NULL, realpath("/bin/sleep", sleep_path));
	ASSERT_EQ(0, stat(sleep_path, &sleep_exe));
	/* exec names the task after the file it runs (busybox in the VM) */
	snprintf(sleep_comm, sizeof(sleep_comm), "%s", strrchr(sleep_path, '/') + 1);
	f = fopen("/proc/self/comm", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(my_comm, sizeof(my_comm), f));
	fclose(f);
	my_comm[strcspn(my_comm, "\n")] = 0;

	/* p: C's pids to the test; go: G waits for its EOF.  Two pipes: G
	 * reading the pipe the pids come through could take one of their
	 * bytes before the test (a CI run failed so, reading 7 of 8). */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	t0 = mono_ns();
	c = th_fork();
	ASSERT_LE(0, c);
	if (c == 0) {
		/* C: a session of its own, a full comm, uid 1000; G sleeps */
		if (setsid() < 0 || prctl(PR_SET_NAME, FULL_COMM) || th_become(TEST_UID))
			_exit(125);
		ids[0] = getpid();
		ids[1] = fork();
		if (ids[1] < 0)
			_exit(124);
		if (ids[1] == 0) {
			/* G: wait until the test has read the pids */
			char byte;

			close(p[0]);
			close(p[1]);
			close(go[1]);
			if (read(go[0], &byte, 1) < 0)
				_exit(123);
			execl(sleep_path, "sleep", "1000", (char *)NULL);
			_exit(122);
		}
		if (write(p[1], ids, sizeof(ids)) != sizeof(ids))
			_exit(121);
		close(p[0]);
		close(p[1]);
		close(go[0]);
		close(go[1]);	/* G's read ends once the test's copy is closed too */
		waitpid(ids[1], &status, 0);
		_exit(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? 0 : 120);
	}
	ASSERT_EQ((ssize_t)sizeof(ids), read(p[0], ids, sizeof(ids)));
	t1 = mono_ns();
	g = ids[1];
	EXPECT_EQ(c, ids[0]);
	close(p[0]);
	close(p[1]);
	close(go[0]);
	close(go[1]);	/* the last writer: G reads EOF and execs */

	/* fork: G as made, C's comm */
	a = (struct pred_arg){ "fork", g };
	ev = th_lymphd_wait(&self->d, pred_event_of, &a, EVENT_TIMEOUT_MS);
	ASSERT_NE(NULL, ev) TH_LOG("no fork record for pid %d", g);
	TH_LOG("%s", th_json_text(ev));
	expect_task(_metadata, ev, g, c, FULL_COMM, &self_exe, cgroup_id);
	json_object_put(ev);

	/* exec: sleep's comm and binary */
	a = (struct pred_arg){ "exec", g };
	ev = th_lymphd_wait(&self->d, pred_event_of, &a, EVENT_TIMEOUT_MS);
	ASSERT_NE(NULL, ev) TH_LOG("no exec record for pid %d", g);
	TH_LOG("%s", th_json_text(ev));
	expect_task(_metadata, ev, g, c, sleep_comm, &sleep_exe, cgroup_id);
	EXPECT_STREQ(sleep_path, th_json_str(ev, "path"));
	json_object_put(ev);

	/* /proc/G/exe says sleep runs: the exec is done, kill it */
	for (int i = 0; i < 500; i++) {
		char link[64], target[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/exe", g);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = 0, !strcmp(target, sleep_path)))
			break;
		th_sleep_ms(10);
	}
	ASSERT_EQ(0, kill(g, SIGTERM));
	ASSERT_EQ(c, waitpid(c, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
	TH_LOG("C: wait status 0x%x", status);

	/* signal: G the target, the test the sender */
	a = (struct pred_arg){ "signal", g };
	ev = th_lymphd_wait(&self->d, pred_event_of, &a, EVENT_TIMEOUT_MS);
	ASSERT_NE(NULL, ev) TH_LOG("no signal record for pid %d", g);
	TH_LOG("%s", th_json_text(ev));
	expect_task(_metadata, ev, g, c, sleep_comm, &sleep_exe, cgroup_id);
	EXPECT_EQ(SIGTERM, th_json_int(ev, "signo"));
	EXPECT_EQ(SI_USER, th_json_int(ev, "si_code"));
	EXPECT_EQ(getpid(), th_json_int(ev, "sender_pid"));
	EXPECT_EQ(0, th_json_int(ev, "sender_uid"));
	EXPECT_STREQ(my_comm, th_json_str(ev, "sender_comm"));
	json_object_put(ev);

	/* death: the same, and its start time between t0 and t1 */
	ev = th_lymphd_wait(&self->d, th_pred_death_of, &g, EVENT_TIMEOUT_MS);
	ASSERT_NE(NULL, ev) TH_LOG("no death record for pid %d", g);
	TH_LOG("%s", th_json_text(ev));
	expect_task(_metadata, ev, g, c, sleep_comm, &sleep_exe, cgroup_id);
	EXPECT_EQ(SIGTERM, th_json_int(ev, "signo"));
	EXPECT_EQ(getpid(), th_json_int(ev, "sender_pid"));
	start = th_json_int(ev, "ts_ns") - th_json_int(ev, "age_ns");
	EXPECT_LE(t0, start);
	EXPECT_GE(t1, start);
	json_object_put(ev);
}

TEST_HARNESS_MAIN
