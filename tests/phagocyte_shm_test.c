// SPDX-License-Identifier: GPL-2.0-only
/*
 * SysV shared memory left by the dead, with real segments (root): the
 * segment of a process that crashed is saved and removed (and lymphctl
 * shm-restore brings it back, content and all); the segment of a process
 * that exited normally, of a protected uid, and of a live creator are
 * kept; observe mode only journals.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "svc_helpers.h"

#define WAIT_MS 30000
#define SEG	65536
#define NOBODY	65534

static void fill(char *m, key_t key)
{
	for (size_t i = 0; i < SEG; i++)
		m[i] = (char)((key + i * 7) & 0xff);
}

static int check(const char *m, key_t key)
{
	for (size_t i = 0; i < SEG; i++)
		if (m[i] != (char)((key + i * 7) & 0xff))
			return -1;
	return 0;
}

/* A child (as uid, when not 0) creates the segment key, fills it, detaches
 * and then crashes (SIGSEGV) or exits 0.  The segment's id, or -1. */
static int make_seg(key_t key, uid_t uid, int crash)
{
	int status, id;
	pid_t pid = fork();

	if (pid == 0) {
		struct rlimit rl = { 0, 0 };
		char *m;

		setrlimit(RLIMIT_CORE, &rl); /* no core file */
		if (uid && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
			_exit(3);
		id = shmget(key, SEG, IPC_CREAT | IPC_EXCL | 0600);
		if (id < 0)
			_exit(4);
		m = shmat(id, NULL, 0);
		if (m == (void *)-1)
			_exit(5);
		fill(m, key);
		shmdt(m);
		if (crash)
			th_crash_now(TH_SEGV, NULL);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (crash ? !(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		  : !(WIFEXITED(status) && !WEXITSTATUS(status))) {
		th_diag("segment maker ended with 0x%x", status);
		return -1;
	}
	return shmget(key, 0, 0);
}

static json_object *wait_key(const char *journal, const char *action, key_t key, int timeout_ms)
{
	int64_t deadline = th_now_ms() + timeout_ms;
	char want[16];

	snprintf(want, sizeof(want), "0x%08x", (unsigned int)key);
	do {
		json_object *r = th_journal_records(journal, NULL, action);

		for (size_t i = 0; i < json_object_array_length(r); i++) {
			json_object *o = json_object_array_get_idx(r, i);

			if (!strcmp(th_json_str(o, "key") ?: "", want)) {
				json_object_get(o);
				json_object_put(r);
				return o;
			}
		}
		json_object_put(r);
		th_sleep_ms(100);
	} while (th_now_ms() < deadline);
	return NULL;
}

FIXTURE(shm)
{
	SVC_FIXTURE_FIELDS;
	key_t keys[4];
};

FIXTURE_SETUP(shm)
{
	SVC_FIXTURE_SETUP(self, "shm",
			  "needs root: lymphd loads BPF, segments are made as another uid");
	for (int i = 0; i < 4; i++)
		self->keys[i] = (key_t)(0x6c790000 | ((getpid() & 0xfff) << 4) | i);
}

FIXTURE_TEARDOWN(shm)
{
	if (!self->dir[0])
		return;
	SVC_FIXTURE_STOP(self);
	for (int i = 0; i < 4; i++) {
		int id = shmget(self->keys[i], 0, 0);

		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
	}
	svc_rmdir(self->dir);
}

static int start(FIXTURE_DATA(shm) * self, const char *mode)
{
	char text[1024];

	snprintf(
		text, sizeof(text),
		"[lymphd]\nmode = %s\n" SVC_QUIET_RESPONDERS "[protect]\nuid = %d\n"
		"[phagocyte]\ncores = no\nforesight = no\nshm = yes\nshm_min_age = 1s\nshm_interval = 200ms\n",
		mode, NOBODY);
	if (th_write_file(self->conf, text, 0644))
		return -EIO;
	return SVC_FIXTURE_START(self, NULL, WAIT_MS);
}

TEST_F_TIMEOUT(shm, segment_of_a_crashed_process_saved_removed_and_restored, 120)
{
	static struct th_cmd r;
	json_object *rec;
	const char *saved;
	char *m, keep_saved[600];
	int ids[4], id;

	ASSERT_EQ(0, start(self, "enforce"));
	ASSERT_LE(0, ids[0] = make_seg(self->keys[0], 0, 1));	   /* crashed */
	ASSERT_LE(0, ids[1] = make_seg(self->keys[1], 0, 0));	   /* exited normally */
	ASSERT_LE(0, ids[2] = make_seg(self->keys[2], NOBODY, 1)); /* crashed, protected uid */
	ids[3] = shmget(self->keys[3], SEG, IPC_CREAT | IPC_EXCL | 0600); /* ours: alive */
	ASSERT_LE(0, ids[3]);

	rec = wait_key(self->journal, "shm-removed", self->keys[0], WAIT_MS);
	ASSERT_NE(NULL, rec);
	EXPECT_NE(NULL, strstr(th_json_str(rec, "result") ?: "", "ok"))
	TH_LOG("%s", th_json_text(rec));
	EXPECT_TRUE(th_json_bool(rec, "died_badly"));
	saved = th_json_str(rec, "saved");
	ASSERT_NE(NULL, saved) TH_LOG("%s", th_json_text(rec));
	snprintf(keep_saved, sizeof(keep_saved), "%s", saved);
	json_object_put(rec);
	EXPECT_EQ(-1, shmget(self->keys[0], 0, 0));
	EXPECT_EQ(ENOENT, errno);

	rec = wait_key(self->journal, "shm-kept", self->keys[2], WAIT_MS);
	EXPECT_NE(NULL, rec);
	if (rec)
		EXPECT_NE(NULL, strstr(th_json_str(rec, "why") ?: "", "protected"))
	TH_LOG("%s", th_json_text(rec));
	json_object_put(rec);
	th_sleep_ms(1500); /* several scans past shm_min_age: the others stay */
	EXPECT_EQ(ids[1], shmget(self->keys[1], 0, 0))
	TH_LOG("the segment of a normal exit was removed");
	EXPECT_EQ(ids[2], shmget(self->keys[2], 0, 0))
	TH_LOG("the protected uid's segment was removed");
	EXPECT_EQ(ids[3], shmget(self->keys[3], 0, 0))
	TH_LOG("a live creator's segment was removed");

	/* lymphctl shm-restore: the same key, owner and content */
	ASSERT_EQ(0, th_lymphctl(NULL, &r, NULL, "shm-restore", keep_saved, NULL));
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) TH_LOG("%s", r.err);
	id = shmget(self->keys[0], 0, 0);
	ASSERT_LE(0, id);
	m = shmat(id, NULL, SHM_RDONLY);
	ASSERT_NE((void *)-1, m);
	EXPECT_EQ(0, check(m, self->keys[0]));
	shmdt(m);
}

TEST_F_TIMEOUT(shm, observe_mode_only_journals, 90)
{
	json_object *rec;
	int id;

	ASSERT_EQ(0, start(self, "observe"));
	ASSERT_LE(0, id = make_seg(self->keys[0], 0, 1));
	rec = wait_key(self->journal, "shm-would-remove", self->keys[0], WAIT_MS);
	ASSERT_NE(NULL, rec);
	json_object_put(rec);
	th_sleep_ms(600);
	EXPECT_EQ(id, shmget(self->keys[0], 0, 0));
	rec = th_journal_records(self->journal, NULL, "shm-removed");
	EXPECT_EQ(0, json_object_array_length(rec));
	json_object_put(rec);
}

TEST_F(shm, check_config_refuses_bad_shm_input)
{
	EXPECT_EQ(0, th_check_config_refuses(self->conf,
					     "[phagocyte]\n"	    /* 1 */
					     "shm = sometimes\n"    /* 2 */
					     "shm_min_age = 0\n"    /* 3 */
					     "shm_save_max = -1M\n" /* 4 */
					     "shm_interval = 1h\n", /* 5: fine */
					     (const char *const[]){
						     "2: shm: 'sometimes' is not yes or no",
						     "3: shm_min_age: 0 is out of range",
						     "4: shm_save_max: '-1M' is negative",
						     NULL,
					     }));
}

TEST_HARNESS_MAIN
