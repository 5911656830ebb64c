/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/hashmap.c: SipHash-2-4 against the reference vectors, put/get/remove with
 * byte, string, pointer and composite keys, growth, iteration with removal, clear, and the keyed
 * hash (two tables disagree, so collisions cannot be precomputed). */

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "macro.h"

static uint8_t reference_key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* From the SipHash paper (appendix A) and its reference implementation's vectors.h. */
Test(hashmap, siphash_reference_vectors) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;
        uint8_t msg[64];

        for (size_t i = 0; i < sizeof msg; i++)
                msg[i] = (uint8_t) i;
        cr_assert_eq(hashmap_new_keyed(reference_key, &h), 0);
        cr_assert_eq(hashmap_hash(h, &(struct iovec){ msg, 15 }, 1), 0xa129ca6149be45e5ULL);
        cr_assert_eq(hashmap_hash(h, &(struct iovec){ msg, 0 }, 1), 0x726fdb47dd0e0e31ULL);
        cr_assert_eq(hashmap_hash(h, &(struct iovec){ msg, 8 }, 1), 0x93f5f5799a932462ULL);
        cr_assert_eq(hashmap_hash(h, NULL, 0), 0x726fdb47dd0e0e31ULL);

        /* Pieces hash as their concatenation, however they are cut. */
        for (size_t cut = 0; cut <= 15; cut++) {
                struct iovec v[3] = { { msg, cut }, { msg + cut, 0 }, { msg + cut, 15 - cut } };
                cr_assert_eq(hashmap_hash(h, v, 3), 0xa129ca6149be45e5ULL, "cut at %zu", cut);
        }
}

Test(hashmap, put_get_remove) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;
        int a = 1, b = 2;

        cr_assert_eq(hashmap_new(&h), 0);
        cr_assert_eq(hashmap_size(h), 0);
        cr_assert_null(hashmap_get_str(h, "x"));
        cr_assert_null(hashmap_remove_str(h, "x"));

        cr_assert_eq(hashmap_put_str(h, "alpha", &a), 0);
        cr_assert_eq(hashmap_put_str(h, "alpha", &b), -EEXIST);
        cr_assert_eq(hashmap_put(h, "alpha", 5, &b), 0); /* without the NUL: another key */
        cr_assert_eq(hashmap_size(h), 2);
        cr_assert_eq(hashmap_get_str(h, "alpha"), &a);
        cr_assert_eq(hashmap_get(h, "alpha", 5), &b);
        cr_assert_null(hashmap_get(h, "alph", 4));
        cr_assert_eq(hashmap_remove_str(h, "alpha"), &a);
        cr_assert_null(hashmap_get_str(h, "alpha"));
        cr_assert_eq(hashmap_get(h, "alpha", 5), &b);
        cr_assert_eq(hashmap_size(h), 1);

        /* The empty key is a key like any other. */
        cr_assert_eq(hashmap_put(h, "", 0, &a), 0);
        cr_assert_eq(hashmap_get(h, NULL, 0), &a);
        cr_assert_eq(hashmap_remove(h, NULL, 0), &a);
        cr_assert_eq(hashmap_size(h), 1);
}

Test(hashmap, pointer_keys) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;
        int objects[100];

        cr_assert_eq(hashmap_new(&h), 0);
        for (size_t i = 0; i < ELEMENTSOF(objects); i++)
                cr_assert_eq(hashmap_put_ptr(h, &objects[i], &objects[ELEMENTSOF(objects) - 1 - i]), 0);
        cr_assert_eq(hashmap_put_ptr(h, &objects[7], NULL), -EEXIST);
        for (size_t i = 0; i < ELEMENTSOF(objects); i++)
                cr_assert_eq(hashmap_get_ptr(h, &objects[i]), &objects[ELEMENTSOF(objects) - 1 - i]);
        cr_assert_eq(hashmap_remove_ptr(h, &objects[3]), &objects[96]);
        cr_assert_null(hashmap_get_ptr(h, &objects[3]));
        cr_assert_eq(hashmap_size(h), 99);
}

/* (sender, action, details) without building the concatenation; different cuts of the same bytes
 * are the same key, which is why callers put a NUL after each piece. */
Test(hashmap, composite_keys) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;
        int v = 0;
        struct iovec k1[3] = { { (void *) ":1.5", 5 }, { (void *) "act", 4 }, { (void *) "k\0v", 4 } };
        struct iovec k2[2] = { { (void *) ":1.5\0act", 9 }, { (void *) "k\0v", 4 } };
        struct iovec k3[3] = { { (void *) ":1.5", 5 }, { (void *) "act", 4 }, { (void *) "k\0w", 4 } };

        cr_assert_eq(hashmap_new(&h), 0);
        cr_assert_eq(hashmap_putv(h, k1, 3, &v), 0);
        cr_assert_eq(hashmap_getv(h, k2, 2), &v);
        cr_assert_null(hashmap_getv(h, k3, 3));
        cr_assert_eq(hashmap_putv(h, k2, 2, &v), -EEXIST);
        cr_assert_eq(hashmap_removev(h, k2, 2), &v);
        cr_assert_eq(hashmap_size(h), 0);
}

Test(hashmap, too_big_key) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;
        struct iovec v[2] = { { (void *) "x", HASHMAP_KEY_MAX }, { (void *) "x", 1 } };

        cr_assert_eq(hashmap_new(&h), 0);
        cr_assert_eq(hashmap_putv(h, v, 2, NULL), -E2BIG); /* checked before reading a byte */
        cr_assert_eq(hashmap_size(h), 0);
}

Test(hashmap, grows_and_keeps_everything) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;
        char key[32];

        cr_assert_eq(hashmap_new(&h), 0);
        for (uintptr_t i = 0; i < 100000; i++) {
                snprintf(key, sizeof key, "key-%zu", (size_t) i);
                cr_assert_eq(hashmap_put_str(h, key, (void *) (i + 1)), 0);
        }
        cr_assert_eq(hashmap_size(h), 100000);
        for (uintptr_t i = 0; i < 100000; i++) {
                snprintf(key, sizeof key, "key-%zu", (size_t) i);
                cr_assert_eq(hashmap_get_str(h, key), (void *) (i + 1));
        }
        for (uintptr_t i = 0; i < 100000; i += 2) {
                snprintf(key, sizeof key, "key-%zu", (size_t) i);
                cr_assert_eq(hashmap_remove_str(h, key), (void *) (i + 1));
        }
        cr_assert_eq(hashmap_size(h), 50000);
        for (uintptr_t i = 0; i < 100000; i++) {
                snprintf(key, sizeof key, "key-%zu", (size_t) i);
                cr_assert_eq(hashmap_get_str(h, key), i % 2 ? (void *) (i + 1) : NULL);
        }
}

Test(hashmap, iterate_and_remove) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;
        HashmapIter i = {};
        const void *key;
        size_t size, seen = 0, removed = 0;
        void *value;
        unsigned char mark[1000] = {};

        cr_assert_eq(hashmap_new(&h), 0);
        cr_assert_not(hashmap_iterate(h, &i, NULL, NULL, NULL));
        for (uintptr_t n = 0; n < 1000; n++)
                cr_assert_eq(hashmap_put(h, &n, sizeof n, (void *) n), 0);

        /* Remove the odd ones while walking, alternately by key and as the current entry. */
        i = (HashmapIter){};
        while (hashmap_iterate(h, &i, &key, &size, &value)) {
                uintptr_t n = (uintptr_t) value;
                cr_assert_eq(size, sizeof n);
                cr_assert_eq(memcmp(key, &n, sizeof n), 0);
                cr_assert_eq(mark[n]++, 0, "%zu seen twice", (size_t) n);
                seen++;
                if (n % 4 == 1) {
                        cr_assert_eq(hashmap_remove(h, &n, sizeof n), value);
                        removed++;
                } else if (n % 4 == 3) {
                        cr_assert_eq(hashmap_remove_current(h, &i), value);
                        removed++;
                }
        }
        cr_assert_eq(seen, 1000);
        cr_assert_eq(removed, 500);
        cr_assert_eq(hashmap_size(h), 500);

        seen = 0;
        i = (HashmapIter){};
        while (hashmap_iterate(h, &i, NULL, NULL, &value)) {
                cr_assert_eq((uintptr_t) value % 2, 0);
                seen++;
        }
        cr_assert_eq(seen, 500);
        /* An iteration that has ended stays ended. */
        cr_assert_not(hashmap_iterate(h, &i, NULL, NULL, NULL));
}

static size_t n_freed;
static void count_free(void *p) {
        free(p);
        n_freed++;
}

Test(hashmap, clear_frees_values) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;

        cr_assert_eq(hashmap_new(&h), 0);
        for (int n = 0; n < 50; n++) {
                int *v = malloc(sizeof *v);
                cr_assert_not_null(v);
                cr_assert_eq(hashmap_put(h, &n, sizeof n, v), 0);
        }
        n_freed = 0;
        hashmap_clear(h, count_free);
        cr_assert_eq(n_freed, 50);
        cr_assert_eq(hashmap_size(h), 0);
        cr_assert_eq(hashmap_put_str(h, "again", NULL), 0);
        cr_assert_eq(hashmap_size(h), 1);
        cr_assert_null(hashmap_free(NULL));
}

/* Each table has its own random key: the same key hashes differently in two tables, so a set of
 * bus names chosen to collide in one table does not collide in the daemon's. */
Test(hashmap, keyed_per_table) {
        _cleanup_(hashmap_freep) Hashmap *a = NULL, *b = NULL;
        struct iovec k = { (void *) ":1.42", 6 };
        size_t same = 0;

        cr_assert_eq(hashmap_new(&a), 0);
        cr_assert_eq(hashmap_new(&b), 0);
        for (int n = 0; n < 64; n++) {
                k.iov_base = &n;
                k.iov_len = sizeof n;
                same += hashmap_hash(a, &k, 1) == hashmap_hash(b, &k, 1);
        }
        cr_assert_eq(same, 0);
}
