/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacctl end to end: every subcommand run as a process against the real daemon on a private bus,
 * its JSON parsed (a small parser below) and its fields, their order, the text output, the error
 * lines and the exit codes checked against what `aws kms` prints. MACs are compared with the ones
 * busctl gets from the daemon directly. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli-util.h"
#include "harness.h"
#include "hmacd.h"
#include "macro.h"

TestSuite(cli, .init = harness_setup_daemon, .fini = harness_teardown, .timeout = 240);

/* ---- running hmacctl ---- */

static void run_input(HarnessResult *res, const void *input, size_t size, char **argv) {
        cr_assert(harness_run(NULL, input, size, argv, res) >= 0);
}

/* ---- helpers ---- */

static bool is_uuid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' :
                                                              !strchr("0123456789abcdef", s[i]))
                        return false;
        return s[14] == '4';
}

/* Creates a key with hmacctl; returns its KeyId, fills arn (if given). */
static char *create_key(const char *spec, char *arn, size_t arn_size) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        const J *md;
        char *id;

        CTL(&res, "create-key", "--key-spec", spec, "--key-usage", "GENERATE_VERIFY_MAC");
        j = run_json(&res, "create-key");
        md = j_need(j, "KeyMetadata", J_OBJECT);
        id = strdup(j_str(md, "KeyId"));
        cr_assert(id);
        if (arn)
                snprintf(arn, arn_size, "%s", j_str(md, "Arn"));
        return id;
}

static J *describe(const char *key_id) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        CTL(&res, "describe-key", "--key-id", key_id);
        return run_json(&res, "describe-key");
}

static char *key_state(const char *key_id) {
        _cleanup_(j_freep) J *j = describe(key_id);
        char *s = strdup(j_str(j_need(j, "KeyMetadata", J_OBJECT), "KeyState"));
        cr_assert(s);
        return s;
}

/* The base64 MAC hmacctl prints for message (text) under key. */
static char *cli_mac(const char *key, const char *message, const char *alg) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        _cleanup_free_ char *message64 = b64_text(message);
        char *mac;

        CTL(&res, "generate-mac", "--key-id", key, "--message", message64, "--mac-algorithm", alg);
        j = run_json(&res, "generate-mac");
        mac = strdup(j_str(j, "Mac"));
        cr_assert(mac);
        return mac;
}

/* The MAC of message as busctl gets it from the daemon, base64-encoded. */
static void busctl_mac(const char *key, const uint8_t *message, size_t size, const char *alg,
                       char out[static 100]) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        char *argv[64 + 4100] = { (char *) "busctl",
                                  (char *) "--system",
                                  (char *) "call",
                                  (char *) HARNESS_BUS_NAME,
                                  (char *) HARNESS_OBJECT_PATH,
                                  (char *) HARNESS_INTERFACE,
                                  (char *) "GenerateMac",
                                  (char *) "says",
                                  (char *) key };
        char numbers[4100][5], count[16];
        uint8_t mac[64];
        size_t argc = 9, n = 0;
        const char *p;
        unsigned v;
        int off;

        cr_assert(size < 4100);
        snprintf(count, sizeof count, "%zu", size);
        argv[argc++] = count;
        for (size_t i = 0; i < size; i++) {
                snprintf(numbers[i], sizeof numbers[i], "%u", message[i]);
                argv[argc++] = numbers[i];
        }
        argv[argc++] = (char *) alg;
        argv[argc] = NULL;
        cr_assert(harness_run(NULL, NULL, 0, argv, &res) >= 0);
        cr_assert_eq(res.exit_code, 0, "busctl: %s", res.err);

        /* "ays 32 211 67 ... \"arn:...\"": the MAC, then the key ARN (API.md, section 3). */
        cr_assert(strncmp(res.out, "ays ", 4) == 0, "busctl printed: %s", res.out);
        p = res.out + 4;
        cr_assert(sscanf(p, "%u%n", &v, &off) == 1);
        p += off;
        for (unsigned i = 0; i < v; i++) {
                unsigned b;
                cr_assert(n < sizeof mac && sscanf(p, "%u%n", &b, &off) == 1, "busctl printed: %s", res.out);
                mac[n++] = b;
                p += off;
        }
        b64_encode_to(mac, n, out);
}

/* ---- issue 2: the core subcommands ---- */

Test(cli, create_key_json_shape) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        char expected_arn[256];
        const J *md, *algs;
        time_t created;

        CTL(&res, "create-key", "--key-spec", "HMAC_384", "--key-usage", "GENERATE_VERIFY_MAC",
            "--description", "session \"cookies\"\tand more", "--tags", "TagKey=Purpose,TagValue=cookies",
            "TagKey=Team,TagValue=web");
        j = run_json(&res, "create-key");
        j_assert_keys(j, "KeyMetadata", NULL);
        md = j_need(j, "KeyMetadata", J_OBJECT);

        /* The fields and their order: AWS's KeyMetadata order (CurrentKeyMaterialId after MacAlgorithms),
         * then hmacd's Owner, OwnerUid and MacVerifyWindowInDays. */
        j_assert_keys(md, "KeyId", "Arn", "CreationDate", "Enabled", "Description", "KeyUsage", "KeyState",
                      "Origin", "KeyManager", "CustomerMasterKeySpec", "KeySpec", "MultiRegion",
                      "MacAlgorithms", "CurrentKeyMaterialId", "Owner", "OwnerUid", "MacVerifyWindowInDays",
                      NULL);
        cr_assert(is_uuid(j_str(md, "KeyId")), "KeyId %s", j_str(md, "KeyId"));
        cr_assert(strncmp(j_str(md, "Arn"), "arn:hmacd:kms:local:", 20) == 0, "Arn %s", j_str(md, "Arn"));
        snprintf(expected_arn, sizeof expected_arn, ":key/%s", j_str(md, "KeyId"));
        cr_assert(strstr(j_str(md, "Arn"), expected_arn), "Arn %s", j_str(md, "Arn"));
        created = iso8601(j_str(md, "CreationDate"));
        cr_assert(labs((long) (created - time(NULL))) < 300, "CreationDate %s", j_str(md, "CreationDate"));
        cr_assert(j_need(md, "Enabled", J_BOOLEAN)->b);
        cr_assert_str_eq(j_str(md, "Description"), "session \"cookies\"\tand more");
        cr_assert_str_eq(j_str(md, "KeyUsage"), "GENERATE_VERIFY_MAC");
        cr_assert_str_eq(j_str(md, "KeyState"), "Enabled");
        cr_assert_str_eq(j_str(md, "Origin"), "HMACD");
        cr_assert_str_eq(j_str(md, "KeyManager"), "CUSTOMER");
        cr_assert_str_eq(j_str(md, "KeySpec"), "HMAC_384");
        cr_assert_str_eq(j_str(md, "CustomerMasterKeySpec"), "HMAC_384");
        cr_assert(!j_need(md, "MultiRegion", J_BOOLEAN)->b);
        algs = j_array(md, "MacAlgorithms");
        cr_assert_eq(algs->n, 1);
        cr_assert_str_eq(algs->items[0]->s, "HMAC_SHA_384");
        cr_assert_str_eq(j_str(md, "Owner"), "root");
        cr_assert_str_eq(j_need(md, "OwnerUid", J_NUMBER)->s, "0");

        /* The tags went with it. */
        _cleanup_(harness_result_done) HarnessResult tags = {};
        _cleanup_(j_freep) J *t = NULL;
        CTL(&tags, "list-resource-tags", "--key-id", j_str(md, "KeyId"));
        t = run_json(&tags, "list-resource-tags");
        cr_assert_eq(j_array(t, "Tags")->n, 2);
        cr_assert_str_eq(j_str(j_array(t, "Tags")->items[0], "TagKey"), "Purpose");
        cr_assert_str_eq(j_str(j_array(t, "Tags")->items[1], "TagValue"), "web");
}

Test(cli, generate_then_verify_every_spec) {
        static const struct {
                const char *spec, *alg;
                size_t size;
        } specs[] = {
                { "HMAC_224", "HMAC_SHA_224", 28 },
                { "HMAC_256", "HMAC_SHA_256", 32 },
                { "HMAC_384", "HMAC_SHA_384", 48 },
                { "HMAC_512", "HMAC_SHA_512", 64 },
        };

        for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
                _cleanup_(harness_result_done) HarnessResult gen = {}, ver = {};
                _cleanup_(j_freep) J *g = NULL, *v = NULL;
                _cleanup_free_ char *id = NULL;
                char arn[256];
                uint8_t raw[128];

                id = create_key(specs[i].spec, arn, sizeof arn);
                CTL(&gen, "generate-mac", "--key-id", id, "--message", "aGVsbG8sIHdvcmxk", "--mac-algorithm",
                    specs[i].alg);
                g = run_json(&gen, "generate-mac");
                j_assert_keys(g, "Mac", "MacAlgorithm", "KeyId", NULL);
                cr_assert_eq(b64_decode_into(j_str(g, "Mac"), raw, sizeof raw), specs[i].size, "%s",
                             specs[i].spec);
                cr_assert_str_eq(j_str(g, "MacAlgorithm"), specs[i].alg);
                cr_assert_str_eq(j_str(g, "KeyId"), arn);

                CTL(&ver, "verify-mac", "--key-id", id, "--message", "aGVsbG8sIHdvcmxk", "--mac-algorithm",
                    specs[i].alg, "--mac", j_str(g, "Mac"));
                v = run_json(&ver, "verify-mac");
                j_assert_keys(v, "KeyId", "MacValid", "MacAlgorithm", NULL);
                cr_assert_str_eq(j_str(v, "KeyId"), arn);
                cr_assert(j_need(v, "MacValid", J_BOOLEAN)->b);
                cr_assert_str_eq(j_str(v, "MacAlgorithm"), specs[i].alg);
        }
}

Test(cli, mac_equals_busctl) {
        _cleanup_free_ char *id = create_key("HMAC_256", NULL, 0), *mac = NULL;
        char expected[100];

        mac = cli_mac(id, "abc", "HMAC_SHA_256");
        busctl_mac(id, (const uint8_t *) "abc", 3, "HMAC_SHA_256", expected);
        cr_assert_str_eq(mac, expected);
}

Test(cli, fileb_messages_from_file_and_stdin) {
        static const uint8_t message[] = { 0x00, 0xff, 0x10, '\n', 'x', 0x80, 0x00, 0xc3 };
        _cleanup_(harness_result_done) HarnessResult file = {}, in = {}, ver = {}, text = {}, same = {};
        _cleanup_(j_freep) J *f = NULL, *s = NULL, *t = NULL, *u = NULL;
        _cleanup_free_ char *id = create_key("HMAC_512", NULL, 0), *path = tmp_path("message.bin"),
                            *text_path = tmp_path("message.txt"), *mac_path = tmp_path("mac.bin"),
                            *arg = NULL, *text_arg = NULL, *mac_arg = NULL;
        char expected[100];
        uint8_t raw[64];

        write_file(path, message, sizeof message);
        cr_assert(asprintf(&arg, "fileb://%s", path) >= 0);

        CTL(&file, "generate-mac", "--key-id", id, "--message", arg, "--mac-algorithm", "HMAC_SHA_512");
        f = run_json(&file, "generate-mac fileb://PATH");
        busctl_mac(id, message, sizeof message, "HMAC_SHA_512", expected);
        cr_assert_str_eq(j_str(f, "Mac"), expected);

        run_input(&in, message, sizeof message,
                  (char *[]){ (char *) HARNESS_HMACCTL, (char *) "generate-mac", (char *) "--key-id", id,
                              (char *) "--message", (char *) "fileb://-", (char *) "--mac-algorithm",
                              (char *) "HMAC_SHA_512", NULL });
        s = run_json(&in, "generate-mac fileb://-");
        cr_assert_str_eq(j_str(s, "Mac"), expected);

        /* --mac fileb:// takes the raw MAC. */
        cr_assert_eq(b64_decode_into(expected, raw, sizeof raw), 64);
        write_file(mac_path, raw, sizeof raw);
        cr_assert(asprintf(&mac_arg, "fileb://%s", mac_path) >= 0);
        CTL(&ver, "verify-mac", "--key-id", id, "--message", arg, "--mac-algorithm", "HMAC_SHA_512", "--mac",
            mac_arg);
        expect_ok(&ver, "verify-mac --mac fileb://");

        /* A file holding text (fileb://) gives the MAC of that text given inline in base64, as AWS CLI v2
         * takes blobs, and of the text itself with --cli-binary-format raw-in-base64-out. */
        write_file(text_path, "some text", 9);
        cr_assert(asprintf(&text_arg, "fileb://%s", text_path) >= 0);
        CTL(&text, "generate-mac", "--key-id", id, "--message", text_arg, "--mac-algorithm", "HMAC_SHA_512");
        t = run_json(&text, "generate-mac fileb:// text");
        CTL(&same, "generate-mac", "--key-id", id, "--message", "c29tZSB0ZXh0", "--mac-algorithm",
            "HMAC_SHA_512");
        u = run_json(&same, "generate-mac base64");
        cr_assert_str_eq(j_str(t, "Mac"), j_str(u, "Mac"));
        {
                _cleanup_(harness_result_done) HarnessResult raw_text = {}, b64_file = {};
                _cleanup_(j_freep) J *r = NULL, *b = NULL;
                _cleanup_free_ char *b64_path = tmp_path("message.b64"), *b64_arg = NULL;

                CTL(&raw_text, "generate-mac", "--key-id", id, "--message", "some text", "--mac-algorithm",
                    "HMAC_SHA_512", "--cli-binary-format", "raw-in-base64-out");
                r = run_json(&raw_text, "generate-mac raw-in-base64-out");
                cr_assert_str_eq(j_str(r, "Mac"), j_str(u, "Mac"));

                /* file:// is text, and so base64 too. */
                write_file(b64_path, "c29tZSB0ZXh0\n", 13);
                cr_assert(asprintf(&b64_arg, "file://%s", b64_path) >= 0);
                CTL(&b64_file, "generate-mac", "--key-id", id, "--message", b64_arg, "--mac-algorithm",
                    "HMAC_SHA_512");
                b = run_json(&b64_file, "generate-mac file://");
                cr_assert_str_eq(j_str(b, "Mac"), j_str(u, "Mac"));
        }

        /* Text that is not base64: the aws CLI's line, and its exit code for it, 255. (As botocore's
         * b64decode() skips what is not in the alphabet, "some text" would be base64 "sometext".) */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "generate-mac", "--key-id", id, "--message", "hello", "--mac-algorithm",
                    "HMAC_SHA_512");
                expect_fail(&res, 255, "Invalid base64: \"hello\"", "text as --message");
        }
}

Test(cli, invalid_mac_exits_254_with_the_aws_line) {
        _cleanup_free_ char *id = create_key("HMAC_256", NULL, 0),
                            *mac = cli_mac(id, "pay 100", "HMAC_SHA_256");
        static const char line[] =
                "An error occurred (KMSInvalidMacException) when calling the VerifyMac operation: ";
        char flipped[100], shorter[100];
        uint8_t raw[64];
        size_t n;

        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "verify-mac", "--key-id", id, "--message", "cGF5IDkwMA==", "--mac-algorithm",
                    "HMAC_SHA_256", "--mac", mac);
                expect_fail(&res, 254, NULL, "tampered message");
                cr_assert(has_line(res.err, line), "no line '%s' in: %s", line, res.err);
        }

        /* A MAC with one bit changed, and one that is too short: invalid too, not a validation error. */
        n = b64_decode_into(mac, raw, sizeof raw);
        raw[5] ^= 0x01;
        b64_encode_to(raw, n, flipped);
        b64_encode_to(raw, n - 1, shorter);
        const char *bad[] = { flipped, shorter };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "verify-mac", "--key-id", id, "--message", "cGF5IDEwMA==", "--mac-algorithm",
                    "HMAC_SHA_256", "--mac", bad[i]);
                expect_fail(&res, 254, NULL, bad[i]);
                cr_assert(has_line(res.err, line), "%s: %s", bad[i], res.err);
        }
}

static size_t k_last(const char *const *args) {
        size_t k = 0;

        while (args[k + 1])
                k++;
        return k;
}

Test(cli, bad_command_lines_exit_252) {
        _cleanup_free_ char *id = create_key("HMAC_256", NULL, 0), *missing = tmp_path("no-such-file");
        _cleanup_free_ char *fileb = NULL;
        const char *const cases[][12] = {
                { "frobnicate-key", NULL },
                { NULL }, /* no subcommand at all */
                { "generate-mac", "--key-id", id, "--message", "x", NULL },
                { "verify-mac", "--key-id", id, "--message", "eA==", "--mac-algorithm", "HMAC_SHA_256",
                  NULL },
                { "describe-key", NULL },
                { "describe-key", "--key-id", id, "--bogus", "1", NULL },
                { "describe-key", "--key-id", NULL },
                { "describe-key", "--key-id", "", NULL },
                { "list-keys", "--limit", "0", NULL },
                { "list-keys", "--limit", "ten", NULL },
                { "list-keys", "--key-id", id, NULL }, /* an option of another subcommand */
                { "describe-key", "--key-id", id, "--output", "xml", NULL },
                { "list-keys", "--max-items", "two", NULL },
                { "list-keys", "--no-paginate", "--max-items", "2", NULL },
                { "list-keys", "--limit", "2", "--starting-token", "x", NULL },
                { "describe-key", "--key-id", id, "--query", "[", NULL },
                { "describe-key", "--cli-input-json", "{\"KeyId\": 1}", NULL },
                { "describe-key", "--cli-input-json", "{\"KeyId\": \"x\", \"Bogus\": 1}", NULL },
                { "describe-key", "--cli-input-json", "{", NULL },
                { "describe-key", "--cli-input-json", "{}", NULL },
                { "describe-key", "--generate-cli-skeleton", "outputs", NULL },
                { "describe-key", "--key-id", id, "--cli-binary-format", "raw", NULL },
                { "generate-mac", "--key-id", id, "--message", "<fileb>", "--mac-algorithm", "HMAC_SHA_256",
                  NULL },
                { "create-key", "--tags", "Key=a,Value=b", NULL },
                { "schedule-key-deletion", "--key-id", id, "--pending-window-in-days", "0", NULL },
                { "untag-resource", "--key-id", id, "--tag-keys", NULL },
                { "tag-resource", "--key-id", id, NULL },
                { "create-alias", "--alias-name", "alias/x", NULL },
                { "list-aliases", "--limit", "0", NULL },
                { "list-resource-tags", "--limit", "5", NULL },
        };

        cr_assert(asprintf(&fileb, "fileb://%s", missing) >= 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                char *argv[16] = { (char *) HARNESS_HMACCTL };
                size_t n = 1;

                for (size_t k = 0; cases[i][k]; k++)
                        argv[n++] = (char *) (streq(cases[i][k], "<fileb>") ? fileb : cases[i][k]);
                cr_assert(harness_run(NULL, NULL, 0, argv, &res) >= 0);
                expect_fail(&res, 252, NULL, cases[i][0] ? cases[i][k_last(cases[i])] : "(none)");
                cr_assert(res.err_size > 0, "case %zu: nothing said on stderr", i);
        }

        /* The missing options are named, as argparse names them. */
        _cleanup_(harness_result_done) HarnessResult res = {};
        CTL(&res, "create-alias");
        expect_fail(&res, 252, "the following arguments are required: --alias-name, --target-key-id",
                    "create-alias");

        /* A MAC that is not base64: what the aws CLI says, and its 255. */
        _cleanup_(harness_result_done) HarnessResult bad = {};
        CTL(&bad, "verify-mac", "--key-id", id, "--message", "eA==", "--mac-algorithm", "HMAC_SHA_256",
            "--mac", "abc");
        expect_fail(&bad, 255, "Invalid base64: \"abc\"", "--mac abc");

        /* With --cli-input-json the required members are botocore's to name. */
        _cleanup_(harness_result_done) HarnessResult input = {};
        CTL(&input, "generate-mac", "--cli-input-json", "{\"KeyId\": \"alias/x\"}");
        expect_fail(&input, 252, "Missing required parameter in input: \"Message\"", "--cli-input-json");
        cr_assert(strstr(input.err, "Missing required parameter in input: \"MacAlgorithm\""), "%s",
                  input.err);
}

Test(cli, unreachable_service_exits_255) {
        _cleanup_free_ char *saved = NULL, *address = NULL, *socket = tmp_path("no-such-socket");
        int status = 0;

        cr_assert(getenv("DBUS_SYSTEM_BUS_ADDRESS"));
        saved = strdup(getenv("DBUS_SYSTEM_BUS_ADDRESS"));
        cr_assert(saved);
        cr_assert(asprintf(&address, "unix:path=%s", socket) >= 0);

        /* No bus at all: the socket does not exist. */
        cr_assert(setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1) == 0);
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "list-keys");
                cr_assert(setenv("DBUS_SYSTEM_BUS_ADDRESS", saved, 1) == 0);
                expect_fail(&res, 255, "Could not connect", "list-keys without a bus");
                cr_assert(strstr(res.err, address), "the address tried is not named: %s", res.err);
                cr_assert(strstr(res.err, "systemctl status hmacd"), "%s", res.err);
                cr_assert(strstr(res.err, "journalctl -u hmacd"), "%s", res.err);
        }

        /* A bus, but no hmacd on it. */
        cr_assert(harness_daemon_stop(&status) >= 0);
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "describe-key", "--key-id", "alias/anything");
                expect_fail(&res, 255, "io.hmacd.Kms1", "describe-key without the daemon");
        }

        /* --user without a session bus: said in words, 253 as a bad environment. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_free_ char *session = getenv("DBUS_SESSION_BUS_ADDRESS") ?
                                                       strdup(getenv("DBUS_SESSION_BUS_ADDRESS")) : NULL;
                _cleanup_free_ char *runtime =
                        getenv("XDG_RUNTIME_DIR") ? strdup(getenv("XDG_RUNTIME_DIR")) : NULL;

                cr_assert(unsetenv("DBUS_SESSION_BUS_ADDRESS") == 0 && unsetenv("XDG_RUNTIME_DIR") == 0);
                CTL(&res, "--user", "list-keys");
                if (session)
                        cr_assert(setenv("DBUS_SESSION_BUS_ADDRESS", session, 1) == 0);
                if (runtime)
                        cr_assert(setenv("XDG_RUNTIME_DIR", runtime, 1) == 0);
                expect_fail(&res, 253, "--user: there is no session bus", "--user without a session bus");
        }
}

Test(cli, output_text_describe_key_and_generate_mac) {
        _cleanup_(harness_result_done) HarnessResult desc = {}, gen = {}, gen_json = {};
        _cleanup_(j_freep) J *j = NULL, *g = NULL;
        _cleanup_free_ char *id = create_key("HMAC_224", NULL, 0), *expected = NULL;
        const J *md;

        j = describe(id);
        md = j_need(j, "KeyMetadata", J_OBJECT);

        /* As awscli's text formatter: the scalars of KeyMetadata sorted by key on one line after
         * KEYMETADATA, then the list MacAlgorithms under its own name; True/False for booleans. */
        cr_assert(asprintf(&expected,
                           "KEYMETADATA\t%s\t%s\t%s\tHMAC_224\t\tTrue\t%s\tCUSTOMER\tHMAC_"
                           "224\tEnabled\tGENERATE_VERIFY_MAC\t0"
                           "\tFalse\tHMACD\troot\t0\nMACALGORITHMS\tHMAC_SHA_224\n",
                           j_str(md, "Arn"), j_str(md, "CreationDate"), j_str(md, "CurrentKeyMaterialId"),
                           id) >= 0);
        CTL(&desc, "--output", "text", "describe-key", "--key-id", id);
        expect_ok(&desc, "describe-key --output text");
        cr_assert_str_eq(desc.out, expected);

        CTL(&gen_json, "generate-mac", "--key-id", id, "--message", "bQ==", "--mac-algorithm",
            "HMAC_SHA_224");
        g = run_json(&gen_json, "generate-mac");
        free(expected);
        cr_assert(asprintf(&expected, "%s\t%s\tHMAC_SHA_224\n", j_str(md, "Arn"), j_str(g, "Mac")) >= 0);
        CTL(&gen, "generate-mac", "--key-id", id, "--message", "bQ==", "--mac-algorithm", "HMAC_SHA_224",
            "--output", "text");
        expect_ok(&gen, "generate-mac --output text");
        cr_assert_str_eq(gen.out, expected);
}

static const struct {
        const char *verb;
        const char *options[6];
        bool required; /* it has a required option, so that it fails without any */
} subcommands[] = {
        { "create-key", { "--key-spec", "--key-usage", "--description", "--tags", "--origin" }, false },
        { "generate-mac", { "--key-id", "--message", "--mac-algorithm" }, true },
        { "verify-mac", { "--key-id", "--message", "--mac-algorithm", "--mac" }, true },
        { "describe-key", { "--key-id" }, true },
        { "list-keys", { "--starting-token", "--page-size", "--max-items" }, false },
        { "enable-key", { "--key-id" }, true },
        { "disable-key", { "--key-id" }, true },
        { "schedule-key-deletion", { "--key-id", "--pending-window-in-days" }, true },
        { "cancel-key-deletion", { "--key-id" }, true },
        { "update-key-description", { "--key-id", "--description" }, true },
        { "create-alias", { "--alias-name", "--target-key-id" }, true },
        { "update-alias", { "--alias-name", "--target-key-id" }, true },
        { "delete-alias", { "--alias-name" }, true },
        { "list-aliases", { "--key-id", "--starting-token", "--page-size", "--max-items" }, false },
        { "tag-resource", { "--key-id", "--tags" }, true },
        { "untag-resource", { "--key-id", "--tag-keys" }, true },
        { "list-resource-tags", { "--key-id", "--starting-token", "--page-size", "--max-items" }, true },
};

Test(cli, help_for_every_subcommand) {
        _cleanup_(harness_result_done) HarnessResult global = {};

        CTL(&global, "--help");
        expect_ok(&global, "--help");

        for (size_t i = 0; i < ELEMENTSOF(subcommands); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {}, bare = {};
                char listed[64];

                snprintf(listed, sizeof listed, "  %s ", subcommands[i].verb);
                cr_assert(strstr(global.out, listed), "hmacctl --help does not list %s",
                          subcommands[i].verb);

                CTL(&res, subcommands[i].verb, "--help");
                expect_ok(&res, subcommands[i].verb);
                cr_assert(strstr(res.out, subcommands[i].verb), "%s", res.out);
                for (size_t k = 0; k < ELEMENTSOF(subcommands[i].options) && subcommands[i].options[k];
                     k++) {
                        char usage[64];

                        snprintf(usage, sizeof usage, "\n  %s ", subcommands[i].options[k]);
                        cr_assert(strstr(res.out, usage), "%s --help does not describe %s:\n%s",
                                  subcommands[i].verb, subcommands[i].options[k], res.out);
                }

                /* Without its required options: 252, before anything is sent. */
                if (subcommands[i].required) {
                        CTL(&bare, subcommands[i].verb);
                        expect_fail(&bare, 252, "the following arguments are required", subcommands[i].verb);
                }
        }
}

/* ---- issue 3: the lifecycle ---- */

Test(cli, disable_and_enable_round_trip) {
        _cleanup_free_ char *id = NULL, *s1 = NULL, *s2 = NULL, *s3 = NULL;
        char arn[256], disabled[300];

        id = create_key("HMAC_256", arn, sizeof arn);
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "disable-key", "--key-id", id);
                expect_ok(&res, "disable-key");
                cr_assert_eq(res.out_size, 0, "disable-key printed: %s", res.out);
        }
        s1 = key_state(id);
        cr_assert_str_eq(s1, "Disabled");
        {
                _cleanup_(j_freep) J *j = describe(id);
                cr_assert(!j_need(j_need(j, "KeyMetadata", J_OBJECT), "Enabled", J_BOOLEAN)->b);
        }

        /* A disabled key makes no MACs: DisabledException "<arn> is disabled.". */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "generate-mac", "--key-id", id, "--message", "eA==", "--mac-algorithm",
                    "HMAC_SHA_256");
                snprintf(disabled, sizeof disabled, "%s is disabled.", arn);
                expect_service_error(&res, "DisabledException", "GenerateMac", disabled);
        }

        /* Idempotent, and the key ARN works as well as the key ID. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "disable-key", "--key-id", arn);
                expect_ok(&res, "disable-key again, by ARN");
        }
        s2 = key_state(id);
        cr_assert_str_eq(s2, "Disabled");
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "enable-key", "--key-id", arn);
                expect_ok(&res, "enable-key");
                cr_assert_eq(res.out_size, 0, "enable-key printed: %s", res.out);
        }
        s3 = key_state(id);
        cr_assert_str_eq(s3, "Enabled");
        free(cli_mac(id, "x", "HMAC_SHA_256"));

        /* The management operations take a key ID or key ARN, not an alias, as in AWS. */
        {
                _cleanup_(harness_result_done) HarnessResult a = {}, res = {};
                CTL(&a, "create-alias", "--alias-name", "alias/round-trip", "--target-key-id", id);
                expect_ok(&a, "create-alias");
                CTL(&res, "disable-key", "--key-id", "alias/round-trip");
                expect_service_error(&res, "NotFoundException", "DisableKey",
                                     "Invalid keyId 'alias/round-trip'");
        }

        /* An unknown key. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "enable-key", "--key-id", "11111111-2222-4333-8444-555555555555");
                expect_service_error(&res, "NotFoundException", "EnableKey", "does not exist");
        }
}

Test(cli, schedule_and_cancel_key_deletion) {
        _cleanup_free_ char *id = NULL, *id30 = NULL, *state = NULL, *expected = NULL;
        char arn[256], arn30[256];
        time_t when;

        id = create_key("HMAC_256", arn, sizeof arn);
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_(j_freep) J *j = NULL, *d = NULL;
                const J *md;

                CTL(&res, "schedule-key-deletion", "--key-id", id, "--pending-window-in-days", "7");
                j = run_json(&res, "schedule-key-deletion");
                j_assert_keys(j, "KeyId", "DeletionDate", "KeyState", "PendingWindowInDays", NULL);
                cr_assert_str_eq(j_str(j, "KeyId"), arn);
                cr_assert_str_eq(j_str(j, "KeyState"), "PendingDeletion");
                cr_assert_str_eq(j_need(j, "PendingWindowInDays", J_NUMBER)->s, "7");
                when = iso8601(j_str(j, "DeletionDate"));
                cr_assert(labs((long) (when - time(NULL) - 7 * 86400)) < 86400 + 300, "DeletionDate %s",
                          j_str(j, "DeletionDate"));

                /* describe-key shows the same date. */
                d = describe(id);
                md = j_need(d, "KeyMetadata", J_OBJECT);
                cr_assert_str_eq(j_str(md, "KeyState"), "PendingDeletion");
                cr_assert_str_eq(j_str(md, "DeletionDate"), j_str(j, "DeletionDate"));
        }

        /* Unusable meanwhile, and not schedulable twice. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {}, again = {};
                char pending[300];

                snprintf(pending, sizeof pending, "%s is pending deletion.", arn);
                CTL(&res, "generate-mac", "--key-id", id, "--message", "eA==", "--mac-algorithm",
                    "HMAC_SHA_256");
                expect_service_error(&res, "KMSInvalidStateException", "GenerateMac", pending);
                CTL(&again, "enable-key", "--key-id", id);
                expect_service_error(&again, "KMSInvalidStateException", "EnableKey", pending);
        }

        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_(j_freep) J *j = NULL, *d = NULL;

                CTL(&res, "cancel-key-deletion", "--key-id", id);
                j = run_json(&res, "cancel-key-deletion");
                j_assert_keys(j, "KeyId", NULL);
                cr_assert_str_eq(j_str(j, "KeyId"), arn);
                d = describe(id);
                cr_assert_null(j_get(j_need(d, "KeyMetadata", J_OBJECT), "DeletionDate"));
        }
        state = key_state(id);
        cr_assert_str_eq(state, "Disabled");

        /* Not pending deletion any more. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                char not_pending[300];

                snprintf(not_pending, sizeof not_pending, "%s is not pending deletion.", arn);
                CTL(&res, "cancel-key-deletion", "--key-id", id);
                expect_service_error(&res, "KMSInvalidStateException", "CancelKeyDeletion", not_pending);
        }

        /* Without --pending-window-in-days: 30 days; and in text, one line of the sorted fields. */
        id30 = create_key("HMAC_256", arn30, sizeof arn30);
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_(j_freep) J *d = NULL;
                const char *date;

                CTL(&res, "--output", "text", "schedule-key-deletion", "--key-id", id30);
                expect_ok(&res, "schedule-key-deletion --output text");
                d = describe(id30);
                date = j_str(j_need(d, "KeyMetadata", J_OBJECT), "DeletionDate");
                when = iso8601(date);
                cr_assert(labs((long) (when - time(NULL) - 30 * 86400)) < 86400 + 300, "DeletionDate %s",
                          date);
                cr_assert(asprintf(&expected, "%s\t%s\tPendingDeletion\t30\n", date, arn30) >= 0);
                cr_assert_str_eq(res.out, expected);
        }

        /* cancel-key-deletion in text: the key ARN alone; an operation without output prints nothing. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {}, quiet = {};
                char line[300];

                CTL(&res, "--output", "text", "cancel-key-deletion", "--key-id", id30);
                expect_ok(&res, "cancel-key-deletion --output text");
                snprintf(line, sizeof line, "%s\n", arn30);
                cr_assert_str_eq(res.out, line);
                CTL(&quiet, "--output", "text", "enable-key", "--key-id", id30);
                expect_ok(&quiet, "enable-key --output text");
                cr_assert_eq(quiet.out_size, 0, "enable-key printed: %s", quiet.out);
        }

        /* Outside 7..30: the service's ValidationException. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "schedule-key-deletion", "--key-id", id, "--pending-window-in-days", "6");
                expect_service_error(&res, "ValidationException", "ScheduleKeyDeletion", NULL);
        }
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "schedule-key-deletion", "--key-id", id, "--pending-window-in-days", "31");
                expect_service_error(&res, "ValidationException", "ScheduleKeyDeletion", NULL);
        }
}

Test(cli, update_key_description) {
        _cleanup_free_ char *id = create_key("HMAC_256", NULL, 0);
        const char *descriptions[] = { "rotated in March, ünïcødé", "" };

        for (size_t i = 0; i < ELEMENTSOF(descriptions); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_(j_freep) J *j = NULL;

                CTL(&res, "update-key-description", "--key-id", id, "--description", descriptions[i]);
                expect_ok(&res, "update-key-description");
                cr_assert_eq(res.out_size, 0);
                j = describe(id);
                cr_assert_str_eq(j_str(j_need(j, "KeyMetadata", J_OBJECT), "Description"), descriptions[i]);
        }
}

/* list-aliases as JSON, checked: every entry has the five fields in AWS's order. */
static J *list_aliases(const char *key_id) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        J *j;

        if (key_id)
                CTL(&res, "list-aliases", "--key-id", key_id);
        else
                CTL(&res, "list-aliases");
        j = run_json(&res, "list-aliases");
        j_assert_keys(j, "Aliases", NULL);
        for (size_t i = 0; i < j_array(j, "Aliases")->n; i++) {
                const J *a = j_array(j, "Aliases")->items[i];
                j_assert_keys(a, "AliasName", "AliasArn", "TargetKeyId", "CreationDate", "LastUpdatedDate",
                              NULL);
                cr_assert(iso8601(j_str(a, "LastUpdatedDate")) >= iso8601(j_str(a, "CreationDate")));
        }
        return j;
}

static const J *find_alias(const J *list, const char *name) {
        const J *aliases = j_array(list, "Aliases");
        for (size_t i = 0; i < aliases->n; i++)
                if (streq(j_str(aliases->items[i], "AliasName"), name))
                        return aliases->items[i];
        return NULL;
}

Test(cli, aliases_create_update_delete_list) {
        _cleanup_free_ char *k1 = NULL, *k2 = NULL, *by_alias = NULL, *by_key = NULL, *after = NULL,
                            *expected = NULL;
        char arn1[256];

        k1 = create_key("HMAC_256", arn1, sizeof arn1);
        k2 = create_key("HMAC_256", NULL, 0);
        {
                _cleanup_(harness_result_done) HarnessResult a = {}, b = {};
                CTL(&a, "create-alias", "--alias-name", "alias/cli-a", "--target-key-id", k1);
                expect_ok(&a, "create-alias a");
                cr_assert_eq(a.out_size, 0);
                /* A key ARN names the target as well. */
                CTL(&b, "create-alias", "--alias-name", "alias/cli-b", "--target-key-id", arn1);
                expect_ok(&b, "create-alias b");
        }

        /* The alias stands for its key. */
        by_alias = cli_mac("alias/cli-a", "m", "HMAC_SHA_256");
        by_key = cli_mac(k1, "m", "HMAC_SHA_256");
        cr_assert_str_eq(by_alias, by_key);

        {
                _cleanup_(j_freep) J *all = list_aliases(NULL), *of2 = list_aliases(k2);
                const J *a = find_alias(all, "alias/cli-a");

                cr_assert_eq(j_array(all, "Aliases")->n, 2);
                cr_assert(a);
                cr_assert_str_eq(j_str(a, "TargetKeyId"), k1);
                cr_assert(strncmp(j_str(a, "AliasArn"), "arn:hmacd:kms:local:", 20) == 0);
                cr_assert(strstr(j_str(a, "AliasArn"), ":alias/cli-a"), "%s", j_str(a, "AliasArn"));
                cr_assert_eq(j_array(of2, "Aliases")->n, 0);

                /* Text: one ALIASES line per alias, fields sorted by name. */
                _cleanup_(harness_result_done) HarnessResult text = {};
                CTL(&text, "list-aliases", "--key-id", k1, "--output", "text");
                expect_ok(&text, "list-aliases --output text");
                cr_assert(asprintf(&expected, "ALIASES\t%s\talias/cli-a\t%s\t%s\t%s\n", j_str(a, "AliasArn"),
                                   j_str(a, "CreationDate"), j_str(a, "LastUpdatedDate"), k1) >= 0);
                cr_assert(strncmp(text.out, expected, strlen(expected)) == 0, "got:\n%sexpected first:\n%s",
                          text.out, expected);
                cr_assert(strstr(text.out, "\nALIASES\t") && strstr(text.out, "alias/cli-b"), "%s",
                          text.out);
        }

        /* update-alias moves it; --key-id filters by key. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "update-alias", "--alias-name", "alias/cli-a", "--target-key-id", k2);
                expect_ok(&res, "update-alias");
                cr_assert_eq(res.out_size, 0);
        }
        after = cli_mac("alias/cli-a", "m", "HMAC_SHA_256");
        cr_assert_str_neq(after, by_key);
        {
                _cleanup_(j_freep) J *of1 = list_aliases(k1), *of2 = list_aliases(arn1);
                _cleanup_(j_freep) J *moved = list_aliases(k2);

                cr_assert_eq(j_array(of1, "Aliases")->n, 1);
                cr_assert_str_eq(j_str(j_array(of1, "Aliases")->items[0], "AliasName"), "alias/cli-b");
                cr_assert_eq(j_array(of2, "Aliases")->n, 1, "--key-id with a key ARN");
                cr_assert_eq(j_array(moved, "Aliases")->n, 1);
                cr_assert_str_eq(j_str(j_array(moved, "Aliases")->items[0], "TargetKeyId"), k2);
        }

        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_(j_freep) J *all = NULL;

                CTL(&res, "delete-alias", "--alias-name", "alias/cli-a");
                expect_ok(&res, "delete-alias");
                cr_assert_eq(res.out_size, 0);
                all = list_aliases(NULL);
                cr_assert_eq(j_array(all, "Aliases")->n, 1);
                cr_assert_null(find_alias(all, "alias/cli-a"));
        }
}

Test(cli, alias_errors) {
        _cleanup_free_ char *id = create_key("HMAC_256", NULL, 0);
        static const struct {
                const char *verb, *name, *exception, *message_part;
        } cases[] = {
                { "create-alias", "alias/aws/x", "InvalidAliasNameException", NULL },
                { "create-alias", "alias/hmacd/x", "InvalidAliasNameException", NULL },
                { "create-alias", "alias/bad name!", "ValidationException", NULL },
                { "create-alias", "no-prefix", "ValidationException", NULL },
                { "create-alias", "alias/taken", "AlreadyExistsException", NULL },
                { "update-alias", "alias/nobody", "NotFoundException", NULL },
                { "delete-alias", "alias/nobody", "NotFoundException", NULL },
        };
        _cleanup_(harness_result_done) HarnessResult first = {};

        CTL(&first, "create-alias", "--alias-name", "alias/taken", "--target-key-id", id);
        expect_ok(&first, "create-alias");

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                const char *operation = streq(cases[i].verb, "create-alias") ? "CreateAlias" :
                                        streq(cases[i].verb, "update-alias") ? "UpdateAlias" :
                                                                               "DeleteAlias";

                if (streq(cases[i].verb, "delete-alias"))
                        CTL(&res, cases[i].verb, "--alias-name", cases[i].name);
                else
                        CTL(&res, cases[i].verb, "--alias-name", cases[i].name, "--target-key-id", id);
                expect_service_error(&res, cases[i].exception, operation, cases[i].message_part);
        }

        /* Through the alias, a key that does not exist. */
        _cleanup_(harness_result_done) HarnessResult res = {};
        CTL(&res, "describe-key", "--key-id", "alias/nobody");
        expect_service_error(&res, "NotFoundException", "DescribeKey", "alias/nobody");
}

static Hmacd *lib_open(void) {
        Hmacd *h = NULL;
        cr_assert(hmacd_open(HMACD_BUS_SYSTEM, &h) >= 0);
        return h;
}

Test(cli, paging_list_keys) {
        char ids[25][40];
        Hmacd *h = lib_open();

        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                HmacdKeyMetadata *m = NULL;
                cr_assert(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", NULL, NULL, 0, NULL, &m,
                                           NULL) >= 0);
                snprintf(ids[i], sizeof ids[i], "%s", m->key_id);
                hmacd_key_metadata_free(m);
        }
        hmacd_close(h);

        /* Pages of 10, 10 and 5, in creation order, together every key once. */
        static const struct {
                const char *limit, *page_size;
                size_t pages;
        } limits[] = { { "10", NULL, 3 },  { "1", NULL, 25 }, { "25", NULL, 1 }, { "7", "3", 4 },
                       { "7", "10", 4 }, { "10", "4", 3 }, { "1000", NULL, 1 } };
        for (size_t l = 0; l < ELEMENTSOF(limits); l++) {
                char **names;
                size_t pages, n = page_through("list-keys", "Keys", "KeyId", limits[l].limit,
                                               limits[l].page_size, NULL, &names, &pages);

                cr_assert_eq(n, 25, "--limit %s: %zu keys", limits[l].limit, n);
                cr_assert_eq(pages, limits[l].pages, "--limit %s: %zu pages", limits[l].limit, pages);
                for (size_t i = 0; i < n; i++)
                        cr_assert_str_eq(names[i], ids[i], "--limit %s: key %zu", limits[l].limit, i);
                free_names(names, n);
        }

        /* Without --limit, every page (the service gives 100 at most per page; 25 is one), no token. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {}, text = {}, bad = {};
                _cleanup_(j_freep) J *j = NULL;
                const char *last;

                CTL(&res, "list-keys");
                j = run_json(&res, "list-keys");
                j_assert_keys(j, "Keys", NULL);
                cr_assert_eq(j_array(j, "Keys")->n, 25);
                j_assert_keys(j_array(j, "Keys")->items[0], "KeyId", "KeyArn", NULL);

                /* Text: KEYS lines, then NEXTTOKEN last. */
                CTL(&text, "list-keys", "--max-items", "2", "--output", "text");
                expect_ok(&text, "list-keys --output text");
                cr_assert(strncmp(text.out, "KEYS\t", 5) == 0, "%s", text.out);
                last = strstr(text.out, "\nNEXTTOKEN\t");
                cr_assert(last && strchr(last + 1, '\n') == text.out + text.out_size - 1, "%s", text.out);

                CTL(&bad, "list-keys", "--starting-token", "not-a-marker");
                expect_service_error(&bad, "InvalidMarkerException", "ListKeys", NULL);
        }

        /* --limit (the request's own member) and --no-paginate: one call, the service's answer as it is,
         * with NextMarker and Truncated, as aws prints it; --marker goes on from a NextMarker. */
        {
                _cleanup_(harness_result_done) HarnessResult limit = {}, rest = {}, no_paginate = {};
                _cleanup_(j_freep) J *j = NULL, *k = NULL, *l = NULL;

                CTL(&limit, "list-keys", "--limit", "20");
                j = run_json(&limit, "list-keys --limit");
                j_assert_keys(j, "Keys", "NextMarker", "Truncated", NULL);
                cr_assert_eq(j_array(j, "Keys")->n, 20);
                cr_assert(j_need(j, "Truncated", J_BOOLEAN)->b);

                CTL(&rest, "list-keys", "--marker", j_str(j, "NextMarker"), "--limit", "20");
                k = run_json(&rest, "list-keys --marker");
                j_assert_keys(k, "Keys", "Truncated", NULL);
                cr_assert_eq(j_array(k, "Keys")->n, 5);
                cr_assert(!j_need(k, "Truncated", J_BOOLEAN)->b);
                cr_assert_str_eq(j_str(j_array(k, "Keys")->items[4], "KeyId"), ids[24]);

                /* yaml-stream: each page as the service answered it, cut at --max-items, no NextToken. */
                {
                        _cleanup_(harness_result_done) HarnessResult stream = {};
                        const char *second, *marker, *truncated;

                        CTL(&stream, "list-keys", "--max-items", "4", "--page-size", "3", "--output",
                            "yaml-stream");
                        expect_ok(&stream, "list-keys --output yaml-stream");
                        cr_assert(strncmp(stream.out, "- Keys:\n", 8) == 0, "%s", stream.out);
                        second = strstr(stream.out + 1, "\n- Keys:\n");
                        cr_assert(second && !strstr(second + 1, "\n- Keys:\n"), "not two pages: %s",
                                  stream.out);
                        marker = strstr(stream.out, "\n  NextMarker: ");
                        truncated = strstr(stream.out, "\n  Truncated: true\n");
                        cr_assert(marker && marker < second && truncated && truncated < second, "%s",
                                  stream.out);
                        cr_assert(!strstr(stream.out, "NextToken"), "%s", stream.out);
                }

                CTL(&no_paginate, "list-keys", "--no-paginate", "--query", "Keys[0].KeyId");
                l = run_json(&no_paginate, "list-keys --no-paginate --query");
                cr_assert_eq(l->type, J_STRING);
                cr_assert_str_eq(l->s, ids[0]);
        }
}

Test(cli, paging_list_aliases) {
        _cleanup_free_ char *k1 = create_key("HMAC_256", NULL, 0), *k2 = create_key("HMAC_512", NULL, 0);
        char names[25][32];

        /* 25 aliases over two keys, created out of name order. */
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                char name[32];

                snprintf(name, sizeof name, "alias/page-%02zu", (i * 7) % 25);
                CTL(&res, "create-alias", "--alias-name", name, "--target-key-id", i % 3 ? k1 : k2);
                expect_ok(&res, name);
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                snprintf(names[i], sizeof names[i], "alias/page-%02zu", i);

        static const struct {
                const char *limit;
                size_t pages;
        } limits[] = { { "10", 3 }, { "1", 25 }, { "25", 1 }, { "100", 1 } };
        for (size_t l = 0; l < ELEMENTSOF(limits); l++) {
                char **got;
                size_t pages, n = page_through("list-aliases", "Aliases", "AliasName", limits[l].limit, NULL,
                                               NULL, &got, &pages);

                cr_assert_eq(n, 25, "--limit %s: %zu aliases", limits[l].limit, n);
                cr_assert_eq(pages, limits[l].pages, "--limit %s: %zu pages", limits[l].limit, pages);
                for (size_t i = 0; i < n; i++)
                        cr_assert_str_eq(got[i], names[i], "--limit %s: alias %zu (by name)",
                                         limits[l].limit, i);
                free_names(got, n);
        }

        /* Paging with the --key-id filter: only that key's aliases, still by name. */
        {
                char **got;
                size_t pages, n = page_through("list-aliases", "Aliases", "AliasName", "4", NULL, k2, &got,
                                               &pages);
                size_t expected = 0;

                for (size_t i = 0; i < 25; i++)
                        expected += i % 3 == 0;
                cr_assert_eq(n, expected);
                for (size_t i = 1; i < n; i++)
                        cr_assert(strcmp(got[i - 1], got[i]) < 0);
                free_names(got, n);
        }

        /* Without --limit: all of them, in one list, no token; a page of the service is 50 at most, so
         * 60 aliases take two calls. */
        for (size_t i = 0; i < 35; i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                char name[32];

                snprintf(name, sizeof name, "alias/more-%02zu", i);
                CTL(&res, "create-alias", "--alias-name", name, "--target-key-id", i % 2 ? k1 : k2);
                expect_ok(&res, name);
        }
        {
                _cleanup_(j_freep) J *j = list_aliases(NULL);
                cr_assert_eq(j_array(j, "Aliases")->n, 60);
        }
        {
                _cleanup_(harness_result_done) HarnessResult bad = {};
                CTL(&bad, "list-aliases", "--starting-token", "garbage");
                expect_service_error(&bad, "InvalidMarkerException", "ListAliases", NULL);
        }
}

static J *list_tags(const char *key_id) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        J *j;

        CTL(&res, "list-resource-tags", "--key-id", key_id);
        j = run_json(&res, "list-resource-tags");
        j_assert_keys(j, "Tags", NULL);
        for (size_t i = 0; i < j_array(j, "Tags")->n; i++)
                j_assert_keys(j_array(j, "Tags")->items[i], "TagKey", "TagValue", NULL);
        return j;
}

static void expect_tags(const char *key_id, const char *const *expected) {
        _cleanup_(j_freep) J *j = list_tags(key_id);
        const J *tags = j_array(j, "Tags");
        size_t n = 0;

        for (; expected[2 * n]; n++) {
                cr_assert(n < tags->n, "tag %s missing", expected[2 * n]);
                cr_assert_str_eq(j_str(tags->items[n], "TagKey"), expected[2 * n]);
                cr_assert_str_eq(j_str(tags->items[n], "TagValue"), expected[2 * n + 1]);
        }
        cr_assert_eq(tags->n, n, "%zu tags, expected %zu", tags->n, n);
}

Test(cli, tags_tag_untag_list) {
        _cleanup_free_ char *id = NULL;
        char arn[256];

        id = create_key("HMAC_256", arn, sizeof arn);
        expect_tags(id, (const char *[]){ NULL });

        /* Several tags after one --tags, and --tags again; an empty value. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "tag-resource", "--key-id", id, "--tags", "TagKey=team,TagValue=web",
                    "TagKey=env,TagValue=prod", "--tags", "TagKey=empty,TagValue=");
                expect_ok(&res, "tag-resource");
                cr_assert_eq(res.out_size, 0);
        }
        expect_tags(id, (const char *[]){ "empty", "", "env", "prod", "team", "web", NULL });

        /* An existing key gets its new value; the ARN works too. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "tag-resource", "--key-id", arn, "--tags", "TagKey=env,TagValue=staging");
                expect_ok(&res, "tag-resource again");
        }
        expect_tags(id, (const char *[]){ "empty", "", "env", "staging", "team", "web", NULL });

        /* Text. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "list-resource-tags", "--key-id", id, "--output", "text");
                expect_ok(&res, "list-resource-tags --output text");
                cr_assert_str_eq(res.out, "TAGS\tempty\t\nTAGS\tenv\tstaging\nTAGS\tteam\tweb\n");
        }

        /* Paging through the tags with --limit. */
        {
                char **keys;
                size_t pages, n = page_through("list-resource-tags", "Tags", "TagKey", "2", "3", id, &keys,
                                               &pages);

                cr_assert_eq(n, 3);
                cr_assert_eq(pages, 2);
                cr_assert_str_eq(keys[0], "empty");
                cr_assert_str_eq(keys[2], "team");
                free_names(keys, n);
        }

        /* untag-resource: several keys, an unknown one ignored. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "untag-resource", "--key-id", id, "--tag-keys", "empty", "team", "no-such-tag");
                expect_ok(&res, "untag-resource");
                cr_assert_eq(res.out_size, 0);
        }
        expect_tags(id, (const char *[]){ "env", "staging", NULL });
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "untag-resource", "--key-id", id, "--tag-keys", "env", "--tag-keys", "other");
                expect_ok(&res, "untag-resource, --tag-keys twice");
        }
        expect_tags(id, (const char *[]){ NULL });

        /* Reserved prefixes: TagException. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "tag-resource", "--key-id", id, "--tags", "TagKey=aws:owner,TagValue=x");
                expect_service_error(&res, "TagException", "TagResource", NULL);
        }
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "list-resource-tags", "--key-id", id, "--starting-token", "garbage");
                expect_service_error(&res, "InvalidMarkerException", "ListResourceTags", NULL);
        }

        /* Pending deletion: tags are read-only, and still listed. */
        {
                _cleanup_(harness_result_done) HarnessResult t = {}, s = {}, u = {};
                CTL(&t, "tag-resource", "--key-id", id, "--tags", "TagKey=kept,TagValue=1");
                expect_ok(&t, "tag-resource");
                CTL(&s, "schedule-key-deletion", "--key-id", id, "--pending-window-in-days", "7");
                expect_ok(&s, "schedule-key-deletion");
                CTL(&u, "untag-resource", "--key-id", id, "--tag-keys", "kept");
                expect_service_error(&u, "KMSInvalidStateException", "UntagResource",
                                     "is pending deletion.");
        }
        expect_tags(id, (const char *[]){ "kept", "1", NULL });
}

