/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The YAML of --cli-input-yaml (cli/yaml.c): yaml_parse() on any bytes must return 0 with a value or a
 * negative errno (-EINVAL, -E2BIG, -ENOMEM) without one, never crash, leak or read past the input
 * (it gets exactly size bytes, in a buffer of that size); what it accepts must print as JSON, parse
 * back from that JSON, and equal what was read; and reading the same input twice gives the same
 * value. */
#include <errno.h>

#include "fuzz.h"
#include "json.h"
#include "yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size ? size : 1);
        JsonValue *v = NULL, *again = NULL, *back = NULL;
        char *json = NULL;
        unsigned line = 0;
        int r;

        if (!text)
                abort();
        memcpy(text, data, size);

        r = yaml_parse(text, size, &v, &line);
        fuzz_check(r == 0 || r == -EINVAL || r == -E2BIG || r == -ENOMEM, "yaml_parse() returned %d", r);
        if (r < 0) {
                fuzz_check(!v, "a value despite %d", r);
                goto done;
        }
        fuzz_check(v, "no value, and yet 0");

        fuzz_check(yaml_parse(text, size, &again, NULL) == 0 && json_equal(v, again),
                   "a second read differs");

        r = json_format(v, 0, 0, &json);
        fuzz_check(r >= 0, "json_format() returned %d", r);
        r = json_parse(json, strlen(json), 0, &back, NULL);
        /* Values nested deeper than the JSON parser's default are the only ones allowed not to come back. */
        fuzz_check(r == 0 || r == -ELOOP, "its JSON does not parse (%d): %s", r, json);
        if (r == 0)
                fuzz_check(json_equal(v, back), "its JSON parses to something else: %s", json);

done:
        json_value_free(v);
        json_value_free(again);
        json_value_free(back);
        free(json);
        free(text);
        return 0;
}
