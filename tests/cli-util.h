/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the hmacctl end-to-end tests (test-cli, test-cli-import, test-aws-scripts) share: a small
 * JSON parser strict enough to reject what is not JSON, base64 written independently of hmacctl's,
 * and running hmacctl with the checks of its exit codes and error lines. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"

typedef enum JType {
        J_NULL,
        J_BOOLEAN,
        J_NUMBER,
        J_STRING,
        J_ARRAY,
        J_OBJECT,
} JType;

typedef struct J {
        JType type;
        char *s; /* strings, and numbers as written */
        bool b;
        struct J **items;
        char **keys; /* objects: the keys, in their order */
        size_t n;
} J;

void j_free(J *j);
void j_freep(J **j);
/* Parses the whole of text, which must be one JSON value; fails the test otherwise. */
J *j_parse(const char *text);
const J *j_get(const J *o, const char *key);
/* o[key], which must be there and of this type. */
const J *j_need(const J *o, const char *key, JType type);
const char *j_str(const J *o, const char *key);
const J *j_array(const J *o, const char *key);
/* The keys of object o are exactly these, in this order (NULL-terminated). */
void j_assert_keys(const J *o, ...);

/* ---- base64, standard alphabet with padding ---- */

/* Into out, which holds (n + 2) / 3 * 4 + 1 bytes. */
void b64_encode_to(const void *p, size_t n, char *out);
char *b64_encode(const void *p, size_t n); /* free() it */
char *b64_text(const char *s);             /* the base64 of a string; free() it */
/* Strict base64 into out (max bytes at most); returns the size. */
size_t b64_decode_into(const char *s, uint8_t *out, size_t max);
uint8_t *b64_decode(const char *s, size_t *ret_size); /* free() it */

/* ---- running hmacctl ---- */

/* Runs hmacctl as root (allowed everything) with the arguments, NULL-terminated. */
#define CTL(res, ...) cr_assert(harness_runl(NULL, (res), HARNESS_HMACCTL, __VA_ARGS__, NULL) >= 0)

void expect_ok(const HarnessResult *res, const char *what);
/* Success with nothing on standard output, as the aws CLI for operations without a result. */
void expect_quiet(const HarnessResult *res, const char *what);
/* Exit status code, err_part (if given) somewhere on standard error, nothing on standard output. */
void expect_fail(const HarnessResult *res, int code, const char *err_part, const char *what);
/* One whole line of text is exactly line. */
bool has_line(const char *text, const char *line);
/* The service error line the aws CLI prints, with exit 254, and message_part (if given) in it. */
void expect_service_error(const HarnessResult *res, const char *exception, const char *operation,
                          const char *message_part);
/* Success, and the output parsed. */
J *run_json(const HarnessResult *res, const char *what);

/* "<tmp>/name"; free() it. */
char *tmp_path(const char *name);
void write_file(const char *path, const void *data, size_t size);

/* Seconds since the epoch of an ISO 8601 time as the aws CLI prints them:
 * "2026-11-22T10:00:00+00:00" or "2026-11-22T10:00:00.123000+00:00"; fails the test otherwise. */
time_t iso8601(const char *s);
/* The same to the microsecond; a fraction of ".000000" fails, as aws leaves it out. */
uint64_t iso8601_usec(const char *s);

/* Pages through a list subcommand as AWS CLI v2 scripts do, with --max-items (and --page-size, if
 * given) and --starting-token (and --key-id, if given), until there is no NextToken; returns the number
 * of entries, *ret the field of each (free with free_names()), *ret_pages the number of outputs. */
size_t page_through(const char *verb, const char *result_key, const char *field, const char *max_items,
                    const char *page_size, const char *key_id, char ***ret, size_t *ret_pages);
void free_names(char **names, size_t n);
