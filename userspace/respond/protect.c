// SPDX-License-Identifier: GPL-2.0-only
#include <unistd.h>
#include "procfs.h"
#include "protect.h"

#define ANCESTORS_MAX 64

static pid_t ancestors[ANCESTORS_MAX];
static int n_ancestors;
static pid_t helper; /* lymphd's pin guard, or 0 */

void protect_init(void)
{
	pid_t pid = getpid();
	struct proc_stat st;

	n_ancestors = 0;
	while (pid > 1 && n_ancestors < ANCESTORS_MAX && !proc_stat_read(pid, &st)) {
		ancestors[n_ancestors++] = pid;
		pid = st.ppid;
	}
}

int protect_pid(pid_t pid)
{
	struct proc_stat st;
	int i;

	if (pid <= 1 || pid == getpid() || (helper > 0 && pid == helper))
		return 1;
	for (i = 0; i < n_ancestors; i++)
		if (ancestors[i] == pid)
			return 1;
	/* PF_KTHREAD (0x00200000): kernel threads. */
	if (!proc_stat_read(pid, &st) && (st.flags & 0x00200000))
		return 1;
	return 0;
}

void protect_set_helper(pid_t pid)
{
	helper = pid > 0 ? pid : 0;
}
