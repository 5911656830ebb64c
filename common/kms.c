/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tables for key specs, states, origins and exceptions. */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "kms.h"
#include "macro.h"

static const struct {
        const char *name;
        const char *mac_algorithm;
        size_t mac_size;
        size_t key_size;
        size_t import_min, import_max;
} key_spec_table[_KEY_SPEC_MAX] = {
        [KEY_SPEC_HMAC_224] = { "HMAC_224", "HMAC_SHA_224", 28, 28, 28, 64 },
        [KEY_SPEC_HMAC_256] = { "HMAC_256", "HMAC_SHA_256", 32, 32, 32, 64 },
        [KEY_SPEC_HMAC_384] = { "HMAC_384", "HMAC_SHA_384", 48, 48, 48, 128 },
        [KEY_SPEC_HMAC_512] = { "HMAC_512", "HMAC_SHA_512", 64, 64, 64, 128 },
};

/* Key specs AWS KMS knows but that are not HMAC: these are "unsupported", not "invalid". */
static const char *const other_aws_key_specs[] = {
        "SYMMETRIC_DEFAULT", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384",
        "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "SM2", "ML_DSA_44", "ML_DSA_65",
        "ML_DSA_87",
};

const char *key_spec_to_string(KeySpec s) {
        return s >= 0 && s < _KEY_SPEC_MAX ? key_spec_table[s].name : NULL;
}

KeySpec key_spec_from_string(const char *s) {
        for (KeySpec i = 0; s && i < _KEY_SPEC_MAX; i++)
                if (streq(key_spec_table[i].name, s))
                        return i;
        return _KEY_SPEC_INVALID;
}

bool key_spec_is_other_aws_spec(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(other_aws_key_specs); i++)
                if (streq(other_aws_key_specs[i], s))
                        return true;
        return false;
}

const char *key_spec_mac_algorithm(KeySpec s) {
        return s >= 0 && s < _KEY_SPEC_MAX ? key_spec_table[s].mac_algorithm : NULL;
}

KeySpec key_spec_from_mac_algorithm(const char *s) {
        for (KeySpec i = 0; s && i < _KEY_SPEC_MAX; i++)
                if (streq(key_spec_table[i].mac_algorithm, s))
                        return i;
        return _KEY_SPEC_INVALID;
}

size_t key_spec_mac_size(KeySpec s) {
        return s >= 0 && s < _KEY_SPEC_MAX ? key_spec_table[s].mac_size : 0;
}

size_t key_spec_key_size(KeySpec s) {
        return s >= 0 && s < _KEY_SPEC_MAX ? key_spec_table[s].key_size : 0;
}

size_t key_spec_import_min(KeySpec s) {
        return s >= 0 && s < _KEY_SPEC_MAX ? key_spec_table[s].import_min : 0;
}

size_t key_spec_import_max(KeySpec s) {
        return s >= 0 && s < _KEY_SPEC_MAX ? key_spec_table[s].import_max : 0;
}

static const char *const key_state_table[_KEY_STATE_MAX] = {
        [KEY_STATE_ENABLED] = "Enabled",
        [KEY_STATE_DISABLED] = "Disabled",
        [KEY_STATE_PENDING_DELETION] = "PendingDeletion",
        [KEY_STATE_PENDING_IMPORT] = "PendingImport",
};

const char *key_state_to_string(KeyState s) {
        return s >= 0 && s < _KEY_STATE_MAX ? key_state_table[s] : NULL;
}

KeyState key_state_from_string(const char *s) {
        for (KeyState i = 0; s && i < _KEY_STATE_MAX; i++)
                if (streq(key_state_table[i], s))
                        return i;
        return _KEY_STATE_INVALID;
}

static const char *const key_origin_table[_KEY_ORIGIN_MAX] = {
        [KEY_ORIGIN_HMACD] = "HMACD",
        [KEY_ORIGIN_EXTERNAL] = "EXTERNAL",
};

const char *key_origin_to_string(KeyOrigin o) {
        return o >= 0 && o < _KEY_ORIGIN_MAX ? key_origin_table[o] : NULL;
}

KeyOrigin key_origin_from_string(const char *s) {
        for (KeyOrigin i = 0; s && i < _KEY_ORIGIN_MAX; i++)
                if (streq(key_origin_table[i], s))
                        return i;
        return _KEY_ORIGIN_INVALID;
}

static const struct {
        const char *exception;
        const char *dbus_name;
        int errno_value;
} kms_error_table[_KMS_ERROR_MAX] = {
#define E(code, name, err) [code] = { name, HMACD_ERROR_PREFIX name, err }
        E(KMS_ERROR_VALIDATION, "ValidationException", EINVAL),
        E(KMS_ERROR_NOT_FOUND, "NotFoundException", ENOENT),
        E(KMS_ERROR_DISABLED, "DisabledException", EPERM),
        E(KMS_ERROR_INVALID_STATE, "KMSInvalidStateException", EBUSY),
        E(KMS_ERROR_INVALID_KEY_USAGE, "InvalidKeyUsageException", EINVAL),
        E(KMS_ERROR_INVALID_MAC, "KMSInvalidMacException", EBADMSG),
        E(KMS_ERROR_ALREADY_EXISTS, "AlreadyExistsException", EEXIST),
        E(KMS_ERROR_INVALID_ALIAS_NAME, "InvalidAliasNameException", EINVAL),
        E(KMS_ERROR_LIMIT_EXCEEDED, "LimitExceededException", E2BIG),
        E(KMS_ERROR_TAG, "TagException", EINVAL),
        E(KMS_ERROR_INVALID_MARKER, "InvalidMarkerException", EINVAL),
        E(KMS_ERROR_UNSUPPORTED_OPERATION, "UnsupportedOperationException", EOPNOTSUPP),
        E(KMS_ERROR_INCORRECT_KEY_MATERIAL, "IncorrectKeyMaterialException", EKEYREJECTED),
        E(KMS_ERROR_INVALID_CIPHERTEXT, "InvalidCiphertextException", EBADMSG),
        E(KMS_ERROR_INVALID_IMPORT_TOKEN, "InvalidImportTokenException", EKEYREJECTED),
        E(KMS_ERROR_EXPIRED_IMPORT_TOKEN, "ExpiredImportTokenException", EKEYEXPIRED),
        E(KMS_ERROR_INTERNAL, "KMSInternalException", EIO),
#undef E
};

const char *kms_error_to_exception(KmsError e) {
        return e > 0 && e < _KMS_ERROR_MAX ? kms_error_table[e].exception : NULL;
}

const char *kms_error_to_dbus_name(KmsError e) {
        return e > 0 && e < _KMS_ERROR_MAX ? kms_error_table[e].dbus_name : NULL;
}

KmsError kms_error_from_exception(const char *name) {
        for (KmsError i = 1; name && i < _KMS_ERROR_MAX; i++)
                if (streq(kms_error_table[i].exception, name))
                        return i;
        return _KMS_ERROR_INVALID;
}

int kms_error_to_errno(KmsError e) {
        return e > 0 && e < _KMS_ERROR_MAX ? kms_error_table[e].errno_value : EIO;
}

ssize_t utf8_length(const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;
        ssize_t count = 0;

        for (size_t i = 0; i < n; count++) {
                unsigned c = p[i];
                size_t len;
                uint32_t cp, min;

                if (c < 0x80) {
                        i++;
                        continue;
                } else if ((c & 0xe0) == 0xc0)
                        len = 2, cp = c & 0x1f, min = 0x80;
                else if ((c & 0xf0) == 0xe0)
                        len = 3, cp = c & 0x0f, min = 0x800;
                else if ((c & 0xf8) == 0xf0)
                        len = 4, cp = c & 0x07, min = 0x10000;
                else
                        return -EILSEQ;

                if (len > n - i)
                        return -EILSEQ;
                for (size_t j = 1; j < len; j++) {
                        if ((p[i + j] & 0xc0) != 0x80)
                                return -EILSEQ;
                        cp = (cp << 6) | (p[i + j] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return -EILSEQ;
                i += len;
        }
        return count;
}
