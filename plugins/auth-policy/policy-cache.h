/*
 * policy-cache.h -- compiled policies keyed by their JSON text, so each
 * distinct document is parsed once.  Thread-safe; bounded (least recently
 * used documents are evicted); entries in use survive eviction until
 * released.
 */
#ifndef CAIRN_POLICY_CACHE_H
#define CAIRN_POLICY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "policy-internal.h"

struct policy_cache;
struct policy_cache_entry;

/* A cache holding at most `max_entries` documents (at least 1).  NULL on
 * allocation failure. */
struct policy_cache *policy_cache_new(size_t max_entries);

/* Frees the cache; every entry must have been released. */
void policy_cache_free(struct policy_cache *c);

/*
 * The compiled form of `json` (len bytes), compiling it on a miss.  Returns
 * 0 with *policy_r and *entry_r (pass the entry to policy_cache_release when
 * done), CAIRN_E_MALFORMED_POLICY with the reason in reason_r, or
 * CAIRN_E_NOMEM.
 */
int policy_cache_get(struct policy_cache *c, const char *json, size_t len,
                     const struct policy **policy_r, struct policy_cache_entry **entry_r,
                     char *reason_r, size_t reason_cap);

/* Gives back an entry obtained from policy_cache_get. */
void policy_cache_release(struct policy_cache *c, struct policy_cache_entry *e);

struct policy_cache_stats {
    uint64_t hits, misses, evictions;
    size_t entries;
};

/* A snapshot of the counters. */
void policy_cache_stats(struct policy_cache *c, struct policy_cache_stats *s_r);

#endif
