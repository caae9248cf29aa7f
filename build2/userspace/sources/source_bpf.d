build2/userspace/sources/source_bpf.o: userspace/sources/source_bpf.c \
 userspace/sources/record.h include/lymph/events.h \
 userspace/sources/source.h bpf/sensors.h build2/sensors.skel.h
userspace/sources/record.h:
include/lymph/events.h:
userspace/sources/source.h:
bpf/sensors.h:
build2/sensors.skel.h:
