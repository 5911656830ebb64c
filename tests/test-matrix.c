/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key-state matrix: every key method in every key state, against the real daemon, with the
 * exception (and message) AWS KMS gives, and the state the key is left in. One test per cell. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "bus-call.h"
#include "harness.h"
#include "macro.h"

typedef enum Method {
        M_GENERATE_MAC,
        M_VERIFY_MAC,
        M_DESCRIBE_KEY,
        M_ENABLE_KEY,
        M_DISABLE_KEY,
        M_SCHEDULE_KEY_DELETION,
        M_CANCEL_KEY_DELETION,
        M_UPDATE_KEY_DESCRIPTION,
        M_CREATE_ALIAS,
        M_UPDATE_ALIAS,
        M_DELETE_ALIAS,
        M_LIST_ALIASES,
        M_TAG_RESOURCE,
        M_UNTAG_RESOURCE,
        M_LIST_RESOURCE_TAGS,
        _M_MAX,
} Method;

typedef enum State { S_ENABLED, S_DISABLED, S_PENDING_DELETION, S_PENDING_IMPORT, _S_MAX } State;

static const char *const state_names[_S_MAX] = { "Enabled", "Disabled", "PendingDeletion", "PendingImport" };

#define OK NULL
#define DIS "DisabledException: is disabled."
#define PDEL "KMSInvalidStateException: is pending deletion."
#define PIMP "KMSInvalidStateException: is pending import."
#define NPDEL "KMSInvalidStateException: is not pending deletion."

static const struct {
        const char *name;
        const char *expect[_S_MAX];     /* NULL: success; else "Exception: message suffix" */
        const char *after_ok;           /* the state after success; NULL: unchanged */
} methods[_M_MAX] = {
        [M_GENERATE_MAC] = { "GenerateMac", { OK, DIS, PDEL, PIMP } },
        [M_VERIFY_MAC] = { "VerifyMac", { OK, DIS, PDEL, PIMP } },
        [M_DESCRIBE_KEY] = { "DescribeKey", { OK, OK, OK, OK } },
        [M_ENABLE_KEY] = { "EnableKey", { OK, OK, PDEL, PIMP }, "Enabled" },
        [M_DISABLE_KEY] = { "DisableKey", { OK, OK, PDEL, PIMP }, "Disabled" },
        [M_SCHEDULE_KEY_DELETION] = { "ScheduleKeyDeletion", { OK, OK, PDEL, OK }, "PendingDeletion" },
        [M_CANCEL_KEY_DELETION] = { "CancelKeyDeletion", { NPDEL, NPDEL, OK, NPDEL }, "Disabled" },
        [M_UPDATE_KEY_DESCRIPTION] = { "UpdateKeyDescription", { OK, OK, PDEL, OK } },
        [M_CREATE_ALIAS] = { "CreateAlias", { OK, OK, PDEL, OK } },
        [M_UPDATE_ALIAS] = { "UpdateAlias", { OK, OK, PDEL, OK } },
        [M_DELETE_ALIAS] = { "DeleteAlias", { OK, OK, OK, OK } },
        [M_LIST_ALIASES] = { "ListAliases", { OK, OK, OK, OK } },
        [M_TAG_RESOURCE] = { "TagResource", { OK, OK, PDEL, OK } },
        [M_UNTAG_RESOURCE] = { "UntagResource", { OK, OK, PDEL, OK } },
        [M_LIST_RESOURCE_TAGS] = { "ListResourceTags", { OK, OK, OK, OK } },
};

typedef struct Cell {
        Method method;
        State state;
} Cell;

ParameterizedTestParameters(matrix, cell) {
        static Cell cells[_M_MAX * _S_MAX];
        for (int m = 0; m < _M_MAX; m++)
                for (int s = 0; s < _S_MAX; s++)
                        cells[m * _S_MAX + s] = (Cell) { m, s };
        return cr_make_param_array(Cell, cells, ELEMENTSOF(cells));
}

static void check(int r, sd_bus_error *e, const char *what) {
        cr_assert(r >= 0, "%s: %s: %s", what, e->name, e->message);
        sd_bus_error_free(e);
}

static void teardown(void) {
        bus_close();
        harness_teardown();
}

/* GenerateMac over "abc" with HMAC_SHA_256; the tag goes to mac (32 bytes). */
static int generate(const char *id, sd_bus_error *e, uint8_t *mac) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const void *p;
        size_t n;
        int r;

        r = bus_call("GenerateMac", e, &reply, "says", id, 3, 'a', 'b', 'c', "HMAC_SHA_256");
        if (r < 0)
                return r;
        r = sd_bus_message_read_array(reply, 'y', &p, &n);
        if (r < 0)
                return r;
        cr_assert_eq(n, 32);
        memcpy(mac, p, 32);
        return 0;
}

ParameterizedTest(Cell *cell, matrix, cell, .init = harness_setup_daemon, .fini = teardown, .timeout = 60) {
        char id[37], other[37], state[32];
        uint8_t mac[32] = {};
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *expect = methods[cell->method].expect[cell->state];
        int r;

        cr_log_info("%s in %s", methods[cell->method].name, state_names[cell->state]);

        /* The key, with an alias and a tag to work on, in the state of the cell. */
        cr_assert(bus_create_key("HMAC_256", cell->state == S_PENDING_IMPORT ? "EXTERNAL" : NULL, id) >= 0);
        cr_assert(bus_create_key("HMAC_256", NULL, other) >= 0);
        check(bus_call("CreateAlias", &e, NULL, "ss", "alias/mine", id), &e, "CreateAlias mine");
        check(bus_call("CreateAlias", &e, NULL, "ss", "alias/moving", other), &e, "CreateAlias moving");
        check(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, "k", "v"), &e, "TagResource");
        if (cell->state != S_PENDING_IMPORT)
                check(generate(id, &e, mac), &e, "GenerateMac");
        if (cell->state == S_DISABLED)
                check(bus_call("DisableKey", &e, NULL, "s", id), &e, "DisableKey");
        if (cell->state == S_PENDING_DELETION)
                check(bus_call("ScheduleKeyDeletion", &e, NULL, "su", id, 7), &e, "ScheduleKeyDeletion");
        cr_assert(bus_key_state(id, state) >= 0);
        cr_assert_str_eq(state, state_names[cell->state]);

        switch (cell->method) {
        case M_GENERATE_MAC: {
                uint8_t again[32];
                r = generate(id, &e, again);
                if (r >= 0)
                        cr_assert(memcmp(again, mac, 32) == 0);
                break;
        }
        case M_VERIFY_MAC:
                r = bus_call("VerifyMac", &e, NULL, "saysay", id, 3, 'a', 'b', 'c', "HMAC_SHA_256", 32, mac[0], mac[1],
                             mac[2], mac[3], mac[4], mac[5], mac[6], mac[7], mac[8], mac[9], mac[10], mac[11], mac[12],
                             mac[13], mac[14], mac[15], mac[16], mac[17], mac[18], mac[19], mac[20], mac[21], mac[22],
                             mac[23], mac[24], mac[25], mac[26], mac[27], mac[28], mac[29], mac[30], mac[31]);
                break;
        case M_DESCRIBE_KEY:
        case M_ENABLE_KEY:
        case M_DISABLE_KEY:
        case M_CANCEL_KEY_DELETION:
                r = bus_call(methods[cell->method].name, &e, NULL, "s", id);
                break;
        case M_SCHEDULE_KEY_DELETION:
                r = bus_call("ScheduleKeyDeletion", &e, NULL, "su", id, 7);
                break;
        case M_UPDATE_KEY_DESCRIPTION:
                r = bus_call("UpdateKeyDescription", &e, NULL, "ss", id, "new description");
                break;
        case M_CREATE_ALIAS:
                r = bus_call("CreateAlias", &e, NULL, "ss", "alias/new", id);
                break;
        case M_UPDATE_ALIAS:
                r = bus_call("UpdateAlias", &e, NULL, "ss", "alias/moving", id);
                break;
        case M_DELETE_ALIAS:
                r = bus_call("DeleteAlias", &e, NULL, "s", "alias/mine");
                break;
        case M_LIST_ALIASES:
                r = bus_call("ListAliases", &e, NULL, "sus", id, 0, "");
                break;
        case M_TAG_RESOURCE:
                r = bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, "k2", "v2");
                break;
        case M_UNTAG_RESOURCE:
                r = bus_call("UntagResource", &e, NULL, "sas", id, 1, "k");
                break;
        case M_LIST_RESOURCE_TAGS:
                r = bus_call("ListResourceTags", &e, NULL, "sus", id, 0, "");
                break;
        default:
                cr_assert_fail("no such method");
        }

        if (!expect) {
                cr_assert(r >= 0, "%s in %s failed: %s: %s", methods[cell->method].name, state_names[cell->state],
                          e.name, e.message);
                cr_assert(bus_key_state(id, state) >= 0);
                cr_assert_str_eq(state, methods[cell->method].after_ok ?: state_names[cell->state]);
        } else {
                const char *colon = strchr(expect, ':');
                char want_name[64];

                snprintf(want_name, sizeof want_name, "%.*s", (int) (colon - expect), expect);
                cr_assert(r < 0, "%s in %s succeeded, expected %s", methods[cell->method].name,
                          state_names[cell->state], expect);
                cr_assert_str_eq(bus_error_exception(&e), want_name, "%s", e.message);
                /* The message names the key by ARN: "<arn> is disabled." */
                cr_assert(strstr(e.message, id) && strncmp(e.message, "arn:hmacd:kms:local:", 20) == 0, "%s",
                          e.message);
                cr_assert(strlen(e.message) > strlen(colon + 2) &&
                                  streq(e.message + strlen(e.message) - strlen(colon + 2), colon + 2),
                          "message '%s' does not end with '%s'", e.message, colon + 2);
                cr_assert(bus_key_state(id, state) >= 0);
                cr_assert_str_eq(state, state_names[cell->state], "a failed call changed the state");
        }
        sd_bus_error_free(&e);
}
