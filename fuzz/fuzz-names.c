/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The enum arguments of the bus methods and the CLI (common/kms.c, daemon/import.c, cli/util.c): key
 * specs, MAC algorithms, key states, origins, exception names, wrapping algorithms and wrapping key
 * specs, the --format of generate-mac-batch. The input, up to its first NUL, is the string a client
 * sends. Each *_from_string() either refuses it with its _INVALID value or returns a value in range
 * whose name is exactly the input; a name AWS knows but hmacd does not support is never also a
 * supported one; the tables that hang off a key spec (MAC algorithm, sizes, import window) are
 * consistent. */
#include "fuzz.h"
#include "import.h"
#include "kms.h"
#include "util.h"

static bool streq_null(const char *a, const char *b) {
        return a && b && strcmp(a, b) == 0;
}

static void check_key_spec(KeySpec k) {
        fuzz_check(k >= 0 && k < _KEY_SPEC_MAX, "%d", k);
        fuzz_check(key_spec_from_mac_algorithm(key_spec_mac_algorithm(k)) == k, "%d", k);
        fuzz_check(key_spec_from_string(key_spec_to_string(k)) == k, "%d", k);
        fuzz_check(key_spec_mac_size(k) == key_spec_key_size(k) && key_spec_mac_size(k) <= KMS_MAC_SIZE_MAX,
                   "%s", key_spec_to_string(k));
        fuzz_check(key_spec_import_min(k) == key_spec_key_size(k) &&
                           key_spec_import_max(k) >= key_spec_import_min(k) &&
                           key_spec_import_max(k) <= KMS_KEY_MATERIAL_MAX,
                   "%s", key_spec_to_string(k));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_strndup(data, size);
        KeySpec k;
        KeyState st;
        KeyOrigin o;
        KmsError e;
        WrappingAlgorithm wa;
        WrappingKeySpec ws;
        MessageFormat mf;

        k = key_spec_from_string(s);
        if (k == _KEY_SPEC_INVALID)
                fuzz_check(key_spec_to_string(k) == NULL, "%s", s);
        else {
                check_key_spec(k);
                fuzz_check(streq_null(key_spec_to_string(k), s), "'%s' gave %d", s, k);
                fuzz_check(!key_spec_is_other_aws_spec(s), "'%s' both supported and not", s);
        }

        k = key_spec_from_mac_algorithm(s);
        if (k != _KEY_SPEC_INVALID) {
                check_key_spec(k);
                fuzz_check(streq_null(key_spec_mac_algorithm(k), s), "'%s' gave %d", s, k);
        } else
                fuzz_check(key_spec_mac_size(k) == 0 && key_spec_mac_algorithm(k) == NULL, "%s", s);

        st = key_state_from_string(s);
        fuzz_check(st == _KEY_STATE_INVALID ||
                           (st >= 0 && st < _KEY_STATE_MAX && streq_null(key_state_to_string(st), s)),
                   "'%s' gave %d", s, st);

        o = key_origin_from_string(s);
        fuzz_check(o == _KEY_ORIGIN_INVALID ||
                           (o >= 0 && o < _KEY_ORIGIN_MAX && streq_null(key_origin_to_string(o), s)),
                   "'%s' gave %d", s, o);

        e = kms_error_from_exception(s);
        if (e == _KMS_ERROR_INVALID)
                fuzz_check(kms_error_to_exception(e) == NULL && kms_error_to_dbus_name(e) == NULL, "%s", s);
        else {
                const char *d = kms_error_to_dbus_name(e);

                /* KMS_OK is no exception. */
                fuzz_check(e > KMS_OK && e < _KMS_ERROR_MAX && streq_null(kms_error_to_exception(e), s),
                           "'%s' gave %d", s, e);
                fuzz_check(d && strncmp(d, HMACD_ERROR_PREFIX, strlen(HMACD_ERROR_PREFIX)) == 0 &&
                                   strcmp(d + strlen(HMACD_ERROR_PREFIX), s) == 0,
                           "'%s' has D-Bus name '%s'", s, d);
                fuzz_check(kms_error_to_errno(e) > 0, "'%s'", s);
        }

        wa = wrapping_algorithm_from_string(s);
        fuzz_check(wa == _WRAPPING_ALGORITHM_INVALID || (wa >= 0 && wa < _WRAPPING_ALGORITHM_MAX), "%d", wa);
        if (wa != _WRAPPING_ALGORITHM_INVALID)
                fuzz_check(!wrapping_algorithm_is_other_aws(s) && strncmp(s, "RSAES_OAEP_SHA_", 15) == 0,
                           "'%s'", s);

        ws = wrapping_key_spec_from_string(s);
        fuzz_check(ws == _WRAPPING_KEY_SPEC_INVALID || (ws >= 0 && ws < _WRAPPING_KEY_SPEC_MAX), "%d", ws);
        if (ws != _WRAPPING_KEY_SPEC_INVALID)
                fuzz_check(!wrapping_key_spec_is_other_aws(s) && strncmp(s, "RSA_", 4) == 0, "'%s'", s);

        mf = message_format_from_string(s);
        fuzz_check(mf == _MESSAGE_FORMAT_INVALID || (mf >= 0 && mf < _MESSAGE_FORMAT_MAX &&
                                                     streq_null(message_format_to_string(mf), s)),
                   "'%s' gave %d", s, mf);

        free(s);
        return 0;
}
