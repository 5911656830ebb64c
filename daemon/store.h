/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The durable store: an SQLite database in the state directory (WAL, synchronous=FULL,
 * secure_delete) with key metadata, tags, aliases and each key's material sealed under the KEK.
 * Every change is one transaction: after a crash the store holds the old or the new state. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define STORE_FILE_NAME "hmacd.db"
#define STORE_FORMAT 2 /* 1: before key material versions; store_upgrade() makes it 2 (and store.c's schema says 2) */
#define STORE_SEALED_MAX 4096

typedef struct Store {
        sqlite3 *db;
        sqlite3_stmt *get_material;     /* prepared when first needed (a format 1 store has no materials) */
        int format;
} Store;

/* Opens an existing store (create = false), or creates a new one where none exists. A store that
 * cannot be read, or is not an hmacd store, gives -EBADMSG with a reason in *ret_reason. */
int store_open(const char *path, bool create, Store **ret, const char **ret_reason);
/* Upgrades a store of an earlier format in place, in one transaction (a failure or a crash leaves it
 * as it was). Returns 1 if it upgraded, 0 if there was nothing to do. fail_before_commit: tests
 * (the transaction is rolled back and -EIO returned). */
int store_upgrade(Store *s, bool fail_before_commit);
Store *store_free(Store *s);
void store_freep(Store **s);

int store_meta_get(Store *s, const char *name, uint8_t *buf, size_t size, size_t *ret_size);
int store_meta_set(Store *s, const char *name, const void *value, size_t size);

/* Calls cb for every key, in creation order. cb takes ownership of the entry it is given. */
int store_load_keys(Store *s, int (*cb)(KeyEntry *e, void *userdata), void *userdata);

/* Inserts a key with its tags and its initial material (key_entry_current(e)) in one transaction;
 * sets e->seq. sealed may be NULL (PendingImport). */
int store_insert_key(Store *s, KeyEntry *e, const char *description, const KeyTag *tags, size_t n_tags,
                     const uint8_t *sealed, size_t sealed_size);

int store_load_tags(Store *s, int (*cb)(const char *key_id, const char *key, const char *value, void *userdata),
                    void *userdata);
int store_load_aliases(Store *s,
                       int (*cb)(const char *name, const char *key_id, uint64_t created, uint64_t updated,
                                 void *userdata),
                       void *userdata);

int store_set_state(Store *s, const char *key_id, KeyState state, uint64_t deletion_date);
int store_set_description(Store *s, const char *key_id, const char *description);
/* Deletes the key, its sealed material, its tags and its aliases (secure_delete overwrites them). */
int store_delete_key(Store *s, const char *key_id);

/* -EEXIST if the name is taken (insert), -ENOENT if it is not (update, delete). */
int store_insert_alias(Store *s, const char *name, const char *key_id, uint64_t now);
int store_update_alias(Store *s, const char *name, const char *key_id, uint64_t now);
int store_delete_alias(Store *s, const char *name);

/* Adds or replaces tags, or removes tag keys, in one transaction. */
int store_put_tags(Store *s, const char *key_id, const KeyTag *tags, size_t n);
int store_delete_tags(Store *s, const char *key_id, const char *const *keys, size_t n);

/* Imported material: sets (as v, the key's one material) or, with sealed NULL, deletes the sealed
 * material, the state and the expiry in one transaction; fingerprint (if not NULL) is remembered for
 * later re-imports. */
#define STORE_FINGERPRINT_SIZE 32
int store_set_material(Store *s, const char *key_id, const KeyVersion *v, const uint8_t *sealed, size_t sealed_size,
                       KeyState state, uint64_t valid_to, const uint8_t *fingerprint);

/* Materials and rotation (API.md section 3a), each one transaction. A rotation makes the current
 * material previous (stopped at v->rotation_date) and v, with sealed, the current one. */
int store_load_materials(Store *s, int (*cb)(const char *key_id, KeyVersion *v, void *userdata), void *userdata);
int store_rotate(Store *s, const char *key_id, const KeyVersion *v, const uint8_t *sealed, size_t sealed_size,
                 uint64_t next_rotation_date, uint64_t on_demand_rotation_date);
int store_set_rotation(Store *s, const char *key_id, bool enabled, uint32_t period, uint64_t next_rotation_date);
int store_set_verify_window(Store *s, const char *key_id, uint32_t days);
/* Deletes previous materials (never the current one; secure_delete and a checkpoint: no byte of them
 * stays in the store's files). */
int store_delete_materials(Store *s, const char *key_id, const char *const *ids, size_t n);
int store_get_fingerprint(Store *s, const char *key_id, uint8_t ret[static STORE_FINGERPRINT_SIZE]);

int store_get_material(Store *s, const char *key_id, const char *material_id, uint8_t *buf, size_t size,
                       size_t *ret_size);
/* Returns a newly allocated copy. */
int store_get_description(Store *s, const char *key_id, char **ret);
