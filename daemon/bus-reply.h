/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One call of the bus interface, and its one way to end: a positive condition with its detail
 * (kms-error.h) or a negative errno becomes the D-Bus error name, the AWS-style message and the audit
 * record here, and nowhere else; a success gets its audit record here too. */
#pragma once

#include <systemd/sd-bus.h>

#include "authz.h"
#include "key-state.h"
#include "kms-error.h"

typedef struct Call {
        Authz *authz;
        sd_bus_message *message;
        sd_bus_error *error;
        KmsOperation operation;
        Action action;
        Caller caller;
        const char *key_id;             /* for the audit record, once known */
        const char *key_ref;            /* the key or alias the caller named, for the audit record */
        bool pending;                   /* waiting for the bus or polkit: the message comes back */
        KmsFailure failure;
} Call;

/* Sets up c for message and identifies the caller: 1 when known, 0 when the bus is being asked (the
 * handler returns 1; the message is dispatched again), or a negative errno with the error set. */
int call_begin(Call *c, Authz *authz, sd_bus_message *message, sd_bus_error *error, KmsOperation operation,
               Action action);

/* Whatever way a handler leaves, the authorization checks of its message are released, unless it is
 * waiting for an answer. Declare calls with _cleanup_(call_end). */
void call_end(Call *c);

/* Ends c with an error: r > 0 is a condition whose detail is in c->failure, r < 0 an internal failure
 * (KMSInternalException naming the operation and the system's words, e.g. "No space left on device").
 * Writes the audit record and returns a negative errno for the handler to return. */
int call_fail(Call *c, int r);

/* The audit record of c with result ("ok", "denied", an exception name). */
void call_audit(const Call *c, const char *result);

/* Ends c with success: the audit record, and reply (or an empty method return when NULL) is sent. */
int call_reply(Call *c, sd_bus_message *reply);
