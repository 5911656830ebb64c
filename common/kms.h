/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vocabulary daemon, library and CLI share: key specs, MAC algorithms, key states, limits,
 * and the AWS exception names, mapped to D-Bus error names in one place. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HMACD_BUS_NAME "io.hmacd.Kms1"
#define HMACD_OBJECT_PATH "/io/hmacd/Kms1"
#define HMACD_INTERFACE "io.hmacd.Kms1"
#define HMACD_ERROR_PREFIX "io.hmacd.Kms1.Error."

/* Limits of API.md; every user-controlled size has one. */
#define KMS_MESSAGE_MAX 4096u
#define KMS_MAC_MAX 6144u              /* the largest 'mac' argument accepted before it is even compared */
#define KMS_MAC_SIZE_MAX 64u           /* the largest tag hmacd produces (HMAC-SHA-512) */
#define KMS_KEY_MATERIAL_MAX 128u      /* the largest key material (imported HMAC_384/512) */
#define KMS_DESCRIPTION_MAX 8192u      /* in characters (code points) */
#define KMS_TAG_KEY_MAX 128u
#define KMS_TAG_VALUE_MAX 256u
#define KMS_TAGS_PER_KEY_MAX 50u
#define KMS_ALIAS_NAME_MAX 256u
#define KMS_ALIASES_PER_KEY_MAX 50u
#define KMS_KEY_ID_INPUT_MAX 2048u
#define KMS_MARKER_MAX 1024u
#define KMS_LIST_KEYS_LIMIT_MAX 1000u
#define KMS_LIST_KEYS_LIMIT_DEFAULT 100u
#define KMS_BATCH_MAX 4096u

/* Key material versions and rotation (API.md section 3a) */
#define KMS_PREVIOUS_MATERIALS_MAX 25u          /* previous materials kept per key */
#define KMS_KEY_MATERIAL_ID_LENGTH 64u          /* lower-case hex characters */
#define KMS_ROTATION_PERIOD_MIN 90u             /* days */
#define KMS_ROTATION_PERIOD_MAX 2560u
#define KMS_ROTATION_PERIOD_DEFAULT 365u
#define KMS_MAC_VERIFY_WINDOW_MAX 3650u         /* days; 0 means until retired */
#define KMS_LIST_ROTATIONS_LIMIT_MAX 1000u
#define KMS_LIST_ROTATIONS_LIMIT_DEFAULT 100u

typedef enum KeySpec {
        KEY_SPEC_HMAC_224,
        KEY_SPEC_HMAC_256,
        KEY_SPEC_HMAC_384,
        KEY_SPEC_HMAC_512,
        _KEY_SPEC_MAX,
        _KEY_SPEC_INVALID = -22,
} KeySpec;

typedef enum KeyState {
        KEY_STATE_ENABLED,
        KEY_STATE_DISABLED,
        KEY_STATE_PENDING_DELETION,
        KEY_STATE_PENDING_IMPORT,
        _KEY_STATE_MAX,
        _KEY_STATE_INVALID = -22,
} KeyState;

typedef enum KeyOrigin {
        KEY_ORIGIN_HMACD,
        KEY_ORIGIN_EXTERNAL,
        _KEY_ORIGIN_MAX,
        _KEY_ORIGIN_INVALID = -22,
} KeyOrigin;

/* API conditions: positive codes, each one AWS exception. Negative errno stays a fatal error. */
typedef enum KmsError {
        KMS_OK,
        KMS_ERROR_VALIDATION,
        KMS_ERROR_NOT_FOUND,
        KMS_ERROR_DISABLED,
        KMS_ERROR_INVALID_STATE,
        KMS_ERROR_INVALID_KEY_USAGE,
        KMS_ERROR_INVALID_MAC,
        KMS_ERROR_ALREADY_EXISTS,
        KMS_ERROR_INVALID_ALIAS_NAME,
        KMS_ERROR_LIMIT_EXCEEDED,
        KMS_ERROR_TAG,
        KMS_ERROR_INVALID_MARKER,
        KMS_ERROR_UNSUPPORTED_OPERATION,
        KMS_ERROR_INCORRECT_KEY_MATERIAL,
        KMS_ERROR_INVALID_CIPHERTEXT,
        KMS_ERROR_INVALID_IMPORT_TOKEN,
        KMS_ERROR_EXPIRED_IMPORT_TOKEN,
        KMS_ERROR_INTERNAL,
        _KMS_ERROR_MAX,
        _KMS_ERROR_INVALID = -22,
} KmsError;

const char *key_spec_to_string(KeySpec s);
KeySpec key_spec_from_string(const char *s);
bool key_spec_is_other_aws_spec(const char *s);
const char *key_spec_mac_algorithm(KeySpec s);
KeySpec key_spec_from_mac_algorithm(const char *s);
size_t key_spec_mac_size(KeySpec s);
size_t key_spec_key_size(KeySpec s);
size_t key_spec_import_min(KeySpec s);
size_t key_spec_import_max(KeySpec s);

const char *key_state_to_string(KeyState s);
KeyState key_state_from_string(const char *s);

const char *key_origin_to_string(KeyOrigin o);
KeyOrigin key_origin_from_string(const char *s);

/* "NotFoundException", and "io.hmacd.Kms1.Error.NotFoundException". */
const char *kms_error_to_exception(KmsError e);
const char *kms_error_to_dbus_name(KmsError e);
KmsError kms_error_from_exception(const char *name);
/* The errno a client library call returns for each condition. */
int kms_error_to_errno(KmsError e);

/* Strict UTF-8 check; returns the number of code points, or -EILSEQ. */
ssize_t utf8_length(const char *s, size_t n);
