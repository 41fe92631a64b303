/* sc-bucket.c -- buckets and their configuration documents (see sc-bucket.h). */
#include "sc-bucket.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sc-frame.h"
#include "sc-keypath.h"
#include "sc-meta.h"

#define PATH_MAX_LEN 4096
/* A deleted configuration document under SC_VOTE_PRESENT: a payload no
 * client document has (NUL first). */
#define TOMBSTONE "\0cairn-deleted"

static void fmt(char *out, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, cap, f, ap);
    va_end(ap);
}

/* Writes must reach a majority of all drives. */
static int write_quorum(const struct sc_buckets *b)
{
    return (int)b->n_drives / 2 + 1;
}

static int is_tombstone(const char *data, size_t len)
{
    return len == sizeof(TOMBSTONE) - 1 && !memcmp(data, TOMBSTONE, len);
}

int sc_bucket_rel(const char *bucket, char *out, size_t cap)
{
    if (!*bucket || sc_name_encode(bucket, out, cap))
        return CAIRN_E_INVALID_BUCKET_NAME;
    return 0;
}

int sc_bucket_key_rel(const char *bucket, const char *key, char *out, size_t cap)
{
    int rc = sc_key_check(key);
    if (rc)
        return rc;
    if ((rc = sc_bucket_rel(bucket, out, cap)))
        return rc;
    size_t n = strlen(out);
    if (n + 2 >= cap)
        return CAIRN_E_KEY_TOO_LONG;
    out[n++] = '/';
    return sc_key_encode(key, out + n, cap - n);
}

int sc_key_dir_prepare(const struct sc_qmeta *q, int pos)
{
    if (!q->is_head || pos < 0 || pos >= q->n || q->status[pos] != -ENOENT)
        return 0;
    char dir[SC_META_PATH];
    if (q->dir_len >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, q->rel, q->dir_len);
    dir[q->dir_len] = '\0';
    struct sc_drive *d = q->drive[pos];
    return d->ops->mkdir_p(d, dir);
}

/* ---- documents ---- */

/* Index of the answer the vote settles on among n drives (ans: answered,
 * h: payload hash | 1, 0 for absent); *count_r drives hold it. */
static int settle(enum sc_vote vote, size_t n, const int *ans, const uint64_t *h, int *count_r)
{
    int best = -1, best_c = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ans[i])
            continue;
        int c = 0;
        for (size_t j = 0; j < n; j++)
            c += ans[j] && h[j] == h[i];
        int better;
        if (vote == SC_VOTE_MAJORITY)
            better = c > best_c || (c == best_c && h[i] != 0);
        else if (best < 0)
            better = 1;
        else if (!h[i] != !h[best])
            better = h[i] != 0; /* present beats absent */
        else
            better = c > best_c;
        if (better) {
            best = (int)i;
            best_c = c;
        }
    }
    *count_r = best_c;
    return best;
}

