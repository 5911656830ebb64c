/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/seal.c: AES-256-GCM sealing of key material with associated data. */

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "macro.h"
#include "../daemon/seal.h"

static const char aad[] = "1234abcd-12ab-44cd-96ef-1234567890ab/HMAC_256";

static void random_bytes(void *p, size_t n) {
        cr_assert_eq(getrandom(p, n, 0), (ssize_t) n);
}

/* Unseals into a buffer pre-filled with a marker and checks that a failure leaves no plaintext there. */
static int unseal_checked(const uint8_t kek[static KEK_SIZE], const void *a, size_t a_size, const uint8_t *blob,
                          size_t n, const uint8_t *plaintext, size_t pt_size) {
        static uint8_t out[SEAL_PLAINTEXT_MAX + SEAL_OVERHEAD];
        size_t size = 12345;
        int r;

        memset(out, 0x5a, sizeof out);
        r = unseal(kek, a, a_size, blob, n, out, &size);
        if (r < 0) {
                cr_assert_eq(size, 12345, "size set on failure");
                if (pt_size > 0)
                        cr_assert_neq(memcmp(out, plaintext, pt_size), 0, "plaintext left in the output");
        } else {
                cr_assert_eq(size, pt_size);
                cr_assert_eq(memcmp(out, plaintext, pt_size), 0);
        }
        return r;
}

Test(seal, round_trip) {
        static const size_t sizes[] = { 1, 28, 32, 48, 64, 128, 1000, SEAL_PLAINTEXT_MAX };
        static uint8_t pt[SEAL_PLAINTEXT_MAX], blob[SEAL_PLAINTEXT_MAX + SEAL_OVERHEAD],
                out[SEAL_PLAINTEXT_MAX + SEAL_OVERHEAD];
        uint8_t kek[KEK_SIZE];

        random_bytes(kek, sizeof kek);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                size_t n = sizes[i], blob_size = 0, out_size = 0;

                random_bytes(pt, n);
                cr_assert_eq(seal(kek, aad, strlen(aad), pt, n, blob, &blob_size), 0, "n=%zu", n);
                cr_assert_eq(blob_size, n + SEAL_OVERHEAD);
                cr_assert_eq(blob[0], SEAL_VERSION);
                /* The plaintext is not in the blob in the clear. */
                if (n >= 16)
                        cr_assert_null(memmem(blob, blob_size, pt, 16), "n=%zu", n);

                memset(out, 0, sizeof out);
                cr_assert_eq(unseal(kek, aad, strlen(aad), blob, blob_size, out, &out_size), 0, "n=%zu", n);
                cr_assert_eq(out_size, n);
                cr_assert_eq(memcmp(out, pt, n), 0, "n=%zu", n);
        }
}

Test(seal, round_trip_without_aad) {
        uint8_t kek[KEK_SIZE], pt[32], blob[32 + SEAL_OVERHEAD];
        size_t blob_size;

        random_bytes(kek, sizeof kek);
        random_bytes(pt, sizeof pt);
        cr_assert_eq(seal(kek, NULL, 0, pt, sizeof pt, blob, &blob_size), 0);
        cr_assert_eq(unseal_checked(kek, NULL, 0, blob, blob_size, pt, sizeof pt), 0);
        cr_assert_eq(unseal_checked(kek, "", 0, blob, blob_size, pt, sizeof pt), 0);
        /* Sealed without AAD, unsealed with some: no. */
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), blob, blob_size, pt, sizeof pt), -EBADMSG);
}

Test(seal, tamper_every_byte) {
        uint8_t kek[KEK_SIZE], pt[64], blob[64 + SEAL_OVERHEAD], bad[64 + SEAL_OVERHEAD];
        size_t blob_size;

        random_bytes(kek, sizeof kek);
        random_bytes(pt, sizeof pt);
        cr_assert_eq(seal(kek, aad, strlen(aad), pt, sizeof pt, blob, &blob_size), 0);
        cr_assert_eq(blob_size, sizeof blob);

        /* Version (byte 0), nonce (1..12), ciphertext (13..76), tag (77..92): any flipped bit is noticed. */
        for (size_t i = 0; i < blob_size; i++)
                for (int bit = 0; bit < 8; bit += 3) {
                        memcpy(bad, blob, blob_size);
                        bad[i] ^= (uint8_t) (1u << bit);
                        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), bad, blob_size, pt, sizeof pt), -EBADMSG,
                                     "flipping bit %d of byte %zu went unnoticed", bit, i);
                }

        /* The untouched blob still opens. */
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), blob, blob_size, pt, sizeof pt), 0);
}

