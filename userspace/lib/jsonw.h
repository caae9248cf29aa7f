/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON written straight into a buffer, byte for byte as json-c serialises
 * the same values with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE:
 * numbers in decimal, doubles as json-c's default ("%.17g", and ".0" after
 * an integral value), strings escaped as json-c escapes them (", \ and
 * \b \f \n \r \t by name, other bytes below 0x20 as \u00xx in lower-case
 * hex, every other byte as it is, UTF-8 or not).  json-c builds an object
 * per record (an allocation per field) and serialises it again through
 * its printbuf: on lymphd's hot paths (the --json lines, the journal's
 * decision records) these write the same bytes without either.
 *
 * The jw_*() primitives write at p (the caller made room: JW_NUM_MAX for a
 * number, jw_str_max() for a string) and return the next byte.
 *
 * struct jsonw builds one record both ways at once, field by field: the
 * bytes (for the journal's line and lymphd's output) and, beside them, the
 * json-c object its other readers (the control socket's history, the
 * system log, the fleet) take.  tests/jsonw_test compares the two.
 */
#ifndef LYMPH_JSONW_H
#define LYMPH_JSONW_H

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

/* 0: copied; else the letter after the backslash ('u': \u00xx). */
static const char jw_esc[256] = {
	['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',	 ['\t'] = 't', [0x00] = 'u',
	[0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',	 [0x05] = 'u', [0x06] = 'u',
	[0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u',	 [0x10] = 'u', [0x11] = 'u',
	[0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',	 [0x16] = 'u', [0x17] = 'u',
	[0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',	 [0x1c] = 'u', [0x1d] = 'u',
	[0x1e] = 'u', [0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

/* Worst case of one escaped byte: \u00xx. */
#define JW_ESC_MAX 6
/* Room for any number jw_*() writes (a double: "%.17g" and ".0"). */
#define JW_NUM_MAX 40

static inline size_t jw_str_max(size_t n)
{
	return n * JW_ESC_MAX + 2;
}

static inline char *jw_raw(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static inline char *jw_u64(char *p, uint64_t v)
{
	char t[20];
	int i = sizeof(t);

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return jw_raw(p, t + i, sizeof(t) - (size_t)i);
}

static inline char *jw_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return jw_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return jw_u64(p, (uint64_t)v);
}

static inline char *jw_bool(char *p, int v)
{
	return v ? jw_raw(p, "true", 4) : jw_raw(p, "false", 5);
}

/* json-c's default double: "%.17g", and ".0" after an integral value. */
static inline char *jw_double(char *p, double v)
{
	char t[64];
	int n;

	/* An integral value below 10^15 in magnitude (a duration, a count):
	 * its digits and ".0", what "%.17g" and the ".0" below make of it,
	 * without printf's multi-precision conversion (some 10 us each on a
	 * crash's cold path).  Not -0.0, which prints "-0.0". */
	if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v && !(v == 0 && signbit(v)))
		return jw_raw(jw_i64(p, (int64_t)v), ".0", 2);
	n = snprintf(t, sizeof(t), "%.17g", v);

	if (n < 0 || (size_t)n >= sizeof(t) - 2)
		n = 0;
	if ((isdigit((unsigned char)t[0]) || (t[0] == '-' && isdigit((unsigned char)t[1]))) &&
	    !strchr(t, '.') && !strchr(t, 'e')) {
		memcpy(t + n, ".0", 2);
		n += 2;
	}
	return jw_raw(p, t, (size_t)n);
}

static inline char *jw_str(char *p, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	*p++ = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e = jw_esc[c];

		if (!e)
			continue;
		p = jw_raw(p, s + run, i - run);
		run = i + 1;
		*p++ = '\\';
		*p++ = e;
		if (e == 'u') {
			p = jw_raw(p, "00", 2);
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	p = jw_raw(p, s + run, n - run);
	*p++ = '"';
	return p;
}

/* A string or null. */
static inline char *jw_cstr(char *p, const char *s)
{
	return s ? jw_str(p, s, strlen(s)) : jw_raw(p, "null", 4);
}

/* ---- one record, as bytes and as a json-c object -------------------------- */

#define JSONW_DEPTH 4

struct jsonw {
	char *p;		  /* the bytes so far: "{...", no closing brace */
	size_t len, cap;
	char *heap;		  /* p when grown past the caller's buffer, else NULL */
	struct json_object *o[JSONW_DEPTH]; /* o[0]: the record; o[depth]: open */
	int first[JSONW_DEPTH];		    /* no field yet at that depth */
	int depth;
	int err;		  /* -ENOMEM once a field could not be written */
};

/*
 * Starts a record in buf (cap bytes, the caller's, e.g. on its stack;
 * grown on the heap past it).  The object is made too unless objects is 0
 * (then jsonw_obj() is NULL: bytes only).  Keys are written as given:
 * never the same key twice in one object (json-c would keep one).
 */
void jsonw_begin(struct jsonw *w, char *buf, size_t cap, int objects);
void jsonw_str(struct jsonw *w, const char *key, const char *s); /* NULL: null */
void jsonw_i64(struct jsonw *w, const char *key, int64_t v);
void jsonw_u64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_double(struct jsonw *w, const char *key, double v);
/* A json-c value under key (a reference is taken): json-c serialises it
 * (for what the writer did not build itself; not on a hot path). */
void jsonw_json(struct jsonw *w, const char *key, struct json_object *v);
/* A nested object under key, until jsonw_close(); returns its json-c
 * object (NULL without objects). */
struct json_object *jsonw_open(struct jsonw *w, const char *key);
void jsonw_close(struct jsonw *w);
/* The record's object (owned by w until jsonw_take_obj() or jsonw_free()). */
struct json_object *jsonw_obj(const struct jsonw *w);
struct json_object *jsonw_take_obj(struct jsonw *w);
/* The bytes of the whole record, "{...}" (NUL-terminated, len in *len),
 * valid until the next field or jsonw_free(); NULL after an error. */
const char *jsonw_end(struct jsonw *w, size_t *len);
void jsonw_free(struct jsonw *w);

#endif
