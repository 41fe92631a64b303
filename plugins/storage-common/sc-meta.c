/*
 * sc-meta.c -- quorum reads and crash-safe commits of a key's metadata files
 * (the head .obj and the older versions in .v/), shared by the backends.
 */
#include "sc-meta.h"
#include "sc-drive.h"
#include "sc-frame.h"
#include "sc-keypath.h"
#include "sc-metacache.h"
#include "sc-parallel.h"

#include <cairn/plugin.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_MAX (64u << 20)

static int is_null_id(const char *id)
{
    return !id[0] || !strcmp(id, "null");
}

int sc_meta_same_id(const char *a, const char *b)
{
    return !strcmp(a, b) || (is_null_id(a) && is_null_id(b));
}

int sc_meta_find(const struct sc_objmeta *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (sc_meta_same_id(m->v[i].id, id))
            return (int)i;
    return -1;
}

int sc_meta_vname(const char *id, char out[SC_VNAME_MAX])
{
    if (is_null_id(id)) {
        memcpy(out, "null", 5);
        return 0;
    }
    size_t n = strlen(id);
    if (n != 32)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return -1;
    memcpy(out, id, n + 1);
    return 0;
}

/* <key_dir>/.obj, or <key_dir>/.v/<vname> (then `vname` must be a vname). */
static int file_rel(const char *key_dir, const char *vname, char *out, size_t cap)
{
    int n = vname ? snprintf(out, cap, "%s/" SC_VERSIONS_DIR "/%s", key_dir, vname)
                  : snprintf(out, cap, "%s/" SC_OBJ_FILE, key_dir);
    return n < 0 || (size_t)n >= cap ? CAIRN_E_KEY_TOO_LONG : 0;
}

void sc_qmeta_clear(struct sc_qmeta *q)
{
    for (int i = 0; i < SC_META_DRIVES; i++) {
        if (q->mc[i]) { /* the cache's: not ours to free */
            sc_mc_release(q->mc[i]);
            q->mc[i] = NULL;
            memset(&q->m[i], 0, sizeof(q->m[i]));
        } else {
            sc_objmeta_clear(&q->m[i]);
            free(q->raw[i]);
        }
        q->raw[i] = NULL;
    }
}

const struct sc_objmeta *sc_qmeta_agreed(const struct sc_qmeta *q)
{
    static const struct sc_objmeta empty;
    return q->chosen >= 0 ? &q->m[q->chosen] : &empty;
}

const struct sc_version *sc_qmeta_drive_version(const struct sc_qmeta *q, int pos,
                                                const char *id)
{
    if (pos < 0 || pos >= q->n || q->status[pos] || !q->agree[pos])
        return NULL;
    for (size_t i = 0; i < q->m[pos].n; i++)
        if (!strcmp(q->m[pos].v[i].id, id))
            return &q->m[pos].v[i];
    return NULL;
}

/* Drive i's copy from its cache when the file's identity is what the entry
 * recorded: 1 with q filled in; else 0 with *gen_r (the slot's generation,
 * taken before the stat) and *id_r to publish a fresh read under. */
static int load_cached(struct sc_qmeta *q, int i, struct sc_metacache *c, uint64_t *gen_r,
                       struct sc_mc_ident *id_r)
{
    struct sc_drive *d = q->drive[i];
    struct stat st;
    *gen_r = sc_mc_gen(c, d, q->rel);
    int rc = d->ops->stat(d, q->rel, &st);
    if (rc && rc != -ENOENT && rc != -ENOTDIR)
        return 0;
    sc_mc_ident_of(rc ? NULL : &st, id_r);
    struct sc_mc_entry *e = sc_mc_get(c, d, q->rel, id_r);
    if (!e && rc) { /* absent, and not known to be: remember that */
        e = sc_mc_put(c, d, q->rel, *gen_r, id_r, -ENOENT, NULL, 0, NULL, 0);
        if (!e) {
            q->status[i] = -ENOENT;
            return 1;
        }
    }
    if (!e)
        return 0;
    q->status[i] = e->status;
    if (e->status) {
        sc_mc_release(e);
        return 1;
    }
    q->mc[i] = e;
    q->m[i] = e->m;
    q->raw[i] = e->raw;
    q->raw_len[i] = e->raw_len;
    q->sig[i] = e->sig;
    return 1;
}

/* Reads and parses drive i's copy into q (status, m, raw, sig). */
static void load_one(struct sc_qmeta *q, const struct sc_meta_policy *p, int i,
                     const char *bucket, const char *key)
{
    struct sc_drive *d = q->drive[i];
    q->status[i] = -EIO;
    if (!d->online)
        return;
    struct sc_metacache *c = d->mc;
    uint64_t gen = 0;
    struct sc_mc_ident id = {0};
    if (c && load_cached(q, i, c, &gen, &id))
        return;
    int rc = sc_drive_read_all(d, q->rel, META_MAX, &q->raw[i], &q->raw_len[i]);
    if (rc) {
        q->status[i] = rc == -ENOENT || rc == -ENOTDIR ? -ENOENT : rc;
        return;
    }
    const uint8_t *pl;
    size_t plen;
    if (sc_frame_unwrap(q->raw[i], q->raw_len[i], &pl, &plen) ||
        sc_objmeta_parse((const char *)pl, plen, &q->m[i])) {
        p->sv->log(NULL, CAIRN_LOG_WARN, "%s: corrupt metadata %s of %s/%s on drive %s", p->who,
                   q->rel + q->dir_len, bucket, key, d->name);
        sc_objmeta_clear(&q->m[i]);
        q->status[i] = -EBADMSG;
        return;
    }
    q->status[i] = 0;
    q->sig[i] = sc_objmeta_signature(&q->m[i]);
    /* a corrupt copy is not kept: it is read (and reported) every time */
    if (c && id.present) {
        struct sc_mc_entry *e =
            sc_mc_put(c, d, q->rel, gen, &id, 0, &q->m[i], q->sig[i], &q->raw[i], q->raw_len[i]);
        if (e) {
            q->mc[i] = e;
            q->m[i] = e->m;
            q->raw[i] = e->raw;
        }
    }
}

int sc_qmeta_load(struct sc_qmeta *q, const struct sc_meta_policy *p, struct sc_drive *const *d,
                  int n, const char *key_dir, const char *vname, const char *bucket,
                  const char *key)
{
    memset(q, 0, sizeof(*q));
    q->chosen = -1;
    q->n = n < SC_META_DRIVES ? n : SC_META_DRIVES;
    q->is_head = vname == NULL;
    q->dir_len = strlen(key_dir);
    for (int i = 0; i < q->n; i++) {
        q->drive[i] = d[i];
        q->order[i] = d[i]->index;
    }
    int rc = file_rel(key_dir, vname, q->rel, sizeof(q->rel));
    if (rc)
        return rc;
    for (int i = 0; i < q->n; i++) {
        load_one(q, p, i, bucket, key);
        q->n_absent += q->status[i] == -ENOENT;
    }
    int best = -1, best_count = 0;
    for (int i = 0; i < q->n; i++) {
        if (q->status[i])
            continue;
        int c = 0;
        for (int j = 0; j < q->n; j++)
            c += !q->status[j] && q->sig[j] == q->sig[i];
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
            q->agree[j] = !q->status[j] && q->sig[j] == q->sig[best];
    }
    return 0;
}

int sc_qmeta_settle(struct sc_qmeta *q, int need)
{
    if (q->chosen >= 0 && q->n_agree >= need)
        return 1;
    q->chosen = -1;
    q->n_agree = 0;
    memset(q->agree, 0, sizeof(q->agree));
    return 0;
}

/* ---- commit ---- */

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

/* Drive pos's copy of q's file: its own when it agrees, else the agreed list
 * with this drive's shard index (and, when inline bytes are per drive,
 * without them: heal fills them in). */
static int drive_copy(const struct sc_qmeta *q, const struct sc_meta_policy *p, int pos,
                      struct sc_objmeta *m)
{
    int own = q->status[pos] == 0 && q->agree[pos];
    if (meta_copy(m, own ? &q->m[pos] : sc_qmeta_agreed(q)))
        return CAIRN_E_NOMEM;
    if (own)
        return 0;
    for (size_t i = 0; i < m->n; i++) {
        struct sc_version *v = &m->v[i];
        v->shard_index = 0;
        for (int s = 0; s < v->k + v->m && s < SC_MAX_SHARDS; s++)
            if (v->dist[s] == pos)
                v->shard_index = s;
        if (p->per_drive_inline) {
            free(v->inline_data);
            v->inline_data = NULL;
            v->inline_len = 0;
            v->has_inline = 0;
        }
    }
    return 0;
}

/* Writes a one-entry (or, v NULL, empty) metadata file; the JSON is kept in
 * *json_r when json_r is given. */
static int write_list(struct sc_drive *d, const char *rel, const struct sc_version *v, int sync,
                      char **json_r)
{
    struct sc_objmeta one = {v ? 1 : 0, (struct sc_version *)v};
    size_t len;
    char *json = sc_objmeta_serialize(&one, &len);
    if (!json)
        return -ENOMEM;
    int rc = sc_frame_write(d, rel, json, len, sync);
    if (json_r && !rc)
        *json_r = json;
    else
        free(json);
    return rc;
}

static int unlink_pruned(struct sc_drive *d, const char *rel, const char *brel)
{
    int rc = d->ops->unlink(d, rel);
    if (rc == -ENOENT || rc == -ENOTDIR)
        rc = 0;
    if (!rc)
        sc_drive_prune_dirs(d, rel, brel);
    return rc;
}

struct commit_job {
    struct sc_qmeta *q;
    const struct sc_meta_policy *p;
    const char *brel;
    sc_mutate_fn mutate;
    void *ctx;
    const struct sc_qmeta *promote;
    int wrote[SC_META_DRIVES];
    char *promoted_json[SC_META_DRIVES]; /* what .v/<promoted> held (undo) */
};

/* Emptied head: the next-newest version (promote) becomes the head; its
 * .v file is removed only after .obj holds it. */
static int head_emptied(struct commit_job *j, int pos)
{
    struct sc_qmeta *q = j->q;
    struct sc_drive *d = q->drive[pos];
    const struct sc_qmeta *pr = j->promote;
    if (pr && pr->chosen >= 0 && sc_qmeta_agreed(pr)->n) {
        struct sc_objmeta pm;
        if (drive_copy(pr, j->p, pos, &pm))
            return -ENOMEM;
        int rc = write_list(d, q->rel, &pm.v[0], j->p->sync, &j->promoted_json[pos]);
        sc_objmeta_clear(&pm);
        if (!rc)
            d->ops->unlink(d, pr->rel);
        return rc;
    }
    if (j->p->tombstones)
        return write_list(d, q->rel, NULL, j->p->sync, NULL);
    return unlink_pruned(d, q->rel, j->brel);
}

/* Head file: superseded entries go to .v/ first, then .obj is replaced, so
 * a crash in between leaves the old head in both places (readers skip the
 * duplicate), never in neither. */
static int commit_head(struct commit_job *j, int pos, struct sc_objmeta *m)
{
    struct sc_qmeta *q = j->q;
    struct sc_drive *d = q->drive[pos];
    if (m->n == 0)
        return head_emptied(j, pos);
    for (size_t i = 1; i < m->n; i++) {
        char vname[SC_VNAME_MAX], dir[SC_META_PATH], rel[SC_META_PATH], vdir[SC_META_PATH];
        if (sc_meta_same_id(m->v[i].id, m->v[0].id) || sc_meta_vname(m->v[i].id, vname))
            continue;
        memcpy(dir, q->rel, q->dir_len);
        dir[q->dir_len] = 0;
        int rc = file_rel(dir, vname, rel, sizeof(rel));
        if (rc)
            return -ENAMETOOLONG;
        sc_path_parent(rel, vdir, sizeof(vdir));
        if ((rc = d->ops->mkdir_p(d, vdir)) || (rc = write_list(d, rel, &m->v[i], j->p->sync, NULL)))
            return rc;
    }
    return write_list(d, q->rel, &m->v[0], j->p->sync, NULL);
}

static int commit_version_file(struct commit_job *j, int pos, struct sc_objmeta *m)
{
    struct sc_qmeta *q = j->q;
    struct sc_drive *d = q->drive[pos];
    if (m->n)
        return write_list(d, q->rel, &m->v[0], j->p->sync, NULL);
    if (j->p->tombstones)
        return write_list(d, q->rel, NULL, j->p->sync, NULL);
    return unlink_pruned(d, q->rel, j->brel);
}

/* One drive's part of a commit (runs on its own thread). */
static void commit_one(void *vjob, int pos)
{
    struct commit_job *j = vjob;
    struct sc_drive *d = j->q->drive[pos];
    if (!d->online)
        return;
    struct sc_objmeta m;
    if (drive_copy(j->q, j->p, pos, &m))
        return;
    int rc = j->mutate ? j->mutate(j->ctx, pos, &m) : 0;
    if (rc == 1) { /* this drive needs no write */
        sc_objmeta_clear(&m);
        return;
    }
    if (!rc)
        rc = j->q->is_head ? commit_head(j, pos, &m) : commit_version_file(j, pos, &m);
    sc_objmeta_clear(&m);
    if (rc) {
        j->p->sv->log(NULL, CAIRN_LOG_WARN, "%s: metadata write of %s failed on drive %s",
                      j->p->who, j->q->rel, d->name);
        return;
    }
    j->wrote[pos] = 1;
}

int sc_meta_commit(struct sc_qmeta *q, const struct sc_meta_policy *p, const char *brel, int wq,
                   sc_mutate_fn mutate, void *ctx, const struct sc_qmeta *promote)
{
    struct commit_job job;
    memset(&job, 0, sizeof(job));
    job.q = q;
    job.p = p;
    job.brel = brel;
    job.mutate = mutate;
    job.ctx = ctx;
    job.promote = promote;
    /* drives are independent: write them at the same time (fsync latency) */
    sc_parallel(q->n, commit_one, &job);
    int n_ok = 0;
    for (int pos = 0; pos < q->n; pos++)
        n_ok += job.wrote[pos];
    int rc = 0;
    if (n_ok < wq) {
        /* undo: put back what each drive had (a superseded head copied to
         * .v/ stays: it duplicates the head and readers skip it) */
        for (int pos = 0; pos < q->n; pos++) {
            if (!job.wrote[pos])
                continue;
            struct sc_drive *d = q->drive[pos];
            if (job.promoted_json[pos])
                sc_frame_write(d, promote->rel, job.promoted_json[pos],
                               strlen(job.promoted_json[pos]), p->sync);
            if (q->raw[pos])
                sc_drive_write_atomic(d, q->rel, q->raw[pos], q->raw_len[pos], p->sync);
            else
                d->ops->unlink(d, q->rel);
        }
        rc = CAIRN_E_WRITE_QUORUM;
    }
    for (int pos = 0; pos < q->n; pos++)
        free(job.promoted_json[pos]);
    return rc;
}

/* ---- older versions ---- */

struct older {
    char *name;
    int64_t ms;
};

static int older_cmp(const void *a, const void *b)
{
    const struct older *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms > y->ms ? -1 : 1;
    return -strcmp(x->name, y->name);
}

/* When version file `name` was made: the time in the id, or for the null
 * version the mtime stored in it (read from the first drive that has it). */
static int64_t older_time(struct sc_drive *const *d, int n, const char *key_dir,
                          const char *name)
{
    if (strcmp(name, "null")) {
        int64_t ms = 0;
        for (int i = 0; i < 12; i++) {
            char c = name[i];
            ms = ms * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
        }
        return ms;
    }
    char rel[SC_META_PATH];
    if (file_rel(key_dir, name, rel, sizeof(rel)))
        return 0;
    for (int i = 0; i < n; i++) {
        char *json;
        size_t len;
        struct sc_objmeta m;
        if (!d[i]->online || sc_frame_read(d[i], rel, META_MAX, &json, &len))
            continue;
        int64_t ms = 0;
        int ok = !sc_objmeta_parse(json, len, &m) && m.n;
        if (ok)
            ms = m.v[0].mtime_ms;
        sc_objmeta_clear(&m);
        free(json);
        if (ok)
            return ms;
    }
    return 0;
}

int sc_meta_older_names(struct sc_drive *const *d, int n, const char *key_dir,
                        const char *skip_name, char ***names_r, size_t *n_r)
{
    *names_r = NULL;
    *n_r = 0;
    char vdir[SC_META_PATH];
    if (snprintf(vdir, sizeof(vdir), "%s/" SC_VERSIONS_DIR, key_dir) >= (int)sizeof(vdir))
        return CAIRN_E_KEY_TOO_LONG;
    struct older *all = NULL;
    size_t n_all = 0, cap = 0;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        char **names;
        size_t nn;
        if (!d[i]->online || d[i]->ops->readdir(d[i], vdir, &names, &nn))
            continue;
        for (size_t j = 0; j < nn && !rc; j++) {
            char check[SC_VNAME_MAX];
            int skip = sc_meta_vname(names[j], check) || strcmp(check, names[j]) ||
                       (skip_name && !strcmp(names[j], skip_name));
            for (size_t t = 0; t < n_all && !skip; t++)
                skip = !strcmp(all[t].name, names[j]);
            if (skip)
                continue;
            if (n_all == cap) {
                cap = cap ? cap * 2 : 16;
                struct older *na = realloc(all, cap * sizeof(*na));
                if (!na) {
                    rc = CAIRN_E_NOMEM;
                    break;
                }
                all = na;
            }
            all[n_all].name = names[j];
            names[j] = NULL;
            all[n_all++].ms = 0;
        }
        sc_names_free(names, nn);
    }
    for (size_t t = 0; t < n_all; t++)
        all[t].ms = older_time(d, n, key_dir, all[t].name);
    if (n_all > 1)
        qsort(all, n_all, sizeof(*all), older_cmp);
    char **out = rc ? NULL : calloc(n_all + 1, sizeof(*out));
    if (!out && !rc)
        rc = CAIRN_E_NOMEM;
    for (size_t t = 0; t < n_all; t++) {
        if (out)
            out[t] = all[t].name;
        else
            free(all[t].name);
    }
    free(all);
    if (!rc) {
        *names_r = out;
        *n_r = n_all;
    }
    return rc;
}

static int version_cmp(const void *a, const void *b)
{
    const struct sc_version *x = a, *y = b;
    if (x->mtime_ms != y->mtime_ms)
        return x->mtime_ms > y->mtime_ms ? -1 : 1;
    return -strcmp(x->id, y->id);
}

void sc_meta_sort_versions(struct sc_objmeta *m)
{
    if (m->n > 1)
        qsort(m->v, m->n, sizeof(*m->v), version_cmp);
}

/* ---- version operations ---- */

static void qmeta_none(struct sc_qmeta *q)
{
    memset(q, 0, sizeof(*q));
    q->chosen = -1;
}

int sc_meta_read_version(const struct sc_meta_key *k, const char *id, struct sc_qmeta *q)
{
    int rc = k->read(k->be, NULL, q);
    if (rc || sc_meta_find(sc_qmeta_agreed(q), id) >= 0)
        return rc;
    if (sc_qmeta_agreed(q)->n == 0)
        return CAIRN_E_NO_SUCH_KEY; /* a tombstone */
    sc_qmeta_clear(q);
    char vname[SC_VNAME_MAX];
    if (sc_meta_vname(id, vname)) {
        qmeta_none(q);
        return CAIRN_E_NO_SUCH_VERSION;
    }
    rc = k->read(k->be, vname, q);
    if (rc == CAIRN_E_NO_SUCH_KEY || (!rc && sc_meta_find(sc_qmeta_agreed(q), id) < 0))
        rc = CAIRN_E_NO_SUCH_VERSION;
    return rc;
}

/* The older version files of the key whose head q holds, newest first. */
static int head_older_names(const struct sc_qmeta *head, char ***names_r, size_t *n_r)
{
    char dir[SC_META_PATH], skip[SC_VNAME_MAX] = "";
    const struct sc_objmeta *ag = sc_qmeta_agreed(head);
    if (ag->n)
        sc_meta_vname(ag->v[0].id, skip);
    memcpy(dir, head->rel, head->dir_len);
    dir[head->dir_len] = 0;
    return sc_meta_older_names(head->drive, head->n, dir, skip, names_r, n_r);
}

int sc_meta_read_all(const struct sc_meta_key *k, struct sc_objmeta *all)
{
    memset(all, 0, sizeof(*all));
    struct sc_qmeta q;
    char **names = NULL;
    size_t nn = 0;
    int rc = k->read(k->be, NULL, &q);
    if (!rc && sc_qmeta_agreed(&q)->n &&
        !(rc = sc_objmeta_insert(all, 0, &sc_qmeta_agreed(&q)->v[0])))
        rc = head_older_names(&q, &names, &nn);
    sc_qmeta_clear(&q);
    for (size_t i = 0; i < nn && !rc; i++) {
        if (k->read(k->be, names[i], &q) == 0 && sc_qmeta_agreed(&q)->n)
            rc = sc_objmeta_insert(all, all->n, &sc_qmeta_agreed(&q)->v[0]);
        sc_qmeta_clear(&q);
    }
    sc_names_free(names, nn);
    if (!rc && all->n > 1) {
        struct sc_objmeta older = {all->n - 1, all->v + 1};
        sc_meta_sort_versions(&older);
    }
    if (rc)
        sc_objmeta_clear(all);
    return rc;
}

/* Loads into next the newest older version of the key whose head q holds
 * (next->chosen < 0 when there is none).  0 or CAIRN_E_WRITE_QUORUM (a
 * candidate could not be read, so what comes next is unknown). */
static int next_newest(const struct sc_meta_key *k, const struct sc_qmeta *head,
                       struct sc_qmeta *next)
{
    char **names = NULL;
    size_t nn = 0;
    int rc = head_older_names(head, &names, &nn), found = 0;
    for (size_t i = 0; i < nn && !rc && !found; i++) {
        int r = k->read(k->be, names[i], next);
        if (r == CAIRN_E_READ_QUORUM)
            rc = CAIRN_E_WRITE_QUORUM;
        found = !r && sc_qmeta_agreed(next)->n;
        if (!found)
            sc_qmeta_clear(next);
    }
    sc_names_free(names, nn);
    if (!found)
        qmeta_none(next);
    return rc;
}

static int drop_mutate(void *vctx, int pos, struct sc_objmeta *m)
{
    (void)pos;
    int i = sc_meta_find(m, vctx);
    if (i >= 0)
        sc_objmeta_remove(m, (size_t)i);
    return 0;
}

int sc_meta_delete_version(const struct sc_meta_key *k, struct sc_qmeta *q, const char *id,
                           int wq)
{
    const struct sc_objmeta *ag = sc_qmeta_agreed(q);
    int i = sc_meta_find(ag, id);
    if (i < 0)
        return 0;
    char drop_dir[40], drop_id[64];
    snprintf(drop_dir, sizeof(drop_dir), "%s", ag->v[i].data_dir);
    snprintf(drop_id, sizeof(drop_id), "%s", ag->v[i].id);
    struct sc_qmeta next;
    qmeta_none(&next);
    int rc = q->is_head ? next_newest(k, q, &next) : 0;
    if (!rc)
        rc = k->commit(k->be, q, wq, drop_mutate, drop_id, next.chosen >= 0 ? &next : NULL);
    sc_qmeta_clear(&next);
    if (!rc && drop_dir[0])
        k->remove_data(k->be, drop_dir);
    return rc;
}

void sc_meta_drop_older_null(const struct sc_meta_key *k)
{
    struct sc_qmeta q;
    if (k->read(k->be, "null", &q) == 0)
        sc_meta_delete_version(k, &q, "null", 0);
    sc_qmeta_clear(&q);
}
