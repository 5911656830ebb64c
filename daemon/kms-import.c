/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key service's imported material (Origin EXTERNAL): import parameters, ImportKeyMaterial,
 * DeleteImportedKeyMaterial, and the end of material whose ValidTo passed. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "kms-internal.h"
#include "log.h"
#include "macro.h"

/* Import operations take keys of Origin EXTERNAL only, and none pending deletion. */
static int check_external(KmsService *s, KmsOperation op, const KeyEntry *e, KmsFailure *f) {
        if (e->origin != KEY_ORIGIN_EXTERNAL) {
                f->name = key_origin_to_string(e->origin);
                return kms_fail_key(s, f, KMS_COND_ORIGIN_UNSUPPORTED, e);
        }
        return kms_check_state(s, op, e, f);
}

static int on_import_worker(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        KmsService *s = userdata;
        import_table_dispatch(s->imports);
        return 0;
}

int kms_start_import_worker(KmsService *s, const ImportWorkerOps *ops) {
        int fd, r;

        r = import_table_start_worker(s->imports, ops, &fd);
        if (r < 0)
                return log_error_errno(r, "Failed to start the import worker thread: %m");
        r = sd_event_add_io(s->event, &s->import_worker, fd, EPOLLIN, on_import_worker, s);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the import worker: %m");
        return 0;
}

void kms_forget_import(KmsService *s, void *request) {
        import_table_forget(s->imports, request);
}

int kms_get_import_parameters(KmsService *s, KeyEntry *e, WrappingAlgorithm alg, WrappingKeySpec spec,
                              uid_t caller, void *request, uint8_t **ret_token, size_t *ret_token_size,
                              uint8_t **ret_public_key, size_t *ret_public_key_size, uint64_t *ret_valid_to,
                              KmsFailure *f) {
        int r;

        r = check_external(s, KMS_OP_GET_PARAMETERS_FOR_IMPORT, e, f);
        if (r != 0)
                return r;
        r = import_table_request(s->imports, request, caller, e->key_id, e->owner_uid, alg, spec, now_usec(),
                                 ret_token, ret_token_size, ret_public_key, ret_public_key_size, ret_valid_to);
        if (r == -E2BIG) {
                f->max = IMPORT_PARAMS_PER_OWNER;
                return kms_fail(f, KMS_COND_IMPORT_PARAMETERS_LIMIT);
        }
        if (r == -EBUSY) {
                f->max = IMPORT_JOBS_PER_UID;
                return kms_fail(f, KMS_COND_IMPORT_BUSY);
        }
        if (r < 0)
                return r;
        (void) kms_arm_timer(s);
        return 0;
}

int kms_import_material(KmsService *s, KeyEntry *e, const uint8_t *token, size_t token_size, const uint8_t *wrapped,
                        size_t wrapped_size, uint64_t valid_to, KmsFailure *f) {
        uint8_t sealed[STORE_SEALED_MAX], fingerprint[STORE_FINGERPRINT_SIZE], known[STORE_FINGERPRINT_SIZE];
        size_t sealed_size = 0;
        KeyVersion *current, *v = NULL;
        bool has_known;
        KeyState state;
        int r;

        r = check_external(s, KMS_OP_IMPORT_KEY_MATERIAL, e, f);
        if (r != 0)
                return r;
        switch (import_table_check(s->imports, token, token_size, e->key_id, now_usec())) {
        case IMPORT_TOKEN_OK:
                break;
        case IMPORT_TOKEN_EXPIRED:
                return kms_fail(f, KMS_COND_IMPORT_TOKEN_EXPIRED);
        case IMPORT_TOKEN_OTHER_KEY:
                return kms_fail_key(s, f, KMS_COND_IMPORT_TOKEN_OTHER_KEY, e);
        default:
                return kms_fail(f, KMS_COND_IMPORT_TOKEN_INVALID);
        }

        r = store_get_fingerprint(s->store, e->key_id, known);
        if (r < 0 && r != -ENODATA)
                return r;
        has_known = r >= 0;
        r = key_material_import(s->material, s->imports, e, token, token_size, wrapped, wrapped_size,
                                has_known ? known : NULL, sealed, &sealed_size, fingerprint, f);
        if (r == KMS_COND_MATERIAL_INCORRECT)
                kms_key_arn(s, e, f->arn, sizeof f->arn);
        if (r != 0)
                return r;

        /* A re-import (of the same material) keeps its KeyMaterialId; a first import makes the key's
         * initial material. */
        current = key_entry_current(e);
        if (!current) {
                char id[KMS_KEY_MATERIAL_ID_LENGTH + 1];
                r = key_material_id_generate(id);
                if (r >= 0)
                        r = key_entry_reserve_version(e);
                if (r >= 0 && !(v = key_version_new(id, ROTATION_INITIAL, 0, 0)))
                        r = -ENOMEM;
        }
        state = e->state == KEY_STATE_PENDING_IMPORT ? KEY_STATE_ENABLED : e->state;
        if (r >= 0)
                r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_set_material(s->store, e->key_id, current ?: v, sealed, sealed_size, state, valid_to,
                                       fingerprint);
        secure_wipe(sealed, sizeof sealed);
        if (r < 0) {
                free(v);
                return r;
        }
        import_table_consume(s->imports, token, token_size);
        (void) key_material_forget(s->material, e);
        if (v) {
                key_entry_clear_versions(e);
                r = key_entry_add_version(e, v);
                assert(r >= 0); /* room was reserved */
        }
        e->has_material = true;
        e->valid_to = valid_to;
        key_entry_set_state(e, state, e->deletion_date);
        (void) kms_arm_timer(s);
        return 0;
}

int kms_remove_material(KmsService *s, KeyEntry *e) {
        KeyState state = e->state == KEY_STATE_PENDING_DELETION ? e->state : KEY_STATE_PENDING_IMPORT;
        int r;

        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_set_material(s->store, e->key_id, NULL, NULL, 0, state, 0, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to delete the material of key %s: %m", e->key_id);
        (void) key_material_forget(s->material, e);
        key_entry_clear_versions(e);
        e->has_material = false;
        e->valid_to = 0;
        key_entry_set_state(e, state, e->deletion_date);
        return 0;
}

int kms_delete_imported_material(KmsService *s, KeyEntry *e, KmsFailure *f) {
        int r;

        if (e->origin != KEY_ORIGIN_EXTERNAL) {
                f->name = key_origin_to_string(e->origin);
                return kms_fail_key(s, f, KMS_COND_ORIGIN_UNSUPPORTED, e);
        }
        r = kms_check_state(s, KMS_OP_DELETE_IMPORTED_KEY_MATERIAL, e, f);
        if (r != 0 || !e->has_material)
                return r;
        r = kms_remove_material(s, e);
        if (r < 0)
                return r;
        (void) kms_arm_timer(s);
        return 0;
}
