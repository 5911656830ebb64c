/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one hash table: SipHash-2-4 keyed per table, separate chaining, keys copied into the nodes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "hashmap.h"
#include "macro.h"

#define MIN_BUCKETS 16U

typedef struct Node {
        struct Node *next;
        uint64_t hash;
        void *value;
        size_t key_size;
        uint8_t key[];
} Node;

struct Hashmap {
        Node **buckets;
        size_t n_buckets; /* a power of two */
        size_t n;
        uint64_t k0, k1; /* the SipHash key */
};

/* SipHash-2-4 (Aumasson and Bernstein), fed piece by piece so that a composite key needs no copy. */
typedef struct SipHash {
        uint64_t v0, v1, v2, v3;
        uint64_t tail; /* up to 7 bytes not compressed yet, little-endian */
        size_t length;
} SipHash;

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(SipHash *s) {
        s->v0 += s->v1;
        s->v1 = ROTL(s->v1, 13);
        s->v1 ^= s->v0;
        s->v0 = ROTL(s->v0, 32);
        s->v2 += s->v3;
        s->v3 = ROTL(s->v3, 16);
        s->v3 ^= s->v2;
        s->v0 += s->v3;
        s->v3 = ROTL(s->v3, 21);
        s->v3 ^= s->v0;
        s->v2 += s->v1;
        s->v1 = ROTL(s->v1, 17);
        s->v1 ^= s->v2;
        s->v2 = ROTL(s->v2, 32);
}

static void sip_init(SipHash *s, uint64_t k0, uint64_t k1) {
        *s = (SipHash){
                .v0 = 0x736f6d6570736575ULL ^ k0,
                .v1 = 0x646f72616e646f6dULL ^ k1,
                .v2 = 0x6c7967656e657261ULL ^ k0,
                .v3 = 0x7465646279746573ULL ^ k1,
        };
}

static void sip_compress(SipHash *s, uint64_t m) {
        s->v3 ^= m;
        sip_round(s);
        sip_round(s);
        s->v0 ^= m;
}

static void sip_feed(SipHash *s, const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                s->tail |= (uint64_t) p[i] << (8 * (s->length % 8));
                s->length++;
                if (s->length % 8 == 0) {
                        sip_compress(s, s->tail);
                        s->tail = 0;
                }
        }
}

static uint64_t sip_final(SipHash *s) {
        sip_compress(s, s->tail | (uint64_t) s->length << 56);
        s->v2 ^= 0xff;
        for (int i = 0; i < 4; i++)
                sip_round(s);
        return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static size_t key_size(const struct iovec *key, size_t n) {
        size_t size = 0;
        for (size_t i = 0; i < n; i++)
                size += key[i].iov_len;
        return size;
}

uint64_t hashmap_hash(const Hashmap *h, const struct iovec *key, size_t n) {
        SipHash s;

        sip_init(&s, h->k0, h->k1);
        for (size_t i = 0; i < n; i++)
                sip_feed(&s, key[i].iov_base, key[i].iov_len);
        return sip_final(&s);
}

static bool key_equal(const Node *node, const struct iovec *key, size_t n, size_t size) {
        const uint8_t *p = node->key;

        if (node->key_size != size)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (key[i].iov_len > 0 && memcmp(p, key[i].iov_base, key[i].iov_len) != 0)
                        return false;
                p += key[i].iov_len;
        }
        return true;
}

int hashmap_new_keyed(const uint8_t key[static 16], Hashmap **ret) {
        Hashmap *h;

        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        h->buckets = calloc(MIN_BUCKETS, sizeof *h->buckets);
        if (!h->buckets) {
                free(h);
                return -ENOMEM;
        }
        h->n_buckets = MIN_BUCKETS;
        for (int i = 7; i >= 0; i--) {
                h->k0 = h->k0 << 8 | key[i];
                h->k1 = h->k1 << 8 | key[8 + i];
        }
        *ret = h;
        return 0;
}

int hashmap_new(Hashmap **ret) {
        uint8_t k[16];

        /* A table is created at start-up or when a caller first appears, never in a tight loop. If
         * the kernel has no entropy to give yet, the clock and the table's address still make the
         * key unpredictable enough for a local attacker not to aim collisions at it. */
        if (getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t) sizeof k) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t a = (uint64_t) ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t) ts.tv_sec;
                uint64_t b = (uint64_t) (uintptr_t) &ts * 0xbf58476d1ce4e5b9ULL ^ (uint64_t) getpid();
                memcpy(k, &a, 8);
                memcpy(k + 8, &b, 8);
        }
        return hashmap_new_keyed(k, ret);
}

void hashmap_clear(Hashmap *h, void (*free_value)(void *value)) {
        if (!h)
                return;
        for (size_t b = 0; b < h->n_buckets; b++)
                while (h->buckets[b]) {
                        Node *node = h->buckets[b];
                        h->buckets[b] = node->next;
                        if (free_value)
                                free_value(node->value);
                        free(node);
                }
        h->n = 0;
}

Hashmap *hashmap_free(Hashmap *h) {
        if (!h)
                return NULL;
        hashmap_clear(h, NULL);
        free(h->buckets);
        free(h);
        return NULL;
}

void hashmap_freep(Hashmap **h) {
        hashmap_free(*h);
}

size_t hashmap_size(const Hashmap *h) {
        return h ? h->n : 0;
}

/* Doubles the bucket array; on allocation failure the table simply stays as it is (longer chains). */
static void grow(Hashmap *h) {
        size_t n = h->n_buckets * 2;
        Node **buckets;

        if (n < h->n_buckets || n > SIZE_MAX / sizeof *buckets)
                return;
        buckets = calloc(n, sizeof *buckets);
        if (!buckets)
                return;
        for (size_t b = 0; b < h->n_buckets; b++)
                while (h->buckets[b]) {
                        Node *node = h->buckets[b];
                        h->buckets[b] = node->next;
                        node->next = buckets[node->hash & (n - 1)];
                        buckets[node->hash & (n - 1)] = node;
                }
        free(h->buckets);
        h->buckets = buckets;
        h->n_buckets = n;
}

static Node **find(const Hashmap *h, const struct iovec *key, size_t n, uint64_t hash) {
        size_t size = key_size(key, n);
        Node **node = &h->buckets[hash & (h->n_buckets - 1)];

        for (; *node; node = &(*node)->next)
                if ((*node)->hash == hash && key_equal(*node, key, n, size))
                        break;
        return node;
}

int hashmap_putv(Hashmap *h, const struct iovec *key, size_t n, void *value) {
        size_t size = key_size(key, n);
        uint64_t hash;
        Node *node;
        uint8_t *p;

        if (size > HASHMAP_KEY_MAX)
                return -E2BIG;
        hash = hashmap_hash(h, key, n);
        if (*find(h, key, n, hash))
                return -EEXIST;
        node = malloc(sizeof *node + size);
        if (!node)
                return -ENOMEM;
        *node = (Node){ .hash = hash, .value = value, .key_size = size };
        p = node->key;
        for (size_t i = 0; i < n; i++) {
                if (key[i].iov_len > 0)
                        memcpy(p, key[i].iov_base, key[i].iov_len);
                p += key[i].iov_len;
        }
        if (h->n >= h->n_buckets)
                grow(h);
        node->next = h->buckets[hash & (h->n_buckets - 1)];
        h->buckets[hash & (h->n_buckets - 1)] = node;
        h->n++;
        return 0;
}

void *hashmap_getv(const Hashmap *h, const struct iovec *key, size_t n) {
        Node *node;

        if (!h || h->n == 0)
                return NULL;
        node = *find(h, key, n, hashmap_hash(h, key, n));
        return node ? node->value : NULL;
}

void *hashmap_removev(Hashmap *h, const struct iovec *key, size_t n) {
        Node **slot, *node;
        void *value;

        if (!h || h->n == 0)
                return NULL;
        slot = find(h, key, n, hashmap_hash(h, key, n));
        node = *slot;
        if (!node)
                return NULL;
        *slot = node->next;
        value = node->value;
        free(node);
        h->n--;
        return value;
}

/* The iterator holds the current node and the one after it, so that removing the current one
 * (which frees it) does not lose the way. Tables never shrink, and removal never moves a node. */
bool hashmap_iterate(Hashmap *h, HashmapIter *i, const void **ret_key, size_t *ret_key_size,
                     void **ret_value) {
        Node *node;

        if (!h)
                return false;
        if (!i->started) {
                *i = (HashmapIter){ .started = true, .next = h->buckets[0] };
        }
        node = i->next;
        while (!node && ++i->bucket < h->n_buckets)
                node = h->buckets[i->bucket];
        if (!node) {
                i->current = i->next = NULL;
                return false;
        }
        i->current = node;
        i->next = node->next;
        if (ret_key)
                *ret_key = node->key;
        if (ret_key_size)
                *ret_key_size = node->key_size;
        if (ret_value)
                *ret_value = node->value;
        return true;
}

void *hashmap_remove_current(Hashmap *h, HashmapIter *i) {
        Node *node = i->current;

        if (!node)
                return NULL;
        i->current = NULL;
        for (Node **slot = &h->buckets[node->hash & (h->n_buckets - 1)]; *slot; slot = &(*slot)->next)
                if (*slot == node) {
                        void *value = node->value;
                        *slot = node->next;
                        free(node);
                        h->n--;
                        return value;
                }
        return NULL;
}

int hashmap_put_str(Hashmap *h, const char *key, void *value) {
        return hashmap_put(h, key, strlen(key) + 1, value);
}

void *hashmap_get_str(const Hashmap *h, const char *key) {
        return hashmap_get(h, key, strlen(key) + 1);
}

void *hashmap_remove_str(Hashmap *h, const char *key) {
        return hashmap_remove(h, key, strlen(key) + 1);
}
