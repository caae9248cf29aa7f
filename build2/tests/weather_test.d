build2/tests/weather_test: tests/weather_test.c tests/helpers.h \
 /var/cache/lymph/kselftest/kselftest_harness.h \
 /var/cache/lymph/kselftest/kselftest.h userspace/weather/psi.h \
 userspace/weather/baseline.h userspace/weather/integrity.h \
 userspace/weather/weather.h userspace/weather/baseline.h \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 include/lymph/events.h userspace/weather/psi.h tests/loadcg.h
tests/helpers.h:
/var/cache/lymph/kselftest/kselftest_harness.h:
/var/cache/lymph/kselftest/kselftest.h:
userspace/weather/psi.h:
userspace/weather/baseline.h:
userspace/weather/integrity.h:
userspace/weather/weather.h:
userspace/weather/baseline.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
include/lymph/events.h:
userspace/weather/psi.h:
tests/loadcg.h:
