/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON values for hmacctl output and JMESPath queries: the tree, its parser and its serializers. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kms.h"
#include "macro.h"

struct JsonValue {
        JsonType type;
        unsigned n_ref;
        bool failed;            /* a child could not be allocated */
        bool is_unsigned;       /* from json_unsigned(): printed from u, exactly */
        bool is_float;          /* from json_float(): integral values print with ".0" */
        char *string;
        size_t length;          /* of string */
        double number;
        uint64_t u;
        bool boolean;
        char **keys;            /* objects only */
        JsonValue **children;
        size_t n_children, allocated;
};

static bool json_is_container(const JsonValue *v) {
        return v->type == JSON_ARRAY || v->type == JSON_OBJECT;
}

static JsonValue *json_new(JsonType type) {
        JsonValue *v = calloc(1, sizeof *v);

        if (v) {
                v->type = type;
                v->n_ref = 1;
        }
        return v;
}

JsonValue *json_null(void) {
        return json_new(JSON_NULL);
}

JsonValue *json_string_len(const char *s, size_t n) {
        JsonValue *v;

        if (!s && n > 0)
                return NULL;
        v = json_new(JSON_STRING);
        if (!v)
                return NULL;
        v->string = malloc(n + 1);
        if (!v->string)
                return json_value_free(v);
        if (n > 0)
                memcpy(v->string, s, n);
        v->string[n] = 0;
        v->length = n;
        return v;
}

JsonValue *json_string(const char *s) {
        if (!s)
                return NULL;
        return json_string_len(s, strlen(s));
}

JsonValue *json_unsigned(uint64_t u) {
        JsonValue *v = json_new(JSON_NUMBER);

        if (v) {
                v->is_unsigned = true;
                v->u = u;
                v->number = (double) u;
        }
        return v;
}

JsonValue *json_number(double d) {
        JsonValue *v = json_new(JSON_NUMBER);

        if (v)
                v->number = d;
        return v;
}

JsonValue *json_float(double d) {
        JsonValue *v = json_number(d);

        if (v)
                v->is_float = true;
        return v;
}

JsonValue *json_boolean(bool b) {
        JsonValue *v = json_new(JSON_BOOLEAN);

        if (v)
                v->boolean = b;
        return v;
}

JsonValue *json_array(void) {
        return json_new(JSON_ARRAY);
}

JsonValue *json_object(void) {
        return json_new(JSON_OBJECT);
}

JsonValue *json_ref(JsonValue *v) {
        if (v)
                v->n_ref++;
        return v;
}

JsonValue *json_value_free(JsonValue *v) {
        if (!v)
                return NULL;
        if (--v->n_ref > 0)
                return NULL;
        for (size_t i = 0; i < v->n_children; i++) {
                if (v->keys)
                        free(v->keys[i]);
                json_value_free(v->children[i]);
        }
        free(v->keys);
        free(v->children);
        if (v->string) {
                /* Output may hold a MAC: leave no copy behind in freed memory. */
                explicit_bzero(v->string, v->length);
                free(v->string);
        }
        free(v);
        return NULL;
}

static int json_grow(JsonValue *parent) {
        size_t n;
        JsonValue **c;

        if (parent->n_children < parent->allocated)
                return 0;
        n = MAX(parent->allocated * 2, (size_t) 8);
        c = reallocarray(parent->children, n, sizeof *c);
        if (!c)
                return -ENOMEM;
        parent->children = c;
        if (parent->type == JSON_OBJECT) {
                char **ks = reallocarray(parent->keys, n, sizeof *ks);
                if (!ks)
                        return -ENOMEM;
                parent->keys = ks;
        }
        parent->allocated = n;
        return 0;
}

static int json_append(JsonValue *parent, const char *key, JsonValue *child) {
        char *k = NULL;

        if (json_grow(parent) < 0)
                goto fail;
        if (key) {
                k = strdup(key);
                if (!k)
                        goto fail;
                parent->keys[parent->n_children] = k;
        }
        parent->children[parent->n_children++] = child;
        return 0;

fail:
        parent->failed = true;
        json_value_free(child);
        return -ENOMEM;
}

void json_add(JsonValue *parent, const char *key, JsonValue *child) {
        if (!parent || !json_is_container(parent) || (parent->type == JSON_OBJECT) != !!key) {
                json_value_free(child);
                return;
        }
        if (!child) {
                parent->failed = true;
                return;
        }
        (void) json_append(parent, key, child);
}

int json_array_append(JsonValue *array, JsonValue *child) {
        if (!array || array->type != JSON_ARRAY) {
                json_value_free(child);
                return -EINVAL;
        }
        if (!child) {
                array->failed = true;
                return -ENOMEM;
        }
        return json_append(array, NULL, child);
}

int json_object_set(JsonValue *object, const char *key, JsonValue *child) {
        if (!object || object->type != JSON_OBJECT || !key) {
                json_value_free(child);
                return -EINVAL;
        }
        if (!child) {
                object->failed = true;
                return -ENOMEM;
        }
        for (size_t i = 0; i < object->n_children; i++)
                if (streq(object->keys[i], key)) {
                        json_value_free(object->children[i]);
                        object->children[i] = child;
                        return 0;
                }
        return json_append(object, key, child);
}

/* ---- accessors ---- */

JsonType json_type(const JsonValue *v) {
        return v ? v->type : _JSON_TYPE_INVALID;
}

const char *json_type_to_string(JsonType t) {
        static const char *const table[_JSON_TYPE_MAX] = {
                [JSON_NULL] = "null",     [JSON_BOOLEAN] = "boolean", [JSON_NUMBER] = "number",
                [JSON_STRING] = "string", [JSON_ARRAY] = "array",     [JSON_OBJECT] = "object",
        };

        if (t < 0 || t >= _JSON_TYPE_MAX)
                return NULL;
        return table[t];
}

bool json_is_truthy(const JsonValue *v) {
        switch (json_type(v)) {
        case JSON_BOOLEAN:
                return v->boolean;
        case JSON_NUMBER:
                return true;
        case JSON_STRING:
                return v->length > 0;
        case JSON_ARRAY:
        case JSON_OBJECT:
                return v->n_children > 0;
        default:
                return false;
        }
}

bool json_boolean_value(const JsonValue *v) {
        return json_type(v) == JSON_BOOLEAN && v->boolean;
}

double json_number_value(const JsonValue *v) {
        return json_type(v) == JSON_NUMBER ? v->number : 0;
}

bool json_number_is_float(const JsonValue *v) {
        return json_type(v) == JSON_NUMBER && v->is_float;
}

const char *json_string_value(const JsonValue *v) {
        return json_type(v) == JSON_STRING ? v->string : NULL;
}

size_t json_string_length(const JsonValue *v) {
        return json_type(v) == JSON_STRING ? v->length : 0;
}

size_t json_size(const JsonValue *v) {
        return v && json_is_container(v) ? v->n_children : 0;
}

JsonValue *json_array_get(const JsonValue *v, size_t i) {
        if (json_type(v) != JSON_ARRAY || i >= v->n_children)
                return NULL;
        return v->children[i];
}

const char *json_object_key(const JsonValue *v, size_t i) {
        if (json_type(v) != JSON_OBJECT || i >= v->n_children)
                return NULL;
        return v->keys[i];
}

JsonValue *json_object_value(const JsonValue *v, size_t i) {
        if (json_type(v) != JSON_OBJECT || i >= v->n_children)
                return NULL;
        return v->children[i];
}

JsonValue *json_object_get(const JsonValue *v, const char *key) {
        if (json_type(v) != JSON_OBJECT || !key)
                return NULL;
        for (size_t i = 0; i < v->n_children; i++)
                if (streq(v->keys[i], key))
                        return v->children[i];
        return NULL;
}

bool json_equal(const JsonValue *a, const JsonValue *b) {
        if (a == b)
                return true;
        if (!a || !b || a->type != b->type)
                return false;

        switch (a->type) {
        case JSON_NULL:
                return true;
        case JSON_BOOLEAN:
                return a->boolean == b->boolean;
        case JSON_NUMBER:
                if (a->is_unsigned && b->is_unsigned)
                        return a->u == b->u;
                return a->number == b->number;
        case JSON_STRING:
                return a->length == b->length && memcmp(a->string, b->string, a->length) == 0;
        case JSON_ARRAY:
                if (a->n_children != b->n_children)
                        return false;
                for (size_t i = 0; i < a->n_children; i++)
                        if (!json_equal(a->children[i], b->children[i]))
                                return false;
                return true;
        case JSON_OBJECT:
                /* Keys are unique in both, so equal sizes and every member of a found in b suffice. */
                if (a->n_children != b->n_children)
                        return false;
                for (size_t i = 0; i < a->n_children; i++) {
                        const JsonValue *o = json_object_get(b, a->keys[i]);
                        if (!o || !json_equal(a->children[i], o))
                                return false;
                }
                return true;
        default:
                return false;
        }
}

static bool json_failed(const JsonValue *v) {
        if (v->failed)
                return true;
        for (size_t i = 0; i < v->n_children; i++)
                if (json_failed(v->children[i]))
                        return true;
        return false;
}

/* ---- the parser ---- */

typedef struct Parser {
        const char *text;
        size_t size, pos;
        unsigned depth, max_depth;
        int error;
        const char *message;
        size_t error_pos;
} Parser;

static int parse_fail(Parser *p, int error, size_t pos, const char *message) {
        if (p->error == 0) {
                p->error = error;
                p->error_pos = pos;
                p->message = message;
        }
        return error;
}

static void skip_space(Parser *p) {
        while (p->pos < p->size && strchr(" \t\r\n", p->text[p->pos]) && p->text[p->pos] != 0)
                p->pos++;
}

static int hex4(const char *s, uint32_t *ret) {
        uint32_t v = 0;

        for (size_t i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= c - '0';
                else if (c >= 'a' && c <= 'f')
                        v |= c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        v |= c - 'A' + 10;
                else
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

static size_t utf8_encode(uint32_t cp, char *out) {
        if (cp < 0x80) {
                out[0] = cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = 0xc0 | (cp >> 6);
                out[1] = 0x80 | (cp & 0x3f);
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = 0xe0 | (cp >> 12);
                out[1] = 0x80 | ((cp >> 6) & 0x3f);
                out[2] = 0x80 | (cp & 0x3f);
                return 3;
        }
        out[0] = 0xf0 | (cp >> 18);
        out[1] = 0x80 | ((cp >> 12) & 0x3f);
        out[2] = 0x80 | ((cp >> 6) & 0x3f);
        out[3] = 0x80 | (cp & 0x3f);
        return 4;
}

/* Parses the string at p->pos (its opening quote); the result is NUL-terminated, its length in
 * *ret_length. The text was checked for UTF-8 as a whole before, so bytes are copied as they are. */
static int parse_string(Parser *p, char **ret, size_t *ret_length) {
        _cleanup_free_ char *buf = NULL;
        size_t start = ++p->pos, n = 0, end;

        /* The decoded string is never longer than the source: find the end first. */
        for (end = start; end < p->size && p->text[end] != '"'; end++)
                if (p->text[end] == '\\')
                        end++;
        if (end >= p->size)
                return parse_fail(p, -EINVAL, start - 1, "unterminated string");

        buf = malloc(end - start + 1);
        if (!buf)
                return parse_fail(p, -ENOMEM, start, "out of memory");

        while (p->pos < end) {
                unsigned char c = p->text[p->pos];
                uint32_t cp, lo;

                if (c < 0x20)
                        return parse_fail(p, -EINVAL, p->pos, "control character in string");
                if (c != '\\') {
                        buf[n++] = c;
                        p->pos++;
                        continue;
                }
                c = p->text[p->pos + 1];
                switch (c) {
                case '"':
                case '\\':
                case '/':
                        buf[n++] = c;
                        break;
                case 'b':
                        buf[n++] = '\b';
                        break;
                case 'f':
                        buf[n++] = '\f';
                        break;
                case 'n':
                        buf[n++] = '\n';
                        break;
                case 'r':
                        buf[n++] = '\r';
                        break;
                case 't':
                        buf[n++] = '\t';
                        break;
                case 'u':
                        if (end - p->pos < 6 || hex4(p->text + p->pos + 2, &cp) < 0)
                                return parse_fail(p, -EINVAL, p->pos, "bad \\u escape");
                        if (cp >= 0xdc00 && cp <= 0xdfff)
                                return parse_fail(p, -EILSEQ, p->pos, "lone low surrogate in \\u escape");
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if (end - p->pos < 12 || p->text[p->pos + 6] != '\\' ||
                                    p->text[p->pos + 7] != 'u' || hex4(p->text + p->pos + 8, &lo) < 0 ||
                                    lo < 0xdc00 || lo > 0xdfff)
                                        return parse_fail(p, -EILSEQ, p->pos,
                                                          "high surrogate without a low one in \\u escape");
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                p->pos += 6;
                        }
                        n += utf8_encode(cp, buf + n);
                        p->pos += 4;
                        break;
                default:
                        return parse_fail(p, -EINVAL, p->pos, "bad escape in string");
                }
                p->pos += 2;
        }
        p->pos = end + 1;
        buf[n] = 0;
        *ret_length = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

static size_t digits(const Parser *p, size_t i) {
        while (i < p->size && p->text[i] >= '0' && p->text[i] <= '9')
                i++;
        return i;
}

static int parse_number(Parser *p, JsonValue **ret) {
        size_t i = p->pos, e;
        char buf[128], *end;
        _cleanup_free_ char *big = NULL;
        const char *s;
        double d;

        if (i < p->size && p->text[i] == '-')
                i++;
        if (i >= p->size || !(p->text[i] >= '0' && p->text[i] <= '9'))
                return parse_fail(p, -EINVAL, p->pos, "bad number");
        if (p->text[i] == '0')
                i++;
        else
                i = digits(p, i);
        if (i < p->size && p->text[i] == '.') {
                e = digits(p, i + 1);
                if (e == i + 1)
                        return parse_fail(p, -EINVAL, i, "bad number: no digit after the decimal point");
                i = e;
        }
        if (i < p->size && (p->text[i] == 'e' || p->text[i] == 'E')) {
                i++;
                if (i < p->size && (p->text[i] == '+' || p->text[i] == '-'))
                        i++;
                e = digits(p, i);
                if (e == i)
                        return parse_fail(p, -EINVAL, i, "bad number: no digit in the exponent");
                i = e;
        }

        /* strtod() needs a NUL-terminated copy. */
        if (i - p->pos < sizeof buf) {
                memcpy(buf, p->text + p->pos, i - p->pos);
                buf[i - p->pos] = 0;
                s = buf;
        } else {
                big = strndup(p->text + p->pos, i - p->pos);
                if (!big)
                        return parse_fail(p, -ENOMEM, p->pos, "out of memory");
                s = big;
        }
        /* Non-negative integers are kept exactly, up to 2^64-1, as Python keeps its ints. */
        if (!strpbrk(s, "-.eE")) {
                unsigned long long u;

                errno = 0;
                u = strtoull(s, &end, 10);
                if (errno == 0 && *end == 0) {
                        *ret = json_unsigned(u);
                        if (!*ret)
                                return parse_fail(p, -ENOMEM, p->pos, "out of memory");
                        p->pos = i;
                        return 0;
                }
        }
        errno = 0;
        d = strtod(s, &end);
        if (errno == ERANGE && isinf(d))
                return parse_fail(p, -ERANGE, p->pos, "number out of range");
        /* As Python's json module: a fraction or an exponent makes a float, else an int. */
        *ret = strpbrk(s, ".eE") ? json_float(d) : json_number(d);
        if (!*ret)
                return parse_fail(p, -ENOMEM, p->pos, "out of memory");
        p->pos = i;
        return 0;
}

static int parse_value(Parser *p, JsonValue **ret);

static int parse_container(Parser *p, JsonValue **ret) {
        bool object = p->text[p->pos] == '{';
        _cleanup_(json_value_freep) JsonValue *v = object ? json_object() : json_array();
        int r;

        if (!v)
                return parse_fail(p, -ENOMEM, p->pos, "out of memory");
        if (++p->depth > p->max_depth)
                return parse_fail(p, -ELOOP, p->pos, "nested too deep");
        p->pos++;
        skip_space(p);
        if (p->pos < p->size && p->text[p->pos] == (object ? '}' : ']')) {
                p->pos++;
                goto done;
        }

        for (;;) {
                _cleanup_free_ char *key = NULL;
                JsonValue *child = NULL;
                size_t key_length;

                skip_space(p);
                if (object) {
                        if (p->pos >= p->size || p->text[p->pos] != '"')
                                return parse_fail(p, -EINVAL, p->pos, "expected a string as object key");
                        r = parse_string(p, &key, &key_length);
                        if (r < 0)
                                return r;
                        if (strlen(key) != key_length)
                                return parse_fail(p, -EINVAL, p->pos,
                                                  "NUL in an object key is not supported");
                        skip_space(p);
                        if (p->pos >= p->size || p->text[p->pos] != ':')
                                return parse_fail(p, -EINVAL, p->pos, "expected ':' after object key");
                        p->pos++;
                }
                r = parse_value(p, &child);
                if (r < 0)
                        return r;
                r = object ? json_object_set(v, key, child) : json_array_append(v, child);
                if (r < 0)
                        return parse_fail(p, r, p->pos, "out of memory");

                skip_space(p);
                if (p->pos >= p->size)
                        return parse_fail(p, -EINVAL, p->pos,
                                          object ? "unterminated object" : "unterminated array");
                if (p->text[p->pos] == ',') {
                        p->pos++;
                        continue;
                }
                if (p->text[p->pos] == (object ? '}' : ']')) {
                        p->pos++;
                        break;
                }
                return parse_fail(p, -EINVAL, p->pos,
                                  object ? "expected ',' or '}' in object" : "expected ',' or ']' in array");
        }
done:
        p->depth--;
        *ret = TAKE_PTR(v);
        return 0;
}

static int parse_word(Parser *p, const char *word, JsonValue *v, JsonValue **ret) {
        size_t n = strlen(word);

        if (!v)
                return parse_fail(p, -ENOMEM, p->pos, "out of memory");
        if (p->size - p->pos < n || memcmp(p->text + p->pos, word, n) != 0) {
                json_value_free(v);
                return parse_fail(p, -EINVAL, p->pos, "unexpected character");
        }
        p->pos += n;
        *ret = v;
        return 0;
}

static int parse_value(Parser *p, JsonValue **ret) {
        char *s;
        size_t n;
        int r;

        skip_space(p);
        if (p->pos >= p->size)
                return parse_fail(p, -EINVAL, p->pos, "unexpected end of input");

        switch (p->text[p->pos]) {
        case '{':
        case '[':
                return parse_container(p, ret);
        case '"':
                r = parse_string(p, &s, &n);
                if (r < 0)
                        return r;
                *ret = json_string_len(s, n);
                free(s);
                if (!*ret)
                        return parse_fail(p, -ENOMEM, p->pos, "out of memory");
                return 0;
        case 't':
                return parse_word(p, "true", json_boolean(true), ret);
        case 'f':
                return parse_word(p, "false", json_boolean(false), ret);
        case 'n':
                return parse_word(p, "null", json_null(), ret);
        case '-':
        case '0' ... '9':
                return parse_number(p, ret);
        default:
                return parse_fail(p, -EINVAL, p->pos, "unexpected character");
        }
}

static void set_error(JsonParseError *e, const Parser *p) {
        if (!e)
                return;
        *e = (JsonParseError) {
                .offset = p->error_pos,
                .line = 1,
                .column = 1,
                .message = p->message,
        };
        for (size_t i = 0; i < p->error_pos && i < p->size; i++)
                if (p->text[i] == '\n') {
                        e->line++;
                        e->column = 1;
                } else
                        e->column++;
}

int json_parse(const char *text, size_t size, unsigned max_depth, JsonValue **ret,
               JsonParseError *ret_error) {
        Parser p = {
                .text = text,
                .size = size,
                .max_depth = max_depth == 0 ? JSON_DEPTH_DEFAULT : MIN(max_depth, JSON_DEPTH_MAX),
        };
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        ssize_t l;

        if (!text || !ret)
                return -EINVAL;
        if (size > JSON_SIZE_MAX) {
                parse_fail(&p, -E2BIG, 0, "document too large");
                goto fail;
        }
        l = utf8_length(text, size);
        if (l < 0) {
                /* Find where, for the message. */
                size_t lo = 0, hi = size;
                while (hi - lo > 1) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (utf8_length(text, mid) >= 0)
                                lo = mid;
                        else
                                hi = mid;
                }
                parse_fail(&p, -EILSEQ, lo, "invalid UTF-8");
                goto fail;
        }

        if (parse_value(&p, &v) < 0)
                goto fail;
        skip_space(&p);
        if (p.pos < p.size) {
                parse_fail(&p, -EINVAL, p.pos, "trailing characters after the JSON value");
                goto fail;
        }
        *ret = TAKE_PTR(v);
        return 0;

fail:
        set_error(ret_error, &p);
        return p.error;
}

/* ---- serialization ---- */

int json_format_number(double d, char buf[static JSON_NUMBER_MAX]) {
        char tmp[JSON_NUMBER_MAX], mantissa[24];
        int exponent, n = 0, len;
        const char *e;

        if (isnan(d))
                return snprintf(buf, JSON_NUMBER_MAX, "NaN");
        if (isinf(d))
                return snprintf(buf, JSON_NUMBER_MAX, d < 0 ? "-Infinity" : "Infinity");
        if (d == 0)
                return snprintf(buf, JSON_NUMBER_MAX, "0");
        if (d == floor(d) && fabs(d) < 1e16)
                return snprintf(buf, JSON_NUMBER_MAX, "%.0f", d);

        /* The shortest digits that read back as d, as Python's repr() finds them. */
        for (int precision = 1; precision <= 17; precision++) {
                snprintf(tmp, sizeof tmp, "%.*e", precision - 1, d);
                if (strtod(tmp, NULL) == d)
                        break;
        }
        e = strchr(tmp, 'e');
        exponent = atoi(e + 1);
        for (const char *s = tmp; s < e; s++)
                if (*s >= '0' && *s <= '9')
                        mantissa[n++] = *s;
        while (n > 1 && mantissa[n - 1] == '0')
                n--;
        mantissa[n] = 0;

        len = 0;
        if (d < 0)
                buf[len++] = '-';
        if (exponent < -4 || exponent >= 16) {
                buf[len++] = mantissa[0];
                if (n > 1)
                        len += snprintf(buf + len, JSON_NUMBER_MAX - len, ".%s", mantissa + 1);
                len += snprintf(buf + len, JSON_NUMBER_MAX - len, "e%c%02d", exponent < 0 ? '-' : '+',
                                abs(exponent));
        } else if (exponent < 0) {
                len += snprintf(buf + len, JSON_NUMBER_MAX - len, "0.%.*s%s", -exponent - 1,
                                "0000", mantissa);
        } else {
                /* Not integral (handled above), so there are digits after the point. */
                for (int i = 0; i < n; i++) {
                        if (i == exponent + 1)
                                buf[len++] = '.';
                        buf[len++] = mantissa[i];
                }
                buf[len] = 0;
        }
        return len;
}

/* Escapes as Python's json.dumps() does (ensure_ascii as asked); bytes that are not UTF-8 (which a D-Bus
 * string cannot carry, but a caller might pass) become U+FFFD. */
static void print_string_len(FILE *f, const char *s, size_t n, bool ascii) {
        const unsigned char *p = (const unsigned char *) s;

        fputc('"', f);
        for (size_t i = 0; i < n;) {
                unsigned char c = p[i];
                ssize_t len;

                switch (c) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\b':
                        fputs("\\b", f);
                        break;
                case '\f':
                        fputs("\\f", f);
                        break;
                default:
                        if (c < 0x20 || (ascii && c == 0x7f)) {
                                fprintf(f, "\\u%04x", c);
                                break;
                        }
                        if (c < 0x80) {
                                fputc(c, f);
                                break;
                        }
                        len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
                        if (len == 0 || (size_t) len > n - i || utf8_length(s + i, len) != 1) {
                                fputs(ascii ? "\\ufffd" : "\xef\xbf\xbd", f);
                                break;
                        }
                        if (ascii) {
                                uint32_t cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
                                for (ssize_t j = 1; j < len; j++)
                                        cp = (cp << 6) | (p[i + j] & 0x3f);
                                if (cp >= 0x10000)
                                        fprintf(f, "\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
                                                0xdc00 + ((cp - 0x10000) & 0x3ff));
                                else
                                        fprintf(f, "\\u%04x", cp);
                        } else
                                fwrite(p + i, 1, len, f);
                        i += len;
                        continue;
                }
                i++;
        }
        fputc('"', f);
}

static void print_indent(FILE *f, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                fputc(' ', f);
}

static void print_number(FILE *f, const JsonValue *v) {
        char buf[JSON_NUMBER_MAX];

        if (v->is_unsigned)
                fprintf(f, "%" PRIu64, v->u);
        else if (v->is_float && v->number == floor(v->number) && fabs(v->number) < 1e16)
                fprintf(f, "%.1f", v->number);
        else {
                json_format_number(v->number, buf);
                fputs(buf, f);
        }
}

static void print_json(FILE *f, const JsonValue *v, unsigned indent, bool ascii, unsigned level) {
        switch (v->type) {
        case JSON_NULL:
                fputs("null", f);
                break;
        case JSON_STRING:
                print_string_len(f, v->string, v->length, ascii);
                break;
        case JSON_NUMBER:
                print_number(f, v);
                break;
        case JSON_BOOLEAN:
                fputs(v->boolean ? "true" : "false", f);
                break;
        case JSON_ARRAY:
        case JSON_OBJECT:
                if (v->n_children == 0) {
                        fputs(v->type == JSON_ARRAY ? "[]" : "{}", f);
                        break;
                }
                fputc(v->type == JSON_ARRAY ? '[' : '{', f);
                for (size_t i = 0; i < v->n_children; i++) {
                        if (i > 0)
                                fputc(',', f);
                        if (indent > 0) {
                                fputc('\n', f);
                                print_indent(f, (level + 1) * indent);
                        }
                        if (v->type == JSON_OBJECT) {
                                print_string_len(f, v->keys[i], strlen(v->keys[i]), ascii);
                                fputs(indent > 0 ? ": " : ":", f);
                        }
                        print_json(f, v->children[i], indent, ascii, level + 1);
                }
                if (indent > 0) {
                        fputc('\n', f);
                        print_indent(f, level * indent);
                }
                fputc(v->type == JSON_ARRAY ? ']' : '}', f);
                break;
        default:
                break;
        }
}

int json_write(FILE *f, const JsonValue *v, unsigned indent, JsonFormatFlags flags) {
        if (!v || json_failed(v))
                return -ENOMEM;
        print_json(f, v, indent, flags & JSON_FORMAT_ASCII, 0);
        if (flags & JSON_FORMAT_NEWLINE)
                fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}

int json_format(const JsonValue *v, unsigned indent, JsonFormatFlags flags, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        r = json_write(f, v, indent, flags);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

int json_print(FILE *f, const JsonValue *v) {
        return json_write(f, v, 4, JSON_FORMAT_NEWLINE);
}

/* What follows is awscli/text.py, which decides the shape of `--output text`, carried over
 * function by function: a dict prints its scalars, sorted by key, on one line (after the upper-cased
 * key it hangs under), then each of its lists and dicts, sorted by key, under their own key; a list
 * of dicts prints one line per dict with the union of their scalar keys as columns. */

static void print_scalar(FILE *f, const JsonValue *v) {
        switch (v->type) {
        case JSON_STRING:
                fwrite(v->string, 1, v->length, f);
                break;
        case JSON_NUMBER:
                print_number(f, v);
                break;
        case JSON_NULL:
                fputs("None", f);
                break;
        case JSON_BOOLEAN:
                fputs(v->boolean ? "True" : "False", f);
                break;
        default:
                break;
        }
}

static void print_identifier(FILE *f, const char *identifier) {
        for (const char *p = identifier; *p; p++)
                fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, f);
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static const JsonValue *object_get(const JsonValue *o, const char *key) {
        for (size_t i = 0; i < o->n_children; i++)
                if (streq(o->keys[i], key))
                        return o->children[i];
        return NULL;
}

/* The keys of an object, sorted; skip: a key to leave out. */
static const char **sorted_keys(const JsonValue *o, const char *skip, size_t *ret_n) {
        const char **keys;
        size_t n = 0;

        keys = calloc(o->n_children + 1, sizeof *keys);
        if (!keys)
                return NULL;
        for (size_t i = 0; i < o->n_children; i++)
                if (!skip || !streq(o->keys[i], skip))
                        keys[n++] = o->keys[i];
        qsort(keys, n, sizeof *keys, compare_strings);
        *ret_n = n;
        return keys;
}

static int print_text(FILE *f, const JsonValue *v, const char *identifier, const char **scalar_keys,
                      size_t n_scalar_keys, const char *skip);

static int print_text_dict(FILE *f, const JsonValue *v, const char *identifier, const char **scalar_keys,
                           size_t n_scalar_keys, const char *skip) {
        _cleanup_free_ const char **keys = NULL;
        bool line = false;
        size_t n;
        int r;

        keys = sorted_keys(v, skip, &n);
        if (!keys)
                return -ENOMEM;

        if (scalar_keys) {
                /* Columns given by the enclosing list: every one printed, empty where missing. */
                for (size_t i = 0; i < n_scalar_keys; i++) {
                        const JsonValue *c = object_get(v, scalar_keys[i]);

                        if (i == 0 && identifier) {
                                print_identifier(f, identifier);
                                fputc('\t', f);
                        } else if (i > 0)
                                fputc('\t', f);
                        if (c)
                                print_scalar(f, c);
                }
                line = n_scalar_keys > 0;
        } else
                for (size_t i = 0; i < n; i++) {
                        const JsonValue *c = object_get(v, keys[i]);

                        if (json_is_container(c))
                                continue;
                        if (!line && identifier) {
                                print_identifier(f, identifier);
                                fputc('\t', f);
                        } else if (line)
                                fputc('\t', f);
                        print_scalar(f, c);
                        line = true;
                }
        if (line)
                fputc('\n', f);

        for (size_t i = 0; i < n; i++) {
                const JsonValue *c = object_get(v, keys[i]);

                if (scalar_keys) {
                        if (bsearch(&keys[i], scalar_keys, n_scalar_keys, sizeof *scalar_keys,
                                    compare_strings))
                                continue;
                } else if (!json_is_container(c))
                        continue;

                r = print_text(f, c, keys[i], NULL, 0, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void print_scalar_list(FILE *f, const JsonValue *v, const char *identifier) {
        bool first = true;

        for (size_t i = 0; i < v->n_children; i++) {
                const JsonValue *c = v->children[i];

                if (json_is_container(c))
                        continue;
                if (identifier) {
                        print_identifier(f, identifier);
                        fputc('\t', f);
                        print_scalar(f, c);
                        fputc('\n', f);
                } else {
                        if (!first)
                                fputc('\t', f);
                        print_scalar(f, c);
                }
                first = false;
        }
        if (!identifier && !first)
                fputc('\n', f);
}

static int print_text_list(FILE *f, const JsonValue *v, const char *identifier) {
        _cleanup_free_ const char **keys = NULL;
        bool any_dict = false, any_list = false;
        size_t n_keys = 0;
        int r;

        if (v->n_children == 0)
                return 0;

        for (size_t i = 0; i < v->n_children; i++) {
                any_dict = any_dict || v->children[i]->type == JSON_OBJECT;
                any_list = any_list || v->children[i]->type == JSON_ARRAY;
        }

        if (any_dict) {
                size_t total = 0;

                for (size_t i = 0; i < v->n_children; i++)
                        total += v->children[i]->n_children;
                keys = calloc(total + 1, sizeof *keys);
                if (!keys)
                        return -ENOMEM;

                /* The union of the scalar keys of all the dicts, sorted, without duplicates. */
                for (size_t i = 0; i < v->n_children; i++) {
                        const JsonValue *c = v->children[i];

                        if (c->type != JSON_OBJECT)
                                continue;
                        for (size_t j = 0; j < c->n_children; j++)
                                if (!json_is_container(c->children[j]))
                                        keys[n_keys++] = c->keys[j];
                }
                qsort(keys, n_keys, sizeof *keys, compare_strings);
                size_t j = 0;
                for (size_t i = 0; i < n_keys; i++)
                        if (j == 0 || !streq(keys[i], keys[j - 1]))
                                keys[j++] = keys[i];
                n_keys = j;

                for (size_t i = 0; i < v->n_children; i++) {
                        r = print_text(f, v->children[i], identifier, keys, n_keys, NULL);
                        if (r < 0)
                                return r;
                }
        } else if (any_list) {
                print_scalar_list(f, v, identifier);
                for (size_t i = 0; i < v->n_children; i++) {
                        if (!json_is_container(v->children[i]))
                                continue;
                        r = print_text(f, v->children[i], identifier, NULL, 0, NULL);
                        if (r < 0)
                                return r;
                }
        } else
                print_scalar_list(f, v, identifier);

        return 0;
}

static int print_text(FILE *f, const JsonValue *v, const char *identifier, const char **scalar_keys,
                      size_t n_scalar_keys, const char *skip) {
        switch (v->type) {
        case JSON_OBJECT:
                return print_text_dict(f, v, identifier, scalar_keys, n_scalar_keys, skip);
        case JSON_ARRAY:
                return print_text_list(f, v, identifier);
        default:
                print_scalar(f, v);
                fputc('\n', f);
                return 0;
        }
}

int json_print_text(FILE *f, const JsonValue *v) {
        const JsonValue *token = NULL;
        int r;

        if (!v || json_failed(v))
                return -ENOMEM;

        if (v->type == JSON_OBJECT)
                token = object_get(v, "NextToken");
        if (token && json_is_container(token))
                token = NULL;

        r = print_text(f, v, NULL, NULL, 0, token ? "NextToken" : NULL);
        if (r < 0)
                return r;

        if (token) {
                fputs("NEXTTOKEN\t", f);
                print_scalar(f, token);
                fputc('\n', f);
        }
        return 0;
}
