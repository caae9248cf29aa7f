// SPDX-License-Identifier: GPL-2.0-only
/* Load in a cgroup of its own (loadcg.h), built once into libth.a. */
#define TH_NO_HARNESS
#include "helpers.h"
#include "loadcg.h"
#include "psi.h"

void loadcg_init(struct loadcg *c)
{
	memset(c, 0, sizeof(*c));
}

static int loadcg__write(const char *dir, const char *file, const char *val)
{
	char p[PATH_MAX + 64];
	int fd, err = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static void loadcg__rmdir(const char *dir)
{
	int i;

	if (!dir[0])
		return;
	for (i = 0; i < 200; i++) {
		if (!rmdir(dir) || errno == ENOENT)
			return;
		th_sleep_ms(10);
	}
	th_diag("failed to remove cgroup %s: %s", dir, strerror(errno));
}

void loadcg_stop(struct loadcg *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		kill(c->pids[i], SIGKILL);
	for (i = 0; i < c->n; i++)
		waitpid(c->pids[i], NULL, 0);
	c->n = 0;
}

void loadcg_destroy(struct loadcg *c)
{
	loadcg_stop(c);
	loadcg__rmdir(c->v2);
	loadcg__rmdir(c->v1mem);
	if (c->file[0])
		unlink(c->file);
	c->v2[0] = c->v1mem[0] = c->file[0] = 0;
}

int loadcg_create(struct loadcg *c, const char *tag, const char **why)
{
	const char *root = psi_cgroup_root();
	char p[PATH_MAX];

	if (!root) {
		*why = "no cgroup v2 hierarchy mounted";
		return -ENODEV;
	}
	snprintf(c->v2, sizeof(c->v2), "%s/lymph-%s.%d", root, tag, (int)getpid());
	if (mkdir(c->v2, 0755)) {
		*why = "cannot create a cgroup v2 directory";
		c->v2[0] = 0;
		return -errno;
	}
	snprintf(p, sizeof(p), "%s/cpu.pressure", c->v2);
	if (access(p, R_OK)) {
		*why = "the cgroup v2 tree has no pressure files (cgroup PSI off)";
		return -ENOENT;
	}
	return 0;
}

int loadcg_limit_memory(struct loadcg *c, const char *tag, unsigned long bytes, const char **why)
{
	char p[PATH_MAX], val[32];

	snprintf(val, sizeof(val), "%lu", bytes);
	snprintf(p, sizeof(p), "%s/memory.max", c->v2);
	if (!access(p, W_OK))
		return loadcg__write(c->v2, "memory.max", val);
	if (access("/sys/fs/cgroup/memory/cgroup.procs", W_OK)) {
		*why = "no memory controller to limit the workload (v2 memory.max or v1 memory)";
		return -ENODEV;
	}
	snprintf(c->v1mem, sizeof(c->v1mem), "/sys/fs/cgroup/memory/lymph-%s.%d", tag,
		 (int)getpid());
	if (mkdir(c->v1mem, 0755)) {
		c->v1mem[0] = 0;
		*why = "cannot create a v1 memory cgroup";
		return -errno;
	}
	return loadcg__write(c->v1mem, "memory.limit_in_bytes", val);
}

int loadcg_spawn(struct loadcg *c, void (*work)(const char *), const char *arg)
{
	int pipefd[2];
	char ch = 0;
	pid_t pid;

	if (c->n == LOADCG_MAX)
		return -E2BIG;
	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		char me[32];

		close(pipefd[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
		snprintf(me, sizeof(me), "%d\n", (int)getpid());
		if ((c->v1mem[0] && loadcg__write(c->v1mem, "cgroup.procs", me)) ||
		    loadcg__write(c->v2, "cgroup.procs", me))
			_exit(2);
		if (write(pipefd[1], &ch, 1) != 1)
			_exit(3);
		close(pipefd[1]);
		work(arg);
		_exit(0);
	}
	close(pipefd[1]);
	c->pids[c->n++] = pid;
	if (read(pipefd[0], &ch, 1) != 1) {
		close(pipefd[0]);
		return -EIO;
	}
	close(pipefd[0]);
	return 0;
}

void loadcg_spin(const char *arg)
{
	volatile unsigned long x = 0;
	int64_t end = th_now_ms() + 60000;

	(void)arg;
	while (th_now_ms() < end)
		x++;
}

void loadcg_thrash(const char *path)
{
	static char buf[1 << 20];
	int64_t end = th_now_ms() + 60000;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		_exit(4);
	while (th_now_ms() < end) {
		off_t off = 0;
		ssize_t r;

		while ((r = pread(fd, buf, sizeof(buf), off)) > 0)
			off += r;
	}
}

int loadcg_make_file(struct loadcg *c, int mib)
{
	static char block[1 << 20];
	int fd, i, err = 0;

	snprintf(c->file, sizeof(c->file), "/var/tmp/lymph-thrash.%d", (int)getpid());
	memset(block, 0x5a, sizeof(block));
	fd = open(c->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (i = 0; i < mib && !err; i++)
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			err = -EIO;
	if (!err && fsync(fd))
		err = -errno;
	if (!err)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return err;
}
