/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libhmacd: the client side of io.hmacd.Kms1, one synchronous sd-bus call per function. Errors of
 * the service are handed back by AWS exception name; the library never logs and never exits. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-bus.h>

#include "hmacd.h"
#include "kms.h"
#include "macro.h"

/* The public header's limits are the service's own (common/kms.h), spelled out for clients. */
static_assert(HMACD_MAC_SIZE_MAX == KMS_MAC_SIZE_MAX, "HMACD_MAC_SIZE_MAX differs from KMS_MAC_SIZE_MAX");
static_assert(HMACD_MESSAGE_MAX == KMS_MESSAGE_MAX, "HMACD_MESSAGE_MAX differs from KMS_MESSAGE_MAX");
static_assert(HMACD_BATCH_MAX == KMS_BATCH_MAX, "HMACD_BATCH_MAX differs from KMS_BATCH_MAX");
static_assert(HMACD_KEY_MATERIAL_ID_LENGTH == KMS_KEY_MATERIAL_ID_LENGTH,
              "HMACD_KEY_MATERIAL_ID_LENGTH differs from KMS_KEY_MATERIAL_ID_LENGTH");
static_assert(HMACD_PREVIOUS_MATERIALS_MAX == KMS_PREVIOUS_MATERIALS_MAX,
              "HMACD_PREVIOUS_MATERIALS_MAX differs from KMS_PREVIOUS_MATERIALS_MAX");

struct Hmacd {
        sd_bus *bus;
        bool allow_interactive_authorization;
};

_public_ void hmacd_error_clear(HmacdError *e) {
        if (!e)
                return;
        free(e->name);
        free(e->message);
        *e = (HmacdError) {};
}

static int free_and_strdup(char **p, const char *s) {
        char *t = NULL;

        if (s) {
                t = strdup(s);
                if (!t)
                        return -ENOMEM;
        }
        free(*p);
        *p = t;
        return 0;
}

static void *memdup(const void *p, size_t n) {
        void *q = malloc(n);

        return q ? memcpy(q, p, n) : NULL;
}

/* Turns a failed call into the return value of the public function, and fills ret_error when the
 * bus or the service named an error. hmacd's own errors (io.hmacd.Kms1.Error.<Exception>) map to the
 * errno of kms_error_to_errno(); any other D-Bus error to the errno sd-bus derives from its name. */
static int translate_error(const sd_bus_error *error, int r, HmacdError *ret_error) {
        const char *name, *exception = NULL;
        _cleanup_free_ char *n = NULL, *m = NULL;

        if (!sd_bus_error_is_set(error))
                return r < 0 ? r : -EIO;

        name = error->name;
        if (strncmp(name, HMACD_ERROR_PREFIX, strlen(HMACD_ERROR_PREFIX)) == 0) {
                KmsError k;

                exception = name + strlen(HMACD_ERROR_PREFIX);
                k = kms_error_from_exception(exception);
                r = k > 0 ? -kms_error_to_errno(k) : -EIO;
        } else {
                r = sd_bus_error_get_errno(error);
                r = r > 0 ? -r : -EIO;
        }

        if (!ret_error)
                return r;

        n = strdup(exception ?: name);
        m = strdup(strempty(error->message));
        if (!n || !m)
                return -ENOMEM;

        ret_error->name = TAKE_PTR(n);
        ret_error->message = TAKE_PTR(m);
        ret_error->service = exception != NULL;
        return r;
}

static int new_method_call(Hmacd *h, const char *member, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(h->bus, &m, HMACD_BUS_NAME, HMACD_OBJECT_PATH, HMACD_INTERFACE,
                                           member);
        if (r < 0)
                return r;

        r = sd_bus_message_set_allow_interactive_authorization(m, h->allow_interactive_authorization);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

static int call(Hmacd *h, sd_bus_message *m, sd_bus_message **ret_reply, HmacdError *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call(h->bus, m, 0, &error, ret_reply);
        if (r < 0)
                return translate_error(&error, r, ret_error);
        return 0;
}

/* One call whose arguments are all basic types: types and the values as for sd_bus_message_append(). */
static int call_method(Hmacd *h, const char *member, sd_bus_message **ret_reply, HmacdError *ret_error,
                       const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        va_list ap;
        int r;

        r = new_method_call(h, member, &m);
        if (r < 0)
                return r;

        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;

        r = call(h, m, &reply, ret_error);
        if (r < 0)
                return r;

        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* Makes room for one more element of an array that grows by doubling. */
static int grow(void **p, size_t *allocated, size_t n, size_t size) {
        size_t k;
        void *q;

        if (n < *allocated)
                return 0;
        k = MAX(*allocated * 2, (size_t) 16);
        q = reallocarray(*p, k, size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *allocated = k;
        return 0;
}

static int append_tags(sd_bus_message *m, const HmacdTag *tags, size_t n_tags) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_tags; i++) {
                if (!tags[i].key)
                        return -EINVAL;
                r = sd_bus_message_append(m, "{ss}", tags[i].key, strempty(tags[i].value));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static bool iovec_valid(const struct iovec *v, size_t n) {
        if (n > 0 && !v)
                return false;
        for (size_t i = 0; i < n; i++)
                if (v[i].iov_len > 0 && !v[i].iov_base)
                        return false;
        return true;
}

/* An "aay": the batch methods' messages and MACs. */
static int append_byte_arrays(sd_bus_message *m, const struct iovec *v, size_t n) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "ay");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_append_array(m, 'y', v[i].iov_base, v[i].iov_len);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* The "s key_id, aay messages, s mac_algorithm" that GenerateMacBatch and VerifyMacBatch begin with.
 * The message is sensitive, as for GenerateMac and VerifyMac: sd-bus wipes it, messages and MACs
 * included, when it frees it. */
static int new_batch_call(Hmacd *h, const char *member, const char *key_id, const struct iovec *messages,
                          size_t n_messages, const char *mac_algorithm, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_method_call(h, member, &m);
        if (r < 0)
                return r;
        r = sd_bus_message_sensitive(m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", key_id);
        if (r < 0)
                return r;
        r = append_byte_arrays(m, messages, n_messages);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", strempty(mac_algorithm));
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

/* The "s next_marker, b truncated" that ends every List* reply. */
static int read_page_end(sd_bus_message *m, char **ret_next_marker, bool *ret_truncated) {
        const char *next;
        int r, truncated;

        r = sd_bus_message_read(m, "sb", &next, &truncated);
        if (r < 0)
                return r;

        *ret_truncated = truncated;
        if (truncated) {
                *ret_next_marker = strdup(next);
                if (!*ret_next_marker)
                        return -ENOMEM;
        }
        return 0;
}

_public_ int hmacd_open(HmacdBusType type, Hmacd **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        Hmacd *h;
        int r;

        if (!ret)
                return -EINVAL;

        switch (type) {
        case HMACD_BUS_SYSTEM:
                r = sd_bus_open_system(&bus);
                break;
        case HMACD_BUS_USER:
                r = sd_bus_open_user(&bus);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;

        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;

        h->bus = TAKE_PTR(bus);
        *ret = h;
        return 0;
}

_public_ Hmacd *hmacd_close(Hmacd *h) {
        if (!h)
                return NULL;
        sd_bus_flush_close_unref(h->bus);
        free(h);
        return NULL;
}

_public_ void hmacd_set_allow_interactive_authorization(Hmacd *h, bool b) {
        if (h)
                h->allow_interactive_authorization = b;
}

_public_ HmacdKeyMetadata *hmacd_key_metadata_free(HmacdKeyMetadata *m) {
        if (!m)
                return NULL;
        free(m->key_id);
        free(m->arn);
        free(m->description);
        free(m->key_usage);
        free(m->key_state);
        free(m->origin);
        free(m->key_manager);
        free(m->key_spec);
        free(m->mac_algorithm);
        free(m->expiration_model);
        free(m->owner);
        free(m->current_key_material_id);
        free(m);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdKeyMetadata *, hmacd_key_metadata_free);

_public_ HmacdKeyList *hmacd_key_list_free(HmacdKeyList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_keys; i++) {
                free(l->keys[i].key_id);
                free(l->keys[i].key_arn);
        }
        free(l->keys);
        free(l->next_marker);
        free(l);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdKeyList *, hmacd_key_list_free);

_public_ HmacdAliasList *hmacd_alias_list_free(HmacdAliasList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_aliases; i++) {
                free(l->aliases[i].alias_name);
                free(l->aliases[i].alias_arn);
                free(l->aliases[i].target_key_id);
        }
        free(l->aliases);
        free(l->next_marker);
        free(l);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdAliasList *, hmacd_alias_list_free);

_public_ HmacdTagList *hmacd_tag_list_free(HmacdTagList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_tags; i++) {
                free((char *) l->tags[i].key);
                free((char *) l->tags[i].value);
        }
        free(l->tags);
        free(l->next_marker);
        free(l);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdTagList *, hmacd_tag_list_free);

typedef enum FieldType {
        FIELD_STRING,
        FIELD_UINT64,
        FIELD_UINT32,
        FIELD_BOOL,
        FIELD_FIRST_STRING,     /* "as", of which we keep the first entry */
} FieldType;

/* One known member of an a{sv} dictionary the service answers with, and where it goes in our struct. */
typedef struct Field {
        const char *name;
        const char *signature;
        FieldType type;
        size_t offset;
} Field;

static const Field metadata_fields[] = {
#define F(name, sig, type, member) { name, sig, type, offsetof(HmacdKeyMetadata, member) }
        F("KeyId", "s", FIELD_STRING, key_id),
        F("Arn", "s", FIELD_STRING, arn),
        F("CreationDate", "t", FIELD_UINT64, creation_date),
        F("Enabled", "b", FIELD_BOOL, enabled),
        F("Description", "s", FIELD_STRING, description),
        F("KeyUsage", "s", FIELD_STRING, key_usage),
        F("KeyState", "s", FIELD_STRING, key_state),
        F("DeletionDate", "t", FIELD_UINT64, deletion_date),
        F("Origin", "s", FIELD_STRING, origin),
        F("ExpirationModel", "s", FIELD_STRING, expiration_model),
        F("ValidTo", "t", FIELD_UINT64, valid_to),
        F("KeyManager", "s", FIELD_STRING, key_manager),
        F("KeySpec", "s", FIELD_STRING, key_spec),
        F("MacAlgorithms", "as", FIELD_FIRST_STRING, mac_algorithm),
        F("MultiRegion", "b", FIELD_BOOL, multi_region),
        F("OwnerUid", "u", FIELD_UINT32, owner_uid),
        F("Owner", "s", FIELD_STRING, owner),
        F("CurrentKeyMaterialId", "s", FIELD_STRING, current_key_material_id),
        F("MacVerifyWindowInDays", "u", FIELD_UINT32, mac_verify_window_in_days),
#undef F
};

static const Field rotation_fields[] = {
#define F(name, sig, type, member) { name, sig, type, offsetof(HmacdKeyRotation, member) }
        F("KeyMaterialId", "s", FIELD_STRING, key_material_id),
        F("KeyMaterialState", "s", FIELD_STRING, key_material_state),
        F("RotationDate", "t", FIELD_UINT64, rotation_date),
        F("RotationType", "s", FIELD_STRING, rotation_type),
        F("VerifyUntil", "t", FIELD_UINT64, verify_until),
#undef F
};

static int read_field(sd_bus_message *m, const Field *f, void *base) {
        void *p = (uint8_t *) base + f->offset;
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        /* A known field of another type is a broken contract, not something to skip over. */
        if (type != 'v' || !streq(contents, f->signature))
                return -EBADMSG;

        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;

        switch (f->type) {
        case FIELD_STRING: {
                const char *s;

                r = sd_bus_message_read_basic(m, 's', &s);
                if (r < 0)
                        return r;
                r = free_and_strdup(p, s);
                break;
        }
        case FIELD_UINT64:
                r = sd_bus_message_read_basic(m, 't', p);
                break;
        case FIELD_UINT32:
                r = sd_bus_message_read_basic(m, 'u', p);
                break;
        case FIELD_BOOL: {
                int b;

                r = sd_bus_message_read_basic(m, 'b', &b);
                if (r >= 0)
                        *(bool *) p = b;
                break;
        }
        case FIELD_FIRST_STRING: {
                const char *s, *first = NULL;

                r = sd_bus_message_enter_container(m, 'a', "s");
                if (r < 0)
                        return r;
                while ((r = sd_bus_message_read_basic(m, 's', &s)) > 0)
                        if (!first)
                                first = s;
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                r = free_and_strdup(p, first);
                break;
        }
        }
        if (r < 0)
                return r;

        return sd_bus_message_exit_container(m);
}

/* Reads one a{sv} into base, by the fields table: 1 when a dictionary was read, 0 at the end of an
 * enclosing array (as sd-bus reads arrays), negative errno on failure. */
static int read_dict(sd_bus_message *m, const Field *fields, size_t n_fields, void *base) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r <= 0)
                return r;

        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *field;
                size_t i;

                r = sd_bus_message_read_basic(m, 's', &field);
                if (r < 0)
                        return r;

                for (i = 0; i < n_fields; i++)
                        if (streq(fields[i].name, field))
                                break;

                /* Fields this library does not know yet are skipped: the service may add some. */
                if (i < n_fields)
                        r = read_field(m, &fields[i], base);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;

                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return 1;
}

static int read_key_metadata(sd_bus_message *m, HmacdKeyMetadata **ret) {
        _cleanup_(hmacd_key_metadata_freep) HmacdKeyMetadata *md = NULL;
        int r;

        md = calloc(1, sizeof *md);
        if (!md)
                return -ENOMEM;

        r = read_dict(m, metadata_fields, ELEMENTSOF(metadata_fields), md);
        if (r < 0)
                return r;
        if (r == 0 || !md->key_id || !md->arn)
                return -EBADMSG;

        *ret = TAKE_PTR(md);
        return 0;
}

_public_ int hmacd_create_key_with_verify_window(Hmacd *h, const char *key_spec, const char *key_usage,
                                                const char *description, const HmacdTag *tags, size_t n_tags,
                                                const char *origin, uint32_t mac_verify_window_in_days,
                                                HmacdKeyMetadata **ret, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        if (!h || !ret || (n_tags > 0 && !tags))
                return -EINVAL;

        r = new_method_call(h, "CreateKey", &m);
        if (r < 0)
                return r;

        r = sd_bus_message_append(m, "sss", strempty(key_spec), strempty(key_usage), strempty(description));
        if (r < 0)
                return r;

        r = append_tags(m, tags, n_tags);
        if (r < 0)
                return r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        if (origin) {
                r = sd_bus_message_append(m, "{sv}", "Origin", "s", origin);
                if (r < 0)
                        return r;
        }
        /* 0 is the service's default: leave the option out, so that a service without key material
         * versions still takes the call. */
        if (mac_verify_window_in_days > 0) {
                r = sd_bus_message_append(m, "{sv}", "MacVerifyWindowInDays", "u",
                                          mac_verify_window_in_days);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;

        r = call(h, m, &reply, error);
        if (r < 0)
                return r;

        return read_key_metadata(reply, ret);
}

_public_ int hmacd_create_key(Hmacd *h, const char *key_spec, const char *key_usage, const char *description,
                              const HmacdTag *tags, size_t n_tags, const char *origin,
                              HmacdKeyMetadata **ret, HmacdError *error) {
        return hmacd_create_key_with_verify_window(h, key_spec, key_usage, description, tags, n_tags, origin,
                                                   0, ret, error);
}

/* Hands a copy of the key ARN of a reply to the caller, if it wants one. */
static int return_key_arn(const char *arn, char **ret) {
        if (!ret)
                return 0;
        *ret = strdup(arn);
        return *ret ? 0 : -ENOMEM;
}

_public_ int hmacd_generate_mac(Hmacd *h, const char *key_id, const void *message, size_t message_size,
                                const char *mac_algorithm, uint8_t *ret_mac, size_t *ret_mac_size,
                                char **ret_key_arn, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *arn;
        const void *mac;
        size_t mac_size;
        int r;

        if (!h || !key_id || (message_size > 0 && !message) || !ret_mac || !ret_mac_size)
                return -EINVAL;

        r = new_method_call(h, "GenerateMac", &m);
        if (r < 0)
                return r;

        /* sd-bus erases sensitive messages when it frees them, so the copies of the message and the
         * MAC that live in the bus messages are wiped along with them. */
        r = sd_bus_message_sensitive(m);
        if (r < 0)
                return r;

        r = sd_bus_message_append(m, "s", key_id);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(m, 'y', message, message_size);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", strempty(mac_algorithm));
        if (r < 0)
                return r;

        r = call(h, m, &reply, error);
        if (r < 0)
                return r;

        r = sd_bus_message_sensitive(reply);
        if (r < 0)
                return r;

        r = sd_bus_message_read_array(reply, 'y', &mac, &mac_size);
        if (r < 0)
                return r;
        if (mac_size == 0 || mac_size > HMACD_MAC_SIZE_MAX)
                return -EBADMSG;
        r = sd_bus_message_read(reply, "s", &arn);
        if (r < 0)
                return r;
        r = return_key_arn(arn, ret_key_arn);
        if (r < 0)
                return r;

        memcpy(ret_mac, mac, mac_size);
        *ret_mac_size = mac_size;
        return 0;
}

_public_ int hmacd_verify_mac(Hmacd *h, const char *key_id, const void *message, size_t message_size,
                              const char *mac_algorithm, const void *mac, size_t mac_size,
                              char **ret_key_arn, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *arn;
        int r, valid;

        if (!h || !key_id || (message_size > 0 && !message) || (mac_size > 0 && !mac))
                return -EINVAL;

        r = new_method_call(h, "VerifyMac", &m);
        if (r < 0)
                return r;

        r = sd_bus_message_sensitive(m);
        if (r < 0)
                return r;

        r = sd_bus_message_append(m, "s", key_id);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(m, 'y', message, message_size);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", strempty(mac_algorithm));
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(m, 'y', mac, mac_size);
        if (r < 0)
                return r;

        r = call(h, m, &reply, error);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "bs", &valid, &arn);
        if (r < 0)
                return r;

        /* The service never answers false (it fails with KMSInvalidMacException instead); should one
         * do so anyway, report it the same way rather than let a caller mistake it for success. */
        if (!valid) {
                if (error) {
                        _cleanup_free_ char *n = strdup("KMSInvalidMacException"), *msg = strdup("");

                        if (!n || !msg)
                                return -ENOMEM;
                        error->name = TAKE_PTR(n);
                        error->message = TAKE_PTR(msg);
                        error->service = true;
                }
                return -kms_error_to_errno(KMS_ERROR_INVALID_MAC);
        }

        return return_key_arn(arn, ret_key_arn);
}

_public_ int hmacd_generate_mac_batch(Hmacd *h, const char *key_id, const struct iovec *messages,
                                      size_t n_messages, const char *mac_algorithm, uint8_t *ret_macs,
                                      size_t *ret_mac_size, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        size_t n = 0, mac_size = 0;
        int r;

        if (!h || !key_id || !iovec_valid(messages, n_messages) || !ret_macs || !ret_mac_size)
                return -EINVAL;

        r = new_batch_call(h, "GenerateMacBatch", key_id, messages, n_messages, mac_algorithm, &m);
        if (r < 0)
                return r;

        r = call(h, m, &reply, error);
        if (r < 0)
                return r;

        r = sd_bus_message_sensitive(reply);
        if (r < 0)
                return r;

        /* Exactly one tag per message, all of one length: anything else is a broken reply, and
         * nothing may be written beyond the n_messages slots the caller gave us. */
        r = sd_bus_message_enter_container(reply, 'a', "ay");
        if (r < 0)
                return r;
        for (;;) {
                const void *mac;
                size_t size;

                r = sd_bus_message_read_array(reply, 'y', &mac, &size);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
                if (n >= n_messages || size == 0 || size > HMACD_MAC_SIZE_MAX ||
                    (n > 0 && size != mac_size)) {
                        r = -EBADMSG;
                        goto fail;
                }
                memcpy(ret_macs + n * HMACD_MAC_SIZE_MAX, mac, size);
                mac_size = size;
                n++;
        }
        if (n != n_messages) {
                r = -EBADMSG;
                goto fail;
        }
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                goto fail;

        *ret_mac_size = mac_size;
        return 0;

fail:
        explicit_bzero(ret_macs, n * HMACD_MAC_SIZE_MAX);
        return r;
}

