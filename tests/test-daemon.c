/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration tests of the core service: a private dbus-daemon, hmacd running as its own user with
 * the real kernel keyring, called through libhmacd, busctl and hmacctl. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <keyutils.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <sys/wait.h>

#include "harness.h"
#include "key-specs.h"
#include "hmacd.h"
#include "ident.h"

static inline void hmacd_closep(Hmacd **h) {
        hmacd_close(*h);
}

static Hmacd *bus_open(void) {
        Hmacd *h = NULL;
        int r = hmacd_open(HMACD_BUS_SYSTEM, &h);
        cr_assert(r >= 0, "hmacd_open: %s", strerror(-r));
        return h;
}

static HmacdKeyMetadata *create(Hmacd *h, const char *spec) {
        HmacdKeyMetadata *md = NULL;
        HmacdError e = {};
        int r = hmacd_create_key(h, spec, "GENERATE_VERIFY_MAC", "test key", NULL, 0, NULL, &md, &e);
        cr_assert(r >= 0, "CreateKey %s: %s: %s", spec, e.name, e.message);
        hmacd_error_clear(&e);
        return md;
}

static size_t count_keys(Hmacd *h) {
        HmacdKeyList *l = NULL;
        size_t n;
        cr_assert(hmacd_list_keys(h, 1000, NULL, &l, NULL) >= 0);
        cr_assert(!l->truncated);
        n = l->n_keys;
        hmacd_key_list_free(l);
        return n;
}

/* Asserts that r is a failure with the exception name and (a part of) the message. */
static void expect_error(int r, HmacdError *e, const char *name, const char *message_part) {
        cr_assert(r < 0, "expected %s, but the call succeeded", name);
        cr_assert(e->name, "expected %s, got errno %s without an error name", name, strerror(-r));
        cr_assert(streq(e->name, name), "expected %s, got %s: %s", name, e->name, e->message);
        if (message_part)
                cr_assert(strstr(e->message, message_part), "message '%s' lacks '%s'", e->message, message_part);
        hmacd_error_clear(e);
}

static size_t mac_of(Hmacd *h, const char *key_id, const char *alg, const char *msg, uint8_t mac[static 64]) {
        HmacdError e = {};
        size_t n = 0;
        int r = hmacd_generate_mac(h, key_id, msg, strlen(msg), alg, mac, &n, NULL, &e);
        cr_assert(r >= 0, "GenerateMac: %s: %s", e.name, e.message);
        return n;
}

TestSuite(daemon, .init = harness_setup_daemon, .fini = harness_teardown, .timeout = 120);

Test(daemon, create_every_spec_and_mac) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        char machine_id[MACHINE_ID_MAX + 1], arn[ARN_MAX];

        machine_id_read(NULL, machine_id);
        for (size_t i = 0; i < TEST_KEY_SPECS_N; i++) {
                HmacdKeyMetadata *md = create(h, test_key_specs[i].spec), *d = NULL;
                uint8_t mac[64], mac2[64];
                HmacdError e = {};

                cr_assert(key_id_is_valid(md->key_id), "%s", md->key_id);
                key_arn_format(arn, sizeof arn, machine_id, md->key_id);
                cr_assert_str_eq(md->arn, arn);
                cr_assert_str_eq(md->key_spec, test_key_specs[i].spec);
                cr_assert_str_eq(md->mac_algorithm, test_key_specs[i].alg);
                cr_assert_str_eq(md->key_state, "Enabled");
                cr_assert(md->enabled);
                cr_assert_str_eq(md->origin, "HMACD");
                cr_assert_str_eq(md->key_manager, "CUSTOMER");
                cr_assert_str_eq(md->key_usage, "GENERATE_VERIFY_MAC");
                cr_assert_str_eq(md->description, "test key");
                cr_assert_eq(md->owner_uid, 0);
                cr_assert_str_eq(md->owner, "root");
                cr_assert(md->creation_date > 1700000000000000ULL);
                cr_assert(!md->multi_region);

                cr_assert_eq(mac_of(h, md->key_id, test_key_specs[i].alg, "hello", mac), test_key_specs[i].mac_size);
                /* Same key, same message: same tag, through the ARN as well as the ID. */
                cr_assert_eq(mac_of(h, md->arn, test_key_specs[i].alg, "hello", mac2), test_key_specs[i].mac_size);
                cr_assert(memcmp(mac, mac2, test_key_specs[i].mac_size) == 0);
                cr_assert(hmacd_verify_mac(h, md->key_id, "hello", 5, test_key_specs[i].alg, mac, test_key_specs[i].mac_size, NULL, &e) == 0,
                          "VerifyMac: %s", e.name);
                mac_of(h, md->key_id, test_key_specs[i].alg, "hellO", mac2);
                cr_assert(memcmp(mac, mac2, test_key_specs[i].mac_size) != 0);

                cr_assert(hmacd_describe_key(h, md->arn, &d, &e) >= 0);
                cr_assert_str_eq(d->key_id, md->key_id);
                cr_assert_eq(d->creation_date, md->creation_date);
                hmacd_key_metadata_free(d);
                hmacd_key_metadata_free(md);
        }
        cr_assert_eq(count_keys(h), TEST_KEY_SPECS_N);
}

Test(daemon, different_keys_give_different_macs) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *a = create(h, "HMAC_256"), *b = create(h, "HMAC_256");
        uint8_t ma[64], mb[64];

        mac_of(h, a->key_id, "HMAC_SHA_256", "message", ma);
        mac_of(h, b->key_id, "HMAC_SHA_256", "message", mb);
        cr_assert(memcmp(ma, mb, 32) != 0);
        hmacd_key_metadata_free(a);
        hmacd_key_metadata_free(b);
}

Test(daemon, create_key_validation) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        _cleanup_free_ char *long_desc = malloc(8194), *utf8_desc = malloc(8192 * 2 + 1), *long_tag = malloc(130),
                            *long_value = malloc(258);
        char expected[512];
        HmacdTag many[51], reserved[] = { { "aws:x", "v" } }, reserved2[] = { { "hmacd:x", "v" } },
                           reserved_upper[] = { { "AWS:key1", "v" } }, too_long[] = { { long_tag, "v" } },
                           second_too_long[] = { { "a", "v" }, { "b", long_value } };
        char names[51][8];
        HmacdKeyMetadata *md = NULL;
        HmacdError e = {};

        memset(long_desc, 'd', 8193);
        long_desc[8193] = 0;
        for (size_t i = 0; i < 8192; i++)
                memcpy(utf8_desc + 2 * i, "\xc3\xa9", 2);
        utf8_desc[8192 * 2] = 0;
        memset(long_tag, 'k', 129);
        long_tag[129] = 0;
        memset(long_value, 'v', 257);
        long_value[257] = 0;
        for (size_t i = 0; i < 51; i++) {
                snprintf(names[i], sizeof names[i], "t%zu", i);
                many[i] = (HmacdTag) { names[i], "v" };
        }

        expect_error(hmacd_create_key(h, "HMAC_random", "GENERATE_VERIFY_MAC", "", NULL, 0, NULL, &md, &e), &e,
                     "ValidationException", "Value 'HMAC_random' at 'keySpec' failed to satisfy constraint");
        expect_error(hmacd_create_key(h, "RSA_2048", "SIGN_VERIFY", "", NULL, 0, NULL, &md, &e), &e,
                     "UnsupportedOperationException", "RSA_2048");
        expect_error(hmacd_create_key(h, "", "", "", NULL, 0, NULL, &md, &e), &e, "UnsupportedOperationException",
                     "SYMMETRIC_DEFAULT");
        expect_error(hmacd_create_key(h, "HMAC_256", "", "", NULL, 0, NULL, &md, &e), &e, "ValidationException",
                     "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.");
        expect_error(hmacd_create_key(h, "HMAC_256", "RANDOM", "", NULL, 0, NULL, &md, &e), &e,
                     "ValidationException", "Value 'RANDOM' at 'keyUsage' failed to satisfy constraint");
        expect_error(hmacd_create_key(h, "HMAC_256", "ENCRYPT_DECRYPT", "", NULL, 0, NULL, &md, &e), &e,
                     "ValidationException", "KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec HMAC_256");
        expect_error(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", long_desc, NULL, 0, NULL, &md, &e), &e,
                     "ValidationException", "Member must have length less than or equal to 8192");
        expect_error(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", "", many, 51, NULL, &md, &e), &e,
                     "TagException", "Too many tags");
        expect_error(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", "", reserved, 1, NULL, &md, &e), &e,
                     "TagException", "Tags beginning with aws: are reserved");
        expect_error(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", "", reserved2, 1, NULL, &md, &e), &e,
                     "TagException", "reserved");
        expect_error(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", "", reserved_upper, 1, NULL, &md, &e),
                     &e, "TagException", "Tags beginning with aws: are reserved");
        /* AWS's wording: the value and the member's place in the request. */
        snprintf(expected, sizeof expected,
                 "1 validation error detected: Value '%s' at 'tags.1.member.tagKey' failed to satisfy constraint: "
                 "Member must have length less than or equal to 128",
                 long_tag);
        expect_error(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", "", too_long, 1, NULL, &md, &e), &e,
                     "ValidationException", expected);
        snprintf(expected, sizeof expected, "Value '%s' at 'tags.2.member.tagValue'", long_value);
        expect_error(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", "", second_too_long, 2, NULL, &md, &e),
                     &e, "ValidationException", expected);
        expect_error(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", "", NULL, 0, "AWS_CLOUDHSM", &md, &e),
                     &e, "ValidationException", "at 'origin'");
        /* Failed calls change nothing. */
        cr_assert_eq(count_keys(h), 0);

        /* The limits themselves are allowed: 8192 characters (of two bytes each) and 50 tags. */
        cr_assert(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", utf8_desc, many, 50, NULL, &md, &e) >= 0,
                  "%s: %s", e.name, e.message);
        cr_assert_str_eq(md->description, utf8_desc);
        hmacd_key_metadata_free(md);
        cr_assert_eq(count_keys(h), 1);
}

Test(daemon, invalid_utf8_never_reaches_the_daemon) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md = NULL;
        HmacdError e = {};
        int r;

        /* D-Bus strings are UTF-8; sd-bus refuses to send anything else, and the daemon is unharmed. */
        r = hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", "bad \xff\xfe", NULL, 0, NULL, &md, &e);
        cr_assert(r < 0);
        hmacd_error_clear(&e);
        r = hmacd_describe_key(h, "\xc3\x28", &md, &e);
        cr_assert(r < 0);
        hmacd_error_clear(&e);
        cr_assert(harness_daemon_running());
        cr_assert_eq(count_keys(h), 0);
}

Test(daemon, external_origin_waits_for_import) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md = NULL;
        HmacdError e = {};
        uint8_t mac[64];
        size_t n;
        char want[ARN_MAX + 32];

        cr_assert(hmacd_create_key(h, "HMAC_384", "GENERATE_VERIFY_MAC", "", NULL, 0, "EXTERNAL", &md, &e) >= 0);
        cr_assert_str_eq(md->key_state, "PendingImport");
        cr_assert_str_eq(md->origin, "EXTERNAL");
        cr_assert(!md->enabled);
        snprintf(want, sizeof want, "%s is pending import.", md->arn);
        expect_error(hmacd_generate_mac(h, md->key_id, "x", 1, "HMAC_SHA_384", mac, &n, NULL, &e), &e,
                     "KMSInvalidStateException", want);
        hmacd_key_metadata_free(md);
}

Test(daemon, generate_mac_bad_input) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md = create(h, "HMAC_224");
        _cleanup_free_ char *big = calloc(1, 4097), *long_id = calloc(1, 2050);
        char absent[128], foreign[256];
        uint8_t mac[64];
        HmacdError e = {};
        size_t n;

        memset(long_id, 'a', 2049);
        expect_error(hmacd_generate_mac(h, md->key_id, "", 0, "HMAC_SHA_224", mac, &n, NULL, &e), &e,
                     "ValidationException", "Member must have length greater than or equal to 1");
        expect_error(hmacd_generate_mac(h, md->key_id, big, 4097, "HMAC_SHA_224", mac, &n, NULL, &e), &e,
                     "ValidationException", "Member must have length less than or equal to 4096");
        cr_assert(hmacd_generate_mac(h, md->key_id, big, 4096, "HMAC_SHA_224", mac, &n, NULL, &e) >= 0);
        cr_assert_eq(n, 28);
        expect_error(hmacd_generate_mac(h, md->key_id, "m", 1, "HMAC_SHA_256", mac, &n, NULL, &e), &e,
                     "InvalidKeyUsageException", "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.");
        expect_error(hmacd_generate_mac(h, md->key_id, "m", 1, "HMAC_MD5", mac, &n, NULL, &e), &e, "ValidationException",
                     "Value 'HMAC_MD5' at 'macAlgorithm' failed to satisfy constraint");
        expect_error(hmacd_generate_mac(h, "not-a-key", "m", 1, "HMAC_SHA_224", mac, &n, NULL, &e), &e,
                     "NotFoundException", "Invalid keyId 'not-a-key'");
        expect_error(hmacd_generate_mac(h, "1234ABCD-12ab-44cd-96ef-1234567890ab", "m", 1, "HMAC_SHA_224", mac, &n, NULL, &e),
                     &e, "NotFoundException", "Invalid keyId");
        snprintf(absent, sizeof absent, "%s", "1234abcd-12ab-44cd-96ef-1234567890ab");
        expect_error(hmacd_generate_mac(h, absent, "m", 1, "HMAC_SHA_224", mac, &n, NULL, &e), &e, "NotFoundException",
                     "1234abcd-12ab-44cd-96ef-1234567890ab' does not exist");
        snprintf(foreign, sizeof foreign, "arn:hmacd:kms:local:0123456789ab:key/%s", md->key_id);
        expect_error(hmacd_generate_mac(h, foreign, "m", 1, "HMAC_SHA_224", mac, &n, NULL, &e), &e, "NotFoundException",
                     "does not exist");
        expect_error(hmacd_generate_mac(h, "alias/nothing", "m", 1, "HMAC_SHA_224", mac, &n, NULL, &e), &e,
                     "NotFoundException", "alias/nothing is not found.");
        expect_error(hmacd_generate_mac(h, long_id, "m", 1, "HMAC_SHA_224", mac, &n, NULL, &e), &e, "ValidationException",
                     "less than or equal to 2048");
        expect_error(hmacd_generate_mac(h, "", "m", 1, "HMAC_SHA_224", mac, &n, NULL, &e), &e, "ValidationException",
                     "greater than or equal to 1");
        hmacd_key_metadata_free(md);
}

