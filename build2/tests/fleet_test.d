build2/tests/fleet_test: tests/fleet_test.c tests/helpers.h \
 /var/cache/lymph/kselftest/kselftest_harness.h \
 /var/cache/lymph/kselftest/kselftest.h tests/storm_helpers.h \
 tests/pidcg.h tests/progs/bomb_stats.h
tests/helpers.h:
/var/cache/lymph/kselftest/kselftest_harness.h:
/var/cache/lymph/kselftest/kselftest.h:
tests/storm_helpers.h:
tests/pidcg.h:
tests/progs/bomb_stats.h:
