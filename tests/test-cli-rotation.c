/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacctl and libhmacd for key material versions and rotation (API.md, section 3a).
 *
 * Suite cli_rotation_args needs no daemon: command lines, help, --generate-cli-skeleton in every
 * output format, --cli-input-json checks, and a service that cannot be reached. The bus address
 * points at a socket that does not exist, so nothing here can reach a real service.
 *
 * Suite cli_rotation_stub runs hmacctl and libhmacd against a stub of the service (below) with canned
 * answers: what they send, and that every field of the answers is read and printed as aws prints it.
 *
 * Suite cli_rotation runs hmacctl and libhmacd against the real daemon on a private bus: a MAC made
 * before a rotation verifies after it and after a restart, retirement, the verify window, automatic
 * rotation status, paging of list-key-rotations, verify-mac-batch, the key states, the limit of 25
 * previous materials, and polkit's io.hmacd.rotate-key. */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
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

        CTL(&res, "describe-key", "--key-id", key);
        j = run_json(&res, "describe-key");
        id = strdup(j_str(j_need(j, "KeyMetadata", J_OBJECT), "CurrentKeyMaterialId"));
        cr_assert(id && is_material_id(id), "CurrentKeyMaterialId: %s", strna(id));
        return id;
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
        _cleanup_free_ char *key = create_key("8", arn), *plain = NULL;
        _cleanup_(harness_result_done) HarnessResult update = {}, zero = {}, over = {}, desc = {};
        _cleanup_(j_freep) J *d = NULL;

        CTL(&desc, "describe-key", "--key-id", key, "--query", "KeyMetadata.MacVerifyWindowInDays");
        expect_ok(&desc, "describe-key --query");
        cr_assert_str_eq(desc.out, "8\n");

        CTL(&update, "update-mac-verify-window", "--key-id", key, "--days", "3650");
        expect_quiet(&update, "update-mac-verify-window");
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "describe-key", "--key-id", arn);
                d = run_json(&res, "describe-key");
                cr_assert_str_eq(
                        j_need(j_need(d, "KeyMetadata", J_OBJECT), "MacVerifyWindowInDays", J_NUMBER)->s,
                        "3650");
        }

        CTL(&zero, "update-mac-verify-window", "--key-id", key, "--days", "0");
        expect_quiet(&zero, "update-mac-verify-window --days 0");
        CTL(&over, "update-mac-verify-window", "--key-id", key, "--days", "3651");
        expect_service_error(&over, "ValidationException", "UpdateMacVerifyWindow", NULL);

        /* The service's limit for CreateKey too. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                CTL(&res, "create-key", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC",
                    "--mac-verify-window-in-days", "3651");
                expect_service_error(&res, "ValidationException", "CreateKey", NULL);
        }
        plain = create_key("0", arn);
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
        HmacdKeyMetadata *m = NULL, *d = NULL;
        HmacdKeyRotationList *l = NULL;
        HmacdError e = {};
        Hmacd *h = NULL;
        uint8_t tag[HMACD_MAC_SIZE_MAX], tags[3 * HMACD_MAC_SIZE_MAX];
        size_t tag_size = 0, tags_size = 0;
        struct iovec messages[3] = { { (void *) "a", 1 }, { (void *) "bb", 2 }, { (void *) "ccc", 3 } },
                     macs[3];
        bool valid[3] = {};
        uint64_t next = 0, on_demand = 0;
        uint32_t period = 0;
        bool enabled = true;

        cr_assert(hmacd_open(HMACD_BUS_SYSTEM, &h) >= 0);
        cr_assert(hmacd_create_key_with_verify_window(h, "HMAC_256", "GENERATE_VERIFY_MAC", NULL, NULL, 0,
                                                      NULL, 30, &m, NULL) >= 0);
        cr_assert_eq(m->mac_verify_window_in_days, 30);
        cr_assert(is_material_id(m->current_key_material_id));

        cr_assert(hmacd_generate_mac(h, m->key_id, "old", 3, "HMAC_SHA_256", tag, &tag_size, NULL,
                                     NULL) >= 0);
        cr_assert(hmacd_generate_mac_batch(h, m->key_id, messages, 3, "HMAC_SHA_256", tags, &tags_size,
                                           NULL) >= 0);

        cr_assert(hmacd_rotate_key_on_demand(h, m->arn, &material, NULL) >= 0);
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
        cr_assert(hmacd_verify_mac_batch(h, m->key_id, messages, 3, "HMAC_SHA_256", macs, valid, &arn,
                                         &e) >= 0,
                  "%s: %s", strna(e.name), strna(e.message));
        cr_assert(valid[0] && !valid[1] && valid[2]);
        cr_assert_str_eq(arn, m->arn);

        cr_assert(hmacd_get_key_rotation_status(h, m->key_id, &enabled, &period, &next, &on_demand,
                                                NULL) >= 0);
        cr_assert_not(enabled);
        cr_assert_eq(next, 0);
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
        hmacd_key_rotation_list_free(l);

        cr_assert(hmacd_update_mac_verify_window(h, m->key_id, 0, NULL) >= 0);
        cr_assert(hmacd_retire_key_material(h, m->key_id, m->current_key_material_id, NULL) >= 0);
        cr_assert_eq(hmacd_verify_mac(h, m->key_id, "old", 3, "HMAC_SHA_256", tag, tag_size, NULL, &e),
                     -EBADMSG);
        cr_assert_str_eq(e.name, "KMSInvalidMacException");
        hmacd_error_clear(&e);

        hmacd_key_metadata_free(d);
        hmacd_key_metadata_free(m);
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
        _cleanup_free_ char *key = create_key(NULL, arn), *external = NULL, *origin_message = NULL;
        _cleanup_(harness_result_done) HarnessResult disable = {}, enable = {}, schedule = {}, ext = {},
                                                     limit = {};
        Hmacd *h = NULL;
        HmacdError e = {};

        CTL(&disable, "disable-key", "--key-id", key);
        expect_quiet(&disable, "disable-key");
        expect_rotation_refused(key, "DisabledException", " is disabled.");
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
        expect_rotation_refused(key, "KMSInvalidStateException", " is pending deletion.");

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

/* ---- against a stub of the service ----
 *
 * A small io.hmacd.Kms1 with canned answers for the methods of section 3a, forked off the test and
 * run as user "hmacd" (the only one the bus lets own the name): it shows what hmacctl and libhmacd
 * send, and that they read and print exactly what the contract's answers hold, without the real
 * daemon's side of the feature. Where the stub refuses a call, its error message says what it got. */

#define STUB_ARN_PREFIX "arn:hmacd:kms:local:000000000000:key/"
#define STUB_ERROR(e)   "io.hmacd.Kms1.Error." e
#define USEC(s)         ((uint64_t) (s) *UINT64_C(1000000))

static const char STUB_M[5][65] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "1111111111111111111111111111111111111111111111111111111111111111",
        "2222222222222222222222222222222222222222222222222222222222222222",
        "3333333333333333333333333333333333333333333333333333333333333333",
        "4444444444444444444444444444444444444444444444444444444444444444",
};
static const char STUB_NEW_M[] = "5555555555555555555555555555555555555555555555555555555555555555";
static const uint64_t STUB_T0 = USEC(1796000000); /* 2026-11-30T... */
static pid_t stub_pid;

static int stub_arn(const char *key_id, char buf[static 128]) {
        const char *id = strncmp(key_id, STUB_ARN_PREFIX, strlen(STUB_ARN_PREFIX)) == 0
                                 ? key_id + strlen(STUB_ARN_PREFIX)
                                 : key_id;

        snprintf(buf, 128, "%s%s", STUB_ARN_PREFIX, id);
        return 0;
}

static int stub_metadata(sd_bus_message *reply, const char *key_id, const char *options) {
        char arn[128];

        stub_arn(key_id, arn);
        return sd_bus_message_append(reply, "a{sv}", 11, "KeyId", "s", arn + strlen(STUB_ARN_PREFIX), "Arn",
                                     "s", arn, "CreationDate", "t", STUB_T0, "Enabled", "b", 1,
                                     "Description", "s", options, "KeyUsage", "s", "GENERATE_VERIFY_MAC",
                                     "KeyState", "s", "Enabled", "KeySpec", "s", "HMAC_256",
                                     "CurrentKeyMaterialId", "s", STUB_M[4], "MacVerifyWindowInDays", "u",
                                     strstr(options, "=8") ? 8 : 0, "AFieldOfTomorrow", "as", 1, "ignored");
}

static int stub_describe_key(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *key_id;
        int r;

        r = sd_bus_message_read(m, "s", &key_id);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = stub_metadata(reply, key_id, "");
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The options CreateKey got, said in the key's description: "MacVerifyWindowInDays=8" or "". */
static int stub_create_key(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *spec, *usage, *description, *name;
        char options[256] = "";
        int r;

        r = sd_bus_message_read(m, "sss", &spec, &usage, &description);
        if (r < 0)
                return r;
        r = sd_bus_message_skip(m, "a{ss}");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, "MacVerifyWindowInDays")) {
                        uint32_t days;

                        r = sd_bus_message_read(m, "v", "u", &days);
                        if (r < 0)
                                return r;
                        snprintf(options + strlen(options), sizeof options - strlen(options), "%s=%u", name,
                                 days);
                } else {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                return r;
                        snprintf(options + strlen(options), sizeof options - strlen(options), "%s", name);
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = stub_metadata(reply, "0f3d9c2e-5b1a-4c7e-9d2f-8a6b4e1c3d5f", options);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int stub_rotate(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *key_id;
        char arn[128];
        int r;

        r = sd_bus_message_read(m, "s", &key_id);
        if (r < 0)
                return r;
        stub_arn(key_id, arn);
        if (strstr(key_id, "dddd"))
                return sd_bus_error_setf(error, STUB_ERROR("DisabledException"), "%s is disabled.", arn);
        return sd_bus_reply_method_return(m, "s", STUB_NEW_M);
}

/* A (s key_id, u number) call that succeeds for want, and says what it got otherwise. */
static int stub_expect_su(sd_bus_message *m, sd_bus_error *error, uint32_t want) {
        const char *key_id;
        uint32_t got;
        int r;

        r = sd_bus_message_read(m, "su", &key_id, &got);
        if (r < 0)
                return r;
        if (got != want)
                return sd_bus_error_setf(error, STUB_ERROR("ValidationException"), "got %s %u", key_id, got);
        return sd_bus_reply_method_return(m, NULL);
}

/* The tests ask for 365 days. */
static int stub_enable_rotation(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return stub_expect_su(m, error, 365);
}

static int stub_disable_rotation(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *key_id;
        int r;

        r = sd_bus_message_read(m, "s", &key_id);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

/* On for keys whose ID starts with 1, every 90 days, next on T0 + 90 days; off for the others. */
static int stub_rotation_status(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *key_id;
        bool on;
        int r;

        r = sd_bus_message_read(m, "s", &key_id);
        if (r < 0)
                return r;
        on = strstr(key_id, "1234abcd") != NULL;
        return sd_bus_reply_method_return(m, "butt", on, on ? 90 : 0, on ? STUB_T0 + USEC(90 * 86400) : 0,
                                          (uint64_t) 0);
}

/* Five materials, the last current; markers are "m<index>". */
static int stub_list_rotations(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        static const char *const types[] = { "", "AUTOMATIC", "ON_DEMAND", "AUTOMATIC", "ON_DEMAND" };
        const char *key_id, *marker;
        unsigned start = 0, end;
        uint32_t limit;
        int r;

        r = sd_bus_message_read(m, "sus", &key_id, &limit, &marker);
        if (r < 0)
                return r;
        if (*marker && (sscanf(marker, "m%u", &start) != 1 || start == 0 || start >= 5))
                return sd_bus_error_setf(error, STUB_ERROR("InvalidMarkerException"), "Invalid marker '%s'",
                                         marker);
        end = MIN(start + (limit ?: 100), 5u);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (unsigned i = start; i < end; i++) {
                bool current = i == 4;

                r = sd_bus_message_append(
                        reply, "a{sv}", current || i == 2 ? 5 : 6, "KeyMaterialId", "s", STUB_M[i],
                        "KeyMaterialState", "s", current ? "CURRENT" : "NON_CURRENT", "RotationDate", "t",
                        i == 0 ? (uint64_t) 0 : STUB_T0 + USEC(i * 86400), "RotationType", "s", types[i],
                        "VerifyUntil", "t", current ? (uint64_t) 0 : STUB_T0 + USEC((i + 1) * 86400 + 3600),
                        /* A field this client does not know yet, in all but two. */
                        "Tomorrow", "u", 42);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        if (end < 5) {
                char next[16];

                snprintf(next, sizeof next, "m%u", end);
                r = sd_bus_message_append(reply, "sb", next, 1);
        } else
                r = sd_bus_message_append(reply, "sb", "", 0);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The tests ask for 8 days. */
static int stub_update_window(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return stub_expect_su(m, error, 8);
}

static int stub_retire(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *key_id, *material;
        int r;

        r = sd_bus_message_read(m, "ss", &key_id, &material);
        if (r < 0)
                return r;
        if (!streq(material, STUB_M[0]))
                return sd_bus_error_setf(error, STUB_ERROR("NotFoundException"),
                                         "Key material '%s' does not exist", material);
        return sd_bus_reply_method_return(m, NULL);
}

/* A MAC is valid when it is the message itself. */
static int stub_verify_batch(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const void *messages[8], *macs[8];
        size_t message_sizes[8], mac_sizes[8], n = 0, k = 0;
        const char *key_id, *algorithm;
        char arn[128];
        int r;

        r = sd_bus_message_read(m, "s", &key_id);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "ay");
        if (r < 0)
                return r;
        while (n < 8 && (r = sd_bus_message_read_array(m, 'y', &messages[n], &message_sizes[n])) > 0)
                n++;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &algorithm);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "ay");
        if (r < 0)
                return r;
        while (k < 8 && (r = sd_bus_message_read_array(m, 'y', &macs[k], &mac_sizes[k])) > 0)
                k++;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        if (n != k || n == 0)
                return sd_bus_error_setf(error, STUB_ERROR("ValidationException"), "%zu messages, %zu MACs",
                                         n, k);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "b");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_append(reply, "b",
                                          message_sizes[i] == mac_sizes[i] &&
                                                  memcmp(messages[i], macs[i], mac_sizes[i]) == 0);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        stub_arn(key_id, arn);
        r = sd_bus_message_append(reply, "s", arn);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable stub_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("CreateKey", "sssa{ss}a{sv}", "a{sv}", stub_create_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("DescribeKey", "s", "a{sv}", stub_describe_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("RotateKeyOnDemand", "s", "s", stub_rotate, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("EnableKeyRotation", "su", "", stub_enable_rotation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("DisableKeyRotation", "s", "", stub_disable_rotation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("GetKeyRotationStatus", "s", "butt", stub_rotation_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ListKeyRotations", "sus", "aa{sv}sb", stub_list_rotations,
                      SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("UpdateMacVerifyWindow", "su", "", stub_update_window, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("RetireKeyMaterial", "ss", "", stub_retire, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("VerifyMacBatch", "saaysaay", "abs", stub_verify_batch, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static _Noreturn void stub_run(void) {
        sd_bus *bus = NULL;
        uid_t uid;
        gid_t gid;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (harness_lookup_user(HARNESS_DAEMON_USER, &uid, &gid) < 0 || setgroups(0, NULL) < 0 ||
            setgid(gid) < 0 || setuid(uid) < 0)
                _exit(2);
        if (sd_bus_open_system(&bus) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, stub_vtable, NULL) <
                    0 ||
            sd_bus_request_name(bus, HARNESS_BUS_NAME, 0) < 0)
                _exit(3);
        for (;;) {
                int r = sd_bus_process(bus, NULL);

                if (r < 0)
                        _exit(4);
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        _exit(5);
        }
}

static void stub_setup(void) {
        int r;

        harness_require_environment();
        harness_check(harness_bus_start(), "start the private bus");
        stub_pid = fork();
        harness_check(stub_pid < 0 ? -errno : 0, "fork the stub");
        if (stub_pid == 0)
                stub_run();
        r = harness_wait_for_name(HARNESS_BUS_NAME, stub_pid, HARNESS_START_TIMEOUT_USEC, NULL);
        if (r < 0)
                stub_pid = 0;
        harness_check(r, "start the stub of io.hmacd.Kms1");
}

static void stub_teardown(void) {
        if (stub_pid > 0) {
                (void) kill(stub_pid, SIGTERM);
                (void) waitpid(stub_pid, NULL, 0);
                stub_pid = 0;
        }
        harness_teardown();
}

TestSuite(cli_rotation_stub, .init = stub_setup, .fini = stub_teardown, .timeout = 120);

static const char STUB_KEY[] = "1234abcd-12ab-44cd-96ef-1234567890ab";
static const char STUB_ARN[] = STUB_ARN_PREFIX "1234abcd-12ab-44cd-96ef-1234567890ab";

static char *iso(uint64_t usec) {
        char *s;
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        cr_assert(gmtime_r(&t, &tm));
        s = malloc(64);
        cr_assert(s);
        strftime(s, 64, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
        return s;
}

Test(cli_rotation_stub, list_key_rotations_as_aws_prints_them) {
        _cleanup_(harness_result_done) HarnessResult res = {}, text = {}, page = {}, bad = {};
        _cleanup_(j_freep) J *j = NULL, *p = NULL;
        const J *r;
        char **ids = NULL;
        size_t n, pages;

        /* With the key ARN: the entries carry the key ID, as AWS's do. */
        CTL(&res, "list-key-rotations", "--key-id", STUB_ARN);
        j = run_json(&res, "list-key-rotations");
        j_assert_keys(j, "Rotations", NULL);
        r = j_array(j, "Rotations");
        cr_assert_eq(r->n, 5);
        for (size_t i = 0; i < 5; i++) {
                _cleanup_free_ char *rotated = iso(STUB_T0 + USEC(i * 86400)),
                                    *until = iso(STUB_T0 + USEC((i + 1) * 86400 + 3600));
                const J *e = r->items[i];

                cr_assert_str_eq(j_str(e, "KeyId"), STUB_KEY);
                cr_assert_str_eq(j_str(e, "KeyMaterialId"), STUB_M[i]);
                cr_assert_str_eq(j_str(e, "KeyMaterialState"), i == 4 ? "CURRENT" : "NON_CURRENT");
                if (i == 0) /* the initial material: no rotation */
                        j_assert_keys(e, "KeyId", "KeyMaterialId", "KeyMaterialState", "VerifyUntil", NULL);
                else if (i == 4) /* the current one: no end */
                        j_assert_keys(e, "KeyId", "KeyMaterialId", "KeyMaterialState", "RotationDate",
                                      "RotationType", NULL);
                else
                        j_assert_keys(e, "KeyId", "KeyMaterialId", "KeyMaterialState", "RotationDate",
                                      "RotationType", "VerifyUntil", NULL);
                if (i > 0) {
                        cr_assert_str_eq(j_str(e, "RotationDate"), rotated);
                        cr_assert_str_eq(j_str(e, "RotationType"), i % 2 ? "AUTOMATIC" : "ON_DEMAND");
                }
                if (i < 4)
                        cr_assert_str_eq(j_str(e, "VerifyUntil"), until);
        }

        CTL(&text, "list-key-rotations", "--key-id", STUB_KEY, "--output", "text", "--query",
            "Rotations[?KeyMaterialState=='NON_CURRENT'].KeyMaterialId");
        expect_ok(&text, "--output text --query");
        {
                _cleanup_free_ char *want = NULL;

                cr_assert(asprintf(&want, "%s\t%s\t%s\t%s\n", STUB_M[0], STUB_M[1], STUB_M[2],
                                   STUB_M[3]) >= 0);
                cr_assert_str_eq(text.out, want);
        }

        /* The initial material has no RotationType: None, as aws prints a missing member. */
        {
                _cleanup_(harness_result_done) HarnessResult pairs = {};

                CTL(&pairs, "list-key-rotations", "--key-id", STUB_KEY, "--query",
                    "Rotations[].[KeyMaterialState, RotationType]", "--output", "text");
                expect_ok(&pairs, "--query pairs --output text");
                cr_assert_str_eq(pairs.out, "NON_CURRENT\tNone\nNON_CURRENT\tAUTOMATIC\n"
                                            "NON_CURRENT\tON_DEMAND\nNON_CURRENT\tAUTOMATIC\n"
                                            "CURRENT\tON_DEMAND\n");
        }

        /* Paging as list-keys: every material once, in order, whatever the page sizes. */
        n = page_through("list-key-rotations", "Rotations", "KeyMaterialId", "2", NULL, STUB_KEY, &ids,
                         &pages);
        cr_assert_eq(n, 5);
        cr_assert_eq(pages, 3);
        for (size_t i = 0; i < n; i++)
                cr_assert_str_eq(ids[i], STUB_M[i]);
        free_names(ids, n);
        n = page_through("list-key-rotations", "Rotations", "KeyMaterialId", "3", "2", STUB_KEY, &ids,
                         &pages);
        cr_assert_eq(n, 5);
        cr_assert_eq(pages, 2);
        for (size_t i = 0; i < n; i++)
                cr_assert_str_eq(ids[i], STUB_M[i]);
        free_names(ids, n);

        /* --limit: the service's page as it is. */
        CTL(&page, "list-key-rotations", "--key-id", STUB_KEY, "--limit", "2");
        p = run_json(&page, "list-key-rotations --limit 2");
        j_assert_keys(p, "Rotations", "NextMarker", "Truncated", NULL);
        cr_assert_eq(j_array(p, "Rotations")->n, 2);
        cr_assert_str_eq(j_str(p, "NextMarker"), "m2");
        cr_assert(j_get(p, "Truncated")->b);

        CTL(&bad, "list-key-rotations", "--key-id", STUB_KEY, "--marker", "m9");
        expect_service_error(&bad, "InvalidMarkerException", "ListKeyRotations", "Invalid marker 'm9'");
}

Test(cli_rotation_stub, rotation_status_rotate_and_the_quiet_ones) {
        _cleanup_(harness_result_done) HarnessResult on = {}, off = {}, rotate = {}, disabled = {},
                                                     enable = {}, enable_default = {}, enable_input = {},
                                                     disable = {}, window = {}, window_bad = {}, retire = {},
                                                     retire_bad = {}, table = {};
        _cleanup_(j_freep) J *s = NULL, *o = NULL, *k = NULL;
        _cleanup_free_ char *next = iso(STUB_T0 + USEC(90 * 86400)), *other_input = NULL;
        static const char other[] = "0f3d9c2e-5b1a-4c7e-9d2f-8a6b4e1c3d5f";

        CTL(&on, "get-key-rotation-status", "--key-id", STUB_KEY);
        s = run_json(&on, "get-key-rotation-status");
        j_assert_keys(s, "KeyRotationEnabled", "KeyId", "RotationPeriodInDays", "NextRotationDate", NULL);
        cr_assert(j_need(s, "KeyRotationEnabled", J_BOOLEAN)->b);
        cr_assert_str_eq(j_str(s, "KeyId"), STUB_ARN);
        cr_assert_str_eq(j_need(s, "RotationPeriodInDays", J_NUMBER)->s, "90");
        cr_assert_str_eq(j_str(s, "NextRotationDate"), next);

        CTL(&off, "get-key-rotation-status", "--key-id", other);
        o = run_json(&off, "get-key-rotation-status, off");
        j_assert_keys(o, "KeyRotationEnabled", "KeyId", NULL);
        cr_assert_not(j_get(o, "KeyRotationEnabled")->b);

        CTL(&table, "get-key-rotation-status", "--key-id", STUB_KEY, "--output", "table");
        expect_ok(&table, "--output table");
        cr_assert(strstr(table.out, "GetKeyRotationStatus") &&
                          strstr(table.out, "|  RotationPeriodInDays|  90 "),
                  "%s", table.out);

        CTL(&rotate, "rotate-key-on-demand", "--key-id", STUB_KEY);
        k = run_json(&rotate, "rotate-key-on-demand");
        j_assert_keys(k, "KeyId", "KeyMaterialId", NULL);
        cr_assert_str_eq(j_str(k, "KeyId"), STUB_ARN);
        cr_assert_str_eq(j_str(k, "KeyMaterialId"), STUB_NEW_M);
        CTL(&disabled, "rotate-key-on-demand", "--key-id", "dddddddd-12ab-44cd-96ef-1234567890ab");
        expect_service_error(&disabled, "DisabledException", "RotateKeyOnDemand",
                             STUB_ARN_PREFIX "dddddddd-12ab-44cd-96ef-1234567890ab is disabled.");

        /* What enable-key-rotation sends: 0 (the service's default) without the option. */
        CTL(&enable_default, "enable-key-rotation", "--key-id", STUB_KEY);
        expect_service_error(&enable_default, "ValidationException", "EnableKeyRotation",
                             "got "
                             "1234abcd-12ab-44cd-96ef-1234567890ab 0");
        CTL(&enable, "enable-key-rotation", "--key-id", STUB_KEY, "--rotation-period-in-days", "365");
        expect_quiet(&enable, "enable-key-rotation --rotation-period-in-days 365");
        cr_assert(asprintf(&other_input, "{\"KeyId\": \"%s\", \"RotationPeriodInDays\": 2560}", other) >= 0);
        CTL(&enable_input, "enable-key-rotation", "--cli-input-json", other_input);
        expect_service_error(&enable_input, "ValidationException", "EnableKeyRotation",
                             "got 0f3d9c2e-5b1a-4c7e-9d2f-8a6b4e1c3d5f 2560");
        CTL(&disable, "disable-key-rotation", "--key-id", STUB_KEY);
        expect_quiet(&disable, "disable-key-rotation");

        CTL(&window, "update-mac-verify-window", "--key-id", STUB_KEY, "--days", "8");
        expect_quiet(&window, "update-mac-verify-window --days 8");
        CTL(&window_bad, "update-mac-verify-window", "--key-id", STUB_KEY, "--days", "0");
        expect_service_error(&window_bad, "ValidationException", "UpdateMacVerifyWindow",
                             "got 1234abcd-12ab-44cd-96ef-1234567890ab 0");

        CTL(&retire, "retire-key-material", "--key-id", STUB_KEY, "--key-material-id", STUB_M[0]);
        expect_quiet(&retire, "retire-key-material");
        CTL(&retire_bad, "retire-key-material", "--key-id", STUB_KEY, "--key-material-id", STUB_M[1]);
        expect_service_error(&retire_bad, "NotFoundException", "RetireKeyMaterial", STUB_M[1]);
}

Test(cli_rotation_stub, metadata_fields_and_the_create_key_option) {
        _cleanup_(harness_result_done) HarnessResult describe = {}, with = {}, without = {}, zero = {};
        _cleanup_(j_freep) J *d = NULL, *w = NULL, *wo = NULL, *z = NULL;
        const J *md;

        CTL(&describe, "describe-key", "--key-id", STUB_KEY);
        d = run_json(&describe, "describe-key");
        md = j_need(d, "KeyMetadata", J_OBJECT);
        cr_assert_str_eq(j_str(md, "CurrentKeyMaterialId"), STUB_M[4]);
        cr_assert_str_eq(j_need(md, "MacVerifyWindowInDays", J_NUMBER)->s, "0");
        cr_assert_str_eq(md->keys[md->n - 1], "MacVerifyWindowInDays");
        cr_assert_str_eq(md->keys[md->n - 2], "CurrentKeyMaterialId");

        CTL(&with, "create-key", "--key-spec", "HMAC_256", "--mac-verify-window-in-days", "8");
        w = run_json(&with, "create-key --mac-verify-window-in-days 8");
        cr_assert_str_eq(j_str(j_need(w, "KeyMetadata", J_OBJECT), "Description"),
                         "MacVerifyWindowInDays=8");
        cr_assert_str_eq(j_need(j_need(w, "KeyMetadata", J_OBJECT), "MacVerifyWindowInDays", J_NUMBER)->s,
                         "8");

        /* Without it, or with 0 (the default), the option is not sent. */
        CTL(&without, "create-key", "--key-spec", "HMAC_256");
        wo = run_json(&without, "create-key");
        cr_assert_str_eq(j_str(j_need(wo, "KeyMetadata", J_OBJECT), "Description"), "");
        CTL(&zero, "create-key", "--key-spec", "HMAC_256", "--mac-verify-window-in-days", "0", "--origin",
            "EXTERNAL");
        z = run_json(&zero, "create-key --mac-verify-window-in-days 0");
        cr_assert_str_eq(j_str(j_need(z, "KeyMetadata", J_OBJECT), "Description"), "Origin");
}

Test(cli_rotation_stub, verify_mac_batch_output) {
        _cleanup_free_ char *messages = tmp_path("messages"), *macs = tmp_path("macs"), *messages_arg = NULL,
                            *macs_arg = NULL;
        _cleanup_(harness_result_done) HarnessResult json = {}, text = {}, yaml = {}, prefixed = {};
        _cleanup_(j_freep) J *j = NULL;
        const J *valid;
        /* "one", "two", "three" as length-prefixed records. */
        static const char records[] = "\0\0\0\3one\0\0\0\3two\0\0\0\5three";

        write_file(messages, "one\ntwo\nthree\n", 14);
        write_file(macs, "b25l\r\nAAAA\ndGhyZWU=\n", 20); /* one, a wrong one, three; CR LF is fine */
        cr_assert(asprintf(&messages_arg, "fileb://%s", messages) >= 0);
        cr_assert(asprintf(&macs_arg, "fileb://%s", macs) >= 0);

        CTL(&json, "verify-mac-batch", "--key-id", "alias/tokens", "--mac-algorithm", "HMAC_SHA_256",
            "--messages", messages_arg, "--macs", macs_arg);
        j = run_json(&json, "verify-mac-batch");
        j_assert_keys(j, "KeyId", "MacAlgorithm", "MacsValid", NULL);
        cr_assert_str_eq(j_str(j, "KeyId"),
                         STUB_ARN_PREFIX "alias/tokens"); /* the service's answer, as is */
        cr_assert_str_eq(j_str(j, "MacAlgorithm"), "HMAC_SHA_256");
        valid = j_array(j, "MacsValid");
        cr_assert_eq(valid->n, 3);
        cr_assert(valid->items[0]->b && !valid->items[1]->b && valid->items[2]->b);

        CTL(&text, "verify-mac-batch", "--key-id", STUB_KEY, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", macs_arg, "--output", "text");
        expect_ok(&text, "verify-mac-batch --output text");
        cr_assert_str_eq(text.out, "True\nFalse\nTrue\n");

        CTL(&yaml, "verify-mac-batch", "--key-id", STUB_KEY, "--mac-algorithm", "HMAC_SHA_256", "--messages",
            messages_arg, "--macs", macs_arg, "--output", "yaml", "--query", "MacsValid");
        expect_ok(&yaml, "verify-mac-batch --output yaml");
        cr_assert_str_eq(yaml.out, "- true\n- false\n- true\n");

        write_file(messages, records, sizeof records - 1);
        CTL(&prefixed, "verify-mac-batch", "--key-id", STUB_KEY, "--mac-algorithm", "HMAC_SHA_256",
            "--messages", messages_arg, "--format", "length-prefixed", "--macs", macs_arg, "--output",
            "text");
        expect_ok(&prefixed, "verify-mac-batch --format length-prefixed");
        cr_assert_str_eq(prefixed.out, "True\nFalse\nTrue\n");
}

/* libhmacd's calls: what they send and what they hand back. */
Test(cli_rotation_stub, libhmacd_reads_the_answers) {
        HmacdKeyRotationList *l = NULL, *rest = NULL;
        HmacdKeyMetadata *m = NULL;
        HmacdError e = {};
        Hmacd *h = NULL;
        _cleanup_free_ char *material = NULL, *arn = NULL;
        struct iovec messages[2] = { { (void *) "x", 1 }, { (void *) "yy", 2 } },
                     macs[2] = { { (void *) "x", 1 }, { (void *) "zz", 2 } };
        bool valid[2] = { false, true };
        bool enabled = false;
        uint32_t period = 0;
        uint64_t next = 0, on_demand = 1;

        cr_assert(hmacd_open(HMACD_BUS_SYSTEM, &h) >= 0);

        cr_assert(hmacd_list_key_rotations(h, STUB_KEY, 3, NULL, &l, NULL) >= 0);
        cr_assert_eq(l->n_rotations, 3);
        cr_assert(l->truncated);
        cr_assert_str_eq(l->next_marker, "m3");
        cr_assert_str_eq(l->rotations[0].key_material_id, STUB_M[0]);
        cr_assert_str_eq(l->rotations[0].rotation_type, "");
        cr_assert_eq(l->rotations[0].rotation_date, 0);
        cr_assert_eq(l->rotations[0].verify_until, STUB_T0 + USEC(86400 + 3600));
        cr_assert_str_eq(l->rotations[2].rotation_type, "ON_DEMAND"); /* the one without the unknown field */
        cr_assert(hmacd_list_key_rotations(h, STUB_KEY, 0, l->next_marker, &rest, NULL) >= 0);
        cr_assert_eq(rest->n_rotations, 2);
        cr_assert_not(rest->truncated);
        cr_assert_null(rest->next_marker);
        cr_assert_str_eq(rest->rotations[1].key_material_state, "CURRENT");
        cr_assert_eq(rest->rotations[1].verify_until, 0);
        hmacd_key_rotation_list_free(l);
        hmacd_key_rotation_list_free(rest);

        l = NULL;
        cr_assert(hmacd_list_key_rotations(h, STUB_KEY, 0, "bogus", &l, &e) < 0);
        cr_assert_null(l);
        cr_assert_str_eq(e.name, "InvalidMarkerException");
        cr_assert(e.service);
        hmacd_error_clear(&e);

        cr_assert(hmacd_rotate_key_on_demand(h, STUB_KEY, &material, NULL) >= 0);
        cr_assert_str_eq(material, STUB_NEW_M);
        cr_assert(hmacd_rotate_key_on_demand(h, STUB_KEY, NULL, NULL) >= 0);

        cr_assert(hmacd_get_key_rotation_status(h, STUB_KEY, &enabled, &period, &next, &on_demand,
                                                NULL) >= 0);
        cr_assert(enabled);
        cr_assert_eq(period, 90);
        cr_assert_eq(next, STUB_T0 + USEC(90 * 86400));
        cr_assert_eq(on_demand, 0);
        cr_assert(hmacd_get_key_rotation_status(h, STUB_KEY, NULL, NULL, NULL, NULL, NULL) >= 0);

        cr_assert(hmacd_enable_key_rotation(h, STUB_KEY, 365, NULL) >= 0);
        cr_assert(hmacd_enable_key_rotation(h, STUB_KEY, 7, &e) < 0);
        cr_assert_str_eq(e.message, "got 1234abcd-12ab-44cd-96ef-1234567890ab 7");
        hmacd_error_clear(&e);
        cr_assert(hmacd_disable_key_rotation(h, STUB_KEY, NULL) >= 0);
        cr_assert(hmacd_update_mac_verify_window(h, STUB_KEY, 8, NULL) >= 0);
        cr_assert(hmacd_retire_key_material(h, STUB_KEY, STUB_M[0], NULL) >= 0);
        cr_assert(hmacd_retire_key_material(h, STUB_KEY, STUB_M[2], &e) < 0);
        cr_assert_str_eq(e.name, "NotFoundException");
        hmacd_error_clear(&e);

        cr_assert(hmacd_verify_mac_batch(h, STUB_KEY, messages, 2, "HMAC_SHA_256", macs, valid, &arn,
                                         NULL) >= 0);
        cr_assert(valid[0] && !valid[1]);
        cr_assert_str_eq(arn, STUB_ARN);
        cr_assert_eq(
                hmacd_verify_mac_batch(h, STUB_KEY, messages, 2, "HMAC_SHA_256", NULL, valid, NULL, NULL),
                -EINVAL);

        cr_assert(hmacd_create_key_with_verify_window(h, "HMAC_256", "GENERATE_VERIFY_MAC", NULL, NULL, 0,
                                                      NULL, 8, &m, NULL) >= 0);
        cr_assert_str_eq(m->description, "MacVerifyWindowInDays=8");
        cr_assert_eq(m->mac_verify_window_in_days, 8);
        cr_assert_str_eq(m->current_key_material_id, STUB_M[4]);
        hmacd_key_metadata_free(m);
        cr_assert(hmacd_create_key(h, "HMAC_256", "GENERATE_VERIFY_MAC", NULL, NULL, 0, NULL, &m,
                                   NULL) >= 0);
        cr_assert_str_eq(m->description, "");
        hmacd_key_metadata_free(m);

        hmacd_close(h);
}
