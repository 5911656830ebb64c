/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one hash table of hmacd (daemon and CLI). Keys are byte strings, copied into the table; a
 * pointer key is the pointer's own bytes (hashmap_put_ptr()), a string key its bytes with the NUL
 * (hashmap_put_str()), and a composite key a list of pieces hashed and compared as if concatenated
 * (hashmap_putv()), so that lookups allocate nothing. Values are void * and belong to the caller.
 * Separate chaining, doubled when the load passes 1, O(1) average. The hash is SipHash-2-4 with a
 * random key per table, so a caller who chooses keys (bus names, key IDs) cannot force collisions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct Hashmap Hashmap;

/* Iteration: HashmapIter i = {}; while (hashmap_iterate(h, &i, &key, &size, &value)) ...
 * The current entry may be removed meanwhile (hashmap_remove() of its key or hashmap_remove_current());
 * no other entry may be added or removed until the iteration ends. */
typedef struct HashmapIter {
        size_t bucket;
        void *current, *next;
        bool started;
} HashmapIter;

int hashmap_new(Hashmap **ret);
/* With a chosen SipHash key (16 bytes, as in the reference), for tests only. */
int hashmap_new_keyed(const uint8_t key[static 16], Hashmap **ret);
Hashmap *hashmap_free(Hashmap *h); /* frees the table, not the values */
void hashmap_freep(Hashmap **h);
size_t hashmap_size(const Hashmap *h);

/* -EEXIST when the key is present already (the table is unchanged), -ENOMEM, -E2BIG when the
 * key is larger than HASHMAP_KEY_MAX. */
#define HASHMAP_KEY_MAX (1024U * 1024U)
int hashmap_putv(Hashmap *h, const struct iovec *key, size_t n, void *value);
void *hashmap_getv(const Hashmap *h, const struct iovec *key, size_t n);
/* Returns the value of the removed entry, NULL when there was none. */
void *hashmap_removev(Hashmap *h, const struct iovec *key, size_t n);

bool hashmap_iterate(Hashmap *h, HashmapIter *i, const void **ret_key, size_t *ret_key_size,
                     void **ret_value);
void *hashmap_remove_current(Hashmap *h, HashmapIter *i);
/* Removes every entry, calling free_value (if not NULL) on each value. */
void hashmap_clear(Hashmap *h, void (*free_value)(void *value));

/* The hash of a table's key, for tests of the distribution. */
uint64_t hashmap_hash(const Hashmap *h, const struct iovec *key, size_t n);

static inline int hashmap_put(Hashmap *h, const void *key, size_t size, void *value) {
        return hashmap_putv(h, &(struct iovec){ (void *) key, size }, 1, value);
}
static inline void *hashmap_get(const Hashmap *h, const void *key, size_t size) {
        return hashmap_getv(h, &(struct iovec){ (void *) key, size }, 1);
}
static inline void *hashmap_remove(Hashmap *h, const void *key, size_t size) {
        return hashmap_removev(h, &(struct iovec){ (void *) key, size }, 1);
}

static inline int hashmap_put_ptr(Hashmap *h, const void *key, void *value) {
        return hashmap_put(h, &key, sizeof key, value);
}
static inline void *hashmap_get_ptr(const Hashmap *h, const void *key) {
        return hashmap_get(h, &key, sizeof key);
}
static inline void *hashmap_remove_ptr(Hashmap *h, const void *key) {
        return hashmap_remove(h, &key, sizeof key);
}

int hashmap_put_str(Hashmap *h, const char *key, void *value);
void *hashmap_get_str(const Hashmap *h, const char *key);
void *hashmap_remove_str(Hashmap *h, const char *key);
