/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/authz.c and daemon/authz-registry.c without polkitd or a bus daemon: the action
 * table, the polkit details of a key, the cache of allowed answers (insert, lookup, expiry, flush of all and
 * of one sender, the size bound), and the registry of pending checks (add, find, answer, release, several
 * checks per request, caps per sender, per UID and in total, cancel-by-sender, timeouts with an
 * injected clock, and that every request reference and every outstanding call is given back).
 * Requests and calls there are stand-ins that count their references: sd_bus_message_new_method_call()
 * refuses to build a message on a bus that is not connected (-ENOTCONN, with or without a bus object).
 *
 * The sd-bus glue (authz_check() asking, waiting, re-dispatching, timing out, dropping a sender
 * that leaves) is tested over a socket pair: one end is "the daemon" with an Authz, the other plays
 * both the callers (setting the sender header a bus would set) and polkit (answering
 * CheckAuthorization as each test says) and the bus driver (NameOwnerChanged). */

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "../daemon/authz.h"
#include "macro.h"

#define SEC 1000000ULL

/* ---- actions and details ---- */

Test(authz, action_names) {
        static const char *const ids[] = {
                "io.hmacd.create-key",   "io.hmacd.generate-mac",        "io.hmacd.verify-mac",
                "io.hmacd.describe-key", "io.hmacd.list-keys",           "io.hmacd.manage-key",
                "io.hmacd.delete-key",   "io.hmacd.import-key-material", "io.hmacd.manage-alias",
                "io.hmacd.rotate-key",
        };

        cr_assert_eq(ELEMENTSOF(ids), _ACTION_MAX);
        for (Action a = 0; a < _ACTION_MAX; a++)
                cr_assert_eq(action_from_string(ids[a]), a, "%s", ids[a]);
        cr_assert_eq(action_from_string("io.hmacd.everything"), _ACTION_INVALID);
        cr_assert_eq(action_from_string(NULL), _ACTION_INVALID);
}

Test(authz, key_details) {
        static const char expected[] =
                "key_id\0k1\0key_arn\0arn:hmacd:kms:local:1000:key/k1\0key_spec\0HMAC_256\0"
                "key_state\0Enabled\0owner\0alice\0aliases\0alias/a,alias/b\0tag.team\0payroll\0tag.env\0";
        const char *keys[] = { "team", "env" }, *values[] = { "payroll", "" };
        _cleanup_free_ char *d = NULL;
        size_t size;

        cr_assert_eq(authz_key_details("k1", "arn:hmacd:kms:local:1000:key/k1", "HMAC_256", "Enabled",
                                       "alice", "alias/a,alias/b", keys, values, 2, &d, &size),
                     0);
        cr_assert_eq(size, sizeof expected - 1 + 1); /* every string NUL-terminated, the last one too */
        cr_assert_eq(memcmp(d, expected, size), 0);
        free(TAKE_PTR(d));

        /* No aliases, no tags: the empty string, and nothing after it. */
        cr_assert_eq(authz_key_details("k1", "arn", "HMAC_512", "Disabled", "bob", NULL, NULL, NULL, 0, &d,
                                       &size),
                     0);
        cr_assert_eq(size, sizeof "key_id\0k1\0key_arn\0arn\0key_spec\0HMAC_512\0key_"
                                  "state\0Disabled\0owner\0bob\0aliases\0");
        cr_assert_eq(d[size - 1], 0);
        cr_assert_eq(d[size - 2], 0); /* aliases "" */
}

/* ---- the cache ---- */

#define D1 "key_id\0k1\0"
#define D2 "key_id\0k2\0"

Test(authz_cache, disabled) {
        AuthzCache *c;

        cr_assert_eq(authz_cache_new(0, 0, &c), 0);
        cr_assert_eq(authz_cache_insert(c, ":1.1", "a", D1, sizeof D1 - 1, 100), 0);
        cr_assert_not(authz_cache_lookup(c, ":1.1", "a", D1, sizeof D1 - 1, 100));
        cr_assert_eq(authz_cache_size(c), 0);
        cr_assert_null(authz_cache_free(c));
        cr_assert_null(authz_cache_free(NULL));
}

Test(authz_cache, insert_lookup_expiry) {
        AuthzCache *c;

        cr_assert_eq(authz_cache_new(30 * SEC, 0, &c), 0);
        cr_assert_eq(authz_cache_insert(c, ":1.1", "a", D1, sizeof D1 - 1, 1000), 0);
        cr_assert_eq(authz_cache_size(c), 1);
        cr_assert(authz_cache_lookup(c, ":1.1", "a", D1, sizeof D1 - 1, 1000));
        cr_assert(authz_cache_lookup(c, ":1.1", "a", D1, sizeof D1 - 1, 1000 + 30 * SEC - 1));

        /* Any piece different: another check. */
        cr_assert_not(authz_cache_lookup(c, ":1.2", "a", D1, sizeof D1 - 1, 1000));
        cr_assert_not(authz_cache_lookup(c, ":1.1", "b", D1, sizeof D1 - 1, 1000));
        cr_assert_not(authz_cache_lookup(c, ":1.1", "a", D2, sizeof D2 - 1, 1000));
        cr_assert_not(authz_cache_lookup(c, ":1.1", "a", D1, sizeof D1 - 2, 1000));
        cr_assert_not(authz_cache_lookup(c, ":1.1", "a", NULL, 0, 1000));
        /* A piece's end is part of the key: "a" + "b..." is not "ab" + "...". */
        cr_assert_eq(authz_cache_insert(c, ":1.1", "x", "y\0", 2, 1000), 0);
        cr_assert_not(authz_cache_lookup(c, ":1.1", "x\0y", NULL, 0, 1000));
        cr_assert_eq(authz_cache_size(c), 2);

        /* Expired: a miss, and the entry is gone. */
        cr_assert_not(authz_cache_lookup(c, ":1.1", "a", D1, sizeof D1 - 1, 1000 + 30 * SEC));
        cr_assert_eq(authz_cache_size(c), 1);

        /* Inserting again refreshes. */
        cr_assert_eq(authz_cache_insert(c, ":1.1", "a", NULL, 0, 2000), 0);
        cr_assert_eq(authz_cache_insert(c, ":1.1", "a", NULL, 0, 2000 + 20 * SEC), 0);
        cr_assert_eq(authz_cache_size(c), 2);
        cr_assert(authz_cache_lookup(c, ":1.1", "a", NULL, 0, 2000 + 40 * SEC));
        authz_cache_free(c);
}

Test(authz_cache, flush_all_and_per_sender) {
        AuthzCache *c;
        char sender[16];

        cr_assert_eq(authz_cache_new(30 * SEC, 0, &c), 0);
        for (int s = 0; s < 10; s++) {
                snprintf(sender, sizeof sender, ":1.%d", s);
                cr_assert_eq(authz_cache_insert(c, sender, "a", D1, sizeof D1 - 1, 0), 0);
                cr_assert_eq(authz_cache_insert(c, sender, "a", D2, sizeof D2 - 1, 0), 0);
        }
        cr_assert_eq(authz_cache_size(c), 20);

        authz_cache_flush_sender(c, ":1.3");
        authz_cache_flush_sender(c, ":1.3");
        authz_cache_flush_sender(c, ":1.99");
        cr_assert_eq(authz_cache_size(c), 18);
        cr_assert_not(authz_cache_lookup(c, ":1.3", "a", D1, sizeof D1 - 1, 0));
        cr_assert(authz_cache_lookup(c, ":1.4", "a", D1, sizeof D1 - 1, 0));

        /* The last entry of a sender expiring takes the sender along; inserting brings it back. */
        cr_assert_not(authz_cache_lookup(c, ":1.5", "a", D1, sizeof D1 - 1, 31 * SEC));
        cr_assert_not(authz_cache_lookup(c, ":1.5", "a", D2, sizeof D2 - 1, 31 * SEC));
        cr_assert_eq(authz_cache_size(c), 16);
        cr_assert_eq(authz_cache_insert(c, ":1.5", "a", D1, sizeof D1 - 1, 31 * SEC), 0);
        cr_assert(authz_cache_lookup(c, ":1.5", "a", D1, sizeof D1 - 1, 31 * SEC));

        authz_cache_flush(c);
        cr_assert_eq(authz_cache_size(c), 0);
        cr_assert_not(authz_cache_lookup(c, ":1.4", "a", D1, sizeof D1 - 1, 0));
        authz_cache_free(c);
}

Test(authz_cache, bounded) {
        AuthzCache *c;
        char details[32];

        cr_assert_eq(authz_cache_new(30 * SEC, 100, &c), 0);
        for (int i = 0; i < 100; i++) {
                int n = snprintf(details, sizeof details, "key_id%c%d", 0, i) + 1;
                cr_assert_eq(authz_cache_insert(c, ":1.1", "a", details, n, 0), 0);
        }
        cr_assert_eq(authz_cache_size(c), 100);
        /* Full: forget everything, then remember the new one. */
        cr_assert_eq(authz_cache_insert(c, ":1.2", "a", D1, sizeof D1 - 1, 0), 0);
        cr_assert_eq(authz_cache_size(c), 1);
        cr_assert(authz_cache_lookup(c, ":1.2", "a", D1, sizeof D1 - 1, 0));
        authz_cache_free(c);
}

/* ---- the registry ---- */

/* A request stands for an sd_bus_message: it counts the references the registry holds. */
typedef struct FakeRequest {
        int refs;
} FakeRequest;

static int calls_live, calls_dropped;

static void *fake_ref(void *p) {
        ((FakeRequest *) p)->refs++;
        return p;
}

static void fake_unref(void *p) {
        FakeRequest *q = p;
        cr_assert_gt(q->refs, 0);
        q->refs--;
}

static void fake_drop_call(void *call) {
        free(call);
        calls_live--;
        calls_dropped++;
}

static void *new_call(void) {
        void *p = malloc(1);
        cr_assert_not_null(p);
        calls_live++;
        return p;
}

static AuthzRegistry *new_registry(void) {
        AuthzRegistry *r;

        calls_live = calls_dropped = 0;
        cr_assert_eq(authz_registry_new(&(AuthzRegistryOps){ .ref_request = fake_ref,
                                                             .unref_request = fake_unref,
                                                             .drop_call = fake_drop_call,
                                                             .userdata = &calls_live },
                                        &r),
                     0);
        return r;
}

/* Adds a check with an outstanding call, the way start_check() does. */
static int add(AuthzRegistry *r, FakeRequest *q, const char *sender, uid_t uid, const char *details,
               uint64_t deadline, AuthzCheck **ret) {
        AuthzCheck *c;
        int k;

        k = authz_registry_add(r, q, sender, uid, "io.hmacd.generate-mac", details,
                               details ? strlen(details) + 1 : 0, 0, deadline, &c);
        if (k >= 0) {
                authz_check_set_call(c, new_call());
                if (ret)
                        *ret = c;
        }
        return k;
}

static AuthzCheck *find(AuthzRegistry *r, FakeRequest *q, const char *details) {
        return authz_registry_find(r, q, "io.hmacd.generate-mac", details,
                                   details ? strlen(details) + 1 : 0);
}

Test(authz_registry, add_find_answer_release) {
        AuthzRegistry *r = new_registry();
        FakeRequest q = {}, other = {};
        AuthzCheck *c;

        cr_assert_null(find(r, &q, "k1"));
        cr_assert_eq(add(r, &q, ":1.1", 1000, "k1", 25 * SEC, &c), 0);
        cr_assert_eq(q.refs, 1);
        cr_assert_eq(find(r, &q, "k1"), c);
        cr_assert_null(find(r, &q, "k2"));
        cr_assert_null(find(r, &q, NULL));
        cr_assert_null(find(r, &other, "k1"));
        cr_assert_null(authz_registry_find(r, &q, "io.hmacd.verify-mac", "k1", 3));
        cr_assert_eq(authz_check_get_request(c), &q);
        cr_assert_str_eq(authz_check_get_action(c), "io.hmacd.generate-mac");
        cr_assert_eq(authz_check_get_userdata(c), &calls_live);
        cr_assert_eq(authz_check_get_answer(c), AUTHZ_PENDING);
        cr_assert_eq(add(r, &q, ":1.1", 1000, "k1", 25 * SEC, NULL), -EEXIST);
        cr_assert_eq(authz_registry_count(r), 1);
        cr_assert_eq(authz_registry_count_pending(r), 1);
        cr_assert_eq(authz_registry_count_sender(r, ":1.1"), 1);
        cr_assert_eq(authz_registry_count_uid(r, 1000), 1);
        cr_assert_eq(authz_registry_next_deadline(r), 25 * SEC);

        /* The answer drops the call and stays until the handler is done. */
        authz_registry_answer(r, c, AUTHZ_ALLOWED, 0);
        cr_assert_eq(authz_check_get_answer(c), AUTHZ_ALLOWED);
        cr_assert_eq(calls_live, 0);
        cr_assert_eq(authz_registry_count_pending(r), 0);
        cr_assert_eq(authz_registry_next_deadline(r), AUTHZ_LINGER_USEC_DEFAULT); /* the safety net's */
        authz_registry_answer(r, c, AUTHZ_DENIED, 0); /* a second answer changes nothing */
        cr_assert_eq(authz_check_get_answer(c), AUTHZ_ALLOWED);
        cr_assert_eq(find(r, &q, "k1"), c);
        cr_assert_eq(q.refs, 1);

        authz_registry_release(r, &q);
        cr_assert_eq(q.refs, 0);
        cr_assert_null(find(r, &q, "k1"));
        cr_assert_eq(authz_registry_count(r), 0);
        cr_assert_eq(authz_registry_count_sender(r, ":1.1"), 0);
        cr_assert_eq(authz_registry_count_uid(r, 1000), 0);
        authz_registry_release(r, &q); /* twice is harmless */
        authz_registry_free(r);
        cr_assert_eq(calls_dropped, 1);
}

/* UpdateAlias checks two keys for one request: the first answer is still there on the re-run
 * that asks the second question. */
Test(authz_registry, two_checks_per_request) {
        AuthzRegistry *r = new_registry();
        FakeRequest q = {};
        AuthzCheck *c1, *c2;

        cr_assert_eq(add(r, &q, ":1.1", 1000, "k1", 25 * SEC, &c1), 0);
        authz_registry_answer(r, c1, AUTHZ_ALLOWED, 0);
        cr_assert_eq(add(r, &q, ":1.1", 1000, "k2", 26 * SEC, &c2), 0);
        cr_assert_eq(q.refs, 1);
        cr_assert_eq(find(r, &q, "k1"), c1);
        cr_assert_eq(find(r, &q, "k2"), c2);
        cr_assert_eq(authz_registry_count_sender(r, ":1.1"), 2);
        cr_assert_eq(authz_registry_count_pending(r), 1);

        /* The handler finishes while the second is pending: its call is cancelled. */
        authz_registry_release(r, &q);
        cr_assert_eq(q.refs, 0);
        cr_assert_eq(calls_live, 0);
        cr_assert_eq(calls_dropped, 2);
        cr_assert_eq(authz_registry_count(r), 0);
        cr_assert_eq(authz_registry_count_pending(r), 0);
        authz_registry_free(r);
}

Test(authz_registry, remove_one_check) {
        AuthzRegistry *r = new_registry();
        FakeRequest q = {};
        AuthzCheck *c1, *c2;

        cr_assert_eq(add(r, &q, ":1.1", 1000, "k1", 25 * SEC, &c1), 0);
        cr_assert_eq(add(r, &q, ":1.1", 1000, "k2", 25 * SEC, &c2), 0);
        authz_registry_remove(r, c2);
        cr_assert_null(find(r, &q, "k2"));
        cr_assert_eq(find(r, &q, "k1"), c1);
        cr_assert_eq(q.refs, 1);
        authz_registry_remove(r, c1);
        cr_assert_eq(q.refs, 0);
        cr_assert_eq(authz_registry_count(r), 0);
        cr_assert_eq(authz_registry_count_uid(r, 1000), 0);
        cr_assert_eq(calls_live, 0);
        authz_registry_free(r);
}

Test(authz_registry, caps_per_sender_uid_total) {
        AuthzRegistry *r = new_registry();
        FakeRequest q[200] = {};
        char sender[16];
        AuthzLimits limits = AUTHZ_LIMITS_DEFAULT;
        size_t n = 0;

        cr_assert_eq(AUTHZ_LIMITS_DEFAULT.per_sender, 16);
        cr_assert_eq(AUTHZ_LIMITS_DEFAULT.per_uid, 64);

        /* 16 per sender. */
        for (int i = 0; i < 16; i++)
                cr_assert_eq(add(r, &q[n++], ":1.1", 1000, "k", 25 * SEC, NULL), 0);
        cr_assert_eq(add(r, &q[n], ":1.1", 1000, "k", 25 * SEC, NULL), -EDQUOT);
        cr_assert_eq(q[n].refs, 0);
        cr_assert_eq(authz_registry_count_sender(r, ":1.1"), 16);

        /* 64 per UID, however many connections. */
        for (int s = 2; s <= 4; s++)
                for (int i = 0; i < 16; i++) {
                        snprintf(sender, sizeof sender, ":1.%d", s);
                        cr_assert_eq(add(r, &q[n++], sender, 1000, "k", 25 * SEC, NULL), 0);
                }
        cr_assert_eq(authz_registry_count_uid(r, 1000), 64);
        cr_assert_eq(add(r, &q[n], ":1.5", 1000, "k", 25 * SEC, NULL), -EDQUOT);
        cr_assert_eq(authz_registry_count_sender(r, ":1.5"), 0);

        /* Others are not affected. */
        cr_assert_eq(add(r, &q[n++], ":1.6", 1001, "k", 25 * SEC, NULL), 0);
        cr_assert_eq(authz_registry_count(r), 65);

        /* A released request gives its place back. */
        authz_registry_release(r, &q[0]);
        cr_assert_eq(add(r, &q[n++], ":1.5", 1000, "k", 25 * SEC, NULL), 0);
        cr_assert_eq(add(r, &q[n], ":1.7", 1000, "k", 25 * SEC, NULL), -EDQUOT);

        /* The total, across UIDs: keeps the daemon under the bus's limit of pending replies. */
        limits.total = 70;
        authz_registry_set_limits(r, &limits);
        for (uid_t u = 2000; authz_registry_count(r) < 70; u++)
                cr_assert_eq(add(r, &q[n++], ":1.8", u, "k", 25 * SEC, NULL), 0);
        cr_assert_eq(add(r, &q[n], ":1.9", 3000, "k", 25 * SEC, NULL), -EDQUOT);

        authz_registry_free(r);
        for (size_t i = 0; i < ELEMENTSOF(q); i++)
                cr_assert_eq(q[i].refs, 0, "request %zu still referenced", i);
        cr_assert_eq(calls_live, 0);
}

/* Request bodies kept while waiting are bounded in bytes per UID and in total; a request is
 * counted once however many checks it has, and its bytes come back when it is released. */
Test(authz_registry, byte_budgets) {
        AuthzRegistry *r = new_registry();
        AuthzLimits limits = AUTHZ_LIMITS_DEFAULT;
        FakeRequest q[10] = {};
        const uint64_t MiB = 1ULL << 20;

        limits.bytes_per_uid = 40 * MiB;
        limits.bytes_total = 70 * MiB;
        authz_registry_set_limits(r, &limits);

        /* The first is let in whatever its size. */
        cr_assert_eq(authz_registry_add(r, &q[0], ":1.1", 1000, "a", "k\0", 2, 50 * MiB, 10, NULL), 0);
        cr_assert_eq(authz_registry_add(r, &q[1], ":1.1", 1000, "a", "k\0", 2, 1, 10, NULL), -EDQUOT);
        authz_registry_release(r, &q[0]);
        cr_assert_eq(authz_registry_bytes(r), 0);

        cr_assert_eq(authz_registry_add(r, &q[0], ":1.1", 1000, "a", "k\0", 2, 16 * MiB, 10, NULL), 0);
        cr_assert_eq(authz_registry_add(r, &q[0], ":1.1", 1000, "b", "k\0", 2, 16 * MiB, 10, NULL), 0);
        cr_assert_eq(authz_registry_bytes_uid(r, 1000), 16 * MiB); /* one request, counted once */
        cr_assert_eq(authz_registry_add(r, &q[1], ":1.2", 1000, "a", "k\0", 2, 16 * MiB, 10, NULL), 0);
        cr_assert_eq(authz_registry_add(r, &q[2], ":1.3", 1000, "a", "k\0", 2, 16 * MiB, 10, NULL), -EDQUOT);
        cr_assert_eq(authz_registry_add(r, &q[2], ":1.3", 1000, "a", "k\0", 2, 8 * MiB, 10, NULL), 0);
        cr_assert_eq(authz_registry_bytes_uid(r, 1000), 40 * MiB);

        /* Another user, up to the total. */
        cr_assert_eq(authz_registry_add(r, &q[3], ":1.4", 1001, "a", "k\0", 2, 30 * MiB, 10, NULL), 0);
        cr_assert_eq(authz_registry_add(r, &q[4], ":1.5", 1002, "a", "k\0", 2, 1, 10, NULL), -EDQUOT);
        cr_assert_eq(authz_registry_bytes(r), 70 * MiB);

        authz_registry_release(r, &q[1]);
        cr_assert_eq(authz_registry_bytes_uid(r, 1000), 24 * MiB);
        cr_assert_eq(authz_registry_add(r, &q[4], ":1.5", 1002, "a", "k\0", 2, 16 * MiB, 10, NULL), 0);
        cr_assert_eq(authz_registry_cancel_sender(r, ":1.1"), 1);
        cr_assert_eq(authz_registry_bytes_uid(r, 1000), 8 * MiB);
        cr_assert_eq(authz_registry_bytes(r), 54 * MiB);
        authz_registry_free(r);
        for (size_t i = 0; i < ELEMENTSOF(q); i++)
                cr_assert_eq(q[i].refs, 0);
}

Test(authz_registry, cancel_by_sender) {
        AuthzRegistry *r = new_registry();
        FakeRequest q[10] = {};
        AuthzCheck *c;

        for (int i = 0; i < 6; i++)
                cr_assert_eq(add(r, &q[i], i % 2 ? ":1.1" : ":1.2", 1000, "k", 25 * SEC, &c), 0);
        /* One of the leaving sender's requests answered already (waiting to be dispatched again). */
        authz_registry_answer(r, c, AUTHZ_DENIED, 0);
        cr_assert_eq(add(r, &q[5], ":1.1", 1000, "k2", 25 * SEC, NULL), 0);

        cr_assert_eq(authz_registry_cancel_sender(r, ":1.1"), 3);
        for (int i = 0; i < 6; i++)
                cr_assert_eq(q[i].refs, i % 2 ? 0 : 1);
        cr_assert_eq(authz_registry_count_sender(r, ":1.1"), 0);
        cr_assert_eq(authz_registry_count_sender(r, ":1.2"), 3);
        cr_assert_eq(authz_registry_count_uid(r, 1000), 3);
        cr_assert_eq(authz_registry_count_pending(r), 3);
        cr_assert_eq(calls_live, 3);
        cr_assert_null(find(r, &q[1], "k"));
        cr_assert_eq(authz_registry_cancel_sender(r, ":1.1"), 0);
        cr_assert_eq(authz_registry_cancel_sender(r, ":1.404"), 0);

        /* The sender's name can be registered again (on a real bus it never is). */
        cr_assert_eq(add(r, &q[7], ":1.1", 1000, "k", 25 * SEC, NULL), 0);
        cr_assert_eq(authz_registry_cancel_sender(r, ":1.2"), 3);
        cr_assert_eq(authz_registry_count(r), 1);
        authz_registry_free(r);
        for (size_t i = 0; i < ELEMENTSOF(q); i++)
                cr_assert_eq(q[i].refs, 0);
        cr_assert_eq(calls_live, 0);
}

static AuthzCheck *expired[16];
static size_t n_expired;

static void on_expired(AuthzCheck *c, void *userdata) {
        AuthzRegistry *r = userdata;

        cr_assert_eq(authz_check_get_answer(c), AUTHZ_TIMEOUT);
        cr_assert_lt(n_expired, ELEMENTSOF(expired));
        expired[n_expired++] = c;
        /* What redispatch() does when the message cannot be put back: release it, right here. */
        if (((FakeRequest *) authz_check_get_request(c))->refs > 1)
                authz_registry_release(r, authz_check_get_request(c));
}

Test(authz_registry, timeouts) {
        AuthzRegistry *r = new_registry();
        FakeRequest q[6] = {};
        AuthzCheck *c[6];

        n_expired = 0;
        /* Deadlines 10, 20, 30, 40 s, then one added later with a shorter timeout (15 s). */
        for (int i = 0; i < 4; i++)
                cr_assert_eq(add(r, &q[i], ":1.1", 1000, "k", (uint64_t) (i + 1) * 10 * SEC, &c[i]), 0);
        cr_assert_eq(add(r, &q[4], ":1.2", 1000, "k", 15 * SEC, &c[4]), 0);
        cr_assert_eq(authz_registry_next_deadline(r), 10 * SEC);

        cr_assert_eq(authz_registry_expire(r, 10 * SEC - 1, on_expired, r), 0);
        cr_assert_eq(authz_registry_expire(r, 10 * SEC, on_expired, r), 1);
        cr_assert_eq(expired[0], c[0]);
        cr_assert_eq(authz_registry_next_deadline(r), 15 * SEC);

        /* Answered before its deadline: never times out. */
        authz_registry_answer(r, c[1], AUTHZ_ALLOWED, 0);
        cr_assert_eq(authz_registry_expire(r, 35 * SEC, on_expired, r), 2);
        cr_assert_eq(expired[1], c[4]);
        cr_assert_eq(expired[2], c[2]);
        cr_assert_eq(authz_check_get_answer(c[1]), AUTHZ_ALLOWED);
        cr_assert_eq(authz_registry_next_deadline(r), 40 * SEC);
        cr_assert_eq(calls_live, 1);

        /* The timed-out checks stay, answered, until their handler releases them. */
        cr_assert_eq(find(r, &q[0], "k"), c[0]);
        cr_assert_eq(authz_registry_count(r), 5);
        cr_assert_eq(authz_registry_count_pending(r), 1);

        /* answered() may release the request it is told about. */
        q[3].refs++; /* someone else (sd-bus's read queue) holds it too */
        cr_assert_eq(authz_registry_expire(r, UINT64_MAX - 1, on_expired, r), 1);
        cr_assert_eq(q[3].refs, 1);
        q[3].refs--;
        cr_assert_null(find(r, &q[3], "k"));
        cr_assert_eq(authz_registry_count_pending(r), 0);
        cr_assert_eq(authz_registry_next_deadline(r), 10 * SEC + AUTHZ_LINGER_USEC_DEFAULT); /* c[0]'s */
        cr_assert_eq(authz_registry_expire(r, UINT64_MAX, on_expired, r), 0);

        authz_registry_free(r);
        for (size_t i = 0; i < ELEMENTSOF(q); i++)
                cr_assert_eq(q[i].refs, 0);
        cr_assert_eq(calls_live, 0);
        cr_assert_eq(calls_dropped, 5);
}

/* Answers a handler never released are freed after the linger time, oldest first; pending checks
 * and fresh answers are not touched. */
Test(authz_registry, sweep_forgotten_answers) {
        AuthzRegistry *r = new_registry();
        FakeRequest q[4] = {};
        AuthzCheck *c[4];

        authz_registry_set_linger(r, 5 * SEC);
        for (int i = 0; i < 4; i++)
                cr_assert_eq(add(r, &q[i], ":1.1", 1000, "k", 100 * SEC, &c[i]), 0);
        authz_registry_answer(r, c[0], AUTHZ_ALLOWED, 1 * SEC);
        authz_registry_answer(r, c[1], AUTHZ_DENIED, 2 * SEC);
        authz_registry_answer(r, c[2], AUTHZ_ALLOWED, 3 * SEC);
        cr_assert_eq(authz_registry_next_deadline(r), 6 * SEC);

        cr_assert_eq(authz_registry_sweep(r, 6 * SEC - 1), 0);
        cr_assert_eq(authz_registry_sweep(r, 7 * SEC), 2);
        cr_assert_null(find(r, &q[0], "k"));
        cr_assert_null(find(r, &q[1], "k"));
        cr_assert_eq(q[0].refs + q[1].refs, 0);
        cr_assert_eq(find(r, &q[2], "k"), c[2]);
        cr_assert_eq(authz_registry_next_deadline(r), 8 * SEC);

        /* Released in time: nothing left to sweep but the pending one, which only times out. */
        authz_registry_release(r, &q[2]);
        cr_assert_eq(authz_registry_next_deadline(r), 100 * SEC);
        cr_assert_eq(authz_registry_sweep(r, 99 * SEC), 0);
        cr_assert_eq(authz_registry_count_pending(r), 1);
        cr_assert_eq(authz_registry_count_uid(r, 1000), 1);
        authz_registry_free(r);
        cr_assert_eq(q[3].refs, 0);
        cr_assert_eq(calls_live, 0);
}

/* A registry dropped with checks pending gives every reference and call back. */
Test(authz_registry, free_with_pending) {
        AuthzRegistry *r = new_registry();
        FakeRequest q[3] = {};

        for (int i = 0; i < 3; i++)
                cr_assert_eq(add(r, &q[i], ":1.1", 1000 + i, "k", 25 * SEC, NULL), 0);
        cr_assert_null(authz_registry_free(r));
        cr_assert_null(authz_registry_free(NULL));
        for (int i = 0; i < 3; i++)
                cr_assert_eq(q[i].refs, 0);
        cr_assert_eq(calls_live, 0);
}

/* Thousands of waiting requests: each is found by its message directly (the registry is a hash
 * map, not a list), and all are released in any order. */
Test(authz_registry, many_requests) {
        AuthzRegistry *r = new_registry();
        FakeRequest *q = calloc(20000, sizeof *q);
        char sender[16];
        AuthzCheck **c = calloc(20000, sizeof *c);

        cr_assert(q && c);
        AuthzLimits limits = AUTHZ_LIMITS_DEFAULT;

        limits.total = SIZE_MAX;
        authz_registry_set_limits(r, &limits);
        for (int i = 0; i < 20000; i++) {
                snprintf(sender, sizeof sender, ":1.%d", i / 10);
                cr_assert_eq(add(r, &q[i], sender, 1000 + i / 50, i % 3 ? "k1" : NULL, (uint64_t) i, &c[i]),
                             0);
        }
        cr_assert_eq(authz_registry_count(r), 20000);
        for (int i = 0; i < 20000; i++)
                cr_assert_eq(find(r, &q[i], i % 3 ? "k1" : NULL), c[i]);
        cr_assert_eq(authz_registry_expire(r, 9999, NULL, NULL), 10000);
        for (int i = 19999; i >= 0; i -= 2)
                authz_registry_release(r, &q[i]);
        for (int s = 0; s < 2000; s += 2) {
                snprintf(sender, sizeof sender, ":1.%d", s);
                cr_assert_eq(authz_registry_cancel_sender(r, sender), 5);
        }
        cr_assert_eq(authz_registry_count(r), 5000);
        authz_registry_free(r);
        for (int i = 0; i < 20000; i++)
                cr_assert_eq(q[i].refs, 0);
        cr_assert_eq(calls_live, 0);
        free(q);
        free(c);
}

/* ---- the sd-bus glue, over a socket pair ---- */

typedef enum PolkitMode {
        POLKIT_ALLOW,
        POLKIT_DENY,
        POLKIT_CHALLENGE,
        POLKIT_ERROR,
        POLKIT_MALFORMED,
        POLKIT_SILENT,
} PolkitMode;

typedef struct Reply {
        bool done;
        int value; /* authz_check()'s result as the handler replied it */
        char error[128];
} Reply;

static struct {
        sd_event *event;
        sd_bus *daemon, *peer;
        Authz *authz;
        Caller caller;
        PolkitMode mode;
        unsigned polkit_calls, handler_runs;
        char subject[64], action[64];
        unsigned n_details, interactive;
        sd_bus_message *silent[32]; /* questions polkit never answers */
        size_t n_silent;
        PolkitMode creds_mode; /* the bus driver: ALLOW, ERROR or SILENT */
        uint32_t creds_uid;
        unsigned creds_calls;
        sd_bus_message *creds_silent[8];
        size_t n_creds_silent;
} f;

static uint64_t now_monotonic(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * SEC + (uint64_t) ts.tv_nsec / 1000U;
}

static int on_call(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *key;
        char details[128];
        int n, r;

        f.handler_runs++;
        r = sd_bus_message_read(m, "s", &key);
        if (r < 0)
                return r;
        n = snprintf(details, sizeof details, "key_id%c%.32s", 0, key) + 1;
        r = authz_check(f.authz, m, &f.caller, ACTION_GENERATE_MAC, details, n, error);
        if (r < 0) {
                authz_release(f.authz, m);
                return r;
        }
        if (r == 0)
                return 1;
        r = sd_bus_reply_method_return(m, "i", r);
        authz_release(f.authz, m);
        return r;
}

static int on_who(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Caller c;
        int r;

        f.handler_runs++;
        r = authz_identify(f.authz, m, &c);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to identify the caller: %m");
        if (r == 0)
                return 1;
        return sd_bus_reply_method_return(m, "i", (int) c.uid);
}

static const sd_bus_vtable daemon_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Call", "s", "i", on_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Who", "s", "i", on_who, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int on_check_authorization(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *kind, *name, *action, *k, *v, *cancel;
        uint32_t flags;
        int r;

        if (!sd_bus_message_is_method_call(m, "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization"))
                return 0;
        f.polkit_calls++;
        r = sd_bus_message_read(m, "(sa{sv})s", &kind, 1, &k, "s", &name, &action);
        cr_assert_geq(r, 0, "reading the subject: %s", strerror(-r));
        cr_assert_str_eq(kind, "system-bus-name");
        cr_assert_str_eq(k, "name");
        snprintf(f.subject, sizeof f.subject, "%s", name);
        snprintf(f.action, sizeof f.action, "%s", action);
        f.n_details = 0;
        cr_assert_geq(sd_bus_message_enter_container(m, 'a', "{ss}"), 0);
        while ((r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0)
                f.n_details++;
        cr_assert_geq(r, 0);
        cr_assert_geq(sd_bus_message_exit_container(m), 0);
        cr_assert_geq(sd_bus_message_read(m, "us", &flags, &cancel), 0);
        f.interactive = flags;

        switch (f.mode) {
        case POLKIT_ALLOW:
                return sd_bus_reply_method_return(m, "(bba{ss})", 1, 0, 0);
        case POLKIT_DENY:
                return sd_bus_reply_method_return(m, "(bba{ss})", 0, 0, 0);
        case POLKIT_CHALLENGE:
                return sd_bus_reply_method_return(m, "(bba{ss})", 0, 1, 0);
        case POLKIT_ERROR:
                return sd_bus_reply_method_errorf(m, "org.freedesktop.PolicyKit1.Error.Failed",
                                                  "no rules today");
        case POLKIT_MALFORMED: {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                cr_assert_geq(sd_bus_message_new_method_return(m, &reply), 0);
                cr_assert_geq(sd_bus_message_append(reply, "(bb)", 1, 0), 0);
                cr_assert_geq(sd_bus_send(NULL, reply, NULL), 0);
                return 1;
        }
        case POLKIT_SILENT:
                cr_assert_lt(f.n_silent, ELEMENTSOF(f.silent));
                f.silent[f.n_silent++] = sd_bus_message_ref(m);
                return 1;
        }
        return -EINVAL;
}

/* The bus driver's GetConnectionCredentials. */
static int on_bus_driver(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;

        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus", "GetConnectionCredentials"))
                return 0;
        f.creds_calls++;
        cr_assert_geq(sd_bus_message_read(m, "s", &name), 0);
        switch (f.creds_mode) {
        case POLKIT_ALLOW:
                return sd_bus_reply_method_return(m, "a{sv}", 3, "ProcessID", "u", 4242,
                                                  "LinuxSecurityLabel", "ay", 0, "UnixUserID", "u",
                                                  f.creds_uid);
        case POLKIT_SILENT:
                cr_assert_lt(f.n_creds_silent, ELEMENTSOF(f.creds_silent));
                f.creds_silent[f.n_creds_silent++] = sd_bus_message_ref(m);
                return 1;
        default:
                return sd_bus_reply_method_errorf(m, "org.freedesktop.DBus.Error.NameHasNoOwner",
                                                  "%s is gone", name);
        }
}

static void glue_setup(void) {
        sd_id128_t id;
        int fds[2];

        f = (typeof(f)){ .caller = { .uid = 1000, .pid = 1 }, .mode = POLKIT_ALLOW, .creds_uid = 1000 };
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        cr_assert_geq(sd_event_new(&f.event), 0);
        cr_assert_geq(sd_id128_randomize(&id), 0);

        cr_assert_geq(sd_bus_new(&f.daemon), 0);
        cr_assert_geq(sd_bus_set_fd(f.daemon, fds[0], fds[0]), 0);
        cr_assert_geq(sd_bus_set_server(f.daemon, 1, id), 0);
        cr_assert_geq(sd_bus_set_anonymous(f.daemon, 1), 0);
        cr_assert_geq(sd_bus_start(f.daemon), 0);
        cr_assert_geq(sd_bus_attach_event(f.daemon, f.event, 0), 0);
        cr_assert_geq(sd_bus_add_object_vtable(f.daemon, NULL, "/t", "io.hmacd.Test", daemon_vtable, NULL),
                      0);

        cr_assert_geq(sd_bus_new(&f.peer), 0);
        cr_assert_geq(sd_bus_set_fd(f.peer, fds[1], fds[1]), 0);
        cr_assert_geq(sd_bus_set_anonymous(f.peer, 1), 0);
        cr_assert_geq(sd_bus_start(f.peer), 0);
        cr_assert_geq(sd_bus_attach_event(f.peer, f.event, 0), 0);
        /* A plain object callback rather than a vtable, so that it can answer with a wrong signature. */
        cr_assert_geq(sd_bus_add_object(f.peer, NULL, "/org/freedesktop/PolicyKit1/Authority",
                                        on_check_authorization, NULL),
                      0);
        cr_assert_geq(sd_bus_add_object(f.peer, NULL, "/org/freedesktop/DBus", on_bus_driver, NULL), 0);

        cr_assert_eq(authz_new(f.daemon, 990, 30 * SEC, &f.authz), 0);
}

static void glue_teardown(void) {
        for (size_t i = 0; i < f.n_silent; i++)
                sd_bus_message_unref(f.silent[i]);
        for (size_t i = 0; i < f.n_creds_silent; i++)
                sd_bus_message_unref(f.creds_silent[i]);
        authz_free(f.authz);
        sd_bus_flush_close_unref(f.peer);
        sd_bus_flush_close_unref(f.daemon);
        sd_event_unref(f.event);
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Reply *reply = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        reply->done = true;
        if (e)
                snprintf(reply->error, sizeof reply->error, "%s: %s", e->name, strempty(e->message));
        else
                cr_assert_geq(sd_bus_message_read(m, "i", &reply->value), 0);
        return 0;
}

/* A call from sender, as a bus would deliver it. */
static void call_method(const char *method, const char *sender, const char *key, bool interactive,
                        Reply *reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

        *reply = (Reply){};
        cr_assert_geq(
                sd_bus_message_new_method_call(f.peer, &m, "io.hmacd.Kms1", "/t", "io.hmacd.Test", method),
                0);
        cr_assert_geq(sd_bus_message_append(m, "s", key), 0);
        cr_assert_geq(sd_bus_message_set_sender(m, sender), 0);
        cr_assert_geq(sd_bus_message_set_allow_interactive_authorization(m, interactive), 0);
        cr_assert_geq(sd_bus_call_async(f.peer, NULL, m, on_reply, reply, 60 * SEC), 0);
}

static void call(const char *sender, const char *key, bool interactive, Reply *reply) {
        call_method("Call", sender, key, interactive, reply);
}

static void run_until(const bool *done, uint64_t max_usec) {
        uint64_t end = now_monotonic() + max_usec;

        while (!*done && now_monotonic() < end)
                cr_assert_geq(sd_event_run(f.event, 10000), 0);
}

/* Lets both ends exchange whatever is queued. */
static void settle(void) {
        for (int i = 0; i < 50; i++)
                cr_assert_geq(sd_event_run(f.event, 1000), 0);
}

static void bus_driver_says_gone(const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;

        cr_assert_geq(sd_bus_message_new_signal(f.peer, &s, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                                "NameOwnerChanged"),
                      0);
        cr_assert_geq(sd_bus_message_append(s, "sss", name, name, ""), 0);
        cr_assert_geq(sd_bus_message_set_sender(s, "org.freedesktop.DBus"), 0);
        cr_assert_geq(sd_bus_send(f.peer, s, NULL), 0);
}

static void polkit_says_changed(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;

        cr_assert_geq(sd_bus_message_new_signal(f.peer, &s, "/org/freedesktop/PolicyKit1/Authority",
                                                "org.freedesktop.PolicyKit1.Authority", "Changed"),
                      0);
        cr_assert_geq(sd_bus_message_set_sender(s, "org.freedesktop.PolicyKit1"), 0);
        cr_assert_geq(sd_bus_send(f.peer, s, NULL), 0);
}

TestSuite(authz_glue, .init = glue_setup, .fini = glue_teardown, .timeout = 30);

Test(authz_glue, allowed_then_cached_then_flushed) {
        static Reply r;

        call(":1.42", "k1", false, &r);
        run_until(&r.done, 5 * SEC);
        cr_assert(r.done);
        cr_assert_str_empty(r.error);
        cr_assert_eq(r.value, 1);
        cr_assert_eq(f.polkit_calls, 1);
        cr_assert_eq(f.handler_runs, 2); /* asked, then dispatched again with the answer */
        cr_assert_str_eq(f.subject, ":1.42");
        cr_assert_str_eq(f.action, "io.hmacd.generate-mac");
        cr_assert_eq(f.n_details, 1);
        cr_assert_eq(f.interactive, 0);
        cr_assert_eq(authz_count_checks(f.authz), 0);
        cr_assert_eq(authz_count_cached(f.authz), 1);

        /* Cached for this sender and key only. */
        call(":1.42", "k1", false, &r);
        run_until(&r.done, 5 * SEC);
        cr_assert_eq(r.value, 2);
        cr_assert_eq(f.polkit_calls, 1);
        call(":1.42", "k2", false, &r);
        run_until(&r.done, 5 * SEC);
        cr_assert_eq(r.value, 1);
        call(":1.43", "k1", false, &r);
        run_until(&r.done, 5 * SEC);
        cr_assert_eq(r.value, 1);
        cr_assert_eq(f.polkit_calls, 3);
        cr_assert_eq(authz_count_cached(f.authz), 3);

        /* Leaving drops the sender's allowances; polkit's Changed drops all. */
        bus_driver_says_gone(":1.42");
        settle();
        cr_assert_eq(authz_count_cached(f.authz), 1);
        polkit_says_changed();
        settle();
        cr_assert_eq(authz_count_cached(f.authz), 0);
        call(":1.43", "k1", false, &r);
        run_until(&r.done, 5 * SEC);
        cr_assert_eq(r.value, 1);
        cr_assert_eq(f.polkit_calls, 4);
}

Test(authz_glue, trusted_callers_are_not_asked) {
        static Reply r;

        f.mode = POLKIT_DENY;
        f.caller.uid = 0;
        call(":1.42", "k1", false, &r);
        run_until(&r.done, 5 * SEC);
        cr_assert_eq(r.value, 2);
        f.caller.uid = 990;
        call(":1.42", "k1", false, &r);
        run_until(&r.done, 5 * SEC);
        cr_assert_eq(r.value, 2);
        cr_assert_eq(f.polkit_calls, 0);
        cr_assert(authz_is_trusted(f.authz, &(Caller){ .uid = 0 }));
        cr_assert(authz_is_trusted(f.authz, &(Caller){ .uid = 990 }));
        cr_assert_not(authz_is_trusted(f.authz, &(Caller){ .uid = 1000 }));
}

/* Every answer that is not a yes is a no, and none is cached. */
Test(authz_glue, fail_closed) {
        static const struct {
                PolkitMode mode;
                bool interactive;
                const char *error;
        } cases[] = {
                { POLKIT_DENY, false,
                  "org.freedesktop.DBus.Error.AccessDenied: Access denied: io.hmacd.generate-mac is not "
                  "allowed." },
                { POLKIT_CHALLENGE, false, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired: " },
                { POLKIT_CHALLENGE, true,
                  "org.freedesktop.DBus.Error.AccessDenied: Access denied: io.hmacd.generate-mac is not "
                  "allowed." },
                { POLKIT_ERROR, false,
                  "org.freedesktop.DBus.Error.AccessDenied: Access denied: polkit could not decide." },
                { POLKIT_MALFORMED, false,
                  "org.freedesktop.DBus.Error.AccessDenied: Access denied: polkit could not decide." },
        };
        static Reply r;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                f.mode = cases[i].mode;
                call(":1.42", "k1", cases[i].interactive, &r);
                run_until(&r.done, 5 * SEC);
                cr_assert(r.done, "case %zu", i);
                cr_assert_eq(strncmp(r.error, cases[i].error, strlen(cases[i].error)), 0, "case %zu: %s", i,
                             r.error);
                cr_assert_eq(f.interactive, cases[i].interactive);
                cr_assert_eq(authz_count_checks(f.authz), 0);
                cr_assert_eq(authz_count_cached(f.authz), 0);
        }
        cr_assert_eq(f.polkit_calls, ELEMENTSOF(cases));
}

/* An interactive check whose agent never answers ends after the timeout, and frees its place. */
Test(authz_glue, timeout) {
        static Reply r;
        uint64_t start;

        authz_set_timeout(f.authz, 300000);
        f.mode = POLKIT_SILENT;
        start = now_monotonic();
        call(":1.42", "k1", true, &r);
        run_until(&r.done, 5 * SEC);
        cr_assert(r.done);
        cr_assert_str_eq(
                r.error,
                "org.freedesktop.DBus.Error.AccessDenied: Access denied: polkit did not answer in time.");
        cr_assert_geq(now_monotonic() - start, 300000);
        cr_assert_lt(now_monotonic() - start, 3 * SEC);
        cr_assert_eq(authz_count_checks(f.authz), 0);
        cr_assert_eq(f.handler_runs, 2);
}

Test(authz_glue, caps_and_sender_leaving) {
        static Reply r[6];

        AuthzLimits limits = AUTHZ_LIMITS_DEFAULT;

        limits.per_sender = 2;
        limits.per_uid = 3;
        authz_set_limits(f.authz, &limits);
        f.mode = POLKIT_SILENT;
        call(":1.42", "k1", false, &r[0]);
        call(":1.42", "k2", false, &r[1]);
        call(":1.42", "k3", false, &r[2]);
        run_until(&r[2].done, 5 * SEC);
        cr_assert_str_eq(r[2].error,
                         "io.hmacd.Kms1.Error.LimitExceededException: Too many requests in flight");
        call(":1.43", "k1", false, &r[3]);
        call(":1.44", "k1", false, &r[4]);
        run_until(&r[4].done, 5 * SEC);
        cr_assert_str_eq(r[4].error,
                         "io.hmacd.Kms1.Error.LimitExceededException: Too many requests in flight");
        cr_assert_eq(authz_count_checks(f.authz), 3);
        cr_assert_eq(f.polkit_calls, 3);

        /* Another user is not affected. */
        f.caller.uid = 1001;
        call(":1.45", "k1", false, &r[5]);
        settle();
        cr_assert_eq(authz_count_checks(f.authz), 4);
        cr_assert_not(r[0].done || r[1].done || r[3].done || r[5].done);

        /* :1.42 leaves: its two checks go (calls cancelled, requests dropped), the others stay. */
        bus_driver_says_gone(":1.42");
        settle();
        cr_assert_eq(authz_count_checks(f.authz), 2);
        cr_assert_not(r[0].done || r[1].done);

        /* polkit answers a question whose sender left: nothing happens (the call was cancelled). */
        f.caller.uid = 1000;
        for (size_t i = 0; i < f.n_silent; i++)
                cr_assert_geq(sd_bus_reply_method_return(f.silent[i], "(bba{ss})", 1, 0, 0), 0);
        run_until(&r[5].done, 5 * SEC);
        run_until(&r[3].done, 5 * SEC);
        cr_assert(r[3].done && r[5].done);
        cr_assert_eq(r[3].value, 1);
        cr_assert_eq(r[5].value, 1);
        cr_assert_not(r[0].done || r[1].done);
        cr_assert_eq(authz_count_checks(f.authz), 0);
}

/* Requests waiting for polkit keep their bodies: they are weighed, and bounded per UID. */
Test(authz_glue, request_bytes_bounded) {
        static Reply r[3];
        AuthzLimits limits = AUTHZ_LIMITS_DEFAULT;
        char *big = malloc(600 * 1024);

        cr_assert_not_null(big);
        memset(big, 'x', 600 * 1024 - 1);
        big[600 * 1024 - 1] = 0;
        limits.bytes_per_uid = 1 << 20;
        authz_set_limits(f.authz, &limits);
        f.mode = POLKIT_SILENT;

        call(":1.42", big, false, &r[0]);
        call(":1.43", big, false, &r[1]);
        run_until(&r[1].done, 5 * SEC);
        cr_assert_str_eq(r[1].error,
                         "io.hmacd.Kms1.Error.LimitExceededException: Too many requests in flight");
        call(":1.43", "small", false, &r[2]);
        settle();
        cr_assert_not(r[0].done || r[2].done);
        cr_assert_eq(authz_count_checks(f.authz), 2);
        free(big);
}

/* Who the caller is is asked of the bus without blocking, once per sender, however many requests
 * of that sender arrive meanwhile. */
Test(authz_glue, identify_asynchronously) {
        static Reply r[4];

        call_method("Who", ":1.42", "", false, &r[0]);
        call_method("Who", ":1.42", "", false, &r[1]);
        call_method("Who", ":1.43", "", false, &r[2]);
        call_method("Who", ":1.42", "", false, &r[3]);
        for (size_t i = 0; i < ELEMENTSOF(r); i++)
                run_until(&r[i].done, 5 * SEC);
        for (size_t i = 0; i < ELEMENTSOF(r); i++) {
                cr_assert(r[i].done);
                cr_assert_str_empty(r[i].error);
                cr_assert_eq(r[i].value, 1000);
        }
        cr_assert_eq(f.creds_calls, 2);
        /* each waited for the bus, came back, waited for its UID's turn and came back again */
        cr_assert_eq(f.handler_runs, 12);
        cr_assert_eq(authz_count_identifying(f.authz), 0);

        /* Known now: no question, no wait. */
        f.creds_uid = 0;
        call_method("Who", ":1.42", "", false, &r[0]);
        run_until(&r[0].done, 5 * SEC);
        cr_assert_eq(r[0].value, 1000);
        cr_assert_eq(f.creds_calls, 2);
        cr_assert_eq(f.handler_runs, 13); /* no question, and nothing else waits: no turn either */

        /* Until the sender leaves. */
        bus_driver_says_gone(":1.42");
        settle();
        call_method("Who", ":1.42", "", false, &r[0]);
        run_until(&r[0].done, 5 * SEC);
        cr_assert_eq(r[0].value, 0);
        cr_assert_eq(f.creds_calls, 3);
}

Test(authz_glue, identify_fails_closed) {
        static Reply r[2];

        f.creds_mode = POLKIT_ERROR;
        call_method("Who", ":1.42", "", false, &r[0]);
        call_method("Who", ":1.42", "", false, &r[1]);
        run_until(&r[0].done, 5 * SEC);
        run_until(&r[1].done, 5 * SEC);
        for (size_t i = 0; i < ELEMENTSOF(r); i++)
                cr_assert_eq(strncmp(r[i].error, "System.Error.", 13), 0, "%s", r[i].error);
        cr_assert_eq(f.creds_calls, 1);
        cr_assert_eq(f.handler_runs, 2); /* answered without coming back */
        cr_assert_eq(authz_count_identifying(f.authz), 0);

        /* Nothing remembered: asked again. */
        f.creds_mode = POLKIT_ALLOW;
        call_method("Who", ":1.42", "", false, &r[0]);
        run_until(&r[0].done, 5 * SEC);
        cr_assert_eq(r[0].value, 1000);
        cr_assert_eq(f.creds_calls, 2);
}

Test(authz_glue, identify_sender_leaves) {
        static Reply r[2];

        f.creds_mode = POLKIT_SILENT;
        call_method("Who", ":1.42", "", false, &r[0]);
        call_method("Who", ":1.42", "", false, &r[1]);
        settle();
        cr_assert_eq(authz_count_identifying(f.authz), 2);
        bus_driver_says_gone(":1.42");
        settle();
        cr_assert_eq(authz_count_identifying(f.authz), 0);
        /* The late answer finds nobody waiting. */
        for (size_t i = 0; i < f.n_creds_silent; i++)
                cr_assert_geq(
                        sd_bus_reply_method_return(f.creds_silent[i], "a{sv}", 1, "UnixUserID", "u", 1000),
                        0);
        settle();
        cr_assert_not(r[0].done || r[1].done);
        cr_assert_eq(f.handler_runs, 2);
}

/* ---- fairness ---- */

Test(authz, fair_queue_serves_uids_in_turn_and_bounds_each) {
        AuthzFairLimits limits = { .per_uid = 3, .total = 5, .bytes_per_uid = 100, .bytes_total = 1000 };
        int req[8];
        AuthzFair *q = NULL;

        cr_assert_eq(authz_fair_new(&limits, &q), 0);
        /* UID 1 floods, UID 2 asks twice, UID 3 once. */
        cr_assert_eq(authz_fair_push(q, 1, &req[0], 10), 0);
        cr_assert_eq(authz_fair_push(q, 1, &req[1], 10), 0);
        cr_assert_eq(authz_fair_push(q, 1, &req[2], 10), 0);
        cr_assert_eq(authz_fair_push(q, 1, &req[3], 10), -EDQUOT); /* per UID */
        cr_assert_eq(authz_fair_push(q, 2, &req[4], 95), 0);       /* a first request of any size */
        cr_assert_eq(authz_fair_push(q, 2, &req[5], 10), -EDQUOT); /* bytes per UID */
        cr_assert_eq(authz_fair_push(q, 3, &req[6], 1), 0);
        cr_assert_eq(authz_fair_push(q, 4, &req[7], 1), -EDQUOT); /* in all */
        cr_assert_eq(authz_fair_count(q), 5);
        cr_assert_eq(authz_fair_count_uid(q, 1), 3);

        /* One UID after the other, each in its own order. */
        cr_assert_eq(authz_fair_pop(q), &req[0]);
        cr_assert_eq(authz_fair_pop(q), &req[4]);
        cr_assert_eq(authz_fair_pop(q), &req[6]);
        cr_assert_eq(authz_fair_pop(q), &req[1]);
        cr_assert_eq(authz_fair_push(q, 3, &req[6], 1), 0); /* UID 3 comes back at the end of the round */
        cr_assert_eq(authz_fair_pop(q), &req[6]);
        cr_assert_eq(authz_fair_pop(q), &req[2]);
        cr_assert_null(authz_fair_pop(q));
        cr_assert_eq(authz_fair_count(q), 0);
        authz_fair_free(q, NULL);
}
