/*
 * ec-bucket.c -- buckets, bucket configuration documents and object listing.
 *
 * A bucket is a directory on every drive (its encoded name) holding
 * ".bucket" (framed JSON: name, created, owner) and ".config/<name>" files,
 * all replicated on every drive and read by majority.
 */
#include "ec-internal.h"
#include "sc-frame.h"
#include "sc-keypath.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define BUCKET_FILE ".bucket"
#define CONFIG_MAX (20u << 20)
#define LIST_META_MAX (64u << 20) /* as ec-meta.c's limit on metadata files */

static int all_quorum(struct ec_state *st)
{
    return (int)st->n_drives / 2 + 1;
}

/* Reads `rel` on every drive and returns the payload most drives agree on
 * (absent counts as a value).  0 with *data_r (malloc'd) or NULL when the
 * majority says absent; CAIRN_E_READ_QUORUM when too few drives answered. */
static int majority_read(struct ec_state *st, const char *rel, size_t max, char **data_r,
                         size_t *len_r)
{
    size_t n = st->n_drives;
    char **vals = calloc(n, sizeof(*vals));
    size_t *lens = calloc(n, sizeof(*lens));
    int *ans = calloc(n, sizeof(*ans));
    uint64_t *h = calloc(n, sizeof(*h));
    int rc = 0, answered = 0;
    if (!vals || !lens || !ans || !h) {
        rc = CAIRN_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct sc_drive *d = st->drives[i];
        if (!d->online)
            continue;
        int r = sc_frame_read(d, rel, max, &vals[i], &lens[i]);
        if (r == 0) {
            ans[i] = 1;
            h[i] = XXH64(vals[i], lens[i], 0) | 1;
        } else if (r == -ENOENT || r == -ENOTDIR) {
            ans[i] = 1;
            h[i] = 0;
        }
        answered += ans[i];
    }
    if (answered < (int)(n + 1) / 2 || answered == 0) {
        rc = CAIRN_E_READ_QUORUM;
        goto out;
    }
    int best = -1, best_c = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ans[i])
            continue;
        int c = 0;
        for (size_t j = 0; j < n; j++)
            c += ans[j] && h[j] == h[i];
        if (c > best_c || (c == best_c && h[i] != 0)) {
            best = (int)i;
            best_c = c;
        }
    }
    *data_r = NULL;
    *len_r = 0;
    if (h[best]) {
        *data_r = vals[best];
        *len_r = lens[best];
        vals[best] = NULL;
    }
out:
    if (vals)
        for (size_t i = 0; i < n; i++)
            free(vals[i]);
    free(vals);
    free(lens);
    free(ans);
    free(h);
    return rc;
}

/* Writes (data) or removes (NULL) `rel` on every drive; quorum of all drives. */
static int write_all(struct ec_state *st, const char *rel, const void *data, size_t len)
{
    int ok = 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        if (!d->online)
            continue;
        int r;
        if (data)
            r = sc_frame_write(d, rel, data, len, st->sync);
        else {
            r = d->ops->unlink(d, rel);
            if (r == -ENOENT || r == -ENOTDIR)
                r = 0;
        }
        ok += r == 0;
    }
    return ok >= all_quorum(st) ? 0 : CAIRN_E_WRITE_QUORUM;
}

static int bucket_meta(struct ec_state *st, struct cairn_req *req, const char *bucket,
                       struct cairn_bucket_info *info)
{
    char rel[EC_PATH];
    int rc = ec_bucket_rel(bucket, rel, sizeof(rel) - 16);
    if (rc)
        return CAIRN_E_NO_SUCH_BUCKET;
    strcat(rel, "/" BUCKET_FILE);
    char *data;
    size_t len;
    if ((rc = majority_read(st, rel, 65536, &data, &len)))
        return rc;
    if (!data)
        return CAIRN_E_NO_SUCH_BUCKET;
    json_t *o = json_loadb(data, len, 0, NULL);
    free(data);
    if (!o)
        return CAIRN_E_CORRUPT;
    if (info) {
        info->name = st->sv->req_strdup(req, bucket);
        info->created_ms = json_integer_value(json_object_get(o, "created"));
        const char *owner = json_string_value(json_object_get(o, "owner"));
        info->owner = st->sv->req_strdup(req, owner ? owner : "");
    }
    json_decref(o);
    return 0;
}

int ec_bucket_head(void *state, struct cairn_req *req, const char *bucket,
                   struct cairn_bucket_info *info_r)
{
    return bucket_meta(state, req, bucket, info_r);
}

int ec_bucket_create(void *state, struct cairn_req *req, const struct cairn_bucket_info *b)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_bucket_rel(b->name, rel, sizeof(rel) - 16);
    if (rc)
        return rc;
    rc = bucket_meta(st, req, b->name, NULL);
    if (rc == 0)
        return CAIRN_E_BUCKET_OWNED_BY_YOU;
    if (rc != CAIRN_E_NO_SUCH_BUCKET)
        return rc;
    for (size_t i = 0; i < st->n_drives; i++)
        if (st->drives[i]->online)
            st->drives[i]->ops->mkdir_p(st->drives[i], rel);
    json_t *o = json_pack("{ss sI ss}", "name", b->name, "created", (json_int_t)b->created_ms,
                          "owner", b->owner ? b->owner : "");
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return CAIRN_E_NOMEM;
    strcat(rel, "/" BUCKET_FILE);
    rc = write_all(st, rel, s, strlen(s));
    free(s);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return strcmp(x ? x : "", y ? y : "");
}

