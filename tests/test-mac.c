/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/mac.c: the MacEngine against the RFC 4231 test vectors, verification, and
 * forgetting a key. */

#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "../daemon/mac.h"
#include "macro.h"

/* RFC 4231, section 4. Test case 5 (output truncated to 128 bits) is checked as a prefix below. The
 * expected values were checked on this machine with `openssl mac -digest SHA... -macopt hexkey:... HMAC`. */
typedef struct Rfc4231Case {
        int number;
        const char *key_hex;
        const char *data_hex;           /* or NULL, then data */
        const char *data;
        const char *mac_hex[_KEY_SPEC_MAX];
} Rfc4231Case;

#define KEY_0B_20 "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
#define KEY_AA_20 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DATA_DD_50                                                                                                \
        "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define DATA_CD_50                                                                                                \
        "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
#define KEY_AA_131                                                                                                \
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const Rfc4231Case rfc4231[] = {
        {
                1, KEY_0B_20, NULL, "Hi There",
                {
                        "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
                        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
                        "faea9ea9076ede7f4af152e8b2fa9cb6",
                        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
                },
        },
        {
                2, "4a656665", NULL, "what do ya want for nothing?",
                {
                        "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
                        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                        "8e2240ca5e69e2c78b3239ecfab21649",
                        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
                },
        },
        {
                3, KEY_AA_20, DATA_DD_50, NULL,
                {
                        "7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea",
                        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                        "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
                        "2a5ab39dc13814b94e3ab6e101a34f27",
                        "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
                        "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
                },
        },
        {
                4, "0102030405060708090a0b0c0d0e0f10111213141516171819", DATA_CD_50, NULL,
                {
                        "6c11506874013cac6a2abc1bb382627cec6a90d86efc012de7afec5a",
                        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                        "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
                        "6801dd23c4a7d679ccf8a386c674cffb",
                        "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
                        "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
                },
        },
        {
                5, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", NULL, "Test With Truncation",
                {
                        /* The RFC gives only the first 128 bits. */
                        "0e2aea68a90c8d37c988bcdb9fca6fa8",
                        "a3b6167473100ee06e0c796c2955552b",
                        "3abf34c3503b2a23a46efc619baef897",
                        "415fad6271580a531d4179bc891d87a6",
                },
        },
        {
                6, KEY_AA_131, NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
                {
                        "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
                        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                        "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
                        "0c2ef6ab4030fe8296248df163f44952",
                        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
                        "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
                },
        },
        {
                7, KEY_AA_131, NULL,
                "This is a test using a larger than block-size key and a larger than block-size data. The key "
                "needs to be hashed before being used by the HMAC algorithm.",
                {
                        "3a854166ac5d9f023f54d517d0b39dbd946770db9c2b95c9f6f565d1",
                        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                        "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
                        "a678cc31e799176d3860e6110c46523e",
                        "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
                        "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
                },
        },
};

static const char *const digest_of_spec[_KEY_SPEC_MAX] = {
        [KEY_SPEC_HMAC_224] = "SHA224",
        [KEY_SPEC_HMAC_256] = "SHA256",
        [KEY_SPEC_HMAC_384] = "SHA384",
        [KEY_SPEC_HMAC_512] = "SHA512",
};

static size_t unhex(const char *hex, uint8_t *out, size_t size) {
        size_t n = strlen(hex);

        cr_assert_eq(n % 2, 0, "odd hex string '%s'", hex);
        cr_assert_leq(n / 2, size);
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;
                cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
                out[i] = (uint8_t) v;
        }
        return n / 2;
}

static const char *hex(const uint8_t *p, size_t n) {
        static char buf[2 * 256 + 1];

        for (size_t i = 0; i < n && i < 256; i++)
                snprintf(buf + 2 * i, 3, "%02x", p[i]);
        buf[2 * MIN(n, (size_t) 256)] = 0;
        return buf;
}

/* RFC 2104, section 2: a key longer than the block size is replaced by its hash. The engine takes at most
 * KMS_KEY_MATERIAL_MAX bytes, so test cases 6 and 7 (131-byte keys) give it this equivalent key. */
static size_t hash_key(KeySpec spec, const uint8_t *key, size_t n, uint8_t *out) {
        unsigned len = 0;

        cr_assert_eq(EVP_Digest(key, n, out, &len, EVP_get_digestbyname(digest_of_spec[spec]), NULL), 1);
        cr_assert_eq(len, key_spec_mac_size(spec));
        return len;
}

static MacEngine *engine;

