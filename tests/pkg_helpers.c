// SPDX-License-Identifier: GPL-2.0-only
/* The packaging tests' helpers (pkg_helpers.h), built once into libth.a. */
#define TH_NO_HARNESS
#include "helpers.h"
#include "pkg_helpers.h"

int find_top(char *top, size_t cap, char *build, size_t bcap)
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

int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

void unit_value(const char *unit, const char *key, char *out, size_t cap)
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

int pkg_sh(struct th_cmd *r, const char *top, const char *build, const char *t, const char *script,
	   int timeout_ms)
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
