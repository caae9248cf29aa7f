build2/userspace/lib/signames.o: userspace/lib/signames.c \
 userspace/lib/signames.h
userspace/lib/signames.h:
