/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The two data structures under daemon/authz.c, kept free of sd-bus so that they can be tested
 * without a bus: the cache of allowed polkit answers per (sender, action, details), and the registry
 * of checks indexed by request message, with their deadlines, the caps per sender, per UID and in
 * total, and the byte budgets of the requests they keep. Times are passed in (an injected clock). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "hashmap.h"
#include "macro.h"

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

uint64_t authz_check_get_deadline(const AuthzCheck *c) {
        return c->deadline;
}

void *authz_check_get_userdata(const AuthzCheck *c) {
        return c->request->registry->ops.userdata;
}
