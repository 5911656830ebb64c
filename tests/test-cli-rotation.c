/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacctl and libhmacd for key material versions and rotation (API.md, section 3a).
 *
 * Suite cli_rotation_args needs no daemon: command lines, help, --generate-cli-skeleton in every
 * output format, --cli-input-json checks, and a service that cannot be reached. The bus address
 * points at a socket that does not exist, so nothing here can reach a real service.
 *
 * Suite cli_rotation runs hmacctl and libhmacd against the real daemon on a private bus: a MAC made
 * before a rotation verifies after it and after a restart, retirement, the verify window, automatic
 * rotation status, every field of list-key-rotations and get-key-rotation-status in every output
 * format (checked against the daemon's own answer, read with libhmacd), paging of list-key-rotations,
 * verify-mac-batch in both message formats, what create-key and enable-key-rotation send, the key
 * states, the limit of 25 previous materials, and polkit's io.hmacd.rotate-key. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli-util.h"
#include "harness.h"
#include "hmacd.h"
#include "macro.h"

static const char *strna(const char *s) {
        return s ?: "n/a";
}

/* ---- without a daemon ---- */

static void no_bus(void) {
        _cleanup_free_ char *socket = NULL, *address = NULL;

        socket = tmp_path("no-such-socket");
        cr_assert(asprintf(&address, "unix:path=%s", socket) >= 0);
        cr_assert(setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1) == 0);
}

TestSuite(cli_rotation_args, .init = no_bus, .fini = harness_teardown, .timeout = 120);

static const char KEY[] = "1234abcd-12ab-44cd-96ef-1234567890ab";
static const char MATERIAL[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static void run_argv(HarnessResult *res, const char *const *args) {
        char *argv[24] = { (char *) HARNESS_HMACCTL };
        size_t n = 1;

        for (size_t k = 0; args[k]; k++) {
                cr_assert_lt(n, ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) args[k];
        }
        cr_assert(harness_run(NULL, NULL, 0, argv, res) >= 0);
}

Test(cli_rotation_args, bad_command_lines_exit_252) {
        _cleanup_free_ char *messages = tmp_path("messages"), *macs = tmp_path("macs");
        _cleanup_free_ char *messages_arg = NULL, *macs_arg = NULL;
        const char *const cases[][14] = {
                { "rotate-key-on-demand", NULL },
                { "rotate-key-on-demand", "--key-id", NULL },
                { "rotate-key-on-demand", "--key-id", "", NULL },
                { "rotate-key-on-demand", "--key-id", KEY, "--rotation-period-in-days", "90", NULL },
                { "enable-key-rotation", NULL },
                { "enable-key-rotation", "--rotation-period-in-days", "90", NULL },
                { "enable-key-rotation", "--key-id", KEY, "--rotation-period-in-days", "ninety", NULL },
                { "enable-key-rotation", "--key-id", KEY, "--rotation-period-in-days", "89", NULL },
                { "enable-key-rotation", "--key-id", KEY, "--rotation-period-in-days", "-1", NULL },
                { "enable-key-rotation", "--key-id", KEY, "--rotation-period-in-days", NULL },
                { "disable-key-rotation", NULL },
                { "disable-key-rotation", "--key-id", KEY, "--days", "1", NULL },
                { "get-key-rotation-status", NULL },
                { "list-key-rotations", NULL },
                { "list-key-rotations", "--key-id", KEY, "--limit", "0", NULL },
                { "list-key-rotations", "--key-id", KEY, "--limit", "many", NULL },
                { "list-key-rotations", "--key-id", KEY, "--max-items", "two", NULL },
                { "list-key-rotations", "--key-id", KEY, "--no-paginate", "--max-items", "2", NULL },
                { "list-key-rotations", "--key-id", KEY, "--limit", "2", "--starting-token", "x", NULL },
                { "update-mac-verify-window", "--key-id", KEY, NULL },
                { "update-mac-verify-window", "--days", "8", NULL },
                { "update-mac-verify-window", "--key-id", KEY, "--days", "eight", NULL },
                { "update-mac-verify-window", "--key-id", KEY, "--days", "-8", NULL },
                { "update-mac-verify-window", "--key-id", KEY, "--days", "8.5", NULL },
                { "retire-key-material", "--key-id", KEY, NULL },
                { "retire-key-material", "--key-material-id", MATERIAL, NULL },
                { "retire-key-material", "--key-id", KEY, "--key-material-id", "abc", NULL },
                { "create-key", "--mac-verify-window-in-days", "a week", NULL },
                { "create-key", "--mac-verify-window-in-days", "-1", NULL },
                { "create-key", "--mac-verify-window-in-days", NULL },
                { "verify-mac-batch", "--key-id", KEY, "--mac-algorithm", "HMAC_SHA_256", "--messages",
                  "<messages>", NULL },
                { "verify-mac-batch", "--key-id", KEY, "--mac-algorithm", "HMAC_SHA_256", "--macs", "<macs>",
                  NULL },
                { "verify-mac-batch", "--key-id", KEY, "--mac-algorithm", "HMAC_SHA_256", "--messages",
                  "<messages>", "--macs", "bm90IGEgZmlsZQ==", NULL },
                { "verify-mac-batch", "--key-id", KEY, "--mac-algorithm", "HMAC_SHA_256", "--messages",
                  "<messages>", "--macs", "<macs>", "--format", "csv", NULL },
                { "enable-key-rotation", "--cli-input-json",
                  "{\"KeyId\": \"x\", \"RotationPeriodInDays\": \"90\"}", NULL },
                { "enable-key-rotation", "--cli-input-json",
                  "{\"KeyId\": \"x\", \"RotationPeriodInDays\": 9}", NULL },
                { "update-mac-verify-window", "--cli-input-json", "{\"KeyId\": \"x\"}", NULL },
                { "update-mac-verify-window", "--cli-input-json", "{\"KeyId\": \"x\", \"Days\": 1.5}",
                  NULL },
                { "retire-key-material", "--cli-input-json", "{\"KeyId\": \"x\", \"Bogus\": 1}", NULL },
                { "list-key-rotations", "--cli-input-json", "{\"Limit\": 5}", NULL },
                { "get-key-rotation-status", "--key-id", KEY, "--query", "[", NULL },
        };

        write_file(messages, "one\ntwo\n", 8);
        write_file(macs, "AAAA\nBBBB\n", 10);
        cr_assert(asprintf(&messages_arg, "fileb://%s", messages) >= 0);
        cr_assert(asprintf(&macs_arg, "fileb://%s", macs) >= 0);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                const char *args[16] = {};

                for (size_t k = 0; cases[i][k]; k++)
                        args[k] = streq(cases[i][k], "<messages>") ? messages_arg
                                  : streq(cases[i][k], "<macs>")   ? macs_arg
                                                                   : cases[i][k];
                run_argv(&res, args);
                cr_assert_eq(res.exit_code, 252, "case %zu (%s %s): exit %d, stderr: %s", i, cases[i][0],
                             strempty(cases[i][1]), res.exit_code, res.err);
                cr_assert(res.out_size == 0, "case %zu printed: %s", i, res.out);
                cr_assert(res.err_size > 0, "case %zu: nothing said on stderr", i);
        }
}

/* What botocore says, word for word, for the values it checks itself. */
Test(cli_rotation_args, client_side_messages) {
        static const struct {
                const char *args[8];
                const char *message;
        } cases[] = {
                { { "enable-key-rotation", "--key-id", KEY, "--rotation-period-in-days", "30" },
                  "Invalid value for parameter RotationPeriodInDays, value: 30, valid min value: 90" },
                { { "retire-key-material", "--key-id", KEY, "--key-material-id", "abc" },
                  "Invalid length for parameter KeyMaterialId, value: 3, valid min length: 64" },
                { { "rotate-key-on-demand" }, "the following arguments are required: --key-id" },
                { { "retire-key-material" },
                  "the following arguments are required: --key-id, --key-material-id" },
                { { "update-mac-verify-window", "--key-id", KEY },
                  "the following arguments are required: --days" },
                { { "update-mac-verify-window", "--key-id", KEY, "--days", "x" },
                  "Error parsing parameter '--days'" },
                { { "update-mac-verify-window", "--cli-input-json", "{\"KeyId\": \"x\"}" },
                  "Missing required parameter in input: \"Days\"" },
                { { "list-key-rotations", "--key-id", KEY, "--limit", "2", "--max-items", "1" },
                  "Cannot specify --no-paginate along with pagination arguments: --max-items" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};

                run_argv(&res, cases[i].args);
                expect_fail(&res, 252, cases[i].message, cases[i].args[0]);
        }
}

