/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Paging markers: opaque to clients, "<base64url of the position><8 hex digits of a check>". A
 * marker with any character changed is refused (InvalidMarkerException). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kms.h"

/* Up to this many bytes of position (an alias name or a tag key at most 256 bytes, or a seq). */
#define MARKER_DATA_MAX 512
#define MARKER_STRING_MAX ((MARKER_DATA_MAX + 2) / 3 * 4 + 8 + 1)

/* The length of the marker of n bytes, without its terminating NUL. */
size_t marker_length(size_t n);
int marker_encode(const void *data, size_t n, char *out, size_t size);
/* Returns the number of bytes decoded into out, or -EINVAL. */
int marker_decode(const char *marker, void *out, size_t size);

int marker_encode_seq(int64_t seq, char *out, size_t size);
int marker_decode_seq(const char *marker, int64_t *ret);
