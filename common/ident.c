/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing and formatting of key IDs, ARNs and alias names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ident.h"
#include "macro.h"

static bool is_lower_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool key_id_is_valid(const char *s) {
        if (!s || strlen(s) != KEY_ID_LEN)
                return false;
        for (size_t i = 0; i < KEY_ID_LEN; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !is_lower_hex(s[i]))
                        return false;
        }
        return true;
}

int key_id_generate(char ret[static KEY_ID_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        unsigned char b[16];

        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return negative_errno();
        b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
        b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */

        for (size_t i = 0, j = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        ret[j++] = '-';
                ret[j++] = hex[b[i] >> 4];
                ret[j++] = hex[b[i] & 15];
        }
        ret[KEY_ID_LEN] = 0;
        return 0;
}

AliasNameProblem alias_name_check(const char *s) {
        size_t n;

        if (!s || !*s)
                return ALIAS_NAME_EMPTY;
        n = strlen(s);
        if (n > KMS_ALIAS_NAME_MAX)
                return ALIAS_NAME_TOO_LONG;
        if (strncmp(s, "alias/", 6) != 0)
                return ALIAS_NAME_NO_PREFIX;
        if (n == 6)
                return ALIAS_NAME_EMPTY;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '/' || *p == '_' || *p == '-'))
                        return ALIAS_NAME_BAD_CHARACTER;
        if (strncmp(s, "alias/aws/", 10) == 0 || strncmp(s, "alias/hmacd/", 12) == 0)
                return ALIAS_NAME_RESERVED;
        return ALIAS_NAME_OK;
}

static bool machine_id_is_valid(const char *s, size_t n) {
        if (n == 0 || n > MACHINE_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
                        return false;
        return true;
}

int machine_id_read(const char *path, char ret[static MACHINE_ID_MAX + 1]) {
        char buf[MACHINE_ID_MAX + 2] = {};
        FILE *f;
        size_t n;

        f = fopen(path ?: "/etc/machine-id", "re");
        if (f) {
                n = fread(buf, 1, sizeof buf - 1, f);
                fclose(f);
                while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                        n--;
                if (machine_id_is_valid(buf, n)) {
                        memcpy(ret, buf, n);
                        ret[n] = 0;
                        return 1;
                }
        }
        strcpy(ret, "000000000000");
        return 0;
}

int key_arn_format(char *buf, size_t size, const char *machine_id, const char *key_id) {
        int n = snprintf(buf, size, "arn:hmacd:kms:local:%s:key/%s", machine_id, key_id);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int alias_arn_format(char *buf, size_t size, const char *machine_id, const char *alias_name) {
        int n = snprintf(buf, size, "arn:hmacd:kms:local:%s:%s", machine_id, alias_name);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int key_ref_parse(const char *s, const char *machine_id, KeyRef *ret) {
        static const char prefix[] = "arn:hmacd:kms:local:";
        KeyRef r = { .type = _KEY_REF_INVALID };
        const char *rest, *colon;

        if (!s || !*s || strlen(s) > KMS_KEY_ID_INPUT_MAX)
                return -EINVAL;

        if (strncmp(s, "alias/", 6) == 0) {
                if (alias_name_check(s) != ALIAS_NAME_OK && alias_name_check(s) != ALIAS_NAME_RESERVED)
                        return -EINVAL;
                r.type = KEY_REF_ALIAS_NAME;
                strcpy(r.alias, s);
                *ret = r;
                return 0;
        }

        if (strncmp(s, prefix, sizeof prefix - 1) != 0) {
                if (!key_id_is_valid(s))
                        return -EINVAL;
                r.type = KEY_REF_KEY_ID;
                strcpy(r.key_id, s);
                *ret = r;
                return 0;
        }

        rest = s + sizeof prefix - 1;
        colon = strchr(rest, ':');
        if (!colon || !machine_id_is_valid(rest, colon - rest))
                return -EINVAL;
        r.foreign = !machine_id || strlen(machine_id) != (size_t) (colon - rest) ||
                    strncmp(machine_id, rest, colon - rest) != 0;
        rest = colon + 1;

        if (strncmp(rest, "key/", 4) == 0) {
                if (!key_id_is_valid(rest + 4))
                        return -EINVAL;
                r.type = KEY_REF_KEY_ARN;
                strcpy(r.key_id, rest + 4);
        } else if (strncmp(rest, "alias/", 6) == 0) {
                AliasNameProblem p = alias_name_check(rest);
                if (p != ALIAS_NAME_OK && p != ALIAS_NAME_RESERVED)
                        return -EINVAL;
                r.type = KEY_REF_ALIAS_ARN;
                strcpy(r.alias, rest);
        } else
                return -EINVAL;

        *ret = r;
        return 0;
}
