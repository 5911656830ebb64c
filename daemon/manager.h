/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's state: bus, event loop, store, key index, keyring cache and MAC engine, and the
 * operations on keys that the bus methods are built from. */
#pragma once

#include <stdbool.h>
#include <sys/uio.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "ident.h"
#include "keyring.h"
#include "keys.h"
#include "log.h"
#include "mac.h"
#include "authorize.h"
#include "import.h"
#include "polkit.h"
#include "secure.h"
#include "store.h"

#define HMACD_VERSION "0.1.0"

typedef struct ManagerConfig {
        bool user_bus;
        const char *state_dir;
        const char *kek_file;
        size_t cache_max;               /* 0: from the kernel's key quota */
        /* Test only: the length of a "day" of a deletion window, in seconds (0: 86400). */
        uint64_t test_only_seconds_per_day;
        uint64_t polkit_cache_usec;     /* how long an allowed answer is reused */
} ManagerConfig;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Polkit *polkit;
        CallerCache *callers;
        ImportTable *imports;
        Store *store;
        KeyIndex index;
        AliasIndex aliases;
        sd_event_source *deletion_timer;
        uint64_t usec_per_day;
        KeyCache *cache;
        MacEngine *mac;
        SecureBuffer *secret;
        struct iovec batch[KMS_BATCH_MAX];   /* the messages of one GenerateMacBatch call */           /* scratch for one operation's key material, KEK, sealed blob */
        key_serial_t kek;
        uid_t self_uid;
        char machine_id[MACHINE_ID_MAX + 1];
        struct {
                uid_t uid;
                char name[64];
        } user_names[32];
        size_t n_user_names;
} Manager;

/* Offsets into Manager.secret. */
#define SECRET_KEY_OFFSET 0
#define SECRET_KEK_OFFSET 256
#define SECRET_UNWRAP_OFFSET 512        /* IMPORT_UNWRAP_BUFFER bytes */
#define SECRET_SIZE 1024

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
void manager_freep(Manager **m);

/* Keyring, KEK, store and index; fatal problems are logged with one clear line. */
int manager_load(Manager *m, const ManagerConfig *config);
/* Connects to the bus, publishes the object and takes the name. */
int manager_connect_bus(Manager *m, const ManagerConfig *config);
int manager_run(Manager *m);

uint64_t now_usec(void);

/* The user name of a UID, remembered ("" for none). */
const char *manager_user_name(Manager *m, uid_t uid);

/* Destroys every key whose deletion date has passed, deletes imported material whose ValidTo has
 * passed, and arms the timer for the next such date. */
int manager_purge_expired_keys(Manager *m);
/* Deletes a key's imported material; the key goes back to PendingImport (unless PendingDeletion). */
int manager_delete_material(Manager *m, KeyEntry *e);
/* A keyed fingerprint of imported material (HMAC-SHA-256 under the KEK), to recognize it again. */
int manager_material_fingerprint(Manager *m, const KeyEntry *e, const uint8_t *material, size_t n,
                                 uint8_t ret[static STORE_FINGERPRINT_SIZE]);
/* Destroys one key now: keyring entry, store row, material, tags and aliases. */
int manager_destroy_key(Manager *m, KeyEntry *e);
/* (Re-)arms the deletion timer for the earliest pending deletion. */
int manager_arm_deletion_timer(Manager *m);

/* Seals material for key e and returns the blob (out must hold STORE_SEALED_MAX). */
int manager_seal_material(Manager *m, const KeyEntry *e, const uint8_t *material, size_t n, uint8_t *out,
                          size_t *ret_size);

/* Keys the MAC engine with e's material: from the keyring cache, or unsealed from the store and
 * cached. The material passes through locked memory and is wiped before this returns. Callers
 * must call mac_engine_forget() when done. */
int manager_key_mac_engine(Manager *m, KeyEntry *e);

/* Sealed-blob associated data: "<key_id>/<spec>". */
int key_aad(const KeyEntry *e, char *buf, size_t size);
