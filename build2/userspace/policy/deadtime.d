build2/userspace/policy/deadtime.o: userspace/policy/deadtime.c \
 userspace/policy/deadtime.h userspace/policy/config.h \
 userspace/policy/fleet_conf.h
userspace/policy/deadtime.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
