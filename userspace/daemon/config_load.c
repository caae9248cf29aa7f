// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading the policy files, with sshd-StrictModes-like checks: a policy
 * decides what lymphd kills, restarts and quarantines as root, so a file or
 * directory that someone other than root could change is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "config.h"
#include "fleet.h"

#define CONFIG_FILE_MAX (1 << 20)

static int strict_mode_ok(const struct stat *st, const char *path, struct cfg_errors *errs,
			  const char *what)
{
	char msg[512];

	if (st->st_uid != 0)
		snprintf(msg, sizeof(msg),
			 "%s is owned by uid %u, not root: refused (chown root %s)", what,
			 st->st_uid, path);
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		snprintf(msg, sizeof(msg),
			 "%s is writable by group or others (mode %04o): refused (chmod go-w %s)",
			 what, st->st_mode & 07777, path);
	else
		return 1;
	{
		char **grown = realloc(errs->msg, (errs->n + 1) * sizeof(*grown));

		if (grown) {
			errs->msg = grown;
			if (asprintf(&errs->msg[errs->n], "%s: %s", path, msg) >= 0)
				errs->n++;
		}
	}
	return 0;
}

static void add_err(struct cfg_errors *errs, const char *path, const char *msg, int err)
{
	char **grown = realloc(errs->msg, (errs->n + 1) * sizeof(*grown));

	if (!grown)
		return;
	errs->msg = grown;
	if (asprintf(&errs->msg[errs->n], "%s: %s: %s", path, msg, strerror(err)) >= 0)
		errs->n++;
}

/* The directory holding path must pass the same checks. */
static int check_parent(const char *path, struct cfg_errors *errs)
{
	char *dir = strdup(path), *slash;
	struct stat st;
	int ok = 1;

	if (!dir)
		return 0;
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = 0;
	else if (slash)
		strcpy(dir, "/");
	else
		strcpy(dir, ".");
	if (stat(dir, &st) == 0)
		ok = strict_mode_ok(&st, dir, errs, "the directory");
	free(dir);
	return ok;
}

/* Read a whole file, refusing non-regular, unsafe, oversized or binary files. */
static int read_file(const char *path, char **out, struct cfg_errors *errs)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;

		add_err(errs, path, err == ELOOP ? "is a symbolic link (refused)" : "cannot open",
			err);
		return -err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		add_err(errs, path, "not a regular file of at most 1 MiB", EINVAL);
		close(fd);
		return -EINVAL;
	}
	if (!strict_mode_ok(&st, path, errs, "the file") || !check_parent(path, errs)) {
		close(fd);
		return -EPERM;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, st.st_size);
	close(fd);
	if (n != st.st_size) {
		add_err(errs, path, "short read", n < 0 ? errno : EIO);
		free(buf);
		return -EIO;
	}
	buf[n] = 0;
	if ((ssize_t)strlen(buf) != n) {
		add_err(errs, path, "contains a NUL byte, not a text file", EINVAL);
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	return 0;
}

static int remember(struct policy *p, const char *path, const char **name)
{
	char **grown = realloc(p->files, (p->n_files + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	p->files = grown;
	p->files[p->n_files] = strdup(path);
	if (!p->files[p->n_files])
		return -ENOMEM;
	*name = p->files[p->n_files++];
	return 0;
}

static int load_one(struct policy *p, const char *path, struct cfg_errors *errs)
{
	const char *name;
	char *text;
	int err = read_file(path, &text, errs);

	if (err)
		return err;
	err = remember(p, path, &name);
	if (!err)
		config_parse(p, name, text, errs);
	free(text);
	return err;
}

static int conf_filter(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return de->d_name[0] != '.' && n > 5 && !strcmp(de->d_name + n - 5, ".conf");
}

int config_load(struct policy *p, const char *path, struct cfg_errors *errs)
{
	return config_load_file(p, path, 0, errs);
}

int config_load_file(struct policy *p, const char *path, int must_exist, struct cfg_errors *errs)
{
	struct dirent **list = NULL;
	char dir[4096];
	struct stat st;
	int i, n, have_main;

	policy_defaults(p);
	have_main = stat(path, &st) == 0;
	/* A file named on the command line is meant: its absence is an error,
	 * never a silent run on the built-in defaults. */
	if (!have_main && must_exist) {
		add_err(errs, path, "cannot read the policy file named on the command line", errno);
		return -ENOENT;
	}
	if (have_main && load_one(p, path, errs) < 0 && !errs->n)
		return -EIO;

	snprintf(dir, sizeof(dir), "%s.d", path);
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			add_err(errs, dir, "is not a directory", ENOTDIR);
		} else if (strict_mode_ok(&st, dir, errs, "the drop-in directory")) {
			n = scandir(dir, &list, conf_filter, alphasort);
			if (n < 0)
				add_err(errs, dir, "cannot list", errno);
			for (i = 0; i < n; i++) {
				char file[4096 + 256];

				snprintf(file, sizeof(file), "%s/%s", dir, list[i]->d_name);
				load_one(p, file, errs);
				free(list[i]);
			}
			free(list);
		}
	}
	if (!errs->n)
		config_finish(p, errs);
	if (!errs->n)
		fleet_check_files(&p->fleet, errs);
	return errs->n ? -EINVAL : 0;
}