int sc_bucket_doc_read(const struct sc_buckets *b, const char *rel, size_t max, char **data_r,
                       size_t *len_r, int *unanimous_r)
{
    size_t n = b->n_drives;
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
        struct sc_drive *d = b->drives[i];
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
    int too_few = b->vote == SC_VOTE_MAJORITY ? answered < (int)(n + 1) / 2 : 0;
    if (too_few || answered == 0) {
        rc = CAIRN_E_READ_QUORUM;
        goto out;
    }
    int count;
    int best = settle(b->vote, n, ans, h, &count);
    if (unanimous_r)
        *unanimous_r = count == (int)n;
    *data_r = NULL;
    *len_r = 0;
    if (h[best] && !(b->vote == SC_VOTE_PRESENT && is_tombstone(vals[best], lens[best]))) {
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

int sc_bucket_doc_write(const struct sc_buckets *b, const char *rel, const void *data,
                        size_t len)
{
    int ok = 0;
    for (size_t i = 0; i < b->n_drives; i++) {
        struct sc_drive *d = b->drives[i];
        if (!d->online)
            continue;
        int r;
        if (data) {
            r = sc_frame_write(d, rel, data, len, b->sync);
        } else {
            r = d->ops->unlink(d, rel);
            if (r == -ENOENT || r == -ENOTDIR)
                r = 0;
        }
        ok += r == 0;
    }
    return ok >= write_quorum(b) ? 0 : CAIRN_E_WRITE_QUORUM;
}

/* ---- buckets ---- */

int sc_bucket_head(const struct sc_buckets *b, struct cairn_req *req, const char *bucket,
                   struct cairn_bucket_info *info_r)
{
    char rel[PATH_MAX_LEN];
    if (sc_bucket_rel(bucket, rel, sizeof(rel) - 16))
        return CAIRN_E_NO_SUCH_BUCKET;
    strcat(rel, "/" SC_BUCKET_FILE);
    char *data;
    size_t len;
    int rc = sc_bucket_doc_read(b, rel, SC_BUCKET_FILE_MAX, &data, &len, NULL);
    if (rc)
        return rc;
    if (!data)
        return CAIRN_E_NO_SUCH_BUCKET;
    json_t *o = json_loadb(data, len, 0, NULL);
    free(data);
    if (!o)
        return CAIRN_E_CORRUPT;
    if (info_r) {
        info_r->name = b->sv->req_strdup(req, bucket);
        info_r->created_ms = json_integer_value(json_object_get(o, "created"));
        const char *owner = json_string_value(json_object_get(o, "owner"));
        info_r->owner = b->sv->req_strdup(req, owner ? owner : "");
    }
    json_decref(o);
    return 0;
}

int sc_bucket_create(const struct sc_buckets *b, struct cairn_req *req,
                     const struct cairn_bucket_info *info)
{
    char rel[PATH_MAX_LEN];
    int rc = sc_bucket_rel(info->name, rel, sizeof(rel) - 16);
    if (rc)
        return rc;
    rc = sc_bucket_head(b, req, info->name, NULL);
    if (rc == 0)
        return CAIRN_E_BUCKET_OWNED_BY_YOU;
    if (rc != CAIRN_E_NO_SUCH_BUCKET)
        return rc;
    for (size_t i = 0; i < b->n_drives; i++)
        if (b->drives[i]->online)
            b->drives[i]->ops->mkdir_p(b->drives[i], rel);
    json_t *o = json_pack("{ss sI ss}", "name", info->name, "created",
                          (json_int_t)info->created_ms, "owner", info->owner ? info->owner : "");
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        return CAIRN_E_NOMEM;
    strcat(rel, "/" SC_BUCKET_FILE);
    rc = sc_bucket_doc_write(b, rel, s, strlen(s));
    free(s);
    return rc;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

int sc_bucket_names(const struct sc_buckets *b, char ***names_r, size_t *n_r)
{
    char **all = NULL;
    size_t n_all = 0;
    for (size_t i = 0; i < b->n_drives; i++) {
        struct sc_drive *d = b->drives[i];
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

int sc_bucket_list(const struct sc_buckets *b, struct cairn_req *req,
                   int (*emit)(void *ctx, const struct cairn_bucket_info *info), void *ctx)
{
    char **all;
    size_t n_all;
    sc_bucket_names(b, &all, &n_all);
    int rc = 0;
    for (size_t i = 0; i < n_all && !rc; i++) {
        struct cairn_bucket_info info;
        if (sc_bucket_head(b, req, all[i], &info))
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

/* Where a bucket's multipart uploads live. */
static void uploads_dir(const char *bucket_rel, char *out, size_t cap)
{
    fmt(out, cap, SC_SYS_DIR "/mpu/%s", bucket_rel);
}

/* 1 when any key (that `counts`) or upload remains in the bucket. */
static int has_content(const struct sc_buckets *b, const char *bucket, const char *rel,
                       sc_key_counts_fn counts, void *ctx)
{
    struct sc_walk *w = sc_walk_new(b->dircache, b->drives, b->n_drives, rel, "", "", 0);
    if (!w)
        return 1;
    const char *key;
    int r, found = 0;
    while (!found && (r = sc_walk_next(w, &key)) == 1)
        found = !counts || counts(ctx, bucket, key);
    sc_walk_free(w);
    if (found || r < 0)
        return 1;
    char mpu[PATH_MAX_LEN];
    uploads_dir(rel, mpu, sizeof(mpu));
    for (size_t i = 0; i < b->n_drives; i++) {
        struct sc_drive *d = b->drives[i];
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

int sc_bucket_delete(const struct sc_buckets *b, struct cairn_req *req, const char *bucket,
                     sc_key_counts_fn counts, void *ctx)
{
    char rel[PATH_MAX_LEN];
    int rc = sc_bucket_head(b, req, bucket, NULL);
    if (rc || (rc = sc_bucket_rel(bucket, rel, sizeof(rel))))
        return rc;
    if (has_content(b, bucket, rel, counts, ctx))
        return CAIRN_E_BUCKET_NOT_EMPTY;
    char mpu[PATH_MAX_LEN], bf[PATH_MAX_LEN + 16];
    uploads_dir(rel, mpu, sizeof(mpu));
    fmt(bf, sizeof(bf), "%s/" SC_BUCKET_FILE, rel);
    int ok = 0;
    for (size_t i = 0; i < b->n_drives; i++) {
        struct sc_drive *d = b->drives[i];
        if (!d->online)
            continue;
        /* the metadata file first, so a half-deleted bucket reads as absent */
        d->ops->unlink(d, bf);
        d->ops->remove_tree(d, mpu);
        ok += d->ops->remove_tree(d, rel) == 0;
    }
    return ok >= write_quorum(b) ? 0 : CAIRN_E_WRITE_QUORUM;
}

/* ---- configuration documents ---- */

/* The path of an existing bucket's configuration document `name`. */
static int config_rel(const struct sc_buckets *b, struct cairn_req *req, const char *bucket,
                      const char *name, char *out, size_t cap)
{
    int rc = sc_bucket_head(b, req, bucket, NULL);
    if (rc)
        return rc;
    char br[PATH_MAX_LEN], n[PATH_MAX_LEN];
    if (sc_bucket_rel(bucket, br, sizeof(br)) || !*name || sc_name_encode(name, n, sizeof(n)))
        return CAIRN_E_INVALID_ARGUMENT;
    fmt(out, cap, "%s/" SC_CONFIG_DIR "/%s", br, n);
    return 0;
}

int sc_bucket_config_get(const struct sc_buckets *b, struct cairn_req *req, const char *bucket,
                         const char *name, char **data_r, size_t *len_r)
{
    char rel[PATH_MAX_LEN];
    int rc = config_rel(b, req, bucket, name, rel, sizeof(rel));
    if (rc)
        return rc;
    char *data;
    size_t len;
    if ((rc = sc_bucket_doc_read(b, rel, SC_CONFIG_MAX, &data, &len, NULL)))
        return rc;
    if (!data)
        return CAIRN_E_NO_SUCH_CONFIG;
    *data_r = b->sv->req_alloc(req, len + 1);
    if (!*data_r) {
        free(data);
        return CAIRN_E_NOMEM;
    }
    memcpy(*data_r, data, len + 1);
    *len_r = len;
    free(data);
    return 0;
}

int sc_bucket_config_put(const struct sc_buckets *b, struct cairn_req *req, const char *bucket,
                         const char *name, const void *data, size_t len)
{
    char rel[PATH_MAX_LEN];
    int rc = config_rel(b, req, bucket, name, rel, sizeof(rel));
    if (rc)
        return rc;
    if (len > SC_CONFIG_MAX)
        return CAIRN_E_ENTITY_TOO_LARGE;
    return sc_bucket_doc_write(b, rel, data ? data : "", len);
}

int sc_bucket_config_delete(const struct sc_buckets *b, struct cairn_req *req,
                            const char *bucket, const char *name)
{
    char rel[PATH_MAX_LEN];
    int rc = config_rel(b, req, bucket, name, rel, sizeof(rel));
    if (rc)
        return rc;
    if (b->vote == SC_VOTE_PRESENT)
        return sc_bucket_doc_write(b, rel, TOMBSTONE, sizeof(TOMBSTONE) - 1);
    return sc_bucket_doc_write(b, rel, NULL, 0);
}

/* ---- heal ---- */

/* Puts the settled payload of `rel` on every online drive that differs. */
static int heal_doc(const struct sc_buckets *b, const char *rel, size_t max, uint64_t *healed_r,
                    uint64_t *errors_r)
{
    char *data;
    size_t len;
    int unanimous;
    int rc = sc_bucket_doc_read(b, rel, max, &data, &len, &unanimous);
    if (rc || unanimous) {
        free(data);
        return rc;
    }
    for (size_t i = 0; i < b->n_drives; i++) {
        struct sc_drive *d = b->drives[i];
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
            char parent[PATH_MAX_LEN];
            sc_path_parent(rel, parent, sizeof(parent));
            d->ops->mkdir_p(d, parent);
            r = sc_frame_write(d, rel, data, len, b->sync);
        } else {
            r = d->ops->unlink(d, rel);
        }
        if (r)
            ++*errors_r;
        else
            ++*healed_r;
    }
    free(data);
    return 0;
}

int sc_bucket_heal(const struct sc_buckets *b, const char *bucket, uint64_t *healed_r,
                   uint64_t *errors_r)
{
    char rel[PATH_MAX_LEN], f[PATH_MAX_LEN + 32];
    int rc = sc_bucket_rel(bucket, rel, sizeof(rel) - 64);
    if (rc)
        return rc;
    fmt(f, sizeof(f), "%s/" SC_BUCKET_FILE, rel);
    if ((rc = heal_doc(b, f, SC_BUCKET_FILE_MAX, healed_r, errors_r)))
        return rc;
    /* every config name any drive has */
    fmt(f, sizeof(f), "%s/" SC_CONFIG_DIR, rel);
    for (size_t i = 0; i < b->n_drives; i++) {
        struct sc_drive *d = b->drives[i];
        char **names;
        size_t nn;
        if (!d->online || d->ops->readdir(d, f, &names, &nn))
            continue;
        for (size_t j = 0; j < nn; j++) {
            char c[PATH_MAX_LEN + 400];
            if (names[j][0] == '.')
                continue;
            fmt(c, sizeof(c), "%s/%s", f, names[j]);
            heal_doc(b, c, SC_CONFIG_MAX, healed_r, errors_r);
        }
        sc_names_free(names, nn);
    }
    return 0;
}
