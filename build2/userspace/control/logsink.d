build2/userspace/control/logsink.o: userspace/control/logsink.c \
 userspace/control/logfmt.h userspace/control/outfilter.h \
 userspace/policy/classify.h include/lymph/events.h \
 include/lymph/danger.h include/lymph/events.h \
 userspace/control/logsink.h
userspace/control/logfmt.h:
userspace/control/outfilter.h:
userspace/policy/classify.h:
include/lymph/events.h:
include/lymph/danger.h:
include/lymph/events.h:
userspace/control/logsink.h:
