build2/userspace/lib/binpath.o: userspace/lib/binpath.c \
 userspace/lib/binpath.h
userspace/lib/binpath.h:
