/*
 * rep-bucket.c -- buckets, bucket configuration documents and object listing.
 *
 * A bucket is a directory on every drive holding ".bucket" (framed JSON:
 * name, created, owner) and ".config/<name>" files, written to every drive
 * and read by majority (the same files as backend-ec's).
 */
#include "rep-internal.h"
#include "sc-frame.h"
#include "sc-keypath.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define BUCKET_FILE ".bucket"
#define CONFIG_DIR ".config"
#define CONFIG_MAX (20u << 20)
/* A deleted config document: a payload no client document has (NUL first). */
#define TOMBSTONE "\0cairn-deleted"


static int all_quorum(struct rep_state *st)
{
    return rep_quorum((int)st->n_drives);
}

/* Reads `rel` on every drive and returns the payload most drives agree on
 * (absent counts as a value).  0 with *data_r (malloc'd) or NULL when the
 * majority says absent; CAIRN_E_READ_QUORUM when too few drives answered.
 * *unanimous_r (optional) tells whether every drive agreed. */
static int majority_read(struct rep_state *st, const char *rel, size_t max, char **data_r,
                         size_t *len_r, int *unanimous_r)
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
    if (answered == 0) {
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
        /* any present value beats absent (drives that lost their contents
         * must not hide a bucket the others still have; deleted configs
         * leave a tombstone, so they are not brought back by this) */
        int better;
        if (best < 0)
            better = 1;
        else if (!h[i] != !h[best])
            better = h[i] != 0;
        else
            better = c > best_c;
        if (better) {
            best = (int)i;
            best_c = c;
        }
    }
    if (unanimous_r)
        *unanimous_r = best_c == (int)n;
    *data_r = NULL;
    *len_r = 0;
    if (h[best] && !(lens[best] == sizeof(TOMBSTONE) - 1 &&
                     !memcmp(vals[best], TOMBSTONE, lens[best]))) {
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

/* Writes (data) or removes (NULL) `rel` on every drive; majority of all drives. */
static int write_all(struct rep_state *st, const char *rel, const void *data, size_t len)
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

static int bucket_meta(struct rep_state *st, struct cairn_req *req, const char *bucket,
                       struct cairn_bucket_info *info)
{
    char rel[REP_PATH];
    if (rep_bucket_rel(bucket, rel, sizeof(rel) - 16))
        return CAIRN_E_NO_SUCH_BUCKET;
    strcat(rel, "/" BUCKET_FILE);
    char *data;
    size_t len;
    int rc = majority_read(st, rel, 65536, &data, &len, NULL);
    if (rc)
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

int rep_bucket_head(void *state, struct cairn_req *req, const char *bucket,
                    struct cairn_bucket_info *info_r)
{
    return bucket_meta(state, req, bucket, info_r);
}

int rep_bucket_create(void *state, struct cairn_req *req, const struct cairn_bucket_info *b)
{
    struct rep_state *st = state;
    char rel[REP_PATH];
    int rc = rep_bucket_rel(b->name, rel, sizeof(rel) - 16);
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
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
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
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int rep_bucket_names(struct rep_state *st, char ***names_r, size_t *n_r)
{
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
            char *s = NULL;
            if (names[j][0] != '.' && sc_name_decode(names[j], dec, sizeof(dec)) > 0)
                s = strdup(dec);
            if (s)
                all[n_all++] = s;
            free(names[j]);
        }
        free(names);
    }
    if (n_all)
        qsort(all, n_all, sizeof(*all), cmp_names);
    size_t out = 0;
    for (size_t i = 0; i < n_all; i++) {
        if (out && !strcmp(all[out - 1], all[i]))
            free(all[i]);
        else
            all[out++] = all[i];
    }
    *names_r = all;
    *n_r = out;
    return 0;
}

int rep_bucket_list(void *state, struct cairn_req *req,
                    int (*emit)(void *ctx, const struct cairn_bucket_info *b), void *ctx)
{
    struct rep_state *st = state;
    char **all;
    size_t n_all;
    rep_bucket_names(st, &all, &n_all);
    int rc = 0;
    for (size_t i = 0; i < n_all && !rc; i++) {
        struct cairn_bucket_info info;
        if (bucket_meta(st, req, all[i], &info))
            continue;
        int r = emit(ctx, &info);
        if (r < 0)
            rc = r;
        else if (r > 0)
            break;
    }
    sc_names_free(all, n_all);
    return rc;
}

static void mpu_dir(const char *brel, char *out, size_t cap)
{
    rep_fmt(out, cap, SC_SYS_DIR "/mpu/%s", brel);
}

/* 1 when any key or upload remains in the bucket. */
static int bucket_has_content(struct rep_state *st, const char *bucket, const char *rel)
{
    struct sc_walk *w = sc_walk_new(st->dircache, st->drives, st->n_drives, rel, "", "", 0);
    if (!w)
        return 1;
    const char *key;
    int r, found = 0;
    /* a key whose metadata is only a tombstone is not content */
    while (!found && (r = sc_walk_next(w, &key)) == 1) {
        struct rep_qmeta q;
        int m = rep_meta_read(st, bucket, key, &q);
        found = m != CAIRN_E_NO_SUCH_KEY && (m || rep_qmeta_agreed(&q)->n > 0);
        rep_qmeta_clear(&q);
    }
    sc_walk_free(w);
    if (found || r < 0)
        return 1;
    char mpu[REP_PATH];
    mpu_dir(rel, mpu, sizeof(mpu));
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

int rep_bucket_delete(void *state, struct cairn_req *req, const char *bucket)
{
    struct rep_state *st = state;
    char rel[REP_PATH];
    int rc = bucket_meta(st, req, bucket, NULL);
    if (rc || (rc = rep_bucket_rel(bucket, rel, sizeof(rel))))
        return rc;
    if (bucket_has_content(st, bucket, rel))
        return CAIRN_E_BUCKET_NOT_EMPTY;
    char mpu[REP_PATH], bf[REP_PATH + 16];
    mpu_dir(rel, mpu, sizeof(mpu));
    rep_fmt(bf, sizeof(bf), "%s/" BUCKET_FILE, rel);
    int ok = 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        if (!d->online)
            continue;
        /* the metadata file first, so a half-deleted bucket reads as absent */
        d->ops->unlink(d, bf);
        d->ops->remove_tree(d, mpu);
        ok += d->ops->remove_tree(d, rel) == 0;
    }
    return ok >= all_quorum(st) ? 0 : CAIRN_E_WRITE_QUORUM;
}

static int config_rel(const char *bucket, const char *name, char *out, size_t cap)
{
    char b[REP_PATH], n[REP_PATH];
    if (rep_bucket_rel(bucket, b, sizeof(b)) || !*name || sc_name_encode(name, n, sizeof(n)))
        return CAIRN_E_INVALID_ARGUMENT;
    rep_fmt(out, cap, "%s/" CONFIG_DIR "/%s", b, n);
    return 0;
}

int rep_bucket_config_get(void *state, struct cairn_req *req, const char *bucket,
                          const char *name, char **data_r, size_t *len_r)
{
    struct rep_state *st = state;
    char rel[REP_PATH];
    int rc = bucket_meta(st, req, bucket, NULL);
    if (rc || (rc = config_rel(bucket, name, rel, sizeof(rel))))
        return rc;
    char *data;
    size_t len;
    if ((rc = majority_read(st, rel, CONFIG_MAX, &data, &len, NULL)))
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

int rep_bucket_config_put(void *state, struct cairn_req *req, const char *bucket,
                          const char *name, const void *data, size_t len)
{
    struct rep_state *st = state;
    char rel[REP_PATH];
    int rc = bucket_meta(st, req, bucket, NULL);
    if (rc || (rc = config_rel(bucket, name, rel, sizeof(rel))))
        return rc;
    if (len > CONFIG_MAX)
        return CAIRN_E_ENTITY_TOO_LARGE;
    return write_all(st, rel, data ? data : "", len);
}

int rep_bucket_config_delete(void *state, struct cairn_req *req, const char *bucket,
                             const char *name)
{
    struct rep_state *st = state;
    char rel[REP_PATH];
    int rc = bucket_meta(st, req, bucket, NULL);
    if (rc || (rc = config_rel(bucket, name, rel, sizeof(rel))))
        return rc;
    return write_all(st, rel, TOMBSTONE, sizeof(TOMBSTONE) - 1);
}

/* Puts the majority value of `rel` on every drive that differs. */
static int heal_file(struct rep_state *st, const char *rel, size_t max)
{
    char *data;
    size_t len;
    int unanimous;
    int rc = majority_read(st, rel, max, &data, &len, &unanimous);
    if (rc || unanimous) {
        free(data);
        return rc;
    }
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        char *mine = NULL;
        size_t ml = 0;
        if (!d->online)
            continue;
        int r = sc_frame_read(d, rel, max, &mine, &ml);
        int same = data ? r == 0 && ml == len && !memcmp(mine, data, len)
                        : (r == -ENOENT || r == -ENOTDIR);
        free(mine);
        if (same)
            continue;
        if (data) {
            char parent[REP_PATH];
            sc_path_parent(rel, parent, sizeof(parent));
            d->ops->mkdir_p(d, parent);
            r = sc_frame_write(d, rel, data, len, st->sync);
        } else {
            r = d->ops->unlink(d, rel);
        }
        if (r)
            st->heal_errors++;
        else
            st->healed_meta++;
    }
    free(data);
    return 0;
}

int rep_heal_bucket(struct rep_state *st, const char *bucket)
{
    char rel[REP_PATH], f[REP_PATH + 32];
    int rc = rep_bucket_rel(bucket, rel, sizeof(rel) - 64);
    if (rc)
        return rc;
    rep_fmt(f, sizeof(f), "%s/" BUCKET_FILE, rel);
    if ((rc = heal_file(st, f, 65536)))
        return rc;
    /* every config name any drive has */
    rep_fmt(f, sizeof(f), "%s/" CONFIG_DIR, rel);
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        char **names;
        size_t nn;
        if (!d->online || d->ops->readdir(d, f, &names, &nn))
            continue;
        for (size_t j = 0; j < nn; j++) {
            char c[REP_PATH + 400];
            if (names[j][0] == '.')
                continue;
            rep_fmt(c, sizeof(c), "%s/%s", f, names[j]);
            heal_file(st, c, CONFIG_MAX);
        }
        sc_names_free(names, nn);
    }
    return 0;
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
    int rc = bucket_meta(st, req, l->bucket, NULL);
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
                rc = emit_versions(st, req, l, key, ag,
                                   resume_versions && !strcmp(key, after), &stop);
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
