/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacctl helpers: byte buffers that are wiped when freed, base64, bounded file reads, timestamps,
 * the aws "shorthand" syntax of --tags and the message lists of generate-mac-batch. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

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
/* As Python's base64.b64decode() without validate, which the aws CLI uses for blob arguments: characters
 * outside the alphabet are skipped, padding is required, and decoding stops at the padding that ends a
 * quantum. -EINVAL when what is left is not whole base64. */
int base64_decode_lenient(const char *s, Buffer *ret);

#define TIMESTAMP_MAX 64
/* ISO 8601 in UTC as the aws CLI prints times: "2026-11-22T10:00:00.123000+00:00" (no fraction when it
 * is zero, as Python's isoformat()). */
char *format_timestamp(char buf[static TIMESTAMP_MAX], uint64_t usec);
/* Parses a timestamp as the aws CLI takes one: seconds since the epoch ("1767225600", "1767225600.5")
 * or ISO 8601 ("2026-01-01", "2026-01-01T00:00", "2026-01-01T00:00:00.123Z", "2026-01-01 01:00:00+01:00",
 * offsets as +HH:MM, +HHMM or +HH); without an offset the time is UTC, as botocore takes it. Years
 * 1970 to 9999. Returns microseconds since the epoch in *ret, or -EINVAL. */
int parse_timestamp(const char *s, uint64_t *ret);

/* Parses one "TagKey=K,TagValue=V" (either order; "\," and "\\" escape inside values). Returns 0, or
 * -EINVAL with *ret_problem saying what is wrong. */
int parse_tag_shorthand(const char *s, char **ret_key, char **ret_value, const char **ret_problem);

typedef enum MessageFormat {
        MESSAGE_FORMAT_LINES,           /* one message per line, without its '\n' */
        MESSAGE_FORMAT_LENGTH_PREFIXED, /* each message after its length, 4 bytes big-endian */
        _MESSAGE_FORMAT_MAX,
        _MESSAGE_FORMAT_INVALID = -22,
} MessageFormat;

const char *message_format_to_string(MessageFormat f);
MessageFormat message_format_from_string(const char *s);

/* Splits data into messages, pointing into data (nothing is copied); *ret_messages is malloc()ed
 * (free() it), and NULL with *ret_n 0 when data holds none. In the lines format a last line without
 * '\n' is a message too, and an empty line an empty message. -EBADMSG when a length-prefixed record
 * runs past the end (*ret_offset then says where it starts), -E2BIG for more than max messages. */
int split_messages(const uint8_t *data, size_t size, MessageFormat format, size_t max,
                   struct iovec **ret_messages, size_t *ret_n, size_t *ret_offset);
