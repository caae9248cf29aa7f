build2/userspace/weather/weather.o: userspace/weather/weather.c \
 userspace/weather/baseline.h userspace/weather/integrity.h \
 userspace/weather/psi.h userspace/weather/weather.h \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 include/lymph/events.h include/lymph/names.h include/lymph/events.h
userspace/weather/baseline.h:
userspace/weather/integrity.h:
userspace/weather/psi.h:
userspace/weather/weather.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
include/lymph/events.h:
include/lymph/names.h:
include/lymph/events.h:
