/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Start-up and the key-material path of the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus-kms.h"
#include "kek.h"
#include "manager.h"
#include "seccomp.h"

#define KEK_CHECK_NAME "kek_check"
static const char kek_check_aad[] = "hmacd kek check";

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* Names come from /etc/passwd alone: NSS modules would open sockets (nscd, systemd-userdb), which
 * the seccomp filter forbids. A user known only to another NSS source has no name here. */
const char *manager_user_name(Manager *m, uid_t uid) {
        struct passwd *pw;
        const char *name = "";
        size_t i;
        FILE *f;

        for (i = 0; i < m->n_user_names; i++)
                if (m->user_names[i].uid == uid)
                        return m->user_names[i].name;

        f = fopen("/etc/passwd", "re");
        if (!f)
                return "";
        while ((pw = fgetpwent(f)))
                if (pw->pw_uid == uid) {
                        name = pw->pw_name;
                        break;
                }
        i = m->n_user_names < ELEMENTSOF(m->user_names) ? m->n_user_names++ : uid % ELEMENTSOF(m->user_names);
        m->user_names[i].uid = uid;
        snprintf(m->user_names[i].name, sizeof m->user_names[i].name, "%s", strlen(name) < 64 ? name : "");
        fclose(f);
        return m->user_names[i].name;
}

int key_aad(const KeyEntry *e, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/%s", e->key_id, key_spec_to_string(e->spec));
        return n < 0 || (size_t) n >= size ? -ENOBUFS : n;
}

int manager_new(Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->self_uid = geteuid();
        m->usec_per_day = UINT64_C(86400) * 1000000;
        r = key_index_init(&m->index);
        if (r < 0)
                return r;
        r = secure_buffer_new(SECRET_SIZE, &m->secret);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate locked memory for key material: %m");
        r = import_table_new(&m->imports);
        if (r < 0)
                return log_error_errno(r, "Failed to set up key import: %m");
        r = mac_engine_new(&m->mac);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the OpenSSL HMAC engine: %m");
        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        polkit_free(m->polkit);
        caller_cache_free(m->callers);
        sd_bus_flush_close_unref(m->bus);
        sd_event_source_unref(m->deletion_timer);
        sd_event_unref(m->event);
        key_cache_free(m->cache);
        if (m->kek > 0)
                keyctl_invalidate(m->kek);
        store_free(m->store);
        alias_index_done(&m->aliases);
        key_index_done(&m->index);
        mac_engine_free(m->mac);
        import_table_free(m->imports);
        secure_buffer_free(m->secret);
        free(m);
        return NULL;
}

void manager_freep(Manager **m) {
        manager_free(*m);
}

static int manager_check_kek(Manager *m, bool new_store) {
        uint8_t *kek = m->secret->data + SECRET_KEK_OFFSET, *plain = m->secret->data + SECRET_KEY_OFFSET;
        uint8_t blob[KEK_SIZE + SEAL_OVERHEAD];
        size_t n, pn;
        int r;

        r = kek_read(m->kek, kek);
        if (r < 0)
                return r;

        r = store_meta_get(m->store, KEK_CHECK_NAME, blob, sizeof blob, &n);
        if (r == -ENOENT && new_store) {
                /* A known plaintext sealed under the KEK tells at the next start whether the KEK fits. */
                memset(plain, 0, KEK_SIZE);
                r = seal(kek, kek_check_aad, sizeof kek_check_aad, plain, KEK_SIZE, blob, &n);
                if (r >= 0)
                        r = store_meta_set(m->store, KEK_CHECK_NAME, blob, n);
        } else if (r >= 0)
                r = unseal(kek, kek_check_aad, sizeof kek_check_aad, blob, n, plain, &pn);
        else if (r == -ENOENT)
                r = -EBADMSG;

        secure_wipe(m->secret->data, SECRET_SIZE);
        return r;
}

static int load_one_key(KeyEntry *e, void *userdata) {
        Manager *m = userdata;
        int r = key_index_add(&m->index, e);
        if (r < 0)
                key_entry_free(e);
        return r;
}

static int load_one_tag(const char *key_id, const char *key, const char *value, void *userdata) {
        Manager *m = userdata;
        KeyEntry *e = key_index_find(&m->index, key_id);
        KeyTag *tags;

        if (!e)
                return -EBADMSG;
        /* Tags arrive sorted by key for each key; append. */
        tags = realloc(e->tags, (e->n_tags + 1) * sizeof *tags);
        if (!tags)
                return -ENOMEM;
        e->tags = tags;
        tags[e->n_tags] = (KeyTag) { strdup(key), strdup(value) };
        e->n_tags++;
        return tags[e->n_tags - 1].key && tags[e->n_tags - 1].value ? 0 : -ENOMEM;
}

static int load_one_alias(const char *name, const char *key_id, uint64_t created, uint64_t updated, void *userdata) {
        Manager *m = userdata;
        KeyEntry *e = key_index_find(&m->index, key_id);
        Alias *a;
        int r;

        if (!e || alias_name_check(name) != ALIAS_NAME_OK)
                return -EBADMSG;
        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        strcpy(a->name, name);
        a->key = e;
        a->creation_date = created;
        a->last_updated_date = updated;
        r = alias_index_add(&m->aliases, a);
        if (r < 0)
                free(a);
        return r;
}

/* A new store is made whole under another name (schema, format, the KEK check) and then renamed
 * into place: a first start cut short leaves no store, or a complete one, never a store that
 * would refuse the next start. */
static int manager_create_store(Manager *m, const char *path) {
        static const char *const suffixes[] = { "", "-wal", "-shm" };
        char tmp[PATH_MAX + 8], dir[PATH_MAX];
        const char *reason = NULL;
        _cleanup_close_ int dfd = -1;
        char *slash;
        int r;

        snprintf(tmp, sizeof tmp, "%s.new", path);
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                char leftover[PATH_MAX + 16];
                snprintf(leftover, sizeof leftover, "%s%s", tmp, suffixes[i]);
                if (unlink(leftover) < 0 && errno != ENOENT)
                        return log_error_errno(errno, "Failed to remove %s, left by an interrupted start: %m", leftover);
        }

        r = store_open(tmp, true, &m->store, &reason);
        if (r < 0)
                return log_error_errno(r, "Failed to create the store %s: %s", tmp, reason);
        r = manager_check_kek(m, true);
        m->store = store_free(m->store); /* checkpoints and removes the write-ahead log */
        if (r < 0)
                return log_error_errno(r, "Failed to initialize the store %s: %m", tmp);

        if (rename(tmp, path) < 0)
                return log_error_errno(errno, "Failed to move %s into place: %m", tmp);
        snprintf(dir, sizeof dir, "%s", path);
        slash = strrchr(dir, '/');
        if (slash)
                *slash = 0;
        dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                return log_error_errno(errno, "Failed to sync the state directory: %m");
        log_info("Created the store %s.", path);
        return 0;
}

int manager_load(Manager *m, const ManagerConfig *config) {
        char path[PATH_MAX];
        const char *kek_source = NULL, *reason = NULL;
        struct stat st;
        bool new_store;
        int r;

        machine_id_read(NULL, m->machine_id);

        if (mkdir(config->state_dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create state directory %s: %m", config->state_dir);
        if (snprintf(path, sizeof path, "%s/%s", config->state_dir, STORE_FILE_NAME) >= (int) sizeof path)
                return log_error_errno(ENAMETOOLONG, "State directory path too long: %s", config->state_dir);
        new_store = stat(path, &st) < 0 && errno == ENOENT;

        /* A private session keyring: keys in it are possessed by this process alone. */
        r = keyring_join_private_session();
        if (r < 0)
                return log_error_errno(r, "Failed to join a private session keyring: %m");

        r = kek_load(config->kek_file, config->state_dir, new_store, &m->kek, &kek_source);
        if (r == -ENOENT && !new_store)
                return log_error_errno(r, "The store %s exists but its key-encryption key %s is missing.", path,
                                       kek_source);
        if (r == -EBADMSG)
                return log_error_errno(r, "The key-encryption key %s is not 32 bytes long.", kek_source);
        if (r < 0)
                return log_error_errno(r, "Failed to load the key-encryption key %s: %m", kek_source);

        if (new_store) {
                r = manager_create_store(m, path);
                if (r < 0)
                        return r;
        }

        r = store_open(path, false, &m->store, &reason);
        if (r < 0)
                return log_error_errno(r, "Failed to open the store %s: %s", path, reason);

        r = manager_check_kek(m, false);
        if (r == -EBADMSG)
                return log_error_errno(r, "The key-encryption key %s does not open the store %s.", kek_source, path);
        if (r < 0)
                return log_error_errno(r, "Failed to check the key-encryption key against the store: %m");

        r = store_load_keys(m->store, load_one_key, m);
        if (r >= 0)
                r = store_load_tags(m->store, load_one_tag, m);
        if (r >= 0)
                r = store_load_aliases(m->store, load_one_alias, m);
        if (r < 0)
                return log_error_errno(r, "Failed to read the keys of the store %s: %m", path);

        if (config->test_only_seconds_per_day > 0) {
                m->usec_per_day = config->test_only_seconds_per_day * 1000000;
                log_warning("TEST ONLY: a day of a deletion window lasts %" PRIu64 " seconds.",
                            config->test_only_seconds_per_day);
        }

        r = key_cache_new(config->cache_max > 0 ? config->cache_max : key_cache_default_max(), &m->cache);
        if (r < 0)
                return log_error_errno(r, "Failed to create the keyring cache: %m");

        log_info("Loaded %zu keys from %s; keyring cache of %zu keys; engine %s.", m->index.n, path,
                 m->cache->max_slots, mac_engine_backend(m->mac));
        /* Serials are not secrets; tests use them to show that nobody else can read these keys. */
        log_info("KEK is key %" PRIi32 ", key cache is keyring %" PRIi32 ".", m->kek, m->cache->keyring);
        return 0;
}

int manager_destroy_key(Manager *m, KeyEntry *e) {
        char key_id[KEY_ID_LEN + 1];
        key_serial_t serial;
        int r;

        /* The store first: if that fails, the key stays whole and is tried again later. */
        r = store_delete_key(m->store, e->key_id);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to delete key %s from the store: %m", e->key_id);

        serial = key_cache_drop(m->cache, e);
        for (size_t i = m->aliases.n; i > 0; i--)
                if (m->aliases.v[i - 1]->key == e)
                        alias_index_remove(&m->aliases, m->aliases.v[i - 1]);
        strcpy(key_id, e->key_id);
        key_index_remove(&m->index, e);
        log_info("Deleted key %s at the end of its deletion window (keyring entry %" PRIi32 " invalidated).", key_id,
                 serial);
        return 0;
}

static int on_deletion_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return manager_purge_expired_keys(userdata);
}

int manager_arm_deletion_timer(Manager *m) {
        uint64_t next = UINT64_MAX;
        int r;

        for (size_t i = 0; i < m->index.n; i++) {
                const KeyEntry *e = m->index.by_seq[i];
                if (e->state == KEY_STATE_PENDING_DELETION && e->deletion_date < next)
                        next = e->deletion_date;
                if (e->has_material && e->valid_to > 0 && e->valid_to < next)
                        next = e->valid_to;
        }
        if (!m->event)
                return 0;
        if (next == UINT64_MAX)
                return m->deletion_timer ? sd_event_source_set_enabled(m->deletion_timer, SD_EVENT_OFF) : 0;
        if (!m->deletion_timer) {
                r = sd_event_add_time(m->event, &m->deletion_timer, CLOCK_REALTIME, next, 0, on_deletion_timer, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to add the deletion timer: %m");
                return 0;
        }
        r = sd_event_source_set_time(m->deletion_timer, next);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->deletion_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the deletion timer: %m");
        return 0;
}

int manager_delete_material(Manager *m, KeyEntry *e) {
        KeyState state = e->state == KEY_STATE_PENDING_DELETION ? e->state : KEY_STATE_PENDING_IMPORT;
        int r;

        r = store_set_material(m->store, e->key_id, NULL, 0, state, 0, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to delete the material of key %s: %m", e->key_id);
        (void) key_cache_drop(m->cache, e);
        e->has_material = false;
        e->valid_to = 0;
        key_entry_set_state(e, state, e->deletion_date);
        return 0;
}

int manager_purge_expired_keys(Manager *m) {
        uint64_t now = now_usec();

        for (size_t i = m->index.n; i > 0; i--) {
                KeyEntry *e = m->index.by_seq[i - 1];
                if (e->state == KEY_STATE_PENDING_DELETION && e->deletion_date <= now)
                        (void) manager_destroy_key(m, e);
                else if (e->has_material && e->valid_to > 0 && e->valid_to <= now &&
                         manager_delete_material(m, e) >= 0)
                        log_info("The imported material of key %s expired and was deleted.", e->key_id);
        }
        import_table_expire(m->imports, now);
        return manager_arm_deletion_timer(m);
}

int manager_material_fingerprint(Manager *m, const KeyEntry *e, const uint8_t *material, size_t n,
                                 uint8_t ret[static STORE_FINGERPRINT_SIZE]) {
        static const char label[] = "hmacd import fingerprint";
        uint8_t *kek = m->secret->data + SECRET_KEK_OFFSET;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA2-256", 0),
                OSSL_PARAM_construct_end(),
        };
        EVP_MAC_CTX *ctx = NULL;
        EVP_MAC *mac;
        size_t out = 0;
        int r;

        r = kek_read(m->kek, kek);
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

int manager_connect_bus(Manager *m, const ManagerConfig *config) {
        int r;

        r = config->user_bus ? sd_bus_open_user(&m->bus) : sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the %s bus: %m", config->user_bus ? "user" : "system");

        r = caller_cache_new(m->bus, &m->callers);
        if (r < 0)
                return log_error_errno(r, "Failed to subscribe to bus name changes: %m");
        r = polkit_new(m->bus, config->polkit_cache_usec, &m->polkit);
        if (r < 0)
                return log_error_errno(r, "Failed to subscribe to polkit's signals: %m");

        r = bus_kms_add_object(m);
        if (r < 0)
                return log_error_errno(r, "Failed to publish the object: %m");

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        /* If the bus goes away, exit non-zero so that the service manager restarts us. */
        r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set exit on disconnect: %m");

        return 0;
}

int manager_run(Manager *m) {
        int r;

        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to install signal handlers: %m");

        /* Everything is open now: from here on, only the calls needed to serve requests. The name is
         * taken only then, so that no request is ever served unconfined. */
        r = seccomp_install();
        if (r < 0)
                return r;
        r = sd_bus_request_name(m->bus, HMACD_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to take the bus name %s: %m", HMACD_BUS_NAME);

        log_info("Serving %s.", HMACD_BUS_NAME);
        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        if (r != 0)
                log_error("Lost the connection to the bus, exiting.");
        return r;
}

int manager_seal_material(Manager *m, const KeyEntry *e, const uint8_t *material, size_t n, uint8_t *out,
                          size_t *ret_size) {
        uint8_t *kek = m->secret->data + SECRET_KEK_OFFSET;
        char aad[KEY_ID_LEN + 32];
        int r, aad_size;

        aad_size = key_aad(e, aad, sizeof aad);
        if (aad_size < 0)
                return aad_size;
        r = kek_read(m->kek, kek);
        if (r >= 0)
                r = seal(kek, aad, (size_t) aad_size, material, n, out, ret_size);
        secure_wipe(kek, KEK_SIZE);
        return r;
}

static int manager_load_material(Manager *m, KeyEntry *e, key_serial_t *ret) {
        uint8_t *kek = m->secret->data + SECRET_KEK_OFFSET, *key = m->secret->data + SECRET_KEY_OFFSET;
        uint8_t sealed[STORE_SEALED_MAX];
        char aad[KEY_ID_LEN + 32];
        size_t sealed_size, n = 0;
        int r, aad_size;

        r = store_get_material(m->store, e->key_id, sealed, sizeof sealed, &sealed_size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the sealed material of key %s: %m", e->key_id);
        aad_size = key_aad(e, aad, sizeof aad);
        if (aad_size < 0)
                return aad_size;

        r = kek_read(m->kek, kek);
        if (r >= 0)
                r = sealed_size - SEAL_OVERHEAD <= KMS_KEY_MATERIAL_MAX
                            ? unseal(kek, aad, (size_t) aad_size, sealed, sealed_size, key, &n)
                            : -EBADMSG;
        secure_wipe(kek, KEK_SIZE);
        if (r < 0) {
                secure_wipe(key, KMS_KEY_MATERIAL_MAX);
                return log_error_errno(r, "Failed to unseal key %s: %m", e->key_id);
        }

        r = key_cache_put(m->cache, e, key, n, ret);
        secure_wipe(key, KMS_KEY_MATERIAL_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to add key %s to the keyring: %m", e->key_id);
        return 0;
}

int manager_key_mac_engine(Manager *m, KeyEntry *e) {
        uint8_t *key = m->secret->data + SECRET_KEY_OFFSET;
        key_serial_t serial;
        size_t n = 0;
        int r;

        serial = key_cache_get(m->cache, e);
        if (serial == 0) {
                r = manager_load_material(m, e, &serial);
                if (r < 0)
                        return r;
        }

        r = keyring_read_secret(serial, key, KMS_KEY_MATERIAL_MAX, &n);
        if (r < 0) {
                /* The kernel may have dropped the key (e.g. someone invalidated it); load it again once. */
                key_cache_drop(m->cache, e);
                r = manager_load_material(m, e, &serial);
                if (r >= 0)
                        r = keyring_read_secret(serial, key, KMS_KEY_MATERIAL_MAX, &n);
        }
        if (r >= 0)
                r = mac_engine_set_key(m->mac, e->spec, key, n);
        secure_wipe(key, KMS_KEY_MATERIAL_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read key %s from the keyring: %m", e->key_id);
        return 0;
}
