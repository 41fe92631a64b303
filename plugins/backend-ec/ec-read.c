/*
 * ec-read.c -- reading a byte range of an erasure-coded object back,
 * verifying every block and reconstructing what fails.
 */
#include "ec-internal.h"
#include "sc-blockfile.h"
#include "sc-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
