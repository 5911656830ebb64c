/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key service's names for keys: aliases and tags. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kms-internal.h"
#include "log.h"
#include "macro.h"

/* ---- aliases ---- */

/* Where an alias may point: not at a key pending deletion, nor at one with 50 aliases. */
static int check_alias_target(KmsService *s, KmsOperation op, const KeyEntry *e, KmsFailure *f) {
        int r = kms_check_state(s, op, e, f);
        if (r != 0)
                return r;
        if (e->n_aliases >= KMS_ALIASES_PER_KEY_MAX) {
                f->max = KMS_ALIASES_PER_KEY_MAX;
                return kms_fail_key(s, f, KMS_COND_ALIASES_PER_KEY, e);
        }
        return 0;
}

int kms_create_alias(KmsService *s, const char *name, KeyEntry *e, KmsFailure *f) {
        _cleanup_free_ Alias *a = NULL;
        uint64_t now = now_usec();
        int r;

        if (alias_index_find(&s->aliases, name)) {
                alias_arn_format(f->arn, sizeof f->arn, s->machine_id, name);
                return kms_fail(f, KMS_COND_ALIAS_EXISTS);
        }
        r = check_alias_target(s, KMS_OP_CREATE_ALIAS, e, f);
        if (r != 0)
                return r;

        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        *a = (Alias) { .key = e, .creation_date = now, .last_updated_date = now };
        strcpy(a->name, name);
        r = alias_index_reserve(&s->aliases);
        if (r < 0)
                return r;

        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_insert_alias(s->store, name, e->key_id, now);
        if (r < 0)
                return r;
        r = alias_index_add(&s->aliases, a);
        assert(r >= 0); /* room reserved, name checked absent */
        TAKE_PTR(a);
        return 0;
}

int kms_update_alias(KmsService *s, Alias *a, KeyEntry *e, KmsFailure *f) {
        uint64_t now;
        int r;

        if (a->key == e)
                return 0;
        /* Every hmacd key is an HMAC key with GENERATE_VERIFY_MAC usage: the same type and usage
         * that AWS requires of the old and the new key. */
        r = check_alias_target(s, KMS_OP_UPDATE_ALIAS, e, f);
        if (r != 0)
                return r;

        now = now_usec();
        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_update_alias(s->store, a->name, e->key_id, now);
        if (r < 0)
                return r;
        alias_retarget(a, e);
        a->last_updated_date = now;
        return 0;
}

int kms_delete_alias(KmsService *s, Alias *a) {
        int r;

        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_delete_alias(s->store, a->name);
        if (r < 0)
                return r;
        alias_index_remove(&s->aliases, a);
        return 0;
}

/* ---- tags ---- */

int kms_tag(KmsService *s, KeyEntry *e, const KeyTag *tags, size_t n, KmsFailure *f) {
        _cleanup_free_ KeyTag *merged = NULL;
        KeyTag *copy = NULL;
        size_t n_merged;
        int r;

        r = kms_check_state(s, KMS_OP_TAG_RESOURCE, e, f);
        if (r != 0)
                return r;

        /* The key's tags with the new ones added or replaced: at most 50. */
        merged = calloc(e->n_tags + n + 1, sizeof *merged);
        if (!merged)
                return -ENOMEM;
        if (e->n_tags > 0)
                memcpy(merged, e->tags, e->n_tags * sizeof *merged);
        n_merged = e->n_tags;
        for (size_t i = 0; i < n; i++) {
                size_t j;
                for (j = 0; j < n_merged; j++)
                        if (streq(merged[j].key, tags[i].key))
                                break;
                merged[j] = tags[i];
                if (j == n_merged)
                        n_merged++;
        }
        if (n_merged > KMS_TAGS_PER_KEY_MAX)
                return kms_fail(f, KMS_COND_TAGS_TOO_MANY);
        {
                uint64_t bytes = 0;
                for (size_t i = 0; i < n_merged; i++)
                        bytes += strlen(merged[i].key) + strlen(merged[i].value);
                r = kms_check_quota(s, e->owner_uid, 0, bytes, e->tag_bytes, f);
                if (r != 0)
                        return r;
        }
        r = key_tags_copy(merged, n_merged, &copy);
        if (r < 0)
                return r;

        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_put_tags(s->store, e->key_id, tags, n);
        if (r < 0) {
                key_tags_free(copy, n_merged);
                return r;
        }
        key_entry_replace_tags(e, copy, n_merged);
        return 0;
}

int kms_untag(KmsService *s, KeyEntry *e, const char *const *keys, size_t n, KmsFailure *f) {
        _cleanup_free_ KeyTag *kept = NULL;
        KeyTag *copy = NULL;
        size_t n_kept = 0;
        int r;

        r = kms_check_state(s, KMS_OP_UNTAG_RESOURCE, e, f);
        if (r != 0)
                return r;

        kept = calloc(e->n_tags + 1, sizeof *kept);
        if (!kept)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_tags; i++) {
                bool drop = false;
                for (size_t j = 0; j < n && !drop; j++)
                        drop = streq(e->tags[i].key, keys[j]);
                if (!drop)
                        kept[n_kept++] = e->tags[i];
        }
        if (n_kept == e->n_tags)
                return 0;
        r = key_tags_copy(kept, n_kept, &copy);
        if (r < 0)
                return r;

        r = kms_fault(s, KMS_FAULT_BEFORE_COMMIT);
        if (r >= 0)
                r = store_delete_tags(s->store, e->key_id, keys, n);
        if (r < 0) {
                key_tags_free(copy, n_kept);
                return r;
        }
        key_entry_replace_tags(e, copy, n_kept);
        return 0;
}
