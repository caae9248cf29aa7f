build2/userspace/policy/fleet_conf.o: userspace/policy/fleet_conf.c \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 userspace/lib/parse_num.h
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/lib/parse_num.h:
