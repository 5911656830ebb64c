/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of common/kms.c: the key-spec, state, origin and exception tables, and the UTF-8 check. */

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "kms.h"
#include "macro.h"

/* ---- key specs and MAC algorithms ---- */

/* What API.md (section 3) promises, written out independently of the table in common/kms.c. */
static const struct {
        KeySpec spec;
        const char *name, *mac_algorithm;
        size_t mac_size, import_min, import_max;
} expected_specs[] = {
        { KEY_SPEC_HMAC_224, "HMAC_224", "HMAC_SHA_224", 28, 28, 64 },
        { KEY_SPEC_HMAC_256, "HMAC_256", "HMAC_SHA_256", 32, 32, 64 },
        { KEY_SPEC_HMAC_384, "HMAC_384", "HMAC_SHA_384", 48, 48, 128 },
        { KEY_SPEC_HMAC_512, "HMAC_512", "HMAC_SHA_512", 64, 64, 128 },
};

Test(key_spec, table_matches_api) {
        cr_assert_eq(ELEMENTSOF(expected_specs), (size_t) _KEY_SPEC_MAX);

        for (size_t i = 0; i < ELEMENTSOF(expected_specs); i++) {
                KeySpec s = expected_specs[i].spec;

                cr_assert_str_eq(key_spec_to_string(s), expected_specs[i].name);
                cr_assert_str_eq(key_spec_mac_algorithm(s), expected_specs[i].mac_algorithm);
                cr_assert_eq(key_spec_mac_size(s), expected_specs[i].mac_size, "%s", expected_specs[i].name);
                /* Generated keys are as long as the tag (AWS does the same). */
                cr_assert_eq(key_spec_key_size(s), expected_specs[i].mac_size, "%s", expected_specs[i].name);
                cr_assert_eq(key_spec_import_min(s), expected_specs[i].import_min, "%s", expected_specs[i].name);
                cr_assert_eq(key_spec_import_max(s), expected_specs[i].import_max, "%s", expected_specs[i].name);
                cr_assert_leq(key_spec_mac_size(s), KMS_MAC_SIZE_MAX);
                cr_assert_leq(key_spec_import_max(s), KMS_KEY_MATERIAL_MAX);
        }
}

Test(key_spec, round_trips) {
        for (KeySpec s = 0; s < _KEY_SPEC_MAX; s++) {
                const char *name = key_spec_to_string(s), *alg = key_spec_mac_algorithm(s);

                cr_assert_not_null(name);
                cr_assert_not_null(alg);
                cr_assert_eq(key_spec_from_string(name), s, "%s", name);
                cr_assert_eq(key_spec_from_mac_algorithm(alg), s, "%s", alg);
                /* The two namespaces must not be confused with each other. */
                cr_assert_eq(key_spec_from_string(alg), _KEY_SPEC_INVALID, "%s", alg);
                cr_assert_eq(key_spec_from_mac_algorithm(name), _KEY_SPEC_INVALID, "%s", name);
                /* Names are distinct. */
                for (KeySpec t = 0; t < s; t++) {
                        cr_assert_str_neq(key_spec_to_string(t), name);
                        cr_assert_str_neq(key_spec_mac_algorithm(t), alg);
                }
        }
}

Test(key_spec, invalid_inputs) {
        static const char *const bad[] = {
                "", "hmac_256", "HMAC_256 ", " HMAC_256", "HMAC_128", "HMAC", "HMAC_2560", "SYMMETRIC_DEFAULT",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                cr_assert_eq(key_spec_from_string(bad[i]), _KEY_SPEC_INVALID, "'%s'", bad[i]);
                cr_assert_eq(key_spec_from_mac_algorithm(bad[i]), _KEY_SPEC_INVALID, "'%s'", bad[i]);
        }
        cr_assert_eq(key_spec_from_string(NULL), _KEY_SPEC_INVALID);
        cr_assert_eq(key_spec_from_mac_algorithm(NULL), _KEY_SPEC_INVALID);
        cr_assert_eq(key_spec_from_mac_algorithm("HMAC_SHA_1"), _KEY_SPEC_INVALID);

        cr_assert_null(key_spec_to_string(_KEY_SPEC_MAX));
        cr_assert_null(key_spec_to_string(_KEY_SPEC_INVALID));
        cr_assert_null(key_spec_mac_algorithm(_KEY_SPEC_MAX));
        cr_assert_null(key_spec_mac_algorithm(_KEY_SPEC_INVALID));
        cr_assert_eq(key_spec_mac_size(_KEY_SPEC_MAX), 0);
        cr_assert_eq(key_spec_mac_size(_KEY_SPEC_INVALID), 0);
        cr_assert_eq(key_spec_key_size(_KEY_SPEC_INVALID), 0);
        cr_assert_eq(key_spec_import_min(_KEY_SPEC_MAX), 0);
        cr_assert_eq(key_spec_import_max(_KEY_SPEC_INVALID), 0);
}

Test(key_spec, other_aws_specs) {
        static const char *const other[] = { "SYMMETRIC_DEFAULT", "RSA_2048", "RSA_3072", "RSA_4096",
                                             "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
                                             "ECC_SECG_P256K1", "SM2" };
        static const char *const not_other[] = { "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "",
                                                 "RSA_1024", "rsa_2048", "SYMMETRIC" };

        for (size_t i = 0; i < ELEMENTSOF(other); i++) {
                cr_assert(key_spec_is_other_aws_spec(other[i]), "%s", other[i]);
                cr_assert_eq(key_spec_from_string(other[i]), _KEY_SPEC_INVALID, "%s", other[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(not_other); i++)
                cr_assert_not(key_spec_is_other_aws_spec(not_other[i]), "'%s'", not_other[i]);
        cr_assert_not(key_spec_is_other_aws_spec(NULL));
}

/* ---- key states and origins ---- */

Test(key_state, round_trips) {
        static const char *const names[] = { "Enabled", "Disabled", "PendingDeletion", "PendingImport" };
        static const KeyState states[] = { KEY_STATE_ENABLED, KEY_STATE_DISABLED, KEY_STATE_PENDING_DELETION,
                                           KEY_STATE_PENDING_IMPORT };

        cr_assert_eq(ELEMENTSOF(names), (size_t) _KEY_STATE_MAX);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                cr_assert_str_eq(key_state_to_string(states[i]), names[i]);
                cr_assert_eq(key_state_from_string(names[i]), states[i], "%s", names[i]);
        }
        cr_assert_null(key_state_to_string(_KEY_STATE_MAX));
        cr_assert_null(key_state_to_string(_KEY_STATE_INVALID));
        cr_assert_eq(key_state_from_string(NULL), _KEY_STATE_INVALID);
        cr_assert_eq(key_state_from_string(""), _KEY_STATE_INVALID);
        cr_assert_eq(key_state_from_string("enabled"), _KEY_STATE_INVALID);
        cr_assert_eq(key_state_from_string("Pending"), _KEY_STATE_INVALID);
        cr_assert_eq(key_state_from_string("PendingReplicaDeletion"), _KEY_STATE_INVALID);
}

Test(key_origin, round_trips) {
        cr_assert_eq(_KEY_ORIGIN_MAX, 2);
        cr_assert_str_eq(key_origin_to_string(KEY_ORIGIN_HMACD), "HMACD");
        cr_assert_str_eq(key_origin_to_string(KEY_ORIGIN_EXTERNAL), "EXTERNAL");
        cr_assert_eq(key_origin_from_string("HMACD"), KEY_ORIGIN_HMACD);
        cr_assert_eq(key_origin_from_string("EXTERNAL"), KEY_ORIGIN_EXTERNAL);

        cr_assert_null(key_origin_to_string(_KEY_ORIGIN_MAX));
        cr_assert_null(key_origin_to_string(_KEY_ORIGIN_INVALID));
        cr_assert_eq(key_origin_from_string(NULL), _KEY_ORIGIN_INVALID);
        cr_assert_eq(key_origin_from_string(""), _KEY_ORIGIN_INVALID);
        cr_assert_eq(key_origin_from_string("AWS_KMS"), _KEY_ORIGIN_INVALID);
        cr_assert_eq(key_origin_from_string("external"), _KEY_ORIGIN_INVALID);
}

/* ---- exceptions and D-Bus error names ---- */

/* A D-Bus error name: at least two elements separated by '.', each [A-Za-z_][A-Za-z0-9_]*, at most 255
 * characters (the D-Bus specification, "Error names"). */
static bool dbus_error_name_is_valid(const char *s) {
        size_t elements = 0, len = 0;
        bool start = true;

        for (const char *p = s; *p; p++, len++) {
                if (*p == '.') {
                        if (start)
                                return false;
                        start = true;
                        continue;
                }
                if (start) {
                        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
                                return false;
                        elements++;
                        start = false;
                } else if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                             *p == '_'))
                        return false;
        }
        return !start && elements >= 2 && len <= 255;
}

Test(kms_error, every_error_has_a_distinct_name) {
        const size_t prefix_len = strlen(HMACD_ERROR_PREFIX);

        cr_assert_str_eq(HMACD_ERROR_PREFIX, "io.hmacd.Kms1.Error.");

        for (KmsError e = 1; e < _KMS_ERROR_MAX; e++) {
                const char *ex = kms_error_to_exception(e), *name = kms_error_to_dbus_name(e);
                size_t n;

                cr_assert_not_null(ex, "KmsError %d has no exception name", (int) e);
                cr_assert_not_null(name, "KmsError %d has no D-Bus name", (int) e);
                n = strlen(ex);
                cr_assert_gt(n, strlen("Exception"));
                cr_assert_str_eq(ex + n - strlen("Exception"), "Exception", "%s", ex);

                cr_assert_eq(strncmp(name, HMACD_ERROR_PREFIX, prefix_len), 0, "%s", name);
                cr_assert_str_eq(name + prefix_len, ex);
                cr_assert(dbus_error_name_is_valid(name), "'%s' is not a valid D-Bus error name", name);

                cr_assert_eq(kms_error_from_exception(ex), e, "%s", ex);
                cr_assert_gt(kms_error_to_errno(e), 0, "%s", ex);

                for (KmsError f = 1; f < e; f++) {
                        cr_assert_str_neq(kms_error_to_exception(f), ex);
                        cr_assert_str_neq(kms_error_to_dbus_name(f), name);
                }
        }
}

Test(kms_error, api_exception_list) {
        /* API.md section 6 lists exactly these. */
        static const char *const names[] = {
                "ValidationException",           "NotFoundException",
                "DisabledException",             "KMSInvalidStateException",
                "InvalidKeyUsageException",      "KMSInvalidMacException",
                "AlreadyExistsException",        "InvalidAliasNameException",
                "LimitExceededException",        "TagException",
                "InvalidMarkerException",        "UnsupportedOperationException",
                "IncorrectKeyMaterialException", "InvalidCiphertextException",
                "InvalidImportTokenException",   "ExpiredImportTokenException",
                "KMSInternalException",
        };

        cr_assert_eq(ELEMENTSOF(names), (size_t) _KMS_ERROR_MAX - 1);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                KmsError e = kms_error_from_exception(names[i]);
                char expected[256];

                cr_assert_gt(e, 0, "%s is not known", names[i]);
                cr_assert_lt(e, _KMS_ERROR_MAX);
                snprintf(expected, sizeof expected, "io.hmacd.Kms1.Error.%s", names[i]);
                cr_assert_str_eq(kms_error_to_dbus_name(e), expected);
        }

        cr_assert_eq(kms_error_from_exception("NotFoundException"), KMS_ERROR_NOT_FOUND);
        cr_assert_eq(kms_error_from_exception("KMSInvalidMacException"), KMS_ERROR_INVALID_MAC);
        cr_assert_eq(kms_error_from_exception("ValidationException"), KMS_ERROR_VALIDATION);
        cr_assert_str_eq(kms_error_to_dbus_name(KMS_ERROR_NOT_FOUND), "io.hmacd.Kms1.Error.NotFoundException");
}

Test(kms_error, out_of_range) {
        cr_assert_null(kms_error_to_exception(KMS_OK));
        cr_assert_null(kms_error_to_dbus_name(KMS_OK));
        cr_assert_null(kms_error_to_exception(_KMS_ERROR_MAX));
        cr_assert_null(kms_error_to_dbus_name(_KMS_ERROR_MAX));
        cr_assert_null(kms_error_to_exception(_KMS_ERROR_INVALID));
        cr_assert_null(kms_error_to_dbus_name(_KMS_ERROR_INVALID));

        cr_assert_eq(kms_error_from_exception(NULL), _KMS_ERROR_INVALID);
        cr_assert_eq(kms_error_from_exception(""), _KMS_ERROR_INVALID);
        cr_assert_eq(kms_error_from_exception("notfoundexception"), _KMS_ERROR_INVALID);
        cr_assert_eq(kms_error_from_exception("io.hmacd.Kms1.Error.NotFoundException"), _KMS_ERROR_INVALID);
        cr_assert_eq(kms_error_from_exception("AccessDeniedException"), _KMS_ERROR_INVALID);

        cr_assert_eq(kms_error_to_errno(_KMS_ERROR_MAX), EIO);
        cr_assert_eq(kms_error_to_errno(_KMS_ERROR_INVALID), EIO);
}

Test(kms_error, errno_values) {
        cr_assert_eq(kms_error_to_errno(KMS_ERROR_NOT_FOUND), ENOENT);
        cr_assert_eq(kms_error_to_errno(KMS_ERROR_VALIDATION), EINVAL);
        cr_assert_eq(kms_error_to_errno(KMS_ERROR_INVALID_MAC), EBADMSG);
        cr_assert_eq(kms_error_to_errno(KMS_ERROR_ALREADY_EXISTS), EEXIST);
        cr_assert_eq(kms_error_to_errno(KMS_ERROR_INTERNAL), EIO);
}

/* ---- UTF-8 ---- */

#define U(s) (s), (sizeof(s) - 1)

Test(utf8, valid_sequences) {
        cr_assert_eq(utf8_length("", 0), 0);
        cr_assert_eq(utf8_length(U("abc")), 3);
        cr_assert_eq(utf8_length(U("\x7f")), 1);
        cr_assert_eq(utf8_length(U("\xc2\x80")), 1);             /* U+0080, smallest 2-byte */
        cr_assert_eq(utf8_length(U("\xc3\xa9")), 1);             /* é */
        cr_assert_eq(utf8_length(U("\xdf\xbf")), 1);             /* U+07FF */
        cr_assert_eq(utf8_length(U("\xe0\xa0\x80")), 1);         /* U+0800, smallest 3-byte */
        cr_assert_eq(utf8_length(U("\xe2\x82\xac")), 1);         /* € */
        cr_assert_eq(utf8_length(U("\xed\x9f\xbf")), 1);         /* U+D7FF, just below the surrogates */
        cr_assert_eq(utf8_length(U("\xee\x80\x80")), 1);         /* U+E000, just above */
        cr_assert_eq(utf8_length(U("\xef\xbf\xbf")), 1);         /* U+FFFF */
        cr_assert_eq(utf8_length(U("\xf0\x90\x80\x80")), 1);     /* U+10000, smallest 4-byte */
        cr_assert_eq(utf8_length(U("\xf0\x9d\x84\x9e")), 1);     /* 𝄞 */
        cr_assert_eq(utf8_length(U("\xf4\x8f\xbf\xbf")), 1);     /* U+10FFFF, the last code point */
}

Test(utf8, counts_code_points_not_bytes) {
        /* "aé€𝄞": 1 + 2 + 3 + 4 bytes, four code points. */
        cr_assert_eq(utf8_length(U("a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e")), 4);
        /* "Grüße, 世界!" */
        cr_assert_eq(utf8_length(U("Gr\xc3\xbc\xc3\x9f" "e, \xe4\xb8\x96\xe7\x95\x8c!")), 10);
        /* NUL is a code point like any other when the length is explicit. */
        cr_assert_eq(utf8_length("a\0b", 3), 3);
        /* Only the first n bytes count. */
        cr_assert_eq(utf8_length("abcdef", 2), 2);
}

Test(utf8, long_strings) {
        /* KMS_DESCRIPTION_MAX code points of 3 bytes each, and of 4 bytes each. */
        size_t n3 = KMS_DESCRIPTION_MAX * 3, n4 = KMS_DESCRIPTION_MAX * 4;
        char *s3 = malloc(n3), *s4 = malloc(n4);

        cr_assert_not_null(s3);
        cr_assert_not_null(s4);
        for (size_t i = 0; i < KMS_DESCRIPTION_MAX; i++) {
                memcpy(s3 + 3 * i, "\xe2\x82\xac", 3);
                memcpy(s4 + 4 * i, "\xf0\x9f\x98\x80", 4);
        }
        cr_assert_eq(utf8_length(s3, n3), (ssize_t) KMS_DESCRIPTION_MAX);
        cr_assert_eq(utf8_length(s4, n4), (ssize_t) KMS_DESCRIPTION_MAX);
        /* Cutting the last sequence short makes the whole string invalid. */
        cr_assert_eq(utf8_length(s3, n3 - 1), -EILSEQ);
        cr_assert_eq(utf8_length(s4, n4 - 2), -EILSEQ);
        free(s3);
        free(s4);
}

Test(utf8, overlong_sequences) {
        static const char *const overlong[] = {
                "\xc0\x80",             /* U+0000 in two bytes */
                "\xc0\xaf",             /* '/' */
                "\xc1\xbf",             /* U+007F */
                "\xe0\x80\x80",         /* U+0000 in three bytes */
                "\xe0\x80\xaf",         /* '/' */
                "\xe0\x9f\xbf",         /* U+07FF in three bytes */
                "\xf0\x80\x80\x80",     /* U+0000 in four bytes */
                "\xf0\x80\x80\xaf",     /* '/' */
                "\xf0\x8f\xbf\xbf",     /* U+FFFF in four bytes */
        };

        for (size_t i = 0; i < ELEMENTSOF(overlong); i++)
                cr_assert_eq(utf8_length(overlong[i], strlen(overlong[i])), -EILSEQ, "overlong #%zu", i);
}

Test(utf8, surrogates) {
        static const char *const surrogates[] = {
                "\xed\xa0\x80",         /* U+D800 */
                "\xed\xad\xbf",         /* U+DB7F */
                "\xed\xae\x80",         /* U+DB80 */
                "\xed\xaf\xbf",         /* U+DBFF */
                "\xed\xb0\x80",         /* U+DC00 */
                "\xed\xbf\xbf",         /* U+DFFF */
                "\xed\xa0\xbd\xed\xb8\x80", /* a CESU-8 surrogate pair for U+1F600 */
        };

        for (size_t i = 0; i < ELEMENTSOF(surrogates); i++)
                cr_assert_eq(utf8_length(surrogates[i], strlen(surrogates[i])), -EILSEQ, "surrogate #%zu", i);
        /* The same inside otherwise valid text. */
        cr_assert_eq(utf8_length(U("abc\xed\xa0\x80xyz")), -EILSEQ);
}

Test(utf8, beyond_unicode) {
        cr_assert_eq(utf8_length(U("\xf4\x90\x80\x80")), -EILSEQ); /* U+110000 */
        cr_assert_eq(utf8_length(U("\xf5\x80\x80\x80")), -EILSEQ);
        cr_assert_eq(utf8_length(U("\xf7\xbf\xbf\xbf")), -EILSEQ);
        /* 5- and 6-byte forms of the original UTF-8, and bytes that never occur. */
        cr_assert_eq(utf8_length(U("\xf8\x88\x80\x80\x80")), -EILSEQ);
        cr_assert_eq(utf8_length(U("\xfc\x84\x80\x80\x80\x80")), -EILSEQ);
        cr_assert_eq(utf8_length(U("\xfe")), -EILSEQ);
        cr_assert_eq(utf8_length(U("\xff")), -EILSEQ);
}

Test(utf8, truncated_and_broken_sequences) {
        static const char *const broken[] = {
                "\xc3",                 /* lead byte at the end */
                "\xe2\x82",             /* 3-byte sequence, 2 bytes */
                "\xe2",
                "\xf0\x9d\x84",         /* 4-byte sequence, 3 bytes */
                "\xf0\x9d",
                "\xf0",
                "\x80",                 /* continuation byte with no lead */
                "\xbf",
                "a\x80" "b",
                "\xc3\x41",             /* lead byte followed by ASCII */
                "\xe2\x28\xa1",         /* bad second byte */
                "\xe2\x82\x28",         /* bad third byte */
                "\xf0\x9d\x84\x28",     /* bad fourth byte */
                "\xc3\xc3\xa9",         /* lead byte followed by another lead byte */
                "\xe2\x82\xac\x80",     /* one continuation byte too many */
        };

        for (size_t i = 0; i < ELEMENTSOF(broken); i++)
                cr_assert_eq(utf8_length(broken[i], strlen(broken[i])), -EILSEQ, "broken #%zu", i);

        /* A valid sequence cut short by n, not by a NUL. */
        cr_assert_eq(utf8_length("\xc3\xa9", 1), -EILSEQ);
        cr_assert_eq(utf8_length("\xe2\x82\xac", 2), -EILSEQ);
        cr_assert_eq(utf8_length("\xf0\x9d\x84\x9e", 3), -EILSEQ);
        /* A NUL is not a continuation byte. */
        cr_assert_eq(utf8_length("\xc3\0", 2), -EILSEQ);
}
