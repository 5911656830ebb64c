/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/key-state.c: the operation x key state table, checked cell by cell against
 * AWS's "Key states of KMS keys" table (API.md section 5), and daemon/kms-error.c: the exception and
 * the wording each cell's condition gives. No bus, no daemon. */
#include <criterion/criterion.h>
#include <string.h>

#include "../daemon/key-state.h"
#include "macro.h"

#define OK KMS_COND_OK
#define DIS KMS_COND_KEY_DISABLED
#define PDEL KMS_COND_KEY_PENDING_DELETION
#define PIMP KMS_COND_KEY_PENDING_IMPORT
#define NPDEL KMS_COND_KEY_NOT_PENDING_DELETION
#define EXT KMS_COND_KEY_ORIGIN_EXTERNAL

/* Written out again here from the contract, so that a change of the product's table shows. */
static const struct {
        KmsOperation op;
        const char *name;
        KmsCondition expect[_KEY_STATE_MAX];
} cells[] = {
        { KMS_OP_GENERATE_MAC, "GenerateMac", { OK, DIS, PDEL, PIMP } },
        { KMS_OP_GENERATE_MAC_BATCH, "GenerateMacBatch", { OK, DIS, PDEL, PIMP } },
        { KMS_OP_VERIFY_MAC, "VerifyMac", { OK, DIS, PDEL, PIMP } },
        { KMS_OP_DESCRIBE_KEY, "DescribeKey", { OK, OK, OK, OK } },
        { KMS_OP_ENABLE_KEY, "EnableKey", { OK, OK, PDEL, PIMP } },
        { KMS_OP_DISABLE_KEY, "DisableKey", { OK, OK, PDEL, PIMP } },
        { KMS_OP_SCHEDULE_KEY_DELETION, "ScheduleKeyDeletion", { OK, OK, PDEL, OK } },
        { KMS_OP_CANCEL_KEY_DELETION, "CancelKeyDeletion", { NPDEL, NPDEL, OK, NPDEL } },
        { KMS_OP_UPDATE_KEY_DESCRIPTION, "UpdateKeyDescription", { OK, OK, PDEL, OK } },
        { KMS_OP_CREATE_ALIAS, "CreateAlias", { OK, OK, PDEL, OK } },
        { KMS_OP_UPDATE_ALIAS, "UpdateAlias", { OK, OK, PDEL, OK } },
        { KMS_OP_DELETE_ALIAS, "DeleteAlias", { OK, OK, OK, OK } },
        { KMS_OP_LIST_ALIASES, "ListAliases", { OK, OK, OK, OK } },
        { KMS_OP_TAG_RESOURCE, "TagResource", { OK, OK, PDEL, OK } },
        { KMS_OP_UNTAG_RESOURCE, "UntagResource", { OK, OK, PDEL, OK } },
        { KMS_OP_LIST_RESOURCE_TAGS, "ListResourceTags", { OK, OK, OK, OK } },
        { KMS_OP_GET_PARAMETERS_FOR_IMPORT, "GetParametersForImport", { OK, OK, PDEL, OK } },
        { KMS_OP_IMPORT_KEY_MATERIAL, "ImportKeyMaterial", { OK, OK, PDEL, OK } },
        { KMS_OP_DELETE_IMPORTED_KEY_MATERIAL, "DeleteImportedKeyMaterial", { OK, OK, OK, OK } },
        /* API.md section 3a: rotation as AWS's Enable/DisableKeyRotation row. */
        { KMS_OP_VERIFY_MAC_BATCH, "VerifyMacBatch", { OK, DIS, PDEL, PIMP } },
        { KMS_OP_ROTATE_KEY_ON_DEMAND, "RotateKeyOnDemand", { OK, DIS, PDEL, EXT } },
        { KMS_OP_ENABLE_KEY_ROTATION, "EnableKeyRotation", { OK, DIS, PDEL, EXT } },
        { KMS_OP_DISABLE_KEY_ROTATION, "DisableKeyRotation", { OK, DIS, PDEL, EXT } },
        { KMS_OP_GET_KEY_ROTATION_STATUS, "GetKeyRotationStatus", { OK, OK, OK, OK } },
        { KMS_OP_LIST_KEY_ROTATIONS, "ListKeyRotations", { OK, OK, OK, OK } },
        { KMS_OP_UPDATE_MAC_VERIFY_WINDOW, "UpdateMacVerifyWindow", { OK, OK, PDEL, OK } },
        { KMS_OP_RETIRE_KEY_MATERIAL, "RetireKeyMaterial", { OK, OK, PDEL, OK } },
        /* The timer's: automatic rotation of Enabled keys only; verify windows end in every state. */
        { KMS_OP_ROTATE_KEY_AUTOMATIC, "RotateKeyAutomatic", { OK, DIS, PDEL, EXT } },
        { KMS_OP_EXPIRE_KEY_MATERIAL, "ExpireKeyMaterial", { OK, OK, OK, OK } },
};

