/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key service's material versions (API.md section 3a): rotation on demand and on schedule, the
 * verify window, retirement, and what GetKeyRotationStatus and ListKeyRotations show. Each change is
 * prepared in memory, committed as one store transaction, then applied with nothing left that can
 * fail: after a crash a key has its old current material or its new one, never both or none (the
 * store's partial unique index holds at most one current material per key). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kms-internal.h"
#include "log.h"
#include "macro.h"

static uint64_t days_usec(const KmsService *s, uint32_t days) {
        return (uint64_t) days * s->usec_per_day;
}

static size_t n_previous(const KeyEntry *e) {
        return e->has_material && e->n_versions > 0 ? e->n_versions - 1 : e->n_versions;
}

/* When previous material v stops verifying (0: never, or v is current). */
static uint64_t verify_until(const KmsService *s, const KeyEntry *e, const KeyVersion *v) {
        if (v->stopped_date == 0 || e->mac_verify_window == 0)
                return 0;
        return v->stopped_date + days_usec(s, e->mac_verify_window);
}

bool kms_version_verifies(const KmsService *s, const KeyEntry *e, const KeyVersion *v, uint64_t now) {
        uint64_t until = verify_until(s, e, v);
        return until == 0 || now < until;
}

/* Whether the timer has an automatic rotation of e to do, and when. */
static bool rotation_due_at(const KeyEntry *e, uint64_t *ret) {
        if (!e->rotation_enabled || key_state_check(KMS_OP_ROTATE_KEY_AUTOMATIC, e->state) != KMS_COND_OK ||
            !e->has_material ||
            e->origin != KEY_ORIGIN_HMACD || n_previous(e) >= KMS_PREVIOUS_MATERIALS_MAX)
                return false;
        *ret = e->next_rotation_date;
        return true;
}

uint64_t kms_rotation_next_event(const KmsService *s, const KeyEntry *e) {
        uint64_t next = UINT64_MAX, t;

        if (rotation_due_at(e, &t))
                next = t;
        for (size_t i = 0; i < e->n_versions; i++) {
                t = verify_until(s, e, e->versions[i]);
                if (t > 0 && t < next)
                        next = t;
        }
        return next;
}

int kms_new_version(KmsService *s, KeyEntry *e, RotationType type, uint64_t date, KeyVersion **ret,
                    uint8_t *sealed, size_t *ret_size) {
        char id[KMS_KEY_MATERIAL_ID_LENGTH + 1];
        KeyVersion *v;
        int r;

        r = key_material_id_generate(id);
        if (r < 0)
                return r;
        r = key_entry_reserve_version(e);
        if (r < 0)
                return r;
        v = key_version_new(id, type, date, 0);
        if (!v)
                return -ENOMEM;
        r = key_material_generate(s->material, e, sealed, ret_size);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        return 0;
}

static void audit(KmsOperation op, const KeyEntry *e) {
        log_audit(&(AuditRecord) {
                .operation = kms_operation_to_string(op),
                .key_id = e->key_id,
                .result = "ok",
                .uid = (unsigned long) geteuid(),
                .pid = getpid(),
        });
}

/* A new current material for e; the old one becomes previous. */
static int rotate(KmsService *s, KeyEntry *e, RotationType type, KmsFailure *f, const char **ret_id) {
        KeyVersion *old = key_entry_current(e), *v = NULL;
        uint8_t sealed[STORE_SEALED_MAX];
        size_t sealed_size = 0;
        uint64_t now, next, on_demand;
        int r;

        if (!old)
                return -ENODATA;
        if (n_previous(e) >= KMS_PREVIOUS_MATERIALS_MAX) {
                f->max = KMS_PREVIOUS_MATERIALS_MAX;
                return kms_fail_key(s, f, KMS_COND_PREVIOUS_MATERIALS, e);
        }
        /* Strictly after the last rotation, whatever the clock did: ListKeyRotations pages by it. */
        now = MAX(now_usec(), old->rotation_date + 1);
        next = type == ROTATION_AUTOMATIC ? now + days_usec(s, e->rotation_period) : e->next_rotation_date;
        on_demand = type == ROTATION_ON_DEMAND ? now : e->on_demand_rotation_date;

        r = kms_new_version(s, e, type, now, &v, sealed, &sealed_size);
        if (r < 0)
                return r;
        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_rotate(s->store, e->key_id, v, sealed, sealed_size, next, on_demand);
        secure_wipe(sealed, sizeof sealed);
        if (r < 0) {
                free(v);
                return log_error_errno(r, "Failed to rotate key %s: %m", e->key_id);
        }

        old->stopped_date = now;
        r = key_entry_add_version(e, v);
        assert(r >= 0); /* room was reserved */
        e->next_rotation_date = next;
        e->on_demand_rotation_date = on_demand;
        log_struct_id(LOG_NOTICE, HMACD_MESSAGE_KEY_ROTATED,
                      "Rotated key %s (%s): key material %s is current, %s is previous (%zu kept).", e->key_id,
                      rotation_type_to_string(type), v->id, old->id, n_previous(e));
        (void) kms_arm_timer(s);
        if (ret_id)
                *ret_id = v->id;
        return 0;
}

/* Destroys previous materials of e: store rows (secure delete and a checkpoint), keyring entries, index. */
static int destroy_versions(KmsService *s, KeyEntry *e, KeyVersion **v, size_t n, const char *why) {
        const char *ids[KMS_PREVIOUS_MATERIALS_MAX];
        int r;

        assert(n <= ELEMENTSOF(ids));
        for (size_t i = 0; i < n; i++)
                ids[i] = v[i]->id;
        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_delete_materials(s->store, e->key_id, ids, n);
        if (r < 0)
                return log_error_errno(r, "Failed to delete %zu key materials of key %s: %m", n, e->key_id);
        for (size_t i = 0; i < n; i++) {
                key_serial_t serial = key_material_forget_version(s->material, v[i]);
                log_struct_id(LOG_NOTICE, HMACD_MESSAGE_MATERIAL_DESTROYED,
                              "Destroyed key material %s of key %s (%s; keyring entry %" PRIi32 " invalidated).",
                              v[i]->id, e->key_id, why, serial);
                key_entry_remove_version(e, v[i]);
                free(v[i]);
        }
        (void) kms_arm_timer(s);
        return 0;
}

void kms_rotation_purge(KmsService *s, KeyEntry *e, uint64_t now) {
        KeyVersion *expired[KMS_PREVIOUS_MATERIALS_MAX];
        size_t n = 0;
        uint64_t due;

        for (size_t i = 0; i < e->n_versions && n < ELEMENTSOF(expired); i++)
                if (!kms_version_verifies(s, e, e->versions[i], now))
                        expired[n++] = e->versions[i];
        if (n > 0 && destroy_versions(s, e, expired, n, "its verify window ended") >= 0)
                audit(KMS_OP_EXPIRE_KEY_MATERIAL, e);

        if (e->rotation_enabled && key_state_check(KMS_OP_ROTATE_KEY_AUTOMATIC, e->state) == KMS_COND_OK &&
            e->has_material &&
            n_previous(e) >= KMS_PREVIOUS_MATERIALS_MAX && e->next_rotation_date <= now)
                log_warning("Key %s is due for automatic rotation but keeps %u previous key materials already; it "
                            "rotates once one is retired.", e->key_id, KMS_PREVIOUS_MATERIALS_MAX);
        if (rotation_due_at(e, &due) && due <= now) {
                KmsFailure f = {};
                if (rotate(s, e, ROTATION_AUTOMATIC, &f, NULL) == 0)
                        audit(KMS_OP_ROTATE_KEY_AUTOMATIC, e);
        }
}

/* The rotation methods take keys whose state allows op and whose material is hmacd's own. */
static int check_rotatable(KmsService *s, KmsOperation op, const KeyEntry *e, KmsFailure *f) {
        int r = kms_check_state(s, op, e, f);
        if (r != 0)
                return r;
        if (e->origin == KEY_ORIGIN_EXTERNAL)
                return kms_fail_key(s, f, KMS_COND_KEY_ORIGIN_EXTERNAL, e);
        return 0;
}

int kms_rotate_on_demand(KmsService *s, KeyEntry *e, KmsFailure *f, const char **ret_id) {
        int r = check_rotatable(s, KMS_OP_ROTATE_KEY_ON_DEMAND, e, f);
        if (r != 0)
                return r;
        return rotate(s, e, ROTATION_ON_DEMAND, f, ret_id);
}

static int set_rotation(KmsService *s, KeyEntry *e, bool enabled, uint32_t period, uint64_t next) {
        int r;

        if (e->rotation_enabled == enabled && e->rotation_period == period && e->next_rotation_date == next)
                return 0;
        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_set_rotation(s->store, e->key_id, enabled, period, next);
        if (r < 0)
                return r;
        e->rotation_enabled = enabled;
        e->rotation_period = period;
        e->next_rotation_date = next;
        (void) kms_arm_timer(s);
        return 0;
}

int kms_enable_rotation(KmsService *s, KeyEntry *e, uint32_t days, KmsFailure *f) {
        uint64_t next;
        int r;

        r = check_rotatable(s, KMS_OP_ENABLE_KEY_ROTATION, e, f);
        if (r != 0)
                return r;
        /* Newly enabled: one period from now. A new period for a key that rotates already counts from
         * its last automatic rotation (or from when rotation was enabled), as AWS does. */
        if (e->rotation_enabled)
                next = e->next_rotation_date - MIN(e->next_rotation_date, days_usec(s, e->rotation_period)) +
                       days_usec(s, days);
        else
                next = now_usec() + days_usec(s, days);
        return set_rotation(s, e, true, days, next);
}

int kms_disable_rotation(KmsService *s, KeyEntry *e, KmsFailure *f) {
        int r = check_rotatable(s, KMS_OP_DISABLE_KEY_ROTATION, e, f);
        if (r != 0)
                return r;
        return set_rotation(s, e, false, 0, 0);
}

int kms_rotation_status(KmsService *s, const KeyEntry *e, KmsRotationStatus *ret, KmsFailure *f) {
        int r = kms_check_state(s, KMS_OP_GET_KEY_ROTATION_STATUS, e, f);
        if (r != 0)
                return r;
        *ret = (KmsRotationStatus) {
                .enabled = e->rotation_enabled,
                .period = e->rotation_enabled ? e->rotation_period : 0,
                .next_rotation_date = e->rotation_enabled ? e->next_rotation_date : 0,
                .on_demand_rotation_date = e->on_demand_rotation_date,
        };
        return 0;
}

int kms_list_rotations(KmsService *s, const KeyEntry *e, uint64_t after, uint32_t limit, KmsRotation *ret,
                       size_t *ret_n, uint64_t *ret_next, KmsFailure *f) {
        size_t n = 0, i = 0;
        int r;

        r = kms_check_state(s, KMS_OP_LIST_KEY_ROTATIONS, e, f);
        if (r != 0)
                return r;
        while (i < e->n_versions && e->versions[i]->rotation_date < after)
                i++;
        for (; i < e->n_versions && n < limit; i++, n++) {
                const KeyVersion *v = e->versions[i];
                ret[n] = (KmsRotation) {
                        .id = v->id,
                        .current = v->stopped_date == 0,
                        .rotation_date = v->rotation_date,
                        .type = rotation_type_to_string(v->type),
                        .verify_until = verify_until(s, e, v),
                };
        }
        /* The next page starts at the first material rotated after the last one listed. */
        *ret_next = i < e->n_versions ? e->versions[i - 1]->rotation_date + 1 : 0;
        *ret_n = n;
        return 0;
}

int kms_update_verify_window(KmsService *s, KeyEntry *e, uint32_t days, KmsFailure *f) {
        int r = kms_check_state(s, KMS_OP_UPDATE_MAC_VERIFY_WINDOW, e, f);
        if (r != 0)
                return r;
        if (e->mac_verify_window == days)
                return 0;
        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_set_verify_window(s->store, e->key_id, days);
        if (r < 0)
                return r;
        e->mac_verify_window = days;
        /* Windows that end now are purged by the timer at once; VerifyMac stops accepting them now. */
        (void) kms_arm_timer(s);
        return 0;
}

int kms_retire_material(KmsService *s, KeyEntry *e, const char *material_id, KmsFailure *f) {
        KeyVersion *v;
        int r;

        r = kms_check_state(s, KMS_OP_RETIRE_KEY_MATERIAL, e, f);
        if (r != 0)
                return r;
        v = key_entry_find_version(e, material_id);
        if (!v) {
                f->value = material_id;
                return kms_fail_key(s, f, KMS_COND_KEY_MATERIAL_NOT_FOUND, e);
        }
        if (v == key_entry_current(e)) {
                f->value = material_id;
                return kms_fail_key(s, f, KMS_COND_RETIRE_CURRENT, e);
        }
        return destroy_versions(s, e, &v, 1, "retired");
}
