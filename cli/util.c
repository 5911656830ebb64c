/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Buffers, base64, bounded file reads, timestamps, tag shorthand and message lists for hmacctl. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
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

char *base64_encode(const void *p, size_t n) {
        char *buf = malloc(base64_length(n, true) + 1);

        if (buf)
                base64_encode_to(p, n, BASE64_STANDARD, true, buf);
        return buf;
}

static int base64_value(char c) {
        return base64_digit(c, BASE64_STANDARD);
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

int base64_decode_lenient(const char *s, Buffer *ret) {
        size_t quad = 0, pads = 0, size = 0;
        uint32_t v = 0;
        uint8_t *data;

        data = malloc(strlen(s) / 4 * 3 + 3);
        if (!data)
                return -ENOMEM;

        for (const char *p = s; *p; p++) {
                int x;

                if (*p == '=') {
                        /* binascii.a2b_base64(): padding after two or three sextets ends the input. */
                        if (quad >= 2 && quad + ++pads >= 4) {
                                quad = 0;
                                break;
                        }
                        continue;
                }
                x = base64_value(*p);
                if (x < 0)
                        continue;
                pads = 0;
                v = (v << 6) | (uint32_t) x;
                /* The bits left over after each byte: 6, 4, 2, none. */
                switch (quad) {
                case 1:
                        data[size++] = (uint8_t) (v >> 4);
                        v &= 0xf;
                        break;
                case 2:
                        data[size++] = (uint8_t) (v >> 2);
                        v &= 0x3;
                        break;
                case 3:
                        data[size++] = (uint8_t) v;
                        v = 0;
                        break;
                }
                quad = (quad + 1) % 4;
        }

        if (quad != 0) {
                explicit_bzero(data, size);
                free(data);
                return -EINVAL;
        }

        *ret = (Buffer) { .data = data, .size = size };
        return 0;
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

/* Exactly n decimal digits at *p; moves *p past them. */
static bool parse_digits(const char **p, size_t n, unsigned *ret) {
        unsigned v = 0;

        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return false;
                v = v * 10 + (unsigned) ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

static bool is_leap_year(unsigned y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m) {
        static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* "1767225600" or "1767225600.25": seconds since the epoch, up to the end of year 9999. */
static int parse_epoch(const char *s, uint64_t *ret) {
        uint64_t sec = 0, usec = 0;
        size_t n = strspn(s, "0123456789");

        if (n == 0 || n > 12)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                sec = sec * 10 + (uint64_t) (s[i] - '0');
        s += n;
        if (*s == '.') {
                s++;
                n = strspn(s, "0123456789");
                if (n == 0)
                        return -EINVAL;
                for (size_t i = 0; i < 6; i++)
                        usec = usec * 10 + (i < n ? (uint64_t) (s[i] - '0') : 0);
                s += n;
        }
        if (*s || sec > UINT64_C(253402300799))
                return -EINVAL;

        *ret = sec * 1000000 + usec;
        return 0;
}

int parse_timestamp(const char *s, uint64_t *ret) {
        unsigned year, month, day, hour = 0, minute = 0, second = 0, oh = 0, om = 0;
        const char *p = s;
        int64_t sec, offset = 0;
        uint64_t usec = 0;
        struct tm tm;

        if (!s || !ret)
                return -EINVAL;

        if (s[strspn(s, "0123456789")] == 0 || s[strspn(s, "0123456789")] == '.')
                return parse_epoch(s, ret);

        if (!parse_digits(&p, 4, &year) || *p++ != '-' || !parse_digits(&p, 2, &month) || *p++ != '-' ||
            !parse_digits(&p, 2, &day))
                return -EINVAL;
        if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
                return -EINVAL;

        if (*p == 'T' || *p == 't' || *p == ' ') {
                p++;
                if (!parse_digits(&p, 2, &hour) || *p++ != ':' || !parse_digits(&p, 2, &minute))
                        return -EINVAL;
                if (*p == ':') {
                        p++;
                        if (!parse_digits(&p, 2, &second))
                                return -EINVAL;
                        if (*p == '.' || *p == ',') {
                                size_t n;

                                p++;
                                n = strspn(p, "0123456789");
                                if (n == 0)
                                        return -EINVAL;
                                for (size_t i = 0; i < 6; i++)
                                        usec = usec * 10 + (i < n ? (uint64_t) (p[i] - '0') : 0);
                                p += n;
                        }
                }
                if (hour > 23 || minute > 59 || second > 59)
                        return -EINVAL;

                if (*p == 'Z' || *p == 'z')
                        p++;
                else if (*p == '+' || *p == '-') {
                        int sign = *p++ == '-' ? -1 : 1;

                        if (!parse_digits(&p, 2, &oh))
                                return -EINVAL;
                        if (*p == ':')
                                p++;
                        if (isdigit((unsigned char) *p) && !parse_digits(&p, 2, &om))
                                return -EINVAL;
                        if (oh > 23 || om > 59)
                                return -EINVAL;
                        offset = sign * (int64_t) (oh * 3600 + om * 60);
                }
        }
        if (*p)
                return -EINVAL;

        tm = (struct tm) {
                .tm_year = (int) year - 1900,
                .tm_mon = (int) month - 1,
                .tm_mday = (int) day,
                .tm_hour = (int) hour,
                .tm_min = (int) minute,
                .tm_sec = (int) second,
        };
        /* An offset can carry a time of 1970 or 9999 out of those years in UTC: the same bounds as
         * seconds since the epoch. */
        sec = (int64_t) timegm(&tm) - offset;
        if (sec < 0 || sec > INT64_C(253402300799))
                return -EINVAL;

        *ret = (uint64_t) sec * 1000000 + usec;
        return 0;
}

static const char *const message_format_table[_MESSAGE_FORMAT_MAX] = {
        [MESSAGE_FORMAT_LINES] = "lines",
        [MESSAGE_FORMAT_LENGTH_PREFIXED] = "length-prefixed",
};

const char *message_format_to_string(MessageFormat f) {
        return f >= 0 && f < _MESSAGE_FORMAT_MAX ? message_format_table[f] : NULL;
}

MessageFormat message_format_from_string(const char *s) {
        for (MessageFormat f = 0; s && f < _MESSAGE_FORMAT_MAX; f++)
                if (streq(message_format_table[f], s))
                        return f;
        return _MESSAGE_FORMAT_INVALID;
}

int split_messages(const uint8_t *data, size_t size, MessageFormat format, size_t max,
                   struct iovec **ret_messages, size_t *ret_n, size_t *ret_offset) {
        _cleanup_free_ struct iovec *messages = NULL;
        size_t n = 0, allocated = 0, offset = 0;

        if ((size > 0 && !data) || !ret_messages || !ret_n)
                return -EINVAL;
        if (format != MESSAGE_FORMAT_LINES && format != MESSAGE_FORMAT_LENGTH_PREFIXED)
                return -EINVAL;

        while (offset < size) {
                const uint8_t *start;
                size_t len;

                if (format == MESSAGE_FORMAT_LINES) {
                        const uint8_t *nl = memchr(data + offset, '\n', size - offset);

                        start = data + offset;
                        len = nl ? (size_t) (nl - start) : size - offset;
                        offset += len + (nl ? 1 : 0);
                } else {
                        const uint8_t *h = data + offset;

                        len = size - offset < 4 ? SIZE_MAX :
                                                  (size_t) h[0] << 24 | (size_t) h[1] << 16 |
                                                          (size_t) h[2] << 8 | h[3];
                        if (len == SIZE_MAX || len > size - offset - 4) {
                                if (ret_offset)
                                        *ret_offset = offset;
                                return -EBADMSG;
                        }
                        start = data + offset + 4;
                        offset += 4 + len;
                }

                if (n >= max)
                        return -E2BIG;
                if (n >= allocated) {
                        size_t k = MAX(allocated * 2, (size_t) 64);
                        struct iovec *q = reallocarray(messages, k, sizeof *q);

                        if (!q)
                                return -ENOMEM;
                        messages = q;
                        allocated = k;
                }
                messages[n++] = (struct iovec) { .iov_base = (void *) start, .iov_len = len };
        }

        *ret_messages = TAKE_PTR(messages);
        *ret_n = n;
        return 0;
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
