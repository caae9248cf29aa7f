build2/userspace/control/metrics.o: userspace/control/metrics.c \
 userspace/lib/binpath.h userspace/policy/crashtab.h \
 userspace/policy/decay.h include/lymph/events.h include/lymph/names.h \
 include/lymph/events.h userspace/control/format.h \
 userspace/policy/classify.h include/lymph/danger.h \
 userspace/control/metrics.h userspace/weather/weather.h \
 userspace/weather/baseline.h userspace/policy/config.h \
 userspace/policy/fleet_conf.h userspace/weather/psi.h
userspace/lib/binpath.h:
userspace/policy/crashtab.h:
userspace/policy/decay.h:
include/lymph/events.h:
include/lymph/names.h:
include/lymph/events.h:
userspace/control/format.h:
userspace/policy/classify.h:
include/lymph/danger.h:
userspace/control/metrics.h:
userspace/weather/weather.h:
userspace/weather/baseline.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/weather/psi.h:
