/*
 * ec-object.c -- PutObject, GetObject/HeadObject, DeleteObject, attrs.
 */
#include "ec-internal.h"
#include "sc-bucket.h"
#include "sc-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The null version is stored with id "" (written while versioning was never
 * enabled, reported as "") or "null" (written while suspended). */
static int is_null_id(const char *id)
{
    return !id[0] || !strcmp(id, "null");
}

static int find_version(const struct sc_objmeta *m, const char *id)
{
    return sc_meta_find(m, id);
}

struct commit_ctx {
    struct ec_state *st;
    size_t set;
    const struct sc_version *nv;
    const struct ec_written *w;
    int (*move_data)(void *ctx, int pos);
    void *move_ctx;
    const struct ec_qmeta *q; /* the head as read */
};

static int commit_mutate(void *vctx, int pos, struct sc_objmeta *m)
{
    struct commit_ctx *cx = vctx;
    const struct sc_version *nv = cx->nv;
    int shard = -1;
    for (int s = 0; s < nv->k + nv->m; s++)
        if (nv->dist[s] == pos)
            shard = s;
    if (shard < 0 || (cx->w && !cx->w->ok[shard]))
        return CAIRN_E_IO; /* this drive has no shard of the new version */
    int rc = sc_key_dir_prepare(cx->q, pos);
    if (rc)
        return ec_errno(rc);
    if (cx->move_data && (rc = cx->move_data(cx->move_ctx, pos)))
        return rc;
    int old = find_version(m, nv->id);
    if (old >= 0)
        sc_objmeta_remove(m, (size_t)old);
    struct sc_version v = *nv;
    v.shard_index = shard;
    v.inline_data = NULL;
    v.has_inline = 0;
    v.inline_len = 0;
    if (cx->w && cx->w->is_inline) {
        v.has_inline = 1;
        v.inline_data = cx->w->inl[shard];
        v.inline_len = cx->w->inl_len[shard];
    }
    return sc_objmeta_insert(m, 0, &v);
}

int ec_commit_version(struct ec_state *st, struct cairn_req *req, size_t set, const char *bucket,
                      const char *key, enum cairn_versioning versioning, struct sc_version *nv,
                      const struct ec_written *w, const char *unused,
                      int (*move_data)(void *ctx, int pos), void *move_ctx)
{
    (void)unused;
    if (versioning == CAIRN_VERSIONING_ENABLED)
        sc_new_id(nv->id);
    else
        ec_fmt(nv->id, sizeof(nv->id), "%s",
                 versioning == CAIRN_VERSIONING_SUSPENDED ? "null" : "");
    pthread_rwlock_t *lk = sc_lock_for(&st->locks, bucket, key);
    pthread_rwlock_wrlock(lk);
    struct ec_qmeta q;
    int rc = ec_meta_read(st, set, bucket, key, &q);
    if (rc == CAIRN_E_NO_SUCH_KEY)
        rc = 0;
    else if (rc == CAIRN_E_READ_QUORUM)
        rc = CAIRN_E_WRITE_QUORUM;
    char old_dir[40] = "";
    if (!rc) {
        const struct sc_objmeta *ag = ec_qmeta_agreed(&q);
        int old = find_version(ag, nv->id);
        if (old >= 0)
            ec_fmt(old_dir, sizeof(old_dir), "%s", ag->v[old].data_dir);
        nv->mtime_ms = st->sv->now_ms();
        struct commit_ctx cx = {st, set, nv, w, move_data, move_ctx, &q};
        rc = ec_meta_commit(st, set, bucket, key, &q, ec_write_quorum(nv->k, nv->m),
                            commit_mutate, &cx, NULL);
        if (!rc && old_dir[0] && strcmp(old_dir, nv->data_dir))
            ec_remove_data_dir(st, set, bucket, key, old_dir);
        if (!rc && old < 0 && is_null_id(nv->id) && ag->n) {
            struct ec_key k;
            ec_key_init(&k, st, set, bucket, key);
            sc_meta_drop_older_null(&k.ops);
        }
    }
    ec_qmeta_clear(&q);
    pthread_rwlock_unlock(lk);
    if (rc && nv->data_dir[0])
        ec_remove_data_dir(st, set, bucket, key, nv->data_dir);
    return rc;
}

/* ---- PUT ---- */

struct put_move {
    struct ec_state *st;
    size_t set;
    const char *bucket, *key;
    const struct ec_written *w;
};

static int put_move_data(void *vctx, int pos)
{
    struct put_move *pm = vctx;
    const struct ec_written *w = pm->w;
    if (w->is_inline)
        return 0;
    int shard = -1;
    for (int s = 0; s < w->k + w->m; s++)
        if (w->dist[s] == pos)
            shard = s;
    struct sc_drive *d = ec_set_drives(pm->st, pm->set)[pos];
    char dir[EC_PATH], to[EC_PATH + 64], from[128];
    int rc = ec_key_rel(pm->bucket, pm->key, dir, sizeof(dir));
    if (rc)
        return rc;
    size_t n = strlen(dir);
    ec_fmt(dir + n, sizeof(dir) - n, "/.d.%s", w->id);
    ec_fmt(to, sizeof(to), "%s/part.1", dir);
    ec_fmt(from, sizeof(from), SC_TMP_DIR "/%s.%d", w->id, shard);
    if ((rc = d->ops->mkdir_p(d, dir)) || (rc = d->ops->rename(d, from, to)) ||
        (pm->st->sync && (rc = d->ops->fsync_dir(d, dir))))
        return ec_errno(rc);
    return 0;
}

/* Attrs of the stored version: put->attrs, overridden by put->final's. */
static int merge_attrs(struct sc_version *v, const struct cairn_put *put)
{
    size_t na = put->n_attrs, nf = put->final ? put->final->n_attrs : 0;
    const char **names = calloc(na + nf + 1, sizeof(*names));
    const char **values = calloc(na + nf + 1, sizeof(*values));
    size_t n = 0;
    int rc = CAIRN_E_NOMEM;
    if (!names || !values)
        goto out;
    for (size_t i = 0; i < na + nf; i++) {
        const struct cairn_kv *kv = i < na ? &put->attrs[i] : &put->final->attrs[i - na];
        size_t j = 0;
        while (j < n && strcmp(names[j], kv->name))
            j++;
        names[j] = kv->name;
        values[j] = kv->value;
        if (j == n)
            n++;
    }
    rc = sc_attrs_set(&v->attrs, &v->n_attrs, n, names, values);
out:
    free(names);
    free(values);
    return rc;
}

int ec_object_put(void *state, struct cairn_req *req, const struct cairn_put *put,
                  struct cairn_object_info *info_r)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_key_rel(put->bucket, put->key, rel, sizeof(rel));
    if (rc)
        return rc;
    size_t set = ec_set_of(st, put->bucket, put->key);
    if (!ec_bucket_exists(st, set, put->bucket))
        return CAIRN_E_NO_SUCH_BUCKET;
    int m;
    const char *codec;
    if ((rc = ec_storage_class(st, put->n_attrs, put->attrs, &m, &codec)))
        return rc;
    struct ec_written w;
    rc = ec_write_body(st, req, set, put->bucket, put->key, m, codec, 1, &w);
    if (rc)
        return rc;
    struct sc_version nv;
    memset(&nv, 0, sizeof(nv));
    struct sc_part part;
    memset(&part, 0, sizeof(part));
    if (put->final && put->final->size != w.size) {
        rc = CAIRN_E_INCOMPLETE_BODY;
        goto out;
    }
    nv.size = w.size;
    ec_fmt(nv.etag, sizeof(nv.etag), "%s", put->final ? put->final->etag : "");
    ec_fmt(nv.codec, sizeof(nv.codec), "%s", w.codec);
    nv.k = w.k;
    nv.m = w.m;
    nv.block_size = w.block_size;
    memcpy(nv.dist, w.dist, sizeof(nv.dist));
    if (!w.is_inline)
        ec_fmt(nv.data_dir, sizeof(nv.data_dir), "%s", w.id);
    part.number = 1;
    part.size = w.size;
    ec_fmt(part.etag, sizeof(part.etag), "%s", nv.etag);
    nv.parts = &part;
    nv.n_parts = 1;
    if ((rc = merge_attrs(&nv, put)))
        goto out;
    struct put_move pm = {st, set, put->bucket, put->key, &w};
    rc = ec_commit_version(st, req, set, put->bucket, put->key, put->versioning, &nv, &w, NULL,
                           put_move_data, &pm);
    if (!rc && info_r) {
        nv.parts = NULL;
        nv.n_parts = 0;
        rc = ec_fill_info(st, req, &nv, 1, put->versioning, info_r);
    }
out:
    nv.parts = NULL;
    nv.n_parts = 0;
    sc_version_clear(&nv);
    ec_written_clear(st, set, &w);
    return rc;
}

/* ---- GET / HEAD ---- */

int ec_object_get(void *state, struct cairn_req *req, const struct cairn_get *get)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_key_rel(get->bucket, get->key, rel, sizeof(rel));
    if (rc)
        return rc;
    size_t set = ec_set_of(st, get->bucket, get->key);
    pthread_rwlock_t *lk = sc_lock_for(&st->locks, get->bucket, get->key);
    pthread_rwlock_rdlock(lk);
    struct ec_qmeta q;
    int damaged = 0;
    int by_id = get->version_id && get->version_id[0];
    struct ec_key k;
    ec_key_init(&k, st, set, get->bucket, get->key);
    rc = by_id ? sc_meta_read_version(&k.ops, get->version_id, &q)
               : ec_meta_read(st, set, get->bucket, get->key, &q);
    if (!rc) {
        const struct sc_objmeta *ag = ec_qmeta_agreed(&q);
        int idx = 0;
        if (by_id) {
            idx = find_version(ag, get->version_id);
            if (idx < 0)
                rc = CAIRN_E_NO_SUCH_VERSION;
            else if (ag->v[idx].delete_marker)
                rc = CAIRN_E_METHOD_NOT_ALLOWED;
        } else if (ag->n == 0 || ag->v[0].delete_marker) {
            rc = CAIRN_E_NO_SUCH_KEY;
        }
        struct cairn_object_info info;
        if (!rc)
            rc = ec_fill_info(st, req, &ag->v[idx], q.is_head && idx == 0,
                              CAIRN_VERSIONING_ENABLED, &info);
        uint64_t off = 0, len = 0;
        if (!rc) {
            rc = get->decide(get->ctx, &info, &off, &len);
            if (rc == 1)
                rc = 0;
            else if (rc == 0) {
                const struct sc_version *v = &ag->v[idx];
                if (off > v->size || len > v->size - off)
                    rc = CAIRN_E_INVALID_RANGE;
                else
                    rc = ec_read_range(st, req, set, get->bucket, get->key, &q, v, off, len,
                                       &damaged);
            }
        }
    }
    ec_qmeta_clear(&q);
    pthread_rwlock_unlock(lk);
    if (rc == CAIRN_E_NO_SUCH_KEY && !ec_bucket_exists(st, set, get->bucket))
        rc = CAIRN_E_NO_SUCH_BUCKET;
    if (damaged) {
        st->sv->log(req, CAIRN_LOG_WARN, "backend-ec: %s/%s had damaged shards; healing",
                    get->bucket, get->key);
        ec_heal_key(st, req, get->bucket, get->key);
    }
    return rc;
}

/* ---- DELETE ---- */

struct del_ctx {
    const char *remove_id; /* version to drop, or NULL */
    const struct sc_version *marker; /* delete marker to add, or NULL */
};

static int del_mutate(void *vctx, int pos, struct sc_objmeta *m)
{
    (void)pos;
    struct del_ctx *dc = vctx;
    if (dc->remove_id) {
        int i = find_version(m, dc->remove_id);
        if (i >= 0)
            sc_objmeta_remove(m, (size_t)i);
    }
    if (dc->marker)
        return sc_objmeta_insert(m, 0, dc->marker);
    return 0;
}

int ec_object_delete(void *state, struct cairn_req *req, const char *bucket, const char *key,
                     const char *version_id, enum cairn_versioning versioning,
                     struct cairn_object_info *info_r)
{
    (void)req;
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_key_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    size_t set = ec_set_of(st, bucket, key);
    if (!ec_bucket_exists(st, set, bucket))
        return CAIRN_E_NO_SUCH_BUCKET;
    if (info_r)
        memset(info_r, 0, sizeof(*info_r));
    pthread_rwlock_t *lk = sc_lock_for(&st->locks, bucket, key);
    pthread_rwlock_wrlock(lk);
    struct ec_qmeta q;
    struct ec_key k;
    ec_key_init(&k, st, set, bucket, key);
    int by_id = version_id && version_id[0];
    rc = by_id ? sc_meta_read_version(&k.ops, version_id, &q)
               : ec_meta_read(st, set, bucket, key, &q);
    int absent = rc == CAIRN_E_NO_SUCH_KEY || rc == CAIRN_E_NO_SUCH_VERSION;
    if (absent)
        rc = 0;
    else if (rc == CAIRN_E_READ_QUORUM)
        rc = CAIRN_E_WRITE_QUORUM;
    int wq = ec_write_quorum((int)st->set_size - st->parity, st->parity);
    const struct sc_objmeta *ag = ec_qmeta_agreed(&q);
    if (rc) {
        /* nothing */
    } else if (by_id) {
        int i = find_version(ag, version_id);
        if (info_r) {
            ec_fmt(info_r->version_id, sizeof(info_r->version_id), "%s",
                   i < 0 ? version_id : is_null_id(ag->v[i].id) ? "null" : ag->v[i].id);
            info_r->is_delete_marker = i >= 0 && ag->v[i].delete_marker;
        }
        if (i >= 0)
            rc = sc_meta_delete_version(&k.ops, &q, version_id, wq);
    } else if (versioning == CAIRN_VERSIONING_OFF) {
        if (find_version(ag, "") >= 0)
            rc = sc_meta_delete_version(&k.ops, &q, "", wq);
    } else {
        struct sc_version marker;
        memset(&marker, 0, sizeof(marker));
        marker.delete_marker = 1;
        marker.mtime_ms = st->sv->now_ms();
        struct del_ctx dc = {NULL, &marker};
        char drop_dir[40] = "";
        int head_null = 0;
        if (versioning == CAIRN_VERSIONING_ENABLED) {
            sc_new_id(marker.id);
        } else {
            ec_fmt(marker.id, sizeof(marker.id), "null");
            int i = find_version(ag, "null");
            if (i >= 0) {
                head_null = 1;
                dc.remove_id = ag->v[i].id;
                ec_fmt(drop_dir, sizeof(drop_dir), "%s", ag->v[i].data_dir);
            }
        }
        if (info_r) {
            ec_fmt(info_r->version_id, sizeof(info_r->version_id), "%s", marker.id);
            info_r->is_delete_marker = 1;
        }
        rc = ec_meta_commit(st, set, bucket, key, &q, wq, del_mutate, &dc, NULL);
        if (!rc && drop_dir[0])
            ec_remove_data_dir(st, set, bucket, key, drop_dir);
        if (!rc && !head_null && versioning == CAIRN_VERSIONING_SUSPENDED && ag->n)
            sc_meta_drop_older_null(&k.ops);
    }
    ec_qmeta_clear(&q);
    pthread_rwlock_unlock(lk);
    return rc;
}

/* ---- attrs ---- */

struct attrs_ctx {
    const char *id;
    size_t n;
    const char **names, **values;
};

static int attrs_mutate(void *vctx, int pos, struct sc_objmeta *m)
{
    struct attrs_ctx *ac = vctx;
    int i = find_version(m, ac->id);
    if (i < 0)
        return CAIRN_E_NO_SUCH_VERSION;
    struct sc_version *v = &m->v[i];
    struct sc_attr *na;
    size_t nn;
    int rc = sc_attrs_set(&na, &nn, ac->n, ac->names, ac->values);
    if (rc)
        return rc;
    sc_attrs_free(v->attrs, v->n_attrs);
    v->attrs = na;
    v->n_attrs = nn;
    return 0;
}

int ec_object_set_attrs(void *state, struct cairn_req *req, const char *bucket, const char *key,
                        const char *version_id, size_t n_attrs, const struct cairn_kv *attrs)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_key_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    size_t set = ec_set_of(st, bucket, key);
    pthread_rwlock_t *lk = sc_lock_for(&st->locks, bucket, key);
    pthread_rwlock_wrlock(lk);
    struct ec_qmeta q;
    struct ec_key k;
    ec_key_init(&k, st, set, bucket, key);
    rc = version_id && version_id[0] ? sc_meta_read_version(&k.ops, version_id, &q)
                                     : ec_meta_read(st, set, bucket, key, &q);
    const char **names = calloc(n_attrs + 1, sizeof(*names));
    const char **values = calloc(n_attrs + 1, sizeof(*values));
    if (!rc && (!names || !values))
        rc = CAIRN_E_NOMEM;
    if (!rc) {
        const struct sc_objmeta *ag = ec_qmeta_agreed(&q);
        int i = version_id && version_id[0] ? find_version(ag, version_id) : 0;
        if (i < 0 || ag->n == 0)
            rc = version_id && version_id[0] ? CAIRN_E_NO_SUCH_VERSION : CAIRN_E_NO_SUCH_KEY;
        else if (ag->v[i].delete_marker)
            rc = version_id && version_id[0] ? CAIRN_E_METHOD_NOT_ALLOWED : CAIRN_E_NO_SUCH_KEY;
        else {
            for (size_t a = 0; a < n_attrs; a++) {
                names[a] = attrs[a].name;
                values[a] = attrs[a].value;
            }
            struct attrs_ctx ac = {ag->v[i].id, n_attrs, names, values};
            rc = ec_meta_commit(st, set, bucket, key, &q,
                                ec_write_quorum(ag->v[i].k, ag->v[i].m), attrs_mutate, &ac,
                                NULL);
        }
    }
    free(names);
    free(values);
    ec_qmeta_clear(&q);
    pthread_rwlock_unlock(lk);
    return rc;
}
