build2/userspace/fleet/fleet_here.o: userspace/fleet/fleet_here.c \
 userspace/fleet/fleet.h userspace/policy/config.h \
 userspace/policy/fleet_conf.h userspace/policy/fleet_memory.h \
 userspace/policy/fleet_msg.h userspace/lib/journal.h
userspace/fleet/fleet.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/policy/fleet_memory.h:
userspace/policy/fleet_msg.h:
userspace/lib/journal.h:
