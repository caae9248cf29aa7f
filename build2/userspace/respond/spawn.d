build2/userspace/respond/spawn.o: userspace/respond/spawn.c \
 userspace/respond/spawn.h
userspace/respond/spawn.h:
