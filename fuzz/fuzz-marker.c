/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Paging markers (daemon/marker.c), the opaque NextMarker strings that clients hand back to ListKeys,
 * ListAliases and ListResourceTags. The first input byte chooses what the rest is:
 *
 *   0  a marker as a client sends it, decoded into a buffer of a size the next byte chooses: decoding
 *      never writes past that buffer nor reads past the string, returns -EINVAL or a size that fits,
 *      and what decodes encodes back to exactly the same string (so no two markers mean one position);
 *      marker_decode_seq() accepts it only as 8 bytes of a non-negative position;
 *   1  arbitrary position data: encode (into a buffer of exactly the size needed, and refused with
 *      -ENOBUFS, writing nothing, into one byte less) and decode give the same bytes back;
 *   2  a sequence number: marker_encode_seq() and marker_decode_seq() round-trip every non-negative
 *      one and refuse every negative one;
 *   3  a valid marker of the data with one character replaced (position and character from the
 *      input): refused, unless the character was the same. */
#include <errno.h>

#include "fuzz.h"
#include "marker.h"

static char *encode_exact(const uint8_t *data, size_t n) {
        size_t size = marker_length(n) + 1;
        char *out = malloc(size), *small = malloc(size - 1);
        int r;

        if (!out || !small)
                abort();
        r = marker_encode(data, n, small, size - 1);
        fuzz_check(r == -ENOBUFS, "encoding %zu bytes into %zu gave %d", n, size - 1, r);
        r = marker_encode(data, n, out, size);
        if (n > MARKER_DATA_MAX) {
                fuzz_check(r == -ENOBUFS, "encoding %zu bytes gave %d", n, r);
                free(out);
                out = NULL;
        } else {
                fuzz_check(r == 0, "encoding %zu bytes gave %d", n, r);
                fuzz_check(strlen(out) == marker_length(n), "%zu bytes encoded into %zu characters", n,
                           strlen(out));
        }
        free(small);
        return out;
}

static void check_decode(const char *marker, size_t out_size) {
        uint8_t *out = malloc(out_size);
        int64_t seq = -1;
        int r;

        if (!out && out_size > 0)
                abort();
        r = marker_decode(marker, out, out_size);
        fuzz_check(r == -EINVAL || (r >= 0 && (size_t) r <= out_size), "decode into %zu bytes gave %d",
                   out_size, r);
        if (r >= 0) {
                char *again = encode_exact(out, (size_t) r);

                fuzz_check(again && strcmp(again, marker) == 0, "'%s' decodes and encodes to '%s'", marker,
                           again);
                free(again);
        }
        free(out);

        r = marker_decode_seq(marker, &seq);
        fuzz_check(r == 0 || r == -EINVAL, "%d", r);
        if (r == 0) {
                char again[MARKER_STRING_MAX];
                fuzz_check(seq >= 0 && strlen(marker) == marker_length(8), "'%s' gave seq %lld", marker,
                           (long long) seq);
                fuzz_check(marker_encode_seq(seq, again, sizeof again) == 0 && strcmp(again, marker) == 0,
                           "'%s' gave seq %lld, which encodes as '%s'", marker, (long long) seq, again);
        }
}

static void check_round_trip(const uint8_t *data, size_t n) {
        char *m = encode_exact(data, n);
        uint8_t *out;
        int r;

        if (!m)
                return;
        out = malloc(n);
        if (!out && n > 0)
                abort();
        r = marker_decode(m, out, n);
        fuzz_check(r >= 0 && (size_t) r == n && (n == 0 || memcmp(out, data, n) == 0),
                   "%zu bytes came back as %d", n, r);
        if (n > 0)
                fuzz_check(marker_decode(m, out, n - 1) == -EINVAL, "decoded %zu bytes into %zu", n, n - 1);
        free(out);
        free(m);
}

static void check_seq(FuzzInput *in) {
        char m[MARKER_STRING_MAX];
        uint64_t v = (uint64_t) fuzz_u32(in) << 32 | fuzz_u32(in);
        int64_t seq = (int64_t) v, back = -1;
        int r;

        fuzz_check(marker_encode_seq(seq, m, sizeof m) == 0, "%lld", (long long) seq);
        r = marker_decode_seq(m, &back);
        if (seq >= 0)
                fuzz_check(r == 0 && back == seq, "%lld came back as %d %lld", (long long) seq, r,
                           (long long) back);
        else
                fuzz_check(r == -EINVAL, "negative %lld accepted as %lld", (long long) seq,
                           (long long) back);
}

static void check_changed(FuzzInput *in) {
        uint32_t pos = fuzz_u32(in);
        uint8_t c = fuzz_byte(in);
        size_t n = in->size > MARKER_DATA_MAX ? MARKER_DATA_MAX : in->size;
        char *m = encode_exact(in->data, n), *changed;
        uint8_t *out = malloc(n + 1);
        size_t len;

        if (!m || !out)
                abort();
        len = strlen(m);
        pos %= (uint32_t) len;
        changed = fuzz_strndup(m, len);
        changed[pos] = (char) c;

        if (c == (uint8_t) m[pos])
                fuzz_check(marker_decode(changed, out, n + 1) == (int) n, "'%s'", m);
        else
                /* A changed character either is no base64url digit, alters the check, or alters the data and
                 * so the check it must match: an FNV-style 64-bit hash, which one changed byte always
                 * alters, folded to 32 bits (a collision there would be a 1 in 2^32 finding). */
                fuzz_check(marker_decode(changed, out, n + 1) < 0,
                           "'%s' with %zu changed to 0x%02x accepted", m, (size_t) pos, c);
        free(changed);
        free(out);
        free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = { data, size };
        uint8_t mode = fuzz_byte(&in);

        switch (mode % 4) {
        case 0: {
                uint8_t b = fuzz_byte(&in);
                size_t out_size = b == 255 ? MARKER_DATA_MAX : b * 2u;
                char *m = fuzz_take_string(&in);

                check_decode(m, out_size);
                free(m);
                break;
        }
        case 1:
                check_round_trip(in.data, in.size);
                break;
        case 2:
                check_seq(&in);
                break;
        case 3:
                check_changed(&in);
                break;
        }
        return 0;
}
