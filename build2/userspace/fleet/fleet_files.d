build2/userspace/fleet/fleet_files.o: userspace/fleet/fleet_files.c \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 userspace/fleet/fleet.h userspace/policy/fleet_memory.h \
 userspace/policy/fleet_msg.h userspace/lib/journal.h
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/fleet/fleet.h:
userspace/policy/fleet_memory.h:
userspace/policy/fleet_msg.h:
userspace/lib/journal.h:
