/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacctl helpers: byte buffers that are wiped when freed, base64, bounded file reads, timestamps
 * and the aws "shorthand" syntax of --tags. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* fileb:// and file:// parameters: more than this is refused (messages are at most 4096 bytes and
 * MACs at most 6144, so this only keeps a wrong path like fileb:///dev/zero from eating memory). */
#define PARAM_FILE_MAX (1024u * 1024u)

typedef struct Buffer {
        uint8_t *data;
        size_t size;
} Buffer;

/* Wipes and frees the contents; the Buffer is empty afterwards. */
void buffer_done(Buffer *b);

/* Reads a whole file ("-" is standard input) into ret, refusing more than max bytes with -EFBIG. */
int read_file_bounded(const char *path, size_t max, Buffer *ret);

char *base64_encode(const void *p, size_t n);
/* Standard alphabet, padding optional, ASCII white space ignored; -EINVAL for anything else. */
int base64_decode(const char *s, Buffer *ret);

#define TIMESTAMP_MAX 64
/* ISO 8601 in UTC as the aws CLI prints times: "2026-11-22T10:00:00.123000+00:00" (no fraction when it
 * is zero, as Python's isoformat()). */
char *format_timestamp(char buf[static TIMESTAMP_MAX], uint64_t usec);

/* Parses one "TagKey=K,TagValue=V" (either order; "\," and "\\" escape inside values). Returns 0, or
 * -EINVAL with *ret_problem saying what is wrong. */
int parse_tag_shorthand(const char *s, char **ret_key, char **ret_value, const char **ret_problem);
