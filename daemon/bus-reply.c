/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The end of every bus call: errors, replies and audit records (see bus-reply.h). */
#include <string.h>

#include "bus-reply.h"
#include "counters.h"
#include "log.h"
#include "notify.h"
#include "macro.h"

int call_begin(Call *c, Authz *authz, sd_bus_message *message, sd_bus_error *error, KmsOperation operation,
               Action action) {
        int r;

        *c = (Call) { .authz = authz, .message = message, .error = error, .operation = operation, .action = action };
        r = authz_identify(authz, message, &c->caller);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to identify the caller: %m");
        c->pending = r == 0;
        return r;
}

void call_end(Call *c) {
        if (c->authz && !c->pending)
                authz_release(c->authz, c->message);
}

void call_audit(const Call *c, const char *result) {
        if (counters_count_result(result))
                status_poke();
        log_audit(&(AuditRecord) {
                .operation = kms_operation_to_string(c->operation),
                .key_id = c->key_id,
                .key_ref = c->key_ref,
                .action = action_to_string(c->action),
                .result = result,
                .uid = c->caller.uid,
                .pid = c->caller.pid,
                .comm = c->caller.info.comm,
                .unit = c->caller.info.unit,
                .user_unit = c->caller.info.user_unit,
        });
}

int call_fail(Call *c, int r) {
        char message[2048];
        KmsError e;

        if (r > 0) {
                e = kms_condition_to_error(r);
                c->failure.condition = r;
                kms_failure_format(&c->failure, message, sizeof message);
        } else {
                e = KMS_ERROR_INTERNAL;
                snprintf(message, sizeof message, "%s failed: %s.", kms_operation_to_string(c->operation),
                         strerror(r < 0 ? -r : EIO));
        }
        call_audit(c, kms_error_to_exception(e));
        return sd_bus_error_set(c->error, kms_error_to_dbus_name(e), message);
}

int call_reply(Call *c, sd_bus_message *reply) {
        call_audit(c, "ok");
        if (!reply)
                return sd_bus_reply_method_return(c->message, NULL);
        return sd_bus_send(NULL, reply, NULL);
}