Test(seal, tamper_regions) {
        uint8_t kek[KEK_SIZE], pt[32], blob[32 + SEAL_OVERHEAD], bad[32 + SEAL_OVERHEAD],
                longer[32 + SEAL_OVERHEAD + 1];
        const size_t nonce = 1, ct = 1 + SEAL_NONCE_SIZE, tag = 1 + SEAL_NONCE_SIZE + sizeof pt;
        size_t blob_size;

        random_bytes(kek, sizeof kek);
        random_bytes(pt, sizeof pt);
        cr_assert_eq(seal(kek, aad, strlen(aad), pt, sizeof pt, blob, &blob_size), 0);

        /* Another version number. */
        memcpy(bad, blob, blob_size);
        bad[0] = SEAL_VERSION + 1;
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), bad, blob_size, pt, sizeof pt), -EBADMSG);
        bad[0] = 0;
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), bad, blob_size, pt, sizeof pt), -EBADMSG);

        /* Nonce replaced by zeros. */
        memcpy(bad, blob, blob_size);
        memset(bad + nonce, 0, SEAL_NONCE_SIZE);
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), bad, blob_size, pt, sizeof pt), -EBADMSG);

        /* Two ciphertext bytes swapped. */
        memcpy(bad, blob, blob_size);
        bad[ct] = blob[ct + 1];
        bad[ct + 1] = blob[ct];
        if (bad[ct] == blob[ct])
                bad[ct] ^= 0xff;
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), bad, blob_size, pt, sizeof pt), -EBADMSG);

        /* Tag replaced by zeros. */
        memcpy(bad, blob, blob_size);
        memset(bad + tag, 0, SEAL_TAG_SIZE);
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), bad, blob_size, pt, sizeof pt), -EBADMSG);

        /* Cut short by one byte, and by the whole tag; one byte appended. */
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), blob, blob_size - 1, pt, sizeof pt), -EBADMSG);
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), blob, blob_size - SEAL_TAG_SIZE, pt, sizeof pt - SEAL_TAG_SIZE),
                     -EBADMSG);
        memcpy(longer, blob, blob_size);
        longer[blob_size] = 0;
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), longer, blob_size + 1, pt, sizeof pt), -EBADMSG);

        /* The original still opens. */
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), blob, blob_size, pt, sizeof pt), 0);
}

Test(seal, wrong_kek) {
        uint8_t kek[KEK_SIZE], other[KEK_SIZE], pt[48], blob[48 + SEAL_OVERHEAD];
        size_t blob_size;

        random_bytes(kek, sizeof kek);
        random_bytes(pt, sizeof pt);
        cr_assert_eq(seal(kek, aad, strlen(aad), pt, sizeof pt, blob, &blob_size), 0);

        /* A different KEK in every byte position. */
        for (size_t i = 0; i < KEK_SIZE; i++) {
                memcpy(other, kek, KEK_SIZE);
                other[i] ^= 0x01;
                cr_assert_eq(unseal_checked(other, aad, strlen(aad), blob, blob_size, pt, sizeof pt), -EBADMSG,
                             "KEK differing in byte %zu accepted", i);
        }
        memset(other, 0, sizeof other);
        cr_assert_eq(unseal_checked(other, aad, strlen(aad), blob, blob_size, pt, sizeof pt), -EBADMSG);
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), blob, blob_size, pt, sizeof pt), 0);
}

Test(seal, wrong_aad) {
        static const char *const others[] = {
                "1234abcd-12ab-44cd-96ef-1234567890ab/HMAC_512", /* same key ID, other spec */
                "0234abcd-12ab-44cd-96ef-1234567890ab/HMAC_256", /* other key ID */
                "1234abcd-12ab-44cd-96ef-1234567890ab/HMAC_25",  /* a prefix */
                "1234abcd-12ab-44cd-96ef-1234567890ab/HMAC_2566",
                "",
        };
        uint8_t kek[KEK_SIZE], pt[32], blob[32 + SEAL_OVERHEAD];
        size_t blob_size;

        random_bytes(kek, sizeof kek);
        random_bytes(pt, sizeof pt);
        cr_assert_eq(seal(kek, aad, strlen(aad), pt, sizeof pt, blob, &blob_size), 0);

        for (size_t i = 0; i < ELEMENTSOF(others); i++)
                cr_assert_eq(unseal_checked(kek, others[i], strlen(others[i]), blob, blob_size, pt, sizeof pt),
                             -EBADMSG, "AAD '%s' accepted", others[i]);
        cr_assert_eq(unseal_checked(kek, NULL, 0, blob, blob_size, pt, sizeof pt), -EBADMSG);
        /* The AAD includes its terminating NUL or not: that is a different AAD as well. */
        cr_assert_eq(unseal_checked(kek, aad, sizeof aad, blob, blob_size, pt, sizeof pt), -EBADMSG);
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), blob, blob_size, pt, sizeof pt), 0);
}

Test(seal, random_nonce) {
        uint8_t kek[KEK_SIZE], pt[32], a[32 + SEAL_OVERHEAD], b[32 + SEAL_OVERHEAD];
        size_t a_size, b_size;

        random_bytes(kek, sizeof kek);
        memset(pt, 0x42, sizeof pt);
        cr_assert_eq(seal(kek, aad, strlen(aad), pt, sizeof pt, a, &a_size), 0);
        cr_assert_eq(seal(kek, aad, strlen(aad), pt, sizeof pt, b, &b_size), 0);
        cr_assert_eq(a_size, b_size);

        /* Same KEK, AAD and plaintext: the nonces, ciphertexts and tags must all differ. */
        cr_assert_neq(memcmp(a + 1, b + 1, SEAL_NONCE_SIZE), 0, "nonce repeated");
        cr_assert_neq(memcmp(a + 1 + SEAL_NONCE_SIZE, b + 1 + SEAL_NONCE_SIZE, sizeof pt), 0);
        cr_assert_neq(memcmp(a + 1 + SEAL_NONCE_SIZE + sizeof pt, b + 1 + SEAL_NONCE_SIZE + sizeof pt, SEAL_TAG_SIZE),
                      0);

        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), a, a_size, pt, sizeof pt), 0);
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), b, b_size, pt, sizeof pt), 0);
}

Test(seal, size_limits) {
        static uint8_t pt[SEAL_PLAINTEXT_MAX + 1], blob[SEAL_PLAINTEXT_MAX + 1 + SEAL_OVERHEAD],
                out[SEAL_PLAINTEXT_MAX + SEAL_OVERHEAD + 1];
        uint8_t kek[KEK_SIZE];
        size_t blob_size = 777, out_size;

        random_bytes(kek, sizeof kek);
        random_bytes(pt, sizeof pt);

        /* Nothing to seal, and one byte over the limit. */
        cr_assert_eq(seal(kek, aad, strlen(aad), pt, 0, blob, &blob_size), -EINVAL);
        cr_assert_eq(seal(kek, aad, strlen(aad), pt, SEAL_PLAINTEXT_MAX + 1, blob, &blob_size), -EINVAL);
        cr_assert_eq(blob_size, 777);

        /* Blobs too short to hold a version, nonce, one byte and a tag. */
        memset(blob, 0, sizeof blob);
        blob[0] = SEAL_VERSION;
        for (size_t n = 0; n <= SEAL_OVERHEAD; n++)
                cr_assert_eq(unseal(kek, aad, strlen(aad), blob, n, out, &out_size), -EBADMSG, "n=%zu", n);

        /* The largest plaintext seals; a blob one byte over the largest is refused before decryption. */
        cr_assert_eq(seal(kek, aad, strlen(aad), pt, SEAL_PLAINTEXT_MAX, blob, &blob_size), 0);
        cr_assert_eq(blob_size, (size_t) SEAL_PLAINTEXT_MAX + SEAL_OVERHEAD);
        cr_assert_eq(unseal_checked(kek, aad, strlen(aad), blob, blob_size, pt, SEAL_PLAINTEXT_MAX), 0);
        cr_assert_eq(unseal(kek, aad, strlen(aad), blob, blob_size + 1, out, &out_size), -EBADMSG);
}
