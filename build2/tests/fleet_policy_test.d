build2/tests/fleet_policy_test: tests/fleet_policy_test.c tests/helpers.h \
 /var/cache/lymph/kselftest/kselftest_harness.h \
 /var/cache/lymph/kselftest/kselftest.h userspace/policy/config.h \
 userspace/policy/fleet_conf.h userspace/policy/fleet_memory.h \
 userspace/policy/fleet_msg.h userspace/policy/fleet_msg.h
tests/helpers.h:
/var/cache/lymph/kselftest/kselftest_harness.h:
/var/cache/lymph/kselftest/kselftest.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/policy/fleet_memory.h:
userspace/policy/fleet_msg.h:
userspace/policy/fleet_msg.h:
