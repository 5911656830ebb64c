/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The four HMAC key specs as API.md promises them, written out once for every test (independently
 * of the product's own table in common/kms.c). */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>

typedef struct TestKeySpec {
        const char *spec;               /* "HMAC_256" */
        const char *alg;                /* "HMAC_SHA_256" */
        size_t mac_size;                /* the tag's length */
        size_t import_min, import_max;  /* imported material's length window */
        const EVP_MD *(*md)(void);      /* OpenSSL's digest, for reference MACs */
} TestKeySpec;

#define TEST_KEY_SPECS_N 4
extern const TestKeySpec test_key_specs[TEST_KEY_SPECS_N];
