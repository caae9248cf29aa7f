build2/userspace/policy/fleet_msg.o: userspace/policy/fleet_msg.c \
 userspace/policy/fleet_msg.h userspace/policy/fleet_conf.h
userspace/policy/fleet_msg.h:
userspace/policy/fleet_conf.h:
