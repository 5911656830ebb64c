/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON values for hmacctl output, printed the way the aws CLI prints responses. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "macro.h"

typedef enum JsonType {
        JSON_STRING,
        JSON_UNSIGNED,
        JSON_BOOLEAN,
        JSON_ARRAY,
        JSON_OBJECT,
} JsonType;

struct JsonValue {
        JsonType type;
        bool failed;            /* a child could not be allocated */
        char *string;
        uint64_t number;
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

        if (v)
                v->type = type;
        return v;
}

JsonValue *json_string(const char *s) {
        JsonValue *v;

        if (!s)
                return NULL;
        v = json_new(JSON_STRING);
        if (!v)
                return NULL;
        v->string = strdup(s);
        if (!v->string)
                return json_value_free(v);
        return v;
}

JsonValue *json_unsigned(uint64_t u) {
        JsonValue *v = json_new(JSON_UNSIGNED);

        if (v)
                v->number = u;
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

JsonValue *json_value_free(JsonValue *v) {
        if (!v)
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
                explicit_bzero(v->string, strlen(v->string));
                free(v->string);
        }
        free(v);
        return NULL;
}

void json_add(JsonValue *parent, const char *key, JsonValue *child) {
        char *k = NULL;

        if (!parent || !json_is_container(parent) || (parent->type == JSON_OBJECT) != !!key) {
                json_value_free(child);
                return;
        }
        if (!child) {
                parent->failed = true;
                return;
        }

        if (parent->n_children >= parent->allocated) {
                size_t n = MAX(parent->allocated * 2, (size_t) 8);
                JsonValue **c;

                c = reallocarray(parent->children, n, sizeof *c);
                if (!c)
                        goto fail;
                parent->children = c;

                if (key) {
                        char **ks = reallocarray(parent->keys, n, sizeof *ks);
                        if (!ks)
                                goto fail;
                        parent->keys = ks;
                }
                parent->allocated = n;
        }

        if (key) {
                k = strdup(key);
                if (!k)
                        goto fail;
                parent->keys[parent->n_children] = k;
        }
        parent->children[parent->n_children++] = child;
        return;

fail:
        parent->failed = true;
        json_value_free(child);
}

static bool json_failed(const JsonValue *v) {
        if (v->failed)
                return true;
        for (size_t i = 0; i < v->n_children; i++)
                if (json_failed(v->children[i]))
                        return true;
        return false;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if there is none. */
static size_t utf8_sequence_length(const unsigned char *s, size_t n) {
        size_t len;
        uint32_t cp, min;

        if (s[0] < 0x80)
                return 1;
        else if ((s[0] & 0xe0) == 0xc0)
                len = 2, cp = s[0] & 0x1f, min = 0x80;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, cp = s[0] & 0x0f, min = 0x800;
        else if ((s[0] & 0xf8) == 0xf0)
                len = 4, cp = s[0] & 0x07, min = 0x10000;
        else
                return 0;

        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

/* Escapes as Python's json.dumps(ensure_ascii=False) does; bytes that are not UTF-8 (which a D-Bus
 * string cannot carry, but a caller might pass) become U+FFFD. */
static void print_string(FILE *f, const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t n = strlen(s);

        fputc('"', f);
        for (size_t i = 0; i < n;) {
                unsigned char c = p[i];
                size_t len;

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
                        if (c < 0x20) {
                                fprintf(f, "\\u%04x", c);
                                break;
                        }
                        len = utf8_sequence_length(p + i, n - i);
                        if (len == 0) {
                                fputs("\xef\xbf\xbd", f);
                                break;
                        }
                        fwrite(p + i, 1, len, f);
                        i += len;
                        continue;
                }
                i++;
        }
        fputc('"', f);
}

static void print_indent(FILE *f, unsigned level) {
        for (unsigned i = 0; i < level * 4; i++)
                fputc(' ', f);
}

static void print_json(FILE *f, const JsonValue *v, unsigned level) {
        switch (v->type) {
        case JSON_STRING:
                print_string(f, v->string);
                break;
        case JSON_UNSIGNED:
                fprintf(f, "%" PRIu64, v->number);
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
                        fputs(i > 0 ? ",\n" : "\n", f);
                        print_indent(f, level + 1);
                        if (v->type == JSON_OBJECT) {
                                print_string(f, v->keys[i]);
                                fputs(": ", f);
                        }
                        print_json(f, v->children[i], level + 1);
                }
                fputc('\n', f);
                print_indent(f, level);
                fputc(v->type == JSON_ARRAY ? ']' : '}', f);
                break;
        }
}

int json_print(FILE *f, const JsonValue *v) {
        if (!v || json_failed(v))
                return -ENOMEM;
        print_json(f, v, 0);
        fputc('\n', f);
        return 0;
}

/* What follows is awscli/text.py, which decides the shape of `--output text`, carried over
 * function by function: a dict prints its scalars, sorted by key, on one line (after the upper-cased
 * key it hangs under), then each of its lists and dicts, sorted by key, under their own key; a list
 * of dicts prints one line per dict with the union of their scalar keys as columns. */

static void print_scalar(FILE *f, const JsonValue *v) {
        switch (v->type) {
        case JSON_STRING:
                fputs(v->string, f);
                break;
        case JSON_UNSIGNED:
                fprintf(f, "%" PRIu64, v->number);
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
