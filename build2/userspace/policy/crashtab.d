build2/userspace/policy/crashtab.o: userspace/policy/crashtab.c \
 userspace/policy/crashtab.h userspace/policy/decay.h \
 include/lymph/events.h
userspace/policy/crashtab.h:
userspace/policy/decay.h:
include/lymph/events.h:
