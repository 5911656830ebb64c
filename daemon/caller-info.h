/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the audit trail says about a caller beyond its UID and PID: its command name and systemd unit,
 * read once per bus connection from /proc/PID/comm and /proc/PID/cgroup (no bus round trip: the bus
 * daemon's GetConnectionCredentials has neither). What cannot be read (the process is gone, or /proc
 * hides it) stays empty; nothing here is used for authorization, which rests on the UID and polkit.
 * Both files are read with open/read/close, which the seccomp filter allows. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define CALLER_COMM_MAX 16              /* TASK_COMM_LEN, with its NUL */
#define CALLER_UNIT_MAX 256             /* a unit name is at most 255 characters */

typedef struct CallerInfo {
        char comm[CALLER_COMM_MAX];
        char unit[CALLER_UNIT_MAX];     /* e.g. "cron.service", "session-3.scope", "user@1000.service" */
        char user_unit[CALLER_UNIT_MAX]; /* below user@UID.service: e.g. "app-foo.scope" */
} CallerInfo;

/* The units of a process from the text of /proc/PID/cgroup: the unified hierarchy's line ("0::/...")
 * or else the named systemd one ("N:name=systemd:/..."). Slices are skipped; the first .service or
 * .scope is the unit, and below a user@UID.service the next one is the user unit. Pure. Returns 0, or
 * -ENODATA when no unit is found (ret_unit and ret_user_unit are then ""). */
int caller_units_from_cgroup(const char *text, char *ret_unit, size_t unit_size, char *ret_user_unit,
                             size_t user_unit_size);

/* Fills ret from /proc/PID; empty fields for what is not readable. */
void caller_info_read(pid_t pid, CallerInfo *ret);
