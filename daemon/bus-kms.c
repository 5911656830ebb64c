/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io.hmacd.Kms1 interface, first half: the vtable and properties, authorization of a call, and the
 * methods on keys and MACs. Aliases, tags and imports are in bus-kms-names.c. Handlers hold no rule
 * of the service: state checks, store and index live in the key service (kms-service.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bus-kms-internal.h"
#include "counters.h"
#include "kms-check.h"
#include "log.h"
#include "macro.h"

int call_authorize_details(BusKms *b, Call *c, const char *details, size_t details_size) {
        int r;

        r = authz_check(b->authz, c->message, &c->caller, c->action, details, details_size, c->error);
        if (r == 2)
                return 1; /* needed no question: recorded in the operation's own audit record */
        c->pending = r == 0;
        log_audit(&(AuditRecord) {
                .operation = "Authorize",
                .key_id = c->key_id,
                .key_ref = c->key_ref,
                .action = action_to_string(c->action),
                .result = r > 0 ? "allowed" : r == 0 ? "pending" : r == -E2BIG ? "LimitExceededException" : "denied",
                .uid = c->caller.uid,
                .pid = c->caller.pid,
                .comm = c->caller.info.comm,
                .unit = c->caller.info.unit,
                .user_unit = c->caller.info.user_unit,
        });
        if (r < 0)
                call_audit(c, r == -E2BIG ? "LimitExceededException" : "denied");
        return r;
}

/* What polkit rules see of e: built once (authz_key_details()) and kept on the key until its state,
 * tags or aliases change (key_entry_changed()). */
static int key_details(BusKms *b, KeyEntry *e) {
        _cleanup_free_ const char **keys = NULL, **values = NULL;
        _cleanup_free_ char *aliases = NULL;
        const AliasIndex *ix = &b->service->aliases;
        char arn[ARN_MAX];
        bool first = true;
        size_t size = 0;
        FILE *f;

        if (e->details)
                return 0;
        /* The key's aliases, comma separated, in name order. */
        f = open_memstream(&aliases, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; e->n_aliases > 0 && i < ix->n; i++)
                if (ix->v[i]->key == e) {
                        fprintf(f, "%s%s", first ? "" : ",", ix->v[i]->name);
                        first = false;
                }
        if (fclose(f) != 0)
                return -ENOMEM;
        keys = calloc(e->n_tags + 1, sizeof *keys);
        values = calloc(e->n_tags + 1, sizeof *values);
        if (!keys || !values)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_tags; i++) {
                keys[i] = e->tags[i].key;
                values[i] = e->tags[i].value;
        }
        return authz_key_details(e->key_id, kms_key_arn(b->service, e, arn, sizeof arn), key_spec_to_string(e->spec),
                                 key_state_to_string(e->state), kms_user_name(b->service, e->owner_uid), aliases,
                                 keys, values, e->n_tags, &e->details, &e->details_size);
}

/* Root and the daemon's own user pass at once; everyone else is asked about through polkit, with the
 * key's details. */
int call_authorize(BusKms *b, Call *c, KeyEntry *e) {
        int r;

        if (authz_is_trusted(b->authz, &c->caller))
                return 1;
        if (!e)
                return call_authorize_details(b, c, NULL, 0);
        r = key_details(b, e);
        if (r < 0)
                return call_fail(c, r);
        return call_authorize_details(b, c, e->details, e->details_size);
}

int begin_key_call(BusKms *b, Call *c, sd_bus_message *message, sd_bus_error *error, KmsOperation operation,
                   Action action, const char **ret_key_ref) {
        int r;

        r = call_begin(c, b->authz, message, error, operation, action);
        if (r <= 0)
                return r;
        r = sd_bus_message_read(message, "s", ret_key_ref);
        if (r < 0)
                return r;
        c->key_ref = *ret_key_ref;
        return 1;
}

/* A reference that names no key. A trusted caller learns so at once. Anyone else is first asked
 * about with nothing but the reference as polkit's details (key_ref), and a refusal reads exactly
 * as it does for an existing key; only a caller polkit allows may learn that nothing is there.
 * Returns what call_fail() or call_authorize_details() returned: 0 while polkit is asked. */
int call_fail_unknown(BusKms *b, Call *c, const char *key_ref, int condition) {
        _cleanup_free_ char *details = NULL;
        size_t n, k = strlen("key_ref") + 1;
        int r;

        if ((condition != KMS_COND_KEY_NOT_FOUND && condition != KMS_COND_ALIAS_NOT_FOUND) ||
            authz_is_trusted(b->authz, &c->caller))
                return call_fail(c, condition);
        n = k + strlen(key_ref) + 1;
        details = malloc(n);
        if (!details)
                return call_fail(c, -ENOMEM);
        memcpy(details, "key_ref", k);
        memcpy(details + k, key_ref, n - k);
        r = call_authorize_details(b, c, details, n);
        if (r <= 0)
                return r;
        return call_fail(c, condition);
}

/* Resolves a key reference (any_form: alias names and alias ARNs too, as the MAC calls and
 * DescribeKey take them; else key IDs and key ARNs) and authorizes c on the key. Called after
 * every argument was validated, so that what a caller learns before polkit is asked never
 * depends on whether the key exists. */
int resolve_and_authorize(BusKms *b, Call *c, const char *key_ref, bool any_form, KeyEntry **ret) {
        int r;

        c->key_ref = key_ref;
        r = kms_resolve_key(b->service, key_ref, any_form, &c->failure, ret);
        if (r != 0)
                return call_fail_unknown(b, c, key_ref, r);
        c->key_id = (*ret)->key_id;
        return call_authorize(b, c, *ret);
}

int open_key_call(BusKms *b, Call *c, sd_bus_message *message, sd_bus_error *error, KmsOperation operation,
                  Action action, KeyEntry **ret) {
        const char *key_ref;
        int r;

        r = begin_key_call(b, c, message, error, operation, action, &key_ref);
        if (r <= 0)
                return r;
        return resolve_and_authorize(b, c, key_ref, false, ret);
}

int read_message(Call *c, const void **ret, size_t *ret_size) {
        int r = sd_bus_message_read_array(c->message, 'y', ret, ret_size);
        if (r < 0)
                return r;
        r = kms_check_length(&c->failure, "message", *ret_size, 1, KMS_MESSAGE_MAX);
        return r != 0 ? call_fail(c, r) : 0;
}

static int append_mac(const uint8_t *mac, size_t size, void *userdata) {
        return sd_bus_message_append_array(userdata, 'y', mac, size);
}

static int method_generate_mac(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        const char *key_id, *alg_name;
        char arn[ARN_MAX];
        struct iovec msg;
        KeySpec alg = _KEY_SPEC_INVALID;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_GENERATE_MAC, ACTION_GENERATE_MAC);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "s", &key_id);
        c.key_ref = r >= 0 ? key_id : NULL;
        if (r >= 0)
                r = read_message(&c, (const void **) &msg.iov_base, &msg.iov_len);
        if (r >= 0)
                r = sd_bus_message_read(message, "s", &alg_name);
        if (r < 0)
                return r;
        r = kms_check_mac_algorithm(&c.failure, alg_name, &alg);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_id, true, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_sensitive(reply);
        if (r >= 0)
                r = kms_generate_macs(b->service, KMS_OP_GENERATE_MAC, e, alg, &msg, 1, append_mac, reply, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        r = sd_bus_message_append(reply, "s", kms_key_arn(b->service, e, arn, sizeof arn));
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

/* Reads an aay of up to KMS_BATCH_MAX members into v; the count is checked once the array ends (an
 * empty batch is refused). Returns 0, a negative errno, or what call_fail() returned. */
int read_batch(Call *c, const char *field, size_t size_min, size_t size_max, struct iovec *v, size_t *ret_n) {
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(c->message, 'a', "ay");
        if (r < 0)
                return r;
        for (;;) {
                const void *p;
                size_t size;

                r = sd_bus_message_read_array(c->message, 'y', &p, &size);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = kms_check_length(&c->failure, field, n + 1, 1, KMS_BATCH_MAX);
                if (r == 0)
                        r = kms_check_length(&c->failure, streq(field, "messages") ? "messages.member" : "macs.member",
                                             size, size_min, size_max);
                if (r != 0)
                        return call_fail(c, r);
                v[n++] = (struct iovec) { (void *) p, size };
        }
        r = sd_bus_message_exit_container(c->message);
        if (r < 0)
                return r;
        r = kms_check_length(&c->failure, field, n, 1, KMS_BATCH_MAX);
        if (r != 0)
                return call_fail(c, r);
        *ret_n = n;
        return 0;
}

int read_mac_batch(BusKms *b, Call *c, const char **ret_key_id, size_t *ret_n, KeySpec *ret_alg) {
        const char *alg_name;
        int r;

        r = sd_bus_message_read(c->message, "s", ret_key_id);
        c->key_ref = r >= 0 ? *ret_key_id : NULL;
        if (r >= 0)
                r = read_batch(c, "messages", 1, KMS_MESSAGE_MAX, b->batch, ret_n);
        if (r >= 0)
                r = sd_bus_message_read(c->message, "s", &alg_name);
        if (r < 0)
                return r;
        r = kms_check_mac_algorithm(&c->failure, alg_name, ret_alg);
        return r != 0 ? call_fail(c, r) : 0;
}

/* GenerateMacBatch: one authorization and one key read for up to 4096 messages; all-or-nothing on
 * validation. The messages are checked before anything is computed. */
static int method_generate_mac_batch(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        const char *key_id;
        size_t n = 0;
        KeySpec alg = _KEY_SPEC_INVALID;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_GENERATE_MAC_BATCH, ACTION_GENERATE_MAC);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = read_mac_batch(b, &c, &key_id, &n, &alg);
        if (r < 0)
                return r;
        r = resolve_and_authorize(b, &c, key_id, true, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_sensitive(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "ay");
        if (r >= 0)
                r = kms_generate_macs(b->service, KMS_OP_GENERATE_MAC_BATCH, e, alg, b->batch, n, append_mac, reply,
                                      &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

static int method_verify_mac(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        const char *key_id, *alg_name;
        const void *msg, *mac;
        size_t msg_size, mac_size;
        char arn[ARN_MAX];
        KeySpec alg = _KEY_SPEC_INVALID;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_VERIFY_MAC, ACTION_VERIFY_MAC);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "s", &key_id);
        c.key_ref = r >= 0 ? key_id : NULL;
        if (r >= 0)
                r = read_message(&c, &msg, &msg_size);
        if (r >= 0)
                r = sd_bus_message_read(message, "s", &alg_name);
        if (r >= 0)
                r = sd_bus_message_read_array(message, 'y', &mac, &mac_size);
        if (r < 0)
                return r;
        r = kms_check_mac_algorithm(&c.failure, alg_name, &alg);
        if (r == 0)
                r = kms_check_length(&c.failure, "mac", mac_size, 1, KMS_MAC_MAX);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_id, true, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;

        r = kms_verify_mac(b->service, e, alg, msg, msg_size, mac, mac_size, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "bs", true, kms_key_arn(b->service, e, arn, sizeof arn));
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

static int reply_metadata(BusKms *b, Call *c, const KeyEntry *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(kms_key_metadata_done) KmsKeyMetadata md = {};
        int r;

        r = kms_describe_key(b->service, e, &md);
        if (r < 0)
                return call_fail(c, r);

        r = sd_bus_message_new_method_return(c->message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                          "KeyId", "s", e->key_id,
                                          "Arn", "s", md.arn,
                                          "CreationDate", "t", e->creation_date,
                                          "Enabled", "b", md.enabled,
                                          "Description", "s", md.description,
                                          "KeyUsage", "s", "GENERATE_VERIFY_MAC",
                                          "KeyState", "s", key_state_to_string(e->state),
                                          "Origin", "s", key_origin_to_string(e->origin),
                                          "KeyManager", "s", "CUSTOMER",
                                          "KeySpec", "s", key_spec_to_string(e->spec),
                                          "MultiRegion", "b", false,
                                          "OwnerUid", "u", (uint32_t) e->owner_uid,
                                          "Owner", "s", md.owner);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "MacAlgorithms", "as", 1, key_spec_mac_algorithm(e->spec));
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}", "CurrentKeyMaterialId", "s", md.current_material_id,
                                          "MacVerifyWindowInDays", "u", md.mac_verify_window);
        if (r >= 0 && md.deletion_date > 0)
                r = sd_bus_message_append(reply, "{sv}", "DeletionDate", "t", md.deletion_date);
        if (r >= 0 && md.expiration_model)
                r = sd_bus_message_append(reply, "{sv}", "ExpirationModel", "s", md.expiration_model);
        if (r >= 0 && md.valid_to > 0)
                r = sd_bus_message_append(reply, "{sv}", "ValidTo", "t", md.valid_to);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return call_fail(c, r);
        return call_reply(c, reply);
}

static int method_describe_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *key_id;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_DESCRIBE_KEY, ACTION_DESCRIBE_KEY);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "s", &key_id);
        if (r < 0)
                return r;
        r = resolve_and_authorize(b, &c, key_id, true, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        return reply_metadata(b, &c, e);
}

