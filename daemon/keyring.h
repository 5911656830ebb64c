/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel keyring: the daemon's private session keyring, possessor-only secrets in it (the KEK
 * and live keys), and a bounded cache of unsealed keys evicted least recently used, so that the
 * number of keys hmacd serves is bounded by the disk and not by the kernel's per-user key quota.
 * The cache holds `user` keys (the OpenSSL engine reads them back per operation) or `logon` keys
 * (the kernel engine: nobody can read them back), and with each logon key the AF_ALG operation
 * socket keyed from it, which goes when the key goes. */
#pragma once

#include <keyutils.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

/* Gives the calling process a new anonymous session keyring of its own. */
int keyring_join_private_session(void);

/* Adds a `user` key that only a possessor may view, read, search or change. */
int keyring_add_secret(key_serial_t keyring, const char *description, const void *data, size_t n,
                       key_serial_t *ret);
int keyring_read_secret(key_serial_t serial, uint8_t *buf, size_t size, size_t *ret_size);

typedef struct CacheSlot {
        key_serial_t serial;    /* 0 when the slot is free */
        KeyVersion *entry;     /* the material cached in this slot */
        int fd;                 /* the keyed AF_ALG operation socket, or -1 */
        int prev, next;         /* LRU list, most recent first; -1 ends */
} CacheSlot;

typedef struct KeyCache {
        key_serial_t keyring;
        bool logon;             /* logon keys "hmacd:<key-id>" (kernel engine), else user keys */
        CacheSlot *slots;
        size_t n_slots, max_slots;
        int lru_head, lru_tail, free_head;
        uint64_t counter;
        uint64_t hits, misses, evictions;
} KeyCache;

/* How many keys the cache may hold, from what the kernel's quota leaves this user. */
size_t key_cache_default_max(void);

int key_cache_new(size_t max_slots, bool logon, KeyCache **ret);
KeyCache *key_cache_free(KeyCache *c);
void key_cache_freep(KeyCache **c);

/* The key's serial if it is cached (and marks it most recently used), else 0. */
key_serial_t key_cache_get(KeyCache *c, KeyVersion *e);
/* Caches material for e, evicting the least recently used key when full. */
int key_cache_put(KeyCache *c, KeyVersion *e, const void *material, size_t n, key_serial_t *ret);
/* Invalidates e's keyring entry, if any, and closes its socket; returns its serial, or 0. */
key_serial_t key_cache_drop(KeyCache *c, KeyVersion *e);

/* The operation socket kept with e's cached key (-1: none yet); the cache owns a socket it is given
 * and closes it when the key is evicted, dropped or replaced, or when told to (a failed operation
 * may leave a socket in the middle of a hash). */
int key_cache_fd(const KeyCache *c, const KeyVersion *e);
void key_cache_set_fd(KeyCache *c, KeyVersion *e, int fd);
void key_cache_close_fd(KeyCache *c, KeyVersion *e);
