/*
 * ec-bucket.c -- buckets, bucket configuration documents and object listing.
 *
 * Buckets and their documents are storage-common's (sc-bucket.h), read by a
 * majority of the drives; listing reads each key's metadata from its set.
 */
#include "ec-internal.h"
#include "sc-bucket.h"
#include "sc-frame.h"
#include "sc-keypath.h"

#include <stdlib.h>
#include <string.h>

#define LIST_META_MAX (64u << 20) /* as ec-meta.c's limit on metadata files */

/* The bucket documents as backend-ec keeps them: removed when deleted, read
 * by a majority of the drives. */
static struct sc_buckets docs(struct ec_state *st)
{
    return (struct sc_buckets){.sv = st->sv,
                               .drives = st->drives,
                               .n_drives = st->n_drives,
                               .dircache = st->dircache,
                               .sync = st->sync,
                               .vote = SC_VOTE_MAJORITY};
}

int ec_bucket_head(void *state, struct cairn_req *req, const char *bucket,
                   struct cairn_bucket_info *info_r)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_head(&b, req, bucket, info_r);
}

int ec_bucket_create(void *state, struct cairn_req *req, const struct cairn_bucket_info *info)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_create(&b, req, info);
}

int ec_bucket_list(void *state, struct cairn_req *req,
                   int (*emit)(void *ctx, const struct cairn_bucket_info *b), void *ctx)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_list(&b, req, emit, ctx);
}

int ec_bucket_delete(void *state, struct cairn_req *req, const char *bucket)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_delete(&b, req, bucket, NULL, NULL); /* any key is content */
}

int ec_bucket_config_get(void *state, struct cairn_req *req, const char *bucket, const char *name,
                         char **data_r, size_t *len_r)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_config_get(&b, req, bucket, name, data_r, len_r);
}

int ec_bucket_config_put(void *state, struct cairn_req *req, const char *bucket, const char *name,
                         const void *data, size_t len)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_config_put(&b, req, bucket, name, data, len);
}

int ec_bucket_config_delete(void *state, struct cairn_req *req, const char *bucket,
                            const char *name)
{
    struct sc_buckets b = docs(state);
    return sc_bucket_config_delete(&b, req, bucket, name);
}

/* ---- listing ---- */

/* What a listing knows of a key: the version list from one drive (the fast
 * path) or, when that drive could not give it, from a quorum read. */
struct list_meta {
    struct sc_objmeta one;
    struct ec_qmeta q;
    int quorum; /* q is in use */
};

static const struct sc_objmeta *list_meta_versions(const struct list_meta *lm)
{
    return lm->quorum ? ec_qmeta_agreed(&lm->q) : &lm->one;
}

static void list_meta_clear(struct list_meta *lm)
{
    sc_objmeta_clear(&lm->one);
    if (lm->quorum)
        ec_qmeta_clear(&lm->q);
    lm->quorum = 0;
}

/*
 * Reads a key's versions for a listing.  A page of 1,000 keys must not read
 * 1,000 x set_size metadata files: a listing needs only what every drive
 * holds alike (ids, sizes, ETags, times, markers), so when the walk saw the
 * key's metadata file on every online drive of its set (`copies`) and those
 * are a read quorum, it reads the first online drive's copy only.  Otherwise
 * (a drive that missed a PUT or a DELETE, too few drives), or when that copy
 * is unreadable or damaged, it falls back to the quorum read (ec_meta_read),
 * so such a drive neither hides nor resurrects a key.  What the fast path
 * cannot see is a drive that holds an older version list of a key every drive
 * has (it missed an overwrite while offline and was not healed yet): the
 * listing may show that drive's older size/ETag until heal.
 * Returns 0, CAIRN_E_NO_SUCH_KEY or an error.
 */
static int list_meta_read(struct ec_state *st, const char *bucket, const char *key,
                          size_t copies, struct list_meta *lm)
{
    memset(lm, 0, sizeof(*lm));
    char rel[EC_PATH];
    int rc = ec_key_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    size_t n = strlen(rel);
    if (n + sizeof("/" SC_OBJ_FILE) > sizeof(rel))
        return CAIRN_E_KEY_TOO_LONG;
    memcpy(rel + n, "/" SC_OBJ_FILE, sizeof("/" SC_OBJ_FILE));
    size_t set = ec_set_of(st, bucket, key);
    struct sc_drive **d = ec_set_drives(st, set);
    size_t online = 0, first = st->set_size;
    for (size_t i = 0; i < st->set_size; i++)
        if (d[i]->online && online++ == 0)
            first = i;
    int fast = first < st->set_size && copies == online &&
               online >= st->set_size - (size_t)st->parity;
    if (fast) {
        uint8_t *raw = NULL;
        size_t len = 0;
        const uint8_t *p;
        size_t plen;
        rc = sc_drive_read_all(d[first], rel, LIST_META_MAX, &raw, &len);
        if (!rc && !sc_frame_unwrap(raw, len, &p, &plen) &&
            !sc_objmeta_parse((const char *)p, plen, &lm->one)) {
            free(raw);
            return 0;
        }
        /* gone since the walk, unreadable or damaged here: ask the quorum */
        free(raw);
        sc_objmeta_clear(&lm->one);
    }
    pthread_rwlock_t *lk = sc_lock_for(&st->locks, bucket, key);
    pthread_rwlock_rdlock(lk);
    lm->quorum = 1;
    rc = ec_meta_read(st, set, bucket, key, &lm->q);
    pthread_rwlock_unlock(lk);
    return rc;
}

static int emit_versions(struct ec_state *st, struct cairn_req *req, const struct cairn_list *l,
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
        int rc = ec_fill_info(st, req, v, i == 0, CAIRN_VERSIONING_ENABLED, &e.info);
        if (rc)
            return rc;
        e.info.n_attrs = 0;
        e.info.attrs = NULL;
        if (!v->id[0])
            ec_fmt(e.info.version_id, sizeof(e.info.version_id), "null");
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

int ec_object_list(void *state, struct cairn_req *req, const struct cairn_list *l)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_bucket_head(st, req, l->bucket, NULL);
    if (rc || (rc = ec_bucket_rel(l->bucket, rel, sizeof(rel))))
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
                if (strcmp(cp, after) <= 0) {
                    /* this prefix was already reported on an earlier page */
                    sc_walk_skip(w, cp);
                    free(cp);
                    continue;
                }
            }
        }
        struct list_meta lm;
        int r = list_meta_read(st, l->bucket, key, sc_walk_copies(w), &lm);
        const struct sc_objmeta *ag = list_meta_versions(&lm);
        struct sc_objmeta all = {0, NULL};
        if (r == 0 && l->versions && !cp && ag->n) {
            /* older versions live in files of their own (sc-meta.h) */
            r = ec_meta_read_all(st, ec_set_of(st, l->bucket, key), l->bucket, key, &all);
            ag = &all;
        }
        if (r == 0 && ag->n > 0 && (l->versions || !ag->v[0].delete_marker)) {
            if (cp) {
                struct cairn_list_entry e;
                memset(&e, 0, sizeof(e));
                e.kind = CAIRN_LIST_PREFIX;
                e.key = st->sv->req_strdup(req, cp);
                r = l->emit(l->ctx, &e);
                if (r < 0)
                    rc = r;
                else if (r > 0)
                    stop = 1;
                sc_walk_skip(w, cp);
            } else if (l->versions) {
                rc = emit_versions(st, req, l, key, ag,
                                   resume_versions && !strcmp(key, after), &stop);
            } else {
                struct cairn_list_entry e;
                memset(&e, 0, sizeof(e));
                e.kind = CAIRN_LIST_OBJECT;
                e.key = st->sv->req_strdup(req, key);
                rc = ec_fill_info(st, req, &ag->v[0], 1, CAIRN_VERSIONING_OFF, &e.info);
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
        list_meta_clear(&lm);
        sc_objmeta_clear(&all);
        free(cp);
    }
    sc_walk_free(w);
    return rc < 0 ? rc : 0;
}
