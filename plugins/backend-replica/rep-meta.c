/*
 * rep-meta.c -- a key's metadata across its metadata drives: backend-replica's
 * read rule (one good copy is enough, picking what most agree on) over the
 * shared files and commits of sc-meta.h.
 */
#include "rep-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rep_meta_policy(struct rep_state *st, struct sc_meta_policy *p)
{
    p->sv = st->sv;
    p->who = "backend-replica";
    p->sync = st->sync;
    p->tombstones = 1;
    p->per_drive_inline = 0;
}

int rep_find_version(const struct sc_objmeta *m, const char *id)
{
    return sc_meta_find(m, id);
}

int rep_meta_read_at(struct rep_state *st, const char *bucket, const char *key,
                     const char *vname, struct rep_qmeta *q)
{
    char dir[REP_PATH];
    int order[REP_MAX];
    struct sc_drive *d[REP_MAX];
    struct sc_meta_policy p;
    rep_meta_policy(st, &p);
    int rc = rep_key_rel(bucket, key, dir, sizeof(dir));
    if (rc) {
        memset(q, 0, sizeof(*q));
        q->chosen = -1;
        return rc;
    }
    rep_placement(st, bucket, key, order);
    for (int i = 0; i < st->meta_n; i++)
        d[i] = st->drives[order[i]];
    if ((rc = sc_qmeta_load(q, &p, d, st->meta_n, dir, vname, bucket, key)))
        return rc;
    memcpy(q->order, order, sizeof(int) * (size_t)st->meta_n);
    if (q->chosen >= 0)
        return 0;
    /* no readable copy: absent if most drives say so (a lone damaged copy
     * of a key whose other copies were never written reads as absent) */
    if (q->n_absent >= rep_quorum(q->n) || q->n_absent == q->n)
        return CAIRN_E_NO_SUCH_KEY;
    return CAIRN_E_READ_QUORUM;
}

int rep_meta_read(struct rep_state *st, const char *bucket, const char *key, struct rep_qmeta *q)
{
    return rep_meta_read_at(st, bucket, key, NULL, q);
}

int rep_meta_read_all(struct rep_state *st, const char *bucket, const char *key,
                      struct sc_objmeta *all)
{
    struct rep_key k;
    rep_key_init(&k, st, bucket, key);
    pthread_rwlock_t *lk = sc_lock_for(&st->locks, bucket, key);
    pthread_rwlock_rdlock(lk);
    int rc = sc_meta_read_all(&k.ops, all);
    pthread_rwlock_unlock(lk);
    return rc;
}

int rep_meta_commit(struct rep_state *st, const char *bucket, const char *key,
                    struct rep_qmeta *q, int wq, rep_mutate_fn mutate, void *ctx,
                    const struct rep_qmeta *promote)
{
    (void)key;
    char brel[REP_PATH];
    int rc = rep_bucket_rel(bucket, brel, sizeof(brel));
    if (rc)
        return rc;
    struct sc_meta_policy p;
    rep_meta_policy(st, &p);
    return sc_meta_commit(q, &p, brel, wq, mutate, ctx, promote);
}

static int key_read(void *be, const char *vname, struct sc_qmeta *q)
{
    struct rep_key *k = be;
    return rep_meta_read_at(k->st, k->bucket, k->key, vname, q);
}

static int key_commit(void *be, struct sc_qmeta *q, int wq, sc_mutate_fn mutate, void *ctx,
                      const struct sc_qmeta *promote)
{
    struct rep_key *k = be;
    return rep_meta_commit(k->st, k->bucket, k->key, q, wq, mutate, ctx, promote);
}

static void key_remove_data(void *be, const char *data_dir)
{
    struct rep_key *k = be;
    rep_remove_data_dir(k->st, k->bucket, k->key, data_dir);
}

void rep_key_init(struct rep_key *k, struct rep_state *st, const char *bucket, const char *key)
{
    k->st = st;
    k->bucket = bucket;
    k->key = key;
    k->ops.be = k;
    k->ops.read = key_read;
    k->ops.commit = key_commit;
    k->ops.remove_data = key_remove_data;
}

void rep_meta_remove_file(struct rep_state *st, const char *bucket, struct rep_qmeta *q)
{
    char brel[REP_PATH];
    if (rep_bucket_rel(bucket, brel, sizeof(brel)))
        return;
    (void)st;
    for (int pos = 0; pos < q->n; pos++) {
        struct sc_drive *d = q->drive[pos];
        if (d->online && q->status[pos] != -ENOENT && d->ops->unlink(d, q->rel) == 0)
            sc_drive_prune_dirs(d, q->rel, brel);
    }
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
