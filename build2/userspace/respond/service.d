build2/userspace/respond/service.o: userspace/respond/service.c \
 include/lymph/names.h include/lymph/events.h userspace/lib/procfs.h \
 userspace/respond/protect.h userspace/respond/service.h \
 userspace/policy/classify.h include/lymph/events.h \
 include/lymph/danger.h userspace/policy/config.h \
 userspace/policy/fleet_conf.h userspace/lib/journal.h \
 userspace/policy/supervise.h userspace/policy/config.h \
 userspace/lib/signames.h userspace/respond/spawn.h
include/lymph/names.h:
include/lymph/events.h:
userspace/lib/procfs.h:
userspace/respond/protect.h:
userspace/respond/service.h:
userspace/policy/classify.h:
include/lymph/events.h:
include/lymph/danger.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/lib/journal.h:
userspace/policy/supervise.h:
userspace/policy/config.h:
userspace/lib/signames.h:
userspace/respond/spawn.h:
