build2/userspace/control/outfilter.o: userspace/control/outfilter.c \
 userspace/control/outfilter.h userspace/policy/classify.h \
 include/lymph/events.h include/lymph/danger.h include/lymph/events.h
userspace/control/outfilter.h:
userspace/policy/classify.h:
include/lymph/events.h:
include/lymph/danger.h:
include/lymph/events.h:
