/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacctl's import subcommands and generate-mac-batch end to end, with nothing but the CLI and the
 * openssl command: the aws-style flow (create-key --origin EXTERNAL, get-parameters-for-import, wrap
 * with `openssl pkeyutl` as the AWS documentation shows, import-key-material with fileb://), the
 * import-key convenience, deletion of the material, the error lines and exit codes; and batches of
 * MACs, each checked against generate-mac of the same message (or, for a key whose material the test
 * imported, against OpenSSL's HMAC). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli-util.h"
#include "harness.h"
#include "macro.h"

TestSuite(cli_import, .init = harness_setup_daemon, .fini = harness_teardown, .timeout = 240);



/* ---- helpers ---- */

static char *hex(const uint8_t *p, size_t n) {
        char *s = malloc(2 * n + 1);

        cr_assert(s);
        for (size_t i = 0; i < n; i++)
                sprintf(s + 2 * i, "%02X", p[i]);
        return s;
}

/* Writes data to <tmp>/name; returns "fileb://<path>" (free() it). */
static char *write_tmp(const char *name, const void *data, size_t size) {
        _cleanup_free_ char *path = tmp_path(name);
        char *arg;
        int fd;

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        cr_assert(fd >= 0, "open %s: %m", path);
        cr_assert_eq(write(fd, data, size), (ssize_t) size);
        cr_assert(close(fd) == 0);
        cr_assert(asprintf(&arg, "fileb://%s", path) >= 0);
        return arg;
}

static char *read_tmp(const char *name, size_t *ret_size) {
        _cleanup_free_ char *path = tmp_path(name);
        char *data;

        cr_assert(harness_read_file(path, &data, ret_size) >= 0, "cannot read %s", path);
        return data;
}

static void random_bytes(uint8_t *p, size_t n) {
        cr_assert(RAND_bytes(p, (int) n) == 1);
}

/* create-key; returns the KeyId and fills arn (ARN_MAX-ish, 256 bytes). origin NULL: the default. */
static char *create_key(const char *spec, const char *origin, char arn[static 256]) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        const J *md;
        char *id;

        if (origin)
                CTL(&res, "create-key", "--key-spec", spec, "--key-usage", "GENERATE_VERIFY_MAC", "--origin",
                    origin);
        else
                CTL(&res, "create-key", "--key-spec", spec, "--key-usage", "GENERATE_VERIFY_MAC");
        j = run_json(&res, "create-key");
        md = j_need(j, "KeyMetadata", J_OBJECT);
        snprintf(arn, 256, "%s", j_str(md, "Arn"));
        id = strdup(j_str(md, "KeyId"));
        cr_assert(id);
        return id;
}

static J *describe(const char *key_id) {
        _cleanup_(harness_result_done) HarnessResult res = {};

        CTL(&res, "describe-key", "--key-id", key_id);
        return run_json(&res, "describe-key");
}

static void expect_state(const char *key_id, const char *state) {
        _cleanup_(j_freep) J *j = describe(key_id);

        cr_assert_str_eq(j_str(j_need(j, "KeyMetadata", J_OBJECT), "KeyState"), state, "key %s", key_id);
}

/* The MAC hmacctl generate-mac prints for message (any bytes, passed as fileb://), decoded, as
 * upper-case hex. */
static char *cli_mac_hex(const char *key, const void *message, size_t size, const char *alg) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        _cleanup_free_ char *arg = write_tmp("message.bin", message, size);
        _cleanup_free_ uint8_t *mac = NULL;
        size_t mac_size;

        CTL(&res, "generate-mac", "--key-id", key, "--message", arg, "--mac-algorithm", alg);
        j = run_json(&res, "generate-mac");
        mac = b64_decode(j_str(j, "Mac"), &mac_size);
        return hex(mac, mac_size);
}

/* `openssl mac -digest DIGEST -macopt hexkey:... HMAC` over message: upper-case hex. */
static char *openssl_mac_hex(const char *digest, const uint8_t *key, size_t key_size, const void *message,
                             size_t size) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *key_hex = hex(key, key_size), *opt = NULL, *in = tmp_path("openssl-in.bin");
        _cleanup_free_ char *arg = write_tmp("openssl-in.bin", message, size);
        char *mac;

        cr_assert(asprintf(&opt, "hexkey:%s", key_hex) >= 0);
        cr_assert(harness_runl(NULL, &res, "openssl", "mac", "-digest", digest, "-macopt", opt, "-in", in,
                               "HMAC", NULL) >= 0);
        expect_ok(&res, "openssl mac");
        mac = strndup(res.out, strcspn(res.out, "\r\n"));
        cr_assert(mac);
        return mac;
}

/* In-process HMAC, upper-case hex. */
static char *hmac_hex(const EVP_MD *md, const uint8_t *key, size_t key_size, const void *message,
                      size_t size) {
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        cr_assert(HMAC(md, key, (int) key_size, message, size, mac, &n));
        return hex(mac, n);
}

typedef struct ImportParams {
        char *token_arg; /* fileb://<tmp>/token.bin */
        char *token64;
        char *pub_path; /* <tmp>/pub.der */
        time_t valid_to;
} ImportParams;

static void import_params_done(ImportParams *p) {
        free(p->token_arg);
        free(p->token64);
        free(p->pub_path);
}

/* get-parameters-for-import, its output checked, the token and the public key saved as files as one
 * would do with `aws ... --query ImportToken --output text | base64 -d`. */
static void get_params(const char *key, const char *arn, const char *spec, ImportParams *ret) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        _cleanup_free_ uint8_t *token = NULL, *der = NULL;
        _cleanup_free_ char *pub_arg = NULL;
        size_t token_size, der_size;
        struct tm tm = {};
        const char *rest;

        CTL(&res, "get-parameters-for-import", "--key-id", key, "--wrapping-algorithm", "RSAES_OAEP_SHA_256",
            "--wrapping-key-spec", spec);
        j = run_json(&res, "get-parameters-for-import");
        j_assert_keys(j, "KeyId", "ImportToken", "PublicKey", "ParametersValidTo", NULL);
        cr_assert_str_eq(j_str(j, "KeyId"), arn);

        token = b64_decode(j_str(j, "ImportToken"), &token_size);
        cr_assert(token_size >= 1 && token_size <= 6144, "ImportToken of %zu bytes", token_size);
        der = b64_decode(j_str(j, "PublicKey"), &der_size);
        cr_assert(der_size > 200 && der[0] == 0x30, "PublicKey is not DER: %zu bytes", der_size);

        /* "2026-11-23T10:00:00.123456+00:00", 24 hours ahead. */
        rest = strptime(j_str(j, "ParametersValidTo"), "%Y-%m-%dT%H:%M:%S", &tm);
        cr_assert(rest && (streq(rest, "+00:00") || (rest[0] == '.' && streq(rest + 7, "+00:00"))),
                  "ParametersValidTo '%s'", j_str(j, "ParametersValidTo"));
        ret->valid_to = timegm(&tm);
        cr_assert(labs((long) (ret->valid_to - time(NULL) - 24 * 3600)) < 300, "ParametersValidTo '%s'",
                  j_str(j, "ParametersValidTo"));

        ret->token_arg = write_tmp("token.bin", token, token_size);
        ret->token64 = strdup(j_str(j, "ImportToken"));
        cr_assert(ret->token64);
        pub_arg = write_tmp("pub.der", der, der_size);
        ret->pub_path = tmp_path("pub.der");
}

/* Wraps <tmp>/name (the key material) with <tmp>/pub.der as the AWS documentation shows; returns
 * "fileb://<tmp>/wrapped.bin". */
static char *openssl_wrap(const ImportParams *p, const char *name) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *in = tmp_path(name), *out = tmp_path("wrapped.bin");
        char *arg;

        cr_assert(harness_runl(NULL, &res, "openssl", "pkeyutl", "-encrypt", "-pubin", "-keyform", "DER",
                               "-inkey", p->pub_path, "-in", in, "-out", out, "-pkeyopt",
                               "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt",
                               "rsa_mgf1_md:sha256", NULL) >= 0);
        expect_ok(&res, "openssl pkeyutl");
        cr_assert(asprintf(&arg, "fileb://%s", out) >= 0);
        return arg;
}

/* The whole aws-style flow for key, with its material in <tmp>/secret.bin and no expiry. */
static void aws_import(const char *key, const char *arn) {
        _cleanup_(import_params_done) ImportParams p = {};
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *wrapped = NULL;

        get_params(key, arn, "RSA_2048", &p);
        wrapped = openssl_wrap(&p, "secret.bin");
        CTL(&res, "import-key-material", "--key-id", key, "--import-token", p.token_arg,
            "--encrypted-key-material", wrapped, "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE");
        expect_quiet(&res, "import-key-material");
}

/* ---- the aws-style flow ---- */

Test(cli_import, aws_flow_with_openssl_pkeyutl_and_openssl_mac) {
        static const char message[] = "{\"sub\":\"1234567890\",\"name\":\"John Doe\",\"iat\":1516239022}";
        _cleanup_(harness_result_done) HarnessResult pending = {};
        _cleanup_(j_freep) J *created = NULL, *after = NULL;
        _cleanup_free_ char *id = NULL, *secret_arg = NULL, *ours = NULL, *theirs = NULL,
                            *message64 = b64_text(message);
        uint8_t secret[32];
        char arn[256];
        const J *md;

        id = create_key("HMAC_256", "EXTERNAL", arn);
        created = describe(id);
        md = j_need(created, "KeyMetadata", J_OBJECT);
        cr_assert_str_eq(j_str(md, "KeyState"), "PendingImport");
        cr_assert_str_eq(j_str(md, "Origin"), "EXTERNAL");
        cr_assert_str_eq(j_need(md, "Enabled", J_BOOLEAN)->b ? "true" : "false", "false");

        CTL(&pending, "generate-mac", "--key-id", id, "--message", message64, "--mac-algorithm",
            "HMAC_SHA_256");
        expect_service_error(&pending, "KMSInvalidStateException", "GenerateMac", "is pending import.");

        random_bytes(secret, sizeof secret);
        secret_arg = write_tmp("secret.bin", secret, sizeof secret);
        aws_import(id, arn);

        after = describe(id);
        md = j_need(after, "KeyMetadata", J_OBJECT);
        cr_assert_str_eq(j_str(md, "KeyState"), "Enabled");
        cr_assert_str_eq(j_str(md, "ExpirationModel"), "KEY_MATERIAL_DOES_NOT_EXPIRE");
        cr_assert_null(j_get(md, "ValidTo"));

        ours = cli_mac_hex(id, message, strlen(message), "HMAC_SHA_256");
        theirs = openssl_mac_hex("SHA256", secret, sizeof secret, message, strlen(message));
        cr_assert_str_eq(ours, theirs, "hmacd: %s, openssl mac: %s", ours, theirs);
}

/* --import-token and --encrypted-key-material as base64 on the command line, and --valid-to in the
 * forms the aws CLI takes, each giving the same ValidTo. The same material may be imported again. */
