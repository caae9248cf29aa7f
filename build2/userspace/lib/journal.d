build2/userspace/lib/journal.o: userspace/lib/journal.c \
 userspace/lib/journal.h
userspace/lib/journal.h:
