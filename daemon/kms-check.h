/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checks of request arguments that need no key: lengths, enums, UTF-8, tags, alias names, limits and
 * markers. Each returns 0, or a positive condition with its detail in f (kms-error.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "import.h"
#include "keys.h"
#include "kms-error.h"
#include "marker.h"

int kms_check_length(KmsFailure *f, const char *field, size_t n, size_t min, size_t max);
int kms_check_mac_algorithm(KmsFailure *f, const char *name, KeySpec *ret);
int kms_check_key_spec_and_usage(KmsFailure *f, const char *spec_name, const char *usage, KeySpec *ret);
int kms_check_origin(KmsFailure *f, const char *name, KeyOrigin *ret);
/* 0..8192 characters of valid UTF-8. */
int kms_check_description(KmsFailure *f, const char *description);
/* One tag of a request; n_before: the tags already read (duplicates are refused). */
int kms_check_tag(KmsFailure *f, const KeyTag *before, size_t n_before, const char *key, const char *value);
/* One tag key of UntagResource; n_before: the keys already read. */
int kms_check_tag_key(KmsFailure *f, size_t n_before, const char *key);
int kms_check_alias_name(KmsFailure *f, const char *name);
/* limit 0 means def; more than max is refused. */
int kms_check_limit(KmsFailure *f, uint32_t *limit, uint32_t def, uint32_t max);
/* A marker of ListKeys (a position in creation order); "" gives 0. */
int kms_check_seq_marker(KmsFailure *f, const char *marker, int64_t *ret);
/* A marker that carries a name (ListAliases, ListResourceTags): decoded into buf (size bytes). */
int kms_check_name_marker(KmsFailure *f, const char *marker, char *buf, size_t size);
int kms_check_pending_window(KmsFailure *f, uint32_t *days);
/* EnableKeyRotation's period: 90..2560 days, 0 means 365 (AWS's range and words). */
int kms_check_rotation_period(KmsFailure *f, uint32_t *days);
/* MacVerifyWindowInDays: 0..3650. */
int kms_check_verify_window(KmsFailure *f, uint32_t days);
/* VerifyMacBatch: as many MACs as messages. */
int kms_check_batch_counts(KmsFailure *f, size_t n_messages, size_t n_macs);
/* ImportKeyMaterial's expiration model and ValidTo, against now. */
int kms_check_expiration(KmsFailure *f, const char *model, uint64_t valid_to, uint64_t now);
int kms_check_wrapping(KmsFailure *f, const char *algorithm, const char *spec, WrappingAlgorithm *ret_alg,
                       WrappingKeySpec *ret_spec);
