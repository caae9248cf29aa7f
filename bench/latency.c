// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/latency: time from a child's crash to lymphd reporting it.
 *
 * Starts lymphd --json (fork/exec tracing off, so only deaths flow), then
 * crashes N children one after another.  Each child writes CLOCK_MONOTONIC
 * into shared memory just before it dereferences NULL; the bench stops the
 * clock when it has read lymphd's death line for that pid.  So the figure
 * includes the kernel's signal delivery, the ring wakeup, lymphd's work and
 * the pipe: an upper bound of "lymphd received it".  The event's own ts_ns
 * (stamped in the exit probe) splits it into kernel and delivery parts.
 *
 *   bench/latency [-n CRASHES] [-d BUILD_DIR]      (root)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "clock.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static FILE *lymphd_out;
static pid_t lymphd_pid;

/* Read lines until pred matches one (or timeout); returns the object. */
static struct json_object *wait_line(int pid, int timeout_ms)
{
	char line[8192];
	uint64_t deadline = clock_mono_ns() + (uint64_t)timeout_ms * 1000000ULL;

	while (clock_mono_ns() < deadline) {
		struct pollfd pfd = { .fd = fileno(lymphd_out), .events = POLLIN };
		struct json_object *o, *v;

		/* stdio may already hold buffered lines: only poll when empty. */
		if (!lymphd_out->_IO_read_ptr || lymphd_out->_IO_read_ptr >= lymphd_out->_IO_read_end)
			if (poll(&pfd, 1, 100) <= 0)
				continue;
		if (!fgets(line, sizeof(line), lymphd_out))
			return NULL;
		o = json_tokener_parse(line);
		if (!o)
			continue;
		if (pid < 0 || (json_object_object_get_ex(o, "event", &v) &&
				!strcmp(json_object_get_string(v), "death") &&
				json_object_object_get_ex(o, "pid", &v) && json_object_get_int(v) == pid))
			return o;
		json_object_put(o);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *build = "build";
	int n = 1000, c, i, pfd[2], got = 0;
	uint64_t *total, *kern, *deliver;
	volatile uint64_t *stamp;
	char lymphd[4096];

	while ((c = getopt(argc, argv, "n:d:")) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'd')
			build = optarg;
		else {
			fprintf(stderr, "usage: latency [-n CRASHES] [-d BUILD_DIR]\n");
			return 2;
		}
	}
	if (n <= 0 || n > 100000) {
		fprintf(stderr, "latency: -n must be 1..100000\n");
		return 2;
	}
	snprintf(lymphd, sizeof(lymphd), "%s/lymphd", build);
	stamp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	total = calloc(n, sizeof(*total));
	kern = calloc(n, sizeof(*kern));
	deliver = calloc(n, sizeof(*deliver));
	if (stamp == MAP_FAILED || !total || !kern || !deliver || pipe(pfd)) {
		perror("latency: setup");
		return 1;
	}

	lymphd_pid = fork();
	if (lymphd_pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(lymphd, lymphd, "--json", "--no-fork", "--no-exec", "--source=bpf",
		      "--socket=/run/lymph/bench-latency.sock", (char *)NULL);
		perror("latency: exec lymphd");
		_exit(127);
	}
	close(pfd[1]);
	lymphd_out = fdopen(pfd[0], "r");
	{
		struct json_object *start = wait_line(-1, 10000);

		if (!start) {
			fprintf(stderr, "latency: lymphd did not start (run as root after make)\n");
			kill(lymphd_pid, SIGTERM);
			return 1;
		}
		json_object_put(start);
	}

	for (i = 0; i < n; i++) {
		struct json_object *o, *ts;
		uint64_t t1;
		pid_t pid = fork();

		if (pid == 0) {
			struct rlimit no_core = { 0, 0 };

			setrlimit(RLIMIT_CORE, &no_core);
			*stamp = clock_mono_ns();
			*(volatile int *)0 = 1;	/* the crash */
			_exit(0);
		}
		o = wait_line(pid, 5000);
		t1 = clock_mono_ns();
		waitpid(pid, NULL, 0);
		if (!o)
			continue;
		total[got] = t1 - *stamp;
		if (json_object_object_get_ex(o, "ts_ns", &ts)) {
			uint64_t ev = (uint64_t)json_object_get_int64(ts);

			kern[got] = ev - *stamp;
			deliver[got] = t1 - ev;
		}
		got++;
		json_object_put(o);
	}
	kill(lymphd_pid, SIGTERM);
	waitpid(lymphd_pid, NULL, 0);

	if (!got) {
		fprintf(stderr, "latency: no crash was reported\n");
		return 1;
	}
	qsort(total, got, sizeof(*total), cmp_u64);
	qsort(kern, got, sizeof(*kern), cmp_u64);
	qsort(deliver, got, sizeof(*deliver), cmp_u64);
#define P(a, q) ((double)(a)[(size_t)((got - 1) * (q))] / 1000.0)
	printf("latency: %d/%d crashes reported\n", got, n);
	printf("crash -> lymphd line   p50 %8.1f us   p99 %8.1f us   max %8.1f us   (target p99 < 1000 us)\n",
	       P(total, 0.5), P(total, 0.99), P(total, 1.0));
	printf("  crash -> exit probe  p50 %8.1f us   p99 %8.1f us\n", P(kern, 0.5), P(kern, 0.99));
	printf("  probe -> lymphd line p50 %8.1f us   p99 %8.1f us\n", P(deliver, 0.5), P(deliver, 0.99));
	return got == n ? 0 : 1;
}
