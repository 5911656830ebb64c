/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Import tokens (daemon/import.c): the ImportToken argument of ImportKeyMaterial is client bytes.
 * One ImportTable holds one real token, made by import_table_create() for KEY_ID with an RSA-2048
 * wrapping key, and a ciphertext of known key material wrapped for it. The first input byte chooses
 * what the rest is:
 *
 *   0  a token made up from nothing: it never validates (neither for KEY_ID nor another key) unless it
 *      is byte for byte the real one, import_table_unwrap() refuses it with -ENOKEY, and
 *      import_table_consume() of it leaves the real token usable;
 *   1  edits of the real token (byte positions and XOR masks, then a new length): any change makes it
 *      invalid, never "for another key" nor "expired"; unchanged, it is valid for KEY_ID only, and
 *      expired from its valid-to on;
 *   2  a ciphertext for the real token, unwrapped into a buffer of a size from the input: -EBADMSG,
 *      -ENOBUFS, or a length that fits (AddressSanitizer watches the buffer's edges).
 *
 * Every mode also unwraps the known ciphertext once in a while (every 64th input) to make sure the
 * real token still works. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "import.h"

#define KEY_ID "1234abcd-12ab-44cd-96ef-1234567890ab"
#define OTHER_KEY_ID "1234abcd-12ab-44cd-96ef-1234567890ac"
#define NOW UINT64_C(1767225600000000)

static ImportTable *table;
static uint8_t *token;
static size_t token_size;
static uint64_t valid_to;
static uint8_t material[32];
static uint8_t ciphertext[512];
static size_t ciphertext_size;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const uint8_t *p;
        uint8_t *public_key = NULL;
        size_t public_key_size = 0;
        EVP_PKEY *pkey;
        EVP_PKEY_CTX *ctx;

        if (import_table_new(&table) < 0 ||
            import_table_create(table, KEY_ID, 1000, WRAPPING_RSAES_OAEP_SHA_256, WRAPPING_RSA_2048, NOW, &token,
                                &token_size, &public_key, &public_key_size, &valid_to) < 0)
                abort();

        for (size_t i = 0; i < sizeof material; i++)
                material[i] = (uint8_t) (i * 7 + 1);
        p = public_key;
        pkey = d2i_PUBKEY(NULL, &p, (long) public_key_size);
        ctx = pkey ? EVP_PKEY_CTX_new(pkey, NULL) : NULL;
        ciphertext_size = sizeof ciphertext;
        if (!ctx || EVP_PKEY_encrypt_init(ctx) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1 ||
            EVP_PKEY_encrypt(ctx, ciphertext, &ciphertext_size, material, sizeof material) != 1)
                abort();
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(pkey);
        free(public_key);
        return 0;
}

static void check_real_token_works(void) {
        uint8_t *out = malloc(IMPORT_UNWRAP_BUFFER);
        int r;

        if (!out)
                abort();
        fuzz_check(import_table_check(table, token, token_size, KEY_ID, NOW) == IMPORT_TOKEN_OK,
                   "real token");
        r = import_table_unwrap(table, token, token_size, ciphertext, ciphertext_size, out,
                                IMPORT_UNWRAP_BUFFER);
        fuzz_check(r == (int) sizeof material && memcmp(out, material, sizeof material) == 0,
                   "unwrap gave %d", r);
        free(out);
}

static bool is_real(const uint8_t *t, size_t n) {
        return n == token_size && memcmp(t, token, n) == 0;
}

/* A heap copy of exactly n bytes, so that AddressSanitizer sees reads past the end. */
static uint8_t *copy(const uint8_t *p, size_t n) {
        uint8_t *c = malloc(n ? n : 1);
        if (!c)
                abort();
        if (n > 0)
                memcpy(c, p, n);
        return c;
}

static void check_foreign(const uint8_t *data, size_t size) {
        uint8_t *t = copy(data, size), out[IMPORT_UNWRAP_BUFFER];
        ImportTokenProblem p = import_table_check(table, t, size, KEY_ID, NOW);
        int r;

        if (is_real(t, size)) {
                fuzz_check(p == IMPORT_TOKEN_OK, "%d", p);
                free(t);
                return;
        }
        fuzz_check(p == IMPORT_TOKEN_INVALID, "a made-up token of %zu bytes gave %d", size, p);
        p = import_table_check(table, t, size, OTHER_KEY_ID, NOW);
        fuzz_check(p == IMPORT_TOKEN_INVALID, "a made-up token of %zu bytes gave %d for another key", size,
                   p);
        r = import_table_unwrap(table, t, size, ciphertext, ciphertext_size, out, sizeof out);
        fuzz_check(r == -ENOKEY, "a made-up token of %zu bytes unwrapped: %d", size, r);
        import_table_consume(table, t, size);
        free(t);
}

static void check_edited(FuzzInput *in) {
        uint8_t edited[256] = {};
        size_t n = token_size;
        uint8_t n_edits = fuzz_byte(in) % 8;
        uint8_t *t;
        ImportTokenProblem p;

        memcpy(edited, token, token_size);
        for (uint8_t i = 0; i < n_edits; i++) {
                uint8_t pos = fuzz_byte(in), mask = fuzz_byte(in);
                edited[pos % token_size] ^= mask;
        }
        if (in->size > 0) {
                uint8_t len = fuzz_byte(in);
                if (len != 0)
                        n = len; /* shorter, or longer with zeros after */
        }

        t = copy(edited, n);
        p = import_table_check(table, t, n, KEY_ID, NOW);
        if (is_real(t, n)) {
                fuzz_check(p == IMPORT_TOKEN_OK, "%d", p);
                fuzz_check(import_table_check(table, t, n, OTHER_KEY_ID, NOW) == IMPORT_TOKEN_OTHER_KEY,
                           "other key");
                fuzz_check(import_table_check(table, t, n, KEY_ID, valid_to) == IMPORT_TOKEN_EXPIRED,
                           "expired");
                fuzz_check(import_table_check(table, t, n, KEY_ID, valid_to - 1) == IMPORT_TOKEN_OK,
                           "not expired");
        } else {
                uint8_t out[IMPORT_UNWRAP_BUFFER];

                fuzz_check(p == IMPORT_TOKEN_INVALID, "an edited token of %zu bytes gave %d", n, p);
                fuzz_check(import_table_check(table, t, n, OTHER_KEY_ID, NOW) == IMPORT_TOKEN_INVALID,
                           "other key");
                fuzz_check(import_table_check(table, t, n, KEY_ID, UINT64_MAX) == IMPORT_TOKEN_INVALID,
                           "expired");
                fuzz_check(import_table_unwrap(table, t, n, ciphertext, ciphertext_size, out, sizeof out) ==
                                   -ENOKEY,
                           "an edited token unwrapped");
                import_table_consume(table, t, n);
        }
        free(t);
}

static void check_unwrap(FuzzInput *in) {
        uint8_t b = fuzz_byte(in);
        size_t out_size = b >= 128 ? IMPORT_UNWRAP_BUFFER : b;
        uint8_t *c = copy(in->data, in->size), *out = malloc(out_size ? out_size : 1);
        int r;

        if (!out)
                abort();
        r = import_table_unwrap(table, token, token_size, c, in->size, out, out_size);
        fuzz_check(r == -EBADMSG || r == -ENOBUFS || (r >= 0 && (size_t) r <= out_size),
                   "unwrapping %zu bytes into %zu gave %d", in->size, out_size, r);
        free(out);
        free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static unsigned counter;
        FuzzInput in = { data, size };
        uint8_t mode = fuzz_byte(&in);

        switch (mode % 3) {
        case 0:
                check_foreign(in.data, in.size);
                break;
        case 1:
                check_edited(&in);
                break;
        case 2:
                check_unwrap(&in);
                break;
        }
        if (++counter % 64 == 0)
                check_real_token_works();
        return 0;
}
