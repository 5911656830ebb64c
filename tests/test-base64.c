/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of common/base64.c: the test vectors of RFC 4648 section 10 in both alphabets, with and
 * without padding, and the digit table. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "macro.h"

Test(base64, rfc4648_vectors) {
        static const char *const vectors[][2] = {
                { "", "" },           { "f", "Zg==" },         { "fo", "Zm8=" },         { "foo", "Zm9v" },
                { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
        };
        char out[16], unpadded[16];

        for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
                size_t n = strlen(vectors[i][0]);

                cr_assert_eq(base64_length(n, true), strlen(vectors[i][1]));
                base64_encode_to(vectors[i][0], n, BASE64_STANDARD, true, out);
                cr_assert_str_eq(out, vectors[i][1]);

                base64_encode_to(vectors[i][0], n, BASE64_URL, false, out);
                snprintf(unpadded, sizeof unpadded, "%.*s", (int) strcspn(vectors[i][1], "="), vectors[i][1]);
                cr_assert_str_eq(out, unpadded);
                cr_assert_eq(base64_length(n, false), strlen(unpadded));
        }
}

Test(base64, alphabets_differ_in_two_digits) {
        static const uint8_t bytes[] = { 0xfb, 0xff, 0xbf };
        char out[8];

        base64_encode_to(bytes, sizeof bytes, BASE64_STANDARD, true, out);
        cr_assert_str_eq(out, "+/+/");
        base64_encode_to(bytes, sizeof bytes, BASE64_URL, false, out);
        cr_assert_str_eq(out, "-_-_");

        cr_assert_eq(base64_digit('+', BASE64_STANDARD), 62);
        cr_assert_eq(base64_digit('/', BASE64_STANDARD), 63);
        cr_assert_eq(base64_digit('-', BASE64_URL), 62);
        cr_assert_eq(base64_digit('_', BASE64_URL), 63);
        cr_assert_eq(base64_digit('+', BASE64_URL), -1);
        cr_assert_eq(base64_digit('-', BASE64_STANDARD), -1);
        cr_assert_eq(base64_digit('=', BASE64_STANDARD), -1);
        cr_assert_eq(base64_digit(0, BASE64_URL), -1);
        for (int c = 'A'; c <= 'Z'; c++)
                cr_assert_eq(base64_digit((char) c, BASE64_URL), c - 'A');
}
