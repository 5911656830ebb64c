/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libhmacd: plain C calls to the hmacd key service on D-Bus.
 *
 * Every function returns 0 (or a documented positive value) on success and a negative errno on
 * failure. When the service (or the bus) answers with an error, the optional HmacdError is filled
 * with its name and message: for hmacd's own errors the name is the AWS exception name
 * ("NotFoundException"), for anything else the full D-Bus error name
 * ("org.freedesktop.DBus.Error.AccessDenied"). Release it with hmacd_error_clear(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HMACD_MAC_SIZE_MAX 64
#define HMACD_MESSAGE_MAX 4096
#define HMACD_BATCH_MAX 4096            /* messages per hmacd_generate_mac_batch() call */

typedef struct Hmacd Hmacd;

typedef enum HmacdBusType {
        HMACD_BUS_SYSTEM,       /* honours DBUS_SYSTEM_BUS_ADDRESS */
        HMACD_BUS_USER,
} HmacdBusType;

typedef struct HmacdError {
        char *name;
        char *message;
        bool service;           /* the error came from hmacd itself (an io.hmacd.Kms1.Error.*) */
} HmacdError;

void hmacd_error_clear(HmacdError *e);

typedef struct HmacdTag {
        const char *key;
        const char *value;
} HmacdTag;

typedef struct HmacdKeyMetadata {
        char *key_id;
        char *arn;
        char *description;
        char *key_usage;
        char *key_state;
        char *origin;
        char *key_manager;
        char *key_spec;
        char *mac_algorithm;            /* the one entry of MacAlgorithms */
        char *expiration_model;         /* NULL unless imported material */
        char *owner;
        uint64_t creation_date;         /* microseconds since the epoch */
        uint64_t deletion_date;         /* 0 unless PendingDeletion */
        uint64_t valid_to;              /* 0 unless imported material that expires */
        uint32_t owner_uid;
        bool enabled;
        bool multi_region;
        /* Since LIBHMACD_0.2 (the library allocates this struct, so it may grow at its end). */
        char *current_key_material_id;  /* NULL from a service without key material versions */
        uint32_t mac_verify_window_in_days;
} HmacdKeyMetadata;

typedef struct HmacdKeyListEntry {
        char *key_id;
        char *key_arn;
} HmacdKeyListEntry;

typedef struct HmacdAlias {
        char *alias_name;
        char *alias_arn;
        char *target_key_id;
        uint64_t creation_date;
        uint64_t last_updated_date;
} HmacdAlias;

typedef struct HmacdAliasList {
        HmacdAlias *aliases;
        size_t n_aliases;
        char *next_marker;              /* NULL when not truncated */
        bool truncated;
} HmacdAliasList;

typedef struct HmacdTagList {
        HmacdTag *tags;                 /* owned by the list: free with hmacd_tag_list_free() */
        size_t n_tags;
        char *next_marker;
        bool truncated;
} HmacdTagList;

typedef struct HmacdKeyList {
        HmacdKeyListEntry *keys;
        size_t n_keys;
        char *next_marker;              /* NULL when not truncated */
        bool truncated;
} HmacdKeyList;

int hmacd_open(HmacdBusType type, Hmacd **ret);
Hmacd *hmacd_close(Hmacd *h);
/* Let polkit ask the caller for a password (ALLOW_INTERACTIVE_AUTHORIZATION on each call). */
void hmacd_set_allow_interactive_authorization(Hmacd *h, bool b);

HmacdKeyMetadata *hmacd_key_metadata_free(HmacdKeyMetadata *m);
HmacdKeyList *hmacd_key_list_free(HmacdKeyList *l);
HmacdAliasList *hmacd_alias_list_free(HmacdAliasList *l);
HmacdTagList *hmacd_tag_list_free(HmacdTagList *l);

/* origin: NULL for the default ("HMACD"), or "EXTERNAL". */
int hmacd_create_key(Hmacd *h, const char *key_spec, const char *key_usage, const char *description,
                     const HmacdTag *tags, size_t n_tags, const char *origin, HmacdKeyMetadata **ret,
                     HmacdError *error);

/* The same with the CreateKey option MacVerifyWindowInDays (0..3650): how long each material keeps
 * verifying after it stopped being current; 0, the default, means until it is retired. */
int hmacd_create_key_with_verify_window(Hmacd *h, const char *key_spec, const char *key_usage,
                                        const char *description, const HmacdTag *tags, size_t n_tags,
                                        const char *origin, uint32_t mac_verify_window_in_days,
                                        HmacdKeyMetadata **ret, HmacdError *error);

/* ret_mac must hold HMACD_MAC_SIZE_MAX bytes; *ret_mac_size gets the tag length. ret_key_arn (may be
 * NULL) gets the ARN of the key used, whatever form key_id had; free() it. */
int hmacd_generate_mac(Hmacd *h, const char *key_id, const void *message, size_t message_size,
                       const char *mac_algorithm, uint8_t *ret_mac, size_t *ret_mac_size, char **ret_key_arn,
                       HmacdError *error);

/* 0 when the MAC is valid; -EBADMSG with KMSInvalidMacException when it is not. ret_key_arn as for
 * hmacd_generate_mac(). */
int hmacd_verify_mac(Hmacd *h, const char *key_id, const void *message, size_t message_size,
                     const char *mac_algorithm, const void *mac, size_t mac_size, char **ret_key_arn,
                     HmacdError *error);

/* One MAC per message, all under one key and one authorization check: messages[i] (1..4096 bytes
 * each, 1..HMACD_BATCH_MAX of them) gives the tag at ret_macs + i * HMACD_MAC_SIZE_MAX. ret_macs must
 * hold n_messages * HMACD_MAC_SIZE_MAX bytes; *ret_mac_size gets the tag length, which is the same for
 * every tag of the batch (one key, one algorithm). The service checks every message before it makes
 * any MAC: one that is out of bounds fails the whole call with ValidationException. */
int hmacd_generate_mac_batch(Hmacd *h, const char *key_id, const struct iovec *messages, size_t n_messages,
                             const char *mac_algorithm, uint8_t *ret_macs, size_t *ret_mac_size,
                             HmacdError *error);

/* Verifies messages[i] against macs[i] for every i < n_pairs (1..HMACD_BATCH_MAX), under one key and one
 * authorization check. Unlike hmacd_verify_mac(), a MAC that does not verify is not an error:
 * ret_valid[i] (n_pairs of them) says false. Validation errors (a message out of bounds, a wrong
 * algorithm) fail the whole call. ret_key_arn as for hmacd_generate_mac(). */
int hmacd_verify_mac_batch(Hmacd *h, const char *key_id, const struct iovec *messages, size_t n_pairs,
                           const char *mac_algorithm, const struct iovec *macs, bool *ret_valid,
                           char **ret_key_arn, HmacdError *error);

int hmacd_describe_key(Hmacd *h, const char *key_id, HmacdKeyMetadata **ret, HmacdError *error);

/* limit 0 means the service default (100); marker NULL or "" for the first page. */
int hmacd_list_keys(Hmacd *h, uint32_t limit, const char *marker, HmacdKeyList **ret, HmacdError *error);

/* The key lifecycle. key_id: a key ID or key ARN. */
int hmacd_enable_key(Hmacd *h, const char *key_id, HmacdError *error);
int hmacd_disable_key(Hmacd *h, const char *key_id, HmacdError *error);
/* pending_window_in_days 0 means 30; returns the deletion date (usec) and the window used. */
int hmacd_schedule_key_deletion(Hmacd *h, const char *key_id, uint32_t pending_window_in_days,
                                uint64_t *ret_deletion_date, uint32_t *ret_pending_window_in_days,
                                HmacdError *error);
int hmacd_cancel_key_deletion(Hmacd *h, const char *key_id, HmacdError *error);
int hmacd_update_key_description(Hmacd *h, const char *key_id, const char *description, HmacdError *error);

int hmacd_create_alias(Hmacd *h, const char *alias_name, const char *target_key_id, HmacdError *error);
int hmacd_update_alias(Hmacd *h, const char *alias_name, const char *target_key_id, HmacdError *error);
int hmacd_delete_alias(Hmacd *h, const char *alias_name, HmacdError *error);
/* key_id NULL or "" lists every alias; limit 0 means 50. */
int hmacd_list_aliases(Hmacd *h, const char *key_id, uint32_t limit, const char *marker, HmacdAliasList **ret,
                       HmacdError *error);

int hmacd_tag_resource(Hmacd *h, const char *key_id, const HmacdTag *tags, size_t n_tags, HmacdError *error);
int hmacd_untag_resource(Hmacd *h, const char *key_id, const char *const *tag_keys, size_t n_tag_keys,
                         HmacdError *error);
/* limit 0 means 50. */
int hmacd_list_resource_tags(Hmacd *h, const char *key_id, uint32_t limit, const char *marker, HmacdTagList **ret,
                             HmacdError *error);

/* Importing key material into a key created with origin "EXTERNAL" (the AWS flow). key_id: a key ID
 * or key ARN.
 *
 * hmacd_get_parameters_for_import(): wrapping_algorithm "RSAES_OAEP_SHA_256" or "RSAES_OAEP_SHA_1",
 * wrapping_key_spec "RSA_2048", "RSA_3072" or "RSA_4096". Returns the import token and the wrapping
 * public key (DER SubjectPublicKeyInfo), both malloc()ed (free() them), and the time (usec since the
 * epoch) until which they can be used (24 hours). The token may be used once, for this key only, and
 * only until the service restarts. Any of the ret_ pointers may be NULL if that value is not wanted.
 *
 * hmacd_import_key_material(): encrypted is the raw key material (28..64, 32..64, 48..128 or 64..128
 * bytes for HMAC_224/256/384/512) encrypted to that public key with RSA OAEP (the hash of
 * wrapping_algorithm for both OAEP and MGF1). expiration_model "KEY_MATERIAL_EXPIRES" (NULL or "" means
 * the same, as in AWS) with valid_to (usec) in the future and at most 365 days ahead, or
 * "KEY_MATERIAL_DOES_NOT_EXPIRE" with valid_to 0. The call is marked sensitive: sd-bus wipes its copy
 * of the message when it frees it.
 *
 * hmacd_delete_imported_key_material(): the key goes back to PendingImport until material is imported
 * again (which must be the same material). */
int hmacd_get_parameters_for_import(Hmacd *h, const char *key_id, const char *wrapping_algorithm,
                                    const char *wrapping_key_spec, uint8_t **ret_token,
                                    size_t *ret_token_size, uint8_t **ret_public_key,
                                    size_t *ret_public_key_size, uint64_t *ret_valid_to, HmacdError *error);
int hmacd_import_key_material(Hmacd *h, const char *key_id, const void *token, size_t token_size,
                              const void *encrypted, size_t encrypted_size, const char *expiration_model,
                              uint64_t valid_to, HmacdError *error);
int hmacd_delete_imported_key_material(Hmacd *h, const char *key_id, HmacdError *error);

/* Key material versions and rotation (beyond AWS for HMAC keys; API.md, section 3a). A key has one
 * current material, used by hmacd_generate_mac(), and up to HMACD_PREVIOUS_MATERIALS_MAX previous
 * ones that hmacd_verify_mac() still accepts until their verify window ends or they are retired. Each
 * material has a KeyMaterialId of HMACD_KEY_MATERIAL_ID_LENGTH lower-case hex characters. key_id: a
 * key ID or key ARN.
 *
 * hmacd_rotate_key_on_demand(): a new current material; the old one becomes previous. *ret (may be
 * NULL) gets the new material's ID; free() it.
 * hmacd_enable_key_rotation(): automatic rotation every rotation_period_in_days (90..2560; 0 means 365).
 * hmacd_get_key_rotation_status(): whether automatic rotation is on, its period, the next automatic
 * rotation (usec since the epoch), and when an on-demand rotation started; 0 where not applicable. Any
 * of the ret_ pointers may be NULL.
 * hmacd_list_key_rotations(): every material still kept, oldest first; limit 0 means 100.
 * hmacd_update_mac_verify_window(): days 0..3650 (0: until retired), for the previous materials too.
 * hmacd_retire_key_material(): a previous material stops verifying at once and is destroyed. */
#define HMACD_KEY_MATERIAL_ID_LENGTH 64
#define HMACD_PREVIOUS_MATERIALS_MAX 25

typedef struct HmacdKeyRotation {
        char *key_material_id;
        char *key_material_state;       /* "CURRENT" or "NON_CURRENT" */
        char *rotation_type;            /* "AUTOMATIC", "ON_DEMAND", or "" for the initial material */
        uint64_t rotation_date;         /* usec; 0 for the initial material */
        uint64_t verify_until;          /* usec; 0 when it has no end (current, or a window of 0) */
} HmacdKeyRotation;

typedef struct HmacdKeyRotationList {
        HmacdKeyRotation *rotations;
        size_t n_rotations;
        char *next_marker;              /* NULL when not truncated */
        bool truncated;
} HmacdKeyRotationList;

HmacdKeyRotationList *hmacd_key_rotation_list_free(HmacdKeyRotationList *l);

int hmacd_rotate_key_on_demand(Hmacd *h, const char *key_id, char **ret_key_material_id, HmacdError *error);
int hmacd_enable_key_rotation(Hmacd *h, const char *key_id, uint32_t rotation_period_in_days,
                              HmacdError *error);
int hmacd_disable_key_rotation(Hmacd *h, const char *key_id, HmacdError *error);
int hmacd_get_key_rotation_status(Hmacd *h, const char *key_id, bool *ret_enabled,
                                  uint32_t *ret_rotation_period_in_days, uint64_t *ret_next_rotation_date,
                                  uint64_t *ret_on_demand_rotation_start_date, HmacdError *error);
int hmacd_list_key_rotations(Hmacd *h, const char *key_id, uint32_t limit, const char *marker,
                             HmacdKeyRotationList **ret, HmacdError *error);
int hmacd_update_mac_verify_window(Hmacd *h, const char *key_id, uint32_t days, HmacdError *error);
int hmacd_retire_key_material(Hmacd *h, const char *key_id, const char *key_material_id, HmacdError *error);

int hmacd_get_version(Hmacd *h, char **ret);
int hmacd_get_backend(Hmacd *h, char **ret);
int hmacd_get_max_message_size(Hmacd *h, uint32_t *ret);

/* The daemon's counters since it started (the Counters property, a{st}): name and value pairs in the
 * daemon's order, e.g. OperationsSucceeded, OperationsFailed, Denials, PolkitChecks,
 * PolkitLatencyUSec, KeyCacheHits, KeyCacheMisses, Failed.NotFoundException. */
typedef struct HmacdCounter {
        char *name;
        uint64_t value;
} HmacdCounter;

typedef struct HmacdCounterList {
        HmacdCounter *counters;         /* owned by the list: free with hmacd_counter_list_free() */
        size_t n;
} HmacdCounterList;

HmacdCounterList *hmacd_counter_list_free(HmacdCounterList *l);
int hmacd_get_counters(Hmacd *h, HmacdCounterList **ret);

#ifdef __cplusplus
}
#endif
