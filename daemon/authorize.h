/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may do what. Root and the daemon's own user may do everything; everyone else is asked about
 * through polkit. A method handler calls authorize() after validating its arguments and resolving
 * the key, and before changing any state. */
#pragma once

#include <systemd/sd-bus.h>

#include "caller-info.h"
#include "keys.h"
#include "polkit.h"

typedef enum Action {
        ACTION_CREATE_KEY,
        ACTION_GENERATE_MAC,
        ACTION_VERIFY_MAC,
        ACTION_DESCRIBE_KEY,
        ACTION_LIST_KEYS,
        ACTION_MANAGE_KEY,
        ACTION_DELETE_KEY,
        ACTION_IMPORT_KEY_MATERIAL,
        _ACTION_MAX,
        _ACTION_INVALID = -22,
} Action;

typedef struct Caller {
        uid_t uid;
        pid_t pid;
        CallerInfo info;                /* command name and unit, for the audit trail only */
} Caller;

const char *action_to_string(Action a);

/* Who sent m. The bus is asked once per connection (GetConnectionCredentials); unique names are
 * never reused on a bus, so the answer is kept until the connection leaves. */
typedef struct CallerCache CallerCache;

int caller_cache_new(sd_bus *bus, CallerCache **ret);
CallerCache *caller_cache_free(CallerCache *c);
int caller_identify(CallerCache *c, sd_bus_message *m, Caller *ret);

/* True for callers that need no polkit check (root and the daemon's own user). */
bool caller_is_trusted(const Caller *caller, uid_t self_uid);

/* Returns 2 when allowed without asking (trusted caller, or a cached answer), 1 when polkit just
 * allowed it, 0 when the answer is pending (the message will be dispatched again), and a negative
 * errno with `error` set (org.freedesktop.DBus.Error.AccessDenied) when not.
 * details: "key\0value\0..." for polkit rules (details_size bytes). */
int authorize(Polkit *polkit, sd_bus_message *m, const Caller *caller, uid_t self_uid, Action action,
              const char *details, size_t details_size, sd_bus_error *error);
