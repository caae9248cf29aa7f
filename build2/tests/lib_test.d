build2/tests/lib_test: tests/lib_test.c tests/helpers.h \
 /var/cache/lymph/kselftest/kselftest_harness.h \
 /var/cache/lymph/kselftest/kselftest.h userspace/lib/atomic_file.h \
 userspace/lib/clock.h
tests/helpers.h:
/var/cache/lymph/kselftest/kselftest_harness.h:
/var/cache/lymph/kselftest/kselftest.h:
userspace/lib/atomic_file.h:
userspace/lib/clock.h:
