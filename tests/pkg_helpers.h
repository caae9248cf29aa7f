/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the install, package and dkms tests: the source tree, small
 * files, shell steps, unit file values.  Include after helpers.h.
 */
#ifndef LYMPH_TEST_PKG_HELPERS_H
#define LYMPH_TEST_PKG_HELPERS_H

#include <sys/stat.h>

/* The source tree: the first ancestor of the build directory with VERSION
 * and systemd/lymphd.service. */
static inline int find_top(char *top, size_t cap, char *build, size_t bcap)
{
	char path[PATH_MAX + 64];
	char *slash;

	if (!realpath(th_build_dir(), build))
		return -errno;
	(void)bcap;
	snprintf(top, cap, "%s", build);
	for (;;) {
		snprintf(path, sizeof(path), "%s/systemd/lymphd.service", top);
		if (!access(path, R_OK)) {
			snprintf(path, sizeof(path), "%s/VERSION", top);
			if (!access(path, R_OK))
				return 0;
		}
		slash = strrchr(top, '/');
		if (!slash || slash == top)
			return -ENOENT;
		*slash = '\0';
	}
}

static inline int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static inline int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t n = (ssize_t)strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

/* Mode of a path (permission bits), -1 when missing. */
static inline int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

/* The value of KEY= in a unit file (first occurrence), or "". */
static inline void unit_value(const char *unit, const char *key, char *out, size_t cap)
{
	size_t n = strlen(key);
	const char *p = unit;

	out[0] = '\0';
	while (p && *p) {
		if (!strncmp(p, key, n) && p[n] == '=') {
			const char *end = strchr(p, '\n');
			size_t len = end ? (size_t)(end - p - n - 1) : strlen(p + n + 1);

			if (len >= cap)
				len = cap - 1;
			memcpy(out, p + n + 1, len);
			out[len] = '\0';
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

/*
 * sh -c SCRIPT, with TOP, BUILD and T (a scratch directory) in its
 * environment and no make state from a calling make; its wait status, or
 * -1 when it could not be run.  Output in *r.
 */
static inline int pkg_sh(struct th_cmd *r, const char *top, const char *build, const char *t,
			 const char *script, int timeout_ms)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	char tope[PATH_MAX + 8], builde[PATH_MAX + 8], te[PATH_MAX + 8];
	char *env[] = { tope, builde, te, NULL };
	struct th_cmd_opts o = { .env = env, .timeout_ms = timeout_ms };

	snprintf(tope, sizeof(tope), "TOP=%s", top);
	snprintf(builde, sizeof(builde), "BUILD=%s", build);
	snprintf(te, sizeof(te), "T=%s", t);
	unsetenv("MAKEFLAGS");
	unsetenv("MAKELEVEL");
	unsetenv("MFLAGS");
	if (th_run(argv, &o, r))
		return -1;
	return r->status;
}

#endif
