/*
 * bucket-cache.c -- see bucket-cache.h.
 *
 * Each cache is a small chained hash table of buckets; a bucket entry holds
 * its head (when read) and the config documents read so far, including
 * "absent" answers (CAIRN_E_NO_SUCH_CONFIG), which are as common as present
 * ones (a bucket without a policy).  Errors are never cached.
 *
 * A read that missed fills the entry only if no write invalidated anything
 * while it went to the drives (the generation counter did not move), so a
 * slow read can never put back a value a concurrent write replaced.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "bucket-cache.h"
#include "request.h"

#define BC_SLOTS 8        /* caches alive at once: one per loaded backend */
#define BC_HASH_SIZE 256  /* chains per cache */

struct bc_doc {
    struct bc_doc *next;
    char *name;
    char *data; /* NULL when the backend said the document is absent */
    size_t len;
};

struct bc_entry {
    struct bc_entry *next;
    char *bucket;
    int64_t expires_ms;
    int has_head;
    char *owner;
    int64_t created_ms;
    struct bc_doc *docs;
};

struct bucket_cache {
    struct cairn_backend_ops ops;         /* the caching table */
    const struct cairn_backend_ops *real; /* the backend's own */
    void *state;
    int64_t ttl_ms;
    size_t max_buckets;
    pthread_mutex_t mu;
    /* --- guarded by mu --- */
    struct bc_entry *chains[BC_HASH_SIZE];
    size_t n_entries;
    uint64_t generation; /* moves on every invalidation */
};

/* The caching table is called with the backend's state: find the cache by it.
 * Slots are written only while no request runs (server start and stop). */
static struct bucket_cache *slots[BC_SLOTS];

static struct bucket_cache *cache_of(void *state)
{
    for (size_t i = 0; i < BC_SLOTS; i++)
        if (slots[i] && slots[i]->state == state)
            return slots[i];
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t hash_name(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BC_HASH_SIZE;
}

static void entry_free(struct bc_entry *e)
{
    while (e->docs) {
        struct bc_doc *d = e->docs;
        e->docs = d->next;
        free(d->name);
        free(d->data);
        free(d);
    }
    free(e->bucket);
    free(e->owner);
    free(e);
}

/* Unlinks and frees `bucket`'s entry (every entry when NULL).  Locked. */
static void drop_locked(struct bucket_cache *bc, const char *bucket)
{
    for (size_t i = 0; i < BC_HASH_SIZE; i++) {
        if (bucket && i != hash_name(bucket))
            continue;
        struct bc_entry **pp = &bc->chains[i];
        while (*pp) {
            struct bc_entry *e = *pp;
            if (!bucket || strcmp(e->bucket, bucket) == 0) {
                *pp = e->next;
                entry_free(e);
                bc->n_entries--;
            } else {
                pp = &e->next;
            }
        }
    }
}

/* The live entry of `bucket`, or NULL (an expired one is dropped).  Locked. */
static struct bc_entry *find_locked(struct bucket_cache *bc, const char *bucket, int64_t now)
{
    for (struct bc_entry *e = bc->chains[hash_name(bucket)]; e; e = e->next) {
        if (strcmp(e->bucket, bucket) != 0)
            continue;
        if (now >= e->expires_ms) {
            drop_locked(bc, bucket);
            return NULL;
        }
        return e;
    }
    return NULL;
}

/* The entry of `bucket`, made when missing; NULL when out of memory.  Locked. */
static struct bc_entry *get_or_add_locked(struct bucket_cache *bc, const char *bucket,
                                          int64_t now)
{
    struct bc_entry *e = find_locked(bc, bucket, now);
    if (e)
        return e;
    if (bc->n_entries >= bc->max_buckets)
        drop_locked(bc, NULL); /* rare (that many buckets in use): start over */
    e = calloc(1, sizeof(*e));
    if (!e || !(e->bucket = strdup(bucket))) {
        free(e);
        return NULL;
    }
    e->expires_ms = now + bc->ttl_ms;
    size_t h = hash_name(bucket);
    e->next = bc->chains[h];
    bc->chains[h] = e;
    bc->n_entries++;
    return e;
}

void bucket_cache_invalidate(struct bucket_cache *bc, const char *bucket)
{
    if (!bc)
        return;
    pthread_mutex_lock(&bc->mu);
    drop_locked(bc, bucket);
    bc->generation++;
    pthread_mutex_unlock(&bc->mu);
}


/* ---- the cached reads ---- */

static int cached_bucket_head(void *state, struct cairn_req *req, const char *bucket,
                              struct cairn_bucket_info *info_r)
{
    struct bucket_cache *bc = cache_of(state);
    if (!bc || !req || !req->arena)
        return bc ? bc->real->bucket_head(state, req, bucket, info_r)
                  : CAIRN_E_INTERNAL;
    int64_t now = mono_ms();
    pthread_mutex_lock(&bc->mu);
    struct bc_entry *e = find_locked(bc, bucket, now);
    if (e && e->has_head) {
        char *name = arena_strdup(req->arena, e->bucket);
        char *owner = arena_strdup(req->arena, e->owner);
        int64_t created = e->created_ms;
        pthread_mutex_unlock(&bc->mu);
        if (!name || !owner)
            return CAIRN_E_NOMEM;
        *info_r = (struct cairn_bucket_info){.name = name, .created_ms = created, .owner = owner};
        return 0;
    }
    uint64_t gen = bc->generation;
    pthread_mutex_unlock(&bc->mu);

    int rc = bc->real->bucket_head(state, req, bucket, info_r);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&bc->mu);
    if (bc->generation == gen && (e = get_or_add_locked(bc, bucket, now)) && !e->has_head) {
        e->owner = strdup(info_r->owner ? info_r->owner : "");
        if (e->owner) {
            e->created_ms = info_r->created_ms;
            e->has_head = 1;
        }
    }
    pthread_mutex_unlock(&bc->mu);
    return 0;
}

static struct bc_doc *find_doc(struct bc_entry *e, const char *name)
{
    for (struct bc_doc *d = e->docs; d; d = d->next)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

/* Remembers a config read (data NULL: absent).  Locked. */
static void add_doc_locked(struct bc_entry *e, const char *name, const char *data, size_t len)
{
    if (find_doc(e, name))
        return;
    struct bc_doc *d = calloc(1, sizeof(*d));
    if (!d || !(d->name = strdup(name)))
        goto fail;
    if (data) {
        if (!(d->data = malloc(len ? len : 1)))
            goto fail;
        memcpy(d->data, data, len);
        d->len = len;
    }
    d->next = e->docs;
    e->docs = d;
    return;
fail:
    if (d)
        free(d->name);
    free(d);
}

static int cached_config_get(void *state, struct cairn_req *req, const char *bucket,
                             const char *name, char **data_r, size_t *len_r)
{
    struct bucket_cache *bc = cache_of(state);
    if (!bc || !req || !req->arena)
        return bc ? bc->real->bucket_config_get(state, req, bucket, name, data_r, len_r)
                  : CAIRN_E_INTERNAL;
    int64_t now = mono_ms();
    pthread_mutex_lock(&bc->mu);
    struct bc_entry *e = find_locked(bc, bucket, now);
    struct bc_doc *d = e ? find_doc(e, name) : NULL;
    if (d) {
        if (!d->data) {
            pthread_mutex_unlock(&bc->mu);
            return CAIRN_E_NO_SUCH_CONFIG;
        }
        /* One byte more: callers may treat a document as a string. */
        char *copy = arena_alloc(req->arena, d->len + 1);
        if (copy) {
            memcpy(copy, d->data, d->len);
            copy[d->len] = '\0';
            *data_r = copy;
            *len_r = d->len;
        }
        pthread_mutex_unlock(&bc->mu);
        return copy ? 0 : CAIRN_E_NOMEM;
    }
    uint64_t gen = bc->generation;
    pthread_mutex_unlock(&bc->mu);

    int rc = bc->real->bucket_config_get(state, req, bucket, name, data_r, len_r);
    int absent = rc == CAIRN_E_NO_SUCH_CONFIG;
    if ((rc == 0 && *data_r && *len_r <= BUCKET_CACHE_MAX_DOC) || absent) {
        pthread_mutex_lock(&bc->mu);
        if (bc->generation == gen && (e = get_or_add_locked(bc, bucket, now)))
            add_doc_locked(e, name, absent ? NULL : *data_r, absent ? 0 : *len_r);
        pthread_mutex_unlock(&bc->mu);
    }
    return rc;
}

/* ---- the invalidating writes ---- */

static int invalidating_create(void *state, struct cairn_req *req, const struct cairn_bucket_info *b)
{
    struct bucket_cache *bc = cache_of(state);
    if (!bc)
        return CAIRN_E_INTERNAL;
    int rc = bc->real->bucket_create(state, req, b);
    bucket_cache_invalidate(bc, b && b->name ? b->name : NULL);
    return rc;
}

static int invalidating_delete(void *state, struct cairn_req *req, const char *bucket)
{
    struct bucket_cache *bc = cache_of(state);
    if (!bc)
        return CAIRN_E_INTERNAL;
    int rc = bc->real->bucket_delete(state, req, bucket);
    bucket_cache_invalidate(bc, bucket);
    return rc;
}

static int invalidating_config_put(void *state, struct cairn_req *req, const char *bucket,
                                   const char *name, const void *data, size_t len)
{
    struct bucket_cache *bc = cache_of(state);
    if (!bc)
        return CAIRN_E_INTERNAL;
    int rc = bc->real->bucket_config_put(state, req, bucket, name, data, len);
    bucket_cache_invalidate(bc, bucket);
    return rc;
}

static int invalidating_config_delete(void *state, struct cairn_req *req, const char *bucket,
                                      const char *name)
{
    struct bucket_cache *bc = cache_of(state);
    if (!bc)
        return CAIRN_E_INTERNAL;
    int rc = bc->real->bucket_config_delete(state, req, bucket, name);
    bucket_cache_invalidate(bc, bucket);
    return rc;
}

/* ---- life cycle ---- */

struct bucket_cache *bucket_cache_new(const struct cairn_backend_ops *ops, void *state,
                                      int64_t ttl_ms, size_t max_buckets)
{
    if (!ops || cache_of(state))
        return NULL; /* one cache per backend instance */
    size_t slot = 0;
    while (slot < BC_SLOTS && slots[slot])
        slot++;
    if (slot == BC_SLOTS)
        return NULL;
    struct bucket_cache *bc = calloc(1, sizeof(*bc));
    if (!bc)
        return NULL;
    if (pthread_mutex_init(&bc->mu, NULL) != 0) {
        free(bc);
        return NULL;
    }
    bc->real = ops;
    bc->state = state;
    bc->ttl_ms = ttl_ms;
    bc->max_buckets = max_buckets ? max_buckets : 1;
    /* Copy the whole table the backend declared (never more than we know). */
    size_t n = ops->size && ops->size < sizeof(bc->ops) ? ops->size : sizeof(bc->ops);
    memcpy(&bc->ops, ops, n);
    bc->ops.size = n;
    if (CAIRN_TABLE_HAS(&bc->ops, bucket_head) && ops->bucket_head)
        bc->ops.bucket_head = cached_bucket_head;
    if (CAIRN_TABLE_HAS(&bc->ops, bucket_config_get) && ops->bucket_config_get)
        bc->ops.bucket_config_get = cached_config_get;
    if (CAIRN_TABLE_HAS(&bc->ops, bucket_create) && ops->bucket_create)
        bc->ops.bucket_create = invalidating_create;
    if (CAIRN_TABLE_HAS(&bc->ops, bucket_delete) && ops->bucket_delete)
        bc->ops.bucket_delete = invalidating_delete;
    if (CAIRN_TABLE_HAS(&bc->ops, bucket_config_put) && ops->bucket_config_put)
        bc->ops.bucket_config_put = invalidating_config_put;
    if (CAIRN_TABLE_HAS(&bc->ops, bucket_config_delete) && ops->bucket_config_delete)
        bc->ops.bucket_config_delete = invalidating_config_delete;
    slots[slot] = bc;
    return bc;
}

void bucket_cache_free(struct bucket_cache *bc)
{
    if (!bc)
        return;
    for (size_t i = 0; i < BC_SLOTS; i++)
        if (slots[i] == bc)
            slots[i] = NULL;
    drop_locked(bc, NULL);
    pthread_mutex_destroy(&bc->mu);
    free(bc);
}

const struct cairn_backend_ops *bucket_cache_ops(const struct bucket_cache *bc)
{
    return bc ? &bc->ops : NULL;
}

const struct cairn_backend_ops *bucket_cache_backend(const struct bucket_cache *bc)
{
    return bc ? bc->real : NULL;
}
