/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JMESPath (https://jmespath.org/specification.html) over the JSON values of json.h, for hmacctl's
 * --query: a lexer and Pratt parser after jmespath.py, a tree interpreter and every built-in function,
 * with the error kinds of the compliance suite. Hostile expressions are bounded: their length, the
 * depth of their syntax tree and the size of what an evaluation may build. */
#pragma once

#include <errno.h>
#include <stddef.h>

#include "json.h"

/* Expressions longer than this are refused (-E2BIG), as are syntax trees deeper than
 * JMESPATH_DEPTH_MAX (-ELOOP) and evaluations that would build more than JMESPATH_ELEMENTS_MAX array
 * elements and object members, or JMESPATH_STRING_BYTES_MAX bytes of strings, in total (-E2BIG). */
#define JMESPATH_EXPRESSION_MAX   (64u * 1024u)
#define JMESPATH_DEPTH_MAX        512u
#define JMESPATH_ELEMENTS_MAX     (4u * 1024u * 1024u)
#define JMESPATH_STRING_BYTES_MAX (64u * 1024u * 1024u)

typedef enum JmespathErrorKind {
        JMESPATH_ERROR_SYNTAX,           /* "syntax" */
        JMESPATH_ERROR_INVALID_TYPE,     /* "invalid-type": a function argument of the wrong type */
        JMESPATH_ERROR_INVALID_VALUE,    /* "invalid-value": a slice step of 0 */
        JMESPATH_ERROR_UNKNOWN_FUNCTION, /* "unknown-function" */
        JMESPATH_ERROR_INVALID_ARITY,    /* "invalid-arity" */
        JMESPATH_ERROR_LIMIT,            /* "limit-exceeded": one of the limits above */
        JMESPATH_ERROR_SYSTEM,           /* "system": out of memory */
        _JMESPATH_ERROR_KIND_MAX,
        _JMESPATH_ERROR_KIND_INVALID = -EINVAL,
} JmespathErrorKind;

#define JMESPATH_MESSAGE_MAX 256

typedef struct JmespathError {
        JmespathErrorKind kind;
        size_t offset; /* in the expression, where the error was found while parsing */
        char message[JMESPATH_MESSAGE_MAX];
} JmespathError;

const char *jmespath_error_kind_to_string(JmespathErrorKind k);

typedef struct Jmespath Jmespath;

/* Parses an expression once, to evaluate it on several documents. Unknown functions and wrong
 * numbers of arguments are found here. Returns 0, or -EINVAL (a syntax error, an unknown function,
 * a wrong arity), -E2BIG, -ELOOP, -ENOMEM, with ret_error (if not NULL) filled in. */
int jmespath_compile(const char *expression, Jmespath **ret, JmespathError *ret_error);
Jmespath *jmespath_free(Jmespath *j);
static inline void jmespath_freep(Jmespath **j) {
        jmespath_free(*j);
}

/* Evaluates on data (not modified; the result may share parts of it, by reference). Returns 0 and
 * the result (JSON null when nothing matches) in *ret, or -EINVAL (invalid-type, invalid-value),
 * -E2BIG, -ENOMEM with ret_error filled in. */
int jmespath_evaluate(const Jmespath *j, const JsonValue *data, JsonValue **ret, JmespathError *ret_error);

/* Both at once. */
int jmespath_search(const char *expression, const JsonValue *data, JsonValue **ret,
                    JmespathError *ret_error);