static void engine_setup(void) {
        cr_assert_eq(mac_engine_new(&engine), 0);
        cr_assert_not_null(engine);
}

static void engine_teardown(void) {
        engine = mac_engine_free(engine);
}

TestSuite(mac, .init = engine_setup, .fini = engine_teardown);

Test(mac, rfc4231) {
        for (size_t c = 0; c < ELEMENTSOF(rfc4231); c++) {
                const Rfc4231Case *t = &rfc4231[c];
                uint8_t key[256], data[256], expected[KMS_MAC_SIZE_MAX];
                size_t key_size, data_size;

                key_size = unhex(t->key_hex, key, sizeof key);
                if (t->data_hex)
                        data_size = unhex(t->data_hex, data, sizeof data);
                else {
                        data_size = strlen(t->data);
                        memcpy(data, t->data, data_size);
                }

                for (KeySpec s = 0; s < _KEY_SPEC_MAX; s++) {
                        uint8_t out[KMS_MAC_SIZE_MAX], hashed[KMS_MAC_SIZE_MAX];
                        size_t expected_size = unhex(t->mac_hex[s], expected, sizeof expected), out_size = 0;
                        bool truncated = t->number == 5;

                        if (key_size > KMS_KEY_MATERIAL_MAX) {
                                /* The engine refuses keys longer than any key hmacd holds ... */
                                cr_assert_eq(mac_engine_set_key(engine, s, key, key_size), -EINVAL);
                                /* ... and is given the equivalent key instead. */
                                size_t hashed_size = hash_key(s, key, key_size, hashed);
                                cr_assert_eq(mac_engine_set_key(engine, s, hashed, hashed_size), 0);
                        } else
                                cr_assert_eq(mac_engine_set_key(engine, s, key, key_size), 0);

                        cr_assert_eq(mac_engine_compute(engine, s, data, data_size, out, &out_size), 0);
                        cr_assert_eq(out_size, key_spec_mac_size(s));
                        if (!truncated)
                                cr_assert_eq(expected_size, out_size);
                        cr_assert_eq(memcmp(out, expected, expected_size), 0,
                                     "RFC 4231 test case %d, %s: got %s", t->number, key_spec_mac_algorithm(s),
                                     hex(out, out_size));

                        /* verify() agrees; the truncated tag of case 5 is not a valid tag for hmacd. */
                        cr_assert_eq(mac_engine_verify(engine, s, data, data_size, expected, expected_size),
                                     truncated ? 0 : 1, "test case %d, %s", t->number, key_spec_mac_algorithm(s));
                }
        }
}

Test(mac, long_key_is_hashed) {
        /* HMAC-SHA-224/256 have 64-byte blocks: a key of 65..128 bytes must be hashed first (RFC 2104). */
        uint8_t key[KMS_KEY_MATERIAL_MAX], hashed[KMS_MAC_SIZE_MAX], a[KMS_MAC_SIZE_MAX], b[KMS_MAC_SIZE_MAX];
        const char msg[] = "hmacd";
        size_t a_size, b_size;

        for (size_t i = 0; i < sizeof key; i++)
                key[i] = (uint8_t) (i * 7 + 1);
        for (KeySpec s = KEY_SPEC_HMAC_224; s <= KEY_SPEC_HMAC_256; s++) {
                size_t hashed_size = hash_key(s, key, sizeof key, hashed);

                cr_assert_eq(mac_engine_set_key(engine, s, key, sizeof key), 0);
                cr_assert_eq(mac_engine_compute(engine, s, msg, strlen(msg), a, &a_size), 0);
                cr_assert_eq(mac_engine_set_key(engine, s, hashed, hashed_size), 0);
                cr_assert_eq(mac_engine_compute(engine, s, msg, strlen(msg), b, &b_size), 0);
                cr_assert_eq(a_size, b_size);
                cr_assert_eq(memcmp(a, b, a_size), 0, "%s", key_spec_mac_algorithm(s));
        }
}

Test(mac, set_key_limits) {
        uint8_t key[KMS_KEY_MATERIAL_MAX + 1] = { 1 };

        for (KeySpec s = 0; s < _KEY_SPEC_MAX; s++) {
                cr_assert_eq(mac_engine_set_key(engine, s, key, 0), -EINVAL);
                cr_assert_eq(mac_engine_set_key(engine, s, key, KMS_KEY_MATERIAL_MAX + 1), -EINVAL);
                cr_assert_eq(mac_engine_set_key(engine, s, key, KMS_KEY_MATERIAL_MAX), 0);
                cr_assert_eq(mac_engine_set_key(engine, s, key, 1), 0);
        }
        cr_assert_eq(mac_engine_set_key(engine, _KEY_SPEC_MAX, key, 32), -EINVAL);
        cr_assert_eq(mac_engine_set_key(engine, _KEY_SPEC_INVALID, key, 32), -EINVAL);
        cr_assert_eq(mac_engine_forget(engine, _KEY_SPEC_MAX), -EINVAL);
        cr_assert_eq(mac_engine_forget(engine, _KEY_SPEC_INVALID), -EINVAL);
}

Test(mac, compute_resets_between_messages) {
        /* Test case 2 after other messages: no state of an earlier message may leak into the next. */
        static const char jefe[] = "Jefe", data[] = "what do ya want for nothing?";
        uint8_t expected[KMS_MAC_SIZE_MAX], out[KMS_MAC_SIZE_MAX], first[KMS_MAC_SIZE_MAX];
        size_t n, out_size, first_size;

        for (KeySpec s = 0; s < _KEY_SPEC_MAX; s++) {
                n = unhex(rfc4231[1].mac_hex[s], expected, sizeof expected);
                cr_assert_eq(mac_engine_set_key(engine, s, (const uint8_t *) jefe, strlen(jefe)), 0);

                cr_assert_eq(mac_engine_compute(engine, s, data, strlen(data), first, &first_size), 0);
                for (int i = 0; i < 3; i++) {
                        cr_assert_eq(mac_engine_compute(engine, s, "something else", 14, out, &out_size), 0);
                        cr_assert_eq(mac_engine_compute(engine, s, data, strlen(data), out, &out_size), 0);
                        cr_assert_eq(out_size, n);
                        cr_assert_eq(memcmp(out, expected, n), 0, "%s, round %d", key_spec_mac_algorithm(s), i);
                }
                cr_assert_eq(memcmp(first, expected, n), 0);
        }
}

Test(mac, specs_are_independent) {
        /* Each spec has its own context: keying one does not change another. */
        static const char jefe[] = "Jefe", data[] = "what do ya want for nothing?";
        uint8_t k1[20], expected256[32], out[KMS_MAC_SIZE_MAX];
        size_t out_size;

        memset(k1, 0x0b, sizeof k1);
        unhex(rfc4231[1].mac_hex[KEY_SPEC_HMAC_256], expected256, sizeof expected256);

        cr_assert_eq(mac_engine_set_key(engine, KEY_SPEC_HMAC_256, (const uint8_t *) jefe, 4), 0);
        for (KeySpec s = 0; s < _KEY_SPEC_MAX; s++)
                if (s != KEY_SPEC_HMAC_256) {
                        cr_assert_eq(mac_engine_set_key(engine, s, k1, sizeof k1), 0);
                        cr_assert_eq(mac_engine_forget(engine, s), 0);
                }
        cr_assert_eq(mac_engine_compute(engine, KEY_SPEC_HMAC_256, data, strlen(data), out, &out_size), 0);
        cr_assert_eq(out_size, 32);
        cr_assert_eq(memcmp(out, expected256, 32), 0);
}

Test(mac, verify) {
        static const char data[] = "what do ya want for nothing?";
        uint8_t tag[KMS_MAC_SIZE_MAX + 1], bad[KMS_MAC_SIZE_MAX + 1];
        size_t n;

        for (KeySpec s = 0; s < _KEY_SPEC_MAX; s++) {
                n = unhex(rfc4231[1].mac_hex[s], tag, sizeof tag);
                cr_assert_eq(mac_engine_set_key(engine, s, (const uint8_t *) "Jefe", 4), 0);

                cr_assert_eq(mac_engine_verify(engine, s, data, strlen(data), tag, n), 1);

                /* Every single flipped bit is refused. */
                for (size_t i = 0; i < n; i++)
                        for (int bit = 0; bit < 8; bit++) {
                                memcpy(bad, tag, n);
                                bad[i] ^= (uint8_t) (1u << bit);
                                cr_assert_eq(mac_engine_verify(engine, s, data, strlen(data), bad, n), 0,
                                             "%s: bit %d of byte %zu", key_spec_mac_algorithm(s), bit, i);
                        }

                /* Truncated tags, down to nothing, are refused. */
                for (size_t len = 0; len < n; len++)
                        cr_assert_eq(mac_engine_verify(engine, s, data, strlen(data), tag, len), 0,
                                     "%s: %zu-byte prefix accepted", key_spec_mac_algorithm(s), len);

                /* So is the right tag with a byte more. */
                memcpy(bad, tag, n);
                bad[n] = 0;
                cr_assert_eq(mac_engine_verify(engine, s, data, strlen(data), bad, n + 1), 0);

                /* The right tag for another message is refused. */
                cr_assert_eq(mac_engine_verify(engine, s, data, strlen(data) - 1, tag, n), 0);

                /* And the engine still accepts the right one after all that. */
                cr_assert_eq(mac_engine_verify(engine, s, data, strlen(data), tag, n), 1);
        }
}

Test(mac, verify_tag_of_other_spec) {
        /* A 64-byte HMAC-SHA-512 tag whose first 32 bytes are the HMAC-SHA-256 tag is not a SHA-256 tag. */
        static const char data[] = "what do ya want for nothing?";
        uint8_t tag256[32], tag512[64];

        unhex(rfc4231[1].mac_hex[KEY_SPEC_HMAC_256], tag256, sizeof tag256);
        unhex(rfc4231[1].mac_hex[KEY_SPEC_HMAC_512], tag512, sizeof tag512);
        cr_assert_eq(mac_engine_set_key(engine, KEY_SPEC_HMAC_256, (const uint8_t *) "Jefe", 4), 0);
        cr_assert_eq(mac_engine_set_key(engine, KEY_SPEC_HMAC_512, (const uint8_t *) "Jefe", 4), 0);

        cr_assert_eq(mac_engine_verify(engine, KEY_SPEC_HMAC_256, data, strlen(data), tag512, 64), 0);
        memcpy(tag512, tag256, 32);
        cr_assert_eq(mac_engine_verify(engine, KEY_SPEC_HMAC_256, data, strlen(data), tag512, 64), 0);
        cr_assert_eq(mac_engine_verify(engine, KEY_SPEC_HMAC_512, data, strlen(data), tag256, 32), 0);
        cr_assert_eq(mac_engine_verify(engine, KEY_SPEC_HMAC_256, data, strlen(data), tag256, 32), 1);
}

Test(mac, forget) {
        static const char data[] = "what do ya want for nothing?";

        for (KeySpec s = 0; s < _KEY_SPEC_MAX; s++) {
                uint8_t real[KMS_MAC_SIZE_MAX], after[KMS_MAC_SIZE_MAX], again[KMS_MAC_SIZE_MAX];
                size_t real_size, after_size, again_size;

                cr_assert_eq(mac_engine_set_key(engine, s, (const uint8_t *) "Jefe", 4), 0);
                cr_assert_eq(mac_engine_compute(engine, s, data, strlen(data), real, &real_size), 0);

                cr_assert_eq(mac_engine_forget(engine, s), 0);
                /* Whatever the engine computes now, it is not the MAC under the real key. */
                if (mac_engine_compute(engine, s, data, strlen(data), after, &after_size) == 0) {
                        cr_assert_eq(after_size, real_size);
                        cr_assert_neq(memcmp(after, real, real_size), 0,
                                      "%s: key still in use after mac_engine_forget()", key_spec_mac_algorithm(s));
                }
                cr_assert_eq(mac_engine_verify(engine, s, data, strlen(data), real, real_size) == 1, false,
                             "%s: tag under the forgotten key still verifies", key_spec_mac_algorithm(s));

                /* Forgetting is not breaking: the engine takes a key again. */
                cr_assert_eq(mac_engine_set_key(engine, s, (const uint8_t *) "Jefe", 4), 0);
                cr_assert_eq(mac_engine_compute(engine, s, data, strlen(data), again, &again_size), 0);
                cr_assert_eq(again_size, real_size);
                cr_assert_eq(memcmp(again, real, real_size), 0);
        }
}

Test(mac, backend) {
        const char *b = mac_engine_backend(engine);

        cr_assert_not_null(b);
        cr_assert_eq(strncmp(b, "keyring-user+openssl", strlen("keyring-user+openssl")), 0, "backend '%s'", b);
}

Test(mac, invalid_spec) {
        uint8_t out[KMS_MAC_SIZE_MAX];
        size_t n;

        cr_assert_eq(mac_engine_compute(engine, _KEY_SPEC_MAX, "x", 1, out, &n), -EINVAL);
        cr_assert_eq(mac_engine_compute(engine, _KEY_SPEC_INVALID, "x", 1, out, &n), -EINVAL);
        cr_assert_eq(mac_engine_verify(engine, _KEY_SPEC_MAX, "x", 1, out, 32), -EINVAL);
}
