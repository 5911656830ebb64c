/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The MAC engine: RFC 2104 HMAC with OpenSSL, one prepared context per key spec so that the hot
 * path neither fetches algorithms nor allocates. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kms.h"

typedef struct MacEngine MacEngine;

int mac_engine_new(MacEngine **ret);
MacEngine *mac_engine_free(MacEngine *e);

/* Keys the engine for one spec; then mac_engine_compute() may run any number of times. */
int mac_engine_set_key(MacEngine *e, KeySpec spec, const uint8_t *key, size_t key_size);
int mac_engine_compute(MacEngine *e, KeySpec spec, const void *message, size_t n,
                       uint8_t out[static KMS_MAC_SIZE_MAX], size_t *ret_size);

/* Replaces the key state of the spec's context, so that no key-derived state outlives the call. */
int mac_engine_forget(MacEngine *e, KeySpec spec);

/* Constant-time comparison of a candidate tag with the computed one; a wrong length is no match. */
int mac_engine_verify(MacEngine *e, KeySpec spec, const void *message, size_t n, const void *mac, size_t mac_size);

/* Which engine is in use, for the Backend property. */
const char *mac_engine_backend(const MacEngine *e);
