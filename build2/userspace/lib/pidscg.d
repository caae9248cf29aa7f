build2/userspace/lib/pidscg.o: userspace/lib/pidscg.c \
 userspace/lib/pidscg.h
userspace/lib/pidscg.h:
