build2/userspace/sources/source.o: userspace/sources/source.c \
 userspace/sources/source.h include/lymph/events.h
userspace/sources/source.h:
include/lymph/events.h:
