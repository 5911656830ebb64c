/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io.hmacd.Kms1 interface, second half: aliases, tags and imported key material. */
#include <stdlib.h>
#include <string.h>

#include "bus-kms-internal.h"
#include "kms-check.h"
#include "log.h"
#include "macro.h"

/* ---- Aliases. ---- */

/* An alias name is a resource of its own, as in AWS (kms:CreateAlias on the alias and on the key):
 * whoever may manage a key must not be able to take any free name for it, since rules grant use of
 * keys by alias. A caller who is not trusted needs io.hmacd.manage-alias with details alias_name
 * (the shipped rules allow alias/<user>/...), asked before the alias is looked up, so that the
 * answer tells nothing about names the caller may not hold. */
static int authorize_alias_name(BusKms *b, Call *c, const char *name) {
        _cleanup_free_ char *details = NULL;
        size_t k = strlen("alias_name") + 1, n;
        Action action = c->action;
        int r;

        if (authz_is_trusted(b->authz, &c->caller))
                return 1;
        n = k + strlen(name) + 1;
        details = malloc(n);
        if (!details)
                return call_fail(c, -ENOMEM);
        memcpy(details, "alias_name", k);
        memcpy(details + k, name, n - k);
        c->action = ACTION_MANAGE_ALIAS;
        r = call_authorize_details(b, c, details, n);
        c->action = action;
        return r;
}

int method_create_alias(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *name, *target;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_CREATE_ALIAS, ACTION_MANAGE_KEY);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "ss", &name, &target);
        if (r < 0)
                return r;
        c.key_ref = target;
        r = kms_check_alias_name(&c.failure, name);
        if (r != 0)
                return call_fail(&c, r);
        r = authorize_alias_name(b, &c, name);
        if (r > 0)
                r = resolve_and_authorize(b, &c, target, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_create_alias(b->service, name, e, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

int method_update_alias(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *name, *target;
        KeyEntry *e;
        Alias *a;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_UPDATE_ALIAS, ACTION_MANAGE_KEY);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "ss", &name, &target);
        if (r < 0)
                return r;
        c.key_ref = name;
        r = kms_check_alias_name(&c.failure, name);
        if (r != 0)
                return call_fail(&c, r);
        r = authorize_alias_name(b, &c, name);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_resolve_alias(b->service, name, &c.failure, &a);
        if (r != 0)
                return call_fail(&c, r);
        /* Both the key the alias leaves and the one it goes to must allow it. */
        r = call_authorize(b, &c, a->key);
        if (r > 0)
                r = resolve_and_authorize(b, &c, target, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_update_alias(b->service, a, e, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

int method_delete_alias(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *name;
        Alias *a;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_DELETE_ALIAS, ACTION_MANAGE_KEY);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        c.key_ref = name;
        r = kms_check_alias_name(&c.failure, name);
        if (r != 0)
                return call_fail(&c, r);
        r = authorize_alias_name(b, &c, name);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_resolve_alias(b->service, name, &c.failure, &a);
        if (r != 0)
                return call_fail(&c, r);
        c.key_id = a->key->key_id;
        r = call_authorize(b, &c, a->key);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_delete_alias(b->service, a);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

int method_list_aliases(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        const AliasIndex *ix = &b->service->aliases;
        const char *key_id, *marker;
        char after[KMS_ALIAS_NAME_MAX + 1], next[MARKER_STRING_MAX] = "", arn[ARN_MAX];
        const Alias *last = NULL;
        KeyEntry *e = NULL;
        uint32_t limit, n = 0;
        _cleanup_(call_end) Call c = {};
        int r;

        r = call_begin(&c, b->authz, message, error, KMS_OP_LIST_ALIASES, ACTION_LIST_KEYS);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "sus", &key_id, &limit, &marker);
        if (r < 0)
                return r;
        r = kms_check_limit(&c.failure, &limit, 50, 100);
        if (r == 0)
                r = kms_check_name_marker(&c.failure, marker, after, sizeof after);
        if (r != 0)
                return call_fail(&c, r);
        if (*key_id) {
                c.action = ACTION_DESCRIBE_KEY;
                r = resolve_and_authorize(b, &c, key_id, false, &e);
        } else
                r = call_authorize(b, &c, NULL);
        if (r <= 0)
                return r == 0 ? 1 : r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssstt)");
        for (size_t i = alias_index_after(ix, after); r >= 0 && i < ix->n; i++) {
                const Alias *a = ix->v[i];
                if (e && a->key != e)
                        continue;
                if (n == limit) {
                        r = marker_encode(last->name, strlen(last->name), next, sizeof next);
                        break;
                }
                alias_arn_format(arn, sizeof arn, b->service->machine_id, a->name);
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
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

/* ---- Tags. ---- */

int method_tag_resource(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        KeyTag tags[KMS_TAGS_PER_KEY_MAX];
        size_t n_tags = 0;
        const char *key_ref;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_TAG_RESOURCE, ACTION_MANAGE_KEY, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = read_tags(&c, tags, &n_tags);
        if (r < 0)
                return r;
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_tag(b->service, e, tags, n_tags, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

int method_untag_resource(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *keys[KMS_TAGS_PER_KEY_MAX];
        size_t n_keys = 0;
        const char *key_ref;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_UNTAG_RESOURCE, ACTION_MANAGE_KEY, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
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
                r = kms_check_tag_key(&c.failure, n_keys, k);
                if (r != 0)
                        return call_fail(&c, r);
                keys[n_keys++] = k;
        }
        r = sd_bus_message_exit_container(message);
        if (r < 0)
                return r;
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_untag(b->service, e, keys, n_keys, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

int method_list_resource_tags(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusKms *b = userdata;
        const char *marker;
        char after[4 * KMS_TAG_KEY_MAX + 1], next[MARKER_STRING_MAX] = "";
        uint32_t limit, n = 0;
        const char *key_ref;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_LIST_RESOURCE_TAGS, ACTION_DESCRIBE_KEY, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "us", &limit, &marker);
        if (r < 0)
                return r;
        r = kms_check_limit(&c.failure, &limit, 50, 50);
        if (r == 0)
                r = kms_check_name_marker(&c.failure, marker, after, sizeof after);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && i < e->n_tags; i++) {
                if (*after && strcmp(e->tags[i].key, after) <= 0)
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
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

/* ---- Importing key material (Origin EXTERNAL). ---- */

/* A wrapping key is made on the import worker (import.c); when it is, the request is dispatched
 * again, as after a polkit answer, and this time finds it. */
static int import_ready(void *request, void *userdata) {
        sd_bus_message *m = request;
        int r;

        r = sd_bus_message_rewind(m, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(userdata, m);
        if (r < 0) {
                log_error_errno(r, "Failed to re-dispatch a request after its wrapping key was made: %m");
                (void) sd_bus_reply_method_errorf(m, HMACD_ERROR_PREFIX "KMSInternalException",
                                                  "GetParametersForImport failed: %s", strerror(-r));
        }
        return r;
}

static void *import_ref(void *request) {
        return sd_bus_message_ref(request);
}

static void import_unref(void *request) {
        sd_bus_message_unref(request);
}

int bus_kms_start_import_worker(BusKms *b, sd_bus *bus) {
        return kms_start_import_worker(b->service, &(ImportWorkerOps) {
                .ref_request = import_ref,
                .unref_request = import_unref,
                .ready = import_ready,
                .userdata = bus,
        });
}

typedef struct ImportWait {
        KmsService *service;
        sd_bus_message *message;
        bool waiting;
} ImportWait;

static void import_wait_done(ImportWait *w) {
        if (!w->waiting)
                kms_forget_import(w->service, w->message);
}

int method_get_parameters_for_import(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ uint8_t *token = NULL, *public_key = NULL;
        BusKms *b = userdata;
        const char *alg_name, *spec_name;
        size_t token_size = 0, public_key_size = 0;
        uint64_t valid_to = 0;
        WrappingAlgorithm alg;
        WrappingKeySpec spec;
        const char *key_ref;
        KeyEntry *e;
        _cleanup_(import_wait_done) ImportWait wait = { b->service, message };
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_GET_PARAMETERS_FOR_IMPORT, ACTION_IMPORT_KEY_MATERIAL, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read(message, "ss", &alg_name, &spec_name);
        if (r < 0)
                return r;
        r = kms_check_wrapping(&c.failure, alg_name, spec_name, &alg, &spec);
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;

        r = kms_get_import_parameters(b->service, e, alg, spec, c.caller.uid, message, &token, &token_size, &public_key,
                                      &public_key_size, &valid_to, &c.failure);
        if (r == -EINPROGRESS) {
                /* Its polkit answer stays with it until it comes back (or the linger time passes). */
                wait.waiting = c.pending = true;
                return 1;
        }
        if (r != 0)
                return call_fail(&c, r);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', token, token_size);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', public_key, public_key_size);
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", valid_to);
        if (r < 0)
                return call_fail(&c, r);
        return call_reply(&c, reply);
}

int method_import_key_material(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        const char *model;
        const void *token, *wrapped;
        size_t token_size, wrapped_size;
        uint64_t valid_to;
        const char *key_ref;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = begin_key_call(b, &c, message, error, KMS_OP_IMPORT_KEY_MATERIAL, ACTION_IMPORT_KEY_MATERIAL, &key_ref);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = sd_bus_message_read_array(message, 'y', &token, &token_size);
        if (r >= 0)
                r = sd_bus_message_read_array(message, 'y', &wrapped, &wrapped_size);
        if (r >= 0)
                r = sd_bus_message_read(message, "st", &model, &valid_to);
        if (r < 0)
                return r;
        r = kms_check_length(&c.failure, "importToken", token_size, 1, IMPORT_TOKEN_MAX);
        if (r == 0)
                r = kms_check_length(&c.failure, "encryptedKeyMaterial", wrapped_size, 1, IMPORT_CIPHERTEXT_MAX);
        if (r == 0)
                r = kms_check_expiration(&c.failure, model, valid_to, now_usec());
        if (r != 0)
                return call_fail(&c, r);
        r = resolve_and_authorize(b, &c, key_ref, false, &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_import_material(b->service, e, token, token_size, wrapped, wrapped_size, valid_to, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}

int method_delete_imported_key_material(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusKms *b = userdata;
        KeyEntry *e;
        _cleanup_(call_end) Call c = {};
        int r;

        r = open_key_call(b, &c, message, error, KMS_OP_DELETE_IMPORTED_KEY_MATERIAL, ACTION_IMPORT_KEY_MATERIAL,
                          &e);
        if (r <= 0)
                return r == 0 ? 1 : r;
        r = kms_delete_imported_material(b->service, e, &c.failure);
        if (r != 0)
                return call_fail(&c, r);
        return call_reply(&c, NULL);
}
