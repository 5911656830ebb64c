/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key lifecycle against the real daemon: tag and alias rules and limits, aliases wherever a
 * key may be named by one, paging through thousands of keys, and deletion at the end of the
 * window, also across a restart, leaving no trace. */
#include <criterion/criterion.h>
#include <keyutils.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus-assert.h"
#include "bus-call.h"
#include "harness.h"
#include "hmacd.h"
#include "macro.h"

static void teardown(void) {
        bus_close();
        harness_teardown();
}

static void mac_abc(const char *key, uint8_t mac[static 32]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const void *p;
        size_t n;

        ok(bus_call("GenerateMac", &e, &reply, "says", key, 3, 'a', 'b', 'c', "HMAC_SHA_256"), &e, key);
        cr_assert(sd_bus_message_read_array(reply, 'y', &p, &n) >= 0);
        cr_assert_eq(n, 32);
        memcpy(mac, p, 32);
}

/* Reads one page of an a(ss)/a(ssstt) list: the first string of each entry into names[]. */
static size_t read_page(sd_bus_message *reply, const char *entry, char names[][300], size_t max, char *next,
                        int *truncated) {
        const char *first, *marker;
        char contents[16];
        size_t n = 0;
        int r;

        /* "(ss)" is an array of structs whose contents are "ss". */
        snprintf(contents, sizeof contents, "%.*s", (int) strlen(entry) - 2, entry + 1);
        cr_assert(sd_bus_message_enter_container(reply, 'a', entry) >= 0);
        while ((r = sd_bus_message_enter_container(reply, 'r', contents)) > 0) {
                cr_assert(sd_bus_message_read(reply, "s", &first) >= 0);
                cr_assert(n < max);
                snprintf(names[n++], 300, "%s", first);
                cr_assert(sd_bus_message_skip(reply, contents + 1) >= 0);
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
        }
        cr_assert(r >= 0);
        cr_assert(sd_bus_message_exit_container(reply) >= 0);
        cr_assert(sd_bus_message_read(reply, "sb", &marker, truncated) >= 0);
        strcpy(next, marker);
        return n;
}

TestSuite(lifecycle, .init = harness_setup_daemon, .fini = teardown, .timeout = 300);

Test(lifecycle, tag_rules_and_limits) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37], key[160], value[300], names[60][300], next[2100] = "";
        char marker[2100] = "";
        int truncated;
        size_t seen = 0;

        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        for (int i = 0; i < 50; i++) {
                snprintf(key, sizeof key, "tag%02d", i);
                ok(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, key, "v"), &e, key);
        }
        /* Replacing a value is not a new tag; a 51st tag is one too many. */
        ok(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, "tag07", "changed"), &e, "replace");
        fails(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, "tag50", "v"), &e, "TagException", "Too many tags");
        ok(bus_call("UntagResource", &e, NULL, "sas", id, 2, "tag49", "no-such-tag"), &e, "untag");
        ok(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, "tag50", "v"), &e, "50th again");

        memset(key, 'k', 129);
        key[129] = 0;
        fails(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, key, "v"), &e, "ValidationException",
              "less than or equal to 128");
        key[128] = 0;
        memset(value, 'v', 257);
        value[257] = 0;
        fails(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, "x", value), &e, "ValidationException",
              "less than or equal to 256");
        fails(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, "aws:x", "v"), &e, "TagException",
              "Tags beginning with aws: are reserved");
        fails(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, "hmacd:x", "v"), &e, "TagException", NULL);
        fails(bus_call("TagResource", &e, NULL, "sa{ss}", id, 2, "dup", "1", "dup", "2"), &e, "TagException",
              "Duplicate tag keys");
        fails(bus_call("ListResourceTags", &e, NULL, "sus", id, 51, ""), &e, "ValidationException", NULL);
        fails(bus_call("ListResourceTags", &e, NULL, "sus", id, 5, "0123456789abcdef"), &e, "InvalidMarkerException",
              NULL);

        /* Pages of 7 in tag-key order, 50 in all. */
        do {
                sd_bus_message *reply = NULL;
                ok(bus_call("ListResourceTags", &e, &reply, "sus", id, 7, marker), &e, "ListResourceTags");
                size_t n = read_page(reply, "(ss)", names + seen, 60 - seen, next, &truncated);
                sd_bus_message_unref(reply);
                cr_assert(n <= 7);
                seen += n;
                strcpy(marker, next);
        } while (truncated);
        cr_assert_eq(seen, 50);
        for (size_t i = 1; i < seen; i++)
                cr_assert(strcmp(names[i - 1], names[i]) < 0);

}

/* A page may end on the longest tag key there is (128 characters of 4 bytes): its marker must be
 * one the daemon accepts back. */
Test(lifecycle, paging_past_the_longest_tag_key) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37], key[4 * 128 + 1], names[4][300], next[2100];
        int truncated;
        sd_bus_message *reply = NULL;

        for (int i = 0; i < 128; i++)
                memcpy(key + 4 * i, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
        key[4 * 128] = 0;
        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        ok(bus_call("TagResource", &e, NULL, "sa{ss}", id, 2, key, "v1", "\xf4\x8f\xbf\xbd", "v2"), &e, "tag");
        ok(bus_call("ListResourceTags", &e, &reply, "sus", id, 1, ""), &e, "first page");
        cr_assert_eq(read_page(reply, "(ss)", names, 4, next, &truncated), 1);
        reply = sd_bus_message_unref(reply);
        cr_assert(truncated);
        cr_assert(strlen(next) <= 1024, "a marker of %zu characters", strlen(next));
        ok(bus_call("ListResourceTags", &e, &reply, "sus", id, 1, next), &e, "second page");
        cr_assert_eq(read_page(reply, "(ss)", names, 4, next, &truncated), 1);
        sd_bus_message_unref(reply);
        cr_assert(!truncated);
        cr_assert_str_eq(names[0], "\xf4\x8f\xbf\xbd");
}

Test(lifecycle, alias_rules_limits_and_resolution) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char a[37], b[37], name[300], arn_alias[400], names[60][300], next[2100], marker[2100] = "";
        uint8_t mac_a[32], mac_b[32], mac[32];
        int truncated;
        size_t seen = 0;

        cr_assert(bus_create_key("HMAC_256", NULL, a) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, b) >= 0);
        mac_abc(a, mac_a);
        mac_abc(b, mac_b);

        fails(bus_call("CreateAlias", &e, NULL, "ss", "alias/aws/mine", a), &e, "InvalidAliasNameException", NULL);
        fails(bus_call("CreateAlias", &e, NULL, "ss", "alias/hmacd/mine", a), &e, "InvalidAliasNameException", NULL);
        fails(bus_call("CreateAlias", &e, NULL, "ss", "alias/has space", a), &e, "ValidationException",
              "contains invalid characters for an alias");
        fails(bus_call("CreateAlias", &e, NULL, "ss", "alias/a:b", a), &e, "ValidationException", "invalid characters");
        fails(bus_call("CreateAlias", &e, NULL, "ss", "mine", a), &e, "ValidationException",
              "Alias must start with the prefix \"alias/\"");
        fails(bus_call("CreateAlias", &e, NULL, "ss", "alias/x", "alias/y"), &e, "NotFoundException", "Invalid keyId");
        strcpy(name, "alias/");
        memset(name + 6, 'n', 251);
        name[257] = 0;
        fails(bus_call("CreateAlias", &e, NULL, "ss", name, a), &e, "ValidationException", "less than or equal to 256");
        name[256] = 0;
        ok(bus_call("CreateAlias", &e, NULL, "ss", name, a), &e, "256-character alias");
        ok(bus_call("DeleteAlias", &e, NULL, "s", name), &e, "DeleteAlias");
        fails(bus_call("DeleteAlias", &e, NULL, "s", name), &e, "NotFoundException", "is not found.");

        for (int i = 0; i < 50; i++) {
                snprintf(name, sizeof name, "alias/k%02d", i);
                ok(bus_call("CreateAlias", &e, NULL, "ss", name, a), &e, name);
        }
        fails(bus_call("CreateAlias", &e, NULL, "ss", "alias/k50", a), &e, "LimitExceededException", NULL);
        fails(bus_call("CreateAlias", &e, NULL, "ss", "alias/k00", b), &e, "AlreadyExistsException", "already exists");
        ok(bus_call("CreateAlias", &e, NULL, "ss", "alias/other", b), &e, "alias for b");

        /* Aliases work wherever a key may be named: names and ARNs, GenerateMac, VerifyMac, DescribeKey. */
        mac_abc("alias/k00", mac);
        cr_assert(memcmp(mac, mac_a, 32) == 0);
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *arn = NULL;
                ok(bus_call("ListAliases", &e, &reply, "sus", b, 0, ""), &e, "ListAliases b");
                cr_assert(sd_bus_message_read(reply, "a(ssstt)", 1, NULL, &arn, NULL, NULL, NULL) >= 0);
                snprintf(arn_alias, sizeof arn_alias, "%s", arn);
        }
        mac_abc(arn_alias, mac);
        cr_assert(memcmp(mac, mac_b, 32) == 0);
        ok(bus_call("DescribeKey", &e, NULL, "s", "alias/other"), &e, "DescribeKey by alias");
        ok(bus_call("VerifyMac", &e, NULL, "saysay", "alias/k01", 3, 'a', 'b', 'c', "HMAC_SHA_256", 32, mac_a[0],
                    mac_a[1], mac_a[2], mac_a[3], mac_a[4], mac_a[5], mac_a[6], mac_a[7], mac_a[8], mac_a[9],
                    mac_a[10], mac_a[11], mac_a[12], mac_a[13], mac_a[14], mac_a[15], mac_a[16], mac_a[17],
                    mac_a[18], mac_a[19], mac_a[20], mac_a[21], mac_a[22], mac_a[23], mac_a[24], mac_a[25],
                    mac_a[26], mac_a[27], mac_a[28], mac_a[29], mac_a[30], mac_a[31]),
           &e, "VerifyMac by alias");
        /* Management methods take key IDs and ARNs only. */
        fails(bus_call("DisableKey", &e, NULL, "s", "alias/k00"), &e, "NotFoundException", "Invalid keyId");

        /* UpdateAlias moves the name: the same alias now gives b's MACs. */
        ok(bus_call("UpdateAlias", &e, NULL, "ss", "alias/k00", b), &e, "UpdateAlias");
        mac_abc("alias/k00", mac);
        cr_assert(memcmp(mac, mac_b, 32) == 0);
        fails(bus_call("UpdateAlias", &e, NULL, "ss", "alias/none", b), &e, "NotFoundException", "is not found.");

        /* All aliases, in name order, in pages of 7; and a's only. */
        do {
                sd_bus_message *reply = NULL;
                ok(bus_call("ListAliases", &e, &reply, "sus", "", 7, marker), &e, "ListAliases");
                seen += read_page(reply, "(ssstt)", names + seen, 60 - seen, next, &truncated);
                sd_bus_message_unref(reply);
                strcpy(marker, next);
        } while (truncated);
        cr_assert_eq(seen, 51);
        for (size_t i = 1; i < seen; i++)
                cr_assert(strcmp(names[i - 1], names[i]) < 0);
        seen = 0;
        marker[0] = 0;
        do {
                sd_bus_message *reply = NULL;
                ok(bus_call("ListAliases", &e, &reply, "sus", a, 4, marker), &e, "ListAliases a");
                seen += read_page(reply, "(ssstt)", names + seen, 60 - seen, next, &truncated);
                sd_bus_message_unref(reply);
                strcpy(marker, next);
        } while (truncated);
        cr_assert_eq(seen, 49);
        fails(bus_call("ListAliases", &e, NULL, "sus", "", 101, ""), &e, "ValidationException", NULL);
        fails(bus_call("ListAliases", &e, NULL, "sus", "", 5, "zz"), &e, "InvalidMarkerException", NULL);
}

Test(lifecycle, paging_through_2500_keys) {
        static char ids[2500][37];
        static char names[1000][300];
        const uint32_t limits[] = { 1, 7, 100, 0, 1000 };
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char marker[2100], next[2100];
        int truncated;

        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                cr_assert(bus_create_key("HMAC_224", NULL, ids[i]) >= 0, "key %zu", i);

        for (size_t l = 0; l < ELEMENTSOF(limits); l++) {
                size_t seen = 0, pages = 0;
                marker[0] = 0;
                do {
                        sd_bus_message *reply = NULL;
                        ok(bus_call("ListKeys", &e, &reply, "us", limits[l], marker), &e, "ListKeys");
                        size_t n = read_page(reply, "(ss)", names, 1000, next, &truncated);
                        sd_bus_message_unref(reply);
                        cr_assert(n <= (limits[l] ?: 100));
                        for (size_t i = 0; i < n; i++)
                                cr_assert_str_eq(names[i], ids[seen + i], "limit %u, key %zu", limits[l], seen + i);
                        seen += n;
                        pages++;
                        cr_assert(truncated == (seen < ELEMENTSOF(ids)));
                        cr_assert(!truncated || *next);
                        strcpy(marker, next);
                } while (truncated);
                cr_assert_eq(seen, ELEMENTSOF(ids));
                cr_log_info("limit %u: %zu pages", limits[l], pages);
        }

        /* A marker with one character changed, cut short, or made longer is refused. */
        {
                sd_bus_message *reply = NULL;
                ok(bus_call("ListKeys", &e, &reply, "us", 10, ""), &e, "ListKeys");
                read_page(reply, "(ss)", names, 1000, next, &truncated);
                sd_bus_message_unref(reply);
        }
        for (size_t i = 0; next[i]; i++) {
                strcpy(marker, next);
                marker[i] = marker[i] == 'f' ? '0' : (marker[i] == '9' ? 'a' : marker[i] + 1);
                fails(bus_call("ListKeys", &e, NULL, "us", 10, marker), &e, "InvalidMarkerException", NULL);
        }
        strcpy(marker, next);
        marker[strlen(marker) - 2] = 0;
        fails(bus_call("ListKeys", &e, NULL, "us", 10, marker), &e, "InvalidMarkerException", NULL);
        strcat(strcpy(marker, next), "00");
        fails(bus_call("ListKeys", &e, NULL, "us", 10, marker), &e, "InvalidMarkerException", NULL);
}

/* The keyring entry the daemon logged as invalidated when it deleted key id. */
static key_serial_t invalidated_serial(const char *id) {
        _cleanup_free_ char *log = NULL;
        const char *p;
        int serial = 0;

        cr_assert(harness_daemon_log(&log) >= 0);
        p = strstr(log, id);
        while (p && !strstr(p, "keyring entry "))
                p = NULL;
        p = p ? strstr(p, "keyring entry ") : NULL;
        cr_assert(p && sscanf(p, "keyring entry %d invalidated", &serial) == 1, "%s", log);
        return serial;
}

static bool file_contains(const char *path, const char *needle) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;

        if (harness_read_file(path, &data, &size) < 0)
                return false;
        return memmem(data, size, needle, strlen(needle)) != NULL;
}

static void assert_no_trace(const char *id) {
        char path[4096];
        const char *files[] = { "hmacd.db", "hmacd.db-wal" };
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char names[100][300], next[2100];
        int truncated;
        size_t n;

        fails(bus_call("DescribeKey", &e, NULL, "s", id), &e, "NotFoundException", "does not exist");
        ok(bus_call("ListKeys", &e, &reply, "us", 0, ""), &e, "ListKeys");
        n = read_page(reply, "(ss)", names, 100, next, &truncated);
        reply = sd_bus_message_unref(reply);
        for (size_t i = 0; i < n; i++)
                cr_assert_str_neq(names[i], id);
        ok(bus_call("ListAliases", &e, &reply, "sus", "", 0, ""), &e, "ListAliases");
        n = read_page(reply, "(ssstt)", names, 100, next, &truncated);
        sd_bus_message_unref(reply);
        cr_assert_eq(n, 1, "only the other key's alias remains");
        cr_assert_str_eq(names[0], "alias/survivor");
        fails(bus_call("GenerateMac", &e, NULL, "says", "alias/doomed", 1, 'x', "HMAC_SHA_256"), &e,
              "NotFoundException", NULL);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof path, "%s/%s", harness_state_dir(), files[i]);
                cr_assert(!file_contains(path, id), "%s still holds %s", files[i], id);
                cr_assert(!file_contains(path, "alias/doomed"), "%s still holds the alias", files[i]);
        }
}

/* A key scheduled for deletion can't be used, can be cancelled, and at the end of its window is
 * gone: from the keyring, the store and every list. Days last one second here. */
TestSuite(deletion, .fini = teardown, .timeout = 120);

Test(deletion, at_the_end_of_the_window) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37], other[37], state[32];
        uint8_t mac[32], again[32];
        key_serial_t serial;
        char arg[32];

        harness_require_environment();
        cr_assert(harness_daemon_startl("--test-only-seconds-per-day=1", NULL) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, other) >= 0);
        ok(bus_call("CreateAlias", &e, NULL, "ss", "alias/doomed", id), &e, "alias");
        ok(bus_call("CreateAlias", &e, NULL, "ss", "alias/survivor", other), &e, "alias");
        ok(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, "Doomed", "yes"), &e, "tag");
        mac_abc(id, mac);

        /* Cancel brings it back Disabled; enabling gives the same MACs. */
        ok(bus_call("ScheduleKeyDeletion", &e, NULL, "su", id, 30), &e, "schedule");
        fails(bus_call("GenerateMac", &e, NULL, "says", id, 1, 'x', "HMAC_SHA_256"), &e, "KMSInvalidStateException",
              "is pending deletion.");
        fails(bus_call("ScheduleKeyDeletion", &e, NULL, "su", id, 6), &e, "ValidationException",
              "PendingWindowInDays must be between 7 and 30");
        ok(bus_call("CancelKeyDeletion", &e, NULL, "s", id), &e, "cancel");
        cr_assert(bus_key_state(id, state) >= 0);
        cr_assert_str_eq(state, "Disabled");
        ok(bus_call("EnableKey", &e, NULL, "s", id), &e, "enable");
        mac_abc(id, again);
        cr_assert(memcmp(mac, again, 32) == 0);

        ok(bus_call("ScheduleKeyDeletion", &e, NULL, "su", id, 7), &e, "schedule");
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                uint64_t date;
                uint32_t days;
                ok(bus_call("ScheduleKeyDeletion", &e, &reply, "su", other, 0), &e, "default window");
                cr_assert(sd_bus_message_read(reply, "tu", &date, &days) >= 0);
                cr_assert_eq(days, 30);
                ok(bus_call("CancelKeyDeletion", &e, NULL, "s", other), &e, "cancel other");
        }
        for (int i = 0; i < 100 && bus_key_state(id, state) >= 0; i++)
                usleep(100 * 1000);
        assert_no_trace(id);
        /* Its keyring entry is gone too: for a live possessor-only key another process gets
         * "Permission denied"; for an invalidated one, "Required key not available". */
        serial = invalidated_serial(id);
        cr_assert(serial > 0, "the key was live in the keyring before its deletion");
        snprintf(arg, sizeof arg, "%d", serial);
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                cr_assert(harness_runl(NULL, &res, "keyctl", "describe", arg, NULL) >= 0);
                cr_assert_neq(res.exit_code, 0);
                cr_assert(strstr(res.err, "Required key not available") || strstr(res.err, "Key has been revoked"),
                          "%s", res.err);
        }
        cr_assert(harness_daemon_running());
}

Test(deletion, date_passing_while_the_daemon_is_down) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *log = NULL;
        char id[37], other[37];
        const char *deleted, *serving;

        harness_require_environment();
        cr_assert(harness_daemon_startl("--test-only-seconds-per-day=1", NULL) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, other) >= 0);
        ok(bus_call("CreateAlias", &e, NULL, "ss", "alias/doomed", id), &e, "alias");
        ok(bus_call("CreateAlias", &e, NULL, "ss", "alias/survivor", other), &e, "alias");
        ok(bus_call("ScheduleKeyDeletion", &e, NULL, "su", id, 7), &e, "schedule");
        bus_close();

        cr_assert(harness_daemon_kill() >= 0);
        sleep(8);
        cr_assert(harness_daemon_restart() >= 0);

        assert_no_trace(id);
        cr_assert(bus_key_state(other, (char[32]) {}) >= 0);
        /* Destroyed at start, before the name was taken. */
        cr_assert(harness_daemon_log(&log) >= 0);
        deleted = strstr(log, "Deleted key");
        serving = deleted ? strstr(deleted, "Serving") : NULL;
        cr_assert(deleted && serving, "%s", log);
}
