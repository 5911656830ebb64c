/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fairness between callers who are not trusted: a queue per UID, served in turn (see authz.h and
 * the "fair" part of authz.c). A plain data structure, without a bus: requests are opaque pointers
 * with a size, and the caller owns its references. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "macro.h"

typedef struct FairEntry {
        void *request;
        uint64_t bytes;
} FairEntry;

typedef struct FairUid {
        uid_t uid;
        FairEntry *v; /* a ring */
        size_t head, n, allocated;
        uint64_t bytes;
} FairUid;

struct AuthzFair {
        AuthzFairLimits limits;
        FairUid **uids; /* those with something queued, in turn order */
        size_t n_uids, allocated, next;
        size_t n;
        uint64_t bytes;
};

int authz_fair_new(const AuthzFairLimits *limits, AuthzFair **ret) {
        AuthzFair *f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->limits = *limits;
        *ret = f;
        return 0;
}

AuthzFair *authz_fair_free(AuthzFair *f, void (*drop)(void *request)) {
        void *request;

        if (!f)
                return NULL;
        while ((request = authz_fair_pop(f)))
                if (drop)
                        drop(request);
        free(f->uids);
        free(f);
        return NULL;
}

static FairUid *find_uid(AuthzFair *f, uid_t uid, size_t *ret_index) {
        for (size_t i = 0; i < f->n_uids; i++)
                if (f->uids[i]->uid == uid) {
                        if (ret_index)
                                *ret_index = i;
                        return f->uids[i];
                }
        return NULL;
}

int authz_fair_push(AuthzFair *f, uid_t uid, void *request, uint64_t bytes) {
        FairUid *u = find_uid(f, uid, NULL);

        if (f->n >= f->limits.total || (u && u->n >= f->limits.per_uid))
                return -EDQUOT;
        /* A UID's first request gets in whatever its size, as with the checks' byte limits. */
        if ((u && u->n > 0 && u->bytes + bytes > f->limits.bytes_per_uid) ||
            (f->n > 0 && f->bytes + bytes > f->limits.bytes_total))
                return -EDQUOT;
        if (!u) {
                if (f->n_uids == f->allocated) {
                        size_t k = MAX(f->allocated * 2, (size_t) 8);
                        FairUid **p = reallocarray(f->uids, k, sizeof *p);
                        if (!p)
                                return -ENOMEM;
                        f->uids = p;
                        f->allocated = k;
                }
                u = calloc(1, sizeof *u);
                if (!u)
                        return -ENOMEM;
                u->uid = uid;
                f->uids[f->n_uids++] = u;
        }
        if (u->n == u->allocated) {
                size_t k = MAX(u->allocated * 2, (size_t) 8);
                FairEntry *v = calloc(k, sizeof *v);
                if (!v)
                        return -ENOMEM;
                for (size_t i = 0; i < u->n; i++)
                        v[i] = u->v[(u->head + i) % u->allocated];
                free(u->v);
                u->v = v;
                u->head = 0;
                u->allocated = k;
        }
        u->v[(u->head + u->n++) % u->allocated] = (FairEntry) { request, bytes };
        u->bytes += bytes;
        f->n++;
        f->bytes += bytes;
        return 0;
}

void *authz_fair_pop(AuthzFair *f) {
        FairEntry e;
        FairUid *u;
        size_t i;

        if (f->n_uids == 0)
                return NULL;
        i = f->next % f->n_uids;
        u = f->uids[i];
        e = u->v[u->head];
        u->head = (u->head + 1) % u->allocated;
        u->n--;
        u->bytes -= e.bytes;
        f->n--;
        f->bytes -= e.bytes;
        if (u->n == 0) {
                /* Its turn is over and it leaves the round; the next UID takes its place. */
                free(u->v);
                free(u);
                memmove(f->uids + i, f->uids + i + 1, (f->n_uids - i - 1) * sizeof *f->uids);
                f->n_uids--;
                f->next = i;
        } else
                f->next = i + 1;
        return e.request;
}

size_t authz_fair_count(const AuthzFair *f) {
        return f ? f->n : 0;
}

size_t authz_fair_count_uid(AuthzFair *f, uid_t uid) {
        FairUid *u = find_uid(f, uid, NULL);
        return u ? u->n : 0;
}
