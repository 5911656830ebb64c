/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the two halves of the bus adapter (bus-kms.c, bus-kms-names.c) share. */
#pragma once

#include "bus-kms.h"
#include "bus-reply.h"

/* Authorizes c for key e (NULL: no key) or with the given details: 1 allowed, 0 pending (the message
 * is dispatched again when polkit answers), or a negative errno with the error set and audited. */
int call_authorize(BusKms *b, Call *c, KeyEntry *e);
int call_authorize_details(BusKms *b, Call *c, const char *details, size_t details_size);

/* Management methods take a key ID or key ARN as their first argument, as in AWS: reads it and
 * resolves it. Returns 0, or what call_fail() returned. */
int begin_key_call(BusKms *b, Call *c, sd_bus_message *message, sd_bus_error *error, KmsOperation operation,
                   Action action, KeyEntry **ret);

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
/* Reads the a{ss} tags of a request into tags (KMS_TAGS_PER_KEY_MAX), checked. */
int read_tags(Call *c, KeyTag *tags, size_t *ret_n);
