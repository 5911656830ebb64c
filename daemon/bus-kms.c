/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io.hmacd.Kms1 interface.
 *
 * Each handler reads and validates its arguments, resolves the key, asks authorize() (which may
 * answer "pending" once polkit is asked asynchronously; the message is then dispatched again and the
 * handler runs from the top), checks the key state and only then changes state and replies. Every
 * failure is one AWS exception, set through call_fail(), which also writes the audit record. */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>

#include "authorize.h"
#include "bus-kms.h"
#include "macro.h"
#include "marker.h"
#include <openssl/crypto.h>

typedef struct Call {
        Manager *manager;
        sd_bus_message *message;
        sd_bus_error *error;
        const char *operation;
        Action action;
        Caller caller;
        const char *key_id;
} Call;

static int call_begin(Call *c, Manager *m, sd_bus_message *message, sd_bus_error *error, const char *operation,
                      Action action) {
        int r;

        *c = (Call) { .manager = m, .message = message, .error = error, .operation = operation, .action = action };
        r = caller_identify(m->callers, message, &c->caller);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to identify the caller: %m");
        return 0;
}

static void call_audit(const Call *c, const char *result) {
        log_audit(&(AuditRecord) {
                .operation = c->operation,
                .key_id = c->key_id,
                .action = action_to_string(c->action),
                .result = result,
                .uid = c->caller.uid,
                .pid = c->caller.pid,
        });
}

_printf_(3, 4) static int call_fail(Call *c, KmsError code, const char *fmt, ...) {
        va_list ap;
        int r;

        call_audit(c, kms_error_to_exception(code));
        va_start(ap, fmt);
        r = sd_bus_error_setfv(c->error, kms_error_to_dbus_name(code), fmt, ap);
        va_end(ap);
        return r;
}

/* Anything that is not the client's fault: KMSInternalException, saying what the system said
 * (e.g. "No space left on device" when the store's file system is full). */
static int call_fail_errno(Call *c, int error) {
        return call_fail(c, KMS_ERROR_INTERNAL, "%s failed: %s.", c->operation, strerror(error < 0 ? -error : error));
}

static const char *key_arn(const Manager *m, const KeyEntry *e, char *buf, size_t size) {
        (void) key_arn_format(buf, size, m->machine_id, e->key_id);
        return buf;
}

/* polkit details, serialized: "key\0value\0key\0value\0...". */
typedef struct Blob {
        char *data;
        size_t size, allocated;
} Blob;

static int blob_put(Blob *b, const char *s) {
        size_t n = strlen(s) + 1;
        if (b->size + n > b->allocated) {
                size_t a = MAX(b->allocated * 2, b->size + n + 256);
                char *p = realloc(b->data, a);
                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->allocated = a;
        }
        memcpy(b->data + b->size, s, n);
        b->size += n;
        return 0;
}

/* Adds a pair; the key is prefix + key. */
static int blob_add(Blob *b, const char *prefix, const char *key, const char *value) {
        int r = 0;
        if (*prefix) {
                r = blob_put(b, prefix);
                b->size--; /* glue the key to its prefix */
        }
        if (r >= 0)
                r = blob_put(b, key);
        if (r >= 0)
                r = blob_put(b, value);
        return r;
}

/* What polkit rules may look at: key_id, key_arn, key_spec, key_state, owner, aliases (comma
 * separated, in name order) and tag.<TagKey> for every tag. Built once and kept on the key until
 * its state, tags or aliases change (key_entry_changed()). */
static int key_details(Manager *m, KeyEntry *e) {
        _cleanup_free_ char *aliases = NULL;
        Blob b = {}, list = {};
        char arn[ARN_MAX];
        int r = 0;

        if (e->details)
                return 0;

        for (size_t i = 0; r >= 0 && e->n_aliases > 0 && i < m->aliases.n; i++)
                if (m->aliases.v[i]->key == e) {
                        if (list.size > 0)
                                list.data[list.size - 1] = ',';
                        r = blob_put(&list, m->aliases.v[i]->name);
                }
        if (r >= 0)
                r = blob_add(&b, "", "key_id", e->key_id);
        if (r >= 0)
                r = blob_add(&b, "", "key_arn", key_arn(m, e, arn, sizeof arn));
        if (r >= 0)
                r = blob_add(&b, "", "key_spec", key_spec_to_string(e->spec));
        if (r >= 0)
                r = blob_add(&b, "", "key_state", key_state_to_string(e->state));
        if (r >= 0)
                r = blob_add(&b, "", "owner", manager_user_name(m, e->owner_uid));
        if (r >= 0)
                r = blob_add(&b, "", "aliases", list.size > 0 ? list.data : "");
        for (size_t i = 0; r >= 0 && i < e->n_tags; i++)
                r = blob_add(&b, "tag.", e->tags[i].key, e->tags[i].value);
        free(list.data);
        if (r < 0) {
                free(b.data);
                return r;
        }
        e->details = b.data;
        e->details_size = b.size;
        return 0;
}

/* Asks authorize(); an answer that needed no question (trusted caller, cached allowance) goes into
 * the operation's own audit record, any other decision gets a record of its own. */
static int call_authorize_details(Call *c, const char *details, size_t details_size) {
        Manager *m = c->manager;
        int r;

        r = authorize(m->polkit, c->message, &c->caller, m->self_uid, c->action, details, details_size, c->error);
        if (r == 2)
                return 1;
        log_audit(&(AuditRecord) {
                .operation = "Authorize",
                .key_id = c->key_id,
                .action = action_to_string(c->action),
                .result = r > 0 ? "allowed" : r == 0 ? "pending" : "denied",
                .uid = c->caller.uid,
                .pid = c->caller.pid,
        });
        if (r < 0)
                call_audit(c, "denied");
        return r;
}

/* Root and the daemon's own user pass at once; everyone else is asked about through polkit, with
 * the key's details. */
static int call_authorize(Call *c, KeyEntry *e) {
        int r;

        if (caller_is_trusted(&c->caller, c->manager->self_uid))
                return 1;
        if (!e)
                return call_authorize_details(c, NULL, 0);
        r = key_details(c->manager, e);
        if (r < 0)
                return call_fail_errno(c, r);
        return call_authorize_details(c, e->details, e->details_size);
}

/* AWS's wording for a failed constraint, e.g. "1 validation error detected: Value at 'message'
 * failed to satisfy constraint: Member must have length less than or equal to 4096". */
static int fail_length(Call *c, const char *field, size_t n, size_t min, size_t max) {
        if (n < min)
                return call_fail(c, KMS_ERROR_VALIDATION,
                                 "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                                 "Member must have length greater than or equal to %zu",
                                 field, min);
        return call_fail(c, KMS_ERROR_VALIDATION,
                         "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                         "Member must have length less than or equal to %zu",
                         field, max);
}

static int check_mac_algorithm(Call *c, const char *alg, KeySpec *ret) {
        KeySpec s = key_spec_from_mac_algorithm(alg);
        if (s < 0)
                return call_fail(c, KMS_ERROR_VALIDATION,
                                 "1 validation error detected: Value '%.64s' at 'macAlgorithm' failed to satisfy "
                                 "constraint: Member must satisfy enum value set: [HMAC_SHA_384, HMAC_SHA_256, "
                                 "HMAC_SHA_224, HMAC_SHA_512]",
                                 alg);
        *ret = s;
        return 0;
}

/* The one place where key identifiers are resolved. any_form: alias names and alias ARNs too. */
static int resolve_key(Call *c, const char *input, bool any_form, KeyEntry **ret) {
        Manager *m = c->manager;
        char arn[ARN_MAX];
        KeyEntry *e = NULL;
        KeyRef ref;
        size_t n = strlen(input);

        if (n == 0 || n > KMS_KEY_ID_INPUT_MAX)
                return fail_length(c, "keyId", n, 1, KMS_KEY_ID_INPUT_MAX);
        if (key_ref_parse(input, m->machine_id, &ref) < 0 ||
            (!any_form && (ref.type == KEY_REF_ALIAS_NAME || ref.type == KEY_REF_ALIAS_ARN)))
                return call_fail(c, KMS_ERROR_NOT_FOUND, "Invalid keyId '%.256s'", input);

        switch (ref.type) {
        case KEY_REF_KEY_ID:
        case KEY_REF_KEY_ARN:
                if (!ref.foreign)
                        e = key_index_find(&m->index, ref.key_id);
                if (!e) {
                        if (ref.type == KEY_REF_KEY_ARN)
                                snprintf(arn, sizeof arn, "%s", input);
                        else
                                key_arn_format(arn, sizeof arn, m->machine_id, ref.key_id);
                        return call_fail(c, KMS_ERROR_NOT_FOUND, "Key '%s' does not exist", arn);
                }
                break;
        case KEY_REF_ALIAS_NAME:
        case KEY_REF_ALIAS_ARN: {
                Alias *a = ref.foreign ? NULL : alias_index_find(&m->aliases, ref.alias);
                if (!a) {
                        if (ref.type == KEY_REF_ALIAS_ARN)
                                snprintf(arn, sizeof arn, "%s", input);
                        else
                                alias_arn_format(arn, sizeof arn, m->machine_id, ref.alias);
                        return call_fail(c, KMS_ERROR_NOT_FOUND, "Alias %s is not found.", arn);
                }
                e = a->key;
                break;
        }
        default:
                return call_fail(c, KMS_ERROR_NOT_FOUND, "Invalid keyId '%.256s'", input);
        }

        c->key_id = e->key_id;
        *ret = e;
        return 0;
}

/* GenerateMac and VerifyMac need an Enabled key. */
static int check_usable(Call *c, const KeyEntry *e) {
        char arn[ARN_MAX];

        switch (e->state) {
        case KEY_STATE_ENABLED:
                return 0;
        case KEY_STATE_DISABLED:
                return call_fail(c, KMS_ERROR_DISABLED, "%s is disabled.", key_arn(c->manager, e, arn, sizeof arn));
        case KEY_STATE_PENDING_DELETION:
                return call_fail(c, KMS_ERROR_INVALID_STATE, "%s is pending deletion.",
                                 key_arn(c->manager, e, arn, sizeof arn));
        case KEY_STATE_PENDING_IMPORT:
                return call_fail(c, KMS_ERROR_INVALID_STATE, "%s is pending import.",
                                 key_arn(c->manager, e, arn, sizeof arn));
        default:
                return call_fail(c, KMS_ERROR_INTERNAL, "%s is in an unknown state.",
                                 key_arn(c->manager, e, arn, sizeof arn));
        }
}

static int check_spec(Call *c, const KeyEntry *e, KeySpec alg) {
        if (alg != e->spec)
                return call_fail(c, KMS_ERROR_INVALID_KEY_USAGE, "Algorithm %s is incompatible with key spec %s.",
                                 key_spec_mac_algorithm(alg), key_spec_to_string(e->spec));
        return 0;
}

static int read_message(Call *c, const void **ret, size_t *ret_size) {
        int r = sd_bus_message_read_array(c->message, 'y', ret, ret_size);
        if (r < 0)
                return r;
        if (*ret_size < 1 || *ret_size > KMS_MESSAGE_MAX)
                return fail_length(c, "message", *ret_size, 1, KMS_MESSAGE_MAX);
        return 0;
}

/* The common part of every MAC call: resolve the key (any of the four forms), authorize, check
 * its state and that the algorithm fits its spec, and key the MAC engine with it. Returns 1 when
 * the engine is ready (the caller must mac_engine_forget() it), 0 when polkit's answer is pending,
 * or a negative errno with the error set. */
static int mac_call_prepare(Call *c, const char *key_id, KeySpec alg, KeyEntry **ret) {
        KeyEntry *e;
        int r;

        r = resolve_key(c, key_id, true, &e);
        if (r < 0)
                return r;
        r = call_authorize(c, e);
        if (r <= 0)
                return r;
        r = check_usable(c, e);
        if (r < 0)
                return r;
        r = check_spec(c, e, alg);
        if (r < 0)
                return r;
        r = manager_key_mac_engine(c->manager, e);
        if (r < 0)
                return call_fail_errno(c, r);
        *ret = e;
        return 1;
}

static int method_generate_mac(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *key_id, *alg_name;
        char arn[ARN_MAX];
        uint8_t mac[KMS_MAC_SIZE_MAX];
        const void *msg;
        size_t msg_size, mac_size;
        KeyEntry *e;
        KeySpec alg = _KEY_SPEC_INVALID;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "GenerateMac", ACTION_GENERATE_MAC);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &key_id);
        if (r >= 0)
                r = read_message(&c, &msg, &msg_size);
        if (r >= 0)
                r = sd_bus_message_read(message, "s", &alg_name);
        if (r < 0)
                return r;
        r = check_mac_algorithm(&c, alg_name, &alg);
        if (r < 0)
                return r;
        r = mac_call_prepare(&c, key_id, alg, &e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        r = mac_engine_compute(m->mac, e->spec, msg, msg_size, mac, &mac_size);
        (void) mac_engine_forget(m->mac, e->spec);
        if (r < 0)
                return call_fail_errno(&c, r);

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_sensitive(reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', mac, mac_size);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", key_arn(m, e, arn, sizeof arn));
        secure_wipe(mac, sizeof mac);
        if (r < 0)
                return call_fail_errno(&c, r);
        call_audit(&c, "ok");
        return sd_bus_send(NULL, reply, NULL);
}

/* GenerateMacBatch: one authorization and one key read for up to 4096 messages; all-or-nothing
 * on validation. The messages are checked before anything is computed. */
static int method_generate_mac_batch(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *key_id, *alg_name;
        struct iovec *batch = m->batch;
        uint8_t mac[KMS_MAC_SIZE_MAX];
        size_t n = 0, mac_size;
        KeyEntry *e;
        KeySpec alg = _KEY_SPEC_INVALID;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "GenerateMacBatch", ACTION_GENERATE_MAC);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &key_id);
        if (r >= 0)
                r = sd_bus_message_enter_container(message, 'a', "ay");
        if (r < 0)
                return r;
        for (;;) {
                const void *p;
                size_t size;

                r = sd_bus_message_read_array(message, 'y', &p, &size);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (n >= KMS_BATCH_MAX)
                        return fail_length(&c, "messages", n + 1, 1, KMS_BATCH_MAX);
                if (size < 1 || size > KMS_MESSAGE_MAX)
                        return fail_length(&c, "messages.member", size, 1, KMS_MESSAGE_MAX);
                batch[n++] = (struct iovec) { (void *) p, size };
        }
        r = sd_bus_message_exit_container(message);
        if (r >= 0)
                r = sd_bus_message_read(message, "s", &alg_name);
        if (r < 0)
                return r;
        if (n == 0)
                return fail_length(&c, "messages", 0, 1, KMS_BATCH_MAX);
        r = check_mac_algorithm(&c, alg_name, &alg);
        if (r < 0)
                return r;
        r = mac_call_prepare(&c, key_id, alg, &e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_sensitive(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "ay");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = mac_engine_compute(m->mac, e->spec, batch[i].iov_base, batch[i].iov_len, mac, &mac_size);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'y', mac, mac_size);
        }
        (void) mac_engine_forget(m->mac, e->spec);
        secure_wipe(mac, sizeof mac);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return call_fail_errno(&c, r);
        call_audit(&c, "ok");
        return sd_bus_send(NULL, reply, NULL);
}

static int method_verify_mac(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *key_id, *alg_name;
        char arn[ARN_MAX];
        const void *msg, *mac;
        size_t msg_size, mac_size;
        KeyEntry *e;
        KeySpec alg = _KEY_SPEC_INVALID;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "VerifyMac", ACTION_VERIFY_MAC);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &key_id);
        if (r >= 0)
                r = read_message(&c, &msg, &msg_size);
        if (r >= 0)
                r = sd_bus_message_read(message, "s", &alg_name);
        if (r >= 0)
                r = sd_bus_message_read_array(message, 'y', &mac, &mac_size);
        if (r < 0)
                return r;
        r = check_mac_algorithm(&c, alg_name, &alg);
        if (r < 0)
                return r;
        if (mac_size < 1 || mac_size > KMS_MAC_MAX)
                return fail_length(&c, "mac", mac_size, 1, KMS_MAC_MAX);
        r = mac_call_prepare(&c, key_id, alg, &e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        r = mac_engine_verify(m->mac, e->spec, msg, msg_size, mac, mac_size);
        (void) mac_engine_forget(m->mac, e->spec);
        if (r < 0)
                return call_fail_errno(&c, r);
        if (r == 0)
                return call_fail(&c, KMS_ERROR_INVALID_MAC, "%s", "");

        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, "bs", true, key_arn(m, e, arn, sizeof arn));
}

static int reply_metadata(Call *c, const KeyEntry *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *description = NULL;
        Manager *m = c->manager;
        char arn[ARN_MAX];
        int r;

        r = store_get_description(m->store, e->key_id, &description);
        if (r < 0)
                return call_fail_errno(c, r);
        key_arn(m, e, arn, sizeof arn);

        r = sd_bus_message_new_method_return(c->message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                          "KeyId", "s", e->key_id,
                                          "Arn", "s", arn,
                                          "CreationDate", "t", e->creation_date,
                                          "Enabled", "b", e->state == KEY_STATE_ENABLED,
                                          "Description", "s", description,
                                          "KeyUsage", "s", "GENERATE_VERIFY_MAC",
                                          "KeyState", "s", key_state_to_string(e->state),
                                          "Origin", "s", key_origin_to_string(e->origin),
                                          "KeyManager", "s", "CUSTOMER",
                                          "KeySpec", "s", key_spec_to_string(e->spec),
                                          "MultiRegion", "b", false,
                                          "OwnerUid", "u", (uint32_t) e->owner_uid,
                                          "Owner", "s", manager_user_name(m, e->owner_uid));
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "MacAlgorithms", "as", 1, key_spec_mac_algorithm(e->spec));
        if (r >= 0 && e->state == KEY_STATE_PENDING_DELETION)
                r = sd_bus_message_append(reply, "{sv}", "DeletionDate", "t", e->deletion_date);
        if (r >= 0 && e->origin == KEY_ORIGIN_EXTERNAL && e->has_material) {
                r = sd_bus_message_append(reply, "{sv}", "ExpirationModel", "s",
                                          e->valid_to > 0 ? "KEY_MATERIAL_EXPIRES" : "KEY_MATERIAL_DOES_NOT_EXPIRE");
                if (r >= 0 && e->valid_to > 0)
                        r = sd_bus_message_append(reply, "{sv}", "ValidTo", "t", e->valid_to);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return call_fail_errno(c, r);

        call_audit(c, "ok");
        return sd_bus_send(NULL, reply, NULL);
}

static int method_describe_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *key_id;
        KeyEntry *e;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "DescribeKey", ACTION_DESCRIBE_KEY);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &key_id);
        if (r < 0)
                return r;
        r = resolve_key(&c, key_id, true, &e);
        if (r < 0)
                return r;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        return reply_metadata(&c, e);
}

/* Validates a description of 0..8192 characters. */
static int check_description(Call *c, const char *d) {
        ssize_t n = utf8_length(d, strlen(d));
        if (n < 0)
                return call_fail(c, KMS_ERROR_VALIDATION, "The description is not valid UTF-8.");
        if ((size_t) n > KMS_DESCRIPTION_MAX)
                return fail_length(c, "description", (size_t) n, 0, KMS_DESCRIPTION_MAX);
        return 0;
}

static int check_tag(Call *c, const char *key, const char *value) {
        ssize_t kn = utf8_length(key, strlen(key)), vn = utf8_length(value, strlen(value));

        if (kn < 0 || vn < 0)
                return call_fail(c, KMS_ERROR_VALIDATION, "Tags must be valid UTF-8.");
        if (kn < 1 || (size_t) kn > KMS_TAG_KEY_MAX)
                return fail_length(c, "tags.member.tagKey", (size_t) kn, 1, KMS_TAG_KEY_MAX);
        if ((size_t) vn > KMS_TAG_VALUE_MAX)
                return fail_length(c, "tags.member.tagValue", (size_t) vn, 0, KMS_TAG_VALUE_MAX);
        if (strncmp(key, "aws:", 4) == 0)
                return call_fail(c, KMS_ERROR_TAG, "Tags beginning with aws: are reserved");
        if (strncmp(key, "hmacd:", 6) == 0)
                return call_fail(c, KMS_ERROR_TAG, "Tags beginning with hmacd: are reserved");
        return 0;
}

static int read_tags(Call *c, StoreTag *tags, size_t *ret_n) {
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(c->message, 'a', "{ss}");
        if (r < 0)
                return r;
        for (;;) {
                const char *k, *v;

                r = sd_bus_message_read(c->message, "{ss}", &k, &v);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (n >= KMS_TAGS_PER_KEY_MAX)
                        return call_fail(c, KMS_ERROR_TAG, "Too many tags");
                r = check_tag(c, k, v);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++)
                        if (streq(tags[i].key, k))
                                return call_fail(c, KMS_ERROR_TAG, "Duplicate tag keys");
                tags[n++] = (StoreTag) { k, v };
        }
        *ret_n = n;
        return sd_bus_message_exit_container(c->message);
}

static int read_create_options(Call *c, KeyOrigin *ret_origin) {
        KeyOrigin origin = KEY_ORIGIN_HMACD;
        int r;

        r = sd_bus_message_enter_container(c->message, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *name, *value;

                r = sd_bus_message_enter_container(c->message, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(c->message, "s", &name);
                if (r < 0)
                        return r;
                if (!streq(name, "Origin"))
                        return call_fail(c, KMS_ERROR_VALIDATION, "Unknown option '%.64s'; the only option is Origin.",
                                         name);
                r = sd_bus_message_enter_container(c->message, 'v', "s");
                if (r < 0)
                        return call_fail(c, KMS_ERROR_VALIDATION, "The Origin option must be a string.");
                r = sd_bus_message_read(c->message, "s", &value);
                if (r < 0)
                        return r;
                origin = key_origin_from_string(value);
                if (origin < 0)
                        return call_fail(c, KMS_ERROR_VALIDATION,
                                         "1 validation error detected: Value '%.64s' at 'origin' failed to satisfy "
                                         "constraint: Member must satisfy enum value set: [HMACD, EXTERNAL]",
                                         value);
                r = sd_bus_message_exit_container(c->message);
                if (r >= 0)
                        r = sd_bus_message_exit_container(c->message);
                if (r < 0)
                        return r;
        }
        *ret_origin = origin;
        return sd_bus_message_exit_container(c->message);
}

static int check_key_spec_and_usage(Call *c, const char *spec_name, const char *usage, KeySpec *ret) {
        static const char *const usages[] = { "ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT" };
        KeySpec spec = key_spec_from_string(spec_name);
        bool known_usage = false;

        if (spec < 0 && *spec_name && !key_spec_is_other_aws_spec(spec_name))
                return call_fail(c, KMS_ERROR_VALIDATION,
                                 "1 validation error detected: Value '%.64s' at 'keySpec' failed to satisfy constraint: "
                                 "Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, "
                                 "ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, ECC_NIST_EDWARDS25519, SYMMETRIC_DEFAULT, "
                                 "HMAC_224, HMAC_256, HMAC_384, HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87]",
                                 spec_name);
        for (size_t i = 0; i < ELEMENTSOF(usages); i++)
                known_usage = known_usage || streq(usages[i], usage);
        if (*usage && !known_usage)
                return call_fail(c, KMS_ERROR_VALIDATION,
                                 "1 validation error detected: Value '%.64s' at 'keyUsage' failed to satisfy constraint: "
                                 "Member must satisfy enum value set: [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC]",
                                 usage);
        if (spec < 0)
                return call_fail(c, KMS_ERROR_UNSUPPORTED_OPERATION,
                                 "KeySpec %s is not supported: hmacd serves HMAC keys only (HMAC_224, HMAC_256, "
                                 "HMAC_384, HMAC_512).",
                                 *spec_name ? spec_name : "SYMMETRIC_DEFAULT");
        if (!*usage)
                return call_fail(c, KMS_ERROR_VALIDATION,
                                 "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.");
        if (!streq(usage, "GENERATE_VERIFY_MAC"))
                return call_fail(c, KMS_ERROR_VALIDATION, "KeyUsage %s is not compatible with KeySpec %s", usage,
                                 spec_name);
        *ret = spec;
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(KeyEntry *, key_entry_free);

static int method_create_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(key_entry_freep) KeyEntry *e = NULL;
        Manager *m = userdata;
        const char *spec_name, *usage, *description;
        uint8_t *material = m->secret->data + SECRET_KEY_OFFSET, sealed[STORE_SEALED_MAX];
        StoreTag tags[KMS_TAGS_PER_KEY_MAX];
        size_t n_tags = 0, sealed_size = 0;
        KeyOrigin origin = _KEY_ORIGIN_INVALID;
        KeySpec spec = _KEY_SPEC_INVALID;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "CreateKey", ACTION_CREATE_KEY);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "sss", &spec_name, &usage, &description);
        if (r < 0)
                return r;
        r = check_key_spec_and_usage(&c, spec_name, usage, &spec);
        if (r < 0)
                return r;
        r = check_description(&c, description);
        if (r < 0)
                return r;
        r = read_tags(&c, tags, &n_tags);
        if (r < 0)
                return r;
        r = read_create_options(&c, &origin);
        if (r < 0)
                return r;
        if (!caller_is_trusted(&c.caller, m->self_uid)) {
                _cleanup_free_ char *details = NULL;
                Blob b = {};
                r = blob_add(&b, "", "key_spec", key_spec_to_string(spec));
                if (r >= 0)
                        r = blob_add(&b, "", "origin", key_origin_to_string(origin));
                details = b.data;
                if (r < 0)
                        return call_fail_errno(&c, r);
                r = call_authorize_details(&c, details, b.size);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 1; /* polkit answers later; the message is dispatched again then */
        }

        e = calloc(1, sizeof *e);
        if (!e)
                return call_fail_errno(&c, -ENOMEM);
        r = key_id_generate(e->key_id);
        if (r < 0)
                return call_fail_errno(&c, r);
        e->spec = spec;
        e->origin = origin;
        e->state = origin == KEY_ORIGIN_EXTERNAL ? KEY_STATE_PENDING_IMPORT : KEY_STATE_ENABLED;
        e->owner_uid = c.caller.uid;
        e->creation_date = now_usec();
        e->cache_slot = -1;
        e->has_material = origin == KEY_ORIGIN_HMACD;
        c.key_id = e->key_id;
        r = key_entry_set_tags(e, (const KeyTag *) tags, n_tags);
        if (r < 0)
                return call_fail_errno(&c, r);

        if (origin == KEY_ORIGIN_HMACD) {
                size_t n = key_spec_key_size(spec);
                if (getrandom(material, n, 0) != (ssize_t) n)
                        r = negative_errno();
                else
                        r = manager_seal_material(m, e, material, n, sealed, &sealed_size);
                secure_wipe(material, n);
                if (r < 0)
                        return call_fail_errno(&c, r);
        }

        /* Committed (and synced) before the reply: an acknowledged key survives a crash. */
        r = store_insert_key(m->store, e, description, tags, n_tags, sealed_size > 0 ? sealed : NULL, sealed_size);
        if (r < 0) {
                log_error_errno(r, "Failed to store new key %s: %m", e->key_id);
                return call_fail(&c, KMS_ERROR_INTERNAL, "The key could not be stored: %s.", strerror(-r));
        }
        r = key_index_add(&m->index, e);
        if (r < 0)
                return call_fail_errno(&c, r);
        return reply_metadata(&c, TAKE_PTR(e));
}

static int method_list_keys(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *marker;
        char next[MARKER_STRING_MAX] = "", arn[ARN_MAX];
        int64_t after = 0;
        uint32_t limit;
        size_t i, end;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "ListKeys", ACTION_LIST_KEYS);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "us", &limit, &marker);
        if (r < 0)
                return r;
        if (limit == 0)
                limit = KMS_LIST_KEYS_LIMIT_DEFAULT;
        if (limit > KMS_LIST_KEYS_LIMIT_MAX)
                return call_fail(&c, KMS_ERROR_VALIDATION,
                                 "1 validation error detected: Value '%" PRIu32 "' at 'limit' failed to satisfy "
                                 "constraint: Member must have value less than or equal to %u",
                                 limit, KMS_LIST_KEYS_LIMIT_MAX);
        if (strlen(marker) > KMS_MARKER_MAX)
                return fail_length(&c, "marker", strlen(marker), 1, KMS_MARKER_MAX);
        if (*marker && marker_decode_seq(marker, &after) < 0)
                return call_fail(&c, KMS_ERROR_INVALID_MARKER, "The marker is not valid: %.64s", marker);
        r = call_authorize(&c, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */

        i = key_index_after(&m->index, after);
        end = MIN(m->index.n, i + limit);
        if (end < m->index.n)
                marker_encode_seq(m->index.by_seq[end - 1]->seq, next, sizeof next);

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (; r >= 0 && i < end; i++) {
                const KeyEntry *e = m->index.by_seq[i];
                r = sd_bus_message_append(reply, "(ss)", e->key_id, key_arn(m, e, arn, sizeof arn));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sb", next, *next != 0);
        if (r < 0)
                return call_fail_errno(&c, r);
        call_audit(&c, "ok");
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- The key lifecycle: states, deletion, descriptions. ---- */

/* Management methods take a key ID or key ARN only, as in AWS. */
static int begin_key_call(Call *c, Manager *m, sd_bus_message *message, sd_bus_error *error, const char *operation,
                          Action action, KeyEntry **ret) {
        const char *key_id;
        int r;

        r = call_begin(c, m, message, error, operation, action);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &key_id);
        if (r < 0)
                return r;
        return resolve_key(c, key_id, false, ret);
}

static int fail_pending_deletion(Call *c, const KeyEntry *e) {
        char arn[ARN_MAX];
        return call_fail(c, KMS_ERROR_INVALID_STATE, "%s is pending deletion.", key_arn(c->manager, e, arn, sizeof arn));
}

static int set_state(Call *c, KeyEntry *e, KeyState state, uint64_t deletion_date) {
        int r;

        if (e->state == state && e->deletion_date == deletion_date)
                return 0;
        r = store_set_state(c->manager->store, e->key_id, state, deletion_date);
        if (r < 0)
                return call_fail_errno(c, r);
        key_entry_set_state(e, state, deletion_date);
        return 0;
}

static int method_enable_disable(sd_bus_message *message, Manager *m, sd_bus_error *error, bool enable) {
        char arn[ARN_MAX];
        KeyEntry *e;
        Call c;
        int r;

        r = begin_key_call(&c, m, message, error, enable ? "EnableKey" : "DisableKey", ACTION_MANAGE_KEY, &e);
        if (r < 0)
                return r;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        if (e->state == KEY_STATE_PENDING_DELETION)
                return fail_pending_deletion(&c, e);
        if (e->state == KEY_STATE_PENDING_IMPORT)
                return call_fail(&c, KMS_ERROR_INVALID_STATE, "%s is pending import.", key_arn(m, e, arn, sizeof arn));
        r = set_state(&c, e, enable ? KEY_STATE_ENABLED : KEY_STATE_DISABLED, 0);
        if (r < 0)
                return r;
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

static int method_enable_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_enable_disable(message, userdata, error, true);
}

static int method_disable_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_enable_disable(message, userdata, error, false);
}

static int method_schedule_key_deletion(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint32_t days;
        KeyEntry *e;
        Call c;
        int r;

        r = begin_key_call(&c, m, message, error, "ScheduleKeyDeletion", ACTION_DELETE_KEY, &e);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "u", &days);
        if (r < 0)
                return r;
        if (days == 0)
                days = 30;
        if (days < 7 || days > 30)
                return call_fail(&c, KMS_ERROR_VALIDATION,
                                 "PendingWindowInDays should be between 7 and 30, but it is %" PRIu32, days);
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        if (e->state == KEY_STATE_PENDING_DELETION)
                return fail_pending_deletion(&c, e);

        r = set_state(&c, e, KEY_STATE_PENDING_DELETION, now_usec() + days * m->usec_per_day);
        if (r < 0)
                return r;
        (void) manager_arm_deletion_timer(m);
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, "tu", e->deletion_date, days);
}

static int method_cancel_key_deletion(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        char arn[ARN_MAX];
        KeyEntry *e;
        Call c;
        int r;

        r = begin_key_call(&c, m, message, error, "CancelKeyDeletion", ACTION_DELETE_KEY, &e);
        if (r < 0)
                return r;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        if (e->state != KEY_STATE_PENDING_DELETION)
                return call_fail(&c, KMS_ERROR_INVALID_STATE, "%s is not pending deletion.",
                                 key_arn(m, e, arn, sizeof arn));
        /* As AWS: the key comes back Disabled; a key still waiting for its material comes back
         * PendingImport, since it has nothing to be enabled with. */
        r = set_state(&c, e, e->has_material ? KEY_STATE_DISABLED : KEY_STATE_PENDING_IMPORT, 0);
        if (r < 0)
                return r;
        (void) manager_arm_deletion_timer(m);
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

static int method_update_key_description(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *description;
        KeyEntry *e;
        Call c;
        int r;

        r = begin_key_call(&c, m, message, error, "UpdateKeyDescription", ACTION_MANAGE_KEY, &e);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &description);
        if (r < 0)
                return r;
        r = check_description(&c, description);
        if (r < 0)
                return r;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        if (e->state == KEY_STATE_PENDING_DELETION)
                return fail_pending_deletion(&c, e);
        r = store_set_description(m->store, e->key_id, description);
        if (r < 0)
                return call_fail_errno(&c, r);
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

/* ---- Aliases. ---- */

static int check_alias_name(Call *c, const char *name) {
        switch (alias_name_check(name)) {
        case ALIAS_NAME_OK:
                return 0;
        case ALIAS_NAME_TOO_LONG:
                return fail_length(c, "aliasName", strlen(name), 1, KMS_ALIAS_NAME_MAX);
        case ALIAS_NAME_EMPTY:
                if (*name)
                        return call_fail(c, KMS_ERROR_VALIDATION, "Alias name must have at least one character after \"alias/\".");
                return fail_length(c, "aliasName", 0, 1, KMS_ALIAS_NAME_MAX);
        case ALIAS_NAME_NO_PREFIX:
                return call_fail(c, KMS_ERROR_VALIDATION,
                                 "Alias must start with the prefix \"alias/\". Please see "
                                 "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html");
        case ALIAS_NAME_BAD_CHARACTER:
                return call_fail(c, KMS_ERROR_VALIDATION, "%s contains invalid characters for an alias", name);
        case ALIAS_NAME_RESERVED:
        default:
                return call_fail(c, KMS_ERROR_INVALID_ALIAS_NAME,
                                 "Alias names beginning with alias/aws/ and alias/hmacd/ are reserved.");
        }
}

static int fail_alias_not_found(Call *c, const char *name) {
        char arn[ARN_MAX];
        alias_arn_format(arn, sizeof arn, c->manager->machine_id, name);
        return call_fail(c, KMS_ERROR_NOT_FOUND, "Alias %s is not found.", arn);
}

static int check_alias_target(Call *c, const KeyEntry *e) {
        char arn[ARN_MAX];

        if (e->state == KEY_STATE_PENDING_DELETION)
                return fail_pending_deletion(c, e);
        if (e->n_aliases >= KMS_ALIASES_PER_KEY_MAX)
                return call_fail(c, KMS_ERROR_LIMIT_EXCEEDED, "Key %s already has %u aliases, the most a key may have.",
                                 key_arn(c->manager, e, arn, sizeof arn), KMS_ALIASES_PER_KEY_MAX);
        return 0;
}

static int method_create_alias(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ Alias *a = NULL;
        Manager *m = userdata;
        const char *name, *target;
        char arn[ARN_MAX];
        KeyEntry *e;
        uint64_t now;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "CreateAlias", ACTION_MANAGE_KEY);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "ss", &name, &target);
        if (r < 0)
                return r;
        r = check_alias_name(&c, name);
        if (r < 0)
                return r;
        r = resolve_key(&c, target, false, &e);
        if (r < 0)
                return r;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        if (alias_index_find(&m->aliases, name)) {
                alias_arn_format(arn, sizeof arn, m->machine_id, name);
                return call_fail(&c, KMS_ERROR_ALREADY_EXISTS, "An alias with the name %s already exists", arn);
        }
        r = check_alias_target(&c, e);
        if (r < 0)
                return r;

        a = calloc(1, sizeof *a);
        if (!a)
                return call_fail_errno(&c, -ENOMEM);
        now = now_usec();
        r = store_insert_alias(m->store, name, e->key_id, now);
        if (r < 0)
                return call_fail_errno(&c, r);
        *a = (Alias) { .key = e, .creation_date = now, .last_updated_date = now };
        strcpy(a->name, name);
        r = alias_index_add(&m->aliases, a);
        if (r < 0)
                return call_fail_errno(&c, r);
        TAKE_PTR(a);
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

static int method_update_alias(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *target;
        KeyEntry *e;
        Alias *a;
        uint64_t now;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "UpdateAlias", ACTION_MANAGE_KEY);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "ss", &name, &target);
        if (r < 0)
                return r;
        r = check_alias_name(&c, name);
        if (r < 0)
                return r;
        a = alias_index_find(&m->aliases, name);
        if (!a)
                return fail_alias_not_found(&c, name);
        r = resolve_key(&c, target, false, &e);
        if (r < 0)
                return r;
        /* Both the key the alias leaves and the one it goes to must allow it. */
        r = call_authorize(&c, a->key);
        if (r > 0)
                r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        if (a->key == e)
                goto done;
        /* Every hmacd key is an HMAC key with GENERATE_VERIFY_MAC usage: the same type and usage
         * that AWS requires of the old and the new key. */
        r = check_alias_target(&c, e);
        if (r < 0)
                return r;

        now = now_usec();
        r = store_update_alias(m->store, name, e->key_id, now);
        if (r < 0)
                return call_fail_errno(&c, r);
        alias_retarget(a, e);
        a->last_updated_date = now;
done:
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

static int method_delete_alias(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        Alias *a;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "DeleteAlias", ACTION_MANAGE_KEY);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = check_alias_name(&c, name);
        if (r < 0)
                return r;
        a = alias_index_find(&m->aliases, name);
        if (!a)
                return fail_alias_not_found(&c, name);
        c.key_id = a->key->key_id;
        r = call_authorize(&c, a->key);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        r = store_delete_alias(m->store, name);
        if (r < 0)
                return call_fail_errno(&c, r);
        alias_index_remove(&m->aliases, a);
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

static int read_limit(Call *c, uint32_t *limit, uint32_t def, uint32_t max) {
        if (*limit == 0)
                *limit = def;
        if (*limit > max)
                return call_fail(c, KMS_ERROR_VALIDATION,
                                 "1 validation error detected: Value '%" PRIu32 "' at 'limit' failed to satisfy "
                                 "constraint: Member must have value less than or equal to %" PRIu32,
                                 *limit, max);
        return 0;
}

/* A marker that carries a name: decodes into buf (size bytes, NUL-terminated). */
static int read_name_marker(Call *c, const char *marker, char *buf, size_t size) {
        int n;

        *buf = 0;
        if (!*marker)
                return 0;
        if (strlen(marker) > KMS_MARKER_MAX)
                return fail_length(c, "marker", strlen(marker), 1, KMS_MARKER_MAX);
        n = marker_decode(marker, buf, size - 1);
        if (n <= 0 || memchr(buf, 0, (size_t) n))
                return call_fail(c, KMS_ERROR_INVALID_MARKER, "The marker is not valid: %.64s", marker);
        buf[n] = 0;
        return 0;
}

static int method_list_aliases(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *key_id, *marker;
        char after[KMS_ALIAS_NAME_MAX + 1], next[MARKER_STRING_MAX] = "", arn[ARN_MAX];
        const Alias *last = NULL;
        KeyEntry *e = NULL;
        uint32_t limit, n = 0;
        size_t i;
        Call c;
        int r;

        r = call_begin(&c, m, message, error, "ListAliases", ACTION_LIST_KEYS);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "sus", &key_id, &limit, &marker);
        if (r < 0)
                return r;
        r = read_limit(&c, &limit, 50, 100);
        if (r >= 0)
                r = read_name_marker(&c, marker, after, sizeof after);
        if (r >= 0 && *key_id)
                r = resolve_key(&c, key_id, false, &e);
        if (r < 0)
                return r;
        if (e)
                c.action = ACTION_DESCRIBE_KEY;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssstt)");
        for (i = alias_index_after(&m->aliases, after); r >= 0 && i < m->aliases.n; i++) {
                const Alias *a = m->aliases.v[i];
                if (e && a->key != e)
                        continue;
                if (n == limit) {
                        r = marker_encode(last->name, strlen(last->name), next, sizeof next);
                        break;
                }
                alias_arn_format(arn, sizeof arn, m->machine_id, a->name);
                r = sd_bus_message_append(reply, "(ssstt)", a->name, arn, a->key->key_id, a->creation_date,
                                          a->last_updated_date);
                last = a;
                n++;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sb", next, *next != 0);
        if (r < 0)
                return call_fail_errno(&c, r);
        call_audit(&c, "ok");
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- Tags. ---- */

static int method_tag_resource(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ KeyTag *merged = NULL;
        Manager *m = userdata;
        StoreTag tags[KMS_TAGS_PER_KEY_MAX];
        size_t n_tags = 0, n_merged;
        KeyEntry *e;
        Call c;
        int r;

        r = begin_key_call(&c, m, message, error, "TagResource", ACTION_MANAGE_KEY, &e);
        if (r < 0)
                return r;
        r = read_tags(&c, tags, &n_tags);
        if (r < 0)
                return r;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        if (e->state == KEY_STATE_PENDING_DELETION)
                return fail_pending_deletion(&c, e);

        /* The key's tags with the new ones added or replaced: at most 50. */
        merged = calloc(e->n_tags + n_tags, sizeof *merged);
        if (!merged)
                return call_fail_errno(&c, -ENOMEM);
        if (e->n_tags > 0)
                memcpy(merged, e->tags, e->n_tags * sizeof *merged);
        n_merged = e->n_tags;
        for (size_t i = 0; i < n_tags; i++) {
                size_t j;
                for (j = 0; j < n_merged; j++)
                        if (streq(merged[j].key, tags[i].key))
                                break;
                merged[j] = (KeyTag) { (char *) tags[i].key, (char *) tags[i].value };
                if (j == n_merged)
                        n_merged++;
        }
        if (n_merged > KMS_TAGS_PER_KEY_MAX)
                return call_fail(&c, KMS_ERROR_TAG, "Too many tags");

        r = store_put_tags(m->store, e->key_id, tags, n_tags);
        if (r < 0)
                return call_fail_errno(&c, r);
        r = key_entry_set_tags(e, merged, n_merged);
        if (r < 0)
                return call_fail_errno(&c, r);
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

static int method_untag_resource(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ KeyTag *kept = NULL;
        Manager *m = userdata;
        const char *keys[KMS_TAGS_PER_KEY_MAX];
        size_t n_keys = 0, n_kept = 0;
        KeyEntry *e;
        Call c;
        int r;

        r = begin_key_call(&c, m, message, error, "UntagResource", ACTION_MANAGE_KEY, &e);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(message, 'a', "s");
        if (r < 0)
                return r;
        for (;;) {
                const char *k;
                r = sd_bus_message_read(message, "s", &k);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (n_keys >= KMS_TAGS_PER_KEY_MAX)
                        return call_fail(&c, KMS_ERROR_VALIDATION,
                                         "1 validation error detected: Value at 'tagKeys' failed to satisfy "
                                         "constraint: Member must have length less than or equal to %u",
                                         KMS_TAGS_PER_KEY_MAX);
                if (!*k || strlen(k) > 4 * KMS_TAG_KEY_MAX || utf8_length(k, strlen(k)) > (ssize_t) KMS_TAG_KEY_MAX)
                        return fail_length(&c, "tagKeys.member", *k ? KMS_TAG_KEY_MAX + 1 : 0, 1, KMS_TAG_KEY_MAX);
                keys[n_keys++] = k;
        }
        r = sd_bus_message_exit_container(message);
        if (r < 0)
                return r;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        if (e->state == KEY_STATE_PENDING_DELETION)
                return fail_pending_deletion(&c, e);

        kept = calloc(e->n_tags + 1, sizeof *kept);
        if (!kept)
                return call_fail_errno(&c, -ENOMEM);
        for (size_t i = 0; i < e->n_tags; i++) {
                bool drop = false;
                for (size_t j = 0; j < n_keys && !drop; j++)
                        drop = streq(e->tags[i].key, keys[j]);
                if (!drop)
                        kept[n_kept++] = e->tags[i];
        }
        if (n_kept != e->n_tags) {
                r = store_delete_tags(m->store, e->key_id, keys, n_keys);
                if (r >= 0)
                        r = key_entry_set_tags(e, kept, n_kept);
                if (r < 0)
                        return call_fail_errno(&c, r);
        }
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

static int method_list_resource_tags(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *marker;
        char after[4 * KMS_TAG_KEY_MAX + 1], next[MARKER_STRING_MAX] = "";
        uint32_t limit, n = 0;
        KeyEntry *e;
        Call c;
        int r;

        r = begin_key_call(&c, m, message, error, "ListResourceTags", ACTION_DESCRIBE_KEY, &e);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "us", &limit, &marker);
        if (r < 0)
                return r;
        r = read_limit(&c, &limit, 50, 50);
        if (r >= 0)
                r = read_name_marker(&c, marker, after, sizeof after);
        if (r < 0)
                return r;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && i < e->n_tags; i++) {
                if (strcmp(e->tags[i].key, after) <= 0 && *after)
                        continue;
                if (n == limit) {
                        r = marker_encode(e->tags[i - 1].key, strlen(e->tags[i - 1].key), next, sizeof next);
                        break;
                }
                r = sd_bus_message_append(reply, "(ss)", e->tags[i].key, e->tags[i].value);
                n++;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sb", next, *next != 0);
        if (r < 0)
                return call_fail_errno(&c, r);
        call_audit(&c, "ok");
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- Importing key material (Origin EXTERNAL). ---- */

static int check_external(Call *c, const KeyEntry *e) {
        char arn[ARN_MAX];

        if (e->origin != KEY_ORIGIN_EXTERNAL)
                return call_fail(c, KMS_ERROR_UNSUPPORTED_OPERATION, "%s origin is %s which is not valid for this operation.",
                                 key_arn(c->manager, e, arn, sizeof arn), key_origin_to_string(e->origin));
        if (e->state == KEY_STATE_PENDING_DELETION)
                return fail_pending_deletion(c, e);
        return 0;
}

static int method_get_parameters_for_import(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ uint8_t *token = NULL, *public_key = NULL;
        Manager *m = userdata;
        const char *alg_name, *spec_name;
        size_t token_size = 0, public_key_size = 0;
        uint64_t valid_to = 0;
        WrappingAlgorithm alg;
        WrappingKeySpec spec;
        KeyEntry *e;
        Call c;
        int r;

        r = begin_key_call(&c, m, message, error, "GetParametersForImport", ACTION_IMPORT_KEY_MATERIAL, &e);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "ss", &alg_name, &spec_name);
        if (r < 0)
                return r;
        alg = wrapping_algorithm_from_string(alg_name);
        if (alg < 0 && wrapping_algorithm_is_other_aws(alg_name))
                return call_fail(&c, KMS_ERROR_UNSUPPORTED_OPERATION,
                                 "Wrapping algorithm %s is not supported for HMAC keys; use RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1.",
                                 alg_name);
        if (alg < 0)
                return call_fail(&c, KMS_ERROR_VALIDATION,
                                 "1 validation error detected: Value '%.64s' at 'wrappingAlgorithm' failed to satisfy "
                                 "constraint: Member must satisfy enum value set: [RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256]",
                                 alg_name);
        spec = wrapping_key_spec_from_string(spec_name);
        if (spec < 0 && wrapping_key_spec_is_other_aws(spec_name))
                return call_fail(&c, KMS_ERROR_UNSUPPORTED_OPERATION, "Wrapping key spec %s is not supported.", spec_name);
        if (spec < 0)
                return call_fail(&c, KMS_ERROR_VALIDATION,
                                 "1 validation error detected: Value '%.64s' at 'wrappingKeySpec' failed to satisfy "
                                 "constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096]",
                                 spec_name);
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        r = check_external(&c, e);
        if (r < 0)
                return r;

        r = import_table_create(m->imports, e->key_id, alg, spec, now_usec(), &token, &token_size, &public_key,
                                &public_key_size, &valid_to);
        if (r == -E2BIG)
                return call_fail(&c, KMS_ERROR_LIMIT_EXCEEDED,
                                 "Too many import parameters are outstanding (%u); use or let some expire first.",
                                 IMPORT_PARAMS_MAX);
        if (r < 0)
                return call_fail_errno(&c, r);
        (void) manager_arm_deletion_timer(m);

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', token, token_size);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', public_key, public_key_size);
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", valid_to);
        if (r < 0)
                return call_fail_errno(&c, r);
        call_audit(&c, "ok");
        return sd_bus_send(NULL, reply, NULL);
}

static int method_import_key_material(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint8_t *material = m->secret->data + SECRET_UNWRAP_OFFSET, sealed[STORE_SEALED_MAX];
        uint8_t fingerprint[STORE_FINGERPRINT_SIZE], known[STORE_FINGERPRINT_SIZE];
        const char *model;
        const void *token, *wrapped;
        size_t token_size, wrapped_size, sealed_size = 0;
        uint64_t valid_to, now = now_usec();
        char arn[ARN_MAX];
        KeyState state;
        KeyEntry *e;
        Call c;
        int r, n;

        r = begin_key_call(&c, m, message, error, "ImportKeyMaterial", ACTION_IMPORT_KEY_MATERIAL, &e);
        if (r < 0)
                return r;
        r = sd_bus_message_read_array(message, 'y', &token, &token_size);
        if (r >= 0)
                r = sd_bus_message_read_array(message, 'y', &wrapped, &wrapped_size);
        if (r >= 0)
                r = sd_bus_message_read(message, "st", &model, &valid_to);
        if (r < 0)
                return r;
        if (token_size < 1 || token_size > IMPORT_TOKEN_MAX)
                return fail_length(&c, "importToken", token_size, 1, IMPORT_TOKEN_MAX);
        if (wrapped_size < 1 || wrapped_size > IMPORT_CIPHERTEXT_MAX)
                return fail_length(&c, "encryptedKeyMaterial", wrapped_size, 1, IMPORT_CIPHERTEXT_MAX);
        if (!*model || streq(model, "KEY_MATERIAL_EXPIRES")) {
                if (valid_to <= now)
                        return call_fail(&c, KMS_ERROR_VALIDATION,
                                         "ValidTo must be in the future when the expiration model is KEY_MATERIAL_EXPIRES.");
                if (valid_to > now + 365ULL * 24 * 3600 * 1000000)
                        return call_fail(&c, KMS_ERROR_VALIDATION, "ValidTo must be at most 365 days from now.");
        } else if (streq(model, "KEY_MATERIAL_DOES_NOT_EXPIRE")) {
                if (valid_to != 0)
                        return call_fail(&c, KMS_ERROR_VALIDATION,
                                         "ValidTo must not be set when the expiration model is KEY_MATERIAL_DOES_NOT_EXPIRE.");
        } else
                return call_fail(&c, KMS_ERROR_VALIDATION,
                                 "1 validation error detected: Value '%.64s' at 'expirationModel' failed to satisfy "
                                 "constraint: Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, "
                                 "KEY_MATERIAL_DOES_NOT_EXPIRE]",
                                 model);
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        r = check_external(&c, e);
        if (r < 0)
                return r;

        switch (import_table_check(m->imports, token, token_size, e->key_id, now)) {
        case IMPORT_TOKEN_OK:
                break;
        case IMPORT_TOKEN_EXPIRED:
                return call_fail(&c, KMS_ERROR_EXPIRED_IMPORT_TOKEN, "The import token has expired.");
        case IMPORT_TOKEN_OTHER_KEY:
                return call_fail(&c, KMS_ERROR_INVALID_IMPORT_TOKEN, "The import token was issued for another key, not %s.",
                                 key_arn(m, e, arn, sizeof arn));
        default:
                return call_fail(&c, KMS_ERROR_INVALID_IMPORT_TOKEN,
                                 "The import token is not valid: it was not issued by this service, was changed, was "
                                 "already used, or was issued before the service restarted.");
        }

        n = import_table_unwrap(m->imports, token, token_size, wrapped, wrapped_size, material, IMPORT_UNWRAP_BUFFER);
        if (n == -EBADMSG)
                return call_fail(&c, KMS_ERROR_INVALID_CIPHERTEXT,
                                 "The wrapped key material could not be decrypted with the wrapping key of this import token.");
        if (n < 0)
                return call_fail_errno(&c, n);
        if ((size_t) n < key_spec_import_min(e->spec) || (size_t) n > key_spec_import_max(e->spec)) {
                secure_wipe(material, IMPORT_UNWRAP_BUFFER);
                return call_fail(&c, KMS_ERROR_VALIDATION,
                                 "Key material for %s keys must be %zu to %zu bytes long, not %d.",
                                 key_spec_to_string(e->spec), key_spec_import_min(e->spec),
                                 key_spec_import_max(e->spec), n);
        }

        /* A key takes one secret for life: a re-import must bring the same material again. */
        r = manager_material_fingerprint(m, e, material, (size_t) n, fingerprint);
        if (r >= 0)
                r = store_get_fingerprint(m->store, e->key_id, known);
        if (r >= 0 && CRYPTO_memcmp(fingerprint, known, sizeof known) != 0) {
                secure_wipe(material, IMPORT_UNWRAP_BUFFER);
                return call_fail(&c, KMS_ERROR_INCORRECT_KEY_MATERIAL,
                                 "The key material is not the material previously imported into %s.",
                                 key_arn(m, e, arn, sizeof arn));
        }
        if (r == -ENODATA)
                r = 0;
        if (r >= 0)
                r = manager_seal_material(m, e, material, (size_t) n, sealed, &sealed_size);
        secure_wipe(material, IMPORT_UNWRAP_BUFFER);
        if (r < 0)
                return call_fail_errno(&c, r);

        state = e->state == KEY_STATE_PENDING_IMPORT ? KEY_STATE_ENABLED : e->state;
        r = store_set_material(m->store, e->key_id, sealed, sealed_size, state, valid_to, fingerprint);
        if (r < 0)
                return call_fail_errno(&c, r);
        import_table_consume(m->imports, token, token_size);
        (void) key_cache_drop(m->cache, e);
        e->has_material = true;
        e->valid_to = valid_to;
        key_entry_set_state(e, state, e->deletion_date);
        (void) manager_arm_deletion_timer(m);
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

static int method_delete_imported_key_material(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        char arn[ARN_MAX];
        KeyEntry *e;
        Call c;
        int r;

        r = begin_key_call(&c, m, message, error, "DeleteImportedKeyMaterial", ACTION_IMPORT_KEY_MATERIAL, &e);
        if (r < 0)
                return r;
        r = call_authorize(&c, e);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit answers later; the message is dispatched again then */
        if (e->origin != KEY_ORIGIN_EXTERNAL)
                return call_fail(&c, KMS_ERROR_UNSUPPORTED_OPERATION, "%s origin is %s which is not valid for this operation.",
                                 key_arn(m, e, arn, sizeof arn), key_origin_to_string(e->origin));
        if (e->has_material) {
                r = manager_delete_material(m, e);
                if (r < 0)
                        return call_fail_errno(&c, r);
                (void) manager_arm_deletion_timer(m);
        }
        call_audit(&c, "ok");
        return sd_bus_reply_method_return(message, NULL);
}

static int property_get_backend(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", mac_engine_backend(m->mac));
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", HMACD_VERSION);
}

static int property_get_max_message_size(sd_bus *bus, const char *path, const char *interface,
                                         const char *property, sd_bus_message *reply, void *userdata,
                                         sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", (uint32_t) KMS_MESSAGE_MAX);
}

static const sd_bus_vtable kms_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Backend", "s", property_get_backend, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MaxMessageSize", "u", property_get_max_message_size, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("CreateKey",
                                SD_BUS_ARGS("s", key_spec, "s", key_usage, "s", description, "a{ss}", tags,
                                            "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", key_metadata),
                                method_create_key,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GenerateMac",
                                SD_BUS_ARGS("s", key_id, "ay", message, "s", mac_algorithm),
                                SD_BUS_RESULT("ay", mac, "s", key_arn),
                                method_generate_mac,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("GenerateMacBatch",
                                SD_BUS_ARGS("s", key_id, "aay", messages, "s", mac_algorithm),
                                SD_BUS_RESULT("aay", macs),
                                method_generate_mac_batch,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("VerifyMac",
                                SD_BUS_ARGS("s", key_id, "ay", message, "s", mac_algorithm, "ay", mac),
                                SD_BUS_RESULT("b", mac_valid, "s", key_arn),
                                method_verify_mac,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("DescribeKey",
                                SD_BUS_ARGS("s", key_id),
                                SD_BUS_RESULT("a{sv}", key_metadata),
                                method_describe_key,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListKeys",
                                SD_BUS_ARGS("u", limit, "s", marker),
                                SD_BUS_RESULT("a(ss)", keys, "s", next_marker, "b", truncated),
                                method_list_keys,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnableKey", SD_BUS_ARGS("s", key_id), SD_BUS_NO_RESULT, method_enable_key,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DisableKey", SD_BUS_ARGS("s", key_id), SD_BUS_NO_RESULT, method_disable_key,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ScheduleKeyDeletion",
                                SD_BUS_ARGS("s", key_id, "u", pending_window_in_days),
                                SD_BUS_RESULT("t", deletion_date, "u", pending_window_in_days),
                                method_schedule_key_deletion,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CancelKeyDeletion", SD_BUS_ARGS("s", key_id), SD_BUS_NO_RESULT,
                                method_cancel_key_deletion, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UpdateKeyDescription", SD_BUS_ARGS("s", key_id, "s", description), SD_BUS_NO_RESULT,
                                method_update_key_description, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateAlias", SD_BUS_ARGS("s", alias_name, "s", target_key_id), SD_BUS_NO_RESULT,
                                method_create_alias, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UpdateAlias", SD_BUS_ARGS("s", alias_name, "s", target_key_id), SD_BUS_NO_RESULT,
                                method_update_alias, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteAlias", SD_BUS_ARGS("s", alias_name), SD_BUS_NO_RESULT, method_delete_alias,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAliases",
                                SD_BUS_ARGS("s", key_id, "u", limit, "s", marker),
                                SD_BUS_RESULT("a(ssstt)", aliases, "s", next_marker, "b", truncated),
                                method_list_aliases,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("TagResource", SD_BUS_ARGS("s", key_id, "a{ss}", tags), SD_BUS_NO_RESULT,
                                method_tag_resource, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UntagResource", SD_BUS_ARGS("s", key_id, "as", tag_keys), SD_BUS_NO_RESULT,
                                method_untag_resource, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListResourceTags",
                                SD_BUS_ARGS("s", key_id, "u", limit, "s", marker),
                                SD_BUS_RESULT("a(ss)", tags, "s", next_marker, "b", truncated),
                                method_list_resource_tags,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetParametersForImport",
                                SD_BUS_ARGS("s", key_id, "s", wrapping_algorithm, "s", wrapping_key_spec),
                                SD_BUS_RESULT("ay", import_token, "ay", public_key, "t", parameters_valid_to),
                                method_get_parameters_for_import,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportKeyMaterial",
                                SD_BUS_ARGS("s", key_id, "ay", import_token, "ay", encrypted_key_material, "s",
                                            expiration_model, "t", valid_to),
                                SD_BUS_NO_RESULT,
                                method_import_key_material,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("DeleteImportedKeyMaterial", SD_BUS_ARGS("s", key_id), SD_BUS_NO_RESULT,
                                method_delete_imported_key_material, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_kms_add_object(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, HMACD_OBJECT_PATH, HMACD_INTERFACE, kms_vtable, m);
}