/* ---- issue 16: AWS CLI v2's options and behaviour ---- */

/* --version in aws's shape; the aws options scripts pass are accepted (and, under --debug, said to be
 * ignored); --debug logs each bus call with its time, and generate-mac and verify-mac make one call
 * each, no DescribeKey behind the caller's back. */
Test(cli, version_debug_and_ignored_options) {
        _cleanup_(harness_result_done) HarnessResult version = {}, gen = {}, ver = {}, ignored = {};
        _cleanup_(j_freep) J *g = NULL;
        _cleanup_free_ char *id = create_key("HMAC_256", NULL, 0);
        const char *p;
        size_t calls = 0;

        CTL(&version, "--version");
        expect_ok(&version, "--version");
        cr_assert(strncmp(version.out, "hmacctl/", 8) == 0 && strstr(version.out, " Linux/") &&
                          strstr(version.out, " source/"),
                  "not in aws's shape: %s", version.out);

        CTL(&gen, "--debug", "kms", "generate-mac", "--key-id", id, "--message",
            "aGVsbG8=", "--mac-algorithm", "HMAC_SHA_256", "--region", "us-west-2", "--profile", "default",
            "--endpoint-url", "https://kms.us-west-2.amazonaws.com", "--no-verify-ssl", "--cli-read-timeout",
            "5", "--cli-connect-timeout", "5", "--color", "off", "--no-cli-pager", "--no-cli-auto-prompt");
        g = run_json(&gen, "generate-mac --debug with the aws options");
        for (p = gen.err; (p = strstr(p, "Calling io.hmacd.Kms1.")); p++)
                calls++;
        cr_assert_eq(calls, 1, "generate-mac made %zu calls:\n%s", calls, gen.err);
        cr_assert(strstr(gen.err, "Calling io.hmacd.Kms1.GenerateMac"), "%s", gen.err);
        cr_assert(strstr(gen.err, "GenerateMac returned in "), "%s", gen.err);
        cr_assert(strstr(gen.err, " ms"), "%s", gen.err);
        cr_assert(strstr(gen.err, "--region is accepted for the aws CLI's sake and ignored"), "%s", gen.err);
        cr_assert(strstr(gen.err, "--no-verify-ssl is accepted"), "%s", gen.err);
        cr_assert(strstr(gen.err, "- MainThread - hmacctl - DEBUG - "), "%s", gen.err);

        CTL(&ver, "--debug", "verify-mac", "--key-id", id, "--message", "aGVsbG8=", "--mac-algorithm",
            "HMAC_SHA_256", "--mac", j_str(g, "Mac"));
        expect_ok(&ver, "verify-mac --debug");
        cr_assert(strstr(ver.err, "Calling io.hmacd.Kms1.VerifyMac") &&
                          !strstr(ver.err, "Calling io.hmacd.Kms1.DescribeKey"),
                  "%s", ver.err);

        /* Without --debug, nothing on standard error. */
        CTL(&ignored, "--region", "eu-west-1", "describe-key", "--key-id", id, "--query",
            "KeyMetadata.KeySpec", "--output", "text");
        expect_ok(&ignored, "describe-key --region");
        cr_assert_str_eq(ignored.out, "HMAC_256\n");
        cr_assert_eq(ignored.err_size, 0, "%s", ignored.err);
}

/* AccessDenied names the operation, the polkit action and the key, and says where to read about
 * polkit rules; the AWS error line stays as it is. */
Test(cli, access_denied_says_what_to_do) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *id = create_key("HMAC_256", NULL, 0);
        static const char prefix[] =
                "An error occurred (AccessDeniedException) when calling the GenerateMac "
                "operation: ";

        cr_assert(harness_runl(HARNESS_TEST_USER, &res, HARNESS_HMACCTL, "--no-ask-password", "generate-mac",
                               "--key-id", id, "--message", "aGVsbG8=", "--mac-algorithm", "HMAC_SHA_256",
                               NULL) >= 0);
        expect_fail(&res, 254, prefix, "generate-mac by another user");
        cr_assert(strstr(res.err, "io.hmacd.generate-mac"), "no polkit action: %s", res.err);
        cr_assert(strstr(res.err, id), "no key: %s", res.err);
        cr_assert(strstr(res.err, "Who may use which key: polkit"), "no pointer to the README: %s", res.err);
}

/* Skeletons as aws prints them, and a YAML skeleton filled in and read back. */
Test(cli, skeletons_and_cli_input) {
        _cleanup_(harness_result_done) HarnessResult in = {}, yaml = {}, out = {}, use = {}, json = {},
                                                     table = {}, y = {};
        _cleanup_(j_freep) J *j = NULL, *o = NULL, *u = NULL;
        _cleanup_free_ char *id = create_key("HMAC_256", NULL, 0), *path = tmp_path("request.yaml"),
                            *arg = NULL, *text = NULL;

        CTL(&in, "verify-mac", "--generate-cli-skeleton");
        j = run_json(&in, "verify-mac --generate-cli-skeleton");
        j_assert_keys(j, "Message", "KeyId", "MacAlgorithm", "Mac", "GrantTokens", NULL); /* as aws's */
        cr_assert_eq(j_get(j, "Message")->type, J_NULL);
        cr_assert_str_eq(j_str(j, "MacAlgorithm"), "HMAC_SHA_224");

        CTL(&yaml, "list-keys", "--generate-cli-skeleton", "yaml-input");
        expect_ok(&yaml, "list-keys --generate-cli-skeleton yaml-input");
        cr_assert(strncmp(yaml.out, "Limit: 0 # ", 11) == 0 && strstr(yaml.out, "\nMarker: '' # "), "%s",
                  yaml.out);

        /* output: the required parameters are still required, and nothing is called. */
        CTL(&out, "describe-key", "--key-id", "alias/does-not-exist", "--generate-cli-skeleton", "output");
        o = run_json(&out, "describe-key --generate-cli-skeleton output");
        cr_assert_str_eq(j_str(j_need(o, "KeyMetadata", J_OBJECT), "KeyId"), "KeyId");

        cr_assert(asprintf(&text, "KeyId: '%s'  # [REQUIRED]\nMessage: !!binary aGVsbG8=\n"
                                  "MacAlgorithm: HMAC_SHA_256\n", id) >= 0);
        write_file(path, text, strlen(text));
        cr_assert(asprintf(&arg, "file://%s", path) >= 0);
        CTL(&use, "generate-mac", "--cli-input-yaml", arg);
        u = run_json(&use, "generate-mac --cli-input-yaml");
        cr_assert_str_eq(j_str(u, "MacAlgorithm"), "HMAC_SHA_256");

        /* The command line wins over the file. */
        CTL(&json, "generate-mac", "--cli-input-yaml", arg, "--mac-algorithm", "HMAC_SHA_512");
        expect_service_error(&json, "InvalidKeyUsageException", "GenerateMac", NULL);

        /* table and yaml, as aws prints them. */
        CTL(&table, "describe-key", "--key-id", id, "--output", "table", "--query", "KeyMetadata.[KeySpec]");
        expect_ok(&table, "--output table");
        cr_assert(strstr(table.out, "DescribeKey") && strstr(table.out, "HMAC_256"), "%s", table.out);
        CTL(&y, "describe-key", "--key-id", id, "--output", "yaml", "--query", "KeyMetadata.KeySpec");
        expect_ok(&y, "--output yaml");
        cr_assert_str_eq(y.out, "\"HMAC_256\"\n"); /* as ruamel.yaml dumps a lone string */
}
