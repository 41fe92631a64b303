/*
 * ec-io.c -- streaming a body into erasure-coded shard files, and reading a
 * byte range back (verifying every block, reconstructing what fails).
 */
#include "ec-internal.h"
#include "sc-blockfile.h"
#include "sc-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tmp_name(const struct ec_written *w, int s, char *out, size_t cap)
{
    ec_fmt(out, cap, SC_TMP_DIR "/%s.%d", w->id, s);
}

void ec_written_clear(struct ec_state *st, size_t set, struct ec_written *w)
{
    struct sc_drive **d = ec_set_drives(st, set);
    for (int s = 0; s < w->k + w->m; s++) {
        free(w->inl[s]);
        w->inl[s] = NULL;
        if (!w->is_inline && w->id[0]) {
            char p[128];
            tmp_name(w, s, p, sizeof(p));
            struct sc_drive *dr = d[w->dist[s]];
            if (dr->online)
                dr->ops->unlink(dr, p);
        }
    }
}

/* Reads up to `want` bytes; *eof_r set when the body ended. */
static ssize_t fill(struct ec_state *st, struct cairn_req *req, uint8_t *buf, size_t want,
                    int *eof_r)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = st->sv->body_read(req, buf + got, want - got);
        if (r < 0)
            return r;
        if (r == 0) {
            *eof_r = 1;
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

struct sync_job {
    struct ec_state *st;
    struct sc_drive **d;
    struct ec_written *w;
    const int *fh;
    int sync;
};

/* fsyncs (when asked) and closes one shard's temporary file. */
static void sync_one(void *vjob, int s)
{
    struct sync_job *j = vjob;
    if (j->fh[s] < 0)
        return;
    struct sc_drive *dr = j->d[j->w->dist[s]];
    if (j->sync && j->w->ok[s] && dr->ops->fsync(dr, j->fh[s]))
        j->w->ok[s] = 0;
    if (dr->ops->close(dr, j->fh[s]))
        j->w->ok[s] = 0;
}

int ec_write_body(struct ec_state *st, struct cairn_req *req, size_t set, const char *bucket,
                  const char *key, int m, const char *codec, int allow_inline,
                  struct ec_written *w)
{
    memset(w, 0, sizeof(*w));
    int n = (int)st->set_size, k = n - m;
    struct ec_codec *c = ec_codec_get(st, codec, k, m);
    if (!c)
        return CAIRN_E_INTERNAL;
    ec_fmt(w->codec, sizeof(w->codec), "%s", codec);
    w->k = k;
    w->m = m;
    w->block_size = st->block_size;
    ec_distribution(bucket, key, n, w->dist);
    sc_new_id(w->id);
    struct sc_drive **d = ec_set_drives(st, set);
    int wq = ec_write_quorum(k, m), online = 0;
    for (int i = 0; i < n; i++)
        online += d[i]->online;
    if (online < wq)
        return CAIRN_E_WRITE_QUORUM;

    size_t full = ec_shard_len(codec, k, st->block_size);
    uint8_t *buf = malloc((size_t)n * full);
    if (!buf)
        return CAIRN_E_NOMEM;
    int fh[SC_MAX_SHARDS], opened = 0, rc = 0, eof = 0;
    uint64_t block = 0;
    for (int s = 0; s < n; s++)
        fh[s] = -1;
    while (!eof) {
        ssize_t got = fill(st, req, buf, (size_t)st->block_size, &eof);
        if (got < 0) {
            rc = (int)got;
            break;
        }
        size_t sl = ec_shard_len(codec, k, (uint64_t)got);
        memset(buf + got, 0, (size_t)k * sl - (size_t)got);
        uint8_t *ptr[SC_MAX_SHARDS];
        for (int s = 0; s < n; s++)
            ptr[s] = buf + (size_t)s * sl;
        if (block == 0 && eof &&
            (got == 0 || (allow_inline && (uint64_t)got <= st->inline_limit))) {
            /* small: every drive keeps its shard inside the metadata file */
            if (got)
                ec_codec_encode(c, ptr, ptr + k, sl);
            for (int s = 0; s < n && !rc; s++) {
                size_t len = got ? SC_BLOCK_SUM + sl : 0;
                if (!(w->inl[s] = malloc(len ? len : 1)))
                    rc = CAIRN_E_NOMEM;
                else if (len)
                    sc_block_encode(ptr[s], sl, w->inl[s]);
                w->inl_len[s] = len;
                w->ok[s] = 1;
            }
            w->is_inline = 1;
            w->size = (uint64_t)got;
            break;
        }
        if (got == 0)
            break;
        if (!opened) {
            for (int s = 0; s < n; s++) {
                struct sc_drive *dr = d[w->dist[s]];
                char p[128];
                tmp_name(w, s, p, sizeof(p));
                fh[s] = dr->online ? dr->ops->open(dr, p, 1) : -EIO;
                w->ok[s] = fh[s] >= 0;
            }
            opened = 1;
        }
        ec_codec_encode(c, ptr, ptr + k, sl);
        int n_ok = 0;
        for (int s = 0; s < n; s++) {
            if (w->ok[s]) {
                struct sc_drive *dr = d[w->dist[s]];
                if (sc_block_write(dr, fh[s], block, full, ptr[s], sl)) {
                    st->sv->log(req, CAIRN_LOG_WARN, "backend-ec: write to drive %s failed",
                                dr->name);
                    w->ok[s] = 0;
                }
            }
            n_ok += w->ok[s];
        }
        if (n_ok < wq) {
            rc = CAIRN_E_WRITE_QUORUM;
            break;
        }
        w->size += (uint64_t)got;
        block++;
    }
    int n_ok = 0;
    struct sync_job sj = {st, d, w, fh, rc == 0 && st->sync};
    ec_parallel(n, sync_one, &sj);
    for (int s = 0; s < n; s++)
        n_ok += w->ok[s];
    if (!rc && n_ok < wq)
        rc = CAIRN_E_WRITE_QUORUM;
    free(buf);
    if (rc)
        ec_written_clear(st, set, w);
    return rc;
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
                      uint64_t block, size_t full, uint8_t *out, size_t sl)
{
    if (sr->bad)
        return -EIO;
    if (sr->is_mem)
        return sc_block_read_mem(sr->mem, sr->mem_len, block, full, out, sl);
    if (!sr->tried_open) {
        sr->tried_open = 1;
        sr->fh = dr->online ? dr->ops->open(dr, path, 0) : -EIO;
    }
    if (sr->fh < 0)
        return sr->fh;
    return sc_block_read_inplace(dr, sr->fh, block, full, out, sl);
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
     * are contiguous and go to the client with no copy; EC_HEADROOM bytes in
     * front take the first shard's checksum and keep the stripe aligned. */
    enum { EC_HEADROOM = 64 };
    uint8_t *mem = NULL;
    if (posix_memalign((void **)&mem, EC_HEADROOM, EC_HEADROOM + (size_t)n * full))
        return CAIRN_E_NOMEM;
    uint8_t *buf = mem + EC_HEADROOM;
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
                    int r = read_shard(st, d[v->dist[s]], &srcs[s], path, b, full, ptr[s], sl);
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
            rc = st->sv->body_write(req, buf + lo, (size_t)(hi - lo));
        }
        for (int s = 0; s < n; s++)
            if (srcs[s].fh >= 0)
                d[v->dist[s]]->ops->close(d[v->dist[s]], srcs[s].fh);
        pstart = pend;
    }
    free(mem);
    return rc;
}