Test(daemon, verify_mac_rejects_wrong_tags) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md = create(h, "HMAC_512");
        _cleanup_free_ uint8_t *huge = calloc(1, 6145);
        uint8_t mac[64], bad[64];
        HmacdError e = {};

        cr_assert_eq(mac_of(h, md->key_id, "HMAC_SHA_512", "payload", mac), 64);
        cr_assert_eq(hmacd_verify_mac(h, md->key_id, "payload", 7, "HMAC_SHA_512", mac, 64, NULL, &e), 0);
        for (size_t bit = 0; bit < 512; bit += 37) {
                memcpy(bad, mac, 64);
                bad[bit / 8] ^= (uint8_t) (1u << (bit % 8));
                expect_error(hmacd_verify_mac(h, md->key_id, "payload", 7, "HMAC_SHA_512", bad, 64, NULL, &e), &e,
                             "KMSInvalidMacException", NULL);
        }
        /* A truncated tag is invalid, not a validation error. */
        expect_error(hmacd_verify_mac(h, md->key_id, "payload", 7, "HMAC_SHA_512", mac, 32, NULL, &e), &e,
                     "KMSInvalidMacException", NULL);
        expect_error(hmacd_verify_mac(h, md->key_id, "payload", 7, "HMAC_SHA_512", huge, 6144, NULL, &e), &e,
                     "KMSInvalidMacException", NULL);
        expect_error(hmacd_verify_mac(h, md->key_id, "payload", 7, "HMAC_SHA_512", huge, 6145, NULL, &e), &e,
                     "ValidationException", "less than or equal to 6144");
        expect_error(hmacd_verify_mac(h, md->key_id, "payload", 7, "HMAC_SHA_512", mac, 0, NULL, &e), &e,
                     "ValidationException", "greater than or equal to 1");
        expect_error(hmacd_verify_mac(h, md->key_id, "payloaD", 7, "HMAC_SHA_512", mac, 64, NULL, &e), &e,
                     "KMSInvalidMacException", NULL);
        expect_error(hmacd_verify_mac(h, md->key_id, "payload", 7, "HMAC_SHA_384", mac, 48, NULL, &e), &e,
                     "InvalidKeyUsageException", "incompatible");
        hmacd_key_metadata_free(md);
}

Test(daemon, list_keys_pages_in_creation_order) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        char ids[7][KEY_ID_LEN + 1];
        _cleanup_free_ char *marker = NULL;
        HmacdKeyList *l = NULL;
        HmacdError e = {};
        size_t seen = 0;

        for (size_t i = 0; i < 7; i++) {
                HmacdKeyMetadata *md = create(h, "HMAC_256");
                strcpy(ids[i], md->key_id);
                hmacd_key_metadata_free(md);
        }
        do {
                cr_assert(hmacd_list_keys(h, 3, marker, &l, &e) >= 0, "%s: %s", e.name, e.message);
                cr_assert(l->n_keys <= 3);
                for (size_t i = 0; i < l->n_keys; i++) {
                        cr_assert_str_eq(l->keys[i].key_id, ids[seen]);
                        cr_assert(strstr(l->keys[i].key_arn, ids[seen]));
                        seen++;
                }
                free(marker);
                marker = l->truncated ? strdup(l->next_marker) : NULL;
                cr_assert(l->truncated == (seen < 7));
                hmacd_key_list_free(l);
        } while (marker);
        cr_assert_eq(seen, 7);

        expect_error(hmacd_list_keys(h, 1001, NULL, &l, &e), &e, "ValidationException",
                     "Member must have value less than or equal to 1000");
        expect_error(hmacd_list_keys(h, 3, "garbage", &l, &e), &e, "InvalidMarkerException", NULL);
        cr_assert(hmacd_list_keys(h, 3, NULL, &l, &e) >= 0);
        /* A marker with one changed character is refused. */
        l->next_marker[3] = l->next_marker[3] == '0' ? '1' : '0';
        expect_error(hmacd_list_keys(h, 3, l->next_marker, &(HmacdKeyList *) { NULL }, &e), &e,
                     "InvalidMarkerException", NULL);
        hmacd_key_list_free(l);
        cr_assert(hmacd_list_keys(h, 0, NULL, &l, &e) >= 0);
        cr_assert_eq(l->n_keys, 7);
        hmacd_key_list_free(l);
}

Test(daemon, properties) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        _cleanup_free_ char *version = NULL, *backend = NULL;
        uint32_t max = 0;

        cr_assert(hmacd_get_version(h, &version) >= 0);
        cr_assert_str_eq(version, "0.1.0");
        cr_assert(hmacd_get_backend(h, &backend) >= 0);
        cr_assert(strncmp(backend, "keyring-", 8) == 0, "%s", backend);
        cr_assert(hmacd_get_max_message_size(h, &max) >= 0);
        cr_assert_eq(max, 4096);
}

Test(daemon, restart_after_kill_keeps_keys_and_macs) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md[4];
        uint8_t before[4][64], after[64];

        for (size_t i = 0; i < 4; i++) {
                md[i] = create(h, test_key_specs[i].spec);
                mac_of(h, md[i]->key_id, test_key_specs[i].alg, "durable", before[i]);
        }
        h = hmacd_close(h);

        cr_assert(harness_daemon_kill() >= 0);
        cr_assert(harness_daemon_restart() >= 0);

        h = bus_open();
        cr_assert_eq(count_keys(h), 4);
        for (size_t i = 0; i < 4; i++) {
                cr_assert_eq(mac_of(h, md[i]->key_id, test_key_specs[i].alg, "durable", after), test_key_specs[i].mac_size);
                cr_assert(memcmp(before[i], after, test_key_specs[i].mac_size) == 0, "MAC of %s changed across restart", md[i]->key_id);
                hmacd_key_metadata_free(md[i]);
        }
}

Test(daemon, runs_confined) {
        _cleanup_free_ char *status = NULL;
        char path[64];

        snprintf(path, sizeof path, "/proc/%d/status", (int) harness_daemon_pid());
        cr_assert(harness_read_file(path, &status, NULL) >= 0);
        cr_assert(strstr(status, "Seccomp:\t2\n"), "%s", status);
        cr_assert(strstr(status, "NoNewPrivs:\t1\n"), "%s", status);
        /* Not dumpable: the files under /proc/<pid>/ of a non-dumpable process belong to root. */
        {
                struct stat st;
                snprintf(path, sizeof path, "/proc/%d/environ", (int) harness_daemon_pid());
                cr_assert(stat(path, &st) == 0);
                cr_assert_eq(st.st_uid, 0, "%s belongs to %u", path, (unsigned) st.st_uid);
        }
}

Test(daemon, sigterm_exits_cleanly) {
        int status = 0;
        cr_assert(harness_daemon_stop(&status) >= 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", harness_describe_status(status));
}

Test(daemon, non_root_callers_are_denied) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md = create(h, "HMAC_256");
        const char *users[] = { "nobody", HARNESS_TEST_USER };

        for (size_t i = 0; i < ELEMENTSOF(users); i++) {
                harness_result_done(&res);
                cr_assert(harness_runl(users[i], &res, HARNESS_HMACCTL, "generate-mac", "--key-id", md->key_id,
                                       "--message", "aGk=", "--mac-algorithm", "HMAC_SHA_256", NULL) >= 0);
                cr_assert_eq(res.exit_code, 254, "%s: %s", users[i], res.err);
                cr_assert(strstr(res.err, "AccessDenied"), "%s", res.err);
                harness_result_done(&res);
                cr_assert(harness_runl(users[i], &res, HARNESS_HMACCTL, "create-key", "--key-spec", "HMAC_256",
                                       "--key-usage", "GENERATE_VERIFY_MAC", NULL) >= 0);
                cr_assert_eq(res.exit_code, 254, "%s: %s", users[i], res.err);
        }
        /* Nothing was created by the refused calls. */
        cr_assert_eq(count_keys(h), 1);
        hmacd_key_metadata_free(md);
}

/* A refused call of a caller other than root is decided asynchronously (its credentials, then polkit),
 * with a timer armed in the daemon's event loop; then a property read, by that caller and by root.
 * The daemon serves both and is still the same process: on Debian 13 it died with SIGSYS at that
 * first timed wait (libsystemd 257's epoll_pwait2, see daemon/seccomp.c). */
Test(daemon, property_read_after_a_non_root_call) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md = create(h, "HMAC_256");
        _cleanup_free_ char *version = NULL;
        pid_t pid = harness_daemon_pid();

        cr_assert(harness_runl(HARNESS_TEST_USER, &res, HARNESS_HMACCTL, "generate-mac", "--key-id", md->key_id,
                               "--message", "aGk=", "--mac-algorithm", "HMAC_SHA_256", NULL) >= 0);
        cr_assert_eq(res.exit_code, 254, "%s", res.err);
        cr_assert(strstr(res.err, "AccessDenied"), "%s", res.err);
        harness_result_done(&res);
        cr_assert(harness_runl(HARNESS_TEST_USER, &res, HARNESS_HMACCTL, "get-counters", NULL) >= 0);
        cr_assert_eq(res.exit_code, 0, "%s", res.err);
        cr_assert(strstr(res.out, "\"Counters\": {"), "%s", res.out);
        cr_assert(hmacd_get_version(h, &version) >= 0);
        cr_assert(harness_daemon_running());
        cr_assert_eq(harness_daemon_pid(), pid);
        hmacd_key_metadata_free(md);
}

/* The audit lines on standard error: a record per call, its kind and priority by outcome, what the
 * caller named when no key was found, and the caller's command. */
static const char *audit_line(const char *log, const char *op, const char *result, char *buf, size_t size) {
        char prefix[64], suffix[64];

        snprintf(prefix, sizeof prefix, "hmacd: audit op=%s ", op);
        snprintf(suffix, sizeof suffix, " result=%s\n", result);
        for (const char *p = log; (p = strstr(p, prefix)); p++) {
                const char *eol = strchr(p, '\n');
                const char *hit = strstr(p, suffix);
                if (eol && hit && hit + strlen(suffix) - 1 == eol) {
                        snprintf(buf, size, "%.*s", (int) (eol - p), p);
                        return buf;
                }
        }
        return NULL;
}

Test(daemon, audit_records_by_outcome) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        _cleanup_free_ char *log = NULL;
        HmacdKeyMetadata *md = create(h, "HMAC_256");
        HmacdError e = {};
        uint8_t mac[64];
        size_t n;
        char line[4096];

        mac_of(h, md->key_id, "HMAC_SHA_256", "hello", mac);
        expect_error(hmacd_generate_mac(h, "alias/no-such\x01" "alias", "m", 1, "HMAC_SHA_256", mac, &n, NULL, &e), &e,
                     "NotFoundException", NULL);
        cr_assert(harness_runl(HARNESS_TEST_USER, &res, HARNESS_HMACCTL, "describe-key", "--key-id", md->key_id,
                               "--no-ask-password", NULL) >= 0);
        cr_assert_eq(res.exit_code, 254, "%s", res.err);
        cr_assert(harness_daemon_log(&log) >= 0);

        cr_assert_not_null(audit_line(log, "GenerateMac", "ok", line, sizeof line), "%s", log);
        cr_assert(strstr(line, " priority=6 message_id=737da9ce913d4947a9803f5c66dede9a "), "%s", line);
        cr_assert(strstr(line, " key=") && !strstr(line, " key=- "), "%s", line);

        /* No key found: no key ID, but the reference asked for, escaped. */
        cr_assert_not_null(audit_line(log, "GenerateMac", "NotFoundException", line, sizeof line), "%s", log);
        cr_assert(strstr(line, " key=- "), "%s", line);
        cr_assert(strstr(line, " ref=alias/no-such\\x01alias "), "%s", line);
        cr_assert(strstr(line, " priority=4 message_id=b8857933dc1b49649ec5839a59415b24 "), "%s", line);

        /* The denial: warning, its own MESSAGE_ID, and who asked (hmacctl, by command name). */
        cr_assert_not_null(audit_line(log, "DescribeKey", "denied", line, sizeof line), "%s", log);
        cr_assert(strstr(line, " priority=4 message_id=f9d43e3dd43e4de6ac654308dd8e4b48 "), "%s", line);
        cr_assert(strstr(line, " comm=hmacctl "), "%s", line);

        /* The start-up line. */
        cr_assert(strstr(log, "hmacd: Serving io.hmacd.Kms1: "), "%s", log);
        hmacd_key_metadata_free(md);
}

/* The Counters property, through the library and hmacctl get-counters. */
Test(daemon, counters) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md = create(h, "HMAC_256");
        HmacdCounterList *l = NULL;
        HmacdError e = {};
        uint64_t ok = UINT64_MAX, failed = UINT64_MAX, not_found = UINT64_MAX, hits = UINT64_MAX,
                 misses = UINT64_MAX;
        uint8_t mac[64];
        size_t n;

        mac_of(h, md->key_id, "HMAC_SHA_256", "a", mac);
        mac_of(h, md->key_id, "HMAC_SHA_256", "b", mac);
        HmacdKeyMetadata *none = NULL;
        expect_error(hmacd_describe_key(h, "alias/nothing", &none, &e), &e, "NotFoundException", NULL);
        expect_error(hmacd_generate_mac(h, md->key_id, "m", 1, "HMAC_SHA_512", mac, &n, NULL, &e), &e,
                     "InvalidKeyUsageException", NULL);

        cr_assert(hmacd_get_counters(h, &l) >= 0);
        for (size_t i = 0; i < l->n; i++) {
                const HmacdCounter *c = &l->counters[i];
                if (streq(c->name, "OperationsSucceeded"))
                        ok = c->value;
                else if (streq(c->name, "OperationsFailed"))
                        failed = c->value;
                else if (streq(c->name, "Failed.NotFoundException"))
                        not_found = c->value;
                else if (streq(c->name, "KeyCacheHits"))
                        hits = c->value;
                else if (streq(c->name, "KeyCacheMisses"))
                        misses = c->value;
        }
        hmacd_counter_list_free(l);
        cr_assert_eq(ok, 3, "CreateKey and two GenerateMac: %" PRIu64, ok);
        cr_assert_eq(failed, 2);
        cr_assert_eq(not_found, 1);
        cr_assert_neq(hits, UINT64_MAX);
        cr_assert_neq(misses, UINT64_MAX);
        cr_assert_geq(hits + misses, 2);

        cr_assert(harness_runl(NULL, &res, HARNESS_HMACCTL, "get-counters", NULL) >= 0);
        cr_assert_eq(res.exit_code, 0, "%s", res.err);
        cr_assert(strstr(res.out, "\"Counters\": {"), "%s", res.out);
        cr_assert(strstr(res.out, "\"Failed.NotFoundException\": 1"), "%s", res.out);
        hmacd_key_metadata_free(md);
}

/* The daemon's user may call it too (API.md: root and the daemon's own UID). */
Test(daemon, daemon_user_is_allowed) {
        _cleanup_(harness_result_done) HarnessResult res = {};

        cr_assert(harness_runl(HARNESS_DAEMON_USER, &res, HARNESS_HMACCTL, "create-key", "--key-spec", "HMAC_256",
                               "--key-usage", "GENERATE_VERIFY_MAC", NULL) >= 0);
        cr_assert_eq(res.exit_code, 0, "%s", res.err);
        cr_assert(strstr(res.out, "\"OwnerUid\""), "%s", res.out);
}

static bool serial_in_log(const char *log, const char *label, key_serial_t *ret) {
        const char *p = strstr(log, label);
        return p && sscanf(p + strlen(label), "%d", ret) == 1;
}

Test(daemon, keyring_entries_are_possessor_only) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        _cleanup_free_ char *log = NULL;
        HmacdKeyMetadata *md = create(h, "HMAC_256");
        key_serial_t kek, cache;
        uint8_t mac[64];
        char buf[64];

        mac_of(h, md->key_id, "HMAC_SHA_256", "load it", mac); /* the key is now live in the keyring */
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(serial_in_log(log, "KEK is key ", &kek), "%s", log);
        cr_assert(serial_in_log(log, "key cache is keyring ", &cache), "%s", log);

        /* Not root, not another process of the daemon's own user. */
        const char *users[] = { NULL, HARNESS_DAEMON_USER };
        for (size_t i = 0; i < ELEMENTSOF(users); i++) {
                key_serial_t serials[] = { kek, cache };
                for (size_t j = 0; j < ELEMENTSOF(serials); j++) {
                        _cleanup_(harness_result_done) HarnessResult res = {};
                        snprintf(buf, sizeof buf, "%d", serials[j]);
                        cr_assert(harness_runl(users[i], &res, "keyctl", "read", buf, NULL) >= 0);
                        cr_assert_neq(res.exit_code, 0, "keyctl read %s as %s succeeded: %s", buf,
                                      users[i] ?: "root", res.out);
                        cr_assert(strstr(res.err, "Permission denied"), "%s", res.err);
                }
        }
        hmacd_key_metadata_free(md);
}

/* No window of any file in the state directory, used as the key, reproduces the daemon's MAC: the
 * key material is not there in the clear. */
Test(daemon, no_unsealed_material_in_state_dir) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md = create(h, "HMAC_256");
        const char *dir = harness_state_dir();
        uint8_t mac[64], probe[EVP_MAX_MD_SIZE];
        struct dirent *de;
        size_t files = 0, windows = 0;
        DIR *d;

        for (int i = 0; i < 10; i++) {
                HmacdKeyMetadata *other = create(h, "HMAC_256");
                hmacd_key_metadata_free(other);
        }
        mac_of(h, md->key_id, "HMAC_SHA_256", "probe", mac);

        cr_assert(dir);
        d = opendir(dir);
        cr_assert(d);
        while ((de = readdir(d))) {
                char path[4096];
                _cleanup_free_ char *data = NULL;
                size_t size = 0;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                cr_assert(harness_read_file(path, &data, &size) >= 0, "%s", path);
                files++;
                for (size_t off = 0; off + 32 <= size; off++, windows++) {
                        unsigned len = 0;
                        HMAC(EVP_sha256(), data + off, 32, (const uint8_t *) "probe", 5, probe, &len);
                        cr_assert(memcmp(probe, mac, 32) != 0, "key material found in the clear in %s at %zu", path,
                                  off);
                }
        }
        closedir(d);
        cr_assert(files >= 2, "expected the store and the KEK file in %s", dir);
        cr_assert(windows > 4096);
        hmacd_key_metadata_free(md);
}

Test(daemon, more_keys_than_the_kernel_quota) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        _cleanup_free_ char *maxkeys = NULL;
        uint8_t (*macs)[64] = NULL;
        char (*ids)[KEY_ID_LEN + 1] = NULL;
        size_t n;

        /* The daemon runs as a non-root user, whose quota is /proc/sys/kernel/keys/maxkeys keys. */
        cr_assert(harness_read_file("/proc/sys/kernel/keys/maxkeys", &maxkeys, NULL) >= 0);
        n = strtoul(maxkeys, NULL, 10) + 50;
        if (n > 2000)
                cr_skip_test("the key quota (%s) is too large to exceed in a test", maxkeys);
        macs = calloc(n, sizeof *macs);
        ids = calloc(n, sizeof *ids);
        for (size_t i = 0; i < n; i++) {
                HmacdKeyMetadata *md = create(h, "HMAC_512");
                strcpy(ids[i], md->key_id);
                hmacd_key_metadata_free(md);
                mac_of(h, ids[i], "HMAC_SHA_512", "quota", macs[i]);
        }
        /* Every key still works, and gives the same tag after its eviction from the keyring. */
        for (size_t i = 0; i < n; i++) {
                uint8_t again[64];
                mac_of(h, ids[i], "HMAC_SHA_512", "quota", again);
                cr_assert(memcmp(again, macs[i], 64) == 0, "key %zu changed", i);
        }
        free(macs);
        free(ids);
}

TestSuite(daemon_small_cache, .fini = harness_teardown, .timeout = 60);

Test(daemon_small_cache, lru_eviction_keeps_macs_stable) {
        uint8_t macs[9][64], again[64];
        char ids[9][KEY_ID_LEN + 1];
        Hmacd *h;

        harness_require_environment();
        cr_assert(harness_daemon_startl("--cache-keys=2", NULL) >= 0);
        h = bus_open();
        for (size_t i = 0; i < 9; i++) {
                HmacdKeyMetadata *md = create(h, test_key_specs[i % 4].spec);
                strcpy(ids[i], md->key_id);
                hmacd_key_metadata_free(md);
                mac_of(h, ids[i], test_key_specs[i % 4].alg, "lru", macs[i]);
        }
        for (int round = 0; round < 3; round++)
                for (size_t i = 0; i < 9; i++) {
                        size_t j = round == 1 ? 8 - i : i;
                        mac_of(h, ids[j], test_key_specs[j % 4].alg, "lru", again);
                        cr_assert(memcmp(again, macs[j], test_key_specs[j % 4].mac_size) == 0);
                }
        hmacd_close(h);
}

