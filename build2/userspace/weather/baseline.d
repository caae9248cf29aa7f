build2/userspace/weather/baseline.o: userspace/weather/baseline.c \
 userspace/lib/atomic_file.h userspace/weather/baseline.h
userspace/lib/atomic_file.h:
userspace/weather/baseline.h:
