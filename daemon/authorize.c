/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization of callers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

#define CALLER_BUCKETS 1024
#define CALLER_CACHE_MAX 65536

typedef struct CallerEntry {
        char *sender;
        Caller caller;
        struct CallerEntry *next;
} CallerEntry;

struct CallerCache {
        sd_bus_slot *slot;
        CallerEntry *buckets[CALLER_BUCKETS];
        size_t n;
};

static size_t sender_hash(const char *s) {
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return (size_t) (h % CALLER_BUCKETS);
}

static void bucket_forget(CallerCache *c, size_t b, const char *sender) {
        for (CallerEntry **e = &c->buckets[b]; *e;)
                if (!sender || streq((*e)->sender, sender)) {
                        CallerEntry *dead = *e;
                        *e = dead->next;
                        free(dead->sender);
                        free(dead);
                        c->n--;
                } else
                        e = &(*e)->next;
}

/* One sender, or everyone (NULL). */
static void caller_cache_forget(CallerCache *c, const char *sender) {
        if (sender)
                bucket_forget(c, sender_hash(sender), sender);
        else
                for (size_t b = 0; b < CALLER_BUCKETS; b++)
                        bucket_forget(c, b, NULL);
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && name[0] == ':' && !*new_owner)
                caller_cache_forget(userdata, name);
        return 0;
}

int caller_cache_new(sd_bus *bus, CallerCache **ret) {
        CallerCache *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        r = sd_bus_match_signal_async(bus, &c->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, NULL, c);
        if (r < 0) {
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

CallerCache *caller_cache_free(CallerCache *c) {
        if (!c)
                return NULL;
        caller_cache_forget(c, NULL);
        sd_bus_slot_unref(c->slot);
        free(c);
        return NULL;
}

int caller_identify(CallerCache *c, sd_bus_message *m, Caller *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        CallerEntry *e;
        uid_t uid;
        pid_t pid = 0;
        int r;

        if (c && sender)
                for (e = c->buckets[sender_hash(sender)]; e; e = e->next)
                        if (streq(e->sender, sender)) {
                                *ret = e->caller;
                                return 0;
                        }

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
        caller_info_read(pid, &ret->info);

        if (c && sender) {
                if (c->n >= CALLER_CACHE_MAX)
                        caller_cache_forget(c, NULL);
                e = calloc(1, sizeof *e);
                if (e && (e->sender = strdup(sender))) {
                        size_t b = sender_hash(sender);
                        e->caller = *ret;
                        e->next = c->buckets[b];
                        c->buckets[b] = e;
                        c->n++;
                } else
                        free(e);
        }
        return 0;
}

bool caller_is_trusted(const Caller *caller, uid_t self_uid) {
        return caller->uid == 0 || caller->uid == self_uid;
}

int authorize(Polkit *polkit, sd_bus_message *m, const Caller *caller, uid_t self_uid, Action action,
              const char *details, size_t details_size, sd_bus_error *error) {
        if (caller_is_trusted(caller, self_uid))
                return 2;
        if (!polkit)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: %s needs polkit.",
                                         action_to_string(action));
        return polkit_check(polkit, m, action_to_string(action), details, details_size, error);
}
