/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Raw sd-bus calls to io.hmacd.Kms1 for tests that check the daemon itself, independent of
 * libhmacd: one connection per test process, to the bus in DBUS_SYSTEM_BUS_ADDRESS. */
#pragma once

#include <systemd/sd-bus.h>

/* Calls method with the given signature and arguments (sd_bus_message_append() style). Returns
 * the sd-bus result; on an error reply, *ret_error holds it (sd_bus_error_free() it). The reply,
 * if wanted, must be unref'd. */
int bus_call(const char *method, sd_bus_error *ret_error, sd_bus_message **ret_reply, const char *types, ...);

/* The short exception name of an io.hmacd.Kms1.Error.* error ("NotFoundException"), else the name. */
const char *bus_error_exception(const sd_bus_error *e);

/* CreateKey(spec, GENERATE_VERIFY_MAC, "", {}, {Origin: origin or default}); the new key ID goes to ret
 * (37 bytes). */
int bus_create_key(const char *spec, const char *origin, char *ret);

/* The KeyState of a key, from DescribeKey, into ret (32 bytes). */
int bus_key_state(const char *key_id, char *ret);

void bus_close(void);
