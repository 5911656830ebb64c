/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encoding and checking of paging markers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "macro.h"
#include "marker.h"

static uint32_t marker_check(const uint8_t *data, size_t n) {
        uint64_t h = 0x6a09e667f3bcc908ULL;
        for (size_t i = 0; i < n; i++)
                h = (h ^ data[i]) * 1099511628211ULL;
        h = (h ^ n) * 1099511628211ULL;
        return (uint32_t) (h ^ (h >> 32));
}

static size_t encoded_size(size_t n) {
        return base64_length(n, false);
}

size_t marker_length(size_t n) {
        return encoded_size(n) + 8;
}

int marker_encode(const void *data, size_t n, char *out, size_t size) {
        if (n > MARKER_DATA_MAX || size < encoded_size(n) + 9)
                return -ENOBUFS;
        /* base64url without padding: 512 bytes (a tag key of 128 four-byte characters) make 683
         * characters, well inside the 1024 a marker may have. */
        base64_encode_to(data, n, BASE64_URL, false, out);
        snprintf(out + encoded_size(n), 9, "%08x", marker_check(data, n));
        return 0;
}

int marker_decode(const char *marker, void *out, size_t size) {
        size_t len = strlen(marker), chars, n;
        uint8_t *p = out;
        char check[9];

        if (len < 8 || len > encoded_size(MARKER_DATA_MAX) + 8)
                return -EINVAL;
        chars = len - 8;
        if (chars % 4 == 1)
                return -EINVAL;
        n = chars / 4 * 3 + (chars % 4 ? chars % 4 - 1 : 0);
        if (n > size)
                return -EINVAL;

        for (size_t i = 0, o = 0; i < chars; i += 4) {
                size_t group = MIN(chars - i, (size_t) 4);
                uint32_t v = 0;

                for (size_t j = 0; j < 4; j++) {
                        int d = j < group ? base64_digit(marker[i + j], BASE64_URL) : 0;
                        if (d < 0)
                                return -EINVAL;
                        v = v << 6 | (uint32_t) d;
                }
                for (size_t j = 0; j < group - 1; j++)
                        p[o++] = (uint8_t) (v >> (16 - 8 * j));
                /* Bits beyond the data must be zero: one position, one marker. */
                if (group < 4 && (v & ((1u << (24 - 8 * (group - 1))) - 1)) != 0)
                        return -EINVAL;
        }
        snprintf(check, sizeof check, "%08x", marker_check(p, n));
        if (!streq(check, marker + chars))
                return -EINVAL;
        return (int) n;
}

int marker_encode_seq(int64_t seq, char *out, size_t size) {
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t) ((uint64_t) seq >> (56 - 8 * i));
        return marker_encode(b, sizeof b, out, size);
}

int marker_decode_seq(const char *marker, int64_t *ret) {
        uint8_t b[8];
        uint64_t v = 0;

        if (marker_decode(marker, b, sizeof b) != 8)
                return -EINVAL;
        for (int i = 0; i < 8; i++)
                v = v << 8 | b[i];
        if (v > INT64_MAX)
                return -EINVAL;
        *ret = (int64_t) v;
        return 0;
}
