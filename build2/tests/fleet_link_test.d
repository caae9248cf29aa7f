build2/tests/fleet_link_test: tests/fleet_link_test.c tests/helpers.h \
 /var/cache/lymph/kselftest/kselftest_harness.h \
 /var/cache/lymph/kselftest/kselftest.h userspace/fleet/fleet.h \
 userspace/policy/config.h userspace/policy/fleet_conf.h \
 userspace/policy/fleet_memory.h userspace/policy/fleet_msg.h \
 userspace/lib/journal.h
tests/helpers.h:
/var/cache/lymph/kselftest/kselftest_harness.h:
/var/cache/lymph/kselftest/kselftest.h:
userspace/fleet/fleet.h:
userspace/policy/config.h:
userspace/policy/fleet_conf.h:
userspace/policy/fleet_memory.h:
userspace/policy/fleet_msg.h:
userspace/lib/journal.h:
