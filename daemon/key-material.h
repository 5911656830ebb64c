/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key material, in one place: the KEK, new material, sealing and unsealing, the keyring cache of
 * live keys, the import unwrap and its fingerprint, and "compute a MAC with key K". Every byte of
 * material that user space sees passes through one locked, non-dumpable buffer and is wiped after
 * each use. Two engines compute MACs:
 *
 *   kernel   (Backend "keyring-logon+af_alg"): a key is unsealed once into a `logon` key, which
 *            nobody can read back, not even this process; its MACs come from an AF_ALG hmac(shaN)
 *            operation socket keyed by the key's serial and kept with the key in the cache, so a
 *            MAC is one write and one read. Needs Linux 6.2+ with CONFIG_CRYPTO_USER_API_HASH.
 *   openssl  (Backend "keyring-user+openssl"): a key is a possessor-only `user` key, read per
 *            operation into the locked buffer, used with OpenSSL and forgotten before returning.
 *
 * The sealed material in the store is the same for both, so a store opens under either. */
#pragma once

#include <errno.h>
#include <keyutils.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "import.h"
#include "keys.h"
#include "kms-error.h"
#include "store.h"

typedef struct KeyMaterial KeyMaterial;

typedef enum KeyEngine {
        KEY_ENGINE_AUTO,                /* the kernel's where the probe passes, else OpenSSL */
        KEY_ENGINE_KERNEL,
        KEY_ENGINE_OPENSSL,
        _KEY_ENGINE_MAX,
        _KEY_ENGINE_INVALID = -EINVAL,
} KeyEngine;

KeyEngine key_engine_from_string(const char *s);

int key_material_new(KeyMaterial **ret);
KeyMaterial *key_material_free(KeyMaterial *km);

/* Loads the KEK into the keyring (allow_create: make one, for a new store); *ret_source says where it
 * came from. */
int key_material_load_kek(KeyMaterial *km, const char *kek_file, const char *state_dir, bool allow_create,
                          const char **ret_source);
/* A known plaintext sealed under the KEK tells at each start whether the KEK opens store: writes it
 * into a new store, checks it otherwise (-EBADMSG: it does not). */
int key_material_check_kek(KeyMaterial *km, Store *store, bool new_store);
/* Chooses the MAC engine, before key_material_attach(): probes the kernel (AF_ALG keyed by a logon
 * key's serial) unless want is KEY_ENGINE_OPENSSL. With KEY_ENGINE_KERNEL a failed probe is fatal and
 * logged naming the step that failed; with KEY_ENGINE_AUTO OpenSSL is used, and
 * key_material_engine_note() says why. */
int key_material_set_engine(KeyMaterial *km, KeyEngine want);
/* Why auto did not take the kernel engine (" (no kernel engine: STEP failed: ERROR)"), or "". */
const char *key_material_engine_note(const KeyMaterial *km);
/* True when MACs are computed in the kernel (for the seccomp filter). */
bool key_material_uses_kernel(const KeyMaterial *km);
/* Live keys are unsealed from store into a keyring cache of at most max keys (with the kernel engine
 * also at most what the limit of open files leaves: one socket per key). */
int key_material_attach(KeyMaterial *km, Store *store, size_t max);

/* New random material for e, sealed into sealed (STORE_SEALED_MAX bytes). */
int key_material_generate(KeyMaterial *km, const KeyEntry *e, uint8_t *sealed, size_t *ret_size);

/* ImportKeyMaterial: unwraps wrapped with the token's wrapping key, checks its length for e's spec,
 * compares it with the material imported before (known: its fingerprint, or NULL for none) and seals
 * it into sealed (STORE_SEALED_MAX bytes); fingerprint gets its fingerprint. Returns 0, a negative
 * errno, or a condition in f (CIPHERTEXT_INVALID, MATERIAL_LENGTH, MATERIAL_INCORRECT). */
int key_material_import(KeyMaterial *km, ImportTable *t, const KeyEntry *e, const uint8_t *token,
                        size_t token_size, const uint8_t *wrapped, size_t wrapped_size, const uint8_t *known,
                        uint8_t *sealed, size_t *ret_sealed_size, uint8_t fingerprint[static STORE_FINGERPRINT_SIZE],
                        KmsFailure *f);

/* Called with each MAC of key_material_mac(), in order. */
typedef int (*MacCallback)(const uint8_t *mac, size_t size, void *userdata);

/* The MACs of n messages with e's current material: keyed once, computed, forgotten (its cost does
 * not depend on how many previous materials e has). */
int key_material_mac(KeyMaterial *km, KeyEntry *e, const struct iovec *messages, size_t n, MacCallback cb,
                     void *userdata);
/* 1 if mac is the tag of message made with e's material v (constant-time), 0 if not. */
int key_material_verify(KeyMaterial *km, KeyEntry *e, KeyVersion *v, const void *message, size_t n,
                        const void *mac, size_t mac_size);

/* Drops e's live keys (every material) from the keyring (its material changed or went away);
 * returns a serial dropped, or 0. */
key_serial_t key_material_forget(KeyMaterial *km, KeyEntry *e);
/* Drops material v's live key (it was retired or its window ended); returns its serial or 0. */
key_serial_t key_material_forget_version(KeyMaterial *km, KeyVersion *v);
/* A new KeyMaterialId: 64 lower-case hex characters from the kernel's random source. */
int key_material_id_generate(char ret[static KMS_KEY_MATERIAL_ID_LENGTH + 1]);

const char *key_material_backend(const KeyMaterial *km);
/* For the start-up log: the KEK's serial, the cache's keyring and size. */
key_serial_t key_material_kek_serial(const KeyMaterial *km);
key_serial_t key_material_cache_keyring(const KeyMaterial *km);
size_t key_material_cache_size(const KeyMaterial *km);
/* The keyring cache's hits, misses and evictions so far (the Counters property). */
void key_material_cache_counters(const KeyMaterial *km, uint64_t *ret_hits, uint64_t *ret_misses,
                                 uint64_t *ret_evictions);
