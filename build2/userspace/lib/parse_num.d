build2/userspace/lib/parse_num.o: userspace/lib/parse_num.c \
 userspace/lib/parse_num.h
userspace/lib/parse_num.h:
