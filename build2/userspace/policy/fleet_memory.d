build2/userspace/policy/fleet_memory.o: userspace/policy/fleet_memory.c \
 userspace/policy/fleet_memory.h userspace/policy/fleet_msg.h \
 userspace/policy/fleet_conf.h
userspace/policy/fleet_memory.h:
userspace/policy/fleet_msg.h:
userspace/policy/fleet_conf.h:
