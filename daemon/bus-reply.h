/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One call of the bus interface, and its one way to end: a positive condition with its detail
 * (kms-error.h) or a negative errno becomes the D-Bus error name, the AWS-style message and the audit
 * record here, and nowhere else; a success gets its audit record here too. */
#pragma once

#include <systemd/sd-bus.h>

#include "authorize.h"
#include "key-state.h"
#include "kms-error.h"

typedef struct Call {
        sd_bus_message *message;
        sd_bus_error *error;
        KmsOperation operation;
        Action action;
        Caller caller;
        const char *key_id;             /* for the audit record, once known */
        const char *key_ref;            /* the key or alias the caller named, for the audit record */
        KmsFailure failure;
} Call;

/* Sets up c for message; identifies the caller (cc may be NULL in tests). */
int call_begin(Call *c, CallerCache *cc, sd_bus_message *message, sd_bus_error *error, KmsOperation operation,
               Action action);

/* Ends c with an error: r > 0 is a condition whose detail is in c->failure, r < 0 an internal failure
 * (KMSInternalException naming the operation and the system's words, e.g. "No space left on device").
 * Writes the audit record and returns a negative errno for the handler to return. */
int call_fail(Call *c, int r);

/* The audit record of c with result ("ok", "denied", an exception name). */
void call_audit(const Call *c, const char *result);

/* Ends c with success: the audit record, and reply (or an empty method return when NULL) is sent. */
int call_reply(Call *c, sd_bus_message *reply);
