build2/userspace/respond/qmanager.o: userspace/respond/qmanager.c \
 bpf/lsm.h build2/lsm.skel.h userspace/lib/procfs.h \
 userspace/respond/qmanager.h userspace/policy/classify.h \
 include/lymph/events.h include/lymph/danger.h include/lymph/events.h \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 userspace/lib/journal.h userspace/policy/quarantine.h \
 userspace/policy/config.h userspace/policy/decay.h \
 userspace/lib/signames.h
bpf/lsm.h:
build2/lsm.skel.h:
userspace/lib/procfs.h:
userspace/respond/qmanager.h:
userspace/policy/classify.h:
include/lymph/events.h:
include/lymph/danger.h:
include/lymph/events.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/lib/journal.h:
userspace/policy/quarantine.h:
userspace/policy/config.h:
userspace/policy/decay.h:
userspace/lib/signames.h:
