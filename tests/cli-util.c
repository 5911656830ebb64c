/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers of the hmacctl end-to-end tests; see cli-util.h. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli-util.h"
#include "harness.h"
#include "macro.h"

/* ---- a small JSON parser, strict enough to reject what is not JSON ---- */

void j_free(J *j) {
        if (!j)
                return;
        for (size_t i = 0; i < j->n; i++) {
                j_free(j->items[i]);
                if (j->keys)
                        free(j->keys[i]);
        }
        free(j->items);
        free(j->keys);
        free(j->s);
        free(j);
}

void j_freep(J **j) {
        j_free(*j);
}

typedef struct JParser {
        const char *p;
        char error[128];
} JParser;

static void j_skip(JParser *x) {
        while (*x->p == ' ' || *x->p == '\n' || *x->p == '\t' || *x->p == '\r')
                x->p++;
}

static J *j_value(JParser *x, unsigned depth);

static char *j_string_raw(JParser *x) {
        size_t size = 0, allocated = strlen(x->p) + 1;
        char *s = malloc(allocated);

        cr_assert(s);
        x->p++; /* '"' */
        for (;;) {
                unsigned char c = *x->p++;

                if (c == '"')
                        break;
                if (c == 0 || c < 0x20) {
                        snprintf(x->error, sizeof x->error, "unterminated string or control character");
                        free(s);
                        return NULL;
                }
                if (c != '\\') {
                        s[size++] = c;
                        continue;
                }
                c = *x->p++;
                switch (c) {
                case '"':
                case '\\':
                case '/':
                        s[size++] = c;
                        break;
                case 'b':
                        s[size++] = '\b';
                        break;
                case 'f':
                        s[size++] = '\f';
                        break;
                case 'n':
                        s[size++] = '\n';
                        break;
                case 'r':
                        s[size++] = '\r';
                        break;
                case 't':
                        s[size++] = '\t';
                        break;
                case 'u': {
                        unsigned cp;

                        if (strspn(x->p, "0123456789abcdefABCDEF") < 4 || sscanf(x->p, "%4x", &cp) != 1) {
                                snprintf(x->error, sizeof x->error, "bad \\u escape");
                                free(s);
                                return NULL;
                        }
                        x->p += 4;
                        /* Our output only escapes control characters this way. */
                        if (cp < 0x80)
                                s[size++] = cp;
                        else if (cp < 0x800) {
                                s[size++] = 0xc0 | (cp >> 6);
                                s[size++] = 0x80 | (cp & 0x3f);
                        } else {
                                s[size++] = 0xe0 | (cp >> 12);
                                s[size++] = 0x80 | ((cp >> 6) & 0x3f);
                                s[size++] = 0x80 | (cp & 0x3f);
                        }
                        break;
                }
                default:
                        snprintf(x->error, sizeof x->error, "bad escape \\%c", c);
                        free(s);
                        return NULL;
                }
        }
        s[size] = 0;
        return s;
}

static J *j_new(JType type) {
        J *j = calloc(1, sizeof *j);
        cr_assert(j);
        j->type = type;
        return j;
}

static void j_append(J *j, char *key, J *item) {
        j->items = reallocarray(j->items, j->n + 1, sizeof *j->items);
        cr_assert(j->items);
        if (j->type == J_OBJECT) {
                j->keys = reallocarray(j->keys, j->n + 1, sizeof *j->keys);
                cr_assert(j->keys);
                j->keys[j->n] = key;
        }
        j->items[j->n++] = item;
}

static J *j_container(JParser *x, unsigned depth) {
        bool object = *x->p == '{';
        char close = object ? '}' : ']';
        J *j = j_new(object ? J_OBJECT : J_ARRAY);

        x->p++;
        j_skip(x);
        if (*x->p == close) {
                x->p++;
                return j;
        }
        for (;;) {
                char *key = NULL;
                J *item;

                j_skip(x);
                if (object) {
                        if (*x->p != '"' || !(key = j_string_raw(x))) {
                                if (!*x->error)
                                        snprintf(x->error, sizeof x->error, "expected a key");
                                goto fail;
                        }
                        j_skip(x);
                        if (*x->p++ != ':') {
                                snprintf(x->error, sizeof x->error, "expected ':'");
                                free(key);
                                goto fail;
                        }
                }
                item = j_value(x, depth + 1);
                if (!item) {
                        free(key);
                        goto fail;
                }
                j_append(j, key, item);
                j_skip(x);
                if (*x->p == ',') {
                        x->p++;
                        continue;
                }
                if (*x->p++ == close)
                        return j;
                snprintf(x->error, sizeof x->error, "expected ',' or '%c'", close);
                goto fail;
        }
fail:
        j_free(j);
        return NULL;
}

static J *j_value(JParser *x, unsigned depth) {
        J *j;

        j_skip(x);
        if (depth > 32) {
                snprintf(x->error, sizeof x->error, "too deep");
                return NULL;
        }
        switch (*x->p) {
        case '{':
        case '[':
                return j_container(x, depth);
        case '"':
                j = j_new(J_STRING);
                j->s = j_string_raw(x);
                if (!j->s) {
                        j_free(j);
                        return NULL;
                }
                return j;
        case 't':
        case 'f':
        case 'n': {
                static const char *const words[] = { "true", "false", "null" };
                for (size_t i = 0; i < ELEMENTSOF(words); i++)
                        if (strncmp(x->p, words[i], strlen(words[i])) == 0) {
                                x->p += strlen(words[i]);
                                j = j_new(i == 2 ? J_NULL : J_BOOLEAN);
                                j->b = i == 0;
                                return j;
                        }
                break;
        }
        default:
                if (*x->p == '-' || isdigit((unsigned char) *x->p)) {
                        size_t n = strspn(x->p, "-+.eE0123456789");
                        j = j_new(J_NUMBER);
                        j->s = strndup(x->p, n);
                        cr_assert(j->s);
                        x->p += n;
                        return j;
                }
        }
        snprintf(x->error, sizeof x->error, "unexpected '%.10s'", x->p);
        return NULL;
}

/* Parses the whole of text, which must be one JSON value; fails the test otherwise. */
J *j_parse(const char *text) {
        JParser x = { .p = text };
        J *j = j_value(&x, 0);

        cr_assert(j, "not JSON (%s at offset %zu): %s", x.error, (size_t) (x.p - text), text);
        j_skip(&x);
        cr_assert(*x.p == 0, "trailing text after the JSON value at offset %zu: %s", (size_t) (x.p - text),
                  text);
        return j;
}

const J *j_get(const J *o, const char *key) {
        cr_assert(o && o->type == J_OBJECT, "not an object where '%s' was looked for", key);
        for (size_t i = 0; i < o->n; i++)
                if (streq(o->keys[i], key))
                        return o->items[i];
        return NULL;
}

const J *j_need(const J *o, const char *key, JType type) {
        const J *v = j_get(o, key);
        cr_assert(v, "no '%s'", key);
        cr_assert_eq(v->type, type, "'%s' has JSON type %d, not %d", key, v->type, type);
        return v;
}

const char *j_str(const J *o, const char *key) {
        return j_need(o, key, J_STRING)->s;
}

const J *j_array(const J *o, const char *key) {
        return j_need(o, key, J_ARRAY);
}

/* The keys of object o are exactly these, in this order (NULL-terminated). */
void j_assert_keys(const J *o, ...) {
        va_list ap;
        size_t i = 0;
        const char *k;

        cr_assert(o && o->type == J_OBJECT);
        va_start(ap, o);
        while ((k = va_arg(ap, const char *))) {
                cr_assert(i < o->n, "missing key '%s' (only %zu keys)", k, o->n);
                cr_assert_str_eq(o->keys[i], k, "key %zu is '%s', expected '%s'", i, o->keys[i], k);
                i++;
        }
        va_end(ap);
        cr_assert_eq(i, o->n, "unexpected key '%s'", i < o->n ? o->keys[i] : "");
}

/* ---- base64 ---- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode_to(const void *data, size_t n, char *out) {
        const uint8_t *p = data;

        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0) |
                             (i + 2 < n ? p[i + 2] : 0);
                *out++ = b64_alphabet[v >> 18];
                *out++ = b64_alphabet[(v >> 12) & 63];
                *out++ = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
                *out++ = i + 2 < n ? b64_alphabet[v & 63] : '=';
        }
        *out = 0;
}

char *b64_encode(const void *p, size_t n) {
        char *out = malloc((n + 2) / 3 * 4 + 1);

        cr_assert(out);
        b64_encode_to(p, n, out);
        return out;
}

char *b64_text(const char *s) {
        return b64_encode(s, strlen(s));
}

size_t b64_decode_into(const char *s, uint8_t *out, size_t max) {
        uint32_t v = 0;
        size_t n = 0, bits = 0;

        cr_assert(strlen(s) % 4 == 0, "base64 of a length that is not a multiple of 4: '%s'", s);
        for (const char *p = s; *p && *p != '='; p++) {
                const char *c = strchr(b64_alphabet, *p);

                cr_assert(c && *p, "not base64: '%s'", s);
                v = v << 6 | (uint32_t) (c - b64_alphabet);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        cr_assert(n < max, "base64 longer than %zu bytes: '%s'", max, s);
                        out[n++] = (v >> bits) & 0xff;
                }
        }
        return n;
}

uint8_t *b64_decode(const char *s, size_t *ret_size) {
        size_t max = strlen(s) / 4 * 3 + 3;
        uint8_t *out = malloc(max);

        cr_assert(out);
        *ret_size = b64_decode_into(s, out, max);
        return out;
}

/* ---- running hmacctl ---- */

void expect_ok(const HarnessResult *res, const char *what) {
        cr_assert(!res->timed_out, "%s timed out", what);
        cr_assert_eq(res->exit_code, 0, "%s: %s\nstderr: %s\nstdout: %s", what,
                     harness_describe_status(res->status), res->err, res->out);
}

void expect_quiet(const HarnessResult *res, const char *what) {
        expect_ok(res, what);
        cr_assert_eq(res->out_size, 0, "%s printed: %s", what, res->out);
}

void expect_fail(const HarnessResult *res, int code, const char *err_part, const char *what) {
        cr_assert(!res->timed_out, "%s timed out", what);
        cr_assert_eq(res->exit_code, code, "%s: expected exit %d, %s\nstderr: %s\nstdout: %s", what, code,
                     harness_describe_status(res->status), res->err, res->out);
        if (err_part)
                cr_assert(strstr(res->err, err_part), "%s: stderr lacks '%s': %s", what, err_part, res->err);
        cr_assert_eq(res->out_size, 0, "%s: stdout not empty: %s", what, res->out);
}

bool has_line(const char *text, const char *line) {
        size_t n = strlen(line);

        for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == 0))
                        return true;
        return false;
}

void expect_service_error(const HarnessResult *res, const char *exception, const char *operation,
                          const char *message_part) {
        char prefix[256];
        const char *line;

        snprintf(prefix, sizeof prefix, "An error occurred (%s) when calling the %s operation: ", exception,
                 operation);
        expect_fail(res, 254, prefix, operation);
        if (message_part) {
                line = strstr(res->err, prefix) + strlen(prefix);
                cr_assert(strstr(line, message_part), "message lacks '%s': %s", message_part, res->err);
        }
}

J *run_json(const HarnessResult *res, const char *what) {
        expect_ok(res, what);
        return j_parse(res->out);
}

char *tmp_path(const char *name) {
        char *p;

        cr_assert(asprintf(&p, "%s/%s", harness_tmp_dir(), name) >= 0);
        return p;
}

void write_file(const char *path, const void *data, size_t size) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        cr_assert(fd >= 0, "open %s: %m", path);
        cr_assert_eq(write(fd, data, size), (ssize_t) size);
        cr_assert(close(fd) == 0);
}

/* ---- times and paging ---- */

/* Microseconds since the epoch of an ISO 8601 time as the aws CLI prints them (botocore's
 * datetime.isoformat()): "2026-11-22T10:00:00+00:00", or "2026-11-22T10:00:00.123000+00:00" when
 * there is a fraction of a second, which is then never 0. */
uint64_t iso8601_usec(const char *s) {
        struct tm tm = {};
        const char *rest;
        unsigned frac = 0;

        cr_assert(s);
        rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        cr_assert(rest && strlen(s) == 19 + strlen(rest), "not ISO 8601: '%s'", s);
        if (*rest == '.') {
                cr_assert(strspn(rest + 1, "0123456789") == 6, "fraction of '%s' is not 6 digits", s);
                cr_assert(sscanf(rest + 1, "%6u", &frac) == 1);
                cr_assert(frac > 0, "'%s' has a fraction of 0, which isoformat() leaves out", s);
                rest += 7;
        }
        cr_assert_str_eq(rest, "+00:00", "'%s' does not end in +00:00", s);
        return (uint64_t) timegm(&tm) * 1000000 + frac;
}

time_t iso8601(const char *s) {
        return (time_t) (iso8601_usec(s) / 1000000);
}

/* Pages through a list subcommand as AWS CLI v2 scripts do, with --max-items (and --page-size, the size
 * of the service's pages, if given) and --starting-token, until there is no NextToken; returns the
 * first field (field) of every entry, in order, and the number of outputs. Every NextToken is one
 * botocore would make: base64 of {"Marker": ...}, with "boto_truncate_amount" when it ends inside a
 * page. */
size_t page_through(const char *verb, const char *result_key, const char *field,
                           const char *max_items, const char *page_size, const char *key_id, char ***ret,
                           size_t *ret_pages) {
        _cleanup_free_ char *token = NULL;
        char **names = NULL;
        size_t n = 0, pages = 0;

        for (;;) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_(j_freep) J *j = NULL;
                _cleanup_free_ uint8_t *decoded = NULL;
                char *argv[14] = { (char *) HARNESS_HMACCTL, (char *) verb, (char *) "--max-items",
                                   (char *) max_items };
                size_t argc = 4, size;
                const J *items, *next;

                if (page_size) {
                        argv[argc++] = (char *) "--page-size";
                        argv[argc++] = (char *) page_size;
                }
                if (key_id) {
                        argv[argc++] = (char *) "--key-id";
                        argv[argc++] = (char *) key_id;
                }
                if (token) {
                        argv[argc++] = (char *) "--starting-token";
                        argv[argc++] = token;
                }
                cr_assert(harness_run(NULL, NULL, 0, argv, &res) >= 0);
                j = run_json(&res, verb);
                items = j_array(j, result_key);
                next = j_get(j, "NextToken");
                cr_assert_null(j_get(j, "Truncated"));
                cr_assert_null(j_get(j, "NextMarker"));
                cr_assert_leq(items->n, (size_t) atoi(max_items));
                for (size_t i = 0; i < items->n; i++) {
                        names = reallocarray(names, n + 1, sizeof *names);
                        cr_assert(names);
                        names[n++] = strdup(j_str(items->items[i], field));
                }
                pages++;
                cr_assert_leq(pages, 100, "no end of pages");
                if (!next) {
                        j_assert_keys(j, result_key, NULL);
                        break;
                }
                j_assert_keys(j, result_key, "NextToken", NULL);
                cr_assert_eq(next->type, J_STRING);
                cr_assert_eq(items->n, (size_t) atoi(max_items), "a short output with a NextToken");
                decoded = b64_decode(next->s, &size);
                decoded = realloc(decoded, size + 1);
                cr_assert(decoded);
                decoded[size] = 0;
                cr_assert(strncmp((char *) decoded, "{\"Marker\": ", 11) == 0 && decoded[size - 1] == '}',
                          "NextToken %s is not botocore's: %s", next->s, decoded);
                free(token);
                token = strdup(next->s);
        }
        *ret = names;
        *ret_pages = pages;
        return n;
}

void free_names(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}
