/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SQLite storage of keys. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "store.h"

#define ROTATION_COLUMNS \
        ", rotation_enabled INTEGER NOT NULL DEFAULT 0" \
        ", rotation_period INTEGER NOT NULL DEFAULT 0" \
        ", next_rotation_date INTEGER NOT NULL DEFAULT 0" \
        ", on_demand_rotation_date INTEGER NOT NULL DEFAULT 0" \
        ", mac_verify_window INTEGER NOT NULL DEFAULT 0"

#define MATERIALS_SCHEMA \
        "CREATE TABLE IF NOT EXISTS materials (" \
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT," \
        "  key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE," \
        "  material_id TEXT NOT NULL UNIQUE," \
        "  sealed BLOB NOT NULL," \
        "  state TEXT NOT NULL CHECK (state IN ('CURRENT', 'PREVIOUS'))," \
        "  rotation_type TEXT NOT NULL," \
        "  rotation_date INTEGER NOT NULL," \
        "  stopped_date INTEGER NOT NULL);" \
        "CREATE UNIQUE INDEX IF NOT EXISTS materials_current ON materials(key_id) WHERE state = 'CURRENT';" \
        "CREATE INDEX IF NOT EXISTS materials_by_key ON materials(key_id);"

/* From format 1 (the key's one material in keys.material) to 2, in one transaction: each material
 * becomes its key's initial material under a new random KeyMaterialId, sealed bytes unchanged (the
 * associated data is the key's, so every MAC stays the same). */
static const char upgrade_1_to_2[] =
        "ALTER TABLE keys ADD COLUMN rotation_enabled INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE keys ADD COLUMN rotation_period INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE keys ADD COLUMN next_rotation_date INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE keys ADD COLUMN on_demand_rotation_date INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE keys ADD COLUMN mac_verify_window INTEGER NOT NULL DEFAULT 0;"
        MATERIALS_SCHEMA
        "INSERT INTO materials(key_id, material_id, sealed, state, rotation_type, rotation_date, stopped_date)"
        "  SELECT key_id, lower(hex(randomblob(32))), material, 'CURRENT', '', 0, 0 FROM keys"
        "  WHERE material IS NOT NULL ORDER BY seq;"
        "UPDATE keys SET material = NULL;"
        "ALTER TABLE keys DROP COLUMN material;"
        "UPDATE meta SET value = 2 WHERE name = 'format';";

/* Format 2: each key's materials in their own table (API.md section 3a), at most one current per
 * key (the partial unique index), and the key's rotation settings. */
static const char schema[] =
        "CREATE TABLE IF NOT EXISTS meta ("
        "  name TEXT PRIMARY KEY,"
        "  value BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS keys ("
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  key_id TEXT NOT NULL UNIQUE,"
        "  key_spec TEXT NOT NULL,"
        "  key_state TEXT NOT NULL,"
        "  origin TEXT NOT NULL,"
        "  description TEXT NOT NULL,"
        "  owner_uid INTEGER NOT NULL,"
        "  creation_date INTEGER NOT NULL,"
        "  deletion_date INTEGER NOT NULL DEFAULT 0,"
        "  expiration_model TEXT,"
        "  valid_to INTEGER NOT NULL DEFAULT 0,"
        "  import_fingerprint BLOB"
        ROTATION_COLUMNS ");"
        "CREATE TABLE IF NOT EXISTS tags ("
        "  key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,"
        "  tag_key TEXT NOT NULL,"
        "  tag_value TEXT NOT NULL,"
        "  PRIMARY KEY (key_id, tag_key));"
        "CREATE TABLE IF NOT EXISTS aliases ("
        "  alias_name TEXT PRIMARY KEY,"
        "  key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,"
        "  creation_date INTEGER NOT NULL,"
        "  last_updated_date INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS aliases_by_key ON aliases(key_id);"
        MATERIALS_SCHEMA;

static int sqlite_to_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        default:
                return -EIO;
        }
}

static int exec(Store *s, const char *sql) {
        return sqlite_to_errno(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static int prepare(Store *s, const char *sql, sqlite3_stmt **ret) {
        return sqlite_to_errno(sqlite3_prepare_v2(s->db, sql, -1, ret, NULL));
}

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize);

/* secure_delete zeroes freed pages in the database; the write-ahead log still holds older images
 * of them until a checkpoint copies it back and truncates it. */
static int forget_old_pages(Store *s) {
        return sqlite_to_errno(sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL));
}

int store_open(const char *path, bool create, Store **ret, const char **ret_reason) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        const char *reason = NULL;
        struct stat sb;
        int r, rc;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;

        rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX |
                                     SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK) {
                reason = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
                r = sqlite_to_errno(rc);
                goto fail;
        }

        /* Read before anything is written, so that a file which is not ours is left as it is. */
        if (!create) {
                rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
                if (rc == SQLITE_OK)
                        rc = sqlite3_step(st);
                if (rc != SQLITE_ROW || !sqlite3_column_text(st, 0) ||
                    !streq((const char *) sqlite3_column_text(st, 0), "ok")) {
                        reason = rc == SQLITE_ROW ? "integrity check failed" : sqlite3_errmsg(s->db);
                        r = -EBADMSG;
                        goto fail;
                }
                st = (sqlite3_finalize(st), NULL);

                /* SQLite reads the missing end of a file cut short inside its last page as zeros, and
                 * quick_check does not look inside records: such a file passes while some key's sealed
                 * material has silently changed. A database file is always a whole number of pages. */
                if (stat(path, &sb) < 0) {
                        r = negative_errno();
                        reason = "cannot stat the database file";
                        goto fail;
                }
                rc = sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL);
                if (rc == SQLITE_OK)
                        rc = sqlite3_step(st);
                if (rc != SQLITE_ROW || sqlite3_column_int64(st, 0) <= 0 ||
                    sb.st_size % sqlite3_column_int64(st, 0) != 0) {
                        reason = "truncated: the file is not a whole number of database pages";
                        r = -EBADMSG;
                        goto fail;
                }
                st = (sqlite3_finalize(st), NULL);

                rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE name = 'format'", -1, &st, NULL);
                if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) < 1 ||
                    sqlite3_column_int(st, 0) > STORE_FORMAT) {
                        reason = "not an hmacd store, or of an unknown format";
                        r = -EBADMSG;
                        goto fail;
                }
                s->format = sqlite3_column_int(st, 0);
                st = (sqlite3_finalize(st), NULL);
        } else
                s->format = STORE_FORMAT;

        r = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                    "PRAGMA foreign_keys=ON;");
        if (r < 0) {
                reason = sqlite3_errmsg(s->db);
                goto fail;
        }

        if (create) {
                r = exec(s, "BEGIN IMMEDIATE");
                if (r >= 0)
                        r = exec(s, schema);
                if (r >= 0)
                        r = exec(s, "INSERT OR IGNORE INTO meta(name, value) VALUES ('format', 2)");
                if (r >= 0)
                        r = exec(s, "COMMIT");
                if (r < 0) {
                        reason = sqlite3_errmsg(s->db);
                        exec(s, "ROLLBACK");
                        goto fail;
                }
        }

        *ret = TAKE_PTR(s);
        return 0;

fail:
        if (ret_reason) {
                /* The reason may live inside the connection; keep a copy that outlives it. */
                static __thread char buf[256];
                snprintf(buf, sizeof buf, "%s", reason ?: "unknown error");
                *ret_reason = buf;
        }
        return r;
}

int store_upgrade(Store *s, bool fail_before_commit) {
        int r;

        if (s->format == STORE_FORMAT)
                return 0;
        r = exec(s, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        r = exec(s, upgrade_1_to_2);
        if (r >= 0 && fail_before_commit)
                r = -EIO;
        if (r >= 0)
                r = exec(s, "COMMIT");
        if (r < 0) {
                exec(s, "ROLLBACK");
                return r;
        }
        s->format = STORE_FORMAT;
        /* The old column's pages were zeroed (secure_delete); their older images in the log go too. */
        r = forget_old_pages(s);
        return r < 0 ? r : 1;
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        sqlite3_finalize(s->get_material);
        sqlite3_close_v2(s->db);
        free(s);
        return NULL;
}

void store_freep(Store **s) {
        store_free(*s);
}

int store_meta_get(Store *s, const char *name, uint8_t *buf, size_t size, size_t *ret_size) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        size_t n;
        int r;

        r = prepare(s, "SELECT value FROM meta WHERE name = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return -ENOENT;
        if (r != SQLITE_ROW)
                return sqlite_to_errno(r);
        n = (size_t) sqlite3_column_bytes(st, 0);
        if (n > size)
                return -ENOBUFS;
        memcpy(buf, sqlite3_column_blob(st, 0), n);
        *ret_size = n;
        return 0;
}

int store_meta_set(Store *s, const char *name, const void *value, size_t size) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = prepare(s, "INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, value, (int) size, SQLITE_STATIC);
        return sqlite_to_errno(sqlite3_step(st));
}

int store_load_keys(Store *s, int (*cb)(KeyEntry *e, void *userdata), void *userdata) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r, rc;

        r = prepare(s,
                    "SELECT seq, key_id, key_spec, key_state, origin, owner_uid, creation_date, deletion_date,"
                    " valid_to, EXISTS (SELECT 1 FROM materials m WHERE m.key_id = keys.key_id AND"
                    " m.state = 'CURRENT'), length(CAST(description AS BLOB)), rotation_enabled, rotation_period,"
                    " next_rotation_date, on_demand_rotation_date, mac_verify_window FROM keys ORDER BY seq",
                    &st);
        if (r < 0)
                return r;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *id = (const char *) sqlite3_column_text(st, 1);
                KeyEntry *e;

                e = calloc(1, sizeof *e);
                if (!e)
                        return -ENOMEM;
                e->seq = sqlite3_column_int64(st, 0);
                e->spec = key_spec_from_string((const char *) sqlite3_column_text(st, 2));
                e->state = key_state_from_string((const char *) sqlite3_column_text(st, 3));
                e->origin = key_origin_from_string((const char *) sqlite3_column_text(st, 4));
                e->owner_uid = (uid_t) sqlite3_column_int64(st, 5);
                e->creation_date = (uint64_t) sqlite3_column_int64(st, 6);
                e->deletion_date = (uint64_t) sqlite3_column_int64(st, 7);
                e->valid_to = (uint64_t) sqlite3_column_int64(st, 8);
                e->has_material = sqlite3_column_int(st, 9) != 0;
                e->description_size = (uint32_t) sqlite3_column_int64(st, 10);
                e->rotation_enabled = sqlite3_column_int(st, 11) != 0;
                e->rotation_period = (uint32_t) sqlite3_column_int64(st, 12);
                e->next_rotation_date = (uint64_t) sqlite3_column_int64(st, 13);
                e->on_demand_rotation_date = (uint64_t) sqlite3_column_int64(st, 14);
                e->mac_verify_window = (uint32_t) sqlite3_column_int64(st, 15);
                if (!key_id_is_valid(id) || e->spec < 0 || e->state < 0 || e->origin < 0) {
                        free(e);
                        return -EBADMSG;
                }
                strcpy(e->key_id, id);

                r = cb(e, userdata);
                if (r < 0)
                        return r;
        }
        return sqlite_to_errno(rc);
}

static int insert_material(Store *s, const char *key_id, const KeyVersion *v, const uint8_t *sealed,
                           size_t sealed_size) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = prepare(s,
                    "INSERT INTO materials(key_id, material_id, sealed, state, rotation_type, rotation_date,"
                    " stopped_date) VALUES (?, ?, ?, 'CURRENT', ?, ?, 0)",
                    &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, v->id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, sealed, (int) sealed_size, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, rotation_type_to_string(v->type), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64) v->rotation_date);
        return sqlite_to_errno(sqlite3_step(st));
}

