// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the control request parser (ctl_parse), as lymphd runs
 * it on every request line; a parsed request must format back to a line
 * that parses to the same command and arguments.  Run briefly by
 * tests/fuzz_test over tests/fuzz/corpus/ctlreq.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "ctlproto.h"

static struct ctl_req req, again;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], line[CTL_REQUEST_MAX];
	const char *words[1 + CTL_ARGS_MAX];
	unsigned int i;
	int n;

	if (ctl_parse((const char *)data, size, &req, err, sizeof(err)))
		return 0;
	if (req.cmd >= CTL_CMD_MAX || req.n > CTL_ARGS_MAX)
		__builtin_trap();
	words[0] = ctl_specs[req.cmd].name;
	for (i = 0; i < req.n; i++)
		words[i + 1] = req.arg[i].s;
	n = ctl_format(line, sizeof(line), words, req.n + 1);
	if (n <= 0)
		return 0; /* escaping may make it longer than the limit */
	if (ctl_parse(line, (size_t)n - 1, &again, err, sizeof(err)) || again.cmd != req.cmd ||
	    again.n != req.n)
		__builtin_trap();
	for (i = 0; i < req.n; i++)
		if (strcmp(again.arg[i].s, req.arg[i].s) || again.arg[i].num != req.arg[i].num)
			__builtin_trap();
	return 0;
}
