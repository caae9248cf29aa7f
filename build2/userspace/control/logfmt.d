build2/userspace/control/logfmt.o: userspace/control/logfmt.c \
 userspace/control/logfmt.h userspace/control/outfilter.h \
 userspace/policy/classify.h include/lymph/events.h \
 include/lymph/danger.h include/lymph/events.h
userspace/control/logfmt.h:
userspace/control/outfilter.h:
userspace/policy/classify.h:
include/lymph/events.h:
include/lymph/danger.h:
include/lymph/events.h:
