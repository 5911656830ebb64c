/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of common/ident.c: key IDs, alias names, the four key reference forms, ARNs, machine IDs. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ident.h"
#include "macro.h"

#define GOOD_ID "1234abcd-12ab-44cd-96ef-1234567890ab"
#define OTHER_ID "0f0e0d0c-0b0a-4908-8706-050403020100"
#define MACHINE "4f1c0a7d9e2b4c3a8d5e6f708192a3b4"
#define ARN_PREFIX "arn:hmacd:kms:local:"

/* ---- key IDs ---- */

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static int cmp_strings(const void *a, const void *b) {
        return strcmp((const char *) a, (const char *) b);
}

Test(key_id, generate_gives_distinct_v4_uuids) {
        enum { N = 2000 };
        static char ids[N][KEY_ID_LEN + 1];
        unsigned ones[4] = {};

        for (size_t i = 0; i < N; i++) {
                memset(ids[i], 'x', sizeof ids[i]);
                cr_assert_eq(key_id_generate(ids[i]), 0);
                cr_assert_eq(strlen(ids[i]), (size_t) KEY_ID_LEN);
                cr_assert(key_id_is_valid(ids[i]), "'%s'", ids[i]);
                for (size_t j = 0; j < KEY_ID_LEN; j++) {
                        if (j == 8 || j == 13 || j == 18 || j == 23)
                                cr_assert_eq(ids[i][j], '-', "'%s'", ids[i]);
                        else
                                cr_assert_geq(hex_value(ids[i][j]), 0, "'%s'", ids[i]);
                }
                /* xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx with V one of 8, 9, a, b (RFC 4122 4.4). */
                cr_assert_eq(ids[i][14], '4', "version nibble of '%s'", ids[i]);
                cr_assert((hex_value(ids[i][19]) & 0xc) == 0x8, "variant nibble of '%s'", ids[i]);

                /* Count set bits of the first random nibble, to see that it is not constant. */
                for (int b = 0; b < 4; b++)
                        ones[b] += (hex_value(ids[i][0]) >> b) & 1;
        }

        qsort(ids, N, sizeof ids[0], cmp_strings);
        for (size_t i = 1; i < N; i++)
                cr_assert_str_neq(ids[i - 1], ids[i]);
        /* 2000 random bits each: far from all-zero or all-one (probability of failure < 2^-1000). */
        for (int b = 0; b < 4; b++) {
                cr_assert_gt(ones[b], N / 4);
                cr_assert_lt(ones[b], 3 * N / 4);
        }
}

Test(key_id, is_valid) {
        static const char *const good[] = {
                GOOD_ID,
                OTHER_ID,
                "00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
        };
        static const char *const bad[] = {
                "",
                "1234ABCD-12ab-44cd-96ef-1234567890ab",  /* upper case */
                "1234abcd-12AB-44cd-96ef-1234567890ab",
                "1234abcd-12ab-44cd-96ef-1234567890aB",
                "1234abcd12ab-44cd-96ef-1234567890ab-",  /* dashes in the wrong places */
                "1234abc-d12ab-44cd-96ef-1234567890ab",
                "1234abcd-12ab44cd--96ef-1234567890ab",
                "1234abcd_12ab_44cd_96ef_1234567890ab",
                "1234abcd-12ab-44cd-96ef1234567890ab",   /* 35 characters */
                "1234abcd-12ab-44cd-96ef-1234567890a",
                "1234abcd-12ab-44cd-96ef-1234567890abc", /* 37 characters */
                "1234abcd-12ab-44cd-96ef-1234567890ab ",
                " 1234abcd-12ab-44cd-96ef-1234567890ab",
                "1234abcg-12ab-44cd-96ef-1234567890ab",  /* not hex */
                "{1234abcd-12ab-44cd-96ef-1234567890ab}",
                "1234abcd123444cd96ef1234567890ab",      /* no dashes */
                "------------------------------------",
                "alias/1234abcd-12ab-44cd-96ef-1234567",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                cr_assert(key_id_is_valid(good[i]), "'%s'", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert_not(key_id_is_valid(bad[i]), "'%s'", bad[i]);
        cr_assert_not(key_id_is_valid(NULL));
        /* A NUL inside a 36-byte buffer ends the string. */
        cr_assert_not(key_id_is_valid("1234abcd-12ab-44cd\0-96ef-1234567890ab"));
}

/* ---- alias names ---- */

static char *alias_of_length(size_t total, char fill) {
        char *s = malloc(total + 1);

        cr_assert_not_null(s);
        cr_assert_geq(total, 6);
        memcpy(s, "alias/", 6);
        memset(s + 6, fill, total - 6);
        s[total] = 0;
        return s;
}

Test(alias_name, ok) {
        static const char *const good[] = {
                "alias/a",          "alias/my-key",  "alias/My_Key-2",     "alias/a/b/c",
                "alias/aws",        "alias/awsx/y",  "alias/hmacd",        "alias/hmacdx",
                "alias/AWS/x",      "alias/x/aws/y", "alias/0123456789",   "alias//",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                cr_assert_eq(alias_name_check(good[i]), ALIAS_NAME_OK, "'%s'", good[i]);
}

Test(alias_name, empty) {
        cr_assert_eq(alias_name_check(NULL), ALIAS_NAME_EMPTY);
        cr_assert_eq(alias_name_check(""), ALIAS_NAME_EMPTY);
        cr_assert_eq(alias_name_check("alias/"), ALIAS_NAME_EMPTY);
}

Test(alias_name, no_prefix) {
        static const char *const bad[] = { "a", "my-key", "Alias/x", "ALIAS/x", "alias", "alias-x", "aliases/x",
                                           "/alias/x", " alias/x", "key/x" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert_eq(alias_name_check(bad[i]), ALIAS_NAME_NO_PREFIX, "'%s'", bad[i]);
}

Test(alias_name, length_limit) {
        _cleanup_free_ char *a255 = alias_of_length(255, 'x'), *a256 = alias_of_length(256, 'y'),
                            *a257 = alias_of_length(257, 'z'), *a1000 = alias_of_length(1000, 'q');

        cr_assert_eq(strlen(a256), (size_t) KMS_ALIAS_NAME_MAX);
        cr_assert_eq(alias_name_check(a255), ALIAS_NAME_OK);
        cr_assert_eq(alias_name_check(a256), ALIAS_NAME_OK);
        cr_assert_eq(alias_name_check(a257), ALIAS_NAME_TOO_LONG);
        cr_assert_eq(alias_name_check(a1000), ALIAS_NAME_TOO_LONG);
}

Test(alias_name, bad_characters) {
        static const char *const bad[] = {
                "alias/a:b", "alias/a b", "alias/a.b", "alias/a*", "alias/a\tb", "alias/\xc3\xa9", "alias/a+b",
                "alias/a=b", "alias/a@b", "alias/a\\b", "alias/a\nb", "alias/:",  "alias/aws:x",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert_eq(alias_name_check(bad[i]), ALIAS_NAME_BAD_CHARACTER, "'%s'", bad[i]);
}

Test(alias_name, reserved) {
        static const char *const reserved[] = { "alias/aws/", "alias/aws/x", "alias/aws/ebs", "alias/hmacd/",
                                                "alias/hmacd/x", "alias/hmacd/a/b" };

        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                cr_assert_eq(alias_name_check(reserved[i]), ALIAS_NAME_RESERVED, "'%s'", reserved[i]);
}

/* ---- key references ---- */

Test(key_ref, key_id) {
        KeyRef r;

        cr_assert_eq(key_ref_parse(GOOD_ID, MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_KEY_ID);
        cr_assert_not(r.foreign);
        cr_assert_str_eq(r.key_id, GOOD_ID);
        cr_assert_str_empty(r.alias);
}

Test(key_ref, key_arn) {
        KeyRef r;

        cr_assert_eq(key_ref_parse(ARN_PREFIX MACHINE ":key/" GOOD_ID, MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_KEY_ARN);
        cr_assert_not(r.foreign);
        cr_assert_str_eq(r.key_id, GOOD_ID);
        cr_assert_str_empty(r.alias);

        /* The machine ID of a host without one. */
        cr_assert_eq(key_ref_parse(ARN_PREFIX "000000000000:key/" OTHER_ID, "000000000000", &r), 0);
        cr_assert_eq(r.type, KEY_REF_KEY_ARN);
        cr_assert_not(r.foreign);
        cr_assert_str_eq(r.key_id, OTHER_ID);
}

Test(key_ref, alias_name) {
        KeyRef r;

        cr_assert_eq(key_ref_parse("alias/my-key", MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_ALIAS_NAME);
        cr_assert_not(r.foreign);
        cr_assert_str_eq(r.alias, "alias/my-key");
        cr_assert_str_empty(r.key_id);

        /* Reserved names are well-formed references (they are simply never found). */
        cr_assert_eq(key_ref_parse("alias/aws/ebs", MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_ALIAS_NAME);
        cr_assert_str_eq(r.alias, "alias/aws/ebs");
}

Test(key_ref, alias_arn) {
        _cleanup_free_ char *a256 = alias_of_length(256, 'k');
        char arn[ARN_MAX];
        KeyRef r;

        cr_assert_eq(key_ref_parse(ARN_PREFIX MACHINE ":alias/my-key", MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_ALIAS_ARN);
        cr_assert_not(r.foreign);
        cr_assert_str_eq(r.alias, "alias/my-key");
        cr_assert_str_empty(r.key_id);

        /* The longest alias fits. */
        cr_assert_eq(alias_arn_format(arn, sizeof arn, MACHINE, a256), 0);
        cr_assert_eq(key_ref_parse(arn, MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_ALIAS_ARN);
        cr_assert_str_eq(r.alias, a256);
}

Test(key_ref, foreign_machine) {
        KeyRef r;

        cr_assert_eq(key_ref_parse(ARN_PREFIX "0123456789abcdef:key/" GOOD_ID, MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_KEY_ARN);
        cr_assert(r.foreign);
        cr_assert_str_eq(r.key_id, GOOD_ID);

        cr_assert_eq(key_ref_parse(ARN_PREFIX "0123456789abcdef:alias/x", MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_ALIAS_ARN);
        cr_assert(r.foreign);
        cr_assert_str_eq(r.alias, "alias/x");

        /* A machine ID that is a prefix of ours, or ours a prefix of it, is another machine. */
        cr_assert_eq(key_ref_parse(ARN_PREFIX "4f1c0a7d:key/" GOOD_ID, MACHINE, &r), 0);
        cr_assert(r.foreign);
        cr_assert_eq(key_ref_parse(ARN_PREFIX MACHINE "00:key/" GOOD_ID, MACHINE, &r), 0);
        cr_assert(r.foreign);
        /* Machine IDs compare exactly, case included. */
        cr_assert_eq(key_ref_parse(ARN_PREFIX "4F1C0A7D9E2B4C3A8D5E6F708192A3B4:key/" GOOD_ID, MACHINE, &r), 0);
        cr_assert(r.foreign);
        /* Without a machine ID of our own, every ARN is foreign. */
        cr_assert_eq(key_ref_parse(ARN_PREFIX MACHINE ":key/" GOOD_ID, NULL, &r), 0);
        cr_assert(r.foreign);

        /* Plain key IDs and alias names are never foreign. */
        cr_assert_eq(key_ref_parse(GOOD_ID, NULL, &r), 0);
        cr_assert_not(r.foreign);
        cr_assert_eq(key_ref_parse("alias/x", NULL, &r), 0);
        cr_assert_not(r.foreign);
}

Test(key_ref, malformed) {
        _cleanup_free_ char *a257 = alias_of_length(257, 'k'), *huge = NULL;
        char long_machine[MACHINE_ID_MAX + 2], arn[512];
        static const char *const bad[] = {
                "",
                "alias/",
                "alias/a:b",
                "alias/a b",
                "1234ABCD-12ab-44cd-96ef-1234567890ab",
                "1234abcd-12ab-44cd-96ef-1234567890a",
                "key/" GOOD_ID,
                "my-key",
                ARN_PREFIX,
                ARN_PREFIX MACHINE,
                ARN_PREFIX MACHINE ":",
                ARN_PREFIX ":key/" GOOD_ID,                     /* empty machine ID */
                ARN_PREFIX "ma-chine:key/" GOOD_ID,             /* bad character in the machine ID */
                ARN_PREFIX "ma.chine:key/" GOOD_ID,
                ARN_PREFIX MACHINE ":key/",
                ARN_PREFIX MACHINE ":key/not-a-key-id",
                ARN_PREFIX MACHINE ":key/" GOOD_ID ":extra",
                ARN_PREFIX MACHINE ":key/" GOOD_ID "/",
                ARN_PREFIX MACHINE ":key/1234ABCD-12ab-44cd-96ef-1234567890ab",
                ARN_PREFIX MACHINE ":alias/",
                ARN_PREFIX MACHINE ":alias/a:b",
                ARN_PREFIX MACHINE ":Alias/x",
                ARN_PREFIX MACHINE ":foo/" GOOD_ID,
                ARN_PREFIX MACHINE ":" GOOD_ID,
                ARN_PREFIX MACHINE "::key/" GOOD_ID,
                "arn:aws:kms:us-east-1:111122223333:key/" GOOD_ID,
                "arn:hmacd:kms:remote:" MACHINE ":key/" GOOD_ID,
                "ARN:HMACD:KMS:LOCAL:" MACHINE ":key/" GOOD_ID,
                " " GOOD_ID,
        };
        KeyRef r;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert_eq(key_ref_parse(bad[i], MACHINE, &r), -EINVAL, "'%s'", bad[i]);
        cr_assert_eq(key_ref_parse(NULL, MACHINE, &r), -EINVAL);
        cr_assert_eq(key_ref_parse(a257, MACHINE, &r), -EINVAL);

        /* A machine ID over MACHINE_ID_MAX characters. */
        memset(long_machine, 'a', sizeof long_machine - 1);
        long_machine[sizeof long_machine - 1] = 0;
        snprintf(arn, sizeof arn, ARN_PREFIX "%s:key/" GOOD_ID, long_machine);
        cr_assert_eq(key_ref_parse(arn, MACHINE, &r), -EINVAL, "'%s'", arn);
        /* ... and one of exactly MACHINE_ID_MAX is fine. */
        long_machine[MACHINE_ID_MAX] = 0;
        snprintf(arn, sizeof arn, ARN_PREFIX "%s:key/" GOOD_ID, long_machine);
        cr_assert_eq(key_ref_parse(arn, MACHINE, &r), 0, "'%s'", arn);
        cr_assert(r.foreign);

        /* An alias ARN whose alias is too long. */
        snprintf(arn, sizeof arn, ARN_PREFIX MACHINE ":%s", a257);
        cr_assert_eq(key_ref_parse(arn, MACHINE, &r), -EINVAL);

        /* Input over KMS_KEY_ID_INPUT_MAX is refused before it is looked at. */
        huge = malloc(KMS_KEY_ID_INPUT_MAX + 2);
        cr_assert_not_null(huge);
        memset(huge, 'a', KMS_KEY_ID_INPUT_MAX + 1);
        memcpy(huge, "alias/", 6);
        huge[KMS_KEY_ID_INPUT_MAX + 1] = 0;
        cr_assert_eq(key_ref_parse(huge, MACHINE, &r), -EINVAL);
}

/* ---- ARNs ---- */

Test(arn, key_arn_format) {
        char buf[ARN_MAX];
        const char *expected = ARN_PREFIX MACHINE ":key/" GOOD_ID;
        KeyRef r;

        cr_assert_eq(key_arn_format(buf, sizeof buf, MACHINE, GOOD_ID), 0);
        cr_assert_str_eq(buf, expected);

        /* And back. */
        cr_assert_eq(key_ref_parse(buf, MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_KEY_ARN);
        cr_assert_not(r.foreign);
        cr_assert_str_eq(r.key_id, GOOD_ID);

        /* Exactly big enough, and one byte short. */
        cr_assert_eq(key_arn_format(buf, strlen(expected) + 1, MACHINE, GOOD_ID), 0);
        cr_assert_str_eq(buf, expected);
        cr_assert_eq(key_arn_format(buf, strlen(expected), MACHINE, GOOD_ID), -ENOBUFS);
        cr_assert_eq(key_arn_format(buf, 10, MACHINE, GOOD_ID), -ENOBUFS);
}

Test(arn, alias_arn_format) {
        char buf[ARN_MAX], machine[MACHINE_ID_MAX + 1];
        _cleanup_free_ char *a256 = alias_of_length(KMS_ALIAS_NAME_MAX, 'w');
        const char *expected = ARN_PREFIX MACHINE ":alias/my-key";
        KeyRef r;

        cr_assert_eq(alias_arn_format(buf, sizeof buf, MACHINE, "alias/my-key"), 0);
        cr_assert_str_eq(buf, expected);
        cr_assert_eq(key_ref_parse(buf, MACHINE, &r), 0);
        cr_assert_eq(r.type, KEY_REF_ALIAS_ARN);
        cr_assert_str_eq(r.alias, "alias/my-key");

        cr_assert_eq(alias_arn_format(buf, strlen(expected) + 1, MACHINE, "alias/my-key"), 0);
        cr_assert_eq(alias_arn_format(buf, strlen(expected), MACHINE, "alias/my-key"), -ENOBUFS);

        /* ARN_MAX holds the longest machine ID with the longest alias. */
        memset(machine, 'm', MACHINE_ID_MAX);
        machine[MACHINE_ID_MAX] = 0;
        cr_assert_eq(alias_arn_format(buf, sizeof buf, machine, a256), 0);
        cr_assert_eq(strlen(buf), strlen(ARN_PREFIX) + MACHINE_ID_MAX + 1 + KMS_ALIAS_NAME_MAX);
        cr_assert_eq(key_ref_parse(buf, machine, &r), 0);
        cr_assert_eq(r.type, KEY_REF_ALIAS_ARN);
        cr_assert_not(r.foreign);
        cr_assert_str_eq(r.alias, a256);
}

/* ---- machine ID ---- */

static char tmpdir[PATH_MAX];

static void tmpdir_setup(void) {
        /* Under $TMPDIR (tests/run-tests points it into its own scratch directory). */
        snprintf(tmpdir, sizeof tmpdir, "%s/test-ident-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp(%s): %m", tmpdir);
}

static void tmpdir_teardown(void) {
        static const char *const names[] = { "machine-id", "missing" };
        char p[sizeof tmpdir + 32];

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
                (void) unlink(p);
        }
        (void) rmdir(tmpdir);
}

static const char *write_machine_id(const char *content, size_t n) {
        static char p[sizeof tmpdir + 32];
        int fd;

        snprintf(p, sizeof p, "%s/machine-id", tmpdir);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, content, n), (ssize_t) n);
        close(fd);
        return p;
}

TestSuite(machine_id, .init = tmpdir_setup, .fini = tmpdir_teardown);

Test(machine_id, from_file) {
        char id[MACHINE_ID_MAX + 1];
        const char *p;

        p = write_machine_id(MACHINE "\n", strlen(MACHINE) + 1);
        memset(id, 'x', sizeof id);
        cr_assert_eq(machine_id_read(p, id), 1);
        cr_assert_str_eq(id, MACHINE);

        /* Without the newline, too. */
        p = write_machine_id("abc123", 6);
        cr_assert_eq(machine_id_read(p, id), 1);
        cr_assert_str_eq(id, "abc123");
}

Test(machine_id, longest) {
        char content[MACHINE_ID_MAX + 1], id[MACHINE_ID_MAX + 1];
        const char *p;

        memset(content, '7', MACHINE_ID_MAX);
        content[MACHINE_ID_MAX] = '\n';
        p = write_machine_id(content, sizeof content);
        cr_assert_eq(machine_id_read(p, id), 1);
        cr_assert_eq(strlen(id), (size_t) MACHINE_ID_MAX);
        cr_assert_eq(memcmp(id, content, MACHINE_ID_MAX), 0);
}

Test(machine_id, missing_file) {
        char id[MACHINE_ID_MAX + 1], p[sizeof tmpdir + 32];

        snprintf(p, sizeof p, "%s/missing", tmpdir);
        memset(id, 'x', sizeof id);
        cr_assert_eq(machine_id_read(p, id), 0);
        cr_assert_str_eq(id, "000000000000");
        cr_assert_neq(access(p, F_OK), 0, "machine_id_read() must not create %s", p);
}

Test(machine_id, invalid_contents) {
        char id[MACHINE_ID_MAX + 1], too_long[MACHINE_ID_MAX + 2];
        static const char *const bad[] = { "", "\n", "not a machine id\n", "abc:def\n", "../etc\n", "abc\0def" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *p = write_machine_id(bad[i], i == ELEMENTSOF(bad) - 1 ? 7 : strlen(bad[i]));
                memset(id, 'x', sizeof id);
                cr_assert_eq(machine_id_read(p, id), 0, "#%zu", i);
                cr_assert_str_eq(id, "000000000000", "#%zu", i);
        }

        memset(too_long, 'a', sizeof too_long - 1);
        too_long[sizeof too_long - 1] = '\n';
        cr_assert_eq(machine_id_read(write_machine_id(too_long, sizeof too_long), id), 0);
        cr_assert_str_eq(id, "000000000000");
}
