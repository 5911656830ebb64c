/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A tiny tree of JSON values that hmacctl's subcommands build, and its two renderings: JSON as
 * `aws --output json` prints it (indent 4, keys in insertion order, UTF-8 unescaped) and tab-separated
 * text as `aws --output text` prints it (keys sorted, upper-cased identifiers, True/False). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct JsonValue JsonValue;

/* The constructors return NULL when out of memory; json_add() records that in the parent, so that a
 * subcommand builds its whole tree without checks and json_print*() then fails with -ENOMEM. */
JsonValue *json_string(const char *s);
JsonValue *json_unsigned(uint64_t u);
JsonValue *json_boolean(bool b);
JsonValue *json_array(void);
JsonValue *json_object(void);

/* Appends child to an array (key NULL) or an object; takes ownership of child in every case. */
void json_add(JsonValue *parent, const char *key, JsonValue *child);

JsonValue *json_value_free(JsonValue *v);
static inline void json_value_freep(JsonValue **v) {
        json_value_free(*v);
}

int json_print(FILE *f, const JsonValue *v);
/* As `aws` prints a paginated result, a top-level "NextToken" comes last, as "NEXTTOKEN\t<token>". */
int json_print_text(FILE *f, const JsonValue *v);
