/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Wrapping keys and import tokens.
 *
 * A token is "version (1) | id (16) | key ID (36) | valid-to (8) | HMAC-SHA-256 (32)" under a
 * random key made at start. The HMAC tells a token of ours from anything else; the id finds its
 * wrapping key, which is destroyed when used or expired, and which a restart forgets. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ident.h"
#include "import.h"
#include "macro.h"

#define TOKEN_VERSION 1
#define TOKEN_ID_SIZE 16
#define TOKEN_MAC_SIZE 32
#define TOKEN_SIZE (1 + TOKEN_ID_SIZE + KEY_ID_LEN + 8 + TOKEN_MAC_SIZE)

typedef struct ImportParams {
        uint8_t id[TOKEN_ID_SIZE];
        char key_id[KEY_ID_LEN + 1];
        WrappingAlgorithm algorithm;
        EVP_PKEY *pkey;
        uint64_t valid_to;
} ImportParams;

struct ImportTable {
        uint8_t token_key[32];
        ImportParams params[IMPORT_PARAMS_MAX];
        size_t n;
};

static const char *const algorithms[_WRAPPING_ALGORITHM_MAX] = {
        [WRAPPING_RSAES_OAEP_SHA_1] = "RSAES_OAEP_SHA_1",
        [WRAPPING_RSAES_OAEP_SHA_256] = "RSAES_OAEP_SHA_256",
};

static const unsigned key_bits[_WRAPPING_KEY_SPEC_MAX] = {
        [WRAPPING_RSA_2048] = 2048,
        [WRAPPING_RSA_3072] = 3072,
        [WRAPPING_RSA_4096] = 4096,
};

static const char *const key_specs[_WRAPPING_KEY_SPEC_MAX] = {
        [WRAPPING_RSA_2048] = "RSA_2048",
        [WRAPPING_RSA_3072] = "RSA_3072",
        [WRAPPING_RSA_4096] = "RSA_4096",
};

WrappingAlgorithm wrapping_algorithm_from_string(const char *s) {
        for (WrappingAlgorithm a = 0; a < _WRAPPING_ALGORITHM_MAX; a++)
                if (streq(algorithms[a], s))
                        return a;
        return _WRAPPING_ALGORITHM_INVALID;
}

bool wrapping_algorithm_is_other_aws(const char *s) {
        return streq(s, "RSAES_PKCS1_V1_5") || streq(s, "RSA_AES_KEY_WRAP_SHA_1") ||
               streq(s, "RSA_AES_KEY_WRAP_SHA_256") || streq(s, "SM2PKE");
}

WrappingKeySpec wrapping_key_spec_from_string(const char *s) {
        for (WrappingKeySpec k = 0; k < _WRAPPING_KEY_SPEC_MAX; k++)
                if (streq(key_specs[k], s))
                        return k;
        return _WRAPPING_KEY_SPEC_INVALID;
}

bool wrapping_key_spec_is_other_aws(const char *s) {
        return streq(s, "SM2");
}

int import_table_new(ImportTable **ret) {
        ImportTable *t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        if (getrandom(t->token_key, sizeof t->token_key, 0) != sizeof t->token_key) {
                free(t);
                return negative_errno();
        }
        *ret = t;
        return 0;
}

static void params_destroy(ImportTable *t, size_t i) {
        EVP_PKEY_free(t->params[i].pkey);
        t->params[i] = t->params[--t->n];
        memset(&t->params[t->n], 0, sizeof t->params[t->n]);
}

ImportTable *import_table_free(ImportTable *t) {
        if (!t)
                return NULL;
        while (t->n > 0)
                params_destroy(t, t->n - 1);
        OPENSSL_cleanse(t->token_key, sizeof t->token_key);
        free(t);
        return NULL;
}

void import_table_expire(ImportTable *t, uint64_t now) {
        for (size_t i = t->n; i > 0; i--)
                if (t->params[i - 1].valid_to <= now)
                        params_destroy(t, i - 1);
}

static void token_mac(const ImportTable *t, const uint8_t *token, uint8_t out[static TOKEN_MAC_SIZE]) {
        unsigned len = 0;
        HMAC(EVP_sha256(), t->token_key, sizeof t->token_key, token, TOKEN_SIZE - TOKEN_MAC_SIZE, out, &len);
}

int import_table_create(ImportTable *t, const char *key_id, WrappingAlgorithm alg, WrappingKeySpec spec,
                        uint64_t now, uint8_t **ret_token, size_t *ret_token_size, uint8_t **ret_public_key,
                        size_t *ret_public_key_size, uint64_t *ret_valid_to) {
        ImportParams p = { .algorithm = alg, .valid_to = now + IMPORT_VALIDITY_USEC };
        uint8_t *token = NULL, *der = NULL;
        int der_size;

        import_table_expire(t, now);
        if (t->n >= IMPORT_PARAMS_MAX)
                return -E2BIG;
        if (strlen(key_id) != KEY_ID_LEN || getrandom(p.id, sizeof p.id, 0) != sizeof p.id)
                return -EINVAL;
        strcpy(p.key_id, key_id);

        p.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) key_bits[spec]);
        if (!p.pkey)
                return -EIO;
        der_size = i2d_PUBKEY(p.pkey, &der);
        token = malloc(TOKEN_SIZE);
        if (der_size <= 0 || !token) {
                EVP_PKEY_free(p.pkey);
                OPENSSL_free(der);
                free(token);
                return -ENOMEM;
        }

        token[0] = TOKEN_VERSION;
        memcpy(token + 1, p.id, TOKEN_ID_SIZE);
        memcpy(token + 1 + TOKEN_ID_SIZE, key_id, KEY_ID_LEN);
        for (int i = 0; i < 8; i++)
                token[1 + TOKEN_ID_SIZE + KEY_ID_LEN + i] = (uint8_t) (p.valid_to >> (56 - 8 * i));
        token_mac(t, token, token + TOKEN_SIZE - TOKEN_MAC_SIZE);

        *ret_public_key = malloc((size_t) der_size);
        if (!*ret_public_key) {
                EVP_PKEY_free(p.pkey);
                OPENSSL_free(der);
                free(token);
                return -ENOMEM;
        }
        memcpy(*ret_public_key, der, (size_t) der_size);
        OPENSSL_free(der);
        *ret_public_key_size = (size_t) der_size;

        t->params[t->n++] = p;
        *ret_token = token;
        *ret_token_size = TOKEN_SIZE;
        *ret_valid_to = p.valid_to;
        return 0;
}

/* The params of a token that is ours and unchanged, or NULL. */
static ImportParams *params_of(ImportTable *t, const uint8_t *token, size_t n) {
        uint8_t mac[TOKEN_MAC_SIZE];

        if (n != TOKEN_SIZE || token[0] != TOKEN_VERSION)
                return NULL;
        token_mac(t, token, mac);
        if (CRYPTO_memcmp(mac, token + TOKEN_SIZE - TOKEN_MAC_SIZE, TOKEN_MAC_SIZE) != 0)
                return NULL;
        for (size_t i = 0; i < t->n; i++)
                if (memcmp(t->params[i].id, token + 1, TOKEN_ID_SIZE) == 0)
                        return &t->params[i];
        return NULL;
}

ImportTokenProblem import_table_check(ImportTable *t, const uint8_t *token, size_t n, const char *key_id,
                                      uint64_t now) {
        uint8_t mac[TOKEN_MAC_SIZE];
        uint64_t valid_to = 0;
        ImportParams *p;

        if (n != TOKEN_SIZE || token[0] != TOKEN_VERSION)
                return IMPORT_TOKEN_INVALID;
        token_mac(t, token, mac);
        if (CRYPTO_memcmp(mac, token + TOKEN_SIZE - TOKEN_MAC_SIZE, TOKEN_MAC_SIZE) != 0)
                return IMPORT_TOKEN_INVALID;
        if (memcmp(token + 1 + TOKEN_ID_SIZE, key_id, KEY_ID_LEN) != 0)
                return IMPORT_TOKEN_OTHER_KEY;
        for (int i = 0; i < 8; i++)
                valid_to = valid_to << 8 | token[1 + TOKEN_ID_SIZE + KEY_ID_LEN + i];
        /* An expired token of ours is "expired" even once its wrapping key is gone. */
        if (valid_to <= now)
                return IMPORT_TOKEN_EXPIRED;
        p = params_of(t, token, n);
        return p ? IMPORT_TOKEN_OK : IMPORT_TOKEN_INVALID;
}

int import_table_unwrap(ImportTable *t, const uint8_t *token, size_t n, const uint8_t *ciphertext,
                        size_t ciphertext_size, uint8_t *out, size_t out_size) {
        ImportParams *p = params_of(t, token, n);
        EVP_PKEY_CTX *ctx;
        const EVP_MD *md;
        size_t len = 0;
        int r = -EBADMSG;

        if (!p)
                return -ENOKEY;
        md = p->algorithm == WRAPPING_RSAES_OAEP_SHA_1 ? EVP_sha1() : EVP_sha256();
        ctx = EVP_PKEY_CTX_new(p->pkey, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_decrypt_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
            EVP_PKEY_decrypt(ctx, NULL, &len, ciphertext, ciphertext_size) == 1) {
                /* OpenSSL wants room for a whole modulus; the caller's buffer is locked memory. */
                if (len > out_size)
                        r = -ENOBUFS;
                else if (EVP_PKEY_decrypt(ctx, out, &len, ciphertext, ciphertext_size) == 1)
                        r = (int) len;
        }
        EVP_PKEY_CTX_free(ctx);
        return r;
}

void import_table_consume(ImportTable *t, const uint8_t *token, size_t n) {
        ImportParams *p = params_of(t, token, n);
        if (p)
                params_destroy(t, (size_t) (p - t->params));
}
