build2/userspace/policy/quarantine.o: userspace/policy/quarantine.c \
 userspace/policy/quarantine.h userspace/policy/config.h \
 userspace/policy/fleet_conf.h userspace/policy/decay.h
userspace/policy/quarantine.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/policy/decay.h:
