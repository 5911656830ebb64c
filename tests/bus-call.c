/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Raw bus calls for tests. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "bus-call.h"
#include "kms.h"
#include "macro.h"

static sd_bus *bus;

static int bus_get(sd_bus **ret) {
        int r;

        if (!bus) {
                r = sd_bus_open_system(&bus);
                if (r < 0)
                        return r;
        }
        *ret = bus;
        return 0;
}

void bus_close(void) {
        bus = sd_bus_flush_close_unref(bus);
}

int bus_call(const char *method, sd_bus_error *ret_error, sd_bus_message **ret_reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus *b;
        va_list ap;
        int r;

        r = bus_get(&b);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(b, &m, HMACD_BUS_NAME, HMACD_OBJECT_PATH, HMACD_INTERFACE, method);
        if (r < 0)
                return r;
        if (types && *types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        r = sd_bus_call(b, m, 0, ret_error, &reply);
        if (r >= 0 && ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return r;
}

const char *bus_error_exception(const sd_bus_error *e) {
        if (!e || !e->name)
                return "";
        if (strncmp(e->name, HMACD_ERROR_PREFIX, strlen(HMACD_ERROR_PREFIX)) == 0)
                return e->name + strlen(HMACD_ERROR_PREFIX);
        return e->name;
}

/* Finds a string field of an a{sv} reply. */
static int metadata_string(sd_bus_message *reply, const char *field, char *ret, size_t size) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name, *value;

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, field)) {
                        r = sd_bus_message_read(reply, "v", "s", &value);
                        if (r < 0)
                                return r;
                        if (strlen(value) >= size)
                                return -ENOBUFS;
                        strcpy(ret, value);
                        return 0;
                }
                r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : -ENOENT;
}

int bus_create_key(const char *spec, const char *origin, char *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (origin)
                r = bus_call("CreateKey", &e, &reply, "sssa{ss}a{sv}", spec, "GENERATE_VERIFY_MAC", "", 0, 1, "Origin",
                             "s", origin);
        else
                r = bus_call("CreateKey", &e, &reply, "sssa{ss}a{sv}", spec, "GENERATE_VERIFY_MAC", "", 0, 0);
        sd_bus_error_free(&e);
        if (r < 0)
                return r;
        return metadata_string(reply, "KeyId", ret, 37);
}

int bus_key_state(const char *key_id, char *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call("DescribeKey", &e, &reply, "s", key_id);
        sd_bus_error_free(&e);
        if (r < 0)
                return r;
        return metadata_string(reply, "KeyState", ret, 32);
}
