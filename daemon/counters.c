/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's counters (see counters.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "counters.h"
#include "macro.h"

Counters counters;

bool counters_count_result(const char *result) {
        if (!result)
                return false;
        if (streq(result, "ok"))
                counters.ok++;
        else if (streq(result, "denied"))
                counters.denied++;
        else {
                KmsError e;
                for (e = 1; e < _KMS_ERROR_MAX; e++)
                        if (streq(result, kms_error_to_exception(e))) {
                                counters.failed[e]++;
                                break;
                        }
                if (e == _KMS_ERROR_MAX)
                        return false; /* not a call's result */
        }
        return true;
}

void counters_count_polkit(uint64_t latency_usec) {
        counters.polkit_checks++;
        counters.polkit_latency_usec += latency_usec;
}

uint64_t counters_failed_total(const Counters *c) {
        uint64_t n = 0;
        for (size_t e = 0; e < _KMS_ERROR_MAX; e++)
                n += c->failed[e];
        return n;
}

int counters_entry(const Counters *c, const CacheCounters *cache, size_t i, const char **ret_name,
                   char *name_buf, size_t name_size, uint64_t *ret_value) {
        const struct {
                const char *name;
                uint64_t value;
        } fixed[] = {
                { "OperationsSucceeded", c->ok },
                { "OperationsFailed", counters_failed_total(c) },
                { "Denials", c->denied },
                { "PolkitChecks", c->polkit_checks },
                { "PolkitLatencyUSec", c->polkit_latency_usec },
                { "PolkitCacheHits", c->polkit_cache_hits },
                { "KeyCacheHits", cache ? cache->hits : 0 },
                { "KeyCacheMisses", cache ? cache->misses : 0 },
                { "KeyCacheEvictions", cache ? cache->evictions : 0 },
        };

        if (i < ELEMENTSOF(fixed)) {
                *ret_name = fixed[i].name;
                *ret_value = fixed[i].value;
                return 1;
        }
        i -= ELEMENTSOF(fixed);
        for (KmsError e = 1; e < _KMS_ERROR_MAX; e++) {
                if (c->failed[e] == 0)
                        continue;
                if (i-- > 0)
                        continue;
                snprintf(name_buf, name_size, "Failed.%s", kms_error_to_exception(e));
                *ret_name = name_buf;
                *ret_value = c->failed[e];
                return 1;
        }
        return 0;
}

int counters_status(const Counters *c, size_t n_keys, char *buf, size_t size) {
        uint64_t failed = counters_failed_total(c);
        int n;

        n = snprintf(buf, size, "Serving %zu key%s; %" PRIu64 " calls, %" PRIu64 " failed, %" PRIu64 " denied.",
                     n_keys, n_keys == 1 ? "" : "s", c->ok + failed + c->denied, failed, c->denied);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}
