build2/userspace/lib/atomic_file.o: userspace/lib/atomic_file.c \
 userspace/lib/atomic_file.h
userspace/lib/atomic_file.h:
