/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key service: its state, its start-up (store, KEK, index), the deletion timer, and the
 * operations on a key's life (creation, states, deletion, descriptions, MACs). Aliases, tags and
 * imported material are in kms-names.c and kms-import.c; the rule they all keep is in kms-service.h. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keyring.h"
#include "kms-service.h"
#include "kms-internal.h"
#include "log.h"
#include "macro.h"

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

int kms_fault(KmsService *s, KmsFault where) {
        return s->fault == where ? -EIO : 0;
}

int kms_service_new(sd_event *event, KmsService **ret) {
        KmsService *s;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->usec_per_day = UINT64_C(86400) * 1000000;
        kms_service_set_quotas(s, &(KmsQuotas) {});
        r = key_index_init(&s->index);
        if (r >= 0)
                r = key_material_new(&s->material);
        if (r >= 0) {
                r = import_table_new(&s->imports);
                if (r < 0)
                        log_error_errno(r, "Failed to set up key import: %m");
        }
        if (r < 0) {
                kms_service_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

KmsService *kms_service_free(KmsService *s) {
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->deletion_timer);
        sd_event_source_disable_unref(s->import_worker);
        sd_event_unref(s->event);
        key_material_free(s->material);
        store_free(s->store);
        alias_index_done(&s->aliases);
        key_index_done(&s->index);
        import_table_free(s->imports);
        free(s);
        return NULL;
}

/* Names come from /etc/passwd alone: NSS modules would open sockets (nscd, systemd-userdb), which
 * the seccomp filter forbids. A user known only to another NSS source has no name here. */
const char *kms_user_name(KmsService *s, uid_t uid) {
        struct passwd *pw;
        const char *name = "";
        size_t i;
        FILE *f;

        for (i = 0; i < s->n_user_names; i++)
                if (s->user_names[i].uid == uid)
                        return s->user_names[i].name;

        f = fopen("/etc/passwd", "re");
        if (!f)
                return "";
        while ((pw = fgetpwent(f)))
                if (pw->pw_uid == uid) {
                        name = pw->pw_name;
                        break;
                }
        i = s->n_user_names < ELEMENTSOF(s->user_names) ? s->n_user_names++ : uid % ELEMENTSOF(s->user_names);
        s->user_names[i].uid = uid;
        snprintf(s->user_names[i].name, sizeof s->user_names[i].name, "%s", strlen(name) < 64 ? name : "");
        fclose(f);
        return s->user_names[i].name;
}

const char *kms_key_arn(const KmsService *s, const KeyEntry *e, char *buf, size_t size) {
        (void) key_arn_format(buf, size, s->machine_id, e->key_id);
        return buf;
}

int kms_fail_key(KmsService *s, KmsFailure *f, KmsCondition c, const KeyEntry *e) {
        kms_key_arn(s, e, f->arn, sizeof f->arn);
        return kms_fail(f, c);
}

/* ---- start-up ---- */

static int load_one_key(KeyEntry *e, void *userdata) {
        KmsService *s = userdata;
        int r = key_index_add(&s->index, e);
        if (r < 0)
                key_entry_free(e);
        return r;
}

static int load_one_material(const char *key_id, KeyVersion *v, void *userdata) {
        KmsService *s = userdata;
        KeyEntry *e = key_index_find(&s->index, key_id);
        int r;

        if (!e) {
                free(v);
                return -EBADMSG;
        }
        r = key_entry_add_version(e, v);
        if (r < 0)
                free(v);
        return r;
}

/* Every key with material has exactly one current material, its newest; at most 25 previous ones. */
static int check_materials(KmsService *s) {
        for (size_t i = 0; i < s->index.n; i++) {
                const KeyEntry *e = s->index.by_seq[i];
                if (e->has_material != (e->n_versions > 0 && e->versions[e->n_versions - 1]->stopped_date == 0))
                        return log_error_errno(EBADMSG, "Key %s has %zu materials and %s current one.", e->key_id,
                                               e->n_versions, e->has_material ? "no" : "a");
                for (size_t j = 0; j + 1 < e->n_versions; j++)
                        if (e->versions[j]->stopped_date == 0)
                                return log_error_errno(EBADMSG, "Key %s has more than one current material.",
                                                       e->key_id);
        }
        return 0;
}

static int load_one_tag(const char *key_id, const char *key, const char *value, void *userdata) {
        KmsService *s = userdata;
        KeyEntry *e = key_index_find(&s->index, key_id);
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
        e->tag_bytes += (uint32_t) (strlen(key) + strlen(value)); /* for the owner's quota */
        return tags[e->n_tags - 1].key && tags[e->n_tags - 1].value ? 0 : -ENOMEM;
}

static int load_one_alias(const char *name, const char *key_id, uint64_t created, uint64_t updated, void *userdata) {
        KmsService *s = userdata;
        KeyEntry *e = key_index_find(&s->index, key_id);
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
        r = alias_index_add(&s->aliases, a);
        if (r < 0)
                free(a);
        return r;
}

/* A new store is made whole under another name (schema, format, the KEK check) and then renamed
 * into place: a first start cut short leaves no store, or a complete one, never a store that
 * would refuse the next start. */
static int create_store(KmsService *s, const char *path) {
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

        r = store_open(tmp, true, &s->store, &reason);
        if (r < 0)
                return log_error_errno(r, "Failed to create the store %s: %s", tmp, reason);
        r = key_material_check_kek(s->material, s->store, true);
        s->store = store_free(s->store); /* checkpoints and removes the write-ahead log */
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

int kms_service_load(KmsService *s, const KmsServiceConfig *config) {
        char path[PATH_MAX];
        const char *kek_source = NULL, *reason = NULL;
        struct stat st;
        bool new_store;
        int r;

        machine_id_read(NULL, s->machine_id);

        if (mkdir(config->state_dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create state directory %s: %m", config->state_dir);
        if (snprintf(path, sizeof path, "%s/%s", config->state_dir, STORE_FILE_NAME) >= (int) sizeof path)
                return log_error_errno(ENAMETOOLONG, "State directory path too long: %s", config->state_dir);
        new_store = stat(path, &st) < 0 && errno == ENOENT;

        /* A private session keyring: keys in it are possessed by this process alone. */
        r = keyring_join_private_session();
        if (r < 0)
                return log_error_errno(r, "Failed to join a private session keyring: %m");
        r = key_material_set_engine(s->material, config->engine);
        if (r < 0)
                return r;

        r = key_material_load_kek(s->material, config->kek_file, config->state_dir, new_store, &kek_source);
        if (r == -ENOENT && !new_store)
                return log_error_errno(r, "The store %s exists but its key-encryption key %s is missing.", path,
                                       kek_source);
        if (r == -EBADMSG)
                return log_error_errno(r, "The key-encryption key %s is not 32 bytes long.", kek_source);
        if (r == -EPERM)
                return log_error_errno(r, "The key-encryption key %s may be read or changed by others than this "
                                       "service's user; it must be a 0600 file of that user (or root).",
                                       kek_source);
        if (r < 0)
                return log_error_errno(r, "Failed to load the key-encryption key %s: %m", kek_source);

        if (new_store) {
                r = create_store(s, path);
                if (r < 0)
                        return r;
        }

        r = store_open(path, false, &s->store, &reason);
        if (r < 0)
                return log_error_errno(r, "Failed to open the store %s: %s", path, reason);

        r = key_material_check_kek(s->material, s->store, false);
        if (r == -EBADMSG)
                return log_error_errno(r, "The key-encryption key %s does not open the store %s.", kek_source, path);
        if (r < 0)
                return log_error_errno(r, "Failed to check the key-encryption key against the store: %m");

        r = store_upgrade(s->store, false);
        if (r < 0)
                return log_error_errno(r, "Failed to upgrade the store %s to format %d (it was left as it was): %m",
                                       path, STORE_FORMAT);
        if (r > 0)
                log_notice("Upgraded the store %s to format %d: each key's material is its initial key material.",
                           path, STORE_FORMAT);

        kms_service_set_quotas(s, &config->quotas);
        r = store_load_keys(s->store, load_one_key, s);
        if (r >= 0)
                r = store_load_materials(s->store, load_one_material, s);
        if (r >= 0)
                r = check_materials(s);
        if (r >= 0)
                r = store_load_tags(s->store, load_one_tag, s);
        if (r >= 0)
                r = store_load_aliases(s->store, load_one_alias, s);
        if (r < 0)
                return log_error_errno(r, "Failed to read the keys of the store %s: %m", path);

        if (config->test_only_seconds_per_day > 0) {
                s->usec_per_day = config->test_only_seconds_per_day * 1000000;
                log_warning("TEST ONLY: a day of a deletion window, rotation period or verify window lasts %" PRIu64
                            " seconds.",
                            config->test_only_seconds_per_day);
        }

        r = key_material_attach(s->material, s->store,
                                config->cache_max > 0 ? config->cache_max : key_cache_default_max());
        if (r < 0)
                return log_error_errno(r, "Failed to create the keyring cache: %m");

        log_info("Loaded %zu keys from %s; keyring cache of %zu keys; engine %s%s.", s->index.n, path,
                 key_material_cache_size(s->material), key_material_backend(s->material),
                 key_material_engine_note(s->material));
        /* Serials are not secrets; tests use them to show that nobody else can read these keys. */
        log_info("KEK is key %" PRIi32 ", key cache is keyring %" PRIi32 ".", key_material_kek_serial(s->material),
                 key_material_cache_keyring(s->material));
        return 0;
}

/* ---- the deletion timer ---- */

static int on_deletion_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        return kms_service_purge(userdata);
}

/* (Re-)arms the timer for the earliest deletion date, ValidTo, automatic rotation or end of a verify
 * window. Called after every change of them; a failure here is logged and leaves the committed change
 * in place (the next start purges). */
int kms_arm_timer(KmsService *s) {
        uint64_t next = UINT64_MAX;
        int r;

        r = kms_fault(s, KMS_FAULT_AFTER_COMMIT);
        if (r < 0)
                return log_warning_errno(r, "Failed to arm the deletion timer (fault injected): %m");
        for (size_t i = 0; i < s->index.n; i++) {
                const KeyEntry *e = s->index.by_seq[i];
                if (e->state == KEY_STATE_PENDING_DELETION && e->deletion_date < next)
                        next = e->deletion_date;
                if (e->has_material && e->valid_to > 0 && e->valid_to < next)
                        next = e->valid_to;
                next = MIN(next, kms_rotation_next_event(s, e));
        }
        if (!s->event)
                return 0;
        if (next == UINT64_MAX)
                return s->deletion_timer ? sd_event_source_set_enabled(s->deletion_timer, SD_EVENT_OFF) : 0;
        if (!s->deletion_timer) {
                r = sd_event_add_time(s->event, &s->deletion_timer, CLOCK_REALTIME, next, 0, on_deletion_timer, s);
                if (r < 0)
                        return log_error_errno(r, "Failed to add the deletion timer: %m");
                return 0;
        }
        r = sd_event_source_set_time(s->deletion_timer, next);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->deletion_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the deletion timer: %m");
        return 0;
}

int kms_destroy_key(KmsService *s, KeyEntry *e) {
        char key_id[KEY_ID_LEN + 1];
        key_serial_t serial;
        int r;

        /* The store first: if that fails, the key stays whole and is tried again later. */
        r = store_delete_key(s->store, e->key_id);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to delete key %s from the store: %m", e->key_id);

        serial = key_material_forget(s->material, e);
        for (size_t i = s->aliases.n; i > 0; i--)
                if (s->aliases.v[i - 1]->key == e)
                        alias_index_remove(&s->aliases, s->aliases.v[i - 1]);
        strcpy(key_id, e->key_id);
        key_index_remove(&s->index, e);
        log_struct_id(LOG_NOTICE, HMACD_MESSAGE_KEY_DELETED,
                      "Deleted key %s at the end of its deletion window (keyring entry %" PRIi32 " invalidated).",
                      key_id, serial);
        return 0;
}

int kms_service_purge(KmsService *s) {
        uint64_t now = now_usec();

        for (size_t i = s->index.n; i > 0; i--) {
                KeyEntry *e = s->index.by_seq[i - 1];
                if (e->state == KEY_STATE_PENDING_DELETION && e->deletion_date <= now) {
                        (void) kms_destroy_key(s, e);
                        continue;
                }
                if (e->has_material && e->valid_to > 0 && e->valid_to <= now && kms_remove_material(s, e) >= 0)
                        log_struct_id(LOG_NOTICE, HMACD_MESSAGE_MATERIAL_EXPIRED,
                                      "The imported material of key %s expired and was deleted.", e->key_id);
                kms_rotation_purge(s, e, now);
        }
        import_table_expire(s->imports, now);
        return kms_arm_timer(s);
}

/* ---- resolving references ---- */

int kms_resolve_key(KmsService *s, const char *input, bool any_form, KmsFailure *f, KeyEntry **ret) {
        KeyEntry *e = NULL;
        KeyRef ref;
        size_t n = strlen(input);
        int r;

        r = kms_check_length(f, "keyId", n, 1, KMS_KEY_ID_INPUT_MAX);
        if (r != 0)
                return r;
        if (key_ref_parse(input, s->machine_id, &ref) < 0 ||
            (!any_form && (ref.type == KEY_REF_ALIAS_NAME || ref.type == KEY_REF_ALIAS_ARN)))
                return kms_fail_value(f, KMS_COND_KEY_ID_INVALID, input);

        switch (ref.type) {
        case KEY_REF_KEY_ID:
        case KEY_REF_KEY_ARN:
                if (!ref.foreign)
                        e = key_index_find(&s->index, ref.key_id);
                if (!e) {
                        if (ref.type == KEY_REF_KEY_ARN)
                                snprintf(f->arn, sizeof f->arn, "%s", input);
                        else
                                key_arn_format(f->arn, sizeof f->arn, s->machine_id, ref.key_id);
                        return kms_fail(f, KMS_COND_KEY_NOT_FOUND);
                }
                break;
        case KEY_REF_ALIAS_NAME:
        case KEY_REF_ALIAS_ARN: {
                Alias *a = ref.foreign ? NULL : alias_index_find(&s->aliases, ref.alias);
                if (!a) {
                        if (ref.type == KEY_REF_ALIAS_ARN)
                                snprintf(f->arn, sizeof f->arn, "%s", input);
                        else
                                alias_arn_format(f->arn, sizeof f->arn, s->machine_id, ref.alias);
                        return kms_fail(f, KMS_COND_ALIAS_NOT_FOUND);
                }
                e = a->key;
                break;
        }
        default:
                return kms_fail_value(f, KMS_COND_KEY_ID_INVALID, input);
        }
        *ret = e;
        return 0;
}

int kms_resolve_alias(KmsService *s, const char *name, KmsFailure *f, Alias **ret) {
        Alias *a = alias_index_find(&s->aliases, name);
        if (!a) {
                alias_arn_format(f->arn, sizeof f->arn, s->machine_id, name);
                return kms_fail(f, KMS_COND_ALIAS_NOT_FOUND);
        }
        *ret = a;
        return 0;
}

int kms_check_state(KmsService *s, KmsOperation op, const KeyEntry *e, KmsFailure *f) {
        KmsCondition c = key_state_check(op, e->state);
        return c == KMS_COND_OK ? 0 : kms_fail_key(s, f, c, e);
}

/* ---- keys ---- */

void kms_service_set_quotas(KmsService *s, const KmsQuotas *q) {
        s->quotas = (KmsQuotas) {
                .max_keys = q->max_keys ?: KMS_MAX_KEYS_DEFAULT,
                .max_keys_per_user = q->max_keys_per_user ?: KMS_MAX_KEYS_PER_USER_DEFAULT,
                .max_bytes_per_user = q->max_bytes_per_user ?: KMS_MAX_BYTES_PER_USER_DEFAULT,
        };
}

/* One pass over the index: cheap next to the store's synced commit that every change makes. */
int kms_check_quota(KmsService *s, uid_t owner, size_t added, uint64_t add_bytes, uint64_t removed_bytes,
                    KmsFailure *f) {
        size_t n = 0;
        uint64_t bytes = 0;

        if (added > 0 && s->index.n + added > s->quotas.max_keys) {
                f->max = s->quotas.max_keys;
                return kms_fail(f, KMS_COND_KEYS_TOTAL);
        }
        if (owner == 0 || owner == geteuid())
                return 0;
        for (size_t i = 0; i < s->index.n; i++) {
                const KeyEntry *e = s->index.by_seq[i];
                if (e->owner_uid == owner) {
                        n++;
                        bytes += e->description_size + e->tag_bytes;
                }
        }
        if (added > 0 && n + added > s->quotas.max_keys_per_user) {
                f->max = s->quotas.max_keys_per_user;
                return kms_fail(f, KMS_COND_KEYS_PER_USER);
        }
        bytes = bytes - MIN(bytes, removed_bytes) + add_bytes;
        if (add_bytes > removed_bytes && bytes > s->quotas.max_bytes_per_user) {
                f->number = bytes;
                f->max = s->quotas.max_bytes_per_user;
                return kms_fail(f, KMS_COND_BYTES_PER_USER);
        }
        return 0;
}

int kms_create_key(KmsService *s, uid_t owner, KeySpec spec, KeyOrigin origin, uint32_t mac_verify_window,
                   const char *description, const KeyTag *tags, size_t n_tags, KmsFailure *f, KeyEntry **ret) {
        _cleanup_(key_entry_freep) KeyEntry *e = NULL;
        uint8_t sealed[STORE_SEALED_MAX];
        size_t sealed_size = 0;
        KeyTag *copy = NULL;
        int r;

        uint64_t bytes = strlen(description);

        for (size_t i = 0; i < n_tags; i++)
                bytes += strlen(tags[i].key) + strlen(tags[i].value);
        r = kms_check_quota(s, owner, 1, bytes, 0, f);
        if (r != 0)
                return r;

        /* Everything that can fail, in memory: the entry, its tags, its material, room in the index. */
        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        r = key_id_generate(e->key_id);
        if (r < 0)
                return r;
        e->spec = spec;
        e->origin = origin;
        e->state = origin == KEY_ORIGIN_EXTERNAL ? KEY_STATE_PENDING_IMPORT : KEY_STATE_ENABLED;
        e->owner_uid = owner;
        e->creation_date = now_usec();
        e->has_material = origin == KEY_ORIGIN_HMACD;
        e->description_size = (uint32_t) strlen(description);
        e->mac_verify_window = mac_verify_window;
        r = key_tags_copy(tags, n_tags, &copy);
        if (r < 0)
                return r;
        key_entry_replace_tags(e, copy, n_tags);
        if (origin == KEY_ORIGIN_HMACD) {
                KeyVersion *v;
                r = kms_new_version(s, e, ROTATION_INITIAL, 0, &v, sealed, &sealed_size);
                if (r < 0)
                        return r;
                r = key_entry_add_version(e, v);
                assert(r >= 0); /* room was reserved */
        }
        r = key_index_reserve(&s->index, 1);
        if (r < 0)
                return r;

        /* Committed (and synced) before the reply: an acknowledged key survives a crash. */
        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_insert_key(s->store, e, description, e->tags, e->n_tags,
                                     sealed_size > 0 ? sealed : NULL, sealed_size);
        secure_wipe(sealed, sizeof sealed);
        if (r < 0)
                return log_error_errno(r, "Failed to store new key %s: %m", e->key_id);

        r = key_index_add(&s->index, e);
        assert(r >= 0); /* room was reserved */
        *ret = TAKE_PTR(e);
        return 0;
}

/* The state change of e, store first. */
static int set_state(KmsService *s, KeyEntry *e, KeyState state, uint64_t deletion_date) {
        int r;

        if (e->state == state && e->deletion_date == deletion_date)
                return 0;
        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_set_state(s->store, e->key_id, state, deletion_date);
        if (r < 0)
                return r;
        key_entry_set_state(e, state, deletion_date);
        (void) kms_arm_timer(s);
        return 0;
}

int kms_set_enabled(KmsService *s, KeyEntry *e, bool enabled, KmsFailure *f) {
        int r = kms_check_state(s, enabled ? KMS_OP_ENABLE_KEY : KMS_OP_DISABLE_KEY, e, f);
        if (r != 0)
                return r;
        return set_state(s, e, enabled ? KEY_STATE_ENABLED : KEY_STATE_DISABLED, 0);
}

int kms_schedule_deletion(KmsService *s, KeyEntry *e, uint32_t days, KmsFailure *f) {
        int r = kms_check_state(s, KMS_OP_SCHEDULE_KEY_DELETION, e, f);
        if (r != 0)
                return r;
        return set_state(s, e, KEY_STATE_PENDING_DELETION, now_usec() + days * s->usec_per_day);
}

int kms_cancel_deletion(KmsService *s, KeyEntry *e, KmsFailure *f) {
        int r = kms_check_state(s, KMS_OP_CANCEL_KEY_DELETION, e, f);
        if (r != 0)
                return r;
        /* As AWS: the key comes back Disabled; a key still waiting for its material comes back
         * PendingImport, since it has nothing to be enabled with. */
        return set_state(s, e, e->has_material ? KEY_STATE_DISABLED : KEY_STATE_PENDING_IMPORT, 0);
}

int kms_update_description(KmsService *s, KeyEntry *e, const char *description, KmsFailure *f) {
        int r = kms_check_state(s, KMS_OP_UPDATE_KEY_DESCRIPTION, e, f);
        if (r != 0)
                return r;
        r = kms_check_quota(s, e->owner_uid, 0, strlen(description), e->description_size, f);
        if (r != 0)
                return r;
        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_set_description(s->store, e->key_id, description);
        if (r >= 0)
                e->description_size = (uint32_t) strlen(description);
        return r;
}

/* ---- MACs ---- */

static int check_mac_key(KmsService *s, KmsOperation op, const KeyEntry *e, KeySpec alg, KmsFailure *f) {
        int r = kms_check_state(s, op, e, f);
        if (r != 0)
                return r;
        if (alg != e->spec) {
                f->name = key_spec_to_string(e->spec);
                return kms_fail_value(f, KMS_COND_ALGORITHM_INCOMPATIBLE, key_spec_mac_algorithm(alg));
        }
        return 0;
}

int kms_generate_macs(KmsService *s, KmsOperation op, KeyEntry *e, KeySpec alg, const struct iovec *messages,
                      size_t n, MacCallback cb, void *userdata, KmsFailure *f) {
        int r = check_mac_key(s, op, e, alg, f);
        if (r != 0)
                return r;
        return key_material_mac(s->material, e, messages, n, cb, userdata);
}

/* The current material first, then the previous ones, newest first, each still in its verify window
 * (the timer may not have destroyed one whose window just ended). Each comparison is constant-time. */
static int verify_one(KmsService *s, KeyEntry *e, const void *message, size_t n, const void *mac, size_t mac_size,
                      uint64_t now) {
        for (size_t i = e->n_versions; i > 0; i--) {
                KeyVersion *v = e->versions[i - 1];
                int r;

                if (!kms_version_verifies(s, e, v, now))
                        continue;
                r = key_material_verify(s->material, e, v, message, n, mac, mac_size);
                if (r != 0)
                        return r;
        }
        return 0;
}

int kms_verify_mac(KmsService *s, KeyEntry *e, KeySpec alg, const void *message, size_t n, const void *mac,
                   size_t mac_size, KmsFailure *f) {
        int r = check_mac_key(s, KMS_OP_VERIFY_MAC, e, alg, f);
        if (r != 0)
                return r;
        r = verify_one(s, e, message, n, mac, mac_size, now_usec());
        if (r < 0)
                return r;
        return r == 0 ? kms_fail(f, KMS_COND_INVALID_MAC) : 0;
}

int kms_verify_macs(KmsService *s, KeyEntry *e, KeySpec alg, const struct iovec *messages,
                    const struct iovec *macs, size_t n, bool *ret_valid, KmsFailure *f) {
        uint64_t now = now_usec();
        int r = check_mac_key(s, KMS_OP_VERIFY_MAC_BATCH, e, alg, f);
        if (r != 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = verify_one(s, e, messages[i].iov_base, messages[i].iov_len, macs[i].iov_base, macs[i].iov_len,
                               now);
                if (r < 0)
                        return r;
                ret_valid[i] = r > 0;
        }
        return 0;
}

int kms_describe_key(KmsService *s, const KeyEntry *e, KmsKeyMetadata *ret) {
        int r;

        *ret = (KmsKeyMetadata) { .owner = kms_user_name(s, e->owner_uid), .enabled = e->state == KEY_STATE_ENABLED };
        kms_key_arn(s, e, ret->arn, sizeof ret->arn);
        r = store_get_description(s->store, e->key_id, &ret->description);
        if (r < 0)
                return r;
        if (e->state == KEY_STATE_PENDING_DELETION)
                ret->deletion_date = e->deletion_date;
        if (key_entry_current(e))
                strcpy(ret->current_material_id, key_entry_current(e)->id);
        ret->mac_verify_window = e->mac_verify_window;
        if (e->origin == KEY_ORIGIN_EXTERNAL && e->has_material) {
                ret->expiration_model = e->valid_to > 0 ? "KEY_MATERIAL_EXPIRES" : "KEY_MATERIAL_DOES_NOT_EXPIRE";
                ret->valid_to = e->valid_to;
        }
        return 0;
}

void kms_key_metadata_done(KmsKeyMetadata *m) {
        free(m->description);
        m->description = NULL;
}
