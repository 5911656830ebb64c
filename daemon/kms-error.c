/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wording of every API condition: one table, with placeholders filled from a KmsFailure. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kms-error.h"
#include "macro.h"

#define VALIDATION "1 validation error detected: "

/* Placeholders: {field}, {value} (cut to 64 bytes), {value256}, {value1k}, {name}, {arn}, {number}, {min},
 * {max}. */
static const struct {
        KmsError error;
        const char *text;
} conditions[_KMS_CONDITION_MAX] = {
        [KMS_COND_OK] = { KMS_OK, "" },
        [KMS_COND_LENGTH_MIN] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value at '{field}' failed to satisfy constraint: Member must have length greater than "
                           "or equal to {min}" },
        [KMS_COND_LENGTH_MAX] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value at '{field}' failed to satisfy constraint: Member must have length less than or "
                           "equal to {max}" },
        [KMS_COND_VALUE_MAX] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{number}' at '{field}' failed to satisfy constraint: Member must have value less "
                           "than or equal to {max}" },
        [KMS_COND_MAC_ALGORITHM_ENUM] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{value}' at 'macAlgorithm' failed to satisfy constraint: Member must satisfy "
                           "enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]" },
        [KMS_COND_KEY_SPEC_ENUM] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{value}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum "
                           "value set: [RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, "
                           "ECC_SECG_P256K1, ECC_NIST_EDWARDS25519, SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, "
                           "HMAC_384, HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87]" },
        [KMS_COND_KEY_USAGE_ENUM] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{value}' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum "
                           "value set: [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC]" },
        [KMS_COND_KEY_USAGE_MISSING] = { KMS_ERROR_VALIDATION,
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys." },
        [KMS_COND_KEY_USAGE_INCOMPATIBLE] = { KMS_ERROR_VALIDATION,
                "KeyUsage {value} is not compatible with KeySpec {name}" },
        [KMS_COND_ORIGIN_ENUM] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{value}' at 'origin' failed to satisfy constraint: Member must satisfy enum "
                           "value set: [HMACD, EXTERNAL]" },
        [KMS_COND_OPTION_UNKNOWN] = { KMS_ERROR_VALIDATION,
                "Unknown option '{value}'; the options are Origin and MacVerifyWindowInDays." },
        [KMS_COND_OPTION_TYPE] = { KMS_ERROR_VALIDATION, "The {name} option must be of D-Bus type '{value}'." },
        [KMS_COND_DESCRIPTION_UTF8] = { KMS_ERROR_VALIDATION, "The description is not valid UTF-8." },
        [KMS_COND_TAGS_UTF8] = { KMS_ERROR_VALIDATION, "Tags must be valid UTF-8." },
        [KMS_COND_TAG_LENGTH_MIN] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{value1k}' at 'tags.{number}.member.{field}' failed to satisfy constraint: "
                           "Member must have length greater than or equal to {min}" },
        [KMS_COND_TAG_LENGTH_MAX] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{value1k}' at 'tags.{number}.member.{field}' failed to satisfy constraint: "
                           "Member must have length less than or equal to {max}" },
        [KMS_COND_ALIAS_EMPTY] = { KMS_ERROR_VALIDATION,
                "Alias name must have at least one character after \"alias/\"." },
        [KMS_COND_ALIAS_NO_PREFIX] = { KMS_ERROR_VALIDATION,
                "Alias must start with the prefix \"alias/\". Please see "
                "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html" },
        [KMS_COND_ALIAS_CHARACTERS] = { KMS_ERROR_VALIDATION, "{value256} contains invalid characters for an alias" },
        [KMS_COND_PENDING_WINDOW] = { KMS_ERROR_VALIDATION, "PendingWindowInDays must be between 7 and 30" },
        [KMS_COND_WRAPPING_ALGORITHM_ENUM] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{value}' at 'wrappingAlgorithm' failed to satisfy constraint: Member must "
                           "satisfy enum value set: [RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256]" },
        [KMS_COND_WRAPPING_KEY_SPEC_ENUM] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{value}' at 'wrappingKeySpec' failed to satisfy constraint: Member must satisfy "
                           "enum value set: [RSA_2048, RSA_3072, RSA_4096]" },
        [KMS_COND_EXPIRATION_MODEL_ENUM] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{value}' at 'expirationModel' failed to satisfy constraint: Member must satisfy "
                           "enum value set: [KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]" },
        [KMS_COND_VALID_TO_MISSING] = { KMS_ERROR_VALIDATION,
                "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES" },
        [KMS_COND_VALID_TO_PAST] = { KMS_ERROR_VALIDATION,
                "ValidTo must be in the future when the expiration model is KEY_MATERIAL_EXPIRES." },
        [KMS_COND_VALID_TO_TOO_FAR] = { KMS_ERROR_VALIDATION, "ValidTo must be at most 365 days from now." },
        [KMS_COND_VALID_TO_SET] = { KMS_ERROR_VALIDATION,
                "ValidTo must not be set when the expiration model is KEY_MATERIAL_DOES_NOT_EXPIRE." },
        [KMS_COND_MATERIAL_LENGTH] = { KMS_ERROR_VALIDATION,
                "Key material for {name} keys must be {min} to {max} bytes long, not {number}." },
        [KMS_COND_VALUE_MIN] = { KMS_ERROR_VALIDATION,
                VALIDATION "Value '{number}' at '{field}' failed to satisfy constraint: Member must have value greater "
                           "than or equal to {min}" },
        [KMS_COND_BATCH_COUNTS] = { KMS_ERROR_VALIDATION,
                "The request has {number} messages and {max} MACs; each message needs its one MAC." },
        [KMS_COND_RETIRE_CURRENT] = { KMS_ERROR_VALIDATION,
                "Key material {value} is the current key material of {arn}; only a previous key material can be "
                "retired (rotate the key first)." },
        [KMS_COND_KEY_ID_INVALID] = { KMS_ERROR_NOT_FOUND, "Invalid keyId '{value256}'" },
        [KMS_COND_KEY_NOT_FOUND] = { KMS_ERROR_NOT_FOUND, "Key '{arn}' does not exist" },
        [KMS_COND_ALIAS_NOT_FOUND] = { KMS_ERROR_NOT_FOUND, "Alias {arn} is not found." },
        [KMS_COND_KEY_MATERIAL_NOT_FOUND] = { KMS_ERROR_NOT_FOUND,
                "Key material '{value}' of {arn} does not exist" },
        [KMS_COND_KEY_DISABLED] = { KMS_ERROR_DISABLED, "{arn} is disabled." },
        [KMS_COND_KEY_PENDING_DELETION] = { KMS_ERROR_INVALID_STATE, "{arn} is pending deletion." },
        [KMS_COND_KEY_PENDING_IMPORT] = { KMS_ERROR_INVALID_STATE, "{arn} is pending import." },
        [KMS_COND_KEY_NOT_PENDING_DELETION] = { KMS_ERROR_INVALID_STATE, "{arn} is not pending deletion." },
        [KMS_COND_KEY_ORIGIN_EXTERNAL] = { KMS_ERROR_UNSUPPORTED_OPERATION,
                "{arn} origin is EXTERNAL which is not valid for this operation." },
        [KMS_COND_ALGORITHM_INCOMPATIBLE] = { KMS_ERROR_INVALID_KEY_USAGE,
                "Algorithm {value} is incompatible with key spec {name}." },
        [KMS_COND_INVALID_MAC] = { KMS_ERROR_INVALID_MAC, "" },
        [KMS_COND_ALIAS_EXISTS] = { KMS_ERROR_ALREADY_EXISTS, "An alias with the name {arn} already exists" },
        [KMS_COND_ALIAS_RESERVED] = { KMS_ERROR_INVALID_ALIAS_NAME,
                "Alias names beginning with alias/aws/ and alias/hmacd/ are reserved." },
        [KMS_COND_ALIASES_PER_KEY] = { KMS_ERROR_LIMIT_EXCEEDED,
                "Key {arn} already has {max} aliases, the most a key may have." },
        [KMS_COND_PREVIOUS_MATERIALS] = { KMS_ERROR_LIMIT_EXCEEDED,
                "{arn} already keeps {max} previous key materials, the most a key may keep; retire one "
                "(RetireKeyMaterial) before rotating again." },
        [KMS_COND_IMPORT_PARAMETERS_LIMIT] = { KMS_ERROR_LIMIT_EXCEEDED,
                "The owner's keys have {max} import parameters outstanding, the most one user may have; use or let "
                "some expire first." },
        [KMS_COND_IMPORT_BUSY] = { KMS_ERROR_LIMIT_EXCEEDED,
                "Too many wrapping keys are being made for this user ({max}); try again when they are done." },
        [KMS_COND_KEYS_PER_USER] = { KMS_ERROR_LIMIT_EXCEEDED,
                "The owner already has {max} keys, the most one user may have." },
        [KMS_COND_KEYS_TOTAL] = { KMS_ERROR_LIMIT_EXCEEDED,
                "The service already holds {max} keys, the most it may hold." },
        [KMS_COND_BYTES_PER_USER] = { KMS_ERROR_LIMIT_EXCEEDED,
                "The owner's descriptions and tags would take {number} bytes, more than the {max} one user may have." },
        [KMS_COND_TAG_RESERVED] = { KMS_ERROR_TAG, "Tags beginning with {name} are reserved" },
        [KMS_COND_TAGS_TOO_MANY] = { KMS_ERROR_TAG, "Too many tags" },
        [KMS_COND_TAG_KEYS_DUPLICATE] = { KMS_ERROR_TAG, "Duplicate tag keys" },
        [KMS_COND_MARKER_INVALID] = { KMS_ERROR_INVALID_MARKER, "The marker is not valid: {value}" },
        [KMS_COND_KEY_SPEC_UNSUPPORTED] = { KMS_ERROR_UNSUPPORTED_OPERATION,
                "KeySpec {value} is not supported: hmacd serves HMAC keys only (HMAC_224, HMAC_256, HMAC_384, "
                "HMAC_512)." },
        [KMS_COND_ORIGIN_UNSUPPORTED] = { KMS_ERROR_UNSUPPORTED_OPERATION,
                "{arn} origin is {name} which is not valid for this operation." },
        [KMS_COND_WRAPPING_ALGORITHM_UNSUPPORTED] = { KMS_ERROR_UNSUPPORTED_OPERATION,
                "Wrapping algorithm {value} is not supported for HMAC keys; use RSAES_OAEP_SHA_256 or "
                "RSAES_OAEP_SHA_1." },
        [KMS_COND_WRAPPING_KEY_SPEC_UNSUPPORTED] = { KMS_ERROR_UNSUPPORTED_OPERATION,
                "Wrapping key spec {value} is not supported." },
        [KMS_COND_MATERIAL_INCORRECT] = { KMS_ERROR_INCORRECT_KEY_MATERIAL,
                "The key material is not the material previously imported into {arn}." },
        [KMS_COND_CIPHERTEXT_INVALID] = { KMS_ERROR_INVALID_CIPHERTEXT,
                "The wrapped key material could not be decrypted with the wrapping key of this import token." },
        [KMS_COND_IMPORT_TOKEN_INVALID] = { KMS_ERROR_INVALID_IMPORT_TOKEN,
                "The import token is not valid: it was not issued by this service, was changed, was already used, "
                "or was issued before the service restarted." },
        [KMS_COND_IMPORT_TOKEN_OTHER_KEY] = { KMS_ERROR_INVALID_IMPORT_TOKEN,
                "The import token was issued for another key, not {arn}." },
        [KMS_COND_IMPORT_TOKEN_EXPIRED] = { KMS_ERROR_EXPIRED_IMPORT_TOKEN, "The import token has expired." },
        [KMS_COND_KEY_STATE_UNKNOWN] = { KMS_ERROR_INTERNAL, "{arn} is in an unknown state." },
};

int kms_fail(KmsFailure *f, KmsCondition c) {
        f->condition = c;
        return (int) c;
}

int kms_fail_length(KmsFailure *f, const char *field, size_t n, size_t min, size_t max) {
        f->field = field;
        f->min = min;
        f->max = max;
        return kms_fail(f, n < min ? KMS_COND_LENGTH_MIN : KMS_COND_LENGTH_MAX);
}

int kms_fail_value(KmsFailure *f, KmsCondition c, const char *value) {
        f->value = value;
        return kms_fail(f, c);
}

KmsError kms_condition_to_error(KmsCondition c) {
        return c >= 0 && c < _KMS_CONDITION_MAX ? conditions[c].error : KMS_ERROR_INTERNAL;
}

typedef struct Out {
        char *p;
        size_t left;
} Out;

static void out_put(Out *o, const char *s, size_t n) {
        n = MIN(n, o->left > 0 ? o->left - 1 : 0);
        memcpy(o->p, s, n);
        o->p += n;
        o->left -= n;
        *o->p = 0;
}

static void out_number(Out *o, uint64_t v) {
        char b[24];
        int n = snprintf(b, sizeof b, "%" PRIu64, v);
        out_put(o, b, (size_t) n);
}

void kms_failure_format(const KmsFailure *f, char *buf, size_t size) {
        const char *t = f->condition >= 0 && f->condition < _KMS_CONDITION_MAX ? conditions[f->condition].text
                                                                              : "Unknown condition.";
        Out o = { buf, size };

        if (size == 0)
                return;
        *buf = 0;
        while (*t) {
                const char *open = strchr(t, '{'), *close = open ? strchr(open, '}') : NULL;
                const char *s = NULL;
                size_t n;

                if (!close) {
                        out_put(&o, t, strlen(t));
                        break;
                }
                out_put(&o, t, (size_t) (open - t));
                n = (size_t) (close - open - 1);
                if (n == 5 && strncmp(open + 1, "field", n) == 0)
                        s = strempty(f->field);
                else if (n == 4 && strncmp(open + 1, "name", n) == 0)
                        s = strempty(f->name);
                else if (n == 3 && strncmp(open + 1, "arn", n) == 0)
                        s = f->arn;
                else if (n == 5 && strncmp(open + 1, "value", n) == 0)
                        out_put(&o, strempty(f->value), strnlen(strempty(f->value), 64));
                else if (n == 8 && strncmp(open + 1, "value256", n) == 0)
                        out_put(&o, strempty(f->value), strnlen(strempty(f->value), 256));
                else if (n == 7 && strncmp(open + 1, "value1k", n) == 0)
                        out_put(&o, strempty(f->value), strnlen(strempty(f->value), 1024));
                else if (n == 6 && strncmp(open + 1, "number", n) == 0)
                        out_number(&o, f->number);
                else if (n == 3 && strncmp(open + 1, "min", n) == 0)
                        out_number(&o, f->min);
                else if (n == 3 && strncmp(open + 1, "max", n) == 0)
                        out_number(&o, f->max);
                if (s)
                        out_put(&o, s, strlen(s));
                t = close + 1;
        }
}
