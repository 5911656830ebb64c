/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AWS CLI v2's output formats, carried over from awscli's Python function by function: each section
 * below names the code it follows. */
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "macro.h"
#include "output.h"
#include "wide-table.h"

static const char *const format_names[_OUTPUT_FORMAT_MAX] = {
        [OUTPUT_FORMAT_JSON] = "json",
        [OUTPUT_FORMAT_TEXT] = "text",
        [OUTPUT_FORMAT_TABLE] = "table",
        [OUTPUT_FORMAT_YAML] = "yaml",
        [OUTPUT_FORMAT_YAML_STREAM] = "yaml-stream",
};

static const char *const color_names[_OUTPUT_COLOR_MAX] = {
        [OUTPUT_COLOR_AUTO] = "auto",
        [OUTPUT_COLOR_ON] = "on",
        [OUTPUT_COLOR_OFF] = "off",
};

const char *output_format_to_string(OutputFormat f) {
        return f >= 0 && f < _OUTPUT_FORMAT_MAX ? format_names[f] : NULL;
}

OutputFormat output_format_from_string(const char *s) {
        for (OutputFormat f = 0; s && f < _OUTPUT_FORMAT_MAX; f++)
                if (streq(s, format_names[f]))
                        return f;
        return _OUTPUT_FORMAT_INVALID;
}

const char *output_color_to_string(OutputColor c) {
        return c >= 0 && c < _OUTPUT_COLOR_MAX ? color_names[c] : NULL;
}

OutputColor output_color_from_string(const char *s) {
        for (OutputColor c = 0; s && c < _OUTPUT_COLOR_MAX; c++)
                if (streq(s, color_names[c]))
                        return c;
        return _OUTPUT_COLOR_INVALID;
}

static bool is_container_type(JsonType t) {
        return t == JSON_ARRAY || t == JSON_OBJECT;
}

static bool is_container(const JsonValue *v) {
        return is_container_type(json_type(v));
}

/* ---- UTF-8 ---- */

/* Decodes the code point at s (n bytes left) into *ret_cp; returns its length. Invalid bytes decode as
 * themselves, one at a time. */
static size_t utf8_decode(const char *s, size_t n, uint32_t *ret_cp) {
        const unsigned char *p = (const unsigned char *) s;
        size_t len;
        uint32_t cp;

        if (p[0] < 0x80 || n == 0) {
                *ret_cp = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0)
                len = 2, cp = p[0] & 0x1f;
        else if ((p[0] & 0xf0) == 0xe0)
                len = 3, cp = p[0] & 0x0f;
        else if ((p[0] & 0xf8) == 0xf0)
                len = 4, cp = p[0] & 0x07;
        else {
                *ret_cp = p[0];
                return 1;
        }
        if (len > n) {
                *ret_cp = p[0];
                return 1;
        }
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80) {
                        *ret_cp = p[0];
                        return 1;
                }
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        *ret_cp = cp;
        return len;
}

/* ---- Python's str() and repr() of a value, which is what aws prints for a scalar in text and table
 * output (True, None, 2.5), and for a list or dict where it expected a scalar. ---- */

static void python_repr_string(FILE *f, const char *s, size_t n) {
        char quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';

        fputc(quote, f);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = s[i];

                if (c == '\\' || c == (unsigned char) quote)
                        fprintf(f, "\\%c", c);
                else if (c == '\n')
                        fputs("\\n", f);
                else if (c == '\r')
                        fputs("\\r", f);
                else if (c == '\t')
                        fputs("\\t", f);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
        }
        fputc(quote, f);
}

static void python_str(FILE *f, const JsonValue *v, bool repr) {
        char buf[JSON_NUMBER_MAX];
        double d;

        switch (json_type(v)) {
        case JSON_NULL:
                fputs("None", f);
                break;
        case JSON_BOOLEAN:
                fputs(json_boolean_value(v) ? "True" : "False", f);
                break;
        case JSON_NUMBER:
                d = json_number_value(v);
                if (isnan(d))
                        fputs("nan", f);
                else if (isinf(d))
                        fputs(d < 0 ? "-inf" : "inf", f);
                else {
                        _cleanup_free_ char *s = NULL;
                        /* json_format() prints unsigned values exactly. */
                        if (json_format(v, 0, 0, &s) >= 0)
                                fputs(s, f);
                        else {
                                json_format_number(d, buf);
                                fputs(buf, f);
                        }
                }
                break;
        case JSON_STRING:
                if (repr)
                        python_repr_string(f, json_string_value(v), json_string_length(v));
                else
                        fwrite(json_string_value(v), 1, json_string_length(v), f);
                break;
        case JSON_ARRAY:
                fputc('[', f);
                for (size_t i = 0; i < json_size(v); i++) {
                        if (i > 0)
                                fputs(", ", f);
                        python_str(f, json_array_get(v, i), true);
                }
                fputc(']', f);
                break;
        case JSON_OBJECT:
                fputc('{', f);
                for (size_t i = 0; i < json_size(v); i++) {
                        const char *k = json_object_key(v, i);
                        if (i > 0)
                                fputs(", ", f);
                        python_repr_string(f, k, strlen(k));
                        fputs(": ", f);
                        python_str(f, json_object_value(v, i), true);
                }
                fputc('}', f);
                break;
        default:
                break;
        }
}

static char *python_str_dup(const JsonValue *v) {
        char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);

        if (!f)
                return NULL;
        python_str(f, v, false);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

/* Python's truth value: None, False, 0, "", [] and {} are false. */
static bool python_truthy(const JsonValue *v) {
        if (json_type(v) == JSON_NUMBER)
                return json_number_value(v) != 0;
        return json_is_truthy(v);
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Sorted, without duplicates; returns the new count. */
static size_t sort_unique(const char **keys, size_t n) {
        size_t j = 0;

        qsort(keys, n, sizeof *keys, compare_strings);
        for (size_t i = 0; i < n; i++)
                if (j == 0 || !streq(keys[i], keys[j - 1]))
                        keys[j++] = keys[i];
        return j;
}

/* ---- text: awscli/text.py ---- */

static void text_identifier(FILE *f, const char *identifier) {
        /* Python's str.upper(); only ASCII letters change here. */
        for (const char *p = identifier; *p; p++)
                fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, f);
}

static int text_format(FILE *f, const JsonValue *item, const char *identifier, const char **scalar_keys,
                       size_t n_scalar_keys, bool have_scalar_keys, unsigned depth);

static int text_format_scalar_list(FILE *f, const JsonValue *list, const char *identifier) {
        bool first = true;

        for (size_t i = 0; i < json_size(list); i++) {
                const JsonValue *c = json_array_get(list, i);

                if (is_container(c))
                        continue;
                if (identifier) {
                        text_identifier(f, identifier);
                        fputc('\t', f);
                        python_str(f, c, false);
                        fputc('\n', f);
                } else {
                        if (!first)
                                fputc('\t', f);
                        python_str(f, c, false);
                }
                first = false;
        }
        if (!identifier)
                fputc('\n', f);
        return 0;
}

static int text_format_list(FILE *f, const JsonValue *item, const char *identifier, unsigned depth) {
        bool any_dict = false, any_list = false, any_scalar = false;
        int r;

        if (json_size(item) == 0)
                return 0;
        for (size_t i = 0; i < json_size(item); i++) {
                JsonType t = json_type(json_array_get(item, i));
                any_dict = any_dict || t == JSON_OBJECT;
                any_list = any_list || t == JSON_ARRAY;
                any_scalar = any_scalar || !is_container_type(t);
        }

        if (any_dict) {
                _cleanup_free_ const char **keys = NULL;
                size_t n = 0, total = 0;

                /* _all_scalar_keys() calls .items() on every element: anything but dicts fails. */
                for (size_t i = 0; i < json_size(item); i++) {
                        const JsonValue *c = json_array_get(item, i);
                        if (json_type(c) != JSON_OBJECT)
                                return -EINVAL;
                        total += json_size(c);
                }
                keys = calloc(total + 1, sizeof *keys);
                if (!keys)
                        return -ENOMEM;
                for (size_t i = 0; i < json_size(item); i++) {
                        const JsonValue *c = json_array_get(item, i);
                        for (size_t j = 0; j < json_size(c); j++)
                                if (!is_container(json_object_value(c, j)))
                                        keys[n++] = json_object_key(c, j);
                }
                n = sort_unique(keys, n);
                for (size_t i = 0; i < json_size(item); i++) {
                        r = text_format(f, json_array_get(item, i), identifier, keys, n, true, depth + 1);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        if (any_list) {
                if (any_scalar)
                        text_format_scalar_list(f, item, identifier);
                for (size_t i = 0; i < json_size(item); i++) {
                        const JsonValue *c = json_array_get(item, i);
                        if (!is_container(c))
                                continue;
                        r = text_format(f, c, identifier, NULL, 0, false, depth + 1);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        return text_format_scalar_list(f, item, identifier);
}

static int text_format_dict(FILE *f, const JsonValue *item, const char *identifier, const char **scalar_keys,
                            size_t n_scalar_keys, bool have_scalar_keys, unsigned depth) {
        _cleanup_free_ const char **keys = NULL;
        size_t n = json_size(item), n_more = 0;
        bool any = false;
        int r;

        keys = calloc(n + 1, sizeof *keys);
        if (!keys)
                return -ENOMEM;

        if (!have_scalar_keys) {
                /* Scalars sorted by key on one line, then the others under their own keys. */
                for (size_t i = 0; i < n; i++)
                        keys[i] = json_object_key(item, i);
                qsort(keys, n, sizeof *keys, compare_strings);
                for (size_t i = 0; i < n; i++) {
                        const JsonValue *c = json_object_get(item, keys[i]);
                        if (is_container(c)) {
                                keys[n_more++] = keys[i];
                                continue;
                        }
                        if (!any && identifier) {
                                text_identifier(f, identifier);
                                fputc('\t', f);
                        } else if (any)
                                fputc('\t', f);
                        python_str(f, c, false);
                        any = true;
                }
        } else {
                /* The columns of the enclosing list, empty where this dict has no such key, in
                 * str() even when the value here is not a scalar; the remaining keys after. */
                for (size_t i = 0; i < n_scalar_keys; i++) {
                        const JsonValue *c = json_object_get(item, scalar_keys[i]);
                        if (i == 0 && identifier) {
                                text_identifier(f, identifier);
                                fputc('\t', f);
                        } else if (i > 0)
                                fputc('\t', f);
                        if (c)
                                python_str(f, c, false);
                        any = true;
                }
                for (size_t i = 0; i < n; i++) {
                        const char *k = json_object_key(item, i);
                        if (!bsearch(&k, scalar_keys, n_scalar_keys, sizeof *scalar_keys, compare_strings))
                                keys[n_more++] = k;
                }
                qsort(keys, n_more, sizeof *keys, compare_strings);
        }
        if (any)
                fputc('\n', f);

        for (size_t i = 0; i < n_more; i++) {
                r = text_format(f, json_object_get(item, keys[i]), keys[i], NULL, 0, false, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int text_format(FILE *f, const JsonValue *item, const char *identifier, const char **scalar_keys,
                       size_t n_scalar_keys, bool have_scalar_keys, unsigned depth) {
        if (depth > JSON_DEPTH_MAX)
                return -ELOOP;
        switch (json_type(item)) {
        case JSON_OBJECT:
                return text_format_dict(f, item, identifier, scalar_keys, n_scalar_keys, have_scalar_keys,
                                        depth);
        case JSON_ARRAY:
                return text_format_list(f, item, identifier, depth);
        default:
                python_str(f, item, false);
                fputc('\n', f);
                return 0;
        }
}

/* ---- table: TableFormatter of awscli/formatter.py, MultiTable and Section of awscli/table.py ---- */

static size_t text_length(const char *s) {
        size_t n = strlen(s), length = 0;

        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t lo = 0, hi = ELEMENTSOF(wide_ranges);
                bool wide = false;

                i += utf8_decode(s + i, n - i, &cp);
                while (lo < hi) {
                        size_t mid = (lo + hi) / 2;
                        if (cp < wide_ranges[mid].first)
                                hi = mid;
                        else if (cp > wide_ranges[mid].last)
                                lo = mid + 1;
                        else {
                                wide = true;
                                break;
                        }
                }
                length += wide ? 2 : 1;
        }
        return length;
}

typedef struct Row {
        char **cells;
        size_t n;
} Row;

typedef struct Section {
        char *title; /* NULL for Python's None, which counts as "None" in widths */
        Row headers;
        Row *rows;
        size_t n_rows;
        unsigned indent_level;
        ssize_t num_cols; /* -1 for None */
        size_t *max_widths;
        size_t n_max_widths;
} Section;

typedef struct Table {
        Section **sections;
        size_t n_sections;
        Section *current;
        unsigned depth;
} Table;

static void row_done(Row *r) {
        for (size_t i = 0; i < r->n; i++)
                free(r->cells[i]);
        free(r->cells);
        *r = (Row){};
}

static Section *section_free(Section *s) {
        if (!s)
                return NULL;
        free(s->title);
        row_done(&s->headers);
        for (size_t i = 0; i < s->n_rows; i++)
                row_done(&s->rows[i]);
        free(s->rows);
        free(s->max_widths);
        free(s);
        return NULL;
}

static void table_done(Table *t) {
        for (size_t i = 0; i < t->n_sections; i++)
                section_free(t->sections[i]);
        free(t->sections);
}

static int table_new_section(Table *t, const char *title, unsigned indent_level) {
        Section *s, **sections;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->num_cols = -1;
        s->indent_level = indent_level;
        if (title) {
                s->title = strdup(title);
                if (!s->title) {
                        free(s);
                        return -ENOMEM;
                }
        }
        sections = reallocarray(t->sections, t->n_sections + 1, sizeof *sections);
        if (!sections) {
                section_free(s);
                return -ENOMEM;
        }
        t->sections = sections;
        t->sections[t->n_sections++] = s;
        t->current = s;
        return 0;
}

/* Section._update_max_widths(): an empty list of widths is Python's falsy [], set anew. */
static int section_update_max_widths(Section *s, const Row *row) {
        if (s->n_max_widths == 0) {
                size_t *w = calloc(row->n + 1, sizeof *w);
                if (!w)
                        return -ENOMEM;
                for (size_t i = 0; i < row->n; i++)
                        w[i] = text_length(row->cells[i]);
                free(s->max_widths);
                s->max_widths = w;
                s->n_max_widths = row->n;
                return 0;
        }
        for (size_t i = 0; i < row->n; i++) {
                if (i >= s->n_max_widths)
                        return -EINVAL; /* IndexError */
                s->max_widths[i] = MAX(s->max_widths[i], text_length(row->cells[i]));
        }
        return 0;
}

/* Takes the row in every case. */
static int section_add_header(Section *s, Row *headers) {
        int r = section_update_max_widths(s, headers);

        if (r < 0) {
                row_done(headers);
                return r;
        }
        if (s->num_cols < 0)
                s->num_cols = headers->n;
        row_done(&s->headers);
        s->headers = *headers;
        *headers = (Row){};
        return 0;
}

static int section_add_row(Section *s, Row *row) {
        Row *rows;
        int r;

        if (s->num_cols < 0)
                s->num_cols = row->n;
        if ((size_t) s->num_cols != row->n) {
                row_done(row);
                return -EINVAL; /* "Row should have %s elements, instead it has %s" */
        }
        rows = reallocarray(s->rows, s->n_rows + 1, sizeof *rows);
        if (!rows) {
                row_done(row);
                return -ENOMEM;
        }
        s->rows = rows;
        s->rows[s->n_rows++] = *row;
        *row = (Row){};
        r = section_update_max_widths(s, &s->rows[s->n_rows - 1]);
        return r;
}

static int row_add(Row *row, char *cell) {
        char **cells;

        if (!cell)
                return -ENOMEM;
        cells = reallocarray(row->cells, row->n + 1, sizeof *cells);
        if (!cells) {
                free(cell);
                return -ENOMEM;
        }
        row->cells = cells;
        row->cells[row->n++] = cell;
        return 0;
}

static int table_add_row(Table *t, Row *row) {
        if (!t->current) {
                row_done(row);
                return -EINVAL;
        }
        return section_add_row(t->current, row);
}

/* _group_scalar_keys(): the keys of a dict whose values are scalars, and the others, each sorted. */
static int group_scalar_keys(const JsonValue *o, const char ***ret_headers, size_t *ret_n_headers,
                             const char ***ret_more, size_t *ret_n_more) {
        _cleanup_free_ const char **headers = NULL, **more = NULL;
        size_t n = json_size(o), nh = 0, nm = 0;

        headers = calloc(n + 1, sizeof *headers);
        more = calloc(n + 1, sizeof *more);
        if (!headers || !more)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (is_container(json_object_value(o, i)))
                        more[nm++] = json_object_key(o, i);
                else
                        headers[nh++] = json_object_key(o, i);
        }
        qsort(headers, nh, sizeof *headers, compare_strings);
        qsort(more, nm, sizeof *more, compare_strings);
        *ret_headers = TAKE_PTR(headers);
        *ret_n_headers = nh;
        *ret_more = TAKE_PTR(more);
        *ret_n_more = nm;
        return 0;
}

static int row_from_keys(Row *row, const char **keys, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = row_add(row, strdup(keys[i]));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int table_build(Table *t, const char *title, bool has_title, const JsonValue *current,
                       unsigned indent_level, bool *ret_built);

static int table_build_from_dict(Table *t, const JsonValue *current, unsigned indent_level) {
        _cleanup_free_ const char **headers = NULL, **more = NULL;
        size_t nh, nm;
        Row row = {};
        int r;

        r = group_scalar_keys(current, &headers, &nh, &more, &nm);
        if (r < 0)
                return r;
        if (nh == 1) {
                /* A single scalar: one row of key and value, without header. */
                r = row_add(&row, strdup(headers[0]));
                if (r >= 0)
                        r = row_add(&row, python_str_dup(json_object_get(current, headers[0])));
                if (r < 0) {
                        row_done(&row);
                        return r;
                }
                r = table_add_row(t, &row);
                if (r < 0)
                        return r;
        } else if (nh > 0) {
                r = row_from_keys(&row, headers, nh);
                if (r < 0) {
                        row_done(&row);
                        return r;
                }
                if (!t->current) {
                        row_done(&row);
                        return -EINVAL;
                }
                r = section_add_header(t->current, &row);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < nh; i++) {
                        r = row_add(&row, python_str_dup(json_object_get(current, headers[i])));
                        if (r < 0) {
                                row_done(&row);
                                return r;
                        }
                }
                r = table_add_row(t, &row);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < nm; i++) {
                bool built;
                r = table_build(t, more[i], true, json_object_get(current, more[i]), indent_level + 1,
                                &built);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int table_build_from_list(Table *t, const JsonValue *current, unsigned indent_level,
                                 const char *title, bool has_title) {
        _cleanup_free_ const char **headers = NULL, **more = NULL;
        size_t nh = 0, nm = 0, total = 0;
        Row row = {};
        int r;

        /* _group_scalar_keys_from_list(): the union over all the dicts. */
        for (size_t i = 0; i < json_size(current); i++) {
                if (json_type(json_array_get(current, i)) != JSON_OBJECT)
                        return -EINVAL;
                total += json_size(json_array_get(current, i));
        }
        headers = calloc(total + 1, sizeof *headers);
        more = calloc(total + 1, sizeof *more);
        if (!headers || !more)
                return -ENOMEM;
        for (size_t i = 0; i < json_size(current); i++) {
                const JsonValue *c = json_array_get(current, i);
                for (size_t j = 0; j < json_size(c); j++) {
                        if (is_container(json_object_value(c, j)))
                                more[nm++] = json_object_key(c, j);
                        else
                                headers[nh++] = json_object_key(c, j);
                }
        }
        nh = sort_unique(headers, nh);
        nm = sort_unique(more, nm);

        r = row_from_keys(&row, headers, nh);
        if (r < 0) {
                row_done(&row);
                return r;
        }
        if (!t->current) {
                row_done(&row);
                return -EINVAL;
        }
        r = section_add_header(t->current, &row);
        if (r < 0)
                return r;

        for (size_t i = 0; i < json_size(current); i++) {
                const JsonValue *element = json_array_get(current, i);

                if (i > 0 && nm > 0) {
                        r = table_new_section(t, has_title ? title : NULL, indent_level);
                        if (r < 0)
                                return r;
                        r = row_from_keys(&row, headers, nh);
                        if (r < 0) {
                                row_done(&row);
                                return r;
                        }
                        r = section_add_header(t->current, &row);
                        if (r < 0)
                                return r;
                }
                for (size_t j = 0; j < nh; j++) {
                        const JsonValue *c = json_object_get(element, headers[j]);
                        r = row_add(&row, c ? python_str_dup(c) : strdup(""));
                        if (r < 0) {
                                row_done(&row);
                                return r;
                        }
                }
                r = table_add_row(t, &row);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < nm; j++) {
                        const JsonValue *c = json_object_get(element, more[j]);
                        bool built;

                        if (!c)
                                continue;
                        r = table_build(t, more[j], true, c, indent_level + 1, &built);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int table_build(Table *t, const char *title, bool has_title, const JsonValue *current,
                       unsigned indent_level, bool *ret_built) {
        int r = 0;

        *ret_built = false;
        if (!python_truthy(current))
                return 0;
        if (++t->depth > JSON_DEPTH_MAX)
                return -ELOOP;
        if (has_title) {
                r = table_new_section(t, title, indent_level);
                if (r < 0)
                        return r;
        }

        if (json_type(current) == JSON_ARRAY) {
                if (json_type(json_array_get(current, 0)) == JSON_OBJECT)
                        r = table_build_from_list(t, current, indent_level, title, has_title);
                else
                        for (size_t i = 0; r >= 0 && i < json_size(current); i++) {
                                const JsonValue *item = json_array_get(current, i);
                                Row row = {};
                                bool all_scalar = true, built;

                                if (!is_container(item)) {
                                        r = row_add(&row, python_str_dup(item));
                                        if (r >= 0)
                                                r = table_add_row(t, &row);
                                        else
                                                row_done(&row);
                                        continue;
                                }
                                /* Iterating a dict gives its keys, which are scalars: a dict here
                                 * becomes a row of its keys, as in aws. */
                                if (json_type(item) == JSON_ARRAY)
                                        for (size_t j = 0; j < json_size(item); j++)
                                                all_scalar =
                                                        all_scalar && !is_container(json_array_get(item, j));
                                if (!all_scalar) {
                                        r = table_build(t, NULL, false, item, 0, &built);
                                        continue;
                                }
                                for (size_t j = 0; r >= 0 && j < json_size(item); j++)
                                        r = row_add(&row, json_type(item) == JSON_ARRAY
                                                                  ? python_str_dup(json_array_get(item, j))
                                                                  : strdup(json_object_key(item, j)));
                                if (r >= 0)
                                        r = table_add_row(t, &row);
                                else
                                        row_done(&row);
                        }
        } else if (json_type(current) == JSON_OBJECT)
                r = table_build_from_dict(t, current, indent_level);

        t->depth--;
        if (r < 0)
                return r;
        *ret_built = true;
        return 0;
}

/* Section.calculate_column_widths(): the widths plus padding, scaled to max_width (when > 0) with
 * Python's round(), then adjusted one column at a time to sum to it exactly. */
static size_t *section_column_widths(const Section *s, size_t padding, ssize_t max_width) {
        size_t *w = calloc(s->n_max_widths + 1, sizeof *w);
        size_t sum = 0;
        ssize_t off_by = 0;

        if (!w)
                return NULL;
        for (size_t i = 0; i < s->n_max_widths; i++) {
                w[i] = s->max_widths[i] + padding;
                sum += w[i];
        }
        if (max_width < 0 || s->n_max_widths == 0)
                return w;

        double scale = (double) max_width / (double) sum;
        for (size_t i = 0; i < s->n_max_widths; i++) {
                w[i] = (size_t) nearbyint(scale * (double) w[i]);
                off_by += w[i];
        }
        off_by -= max_width;
        while (off_by != 0)
                for (size_t k = 0; k < s->n_max_widths && off_by != 0; k++) {
                        size_t i = off_by < 0 ? s->n_max_widths - 1 - k : k;
                        if (off_by > 0) {
                                w[i]--;
                                off_by--;
                        } else {
                                w[i]++;
                                off_by++;
                        }
                }
        return w;
}

static int section_total_width(const Section *s, size_t padding, bool with_border, size_t outer,
                               size_t *ret) {
        _cleanup_free_ size_t *w = section_column_widths(s, 0, -1);
        size_t total = 0, title;

        if (!w)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_max_widths; i++)
                total += w[i] + padding;
        if (with_border)
                total += 2;
        total += 2 * outer;
        title = (s->title ? text_length(s->title) : 4) + 2 + 2 * outer;
        *ret = MAX(title, total);
        return 0;
}

typedef struct Renderer {
        FILE *f;
        bool color;
        unsigned indent; /* of the section being written */
} Renderer;

#define COLOR_ROW    "\x1b[1m\x1b[34m"
#define COLOR_INDENT "\x1b[2m\x1b[33m"
#define COLOR_RESET  "\x1b[0m"

static void spaces(FILE *f, ssize_t n) {
        for (ssize_t i = 0; i < n; i++)
                fputc(' ', f);
}

/* IndentedStream.write() of one line: the section's indentation on both sides. */
static void render_line(Renderer *r, const char *line, size_t n) {
        for (unsigned k = 0; k < 2; k++) {
                if (k == 1)
                        fwrite(line, 1, n, r->f);
                for (unsigned i = 0; i < r->indent; i++)
                        fputs(r->color ? COLOR_INDENT "|" COLOR_RESET : "|", r->f);
        }
        fputc('\n', r->f);
}

/* center_text() and align_left() of awscli/table.py, appended to a line being built. */
static void center_text(FILE *f, const char *text, ssize_t length, const char *left, const char *right) {
        ssize_t tl = text_length(text);
        ssize_t start = length / 2 - tl / 2 - 1;
        ssize_t so_far = (ssize_t) strlen(left) + start + tl;

        fputs(left, f);
        spaces(f, start);
        fputs(text, f);
        spaces(f, length - (ssize_t) strlen(right) - so_far);
        fputs(right, f);
}

static void align_left(FILE *f, const char *text, bool color, ssize_t length, const char *left,
                       const char *right) {
        ssize_t tl = text_length(text);
        ssize_t computed = tl + 2 + (ssize_t) strlen(left) + (ssize_t) strlen(right);
        ssize_t padding = length - computed >= 0 ? 2 : 0;
        ssize_t so_far = (ssize_t) strlen(left) + padding + tl;

        fputs(left, f);
        spaces(f, padding);
        if (color)
                fprintf(f, COLOR_ROW "%s" COLOR_RESET, text);
        else
                fputs(text, f);
        spaces(f, length - so_far - (ssize_t) strlen(right));
        fputs(right, f);
}

/* Builds one line in memory, then writes it with the indentation. */
typedef struct Line {
        char *buf;
        size_t size;
        FILE *f;
} Line;

static FILE *line_begin(Line *l) {
        *l = (Line){};
        l->f = open_memstream(&l->buf, &l->size);
        return l->f;
}

static int line_end(Renderer *r, Line *l) {
        int ret = 0;

        if (fclose(l->f) != 0)
                ret = -ENOMEM;
        else
                render_line(r, l->buf, l->size);
        free(l->buf);
        return ret;
}

static int write_line_break(Renderer *r, const size_t *widths, size_t n) {
        Line l;
        FILE *f = line_begin(&l);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (i == 0) {
                        fputc('+', f);
                        for (size_t j = 2; j < widths[i]; j++)
                                fputc('-', f);
                } else
                        for (size_t j = 1; j < widths[i]; j++)
                                fputc('-', f);
                fputc('+', f);
        }
        return line_end(r, &l);
}

static int render_section(Renderer *rd, const Section *s, ssize_t max_width) {
        _cleanup_free_ size_t *widths = NULL;
        Line l;
        FILE *f;
        int r;

        rd->indent = s->indent_level;
        max_width -= s->indent_level * 2;

        if (s->title && s->title[0]) {
                f = line_begin(&l);
                if (!f)
                        return -ENOMEM;
                center_text(f, s->title, max_width, "|", "|");
                r = line_end(rd, &l);
                if (r < 0)
                        return r;
                if (s->headers.n == 0 && s->n_rows == 0) {
                        f = line_begin(&l);
                        if (!f)
                                return -ENOMEM;
                        fputc('+', f);
                        for (ssize_t i = 2; i < max_width; i++)
                                fputc('-', f);
                        fputc('+', f);
                        r = line_end(rd, &l);
                        if (r < 0)
                                return r;
                }
        }

        widths = section_column_widths(s, 4, max_width);
        if (!widths)
                return -ENOMEM;

        if (s->headers.n > 0) {
                size_t n = MIN(s->headers.n, s->n_max_widths);

                r = write_line_break(rd, widths, s->n_max_widths);
                if (r < 0)
                        return r;
                f = line_begin(&l);
                if (!f)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        center_text(f, s->headers.cells[i], widths[i], i == 0 ? "|" : "", "|");
                r = line_end(rd, &l);
                if (r < 0)
                        return r;
        }

        if (s->n_rows == 0 || s->n_max_widths == 0)
                return 0;
        r = write_line_break(rd, widths, s->n_max_widths);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_rows; i++) {
                size_t n = MIN(s->rows[i].n, s->n_max_widths);

                f = line_begin(&l);
                if (!f)
                        return -ENOMEM;
                for (size_t j = 0; j < n; j++)
                        align_left(f, s->rows[i].cells[j], rd->color, widths[j], j == 0 ? "|" : "", "|");
                r = line_end(rd, &l);
                if (r < 0)
                        return r;
        }
        return write_line_break(rd, widths, s->n_max_widths);
}

/* convert_to_vertical_table(): a section of one row under headers becomes rows of header and value. */
static int convert_to_vertical(Table *t) {
        for (size_t i = 0; i < t->n_sections; i++) {
                Section *s = t->sections[i], *n;
                int r;

                if (s->n_rows != 1 || s->headers.n == 0)
                        continue;
                n = calloc(1, sizeof *n);
                if (!n)
                        return -ENOMEM;
                n->num_cols = -1;
                n->indent_level = s->indent_level;
                n->title = TAKE_PTR(s->title);
                for (size_t j = 0; j < MIN(s->headers.n, s->rows[0].n); j++) {
                        Row row = {};
                        r = row_add(&row, strdup(s->headers.cells[j]));
                        if (r >= 0)
                                r = row_add(&row, strdup(s->rows[0].cells[j]));
                        if (r >= 0)
                                r = section_add_row(n, &row);
                        else
                                row_done(&row);
                        if (r < 0) {
                                section_free(n);
                                return r;
                        }
                }
                /* A None title stays None. */
                section_free(s);
                t->sections[i] = n;
        }
        return 0;
}

static int table_max_width(const Table *t, size_t *ret) {
        size_t max = 0, w;
        int r;

        for (size_t i = 0; i < t->n_sections; i++) {
                r = section_total_width(t->sections[i], 4, true, t->sections[i]->indent_level, &w);
                if (r < 0)
                        return r;
                max = MAX(max, w);
        }
        *ret = max;
        return 0;
}

static unsigned terminal_width(FILE *f) {
        struct winsize ws = {};

        if (ioctl(fileno(f), TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return 80;
        return ws.ws_col;
}

static int output_table(FILE *f, FILE *terminal, const JsonValue *v, const OutputOptions *o) {
        _cleanup_(table_done) Table t = {};
        Renderer rd = { .f = f };
        size_t max_width;
        unsigned width;
        bool built;
        int r;

        r = table_build(&t, o->title ?: "", true, v, 0, &built);
        if (r < 0 || !built)
                return r;

        width = o->width > 0 ? o->width : terminal ? terminal_width(terminal) : 80;
        rd.color = o->color == OUTPUT_COLOR_ON ||
                   (o->color == OUTPUT_COLOR_AUTO && terminal && isatty(fileno(terminal)));

        r = table_max_width(&t, &max_width);
        if (r < 0)
                return r;
        if (max_width > width) {
                r = convert_to_vertical(&t);
                if (r < 0)
                        return r;
                r = table_max_width(&t, &max_width);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < max_width; i++)
                fputc('-', f);
        fputc('\n', f);
        for (size_t i = 0; i < t.n_sections; i++) {
                r = render_section(&rd, t.sections[i], max_width);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- YAML: awscli's YAMLDumper, ruamel.yaml's safe representer and YAML 1.2 resolver, and the
 * emitter of libyaml (ruamel.yaml.clib), as far as block-style documents need it ---- */

#define YAML_BEST_WIDTH     80
#define YAML_BEST_INDENT    2
#define YAML_SIMPLE_KEY_MAX 128

#define YAML_N_IMPLICIT 8

typedef struct Yaml {
        FILE *f;
        int column, indent;
        bool whitespace, indention;
        unsigned depth;
        regex_t implicit[YAML_N_IMPLICIT]; /* compiled once per document */
        bool compiled;
} Yaml;

/* The implicit resolvers of ruamel.yaml's VersionedResolver for YAML 1.2: a string that reads as one of
 * these when plain must be quoted. */
static const char *const yaml_implicit[YAML_N_IMPLICIT] = {
        "^(true|True|TRUE|false|False|FALSE)$",
        "^([-+]?[0-9][0-9_]*\\.[0-9_]*([eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
        "|[-+]?\\.[0-9_]+([eE][-+][0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
        "^([-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$",
        "^<<$",
        "^(~|null|Null|NULL|)$",
        "^([0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
        "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]"
        "(\\.[0-9]*)?([ \t]*(Z|[-+][0-9][0-9]?(:[0-9][0-9])?))?)$",
        "^=$",
        "^(!|&|\\*)$",
};

static void yaml_done(Yaml *y) {
        if (!y->compiled)
                return;
        for (size_t i = 0; i < YAML_N_IMPLICIT; i++)
                regfree(&y->implicit[i]);
        y->compiled = false;
}

static int yaml_resolves_to_other_type(Yaml *y, const char *s, size_t n, bool *ret) {
        /* Python's re "$" also matches before a final newline. */
        _cleanup_free_ char *copy = NULL;

        if (!y->compiled) {
                for (size_t i = 0; i < YAML_N_IMPLICIT; i++)
                        if (regcomp(&y->implicit[i], yaml_implicit[i], REG_EXTENDED | REG_NOSUB) != 0) {
                                while (i > 0)
                                        regfree(&y->implicit[--i]);
                                return -ENOMEM;
                        }
                y->compiled = true;
        }
        if (strlen(s) != n) {
                *ret = false; /* a NUL: not any of these */
                return 0;
        }
        if (n > 0 && s[n - 1] == '\n') {
                copy = strndup(s, n - 1);
                if (!copy)
                        return -ENOMEM;
                s = copy;
        }
        for (size_t i = 0; i < YAML_N_IMPLICIT; i++)
                if (regexec(&y->implicit[i], s, 0, NULL, 0) == 0) {
                        *ret = true;
                        return 0;
                }
        *ret = false;
        return 0;
}

static bool yaml_is_break(uint32_t c) {
        return c == '\r' || c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

static bool yaml_is_blankz(uint32_t c) {
        return c == ' ' || c == '\t' || yaml_is_break(c) || c == 0;
}

static bool yaml_is_printable(uint32_t c) {
        return c == 0x0a || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) ||
               (c >= 0xe000 && c <= 0xfffd && c != 0xfeff);
}

typedef struct ScalarAnalysis {
        bool multiline, flow_plain_allowed, block_plain_allowed, single_quoted_allowed;
} ScalarAnalysis;

/* yaml_emitter_analyze_scalar(). */
static ScalarAnalysis yaml_analyze(const char *s, size_t n) {
        bool block_indicators = false, flow_indicators = false, line_breaks = false, special = false;
        bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
        bool break_space = false, space_break = false, previous_space = false, previous_break = false;
        bool preceded_by_whitespace = true, followed_by_whitespace;
        ScalarAnalysis a = {};
        uint32_t c, next;
        size_t w;

        if (n == 0)
                return (ScalarAnalysis){ .block_plain_allowed = true, .single_quoted_allowed = true };

        if (n >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0))
                block_indicators = flow_indicators = true;

        w = utf8_decode(s, n, &c);
        if (w < n)
                utf8_decode(s + w, n - w, &next);
        else
                next = 0;
        followed_by_whitespace = yaml_is_blankz(next);

        for (size_t i = 0; i < n;) {
                w = utf8_decode(s + i, n - i, &c);
                bool first = i == 0, last = i + w == n;

                if (first) {
                        if (strchr("#,[]{}&*!|>'\"%@`", (int) c) && c != 0)
                                flow_indicators = block_indicators = true;
                        if (c == '?' || c == ':') {
                                flow_indicators = true;
                                if (followed_by_whitespace)
                                        block_indicators = true;
                        }
                        if (c == '-' && followed_by_whitespace)
                                flow_indicators = block_indicators = true;
                } else {
                        if (strchr(",?[]{}", (int) c) && c != 0)
                                flow_indicators = true;
                        if (c == ':') {
                                flow_indicators = true;
                                if (followed_by_whitespace)
                                        block_indicators = true;
                        }
                        if (c == '#' && preceded_by_whitespace)
                                flow_indicators = block_indicators = true;
                }

                if (!yaml_is_printable(c))
                        special = true;
                if (yaml_is_break(c))
                        line_breaks = true;

                if (c == ' ') {
                        if (first)
                                leading_space = true;
                        if (last)
                                trailing_space = true;
                        if (previous_break)
                                break_space = true;
                        previous_space = true;
                        previous_break = false;
                } else if (yaml_is_break(c)) {
                        if (first)
                                leading_break = true;
                        if (last)
                                trailing_break = true;
                        if (previous_space)
                                space_break = true;
                        previous_space = false;
                        previous_break = true;
                } else
                        previous_space = previous_break = false;

                preceded_by_whitespace = yaml_is_blankz(c);
                i += w;
                if (i < n) {
                        size_t w2 = utf8_decode(s + i, n - i, &c);
                        if (i + w2 < n)
                                utf8_decode(s + i + w2, n - i - w2, &next);
                        else
                                next = 0;
                        followed_by_whitespace = yaml_is_blankz(next);
                }
        }

        a.multiline = line_breaks;
        a.flow_plain_allowed = a.block_plain_allowed = a.single_quoted_allowed = true;
        if (leading_space || leading_break || trailing_space || trailing_break)
                a.flow_plain_allowed = a.block_plain_allowed = false;
        if (break_space)
                a.flow_plain_allowed = a.block_plain_allowed = a.single_quoted_allowed = false;
        if (space_break || special)
                a.flow_plain_allowed = a.block_plain_allowed = a.single_quoted_allowed = false;
        if (line_breaks)
                a.flow_plain_allowed = a.block_plain_allowed = false;
        if (flow_indicators)
                a.flow_plain_allowed = false;
        if (block_indicators)
                a.block_plain_allowed = false;
        return a;
}

static void yaml_put(Yaml *y, char c) {
        fputc(c, y->f);
        y->column++;
}

static void yaml_put_break(Yaml *y) {
        fputc('\n', y->f);
        y->column = 0;
}

/* Copies one character (w bytes) and counts one column. */
static void yaml_write(Yaml *y, const char *s, size_t w) {
        fwrite(s, 1, w, y->f);
        y->column++;
}

static void yaml_write_break(Yaml *y, const char *s, size_t w) {
        if (s[0] == '\n')
                yaml_put_break(y);
        else {
                fwrite(s, 1, w, y->f);
                y->column = 0;
        }
}

static void yaml_write_indent(Yaml *y) {
        int indent = MAX(y->indent, 0);

        if (!y->indention || y->column > indent || (y->column == indent && !y->whitespace))
                yaml_put_break(y);
        while (y->column < indent)
                yaml_put(y, ' ');
        y->whitespace = true;
        y->indention = true;
}

static void yaml_write_indicator(Yaml *y, const char *indicator, bool need_whitespace, bool is_whitespace,
                                 bool is_indention) {
        if (need_whitespace && !y->whitespace)
                yaml_put(y, ' ');
        for (const char *p = indicator; *p; p++)
                yaml_put(y, *p);
        y->whitespace = is_whitespace;
        y->indention = y->indention && is_indention;
}

static void yaml_write_plain(Yaml *y, const char *s, size_t n, bool allow_breaks) {
        bool spaces = false, breaks = false;

        if (!y->whitespace && n > 0)
                yaml_put(y, ' ');
        for (size_t i = 0; i < n;) {
                uint32_t c;
                size_t w = utf8_decode(s + i, n - i, &c);

                if (c == ' ') {
                        if (allow_breaks && !spaces && y->column > YAML_BEST_WIDTH &&
                            !(i + 1 < n && s[i + 1] == ' '))
                                yaml_write_indent(y);
                        else
                                yaml_write(y, s + i, w);
                        spaces = true;
                } else if (yaml_is_break(c)) {
                        if (!breaks && c == '\n')
                                yaml_put_break(y);
                        yaml_write_break(y, s + i, w);
                        y->indention = true;
                        breaks = true;
                } else {
                        if (breaks)
                                yaml_write_indent(y);
                        yaml_write(y, s + i, w);
                        y->indention = false;
                        spaces = breaks = false;
                }
                i += w;
        }
        y->whitespace = false;
        y->indention = false;
}

static void yaml_write_single_quoted(Yaml *y, const char *s, size_t n, bool allow_breaks) {
        bool spaces = false, breaks = false;

        yaml_write_indicator(y, "'", true, false, false);
        for (size_t i = 0; i < n;) {
                uint32_t c;
                size_t w = utf8_decode(s + i, n - i, &c);

                if (c == ' ') {
                        if (allow_breaks && !spaces && y->column > YAML_BEST_WIDTH && i != 0 && i != n - 1 &&
                            !(i + 1 < n && s[i + 1] == ' '))
                                yaml_write_indent(y);
                        else
                                yaml_write(y, s + i, w);
                        spaces = true;
                } else if (yaml_is_break(c)) {
                        if (!breaks && c == '\n')
                                yaml_put_break(y);
                        yaml_write_break(y, s + i, w);
                        y->indention = true;
                        breaks = true;
                } else {
                        if (breaks)
                                yaml_write_indent(y);
                        if (c == '\'')
                                yaml_put(y, '\'');
                        yaml_write(y, s + i, w);
                        y->indention = false;
                        spaces = breaks = false;
                }
                i += w;
        }
        if (breaks)
                yaml_write_indent(y);
        yaml_write_indicator(y, "'", false, false, false);
        y->whitespace = false;
        y->indention = false;
}

static void yaml_write_double_quoted(Yaml *y, const char *s, size_t n, bool allow_breaks) {
        bool spaces = false;

        yaml_write_indicator(y, "\"", true, false, false);
        for (size_t i = 0; i < n;) {
                uint32_t c;
                size_t w = utf8_decode(s + i, n - i, &c);

                if (!yaml_is_printable(c) || c == 0xfeff || yaml_is_break(c) || c == '"' || c == '\\') {
                        static const struct {
                                uint32_t c;
                                char e;
                        } escapes[] = {
                                { 0x00, '0' }, { 0x07, 'a' },   { 0x08, 'b' },   { 0x09, 't' },
                                { 0x0a, 'n' }, { 0x0b, 'v' },   { 0x0c, 'f' },   { 0x0d, 'r' },
                                { 0x1b, 'e' }, { 0x22, '"' },   { 0x5c, '\\' },  { 0x85, 'N' },
                                { 0xa0, '_' }, { 0x2028, 'L' }, { 0x2029, 'P' },
                        };
                        char e = 0;
                        int digits;

                        yaml_put(y, '\\');
                        for (size_t k = 0; k < ELEMENTSOF(escapes); k++)
                                if (escapes[k].c == c)
                                        e = escapes[k].e;
                        if (e)
                                yaml_put(y, e);
                        else {
                                yaml_put(y, c <= 0xff ? 'x' : c <= 0xffff ? 'u' : 'U');
                                digits = c <= 0xff ? 2 : c <= 0xffff ? 4 : 8;
                                for (int k = (digits - 1) * 4; k >= 0; k -= 4)
                                        yaml_put(y, "0123456789ABCDEF"[(c >> k) & 0xf]);
                        }
                        spaces = false;
                } else if (c == ' ') {
                        if (allow_breaks && !spaces && y->column > YAML_BEST_WIDTH && i != 0 && i != n - 1) {
                                yaml_write_indent(y);
                                if (i + 1 < n && s[i + 1] == ' ')
                                        yaml_put(y, '\\');
                        } else
                                yaml_write(y, s + i, w);
                        spaces = true;
                } else {
                        yaml_write(y, s + i, w);
                        spaces = false;
                }
                i += w;
        }
        yaml_write_indicator(y, "\"", false, false, false);
        y->whitespace = false;
        y->indention = false;
}

/* yaml_emitter_emit_scalar(): style chosen as select_scalar_style() does, written one indentation
 * level in (for folded lines). plain_value: the representer's own form (numbers, true, null), which
 * resolves to its own type, so is always plain. */
static int yaml_emit_scalar(Yaml *y, const char *s, size_t n, bool is_string, bool simple_key) {
        ScalarAnalysis a = yaml_analyze(s, n);
        enum { PLAIN, SINGLE, DOUBLE } style = PLAIN;
        bool other = false;
        int saved = y->indent, r;

        if (is_string) {
                r = yaml_resolves_to_other_type(y, s, n, &other);
                if (r < 0)
                        return r;
        }
        if (simple_key && a.multiline)
                style = DOUBLE;
        if (style == PLAIN) {
                if (!a.block_plain_allowed)
                        style = SINGLE;
                if (n == 0 && simple_key)
                        style = SINGLE;
                if (other)
                        style = SINGLE;
        }
        if (style == SINGLE && !a.single_quoted_allowed)
                style = DOUBLE;

        y->indent = y->indent < 0 ? YAML_BEST_INDENT : y->indent + YAML_BEST_INDENT;
        if (style == PLAIN)
                yaml_write_plain(y, s, n, !simple_key);
        else if (style == SINGLE)
                yaml_write_single_quoted(y, s, n, !simple_key);
        else
                yaml_write_double_quoted(y, s, n, !simple_key);
        y->indent = saved;
        return 0;
}

static int yaml_emit_node(Yaml *y, const JsonValue *v, bool mapping_context, bool simple_key);

static int compare_keys(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int yaml_emit_mapping(Yaml *y, const JsonValue *v) {
        _cleanup_free_ const char **keys = NULL;
        size_t n = json_size(v);
        int saved = y->indent, r;

        if (n == 0) {
                yaml_write_indicator(y, "{", true, true, false);
                yaml_write_indicator(y, "}", false, false, false);
                return 0;
        }

        /* The safe representer sorts the keys. */
        keys = calloc(n + 1, sizeof *keys);
        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                keys[i] = json_object_key(v, i);
        qsort(keys, n, sizeof *keys, compare_keys);

        y->indent = y->indent < 0 ? 0 : y->indent + YAML_BEST_INDENT;
        for (size_t i = 0; i < n; i++) {
                size_t length = strlen(keys[i]);
                bool simple = length <= YAML_SIMPLE_KEY_MAX && !yaml_analyze(keys[i], length).multiline;

                yaml_write_indent(y);
                if (simple) {
                        r = yaml_emit_scalar(y, keys[i], length, true, true);
                        if (r < 0)
                                return r;
                        yaml_write_indicator(y, ":", false, false, false);
                } else {
                        yaml_write_indicator(y, "?", true, false, true);
                        r = yaml_emit_scalar(y, keys[i], length, true, false);
                        if (r < 0)
                                return r;
                        yaml_write_indent(y);
                        yaml_write_indicator(y, ":", true, false, true);
                }
                r = yaml_emit_node(y, json_object_get(v, keys[i]), true, false);
                if (r < 0)
                        return r;
        }
        y->indent = saved;
        return 0;
}

static int yaml_emit_sequence(Yaml *y, const JsonValue *v, bool mapping_context) {
        int saved = y->indent, r;

        if (json_size(v) == 0) {
                yaml_write_indicator(y, "[", true, true, false);
                yaml_write_indicator(y, "]", false, false, false);
                return 0;
        }

        /* A sequence that is a mapping's value sits at the mapping's own indentation. */
        if (y->indent < 0)
                y->indent = 0;
        else if (!(mapping_context && !y->indention))
                y->indent += YAML_BEST_INDENT;
        for (size_t i = 0; i < json_size(v); i++) {
                yaml_write_indent(y);
                yaml_write_indicator(y, "-", true, false, true);
                r = yaml_emit_node(y, json_array_get(v, i), false, false);
                if (r < 0)
                        return r;
        }
        y->indent = saved;
        return 0;
}

static int yaml_emit_node(Yaml *y, const JsonValue *v, bool mapping_context, bool simple_key) {
        _cleanup_free_ char *s = NULL;
        double d;
        int r;

        if (++y->depth > JSON_DEPTH_MAX)
                return -ELOOP;

        switch (json_type(v)) {
        case JSON_OBJECT:
                r = yaml_emit_mapping(y, v);
                break;
        case JSON_ARRAY:
                r = yaml_emit_sequence(y, v, mapping_context);
                break;
        case JSON_STRING:
                r = yaml_emit_scalar(y, json_string_value(v), json_string_length(v), true, simple_key);
                break;
        case JSON_NUMBER:
                /* represent_float(): .nan, .inf, -.inf, else repr() in lower case. */
                d = json_number_value(v);
                if (isnan(d))
                        r = yaml_emit_scalar(y, ".nan", 4, false, simple_key);
                else if (isinf(d))
                        r = yaml_emit_scalar(y, d < 0 ? "-.inf" : ".inf", d < 0 ? 5 : 4, false, simple_key);
                else {
                        r = json_format(v, 0, 0, &s);
                        if (r < 0)
                                break;
                        r = yaml_emit_scalar(y, s, strlen(s), false, simple_key);
                }
                break;
        case JSON_BOOLEAN:
                r = yaml_emit_scalar(y, json_boolean_value(v) ? "true" : "false",
                                     json_boolean_value(v) ? 4 : 5, false, simple_key);
                break;
        default:
                r = yaml_emit_scalar(y, "null", 4, false, simple_key);
                break;
        }
        y->depth--;
        return r;
}

static int output_yaml(FILE *f, const JsonValue *v) {
        _cleanup_(yaml_done) Yaml y = { .f = f, .indent = -1, .whitespace = true, .indention = true };
        int r;

        /* YAMLDumper: scalars as JSON, so that YAML does not end them with "...". */
        if (!is_container(v))
                return json_write(f, v, 0, JSON_FORMAT_NEWLINE);
        r = yaml_emit_node(&y, v, false, false);
        if (r < 0)
                return r;
        /* The end of the document: a final line break. */
        yaml_put_break(&y);
        return 0;
}

/* ---- all together ---- */

static int output_write(FILE *f, FILE *terminal, const JsonValue *v, const OutputOptions *o) {
        bool empty_object = json_type(v) == JSON_OBJECT && json_size(v) == 0;

        switch (o->format) {
        case OUTPUT_FORMAT_JSON:
                /* JSONFormatter: an empty response (an operation without output) prints nothing. */
                if (empty_object)
                        return 0;
                return json_write(f, v, 4, JSON_FORMAT_NEWLINE);
        case OUTPUT_FORMAT_TEXT:
                return text_format(f, v, NULL, NULL, 0, false, 0);
        case OUTPUT_FORMAT_TABLE:
                return output_table(f, terminal, v, o);
        case OUTPUT_FORMAT_YAML:
                if (empty_object)
                        return 0;
                return output_yaml(f, v);
        case OUTPUT_FORMAT_YAML_STREAM: {
                /* StreamedYAMLFormatter: the response as a list of one. */
                _cleanup_(json_value_freep) JsonValue *list = NULL;

                if (empty_object)
                        return 0;
                list = json_array();
                if (!list || json_array_append(list, json_ref((JsonValue *) v)) < 0)
                        return -ENOMEM;
                return output_yaml(f, list);
        }
        default:
                return -EINVAL;
        }
}

static int output_to_string(FILE *terminal, const JsonValue *v, const OutputOptions *o, char **ret,
                            size_t *ret_size) {
        _cleanup_(json_value_freep) JsonValue *null = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (!o)
                return -EINVAL;
        if (!v) {
                null = json_null();
                if (!null)
                        return -ENOMEM;
                v = null;
        }
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        r = output_write(f, terminal, v, o);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int output_format(const JsonValue *v, const OutputOptions *options, char **ret) {
        size_t size;

        return output_to_string(NULL, v, options, ret, &size);
}

int output_print(FILE *f, const JsonValue *v, const OutputOptions *options) {
        _cleanup_free_ char *s = NULL;
        size_t size;
        int r;

        r = output_to_string(f, v, options, &s, &size);
        if (r < 0)
                return r;
        if (fwrite(s, 1, size, f) != size || fflush(f) != 0)
                return -EIO;
        return 0;
}
