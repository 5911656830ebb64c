/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HMAC through OpenSSL EVP_MAC: the engine for kernels without AF_ALG keyed by key serial (or when
 * --engine=openssl asks for it), with keys read from the keyring into locked memory per operation.
 * The kernel engine (AF_ALG, logon keys) lives in key-material.c and afalg.c. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>

#include "mac.h"
#include "macro.h"

struct MacEngine {
        EVP_MAC *mac;
        EVP_MAC_CTX *ctx[_KEY_SPEC_MAX];
        const char *backend;
};

static const char *const digest_names[_KEY_SPEC_MAX] = {
        [KEY_SPEC_HMAC_224] = "SHA2-224",
        [KEY_SPEC_HMAC_256] = "SHA2-256",
        [KEY_SPEC_HMAC_384] = "SHA2-384",
        [KEY_SPEC_HMAC_512] = "SHA2-512",
};

int mac_engine_new(MacEngine **ret) {
        MacEngine *e;

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;

        e->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!e->mac)
                goto fail;
        for (KeySpec s = 0; s < _KEY_SPEC_MAX; s++) {
                OSSL_PARAM params[] = {
                        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) digest_names[s], 0),
                        OSSL_PARAM_construct_end(),
                };
                e->ctx[s] = EVP_MAC_CTX_new(e->mac);
                if (!e->ctx[s] || EVP_MAC_CTX_set_params(e->ctx[s], params) != 1)
                        goto fail;
        }
        e->backend = "keyring-user+openssl";
        *ret = e;
        return 0;

fail:
        mac_engine_free(e);
        return -EIO;
}

MacEngine *mac_engine_free(MacEngine *e) {
        if (!e)
                return NULL;
        for (KeySpec s = 0; s < _KEY_SPEC_MAX; s++)
                EVP_MAC_CTX_free(e->ctx[s]);
        EVP_MAC_free(e->mac);
        free(e);
        return NULL;
}

int mac_engine_set_key(MacEngine *e, KeySpec spec, const uint8_t *key, size_t key_size) {
        if (spec < 0 || spec >= _KEY_SPEC_MAX || key_size == 0 || key_size > KMS_KEY_MATERIAL_MAX)
                return -EINVAL;
        return EVP_MAC_init(e->ctx[spec], key, key_size, NULL) == 1 ? 0 : -EIO;
}

int mac_engine_forget(MacEngine *e, KeySpec spec) {
        static const uint8_t blank[1] = {};

        if (spec < 0 || spec >= _KEY_SPEC_MAX)
                return -EINVAL;
        return EVP_MAC_init(e->ctx[spec], blank, sizeof blank, NULL) == 1 ? 0 : -EIO;
}

int mac_engine_compute(MacEngine *e, KeySpec spec, const void *message, size_t n,
                       uint8_t out[static KMS_MAC_SIZE_MAX], size_t *ret_size) {
        size_t len = 0;

        if (spec < 0 || spec >= _KEY_SPEC_MAX)
                return -EINVAL;
        /* Re-initialising with a NULL key keeps the key and resets the state. */
        if (EVP_MAC_init(e->ctx[spec], NULL, 0, NULL) != 1 || EVP_MAC_update(e->ctx[spec], message, n) != 1 ||
            EVP_MAC_final(e->ctx[spec], out, &len, KMS_MAC_SIZE_MAX) != 1)
                return -EIO;
        if (len != key_spec_mac_size(spec))
                return -EIO;
        *ret_size = len;
        return 0;
}

int mac_engine_verify(MacEngine *e, KeySpec spec, const void *message, size_t n, const void *mac, size_t mac_size) {
        uint8_t computed[KMS_MAC_SIZE_MAX];
        size_t size;
        int r;

        r = mac_engine_compute(e, spec, message, n, computed, &size);
        if (r < 0)
                return r;
        /* The length is public (it follows from the spec); the bytes are compared in constant time. */
        r = mac_size == size && CRYPTO_memcmp(computed, mac, size) == 0;
        OPENSSL_cleanse(computed, sizeof computed);
        return r;
}

const char *mac_engine_backend(const MacEngine *e) {
        return e->backend;
}
