/*
 * ec-meta.c -- object metadata across the drives of a set: backend-ec's read
 * quorum over the shared files and commits of sc-meta.h.
 */
#include "ec-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ec_meta_policy(struct ec_state *st, struct sc_meta_policy *p)
{
    p->sv = st->sv;
    p->who = "backend-ec";
    p->sync = st->sync;
    p->tombstones = 0;
    p->per_drive_inline = 1;
}

/* Drives whose agreement makes a read: k of the version's layout. */
static int needed_k(struct ec_state *st, const struct sc_objmeta *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (!m->v[i].delete_marker)
            return m->v[i].k;
    return (int)st->set_size - st->parity;
}

int ec_meta_read_at(struct ec_state *st, size_t set, const char *bucket, const char *key,
                    const char *vname, struct ec_qmeta *q)
{
    char dir[EC_PATH];
    struct sc_meta_policy p;
    ec_meta_policy(st, &p);
    int rc = ec_key_rel(bucket, key, dir, sizeof(dir));
    if (!rc)
        rc = sc_qmeta_load(q, &p, ec_set_drives(st, set), (int)st->set_size, dir, vname, bucket,
                           key);
    else {
        memset(q, 0, sizeof(*q));
        q->chosen = -1;
    }
    if (rc)
        return rc;
    if (q->chosen >= 0 && sc_qmeta_settle(q, needed_k(st, &q->m[q->chosen])))
        return 0;
    sc_qmeta_settle(q, SC_META_DRIVES + 1);
    int kdef = (int)st->set_size - st->parity;
    if (q->n_absent > q->n - kdef || q->n_absent == q->n)
        return CAIRN_E_NO_SUCH_KEY;
    return CAIRN_E_READ_QUORUM;
}

int ec_meta_read(struct ec_state *st, size_t set, const char *bucket, const char *key,
                 struct ec_qmeta *q)
{
    return ec_meta_read_at(st, set, bucket, key, NULL, q);
}

int ec_meta_read_all(struct ec_state *st, size_t set, const char *bucket, const char *key,
                     struct sc_objmeta *all)
{
    struct ec_key k;
    ec_key_init(&k, st, set, bucket, key);
    pthread_rwlock_t *lk = sc_lock_for(&st->locks, bucket, key);
    pthread_rwlock_rdlock(lk);
    int rc = sc_meta_read_all(&k.ops, all);
    pthread_rwlock_unlock(lk);
    return rc;
}

int ec_meta_commit(struct ec_state *st, size_t set, const char *bucket, const char *key,
                   struct ec_qmeta *q, int wq, ec_mutate_fn mutate, void *ctx,
                   const struct ec_qmeta *promote)
{
    (void)set;
    (void)key;
    char brel[EC_PATH];
    int rc = ec_bucket_rel(bucket, brel, sizeof(brel));
    if (rc)
        return rc;
    struct sc_meta_policy p;
    ec_meta_policy(st, &p);
    return sc_meta_commit(q, &p, brel, wq, mutate, ctx, promote);
}

static int key_read(void *be, const char *vname, struct sc_qmeta *q)
{
    struct ec_key *k = be;
    return ec_meta_read_at(k->st, k->set, k->bucket, k->key, vname, q);
}

static int key_commit(void *be, struct sc_qmeta *q, int wq, sc_mutate_fn mutate, void *ctx,
                      const struct sc_qmeta *promote)
{
    struct ec_key *k = be;
    return ec_meta_commit(k->st, k->set, k->bucket, k->key, q, wq, mutate, ctx, promote);
}

static void key_remove_data(void *be, const char *data_dir)
{
    struct ec_key *k = be;
    ec_remove_data_dir(k->st, k->set, k->bucket, k->key, data_dir);
}

void ec_key_init(struct ec_key *k, struct ec_state *st, size_t set, const char *bucket,
                 const char *key)
{
    k->st = st;
    k->set = set;
    k->bucket = bucket;
    k->key = key;
    k->ops.be = k;
    k->ops.read = key_read;
    k->ops.commit = key_commit;
    k->ops.remove_data = key_remove_data;
}

void ec_remove_data_dir(struct ec_state *st, size_t set, const char *bucket, const char *key,
                        const char *data_dir)
{
    char rel[EC_PATH];
    if (!data_dir[0] || ec_key_rel(bucket, key, rel, sizeof(rel)))
        return;
    size_t n = strlen(rel);
    if (n + 4 + strlen(data_dir) >= sizeof(rel))
        return;
    ec_fmt(rel + n, sizeof(rel) - n, "/.d.%s", data_dir);
    char brel[EC_PATH];
    if (ec_bucket_rel(bucket, brel, sizeof(brel)))
        return;
    struct sc_drive **d = ec_set_drives(st, set);
    for (size_t i = 0; i < st->set_size; i++)
        if (d[i]->online) {
            d[i]->ops->remove_tree(d[i], rel);
            sc_drive_prune_dirs(d[i], rel, brel);
        }
}
