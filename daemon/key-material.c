/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key material: KEK, sealing, the keyring cache, imports and MACs (see key-material.h). */
#include <errno.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "afalg.h"
#include "kek.h"
#include "key-material.h"
#include "keyring.h"
#include "log.h"
#include "mac.h"
#include "macro.h"
#include "secure.h"

#define KEK_CHECK_NAME "kek_check"
static const char kek_check_aad[] = "hmacd kek check";

/* The locked scratch buffer: one slot per kind of secret an operation may hold at once. */
#define SECRET_KEY_OFFSET 0
#define SECRET_KEK_OFFSET 256
#define SECRET_UNWRAP_OFFSET 512 /* IMPORT_UNWRAP_BUFFER bytes */
#define SECRET_SIZE (SECRET_UNWRAP_OFFSET + IMPORT_UNWRAP_BUFFER)

struct KeyMaterial {
        SecureBuffer *secret;
        MacEngine *mac;
        KeyCache *cache;
        Store *store;
        key_serial_t kek;
        bool kernel;            /* logon keys and AF_ALG, else user keys and OpenSSL */
        char engine_note[160];  /* why the kernel engine is not used, for the start-up log */
};

static const char *const engine_names[_KEY_ENGINE_MAX] = {
        [KEY_ENGINE_AUTO] = "auto",
        [KEY_ENGINE_KERNEL] = "kernel",
        [KEY_ENGINE_OPENSSL] = "openssl",
};

KeyEngine key_engine_from_string(const char *s) {
        for (KeyEngine e = 0; s && e < _KEY_ENGINE_MAX; e++)
                if (streq(s, engine_names[e]))
                        return e;
        return _KEY_ENGINE_INVALID;
}

int key_material_new(KeyMaterial **ret) {
        KeyMaterial *km;
        int r;

        km = calloc(1, sizeof *km);
        if (!km)
                return -ENOMEM;
        r = secure_buffer_new(SECRET_SIZE, &km->secret);
        if (r < 0) {
                key_material_free(km);
                return log_error_errno(r, "Failed to allocate locked memory for key material: %m");
        }
        r = mac_engine_new(&km->mac);
        if (r < 0) {
                key_material_free(km);
                return log_error_errno(r, "Failed to set up the OpenSSL HMAC engine: %m");
        }
        *ret = km;
        return 0;
}

KeyMaterial *key_material_free(KeyMaterial *km) {
        if (!km)
                return NULL;
        key_cache_free(km->cache);
        if (km->kek > 0)
                keyctl_invalidate(km->kek);
        mac_engine_free(km->mac);
        secure_buffer_free(km->secret);
        free(km);
        return NULL;
}

static uint8_t *secret(KeyMaterial *km, size_t offset) {
        return km->secret->data + offset;
}

int key_material_load_kek(KeyMaterial *km, const char *kek_file, const char *state_dir, bool allow_create,
                          const char **ret_source) {
        return kek_load(kek_file, state_dir, allow_create, &km->kek, ret_source);
}

int key_material_check_kek(KeyMaterial *km, Store *store, bool new_store) {
        uint8_t *kek = secret(km, SECRET_KEK_OFFSET), *plain = secret(km, SECRET_KEY_OFFSET);
        uint8_t blob[KEK_SIZE + SEAL_OVERHEAD];
        size_t n, pn;
        int r;

        r = kek_read(km->kek, kek);
        if (r < 0)
                return r;

        r = store_meta_get(store, KEK_CHECK_NAME, blob, sizeof blob, &n);
        if (r == -ENOENT && new_store) {
                memset(plain, 0, KEK_SIZE);
                r = seal(kek, kek_check_aad, sizeof kek_check_aad, plain, KEK_SIZE, blob, &n);
                if (r >= 0)
                        r = store_meta_set(store, KEK_CHECK_NAME, blob, n);
        } else if (r >= 0)
                r = unseal(kek, kek_check_aad, sizeof kek_check_aad, blob, n, plain, &pn);
        else if (r == -ENOENT)
                r = -EBADMSG;

        secure_wipe(km->secret->data, SECRET_SIZE);
        return r;
}

int key_material_set_engine(KeyMaterial *km, KeyEngine want) {
        const char *step = NULL;
        int r;

        km->kernel = false;
        if (want == KEY_ENGINE_OPENSSL)
                return 0;
        r = afalg_probe(&step);
        if (r >= 0) {
                km->kernel = true;
                return 0;
        }
        if (want == KEY_ENGINE_KERNEL)
                return log_error_errno(r, "The kernel engine (--engine=kernel) is not available: %s failed: %m. It needs "
                                       "Linux 6.2+ with CONFIG_CRYPTO_USER_API_HASH (AF_ALG) and logon keys.", step);
        /* Said in the start-up line (key_material_engine_note()): a fatal start-up problem later must
         * stay the one line on standard error. */
        snprintf(km->engine_note, sizeof km->engine_note, " (no kernel engine: %s failed: %s)", step, strerror(-r));
        return 0;
}

const char *key_material_engine_note(const KeyMaterial *km) {
        return km->engine_note;
}

bool key_material_uses_kernel(const KeyMaterial *km) {
        return km->kernel;
}

/* One open file per cached key with the kernel engine: as many as the hard limit allows, with room
 * for the store, the bus and the rest. */
static size_t fit_open_files(size_t max) {
        struct rlimit rl;
        size_t room;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return max;
        if (rl.rlim_cur < rl.rlim_max) {
                struct rlimit raised = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
                if (setrlimit(RLIMIT_NOFILE, &raised) >= 0)
                        rl = raised;
        }
        if (rl.rlim_cur == RLIM_INFINITY)
                return max;
        room = rl.rlim_cur > 128 ? (size_t) rl.rlim_cur - 64 : (size_t) rl.rlim_cur / 2;
        if (max > room) {
                log_warning("The keyring cache holds %zu keys instead of %zu: each takes an open file with the kernel "
                            "engine (RLIMIT_NOFILE %llu).", room, max, (unsigned long long) rl.rlim_cur);
                return MAX(room, (size_t) 1);
        }
        return max;
}

int key_material_attach(KeyMaterial *km, Store *store, size_t max) {
        km->store = store;
        if (km->kernel)
                max = fit_open_files(max);
        return key_cache_new(max, km->kernel, &km->cache);
}

/* Sealed-blob associated data: "<key_id>/<spec>". */
static int key_aad(const KeyEntry *e, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/%s", e->key_id, key_spec_to_string(e->spec));
        return n < 0 || (size_t) n >= size ? -ENOBUFS : n;
}

static int seal_material(KeyMaterial *km, const KeyEntry *e, const uint8_t *material, size_t n, uint8_t *out,
                         size_t *ret_size) {
        uint8_t *kek = secret(km, SECRET_KEK_OFFSET);
        char aad[KEY_ID_LEN + 32];
        int r, aad_size;

        aad_size = key_aad(e, aad, sizeof aad);
        if (aad_size < 0)
                return aad_size;
        r = kek_read(km->kek, kek);
        if (r >= 0)
                r = seal(kek, aad, (size_t) aad_size, material, n, out, ret_size);
        secure_wipe(kek, KEK_SIZE);
        return r;
}

int key_material_generate(KeyMaterial *km, const KeyEntry *e, uint8_t *sealed, size_t *ret_size) {
        uint8_t *material = secret(km, SECRET_KEY_OFFSET);
        size_t n = key_spec_key_size(e->spec);
        int r;

        if (getrandom(material, n, 0) != (ssize_t) n)
                r = negative_errno();
        else
                r = seal_material(km, e, material, n, sealed, ret_size);
        secure_wipe(material, n);
        return r;
}

