/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Request checks that need no key (see kms-check.h). */
#include <string.h>
#include <strings.h>

#include "kms-check.h"
#include "macro.h"

int kms_check_length(KmsFailure *f, const char *field, size_t n, size_t min, size_t max) {
        return n < min || n > max ? kms_fail_length(f, field, n, min, max) : 0;
}

int kms_check_mac_algorithm(KmsFailure *f, const char *name, KeySpec *ret) {
        KeySpec s = key_spec_from_mac_algorithm(name);
        if (s < 0)
                return kms_fail_value(f, KMS_COND_MAC_ALGORITHM_ENUM, name);
        *ret = s;
        return 0;
}

int kms_check_key_spec_and_usage(KmsFailure *f, const char *spec_name, const char *usage, KeySpec *ret) {
        static const char *const usages[] = { "ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT" };
        KeySpec spec = key_spec_from_string(spec_name);
        bool known_usage = false;

        if (spec < 0 && *spec_name && !key_spec_is_other_aws_spec(spec_name))
                return kms_fail_value(f, KMS_COND_KEY_SPEC_ENUM, spec_name);
        for (size_t i = 0; i < ELEMENTSOF(usages); i++)
                known_usage = known_usage || streq(usages[i], usage);
        if (*usage && !known_usage)
                return kms_fail_value(f, KMS_COND_KEY_USAGE_ENUM, usage);
        if (spec < 0)
                return kms_fail_value(f, KMS_COND_KEY_SPEC_UNSUPPORTED, *spec_name ? spec_name : "SYMMETRIC_DEFAULT");
        if (!*usage)
                return kms_fail(f, KMS_COND_KEY_USAGE_MISSING);
        if (!streq(usage, "GENERATE_VERIFY_MAC")) {
                f->name = spec_name;
                return kms_fail_value(f, KMS_COND_KEY_USAGE_INCOMPATIBLE, usage);
        }
        *ret = spec;
        return 0;
}

int kms_check_origin(KmsFailure *f, const char *name, KeyOrigin *ret) {
        KeyOrigin o = key_origin_from_string(name);
        if (o < 0)
                return kms_fail_value(f, KMS_COND_ORIGIN_ENUM, name);
        *ret = o;
        return 0;
}

int kms_check_description(KmsFailure *f, const char *d) {
        ssize_t n = utf8_length(d, strlen(d));
        if (n < 0)
                return kms_fail(f, KMS_COND_DESCRIPTION_UTF8);
        return kms_check_length(f, "description", (size_t) n, 0, KMS_DESCRIPTION_MAX);
}

/* AWS names the member by its 1-based place in the request and shows the value. */
static int fail_tag_length(KmsFailure *f, size_t member, const char *field, const char *value, size_t n, size_t min,
                           size_t max) {
        *f = (KmsFailure) { .value = value, .field = field, .number = member, .min = min, .max = max };
        return kms_fail(f, n < min ? KMS_COND_TAG_LENGTH_MIN : KMS_COND_TAG_LENGTH_MAX);
}

int kms_check_tag(KmsFailure *f, const KeyTag *before, size_t n_before, const char *key, const char *value) {
        ssize_t kn = utf8_length(key, strlen(key)), vn = utf8_length(value, strlen(value));

        if (n_before >= KMS_TAGS_PER_KEY_MAX)
                return kms_fail(f, KMS_COND_TAGS_TOO_MANY);
        if (kn < 0 || vn < 0)
                return kms_fail(f, KMS_COND_TAGS_UTF8);
        if (kn < 1 || (size_t) kn > KMS_TAG_KEY_MAX)
                return fail_tag_length(f, n_before + 1, "tagKey", key, (size_t) kn, 1, KMS_TAG_KEY_MAX);
        if ((size_t) vn > KMS_TAG_VALUE_MAX)
                return fail_tag_length(f, n_before + 1, "tagValue", value, (size_t) vn, 0, KMS_TAG_VALUE_MAX);
        /* Reserved prefixes in any letter case, as AWS treats "AWS:" like "aws:". */
        if (strncasecmp(key, "aws:", 4) == 0 || strncasecmp(key, "hmacd:", 6) == 0) {
                f->name = strncasecmp(key, "aws:", 4) == 0 ? "aws:" : "hmacd:";
                return kms_fail(f, KMS_COND_TAG_RESERVED);
        }
        for (size_t i = 0; i < n_before; i++)
                if (streq(before[i].key, key))
                        return kms_fail(f, KMS_COND_TAG_KEYS_DUPLICATE);
        return 0;
}

int kms_check_tag_key(KmsFailure *f, size_t n_before, const char *key) {
        size_t n = strlen(key);

        if (n_before >= KMS_TAGS_PER_KEY_MAX)
                return kms_fail_length(f, "tagKeys", n_before + 1, 0, KMS_TAGS_PER_KEY_MAX);
        if (n == 0 || n > 4 * KMS_TAG_KEY_MAX || utf8_length(key, n) > (ssize_t) KMS_TAG_KEY_MAX)
                return kms_fail_length(f, "tagKeys.member", n == 0 ? 0 : KMS_TAG_KEY_MAX + 1, 1, KMS_TAG_KEY_MAX);
        return 0;
}

int kms_check_alias_name(KmsFailure *f, const char *name) {
        switch (alias_name_check(name)) {
        case ALIAS_NAME_OK:
                return 0;
        case ALIAS_NAME_TOO_LONG:
                return kms_fail_length(f, "aliasName", strlen(name), 1, KMS_ALIAS_NAME_MAX);
        case ALIAS_NAME_EMPTY:
                if (*name)
                        return kms_fail(f, KMS_COND_ALIAS_EMPTY);
                return kms_fail_length(f, "aliasName", 0, 1, KMS_ALIAS_NAME_MAX);
        case ALIAS_NAME_NO_PREFIX:
                return kms_fail(f, KMS_COND_ALIAS_NO_PREFIX);
        case ALIAS_NAME_BAD_CHARACTER:
                return kms_fail_value(f, KMS_COND_ALIAS_CHARACTERS, name);
        case ALIAS_NAME_RESERVED:
        default:
                return kms_fail(f, KMS_COND_ALIAS_RESERVED);
        }
}

int kms_check_limit(KmsFailure *f, uint32_t *limit, uint32_t def, uint32_t max) {
        if (*limit == 0)
                *limit = def;
        if (*limit > max) {
                *f = (KmsFailure) { .field = "limit", .number = *limit, .max = max };
                return kms_fail(f, KMS_COND_VALUE_MAX);
        }
        return 0;
}

int kms_check_seq_marker(KmsFailure *f, const char *marker, int64_t *ret) {
        int r;

        *ret = 0;
        if (!*marker)
                return 0;
        r = kms_check_length(f, "marker", strlen(marker), 1, KMS_MARKER_MAX);
        if (r != 0)
                return r;
        if (marker_decode_seq(marker, ret) < 0)
                return kms_fail_value(f, KMS_COND_MARKER_INVALID, marker);
        return 0;
}

int kms_check_name_marker(KmsFailure *f, const char *marker, char *buf, size_t size) {
        int n, r;

        *buf = 0;
        if (!*marker)
                return 0;
        r = kms_check_length(f, "marker", strlen(marker), 1, KMS_MARKER_MAX);
        if (r != 0)
                return r;
        n = marker_decode(marker, buf, size - 1);
        if (n <= 0 || memchr(buf, 0, (size_t) n))
                return kms_fail_value(f, KMS_COND_MARKER_INVALID, marker);
        buf[n] = 0;
        return 0;
}

int kms_check_pending_window(KmsFailure *f, uint32_t *days) {
        if (*days == 0)
                *days = 30;
        if (*days < 7 || *days > 30) {
                f->number = *days;
                return kms_fail(f, KMS_COND_PENDING_WINDOW);
        }
        return 0;
}

int kms_check_expiration(KmsFailure *f, const char *model, uint64_t valid_to, uint64_t now) {
        if (!*model || streq(model, "KEY_MATERIAL_EXPIRES")) {
                if (valid_to == 0)
                        return kms_fail(f, KMS_COND_VALID_TO_MISSING);
                if (valid_to <= now)
                        return kms_fail(f, KMS_COND_VALID_TO_PAST);
                if (valid_to > now + 365ULL * 24 * 3600 * 1000000)
                        return kms_fail(f, KMS_COND_VALID_TO_TOO_FAR);
                return 0;
        }
        if (streq(model, "KEY_MATERIAL_DOES_NOT_EXPIRE"))
                return valid_to != 0 ? kms_fail(f, KMS_COND_VALID_TO_SET) : 0;
        return kms_fail_value(f, KMS_COND_EXPIRATION_MODEL_ENUM, model);
}

int kms_check_wrapping(KmsFailure *f, const char *algorithm, const char *spec, WrappingAlgorithm *ret_alg,
                       WrappingKeySpec *ret_spec) {
        WrappingAlgorithm a = wrapping_algorithm_from_string(algorithm);
        WrappingKeySpec s = wrapping_key_spec_from_string(spec);

        if (a < 0)
                return kms_fail_value(f, wrapping_algorithm_is_other_aws(algorithm) ? KMS_COND_WRAPPING_ALGORITHM_UNSUPPORTED
                                                                                   : KMS_COND_WRAPPING_ALGORITHM_ENUM,
                                      algorithm);
        if (s < 0)
                return kms_fail_value(f, wrapping_key_spec_is_other_aws(spec) ? KMS_COND_WRAPPING_KEY_SPEC_UNSUPPORTED
                                                                             : KMS_COND_WRAPPING_KEY_SPEC_ENUM,
                                      spec);
        *ret_alg = a;
        *ret_spec = s;
        return 0;
}

int kms_check_rotation_period(KmsFailure *f, uint32_t *days) {
        if (*days == 0)
                *days = KMS_ROTATION_PERIOD_DEFAULT;
        f->field = "rotationPeriodInDays";
        f->number = *days;
        if (*days < KMS_ROTATION_PERIOD_MIN) {
                f->min = KMS_ROTATION_PERIOD_MIN;
                return kms_fail(f, KMS_COND_VALUE_MIN);
        }
        if (*days > KMS_ROTATION_PERIOD_MAX) {
                f->max = KMS_ROTATION_PERIOD_MAX;
                return kms_fail(f, KMS_COND_VALUE_MAX);
        }
        return 0;
}

int kms_check_verify_window(KmsFailure *f, uint32_t days) {
        if (days > KMS_MAC_VERIFY_WINDOW_MAX) {
                f->field = "macVerifyWindowInDays";
                f->number = days;
                f->max = KMS_MAC_VERIFY_WINDOW_MAX;
                return kms_fail(f, KMS_COND_VALUE_MAX);
        }
        return 0;
}

int kms_check_batch_counts(KmsFailure *f, size_t n_messages, size_t n_macs) {
        if (n_messages != n_macs) {
                f->number = n_messages;
                f->max = n_macs;
                return kms_fail(f, KMS_COND_BATCH_COUNTS);
        }
        return 0;
}