Test(cli_rotation_args, help_lists_every_option) {
        static const struct {
                const char *verb;
                const char *options[6];
                const char *hidden[3];
        } cases[] = {
                { "rotate-key-on-demand", { "--key-id KEY (required)" } },
                { "enable-key-rotation", { "--key-id KEY (required)", "--rotation-period-in-days DAYS" } },
                { "disable-key-rotation", { "--key-id KEY (required)" } },
                { "get-key-rotation-status", { "--key-id KEY (required)" } },
                { "list-key-rotations",
                  { "--key-id KEY (required)", "--starting-token TOKEN", "--page-size N", "--max-items N" },
                  { "--limit", "--marker" } },
                { "update-mac-verify-window", { "--key-id KEY (required)", "--days DAYS (required)" } },
                { "retire-key-material", { "--key-id KEY (required)", "--key-material-id ID (required)" } },
                { "verify-mac-batch",
                  { "--key-id KEY (required)", "--mac-algorithm ALGORITHM (required)",
                    "--messages fileb://PATH (required)", "--macs fileb://PATH (required)",
                    "--format lines|length-prefixed" } },
                { "create-key", { "--mac-verify-window-in-days DAYS" } },
        };
        _cleanup_(harness_result_done) HarnessResult global = {};

        CTL(&global, "--help");
        expect_ok(&global, "--help");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_free_ char *line = NULL;

                cr_assert(asprintf(&line, "\n  %s ", cases[i].verb) >= 0);
                cr_assert(strstr(global.out, line), "%s not in hmacctl --help", cases[i].verb);

                CTL(&res, cases[i].verb, "--help");
                expect_ok(&res, cases[i].verb);
                for (size_t k = 0; k < ELEMENTSOF(cases[i].options) && cases[i].options[k]; k++)
                        cr_assert(strstr(res.out, cases[i].options[k]), "%s --help lacks '%s':\n%s",
                                  cases[i].verb, cases[i].options[k], res.out);
                for (size_t k = 0; k < ELEMENTSOF(cases[i].hidden) && cases[i].hidden[k]; k++) {
                        _cleanup_free_ char *option = NULL;

                        cr_assert(asprintf(&option, "  %s ", cases[i].hidden[k]) >= 0);
                        cr_assert_null(strstr(res.out, option), "%s --help shows the hidden %s",
                                       cases[i].verb, cases[i].hidden[k]);
                }
        }
}

/* The request skeletons: the members of each request in the order of its shape, with their types. */
Test(cli_rotation_args, input_skeletons) {
        static const struct {
                const char *verb;
                const char *members[7];
        } cases[] = {
                { "rotate-key-on-demand", { "KeyId" } },
                { "enable-key-rotation", { "KeyId", "RotationPeriodInDays" } },
                { "disable-key-rotation", { "KeyId" } },
                { "get-key-rotation-status", { "KeyId" } },
                { "list-key-rotations", { "KeyId", "Limit", "Marker" } },
                { "update-mac-verify-window", { "KeyId", "Days" } },
                { "retire-key-material", { "KeyId", "KeyMaterialId" } },
                { "verify-mac-batch", { "KeyId", "MacAlgorithm", "Messages", "Macs", "Format" } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {}, yaml = {};
                _cleanup_(j_freep) J *j = NULL;
                size_t n = 0;

                CTL(&res, cases[i].verb, "--generate-cli-skeleton");
                j = run_json(&res, cases[i].verb);
                cr_assert_eq(j->type, J_OBJECT);
                while (n < ELEMENTSOF(cases[i].members) && cases[i].members[n])
                        n++;
                cr_assert_eq(j->n, n, "%s: %zu members, want %zu", cases[i].verb, j->n, n);
                for (size_t k = 0; k < n; k++) {
                        cr_assert_str_eq(j->keys[k], cases[i].members[k], "%s: member %zu", cases[i].verb,
                                         k);
                        if (streq(j->keys[k], "RotationPeriodInDays") || streq(j->keys[k], "Days") ||
                            streq(j->keys[k], "Limit"))
                                cr_assert(j->items[k]->type == J_NUMBER && streq(j->items[k]->s, "0"));
                        else
                                cr_assert_eq(j->items[k]->type, J_STRING);
                }

                CTL(&yaml, cases[i].verb, "--generate-cli-skeleton", "yaml-input");
                expect_ok(&yaml, cases[i].verb);
                cr_assert(strncmp(yaml.out, "KeyId: '' # [REQUIRED] ", 23) == 0, "%s: %s", cases[i].verb,
                          yaml.out);
        }

        _cleanup_(harness_result_done) HarnessResult create = {};
        _cleanup_(j_freep) J *c = NULL;
        CTL(&create, "create-key", "--generate-cli-skeleton");
        c = run_json(&create, "create-key");
        cr_assert(j_get(c, "MacVerifyWindowInDays"), "create-key skeleton lacks MacVerifyWindowInDays");
        cr_assert_str_eq(c->keys[c->n - 1], "MacVerifyWindowInDays");
}

/* The response shapes, through every output format and --query, without calling anything. */
Test(cli_rotation_args, output_skeletons_in_every_format) {
        _cleanup_(harness_result_done) HarnessResult status = {}, status_text = {}, rotations = {},
                                                     rotations_text = {}, table = {}, yaml = {}, rotate = {},
                                                     batch = {}, query = {}, describe = {};
        _cleanup_(j_freep) J *s = NULL, *r = NULL, *o = NULL, *b = NULL, *d = NULL;
        const J *entry, *md;

        CTL(&status, "get-key-rotation-status", "--key-id", KEY, "--generate-cli-skeleton", "output");
        s = run_json(&status, "get-key-rotation-status");
        j_assert_keys(s, "KeyRotationEnabled", "KeyId", "RotationPeriodInDays", "NextRotationDate",
                      "OnDemandRotationStartDate", NULL);
        cr_assert_eq(j_get(s, "KeyRotationEnabled")->type, J_BOOLEAN);
        cr_assert_eq(iso8601(j_str(s, "NextRotationDate")), 0);

        CTL(&status_text, "get-key-rotation-status", "--key-id", KEY, "--generate-cli-skeleton", "output",
            "--output", "text");
        expect_ok(&status_text, "get-key-rotation-status --output text");
        /* aws's text output: the scalars of the object, tab-separated, on one line, sorted by key. */
        cr_assert_str_eq(status_text.out,
                         "KeyId\tTrue\t1970-01-01T00:00:00+00:00\t1970-01-01T00:00:00+00:00\t0\n");

        CTL(&rotations, "list-key-rotations", "--key-id", KEY, "--generate-cli-skeleton", "output");
        r = run_json(&rotations, "list-key-rotations");
        j_assert_keys(r, "Rotations", "NextMarker", "Truncated", NULL);
        entry = j_array(r, "Rotations")->items[0];
        j_assert_keys(entry, "KeyId", "KeyMaterialId", "KeyMaterialState", "RotationDate", "RotationType",
                      "VerifyUntil", NULL);

        CTL(&rotations_text, "list-key-rotations", "--key-id", KEY, "--generate-cli-skeleton", "output",
            "--output", "text");
        expect_ok(&rotations_text, "list-key-rotations --output text");
        cr_assert(has_line(rotations_text.out, "NextMarker\tTrue"), "%s", rotations_text.out);
        cr_assert(has_line(rotations_text.out,
                           "ROTATIONS\tKeyId\tKeyMaterialId\tKeyMaterialState\t1970-01-01T00:00:00+00:00\t"
                           "RotationType\t1970-01-01T00:00:00+00:00"),
                  "%s", rotations_text.out);

        CTL(&table, "list-key-rotations", "--key-id", KEY, "--generate-cli-skeleton", "output", "--output",
            "table");
        expect_ok(&table, "list-key-rotations --output table");
        cr_assert(strstr(table.out, "|                 ListKeyRotations                  |\n"), "%s",
                  table.out);
        cr_assert(strstr(table.out, "||                    Rotations                    ||\n"), "%s",
                  table.out);
        cr_assert(strstr(table.out, "||  KeyMaterialState |  KeyMaterialState           ||\n"), "%s",
                  table.out);

        CTL(&yaml, "rotate-key-on-demand", "--key-id", KEY, "--generate-cli-skeleton", "output", "--output",
            "yaml");
        expect_ok(&yaml, "rotate-key-on-demand --output yaml");
        cr_assert_str_eq(yaml.out, "KeyId: KeyId\nKeyMaterialId: KeyMaterialId\n");

        CTL(&rotate, "rotate-key-on-demand", "--key-id", KEY, "--generate-cli-skeleton", "output");
        o = run_json(&rotate, "rotate-key-on-demand");
        j_assert_keys(o, "KeyId", "KeyMaterialId", NULL);

        CTL(&batch, "verify-mac-batch", "--key-id", KEY, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            "fileb:///dev/null", "--macs", "fileb:///dev/null", "--generate-cli-skeleton", "output");
        b = run_json(&batch, "verify-mac-batch");
        j_assert_keys(b, "KeyId", "MacAlgorithm", "MacsValid", NULL);
        cr_assert_eq(j_array(b, "MacsValid")->items[0]->type, J_BOOLEAN);

        CTL(&query, "list-key-rotations", "--key-id", KEY, "--generate-cli-skeleton", "output", "--query",
            "Rotations[].KeyMaterialState", "--output", "text");
        expect_ok(&query, "--query");
        cr_assert_str_eq(query.out, "KeyMaterialState\n");

        CTL(&describe, "describe-key", "--key-id", KEY, "--generate-cli-skeleton", "output");
        d = run_json(&describe, "describe-key");
        md = j_need(d, "KeyMetadata", J_OBJECT);
        cr_assert_str_eq(j_str(md, "CurrentKeyMaterialId"), "CurrentKeyMaterialId");
        cr_assert_eq(j_need(md, "MacVerifyWindowInDays", J_NUMBER)->type, J_NUMBER);
        cr_assert_str_eq(md->keys[md->n - 1], "MacVerifyWindowInDays");
}

/* The command line is good, so the call is made: and without a service, 255 as for every other. */
Test(cli_rotation_args, unreachable_service_exits_255) {
        const char *const cases[][8] = {
                { "rotate-key-on-demand", "--key-id", KEY, NULL },
                { "enable-key-rotation", "--key-id", KEY, "--rotation-period-in-days", "2560", NULL },
                { "disable-key-rotation", "--key-id", KEY, NULL },
                { "get-key-rotation-status", "--key-id", KEY, NULL },
                { "list-key-rotations", "--key-id", KEY, "--max-items", "1", NULL },
                { "update-mac-verify-window", "--key-id", KEY, "--days", "3650", NULL },
                { "retire-key-material", "--key-id", KEY, "--key-material-id", MATERIAL, NULL },
                { "update-mac-verify-window", "--cli-input-json", "{\"KeyId\": \"x\", \"Days\": 0}", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};

                run_argv(&res, cases[i]);
                expect_fail(&res, 255, "Could not connect to the hmacd service", cases[i][0]);
        }
}

/* --macs must have one MAC per message, and each must be base64; said before anything is called. */
Test(cli_rotation_args, verify_mac_batch_input_checks) {
        _cleanup_free_ char *messages = tmp_path("messages"), *macs = tmp_path("macs"),
                            *bad = tmp_path("bad");
        _cleanup_free_ char *messages_arg = NULL, *macs_arg = NULL, *bad_arg = NULL;
        _cleanup_(harness_result_done) HarnessResult count = {}, base64 = {}, fine = {};

        write_file(messages, "one\ntwo\nthree\n", 14);
        write_file(macs, "AAAA\nBBBB\n", 10);
        write_file(bad, "AAAA\n!!!!\nCCCC\n", 15);
        cr_assert(asprintf(&messages_arg, "fileb://%s", messages) >= 0);
        cr_assert(asprintf(&macs_arg, "fileb://%s", macs) >= 0);
        cr_assert(asprintf(&bad_arg, "fileb://%s", bad) >= 0);

        CTL(&count, "verify-mac-batch", "--key-id", KEY, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", macs_arg);
        expect_fail(&count, 252, "2 MACs for 3 messages", "MACs and messages of different counts");

        CTL(&base64, "verify-mac-batch", "--key-id", KEY, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", bad_arg);
        expect_fail(&base64, 255, "Invalid base64: \"!!!!\" (line 2 of --macs)", "a MAC not base64");

        /* Three lines each, the last newline ending the last line rather than starting a fourth: the
         * call is made (and there is no service). */
        write_file(macs, "AAAA\nBBBB\nCCCC\n", 15);
        CTL(&fine, "verify-mac-batch", "--key-id", KEY, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", macs_arg);
        expect_fail(&fine, 255, "Could not connect", "a good batch without a service");
}

/* ---- against the daemon (these need its side of API.md section 3a) ---- */

TestSuite(cli_rotation, .init = harness_setup_daemon, .fini = harness_teardown, .timeout = 300);

static bool is_material_id(const char *s) {
        if (!s || strlen(s) != HMACD_KEY_MATERIAL_ID_LENGTH)
                return false;
        for (size_t i = 0; s[i]; i++)
                if (!strchr("0123456789abcdef", s[i]))
                        return false;
        return true;
}

/* Creates a key with hmacctl (window: --mac-verify-window-in-days, or NULL); returns its KeyId and
 * fills arn. */
static char *create_key(const char *window, char arn[static 256]) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        const J *md;
        char *id;

        if (window)
                CTL(&res, "create-key", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC",
                    "--mac-verify-window-in-days", window);
        else
                CTL(&res, "create-key", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC");
        j = run_json(&res, "create-key");
        md = j_need(j, "KeyMetadata", J_OBJECT);
        /* CreateKey's metadata carries the same fields as DescribeKey's. */
        cr_assert(is_material_id(j_str(md, "CurrentKeyMaterialId")), "CreateKey: %s", res.out);
        cr_assert_str_eq(j_need(md, "MacVerifyWindowInDays", J_NUMBER)->s, window ?: "0");
        id = strdup(j_str(md, "KeyId"));
        cr_assert(id);
        snprintf(arn, 256, "%s", j_str(md, "Arn"));
        return id;
}

static char *current_material(const char *key) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        char *id;

        const J *md;
        size_t i;

        CTL(&res, "describe-key", "--key-id", key);
        j = run_json(&res, "describe-key");
        md = j_need(j, "KeyMetadata", J_OBJECT);
        /* AWS's CurrentKeyMaterialId in the place of AWS's model, right after MacAlgorithms; hmacd's
         * MacVerifyWindowInDays last. */
        for (i = 0; i + 1 < md->n && !streq(md->keys[i], "MacAlgorithms"); i++)
                ;
        cr_assert_str_eq(md->keys[i + 1], "CurrentKeyMaterialId", "describe-key: %s", res.out);
        cr_assert_str_eq(md->keys[md->n - 1], "MacVerifyWindowInDays", "describe-key: %s", res.out);
        id = strdup(j_str(md, "CurrentKeyMaterialId"));
        cr_assert(id && is_material_id(id), "CurrentKeyMaterialId: %s", strna(id));
        return id;
}

/* The key's MacVerifyWindowInDays as describe-key prints it. */
static void assert_window(const char *key, const char *days) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *want = NULL;

        CTL(&res, "describe-key", "--key-id", key, "--query", "KeyMetadata.MacVerifyWindowInDays");
        expect_ok(&res, "describe-key --query KeyMetadata.MacVerifyWindowInDays");
        cr_assert(asprintf(&want, "%s\n", days) >= 0);
        cr_assert_str_eq(res.out, want, "MacVerifyWindowInDays of %s", key);
}

/* hmacctl rotate-key-on-demand: checks the output, returns the new KeyMaterialId. */
static char *rotate(const char *key, const char *arn) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        char *id;

        CTL(&res, "rotate-key-on-demand", "--key-id", key);
        j = run_json(&res, "rotate-key-on-demand");
        j_assert_keys(j, "KeyId", "KeyMaterialId", NULL);
        cr_assert_str_eq(j_str(j, "KeyId"), arn);
        id = strdup(j_str(j, "KeyMaterialId"));
        cr_assert(id && is_material_id(id), "KeyMaterialId: %s", res.out);
        return id;
}

static char *mac(const char *key, const char *message) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_(j_freep) J *j = NULL;
        _cleanup_free_ char *message64 = b64_text(message);
        char *m;

        CTL(&res, "generate-mac", "--key-id", key, "--message", message64, "--mac-algorithm",
            "HMAC_SHA_256");
        j = run_json(&res, "generate-mac");
        m = strdup(j_str(j, "Mac"));
        cr_assert(m);
        return m;
}

/* 0 when hmacctl verify-mac says valid, 254 (checked to be KMSInvalidMacException) when not. */
static int verify(const char *key, const char *message, const char *mac64) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *message64 = b64_text(message);

        CTL(&res, "verify-mac", "--key-id", key, "--message", message64, "--mac-algorithm", "HMAC_SHA_256",
            "--mac", mac64);
        if (res.exit_code == 0) {
                _cleanup_(j_freep) J *j = run_json(&res, "verify-mac");
                cr_assert_eq(j_get(j, "MacValid")->type, J_BOOLEAN);
                cr_assert(j_get(j, "MacValid")->b);
                return 0;
        }
        expect_service_error(&res, "KMSInvalidMacException", "VerifyMac", NULL);
        return res.exit_code;
}

static J *rotations(const char *key) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        CTL(&res, "list-key-rotations", "--key-id", key);
        return run_json(&res, "list-key-rotations");
}

static time_t now(void) {
        return time(NULL);
}

static uint64_t now_usec(void) {
        struct timespec ts;

        cr_assert(clock_gettime(CLOCK_REALTIME, &ts) == 0);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

Test(cli_rotation, mac_from_before_a_rotation_verifies_after_it_and_after_a_restart) {
        char arn[256];
        _cleanup_free_ char *key = create_key(NULL, arn), *first = current_material(key), *second = NULL,
                            *old = mac(key, "token issued before"), *same_message = NULL, *after = NULL;
        _cleanup_(j_freep) J *list = NULL;
        const J *r;
        time_t before = now();

        cr_assert_eq(verify(key, "token issued before", old), 0);

        second = rotate(key, arn);
        cr_assert_str_neq(second, first, "the new material has the old one's ID");
        _cleanup_free_ char *current = current_material(key);
        cr_assert_str_eq(current, second);

        /* The old MAC still verifies; the same message now gets another MAC, which verifies too. */
        cr_assert_eq(verify(key, "token issued before", old), 0);
        same_message = mac(key, "token issued before");
        cr_assert_str_neq(same_message, old, "GenerateMac still uses the old material");
        cr_assert_eq(verify(key, "token issued before", same_message), 0);
        after = mac(key, "token issued after");
        cr_assert_eq(verify(key, "token issued after", after), 0);
        cr_assert_eq(verify(key, "token issued after", old), 254);

        /* Oldest first: the initial material without a rotation, then the on-demand one. */
        list = rotations(key);
        j_assert_keys(list, "Rotations", NULL);
        r = j_array(list, "Rotations");
        cr_assert_eq(r->n, 2, "%zu materials", r->n);
        j_assert_keys(r->items[0], "KeyId", "KeyMaterialId", "KeyMaterialState", NULL);
        cr_assert_str_eq(j_str(r->items[0], "KeyId"), key);
        cr_assert_str_eq(j_str(r->items[0], "KeyMaterialId"), first);
        cr_assert_str_eq(j_str(r->items[0], "KeyMaterialState"), "NON_CURRENT");
        j_assert_keys(r->items[1], "KeyId", "KeyMaterialId", "KeyMaterialState", "RotationDate",
                      "RotationType", NULL);
        cr_assert_str_eq(j_str(r->items[1], "KeyMaterialId"), second);
        cr_assert_str_eq(j_str(r->items[1], "KeyMaterialState"), "CURRENT");
        cr_assert_str_eq(j_str(r->items[1], "RotationType"), "ON_DEMAND");
        cr_assert(iso8601(j_str(r->items[1], "RotationDate")) >= before - 2 &&
                          iso8601(j_str(r->items[1], "RotationDate")) <= now() + 2,
                  "RotationDate %s", j_str(r->items[1], "RotationDate"));

        /* A key ARN works as well as the key ID. */
        _cleanup_(j_freep) J *by_arn = rotations(arn);
        cr_assert_eq(j_array(by_arn, "Rotations")->n, 2);
        cr_assert_str_eq(j_str(j_array(by_arn, "Rotations")->items[0], "KeyId"), key);

        cr_assert(harness_daemon_restart() >= 0);
        cr_assert_eq(verify(key, "token issued before", old), 0);
        cr_assert_eq(verify(key, "token issued after", after), 0);
        _cleanup_free_ char *restarted = current_material(key);
        cr_assert_str_eq(restarted, second);
}

Test(cli_rotation, retire_key_material_takes_effect_at_once) {
        char arn[256];
        _cleanup_free_ char *key = create_key(NULL, arn), *first = current_material(key),
                            *old = mac(key, "leaked"), *second = NULL;
        _cleanup_(harness_result_done) HarnessResult retire = {}, current = {}, unknown = {}, again = {};
        _cleanup_(j_freep) J *list = NULL;
        const char *other = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

        second = rotate(key, arn);
        cr_assert_eq(verify(key, "leaked", old), 0);

        CTL(&retire, "retire-key-material", "--key-id", key, "--key-material-id", first);
        expect_quiet(&retire, "retire-key-material");
        cr_assert_eq(verify(key, "leaked", old), 254);
        list = rotations(key);
        cr_assert_eq(j_array(list, "Rotations")->n, 1);
        cr_assert_str_eq(j_str(j_array(list, "Rotations")->items[0], "KeyMaterialId"), second);

        CTL(&current, "retire-key-material", "--key-id", key, "--key-material-id", second);
        expect_service_error(&current, "ValidationException", "RetireKeyMaterial", NULL);
        CTL(&unknown, "retire-key-material", "--key-id", arn, "--key-material-id", other);
        expect_service_error(&unknown, "NotFoundException", "RetireKeyMaterial", NULL);
        CTL(&again, "retire-key-material", "--key-id", key, "--key-material-id", first);
        expect_service_error(&again, "NotFoundException", "RetireKeyMaterial", NULL);

        /* And across a restart. */
        cr_assert(harness_daemon_restart() >= 0);
        cr_assert_eq(verify(key, "leaked", old), 254);
}

Test(cli_rotation, rotation_status_enable_disable) {
        char arn[256];
        _cleanup_free_ char *key = create_key(NULL, arn);
        _cleanup_(harness_result_done) HarnessResult off = {}, enable = {}, on = {}, ninety = {}, on90 = {},
                                                     disable = {}, off_again = {}, too_long = {}, text = {},
                                                     twice = {};
        _cleanup_(j_freep) J *s0 = NULL, *s1 = NULL, *s2 = NULL, *s3 = NULL;
        time_t t;

        /* Off: no next rotation (whether a period is shown while off is the service's business). */
        CTL(&off, "get-key-rotation-status", "--key-id", key);
        s0 = run_json(&off, "get-key-rotation-status");
        cr_assert_str_eq(s0->keys[0], "KeyRotationEnabled");
        cr_assert_str_eq(s0->keys[1], "KeyId");
        cr_assert_not(j_need(s0, "KeyRotationEnabled", J_BOOLEAN)->b);
        cr_assert_str_eq(j_str(s0, "KeyId"), arn);
        cr_assert_null(j_get(s0, "NextRotationDate"));

        t = now();
        CTL(&enable, "enable-key-rotation", "--key-id", key);
        expect_quiet(&enable, "enable-key-rotation");
        CTL(&on, "get-key-rotation-status", "--key-id", arn);
        s1 = run_json(&on, "get-key-rotation-status");
        j_assert_keys(s1, "KeyRotationEnabled", "KeyId", "RotationPeriodInDays", "NextRotationDate", NULL);
        cr_assert(j_get(s1, "KeyRotationEnabled")->b);
        cr_assert_str_eq(j_need(s1, "RotationPeriodInDays", J_NUMBER)->s, "365");
        cr_assert(labs((long) (iso8601(j_str(s1, "NextRotationDate")) - (t + 365 * 86400))) <= 86400 + 5,
                  "NextRotationDate %s is not a year ahead", j_str(s1, "NextRotationDate"));

        CTL(&ninety, "enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "90");
        expect_quiet(&ninety, "enable-key-rotation --rotation-period-in-days 90");
        CTL(&on90, "get-key-rotation-status", "--key-id", key);
        s2 = run_json(&on90, "get-key-rotation-status");
        cr_assert_str_eq(j_need(s2, "RotationPeriodInDays", J_NUMBER)->s, "90");

        CTL(&text, "get-key-rotation-status", "--key-id", key, "--output", "text", "--query",
            "[KeyRotationEnabled, RotationPeriodInDays]");
        expect_ok(&text, "--output text");
        cr_assert_str_eq(text.out, "True\t90\n");

        /* botocore checks only the minimum: the maximum is the service's. */
        CTL(&too_long, "enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "2561");
        expect_service_error(&too_long, "ValidationException", "EnableKeyRotation", NULL);

        CTL(&disable, "disable-key-rotation", "--key-id", key);
        expect_quiet(&disable, "disable-key-rotation");
        CTL(&twice, "disable-key-rotation", "--key-id", key);
        expect_quiet(&twice, "disable-key-rotation, again");
        CTL(&off_again, "get-key-rotation-status", "--key-id", key);
        s3 = run_json(&off_again, "get-key-rotation-status");
        cr_assert_not(j_get(s3, "KeyRotationEnabled")->b);
        cr_assert_null(j_get(s3, "NextRotationDate"));
}

Test(cli_rotation, mac_verify_window_set_and_updated) {
        char arn[256];
        _cleanup_free_ char *key = create_key("8", arn);
        _cleanup_(harness_result_done) HarnessResult update = {}, zero = {}, over = {};

        assert_window(key, "8");
        CTL(&update, "update-mac-verify-window", "--key-id", key, "--days", "3650");
        expect_quiet(&update, "update-mac-verify-window");
        assert_window(arn, "3650");

        CTL(&zero, "update-mac-verify-window", "--key-id", key, "--days", "0");
        expect_quiet(&zero, "update-mac-verify-window --days 0");
        assert_window(key, "0");
        CTL(&over, "update-mac-verify-window", "--key-id", key, "--days", "3651");
        expect_service_error(&over, "ValidationException", "UpdateMacVerifyWindow", NULL);
        assert_window(key, "0");

        /* The service's limit for CreateKey too. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "create-key", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC",
                    "--mac-verify-window-in-days", "3651");
                expect_service_error(&res, "ValidationException", "CreateKey", NULL);
        }
}

/* create-key --mac-verify-window-in-days N: the key has N, as CreateKey's answer and describe-key say.
 * Without it, or with 0 (for an EXTERNAL key too), the service's default, 0. (That 0 is left out of
 * the request cannot be seen here: the daemon takes 0 as well.) */
Test(cli_rotation, create_key_verify_window_option) {
        static const struct {
                const char *args[8];
                const char *window;
        } cases[] = {
                { { "--mac-verify-window-in-days", "8" }, "8" },
                { { "--mac-verify-window-in-days", "3650", "--origin", "HMACD" }, "3650" },
                { {}, "0" },
                { { "--mac-verify-window-in-days", "0" }, "0" },
                { { "--mac-verify-window-in-days", "0", "--origin", "EXTERNAL" }, "0" },
                { { "--origin", "EXTERNAL", "--mac-verify-window-in-days", "30" }, "30" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_(j_freep) J *j = NULL;
                const char *args[12] = { "create-key", "--key-spec", "HMAC_256", "--key-usage",
                                         "GENERATE_VERIFY_MAC" };
                const J *md;

                for (size_t k = 0; cases[i].args[k]; k++)
                        args[5 + k] = cases[i].args[k];
                run_argv(&res, args);
                j = run_json(&res, "create-key");
                md = j_need(j, "KeyMetadata", J_OBJECT);
                cr_assert_str_eq(j_need(md, "MacVerifyWindowInDays", J_NUMBER)->s, cases[i].window,
                                 "case %zu", i);
                assert_window(j_str(md, "KeyId"), cases[i].window);
        }
}

/* With a day of one second: a MAC of a previous material verifies within the window, not after it,
 * and the material leaves the list. */
Test(cli_rotation, verify_window_ends) {
        char arn[256];
        _cleanup_free_ char *key = NULL, *old = NULL, *second = NULL;
        _cleanup_(j_freep) J *list = NULL, *after = NULL;
        const J *r;
        int status = 0;
        time_t rotated;

        cr_assert(harness_daemon_stop(&status) >= 0);
        cr_assert(harness_daemon_startl("--test-only-seconds-per-day=1", NULL) >= 0);

        key = create_key("4", arn);
        old = mac(key, "short-lived");
        rotated = now();
        second = rotate(key, arn);
        cr_assert_eq(verify(key, "short-lived", old), 0, "not valid within its window");

        list = rotations(key);
        r = j_array(list, "Rotations");
        cr_assert_eq(r->n, 2);
        cr_assert(labs((long) (iso8601(j_str(r->items[0], "VerifyUntil")) - (rotated + 4))) <= 2,
                  "VerifyUntil %s is not 4 s after the rotation", j_str(r->items[0], "VerifyUntil"));
        cr_assert_null(j_get(r->items[1], "VerifyUntil"), "the current material has an end");

        sleep(7);
        cr_assert_eq(verify(key, "short-lived", old), 254, "still valid after its window");
        after = rotations(key);
        cr_assert_eq(j_array(after, "Rotations")->n, 1, "the expired material is still listed");
        cr_assert_str_eq(j_str(j_array(after, "Rotations")->items[0], "KeyMaterialId"), second);
}

Test(cli_rotation, paging_list_key_rotations) {
        char arn[256];
        _cleanup_free_ char *key = create_key(NULL, arn);
        char **ids = NULL;
        size_t n, pages;
        Hmacd *h = NULL;
        HmacdKeyRotationList *all = NULL;

        cr_assert(hmacd_open(HMACD_BUS_SYSTEM, &h) >= 0);
        for (size_t i = 0; i < 6; i++)
                cr_assert(hmacd_rotate_key_on_demand(h, key, NULL, NULL) >= 0);
        cr_assert(hmacd_list_key_rotations(h, key, 0, NULL, &all, NULL) >= 0);
        cr_assert_eq(all->n_rotations, 7);
        cr_assert_not(all->truncated);

        /* --max-items with and without --page-size: every material once, in the service's order. */
        static const struct {
                const char *max_items, *page_size;
                size_t pages;
        } cases[] = {
                { "1", NULL, 7 }, { "3", NULL, 3 }, { "3", "2", 3 }, { "7", NULL, 1 }, { "5", "4", 2 }
        };
        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                n = page_through("list-key-rotations", "Rotations", "KeyMaterialId", cases[c].max_items,
                                 cases[c].page_size, key, &ids, &pages);
                cr_assert_eq(n, all->n_rotations, "--max-items %s: %zu", cases[c].max_items, n);
                cr_assert_eq(pages, cases[c].pages, "--max-items %s: %zu pages", cases[c].max_items, pages);
                for (size_t i = 0; i < n; i++)
                        cr_assert_str_eq(ids[i], all->rotations[i].key_material_id);
                free_names(ids, n);
        }

        /* --limit: one page as the service gives it, NextMarker and Truncated included, and --marker on. */
        _cleanup_(harness_result_done) HarnessResult first = {}, second = {};
        _cleanup_(j_freep) J *p1 = NULL, *p2 = NULL;
        CTL(&first, "list-key-rotations", "--key-id", key, "--limit", "4");
        p1 = run_json(&first, "list-key-rotations --limit 4");
        j_assert_keys(p1, "Rotations", "NextMarker", "Truncated", NULL);
        cr_assert_eq(j_array(p1, "Rotations")->n, 4);
        cr_assert(j_get(p1, "Truncated")->b);
        CTL(&second, "list-key-rotations", "--key-id", key, "--limit", "4", "--marker",
            j_str(p1, "NextMarker"));
        p2 = run_json(&second, "list-key-rotations --marker");
        j_assert_keys(p2, "Rotations", "Truncated", NULL);
        cr_assert_eq(j_array(p2, "Rotations")->n, 3);
        cr_assert_not(j_get(p2, "Truncated")->b);
        cr_assert_str_eq(j_str(j_array(p2, "Rotations")->items[2], "KeyMaterialState"), "CURRENT");
        cr_assert_str_eq(j_str(j_array(p2, "Rotations")->items[2], "KeyMaterialId"),
                         all->rotations[6].key_material_id);

        _cleanup_(harness_result_done) HarnessResult bad = {};
        CTL(&bad, "list-key-rotations", "--key-id", key, "--marker", "not-a-marker");
        expect_service_error(&bad, "InvalidMarkerException", "ListKeyRotations", NULL);

        hmacd_key_rotation_list_free(all);
        hmacd_close(h);
}

/* The library against the service: each call, and what it hands back, against DescribeKey and
 * VerifyMac. */
Test(cli_rotation, libhmacd_calls) {
        _cleanup_free_ char *material = NULL, *arn = NULL;
        HmacdKeyMetadata *m = NULL, *d = NULL, *plain = NULL;
        HmacdKeyRotationList *l = NULL, *rest = NULL, *none = NULL;
        HmacdError e = {};
        Hmacd *h = NULL;
        uint8_t tag[HMACD_MAC_SIZE_MAX], tags[3 * HMACD_MAC_SIZE_MAX];
        size_t tag_size = 0, tags_size = 0;
        struct iovec messages[3] = { { (void *) "a", 1 }, { (void *) "bb", 2 }, { (void *) "ccc", 3 } },
                     macs[3];
        bool valid[3] = {};
        uint64_t next = 0, on_demand = 0, before, after;
        uint32_t period = 0;
        bool enabled = true;

        cr_assert(hmacd_open(HMACD_BUS_SYSTEM, &h) >= 0);
        /* Without a window: the service's default. */
        cr_assert(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", NULL, NULL, 0, NULL, &plain,
                                   NULL) >= 0);
        cr_assert_eq(plain->mac_verify_window_in_days, 0);
        cr_assert(is_material_id(plain->current_key_material_id));
        cr_assert(hmacd_create_key_with_verify_window(h, "HMAC_256", "GENERATE_VERIFY_MAC", NULL, NULL, 0,
                                                      NULL, 30, &m, NULL) >= 0);
        cr_assert_eq(m->mac_verify_window_in_days, 30);
        cr_assert(is_material_id(m->current_key_material_id));

        cr_assert(hmacd_generate_mac(h, m->key_id, "old", 3, "HMAC_SHA_256", tag, &tag_size, NULL, NULL) >=
                  0);
        cr_assert(hmacd_generate_mac_batch(h, m->key_id, messages, 3, "HMAC_SHA_256", tags, &tags_size,
                                           NULL) >= 0);

        before = now_usec();
        cr_assert(hmacd_rotate_key_on_demand(h, m->arn, &material, NULL) >= 0);
        after = now_usec();
        cr_assert(is_material_id(material));
        cr_assert_str_neq(material, m->current_key_material_id);
        cr_assert(hmacd_describe_key(h, m->key_id, &d, NULL) >= 0);
        cr_assert_str_eq(d->current_key_material_id, material);
        cr_assert_eq(d->mac_verify_window_in_days, 30);

        cr_assert(hmacd_verify_mac(h, m->key_id, "old", 3, "HMAC_SHA_256", tag, tag_size, NULL, NULL) >= 0);

        /* A batch of the MACs made before the rotation, one spoiled: reported, not thrown. */
        for (size_t i = 0; i < 3; i++)
                macs[i] = (struct iovec){ tags + i * HMACD_MAC_SIZE_MAX, tags_size };
        tags[HMACD_MAC_SIZE_MAX] ^= 1;
        cr_assert(hmacd_verify_mac_batch(h, m->key_id, messages, 3, "HMAC_SHA_256", macs, valid, &arn, &e) >=
                          0,
                  "%s: %s", strna(e.name), strna(e.message));
        cr_assert(valid[0] && !valid[1] && valid[2]);
        cr_assert_str_eq(arn, m->arn);
        cr_assert_eq(
                hmacd_verify_mac_batch(h, m->key_id, messages, 3, "HMAC_SHA_256", NULL, valid, NULL, NULL),
                -EINVAL);

        cr_assert(hmacd_get_key_rotation_status(h, m->key_id, &enabled, &period, &next, &on_demand, NULL) >=
                  0);
        cr_assert_not(enabled);
        cr_assert_eq(next, 0);
        /* As AWS: only an on-demand rotation still in progress has a start date; this one is done. */
        cr_assert_eq(on_demand, 0, "OnDemandRotationStartDate %" PRIu64 " after the rotation ended",
                     on_demand);
        cr_assert(hmacd_get_key_rotation_status(h, m->key_id, NULL, NULL, NULL, NULL, NULL) >= 0);
        cr_assert(hmacd_enable_key_rotation(h, m->key_id, 100, NULL) >= 0);
        cr_assert(hmacd_get_key_rotation_status(h, m->key_id, &enabled, &period, &next, NULL, NULL) >= 0);
        cr_assert(enabled);
        cr_assert_eq(period, 100);
        cr_assert_gt(next, (uint64_t) now() * 1000000 + UINT64_C(99) * 86400 * 1000000);
        cr_assert(hmacd_disable_key_rotation(h, m->key_id, NULL) >= 0);

        cr_assert_eq(hmacd_enable_key_rotation(h, m->key_id, 89, &e), -EINVAL);
        cr_assert_str_eq(e.name, "ValidationException");
        hmacd_error_clear(&e);

        cr_assert(hmacd_list_key_rotations(h, m->key_id, 1, NULL, &l, NULL) >= 0);
        cr_assert_eq(l->n_rotations, 1);
        cr_assert(l->truncated && l->next_marker);
        cr_assert_str_eq(l->rotations[0].key_material_id, m->current_key_material_id);
        cr_assert_str_eq(l->rotations[0].key_material_state, "NON_CURRENT");
        cr_assert_str_eq(l->rotations[0].rotation_type, "");
        cr_assert_eq(l->rotations[0].rotation_date, 0);
        cr_assert_gt(l->rotations[0].verify_until,
                     (uint64_t) now() * 1000000 + UINT64_C(29) * 86400 * 1000000);
        /* The rest from the marker: the current material, without an end. */
        cr_assert(hmacd_list_key_rotations(h, m->key_id, 0, l->next_marker, &rest, NULL) >= 0);
        cr_assert_eq(rest->n_rotations, 1);
        cr_assert_not(rest->truncated);
        cr_assert_null(rest->next_marker);
        cr_assert_str_eq(rest->rotations[0].key_material_id, material);
        cr_assert_str_eq(rest->rotations[0].key_material_state, "CURRENT");
        cr_assert_str_eq(rest->rotations[0].rotation_type, "ON_DEMAND");
        cr_assert(rest->rotations[0].rotation_date >= before && rest->rotations[0].rotation_date <= after);
        cr_assert_eq(rest->rotations[0].verify_until, 0);
        cr_assert_eq(l->rotations[0].verify_until,
                     rest->rotations[0].rotation_date + UINT64_C(30) * 86400 * 1000000);
        hmacd_key_rotation_list_free(l);
        hmacd_key_rotation_list_free(rest);

        cr_assert(hmacd_list_key_rotations(h, m->key_id, 0, "bogus", &none, &e) < 0);
        cr_assert_null(none);
        cr_assert_str_eq(e.name, "InvalidMarkerException");
        cr_assert(e.service);
        hmacd_error_clear(&e);

        cr_assert(hmacd_update_mac_verify_window(h, m->key_id, 0, NULL) >= 0);
        cr_assert(hmacd_retire_key_material(h, m->key_id, m->current_key_material_id, NULL) >= 0);
        cr_assert(hmacd_retire_key_material(h, m->key_id, m->current_key_material_id, &e) < 0);
        cr_assert_str_eq(e.name, "NotFoundException");
        hmacd_error_clear(&e);
        cr_assert(hmacd_rotate_key_on_demand(h, m->key_id, NULL, NULL) >= 0);
        cr_assert_eq(hmacd_verify_mac(h, m->key_id, "old", 3, "HMAC_SHA_256", tag, tag_size, NULL, &e),
                     -EBADMSG);
        cr_assert_str_eq(e.name, "KMSInvalidMacException");
        hmacd_error_clear(&e);

        hmacd_key_metadata_free(d);
        hmacd_key_metadata_free(m);
        hmacd_key_metadata_free(plain);
        hmacd_close(h);
}

/* verify-mac-batch against generate-mac-batch's own output, before and after a rotation. */
Test(cli_rotation, verify_mac_batch_round_trip) {
        char arn[256];
        _cleanup_free_ char *key = create_key(NULL, arn), *messages = tmp_path("messages"),
                            *macs = tmp_path("macs"), *messages_arg = NULL, *macs_arg = NULL,
                            *spoiled = NULL, *rotated = NULL;
        _cleanup_(harness_result_done) HarnessResult gen = {}, ok = {}, text = {}, bad = {}, after = {},
                                                     wrong = {};
        _cleanup_(j_freep) J *j = NULL, *a = NULL;
        const J *valid;

        write_file(messages, "header.payload.1\nheader.payload.2\nheader.payload.3\n", 51);
        cr_assert(asprintf(&messages_arg, "fileb://%s", messages) >= 0);
        cr_assert(asprintf(&macs_arg, "fileb://%s", macs) >= 0);

        CTL(&gen, "generate-mac-batch", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--output", "text");
        expect_ok(&gen, "generate-mac-batch --output text");
        write_file(macs, gen.out, gen.out_size);

        CTL(&ok, "verify-mac-batch", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", macs_arg);
        j = run_json(&ok, "verify-mac-batch");
        j_assert_keys(j, "KeyId", "MacAlgorithm", "MacsValid", NULL);
        cr_assert_str_eq(j_str(j, "KeyId"), arn);
        cr_assert_str_eq(j_str(j, "MacAlgorithm"), "HMAC_SHA_256");
        valid = j_array(j, "MacsValid");
        cr_assert_eq(valid->n, 3);
        for (size_t i = 0; i < 3; i++)
                cr_assert(valid->items[i]->type == J_BOOLEAN && valid->items[i]->b, "MAC %zu", i);

        /* One spoiled MAC: false for it alone, and exit 0. The second line's first character changes. */
        spoiled = strdup(gen.out);
        cr_assert(spoiled);
        {
                char *line2 = strchr(spoiled, '\n') + 1;
                *line2 = *line2 == 'A' ? 'B' : 'A';
        }
        write_file(macs, spoiled, strlen(spoiled));
        CTL(&text, "verify-mac-batch", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", macs_arg, "--output", "text");
        expect_ok(&text, "verify-mac-batch --output text");
        cr_assert_str_eq(text.out, "True\nFalse\nTrue\n");
        CTL(&bad, "verify-mac-batch", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", macs_arg, "--query", "length(MacsValid[?!@])");
        expect_ok(&bad, "verify-mac-batch --query");
        cr_assert_str_eq(bad.out, "1\n");

        /* After a rotation the batch of before still verifies. */
        rotated = rotate(key, arn);
        write_file(macs, gen.out, gen.out_size);
        CTL(&after, "verify-mac-batch", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", macs_arg);
        a = run_json(&after, "verify-mac-batch after a rotation");
        for (size_t i = 0; i < 3; i++)
                cr_assert(j_array(a, "MacsValid")->items[i]->b, "MAC %zu after the rotation", i);

        CTL(&wrong, "verify-mac-batch", "--key-id", key, "--mac-algorithm", "HMAC_SHA_512", "--messages",
            messages_arg, "--macs", macs_arg);
        expect_service_error(&wrong, "InvalidKeyUsageException", "VerifyMacBatch", NULL);
}

/* Both ways to rotate are refused with this exception and message; GetKeyRotationStatus works. */
static void expect_rotation_refused(const char *key, const char *exception, const char *message) {
        static const char *const verbs[][2] = {
                { "rotate-key-on-demand", "RotateKeyOnDemand" },
                { "enable-key-rotation", "EnableKeyRotation" },
        };
        _cleanup_(harness_result_done) HarnessResult status = {};

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};

                CTL(&res, verbs[i][0], "--key-id", key);
                expect_service_error(&res, exception, verbs[i][1], message);
        }
        CTL(&status, "get-key-rotation-status", "--key-id", key);
        expect_ok(&status, "get-key-rotation-status");
}

/* The key states of the contract for each way to rotate, and the limit of 25 previous materials. */
Test(cli_rotation, key_states_and_the_limit) {
        char arn[256], external_arn[256];
        _cleanup_free_ char *key = create_key(NULL, arn), *external = NULL, *origin_message = NULL,
                            *message = NULL;
        _cleanup_(harness_result_done) HarnessResult disable = {}, enable = {}, schedule = {}, ext = {},
                                                     limit = {};
        Hmacd *h = NULL;
        HmacdError e = {};

        CTL(&disable, "disable-key", "--key-id", key);
        expect_quiet(&disable, "disable-key");
        cr_assert(asprintf(&message, "%s is disabled.", arn) >= 0);
        expect_rotation_refused(key, "DisabledException", message);
        CTL(&enable, "enable-key", "--key-id", key);
        expect_quiet(&enable, "enable-key");

        /* 25 previous materials are kept at most: the 26th rotation is refused. */
        cr_assert(hmacd_open(HMACD_BUS_SYSTEM, &h) >= 0);
        for (size_t i = 0; i < HMACD_PREVIOUS_MATERIALS_MAX; i++)
                cr_assert(hmacd_rotate_key_on_demand(h, key, NULL, &e) >= 0, "rotation %zu: %s", i + 1,
                          strna(e.message));
        hmacd_close(h);
        CTL(&limit, "rotate-key-on-demand", "--key-id", key);
        expect_service_error(&limit, "LimitExceededException", "RotateKeyOnDemand", NULL);
        {
                _cleanup_(j_freep) J *list = rotations(key);
                cr_assert_eq(j_array(list, "Rotations")->n, HMACD_PREVIOUS_MATERIALS_MAX + 1);
        }

        CTL(&schedule, "schedule-key-deletion", "--key-id", key);
        expect_ok(&schedule, "schedule-key-deletion");
        free(message);
        cr_assert(asprintf(&message, "%s is pending deletion.", arn) >= 0);
        expect_rotation_refused(key, "KMSInvalidStateException", message);

        /* An EXTERNAL key with its material imported, so that it is Enabled and only its origin is
         * in the way. */
        CTL(&ext, "create-key", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC", "--origin",
            "EXTERNAL");
        {
                _cleanup_(j_freep) J *j = run_json(&ext, "create-key --origin EXTERNAL");
                const J *md = j_need(j, "KeyMetadata", J_OBJECT);
                _cleanup_(harness_result_done) HarnessResult import = {};
                _cleanup_free_ char *secret = tmp_path("secret.bin"), *secret_arg = NULL;

                external = strdup(j_str(md, "KeyId"));
                snprintf(external_arn, sizeof external_arn, "%s", j_str(md, "Arn"));
                write_file(secret, "0123456789abcdef0123456789abcdef", 32);
                cr_assert(asprintf(&secret_arg, "fileb://%s", secret) >= 0);
                CTL(&import, "import-key", "--key-id", external, "--key-material", secret_arg);
                expect_quiet(&import, "import-key");
        }
        cr_assert(asprintf(&origin_message, "%s origin is EXTERNAL which is not valid for this operation.",
                           external_arn) >= 0);
        expect_rotation_refused(external, "UnsupportedOperationException", origin_message);

        /* Management operations take a key ID or key ARN only, as in AWS. */
        {
                _cleanup_(harness_result_done) HarnessResult alias = {}, rotate_alias = {};
                CTL(&alias, "create-alias", "--alias-name", "alias/rotating", "--target-key-id", external);
                expect_quiet(&alias, "create-alias");
                CTL(&rotate_alias, "rotate-key-on-demand", "--key-id", "alias/rotating");
                expect_service_error(&rotate_alias, "NotFoundException", "RotateKeyOnDemand",
                                     "Invalid keyId 'alias/rotating'");
        }
}

/* Another user, not the owner: polkit's io.hmacd.rotate-key refuses, and hmacctl says which action. */
Test(cli_rotation, access_denied_names_rotate_key) {
        char arn[256];
        _cleanup_free_ char *key = create_key(NULL, arn), *initial = current_material(key);
        _cleanup_free_ char *second = rotate(key, arn);
        const char *const cases[][9] = {
                { "RotateKeyOnDemand", "io.hmacd.rotate-key", "rotate-key-on-demand", "--key-id", key },
                { "EnableKeyRotation", "io.hmacd.rotate-key", "enable-key-rotation", "--key-id", key },
                { "UpdateMacVerifyWindow", "io.hmacd.rotate-key", "update-mac-verify-window", "--key-id",
                  key, "--days", "1" },
                { "RetireKeyMaterial", "io.hmacd.rotate-key", "retire-key-material", "--key-id", key,
                  "--key-material-id", initial },
                { "GetKeyRotationStatus", "io.hmacd.describe-key", "get-key-rotation-status", "--key-id",
                  key },
                { "ListKeyRotations", "io.hmacd.describe-key", "list-key-rotations", "--key-id", key },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(harness_result_done) HarnessResult res = {};
                _cleanup_free_ char *prefix = NULL;
                char *argv[12] = { (char *) HARNESS_HMACCTL, (char *) "--no-ask-password" };
                size_t n = 2;

                for (size_t k = 2; k < ELEMENTSOF(cases[i]) && cases[i][k]; k++)
                        argv[n++] = (char *) cases[i][k];
                cr_assert(harness_run(HARNESS_TEST_USER, NULL, 0, argv, &res) >= 0);
                cr_assert(asprintf(&prefix,
                                   "An error occurred (AccessDeniedException) when calling the %s "
                                   "operation: ",
                                   cases[i][0]) >= 0);
                expect_fail(&res, 254, prefix, cases[i][2]);
                cr_assert(strstr(res.err, cases[i][1]), "no polkit action %s: %s", cases[i][1], res.err);
        }

        /* Nothing changed: the retired material is still there, the current one still current. */
        _cleanup_(j_freep) J *list = rotations(key);
        cr_assert_eq(j_array(list, "Rotations")->n, 2);
        _cleanup_free_ char *current = current_material(key);
        cr_assert_str_eq(current, second);
}

/* ---- every field of the answers, as aws prints them, against the daemon's own answer ---- */

/* hmacctl's time string is the daemon's time t, to the microsecond, and lies within [from, to]. */
static void assert_time(const char *printed, uint64_t t, uint64_t from, uint64_t to, const char *what) {
        uint64_t usec;

        cr_assert(printed, "%s is missing", what);
        usec = iso8601_usec(printed);
        cr_assert_eq(usec, t, "%s %s is not the daemon's %" PRIu64, what, printed, t);
        cr_assert(usec >= from && usec <= to, "%s %s is not within [%" PRIu64 ", %" PRIu64 "]", what,
                  printed, from, to);
}

/* The cells of the first table line with a cell that is cell, trimmed, between the innermost "|"s. */
static char **table_row(const char *table, const char *cell, size_t *ret_n) {
        _cleanup_free_ char *copy = strdup(table);
        char *save = NULL;

        cr_assert(copy);
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char **cells = NULL, *p = line + strspn(line, "|"), *end = line + strlen(line);
                size_t n = 0;

                while (end > p && *(end - 1) == '|')
                        end--;
                *end = 0;
                for (char *c = p; c;) {
                        char *bar = strchr(c, '|'), *e;

                        if (bar)
                                *bar = 0;
                        c += strspn(c, " ");
                        e = c + strlen(c);
                        while (e > c && e[-1] == ' ')
                                e--;
                        cells = reallocarray(cells, n + 1, sizeof *cells);
                        cr_assert(cells);
                        cells[n++] = strndup(c, e - c);
                        c = bar ? bar + 1 : NULL;
                }
                for (size_t i = 0; i < n; i++)
                        if (streq(cells[i], cell)) {
                                *ret_n = n;
                                return cells;
                        }
                free_names(cells, n);
        }
        cr_assert_fail("no line of the table has a cell '%s':\n%s", cell, table);
        return NULL;
}

/* A key with a verify window of 8 days rotated on demand three times, rotation enabled for 2560 days
 * (through --cli-input-json): list-key-rotations and get-key-rotation-status in json, text, table and
 * yaml, each field the daemon's (read with libhmacd) and where it can be, what the contract says. */
Test(cli_rotation, rotations_and_status_in_every_output_format) {
        char arn[256];
        _cleanup_free_ char *key = create_key("8", arn), *enable_input = NULL;
        char *ids[4] = { current_material(key) };
        _cleanup_(harness_result_done) HarnessResult enable = {}, list = {}, text = {}, table = {},
                                                     yaml = {}, pairs = {}, old = {}, status = {},
                                                     status_text = {}, status_table = {}, status_yaml = {};
        _cleanup_(j_freep) J *j = NULL, *s = NULL;
        _cleanup_free_ char *want_text = NULL, *want_yaml = NULL, *want_old = NULL, *want_status_text = NULL,
                            *want_status_yaml = NULL;
        HmacdKeyRotationList *l = NULL;
        Hmacd *h = NULL;
        bool enabled = false;
        uint32_t period = 0;
        uint64_t next = 0, on_demand = 0, t0, t1, t2;
        const J *r;
        size_t size = 0;
        FILE *f;

        t0 = now_usec();
        for (size_t i = 1; i < 4; i++)
                ids[i] = rotate(key, arn);
        t1 = now_usec();
        cr_assert(asprintf(&enable_input, "{\"KeyId\": \"%s\", \"RotationPeriodInDays\": 2560}", key) >= 0);
        CTL(&enable, "enable-key-rotation", "--cli-input-json", enable_input);
        expect_quiet(&enable, "enable-key-rotation --cli-input-json");
        t2 = now_usec();

        cr_assert(hmacd_open(HMACD_BUS_SYSTEM, &h) >= 0);
        cr_assert(hmacd_list_key_rotations(h, key, 0, NULL, &l, NULL) >= 0);
        cr_assert(hmacd_get_key_rotation_status(h, key, &enabled, &period, &next, &on_demand, NULL) >= 0);
        hmacd_close(h);
        cr_assert_eq(l->n_rotations, 4);

        /* json, with the key ARN: the entries carry the key ID, as AWS's do. */
        CTL(&list, "list-key-rotations", "--key-id", arn);
        j = run_json(&list, "list-key-rotations");
        j_assert_keys(j, "Rotations", NULL);
        r = j_array(j, "Rotations");
        cr_assert_eq(r->n, 4, "%s", list.out);
        for (size_t i = 0; i < 4; i++) {
                const J *e = r->items[i];

                cr_assert_str_eq(j_str(e, "KeyId"), key);
                cr_assert_str_eq(j_str(e, "KeyMaterialId"), ids[i]);
                cr_assert_str_eq(j_str(e, "KeyMaterialState"), i == 3 ? "CURRENT" : "NON_CURRENT");
                if (i == 0) /* the initial material: no rotation */
                        j_assert_keys(e, "KeyId", "KeyMaterialId", "KeyMaterialState", "VerifyUntil", NULL);
                else if (i == 3) /* the current one: no end */
                        j_assert_keys(e, "KeyId", "KeyMaterialId", "KeyMaterialState", "RotationDate",
                                      "RotationType", NULL);
                else
                        j_assert_keys(e, "KeyId", "KeyMaterialId", "KeyMaterialState", "RotationDate",
                                      "RotationType", "VerifyUntil", NULL);
                if (i > 0) {
                        assert_time(j_str(e, "RotationDate"), l->rotations[i].rotation_date, t0, t1,
                                    "RotationDate");
                        cr_assert_str_eq(j_str(e, "RotationType"), "ON_DEMAND");
                }
                /* Each previous material verifies for 8 days after the next one became current. */
                if (i < 3)
                        assert_time(j_str(e, "VerifyUntil"), l->rotations[i].verify_until,
                                    l->rotations[i + 1].rotation_date + UINT64_C(8) * 86400 * 1000000,
                                    l->rotations[i + 1].rotation_date + UINT64_C(8) * 86400 * 1000000,
                                    "VerifyUntil");
        }

        /* text: one ROTATIONS line an entry, aws's columns (every scalar key of the list, sorted),
         * empty where an entry lacks one. */
        f = open_memstream(&want_text, &size);
        cr_assert(f);
        for (size_t i = 0; i < 4; i++) {
                const J *e = r->items[i];
                const J *date = j_get(e, "RotationDate"), *type = j_get(e, "RotationType"),
                        *until = j_get(e, "VerifyUntil");

                fprintf(f, "ROTATIONS\t%s\t%s\t%s\t%s\t%s\t%s\n", key, ids[i], j_str(e, "KeyMaterialState"),
                        date ? date->s : "", type ? type->s : "", until ? until->s : "");
        }
        cr_assert(fclose(f) == 0);
        CTL(&text, "list-key-rotations", "--key-id", key, "--output", "text");
        expect_ok(&text, "list-key-rotations --output text");
        cr_assert_str_eq(text.out, want_text);

        /* A member an entry lacks is None, as aws prints it. */
        CTL(&pairs, "list-key-rotations", "--key-id", key, "--query",
            "Rotations[].[KeyMaterialState, RotationType]", "--output", "text");
        expect_ok(&pairs, "--query pairs --output text");
        cr_assert_str_eq(pairs.out, "NON_CURRENT\tNone\nNON_CURRENT\tON_DEMAND\nNON_CURRENT\tON_DEMAND\n"
                                    "CURRENT\tON_DEMAND\n");
        CTL(&old, "list-key-rotations", "--key-id", key, "--output", "text", "--query",
            "Rotations[?KeyMaterialState=='NON_CURRENT'].KeyMaterialId");
        expect_ok(&old, "--output text --query");
        cr_assert(asprintf(&want_old, "%s\t%s\t%s\n", ids[0], ids[1], ids[2]) >= 0);
        cr_assert_str_eq(old.out, want_old);

        /* table: the title, a header line of the columns, and each entry's values in them. */
        CTL(&table, "list-key-rotations", "--key-id", key, "--output", "table");
        expect_ok(&table, "list-key-rotations --output table");
        cr_assert(strstr(table.out, "ListKeyRotations") && strstr(table.out, "Rotations"), "%s", table.out);
        {
                static const char *const columns[] = { "KeyId",        "KeyMaterialId", "KeyMaterialState",
                                                       "RotationDate", "RotationType",  "VerifyUntil" };
                size_t n;
                char **header = table_row(table.out, "KeyMaterialState", &n);

                cr_assert_eq(n, ELEMENTSOF(columns), "%s", table.out);
                for (size_t c = 0; c < n; c++)
                        cr_assert_str_eq(header[c], columns[c], "%s", table.out);
                free_names(header, n);
                for (size_t i = 0; i < 4; i++) {
                        char **row = table_row(table.out, ids[i], &n);

                        cr_assert_eq(n, ELEMENTSOF(columns), "%s", table.out);
                        for (size_t c = 0; c < n; c++) {
                                const J *v = j_get(r->items[i], columns[c]);
                                cr_assert_str_eq(row[c], v ? v->s : "", "entry %zu, %s:\n%s", i, columns[c],
                                                 table.out);
                        }
                        free_names(row, n);
                }
        }

        /* yaml: a list of mappings, their keys sorted (as here already), the times quoted. */
        CTL(&yaml, "list-key-rotations", "--key-id", key, "--output", "yaml");
        expect_ok(&yaml, "list-key-rotations --output yaml");
        f = open_memstream(&want_yaml, &size);
        cr_assert(f);
        fprintf(f, "Rotations:\n");
        for (size_t i = 0; i < 4; i++) {
                const J *e = r->items[i];

                fprintf(f, "- KeyId: %s\n  KeyMaterialId: %s\n  KeyMaterialState: %s\n", key, ids[i],
                        j_str(e, "KeyMaterialState"));
                if (j_get(e, "RotationDate"))
                        fprintf(f, "  RotationDate: '%s'\n  RotationType: %s\n", j_str(e, "RotationDate"),
                                j_str(e, "RotationType"));
                if (j_get(e, "VerifyUntil"))
                        fprintf(f, "  VerifyUntil: '%s'\n", j_str(e, "VerifyUntil"));
        }
        cr_assert(fclose(f) == 0);
        cr_assert_str_eq(yaml.out, want_yaml);

        /* get-key-rotation-status: on, every 2560 days from when it was enabled; no on-demand rotation
         * in progress (as AWS says it: the field only while one runs), so no OnDemandRotationStartDate. */
        cr_assert(enabled);
        cr_assert_eq(period, 2560);
        CTL(&status, "get-key-rotation-status", "--key-id", key);
        s = run_json(&status, "get-key-rotation-status");
        j_assert_keys(s, "KeyRotationEnabled", "KeyId", "RotationPeriodInDays", "NextRotationDate", NULL);
        cr_assert(j_need(s, "KeyRotationEnabled", J_BOOLEAN)->b);
        cr_assert_str_eq(j_str(s, "KeyId"), arn);
        cr_assert_str_eq(j_need(s, "RotationPeriodInDays", J_NUMBER)->s, "2560");
        assert_time(j_str(s, "NextRotationDate"), next, t1 + UINT64_C(2560) * 86400 * 1000000,
                    t2 + UINT64_C(2560) * 86400 * 1000000, "NextRotationDate");
        cr_assert_eq(on_demand, 0);

        /* text: the scalars of the object on one line, sorted by key. */
        CTL(&status_text, "get-key-rotation-status", "--key-id", key, "--output", "text");
        expect_ok(&status_text, "get-key-rotation-status --output text");
        cr_assert(asprintf(&want_status_text, "%s\tTrue\t%s\t2560\n", arn, j_str(s, "NextRotationDate")) >=
                  0);
        cr_assert_str_eq(status_text.out, want_status_text);

        CTL(&status_table, "get-key-rotation-status", "--key-id", key, "--output", "table");
        expect_ok(&status_table, "get-key-rotation-status --output table");
        cr_assert(strstr(status_table.out, "GetKeyRotationStatus"), "%s", status_table.out);
        {
                static const char *const rows[][2] = { { "KeyId", NULL },
                                                       { "KeyRotationEnabled", "True" },
                                                       { "NextRotationDate", NULL },
                                                       { "RotationPeriodInDays", "2560" } };

                for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                        size_t n;
                        char **row = table_row(status_table.out, rows[i][0], &n);

                        cr_assert_eq(n, 2, "%s", status_table.out);
                        cr_assert_str_eq(row[1], rows[i][1] ?: j_str(s, rows[i][0]), "%s", status_table.out);
                        free_names(row, n);
                }
        }

        /* yaml: the keys sorted, as aws's (ruamel's safe dumper) prints them. */
        CTL(&status_yaml, "get-key-rotation-status", "--key-id", key, "--output", "yaml");
        expect_ok(&status_yaml, "get-key-rotation-status --output yaml");
        cr_assert(asprintf(&want_status_yaml,
                           "KeyId: %s\nKeyRotationEnabled: true\nNextRotationDate: "
                           "'%s'\nRotationPeriodInDays: 2560\n",
                           arn, j_str(s, "NextRotationDate")) >= 0);
        cr_assert_str_eq(status_yaml.out, want_status_yaml);

        hmacd_key_rotation_list_free(l);
        for (size_t i = 0; i < 4; i++)
                free(ids[i]);
}

/* verify-mac-batch --format length-prefixed, for messages that hold newlines, against MACs made one
 * by one with generate-mac; --macs with CR LF; the key named by an alias, the key ARN in the answer;
 * text and yaml output. */
Test(cli_rotation, verify_mac_batch_length_prefixed) {
        char arn[256];
        /* "one", "two\nlines", "three" as length-prefixed records. */
        static const char records[] = "\0\0\0\3one\0\0\0\11two\nlines\0\0\0\5three";
        _cleanup_free_ char *key = create_key(NULL, arn), *messages = tmp_path("messages"),
                            *macs = tmp_path("macs"), *messages_arg = NULL, *macs_arg = NULL,
                            *m0 = mac(key, "one"), *m1 = mac(key, "two\nlines"), *m2 = mac(key, "three"),
                            *good = NULL, *spoiled = NULL;
        _cleanup_(harness_result_done) HarnessResult alias = {}, json = {}, text = {}, yaml = {}, lines = {};
        _cleanup_(j_freep) J *j = NULL;
        const J *valid;

        write_file(messages, records, sizeof records - 1);
        cr_assert(asprintf(&messages_arg, "fileb://%s", messages) >= 0);
        cr_assert(asprintf(&macs_arg, "fileb://%s", macs) >= 0);
        cr_assert(asprintf(&good, "%s\r\n%s\n%s\n", m0, m1, m2) >= 0);
        cr_assert(asprintf(&spoiled, "%s\n%s\n%s\n", m0, m0, m2) >= 0); /* the second of another message */

        CTL(&alias, "create-alias", "--alias-name", "alias/tokens", "--target-key-id", key);
        expect_quiet(&alias, "create-alias");
        write_file(macs, good, strlen(good));
        CTL(&json, "verify-mac-batch", "--key-id", "alias/tokens", "--mac-algorithm", "HMAC_SHA_256",
            "--messages", messages_arg, "--format", "length-prefixed", "--macs", macs_arg);
        j = run_json(&json, "verify-mac-batch --format length-prefixed");
        j_assert_keys(j, "KeyId", "MacAlgorithm", "MacsValid", NULL);
        cr_assert_str_eq(j_str(j, "KeyId"), arn);
        cr_assert_str_eq(j_str(j, "MacAlgorithm"), "HMAC_SHA_256");
        valid = j_array(j, "MacsValid");
        cr_assert_eq(valid->n, 3);
        for (size_t i = 0; i < 3; i++)
                cr_assert(valid->items[i]->type == J_BOOLEAN && valid->items[i]->b, "MAC %zu", i);

        write_file(macs, spoiled, strlen(spoiled));
        CTL(&text, "verify-mac-batch", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--format", "length-prefixed", "--macs", macs_arg, "--output", "text");
        expect_ok(&text, "verify-mac-batch --format length-prefixed --output text");
        cr_assert_str_eq(text.out, "True\nFalse\nTrue\n");
        CTL(&yaml, "verify-mac-batch", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--format", "length-prefixed", "--macs", macs_arg, "--output", "yaml", "--query",
            "MacsValid");
        expect_ok(&yaml, "verify-mac-batch --output yaml");
        cr_assert_str_eq(yaml.out, "- true\n- false\n- true\n");

        /* The same file as lines is two messages, not three. */
        CTL(&lines, "verify-mac-batch", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", macs_arg);
        expect_fail(&lines, 252, "3 MACs for 2 messages", "length-prefixed records read as lines");
}
