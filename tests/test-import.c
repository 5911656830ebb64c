/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bring your own key against the real daemon: wrap known keys with the public key hmacd hands
 * out, import them, and check the MACs against RFC 4231 and OpenSSL; re-import, expiry, tampered
 * ciphertext, foreign and used tokens. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus-call.h"
#include "harness.h"
#include "macro.h"

static void teardown(void) {
        bus_close();
        harness_teardown();
}

typedef struct Params {
        uint8_t token[512];
        size_t token_size;
        EVP_PKEY *pub;
        uint64_t valid_to;
} Params;

static void params_done(Params *p) {
        EVP_PKEY_free(p->pub);
}

static int get_params(const char *key, const char *alg, const char *spec, Params *ret, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const void *token, *der;
        size_t token_size, der_size;
        const uint8_t *p;
        int r;

        r = bus_call("GetParametersForImport", e, &reply, "sss", key, alg, spec);
        if (r < 0)
                return r;
        cr_assert(sd_bus_message_read_array(reply, 'y', &token, &token_size) >= 0);
        cr_assert(sd_bus_message_read_array(reply, 'y', &der, &der_size) >= 0);
        cr_assert(sd_bus_message_read(reply, "t", &ret->valid_to) >= 0);
        cr_assert(token_size <= sizeof ret->token);
        memcpy(ret->token, token, token_size);
        ret->token_size = token_size;
        p = der;
        ret->pub = d2i_PUBKEY(NULL, &p, (long) der_size);
        cr_assert(ret->pub, "the public key is not DER SubjectPublicKeyInfo");
        return 0;
}

static size_t wrap(const Params *p, const EVP_MD *md, const uint8_t *key, size_t n, uint8_t *out) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(p->pub, NULL);
        size_t len = 1024;

        cr_assert(ctx);
        cr_assert(EVP_PKEY_encrypt_init(ctx) == 1);
        cr_assert(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1);
        cr_assert(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1);
        cr_assert(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1);
        cr_assert(EVP_PKEY_encrypt(ctx, out, &len, key, n) == 1);
        EVP_PKEY_CTX_free(ctx);
        return len;
}

static int import(const char *key, const Params *p, const uint8_t *wrapped, size_t n, const char *model,
                  uint64_t valid_to, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus;
        int r;

        /* Arrays of bytes are appended whole: build the call by hand. */
        cr_assert(sd_bus_open_system(&bus) >= 0);
        cr_assert(sd_bus_message_new_method_call(bus, &m, "io.hmacd.Kms1", "/io/hmacd/Kms1", "io.hmacd.Kms1",
                                                 "ImportKeyMaterial") >= 0);
        cr_assert(sd_bus_message_append(m, "s", key) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', p->token, p->token_size) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', wrapped, n) >= 0);
        cr_assert(sd_bus_message_append(m, "st", model, valid_to) >= 0);
        r = sd_bus_call(bus, m, 0, e, NULL);
        sd_bus_flush_close_unref(bus);
        return r;
}

static size_t mac_of(const char *key, const char *alg, const void *msg, size_t n, uint8_t *out, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const void *p;
        size_t len = 0;
        sd_bus *bus;
        int r;

        cr_assert(sd_bus_open_system(&bus) >= 0);
        cr_assert(sd_bus_message_new_method_call(bus, &m, "io.hmacd.Kms1", "/io/hmacd/Kms1", "io.hmacd.Kms1",
                                                 "GenerateMac") >= 0);
        cr_assert(sd_bus_message_append(m, "s", key) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', msg, n) >= 0);
        cr_assert(sd_bus_message_append(m, "s", alg) >= 0);
        r = sd_bus_call(bus, m, 0, e, &reply);
        if (r >= 0) {
                cr_assert(sd_bus_message_read_array(reply, 'y', &p, &len) >= 0);
                memcpy(out, p, len);
        }
        sd_bus_flush_close_unref(bus);
        return r < 0 ? 0 : len;
}

static void expect(int r, sd_bus_error *e, const char *exception) {
        if (!exception) {
                cr_assert(r >= 0, "%s: %s", e->name, e->message);
        } else {
                cr_assert(r < 0, "expected %s", exception);
                cr_assert_str_eq(bus_error_exception(e), exception, "%s", e->message);
        }
        sd_bus_error_free(e);
}

static size_t unhex(const char *hex, uint8_t *out) {
        size_t n = strlen(hex) / 2;
        for (size_t i = 0; i < n; i++)
                cr_assert(sscanf(hex + 2 * i, "%2hhx", &out[i]) == 1);
        return n;
}

static char state_of(const char *key, char *buf) {
        cr_assert(bus_key_state(key, buf) >= 0);
        return buf[0];
}

TestSuite(import, .init = harness_setup_daemon, .fini = teardown, .timeout = 180);

/* RFC 4231 test case 2 ("Jefe") and test case 6 use keys outside the length windows; test cases
 * 1, 3, 4 and 7 use 20-, 20-, 25- and 131-byte keys. So the vectors here are the RFC's own test
 * case 6/7 style for keys that fit, computed by OpenSSL in the test, plus test case 4's message
 * with a key that fits: each spec gets keys at both ends of its window. */
Test(import, known_keys_give_known_macs_for_every_spec) {
        static const struct {
                const char *spec, *alg;
                size_t key_size;
                const EVP_MD *(*md)(void);
        } cases[] = {
                { "HMAC_224", "HMAC_SHA_224", 28, EVP_sha224 }, { "HMAC_224", "HMAC_SHA_224", 64, EVP_sha224 },
                { "HMAC_256", "HMAC_SHA_256", 32, EVP_sha256 }, { "HMAC_256", "HMAC_SHA_256", 64, EVP_sha256 },
                { "HMAC_384", "HMAC_SHA_384", 48, EVP_sha384 }, { "HMAC_384", "HMAC_SHA_384", 128, EVP_sha384 },
                { "HMAC_512", "HMAC_SHA_512", 64, EVP_sha512 }, { "HMAC_512", "HMAC_SHA_512", 128, EVP_sha512 },
        };
        static const char message[] = "Test Using Larger Than Block-Size Key - Hash Key First";

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(params_done) Params p = {};
                sd_bus_error e = SD_BUS_ERROR_NULL;
                uint8_t key[128], wrapped[512], mac[64], want[64];
                char id[37], state[32];
                unsigned want_len = 0;
                size_t n;

                memset(key, 0xaa, sizeof key); /* RFC 4231 test case 6's key, at this length */
                cr_assert(bus_create_key(cases[i].spec, "EXTERNAL", id) >= 0);
                cr_assert_eq(state_of(id, state), 'P');
                expect(get_params(id, "RSAES_OAEP_SHA_256", i % 2 ? "RSA_3072" : "RSA_2048", &p, &e), &e, NULL);
                n = wrap(&p, EVP_sha256(), key, cases[i].key_size, wrapped);
                expect(import(id, &p, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, NULL);
                cr_assert(bus_key_state(id, state) >= 0);
                cr_assert_str_eq(state, "Enabled");

                n = mac_of(id, cases[i].alg, message, strlen(message), mac, &e);
                cr_assert(n > 0, "%s", e.message);
                HMAC(cases[i].md(), key, (int) cases[i].key_size, (const uint8_t *) message, strlen(message), want,
                     &want_len);
                cr_assert_eq(n, want_len);
                cr_assert(memcmp(mac, want, n) == 0, "%s with a %zu-byte key", cases[i].spec, cases[i].key_size);
        }
}

/* RFC 4231 test case 7's expected HMAC-SHA-256, with its 131-byte key hashed first as HMAC does:
 * hmacd takes at most 64 bytes for HMAC_256, and SHA-256 of that key gives the same MAC. */
Test(import, rfc4231_test_case_7_sha256) {
        _cleanup_(params_done) Params p = {};
        sd_bus_error e = SD_BUS_ERROR_NULL;
        static const char message[] = "This is a test using a larger than block-size key and a larger than block-size "
                                      "data. The key needs to be hashed before being used by the HMAC algorithm.";
        uint8_t long_key[131], key[32], wrapped[512], mac[64], want[32];
        unsigned key_len = 0;
        char id[37];
        size_t n;

        memset(long_key, 0xaa, sizeof long_key);
        cr_assert(EVP_Digest(long_key, sizeof long_key, key, &key_len, EVP_sha256(), NULL) == 1);
        unhex("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", want);

        cr_assert(bus_create_key("HMAC_256", "EXTERNAL", id) >= 0);
        expect(get_params(id, "RSAES_OAEP_SHA_1", "RSA_2048", &p, &e), &e, NULL);
        n = wrap(&p, EVP_sha1(), key, sizeof key, wrapped);
        expect(import(id, &p, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, NULL);
        cr_assert_eq(mac_of(id, "HMAC_SHA_256", message, strlen(message), mac, &e), 32);
        cr_assert(memcmp(mac, want, 32) == 0);
}

/* The MAC equals `openssl mac -digest SHA256 -macopt hexkey:...` over the same message. */
Test(import, same_mac_as_openssl_cli) {
        _cleanup_(params_done) Params p = {};
        _cleanup_(harness_result_done) HarnessResult res = {};
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint8_t key[32], wrapped[512], mac[64];
        char id[37], hexkey[80], hexmac[80], path[4096], opt[100];
        FILE *f;
        size_t n;

        for (size_t i = 0; i < sizeof key; i++)
                key[i] = (uint8_t) (i * 7 + 3);
        for (size_t i = 0; i < sizeof key; i++)
                snprintf(hexkey + 2 * i, 3, "%02x", key[i]);
        cr_assert(bus_create_key("HMAC_256", "EXTERNAL", id) >= 0);
        expect(get_params(id, "RSAES_OAEP_SHA_256", "RSA_4096", &p, &e), &e, NULL);
        n = wrap(&p, EVP_sha256(), key, sizeof key, wrapped);
        expect(import(id, &p, wrapped, n, "", (uint64_t) time(NULL) * 1000000 + 3600ULL * 1000000, &e), &e, NULL);
        cr_assert_eq(mac_of(id, "HMAC_SHA_256", "hello, openssl", 14, mac, &e), 32);
        for (size_t i = 0; i < 32; i++)
                snprintf(hexmac + 2 * i, 3, "%02X", mac[i]);

        snprintf(path, sizeof path, "%s/message", harness_tmp_dir());
        f = fopen(path, "w");
        cr_assert(f);
        fputs("hello, openssl", f);
        fclose(f);
        snprintf(opt, sizeof opt, "hexkey:%s", hexkey);
        cr_assert(harness_runl(NULL, &res, "openssl", "mac", "-digest", "SHA256", "-macopt", opt, "-in", path, "HMAC",
                               NULL) >= 0);
        cr_assert_eq(res.exit_code, 0, "%s", res.err);
        cr_assert(strncmp(res.out, hexmac, 64) == 0, "openssl: %s, hmacd: %s", res.out, hexmac);
}

Test(import, reimport_tokens_and_ciphertexts) {
        _cleanup_(params_done) Params p = {}, q = {}, other = {};
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint8_t key[32], different[32], wrapped[512], mac1[64], mac2[64];
        char id[37], id2[37], plain[37], state[32];
        size_t n;
        int r;

        memset(key, 0x11, sizeof key);
        memset(different, 0x22, sizeof different);
        cr_assert(bus_create_key("HMAC_256", "EXTERNAL", id) >= 0);
        cr_assert(bus_create_key("HMAC_256", "EXTERNAL", id2) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, plain) >= 0);

        /* Only for EXTERNAL keys; only known algorithms and specs. */
        expect(get_params(plain, "RSAES_OAEP_SHA_256", "RSA_2048", &p, &e), &e, "UnsupportedOperationException");
        expect(get_params(id, "RSAES_PKCS1_V1_5", "RSA_2048", &p, &e), &e, "UnsupportedOperationException");
        expect(get_params(id, "BOGUS", "RSA_2048", &p, &e), &e, "ValidationException");
        expect(get_params(id, "RSAES_OAEP_SHA_256", "RSA_1024", &p, &e), &e, "ValidationException");

        expect(get_params(id, "RSAES_OAEP_SHA_256", "RSA_2048", &p, &e), &e, NULL);
        expect(get_params(id2, "RSAES_OAEP_SHA_256", "RSA_2048", &other, &e), &e, NULL);
        cr_assert(p.valid_to > (uint64_t) time(NULL) * 1000000 + 23ULL * 3600 * 1000000, "valid for 24 hours");

        /* A token for another key; a changed token; a tampered ciphertext; material too short. */
        n = wrap(&other, EVP_sha256(), key, sizeof key, wrapped);
        expect(import(id, &other, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, "InvalidImportTokenException");
        n = wrap(&p, EVP_sha256(), key, sizeof key, wrapped);
        p.token[p.token_size - 1] ^= 1;
        expect(import(id, &p, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, "InvalidImportTokenException");
        p.token[p.token_size - 1] ^= 1;
        wrapped[n / 2] ^= 0x40;
        expect(import(id, &p, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, "InvalidCiphertextException");
        n = wrap(&p, EVP_sha256(), key, 31, wrapped);
        expect(import(id, &p, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, "ValidationException");
        /* Expiration rules. */
        n = wrap(&p, EVP_sha256(), key, sizeof key, wrapped);
        expect(import(id, &p, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 12345, &e), &e, "ValidationException");
        r = import(id, &p, wrapped, n, "KEY_MATERIAL_EXPIRES", 0, &e);
        cr_assert_str_eq(e.message, "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES");
        expect(r, &e, "ValidationException");
        expect(import(id, &p, wrapped, n, "KEY_MATERIAL_EXPIRES",
                      (uint64_t) time(NULL) * 1000000 + 366ULL * 24 * 3600 * 1000000, &e),
               &e, "ValidationException");
        expect(import(id, &p, wrapped, n, "SOMETIMES", 0, &e), &e, "ValidationException");
        cr_assert_eq(state_of(id, state), 'P', "failed imports changed the state");

        /* Success; the token is used up. */
        expect(import(id, &p, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, NULL);
        cr_assert_eq(mac_of(id, "HMAC_SHA_256", "abc", 3, mac1, &e), 32);
        expect(import(id, &p, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, "InvalidImportTokenException");

        /* Re-import of the same material works; different material does not. */
        expect(get_params(id, "RSAES_OAEP_SHA_256", "RSA_2048", &q, &e), &e, NULL);
        n = wrap(&q, EVP_sha256(), different, sizeof different, wrapped);
        expect(import(id, &q, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, "IncorrectKeyMaterialException");
        n = wrap(&q, EVP_sha256(), key, sizeof key, wrapped);
        expect(import(id, &q, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, NULL);

        /* Deleting the material sends the key back to PendingImport; the same material brings it back. */
        expect(bus_call("DeleteImportedKeyMaterial", &e, NULL, "s", id), &e, NULL);
        cr_assert(bus_key_state(id, state) >= 0);
        cr_assert_str_eq(state, "PendingImport");
        cr_assert_eq(mac_of(id, "HMAC_SHA_256", "abc", 3, mac2, &e), 0);
        expect(-1, &e, "KMSInvalidStateException");
        params_done(&q);
        q = (Params) {};
        expect(get_params(id, "RSAES_OAEP_SHA_256", "RSA_2048", &q, &e), &e, NULL);
        n = wrap(&q, EVP_sha256(), different, sizeof different, wrapped);
        expect(import(id, &q, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, "IncorrectKeyMaterialException");
        n = wrap(&q, EVP_sha256(), key, sizeof key, wrapped);
        expect(import(id, &q, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, NULL);
        cr_assert_eq(mac_of(id, "HMAC_SHA_256", "abc", 3, mac2, &e), 32);
        cr_assert(memcmp(mac1, mac2, 32) == 0);
        expect(bus_call("DeleteImportedKeyMaterial", &e, NULL, "s", plain), &e, "UnsupportedOperationException");
}

/* A token from before a restart is refused; material that expires goes, also while hmacd is down. */
Test(import, restart_and_expiry) {
        _cleanup_(params_done) Params p = {}, q = {};
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint8_t key[48], wrapped[512], mac[64];
        char id[37], id2[37], state[32];
        uint64_t now = (uint64_t) time(NULL) * 1000000;
        size_t n;

        memset(key, 0x5c, sizeof key);
        cr_assert(bus_create_key("HMAC_384", "EXTERNAL", id) >= 0);
        cr_assert(bus_create_key("HMAC_384", "EXTERNAL", id2) >= 0);
        expect(get_params(id, "RSAES_OAEP_SHA_256", "RSA_2048", &p, &e), &e, NULL);
        expect(get_params(id2, "RSAES_OAEP_SHA_256", "RSA_2048", &q, &e), &e, NULL);
        n = wrap(&q, EVP_sha256(), key, sizeof key, wrapped);
        /* Expires in 3 s, counted from now: making the RSA keys above can take seconds on a loaded
         * machine. */
        now = (uint64_t) time(NULL) * 1000000;
        expect(import(id2, &q, wrapped, n, "KEY_MATERIAL_EXPIRES", now + 3000000, &e), &e, NULL);
        cr_assert_eq(mac_of(id2, "HMAC_SHA_384", "x", 1, mac, &e), 48);
        bus_close();

        cr_assert(harness_daemon_kill() >= 0);
        sleep(4);
        cr_assert(harness_daemon_restart() >= 0);

        n = wrap(&p, EVP_sha256(), key, sizeof key, wrapped);
        expect(import(id, &p, wrapped, n, "KEY_MATERIAL_DOES_NOT_EXPIRE", 0, &e), &e, "InvalidImportTokenException");
        cr_assert(bus_key_state(id2, state) >= 0);
        cr_assert_str_eq(state, "PendingImport", "expired material must be gone after the restart");
        cr_assert_eq(mac_of(id2, "HMAC_SHA_384", "x", 1, mac, &e), 0);
        expect(-1, &e, "KMSInvalidStateException");

        /* And while running: 3 s. */
        params_done(&q);
        q = (Params) {};
        expect(get_params(id2, "RSAES_OAEP_SHA_256", "RSA_2048", &q, &e), &e, NULL);
        n = wrap(&q, EVP_sha256(), key, sizeof key, wrapped);
        now = (uint64_t) time(NULL) * 1000000;
        expect(import(id2, &q, wrapped, n, "KEY_MATERIAL_EXPIRES", now + 3000000, &e), &e, NULL);
        cr_assert(bus_key_state(id2, state) >= 0);
        cr_assert_str_eq(state, "Enabled");
        for (int i = 0; i < 150 && bus_key_state(id2, state) >= 0 && streq(state, "Enabled"); i++)
                usleep(100 * 1000);
        cr_assert_str_eq(state, "PendingImport");
}
