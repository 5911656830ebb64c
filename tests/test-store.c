/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/store.c: the SQLite store of keys, tags, sealed material and metadata. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../daemon/seal.h"
#include "../daemon/store.h"
#include "harness.h"
#include "macro.h"

static char tmpdir[PATH_MAX];
static char db_path[sizeof tmpdir + 32];

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static void setup(void) {
        /* Under $TMPDIR (tests/run-tests points it into its own scratch directory). */
        snprintf(tmpdir, sizeof tmpdir, "%s/test-store-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp(%s): %m", tmpdir);
        snprintf(db_path, sizeof db_path, "%s/%s", tmpdir, STORE_FILE_NAME);
}

static void teardown(void) {
        (void) nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .init = setup, .fini = teardown);

static char *path_in_tmpdir(const char *name) {
        char *p;

        cr_assert_gt(asprintf(&p, "%s/%s", tmpdir, name), 0);
        return p;
}

static void *read_file(const char *path, size_t *ret_size) {
        struct stat st;
        uint8_t *buf;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0, "%s: %m", path);
        cr_assert_eq(fstat(fd, &st), 0);
        buf = malloc((size_t) st.st_size + 1);
        cr_assert_not_null(buf);
        cr_assert_eq(read(fd, buf, (size_t) st.st_size), st.st_size);
        close(fd);
        *ret_size = (size_t) st.st_size;
        return buf;
}

static void write_file(const char *path, const void *data, size_t n) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        cr_assert_geq(fd, 0, "%s: %m", path);
        cr_assert_eq(write(fd, data, n), (ssize_t) n);
        close(fd);
}

/* ---- test keys ---- */

typedef struct TestKey {
        KeyEntry entry;
        const char *description;
        KeyTag tags[3];
        size_t n_tags;
        bool has_material;
        uint8_t sealed[64 + SEAL_OVERHEAD];
        size_t sealed_size;
        KeyVersion version;             /* its initial material (KeyMaterialId from material_id()) */
        KeyVersion *versions[1];
} TestKey;

/* The KeyMaterialId of the test key whose ID is id. */
static const char *material_id(const char *id) {
        static char buf[4][KMS_KEY_MATERIAL_ID_LENGTH + 1];
        static unsigned i;
        char *b = buf[i++ % 4];

        size_t n = 0;

        /* The key ID's 32 hex digits, twice. */
        while (n < KMS_KEY_MATERIAL_ID_LENGTH)
                for (const char *p = id; *p && n < KMS_KEY_MATERIAL_ID_LENGTH; p++)
                        if (*p != '-')
                                b[n++] = *p;
        b[n] = 0;
        return b;
}

static uint8_t kek[KEK_SIZE];

static void make_key(TestKey *k, const char *id, KeySpec spec, KeyState state, KeyOrigin origin, uid_t uid,
                     const char *description, bool has_material) {
        *k = (TestKey) {
                .entry = {
                        .spec = spec,
                        .state = state,
                        .origin = origin,
                        .owner_uid = uid,
                        .creation_date = 1700000000000000ull + (uint64_t) uid,
                        .deletion_date = state == KEY_STATE_PENDING_DELETION ? 1800000000000000ull : 0,
                        .valid_to = origin == KEY_ORIGIN_EXTERNAL ? 1900000000000000ull : 0,
                },
                .description = description,
                .has_material = has_material,
        };
        cr_assert_eq(strlen(id), (size_t) KEY_ID_LEN);
        strcpy(k->entry.key_id, id);

        if (has_material) {
                k->version = (KeyVersion) { .cache_slot = -1, .key = &k->entry };
                strcpy(k->version.id, material_id(id));
                k->versions[0] = &k->version;
                k->entry.versions = k->versions;
                k->entry.n_versions = 1;
                k->entry.has_material = true;
        }
        if (has_material) {
                uint8_t material[64];
                char aad[64];

                cr_assert_eq(getrandom(material, key_spec_key_size(spec), 0), (ssize_t) key_spec_key_size(spec));
                snprintf(aad, sizeof aad, "%s/%s", id, key_spec_to_string(spec));
                cr_assert_eq(seal(kek, aad, strlen(aad), material, key_spec_key_size(spec), k->sealed,
                                  &k->sealed_size),
                             0);
        }
}

static int insert(Store *s, TestKey *k) {
        return store_insert_key(s, &k->entry, k->description, k->tags, k->n_tags,
                                k->has_material ? k->sealed : NULL, k->sealed_size);
}

typedef struct Loaded {
        KeyEntry *entries[16];
        size_t n;
} Loaded;

static int collect(KeyEntry *e, void *userdata) {
        Loaded *l = userdata;

        cr_assert_lt(l->n, ELEMENTSOF(l->entries));
        l->entries[l->n++] = e;
        return 0;
}

static void loaded_done(Loaded *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->entries[i]);
        l->n = 0;
}

static void check_entry(const KeyEntry *got, const KeyEntry *want) {
        cr_assert_str_eq(got->key_id, want->key_id);
        cr_assert_eq(got->seq, want->seq, "%s", want->key_id);
        cr_assert_eq(got->spec, want->spec, "%s", want->key_id);
        cr_assert_eq(got->state, want->state, "%s", want->key_id);
        cr_assert_eq(got->origin, want->origin, "%s", want->key_id);
        cr_assert_eq(got->owner_uid, want->owner_uid, "%s", want->key_id);
        cr_assert_eq(got->creation_date, want->creation_date, "%s", want->key_id);
        cr_assert_eq(got->deletion_date, want->deletion_date, "%s", want->key_id);
        cr_assert_eq(got->valid_to, want->valid_to, "%s", want->key_id);
        cr_assert_eq(got->has_material, want->has_material, "%s", want->key_id);
}

#define ID_A "aaaaaaaa-1111-4111-8111-111111111111"
#define ID_B "bbbbbbbb-2222-4222-9222-222222222222"
#define ID_C "cccccccc-3333-4333-a333-333333333333"
#define ID_D "dddddddd-4444-4444-b444-444444444444"

/* Three keys of different shapes: with tags and material, PendingImport without material, and a
 * PendingDeletion key with a deletion date. */
static void make_keys(TestKey k[static 3]) {
        cr_assert_eq(getrandom(kek, sizeof kek, 0), (ssize_t) sizeof kek);

        make_key(&k[0], ID_C, KEY_SPEC_HMAC_256, KEY_STATE_ENABLED, KEY_ORIGIN_HMACD, 1000,
                 "first key: Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac", true);
        k[0].tags[0] = (KeyTag) { "team", "payments" };
        k[0].tags[1] = (KeyTag) { "env", "" };
        k[0].tags[2] = (KeyTag) { "cost-center", "42" };
        k[0].n_tags = 3;

        make_key(&k[1], ID_A, KEY_SPEC_HMAC_512, KEY_STATE_PENDING_IMPORT, KEY_ORIGIN_EXTERNAL, 0, "", false);

        make_key(&k[2], ID_B, KEY_SPEC_HMAC_224, KEY_STATE_PENDING_DELETION, KEY_ORIGIN_HMACD, 65534,
                 "third", true);
        k[2].tags[0] = (KeyTag) { "x", "y" };
        k[2].n_tags = 1;
}

static void create_store_with_keys(TestKey k[static 3]) {
        _cleanup_(store_freep) Store *s = NULL;
        const char *reason = NULL;

        make_keys(k);
        cr_assert_eq(store_open(db_path, true, &s, &reason), 0, "store_open: %s", reason);
        for (size_t i = 0; i < 3; i++) {
                cr_assert_eq(insert(s, &k[i]), 0, "key %zu", i);
                cr_assert_gt(k[i].entry.seq, 0);
                if (i > 0)
                        cr_assert_gt(k[i].entry.seq, k[i - 1].entry.seq, "seq must grow in creation order");
        }
}

/* The tags of a key, through store_load_tags(), as "k=v;k=v" in tag key order. */
typedef struct TagCollector {
        const char *key_id;
        char *out;
} TagCollector;

static int collect_tag(const char *key_id, const char *key, const char *value, void *userdata) {
        TagCollector *c = userdata;
        char *t;

        if (!streq(key_id, c->key_id))
                return 0;
        cr_assert_gt(asprintf(&t, "%s%s%s=%s", c->out, *c->out ? ";" : "", key, value), 0);
        free(c->out);
        c->out = t;
        return 0;
}

