/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/keys.c: the in-memory KeyIndex (hash by key ID, array in creation order). */

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/keys.h"
#include "macro.h"

#define N_KEYS 5000     /* several times the initial 1024 buckets: forces rehashing */

static KeyIndex ix;
static char (*ids)[KEY_ID_LEN + 1];

static void setup(void) {
        cr_assert_eq(key_index_init(&ix), 0);
        ids = calloc(N_KEYS, sizeof *ids);
        cr_assert_not_null(ids);
}

static void teardown(void) {
        key_index_done(&ix);
        free(ids);
}

TestSuite(keys, .init = setup, .fini = teardown);

static KeyEntry *new_entry(const char *id, int64_t seq) {
        KeyEntry *e = calloc(1, sizeof *e);

        cr_assert_not_null(e);
        strcpy(e->key_id, id);
        e->seq = seq;
        e->spec = KEY_SPEC_HMAC_256;
        return e;
}

/* Adds N_KEYS random keys with seq 10, 20, 30, ... */
static void add_many(void) {
        for (size_t i = 0; i < N_KEYS; i++) {
                KeyEntry *e;

                cr_assert_eq(key_id_generate(ids[i]), 0);
                e = new_entry(ids[i], 10 * (int64_t) (i + 1));
                cr_assert_eq(key_index_add(&ix, e), 0, "key %zu", i);
                cr_assert_eq(ix.n, i + 1);
        }
}

static void check_order(void) {
        for (size_t i = 1; i < ix.n; i++)
                cr_assert_lt(ix.by_seq[i - 1]->seq, ix.by_seq[i]->seq, "by_seq not ascending at %zu", i);
}

Test(keys, empty) {
        char id[KEY_ID_LEN + 1];

        cr_assert_eq(ix.n, 0);
        cr_assert_eq(key_id_generate(id), 0);
        cr_assert_null(key_index_find(&ix, id));
        cr_assert_eq(key_index_after(&ix, 0), 0);
        cr_assert_eq(key_index_after(&ix, INT64_MIN), 0);
        cr_assert_eq(key_index_after(&ix, INT64_MAX), 0);
}

Test(keys, add_and_find_thousands) {
        size_t initial_buckets = ix.n_buckets;

        add_many();
        cr_assert_eq(ix.n, N_KEYS);
        cr_assert_gt(ix.n_buckets, initial_buckets, "no rehash after %d keys", N_KEYS);
        cr_assert_geq(ix.n_buckets, (size_t) N_KEYS);
        cr_assert_eq(ix.n_buckets & (ix.n_buckets - 1), 0, "bucket count %zu is not a power of two", ix.n_buckets);
        check_order();

        /* Every key is found, as itself, after all the rehashing. */
        for (size_t i = 0; i < N_KEYS; i++) {
                KeyEntry *e = key_index_find(&ix, ids[i]);
                cr_assert_not_null(e, "key %zu (%s) not found", i, ids[i]);
                cr_assert_str_eq(e->key_id, ids[i]);
                cr_assert_eq(e->seq, 10 * (int64_t) (i + 1));
                cr_assert_eq(ix.by_seq[i], e);
        }

        /* Keys that were never added are not found. */
        for (size_t i = 0; i < 100; i++) {
                char id[KEY_ID_LEN + 1];
                cr_assert_eq(key_id_generate(id), 0);
                cr_assert_null(key_index_find(&ix, id));
        }
        /* Nor is a prefix or an upper-case spelling of one that was. */
        {
                char id[KEY_ID_LEN + 1];
                strcpy(id, ids[0]);
                id[KEY_ID_LEN - 1] = 0;
                cr_assert_null(key_index_find(&ix, id));
                strcpy(id, ids[0]);
                for (char *p = id; *p; p++)
                        if (*p >= 'a' && *p <= 'f')
                                *p = (char) (*p - 'a' + 'A');
                if (!streq(id, ids[0]))
                        cr_assert_null(key_index_find(&ix, id));
        }
}

Test(keys, remove) {
        size_t expected = N_KEYS;

        add_many();

        /* Remove every third key, including the first and, below, the last. */
        for (size_t i = 0; i < N_KEYS; i += 3) {
                KeyEntry *e = key_index_find(&ix, ids[i]);
                cr_assert_not_null(e);
                key_index_remove(&ix, e);
                expected--;
                cr_assert_eq(ix.n, expected);
        }
        key_index_remove(&ix, key_index_find(&ix, ids[N_KEYS - 1]));
        expected--;
        cr_assert_eq(ix.n, expected);
        check_order();

        for (size_t i = 0; i < N_KEYS; i++) {
                KeyEntry *e = key_index_find(&ix, ids[i]);
                if (i % 3 == 0 || i == N_KEYS - 1)
                        cr_assert_null(e, "removed key %zu still found", i);
                else {
                        cr_assert_not_null(e, "key %zu lost by removing others", i);
                        cr_assert_eq(e->seq, 10 * (int64_t) (i + 1));
                }
        }

        /* The array holds exactly the survivors, in order. */
        for (size_t i = 0, j = 0; i < N_KEYS; i++) {
                if (i % 3 == 0 || i == N_KEYS - 1)
                        continue;
                cr_assert_lt(j, ix.n);
                cr_assert_str_eq(ix.by_seq[j]->key_id, ids[i]);
                j++;
        }

        /* Adding after removals still works, with a larger seq. */
        cr_assert_eq(key_index_add(&ix, new_entry(ids[0], 10 * (int64_t) N_KEYS + 5)), 0);
        cr_assert_not_null(key_index_find(&ix, ids[0]));
        cr_assert_eq(ix.by_seq[ix.n - 1], key_index_find(&ix, ids[0]));
}

Test(keys, remove_all_then_add) {
        char id[KEY_ID_LEN + 1];

        add_many();
        for (size_t i = N_KEYS; i > 0; i--)
                key_index_remove(&ix, key_index_find(&ix, ids[i - 1]));
        cr_assert_eq(ix.n, 0);
        for (size_t i = 0; i < N_KEYS; i++)
                cr_assert_null(key_index_find(&ix, ids[i]));

        cr_assert_eq(key_id_generate(id), 0);
        cr_assert_eq(key_index_add(&ix, new_entry(id, 1)), 0);
        cr_assert_eq(ix.n, 1);
        cr_assert_not_null(key_index_find(&ix, id));
}

/* The reference: the first position whose seq is larger than seq, by linear scan. */
static size_t after_linear(int64_t seq) {
        size_t i = 0;
        while (i < ix.n && ix.by_seq[i]->seq <= seq)
                i++;
        return i;
}

Test(keys, after) {
        add_many();

        /* seq are 10, 20, ..., 10 * N_KEYS. */
        cr_assert_eq(key_index_after(&ix, INT64_MIN), 0);
        cr_assert_eq(key_index_after(&ix, -1), 0);
        cr_assert_eq(key_index_after(&ix, 0), 0);
        cr_assert_eq(key_index_after(&ix, 9), 0);
        cr_assert_eq(key_index_after(&ix, 10), 1);
        cr_assert_eq(key_index_after(&ix, 11), 1);
        cr_assert_eq(key_index_after(&ix, 19), 1);
        cr_assert_eq(key_index_after(&ix, 20), 2);
        cr_assert_eq(key_index_after(&ix, 10 * (int64_t) N_KEYS - 1), N_KEYS - 1);
        cr_assert_eq(key_index_after(&ix, 10 * (int64_t) N_KEYS), N_KEYS);
        cr_assert_eq(key_index_after(&ix, INT64_MAX), N_KEYS);

        /* Every value around every key, against a linear scan. */
        for (int64_t seq = -3; seq <= 10 * (int64_t) N_KEYS + 3; seq++)
                cr_assert_eq(key_index_after(&ix, seq), after_linear(seq), "seq %lld", (long long) seq);
}

Test(keys, after_with_gaps) {
        /* After removals the seq values have gaps; the search must still land right. */
        add_many();
        for (size_t i = 1; i < N_KEYS; i += 2)
                key_index_remove(&ix, key_index_find(&ix, ids[i]));
        for (int64_t seq = -3; seq <= 10 * (int64_t) N_KEYS + 3; seq++)
                cr_assert_eq(key_index_after(&ix, seq), after_linear(seq), "seq %lld", (long long) seq);
}

Test(keys, rejects_non_increasing_seq) {
        char a[KEY_ID_LEN + 1], b[KEY_ID_LEN + 1];
        KeyEntry *e;

        cr_assert_eq(key_id_generate(a), 0);
        cr_assert_eq(key_id_generate(b), 0);
        cr_assert_eq(key_index_add(&ix, new_entry(a, 100)), 0);

        /* Equal and smaller seq are refused; the index does not take the entry, and is unchanged. */
        e = new_entry(b, 100);
        cr_assert_eq(key_index_add(&ix, e), -EINVAL);
        cr_assert_eq(ix.n, 1);
        cr_assert_null(key_index_find(&ix, b));
        e->seq = 99;
        cr_assert_eq(key_index_add(&ix, e), -EINVAL);
        cr_assert_eq(ix.n, 1);
        cr_assert_null(key_index_find(&ix, b));
        e->seq = INT64_MIN;
        cr_assert_eq(key_index_add(&ix, e), -EINVAL);
        cr_assert_null(key_index_find(&ix, b));
        cr_assert_eq(ix.by_seq[0]->seq, 100);

        /* The same entry with a larger seq is accepted. */
        e->seq = 101;
        cr_assert_eq(key_index_add(&ix, e), 0);
        cr_assert_eq(ix.n, 2);
        cr_assert_eq(key_index_find(&ix, b), e);
        cr_assert_eq(ix.by_seq[1], e);
}

Test(keys, rejects_old_seq_in_large_index) {
        /* The check is against the last seq, not just the first: a seq from the middle is refused too. */
        char id[KEY_ID_LEN + 1];
        KeyEntry *e;

        add_many();
        cr_assert_eq(key_id_generate(id), 0);
        e = new_entry(id, 10 * (N_KEYS / 2) + 5);
        cr_assert_eq(key_index_add(&ix, e), -EINVAL);
        cr_assert_eq(ix.n, N_KEYS);
        cr_assert_null(key_index_find(&ix, id));
        free(e);
        check_order();
}
