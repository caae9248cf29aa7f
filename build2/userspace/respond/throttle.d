build2/userspace/respond/throttle.o: userspace/respond/throttle.c \
 userspace/lib/pidscg.h userspace/lib/procfs.h \
 userspace/respond/protect.h userspace/respond/throttle.h \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 userspace/policy/deadtime.h userspace/policy/config.h \
 userspace/lib/journal.h userspace/sources/source.h \
 include/lymph/events.h
userspace/lib/pidscg.h:
userspace/lib/procfs.h:
userspace/respond/protect.h:
userspace/respond/throttle.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/policy/deadtime.h:
userspace/policy/config.h:
userspace/lib/journal.h:
userspace/sources/source.h:
include/lymph/events.h:
