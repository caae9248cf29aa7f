build2/userspace/lib/clock.o: userspace/lib/clock.c userspace/lib/clock.h
userspace/lib/clock.h:
