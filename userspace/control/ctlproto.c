// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "ctlproto.h"
#include "lymph/events.h"

const struct ctl_spec ctl_specs[CTL_CMD_MAX] = {
	[CTL_STATUS] = { "status", 0, 0, { 0 }, "status" },
	[CTL_SERVICES] = { "services", 0, 0, { 0 }, "services" },
	[CTL_RELOAD] = { "reload", 0, 0, { 0 }, "reload" },
	[CTL_RESTART] = { "restart", 1, 1, { CTL_ARG_NAME }, "restart NAME" },
	[CTL_RESET] = { "reset", 1, 1, { CTL_ARG_NAME }, "reset NAME" },
	[CTL_METRICS] = { "metrics", 0, 0, { 0 }, "metrics" },
	[CTL_THROTTLES] = { "throttles", 0, 0, { 0 }, "throttles" },
	[CTL_RELEASE] = { "release", 1, 2, { CTL_ARG_PATH, CTL_ARG_UID }, "release PATH [UID]" },
	[CTL_RELEASE_LINEAGE] = { "release-lineage",
				  1,
				  1,
				  { CTL_ARG_LINEAGE },
				  "release-lineage family:ID|session:ID|cgroup:ID|uid:ID" },
	[CTL_EVENTS] = { "events",
			 0,
			 2,
			 { CTL_ARG_EVENTS_FLAG, CTL_ARG_EVENTS_FLAG },
			 "events [follow] [json]" },
	[CTL_FLEET] = { "fleet", 0, 0, { 0 }, "fleet" },
	[CTL_FLEET_RELEASE] = { "fleet-release",
				1,
				1,
				{ CTL_ARG_BINARY },
				"fleet-release PATH|SHA256" },
	[CTL_CRASHES] = { "crashes", 0, 0, { 0 }, "crashes" },
};

/* Decimal digits only (no sign, space or base prefix), at most max. */
static int parse_dec(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 20)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int check_arg(enum ctl_arg_type t, struct ctl_arg *a, struct ctl_req *req, char *err,
		     size_t errlen)
{
	const char *s = a->s, *colon;
	size_t len = strlen(s), i;

	switch (t) {
	case CTL_ARG_NAME:
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] <= ' ' || s[i] == '/' || s[i] == 0x7f)
				break;
		if (!len || len > 63 || i < len) {
			snprintf(err, errlen,
				 "bad service name (1 to 63 bytes, no space, slash or control)");
			return -EINVAL;
		}
		return 0;
	case CTL_ARG_PATH:
		if (s[0] != '/' || len >= 4096) {
			snprintf(err, errlen, "bad path: an absolute path of less than 4096 bytes");
			return -EINVAL;
		}
		return 0;
	case CTL_ARG_UID:
		if (parse_dec(s, UINT32_MAX - 1, &a->num)) {
			snprintf(err, errlen,
				 "bad uid '%.32s': a decimal number from 0 to 4294967294", s);
			return -EINVAL;
		}
		return 0;
	case CTL_ARG_LINEAGE:
		colon = strchr(s, ':');
		if (colon && (size_t)(colon - s) == 6 && !strncmp(s, "family", 6))
			a->kind = LYMPH_LINEAGE_FAMILY;
		else if (colon && (size_t)(colon - s) == 7 && !strncmp(s, "session", 7))
			a->kind = LYMPH_LINEAGE_SESSION;
		else if (colon && (size_t)(colon - s) == 6 && !strncmp(s, "cgroup", 6))
			a->kind = LYMPH_LINEAGE_CGROUP;
		else if (colon && (size_t)(colon - s) == 3 && !strncmp(s, "uid", 3))
			a->kind = LYMPH_LINEAGE_UID;
		else
			colon = NULL;
		if (!colon ||
		    parse_dec(colon + 1, a->kind == LYMPH_LINEAGE_UID ? UINT32_MAX - 1 : UINT64_MAX,
			      &a->num)) {
			snprintf(err, errlen,
				 "bad lineage '%.64s' (family:ID, session:ID, cgroup:ID or uid:ID)",
				 s);
			return -EINVAL;
		}
		return 0;
	case CTL_ARG_BINARY:
		for (i = 0; i < len; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			      (s[i] >= 'A' && s[i] <= 'F')))
				break;
		if ((s[0] == '/' && len < 4096) || (len == 64 && i == len))
			return 0;
		snprintf(err, errlen,
			 "bad binary '%.64s': an absolute path or a SHA-256 (64 hex digits)", s);
		return -EINVAL;
	case CTL_ARG_EVENTS_FLAG:
		if (!strcmp(s, "follow") && !req->follow)
			req->follow = 1;
		else if (!strcmp(s, "json") && !req->json)
			req->json = 1;
		else {
			snprintf(err, errlen, "bad events option '%.32s' (follow, json, each once)",
				 s);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/* Only blanks in s[from, len): the line is not NUL-terminated. */
static int blank_tail(const char *s, size_t from, size_t len)
{
	for (; from < len; from++)
		if (s[from] != ' ' && s[from] != '\t' && s[from] != '\r')
			return 0;
	return 1;
}

int ctl_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *arr = NULL;
	size_t n, i, used = 0;
	int ret = -EINVAL;
	const char *cmd;

	memset(req, 0, offsetof(struct ctl_req, store));
	snprintf(err, errlen, "a request is one line: a JSON array of strings, command first");
	if (!len || len >= CTL_REQUEST_MAX || memchr(line, 0, len))
		return -EINVAL;
	tok = json_tokener_new_ex(4); /* an array of strings needs depth 1 */
	if (!tok)
		return -ENOMEM;
	arr = json_tokener_parse_ex(tok, line, (int)len);
	if (!arr || json_tokener_get_error(tok) != json_tokener_success ||
	    !blank_tail(line, json_tokener_get_parse_end(tok), len) ||
	    !json_object_is_type(arr, json_type_array) || !(n = json_object_array_length(arr)) ||
	    n > 1 + CTL_ARGS_MAX)
		goto out;
	/* Copy every string (the parse tree goes away); all must be strings. */
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *s;
		int l;

		if (!json_object_is_type(v, json_type_string))
			goto out;
		s = json_object_get_string(v);
		l = json_object_get_string_len(v);
		if (l < 0 || strlen(s) != (size_t)l || used + (size_t)l + 1 > sizeof(req->store)) {
			snprintf(err, errlen,
				 "an argument holds a NUL byte or the request is too long");
			goto out;
		}
		memcpy(req->store + used, s, (size_t)l + 1);
		if (i)
			req->arg[i - 1].s = req->store + used;
		else
			cmd = req->store + used;
		used += (size_t)l + 1;
	}
	req->n = (unsigned int)(n - 1);
	for (i = 0; i < CTL_CMD_MAX; i++)
		if (!strcmp(cmd, ctl_specs[i].name))
			break;
	if (i == CTL_CMD_MAX) {
		snprintf(err, errlen, "unknown request '%.64s'", cmd);
		goto out;
	}
	req->cmd = (enum ctl_cmd)i;
	if (req->n < ctl_specs[i].min_args || req->n > ctl_specs[i].max_args) {
		snprintf(err, errlen, "usage: %s", ctl_specs[i].usage);
		goto out;
	}
	for (n = 0; n < req->n; n++)
		if (check_arg(ctl_specs[i].type[n], &req->arg[n], req, err, errlen))
			goto out;
	err[0] = 0;
	ret = 0;
out:
	json_object_put(arr);
	json_tokener_free(tok);
	return ret;
}

int ctl_format(char *buf, size_t len, const char *const argv[], size_t n)
{
	struct json_object *arr = json_object_new_array();
	const char *s;
	size_t i, l;
	int ret;

	if (!arr)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(argv[i]));
	s = json_object_to_json_string_ext(arr,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	l = strlen(s);
	if (l + 2 > len || l + 1 > CTL_REQUEST_MAX - 1) {
		ret = -ENAMETOOLONG;
	} else {
		memcpy(buf, s, l);
		buf[l] = '\n';
		buf[l + 1] = 0;
		ret = (int)l + 1;
	}
	json_object_put(arr);
	return ret;
}
