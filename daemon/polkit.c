/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Asynchronous polkit checks, after systemd's src/shared/bus-polkit.c.
 *
 * A method handler calls polkit_check(). The first time, there is no answer yet: a CheckAuthorization
 * call goes to polkit asynchronously, the query is remembered under the request message and the
 * check says "pending" (0); the handler returns 1 without replying, and the daemon serves other
 * callers meanwhile. When polkit answers, the reply is stored in the query, the request is rewound
 * and put back into the bus connection's read queue (sd_bus_enqueue_for_read()), so that sd-bus
 * dispatches it to the same handler again. The handler runs from the top: it validates its arguments
 * and resolves the key again (the key may have changed meanwhile), calls polkit_check() with the
 * same action and details, and this time finds the answer. A handler may check more than one thing
 * (UpdateAlias asks for both keys): queries are found by (message, action and details), and those of
 * a message are freed only once none of them is pending any more, after the handler's run. State is
 * changed only after every check said yes.
 *
 * Allowed answers are cached per (sender, action, details) for a short time. Details hold the key's
 * state, owner, aliases and tags, so a changed key never matches an old entry. The cache is
 * dropped when polkit signals Changed (rules or actions changed) and, per sender, when the sender
 * leaves the bus. Denials are never cached. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "counters.h"
#include "log.h"
#include "macro.h"
#include "polkit.h"

#define CACHE_MAX 8192
#define CACHE_BUCKETS 1024
#define DETAILS_TEXT_MAX (64 * 1024)

typedef struct CacheEntry {
        char *key;                      /* sender \0 action \0 details */
        size_t key_size;
        char *sender;                   /* points into key */
        uint64_t expires;
        struct CacheEntry *next;
} CacheEntry;

typedef struct Query {
        Polkit *polkit;
        sd_bus_message *request;
        char *key;                      /* action \0 details */
        size_t key_size;
        sd_bus_slot *slot;              /* the pending CheckAuthorization call */
        sd_bus_message *reply;          /* its answer */
        uint64_t started;               /* when it was sent (monotonic), for the latency counters */
        struct Query *next;
} Query;

struct Polkit {
        sd_bus *bus;
        sd_bus_slot *changed_slot, *owner_slot;
        sd_event_source *cleanup;
        Query *queries;
        CacheEntry *buckets[CACHE_BUCKETS];
        size_t n_cache;
        uint64_t cache_usec;
};

static uint64_t monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* A check is identified by (sender, action, details), details being "k\0v\0k\0v\0...". Keys are
 * stored as the three concatenated; lookups compare piece by piece and allocate nothing. */
typedef struct CheckId {
        const char *parts[3];
        size_t sizes[3];
} CheckId;

static size_t check_id_size(const CheckId *id) {
        return id->sizes[0] + id->sizes[1] + id->sizes[2];
}

static size_t check_id_hash(const CheckId *id) {
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < 3; i++)
                for (size_t j = 0; j < id->sizes[i]; j++)
                        h = (h ^ (unsigned char) id->parts[i][j]) * 1099511628211ULL;
        return (size_t) h;
}

static bool check_id_equal(const CheckId *id, const char *key, size_t n) {
        if (n != check_id_size(id))
                return false;
        for (size_t i = 0; i < 3; i++) {
                if (memcmp(key, id->parts[i], id->sizes[i]) != 0)
                        return false;
                key += id->sizes[i];
        }
        return true;
}

static char *check_id_join(const CheckId *id) {
        char *k = malloc(check_id_size(id) ?: 1), *p = k;
        if (!k)
                return NULL;
        for (size_t i = 0; i < 3; i++) {
                memcpy(p, id->parts[i], id->sizes[i]);
                p += id->sizes[i];
        }
        return k;
}

static CacheEntry **cache_find(Polkit *p, const CheckId *id) {
        CacheEntry **e = &p->buckets[check_id_hash(id) % CACHE_BUCKETS];
        for (; *e; e = &(*e)->next)
                if (check_id_equal(id, (*e)->key, (*e)->key_size))
                        return e;
        return e;
}

static void cache_entry_free(CacheEntry *e) {
        free(e->key);
        free(e);
}

void polkit_cache_flush(Polkit *p, const char *sender) {
        for (size_t b = 0; b < CACHE_BUCKETS; b++)
                for (CacheEntry **e = &p->buckets[b]; *e;) {
                        if (!sender || streq((*e)->sender, sender)) {
                                CacheEntry *dead = *e;
                                *e = dead->next;
                                cache_entry_free(dead);
                                p->n_cache--;
                        } else
                                e = &(*e)->next;
                }
}

size_t polkit_cache_size(const Polkit *p) {
        return p->n_cache;
}

static bool cache_lookup(Polkit *p, const CheckId *id) {
        CacheEntry **e;

        if (p->cache_usec == 0)
                return false;
        e = cache_find(p, id);
        if (!*e)
                return false;
        if ((*e)->expires > monotonic_usec())
                return true;
        CacheEntry *dead = *e;
        *e = dead->next;
        cache_entry_free(dead);
        p->n_cache--;
        return false;
}

static void cache_insert(Polkit *p, const CheckId *id) {
        CacheEntry **slot, *e;
        char *key;

        if (p->cache_usec == 0)
                return;
        if (p->n_cache >= CACHE_MAX)
                polkit_cache_flush(p, NULL);
        slot = cache_find(p, id);
        if (*slot) {
                (*slot)->expires = monotonic_usec() + p->cache_usec;
                return;
        }
        e = calloc(1, sizeof *e);
        key = check_id_join(id);
        if (!e || !key) {
                free(e);
                free(key);
                return;
        }
        /* The sender comes first, NUL-terminated. */
        *e = (CacheEntry) { .key = key, .key_size = check_id_size(id), .sender = key,
                            .expires = monotonic_usec() + p->cache_usec };
        *slot = e;
        p->n_cache++;
}

static Query *query_free(Query *q) {
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        sd_bus_message_unref(q->reply);
        free(q->key);
        free(q);
        return NULL;
}

static void query_unlink(Polkit *p, Query *q) {
        for (Query **i = &p->queries; *i; i = &(*i)->next)
                if (*i == q) {
                        *i = q->next;
                        return;
                }
}

/* Frees the answered queries of every message that has none pending any more. */
static int on_cleanup(sd_event_source *s, void *userdata) {
        Polkit *p = userdata;

        for (Query **i = &p->queries; *i;) {
                bool pending = false;
                for (Query *j = p->queries; j; j = j->next)
                        pending = pending || (j->request == (*i)->request && !j->reply);
                if (!pending) {
                        Query *dead = *i;
                        *i = dead->next;
                        query_free(dead);
                } else
                        i = &(*i)->next;
        }
        return 0;
}

static void schedule_cleanup(Polkit *p) {
        sd_event *e = sd_bus_get_event(p->bus);

        if (!e)
                return;
        if (!p->cleanup) {
                if (sd_event_add_defer(e, &p->cleanup, on_cleanup, p) < 0)
                        return;
                (void) sd_event_source_set_priority(p->cleanup, SD_EVENT_PRIORITY_IDLE);
        }
        (void) sd_event_source_set_enabled(p->cleanup, SD_EVENT_ONESHOT);
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Query *q = userdata;
        uint64_t latency;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->reply = sd_bus_message_ref(reply);
        latency = monotonic_usec() - q->started;
        counters_count_polkit(latency);
        /* q->key starts with the action, NUL-terminated. */
        log_debug("polkit answered about %s in %" PRIu64 " us%s.", q->key, latency,
                  sd_bus_message_is_method_error(reply, NULL) ? " (with an error)" : "");

        /* Hand the request back to sd-bus, so that its handler runs again and finds the answer. */
        r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(q->polkit->bus, q->request);
        if (r < 0) {
                log_error_errno(r, "Failed to re-dispatch a message after its polkit check: %m");
                (void) sd_bus_reply_method_errno(q->request, r, NULL);
                query_unlink(q->polkit, q);
                query_free(q);
        }
        return 1;
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Polkit *p = userdata;
        log_info("polkit's rules or actions changed; forgetting %zu cached authorizations.", p->n_cache);
        polkit_cache_flush(p, NULL);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Polkit *p = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] == ':' && *old_owner && !*new_owner)
                polkit_cache_flush(p, name);
        return 0;
}

int polkit_new(sd_bus *bus, uint64_t cache_usec, Polkit **ret) {
        Polkit *p;
        int r;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->bus = sd_bus_ref(bus);
        p->cache_usec = cache_usec;

        r = sd_bus_match_signal_async(bus, &p->changed_slot, "org.freedesktop.PolicyKit1",
                                      "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.PolicyKit1.Authority",
                                      "Changed", on_changed, NULL, p);
        if (r >= 0)
                r = sd_bus_match_signal_async(bus, &p->owner_slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                              "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, NULL, p);
        if (r < 0) {
                polkit_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

Polkit *polkit_free(Polkit *p) {
        if (!p)
                return NULL;
        while (p->queries) {
                Query *q = p->queries;
                p->queries = q->next;
                query_free(q);
        }
        polkit_cache_flush(p, NULL);
        sd_event_source_disable_unref(p->cleanup);
        sd_bus_slot_unref(p->changed_slot);
        sd_bus_slot_unref(p->owner_slot);
        sd_bus_unref(p->bus);
        free(p);
        return NULL;
}

void polkit_freep(Polkit **p) {
        polkit_free(*p);
}

static int append_details(sd_bus_message *m, const char *details, size_t size) {
        const char *end = details + size;
        int r = sd_bus_message_open_container(m, 'a', "{ss}");
        while (r >= 0 && details < end) {
                const char *value = details + strlen(details) + 1;
                r = sd_bus_message_append(m, "{ss}", details, value);
                details = value + strlen(value) + 1;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int start_query(Polkit *p, sd_bus_message *m, const char *action, const char *details, size_t details_size,
                       char *key, size_t key_size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        bool interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;
        Query *q;
        int r;

        r = sd_bus_message_new_method_call(p->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s",
                                          sd_bus_message_get_sender(m), action);
        if (r >= 0)
                r = append_details(call, details, details_size);
        if (r >= 0)
                r = sd_bus_message_append(call, "us", (uint32_t) interactive, "");
        if (r < 0) {
                free(key);
                return r;
        }

        q = calloc(1, sizeof *q);
        if (!q) {
                free(key);
                return -ENOMEM;
        }
        *q = (Query) { .polkit = p, .request = sd_bus_message_ref(m), .key = key, .key_size = key_size,
                       .started = monotonic_usec() };
        /* No timeout of our own: polkit may wait for a password; sd-bus's default applies otherwise. */
        r = sd_bus_call_async(p->bus, &q->slot, call, on_check_reply, q, interactive ? UINT64_MAX : 0);
        if (r < 0) {
                query_free(q);
                return r;
        }
        q->next = p->queries;
        p->queries = q;
        return 0;
}

int polkit_check(Polkit *p, sd_bus_message *m, const char *action, const char *details, size_t details_size,
                 sd_bus_error *error) {
        const char *sender = sd_bus_message_get_sender(m);
        int authorized = 0, challenge = 0, r;
        CheckId id, query_id;
        Query *q;

        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "The caller has no bus name.");
        if (details_size > DETAILS_TEXT_MAX)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: too many details.");

        id = (CheckId) { { sender, action, details ?: "" }, { strlen(sender) + 1, strlen(action) + 1, details_size } };
        if (cache_lookup(p, &id)) {
                counters.polkit_cache_hits++;
                return 2;
        }

        query_id = (CheckId) { { "", action, details ?: "" }, { 0, strlen(action) + 1, details_size } };
        for (q = p->queries; q; q = q->next)
                if (q->request == m && check_id_equal(&query_id, q->key, q->key_size))
                        break;
        if (!q) {
                char *key = check_id_join(&query_id);
                if (!key)
                        return -ENOMEM;
                r = start_query(p, m, action, details ?: "", details_size, key, check_id_size(&query_id));
                if (r < 0) {
                        log_warning_errno(r, "Failed to ask polkit about %s: %m", action);
                        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: polkit is not reachable.");
                }
                return 0;
        }
        if (!q->reply)
                return 0; /* dispatched again before the answer came; keep waiting */

        schedule_cleanup(p);
        if (sd_bus_message_is_method_error(q->reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(q->reply);
                /* Fail closed: no polkit, no answer, no access. */
                log_warning("polkit could not check %s: %s: %s", action, e ? e->name : "?", e ? strempty(e->message) : "");
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: polkit could not decide.");
        }
        r = sd_bus_message_enter_container(q->reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(q->reply, "bb", &authorized, &challenge);
        (void) sd_bus_message_rewind(q->reply, true);
        if (r < 0) {
                log_warning_errno(r, "Malformed answer from polkit for %s: %m", action);
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: polkit's answer was malformed.");
        }
        if (authorized) {
                cache_insert(p, &id);
                return 1;
        }
        if (challenge && sd_bus_message_get_allow_interactive_authorization(m) <= 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "%s needs authentication; call again allowing interactive authorization.",
                                         action);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: %s is not allowed.", action);
}
