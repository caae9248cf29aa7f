build2/userspace/daemon/config_load.o: userspace/daemon/config_load.c \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 userspace/fleet/fleet.h userspace/policy/fleet_memory.h \
 userspace/policy/fleet_msg.h userspace/lib/journal.h
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/fleet/fleet.h:
userspace/policy/fleet_memory.h:
userspace/policy/fleet_msg.h:
userspace/lib/journal.h:
