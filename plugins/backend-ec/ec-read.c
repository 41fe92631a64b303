/*
 * ec-read.c -- reading a byte range of an erasure-coded object back,
 * verifying every block and reconstructing what fails.
 *
 * Each block is read into a stripe buffer whose data shards lie side by side,
 * and the served bytes go to the socket from that buffer by reference
 * (services->body_write_ref): no copy of the object's bytes in the server.
 * A request keeps at most EC_STRIPES_IN_FLIGHT stripe buffers; the core's
 * output queue applies backpressure before each is handed over, and a buffer
 * comes back for the next block once its bytes were sent.
 */
#include "ec-internal.h"
#include "sc-blockfile.h"
#include "sc-util.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stripe buffers one read may have at once (one being filled, the rest
 * queued for the socket). */
#define EC_STRIPES_IN_FLIGHT 3
/* Shorter pieces are copied: a reference costs more than a small copy. */
#define EC_REF_MIN_BYTES (64 * 1024)
/* Bytes in front of a stripe: the first shard's checksum lands there and the
 * stripe stays aligned (see sc_block_read_inplace). */
#define EC_HEADROOM 64

/* Stripe buffers kept for the next reads, and the bytes they may hold: a
 * fresh 2 MiB buffer (1 MiB stripe, 2+2) costs ~512 page faults and as many
 * zeroed pages on first touch -- 13.5% of the server's CPU in a GET 1 MiB
 * load.  Process-wide (every backend-ec instance of the process); the kept
 * buffers never hold bytes that are sent without being read again first.
 * 64 covers a GET 1 MiB load at c=64 (16 left 17 faults per GET); a healthy
 * read touches only the data shards, so the resident cost is about half the
 * byte cap (server RSS after that load: 75 MB, 197 MB before the cache). */
#define EC_BUF_KEEP 64
#define EC_BUF_KEEP_BYTES (128u << 20)

static struct {
    pthread_mutex_t mu;
    size_t n, bytes;
    struct {
        uint8_t *mem;
        size_t size;
        int64_t kept_ms; /* when it was given back */
    } b[EC_BUF_KEEP];
} buf_cache = {PTHREAD_MUTEX_INITIALIZER, 0, 0, {{0}}};

/* EC_HEADROOM + size bytes, aligned to EC_HEADROOM; NULL when out of memory. */
static uint8_t *buf_get(size_t size)
{
    uint8_t *mem = NULL;
    pthread_mutex_lock(&buf_cache.mu);
    for (size_t i = buf_cache.n; i-- > 0;)
        if (buf_cache.b[i].size == size) {
            mem = buf_cache.b[i].mem;
            buf_cache.bytes -= size;
            buf_cache.b[i] = buf_cache.b[--buf_cache.n];
            break;
        }
    pthread_mutex_unlock(&buf_cache.mu);
    if (!mem && posix_memalign((void **)&mem, EC_HEADROOM, EC_HEADROOM + size) != 0)
        mem = NULL;
    return mem;
}

/* Keeps a buffer for buf_get, or frees it when enough are kept. */
static void buf_put(uint8_t *mem, size_t size)
{
    pthread_mutex_lock(&buf_cache.mu);
    if (buf_cache.n < EC_BUF_KEEP && buf_cache.bytes + size <= EC_BUF_KEEP_BYTES) {
        buf_cache.b[buf_cache.n].mem = mem;
        buf_cache.b[buf_cache.n].kept_ms = sc_now_ms();
        buf_cache.b[buf_cache.n++].size = size;
        buf_cache.bytes += size;
        mem = NULL;
    }
    pthread_mutex_unlock(&buf_cache.mu);
    free(mem);
}

size_t ec_read_release_idle(int64_t idle_ms)
{
    int64_t before = sc_now_ms() - idle_ms;
    uint8_t *gone[EC_BUF_KEEP];
    size_t n_gone = 0;
    pthread_mutex_lock(&buf_cache.mu);
    for (size_t i = buf_cache.n; i-- > 0;)
        if (buf_cache.b[i].kept_ms <= before) {
            gone[n_gone++] = buf_cache.b[i].mem;
            buf_cache.bytes -= buf_cache.b[i].size;
            buf_cache.b[i] = buf_cache.b[--buf_cache.n];
        }
    pthread_mutex_unlock(&buf_cache.mu);
    for (size_t i = 0; i < n_gone; i++)
        free(gone[i]);
    /* the core's malloc_trim ran a second after the last request, before
     * these were freed: give their pages back now */
    if (n_gone)
        malloc_trim(0);
    return n_gone;
}

/* The kept buffers go when the plugin is unloaded (or the process exits). */
__attribute__((destructor)) static void buf_cache_free(void)
{
    for (size_t i = 0; i < buf_cache.n; i++)
        free(buf_cache.b[i].mem);
    buf_cache.n = buf_cache.bytes = 0;
}

struct stripe_pool;

struct stripe {
    struct stripe_pool *pool;
    uint8_t *mem; /* EC_HEADROOM + size bytes */
};

/* The stripe buffers of one read.  Freed by whichever of the reader and
 * the core's last release comes last. */
struct stripe_pool {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t size;
    struct stripe stripes[EC_STRIPES_IN_FLIGHT];
    int is_free[EC_STRIPES_IN_FLIGHT];
    int n_alloc;     /* stripes[0, n_alloc) have memory */
    int reader_done; /* the reader will take no more stripes */
};

static struct stripe_pool *pool_new(size_t size)
{
    struct stripe_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cond, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    p->size = size;
    return p;
}

static void pool_destroy(struct stripe_pool *p)
{
    for (int i = 0; i < p->n_alloc; i++)
        buf_put(p->stripes[i].mem, p->size);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* All stripes back and the reader gone (mu held). */
static int pool_idle(const struct stripe_pool *p)
{
    for (int i = 0; i < p->n_alloc; i++)
        if (!p->is_free[i])
            return 0;
    return p->reader_done;
}

/* A free stripe, waiting while all are queued for the socket; NULL when out
 * of memory. */
static struct stripe *pool_take(struct stripe_pool *p)
{
    struct stripe *s = NULL;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        for (int i = 0; i < p->n_alloc && !s; i++)
            if (p->is_free[i]) {
                p->is_free[i] = 0;
                s = &p->stripes[i];
            }
        if (s || p->n_alloc < EC_STRIPES_IN_FLIGHT)
            break;
        pthread_cond_wait(&p->cond, &p->mu);
    }
    if (!s) {
        struct stripe *n = &p->stripes[p->n_alloc];
        if ((n->mem = buf_get(p->size))) {
            n->pool = p;
            p->is_free[p->n_alloc++] = 0;
            s = n;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return s;
}

/* Gives a stripe back (the reader, or the core through body_write_ref). */
static void pool_put(struct stripe *s)
{
    struct stripe_pool *p = s->pool;
    pthread_mutex_lock(&p->mu);
    p->is_free[s - p->stripes] = 1;
    int idle = pool_idle(p);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
    if (idle)
        pool_destroy(p);
}

static void stripe_release(const void *buf, void *arg)
{
    (void)buf;
    pool_put(arg);
}

/* The reader is done; the pool goes when its last stripe comes back. */
static void pool_finish(struct stripe_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->reader_done = 1;
    int idle = pool_idle(p);
    pthread_mutex_unlock(&p->mu);
    if (idle)
        pool_destroy(p);
}

/* Sends bytes of stripe `s`: by reference when worth it, else copied (the
 * stripe then stays with the reader).  Returns body_write's result; `*kept_r`
 * says whether the reader still owns the stripe. */
static int send_stripe(struct ec_state *st, struct cairn_req *req, struct stripe *s,
                       const uint8_t *at, size_t len, int *kept_r)
{
    const struct cairn_services *sv = st->sv;
    *kept_r = 1;
    if (len < EC_REF_MIN_BYTES || !CAIRN_TABLE_HAS(sv, body_write_ref) || !sv->body_write_ref)
        return sv->body_write(req, at, len);
    *kept_r = 0;
    return sv->body_write_ref(req, at, len, stripe_release, s);
}

/* One shard's source while reading a part. */
struct src {
    int tried_open, fh;
    const uint8_t *mem;
    size_t mem_len;
    int is_mem, bad;
};

/* `out` has SC_BLOCK_SUM writable bytes before it (see sc_block_read_inplace). */
static int read_shard(struct ec_state *st, struct sc_drive *dr, struct src *sr, const char *path,
                      uint64_t block, size_t full, enum sc_block_sum alg, uint8_t *out, size_t sl)
{
    if (sr->bad)
        return -EIO;
    if (sr->is_mem)
        return sc_block_read_mem(sr->mem, sr->mem_len, block, full, alg, out, sl);
    if (!sr->tried_open) {
        sr->tried_open = 1;
        sr->fh = dr->online ? dr->ops->open(dr, path, 0) : -EIO;
    }
    if (sr->fh < 0)
        return sr->fh;
    return sc_block_read_inplace(dr, sr->fh, block, full, alg, out, sl);
}

int ec_read_range(struct ec_state *st, struct cairn_req *req, size_t set, const char *bucket,
                  const char *key, const struct ec_qmeta *q, const struct sc_version *v,
                  uint64_t off, uint64_t len, int *damaged_r)
{
    int k = v->k, m = v->m, n = k + m;
    if (len == 0)
        return 0;
    struct ec_codec *c = ec_codec_get(st, v->codec, k, m);
    if (!c || n > (int)st->set_size)
        return CAIRN_E_CORRUPT;
    char base[EC_PATH];
    int rc = ec_key_rel(bucket, key, base, sizeof(base));
    if (rc)
        return rc;
    struct sc_drive **d = ec_set_drives(st, set);
    size_t full = ec_shard_len(v->codec, k, v->block_size);
    /* Shards are read in place, side by side, so the data shards of a block
     * are contiguous and go to the client with no copy. */
    struct stripe_pool *pool = pool_new((size_t)n * full);
    if (!pool)
        return CAIRN_E_NOMEM;
    struct stripe *cur = NULL; /* the stripe being filled, when the reader holds one */
    int is_inline = v->data_dir[0] == '\0';
    uint64_t pstart = 0, end = off + len;
    for (size_t p = 0; p < v->n_parts && !rc && pstart < end; p++) {
        const struct sc_part *pt = &v->parts[p];
        uint64_t pend = pstart + pt->size;
        if (pend <= off) {
            pstart = pend;
            continue;
        }
        struct src srcs[SC_MAX_SHARDS];
        char paths[SC_MAX_SHARDS][64];
        memset(srcs, 0, sizeof(srcs));
        for (int s = 0; s < n; s++) {
            srcs[s].fh = -1;
            ec_fmt(paths[s], sizeof(paths[s]), "/.d.%s/part.%u", v->data_dir, pt->number);
            if (is_inline) {
                const struct sc_version *dv = ec_drive_version(q, v->dist[s], v->id);
                srcs[s].is_mem = 1;
                if (dv && dv->has_inline) {
                    srcs[s].mem = dv->inline_data;
                    srcs[s].mem_len = dv->inline_len;
                } else {
                    srcs[s].bad = 1;
                }
            }
        }
        char path[EC_PATH + 64];
        uint64_t first = (off > pstart ? off - pstart : 0) / v->block_size;
        for (uint64_t b = first; !rc && pstart + b * v->block_size < end &&
                                 b * v->block_size < pt->size; b++) {
            uint64_t bstart = pstart + b * v->block_size;
            uint64_t dlen = pt->size - b * v->block_size;
            if (dlen > v->block_size)
                dlen = v->block_size;
            size_t sl = ec_shard_len(v->codec, k, dlen);
            uint64_t lo = off > bstart ? off - bstart : 0;
            uint64_t hi = end < bstart + dlen ? end - bstart : dlen;
            int present[SC_MAX_SHARDS] = {0}, tried[SC_MAX_SHARDS] = {0}, n_present = 0;
            if (!cur && !(cur = pool_take(pool))) {
                rc = CAIRN_E_NOMEM;
                break;
            }
            uint8_t *buf = cur->mem + EC_HEADROOM;
            uint8_t *ptr[SC_MAX_SHARDS];
            for (int s = 0; s < n; s++)
                ptr[s] = buf + (size_t)s * sl;
            int need_lo = (int)(lo / sl), need_hi = (int)((hi - 1) / sl), failed = 0;
            for (int pass = 0; pass < 2 && !rc; pass++) {
                for (int s = 0; s < n; s++) {
                    if (tried[s] || (pass == 0 && (s < need_lo || s > need_hi)))
                        continue;
                    if (pass == 1 && n_present >= k)
                        break;
                    tried[s] = 1;
                    ec_fmt(path, sizeof(path), "%s%s", base, paths[s]);
                    int r = read_shard(st, d[v->dist[s]], &srcs[s], path, b, full, v->block_sum,
                                       ptr[s], sl);
                    if (r == 0) {
                        present[s] = 1;
                        n_present++;
                    } else {
                        /* an offline drive is not news and cannot be healed */
                        int healable = d[v->dist[s]]->online;
                        if (!srcs[s].bad && healable)
                            st->sv->log(req, CAIRN_LOG_WARN, "backend-ec: shard %d of %s/%s "
                                        "block %llu on drive %s: %s", s, bucket, key,
                                        (unsigned long long)b, d[v->dist[s]]->name,
                                        r == -EBADMSG ? "checksum mismatch" : strerror(-r));
                        srcs[s].bad = 1;
                        failed = 1;
                        if (healable)
                            *damaged_r = 1;
                    }
                }
                if (!failed)
                    break;
            }
            if (failed) {
                if (n_present < k) {
                    st->sv->log(req, CAIRN_LOG_ERROR, "backend-ec: %s/%s block %llu: only %d "
                                "of %d shards readable", bucket, key, (unsigned long long)b,
                                n_present, k);
                    rc = CAIRN_E_READ_QUORUM;
                    break;
                }
                rc = ec_codec_reconstruct(c, ptr, present, sl);
                if (rc)
                    break;
            }
            int kept;
            rc = send_stripe(st, req, cur, buf + lo, (size_t)(hi - lo), &kept);
            if (!kept)
                cur = NULL; /* the core releases it to the pool */
        }
        for (int s = 0; s < n; s++)
            if (srcs[s].fh >= 0)
                d[v->dist[s]]->ops->close(d[v->dist[s]], srcs[s].fh);
        pstart = pend;
    }
    if (cur)
        pool_put(cur);
    pool_finish(pool);
    return rc;
}
