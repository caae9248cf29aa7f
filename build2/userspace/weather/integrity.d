build2/userspace/weather/integrity.o: userspace/weather/integrity.c \
 userspace/lib/atomic_file.h userspace/weather/integrity.h
userspace/lib/atomic_file.h:
userspace/weather/integrity.h:
