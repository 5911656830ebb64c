/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* API conditions of the key service: what went wrong for the client, as positive codes that the
 * service returns (negative errno stays an internal failure). Each condition is one row of one table
 * (kms-error.c): its AWS exception and the wording of its message, filled from a KmsFailure. The bus
 * adapter turns a condition into a D-Bus error and an audit record in one place (bus-reply.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ident.h"
#include "kms.h"

typedef enum KmsCondition {
        KMS_COND_OK,
        /* ValidationException */
        KMS_COND_LENGTH_MIN,                    /* field, min */
        KMS_COND_LENGTH_MAX,                    /* field, max */
        KMS_COND_VALUE_MAX,                     /* field, number, max */
        KMS_COND_MAC_ALGORITHM_ENUM,            /* value */
        KMS_COND_KEY_SPEC_ENUM,                 /* value */
        KMS_COND_KEY_USAGE_ENUM,                /* value */
        KMS_COND_KEY_USAGE_MISSING,
        KMS_COND_KEY_USAGE_INCOMPATIBLE,        /* value (usage), name (spec) */
        KMS_COND_ORIGIN_ENUM,                   /* value */
        KMS_COND_OPTION_UNKNOWN,                /* value */
        KMS_COND_OPTION_TYPE,                   /* name */
        KMS_COND_DESCRIPTION_UTF8,
        KMS_COND_TAGS_UTF8,
        KMS_COND_TAG_LENGTH_MIN,                /* value, number (1-based member), field (tagKey, tagValue), min */
        KMS_COND_TAG_LENGTH_MAX,                /* value, number, field, max */
        KMS_COND_ALIAS_EMPTY,
        KMS_COND_ALIAS_NO_PREFIX,
        KMS_COND_ALIAS_CHARACTERS,              /* value */
        KMS_COND_PENDING_WINDOW,                /* number */
        KMS_COND_WRAPPING_ALGORITHM_ENUM,       /* value */
        KMS_COND_WRAPPING_KEY_SPEC_ENUM,        /* value */
        KMS_COND_EXPIRATION_MODEL_ENUM,         /* value */
        KMS_COND_VALID_TO_MISSING,
        KMS_COND_VALID_TO_PAST,
        KMS_COND_VALID_TO_TOO_FAR,
        KMS_COND_VALID_TO_SET,
        KMS_COND_MATERIAL_LENGTH,               /* name (spec), min, max, number */
        KMS_COND_VALUE_MIN,                     /* field, number, min */
        KMS_COND_BATCH_COUNTS,                  /* number (messages), max (macs) */
        KMS_COND_RETIRE_CURRENT,                /* value (material ID), arn */
        /* NotFoundException */
        KMS_COND_KEY_ID_INVALID,                /* value */
        KMS_COND_KEY_NOT_FOUND,                 /* arn */
        KMS_COND_ALIAS_NOT_FOUND,               /* arn */
        KMS_COND_KEY_MATERIAL_NOT_FOUND,        /* value (material ID), arn */
        /* key states */
        KMS_COND_KEY_DISABLED,                  /* arn */
        KMS_COND_KEY_PENDING_DELETION,          /* arn */
        KMS_COND_KEY_PENDING_IMPORT,            /* arn */
        KMS_COND_KEY_NOT_PENDING_DELETION,      /* arn */
        KMS_COND_KEY_ORIGIN_EXTERNAL,           /* arn (rotation: imported material cannot rotate) */
        /* the rest, one exception each */
        KMS_COND_ALGORITHM_INCOMPATIBLE,        /* value (algorithm), name (spec) */
        KMS_COND_INVALID_MAC,
        KMS_COND_ALIAS_EXISTS,                  /* arn */
        KMS_COND_ALIAS_RESERVED,
        KMS_COND_ALIASES_PER_KEY,               /* arn, max */
        KMS_COND_PREVIOUS_MATERIALS,            /* arn, max */
        KMS_COND_IMPORT_PARAMETERS_LIMIT,       /* max */
        KMS_COND_IMPORT_BUSY,                   /* max */
        KMS_COND_KEYS_PER_USER,                 /* max */
        KMS_COND_KEYS_TOTAL,                    /* max */
        KMS_COND_BYTES_PER_USER,                /* number, max */
        KMS_COND_TAG_RESERVED,                  /* name (prefix) */
        KMS_COND_TAGS_TOO_MANY,
        KMS_COND_TAG_KEYS_DUPLICATE,
        KMS_COND_MARKER_INVALID,                /* value */
        KMS_COND_KEY_SPEC_UNSUPPORTED,          /* value */
        KMS_COND_ORIGIN_UNSUPPORTED,            /* arn, name (origin) */
        KMS_COND_WRAPPING_ALGORITHM_UNSUPPORTED, /* value */
        KMS_COND_WRAPPING_KEY_SPEC_UNSUPPORTED, /* value */
        KMS_COND_MATERIAL_INCORRECT,            /* arn */
        KMS_COND_CIPHERTEXT_INVALID,
        KMS_COND_IMPORT_TOKEN_INVALID,
        KMS_COND_IMPORT_TOKEN_OTHER_KEY,        /* arn */
        KMS_COND_IMPORT_TOKEN_EXPIRED,
        KMS_COND_KEY_STATE_UNKNOWN,             /* arn */
        _KMS_CONDITION_MAX,
        _KMS_CONDITION_INVALID = -22,
} KmsCondition;

/* What a message needs besides its condition. Strings are borrowed (they must outlive the reply);
 * values are cut to a printable length when the message is made. */
typedef struct KmsFailure {
        KmsCondition condition;
        const char *field;              /* the request member, "message", "tags.member.tagKey" */
        const char *value;              /* what the client sent */
        const char *name;               /* a spec, an origin, a prefix */
        char arn[ARN_MAX];              /* the key or alias concerned */
        uint64_t number, min, max;
} KmsFailure;

/* Records condition c in f and returns it (positive), so that `return kms_fail(f, ...);` works. */
int kms_fail(KmsFailure *f, KmsCondition c);
int kms_fail_length(KmsFailure *f, const char *field, size_t n, size_t min, size_t max);
int kms_fail_value(KmsFailure *f, KmsCondition c, const char *value);

KmsError kms_condition_to_error(KmsCondition c);
/* The AWS-style message of f, in buf (always NUL-terminated). */
void kms_failure_format(const KmsFailure *f, char *buf, size_t size);
