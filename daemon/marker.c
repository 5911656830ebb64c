/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encoding and checking of paging markers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "marker.h"

static uint32_t marker_check(const uint8_t *data, size_t n) {
        uint64_t h = 0x6a09e667f3bcc908ULL;
        for (size_t i = 0; i < n; i++)
                h = (h ^ data[i]) * 1099511628211ULL;
        h = (h ^ n) * 1099511628211ULL;
        return (uint32_t) (h ^ (h >> 32));
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int marker_encode(const void *data, size_t n, char *out, size_t size) {
        static const char hex[] = "0123456789abcdef";
        const uint8_t *p = data;

        if (n > MARKER_DATA_MAX || size < 2 * n + 9)
                return -ENOBUFS;
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[p[i] >> 4];
                out[2 * i + 1] = hex[p[i] & 15];
        }
        snprintf(out + 2 * n, 9, "%08x", marker_check(p, n));
        return 0;
}

int marker_decode(const char *marker, void *out, size_t size) {
        size_t len = strlen(marker), n;
        uint8_t *p = out;
        char check[9];

        if (len < 8 || len % 2 != 0 || len > 2 * MARKER_DATA_MAX + 8)
                return -EINVAL;
        n = (len - 8) / 2;
        if (n > size)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                int hi = unhex(marker[2 * i]), lo = unhex(marker[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                p[i] = (uint8_t) (hi << 4 | lo);
        }
        snprintf(check, sizeof check, "%08x", marker_check(p, n));
        if (!streq(check, marker + 2 * n))
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
