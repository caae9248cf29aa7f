build2/userspace/policy/classify.o: userspace/policy/classify.c \
 userspace/policy/classify.h include/lymph/events.h \
 include/lymph/danger.h include/lymph/events.h
userspace/policy/classify.h:
include/lymph/events.h:
include/lymph/danger.h:
include/lymph/events.h:
