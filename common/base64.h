/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one base64 of the project: both alphabets (RFC 4648 sections 4 and 5), one encoder, one digit
 * table. The decoders that need their own rules build on base64_digit(): paging markers (base64url,
 * strict: daemon/marker.c) and the CLI's blob arguments (standard, as Python decodes them: cli/util.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum Base64Alphabet {
        BASE64_STANDARD,        /* A-Z a-z 0-9 + / */
        BASE64_URL,             /* A-Z a-z 0-9 - _ */
        _BASE64_ALPHABET_MAX,
} Base64Alphabet;

/* The characters n bytes take: padded to a multiple of 4, or without padding. */
size_t base64_length(size_t n, bool pad);
/* Writes the encoding of n bytes and a NUL into out, which holds base64_length(n, pad) + 1 bytes. */
void base64_encode_to(const void *p, size_t n, Base64Alphabet alphabet, bool pad, char *out);
/* The value of one character of the alphabet, -1 for anything else (NUL and '=' included). */
int base64_digit(char c, Base64Alphabet alphabet);
