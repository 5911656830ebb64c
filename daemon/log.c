/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging and the audit trail. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static LogTarget log_target = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;

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

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > log_max_level)
                return -error;

        errno = error;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        if (log_target == LOG_TARGET_JOURNAL)
                sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%i", level, "CODE_FILE=%s", file,
                                "CODE_LINE=%i", line, "CODE_FUNC=%s", func, "SYSLOG_IDENTIFIER=hmacd",
                                error > 0 ? "ERRNO=%i" : NULL, error, NULL);
        else
                fprintf(stderr, "hmacd: %s\n", buf);
        return -error;
}

void log_audit(const AuditRecord *a) {
        if (log_target == LOG_TARGET_JOURNAL) {
                sd_journal_send("MESSAGE=%s key=%s uid=%lu pid=%i result=%s", a->operation,
                                a->key_id ?: "-", a->uid, a->pid, a->result, "PRIORITY=%i", LOG_INFO,
                                "SYSLOG_IDENTIFIER=hmacd", "HMACD_AUDIT=1", "HMACD_OPERATION=%s",
                                a->operation, "HMACD_KEY_ID=%s", a->key_id ?: "", "HMACD_ACTION=%s",
                                a->action ?: "", "HMACD_RESULT=%s", a->result, "HMACD_CALLER_UID=%lu",
                                a->uid, "HMACD_CALLER_PID=%i", a->pid, NULL);
                return;
        }
        fprintf(stderr, "hmacd: audit op=%s key=%s action=%s uid=%lu pid=%i result=%s\n", a->operation,
                a->key_id ?: "-", a->action ?: "-", a->uid, a->pid, a->result);
}
