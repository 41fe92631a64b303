/*
 * bucket-cache.h -- a per-backend cache of what the request path reads about a
 * bucket on every request: its head (owner, creation time) and its small
 * config documents (policy, versioning, ...).
 *
 * Without it an anonymous GET read the bucket's head, its policy and its
 * versioning state from every drive of the set before touching the object.
 * The cache sits in front of one backend as a copy of its operation table in
 * which the bucket reads answer from memory and the bucket writes (create,
 * delete, config put/delete) invalidate.  Every write of bucket config goes
 * through the core of this single process, so invalidation keeps it exact; a
 * short time-to-live is kept anyway as a bound on staleness for changes made
 * behind the core's back (a drive folder edited by hand).
 *
 * Thread-safe: one mutex per cache, held only for lookups and inserts.
 */
#ifndef CAIRN_BUCKET_CACHE_H
#define CAIRN_BUCKET_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

struct bucket_cache;

/* How long an entry is trusted, and how many buckets are kept at most. */
#define BUCKET_CACHE_TTL_MS 1000
#define BUCKET_CACHE_MAX_BUCKETS 1024
/* Config documents larger than this are not cached (read through). */
#define BUCKET_CACHE_MAX_DOC (64 * 1024)

/*
 * Makes a cache in front of the backend (`ops`, `state`).  Its operation
 * table (bucket_cache_ops) is called with the backend's own `state`, so a
 * caller swaps only the table.  At most 8 caches exist at once (one per
 * loaded backend); NULL when out of memory or slots.
 */
struct bucket_cache *bucket_cache_new(const struct cairn_backend_ops *ops, void *state,
                                      int64_t ttl_ms, size_t max_buckets);

/* Frees the cache (no request may use its table any more). */
void bucket_cache_free(struct bucket_cache *bc);

/* The caching operation table: the backend's own, with the bucket reads
 * cached and the bucket writes invalidating. */
const struct cairn_backend_ops *bucket_cache_ops(const struct bucket_cache *bc);

/* The backend operation table the cache wraps. */
const struct cairn_backend_ops *bucket_cache_backend(const struct bucket_cache *bc);

/* Drops what is cached about `bucket` (NULL: everything). */
void bucket_cache_invalidate(struct bucket_cache *bc, const char *bucket);

#endif