Test(cli_import, base64_arguments_and_valid_to_forms) {
        time_t when = (time(NULL) / 60 + 3 * 24 * 60) * 60; /* 3 days ahead, on the minute */
        time_t shifted = when + 2 * 3600, midnight = (time(NULL) / 86400 + 2) * 86400;
        char iso_z[64], iso_offset[64], iso_fraction[64], epoch[32], date_only[32], expected[64],
                expected_midnight[64];
        _cleanup_free_ char *id = NULL, *secret_arg = NULL;
        uint8_t secret[48];
        char arn[256];
        struct tm tm;

        gmtime_r(&when, &tm);
        strftime(iso_z, sizeof iso_z, "%Y-%m-%dT%H:%M:%SZ", &tm);
        strftime(iso_fraction, sizeof iso_fraction, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
        snprintf(epoch, sizeof epoch, "%lld", (long long) when);
        gmtime_r(&shifted, &tm);
        strftime(iso_offset, sizeof iso_offset, "%Y-%m-%d %H:%M:%S+02:00", &tm);
        gmtime_r(&midnight, &tm);
        strftime(date_only, sizeof date_only, "%Y-%m-%d", &tm);
        strftime(expected_midnight, sizeof expected_midnight, "%Y-%m-%dT00:00:00+00:00", &tm);

        const struct {
                const char *valid_to, *expected;
        } cases[] = {
                { iso_z, expected },
                { iso_offset, expected },
                { iso_fraction, expected },
                { epoch, expected },
                { date_only, expected_midnight },
        };

        id = create_key("HMAC_384", "EXTERNAL", arn);
        random_bytes(secret, sizeof secret);
        secret_arg = write_tmp("secret.bin", secret, sizeof secret);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(import_params_done) ImportParams p = {};
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_(j_freep) J *j = NULL;
                _cleanup_free_ char *wrapped_arg = NULL, *wrapped64 = NULL, *wrapped = NULL;
                size_t size;
                const J *md;

                get_params(arn, arn, "RSA_3072", &p);
                wrapped_arg = openssl_wrap(&p, "secret.bin");
                wrapped = read_tmp("wrapped.bin", &size);
                cr_assert_eq(size, 384, "RSA_3072 wraps to 384 bytes, not %zu", size);
                wrapped64 = b64_encode((const uint8_t *) wrapped, size);

                /* No --expiration-model: KEY_MATERIAL_EXPIRES, as in aws. */
                CTL(&res, "import-key-material", "--key-id", arn, "--import-token", p.token64,
                    "--encrypted-key-material", wrapped64, "--valid-to", cases[i].valid_to);
                expect_quiet(&res, cases[i].valid_to);

                j = describe(id);
                md = j_need(j, "KeyMetadata", J_OBJECT);
                cr_assert_str_eq(j_str(md, "KeyState"), "Enabled");
                cr_assert_str_eq(j_str(md, "ExpirationModel"), "KEY_MATERIAL_EXPIRES");
                cr_assert_str_eq(j_str(md, "ValidTo"), cases[i].expected, "--valid-to %s",
                                 cases[i].valid_to);
        }
}

/* ---- import-key: the wrapping done by hmacctl ---- */

Test(cli_import, import_key_convenience) {
        static const struct {
                const char *spec, *alg, *digest, *wrapping;
                size_t size;
        } cases[] = {
                { "HMAC_224", "HMAC_SHA_224", "SHA224", NULL, 28 },
                { "HMAC_256", "HMAC_SHA_256", "SHA256", "RSA_3072", 64 },
                { "HMAC_512", "HMAC_SHA_512", "SHA512", "RSA_2048", 128 },
        };
        static const char message[] = "pepper me";

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_(j_freep) J *j = NULL;
                _cleanup_free_ char *id = NULL, *secret_arg = NULL, *ours = NULL, *theirs = NULL;
                uint8_t secret[128];
                char arn[256];
                const J *md;

                id = create_key(cases[i].spec, "EXTERNAL", arn);
                random_bytes(secret, cases[i].size);
                secret_arg = write_tmp("secret.bin", secret, cases[i].size);
                if (cases[i].wrapping)
                        CTL(&res, "import-key", "--key-id", id, "--key-material", secret_arg,
                            "--wrapping-key-spec", cases[i].wrapping);
                else
                        CTL(&res, "import-key", "--key-id", id, "--key-material", secret_arg);
                expect_quiet(&res, "import-key");

                j = describe(id);
                md = j_need(j, "KeyMetadata", J_OBJECT);
                cr_assert_str_eq(j_str(md, "KeyState"), "Enabled");
                cr_assert_str_eq(j_str(md, "ExpirationModel"), "KEY_MATERIAL_DOES_NOT_EXPIRE");

                ours = cli_mac_hex(id, message, strlen(message), cases[i].alg);
                theirs = openssl_mac_hex(cases[i].digest, secret, cases[i].size, message, strlen(message));
                cr_assert_str_eq(ours, theirs, "%s: hmacd %s, openssl %s", cases[i].spec, ours, theirs);
        }
}

/* The secret from standard input, with an expiry; then the same again (allowed) and another secret
 * (IncorrectKeyMaterialException, named as the ImportKeyMaterial operation). */
Test(cli_import, import_key_from_stdin_with_valid_to_and_reimport) {
        _cleanup_(harness_result_done) HarnessResult first = {}, again = {}, other = {};
        _cleanup_(j_freep) J *j = NULL;
        _cleanup_free_ char *id = NULL, *other_arg = NULL, *ours = NULL, *theirs = NULL;
        uint8_t secret[32], different[32];
        char arn[256], valid_to[32];
        char *argv[] = { (char *) HARNESS_HMACCTL,
                         (char *) "import-key",
                         (char *) "--key-id",
                         NULL,
                         (char *) "--key-material",
                         (char *) "fileb://-",
                         (char *) "--valid-to",
                         valid_to,
                         NULL };
        const J *md;

        id = create_key("HMAC_256", "EXTERNAL", arn);
        argv[3] = id;
        snprintf(valid_to, sizeof valid_to, "%lld", (long long) time(NULL) + 30 * 86400);
        random_bytes(secret, sizeof secret);

        cr_assert(harness_run(NULL, secret, sizeof secret, argv, &first) >= 0);
        expect_quiet(&first, "import-key from stdin");

        j = describe(id);
        md = j_need(j, "KeyMetadata", J_OBJECT);
        cr_assert_str_eq(j_str(md, "KeyState"), "Enabled");
        cr_assert_str_eq(j_str(md, "ExpirationModel"), "KEY_MATERIAL_EXPIRES");
        cr_assert_not_null(j_get(md, "ValidTo"));

        ours = cli_mac_hex(id, "x", 1, "HMAC_SHA_256");
        theirs = openssl_mac_hex("SHA256", secret, sizeof secret, "x", 1);
        cr_assert_str_eq(ours, theirs);

        cr_assert(harness_run(NULL, secret, sizeof secret, argv, &again) >= 0);
        expect_quiet(&again, "import-key of the same material");

        do
                random_bytes(different, sizeof different);
        while (memcmp(different, secret, sizeof secret) == 0);
        other_arg = write_tmp("other.bin", different, sizeof different);
        CTL(&other, "import-key", "--key-id", id, "--key-material", other_arg, "--expiration-model",
            "KEY_MATERIAL_DOES_NOT_EXPIRE");
        expect_service_error(&other, "IncorrectKeyMaterialException", "ImportKeyMaterial", NULL);
}

/* ---- deleting the material ---- */

Test(cli_import, delete_imported_key_material) {
        _cleanup_(harness_result_done) HarnessResult del = {}, mac = {}, del_again = {}, verify = {};
        _cleanup_free_ char *id = NULL, *secret_arg = NULL, *before = NULL, *after = NULL;
        uint8_t secret[40];
        char arn[256];

        id = create_key("HMAC_256", "EXTERNAL", arn);
        random_bytes(secret, sizeof secret);
        secret_arg = write_tmp("secret.bin", secret, sizeof secret);
        aws_import(id, arn);
        before = cli_mac_hex(id, "hello", 5, "HMAC_SHA_256");

        CTL(&del, "delete-imported-key-material", "--key-id", arn);
        expect_quiet(&del, "delete-imported-key-material");
        expect_state(id, "PendingImport");

        CTL(&mac, "generate-mac", "--key-id", id, "--message", "aGVsbG8=", "--mac-algorithm",
            "HMAC_SHA_256");
        expect_service_error(&mac, "KMSInvalidStateException", "GenerateMac", "is pending import.");
        cr_assert(strstr(mac.err, arn), "the message names the key: %s", mac.err);
        CTL(&verify, "verify-mac", "--key-id", id, "--message", "aGVsbG8=", "--mac-algorithm",
            "HMAC_SHA_256", "--mac", "AAAA");
        expect_service_error(&verify, "KMSInvalidStateException", "VerifyMac", "is pending import.");

        /* Deleting again is no error; the same material brings the same key back. */
        CTL(&del_again, "delete-imported-key-material", "--key-id", id);
        expect_quiet(&del_again, "delete-imported-key-material again");
        aws_import(id, arn);
        after = cli_mac_hex(id, "hello", 5, "HMAC_SHA_256");
        cr_assert_str_eq(before, after);
}

/* ---- errors and exit codes ---- */

Test(cli_import, import_errors) {
        _cleanup_free_ char *ext = NULL, *other = NULL, *native = NULL, *secret_arg = NULL, *big_arg = NULL,
                            *short_arg = NULL, *wrapped = NULL, *tampered_arg = NULL, *missing = NULL;
        _cleanup_(import_params_done) ImportParams p = {}, q = {};
        _cleanup_free_ char *wrapped_data = NULL;
        uint8_t secret[32], big[1025], short_secret[16];
        char arn[256], other_arn[256], native_arn[256];
        size_t size;

        ext = create_key("HMAC_256", "EXTERNAL", arn);
        other = create_key("HMAC_256", "EXTERNAL", other_arn);
        native = create_key("HMAC_256", NULL, native_arn);
        random_bytes(secret, sizeof secret);
        secret_arg = write_tmp("secret.bin", secret, sizeof secret);
        missing = tmp_path("no-such-file");

        {
                _cleanup_(harness_result_done) HarnessResult r1 = {}, r2 = {}, r3 = {}, r4 = {}, r5 = {},
                                                             r6 = {};

                /* Not an EXTERNAL key. */
                CTL(&r1, "get-parameters-for-import", "--key-id", native, "--wrapping-algorithm",
                    "RSAES_OAEP_SHA_256", "--wrapping-key-spec", "RSA_2048");
                expect_service_error(&r1, "UnsupportedOperationException", "GetParametersForImport",
                                     "origin is HMACD which is not valid for this operation.");
                CTL(&r2, "import-key", "--key-id", native, "--key-material", secret_arg);
                expect_service_error(&r2, "UnsupportedOperationException", "GetParametersForImport", NULL);
                CTL(&r3, "delete-imported-key-material", "--key-id", native);
                expect_service_error(&r3, "UnsupportedOperationException", "DeleteImportedKeyMaterial",
                                     NULL);

                /* Bad enums, told by the service. */
                CTL(&r4, "get-parameters-for-import", "--key-id", ext, "--wrapping-algorithm",
                    "RSAES_PKCS1_V1_6", "--wrapping-key-spec", "RSA_2048");
                expect_service_error(&r4, "ValidationException", "GetParametersForImport",
                                     "wrappingAlgorithm");
                CTL(&r5, "import-key", "--key-id", ext, "--key-material", secret_arg, "--wrapping-key-spec",
                    "RSA_1024");
                expect_service_error(&r5, "ValidationException", "GetParametersForImport",
                                     "wrappingKeySpec");

                /* A key that does not exist. */
                CTL(&r6, "import-key", "--key-id", "11111111-2222-4333-8444-555555555555", "--key-material",
                    secret_arg);
                expect_service_error(&r6, "NotFoundException", "GetParametersForImport", "does not exist");
        }

        {
                _cleanup_(harness_result_done) HarnessResult r1 = {}, r2 = {}, r3 = {}, r4 = {}, r5 = {},
                                                             r6 = {}, r7 = {};
                _cleanup_free_ char *missing_arg = NULL;

                /* The command line: 252 before anything is sent. */
                CTL(&r1, "get-parameters-for-import", "--key-id", ext, "--wrapping-algorithm",
                    "RSAES_OAEP_SHA_256");
                expect_fail(&r1, 252, "the following arguments are required: --wrapping-key-spec",
                            "no spec");
                CTL(&r2, "import-key-material", "--key-id", ext, "--import-token", "not base64!",
                    "--encrypted-key-material", "AAAA", "--expiration-model",
                    "KEY_MATERIAL_DOES_NOT_EXPIRE");
                expect_fail(&r2, 255, "Invalid base64: \"not base64!\"", "bad base64");
                cr_assert(asprintf(&missing_arg, "fileb://%s", missing) >= 0);
                CTL(&r3, "import-key-material", "--key-id", ext, "--import-token", missing_arg,
                    "--encrypted-key-material", "AAAA", "--expiration-model",
                    "KEY_MATERIAL_DOES_NOT_EXPIRE");
                expect_fail(&r3, 252, "Unable to load paramfile", "missing file");
                CTL(&r4, "import-key-material", "--key-id", ext, "--import-token", "AAAA",
                    "--encrypted-key-material", "AAAA", "--valid-to", "next tuesday");
                expect_fail(&r4, 252, "Error parsing parameter '--valid-to': Invalid timestamp", "bad time");
                CTL(&r5, "import-key-material", "--key-id", ext, "--import-token", "AAAA",
                    "--encrypted-key-material", "AAAA", "--valid-to", "2026-02-30T00:00:00Z");
                expect_fail(&r5, 252, "Invalid timestamp", "no such day");

                /* The secret only ever from a file, and not a large one. */
                CTL(&r6, "import-key", "--key-id", ext, "--key-material",
                    "0123456789abcdef0123456789abcdef");
                expect_fail(&r6, 252, "Error parsing parameter '--key-material': expected fileb://PATH",
                            "secret on the command line");
                random_bytes(big, sizeof big);
                big_arg = write_tmp("big.bin", big, sizeof big);
                CTL(&r7, "import-key", "--key-id", ext, "--key-material", big_arg);
                expect_fail(&r7, 252, "larger than 1024 bytes", "1025-byte secret");
        }

        {
                _cleanup_(harness_result_done) HarnessResult r1 = {}, r2 = {}, r3 = {}, r4 = {}, r5 = {},
                                                             r6 = {};

                get_params(ext, arn, "RSA_2048", &p);
                wrapped = openssl_wrap(&p, "secret.bin");

                /* KEY_MATERIAL_EXPIRES (the default) needs --valid-to; the other model refuses one. */
                CTL(&r1, "import-key-material", "--key-id", ext, "--import-token", p.token_arg,
                    "--encrypted-key-material", wrapped);
                expect_service_error(
                        &r1, "ValidationException", "ImportKeyMaterial",
                        "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES");
                CTL(&r2, "import-key-material", "--key-id", ext, "--import-token", p.token_arg,
                    "--encrypted-key-material", wrapped, "--expiration-model",
                    "KEY_MATERIAL_DOES_NOT_EXPIRE", "--valid-to", "2099-01-01");
                expect_service_error(&r2, "ValidationException", "ImportKeyMaterial", "ValidTo");
                CTL(&r3, "import-key-material", "--key-id", ext, "--import-token", p.token_arg,
                    "--encrypted-key-material", wrapped, "--expiration-model", "KEY_MATERIAL_NEVER_EXPIRES");
                expect_service_error(&r3, "ValidationException", "ImportKeyMaterial", "expirationModel");

                /* The token of another key. */
                CTL(&r4, "import-key-material", "--key-id", other, "--import-token", p.token_arg,
                    "--encrypted-key-material", wrapped, "--expiration-model",
                    "KEY_MATERIAL_DOES_NOT_EXPIRE");
                expect_service_error(&r4, "InvalidImportTokenException", "ImportKeyMaterial", NULL);

                /* Tampered ciphertext. */
                wrapped_data = read_tmp("wrapped.bin", &size);
                wrapped_data[size / 2] ^= 0x01;
                tampered_arg = write_tmp("tampered.bin", wrapped_data, size);
                CTL(&r5, "import-key-material", "--key-id", ext, "--import-token", p.token_arg,
                    "--encrypted-key-material", tampered_arg, "--expiration-model",
                    "KEY_MATERIAL_DOES_NOT_EXPIRE");
                expect_service_error(&r5, "InvalidCiphertextException", "ImportKeyMaterial", NULL);

                /* The key is still waiting, and the real ciphertext still goes in. */
                expect_state(ext, "PendingImport");
                CTL(&r6, "import-key-material", "--key-id", ext, "--import-token", p.token_arg,
                    "--encrypted-key-material", wrapped, "--expiration-model",
                    "KEY_MATERIAL_DOES_NOT_EXPIRE");
                expect_quiet(&r6, "import-key-material after the failures");
                expect_state(ext, "Enabled");
        }

        {
                _cleanup_(harness_result_done) HarnessResult r1 = {}, r2 = {};

                /* The token is used up. */
                CTL(&r1, "import-key-material", "--key-id", ext, "--import-token", p.token_arg,
                    "--encrypted-key-material", wrapped, "--expiration-model",
                    "KEY_MATERIAL_DOES_NOT_EXPIRE");
                expect_service_error(&r1, "InvalidImportTokenException", "ImportKeyMaterial", NULL);

                /* Material outside the window of the spec: the service's ValidationException. */
                random_bytes(short_secret, sizeof short_secret);
                short_arg = write_tmp("short.bin", short_secret, sizeof short_secret);
                CTL(&r2, "import-key", "--key-id", other, "--key-material", short_arg);
                expect_service_error(&r2, "ValidationException", "ImportKeyMaterial", "32 to 64 bytes");
                expect_state(other, "PendingImport");
        }

        {
                _cleanup_(harness_result_done) HarnessResult r1 = {}, r2 = {};

                /* No service: 255, as the aws CLI for an endpoint it cannot reach. */
                cr_assert(harness_daemon_stop(NULL) >= 0);
                CTL(&r1, "import-key", "--key-id", other, "--key-material", secret_arg);
                expect_fail(&r1, 255, "Could not connect", "import-key without the daemon");
                CTL(&r2, "delete-imported-key-material", "--key-id", other);
                expect_fail(&r2, 255, "Could not connect",
                            "delete-imported-key-material without the daemon");
        }
}

