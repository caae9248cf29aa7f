build2/userspace/lib/privs.o: userspace/lib/privs.c userspace/lib/privs.h
userspace/lib/privs.h:
