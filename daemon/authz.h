/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization in one module: who the caller is, whether it is trusted, the details polkit rules
 * see, asynchronous polkit checks with a timeout and per-sender/per-UID caps, and the cache of
 * allowed answers (daemon/authz.c, over the data structures of daemon/authz-registry.c). A method
 * handler calls, in this order:
 *
 *         r = authz_identify(a, m, &caller);
 *         if (r < 0) return sd_bus_error_set_errnof(error, r, ...);
 *         if (r == 0) return 1;                                  the bus is asked: m comes back later
 *         ...validate arguments, resolve the key, authz_key_details()...
 *         r = authz_check(a, m, &caller, action, details, size, error);
 *         if (r < 0) { authz_release(a, m); return r; }          error is set
 *         if (r == 0) return 1;                                  pending: m comes back later
 *         ...change state, reply...
 *         authz_release(a, m);                                   on every path that ends the request
 *
 * The cache and the registry of pending checks are plain data structures below the Authz object,
 * with their own functions and an injected clock, so that they can be tested without a bus. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "caller-info.h"

#include "kms.h"

typedef enum Action {
        ACTION_CREATE_KEY,
        ACTION_GENERATE_MAC,
        ACTION_VERIFY_MAC,
        ACTION_DESCRIBE_KEY,
        ACTION_LIST_KEYS,
        ACTION_MANAGE_KEY,
        ACTION_DELETE_KEY,
        ACTION_IMPORT_KEY_MATERIAL,
        ACTION_MANAGE_ALIAS, /* who may hold which alias name: details alias_name */
        ACTION_ROTATE_KEY,   /* rotation, verify window and retirement of key materials */
        _ACTION_MAX,
        _ACTION_INVALID = -22,
} Action;

typedef struct Caller {
        uid_t uid;
        pid_t pid;
        CallerInfo info; /* command name and unit, for the audit trail only */
} Caller;

/* The polkit action IDs ("io.hmacd.generate-mac"). */
const char *action_to_string(Action a);
Action action_from_string(const char *s);

#define AUTHZ_ERROR_LIMIT_EXCEEDED HMACD_ERROR_PREFIX "LimitExceededException"
#define AUTHZ_DETAILS_MAX          (64U * 1024U)
#define AUTHZ_TIMEOUT_USEC_DEFAULT (25ULL * 1000000ULL)
#define AUTHZ_LINGER_USEC_DEFAULT  (30ULL * 1000000ULL)
#define AUTHZ_CACHE_MAX            8192U
#define AUTHZ_CALLERS_MAX          65536U

/* ---- The cache of allowed answers, per (sender, action, details) ---- */

typedef struct AuthzCache AuthzCache;

/* ttl_usec 0 disables the cache (lookups miss, inserts do nothing); max_entries 0 means
 * AUTHZ_CACHE_MAX. When full, an insert forgets everything first. */
int authz_cache_new(uint64_t ttl_usec, size_t max_entries, AuthzCache **ret);
AuthzCache *authz_cache_free(AuthzCache *c);
/* True when allowed less than ttl ago; an expired entry found is forgotten. */
bool authz_cache_lookup(AuthzCache *c, const char *sender, const char *action, const char *details,
                        size_t details_size, uint64_t now);
int authz_cache_insert(AuthzCache *c, const char *sender, const char *action, const char *details,
                       size_t details_size, uint64_t now);
void authz_cache_flush(AuthzCache *c);                            /* polkit's rules changed */
void authz_cache_flush_sender(AuthzCache *c, const char *sender); /* the sender left the bus */
size_t authz_cache_size(const AuthzCache *c);

/* ---- The registry of checks, indexed by request message ---- */

typedef enum AuthzAnswer {
        AUTHZ_PENDING,
        AUTHZ_ALLOWED,
        AUTHZ_DENIED,
        AUTHZ_CHALLENGE, /* polkit wants a password */
        AUTHZ_FAILED,    /* polkit unreachable, failing, or its answer malformed */
        AUTHZ_TIMEOUT,
        _AUTHZ_ANSWER_MAX,
        _AUTHZ_ANSWER_INVALID = -22,
} AuthzAnswer;

/* How many checks may be held (pending, or answered and not yet released) at once, and how many
 * bytes of request messages they may keep. A UID's (or everyone's) first request is let in
 * whatever its size, so that one large request is never locked out. */
typedef struct AuthzLimits {
        size_t per_sender;
        size_t per_uid;
        size_t total; /* keeps the daemon under the bus's max_replies_per_connection (128) */
        uint64_t bytes_per_uid;
        uint64_t bytes_total;
        /* Requests of callers the bus has not yet named (no UID to charge them to) wait for its
         * answer in one pool: one user's new connections, each with a large request, must not hold
         * more than this together with what that user may hold per UID afterwards. */
        uint64_t bytes_unidentified;
} AuthzLimits;

#define AUTHZ_LIMITS_DEFAULT                                                                                \
        ((AuthzLimits){ .per_sender = 16,                                                                   \
                        .per_uid = 64,                                                                      \
                        .total = 112,                                                                       \
                        .bytes_per_uid = 64ULL << 20,                                                       \
                        .bytes_total = 192ULL << 20,                                                        \
                        .bytes_unidentified = 64ULL << 20 })

/* The registry holds a reference to each request (ref_request/unref_request) and owns each check's
 * outstanding question (drop_call: stop waiting for it and free it; NULL calls are never passed). */
typedef struct AuthzRegistryOps {
        void *(*ref_request)(void *request);
        void (*unref_request)(void *request);
        void (*drop_call)(void *call);
        void *userdata; /* authz_check_get_userdata() */
} AuthzRegistryOps;

typedef struct AuthzRegistry AuthzRegistry;
typedef struct AuthzCheck AuthzCheck;

int authz_registry_new(const AuthzRegistryOps *ops, AuthzRegistry **ret);
AuthzRegistry *authz_registry_free(AuthzRegistry *r); /* drops every check */
void authz_registry_set_limits(AuthzRegistry *r, const AuthzLimits *limits);

/* Whether the request has checks, and the check of (request, action, details), NULL when there is none. */
bool authz_registry_find_request(AuthzRegistry *r, const void *request);
AuthzCheck *authz_registry_find(AuthzRegistry *r, const void *request, const char *action,
                                const char *details, size_t details_size);
/* A new pending check. request_bytes: the size of the request, counted with its first check.
 * -EDQUOT when a limit is reached (nothing is added), -ENOMEM, -EEXIST. */
int authz_registry_add(AuthzRegistry *r, void *request, const char *sender, uid_t uid, const char *action,
                       const char *details, size_t details_size, uint64_t request_bytes, uint64_t deadline,
                       AuthzCheck **ret);
/* Records polkit's answer to a pending check (at time now), and drops its call. */
void authz_registry_answer(AuthzRegistry *r, AuthzCheck *c, AuthzAnswer answer, uint64_t now);
/* Answers AUTHZ_TIMEOUT to every pending check whose deadline is <= now, oldest first, calling
 * answered() after each (which may release the request). Returns how many. */
size_t authz_registry_expire(AuthzRegistry *r, uint64_t now, void (*answered)(AuthzCheck *c, void *userdata),
                             void *userdata);
/* Frees the answered checks that no handler released within the linger time (default
 * AUTHZ_LINGER_USEC_DEFAULT) of their answer: a safety net for a handler that forgot
 * authz_release(). Returns how many. */
void authz_registry_set_linger(AuthzRegistry *r, uint64_t usec);
size_t authz_registry_sweep(AuthzRegistry *r, uint64_t now);
/* When expire() or sweep() next has work: UINT64_MAX when nothing is held. */
uint64_t authz_registry_next_deadline(const AuthzRegistry *r);
/* Drops one check (a pending one is cancelled), and its request when it was the last. */
void authz_registry_remove(AuthzRegistry *r, AuthzCheck *c);
/* Drops every check of the request (pending ones are cancelled). */
void authz_registry_release(AuthzRegistry *r, const void *request);
/* Drops every check of the requests of a sender that left; returns how many requests. */
size_t authz_registry_cancel_sender(AuthzRegistry *r, const char *sender);

size_t authz_registry_count(const AuthzRegistry *r);
size_t authz_registry_count_pending(const AuthzRegistry *r);
size_t authz_registry_count_sender(const AuthzRegistry *r, const char *sender);
size_t authz_registry_count_uid(const AuthzRegistry *r, uid_t uid);
uint64_t authz_registry_bytes(const AuthzRegistry *r);
uint64_t authz_registry_bytes_uid(const AuthzRegistry *r, uid_t uid);

void authz_check_set_call(AuthzCheck *c, void *call);
void *authz_check_get_request(const AuthzCheck *c);
AuthzAnswer authz_check_get_answer(const AuthzCheck *c);
const char *authz_check_get_action(const AuthzCheck *c);
/* A pending check's deadline; once answered, when it was answered. */
uint64_t authz_check_get_deadline(const AuthzCheck *c);
void *authz_check_get_userdata(const AuthzCheck *c);

/* ---- Fairness: requests of callers who are not trusted wait in a queue per UID ---- */

/* Requests queued at most, per UID and in all, in number and in bytes (beyond: -EDQUOT, answered
 * "Too many requests in flight"). A UID's first request gets in whatever its size. */
typedef struct AuthzFairLimits {
        size_t per_uid;
        size_t total;
        uint64_t bytes_per_uid;
        uint64_t bytes_total;
} AuthzFairLimits;

#define AUTHZ_FAIR_LIMITS_DEFAULT                                                                           \
        ((AuthzFairLimits){ .per_uid = 1024,                                                                \
                            .total = 16384,                                                                 \
                            .bytes_per_uid = 64ULL << 20,                                                   \
                            .bytes_total = 192ULL << 20 })

typedef struct AuthzFair AuthzFair;

int authz_fair_new(const AuthzFairLimits *limits, AuthzFair **ret);
/* drop() is called on every request still queued. */
AuthzFair *authz_fair_free(AuthzFair *f, void (*drop)(void *request));
int authz_fair_push(AuthzFair *f, uid_t uid, void *request, uint64_t bytes);
/* The next request: the oldest of the UID whose turn it is, one UID after the other. NULL: none. */
void *authz_fair_pop(AuthzFair *f);
size_t authz_fair_count(const AuthzFair *f);
size_t authz_fair_count_uid(AuthzFair *f, uid_t uid);

/* ---- The service's view ---- */

typedef struct Authz Authz;

/* One NameOwnerChanged match for everything (caller cache, pending checks, allowed answers) and
 * polkit's Changed signal. cache_usec 0 disables the allowed-answer cache. */
int authz_new(sd_bus *bus, uid_t self_uid, uint64_t cache_usec, Authz **ret);
Authz *authz_free(Authz *a);
void authz_freep(Authz **a);
void authz_set_limits(Authz *a, const AuthzLimits *limits);
/* The timeout of every CheckAuthorization call, interactive ones included (0: the default). */
void authz_set_timeout(Authz *a, uint64_t usec);

/* Who sent m, asked of the bus once per connection. Returns 1 with *ret filled, 0 when the bus is
 * being asked (asynchronously: the handler returns 1, and m is dispatched again when the answer
 * comes; if the bus cannot tell, m is answered with an error here), or a negative errno.
 * A new request of a caller who is not trusted also returns 0 the first time: it waits in its UID's
 * queue (answered "Too many requests in flight" here when that is full), and is dispatched again in
 * its UID's turn, once the daemon has read everything the bus had for it. Trusted callers never
 * wait; one UID's flood delays another UID's request by one request per UID at most. */
int authz_identify(Authz *a, sd_bus_message *m, Caller *ret);
/* uid 0 or the daemon's own uid. */
bool authz_is_trusted(const Authz *a, const Caller *c);

/* What polkit rules see of a key: "key_id\0<id>\0key_arn\0<arn>\0key_spec\0<spec>\0key_state\0<state>\0
 * owner\0<user>\0aliases\0<a,b>\0tag.<K>\0<V>\0..." in that order (ret_size bytes, the last NUL
 * included). */
int authz_key_details(const char *key_id, const char *key_arn, const char *key_spec, const char *key_state,
                      const char *owner, const char *aliases, const char *const *tag_keys,
                      const char *const *tag_values, size_t n_tags, char **ret, size_t *ret_size);

/* 2: allowed without asking (trusted caller, or a cached allowance); 1: polkit just allowed it;
 * 0: pending (m is dispatched again when the answer comes, and the handler calls this again with
 * the same action and details); a negative errno with error set: AccessDenied,
 * InteractiveAuthorizationRequired, or AUTHZ_ERROR_LIMIT_EXCEEDED "Too many requests in flight". */
int authz_check(Authz *a, sd_bus_message *m, const Caller *caller, Action action, const char *details,
                size_t details_size, sd_bus_error *error);
/* The handler of m has finished with it (replied or failed): frees m's checks at once. */
void authz_release(Authz *a, sd_bus_message *m);

/* Checks held (pending, or answered and not released yet), and cached allowances: for tests and logs. */
size_t authz_count_checks(const Authz *a);
size_t authz_count_cached(const Authz *a);
size_t authz_count_identifying(const Authz *a); /* requests waiting for GetConnectionCredentials */
