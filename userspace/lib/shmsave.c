// SPDX-License-Identifier: GPL-2.0-only
/* A saved SysV shared memory segment, and the way back (shmsave.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include "shmsave.h"

int shm_restore(const char *path, int *id)
{
	struct shm_saved h;
	struct shmid_ds ds;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), sid, err = 0;
	void *m;

	if (fd < 0)
		return -errno;
	if (read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, SHM_MAGIC, sizeof(h.magic))) {
		close(fd);
		return -EINVAL;
	}
	sid = shmget(h.key, h.size, IPC_CREAT | IPC_EXCL | (int)(h.mode & 0777));
	if (sid < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	m = shmat(sid, NULL, 0);
	if (m == (void *)-1) {
		err = -errno;
	} else {
		size_t got = 0;

		while (got < h.size) {
			ssize_t r = read(fd, (char *)m + got, h.size - got);

			if (r <= 0) {
				err = r < 0 ? -errno : -EIO;
				break;
			}
			got += (size_t)r;
		}
		shmdt(m);
	}
	if (!err && !shmctl(sid, IPC_STAT, &ds)) {
		ds.shm_perm.uid = h.uid;
		ds.shm_perm.gid = h.gid;
		if (shmctl(sid, IPC_SET, &ds))
			err = -errno;
	}
	close(fd);
	if (err) {
		shmctl(sid, IPC_RMID, NULL);
		return err;
	}
	*id = sid;
	return 0;
}
