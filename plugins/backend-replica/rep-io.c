/*
 * rep-io.c -- writing a body to N copies (block files with a checksum per
 * block, fsynced before anything commits) and reading it back from the first
 * copy that verifies, block by block, so a damaged copy never shows.
 */
#include "rep-internal.h"
#include "sc-blockfile.h"
#include "sc-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rep_tmp_name(const struct rep_written *w, int s, char *out, size_t cap)
{
    rep_fmt(out, cap, SC_TMP_DIR "/%s.%d", w->id, s);
}

void rep_written_clear(struct rep_state *st, struct rep_written *w)
{
    free(w->inl);
    w->inl = NULL;
    if (w->is_inline || !w->id[0])
        return;
    for (int s = 0; s < w->copies; s++) {
        char p[128];
        rep_tmp_name(w, s, p, sizeof(p));
        struct sc_drive *d = st->drives[w->dist[s]];
        if (d->online)
            d->ops->unlink(d, p);
    }
}

static int count_ok(const struct rep_written *w)
{
    int n = 0;
    for (int s = 0; s < w->copies; s++)
        n += w->ok[s];
    return n;
}

int rep_write_body(struct rep_state *st, struct cairn_req *req, const int *order, int copies,
                   int allow_inline, struct rep_written *w)
{
    memset(w, 0, sizeof(*w));
    w->copies = copies;
    int wq = rep_quorum(copies);
    for (int s = 0; s < copies; s++) {
        w->dist[s] = order[s];
        w->ok[s] = st->drives[order[s]]->online;
    }
    if (count_ok(w) < wq)
        return CAIRN_E_WRITE_QUORUM;
    size_t bs = (size_t)st->block_size;
    uint8_t *buf = malloc(bs);
    if (!buf)
        return CAIRN_E_NOMEM;
    int eof = 0, rc = 0, fh[REP_MAX];
    for (int s = 0; s < REP_MAX; s++)
        fh[s] = -1;
    ssize_t got = sc_body_fill(st->sv, req, buf, bs, &eof);
    if (got < 0) {
        rc = (int)got;
        goto out;
    }
    if (allow_inline && eof && (uint64_t)got <= st->inline_limit) {
        w->inl = malloc(SC_BLOCK_SUM + (size_t)got);
        if (!w->inl) {
            rc = CAIRN_E_NOMEM;
            goto out;
        }
        sc_block_encode(SC_SUM_DEFAULT, buf, (size_t)got, w->inl);
        w->inl_len = SC_BLOCK_SUM + (size_t)got;
        w->is_inline = 1;
        w->size = (uint64_t)got;
        goto out;
    }
    sc_new_id(w->id);
    for (int s = 0; s < copies; s++) {
        if (!w->ok[s])
            continue;
        struct sc_drive *d = st->drives[w->dist[s]];
        char p[128];
        rep_tmp_name(w, s, p, sizeof(p));
        fh[s] = d->ops->open(d, p, 1);
        if (fh[s] < 0) {
            w->ok[s] = 0;
            st->sv->log(req, CAIRN_LOG_WARN, "backend-replica: cannot write to drive %s",
                        d->name);
        }
    }
    for (uint64_t blk = 0;; blk++) {
        if (count_ok(w) < wq) {
            rc = CAIRN_E_WRITE_QUORUM;
            break;
        }
        if (got > 0) {
            for (int s = 0; s < copies; s++) {
                if (!w->ok[s])
                    continue;
                struct sc_drive *d = st->drives[w->dist[s]];
                if (sc_block_write(d, fh[s], blk, bs, SC_SUM_DEFAULT, buf, (size_t)got)) {
                    w->ok[s] = 0;
                    st->sv->log(req, CAIRN_LOG_WARN, "backend-replica: write to drive %s "
                                "failed", d->name);
                }
            }
            w->size += (uint64_t)got;
        }
        if (eof)
            break;
        got = sc_body_fill(st->sv, req, buf, bs, &eof);
        if (got < 0) {
            rc = (int)got;
            break;
        }
    }
    for (int s = 0; s < copies; s++) {
        if (fh[s] < 0)
            continue;
        struct sc_drive *d = st->drives[w->dist[s]];
        if (!rc && w->ok[s] && st->sync && d->ops->fsync(d, fh[s]))
            w->ok[s] = 0;
        d->ops->close(d, fh[s]);
    }
    if (!rc && count_ok(w) < wq)
        rc = CAIRN_E_WRITE_QUORUM;
out:
    free(buf);
    if (rc)
        rep_written_clear(st, w);
    return rc;
}

/* Streams bytes [off, off+len) of an inline version from the first copy that verifies. */
static int read_inline(struct rep_state *st, struct cairn_req *req, const struct rep_qmeta *q,
                       const struct sc_version *v, uint64_t off, uint64_t len, int *damaged_r)
{
    uint8_t *data = malloc(v->size ? v->size : 1);
    if (!data)
        return CAIRN_E_NOMEM;
    int rc = CAIRN_E_CORRUPT;
    for (int pos = 0; pos < q->n; pos++) {
        if (q->status[pos])
            continue;
        int i = rep_find_version(&q->m[pos], v->id);
        const struct sc_version *dv = i >= 0 ? &q->m[pos].v[i] : NULL;
        if (!dv || !dv->has_inline || dv->mtime_ms != v->mtime_ms ||
            sc_block_read_mem(dv->inline_data, dv->inline_len, 0, (size_t)v->size,
                              v->block_sum, data, (size_t)v->size)) {
            *damaged_r = 1;
            continue;
        }
        rc = st->sv->body_write(req, data + off, (size_t)len);
        break;
    }
    free(data);
    return rc;
}

int rep_read_range(struct rep_state *st, struct cairn_req *req, const char *bucket,
                   const char *key, const struct rep_qmeta *q, const struct sc_version *v,
                   uint64_t off, uint64_t len, int *damaged_r)
{
    if (len == 0)
        return 0;
    if (!v->data_dir[0])
        return read_inline(st, req, q, v, off, len, damaged_r);
    int ncopy = v->k + v->m;
    if (ncopy < 1 || ncopy > REP_MAX || v->block_size == 0 || v->block_size > (64u << 20))
        return CAIRN_E_CORRUPT;
    size_t bs = (size_t)v->block_size;
    char dir[REP_PATH];
    int rc = rep_key_rel(bucket, key, dir, sizeof(dir));
    if (rc)
        return rc;
    size_t dn = strlen(dir);
    rep_fmt(dir + dn, sizeof(dir) - dn, "/.d.%s", v->data_dir);
    uint8_t *data = malloc(bs), *scratch = malloc(SC_BLOCK_SUM + bs);
    if (!data || !scratch) {
        free(data);
        free(scratch);
        return CAIRN_E_NOMEM;
    }
    int cur = 0; /* the copy that served the last block: try it first */
    uint64_t part_start = 0;
    for (size_t p = 0; p < v->n_parts && len && !rc; p++) {
        const struct sc_part *pt = &v->parts[p];
        uint64_t pend = part_start + pt->size;
        if (off >= pend) {
            part_start = pend;
            continue;
        }
        char rel[REP_PATH + 32];
        rep_fmt(rel, sizeof(rel), "%s/part.%u", dir, pt->number);
        int fh[REP_MAX];
        for (int s = 0; s < ncopy; s++)
            fh[s] = -2; /* not opened yet */
        uint64_t in = off - part_start;
        while (len && in < pt->size && !rc) {
            uint64_t blk = in / bs;
            size_t blen = (size_t)(pt->size - blk * bs < bs ? pt->size - blk * bs : bs);
            int served = 0;
            for (int t = 0; t < ncopy && !served; t++) {
                int s = (cur + t) % ncopy;
                if (v->dist[s] >= q->n)
                    continue;
                struct sc_drive *d = st->drives[q->order[v->dist[s]]];
                if (!d->online)
                    continue;
                if (fh[s] == -2)
                    fh[s] = d->ops->open(d, rel, 0);
                if (fh[s] < 0 ||
                    sc_block_read(d, fh[s], blk, bs, v->block_sum, data, blen, scratch)) {
                    *damaged_r = 1;
                    continue;
                }
                cur = s;
                served = 1;
            }
            if (!served) {
                st->sv->log(req, CAIRN_LOG_ERROR, "backend-replica: %s/%s: no copy of block "
                            "%llu of part %u verifies", bucket, key, (unsigned long long)blk,
                            pt->number);
                rc = CAIRN_E_CORRUPT;
                break;
            }
            size_t from = (size_t)(in - blk * bs);
            size_t n = blen - from;
            if (n > len)
                n = (size_t)len;
            rc = st->sv->body_write(req, data + from, n);
            in += n;
            off += n;
            len -= n;
        }
        for (int s = 0; s < ncopy; s++)
            if (fh[s] >= 0) {
                struct sc_drive *d = st->drives[q->order[v->dist[s]]];
                d->ops->close(d, fh[s]);
            }
        part_start = pend;
    }
    free(data);
    free(scratch);
    if (!rc && len)
        rc = CAIRN_E_CORRUPT;
    return rc;
}
