/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* base64 and base64url (see base64.h). */
#include <stdint.h>
#include <string.h>

#include "base64.h"

static const char alphabets[_BASE64_ALPHABET_MAX][65] = {
        [BASE64_STANDARD] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        [BASE64_URL] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
};

size_t base64_length(size_t n, bool pad) {
        if (pad)
                return (n + 2) / 3 * 4;
        return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void base64_encode_to(const void *p, size_t n, Base64Alphabet alphabet, bool pad, char *out) {
        const char *a = alphabets[alphabet];
        const uint8_t *s = p;

        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) s[i] << 16 | (i + 1 < n ? (uint32_t) s[i + 1] << 8 : 0) |
                             (i + 2 < n ? s[i + 2] : 0);
                size_t chars = (n - i < 3 ? n - i : 3) + 1;

                for (size_t j = 0; j < 4; j++)
                        if (j < chars)
                                *out++ = a[(v >> (18 - 6 * j)) & 63];
                        else if (pad)
                                *out++ = '=';
        }
        *out = 0;
}

int base64_digit(char c, Base64Alphabet alphabet) {
        const char *p = c ? strchr(alphabets[alphabet], c) : NULL;
        return p ? (int) (p - alphabets[alphabet]) : -1;
}
