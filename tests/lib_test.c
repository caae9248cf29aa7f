// SPDX-License-Identifier: GPL-2.0-only
/*
 * The helpers of userspace/lib/ that everything else builds on, without
 * root: atomic file replacement (old or new content, never a mix; the mode
 * asked for, whatever the umask; nothing left behind on failure, whole or
 * piece by piece), the monotonic/wall clock conversion, the /proc walk and
 * the hash table.
 */
#include <pthread.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "atomic_file.h"
#include "binpath.h"
#include "clock.h"
#include "fleet.h"
#include "hashtab.h"
#include "nofile.h"
#include "procfs.h"
#include "sha256.h"
#include "smallfile.h"

FIXTURE(dir)
{
	char path[PATH_MAX];
};

FIXTURE_SETUP(dir)
{
	ASSERT_EQ(0, th_mkdtemp(self->path, sizeof(self->path), "lib"));
}

FIXTURE_TEARDOWN(dir)
{
	th_rmdir_flat(self->path);
}

static void read_back(struct __test_metadata *_metadata, const char *path, const char *want)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LE(0, n);
	buf[n] = 0;
	EXPECT_STREQ(want, buf);
}

TEST_F(dir, replaces_whole_file_with_mode)
{
	char f[PATH_MAX + 16], tmp[PATH_MAX + 32];
	struct iovec iov[2] = {
		{ .iov_base = "new ", .iov_len = 4 },
		{ .iov_base = "content", .iov_len = 7 },
	};
	struct stat st;
	mode_t old = umask(077);

	snprintf(f, sizeof(f), "%s/state", self->path);
	ASSERT_EQ(0, atomic_write(f, 0644, "old content, longer than the new", 32));
	read_back(_metadata, f, "old content, longer than the new");
	ASSERT_EQ(0, atomic_write_iov(f, 0644, iov, 2));
	umask(old);
	read_back(_metadata, f, "new content");
	ASSERT_EQ(0, stat(f, &st));
	EXPECT_EQ(0644u, st.st_mode & 07777)
	TH_LOG("mode %o: the umask leaked in", st.st_mode & 07777);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f);
	EXPECT_NE(0, access(tmp, F_OK)) TH_LOG("%s left behind", tmp);
}

TEST_F(dir, failure_keeps_the_old_file)
{
	char f[PATH_MAX + 16], tmp[PATH_MAX + 32];

	snprintf(f, sizeof(f), "%s/state", self->path);
	ASSERT_EQ(0, atomic_write(f, 0600, "old", 3));
	/* A directory where the temporary file must go: open() fails. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", f);
	ASSERT_EQ(0, mkdir(tmp, 0700));
	EXPECT_GT(0, atomic_write(f, 0600, "new", 3));
	read_back(_metadata, f, "old");
	rmdir(tmp);
	/* No such directory at all. */
	snprintf(f, sizeof(f), "%s/missing/state", self->path);
	EXPECT_EQ(-ENOENT, atomic_write(f, 0600, "x", 1));
}

/* The piecewise form: PATH keeps the old content until commit, the fd
 * stays usable after it (the journal appends on), abort leaves nothing. */
TEST_F(dir, piecewise_commit_and_abort)
{
	char f[PATH_MAX + 16], tmp[PATH_MAX + 32];
	struct atomic_file af;

	snprintf(f, sizeof(f), "%s/journal", self->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f);
	ASSERT_EQ(0, atomic_write(f, 0600, "old", 3));
	ASSERT_EQ(0, atomic_file_begin(&af, f, 0600, O_RDWR | O_APPEND));
	ASSERT_EQ(0, write_all(af.fd, "snap", 4));
	read_back(_metadata, f, "old");
	ASSERT_EQ(0, atomic_file_commit(&af));
	ASSERT_EQ(0, write_all(af.fd, "+more", 5));
	close(af.fd);
	read_back(_metadata, f, "snap+more");
	EXPECT_NE(0, access(tmp, F_OK)) TH_LOG("%s left behind", tmp);

	ASSERT_EQ(0, atomic_file_begin(&af, f, 0600, O_WRONLY));
	ASSERT_EQ(0, write_all(af.fd, "half", 4));
	atomic_file_abort(&af);
	EXPECT_EQ(-EBADF, af.fd);
	read_back(_metadata, f, "snap+more");
	EXPECT_NE(0, access(tmp, F_OK)) TH_LOG("%s left behind by abort", tmp);
}