int store_insert_key(Store *s, KeyEntry *e, const char *description, const KeyTag *tags, size_t n_tags,
                     const uint8_t *sealed, size_t sealed_size) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL, *tag_st = NULL;
        int r;

        r = exec(s, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;

        r = prepare(s,
                    "INSERT INTO keys(key_id, key_spec, key_state, origin, description, owner_uid,"
                    " creation_date, deletion_date, valid_to, mac_verify_window) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    &st);
        if (r < 0)
                goto rollback;
        sqlite3_bind_text(st, 1, e->key_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key_spec_to_string(e->spec), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, key_state_to_string(e->state), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, key_origin_to_string(e->origin), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, description, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, e->owner_uid);
        sqlite3_bind_int64(st, 7, (sqlite3_int64) e->creation_date);
        sqlite3_bind_int64(st, 8, (sqlite3_int64) e->deletion_date);
        sqlite3_bind_int64(st, 9, (sqlite3_int64) e->valid_to);
        sqlite3_bind_int64(st, 10, e->mac_verify_window);
        r = sqlite_to_errno(sqlite3_step(st));
        if (r < 0)
                goto rollback;
        e->seq = sqlite3_last_insert_rowid(s->db);

        if (sealed) {
                const KeyVersion *v = key_entry_current(e);
                if (!v) {
                        r = -EINVAL;
                        goto rollback;
                }
                r = insert_material(s, e->key_id, v, sealed, sealed_size);
                if (r < 0)
                        goto rollback;
        }

        if (n_tags > 0) {
                r = prepare(s, "INSERT INTO tags(key_id, tag_key, tag_value) VALUES (?, ?, ?)", &tag_st);
                if (r < 0)
                        goto rollback;
                for (size_t i = 0; i < n_tags; i++) {
                        sqlite3_reset(tag_st);
                        sqlite3_bind_text(tag_st, 1, e->key_id, -1, SQLITE_STATIC);
                        sqlite3_bind_text(tag_st, 2, tags[i].key, -1, SQLITE_STATIC);
                        sqlite3_bind_text(tag_st, 3, tags[i].value, -1, SQLITE_STATIC);
                        r = sqlite_to_errno(sqlite3_step(tag_st));
                        if (r < 0)
                                goto rollback;
                }
        }

        r = exec(s, "COMMIT");
        if (r < 0)
                goto rollback;
        return 0;

rollback:
        exec(s, "ROLLBACK");
        return r;
}

int store_load_tags(Store *s, int (*cb)(const char *key_id, const char *key, const char *value, void *userdata),
                    void *userdata) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r, rc;

        r = prepare(s, "SELECT key_id, tag_key, tag_value FROM tags ORDER BY key_id, tag_key", &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = cb((const char *) sqlite3_column_text(st, 0), (const char *) sqlite3_column_text(st, 1),
                       (const char *) sqlite3_column_text(st, 2), userdata);
                if (r < 0)
                        return r;
        }
        return sqlite_to_errno(rc);
}

int store_load_aliases(Store *s,
                       int (*cb)(const char *name, const char *key_id, uint64_t created, uint64_t updated,
                                 void *userdata),
                       void *userdata) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r, rc;

        r = prepare(s, "SELECT alias_name, key_id, creation_date, last_updated_date FROM aliases", &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = cb((const char *) sqlite3_column_text(st, 0), (const char *) sqlite3_column_text(st, 1),
                       (uint64_t) sqlite3_column_int64(st, 2), (uint64_t) sqlite3_column_int64(st, 3), userdata);
                if (r < 0)
                        return r;
        }
        return sqlite_to_errno(rc);
}

/* Runs one statement with text/int64 arguments ('s' and 'i' in types); returns the number of rows
 * changed. A single statement is its own transaction. */
static int run(Store *s, const char *sql, const char *types, ...) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        va_list ap;
        int r;

        r = prepare(s, sql, &st);
        if (r < 0)
                return r;
        va_start(ap, types);
        for (int i = 0; types[i]; i++)
                if (types[i] == 's')
                        sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
                else
                        sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        va_end(ap);
        r = sqlite_to_errno(sqlite3_step(st));
        if (r < 0)
                return r;
        return sqlite3_changes(s->db);
}

int store_set_state(Store *s, const char *key_id, KeyState state, uint64_t deletion_date) {
        int r = run(s, "UPDATE keys SET key_state = ?, deletion_date = ? WHERE key_id = ?", "sis",
                    key_state_to_string(state), (int64_t) deletion_date, key_id);
        return r == 0 ? -ENOENT : MIN(r, 0);
}

int store_set_description(Store *s, const char *key_id, const char *description) {
        int r = run(s, "UPDATE keys SET description = ? WHERE key_id = ?", "ss", description, key_id);
        return r == 0 ? -ENOENT : MIN(r, 0);
}

int store_delete_key(Store *s, const char *key_id) {
        int r = run(s, "DELETE FROM keys WHERE key_id = ?", "s", key_id);
        if (r == 0)
                return -ENOENT;
        if (r < 0)
                return r;
        return forget_old_pages(s);
}

int store_insert_alias(Store *s, const char *name, const char *key_id, uint64_t now) {
        return MIN(run(s, "INSERT INTO aliases(alias_name, key_id, creation_date, last_updated_date) VALUES (?, ?, ?, ?)",
                       "ssii", name, key_id, (int64_t) now, (int64_t) now),
                   0);
}

int store_update_alias(Store *s, const char *name, const char *key_id, uint64_t now) {
        int r = run(s, "UPDATE aliases SET key_id = ?, last_updated_date = ? WHERE alias_name = ?", "sis", key_id,
                    (int64_t) now, name);
        return r == 0 ? -ENOENT : MIN(r, 0);
}

int store_delete_alias(Store *s, const char *name) {
        int r = run(s, "DELETE FROM aliases WHERE alias_name = ?", "s", name);
        return r == 0 ? -ENOENT : MIN(r, 0);
}

int store_put_tags(Store *s, const char *key_id, const KeyTag *tags, size_t n) {
        int r;

        r = exec(s, "BEGIN IMMEDIATE");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = run(s, "INSERT OR REPLACE INTO tags(key_id, tag_key, tag_value) VALUES (?, ?, ?)", "sss", key_id,
                        tags[i].key, tags[i].value);
        if (r >= 0)
                r = exec(s, "COMMIT");
        if (r < 0)
                exec(s, "ROLLBACK");
        return MIN(r, 0);
}

int store_delete_tags(Store *s, const char *key_id, const char *const *keys, size_t n) {
        int r;

        r = exec(s, "BEGIN IMMEDIATE");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = run(s, "DELETE FROM tags WHERE key_id = ? AND tag_key = ?", "ss", key_id, keys[i]);
        if (r >= 0)
                r = exec(s, "COMMIT");
        if (r < 0)
                exec(s, "ROLLBACK");
        return MIN(r, 0);
}

int store_set_material(Store *s, const char *key_id, const KeyVersion *v, const uint8_t *sealed, size_t sealed_size,
                       KeyState state, uint64_t valid_to, const uint8_t *fingerprint) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = exec(s, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        r = run(s, "DELETE FROM materials WHERE key_id = ?", "s", key_id);
        if (r >= 0 && sealed)
                r = insert_material(s, key_id, v, sealed, sealed_size);
        if (r >= 0)
                r = prepare(s,
                            fingerprint ? "UPDATE keys SET key_state = ?, valid_to = ?, import_fingerprint = ?"
                                          " WHERE key_id = ?"
                                        : "UPDATE keys SET key_state = ?, valid_to = ? WHERE key_id = ?",
                            &st);
        if (r < 0)
                goto rollback;
        sqlite3_bind_text(st, 1, key_state_to_string(state), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) valid_to);
        if (fingerprint)
                sqlite3_bind_blob(st, 3, fingerprint, STORE_FINGERPRINT_SIZE, SQLITE_STATIC);
        sqlite3_bind_text(st, fingerprint ? 4 : 3, key_id, -1, SQLITE_STATIC);
        r = sqlite_to_errno(sqlite3_step(st));
        if (r >= 0 && sqlite3_changes(s->db) == 0)
                r = -ENOENT;
        if (r >= 0)
                r = exec(s, "COMMIT");
        if (r < 0)
                goto rollback;
        if (!sealed)
                return forget_old_pages(s);
        return 0;

rollback:
        exec(s, "ROLLBACK");
        return r;
}