int ec_bucket_list(void *state, struct cairn_req *req,
                   int (*emit)(void *ctx, const struct cairn_bucket_info *b), void *ctx)
{
    struct ec_state *st = state;
    char **all = NULL;
    size_t n_all = 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        char **names;
        size_t nn;
        if (!d->online || d->ops->readdir(d, "", &names, &nn))
            continue;
        char **na = realloc(all, (n_all + nn + 1) * sizeof(*na));
        if (!na) {
            sc_names_free(names, nn);
            continue;
        }
        all = na;
        for (size_t j = 0; j < nn; j++) {
            char dec[SC_PIECE + 2];
            if (names[j][0] == '.' || sc_name_decode(names[j], dec, sizeof(dec)) <= 0) {
                free(names[j]);
                continue;
            }
            free(names[j]);
            all[n_all++] = strdup(dec);
        }
        free(names);
    }
    int rc = 0;
    /* sort and dedupe */
    if (n_all)
        qsort(all, n_all, sizeof(*all), cmp_names);
    for (size_t i = 0; i < n_all && !rc; i++) {
        if (!all[i] || (i && all[i - 1] && !strcmp(all[i - 1], all[i])))
            continue;
        struct cairn_bucket_info info;
        if (bucket_meta(st, req, all[i], &info))
            continue;
        int r = emit(ctx, &info);
        if (r < 0)
            rc = r;
        else if (r > 0)
            break;
    }
    for (size_t i = 0; i < n_all; i++)
        free(all[i]);
    free(all);
    return rc;
}

/* 1 when any key or upload remains in the bucket. */
static int bucket_has_content(struct ec_state *st, const char *bucket, const char *rel)
{
    struct sc_walk *w = sc_walk_new(st->dircache, st->drives, st->n_drives, rel, "", "", 0);
    if (!w)
        return 1;
    const char *key;
    int r = sc_walk_next(w, &key);
    sc_walk_free(w);
    if (r != 0)
        return 1;
    char mpu[EC_PATH];
    ec_fmt(mpu, sizeof(mpu), SC_SYS_DIR "/mpu/%s", rel);
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        char **names;
        size_t nn;
        if (!d->online || d->ops->readdir(d, mpu, &names, &nn))
            continue;
        sc_names_free(names, nn);
        if (nn)
            return 1;
    }
    return 0;
}

int ec_bucket_delete(void *state, struct cairn_req *req, const char *bucket)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = bucket_meta(st, req, bucket, NULL);
    if (rc)
        return rc;
    if ((rc = ec_bucket_rel(bucket, rel, sizeof(rel))))
        return rc;
    if (bucket_has_content(st, bucket, rel))
        return CAIRN_E_BUCKET_NOT_EMPTY;
    char mpu[EC_PATH];
    ec_fmt(mpu, sizeof(mpu), SC_SYS_DIR "/mpu/%s", rel);
    int ok = 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        if (!d->online)
            continue;
        /* the metadata file first, so a half-deleted bucket reads as absent */
        char bf[EC_PATH + 16];
        ec_fmt(bf, sizeof(bf), "%s/" BUCKET_FILE, rel);
        d->ops->unlink(d, bf);
        d->ops->remove_tree(d, mpu);
        ok += d->ops->remove_tree(d, rel) == 0;
    }
    return ok >= all_quorum(st) ? 0 : CAIRN_E_WRITE_QUORUM;
}

static int config_rel(const char *bucket, const char *name, char *out, size_t cap)
{
    char b[EC_PATH], n[EC_PATH];
    if (ec_bucket_rel(bucket, b, sizeof(b)) || !*name || sc_name_encode(name, n, sizeof(n)))
        return CAIRN_E_INVALID_ARGUMENT;
    ec_fmt(out, cap, "%s/.config/%s", b, n);
    return 0;
}

int ec_bucket_config_get(void *state, struct cairn_req *req, const char *bucket, const char *name,
                         char **data_r, size_t *len_r)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = bucket_meta(st, req, bucket, NULL);
    if (rc || (rc = config_rel(bucket, name, rel, sizeof(rel))))
        return rc;
    char *data;
    size_t len;
    if ((rc = majority_read(st, rel, CONFIG_MAX, &data, &len)))
        return rc;
    if (!data)
        return CAIRN_E_NO_SUCH_CONFIG;
    *data_r = st->sv->req_alloc(req, len + 1);
    if (!*data_r) {
        free(data);
        return CAIRN_E_NOMEM;
    }
    memcpy(*data_r, data, len + 1);
    *len_r = len;
    free(data);
    return 0;
}

int ec_bucket_config_put(void *state, struct cairn_req *req, const char *bucket, const char *name,
                         const void *data, size_t len)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = bucket_meta(st, req, bucket, NULL);
    if (rc || (rc = config_rel(bucket, name, rel, sizeof(rel))))
        return rc;
    if (len > CONFIG_MAX)
        return CAIRN_E_ENTITY_TOO_LARGE;
    return write_all(st, rel, data ? data : "", len);
}

int ec_bucket_config_delete(void *state, struct cairn_req *req, const char *bucket,
                            const char *name)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = bucket_meta(st, req, bucket, NULL);
    if (rc || (rc = config_rel(bucket, name, rel, sizeof(rel))))
        return rc;
    return write_all(st, rel, NULL, 0);
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
    int rc = bucket_meta(st, req, l->bucket, NULL);
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
        free(cp);
    }
    sc_walk_free(w);
    return rc < 0 ? rc : 0;
}
