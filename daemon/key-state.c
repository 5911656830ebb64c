/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The operation x key state table. */
#include "key-state.h"
#include "macro.h"

#define OK KMS_COND_OK
#define DIS KMS_COND_KEY_DISABLED
#define PDEL KMS_COND_KEY_PENDING_DELETION
#define PIMP KMS_COND_KEY_PENDING_IMPORT
#define NPDEL KMS_COND_KEY_NOT_PENDING_DELETION
#define EXT KMS_COND_KEY_ORIGIN_EXTERNAL

static const struct {
        const char *name;
        KmsCondition in[_KEY_STATE_MAX];        /* Enabled, Disabled, PendingDeletion, PendingImport */
} operations[_KMS_OP_MAX] = {
        [KMS_OP_CREATE_KEY] = { "CreateKey", { OK, OK, OK, OK } },
        [KMS_OP_GENERATE_MAC] = { "GenerateMac", { OK, DIS, PDEL, PIMP } },
        [KMS_OP_GENERATE_MAC_BATCH] = { "GenerateMacBatch", { OK, DIS, PDEL, PIMP } },
        [KMS_OP_VERIFY_MAC] = { "VerifyMac", { OK, DIS, PDEL, PIMP } },
        [KMS_OP_DESCRIBE_KEY] = { "DescribeKey", { OK, OK, OK, OK } },
        [KMS_OP_LIST_KEYS] = { "ListKeys", { OK, OK, OK, OK } },
        [KMS_OP_ENABLE_KEY] = { "EnableKey", { OK, OK, PDEL, PIMP } },
        [KMS_OP_DISABLE_KEY] = { "DisableKey", { OK, OK, PDEL, PIMP } },
        [KMS_OP_SCHEDULE_KEY_DELETION] = { "ScheduleKeyDeletion", { OK, OK, PDEL, OK } },
        [KMS_OP_CANCEL_KEY_DELETION] = { "CancelKeyDeletion", { NPDEL, NPDEL, OK, NPDEL } },
        [KMS_OP_UPDATE_KEY_DESCRIPTION] = { "UpdateKeyDescription", { OK, OK, PDEL, OK } },
        [KMS_OP_CREATE_ALIAS] = { "CreateAlias", { OK, OK, PDEL, OK } },
        [KMS_OP_UPDATE_ALIAS] = { "UpdateAlias", { OK, OK, PDEL, OK } },
        [KMS_OP_DELETE_ALIAS] = { "DeleteAlias", { OK, OK, OK, OK } },
        [KMS_OP_LIST_ALIASES] = { "ListAliases", { OK, OK, OK, OK } },
        [KMS_OP_TAG_RESOURCE] = { "TagResource", { OK, OK, PDEL, OK } },
        [KMS_OP_UNTAG_RESOURCE] = { "UntagResource", { OK, OK, PDEL, OK } },
        [KMS_OP_LIST_RESOURCE_TAGS] = { "ListResourceTags", { OK, OK, OK, OK } },
        /* Only for Origin EXTERNAL (checked first); a key pending deletion takes no material. */
        [KMS_OP_GET_PARAMETERS_FOR_IMPORT] = { "GetParametersForImport", { OK, OK, PDEL, OK } },
        [KMS_OP_IMPORT_KEY_MATERIAL] = { "ImportKeyMaterial", { OK, OK, PDEL, OK } },
        [KMS_OP_DELETE_IMPORTED_KEY_MATERIAL] = { "DeleteImportedKeyMaterial", { OK, OK, OK, OK } },
        [KMS_OP_VERIFY_MAC_BATCH] = { "VerifyMacBatch", { OK, DIS, PDEL, PIMP } },
        /* Rotation (API.md section 3a), as AWS's Enable/DisableKeyRotation row: a PendingImport key
         * has Origin EXTERNAL, and a key of Origin EXTERNAL in another state is refused after the
         * state check, by the key service (imported material cannot be rotated). */
        [KMS_OP_ROTATE_KEY_ON_DEMAND] = { "RotateKeyOnDemand", { OK, DIS, PDEL, EXT } },
        [KMS_OP_ENABLE_KEY_ROTATION] = { "EnableKeyRotation", { OK, DIS, PDEL, EXT } },
        [KMS_OP_DISABLE_KEY_ROTATION] = { "DisableKeyRotation", { OK, DIS, PDEL, EXT } },
        [KMS_OP_GET_KEY_ROTATION_STATUS] = { "GetKeyRotationStatus", { OK, OK, OK, OK } },
        [KMS_OP_LIST_KEY_ROTATIONS] = { "ListKeyRotations", { OK, OK, OK, OK } },
        /* Changes of the key, as UpdateKeyDescription: refused only pending deletion. */
        [KMS_OP_UPDATE_MAC_VERIFY_WINDOW] = { "UpdateMacVerifyWindow", { OK, OK, PDEL, OK } },
        [KMS_OP_RETIRE_KEY_MATERIAL] = { "RetireKeyMaterial", { OK, OK, PDEL, OK } },
        /* The timer rotates Enabled keys only (as AWS: a disabled key rotates when enabled again). */
        [KMS_OP_ROTATE_KEY_AUTOMATIC] = { "RotateKeyAutomatic", { OK, DIS, PDEL, EXT } },
        [KMS_OP_EXPIRE_KEY_MATERIAL] = { "ExpireKeyMaterial", { OK, OK, OK, OK } },
};

const char *kms_operation_to_string(KmsOperation op) {
        return op >= 0 && op < _KMS_OP_MAX ? operations[op].name : NULL;
}

KmsCondition key_state_check(KmsOperation op, KeyState s) {
        if (op < 0 || op >= _KMS_OP_MAX || s < 0 || s >= _KEY_STATE_MAX)
                return KMS_COND_KEY_STATE_UNKNOWN;
        return operations[op].in[s];
}
