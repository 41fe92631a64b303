/*
 * sc-metacache.c -- parsed metadata files in memory (see sc-metacache.h).
 */
#include "sc-metacache.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SHARDS 16    /* mutexes, each with its own LRU list and byte share */
#define GENS 1024    /* generation slots (a multiple of SHARDS) */

struct shard {
    pthread_mutex_t mu;
    struct sc_mc_entry **bucket;
    size_t n_buckets; /* a power of two */
    struct sc_mc_entry *lru_head, *lru_tail; /* head is the most recent */
    size_t bytes, entries;
    uint64_t hits, misses, inserts, evictions, invalidations, stale_skips;
};

struct sc_metacache {
    int refs;
    size_t budget, shard_budget;
    struct shard shard[SHARDS];
    uint64_t gen[GENS];
};

static uint64_t key_hash(const struct sc_drive *d, const char *rel)
{
    return XXH64(rel, strlen(rel), (uint64_t)(uintptr_t)d);
}

static struct shard *shard_of(struct sc_metacache *c, uint64_t h)
{
    return &c->shard[h % SHARDS];
}

static uint64_t *gen_of(struct sc_metacache *c, uint64_t h)
{
    return &c->gen[h % GENS];
}

struct sc_metacache *sc_mc_new(size_t budget)
{
    if (!budget)
        return NULL;
    struct sc_metacache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->refs = 1;
    c->budget = budget;
    c->shard_budget = budget / SHARDS;
    /* about one bucket per 1 KiB of budget (an entry is 0.1 to a few KiB) */
    size_t nb = 16;
    while (nb * SHARDS * 1024 < budget && nb < (1u << 16))
        nb *= 2;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&c->shard[i].mu, NULL);
        c->shard[i].n_buckets = nb;
        c->shard[i].bucket = calloc(nb, sizeof(*c->shard[i].bucket));
        if (!c->shard[i].bucket) {
            sc_mc_unref(c);
            return NULL;
        }
    }
    return c;
}

void sc_mc_ref(struct sc_metacache *c)
{
    if (c)
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
}

static void entry_free(struct sc_mc_entry *e)
{
    sc_objmeta_clear(&e->m);
    free(e->raw);
    free(e);
}

void sc_mc_release(struct sc_mc_entry *e)
{
    if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0)
        entry_free(e);
}

void sc_mc_unref(struct sc_metacache *c)
{
    if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (int i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shard[i];
        for (struct sc_mc_entry *e = s->lru_head, *nx; e; e = nx) {
            nx = e->lru_next;
            sc_mc_release(e);
        }
        free(s->bucket);
        pthread_mutex_destroy(&s->mu);
    }
    free(c);
}

void sc_mc_ident_of(const struct stat *st, struct sc_mc_ident *id)
{
    memset(id, 0, sizeof(*id));
    if (!st)
        return;
    id->present = 1;
    id->dev = (uint64_t)st->st_dev;
    id->ino = (uint64_t)st->st_ino;
    id->size = (uint64_t)st->st_size;
    id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    id->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

static int ident_eq(const struct sc_mc_ident *a, const struct sc_mc_ident *b)
{
    if (a->present != b->present)
        return 0;
    return !a->present || (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
                           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns);
}

uint64_t sc_mc_gen(struct sc_metacache *c, const struct sc_drive *d, const char *rel)
{
    return __atomic_load_n(gen_of(c, key_hash(d, rel)), __ATOMIC_ACQUIRE);
}

/* The entry for d/rel in its shard (locked), with the link pointing at it. */
static struct sc_mc_entry **find(struct shard *s, uint64_t h, const struct sc_drive *d,
                                 const char *rel)
{
    struct sc_mc_entry **pp = &s->bucket[(h / SHARDS) & (s->n_buckets - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->drive == d && !strcmp((*pp)->rel, rel))
            return pp;
    return pp;
}

static void lru_unlink(struct shard *s, struct sc_mc_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        s->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        s->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push(struct shard *s, struct sc_mc_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = s->lru_head;
    if (s->lru_head)
        s->lru_head->lru_prev = e;
    s->lru_head = e;
    if (!s->lru_tail)
        s->lru_tail = e;
}

/* Takes *pp out of the table; the cache's reference goes to the caller's list. */
static struct sc_mc_entry *detach(struct shard *s, struct sc_mc_entry **pp)
{
    struct sc_mc_entry *e = *pp;
    *pp = e->next;
    e->next = NULL;
    lru_unlink(s, e);
    s->bytes -= e->bytes;
    s->entries--;
    return e;
}

struct sc_mc_entry *sc_mc_get(struct sc_metacache *c, const struct sc_drive *d, const char *rel,
                              const struct sc_mc_ident *id)
{
    uint64_t h = key_hash(d, rel);
    struct shard *s = shard_of(c, h);
    struct sc_mc_entry *hit = NULL;
    pthread_mutex_lock(&s->mu);
    struct sc_mc_entry *e = *find(s, h, d, rel);
    if (e && ident_eq(&e->id, id)) {
        hit = e;
        __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
        if (s->lru_head != e) {
            lru_unlink(s, e);
            lru_push(s, e);
        }
        s->hits++;
    } else {
        s->misses++;
    }
    pthread_mutex_unlock(&s->mu);
    return hit;
}

/* What the allocator holds for p (what the entry really costs in memory). */
static size_t held(const void *p)
{
    return p ? malloc_usable_size((void *)p) + 16 : 0;
}

static size_t attrs_bytes(const struct sc_attr *a, size_t n)
{
    size_t b = held(a);
    for (size_t i = 0; i < n; i++)
        b += held(a[i].name) + held(a[i].value);
    return b;
}

/* What an entry costs: itself (with its path), the raw file and the parsed list. */
static size_t entry_bytes(const struct sc_mc_entry *e)
{
    size_t b = held(e) + held(e->raw) + held(e->m.v);
    for (size_t i = 0; i < e->m.n; i++) {
        const struct sc_version *v = &e->m.v[i];
        b += held(v->inline_data) + attrs_bytes(v->attrs, v->n_attrs) + held(v->parts);
        for (size_t p = 0; p < v->n_parts; p++)
            b += attrs_bytes(v->parts[p].attrs, v->parts[p].n_attrs);
    }
    return b;
}

struct sc_mc_entry *sc_mc_put(struct sc_metacache *c, const struct sc_drive *d, const char *rel,
                              uint64_t gen, const struct sc_mc_ident *id, int status,
                              struct sc_objmeta *m, uint64_t sig, uint8_t **raw, size_t raw_len)
{
    size_t rel_len = strlen(rel);
    struct sc_mc_entry *e = malloc(sizeof(*e) + rel_len + 1);
    if (!e)
        return NULL;
    memset(e, 0, sizeof(*e));
    memcpy(e->rel, rel, rel_len + 1);
    e->hash = key_hash(d, rel);
    e->drive = d;
    e->id = *id;
    e->status = status;
    if (!status) {
        /* the read buffer has room to spare (sc_drive_read_all doubles it) */
        uint8_t *fit = realloc(*raw, raw_len + 1);
        if (fit)
            *raw = fit;
        e->m = *m;
        e->sig = sig;
        e->raw = *raw;
        e->raw_len = raw_len;
    }
    e->bytes = entry_bytes(e);
    e->refs = 2; /* the table's and the caller's */
    struct shard *s = shard_of(c, e->hash);
    struct sc_mc_entry *gone = NULL; /* detached entries, released unlocked */
    int kept = 0;
    pthread_mutex_lock(&s->mu);
    if (__atomic_load_n(gen_of(c, e->hash), __ATOMIC_ACQUIRE) != gen) {
        s->stale_skips++; /* a write overlapped the read: what was read may be old */
    } else if (e->bytes <= c->shard_budget / 2) {
        struct sc_mc_entry **pp = find(s, e->hash, d, rel);
        if (*pp)
            gone = detach(s, pp);
        e->next = s->bucket[(e->hash / SHARDS) & (s->n_buckets - 1)];
        s->bucket[(e->hash / SHARDS) & (s->n_buckets - 1)] = e;
        lru_push(s, e);
        s->bytes += e->bytes;
        s->entries++;
        s->inserts++;
        kept = 1;
        while (s->bytes > c->shard_budget && s->lru_tail && s->lru_tail != e) {
            struct sc_mc_entry *t = s->lru_tail;
            t = detach(s, find(s, t->hash, t->drive, t->rel));
            t->next = gone;
            gone = t;
            s->evictions++;
        }
    }
    pthread_mutex_unlock(&s->mu);
    while (gone) {
        struct sc_mc_entry *nx = gone->next;
        sc_mc_release(gone);
        gone = nx;
    }
    if (kept) {
        if (!status) {
            memset(m, 0, sizeof(*m));
            *raw = NULL;
        }
        return e;
    }
    free(e);
    return NULL;
}

void sc_mc_invalidate(struct sc_metacache *c, const struct sc_drive *d, const char *rel)
{
    if (!c)
        return;
    uint64_t h = key_hash(d, rel);
    struct shard *s = shard_of(c, h);
    struct sc_mc_entry *gone = NULL;
    pthread_mutex_lock(&s->mu);
    __atomic_add_fetch(gen_of(c, h), 1, __ATOMIC_ACQ_REL);
    struct sc_mc_entry **pp = find(s, h, d, rel);
    if (*pp)
        gone = detach(s, pp);
    s->invalidations++;
    pthread_mutex_unlock(&s->mu);
    sc_mc_release(gone);
}

void sc_mc_stats(struct sc_metacache *c, struct sc_mc_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!c)
        return;
    out->budget = c->budget;
    for (int i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shard[i];
        pthread_mutex_lock(&s->mu);
        out->hits += s->hits;
        out->misses += s->misses;
        out->inserts += s->inserts;
        out->evictions += s->evictions;
        out->invalidations += s->invalidations;
        out->stale_skips += s->stale_skips;
        out->bytes += s->bytes;
        out->entries += s->entries;
        pthread_mutex_unlock(&s->mu);
    }
}
