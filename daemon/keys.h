/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-memory index of keys: what the hot path needs to know of every key (spec, state, owner,
 * dates), by key ID and in creation order, so that a MAC needs no disk access. The store on disk
 * stays the source of truth; this index is rebuilt from it at start. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ident.h"
#include "kms.h"

typedef struct KeyTag {
        char *key;
        char *value;
} KeyTag;

/* How a material became its key's: the key's first (initial) material, or a rotation. */
typedef enum RotationType {
        ROTATION_INITIAL,
        ROTATION_AUTOMATIC,
        ROTATION_ON_DEMAND,
        _ROTATION_TYPE_MAX,
        _ROTATION_TYPE_INVALID = -22,
} RotationType;

/* "AUTOMATIC", "ON_DEMAND", or "" for the initial material (ListKeyRotations' RotationType). */
const char *rotation_type_to_string(RotationType t);
RotationType rotation_type_from_string(const char *s);

struct KeyEntry;

/* One material of a key (API.md section 3a): what the hot path needs to pick it; its sealed bytes
 * stay in the store. */
typedef struct KeyVersion {
        char id[KMS_KEY_MATERIAL_ID_LENGTH + 1];        /* KeyMaterialId, 64 lower-case hex */
        RotationType type;
        uint64_t rotation_date;         /* usec; 0 for the initial material */
        uint64_t stopped_date;          /* usec when it stopped being current; 0 while current */
        int cache_slot;                 /* index into the keyring cache, or -1 */
        struct KeyEntry *key;
} KeyVersion;

typedef struct KeyEntry {
        char key_id[KEY_ID_LEN + 1];
        int64_t seq;                    /* creation order, the store's row id */
        KeySpec spec;
        KeyState state;
        KeyOrigin origin;
        uid_t owner_uid;
        uint64_t creation_date;         /* usec */
        uint64_t deletion_date;         /* usec, PendingDeletion only */
        uint64_t valid_to;              /* usec, imported material that expires */
        bool has_material;              /* sealed material in the store (false: waiting for an import) */
        /* Its materials, oldest first; the last is the current one (when has_material), the others
         * are previous materials that VerifyMac still accepts within the verify window. */
        KeyVersion **versions;
        size_t n_versions, allocated_versions;
        bool rotation_enabled;
        uint32_t rotation_period;       /* days, while rotation_enabled */
        uint64_t next_rotation_date;    /* usec, while rotation_enabled */
        uint64_t on_demand_rotation_date; /* usec, the start of the last on-demand rotation, or 0 */
        uint32_t mac_verify_window;     /* days a previous material keeps verifying; 0: until retired */
        unsigned n_aliases;
        KeyTag *tags;                   /* sorted by key */
        size_t n_tags;
        /* What the key costs its owner's quota (kms-service.c): bytes of its description and of
         * its tag keys and values. tag_bytes follows key_entry_replace_tags(). */
        uint32_t description_size;
        uint32_t tag_bytes;
        /* What polkit rules see of this key, serialized ("key\0value\0..."), built when first
         * needed and dropped whenever the state, tags or aliases change (key_entry_changed()). */
        char *details;
        size_t details_size;
        struct KeyEntry *hash_next;
} KeyEntry;

typedef struct KeyIndex {
        KeyEntry **by_seq;              /* ascending seq */
        size_t n, allocated;
        KeyEntry **buckets;
        size_t n_buckets;               /* a power of two */
} KeyIndex;

int key_index_init(KeyIndex *ix);
void key_index_done(KeyIndex *ix);

/* Makes room for n more keys, so that the next n key_index_add() calls cannot fail. */
int key_index_reserve(KeyIndex *ix, size_t n);
/* Takes ownership of e; e->seq must be larger than every seq already in the index. */
int key_index_add(KeyIndex *ix, KeyEntry *e);
KeyEntry *key_index_find(const KeyIndex *ix, const char *key_id);
/* Removes and frees. */
void key_index_remove(KeyIndex *ix, KeyEntry *e);
/* The position of the first key created after seq. */
size_t key_index_after(const KeyIndex *ix, int64_t seq);

/* Drops what was derived from the key's state, tags and aliases. Every change of them calls it. */
void key_entry_changed(KeyEntry *e);
void key_entry_set_state(KeyEntry *e, KeyState state, uint64_t deletion_date);

/* The current material, or NULL (no material). */
KeyVersion *key_entry_current(const KeyEntry *e);
/* The material with this KeyMaterialId, or NULL. */
KeyVersion *key_entry_find_version(const KeyEntry *e, const char *id);
/* Makes room for one more material, so that the next key_entry_add_version() cannot fail. */
int key_entry_reserve_version(KeyEntry *e);
/* Takes ownership of v and appends it as the newest (current) material. */
int key_entry_add_version(KeyEntry *e, KeyVersion *v);
/* Removes (without freeing) v from e's materials. */
void key_entry_remove_version(KeyEntry *e, KeyVersion *v);
/* Frees every material of e. */
void key_entry_clear_versions(KeyEntry *e);
KeyVersion *key_version_new(const char *id, RotationType type, uint64_t rotation_date, uint64_t stopped_date);

/* A sorted copy of n (key, value) pairs, to be handed to key_entry_replace_tags() (NULL for none). */
int key_tags_copy(const KeyTag *tags, size_t n, KeyTag **ret);
void key_tags_free(KeyTag *tags, size_t n);
/* Takes ownership of tags (from key_tags_copy()); cannot fail. */
void key_entry_replace_tags(KeyEntry *e, KeyTag *tags, size_t n);
void key_entry_free(KeyEntry *e);
static inline void key_entry_freep(KeyEntry **e) {
        key_entry_free(*e);
}

/* Aliases, sorted by name: resolution by binary search, ListAliases in name order. */
typedef struct Alias {
        char name[KMS_ALIAS_NAME_MAX + 1];
        KeyEntry *key;
        uint64_t creation_date;
        uint64_t last_updated_date;
} Alias;

typedef struct AliasIndex {
        Alias **v;
        size_t n, allocated;
} AliasIndex;

void alias_index_done(AliasIndex *ix);
Alias *alias_index_find(const AliasIndex *ix, const char *name);
/* The position of the first alias whose name sorts after name ("" gives 0). */
size_t alias_index_after(const AliasIndex *ix, const char *name);
/* Makes room for one more alias, so that the next alias_index_add() cannot fail. */
int alias_index_reserve(AliasIndex *ix);
/* Takes ownership; the name must not be there yet. Counts the alias on its key. */
int alias_index_add(AliasIndex *ix, Alias *a);
/* Removes and frees. */
void alias_index_remove(AliasIndex *ix, Alias *a);
/* Points an alias at another key. */
void alias_retarget(Alias *a, KeyEntry *e);
