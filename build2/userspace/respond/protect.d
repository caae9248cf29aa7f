build2/userspace/respond/protect.o: userspace/respond/protect.c \
 userspace/lib/procfs.h userspace/respond/protect.h
userspace/lib/procfs.h:
userspace/respond/protect.h:
