build2/userspace/weather/psi.o: userspace/weather/psi.c \
 userspace/weather/psi.h
userspace/weather/psi.h:
