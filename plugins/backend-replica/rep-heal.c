/*
 * rep-heal.c -- restoring missing or damaged copies: of one key (on read, on
 * demand) or of everything (on demand, the background scanner, a replaced
 * empty drive).  Data copies are rebuilt block by block from the copies whose
 * checksums verify; metadata copies are rewritten from the agreed list.
 */
#include "rep-internal.h"
#include "sc-blockfile.h"
#include "sc-keypath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct heal_ctx {
    const struct rep_qmeta *q;
    int written;
};

/* Rewrites only the metadata copies that are missing, stale or damaged. */
static int heal_mutate(void *vctx, int pos, struct sc_objmeta *m)
{
    (void)m;
    struct heal_ctx *hc = vctx;
    if (hc->q->status[pos] == 0 && hc->q->agree[pos])
        return 1;
    hc->written++;
    return 0;
}

/* Rebuilds the bad copies of one part file of a version. */
static void heal_part(struct rep_state *st, struct cairn_req *req, const char *bucket,
                      const char *key, const struct rep_qmeta *q, const struct sc_version *v,
                      const char *rel, uint64_t size)
{
    int ncopy = v->k + v->m, bad[REP_MAX] = {0}, n_bad = 0;
    if (ncopy < 1 || ncopy > REP_MAX || !v->block_size || v->block_size > (64u << 20))
        return;
    struct sc_drive *srcs[REP_MAX];
    for (int s = 0; s < ncopy; s++)
        if (v->dist[s] >= q->n)
            return;
    for (int s = 0; s < ncopy; s++) {
        struct sc_drive *d = st->drives[q->order[v->dist[s]]];
        srcs[s] = d;
        if (d->online && sc_blockfile_verify(d, rel, size, v->block_size, v->block_sum)) {
            bad[s] = 1;
            n_bad++;
        }
    }
    if (!n_bad || n_bad == ncopy) {
        if (n_bad)
            st->sv->log(req, CAIRN_LOG_ERROR, "backend-replica: %s/%s: every copy of %s is "
                        "damaged; rebuilding from the blocks that verify", bucket, key, rel);
        if (n_bad != ncopy)
            return;
    }
    for (int s = 0; s < ncopy; s++) {
        if (!bad[s])
            continue;
        struct sc_drive *others[REP_MAX];
        int no = 0;
        for (int t = 0; t < ncopy; t++)
            if (t != s)
                others[no++] = srcs[t];
        int rc = sc_blockfile_copy(others, no, srcs[s], rel, size, v->block_size, v->block_sum,
                                   st->sync);
        if (rc) {
            st->heal_errors++;
            st->sv->log(req, CAIRN_LOG_WARN, "backend-replica: could not rebuild %s/%s on "
                        "drive %s", bucket, key, srcs[s]->name);
        } else {
            st->healed_copies++;
            st->sv->metric_add("cairn_replica_healed_copies_total", 1);
        }
    }
}

/* Removes ".d.<id>" directories of the key that no version uses. */
static void remove_orphans(struct rep_state *st, const struct rep_qmeta *q, const char *dir,
                           char **used, size_t n_used)
{
    for (int pos = 0; pos < q->n; pos++) {
        struct sc_drive *d = st->drives[q->order[pos]];
        char **names;
        size_t nn;
        if (!d->online || d->ops->readdir(d, dir, &names, &nn))
            continue;
        for (size_t j = 0; j < nn; j++) {
            if (strncmp(names[j], ".d.", 3))
                continue;
            int in_use = 0;
            for (size_t i = 0; i < n_used && !in_use; i++)
                in_use = !strcmp(used[i], names[j] + 3);
            if (!in_use) {
                char p[REP_PATH + 300];
                rep_fmt(p, sizeof(p), "%s/%s", dir, names[j]);
                d->ops->remove_tree(d, p);
            }
        }
        sc_names_free(names, nn);
    }
}

static int all_answered(const struct rep_qmeta *q)
{
    for (int pos = 0; pos < q->n; pos++)
        if (q->status[pos] && q->status[pos] != -ENOENT)
            return 0;
    return 1;
}

/* Heals one metadata file of a key (q, loaded): the copies of its version's
 * data, then the metadata copies that are missing, stale or damaged. */
static void heal_file(struct rep_state *st, struct cairn_req *req, const char *bucket,
                      const char *key, const char *dir, struct rep_qmeta *q)
{
    const struct sc_objmeta *ag = rep_qmeta_agreed(q);
    for (size_t i = 0; i < ag->n; i++) {
        const struct sc_version *v = &ag->v[i];
        if (v->delete_marker || !v->data_dir[0])
            continue;
        for (size_t p = 0; p < v->n_parts; p++) {
            char rel[REP_PATH + 80];
            rep_fmt(rel, sizeof(rel), "%s/.d.%s/part.%u", dir, v->data_dir, v->parts[p].number);
            heal_part(st, req, bucket, key, q, v, rel, v->parts[p].size);
        }
    }
    struct heal_ctx hc = {q, 0};
    if (q->n_agree < q->n) {
        rep_meta_commit(st, bucket, key, q, 0, heal_mutate, &hc, NULL);
        st->healed_meta += (uint64_t)hc.written;
        if (hc.written)
            st->sv->metric_add("cairn_replica_healed_meta_total", hc.written);
    }
}

/* Adds a data dir to the list of those in use (best effort: a failed
 * allocation only keeps orphans from being removed). */
static int add_used(char ***used, size_t *n_used, const char *data_dir)
{
    char **nu = realloc(*used, (*n_used + 1) * sizeof(**used));
    if (!nu)
        return -1;
    *used = nu;
    if (!(nu[*n_used] = strdup(data_dir)))
        return -1;
    (*n_used)++;
    return 0;
}

int rep_heal_key(struct rep_state *st, struct cairn_req *req, const char *bucket,
                 const char *key)
{
    char dir[REP_PATH];
    int rc = rep_key_rel(bucket, key, dir, sizeof(dir));
    if (rc)
        return rc;
    pthread_rwlock_t *lk = sc_lock_for(&st->locks, bucket, key);
    pthread_rwlock_wrlock(lk);
    struct rep_qmeta q;
    rc = rep_meta_read(st, bucket, key, &q);
    if (rc == CAIRN_E_NO_SUCH_KEY) {
        rep_qmeta_clear(&q);
        pthread_rwlock_unlock(lk);
        return 0;
    }
    const struct sc_objmeta *ag = rep_qmeta_agreed(&q);
    if (!rc && ag->n == 0) {
        /* a tombstone: drop it once every metadata drive has it or nothing */
        if (all_answered(&q))
            rep_meta_remove_file(st, bucket, &q);
        rep_qmeta_clear(&q);
        pthread_rwlock_unlock(lk);
        return 0;
    }
    char head_name[SC_VNAME_MAX] = "", **used = NULL, **names = NULL;
    size_t n_used = 0, nn = 0;
    int complete = !rc && all_answered(&q);
    if (!rc) {
        sc_meta_vname(ag->v[0].id, head_name);
        if (add_used(&used, &n_used, ag->v[0].data_dir))
            complete = 0;
        heal_file(st, req, bucket, key, dir, &q);
        rc = sc_meta_older_names(q.drive, q.n, dir, NULL, &names, &nn);
    }
    struct rep_qmeta vq;
    for (size_t i = 0; i < nn && !rc; i++) {
        int r = rep_meta_read_at(st, bucket, key, names[i], &vq);
        const struct sc_objmeta *vag = rep_qmeta_agreed(&vq);
        if (r == CAIRN_E_NO_SUCH_KEY || (!r && (!vag->n || !strcmp(names[i], head_name)))) {
            /* deleted (a tombstone, or a copy a drive kept) or a duplicate of
             * the head left by a crash */
            if (r || !vag->n ? all_answered(&vq) : 1)
                rep_meta_remove_file(st, bucket, &vq);
            else
                complete = 0;
        } else if (r) {
            complete = 0;
        } else {
            if (add_used(&used, &n_used, vag->v[0].data_dir))
                complete = 0;
            heal_file(st, req, bucket, key, dir, &vq);
        }
        rep_qmeta_clear(&vq);
    }
    sc_names_free(names, nn);
    if (!rc && complete)
        remove_orphans(st, &q, dir, used, n_used);
    for (size_t i = 0; i < n_used; i++)
        free(used[i]);
    free(used);
    rep_qmeta_clear(&q);
    pthread_rwlock_unlock(lk);
    return rc;
}

static void pace(int64_t keys_per_s)
{
    if (keys_per_s <= 0)
        return;
    struct timespec ts = {0, (long)(1000000000LL / keys_per_s)};
    if (keys_per_s == 1)
        ts.tv_sec = 1, ts.tv_nsec = 0;
    nanosleep(&ts, NULL);
}

int rep_heal_all(struct rep_state *st, struct cairn_req *req, int64_t keys_per_s)
{
    rep_check_drives(st);
    char **names;
    size_t n;
    rep_bucket_names(st, &names, &n);
    uint64_t before = st->healed_copies + st->healed_meta, keys = 0;
    int rc = 0;
    for (size_t b = 0; b < n && !st->stop; b++) {
        char rel[REP_PATH];
        if (rep_bucket_rel(names[b], rel, sizeof(rel)) || rep_heal_bucket(st, names[b]))
            continue;
        struct sc_walk *w = sc_walk_new(st->dircache, st->drives, st->n_drives, rel, "", "", 0);
        if (!w) {
            rc = CAIRN_E_NOMEM;
            break;
        }
        const char *key;
        while (!st->stop && sc_walk_next(w, &key) == 1) {
            char *k = strdup(key);
            if (!k)
                break;
            if (rep_heal_key(st, req, names[b], k))
                st->heal_errors++;
            free(k);
            keys++;
            pace(keys_per_s);
        }
        sc_walk_free(w);
    }
    sc_names_free(names, n);
    st->sv->log(req, CAIRN_LOG_INFO, "backend-replica: heal pass: %llu keys checked, %llu "
                "copies restored, %llu errors so far", (unsigned long long)keys,
                (unsigned long long)(st->healed_copies + st->healed_meta - before),
                (unsigned long long)st->heal_errors);
    return rc;
}