Test(cli_import, help_and_required_options) {
        static const struct {
                const char *verb;
                const char *options[6];
        } verbs[] = {
                { "get-parameters-for-import",
                  { "--key-id", "--wrapping-algorithm", "--wrapping-key-spec" } },
                { "import-key-material",
                  { "--key-id", "--import-token", "--encrypted-key-material", "--expiration-model",
                    "--valid-to" } },
                { "delete-imported-key-material", { "--key-id" } },
                { "import-key",
                  { "--key-id", "--key-material", "--wrapping-key-spec", "--expiration-model",
                    "--valid-to" } },
                { "generate-mac-batch", { "--key-id", "--mac-algorithm", "--messages", "--format" } },
        };
        _cleanup_(harness_result_done) HarnessResult global = {};

        CTL(&global, "--help");
        expect_ok(&global, "--help");

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                _cleanup_(harness_result_done) HarnessResult help = {}, bare = {};
                char listed[64];

                snprintf(listed, sizeof listed, "\n  %s ", verbs[i].verb);
                cr_assert(strstr(global.out, listed), "hmacctl --help does not list %s", verbs[i].verb);

                CTL(&help, verbs[i].verb, "--help");
                expect_ok(&help, verbs[i].verb);
                for (size_t k = 0; k < ELEMENTSOF(verbs[i].options) && verbs[i].options[k]; k++) {
                        char line[64];

                        snprintf(line, sizeof line, "\n  %s ", verbs[i].options[k]);
                        cr_assert(strstr(help.out, line), "%s --help does not describe %s:\n%s",
                                  verbs[i].verb, verbs[i].options[k], help.out);
                }

                CTL(&bare, verbs[i].verb);
                expect_fail(&bare, 252, "the following arguments are required: --key-id", verbs[i].verb);
        }
}

/* ---- generate-mac-batch ---- */

/* Fails, saying why, unless the daemon serves GenerateMacBatch (API.md section 3). */
static void require_batch(void) {
        _cleanup_(harness_result_done) HarnessResult res = {};

        cr_assert(harness_runl(NULL, &res, "busctl", "--system", "introspect", HARNESS_BUS_NAME,
                               HARNESS_OBJECT_PATH, HARNESS_INTERFACE, NULL) >= 0);
        expect_ok(&res, "busctl introspect");
        cr_assert(strstr(res.out, ".GenerateMacBatch"),
                  "the daemon does not serve GenerateMacBatch (API.md section 3); its interface:\n%s",
                  res.out);
}

/* Runs generate-mac-batch (JSON), checks the shape; returns the Macs array's J (owned by *ret_j). */
static const J *batch(J **ret_j, const char *key, const char *arn, const char *alg, const char *messages_arg,
                      const char *format, size_t n) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        const J *macs;

        if (format)
                CTL(&res, "generate-mac-batch", "--key-id", key, "--mac-algorithm", alg, "--messages",
                    messages_arg, "--format", format);
        else
                CTL(&res, "generate-mac-batch", "--key-id", key, "--mac-algorithm", alg, "--messages",
                    messages_arg);
        *ret_j = run_json(&res, "generate-mac-batch");
        j_assert_keys(*ret_j, "KeyId", "MacAlgorithm", "Macs", NULL);
        cr_assert_str_eq(j_str(*ret_j, "KeyId"), arn);
        cr_assert_str_eq(j_str(*ret_j, "MacAlgorithm"), alg);
        macs = j_need(*ret_j, "Macs", J_ARRAY);
        cr_assert_eq(macs->n, n, "%zu MACs for %zu messages", macs->n, n);
        for (size_t i = 0; i < n; i++)
                cr_assert_eq(macs->items[i]->type, J_STRING);
        return macs;
}

static void expect_mac_of(const J *mac64, const char *key, const void *message, size_t size,
                          const char *alg) {
        _cleanup_free_ uint8_t *mac = NULL;
        _cleanup_free_ char *got = NULL, *want = NULL;
        size_t mac_size;

        mac = b64_decode(mac64->s, &mac_size);
        got = hex(mac, mac_size);
        want = cli_mac_hex(key, message, size, alg);
        cr_assert_str_eq(got, want, "batch MAC of a %zu-byte message differs from generate-mac", size);
}

Test(cli_import, generate_mac_batch_lines_equal_generate_mac) {
        static const char input[] =
                "alpha\nbeta\n{\"sub\":42}\n\x01\xff\x7f binary\r\nlast, without a newline";
        static const char *const messages[] = { "alpha", "beta", "{\"sub\":42}", "\x01\xff\x7f binary\r",
                                                "last, without a newline" };
        _cleanup_(harness_result_done) HarnessResult text = {}, stdin_res = {};
        _cleanup_(j_freep) J *j = NULL, *j2 = NULL;
        _cleanup_free_ char *id = NULL, *arg = NULL;
        char arn[256];
        const J *macs;
        const char *line;

        require_batch();
        id = create_key("HMAC_384", NULL, arn);
        arg = write_tmp("messages.txt", input, strlen(input));

        macs = batch(&j, id, arn, "HMAC_SHA_384", arg, NULL, ELEMENTSOF(messages));
        for (size_t i = 0; i < ELEMENTSOF(messages); i++)
                expect_mac_of(macs->items[i], id, messages[i], strlen(messages[i]), "HMAC_SHA_384");

        /* --format lines said out loud, and the key by its ARN: the same. */
        const J *again = batch(&j2, arn, arn, "HMAC_SHA_384", arg, "lines", ELEMENTSOF(messages));
        for (size_t i = 0; i < ELEMENTSOF(messages); i++)
                cr_assert_str_eq(again->items[i]->s, macs->items[i]->s);

        /* Text: the MACs alone, one per line, in order. */
        CTL(&text, "--output", "text", "generate-mac-batch", "--key-id", id, "--mac-algorithm",
            "HMAC_SHA_384", "--messages", arg);
        expect_ok(&text, "generate-mac-batch --output text");
        line = text.out;
        for (size_t i = 0; i < ELEMENTSOF(messages); i++) {
                size_t n = strcspn(line, "\n");

                cr_assert(n == strlen(macs->items[i]->s) && strncmp(line, macs->items[i]->s, n) == 0 &&
                                  line[n] == '\n',
                          "line %zu of the text output: %s", i, text.out);
                line += n + 1;
        }
        cr_assert_str_eq(line, "", "more text output: %s", line);

        /* Standard input. */
        char *argv[] = { (char *) HARNESS_HMACCTL,
                         (char *) "--output",
                         (char *) "text",
                         (char *) "generate-mac-batch",
                         (char *) "--key-id",
                         id,
                         (char *) "--mac-algorithm",
                         (char *) "HMAC_SHA_384",
                         (char *) "--messages",
                         (char *) "fileb://-",
                         NULL };
        cr_assert(harness_run(NULL, input, strlen(input), argv, &stdin_res) >= 0);
        expect_ok(&stdin_res, "generate-mac-batch from standard input");
        cr_assert_str_eq(stdin_res.out, text.out);
}

Test(cli_import, generate_mac_batch_length_prefixed) {
        _cleanup_(j_freep) J *j = NULL;
        _cleanup_free_ char *id = NULL, *arg = NULL;
        _cleanup_free_ uint8_t *input = NULL;
        uint8_t big[4096], one = '\n';
        const struct {
                const void *data;
                size_t size;
        } messages[] = {
                { "line one\nline two\n", 18 },
                { &one, 1 },
                { big, sizeof big },
                { "\0\0\0\0", 4 },
        };
        size_t size = 0;
        char arn[256];
        const J *macs;

        require_batch();
        random_bytes(big, sizeof big);
        input = malloc(sizeof big + 64);
        cr_assert(input);
        for (size_t i = 0; i < ELEMENTSOF(messages); i++) {
                uint32_t n = (uint32_t) messages[i].size;

                input[size++] = n >> 24;
                input[size++] = n >> 16;
                input[size++] = n >> 8;
                input[size++] = n;
                memcpy(input + size, messages[i].data, n);
                size += n;
        }

        id = create_key("HMAC_224", NULL, arn);
        arg = write_tmp("messages.bin", input, size);
        macs = batch(&j, id, arn, "HMAC_SHA_224", arg, "length-prefixed", ELEMENTSOF(messages));
        for (size_t i = 0; i < ELEMENTSOF(messages); i++)
                expect_mac_of(macs->items[i], id, messages[i].data, messages[i].size, "HMAC_SHA_224");
}

/* The largest batch, 4096 messages, under a key whose material we imported, so that every MAC can be
 * checked with OpenSSL in the test; one more message is refused before anything is sent. */
