/*
 * policy-cache.c -- an LRU of compiled policies behind one mutex.  The key is
 * the XXH3 hash of the text; the text itself is kept and compared, so a hash
 * collision can never hand out the wrong policy.  Compilation runs outside
 * the lock.
 */
#include "policy-cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct policy_cache_entry {
    uint64_t hash;
    size_t len;
    char *text;
    struct policy *policy;
    unsigned refs;   /* users, plus one while the entry is in the cache */
    int cached;      /* still reachable from the table */
    struct policy_cache_entry *chain;      /* next in the hash bucket */
    struct policy_cache_entry *prev, *next; /* LRU: head is most recent */
};

struct policy_cache {
    pthread_mutex_t lock;
    size_t max, count, n_buckets;
    struct policy_cache_entry **buckets;
    struct policy_cache_entry *head, *tail;
    uint64_t hits, misses, evictions;
};

struct policy_cache *policy_cache_new(size_t max_entries)
{
    struct policy_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->max = max_entries ? max_entries : 1;
    c->n_buckets = 16;
    while (c->n_buckets < c->max * 2)
        c->n_buckets *= 2;
    c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void entry_free(struct policy_cache_entry *e)
{
    policy_free(e->policy);
    free(e->text);
    free(e);
}

void policy_cache_free(struct policy_cache *c)
{
    if (!c)
        return;
    for (struct policy_cache_entry *e = c->head, *next; e; e = next) {
        next = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c);
}

static void lru_unlink(struct policy_cache *c, struct policy_cache_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct policy_cache *c, struct policy_cache_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static struct policy_cache_entry *find(struct policy_cache *c, uint64_t h, const char *json,
                                       size_t len)
{
    for (struct policy_cache_entry *e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->chain)
        if (e->hash == h && e->len == len && memcmp(e->text, json, len) == 0)
            return e;
    return NULL;
}

/* Drops the least recently used entry; the caller holds the lock.  Returns
 * the entry when nobody uses it any more (to free outside the lock). */
static struct policy_cache_entry *evict_one(struct policy_cache *c)
{
    struct policy_cache_entry *e = c->tail;
    struct policy_cache_entry **pp = &c->buckets[e->hash & (c->n_buckets - 1)];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    lru_unlink(c, e);
    e->cached = 0;
    c->count--;
    c->evictions++;
    return --e->refs == 0 ? e : NULL;
}

int policy_cache_get(struct policy_cache *c, const char *json, size_t len,
                     const struct policy **policy_r, struct policy_cache_entry **entry_r,
                     char *reason_r, size_t reason_cap)
{
    uint64_t h = XXH3_64bits(json, len);
    pthread_mutex_lock(&c->lock);
    struct policy_cache_entry *e = find(c, h, json, len);
    if (e) {
        c->hits++;
        e->refs++;
        lru_unlink(c, e);
        lru_push_front(c, e);
        pthread_mutex_unlock(&c->lock);
        *policy_r = e->policy;
        *entry_r = e;
        return 0;
    }
    c->misses++;
    pthread_mutex_unlock(&c->lock);

    struct policy *p;
    int rc = policy_compile(json, len, &p, reason_r, reason_cap);
    if (rc < 0)
        return rc;
    e = calloc(1, sizeof(*e));
    if (!e || !(e->text = malloc(len ? len : 1))) {
        free(e);
        policy_free(p);
        return CAIRN_E_NOMEM;
    }
    memcpy(e->text, json, len);
    e->hash = h;
    e->len = len;
    e->policy = p;

    struct policy_cache_entry *victim = NULL;
    pthread_mutex_lock(&c->lock);
    struct policy_cache_entry *other = find(c, h, json, len);
    if (other) {
        /* Another thread compiled the same text meanwhile: use its copy. */
        other->refs++;
        lru_unlink(c, other);
        lru_push_front(c, other);
        pthread_mutex_unlock(&c->lock);
        entry_free(e);
        *policy_r = other->policy;
        *entry_r = other;
        return 0;
    }
    if (c->count >= c->max)
        victim = evict_one(c);
    e->refs = 2; /* the cache and the caller */
    e->cached = 1;
    size_t b = h & (c->n_buckets - 1);
    e->chain = c->buckets[b];
    c->buckets[b] = e;
    lru_push_front(c, e);
    c->count++;
    pthread_mutex_unlock(&c->lock);
    if (victim)
        entry_free(victim);
    *policy_r = p;
    *entry_r = e;
    return 0;
}

void policy_cache_release(struct policy_cache *c, struct policy_cache_entry *e)
{
    pthread_mutex_lock(&c->lock);
    int last = --e->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        entry_free(e);
}

void policy_cache_stats(struct policy_cache *c, struct policy_cache_stats *s_r)
{
    pthread_mutex_lock(&c->lock);
    s_r->hits = c->hits;
    s_r->misses = c->misses;
    s_r->evictions = c->evictions;
    s_r->entries = c->count;
    pthread_mutex_unlock(&c->lock);
}
