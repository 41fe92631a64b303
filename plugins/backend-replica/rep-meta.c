/*
 * rep-meta.c -- a key's metadata across its metadata drives: reads that need
 * one good copy (picking what most agree on), and atomic quorum commits.
 */
#include "rep-internal.h"
#include "sc-frame.h"
#include "sc-keypath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_MAX (64u << 20)

static int obj_rel(const char *bucket, const char *key, char *out, size_t cap)
{
    int rc = rep_key_rel(bucket, key, out, cap);
    if (rc)
        return rc;
    size_t n = strlen(out);
    if (n + sizeof("/" SC_OBJ_FILE) > cap)
        return CAIRN_E_KEY_TOO_LONG;
    memcpy(out + n, "/" SC_OBJ_FILE, sizeof("/" SC_OBJ_FILE));
    return 0;
}

static int is_null_id(const char *id)
{
    return !id[0] || !strcmp(id, "null");
}

int rep_find_version(const struct sc_objmeta *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->v[i].id, id) || (is_null_id(id) && is_null_id(m->v[i].id)))
            return (int)i;
    return -1;
}

void rep_qmeta_clear(struct rep_qmeta *q)
{
    for (int i = 0; i < REP_MAX; i++) {
        sc_objmeta_clear(&q->m[i]);
        free(q->raw[i]);
        q->raw[i] = NULL;
    }
}

const struct sc_objmeta *rep_qmeta_agreed(const struct rep_qmeta *q)
{
    static const struct sc_objmeta empty;
    return q->chosen >= 0 ? &q->m[q->chosen] : &empty;
}

int rep_meta_read(struct rep_state *st, const char *bucket, const char *key, struct rep_qmeta *q)
{
    memset(q, 0, sizeof(*q));
    q->chosen = -1;
    q->n = st->meta_n;
    int order[REP_MAX];
    rep_placement(st, bucket, key, order);
    memcpy(q->order, order, sizeof(order));
    char rel[REP_PATH];
    int rc = obj_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    uint64_t sig[REP_MAX];
    for (int i = 0; i < q->n; i++) {
        struct sc_drive *d = st->drives[q->order[i]];
        q->status[i] = -EIO;
        if (!d->online)
            continue;
        rc = sc_drive_read_all(d, rel, META_MAX, &q->raw[i], &q->raw_len[i]);
        if (rc) {
            q->status[i] = rc;
            if (rc == -ENOENT || rc == -ENOTDIR)
                q->n_absent++, q->status[i] = -ENOENT;
            continue;
        }
        const uint8_t *p;
        size_t plen;
        if (sc_frame_unwrap(q->raw[i], q->raw_len[i], &p, &plen) ||
            sc_objmeta_parse((const char *)p, plen, &q->m[i])) {
            st->sv->log(NULL, CAIRN_LOG_WARN, "backend-replica: corrupt metadata of %s/%s on "
                        "drive %s", bucket, key, d->name);
            sc_objmeta_clear(&q->m[i]);
            q->status[i] = -EBADMSG;
            continue;
        }
        q->status[i] = 0;
        sig[i] = sc_objmeta_signature(&q->m[i]);
    }
    int best = -1, best_count = 0;
    for (int i = 0; i < q->n; i++) {
        if (q->status[i])
            continue;
        int c = 0;
        for (int j = 0; j < q->n; j++)
            c += !q->status[j] && sig[j] == sig[i];
        if (c > best_count ||
            (c == best_count && best >= 0 && q->m[i].n && q->m[best].n &&
             q->m[i].v[0].mtime_ms > q->m[best].v[0].mtime_ms)) {
            best = i;
            best_count = c;
        }
    }
    if (best >= 0) {
        q->chosen = best;
        q->n_agree = best_count;
        for (int j = 0; j < q->n; j++)
            q->agree[j] = !q->status[j] && sig[j] == sig[best];
        return 0;
    }
    /* no readable copy: absent if most drives say so (a lone damaged copy
     * of a key whose other copies were never written reads as absent) */
    if (q->n_absent >= rep_quorum(q->n) || q->n_absent == q->n)
        return CAIRN_E_NO_SUCH_KEY;
    return CAIRN_E_READ_QUORUM;
}

static int meta_copy(struct sc_objmeta *dst, const struct sc_objmeta *src)
{
    memset(dst, 0, sizeof(*dst));
    for (size_t i = 0; i < src->n; i++)
        if (sc_objmeta_insert(dst, dst->n, &src->v[i])) {
            sc_objmeta_clear(dst);
            return CAIRN_E_NOMEM;
        }
    return 0;
}

int rep_meta_commit(struct rep_state *st, const char *bucket, const char *key,
                    struct rep_qmeta *q, int wq, rep_mutate_fn mutate, void *ctx)
{
    char rel[REP_PATH], brel[REP_PATH];
    int rc = obj_rel(bucket, key, rel, sizeof(rel));
    if (rc || (rc = rep_bucket_rel(bucket, brel, sizeof(brel))))
        return rc;
    const struct sc_objmeta *agreed = rep_qmeta_agreed(q);
    int wrote[REP_MAX] = {0}, n_ok = 0;
    for (int pos = 0; pos < q->n; pos++) {
        struct sc_drive *d = st->drives[q->order[pos]];
        if (!d->online)
            continue;
        struct sc_objmeta m;
        int own = q->status[pos] == 0 && q->agree[pos];
        if (meta_copy(&m, own ? &q->m[pos] : agreed))
            continue;
        if (!own) /* a stale or missing copy takes the agreed list; every copy
                     of a replicated version is the same, so only the index differs */
            for (size_t i = 0; i < m.n; i++) {
                struct sc_version *v = &m.v[i];
                v->shard_index = 0;
                for (int s = 0; s < v->k + v->m && s < SC_MAX_SHARDS; s++)
                    if (v->dist[s] == pos)
                        v->shard_index = s;
            }
        rc = mutate ? mutate(ctx, pos, &m) : 0;
        if (rc == 1) {
            sc_objmeta_clear(&m);
            continue;
        }
        if (!rc) {
            if (m.n == 0 && !mutate) {
                rc = d->ops->unlink(d, rel);
                if (rc == -ENOENT || rc == -ENOTDIR)
                    rc = 0;
                if (!rc)
                    sc_drive_prune_dirs(d, rel, brel);
            } else {
                size_t len;
                char *json = sc_objmeta_serialize(&m, &len);
                rc = json ? sc_frame_write(d, rel, json, len, st->sync) : -ENOMEM;
                free(json);
            }
        }
        sc_objmeta_clear(&m);
        if (rc) {
            st->sv->log(NULL, CAIRN_LOG_WARN, "backend-replica: metadata write of %s/%s failed "
                        "on drive %s", bucket, key, d->name);
            continue;
        }
        wrote[pos] = 1;
        n_ok++;
    }
    if (n_ok >= wq)
        return 0;
    for (int pos = 0; pos < q->n; pos++) {
        if (!wrote[pos])
            continue;
        struct sc_drive *d = st->drives[q->order[pos]];
        if (q->raw[pos])
            sc_drive_write_atomic(d, rel, q->raw[pos], q->raw_len[pos], st->sync);
        else
            d->ops->unlink(d, rel);
    }
    return CAIRN_E_WRITE_QUORUM;
}

void rep_remove_data_dir(struct rep_state *st, const char *bucket, const char *key,
                         const char *data_dir)
{
    char rel[REP_PATH], brel[REP_PATH];
    if (!data_dir[0] || rep_key_rel(bucket, key, rel, sizeof(rel)) ||
        rep_bucket_rel(bucket, brel, sizeof(brel)))
        return;
    size_t n = strlen(rel);
    if (n + 4 + strlen(data_dir) >= sizeof(rel))
        return;
    rep_fmt(rel + n, sizeof(rel) - n, "/.d.%s", data_dir);
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        if (d->online) {
            d->ops->remove_tree(d, rel);
            sc_drive_prune_dirs(d, rel, brel);
        }
    }
}