static int walk_has(const char *dir, long want, int *n)
{
	struct proc_iter it;
	int found = 0;
	long v;

	*n = 0;
	if (proc_iter_open(&it, dir))
		return -1;
	while ((v = proc_iter_next(&it)) >= 0) {
		found |= v == want;
		(*n)++;
	}
	proc_iter_close(&it);
	return found;
}

/* Only numbered entries, whatever else the directory holds. */
TEST_F(dir, proc_iter_returns_only_numbers)
{
	static const char *const names[] = { "12", "0", "self", "3x", "abc", "99999999999" };
	char f[PATH_MAX + 32];
	struct proc_iter it;
	long v, sum = 0;
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(f, sizeof(f), "%s/%s", self->path, names[i]);
		ASSERT_EQ(0, mkdir(f, 0700));
	}
	ASSERT_EQ(0, proc_iter_open(&it, self->path));
	while ((v = proc_iter_next(&it)) >= 0) {
		sum += v;
		n++;
	}
	proc_iter_close(&it);
	EXPECT_EQ(2, n);
	EXPECT_EQ(12, sum);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(f, sizeof(f), "%s/%s", self->path, names[i]);
		rmdir(f);
	}
}

/* The real /proc: this process among the processes, this thread among
 * its threads, an fd it opened among its fds; a gone pid is -ENOENT. */
TEST(proc_iter_walks_processes_threads_fds)
{
	struct proc_iter it;
	char dir[64];
	int n, fd = open("/dev/null", O_RDONLY);

	/* A high number, which the walk's own directory fd will not reuse. */
	ASSERT_EQ(777, dup2(fd, 777));
	close(fd);
	fd = 777;
	EXPECT_EQ(1, walk_has("/proc", getpid(), &n));
	EXPECT_LT(1, n);
	snprintf(dir, sizeof(dir), "/proc/%d/task", getpid());
	EXPECT_EQ(1, walk_has(dir, gettid(), &n));
	snprintf(dir, sizeof(dir), "/proc/%d/fd", getpid());
	EXPECT_EQ(1, walk_has(dir, fd, &n));
	close(fd);
	EXPECT_EQ(0, walk_has(dir, fd, &n));
	ASSERT_EQ(0, proc_iter_open_pid(&it, getpid(), "fd"));
	proc_iter_close(&it);
	proc_iter_close(&it); /* twice is harmless */
	EXPECT_EQ(-ENOENT, proc_iter_open_pid(&it, 0x7fffffff, "fd"));
	EXPECT_EQ(-1, proc_iter_next(&it));
	proc_iter_close(&it);
}

/* The fields of this process's /proc/PID/status: a whole key only, the
 * blanks around the value removed, a value cut to the buffer; a missing key
 * or a gone process is -ENOENT; the real uid and leaks' "N kB" fields read
 * through it. */
TEST(proc_status_field_reads_one_whole_key)
{
	char val[64], small[4];
	uint32_t uid = 12345;

	ASSERT_EQ(0, prctl(PR_SET_NAME, "lib test"));
	ASSERT_EQ(0, proc_status_field(getpid(), "Name", val, sizeof(val)));
	EXPECT_STREQ("lib test", val);
	ASSERT_EQ(0, proc_status_field(getpid(), "Uid", val, sizeof(val)));
	EXPECT_EQ(getuid(), (uid_t)strtoul(val, NULL, 10)) TH_LOG("Uid: '%s'", val);
	EXPECT_NE(NULL, strchr(val, '\t')) TH_LOG("real, effective, saved, fs: '%s'", val);
	ASSERT_EQ(0, proc_status_field(getpid(), "VmRSS", val, sizeof(val)));
	EXPECT_NE(NULL, strstr(val, " kB")) TH_LOG("'%s'", val);
	EXPECT_NE(' ', val[0]);
	EXPECT_EQ(-ENOENT, proc_status_field(getpid(), "Vm", val, sizeof(val)))
	TH_LOG("a prefix of a key is not the key");
	EXPECT_EQ(-ENOENT, proc_status_field(getpid(), "NoSuchKey", val, sizeof(val)));
	EXPECT_EQ(0, proc_status_field(getpid(), "Name", small, sizeof(small)));
	EXPECT_STREQ("lib", small);
	EXPECT_EQ(-ENOENT, proc_status_field(0x7fffffff, "Name", val, sizeof(val)));
	ASSERT_EQ(0, proc_real_uid(getpid(), &uid));
	EXPECT_EQ(getuid(), uid);
	EXPECT_EQ(-ENOENT, proc_real_uid(0x7fffffff, &uid));
}

/* A child's /proc/PID/stat state once it is c, within 5 s; else 0. */
static char wait_state(pid_t pid, char c)
{
	struct proc_stat st = { 0 };
	int i;

	for (i = 0; i < 500; i++) {
		if (!proc_stat_read(pid, &st) && st.state == c)
			return c;
		usleep(10000);
	}
	return st.state;
}

static void *block_on(void *fd)
{
	char c;

	(void)!read(*(int *)fd, &c, 1);
	return NULL;
}

/* An exited process waiting to be reaped is not running (lymphd must not
 * adopt it as a service's instance), a main thread gone by pthread_exit()
 * while another thread runs is. */
TEST(proc_running_tells_a_zombie_from_a_live_process)
{
	int hold[2];
	pid_t dead, leader;

	EXPECT_EQ(1, proc_running(getpid()));
	EXPECT_EQ(0, proc_running(0x7fffffff));
	EXPECT_EQ(0, proc_running(0));
	dead = fork();
	ASSERT_LE(0, dead);
	if (!dead)
		_exit(0);
	ASSERT_EQ('Z', wait_state(dead, 'Z'));
	EXPECT_EQ(1, proc_alive(dead)) TH_LOG("/proc/PID of a zombie exists");
	EXPECT_EQ(0, proc_running(dead));
	ASSERT_EQ(dead, waitpid(dead, NULL, 0));

	ASSERT_EQ(0, pipe(hold));
	leader = fork();
	ASSERT_LE(0, leader);
	if (!leader) {
		pthread_t t;

		close(hold[1]);
		if (pthread_create(&t, NULL, block_on, &hold[0]))
			_exit(1);
		pthread_exit(NULL);
	}
	close(hold[0]);
	EXPECT_EQ('Z', wait_state(leader, 'Z'));
	EXPECT_EQ(1, proc_running(leader)) TH_LOG("its other thread runs");
	close(hold[1]); /* the thread returns: the process ends */
	ASSERT_EQ(leader, waitpid(leader, NULL, 0));
}

/* The hash table, with a key whose home slot the test chooses: key k
 * lives at home k >> 8, so runs collide and wrap around the end. */
struct tent {
	uint32_t key; /* 0: empty */
	uint32_t payload;
};

static int tent_used(const void *p)
{
	return ((const struct tent *)p)->key != 0;
}

static uint64_t tent_hash(const void *p)
{
	return ((const struct tent *)p)->key >> 8;
}

static int tent_match(const void *p, const void *key)
{
	return ((const struct tent *)p)->key == *(const uint32_t *)key;
}

static const struct hashtab_ops tent_ops = {
	.used = tent_used,
	.hash = tent_hash,
	.match = tent_match,
};

static struct tent *tent_put(struct hashtab *t, uint32_t key)
{
	struct tent *e = hashtab_probe(t, &key, key >> 8);

	if (!e->key) {
		e->key = key;
		e->payload = key * 3;
		t->count++;
	}
	return e;
}

/* lymphd raises a low soft descriptor limit to the hard one before its
 * sensors load (a unit's LimitNOFILE=64:...); unlimited reads INT_MAX. */
TEST(nofile_raise_lifts_the_soft_limit_to_the_hard_one)
{
	struct rlimit saved, low, now;
	uint64_t got;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &saved));
	if (saved.rlim_max < 128)
		SKIP(return, "the hard limit is below 128");
	low.rlim_cur = 64;
	low.rlim_max = saved.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	got = nofile_raise();
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &now));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &saved));
	EXPECT_EQ(saved.rlim_max, now.rlim_cur);
	EXPECT_EQ(saved.rlim_max == RLIM_INFINITY ? (uint64_t)INT_MAX : (uint64_t)saved.rlim_max,
		  got);
}

