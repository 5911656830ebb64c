/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON values for hmacctl: a reference-counted tree that subcommands build and JMESPath queries, a
 * strict parser (RFC 8259, bounded), deep equality, and the renderings: JSON as `aws --output json`
 * prints it (indent 4, keys in insertion order, UTF-8 unescaped), compact JSON as JMESPath's
 * to_string() prints it, and the legacy tab-separated text of `aws --output text` (see output.h for
 * the full set of aws output formats). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct JsonValue JsonValue;

typedef enum JsonType {
        JSON_NULL,
        JSON_BOOLEAN,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
        _JSON_TYPE_MAX,
        _JSON_TYPE_INVALID = -EINVAL,
} JsonType;

/* Parser limits: documents larger than JSON_SIZE_MAX bytes are refused with -E2BIG, nesting deeper
 * than the depth given to json_parse() (JSON_DEPTH_DEFAULT when 0, never more than JSON_DEPTH_MAX)
 * with -ELOOP. */
#define JSON_SIZE_MAX (64u * 1024u * 1024u)
#define JSON_DEPTH_DEFAULT 256u
#define JSON_DEPTH_MAX 4096u

/* Enough for any number json_format_number() prints. */
#define JSON_NUMBER_MAX 32

/* The constructors return NULL when out of memory; json_add() records that in the parent, so that a
 * subcommand builds its whole tree without checks and json_print*() then fails with -ENOMEM. */
JsonValue *json_null(void);
JsonValue *json_string(const char *s);
/* A string of n bytes, which may hold NUL bytes. */
JsonValue *json_string_len(const char *s, size_t n);
JsonValue *json_unsigned(uint64_t u);
JsonValue *json_number(double d);
/* A number that is a float in Python's sense, which prints integral values with ".0" (2.0) where
 * json_number() prints them as integers (2): what the parser makes of "2.0" or "1e3". */
JsonValue *json_float(double d);
JsonValue *json_boolean(bool b);
JsonValue *json_array(void);
JsonValue *json_object(void);

/* Appends child to an array (key NULL) or an object; takes ownership of child in every case. */
void json_add(JsonValue *parent, const char *key, JsonValue *child);
/* The same with a result: 0, -ENOMEM, or -EINVAL when parent is not an array. Takes child in every case. */
int json_array_append(JsonValue *array, JsonValue *child);
/* Sets key to child, replacing the value in place when the key is there already (as a Python dict
 * does), appending it otherwise. Takes child in every case. */
int json_object_set(JsonValue *object, const char *key, JsonValue *child);

/* Values are reference counted: json_ref() takes one more reference, json_value_free() (or its alias
 * json_unref()) drops one. A value may sit in several arrays or objects at once; it must not be
 * changed once shared. Both accept NULL. */
JsonValue *json_ref(JsonValue *v);
JsonValue *json_value_free(JsonValue *v);
static inline JsonValue *json_unref(JsonValue *v) {
        return json_value_free(v);
}
static inline void json_value_freep(JsonValue **v) {
        json_value_free(*v);
}

/* Accessors. They accept any value and return a neutral answer (false, 0, NULL) for the wrong type. */
JsonType json_type(const JsonValue *v);
const char *json_type_to_string(JsonType t);
bool json_is_truthy(const JsonValue *v); /* JMESPath: false for null, false, "", [] and {} */
bool json_boolean_value(const JsonValue *v);
double json_number_value(const JsonValue *v);
bool json_number_is_float(const JsonValue *v);
const char *json_string_value(const JsonValue *v);
size_t json_string_length(const JsonValue *v);
/* Elements of an array, members of an object, 0 otherwise. */
size_t json_size(const JsonValue *v);
JsonValue *json_array_get(const JsonValue *v, size_t i);
const char *json_object_key(const JsonValue *v, size_t i);
JsonValue *json_object_value(const JsonValue *v, size_t i);
JsonValue *json_object_get(const JsonValue *v, const char *key);

/* Deep equality as JMESPath defines it: numbers by value, objects regardless of member order. */
bool json_equal(const JsonValue *a, const JsonValue *b);

typedef struct JsonParseError {
        size_t offset;          /* bytes from the start */
        unsigned line, column;  /* from 1; the column counts bytes */
        const char *message;    /* a static string */
} JsonParseError;

/* Parses exactly one JSON text of size bytes (white space around it allowed, nothing else). Returns 0,
 * or -EINVAL (not JSON), -EILSEQ (not UTF-8), -E2BIG (too large), -ELOOP (nested too deep), -ERANGE (a
 * number out of the range of a double), -ENOMEM; on error ret_error (if not NULL) says where and why.
 * Duplicate keys: the last value wins, at the first key's position, as Python's json module does. */
int json_parse(const char *text, size_t size, unsigned max_depth, JsonValue **ret,
               JsonParseError *ret_error);

typedef enum JsonFormatFlags {
        JSON_FORMAT_ASCII = 1 << 0,   /* escape everything outside ASCII as \uXXXX (ensure_ascii) */
        JSON_FORMAT_NEWLINE = 1 << 1, /* a final newline */
} JsonFormatFlags;

/* Serializes v: indent 0 is compact (separators "," and ":", as JMESPath's to_string()), otherwise
 * indent spaces per level with separators "," and ": " (as Python's json.dumps(indent=n)). */
int json_format(const JsonValue *v, unsigned indent, JsonFormatFlags flags, char **ret);
int json_write(FILE *f, const JsonValue *v, unsigned indent, JsonFormatFlags flags);
/* Numbers as Python prints them, integral values below 1e16 as integers: 1, -3, 2.5, 0.1, 1e+16,
 * 1e-05, NaN, Infinity. (A json_float() prints integral values as Python's repr() does: 2.0.)
 * Returns the length. */
int json_format_number(double d, char buf[static JSON_NUMBER_MAX]);

int json_print(FILE *f, const JsonValue *v);
/* As `aws` prints a paginated result, a top-level "NextToken" comes last, as "NEXTTOKEN\t<token>". */
int json_print_text(FILE *f, const JsonValue *v);
