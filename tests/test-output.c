/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli/output.c against what awscli 2.9.19's own formatters print for the same data, byte for byte:
 * the expectations in output-golden.h come from tests/output-golden.py. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "macro.h"
#include "output-golden.h"
#include "output.h"

static JsonValue *parse(const char *text) {
        JsonValue *v = NULL;
        JsonParseError e = {};
        int r = json_parse(text, strlen(text), 0, &v, &e);

        cr_assert(r >= 0, "%s: %s at %u:%u", text, e.message, e.line, e.column);
        return v;
}

/* Where the outputs differ, the first line that does, for a readable failure. */
static void report_difference(const char *name, const char *format, const char *got, const char *want) {
        size_t line = 1, i = 0;

        while (got[i] && got[i] == want[i]) {
                if (got[i] == '\n')
                        line++;
                i++;
        }
        fprintf(stderr, "%s, %s: differs at line %zu\n--- got:\n%s--- expected:\n%s---\n", name, format,
                line, got, want);
}

static void check(const OutputGolden *g, OutputFormat format, const char *want) {
        _cleanup_(json_value_freep) JsonValue *v = parse(g->data);
        _cleanup_free_ char *got = NULL;
        OutputOptions o = {
                .format = format,
                .color = OUTPUT_COLOR_OFF,
                .title = g->title,
                .width = 80,
        };
        int r;

        r = output_format(v, &o, &got);
        if (!want) {
                cr_expect_eq(r, -EINVAL, "%s, %s: aws fails, but output_format() gives %d", g->name,
                             output_format_to_string(format), r);
                return;
        }
        cr_assert(r >= 0, "%s, %s: %s", g->name, output_format_to_string(format), strerror(-r));
        if (!streq(got, want))
                report_difference(g->name, output_format_to_string(format), got, want);
        cr_expect_str_eq(got, want, "%s, %s", g->name, output_format_to_string(format));
}

Test(output, json) {
        for (size_t i = 0; i < ELEMENTSOF(output_golden); i++)
                check(&output_golden[i], OUTPUT_FORMAT_JSON, output_golden[i].json);
}

Test(output, text) {
        for (size_t i = 0; i < ELEMENTSOF(output_golden); i++)
                check(&output_golden[i], OUTPUT_FORMAT_TEXT, output_golden[i].text);
}

Test(output, table) {
        for (size_t i = 0; i < ELEMENTSOF(output_golden); i++)
                check(&output_golden[i], OUTPUT_FORMAT_TABLE, output_golden[i].table);
}

Test(output, yaml) {
        for (size_t i = 0; i < ELEMENTSOF(output_golden); i++)
                check(&output_golden[i], OUTPUT_FORMAT_YAML, output_golden[i].yaml);
}

Test(output, yaml_stream) {
        for (size_t i = 0; i < ELEMENTSOF(output_golden); i++)
                check(&output_golden[i], OUTPUT_FORMAT_YAML_STREAM, output_golden[i].yaml_stream);
}

static const OutputGolden *golden(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(output_golden); i++)
                if (streq(output_golden[i].name, name))
                        return &output_golden[i];
        cr_assert_fail("no golden output %s", name);
        return NULL;
}

static char *table(const char *name, const char *title, OutputColor color, unsigned width) {
        _cleanup_(json_value_freep) JsonValue *v = parse(golden(name)->data);
        OutputOptions o = { .format = OUTPUT_FORMAT_TABLE, .color = color, .title = title, .width = width };
        char *s = NULL;

        cr_assert(output_format(v, &o, &s) >= 0);
        return s;
}

Test(output, table_color_and_width) {
        _cleanup_free_ char *color = table("list_aliases", "ListAliases", OUTPUT_COLOR_ON, 80);
        _cleanup_free_ char *narrow = table("describe_key", "DescribeKey", OUTPUT_COLOR_OFF, 40);
        _cleanup_free_ char *wide = table("describe_key", "DescribeKey", OUTPUT_COLOR_OFF, 400);

        cr_expect_str_eq(color, output_golden_table_color);
        cr_expect_str_eq(narrow, output_golden_table_width40);
        cr_expect_str_eq(wide, output_golden_table_width400);
}

Test(output, names) {
        cr_expect_eq(output_format_from_string("yaml"), OUTPUT_FORMAT_YAML);
        cr_expect_eq(output_format_from_string("yaml-stream"), OUTPUT_FORMAT_YAML_STREAM);
        cr_expect_eq(output_format_from_string("yaml_stream"), _OUTPUT_FORMAT_INVALID);
        cr_expect_str_eq(output_format_to_string(OUTPUT_FORMAT_TABLE), "table");
        cr_expect_eq(output_color_from_string("auto"), OUTPUT_COLOR_AUTO);
        cr_expect_eq(output_color_from_string("blue"), _OUTPUT_COLOR_INVALID);
}

Test(output, print_writes_nothing_on_failure) {
        _cleanup_(json_value_freep) JsonValue *v = parse("[[1, 2], [3]]");
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        OutputOptions o = { .format = OUTPUT_FORMAT_TABLE, .title = "ListKeys", .width = 80 };

        cr_assert(f);
        cr_expect_eq(output_print(f, v, &o), -EINVAL);
        fclose(f);
        cr_expect_eq(size, 0u);
}
