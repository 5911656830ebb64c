/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* polkit as key policy: asynchronous CheckAuthorization calls with a system-bus-name subject,
 * re-dispatch of the waiting message when the answer comes, and a cache of allowed answers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct Polkit Polkit;

/* Subscribes to polkit's Changed signal and to callers leaving the bus. cache_usec 0 disables the cache. */
int polkit_new(sd_bus *bus, uint64_t cache_usec, Polkit **ret);
Polkit *polkit_free(Polkit *p);
void polkit_freep(Polkit **p);

/* details: "key\0value\0key\0value\0..." (details_size bytes; NULL and 0 for none).
 * Returns 2 when allowed by a cached answer, 1 when allowed by polkit's answer, 0 when the answer is pending (the message is dispatched again when it
 * comes, and this is called again with the same arguments), or a negative errno with error set:
 * org.freedesktop.DBus.Error.AccessDenied, or InteractiveAuthorizationRequired when polkit wants a
 * password and the caller did not allow interaction. polkit unreachable or failing means no. */
int polkit_check(Polkit *p, sd_bus_message *m, const char *action, const char *details, size_t details_size,
                 sd_bus_error *error);

/* Forgets every cached answer (polkit's rules changed) or those of one sender (it left). */
void polkit_cache_flush(Polkit *p, const char *sender);
size_t polkit_cache_size(const Polkit *p);
