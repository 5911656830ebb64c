/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A chained hash table by key ID plus an array in creation order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "macro.h"

static size_t key_hash(const char *key_id) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (const char *p = key_id; *p; p++)
                h = (h ^ (unsigned char) *p) * 1099511628211ULL;
        return (size_t) h;
}

int key_index_init(KeyIndex *ix) {
        *ix = (KeyIndex) { .n_buckets = 1024 };
        ix->buckets = calloc(ix->n_buckets, sizeof *ix->buckets);
        return ix->buckets ? 0 : -ENOMEM;
}

void key_index_done(KeyIndex *ix) {
        for (size_t i = 0; i < ix->n; i++)
                key_entry_free(ix->by_seq[i]);
        free(ix->by_seq);
        free(ix->buckets);
        *ix = (KeyIndex) {};
}

static int key_index_rehash(KeyIndex *ix, size_t n_buckets) {
        KeyEntry **b = calloc(n_buckets, sizeof *b);
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < ix->n; i++) {
                KeyEntry *e = ix->by_seq[i];
                size_t h = key_hash(e->key_id) & (n_buckets - 1);
                e->hash_next = b[h];
                b[h] = e;
        }
        free(ix->buckets);
        ix->buckets = b;
        ix->n_buckets = n_buckets;
        return 0;
}

int key_index_reserve(KeyIndex *ix, size_t n) {
        int r;

        if (ix->n + n > ix->allocated) {
                size_t a = MAX(ix->allocated * 2, MAX(ix->n + n, (size_t) 64));
                KeyEntry **v = realloc(ix->by_seq, a * sizeof *v);
                if (!v)
                        return -ENOMEM;
                ix->by_seq = v;
                ix->allocated = a;
        }
        while (ix->n + n > ix->n_buckets) {
                r = key_index_rehash(ix, ix->n_buckets * 2);
                if (r < 0)
                        return r;
        }
        return 0;
}

int key_index_add(KeyIndex *ix, KeyEntry *e) {
        size_t h;
        int r;

        if (ix->n > 0 && e->seq <= ix->by_seq[ix->n - 1]->seq)
                return -EINVAL;
        r = key_index_reserve(ix, 1);
        if (r < 0)
                return r;
        ix->by_seq[ix->n++] = e;
        h = key_hash(e->key_id) & (ix->n_buckets - 1);
        e->hash_next = ix->buckets[h];
        ix->buckets[h] = e;
        return 0;
}

KeyEntry *key_index_find(const KeyIndex *ix, const char *key_id) {
        for (KeyEntry *e = ix->buckets[key_hash(key_id) & (ix->n_buckets - 1)]; e; e = e->hash_next)
                if (streq(e->key_id, key_id))
                        return e;
        return NULL;
}

size_t key_index_after(const KeyIndex *ix, int64_t seq) {
        size_t lo = 0, hi = ix->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (ix->by_seq[mid]->seq <= seq)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

void key_index_remove(KeyIndex *ix, KeyEntry *e) {
        KeyEntry **p = &ix->buckets[key_hash(e->key_id) & (ix->n_buckets - 1)];
        size_t i;

        for (; *p; p = &(*p)->hash_next)
                if (*p == e) {
                        *p = e->hash_next;
                        break;
                }
        i = key_index_after(ix, e->seq - 1);
        if (i < ix->n && ix->by_seq[i] == e) {
                memmove(ix->by_seq + i, ix->by_seq + i + 1, (ix->n - i - 1) * sizeof *ix->by_seq);
                ix->n--;
        }
        key_entry_free(e);
}

void key_tags_free(KeyTag *tags, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(tags[i].key);
                free(tags[i].value);
        }
        free(tags);
}

static const char *const rotation_types[_ROTATION_TYPE_MAX] = {
        [ROTATION_INITIAL] = "",
        [ROTATION_AUTOMATIC] = "AUTOMATIC",
        [ROTATION_ON_DEMAND] = "ON_DEMAND",
};

const char *rotation_type_to_string(RotationType t) {
        return t >= 0 && t < _ROTATION_TYPE_MAX ? rotation_types[t] : NULL;
}

RotationType rotation_type_from_string(const char *s) {
        for (RotationType t = 0; s && t < _ROTATION_TYPE_MAX; t++)
                if (streq(s, rotation_types[t]))
                        return t;
        return _ROTATION_TYPE_INVALID;
}

KeyVersion *key_version_new(const char *id, RotationType type, uint64_t rotation_date, uint64_t stopped_date) {
        KeyVersion *v;

        if (!id || strlen(id) != KMS_KEY_MATERIAL_ID_LENGTH)
                return NULL;
        v = calloc(1, sizeof *v);
        if (!v)
                return NULL;
        strcpy(v->id, id);
        v->type = type;
        v->rotation_date = rotation_date;
        v->stopped_date = stopped_date;
        v->cache_slot = -1;
        return v;
}

KeyVersion *key_entry_current(const KeyEntry *e) {
        return e->has_material && e->n_versions > 0 ? e->versions[e->n_versions - 1] : NULL;
}

KeyVersion *key_entry_find_version(const KeyEntry *e, const char *id) {
        for (size_t i = 0; i < e->n_versions; i++)
                if (streq(e->versions[i]->id, id))
                        return e->versions[i];
        return NULL;
}

int key_entry_reserve_version(KeyEntry *e) {
        if (e->n_versions < e->allocated_versions)
                return 0;
        size_t a = MAX(e->allocated_versions * 2, (size_t) 2);
        KeyVersion **v = realloc(e->versions, a * sizeof *v);
        if (!v)
                return -ENOMEM;
        e->versions = v;
        e->allocated_versions = a;
        return 0;
}

int key_entry_add_version(KeyEntry *e, KeyVersion *v) {
        int r = key_entry_reserve_version(e);
        if (r < 0)
                return r;
        v->key = e;
        e->versions[e->n_versions++] = v;
        return 0;
}

void key_entry_remove_version(KeyEntry *e, KeyVersion *v) {
        for (size_t i = 0; i < e->n_versions; i++)
                if (e->versions[i] == v) {
                        memmove(e->versions + i, e->versions + i + 1, (e->n_versions - i - 1) * sizeof *e->versions);
                        e->n_versions--;
                        return;
                }
}

void key_entry_clear_versions(KeyEntry *e) {
        for (size_t i = 0; i < e->n_versions; i++)
                free(e->versions[i]);
        e->n_versions = 0;
}

void key_entry_free(KeyEntry *e) {
        if (!e)
                return;
        key_entry_clear_versions(e);
        free(e->versions);
        key_tags_free(e->tags, e->n_tags);
        free(e->details);
        free(e);
}

void key_entry_changed(KeyEntry *e) {
        free(e->details);
        e->details = NULL;
        e->details_size = 0;
}

void key_entry_set_state(KeyEntry *e, KeyState state, uint64_t deletion_date) {
        e->state = state;
        e->deletion_date = deletion_date;
        key_entry_changed(e);
}

static int tag_compare(const void *a, const void *b) {
        return strcmp(((const KeyTag *) a)->key, ((const KeyTag *) b)->key);
}

int key_tags_copy(const KeyTag *tags, size_t n, KeyTag **ret) {
        KeyTag *copy;

        *ret = NULL;
        if (n == 0)
                return 0;
        copy = calloc(n, sizeof *copy);
        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                copy[i].key = strdup(tags[i].key);
                copy[i].value = strdup(tags[i].value);
                if (!copy[i].key || !copy[i].value) {
                        key_tags_free(copy, n);
                        return -ENOMEM;
                }
        }
        qsort(copy, n, sizeof *copy, tag_compare);
        *ret = copy;
        return 0;
}

void key_entry_replace_tags(KeyEntry *e, KeyTag *tags, size_t n) {
        key_tags_free(e->tags, e->n_tags);
        e->tags = tags;
        e->n_tags = n;
        e->tag_bytes = 0;
        for (size_t i = 0; i < n; i++)
                e->tag_bytes += (uint32_t) (strlen(tags[i].key) + strlen(tags[i].value));
        key_entry_changed(e);
}

void alias_index_done(AliasIndex *ix) {
        for (size_t i = 0; i < ix->n; i++)
                free(ix->v[i]);
        free(ix->v);
        *ix = (AliasIndex) {};
}

size_t alias_index_after(const AliasIndex *ix, const char *name) {
        size_t lo = 0, hi = ix->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(ix->v[mid]->name, name) <= 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

Alias *alias_index_find(const AliasIndex *ix, const char *name) {
        size_t lo = 0, hi = ix->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(ix->v[mid]->name, name);
                if (c == 0)
                        return ix->v[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

int alias_index_reserve(AliasIndex *ix) {
        if (ix->n == ix->allocated) {
                size_t n = MAX(ix->allocated * 2, (size_t) 16);
                Alias **v = realloc(ix->v, n * sizeof *v);
                if (!v)
                        return -ENOMEM;
                ix->v = v;
                ix->allocated = n;
        }
        return 0;
}

int alias_index_add(AliasIndex *ix, Alias *a) {
        size_t i;
        int r;

        if (alias_index_find(ix, a->name))
                return -EEXIST;
        r = alias_index_reserve(ix);
        if (r < 0)
                return r;
        i = alias_index_after(ix, a->name);
        memmove(ix->v + i + 1, ix->v + i, (ix->n - i) * sizeof *ix->v);
        ix->v[i] = a;
        ix->n++;
        a->key->n_aliases++;
        key_entry_changed(a->key);
        return 0;
}

void alias_index_remove(AliasIndex *ix, Alias *a) {
        for (size_t i = alias_index_after(ix, a->name); i > 0; ) {
                i--;
                if (ix->v[i] == a) {
                        memmove(ix->v + i, ix->v + i + 1, (ix->n - i - 1) * sizeof *ix->v);
                        ix->n--;
                }
                break;
        }
        if (a->key) {
                a->key->n_aliases--;
                key_entry_changed(a->key);
        }
        free(a);
}

void alias_retarget(Alias *a, KeyEntry *e) {
        a->key->n_aliases--;
        key_entry_changed(a->key);
        a->key = e;
        e->n_aliases++;
        key_entry_changed(e);
}
