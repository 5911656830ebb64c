/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization of callers. */
#include <errno.h>

#include "authorize.h"
#include "macro.h"

static const char *const action_table[_ACTION_MAX] = {
        [ACTION_CREATE_KEY] = "io.hmacd.create-key",
        [ACTION_GENERATE_MAC] = "io.hmacd.generate-mac",
        [ACTION_VERIFY_MAC] = "io.hmacd.verify-mac",
        [ACTION_DESCRIBE_KEY] = "io.hmacd.describe-key",
        [ACTION_LIST_KEYS] = "io.hmacd.list-keys",
        [ACTION_MANAGE_KEY] = "io.hmacd.manage-key",
        [ACTION_DELETE_KEY] = "io.hmacd.delete-key",
        [ACTION_IMPORT_KEY_MATERIAL] = "io.hmacd.import-key-material",
};

const char *action_to_string(Action a) {
        return a >= 0 && a < _ACTION_MAX ? action_table[a] : NULL;
}

int caller_identify(sd_bus_message *m, Caller *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        pid_t pid = 0;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_PID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                r = sd_bus_creds_get_uid(creds, &uid);
        if (r < 0)
                return r;
        (void) sd_bus_creds_get_pid(creds, &pid);

        *ret = (Caller) { .uid = uid, .pid = pid };
        return 0;
}

bool caller_is_trusted(const Caller *caller, uid_t self_uid) {
        return caller->uid == 0 || caller->uid == self_uid;
}

int authorize(Polkit *polkit, sd_bus_message *m, const Caller *caller, uid_t self_uid, Action action,
              char *const *details, sd_bus_error *error) {
        if (caller_is_trusted(caller, self_uid))
                return 1;
        if (!polkit)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: %s needs polkit.",
                                         action_to_string(action));
        return polkit_check(polkit, m, action_to_string(action), details, error);
}
