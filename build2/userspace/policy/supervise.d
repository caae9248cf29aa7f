build2/userspace/policy/supervise.o: userspace/policy/supervise.c \
 userspace/policy/supervise.h userspace/policy/config.h \
 userspace/policy/fleet_conf.h
userspace/policy/supervise.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
