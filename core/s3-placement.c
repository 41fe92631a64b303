/*
 * s3-placement.c -- placement rule matching, backend lookup by name, and the
 * bucket -> backend cache (a chained hash table under one mutex; lookups are
 * short and the table is small, so a single lock is enough).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/plugin.h>

#include "s3-placement.h"

const char *s3_placement_match(const struct s3_placement_rule *rules, size_t n_rules,
                               const char *bucket)
{
    if (!bucket || !*bucket || bucket[0] == '.')
        return NULL;
    for (size_t i = 0; i < n_rules; i++) {
        const char *prefix = rules[i].prefix ? rules[i].prefix : "";
        if (rules[i].backend && strncmp(bucket, prefix, strlen(prefix)) == 0)
            return rules[i].backend;
    }
    return NULL;
}

const struct loaded_plugin *s3_placement_find(const struct loaded_plugin *const *backends,
                                              size_t n_backends, const char *name)
{
    if (!name || !backends)
        return NULL;
    for (size_t i = 0; i < n_backends; i++)
        if (backends[i] && backends[i]->instance_name &&
            strcmp(backends[i]->instance_name, name) == 0)
            return backends[i];
    return NULL;
}

struct placement_entry {
    struct placement_entry *next;
    size_t index;
    char name[]; /* the bucket */
};

#define PLACEMENT_SLOTS 256

struct s3_placement_cache {
    pthread_mutex_t lock;
    size_t capacity;
    size_t count;
    struct placement_entry *slots[PLACEMENT_SLOTS];
};

static size_t slot_of(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % PLACEMENT_SLOTS;
}

/* Drops every entry; the caller holds the lock. */
static void cache_clear_locked(struct s3_placement_cache *c)
{
    for (size_t i = 0; i < PLACEMENT_SLOTS; i++) {
        struct placement_entry *e = c->slots[i];
        while (e) {
            struct placement_entry *next = e->next;
            free(e);
            e = next;
        }
        c->slots[i] = NULL;
    }
    c->count = 0;
}

struct s3_placement_cache *s3_placement_cache_new(size_t capacity)
{
    if (capacity == 0)
        return NULL;
    struct s3_placement_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->capacity = capacity;
    return c;
}

void s3_placement_cache_free(struct s3_placement_cache *c)
{
    if (!c)
        return;
    cache_clear_locked(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int s3_placement_cache_get(struct s3_placement_cache *c, const char *bucket, size_t *index_r)
{
    if (!c || !bucket)
        return 0;
    int found = 0;
    pthread_mutex_lock(&c->lock);
    for (struct placement_entry *e = c->slots[slot_of(bucket)]; e; e = e->next)
        if (strcmp(e->name, bucket) == 0) {
            *index_r = e->index;
            found = 1;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    return found;
}

int s3_placement_cache_put(struct s3_placement_cache *c, const char *bucket, size_t index)
{
    if (!c || !bucket)
        return CAIRN_E_INVALID_ARGUMENT;
    size_t len = strlen(bucket);
    struct placement_entry *fresh = malloc(sizeof(*fresh) + len + 1);
    if (!fresh)
        return CAIRN_E_NOMEM;
    memcpy(fresh->name, bucket, len + 1);
    fresh->index = index;
    size_t slot = slot_of(bucket);
    pthread_mutex_lock(&c->lock);
    for (struct placement_entry *e = c->slots[slot]; e; e = e->next)
        if (strcmp(e->name, bucket) == 0) {
            e->index = index;
            pthread_mutex_unlock(&c->lock);
            free(fresh);
            return 0;
        }
    if (c->count >= c->capacity)
        cache_clear_locked(c); /* crude but bounded; entries refill on demand */
    fresh->next = c->slots[slot];
    c->slots[slot] = fresh;
    c->count++;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

void s3_placement_cache_forget(struct s3_placement_cache *c, const char *bucket)
{
    if (!c || !bucket)
        return;
    pthread_mutex_lock(&c->lock);
    for (struct placement_entry **pp = &c->slots[slot_of(bucket)]; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->name, bucket) == 0) {
            struct placement_entry *e = *pp;
            *pp = e->next;
            free(e);
            c->count--;
            break;
        }
    pthread_mutex_unlock(&c->lock);
}

size_t s3_placement_cache_size(struct s3_placement_cache *c)
{
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    size_t n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* ---- per-request use ---- */

#include "s3-internal.h"

static const struct loaded_plugin *default_backend(const struct s3_call *call)
{
    return call->s3->plugins->backend;
}

static void use_backend(struct s3_call *call, const struct loaded_plugin *p)
{
    call->backend = p;
    call->be = p->desc->backend;
    call->be_state = p->state;
}

/* The index of `p` in the server's backend list, or n_backends. */
static size_t index_of(const struct s3_plugins *pl, const struct loaded_plugin *p)
{
    size_t i = 0;
    while (i < pl->n_backends && pl->backends[i] != p)
        i++;
    return i;
}

int s3_placement_backend_of(struct s3_call *call, const char *bucket,
                            const struct loaded_plugin **backend_r)
{
    const struct s3_plugins *pl = call->s3->plugins;
    struct s3_placement_cache *cache = s3_server_placement_cache(call->s3);
    const struct loaded_plugin *def = default_backend(call);
    *backend_r = def;
    if (!cache || pl->n_backends < 2 || !bucket || !*bucket || bucket[0] == '.')
        return 0;
    size_t idx;
    if (s3_placement_cache_get(cache, bucket, &idx)) {
        if (idx < pl->n_backends)
            *backend_r = pl->backends[idx];
        return 0;
    }
    const struct cairn_backend_ops *be = def->desc->backend;
    if (!be->bucket_config_get)
        return 0;
    char *doc = NULL;
    size_t len = 0;
    int rc = be->bucket_config_get(def->state, &call->req, bucket, S3_PLACEMENT_DOC, &doc, &len);
    if (rc == CAIRN_E_NO_SUCH_BUCKET)
        return 0; /* the operation answers NoSuchBucket itself; nothing to cache */
    const struct loaded_plugin *target = def;
    if (rc == 0 && doc && len > 0) {
        char *name = arena_strndup(call->req.arena, doc, len);
        if (!name)
            return CAIRN_E_NOMEM;
        target = s3_placement_find(pl->backends, pl->n_backends, name);
        if (!target) {
            call->services->log(&call->req, CAIRN_LOG_ERROR,
                                "bucket %s is placed on backend '%s', which is not loaded",
                                bucket, name);
            return CAIRN_E_INTERNAL;
        }
    } else if (rc < 0 && rc != CAIRN_E_NO_SUCH_CONFIG) {
        return rc;
    }
    *backend_r = target;
    /* Failing to cache only costs a lookup next time. */
    (void)s3_placement_cache_put(cache, bucket, index_of(pl, target));
    return 0;
}

int s3_placement_route(struct s3_call *call)
{
    if (call->op == S3_OP_LIST_BUCKETS || call->op == S3_OP_CREATE_BUCKET ||
        call->op == S3_OP_HEALTH)
        return 0;
    const struct loaded_plugin *target;
    int rc = s3_placement_backend_of(call, call->bucket, &target);
    if (rc < 0)
        return rc;
    if (target != call->backend)
        use_backend(call, target);
    return 0;
}

int s3_placement_choose(struct s3_call *call, const struct loaded_plugin **chosen_r,
                        const char **detail_r)
{
    const struct s3_plugins *pl = call->s3->plugins;
    *chosen_r = default_backend(call);
    *detail_r = NULL;
    const char *bucket = call->bucket;
    const char *name = s3_header(call, S3_PLACEMENT_HEADER);
    if (name) {
        const struct loaded_plugin *p = s3_placement_find(pl->backends, pl->n_backends, name);
        if (!p && strcmp(name, default_backend(call)->instance_name) == 0)
            p = default_backend(call);
        if (!p) {
            *detail_r = s3_printf(call, "Unknown backend '%s' in x-cairn-backend.", name);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        if (bucket[0] != '.')
            *chosen_r = p;
        return 0;
    }
    const char *ruled = s3_placement_match(pl->placement, pl->n_placement, bucket);
    if (ruled) {
        const struct loaded_plugin *p = s3_placement_find(pl->backends, pl->n_backends, ruled);
        if (p) /* the config loader checked the names; stay on the default otherwise */
            *chosen_r = p;
    }
    return 0;
}

int s3_placement_create(struct s3_call *call, const struct loaded_plugin *chosen,
                        const struct cairn_bucket_info *info)
{
    const struct loaded_plugin *def = default_backend(call);
    /* Always: a request that raced the creation (or a delete) may have cached
     * an older placement of this name. */
    s3_placement_cache_forget(s3_server_placement_cache(call->s3), call->bucket);
    if (!chosen || chosen == def)
        return 0;
    const struct cairn_backend_ops *cb = chosen->desc->backend;
    int rc = cb->bucket_create(chosen->state, &call->req, info);
    if (rc == CAIRN_E_BUCKET_EXISTS || rc == CAIRN_E_BUCKET_OWNED_BY_YOU)
        rc = 0; /* left over from an interrupted delete; the default backend owns the name */
    if (rc == 0) {
        const char *name = chosen->instance_name;
        rc = def->desc->backend->bucket_config_put(def->state, &call->req, call->bucket,
                                                   S3_PLACEMENT_DOC, name, strlen(name));
        if (rc < 0)
            (void)cb->bucket_delete(chosen->state, &call->req, call->bucket);
    }
    if (rc < 0)
        (void)def->desc->backend->bucket_delete(def->state, &call->req, call->bucket);
    s3_placement_cache_forget(s3_server_placement_cache(call->s3), call->bucket);
    return rc;
}

int s3_placement_delete_bucket(struct s3_call *call)
{
    const struct loaded_plugin *def = default_backend(call);
    int rc = call->be->bucket_delete(call->be_state, &call->req, call->bucket);
    if (call->backend != def) {
        if (rc < 0 && rc != CAIRN_E_NO_SUCH_BUCKET)
            return rc;
        rc = def->desc->backend->bucket_delete(def->state, &call->req, call->bucket);
    }
    s3_placement_cache_forget(s3_server_placement_cache(call->s3), call->bucket);
    return rc;
}
