/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key identifiers: key IDs (UUID v4), key ARNs, alias names and alias ARNs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kms.h"

#define KEY_ID_LEN 36
#define MACHINE_ID_MAX 64
#define ARN_MAX (sizeof("arn:hmacd:kms:local:") + MACHINE_ID_MAX + sizeof(":alias/") + KMS_ALIAS_NAME_MAX)

typedef enum KeyRefType {
        KEY_REF_KEY_ID,
        KEY_REF_KEY_ARN,
        KEY_REF_ALIAS_NAME,
        KEY_REF_ALIAS_ARN,
        _KEY_REF_MAX,
        _KEY_REF_INVALID = -22,
} KeyRefType;

typedef struct KeyRef {
        KeyRefType type;
        bool foreign;                           /* an ARN of another machine: well-formed, never found */
        char key_id[KEY_ID_LEN + 1];            /* for KEY_REF_KEY_ID and KEY_REF_KEY_ARN */
        char alias[KMS_ALIAS_NAME_MAX + 1];     /* "alias/..." for the alias forms */
} KeyRef;

typedef enum AliasNameProblem {
        ALIAS_NAME_OK,
        ALIAS_NAME_EMPTY,
        ALIAS_NAME_NO_PREFIX,
        ALIAS_NAME_TOO_LONG,
        ALIAS_NAME_BAD_CHARACTER,
        ALIAS_NAME_RESERVED,
        _ALIAS_NAME_PROBLEM_MAX,
} AliasNameProblem;

bool key_id_is_valid(const char *s);
int key_id_generate(char ret[static KEY_ID_LEN + 1]);
AliasNameProblem alias_name_check(const char *s);

/* Reads /etc/machine-id (or the file given), "000000000000" where there is none. */
int machine_id_read(const char *path, char ret[static MACHINE_ID_MAX + 1]);

int key_arn_format(char *buf, size_t size, const char *machine_id, const char *key_id);
int alias_arn_format(char *buf, size_t size, const char *machine_id, const char *alias_name);

/* Parses any of the four forms; which forms a method accepts is the caller's business.
 * Returns 0, or -EINVAL for a malformed identifier. */
int key_ref_parse(const char *s, const char *machine_id, KeyRef *ret);
