/*
 * ec-heal.c -- verify every shard block of an object and rebuild what is
 * missing or corrupt; heal every bucket and object (a replaced drive).
 */
#include "ec-internal.h"
#include "sc-blockfile.h"
#include "sc-frame.h"
#include "sc-keypath.h"
#include "sc-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct heal_ctx {
    struct ec_state *st;
    const struct ec_qmeta *q;
    int need_meta[EC_MAX_SET];
    /* rebuilt inline shards: [version][shard] */
    size_t n_versions;
    uint8_t *(*inl)[SC_MAX_SHARDS];
    size_t (*inl_len)[SC_MAX_SHARDS];
    int (*inl_set)[SC_MAX_SHARDS];
};

static int heal_mutate(void *vctx, int pos, struct sc_objmeta *m)
{
    struct heal_ctx *hc = vctx;
    if (!hc->need_meta[pos])
        return 1;
    for (size_t i = 0; i < m->n && i < hc->n_versions; i++) {
        struct sc_version *v = &m->v[i];
        if (v->delete_marker)
            continue;
        int s = v->shard_index;
        if (hc->inl_set[i][s]) {
            free(v->inline_data);
            v->inline_len = hc->inl_len[i][s];
            v->inline_data = malloc(v->inline_len ? v->inline_len : 1);
            if (!v->inline_data)
                return CAIRN_E_NOMEM;
            memcpy(v->inline_data, hc->inl[i][s], v->inline_len);
            v->has_inline = 1;
        }
    }
    return 0;
}

/* Heals the inline shards of version vi. */
static int heal_inline(struct heal_ctx *hc, size_t vi, const struct sc_version *v)
{
    struct ec_state *st = hc->st;
    int n = v->k + v->m, good[SC_MAX_SHARDS], n_good = 0;
    size_t sl = v->size ? ec_shard_len(v->codec, v->k, v->size) : 0;
    uint8_t *buf = malloc((size_t)n * (sl ? sl : 1));
    if (!buf)
        return CAIRN_E_NOMEM;
    uint8_t *ptr[SC_MAX_SHARDS];
    for (int s = 0; s < n; s++) {
        ptr[s] = buf + (size_t)s * sl;
        const struct sc_version *dv = ec_drive_version(hc->q, v->dist[s], v->id);
        good[s] = dv && dv->has_inline &&
                  (sl == 0 ? dv->inline_len == 0
                           : sc_block_read_mem(dv->inline_data, dv->inline_len, 0, sl,
                                               v->block_sum, ptr[s], sl) == 0);
        n_good += good[s];
    }
    int rc = 0;
    if (n_good < n) {
        struct ec_codec *c = ec_codec_get(st, v->codec, v->k, v->m);
        if (!c)
            rc = CAIRN_E_CORRUPT;
        else if (sl)
            rc = ec_codec_reconstruct(c, ptr, good, sl);
        else if (n_good < v->k)
            rc = CAIRN_E_READ_QUORUM;
        for (int s = 0; s < n && !rc; s++) {
            if (good[s])
                continue;
            size_t len = sl ? SC_BLOCK_SUM + sl : 0;
            hc->inl[vi][s] = malloc(len ? len : 1);
            if (!hc->inl[vi][s]) {
                rc = CAIRN_E_NOMEM;
                break;
            }
            if (len)
                sc_block_encode(v->block_sum, ptr[s], sl, hc->inl[vi][s]);
            hc->inl_len[vi][s] = len;
            hc->inl_set[vi][s] = 1;
            hc->need_meta[v->dist[s]] = 1;
            __atomic_add_fetch(&st->healed_shards, 1, __ATOMIC_RELAXED);
        }
    }
    free(buf);
    return rc;
}

/* Verifies every block of one part's shards and rebuilds the bad ones. */
static int heal_part(struct ec_state *st, size_t set, const char *kdir, const struct sc_version *v,
                     const struct sc_part *pt, int *rebuilt_r)
{
    int n = v->k + v->m, good[SC_MAX_SHARDS], n_good = 0, rc = 0;
    struct sc_drive **d = ec_set_drives(st, set);
    size_t full = ec_shard_len(v->codec, v->k, v->block_size);
    uint8_t *buf = malloc((size_t)n * full + SC_BLOCK_SUM + full);
    if (!buf)
        return CAIRN_E_NOMEM;
    uint8_t *scratch = buf + (size_t)n * full;
    uint64_t nblocks = (pt->size + v->block_size - 1) / v->block_size;
    char path[SC_MAX_SHARDS][EC_PATH + 64];
    for (int s = 0; s < n; s++) {
        struct sc_drive *dr = d[v->dist[s]];
        ec_fmt(path[s], sizeof(path[s]), "%s/.d.%s/part.%u", kdir, v->data_dir, pt->number);
        good[s] = 0;
        if (!dr->online)
            continue;
        int fh = dr->ops->open(dr, path[s], 0);
        if (fh < 0)
            continue;
        good[s] = 1;
        for (uint64_t b = 0; b < nblocks && good[s]; b++) {
            uint64_t dlen = pt->size - b * v->block_size;
            size_t sl = ec_shard_len(v->codec, v->k, dlen > v->block_size ? v->block_size : dlen);
            good[s] = sc_block_read(dr, fh, b, full, v->block_sum, buf, sl, scratch) == 0;
        }
        dr->ops->close(dr, fh);
        n_good += good[s];
    }
    int to_fix = 0;
    for (int s = 0; s < n; s++)
        to_fix += !good[s] && d[v->dist[s]]->online;
    if (!to_fix || nblocks == 0) {
        free(buf);
        return 0;
    }
    struct ec_codec *c = ec_codec_get(st, v->codec, v->k, v->m);
    if (n_good < v->k || !c) {
        st->sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: heal: %s part %u has only %d of %d good "
                    "shards; cannot rebuild", kdir, pt->number, n_good, v->k);
        free(buf);
        return CAIRN_E_READ_QUORUM;
    }
    int fin[SC_MAX_SHARDS], fout[SC_MAX_SHARDS], wfail[SC_MAX_SHARDS] = {0};
    char tmp[SC_MAX_SHARDS][128], id[33];
    sc_new_id(id);
    for (int s = 0; s < n; s++) {
        struct sc_drive *dr = d[v->dist[s]];
        fin[s] = fout[s] = -1;
        ec_fmt(tmp[s], sizeof(tmp[s]), SC_TMP_DIR "/%s.h%d", id, s);
        if (good[s])
            fin[s] = dr->ops->open(dr, path[s], 0);
        else if (dr->online) {
            fout[s] = dr->ops->open(dr, tmp[s], 1);
            if (fout[s] == -ENOENT) {
                dr->ops->mkdir_p(dr, SC_TMP_DIR);
                fout[s] = dr->ops->open(dr, tmp[s], 1);
            }
        }
    }
    for (uint64_t b = 0; b < nblocks && !rc; b++) {
        uint64_t dlen = pt->size - b * v->block_size;
        size_t sl = ec_shard_len(v->codec, v->k, dlen > v->block_size ? v->block_size : dlen);
        uint8_t *ptr[SC_MAX_SHARDS];
        int present[SC_MAX_SHARDS] = {0}, np = 0;
        for (int s = 0; s < n; s++) {
            ptr[s] = buf + (size_t)s * sl;
            if (fin[s] >= 0 && np < v->k &&
                sc_block_read(d[v->dist[s]], fin[s], b, full, v->block_sum, ptr[s], sl,
                              scratch) == 0) {
                present[s] = 1;
                np++;
            }
        }
        rc = ec_codec_reconstruct(c, ptr, present, sl);
        for (int s = 0; s < n && !rc; s++)
            if (fout[s] >= 0 && !wfail[s] &&
                sc_block_write(d[v->dist[s]], fout[s], b, full, v->block_sum, ptr[s], sl))
                wfail[s] = 1;
    }
    for (int s = 0; s < n; s++) {
        struct sc_drive *dr = d[v->dist[s]];
        if (fin[s] >= 0)
            dr->ops->close(dr, fin[s]);
        if (fout[s] < 0)
            continue;
        int failed = wfail[s], fd = fout[s];
        if (!failed && st->sync && dr->ops->fsync(dr, fd))
            failed = 1;
        dr->ops->close(dr, fd);
        char ddir[EC_PATH + 64];
        ec_fmt(ddir, sizeof(ddir), "%s/.d.%s", kdir, v->data_dir);
        if (!rc && !failed && dr->ops->mkdir_p(dr, ddir) == 0 &&
            dr->ops->rename(dr, tmp[s], path[s]) == 0) {
            if (st->sync)
                dr->ops->fsync_dir(dr, ddir);
            __atomic_add_fetch(&st->healed_shards, 1, __ATOMIC_RELAXED);
            (*rebuilt_r)++;
        } else {
            dr->ops->unlink(dr, tmp[s]);
            __atomic_add_fetch(&st->heal_errors, 1, __ATOMIC_RELAXED);
        }
    }
    free(buf);
    return rc;
}

/* Heals one metadata file of a key (q, loaded): rebuilds the shards of its
 * versions and rewrites the copies of drives that disagree. */
static int heal_file(struct ec_state *st, size_t set, const char *bucket, const char *kdir,
                     struct ec_qmeta *q, int *rebuilt, int *metas)
{
    const struct sc_objmeta *ag = ec_qmeta_agreed(q);
    struct heal_ctx hc;
    memset(&hc, 0, sizeof(hc));
    hc.st = st;
    hc.q = q;
    hc.n_versions = ag->n;
    hc.inl = calloc(ag->n + 1, sizeof(*hc.inl));
    hc.inl_len = calloc(ag->n + 1, sizeof(*hc.inl_len));
    hc.inl_set = calloc(ag->n + 1, sizeof(*hc.inl_set));
    int rc = 0;
    if (!hc.inl || !hc.inl_len || !hc.inl_set)
        rc = CAIRN_E_NOMEM;
    struct sc_drive **d = ec_set_drives(st, set);
    for (int pos = 0; pos < q->n; pos++)
        hc.need_meta[pos] = d[pos]->online && !q->agree[pos];
    for (size_t i = 0; i < ag->n && !rc; i++) {
        const struct sc_version *v = &ag->v[i];
        if (v->delete_marker)
            continue;
        if (!v->data_dir[0]) {
            rc = heal_inline(&hc, i, v);
            continue;
        }
        for (size_t p = 0; p < v->n_parts && !rc; p++)
            rc = heal_part(st, set, kdir, v, &v->parts[p], rebuilt);
    }
    int n = 0;
    for (int pos = 0; pos < q->n; pos++)
        n += hc.need_meta[pos];
    if (!rc && n) {
        rc = ec_meta_commit(st, set, bucket, NULL, q, 0, heal_mutate, &hc, NULL);
        __atomic_add_fetch(&st->healed_meta, (uint64_t)n, __ATOMIC_RELAXED);
        *metas += n;
    }
    for (size_t i = 0; hc.inl && i < hc.n_versions; i++)
        for (int s = 0; s < SC_MAX_SHARDS; s++)
            free(hc.inl[i][s]);
    free(hc.inl);
    free(hc.inl_len);
    free(hc.inl_set);
    return rc;
}

/* Data directories no version refers to (left by a crash between moving data
 * in and writing metadata; every such move happens under the key's lock). */
static void remove_orphan_dirs(struct ec_state *st, size_t set, const char *kdir, char **used,
                               size_t n_used)
{
    struct sc_drive **d = ec_set_drives(st, set);
    for (size_t pos = 0; pos < st->set_size; pos++) {
        char **names;
        size_t nn;
        if (!d[pos]->online || d[pos]->ops->readdir(d[pos], kdir, &names, &nn))
            continue;
        for (size_t j = 0; j < nn; j++) {
            if (strncmp(names[j], ".d.", 3))
                continue;
            int in_use = 0;
            for (size_t i = 0; i < n_used && !in_use; i++)
                in_use = !strcmp(used[i], names[j] + 3);
            if (!in_use) {
                char orphan[EC_PATH + 64];
                ec_fmt(orphan, sizeof(orphan), "%s/%s", kdir, names[j]);
                d[pos]->ops->remove_tree(d[pos], orphan);
            }
        }
        sc_names_free(names, nn);
    }
}

/* Removes version file q->rel from every drive (a copy left by a delete a
 * drive missed, or a duplicate of the head left by a crash). */
static void remove_version_file(struct ec_state *st, struct ec_qmeta *q)
{
    (void)st;
    for (int pos = 0; pos < q->n; pos++)
        if (q->drive[pos]->online && q->status[pos] != -ENOENT)
            q->drive[pos]->ops->unlink(q->drive[pos], q->rel);
}

int ec_heal_key(struct ec_state *st, struct cairn_req *req, const char *bucket, const char *key)
{
    char kdir[EC_PATH];
    int rc = ec_key_rel(bucket, key, kdir, sizeof(kdir));
    if (rc)
        return rc;
    size_t set = ec_set_of(st, bucket, key);
    pthread_rwlock_t *lk = sc_lock_for(&st->locks, bucket, key);
    pthread_rwlock_wrlock(lk);
    struct ec_qmeta q;
    rc = ec_meta_read(st, set, bucket, key, &q);
    if (rc) {
        ec_qmeta_clear(&q);
        pthread_rwlock_unlock(lk);
        if (rc == CAIRN_E_NO_SUCH_KEY)
            return 0;
        __atomic_add_fetch(&st->heal_errors, 1, __ATOMIC_RELAXED);
        st->sv->log(req, CAIRN_LOG_ERROR, "backend-ec: heal %s/%s: metadata has no quorum",
                    bucket, key);
        return rc;
    }
    char head_id[64] = "", head_name[SC_VNAME_MAX] = "";
    char **used = calloc(1, sizeof(*used)), **names = NULL;
    size_t n_used = 0, nn = 0;
    if (!used)
        rc = CAIRN_E_NOMEM;
    const struct sc_objmeta *ag = ec_qmeta_agreed(&q);
    if (!rc && ag->n) {
        ec_fmt(head_id, sizeof(head_id), "%s", ag->v[0].id);
        sc_meta_vname(head_id, head_name);
        if ((used[0] = strdup(ag->v[0].data_dir)))
            n_used = 1;
    }
    int rebuilt = 0, metas = 0, complete = 1;
    if (!rc)
        rc = heal_file(st, set, bucket, kdir, &q, &rebuilt, &metas);
    ec_qmeta_clear(&q);
    if (!rc)
        rc = sc_meta_older_names(ec_set_drives(st, set), (int)st->set_size, kdir, NULL, &names,
                                 &nn);
    for (size_t i = 0; i < nn && !rc; i++) {
        int r = ec_meta_read_at(st, set, bucket, key, names[i], &q);
        ag = ec_qmeta_agreed(&q);
        if (r == CAIRN_E_NO_SUCH_KEY || (!r && (!ag->n || !strcmp(names[i], head_name)))) {
            remove_version_file(st, &q);
            metas++;
        } else if (r) {
            complete = 0;
        } else {
            char **nu = realloc(used, (n_used + 1) * sizeof(*used));
            if (nu && (nu[n_used] = strdup(ag->v[0].data_dir)))
                n_used++;
            if (nu)
                used = nu;
            rc = heal_file(st, set, bucket, kdir, &q, &rebuilt, &metas);
        }
        ec_qmeta_clear(&q);
    }
    sc_names_free(names, nn);
    if (!rc && complete && n_used)
        remove_orphan_dirs(st, set, kdir, used, n_used);
    for (size_t i = 0; i < n_used; i++)
        free(used[i]);
    free(used);
    if (rc)
        __atomic_add_fetch(&st->heal_errors, 1, __ATOMIC_RELAXED);
    if (rebuilt || metas) {
        st->sv->log(req, CAIRN_LOG_INFO, "backend-ec: healed %s/%s: %d shard file(s) rebuilt, "
                    "%d metadata file(s) rewritten", bucket, key, rebuilt, metas);
        st->sv->metric_add("cairn_heal_shards_total", rebuilt);
        st->sv->metric_add("cairn_heal_metadata_total", metas);
    }
    pthread_rwlock_unlock(lk);
    return rc;
}

/* Copies a bucket's metadata and configs to drives that lack them. */
static void heal_bucket_meta(struct ec_state *st, const char *brel)
{
    char rel[EC_PATH + 32];
    ec_fmt(rel, sizeof(rel), "%s/.bucket", brel);
    char *best = NULL;
    size_t best_len = 0;
    int best_c = 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        char *v;
        size_t len;
        if (!st->drives[i]->online || sc_frame_read(st->drives[i], rel, 65536, &v, &len))
            continue;
        int c = 0;
        for (size_t j = 0; j < st->n_drives; j++) {
            char *w;
            size_t wl;
            if (st->drives[j]->online && !sc_frame_read(st->drives[j], rel, 65536, &w, &wl)) {
                c += wl == len && !memcmp(w, v, len);
                free(w);
            }
        }
        if (c > best_c) {
            free(best);
            best = v;
            best_len = len;
            best_c = c;
        } else {
            free(v);
        }
    }
    if (!best)
        return;
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        char *v;
        size_t len;
        if (!d->online)
            continue;
        if (!sc_frame_read(d, rel, 65536, &v, &len)) {
            int same = len == best_len && !memcmp(v, best, len);
            free(v);
            if (same)
                continue;
        }
        d->ops->mkdir_p(d, brel);
        if (!sc_frame_write(d, rel, best, best_len, st->sync))
            __atomic_add_fetch(&st->healed_meta, 1, __ATOMIC_RELAXED);
    }
    free(best);
    /* configs: copy any document missing on a drive from one that has it */
    char cdir[EC_PATH + 32];
    ec_fmt(cdir, sizeof(cdir), "%s/.config", brel);
    for (size_t i = 0; i < st->n_drives; i++) {
        char **names;
        size_t nn;
        if (!st->drives[i]->online || st->drives[i]->ops->readdir(st->drives[i], cdir, &names, &nn))
            continue;
        for (size_t j = 0; j < nn; j++) {
            char crel[EC_PATH + 300];
            ec_fmt(crel, sizeof(crel), "%s/%s", cdir, names[j]);
            char *v;
            size_t len;
            if (sc_frame_read(st->drives[i], crel, 20u << 20, &v, &len))
                continue;
            for (size_t t = 0; t < st->n_drives; t++) {
                struct stat sb;
                if (t != i && st->drives[t]->online &&
                    st->drives[t]->ops->stat(st->drives[t], crel, &sb) == -ENOENT)
                    sc_frame_write(st->drives[t], crel, v, len, st->sync);
            }
            free(v);
        }
        sc_names_free(names, nn);
    }
}

static int heal_bucket(struct ec_state *st, struct cairn_req *req, const char *bucket,
                       int64_t sleep_ms, uint64_t *objects)
{
    char brel[EC_PATH];
    int rc = ec_bucket_rel(bucket, brel, sizeof(brel));
    if (rc)
        return rc;
    heal_bucket_meta(st, brel);
    struct sc_walk *w = sc_walk_new(st->dircache, st->drives, st->n_drives, brel, "", "", 0);
    if (!w)
        return CAIRN_E_NOMEM;
    const char *key;
    int r;
    while ((r = sc_walk_next(w, &key)) == 1) {
        if (st->stop)
            break;
        ec_heal_key(st, req, bucket, key);
        (*objects)++;
        if (sleep_ms > 0) {
            struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    sc_walk_free(w);
    return r < 0 ? r : 0;
}

int ec_heal_all(struct ec_state *st, struct cairn_req *req)
{
    ec_check_drives(st);
    int64_t sleep_ms = req ? 0 : st->sv->config_int(st->cfg, "scanner_sleep_ms", 1);
    uint64_t objects = 0, shards0 = st->healed_shards, meta0 = st->healed_meta;
    st->sv->log(req, CAIRN_LOG_INFO, "backend-ec: heal of everything started");
    char **all = NULL;
    size_t n_all = 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        char **names;
        size_t nn;
        if (!d->online || d->ops->readdir(d, "", &names, &nn))
            continue;
        for (size_t j = 0; j < nn; j++) {
            char dec[SC_PIECE + 2];
            int dup = names[j][0] == '.' || sc_name_decode(names[j], dec, sizeof(dec)) <= 0;
            for (size_t t = 0; t < n_all && !dup; t++)
                dup = !strcmp(all[t], dec);
            char **na = dup ? NULL : realloc(all, (n_all + 1) * sizeof(*all));
            if (na) {
                all = na;
                if ((all[n_all] = strdup(dec)))
                    n_all++;
            }
        }
        sc_names_free(names, nn);
    }
    int rc = 0;
    for (size_t i = 0; i < n_all; i++) {
        int r = heal_bucket(st, req, all[i], sleep_ms, &objects);
        if (r && !rc)
            rc = r;
        free(all[i]);
    }
    free(all);
    st->sv->log(req, CAIRN_LOG_INFO, "backend-ec: heal finished: %llu object(s) checked, %llu "
                "shard(s) rebuilt, %llu metadata file(s) rewritten, %llu error(s) so far",
                (unsigned long long)objects, (unsigned long long)(st->healed_shards - shards0),
                (unsigned long long)(st->healed_meta - meta0),
                (unsigned long long)st->heal_errors);
    st->sv->metric_add("cairn_heal_objects_total", (double)objects);
    return rc;
}

int ec_heal(void *state, struct cairn_req *req, const char *bucket, const char *key)
{
    struct ec_state *st = state;
    if (!bucket)
        return ec_heal_all(st, req);
    if (key)
        return ec_heal_key(st, req, bucket, key);
    uint64_t objects = 0;
    return heal_bucket(st, req, bucket, 0, &objects);
}