static char *tags_of(Store *s, const char *key_id) {
        TagCollector c = { .key_id = key_id, .out = strdup("") };

        cr_assert_not_null(c.out);
        cr_assert_eq(store_load_tags(s, collect_tag, &c), 0);
        return c.out;
}

Test(store, create_insert_reopen_load) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *tags0 = NULL, *tags1 = NULL, *tags2 = NULL;
        const char *reason = NULL;
        TestKey k[3];
        Loaded l = {};

        create_store_with_keys(k);

        /* Reopened as an existing store: all three, in creation order (not key ID order), every field. */
        cr_assert_eq(store_open(db_path, false, &s, &reason), 0, "store_open: %s", reason);
        cr_assert_eq(store_load_keys(s, collect, &l), 0);
        cr_assert_eq(l.n, 3);
        for (size_t i = 0; i < 3; i++)
                check_entry(l.entries[i], &k[i].entry);
        loaded_done(&l);

        tags0 = tags_of(s, ID_C);
        tags1 = tags_of(s, ID_A);
        tags2 = tags_of(s, ID_B);
        cr_assert_str_eq(tags0, "cost-center=42;env=;team=payments");
        cr_assert_str_eq(tags1, "");
        cr_assert_str_eq(tags2, "x=y");
}

static int stop_at_second(KeyEntry *e, void *userdata) {
        int *n = userdata;

        free(e);
        return ++*n == 2 ? -ECANCELED : 0;
}

Test(store, load_callback_error_stops) {
        _cleanup_(store_freep) Store *s = NULL;
        TestKey k[3];
        int calls = 0;

        create_store_with_keys(k);
        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);

        cr_assert_eq(store_load_keys(s, stop_at_second, &calls), -ECANCELED);
        cr_assert_eq(calls, 2);
}

Test(store, material_and_description) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *d0 = NULL, *d1 = NULL, *d2 = NULL, *none = NULL;
        uint8_t buf[STORE_SEALED_MAX];
        size_t n = 999;
        TestKey k[3];

        create_store_with_keys(k);
        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);

        /* The sealed blob comes back byte for byte. */
        cr_assert_eq(store_get_material(s, ID_C, material_id(ID_C), buf, sizeof buf, &n), 0);
        cr_assert_eq(n, k[0].sealed_size);
        cr_assert_eq(memcmp(buf, k[0].sealed, n), 0);
        cr_assert_eq(store_get_material(s, ID_B, material_id(ID_B), buf, sizeof buf, &n), 0);
        cr_assert_eq(n, k[2].sealed_size);
        cr_assert_eq(memcmp(buf, k[2].sealed, n), 0);
        /* Twice in a row (the statement is re-used). */
        cr_assert_eq(store_get_material(s, ID_C, material_id(ID_C), buf, sizeof buf, &n), 0);
        cr_assert_eq(memcmp(buf, k[0].sealed, n), 0);

        /* No material (PendingImport), no such key, buffer too small. */
        n = 999;
        cr_assert_eq(store_get_material(s, ID_A, material_id(ID_A), buf, sizeof buf, &n), -ENOENT);
        cr_assert_eq(store_get_material(s, ID_C, material_id(ID_B), buf, sizeof buf, &n), -ENOENT);
        cr_assert_eq(store_get_material(s, ID_D, material_id(ID_D), buf, sizeof buf, &n), -ENOENT);
        cr_assert_eq(store_get_material(s, ID_C, material_id(ID_C), buf, k[0].sealed_size - 1, &n), -ENOBUFS);
        cr_assert_eq(n, 999);
        cr_assert_eq(store_get_material(s, ID_C, material_id(ID_C), buf, k[0].sealed_size, &n), 0);
        cr_assert_eq(n, k[0].sealed_size);

        cr_assert_eq(store_get_description(s, ID_C, &d0), 0);
        cr_assert_str_eq(d0, k[0].description);
        cr_assert_eq(store_get_description(s, ID_A, &d1), 0);
        cr_assert_str_eq(d1, "");
        cr_assert_eq(store_get_description(s, ID_B, &d2), 0);
        cr_assert_str_eq(d2, "third");
        cr_assert_eq(store_get_description(s, ID_D, &none), -ENOENT);
        cr_assert_null(none);
}

Test(store, meta) {
        _cleanup_(store_freep) Store *s = NULL;
        static const uint8_t value[] = { 0x00, 0x01, 0xff, 0x00, 0x42 };
        uint8_t buf[64];
        size_t n = 999;

        cr_assert_eq(store_open(db_path, true, &s, NULL), 0);
        cr_assert_eq(store_meta_get(s, "kek_check", buf, sizeof buf, &n), -ENOENT);
        cr_assert_eq(n, 999);

        cr_assert_eq(store_meta_set(s, "kek_check", value, sizeof value), 0);
        cr_assert_eq(store_meta_get(s, "kek_check", buf, sizeof buf, &n), 0);
        cr_assert_eq(n, sizeof value);
        cr_assert_eq(memcmp(buf, value, sizeof value), 0, "embedded NULs must survive");
        cr_assert_eq(store_meta_get(s, "kek_check", buf, sizeof value - 1, &n), -ENOBUFS);

        /* Replaced, not added. */
        cr_assert_eq(store_meta_set(s, "kek_check", "abc", 3), 0);
        cr_assert_eq(store_meta_get(s, "kek_check", buf, sizeof buf, &n), 0);
        cr_assert_eq(n, 3);
        cr_assert_eq(memcmp(buf, "abc", 3), 0);

        cr_assert_eq(store_meta_set(s, "other", value, 2), 0);

        /* And still there after reopening. */
        s = store_free(s);
        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);
        cr_assert_eq(store_meta_get(s, "kek_check", buf, sizeof buf, &n), 0);
        cr_assert_eq(n, 3);
        cr_assert_eq(memcmp(buf, "abc", 3), 0);
        cr_assert_eq(store_meta_get(s, "other", buf, sizeof buf, &n), 0);
        cr_assert_eq(n, 2);
        cr_assert_eq(memcmp(buf, value, 2), 0);
}

Test(store, create_true_keeps_existing_keys) {
        _cleanup_(store_freep) Store *s = NULL;
        TestKey k[3];
        Loaded l = {};

        create_store_with_keys(k);
        cr_assert_eq(store_open(db_path, true, &s, NULL), 0);
        cr_assert_eq(store_load_keys(s, collect, &l), 0);
        cr_assert_eq(l.n, 3);
        for (size_t i = 0; i < 3; i++)
                check_entry(l.entries[i], &k[i].entry);
        loaded_done(&l);
}

Test(store, open_missing_without_create) {
        Store *s = NULL;
        const char *reason = NULL;

        cr_assert_lt(store_open(db_path, false, &s, &reason), 0);
        cr_assert_null(s);
        cr_assert_not_null(reason);
        cr_assert_neq(access(db_path, F_OK), 0, "store_open(create=false) created %s", db_path);
}

static void check_refused_unchanged(const char *path) {
        _cleanup_free_ void *before = NULL, *after = NULL;
        size_t before_size, after_size;
        const char *reason = NULL;
        Store *s = NULL;
        int r;

        before = read_file(path, &before_size);
        r = store_open(path, false, &s, &reason);
        cr_assert_eq(r, -EBADMSG, "store_open(%s) of %zu bytes returned %d (%s)", path, before_size, r,
                     strempty(reason));
        cr_assert_null(s);
        cr_assert_not_null(reason);
        cr_assert_gt(strlen(reason), 0);

        after = read_file(path, &after_size);
        cr_assert_eq(after_size, before_size, "store_open() changed the size of %s", path);
        cr_assert_eq(memcmp(before, after, before_size), 0, "store_open() changed %s", path);
}

Test(store, open_garbage) {
        _cleanup_free_ char *p = path_in_tmpdir("garbage.db");
        uint8_t junk[8192];

        cr_assert_eq(getrandom(junk, sizeof junk, 0), (ssize_t) sizeof junk);
        write_file(p, junk, sizeof junk);
        check_refused_unchanged(p);

        /* Text, and a file that starts like an SQLite database and then is not one. */
        memset(junk, 'x', sizeof junk);
        write_file(p, junk, sizeof junk);
        check_refused_unchanged(p);
        memcpy(junk, "SQLite format 3", 16);
        write_file(p, junk, sizeof junk);
        check_refused_unchanged(p);
}

Test(store, open_foreign_sqlite_database) {
        _cleanup_free_ char *p = path_in_tmpdir("other.db");
        sqlite3 *db = NULL;

        /* A valid SQLite database that is not an hmacd store. */
        cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        check_refused_unchanged(p);

        /* An empty file is an empty SQLite database, and not a store either. */
        write_file(p, "", 0);
        check_refused_unchanged(p);
}

Test(store, open_truncated) {
        _cleanup_free_ char *p = path_in_tmpdir("truncated.db");
        _cleanup_free_ void *full = NULL;
        size_t full_size;
        TestKey k[3];

        create_store_with_keys(k);
        /* More keys, so that the file has a few pages. */
        {
                _cleanup_(store_freep) Store *s = NULL;
                cr_assert_eq(store_open(db_path, false, &s, NULL), 0);
                for (unsigned i = 0; i < 200; i++) {
                        TestKey extra;
                        char id[KEY_ID_LEN + 1];
                        snprintf(id, sizeof id, "%08x-5555-4555-8555-555555555555", i);
                        make_key(&extra, id, KEY_SPEC_HMAC_384, KEY_STATE_ENABLED, KEY_ORIGIN_HMACD, i,
                                 "a description long enough to need some room on a page", true);
                        cr_assert_eq(insert(s, &extra), 0);
                }
        }
        cr_assert_eq(access(db_path, F_OK), 0);
        full = read_file(db_path, &full_size);
        cr_assert_gt(full_size, 4 * 4096, "store is only %zu bytes", full_size);

        /* Cut at a page boundary, in the middle of a page, and to less than one page. */
        const size_t cuts[] = { full_size / 2 / 4096 * 4096, full_size / 2 + 100, full_size - 1, 100 };
        for (size_t i = 0; i < ELEMENTSOF(cuts); i++) {
                write_file(p, full, cuts[i]);
                check_refused_unchanged(p);
        }
}

Test(store, duplicate_key_id) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *d = NULL, *tags = NULL;
        uint8_t buf[STORE_SEALED_MAX];
        TestKey k[3], dup, next;
        size_t n;
        Loaded l = {};

        create_store_with_keys(k);
        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);

        /* Same key ID as the first key, everything else different. */
        make_key(&dup, ID_C, KEY_SPEC_HMAC_512, KEY_STATE_DISABLED, KEY_ORIGIN_EXTERNAL, 4242, "impostor", true);
        dup.tags[0] = (KeyTag) { "team", "impostors" };
        dup.n_tags = 1;
        dup.entry.seq = -1;
        cr_assert_lt(insert(s, &dup), 0);
        cr_assert_eq(dup.entry.seq, -1, "seq set by a failed insert");

        /* The original is untouched. */
        cr_assert_eq(store_get_description(s, ID_C, &d), 0);
        cr_assert_str_eq(d, k[0].description);
        cr_assert_eq(store_get_material(s, ID_C, material_id(ID_C), buf, sizeof buf, &n), 0);
        cr_assert_eq(n, k[0].sealed_size);
        cr_assert_eq(memcmp(buf, k[0].sealed, n), 0);
        tags = tags_of(s, ID_C);
        cr_assert_str_eq(tags, "cost-center=42;env=;team=payments");

        cr_assert_eq(store_load_keys(s, collect, &l), 0);
        cr_assert_eq(l.n, 3);
        for (size_t i = 0; i < 3; i++)
                check_entry(l.entries[i], &k[i].entry);
        loaded_done(&l);

        /* No transaction was left open: the next insert works and is durable. */
        make_key(&next, ID_D, KEY_SPEC_HMAC_256, KEY_STATE_ENABLED, KEY_ORIGIN_HMACD, 1, "next", true);
        cr_assert_eq(insert(s, &next), 0);
        cr_assert_gt(next.entry.seq, k[2].entry.seq);
        s = store_free(s);
        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);
        cr_assert_eq(store_load_keys(s, collect, &l), 0);
        cr_assert_eq(l.n, 4);
        check_entry(l.entries[3], &next.entry);
        loaded_done(&l);
}

Test(store, failed_tag_insert_rolls_back_key) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *d = NULL, *tags = NULL;
        uint8_t buf[STORE_SEALED_MAX];
        TestKey k[3], bad;
        size_t n;
        Loaded l = {};

        create_store_with_keys(k);
        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);

        /* The second tag repeats the first tag key: the whole key must not be stored. */
        make_key(&bad, ID_D, KEY_SPEC_HMAC_256, KEY_STATE_ENABLED, KEY_ORIGIN_HMACD, 5, "half made", true);
        bad.tags[0] = (KeyTag) { "a", "1" };
        bad.tags[1] = (KeyTag) { "a", "2" };
        bad.n_tags = 2;
        cr_assert_lt(insert(s, &bad), 0);

        cr_assert_eq(store_get_description(s, ID_D, &d), -ENOENT);
        cr_assert_eq(store_get_material(s, ID_D, material_id(ID_D), buf, sizeof buf, &n), -ENOENT);
        tags = tags_of(s, ID_D);
        cr_assert_str_eq(tags, "", "tags of a key that was rolled back: %s", tags);
        cr_assert_eq(store_load_keys(s, collect, &l), 0);
        cr_assert_eq(l.n, 3);
        loaded_done(&l);
}

/* ---- format 2: materials, and the upgrade of a format 1 store ---- */

typedef struct Materials {
        char key_id[8][KEY_ID_LEN + 1];
        KeyVersion *v[8];
        size_t n;
} Materials;

static int collect_material(const char *key_id, KeyVersion *v, void *userdata) {
        Materials *m = userdata;

        if (m->n >= ELEMENTSOF(m->v)) {
                free(v);
                return 0;
        }
        strcpy(m->key_id[m->n], key_id);
        m->v[m->n++] = v;
        return 0;
}

static void materials_done(Materials *m) {
        for (size_t i = 0; i < m->n; i++)
                free(m->v[i]);
        m->n = 0;
}

static int64_t count(Store *s, const char *sql) {
        sqlite3_stmt *st = NULL;
        int64_t n;

        cr_assert_eq(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

/* tests/fixtures/store-v1 was written by the daemon before key material versions (format 1). A
 * failed upgrade leaves it as it was; the upgrade moves each sealed material byte for byte. */
Test(store, upgrade_from_format_1) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *src = NULL;
        _cleanup_free_ void *db = NULL;
        uint8_t before[9][STORE_SEALED_MAX], buf[STORE_SEALED_MAX];
        size_t size, before_size[9], n;
        char ids[9][KEY_ID_LEN + 1];
        Materials m = {};
        sqlite3_stmt *st = NULL;
        size_t k = 0;

        cr_assert(asprintf(&src, "%s/tests/fixtures/store-v1/hmacd.db", harness_source_dir()) > 0);
        db = read_file(src, &size);
        write_file(db_path, db, size);

        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);
        cr_assert_eq(s->format, 1);
        cr_assert_eq(sqlite3_prepare_v2(s->db, "SELECT key_id, material FROM keys WHERE material IS NOT NULL ORDER BY seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
                cr_assert_lt(k, ELEMENTSOF(ids));
                strcpy(ids[k], (const char *) sqlite3_column_text(st, 0));
                before_size[k] = (size_t) sqlite3_column_bytes(st, 1);
                memcpy(before[k], sqlite3_column_blob(st, 1), before_size[k]);
                k++;
        }
        sqlite3_finalize(st);
        cr_assert_eq(k, 9, "the fixture has 9 keys with material, not %zu", k);

        /* Rolled back: still format 1, material where it was. */
        cr_assert_eq(store_upgrade(s, true), -EIO);
        cr_assert_eq(count(s, "SELECT value FROM meta WHERE name = 'format'"), 1);
        cr_assert_eq(count(s, "SELECT count(*) FROM keys WHERE material IS NOT NULL"), 9);
        cr_assert_eq(count(s, "SELECT count(*) FROM sqlite_master WHERE name = 'materials'"), 0);
        s = store_free(s);
        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);
        cr_assert_eq(s->format, 1);

        cr_assert_eq(store_upgrade(s, false), 1);
        cr_assert_eq(store_upgrade(s, false), 0);
        s = store_free(s);
        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);
        cr_assert_eq(s->format, STORE_FORMAT);
        cr_assert_eq(count(s, "SELECT count(*) FROM pragma_table_info('keys') WHERE name = 'material'"), 0);

        cr_assert_eq(store_load_materials(s, collect_material, &m), 0);
        cr_assert_eq(m.n, 8, "the first 8 materials");
        materials_done(&m);
        for (size_t i = 0; i < k; i++) {
                _cleanup_free_ char *sql = NULL;
                const unsigned char *id;

                cr_assert(asprintf(&sql, "SELECT material_id, state, rotation_type, rotation_date FROM materials"
                                         " WHERE key_id = '%s'", ids[i]) > 0);
                cr_assert_eq(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
                cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "no material for %s", ids[i]);
                id = sqlite3_column_text(st, 0);
                cr_assert_eq(strlen((const char *) id), (size_t) KMS_KEY_MATERIAL_ID_LENGTH);
                cr_assert_eq(strspn((const char *) id, "0123456789abcdef"), (size_t) KMS_KEY_MATERIAL_ID_LENGTH);
                cr_assert_str_eq((const char *) sqlite3_column_text(st, 1), "CURRENT");
                cr_assert_str_eq((const char *) sqlite3_column_text(st, 2), "");
                cr_assert_eq(sqlite3_column_int64(st, 3), 0);
                cr_assert_eq(store_get_material(s, ids[i], (const char *) id, buf, sizeof buf, &n), 0);
                cr_assert_eq(n, before_size[i]);
                cr_assert_eq(memcmp(buf, before[i], n), 0, "sealed material of %s changed", ids[i]);
                cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "more than one material for %s", ids[i]);
                sqlite3_finalize(st);
        }
}

/* A rotation makes the current material previous; at most one is current; previous ones can be
 * deleted, the current one cannot. */
Test(store, rotate_and_delete_materials) {
        _cleanup_(store_freep) Store *s = NULL;
        uint8_t buf[STORE_SEALED_MAX];
        KeyVersion *v = key_version_new(material_id(ID_D), ROTATION_ON_DEMAND, 1750000000000000ull, 0);
        Materials m = {};
        TestKey k[3];
        size_t n;

        create_store_with_keys(k);
        cr_assert_eq(store_open(db_path, false, &s, NULL), 0);
        cr_assert_not_null(v);

        cr_assert_eq(store_rotate(s, ID_C, v, k[2].sealed, k[2].sealed_size, 0, 1750000000000000ull), 0);
        /* The same ID again breaks its uniqueness: refused, nothing changed. */
        cr_assert_lt(store_rotate(s, ID_C, v, k[2].sealed, k[2].sealed_size, 0, 0), 0);
        /* A key without a current material has nothing to rotate. */
        cr_assert_eq(store_rotate(s, ID_A, v, k[2].sealed, k[2].sealed_size, 0, 0), -ENOENT);

        cr_assert_eq(store_load_materials(s, collect_material, &m), 0);
        cr_assert_eq(m.n, 3);   /* ID_B's, then ID_C's previous and its current */
        cr_assert_str_eq(m.key_id[1], ID_C);
        cr_assert_str_eq(m.v[1]->id, material_id(ID_C));
        cr_assert_eq(m.v[1]->stopped_date, 1750000000000000ull);
        cr_assert_str_eq(m.v[2]->id, material_id(ID_D));
        cr_assert_eq(m.v[2]->stopped_date, 0);
        cr_assert_eq(m.v[2]->type, ROTATION_ON_DEMAND);
        cr_assert_eq(m.v[2]->rotation_date, 1750000000000000ull);
        materials_done(&m);
        cr_assert_eq(count(s, "SELECT count(*) FROM materials WHERE state = 'CURRENT'"), 2);

        cr_assert_eq(store_delete_materials(s, ID_C, (const char *[]) { material_id(ID_D) }, 1), -ENOENT);
        cr_assert_eq(store_delete_materials(s, ID_C, (const char *[]) { material_id(ID_C) }, 1), 0);
        cr_assert_eq(store_get_material(s, ID_C, material_id(ID_C), buf, sizeof buf, &n), -ENOENT);
        cr_assert_eq(store_get_material(s, ID_C, material_id(ID_D), buf, sizeof buf, &n), 0);
        cr_assert_eq(memcmp(buf, k[2].sealed, n), 0);
        free(v);
}
