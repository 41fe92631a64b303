/*
 * rep-mpu.c -- multipart uploads.  An upload is a directory
 * SC_SYS_DIR/mpu/<bucket>/<upload id>/ on the key's metadata drives holding
 * "upload" (framed JSON: key, initiated, copies, attrs).  A part is a block
 * file "part.<n>.<file id>" on the copy drives plus "part.<n>.meta" (framed
 * JSON: size, etag, mtime, file, block_size, attrs) beside it.  Complete
 * renames the part files into the new version's data directory: no copying.
 */
#include "rep-internal.h"
#include "sc-blockfile.h"
#include "sc-frame.h"
#include "sc-keypath.h"
#include "sc-util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPLOAD_FILE "upload"
#define PART_META_MAX (1u << 20)

struct upload {
    char key[SC_MAX_KEY + 1];
    int64_t initiated;
    int copies;
    json_t *attrs; /* [[name, value], ...] */
};

static int valid_id(const char *id)
{
    if (!id || strlen(id) != 32)
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return 0;
    return 1;
}

static int upload_dir(const char *bucket, const char *upload_id, char *out, size_t cap)
{
    char b[REP_PATH];
    if (rep_bucket_rel(bucket, b, sizeof(b)))
        return CAIRN_E_NO_SUCH_BUCKET;
    if (!valid_id(upload_id))
        return CAIRN_E_NO_SUCH_UPLOAD;
    rep_fmt(out, cap, SC_SYS_DIR "/mpu/%s/%s", b, upload_id);
    return 0;
}

static int parse_upload(const char *data, size_t len, struct upload *u)
{
    memset(u, 0, sizeof(*u));
    json_t *o = json_loadb(data, len, 0, NULL);
    const char *key = json_string_value(json_object_get(o, "key"));
    json_t *attrs = json_object_get(o, "attrs");
    if (!key || strlen(key) > SC_MAX_KEY || !json_is_array(attrs)) {
        json_decref(o);
        return CAIRN_E_CORRUPT;
    }
    strcpy(u->key, key);
    u->initiated = json_integer_value(json_object_get(o, "initiated"));
    u->copies = (int)json_integer_value(json_object_get(o, "copies"));
    u->attrs = json_incref(attrs);
    json_decref(o);
    if (u->copies >= 1 && u->copies <= REP_MAX)
        return 0;
    json_decref(u->attrs);
    u->attrs = NULL;
    return CAIRN_E_CORRUPT;
}

/* Reads the upload record from the first of the key's metadata drives that has
 * a valid one.  CAIRN_E_NO_SUCH_UPLOAD when none has it or the key differs. */
static int read_upload(struct rep_state *st, const char *bucket, const char *key,
                       const char *upload_id, const int *order, struct upload *u)
{
    char dir[REP_PATH], rel[REP_PATH + 16];
    int rc = upload_dir(bucket, upload_id, dir, sizeof(dir));
    if (rc)
        return rc;
    rep_fmt(rel, sizeof(rel), "%s/" UPLOAD_FILE, dir);
    for (int pos = 0; pos < st->meta_n; pos++) {
        struct sc_drive *d = st->drives[order[pos]];
        char *data;
        size_t len;
        if (!d->online || sc_frame_read(d, rel, PART_META_MAX, &data, &len))
            continue;
        rc = parse_upload(data, len, u);
        free(data);
        if (rc)
            continue;
        if (strcmp(u->key, key)) {
            json_decref(u->attrs);
            return CAIRN_E_NO_SUCH_UPLOAD;
        }
        return 0;
    }
    return CAIRN_E_NO_SUCH_UPLOAD;
}

int rep_mpu_create(void *state, struct cairn_req *req, const char *bucket, const char *key,
                   size_t n_attrs, const struct cairn_kv *attrs, char upload_id_r[128])
{
    (void)req;
    struct rep_state *st = state;
    char rel[REP_PATH];
    int rc = rep_key_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    if (!rep_bucket_exists(st, bucket))
        return CAIRN_E_NO_SUCH_BUCKET;
    int copies;
    if ((rc = rep_storage_class(st, n_attrs, attrs, &copies)))
        return rc;
    char id[33], dir[REP_PATH], f[REP_PATH + 16];
    sc_new_id(id);
    if ((rc = upload_dir(bucket, id, dir, sizeof(dir))))
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; a && i < n_attrs; i++)
        json_array_append_new(a, json_pack("[ss]", attrs[i].name, attrs[i].value));
    json_t *o = json_pack("{ss sI si so}", "key", key, "initiated",
                          (json_int_t)st->sv->now_ms(), "copies", copies, "attrs", a);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        return CAIRN_E_NOMEM;
    rep_fmt(f, sizeof(f), "%s/" UPLOAD_FILE, dir);
    int order[REP_MAX], ok = 0;
    rep_placement(st, bucket, key, order);
    for (int pos = 0; pos < st->meta_n; pos++) {
        struct sc_drive *d = st->drives[order[pos]];
        if (d->online && !d->ops->mkdir_p(d, dir) &&
            !sc_frame_write(d, f, s, strlen(s), st->sync))
            ok++;
    }
    free(s);
    if (ok < rep_quorum(st->meta_n)) {
        for (int pos = 0; pos < st->meta_n; pos++)
            if (st->drives[order[pos]]->online)
                st->drives[order[pos]]->ops->remove_tree(st->drives[order[pos]], dir);
        return CAIRN_E_WRITE_QUORUM;
    }
    rep_fmt(upload_id_r, 128, "%s", id);
    return 0;
}

struct part_meta {
    int ok;
    uint64_t size, block_size;
    enum sc_block_sum block_sum; /* absent in parts written before "block_sum": xxh64 */
    char etag[80];
    int64_t mtime;
    char file[33];
    json_t *attrs;
};

static int read_part_meta(struct sc_drive *d, const char *dir, uint32_t n, struct part_meta *pm)
{
    char rel[REP_PATH + 32], *data;
    size_t len;
    memset(pm, 0, sizeof(*pm));
    rep_fmt(rel, sizeof(rel), "%s/part.%u.meta", dir, n);
    if (!d->online || sc_frame_read(d, rel, PART_META_MAX, &data, &len))
        return -1;
    json_t *o = json_loadb(data, len, 0, NULL);
    free(data);
    const char *etag = json_string_value(json_object_get(o, "etag"));
    const char *file = json_string_value(json_object_get(o, "file"));
    json_t *attrs = json_object_get(o, "attrs");
    if (!etag || !valid_id(file) || !json_is_array(attrs) ||
        sc_block_sum_parse(json_string_value(json_object_get(o, "block_sum")), &pm->block_sum)) {
        json_decref(o);
        return -1;
    }
    pm->size = (uint64_t)json_integer_value(json_object_get(o, "size"));
    pm->block_size = (uint64_t)json_integer_value(json_object_get(o, "block_size"));
    pm->mtime = json_integer_value(json_object_get(o, "mtime"));
    rep_fmt(pm->etag, sizeof(pm->etag), "%s", etag);
    memcpy(pm->file, file, 33);
    pm->attrs = json_incref(attrs);
    pm->ok = 1;
    json_decref(o);
    return 0;
}

/* The newest readable meta of part n across the copy drives. */
static int best_part_meta(struct rep_state *st, const int *order, int copies, const char *dir,
                          uint32_t n, struct part_meta *best)
{
    memset(best, 0, sizeof(*best));
    for (int s = 0; s < copies; s++) {
        struct part_meta pm;
        if (read_part_meta(st->drives[order[s]], dir, n, &pm))
            continue;
        if (!best->ok || pm.mtime > best->mtime) {
            json_decref(best->attrs);
            *best = pm;
        } else
            json_decref(pm.attrs);
    }
    return best->ok ? 0 : -1;
}

int rep_mpu_put_part(void *state, struct cairn_req *req, const char *upload_id,
                     uint32_t part_number, const struct cairn_put *put,
                     struct cairn_object_info *info_r)
{
    struct rep_state *st = state;
    char dir[REP_PATH];
    int rc = upload_dir(put->bucket, upload_id, dir, sizeof(dir));
    if (rc)
        return rc;
    if (part_number < 1 || part_number > 10000)
        return CAIRN_E_INVALID_ARGUMENT;
    int order[REP_MAX];
    rep_placement(st, put->bucket, put->key, order);
    struct upload u;
    if ((rc = read_upload(st, put->bucket, put->key, upload_id, order, &u)))
        return rc;
    json_decref(u.attrs);
    struct rep_written w;
    if ((rc = rep_write_body(st, req, order, u.copies, 0, &w)))
        return rc;
    if (put->final && put->final->size != w.size) {
        rep_written_clear(st, &w);
        return CAIRN_E_INCOMPLETE_BODY;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && put->final && i < put->final->n_attrs; i++)
        json_array_append_new(a, json_pack("[ss]", put->final->attrs[i].name,
                                           put->final->attrs[i].value));
    int64_t now = st->sv->now_ms();
    const char *etag = put->final ? put->final->etag : "";
    json_t *o = json_pack("{sI sI ss sI ss so ss}", "size", (json_int_t)w.size, "block_size",
                          (json_int_t)st->block_size, "etag", etag, "mtime", (json_int_t)now,
                          "file", w.id, "attrs", a, "block_sum",
                          sc_block_sum_name(SC_SUM_DEFAULT));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        rep_written_clear(st, &w);
        return CAIRN_E_NOMEM;
    }
    pthread_rwlock_t *lk = sc_lock_for(&st->upload_locks, put->bucket, upload_id);
    pthread_rwlock_wrlock(lk);
    int ok = 0;
    char up[REP_PATH + 16];
    rep_fmt(up, sizeof(up), "%s/" UPLOAD_FILE, dir);
    for (int c = 0; c < w.copies; c++) {
        struct sc_drive *d = st->drives[w.dist[c]];
        struct stat sb;
        if (!w.ok[c] || d->ops->stat(d, up, &sb))
            continue; /* aborted or never created on this drive */
        struct part_meta old;
        read_part_meta(d, dir, part_number, &old);
        char from[128], to[REP_PATH + 64], meta[REP_PATH + 32];
        rep_tmp_name(&w, c, from, sizeof(from));
        rep_fmt(to, sizeof(to), "%s/part.%u.%s", dir, part_number, w.id);
        rep_fmt(meta, sizeof(meta), "%s/part.%u.meta", dir, part_number);
        if (d->ops->rename(d, from, to) || (st->sync && d->ops->fsync_dir(d, dir)) ||
            sc_frame_write(d, meta, s, strlen(s), st->sync)) {
            d->ops->unlink(d, to);
        } else {
            ok++;
            if (old.ok && strcmp(old.file, w.id)) {
                rep_fmt(to, sizeof(to), "%s/part.%u.%s", dir, part_number, old.file);
                d->ops->unlink(d, to);
            }
        }
        json_decref(old.attrs);
    }
    pthread_rwlock_unlock(lk);
    free(s);
    rep_written_clear(st, &w);
    if (ok == 0)
        return CAIRN_E_NO_SUCH_UPLOAD;
    if (ok < rep_quorum(w.copies))
        return CAIRN_E_WRITE_QUORUM;
    if (info_r) {
        memset(info_r, 0, sizeof(*info_r));
        info_r->size = w.size;
        info_r->mtime_ms = now;
        rep_fmt(info_r->etag, sizeof(info_r->etag), "%s", etag);
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static struct cairn_kv *attrs_to_kv(struct rep_state *st, struct cairn_req *req, json_t *a,
                                    size_t *n_r)
{
    size_t n = json_array_size(a);
    *n_r = 0;
    if (!n)
        return NULL;
    struct cairn_kv *kv = st->sv->req_alloc(req, n * sizeof(*kv));
    if (!kv)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(a, i);
        const char *k = json_string_value(json_array_get(p, 0));
        const char *v = json_string_value(json_array_get(p, 1));
        kv[*n_r].name = st->sv->req_strdup(req, k ? k : "");
        kv[*n_r].value = st->sv->req_strdup(req, v ? v : "");
        (*n_r)++;
    }
    return kv;
}

int rep_mpu_list_parts(void *state, struct cairn_req *req, const char *bucket, const char *key,
                       const char *upload_id, uint32_t after_part,
                       int (*emit)(void *ctx, const struct cairn_part_info *p), void *ctx)
{
    struct rep_state *st = state;
    char dir[REP_PATH];
    int rc = upload_dir(bucket, upload_id, dir, sizeof(dir));
    if (rc)
        return rc;
    int order[REP_MAX];
    rep_placement(st, bucket, key, order);
    struct upload u;
    if ((rc = read_upload(st, bucket, key, upload_id, order, &u)))
        return rc;
    json_decref(u.attrs);
    uint32_t *nums = NULL;
    size_t nn = 0;
    for (int s = 0; s < u.copies; s++) {
        struct sc_drive *d = st->drives[order[s]];
        char **names;
        size_t cnt;
        if (!d->online || d->ops->readdir(d, dir, &names, &cnt))
            continue;
        uint32_t *g = realloc(nums, (nn + cnt + 1) * sizeof(*g));
        if (g) {
            nums = g;
            for (size_t j = 0; j < cnt; j++) {
                unsigned n;
                char tail[8];
                if (sscanf(names[j], "part.%u.%5s", &n, tail) == 2 && !strcmp(tail, "meta") &&
                    n > after_part && n <= 10000)
                    nums[nn++] = n;
            }
        }
        sc_names_free(names, cnt);
    }
    if (nn)
        qsort(nums, nn, sizeof(*nums), cmp_u32);
    for (size_t i = 0; i < nn && !rc; i++) {
        if (i && nums[i] == nums[i - 1])
            continue;
        struct part_meta pm;
        if (best_part_meta(st, order, u.copies, dir, nums[i], &pm))
            continue;
        struct cairn_part_info p;
        memset(&p, 0, sizeof(p));
        p.number = nums[i];
        rep_fmt(p.etag, sizeof(p.etag), "%s", pm.etag);
        p.size = pm.size;
        p.mtime_ms = pm.mtime;
        p.attrs = attrs_to_kv(st, req, pm.attrs, &p.n_attrs);
        json_decref(pm.attrs);
        int r = emit(ctx, &p);
        if (r < 0)
            rc = r;
        else if (r > 0)
            break;
    }
    free(nums);
    return rc;
}

struct mpu_move {
    struct rep_state *st;
    const int *order;
    int copies;
    const char *updir, *bucket, *key, *data_id;
    const struct cairn_part_info *parts;
    const struct part_meta *pm;
    size_t n;
};

/* Renames this drive's part files into <key>/.d.<id>/part.<n>. */
static int mpu_move_data(void *vctx, int pos)
{
    struct mpu_move *mm = vctx;
    if (pos >= mm->copies)
        return 0;
    struct sc_drive *d = mm->st->drives[mm->order[pos]];
    char dir[REP_PATH];
    int rc = rep_key_rel(mm->bucket, mm->key, dir, sizeof(dir));
    if (rc)
        return rc;
    size_t dl = strlen(dir);
    rep_fmt(dir + dl, sizeof(dir) - dl, "/.d.%s", mm->data_id);
    if ((rc = d->ops->mkdir_p(d, dir)))
        return rep_errno(rc);
    for (size_t i = 0; i < mm->n; i++) {
        char from[REP_PATH + 64], to[REP_PATH + 32];
        rep_fmt(from, sizeof(from), "%s/part.%u.%s", mm->updir, mm->parts[i].number,
                mm->pm[i].file);
        rep_fmt(to, sizeof(to), "%s/part.%u", dir, mm->parts[i].number);
        if ((rc = d->ops->rename(d, from, to)))
            return rep_errno(rc);
    }
    if (mm->st->sync && (rc = d->ops->fsync_dir(d, dir)))
        return rep_errno(rc);
    return 0;
}

static void strip_quotes(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n >= 2 && in[0] == '"' && in[n - 1] == '"')
        rep_fmt(out, cap, "%.*s", (int)(n - 2), in + 1);
    else
        rep_fmt(out, cap, "%s", in);
}

int rep_mpu_complete(void *state, struct cairn_req *req, const char *bucket, const char *key,
                     const char *upload_id, const struct cairn_part_info *parts, size_t n_parts,
                     uint64_t min_part_size, enum cairn_versioning versioning, size_t n_attrs,
                     const struct cairn_kv *attrs, struct cairn_object_info *info_r)
{
    struct rep_state *st = state;
    char dir[REP_PATH], krel[REP_PATH];
    int rc = upload_dir(bucket, upload_id, dir, sizeof(dir));
    if (rc || (rc = rep_key_rel(bucket, key, krel, sizeof(krel))))
        return rc;
    if (n_parts == 0 || n_parts > 10000)
        return CAIRN_E_MALFORMED_XML;
    int order[REP_MAX];
    rep_placement(st, bucket, key, order);
    pthread_rwlock_t *lk = sc_lock_for(&st->upload_locks, bucket, upload_id);
    pthread_rwlock_wrlock(lk);
    struct upload u;
    memset(&u, 0, sizeof(u));
    struct part_meta *pm = calloc(n_parts, sizeof(*pm));
    struct sc_version nv;
    memset(&nv, 0, sizeof(nv));
    struct cairn_hash *h = NULL;
    if (!pm) {
        rc = CAIRN_E_NOMEM;
        goto out;
    }
    if ((rc = read_upload(st, bucket, key, upload_id, order, &u)))
        goto out;
    nv.parts = calloc(n_parts, sizeof(*nv.parts));
    h = st->sv->hash_new(CAIRN_HASH_MD5);
    if (!nv.parts || !h) {
        rc = CAIRN_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_parts && !rc; i++) {
        char want[80];
        uint8_t md5[16];
        strip_quotes(parts[i].etag, want, sizeof(want));
        if (best_part_meta(st, order, u.copies, dir, parts[i].number, &pm[i]) ||
            strcmp(pm[i].etag, want) || strlen(want) != 32 || sc_hex_decode(want, md5, 16) ||
            pm[i].block_size != (i ? pm[0].block_size : pm[i].block_size) ||
            pm[i].block_sum != pm[0].block_sum) {
            rc = CAIRN_E_INVALID_PART;
            break;
        }
        if (i + 1 < n_parts && pm[i].size < min_part_size) {
            rc = CAIRN_E_ENTITY_TOO_SMALL;
            break;
        }
        st->sv->hash_update(h, md5, 16);
        struct sc_part *p = &nv.parts[i];
        p->number = parts[i].number;
        p->size = pm[i].size;
        p->mtime_ms = pm[i].mtime;
        rep_fmt(p->etag, sizeof(p->etag), "%s", pm[i].etag);
        size_t na = json_array_size(pm[i].attrs);
        if (na) {
            const char **names = calloc(na, sizeof(*names)), **vals = calloc(na, sizeof(*vals));
            for (size_t j = 0; names && vals && j < na; j++) {
                json_t *kv = json_array_get(pm[i].attrs, j);
                names[j] = json_string_value(json_array_get(kv, 0));
                vals[j] = json_string_value(json_array_get(kv, 1));
                if (!names[j] || !vals[j])
                    names[j] = vals[j] = "";
            }
            if (!names || !vals || sc_attrs_set(&p->attrs, &p->n_attrs, na, names, vals))
                rc = CAIRN_E_NOMEM;
            free(names);
            free(vals);
        }
        nv.n_parts++;
        nv.size += pm[i].size;
    }
    if (rc)
        goto out;
    uint8_t digest[32];
    st->sv->hash_final(h, digest);
    h = NULL;
    char hex[33];
    sc_hex_encode(digest, 16, hex);
    rep_fmt(nv.etag, sizeof(nv.etag), "%s-%zu", hex, n_parts);
    nv.parts_count = (uint32_t)n_parts;
    rep_fmt(nv.codec, sizeof(nv.codec), REP_CODEC);
    nv.k = 1;
    nv.m = u.copies - 1;
    nv.block_size = pm[0].block_size ? pm[0].block_size : st->block_size;
    nv.block_sum = pm[0].block_sum;
    for (int s = 0; s < u.copies; s++)
        nv.dist[s] = (uint8_t)s;
    char data_id[33];
    sc_new_id(data_id);
    rep_fmt(nv.data_dir, sizeof(nv.data_dir), "%s", data_id);
    {
        size_t na = json_array_size(u.attrs);
        struct cairn_kv *ca = calloc(na + 1, sizeof(*ca));
        if (!ca) {
            rc = CAIRN_E_NOMEM;
            goto out;
        }
        for (size_t j = 0; j < na; j++) {
            json_t *kv = json_array_get(u.attrs, j);
            const char *n = json_string_value(json_array_get(kv, 0));
            const char *v = json_string_value(json_array_get(kv, 1));
            ca[j].name = n ? n : "";
            ca[j].value = v ? v : "";
        }
        rc = rep_merge_attrs(&nv, na, ca, n_attrs, attrs);
        free(ca);
        if (rc)
            goto out;
    }
    struct mpu_move mm = {st, order, u.copies, dir, bucket, key, data_id, parts, pm, n_parts};
    rc = rep_commit_version(st, bucket, key, versioning, &nv, NULL, mpu_move_data, &mm);
    if (!rc) {
        for (int pos = 0; pos < st->meta_n; pos++)
            if (st->drives[order[pos]]->online)
                st->drives[order[pos]]->ops->remove_tree(st->drives[order[pos]], dir);
        if (info_r) {
            struct sc_part *keep = nv.parts;
            size_t kn = nv.n_parts;
            nv.parts = NULL;
            nv.n_parts = 0;
            rc = rep_fill_info(st, req, &nv, 1, versioning, info_r);
            nv.parts = keep;
            nv.n_parts = kn;
        }
    }
out:
    if (h) {
        uint8_t d[32];
        st->sv->hash_final(h, d);
    }
    if (pm)
        for (size_t i = 0; i < n_parts; i++)
            json_decref(pm[i].attrs);
    free(pm);
    json_decref(u.attrs);
    sc_version_clear(&nv);
    pthread_rwlock_unlock(lk);
    return rc;
}

int rep_mpu_abort(void *state, struct cairn_req *req, const char *bucket, const char *key,
                  const char *upload_id)
{
    (void)req;
    struct rep_state *st = state;
    char dir[REP_PATH];
    int rc = upload_dir(bucket, upload_id, dir, sizeof(dir));
    if (rc)
        return rc;
    int order[REP_MAX];
    rep_placement(st, bucket, key, order);
    pthread_rwlock_t *lk = sc_lock_for(&st->upload_locks, bucket, upload_id);
    pthread_rwlock_wrlock(lk);
    struct upload u;
    rc = read_upload(st, bucket, key, upload_id, order, &u);
    if (!rc) {
        json_decref(u.attrs);
        for (int pos = 0; pos < st->meta_n; pos++)
            if (st->drives[order[pos]]->online)
                st->drives[order[pos]]->ops->remove_tree(st->drives[order[pos]], dir);
    }
    pthread_rwlock_unlock(lk);
    return rc;
}

struct uent {
    char *key, *id;
    int64_t initiated;
    json_t *attrs;
};

static int cmp_uent(const void *a, const void *b)
{
    const struct uent *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    if (x->initiated != y->initiated)
        return x->initiated < y->initiated ? -1 : 1;
    return strcmp(x->id, y->id);
}

int rep_mpu_list(void *state, struct cairn_req *req, const char *bucket, const char *prefix,
                 const char *key_marker, const char *upload_id_marker,
                 int (*emit)(void *ctx, const struct cairn_upload_info *u), void *ctx)
{
    struct rep_state *st = state;
    char b[REP_PATH], base[REP_PATH + 32];
    if (rep_bucket_rel(bucket, b, sizeof(b)) || !rep_bucket_exists(st, bucket))
        return CAIRN_E_NO_SUCH_BUCKET;
    rep_fmt(base, sizeof(base), SC_SYS_DIR "/mpu/%s", b);
    prefix = prefix ? prefix : "";
    key_marker = key_marker ? key_marker : "";
    upload_id_marker = upload_id_marker ? upload_id_marker : "";
    char **ids = NULL;
    size_t n_ids = 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        char **names;
        size_t nn;
        if (!d->online || d->ops->readdir(d, base, &names, &nn))
            continue;
        char **g = realloc(ids, (n_ids + nn + 1) * sizeof(*g));
        if (!g) {
            sc_names_free(names, nn);
            continue;
        }
        ids = g;
        for (size_t j = 0; j < nn; j++) {
            int dup = !valid_id(names[j]);
            for (size_t k = 0; k < n_ids && !dup; k++)
                dup = !strcmp(ids[k], names[j]);
            if (dup)
                free(names[j]);
            else
                ids[n_ids++] = names[j];
        }
        free(names);
    }
    struct uent *ue = calloc(n_ids + 1, sizeof(*ue));
    size_t nu = 0;
    int rc = ue ? 0 : CAIRN_E_NOMEM;
    for (size_t k = 0; k < n_ids && !rc; k++) {
        char rel[REP_PATH + 64];
        rep_fmt(rel, sizeof(rel), "%s/%s/" UPLOAD_FILE, base, ids[k]);
        for (size_t i = 0; i < st->n_drives; i++) {
            struct sc_drive *d = st->drives[i];
            char *data;
            size_t len;
            struct upload u;
            if (!d->online || sc_frame_read(d, rel, PART_META_MAX, &data, &len))
                continue;
            int bad = parse_upload(data, len, &u);
            free(data);
            if (bad) {
                json_decref(u.attrs);
                continue;
            }
            if (strncmp(u.key, prefix, strlen(prefix))) {
                json_decref(u.attrs);
                break;
            }
            ue[nu].key = strdup(u.key);
            ue[nu].id = ids[k];
            ue[nu].initiated = u.initiated;
            ue[nu].attrs = u.attrs;
            if (ue[nu].key)
                nu++;
            else
                json_decref(u.attrs);
            break;
        }
    }
    if (nu)
        qsort(ue, nu, sizeof(*ue), cmp_uent);
    /* the marker upload's position, for resuming inside one key */
    const struct uent *mark = NULL;
    for (size_t i = 0; i < nu && upload_id_marker[0]; i++)
        if (!strcmp(ue[i].key, key_marker) && !strcmp(ue[i].id, upload_id_marker))
            mark = &ue[i];
    for (size_t i = 0; i < nu && !rc; i++) {
        int c = strcmp(ue[i].key, key_marker);
        if (key_marker[0] || upload_id_marker[0]) {
            if (c < 0)
                continue;
            if (c == 0) {
                if (!upload_id_marker[0])
                    continue;
                if (mark ? cmp_uent(&ue[i], mark) <= 0 : strcmp(ue[i].id, upload_id_marker) <= 0)
                    continue;
            }
        }
        struct cairn_upload_info info;
        memset(&info, 0, sizeof(info));
        info.key = st->sv->req_strdup(req, ue[i].key);
        info.upload_id = st->sv->req_strdup(req, ue[i].id);
        info.initiated_ms = ue[i].initiated;
        info.attrs = attrs_to_kv(st, req, ue[i].attrs, &info.n_attrs);
        int r = emit(ctx, &info);
        if (r < 0)
            rc = r;
        else if (r > 0)
            break;
    }
    for (size_t i = 0; i < nu; i++) {
        free(ue[i].key);
        json_decref(ue[i].attrs);
    }
    free(ue);
    sc_names_free(ids, n_ids);
    return rc;
}