TestSuite(daemon_start, .fini = harness_teardown, .timeout = 60);

Test(daemon_start, refuses_a_corrupt_store_and_leaves_it_alone) {
        _cleanup_free_ char *before = NULL, *after = NULL, *log = NULL;
        char path[4096];
        size_t n1 = 0, n2 = 0;
        FILE *f;
        int status = 0;

        harness_require_environment();
        cr_assert(harness_daemon_start() >= 0);
        cr_assert(harness_daemon_stop(&status) >= 0);
        snprintf(path, sizeof path, "%s/hmacd.db", harness_state_dir());
        f = fopen(path, "r+");
        cr_assert(f);
        fputs("this is not an SQLite database at all, it is garbage", f);
        fclose(f);
        cr_assert(harness_read_file(path, &before, &n1) >= 0);

        cr_assert_eq(harness_daemon_start(), -ECHILD);
        cr_assert(harness_read_file(path, &after, &n2) >= 0);
        cr_assert(n1 == n2 && memcmp(before, after, n1) == 0, "the store was changed");
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(strstr(log, "Failed to open the store"), "%s", log);
}

Test(daemon_start, refuses_a_wrong_kek) {
        _cleanup_free_ char *log = NULL;
        char path[4096];
        FILE *f;
        int status = 0;

        harness_require_environment();
        cr_assert(harness_daemon_start() >= 0);
        cr_assert(harness_daemon_stop(&status) >= 0);
        snprintf(path, sizeof path, "%s/kek", harness_state_dir());
        f = fopen(path, "w");
        cr_assert(f);
        fputs("0123456789abcdef0123456789abcdef", f);
        fclose(f);

        cr_assert_eq(harness_daemon_start(), -ECHILD);
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(strstr(log, "does not open the store"), "%s", log);
}

/* GenerateMacBatch gives the same tags as GenerateMac, one per message, and refuses a bad batch whole. */
static int batch_call(const char *key_id, size_t n, size_t size, sd_bus_error *e, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *msg = calloc(1, size + 1);
        sd_bus *bus = NULL;
        int r;

        cr_assert(sd_bus_open_system(&bus) >= 0);
        cr_assert(sd_bus_message_new_method_call(bus, &m, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH, HARNESS_INTERFACE,
                                                 "GenerateMacBatch") >= 0);
        cr_assert(sd_bus_message_append(m, "s", key_id) >= 0);
        cr_assert(sd_bus_message_open_container(m, 'a', "ay") >= 0);
        for (size_t i = 0; i < n; i++) {
                snprintf(msg, size + 1, "%0*zu", (int) size, i);
                cr_assert(sd_bus_message_append_array(m, 'y', msg, size) >= 0);
        }
        cr_assert(sd_bus_message_close_container(m) >= 0);
        cr_assert(sd_bus_message_append(m, "s", "HMAC_SHA_256") >= 0);
        r = sd_bus_call(bus, m, 0, e, ret);
        sd_bus_flush_close_unref(bus);
        return r;
}

Test(daemon, generate_mac_batch) {
        _cleanup_(hmacd_closep) Hmacd *h = bus_open();
        HmacdKeyMetadata *md = create(h, "HMAC_256");
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const void *p;
        size_t n, i = 0;
        char msg[16];
        uint8_t mac[64];

        cr_assert(batch_call(md->key_id, 100, 8, &e, &reply) >= 0, "%s", e.message);
        cr_assert(sd_bus_message_enter_container(reply, 'a', "ay") >= 0);
        while (sd_bus_message_read_array(reply, 'y', &p, &n) > 0) {
                snprintf(msg, sizeof msg, "%08zu", i);
                cr_assert_eq(n, 32);
                mac_of(h, md->key_id, "HMAC_SHA_256", msg, mac);
                cr_assert(memcmp(p, mac, 32) == 0, "message %zu", i);
                i++;
        }
        cr_assert_eq(i, 100);
        sd_bus_message_unref(reply);

        cr_assert(batch_call(md->key_id, 4096, 1, &e, NULL) >= 0, "%s", e.message);
        cr_assert(batch_call(md->key_id, 0, 1, &e, NULL) < 0);
        cr_assert_str_eq(e.name, "io.hmacd.Kms1.Error.ValidationException");
        sd_bus_error_free(&e);
        cr_assert(batch_call(md->key_id, 4097, 1, &e, NULL) < 0);
        cr_assert_str_eq(e.name, "io.hmacd.Kms1.Error.ValidationException");
        sd_bus_error_free(&e);
        cr_assert(batch_call(md->key_id, 2, 4097, &e, NULL) < 0);
        cr_assert_str_eq(e.name, "io.hmacd.Kms1.Error.ValidationException");
        sd_bus_error_free(&e);
        cr_assert(batch_call("alias/none", 2, 1, &e, NULL) < 0);
        cr_assert_str_eq(e.name, "io.hmacd.Kms1.Error.NotFoundException");
        sd_bus_error_free(&e);
        hmacd_key_metadata_free(md);
}
