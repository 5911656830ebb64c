/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's counters: calls by result, denials, polkit checks and their latency, the keyring
 * cache. Plain integers in one process-wide struct, bumped on the call path (no locks: the daemon is
 * single-threaded) and read by the Counters property, the STATUS= line and nothing else. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kms.h"

typedef struct Counters {
        uint64_t ok;                            /* calls that succeeded */
        uint64_t failed[_KMS_ERROR_MAX];        /* calls that failed, by exception (KMS_ERROR_*) */
        uint64_t denied;                        /* calls refused by authorization */
        uint64_t polkit_checks;                 /* CheckAuthorization calls answered */
        uint64_t polkit_latency_usec;           /* their total time */
        uint64_t polkit_cache_hits;             /* checks answered from the cache of allowed answers */
} Counters;

extern Counters counters;

/* Counts one audit record's outcome: "ok", "denied", an exception name (other results, such as the
 * "allowed" of a polkit decision, are not calls and count nothing). */
/* Counts a call's result ("ok", "denied" or an exception name); false for anything else. */
bool counters_count_result(const char *result);
void counters_count_polkit(uint64_t latency_usec);

uint64_t counters_failed_total(const Counters *c);

/* The keyring cache's counters, as key-material.c keeps them. */
typedef struct CacheCounters {
        uint64_t hits, misses, evictions;
} CacheCounters;

/* One name and value of the Counters property at a time: i from 0 up until it returns 0. Names are
 * CamelCase: OperationsSucceeded, OperationsFailed, Denials, PolkitChecks, PolkitLatencyUSec,
 * PolkitCacheHits, KeyCacheHits, KeyCacheMisses, KeyCacheEvictions, then Failed.<Exception> for every
 * exception counted at least once. */
int counters_entry(const Counters *c, const CacheCounters *cache, size_t i, const char **ret_name,
                   char *name_buf, size_t name_size, uint64_t *ret_value);

/* The STATUS= line: "Serving N keys; C calls, F failed, D denied." */
int counters_status(const Counters *c, size_t n_keys, char *buf, size_t size);
