/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key-state rules as data: for every operation on a key, what each key state gives (AWS's
 * "Key states of KMS keys" table, API.md section 5). The key service consults it before any change;
 * tests/test-key-state.c checks it without a bus. */
#pragma once

#include "kms-error.h"
#include "kms.h"

typedef enum KmsOperation {
        KMS_OP_CREATE_KEY,
        KMS_OP_GENERATE_MAC,
        KMS_OP_GENERATE_MAC_BATCH,
        KMS_OP_VERIFY_MAC,
        KMS_OP_DESCRIBE_KEY,
        KMS_OP_LIST_KEYS,
        KMS_OP_ENABLE_KEY,
        KMS_OP_DISABLE_KEY,
        KMS_OP_SCHEDULE_KEY_DELETION,
        KMS_OP_CANCEL_KEY_DELETION,
        KMS_OP_UPDATE_KEY_DESCRIPTION,
        KMS_OP_CREATE_ALIAS,
        KMS_OP_UPDATE_ALIAS,
        KMS_OP_DELETE_ALIAS,
        KMS_OP_LIST_ALIASES,
        KMS_OP_TAG_RESOURCE,
        KMS_OP_UNTAG_RESOURCE,
        KMS_OP_LIST_RESOURCE_TAGS,
        KMS_OP_GET_PARAMETERS_FOR_IMPORT,
        KMS_OP_IMPORT_KEY_MATERIAL,
        KMS_OP_DELETE_IMPORTED_KEY_MATERIAL,
        KMS_OP_VERIFY_MAC_BATCH,
        KMS_OP_ROTATE_KEY_ON_DEMAND,
        KMS_OP_ENABLE_KEY_ROTATION,
        KMS_OP_DISABLE_KEY_ROTATION,
        KMS_OP_GET_KEY_ROTATION_STATUS,
        KMS_OP_LIST_KEY_ROTATIONS,
        KMS_OP_UPDATE_MAC_VERIFY_WINDOW,
        KMS_OP_RETIRE_KEY_MATERIAL,
        KMS_OP_ROTATE_KEY_AUTOMATIC,    /* the timer's rotation (audit records) */
        KMS_OP_EXPIRE_KEY_MATERIAL,     /* the timer's end of a verify window (audit records) */
        _KMS_OP_MAX,
        _KMS_OP_INVALID = -22,
} KmsOperation;

/* "GenerateMac": the API name, as audit records and errors name it. */
const char *kms_operation_to_string(KmsOperation op);

/* KMS_COND_OK when op may run on a key in state s, else the condition it fails with (the key's ARN
 * goes into the failure's message). For CreateAlias and UpdateAlias the state is the target key's. */
KmsCondition key_state_check(KmsOperation op, KeyState s);
