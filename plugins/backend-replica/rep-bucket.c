/*
 * rep-bucket.c -- buckets, bucket configuration documents and object listing.
 *
 * Buckets and their documents are storage-common's (sc-bucket.h), the same
 * files as backend-ec's, settled by SC_VOTE_PRESENT; listing reads each key's
 * metadata from its drives.
 */
#include "rep-internal.h"
#include "sc-bucket.h"

#include <stdlib.h>
#include <string.h>

/* The bucket documents as backend-replica keeps them: any drive that still
 * has one wins over drives that lost it, so deleted configs are tombstones. */
static struct sc_buckets docs(struct rep_state *st)
{
    return (struct sc_buckets){.sv = st->sv,
                               .drives = st->drives,
                               .n_drives = st->n_drives,
                               .dircache = st->dircache,
                               .sync = st->sync,
                               .vote = SC_VOTE_PRESENT};
}

int rep_bucket_head(void *state, struct cairn_req *req, const char *bucket,
                    struct cairn_bucket_info *info_r)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_head(&b, req, bucket, info_r);
}

int rep_bucket_create(void *state, struct cairn_req *req, const struct cairn_bucket_info *info)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_create(&b, req, info);
}

int rep_bucket_names(struct rep_state *st, char ***names_r, size_t *n_r)
{
    struct sc_buckets b = docs(st);
    return sc_bucket_names(&b, names_r, n_r);
}

int rep_bucket_list(void *state, struct cairn_req *req,
                    int (*emit)(void *ctx, const struct cairn_bucket_info *b), void *ctx)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_list(&b, req, emit, ctx);
}

/* A key whose metadata is only a tombstone is not content. */
static int key_counts(void *ctx, const char *bucket, const char *key)
{
    struct rep_qmeta q;
    int m = rep_meta_read(ctx, bucket, key, &q);
    int counts = m != CAIRN_E_NO_SUCH_KEY && (m || rep_qmeta_agreed(&q)->n > 0);
    rep_qmeta_clear(&q);
    return counts;
}

int rep_bucket_delete(void *state, struct cairn_req *req, const char *bucket)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_delete(&b, req, bucket, key_counts, state);
}

int rep_bucket_config_get(void *state, struct cairn_req *req, const char *bucket,
                          const char *name, char **data_r, size_t *len_r)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_config_get(&b, req, bucket, name, data_r, len_r);
}

int rep_bucket_config_put(void *state, struct cairn_req *req, const char *bucket,
                          const char *name, const void *data, size_t len)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_config_put(&b, req, bucket, name, data, len);
}

int rep_bucket_config_delete(void *state, struct cairn_req *req, const char *bucket,
                             const char *name)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_config_delete(&b, req, bucket, name);
}

int rep_heal_bucket(struct rep_state *st, const char *bucket)
{
    struct sc_buckets b = docs(st);
    return sc_bucket_heal(&b, bucket, &st->healed_meta, &st->heal_errors);
}

/* ---- listing ---- */

static int emit_versions(struct rep_state *st, struct cairn_req *req, const struct cairn_list *l,
                         const char *key, const struct sc_objmeta *ag, int skip_through,
                         int *stop_r)
{
    int skipping = skip_through;
    for (size_t i = 0; i < ag->n; i++) {
        const struct sc_version *v = &ag->v[i];
        const char *shown = v->id[0] ? v->id : "null";
        if (skipping) {
            if (!strcmp(shown, l->after_version))
                skipping = 0;
            continue;
        }
        struct cairn_list_entry e;
        memset(&e, 0, sizeof(e));
        e.kind = CAIRN_LIST_OBJECT;
        e.key = st->sv->req_strdup(req, key);
        int rc = rep_fill_info(st, req, v, i == 0, CAIRN_VERSIONING_ENABLED, &e.info);
        if (rc)
            return rc;
        e.info.n_attrs = 0;
        e.info.attrs = NULL;
        if (!v->id[0])
            rep_fmt(e.info.version_id, sizeof(e.info.version_id), "null");
        rc = l->emit(l->ctx, &e);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            *stop_r = 1;
            return 0;
        }
    }
    return 0;
}

int rep_object_list(void *state, struct cairn_req *req, const struct cairn_list *l)
{
    struct rep_state *st = state;
    char rel[REP_PATH];
    int rc = rep_bucket_head(st, req, l->bucket, NULL);
    if (rc || (rc = rep_bucket_rel(l->bucket, rel, sizeof(rel))))
        return rc;
    const char *prefix = l->prefix ? l->prefix : "", *after = l->after ? l->after : "";
    const char *delim = l->delimiter ? l->delimiter : "";
    int resume_versions = l->versions && after[0] && l->after_version && l->after_version[0];
    struct sc_walk *w =
        sc_walk_new(st->dircache, st->drives, st->n_drives, rel, prefix, after, resume_versions);
    if (!w)
        return CAIRN_E_NOMEM;
    size_t plen = strlen(prefix), dlen = strlen(delim);
    const char *key;
    int stop = 0;
    while (!rc && !stop && (rc = sc_walk_next(w, &key)) == 1) {
        rc = 0;
        char *cp = NULL;
        if (dlen) {
            const char *hit = strstr(key + plen, delim);
            if (hit) {
                cp = strndup(key, (size_t)(hit - key) + dlen);
                if (!cp) {
                    rc = CAIRN_E_NOMEM;
                    break;
                }
                if (strcmp(cp, after) <= 0) { /* reported on an earlier page */
                    sc_walk_skip(w, cp);
                    free(cp);
                    continue;
                }
            }
        }
        pthread_rwlock_t *lk = sc_lock_for(&st->locks, l->bucket, key);
        pthread_rwlock_rdlock(lk);
        struct rep_qmeta q;
        int r = rep_meta_read(st, l->bucket, key, &q);
        pthread_rwlock_unlock(lk);
        const struct sc_objmeta *ag = rep_qmeta_agreed(&q);
        if (r == 0 && ag->n > 0 && (l->versions || !ag->v[0].delete_marker)) {
            struct cairn_list_entry e;
            memset(&e, 0, sizeof(e));
            if (cp) {
                e.kind = CAIRN_LIST_PREFIX;
                e.key = st->sv->req_strdup(req, cp);
                r = l->emit(l->ctx, &e);
                if (r < 0)
                    rc = r;
                else if (r > 0)
                    stop = 1;
                sc_walk_skip(w, cp);
            } else if (l->versions) {
                /* older versions live in files of their own (sc-meta.h) */
                struct sc_objmeta all;
                rc = rep_meta_read_all(st, l->bucket, key, &all);
                if (!rc)
                    rc = emit_versions(st, req, l, key, &all,
                                       resume_versions && !strcmp(key, after), &stop);
                sc_objmeta_clear(&all);
            } else {
                e.kind = CAIRN_LIST_OBJECT;
                e.key = st->sv->req_strdup(req, key);
                rc = rep_fill_info(st, req, &ag->v[0], 1, CAIRN_VERSIONING_OFF, &e.info);
                if (!rc) {
                    r = l->emit(l->ctx, &e);
                    if (r < 0)
                        rc = r;
                    else if (r > 0)
                        stop = 1;
                }
            }
        } else if (r && r != CAIRN_E_NO_SUCH_KEY) {
            rc = r;
        }
        rep_qmeta_clear(&q);
        free(cp);
    }
    sc_walk_free(w);
    return rc < 0 ? rc : 0;
}
