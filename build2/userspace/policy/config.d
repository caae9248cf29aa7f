build2/userspace/policy/config.o: userspace/policy/config.c \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 userspace/lib/parse_num.h
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/lib/parse_num.h:
