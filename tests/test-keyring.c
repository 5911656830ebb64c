/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/keyring.c: possessor-only secrets in the kernel keyring and the LRU KeyCache.
 * Every test first joins a new anonymous session keyring of its own (Criterion runs each test in its own
 * process), so nothing is added to the keyrings of whoever runs the tests. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../daemon/keyring.h"
#include "macro.h"

#define KEY_ALL_NON_POSSESSOR (KEY_USR_ALL | KEY_GRP_ALL | KEY_OTH_ALL)

static void join_or_skip(void) {
        int r = keyring_join_private_session();

        /* ENOSYS without CONFIG_KEYS; EPERM/EACCES where a seccomp filter (containers) forbids keyctl(). */
        if (r == -ENOSYS || r == -EPERM || r == -EACCES || r == -EOPNOTSUPP)
                cr_skip_test("the kernel keyring is not available here (keyctl_join_session_keyring: %s)",
                             strerror(-r));
        cr_assert_eq(r, 0, "keyring_join_private_session: %s", strerror(-r));
}

static unsigned long key_perm(key_serial_t serial) {
        _cleanup_free_ char *desc = NULL;
        char type[64];
        unsigned uid, gid;
        unsigned long perm;

        cr_assert_geq(keyctl_describe_alloc(serial, &desc), 0, "keyctl_describe(%d): %m", (int) serial);
        /* "type;uid;gid;perm;description" */
        cr_assert_eq(sscanf(desc, "%63[^;];%u;%u;%lx;", type, &uid, &gid, &perm), 4, "'%s'", desc);
        return perm;
}

static void fill(uint8_t *p, size_t n, unsigned seed) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t) (seed * 31 + i * 7 + 1);
}

/* ---- secrets ---- */

Test(keyring, add_read_round_trip) {
        uint8_t secret[64], buf[128];
        key_serial_t s = 0;
        size_t n = 0;

        join_or_skip();
        fill(secret, sizeof secret, 1);
        cr_assert_eq(keyring_add_secret(KEY_SPEC_SESSION_KEYRING, "test:secret", secret, sizeof secret, &s), 0);
        cr_assert_gt(s, 0);

        cr_assert_eq(keyring_read_secret(s, buf, sizeof buf, &n), 0);
        cr_assert_eq(n, sizeof secret);
        cr_assert_eq(memcmp(buf, secret, n), 0);

        /* Exactly big enough, and too small. */
        cr_assert_eq(keyring_read_secret(s, buf, sizeof secret, &n), 0);
        cr_assert_eq(n, sizeof secret);
        cr_assert_eq(memcmp(buf, secret, n), 0);
        n = 777;
        cr_assert_eq(keyring_read_secret(s, buf, sizeof secret - 1, &n), -ENOBUFS);
        cr_assert_eq(n, 777);

        /* A serial that is not a key. */
        cr_assert_lt(keyring_read_secret(0x7ffffff0, buf, sizeof buf, &n), 0);
}

Test(keyring, possessor_only_permissions) {
        uint8_t secret[32];
        key_serial_t s;
        unsigned long perm;

        join_or_skip();
        fill(secret, sizeof secret, 2);
        cr_assert_eq(keyring_add_secret(KEY_SPEC_SESSION_KEYRING, "test:perm", secret, sizeof secret, &s), 0);

        perm = key_perm(s);
        cr_assert_eq(perm & KEY_ALL_NON_POSSESSOR, 0, "permissions %08lx grant user, group or others something",
                     perm);
        cr_assert_eq(perm & (KEY_POS_VIEW | KEY_POS_READ | KEY_POS_SEARCH), KEY_POS_VIEW | KEY_POS_READ | KEY_POS_SEARCH,
                     "permissions %08lx: the possessor cannot use the key", perm);
        /* Nobody may link it elsewhere (which would hand out possession). */
        cr_assert_eq(perm & KEY_POS_LINK, 0, "permissions %08lx allow linking", perm);
}

/* Runs in a forked child: exits 0 if the key reads back as expected, else errno of the failure (or 255). */
static _Noreturn void child_read(key_serial_t s, const uint8_t *expected, size_t n, bool new_session) {
        uint8_t buf[256];
        long r;

        if (new_session && keyctl_join_session_keyring(NULL) < 0)
                _exit(254);
        r = keyctl_read(s, (char *) buf, sizeof buf);
        if (r < 0)
                _exit(errno > 0 && errno < 254 ? errno : 253);
        _exit((size_t) r == n && memcmp(buf, expected, n) == 0 ? 0 : 255);
}

static int run_child(key_serial_t s, const uint8_t *expected, size_t n, bool new_session) {
        int status;
        pid_t pid;

        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0)
                child_read(s, expected, n, new_session);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status), "child died: status %d", status);
        return WEXITSTATUS(status);
}

Test(keyring, unreadable_without_possession) {
        uint8_t secret[48];
        key_serial_t s;
        int r;

        join_or_skip();
        fill(secret, sizeof secret, 3);
        cr_assert_eq(keyring_add_secret(KEY_SPEC_SESSION_KEYRING, "test:possession", secret, sizeof secret, &s), 0);

        /* The control: a child in the same session keyring possesses the key and reads it. */
        r = run_child(s, secret, sizeof secret, false);
        cr_assert_eq(r, 0, "a possessing child could not read the key (exit %d)", r);

        /* The same user, in another session keyring: no possession, no access. */
        r = run_child(s, secret, sizeof secret, true);
        cr_assert_neq(r, 254, "the child could not join a new session keyring");
        cr_assert_neq(r, 0, "a process of the same user without possession read the key");
        cr_assert_eq(r, EACCES, "keyctl_read without possession failed with %d (%s), not EACCES", r,
                     r < 253 ? strerror(r) : "?");
}

/* ---- the cache ---- */

#define N_ENTRIES 10
#define MAX_SLOTS 4
#define MATERIAL_SIZE 48

/* The cache holds materials: each entry is one material of its own key. */
static KeyEntry keys[N_ENTRIES];
static KeyVersion entries[N_ENTRIES];
static uint8_t material[N_ENTRIES][MATERIAL_SIZE];

static KeyCache *new_cache(size_t max) {
        KeyCache *c = NULL;

        join_or_skip();
        for (size_t i = 0; i < N_ENTRIES; i++) {
                keys[i] = (KeyEntry) { .seq = (int64_t) i + 1, .spec = KEY_SPEC_HMAC_384 };
                snprintf(keys[i].key_id, sizeof keys[i].key_id, "%08zx-0000-4000-8000-000000000000", i);
                entries[i] = (KeyVersion) { .cache_slot = -1, .key = &keys[i] };
                snprintf(entries[i].id, sizeof entries[i].id, "%064zx", i);
                fill(material[i], MATERIAL_SIZE, (unsigned) i + 100);
        }
        cr_assert_eq(key_cache_new(max, false, &c), 0);
        cr_assert_not_null(c);
        cr_assert_gt(c->keyring, 0);
        return c;
}

static key_serial_t put(KeyCache *c, size_t i) {
        key_serial_t s = 0;

        cr_assert_eq(key_cache_put(c, &entries[i], material[i], MATERIAL_SIZE, &s), 0, "put %zu", i);
        cr_assert_gt(s, 0);
        cr_assert_geq(entries[i].cache_slot, 0);
        cr_assert_lt((size_t) entries[i].cache_slot, c->max_slots);
        return s;
}

static void check_material(key_serial_t s, size_t i) {
        uint8_t buf[256];
        size_t n;

        cr_assert_eq(keyring_read_secret(s, buf, sizeof buf, &n), 0, "serial %d (entry %zu)", (int) s, i);
        cr_assert_eq(n, MATERIAL_SIZE);
        cr_assert_eq(memcmp(buf, material[i], n), 0, "serial %d holds the wrong material for entry %zu", (int) s, i);
}

static size_t keys_in_keyring(key_serial_t keyring) {
        key_serial_t list[64];
        long n = keyctl_read(keyring, (char *) list, sizeof list);

        cr_assert_geq(n, 0, "keyctl_read(keyring): %m");
        return (size_t) n / sizeof list[0];
}

Test(key_cache, default_max) {
        size_t m = key_cache_default_max();

        cr_assert_gt(m, 0);
        cr_assert_leq(m, 4096);
}

Test(key_cache, new_rejects_zero) {
        KeyCache *c = NULL;

        join_or_skip();
        cr_assert_eq(key_cache_new(0, false, &c), -EINVAL);
        cr_assert_null(c);
}

Test(key_cache, lru_eviction) {
        _cleanup_(key_cache_freep) KeyCache *c = new_cache(MAX_SLOTS);
        key_serial_t serials[N_ENTRIES];

        for (size_t i = 0; i < N_ENTRIES; i++)
                serials[i] = put(c, i);

        /* The six least recently used were evicted; the four most recent are cached and readable. */
        for (size_t i = 0; i < N_ENTRIES - MAX_SLOTS; i++) {
                cr_assert_eq(entries[i].cache_slot, -1, "entry %zu should have been evicted", i);
                cr_assert_eq(key_cache_get(c, &entries[i]), 0);
        }
        for (size_t i = N_ENTRIES - MAX_SLOTS; i < N_ENTRIES; i++) {
                key_serial_t s = key_cache_get(c, &entries[i]);
                cr_assert_eq(s, serials[i], "entry %zu", i);
                check_material(s, i);
                for (size_t j = N_ENTRIES - MAX_SLOTS; j < i; j++)
                        cr_assert_neq(entries[i].cache_slot, entries[j].cache_slot);
        }
        cr_assert_eq(c->evictions, N_ENTRIES - MAX_SLOTS);
        cr_assert_eq(c->n_slots, MAX_SLOTS);

        /* Eviction re-used the keys in place: entry i got the serial of entry i - 4, and the keyring
         * holds no more than MAX_SLOTS keys. */
        for (size_t i = MAX_SLOTS; i < N_ENTRIES; i++)
                cr_assert_eq(serials[i], serials[i - MAX_SLOTS], "entry %zu", i);
        cr_assert_eq(keys_in_keyring(c->keyring), MAX_SLOTS);

        /* Cached keys are possessor-only as well. */
        for (size_t i = N_ENTRIES - MAX_SLOTS; i < N_ENTRIES; i++)
                cr_assert_eq(key_perm(serials[i]) & KEY_ALL_NON_POSSESSOR, 0);
}

Test(key_cache, get_refreshes_recency) {
        _cleanup_(key_cache_freep) KeyCache *c = new_cache(MAX_SLOTS);
        key_serial_t serials[N_ENTRIES];
        uint64_t hits;

        for (size_t i = 0; i < MAX_SLOTS; i++)
                serials[i] = put(c, i);

        /* Entry 0 is the least recently used; using it makes entry 1 the one to go. */
        hits = c->hits;
        cr_assert_eq(key_cache_get(c, &entries[0]), serials[0]);
        cr_assert_eq(c->hits, hits + 1);
        serials[4] = put(c, 4);

        cr_assert_geq(entries[0].cache_slot, 0, "entry 0 was evicted although just used");
        cr_assert_eq(entries[1].cache_slot, -1, "entry 1 was not evicted");
        cr_assert_eq(serials[4], serials[1]);
        check_material(key_cache_get(c, &entries[0]), 0);
        check_material(key_cache_get(c, &entries[4]), 4);

        /* And again: now 2 is the oldest, unless it is used. */
        cr_assert_eq(key_cache_get(c, &entries[2]), serials[2]);
        put(c, 5);
        cr_assert_geq(entries[2].cache_slot, 0);
        cr_assert_eq(entries[3].cache_slot, -1);
        check_material(key_cache_get(c, &entries[2]), 2);
}

Test(key_cache, put_again_updates_in_place) {
        _cleanup_(key_cache_freep) KeyCache *c = new_cache(MAX_SLOTS);
        key_serial_t s, s2;
        int slot;

        s = put(c, 0);
        put(c, 1);
        slot = entries[0].cache_slot;
        fill(material[0], MATERIAL_SIZE, 999);
        s2 = put(c, 0);
        cr_assert_eq(s2, s);
        cr_assert_eq(entries[0].cache_slot, slot);
        check_material(s, 0);
        cr_assert_eq(c->evictions, 0);
        cr_assert_eq(keys_in_keyring(c->keyring), 2);
}

Test(key_cache, drop) {
        _cleanup_(key_cache_freep) KeyCache *c = new_cache(MAX_SLOTS);
        key_serial_t serials[N_ENTRIES];
        uint8_t buf[256];
        uint64_t evictions;
        int slot;

        for (size_t i = 0; i < MAX_SLOTS; i++)
                serials[i] = put(c, i);
        slot = entries[1].cache_slot;

        key_cache_drop(c, &entries[1]);
        cr_assert_eq(entries[1].cache_slot, -1);
        cr_assert_eq(key_cache_get(c, &entries[1]), 0);
        /* The key is gone from the kernel, not only from the table. */
        cr_assert_lt(keyctl_read(serials[1], (char *) buf, sizeof buf), 0, "dropped key still readable");

        /* Dropping what is not cached is harmless. */
        key_cache_drop(c, &entries[1]);
        key_cache_drop(c, &entries[7]);

        /* The freed slot is used next, without evicting anyone. */
        evictions = c->evictions;
        serials[4] = put(c, 4);
        cr_assert_eq(entries[4].cache_slot, slot);
        cr_assert_eq(c->evictions, evictions);
        cr_assert_neq(serials[4], serials[1]);
        check_material(serials[4], 4);
        for (size_t i = 0; i < MAX_SLOTS; i++)
                if (i != 1) {
                        cr_assert_geq(entries[i].cache_slot, 0, "entry %zu evicted", i);
                        check_material(key_cache_get(c, &entries[i]), i);
                }

        /* Recency after all that (gets above: 0, 2, 3): 4 is the oldest now. */
        put(c, 5);
        cr_assert_eq(entries[4].cache_slot, -1);
        cr_assert_eq(c->evictions, evictions + 1);
}

Test(key_cache, drop_all_then_refill) {
        _cleanup_(key_cache_freep) KeyCache *c = new_cache(MAX_SLOTS);

        for (size_t i = 0; i < MAX_SLOTS; i++)
                put(c, i);
        for (size_t i = 0; i < MAX_SLOTS; i++)
                key_cache_drop(c, &entries[i]);
        for (size_t i = MAX_SLOTS; i < 2 * MAX_SLOTS; i++)
                check_material(put(c, i), i);
        cr_assert_eq(c->evictions, 0);
        cr_assert_eq(c->n_slots, MAX_SLOTS);
        for (size_t i = MAX_SLOTS; i < 2 * MAX_SLOTS; i++)
                cr_assert_geq(entries[i].cache_slot, 0);
}

Test(key_cache, free_invalidates) {
        KeyCache *c = new_cache(MAX_SLOTS);
        key_serial_t s[2];
        uint8_t buf[256];

        s[0] = put(c, 0);
        s[1] = put(c, 1);
        c = key_cache_free(c);
        cr_assert_null(c);
        cr_assert_eq(entries[0].cache_slot, -1);
        cr_assert_eq(entries[1].cache_slot, -1);
        for (size_t i = 0; i < 2; i++)
                cr_assert_lt(keyctl_read(s[i], (char *) buf, sizeof buf), 0, "key %zu readable after free", i);
}

/* ---- the kernel engine's cache: logon keys, and the sockets kept with them ---- */

static KeyCache *new_logon_cache(size_t max) {
        KeyCache *c = new_cache(max);

        /* new_cache() made a user-key cache; the same entries in a logon one. */
        key_cache_free(c);
        c = NULL;
        cr_assert_eq(key_cache_new(max, true, &c), 0);
        return c;
}

/* Stands in for an AF_ALG operation socket: any descriptor the cache must close. */
static int some_fd(void) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        return fd;
}

static bool fd_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

Test(key_cache, logon_keys_named_by_key_id_and_material_and_unreadable) {
        _cleanup_(key_cache_freep) KeyCache *c = new_logon_cache(MAX_SLOTS);
        _cleanup_free_ char *desc = NULL;
        char want[80];
        uint8_t buf[256];
        size_t n;
        key_serial_t s = put(c, 0);

        cr_assert_geq(keyctl_describe_alloc(s, &desc), 0, "keyctl_describe: %m");
        /* One logon key per material: "hmacd:<key-id>/<16 characters of the KeyMaterialId>". */
        snprintf(want, sizeof want, ";hmacd:%s/%.16s", keys[0].key_id, entries[0].id);
        cr_assert(strncmp(desc, "logon;", 6) == 0 && strstr(desc, want), "'%s'", desc);
        cr_assert_eq(key_perm(s) & KEY_ALL_NON_POSSESSOR, 0, "'%s'", desc);
        /* Not even its possessor reads a logon key back. */
        cr_assert_eq(keyring_read_secret(s, buf, sizeof buf, &n), -EOPNOTSUPP);
}

Test(key_cache, sockets_go_with_their_keys) {
        _cleanup_(key_cache_freep) KeyCache *c = new_logon_cache(2);
        int a, b, d;

        put(c, 0);
        put(c, 1);
        cr_assert_eq(key_cache_fd(c, &entries[0]), -1);
        key_cache_set_fd(c, &entries[0], a = some_fd());
        key_cache_set_fd(c, &entries[1], b = some_fd());
        cr_assert_eq(key_cache_fd(c, &entries[0]), a);

        /* Entry 0 is the least recently used: a third key evicts it, and its socket. */
        (void) key_cache_get(c, &entries[1]);
        put(c, 2);
        cr_assert_lt(entries[0].cache_slot, 0);
        cr_assert(!fd_open(a), "the evicted key's socket is still open");
        cr_assert(fd_open(b));
        cr_assert_eq(key_cache_fd(c, &entries[2]), -1, "the new key inherited a socket");

        /* Dropping a key (deleted, or its material changed) closes its socket. */
        key_cache_drop(c, &entries[1]);
        cr_assert(!fd_open(b), "the dropped key's socket is still open");

        /* A failed operation closes the socket and keeps the key. */
        key_cache_set_fd(c, &entries[2], d = some_fd());
        key_cache_close_fd(c, &entries[2]);
        cr_assert(!fd_open(d));
        cr_assert_geq(entries[2].cache_slot, 0);
        cr_assert_eq(key_cache_fd(c, &entries[2]), -1);

        /* Putting new material for a cached key closes the socket keyed from the old. */
        key_cache_set_fd(c, &entries[2], d = some_fd());
        put(c, 2);
        cr_assert(!fd_open(d), "a socket keyed from replaced material is still open");

        /* A socket for a key that is not cached is closed at once, not leaked. */
        key_cache_set_fd(c, &entries[1], d = some_fd());
        cr_assert(!fd_open(d));

        /* Freeing the cache closes what it holds. */
        key_cache_set_fd(c, &entries[2], d = some_fd());
        key_cache_free(TAKE_PTR(c));
        cr_assert(!fd_open(d));
}
