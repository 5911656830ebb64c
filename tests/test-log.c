/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/log.c (the journal fields of an audit record, its kind and priority, the
 * sanitizing of what callers send, the log level), daemon/caller-info.c (a caller's unit from its
 * cgroup), daemon/counters.c (the Counters property and STATUS=), and the message catalog against
 * the IDs in daemon/log.h. No journal, no bus, no daemon: the fields are built by pure functions. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../daemon/caller-info.h"
#include "../daemon/counters.h"
#include "../daemon/log.h"
#include "macro.h"

/* The value of field name in f, or NULL; fails if it is there twice. */
static const char *field(const AuditFields *f, const char *name) {
        static char value[8192];
        size_t len = strlen(name);
        const char *found = NULL;

        for (size_t i = 0; i < f->n; i++) {
                const char *p = f->iov[i].iov_base;
                if (f->iov[i].iov_len > len && strncmp(p, name, len) == 0 && p[len] == '=') {
                        cr_assert_null(found, "field %s appears twice", name);
                        snprintf(value, sizeof value, "%.*s", (int) (f->iov[i].iov_len - len - 1), p + len + 1);
                        found = value;
                }
        }
        return found;
}

static void assert_field(const AuditFields *f, const char *name, const char *want) {
        const char *v = field(f, name);
        cr_assert_not_null(v, "no field %s", name);
        cr_assert_str_eq(v, want, "%s=%s, not %s", name, v, want);
}

static AuditRecord record(const char *operation, const char *key_id, const char *key_ref, const char *result) {
        return (AuditRecord) {
                .operation = operation,
                .key_id = key_id,
                .key_ref = key_ref,
                .action = "io.hmacd.generate-mac",
                .result = result,
                .uid = 1000,
                .pid = 4242,
                .comm = "curl",
                .unit = "user@1000.service",
                .user_unit = "app-foo.scope",
        };
}

#define KEY "1234abcd-12ab-44cd-96ef-1234567890ab"

Test(audit, ok_record_fields) {
        AuditRecord a = record("GenerateMac", KEY, KEY, "ok");
        AuditFields f;

        cr_assert_eq(audit_record_fields(&a, &f), 0);
        assert_field(&f, "MESSAGE_ID", HMACD_MESSAGE_OPERATION_OK);
        assert_field(&f, "PRIORITY", "6");
        assert_field(&f, "SYSLOG_IDENTIFIER", "hmacd");
        assert_field(&f, "HMACD_AUDIT", "1");
        assert_field(&f, "HMACD_OPERATION", "GenerateMac");
        assert_field(&f, "HMACD_RESULT", "ok");
        assert_field(&f, "HMACD_KEY_ID", KEY);
        assert_field(&f, "HMACD_ACTION", "io.hmacd.generate-mac");
        assert_field(&f, "HMACD_CALLER_UID", "1000");
        assert_field(&f, "HMACD_CALLER_PID", "4242");
        assert_field(&f, "HMACD_CALLER_COMM", "curl");
        assert_field(&f, "HMACD_CALLER_UNIT", "user@1000.service");
        assert_field(&f, "HMACD_CALLER_USER_UNIT", "app-foo.scope");
        assert_field(&f, "MESSAGE", "GenerateMac key=" KEY " uid=1000 pid=4242 comm=curl result=ok");
        /* The key was named by its ID: no separate reference. No CODE_* fields in audit records. */
        cr_assert_null(field(&f, "HMACD_KEY_REF"));
        cr_assert_null(field(&f, "CODE_FILE"));
        cr_assert_null(field(&f, "CODE_LINE"));
        cr_assert_null(field(&f, "CODE_FUNC"));
        cr_assert_eq(f.priority, LOG_INFO);
}

Test(audit, alias_reference_is_kept) {
        AuditRecord a = record("VerifyMac", KEY, "alias/payments", "ok");
        AuditFields f;

        cr_assert_eq(audit_record_fields(&a, &f), 0);
        assert_field(&f, "HMACD_KEY_ID", KEY);
        assert_field(&f, "HMACD_KEY_REF", "alias/payments");
}

/* A failed lookup: no empty HMACD_KEY_ID=, but what was asked for, made safe and bounded. */
Test(audit, failed_lookup_names_the_reference) {
        AuditRecord a = record("GenerateMac", NULL, "alias/nope\n\x01\\x", "NotFoundException");
        AuditFields f;

        cr_assert_eq(audit_record_fields(&a, &f), 0);
        cr_assert_null(field(&f, "HMACD_KEY_ID"), "an unresolved key has no HMACD_KEY_ID");
        assert_field(&f, "HMACD_KEY_REF", "alias/nope\\x0a\\x01\\\\x");
        assert_field(&f, "MESSAGE_ID", HMACD_MESSAGE_OPERATION_FAILED);
        assert_field(&f, "PRIORITY", "4");
        assert_field(&f, "HMACD_RESULT", "NotFoundException");
        cr_assert_null(strchr(field(&f, "MESSAGE"), '\n'));
}

Test(audit, long_reference_is_cut) {
        char ref[5000];
        AuditRecord a;
        AuditFields f;
        const char *v;

        memset(ref, 'a', sizeof ref - 1);
        ref[sizeof ref - 1] = '\0';
        a = record("DescribeKey", NULL, ref, "NotFoundException");
        cr_assert_eq(audit_record_fields(&a, &f), 0);
        v = field(&f, "HMACD_KEY_REF");
        cr_assert_not_null(v);
        cr_assert_eq(strlen(v), AUDIT_REF_MAX + 3);
        cr_assert_str_eq(v + AUDIT_REF_MAX, "...");
}

Test(audit, worst_case_fits) {
        char ref[AUDIT_REF_MAX + 10], unit[CALLER_UNIT_MAX];
        AuditRecord a;
        AuditFields f;
        char line[4096];

        memset(ref, 0x7f, sizeof ref - 1);
        ref[sizeof ref - 1] = '\0';
        memset(unit, 0x01, sizeof unit - 1);
        unit[sizeof unit - 1] = '\0';
        a = record("UpdateAlias", NULL, ref, "KMSInternalException");
        a.comm = "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f";
        a.unit = a.user_unit = unit;
        cr_assert_eq(audit_record_fields(&a, &f), 0);
        cr_assert_eq(audit_record_line(&a, line, sizeof line), 0);
}

Test(audit, kinds_and_priorities) {
        static const struct {
                const char *operation, *result, *id;
                int priority;
        } cases[] = {
                { "GenerateMac", "ok", HMACD_MESSAGE_OPERATION_OK, LOG_INFO },
                { "GenerateMac", "denied", HMACD_MESSAGE_OPERATION_DENIED, LOG_WARNING },
                { "GenerateMac", "KMSInvalidMacException", HMACD_MESSAGE_OPERATION_FAILED, LOG_WARNING },
                { "CreateKey", "KMSInternalException", HMACD_MESSAGE_OPERATION_INTERNAL_ERROR, LOG_ERR },
                { "Authorize", "pending", HMACD_MESSAGE_AUTHORIZATION, LOG_INFO },
                { "Authorize", "allowed", HMACD_MESSAGE_AUTHORIZATION, LOG_INFO },
                { "Authorize", "denied", HMACD_MESSAGE_AUTHORIZATION, LOG_WARNING },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                AuditRecord a = record(cases[i].operation, KEY, NULL, cases[i].result);
                const char *id;
                int priority;

                audit_record_kind(&a, &id, &priority);
                cr_assert_str_eq(id, cases[i].id, "%s %s", cases[i].operation, cases[i].result);
                cr_assert_eq(priority, cases[i].priority, "%s %s", cases[i].operation, cases[i].result);
        }
}

/* The standard error line: the new fields sit before "pid=... result=...", which stays last. */
Test(audit, stderr_line) {
        AuditRecord a = record("GenerateMac", NULL, "alias/x y", "denied");
        char line[4096];

        cr_assert_eq(audit_record_line(&a, line, sizeof line), 0);
        cr_assert_str_eq(line, "audit op=GenerateMac key=- action=io.hmacd.generate-mac ref=alias/x y comm=curl "
                               "unit=user@1000.service priority=4 message_id=" HMACD_MESSAGE_OPERATION_DENIED
                               " uid=1000 pid=4242 result=denied");
}

Test(audit, sanitize) {
        char buf[4 * 8 + 4];

        cr_assert_str_eq(audit_sanitize("plain", 8, buf, sizeof buf), "plain");
        cr_assert_str_eq(audit_sanitize("", 8, buf, sizeof buf), "");
        cr_assert_str_eq(audit_sanitize(NULL, 8, buf, sizeof buf), "");
        cr_assert_str_eq(audit_sanitize("\xc3\xa9t\xc3\xa9", 8, buf, sizeof buf), "\\xc3\\xa9t\\xc3\\xa9");
        cr_assert_str_eq(audit_sanitize("123456789", 8, buf, sizeof buf), "12345678...");
        cr_assert_str_eq(audit_sanitize("\x1b[31m", 8, buf, sizeof buf), "\\x1b[31m");
}

Test(log, levels) {
        cr_assert_eq(log_level_from_string("debug"), LOG_DEBUG);
        cr_assert_eq(log_level_from_string("WARNING"), LOG_WARNING);
        cr_assert_eq(log_level_from_string("err"), LOG_ERR);
        cr_assert_eq(log_level_from_string("3"), 3);
        cr_assert_lt(log_level_from_string("8"), 0);
        cr_assert_lt(log_level_from_string("loud"), 0);
        cr_assert_lt(log_level_from_string(""), 0);
        cr_assert_lt(log_level_from_string(NULL), 0);

        setenv("SYSTEMD_LOG_LEVEL", "debug", 1);
        log_parse_environment();
        cr_assert_eq(log_get_max_level(), LOG_DEBUG);
        setenv("SYSTEMD_LOG_LEVEL", "nonsense", 1);
        log_parse_environment();
        cr_assert_eq(log_get_max_level(), LOG_DEBUG, "an invalid value changes nothing");
        log_set_max_level(LOG_NOTICE);
        cr_assert(!log_level_enabled(LOG_INFO));
        cr_assert(log_level_enabled(LOG_WARNING));
}

/* ---- the caller's unit ---- */

static void assert_units(const char *cgroup, const char *unit, const char *user_unit) {
        char u[CALLER_UNIT_MAX], uu[CALLER_UNIT_MAX];

        (void) caller_units_from_cgroup(cgroup, u, sizeof u, uu, sizeof uu);
        cr_assert_str_eq(u, unit, "%s: unit %s, not %s", cgroup, u, unit);
        cr_assert_str_eq(uu, user_unit, "%s: user unit %s, not %s", cgroup, uu, user_unit);
}

Test(caller, units_from_cgroup) {
        assert_units("0::/system.slice/cron.service\n", "cron.service", "");
        assert_units("0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope", "");
        assert_units("0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo-1.scope\n",
                     "user@1000.service", "app-foo-1.scope");
        assert_units("0::/system.slice/system-getty.slice/getty@tty1.service\n", "getty@tty1.service", "");
        assert_units("0::/init.scope\n", "init.scope", "");
        assert_units("0::/\n", "", "");
        assert_units("", "", "");
        /* cgroup v1 and hybrid: the named systemd hierarchy. */
        assert_units("12:pids:/system.slice/x.service\n1:name=systemd:/system.slice/foo.service\n", "foo.service", "");
        /* A container's payload below its service: the outer unit. */
        assert_units("0::/system.slice/docker-abc.scope/init.scope\n", "docker-abc.scope", "");
}

Test(caller, info_of_this_process) {
        CallerInfo info;
        char comm[CALLER_COMM_MAX];
        FILE *f = fopen("/proc/self/comm", "re");

        cr_assert_not_null(f);
        cr_assert_not_null(fgets(comm, sizeof comm, f));
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';

        caller_info_read(getpid(), &info);
        cr_assert_str_eq(info.comm, comm);
        caller_info_read(0, &info);
        cr_assert_str_empty(info.comm);
        cr_assert_str_empty(info.unit);
}

/* ---- counters ---- */

Test(counters, results_and_property) {
        CacheCounters cache = { .hits = 7, .misses = 2, .evictions = 1 };
        const char *name;
        char buf[64], status[256];
        uint64_t value;
        size_t i, found = 0;

        counters = (Counters) {};
        counters_count_result("ok");
        counters_count_result("ok");
        counters_count_result("denied");
        counters_count_result("NotFoundException");
        counters_count_result("allowed"); /* a polkit decision, not a call */
        counters_count_polkit(1500);
        counters_count_polkit(500);

        cr_assert_eq(counters.ok, 2);
        cr_assert_eq(counters.denied, 1);
        cr_assert_eq(counters_failed_total(&counters), 1);
        cr_assert_eq(counters.polkit_checks, 2);
        cr_assert_eq(counters.polkit_latency_usec, 2000);

        for (i = 0; counters_entry(&counters, &cache, i, &name, buf, sizeof buf, &value) > 0; i++) {
                if (streq(name, "OperationsSucceeded"))
                        { found++; cr_assert_eq(value, 2); }
                else if (streq(name, "OperationsFailed"))
                        { found++; cr_assert_eq(value, 1); }
                else if (streq(name, "Denials"))
                        { found++; cr_assert_eq(value, 1); }
                else if (streq(name, "PolkitLatencyUSec"))
                        { found++; cr_assert_eq(value, 2000); }
                else if (streq(name, "KeyCacheHits"))
                        { found++; cr_assert_eq(value, 7); }
                else if (streq(name, "KeyCacheMisses"))
                        { found++; cr_assert_eq(value, 2); }
                else if (streq(name, "Failed.NotFoundException"))
                        { found++; cr_assert_eq(value, 1); }
                else
                        cr_assert(strncmp(name, "Failed.", 7) != 0, "unexpected %s", name);
        }
        cr_assert_eq(found, 7);
        cr_assert_eq(i, 10, "9 fixed counters and one exception, not %zu", i);

        cr_assert_eq(counters_status(&counters, 1, status, sizeof status), 0);
        cr_assert_str_eq(status, "Serving 1 key; 4 calls, 1 failed, 1 denied.");
}

/* ---- the catalog ---- */

Test(catalog, every_message_id_has_an_entry) {
        static const char *const ids[] = {
                HMACD_MESSAGE_OPERATION_OK, HMACD_MESSAGE_OPERATION_FAILED, HMACD_MESSAGE_OPERATION_INTERNAL_ERROR,
                HMACD_MESSAGE_OPERATION_DENIED, HMACD_MESSAGE_AUTHORIZATION, HMACD_MESSAGE_KEY_DELETED,
                HMACD_MESSAGE_MATERIAL_EXPIRED, HMACD_MESSAGE_STARTED, HMACD_MESSAGE_STOPPED,
                HMACD_MESSAGE_KEY_ROTATED,  HMACD_MESSAGE_MATERIAL_DESTROYED,
        };
        const char *src = getenv("HMACD_SOURCE_DIR") ?: ".";
        char path[4096], text[65536], needle[64];
        size_t n, entries = 0;
        FILE *f;

        snprintf(path, sizeof path, "%s/systemd/hmacd.catalog", src);
        f = fopen(path, "re");
        cr_assert_not_null(f, "%s: %m", path);
        n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';

        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                cr_assert_eq(strlen(ids[i]), 32, "%s is not 128 bits in hex", ids[i]);
                cr_assert_eq(strspn(ids[i], "0123456789abcdef"), 32);
                for (size_t j = 0; j < i; j++)
                        cr_assert_str_neq(ids[i], ids[j], "a MESSAGE_ID is used twice");
                snprintf(needle, sizeof needle, "\n-- %s\nSubject: ", ids[i]);
                cr_assert_not_null(strstr(text, needle), "no catalog entry for %s", ids[i]);
        }
        for (const char *p = text; (p = strstr(p, "\n-- ")); p++)
                entries++;
        cr_assert_eq(entries, ELEMENTSOF(ids), "the catalog has %zu entries, log.h %zu IDs", entries,
                     ELEMENTSOF(ids));
}
