/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the parts of the key service (kms-service.c, kms-names.c, kms-import.c) share, and nobody
 * else uses. */
#pragma once

#include "kms-check.h"
#include "kms-service.h"
#include "secure.h"

/* -EIO when a test injected a fault at this point, else 0. */
int kms_fault(KmsService *s, KmsFault where);
/* Records condition c with e's ARN in f and returns it. */
int kms_fail_key(KmsService *s, KmsFailure *f, KmsCondition c, const KeyEntry *e);
/* (Re-)arms the deletion timer for the earliest deletion date or ValidTo. */
int kms_arm_timer(KmsService *s);
/* Deletes e's imported material; the key goes back to PendingImport (unless PendingDeletion). */
int kms_remove_material(KmsService *s, KeyEntry *e);
