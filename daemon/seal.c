/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AES-256-GCM sealing with OpenSSL EVP. */
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include "macro.h"
#include "seal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_free);

int seal(const uint8_t kek[static KEK_SIZE], const void *aad, size_t aad_size, const void *plaintext, size_t n,
         uint8_t *out, size_t *ret_size) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = NULL;
        uint8_t *nonce = out + 1, *ct = out + 1 + SEAL_NONCE_SIZE;
        int len, fin;

        if (n == 0 || n > SEAL_PLAINTEXT_MAX || aad_size > INT_MAX)
                return -EINVAL;
        if (getrandom(nonce, SEAL_NONCE_SIZE, 0) != SEAL_NONCE_SIZE)
                return negative_errno();
        out[0] = SEAL_VERSION;

        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_SIZE, NULL) != 1 ||
            EVP_EncryptInit_ex(ctx, NULL, NULL, kek, nonce) != 1 ||
            EVP_EncryptUpdate(ctx, NULL, &len, aad, (int) aad_size) != 1 ||
            EVP_EncryptUpdate(ctx, ct, &len, plaintext, (int) n) != 1 ||
            EVP_EncryptFinal_ex(ctx, ct + len, &fin) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_SIZE, ct + n) != 1)
                return -EIO;

        *ret_size = n + SEAL_OVERHEAD;
        return 0;
}

int unseal(const uint8_t kek[static KEK_SIZE], const void *aad, size_t aad_size, const uint8_t *blob, size_t n,
           uint8_t *out, size_t *ret_size) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = NULL;
        const uint8_t *nonce = blob + 1, *ct = blob + 1 + SEAL_NONCE_SIZE;
        size_t ct_size;
        int len, fin;

        if (n <= SEAL_OVERHEAD || n > SEAL_PLAINTEXT_MAX + SEAL_OVERHEAD || blob[0] != SEAL_VERSION ||
            aad_size > INT_MAX)
                return -EBADMSG;
        ct_size = n - SEAL_OVERHEAD;

        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_SIZE, NULL) != 1 ||
            EVP_DecryptInit_ex(ctx, NULL, NULL, kek, nonce) != 1 ||
            EVP_DecryptUpdate(ctx, NULL, &len, aad, (int) aad_size) != 1 ||
            EVP_DecryptUpdate(ctx, out, &len, ct, (int) ct_size) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_SIZE, (void *) (ct + ct_size)) != 1)
                return -EIO;
        if (EVP_DecryptFinal_ex(ctx, out + len, &fin) != 1) {
                OPENSSL_cleanse(out, ct_size);
                return -EBADMSG;
        }

        *ret_size = ct_size;
        return 0;
}
