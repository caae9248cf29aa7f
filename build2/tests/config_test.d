build2/tests/config_test: tests/config_test.c tests/helpers.h \
 /var/cache/lymph/kselftest/kselftest_harness.h \
 /var/cache/lymph/kselftest/kselftest.h userspace/policy/config.h \
 userspace/policy/fleet_conf.h
tests/helpers.h:
/var/cache/lymph/kselftest/kselftest_harness.h:
/var/cache/lymph/kselftest/kselftest.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
