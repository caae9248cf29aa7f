build2/userspace/lib/procfs.o: userspace/lib/procfs.c \
 userspace/lib/procfs.h
userspace/lib/procfs.h:
