/*
 * sc-walk.c -- ordered key walk over drives; see sc-walk.h.
 *
 * Each directory is a node whose key S is the decoded path so far.  Its
 * children are: the object S itself (SC_OBJ_FILE), continuation pieces of a
 * long segment ("%+x": node S+x), and segment children (node S+"/"+x, or x at
 * the bucket root).  Items on the heap are ordered by a string that prefixes
 * every key they can produce, so popping the least item and expanding it
 * yields keys in byte order ("a-b" < "a/c" < "a0" falls out of this).
 */
#include "sc-walk.h"
#include "sc-drive.h"
#include "sc-keypath.h"

#include <cairn/plugin.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- directory listing cache ---- */

struct child {
    char *dec; /* decoded name */
    char *raw; /* name on disk */
};

struct dirlist {
    int refs;
    char *rel;
    size_t n_mt;
    struct timespec *mt; /* per drive; tv_nsec = -1 when absent */
    size_t n_obj; /* drives holding the object file here */
    size_t n_segs, n_conts;
    struct child *segs;  /* sorted by dec */
    struct child *conts; /* continuation pieces, dec without the "%+" */
    struct dirlist *next;
};

#define CACHE_BUCKETS 1024
#define CACHE_MAX 8192

struct sc_dircache {
    pthread_mutex_t mu;
    struct dirlist *b[CACHE_BUCKETS];
    size_t count;
};

struct sc_dircache *sc_dircache_new(void)
{
    struct sc_dircache *c = calloc(1, sizeof(*c));
    if (c)
        pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void dirlist_free(struct dirlist *dl)
{
    for (size_t i = 0; i < dl->n_segs; i++) {
        free(dl->segs[i].dec);
        free(dl->segs[i].raw);
    }
    for (size_t i = 0; i < dl->n_conts; i++) {
        free(dl->conts[i].dec);
        free(dl->conts[i].raw);
    }
    free(dl->segs);
    free(dl->conts);
    free(dl->mt);
    free(dl->rel);
    free(dl);
}

static void dirlist_unref(struct sc_dircache *c, struct dirlist *dl)
{
    pthread_mutex_lock(&c->mu);
    int last = --dl->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (last)
        dirlist_free(dl);
}

void sc_dircache_free(struct sc_dircache *c)
{
    if (!c)
        return;
    for (int i = 0; i < CACHE_BUCKETS; i++)
        for (struct dirlist *d = c->b[i], *n; d; d = n) {
            n = d->next;
            if (--d->refs == 0)
                dirlist_free(d);
        }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static unsigned hash_str(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % CACHE_BUCKETS;
}

static int child_cmp(const void *a, const void *b)
{
    return strcmp(((const struct child *)a)->dec, ((const struct child *)b)->dec);
}

/* Reads `rel` on every drive and builds the union listing (refs = 1). */
static int dirlist_build(struct sc_drive *const *drives, size_t n, const char *rel,
                         const struct timespec *mt, struct dirlist **dl_r)
{
    struct dirlist *dl = calloc(1, sizeof(*dl));
    if (!dl || !(dl->rel = strdup(rel)) || !(dl->mt = malloc(n * sizeof(*mt)))) {
        if (dl)
            free(dl->rel);
        free(dl);
        return CAIRN_E_NOMEM;
    }
    memcpy(dl->mt, mt, n * sizeof(*mt));
    dl->n_mt = n;
    dl->refs = 1;
    size_t cap_s = 0, cap_c = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (mt[i].tv_nsec < 0)
            continue;
        char **names;
        size_t nn;
        if (drives[i]->ops->readdir(drives[i], rel, &names, &nn))
            continue;
        for (size_t j = 0; j < nn && !rc; j++) {
            const char *nm = names[j];
            char dec[SC_PIECE + 2];
            if (!strcmp(nm, SC_OBJ_FILE)) {
                dl->n_obj++;
                continue;
            }
            int cont = nm[0] == '%' && nm[1] == '+';
            if (nm[0] == '.' || sc_name_decode(nm + (cont ? 2 : 0), dec, sizeof(dec)) < 0)
                continue;
            struct child **arr = cont ? &dl->conts : &dl->segs;
            size_t *cnt = cont ? &dl->n_conts : &dl->n_segs, *cap = cont ? &cap_c : &cap_s;
            if (*cnt == *cap) {
                *cap = *cap ? *cap * 2 : 8;
                struct child *na = realloc(*arr, *cap * sizeof(*na));
                if (!na) {
                    rc = CAIRN_E_NOMEM;
                    break;
                }
                *arr = na;
            }
            (*arr)[*cnt].dec = strdup(dec);
            (*arr)[*cnt].raw = strdup(nm);
            if (!(*arr)[*cnt].dec || !(*arr)[*cnt].raw) {
                free((*arr)[*cnt].dec);
                free((*arr)[*cnt].raw);
                rc = CAIRN_E_NOMEM;
                break;
            }
            (*cnt)++;
        }
        sc_names_free(names, nn);
    }
    /* sort and drop duplicates (the same name on several drives) */
    for (int pass = 0; pass < 2; pass++) {
        struct child *arr = pass ? dl->conts : dl->segs;
        size_t *cnt = pass ? &dl->n_conts : &dl->n_segs;
        if (!*cnt)
            continue;
        qsort(arr, *cnt, sizeof(*arr), child_cmp);
        size_t o = 1;
        for (size_t i = 1; i < *cnt; i++) {
            if (!strcmp(arr[i].dec, arr[o - 1].dec)) {
                free(arr[i].dec);
                free(arr[i].raw);
            } else {
                arr[o++] = arr[i];
            }
        }
        *cnt = o;
    }
    if (rc) {
        dirlist_free(dl);
        return rc;
    }
    *dl_r = dl;
    return 0;
}

/* The union listing of `rel`, from the cache when no drive changed it. */
static int dirlist_get(struct sc_dircache *c, struct sc_drive *const *drives, size_t n,
                       const char *rel, struct dirlist **dl_r)
{
    struct timespec mt[n ? n : 1];
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        mt[i].tv_sec = 0;
        mt[i].tv_nsec = -1;
        if (drives[i]->online && drives[i]->ops->stat(drives[i], rel, &st) == 0 &&
            S_ISDIR(st.st_mode)) {
            mt[i] = st.st_mtim;
            any = 1;
        }
    }
    if (!any) {
        *dl_r = NULL;
        return 0;
    }
    /* Directory mtimes come from a coarse clock: two changes within one tick
     * can leave the mtime unchanged.  Only cache listings of directories that
     * have not changed for a while. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int recent = 0;
    for (size_t i = 0; i < n; i++)
        if (mt[i].tv_nsec >= 0 && mt[i].tv_sec >= now.tv_sec - 2)
            recent = 1;
    if (recent)
        return dirlist_build(drives, n, rel, mt, dl_r);
    unsigned h = hash_str(rel);
    pthread_mutex_lock(&c->mu);
    struct dirlist **pp = &c->b[h];
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->rel, rel) || (*pp)->n_mt != n)
            continue;
        if (!memcmp((*pp)->mt, mt, n * sizeof(*mt))) {
            (*pp)->refs++;
            *dl_r = *pp;
            pthread_mutex_unlock(&c->mu);
            return 0;
        }
        /* stale: unlink it */
        struct dirlist *old = *pp;
        *pp = old->next;
        c->count--;
        if (--old->refs == 0)
            dirlist_free(old);
        break;
    }
    pthread_mutex_unlock(&c->mu);
    struct dirlist *dl;
    int rc = dirlist_build(drives, n, rel, mt, &dl);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    if (c->count >= CACHE_MAX) {
        /* crude eviction: drop the whole bucket chain we insert into */
        for (struct dirlist *d = c->b[h], *nx; d; d = nx) {
            nx = d->next;
            c->count--;
            if (--d->refs == 0)
                dirlist_free(d);
        }
        c->b[h] = NULL;
    }
    dl->refs++;
    dl->next = c->b[h];
    c->b[h] = dl;
    c->count++;
    pthread_mutex_unlock(&c->mu);
    *dl_r = dl;
    return 0;
}

/* ---- the walk ---- */

enum item_kind { IT_OBJ, IT_NODE, IT_CURSOR };

struct item {
    enum item_kind kind;
    char *sk;  /* lower bound / the key */
    char *rel; /* node: its directory; cursor: the listed directory */
    struct dirlist *dl;
    size_t idx;
    size_t base_len; /* cursor: length of the base prefix within sk */
};

struct sc_walk {
    struct sc_dircache *cache;
    struct sc_drive *const *drives;
    size_t n_drives;
    char *prefix, *lb, *skip;
    int lb_strict;
    struct item **heap;
    size_t n, cap;
    char *cur; /* last key returned */
    size_t cur_copies; /* drives holding cur's object file */
    int err;
};

static int item_less(const struct item *a, const struct item *b)
{
    int c = strcmp(a->sk, b->sk);
    if (c)
        return c < 0;
    return a->kind > b->kind; /* expand containers before an equal object */
}

static void item_free(struct sc_walk *w, struct item *it)
{
    if (!it)
        return;
    if (it->dl)
        dirlist_unref(w->cache, it->dl);
    free(it->sk);
    free(it->rel);
    free(it);
}

static int heap_push(struct sc_walk *w, struct item *it)
{
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 32;
        struct item **nh = realloc(w->heap, nc * sizeof(*nh));
        if (!nh) {
            item_free(w, it);
            return CAIRN_E_NOMEM;
        }
        w->heap = nh;
        w->cap = nc;
    }
    size_t i = w->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!item_less(it, w->heap[p]))
            break;
        w->heap[i] = w->heap[p];
        i = p;
    }
    w->heap[i] = it;
    return 0;
}

static struct item *heap_pop(struct sc_walk *w)
{
    if (!w->n)
        return NULL;
    struct item *top = w->heap[0], *last = w->heap[--w->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct item *mv = last;
        if (l < w->n && item_less(w->heap[l], mv)) {
            m = l;
            mv = w->heap[l];
        }
        if (r < w->n && item_less(w->heap[r], mv))
            m = r;
        if (m == i)
            break;
        w->heap[i] = w->heap[m];
        i = m;
    }
    if (w->n)
        w->heap[i] = last;
    return top;
}

static int starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static char *concat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb);
        memcpy(s + la + lb, c, lc + 1);
    }
    return s;
}

static int push_new(struct sc_walk *w, enum item_kind kind, char *sk, char *rel)
{
    struct item *it = calloc(1, sizeof(*it));
    if (!it || !sk || (kind != IT_OBJ && !rel)) {
        free(it);
        free(sk);
        free(rel);
        return CAIRN_E_NOMEM;
    }
    it->kind = kind;
    it->sk = sk;
    it->rel = rel;
    return heap_push(w, it);
}

/* An object item for key `sk` whose file is on `copies` drives (kept in idx). */
static int push_obj(struct sc_walk *w, const char *sk, size_t copies)
{
    struct item *it = calloc(1, sizeof(*it));
    if (!it || !(it->sk = strdup(sk))) {
        free(it);
        return CAIRN_E_NOMEM;
    }
    it->kind = IT_OBJ;
    it->idx = copies;
    return heap_push(w, it);
}

/* Index of the first child whose name is >= s (strict: > s). */
static size_t lower_bound(const struct dirlist *dl, const char *s, int strict)
{
    size_t lo = 0, hi = dl->n_segs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(dl->segs[mid].dec, s);
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First child at or after `from` whose name does not start with `p`. */
static size_t past_prefix(const struct dirlist *dl, size_t from, const char *p)
{
    size_t lo = from, hi = dl->n_segs, plen = strlen(p);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strncmp(dl->segs[mid].dec, p, plen) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Sets a cursor's sort key from its current child. */
static int cursor_key(struct item *it)
{
    const char *dec = it->dl->segs[it->idx].dec;
    size_t dl = strlen(dec);
    char *sk = realloc(it->sk, it->base_len + dl + 1);
    if (!sk)
        return CAIRN_E_NOMEM;
    memcpy(sk + it->base_len, dec, dl + 1);
    it->sk = sk;
    return 0;
}

/* Node child of a cursor: sk is the node key, its directory is rel/raw. */
static int push_child_node(struct sc_walk *w, const char *base, const char *rel,
                           const struct child *ch)
{
    return push_new(w, IT_NODE, concat3(base, ch->dec, ""), concat3(rel, "/", ch->raw));
}

/* Expands a node: its object, its continuation pieces and a cursor over its segments. */
static int expand_node(struct sc_walk *w, struct item *it, int root)
{
    struct dirlist *dl;
    int rc = dirlist_get(w->cache, w->drives, w->n_drives, it->rel, &dl);
    if (rc || !dl)
        return rc;
    if (!root && dl->n_obj && (rc = push_obj(w, it->sk, dl->n_obj)))
        goto out;
    for (size_t i = 0; i < dl->n_conts; i++)
        if ((rc = push_new(w, IT_NODE, concat3(it->sk, dl->conts[i].dec, ""),
                           concat3(it->rel, "/", dl->conts[i].raw))))
            goto out;
    if (!dl->n_segs)
        goto out;
    char *base = concat3(it->sk, root ? "" : "/", "");
    if (!base) {
        rc = CAIRN_E_NOMEM;
        goto out;
    }
    size_t blen = strlen(base), start = 0;
    /* seek: children before the lower bound can only matter when they are a
     * prefix of it (a directory on the way to it) */
    if (starts_with(w->lb, base)) {
        const char *rem = w->lb + blen;
        start = lower_bound(dl, rem, 0);
        size_t seg = strcspn(rem, "/");
        char tmp[SC_MAX_KEY + 1];
        for (size_t t = 0; t <= seg && t < sizeof(tmp) && !rc; t++) {
            memcpy(tmp, rem, t);
            tmp[t] = '\0';
            size_t j = lower_bound(dl, tmp, 0);
            if (j < start && !strcmp(dl->segs[j].dec, tmp))
                rc = push_child_node(w, base, it->rel, &dl->segs[j]);
        }
    } else if (strcmp(base, w->lb) < 0) {
        start = dl->n_segs; /* everything here is below the bound */
    }
    if (!rc && start < dl->n_segs) {
        struct item *c = calloc(1, sizeof(*c));
        if (!c || !(c->rel = strdup(it->rel))) {
            free(c);
            rc = CAIRN_E_NOMEM;
        } else {
            c->kind = IT_CURSOR;
            c->sk = base;
            base = NULL;
            c->base_len = blen;
            c->idx = start;
            c->dl = dl;
            pthread_mutex_lock(&w->cache->mu);
            dl->refs++;
            pthread_mutex_unlock(&w->cache->mu);
            rc = cursor_key(c);
            if (rc)
                item_free(w, c);
            else
                rc = heap_push(w, c);
        }
    }
    free(base);
out:
    dirlist_unref(w->cache, dl);
    return rc;
}

struct sc_walk *sc_walk_new(struct sc_dircache *cache, struct sc_drive *const *drives,
                            size_t n_drives, const char *bucket_rel, const char *prefix,
                            const char *after, int inclusive)
{
    struct sc_walk *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->cache = cache;
    w->drives = drives;
    w->n_drives = n_drives;
    w->prefix = strdup(prefix ? prefix : "");
    after = after ? after : "";
    if (strcmp(after, w->prefix ? w->prefix : "") >= 0) {
        w->lb = strdup(after);
        w->lb_strict = !inclusive;
    } else {
        w->lb = strdup(prefix);
        w->lb_strict = 0;
    }
    struct item *root = calloc(1, sizeof(*root));
    if (!w->prefix || !w->lb || !root || !(root->sk = strdup("")) ||
        !(root->rel = strdup(bucket_rel))) {
        item_free(w, root);
        sc_walk_free(w);
        return NULL;
    }
    root->kind = IT_NODE;
    root->idx = 1; /* marks the bucket root */
    if (heap_push(w, root)) {
        sc_walk_free(w);
        return NULL;
    }
    return w;
}

void sc_walk_skip(struct sc_walk *w, const char *prefix)
{
    char *s = strdup(prefix);
    if (!s) {
        w->err = CAIRN_E_NOMEM;
        return;
    }
    free(w->skip);
    w->skip = s;
}

int sc_walk_next(struct sc_walk *w, const char **key_r)
{
    struct item *it;
    while (!w->err && (it = heap_pop(w))) {
        int rc = 0;
        if (!starts_with(it->sk, w->prefix) && strcmp(it->sk, w->prefix) > 0) {
            item_free(w, it); /* everything left is beyond the prefix */
            break;
        }
        if (it->kind == IT_CURSOR) {
            struct item *node = NULL;
            const struct child *ch = &it->dl->segs[it->idx];
            /* skip a rolled-up prefix in one step */
            if (w->skip && starts_with(it->sk, w->skip)) {
                if (strlen(w->skip) <= it->base_len) {
                    item_free(w, it);
                    continue;
                }
                it->idx = past_prefix(it->dl, it->idx, w->skip + it->base_len);
                if (it->idx >= it->dl->n_segs || (rc = cursor_key(it))) {
                    item_free(w, it);
                    if (rc)
                        return w->err = rc;
                    continue;
                }
                if ((rc = heap_push(w, it)))
                    return w->err = rc;
                continue;
            }
            char *base = strndup(it->sk, it->base_len);
            if (!base)
                return w->err = CAIRN_E_NOMEM;
            node = calloc(1, sizeof(*node));
            if (node) {
                node->kind = IT_NODE;
                node->sk = concat3(base, ch->dec, "");
                node->rel = concat3(it->rel, "/", ch->raw);
            }
            free(base);
            if (!node || !node->sk || !node->rel) {
                item_free(w, node);
                item_free(w, it);
                return w->err = CAIRN_E_NOMEM;
            }
            if (++it->idx < it->dl->n_segs) {
                if ((rc = cursor_key(it)) || (rc = heap_push(w, it))) {
                    item_free(w, node);
                    return w->err = rc;
                }
            } else {
                item_free(w, it);
            }
            it = node;
        }
        /* prune what cannot produce a wanted key */
        int root = it->kind == IT_NODE && it->idx == 1;
        int cmp = strcmp(it->sk, w->lb);
        int drop = 0;
        if (!starts_with(it->sk, w->prefix) && !starts_with(w->prefix, it->sk))
            drop = 1;
        else if (w->skip && starts_with(it->sk, w->skip))
            drop = 1;
        else if (it->kind == IT_OBJ)
            drop = cmp < 0 || (cmp == 0 && w->lb_strict) || !starts_with(it->sk, w->prefix);
        else
            drop = cmp < 0 && !starts_with(w->lb, it->sk);
        if (drop) {
            item_free(w, it);
            continue;
        }
        if (it->kind == IT_OBJ) {
            free(w->cur);
            w->cur = it->sk;
            w->cur_copies = it->idx;
            it->sk = NULL;
            item_free(w, it);
            *key_r = w->cur;
            return 1;
        }
        rc = expand_node(w, it, root);
        item_free(w, it);
        if (rc)
            return w->err = rc;
    }
    return w->err ? w->err : 0;
}

void sc_walk_free(struct sc_walk *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        item_free(w, w->heap[i]);
    free(w->heap);
    free(w->prefix);
    free(w->lb);
    free(w->skip);
    free(w->cur);
    free(w);
}

size_t sc_walk_copies(const struct sc_walk *w)
{
    return w->cur_copies;
}