Test(cli_import, generate_mac_batch_4096_messages_against_openssl) {
        _cleanup_(harness_result_done) HarnessResult imp = {}, over = {};
        _cleanup_(j_freep) J *j = NULL;
        _cleanup_free_ char *id = NULL, *secret_arg = NULL, *arg = NULL, *over_arg = NULL, *input = NULL;
        uint8_t secret[64];
        size_t size = 0;
        char arn[256];
        const J *macs;

        require_batch();
        id = create_key("HMAC_512", "EXTERNAL", arn);
        random_bytes(secret, sizeof secret);
        secret_arg = write_tmp("secret.bin", secret, sizeof secret);
        CTL(&imp, "import-key", "--key-id", id, "--key-material", secret_arg);
        expect_quiet(&imp, "import-key");

        input = malloc(4097 * 32);
        cr_assert(input);
        for (unsigned i = 0; i < 4096; i++)
                size += (size_t) sprintf(input + size, "message number %u\n", i);
        arg = write_tmp("4096.txt", input, size);

        macs = batch(&j, id, arn, "HMAC_SHA_512", arg, NULL, 4096);
        for (unsigned i = 0; i < 4096; i++) {
                _cleanup_free_ uint8_t *mac = NULL;
                _cleanup_free_ char *got = NULL, *want = NULL;
                char message[32];
                size_t mac_size;

                snprintf(message, sizeof message, "message number %u", i);
                mac = b64_decode(macs->items[i]->s, &mac_size);
                got = hex(mac, mac_size);
                want = hmac_hex(EVP_sha512(), secret, sizeof secret, message, strlen(message));
                cr_assert_str_eq(got, want, "MAC %u", i);
        }
        expect_mac_of(macs->items[4095], id, "message number 4095", 19, "HMAC_SHA_512");

        size += (size_t) sprintf(input + size, "one too many\n");
        over_arg = write_tmp("4097.txt", input, size);
        CTL(&over, "generate-mac-batch", "--key-id", id, "--mac-algorithm", "HMAC_SHA_512", "--messages",
            over_arg);
        expect_fail(&over, 252, "more than 4096 messages", "4097 messages");
}

Test(cli_import, generate_mac_batch_errors) {
        _cleanup_free_ char *id = NULL, *ext = NULL, *ok_arg = NULL, *empty_line_arg = NULL,
                            *empty_arg = NULL, *long_arg = NULL, *truncated_arg = NULL, *long_msg = NULL;
        char arn[256], ext_arn[256];
        static const uint8_t truncated[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 9, 'x' };

        require_batch();
        id = create_key("HMAC_256", NULL, arn);
        ext = create_key("HMAC_256", "EXTERNAL", ext_arn);
        ok_arg = write_tmp("ok.txt", "one\ntwo\n", 8);
        empty_line_arg = write_tmp("empty-line.txt", "one\n\ntwo\n", 9);
        empty_arg = write_tmp("empty.txt", "", 0);
        long_msg = malloc(4098);
        cr_assert(long_msg);
        memset(long_msg, 'a', 4097);
        long_msg[4097] = '\n';
        long_arg = write_tmp("long.txt", long_msg, 4098);
        truncated_arg = write_tmp("truncated.bin", truncated, sizeof truncated);

        {
                _cleanup_(harness_result_done) HarnessResult r1 = {}, r2 = {}, r3 = {}, r4 = {}, r5 = {},
                                                             r6 = {};

                /* The service: all or nothing. */
                CTL(&r1, "generate-mac-batch", "--key-id", id, "--mac-algorithm", "HMAC_SHA_256",
                    "--messages", empty_line_arg);
                expect_service_error(&r1, "ValidationException", "GenerateMacBatch", NULL);
                CTL(&r2, "generate-mac-batch", "--key-id", id, "--mac-algorithm", "HMAC_SHA_256",
                    "--messages", empty_arg);
                expect_service_error(&r2, "ValidationException", "GenerateMacBatch", NULL);
                CTL(&r3, "generate-mac-batch", "--key-id", id, "--mac-algorithm", "HMAC_SHA_256",
                    "--messages", long_arg);
                expect_service_error(&r3, "ValidationException", "GenerateMacBatch", NULL);
                CTL(&r4, "generate-mac-batch", "--key-id", id, "--mac-algorithm", "HMAC_SHA_512",
                    "--messages", ok_arg);
                expect_service_error(&r4, "InvalidKeyUsageException", "GenerateMacBatch", NULL);
                CTL(&r5, "generate-mac-batch", "--key-id", "alias/no-such-alias", "--mac-algorithm",
                    "HMAC_SHA_256", "--messages", ok_arg);
                expect_service_error(&r5, "NotFoundException", "GenerateMacBatch", NULL);
                CTL(&r6, "generate-mac-batch", "--key-id", ext, "--mac-algorithm", "HMAC_SHA_256",
                    "--messages", ok_arg);
                expect_service_error(&r6, "KMSInvalidStateException", "GenerateMacBatch",
                                     "is pending import.");
        }

        {
                _cleanup_(harness_result_done) HarnessResult r1 = {}, r2 = {}, r3 = {}, r4 = {};

                /* The command line. */
                CTL(&r1, "generate-mac-batch", "--key-id", id, "--mac-algorithm", "HMAC_SHA_256",
                    "--messages", truncated_arg, "--format", "length-prefixed");
                expect_fail(&r1, 252, "the length-prefixed record at byte 7 runs past the end", "truncated");
                CTL(&r2, "generate-mac-batch", "--key-id", id, "--mac-algorithm", "HMAC_SHA_256",
                    "--messages", ok_arg, "--format", "csv");
                expect_fail(&r2, 252, "argument --format: Invalid choice 'csv'", "bad format");
                CTL(&r3, "generate-mac-batch", "--key-id", id, "--mac-algorithm", "HMAC_SHA_256",
                    "--messages", "one\ntwo");
                expect_fail(&r3, 252, "Error parsing parameter '--messages': expected fileb://PATH",
                            "literal");
                CTL(&r4, "generate-mac-batch", "--key-id", id, "--messages", ok_arg);
                expect_fail(&r4, 252, "the following arguments are required: --mac-algorithm",
                            "no algorithm");
        }
}
