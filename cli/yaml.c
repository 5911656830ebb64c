/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A YAML reader for --cli-input-yaml: the block structure is followed line by line (indentation,
 * "- " items, "key: value" pairs), scalars are resolved as YAML 1.2's core schema does, and flow
 * collections are read as JSON. See yaml.h for what is left out. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kms.h"
#include "macro.h"
#include "yaml.h"

#define YAML_SIZE_MAX  (1024u * 1024u)
#define YAML_DEPTH_MAX 64u

typedef struct Line {
        const char *raw; /* the line as written, without its newline */
        size_t raw_size;
        size_t indent; /* leading spaces */
        char *content; /* after the indentation, without a comment and trailing blanks */
} Line;

typedef struct Parser {
        Line *lines;
        size_t n_lines;
        size_t i; /* the current line */
        unsigned error_line;
} Parser;

static bool is_blank(const Line *l) {
        return !l->content || !*l->content;
}

/* The content of a line without a comment: '#' after a blank (or first), outside quotes. */
static char *strip_comment(const char *s, size_t n) {
        char quote = 0, *r;
        size_t end = n;

        for (size_t i = 0; i < n; i++) {
                char ch = s[i];

                if (quote == '\'') {
                        if (ch == '\'' && i + 1 < n && s[i + 1] == '\'')
                                i++; /* '' is a quote inside */
                        else if (ch == '\'')
                                quote = 0;
                } else if (quote == '"') {
                        if (ch == '\\')
                                i++;
                        else if (ch == '"')
                                quote = 0;
                } else if (ch == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
                        end = i;
                        break;
                } else if ((ch == '\'' || ch == '"') && (i == 0 || strchr(" \t[{,:-", s[i - 1])))
                        quote = ch;
        }
        while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r'))
                end--;
        r = strndup(s, end);
        return r;
}

static void lines_free(Line *lines, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(lines[i].content);
        free(lines);
}

static int split_lines(const char *text, size_t size, Line **ret, size_t *ret_n) {
        Line *lines = NULL;
        size_t n = 0;

        for (const char *p = text; p < text + size;) {
                const char *nl = memchr(p, '\n', text + size - p), *end = nl ?: text + size;
                Line *a, *l;

                a = reallocarray(lines, n + 1, sizeof *a);
                if (!a) {
                        lines_free(lines, n);
                        return -ENOMEM;
                }
                lines = a;
                l = &lines[n++];
                *l = (Line){ .raw = p, .raw_size = (size_t) (end - p) };
                while (l->indent < l->raw_size && p[l->indent] == ' ')
                        l->indent++;
                if (l->indent < l->raw_size && p[l->indent] == '\t') {
                        lines_free(lines, n - 1);
                        return -EINVAL; /* YAML forbids tabs in indentation */
                }
                l->content = strip_comment(p + l->indent, l->raw_size - l->indent);
                if (!l->content) {
                        lines_free(lines, n - 1);
                        return -ENOMEM;
                }
                /* Document markers are not content. */
                if (l->indent == 0 && (streq(l->content, "---") || streq(l->content, "...")))
                        l->content[0] = 0;
                p = nl ? nl + 1 : text + size;
        }
        *ret = lines;
        *ret_n = n;
        return 0;
}

static void skip_blank(Parser *x) {
        while (x->i < x->n_lines && is_blank(&x->lines[x->i]))
                x->i++;
}

static int fail(Parser *x, int r) {
        if (x->error_line == 0)
                x->error_line = (unsigned) MIN(x->i + 1, x->n_lines);
        return r;
}

/* "..." with JSON's escapes (a subset of YAML's double-quoted style) or '...' with '' for a quote.
 * *end is set past the closing quote. */
static int parse_quoted(const char *s, const char **end, char **ret) {
        size_t n = 0;
        char *out = malloc(strlen(s) + 1);

        if (!out)
                return -ENOMEM;
        if (*s == '\'') {
                for (s++;; s++) {
                        if (!*s)
                                goto invalid;
                        if (*s == '\'') {
                                if (s[1] != '\'')
                                        break;
                                s++;
                        }
                        out[n++] = *s;
                }
        } else {
                for (s++;; s++) {
                        if (!*s)
                                goto invalid;
                        if (*s == '"')
                                break;
                        if (*s != '\\') {
                                out[n++] = *s;
                                continue;
                        }
                        s++;
                        switch (*s) {
                        case 'n':
                                out[n++] = '\n';
                                break;
                        case 't':
                                out[n++] = '\t';
                                break;
                        case 'r':
                                out[n++] = '\r';
                                break;
                        case '0':
                                goto invalid; /* a NUL cannot be a C string */
                        case '"':
                        case '\\':
                        case '/':
                        case ' ':
                                out[n++] = *s;
                                break;
                        case 'u': {
                                unsigned cp = 0;

                                for (int k = 1; k <= 4; k++) {
                                        char h = s[k];

                                        if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                                              (h >= 'A' && h <= 'F')))
                                                goto invalid;
                                        cp = cp * 16 +
                                             (unsigned) (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                                }
                                s += 4;
                                if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                                        goto invalid;
                                if (cp < 0x80)
                                        out[n++] = (char) cp;
                                else if (cp < 0x800) {
                                        out[n++] = (char) (0xc0 | (cp >> 6));
                                        out[n++] = (char) (0x80 | (cp & 0x3f));
                                } else {
                                        out[n++] = (char) (0xe0 | (cp >> 12));
                                        out[n++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                                        out[n++] = (char) (0x80 | (cp & 0x3f));
                                }
                                break;
                        }
                        default:
                                goto invalid;
                        }
                }
        }
        out[n] = 0;
        *end = s + 1;
        *ret = out;
        return 0;

invalid:
        free(out);
        return -EINVAL;
}

static bool is_number(const char *s) {
        const char *p = s;
        bool digits = false;

        if (*p == '-' || *p == '+')
                p++;
        while (*p >= '0' && *p <= '9')
                p++, digits = true;
        if (*p == '.') {
                p++;
                while (*p >= '0' && *p <= '9')
                        p++, digits = true;
        }
        if (!digits)
                return false;
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '-' || *p == '+')
                        p++;
                if (!(*p >= '0' && *p <= '9'))
                        return false;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        return *p == 0;
}

/* A scalar on one line (or a flow collection, read as JSON). */
static int parse_scalar(Parser *x, const char *s, JsonValue **ret) {
        JsonValue *v;

        /* A tag such as !!binary or !!str: skipped, the value is what follows. */
        if (*s == '!') {
                s += strcspn(s, " ");
                s += strspn(s, " ");
        }

        if (*s == '"' || *s == '\'') {
                _cleanup_free_ char *str = NULL;
                const char *end;
                int r;

                r = parse_quoted(s, &end, &str);
                if (r < 0)
                        return fail(x, r);
                if (*end)
                        return fail(x, -EINVAL);
                v = json_string(str);
        } else if (*s == '[' || *s == '{') {
                int r = json_parse(s, strlen(s), YAML_DEPTH_MAX, &v, NULL);

                if (r < 0)
                        return fail(x, r == -ENOMEM ? r : -EINVAL);
        } else if (!*s || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL"))
                v = json_null();
        else if (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"))
                v = json_boolean(true);
        else if (streq(s, "false") || streq(s, "False") || streq(s, "FALSE"))
                v = json_boolean(false);
        else if (is_number(s)) {
                double d = strtod(s, NULL);

                if (!isfinite(d))
                        return fail(x, -EINVAL); /* beyond a double, which JSON cannot carry either */
                /* 12 is an int, 12.0 and 1e3 floats, as in Python. */
                v = strpbrk(s, ".eE") ? json_float(d) : json_number(d);
        }
        else
                v = json_string(s);

        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

/* | and > after a key: the more indented lines that follow, literal or folded. */
static int parse_block_scalar(Parser *x, const char *header, size_t parent_indent, JsonValue **ret) {
        char chomp = header[1] == '-' || header[1] == '+' ? header[1] : 0;
        bool folded = header[0] == '>';
        size_t block_indent = 0, n = 0, size = 1, last = 0;
        _cleanup_free_ char *out = NULL;

        for (size_t k = x->i; k < x->n_lines; k++)
                size += x->lines[k].raw_size + 1;
        out = malloc(size);
        if (!out)
                return -ENOMEM;

        for (; x->i < x->n_lines; x->i++) {
                const Line *l = &x->lines[x->i];
                bool blank = l->indent >= l->raw_size;

                if (!blank && l->indent <= parent_indent)
                        break;
                if (!blank && block_indent == 0)
                        block_indent = l->indent;
                if (!blank && l->indent < block_indent)
                        return fail(x, -EINVAL);
                if (n > 0 || blank) {
                        char sep = folded && !blank && n > 0 && out[n - 1] != '\n' ? ' ' : '\n';

                        out[n++] = sep;
                }
                if (!blank) {
                        memcpy(out + n, l->raw + block_indent, l->raw_size - block_indent);
                        n += l->raw_size - block_indent;
                        last = n;
                }
        }
        /* Chomping: strip (-) drops the final line breaks, clip (default) keeps one, keep (+) all. */
        if (chomp != '+')
                n = last;
        if (chomp == 0 && last > 0)
                out[n++] = '\n';
        out[n] = 0;

        *ret = json_string_len(out, n);
        return *ret ? 0 : -ENOMEM;
}

static int parse_node(Parser *x, size_t min_indent, unsigned depth, JsonValue **ret);

/* Where "key:" ends in s (the colon), or NULL when s is no mapping entry. */
static const char *find_colon(const char *s) {
        if (*s == '"' || *s == '\'') {
                _cleanup_free_ char *key = NULL;
                const char *end;

                if (parse_quoted(s, &end, &key) < 0)
                        return NULL;
                return *end == ':' && (end[1] == 0 || end[1] == ' ') ? end : NULL;
        }
        for (const char *p = s; *p; p++)
                if (*p == ':' && (p[1] == 0 || p[1] == ' '))
                        return p;
        return NULL;
}

static bool is_item(const char *s) {
        return s[0] == '-' && (s[1] == 0 || s[1] == ' ');
}

static int parse_sequence(Parser *x, size_t indent, unsigned depth, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *a = json_array();
        int r;

        if (!a)
                return -ENOMEM;

        for (skip_blank(x); x->i < x->n_lines; skip_blank(x)) {
                Line *l = &x->lines[x->i];
                JsonValue *item = NULL;
                size_t offset;

                if (l->indent != indent || !is_item(l->content))
                        break;

                offset = 1 + strspn(l->content + 1, " ");
                if (!l->content[offset]) {
                        x->i++;
                        skip_blank(x);
                        if (x->i < x->n_lines && x->lines[x->i].indent > indent)
                                r = parse_node(x, indent + 1, depth + 1, &item);
                        else
                                r = parse_scalar(x, "", &item);
                } else {
                        /* "- key: value": the rest of the line is a node indented as far as it starts, and
                         * the lines that follow at that indentation belong to it. */
                        memmove(l->content, l->content + offset, strlen(l->content + offset) + 1);
                        l->indent += offset;
                        r = parse_node(x, l->indent, depth + 1, &item);
                }
                if (r < 0)
                        return r;
                r = json_array_append(a, item);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(a);
        return 0;
}

static int parse_mapping(Parser *x, size_t indent, unsigned depth, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *o = json_object();
        int r;

        if (!o)
                return -ENOMEM;

        for (skip_blank(x); x->i < x->n_lines; skip_blank(x)) {
                const Line *l = &x->lines[x->i];
                _cleanup_free_ char *key = NULL;
                const char *colon, *value, *end;
                JsonValue *v = NULL;

                if (l->indent < indent)
                        break;
                if (l->indent > indent)
                        return fail(x, -EINVAL);
                colon = find_colon(l->content);
                if (!colon)
                        break;

                if (l->content[0] == '"' || l->content[0] == '\'')
                        r = parse_quoted(l->content, &end, &key);
                else {
                        key = strndup(l->content, colon - l->content);
                        r = key ? 0 : -ENOMEM;
                }
                if (r < 0)
                        return fail(x, r);

                value = colon + 1 + strspn(colon + 1, " ");
                if (*value == '!' && value[strcspn(value, " ")] == 0)
                        value = ""; /* a tag alone: the value is on the lines below */
                x->i++;

                if (*value == '|' || *value == '>')
                        r = parse_block_scalar(x, value, indent, &v);
                else if (*value)
                        r = parse_scalar(x, value, &v);
                else {
                        skip_blank(x);
                        if (x->i < x->n_lines && x->lines[x->i].indent > indent)
                                r = parse_node(x, indent + 1, depth + 1, &v);
                        else if (x->i < x->n_lines && x->lines[x->i].indent == indent &&
                                 is_item(x->lines[x->i].content))
                                r = parse_sequence(x, indent, depth + 1, &v); /* "key:\n- item" */
                        else
                                r = parse_scalar(x, "", &v);
                }
                if (r < 0)
                        return r;
                r = json_object_set(o, key, v);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(o);
        return 0;
}

static int parse_node(Parser *x, size_t min_indent, unsigned depth, JsonValue **ret) {
        const Line *l;
        JsonValue *v = NULL;
        int r;

        if (depth > YAML_DEPTH_MAX)
                return fail(x, -E2BIG);

        skip_blank(x);
        if (x->i >= x->n_lines)
                return parse_scalar(x, "", ret);
        l = &x->lines[x->i];
        if (l->indent < min_indent)
                return parse_scalar(x, "", ret);

        if (is_item(l->content))
                return parse_sequence(x, l->indent, depth, ret);
        if (l->content[0] != '{' && l->content[0] != '[' && find_colon(l->content))
                return parse_mapping(x, l->indent, depth, ret);

        /* A scalar alone on its line(s): plain scalars may go on over more indented lines. */
        r = parse_scalar(x, l->content, &v);
        x->i++;
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int yaml_parse(const char *text, size_t size, JsonValue **ret, unsigned *ret_line) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        Parser x = {};
        int r;

        if (!text || !ret)
                return -EINVAL;
        if (size > YAML_SIZE_MAX)
                return -E2BIG;
        if (memchr(text, 0, size) || utf8_length(text, size) < 0)
                return -EINVAL; /* YAML is UTF-8 text */

        r = split_lines(text, size, &x.lines, &x.n_lines);
        if (r < 0)
                return r;

        r = parse_node(&x, 0, 0, &v);
        if (r >= 0) {
                skip_blank(&x);
                if (x.i < x.n_lines)
                        r = fail(&x, -EINVAL); /* something left that belongs nowhere */
        }
        lines_free(x.lines, x.n_lines);
        if (r < 0) {
                if (ret_line)
                        *ret_line = x.error_line;
                return r;
        }

        *ret = TAKE_PTR(v);
        return 0;
}