int store_rotate(Store *s, const char *key_id, const KeyVersion *v, const uint8_t *sealed, size_t sealed_size,
                 uint64_t next_rotation_date, uint64_t on_demand_rotation_date) {
        int r;

        r = exec(s, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        r = run(s, "UPDATE materials SET state = 'PREVIOUS', stopped_date = ? WHERE key_id = ? AND state = 'CURRENT'",
                "is", (int64_t) v->rotation_date, key_id);
        if (r == 0)
                r = -ENOENT;
        if (r >= 0)
                r = insert_material(s, key_id, v, sealed, sealed_size);
        if (r >= 0)
                r = run(s, "UPDATE keys SET next_rotation_date = ?, on_demand_rotation_date = ? WHERE key_id = ?", "iis",
                        (int64_t) next_rotation_date, (int64_t) on_demand_rotation_date, key_id);
        if (r == 0)
                r = -ENOENT;
        if (r >= 0)
                r = exec(s, "COMMIT");
        if (r < 0)
                exec(s, "ROLLBACK");
        return MIN(r, 0);
}

int store_set_rotation(Store *s, const char *key_id, bool enabled, uint32_t period, uint64_t next_rotation_date) {
        int r = run(s, "UPDATE keys SET rotation_enabled = ?, rotation_period = ?, next_rotation_date = ? WHERE key_id = ?",
                    "iiis", (int64_t) enabled, (int64_t) period, (int64_t) next_rotation_date, key_id);
        return r == 0 ? -ENOENT : MIN(r, 0);
}

int store_set_verify_window(Store *s, const char *key_id, uint32_t days) {
        int r = run(s, "UPDATE keys SET mac_verify_window = ? WHERE key_id = ?", "is", (int64_t) days, key_id);
        return r == 0 ? -ENOENT : MIN(r, 0);
}

int store_delete_materials(Store *s, const char *key_id, const char *const *ids, size_t n) {
        int r;

        r = exec(s, "BEGIN IMMEDIATE");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = run(s, "DELETE FROM materials WHERE key_id = ? AND material_id = ? AND state = 'PREVIOUS'", "ss",
                        key_id, ids[i]);
                if (r == 0)
                        r = -ENOENT;
        }
        if (r >= 0)
                r = exec(s, "COMMIT");
        if (r < 0) {
                exec(s, "ROLLBACK");
                return r;
        }
        return forget_old_pages(s);
}

int store_load_materials(Store *s, int (*cb)(const char *key_id, KeyVersion *v, void *userdata), void *userdata) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r, rc;

        /* Oldest first, the current one of each key last. */
        r = prepare(s,
                    "SELECT key_id, material_id, state, rotation_type, rotation_date, stopped_date FROM materials"
                    " ORDER BY key_id, state = 'CURRENT', seq",
                    &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *state = (const char *) sqlite3_column_text(st, 2);
                RotationType type = rotation_type_from_string((const char *) sqlite3_column_text(st, 3));
                KeyVersion *v;

                if (type < 0 || !state)
                        return -EBADMSG;
                v = key_version_new((const char *) sqlite3_column_text(st, 1), type,
                                    (uint64_t) sqlite3_column_int64(st, 4),
                                    streq(state, "CURRENT") ? 0 : (uint64_t) sqlite3_column_int64(st, 5));
                if (!v)
                        return -EBADMSG;
                r = cb((const char *) sqlite3_column_text(st, 0), v, userdata);
                if (r < 0)
                        return r;
        }
        return sqlite_to_errno(rc);
}

int store_get_fingerprint(Store *s, const char *key_id, uint8_t ret[static STORE_FINGERPRINT_SIZE]) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = prepare(s, "SELECT import_fingerprint FROM keys WHERE key_id = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return -ENOENT;
        if (r != SQLITE_ROW)
                return sqlite_to_errno(r);
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
                return -ENODATA;
        if (sqlite3_column_bytes(st, 0) != STORE_FINGERPRINT_SIZE)
                return -EBADMSG;
        memcpy(ret, sqlite3_column_blob(st, 0), STORE_FINGERPRINT_SIZE);
        return 0;
}

int store_get_material(Store *s, const char *key_id, const char *material_id, uint8_t *buf, size_t size,
                       size_t *ret_size) {
        sqlite3_stmt *st;
        size_t n;
        int r;

        if (!s->get_material) {
                r = prepare(s, "SELECT sealed FROM materials WHERE key_id = ? AND material_id = ?", &s->get_material);
                if (r < 0)
                        return r;
        }
        st = s->get_material;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, material_id, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE) {
                r = -ENOENT;
                goto finish;
        }
        if (r != SQLITE_ROW) {
                r = sqlite_to_errno(r);
                goto finish;
        }
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
                r = -ENODATA;
                goto finish;
        }
        n = (size_t) sqlite3_column_bytes(st, 0);
        if (n > size) {
                r = -ENOBUFS;
                goto finish;
        }
        memcpy(buf, sqlite3_column_blob(st, 0), n);
        *ret_size = n;
        r = 0;
finish:
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return r;
}

int store_get_description(Store *s, const char *key_id, char **ret) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        char *d;
        int r;

        r = prepare(s, "SELECT description FROM keys WHERE key_id = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return -ENOENT;
        if (r != SQLITE_ROW)
                return sqlite_to_errno(r);
        d = strdup((const char *) sqlite3_column_text(st, 0) ?: "");
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}
