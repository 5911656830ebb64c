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

/* A new material for e (KeyMaterialId, sealed material in sealed, STORE_SEALED_MAX bytes) and room for
 * it in e's list; the caller adds it (key_entry_add_version()) once the store has it. */
int kms_new_version(KmsService *s, KeyEntry *e, RotationType type, uint64_t date, KeyVersion **ret,
                    uint8_t *sealed, size_t *ret_size);
/* Whether material v of e still verifies at now (current, or previous within the verify window). */
bool kms_version_verifies(const KmsService *s, const KeyEntry *e, const KeyVersion *v, uint64_t now);
/* The next date the timer must act on for e's materials (automatic rotation, end of a verify
 * window), or UINT64_MAX. */
uint64_t kms_rotation_next_event(const KmsService *s, const KeyEntry *e);
/* Destroys e's materials whose window ended and rotates e if its rotation date passed. */
void kms_rotation_purge(KmsService *s, KeyEntry *e, uint64_t now);
