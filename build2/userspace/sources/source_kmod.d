build2/userspace/sources/source_kmod.o: userspace/sources/source_kmod.c \
 userspace/sources/record.h include/lymph/events.h \
 userspace/sources/source.h
userspace/sources/record.h:
include/lymph/events.h:
userspace/sources/source.h:
