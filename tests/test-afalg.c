/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/afalg.c: HMACs computed by the kernel (AF_ALG hash sockets keyed by the serial
 * of a `logon` key), checked against RFC 4231 and OpenSSL. Every test joins a new anonymous session
 * keyring of its own first, so nothing is added to the keyrings of whoever runs the tests.
 *
 * On a kernel without AF_ALG or ALG_SET_KEY_BY_KEY_SERIAL (Linux < 6.2, CONFIG_CRYPTO_USER_API_HASH
 * off: this development machine) every test skips and says why. HMACD_TEST_REQUIRE_AFALG=1 (the VM
 * runner, `make check-kernel`, sets it) turns that skip into a failure. */

#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../daemon/afalg.h"
#include "kms.h"
#include "macro.h"

static void afalg_or_skip(void) {
        const char *step = NULL, *require = getenv("HMACD_TEST_REQUIRE_AFALG");
        key_serial_t s;
        int r;

        s = keyctl_join_session_keyring(NULL);
        if (s < 0 && (errno == ENOSYS || errno == EPERM || errno == EACCES || errno == EOPNOTSUPP)) {
                cr_assert(!require || !streq(require, "1"), "no kernel keyring: %m");
                cr_skip_test("the kernel keyring is not available here (keyctl_join_session_keyring: %m)");
        }
        cr_assert_gt(s, 0, "keyctl_join_session_keyring: %m");

        r = afalg_probe(&step);
        if (r < 0 && require && streq(require, "1"))
                cr_assert_fail("AF_ALG keyed by key serial is required here, but %s failed: %s", step,
                               strerror(-r));
        if (r < 0)
                cr_skip_test("this kernel cannot compute HMACs through AF_ALG keyed by a key serial "
                             "(Linux 6.2+ with CONFIG_CRYPTO_USER_API_HASH): %s failed: %s",
                             step, strerror(-r));
}

static const EVP_MD *spec_md(KeySpec spec) {
        switch (spec) {
        case KEY_SPEC_HMAC_224:
                return EVP_sha224();
        case KEY_SPEC_HMAC_256:
                return EVP_sha256();
        case KEY_SPEC_HMAC_384:
                return EVP_sha384();
        case KEY_SPEC_HMAC_512:
                return EVP_sha512();
        default:
                return NULL;
        }
}

static size_t unhex(const char *hex, uint8_t *out, size_t size) {
        size_t n = strlen(hex) / 2;

        cr_assert_leq(n, size);
        for (size_t i = 0; i < n; i++)
                cr_assert_eq(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
        return n;
}

/* The kernel's MAC of msg under a fresh logon key holding key. */
static void kernel_mac(KeySpec spec, const uint8_t *key, size_t key_size, const void *msg, size_t n,
                       uint8_t *ret_mac) {
        _cleanup_close_ int tfm = -1, op = -1;
        key_serial_t serial = 0;
        int r;

        r = afalg_add_logon_key(KEY_SPEC_SESSION_KEYRING, "test", key, key_size, &serial);
        cr_assert_eq(r, 0, "afalg_add_logon_key(%zu bytes): %s", key_size, strerror(-r));
        r = afalg_open_keyed(spec, serial, &tfm);
        cr_assert_eq(r, 0, "afalg_open_keyed(%s): %s", afalg_hmac_name(spec), strerror(-r));
        r = afalg_accept(tfm, &op);
        cr_assert_eq(r, 0, "afalg_accept: %s", strerror(-r));
        r = afalg_mac(op, msg, n, ret_mac, key_spec_mac_size(spec));
        cr_assert_eq(r, 0, "afalg_mac: %s", strerror(-r));
        cr_assert_eq(keyctl_invalidate(serial), 0, "keyctl_invalidate: %m");
}

/* ---- RFC 4231, section 4: test cases 1-7, every hash ---- */

typedef struct Rfc4231Case {
        const char *key_hex; /* NULL: key_byte repeated key_size times */
        uint8_t key_byte;
        size_t key_size;
        const char *data_text;
        uint8_t data_byte;
        size_t data_size;
        size_t truncate; /* compare only the first bytes (test case 5), 0: all */
        const char *mac_hex[_KEY_SPEC_MAX];
} Rfc4231Case;

static const Rfc4231Case rfc4231[] = {
        { .key_byte = 0x0b,
          .key_size = 20,
          .data_text = "Hi There",
          .mac_hex = { "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                       "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
                       "faea9ea9076ede7f4af152e8b2fa9cb6",
                       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                       "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" } },
        { .key_hex = "4a656665",
          .data_text = "what do ya want for nothing?",
          .mac_hex = { "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                       "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                       "8e2240ca5e69e2c78b3239ecfab21649",
                       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                       "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" } },
        { .key_byte = 0xaa,
          .key_size = 20,
          .data_byte = 0xdd,
          .data_size = 50,
          .mac_hex = { "7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea",
                       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                       "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
                       "2a5ab39dc13814b94e3ab6e101a34f27",
                       "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
                       "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" } },
        { .key_hex = "0102030405060708090a0b0c0d0e0f10111213141516171819",
          .data_byte = 0xcd,
          .data_size = 50,
          .mac_hex = { "6c11506874013cac6a2abc1bb382627cec6a90d86efc012de7afec5a",
                       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                       "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
                       "6801dd23c4a7d679ccf8a386c674cffb",
                       "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
                       "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" } },
        { .key_byte = 0x0c,
          .key_size = 20,
          .data_text = "Test With Truncation",
          .truncate = 16,
          .mac_hex = { "0e2aea68a90c8d37c988bcdb9fca6fa8", "a3b6167473100ee06e0c796c2955552b",
                       "3abf34c3503b2a23a46efc619baef897", "415fad6271580a531d4179bc891d87a6" } },
        /* Test cases 6 and 7: a 131-byte key, longer than any block; the kernel hashes it first. It is
         * also longer than hmacd's largest key material (128 bytes), so afalg_add_logon_key() refuses it:
         * these two go through a logon key added directly. */
        { .key_byte = 0xaa,
          .key_size = 131,
          .data_text = "Test Using Larger Than Block-Size Key - Hash Key First",
          .mac_hex = { "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                       "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
                       "0c2ef6ab4030fe8296248df163f44952",
                       "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
                       "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" } },
        { .key_byte = 0xaa,
          .key_size = 131,
          .data_text =
                  "This is a test using a larger than block-size key and a larger than block-size data. "
                  "The key needs to be hashed before being used by the HMAC algorithm.",
          .mac_hex = { "3a854166ac5d9f023f54d517d0b39dbd946770db9c2b95c9f6f565d1",
                       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                       "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
                       "a678cc31e799176d3860e6110c46523e",
                       "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
                       "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" } },
};

Test(afalg, rfc4231_vectors) {
        afalg_or_skip();

        for (size_t c = 0; c < ELEMENTSOF(rfc4231); c++) {
                const Rfc4231Case *t = &rfc4231[c];
                uint8_t key[256], data[256], mac[KMS_MAC_SIZE_MAX], expected[KMS_MAC_SIZE_MAX];
                size_t key_size, data_size;

                if (t->key_hex)
                        key_size = unhex(t->key_hex, key, sizeof key);
                else {
                        key_size = t->key_size;
                        memset(key, t->key_byte, key_size);
                }
                if (t->data_text) {
                        data_size = strlen(t->data_text);
                        memcpy(data, t->data_text, data_size);
                } else {
                        data_size = t->data_size;
                        memset(data, t->data_byte, data_size);
                }

                for (KeySpec spec = 0; spec < _KEY_SPEC_MAX; spec++) {
                        size_t n = unhex(t->mac_hex[spec], expected, sizeof expected);
                        size_t mac_size = key_spec_mac_size(spec);

                        cr_assert_eq(n, t->truncate ?: mac_size);
                        if (key_size <= KMS_KEY_MATERIAL_MAX)
                                kernel_mac(spec, key, key_size, data, data_size, mac);
                        else {
                                _cleanup_close_ int tfm = -1, op = -1;
                                key_serial_t s = add_key("logon", "hmacd:rfc4231", key, key_size,
                                                         KEY_SPEC_SESSION_KEYRING);

                                cr_assert_gt(s, 0, "add_key(logon, %zu bytes): %m", key_size);
                                cr_assert_eq(afalg_open_keyed(spec, s, &tfm), 0);
                                cr_assert_eq(afalg_accept(tfm, &op), 0);
                                cr_assert_eq(afalg_mac(op, data, data_size, mac, mac_size), 0);
                                keyctl_invalidate(s);
                        }
                        cr_assert_eq(memcmp(mac, expected, n), 0, "RFC 4231 test case %zu, %s: wrong MAC",
                                     c + 1, afalg_hmac_name(spec));
                }
        }
}

/* ---- random keys of every length, random messages, against OpenSSL ---- */

Test(afalg, random_keys_match_openssl) {
        afalg_or_skip();

        for (KeySpec spec = 0; spec < _KEY_SPEC_MAX; spec++) {
                size_t mac_size = key_spec_mac_size(spec);

                for (size_t key_size = 1; key_size <= KMS_KEY_MATERIAL_MAX; key_size++) {
                        uint8_t key[KMS_KEY_MATERIAL_MAX], msg[KMS_MESSAGE_MAX], mac[KMS_MAC_SIZE_MAX],
                                expected[KMS_MAC_SIZE_MAX];
                        unsigned expected_size = 0;
                        uint16_t r16;
                        size_t n;

                        cr_assert_eq(getrandom(key, key_size, 0), (ssize_t) key_size);
                        cr_assert_eq(getrandom(&r16, sizeof r16, 0), (ssize_t) sizeof r16);
                        n = r16 % (KMS_MESSAGE_MAX + 1);
                        cr_assert_eq(getrandom(msg, n, 0), (ssize_t) n);

                        kernel_mac(spec, key, key_size, msg, n, mac);
                        cr_assert_not_null(
                                HMAC(spec_md(spec), key, (int) key_size, msg, n, expected, &expected_size));
                        cr_assert_eq(expected_size, mac_size);
                        cr_assert_eq(memcmp(mac, expected, mac_size), 0,
                                     "%s, %zu-byte key, %zu-byte message", afalg_hmac_name(spec), key_size,
                                     n);
                }
        }
}

/* Messages of every size class on one operation socket, including empty and larger than one send(). */
Test(afalg, one_socket_many_messages) {
        static uint8_t msg[200 * 1024];
        static const size_t sizes[] = { 0, 1, 63, 64, 65, 4096, 65535, 65536, 65537, sizeof msg };
        _cleanup_close_ int tfm = -1, op = -1;
        uint8_t key[32], mac[32], expected[32];
        key_serial_t s = 0;
        unsigned len = 0;

        afalg_or_skip();
        cr_assert_eq(getrandom(key, sizeof key, 0), (ssize_t) sizeof key);
        for (size_t i = 0; i < sizeof msg; i++)
                msg[i] = (uint8_t) (i * 13 + 7);
        cr_assert_eq(afalg_add_logon_key(KEY_SPEC_SESSION_KEYRING, "many", key, sizeof key, &s), 0);
        cr_assert_eq(afalg_open_keyed(KEY_SPEC_HMAC_256, s, &tfm), 0);
        cr_assert_eq(afalg_accept(tfm, &op), 0);

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                cr_assert_eq(afalg_mac(op, msg, sizes[i], mac, sizeof mac), 0, "%zu bytes", sizes[i]);
                cr_assert_not_null(HMAC(EVP_sha256(), key, sizeof key, msg, sizes[i], expected, &len));
                cr_assert_eq(memcmp(mac, expected, sizeof mac), 0, "%zu-byte message", sizes[i]);
        }
}

/* ---- what a logon key keeps from user space ---- */

Test(afalg, logon_key_cannot_be_read) {
        uint8_t key[32], buf[256];
        key_serial_t s = 0;
        long n;

        afalg_or_skip();
        cr_assert_eq(getrandom(key, sizeof key, 0), (ssize_t) sizeof key);
        cr_assert_eq(afalg_add_logon_key(KEY_SPEC_SESSION_KEYRING, "secret", key, sizeof key, &s), 0);

        n = keyctl_read(s, (char *) buf, sizeof buf);
        cr_assert_eq(n, -1, "KEYCTL_READ of a logon key returned %ld bytes", n);
        cr_assert_eq(errno, EOPNOTSUPP, "KEYCTL_READ of a logon key: %m, expected EOPNOTSUPP");
}

Test(afalg, logon_description_needs_prefix) {
        key_serial_t s;

        afalg_or_skip();
        s = add_key("logon", "noprefix", "x", 1, KEY_SPEC_SESSION_KEYRING);
        cr_assert_eq(s, -1);
        cr_assert_eq(errno, EINVAL, "add_key(logon, \"noprefix\"): %m");
        cr_assert_eq(afalg_add_logon_key(KEY_SPEC_SESSION_KEYRING, "", "x", 1, &s), -EINVAL);
        cr_assert_eq(afalg_add_logon_key(KEY_SPEC_SESSION_KEYRING, "k", "x", 0, &s), -EINVAL);
        cr_assert_eq(afalg_add_logon_key(KEY_SPEC_SESSION_KEYRING, "k", "x", KMS_KEY_MATERIAL_MAX + 1, &s),
                     -EINVAL);
}

/* The kernel copies the key at setsockopt(): after invalidation, sockets keyed before keep computing
 * (which is why the daemon must close them itself when it deletes a key), and a new keying fails. */
Test(afalg, invalidated_key_cannot_key_a_socket) {
        _cleanup_close_ int tfm = -1, op = -1, tfm2 = -1;
        uint8_t key[48], mac[48], expected[48];
        key_serial_t s = 0;
        unsigned len = 0;
        int r;

        afalg_or_skip();
        cr_assert_eq(getrandom(key, sizeof key, 0), (ssize_t) sizeof key);
        cr_assert_eq(afalg_add_logon_key(KEY_SPEC_SESSION_KEYRING, "gone", key, sizeof key, &s), 0);
        cr_assert_eq(afalg_open_keyed(KEY_SPEC_HMAC_384, s, &tfm), 0);
        cr_assert_eq(afalg_accept(tfm, &op), 0);

        cr_assert_eq(keyctl_invalidate(s), 0, "keyctl_invalidate: %m");

        r = afalg_open_keyed(KEY_SPEC_HMAC_384, s, &tfm2);
        cr_assert(r == -ENOKEY || r == -EKEYREVOKED, "keying from an invalidated key: %s", strerror(-r));
        cr_assert_eq(tfm2, -1);

        cr_assert_eq(afalg_mac(op, "abc", 3, mac, sizeof mac), 0);
        cr_assert_not_null(HMAC(EVP_sha384(), key, sizeof key, (const uint8_t *) "abc", 3, expected, &len));
        cr_assert_eq(memcmp(mac, expected, sizeof mac), 0);
}

Test(afalg, bad_arguments) {
        uint8_t mac[64];
        int fd = -1;

        afalg_or_skip();
        cr_assert_null(afalg_hmac_name(_KEY_SPEC_MAX));
        cr_assert_str_eq(afalg_hmac_name(KEY_SPEC_HMAC_512), "hmac(sha512)");
        cr_assert_eq(afalg_open_keyed(_KEY_SPEC_INVALID, 1, &fd), -EINVAL);
        cr_assert_eq(afalg_open_keyed(KEY_SPEC_HMAC_256, 0, &fd), -EINVAL);
        cr_assert_eq(afalg_mac(-1, "x", 1, mac, 32), -EINVAL);
        cr_assert_eq(afalg_mac(0, "x", 1, mac, KMS_MAC_SIZE_MAX + 1), -EINVAL);
        cr_assert_eq(fd, -1);
}
