/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The value parsers of hmacctl (cli/util.c). The first input byte chooses one, the rest is its input:
 *
 *   0  base64_decode() (--mac, --import-token, --encrypted-key-material) accepts exactly what the
 *      reference rules below accept (standard alphabet, ASCII white space ignored, optional padding
 *      that completes the last quantum, nothing after it, no lone sextet), decodes to at most 3 bytes
 *      for every 4 characters, and what it decodes encodes and decodes again to the same bytes;
 *   1  base64_encode() of arbitrary bytes is 4 characters for every 3 bytes begun, and decodes back;
 *   2  parse_timestamp() (--valid-to): what it accepts lies in years 1970..9999, prints with
 *      format_timestamp() and parses back to the same microsecond; plain seconds mean seconds;
 *   3  parse_tag_shorthand() (--tags TagKey=K,TagValue=V): an error always says what is wrong; what
 *      it accepts, written out again with escapes, parses to the same key and value;
 *   4  split_messages() (generate-mac-batch --messages): the messages lie inside the data, in order,
 *      and with their separators or length prefixes make up all of it; never more than max of them;
 *   5  read_file_bounded() (fileb://) on a memfd with the input as contents and a limit from the
 *      input: the same bytes, or -EFBIG exactly when there are more than the limit. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "util.h"

static int file_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        file_fd = memfd_create("paramfile", MFD_CLOEXEC);
        if (file_fd < 0)
                abort();
        return 0;
}

static int ref_base64_value(char c) {
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        for (int i = 0; i < 64; i++)
                if (a[i] == c)
                        return i;
        return -1;
}

/* Accepted by the rules of util.h? Sets *ret_size to the number of bytes it stands for. */
static bool ref_base64_ok(const char *s, size_t *ret_size) {
        size_t sextets = 0, padding = 0;

        for (; *s; s++) {
                if (strchr(" \t\n\r\f\v", *s))
                        continue;
                if (*s == '=')
                        padding++;
                else if (ref_base64_value(*s) < 0 || padding > 0)
                        return false;
                else
                        sextets++;
        }
        if (sextets % 4 == 1 || padding > 2 || (padding > 0 && (sextets + padding) % 4 != 0))
                return false;
        *ret_size = sextets / 4 * 3 + (sextets % 4 == 0 ? 0 : sextets % 4 - 1);
        return true;
}

static void check_base64_decode(const char *s) {
        Buffer b = {}, again = {};
        size_t want = 0;
        bool ok = ref_base64_ok(s, &want);
        char *e;
        int r;

        r = base64_decode(s, &b);
        fuzz_check(r == 0 || r == -EINVAL, "%d", r);
        fuzz_check((r == 0) == ok, "'%s': base64_decode() says %d, the rules %s", s, r,
                   ok ? "accept" : "refuse");
        if (r < 0)
                return;
        fuzz_check(b.size == want && b.size <= strlen(s) / 4 * 3 + 2, "'%s' decoded into %zu bytes, not %zu",
                   s, b.size, want);

        e = base64_encode(b.data, b.size);
        fuzz_check(e && base64_decode(e, &again) == 0, "'%s' does not decode again", e);
        fuzz_check(again.size == b.size && (b.size == 0 || memcmp(again.data, b.data, b.size) == 0), "'%s'",
                   s);
        free(e);
        buffer_done(&again);
        buffer_done(&b);
}

static void check_base64_encode(const uint8_t *data, size_t size) {
        Buffer b = {};
        char *e = base64_encode(data, size);

        fuzz_check(e && strlen(e) == (size + 2) / 3 * 4, "%zu bytes", size);
        fuzz_check(base64_decode(e, &b) == 0 && b.size == size &&
                           (size == 0 || memcmp(b.data, data, size) == 0),
                   "'%s'", e);
        buffer_done(&b);
        free(e);
}

static void check_timestamp(const char *s) {
        char buf[TIMESTAMP_MAX];
        uint64_t v = UINT64_MAX, back = UINT64_MAX;
        size_t digits = strspn(s, "0123456789");
        int r;

        r = parse_timestamp(s, &v);
        fuzz_check(r == 0 || r == -EINVAL, "%d", r);
        if (r < 0)
                return;
        /* Up to the end of 9999-12-31 in UTC, whatever the offset. */
        fuzz_check(v <= UINT64_C(253402300799999999), "'%s' gave %llu", s, (unsigned long long) v);
        if (digits > 0 && s[digits] == 0) {
                unsigned long long sec = strtoull(s, NULL, 10);
                fuzz_check(v == sec * 1000000, "'%s' gave %llu", s, (unsigned long long) v);
        }
        fuzz_check(format_timestamp(buf, v), "%llu does not format", (unsigned long long) v);
        fuzz_check(parse_timestamp(buf, &back) == 0 && back == v,
                   "'%s' gave %llu, printed as '%s', parsed as %llu", s, (unsigned long long) v, buf,
                   (unsigned long long) back);
}

static char *escape(const char *s) {
        char *e = malloc(2 * strlen(s) + 1), *p = e;

        if (!e)
                abort();
        for (; *s; s++) {
                if (*s == ',' || *s == '\\')
                        *p++ = '\\';
                *p++ = *s;
        }
        *p = 0;
        return e;
}

static void check_tag(const char *s) {
        char *key = NULL, *value = NULL, *k2 = NULL, *v2 = NULL, *ek, *ev, *again;
        const char *problem = NULL;
        int r;

        r = parse_tag_shorthand(s, &key, &value, &problem);
        fuzz_check(r == 0 || r == -EINVAL, "%d", r);
        if (r < 0) {
                fuzz_check(problem && *problem, "'%s' refused without saying why", s);
                fuzz_check(!key && !value, "'%s' refused, and yet a key or value was returned", s);
                return;
        }
        fuzz_check(key && value, "'%s'", s);

        ek = escape(key);
        ev = escape(value);
        again = malloc(strlen(ek) + strlen(ev) + 32);
        if (!again)
                abort();
        sprintf(again, "TagValue=%s,TagKey=%s", ev, ek);
        r = parse_tag_shorthand(again, &k2, &v2, &problem);
        fuzz_check(r == 0 && strcmp(k2, key) == 0 && strcmp(v2, value) == 0,
                   "'%s' gave key '%s' value '%s'; written as '%s' it gives %d", s, key, value, again, r);
        free(again);
        free(ek);
        free(ev);
        free(k2);
        free(v2);
        free(key);
        free(value);
}

static void check_split(FuzzInput *in) {
        MessageFormat format = fuzz_byte(in) % 2 ? MESSAGE_FORMAT_LENGTH_PREFIXED : MESSAGE_FORMAT_LINES;
        size_t max = fuzz_byte(in), n = 0, offset = SIZE_MAX, covered = 0;
        uint8_t *data = malloc(in->size ? in->size : 1);
        struct iovec *m = NULL;
        int r;

        if (!data)
                abort();
        if (in->size > 0)
                memcpy(data, in->data, in->size);

        r = split_messages(data, in->size, format, max, &m, &n, &offset);
        fuzz_check(r == 0 || r == -EBADMSG || r == -E2BIG, "%d", r);
        if (r == -EBADMSG)
                fuzz_check(format == MESSAGE_FORMAT_LENGTH_PREFIXED && offset < in->size,
                           "offset %zu of %zu", offset, in->size);
        if (r == 0) {
                const uint8_t *next = data;

                fuzz_check(n <= max && (n == 0) == (m == NULL), "%zu messages, max %zu", n, max);
                for (size_t i = 0; i < n; i++) {
                        const uint8_t *b = m[i].iov_base;

                        if (format == MESSAGE_FORMAT_LENGTH_PREFIXED) {
                                size_t len = (size_t) next[0] << 24 | (size_t) next[1] << 16 |
                                             (size_t) next[2] << 8 | next[3];
                                fuzz_check(b == next + 4 && m[i].iov_len == len, "message %zu", i);
                                next = b + len;
                                covered += 4 + len;
                        } else {
                                fuzz_check(b == next && !memchr(b, '\n', m[i].iov_len), "message %zu", i);
                                next = b + m[i].iov_len;
                                covered += m[i].iov_len;
                                if (covered < in->size) {
                                        fuzz_check(*next == '\n', "message %zu", i);
                                        next++;
                                        covered++;
                                }
                        }
                        fuzz_check(covered <= in->size, "message %zu ends past the data", i);
                }
                fuzz_check(covered == in->size, "%zu messages cover %zu of %zu bytes", n, covered, in->size);
        }
        free(m);
        free(data);
}

static void check_read_file(FuzzInput *in) {
        size_t max = fuzz_byte(in) * 16u;
        char path[64];
        Buffer b = {};
        int r;

        if (ftruncate(file_fd, 0) < 0 || pwrite(file_fd, in->data, in->size, 0) != (ssize_t) in->size)
                abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", file_fd);
        r = read_file_bounded(path, max, &b);
        if (in->size > max)
                fuzz_check(r == -EFBIG, "%zu bytes with a limit of %zu gave %d", in->size, max, r);
        else
                fuzz_check(r == 0 && b.size == in->size &&
                                   (b.size == 0 || memcmp(b.data, in->data, b.size) == 0),
                           "%zu bytes with a limit of %zu gave %d", in->size, max, r);
        buffer_done(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = { data, size };
        uint8_t mode = fuzz_byte(&in);
        char *s;

        switch (mode % 6) {
        case 1:
                check_base64_encode(in.data, in.size);
                return 0;
        case 4:
                check_split(&in);
                return 0;
        case 5:
                check_read_file(&in);
                return 0;
        }

        s = fuzz_strndup(in.data, in.size);
        switch (mode % 6) {
        case 0:
                check_base64_decode(s);
                break;
        case 2:
                check_timestamp(s);
                break;
        case 3:
                check_tag(s);
                break;
        }
        free(s);
        return 0;
}