Test(key_state, every_cell) {
        for (size_t i = 0; i < ELEMENTSOF(cells); i++) {
                cr_assert_str_eq(kms_operation_to_string(cells[i].op), cells[i].name);
                for (KeyState s = 0; s < _KEY_STATE_MAX; s++)
                        cr_assert_eq(key_state_check(cells[i].op, s), cells[i].expect[s], "%s in %s: %d, expected %d",
                                     cells[i].name, key_state_to_string(s), key_state_check(cells[i].op, s),
                                     cells[i].expect[s]);
        }
}

Test(key_state, every_operation_has_a_row) {
        for (KmsOperation op = 0; op < _KMS_OP_MAX; op++)
                cr_assert_not_null(kms_operation_to_string(op), "operation %d has no name", op);
        cr_assert_null(kms_operation_to_string(_KMS_OP_MAX));
        cr_assert_eq(key_state_check(_KMS_OP_MAX, KEY_STATE_ENABLED), KMS_COND_KEY_STATE_UNKNOWN);
        cr_assert_eq(key_state_check(KMS_OP_GENERATE_MAC, _KEY_STATE_MAX), KMS_COND_KEY_STATE_UNKNOWN);
}

/* Each state condition is AWS's exception with AWS's words. */
Test(key_state, conditions_name_the_exception_and_the_key) {
        static const struct {
                KmsCondition c;
                const char *exception, *message;
        } want[] = {
                { DIS, "DisabledException", "arn:k is disabled." },
                { PDEL, "KMSInvalidStateException", "arn:k is pending deletion." },
                { PIMP, "KMSInvalidStateException", "arn:k is pending import." },
                { NPDEL, "KMSInvalidStateException", "arn:k is not pending deletion." },
                { EXT, "UnsupportedOperationException", "arn:k origin is EXTERNAL which is not valid for this operation." },
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                KmsFailure f = {};
                char buf[256];

                strcpy(f.arn, "arn:k");
                cr_assert_eq(kms_fail(&f, want[i].c), (int) want[i].c);
                cr_assert_str_eq(kms_error_to_exception(kms_condition_to_error(want[i].c)), want[i].exception);
                kms_failure_format(&f, buf, sizeof buf);
                cr_assert_str_eq(buf, want[i].message);
        }
}

/* The message table: placeholders filled, values cut, nothing written past the buffer. */
Test(key_state, messages_fill_their_placeholders) {
        KmsFailure f = {};
        char buf[512], big[600], tiny[8];

        kms_fail_length(&f, "message", 4097, 1, 4096);
        kms_failure_format(&f, buf, sizeof buf);
        cr_assert_str_eq(buf, "1 validation error detected: Value at 'message' failed to satisfy constraint: Member "
                              "must have length less than or equal to 4096");
        cr_assert_eq(kms_condition_to_error(f.condition), KMS_ERROR_VALIDATION);

        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = 0;
        f = (KmsFailure) {};
        kms_fail_value(&f, KMS_COND_MARKER_INVALID, big);
        kms_failure_format(&f, buf, sizeof buf);
        cr_assert_eq(strlen(buf), strlen("The marker is not valid: ") + 64, "%s", buf);

        kms_failure_format(&f, tiny, sizeof tiny);
        cr_assert_str_eq(tiny, "The mar");

        for (KmsCondition c = 1; c < _KMS_CONDITION_MAX; c++) {
                f = (KmsFailure) { .condition = c };
                kms_failure_format(&f, buf, sizeof buf);
                cr_assert_null(strchr(buf, '{'), "condition %d leaves a placeholder: %s", c, buf);
                cr_assert_neq(kms_condition_to_error(c), KMS_OK, "condition %d has no exception", c);
        }
}
