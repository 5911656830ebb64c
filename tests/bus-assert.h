/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Criterion assertions on the result of a bus_call() (bus-call.h), with short names because tests say
 * them on every other line: ok(), it succeeded; fails(), it failed with that exception and a message
 * holding a given part. Both free the error. */
#pragma once

#include <criterion/criterion.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus-call.h"

static inline void ok(int r, sd_bus_error *e, const char *what) {
        cr_assert(r >= 0, "%s: %s: %s", what, e->name, e->message);
        sd_bus_error_free(e);
}

/* message_part: NULL, or a part the error message must contain. */
static inline void fails(int r, sd_bus_error *e, const char *exception, const char *message_part) {
        cr_assert(r < 0, "expected %s, the call succeeded", exception);
        cr_assert_str_eq(bus_error_exception(e), exception, "%s", e->message);
        if (message_part)
                cr_assert(e->message && strstr(e->message, message_part), "'%s' lacks '%s'", e->message, message_part);
        sd_bus_error_free(e);
}
