/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization of callers: identity, trust, polkit details, asynchronous polkit checks (after
 * systemd's src/shared/bus-polkit.c) with a timeout and caps, and the cache of allowed answers.
 *
 * How a check waits without blocking anyone. A method handler calls authz_check(). The first time
 * there is no answer: a CheckAuthorization call goes to polkit asynchronously with a
 * system-bus-name subject, a check is registered under the request message (a hash map keyed by
 * the message pointer, so finding it costs O(1) however many requests are waiting), and
 * authz_check() says "pending" (0). The handler returns 1 without replying and the daemon serves
 * others. When polkit answers (or the timeout passes), the answer is stored in the check, the
 * request is rewound and put back into the connection's read queue with sd_bus_enqueue_for_read(),
 * so that sd-bus dispatches the very same message object to the same handler again. The handler
 * runs from the top: it validates and resolves again (the key may have changed meanwhile), calls
 * authz_check() with the same action and details, finds the answer, and acts on it. A handler may
 * check several things for one request (UpdateAlias asks for both keys): checks are found by
 * (message, action, details), one at a time, and a re-run finds the earlier answers still there.
 * Nothing is freed behind the handler's back: authz_release() frees a request's checks when its
 * handler has finished, a sender leaving the bus drops its requests (nobody is left to answer), and
 * each pending check ends after a finite timeout, interactive ones included, so that no caller can
 * keep the daemon's reply slots on the bus or its request bodies. Caps per sender, per UID and in
 * total bound how many requests wait at once.
 *
 * Allowed answers are cached per (sender, action, details) for a short time. Details hold the key's
 * state, owner, aliases and tags, so a changed key never matches an old entry. The cache is
 * dropped when polkit signals Changed and, per sender, when the sender leaves the bus. Denials are
 * never cached. Everything that fails (polkit unreachable, a malformed answer, no memory) says no. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "authz.h"
#include "counters.h"
#include "hashmap.h"
#include "log.h"
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
        [ACTION_MANAGE_ALIAS] = "io.hmacd.manage-alias",
        [ACTION_ROTATE_KEY] = "io.hmacd.rotate-key",
};

const char *action_to_string(Action a) {
        return a >= 0 && a < _ACTION_MAX ? action_table[a] : NULL;
}

Action action_from_string(const char *s) {
        for (Action a = 0; s && a < _ACTION_MAX; a++)
                if (streq(action_table[a], s))
                        return a;
        return _ACTION_INVALID;
}

/* ---- Details for polkit rules ---- */

static char *put(char *p, const char *prefix, const char *s) {
        size_t n = strlen(prefix);
        memcpy(p, prefix, n);
        p += n;
        n = strlen(strempty(s)) + 1;
        memcpy(p, strempty(s), n);
        return p + n;
}

int authz_key_details(const char *key_id, const char *key_arn, const char *key_spec, const char *key_state,
                      const char *owner, const char *aliases, const char *const *tag_keys,
                      const char *const *tag_values, size_t n_tags, char **ret, size_t *ret_size) {
        const char *pairs[] = { "key_id",    key_id,    "key_arn", key_arn, "key_spec", key_spec,
                                "key_state", key_state, "owner",   owner,   "aliases",  aliases };
        size_t size = 0;
        char *b, *p;

        for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
                size += strlen(strempty(pairs[i])) + 1;
        /* No limit here: authz_check() refuses details over AUTHZ_DETAILS_MAX, as polkit would. */
        for (size_t i = 0; i < n_tags; i++)
                size += strlen("tag.") + strlen(tag_keys[i]) + 1 + strlen(strempty(tag_values[i])) + 1;
        p = b = malloc(size);
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
                p = put(p, "", pairs[i]);
        for (size_t i = 0; i < n_tags; i++) {
                p = put(p, "tag.", tag_keys[i]);
                p = put(p, "", tag_values[i]);
        }
        *ret = b;
        *ret_size = size;
        return 0;
}

/* ---- The service's view: sd-bus, polkit, the clock ---- */

struct Authz {
        sd_bus *bus;
        uid_t self_uid;
        uint64_t timeout_usec;
        sd_bus_slot *owner_slot, *changed_slot;
        sd_event_source *timer;
        Hashmap *callers; /* sender -> Caller */
        Hashmap *idents;  /* sender -> Ident, while the bus is asked */
        size_t n_ident_waiting;
        uint64_t ident_bytes, limits_bytes_unidentified;
        AuthzCache *cache;
        AuthzRegistry *registry;
        /* Fairness: new requests of untrusted callers queued per UID, let through in turn by a
         * deferred event below the bus's priority; "admitted" holds those let through until their
         * handler sees them again (message pointer -> the message, referenced). */
        AuthzFair *fair;
        Hashmap *admitted;
        sd_event_source *admit_source;
        /* Refusals of a full queue are audited one a second, with how many were left out: a flood
         * must not cost a log write per request. */
        uint64_t refused_audit_usec;
        size_t refused_unaudited;
};

/* A GetConnectionCredentials call in flight, and the requests of that sender waiting for it. */
/* A new connection may pipeline this many calls before the bus has said who it is; beyond, each
 * would be dispatched twice before being refused. Small requests (every GenerateMac and VerifyMac
 * fits) wait within the count alone, at most IDENT_WAITING_TOTAL_MAX x IDENT_SMALL_BYTES in all;
 * larger ones also share the byte pool of AuthzLimits.bytes_unidentified, so that one user's large
 * requests on many new connections cannot lock everyone else's small ones out until the bus
 * answers. */
#define IDENT_WAITING_MAX       32U
#define IDENT_WAITING_TOTAL_MAX 4096U
#define IDENT_SMALL_BYTES       (16U * 1024U)

typedef struct Ident {
        Authz *authz;
        sd_bus_slot *slot;
        sd_bus_message *waiting[IDENT_WAITING_MAX];
        uint64_t bytes[IDENT_WAITING_MAX];
        size_t n_waiting;
        char sender[];
} Ident;

static uint64_t message_bytes(sd_bus_message *m);

static Ident *ident_free(Ident *id) {
        Authz *a;

        if (!id)
                return NULL;
        a = id->authz;
        for (size_t i = 0; i < id->n_waiting; i++) {
                sd_bus_message_unref(id->waiting[i]);
                a->ident_bytes -= id->bytes[i];
        }
        a->n_ident_waiting -= id->n_waiting;
        sd_bus_slot_unref(id->slot);
        free(id);
        return NULL;
}

static void ident_free_void(void *p) {
        ident_free(p);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

static void *ref_message(void *m) {
        return sd_bus_message_ref(m);
}

static void unref_message(void *m) {
        sd_bus_message_unref(m);
}

static void unref_slot(void *slot) {
        sd_bus_slot_unref(slot);
}

/* The request's handler runs again and finds the answer (see the top of this file). When the
 * message cannot be put back, it is answered here, and no: fail closed. */
static void redispatch(Authz *a, AuthzCheck *c) {
        sd_bus_message *m = authz_check_get_request(c);
        int r;

        r = sd_bus_message_rewind(m, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(a->bus, m);
        if (r < 0) {
                log_error_errno(r, "Failed to re-dispatch a message after its polkit check: %m");
                (void) sd_bus_reply_method_errorf(m, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "Access denied: %s could not be checked.",
                                                  authz_check_get_action(c));
                authz_registry_release(a->registry, m);
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* One timer for every pending check: the registry keeps them by deadline. */
static void arm_timer(Authz *a) {
        uint64_t next = authz_registry_next_deadline(a->registry);
        sd_event *e = sd_bus_get_event(a->bus);
        int r;

        if (next == UINT64_MAX || !e) {
                if (a->timer)
                        (void) sd_event_source_set_enabled(a->timer, SD_EVENT_OFF);
                return;
        }
        if (!a->timer)
                r = sd_event_add_time(e, &a->timer, CLOCK_MONOTONIC, next, 0, on_timer, a);
        else {
                r = sd_event_source_set_time(a->timer, next);
                if (r >= 0)
                        r = sd_event_source_set_enabled(a->timer, SD_EVENT_ONESHOT);
        }
        /* Not fatal: every CheckAuthorization call carries the same timeout for sd-bus to enforce. */
        if (r < 0)
                log_warning_errno(r, "Failed to arm the polkit timeout timer: %m");
}

static void on_expired(AuthzCheck *c, void *userdata) {
        log_info("polkit did not answer about %s in time.", authz_check_get_action(c));
        redispatch(userdata, c);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Authz *a = userdata;
        size_t n;

        authz_registry_expire(a->registry, now_usec(), on_expired, a);
        n = authz_registry_sweep(a->registry, now_usec());
        if (n > 0)
                log_warning("%zu polkit answers were never released by their handler; freed them now.", n);
        arm_timer(a);
        return 0;
}

static AuthzAnswer parse_answer(sd_bus_message *reply, const char *action) {
        int authorized = 0, challenge = 0, r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                /* sd-bus's own timeout, or the bus's. */
                if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) ||
                    sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT))
                        return AUTHZ_TIMEOUT;
                log_warning("polkit could not check %s: %s: %s", action, e ? e->name : "?",
                            e ? strempty(e->message) : "");
                return AUTHZ_FAILED;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r > 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r <= 0) {
                log_warning_errno(r ?: -EBADMSG, "Malformed answer from polkit for %s: %m", action);
                return AUTHZ_FAILED;
        }
        return authorized ? AUTHZ_ALLOWED : challenge ? AUTHZ_CHALLENGE : AUTHZ_DENIED;
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AuthzCheck *c = userdata;
        Authz *a = authz_check_get_userdata(c);
        uint64_t latency = now_usec() - (authz_check_get_deadline(c) - a->timeout_usec);

        counters_count_polkit(latency);
        log_debug("polkit answered about %s in %" PRIu64 " us%s.", authz_check_get_action(c), latency,
                  sd_bus_message_is_method_error(reply, NULL) ? " (with an error)" : "");

        /* Drops the call, whose callback this is: sd-bus allows that. */
        authz_registry_answer(a->registry, c, parse_answer(reply, authz_check_get_action(c)), now_usec());
        redispatch(a, c);
        arm_timer(a);
        return 1;
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Authz *a = userdata;

        log_info("polkit's rules or actions changed; forgetting %zu cached authorizations.",
                 authz_cache_size(a->cache));
        authz_cache_flush(a->cache);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *name, *old_owner, *new_owner;
        Authz *a = userdata;
        size_t n;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] != ':' || !*old_owner || *new_owner)
                return 0;
        free(hashmap_remove_str(a->callers, name));
        ident_free(hashmap_remove_str(a->idents, name)); /* its requests are dropped: nobody to answer */
        authz_cache_flush_sender(a->cache, name);
        n = authz_registry_cancel_sender(a->registry, name);
        if (n > 0) {
                log_debug("%s left with %zu requests waiting for polkit; dropped them.", name, n);
                arm_timer(a);
        }
        return 0;
}

int authz_new(sd_bus *bus, uid_t self_uid, uint64_t cache_usec, Authz **ret) {
        _cleanup_(authz_freep) Authz *a = NULL;
        int r;

        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->bus = sd_bus_ref(bus);
        a->self_uid = self_uid;
        a->timeout_usec = AUTHZ_TIMEOUT_USEC_DEFAULT;

        a->limits_bytes_unidentified = AUTHZ_LIMITS_DEFAULT.bytes_unidentified;
        r = hashmap_new(&a->callers);
        if (r < 0)
                return r;
        r = hashmap_new(&a->admitted);
        if (r < 0)
                return r;
        r = authz_fair_new(&AUTHZ_FAIR_LIMITS_DEFAULT, &a->fair);
        if (r < 0)
                return r;
        r = hashmap_new(&a->idents);
        if (r < 0)
                return r;
        r = authz_cache_new(cache_usec, 0, &a->cache);
        if (r < 0)
                return r;
        r = authz_registry_new(&(AuthzRegistryOps){ .ref_request = ref_message,
                                                    .unref_request = unref_message,
                                                    .drop_call = unref_slot,
                                                    .userdata = a },
                               &a->registry);
        if (r < 0)
                return r;
        authz_set_timeout(a, 0);

        r = sd_bus_match_signal_async(
                bus, &a->changed_slot, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                "org.freedesktop.PolicyKit1.Authority", "Changed", on_changed, NULL, a);
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(bus, &a->owner_slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed,
                                      NULL, a);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

Authz *authz_free(Authz *a) {
        if (!a)
                return NULL;
        /* Requests still waiting get no answer: the daemon is going away, and so is its connection. */
        authz_registry_free(a->registry);
        authz_cache_free(a->cache);
        authz_fair_free(a->fair, unref_message);
        hashmap_clear(a->admitted, unref_message);
        hashmap_free(a->admitted);
        sd_event_source_disable_unref(a->admit_source);
        hashmap_clear(a->callers, free);
        hashmap_free(a->callers);
        hashmap_clear(a->idents, ident_free_void);
        hashmap_free(a->idents);
        sd_event_source_disable_unref(a->timer);
        sd_bus_slot_unref(a->changed_slot);
        sd_bus_slot_unref(a->owner_slot);
        sd_bus_unref(a->bus);
        free(a);
        return NULL;
}

void authz_freep(Authz **a) {
        authz_free(*a);
}

void authz_set_limits(Authz *a, const AuthzLimits *limits) {
        authz_registry_set_limits(a->registry, limits);
        a->limits_bytes_unidentified = limits->bytes_unidentified;
}

void authz_set_timeout(Authz *a, uint64_t usec) {
        a->timeout_usec = usec ?: AUTHZ_TIMEOUT_USEC_DEFAULT;
        /* Long enough for a handler that asks a second question (UpdateAlias) to keep the first answer. */
        authz_registry_set_linger(a->registry, a->timeout_usec + AUTHZ_LINGER_USEC_DEFAULT);
}

/* Unique names are never reused on a bus: the answer holds until the connection leaves. */
static int remember_caller(Authz *a, const char *sender, const Caller *c) {
        Caller *known;
        int r;

        /* Known already: a blocking fallback (too many requests waiting) answered before the bus's
         * asynchronous answer came. A unique name is never reused, so both say the same. */
        if (hashmap_get_str(a->callers, sender))
                return 0;
        if (hashmap_size(a->callers) >= AUTHZ_CALLERS_MAX)
                hashmap_clear(a->callers, free);
        known = malloc(sizeof *known);
        if (!known)
                return -ENOMEM;
        *known = *c;
        r = hashmap_put_str(a->callers, sender, known);
        if (r < 0)
                free(known);
        return r;
}

/* The blocking way, for direct connections (no bus to ask asynchronously) and as the fallback when
 * too many requests wait already. */
static int identify_now(Authz *a, sd_bus_message *m, Caller *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender = sd_bus_message_get_sender(m);
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
        *ret = (Caller){ .uid = uid, .pid = pid };
        caller_info_read(pid, &ret->info);
        if (sender)
                (void) remember_caller(a, sender, ret); /* if not, asked again next time */
        return 1;
}

static int parse_credentials(sd_bus_message *reply, Caller *ret) {
        bool have_uid = false;
        uint32_t uid = 0, pid = 0;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL))
                return -sd_bus_message_get_errno(reply) ?: -EIO;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r > 0) {
                const char *key;

                r = sd_bus_message_enter_container(reply, 'e', "sv");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(reply, "s", &key);
                if (r >= 0 && streq(key, "UnixUserID")) {
                        r = sd_bus_message_read(reply, "v", "u", &uid);
                        have_uid = r >= 0;
                } else if (r >= 0 && streq(key, "ProcessID"))
                        r = sd_bus_message_read(reply, "v", "u", &pid);
                else if (r >= 0)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = 1;
        }
        if (r < 0)
                return r;
        if (!have_uid)
                return -EBADMSG; /* no identity, no access */
        *ret = (Caller){ .uid = uid, .pid = pid };
        caller_info_read((pid_t) pid, &ret->info);
        return 0;
}

/* The bus told us who the sender is: every request that waited for it is dispatched again, and its
 * handler, calling authz_identify() from the top, finds the answer remembered. If the bus could not
 * tell (the sender left meanwhile, or the answer is unusable), the requests are answered here, as
 * their handlers would have. */
static int on_credentials(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Ident *id = userdata;
        Authz *a = id->authz;
        Caller c;
        int r;

        r = parse_credentials(reply, &c);
        if (r >= 0)
                r = remember_caller(a, id->sender, &c);
        if (r < 0)
                log_full_errno(LOG_DEBUG, r, "Could not identify %s: %m", id->sender);

        for (size_t i = 0; i < id->n_waiting; i++) {
                sd_bus_message *m = id->waiting[i];
                int k = r;

                if (k >= 0) {
                        k = sd_bus_message_rewind(m, true);
                        if (k >= 0)
                                k = sd_bus_enqueue_for_read(a->bus, m);
                }
                if (k < 0)
                        (void) sd_bus_reply_method_errnof(m, k, "Failed to identify the caller: %m");
        }
        ident_free(hashmap_remove_str(a->idents, id->sender));
        return 1;
}

static int identify(Authz *a, sd_bus_message *m, Caller *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        Caller *known;
        uint64_t bytes;
        Ident *id;
        int r;

        if (!sender)
                return identify_now(a, m, ret);
        known = hashmap_get_str(a->callers, sender);
        if (known) {
                *ret = *known;
                return 1;
        }

        /* Ask the bus without waiting for it, so that a flood of new connections does not stall the
         * loop; the request waits in a bounded queue per sender. Past the bounds the answer is "Too
         * many requests in flight": asking and waiting there would put every other caller behind a
         * round trip through a bus busy with the flood, once per request of it. */
        id = hashmap_get_str(a->idents, sender);
        for (size_t i = 0; id && i < id->n_waiting; i++)
                if (id->waiting[i] == m)
                        return 0; /* dispatched again before the answer: keep waiting */
        bytes = message_bytes(m);
        if ((id && id->n_waiting >= IDENT_WAITING_MAX) || a->n_ident_waiting >= IDENT_WAITING_TOTAL_MAX ||
            (bytes > IDENT_SMALL_BYTES && a->ident_bytes > 0 &&
             (a->ident_bytes > a->limits_bytes_unidentified || bytes > a->limits_bytes_unidentified - a->ident_bytes))) {
                (void) sd_bus_reply_method_errorf(m, AUTHZ_ERROR_LIMIT_EXCEEDED, "Too many requests in flight");
                return 0;
        }

        if (!id) {
                id = calloc(1, sizeof *id + strlen(sender) + 1);
                if (!id)
                        return identify_now(a, m, ret);
                id->authz = a;
                strcpy(id->sender, sender);
                r = sd_bus_message_new_method_call(a->bus, &call, "org.freedesktop.DBus",
                                                   "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                                   "GetConnectionCredentials");
                if (r >= 0)
                        r = sd_bus_message_append(call, "s", sender);
                if (r >= 0)
                        r = sd_bus_call_async(a->bus, &id->slot, call, on_credentials, id, a->timeout_usec);
                if (r >= 0)
                        r = hashmap_put_str(a->idents, sender, id);
                if (r < 0) {
                        ident_free(id);
                        return identify_now(a, m, ret);
                }
        }
        id->waiting[id->n_waiting] = sd_bus_message_ref(m);
        id->bytes[id->n_waiting++] = bytes;
        a->n_ident_waiting++;
        a->ident_bytes += bytes;
        return 0;
}

/* ---- Fairness ----
 *
 * sd-bus hands us requests in the order the bus sent them, so a UID that pipelines thousands of
 * calls from hundreds of connections would put every other caller behind all of them. Instead, a
 * new request of an untrusted caller only waits in its UID's queue (a few microseconds), and the
 * daemon goes on reading. A deferred event source, below the bus's priority, runs once the bus has
 * nothing more to read, and lets a few requests through, one UID after the other, by putting them
 * back into the connection's read queue; the handler then sees them again and authz_identify()
 * lets them on. Trusted callers never queue, and neither does a request when nothing else waits
 * (others_waiting()). A request that comes back for another reason (polkit answered, a wrapping key
 * was made) has checks in the registry and does not queue again. */

#define ADMIT_PER_TURN 8U

/* Whether any other request waits: in a UID's queue, in sd-bus's read queue, or on the bus socket
 * (sd-bus reads no further than the message it parses, so the rest is there). When none does, a
 * request has nobody to be fair to and goes on at once: the quiet case costs one ioctl rather than
 * a second dispatch. */
static bool others_waiting(Authz *a) {
        uint64_t queued = 0;
        int fd, n = 0;

        if (authz_fair_count(a->fair) > 0)
                return true;
        if (sd_bus_get_n_queued_read(a->bus, &queued) < 0 || queued > 0)
                return true;
        fd = sd_bus_get_fd(a->bus);
        if (fd < 0 || ioctl(fd, FIONREAD, &n) < 0)
                return true;
        return n > 0;
}

static int on_admit(sd_event_source *s, void *userdata) {
        Authz *a = userdata;

        for (unsigned i = 0; i < ADMIT_PER_TURN; i++) {
                sd_bus_message *m = authz_fair_pop(a->fair);
                int r;

                if (!m)
                        break;
                r = hashmap_put(a->admitted, &m, sizeof m, m); /* takes the queue's reference */
                if (r >= 0) {
                        r = sd_bus_message_rewind(m, true);
                        if (r >= 0)
                                r = sd_bus_enqueue_for_read(a->bus, m);
                        if (r < 0)
                                (void) hashmap_remove(a->admitted, &m, sizeof m);
                }
                if (r < 0) {
                        log_warning_errno(r, "Failed to let a queued request through: %m");
                        (void) sd_bus_reply_method_errorf(m, AUTHZ_ERROR_LIMIT_EXCEEDED, "Too many requests in flight");
                        sd_bus_message_unref(m);
                }
        }
        return sd_event_source_set_enabled(s, authz_fair_count(a->fair) > 0 ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int admit(Authz *a, sd_bus_message *m, const Caller *caller) {
        sd_bus_message *known;
        sd_event *e = sd_bus_get_event(a->bus);
        int r;

        if (authz_is_trusted(a, caller) || !e)
                return 1;
        known = hashmap_remove(a->admitted, &m, sizeof m);
        if (known) {
                sd_bus_message_unref(known);
                return 1; /* its turn came */
        }
        if (authz_registry_find_request(a->registry, m))
                return 1; /* back after its check */
        if (!others_waiting(a))
                return 1;

        if (!a->admit_source) {
                r = sd_event_add_defer(e, &a->admit_source, on_admit, a);
                if (r >= 0)
                        r = sd_event_source_set_priority(a->admit_source, SD_EVENT_PRIORITY_NORMAL + 1);
                if (r < 0) {
                        a->admit_source = sd_event_source_disable_unref(a->admit_source);
                        return 1; /* not fair, but served */
                }
        }
        r = authz_fair_push(a->fair, caller->uid, m, message_bytes(m));
        if (r == -EDQUOT) {
                uint64_t now = now_usec();
                if (now - a->refused_audit_usec >= 1000000) {
                        if (a->refused_unaudited > 0)
                                log_warning("%zu more requests were refused as too many in flight.",
                                            a->refused_unaudited);
                        log_audit(&(AuditRecord) {
                                .operation = sd_bus_message_get_member(m),
                                .result = "LimitExceededException",
                                .uid = caller->uid,
                                .pid = caller->pid,
                        });
                        a->refused_audit_usec = now;
                        a->refused_unaudited = 0;
                } else
                        a->refused_unaudited++;
                (void) sd_bus_reply_method_errorf(m, AUTHZ_ERROR_LIMIT_EXCEEDED, "Too many requests in flight");
                return 0;
        }
        if (r < 0)
                return 1;
        sd_bus_message_ref(m);
        (void) sd_event_source_set_enabled(a->admit_source, SD_EVENT_ON);
        return 0;
}

int authz_identify(Authz *a, sd_bus_message *m, Caller *ret) {
        int r = identify(a, m, ret);
        if (r <= 0)
                return r;
        return admit(a, m, ret);
}

bool authz_is_trusted(const Authz *a, const Caller *c) {
        return c->uid == 0 || c->uid == a->self_uid;
}

static int append_details(sd_bus_message *m, const char *details, size_t size) {
        const char *end = details + size;
        int r;

        r = sd_bus_message_open_container(m, 'a', "{ss}");
        while (r >= 0 && details < end) {
                const char *value = details + strlen(details) + 1;
                if (value >= end)
                        return -EBADMSG; /* a key without its value */
                r = sd_bus_message_append(m, "{ss}", details, value);
                details = value + strlen(value) + 1;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Roughly how many bytes m keeps in memory while it waits: the sizes of its arguments. Byte arrays
 * are measured without copying; everything else is walked (once per request, when it first waits).
 * This rewinds m, which is harmless: it happens only when authz_check() is about to say "pending",
 * and the handler returns at once. */
static int weigh(sd_bus_message *m, unsigned depth, uint64_t *n) {
        for (;;) {
                const char *contents;
                char type;
                int r;

                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r <= 0)
                        return r;
                if (type == SD_BUS_TYPE_ARRAY && strchr("ybnqiuxtd", contents[0]) && contents[1] == 0) {
                        const void *p;
                        size_t size;
                        r = sd_bus_message_read_array(m, contents[0], &p, &size);
                        *n += size + 8;
                } else if (strchr("arve", type)) {
                        if (depth >= 64)
                                return -EBADMSG;
                        r = sd_bus_message_enter_container(m, type, contents);
                        if (r >= 0)
                                r = weigh(m, depth + 1, n);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        *n += 8;
                } else if (strchr("sog", type)) {
                        const char *v;
                        r = sd_bus_message_read_basic(m, type, &v);
                        if (r >= 0)
                                *n += strlen(v) + 8;
                } else {
                        uint64_t v;
                        r = sd_bus_message_read_basic(m, type, &v);
                        *n += 8;
                }
                if (r < 0)
                        return r;
        }
}

static uint64_t message_bytes(sd_bus_message *m) {
        uint64_t n = 0;

        /* A message that cannot be walked counts as what was walked of it; the count is a budget, not a
         * security decision. */
        if (sd_bus_message_rewind(m, true) >= 0)
                (void) weigh(m, 0, &n);
        (void) sd_bus_message_rewind(m, true);
        return n;
}

static int start_check(Authz *a, sd_bus_message *m, const char *sender, const Caller *caller,
                       const char *action, const char *details, size_t details_size, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        bool interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;
        sd_bus_slot *slot = NULL;
        AuthzCheck *c;
        int r;

        r = authz_registry_add(a->registry, m, sender, caller->uid, action, details, details_size,
                               authz_registry_find_request(a->registry, m) ? 0 : message_bytes(m),
                               now_usec() + a->timeout_usec, &c);
        if (r == -EDQUOT) {
                (void) sd_bus_error_set(error, AUTHZ_ERROR_LIMIT_EXCEEDED, "Too many requests in flight");
                return -E2BIG;
        }
        if (r < 0) {
                log_warning_errno(r, "Failed to register a polkit check of %s: %m", action);
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied: polkit could not be asked.");
        }

        r = sd_bus_message_new_method_call(a->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender,
                                          action);
        if (r >= 0)
                r = append_details(call, details, details_size);
        if (r >= 0)
                r = sd_bus_message_append(call, "us", (uint32_t) interactive, "");
        /* A finite timeout even when polkit may be waiting for a password: a caller's agent that
         * never answers must not hold one of the daemon's reply slots on the bus for good. */
        if (r >= 0)
                r = sd_bus_call_async(a->bus, &slot, call, on_check_reply, c, a->timeout_usec);
        if (r < 0) {
                authz_registry_remove(a->registry, c);
                log_warning_errno(r, "Failed to ask polkit about %s: %m", action);
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied: polkit is not reachable.");
        }
        authz_check_set_call(c, slot);
        arm_timer(a);
        return 0;
}

int authz_check(Authz *a, sd_bus_message *m, const Caller *caller, Action action, const char *details,
                size_t details_size, sd_bus_error *error) {
        const char *id = action_to_string(action), *sender;
        AuthzCheck *c;

        if (!id)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: unknown action.");
        if (authz_is_trusted(a, caller))
                return 2;
        sender = sd_bus_message_get_sender(m);
        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "The caller has no bus name.");
        if (details_size > AUTHZ_DETAILS_MAX)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied: too many details.");
        if (details_size > 0 && (!details || details[details_size - 1] != 0))
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied: malformed details.");

        if (authz_cache_lookup(a->cache, sender, id, details, details_size, now_usec())) {
                counters.polkit_cache_hits++;
                return 2;
        }

        c = authz_registry_find(a->registry, m, id, details, details_size);
        if (!c)
                return start_check(a, m, sender, caller, id, details, details_size, error);

        switch (authz_check_get_answer(c)) {
        case AUTHZ_PENDING:
                return 0; /* dispatched again before the answer came; keep waiting */
        case AUTHZ_ALLOWED:
                (void) authz_cache_insert(a->cache, sender, id, details, details_size, now_usec());
                return 1;
        case AUTHZ_CHALLENGE:
                if (sd_bus_message_get_allow_interactive_authorization(m) <= 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                                 "%s needs authentication; call again allowing interactive "
                                                 "authorization.",
                                                 id);
                /* fall through */
        case AUTHZ_DENIED:
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: %s is not allowed.", id);
        case AUTHZ_TIMEOUT:
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied: polkit did not answer in time.");
        default:
                /* Fail closed: no polkit, no answer, no access. */
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied: polkit could not decide.");
        }
}

void authz_release(Authz *a, sd_bus_message *m) {
        if (!a)
                return;
        authz_registry_release(a->registry, m);
        arm_timer(a);
}

size_t authz_count_checks(const Authz *a) {
        return a ? authz_registry_count(a->registry) : 0;
}

size_t authz_count_cached(const Authz *a) {
        return a ? authz_cache_size(a->cache) : 0;
}

size_t authz_count_identifying(const Authz *a) {
        return a ? a->n_ident_waiting : 0;
}