TEST(hashtab_wrapping_runs_survive_removal)
{
	struct hashtab t;
	uint32_t k;

	ASSERT_EQ(-EINVAL, hashtab_init(&t, &tent_ops, sizeof(struct tent), 12));
	ASSERT_EQ(0, hashtab_init(&t, &tent_ops, sizeof(struct tent), 8));
	/* Five keys homed at slot 6: they fill 6, 7, 0, 1, 2. */
	for (k = 0; k < 5; k++)
		tent_put(&t, (6u << 8) | (k + 1));
	/* One homed at 0 goes after the run, to 3. */
	tent_put(&t, 0x001);
	EXPECT_EQ(6u, t.count);
	EXPECT_EQ(0x001u, ((struct tent *)hashtab_at(&t, 3))->key);
	/* Removing the head of the run moves its tail back across the end. */
	hashtab_remove(&t, hashtab_find(&t, &(uint32_t){ (6u << 8) | 1 }, 6));
	EXPECT_EQ(5u, t.count);
	for (k = 1; k < 5; k++) {
		uint32_t key = (6u << 8) | (k + 1);
		struct tent *e = hashtab_find(&t, &key, 6);

		ASSERT_NE(NULL, e) TH_LOG("key %#x lost", key);
		EXPECT_EQ(key * 3, e->payload);
	}
	EXPECT_NE(NULL, hashtab_find(&t, &(uint32_t){ 0x001 }, 0));
	EXPECT_EQ(NULL, hashtab_find(&t, &(uint32_t){ (6u << 8) | 1 }, 6));
	/* The key homed at 0 moved back to the slot nearest its home. */
	EXPECT_EQ(0x001u, ((struct tent *)hashtab_at(&t, 2))->key);
	hashtab_free(&t);
	EXPECT_EQ(NULL, hashtab_find(&t, &(uint32_t){ 0x001 }, 0));
}

/* Random puts and removes against a plain array. */
TEST(hashtab_random_against_model)
{
	enum {
		CAP = 64,
		KEYS = 48
	};
	uint32_t model[KEYS * 8] = { 0 }; /* model[i]: key i + 1 present */
	unsigned int seed = 1;
	struct hashtab t;
	int step, i, n = 0;

	ASSERT_EQ(0, hashtab_init(&t, &tent_ops, sizeof(struct tent), CAP));
	for (step = 0; step < 20000; step++) {
		uint32_t idx = (uint32_t)rand_r(&seed) % (KEYS * 8);
		/* Few homes (the high bits), so runs are long. */
		uint32_t key = ((idx % 16) << 8) | (idx / 16 + 1);
		struct tent *e = hashtab_find(&t, &key, key >> 8);

		ASSERT_EQ(!!model[idx], e != NULL) TH_LOG("step %d key %#x", step, key);
		if (e) {
			hashtab_remove(&t, e);
			model[idx] = 0;
			n--;
		} else if (n < KEYS) {
			tent_put(&t, key);
			model[idx] = 1;
			n++;
		}
		ASSERT_EQ((size_t)n, t.count);
	}
	for (i = 0; i < KEYS * 8; i++) {
		uint32_t key = (((uint32_t)i % 16) << 8) | ((uint32_t)i / 16 + 1);

		EXPECT_EQ(!!model[i], hashtab_find(&t, &key, key >> 8) != NULL);
	}
	hashtab_free(&t);
}

/* binpath on the hash table: set, replace, unknown key, starting over
 * when half full (cap 64 for 32 entries). */
