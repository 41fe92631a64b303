/*
 * ec-write.c -- streaming a body into erasure-coded shard files: encode each
 * stripe, write a checksummed block per shard, fsync before anything commits.
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
        ssize_t got = sc_body_fill(st->sv, req, buf, (size_t)st->block_size, &eof);
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
                    sc_block_encode(SC_SUM_DEFAULT, ptr[s], sl, w->inl[s]);
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
                if (sc_block_write(dr, fh[s], block, full, SC_SUM_DEFAULT, ptr[s], sl)) {
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
    if (opened) { /* inline and empty bodies have no shard files */
        struct sync_job sj = {st, d, w, fh, rc == 0 && st->sync};
        sc_parallel(n, sync_one, &sj);
    }
    for (int s = 0; s < n; s++)
        n_ok += w->ok[s];
    if (!rc && n_ok < wq)
        rc = CAIRN_E_WRITE_QUORUM;
    free(buf);
    if (rc)
        ec_written_clear(st, set, w);
    return rc;
}
