/*
 * ec-meta.c -- object metadata across the drives of a set: quorum reads and
 * atomic commits.
 */
#include "ec-internal.h"
#include "sc-frame.h"
#include "sc-keypath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_MAX (64u << 20)

static int obj_rel(const char *bucket, const char *key, char *out, size_t cap)
{
    int rc = ec_key_rel(bucket, key, out, cap);
    if (rc)
        return rc;
    size_t n = strlen(out);
    if (n + sizeof("/" SC_OBJ_FILE) > cap)
        return CAIRN_E_KEY_TOO_LONG;
    memcpy(out + n, "/" SC_OBJ_FILE, sizeof("/" SC_OBJ_FILE));
    return 0;
}

void ec_qmeta_clear(struct ec_qmeta *q)
{
    for (int i = 0; i < EC_MAX_SET; i++) {
        sc_objmeta_clear(&q->m[i]);
        free(q->raw[i]);
        q->raw[i] = NULL;
    }
}

const struct sc_objmeta *ec_qmeta_agreed(const struct ec_qmeta *q)
{
    static const struct sc_objmeta empty;
    return q->chosen >= 0 ? &q->m[q->chosen] : &empty;
}

const struct sc_version *ec_drive_version(const struct ec_qmeta *q, int pos, const char *id)
{
    if (pos < 0 || pos >= q->n || q->status[pos] || !q->agree[pos])
        return NULL;
    for (size_t i = 0; i < q->m[pos].n; i++)
        if (!strcmp(q->m[pos].v[i].id, id))
            return &q->m[pos].v[i];
    return NULL;
}

static int needed_k(struct ec_state *st, const struct sc_objmeta *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (!m->v[i].delete_marker)
            return m->v[i].k;
    return (int)st->set_size - st->parity;
}

int ec_meta_read(struct ec_state *st, size_t set, const char *bucket, const char *key,
                 struct ec_qmeta *q)
{
    memset(q, 0, sizeof(*q));
    q->chosen = -1;
    q->n = (int)st->set_size;
    char rel[EC_PATH];
    int rc = obj_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    struct sc_drive **d = ec_set_drives(st, set);
    uint64_t sig[EC_MAX_SET];
    for (int i = 0; i < q->n; i++) {
        q->status[i] = -EIO;
        if (!d[i]->online)
            continue;
        rc = sc_drive_read_all(d[i], rel, META_MAX, &q->raw[i], &q->raw_len[i]);
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
            st->sv->log(NULL, CAIRN_LOG_WARN, "backend-ec: corrupt metadata of %s/%s on drive %s",
                        bucket, key, d[i]->name);
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
    int kdef = (int)st->set_size - st->parity;
    if (best >= 0 && best_count >= needed_k(st, &q->m[best])) {
        q->chosen = best;
        q->n_agree = best_count;
        for (int j = 0; j < q->n; j++)
            q->agree[j] = !q->status[j] && sig[j] == sig[best];
        return 0;
    }
    if (q->n_absent > q->n - kdef || (best < 0 && q->n_absent == q->n))
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

struct commit_job {
    struct ec_state *st;
    struct sc_drive **d;
    const char *bucket, *key, *rel, *brel;
    struct ec_qmeta *q;
    ec_mutate_fn mutate;
    void *ctx;
    int wrote[EC_MAX_SET];
};

/* One drive's part of a commit (runs on its own thread). */
static void commit_one(void *vjob, int pos)
{
    struct commit_job *j = vjob;
    struct ec_state *st = j->st;
    struct sc_drive *d = j->d[pos];
    struct ec_qmeta *q = j->q;
    if (!d->online)
        return;
    struct sc_objmeta m;
    int own = q->status[pos] == 0 && q->agree[pos];
    if (meta_copy(&m, own ? &q->m[pos] : ec_qmeta_agreed(q)))
        return;
    if (!own) {
        /* a stale or missing copy: take the agreed list, minus the
         * per-drive parts we do not have (heal fills them in) */
        for (size_t i = 0; i < m.n; i++) {
            struct sc_version *v = &m.v[i];
            for (int s = 0; s < v->k + v->m; s++)
                if (v->dist[s] == pos)
                    v->shard_index = s;
            free(v->inline_data);
            v->inline_data = NULL;
            v->inline_len = 0;
            v->has_inline = 0;
        }
    }
    int rc = j->mutate ? j->mutate(j->ctx, pos, &m) : 0;
    if (rc == 1) { /* this drive needs no write */
        sc_objmeta_clear(&m);
        return;
    }
    if (!rc) {
        if (m.n == 0) {
            rc = d->ops->unlink(d, j->rel);
            if (rc == -ENOENT || rc == -ENOTDIR)
                rc = 0;
            if (!rc)
                sc_drive_prune_dirs(d, j->rel, j->brel);
        } else {
            size_t len;
            char *json = sc_objmeta_serialize(&m, &len);
            rc = json ? sc_frame_write(d, j->rel, json, len, st->sync) : -ENOMEM;
            free(json);
        }
    }
    sc_objmeta_clear(&m);
    if (rc) {
        st->sv->log(NULL, CAIRN_LOG_WARN, "backend-ec: metadata write of %s/%s failed on "
                    "drive %s", j->bucket, j->key, d->name);
        return;
    }
    j->wrote[pos] = 1;
}

int ec_meta_commit(struct ec_state *st, size_t set, const char *bucket, const char *key,
                   struct ec_qmeta *q, int wq, ec_mutate_fn mutate, void *ctx)
{
    char rel[EC_PATH], brel[EC_PATH];
    int rc = obj_rel(bucket, key, rel, sizeof(rel));
    if (rc || (rc = ec_bucket_rel(bucket, brel, sizeof(brel))))
        return rc;
    struct commit_job job = {st, ec_set_drives(st, set), bucket, key, rel, brel, q, mutate, ctx,
                             {0}};
    /* drives are independent: write them at the same time (fsync latency) */
    sc_parallel(q->n, commit_one, &job);
    int n_ok = 0;
    for (int pos = 0; pos < q->n; pos++)
        n_ok += job.wrote[pos];
    if (n_ok >= wq)
        return 0;
    /* undo: put back what each drive had */
    for (int pos = 0; pos < q->n; pos++) {
        if (!job.wrote[pos])
            continue;
        struct sc_drive *d = job.d[pos];
        if (q->raw[pos])
            sc_drive_write_atomic(d, rel, q->raw[pos], q->raw_len[pos], st->sync);
        else
            d->ops->unlink(d, rel);
    }
    return CAIRN_E_WRITE_QUORUM;
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
