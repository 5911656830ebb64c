/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Buffers, base64, bounded file reads, timestamps and tag shorthand for hmacctl. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"

void buffer_done(Buffer *b) {
        if (!b)
                return;
        if (b->data) {
                explicit_bzero(b->data, b->size);
                free(b->data);
        }
        *b = (Buffer) {};
}

int read_file_bounded(const char *path, size_t max, Buffer *ret) {
        _cleanup_close_ int fd_close = -1;
        uint8_t *data;
        size_t size = 0;
        int fd;

        if (streq(path, "-"))
                fd = STDIN_FILENO;
        else {
                fd = fd_close = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return negative_errno();
        }

        /* One allocation of the largest size we accept: growing with realloc() would leave copies of
         * the contents behind that we could not wipe. */
        data = malloc(max + 1);
        if (!data)
                return -ENOMEM;

        for (;;) {
                ssize_t n = read(fd, data + size, max + 1 - size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = negative_errno();
                        explicit_bzero(data, size);
                        free(data);
                        return r;
                }
                if (n == 0)
                        break;
                size += n;
                if (size > max) {
                        explicit_bzero(data, size);
                        free(data);
                        return -EFBIG;
                }
        }

        *ret = (Buffer) { .data = data, .size = size };
        return 0;
}

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *p, size_t n) {
        const uint8_t *s = p;
        char *buf, *d;

        buf = d = malloc((n + 2) / 3 * 4 + 1);
        if (!buf)
                return NULL;

        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) s[i] << 16;

                if (i + 1 < n)
                        v |= (uint32_t) s[i + 1] << 8;
                if (i + 2 < n)
                        v |= s[i + 2];

                *d++ = base64_alphabet[(v >> 18) & 63];
                *d++ = base64_alphabet[(v >> 12) & 63];
                *d++ = i + 1 < n ? base64_alphabet[(v >> 6) & 63] : '=';
                *d++ = i + 2 < n ? base64_alphabet[v & 63] : '=';
        }
        *d = 0;
        return buf;
}

static int base64_value(char c) {
        const char *p;

        if (c == 0)
                return -1;
        p = strchr(base64_alphabet, c);
        return p ? (int) (p - base64_alphabet) : -1;
}

int base64_decode(const char *s, Buffer *ret) {
        size_t n_sextets = 0, n_padding = 0, size = 0;
        uint32_t v = 0;
        uint8_t *data;

        data = malloc(strlen(s) / 4 * 3 + 3);
        if (!data)
                return -ENOMEM;

        for (const char *p = s; *p; p++) {
                int x;

                if (strchr(" \t\n\r\f\v", *p))
                        continue;
                if (*p == '=') {
                        n_padding++;
                        continue;
                }
                x = base64_value(*p);
                if (x < 0 || n_padding > 0)     /* a foreign character, or data after the padding */
                        goto invalid;

                v = (v << 6) | (uint32_t) x;
                n_sextets++;
                if (n_sextets % 4 == 0) {
                        data[size++] = v >> 16;
                        data[size++] = v >> 8;
                        data[size++] = v;
                        v = 0;
                }
        }

        /* A lone sextet cannot be a byte; padding, when present, must complete the last quantum. */
        if (n_sextets % 4 == 1 || (n_padding > 0 && (n_sextets + n_padding) % 4 != 0) || n_padding > 2)
                goto invalid;

        if (n_sextets % 4 == 2)
                data[size++] = v >> 4;
        else if (n_sextets % 4 == 3) {
                data[size++] = v >> 10;
                data[size++] = v >> 2;
        }

        *ret = (Buffer) { .data = data, .size = size };
        return 0;

invalid:
        explicit_bzero(data, size);
        free(data);
        return -EINVAL;
}

char *format_timestamp(char buf[static TIMESTAMP_MAX], uint64_t usec) {
        time_t sec = (time_t) (usec / 1000000);
        unsigned frac = (unsigned) (usec % 1000000);
        struct tm tm;
        size_t n;

        if (!gmtime_r(&sec, &tm))
                return NULL;
        n = strftime(buf, TIMESTAMP_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
        if (n == 0)
                return NULL;
        if (frac > 0)
                snprintf(buf + n, TIMESTAMP_MAX - n, ".%06u+00:00", frac);
        else
                snprintf(buf + n, TIMESTAMP_MAX - n, "+00:00");
        return buf;
}

int parse_tag_shorthand(const char *s, char **ret_key, char **ret_value, const char **ret_problem) {
        _cleanup_free_ char *key = NULL, *value = NULL, *buf = NULL;
        const char *p = s;

        buf = malloc(strlen(s) + 1);
        if (!buf)
                return -ENOMEM;

        while (*p) {
                const char *eq = strchr(p, '=');
                char **target;
                size_t n = 0;

                if (!eq) {
                        *ret_problem = "expected TagKey=K,TagValue=V";
                        return -EINVAL;
                }
                if ((size_t) (eq - p) == strlen("TagKey") && strncmp(p, "TagKey", eq - p) == 0)
                        target = &key;
                else if ((size_t) (eq - p) == strlen("TagValue") && strncmp(p, "TagValue", eq - p) == 0)
                        target = &value;
                else {
                        *ret_problem = "unknown member, expected TagKey or TagValue";
                        return -EINVAL;
                }
                if (*target) {
                        *ret_problem = "TagKey or TagValue given twice";
                        return -EINVAL;
                }

                /* The value runs to the next unescaped comma. */
                for (p = eq + 1; *p && *p != ','; p++) {
                        if (*p == '\\' && (p[1] == ',' || p[1] == '\\'))
                                p++;
                        buf[n++] = *p;
                }
                buf[n] = 0;
                *target = strdup(buf);
                if (!*target)
                        return -ENOMEM;

                if (*p == ',')
                        p++;
        }

        if (!key) {
                *ret_problem = "missing required member TagKey";
                return -EINVAL;
        }
        if (!value) {
                *ret_problem = "missing required member TagValue";
                return -EINVAL;
        }

        *ret_key = TAKE_PTR(key);
        *ret_value = TAKE_PTR(value);
        return 0;
}
