/*
 * s3-placement.h -- which backend serves a bucket.
 *
 * A server may load several backends (config `backends = (...)`); the first is
 * the default.  A bucket lives on one of them, chosen at CreateBucket by the
 * request header `x-cairn-backend: NAME` or else by the first config rule
 * (`placement = ( { prefix = "rep-"; backend = "replica"; } )`) whose prefix
 * starts the bucket's name, else the default.  A bucket placed elsewhere is
 * also created on the default backend (so ListBuckets and name uniqueness keep
 * working there) with a bucket config document "placement" naming the backend.
 *
 * Reserved buckets (names starting with '.', e.g. the IAM store) always stay
 * on the default backend.
 */
#ifndef CAIRN_S3_PLACEMENT_H
#define CAIRN_S3_PLACEMENT_H

#include <stddef.h>

#include "plugin-loader.h"

/* One config rule: buckets whose name starts with `prefix` go to `backend`. */
struct s3_placement_rule {
    const char *prefix;  /* may be "" (matches every bucket) */
    const char *backend; /* a backend instance name */
};

/* The name of the bucket config document kept on the default backend. */
#define S3_PLACEMENT_DOC "placement"

/* The header that picks the backend at CreateBucket. */
#define S3_PLACEMENT_HEADER "x-cairn-backend"

/*
 * Returns the backend name of the first rule whose prefix starts `bucket`, or
 * NULL when none matches (the default backend) or `bucket` is NULL or
 * reserved (starts with '.').
 */
const char *s3_placement_match(const struct s3_placement_rule *rules, size_t n_rules,
                               const char *bucket);

/*
 * Finds the loaded backend named `name` (instance name, case-sensitive) among
 * `backends`; NULL when absent or `name` is NULL.
 */
const struct loaded_plugin *s3_placement_find(const struct loaded_plugin *const *backends,
                                              size_t n_backends, const char *name);

/*
 * A small thread-safe cache bucket -> backend (index into the server's
 * backend list).  Bounded: when full, it is emptied and refilled on demand.
 */
struct s3_placement_cache;

/* A new empty cache holding up to `capacity` buckets (>= 1); NULL on failure. */
struct s3_placement_cache *s3_placement_cache_new(size_t capacity);

/* Frees the cache (NULL is fine). */
void s3_placement_cache_free(struct s3_placement_cache *c);

/* 1 with *index_r set when `bucket` is cached, else 0. */
int s3_placement_cache_get(struct s3_placement_cache *c, const char *bucket, size_t *index_r);

/* Remembers `bucket` -> `index`; 0, or CAIRN_E_NOMEM (the cache stays valid). */
int s3_placement_cache_put(struct s3_placement_cache *c, const char *bucket, size_t index);

/* Forgets `bucket` (after DeleteBucket, or when its placement changes). */
void s3_placement_cache_forget(struct s3_placement_cache *c, const char *bucket);

/* How many buckets are cached (for tests). */
size_t s3_placement_cache_size(struct s3_placement_cache *c);

/* ---- per-request use (s3-server.c, s3-bucket.c) ---- */

struct s3_call;
struct s3_server;

/* The server's cache (s3-server.c owns it); NULL when placement is off. */
struct s3_placement_cache *s3_server_placement_cache(const struct s3_server *s3);

/*
 * For a request on an existing bucket: points call->backend/be/be_state at
 * the backend the bucket lives on (cached; else from the default backend's
 * "placement" document).  Leaves the default for ListBuckets, CreateBucket,
 * reserved buckets, unknown buckets and single-backend servers.  0, or a
 * negative error (CAIRN_E_INTERNAL when the document names a backend that is
 * not loaded).
 */
int s3_placement_route(struct s3_call *call);

/*
 * CreateBucket: the backend the new bucket goes to (header, then rules, then
 * the default) in *chosen_r.  0, or CAIRN_E_INVALID_ARGUMENT for an unknown
 * x-cairn-backend name (with *detail_r a message for the client).
 */
int s3_placement_choose(struct s3_call *call, const struct loaded_plugin **chosen_r,
                        const char **detail_r);

/*
 * CreateBucket, after the bucket was created on the default backend (the
 * current call->be): creates it on `chosen` too and records the placement
 * document.  On failure the default backend's bucket is removed again.  No-op
 * when `chosen` is the default.  0 or a negative error.
 */
int s3_placement_create(struct s3_call *call, const struct loaded_plugin *chosen,
                        const struct cairn_bucket_info *info);

/*
 * DeleteBucket: deletes on the bucket's backend (call->be after routing), then
 * on the default one when they differ, and forgets the cache entry.
 */
int s3_placement_delete_bucket(struct s3_call *call);

#endif
