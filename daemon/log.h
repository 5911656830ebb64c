/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging for the daemon: the journal with structured fields where there is one, standard error
 * otherwise. Library code never logs; only daemon/ does.
 *
 * Records an admin may want to find or count carry a MESSAGE_ID of their kind (systemd/hmacd.catalog
 * explains each, `journalctl -x` shows the explanation, `journalctl MESSAGE_ID=...` selects them).
 * The audit trail (one record per call and per polkit decision) is written whatever the log level;
 * --log-level= and $SYSTEMD_LOG_LEVEL govern the other lines. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -22,
} LogTarget;

/* The MESSAGE_ID of each kind of record (systemd/hmacd.catalog, one entry each). */
#define HMACD_MESSAGE_OPERATION_OK              "737da9ce913d4947a9803f5c66dede9a"
#define HMACD_MESSAGE_OPERATION_FAILED          "b8857933dc1b49649ec5839a59415b24"
#define HMACD_MESSAGE_OPERATION_INTERNAL_ERROR  "7ca538424d1c46adb8e3c5af472d0074"
#define HMACD_MESSAGE_OPERATION_DENIED          "f9d43e3dd43e4de6ac654308dd8e4b48"
#define HMACD_MESSAGE_AUTHORIZATION             "20df8d406e5843a49330f59c335fe237"
#define HMACD_MESSAGE_KEY_DELETED               "2502cadf11ba4182b79da0ff09c8c279"
#define HMACD_MESSAGE_MATERIAL_EXPIRED          "5883095447f9473182dd44f017489658"
#define HMACD_MESSAGE_KEY_ROTATED               "e6e4b15bda8848d9a6e088b18d2f1af5"
#define HMACD_MESSAGE_MATERIAL_DESTROYED        "066428e33e9c48ef8cbbf83b888ade44"
#define HMACD_MESSAGE_STARTED                   "2014186c5be147d58b9bda6314d96959"
#define HMACD_MESSAGE_STOPPED                   "599e73f8c3344b188e455bfd0ecfcf87"

LogTarget log_target_from_string(const char *s);
void log_setup(LogTarget target);

/* "emerg" .. "debug" (syslog names, as systemd's --log-level=) or 0..7; -EINVAL otherwise. */
int log_level_from_string(const char *s);
void log_set_max_level(int level);
int log_get_max_level(void);
/* Before the seccomp filter: makes sure the journal connection exists (see log.c). */
void log_prepare_confinement(void);
/* Takes $SYSTEMD_LOG_LEVEL if it is set and valid; a command line option applied after it wins. */
void log_parse_environment(void);

static inline bool log_level_enabled(int level) {
        return level <= log_get_max_level();
}

/* Returns -abs(error), so that `return log_error_errno(r, "...: %m");` works; %m prints error.
 * message_id: one of HMACD_MESSAGE_*, or NULL. */
int log_internal_id(int level, int error, const char *message_id, const char *file, int line, const char *func,
                    const char *fmt, ...) _printf_(7, 8);
int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
        _printf_(6, 7);

#define log_full_errno(level, error, ...) log_internal(level, error, __FILE__, __LINE__, __func__, __VA_ARGS__)
/* A line of one of the kinds above, e.g. log_struct_id(LOG_NOTICE, HMACD_MESSAGE_KEY_DELETED, "..."). */
#define log_struct_id(level, message_id, ...) \
        log_internal_id(level, 0, message_id, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)

/* One audit record: an operation or an authorization decision. Never message bytes, MACs or keys. */
typedef struct AuditRecord {
        const char *operation;          /* "GenerateMac", or "Authorize" for a polkit decision */
        const char *key_id;             /* the key resolved; may be NULL */
        const char *key_ref;            /* what the caller named (ID, ARN, alias), as sent; may be NULL */
        const char *action;             /* polkit action, may be NULL */
        const char *result;             /* "ok", "denied", "allowed", "pending", or an exception name */
        unsigned long uid;
        int pid;
        const char *comm;               /* the caller's command name, may be NULL or "" */
        const char *unit;               /* the caller's systemd unit, may be NULL or "" */
        const char *user_unit;          /* its unit in the user's service manager, may be NULL or "" */
} AuditRecord;

/* What a record says about its outcome: the MESSAGE_ID and priority of its kind.
 * ok: OPERATION_OK, info; "denied": OPERATION_DENIED, warning; "KMSInternalException":
 * OPERATION_INTERNAL_ERROR, err; other exceptions: OPERATION_FAILED, warning; records of operation
 * "Authorize" (polkit's answers): AUTHORIZATION, info ("allowed", "pending") or warning ("denied"). */
void audit_record_kind(const AuditRecord *a, const char **ret_message_id, int *ret_priority);

/* At most this many bytes of a caller-supplied string go into a record; longer ones are cut and end
 * in "...". */
#define AUDIT_REF_MAX 256

/* Copies at most max bytes of s into buf (size bytes, at least 4 * max + 4), printable ASCII as it is,
 * a backslash as "\\" and every other byte as "\xNN", and "..." if s was longer. Returns buf. */
char *audit_sanitize(const char *s, size_t max, char *buf, size_t size);

/* The journal fields of an audit record, built without a journal (tests read them):
 * MESSAGE, MESSAGE_ID, PRIORITY, SYSLOG_IDENTIFIER, HMACD_AUDIT=1, HMACD_OPERATION, HMACD_RESULT,
 * HMACD_CALLER_UID, HMACD_CALLER_PID, and where known HMACD_KEY_ID, HMACD_KEY_REF (when it differs
 * from the key ID), HMACD_ACTION, HMACD_CALLER_COMM, HMACD_CALLER_UNIT, HMACD_CALLER_USER_UNIT. */
#define AUDIT_FIELDS_MAX 16
typedef struct AuditFields {
        struct iovec iov[AUDIT_FIELDS_MAX];
        size_t n;
        int priority;
        const char *message_id;
        char text[8192];
} AuditFields;

int audit_record_fields(const AuditRecord *a, AuditFields *ret);
/* The one line of standard error for a, without its newline. */
int audit_record_line(const AuditRecord *a, char *buf, size_t size);

void log_audit(const AuditRecord *a);