/* The options of CreateKey: Origin (s) and MacVerifyWindowInDays (u). */
static int read_create_options(Call *c, KeyOrigin *ret_origin, uint32_t *ret_window) {
        KeyOrigin origin = KEY_ORIGIN_HMACD;
        uint32_t window = 0;
        int r;

        r = sd_bus_message_enter_container(c->message, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *name, *type, *value;

                r = sd_bus_message_enter_container(c->message, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(c->message, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, "Origin"))
                        type = "s";
                else if (streq(name, "MacVerifyWindowInDays"))
                        type = "u";
                else
                        return call_fail(c, kms_fail_value(&c->failure, KMS_COND_OPTION_UNKNOWN, name));
                r = sd_bus_message_enter_container(c->message, 'v', type);
                if (r < 0) {
                        c->failure.name = name;
                        return call_fail(c, kms_fail_value(&c->failure, KMS_COND_OPTION_TYPE, type));
                }
                if (*type == 's') {
                        r = sd_bus_message_read(c->message, "s", &value);
                        if (r < 0)
                                return r;
                        r = kms_check_origin(&c->failure, value, &origin);
                } else {
                        r = sd_bus_message_read(c->message, "u", &window);
                        if (r < 0)
                                return r;
                        r = kms_check_verify_window(&c->failure, window);
                }
                if (r != 0)
                        return call_fail(c, r);
                r = sd_bus_message_exit_container(c->message);
                if (r >= 0)
                        r = sd_bus_message_exit_container(c->message);
                if (r < 0)
                        return r;
        }
        *ret_origin = origin;
        *ret_window = window;
        return sd_bus_message_exit_container(c->message);
}

int read_tags(Call *c, KeyTag *tags, size_t *ret_n) {
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
                r = kms_check_tag(&c->failure, tags, n, k, v);
                if (r != 0)
                        return call_fail(c, r);
                tags[n++] = (KeyTag) { (char *) k, (char *) v };
        }
        *ret_n = n;
        return sd_bus_message_exit_container(c->message);
}

static int method_create_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *spec_name, *usage, *description;
        KeyTag tags[KMS_TAGS_PER_KEY_MAX];
        size_t n_tags = 0;
        KeyOrigin origin = _KEY_ORIGIN_INVALID;
        KeySpec spec = _KEY_SPEC_INVALID;
        uint32_t window = 0;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_CREATE_KEY, ACTION_CREATE_KEY);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "sss", &spec_name, &usage, &description);
        if (r < 0)
                return r;
        r = kms_check_key_spec_and_usage(&c.failure, spec_name, usage, &spec);
        if (r == 0)
                r = kms_check_description(&c.failure, description);
        if (r != 0)
                return call_fail(&c, r);
        r = read_tags(&c, tags, &n_tags);
        if (r >= 0)
                r = read_create_options(&c, &origin, &window);
        if (r < 0)
                return r;
        if (!authz_is_trusted(b->authz, &c.caller)) {
                char details[128];
                int n = snprintf(details, sizeof details, "key_spec%c%s%corigin%c%s", 0, key_spec_to_string(spec), 0,
                                 0, key_origin_to_string(origin));
                r = call_authorize_details(b, &c, details, (size_t) n + 1);
                if (r <= 0)
                        return r == 0 ? 1 : r;
        }

        r = kms_create_key(b->service, c.caller.uid, spec, origin, window, description, tags, n_tags, &c.failure, &e);
        if (r != 0)
                return call_fail(&c, r);
        c.key_id = e->key_id;
        return reply_metadata(b, &c, e);
}

static int method_list_keys(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        const KeyIndex *ix = &b->service->index;
        const char *marker;
        char next[MARKER_STRING_MAX] = "", arn[ARN_MAX];
        int64_t after = 0;
        uint32_t limit;
        size_t i, end;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_LIST_KEYS, ACTION_LIST_KEYS);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "us", &limit, &marker);
        if (r < 0)
                return r;
        r = kms_check_limit(&c.failure, &limit, KMS_LIST_KEYS_LIMIT_DEFAULT, KMS_LIST_KEYS_LIMIT_MAX);
        if (r == 0)
                r = kms_check_seq_marker(&c.failure, marker, &after);
        if (r != 0)
                return call_fail(&c, r);
        r = call_authorize(b, &c, NULL);
        if (r <= 0)
                return r == 0 ? 1 : r;

        i = key_index_after(ix, after);
        end = MIN(ix->n, i + limit);
        if (end < ix->n)
                marker_encode_seq(ix->by_seq[end - 1]->seq, next, sizeof next);

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (; r >= 0 && i < end; i++) {
                const KeyEntry *e = ix->by_seq[i];
                r = sd_bus_message_append(reply, "(ss)", e->key_id, kms_key_arn(b->service, e, arn, sizeof arn));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sb", next, *next != 0);
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

/* ---- The key lifecycle: states, deletion, descriptions. ---- */

static int method_enable_disable(sd_bus_message *message, BusKms *b, sd_bus_error *error, bool enable) {
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = open_key_call(b, &c, message, error, enable ? KMS_OP_ENABLE_KEY : KMS_OP_DISABLE_KEY, ACTION_MANAGE_KEY,
                          &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_set_enabled(b->service, e, enable, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

static int method_enable_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_enable_disable(message, userdata, error, true);
}

static int method_disable_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_enable_disable(message, userdata, error, false);
}

static int method_schedule_key_deletion(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        uint32_t days;
        const char *key_ref;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_SCHEDULE_KEY_DELETION, ACTION_DELETE_KEY, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "u", &days);
        if (r < 0)
                return r;
        r = kms_check_pending_window(&c.failure, &days);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_schedule_deletion(b->service, e, days, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "tu", e->deletion_date, days);
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

static int method_cancel_key_deletion(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = open_key_call(b, &c, message, error, KMS_OP_CANCEL_KEY_DELETION, ACTION_DELETE_KEY, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_cancel_deletion(b->service, e, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

static int method_update_key_description(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *description;
        const char *key_ref;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_UPDATE_KEY_DESCRIPTION, ACTION_MANAGE_KEY, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "s", &description);
        if (r < 0)
                return r;
        r = kms_check_description(&c.failure, description);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_update_description(b->service, e, description, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

/* ---- Properties and the vtable. ---- */

static int property_get_backend(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        return sd_bus_message_append(reply, "s", key_material_backend(b->service->material));
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

static int property_get_counters(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        CacheCounters cache;
        char name_buf[64];
        const char *name;
        uint64_t value;
        int r;

        key_material_cache_counters(b->service->material, &cache.hits, &cache.misses, &cache.evictions);
        r = sd_bus_message_open_container(reply, 'a', "{st}");
        for (size_t i = 0; r >= 0 && counters_entry(&counters, &cache, i, &name, name_buf, sizeof name_buf, &value) > 0;
             i++)
                r = sd_bus_message_append(reply, "{st}", name, value);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static const sd_bus_vtable kms_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Backend", "s", property_get_backend, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MaxMessageSize", "u", property_get_max_message_size, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Counters", "a{st}", property_get_counters, 0, 0),
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
        SD_BUS_METHOD_WITH_ARGS("VerifyMacBatch",
                                SD_BUS_ARGS("s", key_id, "aay", messages, "s", mac_algorithm, "aay", macs),
                                SD_BUS_RESULT("ab", valid, "s", key_arn),
                                method_verify_mac_batch,
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
        SD_BUS_METHOD_WITH_ARGS("RotateKeyOnDemand", SD_BUS_ARGS("s", key_id), SD_BUS_RESULT("s", key_material_id),
                                method_rotate_key_on_demand, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnableKeyRotation", SD_BUS_ARGS("s", key_id, "u", rotation_period_in_days),
                                SD_BUS_NO_RESULT, method_enable_key_rotation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DisableKeyRotation", SD_BUS_ARGS("s", key_id), SD_BUS_NO_RESULT,
                                method_disable_key_rotation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetKeyRotationStatus",
                                SD_BUS_ARGS("s", key_id),
                                SD_BUS_RESULT("b", enabled, "u", rotation_period_in_days, "t", next_rotation_date,
                                              "t", on_demand_rotation_start_date),
                                method_get_key_rotation_status,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListKeyRotations",
                                SD_BUS_ARGS("s", key_id, "u", limit, "s", marker),
                                SD_BUS_RESULT("aa{sv}", rotations, "s", next_marker, "b", truncated),
                                method_list_key_rotations,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UpdateMacVerifyWindow", SD_BUS_ARGS("s", key_id, "u", days), SD_BUS_NO_RESULT,
                                method_update_mac_verify_window, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RetireKeyMaterial", SD_BUS_ARGS("s", key_id, "s", key_material_id),
                                SD_BUS_NO_RESULT, method_retire_key_material, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_kms_add_object(sd_bus *bus, BusKms *b) {
        return sd_bus_add_object_vtable(bus, NULL, HMACD_OBJECT_PATH, HMACD_INTERFACE, kms_vtable, b);
}