/* A keyed fingerprint of imported material (HMAC-SHA-256 under the KEK), to recognize it again. */
static int fingerprint_material(KeyMaterial *km, const KeyEntry *e, const uint8_t *material, size_t n,
                                uint8_t ret[static STORE_FINGERPRINT_SIZE]) {
        static const char label[] = "hmacd import fingerprint";
        uint8_t *kek = secret(km, SECRET_KEK_OFFSET);
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA2-256", 0),
                OSSL_PARAM_construct_end(),
        };
        EVP_MAC_CTX *ctx = NULL;
        EVP_MAC *mac;
        size_t out = 0;
        int r;

        r = kek_read(km->kek, kek);
        if (r < 0)
                return r;
        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
        r = ctx && EVP_MAC_init(ctx, kek, KEK_SIZE, params) == 1 &&
                            EVP_MAC_update(ctx, (const uint8_t *) label, sizeof label) == 1 &&
                            EVP_MAC_update(ctx, (const uint8_t *) e->key_id, KEY_ID_LEN) == 1 &&
                            EVP_MAC_update(ctx, material, n) == 1 &&
                            EVP_MAC_final(ctx, ret, &out, STORE_FINGERPRINT_SIZE) == 1 && out == STORE_FINGERPRINT_SIZE
                    ? 0
                    : -EIO;
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
        secure_wipe(kek, KEK_SIZE);
        return r;
}

int key_material_import(KeyMaterial *km, ImportTable *t, const KeyEntry *e, const uint8_t *token,
                        size_t token_size, const uint8_t *wrapped, size_t wrapped_size, const uint8_t *known,
                        uint8_t *sealed, size_t *ret_sealed_size, uint8_t fingerprint[static STORE_FINGERPRINT_SIZE],
                        KmsFailure *f) {
        uint8_t *material = secret(km, SECRET_UNWRAP_OFFSET);
        int r, n;

        n = import_table_unwrap(t, token, token_size, wrapped, wrapped_size, material, IMPORT_UNWRAP_BUFFER);
        if (n == -EBADMSG)
                return kms_fail(f, KMS_COND_CIPHERTEXT_INVALID);
        if (n < 0)
                return n;
        if ((size_t) n < key_spec_import_min(e->spec) || (size_t) n > key_spec_import_max(e->spec)) {
                *f = (KmsFailure) { .name = key_spec_to_string(e->spec), .min = key_spec_import_min(e->spec),
                                    .max = key_spec_import_max(e->spec), .number = (uint64_t) n };
                r = kms_fail(f, KMS_COND_MATERIAL_LENGTH);
                goto finish;
        }

        /* A key takes one secret for life: a re-import must bring the same material again. */
        r = fingerprint_material(km, e, material, (size_t) n, fingerprint);
        if (r >= 0 && known && CRYPTO_memcmp(fingerprint, known, STORE_FINGERPRINT_SIZE) != 0) {
                r = kms_fail(f, KMS_COND_MATERIAL_INCORRECT);
                goto finish;
        }
        if (r >= 0)
                r = seal_material(km, e, material, (size_t) n, sealed, ret_sealed_size);
finish:
        secure_wipe(material, IMPORT_UNWRAP_BUFFER);
        return r;
}

/* Unseals material v of e from the store into the keyring cache. */
static int load_material(KeyMaterial *km, KeyEntry *e, KeyVersion *v, key_serial_t *ret) {
        uint8_t *kek = secret(km, SECRET_KEK_OFFSET), *key = secret(km, SECRET_KEY_OFFSET);
        uint8_t sealed[STORE_SEALED_MAX];
        char aad[KEY_ID_LEN + 32];
        size_t sealed_size, n = 0;
        int r, aad_size;

        r = store_get_material(km->store, e->key_id, v->id, sealed, sizeof sealed, &sealed_size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the sealed material of key %s: %m", e->key_id);
        aad_size = key_aad(e, aad, sizeof aad);
        if (aad_size < 0)
                return aad_size;

        r = kek_read(km->kek, kek);
        if (r >= 0)
                r = sealed_size - SEAL_OVERHEAD <= KMS_KEY_MATERIAL_MAX
                            ? unseal(kek, aad, (size_t) aad_size, sealed, sealed_size, key, &n)
                            : -EBADMSG;
        secure_wipe(kek, KEK_SIZE);
        if (r < 0) {
                secure_wipe(key, KMS_KEY_MATERIAL_MAX);
                return log_error_errno(r, "Failed to unseal key %s: %m", e->key_id);
        }

        r = key_cache_put(km->cache, v, key, n, ret);
        secure_wipe(key, KMS_KEY_MATERIAL_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to add key %s to the keyring: %m", e->key_id);
        return 0;
}

/* Keys the MAC engine with e's material v: from the keyring cache, or unsealed from the store and
 * cached. The material passes through locked memory and is wiped before this returns. */
static int key_engine(KeyMaterial *km, KeyEntry *e, KeyVersion *v) {
        uint8_t *key = secret(km, SECRET_KEY_OFFSET);
        key_serial_t serial;
        size_t n = 0;
        int r;

        serial = key_cache_get(km->cache, v);
        if (serial == 0) {
                log_debug("Key %s is not in the keyring cache: unsealing it from the store.", e->key_id);
                r = load_material(km, e, v, &serial);
                if (r < 0)
                        return r;
        } else
                log_debug("Key %s is in the keyring cache (key %" PRIi32 ").", e->key_id, serial);

        r = keyring_read_secret(serial, key, KMS_KEY_MATERIAL_MAX, &n);
        if (r < 0) {
                /* The kernel may have dropped the key (e.g. someone invalidated it); load it again once. */
                key_cache_drop(km->cache, v);
                r = load_material(km, e, v, &serial);
                if (r >= 0)
                        r = keyring_read_secret(serial, key, KMS_KEY_MATERIAL_MAX, &n);
        }
        if (r >= 0)
                r = mac_engine_set_key(km->mac, e->spec, key, n);
        secure_wipe(key, KMS_KEY_MATERIAL_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read key %s from the keyring: %m", e->key_id);
        return 0;
}

/* The kernel engine: the operation socket of e's logon key, kept in the cache with the key, or keyed
 * now from its serial (the kernel copies the key into the socket; the transform socket is not needed
 * once the operation socket is accepted). If the key is gone from the keyring (someone invalidated
 * it), it is loaded again once. */
static int kernel_socket(KeyMaterial *km, KeyEntry *e, KeyVersion *v, int *ret_fd) {
        int r = 0;

        for (unsigned attempt = 0; attempt < 2; attempt++) {
                _cleanup_close_ int tfm = -1;
                key_serial_t serial;
                int fd;

                serial = key_cache_get(km->cache, v);
                if (serial == 0) {
                        r = load_material(km, e, v, &serial);
                        if (r < 0)
                                return r;
                }
                fd = key_cache_fd(km->cache, v);
                if (fd >= 0) {
                        *ret_fd = fd;
                        return 0;
                }
                r = afalg_open_keyed(e->spec, serial, &tfm);
                if (r >= 0)
                        r = afalg_accept(tfm, &fd);
                if (r >= 0) {
                        key_cache_set_fd(km->cache, v, fd);
                        *ret_fd = fd;
                        return 0;
                }
                (void) key_cache_drop(km->cache, v);
        }
        return log_error_errno(r, "Failed to key an AF_ALG %s socket with key %s: %m", afalg_hmac_name(e->spec),
                               e->key_id);
}

/* One MAC on e's operation socket. A failure may leave the socket in the middle of a hash: it is
 * closed, and the next call keys a new one. */
static int kernel_mac(KeyMaterial *km, KeyEntry *e, KeyVersion *v, int fd, const void *message, size_t n,
                      uint8_t *mac) {
        int r;

        r = afalg_mac(fd, message, n, mac, key_spec_mac_size(e->spec));
        if (r < 0) {
                key_cache_close_fd(km->cache, v);
                return log_error_errno(r, "Failed to compute a MAC with key %s through AF_ALG: %m", e->key_id);
        }
        return 0;
}

int key_material_mac(KeyMaterial *km, KeyEntry *e, const struct iovec *messages, size_t n, MacCallback cb,
                     void *userdata) {
        KeyVersion *v = key_entry_current(e);
        uint8_t mac[KMS_MAC_SIZE_MAX];
        size_t mac_size;
        int r, fd = -1;

        if (!v)
                return -ENODATA;
        r = km->kernel ? kernel_socket(km, e, v, &fd) : key_engine(km, e, v);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (km->kernel) {
                        mac_size = key_spec_mac_size(e->spec);
                        r = kernel_mac(km, e, v, fd, messages[i].iov_base, messages[i].iov_len, mac);
                } else
                        r = mac_engine_compute(km->mac, e->spec, messages[i].iov_base, messages[i].iov_len, mac,
                                               &mac_size);
                if (r >= 0)
                        r = cb(mac, mac_size, userdata);
        }
        if (!km->kernel)
                (void) mac_engine_forget(km->mac, e->spec);
        secure_wipe(mac, sizeof mac);
        return r < 0 ? r : 0;
}

int key_material_verify(KeyMaterial *km, KeyEntry *e, KeyVersion *v, const void *message, size_t n,
                        const void *mac, size_t mac_size) {
        uint8_t computed[KMS_MAC_SIZE_MAX];
        size_t size = key_spec_mac_size(e->spec);
        int r, fd;

        if (!km->kernel) {
                r = key_engine(km, e, v);
                if (r < 0)
                        return r;
                r = mac_engine_verify(km->mac, e->spec, message, n, mac, mac_size);
                (void) mac_engine_forget(km->mac, e->spec);
                return r;
        }

        r = kernel_socket(km, e, v, &fd);
        if (r >= 0)
                r = kernel_mac(km, e, v, fd, message, n, computed);
        /* The length is public (it follows from the spec); the bytes are compared in constant time. */
        if (r >= 0)
                r = mac_size == size && CRYPTO_memcmp(computed, mac, size) == 0;
        secure_wipe(computed, sizeof computed);
        return r;
}

key_serial_t key_material_forget(KeyMaterial *km, KeyEntry *e) {
        key_serial_t serial = 0;

        for (size_t i = 0; i < e->n_versions; i++) {
                key_serial_t k = key_material_forget_version(km, e->versions[i]);
                if (k != 0)
                        serial = k;
        }
        return serial;
}

key_serial_t key_material_forget_version(KeyMaterial *km, KeyVersion *v) {
        return km->cache ? key_cache_drop(km->cache, v) : 0;
}

const char *key_material_backend(const KeyMaterial *km) {
        return km->kernel ? "keyring-logon+af_alg" : mac_engine_backend(km->mac);
}

key_serial_t key_material_kek_serial(const KeyMaterial *km) {
        return km->kek;
}

key_serial_t key_material_cache_keyring(const KeyMaterial *km) {
        return km->cache ? km->cache->keyring : 0;
}

size_t key_material_cache_size(const KeyMaterial *km) {
        return km->cache ? km->cache->max_slots : 0;
}

void key_material_cache_counters(const KeyMaterial *km, uint64_t *ret_hits, uint64_t *ret_misses,
                                 uint64_t *ret_evictions) {
        *ret_hits = km && km->cache ? km->cache->hits : 0;
        *ret_misses = km && km->cache ? km->cache->misses : 0;
        *ret_evictions = km && km->cache ? km->cache->evictions : 0;
}

int key_material_id_generate(char ret[static KMS_KEY_MATERIAL_ID_LENGTH + 1]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t b[KMS_KEY_MATERIAL_ID_LENGTH / 2];

        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return negative_errno();
        for (size_t i = 0; i < sizeof b; i++) {
                ret[2 * i] = hex[b[i] >> 4];
                ret[2 * i + 1] = hex[b[i] & 15];
        }
        ret[KMS_KEY_MATERIAL_ID_LENGTH] = 0;
        return 0;
}
