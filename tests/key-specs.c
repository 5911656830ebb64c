/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key specs of API.md, section 3, for the tests. */
#include "key-specs.h"

const TestKeySpec test_key_specs[TEST_KEY_SPECS_N] = {
        { "HMAC_224", "HMAC_SHA_224", 28, 28, 64, EVP_sha224 },
        { "HMAC_256", "HMAC_SHA_256", 32, 32, 64, EVP_sha256 },
        { "HMAC_384", "HMAC_SHA_384", 48, 48, 128, EVP_sha384 },
        { "HMAC_512", "HMAC_SHA_512", 64, 64, 128, EVP_sha512 },
};