TEST(binpath_remembers_and_starts_over)
{
	struct binpath b;
	char want[32];
	uint64_t i;

	ASSERT_EQ(0, binpath_init(&b, 32));
	EXPECT_EQ(64u, b.ht.cap);
	binpath_set(&b, 8, 100, "/bin/a");
	binpath_set(&b, 8, 100, "/bin/b");
	binpath_set(&b, 0, 0, "/bin/unknown");
	EXPECT_STREQ("/bin/b", binpath_lookup(&b, 8, 100));
	EXPECT_EQ(NULL, binpath_lookup(&b, 9, 100));
	EXPECT_EQ(NULL, binpath_lookup(&b, 0, 0));
	EXPECT_EQ(1u, b.ht.count);
	for (i = 1; i < 32; i++) {
		snprintf(want, sizeof(want), "/bin/%ju", (uintmax_t)i);
		binpath_set(&b, 8, 100 + i, want);
	}
	EXPECT_EQ(32u, b.ht.count);
	snprintf(want, sizeof(want), "/bin/%d", 31);
	EXPECT_STREQ(want, binpath_lookup(&b, 8, 131));
	binpath_set(&b, 8, 999, "/bin/new"); /* full: starts over */
	EXPECT_EQ(1u, b.ht.count);
	EXPECT_EQ(NULL, binpath_lookup(&b, 8, 100));
	EXPECT_STREQ("/bin/new", binpath_lookup(&b, 8, 999));
	binpath_free(&b);
	EXPECT_EQ(NULL, binpath_lookup(&b, 8, 999));
}

TEST(hash_spreads_dense_keys)
{
	uint8_t seen[256] = { 0 };
	int i, used = 0;

	EXPECT_EQ(hash_u64(42), hash_u64(42));
	EXPECT_NE(hash_file(1, 2), hash_file(2, 1));
	EXPECT_NE(hash_add(hash_file(1, 2), 1000), hash_add(hash_file(1, 2), 1001));
	/* 256 consecutive inode numbers land on most of 256 slots. */
	for (i = 0; i < 256; i++)
		seen[hash_file(8, 1000 + (uint64_t)i) & 255] = 1;
	for (i = 0; i < 256; i++)
		used += seen[i];
	EXPECT_LT(140, used) TH_LOG("%d of 256 slots", used);
	EXPECT_EQ(64u, hashtab_cap_for(64, 32, 1, 2));
	EXPECT_EQ(128u, hashtab_cap_for(64, 33, 1, 2));
	EXPECT_EQ(16u, hashtab_cap_for(16, 12, 3, 4));
	EXPECT_EQ(32u, hashtab_cap_for(16, 13, 3, 4));
}

TEST_F(dir, pidfile_read)
{
	char f[PATH_MAX + 16], l[PATH_MAX + 16];

	snprintf(f, sizeof(f), "%s/pid", self->path);
	snprintf(l, sizeof(l), "%s/link", self->path);
	EXPECT_EQ(0, proc_pidfile_read(f)) TH_LOG("missing");
	ASSERT_EQ(0, atomic_write(f, 0644, "1234\n", 5));
	EXPECT_EQ(1234, proc_pidfile_read(f));
	ASSERT_EQ(0, symlink(f, l));
	EXPECT_EQ(0, proc_pidfile_read(l)) TH_LOG("a symlink is not followed");
	ASSERT_EQ(0, atomic_write(f, 0644, "1\n", 2));
	EXPECT_EQ(0, proc_pidfile_read(f)) TH_LOG("pid 1 is never a daemon's");
	ASSERT_EQ(0, atomic_write(f, 0644, "nginx\n", 6));
	EXPECT_EQ(0, proc_pidfile_read(f));
	ASSERT_EQ(0, atomic_write(f, 0644, "", 0));
	EXPECT_EQ(0, proc_pidfile_read(f));
	/* a FIFO in its place is no pidfile, and opening it does not wait */
	ASSERT_EQ(0, unlink(f));
	ASSERT_EQ(0, mkfifo(f, 0644));
	EXPECT_EQ(0, proc_pidfile_read(f));
	EXPECT_EQ(0, proc_pidfile_read_owned(f, 0));
}

/* A pidfile owned by root or by the owner named, nobody else. */
TEST_F(dir, pidfile_read_owned)
{
	char f[PATH_MAX + 16];

	if (!th_is_root())
		SKIP(return, "needs root to give the file away");
	snprintf(f, sizeof(f), "%s/pid", self->path);
	ASSERT_EQ(0, atomic_write(f, 0644, "1234\n", 5));
	ASSERT_EQ(0, chown(f, 4321, 4321));
	EXPECT_EQ(1234, proc_pidfile_read(f));
	EXPECT_EQ(1234, proc_pidfile_read_owned(f, 4321));
	EXPECT_EQ(0, proc_pidfile_read_owned(f, 1000));
	ASSERT_EQ(0, chown(f, 0, 0));
	EXPECT_EQ(1234, proc_pidfile_read_owned(f, 1000));
}

