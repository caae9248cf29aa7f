/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control protocol between lymphctl and lymphd, as data: one request
 * per connection, a single line holding a JSON array of strings (the
 * command and its arguments, so a path with a space or a quote stays one
 * argument), answered by one JSON object line (or, for "events", a header
 * line and then a stream of records).
 *
 * Commands are a table with typed, range-checked arguments: a request that
 * does not fit is refused with a message, never acted on with a default.
 * Pure: the parser is fuzzed (tests/fuzz/ctlreq_fuzz.c).
 */
#ifndef LYMPH_CTLPROTO_H
#define LYMPH_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#define LYMPH_DEFAULT_SOCKET "/run/lymph/lymphd.sock"

#define CTL_REQUEST_MAX 8192 /* bytes in one request line, newline included */
#define CTL_ARGS_MAX	3

enum ctl_cmd {
	CTL_STATUS,
	CTL_SERVICES,
	CTL_RELOAD,
	CTL_RESTART, /* NAME */
	CTL_RESET,   /* NAME */
	CTL_METRICS,
	CTL_THROTTLES,
	CTL_RELEASE,	     /* PATH [UID] */
	CTL_RELEASE_LINEAGE, /* KIND:ID */
	CTL_EVENTS,	     /* [follow] [json] */
	CTL_FLEET,
	CTL_FLEET_RELEASE, /* PATH | SHA256 */
	CTL_CRASHES,
	CTL_CMD_MAX
};

enum ctl_arg_type {
	CTL_ARG_NAME,	     /* a service name: 1..63 bytes, no space, slash or control */
	CTL_ARG_PATH,	     /* absolute, < 4096 bytes */
	CTL_ARG_UID,	     /* decimal, 0..4294967294 */
	CTL_ARG_LINEAGE,     /* family:ID, session:ID, cgroup:ID or uid:ID */
	CTL_ARG_BINARY,	     /* an absolute path, or a SHA-256 in 64 hex digits */
	CTL_ARG_EVENTS_FLAG, /* "follow" or "json" */
};

struct ctl_spec {
	const char *name;
	uint8_t min_args, max_args;
	enum ctl_arg_type type[CTL_ARGS_MAX];
	const char *usage;
};

struct ctl_arg {
	const char *s; /* the argument, NUL-terminated, in the request */
	uint64_t num;  /* UID: the uid; LINEAGE: the id */
	uint32_t kind; /* LINEAGE: LYMPH_LINEAGE_* */
};

struct ctl_req {
	enum ctl_cmd cmd;
	unsigned int n;
	struct ctl_arg arg[CTL_ARGS_MAX];
	int follow, json; /* CTL_EVENTS */
	char store[CTL_REQUEST_MAX];
};

extern const struct ctl_spec ctl_specs[CTL_CMD_MAX];

/*
 * Parses one request line (len bytes, without its newline) into req: 0, or
 * -EINVAL with a message for the client in err.
 */
int ctl_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen);

/*
 * The request line for argv[0..n) (command first), newline included, into
 * buf: its length, or -ENAMETOOLONG when it does not fit CTL_REQUEST_MAX.
 */
int ctl_format(char *buf, size_t len, const char *const argv[], size_t n);

#endif
