build2/userspace/control/format.o: userspace/control/format.c \
 userspace/control/format.h userspace/policy/classify.h \
 include/lymph/events.h include/lymph/danger.h include/lymph/events.h \
 include/lymph/names.h userspace/lib/signames.h
userspace/control/format.h:
userspace/policy/classify.h:
include/lymph/events.h:
include/lymph/danger.h:
include/lymph/events.h:
include/lymph/names.h:
userspace/lib/signames.h:
