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
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "authz.h"
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

/* ---- The cache of allowed answers ----
 * Two levels: sender -> (action \0 details -> expiry), so that a sender leaving costs only its own
 * entries. Lookups build no key: the pieces are hashed as they are. */

typedef struct CacheEntry {
        uint64_t expires;
} CacheEntry;

struct AuthzCache {
        Hashmap *senders; /* sender -> Hashmap of CacheEntry */
        size_t n;
        size_t max;
        uint64_t ttl;
};

static void cache_sender_free(void *p) {
        Hashmap *entries = p;
        hashmap_clear(entries, free);
        hashmap_free(entries);
}

int authz_cache_new(uint64_t ttl_usec, size_t max_entries, AuthzCache **ret) {
        AuthzCache *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        r = hashmap_new(&c->senders);
        if (r < 0) {
                free(c);
                return r;
        }
        c->ttl = ttl_usec;
        c->max = max_entries ?: AUTHZ_CACHE_MAX;
        *ret = c;
        return 0;
}

void authz_cache_flush(AuthzCache *c) {
        if (!c)
                return;
        hashmap_clear(c->senders, cache_sender_free);
        c->n = 0;
}

AuthzCache *authz_cache_free(AuthzCache *c) {
        if (!c)
                return NULL;
        authz_cache_flush(c);
        hashmap_free(c->senders);
        free(c);
        return NULL;
}

void authz_cache_flush_sender(AuthzCache *c, const char *sender) {
        Hashmap *entries;

        if (!c || !sender)
                return;
        entries = hashmap_remove_str(c->senders, sender);
        if (!entries)
                return;
        c->n -= hashmap_size(entries);
        cache_sender_free(entries);
}

size_t authz_cache_size(const AuthzCache *c) {
        return c ? c->n : 0;
}

/* clang-format off */
#define CHECK_KEY(action, details, size) \
        (struct iovec[2]) { { (void *) (action), strlen(action) + 1 }, { (void *) ((details) ?: ""), (size) } }
/* clang-format on */

bool authz_cache_lookup(AuthzCache *c, const char *sender, const char *action, const char *details,
                        size_t details_size, uint64_t now) {
        Hashmap *entries;
        CacheEntry *e;

        if (!c || c->ttl == 0)
                return false;
        entries = hashmap_get_str(c->senders, sender);
        if (!entries)
                return false;
        e = hashmap_getv(entries, CHECK_KEY(action, details, details_size), 2);
        if (!e)
                return false;
        if (e->expires > now)
                return true;
        free(hashmap_removev(entries, CHECK_KEY(action, details, details_size), 2));
        c->n--;
        if (hashmap_size(entries) == 0)
                cache_sender_free(hashmap_remove_str(c->senders, sender));
        return false;
}

int authz_cache_insert(AuthzCache *c, const char *sender, const char *action, const char *details,
                       size_t details_size, uint64_t now) {
        Hashmap *entries;
        CacheEntry *e;
        int r;

        if (!c || c->ttl == 0)
                return 0;
        entries = hashmap_get_str(c->senders, sender);
        if (entries) {
                e = hashmap_getv(entries, CHECK_KEY(action, details, details_size), 2);
                if (e) {
                        e->expires = now + c->ttl;
                        return 0;
                }
        }
        if (c->n >= c->max) {
                authz_cache_flush(c);
                entries = NULL;
        }
        if (!entries) {
                r = hashmap_new(&entries);
                if (r < 0)
                        return r;
                r = hashmap_put_str(c->senders, sender, entries);
                if (r < 0) {
                        hashmap_free(entries);
                        return r;
                }
        }
        e = malloc(sizeof *e);
        if (!e)
                r = -ENOMEM;
        else {
                e->expires = now + c->ttl;
                r = hashmap_putv(entries, CHECK_KEY(action, details, details_size), 2, e);
        }
        if (r < 0) {
                free(e);
                if (hashmap_size(entries) == 0)
                        cache_sender_free(hashmap_remove_str(c->senders, sender));
                return r;
        }
        c->n++;
        return 0;
}

/* ---- The registry of checks ---- */

typedef struct RegSender RegSender;
typedef struct RegUser RegUser;
typedef struct RegRequest RegRequest;

struct AuthzCheck {
        RegRequest *request;
        AuthzCheck *next;                        /* the request's other checks */
        AuthzCheck *pending_prev, *pending_next; /* pending checks, by deadline */
        AuthzAnswer answer;
        uint64_t deadline;
        void *call;
        size_t key_size;
        char key[]; /* action \0 details */
};

struct RegRequest {
        AuthzRegistry *registry;
        void *request;
        RegSender *sender;
        RegUser *user;
        AuthzCheck *checks;
        uint64_t bytes;
        RegRequest *prev, *next; /* the sender's other requests */
};

struct RegSender {
        RegRequest *requests;
        size_t n_checks;
        char name[];
};

struct RegUser {
        uid_t uid;
        size_t n_checks;
        uint64_t bytes;
};

struct AuthzRegistry {
        AuthzRegistryOps ops;
        AuthzLimits limits;
        Hashmap *requests; /* request pointer -> RegRequest */
        Hashmap *senders;  /* sender name -> RegSender */
        Hashmap *users;    /* uid -> RegUser */
        AuthzCheck *pending_first, *pending_last;
        AuthzCheck *answered_first, *answered_last;
        uint64_t linger;
        size_t n_checks, n_pending;
        uint64_t bytes;
};

int authz_registry_new(const AuthzRegistryOps *ops, AuthzRegistry **ret) {
        AuthzRegistry *r;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->ops = *ops;
        r->limits = AUTHZ_LIMITS_DEFAULT;
        r->linger = AUTHZ_LINGER_USEC_DEFAULT;
        if (hashmap_new(&r->requests) < 0 || hashmap_new(&r->senders) < 0 || hashmap_new(&r->users) < 0) {
                authz_registry_free(r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

void authz_registry_set_limits(AuthzRegistry *r, const AuthzLimits *limits) {
        r->limits = *limits;
}

/* A check is in one of two lists: pending ones by deadline, answered ones by the time of the answer. */
static void list_unlink(AuthzRegistry *r, AuthzCheck *c) {
        AuthzCheck **first = c->answer == AUTHZ_PENDING ? &r->pending_first : &r->answered_first;
        AuthzCheck **last = c->answer == AUTHZ_PENDING ? &r->pending_last : &r->answered_last;

        if (c->pending_prev)
                c->pending_prev->pending_next = c->pending_next;
        else
                *first = c->pending_next;
        if (c->pending_next)
                c->pending_next->pending_prev = c->pending_prev;
        else
                *last = c->pending_prev;
        c->pending_prev = c->pending_next = NULL;
        if (c->answer == AUTHZ_PENDING)
                r->n_pending--;
}

static void answered_append(AuthzRegistry *r, AuthzCheck *c) {
        c->pending_prev = r->answered_last;
        c->pending_next = NULL;
        if (r->answered_last)
                r->answered_last->pending_next = c;
        else
                r->answered_first = c;
        r->answered_last = c;
}

/* Deadlines come in increasing order unless the timeout was shortened meanwhile: walk back from the
 * end, which is O(1) in the usual case. */
static void pending_link(AuthzRegistry *r, AuthzCheck *c) {
        AuthzCheck *after = r->pending_last;

        while (after && after->deadline > c->deadline)
                after = after->pending_prev;
        c->pending_prev = after;
        c->pending_next = after ? after->pending_next : r->pending_first;
        if (c->pending_next)
                c->pending_next->pending_prev = c;
        else
                r->pending_last = c;
        if (after)
                after->pending_next = c;
        else
                r->pending_first = c;
        r->n_pending++;
}

static void check_drop_call(AuthzRegistry *r, AuthzCheck *c) {
        void *call = TAKE_PTR(c->call);
        if (call && r->ops.drop_call)
                r->ops.drop_call(call);
}

static void check_free(AuthzRegistry *r, AuthzCheck *c) {
        list_unlink(r, c);
        check_drop_call(r, c);
        c->request->sender->n_checks--;
        c->request->user->n_checks--;
        r->n_checks--;
        free(c);
}

/* Frees one request and all its checks; the caller has unlinked it from r->requests. */
static void request_free(AuthzRegistry *r, RegRequest *q) {
        while (q->checks) {
                AuthzCheck *c = q->checks;
                q->checks = c->next;
                check_free(r, c);
        }

        if (q->prev)
                q->prev->next = q->next;
        else
                q->sender->requests = q->next;
        if (q->next)
                q->next->prev = q->prev;
        if (!q->sender->requests)
                free(hashmap_remove_str(r->senders, q->sender->name));

        q->user->bytes -= q->bytes;
        r->bytes -= q->bytes;
        if (q->user->n_checks == 0)
                free(hashmap_remove(r->users, &q->user->uid, sizeof q->user->uid));

        if (r->ops.unref_request)
                r->ops.unref_request(q->request);
        free(q);
}

void authz_registry_release(AuthzRegistry *r, const void *request) {
        RegRequest *q;

        if (!r)
                return;
        q = hashmap_remove_ptr(r->requests, request);
        if (q)
                request_free(r, q);
}

void authz_registry_remove(AuthzRegistry *r, AuthzCheck *c) {
        RegRequest *q = c->request;

        for (AuthzCheck **i = &q->checks; *i; i = &(*i)->next)
                if (*i == c) {
                        *i = c->next;
                        break;
                }
        check_free(r, c);
        if (!q->checks) {
                hashmap_remove_ptr(r->requests, q->request);
                request_free(r, q);
        }
}

size_t authz_registry_cancel_sender(AuthzRegistry *r, const char *sender) {
        RegSender *s;
        size_t n = 0;

        if (!r || !sender)
                return 0;
        s = hashmap_get_str(r->senders, sender);
        /* The last request freed frees s too: look at it only while requests remain. */
        for (bool more = s; more; n++) {
                RegRequest *q = s->requests;
                more = q->next;
                hashmap_remove_ptr(r->requests, q->request);
                request_free(r, q);
        }
        return n;
}

AuthzRegistry *authz_registry_free(AuthzRegistry *r) {
        HashmapIter i = {};
        void *q;

        if (!r)
                return NULL;
        while (hashmap_iterate(r->requests, &i, NULL, NULL, &q)) {
                hashmap_remove_current(r->requests, &i);
                request_free(r, q);
        }
        hashmap_free(r->requests);
        hashmap_free(r->senders);
        hashmap_free(r->users);
        free(r);
        return NULL;
}

bool authz_registry_find_request(AuthzRegistry *r, const void *request) {
        return hashmap_get_ptr(r->requests, request);
}

AuthzCheck *authz_registry_find(AuthzRegistry *r, const void *request, const char *action,
                                const char *details, size_t details_size) {
        size_t n = strlen(action) + 1;
        RegRequest *q;

        q = hashmap_get_ptr(r->requests, request);
        if (!q)
                return NULL;
        /* A request has one or two checks (one per key it names): a list is the right index here. */
        for (AuthzCheck *c = q->checks; c; c = c->next)
                if (c->key_size == n + details_size && memcmp(c->key, action, n) == 0 &&
                    (details_size == 0 || memcmp(c->key + n, details, details_size) == 0))
                        return c;
        return NULL;
}

static bool fits(uint64_t used, uint64_t more, uint64_t limit) {
        return used <= limit && more <= limit - used;
}

int authz_registry_add(AuthzRegistry *r, void *request, const char *sender, uid_t uid, const char *action,
                       const char *details, size_t details_size, uint64_t request_bytes, uint64_t deadline,
                       AuthzCheck **ret) {
        _cleanup_free_ RegSender *new_sender = NULL;
        _cleanup_free_ RegUser *new_user = NULL;
        _cleanup_free_ RegRequest *new_request = NULL;
        _cleanup_free_ AuthzCheck *c = NULL;
        size_t n = strlen(action) + 1;
        RegRequest *q;
        RegSender *s;
        RegUser *u;
        int k;

        if (authz_registry_find(r, request, action, details, details_size))
                return -EEXIST;

        /* A request stays with the sender and UID it was first registered under. */
        q = hashmap_get_ptr(r->requests, request);
        s = q ? q->sender : hashmap_get_str(r->senders, sender);
        u = q ? q->user : hashmap_get(r->users, &uid, sizeof uid);
        if (r->n_checks >= r->limits.total || (s && s->n_checks >= r->limits.per_sender) ||
            (u && u->n_checks >= r->limits.per_uid) || r->limits.per_sender == 0 || r->limits.per_uid == 0)
                return -EDQUOT;
        if (!q && ((u && u->bytes > 0 && !fits(u->bytes, request_bytes, r->limits.bytes_per_uid)) ||
                   (r->bytes > 0 && !fits(r->bytes, request_bytes, r->limits.bytes_total))))
                return -EDQUOT;

        if (details_size > SIZE_MAX - sizeof *c - n)
                return -E2BIG;
        c = calloc(1, sizeof *c + n + details_size);
        if (!c)
                return -ENOMEM;
        memcpy(c->key, action, n);
        if (details_size > 0)
                memcpy(c->key + n, details, details_size);
        c->key_size = n + details_size;
        c->deadline = deadline;
        c->answer = AUTHZ_PENDING;

        /* Everything that can fail first, then link, with nothing left to fail. */
        if (!q) {
                new_request = calloc(1, sizeof *new_request);
                if (!new_request)
                        return -ENOMEM;
        }
        if (!s) {
                new_sender = calloc(1, sizeof *new_sender + strlen(sender) + 1);
                if (!new_sender)
                        return -ENOMEM;
                strcpy(new_sender->name, sender);
                k = hashmap_put_str(r->senders, sender, new_sender);
                if (k < 0)
                        return k;
        }
        if (!u) {
                new_user = calloc(1, sizeof *new_user);
                if (!new_user)
                        k = -ENOMEM;
                else {
                        new_user->uid = uid;
                        k = hashmap_put(r->users, &uid, sizeof uid, new_user);
                }
                if (k < 0) {
                        if (new_sender)
                                hashmap_remove_str(r->senders, sender);
                        return k;
                }
        }
        if (new_request) {
                k = hashmap_put_ptr(r->requests, request, new_request);
                if (k < 0) {
                        if (new_sender)
                                hashmap_remove_str(r->senders, sender);
                        if (new_user)
                                hashmap_remove(r->users, &uid, sizeof uid);
                        return k;
                }
                s = new_sender ?: s;
                u = new_user ?: u;
                *new_request = (RegRequest){
                        .registry = r,
                        .request = r->ops.ref_request ? r->ops.ref_request(request) : request,
                        .sender = s,
                        .user = u,
                        .bytes = request_bytes,
                        .next = s->requests,
                };
                u->bytes += request_bytes;
                r->bytes += request_bytes;
                if (s->requests)
                        s->requests->prev = new_request;
                s->requests = new_request;
                q = TAKE_PTR(new_request);
        }
        TAKE_PTR(new_sender);
        TAKE_PTR(new_user);

        c->request = q;
        c->next = q->checks;
        q->checks = c;
        q->sender->n_checks++;
        q->user->n_checks++;
        r->n_checks++;
        pending_link(r, c);
        if (ret)
                *ret = c;
        TAKE_PTR(c);
        return 0;
}

void authz_registry_answer(AuthzRegistry *r, AuthzCheck *c, AuthzAnswer answer, uint64_t now) {
        if (c->answer != AUTHZ_PENDING)
                return;
        list_unlink(r, c);
        c->answer = answer == AUTHZ_PENDING ? AUTHZ_FAILED : answer;
        c->deadline = now; /* from now on: when it was answered */
        answered_append(r, c);
        check_drop_call(r, c);
}

void authz_registry_set_linger(AuthzRegistry *r, uint64_t usec) {
        r->linger = usec;
}

/* A safety net, not the way checks are freed: the handler that was dispatched again with the answer
 * runs within the same turn of the loop and calls authz_release(). An answer still here long after
 * is one a handler forgot, and would hold its sender's and its UID's places for good. */
size_t authz_registry_sweep(AuthzRegistry *r, uint64_t now) {
        size_t n = 0;

        while (r->answered_first && r->answered_first->deadline <= now &&
               now - r->answered_first->deadline >= r->linger) {
                authz_registry_remove(r, r->answered_first);
                n++;
        }
        return n;
}

size_t authz_registry_expire(AuthzRegistry *r, uint64_t now, void (*answered)(AuthzCheck *c, void *userdata),
                             void *userdata) {
        size_t n = 0;

        /* Re-read the head every time: answered() may release requests, this one's and others'. */
        while (r->pending_first && r->pending_first->deadline <= now) {
                AuthzCheck *c = r->pending_first;
                authz_registry_answer(r, c, AUTHZ_TIMEOUT, now);
                n++;
                if (answered)
                        answered(c, userdata);
        }
        return n;
}

uint64_t authz_registry_next_deadline(const AuthzRegistry *r) {
        uint64_t next = r->pending_first ? r->pending_first->deadline : UINT64_MAX;

        if (r->answered_first && r->answered_first->deadline <= UINT64_MAX - r->linger)
                next = MIN(next, r->answered_first->deadline + r->linger);
        return next;
}

size_t authz_registry_count(const AuthzRegistry *r) {
        return r->n_checks;
}

size_t authz_registry_count_pending(const AuthzRegistry *r) {
        return r->n_pending;
}

size_t authz_registry_count_sender(const AuthzRegistry *r, const char *sender) {
        RegSender *s = hashmap_get_str(r->senders, sender);
        return s ? s->n_checks : 0;
}

size_t authz_registry_count_uid(const AuthzRegistry *r, uid_t uid) {
        RegUser *u = hashmap_get(r->users, &uid, sizeof uid);
        return u ? u->n_checks : 0;
}

uint64_t authz_registry_bytes(const AuthzRegistry *r) {
        return r->bytes;
}

uint64_t authz_registry_bytes_uid(const AuthzRegistry *r, uid_t uid) {
        RegUser *u = hashmap_get(r->users, &uid, sizeof uid);
        return u ? u->bytes : 0;
}

void authz_check_set_call(AuthzCheck *c, void *call) {
        c->call = call;
}

void *authz_check_get_request(const AuthzCheck *c) {
        return c->request->request;
}

AuthzAnswer authz_check_get_answer(const AuthzCheck *c) {
        return c->answer;
}

const char *authz_check_get_action(const AuthzCheck *c) {
        return c->key;
}

void *authz_check_get_userdata(const AuthzCheck *c) {
        return c->request->registry->ops.userdata;
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
        uint64_t ident_bytes, limits_bytes_total;
        AuthzCache *cache;
        AuthzRegistry *registry;
};

/* A GetConnectionCredentials call in flight, and the requests of that sender waiting for it. */
#define IDENT_WAITING_MAX       16U
#define IDENT_WAITING_TOTAL_MAX 1024U

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

        a->limits_bytes_total = AUTHZ_LIMITS_DEFAULT.bytes_total;
        r = hashmap_new(&a->callers);
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
        a->limits_bytes_total = limits->bytes_total;
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

int authz_identify(Authz *a, sd_bus_message *m, Caller *ret) {
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
         * loop; the request waits in a bounded queue per sender. Past the bounds, ask and wait. */
        id = hashmap_get_str(a->idents, sender);
        if ((id && id->n_waiting >= IDENT_WAITING_MAX) || a->n_ident_waiting >= IDENT_WAITING_TOTAL_MAX)
                return identify_now(a, m, ret);
        for (size_t i = 0; id && i < id->n_waiting; i++)
                if (id->waiting[i] == m)
                        return 0; /* dispatched again before the answer: keep waiting */
        bytes = message_bytes(m);
        if (a->ident_bytes > a->limits_bytes_total || bytes > a->limits_bytes_total - a->ident_bytes)
                return identify_now(a, m, ret);

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

        if (authz_cache_lookup(a->cache, sender, id, details, details_size, now_usec()))
                return 2;

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
