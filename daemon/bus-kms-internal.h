/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the two halves of the bus adapter (bus-kms.c, bus-kms-names.c) share. */
#pragma once

#include "bus-kms.h"
#include "bus-reply.h"

/* Authorizes c for key e (NULL: no key) or with the given details: 1 allowed, 0 pending (the message
 * is dispatched again when polkit answers), or a negative errno with the error set and audited. */
int call_authorize(BusKms *b, Call *c, KeyEntry *e);
int call_authorize_details(BusKms *b, Call *c, const char *details, size_t details_size);

/* Management methods take a key ID or key ARN as their first argument, as in AWS: sets c up and
 * reads it (resolved later, by resolve_and_authorize(), once every argument is validated).
 * Returns 1, 0 while the caller is being identified, or a negative errno with the error set. */
int begin_key_call(BusKms *b, Call *c, sd_bus_message *message, sd_bus_error *error, KmsOperation operation,
                   Action action, const char **ret_key_ref);
/* Resolves key_ref (any_form: alias names and alias ARNs too) and authorizes c on the key: 1 allowed,
 * 0 pending, or a negative errno with the error set. For a caller who is not trusted, a reference
 * that names nothing is refused exactly as an existing key would be unless polkit allows it. */
int resolve_and_authorize(BusKms *b, Call *c, const char *key_ref, bool any_form, KeyEntry **ret);
/* begin_key_call() and resolve_and_authorize() at once, for a method whose only argument is the key:
 * 1 with *ret set, 0 while the caller is identified or polkit asked, or a negative errno. */
int open_key_call(BusKms *b, Call *c, sd_bus_message *message, sd_bus_error *error, KmsOperation operation,
                  Action action, KeyEntry **ret);
/* Ends c with condition, which is about key_ref; KMS_COND_KEY_NOT_FOUND and KMS_COND_ALIAS_NOT_FOUND
 * only after polkit allowed an untrusted caller (with details key_ref) to learn it. */
int call_fail_unknown(BusKms *b, Call *c, const char *key_ref, int condition);

int method_create_alias(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_update_alias(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_delete_alias(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_aliases(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_tag_resource(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_untag_resource(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_resource_tags(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_parameters_for_import(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_import_key_material(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_delete_imported_key_material(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_verify_mac_batch(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_rotate_key_on_demand(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_enable_key_rotation(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_disable_key_rotation(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_key_rotation_status(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_key_rotations(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_update_mac_verify_window(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_retire_key_material(sd_bus_message *message, void *userdata, sd_bus_error *error);
/* Reads a message of a MAC call (1..4096 bytes, checked). */
int read_message(Call *c, const void **ret, size_t *ret_size);
/* Reads an aay of 1..4096 members, each size_min..size_max bytes (field: "messages", "macs"). */
int read_batch(Call *c, const char *field, size_t size_min, size_t size_max, struct iovec *v, size_t *ret_n);

/* The start of GenerateMacBatch and VerifyMacBatch: key_id, the messages (into b->batch) and the
 * algorithm, checked. Returns 0, or a negative errno with the error set (or a read error). */
int read_mac_batch(BusKms *b, Call *c, const char **ret_key_id, size_t *ret_n, KeySpec *ret_alg);

/* Reads the a{ss} tags of a request into tags (KMS_TAGS_PER_KEY_MAX), checked. */
int read_tags(Call *c, KeyTag *tags, size_t *ret_n);
