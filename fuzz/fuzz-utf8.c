/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UTF-8 (common/kms.c): utf8_length() measures descriptions, tag keys and tag values against their
 * limits. It must agree, for any bytes, with the reference decoder below, written from table 3-7
 * ("Well-Formed UTF-8 Byte Sequences") of the Unicode standard rather than from the code under test:
 * the same count of code points for well-formed input, -EILSEQ for everything else (overlong forms,
 * surrogates, code points above U+10FFFF, stray or missing continuation bytes, truncation). It must
 * also read no byte past the n it is given (the input is copied into a buffer of exactly that size,
 * so AddressSanitizer would see it), and the well-formed part before the first bad byte measures as
 * well-formed on its own. */
#include <errno.h>
#include <sys/types.h>

#include "fuzz.h"
#include "kms.h"

/* The lead byte's range and, for each continuation byte, its allowed range. */
static const struct {
        uint8_t lo, hi;
        uint8_t n;
        uint8_t next[3][2];
} table[] = {
        { 0x00, 0x7f, 1, {} },
        { 0xc2, 0xdf, 2, { { 0x80, 0xbf } } },
        { 0xe0, 0xe0, 3, { { 0xa0, 0xbf }, { 0x80, 0xbf } } },
        { 0xe1, 0xec, 3, { { 0x80, 0xbf }, { 0x80, 0xbf } } },
        { 0xed, 0xed, 3, { { 0x80, 0x9f }, { 0x80, 0xbf } } },
        { 0xee, 0xef, 3, { { 0x80, 0xbf }, { 0x80, 0xbf } } },
        { 0xf0, 0xf0, 4, { { 0x90, 0xbf }, { 0x80, 0xbf }, { 0x80, 0xbf } } },
        { 0xf1, 0xf3, 4, { { 0x80, 0xbf }, { 0x80, 0xbf }, { 0x80, 0xbf } } },
        { 0xf4, 0xf4, 4, { { 0x80, 0x8f }, { 0x80, 0xbf }, { 0x80, 0xbf } } },
};

/* The length of the well-formed sequence at p (at most n bytes), or 0. */
static size_t ref_sequence(const uint8_t *p, size_t n) {
        for (size_t t = 0; t < sizeof table / sizeof table[0]; t++) {
                if (p[0] < table[t].lo || p[0] > table[t].hi)
                        continue;
                if (table[t].n > n)
                        return 0;
                for (size_t j = 1; j < table[t].n; j++)
                        if (p[j] < table[t].next[j - 1][0] || p[j] > table[t].next[j - 1][1])
                                return 0;
                return table[t].n;
        }
        return 0;
}

static ssize_t ref_length(const uint8_t *p, size_t n, size_t *ret_last_boundary) {
        ssize_t count = 0;
        size_t i = 0;

        while (i < n) {
                size_t len = ref_sequence(p + i, n - i);
                if (len == 0)
                        break;
                i += len;
                count++;
        }
        *ret_last_boundary = i;
        return i == n ? count : -EILSEQ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *copy = malloc(size ? size : 1);
        size_t boundary;
        ssize_t got, want;

        if (!copy)
                abort();
        if (size > 0)
                memcpy(copy, data, size);

        got = utf8_length((const char *) copy, size);
        want = ref_length(copy, size, &boundary);
        fuzz_check(got == want, "utf8_length() of %zu bytes gave %zd, the reference %zd", size, got, want);
        if (got >= 0)
                /* The tag-key check of UntagResource relies on this: at most 4 bytes a character. */
                fuzz_check((size_t) got <= size && size <= 4 * (size_t) got, "%zd characters in %zu bytes",
                           got, size);

        /* The well-formed part before the first bad byte measures as well-formed. */
        got = utf8_length((const char *) copy, boundary);
        fuzz_check(got >= 0, "the first %zu bytes are well-formed, utf8_length() says %zd", boundary, got);

        free(copy);
        return 0;
}
