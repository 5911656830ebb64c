/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io.hmacd.Kms1 interface, key material versions (API.md section 3a): rotation, the verify
 * window, retirement, their status and list, and VerifyMacBatch. Thin handlers: read, validate,
 * resolve, authorize, call the key service (kms-rotation.c), reply. */
#include <string.h>

#include "bus-kms-internal.h"
#include "kms-check.h"
#include "macro.h"

/* VerifyMacBatch: one authorization for up to 4096 (message, MAC) pairs; validation errors for the
 * whole call, then a bool per pair. */
int method_verify_mac_batch(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        const char *key_id;
        char arn[ARN_MAX];
        size_t n = 0, n_macs = 0;
        KeySpec alg = _KEY_SPEC_INVALID;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_VERIFY_MAC_BATCH, ACTION_VERIFY_MAC);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = read_mac_batch(b, &c, &key_id, &n, &alg);
        if (r >= 0)
                r = read_batch(&c, "macs", 1, KMS_MAC_MAX, b->batch_macs, &n_macs);
        if (r != 0)
                return r;
        r = kms_check_batch_counts(&c.failure, n, n_macs);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_id, true, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;

        r = kms_verify_macs(b->service, e, alg, b->batch, b->batch_macs, n, b->batch_valid, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "b");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "b", b->batch_valid[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", kms_key_arn(b->service, e, arn, sizeof arn));
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

int method_rotate_key_on_demand(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        const char *id = NULL;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = open_key_call(b, &c, message, error, KMS_OP_ROTATE_KEY_ON_DEMAND, ACTION_ROTATE_KEY, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_rotate_on_demand(b->service, e, &c.failure, &id);
        if (r != 0)
                return call_fail(&c, r);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", id);
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

int method_enable_key_rotation(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *key_ref;
        uint32_t days;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_ENABLE_KEY_ROTATION, ACTION_ROTATE_KEY, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "u", &days);
        if (r < 0)
                return r;
        r = kms_check_rotation_period(&c.failure, &days);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_enable_rotation(b->service, e, days, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

int method_disable_key_rotation(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = open_key_call(b, &c, message, error, KMS_OP_DISABLE_KEY_ROTATION, ACTION_ROTATE_KEY, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_disable_rotation(b->service, e, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

int method_get_key_rotation_status(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        KmsRotationStatus st;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = open_key_call(b, &c, message, error, KMS_OP_GET_KEY_ROTATION_STATUS, ACTION_DESCRIBE_KEY, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_rotation_status(b->service, e, &st, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "butt", st.enabled, st.period, st.next_rotation_date,
                                          st.on_demand_rotation_date);
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

int method_list_key_rotations(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        KmsRotation rows[KMS_PREVIOUS_MATERIALS_MAX + 1];
        char next[MARKER_STRING_MAX] = "";
        const char *key_ref, *marker;
        uint64_t next_position = 0;
        int64_t after = 0;
        uint32_t limit;
        size_t n = 0;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_LIST_KEY_ROTATIONS, ACTION_DESCRIBE_KEY, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "us", &limit, &marker);
        if (r < 0)
                return r;
        r = kms_check_limit(&c.failure, &limit, KMS_LIST_ROTATIONS_LIMIT_DEFAULT, KMS_LIST_ROTATIONS_LIMIT_MAX);
        if (r == 0)
                r = kms_check_seq_marker(&c.failure, marker, &after);
        if (r == 0 && after < 0)
                r = kms_fail_value(&c.failure, KMS_COND_MARKER_INVALID, marker);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_list_rotations(b->service, e, (uint64_t) after, MIN(limit, (uint32_t) ELEMENTSOF(rows)), rows, &n,
                               &next_position, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        if (next_position > 0)
                marker_encode_seq((int64_t) next_position, next, sizeof next);

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "a{sv}", 5,
                                          "KeyMaterialId", "s", rows[i].id,
                                          "KeyMaterialState", "s", rows[i].current ? "CURRENT" : "NON_CURRENT",
                                          "RotationDate", "t", rows[i].rotation_date,
                                          "RotationType", "s", rows[i].type,
                                          "VerifyUntil", "t", rows[i].verify_until);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sb", next, *next != 0);
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

int method_update_mac_verify_window(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *key_ref;
        uint32_t days;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_UPDATE_MAC_VERIFY_WINDOW, ACTION_ROTATE_KEY, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "u", &days);
        if (r < 0)
                return r;
        r = kms_check_verify_window(&c.failure, days);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_update_verify_window(b->service, e, days, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

int method_retire_key_material(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *key_ref, *material_id;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_RETIRE_KEY_MATERIAL, ACTION_ROTATE_KEY, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "s", &material_id);
        if (r < 0)
                return r;
        r = kms_check_length(&c.failure, "keyMaterialId", strlen(material_id), 1, KMS_KEY_MATERIAL_ID_LENGTH);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_retire_material(b->service, e, material_id, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}
