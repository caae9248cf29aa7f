build2/userspace/sources/record.o: userspace/sources/record.c \
 userspace/sources/record.h include/lymph/events.h
userspace/sources/record.h:
include/lymph/events.h:
