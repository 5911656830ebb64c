/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli/jmespath.c against the official JMESPath compliance suite (every case of every file in
 * tests/jmespath/), and unit tests of what the suite leaves out: the JSON parser's errors and limits, the
 * printing of numbers, the limits on hostile expressions. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jmespath.h"
#include "json.h"
#include "macro.h"

/* ---- the compliance suite ---- */

static int read_whole_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r = 0;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (fseek(f, 0, SEEK_END) < 0 || (long) (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
                r = -errno;
        else if (!(buf = malloc(size + 1)))
                r = -ENOMEM;
        else if (fread(buf, 1, size, f) != size)
                r = -EIO;
        fclose(f);
        if (r < 0)
                return r;
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

typedef struct Counts {
        unsigned passed, failed;
} Counts;

static void run_case(const char *file, const JsonValue *given, const JsonValue *c, bool benchmark,
                     Counts *counts) {
        _cleanup_(json_value_freep) JsonValue *result = NULL;
        _cleanup_free_ char *got = NULL, *want = NULL;
        const char *expression = json_string_value(json_object_get(c, "expression"));
        const JsonValue *expected = json_object_get(c, "result");
        const char *error = json_string_value(json_object_get(c, "error"));
        const char *bench = json_string_value(json_object_get(c, "bench"));
        JmespathError e = {};
        bool ok;
        int r;

        cr_assert(expression, "%s: a case without expression", file);

        if (bench && streq(bench, "parse")) {
                Jmespath *j = NULL;

                r = jmespath_compile(expression, &j, &e);
                jmespath_free(j);
                ok = r >= 0;
        } else {
                r = jmespath_search(expression, given, &result, &e);
                if (error)
                        ok = r < 0 && streq(jmespath_error_kind_to_string(e.kind), error);
                else if (expected)
                        ok = r >= 0 && json_equal(result, expected);
                else
                        ok = r >= 0; /* a benchmark: no result to compare */
        }

        if (ok) {
                counts->passed++;
                return;
        }
        counts->failed++;
        if (result)
                (void) json_format(result, 0, 0, &got);
        if (expected)
                (void) json_format(expected, 0, 0, &want);
        fprintf(stderr, "%s%s: FAIL %s\n    expected: %s\n    got: %s%s%s%s\n", file,
                benchmark ? " (benchmark)" : "", expression, error ?: want ?: "no error",
                r < 0 ? jmespath_error_kind_to_string(e.kind) : got ?: "?", r < 0 ? " (" : "",
                r < 0 ? e.message : "", r < 0 ? ")" : "");
}

static int compare_names(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int json_file_filter(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return n > 5 && streq(d->d_name + n - 5, ".json");
}

Test(jmespath, compliance, .timeout = 120) {
        const char *src = harness_source_dir();
        _cleanup_free_ char *dir = NULL;
        struct dirent **names = NULL;
        Counts total = {}, benchmarks = {};
        int n;

        cr_assert(src, "cannot find the source directory (set HMACD_SOURCE_DIR)");
        cr_assert(asprintf(&dir, "%s/tests/jmespath", src) >= 0);
        n = scandir(dir, &names, json_file_filter, compare_names);
        cr_assert(n > 0, "no compliance files in %s", dir);

        for (int i = 0; i < n; i++) {
                _cleanup_(json_value_freep) JsonValue *suites = NULL;
                _cleanup_free_ char *path = NULL, *text = NULL;
                bool benchmark = streq(names[i]->d_name, "benchmarks.json");
                JsonParseError pe = {};
                Counts counts = {};
                size_t size = 0;
                int r;

                cr_assert(asprintf(&path, "%s/%s", dir, names[i]->d_name) >= 0);
                r = read_whole_file(path, &text, &size);
                cr_assert(r >= 0, "%s: %s", path, strerror(-r));
                r = json_parse(text, size, 0, &suites, &pe);
                cr_assert(r >= 0, "%s:%u:%u: %s", path, pe.line, pe.column, pe.message);
                cr_assert(json_type(suites) == JSON_ARRAY);

                for (size_t s = 0; s < json_size(suites); s++) {
                        const JsonValue *suite = json_array_get(suites, s);
                        const JsonValue *given = json_object_get(suite, "given");
                        const JsonValue *cases = json_object_get(suite, "cases");

                        for (size_t c = 0; c < json_size(cases); c++)
                                run_case(names[i]->d_name, given, json_array_get(cases, c), benchmark,
                                         &counts);
                }
                fprintf(stderr, "jmespath compliance: %-18s %4u passed, %u failed\n", names[i]->d_name,
                        counts.passed, counts.failed);
                if (benchmark)
                        benchmarks = counts;
                else {
                        total.passed += counts.passed;
                        total.failed += counts.failed;
                }
                free(names[i]);
        }
        free(names);

        fprintf(stderr,
                "jmespath compliance: %u of %u cases passed outside benchmarks.json; "
                "benchmarks: %u of %u evaluated\n",
                total.passed, total.passed + total.failed, benchmarks.passed,
                benchmarks.passed + benchmarks.failed);
        cr_expect(total.failed == 0, "%u compliance cases failed", total.failed);
        cr_expect(benchmarks.failed == 0, "%u benchmark cases failed", benchmarks.failed);
}

/* ---- unit tests ---- */

static JsonValue *parse(const char *text) {
        JsonValue *v = NULL;
        JsonParseError e = {};
        int r = json_parse(text, strlen(text), 0, &v, &e);

        cr_assert(r >= 0, "%s: %s at %u:%u", text, e.message, e.line, e.column);
        return v;
}

static char *search(const char *expression, const char *data) {
        _cleanup_(json_value_freep) JsonValue *d = parse(data), *result = NULL;
        JmespathError e = {};
        char *s = NULL;
        int r;

        r = jmespath_search(expression, d, &result, &e);
        cr_assert(r >= 0, "%s: %s: %s", expression, jmespath_error_kind_to_string(e.kind), e.message);
        cr_assert(json_format(result, 0, 0, &s) >= 0);
        return s;
}

Test(json, parse_errors) {
        static const struct {
                const char *text;
                int error;
                unsigned line, column;
        } cases[] = {
                { "", -EINVAL, 1, 1 },
                { "[1,]", -EINVAL, 1, 4 },
                { "{\"a\":1,}", -EINVAL, 1, 8 },
                { "{\"a\" 1}", -EINVAL, 1, 6 },
                { "[1]\n x", -EINVAL, 2, 2 },
                { "01", -EINVAL, 1, 2 },
                { "1.", -EINVAL, 1, 2 },
                { ".5", -EINVAL, 1, 1 },
                { "+1", -EINVAL, 1, 1 },
                { "1.", -EINVAL, 1, 2 },
                { "1e999", -ERANGE, 1, 1 },
                { "NaN", -EINVAL, 1, 1 },
                { "tru", -EINVAL, 1, 1 },
                { "\"a\tb\"", -EINVAL, 1, 3 },
                { "\"\\x\"", -EINVAL, 1, 2 },
                { "\"\\u12\"", -EINVAL, 1, 2 },
                { "\"\\ud800\"", -EILSEQ, 1, 2 },
                { "\"\\udc00\"", -EILSEQ, 1, 2 },
                { "\"abc", -EINVAL, 1, 1 },
                { "[\"\xc3\x28\"]", -EILSEQ, 1, 3 },
                { "\"\xed\xa0\x80\"", -EILSEQ, 1, 2 },
                { "{\"a\\u0000\":1}", -EINVAL, 1, 11 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                JsonValue *v = NULL;
                JsonParseError e = {};
                int r = json_parse(cases[i].text, strlen(cases[i].text), 0, &v, &e);

                cr_expect(r == cases[i].error, "%s: %d, expected %d", cases[i].text, r, cases[i].error);
                cr_expect(e.message && e.line == cases[i].line && e.column == cases[i].column,
                          "%s: %s at %u:%u", cases[i].text, e.message, e.line, e.column);
                cr_expect(!v);
        }
}

Test(json, parse_ok) {
        _cleanup_(json_value_freep) JsonValue *v =
                parse(" {\"a\": [1, -2.5e3, true, false, null, "
                      "\"\\u00e9\\ud83d\\ude00\\/\\n\"], \"a\": 2, \"b\": {}} ");
        _cleanup_free_ char *s = NULL;

        /* The last duplicate wins, at the first one's place. */
        cr_assert(json_format(v, 0, 0, &s) >= 0);
        cr_expect_str_eq(s, "{\"a\":2,\"b\":{}}");

        _cleanup_(json_value_freep) JsonValue *w = parse("[\"\\u0000x\", \"\xc3\xa9\", 1e2]");
        _cleanup_free_ char *t = NULL, *u = NULL;
        cr_expect_eq(json_string_length(json_array_get(w, 0)), 2u);
        cr_assert(json_format(w, 0, 0, &t) >= 0);
        cr_expect_str_eq(t, "[\"\\u0000x\",\"\xc3\xa9\",100.0]");
        cr_assert(json_format(w, 0, JSON_FORMAT_ASCII, &u) >= 0);
        cr_expect_str_eq(u, "[\"\\u0000x\",\"\\u00e9\",100.0]");
}

Test(json, depth_and_size_limits) {
        _cleanup_free_ char *deep = malloc(20001);
        JsonValue *v = NULL;
        JsonParseError e = {};

        cr_assert(deep);
        memset(deep, '[', 10000);
        memset(deep + 10000, ']', 10000);
        deep[20000] = 0;
        cr_expect_eq(json_parse(deep, 20000, 0, &v, &e), -ELOOP);
        cr_expect_eq(e.offset, JSON_DEPTH_DEFAULT);
        cr_expect_eq(json_parse(deep + 10000 - 5, 10, 0, &v, &e), 0);
        v = json_value_free(v);
        cr_expect_eq(json_parse(deep + 10000 - 5, 10, 4, &v, &e), -ELOOP);
        cr_expect_eq(json_parse(deep, (size_t) JSON_SIZE_MAX + 1, 0, &v, &e), -E2BIG);
}

Test(json, equality) {
        _cleanup_(json_value_freep) JsonValue *a = parse("{\"a\":[1,{\"b\":null}],\"c\":\"x\"}"),
                                              *b = parse("{\"c\":\"x\",\"a\":[1.0,{\"b\":null}]}"),
                                              *c = parse("{\"c\":\"x\",\"a\":[true,{\"b\":null}]}");

        cr_expect(json_equal(a, b));
        cr_expect(!json_equal(a, c));
        cr_expect(!json_equal(a, NULL));
}

Test(json, number_printing) {
        static const struct {
                double d;
                const char *s;
        } cases[] = {
                { 0, "0" },
                { 1, "1" },
                { -3, "-3" },
                { 2.5, "2.5" },
                { 0.1, "0.1" },
                { 1.0 / 3, "0.3333333333333333" },
                { 123456789012345.0, "123456789012345" },
                { 1e16, "1e+16" },
                { 1.5e300, "1.5e+300" },
                { 0.0001, "0.0001" },
                { 0.00001, "1e-05" },
                { -1.25e-7, "-1.25e-07" },
                { 1234.5678, "1234.5678" },
                { 5e-324, "5e-324" },
                { -0.0, "0" },
                { 1.7976931348623157e308, "1.7976931348623157e+308" },
        };
        char buf[JSON_NUMBER_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_format_number(cases[i].d, buf);
                cr_expect_str_eq(buf, cases[i].s);
        }

        _cleanup_(json_value_freep) JsonValue *u = json_unsigned(UINT64_MAX);
        _cleanup_free_ char *s = NULL;
        cr_assert(json_format(u, 0, 0, &s) >= 0);
        cr_expect_str_eq(s, "18446744073709551615");
}

Test(json, indented) {
        _cleanup_(json_value_freep) JsonValue *v = parse("{\"a\":[1,[]],\"b\":{},\"c\":\"\xc3\xa9\"}");
        _cleanup_free_ char *s = NULL;

        cr_assert(json_format(v, 4, JSON_FORMAT_NEWLINE, &s) >= 0);
        cr_expect_str_eq(s, "{\n    \"a\": [\n        1,\n        []\n    ],\n    \"b\": {},\n    \"c\": "
                            "\"\xc3\xa9\"\n}\n");
}

Test(jmespath, syntax_errors) {
        static const char *const bad[] = {
                "",
                "foo.",
                "foo..bar",
                "[",
                "foo[",
                "foo[1",
                "foo[1:2:3:4]",
                "a =b",
                "a ==",
                "`\"`",
                "'abc",
                "\"abc",
                "foo(",
                "\"foo\"(1)",
                "foo[?]",
                "{a}",
                "{a: b,}",
                "[a, ]",
                "!",
                "&",
                "a b",
                "abs(1,)",
                "$",
                "foo[-]",
                "foo.-1",
                "foo[9999999999999]",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Jmespath *j = NULL;
                JmespathError e = {};
                int r = jmespath_compile(bad[i], &j, &e);

                cr_expect_eq(r, -EINVAL, "'%s': %d", bad[i], r);
                cr_expect_eq(e.kind, JMESPATH_ERROR_SYNTAX, "'%s': %s", bad[i],
                             jmespath_error_kind_to_string(e.kind));
                cr_expect(e.message[0]);
                cr_expect(!j);
        }
}

Test(jmespath, function_errors) {
        _cleanup_(json_value_freep) JsonValue *d = parse("{\"a\": [1, \"x\"], \"o\": {}}");
        JsonValue *result = NULL;
        JmespathError e = {};

        cr_expect_eq(jmespath_search("nope(@)", d, &result, &e), -EINVAL);
        cr_expect_eq(e.kind, JMESPATH_ERROR_UNKNOWN_FUNCTION);
        cr_expect_eq(jmespath_search("abs(`1`, `2`)", d, &result, &e), -EINVAL);
        cr_expect_eq(e.kind, JMESPATH_ERROR_INVALID_ARITY);
        cr_expect_str_eq(e.message, "Expected 1 argument for function abs(), received 2");
        cr_expect_eq(jmespath_search("sum(a)", d, &result, &e), -EINVAL);
        cr_expect_eq(e.kind, JMESPATH_ERROR_INVALID_TYPE);
        cr_expect_eq(jmespath_search("sort_by(a, &@)", d, &result, &e), -EINVAL);
        cr_expect_eq(e.kind, JMESPATH_ERROR_INVALID_TYPE);
        cr_expect_eq(jmespath_search("a[::0]", d, &result, &e), -EINVAL);
        cr_expect_eq(e.kind, JMESPATH_ERROR_INVALID_VALUE);
        cr_expect(!result);
}

Test(jmespath, results) {
        const char *data = "{\"Keys\": [{\"KeyId\": \"k1\", \"N\": 3}, {\"KeyId\": \"k2\", \"N\": 1.5}], "
                           "\"s\": \"h\xc3\xa9llo\"}";
        static const struct {
                const char *expression, *result;
        } cases[] = {
                { "Keys[].KeyId", "[\"k1\",\"k2\"]" },
                { "Keys[?N > `2`].KeyId | [0]", "\"k1\"" },
                { "sum(Keys[].N)", "4.5" },
                { "max_by(Keys, &N).KeyId", "\"k1\"" },
                { "sort_by(Keys, &N)[0].KeyId", "\"k2\"" },
                { "length(s)", "5" },
                { "reverse(s)", "\"oll\xc3\xa9h\"" },
                { "to_string(s)", "\"h\xc3\xa9llo\"" },
                { "to_string(Keys[0])", "\"{\\\"KeyId\\\":\\\"k1\\\",\\\"N\\\":3}\"" },
                { "to_string([s])", "\"[\\\"h\\\\u00e9llo\\\"]\"" },
                { "to_number('  2.5e1 ')", "25.0" },
                { "to_number('25')", "25" },
                { "avg(`[1, 3]`)", "2.0" },
                { "sum(`[1, 3]`)", "4" },
                { "sum(`[1, 3.0]`)", "4.0" },
                { "abs(`-2.0`)", "2.0" },
                { "ceil(`1.5`)", "2" },
                { "to_number('0x10')", "null" },
                { "{a: Keys[0].N, b: missing}", "{\"a\":3,\"b\":null}" },
                { "missing", "null" },
                { "Keys[*].[KeyId, N][]", "[\"k1\",3,\"k2\",1.5]" },
                { "merge(Keys[0], Keys[1]).N", "1.5" },
                { "Keys[::-1].KeyId", "[\"k2\",\"k1\"]" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = search(cases[i].expression, data);
                cr_expect_str_eq(s, cases[i].result, "%s", cases[i].expression);
        }
}

Test(jmespath, hostile_expressions) {
        _cleanup_(json_value_freep) JsonValue *d = parse("[[1, 2], [3, 4]]");
        _cleanup_free_ char *parens = NULL, *dots = NULL, *nots = NULL, *doubling = NULL, *huge = NULL;
        JsonValue *result = NULL;
        JmespathError e = {};
        size_t n = 100000;

        /* Deep nesting of every kind: refused with a limit error, not a stack overflow. */
        parens = malloc(2 * n + 2);
        cr_assert(parens);
        memset(parens, '(', n);
        parens[n] = 'a';
        memset(parens + n + 1, ')', n);
        parens[2 * n + 1] = 0;
        parens[JMESPATH_EXPRESSION_MAX] = 0;
        cr_expect_eq(jmespath_search(parens, d, &result, &e), -ELOOP);
        cr_expect_eq(e.kind, JMESPATH_ERROR_LIMIT);

        dots = malloc(n);
        cr_assert(dots);
        for (size_t i = 0; i + 2 < n; i += 2)
                dots[i] = 'a', dots[i + 1] = '.';
        dots[JMESPATH_EXPRESSION_MAX - 1] = 0;
        dots[JMESPATH_EXPRESSION_MAX - 2] = 'a';
        cr_expect_eq(jmespath_search(dots, d, &result, &e), -ELOOP);

        nots = malloc(n);
        cr_assert(nots);
        memset(nots, '!', n - 1);
        nots[n - 2] = 'a';
        nots[n - 1] = 0;
        cr_expect_eq(jmespath_search(nots, d, &result, &e), -E2BIG);
        nots[JMESPATH_EXPRESSION_MAX - 1] = 0;
        nots[JMESPATH_EXPRESSION_MAX - 2] = 'a';
        cr_expect_eq(jmespath_search(nots, d, &result, &e), -ELOOP);

        /* A result that doubles at each step: stopped by the budget, not by the memory running out. */
        doubling = malloc(64 * 12 + 2);
        cr_assert(doubling);
        doubling[0] = '@';
        doubling[1] = 0;
        for (size_t i = 0; i < 64; i++)
                strcat(doubling, " | [@, @][]");
        cr_expect_eq(jmespath_search(doubling, d, &result, &e), -E2BIG);
        cr_expect_eq(e.kind, JMESPATH_ERROR_LIMIT);

        /* The same with strings. */
        huge = malloc(64 * 40 + 8);
        cr_assert(huge);
        strcpy(huge, "'xxxxxxxxxxxxxxxx'");
        for (size_t i = 0; i < 64; i++)
                strcat(huge, " | join(@, [@, @])");
        cr_expect_eq(jmespath_search(huge, d, &result, &e), -E2BIG);
        cr_expect(!result);
}
