/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Possessor-only keyring secrets and the LRU cache of live keys.
 *
 * Each cached key is a `user` key in a private keyring linked from the daemon's own anonymous
 * session keyring. Its permissions grant nothing to the user, group or others, so only a process
 * that possesses it (this daemon) can read it, not even another process of the same user. When the
 * cache is full, the least recently used slot is re-used with keyctl_update(), which replaces the
 * payload in place: no key is created or destroyed, so the quota in use stays the same and nothing
 * waits for the kernel's key garbage collector.
 *
 * The cache holds materials (a key's current and previous ones each take a slot of their own).
 * The kernel engine caches `logon` keys instead, described "hmacd:<key-id>/<first 16 characters of
 * the KeyMaterialId>" (one per material: add_key() of a name already there would update it), and with each the AF_ALG
 * operation socket keyed from it. An AF_ALG socket copies its key when it is keyed, so a socket must
 * go whenever its slot's material changes: eviction, replacement and dropping close it. A logon key is
 * evicted by invalidating it and adding the new key under its own description (an update in place
 * would leave a description naming another key, and add_key() of that name would later update the
 * wrong slot): the quota then waits for the garbage collector, which the default cache size leaves a
 * quarter of the quota for. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afalg.h"
#include "keyring.h"
#include "macro.h"

#define POSSESSOR_ONLY (KEY_POS_VIEW | KEY_POS_READ | KEY_POS_WRITE | KEY_POS_SEARCH | KEY_POS_SETATTR)
#define CACHE_MAX_DEFAULT 4096u
#define CACHE_DESCRIPTION_MAX 64u /* "hmacd:<n>", and "hmacd:<key-id>/<16 of material-id>" for logon keys: 59 */

int keyring_join_private_session(void) {
        key_serial_t s = keyctl_join_session_keyring(NULL);
        return s < 0 ? negative_errno() : 0;
}

int keyring_add_secret(key_serial_t keyring, const char *description, const void *data, size_t n,
                       key_serial_t *ret) {
        key_serial_t s;

        /* New keys give the user only "view"; the permissions are narrowed before any use. */
        s = add_key("user", description, data, n, keyring);
        if (s < 0)
                return negative_errno();
        if (keyctl_setperm(s, POSSESSOR_ONLY) < 0) {
                int r = negative_errno();
                keyctl_invalidate(s);
                return r;
        }
        *ret = s;
        return 0;
}

int keyring_read_secret(key_serial_t serial, uint8_t *buf, size_t size, size_t *ret_size) {
        long n = keyctl_read(serial, (char *) buf, size);
        if (n < 0)
                return negative_errno();
        if ((size_t) n > size)
                return -ENOBUFS;
        *ret_size = (size_t) n;
        return 0;
}

/* /proc/key-users: "  uid:  usage nkeys/nikeys qnkeys/maxkeys qnbytes/maxbytes" */
static int quota_read(unsigned long *ret_keys_left, unsigned long *ret_bytes_left) {
        unsigned long uid, usage, nkeys, nikeys, qnkeys, maxkeys, qnbytes, maxbytes;
        char line[256];
        FILE *f;
        int r = -ENOENT;

        f = fopen("/proc/key-users", "re");
        if (!f)
                return negative_errno();
        while (fgets(line, sizeof line, f))
                if (sscanf(line, " %lu: %lu %lu/%lu %lu/%lu %lu/%lu", &uid, &usage, &nkeys, &nikeys, &qnkeys,
                           &maxkeys, &qnbytes, &maxbytes) == 8 &&
                    uid == (unsigned long) geteuid()) {
                        *ret_keys_left = maxkeys > qnkeys ? maxkeys - qnkeys : 0;
                        *ret_bytes_left = maxbytes > qnbytes ? maxbytes - qnbytes : 0;
                        r = 0;
                        break;
                }
        fclose(f);
        return r;
}

size_t key_cache_default_max(void) {
        unsigned long keys_left, bytes_left, by_bytes;

        if (quota_read(&keys_left, &bytes_left) < 0)
                return 64;
        /* Keep a quarter of what is left for the rest of the daemon and for the user's other processes,
         * and reckon every key at its largest size. */
        by_bytes = bytes_left / (KMS_KEY_MATERIAL_MAX + CACHE_DESCRIPTION_MAX);
        return MAX(MIN(MIN(keys_left, by_bytes) * 3 / 4, (unsigned long) CACHE_MAX_DEFAULT), 1ul);
}

int key_cache_new(size_t max_slots, bool logon, KeyCache **ret) {
        KeyCache *c;
        key_serial_t k;

        if (max_slots == 0)
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->slots = calloc(max_slots, sizeof *c->slots);
        if (!c->slots) {
                free(c);
                return -ENOMEM;
        }
        c->max_slots = max_slots;
        c->logon = logon;
        c->lru_head = c->lru_tail = c->free_head = -1;

        k = add_key("keyring", "hmacd:cache", NULL, 0, KEY_SPEC_SESSION_KEYRING);
        if (k < 0 || keyctl_setperm(k, POSSESSOR_ONLY | KEY_POS_LINK) < 0) {
                int r = negative_errno();
                free(c->slots);
                free(c);
                return r;
        }
        c->keyring = k;
        *ret = c;
        return 0;
}

KeyCache *key_cache_free(KeyCache *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_slots; i++) {
                if (c->slots[i].fd >= 0)
                        close(c->slots[i].fd);
                if (c->slots[i].serial > 0)
                        keyctl_invalidate(c->slots[i].serial);
                if (c->slots[i].entry)
                        c->slots[i].entry->cache_slot = -1;
        }
        keyctl_invalidate(c->keyring);
        free(c->slots);
        free(c);
        return NULL;
}

void key_cache_freep(KeyCache **c) {
        key_cache_free(*c);
}

static void lru_unlink(KeyCache *c, int i) {
        CacheSlot *s = &c->slots[i];
        if (s->prev >= 0)
                c->slots[s->prev].next = s->next;
        else
                c->lru_head = s->next;
        if (s->next >= 0)
                c->slots[s->next].prev = s->prev;
        else
                c->lru_tail = s->prev;
        s->prev = s->next = -1;
}

static void lru_push_front(KeyCache *c, int i) {
        CacheSlot *s = &c->slots[i];
        s->prev = -1;
        s->next = c->lru_head;
        if (c->lru_head >= 0)
                c->slots[c->lru_head].prev = i;
        c->lru_head = i;
        if (c->lru_tail < 0)
                c->lru_tail = i;
}

key_serial_t key_cache_get(KeyCache *c, KeyVersion *e) {
        int i = e->cache_slot;

        if (i < 0) {
                c->misses++;
                return 0;
        }
        c->hits++;
        if (c->lru_head != i) {
                lru_unlink(c, i);
                lru_push_front(c, i);
        }
        return c->slots[i].serial;
}

static void slot_close_fd(CacheSlot *s) {
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}

/* The logon key's name of material e (after "hmacd:"). */
static const char *logon_name(const KeyVersion *e, char buf[static KEY_ID_LEN + 18]) {
        snprintf(buf, KEY_ID_LEN + 18, "%s/%.16s", e->key ? e->key->key_id : "", e->id);
        return buf;
}

static int slot_fill_new(KeyCache *c, int i, const KeyVersion *e, const void *material, size_t n) {
        char description[CACHE_DESCRIPTION_MAX], name[KEY_ID_LEN + 18];

        c->slots[i].fd = -1;
        if (c->logon)
                return afalg_add_logon_key(c->keyring, logon_name(e, name), material, n,
                                           &c->slots[i].serial);
        snprintf(description, sizeof description, "hmacd:%" PRIu64, c->counter++);
        return keyring_add_secret(c->keyring, description, material, n, &c->slots[i].serial);
}

static int slot_evict_lru(KeyCache *c, const KeyVersion *e, const void *material, size_t n) {
        int i = c->lru_tail;
        CacheSlot *s;

        if (i < 0)
                return -EDQUOT;
        s = &c->slots[i];
        slot_close_fd(s);
        if (c->logon) {
                char name[KEY_ID_LEN + 18];
                key_serial_t serial;
                int r;

                keyctl_invalidate(s->serial);
                s->serial = 0;
                r = afalg_add_logon_key(c->keyring, logon_name(e, name), material, n, &serial);
                if (r < 0) {
                        /* The slot is empty now: free it. */
                        s->entry->cache_slot = -1;
                        s->entry = NULL;
                        lru_unlink(c, i);
                        s->next = c->free_head;
                        c->free_head = i;
                        return r;
                }
                s->serial = serial;
        } else if (keyctl_update(s->serial, material, n) < 0)
                return negative_errno();
        s->entry->cache_slot = -1;
        s->entry = NULL;
        lru_unlink(c, i);
        c->evictions++;
        return i;
}

int key_cache_put(KeyCache *c, KeyVersion *e, const void *material, size_t n, key_serial_t *ret) {
        int i, r;

        if (e->cache_slot >= 0) {
                i = e->cache_slot;
                slot_close_fd(&c->slots[i]);
                if (keyctl_update(c->slots[i].serial, material, n) < 0)
                        return negative_errno();
                *ret = key_cache_get(c, e);
                return 0;
        }

        if (c->free_head >= 0) {
                i = c->free_head;
                r = slot_fill_new(c, i, e, material, n);
                if (r == -EDQUOT)
                        i = r = slot_evict_lru(c, e, material, n);
                else if (r >= 0)
                        c->free_head = c->slots[i].next;
        } else if (c->n_slots < c->max_slots) {
                i = (int) c->n_slots;
                c->slots[i] = (CacheSlot) { .prev = -1, .next = -1 };
                r = slot_fill_new(c, i, e, material, n);
                if (r == -EDQUOT)
                        i = r = slot_evict_lru(c, e, material, n);
                else if (r >= 0)
                        c->n_slots++;
        } else
                i = r = slot_evict_lru(c, e, material, n);
        if (r < 0)
                return r;

        c->slots[i].entry = e;
        e->cache_slot = i;
        lru_push_front(c, i);
        *ret = c->slots[i].serial;
        return 0;
}

key_serial_t key_cache_drop(KeyCache *c, KeyVersion *e) {
        int i = e->cache_slot;
        key_serial_t serial;

        if (i < 0)
                return 0;
        serial = c->slots[i].serial;
        slot_close_fd(&c->slots[i]);
        lru_unlink(c, i);
        keyctl_invalidate(serial);
        c->slots[i].serial = 0;
        c->slots[i].entry = NULL;
        c->slots[i].next = c->free_head;
        c->free_head = i;
        e->cache_slot = -1;
        return serial;
}

int key_cache_fd(const KeyCache *c, const KeyVersion *e) {
        return e->cache_slot >= 0 ? c->slots[e->cache_slot].fd : -1;
}

void key_cache_set_fd(KeyCache *c, KeyVersion *e, int fd) {
        if (e->cache_slot < 0) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        slot_close_fd(&c->slots[e->cache_slot]);
        c->slots[e->cache_slot].fd = fd;
}

void key_cache_close_fd(KeyCache *c, KeyVersion *e) {
        if (e->cache_slot >= 0)
                slot_close_fd(&c->slots[e->cache_slot]);
}
