build2/userspace/policy/decay.o: userspace/policy/decay.c \
 userspace/policy/decay.h
userspace/policy/decay.h:
