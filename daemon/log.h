/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging for the daemon: the journal with structured fields where there is one, standard error
 * otherwise. Library code never logs; only daemon/ does. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -22,
} LogTarget;

LogTarget log_target_from_string(const char *s);
void log_setup(LogTarget target);

/* Returns -abs(error), so that `return log_error_errno(r, "...: %m");` works; %m prints error. */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
        _printf_(6, 7);

#define log_full_errno(level, error, ...) log_internal(level, error, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)

/* One audit record: an operation or an authorization decision. Never message bytes, MACs or keys. */
typedef struct AuditRecord {
        const char *operation;          /* "GenerateMac" */
        const char *key_id;             /* may be NULL */
        const char *action;             /* polkit action, may be NULL */
        const char *result;             /* "ok", "denied", or an exception name */
        unsigned long uid;
        int pid;
} AuditRecord;

void log_audit(const AuditRecord *a);
