/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key material versions against the real daemon (API.md section 3a): MACs made before a rotation
 * keep verifying (also across a restart) while new ones use the new material; the verify window
 * ends on time and leaves no byte of the material in the store's files; retirement is immediate;
 * automatic rotation on schedule and after the daemon was down; the limit of 25 previous
 * materials; every key state x rotation method; VerifyMacBatch; and a store written by the
 * release before (tests/fixtures/store-v1) opening with every MAC it gave. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-assert.h"
#include "bus-call.h"
#include "harness.h"
#include "kms.h"
#include "macro.h"

#define MSG "a message to MAC"
#define ID_LEN 64

static void teardown(void) {
        bus_close();
        harness_teardown();
}

typedef struct Mac {
        uint8_t b[64];
        size_t n;
} Mac;

/* GenerateMac (mac NULL), VerifyMac, or VerifyMacBatch of n (message, MAC) pairs, built by hand:
 * bus_call()'s append-style varargs take byte arrays byte by byte. */
static int call_macs(const char *method, sd_bus_error *e, sd_bus_message **ret_reply, const char *key,
                     const struct iovec *msgs, size_t n, const char *alg, const Mac *macs) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        bool batch = streq(method, "VerifyMacBatch");

        cr_assert(sd_bus_open_system(&bus) >= 0);
        cr_assert(sd_bus_message_new_method_call(bus, &call, HMACD_BUS_NAME, HMACD_OBJECT_PATH, HMACD_INTERFACE,
                                                 method) >= 0);
        cr_assert(sd_bus_message_append(call, "s", key) >= 0);
        if (batch)
                cr_assert(sd_bus_message_open_container(call, 'a', "ay") >= 0);
        for (size_t i = 0; i < n; i++)
                cr_assert(sd_bus_message_append_array(call, 'y', msgs[i].iov_base, msgs[i].iov_len) >= 0);
        if (batch)
                cr_assert(sd_bus_message_close_container(call) >= 0);
        cr_assert(sd_bus_message_append(call, "s", alg) >= 0);
        if (batch)
                cr_assert(sd_bus_message_open_container(call, 'a', "ay") >= 0);
        for (size_t i = 0; macs && i < n; i++)
                cr_assert(sd_bus_message_append_array(call, 'y', macs[i].b, macs[i].n) >= 0);
        if (batch)
                cr_assert(sd_bus_message_close_container(call) >= 0);
        return sd_bus_call(bus, call, 60 * 1000000, e, ret_reply);
}

static int call_mac(const char *method, sd_bus_error *e, sd_bus_message **ret_reply, const char *key,
                    const void *msg, size_t n, const char *alg, const Mac *mac) {
        struct iovec v = { (void *) msg, n };
        return call_macs(method, e, ret_reply, key, &v, 1, alg, mac);
}

static Mac gen(const char *key, const char *alg, const char *message) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const void *p;
        Mac m = {};

        ok(call_mac("GenerateMac", &e, &reply, key, message, strlen(message), alg, NULL), &e, "GenerateMac");
        cr_assert(sd_bus_message_read_array(reply, 'y', &p, &m.n) >= 0);
        cr_assert(m.n > 0 && m.n <= sizeof m.b);
        memcpy(m.b, p, m.n);
        return m;
}

static Mac gen256(const char *key) {
        return gen(key, "HMAC_SHA_256", MSG);
}

/* VerifyMac: NULL if valid, else the exception's short name. */
static const char *verify(const char *key, const char *alg, const char *message, const Mac *m) {
        static char exception[128];
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *arn;
        int valid = 0;

        if (call_mac("VerifyMac", &e, &reply, key, message, strlen(message), alg, m) < 0) {
                snprintf(exception, sizeof exception, "%s", bus_error_exception(&e));
                sd_bus_error_free(&e);
                return exception;
        }
        cr_assert(sd_bus_message_read(reply, "bs", &valid, &arn) >= 0);
        cr_assert(valid, "VerifyMac returned false");
        cr_assert(strstr(arn, ":key/"), "key_arn '%s'", arn);
        return NULL;
}

static const char *verify256(const char *key, const Mac *m) {
        return verify(key, "HMAC_SHA_256", MSG, m);
}

/* A field of DescribeKey's metadata: type "s" into str (ID_LEN + 1 bytes), "u" into *u. */
static void describe(const char *key, const char *field, char type, char *str, uint32_t *u) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        bool found = false;
        int r;

        ok(bus_call("DescribeKey", &e, &reply, "s", key), &e, "DescribeKey");
        cr_assert(sd_bus_message_enter_container(reply, 'a', "{sv}") >= 0);
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name, *s;

                cr_assert(sd_bus_message_read(reply, "s", &name) >= 0);
                if (streq(name, field)) {
                        found = true;
                        if (type == 's') {
                                cr_assert(sd_bus_message_read(reply, "v", "s", &s) >= 0, "%s is not s", field);
                                cr_assert(strlen(s) <= ID_LEN);
                                strcpy(str, s);
                        } else
                                cr_assert(sd_bus_message_read(reply, "v", "u", u) >= 0, "%s is not u", field);
                } else
                        cr_assert(sd_bus_message_skip(reply, "v") >= 0);
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
        }
        cr_assert(found, "DescribeKey has no %s", field);
}

static void current_material(const char *key, char id[static ID_LEN + 1]) {
        describe(key, "CurrentKeyMaterialId", 's', id, NULL);
}

static bool is_material_id(const char *id) {
        return strlen(id) == ID_LEN && strspn(id, "0123456789abcdef") == ID_LEN;
}

static void rotate(const char *key, char id[static ID_LEN + 1]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *s;

        ok(bus_call("RotateKeyOnDemand", &e, &reply, "s", key), &e, "RotateKeyOnDemand");
        cr_assert(sd_bus_message_read(reply, "s", &s) >= 0);
        cr_assert(is_material_id(s), "KeyMaterialId '%s'", s);
        strcpy(id, s);
}

typedef struct Rotation {
        char id[ID_LEN + 1];
        char state[16];
        char type[16];
        uint64_t date, until;
} Rotation;

/* One page of ListKeyRotations; returns the number of rows, *next the marker. */
static size_t list_page(const char *key, uint32_t limit, const char *marker, Rotation *rows, size_t max,
                        char *next, size_t next_size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *m;
        int truncated, r;
        size_t n = 0;

        ok(bus_call("ListKeyRotations", &e, &reply, "sus", key, limit, marker), &e, "ListKeyRotations");
        cr_assert(sd_bus_message_enter_container(reply, 'a', "a{sv}") >= 0);
        while ((r = sd_bus_message_enter_container(reply, 'a', "{sv}")) > 0) {
                Rotation *row = &rows[n];
                unsigned fields = 0;

                cr_assert(n < max);
                *row = (Rotation) {};
                while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                        const char *name, *s;

                        cr_assert(sd_bus_message_read(reply, "s", &name) >= 0);
                        fields++;
                        if (streq(name, "KeyMaterialId") || streq(name, "KeyMaterialState") ||
                            streq(name, "RotationType")) {
                                cr_assert(sd_bus_message_read(reply, "v", "s", &s) >= 0, "%s", name);
                                snprintf(streq(name, "KeyMaterialId") ? row->id
                                         : streq(name, "KeyMaterialState") ? row->state
                                                                           : row->type,
                                         streq(name, "KeyMaterialId") ? sizeof row->id : sizeof row->state, "%s", s);
                        } else if (streq(name, "RotationDate"))
                                cr_assert(sd_bus_message_read(reply, "v", "t", &row->date) >= 0);
                        else if (streq(name, "VerifyUntil"))
                                cr_assert(sd_bus_message_read(reply, "v", "t", &row->until) >= 0);
                        else
                                cr_assert_fail("unexpected field %s", name);
                        cr_assert(sd_bus_message_exit_container(reply) >= 0);
                }
                cr_assert_eq(fields, 5);
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
                n++;
        }
        cr_assert(sd_bus_message_exit_container(reply) >= 0);
        cr_assert(sd_bus_message_read(reply, "sb", &m, &truncated) >= 0);
        cr_assert_eq(!!truncated, *m != 0);
        snprintf(next, next_size, "%s", m);
        return n;
}

static size_t list_all(const char *key, Rotation *rows, size_t max) {
        char next[2100];
        size_t n = list_page(key, 0, "", rows, max, next, sizeof next);
        cr_assert_str_eq(next, "", "more than one page");
        return n;
}

static void rotation_status(const char *key, int *enabled, uint32_t *period, uint64_t *next, uint64_t *on_demand) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;

        ok(bus_call("GetKeyRotationStatus", &e, &reply, "s", key), &e, "GetKeyRotationStatus");
        cr_assert(sd_bus_message_read(reply, "butt", enabled, period, next, on_demand) >= 0);
}

static bool file_contains(const char *path, const void *needle, size_t n) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;

        if (harness_read_file(path, &data, &size) < 0)
                return false;
        return memmem(data, size, needle, n) != NULL;
}

/* The sealed bytes of a material, read from the store with the sqlite3 shell (root reads the
 * daemon's files), so that a test can look for them afterwards. */
static size_t sealed_bytes(const char *material_id, uint8_t *buf, size_t size) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *db = NULL, *sql = NULL;
        size_t n = 0;

        cr_assert(asprintf(&db, "%s/hmacd.db", harness_state_dir()) > 0);
        cr_assert(asprintf(&sql, "SELECT hex(sealed) FROM materials WHERE material_id = '%s';", material_id) > 0);
        cr_assert(harness_runl(NULL, &res, "sqlite3", "-readonly", db, sql, NULL) >= 0);
        cr_assert_eq(res.exit_code, 0, "sqlite3: %s", res.err);
        for (const char *p = res.out; p[0] && p[1] && p[0] != '\n' && n < size; p += 2) {
                unsigned v;
                cr_assert_eq(sscanf(p, "%2x", &v), 1);
                buf[n++] = (uint8_t) v;
        }
        return n;
}

/* Neither the material's ID nor its sealed bytes are anywhere in the state directory's store files. */
static void assert_material_gone(const char *material_id, const uint8_t *sealed, size_t sealed_size) {
        const char *files[] = { "hmacd.db", "hmacd.db-wal" };
        char path[4096];

        cr_assert_gt(sealed_size, 32);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof path, "%s/%s", harness_state_dir(), files[i]);
                cr_assert(!file_contains(path, material_id, ID_LEN), "%s still holds material %s", files[i],
                          material_id);
                cr_assert(!file_contains(path, sealed, sealed_size), "%s still holds the sealed bytes of %s",
                          files[i], material_id);
        }
}

static void create_with_window(const char *spec, uint32_t window, char *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *id = NULL;
        int r;

        ok(bus_call("CreateKey", &e, &reply, "sssa{ss}a{sv}", spec, "GENERATE_VERIFY_MAC", "", 0, 1,
                    "MacVerifyWindowInDays", "u", window),
           &e, "CreateKey");
        cr_assert(sd_bus_message_enter_container(reply, 'a', "{sv}") >= 0);
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name;
                uint32_t u;

                cr_assert(sd_bus_message_read(reply, "s", &name) >= 0);
                if (streq(name, "KeyId"))
                        cr_assert(sd_bus_message_read(reply, "v", "s", &id) >= 0);
                else if (streq(name, "MacVerifyWindowInDays")) {
                        cr_assert(sd_bus_message_read(reply, "v", "u", &u) >= 0);
                        cr_assert_eq(u, window, "CreateKey's metadata has the window");
                } else
                        cr_assert(sd_bus_message_skip(reply, "v") >= 0);
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
        }
        cr_assert_not_null(id);
        strcpy(ret, id);
}

/* ---- rotation on demand, restart, retirement ---- */

TestSuite(rotation, .init = harness_setup_daemon, .fini = teardown, .timeout = 240);

Test(rotation, macs_survive_rotation_and_restart) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37], first[ID_LEN + 1], second[ID_LEN + 1], cur[ID_LEN + 1];
        Mac before, after, garbage;
        Rotation rows[4];
        int enabled;
        uint32_t period;
        uint64_t next, on_demand;

        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        current_material(id, first);
        cr_assert(is_material_id(first), "'%s'", first);
        cr_assert_eq(list_all(id, rows, 4), 1);
        cr_assert_str_eq(rows[0].id, first);
        cr_assert_str_eq(rows[0].state, "CURRENT");
        cr_assert_str_eq(rows[0].type, "");
        cr_assert_eq(rows[0].date, 0, "the initial material is not a rotation");
        before = gen256(id);

        rotate(id, second);
        cr_assert_str_neq(second, first);
        current_material(id, cur);
        cr_assert_str_eq(cur, second);
        after = gen256(id);
        cr_assert(after.n == before.n && memcmp(after.b, before.b, after.n) != 0, "the MAC did not change");
        cr_assert_null(verify256(id, &before));
        cr_assert_null(verify256(id, &after));
        garbage = after;
        garbage.b[3] ^= 1;
        cr_assert_str_eq(verify256(id, &garbage), "KMSInvalidMacException");

        cr_assert_eq(list_all(id, rows, 4), 2);
        cr_assert_str_eq(rows[0].id, first);
        cr_assert_str_eq(rows[0].state, "NON_CURRENT");
        cr_assert_eq(rows[0].until, 0, "window 0: no end");
        cr_assert_str_eq(rows[1].id, second);
        cr_assert_str_eq(rows[1].state, "CURRENT");
        cr_assert_str_eq(rows[1].type, "ON_DEMAND");
        cr_assert_gt(rows[1].date, 0);
        rotation_status(id, &enabled, &period, &next, &on_demand);
        cr_assert(!enabled && period == 0 && next == 0);
        /* As AWS: the start of an on-demand rotation only while one is in progress, and here none is
         * once its call has returned. */
        cr_assert_eq(on_demand, 0, "an on-demand rotation looks as if it were still in progress");

        /* Paging: one row at a time, a bad marker refused. */
        {
                char marker[2100];
                Rotation one[1];
                cr_assert_eq(list_page(id, 1, "", one, 1, marker, sizeof marker), 1);
                cr_assert_str_eq(one[0].id, first);
                cr_assert_str_neq(marker, "");
                cr_assert_eq(list_page(id, 1, marker, one, 1, marker, sizeof marker), 1);
                cr_assert_str_eq(one[0].id, second);
                cr_assert_str_eq(marker, "");
                fails(bus_call("ListKeyRotations", &e, NULL, "sus", id, 0, "not-a-marker"), &e,
                      "InvalidMarkerException", NULL);
                fails(bus_call("ListKeyRotations", &e, NULL, "sus", id, 1001, ""), &e, "ValidationException", NULL);
        }

        bus_close();
        cr_assert(harness_daemon_restart() >= 0);
        cr_assert_null(verify256(id, &before));
        cr_assert_null(verify256(id, &after));
        {
                Mac again = gen256(id);
                cr_assert(again.n == after.n && memcmp(again.b, after.b, again.n) == 0);
        }
        current_material(id, cur);
        cr_assert_str_eq(cur, second);
        cr_assert_eq(list_all(id, rows, 4), 2);
}

Test(rotation, retire_takes_effect_at_once_and_leaves_no_trace) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37], first[ID_LEN + 1], second[ID_LEN + 1];
        uint8_t sealed[256];
        size_t sealed_size;
        Rotation rows[4];
        Mac before;

        cr_assert(bus_create_key("HMAC_512", NULL, id) >= 0);
        current_material(id, first);
        before = gen(id, "HMAC_SHA_512", MSG);
        sealed_size = sealed_bytes(first, sealed, sizeof sealed);
        cr_assert_gt(sealed_size, 64);
        rotate(id, second);
        cr_assert_null(verify(id, "HMAC_SHA_512", MSG, &before));

        fails(bus_call("RetireKeyMaterial", &e, NULL, "ss", id, second), &e, "ValidationException",
              "is the current key material");
        fails(bus_call("RetireKeyMaterial", &e, NULL, "ss", id, "0123"), &e, "NotFoundException", "0123");
        fails(bus_call("RetireKeyMaterial", &e, NULL, "ss", id, ""), &e, "ValidationException", NULL);
        ok(bus_call("RetireKeyMaterial", &e, NULL, "ss", id, first), &e, "retire");
        cr_assert_str_eq(verify(id, "HMAC_SHA_512", MSG, &before), "KMSInvalidMacException");
        fails(bus_call("RetireKeyMaterial", &e, NULL, "ss", id, first), &e, "NotFoundException", NULL);
        cr_assert_eq(list_all(id, rows, 4), 1);
        cr_assert_str_eq(rows[0].id, second);
        assert_material_gone(first, sealed, sealed_size);

        bus_close();
        cr_assert(harness_daemon_restart() >= 0);
        cr_assert_str_eq(verify(id, "HMAC_SHA_512", MSG, &before), "KMSInvalidMacException");
        assert_material_gone(first, sealed, sealed_size);
}

Test(rotation, limit_of_25_previous_materials) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37], mid[ID_LEN + 1];
        Rotation rows[30];
        Mac first;

        cr_assert(bus_create_key("HMAC_224", NULL, id) >= 0);
        first = gen(id, "HMAC_SHA_224", MSG);
        for (int i = 0; i < 25; i++)
                rotate(id, mid);
        fails(bus_call("RotateKeyOnDemand", &e, NULL, "s", id), &e, "LimitExceededException", "25");
        /* The oldest of 25 previous materials still verifies. */
        cr_assert_null(verify(id, "HMAC_SHA_224", MSG, &first));
        cr_assert_eq(list_all(id, rows, 30), 26);
        ok(bus_call("RetireKeyMaterial", &e, NULL, "ss", id, rows[5].id), &e, "retire one");
        rotate(id, mid);
        fails(bus_call("RotateKeyOnDemand", &e, NULL, "s", id), &e, "LimitExceededException", NULL);
        cr_assert_eq(list_all(id, rows, 30), 26);
        cr_assert_str_eq(rows[25].id, mid);
        cr_assert_null(verify(id, "HMAC_SHA_224", MSG, &first));
}

Test(rotation, arguments) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37];
        int enabled;
        uint32_t period, window;
        uint64_t next, on_demand, t0;

        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        fails(bus_call("EnableKeyRotation", &e, NULL, "su", id, 89), &e, "ValidationException",
              "greater than or equal to 90");
        fails(bus_call("EnableKeyRotation", &e, NULL, "su", id, 2561), &e, "ValidationException",
              "less than or equal to 2560");
        t0 = (uint64_t) time(NULL) * 1000000;
        ok(bus_call("EnableKeyRotation", &e, NULL, "su", id, 0), &e, "default period");
        rotation_status(id, &enabled, &period, &next, &on_demand);
        cr_assert(enabled);
        cr_assert_eq(period, 365);
        cr_assert(next >= t0 + 364ULL * 86400 * 1000000 && next <= t0 + 366ULL * 86400 * 1000000, "next %lu",
                  (unsigned long) next);
        cr_assert_eq(on_demand, 0);
        ok(bus_call("DisableKeyRotation", &e, NULL, "s", id), &e, "disable");
        ok(bus_call("DisableKeyRotation", &e, NULL, "s", id), &e, "disable again");
        rotation_status(id, &enabled, &period, &next, &on_demand);
        cr_assert(!enabled && period == 0 && next == 0);

        fails(bus_call("UpdateMacVerifyWindow", &e, NULL, "su", id, 3651), &e, "ValidationException", "3650");
        ok(bus_call("UpdateMacVerifyWindow", &e, NULL, "su", id, 3650), &e, "window");
        describe(id, "MacVerifyWindowInDays", 'u', NULL, &window);
        cr_assert_eq(window, 3650);
        fails(bus_call("CreateKey", &e, NULL, "sssa{ss}a{sv}", "HMAC_256", "GENERATE_VERIFY_MAC", "", 0, 1,
                       "MacVerifyWindowInDays", "u", 3651),
              &e, "ValidationException", "3650");
        fails(bus_call("CreateKey", &e, NULL, "sssa{ss}a{sv}", "HMAC_256", "GENERATE_VERIFY_MAC", "", 0, 1,
                       "MacVerifyWindowInDays", "s", "1"),
              &e, "ValidationException", "MacVerifyWindowInDays");
        /* Management methods take key IDs and ARNs only. */
        ok(bus_call("CreateAlias", &e, NULL, "ss", "alias/rot", id), &e, "alias");
        fails(bus_call("RotateKeyOnDemand", &e, NULL, "s", "alias/rot"), &e, "NotFoundException", "Invalid keyId");
}

/* ---- VerifyMacBatch ---- */

Test(rotation, verify_mac_batch) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37], mid[ID_LEN + 1];
        const char *msgs[4] = { "one", "two", "three", "four" }, *arn;
        struct iovec v[4];
        Mac macs[4], empty = {};
        int valid;

        cr_assert(bus_create_key("HMAC_384", NULL, id) >= 0);
        ok(bus_call("CreateAlias", &e, NULL, "ss", "alias/batch", id), &e, "alias");
        for (int i = 0; i < 4; i++)
                macs[i] = gen(id, "HMAC_SHA_384", msgs[i]);
        rotate(id, mid);
        macs[1].b[0] ^= 0x80;                           /* wrong */
        macs[2] = gen(id, "HMAC_SHA_384", msgs[2]);     /* the new material */
        macs[3].n = 20;                                 /* wrong length: invalid, not an error */

        for (int i = 0; i < 4; i++)
                v[i] = (struct iovec) { (void *) msgs[i], strlen(msgs[i]) };
        ok(call_macs("VerifyMacBatch", &e, &reply, "alias/batch", v, 4, "HMAC_SHA_384", macs), &e, "VerifyMacBatch");
        cr_assert(sd_bus_message_enter_container(reply, 'a', "b") >= 0);
        for (int i = 0; i < 4; i++) {
                cr_assert(sd_bus_message_read(reply, "b", &valid) > 0);
                cr_assert_eq(!!valid, i == 0 || i == 2, "pair %d: %d", i, valid);
        }
        cr_assert_eq(sd_bus_message_read(reply, "b", &valid), 0);
        cr_assert(sd_bus_message_exit_container(reply) >= 0);
        cr_assert(sd_bus_message_read(reply, "s", &arn) >= 0);
        cr_assert(strstr(arn, id) && strstr(arn, ":key/"), "%s", arn);

        {
                /* 2 messages, 1 MAC: the count comes from a batch of 1 with 2 messages. */
                _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                cr_assert(sd_bus_open_system(&bus) >= 0);
                cr_assert(sd_bus_message_new_method_call(bus, &m, HMACD_BUS_NAME, HMACD_OBJECT_PATH, HMACD_INTERFACE,
                                                         "VerifyMacBatch") >= 0);
                cr_assert(sd_bus_message_append(m, "saaysaay", id, 2, 3, 'o', 'n', 'e', 3, 't', 'w', 'o', "HMAC_SHA_384",
                                                1, 1, 'x') >= 0);
                fails(sd_bus_call(bus, m, 0, &e, NULL), &e, "ValidationException", "2 messages and 1 MACs");
        }
        fails(call_macs("VerifyMacBatch", &e, NULL, id, v, 0, "HMAC_SHA_384", macs), &e, "ValidationException", NULL);
        fails(call_macs("VerifyMacBatch", &e, NULL, id, v, 1, "HMAC_SHA_384", &empty), &e, "ValidationException", NULL);
        {
                struct iovec none = { (void *) "", 0 };
                fails(call_macs("VerifyMacBatch", &e, NULL, id, &none, 1, "HMAC_SHA_384", macs), &e,
                      "ValidationException", NULL);
        }
        fails(call_macs("VerifyMacBatch", &e, NULL, id, v, 1, "HMAC_SHA_256", macs), &e, "InvalidKeyUsageException",
              "incompatible with key spec HMAC_384");

        /* 4096 pairs pass, 4097 do not (a connection of its own to build the call). */
        {
                _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
                cr_assert(sd_bus_open_system(&bus) >= 0);
                for (unsigned n = 4096; n <= 4097; n++) {
                        call = sd_bus_message_unref(call);
                        reply = sd_bus_message_unref(reply);
                        cr_assert(sd_bus_message_new_method_call(bus, &call, HMACD_BUS_NAME, HMACD_OBJECT_PATH,
                                                                 HMACD_INTERFACE, "VerifyMacBatch") >= 0);
                        cr_assert(sd_bus_message_append(call, "s", id) >= 0);
                        cr_assert(sd_bus_message_open_container(call, 'a', "ay") >= 0);
                        for (unsigned i = 0; i < n; i++)
                                cr_assert(sd_bus_message_append_array(call, 'y', "three", 5) >= 0);
                        cr_assert(sd_bus_message_close_container(call) >= 0);
                        cr_assert(sd_bus_message_append(call, "s", "HMAC_SHA_384") >= 0);
                        cr_assert(sd_bus_message_open_container(call, 'a', "ay") >= 0);
                        for (unsigned i = 0; i < n; i++)
                                cr_assert(sd_bus_message_append_array(call, 'y', macs[2].b, macs[2].n) >= 0);
                        cr_assert(sd_bus_message_close_container(call) >= 0);
                        if (n == 4096) {
                                unsigned n_true = 0;
                                ok(sd_bus_call(bus, call, 60 * 1000000, &e, &reply), &e, "4096 pairs");
                                cr_assert(sd_bus_message_enter_container(reply, 'a', "b") >= 0);
                                while (sd_bus_message_read(reply, "b", &valid) > 0)
                                        n_true += !!valid;
                                cr_assert_eq(n_true, 4096);
                        } else
                                fails(sd_bus_call(bus, call, 60 * 1000000, &e, &reply), &e, "ValidationException",
                                      "less than or equal to 4096");
                }
        }
}

/* ---- every key state x rotation method ---- */

Test(rotation, key_states) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char enabled[37], disabled[37], pending_deletion[37], pending_import[37], mid[ID_LEN + 1], old[ID_LEN + 1];
        const char *keys[4];
        int on;
        uint32_t period;
        uint64_t next, on_demand;
        Rotation rows[4];

        cr_assert(bus_create_key("HMAC_256", NULL, enabled) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, disabled) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, pending_deletion) >= 0);
        cr_assert(bus_create_key("HMAC_256", "EXTERNAL", pending_import) >= 0);
        /* Previous materials to retire in each state. */
        current_material(disabled, old);
        rotate(disabled, mid);
        ok(bus_call("DisableKey", &e, NULL, "s", disabled), &e, "disable");
        ok(bus_call("ScheduleKeyDeletion", &e, NULL, "su", pending_deletion, 7), &e, "schedule");
        keys[0] = enabled, keys[1] = disabled, keys[2] = pending_deletion, keys[3] = pending_import;

        /* RotateKeyOnDemand, Enable/DisableKeyRotation: AWS's Enable/DisableKeyRotation row. */
        rotate(enabled, mid);
        fails(bus_call("RotateKeyOnDemand", &e, NULL, "s", disabled), &e, "DisabledException", "is disabled.");
        fails(bus_call("RotateKeyOnDemand", &e, NULL, "s", pending_deletion), &e, "KMSInvalidStateException",
              "is pending deletion.");
        fails(bus_call("RotateKeyOnDemand", &e, NULL, "s", pending_import), &e, "UnsupportedOperationException",
              "origin is EXTERNAL which is not valid for this operation.");
        ok(bus_call("EnableKeyRotation", &e, NULL, "su", enabled, 90), &e, "enable rotation");
        fails(bus_call("EnableKeyRotation", &e, NULL, "su", disabled, 90), &e, "DisabledException", "is disabled.");
        fails(bus_call("EnableKeyRotation", &e, NULL, "su", pending_deletion, 90), &e, "KMSInvalidStateException",
              "is pending deletion.");
        fails(bus_call("EnableKeyRotation", &e, NULL, "su", pending_import, 90), &e, "UnsupportedOperationException",
              "origin is EXTERNAL");
        ok(bus_call("DisableKeyRotation", &e, NULL, "s", enabled), &e, "disable rotation");
        fails(bus_call("DisableKeyRotation", &e, NULL, "s", disabled), &e, "DisabledException", "is disabled.");
        fails(bus_call("DisableKeyRotation", &e, NULL, "s", pending_deletion), &e, "KMSInvalidStateException",
              "is pending deletion.");
        fails(bus_call("DisableKeyRotation", &e, NULL, "s", pending_import), &e, "UnsupportedOperationException",
              "origin is EXTERNAL");

        /* GetKeyRotationStatus and ListKeyRotations work in every state. */
        for (int i = 0; i < 4; i++) {
                rotation_status(keys[i], &on, &period, &next, &on_demand);
                cr_assert(!on);
                cr_assert_eq(list_all(keys[i], rows, 4), i == 3 ? 0 : i == 2 ? 1 : 2, "key %d", i);
        }

        /* UpdateMacVerifyWindow and RetireKeyMaterial: refused pending deletion only. */
        ok(bus_call("UpdateMacVerifyWindow", &e, NULL, "su", enabled, 5), &e, "window enabled");
        ok(bus_call("UpdateMacVerifyWindow", &e, NULL, "su", disabled, 5), &e, "window disabled");
        fails(bus_call("UpdateMacVerifyWindow", &e, NULL, "su", pending_deletion, 5), &e, "KMSInvalidStateException",
              "is pending deletion.");
        ok(bus_call("UpdateMacVerifyWindow", &e, NULL, "su", pending_import, 5), &e, "window pending import");
        ok(bus_call("RetireKeyMaterial", &e, NULL, "ss", disabled, old), &e, "retire in Disabled");
        fails(bus_call("RetireKeyMaterial", &e, NULL, "ss", pending_deletion, old), &e, "KMSInvalidStateException",
              "is pending deletion.");
        fails(bus_call("RetireKeyMaterial", &e, NULL, "ss", pending_import, old), &e, "NotFoundException",
              "does not exist");
        cr_assert_eq(list_all(enabled, rows, 4), 2);
        ok(bus_call("RetireKeyMaterial", &e, NULL, "ss", enabled, rows[0].id), &e, "retire in Enabled");

        /* VerifyMacBatch follows VerifyMac's row. */
        {
                Mac m = { .n = 32 };
                struct iovec x = { (void *) "x", 1 };
                fails(call_macs("VerifyMacBatch", &e, NULL, disabled, &x, 1, "HMAC_SHA_256", &m), &e, "DisabledException",
                      "is disabled.");
                fails(call_macs("VerifyMacBatch", &e, NULL, pending_deletion, &x, 1, "HMAC_SHA_256", &m), &e,
                      "KMSInvalidStateException", "is pending deletion.");
                fails(call_macs("VerifyMacBatch", &e, NULL, pending_import, &x, 1, "HMAC_SHA_256", &m), &e,
                      "KMSInvalidStateException", "is pending import.");
        }
        /* A key pending import has no material yet. */
        {
                char none[ID_LEN + 1] = "x";
                current_material(pending_import, none);
                cr_assert_str_eq(none, "");
        }
}

/* ---- the verify window and automatic rotation, with days of one second ---- */

TestSuite(window, .fini = teardown, .timeout = 300);

Test(window, ends_and_leaves_no_trace) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37], other[37], first[ID_LEN + 1], mid[ID_LEN + 1], other_first[ID_LEN + 1];
        uint8_t sealed[256], other_sealed[256];
        size_t sealed_size, other_sealed_size;
        Rotation rows[4];
        Mac before, other_before;

        harness_require_environment();
        cr_assert(harness_daemon_startl("--test-only-seconds-per-day=1", NULL) >= 0);
        create_with_window("HMAC_256", 2, id);
        cr_assert(bus_create_key("HMAC_256", NULL, other) >= 0);
        current_material(id, first);
        current_material(other, other_first);
        before = gen256(id);
        other_before = gen256(other);
        sealed_size = sealed_bytes(first, sealed, sizeof sealed);
        other_sealed_size = sealed_bytes(other_first, other_sealed, sizeof other_sealed);

        rotate(id, mid);
        rotate(other, mid);
        cr_assert_null(verify256(id, &before), "within its window");
        cr_assert_eq(list_all(id, rows, 4), 2);
        cr_assert_gt(rows[0].until, rows[1].date, "VerifyUntil of the previous material");
        cr_assert_eq(rows[0].until, rows[1].date + 2000000, "two days of one second after it stopped");

        sleep(4);
        cr_assert_str_eq(verify256(id, &before), "KMSInvalidMacException");
        cr_assert_eq(list_all(id, rows, 4), 1);
        assert_material_gone(first, sealed, sealed_size);

        /* Window 0 keeps a material; a shorter window applies to materials already previous. */
        cr_assert_null(verify256(other, &other_before));
        ok(bus_call("UpdateMacVerifyWindow", &e, NULL, "su", other, 1), &e, "window 1");
        cr_assert_str_eq(verify256(other, &other_before), "KMSInvalidMacException");
        for (int i = 0; i < 50 && list_all(other, rows, 4) > 1; i++)
                usleep(100 * 1000);
        cr_assert_eq(list_all(other, rows, 4), 1);
        assert_material_gone(other_first, other_sealed, other_sealed_size);
        cr_assert(harness_daemon_running());
}

/* The end of a window passing while the daemon is down: destroyed at start. */
Test(window, ends_while_the_daemon_is_down) {
        _cleanup_free_ char *log = NULL;
        char id[37], first[ID_LEN + 1], mid[ID_LEN + 1];
        uint8_t sealed[256];
        size_t sealed_size;
        Rotation rows[4];
        Mac before;

        harness_require_environment();
        cr_assert(harness_daemon_startl("--test-only-seconds-per-day=1", NULL) >= 0);
        create_with_window("HMAC_384", 3, id);
        current_material(id, first);
        before = gen(id, "HMAC_SHA_384", MSG);
        sealed_size = sealed_bytes(first, sealed, sizeof sealed);
        rotate(id, mid);
        bus_close();
        cr_assert(harness_daemon_kill() >= 0);
        sleep(4);
        cr_assert(harness_daemon_restart() >= 0);
        cr_assert_str_eq(verify(id, "HMAC_SHA_384", MSG, &before), "KMSInvalidMacException");
        cr_assert_eq(list_all(id, rows, 4), 1);
        assert_material_gone(first, sealed, sealed_size);
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(strstr(log, "Destroyed key material") && strstr(log, first), "%s", log);
}

/* Rotation periods are at least 90 days: 90 seconds here. A daemon with such days, a key whose
 * rotation is enabled with the shortest period, its first material and a MAC made with it. */
static void start_rotating_key(char id[static 37], char first[static ID_LEN + 1], Mac *before) {
        sd_bus_error e = SD_BUS_ERROR_NULL;

        harness_require_environment();
        cr_assert(harness_daemon_startl("--test-only-seconds-per-day=1", NULL) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        current_material(id, first);
        *before = gen256(id);
        ok(bus_call("EnableKeyRotation", &e, NULL, "su", id, 90), &e, "enable rotation");
}

/* The key has rotated once, automatically, and the MAC made before still verifies. */
static void assert_rotated_automatically(const char *id, const char *first, const Mac *before, Rotation rows[2]) {
        char cur[ID_LEN + 1];

        current_material(id, cur);
        cr_assert_str_neq(cur, first, "not rotated");
        cr_assert_eq(list_all(id, rows, 2), 2);
        cr_assert_str_eq(rows[1].id, cur);
        cr_assert_str_eq(rows[1].type, "AUTOMATIC");
        cr_assert_null(verify256(id, before));
}

Test(window, automatic_rotation_on_schedule) {
        char id[37], first[ID_LEN + 1], cur[ID_LEN + 1];
        int enabled;
        uint32_t period;
        uint64_t next, next2, on_demand;
        Rotation rows[2];
        Mac before;

        start_rotating_key(id, first, &before);
        rotation_status(id, &enabled, &period, &next, &on_demand);
        cr_assert(enabled && period == 90);
        for (int i = 0; i < 1100; i++) {
                current_material(id, cur);
                if (!streq(cur, first))
                        break;
                usleep(100 * 1000);
        }
        cr_assert_str_neq(cur, first, "no automatic rotation after 110 s");
        cr_assert_geq((uint64_t) time(NULL) * 1000000 + 1000000, next, "rotated before its date");
        assert_rotated_automatically(id, first, &before, rows);
        rotation_status(id, &enabled, &period, &next2, &on_demand);
        cr_assert(enabled);
        cr_assert_eq(next2, rows[1].date + 90ULL * 1000000, "next = this rotation + one period");
        cr_assert_eq(on_demand, 0);
}

Test(window, automatic_rotation_while_the_daemon_is_down) {
        _cleanup_free_ char *log = NULL;
        char id[37], first[ID_LEN + 1];
        Rotation rows[2];
        Mac before;

        start_rotating_key(id, first, &before);
        bus_close();
        cr_assert(harness_daemon_kill() >= 0);
        sleep(92);
        cr_assert(harness_daemon_restart() >= 0);
        assert_rotated_automatically(id, first, &before, rows);
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(strstr(log, "Rotated key") && strstr(log, "AUTOMATIC"), "%s", log);
}

/* ---- a store of the release before ---- */

TestSuite(fixture, .fini = teardown, .timeout = 120);

static void copy_into_state(const char *name) {
        _cleanup_free_ char *src = NULL, *dst = NULL, *data = NULL;
        size_t size = 0;
        uid_t uid;
        gid_t gid;
        FILE *f;

        cr_assert(asprintf(&src, "%s/tests/fixtures/store-v1/%s", harness_source_dir(), name) > 0);
        cr_assert(asprintf(&dst, "%s/%s", harness_state_dir(), name) > 0);
        cr_assert(harness_read_file(src, &data, &size) >= 0, "%s", src);
        f = fopen(dst, "we");
        cr_assert_not_null(f, "%s: %m", dst);
        cr_assert_eq(fwrite(data, 1, size, f), size);
        cr_assert_eq(fclose(f), 0);
        cr_assert(harness_lookup_user(HARNESS_DAEMON_USER, &uid, &gid) >= 0);
        cr_assert_eq(chown(dst, uid, gid), 0);
        cr_assert_eq(chmod(dst, 0600), 0);
}

static void decode64(const char *in, Mac *out) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        char *argv[] = { (char *) "base64", (char *) "-d", NULL };

        cr_assert(harness_run(NULL, in, strlen(in), argv, &res) >= 0);
        cr_assert_eq(res.exit_code, 0);
        cr_assert(res.out_size <= sizeof out->b);
        memcpy(out->b, res.out, res.out_size);
        out->n = res.out_size;
}

Test(fixture, store_of_the_release_before_keeps_its_macs) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *macs_path = NULL, *macs = NULL, *log = NULL, *states = NULL, *states_path = NULL;
        char disabled[37] = "", state[32], mid[ID_LEN + 1], external[37] = "";
        size_t size, n = 0;
        Rotation rows[4];

        harness_require_environment();
        copy_into_state("hmacd.db");
        copy_into_state("kek");
        cr_assert(asprintf(&macs_path, "%s/tests/fixtures/store-v1/macs", harness_source_dir()) > 0);
        cr_assert(asprintf(&states_path, "%s/tests/fixtures/store-v1/states", harness_source_dir()) > 0);
        cr_assert(harness_read_file(macs_path, &macs, &size) >= 0);
        cr_assert(harness_read_file(states_path, &states, &size) >= 0);
        cr_assert_eq(sscanf(states, "disabled %36s", disabled), 1);

        cr_assert(harness_daemon_start() >= 0);
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(strstr(log, "Upgraded the store"), "%s", log);

        for (int pass = 0; pass < 2; pass++) {
                n = 0;
                for (char *line = macs, *end; *line; line = end + 1, n++) {
                        char id[37], alg[16], msg64[128], mac64[128];
                        Mac want, got;

                        end = strchr(line, '\n');
                        cr_assert_not_null(end);
                        cr_assert_eq(sscanf(line, "%36s %15s %127s %127s", id, alg, msg64, mac64), 4, "%s", line);
                        decode64(mac64, &want);
                        {
                                /* Messages are random bytes: sent as they are. */
                                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                                Mac m;
                                const void *p;
                                int valid;
                                const char *arn;

                                decode64(msg64, &m);
                                if (streq(id, disabled)) {
                                        fails(call_mac("VerifyMac", &e, NULL, id, m.b, m.n, alg, &want), &e,
                                              "DisabledException", NULL);
                                        cr_assert(bus_key_state(id, state) >= 0);
                                        cr_assert_str_eq(state, "Disabled");
                                        ok(bus_call("EnableKey", &e, NULL, "s", id), &e, "enable");
                                }
                                ok(call_mac("VerifyMac", &e, &reply, id, m.b, m.n, alg, &want), &e, id);
                                cr_assert(sd_bus_message_read(reply, "bs", &valid, &arn) >= 0 && valid);
                                reply = sd_bus_message_unref(reply);
                                ok(call_mac("GenerateMac", &e, &reply, id, m.b, m.n, alg, NULL), &e, id);
                                cr_assert(sd_bus_message_read_array(reply, 'y', &p, &got.n) >= 0);
                                cr_assert(got.n == want.n && memcmp(p, want.b, got.n) == 0,
                                          "key %s gives another MAC than before the upgrade", id);
                        }
                        cr_assert_eq(list_all(id, rows, 4), 1);
                        cr_assert_str_eq(rows[0].state, "CURRENT");
                        cr_assert_str_eq(rows[0].type, "");
                        cr_assert_eq(rows[0].date, 0);
                        cr_assert(is_material_id(rows[0].id));
                        if (pass == 0 && streq(alg, "HMAC_SHA_256")) {
                                char o[ID_LEN + 1];
                                describe(id, "Origin", 's', o, NULL);
                                if (streq(o, "EXTERNAL"))
                                        strcpy(external, id);
                        }
                        if (streq(id, disabled) && pass == 0)
                                ok(bus_call("DisableKey", &e, NULL, "s", id), &e, "disable again");
                }
                cr_assert_eq(n, 9);
                /* The same after a restart (no second upgrade). */
                bus_close();
                cr_assert(harness_daemon_restart() >= 0);
        }

        /* Aliases, tags and descriptions came along; imported material cannot rotate; the others can. */
        cr_assert(bus_key_state("alias/fixture-256", state) >= 0);
        cr_assert(bus_key_state("alias/fixture-512", state) >= 0);
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *tag, *value, *next;
                char id[37], description[ID_LEN + 1];
                int truncated;

                cr_assert_eq(sscanf(macs, "%36s", id), 1);
                ok(bus_call("ListResourceTags", &e, &reply, "sus", id, 0, ""), &e, "ListResourceTags");
                cr_assert(sd_bus_message_read(reply, "a(ss)", 1, &tag, &value) > 0);
                cr_assert_str_eq(tag, "fixture");
                cr_assert_str_eq(value, "HMAC_224-1");
                cr_assert(sd_bus_message_read(reply, "sb", &next, &truncated) >= 0);
                describe(id, "Description", 's', description, NULL);
                cr_assert_str_eq(description, "fixture HMAC_224 #1");
        }
        cr_assert_str_neq(external, "");
        fails(bus_call("RotateKeyOnDemand", &e, NULL, "s", external), &e, "UnsupportedOperationException",
              "origin is EXTERNAL");
        {
                char id[37];
                cr_assert_eq(sscanf(macs, "%36s", id), 1);
                rotate(id, mid);
        }
}
