build2/userspace/sources/source_proc.o: userspace/sources/source_proc.c \
 userspace/sources/source.h include/lymph/events.h
userspace/sources/source.h:
include/lymph/events.h:
