/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging and the audit trail. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
/* sd_journal_send() and sd_journal_sendv() would add this file's CODE_* fields: lines carry their
 * caller's location (sd_journal_send_with_location()), audit records none. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static LogTarget log_target = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;
static bool journal_open;       /* libsystemd's journal socket exists (it is made on first use) */

LogTarget log_target_from_string(const char *s) {
        if (streq(s, "auto"))
                return LOG_TARGET_AUTO;
        if (streq(s, "journal"))
                return LOG_TARGET_JOURNAL;
        if (streq(s, "stderr"))
                return LOG_TARGET_STDERR;
        return _LOG_TARGET_INVALID;
}

void log_setup(LogTarget target) {
        if (target == LOG_TARGET_AUTO)
                target = access("/run/systemd/journal/socket", W_OK) == 0 ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
        log_target = target;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(s, names[i]) == 0)
                        return (int) i;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

void log_set_max_level(int level) {
        if (level >= LOG_EMERG && level <= LOG_DEBUG)
                log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

void log_parse_environment(void) {
        int level = log_level_from_string(getenv("SYSTEMD_LOG_LEVEL"));
        if (level >= 0)
                log_set_max_level(level);
}

static int log_dispatch(int level, int error, const char *message_id, const char *file, int line,
                        const char *func, const char *fmt, va_list ap) {
        char buf[1024];

        if (error < 0)
                error = -error;
        if (level > log_max_level)
                return -error;

        errno = error;
        vsnprintf(buf, sizeof buf, fmt, ap);

        if (log_target == LOG_TARGET_JOURNAL) {
                char code_file[256], code_line[32];

                /* The caller's location, once: sd_journal_send() would add this file's as well. */
                snprintf(code_file, sizeof code_file, "CODE_FILE=%s", file);
                snprintf(code_line, sizeof code_line, "CODE_LINE=%i", line);
                if (message_id)
                        sd_journal_send_with_location(code_file, code_line, func, "MESSAGE=%s", buf, "PRIORITY=%i",
                                                      level, "SYSLOG_IDENTIFIER=hmacd", "MESSAGE_ID=%s", message_id,
                                                      error > 0 ? "ERRNO=%i" : NULL, error, NULL);
                else
                        sd_journal_send_with_location(code_file, code_line, func, "MESSAGE=%s", buf, "PRIORITY=%i",
                                                      level, "SYSLOG_IDENTIFIER=hmacd",
                                                      error > 0 ? "ERRNO=%i" : NULL, error, NULL);
                journal_open = true;
        } else
                fprintf(stderr, "hmacd: %s\n", buf);
        return -error;
}

int log_internal_id(int level, int error, const char *message_id, const char *file, int line, const char *func,
                    const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_dispatch(level, error, message_id, file, line, func, fmt, ap);
        va_end(ap);
        return r;
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_dispatch(level, error, NULL, file, line, func, fmt, ap);
        va_end(ap);
        return r;
}

void log_prepare_confinement(void) {
        /* libsystemd opens its journal socket on the first entry, and socket() is fatal once the
         * seccomp filter is loaded: at a log level that printed nothing yet, write this one now. */
        if (log_target != LOG_TARGET_JOURNAL || journal_open)
                return;
        sd_journal_send_with_location("CODE_FILE=" __FILE__, "CODE_LINE=" STRINGIFY(__LINE__), __func__,
                                      "MESSAGE=Loading the seccomp filter.", "PRIORITY=%i", LOG_DEBUG,
                                      "SYSLOG_IDENTIFIER=hmacd", NULL);
        journal_open = true;
}

void audit_record_kind(const AuditRecord *a, const char **ret_message_id, int *ret_priority) {
        const char *result = strempty(a->result);

        if (a->operation && streq(a->operation, "Authorize")) {
                *ret_message_id = HMACD_MESSAGE_AUTHORIZATION;
                *ret_priority = streq(result, "allowed") || streq(result, "pending") ? LOG_INFO : LOG_WARNING;
        } else if (streq(result, "ok")) {
                *ret_message_id = HMACD_MESSAGE_OPERATION_OK;
                *ret_priority = LOG_INFO;
        } else if (streq(result, "denied")) {
                *ret_message_id = HMACD_MESSAGE_OPERATION_DENIED;
                *ret_priority = LOG_WARNING;
        } else if (streq(result, "KMSInternalException")) {
                *ret_message_id = HMACD_MESSAGE_OPERATION_INTERNAL_ERROR;
                *ret_priority = LOG_ERR;
        } else {
                *ret_message_id = HMACD_MESSAGE_OPERATION_FAILED;
                *ret_priority = LOG_WARNING;
        }
}

char *audit_sanitize(const char *s, size_t max, char *buf, size_t size) {
        static const char hex[] = "0123456789abcdef";
        size_t i, o = 0;

        if (size < 4 * max + 4) {
                /* Not what callers do; keep what fits rather than overflow. */
                max = size >= 8 ? (size - 4) / 4 : 0;
        }
        for (i = 0; s && s[i] && i < max; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = '\\';
                } else if (c >= 0x20 && c < 0x7f)
                        buf[o++] = (char) c;
                else {
                        buf[o++] = '\\';
                        buf[o++] = 'x';
                        buf[o++] = hex[c >> 4];
                        buf[o++] = hex[c & 15];
                }
        }
        if (s && s[i] && size >= 4) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        if (size > 0)
                buf[o] = '\0';
        return buf;
}

/* Appends "NAME=value" to f, value printed with fmt. */
static int _printf_(4, 5) field_add(AuditFields *f, size_t *used, const char *name, const char *fmt, ...) {
        size_t room = sizeof f->text - *used;
        char *p = f->text + *used;
        va_list ap;
        int n, m;

        if (f->n >= AUDIT_FIELDS_MAX)
                return -ENOBUFS;
        n = snprintf(p, room, "%s=", name);
        if (n < 0 || (size_t) n >= room)
                return -ENOBUFS;
        va_start(ap, fmt);
        m = vsnprintf(p + n, room - n, fmt, ap);
        va_end(ap);
        if (m < 0 || (size_t) m >= room - (size_t) n)
                return -ENOBUFS;
        f->iov[f->n++] = (struct iovec) { .iov_base = p, .iov_len = (size_t) (n + m) };
        *used += (size_t) (n + m) + 1;
        return 0;
}

/* The caller-supplied and process-supplied strings of a record, made safe to print. */
typedef struct AuditText {
        char ref[4 * AUDIT_REF_MAX + 4];
        char comm[4 * 16 + 4];
        char unit[4 * AUDIT_REF_MAX + 4];
        char user_unit[4 * AUDIT_REF_MAX + 4];
} AuditText;

static bool present(const char *s) {
        return s && *s;
}

static void audit_text(const AuditRecord *a, AuditText *t) {
        audit_sanitize(a->key_ref, AUDIT_REF_MAX, t->ref, sizeof t->ref);
        audit_sanitize(a->comm, 16, t->comm, sizeof t->comm);
        audit_sanitize(a->unit, AUDIT_REF_MAX, t->unit, sizeof t->unit);
        audit_sanitize(a->user_unit, AUDIT_REF_MAX, t->user_unit, sizeof t->user_unit);
}

/* The key ID when one was resolved; else what the caller named, when that differs. */
static bool want_ref(const AuditRecord *a) {
        return a->key_ref && (!a->key_id || !streq(a->key_ref, a->key_id));
}

int audit_record_fields(const AuditRecord *a, AuditFields *ret) {
        AuditText t;
        size_t used = 0;
        int r;

        *ret = (AuditFields) {};
        audit_record_kind(a, &ret->message_id, &ret->priority);
        audit_text(a, &t);

        r = field_add(ret, &used, "MESSAGE", "%s key=%s uid=%lu pid=%i%s%s result=%s", a->operation,
                      a->key_id ?: want_ref(a) ? t.ref : "-", a->uid, a->pid, present(a->comm) ? " comm=" : "",
                      present(a->comm) ? t.comm : "", a->result);
        if (r >= 0)
                r = field_add(ret, &used, "MESSAGE_ID", "%s", ret->message_id);
        if (r >= 0)
                r = field_add(ret, &used, "PRIORITY", "%i", ret->priority);
        if (r >= 0)
                r = field_add(ret, &used, "SYSLOG_IDENTIFIER", "hmacd");
        if (r >= 0)
                r = field_add(ret, &used, "HMACD_AUDIT", "1");
        if (r >= 0)
                r = field_add(ret, &used, "HMACD_OPERATION", "%s", a->operation);
        if (r >= 0)
                r = field_add(ret, &used, "HMACD_RESULT", "%s", a->result);
        if (r >= 0)
                r = field_add(ret, &used, "HMACD_CALLER_UID", "%lu", a->uid);
        if (r >= 0)
                r = field_add(ret, &used, "HMACD_CALLER_PID", "%i", a->pid);
        if (r >= 0 && a->key_id)
                r = field_add(ret, &used, "HMACD_KEY_ID", "%s", a->key_id);
        if (r >= 0 && want_ref(a))
                r = field_add(ret, &used, "HMACD_KEY_REF", "%s", t.ref);
        if (r >= 0 && present(a->action))
                r = field_add(ret, &used, "HMACD_ACTION", "%s", a->action);
        if (r >= 0 && present(a->comm))
                r = field_add(ret, &used, "HMACD_CALLER_COMM", "%s", t.comm);
        if (r >= 0 && present(a->unit))
                r = field_add(ret, &used, "HMACD_CALLER_UNIT", "%s", t.unit);
        if (r >= 0 && present(a->user_unit))
                r = field_add(ret, &used, "HMACD_CALLER_USER_UNIT", "%s", t.user_unit);
        return r;
}

int audit_record_line(const AuditRecord *a, char *buf, size_t size) {
        const char *message_id;
        AuditText t;
        int priority, n;

        audit_record_kind(a, &message_id, &priority);
        audit_text(a, &t);
        /* "pid=... result=..." stays last: scripts and tests look for it. */
        n = snprintf(buf, size,
                     "audit op=%s key=%s action=%s ref=%s comm=%s unit=%s priority=%i message_id=%s uid=%lu pid=%i "
                     "result=%s",
                     a->operation, a->key_id ?: "-", present(a->action) ? a->action : "-",
                     want_ref(a) ? t.ref : "-", present(a->comm) ? t.comm : "-", present(a->unit) ? t.unit : "-",
                     priority, message_id, a->uid, a->pid, a->result);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

void log_audit(const AuditRecord *a) {
        if (log_target == LOG_TARGET_JOURNAL) {
                AuditFields f;

                if (audit_record_fields(a, &f) >= 0 && sd_journal_sendv(f.iov, (int) f.n) >= 0)
                        journal_open = true;
                return;
        }

        char line[4096];
        if (audit_record_line(a, line, sizeof line) >= 0)
                fprintf(stderr, "hmacd: %s\n", line);
}
