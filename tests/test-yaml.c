/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli/yaml.c, the reader of --cli-input-yaml: documents as `--generate-cli-skeleton yaml-input`
 * prints them and as people write them, each compared with the JSON it must give; and what it must
 * refuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "macro.h"
#include "yaml.h"

static void expect_yaml(const char *yaml, const char *json) {
        _cleanup_(json_value_freep) JsonValue *got = NULL, *want = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        r = yaml_parse(yaml, strlen(yaml), &got, NULL);
        cr_assert_eq(r, 0, "yaml_parse() = %d for:\n%s", r, yaml);
        cr_assert_eq(json_parse(json, strlen(json), 0, &want, NULL), 0, "bad expectation %s", json);
        cr_assert_geq(json_format(got, 0, 0, &text), 0);
        cr_assert(json_equal(got, want), "for:\n%s\ngot %s, expected %s", yaml, text, json);
}

static void expect_refused(const char *yaml) {
        _cleanup_(json_value_freep) JsonValue *got = NULL;
        unsigned line = 0;
        int r;

        r = yaml_parse(yaml, strlen(yaml), &got, &line);
        cr_assert_lt(r, 0, "accepted:\n%s", yaml);
        cr_assert_null(got);
}

Test(yaml, skeletons_as_hmacctl_prints_them) {
        expect_yaml("Message: !!binary ''  # [REQUIRED] The message\n"
                    "KeyId: '' # [REQUIRED] Key ID\n"
                    "MacAlgorithm: HMAC_SHA_224 # HMAC_SHA_224, ...\n"
                    "GrantTokens: # Accepted and ignored\n"
                    "- ''\n",
                    "{\"Message\": \"\", \"KeyId\": \"\", \"MacAlgorithm\": \"HMAC_SHA_224\", "
                    "\"GrantTokens\": [\"\"]}");
        expect_yaml("Description: '' # Free text\n"
                    "Tags: # Tags for the key\n"
                    "- TagKey: ''  # [REQUIRED] The key of the tag.\n"
                    "  TagValue: '' # [REQUIRED] The value of the tag.\n",
                    "{\"Description\": \"\", \"Tags\": [{\"TagKey\": \"\", \"TagValue\": \"\"}]}");
        expect_yaml("Limit: 0 # Return at most N keys\nMarker: '' # The service's NextMarker\n",
                    "{\"Limit\": 0, \"Marker\": \"\"}");
}

Test(yaml, scalars) {
        expect_yaml(
                "a: 12\nb: -3.5\nc: true\nd: False\ne: null\nf: ~\ng:\nh: 1e3\ni: 0.5.1\nj: yes\n",
                "{\"a\": 12, \"b\": -3.5, \"c\": true, \"d\": false, \"e\": null, \"f\": null, \"g\": null, "
                "\"h\": 1000.0, \"i\": \"0.5.1\", \"j\": \"yes\"}");
        expect_yaml(
                "s: 'it''s # not a comment'\nd: \"tab\\there \\u00e9 \\\"q\\\"\"\np: a plain # comment\n",
                "{\"s\": \"it's # not a comment\", \"d\": \"tab\\there \\u00e9 \\\"q\\\"\", \"p\": \"a "
                "plain\"}");
        expect_yaml("url: http://example.com/a:b\nkey: 'alias/x'\n",
                    "{\"url\": \"http://example.com/a:b\", \"key\": \"alias/x\"}");
        expect_yaml("\"quoted key\": 1\n'other': 2\n", "{\"quoted key\": 1, \"other\": 2}");
}

Test(yaml, collections) {
        expect_yaml("---\nKeyId: k\nTagKeys:\n  - a\n  - b\nTags:\n  - TagKey: x\n    TagValue: y\n\n"
                    "  - {\"TagKey\": \"z\", \"TagValue\": \"w\"}\n...\n",
                    "{\"KeyId\": \"k\", \"TagKeys\": [\"a\", \"b\"], \"Tags\": [{\"TagKey\": \"x\", "
                    "\"TagValue\": "
                    "\"y\"}, {\"TagKey\": \"z\", \"TagValue\": \"w\"}]}");
        expect_yaml("list: [1, \"two\", {\"three\": 3}]\nempty: {}\nnested:\n  a:\n    b: c\n",
                    "{\"list\": [1, \"two\", {\"three\": 3}], \"empty\": {}, \"nested\": {\"a\": {\"b\": "
                    "\"c\"}}}");
        expect_yaml("- a\n-\n  - b\n- c: d\n", "[\"a\", [\"b\"], {\"c\": \"d\"}]");
}

Test(yaml, block_scalars) {
        expect_yaml("Description: |\n  line one\n  line two\nNext: x\n",
                    "{\"Description\": \"line one\\nline two\\n\", \"Next\": \"x\"}");
        expect_yaml("Description: |-\n  kept\n\n  apart\n", "{\"Description\": \"kept\\n\\napart\"}");
        expect_yaml("Description: >\n  folded\n  into one\n", "{\"Description\": \"folded into one\\n\"}");
}

Test(yaml, refused) {
        expect_refused("a: 'unterminated\n");
        expect_refused("a: b\n  c: d\n");       /* more indented, after a scalar */
        expect_refused("a:\n\tb: c\n");         /* a tab in the indentation */
        expect_refused("a: \"\\q\"\n");         /* an unknown escape */
        expect_refused("a: [1, 2\n");           /* a flow collection that is not JSON */
        expect_refused("a: \"nul \\u0000\"\n"); /* no NUL in a C string */

        /* Deep nesting is bounded. */
        {
                _cleanup_free_ char *deep = malloc(8192);
                _cleanup_(json_value_freep) JsonValue *v = NULL;
                size_t n = 0;

                cr_assert(deep);
                for (size_t i = 0; i < 100; i++) { /* 100 nested lists */
                        memset(deep + n, ' ', i);
                        n += i;
                        memcpy(deep + n, "-\n", 2);
                        n += 2;
                }
                deep[n] = 0;
                cr_assert_lt(yaml_parse(deep, n, &v, NULL), 0);
        }
}