_public_ int hmacd_describe_key(Hmacd *h, const char *key_id, HmacdKeyMetadata **ret, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (!h || !key_id || !ret)
                return -EINVAL;

        r = call_method(h, "DescribeKey", &reply, error, "s", key_id);
        if (r < 0)
                return r;

        return read_key_metadata(reply, ret);
}

_public_ int hmacd_list_keys(Hmacd *h, uint32_t limit, const char *marker, HmacdKeyList **ret,
                             HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(hmacd_key_list_freep) HmacdKeyList *l = NULL;
        const char *id, *arn;
        size_t allocated = 0;
        int r;

        if (!h || !ret)
                return -EINVAL;

        r = call_method(h, "ListKeys", &reply, error, "us", limit, strempty(marker));
        if (r < 0)
                return r;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;

        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ss)", &id, &arn)) > 0) {
                HmacdKeyListEntry *e;

                if (grow((void **) &l->keys, &allocated, l->n_keys, sizeof *l->keys) < 0)
                        return -ENOMEM;
                e = &l->keys[l->n_keys++];
                *e = (HmacdKeyListEntry) { .key_id = strdup(id), .key_arn = strdup(arn) };
                if (!e->key_id || !e->key_arn)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;

        r = read_page_end(reply, &l->next_marker, &l->truncated);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(l);
        return 0;
}

_public_ int hmacd_enable_key(Hmacd *h, const char *key_id, HmacdError *error) {
        if (!h || !key_id)
                return -EINVAL;
        return call_method(h, "EnableKey", NULL, error, "s", key_id);
}

_public_ int hmacd_disable_key(Hmacd *h, const char *key_id, HmacdError *error) {
        if (!h || !key_id)
                return -EINVAL;
        return call_method(h, "DisableKey", NULL, error, "s", key_id);
}

_public_ int hmacd_schedule_key_deletion(Hmacd *h, const char *key_id, uint32_t pending_window_in_days,
                                         uint64_t *ret_deletion_date, uint32_t *ret_pending_window_in_days,
                                         HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t date;
        uint32_t days;
        int r;

        if (!h || !key_id)
                return -EINVAL;

        r = call_method(h, "ScheduleKeyDeletion", &reply, error, "su", key_id, pending_window_in_days);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "tu", &date, &days);
        if (r < 0)
                return r;

        if (ret_deletion_date)
                *ret_deletion_date = date;
        if (ret_pending_window_in_days)
                *ret_pending_window_in_days = days;
        return 0;
}

_public_ int hmacd_cancel_key_deletion(Hmacd *h, const char *key_id, HmacdError *error) {
        if (!h || !key_id)
                return -EINVAL;
        return call_method(h, "CancelKeyDeletion", NULL, error, "s", key_id);
}

_public_ int hmacd_update_key_description(Hmacd *h, const char *key_id, const char *description,
                                          HmacdError *error) {
        if (!h || !key_id)
                return -EINVAL;
        return call_method(h, "UpdateKeyDescription", NULL, error, "ss", key_id, strempty(description));
}

_public_ int hmacd_create_alias(Hmacd *h, const char *alias_name, const char *target_key_id,
                                HmacdError *error) {
        if (!h || !alias_name || !target_key_id)
                return -EINVAL;
        return call_method(h, "CreateAlias", NULL, error, "ss", alias_name, target_key_id);
}

_public_ int hmacd_update_alias(Hmacd *h, const char *alias_name, const char *target_key_id,
                                HmacdError *error) {
        if (!h || !alias_name || !target_key_id)
                return -EINVAL;
        return call_method(h, "UpdateAlias", NULL, error, "ss", alias_name, target_key_id);
}

_public_ int hmacd_delete_alias(Hmacd *h, const char *alias_name, HmacdError *error) {
        if (!h || !alias_name)
                return -EINVAL;
        return call_method(h, "DeleteAlias", NULL, error, "s", alias_name);
}

_public_ int hmacd_list_aliases(Hmacd *h, const char *key_id, uint32_t limit, const char *marker,
                                HmacdAliasList **ret, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(hmacd_alias_list_freep) HmacdAliasList *l = NULL;
        const char *name, *arn, *target;
        uint64_t created, updated;
        size_t allocated = 0;
        int r;

        if (!h || !ret)
                return -EINVAL;

        r = call_method(h, "ListAliases", &reply, error, "sus", strempty(key_id), limit, strempty(marker));
        if (r < 0)
                return r;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;

        r = sd_bus_message_enter_container(reply, 'a', "(ssstt)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ssstt)", &name, &arn, &target, &created, &updated)) > 0) {
                HmacdAlias *a;

                if (grow((void **) &l->aliases, &allocated, l->n_aliases, sizeof *l->aliases) < 0)
                        return -ENOMEM;
                a = &l->aliases[l->n_aliases++];
                *a = (HmacdAlias) {
                        .alias_name = strdup(name),
                        .alias_arn = strdup(arn),
                        .target_key_id = strdup(target),
                        .creation_date = created,
                        .last_updated_date = updated,
                };
                if (!a->alias_name || !a->alias_arn || !a->target_key_id)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;

        r = read_page_end(reply, &l->next_marker, &l->truncated);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(l);
        return 0;
}

_public_ int hmacd_tag_resource(Hmacd *h, const char *key_id, const HmacdTag *tags, size_t n_tags,
                                HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        if (!h || !key_id || (n_tags > 0 && !tags))
                return -EINVAL;

        r = new_method_call(h, "TagResource", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", key_id);
        if (r < 0)
                return r;
        r = append_tags(m, tags, n_tags);
        if (r < 0)
                return r;

        return call(h, m, &reply, error);
}

_public_ int hmacd_untag_resource(Hmacd *h, const char *key_id, const char *const *tag_keys,
                                  size_t n_tag_keys, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        if (!h || !key_id || (n_tag_keys > 0 && !tag_keys))
                return -EINVAL;

        r = new_method_call(h, "UntagResource", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", key_id);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "s");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_tag_keys; i++) {
                if (!tag_keys[i])
                        return -EINVAL;
                r = sd_bus_message_append_basic(m, 's', tag_keys[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;

        return call(h, m, &reply, error);
}

_public_ int hmacd_list_resource_tags(Hmacd *h, const char *key_id, uint32_t limit, const char *marker,
                                      HmacdTagList **ret, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(hmacd_tag_list_freep) HmacdTagList *l = NULL;
        const char *key, *value;
        size_t allocated = 0;
        int r;

        if (!h || !key_id || !ret)
                return -EINVAL;

        r = call_method(h, "ListResourceTags", &reply, error, "sus", key_id, limit, strempty(marker));
        if (r < 0)
                return r;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;

        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ss)", &key, &value)) > 0) {
                HmacdTag *t;

                if (grow((void **) &l->tags, &allocated, l->n_tags, sizeof *l->tags) < 0)
                        return -ENOMEM;
                t = &l->tags[l->n_tags++];
                *t = (HmacdTag) { .key = strdup(key), .value = strdup(value) };
                if (!t->key || !t->value)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;

        r = read_page_end(reply, &l->next_marker, &l->truncated);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(l);
        return 0;
}

static int get_property(Hmacd *h, const char *member, char type, void *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!h || !ret)
                return -EINVAL;

        if (type == 's')
                r = sd_bus_get_property_string(h->bus, HMACD_BUS_NAME, HMACD_OBJECT_PATH, HMACD_INTERFACE,
                                               member, &error, ret);
        else
                r = sd_bus_get_property_trivial(h->bus, HMACD_BUS_NAME, HMACD_OBJECT_PATH, HMACD_INTERFACE,
                                                member, &error, type, ret);
        if (r < 0)
                return translate_error(&error, r, NULL);
        return 0;
}

_public_ int hmacd_get_version(Hmacd *h, char **ret) {
        return get_property(h, "Version", 's', ret);
}

_public_ int hmacd_get_backend(Hmacd *h, char **ret) {
        return get_property(h, "Backend", 's', ret);
}

_public_ int hmacd_get_max_message_size(Hmacd *h, uint32_t *ret) {
        return get_property(h, "MaxMessageSize", 'u', ret);
}

_public_ HmacdCounterList *hmacd_counter_list_free(HmacdCounterList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                free(l->counters[i].name);
        free(l->counters);
        free(l);
        return NULL;
}

static void counter_list_freep(HmacdCounterList **l) {
        hmacd_counter_list_free(*l);
}

#define COUNTERS_MAX 1024

_public_ int hmacd_get_counters(Hmacd *h, HmacdCounterList **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(counter_list_freep) HmacdCounterList *l = NULL;
        const char *name;
        uint64_t value;
        int r;

        if (!h || !ret)
                return -EINVAL;

        r = sd_bus_get_property(h->bus, HMACD_BUS_NAME, HMACD_OBJECT_PATH, HMACD_INTERFACE, "Counters", &error,
                                &reply, "a{st}");
        if (r < 0)
                return translate_error(&error, r, NULL);

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        r = sd_bus_message_enter_container(reply, 'a', "{st}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "{st}", &name, &value)) > 0) {
                HmacdCounter *v;

                if (l->n >= COUNTERS_MAX)
                        return -E2BIG;
                v = realloc(l->counters, (l->n + 1) * sizeof *v);
                if (!v)
                        return -ENOMEM;
                l->counters = v;
                l->counters[l->n] = (HmacdCounter) { .name = strdup(name), .value = value };
                if (!l->counters[l->n].name)
                        return -ENOMEM;
                l->n++;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(l);
        return 0;
}

_public_ int hmacd_get_parameters_for_import(Hmacd *h, const char *key_id, const char *wrapping_algorithm,
                                             const char *wrapping_key_spec, uint8_t **ret_token,
                                             size_t *ret_token_size, uint8_t **ret_public_key,
                                             size_t *ret_public_key_size, uint64_t *ret_valid_to,
                                             HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ uint8_t *token_copy = NULL, *public_key_copy = NULL;
        const void *token, *public_key;
        size_t token_size, public_key_size;
        uint64_t valid_to;
        int r;

        if (!h || !key_id)
                return -EINVAL;

        r = call_method(h, "GetParametersForImport", &reply, error, "sss", key_id,
                        strempty(wrapping_algorithm), strempty(wrapping_key_spec));
        if (r < 0)
                return r;

        r = sd_bus_message_read_array(reply, 'y', &token, &token_size);
        if (r < 0)
                return r;
        r = sd_bus_message_read_array(reply, 'y', &public_key, &public_key_size);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "t", &valid_to);
        if (r < 0)
                return r;
        if (token_size == 0 || public_key_size == 0)
                return -EBADMSG;

        if (ret_token) {
                token_copy = memdup(token, token_size);
                if (!token_copy)
                        return -ENOMEM;
        }
        if (ret_public_key) {
                public_key_copy = memdup(public_key, public_key_size);
                if (!public_key_copy)
                        return -ENOMEM;
        }

        if (ret_token)
                *ret_token = TAKE_PTR(token_copy);
        if (ret_token_size)
                *ret_token_size = token_size;
        if (ret_public_key)
                *ret_public_key = TAKE_PTR(public_key_copy);
        if (ret_public_key_size)
                *ret_public_key_size = public_key_size;
        if (ret_valid_to)
                *ret_valid_to = valid_to;
        return 0;
}

_public_ int hmacd_import_key_material(Hmacd *h, const char *key_id, const void *token, size_t token_size,
                                       const void *encrypted, size_t encrypted_size,
                                       const char *expiration_model, uint64_t valid_to, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        if (!h || !key_id || (token_size > 0 && !token) || (encrypted_size > 0 && !encrypted))
                return -EINVAL;

        r = new_method_call(h, "ImportKeyMaterial", &m);
        if (r < 0)
                return r;

        /* The material is wrapped, but whoever holds the wrapping key could unwrap it: treat it as the
         * secret it carries, and let sd-bus wipe the message when it is freed. */
        r = sd_bus_message_sensitive(m);
        if (r < 0)
                return r;

        r = sd_bus_message_append(m, "s", key_id);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(m, 'y', token, token_size);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(m, 'y', encrypted, encrypted_size);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "st", strempty(expiration_model), valid_to);
        if (r < 0)
                return r;

        return call(h, m, &reply, error);
}

_public_ int hmacd_delete_imported_key_material(Hmacd *h, const char *key_id, HmacdError *error) {
        if (!h || !key_id)
                return -EINVAL;
        return call_method(h, "DeleteImportedKeyMaterial", NULL, error, "s", key_id);
}

_public_ int hmacd_verify_mac_batch(Hmacd *h, const char *key_id, const struct iovec *messages,
                                    size_t n_pairs, const char *mac_algorithm, const struct iovec *macs,
                                    bool *ret_valid, char **ret_key_arn, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *arn;
        size_t n = 0;
        int r, valid;

        if (!h || !key_id || !iovec_valid(messages, n_pairs) || !iovec_valid(macs, n_pairs) ||
            (n_pairs > 0 && !ret_valid))
                return -EINVAL;

        r = new_batch_call(h, "VerifyMacBatch", key_id, messages, n_pairs, mac_algorithm, &m);
        if (r < 0)
                return r;
        r = append_byte_arrays(m, macs, n_pairs);
        if (r < 0)
                return r;

        r = call(h, m, &reply, error);
        if (r < 0)
                return r;

        /* Exactly one answer per pair: nothing may be written beyond the caller's n_pairs slots, and
         * a pair left without an answer must not read as anything. */
        r = sd_bus_message_enter_container(reply, 'a', "b");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_basic(reply, 'b', &valid)) > 0) {
                if (n >= n_pairs)
                        return -EBADMSG;
                ret_valid[n++] = valid;
        }
        if (r < 0)
                return r;
        if (n != n_pairs)
                return -EBADMSG;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "s", &arn);
        if (r < 0)
                return r;
        return return_key_arn(arn, ret_key_arn);
}

/* ---- key material versions and rotation ---- */

_public_ HmacdKeyRotationList *hmacd_key_rotation_list_free(HmacdKeyRotationList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_rotations; i++) {
                free(l->rotations[i].key_material_id);
                free(l->rotations[i].key_material_state);
                free(l->rotations[i].rotation_type);
        }
        free(l->rotations);
        free(l->next_marker);
        free(l);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdKeyRotationList *, hmacd_key_rotation_list_free);

_public_ int hmacd_rotate_key_on_demand(Hmacd *h, const char *key_id, char **ret_key_material_id,
                                        HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id;
        int r;

        if (!h || !key_id)
                return -EINVAL;

        r = call_method(h, "RotateKeyOnDemand", &reply, error, "s", key_id);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "s", &id);
        if (r < 0)
                return r;
        if (!ret_key_material_id)
                return 0;
        *ret_key_material_id = strdup(id);
        return *ret_key_material_id ? 0 : -ENOMEM;
}

_public_ int hmacd_enable_key_rotation(Hmacd *h, const char *key_id, uint32_t rotation_period_in_days,
                                       HmacdError *error) {
        if (!h || !key_id)
                return -EINVAL;
        return call_method(h, "EnableKeyRotation", NULL, error, "su", key_id, rotation_period_in_days);
}

_public_ int hmacd_disable_key_rotation(Hmacd *h, const char *key_id, HmacdError *error) {
        if (!h || !key_id)
                return -EINVAL;
        return call_method(h, "DisableKeyRotation", NULL, error, "s", key_id);
}

_public_ int hmacd_get_key_rotation_status(Hmacd *h, const char *key_id, bool *ret_enabled,
                                           uint32_t *ret_rotation_period_in_days,
                                           uint64_t *ret_next_rotation_date,
                                           uint64_t *ret_on_demand_rotation_start_date, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t next, on_demand;
        uint32_t period;
        int r, enabled;

        if (!h || !key_id)
                return -EINVAL;

        r = call_method(h, "GetKeyRotationStatus", &reply, error, "s", key_id);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "butt", &enabled, &period, &next, &on_demand);
        if (r < 0)
                return r;

        if (ret_enabled)
                *ret_enabled = enabled;
        if (ret_rotation_period_in_days)
                *ret_rotation_period_in_days = period;
        if (ret_next_rotation_date)
                *ret_next_rotation_date = next;
        if (ret_on_demand_rotation_start_date)
                *ret_on_demand_rotation_start_date = on_demand;
        return 0;
}

_public_ int hmacd_list_key_rotations(Hmacd *h, const char *key_id, uint32_t limit, const char *marker,
                                      HmacdKeyRotationList **ret, HmacdError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(hmacd_key_rotation_list_freep) HmacdKeyRotationList *l = NULL;
        size_t allocated = 0;
        int r;

        if (!h || !key_id || !ret)
                return -EINVAL;

        r = call_method(h, "ListKeyRotations", &reply, error, "sus", key_id, limit, strempty(marker));
        if (r < 0)
                return r;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;

        r = sd_bus_message_enter_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (;;) {
                HmacdKeyRotation *e;

                if (grow((void **) &l->rotations, &allocated, l->n_rotations, sizeof *l->rotations) < 0)
                        return -ENOMEM;
                /* Counted before it is read, so that whatever a failed read left is freed with the list. */
                e = &l->rotations[l->n_rotations++];
                *e = (HmacdKeyRotation) {};
                r = read_dict(reply, rotation_fields, ELEMENTSOF(rotation_fields), e);
                if (r < 0)
                        return r;
                if (r == 0) {
                        l->n_rotations--;
                        break;
                }
                if (!e->key_material_id || !e->key_material_state)
                        return -EBADMSG;
                /* The initial material has no rotation type: "" rather than NULL, as documented. */
                if (!e->rotation_type) {
                        e->rotation_type = strdup("");
                        if (!e->rotation_type)
                                return -ENOMEM;
                }
        }
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;

        r = read_page_end(reply, &l->next_marker, &l->truncated);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(l);
        return 0;
}

_public_ int hmacd_update_mac_verify_window(Hmacd *h, const char *key_id, uint32_t days, HmacdError *error) {
        if (!h || !key_id)
                return -EINVAL;
        return call_method(h, "UpdateMacVerifyWindow", NULL, error, "su", key_id, days);
}

_public_ int hmacd_retire_key_material(Hmacd *h, const char *key_id, const char *key_material_id,
                                       HmacdError *error) {
        if (!h || !key_id || !key_material_id)
                return -EINVAL;
        return call_method(h, "RetireKeyMaterial", NULL, error, "ss", key_id, key_material_id);
}