/* One read: the start of the file up to cap - 1 bytes, NUL-terminated;
 * -errno with an empty buffer; flags reach open (a FIFO with O_NONBLOCK
 * reads as empty instead of waiting). */
TEST_F(dir, small_file_read)
{
	char f[PATH_MAX + 16], buf[16] = "junk";

	snprintf(f, sizeof(f), "%s/small", self->path);
	EXPECT_EQ(-ENOENT, small_file_read(f, 0, buf, sizeof(buf)));
	EXPECT_STREQ("", buf);
	ASSERT_EQ(0, atomic_write(f, 0644, "abc\n", 4));
	EXPECT_EQ(4, small_file_read(f, 0, buf, sizeof(buf)));
	EXPECT_STREQ("abc\n", buf);
	EXPECT_EQ(2, small_file_read(f, 0, buf, 3));
	EXPECT_STREQ("ab", buf);
	EXPECT_EQ(0, small_file_read(f, 0, buf, 1));
	EXPECT_STREQ("", buf);
	EXPECT_EQ(-EISDIR, small_file_read(self->path, 0, buf, sizeof(buf)));
	ASSERT_EQ(0, unlink(f));
	ASSERT_EQ(0, mkfifo(f, 0644));
	EXPECT_EQ(0, small_file_read(f, O_NONBLOCK, buf, sizeof(buf)));
}

TEST(clock_offset_round_trip)
{
	struct clock_offset o;
	uint64_t m = clock_mono_ns(), w = clock_wall_ns();

	clock_offset_init(&o);
	EXPECT_EQ(0u, clock_to_wall(&o, 0)) TH_LOG("never must stay never");
	EXPECT_EQ(m, clock_to_mono(&o, clock_to_wall(&o, m)));
	/* Now in wall time is within a second of the wall clock. */
	EXPECT_LT(llabs((long long)(clock_to_wall(&o, m) - w)), 1000000000LL);
	/* A wall time from before this boot is long past, not never. */
	EXPECT_EQ(1u, clock_to_mono(&o, 1));
}

TEST(clock_boot_counts_from_the_same_start)
{
	uint64_t m = clock_mono_ns(), b = clock_boot_ns();

	/* CLOCK_BOOTTIME is CLOCK_MONOTONIC plus the time suspended. */
	EXPECT_GE(b, m);
}

TEST(hex_of_bytes)
{
	static const uint8_t b[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(b) + 1];

	memset(out, 'x', sizeof(out));
	lymph_hex(out, b, sizeof(b));
	EXPECT_STREQ("00017f80abff", out);
	lymph_hex(out, b, 0);
	EXPECT_STREQ("", out);
}

/* The fleet's identity of a binary: its SHA-256 and its GNU build id, in
 * hex, the build id as readelf prints it. */
TEST_F(dir, fleet_identity_hashes_and_reads_the_build_id)
{
	char f[PATH_MAX + 16], sha[FLEET_SHA_LEN], bid[FLEET_BUILDID_LEN], want[FLEET_BUILDID_LEN] = "";
	char line[256], *p;
	FILE *rd;
	int fd;

	snprintf(f, sizeof(f), "%s/abc", self->path);
	ASSERT_EQ(0, atomic_write(f, 0644, "abc", 3));
	fd = open(f, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fleet_identity(fd, sha, bid));
	close(fd);
	EXPECT_STREQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", sha);
	EXPECT_STREQ("", bid) TH_LOG("not an ELF file: no build id");

	snprintf(line, sizeof(line), "readelf -n /proc/%d/exe 2>/dev/null", (int)getpid());
	rd = popen(line, "r");
	ASSERT_NE(NULL, rd);
	while (fgets(line, sizeof(line), rd))
		if ((p = strstr(line, "Build ID: ")))
			sscanf(p + 10, "%128s", want);
	pclose(rd);
	if (!want[0])
		SKIP(return, "readelf shows no build id for this test binary");
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fleet_identity(fd, sha, bid));
	close(fd);
	EXPECT_STREQ(want, bid);
	EXPECT_EQ(64u, strlen(sha));
}

TEST_HARNESS_MAIN
