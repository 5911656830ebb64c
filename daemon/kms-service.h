/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key service: every operation on keys, aliases, tags and imported material, and the rules that
 * keep them true. It never touches sd-bus: each operation returns 0, a negative errno (an internal
 * failure) or a positive API condition with its detail in a KmsFailure (kms-error.h).
 *
 * One rule holds for every change: the store and the in-memory index agree. An operation first
 * prepares in memory everything that can fail (allocations, sealed material, room in the indexes),
 * then commits one store transaction, then applies the change to the index with nothing left that
 * can fail; the deletion timer and the keyring cache follow inside the service. A client therefore
 * sees an error only when nothing changed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <systemd/sd-event.h>

#include "import.h"
#include "key-material.h"
#include "key-state.h"
#include "keys.h"
#include "kms-error.h"
#include "store.h"

/* Where tests make an operation fail on purpose: before its commit (nothing may change) or after it
 * (the change must stand and be reported as done). */
typedef enum KmsFault {
        KMS_FAULT_NONE,
        KMS_FAULT_BEFORE_COMMIT,
        KMS_FAULT_AFTER_COMMIT,
        _KMS_FAULT_MAX,
} KmsFault;

/* How much one owner, and everyone together, may keep in the store and in memory. Keys owned by
 * root or by the daemon's own user count towards max_keys only. 0 means the default. */
typedef struct KmsQuotas {
        size_t max_keys;
        size_t max_keys_per_user;
        uint64_t max_bytes_per_user;    /* descriptions, tag keys and tag values, in bytes */
} KmsQuotas;

#define KMS_MAX_KEYS_DEFAULT 100000U
#define KMS_MAX_KEYS_PER_USER_DEFAULT 1000U
#define KMS_MAX_BYTES_PER_USER_DEFAULT (4ULL << 20)

typedef struct KmsService {
        Store *store;
        KeyIndex index;
        AliasIndex aliases;
        KeyMaterial *material;
        ImportTable *imports;
        sd_event *event;                /* for the deletion timer; NULL: no timer (unit tests) */
        sd_event_source *deletion_timer;
        sd_event_source *import_worker;  /* the import worker's "key made" eventfd */
        uint64_t usec_per_day;
        char machine_id[MACHINE_ID_MAX + 1];
        struct {
                uid_t uid;
                char name[64];
        } user_names[32];
        size_t n_user_names;
        KmsQuotas quotas;
        KmsFault fault;
} KmsService;

typedef struct KmsServiceConfig {
        const char *state_dir;
        const char *kek_file;
        size_t cache_max;               /* 0: from the kernel's key quota */
        KeyEngine engine;               /* KEY_ENGINE_AUTO (0): the kernel's where it can */
        uint64_t test_only_seconds_per_day;
        KmsQuotas quotas;
} KmsServiceConfig;

int kms_service_new(sd_event *event, KmsService **ret);
KmsService *kms_service_free(KmsService *s);

/* Opens (or, the first time, creates) the store, checks the KEK and loads the index; fatal problems
 * are logged with one clear line. */
int kms_service_load(KmsService *s, const KmsServiceConfig *config);
/* Destroys keys whose deletion date passed, deletes imported material whose ValidTo passed, expires
 * import parameters, and arms the timer for the next such date. */
int kms_service_purge(KmsService *s);

uint64_t now_usec(void);
/* The user name of a UID, remembered ("" for none). */
const char *kms_user_name(KmsService *s, uid_t uid);
const char *kms_key_arn(const KmsService *s, const KeyEntry *e, char *buf, size_t size);

/* Resolves a key reference (any_form: alias names and alias ARNs too). */
int kms_resolve_key(KmsService *s, const char *input, bool any_form, KmsFailure *f, KeyEntry **ret);
int kms_resolve_alias(KmsService *s, const char *name, KmsFailure *f, Alias **ret);
/* The key-state rule of op for e (key-state.c), with e's ARN in the failure. */
int kms_check_state(KmsService *s, KmsOperation op, const KeyEntry *e, KmsFailure *f);

/* Sets the quotas (0 fields: the defaults). */
void kms_service_set_quotas(KmsService *s, const KmsQuotas *q);
/* Whether owner may have one more key (added: 1) and add_bytes more bytes of descriptions and tags
 * (plus what removed_bytes frees): 0, or KMS_COND_KEYS_PER_USER, KMS_COND_KEYS_TOTAL,
 * KMS_COND_BYTES_PER_USER with f filled. */
int kms_check_quota(KmsService *s, uid_t owner, size_t added, uint64_t add_bytes, uint64_t removed_bytes,
                    KmsFailure *f);

int kms_create_key(KmsService *s, uid_t owner, KeySpec spec, KeyOrigin origin, uint32_t mac_verify_window,
                   const char *description, const KeyTag *tags, size_t n_tags, KmsFailure *f, KeyEntry **ret);

/* The MAC operations: state and algorithm checked, then computed with the key's material. */
int kms_generate_macs(KmsService *s, KmsOperation op, KeyEntry *e, KeySpec alg, const struct iovec *messages,
                      size_t n, MacCallback cb, void *userdata, KmsFailure *f);
int kms_verify_mac(KmsService *s, KeyEntry *e, KeySpec alg, const void *message, size_t n, const void *mac,
                   size_t mac_size, KmsFailure *f);

/* VerifyMacBatch: ret_valid[i] for each (messages[i], macs[i]); state and algorithm checked once. */
int kms_verify_macs(KmsService *s, KeyEntry *e, KeySpec alg, const struct iovec *messages,
                    const struct iovec *macs, size_t n, bool *ret_valid, KmsFailure *f);

/* Key material versions and rotation (API.md section 3a, kms-rotation.c). */
int kms_rotate_on_demand(KmsService *s, KeyEntry *e, KmsFailure *f, const char **ret_material_id);
/* days: checked already (kms_check_rotation_period()). */
int kms_enable_rotation(KmsService *s, KeyEntry *e, uint32_t days, KmsFailure *f);
int kms_disable_rotation(KmsService *s, KeyEntry *e, KmsFailure *f);
int kms_update_verify_window(KmsService *s, KeyEntry *e, uint32_t days, KmsFailure *f);
int kms_retire_material(KmsService *s, KeyEntry *e, const char *material_id, KmsFailure *f);

typedef struct KmsRotationStatus {
        bool enabled;
        uint32_t period;                /* days, 0 unless enabled */
        uint64_t next_rotation_date;    /* 0 unless enabled */
        uint64_t on_demand_rotation_date;
} KmsRotationStatus;
int kms_rotation_status(KmsService *s, const KeyEntry *e, KmsRotationStatus *ret, KmsFailure *f);

/* One row of ListKeyRotations; the strings are borrowed from the key. */
typedef struct KmsRotation {
        const char *id;
        bool current;
        uint64_t rotation_date;         /* 0 for the initial material */
        const char *type;               /* "AUTOMATIC", "ON_DEMAND", "" */
        uint64_t verify_until;          /* 0: no end */
} KmsRotation;
/* Up to limit materials, oldest first, from the position after (0: the first); *ret_next is the
 * position of the next page, 0 when there is none. */
int kms_list_rotations(KmsService *s, const KeyEntry *e, uint64_t after, uint32_t limit, KmsRotation *ret,
                       size_t *ret_n, uint64_t *ret_next, KmsFailure *f);

int kms_set_enabled(KmsService *s, KeyEntry *e, bool enabled, KmsFailure *f);
int kms_schedule_deletion(KmsService *s, KeyEntry *e, uint32_t days, KmsFailure *f);
int kms_cancel_deletion(KmsService *s, KeyEntry *e, KmsFailure *f);
int kms_update_description(KmsService *s, KeyEntry *e, const char *description, KmsFailure *f);

int kms_create_alias(KmsService *s, const char *name, KeyEntry *e, KmsFailure *f);
int kms_update_alias(KmsService *s, Alias *a, KeyEntry *e, KmsFailure *f);
int kms_delete_alias(KmsService *s, Alias *a);

/* Adds or replaces tags (at most 50 in all), or removes tag keys (unknown keys are ignored). */
int kms_tag(KmsService *s, KeyEntry *e, const KeyTag *tags, size_t n, KmsFailure *f);
int kms_untag(KmsService *s, KeyEntry *e, const char *const *keys, size_t n, KmsFailure *f);

/* Makes wrapping keys on a worker thread from now on (before the seccomp filter is loaded). */
int kms_start_import_worker(KmsService *s, const ImportWorkerOps *ops);
/* GetParametersForImport for request, asked by caller. -EINPROGRESS: the key is being made, and the
 * request comes back through ops->ready() (the bus adapter dispatches it again); the handler must
 * call kms_forget_import() when it ends without waiting. */
int kms_get_import_parameters(KmsService *s, KeyEntry *e, WrappingAlgorithm alg, WrappingKeySpec spec,
                              uid_t caller, void *request, uint8_t **ret_token, size_t *ret_token_size, uint8_t **ret_public_key,
                              size_t *ret_public_key_size, uint64_t *ret_valid_to, KmsFailure *f);
void kms_forget_import(KmsService *s, void *request);
int kms_import_material(KmsService *s, KeyEntry *e, const uint8_t *token, size_t token_size, const uint8_t *wrapped,
                        size_t wrapped_size, uint64_t valid_to, KmsFailure *f);
int kms_delete_imported_material(KmsService *s, KeyEntry *e, KmsFailure *f);

/* Destroys one key now: keyring entry, store row, material, tags and aliases. */
int kms_destroy_key(KmsService *s, KeyEntry *e);

/* What DescribeKey shows of a key (API.md section 4). */
typedef struct KmsKeyMetadata {
        char arn[ARN_MAX];
        char *description;              /* owned */
        const char *owner;
        bool enabled;
        uint64_t deletion_date;         /* 0 unless PendingDeletion */
        const char *expiration_model;   /* NULL unless imported material */
        uint64_t valid_to;              /* 0 unless imported material that expires */
        char current_material_id[KMS_KEY_MATERIAL_ID_LENGTH + 1]; /* "" without material */
        uint32_t mac_verify_window;
} KmsKeyMetadata;

int kms_describe_key(KmsService *s, const KeyEntry *e, KmsKeyMetadata *ret);
void kms_key_metadata_done(KmsKeyMetadata *m);
