/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key identifiers (common/ident.c): the input, up to its first NUL, is a key_id argument as a client
 * sends it. key_ref_parse() with this machine's ID and without one, key_id_is_valid() and
 * alias_name_check() must agree with each other and with the rules of API.md section 2 (written out
 * again here, independently), and whatever parses must format back into an ARN that parses to the
 * same key. The whole input is also read as an /etc/machine-id by machine_id_read(): whatever that
 * accepts must be a machine ID that ARNs accept. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "ident.h"
#include "kms.h"

#define MACHINE_ID "0123456789abcdef0123456789abcdef"

static int machine_id_fd = -1;
static char longest_alias[KMS_ALIAS_NAME_MAX + 1]; /* "alias/" and 250 more */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        memset(longest_alias, 'z', KMS_ALIAS_NAME_MAX);
        memcpy(longest_alias, "alias/", 6);
        machine_id_fd = memfd_create("machine-id", MFD_CLOEXEC);
        if (machine_id_fd < 0)
                abort();
        return 0;
}

/* API.md: 36 characters, lower-case hex with dashes at 8, 13, 18 and 23. */
static bool ref_key_id_valid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (!strchr("0123456789abcdef", s[i]) || s[i] == 0)
                        return false;
        }
        return true;
}

/* API.md: "alias/" + 1..250 of [A-Za-z0-9/_-], at most 256 in all; alias/aws/ and alias/hmacd/
 * reserved. Returns 0 invalid, 1 good, 2 well-formed but reserved. */
static int ref_alias_name(const char *s) {
        size_t n = strlen(s);

        if (n <= 6 || n > 256 || strncmp(s, "alias/", 6) != 0)
                return 0;
        for (size_t i = 6; i < n; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_-", s[i]))
                        return 0;
        if (strncmp(s, "alias/aws/", 10) == 0 || strncmp(s, "alias/hmacd/", 12) == 0)
                return 2;
        return 1;
}

static bool ref_machine_id_valid(const char *s, size_t n) {
        if (n < 1 || n > MACHINE_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", s[i]) ||
                    s[i] == 0)
                        return false;
        return true;
}

static void check_key_arn_round_trip(const char *machine_id, const char *key_id) {
        char arn[ARN_MAX];
        KeyRef r;

        fuzz_check(key_arn_format(arn, sizeof arn, machine_id, key_id) == 0, "%s %s", machine_id, key_id);
        fuzz_check(key_ref_parse(arn, machine_id, &r) == 0, "%s", arn);
        fuzz_check(r.type == KEY_REF_KEY_ARN && !r.foreign && strcmp(r.key_id, key_id) == 0, "%s", arn);
        fuzz_check(key_ref_parse(arn, NULL, &r) == 0 && r.foreign, "%s", arn);
}

static void check_alias_arn_round_trip(const char *machine_id, const char *alias) {
        char arn[ARN_MAX];
        KeyRef r;

        fuzz_check(alias_arn_format(arn, sizeof arn, machine_id, alias) == 0, "%s %s", machine_id, alias);
        fuzz_check(key_ref_parse(arn, machine_id, &r) == 0, "%s", arn);
        fuzz_check(r.type == KEY_REF_ALIAS_ARN && !r.foreign && strcmp(r.alias, alias) == 0, "%s", arn);
}

/* The machine ID field of an ARN-shaped string, or NULL. */
static const char *arn_machine_id(const char *s, size_t *ret_n) {
        static const char prefix[] = "arn:hmacd:kms:local:";
        const char *colon;

        if (strncmp(s, prefix, sizeof prefix - 1) != 0)
                return NULL;
        s += sizeof prefix - 1;
        colon = strchr(s, ':');
        if (!colon)
                return NULL;
        *ret_n = (size_t) (colon - s);
        return s;
}

static void check_identifier(const char *s) {
        KeyRef a, b;
        int ra, rb, alias;

        memset(&a, 0xaa, sizeof a);
        memset(&b, 0x55, sizeof b);
        ra = key_ref_parse(s, MACHINE_ID, &a);
        rb = key_ref_parse(s, NULL, &b);
        fuzz_check(ra == 0 || ra == -EINVAL, "%d", ra);
        fuzz_check(ra == rb, "with machine ID %d, without %d", ra, rb);

        /* The two validators agree with the rules and with the parser. */
        fuzz_check(key_id_is_valid(s) == ref_key_id_valid(s), "'%s'", s);
        if (key_id_is_valid(s))
                fuzz_check(ra == 0 && a.type == KEY_REF_KEY_ID && strcmp(a.key_id, s) == 0, "'%s'", s);

        alias = ref_alias_name(s);
        switch (alias_name_check(s)) {
        case ALIAS_NAME_OK:
                fuzz_check(alias == 1, "'%s' accepted", s);
                fuzz_check(ra == 0 && a.type == KEY_REF_ALIAS_NAME && strcmp(a.alias, s) == 0, "'%s'", s);
                break;
        case ALIAS_NAME_RESERVED:
                fuzz_check(alias == 2, "'%s' called reserved", s);
                break;
        case ALIAS_NAME_EMPTY:
        case ALIAS_NAME_NO_PREFIX:
        case ALIAS_NAME_TOO_LONG:
        case ALIAS_NAME_BAD_CHARACTER:
                fuzz_check(alias == 0, "'%s' refused", s);
                break;
        default:
                fuzz_check(false, "alias_name_check('%s') returned no AliasNameProblem", s);
        }

        if (strlen(s) > KMS_KEY_ID_INPUT_MAX)
                fuzz_check(ra == -EINVAL, "%zu bytes accepted", strlen(s));
        if (ra != 0)
                return;

        fuzz_check(a.type == b.type, "%d %d", a.type, b.type);
        switch (a.type) {
        case KEY_REF_KEY_ID:
        case KEY_REF_KEY_ARN: {
                size_t n = 0;
                const char *mid = arn_machine_id(s, &n);

                fuzz_check(key_id_is_valid(a.key_id), "'%s' gave key ID '%.40s'", s, a.key_id);
                fuzz_check(strcmp(a.key_id, b.key_id) == 0, "'%s'", s);
                if (a.type == KEY_REF_KEY_ID) {
                        fuzz_check(strcmp(a.key_id, s) == 0 && !a.foreign && !b.foreign, "'%s'", s);
                        break;
                }
                /* An ARN: foreign exactly when its machine ID is not ours; without one, always. */
                fuzz_check(mid && ref_machine_id_valid(mid, n), "'%s'", s);
                fuzz_check(a.foreign == !(n == strlen(MACHINE_ID) && strncmp(mid, MACHINE_ID, n) == 0),
                           "'%s'", s);
                fuzz_check(b.foreign, "'%s' is not foreign without a machine ID", s);
                fuzz_check(strlen(s) == (size_t) (mid - s) + n + strlen(":key/") + KEY_ID_LEN, "'%s'", s);
                if (!a.foreign) {
                        char arn[ARN_MAX];
                        fuzz_check(key_arn_format(arn, sizeof arn, MACHINE_ID, a.key_id) == 0 &&
                                           strcmp(arn, s) == 0,
                                   "'%s' formats back as '%s'", s, arn);
                }
                check_key_arn_round_trip(MACHINE_ID, a.key_id);
                break;
        }

        case KEY_REF_ALIAS_NAME:
        case KEY_REF_ALIAS_ARN: {
                AliasNameProblem p = alias_name_check(a.alias);
                size_t n = 0;
                const char *mid = arn_machine_id(s, &n);

                fuzz_check(p == ALIAS_NAME_OK || p == ALIAS_NAME_RESERVED, "'%s' gave alias '%s'", s,
                           a.alias);
                fuzz_check(strcmp(a.alias, b.alias) == 0, "'%s'", s);
                if (a.type == KEY_REF_ALIAS_NAME) {
                        fuzz_check(strcmp(a.alias, s) == 0 && !a.foreign && !b.foreign, "'%s'", s);
                        break;
                }
                fuzz_check(mid && ref_machine_id_valid(mid, n), "'%s'", s);
                fuzz_check(a.foreign == !(n == strlen(MACHINE_ID) && strncmp(mid, MACHINE_ID, n) == 0),
                           "'%s'", s);
                fuzz_check(b.foreign, "'%s'", s);
                fuzz_check(strcmp(mid + n + 1, a.alias) == 0, "'%s' gave alias '%s'", s, a.alias);
                check_alias_arn_round_trip(MACHINE_ID, a.alias);
                break;
        }

        default:
                fuzz_check(false, "'%s' parsed into type %d", s, a.type);
        }
}

/* The input as the content of /etc/machine-id. */
static void check_machine_id(const uint8_t *data, size_t size) {
        char path[64], id[MACHINE_ID_MAX + 1], arn[ARN_MAX];
        size_t n = size < MACHINE_ID_MAX + 1 ? size : MACHINE_ID_MAX + 1;
        bool expect;
        KeyRef ref;
        int r;

        if (ftruncate(machine_id_fd, 0) < 0 || pwrite(machine_id_fd, data, size, 0) != (ssize_t) size)
                abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", machine_id_fd);

        /* At most the first 65 bytes count, without trailing newlines and spaces. */
        while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == ' '))
                n--;
        expect = ref_machine_id_valid((const char *) data, n);

        memset(id, 'x', sizeof id);
        r = machine_id_read(path, id);
        fuzz_check(r == (expect ? 1 : 0), "machine_id_read returned %d", r);
        fuzz_check(memchr(id, 0, sizeof id), "no terminator");
        if (r == 1)
                fuzz_check(strlen(id) == n && memcmp(id, data, n) == 0, "read '%s'", id);
        else
                fuzz_check(strcmp(id, "000000000000") == 0, "read '%s'", id);

        /* ARNs made with it are ours. */
        fuzz_check(key_arn_format(arn, sizeof arn, id, "1234abcd-12ab-44cd-96ef-1234567890ab") == 0, "%s",
                   id);
        fuzz_check(key_ref_parse(arn, id, &ref) == 0 && !ref.foreign, "%s", arn);
        check_alias_arn_round_trip(id, "alias/a");
        check_alias_arn_round_trip(id, longest_alias);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_strndup(data, size);

        check_identifier(s);
        if (size <= 256)
                check_machine_id(data, size);
        free(s);
        return 0;
}
