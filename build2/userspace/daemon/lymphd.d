build2/userspace/daemon/lymphd.o: userspace/daemon/lymphd.c \
 userspace/daemon/daemon.h userspace/lib/binpath.h \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 userspace/policy/crashtab.h userspace/policy/decay.h \
 include/lymph/events.h userspace/fleet/fleet.h \
 userspace/policy/fleet_memory.h userspace/policy/fleet_msg.h \
 userspace/lib/journal.h userspace/control/logsink.h \
 userspace/control/outfilter.h userspace/policy/classify.h \
 include/lymph/danger.h include/lymph/events.h \
 userspace/control/metrics.h userspace/control/outfilter.h \
 userspace/respond/qmanager.h userspace/policy/quarantine.h \
 userspace/policy/config.h userspace/respond/service.h \
 userspace/policy/supervise.h userspace/sources/source.h \
 userspace/respond/throttle.h userspace/policy/deadtime.h \
 userspace/weather/weather.h userspace/weather/baseline.h \
 userspace/weather/psi.h include/lymph/names.h userspace/lib/parse_num.h \
 userspace/respond/spawn.h
userspace/daemon/daemon.h:
userspace/lib/binpath.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/policy/crashtab.h:
userspace/policy/decay.h:
include/lymph/events.h:
userspace/fleet/fleet.h:
userspace/policy/fleet_memory.h:
userspace/policy/fleet_msg.h:
userspace/lib/journal.h:
userspace/control/logsink.h:
userspace/control/outfilter.h:
userspace/policy/classify.h:
include/lymph/danger.h:
include/lymph/events.h:
userspace/control/metrics.h:
userspace/control/outfilter.h:
userspace/respond/qmanager.h:
userspace/policy/quarantine.h:
userspace/policy/config.h:
userspace/respond/service.h:
userspace/policy/supervise.h:
userspace/sources/source.h:
userspace/respond/throttle.h:
userspace/policy/deadtime.h:
userspace/weather/weather.h:
userspace/weather/baseline.h:
userspace/weather/psi.h:
include/lymph/names.h:
userspace/lib/parse_num.h:
userspace/respond/spawn.h:
